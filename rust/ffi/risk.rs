//! extern "C" layer for `crate::risk` (filled in by its own change).
