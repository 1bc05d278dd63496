//! ipc: a lock-free single-producer / single-consumer ring of market-data
//! records in named POSIX shared memory, shared by processes in any language.
//!
//! `layout` pins the versioned binary layout, `shm` maps the shared memory
//! (the domain's only `unsafe` code), `ring` is the protocol on top.

mod guard;
pub mod layout;
pub mod ring;
mod shm;

pub use layout::PyrtMarketDataRecord;
pub use ring::Ring;
