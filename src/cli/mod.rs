//! The command line's own modules: argument handling, reading files, running
//! on threads and printing (nothing here knows how a system behaves; that is
//! the library's). `main.rs` holds `validate` and `graph`; each other
//! command has its module.

pub mod bench;
pub mod check;
pub mod cost;
pub mod drill;
pub mod files;
pub mod lesson;
pub mod out;
pub mod plot;
pub mod run;
pub mod sweep;
pub mod verdicts;
