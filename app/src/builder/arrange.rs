//! Auto-layout: layered left to right by the request flow. Sources form the
//! first layer; a node goes one layer right of the furthest box that sends
//! it requests (a cycle's closing edge is ignored); inside a layer, boxes
//! sit in the order of the boxes that feed them (their mean row), ties by
//! the topology's order; a node wired to nothing yet sits in its kind's
//! column. The same topology always gets the same layout.

use super::fields::{self, Item};
use super::{Builder, column};
use crate::sandbox::Sandbox;
use bottleneck::topology::Topology;
use std::collections::BTreeMap;

/// The room a box needs, in canvas units (0..1 both ways): boxes laid out
/// by [`arrange`] never come closer than this, centre to centre, in both
/// directions at once (up to [`MAX_LAYERS`] layers of [`MAX_ROWS`] boxes).
pub const BOX: [f32; 2] = [0.12, 0.08];

/// Layers that fit across the canvas without overlapping.
pub const MAX_LAYERS: usize = 8;

/// Boxes that fit down one layer; a fuller layer is split into columns.
pub const MAX_ROWS: usize = 10;

/// Every box's position, by id.
pub fn arrange(t: &Topology) -> BTreeMap<String, [f32; 2]> {
    let items: Vec<Item> = t
        .sources
        .iter()
        .map(|x| Item::Source(x.id.clone()))
        .chain(t.nodes.iter().map(|n| Item::Node(n.id().to_string())))
        .collect();
    let n = items.len();
    let index: BTreeMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(k, it)| (it.id(), k))
        .collect();
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (from, to) in fields::edges(t) {
        if let (Some(&a), Some(&b)) = (index.get(from.id()), index.get(to.as_str()))
            && a != b
            && !succ[a].contains(&b)
        {
            succ[a].push(b);
        }
    }
    // Depth-first from the sources, then from boxes nothing sends to, then
    // the rest: edges into a box still on the path close a cycle.
    let mut has_pred = vec![false; n];
    for s in &succ {
        for &b in s {
            has_pred[b] = true;
        }
    }
    let sources = t.sources.len();
    let roots = (0..sources)
        .chain((sources..n).filter(|&v| !has_pred[v]))
        .chain(sources..n);
    let mut state = vec![0u8; n];
    let mut post = Vec::with_capacity(n);
    let mut forward: Vec<Vec<usize>> = vec![Vec::new(); n];
    for r in roots {
        if state[r] != 0 {
            continue;
        }
        state[r] = 1;
        let mut stack = vec![(r, 0usize)];
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if let Some(&w) = succ[v].get(*next) {
                *next += 1;
                match state[w] {
                    0 => {
                        forward[v].push(w);
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => {} // closes a cycle
                    _ => forward[v].push(w),
                }
            } else {
                state[v] = 2;
                post.push(v);
                stack.pop();
            }
        }
    }
    // Layers, in topological order of the forward edges.
    let mut layer = vec![0usize; n];
    for &v in post.iter().rev() {
        if v >= sources {
            layer[v] = layer[v].max(1);
        }
        for &w in &forward[v] {
            layer[w] = layer[w].max(layer[v] + 1);
        }
    }
    // A node not yet wired to anything waits in its kind's column (storage
    // right), so a canvas being built keeps its shape.
    for v in sources..n {
        if succ[v].is_empty() && !has_pred[v] {
            layer[v] = column(t.nodes[v - sources].kind_of());
        }
    }
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (v, ws) in forward.iter().enumerate() {
        for &w in ws {
            preds[w].push(v);
        }
    }
    // Rows: each layer ordered by the mean row of its feeders.
    let layers = layer.iter().copied().max().unwrap_or(0) + 1;
    let mut row = vec![0usize; n];
    let mut columns: Vec<Vec<usize>> = Vec::new();
    for l in 0..layers {
        let mut members: Vec<(f64, usize)> = (0..n)
            .filter(|&v| layer[v] == l)
            .map(|v| {
                let ps: Vec<usize> = preds[v].iter().copied().filter(|&p| layer[p] < l).collect();
                let key = if ps.is_empty() {
                    f64::MAX
                } else {
                    ps.iter().map(|&p| row[p] as f64).sum::<f64>() / ps.len() as f64
                };
                (key, v)
            })
            .collect();
        members.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (k, &(_, v)) in members.iter().enumerate() {
            row[v] = k;
        }
        let order: Vec<usize> = members.into_iter().map(|(_, v)| v).collect();
        for chunk in order.chunks(MAX_ROWS) {
            columns.push(chunk.to_vec());
        }
    }
    let cols = columns.len();
    let x_of = |c: usize| {
        if cols <= 1 {
            0.06
        } else {
            0.06 + 0.88 * c as f32 / (cols - 1) as f32
        }
    };
    let mut out = BTreeMap::new();
    for (c, members) in columns.iter().enumerate() {
        let m = members.len() as f32;
        for (k, &v) in members.iter().enumerate() {
            let y = 0.08 + 0.84 * (k as f32 + 0.5) / m;
            out.insert(items[v].id().to_string(), [x_of(c), y]);
        }
    }
    out
}

impl Builder {
    /// Lays every box out again ([`arrange`]), in the builder and in the
    /// running graph. Positions are not edits: undo does not move them back.
    pub fn auto_layout(&mut self, s: &mut Sandbox) -> String {
        self.sync(s);
        let placed = arrange(&self.working);
        for (id, p) in &placed {
            self.pos.insert(id.clone(), *p);
        }
        for (id, p) in s.layout.sources.iter_mut().chain(s.layout.nodes.iter_mut()) {
            if let Some(q) = placed.get(id) {
                *p = *q;
            }
        }
        let msg = format!("laid out {} boxes by the request flow", placed.len());
        self.message = Some((msg.clone(), false));
        msg
    }
}
