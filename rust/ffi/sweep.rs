//! extern "C" layer for `crate::sweep` (filled in by its own change).
