//! The traffic equations, solved component by component.
//!
//! A request's flows between nodes (`NodeModel::flows`) form a directed
//! graph. Its strongly connected components, taken in topological order,
//! let the equations be solved exactly where there is no loop (a chain of
//! ten thousand apps is one pass, not ten thousand sweeps) and by iteration
//! only inside a loop, with everything outside it already known. Only a
//! real loop can make the visits unbounded; a long chain never does.

use crate::model::NodeModel;
use petgraph::graph::{DiGraph, NodeIndex};

/// Node-visits of work the iterations inside loops may take in all.
const SOLVE_OPS: usize = 50_000_000;

/// The nodes' strongly connected components along their flows, in
/// topological order (a component before every one it sends to), and for
/// each whether it loops (more than one node, or a node that sends to
/// itself). Iterative: no recursion, however long the chain.
pub(crate) fn components(nodes: &[NodeModel]) -> Vec<(Vec<usize>, bool)> {
    let mut g: DiGraph<(), ()> = DiGraph::with_capacity(nodes.len(), 0);
    for _ in nodes {
        g.add_node(());
    }
    for (i, m) in nodes.iter().enumerate() {
        for r in &m.flows {
            g.add_edge(NodeIndex::new(i), NodeIndex::new(r.to), ());
        }
    }
    // Kosaraju's order is reverse topological.
    let mut sccs = petgraph::algo::kosaraju_scc(&g);
    sccs.reverse();
    sccs.into_iter()
        .map(|c| {
            let members: Vec<usize> = c.into_iter().map(NodeIndex::index).collect();
            let loops = members.len() > 1
                || members
                    .first()
                    .is_some_and(|&i| nodes[i].flows.iter().any(|r| r.to == i));
            (members, loops)
        })
        .collect()
}

/// How many sweeps a loop of `size` nodes and `edges` flows may take.
fn sweeps(edges: usize, size: usize) -> usize {
    (SOLVE_OPS / (edges + size).max(1)).clamp(10, 1_000_000)
}

/// Per node, solved backwards: expected visits a request entering there
/// makes (itself included) and the service time it adds up (its demand),
/// from `service` (each node's mean service time). Exact outside loops;
/// inside a loop, iterated within a fixed amount of work and, when that is
/// not enough (a loop that is almost never left), extrapolated from the
/// last steps, so the answer errs large, never small (infinite when the
/// steps do not shrink).
pub(crate) fn backwards(nodes: &[NodeModel], service: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = nodes.len();
    let mut visits = vec![1.0; n];
    let mut demand = service.to_vec();
    // Successors first: reverse topological order.
    for (members, loops) in components(nodes).into_iter().rev() {
        if !loops {
            let i = members[0];
            let (mut v, mut d) = (1.0, service[i]);
            for r in &nodes[i].flows {
                v += r.p * visits[r.to];
                d += r.p * demand[r.to];
            }
            visits[i] = v;
            demand[i] = d;
            continue;
        }
        let edges: usize = members.iter().map(|&i| nodes[i].flows.len()).sum();
        let mut prev_step = vec![f64::INFINITY; members.len()];
        let mut ratio = 0.0f64;
        let mut settled = false;
        for _ in 0..sweeps(edges, members.len()) {
            let next: Vec<(f64, f64)> = members
                .iter()
                .map(|&i| {
                    let (mut v, mut d) = (1.0, service[i]);
                    for r in &nodes[i].flows {
                        v += r.p * visits[r.to];
                        d += r.p * demand[r.to];
                    }
                    (v, d)
                })
                .collect();
            let mut done = true;
            ratio = 0.0;
            for (k, (&i, &(v, d))) in members.iter().zip(&next).enumerate() {
                let step = v - visits[i];
                if step > 1e-9 * v {
                    done = false;
                }
                if prev_step[k].is_finite() && prev_step[k] > 0.0 {
                    ratio = ratio.max(step / prev_step[k]);
                }
                prev_step[k] = step;
                visits[i] = v;
                demand[i] = d;
            }
            if done {
                settled = true;
                break;
            }
        }
        if !settled {
            // The steps shrink by `ratio` each sweep; add what is left.
            let left = if ratio < 1.0 {
                ratio / (1.0 - ratio)
            } else {
                f64::INFINITY
            };
            for (k, &i) in members.iter().enumerate() {
                visits[i] += prev_step[k] * left;
            }
        }
    }
    (visits, demand)
}

/// Solves the traffic equations forwards, `lambda_j = ext_j + sum_i
/// lambda_i p_ij`, for the external arrival rates `ext`: exact outside
/// loops, iterated inside them. `None` when a loop does not settle within
/// its work limit (feedback probabilities extremely close to 1).
pub(crate) fn forwards(nodes: &[NodeModel], ext: &[f64]) -> Option<Vec<f64>> {
    let n = nodes.len();
    let mut incoming: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for (i, m) in nodes.iter().enumerate() {
        for r in &m.flows {
            incoming[r.to].push((i, r.p));
        }
    }
    let mut lam = ext.to_vec();
    let inflow = |j: usize, lam: &[f64]| -> f64 {
        ext[j] + incoming[j].iter().map(|&(i, p)| lam[i] * p).sum::<f64>()
    };
    for (members, loops) in components(nodes) {
        if !loops {
            let j = members[0];
            lam[j] = inflow(j, &lam);
            continue;
        }
        let edges: usize = members.iter().map(|&j| incoming[j].len()).sum();
        let mut settled = false;
        for _ in 0..sweeps(edges, members.len()).min(100_000) {
            let next: Vec<f64> = members.iter().map(|&j| inflow(j, &lam)).collect();
            let mut diff = 0.0f64;
            for (&j, &x) in members.iter().zip(&next) {
                diff = diff.max((x - lam[j]).abs() / x.abs().max(1e-12));
                lam[j] = x;
            }
            if diff < 1e-12 {
                settled = true;
                break;
            }
        }
        if !settled {
            return None;
        }
    }
    Some(lam)
}

/// The deepest nesting of waiting calls a request can make, counting the
/// nodes for which `waits` is true (a node that holds its request while
/// the next one works: an app, a read-through cache, a CDN edge), and the
/// node where the deepest chain starts. Loops through a waiting node are
/// refused before this is asked; a loop of nodes that hand requests on
/// counts as deep as the deepest way out of it.
pub(crate) fn deepest_nesting(
    nodes: &[NodeModel],
    waits: impl Fn(usize) -> bool,
) -> (usize, usize) {
    let mut depth = vec![0usize; nodes.len()];
    let mut done = vec![false; nodes.len()];
    let mut best = (0, 0);
    for (members, _) in components(nodes).into_iter().rev() {
        // Successors outside the component are done; inside it, not yet.
        let below = members
            .iter()
            .flat_map(|&i| nodes[i].flows.iter())
            .filter(|r| done[r.to])
            .map(|r| depth[r.to])
            .max()
            .unwrap_or(0);
        for &i in &members {
            done[i] = true;
            depth[i] = below + usize::from(waits(i));
            if depth[i] > best.0 {
                best = (depth[i], i);
            }
        }
    }
    best
}
