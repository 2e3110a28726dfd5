//! Caches that would answer what they must not: a CDN never answers a write
//! from its cache (left at its default `cacheable`, it caches every class
//! that does not write; naming one that writes is refused), and a
//! cache-aside cache (no `backend`) is never on the request path (every
//! field that sends requests to a node refuses one, and the kinds'
//! descriptors, which the sandbox's builder wires from, name no other).

use crate::common::model;
use bottleneck::kind::{FieldType, Kind};
use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::SEC;
use bottleneck::topology;
use proptest::prelude::*;

/// What a class's handler does after its own call to `s{k}`.
#[derive(Clone, Copy, Debug)]
enum Does {
    Reads,
    Writes,
    ReadsThenWrites,
    WritesThrough,
    Publishes,
    Invalidates,
}

impl Does {
    fn steps(self) -> &'static str {
        match self {
            Does::Reads => r#"Read(db: "db")"#,
            Does::Writes => r#"Write(db: "db")"#,
            Does::ReadsThenWrites => r#"Read(db: "db"), Write(db: "db")"#,
            Does::WritesThrough => r#"WriteThrough(cache: "kv", db: "db")"#,
            Does::Publishes => r#"Read(db: "db"), Publish(queue: "q")"#,
            Does::Invalidates => r#"Read(db: "db"), Invalidate(cache: "kv")"#,
        }
    }
}

fn does() -> impl Strategy<Value = Does> {
    prop_oneof![
        Just(Does::Reads),
        Just(Does::Writes),
        Just(Does::ReadsThenWrites),
        Just(Does::WritesThrough),
        Just(Does::Publishes),
        Just(Does::Invalidates),
    ]
}

/// A CDN in front of an app whose classes each first call their own
/// station (`s{k}`: its arrivals are the class's requests that reached the
/// origin), then do what `classes` says. A class named `write…` writes by
/// its name whatever its handler does.
fn cdn_text(classes: &[(bool, Does)], cacheable: Option<&str>) -> String {
    let name = |k: usize, by_name: bool| {
        if by_name {
            format!("write{k}")
        } else {
            format!("c{k}")
        }
    };
    let share = 1.0 / classes.len() as f64;
    let mix: Vec<String> = (0..classes.len())
        .map(|k| format!("\"{}\": {share}", name(k, classes[k].0)))
        .collect();
    let handle: Vec<String> = classes
        .iter()
        .enumerate()
        .map(|(k, &(by_name, d))| {
            format!(
                r#""{}": [Call(to: "s{k}"), {}]"#,
                name(k, by_name),
                d.steps()
            )
        })
        .collect();
    let stations: String = (0..classes.len())
        .map(|k| format!(r#"Station(id: "s{k}", servers: 64, service: Constant("1ms")),"#))
        .collect();
    let cacheable = cacheable.map_or(String::new(), |c| format!("cacheable: {c}, "));
    format!(
        r#"Topology(name: "edge", sources: [Source(id: "u", to: "cdn", arrivals: Poisson(rps: 400), mix: {{{}}}, keys: Uniform(keys: 5))],
          nodes: [Cdn(id: "cdn", origin: "app", capacity: 1000, {cacheable}service: Constant("1ms")),
                  App(id: "app", workers: 200, service: Constant("1ms"), handle: {{{}}}),
                  Cache(id: "kv", capacity: 1000, service: Constant("100us")),
                  Queue(id: "q", workers: 8, service: Constant("1ms")),
                  Database(id: "db", servers: 64, read: Constant("2ms"), write: Constant("2ms")),
                  {stations}])"#,
        mix.join(", "),
        handle.join(", ")
    )
}

fn writes(by_name: bool, d: Does) -> bool {
    by_name || !matches!(d, Does::Reads)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever its classes do, a CDN left at its default `cacheable`
    /// sends every request of a class that writes (by its handler or by its
    /// name) to the origin, and still answers the reads of a few hot keys
    /// from the edge. (Before the edge knew writes, it cached every class:
    /// a writing class's station saw a handful of its requests.)
    #[test]
    fn a_cdn_at_its_default_never_answers_a_write_from_its_cache(
        classes in prop::collection::vec((any::<bool>(), does()), 1..5),
        seed in 1u64..1000,
    ) {
        let m = model(&cdn_text(&classes, None));
        let mut s = Simulation::new(&m, RunConfig { seed, ..RunConfig::default() });
        s.step_until(3 * SEC).unwrap();
        s.apply(Change::Traffic(0.0)).unwrap();
        s.step_until(4 * SEC).unwrap();
        let r = s.report();
        prop_assert_eq!(r.end_to_end.in_flight, 0);
        for (k, &(by_name, d)) in classes.iter().enumerate() {
            let class = if by_name { format!("write{k}") } else { format!("c{k}") };
            let sent = r.classes.get(&class).map_or(r.end_to_end.arrivals, |g| g.arrivals);
            let reached = r.nodes.get(&format!("s{k}")).unwrap().arrivals;
            if writes(by_name, d) {
                prop_assert_eq!(reached, sent, "class {} ({:?}) must reach the origin every time", class, d);
            } else {
                // 5 keys: after the first few misses, the edge answers.
                prop_assert!(sent > 100 && reached <= 10, "class {} read: {} of {} reached the origin", class, reached, sent);
            }
        }
    }

    /// Naming a class that writes in `cacheable` is refused, at the CDN,
    /// with why the class writes; naming only classes that read loads.
    #[test]
    fn naming_a_class_that_writes_in_cacheable_is_refused(
        classes in prop::collection::vec((any::<bool>(), does()), 1..5),
    ) {
        let names: Vec<String> = classes
            .iter()
            .enumerate()
            .map(|(k, &(b, _))| if b { format!("\"write{k}\"") } else { format!("\"c{k}\"") })
            .collect();
        let text = cdn_text(&classes, Some(&format!("[{}]", names.join(", "))));
        let any_writes = classes.iter().any(|&(b, d)| writes(b, d));
        match topology::load_str("edge.ron", &text) {
            Ok(_) => prop_assert!(!any_writes, "a writing class was accepted in `cacheable`"),
            Err(d) => {
                let d = d.to_string();
                prop_assert!(any_writes, "{}", d);
                prop_assert!(d.contains("which writes") && d.contains("a CDN never answers a write from its cache"), "{}", d);
                prop_assert!(d.contains("node `cdn`") && d.contains("edge.ron:2:"), "{}", d);
            }
        }
    }
}

#[test]
fn the_refusal_says_why_the_class_writes() {
    let text = cdn_text(
        &[(false, Does::Reads), (false, Does::Publishes)],
        Some(r#"["c0", "c1"]"#),
    );
    let d = topology::load_str("edge.ron", &text)
        .unwrap_err()
        .to_string();
    assert!(
        d.contains("`cacheable` names class `c1`, which writes (app `app` does `Publish(queue: \"q\")` for it)"),
        "{d}"
    );
    let text = cdn_text(&[(true, Does::Reads)], Some(r#"["write0"]"#));
    let d = topology::load_str("edge.ron", &text)
        .unwrap_err()
        .to_string();
    assert!(d.contains("which writes (its name says it writes)"), "{d}");
}

/// Every field that sends requests to a node as themselves, as the
/// kinds' descriptors name them (kind, nested type or "", field), with a
/// topology that sends through it to `X` (`{X}` in the text), and the
/// sandbox's word for it.
const SENDERS: &[(Kind, &str, &str, &str)] = &[
    (
        Kind::Station,
        "Route",
        "to",
        r#"Station(id: "from", servers: 1, service: Constant("1ms"), routes: [Route(to: "{X}", p: 1.0)])"#,
    ),
    (
        Kind::LoadBalancer,
        "",
        "to",
        r#"LoadBalancer(id: "from", to: ["{X}"])"#,
    ),
    (
        Kind::ShardRouter,
        "",
        "shards",
        r#"ShardRouter(id: "from", shards: ["{X}"])"#,
    ),
    (
        Kind::RateLimiter,
        "",
        "to",
        r#"RateLimiter(id: "from", to: "{X}", limit: 1000, per: "1s")"#,
    ),
    (
        Kind::Cdn,
        "",
        "origin",
        r#"Cdn(id: "from", origin: "{X}", capacity: 10, service: Constant("1ms"))"#,
    ),
    (
        Kind::Cache,
        "",
        "backend",
        r#"Cache(id: "from", capacity: 10, service: Constant("1ms"), backend: "{X}")"#,
    ),
    (
        Kind::App,
        "Call",
        "to",
        r#"App(id: "from", workers: 8, service: Constant("1ms"), handle: {"*": [Call(to: "{X}")]})"#,
    ),
    (
        Kind::App,
        "FanOut",
        "to",
        r#"App(id: "from", workers: 8, service: Constant("1ms"), handle: {"*": [FanOut(to: "{X}", count: 2)]})"#,
    ),
];

/// `from` (with `{X}` naming `target`) behind a source, `target` a cache
/// with or without a backend.
fn sender_text(from: &str, read_through: bool) -> String {
    let backend = if read_through {
        r#", backend: "st""#
    } else {
        ""
    };
    format!(
        r#"Topology(name: "w", sources: [Source(id: "u", to: "from", arrivals: Poisson(rps: 10))],
          nodes: [{},
                  Cache(id: "c", capacity: 10, service: Constant("100us"){backend}),
                  Station(id: "st", servers: 1, service: Constant("1ms"))])"#,
        from.replace("{X}", "c")
    )
}

/// A cache-aside cache named by any field that sends requests is refused
/// there, with the field's place and how to make it read-through; the
/// same wiring to a read-through cache loads. A source sending to one
/// straight is refused too.
#[test]
fn a_cache_aside_cache_on_the_request_path_is_refused_where_it_is_named() {
    for &(kind, _, field, from) in SENDERS {
        let text = sender_text(from, false);
        let d = match topology::load_str("w.ron", &text) {
            Ok(_) => panic!("{kind:?}.{field} to a cache-aside cache loaded:\n{text}"),
            Err(d) => d.to_string(),
        };
        assert!(
            d.contains("`c` is a cache-aside Cache (it has no `backend`)")
                && d.contains("never fill")
                && d.contains("give it `backend:")
                && d.contains("w.ron:2:"),
            "{kind:?}.{field}: {d}"
        );
        if let Err(d) = topology::load_str("w.ron", &sender_text(from, true)) {
            panic!("{kind:?}.{field} to a read-through cache was refused: {d}");
        }
    }
    let text = r#"Topology(name: "pc", sources: [Source(id: "u", to: "c", arrivals: Poisson(rps: 100.0), keys: Uniform(keys: 1000000))],
 nodes: [Cache(id: "c", capacity: 10, service: Constant("100us"))])"#;
    let d = topology::load_str("pc.ron", text).unwrap_err().to_string();
    assert!(
        d.contains("`to:` sends requests to it")
            && d.contains("source `u`")
            && d.contains("pc.ron:1:"),
        "{d}"
    );
    // An app's own cache-aside steps are what such a cache is for.
    let ok = r#"Topology(name: "ca", sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 10))],
 nodes: [App(id: "app", workers: 8, service: Constant("1ms"), handle: {"*": [CacheAside(cache: "c", db: "db"), Invalidate(cache: "c"), WriteThrough(cache: "c", db: "db")]}),
         Cache(id: "c", capacity: 10, service: Constant("100us")),
         Database(id: "db", servers: 4, read: Constant("1ms"), write: Constant("1ms"))])"#;
    if let Err(d) = topology::load_str("ca.ron", ok) {
        panic!("{d}");
    }
}

/// Every descriptor field that may name a Cache (its kinds empty, or
/// listing Cache) is one the test above covers, so a new kind or field
/// that sends requests cannot skip the refusal unnoticed; the app's
/// handler steps that send (`Call`, `FanOut`) are covered by name.
#[test]
fn every_descriptor_field_that_may_name_a_cache_is_covered() {
    let may_name_cache = |ty: &FieldType| match ty {
        FieldType::Node(k) | FieldType::Nodes(k) => k.is_empty() || k.contains(&Kind::Cache),
        _ => false,
    };
    for kind in Kind::ALL {
        let doc = bottleneck::kinds::doc(kind);
        let mut fields: Vec<(&str, &str)> = doc
            .fields
            .iter()
            .filter(|f| may_name_cache(&f.ty))
            .map(|f| ("", f.name))
            .collect();
        for (nested, fs) in doc.nested {
            fields.extend(
                fs.iter()
                    .filter(|f| may_name_cache(&f.ty))
                    .map(|f| (*nested, f.name)),
            );
        }
        for (nested, field) in fields {
            assert!(
                SENDERS
                    .iter()
                    .any(|&(k, n, f, _)| k == kind && n == nested && f == field),
                "{kind:?} {nested}.{field} may name a Cache: add it to SENDERS (and refuse a cache-aside cache there)"
            );
        }
    }
}
