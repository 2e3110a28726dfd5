//! App: an application server. A worker does the request's own work
//! (`service`), then runs the handler of its class step by step, holding
//! the worker while each call is out; a failed call fails the request (and
//! its caller sees the failure).
//!
//! An app has `instances` of `workers` each. Calls to its pool's target take
//! a connection from the pool (`size` per instance) and wait for one when
//! all are in use (`pool.rs`). The autoscaler (`autoscale.rs`) looks every
//! `every` at the utilization since its last look and asks for
//! `ceil(instances x utilization / target)` instances: new ones arrive after
//! `provision`, surplus ones leave at once (not within `cooldown` of a
//! scale-up); more instances mean more pool connections, so the database's
//! connection limit is where autoscaling walls. A call policy (`calls.rs`)
//! puts timeouts, retries and a breaker per target on the handler's calls;
//! `run.rs` interprets the handlers; `fanout.rs` does scatter-gather with
//! hedging.

mod autoscale;
mod calls;
mod doc;
mod fanout;
mod pool;
mod report;
mod retune;
mod run;
mod steps;

pub use autoscale::AutoscaleState;
pub use calls::CallsState;
pub use doc::DOC;
pub(crate) use fanout::FanOutSlot;
pub use pool::PoolState;
pub use report::AppReport;
use steps::READ_TARGETS;
pub use steps::{Step, StepModel};

use crate::diag::Diagnostics;
use crate::dist::Dist;
use crate::kinds::{KindModel, KindState};
use crate::model::{ClientModel, NodeModel, RouteModel};
use crate::rng::{Purpose, Stream};
use crate::sim::{Event, Fault, Simulation};
use crate::time::Duration;
use crate::topology::check::{CompileCx, NodeCheck};
use crate::topology::limits::*;
use crate::topology::{Breaker, Retries};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An application server with a pool of workers. A worker takes a request,
/// does `service` worth of work, then runs the handler of the request's
/// class, holding the worker while it waits for each call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Unique id.
    pub id: String,
    /// Instances (servers) of the app (default 1).
    #[serde(default)]
    pub instances: Option<u64>,
    /// Concurrent requests per instance (threads, workers).
    pub workers: u64,
    /// Waiting places per instance; absent is unbounded.
    #[serde(default)]
    pub queue: Option<u64>,
    /// The server's own work per request.
    pub service: Dist,
    /// Steps per request class; `"*"` applies to classes not listed.
    #[serde(default)]
    pub handle: BTreeMap<String, Vec<Step>>,
    /// A connection pool per instance for calls to one node (a database or
    /// a pooler): a call waits for a free connection.
    #[serde(default)]
    pub pool: Option<Pool>,
    /// Add and remove instances to hold a target utilization.
    #[serde(default)]
    pub autoscale: Option<Autoscale>,
    /// Load-dependent latency (GC pressure, contention): service times are
    /// multiplied by `1 + load_factor x utilization^2`.
    #[serde(default)]
    pub load_factor: Option<f64>,
    /// Load-dependent latency: service times multiplied by a curve of the
    /// utilization (absent: none).
    #[serde(default)]
    pub load: Option<crate::kind::LoadCurve>,
    /// How the app calls others: a timeout per call, retries of failed
    /// calls, and a circuit breaker per target.
    #[serde(default)]
    pub calls: Option<CallPolicy>,
}

/// An app's policy for the calls its handler makes. Retries apply to single
/// calls (`Call`, `Read`, `Write`, `Invalidate`, `ReadFresh`); timeouts and
/// breakers to every call, cache-aside's included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallPolicy {
    /// Give up on a call after this long (the worker moves on; the callee
    /// keeps working).
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// Retry a failed or timed-out call.
    #[serde(default)]
    pub retries: Option<Retries>,
    /// A breaker per target node.
    #[serde(default)]
    pub breaker: Option<Breaker>,
}

/// A connection pool per app instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    /// The node whose calls use the pool.
    pub to: String,
    /// Connections per instance.
    pub size: u64,
}

/// Autoscaling of an app's instances.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Autoscale {
    /// Utilization to hold, e.g. 0.6.
    pub target: f64,
    /// Fewest instances.
    pub min: u64,
    /// Most instances.
    pub max: u64,
    /// How often it looks (default 15 s).
    #[serde(default)]
    pub every: Option<Duration>,
    /// Time for a new instance to start (default 60 s).
    #[serde(default)]
    pub provision: Option<Duration>,
    /// Time after a scale-up before it may scale down (default 5 m).
    #[serde(default)]
    pub cooldown: Option<Duration>,
}

/// An app's connection pool, compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolModel {
    /// The node whose calls use it.
    pub target: u32,
    /// Connections per instance.
    pub per_instance: u32,
}

/// An app's autoscaling, compiled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AutoscaleModel {
    /// Utilization to hold.
    pub target: f64,
    /// Fewest instances.
    pub min: u32,
    /// Most instances.
    pub max: u32,
    /// Interval between looks, ns.
    pub every: u64,
    /// Time for a new instance to start, ns.
    pub provision: u64,
    /// Time after a scale-up before it may scale down, ns.
    pub cooldown: u64,
}

/// An app, compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct AppModel {
    /// Steps per class index.
    pub handlers: Vec<Vec<StepModel>>,
    /// Instances at the start.
    pub instances: u32,
    /// Workers per instance.
    pub workers: u32,
    /// Waiting places per instance (`None`: unbounded).
    pub queue: Option<u32>,
    /// Connection pool.
    pub pool: Option<PoolModel>,
    /// Autoscaling.
    pub autoscale: Option<AutoscaleModel>,
    /// Call policy (timeout, retries, backoff, breaker) as a client model.
    pub calls: Option<ClientModel>,
}

impl AppModel {
    /// The nodes its workers may wait on (every step's targets but a
    /// publish's queue, and the pool's target), each once, in first-use
    /// order.
    pub fn waits_on(&self) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        let targets = self
            .handlers
            .iter()
            .flatten()
            .flat_map(StepModel::waits_on)
            .chain(self.pool.map(|p| p.target));
        for t in targets {
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }

    /// The queues its handlers publish to (nobody waits for those).
    pub fn publishes(&self) -> Vec<u32> {
        self.handlers
            .iter()
            .flatten()
            .filter_map(|s| match s {
                StepModel::Publish(q) => Some(*q),
                _ => None,
            })
            .collect()
    }

    /// The nodes a request of class `class` goes on to from the app: its
    /// handler's steps' targets, published queues included.
    pub fn targets(&self, class: usize) -> Vec<u32> {
        let mut out = Vec::new();
        for s in self.handlers.get(class).into_iter().flatten() {
            out.extend(s.waits_on());
            if let StepModel::Publish(q) = s {
                out.push(*q);
            }
        }
        out
    }

    /// True when a request of class `class` puts keys into `cache` (a
    /// cache-aside fill after a miss, or a write-through set).
    pub fn fills(&self, class: usize, cache: u32) -> bool {
        self.handlers.get(class).into_iter().flatten().any(|s| {
            matches!(s, StepModel::CacheAside { cache: c, .. } | StepModel::WriteThrough { cache: c, .. } if *c == cache)
        })
    }

    /// The most servers it can have: its maximum instances (autoscaled)
    /// times its workers.
    pub fn peak_servers(&self) -> u32 {
        self.workers
            .saturating_mul(self.autoscale.map_or(self.instances, |a| a.max))
    }
}

impl App {
    /// Checks the app (workers, instances, pool, call policy, autoscaling,
    /// handlers and their steps' targets).
    pub(crate) fn check(&self, nc: &NodeCheck, ds: &mut Diagnostics) {
        let app = self;

        nc.count("workers", app.workers, 1, MAX_SERVERS, ds);
        if app
            .load_factor
            .is_some_and(|f| !f.is_finite() || !(0.0..=1000.0).contains(&f))
        {
            ds.push(nc.err(format!(
                "`load_factor` is {:?}; give 0 to 1000 (e.g. 2: three times slower when saturated)",
                app.load_factor
            )));
        }
        nc.load(&app.load, app.load_factor, ds);
        if let Some(n) = app.instances
            && let Err(m) = crate::topology::check::count("instances", n, 1, 10_000)
        {
            ds.push(nc.err(m));
        }
        if app.workers.saturating_mul(app.instances.unwrap_or(1)) > MAX_SERVERS {
            ds.push(
                nc.err(format!(
                    "instances x workers is {}, over the limit of {MAX_SERVERS}",
                    app.workers.saturating_mul(app.instances.unwrap_or(1))
                ))
                .hint(format!(
                    "every worker of every instance is simulated; give fewer instances or workers (at most {MAX_SERVERS} in all)"
                )),
            );
        }
        if let Some(p) = &app.pool {
            nc.target(
                &p.to,
                "to",
                &["Database", "Pooler", "Replica", "ShardRouter"],
                ds,
            );
            if let Err(m) = crate::topology::check::count("size", p.size, 1, MAX_SERVERS) {
                ds.push(nc.err(format!("pool: {m}")));
            }
        }
        if let Some(c) = &app.calls {
            if c.timeout.is_some_and(|t| t.0 == 0) {
                ds.push(nc.err("calls: `timeout` is 0: every call would time out at once".into()));
            }
            if c.retries.as_ref().is_some_and(|r| r.max > 100) {
                ds.push(nc.err("calls: more than 100 retries".into()));
            }
            if let Some(r) = &c.retries {
                for m in crate::topology::check::retry_limit_problems(r) {
                    ds.push(nc.err(format!("calls: {m}")));
                }
            }
            if let Some(b) = &c.breaker
                && (!b.failure_ratio.is_finite()
                    || b.failure_ratio <= 0.0
                    || b.failure_ratio > 1.0
                    || b.window.0 == 0
                    || b.open_for.0 == 0)
            {
                ds.push(nc.err("calls: the breaker needs a failure_ratio above 0 and at most 1, and a window and open_for above 0".into()).hint("e.g. `failure_ratio: 0.5, window: \"10s\", open_for: \"5s\"`"));
            }
        }
        if let Some(a) = &app.autoscale {
            if !a.target.is_finite() || a.target <= 0.0 || a.target > 1.0 {
                ds.push(nc.err(format!(
                    "autoscale: `target` is {}; give a utilization above 0 and at most 1, e.g. 0.6",
                    a.target
                )));
            }
            if a.min == 0 || a.min > a.max || a.max > 10_000 {
                ds.push(
                    nc.err(format!(
                        "autoscale: min {} and max {} must satisfy 1 <= min <= max <= 10000",
                        a.min, a.max
                    ))
                    .hint("give `min` at least 1 and `max` from `min` to 10000 instances"),
                );
            }
            if let Some(n) = app.instances
                && n > a.max
            {
                ds.push(
                    nc.err(format!(
                        "`instances` is {n}, above the autoscaling maximum of {}",
                        a.max
                    ))
                    .hint(format!(
                        "an autoscaled app runs between `min` and `max` instances: raise `max` to {n}, or give `instances` at most {}",
                        a.max
                    )),
                );
            }
            if a.every.is_some_and(|e| e.0 == 0) {
                ds.push(nc.err("autoscale: `every` is 0".into()));
            }
            if a.max.saturating_mul(app.workers) > MAX_SERVERS {
                ds.push(
                    nc.err(format!(
                        "autoscale: max instances x workers is over the limit of {MAX_SERVERS}"
                    ))
                    .hint("lower autoscale `max` or the workers per instance"),
                );
            }
        }
        if let Some(q) = app.queue
            && q > MAX_QUEUE
        {
            ds.push(nc.err(format!("`queue` is {q}, over the limit of {MAX_QUEUE}")));
        }
        nc.dist("service", &app.service, ds);
        for (class, steps) in &app.handle {
            if class != "*" && !nc.cx.has_class(class) {
                let d = nc.err(format!(
                    "the handler for class `{class}` matches no source's requests"
                ));
                ds.push(match nc.cx.closest_class(class) {
                    Some(c) => d.hint(format!(
                        "did you mean `{c}`? (classes: {})",
                        crate::diag::list_names(nc.cx.classes)
                    )),
                    None => d.hint(format!(
                        "the classes are: {} (or `*` for any)",
                        crate::diag::list_names(nc.cx.classes)
                    )),
                });
            }
            if steps.len() > 64 {
                ds.push(nc.err(format!(
                    "{} steps for `{class}`, over the limit of 64",
                    steps.len()
                )));
                continue;
            }
            for step in steps {
                match step {
                    Step::Call { to } => {
                        nc.on_path(to, "to", ds);
                        if to == &app.id {
                            ds.push(
                                nc.err("the app calls itself".into())
                                    .hint("a call to itself would never finish"),
                            );
                        }
                    }
                    Step::Read { db } => nc.target(db, "db", READ_TARGETS, ds),
                    // A pooler carries writes to its database (a pooler or
                    // balancer in front of a replica is refused later:
                    // `database::direct`).
                    Step::Write { db } => {
                        nc.target(db, "db", &["Database", "ShardRouter", "Pooler"], ds)
                    }
                    Step::Publish { queue } => nc.target(queue, "queue", &["Queue"], ds),
                    Step::ReadFresh {
                        replicas,
                        primary,
                        within,
                    } => {
                        nc.target(replicas, "replicas", &["Replica", "LoadBalancer"], ds);
                        nc.target(primary, "primary", &["Database"], ds);
                        if within.0 == 0 {
                            ds.push(nc.err("ReadFresh: `within` is 0; give the longest replication lag you expect, e.g. \"2s\"".into()));
                        }
                    }
                    Step::CacheAside { cache, db } => {
                        nc.target(cache, "cache", &["Cache"], ds);
                        crate::kinds::cache::read_through::check_aside(nc, cache, ds);
                        // A miss only reads: any node a `Read` may read.
                        nc.target(db, "db", READ_TARGETS, ds);
                    }
                    Step::WriteThrough { cache, db } => {
                        nc.target(cache, "cache", &["Cache"], ds);
                        nc.target(db, "db", &["Database", "ShardRouter", "Pooler"], ds);
                    }
                    Step::Invalidate { cache } => nc.target(cache, "cache", &["Cache"], ds),
                    Step::FanOut {
                        to,
                        count,
                        hedge_after,
                    } => {
                        nc.on_path(to, "to", ds);
                        if to == &app.id {
                            ds.push(nc.err("the app fans out to itself".into()));
                        }
                        if *count == 0 || *count > 1000 {
                            ds.push(nc.err(format!("FanOut: `count` is {count}; give 1 to 1000")));
                        }
                        if hedge_after.is_some_and(|h| h.0 == 0) {
                            ds.push(
                                nc.err("FanOut: `hedge_after` is 0, which would send every call twice at once".into())
                                    .hint("hedge after about the p95 of one call, e.g. \"20ms\""),
                            );
                        }
                    }
                }
            }
        }
    }

    /// The app in the model's form: a handler per class (`*` for the
    /// classes not listed); flows weighted by each class's share of traffic.
    pub(crate) fn compile(&self, cx: &CompileCx) -> NodeModel {
        let app = self;

        let ix = |id: &str| cx.ix(id);
        let compile_steps = |steps: &Vec<Step>| -> Vec<StepModel> {
            steps
                .iter()
                .map(|s| match s {
                    Step::Call { to } => StepModel::Call(ix(to)),
                    Step::Read { db } => StepModel::Read(ix(db)),
                    Step::ReadFresh {
                        replicas,
                        primary,
                        within,
                    } => StepModel::ReadFresh {
                        replicas: ix(replicas),
                        primary: ix(primary),
                        within: within.0,
                    },
                    Step::Write { db } => StepModel::Write(ix(db)),
                    Step::CacheAside { cache, db } => StepModel::CacheAside {
                        cache: ix(cache),
                        db: ix(db),
                    },
                    Step::Invalidate { cache } => StepModel::Invalidate(ix(cache)),
                    Step::WriteThrough { cache, db } => StepModel::WriteThrough {
                        cache: ix(cache),
                        db: ix(db),
                    },
                    Step::Publish { queue } => StepModel::Publish(ix(queue)),
                    Step::FanOut {
                        to,
                        count,
                        hedge_after,
                    } => StepModel::FanOut {
                        to: ix(to),
                        count: (*count).min(1000) as u16,
                        hedge_after: hedge_after.map_or(u64::MAX, |h| h.0),
                    },
                })
                .collect()
        };
        let fallback = app.handle.get("*").map(compile_steps).unwrap_or_default();
        let handlers: Vec<Vec<StepModel>> = cx
            .classes
            .iter()
            .map(|c| {
                app.handle
                    .get(c)
                    .map(compile_steps)
                    .unwrap_or_else(|| fallback.clone())
            })
            .collect();
        // Flows: each step's targets, weighted by the share of its class.
        let mut flows: BTreeMap<usize, f64> = BTreeMap::new();
        for (c, steps) in handlers.iter().enumerate() {
            for s in steps {
                let (targets, times): (&[u32], f64) = match s {
                    StepModel::Call(t)
                    | StepModel::Read(t)
                    | StepModel::Write(t)
                    | StepModel::Invalidate(t) => (&[*t][..], 1.0),
                    StepModel::CacheAside { cache, db } => (&[*cache, *db][..], 1.0),
                    StepModel::WriteThrough { cache, db } => (&[*cache, *db][..], 1.0),
                    StepModel::ReadFresh { replicas, .. } => (&[*replicas][..], 1.0),
                    StepModel::Publish(q) => (&[*q][..], 1.0),
                    StepModel::FanOut { to, count, .. } => (&[*to][..], *count as f64),
                };
                for &t in targets {
                    *flows.entry(t as usize).or_default() += cx.shares[c] * times;
                }
            }
        }
        let instances = app.instances.unwrap_or(1).max(1) as u32;
        let workers = app.workers as u32;
        NodeModel {
            id: app.id.clone(),
            kind: KindModel::App(AppModel {
                handlers,
                instances,
                workers,
                queue: app.queue.map(|q| q as u32),
                pool: app.pool.as_ref().map(|p| PoolModel {
                    target: ix(&p.to),
                    per_instance: p.size as u32,
                }),
                calls: app.calls.as_ref().map(|c| {
                    let r = c.retries.as_ref();
                    ClientModel {
                        timeout: c.timeout.map(|t| t.0),
                        retries: r.map_or(0, |r| r.max),
                        backoff: r.map_or(0, |r| r.backoff.0),
                        cap: r.map_or(0, |r| r.cap.map_or(u64::MAX, |c| c.0)),
                        jitter: r.map_or_else(Default::default, |r| r.jitter),
                        budget: r.and_then(|r| r.budget),
                        limit: r.and_then(|r| r.limit),
                        respect_retry_after: true,
                        breaker: c.breaker.as_ref().map(|b| {
                            (
                                b.failure_ratio,
                                b.window.0,
                                b.min_requests.unwrap_or(10),
                                b.open_for.0,
                            )
                        }),
                    }
                }),
                autoscale: app.autoscale.as_ref().map(|a| AutoscaleModel {
                    target: a.target,
                    min: a.min as u32,
                    max: a.max as u32,
                    every: a.every.map_or(15 * crate::time::SEC, |d| d.0),
                    provision: a.provision.map_or(60 * crate::time::SEC, |d| d.0),
                    cooldown: a.cooldown.map_or(300 * crate::time::SEC, |d| d.0),
                }),
            }),
            load: crate::topology::check::load_model(app.load, app.load_factor),
            servers: workers.saturating_mul(instances),
            queue: app.queue.map(|q| (q as u32).saturating_mul(instances)),
            service: app.service.sampler(),
            routes: Vec::new(),
            flows: flows
                .into_iter()
                .map(|(to, p)| RouteModel { to, p })
                .collect(),
            exit: 1.0,
            behind_cache: None,
        }
    }
}

/// What each fault does to an app.
pub fn effect(fault: Fault) -> Result<&'static str, &'static str> {
    match fault {
        Fault::Slow => {
            Ok("its own work per request takes `factor` times as long (not the calls it makes)")
        }
        Fault::Servers => Ok("workers per instance"),
        Fault::Instances => Ok("instances (workers, queue places and pool connections follow)"),
        other => super::common_effect(other),
    }
}

/// An app's handlers at run time: the steps per class.
pub(crate) type Handlers = Box<[Box<[StepModel]>]>;

/// An app's run-time state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Steps per class.
    pub handlers: Box<[Box<[StepModel]>]>,
    /// Instances running.
    pub instances: u32,
    /// Workers per instance.
    pub workers: u32,
    /// Waiting places per instance.
    pub queue_per: Option<u32>,
    /// Connection pool.
    pub pool: Option<PoolState>,
    /// Autoscaler.
    pub autoscale: Option<AutoscaleState>,
    /// Call policy.
    pub calls: Option<CallsState>,
    /// Handlers a live edit replaced while requests were running them, kept
    /// for those requests (`Request::handlers` is 1 + the index); a slot
    /// is reused once none of its requests is left.
    pub(crate) earlier: Vec<Option<Handlers>>,
    /// An autoscaler look is scheduled (a live edit that turns autoscaling
    /// back on must not start a second series of looks).
    pub(crate) looking: bool,
}

impl AppState {
    /// The state app `n` starts with.
    pub(crate) fn of(n: &NodeModel, m: &AppModel, seed: u64) -> Self {
        AppState {
            handlers: m
                .handlers
                .iter()
                .map(|h| h.clone().into_boxed_slice())
                .collect(),
            instances: m.instances,
            workers: m.workers,
            queue_per: m.queue,
            pool: m.pool.map(PoolState::new),
            autoscale: m.autoscale.map(AutoscaleState::new),
            calls: m
                .calls
                .clone()
                .map(|policy| CallsState::new(policy, Stream::new(seed, Purpose::Retry, &n.id))),
            earlier: Vec::new(),
            looking: false,
        }
    }

    /// The steps request `r` runs: its class's handler, in the handlers it
    /// started with (see [`AppState::earlier`]).
    #[inline]
    pub(crate) fn steps(&self, r: &crate::sim::Request) -> &[StepModel] {
        let h = match r.handlers {
            0 => &self.handlers,
            k => self.earlier[k as usize - 1]
                .as_ref()
                .unwrap_or(&self.handlers),
        };
        h.get(r.class as usize).map_or(&[], |s| s)
    }
}

impl Simulation {
    /// App `i` opens its pool's connections and starts its autoscaler.
    pub(crate) fn app_start(&mut self, i: usize) {
        self.pool_resize(i);
        self.autoscale_start(i);
    }

    /// Schedules the first look of app `i`'s autoscaler, from now (an app
    /// added to a running simulation, or autoscaling turned on by a live
    /// edit, starts it then), unless looks are scheduled already.
    pub(crate) fn autoscale_start(&mut self, i: usize) {
        if let KindState::App(app) = &mut self.nodes[i].kind
            && let Some(a) = &app.autoscale
            && !app.looking
        {
            app.looking = true;
            self.queue.push(
                self.now.saturating_add(a.every),
                Event::Autoscale { node: i as u32 },
            );
        }
    }

    /// `Servers` for app `i`: workers per instance.
    pub(crate) fn app_set_workers(&mut self, i: usize, workers: u32) {
        if let KindState::App(a) = &mut self.nodes[i].kind {
            a.workers = workers;
            let instances = a.instances;
            self.set_instances(i, instances);
        }
    }
}
