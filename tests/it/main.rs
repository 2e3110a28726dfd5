//! Integration tests: one binary (link once), one module per subject.

mod alloc;
mod bad_input;
mod cli;
mod common;
mod components;
mod control;
mod determinism;
mod fuzz;
mod grading;
mod hostile;
mod invariants;
mod layers;
mod lessons;
mod live_edits;
mod mechanics;
mod metrics;
mod profiles;
mod properties;
mod reference;
mod replications;
mod scenarios;
mod stability;
mod theory;
mod topologies;
mod trust;
