//! The bars around the graph: the top bar (stages, run, speed, clock,
//! files), the traffic bar and the timeline strip.

use super::colour::*;
use super::{UiState, clock, rate};
use super::{open_stage, speed_label};
use crate::content;
use crate::sandbox::SPEEDS;
use crate::sandbox::Sandbox;
use bevy_egui::egui::{self, Color32};
use bottleneck::time::{Duration, SEC};

pub fn top_bar(ui: &mut egui::Ui, s: &mut Sandbox, st: &mut UiState) {
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
        if ui
            .button("?")
            .on_hover_text(format!(
                "keys ({})",
                super::keys::hint(super::keys::Action::Help)
            ))
            .clicked()
        {
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

pub fn traffic_bar(ui: &mut egui::Ui, s: &mut Sandbox) {
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
        if ui
            .button("x2")
            .on_hover_text(super::keys::hint(super::keys::Action::TrafficUp))
            .clicked()
        {
            let r = s.rps() * 2.0;
            s.set_rps(r);
        }
        if ui
            .button("÷2")
            .on_hover_text(super::keys::hint(super::keys::Action::TrafficDown))
            .clicked()
        {
            let r = s.rps() / 2.0;
            s.set_rps(r);
        }
        if ui
            .button("campaign surge x11")
            .on_hover_text(format!(
                "11 times the traffic for 60 simulated seconds ({})",
                super::keys::hint(super::keys::Action::Surge)
            ))
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

pub fn timeline(ui: &mut egui::Ui, s: &mut Sandbox) {
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
