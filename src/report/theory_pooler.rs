//! The theory lens on a connection pooler: a query waits for one of its
//! `c` connections, and holds it while the database behind answers. So the
//! pooler is a queue of `c` servers whose service is the database's
//! predicted time at the node: M/G/c by Allen-Cunneen (the service's
//! spread that of the database's service, when the database hardly waits;
//! else taken as exponential), or M/G/c/K with a bounded queue.

use super::theory::{Run, compare};
use super::*;
use crate::kinds::KindModel;
use crate::sim::Simulation;
use crate::theory::{self, NodeTheory, Verdict};

/// The database's predicted wait, as a share of its time, below which a
/// held connection's spread is taken as its service's.
const HARDLY_WAITS: f64 = 0.05;

impl Simulation {
    /// Each pooler's prediction from its target's predicted time (left
    /// "not a queue" when the target has none, such as a shard router).
    pub(super) fn pooler_theory(&self, nodes: &mut [(String, NodeReport)], run: &Run) {
        let model = self.model();
        for i in 0..nodes.len() {
            let m = &model.nodes[i];
            let KindModel::Pooler(p) = &m.kind else {
                continue;
            };
            let to = p.to as usize;
            let Some(db) = nodes[to].1.theory.as_ref() else {
                continue;
            };
            let (Some(hold), Some(db_wait)) = (db.sojourn_ms, db.wait_ms) else {
                continue;
            };
            let scv = if db_wait <= HARDLY_WAITS * hold {
                db.scv.unwrap_or(1.0)
            } else {
                1.0
            };
            let (id_db, r) = (nodes[to].0.clone(), &mut nodes[i].1);
            let c = r.servers;
            if c == 0 || hold <= 0.0 {
                continue;
            }
            let lambda = if run.measured_s > 0.0 {
                r.arrivals as f64 / run.measured_s
            } else {
                0.0
            };
            let mean_s = hold / 1e3;
            let exp = (scv - 1.0).abs() < 1e-9;
            let mut t = NodeTheory::none(
                Verdict::Agrees,
                format!(
                    "a query waits for one of its {c} connections and holds it while `{id_db}` works: {c} servers whose service is `{id_db}`'s predicted time at the node ({}, SCV {scv:.2}); measured arrival rate",
                    crate::fmt::fmt_ms(Some(hold))
                ),
                lambda,
            );
            t.service_ms = Some(hold);
            t.scv = Some(scv);
            t.own_ms = Some(0.0);
            t.measured_wait_ms = r.mean_wait_ms;
            t.offered_load = Some(theory::erlang::utilization(c, lambda * mean_s));
            let g = if exp { "M" } else { "G" };
            let bounded = m.queue.map(|q| u64::from(c) + u64::from(q));
            match bounded {
                Some(k) => {
                    let Some(b) = theory::mmck::mgck(c, k, lambda, mean_s, scv) else {
                        continue;
                    };
                    t.model = Some(format!("M/{g}/{c}/{k}"));
                    t.utilization = Some(b.utilization);
                    t.wait_ms = Some(b.wait * 1e3);
                    t.sojourn_ms = Some(b.sojourn * 1e3);
                    t.blocking = Some(b.blocking);
                }
                None => match theory::erlang::mgc(c, lambda, mean_s, scv) {
                    Ok(p) => {
                        t.model = Some(format!("M/{g}/{c}"));
                        t.utilization = Some(p.rho);
                        t.wait_ms = Some(p.wait * 1e3);
                        t.sojourn_ms = Some(p.sojourn * 1e3);
                    }
                    Err(u) => {
                        t.model = Some(format!("M/{g}/{c}"));
                        t.verdict = Verdict::Unstable;
                        t.note = format!("{u}; {}", t.note);
                        r.theory = Some(t);
                        continue;
                    }
                },
            }
            compare(&mut t, r, hold);
            r.theory = Some(t);
        }
    }
}
