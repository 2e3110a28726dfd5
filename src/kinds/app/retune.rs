//! An app takes a live edit of its settings in place, keeping its requests,
//! workers, pool connections, breakers and counters.
//!
//! What applies when:
//! - **Handlers**: requests already at the app (queued, running or waiting
//!   on a call) finish with the handlers they arrived under; requests that
//!   arrive after the edit run the new ones. (A request's place in its
//!   handler, step and phase, only means something in the handler it
//!   started; the replaced handlers are kept until their last request is
//!   done, [`super::AppState::earlier`].)
//! - **Instances, workers, queue**: at once (workers above the new count
//!   finish their request; see `set_instances`).
//! - **Pool**: a new size opens or closes connections at once, and a larger
//!   pool serves its waiters. A new target (or a pool added or removed)
//!   gives the old target back its connections and opens the new ones;
//!   calls that hold an old connection finish on it and count against the
//!   pool until they do. Waiters of a removed pool make their calls at once.
//! - **Call policy**: a call already sent keeps the timeout it was sent
//!   with; the next decision to retry a failed call uses the new retries
//!   and backoff. Breakers and the retry budget keep their state unless
//!   their own settings change (then they start fresh: closed, full).
//! - **Autoscaling**: its next look (already scheduled) uses the new target
//!   and bounds; turned on, it looks one interval from now; turned off, it
//!   stops looking and instances being started are not added.

use super::{AppModel, AutoscaleState, CallsState, PoolState, StepModel};
use crate::kinds::KindState;
use crate::rng::{Purpose, Stream};
use crate::sim::Simulation;
use crate::sim::requests::{POOL_GRANTED, POOLED};

/// At most this many replaced handler sets are kept at once for requests
/// still running them (a request's mark is a byte).
const MAX_EARLIER: usize = u8::MAX as usize;

impl Simulation {
    /// App `i` takes its edited settings `new` (it ran `old`) in place.
    pub(crate) fn app_retune(&mut self, i: usize, old: &AppModel, new: &AppModel) {
        if old.handlers != new.handlers {
            self.app_new_handlers(i, &new.handlers);
        }
        if old.calls != new.calls {
            self.app_new_calls(i, new);
        }
        if old.autoscale != new.autoscale {
            let KindState::App(app) = &mut self.nodes[i].kind else {
                return;
            };
            match (&mut app.autoscale, new.autoscale) {
                (Some(a), Some(m)) => a.retune(m),
                (a, m) => *a = m.map(AutoscaleState::new),
            }
            self.autoscale_start(i);
        }
        if old.pool != new.pool {
            self.app_new_pool(i, old, new);
        }
        if old.instances == new.instances && old.workers == new.workers && old.queue == new.queue {
            return;
        }
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return;
        };
        app.queue_per = new.queue;
        if old.workers != new.workers {
            app.workers = new.workers;
        }
        // Instances: an edit of the count sets it; otherwise the running
        // count (autoscaled, or changed by `Instances`) stays.
        let n = if old.instances != new.instances {
            new.instances
        } else {
            app.instances
        };
        self.set_instances(i, n);
    }

    /// New handlers for app `i`: the requests there now keep theirs.
    fn app_new_handlers(&mut self, i: usize, handlers: &[Vec<StepModel>]) {
        let new: Box<[Box<[StepModel]>]> = handlers
            .iter()
            .map(|h| h.clone().into_boxed_slice())
            .collect();
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return;
        };
        // Slots of earlier handlers no request runs any more are free.
        let mut used = vec![false; app.earlier.len()];
        let mut here = 0usize;
        for r in self.reqs.iter().filter(|r| r.node == i as u32) {
            here += 1;
            if r.handlers > 0 {
                used[r.handlers as usize - 1] = true;
            }
        }
        for (slot, u) in app.earlier.iter_mut().zip(&used) {
            if !u {
                *slot = None;
            }
        }
        while app.earlier.last().is_some_and(Option::is_none) {
            app.earlier.pop();
        }
        let current = std::mem::replace(&mut app.handlers, new);
        if here == 0 {
            return;
        }
        let k = match app.earlier.iter().position(Option::is_none) {
            Some(k) => k,
            None if app.earlier.len() < MAX_EARLIER => {
                app.earlier.push(None);
                app.earlier.len() - 1
            }
            // Every slot is taken (255 edits while one request stayed): the
            // requests here run the new handlers.
            None => return,
        };
        app.earlier[k] = Some(current);
        let mark = (k + 1) as u8;
        for r in self.reqs.iter_mut() {
            if r.node == i as u32 && r.handlers == 0 {
                r.handlers = mark;
            }
        }
    }

    /// A new call policy for app `i`.
    fn app_new_calls(&mut self, i: usize, new: &AppModel) {
        let seed = self.config.seed;
        let id = &self.model.nodes[i].id;
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return;
        };
        match (&mut app.calls, &new.calls) {
            (Some(c), Some(p)) => c.retune(p.clone()),
            (c, p) => {
                *c = p
                    .clone()
                    .map(|p| CallsState::new(p, Stream::new(seed, Purpose::Retry, id)))
            }
        }
    }

    /// A new pool for app `i` (a new size, a new target, added or removed).
    fn app_new_pool(&mut self, i: usize, old: &AppModel, new: &AppModel) {
        let same_target =
            matches!((old.pool, new.pool), (Some(a), Some(b)) if a.target == b.target);
        if same_target {
            if let KindState::App(app) = &mut self.nodes[i].kind
                && let (Some(pool), Some(m)) = (&mut app.pool, new.pool)
            {
                pool.per_instance = m.per_instance;
            }
            self.pool_resize(i);
            self.pool_serve_waiters(i);
            return;
        }
        // The old target gets its connections back.
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return;
        };
        let gone = app.pool.take();
        if let Some(p) = &gone {
            self.open_connections(p.target, p.granted, 0);
        }
        // Calls that hold an old connection count against the new pool
        // until they finish (each gives back one when it does).
        let holding = self
            .reqs
            .iter()
            .filter(|r| r.node == i as u32 && r.flags & POOLED != 0)
            .count() as u32;
        if let KindState::App(app) = &mut self.nodes[i].kind {
            app.pool = new.pool.map(|m| {
                let mut p = PoolState::new(m);
                p.in_use = holding;
                if let Some(g) = &gone {
                    p.refused = g.refused;
                    p.waited = g.waited;
                }
                p
            });
        }
        self.pool_resize(i);
        // The old pool's waiters make their calls now (through the new
        // pool, if its target is what they call).
        if let Some(mut g) = gone {
            while let Some(w) = g.waiters.pop_front() {
                self.reqs[w].flags &= !POOL_GRANTED;
                if self.reqs[w].epoch != self.nodes[i].epoch {
                    self.app_lost(i, w);
                } else {
                    self.app_run(i, w);
                }
            }
        }
        self.pool_serve_waiters(i);
    }
}

impl CallsState {
    /// Takes an edited call policy (a live edit): breakers and the retry
    /// budget start fresh only if their own settings changed.
    pub(crate) fn retune(&mut self, policy: crate::model::ClientModel) {
        if policy.breaker != self.policy.breaker {
            self.clear_breakers();
        }
        if policy.budget != self.policy.budget || policy.limit != self.policy.limit {
            self.budget = crate::sim::source::RetryBudget::new(&policy);
        }
        self.policy = policy;
    }
}
