//! The left panel: lessons with their live checks, or the drill being
//! worked on with its card and grade.

#[cfg(not(target_arch = "wasm32"))]
use super::GradeSlot;
use super::UiState;
use super::colour::*;
use super::open_stage;
use crate::content::{self, LESSONS};
use crate::sandbox::Sandbox;
use bevy_egui::egui;

fn drill_panel(ui: &mut egui::Ui, _s: &mut Sandbox, st: &mut UiState, k: usize) {
    let d = &content::DRILLS[k];
    let Ok(meta) = bottleneck::scenario::drill::parse_drill("d", d.drill) else {
        return;
    };
    ui.heading(format!("Drill, level {}", meta.level));
    ui.label(egui::RichText::new(&meta.title).strong());
    ui.label(&meta.brief);
    // The engine's card rows, with what the hidden scenario grades (the
    // CLI's `bottleneck drill` prints the same rows).
    let hidden = bottleneck::scenario::parse_str("hidden.scenario.ron", d.scenario).ok();
    let money = |x: f64| format!("${x:.0}");
    let rows = bottleneck::scenario::drill::card_rows(&meta, hidden.as_ref(), &money);
    egui::Grid::new("card").num_columns(2).show(ui, |ui| {
        for (k, v) in rows {
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
        } else if ui
            .button("Grade my topology")
            .on_hover_text(super::keys::hint(super::keys::Action::Grade))
            .clicked()
            || std::mem::take(&mut st.grade_requested)
        {
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
        .on_hover_text(format!(
            "runs the hidden scenario: the page pauses for a few seconds ({})",
            super::keys::hint(super::keys::Action::Grade)
        ))
        .clicked()
        || std::mem::take(&mut st.grade_requested)
    {
        st.grade = Some(grade_lines(content::grade(d, &st.builder.working)));
    }
    if let Some((passed, lines)) = &st.grade {
        ui.colored_label(
            if *passed { GREEN } else { RED },
            egui::RichText::new(if *passed { "PASS" } else { "FAIL" }).strong(),
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
        Err(e) => (false, e.lines().map(str::to_string).collect()),
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

pub fn lessons(ui: &mut egui::Ui, s: &mut Sandbox, st: &mut UiState) {
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
