//! Backtesting: a signal-driven backtest with fixed commissions and slippage,
//! fill simulation for market/limit/stop/stop-limit orders on OHLC bars,
//! slippage models and position accounting. Pure, safe Rust: slices in,
//! values out.

// `!(x > 0.0)` is written on purpose throughout: unlike `x <= 0.0` it is
// also true for NaN, which must be refused.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

mod config;
mod engine;
mod fills;
mod position;
mod report;
mod slippage;
mod stats;

pub use config::{Config, FillAt};
pub use engine::{run, run_bars, validate_bars, validate_inputs, Bars, CountingSink, Summary, Trade, TradeSink};
pub use fills::{simulate_fills, Fill, Order, OrderType, Side};
pub use position::Position;
pub use report::{report, IndexKind, Report};
pub use slippage::{bps_price, square_root_impact_price};
pub use stats::{equity_max_drawdown, equity_sharpe};
