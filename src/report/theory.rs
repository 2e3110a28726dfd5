//! The theory lens in the report: each node's prediction from its measured
//! arrival rate and configured service (`crate::theory`), compared with what
//! it measured, the causes of a divergence read from what the engine
//! counted, and the network's end-to-end estimate.

use super::*;
use crate::fmt::{fmt_count, fmt_ms};
use crate::kind::Kind;
use crate::kinds::KindModel;
use crate::model::Model;
use crate::sim::Simulation;
use crate::theory::{self, NetworkTheory, NodeTheory, Verdict, network};
use crate::time::SimTime;

/// What every node's judgement shares.
pub(super) struct Run<'a> {
    pub now: SimTime,
    pub warmup: SimTime,
    pub measured_s: f64,
    pub e2e: &'a EndToEnd,
}

/// A node's service as the model sees it: mean and second moment, ns.
struct Service {
    mean: f64,
    m2: f64,
    /// Of the mean, time measured waiting on calls (apps).
    calls: f64,
}

impl Simulation {
    /// Fills each node's `theory` and returns the network's estimate.
    pub(super) fn theory(&self, nodes: &mut [(String, NodeReport)], run: &Run) -> NetworkTheory {
        let model = self.model();
        let configured = network::configured_rates(model);
        for i in 0..nodes.len() {
            let mut t = self.node_theory(i, &nodes[i].1, run);
            t.configured_rps = configured.as_ref().map(|c| c[i]);
            if matches!(t.verdict, Verdict::NotAQueue) {
                t.configured_rps = None;
            }
            // Arrivals beyond what the configured traffic sends (a cache's
            // fills are not in the traffic equations; a traffic change
            // moves the rate on purpose).
            let traffic = self
                .changes()
                .iter()
                .any(|c| matches!(c.change, crate::sim::Change::Traffic(_)));
            if let Some(conf) = t.configured_rps
                && conf > 0.0
                && !traffic
                && model.nodes[i].kind() != Kind::Cache
                && !matches!(
                    t.verdict,
                    Verdict::NotAQueue | Verdict::TooFewVisits | Verdict::NoModel
                )
                && nodes[i].1.arrivals >= theory::MIN_VISITS
                && t.arrival_rps > (1.0 + theory::ARRIVALS_REL) * conf
            {
                t.off.push(format!(
                    "arrivals {:.0}/s measured, {:.0}/s sent by the configured traffic (tolerance {:.0}%)",
                    t.arrival_rps,
                    conf,
                    theory::ARRIVALS_REL * 100.0
                ));
                if t.verdict == Verdict::Agrees {
                    t.verdict = Verdict::Diverges;
                }
            }
            nodes[i].1.theory = Some(t);
        }
        for i in 0..nodes.len() {
            if let Some(off) = self.fanout_check(i, nodes, run)
                && let Some(t) = nodes[i].1.theory.as_mut()
                && t.verdict != Verdict::TooFewVisits
            {
                t.off.push(off);
                if t.verdict == Verdict::Agrees {
                    t.verdict = Verdict::Diverges;
                }
            }
        }
        for i in 0..nodes.len() {
            let Some(t) = nodes[i].1.theory.as_ref() else {
                continue;
            };
            if matches!(t.verdict, Verdict::Diverges | Verdict::Unstable) {
                let causes = self.causes(i, nodes, t, run);
                if let Some(t) = nodes[i].1.theory.as_mut() {
                    t.causes = causes;
                }
            }
        }
        self.network_theory(nodes, run)
    }

    /// An app that fans out waits for the slowest of its parallel calls:
    /// for `n` legs of exponential time with mean `T`, the expected
    /// maximum is `T x H(n)` (`H` the harmonic number). Compared with the
    /// time its workers were measured to wait on that node per visit; the
    /// words when they part by more than `FANOUT_REL`.
    fn fanout_check(&self, i: usize, nodes: &[(String, NodeReport)], run: &Run) -> Option<String> {
        let model = self.model();
        let m = &model.nodes[i];
        let KindModel::App(app) = &m.kind else {
            return None;
        };
        let (to, count) = app.handlers.iter().flatten().find_map(|s| match *s {
            crate::model::StepModel::FanOut {
                to,
                count,
                hedge_after,
            } if hedge_after == u64::MAX => Some((to as usize, count as u32)),
            _ => None,
        })?;
        let leg = nodes[to].1.theory.as_ref()?.sojourn_ms?;
        let flow = m.flows.iter().find(|f| f.to == to)?.p;
        let share = flow / count.max(1) as f64;
        let harmonic: f64 = (1..=count).map(|k| 1.0 / k as f64).sum();
        let predicted = share * harmonic * leg;
        let r = &nodes[i].1;
        let s = &self.node_state(i).stats;
        let a = s.at_end.unwrap_or_else(|| s.areas(run.now));
        let cap = (a.capacity - s.at_warmup.capacity) as f64;
        let w = r.waits_on.iter().find(|w| w.node == nodes[to].0)?.share;
        if s.wait_count < theory::MIN_VISITS {
            return None;
        }
        let measured = w * cap / s.wait_count as f64 / 1e6;
        (!theory::within(measured, predicted, theory::FANOUT_REL, 0.0)).then(|| {
            format!(
                "waiting on the {count} parallel calls to `{}` took {} per visit, {} predicted for the slowest of {count} exponential legs (tolerance {:.0}%)",
                nodes[to].0,
                fmt_ms(Some(measured)),
                fmt_ms(Some(predicted)),
                theory::FANOUT_REL * 100.0
            )
        })
    }

    fn node_theory(&self, i: usize, r: &NodeReport, run: &Run) -> NodeTheory {
        let model = self.model();
        let m = &model.nodes[i];
        let lambda = if run.measured_s > 0.0 {
            r.arrivals as f64 / run.measured_s
        } else {
            0.0
        };
        let s = &self.node_state(i).stats;
        let kind = m.kind();
        if kind.routes_only() {
            return NodeTheory::none(
                Verdict::NotAQueue,
                "hands requests on at once: no queue of its own",
                lambda,
            );
        }
        let service = match (&m.kind, kind) {
            (_, Kind::Pooler) => {
                return NodeTheory::none(
                    Verdict::NotAQueue,
                    "holds a connection while the database works: its time is the database's",
                    lambda,
                );
            }
            (_, Kind::Cdn | Kind::Queue | Kind::ObjectStore) => {
                return NodeTheory::none(
                    Verdict::NoModel,
                    match kind {
                        Kind::Cdn => {
                            "an edge that answers hits and fetches misses: not modelled as a queue"
                        }
                        Kind::Queue => {
                            "a message queue: deliveries, redeliveries and dead letters are not modelled here"
                        }
                        _ => "capped per key prefix: not modelled as a queue",
                    },
                    lambda,
                );
            }
            (KindModel::Database(d), _) => {
                let w = if s.wait_count > 0 {
                    s.writes as f64 / s.wait_count as f64
                } else {
                    0.0
                };
                Service {
                    mean: (1.0 - w) * m.service.mean() + w * d.write.mean(),
                    m2: (1.0 - w) * m.service.second_moment() + w * d.write.second_moment(),
                    calls: 0.0,
                }
            }
            (KindModel::App(_), _) => {
                // A worker is held for its own work and while its calls
                // (and pool waits) are out: the calls' time as measured.
                let a = s.at_end.unwrap_or_else(|| s.areas(run.now));
                let held =
                    (a.calling - s.at_warmup.calling) + (a.pool_wait - s.at_warmup.pool_wait);
                let calls = if s.wait_count > 0 {
                    held as f64 / s.wait_count as f64
                } else {
                    0.0
                };
                let own = m.service.mean();
                let mean = own + calls;
                let m2 = if calls > 0.05 * mean {
                    2.0 * mean * mean // exponential: M/M/c
                } else {
                    m.service.second_moment() + 2.0 * own * calls + calls * calls
                };
                Service { mean, m2, calls }
            }
            _ => Service {
                mean: m.service.mean(),
                m2: m.service.second_moment(),
                calls: 0.0,
            },
        };
        if !(service.mean.is_finite() && service.m2.is_finite()) {
            return NodeTheory::none(
                Verdict::NoModel,
                "heavy-tailed service (infinite mean or variance): no finite prediction",
                lambda,
            );
        }
        let c = r.servers;
        if c == 0 {
            return NodeTheory::none(Verdict::NoModel, "no servers at the end of the run", lambda);
        }
        let mean_s = service.mean / 1e9;
        let scv = if service.mean > 0.0 {
            (service.m2 / (service.mean * service.mean) - 1.0).max(0.0)
        } else {
            0.0
        };
        // Room for requests in all (in service and waiting), if bounded.
        let mut room = m.queue.map(|q| c as u64 + q as u64);
        if let KindModel::Database(d) = &m.kind
            && let Some(mc) = d.max_connections
        {
            room = Some(room.map_or(mc as u64, |k| k.min(mc as u64)).max(c as u64));
        }
        let what = if service.calls > 0.0 {
            format!(
                "workers held for their own work ({}) and their calls as measured ({}); compared: utilization, wait for a worker, time at the node",
                fmt_ms(Some(m.service.mean() / 1e6)),
                fmt_ms(Some(service.calls / 1e6))
            )
        } else {
            "measured arrival rate, configured service; compared: utilization, wait, time at the node".to_string()
        };
        let exp = (scv - 1.0).abs() < 1e-9;
        let open_name = if exp {
            format!("M/M/{c}")
        } else {
            format!("M/G/{c}")
        };
        let mut t = NodeTheory::none(Verdict::Agrees, what, lambda);
        t.service_ms = Some(service.mean / 1e6);
        t.scv = Some(scv);
        t.offered_load = Some(theory::erlang::utilization(c, lambda * mean_s));
        t.measured_wait_ms = r.mean_wait_ms;
        let bounded = room.and_then(|k| theory::mmck::mmck(c, k, lambda, mean_s).map(|b| (k, b)));
        let open = theory::erlang::mgc(c, lambda, mean_s, scv);
        match (bounded, open) {
            (Some((_, b)), Ok(p)) if b.blocking < 1e-4 => {
                t.model = Some(open_name);
                t.utilization = Some(p.rho);
                t.wait_ms = Some(p.wait * 1e3);
                t.sojourn_ms = Some(p.sojourn * 1e3);
                t.blocking = Some(b.blocking);
            }
            (Some((k, b)), _) => {
                t.model = Some(format!("M/M/{c}/{k}"));
                if !exp {
                    t.note
                        .push_str("; bounded queue near full: service treated as exponential");
                }
                t.utilization = Some(b.utilization);
                t.wait_ms = Some(b.wait * 1e3);
                t.sojourn_ms = Some(b.sojourn * 1e3);
                t.blocking = Some(b.blocking);
            }
            (None, Ok(p)) => {
                t.model = Some(open_name);
                t.utilization = Some(p.rho);
                t.wait_ms = Some(p.wait * 1e3);
                t.sojourn_ms = Some(p.sojourn * 1e3);
            }
            (None, Err(u)) => {
                t.model = Some(open_name);
                t.verdict = Verdict::Unstable;
                t.note = format!("{u}; {}", t.note);
                return t;
            }
        }
        if r.completed < theory::MIN_VISITS {
            t.verdict = Verdict::TooFewVisits;
            return t;
        }
        let pct = |m: f64, p: f64| {
            if p.abs() > 0.0 {
                format!("{:+.0}%", (m - p) / p * 100.0)
            } else {
                "above 0".to_string()
            }
        };
        if let Some(u) = t.utilization
            && (r.utilization - u).abs() > theory::UTILIZATION_ABS
        {
            t.off.push(format!(
                "utilization {:.1}% measured, {:.1}% predicted (tolerance {:.0} points)",
                r.utilization * 100.0,
                u * 100.0,
                theory::UTILIZATION_ABS * 100.0
            ));
        }
        if let (Some(w), Some(mw)) = (t.wait_ms, r.mean_wait_ms)
            && !theory::within(
                mw,
                w,
                theory::WAIT_REL,
                theory::WAIT_FLOOR * service.mean / 1e6,
            )
        {
            t.off.push(format!(
                "wait {} measured, {} predicted ({}; tolerance {:.0}% or {:.0}% of the service time)",
                fmt_ms(Some(mw)),
                fmt_ms(Some(w)),
                pct(mw, w),
                theory::WAIT_REL * 100.0,
                theory::WAIT_FLOOR * 100.0
            ));
        }
        if let (Some(w), Some(mw)) = (t.sojourn_ms, r.mean_sojourn_ms)
            && !theory::within(mw, w, theory::SOJOURN_REL, 0.0)
        {
            t.off.push(format!(
                "time at the node {} measured, {} predicted ({}; tolerance {:.0}%)",
                fmt_ms(Some(mw)),
                fmt_ms(Some(w)),
                pct(mw, w),
                theory::SOJOURN_REL * 100.0
            ));
        }
        if let Some(b) = t.blocking {
            let mb = crate::fmt::ratio(r.overflow, r.arrivals);
            if !theory::within(mb, b, theory::BLOCKING_REL, theory::BLOCKING_ABS) {
                t.off.push(format!(
                    "{:.1}% turned away by the full queue, {:.1}% predicted",
                    mb * 100.0,
                    b * 100.0
                ));
            }
        }
        if !t.off.is_empty() {
            t.verdict = Verdict::Diverges;
        }
        t
    }

    /// Why node `i` parts from theory, from what the engine counted.
    fn causes(
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
            out.push(format!(
                "arrivals were {:.2}x what the configured traffic sends here ({:.0}/s against {:.0}/s)",
                t.arrival_rps / conf,
                t.arrival_rps,
                conf
            ));
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
        // The cache in front of it.
        let windows = self.measured_rates(i, run);
        if let Some(cache) = m.behind_cache
            && let Some(cr) = nodes[cache as usize].1.cache.as_ref()
            && let Some(h) = cr.hit_ratio
        {
            let spread = windows
                .map(|(lo, hi, _)| format!("; misses reaching here ranged from {lo:.0}/s to {hi:.0}/s between fifths of the run"))
                .unwrap_or_default();
            out.push(format!(
                "the cache `{}` answered {:.0}% of reads{spread}",
                nodes[cache as usize].0,
                h * 100.0
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
            .filter(|c| {
                let d = format!("{:?}", c.change);
                ids.iter().any(|id| d.contains(&format!("\"{id}\"")))
            })
            .map(|c| format!("{:?} at {}", c.change, c.at))
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
        let bursty = windows.is_some_and(|(_, _, moved)| moved);
        if profiles || traffic || bursty {
            let spread = windows
                .map(|(lo, hi, _)| format!(": arrivals here ranged from {lo:.0}/s to {hi:.0}/s between fifths of the run"))
                .unwrap_or_default();
            out.push(format!(
                "traffic was not steady (ramps, spikes or bursts){spread}; the formulas assume a steady state"
            ));
        }
        if let KindModel::App(app) = &m.kind
            && let Some(to) = app.handlers.iter().flatten().find_map(|s| match *s {
                crate::model::StepModel::FanOut { to, .. } => Some(to as usize),
                _ => None,
            })
            && t.off.iter().any(|o| o.contains("parallel calls"))
        {
            let leg = &nodes[to].1;
            out.push(format!(
                "a fan-out waits for its slowest leg, and `{}` has a heavy tail: p99.9 {} against a mean of {} (theory assumed exponential legs)",
                nodes[to].0,
                fmt_ms(leg.p999_ms),
                fmt_ms(leg.mean_sojourn_ms)
            ));
        }
        if run.warmup == 0 {
            out.push("no warm-up: the empty start is in the averages".to_string());
        }
        if out.is_empty() {
            out.push(format!(
                "no counted cause: the approximation's own error ({}, service SCV {:.2}) or chance; a longer run or more replications would tell",
                t.model.as_deref().unwrap_or("-"),
                t.scv.unwrap_or(1.0)
            ));
        }
        out
    }

    /// How the arrival rate at node `i` moved over the measured run: the
    /// measured windows cut into five consecutive blocks, the lowest and
    /// highest block's rate, and whether they differ by more than 25% of
    /// the mean (steady traffic varies far less; batches, such as a
    /// fan-out's legs, do not move a block's mean). `None` with fewer than
    /// 10 windows.
    fn measured_rates(&self, i: usize, run: &Run) -> Option<(f64, f64, bool)> {
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
        let size = counts.len() / 5;
        let blocks: Vec<f64> = counts
            .chunks(size)
            .take(5)
            .map(|b| b.iter().sum::<f64>() / b.len() as f64 / w)
            .collect();
        let mean = blocks.iter().sum::<f64>() / blocks.len() as f64;
        let lo = blocks.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = blocks.iter().copied().fold(0.0, f64::max);
        Some((lo, hi, mean > 0.0 && (hi - lo) > 0.25 * mean))
    }

    fn network_theory(&self, nodes: &[(String, NodeReport)], run: &Run) -> NetworkTheory {
        let model = self.model();
        let e = run.e2e;
        let diverging: Vec<String> = nodes
            .iter()
            .filter(|(_, r)| {
                r.theory
                    .as_ref()
                    .is_some_and(|t| matches!(t.verdict, Verdict::Diverges | Verdict::Unstable))
            })
            .map(|(id, _)| id.clone())
            .collect();
        let mut out = NetworkTheory {
            verdict: Verdict::NoModel,
            note: String::new(),
            mean_ms: None,
            measured_mean_ms: e.mean_ms,
            diverging,
        };
        if let Some(why) = not_a_network(model) {
            out.note = why;
            return out;
        }
        if e.arrivals == 0 {
            out.note = "no requests".into();
            return out;
        }
        let visits: Vec<f64> = nodes
            .iter()
            .map(|(_, r)| r.arrivals as f64 / e.arrivals as f64)
            .collect();
        let times: Vec<Option<f64>> = nodes
            .iter()
            .zip(&model.nodes)
            .map(|((_, r), m)| {
                let t = r.theory.as_ref()?;
                if m.kind().routes_only() {
                    return Some(0.0);
                }
                match &m.kind {
                    // An app's own part: the wait for a worker and its own
                    // work (its calls are counted where they go).
                    KindModel::App(_) => Some(t.wait_ms? + m.service.mean() / 1e6),
                    _ => t.sojourn_ms,
                }
            })
            .collect();
        match network::estimate(&visits, &times) {
            Err(network::NoEstimate::NoTraffic) => out.note = "no visits".into(),
            Err(network::NoEstimate::Unpredicted(j)) => {
                let t = nodes[j].1.theory.as_ref();
                out.verdict = if t.is_some_and(|t| t.verdict == Verdict::Unstable) {
                    Verdict::Unstable
                } else {
                    Verdict::NoModel
                };
                out.note = format!(
                    "no estimate: `{}` has no predicted time ({})",
                    nodes[j].0,
                    t.map_or("", |t| t.note.as_str())
                );
            }
            Ok(ms) => {
                out.mean_ms = Some(ms);
                out.note = "sum over nodes of visits per request (as measured) x each node's predicted time per visit (an app's: its wait and own work)".into();
                out.verdict = match e.mean_ms {
                    _ if e.completed < theory::MIN_VISITS => Verdict::TooFewVisits,
                    Some(m) if theory::within(m, ms, theory::END_TO_END_REL, 0.0) => {
                        Verdict::Agrees
                    }
                    Some(_) => Verdict::Diverges,
                    None => Verdict::TooFewVisits,
                };
            }
        }
        out
    }
}

/// Why a model's requests do not add up as a sum of sequential visits.
fn not_a_network(model: &Model) -> Option<String> {
    if model.latency.iter().flatten().any(|&l| l > 0) {
        return Some("no estimate: latency between regions is not modelled".into());
    }
    for m in &model.nodes {
        if let KindModel::App(a) = &m.kind {
            for s in a.handlers.iter().flatten() {
                match s {
                    crate::model::StepModel::FanOut { .. } => {
                        return Some(format!(
                            "no estimate: `{}` fans out in parallel (a sum of visits would over-count)",
                            m.id
                        ));
                    }
                    crate::model::StepModel::Publish(_) => {
                        return Some(format!(
                            "no estimate: `{}` publishes to a queue (work done after the answer)",
                            m.id
                        ));
                    }
                    _ => {}
                }
            }
        }
    }
    None
}

/// The table's theory cells for one node: predicted utilization, predicted
/// wait, and the verdict.
pub(super) fn cells(t: Option<&NodeTheory>) -> [String; 3] {
    let Some(t) = t else {
        return ["-".into(), "-".into(), "-".into()];
    };
    match t.verdict {
        Verdict::NotAQueue | Verdict::NoModel => ["-".into(), "-".into(), t.verdict.label().into()],
        Verdict::Unstable => [
            format!(">{:.0}%", t.offered_load.unwrap_or(1.0).min(99.99) * 100.0),
            "-".into(),
            t.verdict.label().into(),
        ],
        _ => [
            t.utilization
                .map_or("-".into(), |u| format!("{:.1}%", u * 100.0)),
            fmt_ms(t.wait_ms),
            t.verdict.label().into(),
        ],
    }
}

/// The lines under the table: each node that parts from theory, why, and
/// the end-to-end estimate.
pub(super) fn write_lines(report: &Report, out: &mut String) {
    use std::fmt::Write as _;
    for (id, r) in &report.nodes.0 {
        let Some(t) = &r.theory else { continue };
        if !matches!(t.verdict, Verdict::Diverges | Verdict::Unstable) {
            continue;
        }
        let what = match t.verdict {
            Verdict::Unstable => format!(
                "unstable: arrivals exceed capacity (offered load {:.2} per server)",
                t.offered_load.unwrap_or(f64::NAN)
            ),
            _ => format!(
                "{} parts from {}",
                t.off.join("; "),
                t.model.as_deref().unwrap_or("theory")
            ),
        };
        let _ = writeln!(out, "theory: {id}: {what}; why: {}", t.causes.join("; "));
    }
    let n = &report.theory;
    if let Some(ms) = n.mean_ms {
        let _ = writeln!(
            out,
            "theory end to end: mean {} estimated, {} measured ({})",
            fmt_ms(Some(ms)),
            fmt_ms(n.measured_mean_ms),
            match n.verdict {
                Verdict::Agrees => format!("within {:.0}%", crate::theory::END_TO_END_REL * 100.0),
                Verdict::Diverges => format!(
                    "more than {:.0}% apart",
                    crate::theory::END_TO_END_REL * 100.0
                ),
                v => v.label().to_string(),
            }
        );
    }
}
