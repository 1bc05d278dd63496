//! extern "C" layer for `crate::ipc` (filled in by its own change).
