//! The topology file format (RON): what people write.
//!
//! ```ron
//! Topology(
//!     name: "Two stations",
//!     sources: [
//!         Source(id: "users", to: "web", arrivals: Poisson(rps: 40.0)),
//!     ],
//!     nodes: [
//!         Station(id: "web", servers: 4, queue: 50,
//!                 service: LogNormal(mean: "20ms", std: "30ms"),
//!                 routes: [Route(to: "db", p: 0.3)]),
//!         Station(id: "db", servers: 2, service: Constant("15ms")),
//!     ],
//! )
//! ```
//!
//! These types mirror the file one to one and carry no derived data; the
//! loader ([`load`]) parses them with diagnostics and compiles them into a
//! [`crate::model::Model`], which is what the engine runs.

pub mod limits;
pub mod load;

pub use load::{Loaded, load, load_str, parse};

use crate::dist::Dist;
use crate::profile::{Arrivals, Profile};
use serde::{Deserialize, Serialize};

/// A whole system: where traffic comes from and the nodes it flows through.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// A short title, shown in reports.
    pub name: String,
    /// A longer description (optional).
    #[serde(default)]
    pub description: Option<String>,
    /// Traffic sources.
    pub sources: Vec<Source>,
    /// The nodes requests flow through.
    pub nodes: Vec<Node>,
}

/// Where requests come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Unique id.
    pub id: String,
    /// The node every request of this source enters first.
    pub to: String,
    /// The arrival process and its base rate.
    pub arrivals: Arrivals,
    /// How the rate changes over time; absent means constant.
    #[serde(default)]
    pub profile: Option<Profile>,
}

/// A node of the system. Each kind is a variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Node {
    /// A generic first-come-first-served queueing station.
    Station(Station),
}

impl Node {
    /// The node's id.
    pub fn id(&self) -> &str {
        match self {
            Node::Station(s) => &s.id,
        }
    }

    /// The kind's name as written in files.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Station(_) => "Station",
        }
    }
}

/// A queueing station: `servers` parallel servers in front of one FIFO queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Station {
    /// Unique id.
    pub id: String,
    /// Number of parallel servers (at least 1).
    pub servers: u64,
    /// Waiting places besides those in service; absent means unbounded. An
    /// arrival that finds every server busy and the queue full is dropped.
    #[serde(default)]
    pub queue: Option<u64>,
    /// How long one request occupies a server.
    pub service: Dist,
    /// Where requests go after service, with probabilities; the probability
    /// left over leaves the system (the request is complete).
    #[serde(default)]
    pub routes: Vec<Route>,
}

/// One probabilistic route out of a node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Target node id.
    pub to: String,
    /// Probability that a request leaving the node goes there.
    pub p: f64,
}
