//! Keyboard shortcuts: one table of actions and their keys, which both
//! dispatches the keys ([`pressed`], [`run`]) and draws the help panel
//! ([`help_rows`]), so the two cannot drift apart. Buttons name their key
//! in their hover text with [`hint`].

use super::UiState;
use crate::builder::Item;
use crate::sandbox::{SPEEDS, Sandbox};
use bevy_egui::egui::{self, Key, Modifiers};
use bottleneck::kind::Kind;
use bottleneck::sim::Change;
use bottleneck::time::{Duration, SEC};

/// Everything a key can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Pause or run the simulation.
    PauseRun,
    /// One event (paused).
    Step,
    /// Faster simulated clock.
    Faster,
    /// Slower simulated clock.
    Slower,
    /// Twice the traffic.
    TrafficUp,
    /// Half the traffic.
    TrafficDown,
    /// 11 times the traffic for a minute.
    Surge,
    /// Undo the last edit.
    Undo,
    /// Redo it.
    Redo,
    /// Delete the selection.
    Delete,
    /// Select every box.
    SelectAll,
    /// Stop connecting or carrying; clear the selection.
    Cancel,
    /// Lay the boxes out by the request flow.
    AutoLayout,
    /// Copy the selected node.
    Duplicate,
    /// Connect from the selected box: the next box clicked is the target.
    Connect,
    /// A blank canvas.
    NewBlank,
    /// A region from the selection.
    NewRegion,
    /// A source of requests.
    AddSource,
    /// A node of this kind.
    Place(Kind),
    /// Take the selected node down, or bring it up.
    TakeDown,
    /// 10% errors on the selected node, or none.
    Errors,
    /// The selected node 2x slower, or normal.
    Slow,
    /// One more server (instance) on the selected node.
    CapacityUp,
    /// One fewer.
    CapacityDown,
    /// Empty the selected cache.
    Flush,
    /// Grade the drill being worked on.
    Grade,
    /// Show or hide this help.
    Help,
}

/// Modifier keys of a shortcut.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mods {
    /// Ctrl (Cmd on a Mac) and Shift.
    CtrlShift,
    /// Ctrl (Cmd on a Mac).
    Ctrl,
    /// Shift.
    Shift,
    /// None.
    Plain,
}

impl Mods {
    fn egui(self) -> Modifiers {
        match self {
            Mods::CtrlShift => Modifiers::COMMAND | Modifiers::SHIFT,
            Mods::Ctrl => Modifiers::COMMAND,
            Mods::Shift => Modifiers::SHIFT,
            Mods::Plain => Modifiers::NONE,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Mods::CtrlShift => "Ctrl+Shift+",
            Mods::Ctrl => "Ctrl+",
            Mods::Shift => "Shift+",
            Mods::Plain => "",
        }
    }
}

/// An action, its keys, and what the help says of it.
pub struct Shortcut {
    /// The action.
    pub action: Action,
    /// Its keys (any of them).
    pub keys: &'static [(Mods, Key)],
    /// The help's words.
    pub what: &'static str,
}

use Mods::{Ctrl, CtrlShift, Plain, Shift};

macro_rules! sc {
    ($a:expr, [$(($m:expr, $k:ident)),+], $w:literal) => {
        Shortcut { action: $a, keys: &[$(($m, Key::$k)),+], what: $w }
    };
}

/// The table: every action once.
pub const SHORTCUTS: &[Shortcut] = &[
    sc!(Action::PauseRun, [(Plain, Space)], "pause / run"),
    sc!(Action::Step, [(Plain, Period)], "one event (paused)"),
    sc!(
        Action::Faster,
        [(Plain, Plus), (Plain, Equals)],
        "faster clock"
    ),
    sc!(Action::Slower, [(Plain, Minus)], "slower clock"),
    sc!(Action::TrafficUp, [(Plain, PageUp)], "twice the traffic"),
    sc!(Action::TrafficDown, [(Plain, PageDown)], "half the traffic"),
    sc!(
        Action::Surge,
        [(Shift, U)],
        "campaign surge: 11x traffic for 60 s"
    ),
    sc!(Action::Undo, [(Ctrl, Z)], "undo the last edit"),
    sc!(Action::Redo, [(Ctrl, Y), (CtrlShift, Z)], "redo"),
    sc!(
        Action::Delete,
        [(Plain, Delete), (Plain, Backspace)],
        "delete the selection (one undo brings it back)"
    ),
    sc!(Action::SelectAll, [(Ctrl, A)], "select every box"),
    sc!(
        Action::Cancel,
        [(Plain, Escape)],
        "stop connecting or dragging; clear the selection"
    ),
    sc!(
        Action::AutoLayout,
        [(Shift, L)],
        "auto-layout: left to right by the request flow"
    ),
    sc!(
        Action::Duplicate,
        [(Shift, D)],
        "copy the selected node (behind the same balancer)"
    ),
    sc!(
        Action::Connect,
        [(Shift, C)],
        "connect from the selected box: click the target next"
    ),
    sc!(Action::NewBlank, [(Shift, N)], "new blank canvas"),
    sc!(
        Action::NewRegion,
        [(Shift, R)],
        "new region holding the selection"
    ),
    sc!(
        Action::AddSource,
        [(Plain, S)],
        "place a source (to the selected node)"
    ),
    sc!(
        Action::Place(Kind::Station),
        [(Plain, T)],
        "place a Station"
    ),
    sc!(
        Action::Place(Kind::LoadBalancer),
        [(Plain, B)],
        "place a LoadBalancer"
    ),
    sc!(Action::Place(Kind::App), [(Plain, A)], "place an App"),
    sc!(Action::Place(Kind::Cache), [(Plain, C)], "place a Cache"),
    sc!(Action::Place(Kind::Cdn), [(Plain, N)], "place a Cdn"),
    sc!(
        Action::Place(Kind::Database),
        [(Plain, D)],
        "place a Database"
    ),
    sc!(
        Action::Place(Kind::Replica),
        [(Plain, R)],
        "place a Replica"
    ),
    sc!(Action::Place(Kind::Pooler), [(Plain, P)], "place a Pooler"),
    sc!(
        Action::Place(Kind::ShardRouter),
        [(Plain, H)],
        "place a ShardRouter"
    ),
    sc!(Action::Place(Kind::Queue), [(Plain, Q)], "place a Queue"),
    sc!(
        Action::Place(Kind::RateLimiter),
        [(Plain, L)],
        "place a RateLimiter"
    ),
    sc!(
        Action::Place(Kind::ObjectStore),
        [(Plain, O)],
        "place an ObjectStore"
    ),
    sc!(
        Action::TakeDown,
        [(Plain, X)],
        "take the selected node down / bring it up"
    ),
    sc!(
        Action::Errors,
        [(Plain, E)],
        "10% errors on the selected node / none"
    ),
    sc!(
        Action::Slow,
        [(Plain, W)],
        "the selected node 2x slower / normal"
    ),
    sc!(
        Action::CapacityUp,
        [(Plain, CloseBracket)],
        "one more server (instance) on the selected node"
    ),
    sc!(
        Action::CapacityDown,
        [(Plain, OpenBracket)],
        "one fewer server (instance)"
    ),
    sc!(Action::Flush, [(Plain, F)], "flush the selected cache"),
    sc!(
        Action::Grade,
        [(Plain, G)],
        "grade the drill being worked on"
    ),
    sc!(
        Action::Help,
        [(Plain, F1), (Plain, Questionmark)],
        "show / hide this help"
    ),
];

/// Every action, for checking the table is complete.
pub fn all_actions() -> Vec<Action> {
    use Action::*;
    let mut v = vec![
        PauseRun,
        Step,
        Faster,
        Slower,
        TrafficUp,
        TrafficDown,
        Surge,
        Undo,
        Redo,
        Delete,
        SelectAll,
        Cancel,
        AutoLayout,
        Duplicate,
        Connect,
        NewBlank,
        NewRegion,
        AddSource,
        TakeDown,
        Errors,
        Slow,
        CapacityUp,
        CapacityDown,
        Flush,
        Grade,
        Help,
    ];
    v.extend(Kind::ALL.into_iter().map(Place));
    // A new action must be listed above: this match stops compiling until
    // it is handled in `run`, and the table test fails until it has keys.
    for a in &v {
        match a {
            PauseRun | Step | Faster | Slower | TrafficUp | TrafficDown | Surge | Undo | Redo
            | Delete | SelectAll | Cancel | AutoLayout | Duplicate | Connect | NewBlank
            | NewRegion | AddSource | Place(_) | TakeDown | Errors | Slow | CapacityUp
            | CapacityDown | Flush | Grade | Help => {}
        }
    }
    v
}

/// The table's entry for an action.
pub fn shortcut(a: Action) -> Option<&'static Shortcut> {
    SHORTCUTS.iter().find(|s| s.action == a)
}

/// An action's keys as the help writes them (`"Ctrl+Y or Ctrl+Shift+Z"`).
pub fn hint(a: Action) -> String {
    shortcut(a).map_or_else(String::new, |s| {
        s.keys
            .iter()
            .map(|(m, k)| format!("{}{}", m.text(), k.symbol_or_name()))
            .collect::<Vec<_>>()
            .join(" or ")
    })
}

/// The help panel's rows: (keys, what), in the table's order.
pub fn help_rows() -> Vec<(String, &'static str)> {
    SHORTCUTS.iter().map(|s| (hint(s.action), s.what)).collect()
}

/// The actions whose keys were pressed this frame (none while a text box
/// has the keyboard). Shortcuts with more modifiers are tried first, so
/// Shift+D copies and D alone places a database.
pub fn pressed(ctx: &egui::Context) -> Vec<Action> {
    if ctx.egui_wants_keyboard_input() {
        return Vec::new();
    }
    let mut keys: Vec<(Mods, Key, Action)> = SHORTCUTS
        .iter()
        .flat_map(|s| s.keys.iter().map(move |&(m, k)| (m, k, s.action)))
        .collect();
    keys.sort_by_key(|(m, _, _)| *m);
    ctx.input_mut(|i| {
        let mut out = Vec::new();
        for (m, k, a) in keys {
            if i.consume_key(m.egui(), k) && !out.contains(&a) {
                out.push(a);
            }
        }
        out
    })
}

/// Does what a key asks. The same functions the buttons call.
pub fn run(a: Action, s: &mut Sandbox, st: &mut UiState) {
    let b = &mut st.builder;
    // The node the fault keys act on: the graph's selection, or the
    // builder's when it is a node of the running model.
    let node = s.selected.or_else(|| match &b.selected {
        Some(Item::Node(id)) => s.model.node_index(id),
        _ => None,
    });
    let k = SPEEDS.iter().position(|&x| x == s.speed).unwrap_or(1);
    match a {
        Action::PauseRun => s.paused = !s.paused,
        Action::Step if s.paused => s.step_one(),
        Action::Step => {}
        Action::Faster => s.speed = SPEEDS[(k + 1).min(SPEEDS.len() - 1)],
        Action::Slower => s.speed = SPEEDS[k.saturating_sub(1)],
        Action::TrafficUp => {
            let r = s.rps() * 2.0;
            s.set_rps(r);
        }
        Action::TrafficDown => {
            let r = s.rps() / 2.0;
            s.set_rps(r);
        }
        Action::Surge => s.surge(11.0, Duration(60 * SEC)),
        Action::Undo => {
            let r = b.undo(s);
            b.report(r);
        }
        Action::Redo => {
            let r = b.redo(s);
            b.report(r);
        }
        Action::Delete => {
            let r = b.delete_selection(s);
            b.report(r);
        }
        Action::SelectAll => b.select_all(),
        Action::Cancel => {
            b.carrying = None;
            b.wiring = None;
            b.boxing = None;
            b.clear_selection(s);
        }
        Action::AutoLayout => {
            b.auto_layout(s);
        }
        Action::Duplicate => {
            let r = match b.selected.clone() {
                Some(Item::Node(id)) => b.duplicate(s, &id).map(|n| format!("copied as `{n}`")),
                _ => Err("select a node to copy".into()),
            };
            b.report(r);
        }
        Action::Connect => {
            let r = match b.selected.clone() {
                Some(it) => {
                    let msg = format!("connecting from `{}`: click the node it sends to", it.id());
                    b.connecting = Some(it);
                    Ok(msg)
                }
                None => Err("select the box to connect from".into()),
            };
            b.report(r);
        }
        Action::NewBlank => {
            let r = b.new_blank(s);
            b.report(r);
        }
        Action::NewRegion => {
            let r = b.new_region(s).map(|id| format!("new region `{id}`"));
            b.report(r);
        }
        Action::AddSource => {
            let r = b.add_source(s).map(|id| format!("placed `{id}`"));
            b.report(r);
        }
        Action::Place(kind) => {
            let r = b.place(s, kind, None).map(|id| format!("placed `{id}`"));
            b.report(r);
        }
        Action::TakeDown | Action::Errors | Action::Slow | Action::Flush => {
            if let Some(i) = node {
                fault(a, s, i);
            }
        }
        Action::CapacityUp | Action::CapacityDown => {
            if let Some(i) = node
                && !s.routes_only(i)
            {
                let cap = s.capacity(i);
                let n = if a == Action::CapacityUp {
                    cap.saturating_add(1)
                } else {
                    cap.saturating_sub(1).max(1)
                };
                s.set_capacity(i, n);
            }
        }
        Action::Grade => st.grade_requested = true,
        Action::Help => st.help = !st.help,
    }
}

/// The fault keys, on node `i`: each toggles.
fn fault(a: Action, s: &mut Sandbox, i: usize) {
    let id = s.model.nodes[i].id.clone();
    let live = s.sim.live(i);
    let kind = s.model.nodes[i].kind_name();
    let change = match a {
        Action::TakeDown if live.down => Change::Up(id),
        Action::TakeDown => Change::Down(id),
        Action::Errors => Change::Errors {
            node: id,
            rate: if live.error_rate == 0.0 { 0.1 } else { 0.0 },
        },
        Action::Slow => Change::Slow {
            node: id,
            factor: if live.slow == 1.0 { 2.0 } else { 1.0 },
        },
        Action::Flush if bottleneck::sim::effect(bottleneck::sim::Fault::Flush, kind).is_ok() => {
            Change::Flush(id)
        }
        _ => return,
    };
    s.apply_fault(change);
}

/// The help panel: the table, as a grid.
pub fn help_window(ctx: &egui::Context, st: &mut UiState) {
    if !st.help {
        return;
    }
    egui::Window::new("Keys")
        .collapsible(false)
        .default_pos([420.0, 140.0])
        .show(ctx, |ui| {
            egui::ScrollArea::vertical().max_height(520.0).show(ui, |ui| {
                egui::Grid::new("keys").striped(true).show(ui, |ui| {
                    for (keys, what) in help_rows() {
                        ui.label(egui::RichText::new(keys).strong());
                        ui.label(what);
                        ui.end_row();
                    }
                });
            });
            ui.label("Mouse: click a box to select it, shift-click to add it, drag on the empty canvas to box-select, drag a box to move the selection, right-drag from a box to another to connect them, drag a palette button onto the canvas to place it there.");
            if ui.button("close").clicked() {
                st.help = false;
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_one_entry_and_unique_keys() {
        let all = all_actions();
        for a in &all {
            let n = SHORTCUTS.iter().filter(|s| s.action == *a).count();
            assert_eq!(n, 1, "{a:?} has {n} entries in the table");
            assert!(!shortcut(*a).unwrap().keys.is_empty(), "{a:?} has no key");
        }
        assert_eq!(
            SHORTCUTS.len(),
            all.len(),
            "the table has an action not in all_actions"
        );
        let mut seen = std::collections::BTreeMap::new();
        for s in SHORTCUTS {
            for (m, k) in s.keys {
                let combo = format!("{}{}", m.text(), k.name());
                if let Some(other) = seen.insert(combo.clone(), s.action) {
                    panic!("{combo} is bound to both {other:?} and {:?}", s.action);
                }
            }
        }
    }

    #[test]
    fn the_help_lists_every_shortcut_with_its_keys() {
        let rows = help_rows();
        assert_eq!(rows.len(), SHORTCUTS.len());
        for a in all_actions() {
            let h = hint(a);
            assert!(!h.is_empty(), "{a:?}");
            assert!(
                rows.iter()
                    .any(|(keys, what)| *keys == h && *what == shortcut(a).unwrap().what),
                "{a:?} ({h}) is missing from the help"
            );
        }
        assert_eq!(hint(Action::Redo), "Ctrl+Y or Ctrl+Shift+Z");
        assert_eq!(hint(Action::Place(Kind::Database)), "D");
    }
}
