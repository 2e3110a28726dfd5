//! The report as a table for people.

use super::*;
use crate::fmt::{fmt_secs, ratio};
use std::fmt::Write as _;

impl Report {
    /// The report as a table for people.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}  |  seed {}  |  {} simulated ({} warm-up)  |  {} events",
            self.topology,
            self.seed,
            fmt_secs(self.simulated_s),
            fmt_secs(self.warmup_s),
            fmt_count(self.events)
        );
        let _ = writeln!(out);
        let header = [
            "node",
            "servers",
            "arrivals",
            "done",
            "failed",
            "util",
            "queue",
            "wait",
            "p50",
            "p95",
            "p99",
            "rps",
            "ρ theory",
            "W theory",
            "theory",
        ];
        let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
        for (id, r) in &self.nodes.0 {
            // Kinds that only hand requests on have no servers, queue or
            // latency of their own.
            let lb = crate::kind::Kind::from_name(&r.kind).is_some_and(|k| k.routes_only());
            let dash = |v: String| if lb { "-".to_string() } else { v };
            rows.push(vec![
                id.clone(),
                dash(r.servers.to_string()),
                fmt_count(r.arrivals),
                fmt_count(r.completed),
                if r.dropped + r.errors == 0 {
                    "0".into()
                } else {
                    format!(
                        "{} ({:.1}%)",
                        fmt_count(r.dropped + r.errors),
                        ratio(r.dropped + r.errors, r.arrivals) * 100.0
                    )
                },
                dash(format!("{:.1}%", r.utilization * 100.0)),
                dash(format!("{:.2}", r.mean_queue_len)),
                dash(fmt_ms(r.mean_wait_ms)),
                dash(fmt_ms(r.p50_ms)),
                dash(fmt_ms(r.p95_ms)),
                dash(fmt_ms(r.p99_ms)),
                format!("{:.1}", r.throughput_rps),
            ]);
            rows.last_mut()
                .expect("a row")
                .extend(super::theory::cells(r.theory.as_ref()));
        }
        let e = &self.end_to_end;
        rows.push(vec![
            "END TO END".into(),
            String::new(),
            fmt_count(e.arrivals),
            fmt_count(e.completed),
            if e.dropped == 0 {
                "0".into()
            } else {
                format!("{} ({:.1}%)", fmt_count(e.dropped), e.blocking * 100.0)
            },
            String::new(),
            String::new(),
            String::new(),
            fmt_ms(e.p50_ms),
            fmt_ms(e.p95_ms),
            fmt_ms(e.p99_ms),
            format!("{:.1}", e.throughput_rps),
            String::new(),
            fmt_ms(self.theory.mean_ms),
            match self.theory.verdict {
                crate::theory::Verdict::NoModel => "-".to_string(),
                v => v.label().to_string(),
            },
        ]);
        write_rows(&mut out, &rows, true);
        let goodput = self.end_to_end.good.is_some();
        super::groups::write_table(&mut out, "class", &self.classes, goodput);
        super::groups::write_table(&mut out, "source", &self.sources, goodput);
        let _ = writeln!(out);
        super::sessions::write_lines(&mut out, &self.sessions);
        let _ = writeln!(
            out,
            "end to end: mean {}, p99.9 {}, max {}; {:.1} requests in the system on average",
            fmt_ms(e.mean_ms),
            fmt_ms(e.p999_ms),
            fmt_ms(e.max_ms),
            e.mean_in_system
        );
        if let (Some(good), Some(rps)) = (e.good, e.goodput_rps) {
            let _ = writeln!(
                out,
                "goodput: {:.1} requests/s answered within the deadline ({} of {} completed, {:.1}%)",
                rps,
                fmt_count(good),
                fmt_count(e.completed),
                ratio(good, e.completed) * 100.0
            );
        }
        if e.attempts > e.arrivals || e.timed_out > 0 || e.short_circuited > 0 {
            let _ = writeln!(
                out,
                "clients: {} attempts for {} requests ({:.2}x), {} retries, {} timed out, {} short-circuited by the breaker ({} trips)",
                fmt_count(e.attempts),
                fmt_count(e.arrivals),
                e.amplification,
                fmt_count(e.retries),
                fmt_count(e.timed_out),
                fmt_count(e.short_circuited),
                e.breaker_trips
            );
        }
        for (id, r) in &self.nodes.0 {
            // Each kind's own lines.
            if let Some(c) = &r.cache {
                c.write_lines(id, &mut out);
            }
            if let Some(lb) = &r.load_balancer {
                lb.write_lines(id, &mut out);
            }
            if let Some(sh) = &r.shards {
                sh.write_lines(id, &mut out);
            }
            if let Some(a) = &r.app {
                a.write_lines(id, &mut out);
            }
            if let Some(q) = &r.queue {
                q.write_lines(id, &mut out);
            }
            if let Some(rej) = r.rejected {
                crate::kinds::rate_limiter::write_lines(id, rej, r.arrivals, &mut out);
            }
            if let Some(rep) = &r.replica {
                rep.write_lines(id, &mut out);
            }
            if let Some(d) = &r.database {
                d.write_lines(id, &mut out);
            }
        }
        super::theory::write_lines(self, &mut out);
        if let Some(b) = &self.bottleneck {
            let _ = writeln!(out, "bottleneck: {}", b.reason);
        } else if self.end_to_end.arrivals == 0 {
            let _ = writeln!(
                out,
                "nothing measured: no request arrived between {} and {}, so no bottleneck is named",
                fmt_secs(self.warmup_s),
                fmt_secs(self.simulated_s)
            );
        }
        if let Some(f) = &self.failures {
            let _ = writeln!(out, "failures: {f}");
        }
        if self.bottleneck_timeline.len() > 1 {
            let parts: Vec<String> = self
                .bottleneck_timeline
                .iter()
                .map(|p| {
                    format!(
                        "{}-{}: {} ({:.0}%)",
                        fmt_secs(p.from_s),
                        fmt_secs(p.to_s),
                        p.node,
                        p.utilization * 100.0
                    )
                })
                .collect();
            let _ = writeln!(out, "the bottleneck moved: {}", parts.join(", then "));
        }
        for c in &self.changes {
            let _ = writeln!(out, "change at {}: {:?}", c.at, c.change);
        }
        if let Some(s) = &self.stopped {
            let _ = writeln!(out, "STOPPED EARLY: {s}");
        }
        out
    }
}

/// Writes rows as aligned columns (the first left-aligned, the rest
/// right-aligned), with a rule before the last row when `total_row`.
pub(super) fn write_rows(out: &mut String, rows: &[Vec<String>], total_row: bool) {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for (i, row) in rows.iter().enumerate() {
        if total_row && i == rows.len() - 1 {
            let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
            let _ = writeln!(out, "{}", "-".repeat(total));
        }
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c == 0 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str("  ");
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}
