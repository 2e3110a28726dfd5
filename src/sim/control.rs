//! The control API: changes a front end applies to a running simulation.
//!
//! Each change takes effect at the current simulated time and is recorded
//! with that time and the number of events processed before it, so a session
//! replays exactly ([`Simulation::replay`]), even when a change was made
//! between two events at the same instant.

use super::{KindState, RunConfig, RunError, Simulation};
use crate::diag::closest;
use crate::model::Model;
use crate::time::{Duration, SimTime};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Highest slow-down factor accepted.
pub const MAX_SLOW: f64 = 1_000.0;
/// Highest traffic multiplier accepted.
pub const MAX_TRAFFIC: f64 = 100_000.0;
/// Most closed-loop users one source may have (the topology's own limit).
pub const MAX_USERS: u32 = 1_000_000;

/// The closed-loop users a source of `users` has under traffic `m`:
/// `users x m` rounded half up, but at least one while `m > 0` (a small
/// multiplier thins the users; only 0 removes them all), capped at
/// [`MAX_USERS`] for a source that has users.
pub fn users_at(users: u32, m: f64) -> u32 {
    if users == 0 || !m.is_finite() || m <= 0.0 {
        return 0;
    }
    (users as f64 * m)
        .round()
        .clamp(1.0, MAX_USERS.max(users) as f64) as u32
}

/// A change to a running simulation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Change {
    /// Multiply every source's rate by this (1.0 is the topology's rate).
    Traffic(f64),
    /// Take a node down: requests in it are lost, arrivals are dropped
    /// (a crash: the default).
    Down(String),
    /// Take a node down gracefully: requests in service finish (and are
    /// answered); waiting requests are lost and arrivals are dropped, as
    /// with `Down`.
    Drain(String),
    /// Bring a node back up.
    Up(String),
    /// Multiply a node's service times by `factor` (1.0 restores it).
    Slow {
        /// Node id.
        node: String,
        /// Service-time multiplier.
        factor: f64,
    },
    /// Set a node's number of servers.
    Servers {
        /// Node id.
        node: String,
        /// New number of servers.
        servers: u32,
    },
    /// Make a share of a node's requests fail at the end of their service
    /// (0 restores it).
    Errors {
        /// Node id.
        node: String,
        /// Probability of failure, 0 to 1.
        rate: f64,
    },
    /// Empty a cache (every key is gone; requests waiting on a fill get a miss).
    Flush(String),
    /// Cut the network between two nodes: calls and hand-offs between them
    /// fail at once, and health checks across it fail.
    Partition {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// Restore the network between two nodes.
    Heal {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// Take every node of a region down (a data-centre outage).
    DownRegion(String),
    /// Bring every node of a region back.
    UpRegion(String),
    /// Set an app's number of instances (workers, queue and pool follow).
    Instances {
        /// The app's id.
        node: String,
        /// New number of instances.
        count: u32,
    },
    /// Use the first `count` shards of a shard router (resharding).
    Shards {
        /// The shard router's id.
        node: String,
        /// Shards to use.
        count: u32,
    },
    /// A structural edit applied live ([`Simulation::restructure`]). Made
    /// by `bottleneck::live`; scenarios record it as
    /// `Restructure(topology, what)`.
    #[serde(skip_deserializing)]
    #[schemars(skip)]
    Restructure(Box<super::Restructure>),
}

impl Change {
    /// True when the change acts on the node (or region) `id`: it names
    /// it, or it is a restructure (the topology changed under every node).
    pub fn concerns(&self, id: &str) -> bool {
        match self {
            Change::Traffic(_) => false,
            Change::Down(n) | Change::Drain(n) | Change::Up(n) | Change::Flush(n) => n == id,
            Change::DownRegion(r) | Change::UpRegion(r) => r == id,
            Change::Slow { node, .. }
            | Change::Servers { node, .. }
            | Change::Instances { node, .. }
            | Change::Errors { node, .. }
            | Change::Shards { node, .. } => node == id,
            Change::Partition { a, b } | Change::Heal { a, b } => a == id || b == id,
            Change::Restructure(_) => true,
        }
    }
}

/// How people read a change: `traffic x1.5`, `db down`, `db x2 slower`.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Traffic(m) => {
                let x = format!("{m:.3}");
                write!(
                    f,
                    "traffic x{}",
                    x.trim_end_matches('0').trim_end_matches('.')
                )
            }
            Change::Down(n) => write!(f, "{n} down"),
            Change::Drain(n) => write!(f, "{n} down (draining)"),
            Change::Up(n) => write!(f, "{n} up"),
            Change::Slow { node, factor } if *factor == 1.0 => write!(f, "{node} normal speed"),
            Change::Slow { node, factor } => write!(f, "{node} x{factor} slower"),
            Change::Servers { node, servers } => {
                write!(
                    f,
                    "{node}: {}",
                    crate::fmt::fmt_counted((*servers).into(), "server")
                )
            }
            Change::Instances { node, count } => {
                write!(
                    f,
                    "{node}: {}",
                    crate::fmt::fmt_counted((*count).into(), "instance")
                )
            }
            Change::Errors { node, rate } => write!(f, "{node}: {:.0}% errors", rate * 100.0),
            Change::Flush(n) => write!(f, "flush {n}"),
            Change::Partition { a, b } => write!(f, "cut {a} | {b}"),
            Change::Heal { a, b } => write!(f, "heal {a} - {b}"),
            Change::DownRegion(r) => write!(f, "region {r} down"),
            Change::UpRegion(r) => write!(f, "region {r} up"),
            Change::Shards { node, count } => write!(f, "{node}: {count} shards"),
            Change::Restructure(r) => write!(f, "{}", r.what),
        }
    }
}

/// A change as applied: when, and after how many events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppliedChange {
    /// Simulated time of the change.
    pub at: Duration,
    /// Events processed before it.
    pub after_events: u64,
    /// The change.
    pub change: Change,
}

/// A change that could not be applied.
#[derive(Clone, Debug, PartialEq)]
pub struct ControlError {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n   = hint: {}", self.message, self.hint)
    }
}

impl std::error::Error for ControlError {}

/// The faults and capacity changes a node can take, for the table of what
/// each means on each kind ([`effect`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// `Down` (and `Up`, which undoes it).
    Down,
    /// `Slow`.
    Slow,
    /// `Errors`.
    Errors,
    /// `Servers`.
    Servers,
    /// `Instances`.
    Instances,
    /// `Flush`.
    Flush,
    /// `Shards`.
    Shards,
}

impl Fault {
    /// Every fault, in the order the docs list them.
    pub const ALL: [Fault; 7] = [
        Fault::Down,
        Fault::Slow,
        Fault::Errors,
        Fault::Servers,
        Fault::Instances,
        Fault::Flush,
        Fault::Shards,
    ];

    /// Its name in scenario files and the control API.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Down => "Down",
            Fault::Slow => "Slow",
            Fault::Errors => "Errors",
            Fault::Servers => "Servers",
            Fault::Instances => "Instances",
            Fault::Flush => "Flush",
            Fault::Shards => "Shards",
        }
    }
}

/// Every node kind, as written in files ([`crate::kind::Kind::ALL`]).
pub const KINDS: [&str; crate::kind::Kind::ALL.len()] = {
    let mut out = [""; crate::kind::Kind::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = crate::kind::Kind::ALL[i].name();
        i += 1;
    }
    out
};

/// What `fault` does to a node of `kind` (as written in files), or why it
/// is refused there. The control API refuses exactly the refused cells,
/// and every accepted cell has a measurable effect (tested). Each kind's
/// module says what a fault means for it ([`crate::kinds::effect`]).
pub fn effect(fault: Fault, kind: &str) -> Result<&'static str, &'static str> {
    match crate::kind::Kind::from_name(kind) {
        Some(k) => crate::kinds::effect(fault, k),
        None => Err("not a kind of node"),
    }
}

fn node_index(model: &Model, id: &str) -> Result<usize, ControlError> {
    model.node_index(id).ok_or_else(|| {
        let ids = model.nodes.iter().map(|n| n.id.as_str());
        ControlError {
            message: format!("`{id}` is not a node"),
            hint: match closest(id, ids) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "the nodes are: {}",
                    model
                        .nodes
                        .iter()
                        .map(|n| n.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        }
    })
}

/// True if node `i` spends time on requests of its own (so `Slow` acts).
fn takes_time(model: &Model, i: usize) -> bool {
    let m = &model.nodes[i];
    match &m.kind {
        crate::kinds::KindModel::Database(d) => {
            let write = &d.write;
            m.service.mean() > 0.0 || write.mean() > 0.0
        }
        _ => m.service.mean() > 0.0,
    }
}

impl Change {
    /// The fault this change is, with the node it applies to.
    fn fault(&self) -> Option<(Fault, &str)> {
        Some(match self {
            Change::Down(n) | Change::Drain(n) | Change::Up(n) => (Fault::Down, n),
            Change::Slow { node, .. } => (Fault::Slow, node),
            Change::Errors { node, .. } => (Fault::Errors, node),
            Change::Servers { node, .. } => (Fault::Servers, node),
            Change::Instances { node, .. } => (Fault::Instances, node),
            Change::Flush(n) => (Fault::Flush, n),
            Change::Shards { node, .. } => (Fault::Shards, node),
            _ => return None,
        })
    }

    /// Checks that the change can apply to `model` and would act: the
    /// nodes and regions exist, the node's kind takes this change, values
    /// are in range, a partition cuts a pair that exchanges requests.
    /// Scenarios call it when they are loaded; [`Simulation::apply`] too.
    pub fn check(&self, model: &Model) -> Result<(), ControlError> {
        let range = |message: String, hint: String| Err(ControlError { message, hint });
        if let Some((fault, node)) = self.fault() {
            let i = node_index(model, node)?;
            let kind = model.nodes[i].kind_name();
            if let Err(why) = effect(fault, kind) {
                return range(
                    format!(
                        "`{node}` is {}: {} does not apply to it",
                        crate::fmt::a(kind),
                        fault.name()
                    ),
                    why.to_string(),
                );
            }
            if fault == Fault::Slow && !takes_time(model, i) {
                return range(
                    format!(
                        "`{node}` takes no time per request (its service time is 0), so slowing it would change nothing"
                    ),
                    "slow a node that does work, or give this one a service time".into(),
                );
            }
        }
        let max = crate::topology::limits::MAX_SERVERS as u32;
        match self {
            Change::Traffic(m) => {
                if !m.is_finite() || *m < 0.0 || *m > MAX_TRAFFIC {
                    return range(
                        format!("traffic multiplier {m} is out of range"),
                        format!(
                            "use a number from 0 to {MAX_TRAFFIC}; 1 is the topology's own rate"
                        ),
                    );
                }
                for s in &model.sources {
                    if let Some((users, _)) = &s.closed {
                        let want = (*users as f64 * m).round();
                        if want > MAX_USERS as f64 {
                            return range(
                                format!(
                                    "traffic x{m} would make {want} closed-loop users of source `{}`, over the limit of {MAX_USERS}",
                                    s.id
                                ),
                                format!(
                                    "use a multiplier of at most {}",
                                    MAX_USERS as f64 / *users as f64
                                ),
                            );
                        }
                    }
                }
            }
            Change::Errors { rate, .. } if !rate.is_finite() || !(0.0..=1.0).contains(rate) => {
                return range(
                    format!("error rate {rate} is out of range"),
                    "use a fraction from 0 to 1; 0 restores the node".into(),
                );
            }
            Change::Slow { factor, .. }
                if !factor.is_finite() || *factor <= 0.0 || *factor > MAX_SLOW =>
            {
                return range(
                    format!("slow-down factor {factor} is out of range"),
                    format!("use a number above 0 and at most {MAX_SLOW}; 1 restores normal speed"),
                );
            }
            Change::Servers { node, servers } => {
                let i = node_index(model, node)?;
                // An app's servers are workers per instance.
                let per = match &model.nodes[i].kind {
                    crate::kinds::KindModel::App(a) => a
                        .autoscale
                        .map_or(a.instances, |s| s.max.max(a.instances))
                        .max(1),
                    _ => 1,
                };
                if *servers == 0 || servers.saturating_mul(per) > max {
                    return range(
                        format!("{servers} servers is out of range"),
                        format!("use 1 to {}; to take the node away, use Down", max / per),
                    );
                }
            }
            Change::Instances { node, count } => {
                let i = node_index(model, node)?;
                let workers = match &model.nodes[i].kind {
                    crate::kinds::KindModel::App(a) => a.workers.max(1),
                    _ => 1,
                };
                if *count == 0 || count.saturating_mul(workers) > max {
                    return range(
                        format!("{count} instances is out of range"),
                        format!("use 1 to {}; to take the app away, use Down", max / workers),
                    );
                }
            }
            Change::Shards { node, count } => {
                let i = node_index(model, node)?;
                if let crate::kinds::KindModel::ShardRouter(r) = &model.nodes[i].kind
                    && (*count == 0 || *count as usize > r.shards.len())
                {
                    return range(
                        format!("{count} shards is out of range"),
                        format!(
                            "use 1 to {} (the shards listed in the topology)",
                            r.shards.len()
                        ),
                    );
                }
            }
            Change::Partition { a, b } | Change::Heal { a, b } => {
                let (x, y) = (node_index(model, a)?, node_index(model, b)?);
                if matches!(self, Change::Partition { .. })
                    && !model.talks_to(x).contains(&y)
                    && !model.talks_to(y).contains(&x)
                {
                    let mut near: Vec<&str> = model
                        .talks_to(x)
                        .into_iter()
                        .chain((0..model.nodes.len()).filter(|&j| model.talks_to(j).contains(&x)))
                        .map(|j| model.nodes[j].id.as_str())
                        .collect();
                    near.sort_unstable();
                    near.dedup();
                    return range(
                        format!(
                            "no requests go between `{a}` and `{b}`, so cutting the network between them would change nothing"
                        ),
                        if near.is_empty() {
                            format!("`{a}` exchanges requests with no node")
                        } else {
                            format!(
                                "cut `{a}` from a node it exchanges requests with: {}",
                                near.join(", ")
                            )
                        },
                    );
                }
            }
            Change::DownRegion(r) | Change::UpRegion(r)
                if !model.regions.iter().any(|x| x == r) =>
            {
                return range(
                    format!("`{r}` is not a region"),
                    if model.regions.is_empty() {
                        "this topology has no regions".into()
                    } else {
                        match closest(r, model.regions.iter().map(String::as_str)) {
                            Some(c) => format!("did you mean `{c}`?"),
                            None => format!("the regions are: {}", model.regions.join(", ")),
                        }
                    },
                );
            }
            _ => {}
        }
        Ok(())
    }
}

impl Simulation {
    fn node_by_id(&self, id: &str) -> Result<usize, ControlError> {
        let i = node_index(&self.model, id)?;
        if self.retired[i] {
            return Err(ControlError {
                message: format!("`{id}` was removed from the topology"),
                hint: "change a node that is still there".into(),
            });
        }
        Ok(i)
    }

    /// Node `i` crashes: requests in service are lost (when their service
    /// ends), waiting ones fail now, arrivals fail.
    pub(crate) fn crash(&mut self, i: usize) {
        let now = self.now;
        let n = &mut self.nodes[i];
        if n.down {
            return;
        }
        n.down = true;
        n.epoch = n.epoch.wrapping_add(1);
        n.stats.busy.set(now, 0);
        n.stats.capacity.set(now, n.servers as u64);
        n.stats.waiting.set(now, 0);
        n.stats.calling.set(now, 0);
        n.stats.pool_wait.set(now, 0);
        for (_, l) in n.stats.waits.iter_mut() {
            l.set(now, 0);
        }
        let waiting: Vec<u32> = n.waiting.drain(..).collect();
        for req in waiting {
            self.drop_request(i, req);
        }
        self.kind_went_down(i);
    }

    /// Applies `change` now and records it (after [`Change::check`]).
    pub fn apply(&mut self, change: Change) -> Result<(), ControlError> {
        change.check(&self.model)?;
        let now = self.now;
        match &change {
            Change::Traffic(m) => {
                self.multiplier = *m;
                for s in 0..self.sources.len() {
                    match self.sources[s].closed.as_ref().map(|c| c.0) {
                        None => {
                            self.sources[s].epoch = self.sources[s].epoch.wrapping_add(1);
                            self.schedule_arrival(s, now);
                        }
                        Some(_) if self.sources[s].session.is_some() => self.session_traffic(s, *m),
                        // Closed-loop users set their own pace: the
                        // multiplier scales how many users there are.
                        Some(users) => self.closed_users(s, users_at(users, *m)),
                    }
                }
            }
            Change::Drain(id) => {
                // Arrivals fail from now on; requests in service keep their
                // epoch, so they finish and are answered; nobody waits.
                let i = self.node_by_id(id)?;
                let n = &mut self.nodes[i];
                if !n.down {
                    n.down = true;
                    n.stats.waiting.set(now, 0);
                    let waiting: Vec<u32> = n.waiting.drain(..).collect();
                    for req in waiting {
                        self.drop_request(i, req);
                    }
                    self.kind_went_down(i);
                }
            }
            Change::Down(id) => {
                let i = self.node_by_id(id)?;
                self.crash(i);
            }
            Change::Up(id) => {
                let i = self.node_by_id(id)?;
                self.nodes[i].down = false;
            }
            Change::Errors { node, rate } => {
                let i = self.node_by_id(node)?;
                self.nodes[i].error_rate = *rate;
            }
            Change::Slow { node, factor } => {
                let i = self.node_by_id(node)?;
                self.nodes[i].slow = *factor;
            }
            Change::Flush(id) => {
                let i = self.node_by_id(id)?;
                self.cache_flush(i, false);
            }
            Change::DownRegion(r) | Change::UpRegion(r) => {
                let ri = self.model.regions.iter().position(|x| x == r).unwrap_or(0);
                let members: Vec<String> = (0..self.model.nodes.len())
                    .filter(|&i| self.model.node_region[i] == ri as u16 && !self.retired[i])
                    .map(|i| self.model.nodes[i].id.clone())
                    .collect();
                let down = matches!(change, Change::DownRegion(_));
                for id in members {
                    // Recorded once, as the region change; applied per node.
                    let c = if down {
                        Change::Down(id)
                    } else {
                        Change::Up(id)
                    };
                    self.apply(c)?;
                    self.log.pop();
                }
            }
            Change::Partition { a, b } | Change::Heal { a, b } => {
                let (x, y) = (self.node_by_id(a)? as u32, self.node_by_id(b)? as u32);
                if matches!(change, Change::Partition { .. }) {
                    self.partitions.insert((x, y));
                    self.partitions.insert((y, x));
                } else {
                    self.partitions.remove(&(x, y));
                    self.partitions.remove(&(y, x));
                }
            }
            Change::Shards { node, count } => {
                let i = self.node_by_id(node)?;
                if let KindState::ShardRouter(sh) = &mut self.nodes[i].kind {
                    sh.reshard(*count as usize);
                }
            }
            Change::Instances { node, count } => {
                let i = self.node_by_id(node)?;
                self.set_instances(i, *count);
            }
            Change::Servers { node, servers } => {
                let i = self.node_by_id(node)?;
                self.kind_set_servers(i, *servers);
            }
            Change::Restructure(r) => {
                self.check_restructure(r)?;
                self.apply_restructure(r);
            }
        }
        self.log.push(AppliedChange {
            at: Duration(now),
            after_events: self.events,
            change,
        });
        Ok(())
    }

    /// Sets node `i`'s servers now; removed servers finish what they serve,
    /// added ones take waiting requests at once.
    pub(crate) fn set_servers(&mut self, i: usize, servers: u32) {
        let now = self.now;
        let n = &mut self.nodes[i];
        n.servers = servers;
        // Capacity is never below the number busy.
        let cap = n.stats.busy.value().max(servers as u64);
        n.stats.capacity.set(now, cap);
        if !n.down {
            while (self.nodes[i].stats.busy.value() as u32) < self.nodes[i].servers {
                let Some(next) = self.nodes[i].waiting.pop_front() else {
                    break;
                };
                let len = self.nodes[i].waiting.len() as u64;
                self.nodes[i].stats.waiting.set(now, len);
                let waited = now - self.reqs[next].visit_arrival;
                self.start_service(i, next, waited);
            }
        }
    }

    /// Every change applied so far, in order.
    pub fn changes(&self) -> &[AppliedChange] {
        &self.log
    }

    /// Runs a recorded session again: the same model, configuration and
    /// changes give the same state, event for event, up to `until`.
    pub fn replay(
        model: &Model,
        config: RunConfig,
        changes: &[AppliedChange],
        until: SimTime,
    ) -> Result<Simulation, ReplayError> {
        let mut sim = Simulation::new(model, config);
        for c in changes {
            sim.step_to_event_count(c.after_events, c.at.0)
                .map_err(ReplayError::Run)?;
            sim.step_until_no_events(c.at.0);
            sim.apply(c.change.clone()).map_err(ReplayError::Control)?;
        }
        sim.step_until(until).map_err(ReplayError::Run)?;
        Ok(sim)
    }

    /// Moves the clock forward to `t` without running events.
    pub(crate) fn step_until_no_events(&mut self, t: SimTime) {
        if t > self.now {
            self.advance(t);
            self.now = t;
        }
    }
}

/// Why a replay failed.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplayError {
    /// The run hit a budget.
    Run(RunError),
    /// A recorded change was refused.
    Control(ControlError),
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Run(e) => e.fmt(f),
            ReplayError::Control(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReplayError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_like_people_say_them() {
        assert_eq!(Change::Traffic(1.5).to_string(), "traffic x1.5");
        assert_eq!(Change::Traffic(3.0).to_string(), "traffic x3");
        assert_eq!(Change::Down("db".into()).to_string(), "db down");
        let slow = |factor| Change::Slow {
            node: "db".into(),
            factor,
        };
        assert_eq!(slow(2.0).to_string(), "db x2 slower");
        assert_eq!(slow(1.0).to_string(), "db normal speed");
    }
}
