//! Errors name the place at fault and hint without inventing (audit-s7 E1,
//! E2, E6, F9): a missing region link has a place and no made-up latency
//! and is not said after other region errors; a session's error points at
//! the field at fault; kinds take "an" where English wants it.

use crate::common::text;
use bottleneck::topology;

/// The diagnostics of loading `src` (empty when it loads).
fn errors(src: &str) -> String {
    match topology::load("t.ron", src.as_bytes()) {
        Ok(_) => String::new(),
        Err(ds) => ds.to_string(),
    }
}

/// `line:col` of the first occurrence of `needle` in `src`.
fn place_of(src: &str, needle: &str) -> String {
    let at = src.find(needle).unwrap_or_else(|| panic!("{needle}"));
    let line = src[..at].matches('\n').count() + 1;
    let col = src[..at].rsplit('\n').next().unwrap().chars().count() + 1;
    format!("t.ron:{line}:{col}")
}

const REGIONS: &str = r#"Topology(name: "rg",
  sources: [ Source(id: "u", to: "app", arrivals: Poisson(rps: 10)) ],
  nodes: [
    App(id: "app", workers: 64, service: Constant("1ms"), handle: {"*": [Read(db: "db")]}),
    Database(id: "db", servers: 16, read: Constant("1ms"), write: Constant("1ms")),
  ],
  regions: [ REGIONS ],
  links: [ LINKS ],
)"#;

fn regions(r: &str, l: &str) -> String {
    REGIONS.replace("REGIONS", r).replace("LINKS", l)
}

#[test]
fn a_missing_link_has_a_place_and_no_invented_latency() {
    let src = regions(
        r#"Region(id: "eu", nodes: ["app"], sources: ["u"]), Region(id: "us", nodes: []), Region(id: "ap", nodes: ["db"])"#,
        r#"Link(a: "eu", b: "us", latency: "40ms"), Link(a: "us", b: "ap", latency: "40ms")"#,
    );
    let e = errors(&src);
    assert!(e.contains("no link between regions `eu` and `ap`"), "{e}");
    assert!(e.contains(&place_of(&src, r#""ap""#)), "{e}");
    assert!(!e.contains("40ms"), "{e}");
}

#[test]
fn region_errors_are_not_followed_by_a_missing_link() {
    for (r, first) in [
        (
            r#"Region(id: "eu", nodes: ["app", "db"]), Region(id: "eu", nodes: [])"#,
            "the region `eu` is listed twice",
        ),
        (
            r#"Region(id: "eu", nodes: ["app", "db"]), Region(id: "us", nodes: ["app"])"#,
            "node `app` is in two regions",
        ),
    ] {
        let e = errors(&regions(r, ""));
        assert!(e.contains(first), "{e}");
        assert!(!e.contains("no link"), "{e}");
    }
}

#[test]
fn a_source_listed_twice_in_regions_is_refused() {
    for (r, says) in [
        (
            r#"Region(id: "eu", nodes: ["app", "db"], sources: ["u", "u"])"#,
            "source `u` is listed twice in region `eu`",
        ),
        (
            r#"Region(id: "eu", nodes: ["app"], sources: ["u"]), Region(id: "us", nodes: ["db"], sources: ["u"])"#,
            "source `u` is in two regions",
        ),
    ] {
        let l = r#"Link(a: "eu", b: "us", latency: "40ms")"#;
        let e = errors(&regions(r, if r.contains("us") { l } else { "" }));
        assert!(e.contains(says), "{e}");
    }
}

const SESSION: &str = r#"Topology(name: "s", sources: [
  Source(id: "u", to: "web", arrivals: Closed(users: 5, think: Constant("10ms"), order: ORDER,
    tasks: [
      Task(class: "a"),
      Task(class: "a", weight: WEIGHT, repeat: REPEAT),
      Set(tasks: [Task(class: "b")], interrupt: INNER),
    ],
    interrupt: OUTER)) ],
  nodes: [ App(id: "web", workers: 100, service: Constant("1ms")) ])"#;

#[test]
fn session_errors_point_at_the_field_at_fault() {
    let base = [
        ("ORDER", "Weighted"),
        ("WEIGHT", "1"),
        ("REPEAT", "1"),
        ("INNER", "After(1)"),
        ("OUTER", "After(3)"),
    ];
    let with = |k: &str, v: &str| {
        let mut s = SESSION.to_string();
        for (key, val) in base {
            s = s.replace(key, if key == k { v } else { val });
        }
        s
    };
    for (k, v, at) in [
        ("REPEAT", "0", "repeat: 0"),
        ("WEIGHT", "0", "weight: 0"),
        ("INNER", "After(0)", "interrupt: After(0)"),
        ("OUTER", "Chance(0.0)", "interrupt: Chance(0.0)"),
    ] {
        let src = with(k, v);
        let e = errors(&src);
        assert!(
            e.contains(&place_of(&src, at)),
            "{k}={v}: want {}\n{e}",
            place_of(&src, at)
        );
    }
}

#[test]
fn kinds_take_an_where_english_wants_it() {
    let src = r#"Topology(name: "t", sources: [ Source(id: "u", to: "app", arrivals: Poisson(rps: 1)) ],
  nodes: [ App(id: "app", workers: 4, service: Constant("1ms"), handle: {"*": [Read(db: "os")]}),
           ObjectStore(id: "os", service: Constant("1ms")) ])"#;
    let e = errors(src);
    assert!(e.contains("`os` is an ObjectStore"), "{e}");
    assert!(!e.contains(" a ObjectStore"), "{e}");
    let dir = std::env::temp_dir().join(format!("bn-an-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("t.ron"),
        r#"Topology(name: "t", sources: [ Source(id: "u", to: "web", arrivals: Poisson(rps: 1)) ],
  nodes: [ App(id: "web", workers: 4, service: Constant("1ms")) ])"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("t.scenario.ron"),
        r#"Scenario(name: "t", topology: "t.ron", duration: "10s", thresholds: ["hit_ratio(web) > 0.1"])"#,
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_bottleneck"))
        .args(["check", "t.scenario.ron"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert!(err.contains("`web` is an App"), "{err}");
}

/// audit-s7 E3: `Exact`'s event count out of range is named, not a RON
/// syntax hint.
#[test]
fn an_exact_items_event_count_out_of_range_is_named() {
    for (num, says) in [
        ("18446744073709551616", "too large"),
        ("-1", "negative"),
        ("1.5", "not a whole number"),
    ] {
        let text = format!(
            r#"Scenario(name: "e", topology: "t.ron", duration: "30s", timeline: [ Exact("10s", {num}, Down("s")) ], thresholds: [])"#
        );
        let e = bottleneck::scenario::parse_str("e.scenario.ron", &text).unwrap_err();
        let d = &e.items[0];
        assert!(
            d.message.contains("`Exact`'s event count"),
            "{num}: {}",
            d.message
        );
        assert!(d.message.contains(says), "{num}: {}", d.message);
        assert!(d.hint.as_deref().unwrap().contains("At("), "{num}");
    }
}
