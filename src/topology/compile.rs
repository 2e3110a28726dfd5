//! Checking a parsed topology and compiling it into a [`Model`]: ids, sources,
//! every node (each kind checks and compiles itself, see [`crate::kinds`]),
//! regions, loops no request can leave, warnings (overload, reliance on a
//! cache, nodes nothing reaches). Every problem found is reported at once.

use super::check::{self, CompileCx, Ctx};
use super::limits::*;
use super::load::Loaded;
use super::{Node, Topology};
use crate::diag::{
    Diagnostic, Diagnostics, LineIndex, Places, SUGGEST_CELLS, closest_within, list_names, short,
};
use crate::fmt::fmt_num;
use crate::model::{Model, NodeModel, SourceModel, Vertex};
use crate::profile::Profile;
use petgraph::Direction;
use petgraph::graph::DiGraph;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, VecDeque};

fn valid_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("an id is empty".into());
    }
    if id.chars().count() > MAX_ID_LEN {
        return Err(format!(
            "the id `{}` is longer than {MAX_ID_LEN} characters",
            short(id)
        ));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/')))
    {
        return Err(format!(
            "the id `{}` contains {c:?}; ids use letters, digits and - _ . : /",
            short(id)
        ));
    }
    Ok(())
}

fn check_rate(what: &str, x: f64, limit: f64) -> Result<(), String> {
    if !x.is_finite() {
        Err(format!("{what} is {x}; it must be a finite number"))
    } else if x < 0.0 {
        Err(format!("{what} is negative ({})", fmt_num(x)))
    } else if x > limit {
        Err(format!(
            "{what} is {}, over the limit of {}",
            fmt_num(x),
            fmt_num(limit)
        ))
    } else {
        Ok(())
    }
}

fn check_profile(p: &Profile) -> Result<(), String> {
    p.check()?;
    match p {
        Profile::Ramp { to, .. } => check_rate("Ramp: `to`", *to, MAX_RPS),
        Profile::Steps(steps) => {
            if steps.len() > MAX_STEPS {
                return Err(format!(
                    "Steps: {} steps, over the limit of {MAX_STEPS}",
                    steps.len()
                ));
            }
            steps
                .iter()
                .try_for_each(|s| check_rate("Steps: `rps`", s.rps, MAX_RPS))
        }
        Profile::Spike { times, .. } => check_rate("Spike: `times`", *times, MAX_FACTOR),
        Profile::Diurnal { peak, .. } => check_rate("Diurnal: `peak`", *peak, MAX_FACTOR),
        Profile::Constant => Ok(()),
    }
}

/// Validates a parsed topology and compiles it into a [`Model`].
pub fn compile(file: &str, text: &str, top: Topology) -> Result<Loaded, Diagnostics> {
    compile_keeping(file, text, top, &[])
}

/// [`compile`], with the request classes `running` first, in their order,
/// and the others after them, sorted (a live edit keeps class indices).
pub(crate) fn compile_keeping(
    file: &str,
    text: &str,
    top: Topology,
    running: &[String],
) -> Result<Loaded, Diagnostics> {
    let mut ds = Diagnostics::new(file, text);

    // Where each item is written, for messages: one pass over the text
    // for the places, one for the line starts.
    let places = Places::new(text);
    let lines = LineIndex::new(text);
    let mut cursor = 0;
    let mut source_at = Vec::new();
    for s in &top.sources {
        let at = places.find(cursor, "id", &s.id);
        if let Some(a) = at {
            cursor = a + 1;
        }
        source_at.push(at);
    }
    cursor = 0;
    let mut node_at = Vec::new();
    for n in &top.nodes {
        let at = places.find(cursor, "id", n.id());
        if let Some(a) = at {
            cursor = a + 1;
        }
        node_at.push(at);
    }
    let pos = |at: Option<usize>| at.map(|a| lines.pos(a));

    if top.sources.is_empty() {
        ds.push(
            Diagnostic::error("the topology has no sources, so nothing will ever arrive").hint(
                "add `Source(id: \"users\", to: \"<first node>\", arrivals: Poisson(rps: 10.0))`",
            ),
        );
    }
    if top.nodes.is_empty() {
        ds.push(
            Diagnostic::error("the topology has no nodes").hint(
                "add `Station(id: \"web\", servers: 1, service: Exponential(mean: \"10ms\"))`",
            ),
        );
    }
    if top.sources.len() > MAX_SOURCES {
        // At the first source past the limit.
        ds.push(
            Diagnostic::error(format!(
                "{} sources, over the limit of {MAX_SOURCES}",
                top.sources.len()
            ))
            .at(pos(source_at[MAX_SOURCES]))
            .on(format!("source `{}`", short(&top.sources[MAX_SOURCES].id)))
            .hint(format!(
                "a topology has at most {MAX_SOURCES} sources; one source with a `mix` of classes stands for many kinds of user"
            )),
        );
    }
    if top.nodes.len() > MAX_NODES {
        // At the first node past the limit.
        ds.push(
            Diagnostic::error(format!(
                "{} nodes, over the limit of {MAX_NODES}",
                top.nodes.len()
            ))
            .at(pos(node_at[MAX_NODES]))
            .on(format!("node `{}`", short(top.nodes[MAX_NODES].id())))
            .hint(format!(
                "a topology has at most {MAX_NODES} nodes; model a fleet of identical servers as one node with `servers` (or an app with `instances`)"
            )),
        );
    }
    let mut classes = running.to_vec();
    for c in check::classes(&top.sources) {
        if !classes.contains(&c) {
            classes.push(c);
        }
    }
    if classes.len() > MAX_CLASSES {
        // At the source with the largest mix.
        let mix = |i: usize| top.sources[i].mix.as_ref().map_or(0, |m| m.len());
        let widest = (0..top.sources.len())
            .max_by(|&a, &b| mix(a).cmp(&mix(b)).then(b.cmp(&a)))
            .and_then(|i| source_at[i]);
        ds.push(
            Diagnostic::error(format!(
                "the sources' mixes name {} classes, over the limit of {MAX_CLASSES}",
                classes.len()
            ))
            .at(pos(widest))
            .hint("a class is a kind of request (read, write...): use a few"),
        );
    }
    if ds.has_errors() {
        return Err(ds);
    }

    // Ids: valid and unique across sources and nodes.
    let mut seen = std::collections::BTreeSet::new();
    let all_ids = top
        .sources
        .iter()
        .zip(&source_at)
        .map(|(s, &at)| (s.id.as_str(), "source", at))
        .chain(
            top.nodes
                .iter()
                .zip(&node_at)
                .map(|(n, &at)| (n.id(), "node", at)),
        );
    for (id, kind, at) in all_ids {
        if let Err(m) = valid_id(id) {
            ds.push(
                Diagnostic::error(m)
                    .at(pos(at))
                    .on(format!("{kind} `{}`", short(id))),
            );
        }
        if !seen.insert(id) {
            ds.push(
                Diagnostic::error(format!("the id `{}` is used twice", short(id)))
                    .at(pos(at))
                    .on(format!("{kind} `{}`", short(id)))
                    .hint("every source and node needs its own id"),
            );
        }
    }
    let mut node_ids: Vec<&str> = top.nodes.iter().map(Node::id).collect();
    let index: BTreeMap<&str, usize> = node_ids
        .iter()
        .enumerate()
        .rev()
        .map(|(i, &id)| (id, i))
        .collect();
    node_ids.dedup();
    // Suggestions compare names pair by pair: one budget for the whole
    // file keeps ten thousand unknown names as quick as a few.
    let suggest = std::cell::Cell::new(10 * SUGGEST_CELLS);
    let unknown = |target: &str| -> Diagnostic {
        let d = Diagnostic::error(format!("`{}` is not a node", short(target)));
        let mut budget = suggest.get();
        let near = closest_within(target, node_ids.iter().copied(), &mut budget);
        suggest.set(budget);
        match near {
            Some(s) => d.hint(format!("did you mean `{s}`?")),
            None => d.hint(format!("the nodes are: {}", list_names(&node_ids))),
        }
    };

    let cx = Ctx {
        places: &places,
        lines: &lines,
        index: &index,
        nodes: &top.nodes,
        classes: &classes,
        unknown: &unknown,
        suggest: &suggest,
    };

    // Sources.
    for (s, &at) in top.sources.iter().zip(&source_at) {
        check::check_source_extras(s, at, &cx, &mut ds);
        let item = format!("source `{}`", short(&s.id));
        if !index.contains_key(s.to.as_str()) {
            let at = places.find(at.unwrap_or(0), "to", &s.to).or(at);
            ds.push(unknown(&s.to).at(pos(at)).on(&item));
        }
        crate::kinds::cache::on_path::refuse_aside(&cx, &s.to, "to", at, &item, &mut ds);
        match &s.arrivals {
            // Users out of their range are reported with them, once.
            crate::profile::Arrivals::Closed { users, .. } if *users == 0 || *users > 1_000_000 => {
            }
            // Their most throughput depends on the nodes: `overload::warnings`.
            crate::profile::Arrivals::Closed { .. } => {}
            _ => {
                if let Err(m) = check_rate("`rps`", s.arrivals.rps(), MAX_RPS) {
                    ds.push(Diagnostic::error(m).at(pos(at)).on(&item).hint(format!(
                        "rates are requests per second, from 0 to {}",
                        fmt_num(MAX_RPS)
                    )));
                }
            }
        }
        if let Some(p) = &s.profile
            && let Err(m) = check_profile(p)
        {
            // A message that ends with its remedy gives it as the hint.
            let (what, how) = match m.rsplit_once("; ") {
                Some((w, h)) => (w.to_string(), h.to_string()),
                None => (m, "the profiles are `Ramp(to: 3000.0, over: \"5m\")`, `Steps([Step(at: \"1m\", rps: 200.0)])`, `Spike(at: \"2m\", times: 3.0, for: \"5m\")` and `Diurnal(peak: 1.0, trough: 0.2, period: \"24h\")`".to_string()),
            };
            ds.push(Diagnostic::error(what).at(pos(at)).on(&item).hint(how));
        }
    }

    // Nodes.
    for (n, &at) in top.nodes.iter().zip(&node_at) {
        n.check(&cx, at, &mut ds);
    }
    let (regions, node_region, source_region, latency) = check::compile_regions(&top, &cx, &mut ds);
    if ds.has_errors() {
        return Err(ds);
    }
    // Compiled, every app holds its steps once per class.
    let per_app: Vec<(usize, usize)> = top
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match n {
            Node::App(app) => {
                let fallback = app.handle.get("*").map_or(0, Vec::len);
                let steps = classes
                    .iter()
                    .map(|c| app.handle.get(c).map_or(fallback, Vec::len))
                    .sum::<usize>();
                Some((i, steps))
            }
            _ => None,
        })
        .collect();
    let steps: usize = per_app.iter().map(|x| x.1).sum();
    if steps > MAX_HANDLER_STEPS {
        // The first of the largest.
        let largest = per_app
            .iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map_or(0, |x| x.0);
        ds.push(
            Diagnostic::error(format!(
                "the apps' handlers come to {steps} steps (each app holds its steps for each of the {} classes), over the limit of {MAX_HANDLER_STEPS}",
                classes.len()
            ))
            .at(pos(node_at[largest]))
            .on(format!("node `{}`", top.nodes[largest].id()))
            .hint("use fewer classes in the sources' mixes, or shorter handlers"),
        );
        return Err(ds);
    }

    // Compile.
    let sources: Vec<SourceModel> = top
        .sources
        .iter()
        .map(|s| check::compile_source(s, &index, &classes))
        .collect();
    let shares = check::class_shares(&sources, classes.len());
    let mut nodes: Vec<NodeModel> = top
        .nodes
        .iter()
        .map(|n| {
            n.compile(&CompileCx {
                index: &index,
                classes: &classes,
                shares: &shares,
            })
        })
        .collect();
    // Note which nodes sit behind a cache (their load depends on misses).
    for i in 0..nodes.len() {
        if let crate::kinds::KindModel::Cdn(c) = &nodes[i].kind {
            let origin = c.origin;
            nodes[origin as usize].behind_cache = Some(i as u32);
        }
        if let crate::kinds::KindModel::App(a) = &nodes[i].kind {
            let pairs: Vec<(u32, u32)> = a
                .handlers
                .iter()
                .flatten()
                .filter_map(|s| match s {
                    crate::model::StepModel::CacheAside { cache, db } => Some((*cache, *db)),
                    _ => None,
                })
                .collect();
            for (cache, db) in pairs {
                mark_behind_cache(&mut nodes, db as usize, cache);
            }
        }
        if let crate::kinds::KindModel::Cache(c) = &nodes[i].kind
            && let Some(b) = c.backend
        {
            mark_behind_cache(&mut nodes, b as usize, i as u32);
        }
    }
    let mut graph = DiGraph::new();
    let source_vertex: Vec<_> = (0..sources.len())
        .map(|i| graph.add_node(Vertex::Source(i)))
        .collect();
    let node_vertex: Vec<_> = (0..nodes.len())
        .map(|i| graph.add_node(Vertex::Node(i)))
        .collect();
    let exit_vertex = graph.add_node(Vertex::Exit);
    for (i, s) in sources.iter().enumerate() {
        graph.add_edge(source_vertex[i], node_vertex[s.to], 1.0);
    }
    for (i, n) in nodes.iter().enumerate() {
        for r in &n.flows {
            graph.add_edge(node_vertex[i], node_vertex[r.to], r.p);
        }
        if n.exit > 1e-9 {
            graph.add_edge(node_vertex[i], exit_vertex, n.exit);
        }
    }
    let mut model = Model {
        name: top.name.clone(),
        classes,
        class_writes: Vec::new(),
        topology: top,
        sources,
        regions,
        node_region,
        source_region,
        latency,
        nodes,
        graph,
        source_vertex,
        node_vertex,
        exit_vertex,
    };

    // Whether each class writes where it arrives as itself (a database
    // that cannot tell refused).
    crate::kinds::database::direct::settle(&mut model, &|j| pos(node_at[j]), &mut ds);
    // A CDN never answers a write from its cache.
    crate::kinds::cdn::settle(&mut model, &|j| pos(node_at[j]), &mut ds);

    // Calls must not loop: an app whose request comes back to it through its
    // own calls would nest calls without end.
    // Kosaraju's is iterative (Tarjan's in petgraph recurses once per node of a
    // chain, and ten thousand overflow the stack).
    for cycle in petgraph::algo::kosaraju_scc(&model.graph) {
        let nodes_in: Vec<usize> = cycle
            .iter()
            .filter_map(|v| match model.graph[*v] {
                Vertex::Node(i) => Some(i),
                _ => None,
            })
            .collect();
        let looped = nodes_in.len() > 1
            || nodes_in.first().is_some_and(|&i| {
                model
                    .graph
                    .contains_edge(model.node_vertex[i], model.node_vertex[i])
            });
        if !looped {
            continue;
        }
        if let Some(&app) = nodes_in
            .iter()
            .filter(|&&i| waits_for_answer(&model.nodes[i].kind))
            .min()
        {
            let cdn = matches!(model.nodes[app].kind, crate::kinds::KindModel::Cdn(_));
            let mut ids: Vec<&str> = nodes_in
                .iter()
                .map(|&i| model.nodes[i].id.as_str())
                .collect();
            ids.sort_unstable();
            ds.push(
                Diagnostic::error(format!(
                    "calls loop: a request at `{}` can come back to it through its own calls ({})",
                    model.nodes[app].id,
                    ids.join(", ")
                ))
                .at(pos(node_at[app]))
                .on(format!("node `{}`", model.nodes[app].id))
                .hint(if cdn {
                    "a CDN waits for its origin to answer a miss, so misses would go round the loop without end; point one `origin:` at a node outside the loop (an app, a station, an object store)"
                } else {
                    "an app waits for its calls, so the calls would nest without end; break the loop"
                }),
            );
        }
    }

    // Nesting: answers travel back up through every waiting caller.
    if !ds.has_errors() {
        let (depth, top) = crate::visits::deepest_nesting(&model.nodes, |i| {
            waits_for_answer(&model.nodes[i].kind)
        });
        if depth > MAX_CALL_DEPTH {
            ds.push(
                Diagnostic::error(format!(
                    "calls nest {depth} deep from `{}` (each app, read-through cache or CDN on the way waits for the next), over the limit of {MAX_CALL_DEPTH}",
                    short(&model.nodes[top].id)
                ))
                .at(pos(node_at[top]))
                .on(format!("node `{}`", short(&model.nodes[top].id)))
                .hint("real call chains are a few to a few dozen deep; model a run of similar tiers as one app with their service time, or call them side by side (FanOut) rather than one inside another"),
            );
        }
    }

    // Structure: every node must have a way out; warn about nodes no traffic reaches.
    let can_exit = reach(&model, model.exit_vertex, Direction::Incoming);
    let mut reached = vec![false; model.graph.node_count()];
    for &sv in &model.source_vertex {
        for (v, r) in reach(&model, sv, Direction::Outgoing)
            .into_iter()
            .enumerate()
        {
            reached[v] |= r;
        }
    }
    for (i, n) in model.nodes.iter().enumerate() {
        let v = model.node_vertex[i].index();
        let p = pos(node_at[i]);
        if !can_exit[v] {
            ds.push(
                Diagnostic::error(format!(
                    "requests that reach `{}` can never leave the system: every route out of it leads back into a loop",
                    n.id
                ))
                .at(p)
                .on(format!("node `{}`", n.id))
                .hint("let some probability leave: make the route probabilities of a node on the loop sum to less than 1"),
            );
        } else if !reached[v] {
            ds.push(
                Diagnostic::warning(format!("no source sends traffic to `{}`", n.id))
                    .at(p)
                    .on(format!("node `{}`", n.id))
                    .hint("route to it from another node, or point a source at it"),
            );
        }
    }
    // An app with handlers that names none for a class its sources send
    // (and no `*`): those requests would do only the app's own work.
    for (i, n) in model.topology.nodes.iter().enumerate() {
        if let Node::App(app) = n
            && !app.handle.is_empty()
            && !app.handle.contains_key("*")
            && reached[model.node_vertex[i].index()]
        {
            let missing: Vec<&str> = model
                .classes
                .iter()
                .filter(|c| !app.handle.contains_key(c.as_str()))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                ds.push(
                    Diagnostic::warning(format!(
                        "app `{}` has no handler for class{} {}: those requests do only the app's own work and call nothing",
                        app.id,
                        if missing.len() == 1 { "" } else { "es" },
                        missing.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                    ))
                    .at(pos(node_at[i]))
                    .on(format!("node `{}`", app.id))
                    .hint(format!(
                        "add `\"{}\": [...]` to `handle` (an empty list if that is meant), or a `\"*\"` handler",
                        missing[0]
                    )),
                );
            }
        }
    }
    // Closed-loop users for whom no time passes would spin at t = 0.
    for (i, message, hint) in crate::model::endless_loops(&model) {
        ds.push(
            Diagnostic::error(message)
                .at(pos(source_at[i]))
                .on(format!("source `{}`", model.sources[i].id))
                .hint(hint),
        );
    }
    if ds.has_errors() {
        return Err(ds);
    }
    super::overload::warnings(&model, &node_at, &source_at, &lines, &mut ds);
    if ds.has_errors() {
        return Err(ds);
    }
    Ok(Loaded {
        model,
        warnings: ds,
    })
}

/// True for a kind that holds a request while the next node works on it:
/// an app for its calls, a read-through cache for its fetches, a CDN edge
/// for its origin. A loop through one nests without end.
fn waits_for_answer(kind: &crate::kinds::KindModel) -> bool {
    match kind {
        crate::kinds::KindModel::App(_) | crate::kinds::KindModel::Cdn(_) => true,
        crate::kinds::KindModel::Cache(c) => c.backend.is_some(),
        _ => false,
    }
}

/// Which vertices can be reached from `start` following edges in `dir`.
fn reach(model: &Model, start: petgraph::graph::NodeIndex, dir: Direction) -> Vec<bool> {
    let mut seen = vec![false; model.graph.node_count()];
    let mut todo = VecDeque::from([start]);
    seen[start.index()] = true;
    while let Some(v) = todo.pop_front() {
        for e in model.graph.edges_directed(v, dir) {
            let w = if dir == Direction::Outgoing {
                e.target()
            } else {
                e.source()
            };
            if !seen[w.index()] {
                seen[w.index()] = true;
                todo.push_back(w);
            }
        }
    }
    seen
}

/// Marks node `at` as behind cache `cache` (its load depends on the
/// cache's misses), and, through balancers, routers and limiters, the nodes
/// it hands requests to (a cache-aside miss may read a balancer over
/// replicas).
fn mark_behind_cache(nodes: &mut [NodeModel], at: usize, cache: u32) {
    let mut todo = vec![at];
    let mut seen = vec![false; nodes.len()];
    while let Some(n) = todo.pop() {
        if n >= nodes.len() || std::mem::replace(&mut seen[n], true) {
            continue;
        }
        nodes[n].behind_cache = Some(cache);
        todo.extend(nodes[n].kind.hands_to());
    }
}
