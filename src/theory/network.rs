//! The whole system as an open queueing network (Jackson): with Poisson
//! arrivals and each node behaving as its own queue at the rate the traffic
//! equations give it, a request's mean time in the system is the sum over
//! nodes of (visits per request) x (mean time per visit):
//! `E[T] = sum_j v_j T_j`, `v_j = lambda_j / Lambda`.
//!
//! Assumptions, named: calls are sequential, no network delay between
//! nodes, every node stable. The report corrects the sum for fan-outs (the
//! slowest leg, not the sum of the legs), publishes (fire and forget) and
//! round trips between regions (`report::theory_e2e`). The per-visit times `T_j` are each node's own
//! predicted time (an app's wait for a worker plus its own work: its calls
//! are counted at the nodes they visit).

use crate::model::Model;

/// Why there is no estimate.
#[derive(Clone, Debug, PartialEq)]
pub enum NoEstimate {
    /// No request arrived.
    NoTraffic,
    /// A visited node has no predicted time (by index).
    Unpredicted(usize),
}

/// `sum_j visits[j] x time[j]`, skipping nodes visited less than once per
/// million requests. `visits` per user request; `time` per visit, in any
/// unit (the answer is in the same one).
pub fn estimate(visits: &[f64], time: &[Option<f64>]) -> Result<f64, NoEstimate> {
    let mut total = 0.0;
    let mut any = false;
    for (j, (&v, t)) in visits.iter().zip(time).enumerate() {
        if v.is_nan() || v <= 1e-6 {
            continue;
        }
        any = true;
        match t {
            Some(t) if t.is_finite() => total += v * t,
            _ => return Err(NoEstimate::Unpredicted(j)),
        }
    }
    if any {
        Ok(total)
    } else {
        Err(NoEstimate::NoTraffic)
    }
}

/// The rate at each node, requests per second, that the configured traffic
/// alone implies: `Model::visit_rates` at the sources' base rates (so
/// retries and timeouts are not in it, and every cache-aside read is
/// counted as a miss). `None` when a source has no fixed rate (closed-loop
/// users, bursts), when a `Nearest` balancer routes by the users' region
/// (the equations split its traffic by its routes' fixed shares, which
/// would be wrong), or the equations do not settle.
pub fn configured_rates(model: &Model) -> Option<Vec<f64>> {
    if model
        .sources
        .iter()
        .any(|s| s.closed.is_some() || s.burst.is_some())
    {
        return None;
    }
    if model.nodes.iter().any(|n| {
        matches!(&n.kind, crate::kinds::KindModel::LoadBalancer(lb)
            if lb.policy == crate::kind::Policy::Nearest)
    }) {
        return None;
    }
    model.visit_rates(&model.base_rates())
}

/// The most calls node `j` can have in progress at once, when everything
/// that reaches it comes from apps whose workers wait for the answer: each
/// caller's workers (at its most instances) times the calls one worker has
/// out to `j` at once (a fan-out's legs, else 1). `None` when anything else
/// sends it requests (users, a balancer, a station's routes, a cache's
/// fills, a publisher) or a caller can leave a call behind (a call timeout,
/// a hedged fan-out), so more could be in progress.
///
/// When it is at most `j`'s servers, no request ever waits there, exactly:
/// the queueing formulas' Poisson arrivals do not apply (a chain of apps
/// each holding a worker while it calls the next queues only at its head).
pub fn callers_concurrency(model: &Model, j: usize) -> Option<u64> {
    use crate::kinds::KindModel;
    use crate::model::StepModel;
    if model.sources.iter().any(|s| s.to == j) {
        return None;
    }
    let mut total = 0u64;
    let mut any = false;
    for m in &model.nodes {
        if !m.flows.iter().any(|f| f.to == j) {
            continue;
        }
        any = true;
        let KindModel::App(app) = &m.kind else {
            return None;
        };
        if app.calls.as_ref().is_some_and(|c| c.timeout.is_some()) {
            return None;
        }
        let mut per_worker = 0u64;
        for s in app.handlers.iter().flatten() {
            match *s {
                StepModel::Publish(q) if q as usize == j => return None,
                StepModel::FanOut {
                    to,
                    count,
                    hedge_after,
                } if to as usize == j => {
                    if hedge_after != u64::MAX {
                        return None;
                    }
                    per_worker = per_worker.max(u64::from(count));
                }
                _ if s.waits_on().any(|t| t as usize == j) => per_worker = per_worker.max(1),
                _ => {}
            }
        }
        if app.pool.is_some_and(|p| p.target as usize == j) {
            per_worker = per_worker.max(1);
        }
        let instances = app
            .autoscale
            .map_or(app.instances, |a| a.max.max(app.instances));
        total = total.saturating_add(
            per_worker
                .saturating_mul(u64::from(app.workers))
                .saturating_mul(u64::from(instances)),
        );
    }
    any.then_some(total)
}

/// The most requests that can be at node `j` at once, and what binds it
/// (`"the pooler `pgb`'s 40 connections"`), when everything reaching it is
/// held upstream: closed-loop users (their number), apps whose workers
/// wait for the answer (workers x instances x legs, no call timeout, no
/// hedging, no publish, and no more than can be at the app), a pooler's
/// connections, and balancers, routers, limiters, stations and
/// read-through caches passing on what can be at them. `None` when open
/// traffic can reach it (nothing then bounds its queue but its own room).
pub fn concurrency_cap(model: &Model, j: usize) -> Option<(u64, String)> {
    let mut state = vec![0u8; model.nodes.len()];
    let mut memo = vec![None; model.nodes.len()];
    cap_of(model, j, &mut state, &mut memo)
}

fn cap_of(
    model: &Model,
    j: usize,
    state: &mut [u8],
    memo: &mut [Option<(u64, String)>],
) -> Option<(u64, String)> {
    use crate::kinds::KindModel;
    use crate::model::StepModel;
    match state[j] {
        1 => return None, // a loop: no bound found this way
        2 => return memo[j].clone(),
        _ => {}
    }
    state[j] = 1;
    let mut total = 0u64;
    let mut why: Vec<(u64, String)> = Vec::new();
    let mut ok = true;
    for s in model.sources.iter().filter(|s| s.to == j) {
        match &s.closed {
            Some((users, _)) => {
                total = total.saturating_add(u64::from(*users));
                why.push((
                    u64::from(*users),
                    format!("the {users} users of `{}`", s.id),
                ));
            }
            None => ok = false,
        }
    }
    for (i, m) in model.nodes.iter().enumerate() {
        if !ok {
            break;
        }
        if i == j || !m.flows.iter().any(|f| f.to == j) {
            continue;
        }
        let upstream = cap_of(model, i, state, memo);
        let (n, w) = match &m.kind {
            KindModel::App(app) => {
                if app.calls.as_ref().is_some_and(|c| c.timeout.is_some()) {
                    ok = false;
                    continue;
                }
                let mut legs = 0u64;
                for s in app.handlers.iter().flatten() {
                    match *s {
                        StepModel::Publish(q) if q as usize == j => ok = false,
                        StepModel::FanOut {
                            to,
                            count,
                            hedge_after,
                        } if to as usize == j => {
                            if hedge_after != u64::MAX {
                                ok = false;
                            }
                            legs = legs.max(u64::from(count));
                        }
                        _ if s.waits_on().any(|t| t as usize == j) => legs = legs.max(1),
                        _ => {}
                    }
                }
                if app.pool.is_some_and(|p| p.target as usize == j) {
                    legs = legs.max(1);
                }
                let instances = app
                    .autoscale
                    .map_or(app.instances, |a| a.max.max(app.instances));
                let workers = u64::from(app.workers).saturating_mul(u64::from(instances));
                match upstream {
                    Some((u, w)) if u < workers => (u.saturating_mul(legs), w),
                    _ => (
                        workers.saturating_mul(legs),
                        format!("`{}`'s {workers} workers", m.id),
                    ),
                }
            }
            KindModel::Pooler(_) => match upstream {
                Some((u, w)) if u < u64::from(m.servers) => (u, w),
                _ => (
                    u64::from(m.servers),
                    format!("the pooler `{}`'s {} connections", m.id, m.servers),
                ),
            },
            KindModel::LoadBalancer(_)
            | KindModel::ShardRouter(_)
            | KindModel::RateLimiter(_)
            | KindModel::Station => match upstream {
                Some(x) => x,
                None => {
                    ok = false;
                    continue;
                }
            },
            KindModel::Cache(c) if c.backend == Some(j as u32) => match upstream {
                Some(x) => x,
                None => {
                    ok = false;
                    continue;
                }
            },
            _ => {
                ok = false;
                continue;
            }
        };
        total = total.saturating_add(n);
        why.push((n, w));
    }
    let out = (ok && !why.is_empty()).then(|| {
        why.sort_by_key(|w| std::cmp::Reverse(w.0));
        let names: Vec<String> = why.into_iter().map(|(_, w)| w).take(3).collect();
        (total, names.join(", "))
    });
    state[j] = 2;
    memo[j] = out.clone();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tandem_mm1_queues_add_up() {
        // Two M/M/1 queues in series at rho 0.5 and 0.8, E[S] = 1 and 2:
        // W = 1/(1-0.5) + 2/(1-0.8) = 12.
        let a = super::super::erlang::mmc(1, 0.5, 1.0).unwrap().sojourn;
        let b = super::super::erlang::mmc(1, 0.4, 2.0).unwrap().sojourn;
        let w = estimate(&[1.0, 1.0], &[Some(a), Some(b)]).unwrap();
        assert!((w - 12.0).abs() < 1e-9);
    }

    #[test]
    fn feedback_counts_visits() {
        // M/M/1 with feedback p = 0.5: 2 visits per request, lambda = 2
        // x 0.2 = 0.4 per unit service: W = 2 x 1/(1-0.4).
        let t = super::super::erlang::mmc(1, 0.4, 1.0).unwrap().sojourn;
        let w = estimate(&[2.0], &[Some(t)]).unwrap();
        assert!((w - 2.0 / 0.6).abs() < 1e-9);
    }

    #[test]
    fn unpredicted_nodes_are_named() {
        assert_eq!(
            estimate(&[1.0, 0.5], &[Some(1.0), None]),
            Err(NoEstimate::Unpredicted(1))
        );
        assert_eq!(estimate(&[1.0, 0.0], &[Some(1.0), None]), Ok(1.0));
        assert_eq!(estimate(&[0.0], &[None]), Err(NoEstimate::NoTraffic));
    }
}
