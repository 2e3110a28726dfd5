//! Bad input: every problem is reported with a place and a hint, all at once,
//! and nothing panics.

use bottleneck::diag::Diagnostics;
use bottleneck::topology;

fn errors(text: &str) -> Diagnostics {
    match topology::load("bad.ron", text.as_bytes()) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(d) => d,
    }
}

fn one(text: &str, message: &str, hint: Option<&str>, line: Option<usize>) {
    let d = errors(text);
    // A message's trailing remedy is its hint (diag::tidy): look in both.
    let found = d.items.iter().find(|x| {
        format!("{}; {}", x.message, x.hint.as_deref().unwrap_or("")).contains(message)
            || x.message.contains(message)
    });
    let Some(x) = found else {
        panic!("no error containing {message:?}; got:\n{d}");
    };
    if let Some(h) = hint {
        assert!(
            x.hint.as_deref().unwrap_or("").contains(h),
            "hint {:?} lacks {h:?}\n{d}",
            x.hint
        );
    }
    if let Some(l) = line {
        assert_eq!(
            x.pos.map(|p| p.line),
            Some(l),
            "wrong line for {message:?}\n{d}"
        );
    }
}

const GOOD: &str = r#"Topology(
    name: "ok",
    sources: [Source(id: "users", to: "web", arrivals: Poisson(rps: 10.0))],
    nodes: [
        Station(id: "web", servers: 2, service: Exponential(mean: "10ms"), routes: [Route(to: "db", p: 0.5)]),
        Station(id: "db", servers: 1, service: Constant("5ms")),
    ],
)"#;

#[test]
fn the_good_file_loads() {
    topology::load("good.ron", GOOD.as_bytes()).unwrap();
}

#[test]
fn integers_where_floats_and_bare_options() {
    let t = r#"Topology(name: "n", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: 9))],
        nodes: [Station(id: "q", servers: 1, queue: 5, service: Pareto(scale: "1ms", shape: 3), routes: [Route(to: "q", p: 0)])])"#;
    let l = topology::load("ints.ron", t.as_bytes()).unwrap();
    assert_eq!(l.model.sources[0].rps, 9.0);
    assert_eq!(l.model.nodes[0].queue, Some(5));
}

#[test]
fn malformed_ron_gives_line_and_column() {
    let t = "Topology(\n    name: \"x\",\n    sources: [Source(id: \"u\" to: \"q\")],\n)";
    let d = errors(t);
    let p = d.items[0].pos.expect("a position");
    assert_eq!(p.line, 3, "{d}");
    let shown = d.to_string();
    assert!(shown.contains("bad.ron:3:"), "{shown}");
}

#[test]
fn unknown_field_suggests_the_closest() {
    let t = GOOD.replace("servers: 2", "servrs: 2");
    one(
        &t,
        "unknown field `servrs`",
        Some("did you mean `servers`?"),
        Some(5),
    );
}

#[test]
fn unknown_kind_suggests_the_closest() {
    let t = GOOD.replace("Exponential(", "Exponental(");
    one(
        &t,
        "unknown kind `Exponental`",
        Some("`Exponential`"),
        Some(5),
    );
    let t = GOOD.replace("Station(id: \"db\"", "Statoin(id: \"db\"");
    one(&t, "unknown kind `Statoin`", Some("`Station`"), Some(6));
}

#[test]
fn durations_need_units() {
    let t = GOOD.replace("\"10ms\"", "10");
    one(&t, "a duration needs a unit", None, Some(5));
    let t = GOOD.replace("\"10ms\"", "\"10 parsecs\"");
    one(&t, "unknown unit", None, None);
    let t = GOOD.replace("\"10ms\"", "\"-3ms\"");
    one(&t, "negative", None, None);
}

#[test]
fn missing_field_is_named() {
    let t = GOOD.replace("servers: 1, ", "");
    one(
        &t,
        "missing the field `servers`",
        Some("add `servers"),
        None,
    );
}

#[test]
fn every_validation_problem_at_once() {
    let t = r#"Topology(
    name: "many problems",
    sources: [
        Source(id: "users", to: "wbe", arrivals: Poisson(rps: -5.0)),
    ],
    nodes: [
        Station(id: "web", servers: 0, service: Exponential(mean: "10ms"),
                routes: [Route(to: "dbb", p: 0.7), Route(to: "web", p: 1.5)]),
        Station(id: "web", servers: 1, service: Uniform(min: "5ms", max: "1ms")),
        Station(id: "db", servers: 2000000, queue: 999999999999, service: Constant("1ms")),
    ],
)"#;
    let d = errors(t);
    let text = d.to_string();
    for needle in [
        "`wbe` is not a node",
        "`rps` is negative",
        "`servers` is 0",
        "`dbb` is not a node",
        "p = 1.5",
        "used twice",
        "min (5ms) is larger than max (1ms)",
        "over the limit of 1000000",
        "`queue` is 999999999999",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(d.error_count() >= 9, "{text}");
    // Places: the source on line 4, the first `web` on line 7.
    let wbe = d
        .items
        .iter()
        .find(|x| x.message.contains("`wbe`"))
        .unwrap();
    assert_eq!(wbe.pos.unwrap().line, 4);
    assert_eq!(wbe.hint.as_deref(), Some("did you mean `web`?"));
    let dbb = d
        .items
        .iter()
        .find(|x| x.message.contains("`dbb`"))
        .unwrap();
    assert_eq!(dbb.pos.unwrap().line, 8);
    assert_eq!(dbb.hint.as_deref(), Some("did you mean `db`?"));
}

#[test]
fn nan_infinite_and_out_of_range_numbers() {
    one(&GOOD.replace("rps: 10.0", "rps: NaN"), "rps", None, None);
    one(&GOOD.replace("rps: 10.0", "rps: inf"), "rps", None, None);
    one(
        &GOOD.replace("rps: 10.0", "rps: 1e12"),
        "over the limit",
        None,
        None,
    );
    one(
        &GOOD.replace("p: 0.5", "p: NaN"),
        "a probability is between 0 and 1",
        None,
        None,
    );
    one(
        &GOOD.replace("p: 0.5", "p: -0.1"),
        "a probability is between 0 and 1",
        None,
        None,
    );
}

#[test]
fn probabilities_above_one_in_sum() {
    let t = GOOD.replace(
        "routes: [Route(to: \"db\", p: 0.5)]",
        "routes: [Route(to: \"db\", p: 0.6), Route(to: \"web\", p: 0.6)]",
    );
    one(&t, "sum to 1.2", Some("left over leaves"), Some(5));
}

#[test]
fn requests_that_can_never_leave() {
    let t = r#"Topology(name: "loop", sources: [Source(id: "u", to: "a", arrivals: Poisson(rps: 1.0))],
        nodes: [
            Station(id: "a", servers: 1, service: Constant("1ms"), routes: [Route(to: "b", p: 1.0)]),
            Station(id: "b", servers: 1, service: Constant("1ms"), routes: [Route(to: "a", p: 1.0)]),
        ])"#;
    let d = errors(t);
    assert_eq!(d.error_count(), 2, "{d}");
    assert!(d.to_string().contains("can never leave"), "{d}");
}

#[test]
fn empty_binary_json_and_deep_files() {
    one("", "the file is empty", Some("Topology("), None);
    one("   // only a comment\n", "the file is empty", None, None);
    let d = topology::load("bin.ron", &[0x89, b'P', b'N', b'G', 0, 1, 2]).unwrap_err();
    assert!(d.to_string().contains("NUL byte"), "{d}");
    let d = topology::load("latin1.ron", b"Topology(name: \"caf\xe9\")").unwrap_err();
    assert!(d.to_string().contains("not UTF-8"), "{d}");
    let d = errors("{\"name\": \"json\"}");
    assert!(
        d.items[0].hint.as_deref().unwrap_or("").contains("JSON"),
        "{d}"
    );
    let deep = format!("Topology(name: {}1{})", "[".repeat(500), "]".repeat(500));
    one(&deep, "nesting deeper than", None, Some(1));
    let huge = vec![b' '; 5 * 1024 * 1024];
    let d = topology::load("huge.ron", &huge).unwrap_err();
    assert!(d.to_string().contains("over the limit"), "{d}");
}

#[test]
fn no_sources_or_nodes() {
    one(
        r#"Topology(name: "x", sources: [], nodes: [])"#,
        "no sources",
        Some("Source("),
        None,
    );
    one(
        r#"Topology(name: "x", sources: [], nodes: [])"#,
        "no nodes",
        Some("Station("),
        None,
    );
}

#[test]
fn bad_ids_and_profiles() {
    one(
        &GOOD
            .replace("id: \"db\"", "id: \"d b\"")
            .replace("to: \"db\"", "to: \"d b\""),
        "contains ' '",
        None,
        Some(6),
    );
    let t = GOOD.replace(
        "arrivals: Poisson(rps: 10.0)",
        "arrivals: Poisson(rps: 10.0), profile: Steps([Step(at: \"2m\", rps: 5), Step(at: \"1m\", rps: 5)])",
    );
    one(&t, "time order", None, Some(3));
    let t = GOOD.replace(
        "arrivals: Poisson(rps: 10.0)",
        "arrivals: Poisson(rps: 10.0), profile: Spike(at: \"1m\", times: 1e9, for: \"1m\")",
    );
    one(&t, "over the limit", None, Some(3));
}

#[test]
fn warnings_do_not_stop_loading() {
    let t = r#"Topology(name: "hot", sources: [Source(id: "u", to: "q", arrivals: Poisson(rps: 20.0))],
        nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "100ms")),
                Station(id: "lonely", servers: 1, service: Constant("1ms"))])"#;
    let l = topology::load("hot.ron", t.as_bytes()).unwrap();
    let w = l.warnings.to_string();
    assert!(w.contains("overloaded"), "{w}");
    assert!(w.contains("at least 3 servers"), "{w}");
    assert!(w.contains("no source sends traffic to `lonely`"), "{w}");
}

const STACK: &str = r#"Topology(
    name: "stack",
    sources: [Source(id: "users", to: "lb", arrivals: Poisson(rps: 10.0), mix: {"read": 0.9, "write": 0.1})],
    nodes: [
        LoadBalancer(id: "lb", to: ["app"]),
        App(id: "app", workers: 4, service: Constant("1ms"),
            handle: {"read": [CacheAside(cache: "redis", db: "db")], "write": [Write(db: "db"), Invalidate(cache: "redis")]}),
        Cache(id: "redis", capacity: 100, service: Constant("100us")),
        Database(id: "db", servers: 2, read: Constant("1ms"), write: Constant("2ms")),
    ],
)"#;

#[test]
fn the_component_stack_loads() {
    let l = topology::load("stack.ron", STACK.as_bytes()).unwrap();
    assert_eq!(
        l.model.classes,
        vec!["read".to_string(), "write".to_string()]
    );
}

#[test]
fn component_mistakes_are_explained() {
    one(
        &STACK.replace("cache: \"redis\", db", "cache: \"db\", db"),
        "`db` is a Database, but `cache:` needs a Cache",
        None,
        Some(7),
    );
    one(
        &STACK.replace("Write(db: \"db\")", "Write(db: \"redis\")"),
        "`redis` is a Cache, but `db:` needs a Database",
        None,
        Some(7),
    );
    one(
        &STACK.replace("\"write\": [", "\"wirte\": ["),
        "the handler for class `wirte` matches no source's requests",
        Some("did you mean `write`?"),
        Some(6),
    );
    one(
        &STACK.replace("\"write\": 0.1", "\"write\": 0.2"),
        "the mix's shares sum to 1.1",
        None,
        Some(3),
    );
    one(
        &STACK.replace("to: [\"app\"]", "to: []"),
        "no backends",
        None,
        Some(5),
    );
    one(
        &STACK.replace("to: [\"app\"]", "to: [\"app\", \"app\"]"),
        "listed twice",
        None,
        Some(5),
    );
    one(
        &STACK.replace("to: [\"app\"]", "to: [\"ap\"]"),
        "`ap` is not a node",
        Some("did you mean `app`?"),
        Some(5),
    );
    one(
        &STACK.replace("workers: 4", "workers: 0"),
        "`workers` is 0",
        None,
        Some(6),
    );
    one(
        &STACK.replace("capacity: 100,", "capacity: 100, ttl: \"0s\","),
        "`ttl` is 0",
        None,
        Some(8),
    );
    one(
        &STACK.replace("mix: {", "keys: Zipf(keys: 0, s: 1.0), mix: {"),
        "`keys` is 0",
        None,
        Some(3),
    );
    one(
        &STACK.replace("servers: 2,", "servers: 2, max_connections: 0,"),
        "`max_connections` is 0",
        None,
        Some(9),
    );
    one(
        &STACK.replace(
            "CacheAside(cache: \"redis\", db: \"db\")",
            "Call(to: \"app\")",
        ),
        "the app calls itself",
        None,
        Some(6),
    );
}

#[test]
fn calls_that_loop_are_refused() {
    let t = r#"Topology(name: "loop", sources: [Source(id: "u", to: "a", arrivals: Poisson(rps: 1.0))],
        nodes: [
            App(id: "a", workers: 1, service: Constant("1ms"), handle: {"*": [Call(to: "b")]}),
            App(id: "b", workers: 1, service: Constant("1ms"), handle: {"*": [Call(to: "lb")]}),
            LoadBalancer(id: "lb", to: ["a", "c"]),
            Station(id: "c", servers: 1, service: Constant("1ms")),
        ])"#;
    one(t, "calls loop", Some("break the loop"), Some(3));
}

#[test]
fn client_settings_are_checked() {
    let with = |client: &str| STACK.replace("mix: {", &format!("client: {client}, mix: {{"));
    one(
        &with("Client(timeout: \"0s\")"),
        "the client timeout is 0",
        None,
        Some(3),
    );
    one(
        &with("Client(retries: Retries(max: 500, backoff: \"1ms\"))"),
        "500 retries",
        None,
        Some(3),
    );
    one(
        &with("Client(retries: Retries(max: 2, backoff: \"1ms\", budget: -1.0))"),
        "retry budget",
        None,
        Some(3),
    );
    one(
        &with("Client(breaker: Breaker(failure_ratio: 2.0, window: \"1s\", open_for: \"1s\"))"),
        "`failure_ratio` is 2",
        None,
        Some(3),
    );
}

#[test]
fn region_mistakes_are_explained() {
    let base = include_str!("../../topologies/two-regions.ron");
    one(
        &base.replace(
            "links: [Link(a: \"eu\", b: \"us\", latency: \"40ms\")],",
            "links: [],",
        ),
        "no link between regions `eu` and `us`",
        Some("Link(a: \"eu\""),
        None,
    );
    one(
        &base.replace("Link(a: \"eu\", b: \"us\"", "Link(a: \"eu\", b: \"usa\""),
        "`usa`, which is not a region",
        Some("did you mean `us`?"),
        None,
    );
    // The same pair twice: the second would silently win.
    one(
        &base.replace(
            "links: [Link(a: \"eu\", b: \"us\", latency: \"40ms\")],",
            "links: [Link(a: \"eu\", b: \"us\", latency: \"40ms\"),\n        Link(a: \"us\", b: \"eu\", latency: \"10ms\")],",
        ),
        "regions `us` and `eu` are linked twice (40ms, then 10ms)",
        Some("one `Link` per pair"),
        Some(28),
    );
    // A region linked to itself, on the line of that link.
    one(
        &base.replace(
            "links: [Link(a: \"eu\", b: \"us\", latency: \"40ms\")],",
            "links: [Link(a: \"eu\", b: \"us\", latency: \"40ms\"),\n        Link(a: \"eu\", b: \"eu\", latency: \"1ms\")],",
        ),
        "this link joins region `eu` to itself",
        Some("remove the link"),
        Some(28),
    );
    one(
        &base.replace(
            "nodes: [\"app-us\", \"db-us\"]",
            "nodes: [\"app-us\", \"db-eu\"]",
        ),
        "node `db-eu` is in two regions",
        None,
        None,
    );
    one(
        &base.replace(
            "nodes: [\"app-us\", \"db-us\"]",
            "nodes: [\"app-us\", \"db-uss\"]",
        ),
        "`db-uss` is not a node",
        Some("did you mean `db-us`?"),
        None,
    );
    one(
        &base.replace("sources: [\"users-us\"]", "sources: [\"users-mars\"]"),
        "`users-mars` is not a source",
        None,
        None,
    );
}
