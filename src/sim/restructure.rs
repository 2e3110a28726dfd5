//! Structural edits applied live: the clock keeps going, and every node
//! keeps its index.
//!
//! A [`Restructure`] carries the model after the edit in *stable order*:
//! every node of the current model at its index, new nodes after them. A
//! node removed by the edit stays where it was, renamed (`db:removed`) and down
//! for good (it is *retired*): its waiting requests fail at once and those
//! in service when their service ends, exactly as when a node crashes, so
//! every request in flight, event and slot that names it still resolves,
//! and conservation holds (its failures are counted, at it and end to end).
//! New nodes start cold. Nodes that persist keep their state: queues,
//! requests in service, connections, cache contents, counters. A persisting
//! node whose settings changed takes every change in place
//! ([`updates_in_place`] holds for any edit that keeps its kind); only a
//! node whose kind changes under the same id is replaced (retired, and the
//! new one appended cold). What applies in place, and when:
//!
//! - every kind: servers (fewer than are busy let those finish and start
//!   nothing until under the count), queue limit (waiting requests over a
//!   smaller one stay), service time and load curve (for services started
//!   from now), routes;
//! - `LoadBalancer`: backends, policy and health checks (`load_balancer_rewire`);
//! - `Cache`: TTL, jitter and stale window (for fills from now), capacity
//!   (a smaller one evicts by its policy until it fits), eviction policy
//!   (keeps every key), single-flight and backend (cache-aside waiters
//!   released with a miss when their fill could no longer reach them);
//! - `Cdn`: capacity, TTL, origin, cacheable classes;
//! - `Database` and `Replica`: connection limit (below the connections in
//!   use, those finish and none is granted until under it; above, pools and
//!   poolers short of connections open them at once and serve their
//!   waiters), write time, idempotency, failover, lag, primary;
//! - `Pooler`: connections, and its database (connections move);
//! - `App`: instances, workers, queue, pool, call policy, autoscaling, and
//!   handlers (requests already there finish with the handlers they arrived
//!   under); see `kinds::app::retune`;
//! - `Queue`: workers and capacity (servers and queue), visibility timeout
//!   (messages taken from now), deliveries, backoff, dead-lettering,
//!   idempotency;
//! - `RateLimiter` and `ObjectStore`: rate and burst (tokens kept, clamped
//!   to the new burst), target, prefixes; a new algorithm or counting
//!   starts fresh;
//! - `ShardRouter`: shards, scheme, count in use (it holds no request:
//!   requests already sent finish at their shard, keys route anew);
//! - `Station`: only the settings every kind has.
//!
//! A node's settings that apply only at the start (a cache's `warm`) change
//! nothing while it runs. A node removed gives its pool's connections back.
//!
//! Sources, request classes and regions change live too (their indices
//! stable the same way; see `restructure_sources.rs`). A retired node's
//! periodic events (a balancer's health checks, an app's autoscaler) fire
//! once more and do not come back.
//!
//! Building the stable model from an edited topology is the topology
//! job of `bottleneck::live`; the engine checks it and applies it.

use super::{Change, ControlError, KindState, NodeState, Simulation, routes_of};
use crate::kinds::KindModel;
use crate::metrics::{Level, Series};
use crate::model::Model;

/// A structural edit as the engine applies it.
#[derive(Clone, Debug)]
pub struct Restructure {
    /// The model after the edit, in stable order (see the module's docs).
    pub model: Box<Model>,
    /// Nodes the edit removes (indices into the current model).
    pub retire: Vec<u32>,
    /// Sources the edit removes (indices into the current model).
    pub retire_sources: Vec<u32>,
    /// The edited topology as people wrote it (RON), for saved sessions.
    pub topology: String,
    /// What the edit was, for the timeline.
    pub what: String,
}

/// In a report's list of changes: what the edit was and the nodes it
/// removed (the edited topology is in the saved session).
impl serde::Serialize for Restructure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Restructure", 3)?;
        st.serialize_field("what", &self.what)?;
        st.serialize_field("removed", &self.retire)?;
        if !self.retire_sources.is_empty() {
            st.serialize_field("removed_sources", &self.retire_sources)?;
        }
        st.end()
    }
}

impl PartialEq for Restructure {
    fn eq(&self, other: &Self) -> bool {
        self.topology == other.topology
            && self.retire == other.retire
            && self.retire_sources == other.retire_sources
            && self.what == other.what
    }
}

/// What a structural edit did, by node index (indices are stable: a node
/// that persists keeps its own).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Remap {
    /// New nodes (cold).
    pub added: Vec<usize>,
    /// Nodes removed (retired: down for good, their work failed).
    pub removed: Vec<usize>,
    /// Persisting nodes whose settings changed in place.
    pub updated: Vec<usize>,
    /// New sources (starting now).
    pub sources_added: Vec<usize>,
    /// Sources removed (retired: silent for good).
    pub sources_removed: Vec<usize>,
    /// Persisting sources whose settings changed in place.
    pub sources_updated: Vec<usize>,
}

/// True when a persisting node whose kind's settings go from `old` to
/// `new` takes the change in place, keeping its state: every edit that
/// keeps its kind (each kind's `retune` says how its edited settings apply;
/// see the module's docs). A node whose kind changes is replaced (retired,
/// and the new one appended cold).
pub fn updates_in_place(old: &KindModel, new: &KindModel) -> bool {
    std::mem::discriminant(old) == std::mem::discriminant(new)
}

fn refuse(message: String, hint: &str) -> ControlError {
    ControlError {
        message,
        hint: hint.to_string(),
    }
}

impl Simulation {
    /// Nodes removed by structural edits (kept, renamed, down for good).
    pub fn retired(&self) -> &[bool] {
        &self.retired
    }

    /// Applies a structural edit now, keeping the clock and the state of
    /// every node that persists (see the module's docs), and records it.
    pub fn restructure(&mut self, r: Restructure) -> Result<Remap, ControlError> {
        let remap = self.check_restructure(&r)?;
        self.apply_restructure(&r);
        self.log.push(super::AppliedChange {
            at: crate::time::Duration(self.now),
            after_events: self.events,
            change: Change::Restructure(Box::new(r)),
        });
        Ok(remap)
    }

    /// Checks that `r` keeps every index, and says what it does.
    pub(crate) fn check_restructure(&self, r: &Restructure) -> Result<Remap, ControlError> {
        let (old, new) = (&self.model, &*r.model);
        let n = old.nodes.len();
        if new.nodes.len() < n {
            return Err(refuse(
                format!(
                    "the edited model has {} nodes, fewer than the {n} running",
                    new.nodes.len()
                ),
                "removed nodes stay in the model, retired (bottleneck::live builds it)",
            ));
        }
        let mut remap = Remap::default();
        for i in 0..n {
            let (a, b) = (&old.nodes[i], &new.nodes[i]);
            let gone = r.retire.contains(&(i as u32));
            if a.kind() != b.kind() || (a.id != b.id && !gone && !self.retired[i]) {
                return Err(refuse(
                    format!(
                        "node {i} is `{}` ({}) running and `{}` ({}) in the edit",
                        a.id,
                        a.kind_name(),
                        b.id,
                        b.kind_name()
                    ),
                    "a node keeps its index, kind and id; replace it by retiring it",
                ));
            }
            if gone && self.retired[i] {
                return Err(refuse(
                    format!("`{}` was removed already", a.id),
                    "retire a node once",
                ));
            }
            if gone {
                remap.removed.push(i);
            } else if !self.retired[i] && !updates_in_place(&a.kind, &b.kind) {
                return Err(refuse(
                    format!("`{}` cannot take this edit in place", a.id),
                    "replace it: retire it and append the edited node",
                ));
            } else if !self.retired[i] && changed(a, b) {
                remap.updated.push(i);
            }
        }
        self.check_sources(r, &mut remap)?;
        remap.added = (n..new.nodes.len()).collect();
        Ok(remap)
    }

    /// Applies a checked structural edit.
    pub(crate) fn apply_restructure(&mut self, r: &Restructure) {
        let n = self.nodes.len();
        // Removed nodes crash: their work fails visibly, and they stay down.
        for &i in &r.retire {
            self.crash(i as usize);
            self.retired[i as usize] = true;
            self.release_connections(i as usize);
        }
        let old = std::mem::replace(&mut self.model, (*r.model).clone());
        let now = self.now;
        for i in 0..n {
            if self.retired[i] {
                continue;
            }
            self.update_node(i, &old);
        }
        self.apply_sources(r, &old);
        // New nodes, cold: their levels start now.
        let tracked = crate::kinds::tracked_primaries(&self.model);
        // A primary that replicas or read-your-writes reads now need
        // remembers writes from now.
        for &p in &tracked {
            if let Some(KindState::Database(d)) =
                self.nodes.get_mut(p as usize).map(|n| &mut n.kind)
                && d.last_write.is_none()
            {
                d.last_write = Some(Default::default());
            }
        }
        let cap = self.config.series_capacity;
        for i in n..self.model.nodes.len() {
            let mut st = NodeState::new(&self.model, i, self.config.seed, &tracked);
            st.stats.capacity = Level::new(0);
            st.stats.capacity.set(now, st.servers as u64);
            self.nodes.push(st);
            // Empty windows for the time before it existed, so that every
            // node's series covers the same windows.
            let mut series = Series::new(cap);
            for r in self.e2e_series.records() {
                series.push(crate::metrics::WindowRecord {
                    start: r.start,
                    ..Default::default()
                });
            }
            self.series.push(series);
            self.retired.push(false);
        }
        for i in n..self.nodes.len() {
            match self.nodes[i].kind {
                KindState::App(_) => self.app_start(i),
                KindState::Pooler(_) => self.pooler_start(i),
                KindState::LoadBalancer(_) => self.load_balancer_start(i),
                _ => {}
            }
        }
        self.has_regions = !self.model.regions.is_empty();
        // Replica lags or failovers may have changed.
        self.watch_lost_writes();
        // Scheduled changes naming a node that is gone would be refused.
        let model = &self.model;
        self.pending.retain(|p| p.change.check(model).is_ok());
        self.next_change = self.pending.first().map_or(u64::MAX, |p| p.at);
    }

    /// Persisting node `i` takes its new settings in place.
    fn update_node(&mut self, i: usize, old: &Model) {
        let (a, b) = (&old.nodes[i], &self.model.nodes[i]);
        if !changed(a, b) {
            return;
        }
        let b = b.clone();
        let n = &mut self.nodes[i];
        n.service = b.service.clone();
        n.load = b.load;
        n.routes = routes_of(&b);
        // Waits on call targets it did not call before.
        let targets = self.model.call_targets(i);
        let n = &mut self.nodes[i];
        let mut waits = std::mem::take(&mut n.stats.waits).into_vec();
        let mut at_warmup = std::mem::take(&mut n.stats.waits_at_warmup).into_vec();
        for t in targets {
            if !waits.iter().any(|(x, _)| *x == t) {
                waits.push((t, Level::new(0)));
                at_warmup.push(0);
            }
        }
        n.stats.waits = waits.into_boxed_slice();
        n.stats.waits_at_warmup = at_warmup.into_boxed_slice();
        match (&a.kind, &b.kind) {
            // An app's servers and queue follow its instances and workers.
            (KindModel::App(x), KindModel::App(y)) => self.app_retune(i, x, y),
            (KindModel::Pooler(x), KindModel::Pooler(y)) if x.to != y.to => {
                self.pooler_retarget(i, y.to, b.servers);
                self.set_queue(i, b.queue);
            }
            (old_kind, new_kind) => {
                if a.servers != b.servers {
                    self.kind_set_servers(i, b.servers);
                }
                self.set_queue(i, b.queue);
                self.kind_retune(i, old_kind, new_kind);
            }
        }
    }

    /// Node `i`'s queue limit (a live edit): waiting requests over a smaller
    /// limit stay; new arrivals are turned away until it is under it.
    fn set_queue(&mut self, i: usize, queue: Option<u32>) {
        self.nodes[i].queue_cap = queue.map_or(usize::MAX, |q| q as usize);
    }

    /// Node `i`'s kind takes its edited settings `new` (it ran `old`): the
    /// kind's own `retune`. Servers, queue, service, load and routes are
    /// the node's, and set already.
    fn kind_retune(&mut self, i: usize, old: &KindModel, new: &KindModel) {
        let now = self.now;
        match (old, new, &mut self.nodes[i].kind) {
            (_, KindModel::LoadBalancer(m), _) => {
                let m = m.clone();
                self.load_balancer_rewire(i, &m);
            }
            (_, KindModel::Cache(m), _) => self.cache_retune(i, m),
            (_, KindModel::Cdn(m), KindState::Cdn(c)) => c.retune(m),
            (_, KindModel::Queue(m), KindState::Queue(q)) => q.retune(m),
            (_, KindModel::RateLimiter(m), KindState::RateLimiter(l)) => l.retune(m, now),
            (_, KindModel::ObjectStore(m), KindState::ObjectStore(o)) => o.retune(m, now),
            (KindModel::ShardRouter(x), KindModel::ShardRouter(m), KindState::ShardRouter(s)) => {
                s.retune(&self.model, x, m)
            }
            (_, KindModel::Database(m), KindState::Database(d)) => {
                let before = d.max_connections;
                d.retune(m);
                self.connection_limit_changed(i, before);
            }
            (_, KindModel::Replica(m), KindState::Replica(r)) => {
                let before = r.max_connections;
                r.retune(m);
                self.connection_limit_changed(i, before);
            }
            // A station has no settings of its own; a pooler's are its
            // connections (servers) and its database (above); a replica
            // promoted to primary keeps the primary's settings.
            _ => {}
        }
    }
}

/// True if a persisting node's compiled settings differ.
fn changed(a: &crate::model::NodeModel, b: &crate::model::NodeModel) -> bool {
    a.kind != b.kind
        || a.servers != b.servers
        || a.queue != b.queue
        || a.service != b.service
        || a.routes != b.routes
        || a.load != b.load
}
