//! Failover of a primary: the promotion of a replica after the primary
//! dies, the requests that reach the dead primary afterwards (the promoted
//! replica's, counted there), and the writes lost at failover (every write
//! acknowledged within the promoted replica's lag before the crash).

use super::{DatabaseState, FailoverModel};
use crate::kinds::KindState;
use crate::kinds::cache::store::KeyMap;
use crate::sim::{Event, Simulation};
use std::collections::VecDeque;

impl DatabaseState {
    /// Remembers a write acknowledged at `now`, for the writes lost at
    /// failover: kept for `keep_writes` (the longest mean lag of the
    /// primary's replicas), then forgotten. Nothing kept without an
    /// asynchronous failover.
    #[inline]
    pub(super) fn remember_write(&mut self, now: u64) {
        if let Some(w) = &mut self.recent_writes {
            let from = now.saturating_sub(self.keep_writes);
            while w.front().is_some_and(|&t| t < from) {
                w.pop_front();
            }
            w.push_back(now);
        }
    }
}

impl Simulation {
    /// Every primary with an asynchronous failover remembers its recent
    /// writes for as long as its replicas' longest mean lag (at the start,
    /// and after a live edit, which may change lags or failovers).
    pub(crate) fn watch_lost_writes(&mut self) {
        for i in 0..self.nodes.len() {
            let KindState::Database(d) = &self.nodes[i].kind else {
                continue;
            };
            let watch = d.failover.is_some_and(|f| !f.synchronous);
            let keep = self
                .model
                .nodes
                .iter()
                .filter_map(|n| match &n.kind {
                    crate::kinds::KindModel::Replica(r) if r.primary == i as u32 => {
                        Some(r.lag.mean().ceil() as u64)
                    }
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            let KindState::Database(d) = &mut self.nodes[i].kind else {
                continue;
            };
            d.keep_writes = d.keep_writes.max(keep);
            if !watch {
                d.recent_writes = None;
            } else if d.recent_writes.is_none() {
                d.recent_writes = Some(VecDeque::new());
            }
        }
    }

    /// A query reaching primary `i`, which is down and has failed over,
    /// goes on to the promoted replica without a visit here: the replica
    /// is the primary now, and the request is its (counted there, not at
    /// the dead primary). False when there is nothing to redirect to, or a
    /// partition cuts the way (then it arrives here and fails, counted).
    #[cold]
    pub(crate) fn database_redirected(&mut self, i: usize, req: u32) -> bool {
        let KindState::Database(d) = &self.nodes[i].kind else {
            return false;
        };
        let Some(to) = d.promoted_to else {
            return false;
        };
        let to = to as usize;
        if self.partitioned(i, to) {
            return false;
        }
        let lat = if self.has_regions {
            self.hop_latency(Some(i), to, req)
        } else {
            0
        };
        self.deliver(to, req, lat);
        true
    }

    /// A query for primary `i`, which is down and has failed over, that a
    /// partition keeps from the promoted replica: it fails here.
    pub(crate) fn database_promoted(&mut self, i: usize, req: u32) {
        let KindState::Database(d) = &self.nodes[i].kind else {
            return;
        };
        let Some(to) = d.promoted_to else {
            return;
        };
        self.forward(i, to as usize, req);
    }

    /// Primary `i` went down: schedule its failover, if it has one.
    pub(crate) fn db_went_down(&mut self, i: usize) {
        let now = self.now;
        if let KindState::Database(d) = &mut self.nodes[i].kind
            && d.promoted_to.is_none()
        {
            d.down_since = Some(now);
            if let Some(f) = d.failover {
                self.queue.push(
                    now.saturating_add(f.after),
                    Event::Promote { node: i as u32 },
                );
            }
        }
    }

    /// Promotes the replica of dead primary `i`: it becomes a primary (with
    /// the old one's write time and settings) and takes its traffic; other
    /// replicas follow it. Without synchronous replication, the writes
    /// acknowledged in the replica's mean lag before the crash are lost
    /// (each write counted, not each key).
    pub(crate) fn on_promote(&mut self, i: usize) {
        let KindState::Database(d) = &self.nodes[i].kind else {
            return;
        };
        if !self.nodes[i].down || d.promoted_to.is_some() {
            return; // back up in time, or already done
        }
        let Some(FailoverModel {
            to, synchronous, ..
        }) = d.failover
        else {
            return;
        };
        // Only a replica that is up can take over: the one named, else the
        // first healthy replica of this primary; none, and nothing happens.
        let healthy = |j: usize| {
            !self.nodes[j].down
                && matches!(&self.nodes[j].kind, KindState::Replica(r) if r.primary == i as u32)
        };
        let Some(to) = std::iter::once(to as usize)
            .chain(0..self.nodes.len())
            .find(|&j| healthy(j))
            .map(|j| j as u32)
        else {
            if let KindState::Database(d) = &mut self.nodes[i].kind {
                d.failover_missed = Some(self.now);
            }
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
            d.recent_writes.as_ref().map_or(0, |w| {
                w.iter()
                    .filter(|&&t| t <= crash && (crash - t) as f64 <= lag)
                    .count() as u64
            })
        };
        let promoted = DatabaseState {
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
            failover_missed: None,
            recent_writes: None,
            keep_writes: 0,
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
}
