//! Lessons: what one journey stage or wall teaches, as data.
//!
//! A lesson file (`topologies/lessons/*.lesson.ron`) names a topology
//! before the change and one after it, says what is going on and what to
//! try, and names a check: a scenario (its timeline, duration and
//! thresholds, in the threshold vocabulary of `bottleneck check`) that the
//! topology before must fail and the topology after must pass. The CLI
//! (`bottleneck lesson NAME --check`) runs it; the sandbox evaluates the
//! same thresholds live ([`Lesson::live`]). Paths are relative to the
//! lesson file. The engine parses and judges; front ends read the files.

use crate::diag::{Diagnostic, Diagnostics};
use crate::scenario::{Action, Item, Outcome, Scenario, Threshold, Verdict};
use serde::{Deserialize, Serialize};

/// A lesson file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Lesson", deny_unknown_fields)]
pub struct Lesson {
    /// Title.
    pub title: String,
    /// Journey stage or wall, and its number: `Stage(1)`, `Wall(6)`.
    pub part: Part,
    /// The topology before the change, relative to the lesson file.
    pub before: String,
    /// The topology after it, relative to the lesson file.
    pub after: String,
    /// What is going on.
    pub text: String,
    /// What to try.
    #[serde(rename = "try")]
    pub task: String,
    /// The check: a scenario, relative to the lesson file, whose thresholds
    /// `before` fails and `after` passes (its own topology is ignored).
    pub check: String,
}

/// Where a lesson belongs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Part {
    /// A stage of the scaling journey (1 to 9).
    Stage(u32),
    /// One of the walls (1 to 8).
    Wall(u32),
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::Stage(n) => write!(f, "stage {n}"),
            Part::Wall(n) => write!(f, "wall {n}"),
        }
    }
}

/// Parses a lesson file; every problem with its place and a hint.
pub fn parse(file: &str, text: &str) -> Result<Lesson, Diagnostics> {
    let mut ds = Diagnostics::new(file, text);
    if let Some(d) = crate::topology::not_ron(text, "Lesson") {
        ds.push(d);
        return Err(ds);
    }
    let l = match crate::topology::ron_options().from_str::<Lesson>(text) {
        Ok(l) => l,
        Err(e) => {
            ds.push(crate::topology::ron_diagnostic(&e, text));
            return Err(ds);
        }
    };
    let (n, max) = match l.part {
        Part::Stage(n) => (n, 9),
        Part::Wall(n) => (n, 8),
    };
    if !(1..=max).contains(&n) {
        ds.push(
            Diagnostic::error(format!("there is no {}", l.part)).hint(format!(
                "the journey has stages 1 to 9 and walls 1 to 8; this is 1 to {max}"
            )),
        );
    }
    for (field, v) in [
        ("before", &l.before),
        ("after", &l.after),
        ("check", &l.check),
    ] {
        if !v.ends_with(".ron") {
            let at = text
                .find(&format!("\"{v}\""))
                .map(|i| crate::diag::pos_of(text, i + 1));
            ds.push(
                Diagnostic::error(format!("`{field}` is \"{v}\", not a .ron file"))
                    .at(at)
                    .hint("give a path relative to the lesson file, e.g. \"../journey/01-single-server.ron\""),
            );
        }
    }
    if ds.has_errors() { Err(ds) } else { Ok(l) }
}

/// A lesson's check, judged: the topology before against the topology after.
#[derive(Clone, Debug, Serialize)]
pub struct Checked {
    /// The check scenario's thresholds on the topology before.
    pub before: Verdict,
    /// The same on the topology after.
    pub after: Verdict,
    /// Whether the lesson holds: before fails (some threshold fails), after passes (every one).
    pub holds: bool,
    /// What it shows, in one sentence.
    pub summary: String,
}

/// Judges a lesson's check from the runs of its scenario on the topology
/// before and after, one outcome per seed (the same seeds for both). Before
/// must fail: every threshold its `expect_fail` lists (as `bottleneck
/// check` expects of the scenario), or some threshold when it lists none.
/// After must pass every threshold. With several seeds the lesson holds
/// only when it holds on each one (a story one seed tells by luck does
/// not), and the verdicts count in how many each threshold held.
pub fn judge(check: &Scenario, before: &[Outcome], after: &[Outcome]) -> Checked {
    if before.len() <= 1 || before.len() != after.len() {
        return judge_by(check, before, after, crate::scenario::Rule::Mean);
    }
    let mut c = judge_by(check, before, after, crate::scenario::Rule::Every);
    let per = before
        .iter()
        .zip(after)
        .map(|(b, a)| {
            (
                b.seed,
                judge_by(
                    check,
                    std::slice::from_ref(b),
                    std::slice::from_ref(a),
                    crate::scenario::Rule::Mean,
                ),
            )
        })
        .find(|(_, c)| !c.holds);
    let n = before.len();
    match per {
        Some((seed, one)) => {
            c.holds = false;
            c.summary = format!("with seed {seed}, {}", one.summary);
        }
        None => {
            c.holds = true;
            let one = judge_by(
                check,
                &before[..1],
                &after[..1],
                crate::scenario::Rule::Mean,
            );
            c.summary = format!(
                "before fails and after passes with each of {n} seeds (seed {}: {})",
                before[0].seed, one.summary
            );
        }
    }
    c
}

/// [`judge`] with the verdicts' rows judged under `rule`.
fn judge_by(
    check: &Scenario,
    before: &[Outcome],
    after: &[Outcome],
    rule: crate::scenario::Rule,
) -> Checked {
    let mut s = check.clone();
    s.expect_fail = vec![false; s.thresholds.len()];
    let b = crate::scenario::judge_by(&s, before, rule);
    let a = crate::scenario::judge_by(&s, after, rule);
    let listed: Vec<&crate::scenario::Row> = b
        .rows
        .iter()
        .zip(&check.expect_fail)
        .filter_map(|(r, &e)| e.then_some(r))
        .collect();
    // A listed threshold the topology before passes: the lesson's claim fails.
    let listed_passing = listed.iter().find(|r| r.passed);
    let b_fails = !b.errors.is_empty()
        || match listed_passing {
            Some(_) => false,
            None => b.rows.iter().any(|r| !r.passed),
        };
    let a_passes = a.rows.iter().all(|r| r.passed) && a.errors.is_empty();
    let first = |v: &Verdict, passed: bool| {
        v.rows
            .iter()
            .find(|r| r.passed == passed)
            .map(|r| format!("`{}` measured {}", r.threshold, r.shown))
            .or_else(|| {
                v.errors
                    .first()
                    .map(|e| format!("the run did not finish ({e})"))
            })
            .unwrap_or_else(|| "nothing to judge".into())
    };
    let summary = match (b_fails, a_passes) {
        (true, true) => format!(
            "before fails ({}), after passes ({})",
            first(&b, false),
            first(&a, true)
        ),
        (false, _) => match listed_passing {
            Some(r) => format!(
                "the topology before passes `{}` (measured {}), which the check expects it to fail",
                r.threshold, r.shown
            ),
            None => format!(
                "the topology before does not fail the check: {}",
                first(&b, true)
            ),
        },
        (true, false) => format!(
            "the topology after does not pass the check: {}",
            first(&a, false)
        ),
    };
    Checked {
        holds: b_fails && a_passes,
        before: b,
        after: a,
        summary,
    }
}

impl Lesson {
    /// The absolute request rate the check runs at, if its timeline sets
    /// one (`Rps(...)`): what the learner should push traffic to.
    pub fn load(check: &Scenario) -> Option<f64> {
        check.timeline.iter().rev().find_map(|i| match i {
            Item::At(_, Action::Rps(r)) | Item::Exact(_, _, Action::Rps(r)) => Some(*r),
            _ => None,
        })
    }

    /// The check's thresholds judged live: `measure` reads a threshold's
    /// metric off whatever the front end has now (its window is not
    /// applied). `Some(why)` when every threshold holds.
    pub fn live(
        check: &Scenario,
        mut measure: impl FnMut(&Threshold) -> Option<f64>,
    ) -> Option<String> {
        let mut shown = Vec::new();
        for t in &check.thresholds {
            let v = measure(t)?;
            if !t.op.holds(v, t.limit) {
                return None;
            }
            shown.push(format!("{} {}", t.metric.name, t.show(v)));
        }
        Some(shown.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_a_place_and_a_hint() {
        let e = parse(
            "l.ron",
            r#"Lesson(title: "t", part: Wall(9), before: "a.ron", after: "b", text: "", try: "", check: "c.ron")"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("there is no wall 9"), "{e}");
        assert!(e.contains("`after` is \"b\""), "{e}");
        assert!(e.contains("hint"), "{e}");
        let e = parse("l.ron", r#"Lesson(title: "t", tryy: "")"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("tryy"), "{e}");
    }
}
