//! The node kinds' own mechanics, one file each. The shared queueing core
//! (servers, queue, down/slow/error state) lives in `sim/mod.rs`.

pub mod app;
pub mod cache;
pub mod cache_store;
pub mod database;
pub mod fanout;
pub mod lb;
pub mod limiter;
pub mod queue;
pub mod shard;
