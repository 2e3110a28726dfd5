//! How `check` (and the drill and lesson commands) show verdicts: the
//! table a person reads, the one-line summary, and JUnit XML for CI.

use bottleneck::scenario::{Scenario, Verdict};
use std::fmt::Write as _;

pub fn table(s: &Scenario, v: &Verdict, replications: u32) -> String {
    let mut out = String::new();
    let wall = v.rows.iter().any(|r| r.expected_to_fail);
    let mark = match (v.errors.is_empty(), v.as_expected(), wall) {
        (false, _, _) => "ERROR",
        (true, true, false) => "pass",
        (true, true, true) => "fails as expected",
        (true, false, false) => "FAIL",
        (true, false, true) => "NOT AS EXPECTED",
    };
    let _ = writeln!(out, "{}  [{mark}]", s.name);
    let reps = if replications == 1 {
        format!("seed {}", s.seed)
    } else {
        format!(
            "seeds {}..{} ({replications} replications, mean ± 95% CI)",
            s.seed,
            s.seed.saturating_add(replications as u64 - 1)
        )
    };
    // The span simulated: a run that stopped early says where.
    let span = match (v.stopped.as_slice(), v.finished()) {
        ([], _) => format!("{} simulated", s.duration),
        ([one], 0) => format!(
            "stopped at {} of {}",
            bottleneck::fmt::fmt_secs(one.at_s),
            s.duration
        ),
        (st, 0) => format!("all {} stopped early, of {}", st.len(), s.duration),
        (st, k) => format!(
            "{} simulated by {k}; {} stopped early, left out of the mean",
            s.duration,
            st.len()
        ),
    };
    let _ = writeln!(
        out,
        "  {}  |  {reps}  |  {span} ({} warm-up)",
        s.file, s.warmup
    );
    let w = v
        .rows
        .iter()
        .map(|r| r.threshold.chars().count())
        .max()
        .unwrap_or(9)
        .max(9);
    let mw = v
        .rows
        .iter()
        .map(|r| r.shown.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let _ = writeln!(out, "  {:w$}  {:>mw$}  result", "threshold", "measured");
    for r in &v.rows {
        let result = match (r.passed, r.expected_to_fail) {
            _ if r.not_judged => "not judged (the run stopped early)",
            (true, false) => "pass",
            (false, true) => "FAIL (expected)",
            (false, false) => "FAIL",
            (true, true) => "PASS (expected to fail)",
        };
        let held = r
            .replications_passed
            .map(|k| format!(" (held in {k} of {replications})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:w$}  {:>mw$}  {result}{held}",
            r.threshold, r.shown
        );
    }
    if let Some(p) = &v.precision {
        let widest = p
            .widest
            .as_ref()
            .map(|(t, w)| {
                if w.is_finite() {
                    format!("widest: {t} ± {:.1}%", w * 100.0)
                } else {
                    format!("widest: {t}, no interval yet")
                }
            })
            .unwrap_or_else(|| "nothing measured".into());
        let _ = writeln!(
            out,
            "  precision ± {}%: {} after {replications} replications ({widest})",
            (p.target * 1e4).round() / 100.0,
            if p.reached { "reached" } else { "NOT reached" },
        );
    }
    if v.failed() > 0
        && let Some(b) = &v.bottleneck
    {
        let _ = writeln!(out, "  bottleneck: {b}");
    }
    if v.failed() > 0
        && let Some(f) = &v.failures
    {
        let _ = writeln!(out, "  failures: {f}");
    }
    for e in &v.errors {
        let _ = writeln!(out, "  error: {e}");
    }
    let _ = writeln!(out);
    out
}

pub(super) fn summary(verdicts: &[Verdict], bad: usize, refused: usize, skipped: usize) -> String {
    let expected = verdicts.iter().filter(|v| v.as_expected()).count();
    let walls = verdicts
        .iter()
        .filter(|v| v.as_expected() && v.rows.iter().any(|r| r.expected_to_fail))
        .count();
    let mut s = format!(
        "{} scenario{}: {expected} as expected ({walls} failing as they should), {} not",
        verdicts.len(),
        if verdicts.len() == 1 { "" } else { "s" },
        verdicts.len() - expected
    );
    if bad > 0 {
        let _ = write!(s, ", {bad} could not be read");
    }
    if refused > 0 {
        let _ = write!(s, ", {refused} refused (over a budget)");
    }
    if skipped > 0 {
        let _ = write!(s, "; {skipped} topology file(s) skipped");
    }
    s.push('\n');
    s
}

/// Text as XML 1.0 attribute or element content: markup escaped, line
/// breaks and tabs as character references (attributes keep them), and
/// characters XML 1.0 does not allow at all (other control characters,
/// U+FFFE, U+FFFF) written out as `\u{..}` so the document stays valid.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: a test suite per scenario, a test case per threshold; a case
/// fails when its threshold is not as expected.
pub fn junit(verdicts: &[Verdict]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    // Every count is of the <testcase> elements written: one per threshold
    // (skipped when not judged) and one per run error.
    let failed = |v: &Verdict| {
        v.rows
            .iter()
            .filter(|r| !r.not_judged && !r.as_expected())
            .count()
    };
    let skipped = |v: &Verdict| v.rows.iter().filter(|r| r.not_judged).count();
    let total: usize = verdicts.iter().map(|v| v.rows.len() + v.errors.len()).sum();
    let failures: usize = verdicts.iter().map(failed).sum();
    let errors: usize = verdicts.iter().map(|v| v.errors.len()).sum();
    let skips: usize = verdicts.iter().map(skipped).sum();
    let _ = writeln!(
        out,
        "<testsuites name=\"bottleneck check\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skips}\">"
    );
    for v in verdicts {
        let replications = v.seeds.len();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            xml(&v.name),
            v.rows.len() + v.errors.len(),
            failed(v),
            v.errors.len(),
            skipped(v)
        );
        let _ = writeln!(
            out,
            "    <properties><property name=\"file\" value=\"{}\"/><property name=\"replications\" value=\"{replications}\"/></properties>",
            xml(&v.file)
        );
        for r in &v.rows {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml(&v.file),
                xml(&r.threshold)
            );
            if r.not_judged {
                let _ = writeln!(
                    out,
                    "><skipped message=\"not judged: the run stopped early (see the run error)\"/></testcase>"
                );
            } else if r.as_expected() {
                let _ = writeln!(
                    out,
                    "><system-out>measured {}{}</system-out></testcase>",
                    xml(&r.shown),
                    if r.expected_to_fail {
                        " (fails, as expected)"
                    } else {
                        ""
                    }
                );
            } else {
                let msg = if r.expected_to_fail {
                    format!("expected to fail, but passed: measured {}", r.shown)
                } else {
                    format!("threshold failed: measured {}", r.shown)
                };
                let why = v.bottleneck.as_deref().unwrap_or("");
                let _ = writeln!(
                    out,
                    "><failure message=\"{}\">{}</failure></testcase>",
                    xml(&msg),
                    xml(&format!("{msg}\nbottleneck: {why}"))
                );
            }
        }
        for e in &v.errors {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"run\"><error message=\"{}\"/></testcase>",
                xml(&v.file),
                xml(e)
            );
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_always_valid() {
        assert_eq!(xml("a<b & \"c\"'"), "a&lt;b &amp; &quot;c&quot;&apos;");
        assert_eq!(xml("x\u{1}y\u{1b}z\u{ffff}"), "x\\u{1}y\\u{1b}z\\u{ffff}");
        assert_eq!(xml("1\n2\t3"), "1&#10;2&#9;3");
    }
}
