//! Database primary and read replicas.
//!
//! Both sit behind a connection limit: a query that finds every connection
//! in use (running or waiting for a core) is refused at once. A primary that
//! has replicas (or serves read-your-writes routing) remembers when each key
//! was last written; a replica read of a key whose latest write finished
//! before the user's request began, and less than the drawn replication lag
//! before the read was served, returns the old value: a stale read.

use super::cache_store::KeyMap;
use crate::dist::Sampler;
use crate::rng::Stream;
use crate::sim::{Event, KindState, Simulation, op, outcome};
use crate::time::SimTime;

/// A database primary's own state.
#[derive(Clone, Debug)]
pub struct DbState {
    /// Connection limit.
    pub max_connections: u32,
    /// Write time.
    pub write: Sampler,
    /// When each key was last written (kept only when replicas need it).
    pub last_write: Option<KeyMap<SimTime>>,
    /// Deduplicate writes by idempotency key.
    pub idempotent: bool,
    /// Side effects applied recently, and when (kept for `EFFECT_WINDOW`).
    applied: KeyMap<SimTime>,
    purge_at: usize,
    /// Writes that applied a side effect a second time (a double charge).
    pub duplicates: u64,
    /// Repeated writes recognised by their idempotency key and not applied.
    pub deduplicated: u64,
    /// Connections held open by pools and poolers.
    pub open: u32,
    /// Failover settings: (replica, after ns, synchronous).
    pub failover: Option<(u32, u64, bool)>,
    /// When it went down (for the writes lost at failover).
    pub down_since: Option<SimTime>,
    /// The replica that took over, once promoted.
    pub promoted_to: Option<u32>,
    /// Writes lost at failover (the replica had not received them).
    pub lost_writes: u64,
}

/// How long a database remembers applied side effects (idempotency keys
/// expire like real ones do): 10 minutes of simulated time.
pub const EFFECT_WINDOW: u64 = 600 * crate::time::SEC;

impl DbState {
    /// A primary's state.
    pub fn new(max_connections: u32, write: Sampler, track_writes: bool, idempotent: bool) -> Self {
        DbState {
            max_connections,
            write,
            last_write: track_writes.then(Default::default),
            idempotent,
            applied: KeyMap::default(),
            purge_at: 4096,
            duplicates: 0,
            deduplicated: 0,
            open: 0,
            failover: None,
            down_since: None,
            promoted_to: None,
            lost_writes: 0,
        }
    }

    /// Applies write `effect` at `now`, counting repeats.
    fn apply(&mut self, effect: u64, now: SimTime, counted: bool) {
        if self.applied.len() >= self.purge_at {
            // Forget effects older than the window (order does not matter).
            self.applied
                .retain(|_, t| now.saturating_sub(*t) < EFFECT_WINDOW);
            self.purge_at = (2 * self.applied.len()).max(4096);
        }
        match self.applied.get(&effect) {
            Some(_) if self.idempotent => {
                if counted {
                    self.deduplicated += 1;
                }
            }
            Some(_) => {
                if counted {
                    self.duplicates += 1;
                }
            }
            None => {
                self.applied.insert(effect, now);
            }
        }
    }
}

/// A read replica's own state.
#[derive(Clone, Debug)]
pub struct ReplicaState {
    /// Its primary.
    pub primary: u32,
    /// Connection limit.
    pub max_connections: u32,
    /// Replication lag.
    pub lag: Sampler,
    rng: Stream,
    /// Reads served (after the warm-up).
    pub reads: u64,
    /// Of those, stale.
    pub stale: u64,
    /// Sum of the lags drawn, ns.
    pub lag_sum: u128,
    /// Connections held open by pools and poolers.
    pub open: u32,
}

impl ReplicaState {
    /// A replica of `primary`.
    pub fn new(primary: u32, max_connections: u32, lag: Sampler, rng: Stream) -> Self {
        ReplicaState {
            primary,
            max_connections,
            lag,
            rng,
            reads: 0,
            stale: 0,
            lag_sum: 0,
            open: 0,
        }
    }
}

impl Simulation {
    /// A pool that held `had` connections to `target` now wants `wanted`:
    /// a database or replica grants what its connection limit leaves (and
    /// takes back what is released); anything else accepts all.
    pub(crate) fn open_connections(&mut self, target: u32, had: u32, wanted: u32) -> u32 {
        let (open, max) = match &mut self.nodes[target as usize].kind {
            KindState::Database(d) => (&mut d.open, d.max_connections),
            KindState::Replica(r) => (&mut r.open, r.max_connections),
            _ => return wanted,
        };
        *open -= had.min(*open);
        let granted = wanted.min(max.saturating_sub(*open));
        *open += granted;
        granted
    }

    /// Primary `i` went down: schedule its failover, if it has one.
    pub(crate) fn db_went_down(&mut self, i: usize) {
        let now = self.now;
        if let KindState::Database(d) = &mut self.nodes[i].kind
            && d.promoted_to.is_none()
        {
            d.down_since = Some(now);
            if let Some((_, after, _)) = d.failover {
                self.queue
                    .push(now.saturating_add(after), Event::Promote { node: i as u32 });
            }
        }
    }

    /// Promotes the replica of dead primary `i`: it becomes a primary (with
    /// the old one's write time and settings) and takes its traffic; other
    /// replicas follow it. Without synchronous replication, keys written in
    /// the replica's mean lag before the crash lose those writes.
    pub(crate) fn on_promote(&mut self, i: usize) {
        let KindState::Database(d) = &self.nodes[i].kind else {
            return;
        };
        if !self.nodes[i].down || d.promoted_to.is_some() {
            return; // back up in time, or already done
        }
        let Some((to, _, synchronous)) = d.failover else {
            return;
        };
        let KindState::Replica(rep) = &self.nodes[to as usize].kind else {
            return;
        };
        let lag = rep.lag.mean();
        let crash = d.down_since.unwrap_or(self.now);
        let lost = if synchronous {
            0
        } else {
            d.last_write.as_ref().map_or(0, |w| {
                w.values()
                    .filter(|&&t| t <= crash && (crash - t) as f64 <= lag)
                    .count() as u64
            })
        };
        let promoted = DbState {
            max_connections: rep.max_connections,
            write: d.write.clone(),
            last_write: d.last_write.clone(),
            idempotent: d.idempotent,
            applied: KeyMap::default(),
            purge_at: 4096,
            duplicates: 0,
            deduplicated: 0,
            open: rep.open,
            failover: None,
            down_since: None,
            promoted_to: None,
            lost_writes: 0,
        };
        self.nodes[to as usize].kind = KindState::Database(Box::new(promoted));
        if let KindState::Database(d) = &mut self.nodes[i].kind {
            d.promoted_to = Some(to);
            d.lost_writes = lost;
        }
        for n in &mut self.nodes {
            if let KindState::Replica(r) = &mut n.kind
                && r.primary == i as u32
            {
                r.primary = to;
            }
        }
    }

    /// When `key` was last written at database `db`, if it tracks writes.
    pub(crate) fn last_write(&self, db: u32, key: u64) -> Option<SimTime> {
        match &self.nodes[db as usize].kind {
            KindState::Database(d) => d.last_write.as_ref()?.get(&key).copied(),
            _ => None,
        }
    }

    /// Database `i` has run `req`'s query.
    pub(crate) fn db_done(&mut self, i: usize, req: u32) {
        let r = self.reqs[req];
        let now = self.now;
        let counted = self.counts(r.visit_arrival);
        if r.op == op::WRITE
            && let KindState::Database(d) = &mut self.nodes[i].kind
        {
            d.apply(r.effect, now, counted);
            if let Some(w) = &mut d.last_write {
                w.insert(r.key, now);
            }
        }
        self.release(i);
        self.record_visit(i, req, true);
        self.finish(req, outcome::OK);
    }

    /// Replica `i` has run `req`'s read: was it stale?
    pub(crate) fn replica_done(&mut self, i: usize, req: u32) {
        let now = self.now;
        let r = self.reqs[req];
        let counted = self.counts(r.visit_arrival);
        let KindState::Replica(rep) = &self.nodes[i].kind else {
            unreachable!("replica_done on a replica")
        };
        let written = self.last_write(rep.primary, r.key);
        let KindState::Replica(rep) = &mut self.nodes[i].kind else {
            unreachable!()
        };
        let lag = rep.lag.sample(&mut rep.rng);
        if counted {
            rep.reads += 1;
            rep.lag_sum += lag as u128;
            // Stale: the latest write finished before the user's request
            // began (a write during it is concurrent, either answer is
            // right) and less than the lag before the read was served.
            if written.is_some_and(|w| w <= r.born && now.saturating_sub(w) < lag) {
                rep.stale += 1;
            }
        }
        self.release(i);
        self.record_visit(i, req, true);
        self.finish(req, outcome::OK);
    }
}
