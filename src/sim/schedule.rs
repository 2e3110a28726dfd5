//! Changes that happen over time, owned by the engine: a change scheduled
//! for a later simulated time ([`Simulation::schedule`]), and the traffic
//! profiles (a ramp, a spike) that expand into scheduled traffic changes
//! ([`TrafficProfile`]). Scenarios and the sandbox both call these; no
//! front end expands a ramp or a spike itself.
//!
//! A scheduled change applies at exactly its time: once every event at or
//! before that time has run, before any later event (the same instant a
//! front end would apply it after `step_until(at)`). Changes due at the
//! same time apply in the order they were scheduled.

use super::{Change, ControlError, Simulation};
use crate::time::{Duration, SEC, SimTime};

/// Most traffic changes one ramp makes (one a second up to this).
pub const MAX_RAMP_STEPS: u64 = 600;

/// A change waiting for its simulated time.
#[derive(Clone, Debug, PartialEq)]
pub struct Scheduled {
    /// When it applies.
    pub at: SimTime,
    /// What it is.
    pub change: Change,
}

/// A shape of the traffic multiplier over time, from the current one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TrafficProfile {
    /// Move linearly to `to` over `over`, a step a second (at most
    /// [`MAX_RAMP_STEPS`] steps).
    Ramp {
        /// Multiplier at the end.
        to: f64,
        /// How long the ramp takes.
        over: Duration,
    },
    /// `times` the current traffic for `lasting`, then back.
    Spike {
        /// Multiplier on top of the current one.
        times: f64,
        /// How long it lasts.
        lasting: Duration,
    },
}

impl TrafficProfile {
    /// The traffic changes the profile makes when it starts at `at` from
    /// the multiplier `from`, in time order, and the multiplier it leaves.
    pub fn changes(&self, from: f64, at: SimTime) -> (Vec<(SimTime, f64)>, f64) {
        match *self {
            TrafficProfile::Ramp { to, over } => {
                let n = (over.0 / SEC).clamp(1, MAX_RAMP_STEPS);
                let steps = (1..=n)
                    .map(|k| {
                        let m = from + (to - from) * k as f64 / n as f64;
                        let dt = (over.0 as u128 * k as u128 / n as u128) as u64;
                        (at.saturating_add(dt), m)
                    })
                    .collect();
                (steps, to)
            }
            TrafficProfile::Spike { times, lasting } => {
                let peak = (from * times).min(super::MAX_TRAFFIC);
                (vec![(at, peak), (at.saturating_add(lasting.0), from)], from)
            }
        }
    }
}

impl Simulation {
    /// Schedules `change` for simulated time `at` (checked now, applied
    /// and recorded then; a time not after now applies it at once). Changes
    /// due together apply in the order they were scheduled.
    pub fn schedule(&mut self, at: SimTime, change: Change) -> Result<(), ControlError> {
        change.check(&self.model)?;
        if at <= self.now {
            return self.apply(change);
        }
        // After every change due at or before `at`: (time, insertion) order.
        let k = self.pending.partition_point(|p| p.at <= at);
        self.pending.insert(k, Scheduled { at, change });
        self.next_change = self.pending[0].at;
        Ok(())
    }

    /// Starts a traffic profile now: its changes are scheduled (one due now
    /// applies at once). Traffic changes scheduled before are cancelled
    /// first, so a new ramp replaces the rest of an old one.
    pub fn traffic_profile(&mut self, profile: TrafficProfile) -> Result<(), ControlError> {
        let from = self.multiplier;
        let (steps, _) = profile.changes(from, self.now);
        for &(_, m) in &steps {
            Change::Traffic(m).check(&self.model)?;
        }
        self.cancel_scheduled(|c| matches!(c, Change::Traffic(_)));
        for (at, m) in steps {
            self.schedule(at, Change::Traffic(m))?;
        }
        Ok(())
    }

    /// Cancels the scheduled changes `which` picks.
    pub fn cancel_scheduled(&mut self, mut which: impl FnMut(&Change) -> bool) {
        self.pending.retain(|p| !which(&p.change));
        self.next_change = self.pending.first().map_or(SimTime::MAX, |p| p.at);
    }

    /// The changes still waiting for their time, in the order they apply.
    pub fn scheduled(&self) -> &[Scheduled] {
        &self.pending
    }

    /// Scheduled changes refused when their time came (a node they name
    /// was removed meanwhile), with the reason.
    pub fn refused(&self) -> &[(SimTime, Change, ControlError)] {
        &self.refused
    }

    /// Applies the first scheduled change at its time.
    #[cold]
    pub(crate) fn apply_scheduled(&mut self) {
        let p = self.pending.remove(0);
        self.next_change = self.pending.first().map_or(SimTime::MAX, |p| p.at);
        self.step_until_no_events(p.at);
        if let Err(e) = self.apply(p.change.clone()) {
            self.refused.push((p.at, p.change, e));
        }
    }

    /// True when the first scheduled change is due before an event at
    /// `next` (or when no event is pending).
    #[inline]
    pub(crate) fn change_due(&self, next: Option<SimTime>, limit: SimTime) -> bool {
        self.next_change <= limit && next.is_none_or(|e| e > self.next_change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ramp_steps_once_a_second_and_a_spike_comes_back() {
        let (steps, end) = TrafficProfile::Ramp {
            to: 3.0,
            over: Duration(4 * SEC),
        }
        .changes(1.0, 10 * SEC);
        assert_eq!(end, 3.0);
        assert_eq!(
            steps,
            vec![
                (11 * SEC, 1.5),
                (12 * SEC, 2.0),
                (13 * SEC, 2.5),
                (14 * SEC, 3.0)
            ]
        );
        let (steps, end) = TrafficProfile::Spike {
            times: 10.0,
            lasting: Duration(SEC),
        }
        .changes(2.0, 0);
        assert_eq!(steps, vec![(0, 20.0), (SEC, 2.0)]);
        assert_eq!(end, 2.0);
        let (long, _) = TrafficProfile::Ramp {
            to: 2.0,
            over: Duration(3_600 * SEC),
        }
        .changes(1.0, 0);
        assert_eq!(long.len() as u64, MAX_RAMP_STEPS);
    }
}
