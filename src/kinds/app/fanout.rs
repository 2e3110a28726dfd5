//! Fan-out (scatter-gather) with optional hedging, for app handlers.
//!
//! A request that fans out sends `count` calls at once and waits for every
//! answer, so its latency is the slowest of them: with 100 calls and a 1%
//! slow path, 63% of requests are slow (1 - 0.99^100), the "tail at scale".
//! Hedging sends a second copy of each call still out after `hedge_after`
//! and takes whichever answer comes first; the other copy still does its
//! work, and its answer is ignored.
//!
//! Legs are tracked in a slot from a reusable pool; a slot's round number
//! changes on every use, so a late answer from an earlier round is ignored.

use crate::model::StepModel;
use crate::sim::requests::NO_FANOUT;
use crate::sim::{Event, KindState, Simulation, op, outcome};

/// One fan-out in progress.
#[derive(Clone, Debug, Default)]
pub(crate) struct FanOutSlot {
    /// The request that fanned out.
    owner: u32,
    round: u32,
    /// Answered legs.
    done: Vec<bool>,
    outstanding: u32,
    failed: bool,
    hedged: bool,
}

fn group(slot: u32, round: u32) -> u64 {
    ((round as u64) << 32) | slot as u64
}

impl Simulation {
    /// Starts the fan-out step of `req` at app `i`. Returns true when it is
    /// already over (every leg answered at once), false when it waits.
    pub(crate) fn fanout_start(&mut self, req: u32, to: u32, count: u16, hedge_after: u64) -> bool {
        let slot = match self.fanout_free.pop() {
            Some(s) => s,
            None => {
                self.fanouts.push(FanOutSlot::default());
                (self.fanouts.len() - 1) as u32
            }
        };
        let f = &mut self.fanouts[slot as usize];
        f.owner = req;
        f.round = f.round.wrapping_add(1);
        f.done.clear();
        f.done.resize(count as usize, false);
        f.outstanding = count as u32;
        f.failed = false;
        f.hedged = false;
        let g = group(slot, f.round);
        let r = &mut self.reqs[req];
        r.fanout = slot;
        r.phase = 1; // issuing: answers only count, they do not resume
        let serial = r.serial;
        if hedge_after != u64::MAX {
            self.queue.push(
                self.now.saturating_add(hedge_after),
                Event::Hedge {
                    req,
                    serial,
                    round: self.fanouts[slot as usize].round,
                },
            );
        }
        let at = self.reqs[req].node as usize;
        self.wait_begin(at, req, Some(to));
        for leg in 0..count {
            self.call_leg(req, to, g, leg);
        }
        self.reqs[req].phase = 2;
        self.fanouts[slot as usize].outstanding == 0
    }

    fn call_leg(&mut self, parent: u32, to: u32, g: u64, leg: u16) {
        let p = self.reqs[parent];
        if self.partitioned(p.node as usize, to as usize) {
            self.fanout_answer(g, leg, outcome::FAIL);
            return;
        }
        let mut c = self.child_of(parent, to, op::CALL, parent);
        c.group = g;
        c.leg = leg;
        let id = self.reqs.alloc(c);
        let lat = if self.has_regions {
            self.hop_latency(Some(p.node as usize), to as usize, id)
        } else {
            0
        };
        self.deliver(to as usize, id, lat);
    }

    /// Frees the fan-out slot of `req` and tells whether a leg failed.
    pub(crate) fn fanout_end(&mut self, req: u32) -> bool {
        let slot = std::mem::replace(&mut self.reqs[req].fanout, NO_FANOUT);
        let f = &mut self.fanouts[slot as usize];
        f.round = f.round.wrapping_add(1);
        self.fanout_free.push(slot);
        f.failed
    }

    /// A leg answered (the caller frees the leg's request).
    pub(crate) fn fanout_answer(&mut self, g: u64, leg: u16, result: u8) {
        let (slot, round) = ((g & 0xffff_ffff) as usize, (g >> 32) as u32);
        let Some(f) = self.fanouts.get_mut(slot) else {
            return;
        };
        if f.round != round || f.done[leg as usize] {
            return; // a late copy, or its fan-out is over
        }
        f.done[leg as usize] = true;
        f.outstanding -= 1;
        if result == outcome::FAIL {
            f.failed = true;
        }
        let owner = f.owner;
        if f.outstanding == 0 && self.reqs[owner].phase == 2 {
            self.fanout_resume(owner);
        }
    }

    /// Every leg of `owner`'s fan-out has answered: carry on.
    fn fanout_resume(&mut self, owner: u32) {
        let i = self.reqs[owner].node as usize;
        let failed = self.fanout_end(owner);
        if self.nodes[i].epoch != self.reqs[owner].epoch {
            self.app_lost(i, owner);
            return;
        }
        self.reqs[owner].result = if failed { outcome::FAIL } else { outcome::OK };
        self.app_run(i, owner);
    }

    /// The hedge delay of `req`'s fan-out is over.
    pub(crate) fn on_hedge(&mut self, req: u32, serial: u32, round: u32) {
        if !self.reqs.is(req, serial)
            || self.reqs[req].phase != 2
            || self.reqs[req].fanout == NO_FANOUT
        {
            return;
        }
        let slot = self.reqs[req].fanout as usize;
        let g = group(slot as u32, self.fanouts[slot].round);
        let i = self.reqs[req].node as usize;
        let KindState::App(h) = &self.nodes[i].kind else {
            return;
        };
        let Some(StepModel::FanOut { to, .. }) =
            h.steps(&self.reqs[req]).get(self.reqs[req].pc as usize)
        else {
            return;
        };
        let to = *to;
        if self.fanouts[slot].hedged || self.fanouts[slot].round != round {
            return;
        }
        self.fanouts[slot].hedged = true;
        self.reqs[req].phase = 1;
        for leg in 0..self.fanouts[slot].done.len() {
            if !self.fanouts[slot].done[leg] {
                self.call_leg(req, to, g, leg as u16);
            }
        }
        self.reqs[req].phase = 2;
        if self.fanouts[slot].outstanding == 0 {
            self.fanout_resume(req);
        }
    }
}
