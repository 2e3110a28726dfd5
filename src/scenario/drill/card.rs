//! The requirement card as a learner sees it: the drill's own card, and
//! what its hidden scenario grades (every threshold, and the node ids it
//! measures or acts on by name). The CLI's card and the app's come from
//! these same rows, so neither can leave out a graded requirement.

use super::{Drill, Violation};
use crate::scenario::Scenario;
use crate::topology::Topology;
use std::fmt::Write as _;

/// The card's rows, label and text, in order: the drill's card, then (when
/// the hidden scenario is given) one `graded` row per threshold it judges,
/// as written, and a `keep ids` row naming the nodes it measures or acts
/// on by name. `money` shows the budget in the cost model's currency.
pub fn card_rows(
    d: &Drill,
    scenario: Option<&Scenario>,
    money: &dyn Fn(f64) -> String,
) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = [
        ("traffic", d.card.traffic.clone()),
        ("read:write", d.card.read_write.clone()),
        ("latency", d.card.latency.clone()),
        ("availability", d.card.availability.clone()),
        ("survive", d.card.survive.clone()),
        ("budget", format!("{} a month", money(d.card.budget))),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let Some(s) = scenario else {
        return rows;
    };
    for (i, t) in s.thresholds.iter().enumerate() {
        let label = if i == 0 { "graded" } else { "" };
        rows.push((label.into(), t.text.clone()));
    }
    if !s.thresholds.is_empty() {
        let when = if s.warmup.0 == 0 {
            String::new()
        } else {
            format!(", measured after a {} warm-up", s.warmup)
        };
        rows.push((String::new(), format!("(every one must hold{when})")));
    }
    let kept = kept_ids(s);
    if !kept.is_empty() {
        let ids: Vec<String> = kept.iter().map(|(id, _)| format!("`{id}`")).collect();
        rows.push((
            "keep ids".into(),
            format!(
                "{}: the grade names {} by id, so keep {} from the start",
                ids.join(", "),
                if kept.len() == 1 { "it" } else { "them" },
                if kept.len() == 1 {
                    "its id"
                } else {
                    "their ids"
                }
            ),
        ));
    }
    rows
}

/// The requirement card as text ([`card_rows`] with the title and brief).
pub fn card_text(d: &Drill, costs: Option<&super::Costs>, scenario: Option<&Scenario>) -> String {
    let money = |x: f64| match costs {
        Some(c) => c.money(x),
        None => format!("{x:.0}"),
    };
    let mut out = String::new();
    let _ = writeln!(out, "Drill (level {}): {}", d.level, d.title);
    let _ = writeln!(out);
    for line in wrap(&d.brief, 76) {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out);
    for (k, v) in card_rows(d, scenario, &money) {
        let _ = writeln!(out, "  {k:<14} {v}");
    }
    out
}

/// The node ids the hidden scenario names, each with why, in the order
/// it first names them: a threshold's node (`utilization(db) < 0.8`) or a
/// timeline change (a `Slow` of `api` at 1m).
pub fn kept_ids(s: &Scenario) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |id: &str, why: String| {
        if !out.iter().any(|(k, _)| k == id) {
            out.push((id.to_string(), why));
        }
    };
    for t in &s.thresholds {
        if let Some(n) = &t.node {
            add(n, format!("it grades `{}`", t.text));
        }
    }
    for item in &s.timeline {
        let (crate::scenario::Item::At(at, a) | crate::scenario::Item::Exact(at, _, a)) = item;
        for n in a.nodes() {
            add(n, format!("its timeline changes it at {at}"));
        }
    }
    out
}

/// The ids [`kept_ids`] names that `mine` has no node for, each as a
/// refusal in the learner's terms (grading would otherwise stop inside
/// the hidden scenario, which the learner cannot see or change).
pub fn missing_ids(s: &Scenario, mine: &Topology) -> Vec<Violation> {
    kept_ids(s)
        .into_iter()
        .filter(|(id, _)| !mine.nodes.iter().any(|n| n.id() == id))
        .map(|(id, why)| Violation {
            message: format!(
                "the drill's hidden scenario names node `{id}` ({why}), but your topology has no node `{id}`"
            ),
            hint: format!(
                "keep the id `{id}` from the start file (the card lists the ids to keep): rename your node back to `{id}`"
            ),
            id,
        })
        .collect()
}

/// Greedy word wrap at `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
