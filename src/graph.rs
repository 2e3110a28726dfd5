//! Drawing a model: Graphviz DOT and Mermaid text.

use crate::model::{Model, Vertex};
use petgraph::visit::EdgeRef;
use std::fmt::Write as _;

fn label(model: &Model, v: &Vertex) -> (String, String) {
    match *v {
        Vertex::Source(i) => {
            let s = &model.sources[i];
            (format!("src_{i}"), format!("{}\\n{} rps", s.id, s.rps))
        }
        Vertex::Node(i) => {
            let n = &model.nodes[i];
            (format!("node_{i}"), format!("{}\\n{}", n.id, describe(n)))
        }
        Vertex::Exit => ("exit".into(), "done".into()),
    }
}

/// A node's capacity and timing, in the words of its kind: a balancer has
/// no servers, a database reads and writes, a CDN's edge is unbounded.
fn describe(n: &crate::model::NodeModel) -> String {
    use crate::kinds::KindModel;
    let d = |ns: f64| crate::time::Duration(ns.clamp(0.0, u64::MAX as f64) as u64);
    let queue = n
        .queue
        .map_or("queue unbounded".to_string(), |q| format!("queue {q}"));
    match &n.kind {
        KindModel::LoadBalancer(lb) => {
            format!("LoadBalancer · {:?} over {}", lb.policy, lb.backends.len())
        }
        KindModel::ShardRouter(r) => {
            format!("ShardRouter · {:?} over {}", r.scheme, r.shards.len())
        }
        KindModel::RateLimiter(l) => {
            format!("RateLimiter · {:.0}/s per {:?}", l.rate * 1e9, l.by)
        }
        KindModel::Pooler(_) => format!("Pooler · {} connections · {queue}", n.servers),
        KindModel::Cdn(c) => format!(
            "Cdn edge · {} objects\\nedge time {}",
            c.capacity,
            d(n.service.mean())
        ),
        KindModel::Cache(c) => format!(
            "Cache x{} · {} keys\\nmean op {}",
            n.servers,
            c.capacity,
            d(n.service.mean())
        ),
        KindModel::Database(db) => format!(
            "Database x{} · {queue}\\nmean read {}, write {}",
            n.servers,
            d(n.service.mean()),
            d(db.write.mean())
        ),
        KindModel::Replica(_) => format!(
            "Replica x{} · {queue}\\nmean read {}",
            n.servers,
            d(n.service.mean())
        ),
        KindModel::App(a) => format!(
            "App {} x {} workers · {queue}\\nmean own work {}",
            a.instances,
            a.workers,
            d(n.service.mean())
        ),
        KindModel::Queue(_) => format!(
            "Queue · {} workers · {queue}\\nmean processing {}",
            n.servers,
            d(n.service.mean())
        ),
        KindModel::Station => format!(
            "Station x{} · {queue}\\nmean service {}",
            n.servers,
            d(n.service.mean())
        ),
    }
}

fn escape(s: &str) -> String {
    s.replace('"', "\\\"")
}

/// The model as a Graphviz digraph, left to right.
pub fn to_dot(model: &Model) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", escape(&model.name));
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(out, "  node [fontname=\"Helvetica\"];");
    for v in model.graph.node_indices() {
        let w = &model.graph[v];
        let (id, text) = label(model, w);
        let shape = match w {
            Vertex::Source(_) => "shape=invhouse",
            Vertex::Node(_) => "shape=box, style=rounded",
            Vertex::Exit => "shape=doublecircle",
        };
        let _ = writeln!(out, "  {id} [label=\"{}\", {shape}];", escape(&text));
    }
    for e in model.graph.edge_references() {
        let (a, _) = label(model, &model.graph[e.source()]);
        let (b, _) = label(model, &model.graph[e.target()]);
        let p = *e.weight();
        if (p - 1.0).abs() < 1e-12 {
            let _ = writeln!(out, "  {a} -> {b};");
        } else {
            let _ = writeln!(out, "  {a} -> {b} [label=\"{}\"];", fmt_p(p));
        }
    }
    out.push_str("}\n");
    out
}

/// The model as a Mermaid flowchart, left to right.
pub fn to_mermaid(model: &Model) -> String {
    let mut out = String::from("flowchart LR\n");
    for v in model.graph.node_indices() {
        let w = &model.graph[v];
        let (id, text) = label(model, w);
        let text = text.replace("\\n", "<br/>").replace('"', "#quot;");
        let _ = match w {
            Vertex::Source(_) => writeln!(out, "  {id}[/\"{text}\"/]"),
            Vertex::Node(_) => writeln!(out, "  {id}(\"{text}\")"),
            Vertex::Exit => writeln!(out, "  {id}((\"{text}\"))"),
        };
    }
    for e in model.graph.edge_references() {
        let (a, _) = label(model, &model.graph[e.source()]);
        let (b, _) = label(model, &model.graph[e.target()]);
        let p = *e.weight();
        if (p - 1.0).abs() < 1e-12 {
            let _ = writeln!(out, "  {a} --> {b}");
        } else {
            let _ = writeln!(out, "  {a} -- \"{}\" --> {b}", fmt_p(p));
        }
    }
    out
}

fn fmt_p(p: f64) -> String {
    let s = format!("{:.4}", p);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
