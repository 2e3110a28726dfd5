//! The canvas while the working topology does not load (a blank canvas, a
//! balancer without backends...): boxes and arrows as written, no
//! simulation, the loader's problems in a corner. Click to select (or to
//! finish a connection), drag to move.

use super::Builder;
use super::fields::{self, Item};
use crate::sandbox::Sandbox;
use bevy_egui::egui::{
    self, Align2, Color32, CornerRadius, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, Vec2,
};

/// Draws the draft.
pub fn draw(ui: &mut egui::Ui, s: &mut Sandbox, b: &mut Builder) {
    let rect = ui.available_rect_before_wrap();
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::ZERO, Color32::from_rgb(246, 246, 250));
    painter.text(
        rect.left_top() + Vec2::new(12.0, 10.0),
        Align2::LEFT_TOP,
        format!("{} (draft: not running)", b.working.name),
        FontId::proportional(16.0),
        Color32::from_rgb(30, 30, 30),
    );
    let inner = rect.shrink2(Vec2::new(80.0, 50.0));
    let to_screen = |p: [f32; 2]| {
        Pos2::new(
            inner.left() + p[0] * inner.width(),
            inner.top() + p[1] * inner.height(),
        )
    };
    let from_screen = |p: Pos2| {
        [
            ((p.x - inner.left()) / inner.width().max(1.0)).clamp(0.0, 1.0),
            ((p.y - inner.top()) / inner.height().max(1.0)).clamp(0.0, 1.0),
        ]
    };
    let mut items: Vec<(Item, String)> = b
        .working
        .sources
        .iter()
        .map(|x| (Item::Source(x.id.clone()), "source".to_string()))
        .collect();
    items.extend(
        b.working
            .nodes
            .iter()
            .map(|n| (Item::Node(n.id().to_string()), n.kind().to_string())),
    );
    for (k, (it, _)) in items.iter().enumerate() {
        if !b.pos.contains_key(it.id()) {
            let col = if matches!(it, Item::Source(_)) {
                0.06
            } else {
                0.5
            };
            b.pos
                .insert(it.id().to_string(), [col, 0.1 + 0.1 * (k % 9) as f32]);
        }
    }
    let size = Vec2::new(132.0, 50.0);
    for (from, to) in fields::edges(&b.working) {
        let (Some(a), Some(c)) = (b.pos.get(from.id()), b.pos.get(&to)) else {
            continue;
        };
        let (pa, pc) = (to_screen(*a), to_screen(*c));
        painter.line_segment([pa, pc], Stroke::new(1.5, Color32::from_gray(150)));
        let d = pc - pa;
        let dir = d.normalized();
        // Where the line meets the target's box.
        let reach =
            ((size.x / 2.0) / d.x.abs().max(1e-3)).min((size.y / 2.0) / d.y.abs().max(1e-3));
        let tip = pc - d * reach.min(1.0) - dir * 2.0;
        painter.arrow(
            tip - dir * 10.0,
            dir * 10.0,
            Stroke::new(1.5, Color32::from_gray(120)),
        );
    }
    let mut clicked = None;
    for (it, kind) in &items {
        let c = to_screen(b.pos[it.id()]);
        let r = Rect::from_center_size(c, size);
        let round = if matches!(it, Item::Source(_)) { 20 } else { 8 };
        painter.rect_filled(
            r,
            CornerRadius::same(round),
            Color32::from_rgb(235, 238, 245),
        );
        let stroke = if b.selected.as_ref() == Some(it) {
            Stroke::new(3.0, Color32::from_rgb(40, 90, 200))
        } else {
            Stroke::new(1.0, Color32::from_gray(90))
        };
        painter.rect_stroke(r, CornerRadius::same(round), stroke, StrokeKind::Outside);
        painter.text(
            c - Vec2::new(0.0, 8.0),
            Align2::CENTER_CENTER,
            it.id(),
            FontId::proportional(13.0),
            Color32::from_rgb(30, 30, 30),
        );
        painter.text(
            c + Vec2::new(0.0, 10.0),
            Align2::CENTER_CENTER,
            kind,
            FontId::proportional(11.0),
            Color32::from_gray(80),
        );
        let resp = ui.interact(r, ui.id().with(("draft", it.id())), Sense::click_and_drag());
        if resp.clicked() || resp.drag_started_by(egui::PointerButton::Primary) {
            clicked = Some(it.clone());
        }
        if resp.dragged_by(egui::PointerButton::Primary)
            && let Some(p) = ui.ctx().pointer_interact_pos()
        {
            b.pos.insert(it.id().to_string(), from_screen(p));
        }
    }
    if let Some(it) = clicked {
        b.click(s, it);
    }
    let boxes: Vec<(Item, Rect)> = items
        .iter()
        .map(|(it, _)| {
            (
                it.clone(),
                Rect::from_center_size(to_screen(b.pos[it.id()]), size),
            )
        })
        .collect();
    wire_by_dragging(ui, &painter, s, b, &boxes);
    let mut y = rect.bottom() - 20.0;
    for p in b.problems.iter().rev().take(4) {
        painter.text(
            Pos2::new(rect.left() + 12.0, y),
            Align2::LEFT_BOTTOM,
            format!("• {p}"),
            FontId::proportional(13.0),
            Color32::from_rgb(190, 30, 30),
        );
        y -= 18.0;
    }
    ui.allocate_rect(rect, Sense::hover());
}

/// Wiring by dragging with the right (secondary) button from one box to
/// another: a line follows the pointer; released over a node, the builder
/// connects them (or says why not).
pub fn wire_by_dragging(
    ui: &egui::Ui,
    painter: &egui::Painter,
    s: &mut Sandbox,
    b: &mut Builder,
    boxes: &[(Item, Rect)],
) {
    let (pressed, down, pos) = ui.input(|i| {
        (
            i.pointer.secondary_pressed(),
            i.pointer.secondary_down(),
            i.pointer.interact_pos(),
        )
    });
    let hit = |p: Pos2| {
        boxes
            .iter()
            .find(|(_, r)| r.contains(p))
            .map(|(it, _)| it.clone())
    };
    if pressed && let Some(p) = pos {
        b.wiring = hit(p);
    }
    let Some(from) = b.wiring.clone() else {
        return;
    };
    let start = boxes
        .iter()
        .find(|(it, _)| *it == from)
        .map(|(_, r)| r.center());
    match (down, pos, start) {
        (true, Some(p), Some(a)) => {
            let stroke = Stroke::new(2.5, Color32::from_rgb(40, 90, 200));
            painter.line_segment([a, p], stroke);
            painter.circle_filled(p, 4.0, Color32::from_rgb(40, 90, 200));
        }
        _ => {
            b.wiring = None;
            if let Some(Item::Node(to)) = pos.and_then(hit)
                && Item::Node(to.clone()) != from
            {
                let r = b.connect(s, &from, &to);
                b.report(r);
            }
        }
    }
}
