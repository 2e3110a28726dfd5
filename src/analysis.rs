//! Which node limits the system, and why.
//!
//! One analysis, used by the report (the whole run), the bottleneck
//! timeline (window by window), sweeps (at the knee), drills (their
//! feedback) and the sandbox (live). It follows the wait: servers that are
//! busy only because they wait on a call they made (an app's workers while
//! a downstream call is out, a pooler's connections while the database
//! works) do not limit throughput by their own capacity when the node they
//! wait on is saturated; that node does. So the analysis starts from the
//! busiest node on the request path and, while that node's busy time is
//! mostly waiting and something it waits on is saturated, moves to it. The
//! reason it prints names the chain: "redis: 100% of 1 server busy, ...;
//! app waits on it: 100% of 768 servers busy, 94% of that waiting on
//! redis".
//!
//! Nodes that only hand requests on (load balancers, shard routers, rate
//! limiters) are never named: they have no capacity of their own. Nodes
//! only reached by messages nobody waits for (a queue fed by `Publish`) are
//! off the request path: they are named only when nothing on the path is
//! busy at all.
//!
//! When no node on the path is near its capacity (`headroom`), the reason
//! says that nothing limits capacity ("none: ...") rather than calling the
//! busiest node a limit, and `Finding::limits` is false.

use crate::fmt::fmt_ms;
use crate::kinds::KindModel;
use crate::model::Model;
use std::fmt::Write as _;

mod failures;
mod headroom;
pub use headroom::QUEUEING;

/// Utilization at or above which a node counts as saturated.
pub const SATURATED: f64 = 0.9;
/// Share of arrivals turned away for want of capacity (full queue,
/// connection limit) at or above which a node counts as saturated.
pub const OVERFLOWING: f64 = 0.01;
/// Share of a node's busy time spent waiting at or above which the wait,
/// not the node, is followed.
pub const MOSTLY_WAITING: f64 = 0.5;

/// Busy below which a caller has servers to spare: one that mostly waits
/// is then not the limit (past it, its workers held by calls can run out).
pub const SPARE: f64 = 0.5;

/// True when the node has servers to spare and turns nothing away.
fn spare(l: &Load) -> bool {
    l.utilization < SPARE && !l.saturated()
}

/// What was measured at one node over some stretch of time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Load {
    /// Busy server time / capacity.
    pub utilization: f64,
    /// Server time spent waiting on calls / capacity (part of `utilization`).
    pub calling: f64,
    /// Server time spent waiting for a pool connection / capacity.
    pub pool_wait: f64,
    /// `calling` per node called, when known (index, share of capacity).
    pub waits: Vec<(usize, f64)>,
    /// Time-averaged number waiting in the node's queue.
    pub mean_queue: f64,
    /// Mean wait in the queue per visit, ms.
    pub mean_wait_ms: Option<f64>,
    /// Visits that arrived.
    pub arrivals: u64,
    /// Of those, dropped (for any reason).
    pub dropped: u64,
    /// Of those, turned away for want of capacity.
    pub overflow: u64,
    /// Servers (workers, cores, connections) at the end of the stretch.
    pub servers: u32,
    /// Servers averaged over the stretch (what `utilization` is a share
    /// of), when they changed during it (`None`: the same throughout, or
    /// not measured).
    pub mean_servers: Option<f64>,
    /// Of the failures here, errors injected by a fault.
    pub injected: u64,
    /// Of the drops, refused by a rate limiter's limit.
    pub rejected: u64,
    /// Pool connections this node refused to open (its connection limit),
    /// as the calls of apps that found no connection.
    pub refused_connections: u64,
    /// Sends it could not make across a network partition.
    pub cut: u64,
    /// An app's pool: connections in use over those open, averaged over
    /// the stretch (`None`: no pool, or not measured).
    pub pool: Option<f64>,
    /// The pool's connections open.
    pub pool_connections: u32,
}

impl Load {
    /// "8 servers", or, when they changed over the stretch, "31.7 servers
    /// (on average; 8 at the end)": utilization is a share of the servers
    /// there were over time, not of those at the end.
    fn servers_text(&self) -> String {
        let plural = |n: f64| if n == 1.0 { "server" } else { "servers" };
        match self.mean_servers {
            Some(m) if (m - self.servers as f64).abs() >= 0.05 => {
                format!("{m:.1} servers (on average; {} at the end)", self.servers)
            }
            _ => format!("{} {}", self.servers, plural(self.servers as f64)),
        }
    }

    /// Share of what was asked of it turned away: a full queue, its
    /// connection limit, or its rate limit (a limiter's, an object store's
    /// per-prefix throttle).
    fn overflow_share(&self) -> f64 {
        let asked = self.arrivals + self.refused_connections;
        if asked == 0 {
            0.0
        } else {
            (self.overflow + self.refused_connections + self.rejected) as f64 / asked as f64
        }
    }

    /// Share of arrivals refused over a rate limit.
    fn rejected_share(&self) -> f64 {
        if self.arrivals == 0 {
            0.0
        } else {
            self.rejected as f64 / self.arrivals as f64
        }
    }

    /// Failures that begin here (not failures of calls it made).
    fn own_failures(&self) -> u64 {
        self.dropped + self.injected + self.refused_connections + self.cut
    }

    /// Saturated: nearly every server busy, or turning work away.
    pub fn saturated(&self) -> bool {
        self.utilization >= SATURATED || self.overflow_share() >= OVERFLOWING
    }

    /// Share of the busy time spent waiting (on calls or a pool).
    pub fn waiting_share(&self) -> f64 {
        if self.utilization <= 0.0 {
            0.0
        } else {
            ((self.calling + self.pool_wait) / self.utilization).min(1.0)
        }
    }
}

/// The node that limits the system, the waits that lead to it, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The limiting node's index.
    pub node: usize,
    /// Its utilization.
    pub utilization: f64,
    /// The nodes followed to reach it, the first caller first; the last is
    /// `node`.
    pub chain: Vec<usize>,
    /// One line a person can act on.
    pub reason: String,
    /// When the limit is `node`'s pool of connections rather than its
    /// servers: the node the pool connects to.
    pub pool_to: Option<usize>,
    /// False when no node on the request path is near its capacity (see
    /// `headroom`): `node` is then only the busiest, and `reason` says
    /// that nothing limits capacity.
    pub limits: bool,
}

/// The model's structure the analysis needs, computed once per model.
#[derive(Clone, Debug)]
pub struct Analyzer {
    ids: Vec<String>,
    pass_through: Vec<bool>,
    on_path: Vec<bool>,
    /// Per node: the nodes it may wait on, each with the real nodes behind
    /// it (through balancers, routers and limiters).
    waits_on: Vec<Vec<(usize, Vec<usize>)>>,
    /// Per node: the pool's target, if it has a pool.
    pool: Vec<Option<usize>>,
    /// The apps' fan-outs (where the time goes when nothing is busy).
    fanouts: Vec<headroom::FanOut>,
}

/// Where a request sent to node `i` is served: `i` itself, or the nodes a
/// balancer, router or limiter hands it to (recursively).
fn served_by(model: &Model, i: usize, out: &mut Vec<usize>, seen: &mut [bool]) {
    if seen[i] {
        return;
    }
    seen[i] = true;
    let next = model.nodes[i].kind.hands_to();
    if next.is_empty() {
        out.push(i);
    }
    for b in next {
        served_by(model, b, out, seen);
    }
}

/// The nodes a request at node `i` goes on to and someone waits for.
fn next_on_path(model: &Model, i: usize) -> Vec<usize> {
    let n = &model.nodes[i];
    let mut out: Vec<usize> = n.routes.iter().map(|r| r.to).collect();
    out.extend(n.kind.onward());
    out
}

impl Analyzer {
    /// The structure of `model`.
    pub fn new(model: &Model) -> Self {
        let n = model.nodes.len();
        let mut on_path = vec![false; n];
        let mut stack: Vec<usize> = model.sources.iter().map(|s| s.to).collect();
        while let Some(i) = stack.pop() {
            if !on_path[i] {
                on_path[i] = true;
                stack.extend(next_on_path(model, i));
            }
        }
        let waits_on = (0..n)
            .map(|i| {
                model
                    .call_targets(i)
                    .into_iter()
                    .map(|t| {
                        let mut real = Vec::new();
                        served_by(model, t as usize, &mut real, &mut vec![false; n]);
                        (t as usize, real)
                    })
                    .collect()
            })
            .collect();
        Analyzer {
            ids: model.nodes.iter().map(|m| m.id.clone()).collect(),
            pass_through: model.nodes.iter().map(|m| m.kind().routes_only()).collect(),
            on_path,
            waits_on,
            pool: model
                .nodes
                .iter()
                .map(|m| match &m.kind {
                    KindModel::App(a) => a.pool.map(|p| p.target as usize),
                    _ => None,
                })
                .collect(),
            fanouts: headroom::fanouts(model),
        }
    }

    /// True if node `i` is on the path of requests someone waits for.
    pub fn on_path(&self, i: usize) -> bool {
        self.on_path[i]
    }

    /// True if node `i` only hands requests on (never the bottleneck).
    pub fn routes_only(&self, i: usize) -> bool {
        self.pass_through[i]
    }

    /// The node that limits the system given each node's `loads` (in model
    /// order), or `None` when no node can be named.
    pub fn find(&self, loads: &[Load]) -> Option<Finding> {
        // A node that only hands requests on is never named, unless it
        // turns them away by its limit (a rate limiter refusing traffic
        // caps throughput as surely as a full server).
        let eligible = |i: usize, path_only: bool| {
            (!self.pass_through[i] || loads[i].rejected_share() >= OVERFLOWING)
                && (!path_only || self.on_path[i])
        };
        let any_on_path = (0..loads.len())
            .any(|i| eligible(i, true) && (loads[i].utilization > 0.0 || loads[i].dropped > 0));
        // Candidates: every node (`i`), and every app's pool of connections
        // (`n + i`), a resource of its own that calls wait for.
        let n = loads.len();
        let has_pool = |i: usize| self.pool[i].is_some() && loads[i].pool.is_some();
        let candidates = || {
            (0..n).filter(move |&i| eligible(i, any_on_path)).chain(
                (0..n)
                    .filter(move |&i| has_pool(i) && eligible(i, any_on_path))
                    .map(move |i| n + i),
            )
        };
        // The busiest: saturated first, then by utilization, then by
        // drops; ties go to the first in the file (a node before a pool).
        let key = |k: usize| {
            let mut u = self.util(k, loads);
            if k < n && spare(&loads[k]) && loads[k].waiting_share() >= MOSTLY_WAITING {
                // A caller that mostly waits, with servers to spare, is
                // not the limit: rank it by its own work.
                u *= 1.0 - loads[k].waiting_share();
            }
            if k < n {
                (loads[k].saturated(), u, loads[k].dropped)
            } else {
                (u >= SATURATED, u, 0)
            }
        };
        let start = candidates().fold(None::<usize>, |best, i| match best {
            None => Some(i),
            Some(b) => {
                let (x, y) = (key(i), key(b));
                let better = (x.0, x.1) > (y.0, y.1) || ((x.0, x.1) == (y.0, y.1) && x.2 > y.2);
                Some(if better { i } else { b })
            }
        })?;
        let mut chain = vec![start];
        let mut cur = start;
        while let Some(next) = self.follow(cur, loads, &chain) {
            chain.push(next);
            cur = next;
        }
        // Say who waits on it: busy callers whose wait leads here.
        while chain.len() < 8 {
            let head = chain[0];
            let caller = candidates()
                .filter(|&c| {
                    !chain.contains(&c)
                        && self.util(c, loads) >= 0.5
                        && self.follow(c, loads, &[]) == Some(head)
                })
                .max_by(|&a, &b| {
                    self.util(a, loads)
                        .total_cmp(&self.util(b, loads))
                        .then(b.cmp(&a))
                });
            match caller {
                Some(c) => chain.insert(0, c),
                None => break,
            }
        }
        let mut reason = self.reason(&chain, loads);
        let limits = !self.headroom(loads, |i| eligible(i, any_on_path));
        if !limits {
            reason = self.no_limit(&reason, loads);
        }
        // A busier node off the request path (workers of a queue nobody
        // waits for) does not hold users up, but people should know.
        if let Some(o) = (0..loads.len())
            .filter(|&i| !self.pass_through[i] && !self.on_path[i])
            .max_by(|&a, &b| {
                loads[a]
                    .utilization
                    .total_cmp(&loads[b].utilization)
                    .then(b.cmp(&a))
            })
            .filter(|&o| loads[o].utilization > self.util(cur, loads) + 0.05)
        {
            let _ = write!(
                reason,
                " (off the request path, {} is busier: {:.0}% of {} {} busy, on work nobody waits for)",
                self.ids[o],
                100.0 * loads[o].utilization,
                loads[o].servers,
                if loads[o].servers == 1 {
                    "server"
                } else {
                    "servers"
                },
            );
        }
        let mut nodes: Vec<usize> = chain.iter().map(|&c| c % n).collect();
        nodes.dedup();
        Some(Finding {
            node: cur % n,
            utilization: self.util(cur, loads),
            reason,
            chain: nodes,
            pool_to: if cur >= n { self.pool[cur - n] } else { None },
            limits,
        })
    }

    /// The utilization of candidate `c`: node `c`'s, or for `c >= n` the
    /// pool of app `c - n` (connections in use over those open).
    fn util(&self, c: usize, loads: &[Load]) -> f64 {
        let n = loads.len();
        if c < n {
            loads[c].utilization
        } else {
            loads[c - n].pool.unwrap_or(0.0)
        }
    }

    /// "api's pool to db" for candidate `c`.
    fn name(&self, c: usize, n: usize) -> String {
        if c < n {
            return self.ids[c].clone();
        }
        let a = c - n;
        match self.pool[a] {
            Some(t) => format!("{}'s pool to {}", self.ids[a], self.ids[t]),
            None => format!("{}'s pool", self.ids[a]),
        }
    }

    /// The saturated node that node `i`'s servers mostly wait on, if any.
    fn follow(&self, i: usize, loads: &[Load], seen: &[usize]) -> Option<usize> {
        let n = loads.len();
        if i >= n {
            // A pool's connections are held while its calls are out: follow
            // into the node they call when it is saturated or at least as
            // busy as the pool.
            let a = i - n;
            let pu = loads[a].pool?;
            let t = self.pool[a]?;
            let (_, real) = self.waits_on[a].iter().find(|(x, _)| *x == t)?;
            return real
                .iter()
                .copied()
                .filter(|&r| {
                    !seen.contains(&r)
                        && (loads[r].saturated()
                            || (loads[r].utilization >= pu && loads[r].utilization > 0.0))
                })
                .max_by(|&x, &y| {
                    loads[x]
                        .utilization
                        .total_cmp(&loads[y].utilization)
                        .then(y.cmp(&x))
                });
        }
        let l = &loads[i];
        if l.waiting_share() < MOSTLY_WAITING {
            return None;
        }
        // Its own pool, when busy (saturated, or at least as busy as its
        // workers), is what calls wait for: weighed by the time spent
        // waiting for a connection.
        let pool = self.pool[i].filter(|_| {
            loads[i].pool.is_some_and(|pu| {
                !seen.contains(&(n + i)) && (pu >= SATURATED || (pu >= l.utilization && pu > 0.0))
            })
        });
        // Weigh each node called by the time spent waiting on it (all alike
        // when the split is not known); a pool's waits count for its target.
        let mut best: Option<(f64, f64, usize)> = None;
        for (t, real) in &self.waits_on[i] {
            let mut w = match l.waits.iter().find(|(x, _)| x == t) {
                Some((_, s)) => *s,
                None if l.waits.is_empty() => 1.0,
                None => 0.0,
            };
            if self.pool[i] == Some(*t) && pool.is_none() {
                w += l.pool_wait;
            }
            for &r in real {
                // Follow into a node that is saturated, or at least as busy
                // as the caller (it saturates first as traffic grows, and
                // the caller's waits grow with it). A caller with servers
                // to spare is not the limit whatever it waits on: follow
                // its wait anyway.
                if seen.contains(&r)
                    || !(spare(l)
                        || loads[r].saturated()
                        || (loads[r].utilization >= l.utilization && loads[r].utilization > 0.0))
                {
                    continue;
                }
                let k = (w, loads[r].utilization, r);
                if best.is_none_or(|b| (k.0, k.1) > (b.0, b.1)) {
                    best = Some(k);
                }
            }
        }
        if pool.is_some() {
            let k = (l.pool_wait, loads[i].pool.unwrap_or(0.0), n + i);
            if best.is_none_or(|b| (k.0, k.1) > (b.0, b.1)) {
                best = Some(k);
            }
        }
        best.filter(|b| b.0 > 0.0).map(|b| b.2)
    }

    /// "db: 83% of 2 servers busy, ..." for the last node of `chain`, then
    /// how each caller waits on the next.
    fn reason(&self, chain: &[usize], loads: &[Load]) -> String {
        let n = loads.len();
        let last = *chain.last().expect("a chain has a node");
        let mut out = if last >= n {
            self.describe_pool(last - n, &loads[last - n])
        } else {
            self.describe(last, &loads[last])
        };
        let l = &loads[last % n];
        if last < n && l.waiting_share() >= MOSTLY_WAITING && l.utilization >= 0.01 {
            // Busy waiting on nothing saturated: its own pool of workers
            // (or of connections) is what runs out.
            if l.pool_wait >= l.calling {
                let _ = write!(
                    out,
                    ", {:.0}% of that waiting for a connection of its pool",
                    100.0 * l.pool_wait / l.utilization
                );
            } else if let Some((t, s, busiest)) = self.top_wait(last, l, loads) {
                let _ = write!(
                    out,
                    ", {:.0}% of that waiting on {} ({:.0}% busy)",
                    100.0 * s / l.utilization,
                    self.ids[t],
                    100.0 * busiest
                );
            } else {
                let _ = write!(
                    out,
                    ", {:.0}% of that waiting on calls",
                    100.0 * l.calling / l.utilization
                );
            }
        }
        for w in chain.windows(2).rev() {
            let (caller, callee) = (w[0], w[1]);
            if caller >= n {
                let p = &loads[caller - n];
                let _ = write!(
                    out,
                    "; {} waits on it: {:.0}% of {} connection{} in use",
                    self.name(caller, n),
                    100.0 * p.pool.unwrap_or(0.0),
                    p.pool_connections,
                    if p.pool_connections == 1 { "" } else { "s" }
                );
                continue;
            }
            let l = &loads[caller];
            if callee >= n {
                let _ = write!(
                    out,
                    "; {} waits on it: {:.0}% of {} busy, {:.0}% of that waiting for a connection",
                    self.ids[caller],
                    100.0 * l.utilization,
                    l.servers_text(),
                    if l.utilization > 0.0 {
                        100.0 * l.pool_wait.min(l.utilization) / l.utilization
                    } else {
                        0.0
                    }
                );
                continue;
            }
            let waiting = (l.calling + l.pool_wait).min(l.utilization);
            let _ = write!(
                out,
                "; {} waits on it: {:.0}% of {} busy, {:.0}% of that waiting {}",
                self.ids[caller],
                100.0 * l.utilization,
                l.servers_text(),
                if l.utilization > 0.0 {
                    100.0 * waiting / l.utilization
                } else {
                    0.0
                },
                self.split(caller, callee, l)
            );
        }
        out
    }

    /// Where `caller`'s waiting goes, by the measured split over the nodes
    /// it calls: "on db" when all of it is on the node that leads to
    /// `callee`, else "on lb (in front of s2)" for a node that hands
    /// requests on, or "52% on s2, 48% on s1" (the shares of the waiting,
    /// largest first, the one leading to `callee` named first on a tie).
    fn split(&self, caller: usize, callee: usize, l: &Load) -> String {
        let label = |t: usize| {
            if t == callee {
                self.ids[t].clone()
            } else {
                let behind = self.waits_on[caller]
                    .iter()
                    .any(|(x, real)| *x == t && real.contains(&callee));
                if behind {
                    format!("{} (in front of {})", self.ids[t], self.ids[callee])
                } else {
                    self.ids[t].clone()
                }
            }
        };
        let total: f64 = l.waits.iter().map(|(_, s)| s.max(0.0)).sum();
        let mut parts: Vec<(usize, f64)> = l
            .waits
            .iter()
            .filter(|(_, s)| *s > 0.0)
            .map(|&(t, s)| (t, s / total))
            .collect();
        let leads = |t: usize| {
            self.waits_on[caller]
                .iter()
                .any(|(x, real)| *x == t && real.contains(&callee))
        };
        parts.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(leads(b.0).cmp(&leads(a.0)))
                .then(a.0.cmp(&b.0))
        });
        match parts.as_slice() {
            [] => {
                // The split is not known: the node that leads to `callee`.
                let t = self.waits_on[caller]
                    .iter()
                    .find(|(_, real)| real.contains(&callee))
                    .map_or(callee, |(t, _)| *t);
                format!("on {}", label(t))
            }
            [(t, _)] => format!("on {}", label(*t)),
            _ => {
                let shown: Vec<String> = parts
                    .iter()
                    .map(|&(t, s)| format!("{:.0}% on {}", 100.0 * s, label(t)))
                    .collect();
                format!("({})", shown.join(", "))
            }
        }
    }

    /// The node called that node `i` waits on most, the share of capacity
    /// spent waiting on it, and the utilization of the busiest node serving
    /// it (behind a balancer, the busiest backend).
    fn top_wait(&self, i: usize, l: &Load, loads: &[Load]) -> Option<(usize, f64, f64)> {
        let (t, s) = l
            .waits
            .iter()
            .copied()
            .fold(None::<(usize, f64)>, |b, x| match b {
                Some(b) if b.1 >= x.1 => Some(b),
                _ => Some(x),
            })?;
        let (_, real) = self.waits_on[i].iter().find(|(x, _)| *x == t)?;
        let busiest = real
            .iter()
            .map(|&r| loads[r].utilization)
            .fold(0.0, f64::max);
        Some((t, s, busiest))
    }

    /// "api's pool to db: 90% of 2 connections in use; calls wait for a free
    /// connection (6.2 waiting on average)".
    fn describe_pool(&self, a: usize, l: &Load) -> String {
        let n = self.ids.len();
        let mut out = format!(
            "{}: {:.0}% of {} connection{} in use",
            self.name(n + a, n),
            100.0 * l.pool.unwrap_or(0.0),
            l.pool_connections,
            if l.pool_connections == 1 { "" } else { "s" }
        );
        let waiting = l.pool_wait * l.servers as f64;
        if waiting >= 0.05 {
            let _ = write!(
                out,
                "; calls wait for a free connection ({waiting:.1} waiting on average)"
            );
        }
        out
    }

    /// "db: 83% of 2 servers busy, 3.4 waiting on average, adds 14ms of
    /// waiting per visit, drops 1.2% of arrivals".
    fn describe(&self, i: usize, l: &Load) -> String {
        if self.pass_through[i] {
            // A limiter: no servers of its own, only its limit.
            return format!(
                "{}: refuses {:.1}% of arrivals over its rate limit (its limit, not a busy server, caps the traffic let through)",
                self.ids[i],
                100.0 * l.rejected_share()
            );
        }
        let mut out = format!(
            "{}: {:.0}% of {} busy",
            self.ids[i],
            l.utilization * 100.0,
            l.servers_text()
        );
        if l.mean_queue >= 0.05 {
            let _ = write!(out, ", {:.1} waiting on average", l.mean_queue);
        }
        if let Some(w) = l.mean_wait_ms
            && w >= 0.001
        {
            let _ = write!(out, ", adds {} of waiting per visit", fmt_ms(Some(w)));
        }
        let dropped = l.dropped.saturating_sub(l.rejected);
        if dropped > 0 && l.arrivals > 0 {
            let _ = write!(
                out,
                ", drops {:.1}% of arrivals",
                100.0 * dropped as f64 / l.arrivals as f64
            );
        }
        if l.rejected > 0 && l.arrivals > 0 {
            let _ = write!(
                out,
                ", refuses {:.1}% of arrivals over its rate limit",
                100.0 * l.rejected_share()
            );
        }
        if l.refused_connections > 0 {
            let _ = write!(
                out,
                ", refused {} pool connections at its connection limit",
                crate::fmt::fmt_count(l.refused_connections)
            );
        }
        out
    }
}
