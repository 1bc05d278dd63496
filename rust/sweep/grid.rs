//! The grid runner: every (series, combination) pair, backtested on a rayon
//! pool. Each worker keeps its own buffers (signals, equity, indicators), so
//! nothing is allocated per pair after a worker's first.

use rayon::prelude::*;

use super::signals::{Scratch, Strategy};
use crate::backtest::{self, Bars, Config, CountingSink, Summary};
use crate::error::{Error, Result};

/// One row of a grid: which series and which combination, and the statistics
/// `backtest_strategy` reports for them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridRow {
    pub series: usize,
    pub combination: usize,
    pub summary: Summary,
}

/// Checks every combination (rows of `n_params` values) against `n_bars`;
/// the error names the parameter and the combination.
pub fn check_combinations(strategy: Strategy, params: &[f64], n_params: usize, n_bars: usize) -> Result<()> {
    let expected = strategy.param_names().len();
    if n_params != expected {
        return Err(Error::invalid("n_params", format!("the strategy takes {expected} parameters, got {n_params}")));
    }
    if params.is_empty() || params.len() % n_params != 0 {
        return Err(Error::invalid(
            "params",
            format!("expected combinations of {n_params} values, got {} values", params.len()),
        ));
    }
    for (k, combination) in params.chunks_exact(n_params).enumerate() {
        strategy
            .check_params(combination, n_bars)
            .map_err(|e| Error::new(e.kind, format!("{} (combination {k})", e.message)))?;
    }
    Ok(())
}

#[derive(Default)]
struct Worker {
    scratch: Scratch,
    signals: Vec<i32>,
    equity: Vec<f64>,
}

/// The bars of series `s` of a series-major matrix of bars.
fn series_bars<'a>(bars: &Bars<'a>, s: usize, n_bars: usize) -> Bars<'a> {
    let row = |m: &'a [f64]| &m[s * n_bars..(s + 1) * n_bars];
    Bars { close: row(bars.close), open: bars.open.map(row), high: bars.high.map(row), low: bars.low.map(row) }
}

/// Runs `strategy` for every combination (row `k` of `params`, `n_params`
/// values each) on every series (row `s` of `bars`, `n_bars` each: the
/// closes, and the opens, highs and lows when the configuration needs
/// them, each a series-major matrix of the closes' shape) and writes row
/// `s * n_combinations + k` of `out`. `threads == 0` uses all cores. Every
/// argument is checked before any work, so an error leaves `out` untouched.
pub fn grid(
    bars: &Bars,
    n_series: usize,
    strategy: Strategy,
    params: &[f64],
    config: &Config,
    threads: usize,
    out: &mut [GridRow],
) -> Result<()> {
    let prices = bars.close;
    for (series, name) in [(bars.open, "open"), (bars.high, "high"), (bars.low, "low")] {
        if let Some(values) = series {
            if values.len() != prices.len() {
                return Err(Error::invalid(name, format!("{} values differ from the {} prices", values.len(), prices.len())));
            }
        }
    }
    if n_series == 0 || prices.is_empty() {
        return Err(Error::invalid("prices", "must not be empty"));
    }
    if prices.len() % n_series != 0 {
        return Err(Error::invalid(
            "prices",
            format!("{} values do not split into {n_series} series of equal length", prices.len()),
        ));
    }
    let n_bars = prices.len() / n_series;
    let n_params = strategy.param_names().len();
    check_combinations(strategy, params, n_params, n_bars)?;
    let n_combinations = params.len() / n_params;
    if out.len() != n_series * n_combinations {
        return Err(Error::invalid(
            "out",
            format!("must hold {} rows, got {}", n_series * n_combinations, out.len()),
        ));
    }
    config.validate()?;
    let no_signals = vec![0; n_bars];
    for s in 0..n_series {
        backtest::validate_bars(&series_bars(bars, s, n_bars), &no_signals, n_bars, config)
            .map_err(|e| Error::new(e.kind, format!("{} (series {s})", e.message)))?;
    }

    let run_all = |out: &mut [GridRow]| -> Result<()> {
        out.par_iter_mut().enumerate().try_for_each_init(Worker::default, |worker, (row, slot)| {
            let (s, k) = (row / n_combinations, row % n_combinations);
            let series = series_bars(bars, s, n_bars);
            let combination = &params[k * n_params..(k + 1) * n_params];
            worker.signals.resize(n_bars, 0);
            worker.equity.resize(n_bars, 0.0);
            strategy.signals(series.close, combination, &mut worker.scratch, &mut worker.signals)?;
            let summary = backtest::run_bars(&series, &worker.signals, config, &mut worker.equity, &mut CountingSink::default())?;
            *slot = GridRow { series: s, combination: k, summary };
            Ok(())
        })
    };
    if threads == 0 {
        run_all(out)
    } else {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::new(crate::error::ErrorKind::Internal, format!("threads: cannot start a pool: {e}")))?
            .install(|| run_all(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        let mut p = 100.0;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                p += ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0;
                p
            })
            .collect()
    }

    #[test]
    fn grid_rows_equal_one_by_one_backtests() {
        let n_bars = 500;
        let mut prices = walk(n_bars, 1);
        prices.extend(walk(n_bars, 2));
        let params = [5.0, 20.0, 10.0, 30.0, 20.0, 5.0];
        let config = Config { commission: 1.0, slippage_bps: 5.0, ..Config::default() };
        let blank = GridRow { series: 9, combination: 9, summary: backtest::run(&[1.0], &[0], &config, &mut [0.0], &mut CountingSink::default()).unwrap() };
        for threads in [1, 2, 0] {
            let mut out = vec![blank; 6];
            grid(&Bars::close_only(&prices), 2, Strategy::SmaCross, &params, &config, threads, &mut out).unwrap();
            for (row, got) in out.iter().enumerate() {
                let (s, k) = (row / 3, row % 3);
                let series = &prices[s * n_bars..(s + 1) * n_bars];
                let mut signals = vec![0; n_bars];
                super::super::sma_cross(series, params[2 * k] as usize, params[2 * k + 1] as usize, &mut signals).unwrap();
                let mut equity = vec![0.0; n_bars];
                let want = backtest::run(series, &signals, &config, &mut equity, &mut CountingSink::default()).unwrap();
                assert_eq!((got.series, got.combination), (s, k));
                assert_eq!(got.summary, want);
            }
        }
    }

    #[test]
    fn grid_rows_with_next_open_fills_and_stops_equal_one_by_one_backtests() {
        let n_bars = 300;
        let close = walk(n_bars, 5);
        let open: Vec<f64> = (0..n_bars).map(|i| if i == 0 { close[0] } else { close[i - 1] }).collect();
        let high: Vec<f64> = (0..n_bars).map(|i| open[i].max(close[i]) + 0.5).collect();
        let low: Vec<f64> = (0..n_bars).map(|i| open[i].min(close[i]) - 0.5).collect();
        let bars = Bars { close: &close, open: Some(&open), high: Some(&high), low: Some(&low) };
        let config = Config {
            fill_at: backtest::FillAt::NextOpen,
            stop_loss: Some(0.02),
            take_profit: Some(0.04),
            trailing_stop: Some(0.03),
            commission_rate: 0.001,
            allow_short: true,
            ..Config::default()
        };
        let params = [5.0, 20.0, 10.0, 30.0];
        let blank = GridRow { series: 9, combination: 9, summary: backtest::run(&[1.0], &[0], &Config::default(), &mut [0.0], &mut CountingSink::default()).unwrap() };
        let mut out = vec![blank; 2];
        grid(&bars, 1, Strategy::SmaCross, &params, &config, 1, &mut out).unwrap();
        for (k, got) in out.iter().enumerate() {
            let mut signals = vec![0; n_bars];
            super::super::sma_cross(&close, params[2 * k] as usize, params[2 * k + 1] as usize, &mut signals).unwrap();
            let mut equity = vec![0.0; n_bars];
            let want = backtest::run_bars(&bars, &signals, &config, &mut equity, &mut CountingSink::default()).unwrap();
            assert_eq!(got.summary, want);
            assert!(want.num_trades > 0);
        }
        let err = grid(&Bars::close_only(&close), 1, Strategy::SmaCross, &params, &config, 1, &mut out).unwrap_err();
        assert!(err.message.starts_with("open:"), "{}", err.message);
    }

    #[test]
    fn a_bad_combination_is_named_and_nothing_is_written() {
        let prices = walk(100, 3);
        let config = Config::default();
        let blank = GridRow { series: 7, combination: 7, summary: backtest::run(&[1.0], &[0], &config, &mut [0.0], &mut CountingSink::default()).unwrap() };
        let mut out = vec![blank; 2];
        let err = grid(&Bars::close_only(&prices), 1, Strategy::SmaCross, &[5.0, 20.0, 5.0, 200.0], &config, 0, &mut out).unwrap_err();
        assert!(err.message.starts_with("slow:") && err.message.ends_with("(combination 1)"), "{}", err.message);
        assert!(out.iter().all(|r| r.series == 7));
        let err = grid(&Bars::close_only(&prices), 3, Strategy::SmaCross, &[5.0, 20.0], &config, 0, &mut out).unwrap_err();
        assert!(err.message.starts_with("prices:"), "{}", err.message);
    }
}
