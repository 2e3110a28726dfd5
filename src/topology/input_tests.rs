//! The loader against hostile input (session 6): generated mutations of
//! every bundled topology, long chains, and the audit's cases. Every error
//! must have a place (line:col or the item it concerns) and a hint, and
//! nothing may panic.

use super::load::{load, load_str};
use crate::diag::Diagnostics;
use proptest::prelude::*;

/// Every bundled topology: (path, text).
pub(super) fn bundled() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/topologies"
    ))];
    while let Some(d) = dirs.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "ron") {
                let text = std::fs::read_to_string(&p).unwrap();
                if super::load::leading_name(&text).1 == "Topology" {
                    out.push((p.display().to_string(), text));
                }
            }
        }
    }
    out
}

/// Byte ranges of the numbers written as `field: NUMBER` (outside strings).
fn number_sites(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let (mut out, mut in_str, mut i) = (Vec::new(), false, 0);
    while i < b.len() {
        match b[i] {
            b'"' => in_str = !in_str,
            b'/' if !in_str && b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b':' if !in_str => {
                let mut j = i + 1;
                while j < b.len() && b[j] == b' ' {
                    j += 1;
                }
                let start = j;
                while j < b.len()
                    && (b[j].is_ascii_digit() || matches!(b[j], b'.' | b'_' | b'-' | b'e'))
                {
                    j += 1;
                }
                if j > start && b[start..j].iter().any(u8::is_ascii_digit) {
                    out.push((start, j));
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The text's mutations: each number set to hostile values, each simple
/// field deleted, each kind swapped for another, durations made absurd.
fn mutations(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (s, e) in number_sites(text) {
        for v in ["0", "-1", "1.5", "1e300", "99999999999999999999999"] {
            out.push(format!("{}{v}{}", &text[..s], &text[e..]));
        }
        // Delete `field: NUMBER,`.
        let field = text[..s]
            .trim_end()
            .strip_suffix(':')
            .map(|t| t.trim_end_matches(|c: char| c.is_alphanumeric() || c == '_'));
        if let Some(f) = field {
            let end = text[e..].find(',').map_or(e, |k| e + k + 1);
            out.push(format!("{}{}", f, &text[end..]));
        }
    }
    let kinds = [
        "Station(",
        "App(",
        "Cache(",
        "Cdn(",
        "Database(",
        "Replica(",
        "Pooler(",
        "Queue(",
        "RateLimiter(",
        "LoadBalancer(",
        "ShardRouter(",
        "ObjectStore(",
    ];
    for (k, kind) in kinds.iter().enumerate() {
        if let Some(at) = text
            .find(&format!(" {kind}"))
            .or_else(|| text.find(&format!("[{kind}")))
        {
            let other = kinds[(k + 1) % kinds.len()];
            out.push(format!(
                "{}{other}{}",
                &text[..at + 1],
                &text[at + 1 + kind.len()..]
            ));
        }
    }
    for d in ["\"0s\"", "\"400d\"", "\"1e300s\"", "\"-5ms\""] {
        if let Some(at) = text.find("ms\"") {
            let start = text[..at].rfind('"').unwrap();
            out.push(format!("{}{d}{}", &text[..start], &text[at + 3..]));
        }
    }
    out
}

/// Each error without a place or a hint, as "file: message".
fn unplaced_or_unhinted(file: &str, ds: &Diagnostics) -> Vec<String> {
    ds.items
        .iter()
        .filter(|d| d.is_error() && (d.hint.is_none() || (d.pos.is_none() && d.item.is_none())))
        .map(|d| {
            format!(
                "{file}: {} (place: {}, hint: {})",
                d.message,
                d.pos.is_some() || d.item.is_some(),
                d.hint.is_some()
            )
        })
        .collect()
}

#[test]
fn every_error_on_mutated_bundled_topologies_has_a_place_and_a_hint() {
    let mut bad = std::collections::BTreeSet::new();
    let mut errors = 0;
    for (file, text) in bundled() {
        for m in mutations(&text) {
            if let Err(ds) = load_str(&file, &m) {
                errors += ds.items.len();
                bad.extend(unplaced_or_unhinted(&file, &ds));
            }
        }
    }
    assert!(errors > 1000, "the mutations found only {errors} errors");
    assert!(
        bad.is_empty(),
        "{} errors without a place or a hint:\n{}",
        bad.len(),
        bad.into_iter().collect::<Vec<_>>().join("\n")
    );
}

fn chain(n: usize, rps: &str) -> String {
    let apps: Vec<String> = (0..n)
        .map(|i| format!("App(id:\"s{i}\",workers:1,service:Constant(\"1us\"),handle:{{\"*\":[Call(to:\"s{}\")]}})", i + 1))
        .collect();
    format!(
        "Topology(name:\"c\",sources:[Source(id:\"u\",to:\"s0\",arrivals:Poisson(rps:{rps}))],nodes:[{},Station(id:\"s{n}\",servers:1,service:Constant(\"1us\"))])",
        apps.join(",")
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// A chain is solved exactly, however long: n apps and a station make
    /// n + 1 visits, never "endless".
    #[test]
    fn chains_make_one_visit_per_node(n in 1usize..=1000) {
        let l = load_str("c.ron", &chain(n, "1")).unwrap();
        let (visits, demand) = crate::model::per_entry(&l.model);
        prop_assert!((visits[0] - (n + 1) as f64).abs() < 1e-9, "{}", visits[0]);
        prop_assert!((demand[0] - (n + 1) as f64 * 1e3).abs() < 1e-6);
        let rates = l.model.visit_rates(&[1.0]).expect("settles");
        prop_assert!(rates.iter().all(|&r| (r - 1.0).abs() < 1e-12));
    }

    /// A Diurnal cycle's expected arrivals over whole periods are the mean
    /// of peak and trough, whatever the period.
    #[test]
    fn a_cycle_averages_peak_and_trough(period_s in 1u64..100_000, cycles in 1u64..20) {
        let p = crate::profile::Profile::Diurnal { peak: 1.0, trough: 0.2, period: crate::time::Duration(period_s * crate::time::SEC) };
        let end = period_s * cycles * crate::time::SEC;
        let got = p.expected_arrivals(10.0, end);
        let want = 10.0 * 0.6 * (period_s * cycles) as f64;
        prop_assert!((got - want).abs() < 1e-6 * want, "{got} vs {want}");
    }
}

#[test]
fn a_chain_deeper_than_the_limit_is_refused_with_its_depth_not_as_endless() {
    // Ten thousand nodes: past the nesting limit, and deep enough that a
    // recursive search would overflow the stack.
    let ds = load_str("c.ron", &chain(9_999, "1")).unwrap_err();
    let d = &ds.items[0];
    assert!(
        d.message.contains("calls nest 9999 deep from `s0`"),
        "{}",
        d.message
    );
    assert!(d.pos.is_some() && d.hint.is_some());
    assert!(load_str("c.ron", &chain(super::limits::MAX_CALL_DEPTH, "1")).is_ok());
}

#[test]
fn cdns_that_are_each_others_origin_are_refused_at_load_with_a_place() {
    let t = r#"Topology(name: "x", sources: [Source(id: "u", to: "c", arrivals: Poisson(rps: 1), keys: Uniform(keys: 1000))],
  nodes: [Cdn(id: "c", origin: "d", capacity: 100, servers: 8, service: Constant("1ms")),
          Cdn(id: "d", origin: "c", capacity: 100, servers: 8, service: Constant("1ms"))])"#;
    let ds = load_str("x.ron", t).unwrap_err();
    let d = &ds.items[0];
    assert!(d.message.contains("(c, d)"), "{}", d.message);
    assert!(d.pos.is_some() && d.hint.as_deref().unwrap().contains("origin"));
}

const MM1: &str = r#"Topology(name: "b", sources: [Source(id: "u", to: "s", arrivals: ARRIVALS)], nodes: [Station(id: "s", servers: 1, service: Constant("1ms"))])"#;

#[test]
fn a_byte_order_mark_is_accepted() {
    let plain = MM1.replace("ARRIVALS", "Poisson(rps: 1)");
    let with = [&b"\xef\xbb\xbf"[..], plain.as_bytes()].concat();
    let a = load("b.ron", &with).expect("a BOM is not content");
    assert_eq!(
        a.model.topology,
        load("b.ron", plain.as_bytes()).unwrap().model.topology
    );
}

#[test]
fn one_error_per_mistake_and_huge_numbers_in_powers_of_ten() {
    let ds = load_str(
        "b.ron",
        &MM1.replace(
            "ARRIVALS",
            r#"Closed(users: 4000000000, think: Constant("1s"))"#,
        ),
    )
    .unwrap_err();
    assert_eq!(ds.items.len(), 1, "{ds}");
    assert!(ds.items[0].message.contains("`users`"));
    let ds = load_str("b.ron", &MM1.replace("ARRIVALS", "Poisson(rps: 1e308)")).unwrap_err();
    assert!(
        ds.items[0].message.contains("1e308"),
        "{}",
        ds.items[0].message
    );
    assert!(ds.to_string().len() < 600, "{ds}");
}

#[test]
fn other_project_files_are_named_with_their_command() {
    let scenario = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/topologies/drills/01-front-page.scenario.ron"
    ))
    .unwrap();
    let ds = load("s.ron", &scenario).unwrap_err();
    assert!(ds.items[0].message.contains("this is a scenario file"));
    assert!(
        ds.items[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("bottleneck check s.ron")
    );
}

#[test]
fn short_cycles_and_empty_spikes_are_refused() {
    for (profile, says) in [
        (
            r#"Diurnal(peak: 1.0, trough: 0.2, period: "1ns")"#,
            "at least 1s",
        ),
        (
            r#"Diurnal(peak: 1.0, trough: 0.2, period: "999ms")"#,
            "at least 1s",
        ),
        (r#"Spike(at: "1s", times: 3.0, for: "0s")"#, "for: \"5m\""),
    ] {
        let t = MM1.replace("ARRIVALS", "Poisson(rps: 1)").replace(
            "arrivals: Poisson(rps: 1))",
            &format!("arrivals: Poisson(rps: 1), profile: {profile})"),
        );
        let ds = load_str("p.ron", &t).unwrap_err();
        assert!(ds.items[0].hint.as_deref().unwrap().contains(says), "{ds}");
    }
}
