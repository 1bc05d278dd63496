//! extern "C" layer for `crate::backtest`: the backtest run (a result handle
//! holding the statistics and the trade log), fill simulation, slippage
//! models and position accounting.

use std::ffi::{c_char, CString};

use super::boundary::*;
use super::messaging::PyrtPositionSnapshot;
use crate::backtest::{self, Bars, Config, Fill, FillAt, Order, OrderType, Position, Side, Summary, Trade};
use crate::error::{Error, Result};

/// Order side, the values of `OrderRequest.Side` in proto/messages.proto.
pub type PyrtOrderSide = i32;
pub const PYRT_ORDER_SIDE_BUY: PyrtOrderSide = 0;
pub const PYRT_ORDER_SIDE_SELL: PyrtOrderSide = 1;

/// Order type, the values of `OrderRequest.OrderType` in proto/messages.proto.
pub type PyrtOrderType = i32;
pub const PYRT_ORDER_TYPE_MARKET: PyrtOrderType = 0;
pub const PYRT_ORDER_TYPE_LIMIT: PyrtOrderType = 1;
pub const PYRT_ORDER_TYPE_STOP: PyrtOrderType = 2;
pub const PYRT_ORDER_TYPE_STOP_LIMIT: PyrtOrderType = 3;

/// Slippage model of `pyrt_calculate_slippage`.
pub type PyrtSlippageModelKind = i32;
/// `price * (1 ± slippage_bps / 1e4)`.
pub const PYRT_SLIPPAGE_BPS: PyrtSlippageModelKind = 0;
/// `price * (1 ± coefficient * volatility * sqrt(quantity / daily_volume))`.
pub const PYRT_SLIPPAGE_SQUARE_ROOT: PyrtSlippageModelKind = 1;

impl TryFrom<PyrtOrderSide> for Side {
    type Error = Error;
    fn try_from(value: PyrtOrderSide) -> Result<Side> {
        match value {
            PYRT_ORDER_SIDE_BUY => Ok(Side::Buy),
            PYRT_ORDER_SIDE_SELL => Ok(Side::Sell),
            other => Err(Error::invalid("side", format!("must be 0 (BUY) or 1 (SELL), got {other}"))),
        }
    }
}

fn order_type_from(value: PyrtOrderType) -> Option<OrderType> {
    match value {
        PYRT_ORDER_TYPE_MARKET => Some(OrderType::Market),
        PYRT_ORDER_TYPE_LIMIT => Some(OrderType::Limit),
        PYRT_ORDER_TYPE_STOP => Some(OrderType::Stop),
        PYRT_ORDER_TYPE_STOP_LIMIT => Some(OrderType::StopLimit),
        _ => None,
    }
}

/// When a backtest's signals fill (`PyrtBacktestConfig.fill_at`).
pub type PyrtFillAt = i32;
/// At the close of the signal's bar.
pub const PYRT_FILL_AT_CLOSE: PyrtFillAt = 0;
/// At the open of the next bar (the run needs the opens).
pub const PYRT_FILL_AT_NEXT_OPEN: PyrtFillAt = 1;

/// Settings of a backtest; `pyrt_backtest_config_default` fills in the
/// defaults (100000, 0, 0, 1, 252, 0, no stops, PYRT_FILL_AT_CLOSE, false).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PyrtBacktestConfig {
    /// Starting cash, > 0.
    pub initial_capital: f64,
    /// Fixed cost per fill, >= 0.
    pub commission: f64,
    /// Fills at `price * (1 ± slippage_bps / 1e4)`; in [0, 10000).
    pub slippage_bps: f64,
    /// Share of the cash an opening trade commits, in (0, 1].
    pub position_size: f64,
    /// Annualisation of the Sharpe ratio, > 0.
    pub periods_per_year: f64,
    /// A fraction of each fill's notional paid on top of `commission`, in [0, 1).
    pub commission_rate: f64,
    /// Stop-loss distance from the entry fill, a fraction > 0; 0 = none.
    pub stop_loss: f64,
    /// Take-profit distance from the entry fill, a fraction > 0; 0 = none.
    pub take_profit: f64,
    /// Trailing-stop distance from the best price since the entry, a fraction > 0; 0 = none.
    pub trailing_stop: f64,
    /// PYRT_FILL_AT_CLOSE or PYRT_FILL_AT_NEXT_OPEN.
    pub fill_at: PyrtFillAt,
    /// A -1 signal opens a short when true; otherwise it only closes a long.
    pub allow_short: bool,
}

/// 0 is "no stop"; anything else is kept, so a negative or NaN fraction is
/// refused by `Config::validate` with the field's name.
fn optional_fraction(x: f64) -> Option<f64> {
    if x == 0.0 {
        None
    } else {
        Some(x)
    }
}

impl TryFrom<&PyrtBacktestConfig> for Config {
    type Error = Error;
    fn try_from(c: &PyrtBacktestConfig) -> Result<Config> {
        let fill_at = match c.fill_at {
            PYRT_FILL_AT_CLOSE => FillAt::Close,
            PYRT_FILL_AT_NEXT_OPEN => FillAt::NextOpen,
            other => return Err(Error::invalid("fill_at", format!("must be 0 (close) or 1 (next_open), got {other}"))),
        };
        Ok(Config {
            initial_capital: c.initial_capital,
            commission: c.commission,
            slippage_bps: c.slippage_bps,
            position_size: c.position_size,
            allow_short: c.allow_short,
            periods_per_year: c.periods_per_year,
            commission_rate: c.commission_rate,
            fill_at,
            stop_loss: optional_fraction(c.stop_loss),
            take_profit: optional_fraction(c.take_profit),
            trailing_stop: optional_fraction(c.trailing_stop),
        })
    }
}

/// The statistics of a backtest run.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PyrtBacktestSummary {
    /// final_equity / initial_capital - 1.
    pub total_return: f64,
    /// Of the equity curve's simple returns, ddof=1, times sqrt(periods_per_year); 0 when their std is 0.
    pub sharpe_ratio: f64,
    /// Largest fall from the running peak of the equity curve, a positive fraction.
    pub max_drawdown: f64,
    /// Share of round trips with pnl > 0 (0 when there are none).
    pub win_rate: f64,
    /// Equity after the last bar, the forced close included.
    pub final_equity: f64,
    /// Number of round trips.
    pub num_trades: u64,
}

/// One round trip of a backtest (64 bytes, C layout).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct PyrtTrade {
    pub entry_index: u64,
    pub exit_index: u64,
    /// +1 long, -1 short.
    pub side: i32,
    /// Explicit padding so the layout is the same everywhere; always 0.
    pub padding: u32,
    pub quantity: f64,
    /// Fill prices, slippage included.
    pub entry_price: f64,
    pub exit_price: f64,
    /// Net of both commissions.
    pub pnl: f64,
    /// pnl / (quantity * entry_price) (the NumPy field is named "return").
    pub trade_return: f64,
}

impl From<&Trade> for PyrtTrade {
    fn from(t: &Trade) -> PyrtTrade {
        PyrtTrade {
            entry_index: t.entry_index as u64,
            exit_index: t.exit_index as u64,
            side: t.side,
            padding: 0,
            quantity: t.quantity,
            entry_price: t.entry_price,
            exit_price: t.exit_price,
            pnl: t.pnl,
            trade_return: t.ret,
        }
    }
}

/// The outcome of `pyrt_backtest_run`: statistics and the trade log.
/// Safe to share between threads (immutable; reads are serialized with
/// `pyrt_backtest_result_close`, after which they return PYRT_CLOSED).
pub struct PyrtBacktestResult(super::handle::Handle<BacktestResult>);

struct BacktestResult {
    summary: Summary,
    trades: Vec<Trade>,
}

/// Writes the default configuration into `*out`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_backtest_config_default(out: *mut PyrtBacktestConfig) -> PyrtStatus {
    ffi_boundary! {
        let d = Config::default();
        write_out(out, PyrtBacktestConfig {
            initial_capital: d.initial_capital,
            commission: d.commission,
            slippage_bps: d.slippage_bps,
            position_size: d.position_size,
            periods_per_year: d.periods_per_year,
            commission_rate: d.commission_rate,
            stop_loss: 0.0,
            take_profit: 0.0,
            trailing_stop: 0.0,
            fill_at: PYRT_FILL_AT_CLOSE,
            allow_short: d.allow_short,
        }, "out")
    }
}

/// PYRT_OK when every field of `*config` is in its domain; otherwise
/// PYRT_INVALID_ARGUMENT with a message naming the first bad field.
#[no_mangle]
pub unsafe extern "C" fn pyrt_backtest_config_validate(config: *const PyrtBacktestConfig) -> PyrtStatus {
    ffi_boundary! {
        Config::try_from(handle_ref(config, "config")?)?.validate()
    }
}

/// An optional input series: NULL is "not given".
unsafe fn optional_slice<'a>(ptr: *const f64, len: usize, name: &str) -> Result<Option<&'a [f64]>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        input_slice(ptr, len, name).map(Some)
    }
}

/// Runs a signal-driven backtest over `len` bars.
///
/// `prices` are the closes. `open`, `high` and `low` may be NULL unless the
/// configuration needs them: PYRT_FILL_AT_NEXT_OPEN needs `open`, any stop
/// needs `high` and `low`. Given series must be finite, > 0 and consistent
/// (low <= open, close <= high).
///
/// `signals[i]` is a target: 1 be long, -1 be short when `allow_short`
/// (otherwise be flat), 0 keep; anything else is PYRT_INVALID_ARGUMENT.
/// Each bar i, in this order: (1) with PYRT_FILL_AT_NEXT_OPEN the target of
/// `signals[i-1]` fills at `open[i]`; (2) the open position's stops: long
/// stop = max(entry*(1-stop_loss), best*(1-trailing_stop)), target =
/// entry*(1+take_profit), best the highest high since the entry (updated
/// after each bar's checks); open <= stop exits at the open, else open >=
/// target at the open, else low <= stop at the stop, else high >= target at
/// the target (shorts mirror it); stop exits pay slippage, target exits do
/// not; stops start on the bar after an entry at a close, on the same bar
/// for an entry at an open; without `open` a bar opens at the previous
/// close clipped into [low, high]; (3) with PYRT_FILL_AT_CLOSE the target
/// of `signals[i]` fills at `prices[i]`; (4) `equity_out[i]` = cash + signed
/// quantity * prices[i]. Every fill pays commission + commission_rate *
/// quantity * fill price.
///
/// `equity_out` (caller-allocated, `len` values) receives the equity curve.
/// On success `*out` is a new result handle (free it with
/// `pyrt_backtest_result_free`); on failure nothing is written.
#[no_mangle]
pub unsafe extern "C" fn pyrt_backtest_run(
    prices: *const f64,
    open: *const f64,
    high: *const f64,
    low: *const f64,
    signals: *const i32,
    len: usize,
    config: *const PyrtBacktestConfig,
    equity_out: *mut f64,
    out: *mut *mut PyrtBacktestResult,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let config = Config::try_from(handle_ref(config, "config")?)?;
        let prices = input_slice(prices, len, "prices")?;
        let bars = Bars {
            close: prices,
            open: optional_slice(open, len, "open")?,
            high: optional_slice(high, len, "high")?,
            low: optional_slice(low, len, "low")?,
        };
        let signals = input_slice(signals, len, "signals")?;
        for (series, name) in [(Some(prices), "prices"), (bars.open, "open"), (bars.high, "high"), (bars.low, "low")] {
            if let Some(series) = series {
                ensure_disjoint(equity_out, len, "equity_out", series.as_ptr(), len, name)?;
            }
        }
        ensure_disjoint(equity_out, len, "equity_out", signals.as_ptr(), len, "signals")?;
        let equity = output_slice(equity_out, len, "equity_out")?;
        let mut trades = Vec::new();
        let summary = backtest::run_bars(&bars, signals, &config, equity, &mut trades)?;
        let result = BacktestResult { summary, trades };
        write_handle(out, PyrtBacktestResult(super::handle::Handle::new("backtest result", result)), "out")
    }
}

/// The statistics of a run.
#[no_mangle]
pub unsafe extern "C" fn pyrt_backtest_result_summary(
    result: *const PyrtBacktestResult,
    out: *mut PyrtBacktestSummary,
) -> PyrtStatus {
    ffi_boundary! {
        let s = handle_ref(result, "result")?.0.with(|r| Ok(r.summary))?;
        write_out(out, PyrtBacktestSummary {
            total_return: s.total_return,
            sharpe_ratio: s.sharpe_ratio,
            max_drawdown: s.max_drawdown,
            win_rate: s.win_rate,
            final_equity: s.final_equity,
            num_trades: s.num_trades as u64,
        }, "out")
    }
}

/// The number of round trips of a run (0 for NULL or a closed result).
#[no_mangle]
pub unsafe extern "C" fn pyrt_backtest_result_num_trades(result: *const PyrtBacktestResult) -> usize {
    result.as_ref().map_or(0, |r| r.0.with(|r| Ok(r.trades.len())).unwrap_or(0))
}

/// Copies the run's round trips, in the order they closed, into `out`
/// (`capacity` rows, at least `pyrt_backtest_result_num_trades`) and writes
/// their number to `*written`. A smaller buffer is PYRT_BUFFER_TOO_SMALL and
/// nothing is written.
#[no_mangle]
pub unsafe extern "C" fn pyrt_backtest_result_trades(
    result: *const PyrtBacktestResult,
    out: *mut PyrtTrade,
    capacity: usize,
    written: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        let result = handle_ref(result, "result")?;
        ensure_out(written, "written")?;
        result.0.with(|result| {
        let n = result.trades.len();
        if capacity < n {
            return Err(Error::new(
                crate::error::ErrorKind::BufferTooSmall,
                format!("out: capacity {capacity} is smaller than the {n} trades"),
            ));
        }
        let rows = output_slice(out, n, "out")?;
        for (row, trade) in rows.iter_mut().zip(&result.trades) {
            *row = PyrtTrade::from(trade);
        }
        write_out(written, n, "written")
        })
    }
}

/// What the values of a report's index mean (`pyrt_backtest_stats`).
pub type PyrtIndexKind = i32;
/// Plain numbers: bar positions or integer labels.
pub const PYRT_INDEX_NUMBERS: PyrtIndexKind = 0;
/// Nanoseconds since 1970-01-01 of wall-clock datetimes, increasing.
pub const PYRT_INDEX_DATETIME_NS: PyrtIndexKind = 1;

/// backtesting.py 0.6.6's statistics (`compute_stats`) of a run, by its
/// keys; `_pct` fields are percentages. Durations are in the index's units
/// (with a datetime index rounded up to the resolution of its typical
/// step); NaN where backtesting.py gives NaN or NaT, and for both drawdown
/// durations when only the last bar is below its peak (backtesting.py puts
/// that drawdown's fraction there). With a numbers index
/// the annualised figures are as backtesting.py's: return_ann_pct 0,
/// volatility, CAGR, Sharpe and Sortino NaN.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct PyrtBacktestStats {
    /// The first and last index values, and their difference.
    pub start: i64,
    pub end: i64,
    pub duration: i64,
    pub exposure_time_pct: f64,
    pub equity_final: f64,
    pub equity_peak: f64,
    pub return_pct: f64,
    pub buy_hold_return_pct: f64,
    pub return_ann_pct: f64,
    pub volatility_ann_pct: f64,
    pub cagr_pct: f64,
    pub sharpe_ratio: f64,
    pub sortino_ratio: f64,
    pub calmar_ratio: f64,
    pub alpha_pct: f64,
    pub beta: f64,
    pub max_drawdown_pct: f64,
    pub avg_drawdown_pct: f64,
    pub max_drawdown_duration: f64,
    pub avg_drawdown_duration: f64,
    pub num_trades: u64,
    pub win_rate_pct: f64,
    pub best_trade_pct: f64,
    pub worst_trade_pct: f64,
    pub avg_trade_pct: f64,
    pub max_trade_duration: f64,
    pub avg_trade_duration: f64,
    pub profit_factor: f64,
    pub expectancy_pct: f64,
    pub sqn: f64,
    pub kelly_criterion: f64,
}

impl From<&backtest::Report> for PyrtBacktestStats {
    fn from(r: &backtest::Report) -> Self {
        PyrtBacktestStats {
            start: r.start,
            end: r.end,
            duration: r.duration,
            exposure_time_pct: r.exposure_time_pct,
            equity_final: r.equity_final,
            equity_peak: r.equity_peak,
            return_pct: r.return_pct,
            buy_hold_return_pct: r.buy_hold_return_pct,
            return_ann_pct: r.return_ann_pct,
            volatility_ann_pct: r.volatility_ann_pct,
            cagr_pct: r.cagr_pct,
            sharpe_ratio: r.sharpe_ratio,
            sortino_ratio: r.sortino_ratio,
            calmar_ratio: r.calmar_ratio,
            alpha_pct: r.alpha_pct,
            beta: r.beta,
            max_drawdown_pct: r.max_drawdown_pct,
            avg_drawdown_pct: r.avg_drawdown_pct,
            max_drawdown_duration: r.max_drawdown_duration,
            avg_drawdown_duration: r.avg_drawdown_duration,
            num_trades: r.num_trades as u64,
            win_rate_pct: r.win_rate_pct,
            best_trade_pct: r.best_trade_pct,
            worst_trade_pct: r.worst_trade_pct,
            avg_trade_pct: r.avg_trade_pct,
            max_trade_duration: r.max_trade_duration,
            avg_trade_duration: r.avg_trade_duration,
            profit_factor: r.profit_factor,
            expectancy_pct: r.expectancy_pct,
            sqn: r.sqn,
            kelly_criterion: r.kelly_criterion,
        }
    }
}

fn trade_from(k: usize, t: &PyrtTrade) -> Result<Trade> {
    let index = |x: u64| usize::try_from(x).map_err(|_| Error::invalid("trades", format!("trade {k}: bar {x} is out of range")));
    Ok(Trade {
        entry_index: index(t.entry_index)?,
        exit_index: index(t.exit_index)?,
        side: t.side,
        quantity: t.quantity,
        entry_price: t.entry_price,
        exit_price: t.exit_price,
        pnl: t.pnl,
        ret: t.trade_return,
    })
}

/// The report of a run: backtesting.py 0.6.6's statistics of the equity
/// curve `equity` and the closes `close` (`len` values each) and the round
/// trips `trades` (`num_trades` rows, as `pyrt_backtest_result_trades`
/// gives them; NULL when 0). `index` holds one value per bar of the kind
/// `index_kind`, or is NULL for bar positions 0, 1, ...
#[no_mangle]
pub unsafe extern "C" fn pyrt_backtest_stats(
    equity: *const f64,
    close: *const f64,
    len: usize,
    index: *const i64,
    index_kind: PyrtIndexKind,
    trades: *const PyrtTrade,
    num_trades: usize,
    out: *mut PyrtBacktestStats,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let kind = match index_kind {
            PYRT_INDEX_NUMBERS => backtest::IndexKind::Numbers,
            PYRT_INDEX_DATETIME_NS => backtest::IndexKind::DatetimeNs,
            other => return Err(Error::invalid("index_kind", format!("must be 0 (numbers) or 1 (datetime ns), got {other}"))),
        };
        let equity = input_slice(equity, len, "equity")?;
        let close = input_slice(close, len, "close")?;
        let index = if index.is_null() { None } else { Some(input_slice(index, len, "index")?) };
        let rows = input_slice(trades, num_trades, "trades")?;
        let trades = rows.iter().enumerate().map(|(k, t)| trade_from(k, t)).collect::<Result<Vec<_>>>()?;
        let report = backtest::report(equity, close, index, kind, &trades)?;
        write_out(out, PyrtBacktestStats::from(&report), "out")
    }
}

/// Releases the result's memory now, from any thread (a read in progress
/// finishes first); later calls return PYRT_CLOSED. Idempotent; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn pyrt_backtest_result_close(result: *const PyrtBacktestResult) {
    super::handle::close_handle(result, |r| r.0.close());
}

/// Frees a result handle; NULL is a no-op. It must not be used afterwards
/// (undefined behaviour).
#[no_mangle]
pub unsafe extern "C" fn pyrt_backtest_result_free(result: *mut PyrtBacktestResult) {
    free_handle(result);
}

/// An order for `pyrt_simulate_fills` (40 bytes, C layout).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PyrtOrder {
    /// The bar the order is submitted on; it is live from the next bar.
    pub submit_index: u64,
    /// PYRT_ORDER_SIDE_BUY or PYRT_ORDER_SIDE_SELL.
    pub side: PyrtOrderSide,
    /// One of PYRT_ORDER_TYPE_*.
    pub order_type: PyrtOrderType,
    /// > 0.
    pub quantity: f64,
    /// Used by LIMIT and STOP_LIMIT orders (ignored otherwise).
    pub limit_price: f64,
    /// Used by STOP and STOP_LIMIT orders (ignored otherwise).
    pub stop_price: f64,
}

/// A fill from `pyrt_simulate_fills` (40 bytes, C layout).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct PyrtFill {
    /// Index of the order in the `orders` array.
    pub order_index: u64,
    pub bar_index: u64,
    pub price: f64,
    pub quantity: f64,
    pub commission: f64,
}

impl From<&Fill> for PyrtFill {
    fn from(f: &Fill) -> PyrtFill {
        PyrtFill {
            order_index: f.order_index as u64,
            bar_index: f.bar_index as u64,
            price: f.price,
            quantity: f.quantity,
            commission: f.commission,
        }
    }
}

fn order_from(index: usize, o: &PyrtOrder) -> Result<Order> {
    let side = Side::try_from(o.side).map_err(|_| {
        Error::invalid("orders", format!("order {index}: side must be 0 (BUY) or 1 (SELL), got {}", o.side))
    })?;
    let order_type = order_type_from(o.order_type).ok_or_else(|| {
        Error::invalid("orders", format!("order {index}: order_type must be 0 (MARKET), 1 (LIMIT), 2 (STOP) or 3 (STOP_LIMIT), got {}", o.order_type))
    })?;
    Ok(Order {
        submit_index: usize::try_from(o.submit_index).unwrap_or(usize::MAX),
        side,
        order_type,
        quantity: o.quantity,
        limit_price: o.limit_price,
        stop_price: o.stop_price,
    })
}

/// Simulates orders on OHLC bars (`num_bars` each) and writes the fills,
/// ordered by bar then order index, into `fills_out`, their number into
/// `*num_fills`. Each order fills at most once, so `fills_capacity` must be
/// at least `num_orders`.
///
/// Rules: an order is live from the bar after `submit_index` until it fills;
/// market orders fill at the open; a buy limit fills when low <= limit at
/// min(open, limit), a sell limit when high >= limit at max(open, limit); a
/// buy stop triggers when high >= stop and fills at max(open, stop), a sell
/// stop when low <= stop at min(open, stop); a stop-limit becomes a limit
/// when its stop triggers and fills on the trigger bar only if the trigger
/// price is within the limit (at that price), else from the next bar on as a
/// limit. Market and stop fills pay `slippage_bps` (worse for the taker);
/// every fill pays `commission`.
#[no_mangle]
pub unsafe extern "C" fn pyrt_simulate_fills(
    orders: *const PyrtOrder,
    num_orders: usize,
    open: *const f64,
    high: *const f64,
    low: *const f64,
    close: *const f64,
    num_bars: usize,
    slippage_bps: f64,
    commission: f64,
    fills_out: *mut PyrtFill,
    fills_capacity: usize,
    num_fills: *mut usize,
) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(num_fills, "num_fills")?;
        let orders = input_slice(orders, num_orders, "orders")?;
        let open = input_slice(open, num_bars, "open")?;
        let high = input_slice(high, num_bars, "high")?;
        let low = input_slice(low, num_bars, "low")?;
        let close = input_slice(close, num_bars, "close")?;
        if fills_capacity < num_orders {
            return Err(Error::new(
                crate::error::ErrorKind::BufferTooSmall,
                format!("fills_out: capacity {fills_capacity} is smaller than num_orders ({num_orders})"),
            ));
        }
        ensure_disjoint(fills_out, fills_capacity, "fills_out", orders.as_ptr(), num_orders, "orders")?;
        for (series, name) in [(open, "open"), (high, "high"), (low, "low"), (close, "close")] {
            ensure_disjoint(fills_out, fills_capacity, "fills_out", series.as_ptr(), num_bars, name)?;
        }
        let orders = orders.iter().enumerate().map(|(i, o)| order_from(i, o)).collect::<Result<Vec<_>>>()?;
        let fills = backtest::simulate_fills(&orders, open, high, low, close, slippage_bps, commission)?;
        let out = output_slice(fills_out, fills.len(), "fills_out")?;
        for (row, fill) in out.iter_mut().zip(&fills) {
            *row = PyrtFill::from(fill);
        }
        write_out(num_fills, fills.len(), "num_fills")
    }
}

/// Parameters of a slippage model; the fields a model does not use are ignored.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PyrtSlippageModel {
    /// PYRT_SLIPPAGE_BPS or PYRT_SLIPPAGE_SQUARE_ROOT.
    pub kind: PyrtSlippageModelKind,
    /// Bps model: in [0, 10000).
    pub slippage_bps: f64,
    /// Square-root model: impact = coefficient * volatility * sqrt(quantity / daily_volume).
    pub coefficient: f64,
    /// Daily volatility of returns, a fraction (square-root model).
    pub volatility: f64,
    /// Traded volume per day, > 0 (square-root model).
    pub daily_volume: f64,
}

fn execution_price(model: &PyrtSlippageModel, price: f64, quantity: f64, side: Side) -> Result<f64> {
    match model.kind {
        PYRT_SLIPPAGE_BPS => backtest::bps_price(price, quantity, side, model.slippage_bps),
        PYRT_SLIPPAGE_SQUARE_ROOT => backtest::square_root_impact_price(
            price, quantity, side, model.coefficient, model.volatility, model.daily_volume,
        ),
        other => Err(Error::invalid("model", format!("kind must be 0 (bps) or 1 (square root), got {other}"))),
    }
}

fn at_index(error: Error, i: usize) -> Error {
    Error::new(error.kind, format!("{} (at index {i})", error.message))
}

/// The execution price of `len` orders under a slippage model: higher than
/// `price` for buys, lower for sells. Everything is checked before `out`
/// (`len` values) is written.
#[no_mangle]
pub unsafe extern "C" fn pyrt_calculate_slippage(
    price: *const f64,
    quantity: *const f64,
    side: *const PyrtOrderSide,
    len: usize,
    model: *const PyrtSlippageModel,
    out: *mut f64,
) -> PyrtStatus {
    ffi_boundary! {
        let model = handle_ref(model, "model")?;
        let price = input_slice(price, len, "price")?;
        let quantity = input_slice(quantity, len, "quantity")?;
        let side = input_slice(side, len, "side")?;
        ensure_disjoint(out, len, "out", price.as_ptr(), len, "price")?;
        ensure_disjoint(out, len, "out", quantity.as_ptr(), len, "quantity")?;
        let out = output_slice(out, len, "out")?;
        let price_at = |i: usize| -> Result<f64> {
            let s = Side::try_from(side[i]).map_err(|e| at_index(e, i))?;
            execution_price(model, price[i], quantity[i], s).map_err(|e| at_index(e, i))
        };
        if len == 0 {
            // The model is still checked, so a bad one never passes silently.
            execution_price(model, 1.0, 0.0, Side::Buy)?;
        }
        for i in 0..len {
            price_at(i)?;
        }
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = price_at(i)?;
        }
        Ok(())
    }
}

/// A position in one symbol: signed quantity, average entry price, realized
/// and unrealized P&L. Safe to share between threads: fills and marks from
/// several threads are applied one at a time (none is lost), and
/// `pyrt_position_close` from any thread waits for a call in progress, after
/// which calls return PYRT_CLOSED. Using it after `pyrt_position_free` is
/// undefined behaviour.
pub struct PyrtPosition {
    inner: super::handle::Handle<Position>,
    /// Immutable, outside the lock: the pointers handed out for it stay
    /// valid until `pyrt_position_free`, also after a close.
    symbol: CString,
}


/// A new flat position in `symbol` (a non-empty UTF-8 string).
#[no_mangle]
pub unsafe extern "C" fn pyrt_position_new(symbol: *const c_char, out: *mut *mut PyrtPosition) -> PyrtStatus {
    ffi_boundary! {
        ensure_out(out, "out")?;
        let symbol = input_str(symbol, "symbol")?;
        if symbol.len() > super::messaging::PYRT_MAX_NAME_LEN {
            return Err(Error::invalid(
                "symbol",
                format!("{} bytes, longer than the limit of {}", symbol.len(), super::messaging::PYRT_MAX_NAME_LEN),
            ));
        }
        let inner = Position::new(symbol)?;
        let symbol = CString::new(symbol).map_err(|_| Error::invalid("symbol", "contains NUL"))?;
        write_handle(out, PyrtPosition { inner: super::handle::Handle::new("position", inner), symbol }, "out")
    }
}

/// Closes a position, from any thread (a call in progress finishes first);
/// later calls return PYRT_CLOSED. Idempotent; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn pyrt_position_close(position: *const PyrtPosition) {
    super::handle::close_handle(position, |p| p.inner.close());
}

/// Frees a position; NULL is a no-op. It must not be used afterwards
/// (undefined behaviour).
#[no_mangle]
pub unsafe extern "C" fn pyrt_position_free(position: *mut PyrtPosition) {
    free_handle(position);
}

/// Books a fill: adds, partial closes, full closes and flips (the remainder
/// opens at `price`). The commission is subtracted from realized P&L. The
/// position is then marked at `price`. Nothing changes on failure.
#[no_mangle]
pub unsafe extern "C" fn pyrt_position_apply_fill(
    position: *mut PyrtPosition,
    side: PyrtOrderSide,
    quantity: f64,
    price: f64,
    commission: f64,
    timestamp_us: i64,
) -> PyrtStatus {
    ffi_boundary! {
        let position = handle_ref(position, "position")?;
        let side = Side::try_from(side)?;
        position.inner.with(|p| p.apply_fill(side, quantity, price, commission, timestamp_us))
    }
}

/// Sets the current price and the unrealized P&L at it.
#[no_mangle]
pub unsafe extern "C" fn pyrt_position_mark(position: *mut PyrtPosition, price: f64, timestamp_us: i64) -> PyrtStatus {
    ffi_boundary! {
        handle_ref(position, "position")?.inner.with(|p| p.mark(price, timestamp_us))
    }
}

/// The position's current fields; `symbol` points into the handle and stays
/// valid until it is freed.
#[no_mangle]
pub unsafe extern "C" fn pyrt_position_snapshot(
    position: *const PyrtPosition,
    out: *mut PyrtPositionSnapshot,
) -> PyrtStatus {
    ffi_boundary! {
        let handle = handle_ref(position, "position")?;
        ensure_out(out, "out")?;
        let snapshot = handle.inner.with(|p| {
            Ok(PyrtPositionSnapshot {
                symbol: handle.symbol.as_ptr(),
                quantity: p.quantity,
                avg_entry_price: p.avg_entry_price,
                current_price: p.current_price,
                unrealized_pnl: p.unrealized_pnl,
                realized_pnl: p.realized_pnl,
                last_update_us: p.last_update_us,
            })
        })?;
        write_out(out, snapshot, "out")
    }
}

/// The position's symbol, valid as long as the handle (NULL for NULL).
#[no_mangle]
pub unsafe extern "C" fn pyrt_position_symbol(position: *const PyrtPosition) -> *const c_char {
    position.as_ref().map_or(std::ptr::null(), |p| p.symbol.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr::{null, null_mut};

    fn default_config() -> PyrtBacktestConfig {
        let mut c = std::mem::MaybeUninit::uninit();
        assert_eq!(unsafe { pyrt_backtest_config_default(c.as_mut_ptr()) }, PYRT_OK);
        unsafe { c.assume_init() }
    }

    #[test]
    fn layouts_are_as_documented() {
        assert_eq!(std::mem::size_of::<PyrtTrade>(), 64);
        assert_eq!(std::mem::size_of::<PyrtOrder>(), 40);
        assert_eq!(std::mem::size_of::<PyrtFill>(), 40);
    }

    #[test]
    fn a_run_through_the_c_api() {
        let prices = [10.0, 12.0, 9.0, 11.0];
        let signals = [1, -1, 1, 0];
        let mut equity = [0.0; 4];
        let mut result = null_mut();
        let config = default_config();
        unsafe {
            assert_eq!(pyrt_backtest_run(prices.as_ptr(), null(), null(), null(), signals.as_ptr(), 4, &config, equity.as_mut_ptr(), &mut result), PYRT_OK);
            assert_eq!(pyrt_backtest_result_num_trades(result), 2);
            let mut rows = [PyrtTrade::default(); 2];
            let mut written = 0usize;
            assert_eq!(pyrt_backtest_result_trades(result, rows.as_mut_ptr(), 1, &mut written), PYRT_BUFFER_TOO_SMALL);
            assert_eq!(written, 0);
            assert_eq!(pyrt_backtest_result_trades(result, rows.as_mut_ptr(), 2, &mut written), PYRT_OK);
            assert_eq!(written, 2);
            assert_eq!((rows[1].entry_index, rows[1].exit_index, rows[1].side), (2, 3, 1));
            let mut summary = std::mem::MaybeUninit::<PyrtBacktestSummary>::uninit();
            assert_eq!(pyrt_backtest_result_summary(result, summary.as_mut_ptr()), PYRT_OK);
            let summary = summary.assume_init();
            assert_eq!(summary.num_trades, 2);
            assert_eq!(summary.final_equity, equity[3]);
            pyrt_backtest_result_free(result);
            pyrt_backtest_result_free(null_mut());
        }
    }

    #[test]
    fn bad_calls_are_refused_and_write_nothing() {
        let prices = [10.0, 12.0];
        let signals = [1, 3];
        let mut equity = [-1.0; 2];
        let mut result = null_mut();
        let config = default_config();
        unsafe {
            assert_eq!(pyrt_backtest_run(prices.as_ptr(), null(), null(), null(), signals.as_ptr(), 2, &config, equity.as_mut_ptr(), &mut result), PYRT_INVALID_ARGUMENT);
            assert_eq!(pyrt_backtest_run(null(), null(), null(), null(), signals.as_ptr(), 2, &config, equity.as_mut_ptr(), &mut result), PYRT_NULL_POINTER);
            assert_eq!(pyrt_backtest_run(prices.as_ptr(), null(), null(), null(), signals.as_ptr(), 2, null(), equity.as_mut_ptr(), &mut result), PYRT_NULL_POINTER);
            assert_eq!(pyrt_backtest_run(prices.as_ptr(), null(), null(), null(), signals.as_ptr(), 2, &config, equity.as_mut_ptr(), null_mut()), PYRT_NULL_POINTER);
            assert_eq!(pyrt_backtest_run(null(), null(), null(), null(), null(), 0, &config, null_mut(), &mut result), PYRT_INVALID_ARGUMENT);
            assert!(result.is_null());
            assert_eq!(equity, [-1.0; 2]);
            let bad = PyrtBacktestConfig { position_size: 0.0, ..config };
            assert_eq!(pyrt_backtest_config_validate(&bad), PYRT_INVALID_ARGUMENT);
            assert_eq!(pyrt_backtest_config_validate(null()), PYRT_NULL_POINTER);
            assert_eq!(pyrt_backtest_result_num_trades(null()), 0);
        }
    }

    #[test]
    fn ohlc_runs_and_the_report_through_the_c_api() {
        let open = [10.0, 10.0, 12.0, 11.0];
        let high = [10.5, 12.5, 12.5, 11.5];
        let low = [9.5, 9.0, 10.5, 10.5];
        let close = [10.0, 12.0, 11.0, 11.0];
        let signals = [1, 0, 0, 0];
        let mut equity = [0.0; 4];
        let mut result = null_mut();
        let config = PyrtBacktestConfig { fill_at: PYRT_FILL_AT_NEXT_OPEN, take_profit: 0.2, commission_rate: 0.001, ..default_config() };
        unsafe {
            assert_eq!(pyrt_backtest_run(close.as_ptr(), null(), high.as_ptr(), low.as_ptr(), signals.as_ptr(), 4, &config, equity.as_mut_ptr(), &mut result), PYRT_INVALID_ARGUMENT);
            assert!(result.is_null());
            assert_eq!(pyrt_backtest_run(close.as_ptr(), open.as_ptr(), high.as_ptr(), low.as_ptr(), signals.as_ptr(), 4, &config, equity.as_mut_ptr(), &mut result), PYRT_OK);
            let mut rows = [PyrtTrade::default(); 1];
            let mut written = 0usize;
            assert_eq!(pyrt_backtest_result_trades(result, rows.as_mut_ptr(), 1, &mut written), PYRT_OK);
            // Filled at open[1] = 10, target 12 touched by bar 1's high.
            assert_eq!((rows[0].entry_index, rows[0].exit_index, rows[0].entry_price, rows[0].exit_price), (1, 1, 10.0, 12.0));
            pyrt_backtest_result_free(result);

            let mut stats = PyrtBacktestStats::default();
            assert_eq!(pyrt_backtest_stats(equity.as_ptr(), close.as_ptr(), 4, null(), PYRT_INDEX_NUMBERS, rows.as_ptr(), 1, &mut stats), PYRT_OK);
            assert_eq!((stats.num_trades, stats.start, stats.end, stats.duration), (1, 0, 3, 3));
            assert_eq!(stats.exposure_time_pct, 25.0);
            assert_eq!(stats.equity_final, equity[3]);
            assert_eq!(pyrt_backtest_stats(equity.as_ptr(), close.as_ptr(), 4, null(), 7, rows.as_ptr(), 1, &mut stats), PYRT_INVALID_ARGUMENT);
            rows[0].exit_index = 9;
            assert_eq!(pyrt_backtest_stats(equity.as_ptr(), close.as_ptr(), 4, null(), PYRT_INDEX_NUMBERS, rows.as_ptr(), 1, &mut stats), PYRT_INVALID_ARGUMENT);
            let bad = PyrtBacktestConfig { fill_at: 5, ..default_config() };
            assert_eq!(pyrt_backtest_config_validate(&bad), PYRT_INVALID_ARGUMENT);
            let bad = PyrtBacktestConfig { stop_loss: -0.1, ..default_config() };
            assert_eq!(pyrt_backtest_config_validate(&bad), PYRT_INVALID_ARGUMENT);
        }
    }

    #[test]
    fn fills_slippage_and_position_through_the_c_api() {
        let open = [100.0, 101.0];
        let high = [102.0, 103.0];
        let low = [99.0, 100.0];
        let close = [101.0, 102.0];
        let orders = [
            PyrtOrder { submit_index: 0, side: PYRT_ORDER_SIDE_BUY, order_type: PYRT_ORDER_TYPE_MARKET, quantity: 1.0, limit_price: 0.0, stop_price: 0.0 },
            PyrtOrder { submit_index: 0, side: 5, order_type: PYRT_ORDER_TYPE_MARKET, quantity: 1.0, limit_price: 0.0, stop_price: 0.0 },
        ];
        let mut fills = [PyrtFill::default(); 2];
        let mut n = 99usize;
        unsafe {
            assert_eq!(pyrt_simulate_fills(orders.as_ptr(), 1, open.as_ptr(), high.as_ptr(), low.as_ptr(), close.as_ptr(), 2, 0.0, 1.0, fills.as_mut_ptr(), 1, &mut n), PYRT_OK);
            assert_eq!((n, fills[0].bar_index, fills[0].price), (1, 1, 101.0));
            assert_eq!(pyrt_simulate_fills(orders.as_ptr(), 2, open.as_ptr(), high.as_ptr(), low.as_ptr(), close.as_ptr(), 2, 0.0, 1.0, fills.as_mut_ptr(), 2, &mut n), PYRT_INVALID_ARGUMENT);
            assert_eq!(pyrt_simulate_fills(orders.as_ptr(), 2, open.as_ptr(), high.as_ptr(), low.as_ptr(), close.as_ptr(), 2, 0.0, 1.0, fills.as_mut_ptr(), 1, &mut n), PYRT_BUFFER_TOO_SMALL);
            assert_eq!(pyrt_simulate_fills(null(), 0, null(), null(), null(), null(), 0, 0.0, 0.0, null_mut(), 0, &mut n), PYRT_OK);
            assert_eq!(n, 0);

            let model = PyrtSlippageModel { kind: PYRT_SLIPPAGE_BPS, slippage_bps: 10.0, coefficient: 0.0, volatility: 0.0, daily_volume: 0.0 };
            let (p, q, s) = ([100.0, 100.0], [1.0, 1.0], [PYRT_ORDER_SIDE_BUY, PYRT_ORDER_SIDE_SELL]);
            let mut out = [0.0; 2];
            assert_eq!(pyrt_calculate_slippage(p.as_ptr(), q.as_ptr(), s.as_ptr(), 2, &model, out.as_mut_ptr()), PYRT_OK);
            assert!((out[0] - 100.1).abs() < 1e-12 && (out[1] - 99.9).abs() < 1e-12);
            let bad_side = [0, 2];
            let mut untouched = [-1.0; 2];
            assert_eq!(pyrt_calculate_slippage(p.as_ptr(), q.as_ptr(), bad_side.as_ptr(), 2, &model, untouched.as_mut_ptr()), PYRT_INVALID_ARGUMENT);
            assert_eq!(untouched, [-1.0; 2]);
            let bad_model = PyrtSlippageModel { kind: 9, ..model };
            assert_eq!(pyrt_calculate_slippage(null(), null(), null(), 0, &bad_model, null_mut()), PYRT_INVALID_ARGUMENT);

            let mut position = null_mut();
            assert_eq!(pyrt_position_new(c"ETH".as_ptr(), &mut position), PYRT_OK);
            assert_eq!(pyrt_position_apply_fill(position, PYRT_ORDER_SIDE_BUY, 2.0, 10.0, 0.5, 7), PYRT_OK);
            assert_eq!(pyrt_position_apply_fill(position, 3, 2.0, 10.0, 0.5, 7), PYRT_INVALID_ARGUMENT);
            assert_eq!(pyrt_position_mark(position, 12.0, 8), PYRT_OK);
            let mut snap = std::mem::MaybeUninit::<PyrtPositionSnapshot>::uninit();
            assert_eq!(pyrt_position_snapshot(position, snap.as_mut_ptr()), PYRT_OK);
            let snap = snap.assume_init();
            assert_eq!((snap.quantity, snap.unrealized_pnl, snap.realized_pnl, snap.last_update_us), (2.0, 4.0, -0.5, 8));
            assert_eq!(std::ffi::CStr::from_ptr(pyrt_position_symbol(position)).to_str().unwrap(), "ETH");
            pyrt_position_free(position);
            pyrt_position_free(null_mut());
            assert_eq!(pyrt_position_new(null(), &mut position), PYRT_NULL_POINTER);
            assert_eq!(pyrt_position_mark(null_mut(), 1.0, 0), PYRT_NULL_POINTER);
        }
    }

    #[test]
    fn fills_written_over_their_inputs_are_refused() {
        let mut bars = [10.0f64; 16];
        let orders = [unsafe { std::mem::zeroed::<PyrtOrder>() }; 1];
        let mut count = 0usize;
        unsafe {
            let fills = bars.as_mut_ptr() as *mut PyrtFill;
            let open = bars.as_ptr();
            let status = pyrt_simulate_fills(orders.as_ptr(), 1, open, open, open, open, 4, 0.0, 0.0, fills, 1, &mut count);
            assert_eq!(status, PYRT_INVALID_ARGUMENT);
            let message = std::ffi::CStr::from_ptr(pyrt_last_error_message()).to_string_lossy().into_owned();
            assert_eq!(message, "fills_out: must not overlap open");
        }
    }

    #[test]
    fn a_closed_position_refuses_calls_and_keeps_its_symbol() {
        let mut position = null_mut();
        unsafe {
            assert_eq!(pyrt_position_new(c"BTC".as_ptr(), &mut position), PYRT_OK);
            pyrt_position_close(position);
            pyrt_position_close(position);
            assert_eq!(pyrt_position_mark(position, 1.0, 0), PYRT_CLOSED);
            assert_eq!(std::ffi::CStr::from_ptr(pyrt_position_symbol(position)).to_bytes(), b"BTC");
            pyrt_position_free(position);
            let long = std::ffi::CString::new("X".repeat(2000)).unwrap();
            assert_eq!(pyrt_position_new(long.as_ptr(), &mut position), PYRT_INVALID_ARGUMENT);
        }
    }
}
