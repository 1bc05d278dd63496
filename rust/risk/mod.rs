//! risk: pure Rust (filled in by its own change).
