//! Placing, copying and deleting boxes: new nodes from the reference's
//! examples, sources, copies behind the same balancer, and where they go.

use super::fields::{self, Item};
use super::palette::Palette;
use super::{Builder, column, fresh};
use crate::sandbox::Sandbox;
use bottleneck::kind::{FieldType, Kind};
use bottleneck::topology::{Node, Topology};
use serde_json::Value;

impl Builder {
    /// A free spot on the canvas for a new box, in the column of its kind
    /// of work (sources left, storage right). Boxes have a fixed size on
    /// screen, wider than a column on a narrow canvas, so odd columns start
    /// a row lower: neighbouring columns never share a row and never overlap.
    fn free_spot(&self, column: usize) -> [f32; 2] {
        let x = 0.06 + 0.88 * (column as f32 / 4.0);
        let y0 = if column % 2 == 1 { 0.25 } else { 0.1 };
        // Every other row of the column first; when those are taken, any.
        self.free_in_rows(x, y0, 0.3)
            .unwrap_or_else(|| self.free_at(x, 0.1))
    }

    /// The first free spot at `x`, from `y0` down.
    fn free_at(&self, x: f32, y0: f32) -> [f32; 2] {
        self.free_in_rows(x, y0, 0.15).unwrap_or([x, 0.5])
    }

    /// The first free spot at `x` among the rows `y0`, `y0 + step`, ...
    fn free_in_rows(&self, x: f32, y0: f32, step: f32) -> Option<[f32; 2]> {
        // A node is 160 by 58 points: on the narrowest canvas (625 by 600
        // points) about 0.26 of its width and 0.1 of its height, so a box
        // in a neighbouring column (0.22 away) overlaps one in the same row.
        (0..7)
            .map(|k| y0 + step * k as f32)
            .take_while(|y| *y <= 0.98)
            .find(|y| {
                !self
                    .live_positions()
                    .any(|p| (p[0] - x).abs() < 0.27 && (p[1] - y).abs() < 0.13)
            })
            .map(|y| [x, y])
    }

    /// Positions of the boxes that exist (deleted ones keep theirs for an
    /// undo).
    pub(crate) fn live_positions(&self) -> impl Iterator<Item = [f32; 2]> + '_ {
        let ids = self
            .working
            .sources
            .iter()
            .map(|x| x.id.as_str())
            .chain(self.working.nodes.iter().map(|n| n.id()));
        ids.filter_map(|id| self.pos.get(id).copied())
    }

    /// Places a new node of `kind` at a free spot (or at `at`), with the
    /// settings of the kind's example in the reference; its connections
    /// are left to the learner (a required one points at the first node
    /// that fits, or is empty). Returns the new node's id.
    pub fn place(
        &mut self,
        s: &mut Sandbox,
        kind: Kind,
        at: Option<[f32; 2]>,
    ) -> Result<String, String> {
        self.sync(s);
        let doc = bottleneck::kinds::doc(kind);
        let example: Node = bottleneck::topology::ron_options()
            .from_str(doc.example)
            .map_err(|e| format!("the reference's example of {kind} does not parse: {e}"))?;
        let (_, mut m) = fields::node_value(&example);
        let base = example.id().to_string();
        let id = fresh(&self.working, &base);
        let item = Item::Node(id.clone());
        for f in doc.fields {
            let v = m.get(f.name).cloned().unwrap_or(Value::Null);
            let nv = match f.ty {
                FieldType::Id => Value::from(id.clone()),
                FieldType::Node(kinds) => {
                    // A required link gets the first node that fits; an
                    // optional one (a read-through cache's backend) is
                    // left for the learner to wire.
                    let pick = fields::first_of(&self.working, kinds, &id);
                    match (pick, f.default) {
                        (_, Some(_)) => Value::Null,
                        (Some(p), None) => Value::from(p),
                        (None, None) => Value::from(""),
                    }
                }
                FieldType::Nodes(_) => Value::Array(Vec::new()),
                FieldType::Nested("handlers") => Value::Null,
                FieldType::Nested(name) if !v.is_null() && f.default.is_some() => {
                    // An optional part that names other nodes (a pool, a
                    // failover, routes) is left for the learner.
                    let names_nodes = doc
                        .nested
                        .iter()
                        .chain(bottleneck::topology::CLIENT_NESTED)
                        .find(|(n, _)| *n == name)
                        .map_or(&[][..], |(_, f)| *f)
                        .iter()
                        .any(|x| matches!(x.ty, FieldType::Node(_) | FieldType::Nodes(_)));
                    if names_nodes || name == "Route" {
                        Value::Null
                    } else {
                        v
                    }
                }
                FieldType::Count { .. } if f.name == "instances" => Value::Null,
                _ => v,
            };
            m.insert(f.name.to_string(), nv);
        }
        let node = self.given_physics(fields::node_from(kind, m)?);
        let mut t = self.working.clone();
        t.nodes.push(node);
        let p = at.unwrap_or_else(|| self.free_spot(column(kind)));
        self.pos.insert(id.clone(), p);
        self.selected = Some(item);
        self.extra.clear();
        let r = self.commit(s, t, format!("placed {kind} `{id}`"), false, None);
        self.report(r.clone());
        r.map(|_| id)
    }

    /// Adds a source sending 100 requests a second to the selected node
    /// (or the first node nothing sends to), as web traffic usually is:
    /// 95% reads and 5% writes, keys Zipf-skewed (s = 0.99) over a million
    /// (so a cache placed later has something to hit). Every value is
    /// editable in the Properties panel. Returns its id.
    pub fn add_source(&mut self, s: &mut Sandbox) -> Result<String, String> {
        self.add_source_at(s, None)
    }

    /// [`Builder::add_source`], at `at` (canvas units) or a free spot.
    pub fn add_source_at(
        &mut self,
        s: &mut Sandbox,
        at: Option<[f32; 2]>,
    ) -> Result<String, String> {
        self.sync(s);
        let id = fresh(&self.working, "users");
        let targets: Vec<String> = fields::edges(&self.working)
            .into_iter()
            .map(|(_, to)| to)
            .collect();
        let to = match &self.selected {
            Some(Item::Node(n)) => Some(n.clone()),
            _ => None,
        }
        .or_else(|| {
            // The entry: the most upstream kind nothing sends to yet.
            self.working
                .nodes
                .iter()
                .filter(|n| !targets.iter().any(|t| t == n.id()))
                .min_by_key(|n| column(n.kind_of()))
                .map(|n| n.id().to_string())
        })
        .unwrap_or_default();
        let src: bottleneck::topology::Source = serde_json::from_value(serde_json::json!({
            "id": id, "to": to, "arrivals": {"Poisson": {"rps": 100.0}},
            "mix": {"read": 0.95, "write": 0.05},
            "keys": {"Zipf": {"keys": 1_000_000, "s": 0.99}}
        }))
        .map_err(|e| e.to_string())?;
        let mut t = self.working.clone();
        t.sources.push(src);
        let p = at.unwrap_or_else(|| self.free_spot(0));
        self.pos.insert(id.clone(), p);
        self.selected = Some(Item::Source(id.clone()));
        self.extra.clear();
        let r = self.commit(s, t, format!("added source `{id}`"), false, None);
        self.report(r.clone());
        r.map(|_| id)
    }

    /// A copy of a node with a fresh id, calling what it calls, and added
    /// wherever a list names the original (behind the same balancer).
    pub fn duplicate(&mut self, s: &mut Sandbox, id: &str) -> Result<String, String> {
        self.sync(s);
        let at = self
            .working
            .nodes
            .iter()
            .position(|n| n.id() == id)
            .ok_or_else(|| format!("no node `{id}`"))?;
        let (kind, mut m) = fields::node_value(&self.working.nodes[at]);
        let base = id.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
        let base = if base.is_empty() { id } else { base };
        let copies = self
            .working
            .nodes
            .iter()
            .filter(|n| n.id().starts_with(base))
            .count();
        let new_id = fresh(&self.working, &format!("{base}-{}", copies + 1));
        m.insert("id".into(), Value::from(new_id.clone()));
        let mut t = self.working.clone();
        t.nodes.insert(at + 1, fields::node_from(kind, m)?);
        for k in 0..t.nodes.len() {
            if t.nodes[k].id() == new_id {
                continue;
            }
            let (kk, mut other) = fields::node_value(&t.nodes[k]);
            let mut changed = false;
            for v in other.values_mut() {
                if let Value::Array(a) = v
                    && a.iter().any(|x| x.as_str() == Some(id))
                {
                    a.push(Value::from(new_id.clone()));
                    changed = true;
                }
            }
            if changed {
                t.nodes[k] = fields::node_from(kk, other)?;
            }
        }
        let p = self.pos.get(id).copied().unwrap_or([0.5, 0.5]);
        let p = self.free_at(p[0], p[1]);
        self.pos.insert(new_id.clone(), p);
        self.selected = Some(Item::Node(new_id.clone()));
        self.extra.clear();
        let r = self.commit(s, t, format!("copied `{id}` as `{new_id}`"), false, None);
        self.report(r.clone());
        r.map(|_| new_id)
    }

    /// Deletes a node (and every connection to it) or a source.
    pub fn delete(&mut self, s: &mut Sandbox, item: &Item) -> Result<String, String> {
        self.delete_all(s, std::slice::from_ref(item))
    }

    /// Deletes several items in one edit (one undo brings them all back).
    pub fn delete_all(&mut self, s: &mut Sandbox, items: &[Item]) -> Result<String, String> {
        self.sync(s);
        if items.is_empty() {
            return Err("nothing is selected to delete".into());
        }
        let mut t = self.working.clone();
        for item in items {
            self.remove(&mut t, item)?;
        }
        if self.selected.as_ref().is_some_and(|x| items.contains(x)) {
            self.selected = None;
            s.selected = None;
            self.last_selected = None;
        }
        self.extra.retain(|x| !items.contains(x));
        let names: Vec<String> = items.iter().map(|i| format!("`{}`", i.id())).collect();
        // Positions stay, so that an undo puts the boxes back where they were.
        self.commit(s, t, format!("deleted {}", names.join(", ")), false, None)
    }

    /// Takes an item and every reference to it out of `t`.
    fn remove(&self, t: &mut Topology, item: &Item) -> Result<(), String> {
        match item {
            Item::Source(id) => {
                if !t.sources.iter().any(|x| x.id == *id) {
                    return Err(format!("no source `{id}`"));
                }
                t.sources.retain(|x| x.id != *id);
                for r in t.regions.iter_mut() {
                    r.sources.retain(|x| x != id);
                }
            }
            Item::Node(id) => {
                if !t.nodes.iter().any(|n| n.id() == id) {
                    return Err(format!("no node `{id}`"));
                }
                t.nodes.retain(|n| n.id() != id);
                for k in 0..t.nodes.len() {
                    let other = Item::Node(t.nodes[k].id().to_string());
                    let (kind, mut m) = fields::node_value(&t.nodes[k]);
                    self.unlink(&other, &mut m, id);
                    t.nodes[k] = fields::node_from(kind, m)?;
                }
                for src in t.sources.iter_mut() {
                    if src.to == *id {
                        src.to = String::new();
                    }
                }
                for r in t.regions.iter_mut() {
                    r.nodes.retain(|x| x != id);
                }
            }
        }
        Ok(())
    }

    /// What the palette drops at `at` (canvas units): a node of a kind, or
    /// a source. Dragging from the palette ends here; a click places at a
    /// free spot instead. Returns the new box's id.
    pub fn drop_at(
        &mut self,
        s: &mut Sandbox,
        what: Palette,
        at: [f32; 2],
    ) -> Result<String, String> {
        let at = [at[0].clamp(0.0, 1.0), at[1].clamp(0.0, 1.0)];
        match what {
            Palette::Node(kind) => self.place(s, kind, Some(at)),
            Palette::Source => self.add_source_at(s, Some(at)),
        }
    }
}
