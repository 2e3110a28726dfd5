//! Two structures the per-node formulas and the traffic equations leave
//! out, modelled for the theory lens:
//!
//! - **a shard router's split by key**: the traffic equations send each
//!   shard an even share, but a shard gets the keys it owns. With every
//!   source drawing keys from one law, each shard's share is the
//!   probability of the keys it owns: the 20,000 most popular keys one by
//!   one through the router's own hash (or ring), the rest spread as
//!   100,000 of them hash (nearly equally likely, so their spread is the
//!   hash's). `configured_rps` at the shards uses it: a celebrity key's
//!   shard is expected to get its share, not flagged for it.
//! - **a read-through cache's fetch**: a miss waits at the cache for its
//!   backend, so its time at the node is its own plus, per lookup, the
//!   share that missed (measured) times the backend's predicted time.

use super::*;
use crate::keys::Keys;
use crate::kinds::KindModel;
use crate::kinds::shard_router::ShardRouterState;
use crate::model::Model;
use crate::sim::Simulation;
use crate::theory::{self, Verdict};

/// Keys taken one by one.
const HEAD: u64 = 20_000;
/// Keys past the head hashed to spread the rest.
const TAIL_SAMPLE: u64 = 100_000;

/// The probability of keys `1..=head` under `law` (1-based), without
/// summing past a million keys (a Zipf's normalisation past that by its
/// integral).
fn head_probabilities(law: &Keys, head: u64) -> Vec<f64> {
    match *law {
        Keys::Zipf { keys, s } => {
            let exact = keys.min(1_000_000);
            let mut norm: f64 = (1..=exact).map(|i| libm::pow(i as f64, -s)).sum();
            if keys > exact {
                let (a, b) = (exact as f64 + 0.5, keys as f64 + 0.5);
                norm += if (s - 1.0).abs() < 1e-12 {
                    libm::log(b / a)
                } else {
                    (libm::pow(b, 1.0 - s) - libm::pow(a, 1.0 - s)) / (1.0 - s)
                };
            }
            (1..=head.min(keys))
                .map(|k| libm::pow(k as f64, -s) / norm)
                .collect()
        }
        _ => (1..=head.min(law.count()))
            .map(|k| law.probability(k))
            .collect(),
    }
}

/// Moves each shard's configured rate from the even split to its keys'
/// share. `false` (nothing moved) when the sources draw keys from
/// different laws or sessions choose them.
pub(super) fn shard_split(model: &Model, configured: &mut [f64]) -> bool {
    let mut laws = model.sources.iter().map(|s| {
        s.keys
            .as_ref()
            .map_or(Keys::Uniform { keys: 1 }, |k| k.law())
    });
    let Some(law) = laws.next() else { return false };
    if laws.any(|l| l != law) || model.sources.iter().any(|s| s.session.is_some()) {
        return false;
    }
    let mut any = false;
    for (r, m) in model.nodes.iter().enumerate() {
        let KindModel::ShardRouter(sr) = &m.kind else {
            continue;
        };
        let state = ShardRouterState::of(model, sr);
        let active = state.active.max(1);
        let mut share = vec![0.0; state.shards.len()];
        let head = head_probabilities(&law, HEAD);
        let mass: f64 = head.iter().sum();
        for (k, p) in head.iter().enumerate() {
            share[state.owner(k as u64 + 1, active)] += p;
        }
        let n = law.count();
        let first = head.len() as u64 + 1;
        if n >= first && mass < 1.0 {
            let last = n.min(first + TAIL_SAMPLE - 1);
            let each = (1.0 - mass) / (last - first + 1) as f64;
            for k in first..=last {
                share[state.owner(k, active)] += each;
            }
        }
        for (s, &to) in state.shards.iter().enumerate() {
            let even = m
                .flows
                .iter()
                .find(|f| f.to == to as usize)
                .map_or(0.0, |f| f.p);
            configured[to as usize] += configured[r] * (share[s] - even);
            any = true;
        }
    }
    any
}

impl Simulation {
    /// A read-through cache's time at the node: its own predicted time
    /// plus, per lookup, the measured share that waited on a fetch times
    /// its backend's predicted time; judged again within `SOJOURN_REL`.
    pub(super) fn read_through_time(&self, nodes: &mut [(String, NodeReport)]) {
        let model = self.model();
        for i in 0..nodes.len() {
            let Some((missed, fetch, b)) = fetch_per_lookup(model, nodes, i) else {
                continue;
            };
            let (id_b, r) = (nodes[b].0.clone(), &mut nodes[i].1);
            let measured = r.mean_sojourn_ms;
            let Some(t) = r.theory.as_mut() else { continue };
            let Some(own) = t.sojourn_ms else { continue };
            let total = own + missed * fetch;
            t.sojourn_ms = Some(total);
            t.note.push_str(&format!(
                "; read-through: the time at the node adds the {:.1}% of lookups that missed waiting for `{id_b}` ({} predicted there)",
                missed * 100.0,
                crate::fmt::fmt_ms(Some(fetch))
            ));
            t.off.retain(|o| !o.starts_with("time at the node"));
            if let Some(m) = measured
                && r.completed >= theory::MIN_VISITS
                && !theory::within(m, total, theory::SOJOURN_REL, 0.0)
            {
                t.off.push(format!(
                    "time at the node {} measured, {} predicted with the fetches ({}; tolerance {:.0}%)",
                    crate::fmt::fmt_ms(Some(m)),
                    crate::fmt::fmt_ms(Some(total)),
                    super::theory::gap(m, total, own),
                    theory::SOJOURN_REL * 100.0
                ));
            }
            if t.verdict == Verdict::Diverges && t.off.is_empty() {
                t.verdict = Verdict::Agrees;
            } else if t.verdict == Verdict::Agrees && !t.off.is_empty() {
                t.verdict = Verdict::Diverges;
            }
        }
    }
}

/// A read-through cache's fetches: the share of lookups that missed
/// (measured), the backend's predicted time, ms, and the backend. `None`
/// when node `i` is not a read-through cache, or nothing is predicted or
/// measured.
pub(super) fn fetch_per_lookup(
    model: &crate::model::Model,
    nodes: &[(String, NodeReport)],
    i: usize,
) -> Option<(f64, f64, usize)> {
    let KindModel::Cache(cm) = &model.nodes[i].kind else {
        return None;
    };
    let b = cm.backend? as usize;
    let fetch = nodes[b].1.theory.as_ref()?.sojourn_ms?;
    let c = nodes[i].1.cache.as_ref()?;
    let lookups = c.hits + c.misses;
    if lookups == 0 {
        return None;
    }
    let missed = c.misses as f64 / lookups as f64;
    Some((missed, fetch, b))
}
