//! The compiled, validated system the engine runs.
//!
//! A [`Model`] is built only by the loader, after every check has passed, so
//! the engine can index without fear: route targets exist, probabilities sum
//! to at most 1, every node has a way out. The structure is also kept as a
//! petgraph [`DiGraph`] (sources, nodes and an exit vertex; edges weighted by
//! routing probability) for analysis and drawing.

use crate::dist::Sampler;
use crate::keys::KeySampler;
use crate::kind::{Jitter, Kind};
pub use crate::kinds::KindModel;
pub use crate::kinds::app::StepModel;
use crate::profile::Profile;
use crate::topology::Topology;
use petgraph::graph::{DiGraph, NodeIndex};

/// Not in any region.
pub const NO_REGION: u16 = u16::MAX;

/// A vertex of the model's graph.
#[derive(Clone, Debug, PartialEq)]
pub enum Vertex {
    /// A traffic source (index into [`Model::sources`]).
    Source(usize),
    /// A node (index into [`Model::nodes`]).
    Node(usize),
    /// Leaving the system: the request is complete.
    Exit,
}

/// A compiled traffic source.
#[derive(Clone, Debug)]
pub struct SourceModel {
    /// Its id.
    pub id: String,
    /// Index of the node its requests enter.
    pub to: usize,
    /// Base rate, requests per second.
    pub rps: f64,
    /// How the rate changes over time.
    pub profile: Profile,
    /// Classes as (cumulative probability, class index); empty: class 0 only.
    pub mix: Vec<(f64, u16)>,
    /// Key sampler; `None`: key 1.
    pub keys: Option<KeySampler>,
    /// Client behaviour.
    pub client: ClientModel,
    /// Number of client IPs.
    pub ips: u64,
    /// Closed loop: (users, think time); `None` for open-loop arrivals.
    pub closed: Option<(u32, Sampler)>,
    /// A burst: (count, instant in ns); its `rps` is 0.
    pub burst: Option<(u32, u64)>,
    /// Closed-loop users who walk sessions of tasks (with `closed`); its
    /// `mix` then gives the tasks' class shares, for analysis only.
    pub session: Option<crate::sessions::SessionModel>,
}

/// A source's clients: timeout and retries, compiled.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClientModel {
    /// Attempt timeout in ns; `None`: wait forever.
    pub timeout: Option<u64>,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff, ns.
    pub backoff: u64,
    /// Longest backoff, ns.
    pub cap: u64,
    /// Jitter.
    pub jitter: Jitter,
    /// Retry budget (share of first attempts); `None`: unlimited.
    pub budget: Option<f64>,
    /// A token-bucket or Finagle retry budget (instead of `budget`).
    pub limit: Option<crate::topology::RetryLimit>,
    /// Circuit breaker: (failure ratio, window ns, min requests, open ns).
    pub breaker: Option<(f64, u64, u32, u64)>,
    /// Honour retry-after hints.
    pub respect_retry_after: bool,
}

/// A compiled route.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RouteModel {
    /// Index of the target node.
    pub to: usize,
    /// Probability.
    pub p: f64,
}

/// A compiled node.
#[derive(Clone, Debug)]
pub struct NodeModel {
    /// Its id.
    pub id: String,
    /// Its kind and the kind's own settings.
    pub kind: KindModel,
    /// Parallel servers (workers, cores).
    pub servers: u32,
    /// Waiting places; `None` is unbounded.
    pub queue: Option<u32>,
    /// Service-time sampler (a database's reads).
    pub service: Sampler,
    /// A station's routes out, in file order (what the engine draws from).
    pub routes: Vec<RouteModel>,
    /// Every flow out for analysis and drawing: a station's routes, a load
    /// balancer's backends (an even share each), an app's calls (weighted by
    /// the share of the class that makes them). Expected visits there per
    /// visit here.
    pub flows: Vec<RouteModel>,
    /// Load-dependent latency (`None`: service times do not depend on load).
    pub load: Option<crate::kind::LoadCurve>,
    /// Probability that a visit here ends the request's path (a station's
    /// left-over route probability; 1 for nodes that answer their caller;
    /// 0 for a load balancer, which hands the request on).
    pub exit: f64,
    /// The cache in front of this node when apps reach it through a
    /// cache-aside step (its load then depends on the miss ratio).
    pub behind_cache: Option<u32>,
}

/// A validated topology, ready to simulate.
#[derive(Clone, Debug)]
pub struct Model {
    /// The topology's name.
    pub name: String,
    /// The file's content as parsed (kept for editing and saving).
    pub topology: Topology,
    /// Request classes, sorted (`"request"` when no source has a mix).
    pub classes: Vec<String>,
    /// Per class: it writes when it reaches a database or a read-through
    /// cache as itself, not as an app's step
    /// ([`crate::kinds::database::direct`]).
    pub class_writes: Vec<bool>,
    /// Sources, in file order.
    pub sources: Vec<SourceModel>,
    /// Region names.
    pub regions: Vec<String>,
    /// Region index of each node (`NO_REGION` if none).
    pub node_region: Vec<u16>,
    /// Region index of each source's users (`NO_REGION` if none).
    pub source_region: Vec<u16>,
    /// One-way latency between regions, ns.
    pub latency: Vec<Vec<u64>>,
    /// Nodes, in file order.
    pub nodes: Vec<NodeModel>,
    /// Sources, nodes and the exit as a graph; edge weights are probabilities.
    pub graph: DiGraph<Vertex, f64>,
    /// Graph index of each source.
    pub source_vertex: Vec<NodeIndex>,
    /// Graph index of each node.
    pub node_vertex: Vec<NodeIndex>,
    /// Graph index of the exit.
    pub exit_vertex: NodeIndex,
}

impl NodeModel {
    /// The most servers the node can have: an autoscaled app's maximum
    /// instances times its workers, otherwise its servers.
    pub fn peak_servers(&self) -> u32 {
        match &self.kind {
            KindModel::App(a) => a.peak_servers(),
            _ => self.servers,
        }
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        self.kind.kind()
    }

    /// Its kind's name as written in files (`"Station"`).
    pub fn kind_name(&self) -> &'static str {
        self.kind.kind().name()
    }

    /// A node of `kind` with the settings every kind has; routes, flows and
    /// the rest start empty (the kind's compile fills them in).
    pub fn new(
        id: &str,
        kind: KindModel,
        servers: u64,
        queue: Option<u64>,
        service: Sampler,
    ) -> NodeModel {
        NodeModel {
            id: id.to_string(),
            kind,
            servers: servers.min(u32::MAX as u64) as u32,
            queue: queue.map(|q| q as u32),
            service,
            routes: Vec::new(),
            flows: Vec::new(),
            exit: 1.0,
            behind_cache: None,
            load: None,
        }
    }
}

impl Model {
    /// True if requests of `class` write when they reach a database or a
    /// read-through cache as themselves.
    pub fn class_writes(&self, class: u16) -> bool {
        self.class_writes.get(class as usize) == Some(&true)
    }

    /// One-way latency between regions `a` and `b` (0 within one, or when
    /// either is outside every region).
    pub fn region_latency(&self, a: u16, b: u16) -> u64 {
        if a == b || a == NO_REGION || b == NO_REGION {
            0
        } else {
            self.latency[a as usize][b as usize]
        }
    }

    /// The nodes node `i` may hold a server while waiting for (an app's
    /// calls and pool, a pooler's database), each once, in first-use order.
    pub fn call_targets(&self, i: usize) -> Vec<u32> {
        self.nodes[i].kind.waits_on()
    }

    /// The nodes node `i` sends requests or calls to (routes, backends,
    /// shards, origins, every step's targets, published messages' queues,
    /// a pool's target): the pairs a network partition can cut.
    pub fn talks_to(&self, i: usize) -> Vec<usize> {
        let n = &self.nodes[i];
        let mut out: Vec<usize> = n.routes.iter().map(|r| r.to).collect();
        out.extend(n.kind.sends_to());
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Index of the node with this id.
    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// Index of the source with this id.
    pub fn source_index(&self, id: &str) -> Option<usize> {
        self.sources.iter().position(|s| s.id == id)
    }

    /// Probability that a request leaving node `i` leaves the system.
    pub fn exit_probability(&self, i: usize) -> f64 {
        self.nodes[i].exit
    }

    /// Solves the traffic equations `lambda_j = ext_j + sum_i lambda_i p_ij`:
    /// the mean arrival rate at every node (requests per second) when the
    /// sources send `source_rps`. `None` when the iteration does not settle
    /// within its work limit (feedback probabilities extremely close to 1).
    pub fn visit_rates(&self, source_rps: &[f64]) -> Option<Vec<f64>> {
        let mut ext = vec![0.0; self.nodes.len()];
        for (s, &r) in self.sources.iter().zip(source_rps) {
            ext[s.to] += r;
        }
        crate::visits::forwards(&self.nodes, &ext)
    }

    /// The base rate of every source, requests per second.
    pub fn base_rates(&self) -> Vec<f64> {
        self.sources.iter().map(|s| s.rps).collect()
    }

    /// Offered load per server at each node, `lambda * E[S] / servers`, for
    /// the given node arrival rates. Above 1, the queue grows without bound.
    pub fn offered_load(&self, rates: &[f64]) -> Vec<f64> {
        self.nodes
            .iter()
            .zip(rates)
            .map(|(n, &l)| l * n.service.mean_secs() / n.peak_servers() as f64)
            .collect()
    }
}

/// Per node, solved backwards: expected visits a request entering there
/// makes (itself included) and the service time it adds up (its demand).
/// `Model::visit_rates` solves the same equations forwards; backwards, one
/// solve serves every entry point. Exact outside loops (a long chain is
/// one pass); inside a loop iterated within a fixed amount of work and
/// extrapolated, so the answer errs large, never small (see
/// [`crate::visits`]).
pub fn per_entry(model: &Model) -> (Vec<f64>, Vec<f64>) {
    let service: Vec<f64> = model
        .nodes
        .iter()
        .map(|m| m.service.mean().max(0.0))
        .collect();
    crate::visits::backwards(&model.nodes, &service)
}

/// Closed-loop sources whose users would send requests without time ever
/// passing (no think time, and nothing on the way takes time): `(source
/// index, message, hint)`. Their run would spin at t = 0 until a budget
/// stops it.
pub fn endless_loops(model: &Model) -> Vec<(usize, String, String)> {
    let any_latency = model.latency.iter().flatten().any(|&l| l > 0);
    let thoughtless = model
        .sources
        .iter()
        .any(|s| s.closed.as_ref().is_some_and(|(_, t)| t.mean() <= 0.0));
    if any_latency || !thoughtless {
        return Vec::new();
    }
    let (_, demand) = per_entry(model);
    model
        .sources
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let (users, think) = s.closed.as_ref()?;
            (think.mean() <= 0.0 && demand[s.to] <= 0.0).then(|| {
                (
                    i,
                    format!(
                        "the {users} users of `{}` think for 0s and every node on their way serves in 0s, so they would send requests without end at t = 0",
                        s.id
                    ),
                    "give them a think time, e.g. `think: Exponential(mean: \"1s\")`, or the nodes a service time".to_string(),
                )
            })
        })
        .collect()
}
