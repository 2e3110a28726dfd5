//! A recorded session written as a scenario that replays it exactly.

use super::*;

/// Writes a recorded session as a scenario file that replays it exactly:
/// each change at its time and after its count of events.
pub fn record(
    name: &str,
    topology: &str,
    seed: u64,
    duration: Duration,
    changes: &[AppliedChange],
) -> String {
    let mut out = String::new();
    let q = |s: &str| format!("{s:?}");
    let _ = writeln!(
        out,
        "// Recorded by Bottleneck: replays the session event for event."
    );
    let _ = writeln!(out, "Scenario(");
    let _ = writeln!(out, "    name: {},", q(name));
    let _ = writeln!(out, "    topology: {},", q(topology));
    let _ = writeln!(out, "    seed: {seed},");
    let _ = writeln!(out, "    duration: {},", q(&duration.to_exact_string()));
    let _ = writeln!(out, "    warmup: \"0s\",");
    let _ = writeln!(out, "    timeline: [");
    for c in changes {
        let action = ron::to_string(&Action::from_change(&c.change)).unwrap_or_default();
        let _ = writeln!(
            out,
            "        Exact({}, {}, {action}),",
            q(&c.at.to_exact_string()),
            c.after_events
        );
    }
    let _ = writeln!(out, "    ],");
    let _ = writeln!(out, "    thresholds: [],");
    let _ = writeln!(out, ")");
    out
}
