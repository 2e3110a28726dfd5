//! The theory lens's end-to-end estimate (open network, Jackson-style): the
//! nodes' predicted times weighted by their measured visits per request,
//! `Σ v_j T_j`, then three corrections, each zero where its feature is
//! absent:
//!
//! - **regions**: each hop between nodes (or from the users to the entry)
//!   that crosses regions adds the round trip, twice the one-way latency,
//!   per hop taken (a node outside every region is where its users are; a
//!   `Nearest` balancer's backend gets the users it is nearest to);
//! - **fan-out**: an app waits for the slowest of its `n` parallel legs, not
//!   their sum: with legs taken as exponential of mean `R` (the leg's
//!   predicted response, its own calls included), `R H(n)` instead of
//!   `n R`;
//! - **publish**: a publish to a queue is fire and forget: the caller's path
//!   gets the enqueue time (instant in the engine), not the queue's work.
//!
//! Hops are split between a node's callers by the traffic equations
//! (`Model::visit_rates`), so every correction scales with the visits
//! measured.

use super::*;
use crate::kinds::KindModel;
use crate::model::{Model, NO_REGION, StepModel};
use crate::sim::Simulation;
use crate::theory::{self, NetworkTheory, Verdict, fanout::Slowest, network};

/// Deepest chain of calls a leg's response is followed through.
const MAX_DEPTH: u32 = 32;

/// What an app does with the calls to one target.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Use {
    /// Sequential calls (or a balancer's routes): the caller waits.
    Wait,
    /// `n` parallel calls: the caller waits for the slowest.
    FanOut(u32),
    /// Fire and forget.
    Publish,
}

/// The network as the estimate sees it.
struct Net<'a> {
    model: &'a Model,
    /// Visits per user request, measured.
    v: Vec<f64>,
    /// Predicted time per visit at each node itself, ms.
    t: Vec<Option<f64>>,
    /// Each node's configured rate (traffic equations), or `None`.
    conf: Option<Vec<f64>>,
    /// Share of the users' requests from each source.
    src_share: Vec<f64>,
    /// Per node: its callers (nodes and sources) in the graph.
    callers: Vec<usize>,
    /// Per node: what the traffic equations send into it along every edge.
    into: Vec<f64>,
    /// Predicted wait in each node's queue, ms (0 when not predicted).
    wait: Vec<f64>,
    /// Responses already worked out.
    memo: std::cell::RefCell<Vec<Option<f64>>>,
}

impl Net<'_> {
    /// The expected slowest of `k`'s `n` parallel legs to `j`, each
    /// taking `leg` ms on average, and how; or why there is no estimate.
    fn slowest(&self, k: usize, j: usize, n: u32, leg: f64) -> Result<(f64, String), String> {
        match super::theory_fanout::slowest_leg(self.model, j, n, leg, self.wait[j]) {
            Slowest::Modelled { mean, how } => Ok((mean, how)),
            Slowest::NotModelled(why) => Err(format!(
                "no estimate: `{}` fans out to `{}`, and {why}",
                self.model.nodes[k].id, self.model.nodes[j].id
            )),
        }
    }

    /// Visits per user request that go from node `k` to node `j`: `j`'s
    /// visits split over its callers in proportion to what the traffic
    /// equations send along each edge. `None` when that split is unknown
    /// (no configured rates and several callers).
    fn hop(&self, k: usize, j: usize) -> Option<f64> {
        let p = self.model.nodes[k].flows.iter().find(|f| f.to == j)?.p;
        let Some(conf) = &self.conf else {
            return (self.callers[j] == 1).then_some(self.v[j]);
        };
        if self.into[j] > 0.0 {
            Some(self.v[j] * conf[k] * p / self.into[j])
        } else {
            Some(0.0)
        }
    }

    /// Round trip from node `k` (or the users, `None`) to node `j`, ms.
    fn rtt(&self, k: Option<usize>, j: usize) -> f64 {
        let m = self.model;
        let to = m.node_region[j];
        let from = k.map_or(NO_REGION, |k| m.node_region[k]);
        let ns = if from != NO_REGION {
            m.region_latency(from, to) as f64
        } else if let Some(KindModel::LoadBalancer(lb)) = k.map(|k| &m.nodes[k].kind)
            && lb.policy == crate::kind::Policy::Nearest
        {
            // Each user goes to a nearest backend: the latency of the users
            // for whom `j` is one.
            let (mut sum, mut w) = (0.0, 0.0);
            for (&r, sw) in m.source_region.iter().zip(&self.src_share) {
                let d = |b: u32| m.region_latency(r, m.node_region[b as usize]);
                let near = lb.backends.iter().map(|&b| d(b)).min().unwrap_or(0);
                if d(j as u32) == near {
                    sum += sw * near as f64;
                    w += sw;
                }
            }
            if w > 0.0 { sum / w } else { 0.0 }
        } else {
            // Where its users are.
            (m.source_region.iter().zip(&self.src_share))
                .map(|(&r, w)| w * m.region_latency(r, to) as f64)
                .sum()
        };
        2.0 * ns / 1e6
    }

    /// Predicted response of one visit to `j`, ms: its own time plus, per
    /// visit, its calls' round trips and responses (a fan-out's slowest
    /// leg, nothing for a publish).
    fn response(&self, j: usize, depth: u32) -> Result<f64, String> {
        if let Some(r) = self.memo.borrow()[j] {
            return Ok(r);
        }
        if depth > MAX_DEPTH {
            return Err(format!(
                "no estimate: calls nest deeper than {MAX_DEPTH} (a cycle?)"
            ));
        }
        let Some(t) = self.t[j] else {
            return Err(self.model.nodes[j].id.clone());
        };
        let mut r = t;
        if self.v[j] <= 0.0 {
            return Ok(r);
        }
        for f in &self.model.nodes[j].flows {
            let u = uses(self.model, j, f.to)?;
            if u == Use::Publish {
                continue;
            }
            let h = self.hop(j, f.to).ok_or_else(|| self.split_unknown(f.to))?;
            if h > 0.0 {
                let rtt = self.rtt(Some(j), f.to);
                let response = self.response(f.to, depth + 1)?;
                // A fan-out's `n` legs cost the link's round trip once
                // (every leg crosses it alike) and the slowest of their
                // `n` responses.
                let per = match u {
                    Use::FanOut(n) => (rtt + self.slowest(j, f.to, n, response)?.0) / n as f64,
                    _ => rtt + response,
                };
                r += h / self.v[j] * per;
            }
        }
        self.memo.borrow_mut()[j] = Some(r);
        Ok(r)
    }

    fn split_unknown(&self, j: usize) -> String {
        format!(
            "no estimate: `{}` has several callers and the sources no fixed rate to split its visits by",
            self.model.nodes[j].id
        )
    }
}

/// How node `k` uses its calls to `j`; an error when an app mixes kinds
/// of use for one target, or hedges a fan-out.
fn uses(model: &Model, k: usize, j: usize) -> Result<Use, String> {
    let m = &model.nodes[k];
    let KindModel::App(app) = &m.kind else {
        return Ok(Use::Wait);
    };
    let mut found: Option<Use> = None;
    for s in app.handlers.iter().flatten() {
        let u = match *s {
            StepModel::Publish(q) if q as usize == j => Use::Publish,
            StepModel::FanOut {
                to,
                count,
                hedge_after,
            } if to as usize == j => {
                if hedge_after != u64::MAX {
                    return Err(format!(
                        "no estimate: `{}` hedges its fan-out to `{}` (not modelled)",
                        m.id, model.nodes[j].id
                    ));
                }
                Use::FanOut(count as u32)
            }
            StepModel::Publish(_) | StepModel::FanOut { .. } => continue,
            _ if targets(s).contains(&(j as u32)) => Use::Wait,
            _ => continue,
        };
        match found {
            Some(f) if f != u => {
                return Err(format!(
                    "no estimate: `{}` both waits on and fans out or publishes to `{}`",
                    m.id, model.nodes[j].id
                ));
            }
            _ => found = Some(u),
        }
    }
    Ok(found.unwrap_or(Use::Wait))
}

/// The nodes a step calls (as the app's flows count them).
fn targets(s: &StepModel) -> Vec<u32> {
    match *s {
        StepModel::Call(t)
        | StepModel::Read(t)
        | StepModel::Write(t)
        | StepModel::Invalidate(t) => {
            vec![t]
        }
        StepModel::CacheAside { cache, db } | StepModel::WriteThrough { cache, db } => {
            vec![cache, db]
        }
        StepModel::ReadFresh { replicas, .. } => vec![replicas],
        StepModel::Publish(q) => vec![q],
        StepModel::FanOut { to, .. } => vec![to],
    }
}

impl Simulation {
    /// The end-to-end estimate from the nodes' predictions.
    pub(super) fn network_theory(
        &self,
        nodes: &[(String, NodeReport)],
        run: &super::theory::Run,
    ) -> NetworkTheory {
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
            throughput_rps: None,
            diverging,
        };
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
            .enumerate()
            .map(|(i, ((_, r), m))| {
                let t = r.theory.as_ref()?;
                if m.kind().routes_only() {
                    return Some(0.0);
                }
                match &m.kind {
                    // An app's own part: the wait for a worker and its own
                    // work (its calls are counted where they go); a CDN's
                    // edge (a miss's origin is counted there).
                    KindModel::App(_) => {
                        Some(t.wait_ms? + t.own_ms.unwrap_or(m.service.mean() / 1e6))
                    }
                    KindModel::Cdn(_) => Some(t.wait_ms? + t.service_ms?),
                    // A pooler's wait for a connection (its hold is the
                    // database's time, counted there).
                    KindModel::Pooler(_) => Some(t.wait_ms.unwrap_or(0.0)),
                    // A read-through cache's own time (its fetches are
                    // counted at the backend they visit).
                    KindModel::Cache(c) if c.backend.is_some() => {
                        let fetch = super::theory_structure::fetch_per_lookup(model, nodes, i)
                            .map_or(0.0, |(missed, fetch, _)| missed * fetch);
                        Some((t.sojourn_ms? - fetch).max(0.0) * (1.0 - t.blocking.unwrap_or(0.0)))
                    }
                    // Visits turned away at once take no time: an object
                    // store's throttled ones (as measured), a full queue's
                    // (as predicted).
                    KindModel::ObjectStore(_) => {
                        let served = 1.0 - crate::fmt::ratio(r.dropped, r.arrivals);
                        Some(t.sojourn_ms? * served)
                    }
                    _ => Some(t.sojourn_ms? * (1.0 - t.blocking.unwrap_or(0.0))),
                }
            })
            .collect();
        let base = match network::estimate(&visits, &times) {
            Err(network::NoEstimate::NoTraffic) => {
                out.note = "no visits".into();
                return out;
            }
            Err(network::NoEstimate::Unpredicted(j)) => {
                out.note = unpredicted(nodes, j, &mut out.verdict);
                return out;
            }
            Ok(ms) => ms,
        };
        let total: f64 = model.sources.iter().map(|s| s.rps).sum();
        let conf = network::configured_rates(model);
        let n = model.nodes.len();
        let mut callers = vec![0usize; n];
        let mut into = vec![0.0; n];
        for s in &model.sources {
            callers[s.to] += 1;
            into[s.to] += s.rps;
        }
        for (a, m) in model.nodes.iter().enumerate() {
            for f in &m.flows {
                callers[f.to] += 1;
                into[f.to] += conf.as_ref().map_or(0.0, |c| c[a] * f.p);
            }
        }
        let net = Net {
            model,
            v: visits,
            t: times,
            conf,
            callers,
            into,
            wait: nodes
                .iter()
                .map(|(_, r)| r.theory.as_ref().and_then(|t| t.wait_ms).unwrap_or(0.0))
                .collect(),
            memo: std::cell::RefCell::new(vec![None; n]),
            src_share: model
                .sources
                .iter()
                .map(|s| {
                    if total > 0.0 {
                        s.rps / total
                    } else {
                        1.0 / model.sources.len() as f64
                    }
                })
                .collect(),
        };
        let mut ms = base;
        let mut how = vec![
            "sum over nodes of visits per request (as measured) x each node's predicted time per visit (an app's: its wait and own work)".to_string(),
        ];
        match corrections(&net, nodes) {
            Ok((c, words)) => {
                ms += c;
                how.extend(words);
            }
            Err(why) => {
                out.note = if let Some(j) = nodes.iter().position(|(id, _)| *id == why) {
                    unpredicted(nodes, j, &mut out.verdict)
                } else {
                    why
                };
                return out;
            }
        }
        match pool_waits(&net, nodes, run) {
            Ok((w, words)) => {
                ms += w;
                how.extend(words);
            }
            Err((verdict, why)) => {
                out.verdict = verdict;
                out.note = why;
                return out;
            }
        }
        match completed_only(ms, e, nodes, run) {
            Ok((m, words)) => {
                ms = m;
                how.extend(words);
            }
            Err(why) => {
                out.note = why;
                return out;
            }
        }
        out.mean_ms = Some(ms);
        out.note = how.join("; ");
        out.verdict = match e.mean_ms {
            _ if e.completed < theory::MIN_VISITS => Verdict::TooFewVisits,
            Some(m) if theory::within(m, ms, theory::END_TO_END_REL, 0.0) => Verdict::Agrees,
            Some(_) => Verdict::Diverges,
            None => Verdict::TooFewVisits,
        };
        out
    }
}

/// The note for a node without a predicted time (and the verdict).
fn unpredicted(nodes: &[(String, NodeReport)], j: usize, verdict: &mut Verdict) -> String {
    let t = nodes[j].1.theory.as_ref();
    *verdict = if t.is_some_and(|t| t.verdict == Verdict::Unstable) {
        Verdict::Unstable
    } else {
        Verdict::NoModel
    };
    format!(
        "no estimate: `{}` has no predicted time ({})",
        nodes[j].0,
        t.map_or("", |t| t.note.as_str())
    )
}

/// The regions', fan-outs' and publishes' corrections to `Σ v_j T_j`, ms
/// per request, with words for the note.
fn corrections(net: &Net, nodes: &[(String, NodeReport)]) -> Result<(f64, Vec<String>), String> {
    let model = net.model;
    let mut total = 0.0;
    let mut words = Vec::new();
    let has_regions = model.latency.iter().flatten().any(|&l| l > 0);
    if has_regions {
        let mut lat = 0.0;
        for ((s, w), &r) in model
            .sources
            .iter()
            .zip(&net.src_share)
            .zip(&model.source_region)
        {
            // The users' requests reach the entry once each (retries
            // aside): the share of requests from this source.
            lat += w * 2.0 * model.region_latency(r, model.node_region[s.to]) as f64 / 1e6;
        }
        for k in 0..model.nodes.len() {
            for f in &model.nodes[k].flows {
                let rtt = net.rtt(Some(k), f.to);
                if rtt > 0.0 {
                    let h = net.hop(k, f.to).ok_or_else(|| net.split_unknown(f.to))?;
                    lat += h * rtt;
                }
            }
        }
        total += lat;
        words.push(format!(
            "plus {} of round trips between regions",
            crate::fmt::fmt_ms(Some(lat))
        ));
    }
    for k in 0..model.nodes.len() {
        for f in &model.nodes[k].flows {
            let u = uses(model, k, f.to)?;
            if u == Use::Wait {
                continue;
            }
            let h = net.hop(k, f.to).ok_or_else(|| net.split_unknown(f.to))?;
            if h <= 0.0 {
                continue;
            }
            let leg = net.rtt(Some(k), f.to) + net.response(f.to, 0)?;
            let (cut, what) = match u {
                Use::FanOut(n) => {
                    let (slowest, how) = net.slowest(k, f.to, n, leg)?;
                    (
                        h * (leg - slowest / n as f64),
                        format!(
                            "`{}` waits for the slowest of {n} parallel calls to `{}` ({} rather than {n} x {}: {how})",
                            nodes[k].0,
                            nodes[f.to].0,
                            crate::fmt::fmt_ms(Some(slowest)),
                            crate::fmt::fmt_ms(Some(leg)),
                        ),
                    )
                }
                _ => (
                    h * leg,
                    format!(
                        "`{}` publishes to `{}` without waiting (its {} per message left out)",
                        nodes[k].0,
                        nodes[f.to].0,
                        crate::fmt::fmt_ms(Some(leg))
                    ),
                ),
            };
            total -= cut;
            words.push(what);
        }
    }
    Ok((total, words))
}

/// The waits for apps' connection pools, ms per request: each pool is a
/// queue of `c` servers (its open connections) whose service is the time a
/// connection is held, the pooled call's predicted response (its round trip
/// included), fed at the rate the app measured making those calls. M/M/c
/// (the holding time taken as exponential); `Err` when a pool is unstable
/// (ρ ≥ 1: its calls need more connections than it has).
fn pool_waits(
    net: &Net,
    nodes: &[(String, NodeReport)],
    run: &super::theory::Run,
) -> Result<(f64, Vec<String>), (Verdict, String)> {
    let model = net.model;
    let mut total = 0.0;
    let mut words = Vec::new();
    for (i, m) in model.nodes.iter().enumerate() {
        let KindModel::App(app) = &m.kind else {
            continue;
        };
        let Some(pool) = app.pool else { continue };
        let (to, r) = (pool.target as usize, &nodes[i].1);
        let Some(c) = r.app.as_ref().and_then(|a| a.pool_open) else {
            continue;
        };
        let Some(p) = m.flows.iter().find(|f| f.to == to).map(|f| f.p) else {
            continue;
        };
        if net.v[i] <= 0.0 || run.measured_s <= 0.0 || p <= 0.0 {
            continue;
        }
        let what = |x: String| (Verdict::NoModel, x);
        let hold = net.rtt(Some(i), to) + net.response(to, 0).map_err(what)?;
        let lambda = r.arrivals as f64 / run.measured_s * p;
        let (id, target) = (&nodes[i].0, &nodes[to].0);
        match theory::erlang::mmc(c, lambda, hold / 1e3) {
            Ok(q) => {
                let per_request = net.v[i] * p * q.wait * 1e3;
                total += per_request;
                words.push(format!(
                    "plus {} waiting for `{id}`'s pool of {c} connections to `{target}` (M/M/{c}: {lambda:.0} calls/s each holding a connection {} as predicted; {:.0}% busy)",
                    crate::fmt::fmt_ms(Some(per_request)),
                    crate::fmt::fmt_ms(Some(hold)),
                    q.rho * 100.0
                ));
            }
            Err(u) => {
                return Err((
                    Verdict::Unstable,
                    format!(
                        "no estimate: `{id}`'s pool of {c} connections to `{target}` is unstable (ρ ≥ 1): {lambda:.0} calls/s holding a connection {} each need {:.1} connections; the waits for it grow without bound",
                        crate::fmt::fmt_ms(Some(hold)),
                        u.rho * f64::from(c)
                    ),
                ));
            }
        }
    }
    Ok((total, words))
}

/// Failures below this share of the finished requests are left in the
/// estimate (they move it by less than the tolerance's noise).
const FAILED_SHARE: f64 = 0.01;

/// The estimate `all` (ms, the mean over every request, failed ones
/// included, as the visits counted) turned into the mean of the completed
/// ones, which is what is measured: with a share `f` of requests failing
/// after `W_f` on average (measured by Little's law: time in the system of
/// all requests minus that of the completed), `(all - f W_f) / (1 - f)`.
/// `Err` (no estimate, in words) when failed requests left work behind
/// (timeouts: the visits counted include work for requests already given
/// up, which no path weighting can split).
fn completed_only(
    all: f64,
    e: &EndToEnd,
    nodes: &[(String, NodeReport)],
    run: &super::theory::Run,
) -> Result<(f64, Vec<String>), String> {
    let finished = e.completed + e.dropped;
    if finished == 0 || e.dropped == 0 {
        return Ok((all, Vec::new()));
    }
    let f = e.dropped as f64 / finished as f64;
    if f < FAILED_SHARE {
        return Ok((all, Vec::new()));
    }
    let timeouts = e.timed_out
        + nodes
            .iter()
            .filter_map(|(_, r)| r.app.as_ref().map(|a| a.call_timeouts))
            .sum::<u64>();
    if timeouts > 0 {
        return Err(format!(
            "no estimate for the completed requests: {:.1}% of requests failed and {} calls or attempts timed out while their work went on (the visits counted include that orphaned work, which no weighting by paths can split off)",
            f * 100.0,
            timeouts
        ));
    }
    let Some(ok_ms) = e.mean_ms else {
        return Err(format!(
            "no estimate: {:.1}% of requests failed and none completed",
            f * 100.0
        ));
    };
    // Mean time in the system of every request, by Little's law.
    let every = if e.arrivals > 0 {
        e.mean_in_system * run.measured_s * 1e3 / e.arrivals as f64
    } else {
        0.0
    };
    let failed_ms = ((every - (1.0 - f) * ok_ms) / f).max(0.0);
    let ms = ((all - f * failed_ms) / (1.0 - f)).max(0.0);
    Ok((
        ms,
        vec![format!(
            "for the completed requests: {:.1}% failed, after {} on average (measured: Little's law on all requests less the completed), so (estimate - failed share x their time) / completed share",
            f * 100.0,
            crate::fmt::fmt_ms(Some(failed_ms))
        )],
    ))
}
