//! The loader's load warnings, from the configured traffic before any run:
//!
//! - **open traffic** (Poisson sources at their peak, through the traffic
//!   equations, a global rate limiter capping what passes): a node whose
//!   offered load per server reaches 1 is overloaded, its unbounded queue
//!   grows for as long as the run lasts (or its bounded one drops); a
//!   database's visit costs its reads and writes in the proportion the
//!   handlers send them (`theory::demand::per_visit`);
//! - **closed-loop users** can never make a queue grow without bound: at
//!   most `users` requests are out. Their throughput is MVA's `X(N)`
//!   (`theory::demand::closed_sources`), never `users / think`; a node they
//!   keep busy at least [`SATURATED`] of the time is named as saturated,
//!   with the response time the users then see, and whether it passes
//!   their client's timeout. Their most throughput (the asymptotic bound)
//!   is held to `MAX_RPS`, in the file's own terms.

use super::limits::{MAX_RPS, MAX_SERVERS};
use crate::diag::{Diagnostic, Diagnostics, LineIndex};
use crate::fmt::fmt_num;
use crate::model::Model;
use crate::theory::demand;

/// A closed loop keeping a node busy this share of the time saturates it.
pub const SATURATED: f64 = 0.95;

/// Pushes the load warnings (and the error for closed-loop users past
/// `MAX_RPS`) for a compiled model.
pub(super) fn warnings(
    model: &Model,
    node_at: &[Option<usize>],
    source_at: &[Option<usize>],
    lines: &LineIndex,
    ds: &mut Diagnostics,
) {
    let peak: Vec<f64> = model
        .sources
        .iter()
        .map(|s| {
            if s.closed.is_some() {
                0.0
            } else {
                s.profile.peak(s.rps)
            }
        })
        .collect();
    let Some(rates) = admitted_rates(model, &peak) else {
        return;
    };
    let service = match model.visit_rates(&model.base_rates()) {
        Some(all) => demand::per_visit(model, &all),
        None => model.nodes.iter().map(|n| n.service.mean_secs()).collect(),
    };
    let closed = demand::closed_sources(model, &rates);
    for (s, c) in model.sources.iter().zip(&closed) {
        let Some((users, think)) = &s.closed else {
            continue;
        };
        let most = c.as_ref().map_or(0.0, |c| c.solution.throughput);
        if most > MAX_RPS {
            let i = model
                .sources
                .iter()
                .position(|x| std::ptr::eq(x, s))
                .unwrap_or(0);
            ds.push(
                Diagnostic::error(format!(
                    "Closed: the {users} users of `{}`, thinking {} on average, would send {} requests a second (MVA: users / (think + the time their requests take), at most what the busiest node serves), over the limit of {}",
                    s.id,
                    crate::time::Duration(think.mean().max(0.0) as u64),
                    fmt_num(most.round()),
                    fmt_num(MAX_RPS)
                ))
                .at(source_at.get(i).copied().flatten().map(|a| lines.pos(a)))
                .on(format!("source `{}`", s.id))
                .hint("give fewer users or a longer think time"),
            );
        }
    }
    for (i, n) in model.nodes.iter().enumerate() {
        let p = node_at[i].map(|a| lines.pos(a));
        let item = format!("node `{}`", n.id);
        if n.service.mean().is_infinite() {
            ds.push(
                Diagnostic::warning(format!(
                    "`{}` has a service time with an infinite mean",
                    n.id
                ))
                .at(p)
                .on(&item)
                .hint("a Pareto shape above 1 gives a finite mean; above 2, a finite variance"),
            );
            continue;
        }
        let servers = n.peak_servers();
        let load = rates[i] * service[i] / servers as f64;
        if load >= 1.0 {
            // `as` saturates for huge or infinite loads; never wrap.
            let need = ((rates[i] * service[i]).floor() as u64).saturating_add(1);
            let servers_hint = if need > MAX_SERVERS {
                format!(
                    "it would need {} servers, more than a node may have ({}): split the load over several nodes behind a balancer, or lower the traffic",
                    crate::fmt::fmt_count(need),
                    crate::fmt::fmt_count(MAX_SERVERS)
                )
            } else {
                format!("give it at least {need} servers, or lower the traffic")
            };
            if let Some(cache) = n.behind_cache {
                let cache = &model.nodes[cache as usize].id;
                ds.push(
                    Diagnostic::warning(format!(
                        "`{}` could not serve every read if the cache `{cache}` missed them all (offered load {:.2} per server at peak); it relies on the cache hitting at least {:.0}% of reads",
                        n.id,
                        load,
                        (1.0 - 1.0 / load) * 100.0
                    ))
                    .at(p)
                    .on(&item)
                    .hint(format!("watch the cache's hit ratio; a flush or a cold start sends every read here ({need} servers would take them all)")),
                );
                continue;
            }
            let what = if n.queue.is_none() {
                "its unbounded queue will grow for as long as the run lasts"
            } else {
                "its queue will fill and requests will be dropped"
            };
            ds.push(
                Diagnostic::warning(format!(
                    "`{}` is overloaded at peak traffic: offered load {:.2} per server ({:.1} rps x {} mean service / {} servers); {what}",
                    n.id,
                    load,
                    rates[i],
                    crate::time::Duration((service[i] * 1e9).round() as u64),
                    servers
                ))
                .at(p)
                .on(&item)
                .hint(servers_hint),
            );
            continue;
        }
        // Closed-loop users who keep it busy: saturated, never unstable.
        if n.behind_cache.is_some() {
            continue;
        }
        for (s, c) in model.sources.iter().zip(&closed) {
            let Some(c) = c else { continue };
            let Some(at) = c.nodes.iter().position(|&k| k == i) else {
                continue;
            };
            let u = c.solution.utilization[at] + load;
            if u < SATURATED {
                continue;
            }
            let x = c.solution.throughput;
            let r = c.solution.response;
            let timeout = s
                .client
                .timeout
                .filter(|&t| (t as f64) < r * 1e9)
                .map(|t| {
                    format!(
                        ", past their client's timeout of {}: requests will time out",
                        crate::time::Duration(t)
                    )
                })
                .unwrap_or_default();
            // Servers enough for the users' rate with no waiting anywhere,
            // `N / (Z + D)`, at this node's demand.
            let total: f64 = c.stations.iter().map(|s| s.demand).sum();
            let need = ((c.users as f64 * c.stations[at].demand / (c.think + total)).ceil() as u64)
                .max(u64::from(servers) + 1);
            ds.push(
                Diagnostic::warning(format!(
                    "`{}` is saturated by the {} closed-loop users of `{}`: its {servers} servers are busy {:.0}% of the time, so the users are held to {:.1} requests a second and each request takes about {} end to end (MVA: users / throughput - think){timeout}; the queue stays below the {} users",
                    n.id,
                    c.users,
                    s.id,
                    u.min(1.0) * 100.0,
                    x,
                    crate::time::Duration((r * 1e9).round() as u64),
                    c.users
                ))
                .at(p)
                .on(&item)
                .hint(format!(
                    "more servers here raise the users' throughput until another node saturates (about {need} would keep up with them), or this is the bottleneck the users are meant to find"
                )),
            );
        }
    }
}

/// The traffic equations at `source_rps` (as `Model::visit_rates`), with
/// what a global rate limiter lets through capped at its limit: a limiter in
/// front of a node keeps the excess from ever reaching it. (A limit per IP
/// or per account caps each client, not the total, so it caps nothing here.)
fn admitted_rates(model: &Model, source_rps: &[f64]) -> Option<Vec<f64>> {
    let cap: Vec<Option<f64>> = model
        .nodes
        .iter()
        .map(|n| match &n.kind {
            crate::kinds::KindModel::RateLimiter(l) if l.by == crate::kind::LimitBy::Global => {
                Some(l.rate * 1e9)
            }
            _ => None,
        })
        .collect();
    let n = model.nodes.len();
    let mut ext = vec![0.0; n];
    for (s, &r) in model.sources.iter().zip(source_rps) {
        ext[s.to] += r;
    }
    let edges: usize = model.nodes.iter().map(|m| m.flows.len()).sum::<usize>();
    let sweeps = (50_000_000 / (edges + n).max(1)).clamp(10, 100_000);
    let mut lam = ext.clone();
    for _ in 0..sweeps {
        let mut next = ext.clone();
        for (i, node) in model.nodes.iter().enumerate() {
            let out = cap[i].map_or(lam[i], |c| lam[i].min(c));
            for r in &node.flows {
                next[r.to] += out * r.p;
            }
        }
        let diff = next
            .iter()
            .zip(&lam)
            .map(|(a, b)| (a - b).abs() / a.abs().max(1e-12))
            .fold(0.0, f64::max);
        lam = next;
        if diff < 1e-12 {
            return Some(lam);
        }
    }
    None
}
