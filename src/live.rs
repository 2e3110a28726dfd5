//! Structural edits of a running simulation: the edited topology turned
//! into the engine's [`Restructure`], whose model keeps every running
//! node, source and request class at its index (see
//! [`crate::sim::Restructure`]).
//!
//! A node of the running model that the edited topology still has (same id
//! and kind) persists at its index with its edited settings, which it takes
//! in place whatever they are ([`updates_in_place`]; each kind's `retune`
//! says how). A node whose kind changes under the same id is replaced: like
//! a node the edit removes, it stays at its index as a retired node renamed
//! `id:removed` (its references to other retired nodes renamed with it);
//! the edited node, and every new node, come after the running ones in the
//! edited topology's order. The nodes that call a replaced node persist:
//! they call the new one by its id.
//!
//! Sources go the same way: one the edited topology still has persists at
//! its index, taking its edited settings in place when its kind of
//! arrivals stays (open loop, closed loop, closed loop with sessions,
//! burst: users join or leave, a burst not yet fired is re-timed; see
//! `sim::restructure_sources`); otherwise (removed, or its kind changed)
//! it stays at its index renamed `id:removed`, silent (rate 0, no profile;
//! its mix and clients kept for its requests in flight), and the edited
//! source comes after the running ones. Request classes
//! keep their order: the running ones first, new ones appended. Regions
//! are taken as edited (retired nodes and sources are in none).

use crate::diag::Diagnostics;
use crate::kinds::Node;
use crate::model::Model;
use crate::profile::Arrivals;
pub use crate::sim::Retired;
use crate::sim::{Restructure, updates_in_place};
use crate::topology::{Source, Topology, load_str, parse, ron_options, to_ron};

/// The engine's restructure for `edited`, applied to a simulation running
/// `current` with `retired` nodes and sources. Errors are the loader's,
/// about the edited topology as people wrote it (`file` names it).
pub fn restructure(
    file: &str,
    current: &Model,
    retired: Retired,
    edited: &Topology,
    what: &str,
) -> Result<Restructure, Diagnostics> {
    let text = to_ron(edited);
    // The edit on its own, with the words the CLI would use.
    load_str(file, &text)?;
    let n = current.nodes.len();
    let st = stable(current, retired, edited);
    let stable_text = to_ron(&st.top);
    let top = parse(file, &stable_text)?;
    let model =
        crate::topology::compile::compile_keeping(file, &stable_text, top, &current.classes)?.model;
    // Every persisting node keeps its kind (`stable` replaces the others),
    // so each takes its edit in place.
    debug_assert!((0..n).all(|i| retired.nodes[i]
        || st.retire.contains(&(i as u32))
        || updates_in_place(&current.nodes[i].kind, &model.nodes[i].kind)));
    Ok(Restructure {
        model: Box::new(model),
        retire: st.retire,
        retire_sources: st.retire_sources,
        topology: text,
        what: what.to_string(),
    })
}

/// The stable topology and what it retires.
struct Stable {
    top: Topology,
    retire: Vec<u32>,
    retire_sources: Vec<u32>,
}

/// True when a running source takes the edited settings `b` in place: the
/// same, or open loop before and after.
fn in_place(a: &Source, b: &Source) -> bool {
    use crate::sim::arrivals_shape;
    a == b || arrivals_shape(&a.arrivals) == arrivals_shape(&b.arrivals)
}

/// The stable topology: running nodes and sources at their indices
/// (removed ones, and nodes whose kind changed, renamed), then the new ones; and the nodes
/// and sources retired now.
fn stable(current: &Model, retired: Retired, edited: &Topology) -> Stable {
    let running = &current.topology.nodes;
    let find = |id: &str| edited.nodes.iter().position(|m| m.id() == id);
    let mut nodes: Vec<Node> = Vec::with_capacity(running.len() + edited.nodes.len());
    let mut used = vec![false; edited.nodes.len()];
    let mut retire = Vec::new();
    let mut renames: Vec<(String, String)> = Vec::new();
    let mut given: Vec<String> = Vec::new();
    let mut fresh = |id: &str| {
        let taken = |c: &str| {
            given.iter().any(|g| g == c)
                || running.iter().any(|m| m.id() == c)
                || edited.nodes.iter().any(|m| m.id() == c)
                || current.topology.sources.iter().any(|s| s.id == c)
                || edited.sources.iter().any(|s| s.id == c)
        };
        let mut k = 1;
        let c = loop {
            let c = match k {
                1 => format!("{id}:removed"),
                _ => format!("{id}:removed-{k}"),
            };
            if !taken(&c) {
                break c;
            }
            k += 1;
        };
        given.push(c.clone());
        c
    };
    for (i, node) in running.iter().enumerate() {
        if retired.nodes[i] {
            nodes.push(node.clone());
            continue;
        }
        match find(node.id()).filter(|&j| edited.nodes[j].kind_of() == node.kind_of()) {
            Some(j) => {
                used[j] = true;
                nodes.push(edited.nodes[j].clone());
            }
            _ => {
                retire.push(i as u32);
                let new_id = fresh(node.id());
                renames.push((node.id().to_string(), new_id.clone()));
                let mut t = node.clone();
                *t.id_mut() = new_id;
                nodes.push(t);
            }
        }
    }
    // Retired nodes name each other by their new ids.
    for (i, node) in nodes.iter_mut().enumerate() {
        if retired.nodes[i] || retire.contains(&(i as u32)) {
            *node = renamed(node, &renames);
        }
    }
    for (j, m) in edited.nodes.iter().enumerate() {
        if !used[j] {
            nodes.push(m.clone());
        }
    }
    // Sources, the same way.
    let rename = |to: &str| {
        renames
            .iter()
            .find(|(from, _)| from == to)
            .map_or(to.to_string(), |(_, new)| new.clone())
    };
    let mut sources: Vec<Source> = Vec::new();
    let mut used = vec![false; edited.sources.len()];
    let mut retire_sources = Vec::new();
    for (s, src) in current.topology.sources.iter().enumerate() {
        let mut t = src.clone();
        t.to = rename(&t.to);
        if retired.sources.get(s).copied().unwrap_or(false) {
            sources.push(t);
            continue;
        }
        match edited.sources.iter().position(|e| e.id == src.id) {
            Some(j) if in_place(src, &edited.sources[j]) => {
                used[j] = true;
                sources.push(edited.sources[j].clone());
            }
            _ => {
                retire_sources.push(s as u32);
                t.id = fresh(&src.id);
                t.arrivals = Arrivals::Poisson { rps: 0.0 };
                t.profile = None;
                sources.push(t);
            }
        }
    }
    for (j, m) in edited.sources.iter().enumerate() {
        if !used[j] {
            sources.push(m.clone());
        }
    }
    Stable {
        top: Topology {
            nodes,
            sources,
            ..edited.clone()
        },
        retire,
        retire_sources,
    }
}

/// `node` with every id it names renamed (its own included).
fn renamed(node: &Node, renames: &[(String, String)]) -> Node {
    let Ok(mut text) = ron_options().to_string(node) else {
        return node.clone();
    };
    for (from, to) in renames {
        text = text.replace(&format!("{from:?}"), &format!("{to:?}"));
    }
    ron_options()
        .from_str(&text)
        .unwrap_or_else(|_| node.clone())
}

#[cfg(test)]
mod field_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Change, RunConfig, Simulation};
    use crate::time::SEC;
    use crate::topology::{Link, Region};
    use proptest::prelude::*;

    fn open(path: &str) -> Model {
        if path == "every-kind" {
            return super::field_tests::every_kind();
        }
        let text = std::fs::read_to_string(path).unwrap();
        crate::topology::load_str(path, &text).unwrap().model
    }

    /// Runs to the end, with the traffic off, until nothing is in flight.
    fn drain(sim: &mut Simulation) {
        sim.apply(Change::Traffic(0.0)).unwrap();
        let t = sim.now() + 600 * SEC;
        sim.step_until(t).unwrap();
    }

    /// Users' requests all end: completed or dropped, none left over.
    fn conserved(sim: &Simulation) {
        let r = sim.report();
        let e = &r.end_to_end;
        assert_eq!(e.arrivals, e.completed + e.dropped, "{e:?}");
    }

    /// The per-class and per-source rows add up to the end-to-end totals.
    fn groups_add_up(sim: &Simulation) {
        let g = sim.groups();
        let e = sim.report().end_to_end;
        for rows in [&g.classes, &g.sources] {
            if rows.is_empty() {
                continue;
            }
            let sum = |f: fn(&crate::metrics::GroupStats) -> u64| rows.iter().map(f).sum::<u64>();
            assert_eq!(sum(|x| x.arrivals), e.arrivals);
            assert_eq!(sum(|x| x.completed), e.completed);
            assert_eq!(sum(|x| x.dropped), e.dropped);
        }
    }

    #[test]
    fn a_persisting_cache_keeps_its_contents_across_an_unrelated_edit() {
        let m = open("topologies/journey/05-cache.ron");
        let mut sim = Simulation::new(&m, RunConfig::default());
        sim.step_until(60 * SEC).unwrap();
        let cache = m
            .nodes
            .iter()
            .position(|n| n.kind_name() == "Cache")
            .unwrap();
        let before = match &sim.node_state(cache).kind {
            crate::kinds::KindState::Cache(c) => c.store.len(),
            _ => 0,
        };
        assert!(before > 0);
        // An unrelated edit: one more server somewhere else.
        let mut t = m.topology.clone();
        let app = t.nodes.iter().position(|n| n.kind() == "App").unwrap();
        if let Node::App(a) = &mut t.nodes[app] {
            a.instances = Some(a.instances.unwrap_or(1) + 1);
        }
        let r = restructure("t", sim.model(), sim.retirements(), &t, "one more instance").unwrap();
        let remap = sim.restructure(r).unwrap();
        assert_eq!(remap.updated, vec![app]);
        assert!(remap.removed.is_empty() && remap.added.is_empty());
        let after = match &sim.node_state(cache).kind {
            crate::kinds::KindState::Cache(c) => c.store.len(),
            _ => 0,
        };
        assert_eq!(before, after, "no cold restart");
        let hits0 = sim
            .report()
            .nodes
            .get(&m.nodes[cache].id)
            .unwrap()
            .cache
            .clone()
            .unwrap();
        sim.step_until(61 * SEC).unwrap();
        let hits1 = sim
            .report()
            .nodes
            .get(&m.nodes[cache].id)
            .unwrap()
            .cache
            .clone()
            .unwrap();
        assert!(hits1.hits > hits0.hits);
        drain(&mut sim);
        conserved(&sim);
    }

    #[test]
    fn a_removed_node_fails_its_work_visibly() {
        let m = open("topologies/journey/02-web-and-database.ron");
        let mut sim = Simulation::new(&m, RunConfig::default());
        sim.step_until(10 * SEC + 1).unwrap();
        let db = m
            .nodes
            .iter()
            .position(|n| n.kind_name() == "Database")
            .unwrap();
        let at_db = sim.requests().filter(|r| r.node == db as u32).count() as u64;
        assert!(at_db > 0, "work in flight at the database");
        let errors0 = sim.report().end_to_end.dropped;
        // Remove the database and everything that calls it, replacing the
        // web tier with a plain station.
        let mut t = m.topology.clone();
        let id = t.nodes[db].id().to_string();
        t.nodes.remove(db);
        let r = restructure("t", sim.model(), sim.retirements(), &t, "remove db");
        // Apps still call it: the edit does not load, with the loader's words.
        let e = r.unwrap_err().to_string();
        assert!(e.contains(&id), "{e}");
        // A field edit applies in place: nothing is retired.
        let mut t = m.topology.clone();
        if let Node::Database(d) = &mut t.nodes[db] {
            d.idempotency_keys = !d.idempotency_keys;
        }
        let r = restructure("t", sim.model(), sim.retirements(), &t, "idempotent").unwrap();
        assert!(r.retire.is_empty());
        assert_eq!(sim.restructure(r).unwrap().updated, vec![db]);
        // Replace it by a new one: the web tier reads and writes `db2`.
        let mut db2 = t.nodes[db].clone();
        *db2.id_mut() = "db2".into();
        t.nodes.remove(db);
        t.nodes.push(db2);
        for n in &mut t.nodes {
            if let Node::App(a) = n {
                for step in a.handle.values_mut().flatten() {
                    if let crate::kinds::app::Step::Read { db }
                    | crate::kinds::app::Step::Write { db } = step
                    {
                        *db = "db2".into();
                    }
                }
            }
        }
        let r = restructure("t", sim.model(), sim.retirements(), &t, "replace db").unwrap();
        assert!(r.retire.contains(&(db as u32)));
        sim.restructure(r).unwrap();
        assert!(sim.retired()[db]);
        drain(&mut sim);
        conserved(&sim);
        let r = sim.report();
        assert!(r.end_to_end.dropped > errors0, "the lost work is counted");
        assert_eq!(sim.audit().requests, 0);
    }

    #[derive(Clone, Debug)]
    enum Edit {
        AddServer(usize),
        RemoveServer(usize),
        Disconnect(usize),
        Capacity(usize, u32),
        Ttl(u64),
        /// A setting of node `.0`'s kind, chosen and valued by `.1`.
        Field(usize, u32),
        AddSource(u32),
        RemoveSource(usize),
        SourceRate(usize, u32),
        Mix(usize, u32),
        Regions(usize, u64),
        /// A closed loop of `.0` users (think `.1` ms) or a burst of `.0`
        /// requests at `.1` ms from now, added (`.2`: which).
        AddFixed(u32, u64, bool),
        /// The `.0`th closed loop's users become `.1`, its think `.2` ms.
        Users(usize, u32, u64),
        /// The `.0`th burst's count becomes `.1`, its instant `.2` ms.
        Burst(usize, u32, u64),
    }

    fn apply_edit(t: &Topology, e: &Edit, n: &mut u32) -> Option<Topology> {
        let mut t = t.clone();
        let lbs: Vec<usize> = (0..t.nodes.len())
            .filter(|&i| t.nodes[i].kind() == "LoadBalancer")
            .collect();
        match *e {
            Edit::AddServer(k) => {
                let lb = *lbs.get(k % lbs.len().max(1))?;
                let Node::LoadBalancer(l) = &t.nodes[lb] else {
                    return None;
                };
                let first = l.to.first()?.clone();
                let mut copy = t.nodes.iter().find(|x| x.id() == first)?.clone();
                *n += 1;
                let id = format!("extra-{n}");
                *copy.id_mut() = id.clone();
                t.nodes.push(copy);
                if let Node::LoadBalancer(l) = &mut t.nodes[lb] {
                    l.to.push(id);
                }
            }
            Edit::Disconnect(k) => {
                // The edge goes; the node stays, unreachable.
                let lb = *lbs.get(k % lbs.len().max(1))?;
                let Node::LoadBalancer(l) = &mut t.nodes[lb] else {
                    return None;
                };
                if l.to.len() < 2 {
                    return None;
                }
                l.to.remove(k % l.to.len());
            }
            Edit::RemoveServer(k) => {
                let lb = *lbs.get(k % lbs.len().max(1))?;
                let Node::LoadBalancer(l) = &mut t.nodes[lb] else {
                    return None;
                };
                if l.to.len() < 2 {
                    return None;
                }
                let gone = l.to.remove(k % l.to.len());
                let still = t
                    .nodes
                    .iter()
                    .filter(|x| matches!(x, Node::LoadBalancer(o) if o.to.contains(&gone)))
                    .count();
                if still == 0 {
                    t.nodes.retain(|x| x.id() != gone);
                    for r in &mut t.regions {
                        r.nodes.retain(|x| *x != gone);
                    }
                }
            }
            Edit::Capacity(k, c) => {
                let i = k % t.nodes.len();
                match &mut t.nodes[i] {
                    Node::App(a) => a.instances = Some(c as u64),
                    Node::Database(d) => d.servers = c as u64,
                    _ => return None,
                }
            }
            Edit::Field(k, v) => super::field_tests::retune(&mut t, k, v)?,
            Edit::AddSource(rps) => {
                let mut src = t.sources.first()?.clone();
                *n += 1;
                src.id = format!("more-{n}");
                src.arrivals = Arrivals::Poisson { rps: rps as f64 };
                t.sources.push(src);
            }
            Edit::RemoveSource(k) => {
                if t.sources.len() < 2 {
                    return None;
                }
                let gone = t.sources.remove(k % t.sources.len()).id;
                for r in &mut t.regions {
                    r.sources.retain(|x| *x != gone);
                }
            }
            Edit::SourceRate(k, rps) => {
                let i = k % t.sources.len();
                t.sources[i].arrivals = Arrivals::Poisson { rps: rps as f64 };
            }
            Edit::Mix(k, share) => {
                // The classes the handlers name, and a new one.
                let i = k % t.sources.len();
                let mix = t.sources[i].mix.as_mut()?;
                *n += 1;
                let p = share as f64 / 100.0;
                mix.clear();
                mix.insert("read".into(), 0.95 - p);
                mix.insert("write".into(), 0.05);
                mix.insert(format!("class-{n}"), p);
            }
            Edit::Regions(k, ms) => {
                // Two regions: the nodes split at `k`, the users in the first.
                let ids: Vec<String> = t.nodes.iter().map(|x| x.id().to_string()).collect();
                let cut = k % ids.len();
                let region = |id: &str, nodes: &[String], sources: Vec<String>| Region {
                    id: id.into(),
                    nodes: nodes.to_vec(),
                    sources,
                };
                let users = t.sources.iter().map(|s| s.id.clone()).collect();
                t.regions = vec![
                    region("east", &ids[..cut], users),
                    region("west", &ids[cut..], vec![]),
                ];
                t.links = vec![Link {
                    a: "east".into(),
                    b: "west".into(),
                    latency: crate::time::Duration(ms * crate::time::MS),
                }];
            }
            Edit::AddFixed(count, ms, closed) => {
                let mut src = t.sources.first()?.clone();
                *n += 1;
                src.id = format!("fixed-{n}");
                src.profile = None;
                src.arrivals = if closed {
                    Arrivals::Closed {
                        users: count as u64 % 300 + 1,
                        think: crate::dist::Dist::Exponential {
                            mean: crate::time::Duration(ms * crate::time::MS + 1),
                        },
                        tasks: None,
                        order: None,
                        interrupt: None,
                        sessions: None,
                        on_failure: None,
                    }
                } else {
                    Arrivals::Burst {
                        count: count as u64,
                        at: crate::time::Duration(ms * crate::time::MS),
                    }
                };
                t.sources.push(src);
            }
            Edit::Users(k, count, ms) => {
                let closed: Vec<usize> = (0..t.sources.len())
                    .filter(|&i| matches!(t.sources[i].arrivals, Arrivals::Closed { .. }))
                    .collect();
                let i = *closed.get(k % closed.len().max(1))?;
                if let Arrivals::Closed { users, think, .. } = &mut t.sources[i].arrivals {
                    *users = count as u64 % 300 + 1;
                    *think = crate::dist::Dist::Exponential {
                        mean: crate::time::Duration(ms * crate::time::MS + 1),
                    };
                }
            }
            Edit::Burst(k, c, ms) => {
                let bursts: Vec<usize> = (0..t.sources.len())
                    .filter(|&i| matches!(t.sources[i].arrivals, Arrivals::Burst { .. }))
                    .collect();
                let i = *bursts.get(k % bursts.len().max(1))?;
                if let Arrivals::Burst { count, at } = &mut t.sources[i].arrivals {
                    *count = c as u64;
                    *at = crate::time::Duration(ms * crate::time::MS);
                }
            }
            Edit::Ttl(s) => {
                let i = t.nodes.iter().position(|x| x.kind() == "Cache")?;
                if let Node::Cache(c) = &mut t.nodes[i] {
                    c.ttl = Some(crate::time::Duration(s * SEC));
                }
            }
        }
        Some(t)
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (0usize..4).prop_map(Edit::AddServer),
            (0usize..4).prop_map(Edit::RemoveServer),
            (0usize..4).prop_map(Edit::Disconnect),
            (0usize..8, 1u32..6).prop_map(|(k, c)| Edit::Capacity(k, c)),
            (1u64..120).prop_map(Edit::Ttl),
            (0usize..16, 0u32..10_000).prop_map(|(k, v)| Edit::Field(k, v)),
            (0usize..16, 0u32..10_000).prop_map(|(k, v)| Edit::Field(k, v)),
            (1u32..400).prop_map(Edit::AddSource),
            (0usize..4).prop_map(Edit::RemoveSource),
            (0usize..4).prop_map(Edit::RemoveSource),
            (0usize..4, 1u32..5_000).prop_map(|(k, r)| Edit::SourceRate(k, r)),
            (0usize..4, 0u32..50).prop_map(|(k, p)| Edit::Mix(k, p)),
            (0usize..8, 0u64..80).prop_map(|(k, ms)| Edit::Regions(k, ms)),
            (1u32..400, 0u64..3_000, any::<bool>()).prop_map(|(c, ms, b)| Edit::AddFixed(c, ms, b)),
            (0usize..4, 1u32..400, 1u64..2_000).prop_map(|(k, c, ms)| Edit::Users(k, c, ms)),
            (0usize..4, 1u32..400, 0u64..6_000).prop_map(|(k, c, ms)| Edit::Burst(k, c, ms)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn random_live_edits_conserve_requests_and_leak_nothing(
            file in prop::sample::select(vec![
                "topologies/journey/03-load-balancer.ron",
                "topologies/journey/05-cache.ron",
                "every-kind",
            ]),
            edits in prop::collection::vec((1u64..4_000, edit()), 1..6),
        ) {
            let m = open(file);
            let mut sim = Simulation::new(&m, RunConfig::default());
            let mut t = m.topology.clone();
            let mut n = 0;
            for (dt, e) in &edits {
                let at = sim.now() + dt * crate::time::MS;
                sim.step_until(at).unwrap();
                let Some(next) = apply_edit(&t, e, &mut n) else { continue };
                let Ok(r) = restructure("t", sim.model(), sim.retirements(), &next, "edit") else { continue };
                if matches!(e, Edit::Field(..) | Edit::Users(..) | Edit::Burst(..)) {
                    // Nothing replaced: a field edit applies in place, and
                    // so does one of a closed loop's or a burst's settings.
                    prop_assert!(r.retire.is_empty() && r.retire_sources.is_empty(),
                        "{:?} replaced {:?} {:?}", e, r.retire, r.retire_sources);
                }
                sim.restructure(r).unwrap();
                t = next;
                // Conservation at every node and end to end, in flight
                // included, and no connection lost or counted twice.
                let r = sim.report();
                for (id, x) in &r.nodes.0 {
                    prop_assert!(x.arrivals >= x.completed + x.dropped + x.errors, "{id}");
                }
                let e = &r.end_to_end;
                prop_assert!(e.arrivals >= e.completed + e.dropped, "{:?}", e);
                if let Err(m) = super::field_tests::connections_balance(&sim) {
                    prop_assert!(false, "{}", m);
                }
            }
            drain(&mut sim);
            conserved(&sim);
            groups_add_up(&sim);
            let a = sim.audit();
            prop_assert_eq!(a.requests, 0, "{:?}", a);
            prop_assert_eq!(a.busy + a.calling + a.pool_in_use + a.balanced, 0, "{:?}", a);
            prop_assert_eq!(a.fanouts + a.fills + a.pool_waiters + a.waiting, 0, "{:?}", a);
            if let Err(m) = super::field_tests::connections_balance(&sim) {
                prop_assert!(false, "{}", m);
            }
        }
    }
}
