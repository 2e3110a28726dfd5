//! When no node limits capacity: every node (and every app's pool) on the
//! request path is under [`SPARE`] busy, turns nothing away and has fewer
//! than [`QUEUEING`] requests waiting on average. The verdict then says so
//! rather than naming the busiest node as a limit, and points to where the
//! time goes when the model shows it: an app waiting for the slowest of
//! many parallel calls (the tail at scale).

use super::{Analyzer, Load, SPARE};
use crate::fmt::fmt_ms;
use crate::kind::Kind;
use crate::kinds::KindModel;
use crate::model::{Model, StepModel};

/// Mean number waiting at a node at or above which it counts as queueing
/// (and so as near its capacity, whatever its utilization).
pub const QUEUEING: f64 = 1.0;

/// The slowest-of-`n` to mention: it is at least this many times one
/// call's mean.
const SLOWEST_WORTH_SAYING: f64 = 2.0;

/// An app's fan-out, as the verdict needs it.
#[derive(Clone, Debug)]
pub(super) struct FanOut {
    app: usize,
    to: usize,
    count: u32,
    /// One leg's mean service, ns.
    mean: f64,
    /// The expected slowest of `count` legs' services, ns, where the
    /// leg's time is one service draw and its tail has a closed form.
    slowest: Option<f64>,
}

/// The model's fan-outs that are not hedged.
pub(super) fn fanouts(model: &Model) -> Vec<FanOut> {
    let mut out = Vec::new();
    for (app, m) in model.nodes.iter().enumerate() {
        let KindModel::App(a) = &m.kind else {
            continue;
        };
        for s in a.handlers.iter().flatten() {
            if let StepModel::FanOut {
                to,
                count,
                hedge_after,
            } = *s
                && hedge_after == u64::MAX
            {
                let leg = &model.nodes[to as usize];
                let simple = matches!(leg.kind(), Kind::Station | Kind::Database | Kind::Replica);
                out.push(FanOut {
                    app,
                    to: to as usize,
                    count: count as u32,
                    mean: leg.service.mean(),
                    slowest: simple
                        .then(|| crate::theory::fanout::expected_max(&leg.service, count as u32))
                        .flatten(),
                });
            }
        }
    }
    out
}

impl Analyzer {
    /// True when no resource that `eligible` admits is near its capacity:
    /// nodes under [`SPARE`] busy, turning nothing away, fewer than
    /// [`QUEUEING`] waiting; apps' pools under [`SPARE`] in use.
    pub(super) fn headroom(&self, loads: &[Load], eligible: impl Fn(usize) -> bool) -> bool {
        (0..loads.len()).filter(|&i| eligible(i)).all(|i| {
            let l = &loads[i];
            l.utilization < SPARE
                && !l.saturated()
                && l.mean_queue < QUEUEING
                && l.pool.is_none_or(|p| p < SPARE)
        })
    }

    /// The verdict when no node limits capacity: says so, names the
    /// busiest (`busiest`, its usual description), and where the time goes
    /// when a fan-out explains it.
    pub(super) fn no_limit(&self, busiest: &str, loads: &[Load]) -> String {
        let mut out = format!(
            "none: no node on the request path is near its capacity (each under {:.0}% busy, none turning work away or queueing); the busiest is {busiest}",
            SPARE * 100.0
        );
        let worst = self
            .fanouts
            .iter()
            .filter(|f| self.on_path[f.app] && loads[f.app].arrivals > 0)
            .filter_map(|f| f.slowest.map(|s| (f, s)))
            .filter(|(f, s)| *s >= SLOWEST_WORTH_SAYING * f.mean)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((f, s)) = worst {
            out.push_str(&format!(
                "; the time goes to `{}` waiting for the slowest of its {} parallel calls to `{}`: about {} from `{}`'s service, against {} for one call",
                self.ids[f.app],
                f.count,
                self.ids[f.to],
                fmt_ms(Some(s / 1e6)),
                self.ids[f.to],
                fmt_ms(Some(f.mean / 1e6)),
            ));
        }
        out
    }
}
