//! The running graph: boxes coloured by utilization *and* labelled with it
//! (a number and a word), their queues, edges with moving dots, the
//! bottleneck outlined and tagged, errors as a labelled badge. The gestures
//! (select, shift-select, box select, move, wire, drop from the palette)
//! are the builder's ([`crate::builder::canvas`]).

use super::colour::*;
use super::{UiState, rate};
use crate::builder::Item;
use crate::builder::canvas::{self, View};
use crate::layout::Slot;
use crate::sandbox::Sandbox;
use bevy_egui::egui::{
    self, Align2, Color32, CornerRadius, FontId, Rect, Stroke, StrokeKind, Vec2,
};

/// A node's box, in points.
const NODE: Vec2 = Vec2::new(160.0, 58.0);
/// A source's box, in points.
const SOURCE: Vec2 = Vec2::new(100.0, 40.0);

/// Draws the running graph and handles its gestures.
pub fn graph(ui: &mut egui::Ui, s: &mut Sandbox, st: &mut UiState) {
    let rect = ui.available_rect_before_wrap();
    let painter = ui.painter_at(rect);
    painter.text(
        rect.left_top() + Vec2::new(12.0, 10.0),
        Align2::LEFT_TOP,
        &s.title,
        FontId::proportional(16.0),
        INK,
    );
    let view = View::of(rect);
    let bg = canvas::background(ui, rect);
    edges(&painter, s, st, &view);
    let b = &mut st.builder;
    // Sources.
    for i in 0..s.layout.sources.len() {
        // A source removed by a live edit is silent, and not drawn.
        if retired(s, Slot::Src(i)) {
            continue;
        }
        let (id, p) = s.layout.sources[i].clone();
        let c = view.to_screen(p);
        let r = Rect::from_center_size(c, SOURCE);
        let item = Item::Source(id.clone());
        painter.rect_filled(r, CornerRadius::same(20), Color32::from_rgb(225, 235, 250));
        let stroke = if b.is_selected(&item) {
            Stroke::new(3.0, BLUE)
        } else {
            Stroke::new(1.0, Color32::from_gray(140))
        };
        painter.rect_stroke(r, CornerRadius::same(20), stroke, StrokeKind::Outside);
        let src = &s.model.sources[i];
        let label = if src.closed.is_some() {
            format!("{id}\nclosed loop")
        } else {
            format!("{id}\n{} rps", rate(src.rps * s.sim.traffic_multiplier()))
        };
        painter.text(
            c,
            Align2::CENTER_CENTER,
            label,
            FontId::proportional(12.0),
            INK,
        );
        canvas::interact_box(ui, r, &item, &view, s, b);
    }
    // Nodes.
    let bottleneck = s.bottleneck();
    for i in 0..s.model.nodes.len() {
        // A node removed by a live edit stays in the engine (its last
        // requests fail there, counted end to end) but not on the canvas.
        if retired(s, Slot::Node(i)) {
            continue;
        }
        let c = view.to_screen(s.layout.at(Slot::Node(i)));
        let r = Rect::from_center_size(c, NODE);
        let id = s.model.nodes[i].id.clone();
        let item = Item::Node(id.clone());
        let live = s.sim.live(i);
        let sig = s.signals[i];
        let u = sig.utilization.value;
        let passes = s.routes_only(i);
        let (fill, ink) = if live.down {
            (Color32::from_gray(190), INK)
        } else if passes {
            (Color32::from_rgb(235, 235, 240), INK)
        } else {
            (heat(u), ink_on(u))
        };
        painter.rect_filled(r, CornerRadius::same(8), fill);
        let is_bottleneck = bottleneck.as_ref().is_some_and(|b| b.0 == i) && u >= 0.7;
        let stroke = if b.is_selected(&item) {
            Stroke::new(3.0, BLUE)
        } else if is_bottleneck {
            Stroke::new(4.0, RED)
        } else {
            Stroke::new(1.0, Color32::from_gray(90))
        };
        painter.rect_stroke(r, CornerRadius::same(8), stroke, StrokeKind::Outside);
        if is_bottleneck {
            painter.text(
                r.left_top() - Vec2::new(0.0, 3.0),
                Align2::LEFT_BOTTOM,
                "BOTTLENECK",
                FontId::proportional(11.0),
                RED,
            );
        }
        let line2 = if live.down {
            "DOWN".to_string()
        } else if passes {
            s.model.nodes[i].kind_name().to_string()
        } else {
            let what = match s.model.nodes[i].kind_name() {
                "App" | "Queue" => "workers",
                _ => "servers",
            };
            format!(
                "{:.0}% {} · {} {what}",
                u * 100.0,
                load_word(u),
                live.servers
            )
        };
        painter.text(
            c - Vec2::new(0.0, 10.0),
            Align2::CENTER_CENTER,
            &id,
            FontId::proportional(13.0),
            ink,
        );
        painter.text(
            c + Vec2::new(0.0, 8.0),
            Align2::CENTER_CENTER,
            line2,
            FontId::proportional(11.0),
            ink,
        );
        if !passes {
            queue_bar(&painter, r, sig.queue.value, live.servers);
        }
        if sig.errors.value >= 0.001 && !live.down {
            let badge =
                Rect::from_center_size(r.right_top() + Vec2::new(-6.0, 2.0), Vec2::new(56.0, 18.0));
            painter.rect_filled(badge, CornerRadius::same(9), RED);
            painter.text(
                badge.center(),
                Align2::CENTER_CENTER,
                format!("{:.0}% err", (sig.errors.value * 100.0).max(1.0)),
                FontId::proportional(10.0),
                Color32::WHITE,
            );
        }
        if live.slow != 1.0 {
            painter.text(
                r.left_top() + Vec2::new(4.0, 2.0),
                Align2::LEFT_TOP,
                format!("x{} slow", live.slow),
                FontId::proportional(10.0),
                ink,
            );
        }
        canvas::interact_box(ui, r, &item, &view, s, b);
    }
    canvas::box_select(ui, &painter, &bg, &view, s, b);
    // The bottleneck's reason, large, under the graph.
    let reason = match &bottleneck {
        None => "no bottleneck: everything is nearly idle".to_string(),
        // The engine's own "none: no node ... near its capacity; the busiest is ...".
        Some((_, why)) if why.starts_with("none:") => {
            format!("no bottleneck: {}", why["none:".len()..].trim_start())
        }
        Some((i, why)) if s.signals[*i].utilization.value < 0.7 => {
            format!("busiest: {why} (nothing is saturated)")
        }
        Some((_, why)) => format!("bottleneck: {why}"),
    };
    // Wrapped to the canvas, so a long reason is never cut off.
    let galley = painter.layout(
        reason,
        FontId::proportional(16.0),
        RED,
        (rect.width() - 24.0).max(100.0),
    );
    let at = rect.center_bottom() - Vec2::new(galley.size().x / 2.0, galley.size().y + 8.0);
    painter.galley(at, galley, RED);
    // Right-drag from a box to another connects them (the builder).
    let boxes = hit_boxes(s, &view);
    canvas::wire_by_dragging(ui, &painter, s, b, &boxes);
    canvas::carry(ui, &painter, rect, &view, s, b);
    ui.advance_cursor_after_rect(rect);
}

/// Edges, with dots whose density follows the rate into the target.
fn edges(painter: &egui::Painter, s: &Sandbox, st: &UiState, view: &View) {
    for &(a, b) in &s.layout.edges {
        if retired(s, a) || retired(s, b) {
            continue;
        }
        let (pa, pb) = (
            view.to_screen(s.layout.at(a)),
            view.to_screen(s.layout.at(b)),
        );
        let from = pa + Vec2::new(NODE.x / 2.0, 0.0);
        let to = pb - Vec2::new(NODE.x / 2.0, 0.0);
        let back = to.x < from.x;
        let (from, to) = if back { (pa, pb) } else { (from, to) };
        painter.line_segment([from, to], Stroke::new(1.5, Color32::from_gray(170)));
        let dir = (to - from).normalized();
        painter.arrow(
            to - dir * 10.0,
            dir * 10.0,
            Stroke::new(1.5, Color32::from_gray(150)),
        );
        let r = match b {
            Slot::Node(j) => s.signals.get(j).map_or(0.0, |x| x.rps.value),
            Slot::Src(_) => 0.0,
        };
        let dots = if r <= 0.0 {
            0
        } else {
            ((r.log10() * 2.0).ceil() as usize).clamp(1, 10)
        };
        let len = (to - from).length().max(1.0);
        let speed = 60.0 / len as f64;
        for k in 0..dots {
            let phase = ((st.t * speed) + k as f64 / dots as f64).fract() as f32;
            painter.circle_filled(from + (to - from) * phase, 2.6, BLUE);
        }
    }
}

/// The queue, as a bar under the box (full at twice the servers) with
/// its length written under it.
fn queue_bar(painter: &egui::Painter, r: Rect, queue: f64, servers: u32) {
    let q = (queue / (2.0 * servers.max(1) as f64)).min(1.0) as f32;
    let bar = Rect::from_min_size(
        r.left_bottom() + Vec2::new(0.0, 4.0),
        Vec2::new(NODE.x, 6.0),
    );
    painter.rect_filled(bar, CornerRadius::same(2), Color32::from_gray(225));
    if q > 0.0 {
        let filled = Rect::from_min_size(bar.min, Vec2::new(NODE.x * q, 6.0));
        painter.rect_filled(filled, CornerRadius::same(2), heat(0.6 + 0.4 * q as f64));
    }
    if queue >= 0.5 {
        painter.text(
            bar.center_bottom() + Vec2::new(0.0, 1.0),
            Align2::CENTER_TOP,
            format!("{queue:.0} waiting"),
            FontId::proportional(10.0),
            GREY,
        );
    }
}

/// True for a node or source a live edit removed.
/// The boxes the canvas draws, where it draws them: every source and node
/// but those a live edit removed (they stay in the engine, invisible, where
/// they were; a drop there must land on what is drawn, never on them).
pub fn drawn(s: &Sandbox) -> Vec<(Item, [f32; 2])> {
    let sources = s
        .layout
        .sources
        .iter()
        .enumerate()
        .filter(|(i, _)| !retired(s, Slot::Src(*i)))
        .map(|(_, (id, p))| (Item::Source(id.clone()), *p));
    let nodes = s
        .layout
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| !retired(s, Slot::Node(*i)))
        .map(|(_, (id, p))| (Item::Node(id.clone()), *p));
    sources.chain(nodes).collect()
}

/// The drawn boxes as rectangles on screen, in the order a pointer finds
/// them (the first that contains it).
pub fn hit_boxes(s: &Sandbox, view: &View) -> Vec<(Item, Rect)> {
    drawn(s)
        .into_iter()
        .map(|(item, p)| {
            let size = match item {
                Item::Source(_) => SOURCE,
                Item::Node(_) => NODE,
            };
            (item, Rect::from_center_size(view.to_screen(p), size))
        })
        .collect()
}

/// What a drop at the centre of `id`'s box lands on, on a running graph
/// drawn in `rect` (what a right-drag onto that box connects to).
pub fn drop_on(s: &Sandbox, rect: Rect, id: &str) -> Option<Item> {
    let boxes = hit_boxes(s, &View::of(rect));
    let at = boxes.iter().find(|(it, _)| it.id() == id)?.1.center();
    boxes
        .into_iter()
        .find(|(_, r)| r.contains(at))
        .map(|(it, _)| it)
}

fn retired(s: &Sandbox, slot: Slot) -> bool {
    match slot {
        Slot::Node(i) => s.sim.retired().get(i).copied().unwrap_or(false),
        Slot::Src(i) => s.sim.retired_sources().get(i).copied().unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::Builder;

    fn stage() -> (Sandbox, Builder) {
        let st = crate::content::find("cache-aside").unwrap();
        let s = Sandbox::open(st.file, st.text, 1).unwrap();
        let b = Builder::new(&s);
        (s, b)
    }

    /// A node removed while the simulation runs stays in the engine, at its
    /// place, undrawn: a drop there lands on what is drawn, never on it.
    #[test]
    fn a_drop_lands_on_the_drawn_box_not_on_a_removed_one() {
        let (mut s, mut b) = stage();
        let apps: Vec<String> = s
            .model
            .nodes
            .iter()
            .filter(|n| n.kind_name() == "App")
            .map(|n| n.id.clone())
            .collect();
        let gone = apps[0].clone();
        let at = s.layout.at(Slot::Node(s.model.node_index(&gone).unwrap()));
        b.delete(&mut s, &Item::Node(gone.clone())).unwrap();
        let ghost = format!("{gone}:removed");
        assert!(s.model.node_index(&ghost).is_some(), "the engine keeps it");
        assert!(drawn(&s).iter().all(|(it, _)| it.id() != ghost));
        assert_eq!(
            drawn(&s).len(),
            s.topology.nodes.len() + s.topology.sources.len()
        );
        // The database moved to where the removed app was.
        let db = s.model.node_index("db").unwrap();
        s.layout.set(Slot::Node(db), at);
        let rect = Rect::from_min_size(egui::Pos2::ZERO, Vec2::new(800.0, 600.0));
        assert_eq!(drop_on(&s, rect, "db"), Some(Item::Node("db".into())));
    }
}
