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
    /// Its clients' circuit breaker.
    pub breaker: Option<BreakerState>,
    /// Closed loop: users and their think time.
    pub closed: Option<(u32, crate::dist::Sampler)>,
    /// Closed loop: users in the loop now (thinking or waiting).
    pub users: u32,
    /// Closed loop: users to take out of the loop at their next turn (the
    /// traffic multiplier went down).
    pub retiring: u32,
    think_rng: Stream,
    /// Its clients' retry budget.
    pub budget: RetryBudget,
    /// A burst: requests still to send, and their instant.
    pub burst: Option<(u32, SimTime)>,
    /// Session users (a closed loop with tasks): see `sim::sessions`.
    pub session: Option<Box<super::sessions::SessionRun>>,
    mix: Vec<(f64, u16)>,
    ips: u64,
    keys: Option<KeySampler>,
    constant: bool,
    arrivals: Stream,
    thinning: Stream,
    key_rng: Stream,
    retry_rng: Stream,
}

impl SourceState {
    /// From the model, with streams derived from `seed`; a session source
    /// keeps `windows` windows of session counts.
    pub fn new(m: &SourceModel, seed: u64, windows: usize) -> Self {
        Self::labelled(m, seed, &m.id, windows)
    }

    /// From the model, with streams derived from `seed` and `label` (a
    /// source added while the simulation runs is labelled by its id and
    /// its stable index, so that it never shares a stream with another).
    pub fn labelled(m: &SourceModel, seed: u64, label: &str, windows: usize) -> Self {
        SourceState {
            to: m.to as u32,
            rps: m.rps,
            constant: m.profile == Profile::Constant,
            profile: m.profile.clone(),
            epoch: 0,
            client: m.client.clone(),
            breaker: m.client.breaker.map(BreakerState::new),
            closed: m.closed.clone(),
            users: m.closed.as_ref().map_or(0, |c| c.0),
            retiring: 0,
            think_rng: Stream::new(seed, Purpose::Thinning, &format!("{label}/think")),
            budget: RetryBudget::new(&m.client),
            burst: m.burst,
            session: m
                .session
                .as_ref()
                .map(|_| Box::new(super::sessions::SessionRun::new(m, seed, label, windows))),
            mix: m.mix.clone(),
            ips: m.ips,
            keys: m.keys.clone(),
            arrivals: Stream::new(seed, Purpose::Arrivals, label),
            thinning: Stream::new(seed, Purpose::Thinning, label),
            key_rng: Stream::new(seed, Purpose::Keys, label),
            retry_rng: Stream::new(seed, Purpose::Retry, label),
        }
    }

    /// An open-loop source takes edited settings in place (a live edit):
    /// its streams, breaker and budget stay unless its clients changed.
    /// The caller bumps its epoch and draws its next arrival.
    pub fn retune(&mut self, m: &SourceModel) {
        self.to = m.to as u32;
        self.rps = m.rps;
        self.constant = m.profile == Profile::Constant;
        self.profile = m.profile.clone();
        self.mix = m.mix.clone();
        self.ips = m.ips;
        self.keys = m.keys.clone();
        if self.client != m.client {
            self.client = m.client.clone();
            self.breaker = m.client.breaker.map(BreakerState::new);
            self.budget = RetryBudget::new(&m.client);
        }
    }

    /// The source is removed by a live edit: it sends nothing more (a
    /// pending arrival is ignored, closed-loop users leave at their turn).
    pub fn stop(&mut self) {
        self.rps = 0.0;
        self.constant = true;
        self.profile = Profile::Constant;
        self.burst = None;
        self.closed = None;
        self.epoch = self.epoch.wrapping_add(1);
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

    /// A closed-loop user's turn comes: true if the user leaves the loop
    /// instead (the multiplier asks for fewer users).
    pub fn retire(&mut self) -> bool {
        if self.retiring > 0 {
            self.retiring -= 1;
            self.users -= 1;
            true
        } else {
            false
        }
    }

    /// A closed-loop user's think time, ns.
    pub fn think(&mut self) -> u64 {
        match &self.closed {
            Some((_, t)) => t.sample(&mut self.think_rng),
            None => 0,
        }
    }

    /// The client IP of a new request (no draw with a single IP).
    #[inline]
    pub fn draw_ip(&mut self) -> u32 {
        if self.ips <= 1 {
            0
        } else {
            ((self.key_rng.next_u64() as u128 * self.ips as u128) >> 64) as u32
        }
    }

    /// The wait before retry number `n` (from 1) after a wait of `prev`:
    /// exponential backoff, capped, jittered.
    pub fn backoff(&mut self, n: u32, prev: u64) -> u64 {
        backoff(&self.client, n, prev, &mut self.retry_rng)
    }

    /// The next arrival at or after `from`, at the rate
    /// `profile(t) * multiplier`, or `None` if the source is silent forever.
    ///
    /// Non-homogeneous Poisson by thinning against the profile's piecewise
    /// bound; on stretches where the bound is exact no thinning draw is made.
    pub fn next_arrival(&mut self, from: SimTime, multiplier: f64) -> Option<SimTime> {
        if let Some((left, at)) = self.burst {
            // All at `at`, whatever the multiplier (0 included): a burst is
            // a fixed count of requests, not a rate.
            return (left > 0).then_some(at.max(from));
        }
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

/// The wait before retry number `n` (from 1) under `policy`: exponential
/// backoff from `policy.backoff`, capped at `policy.cap`, jittered. `prev`
/// is the wait before the previous retry (decorrelated jitter grows from
/// it; the first retry's is `backoff`).
pub fn backoff(policy: &ClientModel, n: u32, prev: u64, rng: &mut Stream) -> u64 {
    if policy.jitter == Jitter::Decorrelated {
        // AWS: sleep = min(cap, uniform(base, 3 x previous sleep)).
        let lo = policy.backoff as f64;
        let prev = if n <= 1 { lo } else { prev as f64 };
        let hi = (3.0 * prev).max(lo);
        let wait = (lo + (hi - lo) * rng.unit()).min(policy.cap as f64);
        return (wait + 0.5) as u64;
    }
    let base = (policy.backoff as f64 * libm::pow(2.0, n.saturating_sub(1).min(60) as f64))
        .min(policy.cap as f64);
    let wait = match policy.jitter {
        Jitter::None => base,
        Jitter::Full => base * rng.unit(),
        Jitter::Equal => base / 2.0 + base / 2.0 * rng.unit(),
        Jitter::Decorrelated => unreachable!("handled above"),
    };
    (wait + 0.5) as u64
}

/// Buckets in a Finagle budget's window.
const BUDGET_SLICES: usize = 10;

/// A client's retry budget at run time: which retries may go out.
#[derive(Clone, Debug)]
pub enum RetryBudget {
    /// No budget: every retry the policy allows goes out.
    Unlimited,
    /// `budget: share`: tokens start at 0, each first attempt earns `share`,
    /// at most 100 are kept, a retry takes 1.
    Share {
        /// Tokens earned per first attempt.
        share: f64,
        /// Tokens now.
        tokens: f64,
    },
    /// A token bucket that starts full and refills only from successes.
    Bucket {
        /// Most tokens.
        capacity: f64,
        /// Tokens per retry.
        cost: f64,
        /// Tokens per retry after a timeout.
        timeout_cost: f64,
        /// Tokens per successful attempt.
        per_success: f64,
        /// Tokens now.
        tokens: f64,
    },
    /// Finagle's budget: over the last `ttl`, retries at most `percent` x
    /// requests + `reserve`.
    Finagle {
        /// Retries per request.
        percent: f64,
        /// Retries always allowed per window (`min_per_second` x ttl).
        reserve: f64,
        /// Length of one slice of the window, ns.
        slice: u64,
        /// (slice number, requests, retries) per slice.
        slices: [(u64, u32, u32); BUDGET_SLICES],
    },
}

impl RetryBudget {
    /// The budget `client` asks for, at its start.
    pub fn new(client: &ClientModel) -> Self {
        use crate::topology::RetryLimit;
        match (client.limit, client.budget) {
            (
                Some(RetryLimit::TokenBucket {
                    capacity,
                    cost,
                    timeout_cost,
                    per_success,
                }),
                _,
            ) => {
                let cost = cost.unwrap_or(1.0);
                RetryBudget::Bucket {
                    capacity,
                    cost,
                    timeout_cost: timeout_cost.unwrap_or(cost),
                    per_success: per_success.unwrap_or(1.0),
                    tokens: capacity,
                }
            }
            (
                Some(RetryLimit::Finagle {
                    percent,
                    min_per_second,
                    ttl,
                }),
                _,
            ) => {
                let ttl = ttl.map_or(10 * crate::time::SEC, |t| t.0);
                RetryBudget::Finagle {
                    percent,
                    reserve: min_per_second.unwrap_or(10.0) * ttl as f64 / 1e9,
                    slice: (ttl / BUDGET_SLICES as u64).max(1),
                    slices: [(u64::MAX, 0, 0); BUDGET_SLICES],
                }
            }
            (None, Some(share)) => RetryBudget::Share { share, tokens: 0.0 },
            (None, None) => RetryBudget::Unlimited,
        }
    }

    /// A first attempt (a new request) goes out.
    #[inline]
    pub fn on_request(&mut self, now: SimTime) {
        match self {
            RetryBudget::Share { share, tokens } => *tokens = (*tokens + *share).min(100.0),
            RetryBudget::Finagle { slice, slices, .. } => Self::slot(slices, now / *slice).1 += 1,
            RetryBudget::Unlimited | RetryBudget::Bucket { .. } => {}
        }
    }

    /// An attempt succeeded while its client still waited.
    #[inline]
    pub fn on_success(&mut self) {
        if let RetryBudget::Bucket {
            capacity,
            per_success,
            tokens,
            ..
        } = self
        {
            *tokens = (*tokens + *per_success).min(*capacity);
        }
    }

    /// May a retry go out now (after a timeout if `timed_out`)? Takes its
    /// cost from the budget when it may.
    pub fn try_retry(&mut self, now: SimTime, timed_out: bool) -> bool {
        match self {
            RetryBudget::Unlimited => true,
            RetryBudget::Share { tokens, .. } => {
                if *tokens >= 1.0 {
                    *tokens -= 1.0;
                    true
                } else {
                    false
                }
            }
            RetryBudget::Bucket {
                cost,
                timeout_cost,
                tokens,
                ..
            } => {
                let c = if timed_out { *timeout_cost } else { *cost };
                if *tokens >= c {
                    *tokens -= c;
                    true
                } else {
                    false
                }
            }
            RetryBudget::Finagle {
                percent,
                reserve,
                slice,
                slices,
            } => {
                let n = now / *slice;
                let (mut requests, mut retries) = (0u64, 0u64);
                for &(m, q, r) in slices.iter() {
                    if m != u64::MAX && m + BUDGET_SLICES as u64 > n {
                        requests += q as u64;
                        retries += r as u64;
                    }
                }
                if *reserve + *percent * requests as f64 - retries as f64 >= 1.0 {
                    Self::slot(slices, n).2 += 1;
                    true
                } else {
                    false
                }
            }
        }
    }

    /// Tokens left (a bucket's or a share's), for reports and tests.
    pub fn tokens(&self) -> Option<f64> {
        match self {
            RetryBudget::Share { tokens, .. } | RetryBudget::Bucket { tokens, .. } => Some(*tokens),
            _ => None,
        }
    }

    fn slot(slices: &mut [(u64, u32, u32); BUDGET_SLICES], n: u64) -> &mut (u64, u32, u32) {
        let s = &mut slices[(n % BUDGET_SLICES as u64) as usize];
        if s.0 != n {
            *s = (n, 0, 0);
        }
        s
    }
}

/// Buckets in a breaker's rolling window.
const BUCKETS: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq)]
enum BreakerMode {
    Closed,
    Open { until: SimTime },
    HalfOpen { probing: bool },
}

/// A client-side circuit breaker over a rolling window of attempts.
#[derive(Clone, Debug)]
pub struct BreakerState {
    ratio: f64,
    bucket_len: u64,
    min: u32,
    open_for: u64,
    /// (bucket number, successes, failures) per slot.
    buckets: [(u64, u32, u32); BUCKETS],
    mode: BreakerMode,
    /// Times it opened.
    pub opened: u64,
}

impl BreakerState {
    /// From (failure ratio, window ns, min requests, open ns).
    pub fn new((ratio, window, min, open_for): (f64, u64, u32, u64)) -> Self {
        BreakerState {
            ratio,
            bucket_len: (window / BUCKETS as u64).max(1),
            min,
            open_for,
            buckets: [(u64::MAX, 0, 0); BUCKETS],
            mode: BreakerMode::Closed,
            opened: 0,
        }
    }

    /// May an attempt go out now? (In half-open, only one probe at a time.)
    pub fn allow(&mut self, now: SimTime) -> bool {
        match self.mode {
            BreakerMode::Closed => true,
            BreakerMode::Open { until } if now >= until => {
                self.mode = BreakerMode::HalfOpen { probing: true };
                true
            }
            BreakerMode::Open { .. } => false,
            BreakerMode::HalfOpen { probing: true } => false,
            BreakerMode::HalfOpen { probing: false } => {
                self.mode = BreakerMode::HalfOpen { probing: true };
                true
            }
        }
    }

    /// True while it refuses attempts.
    pub fn is_open(&self, now: SimTime) -> bool {
        matches!(self.mode, BreakerMode::Open { until } if now < until)
    }

    /// Records an attempt's outcome.
    pub fn record(&mut self, now: SimTime, ok: bool) {
        match self.mode {
            BreakerMode::HalfOpen { .. } => {
                if ok {
                    self.mode = BreakerMode::Closed;
                    self.buckets = [(u64::MAX, 0, 0); BUCKETS];
                } else {
                    self.trip(now);
                }
            }
            BreakerMode::Open { .. } => {}
            BreakerMode::Closed => {
                let n = now / self.bucket_len;
                let b = &mut self.buckets[(n % BUCKETS as u64) as usize];
                if b.0 != n {
                    *b = (n, 0, 0);
                }
                if ok {
                    b.1 += 1;
                } else {
                    b.2 += 1;
                }
                let (mut good, mut bad) = (0u64, 0u64);
                for &(m, g, f) in &self.buckets {
                    if m != u64::MAX && m + BUCKETS as u64 > n {
                        good += g as u64;
                        bad += f as u64;
                    }
                }
                let total = good + bad;
                if total >= self.min as u64 && bad as f64 >= self.ratio * total as f64 {
                    self.trip(now);
                }
            }
        }
    }

    fn trip(&mut self, now: SimTime) {
        self.mode = BreakerMode::Open {
            until: now.saturating_add(self.open_for),
        };
        self.buckets = [(u64::MAX, 0, 0); BUCKETS];
        self.opened += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_opens_probes_and_closes() {
        let mut b = BreakerState::new((0.5, 10_000, 4, 1_000));
        for t in 0..3 {
            assert!(b.allow(t));
            b.record(t, false);
        }
        assert!(b.allow(3), "3 requests are under the minimum of 4");
        b.record(3, true);
        b.record(4, false);
        assert!(b.is_open(5) && !b.allow(5));
        assert_eq!(b.opened, 1);
        assert!(b.allow(1_004), "the probe");
        assert!(!b.allow(1_005), "one probe at a time");
        b.record(1_006, false);
        assert!(!b.allow(1_007));
        assert!(b.allow(2_006));
        b.record(2_007, true);
        assert!(b.allow(2_008) && b.allow(2_009));
        // Old failures leave the window.
        for t in 0..3 {
            b.record(3_000 + t, false);
        }
        b.record(30_000, false);
        assert!(
            b.allow(30_001),
            "the old failures are outside the 10 us window"
        );
    }
}
