//! Where failures begin: the node on the request path where the most
//! requests failed of their own accord.

use super::{Analyzer, Load};
use std::fmt::Write as _;

impl Analyzer {
    /// Where failures begin, when at least 1% of `arrivals` failed: the
    /// node on the request path where the most requests failed of its own
    /// accord (dropped while down, turned away for capacity, refused by a
    /// limit, injected errors), not because a call it made failed.
    pub fn failures(&self, loads: &[Load], arrivals: u64, failed: u64) -> Option<String> {
        if arrivals == 0 || (failed as f64) < 0.01 * arrivals as f64 {
            return None;
        }
        let i = (0..loads.len())
            .filter(|&i| self.on_path[i])
            .max_by(|&a, &b| {
                loads[a]
                    .own_failures()
                    .cmp(&loads[b].own_failures())
                    .then(b.cmp(&a))
            })?;
        let l = &loads[i];
        let mut out = format!(
            "{:.1}% of requests failed",
            100.0 * failed as f64 / arrivals as f64
        );
        if l.own_failures() == 0 {
            out.push_str(
                " (their clients gave up or their calls timed out; no node turned them away)",
            );
            return Some(out);
        }
        let down = l.dropped.saturating_sub(l.overflow + l.rejected);
        let mut parts: Vec<String> = Vec::new();
        let n = crate::fmt::fmt_count;
        if down > 0 {
            parts.push(format!("{} dropped while it was down", n(down)));
        }
        if l.overflow > 0 {
            parts.push(format!(
                "{} turned away at its queue or connection limit",
                n(l.overflow)
            ));
        }
        if l.refused_connections > 0 {
            parts.push(format!(
                "{} calls found no pool connection (it refused them)",
                n(l.refused_connections)
            ));
        }
        if l.rejected > 0 {
            parts.push(format!("{} refused over its rate limit", n(l.rejected)));
        }
        if l.injected > 0 {
            parts.push(format!("{} injected errors", n(l.injected)));
        }
        if l.cut > 0 {
            parts.push(format!("{} could not cross a network partition", n(l.cut)));
        }
        let _ = write!(out, "; most began at {}: {}", self.ids[i], parts.join(", "));
        Some(out)
    }
}
