//! The inspector: a node's (or the whole system's) live charts, its
//! faults and capacity, and what the report says of it.

use super::colour::*;
use crate::edits;
use crate::layout::Slot;
use crate::sandbox::Sandbox;
use bevy_egui::egui;
use bottleneck::sim::Change;
use bottleneck::time::SEC;
use egui_plot::{Legend, Line, Plot, PlotPoints};

/// A series as plot points: window end (s), value.
fn points(
    s: &Sandbox,
    series: &bottleneck::metrics::Series,
    f: impl Fn(&bottleneck::metrics::WindowRecord) -> Option<f64>,
) -> Vec<[f64; 2]> {
    let w = s.sim.config().window.0 as f64 / SEC as f64;
    series
        .records()
        .filter_map(|r| f(r).map(|v| [r.start as f64 / SEC as f64 + w, v]))
        .collect()
}

/// A node's series, or the end-to-end one.
fn series_line(
    s: &Sandbox,
    i: Option<usize>,
    f: impl Fn(&bottleneck::metrics::WindowRecord) -> Option<f64>,
) -> Vec<[f64; 2]> {
    let series = match i {
        Some(i) => s.sim.series(i),
        None => s.sim.end_to_end_series(),
    };
    points(s, series, f)
}

/// One line per request class, when the topology has more than one (the
/// engine keeps them apart only then): `(class, points)`.
pub fn class_lines(
    s: &Sandbox,
    f: impl Fn(&bottleneck::metrics::WindowRecord) -> Option<f64> + Copy,
) -> Vec<(String, Vec<[f64; 2]>)> {
    s.sim
        .groups()
        .classes
        .iter()
        .zip(&s.model.classes)
        .map(|(g, name)| (name.clone(), points(s, &g.series, f)))
        .collect()
}

fn chart(ui: &mut egui::Ui, id: &str, title: &str, lines: Vec<(String, Vec<[f64; 2]>)>) {
    ui.label(egui::RichText::new(title).small().strong());
    Plot::new(id)
        .height(96.0)
        .legend(Legend::default())
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .include_y(0.0)
        .show(ui, |p| {
            for (name, pts) in lines {
                p.line(Line::new(name, PlotPoints::from(pts)));
            }
        });
}

/// "Theory says": the engine's queueing prediction for the node beside
/// what it measured (`bottleneck::report::says`), from the last report
/// taken; nothing for nodes that only route, or before a report exists.
fn theory_line(ui: &mut egui::Ui, s: &Sandbox, node: usize) {
    let Some(report) = &s.report else { return };
    let Some(text) = s
        .model
        .nodes
        .get(node)
        .and_then(|n| report.nodes.get(&n.id))
        .and_then(bottleneck::report::says)
    else {
        return;
    };
    ui.label(egui::RichText::new(text).small());
}

/// Utilization and queue as words and numbers (never colour alone).
fn load_line(ui: &mut egui::Ui, s: &Sandbox, i: usize) {
    let live = s.sim.live(i);
    let sig = s.signals[i];
    let text = if live.down {
        "DOWN: every request to it fails".to_string()
    } else if s.routes_only(i) {
        "passes requests on (no servers of its own)".to_string()
    } else {
        let u = sig.utilization.value;
        format!(
            "utilization {:.0}% ({}) of {} servers; {:.1} waiting; errors {:.1}%",
            u * 100.0,
            load_word(u),
            live.servers,
            sig.queue.value,
            sig.errors.value * 100.0
        )
    };
    ui.label(egui::RichText::new(text).strong());
}

/// The inspector of the selected node, or of the whole system.
pub fn inspector(ui: &mut egui::Ui, s: &mut Sandbox) {
    let sel = s.selected;
    match sel {
        None => {
            ui.heading("End to end");
            ui.label("Click a node to inspect and break it.");
        }
        Some(i) => {
            let (id, kind) = (s.model.nodes[i].id.clone(), s.model.nodes[i].kind_name());
            ui.horizontal(|ui| {
                ui.heading(&id);
                ui.label(kind);
                if ui.small_button("end to end").clicked() {
                    s.selected = None;
                }
            });
            load_line(ui, s, i);
            theory_line(ui, s, i);
            actions(ui, s, i, &id, kind);
        }
    }
    ui.separator();
    let w = s.sim.config().window.0 as f64 / SEC as f64;
    let key = format!("{sel:?}");
    chart(
        ui,
        &format!("tp{key}"),
        "throughput (requests/s)",
        vec![
            (
                "arrived".into(),
                series_line(s, sel, |r| Some(r.arrivals as f64 / w)),
            ),
            (
                "completed".into(),
                series_line(s, sel, |r| Some(r.completed as f64 / w)),
            ),
        ],
    );
    let mut latency = vec![
        ("p50".to_string(), series_line(s, sel, |r| r.p50_ms)),
        ("p95".to_string(), series_line(s, sel, |r| r.p95_ms)),
        ("p99".to_string(), series_line(s, sel, |r| r.p99_ms)),
    ];
    let mut failures = vec![(
        "failed".to_string(),
        series_line(s, sel, |r| Some(r.dropped as f64 / w)),
    )];
    if sel.is_none() {
        for (class, pts) in class_lines(s, |r| r.p99_ms) {
            latency.push((format!("p99 {class}"), pts));
        }
        for (class, pts) in class_lines(s, |r| Some(r.dropped as f64 / w)) {
            failures.push((format!("failed {class}"), pts));
        }
    }
    chart(ui, &format!("lat{key}"), "latency (ms)", latency);
    chart(ui, &format!("err{key}"), "failures (requests/s)", failures);
    if sel.is_some() {
        chart(
            ui,
            &format!("util{key}"),
            "utilization (%) and queue",
            vec![
                (
                    "utilization %".into(),
                    series_line(s, sel, |r| Some(r.utilization * 100.0)),
                ),
                (
                    "waiting".into(),
                    series_line(s, sel, |r| Some(r.mean_queue_len)),
                ),
            ],
        );
    }
    kind_numbers(ui, s);
}

/// A fault button, greyed out with the engine's reason when the change
/// would do nothing now ([`Sandbox::would_act`]); applies it when clicked.
fn fault_button(
    ui: &mut egui::Ui,
    s: &mut Sandbox,
    state: &bottleneck::scenario::FaultState,
    label: &str,
    change: Change,
    small: bool,
) {
    let acts = s.would_act(state, &change);
    let button = if small {
        egui::Button::new(egui::RichText::new(label).small())
    } else {
        egui::Button::new(label)
    };
    let r = ui.add_enabled(acts.is_ok(), button);
    let r = match &acts {
        Err(why) => r.on_disabled_hover_text(why),
        Ok(()) => r,
    };
    if r.clicked() {
        s.apply(change);
    }
}

fn actions(ui: &mut egui::Ui, s: &mut Sandbox, i: usize, id: &str, kind: &str) {
    let live = s.sim.live(i);
    let state = s.fault_state();
    ui.horizontal_wrapped(|ui| {
        if live.down {
            fault_button(ui, s, &state, "bring up", Change::Up(id.into()), false);
        } else {
            fault_button(ui, s, &state, "take down", Change::Down(id.into()), false);
        }
        // Only the faults the engine gives a meaning for this kind.
        let slows = bottleneck::sim::effect(bottleneck::sim::Fault::Slow, kind).is_ok()
            && s.model.nodes[i].service.mean() > 0.0;
        for f in [2.0, 10.0].into_iter().filter(|_| slows) {
            let change = Change::Slow {
                node: id.into(),
                factor: f,
            };
            fault_button(ui, s, &state, &format!("slow x{f}"), change, false);
        }
        if live.slow != 1.0 {
            let change = Change::Slow {
                node: id.into(),
                factor: 1.0,
            };
            fault_button(ui, s, &state, "normal speed", change, false);
        }
        let (label, rate) = if live.error_rate == 0.0 {
            ("10% errors", 0.1)
        } else {
            ("no errors", 0.0)
        };
        let change = Change::Errors {
            node: id.into(),
            rate,
        };
        fault_button(ui, s, &state, label, change, false);
        if bottleneck::sim::effect(bottleneck::sim::Fault::Flush, kind).is_ok() {
            fault_button(ui, s, &state, "flush", Change::Flush(id.into()), false);
        }
    });
    // Partition from a neighbour.
    let neighbours: Vec<String> = s
        .layout
        .edges
        .iter()
        .filter_map(|&(a, b)| match (a, b) {
            (Slot::Node(x), Slot::Node(y)) if x == i => Some(y),
            (Slot::Node(x), Slot::Node(y)) if y == i => Some(x),
            _ => None,
        })
        .map(|j| s.model.nodes[j].id.clone())
        .collect();
    if !neighbours.is_empty() {
        ui.horizontal_wrapped(|ui| {
            ui.label("network:");
            for nb in neighbours {
                let cut = Change::Partition {
                    a: id.into(),
                    b: nb.clone(),
                };
                fault_button(ui, s, &state, &format!("cut from {nb}"), cut, true);
                let heal = Change::Heal {
                    a: id.into(),
                    b: nb.clone(),
                };
                fault_button(ui, s, &state, &format!("heal {nb}"), heal, true);
            }
        });
    }
    // Capacity.
    if !s.routes_only(i) {
        ui.horizontal(|ui| {
            let cap = s.capacity(i);
            let what = if kind == "App" {
                "instances"
            } else {
                "servers"
            };
            ui.label(format!("{what}: {cap}"));
            if ui.button("-").clicked() && cap > 1 {
                s.set_capacity(i, cap - 1);
            }
            if ui.button("+").clicked() {
                s.set_capacity(i, cap + 1);
            }
            if ui.button("x2").clicked() {
                s.set_capacity(i, cap.saturating_mul(2));
            }
        });
    }
    if kind == "ShardRouter" {
        ui.horizontal(|ui| {
            ui.label("shards in use:");
            for n in 1..=8u32 {
                if ui.small_button(n.to_string()).clicked() {
                    s.apply(Change::Shards {
                        node: id.into(),
                        count: n,
                    });
                }
            }
        });
    }
    // Structure.
    ui.horizontal_wrapped(|ui| {
        let mut edit: Option<Result<(bottleneck::topology::Topology, String), String>> = None;
        match kind {
            "Database" if ui.button("Add a cache in front").clicked() => {
                edit = Some(edits::add_cache(&s.topology, id))
            }
            "LoadBalancer" if ui.button("Add an app server").clicked() => {
                edit = Some(edits::add_app_server(&s.topology, id))
            }
            "App" if ui.button("Remove this app server").clicked() => {
                edit = Some(edits::remove_app_server(&s.topology, id))
            }
            _ => {}
        }
        if let Some(e) = edit {
            match e.and_then(|(t, what)| s.restructure(t, &what)) {
                Ok(()) => {}
                Err(msg) => s.status = Some((msg, true)),
            }
        }
        if ui.button("undo").on_hover_text("ctrl+z").clicked() {
            s.undo();
        }
    });
}

fn kind_numbers(ui: &mut egui::Ui, s: &Sandbox) {
    let Some(report) = &s.report else { return };
    let e = &report.end_to_end;
    ui.separator();
    let Some(i) = s.selected else {
        for (class, c) in &report.classes.0 {
            ui.label(
                egui::RichText::new(format!(
                    "class {class}: {} requests, {:.2}% failed, p99 {}",
                    c.arrivals,
                    c.blocking * 100.0,
                    c.p99_ms.map_or("n/a".into(), |x| format!("{x:.0} ms"))
                ))
                .small(),
            );
        }
        ui.label(format!(
            "since the start: {} requests, {:.2}% failed, p99 {:.0} ms; {} retries ({:.2}x amplification)",
            e.arrivals,
            e.blocking * 100.0,
            e.p99_ms.unwrap_or(0.0),
            e.retries,
            e.amplification
        ));
        return;
    };
    let Some(n) = report.nodes.get(&s.model.nodes[i].id) else {
        return;
    };
    let mut lines = vec![format!(
        "since the start: {} visits, {} done, {} failed, mean wait {:.2} ms",
        n.arrivals,
        n.completed,
        n.dropped + n.errors,
        n.mean_wait_ms.unwrap_or(0.0)
    )];
    if let Some(c) = &n.cache {
        lines.push(format!(
            "hit ratio {:.1}% ({} hits, {} misses, {} coalesced), {} keys",
            c.hit_ratio.unwrap_or(0.0) * 100.0,
            c.hits,
            c.misses,
            c.coalesced,
            c.keys
        ));
    }
    if let Some(r) = &n.replica {
        lines.push(format!(
            "lag {:.0} ms on average; {} stale reads of {}",
            r.mean_lag_ms.unwrap_or(0.0),
            r.stale_reads,
            r.reads
        ));
    }
    if let Some(d) = &n.database {
        lines.push(format!(
            "{:.1} connections in use on average; {} refused; {} writes applied twice",
            d.mean_connections, d.refused, d.duplicate_writes
        ));
    }
    if let Some(a) = &n.app {
        lines.push(format!(
            "{} instances; pool waits {}, refused {}; call retries {}, timeouts {}",
            a.instances, a.pool_waits, a.pool_refused, a.call_retries, a.call_timeouts
        ));
    }
    if let Some(q) = &n.queue {
        lines.push(format!(
            "{} processed, {} redelivered, {} duplicates, {} dead letters",
            q.processed, q.redelivered, q.duplicates, q.dead_lettered
        ));
    }
    if let Some(r) = n.rejected {
        lines.push(format!("{r} refused (429)"));
    }
    if let Some(lb) = &n.load_balancer {
        for ((b, sent), ok) in lb.backends.iter().zip(&lb.sent).zip(&lb.healthy) {
            lines.push(format!(
                "to {b}: {sent} sent{}",
                if *ok { "" } else { " (unhealthy)" }
            ));
        }
    }
    for l in lines {
        ui.label(egui::RichText::new(l).small());
    }
}
