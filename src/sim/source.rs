//! A traffic source at run time: draws the instant of its next request.

use crate::model::SourceModel;
use crate::profile::Profile;
use crate::rng::{Purpose, Stream};
use crate::time::SimTime;

/// A source's run-time state.
#[derive(Clone, Debug)]
pub struct SourceState {
    /// Node its requests enter.
    pub to: u32,
    /// Base rate, requests per second.
    pub rps: f64,
    /// Rate over time.
    pub profile: Profile,
    /// Bumped when the rate changes, so a pending arrival drawn at the old
    /// rate is ignored.
    pub epoch: u32,
    constant: bool,
    arrivals: Stream,
    thinning: Stream,
}

impl SourceState {
    /// From the model, with streams derived from `seed`.
    pub fn new(m: &SourceModel, seed: u64) -> Self {
        SourceState {
            to: m.to as u32,
            rps: m.rps,
            constant: m.profile == Profile::Constant,
            profile: m.profile.clone(),
            epoch: 0,
            arrivals: Stream::new(seed, Purpose::Arrivals, &m.id),
            thinning: Stream::new(seed, Purpose::Thinning, &m.id),
        }
    }

    /// The next arrival at or after `from`, at the rate
    /// `profile(t) * multiplier`, or `None` if the source is silent forever.
    ///
    /// Non-homogeneous Poisson by thinning against the profile's piecewise
    /// bound; on stretches where the bound is exact no thinning draw is made.
    pub fn next_arrival(&mut self, from: SimTime, multiplier: f64) -> Option<SimTime> {
        if self.constant {
            let rate = self.rps * multiplier;
            if rate.is_nan() || rate <= 0.0 {
                return None;
            }
            return Some(from.saturating_add(gap(self.arrivals.exp1(), rate)));
        }
        let mut t = from;
        loop {
            if t == SimTime::MAX {
                return None;
            }
            let b = self.profile.bound(self.rps, t);
            let bound = b.rps * multiplier;
            if bound.is_nan() || bound <= 0.0 {
                if b.until == SimTime::MAX {
                    return None;
                }
                t = b.until;
                continue;
            }
            let cand = t.saturating_add(gap(self.arrivals.exp1(), bound));
            if cand >= b.until {
                // Past the stretch: restart from its end (memorylessness).
                t = b.until;
                continue;
            }
            if b.exact {
                return Some(cand);
            }
            let rate = self.profile.rate(self.rps, cand) * multiplier;
            if self.thinning.unit() * bound < rate {
                return Some(cand);
            }
            t = cand;
        }
    }
}

/// An exponential gap of `e` (a standard exponential draw) at `rate` per
/// second, in whole nanoseconds.
#[inline]
fn gap(e: f64, rate: f64) -> u64 {
    (e / rate * 1e9 + 0.5) as u64
}
