//! The report per request class and per source: end-to-end latency, errors,
//! throughput and goodput of each, present only when the topology has more
//! than one class (or source); with one, it is the end-to-end total.

use super::*;
use crate::fmt::ratio;
use crate::metrics::GroupStats;
use crate::sim::Simulation;
use std::fmt::Write as _;

/// One request class's (or one source's) end-to-end measurements, under
/// the same cohort rule as the totals: they add up to `end_to_end`.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct GroupReport {
    /// Users' requests created after the warm-up.
    pub arrivals: u64,
    /// Of those, completed.
    pub completed: u64,
    /// Of those, failed for good (dropped, errors, timeouts, after retries).
    pub dropped: u64,
    /// Of those, still in the system at the end.
    pub in_flight: u64,
    /// `dropped / arrivals`.
    pub blocking: f64,
    /// Answered per second of measured time (answers between the warm-up and
    /// the end, whenever their request arrived).
    pub throughput_rps: f64,
    /// Of the completed, answered within the deadline (the run's, or the
    /// client's timeout; without either, every completed request).
    pub good: u64,
    /// Answers within the deadline per second of measured time (counted as
    /// `throughput_rps` is).
    pub goodput_rps: f64,
    /// Mean response time of completed requests.
    pub mean_ms: Option<f64>,
    /// Median response time.
    pub p50_ms: Option<f64>,
    /// 95th percentile.
    pub p95_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// 99.9th percentile.
    pub p999_ms: Option<f64>,
    /// Slowest.
    pub max_ms: Option<f64>,
}

/// Classes or sources, serialized as a JSON object keyed by name in the
/// model's order (classes sorted by name, sources as in the topology).
pub type Groups = Keyed<GroupReport>;

impl KeyedItem for GroupReport {
    const LIST: &'static str = "Groups";
    const ABOUT: &'static str = "Per request class (keyed by class, sorted) or per source (keyed by id, in the topology's order); present only when there is more than one.";
}

fn ms(ns: Option<f64>) -> Option<f64> {
    ns.map(|v| v / 1e6)
}

fn group_report(g: &GroupStats, in_flight: u64, measured_s: f64) -> GroupReport {
    let per_s = |n: u64| {
        if measured_s > 0.0 {
            n as f64 / measured_s
        } else {
            0.0
        }
    };
    GroupReport {
        arrivals: g.arrivals,
        completed: g.completed,
        dropped: g.dropped,
        in_flight,
        blocking: ratio(g.dropped, g.arrivals),
        throughput_rps: per_s(g.departed),
        good: g.good,
        goodput_rps: per_s(g.good_departed),
        mean_ms: ms(g.latency.mean()),
        p50_ms: ms(g.latency.quantile(0.50)),
        p95_ms: ms(g.latency.quantile(0.95)),
        p99_ms: ms(g.latency.quantile(0.99)),
        p999_ms: ms(g.latency.quantile(0.999)),
        max_ms: ms(g.latency.max().map(|v| v as f64)),
    }
}

impl Simulation {
    /// The per-class and per-source reports, given each one's requests in
    /// flight (indexed as the model's classes and sources).
    pub(super) fn group_reports(
        &self,
        class_in_flight: &[u64],
        source_in_flight: &[u64],
        measured_s: f64,
    ) -> (Groups, Groups) {
        let g = self.groups();
        let model = self.model();
        let classes = g
            .classes
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let n = class_in_flight.get(i).copied().unwrap_or(0);
                (model.classes[i].clone(), group_report(s, n, measured_s))
            })
            .collect();
        let sources = g
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let n = source_in_flight.get(i).copied().unwrap_or(0);
                (model.sources[i].id.clone(), group_report(s, n, measured_s))
            })
            .collect();
        (Keyed(classes), Keyed(sources))
    }

    /// The per-window series of each class and source.
    pub(super) fn group_series(&self) -> (NamedSeries, NamedSeries) {
        let g = self.groups();
        let model = self.model();
        let out = |s: &GroupStats| s.series.records().map(WindowRecordOut::group).collect();
        (
            g.classes
                .iter()
                .enumerate()
                .map(|(i, s)| (model.classes[i].clone(), out(s)))
                .collect(),
            g.sources
                .iter()
                .enumerate()
                .map(|(i, s)| (model.sources[i].id.clone(), out(s)))
                .collect(),
        )
    }
}

/// Series keyed by name.
pub type NamedSeries = Vec<(String, Vec<WindowRecordOut>)>;

/// Writes one table of groups (`class` or `source` in the first column).
pub(super) fn write_table(out: &mut String, what: &str, groups: &Groups, goodput: bool) {
    if groups.is_empty() {
        return;
    }
    let mut header = vec![
        what, "arrivals", "done", "failed", "p50", "p95", "p99", "p99.9", "rps",
    ];
    if goodput {
        header.push("goodput");
    }
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for (name, g) in &groups.0 {
        let mut row = vec![
            name.clone(),
            fmt_count(g.arrivals),
            fmt_count(g.completed),
            if g.dropped == 0 {
                "0".into()
            } else {
                format!("{} ({:.1}%)", fmt_count(g.dropped), g.blocking * 100.0)
            },
            fmt_ms(g.p50_ms),
            fmt_ms(g.p95_ms),
            fmt_ms(g.p99_ms),
            fmt_ms(g.p999_ms),
            format!("{:.1}", g.throughput_rps),
        ];
        if goodput {
            row.push(format!("{:.1}", g.goodput_rps));
        }
        rows.push(row);
    }
    let _ = writeln!(out);
    super::table::write_rows(out, &rows, false);
}
