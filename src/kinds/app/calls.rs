//! An app's call policy: a timeout per call, retries of failed single
//! calls with backoff and a retry budget, and a circuit breaker per target.

use crate::kinds::KindState;
use crate::kinds::app::StepModel;
use crate::sim::{Event, Simulation, outcome};

/// An app's call policy at run time: timeouts, retries, a breaker per
/// target, and what they did.
#[derive(Clone, Debug)]
pub struct CallsState {
    /// The policy (timeout, retries, backoff, jitter, budget, breaker).
    pub policy: crate::model::ClientModel,
    breakers: Vec<(u32, crate::sim::SourceBreaker)>,
    rng: crate::rng::Stream,
    pub(crate) budget: crate::sim::source::RetryBudget,
    /// Calls retried (after the warm-up).
    pub retries: u64,
    /// Calls that timed out.
    pub timeouts: u64,
    /// Calls failed at once by an open breaker.
    pub short_circuited: u64,
    /// Times breakers forgotten by a live edit had opened.
    opened_before: u64,
}

impl CallsState {
    /// For `policy`, with its own random stream for backoff jitter.
    pub fn new(policy: crate::model::ClientModel, rng: crate::rng::Stream) -> Self {
        CallsState {
            budget: crate::sim::source::RetryBudget::new(&policy),
            policy,
            breakers: Vec::new(),
            rng,
            retries: 0,
            timeouts: 0,
            short_circuited: 0,
            opened_before: 0,
        }
    }

    pub(crate) fn breaker(&mut self, target: u32) -> Option<&mut crate::sim::SourceBreaker> {
        let cfg = self.policy.breaker?;
        let i = match self.breakers.iter().position(|(t, _)| *t == target) {
            Some(i) => i,
            None => {
                self.breakers
                    .push((target, crate::sim::SourceBreaker::new(cfg)));
                self.breakers.len() - 1
            }
        };
        Some(&mut self.breakers[i].1)
    }

    /// Forgets every breaker (new ones start closed, with the policy's
    /// settings); the times they opened stay counted.
    pub(crate) fn clear_breakers(&mut self) {
        let opened = self.trips();
        self.breakers.clear();
        self.opened_before += opened;
    }

    /// Times the breakers opened.
    pub fn trips(&self) -> u64 {
        self.opened_before + self.breakers.iter().map(|(_, b)| b.opened).sum::<u64>()
    }

    pub(crate) fn backoff(&mut self, n: u32, prev: u64) -> u64 {
        crate::sim::source::backoff(&self.policy, n, prev, &mut self.rng)
    }
}

impl Simulation {
    /// The timeout of `req`'s call `call` fired: if it still waits for that
    /// call, it stops waiting (a later answer is ignored) and sees a failure.
    pub(crate) fn on_call_timeout(&mut self, req: u32, serial: u32, call: u32) {
        if !self.reqs.is(req, serial) || self.reqs[req].call != call {
            return;
        }
        self.reqs[req].call = 0;
        let i = self.reqs[req].node as usize;
        if self.counts(self.reqs[req].visit_arrival)
            && let KindState::App(app) = &mut self.nodes[i].kind
            && let Some(c) = &mut app.calls
        {
            c.timeouts += 1;
        }
        self.resume(req, outcome::FAIL);
    }

    /// A failed call's backoff is over: try the step again.
    pub(crate) fn on_call_retry(&mut self, req: u32, serial: u32) {
        if !self.reqs.is(req, serial) {
            return;
        }
        let i = self.reqs[req].node as usize;
        if i >= self.nodes.len() || self.nodes[i].epoch != self.reqs[req].epoch {
            if i < self.nodes.len() {
                self.app_lost(i, req);
            }
            return;
        }
        self.app_run(i, req);
    }

    /// With a call policy: record the outcome in the target's breaker, and
    /// schedule a retry of a failed single call if allowed. True if a retry
    /// was scheduled (the request keeps its worker and waits).
    pub(crate) fn call_policy(&mut self, i: usize, req: u32, result: u8) -> bool {
        let now = self.now;
        let r = self.reqs[req];
        let counted = self.counts(r.visit_arrival);
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return false;
        };
        let single = matches!(
            app.steps(&r).get(r.pc as usize),
            Some(
                StepModel::Call(_)
                    | StepModel::Read(_)
                    | StepModel::Write(_)
                    | StepModel::Invalidate(_)
                    | StepModel::ReadFresh { .. }
            )
        );
        let Some(c) = &mut app.calls else {
            return false;
        };
        let mut open = false;
        if let Some(b) = c.breaker(r.call_target) {
            b.record(now, result != outcome::FAIL);
            open = b.is_open(now);
        }
        if result != outcome::FAIL {
            c.budget.on_success();
            return false;
        }
        if !single || open || (r.tries as u32) >= c.policy.retries {
            return false;
        }
        if !c.budget.try_retry(now, false) {
            return false;
        }
        if counted {
            c.retries += 1;
        }
        // (Decorrelated jitter grows from the request's last wait: the
        // step's previous call retry.)
        let wait = c.backoff(r.tries as u32 + 1, r.slept);
        let w = &mut self.reqs[req];
        w.slept = wait;
        w.tries += 1;
        w.phase = 0;
        let serial = w.serial;
        self.queue
            .push(now.saturating_add(wait), Event::CallRetry { req, serial });
        true
    }
}
