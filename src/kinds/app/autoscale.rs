//! An app's autoscaler: it looks at the utilization since its last look
//! and asks for `ceil(instances x utilization / target)` instances.

use crate::kinds::KindState;
use crate::metrics::Areas;
use crate::sim::{Event, Simulation};
use crate::time::SimTime;

/// An app's autoscaler.
#[derive(Clone, Debug)]
pub struct AutoscaleState {
    target: f64,
    min: u32,
    max: u32,
    /// Interval between looks, ns.
    pub every: u64,
    provision: u64,
    cooldown: u64,
    /// Instances being started.
    pub pending: u32,
    last_up: Option<SimTime>,
    last: Areas,
    /// Scale-ups and scale-downs so far.
    pub actions: u64,
}

impl AutoscaleState {
    /// An autoscaler for `m`, before its first look.
    pub(crate) fn new(m: super::AutoscaleModel) -> Self {
        AutoscaleState {
            target: m.target,
            min: m.min,
            max: m.max,
            every: m.every,
            provision: m.provision,
            cooldown: m.cooldown,
            pending: 0,
            last_up: None,
            last: Areas::default(),
            actions: 0,
        }
    }

    /// Takes edited settings while running (a live edit), keeping what it
    /// measured, the instances it is starting and its cooldown: the new
    /// target and bounds apply at its next look (already scheduled), the
    /// new interval after it, the new provisioning time to instances asked
    /// for from now.
    pub(crate) fn retune(&mut self, m: super::AutoscaleModel) {
        self.target = m.target;
        self.min = m.min;
        self.max = m.max;
        self.every = m.every;
        self.provision = m.provision;
        self.cooldown = m.cooldown;
    }
}

impl Simulation {
    /// The autoscaler of app `i` takes a look.
    pub(crate) fn on_autoscale(&mut self, i: usize) {
        if self.retired[i] {
            return; // a removed app's autoscaler stops
        }
        let now = self.now;
        let areas = self.nodes[i].stats.areas(now);
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return;
        };
        let Some(a) = &mut app.autoscale else {
            // Turned off by a live edit: no more looks.
            app.looking = false;
            return;
        };
        let busy = areas.busy - a.last.busy;
        let cap = areas.capacity - a.last.capacity;
        a.last = areas;
        let util = if cap == 0 {
            0.0
        } else {
            busy as f64 / cap as f64
        };
        let current = app.instances;
        let desired = ((current as f64 * util / a.target).ceil() as u32).clamp(a.min, a.max);
        let every = a.every;
        if desired > current + a.pending {
            let more = desired - current - a.pending;
            a.pending += more;
            a.actions += 1;
            a.last_up = Some(now);
            let at = now.saturating_add(a.provision);
            self.queue.push(
                at,
                Event::Provisioned {
                    node: i as u32,
                    count: more,
                },
            );
        } else if desired < current
            && a.last_up
                .is_none_or(|t| now.saturating_sub(t) >= a.cooldown)
            && a.pending == 0
        {
            a.actions += 1;
            self.set_instances(i, desired);
        }
        self.queue.push(
            now.saturating_add(every),
            Event::Autoscale { node: i as u32 },
        );
    }

    /// New instances of app `i` are up.
    pub(crate) fn on_provisioned(&mut self, i: usize, count: u32) {
        if self.retired[i] {
            return;
        }
        let KindState::App(app) = &mut self.nodes[i].kind else {
            return;
        };
        let Some(a) = &mut app.autoscale else {
            return;
        };
        // (Saturating: autoscaling turned off and on again by live edits
        // forgets what it was starting, which still arrives.)
        a.pending = a.pending.saturating_sub(count);
        let n = app.instances + count;
        self.set_instances(i, n);
    }
}
