//! The series as CSV: one row per window of each scope (end to end, each
//! node, each class, each source, each session source), in the order the
//! JSON lists them.

use super::*;
use std::fmt::Write as _;

/// The CSV header.
pub const CSV_HEADER: &str =
    "scope,id,t_s,arrivals,completed,dropped,good,utilization,mean_queue_len,p50_ms,p95_ms,p99_ms";

/// A field as CSV writes it: quoted when it holds a comma, quote or line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

/// One row: the scope, the id (quoted when it needs it), then the cells
/// after it in the header's order.
fn row(out: &mut String, scope: &str, id: &str, cells: &[&dyn std::fmt::Display]) {
    let _ = write!(out, "{scope},{}", field(id));
    for c in cells {
        let _ = write!(out, ",{c}");
    }
    out.push('\n');
}

impl SeriesReport {
    /// The series as CSV (RFC 4180, `\n` line ends): a header, then one row
    /// per window; `scope` is `end_to_end`, `node`, `class` or `source`, `id`
    /// the node, class or source (empty end to end). Numbers are as in the
    /// JSON (the shortest text that reads back as the same value); a value
    /// that does not exist (the p99 of a window with no completion, `good`
    /// of a node) is empty. A `session` row (one per window of each session
    /// source) reads its columns as sessions: `arrivals` begun, `completed`
    /// completed, `dropped` ended otherwise (abandoned, with failures, cut
    /// short), `mean_queue_len` under way at the window's end, `p50_ms` and
    /// `p99_ms` the durations of those completed; the JSON names each count.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(CSV_HEADER);
        out.push('\n');
        let mut rows = |scope: &str, id: &str, records: &[WindowRecordOut]| {
            for r in records {
                row(
                    &mut out,
                    scope,
                    id,
                    &[
                        &r.t_s,
                        &r.arrivals,
                        &r.completed,
                        &r.dropped,
                        &opt(r.good),
                        &r.utilization,
                        &r.mean_queue_len,
                        &opt(r.p50_ms),
                        &opt(r.p95_ms),
                        &opt(r.p99_ms),
                    ],
                );
            }
        };
        rows("end_to_end", "", &self.end_to_end);
        for (id, r) in &self.nodes {
            rows("node", id, r);
        }
        for (id, r) in &self.classes {
            rows("class", id, r);
        }
        for (id, r) in &self.sources {
            rows("source", id, r);
        }
        for (id, r) in &self.sessions {
            for w in r {
                row(
                    &mut out,
                    "session",
                    id,
                    &[
                        &w.t_s,
                        &w.started,
                        &w.completed,
                        &(w.abandoned + w.with_failures + w.left),
                        &"",
                        &"",
                        &w.in_progress,
                        &opt(w.p50_ms),
                        &"",
                        &opt(w.p99_ms),
                    ],
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_needs_it() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("db"), "db");
    }
}
