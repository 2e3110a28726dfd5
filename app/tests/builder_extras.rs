//! The builder's extras, through the edit API the interface calls: placing
//! by dragging from the palette, multi-select with one-step delete and undo,
//! auto-layout (deterministic, no overlaps, left to right), regions, the
//! README's walk-through replayed key by key, the cost line and the
//! per-class chart lines.

use bottleneck::kind::Kind;
use bottleneck_app::builder::arrange::{BOX, MAX_LAYERS, MAX_ROWS, arrange};
use bottleneck_app::builder::check;
use bottleneck_app::builder::fields::{self, Item};
use bottleneck_app::builder::palette::Palette;
use bottleneck_app::builder::walk::{CACHE_ASIDE, Step, replay};
use bottleneck_app::content;
use bottleneck_app::ui::UiState;
use std::collections::{BTreeMap, BTreeSet};

mod common;
use common::{node, open_stage, run};

#[test]
fn dragging_from_the_palette_places_where_it_is_dropped() {
    let (mut s, mut b) = open_stage("cache-aside");
    let before = b.working.nodes.len();
    let id = b
        .drop_at(&mut s, Palette::Node(Kind::Replica), [0.7, 0.3])
        .unwrap();
    assert_eq!(b.working.nodes.len(), before + 1);
    assert_eq!(b.pos[&id], [0.7, 0.3]);
    assert_eq!(b.selected, Some(node(&id)));
    assert!(b.can_undo());
    // A source, dropped off the canvas's edge, lands on the edge.
    let src = b.drop_at(&mut s, Palette::Source, [-0.5, 2.0]).unwrap();
    assert_eq!(b.pos[&src], [0.0, 1.0]);
    assert!(b.working.sources.iter().any(|x| x.id == src));
    // Undo takes both away again.
    b.undo(&mut s).unwrap();
    b.undo(&mut s).unwrap();
    assert_eq!(b.working.nodes.len(), before);
    assert!(!b.working.sources.iter().any(|x| x.id == src));
}

/// Boxes placed at free spots never overlap as drawn: a node is 160 by
/// 58 points, a source 100 by 40, on a canvas only 625 by 600 points (a
/// 1440 by 900 window with both side panels open).
#[test]
fn placed_boxes_never_overlap_as_drawn_on_a_narrow_canvas() {
    let (mut s, mut b) = open_stage("single-server");
    common::ok(b.new_blank(&mut s));
    let kinds = [
        Kind::LoadBalancer,
        Kind::App,
        Kind::Cache,
        Kind::Database,
        Kind::Cdn,
        Kind::Queue,
        Kind::Pooler,
        Kind::Replica,
    ];
    for k in kinds {
        b.place(&mut s, k, None).unwrap();
    }
    b.add_source(&mut s).unwrap();
    let (w, h) = (625.0_f32, 600.0_f32);
    let size = |id: &str| {
        if b.working.sources.iter().any(|x| x.id == id) {
            [100.0 / w, 40.0 / h]
        } else {
            [160.0 / w, 58.0 / h]
        }
    };
    let v: Vec<(&String, &[f32; 2])> = b.pos.iter().collect();
    assert_eq!(v.len(), kinds.len() + 1);
    for (k, (a, p)) in v.iter().enumerate() {
        for (c, q) in &v[k + 1..] {
            let (sa, sc) = (size(a), size(c));
            let apart = (p[0] - q[0]).abs() >= (sa[0] + sc[0]) / 2.0
                || (p[1] - q[1]).abs() >= (sa[1] + sc[1]) / 2.0;
            assert!(apart, "{a} at {p:?} overlaps {c} at {q:?}");
        }
    }
}

#[test]
fn a_multi_selection_is_deleted_in_one_edit_and_undone_in_one() {
    let (mut s, mut b) = open_stage("cache-aside");
    let original = b.working.clone();
    let apps: Vec<String> = b
        .working
        .nodes
        .iter()
        .filter(|n| n.kind_of() == Kind::App)
        .map(|n| n.id().to_string())
        .collect();
    assert!(apps.len() >= 3, "{apps:?}");
    // Click one, shift-click another, shift-click a third then take it out.
    b.click(&mut s, node(&apps[0]));
    b.shift_click(node(&apps[1]));
    b.shift_click(node(&apps[2]));
    b.shift_click(node(&apps[2]));
    assert_eq!(b.selection(), vec![node(&apps[0]), node(&apps[1])]);
    let history = b.last_edit().map(str::to_string);
    b.delete_selection(&mut s).unwrap();
    assert!(b.selection().is_empty());
    for a in &apps[..2] {
        assert!(!b.working.nodes.iter().any(|n| n.id() == a));
        assert!(
            !fields::edges(&b.working).iter().any(|(_, to)| to == a),
            "something still sends to {a}"
        );
    }
    assert!(!b.is_draft(), "{:?}", b.problems);
    assert!(
        s.model.node_index(&apps[0]).is_none(),
        "the simulation follows"
    );
    assert!(b.last_edit().unwrap().contains(&apps[0]) && b.last_edit().unwrap().contains(&apps[1]));
    // One undo brings both back, as they were, and the simulation with them.
    b.undo(&mut s).unwrap();
    assert_eq!(b.working, original);
    assert_eq!(b.last_edit().map(str::to_string), history);
    assert!(s.model.node_index(&apps[1]).is_some());
    b.redo(&mut s).unwrap();
    assert!(!b.working.nodes.iter().any(|n| n.id() == apps[1]));
    assert!(b.delete_selection(&mut s).is_err(), "nothing selected");
}

#[test]
fn box_select_picks_the_boxes_inside_and_moves_them_together() {
    let (mut s, mut b) = open_stage("cache-aside");
    b.auto_layout(&mut s);
    let (x_app, y_app) = {
        let app = b
            .working
            .nodes
            .iter()
            .find(|n| n.kind_of() == Kind::App)
            .unwrap();
        (b.pos[app.id()][0], b.pos[app.id()][1])
    };
    // A thin box around the apps' column.
    let n = b.select_in([x_app - 0.01, 0.0], [x_app + 0.01, 1.0], false);
    let apps = b
        .working
        .nodes
        .iter()
        .filter(|n| n.kind_of() == Kind::App)
        .count();
    assert_eq!(n, apps);
    assert!(
        b.selection()
            .iter()
            .all(|it| matches!(it, Item::Node(id) if id.starts_with("app")))
    );
    let before: BTreeMap<String, [f32; 2]> = b.pos.clone();
    b.move_selection(&mut s, [0.05, 0.0]);
    for it in b.selection() {
        let (p, q) = (before[it.id()], b.pos[it.id()]);
        assert!((q[0] - p[0] - 0.05).abs() < 1e-6 && q[1] == p[1]);
        let i = s.model.node_index(it.id()).unwrap();
        assert_eq!(s.layout.nodes[i].1, q, "the running graph moves too");
    }
    let unselected = b.items().into_iter().find(|it| !b.is_selected(it)).unwrap();
    assert_eq!(before[unselected.id()], b.pos[unselected.id()]);
    assert!(y_app >= 0.0);
    b.select_all();
    assert_eq!(b.selection().len(), b.items().len());
    b.clear_selection(&mut s);
    assert!(b.selection().is_empty());
}

/// Boxes of [`BOX`] centred on the layout's positions do not overlap.
fn assert_no_overlap(name: &str, placed: &BTreeMap<String, [f32; 2]>) {
    let v: Vec<(&String, &[f32; 2])> = placed.iter().collect();
    for (k, (a, p)) in v.iter().enumerate() {
        assert!(
            (0.0..=1.0).contains(&p[0]) && (0.0..=1.0).contains(&p[1]),
            "{name}: {a} at {p:?}"
        );
        for (b, q) in &v[k + 1..] {
            let apart =
                (p[0] - q[0]).abs() >= BOX[0] - 1e-5 || (p[1] - q[1]).abs() >= BOX[1] - 1e-5;
            assert!(apart, "{name}: {a} at {p:?} overlaps {b} at {q:?}");
        }
    }
}

fn acyclic(t: &bottleneck::topology::Topology) -> bool {
    let edges = fields::edges(t);
    let mut succ: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (f, to) in &edges {
        succ.entry(f.id()).or_default().push(to.as_str());
    }
    fn visit<'a>(
        v: &'a str,
        succ: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> bool {
        if path.contains(&v) {
            return false;
        }
        if !done.insert(v) {
            return true;
        }
        path.push(v);
        let ok = succ
            .get(v)
            .is_none_or(|ws| ws.iter().all(|w| visit(w, succ, path, done)));
        path.pop();
        ok
    }
    let mut done = BTreeSet::new();
    let keys: Vec<&str> = succ.keys().copied().collect();
    keys.into_iter()
        .all(|v| visit(v, &succ, &mut Vec::new(), &mut done))
}

fn check_layout(name: &str, t: &bottleneck::topology::Topology) {
    let placed = arrange(t);
    assert_eq!(placed, arrange(&t.clone()), "{name}: not deterministic");
    assert_eq!(placed.len(), t.nodes.len() + t.sources.len(), "{name}");
    let layers: BTreeSet<u32> = placed.values().map(|p| (p[0] * 1e4) as u32).collect();
    let rows = placed
        .values()
        .fold(BTreeMap::<u32, usize>::new(), |mut m, p| {
            *m.entry((p[0] * 1e4) as u32).or_default() += 1;
            m
        });
    if layers.len() <= MAX_LAYERS && rows.values().all(|&r| r <= MAX_ROWS) {
        assert_no_overlap(name, &placed);
    }
    // Sources first; in a topology without cycles every edge goes right.
    let min_x = placed.values().map(|p| p[0]).fold(f32::INFINITY, f32::min);
    for src in &t.sources {
        assert_eq!(
            placed[&src.id][0], min_x,
            "{name}: source {} not leftmost",
            src.id
        );
    }
    if acyclic(t) {
        for (from, to) in fields::edges(t) {
            if let Some(q) = placed.get(&to) {
                assert!(
                    placed[from.id()][0] < q[0],
                    "{name}: {} -> {to} goes left",
                    from.id()
                );
            }
        }
    }
}

#[test]
fn auto_layout_is_deterministic_left_to_right_and_without_overlaps_on_every_stage() {
    for st in content::all() {
        let t = bottleneck::topology::parse(st.file, st.text).unwrap();
        check_layout(st.key, &t);
    }
}

#[test]
fn auto_layout_holds_on_generated_topologies() {
    // Random drafts made with the builder's own edits (connections the
    // loader refuses are skipped): kinds, sizes and wiring vary by seed.
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    for seed in 0..30 {
        let (mut s, mut b) = open_stage("single-server");
        b.new_blank(&mut s).unwrap();
        let n = 2 + next(10);
        let mut ids = Vec::new();
        for _ in 0..n {
            let k = Kind::ALL[next(Kind::ALL.len())];
            ids.push(b.place(&mut s, k, None).unwrap());
        }
        for _ in 0..1 + next(2) {
            b.selected = None;
            b.add_source(&mut s).unwrap();
        }
        for _ in 0..n * 2 {
            let (a, c) = (next(ids.len()), next(ids.len()));
            let _ = b.connect(&mut s, &node(&ids[a]), &ids[c]);
        }
        check_layout(&format!("seed {seed}"), &b.working);
        // Laying out changes positions, never the topology.
        let t = b.working.clone();
        b.auto_layout(&mut s);
        assert_eq!(b.working, t);
    }
}

#[test]
fn regions_are_made_linked_and_removed_with_the_builder() {
    let (mut s, mut b) = open_stage("cache-aside");
    let all = b.items();
    let (half1, half2) = all.split_at(all.len() / 2);
    b.selected = None;
    for it in half1 {
        b.shift_click(it.clone());
    }
    let r1 = b.new_region(&mut s).unwrap();
    b.clear_selection(&mut s);
    let r2 = b.new_region(&mut s).unwrap();
    b.put_in_region(&mut s, half2, Some(&r2)).unwrap();
    assert_ne!(r1, r2);
    assert_eq!(
        b.working.links.len(),
        1,
        "a new region is linked to the others"
    );
    for it in half1 {
        assert_eq!(b.region_of(it), Some(r1.as_str()));
    }
    assert_eq!(b.region_of(&half2[0]), Some(r2.as_str()));
    assert!(check(&b.working).is_ok(), "{:?}", check(&b.working).err());
    b.set_link(&mut s, &r1, &r2, "80ms").unwrap();
    assert_eq!(b.working.links[0].latency.to_string(), "80ms");
    let e = b.set_link(&mut s, &r1, &r2, "80 parsecs").unwrap_err();
    assert!(!e.is_empty());
    b.delete_region(&mut s, &r2).unwrap();
    assert!(b.working.links.is_empty());
    assert_eq!(b.region_of(&half2[0]), None);
    b.undo(&mut s).unwrap();
    assert_eq!(b.working.links.len(), 1);
}

#[test]
fn the_readme_walk_through_builds_cache_aside_key_by_key() {
    let (mut s, b) = open_stage("single-server");
    let mut st = UiState {
        builder: b,
        ..Default::default()
    };
    let start = std::time::Instant::now();
    replay(CACHE_ASIDE, &mut s, &mut st).unwrap();
    let took = start.elapsed();
    let b = &st.builder;
    assert!(!b.is_draft(), "{:?}", b.problems);
    let kinds: Vec<Kind> = b.working.nodes.iter().map(|n| n.kind_of()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == Kind::App).count(), 3);
    for k in [Kind::LoadBalancer, Kind::Cache, Kind::Database] {
        assert_eq!(kinds.iter().filter(|x| **x == k).count(), 1, "{k:?}");
    }
    // Short enough for a new user in under two minutes, by the
    // keystroke-level model (the unit tests of `walk` check its operators).
    let e = bottleneck_app::builder::walk::estimate(CACHE_ASIDE);
    assert!(e.total_s() < 120.0, "{e:?}");
    let keys = CACHE_ASIDE
        .iter()
        .filter(|x| matches!(x, Step::Key(_)))
        .count();
    println!(
        "{} steps ({keys} keys), replayed through the edit API in {:.0} ms",
        CACHE_ASIDE.len(),
        took.as_secs_f64() * 1e3
    );
    // It runs: the cache takes most reads.
    run(&mut s, 20);
    let r = s.sim.report();
    let c = r.nodes["redis"].cache.as_ref().unwrap();
    assert!(c.hit_ratio.unwrap() > 0.5, "hit ratio {:?}", c.hit_ratio);
    // The README lists these very steps.
    let readme = include_str!("../../README.md");
    for step in CACHE_ASIDE {
        assert!(
            readme.contains(&step.describe()),
            "README lacks: {}",
            step.describe()
        );
    }
    // Two request classes: the charts draw a line for each.
    let lines = bottleneck_app::ui::inspector::class_lines(&s, |r| r.p99_ms);
    let names: Vec<&str> = lines.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["read", "write"]);
    assert!(lines.iter().all(|(_, pts)| !pts.is_empty()));
    // The cost line is the engine's cost of what was built.
    let cost = bottleneck_app::ui::cost::monthly(&b.working).unwrap();
    // Every node has its line (a cache's servers have one of their own).
    for n in &b.working.nodes {
        assert!(
            cost.lines.iter().any(|l| l.node == n.id()),
            "no cost line for {}",
            n.id()
        );
    }
    let sum: f64 = cost.lines.iter().map(|l| l.monthly).sum();
    assert!((sum - cost.monthly).abs() < 1e-6 * cost.monthly.max(1.0));
    assert!(cost.monthly > 0.0);
}

#[test]
fn auto_layout_keeps_unwired_nodes_in_their_kinds_column() {
    let (mut s, mut b) = open_stage("single-server");
    b.new_blank(&mut s).unwrap();
    let db = b.place(&mut s, Kind::Database, None).unwrap();
    let lb = b.place(&mut s, Kind::LoadBalancer, None).unwrap();
    let app = b.place(&mut s, Kind::App, None).unwrap();
    b.selected = Some(node(&lb));
    b.add_source(&mut s).unwrap();
    let p = arrange(&b.working);
    // users -> lb is wired; the app and the database are not yet.
    assert!(p[&lb][0] < p[&app][0] && p[&app][0] < p[&db][0], "{p:?}");
}
