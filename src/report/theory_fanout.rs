//! The theory lens on fan-outs: an app waits for the slowest of its `n`
//! parallel legs, predicted from the leg's own distribution where the
//! model knows it (`crate::theory::fanout`), and the words for why a
//! fan-out parts from it (a heavy tail only when the tail is heavy).

use super::theory::Run;
use super::*;
use crate::fmt::fmt_ms;
use crate::kind::Kind;
use crate::kinds::KindModel;
use crate::model::{Model, StepModel};
use crate::sim::Simulation;
use crate::theory::{self, fanout::Slowest};

/// The service distribution a leg to node `to` is one draw of, when its
/// time is that (a station, a database, a replica): not an app's calls nor
/// a cache's or a CDN's fetches.
fn leg_service(model: &Model, to: usize) -> Option<&crate::dist::Sampler> {
    let m = &model.nodes[to];
    matches!(m.kind(), Kind::Station | Kind::Database | Kind::Replica).then_some(&m.service)
}

/// The expected slowest of `n` legs to node `to`, ms, each leg taking
/// `leg` ms on average (its round trip plus its response), of which `wait`
/// ms in `to`'s queue.
pub(super) fn slowest_leg(model: &Model, to: usize, n: u32, leg: f64, wait: f64) -> Slowest {
    match theory::fanout::slowest(n, leg_service(model, to), leg * 1e6, wait * 1e6) {
        Slowest::Modelled { mean, how } => Slowest::Modelled {
            mean: mean / 1e6,
            how,
        },
        other => other,
    }
}

/// The fan-out of app `i` that is not hedged: its target and leg count.
fn fanout_of(model: &Model, i: usize) -> Option<(usize, u32)> {
    let KindModel::App(app) = &model.nodes[i].kind else {
        return None;
    };
    app.handlers.iter().flatten().find_map(|s| match *s {
        StepModel::FanOut {
            to,
            count,
            hedge_after,
        } if hedge_after == u64::MAX => Some((to as usize, count as u32)),
        _ => None,
    })
}

impl Simulation {
    /// An app that fans out waits for the slowest of its parallel calls
    /// (`slowest_leg`). Compared with the time its workers were measured to
    /// wait on that node per visit; the words when they part by more than
    /// `FANOUT_REL`, or why there is no prediction.
    pub(super) fn fanout_check(
        &self,
        i: usize,
        nodes: &[(String, NodeReport)],
        run: &Run,
    ) -> Option<String> {
        let model = self.model();
        let m = &model.nodes[i];
        let (to, count) = fanout_of(model, i)?;
        let t = nodes[to].1.theory.as_ref()?;
        let leg = t.sojourn_ms?;
        let flow = m.flows.iter().find(|f| f.to == to)?.p;
        let share = flow / count.max(1) as f64;
        let r = &nodes[i].1;
        let s = &self.node_state(i).stats;
        let a = s.at_end.unwrap_or_else(|| s.areas(run.now));
        let cap = (a.capacity - s.at_warmup.capacity) as f64;
        let w = r.waits_on.iter().find(|w| w.node == nodes[to].0)?.share;
        if s.wait_count < theory::MIN_VISITS {
            return None;
        }
        let measured = w * cap / s.wait_count as f64 / 1e6;
        let (slowest, how) = match slowest_leg(model, to, count, leg, t.wait_ms.unwrap_or(0.0)) {
            Slowest::Modelled { mean, how } => (mean, how),
            Slowest::NotModelled(_) => return None,
        };
        let predicted = share * slowest;
        (!theory::within(measured, predicted, theory::FANOUT_REL, 0.0)).then(|| {
            format!(
                "waiting on the {count} parallel calls to `{}` took {} per visit, {} predicted for the slowest of {count} legs ({how}; tolerance {:.0}%)",
                nodes[to].0,
                fmt_ms(Some(measured)),
                fmt_ms(Some(predicted)),
                theory::FANOUT_REL * 100.0
            )
        })
    }
}

/// Why app `i`'s fan-out parts from the prediction, when it does: the
/// leg's heavy tail only when its measured p99.9 is well above an
/// exponential's of the same mean; else that the slowest of such legs is
/// not what the prediction took.
pub(super) fn fanout_cause(
    model: &Model,
    i: usize,
    nodes: &[(String, NodeReport)],
    off: &[String],
) -> Option<String> {
    let (to, _) = fanout_of(model, i)?;
    if !off.iter().any(|o| o.contains("parallel calls")) {
        return None;
    }
    let leg = &nodes[to].1;
    let (p999, mean) = (leg.p999_ms?, leg.mean_sojourn_ms?);
    Some(if theory::fanout::heavy_tail(p999, mean) {
        format!(
            "a fan-out waits for its slowest leg, and `{}` has a heavy tail: p99.9 {} against a mean of {} (an exponential of that mean has a p99.9 of {})",
            nodes[to].0,
            fmt_ms(Some(p999)),
            fmt_ms(Some(mean)),
            fmt_ms(Some(mean * libm::log(1000.0)))
        )
    } else {
        format!(
            "a fan-out waits for its slowest leg, and the legs to `{}` are not the independent draws the prediction takes (p99.9 {} against a mean of {}: no heavy tail)",
            nodes[to].0,
            fmt_ms(Some(p999)),
            fmt_ms(Some(mean))
        )
    })
}
