//! The palette bar: every node kind and a source, placed by a click (at a
//! free spot) or dragged onto the canvas; new blank, start from a stage,
//! undo, redo, auto-layout. Each button's hover names its key.

use super::Builder;
use crate::content;
use crate::sandbox::Sandbox;
use crate::ui::keys::{Action, hint};
use bevy_egui::egui::{self, Color32, RichText, Sense};
use bottleneck::kind::Kind;

const RED: Color32 = Color32::from_rgb(170, 51, 0);
const GREY: Color32 = Color32::from_rgb(90, 90, 90);

/// What the palette places.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Palette {
    /// A source of requests.
    Source,
    /// A node of a kind.
    Node(Kind),
}

impl Palette {
    /// The button's text.
    pub fn label(self) -> String {
        match self {
            Palette::Source => "Source".into(),
            Palette::Node(k) => k.name().into(),
        }
    }

    /// The key that places it.
    pub fn action(self) -> Action {
        match self {
            Palette::Source => Action::AddSource,
            Palette::Node(k) => Action::Place(k),
        }
    }
}

/// The palette bar.
pub fn palette(ui: &mut egui::Ui, s: &mut Sandbox, b: &mut Builder) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Build").strong()).on_hover_text(
            "click to place at a free spot, or drag onto the canvas; connect by right-dragging from one box to another",
        );
        let entries =
            std::iter::once(Palette::Source).chain(Kind::ALL.into_iter().map(Palette::Node));
        for what in entries {
            let about = match what {
                Palette::Source => "a source of requests (100 rps), to the selected node",
                Palette::Node(k) => bottleneck::kinds::doc(k).about,
            };
            let r = ui
                .add(egui::Button::new(format!("+ {}", what.label())).sense(Sense::click_and_drag()))
                .on_hover_text(format!("{about}\nkey: {}", hint(what.action())));
            if r.drag_started() {
                b.carrying = Some(what);
            } else if r.clicked() {
                let r = match what {
                    Palette::Source => b.add_source(s),
                    Palette::Node(k) => b.place(s, k, None),
                };
                b.report(r.map(|id| format!("placed `{id}`")));
            }
        }
        ui.separator();
        if ui
            .add_enabled(b.can_undo(), egui::Button::new("undo"))
            .on_hover_text(format!(
                "{}: {}",
                hint(Action::Undo),
                b.last_edit().unwrap_or("nothing to undo")
            ))
            .clicked()
        {
            let r = b.undo(s);
            b.report(r);
        }
        if ui
            .add_enabled(b.can_redo(), egui::Button::new("redo"))
            .on_hover_text(hint(Action::Redo))
            .clicked()
        {
            let r = b.redo(s);
            b.report(r);
        }
        if ui
            .button("auto-layout")
            .on_hover_text(format!(
                "layered left to right by the request flow ({})",
                hint(Action::AutoLayout)
            ))
            .clicked()
        {
            b.auto_layout(s);
        }
        if ui
            .button("New blank")
            .on_hover_text(hint(Action::NewBlank))
            .clicked()
        {
            let r = b.new_blank(s);
            b.report(r);
        }
        ui.menu_button("Start from…", |ui| {
            for st in content::JOURNEY {
                if ui.button(st.title).clicked() {
                    let r = b.start_from(s, st);
                    b.report(r);
                    ui.close();
                }
            }
        });
        let n = b.selection().len();
        if n > 1 {
            ui.label(RichText::new(format!("{n} selected")).strong());
        }
        if let Some((msg, refused)) = &b.message {
            ui.separator();
            let first = msg.lines().next().unwrap_or_default();
            let text = if *refused {
                RichText::new(format!("refused: {first}")).color(RED)
            } else {
                RichText::new(first).color(GREY)
            };
            ui.label(text).on_hover_text(msg.as_str());
        }
    });
}
