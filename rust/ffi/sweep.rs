//! extern "C" layer for `crate::sweep`: signal generators and the grid.

use crate::backtest::{Bars, Config};
use crate::error::{Error, Result};
use crate::ffi::backtest::PyrtBacktestConfig;
use crate::ffi::boundary::*;
use crate::sweep::{self, GridRow, Strategy};

/// A built-in strategy of `pyrt_sweep_grid` (an integer, one of the constants below).
pub type PyrtStrategy = i32;
/// Fast/slow SMA crossing; parameters (fast, slow).
pub const PYRT_STRATEGY_SMA_CROSS: PyrtStrategy = 0;
/// Fast/slow EMA crossing; parameters (fast, slow).
pub const PYRT_STRATEGY_EMA_CROSS: PyrtStrategy = 1;
/// RSI below/above thresholds; parameters (window, lower, upper).
pub const PYRT_STRATEGY_RSI_THRESHOLD: PyrtStrategy = 2;
/// Price outside the Bollinger bands; parameters (window, num_std).
pub const PYRT_STRATEGY_BOLLINGER_REVERSION: PyrtStrategy = 3;
/// The SMA crossing the price (the specification's demo rule); parameters (window).
pub const PYRT_STRATEGY_PRICE_SMA_CROSS: PyrtStrategy = 4;

fn strategy_from(value: PyrtStrategy) -> Result<Strategy> {
    match value {
        PYRT_STRATEGY_SMA_CROSS => Ok(Strategy::SmaCross),
        PYRT_STRATEGY_EMA_CROSS => Ok(Strategy::EmaCross),
        PYRT_STRATEGY_RSI_THRESHOLD => Ok(Strategy::RsiThreshold),
        PYRT_STRATEGY_BOLLINGER_REVERSION => Ok(Strategy::BollingerReversion),
        PYRT_STRATEGY_PRICE_SMA_CROSS => Ok(Strategy::PriceSmaCross),
        other => Err(Error::invalid("strategy", format!("unknown strategy {other}"))),
    }
}

/// One row of `pyrt_sweep_grid` (64 bytes, C layout): the series and the
/// combination it belongs to, and the statistics of that backtest.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct PyrtSweepRow {
    pub series: u64,
    pub combination: u64,
    pub total_return: f64,
    pub sharpe_ratio: f64,
    pub max_drawdown: f64,
    pub win_rate: f64,
    pub final_equity: f64,
    pub num_trades: u64,
}

impl From<&GridRow> for PyrtSweepRow {
    fn from(r: &GridRow) -> Self {
        PyrtSweepRow {
            series: r.series as u64,
            combination: r.combination as u64,
            total_return: r.summary.total_return,
            sharpe_ratio: r.summary.sharpe_ratio,
            max_drawdown: r.summary.max_drawdown,
            win_rate: r.summary.win_rate,
            final_equity: r.summary.final_equity,
            num_trades: r.summary.num_trades as u64,
        }
    }
}

/// Runs a strategy's signal generator: `params` holds its `n_params`
/// parameters in the documented order; `out` (caller-allocated, `len`
/// values) receives the target signals (1, -1 or 0).
#[no_mangle]
pub unsafe extern "C" fn pyrt_strategy_signals(
    strategy: PyrtStrategy,
    prices: *const f64,
    len: usize,
    params: *const f64,
    n_params: usize,
    out: *mut i32,
) -> PyrtStatus {
    ffi_boundary! {
        let strategy = strategy_from(strategy)?;
        let prices = input_slice(prices, len, "prices")?;
        if prices.is_empty() {
            return Err(Error::invalid("prices", "must not be empty"));
        }
        let params = input_slice(params, n_params, "params")?;
        ensure_disjoint(out, len, "out", prices.as_ptr(), len, "prices")?;
        ensure_disjoint(out, len, "out", params.as_ptr(), n_params, "params")?;
        let out = output_slice(out, len, "out")?;
        strategy.signals(prices, params, &mut sweep::Scratch::default(), out)
    }
}

/// Checks `n_combinations` rows of `n_params` parameter values for `strategy`
/// against series of `n_bars` bars, without running anything: the error
/// names the parameter and the combination.
#[no_mangle]
pub unsafe extern "C" fn pyrt_sweep_check_params(
    strategy: PyrtStrategy,
    params: *const f64,
    n_params: usize,
    n_combinations: usize,
    n_bars: usize,
) -> PyrtStatus {
    ffi_boundary! {
        let strategy = strategy_from(strategy)?;
        let n_values = n_params
            .checked_mul(n_combinations)
            .ok_or_else(|| Error::invalid("n_combinations", "too many combinations"))?;
        let params = input_slice(params, n_values, "params")?;
        sweep::check_combinations(strategy, params, n_params, n_bars)
    }
}

/// The most threads `pyrt_sweep_grid` starts (a larger request is refused
/// rather than left to exhaust the machine).
pub const PYRT_SWEEP_MAX_THREADS: usize = 1024;

/// Backtests `strategy` for every parameter combination on every series,
/// on `threads` threads (0: all cores; at most PYRT_SWEEP_MAX_THREADS).
/// `out` must not overlap `prices`, `open`, `high`, `low`, `params` or `config`.
///
/// `prices` holds `n_series` series of `n_bars` closes each, series after
/// series (a C-contiguous series x time matrix); `open`, `high` and `low`
/// are matrices of the same shape, or NULL unless the configuration needs
/// them (as in `pyrt_backtest_run`). `params` holds `n_combinations`
/// rows of `n_params` values (the strategy's parameters in order). `out`
/// (caller-allocated, `n_series * n_combinations` rows) receives row
/// `s * n_combinations + k` for series `s` and combination `k`, each equal to
/// what `pyrt_backtest_run` reports for that series and those signals.
/// Every argument is checked first; on failure nothing is written.
#[no_mangle]
pub unsafe extern "C" fn pyrt_sweep_grid(
    prices: *const f64,
    open: *const f64,
    high: *const f64,
    low: *const f64,
    n_series: usize,
    n_bars: usize,
    strategy: PyrtStrategy,
    params: *const f64,
    n_params: usize,
    n_combinations: usize,
    config: *const PyrtBacktestConfig,
    threads: usize,
    out: *mut PyrtSweepRow,
) -> PyrtStatus {
    ffi_boundary! {
        let strategy = strategy_from(strategy)?;
        let config_ptr = config;
        let config = Config::try_from(handle_ref(config, "config")?)?;
        let n_values = n_series
            .checked_mul(n_bars)
            .ok_or_else(|| Error::invalid("n_bars", "n_series * n_bars overflows"))?;
        let prices = input_slice(prices, n_values, "prices")?;
        let optional = |ptr: *const f64, name: &str| -> Result<Option<&[f64]>> {
            if ptr.is_null() { Ok(None) } else { input_slice(ptr, n_values, name).map(Some) }
        };
        let bars = Bars { close: prices, open: optional(open, "open")?, high: optional(high, "high")?, low: optional(low, "low")? };
        if n_params != strategy.param_names().len() {
            return Err(Error::invalid(
                "n_params",
                format!("the strategy takes {} parameters, got {n_params}", strategy.param_names().len()),
            ));
        }
        let n_param_values = n_params
            .checked_mul(n_combinations)
            .ok_or_else(|| Error::invalid("n_combinations", "too many combinations"))?;
        let params = input_slice(params, n_param_values, "params")?;
        let n_rows = n_series
            .checked_mul(n_combinations)
            .ok_or_else(|| Error::invalid("n_combinations", "too many rows"))?;
        if threads > PYRT_SWEEP_MAX_THREADS {
            return Err(Error::invalid(
                "threads",
                format!("at most {PYRT_SWEEP_MAX_THREADS} (0 = one per core), got {threads}"),
            ));
        }
        ensure_disjoint(out, n_rows, "out", prices.as_ptr(), n_values, "prices")?;
        for (series, name) in [(bars.open, "open"), (bars.high, "high"), (bars.low, "low")] {
            if let Some(series) = series {
                ensure_disjoint(out, n_rows, "out", series.as_ptr(), n_values, name)?;
            }
        }
        ensure_disjoint(out, n_rows, "out", params.as_ptr(), n_param_values, "params")?;
        ensure_disjoint(out, n_rows, "out", config_ptr, 1, "config")?;
        let out = output_slice(out, n_rows, "out")?;
        let mut rows = vec![GridRow { series: 0, combination: 0, summary: EMPTY_SUMMARY }; n_rows];
        sweep::grid(&bars, n_series, strategy, params, &config, threads, &mut rows)?;
        for (slot, row) in out.iter_mut().zip(&rows) {
            *slot = PyrtSweepRow::from(row);
        }
        Ok(())
    }
}

const EMPTY_SUMMARY: crate::backtest::Summary = crate::backtest::Summary {
    total_return: 0.0,
    sharpe_ratio: 0.0,
    max_drawdown: 0.0,
    win_rate: 0.0,
    num_trades: 0,
    final_equity: 0.0,
};

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last_error() -> String {
        unsafe { CStr::from_ptr(pyrt_last_error_message()) }.to_string_lossy().into_owned()
    }

    #[test]
    fn bad_arguments_return_a_status_and_name_themselves() {
        let prices = [100.0, 101.0, 102.0, 101.0];
        let mut out = [7i32; 4];
        unsafe {
            let fast_slow = [1.0, 2.0];
            let sma_cross = |p: *const f64, o: *mut i32| pyrt_strategy_signals(PYRT_STRATEGY_SMA_CROSS, p, 4, fast_slow.as_ptr(), 2, o);
            assert_eq!(sma_cross(prices.as_ptr(), out.as_mut_ptr()), PYRT_OK);
            assert_eq!(sma_cross(std::ptr::null(), out.as_mut_ptr()), PYRT_NULL_POINTER);
            assert!(last_error().starts_with("prices:"));
            assert_eq!(sma_cross(prices.as_ptr(), std::ptr::null_mut()), PYRT_NULL_POINTER);
            assert!(last_error().starts_with("out:"));
            assert_eq!(pyrt_strategy_signals(99, prices.as_ptr(), 4, std::ptr::null(), 0, out.as_mut_ptr()), PYRT_INVALID_ARGUMENT);
            assert!(last_error().starts_with("strategy:"));

            let mut config = std::mem::zeroed::<PyrtBacktestConfig>();
            assert_eq!(crate::ffi::backtest::pyrt_backtest_config_default(&mut config), PYRT_OK);
            let params = [1.0, 2.0];
            let mut rows = [PyrtSweepRow::default(); 1];
            assert_eq!(
                pyrt_sweep_grid(prices.as_ptr(), std::ptr::null(), std::ptr::null(), std::ptr::null(), 1, 4, PYRT_STRATEGY_SMA_CROSS, params.as_ptr(), 2, 1, &config, 1, rows.as_mut_ptr()),
                PYRT_OK
            );
            assert_eq!(
                pyrt_sweep_grid(prices.as_ptr(), std::ptr::null(), std::ptr::null(), std::ptr::null(), 1, 4, PYRT_STRATEGY_SMA_CROSS, params.as_ptr(), 3, 1, &config, 1, rows.as_mut_ptr()),
                PYRT_INVALID_ARGUMENT
            );
            assert!(last_error().starts_with("n_params:"));
            assert_eq!(
                pyrt_sweep_grid(prices.as_ptr(), std::ptr::null(), std::ptr::null(), std::ptr::null(), 1, 4, PYRT_STRATEGY_SMA_CROSS, params.as_ptr(), 2, 1, std::ptr::null(), 1, rows.as_mut_ptr()),
                PYRT_NULL_POINTER
            );
            assert!(last_error().starts_with("config:"));
        }
    }

    #[test]
    fn outputs_overlapping_inputs_and_absurd_thread_counts_are_refused() {
        let mut buffer = [100.0f64, 101.0, 102.0, 101.0, 100.0, 99.0, 98.0, 97.0];
        let params = [2.0];
        unsafe {
            // The signals (int32) written over the prices they are computed from.
            let prices = buffer.as_ptr();
            let out = buffer.as_mut_ptr() as *mut i32;
            assert_eq!(pyrt_strategy_signals(PYRT_STRATEGY_PRICE_SMA_CROSS, prices, 8, params.as_ptr(), 1, out), PYRT_INVALID_ARGUMENT);
            assert_eq!(last_error(), "out: must not overlap prices");
            assert_eq!(pyrt_strategy_signals(PYRT_STRATEGY_PRICE_SMA_CROSS, prices, 8, params.as_ptr(), 1, out.add(4)), PYRT_INVALID_ARGUMENT);

            let mut config = std::mem::zeroed::<PyrtBacktestConfig>();
            assert_eq!(crate::ffi::backtest::pyrt_backtest_config_default(&mut config), PYRT_OK);
            let grid = [1.0, 2.0];
            let mut rows = [PyrtSweepRow::default(); 1];
            let shared = buffer.as_mut_ptr() as *mut PyrtSweepRow;
            assert_eq!(
                pyrt_sweep_grid(buffer.as_ptr(), std::ptr::null(), std::ptr::null(), std::ptr::null(), 1, 8, PYRT_STRATEGY_SMA_CROSS, grid.as_ptr(), 2, 1, &config, 1, shared),
                PYRT_INVALID_ARGUMENT
            );
            assert_eq!(last_error(), "out: must not overlap prices");
            assert_eq!(
                pyrt_sweep_grid(buffer.as_ptr(), std::ptr::null(), std::ptr::null(), std::ptr::null(), 1, 8, PYRT_STRATEGY_SMA_CROSS, grid.as_ptr(), 2, 1, &config, 1 << 62, rows.as_mut_ptr()),
                PYRT_INVALID_ARGUMENT
            );
            assert!(last_error().starts_with("threads: at most 1024"), "{}", last_error());
            assert_eq!(
                pyrt_sweep_grid(buffer.as_ptr(), std::ptr::null(), std::ptr::null(), std::ptr::null(), 1, 8, PYRT_STRATEGY_SMA_CROSS, grid.as_ptr(), 2, 1, &config, 2, rows.as_mut_ptr()),
                PYRT_OK
            );
        }
    }
}
