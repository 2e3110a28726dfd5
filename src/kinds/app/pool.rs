//! An app's connection pool: connections per instance to one target,
//! opened as far as the target's connection limit allows; calls wait for a
//! free one.

use crate::kinds::KindState;
use crate::sim::Simulation;
use crate::sim::requests::{POOL_GRANTED, POOLED};
use std::collections::VecDeque;

/// An app's connection pool (all instances together).
#[derive(Clone, Debug)]
pub struct PoolState {
    /// The node whose calls use it.
    pub target: u32,
    /// Connections per instance.
    pub per_instance: u32,
    /// Connections in use.
    pub in_use: u32,
    /// Connections open (what the target granted).
    pub granted: u32,
    /// Calls that failed because their instance had no connection.
    pub refused: u64,
    /// Requests waiting for a connection.
    pub waiters: VecDeque<u32>,
    /// Calls that had to wait for a connection (after the warm-up).
    pub waited: u64,
}

impl PoolState {
    /// An empty pool for `m`.
    pub(crate) fn new(m: super::PoolModel) -> Self {
        PoolState {
            target: m.target,
            per_instance: m.per_instance,
            in_use: 0,
            granted: 0,
            refused: 0,
            waiters: VecDeque::new(),
            waited: 0,
        }
    }
}

impl Simulation {
    /// Keeps app `i`'s pool levels (connections in use, open) in step with
    /// its pool, for the pool's utilization.
    pub(crate) fn pool_levels(&mut self, i: usize) {
        let now = self.now;
        let n = &mut self.nodes[i];
        let (busy, open) = match &n.kind {
            // Connections a retune carried over may exceed those open.
            KindState::App(app) => app
                .pool
                .as_ref()
                .map_or((0, 0), |p| (p.in_use.min(p.granted), p.granted)),
            _ => (0, 0),
        };
        n.stats.pool_busy.set(now, busy as u64);
        n.stats.pool_open.set(now, open as u64);
    }

    /// Opens (or closes) pool connections of app `i` to match its
    /// instances: the pool's target, if a database, grants what its
    /// connection limit leaves.
    pub(crate) fn pool_resize(&mut self, i: usize) {
        let KindState::App(app) = &self.nodes[i].kind else {
            return;
        };
        let Some(pool) = &app.pool else {
            self.pool_levels(i);
            return;
        };
        let (target, wanted, had) = (
            pool.target,
            pool.per_instance.saturating_mul(app.instances),
            pool.granted,
        );
        let granted = self.open_connections(target, had, wanted);
        if let KindState::App(app) = &mut self.nodes[i].kind
            && let Some(pool) = &mut app.pool
        {
            pool.granted = granted;
        }
        self.pool_levels(i);
    }

    /// A pooled call of `req` at app `i` is over: its connection goes to the
    /// next waiter, if any.
    pub(crate) fn pool_release(&mut self, i: usize, req: u32) {
        self.reqs[req].flags &= !POOLED;
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return;
        };
        let Some(pool) = &mut app.pool else {
            return;
        };
        pool.in_use -= 1;
        let next = if pool.in_use < pool.granted {
            pool.waiters.pop_front()
        } else {
            None
        };
        if next.is_some() {
            pool.in_use += 1;
        }
        self.pool_levels(i);
        if let Some(w) = next {
            self.reqs[w].flags |= POOL_GRANTED;
            if self.reqs[w].epoch != self.nodes[i].epoch {
                // Lost when the app went down: give the connection back.
                self.reqs[w].flags &= !POOL_GRANTED;
                self.reqs[w].flags |= POOLED;
                self.pool_release(i, w);
                self.app_lost(i, w);
                return;
            }
            self.app_run(i, w);
        }
    }

    /// Sets the number of instances of app `i` (workers, queue and pool follow).
    pub(crate) fn set_instances(&mut self, i: usize, n: u32) {
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return;
        };
        app.instances = n;
        let (workers, queue_per) = (app.workers, app.queue_per);
        self.nodes[i].queue_cap = queue_per.map_or(usize::MAX, |q| q as usize * n as usize);
        self.set_servers(i, workers.saturating_mul(n));
        self.pool_resize(i);
        self.pool_serve_waiters(i);
    }

    /// A larger pool of app `i` serves its waiters now, as far as its free
    /// connections go.
    pub(crate) fn pool_serve_waiters(&mut self, i: usize) {
        loop {
            let KindState::App(app) = &mut self.nodes[i].kind else {
                return;
            };
            let Some(pool) = &mut app.pool else {
                return;
            };
            if pool.in_use >= pool.granted {
                return;
            }
            let Some(w) = pool.waiters.pop_front() else {
                return;
            };
            pool.in_use += 1;
            self.pool_levels(i);
            self.reqs[w].flags |= POOL_GRANTED;
            if self.reqs[w].epoch != self.nodes[i].epoch {
                // Lost when the app went down: give the connection back.
                self.reqs[w].flags &= !POOL_GRANTED;
                self.reqs[w].flags |= POOLED;
                self.pool_release(i, w);
                self.app_lost(i, w);
                continue;
            }
            self.app_run(i, w);
        }
    }
}
