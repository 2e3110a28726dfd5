//! Every accepted fault acts: the symbolic state of a fault plan, and the
//! question whether one more change would change anything.
//!
//! [`FaultState`] follows a plan's changes in time order without simulating
//! a request: which nodes are down (crashed or drained), each node's slow-down
//! and error rate, its servers (an app's workers), an app's instances, a
//! router's shards, a pooler's granted connections, the partitions, the
//! traffic multiplier, whether each burst has fired and when each cache was
//! last emptied. With the static [`Reach`] of the model (where any source's
//! traffic can go) it answers [`fault_effect`]: `Ok` when the change can act,
//! or [`NoEffect`], saying why it would do nothing and what would.
//!
//! A refusal must be sound: a change is refused only when it provably does
//! nothing, whatever the rest of the plan does; when unsure, it is
//! accepted. A node no traffic reaches *now* may still hold a backlog (an
//! overloaded database, a queue's messages, a burst in service), and
//! settings persist (a slow-down or error rate set while a node is down or
//! cut off is in force after its `Up` or `Heal`; a cache keeps its keys
//! while its readers are away), so "no traffic now" alone refuses nothing.
//!
//! Refused: `Down`/`Drain` of a node already down; `Up` of a node that is
//! not down; `Down`, `Drain`, `Slow`, `Errors`, `Shards`, `Servers` and
//! `Instances` on a node no traffic can ever reach with every node up and
//! nothing cut (and that no traffic reached earlier in the plan), except a
//! pool's or pooler's holder, whose connections others share (and for
//! `Down`/`Drain`, a node a balancer's health checks probe); `Slow`/`Errors` at the factor
//! or rate the node already has (so `Slow(1.0)` and `Errors(0.0)` with
//! nothing to restore); `Servers`, `Instances` and `Shards` at the value
//! the node already has (a pooler's granted connections, capped by its
//! database's `max_connections`); `Flush` of a cache that holds nothing
//! (capacity 0, nothing can fill it, a CDN with no cacheable class,
//! crashed, or not filled for any stretch of time since it was last
//! emptied); `Partition` of a pair no traffic can ever travel, or already
//! cut; `Heal` of a pair not cut; `DownRegion` of
//! a region with no node, or whose every node is down or never reached;
//! `UpRegion` with nothing down; `Traffic` that changes no source (the
//! multiplier in force, so `Spike(times: 1.0)` and `Ramp(to: 1.0)` at x1;
//! bursts only, which no multiplier scales; closed loops whose user count
//! stays); a `Slow` or `Errors` that a later item replaces at the same
//! instant (nothing is served between them). Traffic at the multiplier in
//! force only draws the open loops' next arrivals again from the same
//! memoryless process: it is refused as doing nothing.
//!
//! Scenario plans call it for every timeline item (an error, or a warning
//! for a recorded `Exact` item, which must replay as the session ran);
//! front ends can ask it before applying a change live
//! ([`FaultState::of_live`]). The engine's own [`Change::check`] refuses
//! what cannot apply at all (wrong kind, out of range), whatever the state.

use super::Reach;
use crate::kinds::KindModel;
use crate::model::Model;
use crate::sim::{Change, Simulation};
use crate::time::{Duration, SimTime};
use std::collections::BTreeSet;

mod apply;

/// Why a change would do nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct NoEffect {
    /// The node (or region) it names, when one is at fault.
    pub node: Option<String>,
    /// What would not happen.
    pub message: String,
    /// Why, and what would act instead.
    pub hint: String,
}

/// A node's down state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Down {
    Up,
    /// Crashed (`Down`, `DownRegion`): requests lost, a cache emptied.
    Crashed,
    /// Drained, or down for a reason not known (live).
    Drained,
}

/// The symbolic state of a fault plan at one instant (see the module docs).
#[derive(Clone, Debug)]
pub struct FaultState {
    /// Where traffic can go with every node up and nothing cut.
    open: Reach,
    /// Where it goes now.
    reach: Reach,
    /// Work left for recomputing `reach` (then it stays `open`).
    budget: u64,
    /// Per source: what it is (open loop, closed loop's users, burst).
    sources: Vec<Sends>,
    now: SimTime,
    down: Vec<Down>,
    slow: Vec<f64>,
    errors: Vec<f64>,
    /// What `Servers` sets (an app's workers, a pooler's granted
    /// connections); `None` when not known.
    servers: Vec<Option<u32>>,
    instances: Vec<Option<u32>>,
    shards: Vec<Option<u32>>,
    /// When a cache last became empty (start, flush, crash), if known.
    emptied: Vec<Option<SimTime>>,
    /// Per node: traffic has reached it at some time in the plan so far
    /// (it may still hold a backlog).
    seen: Vec<bool>,
    /// Per cache: it may hold keys (filled for a stretch of time since it
    /// was last emptied, warm, or not known).
    held: Vec<bool>,
    /// Per cache: since when traffic fills it, while it does.
    filling: Vec<Option<SimTime>>,
    partitions: BTreeSet<(u32, u32)>,
    traffic: f64,
    /// Per source: a burst's instant and whether it has fired.
    bursts: Vec<Option<(SimTime, bool)>>,
}

/// What a source is, for whether it sends now.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Sends {
    Open,
    Users(u32),
    Burst,
}

/// Work allowed for recomputing where traffic goes over one plan: nodes
/// and edges times classes, summed over the changes that move it.
const REACH_WORK: u64 = 200_000_000;

/// Whether `change` would act on a simulation of `model` in `state` (at
/// the state's time): `Ok`, or why it would do nothing.
pub fn fault_effect(model: &Model, state: &FaultState, change: &Change) -> Result<(), NoEffect> {
    state.effect(model, change)
}

fn no(node: &str, message: String, hint: impl Into<String>) -> Result<(), NoEffect> {
    Err(NoEffect {
        node: Some(node.to_string()),
        message,
        hint: hint.into(),
    })
}

/// A pair, smaller index first.
fn pair(a: usize, b: usize) -> (u32, u32) {
    (a.min(b) as u32, a.max(b) as u32)
}

impl FaultState {
    /// The state at the start of a run of `model`: every node up at its
    /// configured settings, no partition, traffic x1.
    pub fn new(model: &Model) -> FaultState {
        let n = model.nodes.len();
        let open = Reach::of(model);
        let mut s = FaultState {
            reach: open.clone(),
            open,
            budget: REACH_WORK,
            sources: sends(model),
            now: 0,
            down: vec![Down::Up; n],
            slow: vec![1.0; n],
            errors: vec![0.0; n],
            servers: vec![None; n],
            instances: vec![None; n],
            shards: vec![None; n],
            emptied: vec![None; n],
            seen: vec![false; n],
            held: vec![false; n],
            filling: vec![None; n],
            partitions: BTreeSet::new(),
            traffic: 1.0,
            bursts: model
                .sources
                .iter()
                .map(|s| s.burst.map(|(_, at)| (at, false)))
                .collect(),
        };
        s.configured(model, 0..n);
        s.refresh(model);
        s.advance(model, 0);
        s
    }

    /// The state of a running simulation, for a front end that asks before
    /// applying a change live. Partitions and shard counts come from the
    /// change log; a down node counts as drained (so a `Flush` of it is not
    /// refused), a cache's keys as unknown.
    pub fn of_live(sim: &Simulation) -> FaultState {
        let model = sim.model();
        let mut s = FaultState::new(model);
        s.now = sim.now();
        s.traffic = sim.traffic_multiplier();
        for i in 0..model.nodes.len() {
            let live = sim.live(i);
            s.down[i] = if live.down { Down::Drained } else { Down::Up };
            s.slow[i] = live.slow;
            s.errors[i] = live.error_rate;
            s.emptied[i] = None;
            // A cache's keys are not known: it may hold some.
            s.held[i] = true;
            s.seen[i] = true;
            s.servers[i] = match &model.nodes[i].kind {
                KindModel::App(_) => live.instances.filter(|&k| k > 0).map(|k| live.servers / k),
                KindModel::Pooler(_) => s.servers[i].map(|_| live.servers),
                _ => Some(live.servers),
            };
            if s.instances[i].is_some() {
                s.instances[i] = live.instances;
            }
        }
        for c in sim.changes() {
            match &c.change {
                Change::Partition { a, b } | Change::Heal { a, b } => {
                    if let (Some(x), Some(y)) = (model.node_index(a), model.node_index(b)) {
                        if matches!(c.change, Change::Partition { .. }) {
                            s.partitions.insert(pair(x, y));
                        } else {
                            s.partitions.remove(&pair(x, y));
                        }
                    }
                }
                Change::Shards { node, count } => {
                    if let Some(i) = model.node_index(node) {
                        s.shards[i] = Some(*count);
                    }
                }
                _ => {}
            }
        }
        // A burst whose instant has passed has fired (the multiplier does
        // not hold it back).
        for b in s.bursts.iter_mut().flatten() {
            b.1 = b.0 <= s.now;
        }
        s.refresh(model);
        s
    }

    /// Where traffic goes now: from the sources that send, not past a
    /// node that is down (a CDN passes to its origin, a primary to its
    /// failover replica) or fails every request, nor across a cut.
    pub fn reach(&self) -> &Reach {
        &self.reach
    }

    /// Recomputes where traffic goes now (within the work budget; past it,
    /// where it could go with everything up).
    fn refresh(&mut self, model: &Model) {
        self.settle();
        self.reroute(model);
        for i in 0..self.seen.len() {
            self.seen[i] |= self.reach.node(i);
            let fills = self.down[i] == Down::Up && self.reach.fills(model, i).is_ok();
            self.filling[i] = if fills {
                Some(self.filling[i].unwrap_or(self.now))
            } else {
                None
            };
        }
    }

    /// A cache filled for a stretch of time up to now may hold keys.
    fn settle(&mut self) {
        for i in 0..self.held.len() {
            if self.filling[i].is_some_and(|t| self.now > t) {
                self.held[i] = true;
            }
        }
    }

    /// True when cache `i` may hold keys now.
    fn may_hold(&self, i: usize) -> bool {
        self.held[i] || self.filling[i].is_some_and(|t| self.now > t)
    }

    /// True when node `i` is down now (crashed or drained).
    pub fn is_down(&self, i: usize) -> bool {
        self.down.get(i).is_some_and(|d| *d != Down::Up)
    }

    /// True when traffic can reach node `i` at some time: now, earlier in
    /// the plan, or once what cuts it off is undone.
    fn ever(&self, i: usize) -> bool {
        self.open.node(i) || self.seen.get(i) == Some(&true) || self.reach.node(i)
    }

    fn reroute(&mut self, model: &Model) {
        let k = model.classes.len().max(1) as u64;
        let edges: u64 = model.nodes.iter().map(|n| n.flows.len() as u64 + 2).sum();
        let cost = (edges + model.sources.len() as u64) * k;
        if cost > self.budget {
            self.budget = 0;
            self.reach = self.open.clone();
            return;
        }
        self.budget -= cost;
        let on: Vec<bool> = (0..model.sources.len()).map(|s| self.sends(s)).collect();
        let stops: Vec<bool> = (0..model.nodes.len())
            .map(|i| {
                let passes = matches!(
                    model.nodes[i].kind,
                    KindModel::Cdn(_) | KindModel::Database(_)
                );
                (self.down.get(i).is_some_and(|d| *d != Down::Up) && !passes)
                    || self.errors.get(i).is_some_and(|e| *e >= 1.0)
            })
            .collect();
        self.reach = Reach::now(model, &on, &stops, &self.partitions);
    }

    /// True when source `s` sends requests now.
    fn sends(&self, s: usize) -> bool {
        match self.sources.get(s) {
            Some(Sends::Open) => self.traffic > 0.0,
            Some(Sends::Users(u)) => crate::sim::users_at(*u, self.traffic) > 0,
            Some(Sends::Burst) => self.bursts.get(s).copied().flatten().is_some_and(|b| !b.1),
            None => false,
        }
    }

    /// The state's time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Node `i`'s settings as `model` configures them.
    fn configured(&mut self, model: &Model, nodes: std::ops::Range<usize>) {
        for i in nodes {
            let node = &model.nodes[i];
            self.servers[i] = Some(node.servers);
            self.instances[i] = None;
            self.shards[i] = None;
            match &node.kind {
                KindModel::App(a) => {
                    self.servers[i] = Some(a.workers);
                    // An autoscaler moves instances on its own.
                    self.instances[i] = a.autoscale.is_none().then_some(a.instances);
                }
                KindModel::Pooler(p) => {
                    self.servers[i] = pooler_grant(model, i, p.to, node.servers)
                }
                KindModel::ShardRouter(r) => self.shards[i] = Some(r.active),
                KindModel::Cache(c) if c.warm == 0 => self.emptied[i] = Some(self.now),
                // A warm cache holds its first keys until emptied.
                KindModel::Cache(c) => self.held[i] = c.capacity > 0,
                KindModel::Cdn(_) => self.emptied[i] = Some(self.now),
                _ => {}
            }
        }
    }

    /// Moves the state's clock to `t` (not backwards): a burst whose
    /// instant has come fires (whatever the traffic multiplier).
    pub fn advance(&mut self, model: &Model, t: SimTime) {
        self.now = self.now.max(t);
        let mut fired = false;
        for b in self.bursts.iter_mut().flatten() {
            if b.0 <= self.now && !b.1 {
                b.1 = true;
                fired = true;
            }
        }
        if fired {
            self.refresh(model);
        }
    }

    /// Whether `change` would act now (see [`fault_effect`]).
    pub fn effect(&self, model: &Model, change: &Change) -> Result<(), NoEffect> {
        let at = Duration(self.now);
        let idx = |id: &str| model.node_index(id).filter(|&i| i < self.down.len());
        let unreached = |id: &str, what: &str| {
            let mut near: Vec<&str> = self
                .reach
                .nodes()
                .take(6)
                .map(|j| model.nodes[j].id.as_str())
                .collect();
            let more = if near.len() > 5 { ", ..." } else { "" };
            near.truncate(5);
            no(
                id,
                format!("no traffic reaches `{id}`, so {what} would change nothing"),
                if near.is_empty() {
                    "no source's requests reach any node".to_string()
                } else {
                    format!(
                        "no source's requests arrive there (through routes, backends, shards, calls, fan-outs, publishes, fills or failover); route traffic to it, or choose a node traffic reaches: {}{more}",
                        near.join(", ")
                    )
                },
            )
        };
        match change {
            Change::Down(id) | Change::Drain(id) => {
                let Some(i) = idx(id) else { return Ok(()) };
                if self.down[i] != Down::Up {
                    return no(
                        id,
                        format!(
                            "`{id}` is already down at {at}, so taking it down again would change nothing"
                        ),
                        format!("bring it back first with `Up(\"{id}\")`, or remove this event"),
                    );
                }
                if !self.ever(i) && !self.reach.probed(i) {
                    return unreached(id, "taking it down");
                }
            }
            Change::Up(id) => {
                let Some(i) = idx(id) else { return Ok(()) };
                if self.down[i] == Down::Up {
                    return no(
                        id,
                        format!(
                            "`{id}` is not down at {at}, so bringing it up would change nothing"
                        ),
                        "`Up` undoes an earlier `Down`, `Drain` or `DownRegion`; take the node down first, or remove this event",
                    );
                }
            }
            Change::Slow { node, factor } => {
                let Some(i) = idx(node) else { return Ok(()) };
                if self.slow[i] == *factor {
                    return no(
                        node,
                        if *factor == 1.0 {
                            format!(
                                "`{node}` already runs at normal speed at {at}, so `Slow(factor: 1.0)` would restore nothing"
                            )
                        } else {
                            format!("`{node}` is already x{factor} slower at {at}")
                        },
                        "`Slow(factor: 1.0)` undoes an earlier slow-down; to slow the node, use a factor other than the one it has",
                    );
                }
                // Persists: acts after an `Up` or `Heal` if not before.
                if !self.ever(i) {
                    return unreached(node, "slowing it");
                }
            }
            Change::Errors { node, rate } => {
                let Some(i) = idx(node) else { return Ok(()) };
                if self.errors[i] == *rate {
                    return no(
                        node,
                        if *rate == 0.0 {
                            format!(
                                "`{node}` injects no errors at {at}, so `Errors(rate: 0.0)` would restore nothing"
                            )
                        } else {
                            format!("`{node}` already fails a share {rate} of its requests at {at}")
                        },
                        "`Errors(rate: 0.0)` undoes an earlier `Errors`; to inject errors, use a rate other than the one it has",
                    );
                }
                // Persists: acts after an `Up` or `Heal` if not before.
                if !self.ever(i) {
                    return unreached(node, "injecting errors there");
                }
            }
            Change::Servers { node, servers } => {
                let Some(i) = idx(node) else { return Ok(()) };
                let want = match &model.nodes[i].kind {
                    KindModel::Pooler(p) => pooler_grant(model, i, p.to, *servers),
                    _ => Some(*servers),
                };
                if let (Some(now), Some(want)) = (self.servers[i], want)
                    && now == want
                {
                    let capped = want != *servers;
                    return no(
                        node,
                        if capped {
                            format!(
                                "its database grants pooler `{node}` at most {want} connections (its `max_connections`), so asking for {servers} leaves it with the {now} it has at {at}"
                            )
                        } else {
                            format!(
                                "`{node}` already has {now} {} at {at}",
                                servers_word(model, i)
                            )
                        },
                        if capped {
                            "raise the database's `max_connections` (a live edit), or ask for fewer connections than it has".to_string()
                        } else {
                            "give a different number, or remove this event".to_string()
                        },
                    );
                }
                // Capacity counts even while no traffic comes (utilization
                // is busy over capacity): only a node never reached is moot.
                if !self.ever(i) && !holds_connections(model, i) {
                    return unreached(node, "changing its servers");
                }
            }
            Change::Instances { node, count } => {
                let Some(i) = idx(node) else { return Ok(()) };
                if self.instances[i] == Some(*count) {
                    return no(
                        node,
                        format!(
                            "`{node}` already runs {} at {at}",
                            crate::fmt::fmt_counted((*count).into(), "instance")
                        ),
                        "give a different number, or remove this event",
                    );
                }
                if !self.ever(i) && !holds_connections(model, i) {
                    return unreached(node, "changing its instances");
                }
            }
            Change::Shards { node, count } => {
                let Some(i) = idx(node) else { return Ok(()) };
                if self.shards[i] == Some(*count) {
                    return no(
                        node,
                        format!("`{node}` already uses {count} shards at {at}"),
                        "give a different number, or remove this event",
                    );
                }
                // Persists: acts after an `Up` or `Heal` if not before.
                if !self.ever(i) {
                    return unreached(node, "resharding it");
                }
            }
            Change::Flush(id) => {
                let Some(i) = idx(id) else { return Ok(()) };
                if let Err(why) = self.open.fills(model, i) {
                    // A warm cache holds its first keys until emptied.
                    if !(self.may_hold(i) && self.ever(i)) {
                        return no(
                            id,
                            format!("flushing `{id}` would change nothing: {why}"),
                            "flush a cache that traffic fills (through `CacheAside` or `WriteThrough` steps, a read-through `backend`, or a CDN's cacheable classes)",
                        );
                    }
                }
                if self.down[i] == Down::Crashed {
                    return no(
                        id,
                        format!(
                            "`{id}` is down at {at}: it emptied when it went down and nothing fills it while it is down"
                        ),
                        format!("flush it after `Up(\"{id}\")`, once traffic has filled it again"),
                    );
                }
                if !self.may_hold(i) {
                    return no(
                        id,
                        if self.emptied[i] == Some(self.now) {
                            format!(
                                "`{id}` is empty at {at} (it started empty, was flushed or came back at this instant), so flushing it would change nothing"
                            )
                        } else {
                            format!(
                                "`{id}` holds no keys at {at}: no traffic has filled it since it was last emptied, so flushing it would change nothing"
                            )
                        },
                        "flush it later, once traffic has filled it",
                    );
                }
            }
            Change::Partition { a, b } | Change::Heal { a, b } => {
                let (Some(x), Some(y)) = (idx(a), idx(b)) else {
                    return Ok(());
                };
                let cut = self.partitions.contains(&pair(x, y));
                if matches!(change, Change::Heal { .. }) {
                    if !cut {
                        return no(
                            a,
                            format!(
                                "the network between `{a}` and `{b}` is not cut at {at}, so healing it would change nothing"
                            ),
                            "`Heal` undoes an earlier `Partition` of the same pair",
                        );
                    }
                } else if cut {
                    return no(
                        a,
                        format!("the network between `{a}` and `{b}` is already cut at {at}"),
                        "remove this event, or `Heal` the pair first",
                    );
                } else if !self.reach.between(x, y) && !self.open.between(x, y) {
                    return no(
                        a,
                        format!(
                            "no traffic can go between `{a}` and `{b}`, so cutting the network between them would change nothing"
                        ),
                        "cut a pair that traffic reaches: a node and one it sends requests to",
                    );
                }
            }
            Change::DownRegion(r) | Change::UpRegion(r) => {
                let Some(ri) = model.regions.iter().position(|x| x == r) else {
                    return Ok(());
                };
                let members: Vec<usize> = (0..self.down.len())
                    .filter(|&i| model.node_region.get(i) == Some(&(ri as u16)))
                    .collect();
                let region = |message: String, hint: &str| {
                    Err(NoEffect {
                        node: Some(r.clone()),
                        message,
                        hint: hint.into(),
                    })
                };
                if members.is_empty() {
                    return region(
                        format!(
                            "no node is in region `{r}`, so taking it down or up would change nothing"
                        ),
                        "list nodes in the region's `nodes`, or name a region that has nodes",
                    );
                }
                if matches!(change, Change::DownRegion(_)) {
                    if !members.iter().any(|&i| {
                        self.down[i] == Down::Up && (self.ever(i) || self.reach.probed(i))
                    }) {
                        return region(
                            format!(
                                "every node of region `{r}` is already down at {at} or never reached by traffic, so taking the region down would change nothing"
                            ),
                            "take the region down while traffic reaches some of its nodes",
                        );
                    }
                } else if members.iter().all(|&i| self.down[i] == Down::Up) {
                    return region(
                        format!(
                            "no node of region `{r}` is down at {at}, so bringing the region up would change nothing"
                        ),
                        "`UpRegion` undoes an earlier `DownRegion` (or `Down` of its nodes)",
                    );
                }
            }
            Change::Traffic(m) => {
                if !model
                    .sources
                    .iter()
                    .enumerate()
                    .any(|(s, src)| self.traffic_acts(s, src, *m))
                {
                    let burst = model.sources.iter().all(|s| s.burst.is_some());
                    return Err(NoEffect {
                        node: None,
                        message: if burst {
                            format!(
                                "every source is a `Burst`, which traffic x{m} does not scale, so it would change nothing"
                            )
                        } else if m == &self.traffic {
                            format!("traffic is already x{m} at {at}, so it would change nothing")
                        } else {
                            format!(
                                "traffic x{m} gives every source as many users as it has at {at}, so it would change nothing"
                            )
                        },
                        hint: if burst {
                            "a burst sends its requests at its instant whatever the multiplier (0 included); to load the system more, add requests to the burst or an open-loop source".into()
                        } else {
                            "use a multiplier other than the one in force (a `Spike` of x1 or a `Ramp` to the multiplier in force does nothing either)".into()
                        },
                    });
                }
            }
            Change::Restructure(_) => {}
        }
        Ok(())
    }

    /// True when traffic `m` changes what source `s` sends from now.
    fn traffic_acts(&self, s: usize, src: &crate::model::SourceModel, m: f64) -> bool {
        if let Some(Some(_)) = self.bursts.get(s) {
            // A burst sends its count at its instant whatever the multiplier.
            return false;
        }
        match &src.closed {
            Some((users, _)) => {
                let users = *users as f64;
                closed_users(users, m) != closed_users(users, self.traffic)
            }
            // An open loop's rate is its profile's times the multiplier:
            // the same multiplier draws its next arrivals again from the
            // same memoryless process, which changes nothing.
            None => m != self.traffic,
        }
    }
}

/// Closed-loop users under traffic `m` (as the engine rounds them).
fn closed_users(users: f64, m: f64) -> f64 {
    crate::sim::users_at(users as u32, m) as f64
}

/// What each source of `model` is.
fn sends(model: &Model) -> Vec<Sends> {
    model
        .sources
        .iter()
        .map(|s| match (&s.burst, &s.closed) {
            (Some(_), _) => Sends::Burst,
            (None, Some((users, _))) => Sends::Users(*users),
            (None, None) => Sends::Open,
        })
        .collect()
}

/// What `Servers` counts on node `i`, in words.
fn servers_word(model: &Model, i: usize) -> &'static str {
    match model.nodes[i].kind {
        KindModel::App(_) => "workers per instance",
        KindModel::Pooler(_) => "connections",
        KindModel::Database(_) | KindModel::Replica(_) => "cores",
        _ => "servers",
    }
}

/// True when node `i` holds database connections (an app's pool, a
/// pooler): changing its size changes what others get, traffic or not.
fn holds_connections(model: &Model, i: usize) -> bool {
    match &model.nodes[i].kind {
        KindModel::App(a) => a.pool.is_some(),
        KindModel::Pooler(_) => true,
        _ => false,
    }
}

/// The connections pooler `i` gets when it asks `to` for `want`: capped by
/// a database's or replica's connection limit when no other pool or
/// pooler shares it; `None` when others do (what is left depends on them).
fn pooler_grant(model: &Model, i: usize, to: u32, want: u32) -> Option<u32> {
    let max = match &model.nodes.get(to as usize)?.kind {
        KindModel::Database(d) => d.max_connections,
        KindModel::Replica(r) => r.max_connections,
        _ => None,
    };
    let Some(max) = max else { return Some(want) };
    let shared = model.nodes.iter().enumerate().any(|(j, m)| {
        j != i
            && match &m.kind {
                KindModel::App(a) => a.pool.as_ref().is_some_and(|p| p.target == to),
                KindModel::Pooler(p) => p.to == to,
                _ => false,
            }
    });
    (!shared).then_some(want.min(max))
}
