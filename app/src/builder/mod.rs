//! The builder: place, wire, configure and delete every kind of node and
//! source, with undo and redo, while the simulation runs.
//!
//! The builder keeps the *working* topology: what the learner sees and edits.
//! Every edit is a function from it to a new one, checked by the engine's
//! loader (the same words as the CLI):
//! - connections and property edits that would add a loader error are
//!   refused with that error;
//! - placing, deleting and disconnecting may leave a topology that does not
//!   load yet (a balancer with no backends, a blank canvas): it is kept as a
//!   draft, drawn with the loader's problems, and the simulation pauses on
//!   the last topology that ran until the draft loads.
//!
//! When the working topology loads, the simulation follows it: an edit the
//! engine applies live (`servers`, an app's `workers` and `instances`: a
//! `sim::Change`) keeps the clock and every node's state; any other edit
//! restarts the simulation with the edited topology at the same traffic
//! (the session then starts there: it is saved and replayed as that
//! topology plus the changes applied since).
//!
//! These functions are what the interface calls, and what the tests drive.

pub mod canvas;
pub mod fields;
pub mod panel;

use crate::content::Stage;
use crate::layout::Slot;
use crate::sandbox::Sandbox;
use bottleneck::kind::{Field, FieldType, Kind};
use bottleneck::sim::Change;
use bottleneck::topology::{Node, Topology};
pub use fields::Item;
use fields::{Editor, TextType};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One step back in the history: the working topology before an edit, and
/// for a live edit the changes that undo and redo it.
#[derive(Clone, Debug)]
struct Snapshot {
    working: Topology,
    live: Option<(Change, Change)>,
    what: String,
}

/// The builder's state.
pub struct Builder {
    /// The topology as edited (it may not load: see `problems`).
    pub working: Topology,
    /// The loader's errors for `working` (empty: it runs).
    pub problems: Vec<String>,
    /// The selected node or source.
    pub selected: Option<Item>,
    /// Connecting: the next node clicked becomes this one's target.
    pub connecting: Option<Item>,
    /// Wiring by dragging (right button) from this box.
    pub wiring: Option<Item>,
    /// Positions on the canvas, by id (0..1 both ways).
    pub pos: BTreeMap<String, [f32; 2]>,
    /// The last edit's outcome: (text, refused).
    pub message: Option<(String, bool)>,
    /// A refused property edit: (item, field path, the loader's words).
    pub field_error: Option<(Item, String, String)>,
    /// Text being typed into the property editor, by item and field.
    pub texts: BTreeMap<String, String>,
    history: Vec<Snapshot>,
    future: Vec<Snapshot>,
    /// The sandbox's topology when the builder last followed it.
    base: Option<Topology>,
    /// The simulation runs `working` (up to live changes).
    in_sync: bool,
    /// The simulation was paused by a draft.
    paused_by_draft: bool,
    /// Changes of the running simulation already folded into `working`.
    seen_changes: usize,
    last_selected: Option<usize>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            working: blank(),
            problems: Vec::new(),
            selected: None,
            connecting: None,
            wiring: None,
            pos: BTreeMap::new(),
            message: None,
            field_error: None,
            texts: BTreeMap::new(),
            history: Vec::new(),
            future: Vec::new(),
            base: None,
            in_sync: false,
            paused_by_draft: false,
            seen_changes: 0,
            last_selected: None,
        }
    }
}

/// A topology with nothing in it.
pub fn blank() -> Topology {
    Topology {
        name: "New topology".into(),
        description: None,
        sources: Vec::new(),
        nodes: Vec::new(),
        regions: Vec::new(),
        links: Vec::new(),
        layout: BTreeMap::new(),
    }
}

/// Loads a topology with the engine's loader: its model, or its errors in
/// the loader's words (message, then the hint).
pub fn check(t: &Topology) -> Result<bottleneck::topology::Loaded, Vec<String>> {
    let text = bottleneck::topology::to_ron(t);
    bottleneck::topology::load_str("topology.ron", &text).map_err(|d| {
        let mut out: Vec<String> = d
            .items
            .iter()
            .filter(|x| x.is_error())
            .map(|x| match (&x.item, &x.hint) {
                (Some(item), Some(h)) => format!("{} ({item}); hint: {h}", x.message),
                (None, Some(h)) => format!("{}; hint: {h}", x.message),
                (Some(item), None) => format!("{} ({item})", x.message),
                (None, None) => x.message.clone(),
            })
            .collect();
        if out.is_empty() {
            out.push(d.to_string());
        }
        out
    })
}

/// `base`, or `base-2`, `base-3`... whichever id is free.
pub fn fresh(t: &Topology, base: &str) -> String {
    let taken =
        |id: &str| t.nodes.iter().any(|n| n.id() == id) || t.sources.iter().any(|s| s.id == id);
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|k| format!("{base}-{k}"))
        .find(|id| !taken(id))
        .expect("some id is free")
}

fn kind_of(t: &Topology, id: &str) -> Option<Kind> {
    t.nodes.iter().find(|n| n.id() == id).map(Node::kind_of)
}

fn accepts(kinds: &[Kind], k: Kind) -> bool {
    kinds.is_empty() || kinds.contains(&k)
}

/// The descriptor of the field at `path` (through nested structs).
pub fn field_at(t: &Topology, item: &Item, path: &[String]) -> Option<Field> {
    let mut fields = fields::fields_of(t, item)?;
    let mut found = None;
    for (k, name) in path.iter().enumerate() {
        let f = *fields.iter().find(|f| f.name == name)?;
        found = Some(f);
        if k + 1 < path.len() {
            let FieldType::Nested(n) = f.ty else {
                return None;
            };
            fields = fields::nested_fields(t, item, n)?;
        }
    }
    found
}

/// `"client.retries.budget"` as a path.
pub fn path(p: &str) -> Vec<String> {
    p.split('.').map(str::to_string).collect()
}

impl Builder {
    /// A builder following the sandbox's topology.
    pub fn new(s: &Sandbox) -> Builder {
        let mut b = Builder::default();
        b.follow(s);
        b
    }

    /// True while the working topology does not load (nothing runs it).
    pub fn is_draft(&self) -> bool {
        !self.problems.is_empty()
    }

    /// Edits that can be undone / redone.
    pub fn can_undo(&self) -> bool {
        !self.history.is_empty()
    }

    /// See [`Builder::can_undo`].
    pub fn can_redo(&self) -> bool {
        !self.future.is_empty()
    }

    /// What the last undoable edit was.
    pub fn last_edit(&self) -> Option<&str> {
        self.history.last().map(|h| h.what.as_str())
    }

    fn follow(&mut self, s: &Sandbox) {
        self.working = s.topology.clone();
        self.base = Some(s.topology.clone());
        self.problems.clear();
        self.in_sync = true;
        self.history.clear();
        self.future.clear();
        self.selected = None;
        self.connecting = None;
        self.field_error = None;
        self.paused_by_draft = false;
        self.last_selected = s.selected;
        self.seen_changes = s.sim.changes().len();
        self.pos = s
            .layout
            .sources
            .iter()
            .chain(&s.layout.nodes)
            .map(|(id, p)| (id.clone(), *p))
            .collect();
    }

    /// Follows the sandbox: when something else replaced its topology
    /// (a stage, a file, the old palette), the builder starts over from it;
    /// a node clicked on the canvas becomes the selection (or the target
    /// of a connection being made). Called every frame and by every edit.
    pub fn sync(&mut self, s: &mut Sandbox) {
        if self.base.as_ref() != Some(&s.topology) {
            self.follow(s);
            return;
        }
        if !self.is_draft() {
            for (id, p) in s.layout.sources.iter().chain(&s.layout.nodes) {
                self.pos.insert(id.clone(), *p);
            }
            self.fold_changes(s);
        }
        if s.selected != self.last_selected {
            self.last_selected = s.selected;
            if let Some(i) = s.selected {
                let id = s.model.nodes[i].id.clone();
                self.click(s, Item::Node(id));
            }
        }
    }

    /// Capacity changed live by other controls (the inspector's servers
    /// and instances buttons) shows in the working topology too, so the
    /// next restart keeps it.
    fn fold_changes(&mut self, s: &Sandbox) {
        let changes = s.sim.changes();
        if changes.len() < self.seen_changes {
            self.seen_changes = 0;
        }
        for c in &changes[self.seen_changes..] {
            let (node, field, n) = match &c.change {
                Change::Servers { node, servers } => {
                    let field = if kind_of(&self.working, node) == Some(Kind::App) {
                        "workers"
                    } else {
                        "servers"
                    };
                    (node, field, *servers)
                }
                Change::Instances { node, count } => (node, "instances", *count),
                _ => continue,
            };
            let item = Item::Node(node.clone());
            if let Some(mut m) = fields::item_value(&self.working, &item)
                && fields::fields_of(&self.working, &item)
                    .is_some_and(|fs| fs.iter().any(|f| f.name == field))
            {
                m.insert(field.to_string(), Value::from(n));
                let mut t = self.working.clone();
                if fields::put_item(&mut t, &item, m).is_ok() {
                    self.working = t;
                }
            }
        }
        self.seen_changes = changes.len();
    }

    /// A click on an item: selects it, or finishes a connection.
    pub fn click(&mut self, s: &mut Sandbox, item: Item) {
        if let Some(from) = self.connecting.take()
            && from != item
            && let Item::Node(to) = &item
        {
            let r = self.connect(s, &from, to);
            self.report(r);
            return;
        }
        self.selected = Some(item);
        self.field_error = None;
    }

    /// Shows an edit's outcome in the palette bar.
    pub fn report(&mut self, r: Result<String, String>) {
        self.message = Some(match r {
            Ok(m) => (m, false),
            Err(e) => (e, true),
        });
    }

    /// Makes `new` the working topology. With `strict`, an edit that adds a
    /// loader error is refused with it. `live`: the changes that do and
    /// undo the edit in the running simulation, when the engine can.
    fn commit(
        &mut self,
        s: &mut Sandbox,
        new: Topology,
        what: String,
        strict: bool,
        live: Option<(Change, Change)>,
    ) -> Result<String, String> {
        if strict && let Err(errors) = check(&new) {
            let fresh: Vec<String> = errors
                .into_iter()
                .filter(|e| !self.problems.contains(e))
                .collect();
            if !fresh.is_empty() {
                return Err(fresh.join("\n"));
            }
        }
        self.history.push(Snapshot {
            working: std::mem::replace(&mut self.working, new),
            live: live.clone(),
            what: what.clone(),
        });
        self.future.clear();
        self.apply_working(s, &what, live.map(|(done, _)| done))
    }

    /// Brings the simulation to the working topology: live when it can,
    /// restarted when it must, paused while the topology does not load.
    fn apply_working(
        &mut self,
        s: &mut Sandbox,
        what: &str,
        live: Option<Change>,
    ) -> Result<String, String> {
        match check(&self.working) {
            Err(errors) => {
                self.problems = errors;
                self.in_sync = false;
                if !s.paused {
                    s.paused = true;
                    self.paused_by_draft = true;
                }
                Ok(format!(
                    "{what} (not running yet: {} to fix)",
                    plural(self.problems.len(), "problem")
                ))
            }
            Ok(_) => {
                self.problems.clear();
                if self.in_sync
                    && let Some(c) = live
                    && s.sim.apply(c).is_ok()
                {
                    s.status = Some((format!("{what}: applied live"), false));
                    return Ok(format!("{what}: applied live, the clock goes on"));
                }
                let keep = self.selected.clone();
                s.restructure(self.working.clone(), what)?;
                // The builder's own history undoes it.
                s.edits.pop();
                self.working = s.topology.clone();
                self.base = Some(s.topology.clone());
                self.seen_changes = s.sim.changes().len();
                self.in_sync = true;
                if self.paused_by_draft {
                    s.paused = false;
                    self.paused_by_draft = false;
                }
                self.place_boxes(s);
                if let Some(Item::Node(id)) = &keep {
                    s.selected = s.model.node_index(id);
                }
                self.last_selected = s.selected;
                self.selected = keep;
                Ok(format!("{what}: the simulation restarted with it"))
            }
        }
    }

    /// Puts the sandbox's boxes where the builder has them.
    fn place_boxes(&self, s: &mut Sandbox) {
        for i in 0..s.layout.sources.len() {
            if let Some(p) = self.pos.get(&s.layout.sources[i].0) {
                s.layout.set(Slot::Src(i), *p);
            }
        }
        for i in 0..s.layout.nodes.len() {
            if let Some(p) = self.pos.get(&s.layout.nodes[i].0) {
                s.layout.set(Slot::Node(i), *p);
            }
        }
    }

    /// A free spot on the canvas for a new box, in the column of its kind
    /// of work (sources left, storage right).
    fn free_spot(&self, column: usize) -> [f32; 2] {
        self.free_at(0.06 + 0.88 * (column as f32 / 4.0), 0.1)
    }

    /// The first free spot at `x`, from `y0` down.
    fn free_at(&self, x: f32, y0: f32) -> [f32; 2] {
        // Boxes are about 0.1 of the canvas wide and 0.1 high.
        for k in 0..7 {
            let y = y0 + 0.15 * k as f32;
            if y > 0.98 {
                break;
            }
            if !self
                .pos
                .values()
                .any(|p| (p[0] - x).abs() < 0.1 && (p[1] - y).abs() < 0.13)
            {
                return [x, y];
            }
        }
        [x, 0.5]
    }

    /// Undoes the last edit.
    pub fn undo(&mut self, s: &mut Sandbox) -> Result<String, String> {
        self.sync(s);
        let Some(snap) = self.history.pop() else {
            return Err("nothing to undo".into());
        };
        let what = format!("undo: {}", snap.what);
        self.field_error = None;
        self.future.push(Snapshot {
            working: std::mem::replace(&mut self.working, snap.working),
            live: snap.live.clone(),
            what: snap.what,
        });
        self.apply_working(s, &what, snap.live.map(|(_, undo)| undo))
    }

    /// Redoes the last undone edit.
    pub fn redo(&mut self, s: &mut Sandbox) -> Result<String, String> {
        self.sync(s);
        let Some(snap) = self.future.pop() else {
            return Err("nothing to redo".into());
        };
        let what = format!("redo: {}", snap.what);
        self.field_error = None;
        self.history.push(Snapshot {
            working: std::mem::replace(&mut self.working, snap.working),
            live: snap.live.clone(),
            what: snap.what,
        });
        self.apply_working(s, &what, snap.live.map(|(done, _)| done))
    }

    /// Starts over from a blank canvas (undoable).
    pub fn new_blank(&mut self, s: &mut Sandbox) -> Result<String, String> {
        self.sync(s);
        self.pos.clear();
        self.selected = None;
        s.title = blank().name;
        s.origin = "a blank canvas".into();
        self.commit(s, blank(), "new blank topology".into(), false, None)
    }

    /// Starts from a bundled stage (the journey's stage N, a wall, ...).
    pub fn start_from(&mut self, s: &mut Sandbox, stage: &Stage) -> Result<String, String> {
        let mut n = Sandbox::open(stage.file, stage.text, s.seed)?;
        n.title = format!("{} ({})", n.title, stage.title.trim_start_matches("... "));
        n.speed = s.speed;
        *s = n;
        self.follow(s);
        Ok(format!("started from {}", stage.title))
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
                    let pick = fields::first_of(&self.working, kinds, &id);
                    match (pick, f.default) {
                        (Some(p), _) => Value::from(p),
                        (None, Some(_)) => Value::Null,
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
        let node = fields::node_from(kind, m)?;
        let mut t = self.working.clone();
        t.nodes.push(node);
        let p = at.unwrap_or_else(|| self.free_spot(column(kind)));
        self.pos.insert(id.clone(), p);
        self.selected = Some(item);
        let r = self.commit(s, t, format!("placed {kind} `{id}`"), false, None);
        self.report(r.clone());
        r.map(|_| id)
    }

    /// Adds a source sending 100 requests a second to the selected node
    /// (or the first node nothing sends to). Returns its id.
    pub fn add_source(&mut self, s: &mut Sandbox) -> Result<String, String> {
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
            "id": id, "to": to, "arrivals": {"Poisson": {"rps": 100.0}}
        }))
        .map_err(|e| e.to_string())?;
        let mut t = self.working.clone();
        t.sources.push(src);
        let p = self.free_spot(0);
        self.pos.insert(id.clone(), p);
        self.selected = Some(Item::Source(id.clone()));
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
        let r = self.commit(s, t, format!("copied `{id}` as `{new_id}`"), false, None);
        self.report(r.clone());
        r.map(|_| new_id)
    }

    /// Connects `from` to node `to`: a source sends to it; a balancer,
    /// router, limiter, pooler, replica or CDN gets it in the field its
    /// kind's descriptor says takes that kind; an app calls it from its
    /// handlers (reads and writes for a database, cache-aside for a cache,
    /// publishes for a queue, a call otherwise). Refused, with the loader's
    /// words, when the result would not load.
    pub fn connect(&mut self, s: &mut Sandbox, from: &Item, to: &str) -> Result<String, String> {
        self.sync(s);
        let target = kind_of(&self.working, to).ok_or_else(|| format!("no node `{to}`"))?;
        let what = format!("connected `{}` to `{to}`", from.id());
        let mut m =
            fields::item_value(&self.working, from).ok_or_else(|| format!("no `{}`", from.id()))?;
        match from {
            Item::Source(_) => {
                m.insert("to".into(), Value::from(to));
            }
            Item::Node(id) if id == to => return Err(format!("`{id}` cannot call itself")),
            Item::Node(id) => {
                let kind = kind_of(&self.working, id).expect("exists");
                if kind == Kind::App {
                    self.wire_app(&mut m, to, target)?;
                } else {
                    let fs = bottleneck::kinds::doc(kind).fields;
                    let list = fs
                        .iter()
                        .find(|f| matches!(f.ty, FieldType::Nodes(k) if accepts(k, target)));
                    let one = fs
                        .iter()
                        .find(|f| matches!(f.ty, FieldType::Node(k) if accepts(k, target)));
                    // When no field takes that kind, the first that names
                    // nodes gets it and the loader says why not.
                    let any = fs
                        .iter()
                        .find(|f| matches!(f.ty, FieldType::Node(_) | FieldType::Nodes(_)));
                    match list.or(one).or(any) {
                        Some(f) if matches!(f.ty, FieldType::Nodes(_)) => {
                            let e = m
                                .entry(f.name.to_string())
                                .or_insert(Value::Array(Vec::new()));
                            if !e.is_array() {
                                *e = Value::Array(Vec::new());
                            }
                            let a = e.as_array_mut().expect("array");
                            if a.iter().any(|x| x.as_str() == Some(to)) {
                                return Err(format!("`{id}` already sends to `{to}`"));
                            }
                            a.push(Value::from(to));
                        }
                        Some(f) => {
                            m.insert(f.name.to_string(), Value::from(to));
                        }
                        None => {
                            return Err(format!(
                                "a {kind} sends nothing on: connect from the node that calls `{id}` instead"
                            ));
                        }
                    }
                }
            }
        }
        let mut t = self.working.clone();
        fields::put_item(&mut t, from, m)?;
        self.commit(s, t, what, true, None)
    }

    /// An app's handlers after connecting it to `to`.
    fn wire_app(&self, m: &mut Map<String, Value>, to: &str, target: Kind) -> Result<(), String> {
        let step = |name: &str, fields: Value| {
            let mut o = Map::new();
            o.insert(name.to_string(), fields);
            Value::Object(o)
        };
        let mut classes: Vec<String> = self
            .working
            .sources
            .iter()
            .filter_map(|s| s.mix.as_ref())
            .flat_map(|mix| mix.keys().cloned())
            .collect();
        classes.sort();
        classes.dedup();
        if classes.is_empty() {
            classes.push("*".into());
        }
        let handle = m
            .entry("handle".to_string())
            .or_insert(Value::Object(Map::new()));
        if handle.is_null() {
            *handle = Value::Object(Map::new());
        }
        let h = handle.as_object_mut().ok_or("the handlers are not a map")?;
        if h.is_empty() {
            for c in &classes {
                h.insert(c.clone(), Value::Array(Vec::new()));
            }
        }
        match target {
            Kind::Cache => {
                let mut reads = 0;
                for steps in h.values_mut() {
                    let Some(a) = steps.as_array_mut() else {
                        continue;
                    };
                    let mut out = Vec::new();
                    for st in a.drain(..) {
                        if let Some(db) = st.get("Read").and_then(|r| r.get("db")).cloned() {
                            out.push(step(
                                "CacheAside",
                                serde_json::json!({"cache": to, "db": db}),
                            ));
                            reads += 1;
                        } else if st.get("Write").is_some() {
                            out.push(st);
                            out.push(step("Invalidate", serde_json::json!({"cache": to})));
                            reads += 1;
                        } else {
                            out.push(st);
                        }
                    }
                    *a = out;
                }
                if reads == 0 {
                    return Err(
                        "this app reads no database yet: connect it to the database first, then to the cache (reads become cache-aside, writes invalidate)".into(),
                    );
                }
            }
            _ => {
                for (class, steps) in h.iter_mut() {
                    let s = match target {
                        Kind::Database | Kind::Replica | Kind::Pooler | Kind::ShardRouter => {
                            if class.contains("write") {
                                step("Write", serde_json::json!({"db": to}))
                            } else {
                                step("Read", serde_json::json!({"db": to}))
                            }
                        }
                        Kind::Queue => step("Publish", serde_json::json!({"queue": to})),
                        _ => step("Call", serde_json::json!({"to": to})),
                    };
                    if let Some(a) = steps.as_array_mut() {
                        a.push(s);
                    }
                }
            }
        }
        Ok(())
    }

    /// Drops every reference to `id` from an item's fields, the way its
    /// descriptors allow: list entries go, an optional part that names it
    /// goes, a required field is emptied (the loader then asks for it);
    /// an app's cache-aside reads become plain reads again.
    fn unlink(&self, item: &Item, m: &mut Map<String, Value>, id: &str) {
        let fs = fields::fields_of(&self.working, item).unwrap_or(&[]);
        for f in fs {
            if f.ty == FieldType::Id {
                continue;
            }
            let Some(v) = m.get_mut(f.name) else { continue };
            if f.ty == FieldType::Nested("handlers")
                && let Some(h) = v.as_object_mut()
            {
                for steps in h.values_mut() {
                    if let Some(a) = steps.as_array_mut() {
                        for st in a.iter_mut() {
                            let reverted = st
                                .get("CacheAside")
                                .filter(|c| c.get("cache").and_then(Value::as_str) == Some(id))
                                .map(|c| serde_json::json!({"Read": {"db": c["db"].clone()}}))
                                .or_else(|| {
                                    st.get("WriteThrough")
                                        .filter(|c| {
                                            c.get("cache").and_then(Value::as_str) == Some(id)
                                        })
                                        .map(|c| {
                                            serde_json::json!({"Write": {"db": c["db"].clone()}})
                                        })
                                });
                            if let Some(r) = reverted {
                                *st = r;
                            }
                        }
                    }
                }
                fields::drop_refs(v, id);
                continue;
            }
            if v.as_str() == Some(id) {
                *v = if f.default.is_some() {
                    Value::Null
                } else {
                    Value::from("")
                };
                continue;
            }
            if v.is_object() {
                let mut names = Vec::new();
                fields::strings(v, &mut names);
                if names.iter().any(|n| n == id) {
                    if f.default.is_some() {
                        *v = Value::Null;
                    } else {
                        fields::rename_refs(v, id, "");
                    }
                }
                continue;
            }
            fields::drop_refs(v, id);
        }
    }

    /// Removes the connection from `from` to node `to`.
    pub fn disconnect(&mut self, s: &mut Sandbox, from: &Item, to: &str) -> Result<String, String> {
        self.sync(s);
        if let Item::Source(_) = from {
            return Err(
                "a source always sends to one node: connect it to another node instead".into(),
            );
        }
        let mut m =
            fields::item_value(&self.working, from).ok_or_else(|| format!("no `{}`", from.id()))?;
        self.unlink(from, &mut m, to);
        let mut t = self.working.clone();
        fields::put_item(&mut t, from, m)?;
        if t == self.working {
            return Err(format!("`{}` does not send to `{to}`", from.id()));
        }
        self.commit(
            s,
            t,
            format!("disconnected `{}` from `{to}`", from.id()),
            false,
            None,
        )
    }

    /// Deletes a node (and every connection to it) or a source.
    pub fn delete(&mut self, s: &mut Sandbox, item: &Item) -> Result<String, String> {
        self.sync(s);
        let mut t = self.working.clone();
        match item {
            Item::Source(id) => {
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
        if t.sources.len() == self.working.sources.len()
            && t.nodes.len() == self.working.nodes.len()
        {
            return Err(format!("no source `{}`", item.id()));
        }
        self.pos.remove(item.id());
        if self.selected.as_ref() == Some(item) {
            self.selected = None;
            s.selected = None;
            self.last_selected = None;
        }
        self.commit(s, t, format!("deleted `{}`", item.id()), false, None)
    }

    /// Sets a field (`path` through nested structs) to a value in its serde
    /// form (`Null`: back to its default). Refused with the loader's words
    /// when the result would not load.
    pub fn set_value(
        &mut self,
        s: &mut Sandbox,
        item: &Item,
        path: &[String],
        v: Value,
    ) -> Result<String, String> {
        self.sync(s);
        if path == ["id"] {
            let to = v.as_str().unwrap_or_default().to_string();
            return self.rename(s, item, &to);
        }
        let mut m =
            fields::item_value(&self.working, item).ok_or_else(|| format!("no `{}`", item.id()))?;
        let old = fields::get(&m, path).clone();
        if old == v {
            return Ok("unchanged".into());
        }
        let t0 = self.working.clone();
        let make = |p: &[String]| match field_at(&t0, item, p).map(|f| f.ty) {
            Some(FieldType::Nested(name)) => fields::new_struct(&t0, item, name),
            _ => Value::Object(Map::new()),
        };
        fields::set(&mut m, path, v.clone(), &make)?;
        let mut t = self.working.clone();
        fields::put_item(&mut t, item, m)?;
        let shown = if v.is_null() {
            "default".to_string()
        } else {
            v.as_str().map_or_else(|| v.to_string(), str::to_string)
        };
        let what = format!("`{}`: {} = {shown}", item.id(), path.join("."));
        let live = self.live_change(item, path, &old, &v);
        let r = self.commit(s, t, what, true, live);
        self.field_error = match &r {
            Err(e) => Some((item.clone(), path.join("."), e.clone())),
            Ok(_) => None,
        };
        r
    }

    /// The changes that apply (and undo) a field edit live, if the engine
    /// has one: servers, an app's workers and instances.
    fn live_change(
        &self,
        item: &Item,
        path: &[String],
        old: &Value,
        new: &Value,
    ) -> Option<(Change, Change)> {
        let Item::Node(id) = item else { return None };
        let [name] = path else { return None };
        // An unset field is at its default (an app's one instance).
        let old = old.as_u64().or_else(|| {
            field_at(&self.working, item, path)?
                .default?
                .parse::<u64>()
                .ok()
        })?;
        let (old, new) = (u32::try_from(old).ok()?, u32::try_from(new.as_u64()?).ok()?);
        let kind = kind_of(&self.working, id)?;
        let servers = |n| Change::Servers {
            node: id.clone(),
            servers: n,
        };
        match (kind, name.as_str()) {
            (Kind::App, "instances") => Some((
                Change::Instances {
                    node: id.clone(),
                    count: new,
                },
                Change::Instances {
                    node: id.clone(),
                    count: old,
                },
            )),
            (Kind::App, "workers") => Some((servers(new), servers(old))),
            (Kind::App, _) => None,
            (_, "servers") => Some((servers(new), servers(old))),
            _ => None,
        }
    }

    /// Sets a field from text as a person types it: numbers, durations
    /// (`"250ms"`), `true`/`false`, words, ids, RON for distributions,
    /// handlers, mixes, keys and profiles; an empty text means the default.
    pub fn set_text(
        &mut self,
        s: &mut Sandbox,
        item: &Item,
        field: &str,
        text: &str,
    ) -> Result<String, String> {
        self.sync(s);
        let p = path(field);
        let f = field_at(&self.working, item, &p)
            .ok_or_else(|| format!("`{}` has no field `{field}`", item.id()))?;
        let text = text.trim();
        let v = self.parse_text(item, field, &f, text);
        let r = v.and_then(|v| self.set_value(s, item, &p, v));
        if let Err(e) = &r {
            self.field_error = Some((item.clone(), field.to_string(), e.clone()));
        }
        r
    }

    /// A field's value from text, by its editor.
    fn parse_text(&self, item: &Item, field: &str, f: &Field, text: &str) -> Result<Value, String> {
        Ok(if text.is_empty() {
            Value::Null
        } else {
            match fields::editor(&self.working, item, f) {
                Editor::Number { whole: true, .. } => Value::from(
                    text.replace('_', "")
                        .parse::<u64>()
                        .map_err(|_| format!("`{field}` takes a whole number, not `{text}`"))?,
                ),
                Editor::Number { .. } => Value::from(
                    text.replace('_', "")
                        .parse::<f64>()
                        .map_err(|_| format!("`{field}` takes a number, not `{text}`"))?,
                ),
                Editor::Bool => Value::Bool(
                    text.parse::<bool>()
                        .map_err(|_| format!("`{field}` takes true or false"))?,
                ),
                Editor::Duration => {
                    bottleneck::time::Duration::parse(text)?;
                    Value::from(text)
                }
                Editor::Choice(_) | Editor::Node(_) | Editor::Id => Value::from(text),
                Editor::Nodes(_) => fields::from_text(TextType::Words, text)?,
                Editor::Text(ty) => fields::from_text(ty, text)?,
                Editor::Struct(_) => {
                    return Err(format!("set the fields of `{field}` one by one"));
                }
            }
        })
    }

    /// Renames a node or source, and every reference to it.
    pub fn rename(&mut self, s: &mut Sandbox, item: &Item, to: &str) -> Result<String, String> {
        let from = item.id().to_string();
        if to == from {
            return Ok("unchanged".into());
        }
        if self.working.nodes.iter().any(|n| n.id() == to)
            || self.working.sources.iter().any(|x| x.id == to)
        {
            return Err(format!("`{to}` is taken"));
        }
        let mut t = self.working.clone();
        for k in 0..t.nodes.len() {
            let (kind, m) = fields::node_value(&t.nodes[k]);
            let mut v = Value::Object(m);
            fields::rename_refs(&mut v, &from, to);
            let Value::Object(m) = v else { unreachable!() };
            t.nodes[k] = fields::node_from(kind, m)?;
        }
        for src in t.sources.iter_mut() {
            if src.id == from || src.to == from {
                let mut v = Value::Object(fields::source_value(src));
                fields::rename_refs(&mut v, &from, to);
                let Value::Object(m) = v else { unreachable!() };
                *src = fields::source_from(m)?;
            }
        }
        for r in t.regions.iter_mut() {
            for x in r.nodes.iter_mut().chain(r.sources.iter_mut()) {
                if *x == from {
                    *x = to.to_string();
                }
            }
        }
        if let Some(p) = self.pos.remove(&from) {
            self.pos.insert(to.to_string(), p);
        }
        let r = self.commit(s, t, format!("renamed `{from}` to `{to}`"), true, None);
        if r.is_ok() {
            self.selected = Some(match item {
                Item::Node(_) => Item::Node(to.into()),
                Item::Source(_) => Item::Source(to.into()),
            });
        }
        r
    }

    /// Grades the working topology against a drill, as `bottleneck drill`.
    pub fn grade(
        &self,
        d: &crate::content::DrillFiles,
    ) -> Result<bottleneck::scenario::drill::Grade, String> {
        crate::content::grade(d, &self.working)
    }

    /// The current value of a field (its serde form), `Null` when unset.
    pub fn value(&self, item: &Item, field: &str) -> Value {
        fields::item_value(&self.working, item)
            .map(|m| fields::get(&m, &path(field)).clone())
            .unwrap_or(Value::Null)
    }
}

/// Where a kind goes on the canvas, left to right: 0 for sources, 1 for
/// the edge (CDN, limiter, balancer), 2 for compute, 3 for caches and
/// routers, 4 for storage.
fn column(kind: Kind) -> usize {
    match kind {
        Kind::Cdn | Kind::RateLimiter | Kind::LoadBalancer => 1,
        Kind::App | Kind::Station | Kind::Queue => 2,
        Kind::Cache | Kind::Pooler | Kind::ShardRouter => 3,
        Kind::Database | Kind::Replica | Kind::ObjectStore => 4,
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The cache-aside stage (a balancer, three apps, a cache, a database),
/// built from a blank canvas with the builder's edits, the way the README
/// walks through it. Returns the cache's id.
pub fn build_cache_aside(s: &mut Sandbox, b: &mut Builder) -> Result<String, String> {
    b.new_blank(s)?;
    let db = b.place(s, Kind::Database, None)?;
    let lb = b.place(s, Kind::LoadBalancer, None)?;
    let app = b.place(s, Kind::App, None)?;
    let users = Item::Source(b.add_source(s)?);
    b.connect(s, &users, &lb)?;
    b.set_text(s, &users, "mix", r#"{"read": 0.95, "write": 0.05}"#)?;
    b.set_text(s, &users, "keys", "Zipf(keys: 1_000_000, s: 0.99)")?;
    b.set_text(s, &users, "arrivals", "Poisson(rps: 4000)")?;
    b.connect(s, &Item::Node(lb.clone()), &app)?;
    b.connect(s, &Item::Node(app.clone()), &db)?;
    let app2 = b.duplicate(s, &app)?;
    let app3 = b.duplicate(s, &app)?;
    let cache = b.place(s, Kind::Cache, None)?;
    for a in [&app, &app2, &app3] {
        b.connect(s, &Item::Node(a.clone()), &cache)?;
    }
    b.set_text(s, &Item::Node(cache.clone()), "servers", "8")?;
    if b.is_draft() {
        return Err(b.problems.join("\n"));
    }
    Ok(cache)
}
