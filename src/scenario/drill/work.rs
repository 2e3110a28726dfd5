//! Work conservation: a submission does the work the drill's start does.
//!
//! [`super::protect`] keeps the time each piece of work takes; this module
//! keeps the work itself. A drill gives a workload: requests of each class
//! and what serving them takes (a computation, a read of the database, a
//! write that must be made durable). An architecture that answers a class
//! without doing its work (no database at all, writes answered from a
//! CDN's edge or a read-through cache) solves an easier problem, whatever
//! its numbers.
//!
//! Per class, following where the engine can send a request of that class
//! ([`crate::scenario::Reach`], the same routing the fault checks use):
//! - the kinds of work it reaches in the start ([`Work`]: computation on a
//!   Station, App or Queue worker; the database, on a Database or
//!   Replica; an object store) must each still be reached in the
//!   submission (reached: on some path, a cache miss's included);
//! - a class that writes in the start (an app's `Write` or `WriteThrough`
//!   step for it) still writes: some app its requests reach has such a
//!   step for it, and no cache answers it (no CDN on its way caches the
//!   class, no read-through cache is on its way: both would answer a
//!   repeated key without the write).
//!
//! Checked on the compiled models of both topologies; a submission that
//! does not compile is left to the loader's own errors.

use super::Violation;
use crate::kinds::KindModel;
use crate::kinds::app::StepModel;
use crate::model::Model;
use crate::scenario::Reach;

/// A kind of work a request can need done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Work {
    /// Computation on a worker: a Station, an App, a Queue's workers.
    Compute,
    /// A read or write of the database: a Database or Replica.
    Database,
    /// An object store's read.
    ObjectStore,
}

impl Work {
    /// The work a node of this kind does, if any (balancers, limiters,
    /// routers, poolers and caches only pass requests on or answer from
    /// memory).
    pub fn of(kind: &KindModel) -> Option<Work> {
        match kind {
            KindModel::Station | KindModel::App(_) | KindModel::Queue(_) => Some(Work::Compute),
            KindModel::Database(_) | KindModel::Replica(_) => Some(Work::Database),
            KindModel::ObjectStore(_) => Some(Work::ObjectStore),
            _ => None,
        }
    }

    fn words(self) -> &'static str {
        match self {
            Work::Compute => "a server that computes the answer (a Station, App or Queue)",
            Work::Database => "the database (a Database or Replica)",
            Work::ObjectStore => "the object store",
        }
    }
}

/// What requests of class `c` need done in `model`, as reached.
fn works(model: &Model, reach: &Reach, c: usize) -> Vec<Work> {
    let mut out: Vec<Work> = (0..model.nodes.len())
        .filter(|&i| reach.class(i, c))
        .filter_map(|i| Work::of(&model.nodes[i].kind))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// True when an app that class `c` reaches writes it to a database.
fn writes(model: &Model, reach: &Reach, c: usize) -> bool {
    model.nodes.iter().enumerate().any(|(i, n)| match &n.kind {
        KindModel::App(a) if reach.class(i, c) => a.handlers.get(c).is_some_and(|h| {
            h.iter()
                .any(|s| matches!(s, StepModel::Write(_) | StepModel::WriteThrough { .. }))
        }),
        _ => false,
    })
}

/// The first cache on class `c`'s way that would answer it from memory:
/// a CDN that caches the class, or a read-through cache.
fn answered_from_cache(model: &Model, reach: &Reach, c: usize) -> Option<String> {
    model.nodes.iter().enumerate().find_map(|(i, n)| {
        let caches = match &n.kind {
            KindModel::Cdn(d) => d.cacheable.get(c) == Some(&true),
            KindModel::Cache(k) => k.backend.is_some(),
            _ => false,
        };
        (caches && reach.class(i, c)).then(|| n.id.clone())
    })
}

/// Every piece of the start's work the submission `mine` drops (see the
/// module docs). Empty: it does the same work.
pub fn dropped(start: &Model, mine: &Model) -> Vec<Violation> {
    let (rs, rm) = (Reach::of(start), Reach::of(mine));
    let mut out = Vec::new();
    for (c, class) in start.classes.iter().enumerate() {
        let Some(cm) = mine.classes.iter().position(|x| x == class) else {
            continue;
        };
        let have = works(mine, &rm, cm);
        let entry = mine
            .sources
            .iter()
            .find(|s| s.mix.iter().any(|&(_, k)| k as usize == cm))
            .map(|s| mine.nodes[s.to].id.clone())
            .unwrap_or_default();
        for w in works(start, &rs, c) {
            if !have.contains(&w) {
                out.push(Violation {
                    id: entry.clone(),
                    message: format!(
                        "not allowed: you dropped work the drill gives: `{class}` requests reach {} in the start, and none in yours",
                        w.words()
                    ),
                    hint: format!(
                        "serve `{class}` requests as the start does (its handler's steps and the nodes they reach); make the work cheaper to wait for with capacity, caches for reads, replicas or queues, not by leaving it out"
                    ),
                });
            }
        }
        if !writes(start, &rs, c) {
            continue;
        }
        if !writes(mine, &rm, cm) {
            out.push(Violation {
                id: entry.clone(),
                message: format!(
                    "not allowed: you dropped work the drill gives: `{class}` requests write to the database in the start, and no app writes them in yours"
                ),
                hint: format!(
                    "keep a `Write` (or `WriteThrough`) step in the `{class}` handler of the app they reach"
                ),
            });
        } else if let Some(id) = answered_from_cache(mine, &rm, cm) {
            out.push(Violation {
                id,
                message: format!(
                    "not allowed: you dropped work the drill gives: `{class}` requests write to the database, and a cache on their way would answer them from memory"
                ),
                hint: format!(
                    "writes must reach the database: leave `{class}` out of a CDN's `cacheable`, and keep writes away from read-through caches (an app's `Write` or `WriteThrough` step goes to the database)"
                ),
            });
        }
    }
    out
}
