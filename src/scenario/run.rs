//! Running one replication of a plan, window by window.

use super::*;

/// What one replication measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// The report of the whole run (with series when asked for).
    pub report: Report,
    /// The whole run's report once its requests have settled (at most
    /// [`SETTLE`] after the end): the one its thresholds judge, so what is
    /// printed beside a verdict (failures, a sweep point's p99 and errors)
    /// comes from it. Without whole-run thresholds it is taken at the end.
    pub settled: Report,
    /// Per threshold, the measured value (`None`: nothing to measure, or
    /// the run stopped early and judges nothing).
    pub values: Vec<Option<f64>>,
    /// Why the run could not finish, if it could not.
    pub error: Option<String>,
}

/// Runs `sim` to step `s` (to its time, or for a recorded change to its
/// event count) and applies its change.
/// Errors the item itself causes (a recorded change that does not fit, a
/// change refused) name where the item is written; a budget that stops the
/// run on the way there does not.
pub(super) fn apply_step(sim: &mut Simulation, s: &Step) -> Result<(), String> {
    match s.after_events {
        Some(n) => sim
            .step_to_event_count(n, s.at)
            .map(|_| sim.step_until_no_events(s.at)),
        None => sim.step_until(s.at),
    }
    .map_err(|e| match e {
        crate::sim::RunError::ReplayMismatch { .. } => placed(&e.to_string(), s),
        _ => e.to_string(),
    })?;
    sim.apply(s.change.clone())
        .map_err(|e| placed(&format!("at {}: {e}", Duration(s.at)), s))
}

/// `message` with the line `  --> file:line:col` of `s`'s timeline item
/// after its first line (before its hint), as diagnostics show a place.
fn placed(message: &str, s: &Step) -> String {
    let Some(place) = &s.place else {
        return message.to_string();
    };
    match message.find("\n   = hint:") {
        Some(i) => format!("{}\n  --> {place}{}", &message[..i], &message[i..]),
        None => format!("{message}\n  --> {place}"),
    }
}

/// Drives a simulation through the plan's changes to `until`, taking a
/// report at `snapshot` on the way.
fn drive(
    sim: &mut Simulation,
    plan: &Plan,
    until: SimTime,
    snapshot: SimTime,
) -> (Option<Report>, Result<(), String>) {
    let mut snap = None;
    let take =
        |sim: &mut Simulation, t: SimTime, snap: &mut Option<Report>| -> Result<(), String> {
            if snap.is_none() && snapshot <= t {
                sim.step_until(snapshot).map_err(|e| e.to_string())?;
                *snap = Some(sim.report());
            }
            Ok(())
        };
    for s in plan.steps.iter().filter(|s| s.at <= until) {
        if let Err(e) = take(sim, s.at, &mut snap) {
            return (snap, Err(e));
        }
        if let Err(e) = apply_step(sim, s) {
            return (snap, Err(e));
        }
    }
    if let Err(e) = take(sim, until, &mut snap) {
        return (snap, Err(e));
    }
    let r = sim.step_until(until).map_err(|e| e.to_string());
    (snap, r)
}

/// How long after a window's end its requests may take to settle: a
/// request of the window with no outcome by then counts as failed.
pub const SETTLE: Duration = Duration(60 * SEC);

/// Keeps `sim` running past `to` (applying the plan's changes as they come)
/// until every measured request has an outcome, or [`SETTLE`] has passed.
fn settle(sim: &mut Simulation, plan: &Plan, to: SimTime) -> Result<(), String> {
    let limit = to.saturating_add(SETTLE.0);
    let mut steps = plan.steps.iter().filter(|s| s.at > to).peekable();
    while sim.unsettled() > 0 && sim.now() < limit {
        let next = (sim.now() + 100 * crate::time::MS).min(limit);
        while let Some(s) = steps.next_if(|s| s.at <= next) {
            apply_step(sim, s)?;
        }
        sim.step_until(next).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs one replication of a plan with `seed`: the whole run (its report,
/// with per-window series when `series`), then one run per other window,
/// measuring from the window's start. Runs differ only in what they
/// measure: the same seed gives the same trajectory.
///
/// A window counts the requests that arrive in it, each judged by its
/// outcome whenever that comes: the run goes on past the window's end until
/// they have settled (at most [`SETTLE`]); time averages (utilization,
/// queues) stop at the window's end, and rates are per second of the window.
pub fn run(plan: &Plan, model: &Model, seed: u64, series: bool) -> Outcome {
    let config = RunConfig {
        seed,
        cohort_end: plan.duration,
        ..plan.config.clone()
    };
    let mut values = vec![None; plan.thresholds.len()];
    let mut sim = Simulation::new(model, config.clone());
    let (start, mut result) = drive(&mut sim, plan, plan.duration, config.warmup.0);
    // The report as the run stands at its end (what a live session shows
    // and a recorded one replays); thresholds judge it once settled.
    let mut report = sim.report();
    if series {
        report.series = Some(sim.series_report());
    }
    if result.is_ok()
        && plan
            .thresholds
            .iter()
            .enumerate()
            .any(|(k, _)| plan.window_of[k] == 0)
    {
        result = settle(&mut sim, plan, plan.duration);
    }
    let settled = sim.report();
    let mut error = result.err();
    let mut measure = |w: usize, end: &Report, start: Option<&Report>| {
        for (k, t) in plan.thresholds.iter().enumerate() {
            if plan.window_of[k] == w {
                values[k] = t.measure(end, start);
            }
        }
    };
    measure(0, &settled, start.as_ref());
    for (w, &(from, to)) in plan.windows.iter().enumerate().skip(1) {
        if error.is_some() {
            break;
        }
        let mut sim = Simulation::new(
            model,
            RunConfig {
                warmup: Duration(from),
                cohort_end: to,
                ..config.clone()
            },
        );
        let (start, mut result) = drive(&mut sim, plan, to, from);
        if result.is_ok() {
            result = settle(&mut sim, plan, to);
        }
        if let Err(e) = result {
            error = Some(e);
        }
        measure(w, &sim.report(), start.as_ref());
    }
    if error.is_some() {
        // A run that stopped early measured a part of what its thresholds
        // ask (and maybe not the change they were written to test): none
        // of its values is judged.
        values.fill(None);
    }
    Outcome {
        seed,
        report,
        settled,
        values,
        error,
    }
}
