//! The builder's property editor, drawn with egui and generated from the
//! engine's field descriptors (the palette bar is [`super::palette`]).

use super::Builder;
use super::fields::{self, Editor, Item, TextType};
use crate::sandbox::Sandbox;
use crate::ui::keys::{self, hint};
use bevy_egui::egui::{self, Color32, RichText};
use bottleneck::kind::Field;
use serde_json::{Map, Value};

const RED: Color32 = Color32::from_rgb(190, 30, 30);
const GREY: Color32 = Color32::from_rgb(110, 110, 110);

/// What a widget asked for, applied after drawing.
enum Action {
    Value(Vec<String>, Value),
    Text(String, String),
    Connect(String),
    Disconnect(String),
    Delete,
    Duplicate,
    ConnectByClick,
}

/// The property editor of the selected node or source.
pub fn properties(ui: &mut egui::Ui, s: &mut Sandbox, b: &mut Builder) {
    ui.horizontal(|ui| {
        ui.label(RichText::new("Properties").strong());
        let shown = b
            .selected
            .as_ref()
            .map_or("pick a node or source".to_string(), |i| i.id().to_string());
        egui::ComboBox::from_id_salt("builder-item")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                let items: Vec<Item> = b
                    .working
                    .sources
                    .iter()
                    .map(|x| Item::Source(x.id.clone()))
                    .chain(
                        b.working
                            .nodes
                            .iter()
                            .map(|n| Item::Node(n.id().to_string())),
                    )
                    .collect();
                for it in items {
                    let label = match &it {
                        Item::Source(id) => format!("{id} (source)"),
                        Item::Node(id) => id.clone(),
                    };
                    if ui
                        .selectable_label(b.selected == Some(it.clone()), label)
                        .clicked()
                    {
                        b.click(s, it.clone());
                        if let Item::Node(id) = &it {
                            s.selected = s.model.node_index(id);
                        }
                    }
                }
            });
    });
    if b.is_draft() {
        ui.colored_label(
            RED,
            "Not running: the topology does not load yet. The loader says:",
        );
        for p in &b.problems {
            ui.label(RichText::new(format!("• {p}")).small().color(RED));
        }
    }
    selection_row(ui, s, b);
    regions(ui, s, b);
    let Some(item) = b.selected.clone() else {
        return;
    };
    let Some(m) = fields::item_value(&b.working, &item) else {
        b.selected = None;
        return;
    };
    let Some(fs) = fields::fields_of(&b.working, &item) else {
        return;
    };
    let kind = match &item {
        Item::Source(_) => "Source".to_string(),
        Item::Node(id) => b
            .working
            .nodes
            .iter()
            .find(|n| n.id() == id)
            .map_or(String::new(), |n| n.kind().to_string()),
    };
    let mut action = None;
    ui.horizontal_wrapped(|ui| {
        ui.heading(item.id());
        ui.label(&kind);
        if ui.small_button("delete").clicked() {
            action = Some(Action::Delete);
        }
        if matches!(item, Item::Node(_)) && ui.small_button("copy").clicked() {
            action = Some(Action::Duplicate);
        }
    });
    // Connections.
    let out: Vec<String> = fields::edges(&b.working)
        .into_iter()
        .filter(|(f, _)| *f == item)
        .map(|(_, to)| to)
        .collect();
    ui.horizontal_wrapped(|ui| {
        ui.label("sends to:");
        for to in &out {
            if ui
                .small_button(format!("{to} ×"))
                .on_hover_text("disconnect")
                .clicked()
            {
                action = Some(Action::Disconnect(to.clone()));
            }
        }
        egui::ComboBox::from_id_salt(("connect", item.id().to_string()))
            .selected_text("connect to…")
            .show_ui(ui, |ui| {
                for n in &b.working.nodes {
                    if n.id() != item.id()
                        && !out.iter().any(|o| o == n.id())
                        && ui.button(format!("{} ({})", n.id(), n.kind())).clicked()
                    {
                        action = Some(Action::Connect(n.id().to_string()));
                    }
                }
            });
        let label = if b.connecting.as_ref() == Some(&item) {
            "click the target… (esc)"
        } else {
            "connect by clicking"
        };
        if ui.small_button(label).clicked() {
            action = Some(Action::ConnectByClick);
        }
    });
    ui.separator();
    egui::Grid::new(("props", item.id().to_string()))
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            rows(ui, b, &item, &[], fs, &m, &mut action);
        });
    if let Some(a) = action {
        let r = match a {
            Action::Value(p, v) => b.set_value(s, &item, &p, v),
            Action::Text(f, t) => b.set_text(s, &item, &f, &t),
            Action::Connect(to) => b.connect(s, &item, &to),
            Action::Disconnect(to) => b.disconnect(s, &item, &to),
            Action::Delete => b.delete(s, &item),
            Action::Duplicate => b
                .duplicate(s, item.id())
                .map(|id| format!("copied as {id}")),
            Action::ConnectByClick => {
                b.connecting = Some(item.clone());
                Ok(format!(
                    "connecting from `{}`: click the node it sends to",
                    item.id()
                ))
            }
        };
        if r.is_ok() {
            b.texts.clear();
        }
        b.report(r);
    }
}

fn key(item: &Item, p: &str) -> String {
    format!("{}/{p}", item.id())
}

/// One row per field, nested structs indented below theirs.
fn rows(
    ui: &mut egui::Ui,
    b: &mut Builder,
    item: &Item,
    prefix: &[String],
    fs: &[Field],
    m: &Map<String, Value>,
    action: &mut Option<Action>,
) {
    for f in fs {
        let mut p = prefix.to_vec();
        p.push(f.name.to_string());
        let dotted = p.join(".");
        let v = fields::get(m, std::slice::from_ref(&p[p.len() - 1])).clone();
        let ed = fields::editor(&b.working, item, f);
        let mut hover = format!("{}\n{}", f.about, f.ty.describe());
        if let Some(d) = f.default {
            hover.push_str(&format!("\ndefault: {d}"));
        }
        let indent = "   ".repeat(prefix.len());
        ui.label(format!("{indent}{}", f.name))
            .on_hover_text(&hover);
        ui.horizontal_top(|ui| match ed {
            Editor::Id => {
                text_box(ui, b, item, &dotted, &v_text(&v), "", 110.0, action);
            }
            Editor::Bool => {
                let default = f.default == Some("true");
                let mut on = v.as_bool().unwrap_or(default);
                if ui.checkbox(&mut on, "").changed() {
                    *action = Some(Action::Value(p.clone(), Value::Bool(on)));
                }
                if v.is_null() {
                    ui.label(RichText::new("(default)").small().color(GREY));
                }
            }
            Editor::Choice(choices) => {
                let cur = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{} (default)", f.default.unwrap_or("")));
                egui::ComboBox::from_id_salt(key(item, &dotted))
                    .selected_text(cur)
                    .show_ui(ui, |ui| {
                        for c in choices {
                            if ui.button(*c).clicked() {
                                *action = Some(Action::Value(p.clone(), Value::from(*c)));
                            }
                        }
                    });
            }
            Editor::Node(kinds) => {
                let cur = v.as_str().unwrap_or("(none)").to_string();
                egui::ComboBox::from_id_salt(key(item, &dotted))
                    .selected_text(if cur.is_empty() { "(none)".into() } else { cur })
                    .show_ui(ui, |ui| {
                        for n in &b.working.nodes {
                            if (kinds.is_empty() || kinds.contains(&n.kind_of()))
                                && n.id() != item.id()
                                && ui.button(n.id()).clicked()
                            {
                                *action = Some(Action::Value(p.clone(), Value::from(n.id())));
                            }
                        }
                        if f.default.is_some() && ui.button("(none)").clicked() {
                            *action = Some(Action::Value(p.clone(), Value::Null));
                        }
                    });
            }
            Editor::Nodes(_) => {
                let t = fields::to_text(TextType::Words, &v);
                text_box(ui, b, item, &dotted, &t, "", 200.0, action);
            }
            Editor::Number { whole, .. } => {
                let t = v_text(&v);
                text_box(
                    ui,
                    b,
                    item,
                    &dotted,
                    &t,
                    f.default.unwrap_or(""),
                    80.0,
                    action,
                );
                if whole && let Some(n) = v.as_u64() {
                    if ui.small_button("-").clicked() && n > 0 {
                        *action = Some(Action::Value(p.clone(), Value::from(n - 1)));
                    }
                    if ui.small_button("+").clicked() {
                        *action = Some(Action::Value(p.clone(), Value::from(n + 1)));
                    }
                }
                if !f.unit.is_empty() {
                    ui.label(RichText::new(f.unit).small().color(GREY));
                }
            }
            Editor::Duration => {
                let t = v
                    .as_str()
                    .and_then(|x| bottleneck::time::Duration::parse(x).ok())
                    .map_or(String::new(), |d| d.to_string());
                text_box(
                    ui,
                    b,
                    item,
                    &dotted,
                    &t,
                    f.default.unwrap_or(""),
                    80.0,
                    action,
                );
            }
            Editor::Text(ty) => {
                let t = fields::to_text(ty, &v);
                text_box(
                    ui,
                    b,
                    item,
                    &dotted,
                    &t,
                    f.default.unwrap_or(""),
                    230.0,
                    action,
                );
            }
            Editor::Struct(name) => {
                if v.is_null() {
                    ui.label(
                        RichText::new(f.default.unwrap_or("none"))
                            .small()
                            .color(GREY),
                    );
                    if ui.small_button(format!("add {name}")).clicked() {
                        let nv = fields::new_struct(&b.working, item, name);
                        *action = Some(Action::Value(p.clone(), nv));
                    }
                } else if f.default.is_some() && ui.small_button("remove").clicked() {
                    *action = Some(Action::Value(p.clone(), Value::Null));
                }
            }
        });
        ui.end_row();
        if let Some((ei, ep, msg)) = &b.field_error
            && ei == item
            && *ep == dotted
        {
            ui.label("");
            ui.label(RichText::new(msg).small().color(RED));
            ui.end_row();
        }
        if let (Editor::Struct(name), Value::Object(inner)) = (ed, &v)
            && let Some(nested) = fields::nested_fields(&b.working, item, name)
        {
            rows(ui, b, item, &p, nested, inner, action);
        }
    }
}

fn v_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A text box that keeps what is typed until Enter or leaving it, then
/// asks for the edit.
#[allow(clippy::too_many_arguments)]
fn text_box(
    ui: &mut egui::Ui,
    b: &mut Builder,
    item: &Item,
    field: &str,
    current: &str,
    default: &str,
    width: f32,
    action: &mut Option<Action>,
) {
    let k = key(item, field);
    let buf = b
        .texts
        .entry(k.clone())
        .or_insert_with(|| current.to_string());
    let multiline = current.len() > 40 || buf.contains('\n');
    let edit = if multiline {
        {
            // Tall enough for the text (about 38 characters a line), so the
            // rows below do not overlap it.
            let rows = (buf.len() / 38 + 1 + buf.matches('\n').count()).clamp(2, 8);
            egui::TextEdit::multiline(buf).desired_rows(rows)
        }
    } else {
        egui::TextEdit::singleline(buf)
    }
    .desired_width(width)
    .hint_text(if default.is_empty() {
        String::new()
    } else {
        format!("default: {default}")
    });
    let out = edit.show(ui);
    let r = out.response.response.clone();
    select_all_on_entry(ui, &r, out.state, &out.galley);
    let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
    if r.lost_focus() || (multiline && r.has_focus() && enter && ui.input(|i| i.modifiers.command))
    {
        let typed = b.texts.get(&k).cloned().unwrap_or_default();
        if typed != current {
            *action = Some(Action::Text(field.to_string(), typed));
        }
        b.texts.remove(&k);
    } else if !r.has_focus() && b.texts.get(&k).is_some_and(|t| t != current) {
        // The value changed under the box (undo, a live edit): follow it.
        b.texts.insert(k, current.to_string());
    }
}

/// Entering a box (a click, or Tab) selects all its text, so what is typed
/// replaces the value, as in a spreadsheet cell; a click in a box that
/// already has the keyboard places the cursor, and a drag selects part.
fn select_all_on_entry(
    ui: &egui::Ui,
    r: &egui::Response,
    mut state: egui::text_edit::TextEditState,
    galley: &egui::Galley,
) {
    let entering = r.id.with("entering");
    if r.gained_focus() {
        ui.data_mut(|d| d.insert_temp(entering, true));
    }
    if !r.has_focus() {
        ui.data_mut(|d| d.remove::<bool>(entering));
        return;
    }
    let pending = ui.data(|d| d.get_temp::<bool>(entering).unwrap_or(false));
    // Once the click that entered it is over (or at once, by keyboard).
    if pending && !ui.input(|i| i.pointer.any_down()) {
        ui.data_mut(|d| d.remove::<bool>(entering));
        if state.cursor.char_range().is_none_or(|c| c.is_empty()) {
            state
                .cursor
                .set_char_range(Some(egui::text::CCursorRange::select_all(galley)));
            state.store(ui.ctx(), r.id);
        }
    }
}

/// With more than one box selected: what can be done to them all.
fn selection_row(ui: &mut egui::Ui, s: &mut Sandbox, b: &mut Builder) {
    let sel = b.selection();
    if sel.len() < 2 {
        return;
    }
    let names: Vec<&str> = sel.iter().map(Item::id).collect();
    let mut r = None;
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("{} selected: {}", sel.len(), names.join(", "))).strong());
        if ui
            .small_button("delete them")
            .on_hover_text(hint(keys::Action::Delete))
            .clicked()
        {
            r = Some(b.delete_selection(s));
        }
        if ui
            .small_button("new region of them")
            .on_hover_text(hint(keys::Action::NewRegion))
            .clicked()
        {
            r = Some(b.new_region(s).map(|id| format!("new region `{id}`")));
        }
    });
    if let Some(r) = r {
        b.report(r);
    }
}

/// Regions: which one the selection is in, and each region's links.
fn regions(ui: &mut egui::Ui, s: &mut Sandbox, b: &mut Builder) {
    let sel = b.selection();
    let ids: Vec<String> = b.working.regions.iter().map(|r| r.id.clone()).collect();
    let mut r = None;
    ui.horizontal_wrapped(|ui| {
        ui.label("region:");
        if !sel.is_empty() {
            let cur = b.region_of(&sel[0]).unwrap_or("(none)").to_string();
            egui::ComboBox::from_id_salt("region-of")
                .selected_text(cur)
                .show_ui(ui, |ui| {
                    for id in &ids {
                        if ui.button(id).clicked() {
                            r = Some(b.put_in_region(s, &sel, Some(id)));
                        }
                    }
                    if ui.button("(none)").clicked() {
                        r = Some(b.put_in_region(s, &sel, None));
                    }
                });
        }
        if ui
            .small_button("+ region")
            .on_hover_text(format!(
                "a new region (data centre) holding the selection ({})",
                hint(keys::Action::NewRegion)
            ))
            .clicked()
        {
            r = Some(b.new_region(s).map(|id| format!("new region `{id}`")));
        }
        for id in &ids {
            if ui
                .small_button(format!("{id} ×"))
                .on_hover_text("delete this region (its boxes stay)")
                .clicked()
            {
                r = Some(b.delete_region(s, id));
            }
        }
    });
    let links: Vec<(String, String, String)> = b
        .working
        .links
        .iter()
        .map(|l| (l.a.clone(), l.b.clone(), l.latency.to_string()))
        .collect();
    for (a, c, lat) in links {
        ui.horizontal(|ui| {
            ui.label(format!("link {a} – {c}, one way:"));
            let k = format!("link/{a}/{c}");
            let buf = b.texts.entry(k.clone()).or_insert_with(|| lat.clone());
            let resp = ui.add(egui::TextEdit::singleline(buf).desired_width(70.0));
            if resp.lost_focus() {
                let typed = b.texts.remove(&k).unwrap_or_default();
                if typed != lat {
                    r = Some(b.set_link(s, &a, &c, &typed));
                }
            }
        });
    }
    if let Some(r) = r {
        b.report(r);
    }
}
