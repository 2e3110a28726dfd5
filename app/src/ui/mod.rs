//! Everything a person sees, drawn with egui, a module a part: the bars
//! ([`bars`]: top, traffic, timeline), the lessons and drills
//! ([`lessons`]), the graph ([`graph`]), the inspector with live charts
//! and the cost ([`inspector`], [`cost`]), the keys and their help
//! ([`keys`]), and the colours ([`colour`]). The builder's palette,
//! property editor and draft canvas are in [`crate::builder`].

pub mod bars;
pub mod colour;
pub mod cost;
pub mod graph;
pub mod inspector;
pub mod keys;
pub mod lessons;

use crate::content;
use crate::sandbox::Sandbox;
use bevy_egui::egui::{self, Color32};
use bottleneck::time::SEC;
pub use colour::{BACKGROUND, heat};

/// Where a background grade lands.
#[cfg(not(target_arch = "wasm32"))]
pub type GradeSlot =
    std::sync::Arc<std::sync::Mutex<Option<Result<bottleneck::scenario::drill::Grade, String>>>>;

/// State of the interface itself (not of the simulation).
#[derive(Default)]
pub struct UiState {
    /// A path typed into "Open file" (native).
    pub path: String,
    /// The lesson being followed.
    pub lesson: Option<usize>,
    /// Wall seconds since the inspector's report was refreshed.
    pub since_report: f64,
    /// Wall clock for the edge animation.
    pub t: f64,
    /// Show the keyboard help.
    pub help: bool,
    /// A file to open, picked from the menu or dropped (path, text).
    pub open: Option<(String, String)>,
    /// Saved files, to say where they went.
    pub saved: Option<String>,
    /// Fonts installed.
    pub fonts: bool,
    /// The drill being worked on.
    pub drill: Option<usize>,
    /// The last grade, as lines (passed, text).
    pub grade: Option<(bool, Vec<String>)>,
    /// The builder (palette, property editor, undo and redo).
    pub builder: crate::builder::Builder,
    /// The grade key was pressed: the drill panel grades on its next frame.
    pub grade_requested: bool,
    /// The monthly cost of the working topology, kept until it changes.
    pub cost: cost::CostCache,
    /// A grade being computed in the background (native).
    #[cfg(not(target_arch = "wasm32"))]
    pub grading: Option<GradeSlot>,
}

pub fn clock(ns: u64) -> String {
    let s = ns as f64 / SEC as f64;
    if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        format!("{}m{:04.1}s", (s / 60.0) as u64, s % 60.0)
    } else {
        format!(
            "{}h{:02}m",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        )
    }
}

pub(crate) fn rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2}M", r / 1e6)
    } else if r >= 1e4 {
        format!("{:.0}k", r / 1e3)
    } else if r >= 1e3 {
        format!("{:.1}k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}

pub(crate) fn speed_label(s: f64) -> String {
    if s.is_infinite() {
        "max".into()
    } else if s < 1.0 {
        format!("{s}x")
    } else {
        format!("{}x", rate(s))
    }
}

/// One font, bundled (assets/fonts/, with its licence): Ubuntu Light, for
/// text and numbers. egui's default set adds a monospace and two emoji
/// fonts, 1 MB the browser build does without.
fn fonts() -> egui::FontDefinitions {
    use std::sync::Arc;
    let mut f = egui::FontDefinitions::empty();
    f.font_data.insert(
        "ubuntu".into(),
        Arc::new(egui::FontData::from_static(include_bytes!(
            "../../../assets/fonts/Ubuntu-Light.ttf"
        ))),
    );
    f.families
        .insert(egui::FontFamily::Proportional, vec!["ubuntu".into()]);
    f.families
        .insert(egui::FontFamily::Monospace, vec!["ubuntu".into()]);
    f
}

/// The whole interface, one frame.
pub fn draw(ctx: &egui::Context, s: &mut Sandbox, ui_state: &mut UiState, wall_dt: f64) {
    ui_state.t += wall_dt;
    ui_state.since_report += wall_dt;
    if ui_state.since_report > 0.5 || s.report.is_none() {
        s.refresh_report();
        ui_state.since_report = 0.0;
    }
    if !ui_state.fonts {
        ui_state.fonts = true;
        ctx.set_fonts(fonts());
    }
    // Panels leave their background to the window's clear colour
    // (`BACKGROUND`, Bevy's `ClearColor`): egui's fragment shader converts
    // colours per pixel, so with a software renderer every full-window
    // fill costs a good part of a frame.
    let mut visuals = egui::Visuals::light();
    visuals.panel_fill = Color32::TRANSPARENT;
    ctx.set_visuals(visuals);
    ui_state.builder.sync(s);
    ui_state.builder.work_on(ui_state.drill);
    for a in keys::pressed(ctx) {
        keys::run(a, s, ui_state);
    }
    let mut root = egui::Ui::new(
        ctx.clone(),
        "root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    egui::Panel::top("top").show(&mut root, |ui| bars::top_bar(ui, s, ui_state));
    egui::Panel::top("traffic").show(&mut root, |ui| bars::traffic_bar(ui, s));
    egui::Panel::top("builder").show(&mut root, |ui| {
        crate::builder::palette::palette(ui, s, &mut ui_state.builder)
    });
    egui::Panel::bottom("timeline")
        .exact_size(64.0)
        .show(&mut root, |ui| bars::timeline(ui, s));
    egui::Panel::left("lessons")
        .default_size(270.0)
        .resizable(true)
        .show(&mut root, |ui| lessons::lessons(ui, s, ui_state));
    egui::Panel::right("inspector")
        .default_size(360.0)
        .resizable(true)
        .show(&mut root, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                cost::line(ui, &mut ui_state.cost, &ui_state.builder);
                crate::builder::panel::properties(ui, s, &mut ui_state.builder);
                ui.separator();
                if !ui_state.builder.is_draft() {
                    inspector::inspector(ui, s)
                }
            });
        });
    egui::CentralPanel::default().show(&mut root, |ui| {
        if ui_state.builder.is_draft() {
            crate::builder::canvas::draw(ui, s, &mut ui_state.builder)
        } else {
            graph::graph(ui, s, ui_state)
        }
    });
    keys::help_window(ctx, ui_state);
    ui_state.grade_requested = false;
}

/// Opens a bundled stage in place of the sandbox.
pub(crate) fn open_stage(s: &mut Sandbox, st: &content::Stage) {
    match Sandbox::open(st.file, st.text, s.seed) {
        Ok(mut n) => {
            n.title = format!("{} ({})", n.title, st.title.trim_start_matches("... "));
            n.speed = s.speed;
            *s = n;
        }
        Err(e) => s.status = Some((e, true)),
    }
}
