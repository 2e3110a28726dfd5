//! Why a node parts from theory, in words, from what the engine counted
//! there and around it (docs/theory.md lists the causes in this order).

use super::theory::Run;
use super::*;
use crate::fmt::{fmt_count, fmt_ms};
use crate::kinds::KindModel;
use crate::sim::Simulation;
use crate::theory::{self, NodeTheory};

impl Simulation {
    /// Why node `i` parts from theory, from what the engine counted.
    pub(super) fn causes(
        &self,
        i: usize,
        nodes: &[(String, NodeReport)],
        t: &NodeTheory,
        run: &Run,
    ) -> Vec<String> {
        let model = self.model();
        let m = &model.nodes[i];
        let r = &nodes[i].1;
        let s = &self.node_state(i).stats;
        let mut out = Vec::new();
        let e = run.e2e;
        // Retries: the clients' and the apps' call policies'.
        if e.amplification > 1.05 {
            out.push(format!(
                "retries amplified the arrival rate {:.2}x ({} attempts for {} requests)",
                e.amplification,
                fmt_count(e.attempts),
                fmt_count(e.arrivals)
            ));
        }
        let call_retries: u64 = (0..model.nodes.len())
            .filter(|&j| model.call_targets(j).contains(&(i as u32)))
            .filter_map(|j| nodes[j].1.app.as_ref().map(|a| a.call_retries))
            .sum();
        if call_retries * 20 > r.arrivals && call_retries > 0 {
            out.push(format!(
                "the callers' call retries sent {} of its {} visits",
                fmt_count(call_retries),
                fmt_count(r.arrivals)
            ));
        }
        if let Some(conf) = t.configured_rps
            && conf > 0.0
            && t.arrival_rps > 1.10 * conf
        {
            let shard = model.nodes.iter().any(
                |n| matches!(&n.kind, KindModel::ShardRouter(s) if s.shards.contains(&(i as u32))),
            );
            out.push(if shard {
                format!(
                    "a shard router sends each key to the shard that owns it, and this shard got {:.2}x its expected share ({:.0}/s against {:.0}/s): the keys it owns are drawn more often than the sources' key law says (sessions' keys, or sources drawing from different laws, are not predicted)",
                    t.arrival_rps / conf,
                    t.arrival_rps,
                    conf
                )
            } else {
                format!(
                    "arrivals were {:.2}x what the configured traffic sends here ({:.0}/s against {:.0}/s)",
                    t.arrival_rps / conf,
                    t.arrival_rps,
                    conf
                )
            });
        }
        // Hedged fan-outs calling it send second copies of slow legs.
        for (j, cm) in model.nodes.iter().enumerate() {
            if let KindModel::App(app) = &cm.kind
                && app.handlers.iter().flatten().any(|s| {
                    matches!(*s, crate::model::StepModel::FanOut { to, hedge_after, .. }
                        if to as usize == i && hedge_after != u64::MAX)
                })
            {
                out.push(format!(
                    "`{}` hedges its fan-out: calls still out after the hedge delay are sent twice",
                    nodes[j].0
                ));
            }
        }
        // The cache in front of it: a cause only when the misses reaching
        // here moved (a cache warming up or cooling); a steady share of
        // misses is Poisson traffic like any other.
        let windows = self.measured_rates(i, run);
        // Arrivals come in batches of up to this many: a request's visits
        // here, a fan-out's legs.
        let batch = model
            .nodes
            .iter()
            .filter_map(|n| match &n.kind {
                KindModel::App(a) => a.handlers.iter().flatten().find_map(|s| match *s {
                    crate::model::StepModel::FanOut { to, count, .. } if to as usize == i => {
                        Some(count as f64)
                    }
                    _ => None,
                }),
                _ => None,
            })
            .fold(crate::fmt::ratio(r.arrivals, e.arrivals).ceil(), f64::max);
        let unsteady = windows.filter(|w| w.moved || w.bursty(batch));
        if let Some(cache) = m.behind_cache
            && let Some(cr) = nodes[cache as usize].1.cache.as_ref()
            && let Some(h) = cr.hit_ratio
            && let Some(Spread { lo, hi, .. }) = unsteady
        {
            out.push(format!(
                "the cache `{}` answered {:.0}% of reads; misses reaching here ranged from {lo:.0}/s to {hi:.0}/s between fifths of the run",
                nodes[cache as usize].0,
                h * 100.0
            ));
        }
        // A read-through cache's misses wait for its backend: the backend's
        // own gap is in its time.
        if let Some((missed, _, b)) = super::theory_structure::fetch_per_lookup(model, nodes, i)
            && missed > 0.0
            && let Some(bt) = nodes[b].1.theory.as_ref()
            && matches!(
                bt.verdict,
                theory::Verdict::Diverges | theory::Verdict::Unstable
            )
        {
            out.push(format!(
                "its {:.0}% of lookups that missed wait for `{}`, which parts from its own prediction (time at the node {} measured, {} predicted)",
                missed * 100.0,
                nodes[b].0,
                fmt_ms(nodes[b].1.mean_sojourn_ms),
                fmt_ms(bt.sojourn_ms)
            ));
        }
        // Wasted work.
        if s.service_sum > 0 {
            let w = s.wasted_sum as f64 / s.service_sum as f64;
            if w > 0.05 {
                out.push(format!(
                    "{:.0}% of the work here was for requests whose client had already timed out (wasted work)",
                    w * 100.0
                ));
            }
        }
        // Faults and changes at this node (or its cache).
        let ids: Vec<&str> = std::iter::once(nodes[i].0.as_str())
            .chain(m.behind_cache.map(|c| nodes[c as usize].0.as_str()))
            .collect();
        let faults: Vec<String> = self
            .changes()
            .iter()
            .filter(|c| ids.iter().any(|id| c.change.concerns(id)))
            .map(|c| format!("{} at {}", c.change, c.at))
            .collect();
        let slow =
            s.base_service_sum > 0 && s.service_sum as f64 > 1.05 * s.base_service_sum as f64;
        if !faults.is_empty() {
            out.push(format!(
                "a fault or change was active: {}",
                faults.join(", ")
            ));
        }
        if slow {
            let by = s.service_sum as f64 / s.base_service_sum as f64;
            let n = s.wait_count.max(1) as f64;
            let what = if m.load.is_some() {
                "the load-dependent latency curve"
            } else {
                "a Slow fault"
            };
            out.push(format!(
                "{what} raised service times {by:.2}x ({} on average against {} drawn from the configured distribution)",
                fmt_ms(Some(s.service_sum as f64 / n / 1e6)),
                fmt_ms(Some(s.base_service_sum as f64 / n / 1e6))
            ));
        }
        if r.injected_errors > 0 && faults.is_empty() {
            out.push(format!("{} injected errors", fmt_count(r.injected_errors)));
        }
        // Pools and connections.
        if r.waiting_on_pool > 0.01 {
            out.push(format!(
                "workers spent {:.0}% of their time waiting for a pool connection",
                r.waiting_on_pool * 100.0
            ));
        }
        if let Some(a) = &r.app {
            if a.pool_refused > 0 {
                out.push(format!(
                    "{} calls found no pool connection",
                    fmt_count(a.pool_refused)
                ));
            }
            if a.call_timeouts > 0 {
                out.push(format!(
                    "{} calls from here timed out (a worker is held until then)",
                    fmt_count(a.call_timeouts)
                ));
            }
        }
        if let Some(d) = &r.database
            && d.refused > 0
        {
            out.push(format!(
                "the connection limit refused {} queries",
                fmt_count(d.refused)
            ));
        }
        // Held upstream: what can be here at once is capped by callers
        // that hold it (workers, a pooler's connections, users).
        if let Some((k, who)) = theory::network::concurrency_cap(model, i)
            && k > u64::from(r.servers)
            && r.servers > 0
        {
            let room = t.service_ms.zip(t.scv).and_then(|(ms, scv)| {
                theory::mmck::mgck(r.servers, k, t.arrival_rps, ms / 1e3, scv)
            });
            // Named only where the cap explains a wait the open formula
            // overstates (with the room, the wait falls by more than the
            // tolerance), or where the formula has no steady state.
            let explains = match (room.as_ref(), t.wait_ms) {
                (Some(b), Some(w)) => b.wait * 1e3 < (1.0 - theory::WAIT_REL) * w,
                (_, None) => true,
                _ => false,
            };
            if explains {
                out.push(format!(
                "at most {k} requests can be here at once ({who}): the rest wait upstream, so its queue never passes {}{}",
                k - u64::from(r.servers),
                room.map(|b| format!(
                    "; with that room (M/G/{}/{k}) the wait would be {}",
                    r.servers,
                    fmt_ms(Some(b.wait * 1e3))
                ))
                .unwrap_or_default()
            ));
            }
        }
        if matches!(m.kind, KindModel::App(_)) {
            // Its workers queue together at a busy node they cap.
            let mut seen = vec![false; model.nodes.len()];
            let mut todo: Vec<(usize, u32)> = model.nodes[i]
                .kind
                .onward()
                .into_iter()
                .map(|k| (k, 0))
                .collect();
            while let Some((k, d)) = todo.pop() {
                if k >= nodes.len() || std::mem::replace(&mut seen[k], true) || d > 4 {
                    continue;
                }
                let busy = nodes[k].1.utilization;
                if busy >= 0.8
                    && theory::network::concurrency_cap(model, k)
                        .is_some_and(|(_, who)| who.contains(&format!("`{}`", nodes[i].0)))
                {
                    out.push(format!(
                        "its workers wait together on `{}` ({:.0}% busy), whose queue they cap: the time a worker is held grows with how many are held, which the formula's independent service times leave out",
                        nodes[k].0,
                        busy * 100.0
                    ));
                    break;
                }
                todo.extend(model.nodes[k].kind.onward().into_iter().map(|x| (x, d + 1)));
            }
        }
        // Bounded-queue drops beyond the prediction.
        let dropped = crate::fmt::ratio(r.overflow, r.arrivals);
        if r.overflow > 0 && dropped > t.blocking.unwrap_or(0.0) + theory::BLOCKING_ABS {
            out.push(format!(
                "the bounded queue turned away {} ({:.1}%)",
                fmt_count(r.overflow),
                dropped * 100.0
            ));
        }
        // Servers that changed.
        let a = s.at_end.unwrap_or_else(|| s.areas(run.now));
        let cap = (a.capacity - s.at_warmup.capacity) as f64;
        let span = (run.now - run.warmup) as f64;
        if span > 0.0 {
            let avg = cap / span;
            if (avg - r.servers as f64).abs() > 0.01 * r.servers as f64 + 0.5 {
                out.push(format!(
                    "its servers changed during the run ({avg:.1} on average, {} at the end)",
                    r.servers
                ));
            }
        }
        // Unsteady traffic.
        let profiles = model
            .sources
            .iter()
            .any(|s| !matches!(s.profile, crate::profile::Profile::Constant) || s.burst.is_some());
        let traffic = self
            .changes()
            .iter()
            .any(|c| matches!(c.change, crate::sim::Change::Traffic(_)));
        // Arrivals that moved with no profile, burst or traffic change, where
        // retries are counted above: the retries moved them.
        let retried = out.iter().any(|o| o.contains("retries"));
        let bursty = unsteady.is_some() && !retried;
        if profiles || traffic || bursty {
            let spread = windows
                .map(|w| {
                    let mut s = format!(
                        ": arrivals here ranged from {:.0}/s to {:.0}/s between fifths of the run",
                        w.lo, w.hi
                    );
                    if w.bursty(batch) {
                        s.push_str(&format!(
                            ", and per window scattered {:.0}x as much as steady arrivals would",
                            w.dispersion / batch.max(1.0)
                        ));
                    }
                    s
                })
                .unwrap_or_default();
            out.push(format!(
                "traffic was not steady (ramps, spikes or bursts){spread}; the formulas assume a steady state"
            ));
        }
        out.extend(super::theory_fanout::fanout_cause(model, i, nodes, &t.off));
        if run.warmup == 0 {
            out.push("no warm-up: the empty start is in the averages".to_string());
        }
        // A service whose tail is long against the run: the node cannot
        // reach its steady state (the long ones pile up for longer than
        // the run lasts).
        let quarter = run.measured_s * 1e9 / 4.0;
        if let Some(p) = crate::theory::service::exceeds(&m.service, quarter)
            && p >= 0.001
        {
            out.push(format!(
                "{:.2}% of services take longer than a quarter of the measured run ({}): too short a run for the steady state the formulas assume",
                p * 100.0,
                crate::fmt::fmt_ms(Some(quarter / 1e6))
            ));
        }
        if out.is_empty() {
            out.push(format!(
                "no counted cause: the approximation's own error ({}, service SCV {:.2}), chance, or a mechanism the lens does not count; replications with other seeds tell chance apart (a gap that stays is not chance)",
                t.model.as_deref().unwrap_or("-"),
                t.scv.unwrap_or(1.0)
            ));
        }
        out
    }

    /// How the arrival rate at node `i` moved over the measured run:
    /// the measured windows cut into five consecutive blocks, the lowest
    /// and highest block's rate, and whether they moved: by more than 25%
    /// of the mean, and by more than [`NOISE_SDS`] standard deviations of a
    /// block's count as the windows' own scatter within the blocks gives it
    /// (Poisson noise, and batches such as a fan-out's legs, stay inside
    /// that). `None` with fewer than 10 windows.
    pub(super) fn measured_rates(&self, i: usize, run: &Run) -> Option<Spread> {
        let w = self.config().window.as_secs_f64();
        let counts: Vec<f64> = self
            .series(i)
            .records()
            .filter(|r| r.start >= run.warmup)
            .map(|r| r.arrivals as f64)
            .collect();
        if counts.len() < 10 || w <= 0.0 {
            return None;
        }
        Some(block_spread(&counts, w))
    }
}

/// Standard deviations of a block's count the blocks' rates must part by
/// before the traffic counts as moved: the range of five blocks of steady
/// traffic passes 5 deviations about 3 times in 1,000.
pub(super) const NOISE_SDS: f64 = 5.0;

/// How arrivals per window spread over a run.
#[derive(Clone, Copy, Debug)]
pub(super) struct Spread {
    /// The lowest of the five blocks' rates, per second.
    pub lo: f64,
    /// The highest.
    pub hi: f64,
    /// The blocks' rates moved beyond noise (see `measured_rates`).
    pub moved: bool,
    /// The windows' variance within the blocks over their mean count (1
    /// for Poisson arrivals; a batch of `n` at once gives about `n`).
    pub dispersion: f64,
}

impl Spread {
    /// Arrivals in bursts: the windows scatter more than 3 times what
    /// arrivals in batches of `batch` give (1 for single Poisson arrivals).
    pub fn bursty(&self, batch: f64) -> bool {
        self.dispersion > 3.0 * batch.max(1.0)
    }
}

/// `counts` (arrivals per window of `w` seconds) cut into five blocks: the
/// lowest and highest block's rate, whether they moved, and the windows'
/// dispersion (see `measured_rates`).
pub(super) fn block_spread(counts: &[f64], w: f64) -> Spread {
    let size = counts.len() / 5;
    let blocks: Vec<&[f64]> = counts.chunks(size).take(5).collect();
    let rates: Vec<f64> = blocks
        .iter()
        .map(|b| b.iter().sum::<f64>() / b.len() as f64 / w)
        .collect();
    let mean = rates.iter().sum::<f64>() / rates.len() as f64;
    let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = rates.iter().copied().fold(0.0, f64::max);
    // The windows' variance around their own block's mean (a ramp moves
    // the blocks, not the scatter within one), at least the Poisson
    // variance of the mean count.
    let (mut ss, mut df) = (0.0, 0.0);
    for b in &blocks {
        let m = b.iter().sum::<f64>() / b.len() as f64;
        ss += b.iter().map(|x| (x - m) * (x - m)).sum::<f64>();
        df += b.len() as f64 - 1.0;
    }
    let within = if df > 0.0 { ss / df } else { 0.0 };
    let dispersion = if mean > 0.0 { within / (mean * w) } else { 0.0 };
    let var = within.max(mean * w);
    // A block's count has the deviation `sqrt(size var)`; its rate that
    // over `size w`.
    let sd_rate = (size as f64 * var).sqrt() / (size as f64 * w);
    let moved = mean > 0.0 && hi - lo > 0.25 * mean && hi - lo > NOISE_SDS * sd_rate;
    Spread {
        lo,
        hi,
        moved,
        dispersion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, Stream};

    /// Arrivals per window of a Poisson stream of `rps` over `windows`
    /// windows of `w` seconds.
    fn poisson(seed: u64, rps: f64, windows: usize, w: f64) -> Vec<f64> {
        let mut rng = Stream::new(seed, Purpose::Arrivals, "s");
        let mut counts = vec![0.0; windows];
        let mut t = rng.exp1() / rps;
        while t < windows as f64 * w {
            counts[(t / w) as usize] += 1.0;
            t += rng.exp1() / rps;
        }
        counts
    }

    /// Steady Poisson traffic at any rate never reads as moved (the old
    /// rule, 25% of the mean alone, called 10/s over 60 windows a ramp in
    /// several of these seeds); a ramp of a third does.
    #[test]
    fn poisson_noise_is_not_a_ramp() {
        let mut old_moved = 0;
        for seed in 0..200u64 {
            let rps = [2.0, 10.0, 27.0, 300.0][seed as usize % 4];
            let c = poisson(seed, rps, 60, 1.0);
            let sp = block_spread(&c, 1.0);
            assert!(!sp.moved && !sp.bursty(1.0), "seed {seed}, {rps}/s: {sp:?}");
            let (lo, hi) = (sp.lo, sp.hi);
            let mean = c.iter().sum::<f64>() / 60.0;
            old_moved += usize::from(hi - lo > 0.25 * mean);
        }
        assert!(old_moved > 10, "the old rule: {old_moved}");
        for seed in 0..20u64 {
            let mut c = poisson(seed, 30.0, 60, 1.0);
            for (k, x) in c.iter_mut().enumerate() {
                *x += (k as f64 * 0.3).floor();
            }
            assert!(
                block_spread(&c, 1.0).moved,
                "seed {seed}: a ramp from 30/s to 48/s"
            );
        }
    }
}
