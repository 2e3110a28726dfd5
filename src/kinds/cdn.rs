//! CDN edge: answers cacheable requests from its own cache and fetches
//! misses from the origin (then keeps them for `ttl`); other classes pass
//! through to the origin. The edge holds no server while the origin works.
//! When the edge is down, traffic fails over to the origin directly.

use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::dist::Dist;
use crate::kind::Eviction;
use crate::kind::{FieldType, field};
use crate::kinds::KindModel;
use crate::kinds::KindState;
use crate::kinds::MemoryCx;
use crate::kinds::Node;
use crate::kinds::app::StepModel;
use crate::kinds::cache::store::{Lookup, Store};
use crate::kinds::database::direct::Nature;
use crate::model::Model;
use crate::model::{NodeModel, RouteModel};
use crate::sim::{Fault, Simulation, op, outcome};
use crate::time::Duration;
use crate::topology::check::{CompileCx, NodeCheck};
use crate::topology::limits::*;
use serde::{Deserialize, Serialize};

/// A CDN edge: answers cacheable requests from its own cache and fetches
/// misses from the origin (then keeps them for `ttl`). Other classes pass
/// through to the origin. When the CDN is down, traffic fails over to the
/// origin directly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cdn {
    /// Unique id.
    pub id: String,
    /// Where misses and uncacheable requests go.
    pub origin: String,
    /// Objects the edge can hold.
    pub capacity: u64,
    /// How long an object is kept; absent: until evicted.
    #[serde(default)]
    pub ttl: Option<Duration>,
    /// Classes that can be cached; absent: every class that does not
    /// write. A class that writes may not be named: a CDN never answers a
    /// write from its cache.
    #[serde(default)]
    pub cacheable: Option<Vec<String>>,
    /// Time the edge takes per request (a hit's whole latency).
    pub service: Dist,
    /// Requests the edge serves at once (default 100,000: effectively unlimited).
    #[serde(default)]
    pub servers: Option<u64>,
}

/// A CDN edge, compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct CdnModel {
    /// Origin node.
    pub origin: u32,
    /// Objects held at most.
    pub capacity: u64,
    /// TTL in ns (`u64::MAX`: none).
    pub ttl: u64,
    /// Per class index: may it be cached?
    pub cacheable: Vec<bool>,
}

impl Cdn {
    /// Checks the edge (origin, capacity, servers, TTL, classes).
    pub(crate) fn check(&self, nc: &NodeCheck, ds: &mut Diagnostics) {
        let c = self;

        nc.on_path(&c.origin, "origin", ds);
        if c.origin == c.id {
            ds.push(
                nc.err("the CDN is its own origin".into())
                    .hint("point `origin:` at the node that serves misses (an app, a station, an object store)"),
            );
        }
        nc.count("capacity", c.capacity, 0, 1_000_000_000, ds);
        nc.count("servers", c.servers.unwrap_or(100_000), 1, MAX_SERVERS, ds);
        if c.ttl.is_some_and(|t| t.0 == 0) {
            ds.push(
                nc.err("`ttl` is 0: nothing would ever be cached".into())
                    .hint("give a time to keep copies, e.g. `ttl: \"5m\"`, or leave it out to keep them until evicted"),
            );
        }
        for class in c.cacheable.iter().flatten() {
            if !nc.cx.has_class(class) {
                let d = nc.err(format!(
                    "`cacheable` names class `{class}`, which no source sends"
                ));
                ds.push(match nc.cx.closest_class(class) {
                    Some(x) => d.hint(format!("did you mean `{x}`?")),
                    None => d.hint(format!(
                        "the classes are: {}",
                        crate::diag::list_names(nc.cx.classes)
                    )),
                });
            }
        }
        nc.dist("service", &c.service, ds);
    }

    /// The edge in the model's form.
    pub(crate) fn compile(&self, cx: &CompileCx) -> NodeModel {
        let cacheable = cx
            .classes
            .iter()
            .map(|k| self.cacheable.as_ref().is_none_or(|list| list.contains(k)))
            .collect();
        let origin = cx.ix(&self.origin);
        let mut m = NodeModel::new(
            &self.id,
            KindModel::Cdn(CdnModel {
                origin,
                capacity: self.capacity,
                ttl: self.ttl.map_or(u64::MAX, |t| t.0),
                cacheable,
            }),
            self.servers.unwrap_or(100_000),
            None,
            self.service.sampler(),
        );
        m.flows = vec![RouteModel {
            to: origin as usize,
            p: 1.0,
        }];
        m
    }
}

/// Why requests of class `c` write, if they do: the first app handler for
/// it with a step that changes data (`Write`, `WriteThrough`, `Invalidate`,
/// `Publish`), else its name (`write…`, as a database tells a class that
/// reaches it as itself). `None`: the class only reads.
pub(crate) fn writes_because(model: &Model, c: usize) -> Option<String> {
    let id = |t: u32| model.nodes[t as usize].id.as_str();
    for n in &model.nodes {
        let KindModel::App(app) = &n.kind else {
            continue;
        };
        for s in app.handlers.get(c).into_iter().flatten() {
            let step = match *s {
                StepModel::Write(t) => format!("Write(db: \"{}\")", id(t)),
                StepModel::WriteThrough { cache, db } => {
                    format!("WriteThrough(cache: \"{}\", db: \"{}\")", id(cache), id(db))
                }
                StepModel::Invalidate(t) => format!("Invalidate(cache: \"{}\")", id(t)),
                StepModel::Publish(q) => format!("Publish(queue: \"{}\")", id(q)),
                _ => continue,
            };
            return Some(format!("app `{}` does `{step}` for it", n.id));
        }
    }
    (crate::kinds::database::direct::by_name(&model.classes[c]) == Nature::Write)
        .then(|| "its name says it writes".to_string())
}

/// A CDN never answers a write from its cache. An edge left at its default
/// `cacheable` caches every class that does not write
/// ([`writes_because`]); one whose `cacheable` names a class that writes
/// is refused, at the node's place.
pub(crate) fn settle(model: &mut Model, at: &dyn Fn(usize) -> Option<Pos>, ds: &mut Diagnostics) {
    if !model
        .nodes
        .iter()
        .any(|n| matches!(n.kind, KindModel::Cdn(_)))
    {
        return;
    }
    let why: Vec<Option<String>> = (0..model.classes.len())
        .map(|c| writes_because(model, c))
        .collect();
    for j in 0..model.nodes.len() {
        let Node::Cdn(cdn) = &model.topology.nodes[j] else {
            continue;
        };
        match &cdn.cacheable {
            None => {
                if let KindModel::Cdn(m) = &mut model.nodes[j].kind {
                    for (c, w) in why.iter().enumerate() {
                        if w.is_some() {
                            m.cacheable[c] = false;
                        }
                    }
                }
            }
            Some(list) => {
                for class in list {
                    let Some(Some(w)) = model
                        .classes
                        .iter()
                        .position(|k| k == class)
                        .map(|c| &why[c])
                    else {
                        continue;
                    };
                    ds.push(
                        Diagnostic::error(format!(
                            "`cacheable` names class `{class}`, which writes ({w}): a CDN never answers a write from its cache"
                        ))
                        .at(at(j))
                        .on(format!("node `{}`", cdn.id))
                        .hint(format!(
                            "leave `{class}` out of `cacheable` (it then goes through to the origin); left out, `cacheable` is every class that does not write"
                        )),
                    );
                }
            }
        }
    }
}

/// What each fault does to a CDN edge.
pub fn effect(fault: Fault) -> Result<&'static str, &'static str> {
    match fault {
        Fault::Down => {
            Ok("requests go straight to the origin (the edge is bypassed) until it is up")
        }
        Fault::Slow => {
            Ok("the edge's time per request (a hit's whole latency) is `factor` times as long")
        }
        Fault::Flush => Ok("every object is gone from the edge"),
        other => super::common_effect(other),
    }
}

/// A CDN edge's run-time state.
#[derive(Clone, Debug)]
pub struct CdnState {
    /// Objects held at the edge.
    pub store: Store,
    /// Origin node.
    pub origin: u32,
    ttl: u64,
    cacheable: Vec<bool>,
    /// Cacheable requests answered from the edge (after the warm-up).
    pub hits: u64,
    /// Cacheable requests fetched from the origin (after the warm-up).
    pub misses: u64,
    /// Requests sent straight to the origin while the edge was down.
    pub failovers: u64,
}

impl CdnState {
    /// The state an edge starts with (empty).
    pub(crate) fn of(m: &CdnModel) -> Self {
        CdnState::new(m.origin, m.capacity, m.ttl, m.cacheable.clone())
    }

    /// Takes its edited settings while running (a live edit), keeping what
    /// it holds: a smaller capacity evicts the least recently used objects
    /// until it fits; a new TTL applies to fills from now; a new origin
    /// takes misses from now (fetches under way still answer from the old
    /// one); a class made uncacheable passes through from now (its objects
    /// stay until evicted or expired).
    pub(crate) fn retune(&mut self, m: &CdnModel) {
        self.origin = m.origin;
        self.ttl = m.ttl;
        self.cacheable.clone_from(&m.cacheable);
        self.store.set_capacity(m.capacity as usize);
    }

    /// An empty edge.
    pub fn new(origin: u32, capacity: u64, ttl: u64, cacheable: Vec<bool>) -> Self {
        CdnState {
            store: Store::new(capacity as usize, Eviction::Lru),
            origin,
            ttl,
            cacheable,
            hits: 0,
            misses: 0,
            failovers: 0,
        }
    }
}

impl Simulation {
    /// The CDN edge `i` has served `req`: answer from the edge or go to the origin.
    pub(crate) fn cdn_served(&mut self, i: usize, req: u32) {
        let now = self.now;
        let r = self.reqs[req];
        let counted = self.counts(r.visit_arrival);
        let KindState::Cdn(c) = &mut self.nodes[i].kind else {
            unreachable!("cdn_served on a CDN")
        };
        let origin = c.origin;
        let hit = c.cacheable[r.class as usize] && {
            let found = c.store.get(r.key, now) == Lookup::Hit;
            if counted {
                if found { c.hits += 1 } else { c.misses += 1 }
            }
            found
        };
        // The edge does not hold a server while the origin works.
        self.release(i);
        if hit {
            self.record_visit(i, req, true);
            self.finish(req, outcome::OK);
        } else {
            // Still at the edge (its sojourn goes on): held without a server.
            self.hold(i, req);
            self.reqs[req].phase = 1;
            self.call(req, origin, op::CALL, false);
        }
    }

    /// The origin answered CDN edge `i` for `req`.
    pub(crate) fn cdn_resume(&mut self, i: usize, req: u32, result: u8) {
        let now = self.now;
        let r = self.reqs[req];
        if result == outcome::OK {
            if let KindState::Cdn(c) = &mut self.nodes[i].kind
                && c.cacheable[r.class as usize]
            {
                let exp = if c.ttl == u64::MAX {
                    u64::MAX
                } else {
                    now.saturating_add(c.ttl)
                };
                c.store.put(r.key, exp);
            }
            self.record_visit(i, req, true);
        } else {
            self.record_visit(i, req, false);
        }
        self.finish(req, result);
    }

    /// Traffic for a CDN edge that is down goes straight to the origin.
    pub(crate) fn cdn_failover(&mut self, i: usize, req: u32) {
        let counted = self.counts(self.reqs[req].visit_arrival);
        let KindState::Cdn(c) = &mut self.nodes[i].kind else {
            return;
        };
        if counted {
            c.failovers += 1;
        }
        let origin = c.origin;
        self.forward(i, origin as usize, req);
    }
}

impl CdnState {
    /// The edge's report section (a cache's, without coalescing).
    pub(crate) fn section(&self) -> crate::kinds::cache::CacheReport {
        crate::kinds::cache::CacheReport::new(
            self.hits,
            self.misses,
            0,
            0,
            self.store.evictions,
            self.store.len(),
        )
    }
}

/// How the reference and the sandbox describe this kind.
pub const DOC: crate::kinds::KindDoc = crate::kinds::KindDoc {
    about: "A CDN edge: answers cacheable requests from its own cache and fetches misses from the origin (then keeps them for `ttl`); other classes pass through to the origin. A CDN never answers a write from its cache: a class that writes (an app's handler for it does `Write`, `WriteThrough`, `Invalidate` or `Publish`, or its name starts with `write`) always goes through to the origin, is left out of the default `cacheable`, and may not be named in it. When the edge is down, traffic fails over to the origin directly.",
    fields: &[
        field("id", FieldType::Id, "", None, "Unique id."),
        field(
            "origin",
            FieldType::Node(&[]),
            "",
            None,
            "Where misses and uncacheable requests go.",
        ),
        field(
            "capacity",
            FieldType::Count {
                min: 0,
                max: 1_000_000_000,
            },
            "objects",
            None,
            "Objects the edge can hold.",
        ),
        field(
            "ttl",
            FieldType::Duration,
            "",
            Some("none (until evicted)"),
            "How long an object is kept.",
        ),
        field(
            "cacheable",
            FieldType::Classes,
            "",
            Some("every class that does not write"),
            "Classes that can be cached (never one that writes).",
        ),
        field(
            "service",
            FieldType::Dist,
            "",
            None,
            "Time the edge takes per request (a hit's whole latency).",
        ),
        field(
            "servers",
            FieldType::Count {
                min: 1,
                max: 1_000_000,
            },
            "servers",
            Some("100000"),
            "Requests the edge serves at once.",
        ),
    ],
    nested: &[],
    example: "Cdn(id: \"cdn\", origin: \"lb\", capacity: 100_000, ttl: \"10m\", cacheable: [\"static\"], service: Constant(\"5ms\"))",
};

impl CdnModel {
    /// The most objects the edge holds over a run, for the memory estimate.
    pub(crate) fn memory(&self, cx: &MemoryCx) -> (String, f64) {
        crate::kinds::cache::store::memory("CDN", "objects", self.capacity, 0, cx)
    }
}
