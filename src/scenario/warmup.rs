//! Finding the warm-up from the output itself: MSER-5 (White, 1997; the
//! rule JMT uses). The observations, in time order, are grouped into
//! batches of five; for each truncation point `d` (in batches, up to half
//! of them) the statistic is the variance of the remaining batch means
//! divided by how many remain, `sum((b_i - mean_d)^2) / (k - d)^2`. The
//! warm-up ends where it is smallest: dropping more would cost more
//! precision than the bias it removes.
//!
//! A minimum at the half-way bound means the run never settled (a trend to
//! its end: overload, a ramp); it is reported as such, not as a warm-up.
//! So is what is left after the truncation when it still rises: a queue
//! that grows for as long as the run lasts (an M/M/1 at rho 1.1) is noisy
//! enough that MSER-5 alone may keep most of it. The rise is judged on
//! [`TREND_BATCHES`] batch means of the rest (batches long enough that
//! their means are nearly independent): the one-sided t statistic of
//! their least-squares slope above [`TREND_T`] refuses it.
//!
//! [`judge`] also refuses a rest in which windows with arrivals complete
//! nothing (a collapse); [`changes_by_design`]
//! lists what makes a run unsteady on purpose (a traffic profile, a burst,
//! a timeline change), which `--warmup auto` refuses before it looks.
//!
//! False refusals, measured on M/M/1 (service rate 10/s, 200 one-second
//! windows from empty, seeds 0 to 399: `cargo test --test it --
//! --ignored warmup_refusal_rates --nocapture`): none at rho 0.5 and 0.8,
//! 2.5% at rho 0.9, 10.5% at 0.95 (near saturation a 200 s run is too
//! short to tell a slow swing from a trend); refused: 88% at rho 1.1,
//! 100% at 1.2. `tests/it/honest_figures.rs` holds the engine to bounds
//! on these.

/// Observations per batch.
pub const BATCH: usize = 5;
/// Batches needed for the rule to mean anything.
pub const MIN_BATCHES: usize = 10;
/// Batch means the rise of the truncated output is judged on.
pub const TREND_BATCHES: usize = 20;
/// One-sided t statistic of their slope above which the output still
/// rises (not steady).
pub const TREND_T: f64 = 5.0;

/// What MSER-5 found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mser {
    /// Drop the first `observations` (a multiple of [`BATCH`]).
    Truncate {
        /// Observations to drop.
        observations: usize,
    },
    /// The smallest value is at the half-way bound: the output trends to
    /// the end, so no warm-up makes the rest steady.
    NotSteady,
    /// Fewer than [`MIN_BATCHES`] batches of [`BATCH`].
    TooShort {
        /// Observations given.
        observations: usize,
    },
}

/// MSER-5 over `obs` in time order.
pub fn mser5(obs: &[f64]) -> Mser {
    let batches: Vec<f64> = obs
        .chunks_exact(BATCH)
        .map(|c| c.iter().sum::<f64>() / BATCH as f64)
        .collect();
    let k = batches.len();
    if k < MIN_BATCHES {
        return Mser::TooShort {
            observations: obs.len(),
        };
    }
    let half = k / 2;
    // Welford's update from the end gives every truncation point's mean and
    // spread in one pass, without the cancellation of sums of squares (a
    // constant output has exactly zero spread at every point).
    let mut best = (f64::INFINITY, 0);
    let (mut n, mut mean, mut m2) = (0.0f64, 0.0f64, 0.0f64);
    let mut stats = vec![0.0; half + 1];
    for (i, &b) in batches.iter().enumerate().rev() {
        n += 1.0;
        let delta = b - mean;
        mean += delta / n;
        m2 += delta * (b - mean);
        if i <= half {
            stats[i] = m2.max(0.0) / (n * n);
        }
    }
    for (d, &v) in stats.iter().enumerate() {
        if v < best.0 {
            best = (v, d);
        }
    }
    // A minimum at the bound is what a trend gives, but also what chance
    // gives a short steady output; only a clear trend in what is left
    // (a slope |t| > 4 over its observations) says "not steady".
    if best.1 == half && half > 0 && trend_t(&obs[half * BATCH..]).abs() > 4.0 {
        return Mser::NotSteady;
    }
    if rises(&obs[best.1 * BATCH..]) {
        return Mser::NotSteady;
    }
    Mser::Truncate {
        observations: best.1 * BATCH,
    }
}

/// True if `rest` still rises: the slope of its [`TREND_BATCHES`] batch
/// means (fewer when it is short, at least two observations each) has a t
/// statistic above [`TREND_T`].
fn rises(rest: &[f64]) -> bool {
    let m = TREND_BATCHES.min(rest.len() / 2);
    if m < 5 {
        return false;
    }
    let len = rest.len() / m;
    // The latest observations count; a remainder is dropped at the start.
    let tail = &rest[rest.len() - len * m..];
    let means: Vec<f64> = tail
        .chunks_exact(len)
        .map(|c| c.iter().sum::<f64>() / len as f64)
        .collect();
    trend_t(&means) > TREND_T
}

/// The t statistic of the least-squares slope of `y` against its index
/// (0 when there is no spread to judge by).
fn trend_t(y: &[f64]) -> f64 {
    let n = y.len() as f64;
    if y.len() < 3 {
        return 0.0;
    }
    let mx = (n - 1.0) / 2.0;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (i, &v) in y.iter().enumerate() {
        let dx = i as f64 - mx;
        sxx += dx * dx;
        sxy += dx * (v - my);
    }
    let slope = sxy / sxx;
    let sse: f64 = y
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let e = v - my - slope * (i as f64 - mx);
            e * e
        })
        .sum();
    let se = (sse / (n - 2.0) / sxx).sqrt();
    if se > 0.0 && se.is_finite() {
        slope / se
    } else if slope != 0.0 && slope.is_finite() {
        f64::INFINITY
    } else {
        0.0
    }
}

/// What `--warmup auto` concludes from a pilot run's series ([`judge`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Judged {
    /// Drop the first `windows` windows; the rest is steady.
    Truncate {
        /// Windows to drop.
        windows: usize,
    },
    /// The output never settles: `what` trends to the end of the run.
    NotSteady {
        /// The series that trends, as people say it.
        what: &'static str,
    },
    /// After the warm-up, `stalled` of `of` windows had arrivals and no
    /// completion: the system is not steady, it has stopped answering.
    Stalled {
        /// Windows with arrivals and nothing completed.
        stalled: usize,
        /// Windows after the warm-up.
        of: usize,
    },
    /// Too few windows with completions for MSER-5.
    TooShort {
        /// Windows with completions.
        observations: usize,
    },
}

/// Judges a pilot run's series (measured from time 0): MSER-5 on the
/// end-to-end median per window, which looks only at windows with
/// completions; so a rest where more than one window in twenty had
/// arrivals but no completion (a collapse: the median of the few answers
/// can sit still) is refused too. (The same rule on the backlog, the
/// nodes' queue lengths added up, was tried and left out: on M/M/1 it
/// raised false refusals at rho 0.9 from 2.5% to 3.5% (seeds 0 to 399) and caught 90%
/// rather than 88% at 1.1.)
pub fn judge(series: &crate::report::SeriesReport) -> Judged {
    let e2e = &series.end_to_end;
    let median: Vec<(usize, f64)> = e2e
        .iter()
        .enumerate()
        .filter_map(|(i, w)| w.p50_ms.map(|v| (i, v)))
        .collect();
    let obs: Vec<f64> = median.iter().map(|&(_, v)| v).collect();
    let windows = match mser5(&obs) {
        Mser::TooShort { observations } => return Judged::TooShort { observations },
        Mser::NotSteady => {
            return Judged::NotSteady {
                what: "the end-to-end median",
            };
        }
        // The window the first kept observation is in.
        Mser::Truncate { observations } => median.get(observations).map_or(e2e.len(), |m| m.0),
    };
    let rest = &e2e[windows.min(e2e.len())..];
    let stalled = rest
        .iter()
        .filter(|w| w.arrivals > 0 && w.completed == 0)
        .count();
    if stalled * 20 > rest.len() {
        return Judged::Stalled {
            stalled,
            of: rest.len(),
        };
    }
    Judged::Truncate { windows }
}

/// Why a run has no steady state to find, by design: sources whose traffic
/// changes on purpose (a profile other than constant, a burst) and
/// timeline changes inside the run. `--warmup auto` refuses such a run:
/// after a change there is a new transient, and MSER-5 on the whole series
/// would average the two regimes. Each reason as people read it, at most
/// `max` of them.
pub fn changes_by_design(
    model: &crate::model::Model,
    plan: Option<&super::Plan>,
    duration: crate::time::Duration,
    max: usize,
) -> Vec<String> {
    use crate::profile::Profile;
    let mut out = Vec::new();
    for s in &model.sources {
        let what = match &s.profile {
            Profile::Constant => None,
            Profile::Ramp { .. } => Some("a Ramp profile"),
            Profile::Steps(_) => Some("a Steps profile"),
            Profile::Spike { .. } => Some("a Spike profile"),
            Profile::Diurnal { .. } => Some("a Diurnal profile"),
        };
        if let Some(w) = what {
            out.push(format!("source `{}` has {w}", s.id));
        }
        if let Some((_, at)) = s.burst {
            out.push(format!(
                "source `{}` bursts at {}",
                s.id,
                crate::time::Duration(at)
            ));
        }
    }
    if let Some(p) = plan {
        for st in p.steps.iter().filter(|st| st.at > 0 && st.at < duration.0) {
            out.push(format!(
                "the timeline changes at {}: {}",
                crate::time::Duration(st.at),
                st.change
            ));
        }
    }
    out.truncate(max);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_output_needs_no_warm_up() {
        let obs: Vec<f64> = (0..100)
            .map(|i| 10.0 + ((i * 7919) % 13) as f64 / 13.0)
            .collect();
        match mser5(&obs) {
            Mser::Truncate { observations } => assert!(observations <= 10, "{observations}"),
            m => panic!("{m:?}"),
        }
        assert_eq!(mser5(&[7.25; 100]), Mser::Truncate { observations: 0 });
    }

    #[test]
    fn a_transient_is_cut_where_it_ends() {
        // 20 observations climbing from 0 to 10, then steady at 10 (with noise).
        let obs: Vec<f64> = (0..100)
            .map(|i| {
                let noise = ((i * 7919) % 11) as f64 / 11.0 - 0.5;
                if i < 20 { i as f64 / 2.0 } else { 10.0 + noise }
            })
            .collect();
        match mser5(&obs) {
            Mser::Truncate { observations } => {
                assert!((15..=25).contains(&observations), "{observations}")
            }
            m => panic!("{m:?}"),
        }
    }

    #[test]
    fn a_trend_to_the_end_is_not_steady() {
        let obs: Vec<f64> = (0..100).map(|i| i as f64).collect();
        assert_eq!(mser5(&obs), Mser::NotSteady);
    }

    #[test]
    fn a_noisy_rise_that_mser_would_keep_is_not_steady() {
        // A slow rise under noise larger than it: MSER-5 alone keeps it all.
        let noise = |i: usize| (((i * 7919) % 101) as f64 / 101.0 - 0.5) * 40.0;
        let obs: Vec<f64> = (0..200).map(|i| i as f64 * 0.1 + noise(i)).collect();
        assert_eq!(mser5(&obs), Mser::NotSteady);
        // The same noise without the rise is steady.
        let flat: Vec<f64> = (0..200).map(|i| 10.0 + noise(i)).collect();
        assert!(matches!(mser5(&flat), Mser::Truncate { .. }));
    }

    #[test]
    fn too_few_observations_say_so() {
        assert_eq!(mser5(&[1.0; 49]), Mser::TooShort { observations: 49 });
        assert!(matches!(mser5(&[1.0; 50]), Mser::Truncate { .. }));
    }
}
