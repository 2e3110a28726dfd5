//! The theory lens for closed-loop users (`Closed(users, think)`): `N`
//! users never have more than `N` requests out, so no queue grows without
//! bound and arrivals are not Poisson (an arrival finds the network as it
//! is with `N - 1` users: the arrival theorem). The open formulas at the
//! measured rate overstate the wait (5 users at one server: 7.86 ms
//! against the 2.57 ms the engine and MVA agree on). Instead the network is
//! solved by exact Mean Value Analysis (`theory::mva`): each node's demand
//! is its measured visits per user request times its configured service
//! (an app's own work; its calls are demands where they go), on its
//! servers; the solution gives the throughput, and each node's
//! utilization, wait and time at the node, judged with the same
//! tolerances as open traffic.
//!
//! MVA is not applied (the report says why, and a node the open formulas
//! call unstable is `n/a` instead: the users bound its queue) when another
//! source shares the network (open or burst traffic: a mixed network, the
//! lens stays open), several closed sources (a multi-class network),
//! `sessions: Once` or a traffic change (no steady population), round
//! trips between regions, a publish or a fan-out (not one user's sequential
//! path), a node without a model, a bounded queue or pooler with less room
//! than the users (MVA has no blocking), or an app whose workers, held
//! while its calls are out, the users could keep all busy (a layered
//! network, not product form).

use super::theory::{Run, compare};
use super::*;
use crate::fmt::fmt_ms;
use crate::kinds::KindModel;
use crate::model::StepModel;
use crate::sim::{Change, Simulation};
use crate::theory::{self, Verdict, mva};

/// What the closed-loop lens did.
pub(super) struct ClosedLens {
    /// Users.
    pub users: u64,
    /// The throughput MVA predicts, and its words for the network's note.
    pub solved: Option<(f64, String)>,
    /// Why MVA was not applied.
    pub why_not: Option<String>,
}

impl Simulation {
    /// When every source is one closed loop: each node's prediction by MVA
    /// (replacing the open formulas'), or why not. `None` without
    /// closed-loop users.
    pub(super) fn closed_theory(
        &self,
        nodes: &mut [(String, NodeReport)],
        run: &Run,
    ) -> Option<ClosedLens> {
        let model = self.model();
        let src = model.sources.iter().find(|s| s.closed.is_some())?;
        let (users, think) = src.closed.as_ref()?;
        let users = u64::from(*users);
        let mut lens = ClosedLens {
            users,
            solved: None,
            why_not: None,
        };
        let stations = match self.closed_stations(nodes, run, users) {
            Ok(s) => s,
            Err(why) => {
                lens.why_not = Some(why);
                return Some(lens);
            }
        };
        let z = think.mean_secs();
        let demands: Vec<mva::Station> = stations.iter().map(|s| s.station).collect();
        let Some(sol) = mva::solve(users, z, &demands) else {
            lens.why_not = Some("no demand to solve".to_string());
            return Some(lens);
        };
        // An app whose workers wait on its calls: the users must not be
        // able to keep them all busy, or its wait is a layered network's.
        for s in &stations {
            let r = &nodes[s.node].1;
            let Some(t) = r.theory.as_ref() else { continue };
            let (Some(held), Some(own)) = (t.service_ms, t.own_ms) else {
                continue;
            };
            if held > own && u64::from(r.servers) < users {
                let busy = sol.throughput * s.visits * held / 1e3 / f64::from(r.servers);
                if busy > 0.8 {
                    lens.why_not = Some(format!(
                        "`{}`'s workers are held while its calls are out, and the {users} users would keep {:.0}% of them busy (a layered network, not product form)",
                        nodes[s.node].0,
                        busy.min(1.0) * 100.0
                    ));
                    return Some(lens);
                }
            }
        }
        let note = format!(
            "closed network: {users} users thinking {} on average; {} over every node's demand (measured visits per request x configured service; an app's own work, its calls counted where they go); compared: utilization, wait, time at the node",
            fmt_ms(Some(z * 1e3)),
            if sol.exact {
                "exact MVA"
            } else {
                "too many users for exact MVA: the asymptotic bounds"
            }
        );
        for (k, s) in stations.iter().enumerate() {
            let r = &mut nodes[s.node].1;
            let c = r.servers;
            let Some(mut t) = r.theory.take() else {
                continue;
            };
            let (Some(held), Some(own)) = (t.service_ms, t.own_ms) else {
                r.theory = Some(t);
                continue;
            };
            let util = (sol.throughput * s.visits * held / 1e3 / f64::from(c)).min(1.0);
            let hit_offs: Vec<String> = t
                .off
                .iter()
                .filter(|o| o.starts_with("hit ratio"))
                .cloned()
                .collect();
            let tail = t
                .note
                .find("; hit ratio")
                .map(|i| t.note[i..].to_string())
                .unwrap_or_default();
            t.model = Some(mva_label(c, users, &model.nodes[s.node], t.scv));
            t.note = format!("{note}{tail}");
            t.utilization = Some(util);
            t.offered_load = Some(util);
            if sol.exact {
                let wait = (sol.residence[k] / s.visits * 1e3 - own).max(0.0);
                t.wait_ms = Some(wait);
                t.sojourn_ms = Some(wait + held);
            } else {
                t.wait_ms = None;
                t.sojourn_ms = None;
            }
            if matches!(model.nodes[s.node].kind, KindModel::Cdn(_)) {
                t.sojourn_ms = None;
            }
            t.blocking = t.blocking.map(|_| 0.0);
            t.off.clear();
            t.causes.clear();
            t.verdict = Verdict::Agrees;
            compare(&mut t, r, held);
            if !hit_offs.is_empty() && t.verdict != Verdict::TooFewVisits {
                t.verdict = Verdict::Diverges;
            }
            t.off.extend(hit_offs);
            r.theory = Some(t);
        }
        let measured = if run.measured_s > 0.0 {
            run.e2e.arrivals as f64 / run.measured_s
        } else {
            0.0
        };
        let within = theory::within(measured, sol.throughput, theory::THROUGHPUT_REL, 0.0);
        lens.solved = Some((
            sol.throughput,
            format!(
                "closed loop: {} {:.1} requests/s predicted for {users} users (MVA), {measured:.1} measured ({})",
                if sol.exact { "throughput" } else { "at most" },
                sol.throughput,
                if within {
                    format!("within {:.0}%", theory::THROUGHPUT_REL * 100.0)
                } else {
                    format!("more than {:.0}% apart", theory::THROUGHPUT_REL * 100.0)
                }
            ),
        ));
        Some(lens)
    }

    /// The closed network's stations: every node with a prediction that
    /// the users' requests visit, or why MVA does not apply.
    fn closed_stations(
        &self,
        nodes: &[(String, NodeReport)],
        run: &Run,
        users: u64,
    ) -> Result<Vec<Visit>, String> {
        let model = self.model();
        if model.sources.len() > 1 {
            return Err(if model.sources.iter().all(|s| s.closed.is_some()) {
                "several closed-loop sources (a multi-class closed network is not solved here)"
                    .to_string()
            } else {
                "open traffic shares the network (a mixed network): each node is judged at its measured rate, as for open traffic".to_string()
            });
        }
        if model.sources[0].session.as_ref().is_some_and(|s| s.once) {
            return Err("`sessions: Once`: the users leave after one session".to_string());
        }
        if self
            .changes()
            .iter()
            .any(|c| matches!(c.change, Change::Traffic(_) | Change::Restructure(_)))
        {
            return Err("the users changed during the run".to_string());
        }
        if model.latency.iter().flatten().any(|&l| l > 0) {
            return Err("round trips between regions (not in the closed network)".to_string());
        }
        if run.e2e.arrivals == 0 {
            return Err("no requests".to_string());
        }
        let mut out = Vec::new();
        for (i, (id, r)) in nodes.iter().enumerate() {
            let m = &model.nodes[i];
            if r.arrivals == 0 {
                continue;
            }
            match &m.kind {
                KindModel::Queue(_) => {
                    return Err(format!(
                        "`{id}` is a queue: its messages are worked apart from the users' cycle"
                    ));
                }
                KindModel::App(a)
                    if a.handlers
                        .iter()
                        .flatten()
                        .any(|s| matches!(s, StepModel::FanOut { .. } | StepModel::Publish(_))) =>
                {
                    return Err(format!(
                        "`{id}` fans out or publishes (not one sequential path per request)"
                    ));
                }
                KindModel::Pooler(_) if u64::from(m.servers) < users => {
                    return Err(format!(
                        "the pooler `{id}` lets {} queries through at once, fewer than the {users} users (MVA has no such cap)",
                        m.servers
                    ));
                }
                _ => {}
            }
            let Some(t) = r.theory.as_ref() else { continue };
            if t.verdict == Verdict::NotAQueue {
                continue;
            }
            let (Some(_), Some(own)) = (t.service_ms, t.own_ms) else {
                return Err(format!("`{id}` has no model ({})", t.note));
            };
            let mut room = m.queue.map(|q| u64::from(r.servers) + u64::from(q));
            if let KindModel::Database(d) = &m.kind
                && let Some(mc) = d.max_connections
            {
                room = Some(room.map_or(u64::from(mc), |k| k.min(u64::from(mc))));
            }
            if let Some(k) = room.filter(|&k| k < users) {
                return Err(format!(
                    "`{id}` has room for {k} requests, fewer than the {users} users (MVA has no blocking)"
                ));
            }
            let visits = r.arrivals as f64 / run.e2e.arrivals as f64;
            out.push(Visit {
                node: i,
                visits,
                station: mva::Station {
                    demand: visits * own / 1e3,
                    servers: r.servers.max(1),
                },
            });
        }
        Ok(out)
    }
}

/// Closed-loop users only, where MVA was not applied (`lens.why_not`): a
/// node the open formulas call unstable is not (the users bound its
/// queue: `n/a`, saying why), and a divergence's first cause is the closed
/// loop itself, named in place of "no counted cause".
pub(super) fn closed_fallback(
    lens: &ClosedLens,
    model: &crate::model::Model,
    nodes: &mut [(String, NodeReport)],
) {
    let Some(why) = &lens.why_not else { return };
    if model.sources.iter().any(|s| s.closed.is_none()) {
        return;
    }
    let users = lens.users;
    for (_, r) in nodes.iter_mut() {
        let Some(t) = r.theory.as_mut() else { continue };
        match t.verdict {
            Verdict::Unstable => {
                t.verdict = Verdict::NoModel;
                t.note = format!(
                    "saturated by closed-loop users: the open formulas have no steady state here, but at most {users} requests are out at once, so its queue stays bounded; MVA not applied: {why}"
                );
                t.causes.clear();
                t.wait_ms = None;
                t.sojourn_ms = None;
                t.utilization = None;
            }
            Verdict::Diverges => {
                t.causes.retain(|c| !c.starts_with("no counted cause"));
                t.causes.insert(0, format!(
                    "closed-loop users: at most {users} requests are out at once, so arrivals here are not Poisson and the queue is bounded by the users, which the open formula leaves out (MVA not applied: {why})"
                ));
            }
            _ => {}
        }
    }
}

/// A node of the closed network.
struct Visit {
    node: usize,
    visits: f64,
    station: mva::Station,
}

/// The closed model's name, `M/M/c//N`, and, when the node's service is not
/// exponential (its SCV not 1), that MVA assumed it was: "M/M/4//8
/// (exponential service assumed; service here is LogNormal, SCV 0.25)".
fn mva_label(c: u32, users: u64, m: &crate::model::NodeModel, scv: Option<f64>) -> String {
    use crate::dist::Sampler;
    let name = format!("M/M/{c}//{users}");
    let scv = scv.unwrap_or(1.0);
    let exponential =
        matches!(m.service, Sampler::Exponential(_)) && !matches!(m.kind, KindModel::App(_));
    if exponential || (scv - 1.0).abs() < 0.05 {
        return name;
    }
    let what = match (&m.kind, &m.service) {
        (KindModel::App(_), _) => "an app's work plus its calls".to_string(),
        (_, Sampler::Constant(_)) => "Constant".to_string(),
        (_, Sampler::Exponential(_)) => "Exponential".to_string(),
        (_, Sampler::Uniform { .. }) => "Uniform".to_string(),
        (_, Sampler::Normal { .. }) => "Normal".to_string(),
        (_, Sampler::LogNormal { .. }) => "LogNormal".to_string(),
        (_, Sampler::Pareto { .. }) => "Pareto".to_string(),
        (_, Sampler::Mixture(_)) => "a Mixture".to_string(),
    };
    format!("{name} (exponential service assumed; service here is {what}, SCV {scv:.2})")
}
