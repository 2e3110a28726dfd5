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

/// A change to a running simulation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Change {
    /// Multiply every source's rate by this (1.0 is the topology's rate).
    Traffic(f64),
    /// Take a node down: requests in it are lost, arrivals are dropped.
    Down(String),
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
            Change::Up(n) => write!(f, "{n} up"),
            Change::Slow { node, factor } if *factor == 1.0 => write!(f, "{node} normal speed"),
            Change::Slow { node, factor } => write!(f, "{node} x{factor} slower"),
            Change::Servers { node, servers } => write!(f, "{node}: {servers} servers"),
            Change::Instances { node, count } => write!(f, "{node}: {count} instances"),
            Change::Errors { node, rate } => write!(f, "{node}: {:.0}% errors", rate * 100.0),
            Change::Flush(n) => write!(f, "flush {n}"),
            Change::Partition { a, b } => write!(f, "cut {a} | {b}"),
            Change::Heal { a, b } => write!(f, "heal {a} - {b}"),
            Change::DownRegion(r) => write!(f, "region {r} down"),
            Change::UpRegion(r) => write!(f, "region {r} up"),
            Change::Shards { node, count } => write!(f, "{node}: {count} shards"),
        }
    }
}

/// A change as applied: when, and after how many events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

impl Simulation {
    fn node_by_id(&self, id: &str) -> Result<usize, ControlError> {
        self.model.node_index(id).ok_or_else(|| {
            let ids = self.model.nodes.iter().map(|n| n.id.as_str());
            ControlError {
                message: format!("`{id}` is not a node"),
                hint: match closest(id, ids) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "the nodes are: {}",
                        self.model
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

    /// Applies `change` now and records it.
    pub fn apply(&mut self, change: Change) -> Result<(), ControlError> {
        let now = self.now;
        match &change {
            Change::Traffic(m) => {
                if !m.is_finite() || *m < 0.0 || *m > MAX_TRAFFIC {
                    return Err(ControlError {
                        message: format!("traffic multiplier {m} is out of range"),
                        hint: format!(
                            "use a number from 0 to {MAX_TRAFFIC}; 1 is the topology's own rate"
                        ),
                    });
                }
                self.multiplier = *m;
                // Closed-loop users set their own pace: the multiplier does
                // not apply to them.
                let open: Vec<usize> = (0..self.sources.len())
                    .filter(|&s| self.sources[s].closed.is_none())
                    .collect();
                for s in open {
                    self.sources[s].epoch = self.sources[s].epoch.wrapping_add(1);
                    self.schedule_arrival(s, now);
                }
            }
            Change::Down(id) => {
                let i = self.node_by_id(id)?;
                let n = &mut self.nodes[i];
                if !n.down {
                    n.down = true;
                    n.epoch = n.epoch.wrapping_add(1);
                    n.stats.busy.set(now, 0);
                    n.stats.capacity.set(now, n.servers as u64);
                    n.stats.waiting.set(now, 0);
                    let waiting: Vec<u32> = n.waiting.drain(..).collect();
                    for req in waiting {
                        self.drop_request(i, req);
                    }
                    // A cache that goes down comes back empty; its waiters fail.
                    self.cache_flush(i, true);
                    // A primary with a failover starts its clock.
                    self.db_went_down(i);
                }
            }
            Change::Errors { node, rate } => {
                let i = self.node_by_id(node)?;
                if !rate.is_finite() || !(0.0..=1.0).contains(rate) {
                    return Err(ControlError {
                        message: format!("error rate {rate} is out of range"),
                        hint: "use a fraction from 0 to 1; 0 restores the node".into(),
                    });
                }
                self.nodes[i].error_rate = *rate;
            }
            Change::Flush(id) => {
                let i = self.node_by_id(id)?;
                if !matches!(self.nodes[i].kind, KindState::Cache(_) | KindState::Cdn(_)) {
                    return Err(ControlError {
                        message: format!(
                            "`{id}` is a {}, not a cache",
                            self.model.nodes[i].kind_name
                        ),
                        hint: "Flush empties a Cache or Cdn node".into(),
                    });
                }
                self.cache_flush(i, false);
            }
            Change::DownRegion(r) | Change::UpRegion(r) => {
                let Some(ri) = self.model.regions.iter().position(|x| x == r) else {
                    return Err(ControlError {
                        message: format!("`{r}` is not a region"),
                        hint: format!("the regions are: {}", self.model.regions.join(", ")),
                    });
                };
                let members: Vec<String> = (0..self.model.nodes.len())
                    .filter(|&i| self.model.node_region[i] == ri as u16)
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
                let KindState::Shard(sh) = &mut self.nodes[i].kind else {
                    return Err(ControlError {
                        message: format!(
                            "`{node}` is a {}, not a shard router",
                            self.model.nodes[i].kind_name
                        ),
                        hint: "Shards changes a ShardRouter node".into(),
                    });
                };
                if *count == 0 || *count as usize > sh.shards.len() {
                    return Err(ControlError {
                        message: format!("{count} shards is out of range"),
                        hint: format!(
                            "use 1 to {} (the shards listed in the topology)",
                            sh.shards.len()
                        ),
                    });
                }
                sh.reshard(*count as usize);
            }
            Change::Instances { node, count } => {
                let i = self.node_by_id(node)?;
                if !matches!(self.nodes[i].kind, KindState::App(_)) {
                    return Err(ControlError {
                        message: format!(
                            "`{node}` is a {}, not an app",
                            self.model.nodes[i].kind_name
                        ),
                        hint: "Instances changes an App node; for other nodes use Servers".into(),
                    });
                }
                let max = crate::topology::limits::MAX_SERVERS as u32;
                if *count == 0 || *count > max {
                    return Err(ControlError {
                        message: format!("{count} instances is out of range"),
                        hint: format!("use 1 to {max}; to take the app away, use Down"),
                    });
                }
                self.set_instances(i, *count);
            }
            Change::Up(id) => {
                let i = self.node_by_id(id)?;
                self.nodes[i].down = false;
            }
            Change::Slow { node, factor } => {
                let i = self.node_by_id(node)?;
                if !factor.is_finite() || *factor <= 0.0 || *factor > MAX_SLOW {
                    return Err(ControlError {
                        message: format!("slow-down factor {factor} is out of range"),
                        hint: format!(
                            "use a number above 0 and at most {MAX_SLOW}; 1 restores normal speed"
                        ),
                    });
                }
                self.nodes[i].slow = *factor;
            }
            Change::Servers { node, servers } => {
                let i = self.node_by_id(node)?;
                let max = crate::topology::limits::MAX_SERVERS as u32;
                if *servers == 0 || *servers > max {
                    return Err(ControlError {
                        message: format!("{servers} servers is out of range"),
                        hint: format!("use 1 to {max}; to take the node away, use Down"),
                    });
                }
                self.set_servers(i, *servers);
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
            sim.step_to_event_count(c.after_events)
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
