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
//! When the working topology loads, the simulation follows it, live: an
//! edit the engine takes as a `sim::Change` (`servers`, an app's `workers`
//! and `instances`) is applied as one; any other edit, of nodes, sources,
//! request classes or regions, is a structural edit (`Sandbox::restructure`,
//! `bottleneck::live`): the clock goes on and nodes and sources that stay
//! keep their state. The session records it and `check` replays it.
//!
//! These functions are what the interface calls, and what the tests drive.

pub mod arrange;
pub mod canvas;
pub mod fields;
pub mod palette;
pub mod panel;
mod place;
mod props;
pub mod regions;
pub mod select;
pub mod walk;
mod wire;

use crate::content::Stage;
use crate::layout::Slot;
use crate::sandbox::Sandbox;
use bottleneck::kind::{Field, FieldType, Kind};
use bottleneck::sim::Change;
use bottleneck::topology::{Node, Topology};
pub use fields::Item;
use serde_json::Value;
use std::collections::BTreeMap;
pub use walk::build_cache_aside;

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
    /// The selected node or source (its properties show).
    pub selected: Option<Item>,
    /// More of the selection (shift-click, box select): moved and deleted
    /// with `selected` (see [`select`]).
    pub extra: Vec<Item>,
    /// A palette entry being dragged onto the canvas.
    pub carrying: Option<palette::Palette>,
    /// Box selection: where the drag started, in canvas units.
    pub boxing: Option<[f32; 2]>,
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
    /// "New blank" was asked for: the first topology that loads starts a
    /// new run at 0 s, rather than editing the one that ran before.
    fresh: bool,
    /// Changes of the running simulation already folded into `working`.
    seen_changes: usize,
    last_selected: Option<usize>,
    /// The drill being worked on (an index into `content::DRILLS`) and
    /// what it gives: nodes placed meanwhile take its physics.
    drill: Option<(usize, Option<Given>)>,
}

/// What a drill gives a new node: its protection and its start topology
/// ([`bottleneck::scenario::drill::protect::with_given_physics`]).
#[derive(Clone, Debug)]
struct Given {
    protect: bottleneck::scenario::drill::Protect,
    start: Topology,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            working: blank(),
            problems: Vec::new(),
            selected: None,
            extra: Vec::new(),
            carrying: None,
            boxing: None,
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
            fresh: false,
            seen_changes: 0,
            last_selected: None,
            drill: None,
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
        self.extra.clear();
        self.connecting = None;
        self.field_error = None;
        self.paused_by_draft = false;
        self.fresh = false;
        self.last_selected = s.selected;
        // A node the sandbox has selected stays selected here too.
        self.selected = s
            .selected
            .and_then(|i| s.model.nodes.get(i))
            .map(|n| Item::Node(n.id.clone()));
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
        self.extra.clear();
        self.field_error = None;
    }

    /// A click on a box of the canvas: [`Builder::click`], and a node of
    /// the running simulation becomes the inspector's too.
    pub fn click_box(&mut self, s: &mut Sandbox, item: Item) {
        let connecting = self.connecting.is_some();
        self.click(s, item.clone());
        if !connecting {
            s.selected = match &item {
                Item::Node(id) => s.model.node_index(id),
                Item::Source(_) => None,
            };
            self.last_selected = s.selected;
        }
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
                if self.fresh {
                    return self.start_fresh(s, what);
                }
                if self.in_sync
                    && let Some(c) = live
                    && s.sim.apply(c).is_ok()
                {
                    s.status = Some((format!("{what}: applied live"), false));
                    return Ok(format!("{what}: applied live, the clock goes on"));
                }
                s.restructure(self.working.clone(), what)?;
                // The builder's own history undoes it.
                s.edits.pop();
                self.now_running(s);
                Ok(format!("{what}: applied live, the clock goes on"))
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

    /// Starts over from a blank canvas (undoable). Nothing of the run
    /// before carries over: the first topology built here that loads
    /// starts a new run at 0 s, with its own timeline (undoing back to the
    /// topology that was running before, while nothing new has loaded,
    /// simply resumes it).
    pub fn new_blank(&mut self, s: &mut Sandbox) -> Result<String, String> {
        self.sync(s);
        self.pos.clear();
        self.selected = None;
        self.fresh = true;
        s.title = blank().name;
        s.origin = "a blank canvas".into();
        self.commit(s, blank(), "new blank topology".into(), false, None)
    }

    /// The simulation now runs the working topology: follow it (its
    /// topology, changes and boxes), resume a run a draft paused, and keep
    /// the selection on the running node.
    fn now_running(&mut self, s: &mut Sandbox) {
        self.working = s.topology.clone();
        self.base = Some(s.topology.clone());
        self.seen_changes = s.sim.changes().len();
        self.in_sync = true;
        if self.paused_by_draft {
            s.paused = false;
            self.paused_by_draft = false;
        }
        self.place_boxes(s);
        if let Some(Item::Node(id)) = &self.selected {
            s.selected = s.model.node_index(id);
        }
        self.last_selected = s.selected;
    }

    /// The first topology that loads after "New blank": a new run of it
    /// from 0 s (or, when it is what ran before, that run resumed).
    fn start_fresh(&mut self, s: &mut Sandbox, what: &str) -> Result<String, String> {
        self.fresh = false;
        let resumed = self.working == s.topology;
        if !resumed {
            let text = bottleneck::topology::to_ron(&self.working);
            let mut n = Sandbox::open(&s.origin, &text, s.seed)?;
            n.title = std::mem::take(&mut s.title);
            n.speed = s.speed;
            n.paused = s.paused && !self.paused_by_draft;
            *s = n;
        }
        self.now_running(s);
        Ok(if resumed {
            format!("{what}: the run before goes on")
        } else {
            format!("{what}: it loads, and a new run starts at 0s")
        })
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
    /// Works on drill `k` (an index into `content::DRILLS`; `None`: no
    /// drill): while it lasts, a placed node takes the physics the drill
    /// gives its kind (a new cache serves at the drill's cache speed), so
    /// that grading does not refuse it for changing them.
    pub fn work_on(&mut self, k: Option<usize>) {
        if self.drill.as_ref().map(|d| d.0) == k {
            return;
        }
        self.drill = k.map(|k| {
            let d = &crate::content::DRILLS[k];
            let given = bottleneck::scenario::drill::parse_drill("drill.ron", d.drill)
                .ok()
                .zip(bottleneck::topology::parse("start.ron", d.start).ok())
                .map(|(m, start)| Given {
                    protect: m.protect,
                    start,
                });
            (k, given)
        });
    }

    /// A node about to be placed, with the physics of the drill being
    /// worked on (unchanged when there is none).
    pub(crate) fn given_physics(
        &self,
        node: bottleneck::topology::Node,
    ) -> bottleneck::topology::Node {
        match &self.drill {
            Some((_, Some(g))) => {
                bottleneck::scenario::drill::protect::with_given_physics(&g.protect, &g.start, node)
            }
            _ => node,
        }
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
