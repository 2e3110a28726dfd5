//! Drawing a model: Graphviz DOT and Mermaid text.

use crate::model::{Model, Vertex};
use petgraph::visit::EdgeRef;
use std::fmt::Write as _;

/// Each source's line under its id: an open source's rate; closed-loop
/// users, their think time and the throughput they reach by MVA
/// (`theory::demand::closed_sources`: not `users / think`, which no queue
/// lets them send).
fn source_texts(model: &Model) -> Vec<String> {
    let open: Vec<f64> = model
        .sources
        .iter()
        .map(|s| if s.closed.is_some() { 0.0 } else { s.rps })
        .collect();
    let open = model
        .visit_rates(&open)
        .unwrap_or_else(|| vec![0.0; model.nodes.len()]);
    let closed = crate::theory::demand::closed_sources(model, &open);
    model
        .sources
        .iter()
        .zip(&closed)
        .map(|(s, c)| match (&s.closed, c) {
            (Some((users, think)), Some(c)) => format!(
                "{users} users, think {}\\n{}{:.1} rps (MVA)",
                crate::time::Duration(think.mean().max(0.0) as u64),
                if c.solution.exact { "" } else { "at most " },
                c.solution.throughput
            ),
            (Some((users, think)), None) => format!(
                "{users} users, think {}",
                crate::time::Duration(think.mean().max(0.0) as u64)
            ),
            _ => format!("{} rps", s.rps),
        })
        .collect()
}

fn label(model: &Model, texts: &[String], v: &Vertex) -> (String, String) {
    match *v {
        Vertex::Source(i) => {
            let s = &model.sources[i];
            (format!("src_{i}"), format!("{}\\n{}", s.id, texts[i]))
        }
        Vertex::Node(i) => {
            let n = &model.nodes[i];
            (
                format!("node_{i}"),
                format!("{}\\n{}", n.id, n.kind.describe(n)),
            )
        }
        Vertex::Exit => ("exit".into(), "done".into()),
    }
}

fn escape(s: &str) -> String {
    s.replace('"', "\\\"")
}

/// The model as a Graphviz digraph, left to right.
pub fn to_dot(model: &Model) -> String {
    let texts = source_texts(model);
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", escape(&model.name));
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(out, "  node [fontname=\"Helvetica\"];");
    for v in model.graph.node_indices() {
        let w = &model.graph[v];
        let (id, text) = label(model, &texts, w);
        let shape = match w {
            Vertex::Source(_) => "shape=invhouse",
            Vertex::Node(_) => "shape=box, style=rounded",
            Vertex::Exit => "shape=doublecircle",
        };
        let _ = writeln!(out, "  {id} [label=\"{}\", {shape}];", escape(&text));
    }
    for e in model.graph.edge_references() {
        let (a, _) = label(model, &texts, &model.graph[e.source()]);
        let (b, _) = label(model, &texts, &model.graph[e.target()]);
        let p = *e.weight();
        if (p - 1.0).abs() < 1e-12 {
            let _ = writeln!(out, "  {a} -> {b};");
        } else {
            let _ = writeln!(out, "  {a} -> {b} [label=\"{}\"];", fmt_p(p));
        }
    }
    regions_dot(model, &mut out);
    out.push_str("}\n");
    out
}

/// The model as a Mermaid flowchart, left to right.
pub fn to_mermaid(model: &Model) -> String {
    let texts = source_texts(model);
    let mut out = String::from("flowchart LR\n");
    for v in model.graph.node_indices() {
        let w = &model.graph[v];
        let (id, text) = label(model, &texts, w);
        let text = text.replace("\\n", "<br/>").replace('"', "#quot;");
        let _ = match w {
            Vertex::Source(_) => writeln!(out, "  {id}[/\"{text}\"/]"),
            Vertex::Node(_) => writeln!(out, "  {id}(\"{text}\")"),
            Vertex::Exit => writeln!(out, "  {id}((\"{text}\"))"),
        };
    }
    for e in model.graph.edge_references() {
        let (a, _) = label(model, &texts, &model.graph[e.source()]);
        let (b, _) = label(model, &texts, &model.graph[e.target()]);
        let p = *e.weight();
        if (p - 1.0).abs() < 1e-12 {
            let _ = writeln!(out, "  {a} --> {b}");
        } else {
            let _ = writeln!(out, "  {a} -- \"{}\" --> {b}", fmt_p(p));
        }
    }
    regions_mermaid(model, &mut out);
    out
}

/// Each region's members (graph ids of its sources and nodes), in file order.
fn members(model: &Model, r: usize) -> Vec<String> {
    let of = |v: &[u16]| -> Vec<usize> { (0..v.len()).filter(|&i| v[i] as usize == r).collect() };
    let sources = of(&model.source_region)
        .into_iter()
        .map(|i| format!("src_{i}"));
    let nodes = of(&model.node_region)
        .into_iter()
        .map(|i| format!("node_{i}"));
    sources.chain(nodes).collect()
}

/// The links as written: (region index a, region index b, latency).
fn links(model: &Model) -> Vec<(usize, usize, String)> {
    let at = |id: &str| model.regions.iter().position(|r| r == id);
    model
        .topology
        .links
        .iter()
        .filter_map(|l| Some((at(&l.a)?, at(&l.b)?, l.latency.to_string())))
        .collect()
}

/// Regions as dashed clusters (each with a point that links attach to),
/// and links as dashed undirected edges labelled with their latency.
fn regions_dot(model: &Model, out: &mut String) {
    for (r, name) in model.regions.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph cluster_region_{r} {{ label=\"region {}\"; style=dashed; region_{r} [shape=point]; {} }}",
            escape(name),
            members(model, r)
                .iter()
                .map(|m| format!("{m}; "))
                .collect::<String>()
                .trim_end()
        );
    }
    for (a, b, latency) in links(model) {
        let _ = writeln!(
            out,
            "  region_{a} -> region_{b} [dir=none, style=dashed, constraint=false, label=\"{latency}\"];"
        );
    }
}

/// Regions as subgraphs, links as dotted lines between them.
fn regions_mermaid(model: &Model, out: &mut String) {
    for (r, name) in model.regions.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph region_{r} [\"region {}\"]",
            name.replace('"', "#quot;")
        );
        for m in members(model, r) {
            let _ = writeln!(out, "    {m}");
        }
        let _ = writeln!(out, "  end");
    }
    for (a, b, latency) in links(model) {
        let _ = writeln!(out, "  region_{a} -. \"{latency}\" .- region_{b}");
    }
}

fn fmt_p(p: f64) -> String {
    let s = format!("{:.4}", p);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
