//! A traffic source at run time: draws the instant of its next request.

use crate::keys::KeySampler;
use crate::model::{ClientModel, SourceModel};
use crate::profile::Profile;
use crate::rng::{Purpose, Stream};
use crate::time::SimTime;
use crate::topology::Jitter;

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
    /// Timeout and retries of its clients.
    pub client: ClientModel,
    mix: Vec<(f64, u16)>,
    keys: Option<KeySampler>,
    constant: bool,
    arrivals: Stream,
    thinning: Stream,
    key_rng: Stream,
    retry_rng: Stream,
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
            client: m.client.clone(),
            mix: m.mix.clone(),
            keys: m.keys.clone(),
            arrivals: Stream::new(seed, Purpose::Arrivals, &m.id),
            thinning: Stream::new(seed, Purpose::Thinning, &m.id),
            key_rng: Stream::new(seed, Purpose::Keys, &m.id),
            retry_rng: Stream::new(seed, Purpose::Retry, &m.id),
        }
    }

    /// The class and key of a new request (no draw when there is nothing
    /// to choose, so plain topologies keep their streams).
    #[inline]
    pub fn draw_class_and_key(&mut self) -> (u16, u64) {
        let class = if self.mix.len() <= 1 {
            self.mix.first().map_or(0, |m| m.1)
        } else {
            let u = self.key_rng.unit();
            self.mix
                .iter()
                .find(|m| u < m.0)
                .unwrap_or(self.mix.last().expect("non-empty"))
                .1
        };
        let key = match &self.keys {
            None => 1,
            Some(k) => k.sample(&mut self.key_rng),
        };
        (class, key)
    }

    /// The wait before retry number `n` (from 1): exponential backoff,
    /// capped, jittered.
    pub fn backoff(&mut self, n: u32) -> u64 {
        let c = &self.client;
        let base = (c.backoff as f64 * libm::pow(2.0, (n.saturating_sub(1)).min(60) as f64))
            .min(c.cap as f64);
        let wait = match c.jitter {
            Jitter::None => base,
            Jitter::Full => base * self.retry_rng.unit(),
            Jitter::Equal => base / 2.0 + base / 2.0 * self.retry_rng.unit(),
        };
        (wait + 0.5) as u64
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
