//! The wire schema, generated at build time from proto/messages.proto
//! (package `py_rt`) by prost-build with protox; see build.rs.
#![allow(clippy::all)]

include!(concat!(env!("OUT_DIR"), "/py_rt.rs"));
