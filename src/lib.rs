//! # Bottleneck
//!
//! A deterministic discrete-event simulator of web-system architectures.
//!
//! A topology file (RON) describes sources of traffic and the nodes requests
//! flow through; [`topology::load`] parses and validates it into a
//! [`model::Model`]; a [`sim::Simulation`] runs it event by event in integer
//! nanoseconds with seeded, portable random streams; [`report::Report`] says
//! what happened.
//!
//! ```
//! use bottleneck::{sim::{RunConfig, Simulation}, time::SEC, topology};
//!
//! let text = r#"Topology(
//!     name: "M/M/1",
//!     sources: [Source(id: "users", to: "q", arrivals: Poisson(rps: 9.0))],
//!     nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "100ms"))],
//! )"#;
//! let loaded = topology::load_str("mm1.ron", text).expect("valid");
//! let mut sim = Simulation::new(&loaded.model, RunConfig { seed: 7, ..RunConfig::default() });
//! sim.step_until(60 * SEC).expect("within budget");
//! let report = sim.report();
//! assert!(report.nodes["q"].utilization > 0.5);
//! ```
//!
//! The engine does no I/O, reads no clock and starts no threads: front ends
//! (the CLI, the desktop app, the browser) drive it.

#![warn(missing_docs)]

pub mod analysis;
pub mod budget;
pub mod diag;
pub mod dist;
pub mod fmt;
pub mod graph;
pub mod keys;
pub mod kind;
pub mod kinds;
pub mod lesson;
pub mod live;
pub mod metrics;
pub mod model;
pub mod profile;
pub mod reference;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod selftest;
pub mod sessions;
pub mod share;
pub mod sim;
pub mod theory;
pub mod time;
pub mod topology;
mod visits;

/// The topology that runs when the CLI is given no file.
pub const DEFAULT_TOPOLOGY: &str = include_str!("../topologies/default.ron");
/// The name the default topology is shown under.
pub const DEFAULT_TOPOLOGY_NAME: &str = "topologies/default.ron";
