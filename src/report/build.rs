//! A report built from a running simulation: end to end, node by node
//! (with each kind's own section, which its module fills in), the
//! bottleneck and its timeline, the series.

use super::*;
use crate::fmt::ratio;
use crate::sim::Simulation;
use crate::time::SimTime;

fn ms(ns: Option<f64>) -> Option<f64> {
    ns.map(|v| v / 1e6)
}

impl Simulation {
    /// The report of everything measured so far.
    pub fn report(&self) -> Report {
        // Time averages run from the warm-up to the cohort's end (or now).
        let now: SimTime = self.now().min(self.config().cohort_end);
        let warmup = self.config().warmup.0.min(now);
        let measured = now - warmup;
        let measured_s = Duration(measured).as_secs_f64();
        let per_s = |n: u64| {
            if measured == 0 {
                0.0
            } else {
                n as f64 / measured_s
            }
        };
        let model = self.model();

        let mut node_in_flight = vec![0u64; model.nodes.len()];
        let mut e2e_in_flight = 0;
        let groups = self.groups();
        let mut class_in_flight = vec![0u64; groups.classes.len()];
        let mut source_in_flight = vec![0u64; groups.sources.len()];
        for r in self.requests() {
            if self.counts(r.visit_arrival) && (r.node as usize) < node_in_flight.len() {
                node_in_flight[r.node as usize] += 1;
            }
            if self.counts(r.born)
                && r.parent == crate::sim::ROOT
                && r.flags & crate::sim::ABANDONED == 0
            {
                e2e_in_flight += 1;
                if let Some(n) = class_in_flight.get_mut(r.class as usize) {
                    *n += 1;
                }
                if let Some(n) = source_in_flight.get_mut(r.source as usize) {
                    *n += 1;
                }
            }
        }

        let mut nodes = Vec::with_capacity(model.nodes.len());
        // Servers averaged over the measured time (what utilization is a
        // share of), for the bottleneck's words.
        let mut mean_servers = Vec::with_capacity(model.nodes.len());
        for (i, m) in model.nodes.iter().enumerate() {
            let n = self.node_state(i);
            let s = &n.stats;
            let a = s.at_end.unwrap_or_else(|| s.areas(now));
            let busy = a.busy - s.at_warmup.busy;
            let cap = a.capacity - s.at_warmup.capacity;
            let waiting = a.waiting - s.at_warmup.waiting;
            let held = a.held - s.at_warmup.held;
            mean_servers.push((measured > 0).then(|| cap as f64 / measured as f64));
            let share = |area: u128| {
                if cap == 0 {
                    0.0
                } else {
                    area as f64 / cap as f64
                }
            };
            let waits_on: Vec<WaitShare> = s
                .waits
                .iter()
                .zip(s.waits_at_warmup.iter())
                .enumerate()
                .map(|(k, ((t, l), w0))| WaitShare {
                    node: model.nodes[*t as usize].id.clone(),
                    share: share(
                        s.waits_at_end
                            .get(k)
                            .copied()
                            .unwrap_or_else(|| l.area_at(now))
                            - w0,
                    ),
                })
                .collect();
            let time_avg = |area: u128| {
                if measured == 0 {
                    0.0
                } else {
                    area as f64 / measured as f64
                }
            };
            let mut report = NodeReport {
                kind: m.kind_name().to_string(),
                servers: n.servers,
                arrivals: s.arrivals,
                completed: s.completed,
                dropped: s.dropped,
                errors: s.errors,
                in_flight: node_in_flight[i],
                blocking: ratio(s.dropped, s.arrivals),
                utilization: if cap == 0 {
                    0.0
                } else {
                    busy as f64 / cap as f64
                },
                mean_queue_len: time_avg(waiting),
                // Everything whose visit is under way: waiting, in service,
                // and held without a server (a CDN edge's or a read-through
                // cache's requests waiting on the origin or backend), as
                // the sojourn counts them.
                mean_in_system: time_avg(waiting + busy + held),
                mean_wait_ms: (s.wait_count > 0)
                    .then(|| s.wait_sum as f64 / s.wait_count as f64 / 1e6),
                mean_sojourn_ms: ms(s.sojourn.mean()),
                p50_ms: ms(s.sojourn.quantile(0.50)),
                p95_ms: ms(s.sojourn.quantile(0.95)),
                p99_ms: ms(s.sojourn.quantile(0.99)),
                p999_ms: ms(s.sojourn.quantile(0.999)),
                throughput_rps: per_s(s.departed),
                overflow: s.overflow,
                waiting_on_calls: share(a.calling - s.at_warmup.calling),
                waiting_on_pool: share(a.pool_wait - s.at_warmup.pool_wait),
                waits_on,
                injected_errors: s.injected,
                partitioned: s.cut,
                cache: None,
                load_balancer: None,
                database: None,
                replica: None,
                shards: None,
                app: None,
                queue: None,
                rejected: None,
                theory: None,
            };
            // What the node's kind adds: its own section.
            self.fill_report(i, &mut report);
            if let Some(c) = &mut report.cache {
                c.mean_held = time_avg(held);
            }
            if let Some(app) = &mut report.app
                && app.pool_size.is_some()
            {
                app.pool_utilization = Some(crate::metrics::pool_share(
                    a.pool_busy - s.at_warmup.pool_busy,
                    a.pool_open - s.at_warmup.pool_open,
                ));
            }
            nodes.push((m.id.clone(), report));
        }

        let e = self.e2e_stats();
        let in_sys = e
            .in_system_at_end
            .unwrap_or_else(|| e.in_system.area_at(now))
            - e.in_system_at_warmup;
        let end_to_end = EndToEnd {
            arrivals: e.arrivals,
            completed: e.completed,
            dropped: e.dropped,
            in_flight: e2e_in_flight,
            blocking: ratio(e.dropped, e.arrivals),
            throughput_rps: per_s(e.departed),
            attempts: e.attempts,
            retries: e.retries,
            timed_out: e.timed_out,
            short_circuited: e.short_circuited,
            breaker_trips: (0..model.sources.len())
                .map(|i| self.breaker_trips(i))
                .sum(),
            amplification: ratio(e.attempts, e.arrivals),
            mean_in_system: if measured == 0 {
                0.0
            } else {
                in_sys as f64 / measured as f64
            },
            mean_ms: ms(e.latency.mean()),
            p50_ms: ms(e.latency.quantile(0.50)),
            p95_ms: ms(e.latency.quantile(0.95)),
            p99_ms: ms(e.latency.quantile(0.99)),
            p999_ms: ms(e.latency.quantile(0.999)),
            max_ms: ms(e.latency.max().map(|v| v as f64)),
            good: self.has_deadline().then_some(e.good),
            goodput_rps: self.has_deadline().then(|| per_s(e.good_departed)),
        };
        let theory = self.theory(
            &mut nodes,
            &super::theory::Run {
                now,
                warmup,
                measured_s,
                e2e: &end_to_end,
            },
        );
        let (classes, sources) =
            self.group_reports(&class_in_flight, &source_in_flight, measured_s);

        let analyzer = crate::analysis::Analyzer::new(model);
        let loads = loads(model, &nodes, &mean_servers);
        // Nothing arrived in the measured span: nothing to name.
        let measured_any = end_to_end.arrivals > 0;
        let bottleneck = analyzer
            .find(&loads)
            .filter(|_| measured_any)
            .map(|f| Bottleneck {
                node: nodes[f.node].0.clone(),
                utilization: f.utilization,
                reason: f.reason,
                chain: f.chain.iter().map(|&i| nodes[i].0.clone()).collect(),
                pool_to: f.pool_to.map(|t| nodes[t].0.clone()),
            });
        // Once the cohort's end has passed (a scenario letting its
        // requests settle), one still without an answer counts as failed,
        // as `error_rate` counts it.
        let unanswered = if self.now() > self.config().cohort_end {
            end_to_end.in_flight
        } else {
            0
        };
        let failures =
            analyzer.failures(&loads, end_to_end.arrivals, end_to_end.dropped + unanswered);
        let bottleneck_timeline = if measured_any {
            self.bottleneck_timeline()
        } else {
            Vec::new()
        };
        Report {
            topology: model.name.clone(),
            seed: self.config().seed,
            simulated_s: Duration(self.now()).as_secs_f64(),
            warmup_s: Duration(warmup).as_secs_f64(),
            measured_s,
            events: self.events(),
            stopped: self.stopped().map(|e| e.to_string()),
            end_to_end,
            nodes: Keyed(nodes),
            classes,
            sources,
            sessions: self.session_reports(measured_s),
            bottleneck,
            bottleneck_timeline,
            failures,
            changes: self.changes().to_vec(),
            theory,
            series: None,
        }
    }

    /// The busiest node of each window (among nodes that queue), merged
    /// into stretches; stretches shorter than 5 windows (or a thirtieth of the run) fold into
    /// their neighbour so that noise does not read as a move.
    pub fn bottleneck_timeline(&self) -> Vec<Phase> {
        let model = self.model();
        let n = model.nodes.len();
        if n == 0 {
            return Vec::new();
        }
        let analyzer = crate::analysis::Analyzer::new(model);
        let windows = self.series(0).records().len();
        let series: Vec<Vec<crate::metrics::WindowRecord>> = (0..n)
            .map(|i| self.series(i).records().copied().collect())
            .collect();
        let window = self.config().window.as_secs_f64();
        // (node, utilization, start) per window.
        let mut per: Vec<(usize, f64, f64)> = Vec::with_capacity(windows);
        let mut loads: Vec<crate::analysis::Load> = vec![Default::default(); n];
        for w in 0..windows {
            for ((i, l), s) in loads.iter_mut().enumerate().zip(&series) {
                let r = &s[w];
                *l = crate::analysis::Load {
                    utilization: r.utilization,
                    calling: r.calling,
                    pool_wait: r.pool_wait,
                    waits: Vec::new(),
                    mean_queue: r.mean_queue_len,
                    mean_wait_ms: None,
                    arrivals: r.arrivals,
                    dropped: r.dropped,
                    overflow: r.overflow,
                    servers: self.node_state(i).servers,
                    pool: Some(r.pool_utilization),
                    ..Default::default()
                };
            }
            let Some(f) = analyzer.find(&loads) else {
                return Vec::new();
            };
            // The resource named: a node (`i`), or an app's pool (`n + i`).
            let at = |f: &crate::analysis::Finding| f.node + n * f.pool_to.is_some() as usize;
            let util = |c: usize| {
                if c < n {
                    loads[c].utilization
                } else {
                    loads[c - n].pool.unwrap_or(0.0)
                }
            };
            let saturated = |c: usize| {
                if c < n {
                    loads[c].saturated()
                } else {
                    util(c) >= crate::analysis::SATURATED
                }
            };
            let found = at(&f);
            // Hysteresis: the bottleneck stays where it was unless another
            // node is clearly busier (10 points, or saturated when it is
            // not), so two equal nodes trading places is not a move.
            let node = match per.last() {
                Some(&(prev, _, _))
                    if prev != found
                        && util(prev) + 0.10 >= util(found)
                        && (saturated(prev) || !saturated(found)) =>
                {
                    prev
                }
                _ => found,
            };
            per.push((node, util(node), Duration(series[0][w].start).as_secs_f64()));
        }
        // Stretches of windows: (node, first window, one past the last).
        let mut runs: Vec<(usize, usize, usize)> = Vec::new();
        for (w, &(node, _, _)) in per.iter().enumerate() {
            match runs.last_mut() {
                Some(r) if r.0 == node => r.2 = w + 1,
                _ => runs.push((node, w, w + 1)),
            }
        }
        // Fold short stretches into the previous one: shorter than 5
        // windows, or than a thirtieth of the run (a move is something
        // that lasts, not a burst of noise).
        let short = (windows / 30).max(5);
        let mut folded: Vec<(usize, usize, usize)> = Vec::new();
        for r in runs {
            match folded.last_mut() {
                Some(prev) if r.2 - r.1 < short || prev.0 == r.0 => prev.2 = r.2,
                _ => folded.push(r),
            }
        }
        // A short first stretch (the run's first windows) belongs to the
        // stretch after it.
        if folded.len() > 1 && folded[0].2 - folded[0].1 < short {
            let first = folded.remove(0);
            folded[0].1 = first.1;
        }
        // Over a whole stretch, a move is real only when the new node is
        // clearly busier than the one it replaces was over the same
        // windows (10 points; a few points either side of "saturated" is
        // noise): two equal nodes trading places is no move.
        let at = |c: usize, w: usize| {
            let r = &series[c % n][w];
            if c < n {
                r.utilization
            } else {
                r.pool_utilization
            }
        };
        let mean = |i: usize, from: usize, to: usize| {
            (from..to).map(|w| at(i, w)).sum::<f64>() / (to - from) as f64
        };
        // Judged again whenever stretches merge: a move that a few noisy
        // windows suggested must hold over the whole stretch it starts.
        // And it must hold window by window, not only on average: the new
        // node busier in at least four windows out of five.
        let busier = |a: usize, b: usize, from: usize, to: usize| {
            let wins = (from..to).filter(|&w| at(a, w) > at(b, w)).count();
            5 * wins >= 4 * (to - from)
        };
        let mut kept = folded;
        while let Some(k) = (1..kept.len()).find(|&k| {
            let (prev, r) = (kept[k - 1], kept[k]);
            prev.0 == r.0
                || mean(r.0, r.1, r.2) < mean(prev.0, r.1, r.2) + 0.10
                || !busier(r.0, prev.0, r.1, r.2)
        }) {
            kept[k - 1].2 = kept[k].2;
            kept.remove(k);
        }
        // Each stretch's utilization: its node's mean over its windows.
        kept.into_iter()
            .map(|(node, from, to)| Phase {
                from_s: per[from].2,
                to_s: per[to - 1].2 + window,
                node: model.nodes[node % n].id.clone(),
                utilization: mean(node, from, to),
                pool_to: (node >= n).then(|| pool_target(model, node - n)).flatten(),
            })
            .collect()
    }

    /// The per-window series, for reports that ask for it.
    pub fn series_report(&self) -> SeriesReport {
        let (classes, sources) = self.group_series();
        let deadline = self.has_deadline();
        SeriesReport {
            window_s: self.config().window.as_secs_f64(),
            end_to_end: self
                .end_to_end_series()
                .records()
                .map(|r| {
                    if deadline {
                        WindowRecordOut::group(r)
                    } else {
                        r.into()
                    }
                })
                .collect(),
            nodes: self
                .model()
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    (
                        n.id.clone(),
                        self.series(i).records().map(Into::into).collect(),
                    )
                })
                .collect(),
            classes,
            sources,
            sessions: self.session_series(),
        }
    }
}

/// What the analysis needs of the nodes' reports (a pool's refused
/// connections count at the node its pool connects to).
fn loads(
    model: &crate::model::Model,
    nodes: &[(String, NodeReport)],
    mean_servers: &[Option<f64>],
) -> Vec<crate::analysis::Load> {
    let mut out: Vec<crate::analysis::Load> = nodes
        .iter()
        .zip(mean_servers)
        .map(|((_, r), &mean_servers)| crate::analysis::Load {
            utilization: r.utilization,
            calling: r.waiting_on_calls,
            pool_wait: r.waiting_on_pool,
            waits: r
                .waits_on
                .iter()
                .filter_map(|w| Some((model.node_index(&w.node)?, w.share)))
                .collect(),
            mean_queue: r.mean_queue_len,
            mean_wait_ms: r.mean_wait_ms,
            arrivals: r.arrivals,
            dropped: r.dropped,
            overflow: r.overflow,
            servers: r.servers,
            mean_servers,
            injected: r.injected_errors,
            cut: r.partitioned,
            rejected: r.rejected.unwrap_or(0),
            refused_connections: 0,
            pool: r.app.as_ref().and_then(|a| a.pool_utilization),
            pool_connections: r.app.as_ref().and_then(|a| a.pool_open).unwrap_or(0),
        })
        .collect();
    for (i, m) in model.nodes.iter().enumerate() {
        if let crate::kinds::KindModel::App(app) = &m.kind
            && let Some(pool) = app.pool
            && let Some(a) = &nodes[i].1.app
        {
            out[pool.target as usize].refused_connections += a.pool_refused;
        }
    }
    out
}

/// The id of the node app `i`'s pool connects to, if it has one.
fn pool_target(model: &crate::model::Model, i: usize) -> Option<String> {
    match &model.nodes[i].kind {
        crate::kinds::KindModel::App(a) => {
            a.pool.map(|p| model.nodes[p.target as usize].id.clone())
        }
        _ => None,
    }
}
