//! Requests that reach a database (or a read-through cache) as themselves,
//! not as an app's `Read` or `Write` step: from a source, a station's
//! route, a balancer, a limiter, a router, a pooler, a CDN's origin fetch
//! or an app's `Call`. They carry no operation, so whether each reads or
//! writes comes from its class, known the way an app's handlers know it:
//!
//! 1. the apps' handlers for the class: a class the topology's apps only
//!    write with (`Write`, `WriteThrough`) is a write, one they only read
//!    with (`Read`, `CacheAside`, `ReadFresh`) is a read;
//! 2. else its name in the sources' `mix`: `write...` is a write, `read...`
//!    a read (`{"read": 0.95, "write": 0.05}`);
//! 3. else it is not known. A database whose `read` and `write` times
//!    differ refuses, at load, a class it cannot tell (the place of the
//!    database, and how to say which it is); with equal times it serves it
//!    as a read, which takes the same time.
//!
//! At run time the class's nature becomes the request's operation when it
//! enters the database, so a direct write takes the write time, applies its
//! side effect (duplicates and idempotency counted) and is remembered for
//! stale reads, as an app's `Write` is.

use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::kinds::app::StepModel;
use crate::kinds::{KindModel, KindState, Node};
use crate::model::Model;
use crate::sim::{Simulation, op};

/// What a request class does when it reaches a database as itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nature {
    /// It reads.
    Read,
    /// It writes.
    Write,
    /// Nothing in the topology says.
    Unknown,
}

/// Each class's nature (in `model.classes` order), from the apps'
/// handlers, else from its name.
pub fn natures(model: &Model) -> Vec<Nature> {
    let k = model.classes.len();
    let (mut reads, mut writes) = (vec![false; k], vec![false; k]);
    for n in &model.nodes {
        let KindModel::App(app) = &n.kind else {
            continue;
        };
        for (c, steps) in app.handlers.iter().enumerate().take(k) {
            for s in steps {
                match s {
                    StepModel::Write(_) | StepModel::WriteThrough { .. } => writes[c] = true,
                    StepModel::Read(_)
                    | StepModel::CacheAside { .. }
                    | StepModel::ReadFresh { .. } => reads[c] = true,
                    _ => {}
                }
            }
        }
    }
    (0..k)
        .map(|c| match (reads[c], writes[c]) {
            (false, true) => Nature::Write,
            (true, false) => Nature::Read,
            _ => by_name(&model.classes[c]),
        })
        .collect()
}

/// A class's nature from its name alone.
pub(crate) fn by_name(name: &str) -> Nature {
    let n = name.to_ascii_lowercase();
    if n.starts_with("write") {
        Nature::Write
    } else if n.starts_with("read") {
        Nature::Read
    } else {
        Nature::Unknown
    }
}

/// Per node, per class: a request of that class can arrive there as
/// itself (no app step's operation), and the node it came from (the first
/// found: a source's node has `None`).
pub fn direct_arrivals(model: &Model) -> Vec<Vec<Option<Option<usize>>>> {
    let k = model.classes.len().max(1);
    let n = model.nodes.len();
    let mut seen: Vec<Vec<Option<Option<usize>>>> = vec![vec![None; k]; n];
    let mut todo: Vec<(usize, usize)> = Vec::new();
    for s in &model.sources {
        let mut before = 0.0;
        for &(cum, c) in &s.mix {
            let c = c as usize;
            if cum > before && s.to < n && c < k && seen[s.to][c].is_none() {
                seen[s.to][c] = Some(None);
                todo.push((s.to, c));
            }
            before = cum;
        }
    }
    while let Some((i, c)) = todo.pop() {
        let node = &model.nodes[i];
        let mut onward: Vec<usize> = node
            .routes
            .iter()
            .filter(|r| r.p > 0.0)
            .map(|r| r.to)
            .collect();
        onward.extend(node.kind.hands_to());
        match &node.kind {
            KindModel::Pooler(m) => onward.push(m.to as usize),
            KindModel::Cdn(m) => onward.push(m.origin as usize),
            KindModel::App(app) => {
                for s in app.handlers.get(c).into_iter().flatten() {
                    match *s {
                        StepModel::Call(t) | StepModel::FanOut { to: t, .. } => {
                            onward.push(t as usize)
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        for t in onward {
            if t < n && seen[t][c].is_none() {
                seen[t][c] = Some(Some(i));
                todo.push((t, c));
            }
        }
    }
    seen
}

/// Sets `model.class_writes` from each class's nature, and refuses a
/// database with different read and write times that a class of unknown
/// nature reaches as itself. `at` gives each node's place.
pub(crate) fn settle(model: &mut Model, at: &dyn Fn(usize) -> Option<Pos>, ds: &mut Diagnostics) {
    let natures = natures(model);
    model.class_writes = natures.iter().map(|n| *n == Nature::Write).collect();
    let model = &*model;
    let arrivals = direct_arrivals(model);
    refuse_writes_to_replicas(model, &natures, &arrivals, at, ds);
    for (j, node) in model.topology.nodes.iter().enumerate() {
        let Node::Database(d) = node else {
            continue;
        };
        if d.read == d.write {
            continue;
        }
        let Some((c, from)) = arrivals[j].iter().enumerate().find_map(|(c, a)| {
            a.filter(|_| natures.get(c) == Some(&Nature::Unknown))
                .map(|f| (c, f))
        }) else {
            continue;
        };
        let class = &model.classes[c];
        let via = match from {
            Some(f) => format!(" from `{}`", model.nodes[f].id),
            None => " straight from a source".to_string(),
        };
        ds.push(
            Diagnostic::error(format!(
                "requests of class `{class}` reach database `{}`{via}, not through an app's `Read` or `Write` step, and nothing says whether they read (mean {}) or write (mean {})",
                d.id,
                mean(&d.read),
                mean(&d.write),
            ))
            .at(at(j))
            .on(format!("node `{}`", d.id))
            .hint(format!(
                "name the class `read…` or `write…` in the sources' `mix`, or send it through an app whose handler for `{class}` does `Read(db: \"{0}\")` or `Write(db: \"{0}\")`",
                d.id
            )),
        );
    }
}

/// Refuses, at the replica's place, a topology that sends writes to a
/// read replica: a write class arriving as itself (from a source, a
/// balancer, a route, an app's `Call`), a read-through cache's
/// write-through, or an app's `Write`/`WriteThrough` through a pooler or
/// balancer. A replica serves reads only; writes belong to its primary,
/// as an app's `Write(db: ...)` on a balancer is refused.
fn refuse_writes_to_replicas(
    model: &Model,
    natures: &[Nature],
    arrivals: &[Vec<Option<Option<usize>>>],
    at: &dyn Fn(usize) -> Option<Pos>,
    ds: &mut Diagnostics,
) {
    let n = model.nodes.len();
    // Per node: the first (class, node it came from) of a write there.
    let mut seen: Vec<Option<(usize, Option<usize>)>> = vec![None; n];
    let mut todo: Vec<usize> = Vec::new();
    type Seen = Vec<Option<(usize, Option<usize>)>>;
    let reach =
        |seen: &mut Seen, j: usize, c: usize, from: Option<usize>, todo: &mut Vec<usize>| {
            if j < n && seen[j].is_none() {
                seen[j] = Some((c, from));
                todo.push(j);
            }
        };
    for (j, per_class) in arrivals.iter().enumerate() {
        for (c, a) in per_class.iter().enumerate() {
            if let Some(from) = a
                && natures.get(c) == Some(&Nature::Write)
            {
                reach(&mut seen, j, c, *from, &mut todo);
            }
        }
    }
    for (i, node) in model.nodes.iter().enumerate() {
        let KindModel::App(app) = &node.kind else {
            continue;
        };
        for (c, steps) in app.handlers.iter().enumerate() {
            for s in steps {
                if let StepModel::Write(t) | StepModel::WriteThrough { db: t, .. } = *s {
                    reach(&mut seen, t as usize, c, Some(i), &mut todo);
                }
            }
        }
    }
    while let Some(i) = todo.pop() {
        let (c, _) = seen[i].expect("set when pushed");
        let node = &model.nodes[i];
        let mut onward = node.kind.hands_to();
        match &node.kind {
            KindModel::Pooler(m) => onward.push(m.to as usize),
            KindModel::Cache(m) => onward.extend(m.backend.map(|b| b as usize)),
            _ => {}
        }
        for t in onward {
            reach(&mut seen, t, c, Some(i), &mut todo);
        }
    }
    for (j, node) in model.nodes.iter().enumerate() {
        let (KindModel::Replica(r), Some((c, from))) = (&node.kind, seen[j]) else {
            continue;
        };
        let primary = &model.nodes[r.primary as usize].id;
        let via = match from {
            Some(f) => format!(" from `{}`", model.nodes[f].id),
            None => " straight from a source".to_string(),
        };
        let class = model.classes.get(c).map_or("?", String::as_str);
        ds.push(
            Diagnostic::error(format!(
                "writes (class `{class}`) reach read replica `{}`{via}, which would serve them as reads: a replica takes no writes",
                node.id
            ))
            .at(at(j))
            .on(format!("node `{}`", node.id))
            .hint(format!(
                "send writes to its primary `{primary}`: an app's `Write(db: \"{primary}\")` for the writes and `Read` (or a read-through cache) over the replicas for the reads, or a read-through cache's `backend: \"{primary}\"`"
            )),
        );
    }
}

/// A distribution's mean, as the tables print it.
fn mean(d: &crate::dist::Dist) -> String {
    crate::fmt::fmt_ms(Some(d.sampler().mean() / 1e6))
}

impl Simulation {
    /// A request entering database `i` with no operation (it came as
    /// itself, not from an app's `Read` or `Write`) takes its class's:
    /// a write class writes, anything else reads.
    #[inline]
    pub(crate) fn db_direct_op(&mut self, i: usize, req: u32) {
        let r = &mut self.reqs[req];
        if r.op == op::CALL && matches!(self.nodes[i].kind, KindState::Database(_)) {
            r.op = if self.model.class_writes(r.class) {
                op::WRITE
            } else {
                op::READ
            };
        }
    }
}
