//! extern "C" layer for `crate::messaging` (filled in by its own change).
