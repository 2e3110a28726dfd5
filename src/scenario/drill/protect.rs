//! What a drill's candidate may not change: the workload and the physics.
//!
//! A drill gives the traffic (its sources: arrivals, profile, mix, keys,
//! client settings, addresses) and the time each piece of work takes (a
//! node's service time, a database's read and write times, a replica's lag,
//! ...). The candidate changes the architecture: capacity knobs (servers,
//! instances, workers, pools, queues), caches, replicas, balancers, the
//! handlers' steps. A submission that edits the given numbers solves an
//! easier problem, so [`violations`] compares it with the drill's start
//! and grading refuses every change to a protected field.
//!
//! The rules, field by field:
//! - every source of the start is in the submission, with the same
//!   [`SOURCE_FIELDS`] (only `to`, where the users arrive, may change), and
//!   there is no new source;
//! - a node of the start keeps the [`physics`] of its kind, matched by id;
//! - a new node (or one whose kind changed) takes its physics from a start
//!   node of its family (a Station or App does the start's Station's or
//!   App's work, at its service time; a Replica reads as the start's
//!   Database does): whatever it is called, it does the same work;
//! - a new node of a kind with no family in the start or the drill's
//!   [`Protect::given`] that does work (a Database, Queue or ObjectStore
//!   where the start has only a Station: [`work_time`]) takes one of the
//!   start's work times for each of its time fields: a request's work is
//!   the same whichever kind does it, so a Station's 12 ms computation
//!   rewritten as a 100 us database read is refused;
//! - the links between regions stay as they were.
//!
//! A kind that does no work (a cache, a CDN) and that neither the start
//! nor [`Protect::given`] has is free: a drill that expects one to be
//! added gives its physics there. That the work itself is still done
//! (every class still reaches the database it reached, writes still
//! written) is [`super::work`]'s check.
//!
//! A drill can protect more fields or free some with [`Protect`]: paths
//! `sources.FIELD[.FIELD...]` or `KIND.FIELD[...]` (drill 8 frees
//! `sources.client.retries` and `sources.client.breaker`: they are its fix).

use crate::kind::Kind;
use crate::kinds::Node;
use crate::topology::Topology;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A drill's changes to the default protection.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protect {
    /// Paths the candidate may change although protected by default, e.g.
    /// `sources.client.retries`.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Paths protected besides the defaults, e.g. `App.handle`.
    #[serde(default)]
    pub also: Vec<String>,
    /// The physics of kinds the start does not have but a solution adds
    /// (drill 3's cache, drill 6's CDN): a node of one of these kinds
    /// takes its physics from the node given here, as from a start node.
    #[serde(default)]
    pub given: Vec<Node>,
}

/// The fields of a source that make the workload (`to`, where the users
/// arrive, may change).
pub const SOURCE_FIELDS: [&str; 6] = ["arrivals", "profile", "mix", "keys", "client", "ips"];

/// The fields of a kind that are its given physics: how long its work
/// takes and how that grows with load.
pub fn physics(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Station | Kind::Queue => &["service", "load"],
        Kind::App => &["service", "load_factor", "load"],
        Kind::Cache => &["service", "load", "warm"],
        Kind::Database => &["read", "write", "load_factor", "load"],
        Kind::Replica => &["read", "lag", "load"],
        Kind::Cdn => &["service"],
        Kind::ObjectStore => &["service", "rate", "load"],
        Kind::LoadBalancer | Kind::RateLimiter | Kind::ShardRouter | Kind::Pooler => &[],
    }
}

/// Kinds that do the same work: a new node takes its physics from a start
/// node of its family.
fn family(kind: Kind) -> u8 {
    match kind {
        Kind::Station | Kind::App => 0,
        Kind::Database | Kind::Replica => 1,
        k => 2 + k as u8,
    }
}

/// The fields of a kind that say how long its work takes, when it does the
/// work a request needs done (computes an answer, reads or writes the
/// database, reads an object): the same work, whatever kind does it.
/// Caches, CDNs and the kinds that pass requests on do none.
pub fn work_time(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Station | Kind::Queue | Kind::App | Kind::ObjectStore => &["service"],
        Kind::Database => &["read", "write"],
        Kind::Replica => &["read"],
        _ => &[],
    }
}

/// The start's (and the drill's given) work times: each work-doing node
/// with one of its [`work_time`] fields and that field's value.
fn given_work<'a>(p: &'a Protect, start: &'a Topology) -> Vec<(&'a Node, &'static str, Value)> {
    start
        .nodes
        .iter()
        .chain(&p.given)
        .flat_map(|s| {
            let k = kind_of(s);
            work_time(k)
                .iter()
                .map(move |f| (s, *f, strip(field(&json(s), f), f, k.name(), &p.allow)))
        })
        .filter(|(_, _, v)| !v.is_null())
        .collect()
}

/// A change to a protected field.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// The source or node it concerns.
    pub id: String,
    /// What is not allowed, e.g. "not allowed: you changed the workload:
    /// `sources.users.arrivals` was Poisson(rps: 200), is Poisson(rps: 20)".
    pub message: String,
    /// How to put it right.
    pub hint: String,
}

pub use super::paths::check_paths;

/// Every change `mine` makes to a field the drill protects, compared with
/// the drill's `start`. Empty: the submission may be graded.
pub fn violations(p: &Protect, start: &Topology, mine: &Topology) -> Vec<Violation> {
    let mut out = Vec::new();
    sources(p, start, mine, &mut out);
    nodes(p, start, mine, &mut out);
    if start.links != mine.links && !start.links.is_empty() {
        out.push(Violation {
            id: "links".into(),
            message: "not allowed: you changed the links between regions (their latency is given)"
                .into(),
            hint: "put the start's `links` back".into(),
        });
    }
    out
}

fn sources(p: &Protect, start: &Topology, mine: &Topology, out: &mut Vec<Violation>) {
    let hint = "the drill fixes the traffic: put the start's source back as it was, and serve it with more capacity or a better architecture instead";
    for s in &start.sources {
        let Some(m) = mine.sources.iter().find(|m| m.id == s.id) else {
            out.push(Violation {
                id: s.id.clone(),
                message: format!(
                    "not allowed: you changed the workload: the source `{}` is gone",
                    s.id
                ),
                hint: hint.into(),
            });
            continue;
        };
        let (a, b) = (json(s), json(m));
        let fields: Vec<String> = SOURCE_FIELDS
            .iter()
            .map(|f| f.to_string())
            .chain(extra(p, "sources"))
            .collect();
        for f in fields {
            if let Some((path, was, is)) = differs(&a, &b, &f, "sources", &p.allow) {
                out.push(Violation {
                    id: s.id.clone(),
                    message: format!(
                        "not allowed: you changed the workload: `sources.{}.{path}` was {was}, is {is}",
                        s.id
                    ),
                    hint: hint.into(),
                });
            }
        }
    }
    for m in &mine.sources {
        if !start.sources.iter().any(|s| s.id == m.id) {
            out.push(Violation {
                id: m.id.clone(),
                message: format!(
                    "not allowed: you changed the workload: the source `{}` is new",
                    m.id
                ),
                hint: "the drill fixes the traffic: take the new source out".into(),
            });
        }
    }
}

fn nodes(p: &Protect, start: &Topology, mine: &Topology, out: &mut Vec<Violation>) {
    for n in &mine.nodes {
        let kind = kind_of(n);
        let fields: Vec<String> = physics(kind)
            .iter()
            .map(|f| f.to_string())
            .chain(extra(p, kind.name()))
            .collect();
        let b = json(n);
        let same = start
            .nodes
            .iter()
            .find(|s| s.id() == n.id() && kind_of(s) == kind);
        if let Some(s) = same {
            let a = json(s);
            for f in &fields {
                if let Some((path, was, is)) = differs(&a, &b, f, kind.name(), &p.allow) {
                    out.push(if physics(kind).contains(&f.as_str()) {
                        Violation {
                            id: n.id().into(),
                            message: format!(
                                "not allowed: you changed the physics: `{}`'s {path} was {was}, is {is}",
                                n.id()
                            ),
                            hint: format!(
                                "the time {}'s work takes is given by the drill: put it back, and add capacity (servers, instances, workers) or take work off it instead",
                                a_kind(kind)
                            ),
                        }
                    } else {
                        fixed(kind, n.id(), &path, &was, &is)
                    });
                }
            }
            continue;
        }
        // A new node: its physics come from a start node of its family.
        let peers: Vec<&Node> = start
            .nodes
            .iter()
            .chain(&p.given)
            .filter(|s| family(kind_of(s)) == family(kind))
            .collect();
        if peers.is_empty() {
            // No node of its family: if it does work, that work is one the
            // start does, and takes the start's time for it.
            cross_kind(p, start, n, kind, &b, out);
        }
        for f in &fields {
            let given: Vec<(&Node, Value)> = peers
                .iter()
                .filter(|s| physics(kind_of(s)).contains(&f.as_str()) || is_extra(p, s, f))
                .map(|s| {
                    (
                        *s,
                        strip(field(&json(s), f), f, kind_of(s).name(), &p.allow),
                    )
                })
                .collect();
            let Some((first, v)) = given.first() else {
                continue;
            };
            let mine_v = strip(field(&b, f), f, kind.name(), &p.allow);
            if given.iter().any(|(_, v)| *v == mine_v) {
                continue;
            }
            if !physics(kind).contains(&f.as_str()) {
                let (was, is) = (show(v, f), show(&mine_v, f));
                out.push(fixed(kind, n.id(), f, &was, &is));
                continue;
            }
            out.push(Violation {
                id: n.id().into(),
                message: format!(
                    "not allowed: you changed the physics: the new {} `{}` has {f} {}, but {} {} `{}` has {}",
                    kind.name(),
                    n.id(),
                    show(&mine_v, f),
                    if start.nodes.iter().any(|s| std::ptr::eq(s, *first)) {
                        "the start's"
                    } else {
                        "the drill's given"
                    },
                    kind_of(first).name(),
                    first.id(),
                    show(v, f)
                ),
                hint: format!(
                    "a new node does the same work as the start's: give it {f}: {} (whatever its name, the work takes as long)",
                    show(v, f)
                ),
            });
        }
    }
}

/// A new node of a kind with no family in the start (a Database or an
/// ObjectStore where the start has only a Station): each of its
/// [`work_time`] fields must be one of the start's work times.
fn cross_kind(
    p: &Protect,
    start: &Topology,
    n: &Node,
    kind: Kind,
    b: &Value,
    out: &mut Vec<Violation>,
) {
    let given = given_work(p, start);
    let Some((first, first_f, v)) = given.first() else {
        return;
    };
    for f in work_time(kind) {
        let mine_v = strip(field(b, f), f, kind.name(), &p.allow);
        if given.iter().any(|(_, _, v)| *v == mine_v) {
            continue;
        }
        out.push(Violation {
            id: n.id().into(),
            message: format!(
                "not allowed: you changed the physics: the new {} `{}` does the work of {} `{}` (its {first_f} {}) with {f} {}",
                kind.name(),
                n.id(),
                a_kind(kind_of(first)),
                first.id(),
                show(v, first_f),
                show(&mine_v, f),
            ),
            hint: format!(
                "the work a request needs done takes as long whatever kind does it: give it {f}: {} (or use the start's kind)",
                show(v, first_f)
            ),
        });
    }
}

/// `node` (new to a drill's start) with the physics the drill gives its
/// kind: each protected field taken from the first start node (or
/// [`Protect::given`] node) of its family that has it, as [`violations`]
/// requires. Front ends call it when a learner places a node while working
/// on a drill, so that a new cache serves at the drill's cache speed
/// rather than the reference example's. A node of a kind the drill gives
/// nothing for comes back unchanged.
pub fn with_given_physics(p: &Protect, start: &Topology, node: Node) -> Node {
    let kind = kind_of(&node);
    let fields: Vec<String> = physics(kind)
        .iter()
        .map(|f| f.to_string())
        .chain(extra(p, kind.name()))
        .collect();
    let Value::Object(mut m) = json(&node) else {
        return node;
    };
    let mut changed = false;
    for f in &fields {
        let peer = start
            .nodes
            .iter()
            .chain(&p.given)
            .filter(|s| family(kind_of(s)) == family(kind))
            .find(|s| physics(kind_of(s)).contains(&f.as_str()) || is_extra(p, s, f));
        let v = match peer {
            Some(peer) => field(&json(peer), f),
            // No node of its family: the start's first work time.
            None if work_time(kind).contains(&f.as_str()) => {
                match given_work(p, start).into_iter().next() {
                    Some((_, _, v)) => v,
                    None => continue,
                }
            }
            None => continue,
        };
        let parts: Vec<&str> = f.split('.').collect();
        set_path(&mut m, &parts, v);
        changed = true;
    }
    if !changed {
        return node;
    }
    let mut wrapped = serde_json::Map::new();
    wrapped.insert(kind.name().to_string(), Value::Object(m));
    serde_json::from_value(Value::Object(wrapped)).unwrap_or(node)
}

/// Sets the value at `parts` (a dotted path) in `m`, removing it when
/// `v` is null; missing objects on the way are made.
fn set_path(m: &mut serde_json::Map<String, Value>, parts: &[&str], v: Value) {
    match parts {
        [] => {}
        [last] if v.is_null() => {
            m.remove(*last);
        }
        [last] => {
            m.insert(last.to_string(), v);
        }
        [head, rest @ ..] => {
            let e = m
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Default::default()));
            if !e.is_object() {
                *e = Value::Object(Default::default());
            }
            if let Value::Object(o) = e {
                set_path(o, rest, v);
            }
        }
    }
}

/// A change to a field the drill protects besides the physics (its
/// `also`, e.g. `Station.servers`): the drill fixes it, so the hint must
/// not suggest changing capacity there.
fn fixed(kind: Kind, id: &str, path: &str, was: &str, is: &str) -> Violation {
    Violation {
        id: id.into(),
        message: format!(
            "not allowed: this drill fixes {}.{path}: `{id}`'s {path} was {was}, is {is}",
            kind.name()
        ),
        hint: format!(
            "the drill keeps every {}'s {path} as the start has it: put it back, and solve it another way (the drill's hints say which)",
            kind.name()
        ),
    }
}

/// "a Station", "an App".
fn a_kind(k: Kind) -> String {
    let n = k.name();
    let an = n.starts_with(['A', 'E', 'I', 'O', 'U']);
    format!("{} {n}", if an { "an" } else { "a" })
}

fn kind_of(n: &Node) -> Kind {
    n.kind_of()
}

/// The paths the drill protects besides the defaults under `head`.
fn extra<'a>(p: &'a Protect, head: &'a str) -> impl Iterator<Item = String> + 'a {
    p.also.iter().filter_map(move |path| {
        path.strip_prefix(head)
            .and_then(|r| r.strip_prefix('.'))
            .map(str::to_string)
    })
}

fn is_extra(p: &Protect, n: &Node, f: &str) -> bool {
    extra(p, kind_of(n).name()).any(|e| e == f)
}

/// The value as JSON (the serde form every front end shares). A node's
/// kind is unwrapped: `{"App": {...}}` gives the App's fields.
fn json<T: Serialize>(x: &T) -> Value {
    let v = serde_json::to_value(x).unwrap_or(Value::Null);
    match v {
        Value::Object(m) if m.len() == 1 && m.values().all(Value::is_object) => {
            m.into_iter().next().map(|(_, v)| v).unwrap_or(Value::Null)
        }
        v => v,
    }
}

/// The value at a dotted path (`client.retries`), null when absent.
fn field(v: &Value, path: &str) -> Value {
    let mut v = v;
    for part in path.split('.') {
        match v.get(part) {
            Some(x) => v = x,
            None => return Value::Null,
        }
    }
    v.clone()
}

/// `v` (the value at `head.path`) without the sub-fields the drill allows.
fn strip(mut v: Value, path: &str, head: &str, allow: &[String]) -> Value {
    let here = format!("{head}.{path}");
    if allow.contains(&here) {
        return Value::Null;
    }
    for a in allow {
        let Some(rest) = a.strip_prefix(&here).and_then(|r| r.strip_prefix('.')) else {
            continue;
        };
        let mut parts: Vec<&str> = rest.split('.').collect();
        let last = parts.pop().unwrap_or("");
        let parent: String = parts.iter().map(|p| format!("/{p}")).collect();
        if let Some(Value::Object(m)) = v.pointer_mut(&parent) {
            m.remove(last);
        }
    }
    if let Value::Object(m) = &mut v {
        m.retain(|_, x| !x.is_null());
    }
    v
}

/// Where `a` and `b` differ at `path` (under `head`), with both values as
/// text, the allowed sub-fields left out.
fn differs(
    a: &Value,
    b: &Value,
    path: &str,
    head: &str,
    allow: &[String],
) -> Option<(String, String, String)> {
    let (x, y) = (
        strip(field(a, path), path, head, allow),
        strip(field(b, path), path, head, allow),
    );
    (x != y).then(|| (path.to_string(), show(&x, path), show(&y, path)))
}

/// A value as it is written in RON (structs without their type name).
fn show(v: &Value, path: &str) -> String {
    let map = matches!(path.rsplit('.').next(), Some("mix" | "handle"));
    let mut s = String::new();
    write_ron(&mut s, v, map);
    if s.chars().count() > 160 {
        let cut: String = s.chars().take(157).collect();
        s = format!("{cut}...");
    }
    s
}

fn write_ron(out: &mut String, v: &Value, map: bool) {
    match v {
        Value::Null => out.push_str("none"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => out.push_str(&u.to_string()),
            (_, Some(i), _) => out.push_str(&i.to_string()),
            (_, _, Some(f)) => out.push_str(&format!("{f}")),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => out.push_str(&format!("{s:?}")),
        Value::Array(xs) => {
            out.push('[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_ron(out, x, false);
            }
            out.push(']');
        }
        Value::Object(m) if !map && m.len() == 1 && upper(m.keys().next()) => {
            let (k, x) = m.iter().next().expect("one entry");
            out.push_str(k);
            match x {
                Value::Object(_) => write_ron(out, x, false),
                x => {
                    out.push('(');
                    write_ron(out, x, false);
                    out.push(')');
                }
            }
        }
        Value::Object(m) => {
            out.push(if map { '{' } else { '(' });
            let mut first = true;
            for (k, x) in m.iter().filter(|(_, x)| !x.is_null()) {
                if !first {
                    out.push_str(", ");
                }
                first = false;
                if map {
                    out.push_str(&format!("{k:?}: "));
                } else {
                    out.push_str(&format!("{k}: "));
                }
                write_ron(out, x, false);
            }
            out.push(if map { '}' } else { ')' });
        }
    }
}

fn upper(k: Option<&String>) -> bool {
    k.and_then(|k| k.chars().next())
        .is_some_and(|c| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(text: &str) -> Topology {
        crate::topology::parse("t.ron", text).unwrap()
    }

    const START: &str = r#"Topology(name: "s",
        sources: [Source(id: "users", to: "server", arrivals: Poisson(rps: 200),
                         mix: {"read": 0.95, "write": 0.05})],
        nodes: [Station(id: "server", servers: 8, service: LogNormal(mean: "12ms", std: "10ms"))])"#;

    #[test]
    fn capacity_is_free_and_physics_and_workload_are_not() {
        let s = top(START);
        let more = top(&START.replace("servers: 8", "servers: 20"));
        assert!(violations(&Protect::default(), &s, &more).is_empty());
        let fast = top(&START.replace(
            r#"LogNormal(mean: "12ms", std: "10ms")"#,
            r#"Constant("100us")"#,
        ));
        let v = violations(&Protect::default(), &s, &fast);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(
            v[0].message,
            "not allowed: you changed the physics: `server`'s service was LogNormal(mean: \"12ms\", std: \"10ms\"), is Constant(\"100us\")"
        );
        let less = top(&START.replace("rps: 200", "rps: 20"));
        let v = violations(&Protect::default(), &s, &less);
        assert_eq!(
            v[0].message,
            "not allowed: you changed the workload: `sources.users.arrivals` was Poisson(rps: 200), is Poisson(rps: 20)"
        );
        let mix = top(&START.replace("0.95", "0.99").replace("0.05", "0.01"));
        let v = violations(&Protect::default(), &s, &mix);
        assert!(
            v[0].message
                .contains(r#"was {"read": 0.95, "write": 0.05}"#),
            "{v:?}"
        );
    }

    #[test]
    fn a_renamed_or_new_node_does_the_same_work() {
        let s = top(START);
        let renamed = top(&START
            .replace(r#"id: "server""#, r#"id: "fast""#)
            .replace(r#"to: "server""#, r#"to: "fast""#)
            .replace(
                r#"LogNormal(mean: "12ms", std: "10ms")"#,
                r#"Constant("1ms")"#,
            ));
        let v = violations(&Protect::default(), &s, &renamed);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            v[0].message
                .contains("the new Station `fast` has service Constant(\"1ms\")")
        );
        let app = top(r#"Topology(name: "s",
            sources: [Source(id: "users", to: "app", arrivals: Poisson(rps: 200),
                             mix: {"read": 0.95, "write": 0.05})],
            nodes: [App(id: "app", workers: 8, service: Constant("1ms"), handle: {})])"#);
        let v = violations(&Protect::default(), &s, &app);
        assert!(v[0].message.contains("the new App `app`"), "{v:?}");
    }

    #[test]
    fn a_placed_node_takes_the_given_physics() {
        let s = top(START);
        let new: Node = crate::topology::ron_options()
            .from_str(r#"App(id: "app", workers: 8, service: Constant("1ms"), handle: {})"#)
            .unwrap();
        let fixed = with_given_physics(&Protect::default(), &s, new.clone());
        assert_ne!(fixed, new, "the App takes the Station's service");
        let mut mine = s.clone();
        mine.nodes = vec![fixed];
        mine.sources[0].to = "app".into();
        assert!(
            violations(&Protect::default(), &s, &mine).is_empty(),
            "{:?}",
            violations(&Protect::default(), &s, &mine)
        );
        // A kind the drill gives nothing for is unchanged.
        let lb: Node = crate::topology::ron_options()
            .from_str(r#"LoadBalancer(id: "lb", to: ["server"])"#)
            .unwrap();
        assert_eq!(with_given_physics(&Protect::default(), &s, lb.clone()), lb);
    }

    #[test]
    fn a_drill_can_free_a_protected_field() {
        let t = r#"Topology(name: "s",
            sources: [Source(id: "u", to: "s", arrivals: Poisson(rps: 200),
                client: Client(timeout: "1s", retries: Retries(max: 3, backoff: "10ms")))],
            nodes: [Station(id: "s", servers: 8, service: Constant("1ms"))])"#;
        let s = top(t);
        let budget = top(&t.replace(r#"backoff: "10ms""#, r#"backoff: "100ms", budget: 0.1"#));
        assert_eq!(violations(&Protect::default(), &s, &budget).len(), 1);
        let p = Protect {
            allow: vec!["sources.client.retries".into()],
            also: vec![],
            given: vec![],
        };
        assert!(check_paths(&p).is_ok());
        assert!(violations(&p, &s, &budget).is_empty());
        let timeout = top(&t.replace(r#"timeout: "1s""#, r#"timeout: "9s""#));
        assert_eq!(
            violations(&p, &s, &timeout).len(),
            1,
            "the timeout stays protected"
        );
        let bad = Protect {
            allow: vec!["source.client".into()],
            also: vec![],
            given: vec![],
        };
        assert!(
            check_paths(&bad)
                .unwrap_err()
                .1
                .contains("did you mean `sources`")
        );
    }
}
