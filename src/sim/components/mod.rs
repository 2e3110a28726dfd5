//! The node kinds' own mechanics, one file each.

pub mod cache_store;
