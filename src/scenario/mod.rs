//! Scenarios: a topology, a seed, a timeline of changes and thresholds.
//!
//! A scenario file reads like a test plan:
//!
//! ```ron
//! Scenario(
//!     name: "One replica down at 3x peak",
//!     topology: "read-replicas.ron",      // relative to the scenario file
//!     seed: 7,
//!     duration: "10m",
//!     warmup: "1m",
//!     timeline: [
//!         At("2m", Traffic(3.0)),
//!         At("4m", Down("replica-1")),
//!         At("6m", Up("replica-1")),
//!     ],
//!     thresholds: [
//!         "p99 < 200ms",
//!         "error_rate < 0.1%",
//!         "utilization(db) < 0.8 during 2m..10m",
//!         "error_rate < 1% after recovery within 30s",
//!     ],
//! )
//! ```
//!
//! [`parse`] reads the file; [`Scenario::plan`] checks it against the
//! topology's model and turns the timeline into engine [`Change`]s; [`run`]
//! simulates one seed and measures every threshold; [`judge`] decides pass or
//! fail over one or more replications. Reading files and running seeds in
//! parallel is the front end's job: the engine stays free of I/O and threads.
//!
//! A scenario that shows a wall ("before" the fix) lists the thresholds it is
//! expected to fail in `expect_fail`; it is as expected when exactly those
//! fail. A "before" scenario thus fails for the reason it names, not any.

mod effect;
mod file;
mod judge;
mod plan;
mod play;
mod reach;
mod record;
mod run;
mod stats;
mod threshold;
pub mod warmup;

pub mod drill;
pub mod sweep;

pub use effect::{FaultState, NoEffect, fault_effect};
pub use file::{
    Action, Item, MAX_DURATION, MAX_PLAN_STEPS, MAX_THRESHOLDS, MAX_TIMELINE, Scenario, parse,
    parse_str,
};
pub use judge::{Precision, Row, Rule, Stopped, Verdict, judge, judge_by};
pub use plan::{Plan, Step};
pub use play::Player;
pub use reach::Reach;
pub use record::record;
pub use run::{Outcome, SETTLE, run};

pub use stats::Estimate;
pub use threshold::{
    METRICS, Metric, Op, TAGGABLE, Tag, Threshold, ThresholdError, Unit, Window, show,
};

use crate::diag::{Diagnostic, Diagnostics, LineIndex, Pos, list_names, short};
use crate::model::Model;
use crate::report::Report;
use crate::sim::{AppliedChange, Change, RunConfig, Simulation};
use crate::time::{Duration, SEC, SimTime};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
