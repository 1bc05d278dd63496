//! Parameter sweeps: built-in signal generators and a grid runner that
//! backtests every (series, parameter combination) pair on all cores.
//!
//! The grid is embarrassingly parallel: each pair computes its own signals and
//! runs the ordinary backtest (`crate::backtest::run`) with a sink that keeps
//! only the statistics, so a grid row equals a one-by-one `backtest_strategy`.

mod grid;
mod signals;

pub use grid::{check_combinations, grid, GridRow};
pub use signals::{
    bollinger_reversion, ema_cross, price_sma_cross, rsi_threshold, sma_cross, Scratch, Strategy,
};
