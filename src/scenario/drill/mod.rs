//! Drills: interview-style exercises.
//!
//! A drill is a requirement card (traffic, read:write ratio, latency and
//! availability targets, the failure to survive, a monthly budget), a
//! starting topology, and a hidden scenario. The learner edits the topology;
//! grading runs the hidden scenario against it (every threshold must pass,
//! whatever the scenario expects of the starting topology) and prices it
//! with a [`Costs`] model that people can change.
//!
//! A drill also names the mechanisms it teaches (`teaches`). A topology
//! that meets the requirements is run once more with those mechanisms
//! removed ([`mechanism::remove`]), and that counterfactual must fail:
//! otherwise it passes, but not because of the fix, and is not solved.

mod card;
mod costs;
pub mod mechanism;
mod paths;
pub mod protect;
pub mod work;

pub use card::{card_rows, card_text, kept_ids, missing_ids};
pub use costs::{CostLine, CostReport, Costs, DEFAULT_COSTS, Per, Price, parse_costs};
pub use mechanism::Mechanism;
pub use protect::{Protect, Violation};

use super::{Outcome, Plan, Rule, Scenario, Verdict};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::Model;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// What the drill asks for, as an interviewer would say it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    /// Traffic, e.g. "2,000 requests/s at peak".
    pub traffic: String,
    /// Read:write ratio, e.g. "95:5".
    pub read_write: String,
    /// Latency target, e.g. "p99 under 200 ms".
    pub latency: String,
    /// Availability target, e.g. "99.9% of requests succeed".
    pub availability: String,
    /// The failure to survive, e.g. "one app server down".
    pub survive: String,
    /// Monthly budget in the cost model's currency.
    pub budget: f64,
}

/// A drill file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Drill", deny_unknown_fields)]
pub struct Drill {
    /// Title.
    pub title: String,
    /// Difficulty, from 1.
    pub level: u32,
    /// The story and the task.
    pub brief: String,
    /// The requirement card.
    pub card: Card,
    /// The starting topology, relative to the drill file.
    pub start: String,
    /// The hidden scenario, relative to the drill file.
    pub scenario: String,
    /// The cost model, relative to the drill file [default: `costs.ron` beside it].
    #[serde(default = "default_costs")]
    pub costs: String,
    /// Hints, revealed one per failed attempt by front ends that want to.
    #[serde(default)]
    pub hints: Vec<String>,
    /// The mechanisms the drill teaches. Grading removes them from a
    /// topology that passes and requires that this counterfactual fails.
    /// Empty: the drill teaches sizing, and any topology that meets the
    /// card solves it.
    #[serde(default)]
    pub teaches: Vec<Mechanism>,
    /// What the candidate may not change besides the workload and the
    /// physics, or may although they are protected ([`protect`]).
    #[serde(default)]
    pub protect: Protect,
}

fn default_costs() -> String {
    "costs.ron".into()
}

/// Parses a drill file.
pub fn parse_drill(file: &str, text: &str) -> Result<Drill, Diagnostics> {
    let mut ds = Diagnostics::new(file, text);
    if let Some(d) = crate::topology::not_ron(text, "Drill") {
        ds.push(d);
        return Err(ds);
    }
    match crate::topology::ron_options().from_str::<Drill>(text) {
        Ok(d) => {
            if !(d.card.budget.is_finite() && d.card.budget > 0.0) {
                ds.push(
                    Diagnostic::error(format!("the budget is {}", d.card.budget))
                        .hint("give a monthly budget above 0"),
                );
                return Err(ds);
            }
            if let Err((message, hint)) = protect::check_paths(&d.protect) {
                ds.push(
                    Diagnostic::error(message)
                        .at(text.find("protect").map(|at| crate::diag::pos_of(text, at)))
                        .hint(hint),
                );
                return Err(ds);
            }
            Ok(d)
        }
        Err(e) => {
            ds.push(crate::topology::ron_diagnostic(&e, text));
            Err(ds)
        }
    }
}

/// A graded attempt.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Grade {
    /// The thresholds' verdict (every one must pass).
    pub verdict: Verdict,
    /// Cost per node.
    pub costs: Vec<CostLine>,
    /// Total per month.
    pub monthly: f64,
    /// The budget.
    pub budget: f64,
    /// Whether the drill is solved: every requirement met within budget,
    /// and (when the drill teaches a mechanism) because of it: the
    /// counterfactual fails.
    pub passed: bool,
    /// Whether every requirement is met within budget (the numbers alone).
    pub requirements_met: bool,
    /// The run without the fix the drill teaches (absent when the drill
    /// teaches none).
    pub counterfactual: Option<CounterfactualGrade>,
    /// What failed and why, one line each.
    pub reasons: Vec<String>,
}

/// The grade of the counterfactual: the topology with the taught
/// mechanisms removed.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct CounterfactualGrade {
    /// The mechanisms removed (the drill's `teaches`).
    pub removed: Vec<Mechanism>,
    /// What removing them changed in the topology, one line each; empty
    /// when the topology does not use them (then it is its own
    /// counterfactual).
    pub changes: Vec<String>,
    /// Its thresholds' verdict, when it was run (it runs only when the
    /// topology meets the requirements and removing changed something).
    pub verdict: Option<Verdict>,
    /// Whether it fails, as it must for the drill to be solved (absent when
    /// not judged).
    pub fails: Option<bool>,
    /// What it shows, in one sentence.
    pub summary: String,
}

/// A topology with the drill's taught mechanisms removed, ready to run.
#[derive(Clone, Debug)]
pub struct Counterfactual {
    /// The mechanisms removed.
    pub removed: Vec<Mechanism>,
    /// What removing changed (empty: the topology does not use them).
    pub changes: Vec<String>,
    /// Its model and the drill's scenario planned on it, when removing
    /// changed something and it loads.
    pub ready: Option<(Model, Plan)>,
    /// Why it could not be built, when it could not.
    pub error: Option<String>,
}

/// The counterfactual of `model` (a learner's topology) for `drill`: the
/// topology without the mechanisms the drill teaches, loaded and with the
/// drill's scenario planned on it. Pure: the same for every front end.
pub fn counterfactual(drill: &Drill, scenario: &Scenario, model: &Model) -> Counterfactual {
    let r = mechanism::remove(&model.topology, &drill.teaches);
    let mut cf = Counterfactual {
        removed: drill.teaches.clone(),
        changes: r.changes,
        ready: None,
        error: None,
    };
    if cf.changes.is_empty() {
        return cf;
    }
    let text = crate::topology::to_ron(&r.topology);
    match crate::topology::load_str("counterfactual.ron", &text) {
        Ok(l) => match scenario.plan(&l.model) {
            Ok(plan) => cf.ready = Some((l.model, plan)),
            Err(ds) => cf.error = Some(format!("the scenario does not fit it: {ds}")),
        },
        Err(ds) => cf.error = Some(format!("it does not load: {ds}")),
    }
    cf
}

/// Why a submission may not be graded: every change it makes to what the
/// drill gives ([`protect::violations`] against the drill's `start`),
/// every piece of the start's work it drops ([`work::dropped`]) and
/// every node whose kind the cost model has no price for. Empty: grade it.
/// The CLI and the app refuse with these same words.
pub fn refusals(
    drill: &Drill,
    start: &crate::topology::Topology,
    mine: &crate::topology::Topology,
    costs: &Costs,
) -> Vec<Violation> {
    let mut out = protect::violations(&drill.protect, start, mine);
    let compiled = |t: &crate::topology::Topology| {
        crate::topology::load_str("t.ron", &crate::topology::to_ron(t))
            .ok()
            .map(|l| l.model)
    };
    if let (Some(s), Some(m)) = (compiled(start), compiled(mine)) {
        out.extend(work::dropped(&s, &m));
    }
    for (id, kind) in costs.unpriced_nodes(mine) {
        out.push(Violation {
            message: format!(
                "not allowed: `{id}` is {}, and the drill's cost model has no price for it",
                crate::fmt::a(&kind)
            ),
            hint: format!(
                "a drill prices every node it grades: use a kind the cost model prices, or give a cost model that prices {kind}"
            ),
            id,
        });
    }
    out
}

/// Grades outcomes of the drill's scenario run against the learner's
/// topology. The scenario's `expect_fail` (what the starting topology
/// fails) is ignored: a solution passes every threshold. When the drill
/// teaches a mechanism and the topology meets the requirements, the
/// counterfactual runs (on the same seeds, here, one after another) and
/// must fail.
pub fn grade(
    drill: &Drill,
    scenario: &Scenario,
    outcomes: &[Outcome],
    model: &Model,
    costs: &Costs,
) -> Grade {
    grade_by(drill, scenario, outcomes, model, costs, Rule::Mean)
}

/// Grades as [`grade`] does, judging the replications under `rule`.
pub fn grade_by(
    drill: &Drill,
    scenario: &Scenario,
    outcomes: &[Outcome],
    model: &Model,
    costs: &Costs,
    rule: Rule,
) -> Grade {
    let g = requirements(drill, scenario, outcomes, model, costs, rule);
    if drill.teaches.is_empty() {
        return g;
    }
    let cf = counterfactual(drill, scenario, model);
    let cf_outcomes: Vec<Outcome> = match (&cf.ready, g.requirements_met) {
        (Some((m, plan)), true) => outcomes
            .iter()
            .map(|o| super::run(plan, m, o.seed, false))
            .collect(),
        _ => Vec::new(),
    };
    conclude(g, scenario, rule, &cf, &cf_outcomes)
}

/// Whether the counterfactual should run: the topology meets the
/// requirements and removing the fix changed it.
pub fn needs_run(g: &Grade, cf: &Counterfactual) -> bool {
    g.requirements_met && cf.ready.is_some()
}

/// The requirements alone: thresholds and budget, without the
/// counterfactual (`passed` is `requirements_met`). Front ends that run
/// replications themselves call this, then [`counterfactual`], run it when
/// [`needs_run`] says so, and [`conclude`].
pub fn requirements(
    drill: &Drill,
    scenario: &Scenario,
    outcomes: &[Outcome],
    model: &Model,
    costs: &Costs,
    rule: Rule,
) -> Grade {
    let mut s = scenario.clone();
    s.expect_fail = vec![false; s.thresholds.len()];
    let verdict = super::judge_by(&s, outcomes, rule);
    let lines = costs.of(model);
    let monthly: f64 = lines.iter().map(|l| l.monthly).sum();
    let mut reasons = Vec::new();
    for (r, t) in verdict
        .rows
        .iter()
        .zip(&s.thresholds)
        .filter(|(r, _)| !r.passed)
    {
        let mut line = format!("`{}` fails: measured {}", r.threshold, r.shown);
        if let Some(why) = cause(t, r, outcomes, verdict.bottleneck.as_ref()) {
            let _ = write!(line, " ({why})");
        }
        reasons.push(line);
    }
    for e in &verdict.errors {
        reasons.push(format!("the run did not finish: {e}"));
    }
    if monthly > drill.card.budget {
        let top = lines
            .iter()
            .max_by(|a, b| a.monthly.total_cmp(&b.monthly))
            .map(|l| {
                format!(
                    "; the most expensive is `{}` at {}",
                    l.node,
                    costs.money(l.monthly)
                )
            })
            .unwrap_or_default();
        reasons.push(format!(
            "over budget: {} a month against {}{top}",
            costs.money(monthly),
            costs.money(drill.card.budget)
        ));
    }
    let met = reasons.is_empty();
    Grade {
        passed: met,
        requirements_met: met,
        counterfactual: None,
        verdict,
        costs: lines,
        monthly,
        budget: drill.card.budget,
        reasons,
    }
}

/// What a failing row's cause is, as far as the run can tell: the
/// bottleneck's line, unless the row is an end-to-end time that the
/// bottleneck's waiting cannot account for (on average it adds less than
/// a tenth of the measured time per visit). Then the slow requests come
/// from something else (a backlog still draining after the warm-up, a
/// failure the scenario injects, slow calls), and naming the steady
/// queue as the cause would be false.
fn cause(
    t: &super::Threshold,
    r: &super::Row,
    outcomes: &[Outcome],
    bottleneck: Option<&String>,
) -> Option<String> {
    let b = bottleneck?;
    let measured = r.measured.as_ref().map(|m| m.mean);
    let report = outcomes.iter().find_map(|o| {
        let node = &o.report.bottleneck.as_ref()?.node;
        let wait = o.report.nodes.get(node)?.mean_wait_ms?;
        Some((node.clone(), wait))
    });
    if let (Some(m), Some((node, wait))) = (measured, report)
        && t.node.is_none()
        && t.metric.unit == super::threshold::Unit::Ms
        && wait * 10.0 < m
    {
        return Some(format!(
            "not a steady queue: the busiest node, `{node}`, adds only {} of waiting per visit on average; look for what does not last (a backlog still draining after the warm-up, the scenario's failure) or for slow calls",
            crate::fmt::fmt_ms(Some(wait))
        ));
    }
    Some(format!("bottleneck: {b}"))
}

/// Completes a grade with its counterfactual: `cf_outcomes` are the
/// counterfactual's replications (empty when it did not run).
pub fn conclude(
    mut g: Grade,
    scenario: &Scenario,
    rule: Rule,
    cf: &Counterfactual,
    cf_outcomes: &[Outcome],
) -> Grade {
    if cf.removed.is_empty() {
        return g;
    }
    let or = mechanism::labels(&cf.removed, "or");
    let and = mechanism::labels(&cf.removed, "and");
    let mut c = CounterfactualGrade {
        removed: cf.removed.clone(),
        changes: cf.changes.clone(),
        verdict: None,
        fails: None,
        summary: String::new(),
    };
    if !g.requirements_met {
        c.summary = "not run: the topology does not meet the requirements yet".into();
    } else if cf.changes.is_empty() {
        c.fails = Some(false);
        let uses = if cf.removed.len() == 1 {
            "does not use it"
        } else {
            "uses none of them"
        };
        c.summary = format!(
            "passes, but not because of the fix: this drill teaches {and}, and the topology {uses} (taking the fix away changes nothing)"
        );
        g.reasons.push(c.summary.clone());
    } else if let Some(e) = &cf.error {
        c.summary = format!(
            "the topology without {or} could not be built ({e}); graded on the requirements alone"
        );
    } else if cf_outcomes.is_empty() {
        c.summary = "not run".into();
        g.reasons
            .push("the run without the fix was not made, so the grade is incomplete".into());
    } else {
        let mut s = scenario.clone();
        s.expect_fail = vec![false; s.thresholds.len()];
        let v = super::judge_by(&s, cf_outcomes, rule);
        let failed = v.rows.iter().find(|r| !r.passed);
        let fails = failed.is_some() || !v.errors.is_empty();
        c.summary = match (failed, v.errors.first()) {
            (Some(r), _) => format!(
                "without {or} it fails, as it should: `{}` measured {}",
                r.threshold, r.shown
            ),
            (None, Some(e)) => {
                format!("without {or} it fails, as it should: the run did not finish ({e})")
            }
            (None, None) => {
                let s = format!(
                    "passes, but not because of the fix: without {or} ({}) it still meets every threshold",
                    cf.changes.join("; ")
                );
                g.reasons.push(s.clone());
                s
            }
        };
        c.fails = Some(fails);
        c.verdict = Some(v);
    }
    g.passed = g.reasons.is_empty();
    g.counterfactual = Some(c);
    g
}
