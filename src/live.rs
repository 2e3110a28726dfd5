//! Structural edits of a running simulation: the edited topology turned
//! into the engine's [`Restructure`], whose model keeps every running
//! node at its index (see [`crate::sim::Restructure`]).
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

use crate::diag::Diagnostics;
use crate::kinds::Node;
use crate::model::Model;
use crate::sim::{Restructure, updates_in_place};
use crate::topology::{Topology, load_str, ron_options, to_ron};

/// The engine's restructure for `edited`, applied to a simulation running
/// `current` with `retired` nodes. Errors are the loader's, about the
/// edited topology as people wrote it (`file` names it).
pub fn restructure(
    file: &str,
    current: &Model,
    retired: &[bool],
    edited: &Topology,
    what: &str,
) -> Result<Restructure, Diagnostics> {
    let text = to_ron(edited);
    // The edit on its own, with the words the CLI would use.
    load_str(file, &text)?;
    let n = current.nodes.len();
    let (top, retire) = stable(current, retired, edited);
    let model = load_str(file, &to_ron(&top))?.model;
    // Every persisting node keeps its kind (`stable` replaces the others),
    // so each takes its edit in place.
    debug_assert!((0..n).all(|i| retired[i]
        || retire.contains(&(i as u32))
        || updates_in_place(&current.nodes[i].kind, &model.nodes[i].kind)));
    Ok(Restructure {
        model: Box::new(model),
        retire,
        topology: text,
        what: what.to_string(),
    })
}

/// The stable topology: running nodes at their indices (removed ones, and
/// ones whose kind changed, renamed), then the new ones; and the nodes
/// retired now.
fn stable(current: &Model, retired: &[bool], edited: &Topology) -> (Topology, Vec<u32>) {
    let running = &current.topology.nodes;
    let find = |id: &str| edited.nodes.iter().position(|m| m.id() == id);
    let mut nodes: Vec<Node> = Vec::with_capacity(running.len() + edited.nodes.len());
    let mut used = vec![false; edited.nodes.len()];
    let mut retire = Vec::new();
    let mut renames: Vec<(String, String)> = Vec::new();
    let taken = |id: &str, nodes: &[Node]| {
        nodes.iter().any(|m| m.id() == id)
            || running.iter().any(|m| m.id() == id)
            || edited.nodes.iter().any(|m| m.id() == id)
    };
    for (i, node) in running.iter().enumerate() {
        if retired[i] {
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
                let mut k = 1;
                let new_id = loop {
                    let c = match k {
                        1 => format!("{}:removed", node.id()),
                        _ => format!("{}:removed-{k}", node.id()),
                    };
                    if !taken(&c, &nodes) {
                        break c;
                    }
                    k += 1;
                };
                renames.push((node.id().to_string(), new_id.clone()));
                let mut t = node.clone();
                *t.id_mut() = new_id;
                nodes.push(t);
            }
        }
    }
    // Retired nodes name each other by their new ids.
    for (i, node) in nodes.iter_mut().enumerate() {
        if retired[i] || retire.contains(&(i as u32)) {
            *node = renamed(node, &renames);
        }
    }
    for (j, m) in edited.nodes.iter().enumerate() {
        if !used[j] {
            nodes.push(m.clone());
        }
    }
    (
        Topology {
            nodes,
            ..edited.clone()
        },
        retire,
    )
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
        let r = restructure("t", sim.model(), sim.retired(), &t, "one more instance").unwrap();
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
        let r = restructure("t", sim.model(), sim.retired(), &t, "remove db");
        // Apps still call it: the edit does not load, with the loader's words.
        let e = r.unwrap_err().to_string();
        assert!(e.contains(&id), "{e}");
        // A field edit applies in place: nothing is retired.
        let mut t = m.topology.clone();
        if let Node::Database(d) = &mut t.nodes[db] {
            d.idempotency_keys = !d.idempotency_keys;
        }
        let r = restructure("t", sim.model(), sim.retired(), &t, "idempotent").unwrap();
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
        let r = restructure("t", sim.model(), sim.retired(), &t, "replace db").unwrap();
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
                let Ok(r) = restructure("t", sim.model(), sim.retired(), &next, "edit") else { continue };
                if matches!(e, Edit::Field(..)) {
                    // Nothing replaced: a field edit applies in place.
                    prop_assert!(r.retire.is_empty(), "{:?} replaced {:?}", e, r.retire);
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
