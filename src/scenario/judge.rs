//! Judging a scenario's thresholds over its replications.

use super::*;

/// One threshold's verdict.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Row {
    /// The threshold as written.
    pub threshold: String,
    /// The measured value (mean over replications, with its interval), in
    /// `unit`.
    pub measured: Option<Estimate>,
    /// The unit of `measured`: `ms`, `ratio` (0 to 1), `rps`, `count` or
    /// `number`.
    pub unit: &'static str,
    /// The measured value as people read it (`212ms ± 8ms`, or `-`).
    pub shown: String,
    /// Whether the threshold holds (on the mean; with `--every-replication`,
    /// in every replication).
    pub passed: bool,
    /// With `--every-replication`: in how many replications it held (of
    /// `seeds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replications_passed: Option<u32>,
    /// Whether the scenario expects it to fail.
    pub expected_to_fail: bool,
    /// True when no replication ran to its end (each stopped early, see
    /// the verdict's `errors`): the threshold is not judged, and `passed`
    /// is false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_judged: bool,
}

impl Row {
    /// True when the outcome is the expected one (never for a threshold
    /// not judged).
    pub fn as_expected(&self) -> bool {
        !self.not_judged && self.passed != self.expected_to_fail
    }
}

/// A replication that stopped before the end of its run.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Stopped {
    /// Its seed.
    pub seed: u64,
    /// The simulated time at which it stopped, seconds.
    pub at_s: f64,
}

/// A scenario's verdict over its replications.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Verdict {
    /// The scenario's name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// Seeds run.
    pub seeds: Vec<u64>,
    /// One row per threshold.
    pub rows: Vec<Row>,
    /// Runs that could not finish (budget, refused change).
    pub errors: Vec<String>,
    /// The replications that stopped early, and where: their measurements
    /// are left out of every row (a row no replication finished is not
    /// judged).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stopped: Vec<Stopped>,
    /// The busiest node of the first replication and why, to explain a failure.
    pub bottleneck: Option<String>,
    /// Where failures began in the first replication, when 1% or more of
    /// requests failed.
    pub failures: Option<String>,
    /// With `--precision`: the precision asked for and whether the
    /// replications reached it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,
}

impl Verdict {
    /// The verdict of a scenario file that could not run at all (it did not
    /// load, or its estimate passed a budget): no rows, one error saying why.
    pub fn could_not_run(file: &str, why: String) -> Verdict {
        let name = std::path::Path::new(file)
            .file_name()
            .and_then(|n| n.to_str())
            .map_or(file, |n| {
                n.trim_end_matches(".ron").trim_end_matches(".scenario")
            })
            .to_string();
        Verdict {
            name,
            file: file.to_string(),
            seeds: Vec::new(),
            rows: Vec::new(),
            errors: vec![why],
            stopped: Vec::new(),
            bottleneck: None,
            failures: None,
            precision: None,
        }
    }
}

/// Run-until-precision: replications are added until every measured
/// threshold's 95% confidence interval is narrower than asked (its
/// half-width at most `target` times the mean), or a cap is reached.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Precision {
    /// The largest relative half-width allowed (0.05: the mean ± 5%).
    pub target: f64,
    /// Whether every measured threshold reached it.
    pub reached: bool,
    /// The widest interval left, relative to its mean, and its threshold.
    pub widest: Option<(String, f64)>,
}

impl Precision {
    /// How precise `v`'s rows are against `target`. A row nothing measured
    /// is left out (more runs would not measure it either); a row with a
    /// zero mean is precise only with a zero-width interval. With one
    /// replication there is no interval, so it is never precise.
    pub fn of(v: &Verdict, target: f64) -> Precision {
        let mut widest: Option<(String, f64)> = None;
        for r in &v.rows {
            let Some(e) = r.measured else { continue };
            let rel = match e.ci95 {
                None => f64::INFINITY,
                Some(0.0) => 0.0,
                Some(_) if e.mean == 0.0 => f64::INFINITY,
                Some(ci) => ci / e.mean.abs(),
            };
            if widest.as_ref().is_none_or(|(_, w)| rel > *w) {
                widest = Some((r.threshold.clone(), rel));
            }
        }
        Precision {
            target,
            reached: widest.as_ref().is_none_or(|(_, w)| *w <= target),
            widest,
        }
    }
}

impl Verdict {
    /// Every threshold as expected and every run finished.
    pub fn as_expected(&self) -> bool {
        self.errors.is_empty() && self.rows.iter().all(Row::as_expected)
    }

    /// Thresholds that failed, expected or not (not those not judged).
    pub fn failed(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| !r.passed && !r.not_judged)
            .count()
    }

    /// How many replications ran to their end.
    pub fn finished(&self) -> usize {
        self.seeds.len().saturating_sub(self.stopped.len())
    }
}

/// How replications decide whether a threshold passes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rule {
    /// On the mean of the replications that measured it.
    #[default]
    Mean,
    /// In every replication (one that measured nothing fails it).
    Every,
}

/// Judges a scenario's thresholds over its replications: each on the mean
/// of the replications that measured it, with a 95% confidence interval.
/// A threshold nothing measured fails. A replication that stopped early
/// measures nothing (see [`Outcome::values`]); when none ran to its end,
/// no threshold is judged.
pub fn judge(scenario: &Scenario, outcomes: &[Outcome]) -> Verdict {
    judge_by(scenario, outcomes, Rule::Mean)
}

/// Judges as [`judge`] does, under `rule`: with [`Rule::Every`] a threshold
/// passes only when it holds in every replication, and each row says in
/// how many it did.
pub fn judge_by(scenario: &Scenario, outcomes: &[Outcome], rule: Rule) -> Verdict {
    let finished: Vec<&Outcome> = outcomes.iter().filter(|o| o.error.is_none()).collect();
    let rows = scenario
        .thresholds
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let samples: Vec<f64> = outcomes.iter().filter_map(|o| o.values[k]).collect();
            let est = Estimate::of(&samples);
            let shown = match est {
                None => "-".to_string(),
                Some(e) => match e.ci95 {
                    Some(ci) if ci > 0.0 => format!("{} ± {}", t.show(e.mean), t.show(ci)),
                    _ => t.show(e.mean),
                },
            };
            let held = outcomes
                .iter()
                .filter(|o| o.values[k].is_some_and(|v| t.op.holds(v, t.limit)))
                .count() as u32;
            let not_judged = !outcomes.is_empty() && finished.is_empty();
            let passed = !not_judged
                && match rule {
                    Rule::Mean => est.is_some_and(|e| t.op.holds(e.mean, t.limit)),
                    Rule::Every => !outcomes.is_empty() && held as usize == outcomes.len(),
                };
            Row {
                threshold: t.text.clone(),
                unit: t.metric.unit.name(),
                passed,
                replications_passed: (rule == Rule::Every).then_some(held),
                measured: est,
                shown,
                expected_to_fail: scenario.expect_fail[k],
                not_judged,
            }
        })
        .collect();
    Verdict {
        name: scenario.name.clone(),
        file: scenario.file.clone(),
        seeds: outcomes.iter().map(|o| o.seed).collect(),
        rows,
        errors: outcomes
            .iter()
            .filter_map(|o| o.error.as_ref().map(|e| format!("seed {}: {e}", o.seed)))
            .collect(),
        stopped: outcomes
            .iter()
            .filter(|o| o.error.is_some())
            .map(|o| Stopped {
                seed: o.seed,
                at_s: o.report.simulated_s,
            })
            .collect(),
        // Of the first replication that ran to its end.
        bottleneck: finished
            .first()
            .and_then(|o| o.report.bottleneck.as_ref().map(|b| b.reason.clone())),
        // The requests the thresholds judged, with the outcome they came to.
        failures: finished.first().and_then(|o| o.settled.failures.clone()),
        precision: None,
    }
}
