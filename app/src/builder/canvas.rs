//! The canvas's gestures, shared by the running graph and the draft, and
//! the draft itself (while the working topology does not load: a blank
//! canvas, a balancer without backends...): boxes and arrows as written,
//! no simulation, the loader's problems in a corner.
//!
//! Gestures: click selects (or finishes a connection), shift-click adds to
//! the selection, dragging a box moves the whole selection, dragging on the
//! empty canvas draws a selection box, right-dragging from a box to another
//! connects them, and a palette button dragged onto the canvas places its
//! kind where it is dropped.

use super::Builder;
use super::fields::{self, Item};
use crate::sandbox::Sandbox;
use crate::ui::colour::{BLUE, GREY, INK, RED};
use bevy_egui::egui::{
    self, Align2, Color32, CornerRadius, FontId, Pos2, Rect, Response, Sense, Stroke, StrokeKind,
    Vec2,
};

/// The canvas's inner rectangle: canvas units (0..1 both ways) to screen
/// points and back.
#[derive(Clone, Copy, Debug)]
pub struct View {
    /// Where the unit square is drawn.
    pub inner: Rect,
}

impl View {
    /// The view of a canvas drawn in `rect`, with room around for boxes.
    pub fn of(rect: Rect) -> View {
        View {
            inner: rect.shrink2(Vec2::new(80.0, 50.0)),
        }
    }

    /// Canvas units to screen.
    pub fn to_screen(&self, p: [f32; 2]) -> Pos2 {
        Pos2::new(
            self.inner.left() + p[0] * self.inner.width(),
            self.inner.top() + p[1] * self.inner.height(),
        )
    }

    /// Screen to canvas units, kept on the canvas.
    pub fn from_screen(&self, p: Pos2) -> [f32; 2] {
        [
            ((p.x - self.inner.left()) / self.inner.width().max(1.0)).clamp(0.0, 1.0),
            ((p.y - self.inner.top()) / self.inner.height().max(1.0)).clamp(0.0, 1.0),
        ]
    }

    /// A screen movement in canvas units.
    pub fn delta(&self, d: Vec2) -> [f32; 2] {
        [
            d.x / self.inner.width().max(1.0),
            d.y / self.inner.height().max(1.0),
        ]
    }
}

/// The empty canvas behind the boxes: register it before them (boxes are
/// then on top). Dragging on it draws a selection box; a click clears the
/// selection.
pub fn background(ui: &mut egui::Ui, rect: Rect) -> Response {
    ui.interact(rect, ui.id().with("canvas-bg"), Sense::click_and_drag())
}

/// A box's clicks and drags: select, shift-select, move the selection.
pub fn interact_box(
    ui: &mut egui::Ui,
    r: Rect,
    item: &Item,
    view: &View,
    s: &mut Sandbox,
    b: &mut Builder,
) -> Response {
    let resp = ui.interact(r, ui.id().with(("box", item.id())), Sense::click_and_drag());
    let shift = ui.input(|i| i.modifiers.shift);
    let pick = |s: &mut Sandbox, b: &mut Builder| {
        if shift {
            b.shift_click(item.clone());
        } else {
            b.click_box(s, item.clone());
        }
    };
    if resp.clicked() {
        pick(s, b);
    }
    if resp.drag_started_by(egui::PointerButton::Primary) && !b.is_selected(item) {
        pick(s, b);
    }
    if resp.dragged_by(egui::PointerButton::Primary) {
        let d = view.delta(resp.drag_delta());
        if d != [0.0, 0.0] {
            b.move_selection(s, d);
        }
    }
    resp
}

/// Box selection on the empty canvas, and a click there to deselect.
pub fn box_select(
    ui: &egui::Ui,
    painter: &egui::Painter,
    bg: &Response,
    view: &View,
    s: &mut Sandbox,
    b: &mut Builder,
) {
    let (pos, shift) = ui.input(|i| (i.pointer.interact_pos(), i.modifiers.shift));
    if bg.drag_started_by(egui::PointerButton::Primary)
        && let Some(p) = pos
    {
        b.boxing = Some(view.from_screen(p));
    }
    if let (Some(start), Some(p)) = (b.boxing, pos) {
        let r = Rect::from_two_pos(view.to_screen(start), p);
        painter.rect_filled(r, CornerRadius::ZERO, BLUE.gamma_multiply(0.08));
        painter.rect_stroke(
            r,
            CornerRadius::ZERO,
            Stroke::new(1.0, BLUE),
            StrokeKind::Inside,
        );
        if bg.drag_stopped() || !ui.input(|i| i.pointer.primary_down()) {
            let n = b.select_in(start, view.from_screen(p), shift);
            b.boxing = None;
            b.message = Some((format!("{n} selected"), false));
        }
    } else if bg.clicked() && !shift {
        b.clear_selection(s);
    }
}

/// A palette button being dragged: a ghost follows the pointer; dropped on
/// the canvas, the builder places it there ([`Builder::drop_at`]); dropped
/// anywhere else, nothing happens.
pub fn carry(
    ui: &egui::Ui,
    painter: &egui::Painter,
    rect: Rect,
    view: &View,
    s: &mut Sandbox,
    b: &mut Builder,
) {
    let Some(what) = b.carrying else { return };
    let (pos, down) = ui.input(|i| (i.pointer.latest_pos(), i.pointer.primary_down()));
    if let Some(p) = pos.filter(|p| rect.contains(*p)) {
        let r = Rect::from_center_size(p, Vec2::new(132.0, 50.0));
        painter.rect_filled(r, CornerRadius::same(8), BLUE.gamma_multiply(0.15));
        painter.rect_stroke(
            r,
            CornerRadius::same(8),
            Stroke::new(2.0, BLUE),
            StrokeKind::Outside,
        );
        painter.text(
            p,
            Align2::CENTER_CENTER,
            format!("+ {}", what.label()),
            FontId::proportional(13.0),
            INK,
        );
    }
    if !down {
        b.carrying = None;
        if let Some(p) = pos.filter(|p| rect.contains(*p)) {
            let r = b
                .drop_at(s, what, view.from_screen(p))
                .map(|id| format!("placed `{id}`"));
            b.report(r);
        }
    }
}

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
        INK,
    );
    let view = View::of(rect);
    let bg = background(ui, rect);
    let items = b.items();
    for (k, it) in items.iter().enumerate() {
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
        let (pa, pc) = (view.to_screen(*a), view.to_screen(*c));
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
    for it in &items {
        let kind = match it {
            Item::Source(_) => "source".to_string(),
            Item::Node(id) => b
                .working
                .nodes
                .iter()
                .find(|n| n.id() == id)
                .map_or(String::new(), |n| n.kind().to_string()),
        };
        let c = view.to_screen(b.pos[it.id()]);
        let r = Rect::from_center_size(c, size);
        let round = if matches!(it, Item::Source(_)) { 20 } else { 8 };
        painter.rect_filled(
            r,
            CornerRadius::same(round),
            Color32::from_rgb(235, 238, 245),
        );
        let stroke = if b.is_selected(it) {
            Stroke::new(3.0, BLUE)
        } else {
            Stroke::new(1.0, Color32::from_gray(90))
        };
        painter.rect_stroke(r, CornerRadius::same(round), stroke, StrokeKind::Outside);
        painter.text(
            c - Vec2::new(0.0, 8.0),
            Align2::CENTER_CENTER,
            it.id(),
            FontId::proportional(13.0),
            INK,
        );
        painter.text(
            c + Vec2::new(0.0, 10.0),
            Align2::CENTER_CENTER,
            kind,
            FontId::proportional(11.0),
            GREY,
        );
        if let Some(region) = b.region_of(it) {
            painter.text(
                r.left_top() - Vec2::new(0.0, 2.0),
                Align2::LEFT_BOTTOM,
                format!("region {region}"),
                FontId::proportional(10.0),
                GREY,
            );
        }
        interact_box(ui, r, it, &view, s, b);
    }
    box_select(ui, &painter, &bg, &view, s, b);
    let boxes: Vec<(Item, Rect)> = items
        .iter()
        .map(|it| {
            (
                it.clone(),
                Rect::from_center_size(view.to_screen(b.pos[it.id()]), size),
            )
        })
        .collect();
    wire_by_dragging(ui, &painter, s, b, &boxes);
    carry(ui, &painter, rect, &view, s, b);
    let mut y = rect.bottom() - 20.0;
    for p in b.problems.iter().rev().take(4) {
        painter.text(
            Pos2::new(rect.left() + 12.0, y),
            Align2::LEFT_BOTTOM,
            format!("problem: {p}"),
            FontId::proportional(13.0),
            RED,
        );
        y -= 18.0;
    }
    ui.advance_cursor_after_rect(rect);
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
            let stroke = Stroke::new(2.5, BLUE);
            painter.line_segment([a, p], stroke);
            painter.circle_filled(p, 4.0, BLUE);
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
