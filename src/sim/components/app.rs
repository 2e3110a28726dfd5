//! App node: a worker does the request's own work (`service`), then runs
//! the handler of its class step by step, holding the worker while each call
//! is out. A failed call fails the request (and its caller sees the failure).

use crate::model::StepModel;
use crate::sim::{KindState, Simulation, op, outcome};

impl Simulation {
    /// Runs `req`'s handler at app node `i` from where it stopped, until it
    /// sends a call (and waits) or ends.
    pub(crate) fn app_run(&mut self, i: usize, req: u32) {
        loop {
            let r = self.reqs[req];
            let KindState::App(handlers) = &self.nodes[i].kind else {
                unreachable!("app_run on an app")
            };
            let steps = &handlers[r.class as usize];
            let Some(&step) = steps.get(r.pc as usize) else {
                self.app_finish(i, req, outcome::OK);
                return;
            };
            match step {
                StepModel::Call(t)
                | StepModel::Read(t)
                | StepModel::Write(t)
                | StepModel::Invalidate(t) => {
                    if r.phase == 0 {
                        let op = match step {
                            StepModel::Read(_) => op::READ,
                            StepModel::Write(_) => op::WRITE,
                            StepModel::Invalidate(_) => op::DEL,
                            _ => op::CALL,
                        };
                        self.reqs[req].phase = 1;
                        self.call(req, t, op, false);
                        return;
                    }
                    if r.result == outcome::FAIL {
                        self.app_finish(i, req, outcome::FAIL);
                        return;
                    }
                }
                StepModel::Publish(q) => {
                    // Fire and forget: the workers take it from here.
                    self.call(req, q, op::CALL, true);
                }
                StepModel::CacheAside { cache, db } => match r.phase {
                    0 => {
                        self.reqs[req].phase = 1;
                        self.call(req, cache, op::GET, false);
                        return;
                    }
                    1 if r.result == outcome::OK => {}
                    1 => {
                        // A miss, or the cache failed: read the database.
                        self.reqs[req].phase = 2;
                        self.call(req, db, op::READ, false);
                        return;
                    }
                    _ if r.result == outcome::OK => self.call(req, cache, op::SET, true),
                    _ => {
                        self.release_fill(cache, req);
                        self.app_finish(i, req, outcome::FAIL);
                        return;
                    }
                },
                StepModel::ReadFresh {
                    replicas,
                    primary,
                    within,
                } => {
                    if r.phase == 0 {
                        let fresh = self
                            .last_write(primary, r.key)
                            .is_some_and(|w| self.now.saturating_sub(w) < within);
                        self.reqs[req].phase = 1;
                        self.call(req, if fresh { primary } else { replicas }, op::READ, false);
                        return;
                    }
                    if r.result == outcome::FAIL {
                        self.app_finish(i, req, outcome::FAIL);
                        return;
                    }
                }
                StepModel::FanOut {
                    to,
                    count,
                    hedge_after,
                } => {
                    if r.phase == 0 {
                        if !self.fanout_start(req, to, count, hedge_after) {
                            return;
                        }
                        let failed = self.fanout_end(req);
                        self.reqs[req].result = if failed { outcome::FAIL } else { outcome::OK };
                    }
                    if self.reqs[req].result == outcome::FAIL {
                        self.app_finish(i, req, outcome::FAIL);
                        return;
                    }
                }
            }
            let r = &mut self.reqs[req];
            r.pc += 1;
            r.phase = 0;
            r.result = outcome::OK;
        }
    }

    /// A single-flight leader that will not fill tells the cache, so the
    /// requests waiting on it are released (with a miss).
    fn release_fill(&mut self, cache: u32, req: u32) {
        if let KindState::Cache(c) = &self.nodes[cache as usize].kind
            && c.single_flight()
        {
            self.call(req, cache, op::DEL, true);
        }
    }

    /// The handler of `req` at app `i` is over.
    fn app_finish(&mut self, i: usize, req: u32, result: u8) {
        self.release(i);
        self.record_visit(i, req, result == outcome::OK);
        self.finish(req, result);
    }

    /// A call made by `parent` (waiting at an app or a CDN edge) has been answered.
    pub(crate) fn resume(&mut self, parent: u32, result: u8) {
        let p = self.reqs[parent];
        let i = p.node as usize;
        if self.nodes[i].epoch != p.epoch {
            // The app went down while this request waited: it was lost (its
            // worker was freed when the app went down).
            if let KindState::App(h) = &self.nodes[i].kind
                && let Some(StepModel::CacheAside { cache, .. }) =
                    h[p.class as usize].get(p.pc as usize)
                && p.phase == 2
            {
                let cache = *cache;
                self.release_fill(cache, parent);
            }
            if p.group != crate::sim::requests::NO_GROUP {
                self.fanout_end(parent);
            }
            self.drop_request(i, parent);
            return;
        }
        self.reqs[parent].result = result;
        if matches!(self.nodes[i].kind, KindState::Cdn(_)) {
            self.cdn_resume(i, parent, result);
        } else {
            self.app_run(i, parent);
        }
    }
}
