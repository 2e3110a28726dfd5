//! What the configured traffic asks of each node, before any run: the mean
//! service per visit with a database's reads and writes in the proportion
//! the handlers send them, and the throughput closed-loop users reach
//! (exact MVA, [`super::mva`]). The validator's overload warnings and
//! `graph` use them.

use super::mva::{self, Solution, Station};
use crate::kinds::KindModel;
use crate::model::{Model, StepModel};

/// Per node, the share of its visits that are writes (databases; 0
/// elsewhere) when the nodes receive `rates` (the traffic equations):
/// each app's `Write` and `WriteThrough` steps weighted by their class's
/// share of the traffic, handed on through balancers, routers, limiters
/// and poolers by their shares.
pub fn write_shares(model: &Model, rates: &[f64]) -> Vec<f64> {
    let n = model.nodes.len();
    let shares = crate::topology::check::class_shares(&model.sources, model.classes.len());
    let mut ext = vec![0.0; n];
    for (i, m) in model.nodes.iter().enumerate() {
        let KindModel::App(app) = &m.kind else {
            continue;
        };
        for (c, steps) in app.handlers.iter().enumerate() {
            for s in steps {
                if let StepModel::Write(t) | StepModel::WriteThrough { db: t, .. } = *s {
                    ext[t as usize] += rates[i] * shares.get(c).copied().unwrap_or(0.0);
                }
            }
        }
    }
    // Hand the writes on through the nodes that pass requests along.
    let passes = |k: &KindModel| k.kind().routes_only() || matches!(k, KindModel::Pooler(_));
    let mut w = ext.clone();
    for _ in 0..n.clamp(1, 64) {
        let mut next = ext.clone();
        for (i, m) in model.nodes.iter().enumerate() {
            if passes(&m.kind) && w[i] > 0.0 {
                for f in &m.flows {
                    next[f.to] += w[i] * f.p;
                }
            }
        }
        if next == w {
            break;
        }
        w = next;
    }
    w.iter()
        .zip(rates)
        .zip(&model.nodes)
        .map(|((&w, &r), m)| {
            if matches!(m.kind, KindModel::Database(_)) && r > 0.0 {
                (w / r).clamp(0.0, 1.0)
            } else {
                0.0
            }
        })
        .collect()
}

/// Per node, the mean service of one visit, seconds: a database's reads
/// and writes mixed by [`write_shares`], an app's own work, every other
/// node's configured service.
pub fn per_visit(model: &Model, rates: &[f64]) -> Vec<f64> {
    let w = write_shares(model, rates);
    model
        .nodes
        .iter()
        .zip(&w)
        .map(|(m, &w)| match &m.kind {
            KindModel::Database(d) => (1.0 - w) * m.service.mean_secs() + w * d.write.mean_secs(),
            _ => m.service.mean_secs(),
        })
        .collect()
}

/// A closed-loop source's configured load: its users, their mean think
/// time and the network's solution.
#[derive(Clone, Debug, PartialEq)]
pub struct Closed {
    /// Users.
    pub users: u64,
    /// Mean think time, seconds.
    pub think: f64,
    /// The node of each station of `solution`.
    pub nodes: Vec<usize>,
    /// The stations as solved (demands per user request, seconds, after
    /// the open traffic's share).
    pub stations: Vec<Station>,
    /// Throughput, response time and each station's load.
    pub solution: Solution,
}

/// Each closed-loop source's throughput and load by MVA, from the
/// configured traffic: visits per request from its entry by the traffic
/// equations (every cache-aside read counted as a miss), each node's mean
/// service per visit ([`per_visit`]) on its most servers, and the open
/// sources' load leaving `1 - U` of each server ([`mva::inflate`]). Each
/// closed source is solved as if it were the only one (an approximation
/// when several share a node). `None` for open sources and bursts, and
/// where the equations do not settle or the open traffic alone fills a
/// node the users visit.
pub fn closed_sources(model: &Model, open_rates: &[f64]) -> Vec<Option<Closed>> {
    let all = model.visit_rates(&model.base_rates());
    let service = all.as_ref().map(|r| per_visit(model, r));
    model
        .sources
        .iter()
        .map(|s| {
            let (users, think) = s.closed.as_ref()?;
            let service = service.as_ref()?;
            let mut ext = vec![0.0; model.sources.len()];
            let me = model.sources.iter().position(|x| std::ptr::eq(x, s))?;
            ext[me] = 1.0;
            let visits = model.visit_rates(&ext)?;
            let mut nodes = Vec::new();
            let mut stations = Vec::new();
            for (k, m) in model.nodes.iter().enumerate() {
                let d = visits[k] * service[k];
                if d > 0.0 && d.is_finite() {
                    let open = open_rates.get(k).copied().unwrap_or(0.0) * service[k]
                        / f64::from(m.peak_servers().max(1));
                    let d = mva::inflate(d, open);
                    if !d.is_finite() {
                        return None;
                    }
                    nodes.push(k);
                    stations.push(Station {
                        demand: d,
                        servers: m.peak_servers().max(1),
                    });
                }
            }
            let solution = mva::solve(u64::from(*users), think.mean_secs(), &stations)?;

            Some(Closed {
                users: u64::from(*users),
                think: think.mean_secs(),
                nodes,
                stations,
                solution,
            })
        })
        .collect()
}
