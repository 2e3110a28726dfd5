//! The selection: one primary item (its properties show) and more added by
//! shift-click or a box drawn on the canvas; moved and deleted together.

use super::Builder;
use super::fields::Item;
use crate::layout::Slot;
use crate::sandbox::Sandbox;

impl Builder {
    /// Every selected item, the primary first; only items that exist.
    pub fn selection(&self) -> Vec<Item> {
        let mut out: Vec<Item> = Vec::new();
        for it in self.selected.iter().chain(&self.extra) {
            if self.exists(it) && !out.contains(it) {
                out.push(it.clone());
            }
        }
        out
    }

    /// True when `item` is part of the selection.
    pub fn is_selected(&self, item: &Item) -> bool {
        self.selected.as_ref() == Some(item) || self.extra.contains(item)
    }

    fn exists(&self, item: &Item) -> bool {
        match item {
            Item::Node(id) => self.working.nodes.iter().any(|n| n.id() == id),
            Item::Source(id) => self.working.sources.iter().any(|x| x.id == *id),
        }
    }

    /// Shift-click: adds an item to the selection, or takes it out.
    pub fn shift_click(&mut self, item: Item) {
        if self.selected.as_ref() == Some(&item) {
            self.selected = self.extra.first().cloned();
            if !self.extra.is_empty() {
                self.extra.remove(0);
            }
        } else if let Some(k) = self.extra.iter().position(|x| *x == item) {
            self.extra.remove(k);
        } else if self.selected.is_none() {
            self.selected = Some(item);
        } else {
            self.extra.push(item);
        }
        self.field_error = None;
    }

    /// Selects every node and source.
    pub fn select_all(&mut self) {
        let all = self.items();
        self.selected = all.first().cloned();
        self.extra = all.into_iter().skip(1).collect();
    }

    /// Empties the selection (and stops connecting).
    pub fn clear_selection(&mut self, s: &mut Sandbox) {
        self.selected = None;
        self.extra.clear();
        self.connecting = None;
        s.selected = None;
        self.last_selected = None;
    }

    /// Every source, then every node, in the topology's order.
    pub fn items(&self) -> Vec<Item> {
        self.working
            .sources
            .iter()
            .map(|x| Item::Source(x.id.clone()))
            .chain(
                self.working
                    .nodes
                    .iter()
                    .map(|n| Item::Node(n.id().to_string())),
            )
            .collect()
    }

    /// Box select: the items whose centres lie between two corners (canvas
    /// units, any order); with `add`, added to the selection. Returns how
    /// many were selected.
    pub fn select_in(&mut self, a: [f32; 2], b: [f32; 2], add: bool) -> usize {
        let (x0, x1) = (a[0].min(b[0]), a[0].max(b[0]));
        let (y0, y1) = (a[1].min(b[1]), a[1].max(b[1]));
        let inside: Vec<Item> = self
            .items()
            .into_iter()
            .filter(|it| {
                self.pos
                    .get(it.id())
                    .is_some_and(|p| (x0..=x1).contains(&p[0]) && (y0..=y1).contains(&p[1]))
            })
            .collect();
        if !add {
            self.selected = None;
            self.extra.clear();
        }
        for it in &inside {
            if !self.is_selected(it) {
                if self.selected.is_none() {
                    self.selected = Some(it.clone());
                } else {
                    self.extra.push(it.clone());
                }
            }
        }
        inside.len()
    }

    /// Moves every selected box by `d` (canvas units), kept on the canvas,
    /// in the builder and in the running graph alike.
    pub fn move_selection(&mut self, s: &mut Sandbox, d: [f32; 2]) {
        for it in self.selection() {
            let Some(p) = self.pos.get_mut(it.id()) else {
                continue;
            };
            *p = [(p[0] + d[0]).clamp(0.0, 1.0), (p[1] + d[1]).clamp(0.0, 1.0)];
            let p = *p;
            let slot = match &it {
                Item::Source(id) => s
                    .layout
                    .sources
                    .iter()
                    .position(|(x, _)| x == id)
                    .map(Slot::Src),
                Item::Node(id) => s
                    .layout
                    .nodes
                    .iter()
                    .position(|(x, _)| x == id)
                    .map(Slot::Node),
            };
            if let Some(slot) = slot {
                s.layout.set(slot, p);
            }
        }
    }

    /// Deletes the whole selection in one edit.
    pub fn delete_selection(&mut self, s: &mut Sandbox) -> Result<String, String> {
        let items = self.selection();
        self.delete_all(s, &items)
    }
}
