//! Everything a person sees, drawn with egui: the top bar (stages, run,
//! speed, clock), the traffic bar, the graph, the inspector with live
//! charts, the lessons, and the timeline strip.

use crate::content::{self, LESSONS};
use crate::edits;
use crate::layout::Slot;
use crate::sandbox::{SPEEDS, Sandbox};
use bevy_egui::egui::{
    self, Align2, Color32, CornerRadius, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, Vec2,
};
use bottleneck::sim::Change;
use bottleneck::time::{Duration, SEC};
use egui_plot::{Legend, Line, Plot, PlotPoints};

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
    /// A box being dragged.
    pub dragging: Option<Slot>,
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
    /// A grade being computed in the background (native).
    #[cfg(not(target_arch = "wasm32"))]
    pub grading: Option<GradeSlot>,
}

const GREEN: Color32 = Color32::from_rgb(46, 160, 67);
const YELLOW: Color32 = Color32::from_rgb(222, 170, 30);
const RED: Color32 = Color32::from_rgb(214, 48, 49);
const GREY: Color32 = Color32::from_rgb(120, 120, 120);
const INK: Color32 = Color32::from_rgb(30, 30, 30);

/// The window's background, behind every panel and the graph: drawn by
/// Bevy's clear (`ClearColor`), not by egui.
pub const BACKGROUND: [u8; 3] = [250, 250, 248];

/// Green at idle, yellow at 60%, red from 90%.
pub fn heat(u: f64) -> Color32 {
    let lerp = |a: Color32, b: Color32, t: f32| {
        let m = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t.clamp(0.0, 1.0)) as u8;
        Color32::from_rgb(m(a.r(), b.r()), m(a.g(), b.g()), m(a.b(), b.b()))
    };
    let u = u as f32;
    if u < 0.6 {
        lerp(GREEN, YELLOW, u / 0.6)
    } else {
        lerp(YELLOW, RED, (u - 0.6) / 0.3)
    }
}

/// `1m23.4s` style clock.
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

fn rate(r: f64) -> String {
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

fn speed_label(s: f64) -> String {
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
            "../../assets/fonts/Ubuntu-Light.ttf"
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
    crate::builder::panel::keys(ctx, s, &mut ui_state.builder);
    keys(ctx, s);
    let mut root = egui::Ui::new(
        ctx.clone(),
        "root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    egui::Panel::top("top").show(&mut root, |ui| top_bar(ui, s, ui_state));
    egui::Panel::top("traffic").show(&mut root, |ui| traffic_bar(ui, s));
    egui::Panel::top("builder").show(&mut root, |ui| {
        crate::builder::panel::palette(ui, s, &mut ui_state.builder)
    });
    egui::Panel::bottom("timeline")
        .exact_size(64.0)
        .show(&mut root, |ui| timeline(ui, s));
    egui::Panel::left("lessons")
        .default_size(270.0)
        .resizable(true)
        .show(&mut root, |ui| lessons(ui, s, ui_state));
    egui::Panel::right("inspector")
        .default_size(360.0)
        .resizable(true)
        .show(&mut root, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                crate::builder::panel::properties(ui, s, &mut ui_state.builder);
                ui.separator();
                if !ui_state.builder.is_draft() {
                    inspector(ui, s)
                }
            });
        });
    egui::CentralPanel::default().show(&mut root, |ui| {
        if ui_state.builder.is_draft() {
            crate::builder::canvas::draw(ui, s, &mut ui_state.builder)
        } else {
            graph(ui, s, ui_state)
        }
    });
    if ui_state.help {
        egui::Window::new("Keys")
            .collapsible(false)
            .show(ctx, |ui| {
                ui.label("space  pause / run");
                ui.label("+ / -  faster / slower");
                ui.label(".      step one event (paused)");
                ui.label("delete take the selected node down / remove an added app server");
                ui.label("ctrl+z undo the last edit; ctrl+y or ctrl+shift+z redo");
                ui.label("esc    stop connecting");
                if ui.button("close").clicked() {
                    ui_state.help = false;
                }
            });
    }
}

fn keys(ctx: &egui::Context, s: &mut Sandbox) {
    if ctx.egui_wants_keyboard_input() {
        return;
    }
    let (space, plus, minus, dot, del) = ctx.input(|i| {
        (
            i.key_pressed(egui::Key::Space),
            i.key_pressed(egui::Key::Plus) || i.key_pressed(egui::Key::Equals),
            i.key_pressed(egui::Key::Minus),
            i.key_pressed(egui::Key::Period),
            i.key_pressed(egui::Key::Delete),
        )
    });
    if space {
        s.paused = !s.paused;
    }
    let k = SPEEDS.iter().position(|&x| x == s.speed).unwrap_or(1);
    if plus {
        s.speed = SPEEDS[(k + 1).min(SPEEDS.len() - 1)];
    }
    if minus {
        s.speed = SPEEDS[k.saturating_sub(1)];
    }
    if dot && s.paused {
        s.step_one();
    }
    if del && let Some(i) = s.selected {
        let id = s.model.nodes[i].id.clone();
        match edits::remove_app_server(&s.topology, &id) {
            Ok((t, what)) => {
                let _ = s.restructure(t, &what);
            }
            Err(_) => {
                s.apply(Change::Down(id));
            }
        }
    }
}

fn open_stage(s: &mut Sandbox, st: &content::Stage) {
    match Sandbox::open(st.file, st.text, s.seed) {
        Ok(mut n) => {
            n.title = format!("{} ({})", n.title, st.title.trim_start_matches("... "));
            n.speed = s.speed;
            *s = n;
        }
        Err(e) => s.status = Some((e, true)),
    }
}

fn top_bar(ui: &mut egui::Ui, s: &mut Sandbox, st: &mut UiState) {
    ui.horizontal_wrapped(|ui| {
        ui.heading("Bottleneck");
        ui.menu_button("Journey", |ui| {
            for stage in content::JOURNEY {
                if ui.button(stage.title).clicked() {
                    open_stage(s, stage);
                    ui.close();
                }
            }
            ui.separator();
            for extra in [&content::WEB_STACK, &content::DEFAULT] {
                if ui.button(extra.title).clicked() {
                    open_stage(s, extra);
                    ui.close();
                }
            }
        });
        ui.menu_button("Walls", |ui| {
            for (before, after) in content::WALLS {
                ui.horizontal(|ui| {
                    if ui.button(before.title).clicked() {
                        open_stage(s, before);
                        ui.close();
                    }
                    if ui.button(after.title.trim_start_matches("... ")).clicked() {
                        open_stage(s, after);
                        ui.close();
                    }
                });
            }
        });
        ui.menu_button("Drills", |ui| {
            for (k, d) in content::DRILLS.iter().enumerate() {
                let title = bottleneck::scenario::drill::parse_drill("d", d.drill)
                    .map(|m| format!("level {}: {}", m.level, m.title))
                    .unwrap_or_else(|_| "drill".into());
                if ui.button(title).clicked() {
                    match Sandbox::open("drill start", d.start, s.seed) {
                        Ok(mut n) => {
                            n.speed = s.speed;
                            *s = n;
                            st.drill = Some(k);
                            st.grade = None;
                            st.lesson = None;
                        }
                        Err(e) => s.status = Some((e, true)),
                    }
                    ui.close();
                }
            }
        });
        ui.menu_button("File", |ui| {
            #[cfg(not(target_arch = "wasm32"))]
            {
                ui.label("Open a topology (.ron), or drop one on the window:");
                ui.text_edit_singleline(&mut st.path);
                if ui.button("Open").clicked() {
                    match std::fs::read_to_string(&st.path) {
                        Ok(text) => st.open = Some((st.path.clone(), text)),
                        Err(e) => s.status = Some((format!("cannot read {}: {e}", st.path), true)),
                    }
                    ui.close();
                }
                ui.separator();
                if ui.button("Save the session as a scenario").clicked() {
                    st.saved = Some(save_session(s));
                    ui.close();
                }
            }
            #[cfg(target_arch = "wasm32")]
            {
                use crate::web::{PageRequest, request};
                if ui.button("Open a topology file…").clicked() {
                    request(PageRequest::Open, s);
                    ui.close();
                }
                ui.label("(or drop a .ron file on the page)");
                if ui.button("Download the topology").clicked() {
                    request(PageRequest::DownloadTopology, s);
                    ui.close();
                }
                if ui.button("Download the session as a scenario").clicked() {
                    request(PageRequest::DownloadSession, s);
                    ui.close();
                }
                if ui.button("Share a link to this topology").clicked() {
                    request(PageRequest::Share, s);
                    ui.close();
                }
                let _ = &st.path;
            }
        });
        ui.separator();
        let run = if s.paused { "Run" } else { "Pause" };
        if ui.button(run).on_hover_text("space").clicked() {
            s.paused = !s.paused;
        }
        if ui
            .add_enabled(s.paused, egui::Button::new("step"))
            .on_hover_text("one event (.)")
            .clicked()
        {
            s.step_one();
        }
        egui::ComboBox::from_id_salt("speed")
            .selected_text(speed_label(s.speed))
            .show_ui(ui, |ui| {
                for &x in &SPEEDS {
                    ui.selectable_value(&mut s.speed, x, speed_label(x));
                }
            });
        ui.label(
            egui::RichText::new(format!("t = {}", clock(s.now())))
                .monospace()
                .strong(),
        );
        let sim_rate = s.sim_rate.value;
        if s.speed.is_finite() && !s.paused && s.achieved.value < 0.95 {
            ui.colored_label(
                RED,
                format!(
                    "running at {:.2}x of requested ({:.1}x real time)",
                    s.achieved.value, sim_rate
                ),
            );
        } else if s.speed.is_infinite() && !s.paused {
            ui.label(format!("{}x real time", rate(sim_rate)));
        }
        ui.label(format!("{} events/s", rate(s.event_rate.value)));
        if ui.button("?").clicked() {
            st.help = !st.help;
        }
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn save_session(s: &Sandbox) -> String {
    let stem = "bottleneck-session";
    let top = format!("{stem}.ron");
    let (scenario, topology) = s.session(&top);
    let a = std::fs::write(&top, topology);
    let b = std::fs::write(format!("{stem}.scenario.ron"), scenario);
    match (a, b) {
        (Ok(()), Ok(())) => format!(
            "saved {stem}.ron and {stem}.scenario.ron: `bottleneck check {stem}.scenario.ron` replays it"
        ),
        (Err(e), _) | (_, Err(e)) => format!("cannot save: {e}"),
    }
}

fn traffic_bar(ui: &mut egui::Ui, s: &mut Sandbox) {
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new("Traffic").strong());
        let mut rps = s.rps().max(1.0);
        let slider = egui::Slider::new(&mut rps, 1.0..=10_000_000.0)
            .logarithmic(true)
            .suffix(" rps")
            .custom_formatter(|v, _| rate(v));
        ui.spacing_mut().slider_width = 420.0;
        if ui.add(slider).changed() {
            s.set_rps(rps);
        }
        if ui.button("x2").clicked() {
            let r = s.rps() * 2.0;
            s.set_rps(r);
        }
        if ui.button("÷2").clicked() {
            let r = s.rps() / 2.0;
            s.set_rps(r);
        }
        if ui
            .button("campaign surge x11")
            .on_hover_text("11 times the traffic for 60 simulated seconds")
            .clicked()
        {
            s.surge(11.0, Duration(60 * SEC));
        }
        if ui
            .button("ramp to x3")
            .on_hover_text("triple the traffic over 60 simulated seconds")
            .clicked()
        {
            let m = s.sim.traffic_multiplier();
            s.ramp(m * 3.0, Duration(60 * SEC));
        }
        ui.label(
            egui::RichText::new(format!(
                "{} rps offered, {} rps served",
                rate(s.rps()),
                rate(s.e2e.rps.value)
            ))
            .strong(),
        );
    });
}

fn timeline(ui: &mut egui::Ui, s: &mut Sandbox) {
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new("Timeline").strong());
        egui::ScrollArea::horizontal()
            .stick_to_right(true)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    for (_, what) in &s.notes {
                        ui.label(
                            egui::RichText::new(format!("edit: {what}"))
                                .background_color(Color32::from_rgb(230, 230, 250)),
                        );
                    }
                    for c in s.sim.changes() {
                        let text = format!("{}  {}", clock(c.at.0), c.change);
                        ui.label(
                            egui::RichText::new(text)
                                .background_color(Color32::from_rgb(240, 240, 240)),
                        );
                    }
                });
            });
    });
    ui.horizontal(|ui| {
        let e = &s.e2e;
        ui.label(format!(
            "end to end: p99 {:.0} ms · errors {:.2}% · {} rps served",
            e.p99_ms.value,
            e.errors.value * 100.0,
            rate(e.rps.value)
        ));
        if let Some((msg, err)) = &s.status {
            ui.separator();
            ui.colored_label(if *err { RED } else { INK }, msg);
        }
    });
}

fn drill_panel(ui: &mut egui::Ui, _s: &mut Sandbox, st: &mut UiState, k: usize) {
    let d = &content::DRILLS[k];
    let Ok(meta) = bottleneck::scenario::drill::parse_drill("d", d.drill) else {
        return;
    };
    ui.heading(format!("Drill, level {}", meta.level));
    ui.label(egui::RichText::new(&meta.title).strong());
    ui.label(&meta.brief);
    egui::Grid::new("card").num_columns(2).show(ui, |ui| {
        for (k, v) in [
            ("traffic", meta.card.traffic.clone()),
            ("read:write", meta.card.read_write.clone()),
            ("latency", meta.card.latency.clone()),
            ("availability", meta.card.availability.clone()),
            ("survive", meta.card.survive.clone()),
            ("budget", format!("${:.0} a month", meta.card.budget)),
        ] {
            ui.label(k);
            ui.label(v);
            ui.end_row();
        }
    });
    ui.label("Change the topology here (capacity, app servers, a cache), then grade it against the drill's hidden scenario.");
    #[cfg(not(target_arch = "wasm32"))]
    {
        let done = st
            .grading
            .as_ref()
            .and_then(|slot| slot.lock().ok()?.take());
        if let Some(r) = done {
            st.grade = Some(grade_lines(r));
            st.grading = None;
        } else if st.grading.is_some() {
            ui.spinner();
            ui.label("grading: running the hidden scenario…");
        } else if ui.button("Grade my topology").clicked() {
            let slot = GradeSlot::default();
            let out = slot.clone();
            let t = st.builder.working.clone();
            std::thread::spawn(move || {
                let r = content::grade(&content::DRILLS[k], &t);
                if let Ok(mut o) = out.lock() {
                    *o = Some(r);
                }
            });
            st.grading = Some(slot);
        }
    }
    #[cfg(target_arch = "wasm32")]
    if ui
        .button("Grade my topology")
        .on_hover_text("runs the hidden scenario: the page pauses for a few seconds")
        .clicked()
    {
        st.grade = Some(grade_lines(content::grade(d, &st.builder.working)));
    }
    if let Some((passed, lines)) = &st.grade {
        ui.colored_label(
            if *passed { GREEN } else { RED },
            if *passed { "PASS" } else { "FAIL" },
        );
        for l in lines {
            ui.label(egui::RichText::new(l).small());
        }
    }
    if ui.small_button("back to the lessons").clicked() {
        st.drill = None;
    }
}

fn grade_lines(r: Result<bottleneck::scenario::drill::Grade, String>) -> (bool, Vec<String>) {
    match r {
        Err(e) => (false, vec![e]),
        Ok(g) => {
            let mut lines: Vec<String> = g
                .verdict
                .rows
                .iter()
                .map(|r| {
                    format!(
                        "{} {}: measured {}",
                        if r.passed { "pass" } else { "FAIL" },
                        r.threshold,
                        r.shown
                    )
                })
                .collect();
            lines.push(format!(
                "cost ${:.0} a month of ${:.0}",
                g.monthly, g.budget
            ));
            lines.extend(g.reasons.iter().cloned());
            (g.passed, lines)
        }
    }
}

fn lessons(ui: &mut egui::Ui, s: &mut Sandbox, st: &mut UiState) {
    if let Some(k) = st.drill {
        drill_panel(ui, s, st, k);
        return;
    }
    ui.heading("Lessons");
    if let Some(msg) = &st.saved {
        ui.label(msg);
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        for (k, l) in LESSONS.iter().enumerate() {
            let open = st.lesson == Some(k);
            let header = egui::CollapsingHeader::new(format!("{}. {}", k + 1, l.title))
                .open(Some(open))
                .show(ui, |ui| {
                    ui.label(l.text);
                    ui.add_space(4.0);
                    ui.label(egui::RichText::new(format!("Try: {}", l.task)).strong());
                    ui.add_space(4.0);
                    match (l.check)(s) {
                        Some(why) => {
                            ui.colored_label(GREEN, format!("Done. {why}"));
                        }
                        None => {
                            ui.colored_label(GREY, "Not yet: the check runs live.");
                        }
                    }
                });
            if header.header_response.clicked() {
                st.lesson = if open { None } else { Some(k) };
                if !open && let Some(stage) = content::find(l.stage) {
                    open_stage(s, stage);
                }
            }
        }
    });
}

/// The graph: boxes coloured by utilization with their queues, edges with
/// moving dots, the bottleneck outlined.
fn graph(ui: &mut egui::Ui, s: &mut Sandbox, st: &mut UiState) {
    let rect = ui.available_rect_before_wrap();
    let painter = ui.painter_at(rect);
    painter.text(
        rect.left_top() + Vec2::new(12.0, 10.0),
        Align2::LEFT_TOP,
        &s.title,
        FontId::proportional(16.0),
        INK,
    );
    let margin = Vec2::new(80.0, 50.0);
    let inner = rect.shrink2(margin);
    let to_screen = |p: [f32; 2]| {
        Pos2::new(
            inner.left() + p[0] * inner.width(),
            inner.top() + p[1] * inner.height(),
        )
    };
    let from_screen = |p: Pos2| {
        [
            (p.x - inner.left()) / inner.width().max(1.0),
            (p.y - inner.top()) / inner.height().max(1.0),
        ]
    };
    let size = Vec2::new(132.0, 58.0);
    let bottleneck = s.bottleneck();
    // Edges first.
    for &(a, b) in &s.layout.edges {
        let (pa, pb) = (to_screen(s.layout.at(a)), to_screen(s.layout.at(b)));
        let from = pa + Vec2::new(size.x / 2.0, 0.0);
        let to = pb - Vec2::new(size.x / 2.0, 0.0);
        let back = to.x < from.x;
        let (from, to) = if back { (pa, pb) } else { (from, to) };
        painter.line_segment([from, to], Stroke::new(1.5, Color32::from_gray(170)));
        let dir = (to - from).normalized();
        painter.arrow(
            to - dir * 10.0,
            dir * 10.0,
            Stroke::new(1.5, Color32::from_gray(150)),
        );
        // Dots: density follows the rate into the target.
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
            painter.circle_filled(
                from + (to - from) * phase,
                2.6,
                Color32::from_rgb(70, 110, 200),
            );
        }
    }
    // Sources.
    for (i, (id, p)) in s.layout.sources.iter().enumerate() {
        let c = to_screen(*p);
        let r = Rect::from_center_size(c, Vec2::new(100.0, 40.0));
        painter.rect_filled(r, CornerRadius::same(20), Color32::from_rgb(225, 235, 250));
        painter.rect_stroke(
            r,
            CornerRadius::same(20),
            Stroke::new(1.0, Color32::from_gray(140)),
            StrokeKind::Inside,
        );
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
        let resp = ui.interact(r, ui.id().with(("src", i)), Sense::drag());
        if resp.dragged_by(egui::PointerButton::Primary) {
            st.dragging = Some(Slot::Src(i));
        }
    }
    // Nodes.
    for i in 0..s.model.nodes.len() {
        let p = s.layout.at(Slot::Node(i));
        let c = to_screen(p);
        let r = Rect::from_center_size(c, size);
        let n = &s.model.nodes[i];
        let live = s.sim.live(i);
        let sig = s.signals[i];
        let passes = s.routes_only(i);
        let fill = if live.down {
            Color32::from_gray(190)
        } else if passes {
            Color32::from_rgb(235, 235, 240)
        } else {
            heat(sig.utilization.value)
        };
        painter.rect_filled(r, CornerRadius::same(8), fill);
        let is_bottleneck =
            bottleneck.as_ref().is_some_and(|b| b.0 == i) && sig.utilization.value >= 0.7;
        let stroke = if is_bottleneck {
            Stroke::new(4.0, Color32::from_rgb(255, 120, 0))
        } else if s.selected == Some(i) {
            Stroke::new(3.0, Color32::from_rgb(40, 90, 200))
        } else {
            Stroke::new(1.0, Color32::from_gray(90))
        };
        painter.rect_stroke(r, CornerRadius::same(8), stroke, StrokeKind::Outside);
        let line2 = if live.down {
            "DOWN".to_string()
        } else if passes {
            n.kind_name().to_string()
        } else {
            let what = match n.kind_name() {
                "App" | "Queue" => "workers",
                _ => "servers",
            };
            format!(
                "{:.0}% of {} {what}",
                sig.utilization.value * 100.0,
                live.servers
            )
        };
        let text_color = if !passes && !live.down && sig.utilization.value > 0.75 {
            Color32::WHITE
        } else {
            INK
        };
        painter.text(
            c - Vec2::new(0.0, 10.0),
            Align2::CENTER_CENTER,
            &n.id,
            FontId::proportional(13.0),
            text_color,
        );
        painter.text(
            c + Vec2::new(0.0, 8.0),
            Align2::CENTER_CENTER,
            line2,
            FontId::proportional(11.0),
            text_color,
        );
        // The queue, as a bar under the box (full at twice the servers).
        if !passes {
            let q = (sig.queue.value / (2.0 * live.servers.max(1) as f64)).min(1.0) as f32;
            let bar = Rect::from_min_size(
                r.left_bottom() + Vec2::new(0.0, 4.0),
                Vec2::new(size.x, 6.0),
            );
            painter.rect_filled(bar, CornerRadius::same(2), Color32::from_gray(225));
            if q > 0.0 {
                let filled = Rect::from_min_size(bar.min, Vec2::new(size.x * q, 6.0));
                painter.rect_filled(filled, CornerRadius::same(2), heat(0.6 + 0.4 * q as f64));
            }
        }
        // Errors, as a badge.
        if sig.errors.value >= 0.001 && !live.down {
            let badge = r.right_top() + Vec2::new(-4.0, 4.0);
            painter.circle_filled(badge, 14.0, RED);
            painter.text(
                badge,
                Align2::CENTER_CENTER,
                format!("{:.0}%", (sig.errors.value * 100.0).max(1.0)),
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
                RED,
            );
        }
        let resp = ui.interact(r, ui.id().with(("node", i)), Sense::click_and_drag());
        if resp.clicked() {
            s.selected = Some(i);
        }
        if resp.drag_started_by(egui::PointerButton::Primary) {
            st.dragging = Some(Slot::Node(i));
            s.selected = Some(i);
        }
    }
    if let Some(b) = st.dragging {
        if let Some(pos) = ui.ctx().pointer_interact_pos() {
            s.layout.set(b, from_screen(pos));
        }
        if !ui.ctx().input(|i| i.pointer.primary_down()) {
            st.dragging = None;
        }
    }
    // The bottleneck's reason, large, under the graph.
    let reason = match &bottleneck {
        None => "no bottleneck: everything is nearly idle".to_string(),
        Some((i, why)) if s.signals[*i].utilization.value < 0.7 => {
            format!("busiest: {why} (nothing is saturated)")
        }
        Some((_, why)) => format!("bottleneck: {why}"),
    };
    painter.text(
        rect.center_bottom() - Vec2::new(0.0, 16.0),
        Align2::CENTER_CENTER,
        reason,
        FontId::proportional(17.0),
        Color32::from_rgb(200, 80, 0),
    );
    // Right-drag from a box to another connects them (the builder).
    let boxes: Vec<(crate::builder::Item, Rect)> = s
        .layout
        .sources
        .iter()
        .map(|(id, p)| {
            (
                crate::builder::Item::Source(id.clone()),
                Rect::from_center_size(to_screen(*p), Vec2::new(100.0, 40.0)),
            )
        })
        .chain(s.layout.nodes.iter().map(|(id, p)| {
            (
                crate::builder::Item::Node(id.clone()),
                Rect::from_center_size(to_screen(*p), size),
            )
        }))
        .collect();
    crate::builder::canvas::wire_by_dragging(ui, &painter, s, &mut st.builder, &boxes);
    ui.allocate_rect(rect, Sense::hover());
}

fn series_line(
    s: &Sandbox,
    i: Option<usize>,
    f: impl Fn(&bottleneck::metrics::WindowRecord) -> Option<f64>,
) -> Vec<[f64; 2]> {
    let series = match i {
        Some(i) => s.sim.series(i),
        None => s.sim.end_to_end_series(),
    };
    let w = s.sim.config().window.0 as f64 / SEC as f64;
    series
        .records()
        .filter_map(|r| f(r).map(|v| [r.start as f64 / SEC as f64 + w, v]))
        .collect()
}

fn chart(ui: &mut egui::Ui, id: &str, title: &str, lines: Vec<(&str, Vec<[f64; 2]>)>) {
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

fn inspector(ui: &mut egui::Ui, s: &mut Sandbox) {
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
                "arrived",
                series_line(s, sel, |r| Some(r.arrivals as f64 / w)),
            ),
            (
                "completed",
                series_line(s, sel, |r| Some(r.completed as f64 / w)),
            ),
        ],
    );
    chart(
        ui,
        &format!("lat{key}"),
        "latency (ms)",
        vec![
            ("p50", series_line(s, sel, |r| r.p50_ms)),
            ("p95", series_line(s, sel, |r| r.p95_ms)),
            ("p99", series_line(s, sel, |r| r.p99_ms)),
        ],
    );
    chart(
        ui,
        &format!("err{key}"),
        "failures (requests/s)",
        vec![(
            "failed",
            series_line(s, sel, |r| Some(r.dropped as f64 / w)),
        )],
    );
    if sel.is_some() {
        chart(
            ui,
            &format!("util{key}"),
            "utilization (%) and queue",
            vec![
                (
                    "utilization %",
                    series_line(s, sel, |r| Some(r.utilization * 100.0)),
                ),
                ("waiting", series_line(s, sel, |r| Some(r.mean_queue_len))),
            ],
        );
    }
    kind_numbers(ui, s);
}

fn actions(ui: &mut egui::Ui, s: &mut Sandbox, i: usize, id: &str, kind: &str) {
    let live = s.sim.live(i);
    ui.horizontal_wrapped(|ui| {
        if live.down {
            if ui.button("bring up").clicked() {
                s.apply(Change::Up(id.into()));
            }
        } else if ui.button("take down").clicked() {
            s.apply(Change::Down(id.into()));
        }
        // Only the faults the engine gives a meaning for this kind.
        let slows = bottleneck::sim::effect(bottleneck::sim::Fault::Slow, kind).is_ok()
            && s.model.nodes[i].service.mean() > 0.0;
        for f in [2.0, 10.0].into_iter().filter(|_| slows) {
            if ui.button(format!("slow x{f}")).clicked() {
                s.apply(Change::Slow {
                    node: id.into(),
                    factor: f,
                });
            }
        }
        if live.slow != 1.0 && ui.button("normal speed").clicked() {
            s.apply(Change::Slow {
                node: id.into(),
                factor: 1.0,
            });
        }
        if live.error_rate == 0.0 {
            if ui.button("10% errors").clicked() {
                s.apply(Change::Errors {
                    node: id.into(),
                    rate: 0.1,
                });
            }
        } else if ui.button("no errors").clicked() {
            s.apply(Change::Errors {
                node: id.into(),
                rate: 0.0,
            });
        }
        if bottleneck::sim::effect(bottleneck::sim::Fault::Flush, kind).is_ok()
            && ui.button("flush").clicked()
        {
            s.apply(Change::Flush(id.into()));
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
                if ui.small_button(format!("cut from {nb}")).clicked() {
                    s.apply(Change::Partition {
                        a: id.into(),
                        b: nb.clone(),
                    });
                }
                if ui.small_button(format!("heal {nb}")).clicked() {
                    s.apply(Change::Heal {
                        a: id.into(),
                        b: nb,
                    });
                }
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
