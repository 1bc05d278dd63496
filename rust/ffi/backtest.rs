//! extern "C" layer for `crate::backtest` (filled in by its own change).
