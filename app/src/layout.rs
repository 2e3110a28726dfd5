//! Where the graph's boxes go: left to right from sources to storage, each
//! node one column right of the furthest node that sends it requests, and
//! spread evenly down its column. Positions saved in the topology win.

use bottleneck::model::{Model, Vertex};
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, VecDeque};

/// A box on the canvas: sources first (by index), then nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// Source positions, in canvas units (0..1 across, 0..1 down).
    pub sources: Vec<(String, [f32; 2])>,
    /// Node positions.
    pub nodes: Vec<(String, [f32; 2])>,
    /// Edges between boxes: (from, to), where a box is `Src(i)` or `Node(i)`.
    pub edges: Vec<(Slot, Slot)>,
    /// Each node's column: how far downstream of the sources it is.
    pub columns: Vec<usize>,
}

/// A box of the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    /// A source.
    Src(usize),
    /// A node.
    Node(usize),
}

impl Layout {
    /// Lays out a model, keeping positions given by id.
    pub fn of(model: &Model, saved: &BTreeMap<String, (f32, f32)>) -> Layout {
        let g = &model.graph;
        let as_box = |v: &Vertex| match *v {
            Vertex::Source(i) => Some(Slot::Src(i)),
            Vertex::Node(i) => Some(Slot::Node(i)),
            Vertex::Exit => None,
        };
        let mut edges: Vec<(Slot, Slot)> = g
            .edge_references()
            .filter_map(|e| Some((as_box(&g[e.source()])?, as_box(&g[e.target()])?)))
            .filter(|(a, b)| a != b)
            .collect();
        edges.sort();
        edges.dedup();
        // Column: longest distance from a source, ignoring back edges (BFS
        // order, each node placed when first reached, then pushed right by
        // later forward edges, at most n times).
        let n = model.nodes.len();
        let mut col = vec![usize::MAX; n];
        let mut queue = VecDeque::new();
        for &(a, b) in &edges {
            if let (Slot::Src(_), Slot::Node(j)) = (a, b)
                && col[j] == usize::MAX
            {
                col[j] = 1;
                queue.push_back(j);
            }
        }
        let mut order = Vec::new();
        while let Some(i) = queue.pop_front() {
            order.push(i);
            for &(a, b) in &edges {
                if let (Slot::Node(x), Slot::Node(y)) = (a, b)
                    && x == i
                    && col[y] == usize::MAX
                {
                    col[y] = col[i] + 1;
                    queue.push_back(y);
                }
            }
        }
        for _ in 0..n {
            let mut moved = false;
            for &(a, b) in &edges {
                if let (Slot::Node(x), Slot::Node(y)) = (a, b) {
                    let pos_x = order.iter().position(|&o| o == x);
                    let pos_y = order.iter().position(|&o| o == y);
                    // Forward edges only (in BFS order): no cycles.
                    if pos_x < pos_y && col[x] != usize::MAX && col[y] <= col[x] {
                        col[y] = col[x] + 1;
                        moved = true;
                    }
                }
            }
            if !moved {
                break;
            }
        }
        let unreached = col
            .iter()
            .filter(|c| **c != usize::MAX)
            .max()
            .copied()
            .unwrap_or(1)
            + 1;
        for c in col.iter_mut() {
            if *c == usize::MAX {
                *c = unreached;
            }
        }
        let cols = col.iter().copied().max().unwrap_or(1) + 1;
        let x_of = |c: usize| 0.06 + 0.88 * c as f32 / (cols - 1).max(1) as f32;
        let spread = |k: usize, of: usize| (k as f32 + 0.5) / of as f32;
        let place = |id: &str, default: [f32; 2]| -> [f32; 2] {
            saved
                .get(id)
                .map_or(default, |&(x, y)| [x.clamp(0.0, 1.0), y.clamp(0.0, 1.0)])
        };
        let ns = model.sources.len();
        let sources = model
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), place(&s.id, [x_of(0), spread(i, ns)])))
            .collect();
        let mut in_col = vec![0usize; cols];
        let mut count = vec![0usize; cols];
        for &c in &col {
            count[c] += 1;
        }
        let nodes = model
            .nodes
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let c = col[i];
                let k = in_col[c];
                in_col[c] += 1;
                (m.id.clone(), place(&m.id, [x_of(c), spread(k, count[c])]))
            })
            .collect();
        Layout {
            sources,
            nodes,
            edges,
            columns: col,
        }
    }

    /// Where a box is.
    pub fn at(&self, b: Slot) -> [f32; 2] {
        match b {
            Slot::Src(i) => self.sources[i].1,
            Slot::Node(i) => self.nodes[i].1,
        }
    }

    /// Moves a box (dragging), kept inside the canvas.
    pub fn set(&mut self, b: Slot, p: [f32; 2]) {
        let p = [p[0].clamp(0.0, 1.0), p[1].clamp(0.0, 1.0)];
        match b {
            Slot::Src(i) => self.sources[i].1 = p,
            Slot::Node(i) => self.nodes[i].1 = p,
        }
    }

    /// Every position by id, to save with the topology.
    pub fn positions(&self) -> BTreeMap<String, (f32, f32)> {
        self.sources
            .iter()
            .chain(&self.nodes)
            .map(|(id, p)| {
                (
                    id.clone(),
                    (
                        (p[0] * 1000.0).round() / 1000.0,
                        (p[1] * 1000.0).round() / 1000.0,
                    ),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_left_storage_right() {
        let m = bottleneck::topology::load_str(
            "t.ron",
            r#"Topology(name: "t",
                sources: [Source(id: "u", to: "lb", arrivals: Poisson(rps: 10))],
                nodes: [
                    Database(id: "db", servers: 2, read: Constant("1ms"), write: Constant("1ms")),
                    LoadBalancer(id: "lb", policy: RoundRobin, to: ["a", "b"]),
                    App(id: "a", workers: 2, service: Constant("1ms"), handle: {"*": [Read(db: "db")]}),
                    App(id: "b", workers: 2, service: Constant("1ms"), handle: {"*": [Read(db: "db")]}),
                ])"#,
        )
        .unwrap()
        .model;
        let l = Layout::of(&m, &BTreeMap::new());
        let x = |id: &str| l.nodes.iter().find(|n| n.0 == id).unwrap().1[0];
        let y = |id: &str| l.nodes.iter().find(|n| n.0 == id).unwrap().1[1];
        assert!(l.sources[0].1[0] < x("lb"));
        assert!(x("lb") < x("a") && x("a") < x("db"));
        assert_eq!(x("a"), x("b"));
        assert!(y("a") != y("b"), "a column spreads out");
        // Saved positions win, and round-trip.
        let mut saved = BTreeMap::new();
        saved.insert("db".to_string(), (0.5f32, 0.25f32));
        let l2 = Layout::of(&m, &saved);
        assert_eq!(l2.nodes[0].1, [0.5, 0.25]);
        assert_eq!(l2.positions()["db"], (0.5, 0.25));
    }
}
