//! The theory lens in the report: each node's prediction from its measured
//! arrival rate and configured service (`crate::theory`), compared with what
//! it measured, the causes of a divergence read from what the engine
//! counted, and the network's end-to-end estimate.

use super::*;
use crate::fmt::fmt_ms;
use crate::kind::Kind;
use crate::kinds::KindModel;
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
    /// Second moment of the part drawn from the service distribution (the
    /// part a load curve scales).
    own_m2: f64,
}

impl Simulation {
    /// Fills each node's `theory` and returns the network's estimate.
    pub(super) fn theory(&self, nodes: &mut [(String, NodeReport)], run: &Run) -> NetworkTheory {
        let model = self.model();
        let mut configured = network::configured_rates(model);
        if let Some(c) = configured.as_mut() {
            super::theory_structure::shard_split(model, c);
        }
        let hits: Vec<Option<f64>> = nodes
            .iter()
            .map(|(_, r)| r.cache.as_ref().and_then(|c| c.hit_ratio))
            .collect();
        for i in 0..nodes.len() {
            let mut t = self.node_theory(i, &nodes[i].1, run, &hits);
            if let KindModel::Cache(cm) = &model.nodes[i].kind {
                cache_theory(model, i, cm, &nodes[i].1, run, &mut t);
            }
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
        let closed = self.closed_theory(nodes, run);
        self.read_through_time(nodes);
        // A pooler's queue for connections (not in a closed loop MVA solved).
        if closed.as_ref().is_none_or(|c| c.solved.is_none()) {
            self.pooler_theory(nodes, run);
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
        if let Some(lens) = &closed {
            super::theory_closed::closed_fallback(lens, model, nodes);
        }
        let mut net = self.network_theory(nodes, run);
        if let Some((x, words)) = closed.and_then(|c| c.solved) {
            net.throughput_rps = Some(x);
            net.note = format!("{words}; {}", net.note);
            if words.contains("apart") && net.verdict == Verdict::Agrees {
                net.verdict = Verdict::Diverges;
            }
        }
        net
    }

    fn node_theory(&self, i: usize, r: &NodeReport, run: &Run, hits: &[Option<f64>]) -> NodeTheory {
        let model = self.model();
        let m = &model.nodes[i];
        let per_s = |n: u64| {
            if run.measured_s > 0.0 {
                n as f64 / run.measured_s
            } else {
                0.0
            }
        };
        let arrival_rps = per_s(r.arrivals);
        // The rate the queue serves: an object store's throttled requests
        // are answered at once and never queue.
        let lambda = match m.kind {
            KindModel::ObjectStore(_) => per_s(r.arrivals.saturating_sub(r.dropped)),
            _ => arrival_rps,
        };
        let s = &self.node_state(i).stats;
        let kind = m.kind();
        if let KindModel::RateLimiter(rl) = &m.kind {
            return theory::filter::rate_limiter(
                rl.rate * 1e9,
                rl.by == crate::kind::LimitBy::Global,
                lambda,
            );
        }
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
            (KindModel::Database(d), _) => {
                let w = if s.wait_count > 0 {
                    s.writes as f64 / s.wait_count as f64
                } else {
                    0.0
                };
                let m2 = (1.0 - w) * m.service.second_moment() + w * d.write.second_moment();
                Service {
                    mean: (1.0 - w) * m.service.mean() + w * d.write.mean(),
                    m2,
                    calls: 0.0,
                    own_m2: m2,
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
                let m2 = if calls > 0.0 {
                    // The calls' shape as configured (the called nodes'
                    // services, fan-outs' slowest legs, hit ratios as
                    // measured), scaled to the call time measured.
                    let shape = theory::service::app_calls(model, i, hits)
                        .filter(|c| c.mean > 0.0 && c.scv().is_finite())
                        .map_or(1.0, |c| c.scv());
                    mean * mean + m.service.variance() + shape * calls * calls
                } else {
                    m.service.second_moment()
                };
                Service {
                    mean,
                    m2,
                    calls,
                    own_m2: m.service.second_moment(),
                }
            }
            _ => Service {
                mean: m.service.mean(),
                m2: m.service.second_moment(),
                calls: 0.0,
                own_m2: m.service.second_moment(),
            },
        };
        if !(service.mean.is_finite() && service.m2.is_finite()) {
            return NodeTheory::none(
                Verdict::NoModel,
                "heavy-tailed service (infinite mean or variance): no finite prediction",
                arrival_rps,
            );
        }
        let c = r.servers;
        if c == 0 {
            return NodeTheory::none(
                Verdict::NoModel,
                "no servers at the end of the run",
                arrival_rps,
            );
        }
        // Room for requests in all (in service and waiting), if bounded.
        let mut room = m.queue.map(|q| c as u64 + q as u64);
        if let KindModel::Database(d) = &m.kind
            && let Some(mc) = d.max_connections
        {
            room = Some(room.map_or(mc as u64, |k| k.min(mc as u64)).max(c as u64));
        }
        // A load curve scales the drawn part at the utilization each
        // service starts at: the fixed point of that loop (`theory::load`).
        let mut service = service;
        let mut curve_note = None;
        if let Some(curve) = m.load.as_ref().filter(|l| !l.is_flat()) {
            let own = (service.mean - service.calls) / 1e9;
            match theory::load::fixed_point(
                curve,
                c,
                lambda,
                own,
                service.calls / 1e9,
                room.is_some(),
            ) {
                Ok(g) => {
                    let own_ns = own * 1e9;
                    let calls_m2 =
                        (service.m2 - service.own_m2 - 2.0 * own_ns * service.calls).max(0.0);
                    service.mean = own_ns * g.mean + service.calls;
                    service.m2 = service.own_m2 * g.second
                        + 2.0 * own_ns * g.mean * service.calls
                        + calls_m2;
                    let full = lambda * (own * curve.at(1.0) + service.calls / 1e9) / f64::from(c);
                    let second = if full >= 1.0 {
                        format!(
                            "; metastable: at full load the curve slows it {:.2}x, and the arrivals would then need {full:.2} per server: a burst or fault that fills it tips it into an overload it does not leave",
                            curve.at(1.0)
                        )
                    } else {
                        String::new()
                    };
                    curve_note = Some(format!(
                        "; the load curve slows the service drawn {:.2}x on average at the load it settles at (the fixed point of service and utilization){second}",
                        g.mean
                    ));
                }
                Err(u) => {
                    let mut t = NodeTheory::none(
                        Verdict::Unstable,
                        format!(
                            "unstable (ρ ≥ 1): the load curve slows the service {:.2}x at full load, and no utilization below 1 is consistent with the arrivals (the loop of slower service and higher load passes capacity); measured arrival rate, configured service and curve",
                            curve.at(1.0),
                        ),
                        arrival_rps,
                    );
                    // Saturated: every start at full load.
                    let full = lambda * (own * curve.at(1.0) + service.calls / 1e9) / f64::from(c);
                    t.offered_load = Some(full.max(u.rho).max(1.0));
                    t.model = Some(format!("M/G/{c}"));
                    t.measured_wait_ms = r.mean_wait_ms;
                    return t;
                }
            }
        }
        let mean_s = service.mean / 1e9;
        let scv = if service.mean > 0.0 {
            (service.m2 / (service.mean * service.mean) - 1.0).max(0.0)
        } else {
            0.0
        };
        let what = if service.calls > 0.0 {
            format!(
                "workers held for their own work ({}) and their calls as measured ({}); compared: utilization, wait for a worker, time at the node",
                fmt_ms(Some(m.service.mean() / 1e6)),
                fmt_ms(Some(service.calls / 1e6))
            )
        } else {
            "measured arrival rate, configured service; compared: utilization, wait, time at the node".to_string()
        };
        let mut passed_rps = None;
        let what = match &m.kind {
            KindModel::App(_) if service.calls > 0.0 => {
                format!("{what}; cs² of their sum from the configured services")
            }
            KindModel::Cdn(_) => {
                let hits = r.cache.as_ref().map_or(0, |c| c.hits);
                passed_rps = Some(per_s(r.arrivals.saturating_sub(hits)));
                "the edge's own service on its servers (a hit's whole latency); a miss's wait for the origin holds no server and is counted at the origin, at the measured miss rate (`passed_rps`); compared: utilization, wait (the time at the node includes the origin's answers: not compared)".to_string()
            }
            KindModel::Queue(q) => format!(
                "workers are the servers, `capacity` the waiting places; the measured rate includes redeliveries and retried deliveries ({}); {what}",
                match theory::service::exceeds(&m.service, q.visibility as f64) {
                    Some(p) => format!(
                        "visibility timeout {}: {:.2}% of deliveries outlast it and are delivered again",
                        fmt_ms(Some(q.visibility as f64 / 1e6)),
                        p * 100.0
                    ),
                    None => "the share outlasting the visibility timeout is not computed for this distribution".to_string(),
                }
            ),
            KindModel::ObjectStore(o) => {
                let cap = o.rate * 1e9;
                let throttle = if o.prefixes == 1 {
                    passed_rps = Some(arrival_rps.min(cap));
                    format!(
                        "one prefix: a filter passing min(1, rate / arrivals) = {:.1}% in the long run (`passed_rps`)",
                        100.0 * if arrival_rps > cap { cap / arrival_rps } else { 1.0 }
                    )
                } else {
                    format!(
                        "{} prefixes by key: the throttled share depends on how the keys spread over them (not predicted)",
                        o.prefixes
                    )
                };
                format!(
                    "the requests it served ({:.0}/s; throttled ones are answered at once) on its `concurrency` servers; {throttle}; {what}",
                    lambda
                )
            }
            _ => what,
        };
        let exp = (scv - 1.0).abs() < 1e-9;
        let open_name = if exp {
            format!("M/M/{c}")
        } else {
            format!("M/G/{c}")
        };
        let what = match curve_note {
            Some(n) => format!("{what}{n}"),
            None => what,
        };
        let mut t = NodeTheory::none(Verdict::Agrees, what, arrival_rps);
        t.passed_rps = passed_rps;
        t.service_ms = Some(service.mean / 1e6);
        t.scv = Some(scv);
        t.offered_load = Some(theory::erlang::utilization(c, lambda * mean_s));
        t.measured_wait_ms = r.mean_wait_ms;
        t.own_ms = Some((service.mean - service.calls) / 1e6);
        // Callers that can never have more calls out than it has servers:
        // nothing waits, whatever the formulas say of Poisson arrivals.
        let callers = theory::network::callers_concurrency(model, i)
            .filter(|&n| n <= u64::from(c) && self.changes().is_empty());
        let bounded =
            room.and_then(|k| theory::mmck::mgck(c, k, lambda, mean_s, scv).map(|b| (k, b)));
        let open = theory::erlang::mgc(c, lambda, mean_s, scv);
        if let Some(n) = callers {
            t.model = Some(open_name);
            t.utilization = Some((lambda * mean_s / f64::from(c)).min(1.0));
            t.wait_ms = Some(0.0);
            t.sojourn_ms = Some(mean_s * 1e3);
            t.blocking = room.map(|_| 0.0);
            t.note.push_str(&format!(
                "; its callers can have at most {n} calls out at once, no more than its {c} servers: nothing waits (exact; not the formula's Poisson arrivals)"
            ));
        } else {
            match (bounded, open) {
                (Some((_, b)), Ok(p)) if b.blocking < 1e-4 => {
                    t.model = Some(open_name);
                    t.utilization = Some(p.rho);
                    t.wait_ms = Some(p.wait * 1e3);
                    t.sojourn_ms = Some(p.sojourn * 1e3);
                    t.blocking = Some(b.blocking);
                }
                (Some((k, b)), _) => {
                    if exp {
                        t.model = Some(format!("M/M/{c}/{k}"));
                    } else {
                        t.model = Some(format!("M/G/{c}/{k}"));
                        t.note.push_str(
                        "; bounded queue near full: M/G/c/K by a two-moment approximation (Erlang C's mass spread at Allen-Cunneen's ratio, blocking by flow conservation)",
                    );
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
        }
        if matches!(m.kind, KindModel::Cdn(_)) {
            t.sojourn_ms = None;
        }
        compare(&mut t, r, service.mean / 1e6);
        t
    }
}

/// Judges a node's prediction against what it measured: utilization,
/// wait, time at the node and blocking, each within its tolerance (the
/// wait's floor a share of the mean service, `service_ms`); fewer than
/// `MIN_VISITS` completed visits are not judged.
pub(super) fn compare(t: &mut NodeTheory, r: &NodeReport, service_ms: f64) {
    if r.completed < theory::MIN_VISITS {
        t.verdict = Verdict::TooFewVisits;
        return;
    }
    let pct = |m: f64, p: f64| gap(m, p, service_ms);
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
        && !theory::within(mw, w, theory::WAIT_REL, theory::WAIT_FLOOR * service_ms)
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
}

/// A cache's predicted hit ratio (`theory::cache`) beside the measured one:
/// the lookups' key law from the sources (all must draw from one), the
/// lookup rate measured. Outside `HIT_ABS` (`HIT_ABS_LFU` for the sampled
/// LFU) with enough lookups, the node diverges.
fn cache_theory(
    model: &crate::model::Model,
    i: usize,
    cm: &crate::kinds::cache::CacheModel,
    r: &NodeReport,
    run: &Run,
    t: &mut NodeTheory,
) {
    use crate::kind::Eviction;
    use theory::cache::{Policy, groups, hit_ratio};
    let mut laws = model.sources.iter().map(|s| {
        s.keys
            .as_ref()
            .map_or(crate::keys::Keys::Uniform { keys: 1 }, |k| k.law())
    });
    let Some(law) = laws.next() else { return };
    let why_not = if model.sources.iter().any(|s| s.session.is_some()) {
        Some("sessions choose their own keys".to_string())
    } else if laws.any(|l| l != law) {
        Some("the sources draw keys from different laws".to_string())
    } else if model.nodes.iter().any(|n| match &n.kind {
        KindModel::App(a) => a.handlers.iter().flatten().any(|s| {
            matches!(*s, crate::model::StepModel::Invalidate(c) if c as usize == i)
                || matches!(*s, crate::model::StepModel::WriteThrough { cache, .. } if cache as usize == i)
        }),
        _ => false,
    }) {
        Some("writes invalidate or update its keys (not in the model)".to_string())
    } else if cm.swr > 0 && cm.ttl != u64::MAX {
        Some("stale-while-revalidate serves expired keys (not in the model)".to_string())
    } else {
        None
    };
    let note = match why_not {
        Some(w) => format!("hit ratio not predicted: {w}"),
        None => {
            let policy = match cm.eviction {
                Eviction::Lru => Policy::Lru,
                Eviction::Fifo => Policy::Fifo,
                Eviction::Lfu => Policy::Lfu,
            };
            let lookups = r.cache.as_ref().map_or(0, |c| c.hits + c.misses);
            let lambda = if run.measured_s > 0.0 {
                lookups as f64 / run.measured_s
            } else {
                0.0
            };
            let ttl = (cm.ttl != u64::MAX).then(|| cm.ttl as f64 / 1e9);
            match hit_ratio(&groups(&law), cm.capacity, policy, ttl, lambda) {
                Err(w) => format!("hit ratio {w}"),
                Ok(p) => {
                    t.hit_ratio = Some(p.hit_ratio);
                    let tol = theory::HIT_ABS;
                    // LFU's top C is a bound (the best any eviction does):
                    // judged only if the engine beats it.
                    let off = |m: f64| match policy {
                        Policy::Lfu => m - p.hit_ratio > tol,
                        _ => (m - p.hit_ratio).abs() > tol,
                    };
                    if let Some(m) = r.cache.as_ref().and_then(|c| c.hit_ratio)
                        && lookups >= theory::MIN_VISITS
                        && off(m)
                    {
                        t.off.push(format!(
                            "hit ratio {:.1}% measured, {:.1}% predicted from the key popularity and the configuration (tolerance {:.0} points)",
                            m * 100.0,
                            p.hit_ratio * 100.0,
                            tol * 100.0
                        ));
                        if t.verdict == Verdict::Agrees {
                            t.verdict = Verdict::Diverges;
                        }
                    }
                    format!(
                        "hit ratio {:.1}% predicted: {} ({} keys, {:?}), lookups at the measured rate",
                        p.hit_ratio * 100.0,
                        p.how,
                        crate::fmt::fmt_count(law.count()),
                        law
                    )
                }
            }
        }
    };
    t.note.push_str("; ");
    t.note.push_str(&note);
}

/// How far a measured time `m` is from the predicted `p` (ms), in words:
/// a relative gap when the prediction is at least a hundredth of the
/// service time `scale` (shown as a factor past +999%), else the absolute
/// difference (a ratio to a near-zero base says nothing).
pub(super) fn gap(m: f64, p: f64, scale: f64) -> String {
    let base = (scale * 0.01).max(1e-6);
    if !(m.is_finite() && p.is_finite()) {
        return "not comparable".to_string();
    }
    if p.abs() < base {
        let d = m - p;
        return format!(
            "{} {} a prediction near 0",
            fmt_ms(Some(d.abs())),
            if d >= 0.0 { "above" } else { "below" }
        );
    }
    let rel = (m - p) / p;
    if rel > 999.0 {
        "over 1000x the prediction".to_string()
    } else if rel > 9.99 {
        format!("{:.0}x the prediction", m / p)
    } else {
        format!("{:+.0}%", rel * 100.0)
    }
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
        if let (Some(p), Some(m)) = (t.hit_ratio, r.cache.as_ref().and_then(|c| c.hit_ratio)) {
            let _ = writeln!(
                out,
                "theory: {id}: hit ratio {:.1}% predicted from its keys and configuration, {:.1}% measured",
                p * 100.0,
                m * 100.0
            );
        }
        if !matches!(t.verdict, Verdict::Diverges | Verdict::Unstable) {
            continue;
        }
        let what = match t.verdict {
            Verdict::Unstable => format!(
                "unstable (ρ ≥ 1): arrivals exceed capacity (offered load {:.2} per server)",
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
    if n.throughput_rps.is_some()
        && let Some(words) = n.note.split("; ").next()
    {
        let _ = writeln!(out, "theory: {words}");
    }
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
