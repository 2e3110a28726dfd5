//! Arrival processes and how their rate changes over time.
//!
//! A source's rate at time `t` is `rps * profile(t) * traffic multiplier`.
//! Time-varying Poisson arrivals are drawn by thinning (Lewis and Shedler)
//! against a piecewise bound, [`Profile::bound`], that is exact for the
//! piecewise-constant profiles, so steps and spikes cost no rejected draws and
//! a long silent stretch is skipped in one jump.

use crate::time::{Duration, SimTime};
use serde::{Deserialize, Serialize};

/// How requests arrive at a source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Arrivals {
    /// A Poisson process (independent arrivals) at `rps` requests per second.
    Poisson {
        /// Mean rate in requests per second.
        rps: f64,
    },
    /// Closed loop: `users` who each send a request, wait for its answer
    /// (or give up after retries), think, and send the next:
    /// `Closed(users: 200, think: Exponential(mean: "1s"))`. Their rate
    /// falls as the system slows down. With `tasks`, each user walks a
    /// session of tasks (see [`crate::sessions`]).
    Closed {
        /// Number of users.
        users: u64,
        /// Think time between an answer and the next request.
        think: crate::dist::Dist,
        /// A session's tasks (and nested sets); absent: plain closed-loop users
        /// whose requests follow the source's `mix` and `keys`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tasks: Option<Vec<crate::sessions::Step>>,
        /// How the tasks are walked: `Sequence` (default) or `Weighted`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order: Option<crate::sessions::Order>,
        /// When a session ends: `After(n)` tasks or `Chance(p)` after each.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        interrupt: Option<crate::sessions::Interrupt>,
        /// After the last task: `Loop` (default) or `Once`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sessions: Option<crate::sessions::Repeat>,
        /// After a failed request: `Abandon` (default) or `Continue`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_failure: Option<crate::sessions::OnFailure>,
    },
    /// Exactly `count` requests, all at the instant `at` (a thundering herd,
    /// a cron job, a retry wave): `Burst(count: 100, at: "10s")`. The
    /// traffic multiplier does not scale it (x0 included: it still fires).
    Burst {
        /// How many requests.
        count: u64,
        /// When, from the start of the run.
        at: Duration,
    },
}

impl Arrivals {
    /// The base rate in requests per second (for a closed loop, the most
    /// it can be: every user answered at once, users / mean think time).
    pub fn rps(&self) -> f64 {
        match self {
            Arrivals::Poisson { rps } => *rps,
            Arrivals::Closed { users, think, .. } => {
                let m = think.sampler().mean_secs();
                if m > 0.0 {
                    *users as f64 / m
                } else {
                    *users as f64 * 1000.0
                }
            }
            // No steady rate: its requests come all at once.
            Arrivals::Burst { .. } => 0.0,
        }
    }
}

/// One step of a [`Profile::Steps`] profile: from `at` on, the rate is `rps`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// When the step starts, from the start of the run.
    pub at: Duration,
    /// The rate from then on, in requests per second.
    pub rps: f64,
}

/// How a source's rate changes with time. Absent means constant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Profile {
    /// The base rate throughout.
    Constant,
    /// From the base rate linearly to `to` requests per second over `over`,
    /// then stays there: `Ramp(to: 3000.0, over: "5m")`.
    Ramp {
        /// Final rate, in requests per second.
        to: f64,
        /// How long the ramp takes.
        over: Duration,
    },
    /// The base rate until the first step, then each step's rate from its
    /// time on: `Steps([Step(at: "1m", rps: 200.0), Step(at: "2m", rps: 50.0)])`.
    Steps(Vec<Step>),
    /// The base rate multiplied by `times` from `at` for a span of `for`:
    /// `Spike(at: "2m", times: 3.0, for: "5m")`.
    Spike {
        /// When the spike starts.
        at: Duration,
        /// Multiplier of the base rate during the spike.
        times: f64,
        /// How long the spike lasts.
        #[serde(rename = "for")]
        for_: Duration,
    },
    /// A daily cycle: the base rate multiplied by a factor that moves as a
    /// cosine from `trough` (at time 0) to `peak` (at half the period) and
    /// back: `Diurnal(peak: 1.0, trough: 0.2, period: "24h")`.
    Diurnal {
        /// Multiplier at the busiest moment.
        peak: f64,
        /// Multiplier at the quietest moment.
        trough: f64,
        /// Length of one cycle.
        period: Duration,
    },
}

/// The shortest period of a `Diurnal` profile: one second, so a cycle spans
/// many arrivals at any rate worth a cycle, and the cosine is sampled at
/// a billion whole nanoseconds per period.
pub const MIN_DIURNAL_PERIOD: u64 = crate::time::SEC;

/// A piecewise upper bound on the rate: `rps` is at least the rate on
/// `[t, until)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bound {
    /// Bound on the rate, requests per second.
    pub rps: f64,
    /// End of the stretch over which the bound holds (`u64::MAX`: forever).
    pub until: SimTime,
    /// True when the rate equals the bound on the whole stretch (no thinning).
    pub exact: bool,
}

impl Profile {
    /// Checks the parameters; the message says what is wrong and how to fix it.
    pub fn check(&self) -> Result<(), String> {
        let rate_ok = |what: &str, x: f64| -> Result<(), String> {
            if !x.is_finite() || x < 0.0 {
                Err(format!(
                    "{what} must be a finite number of 0 or more, not {x}"
                ))
            } else {
                Ok(())
            }
        };
        match self {
            Profile::Constant => Ok(()),
            Profile::Ramp { to, .. } => rate_ok("Ramp: `to`", *to),
            Profile::Steps(steps) => {
                if steps.is_empty() {
                    return Err("Steps: give at least one Step(at: \"1m\", rps: 100.0)".into());
                }
                for (i, s) in steps.iter().enumerate() {
                    rate_ok(&format!("Steps: step {} `rps`", i + 1), s.rps)?;
                    if i > 0 && s.at <= steps[i - 1].at {
                        return Err(format!(
                            "Steps: step {} at {} does not come after step {} at {}; list steps in time order",
                            i + 1,
                            s.at,
                            i,
                            steps[i - 1].at
                        ));
                    }
                }
                Ok(())
            }
            Profile::Spike { times, for_, .. } => {
                rate_ok("Spike: `times`", *times)?;
                if for_.0 == 0 {
                    return Err("Spike: `for` is 0s, so the spike would never happen; give it a length, e.g. `for: \"5m\"`".into());
                }
                Ok(())
            }
            Profile::Diurnal {
                peak,
                trough,
                period,
            } => {
                rate_ok("Diurnal: `peak`", *peak)?;
                rate_ok("Diurnal: `trough`", *trough)?;
                if trough > peak {
                    return Err(format!(
                        "Diurnal: trough ({trough}) is above peak ({peak}); swap them"
                    ));
                }
                if period.0 < MIN_DIURNAL_PERIOD {
                    return Err(format!(
                        "Diurnal: `period` is {period}; the rate is read only when a request arrives, at whole nanoseconds, so a cycle this short is not followed (at \"1ns\" every arrival would see the trough) and the average rate would be wrong; give a period of at least {}, e.g. \"24h\"",
                        Duration(MIN_DIURNAL_PERIOD)
                    ));
                }
                Ok(())
            }
        }
    }

    /// The rate in requests per second at `t`, given the base rate.
    pub fn rate(&self, base: f64, t: SimTime) -> f64 {
        match self {
            Profile::Constant => base,
            Profile::Ramp { to, over } => {
                if t >= over.0 {
                    *to
                } else {
                    base + (to - base) * (t as f64 / over.0 as f64)
                }
            }
            Profile::Steps(steps) => {
                let mut r = base;
                for s in steps {
                    if s.at.0 <= t {
                        r = s.rps;
                    } else {
                        break;
                    }
                }
                r
            }
            Profile::Spike { at, times, for_ } => {
                if t >= at.0 && t < at.0.saturating_add(for_.0) {
                    base * times
                } else {
                    base
                }
            }
            Profile::Diurnal {
                peak,
                trough,
                period,
            } => {
                let phase = (t % period.0) as f64 / period.0 as f64;
                let f = trough
                    + (peak - trough)
                        * 0.5
                        * (1.0 - libm::cos(2.0 * core::f64::consts::PI * phase));
                base * f
            }
        }
    }

    /// An upper bound on the rate from `t` on, and until when it holds.
    pub fn bound(&self, base: f64, t: SimTime) -> Bound {
        const FOREVER: SimTime = u64::MAX;
        match self {
            Profile::Constant => Bound {
                rps: base,
                until: FOREVER,
                exact: true,
            },
            Profile::Ramp { to, over } => {
                if t >= over.0 {
                    Bound {
                        rps: *to,
                        until: FOREVER,
                        exact: true,
                    }
                } else {
                    Bound {
                        rps: base.max(*to),
                        until: over.0,
                        exact: base == *to,
                    }
                }
            }
            Profile::Steps(steps) => {
                let next = steps
                    .iter()
                    .find(|s| s.at.0 > t)
                    .map_or(FOREVER, |s| s.at.0);
                Bound {
                    rps: self.rate(base, t),
                    until: next,
                    exact: true,
                }
            }
            Profile::Spike { at, times, for_ } => {
                let end = at.0.saturating_add(for_.0);
                if t < at.0 {
                    Bound {
                        rps: base,
                        until: at.0,
                        exact: true,
                    }
                } else if t < end {
                    Bound {
                        rps: base * times,
                        until: end,
                        exact: true,
                    }
                } else {
                    Bound {
                        rps: base,
                        until: FOREVER,
                        exact: true,
                    }
                }
            }
            Profile::Diurnal { peak, trough, .. } => Bound {
                rps: base * peak,
                until: FOREVER,
                exact: peak == trough,
            },
        }
    }

    /// The highest rate the profile ever reaches, given the base rate.
    pub fn peak(&self, base: f64) -> f64 {
        match self {
            Profile::Constant => base,
            Profile::Ramp { to, .. } => base.max(*to),
            Profile::Steps(steps) => steps.iter().map(|s| s.rps).fold(base, f64::max),
            Profile::Spike { times, .. } => base.max(base * times),
            Profile::Diurnal { peak, .. } => base * peak,
        }
    }

    /// The expected number of arrivals in `[0, end)`, by numerical
    /// integration (for budget estimates and tests, not the hot loop).
    pub fn expected_arrivals(&self, base: f64, end: SimTime) -> f64 {
        // The cycle is integrated exactly: sampled, a period that divides
        // the sampling step would be read at one phase only.
        if let Profile::Diurnal {
            peak,
            trough,
            period,
        } = self
        {
            let (t, p) = (end as f64 / 1e9, period.0.max(1) as f64 / 1e9);
            let w = 2.0 * core::f64::consts::PI / p;
            let swing = (peak - trough) * 0.5 * (t - libm::sin(w * t) / w);
            return base * (trough * t + swing);
        }
        let n = 10_000u64;
        let dt = end as f64 / n as f64;
        (0..n)
            .map(|i| self.rate(base, ((i as f64 + 0.5) * dt) as u64))
            .sum::<f64>()
            * dt
            / 1e9
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SEC;

    #[test]
    fn bounds_cover_rates() {
        let profiles = [
            Profile::Constant,
            Profile::Ramp {
                to: 300.0,
                over: Duration(10 * SEC),
            },
            Profile::Ramp {
                to: 10.0,
                over: Duration(10 * SEC),
            },
            Profile::Steps(vec![
                Step {
                    at: Duration(3 * SEC),
                    rps: 0.0,
                },
                Step {
                    at: Duration(5 * SEC),
                    rps: 500.0,
                },
            ]),
            Profile::Spike {
                at: Duration(2 * SEC),
                times: 11.0,
                for_: Duration(SEC),
            },
            Profile::Diurnal {
                peak: 1.0,
                trough: 0.1,
                period: Duration(8 * SEC),
            },
        ];
        for p in &profiles {
            p.check().unwrap();
            for i in 0..200 {
                let t = i * SEC / 10;
                let b = p.bound(100.0, t);
                assert!(b.until > t, "{p:?} at {t}");
                for j in 0..20 {
                    let u = t + (b.until.min(20 * SEC) - t) * j / 20;
                    if u < b.until {
                        assert!(p.rate(100.0, u) <= b.rps + 1e-9, "{p:?} at {u}");
                    }
                }
                assert!(p.rate(100.0, t) <= p.peak(100.0) + 1e-9);
            }
        }
    }

    #[test]
    fn checks_explain() {
        assert!(Profile::Steps(vec![]).check().is_err());
        let back = Profile::Steps(vec![
            Step {
                at: Duration(5),
                rps: 1.0,
            },
            Step {
                at: Duration(2),
                rps: 1.0,
            },
        ]);
        assert!(back.check().unwrap_err().contains("time order"));
        assert!(
            Profile::Diurnal {
                peak: 0.1,
                trough: 1.0,
                period: Duration(SEC)
            }
            .check()
            .is_err()
        );
        assert!(
            Profile::Spike {
                at: Duration(0),
                times: f64::NAN,
                for_: Duration(1)
            }
            .check()
            .is_err()
        );
    }
}
