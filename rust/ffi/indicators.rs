//! extern "C" layer for `crate::indicators` (filled in by its own change).
