//! Numbers printed side by side say the same thing: the bottleneck's
//! "x% of N servers" names what x is a share of when the servers changed;
//! `check`'s failures line counts the requests its `error_rate` judges; a
//! sweep's p99 and error columns are the values its BROKEN verdicts measured.

use super::common::{bottleneck, text};
use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::{Duration, SEC};
use bottleneck::topology;

const SV: &str = r#"Topology(name: "sv", sources: [ Source(id: "u", to: "s", arrivals: Poisson(rps: 380.0)) ],
  nodes: [ Station(id: "s", servers: 4, service: Constant("10ms")) ])"#;

/// Runs SV for 40 s (5 s warm-up) with its servers changed 4 -> 100 -> 1
/// -> 8 at 10, 20 and 30 s, or left alone.
fn servers_changed(change: bool) -> bottleneck::report::Report {
    let m = topology::load_str("sv.ron", SV).unwrap().model;
    let mut sim = Simulation::new(
        &m,
        RunConfig {
            warmup: Duration(5 * SEC),
            ..RunConfig::default()
        },
    );
    for (at, servers) in [(10, 100), (20, 1), (30, 8)] {
        sim.step_until(at * SEC).unwrap();
        if change {
            sim.apply(Change::Servers {
                node: "s".into(),
                servers,
            })
            .unwrap();
        }
    }
    sim.step_until(40 * SEC).unwrap();
    sim.report()
}

#[test]
fn a_bottleneck_whose_servers_changed_names_the_servers_its_share_is_of() {
    let r = servers_changed(true);
    let b = r.bottleneck.as_ref().unwrap();
    let s = r.nodes.get("s").unwrap();
    // "s: 12% of 31.7 servers (on average; 8 at the end) busy, ...".
    let (pct, rest) = b
        .reason
        .strip_prefix("s: ")
        .unwrap()
        .split_once("% of ")
        .unwrap();
    let (mean, rest) = rest.split_once(" servers (on average; ").unwrap();
    assert!(rest.starts_with("8 at the end) busy"), "{}", b.reason);
    let (pct, mean): (f64, f64) = (pct.parse().unwrap(), mean.parse().unwrap());
    // Over 5..40 s: 4 servers for 5 s, 100 for 10, 1 for 10, 8 for 10 (the
    // 99 taken away at 20 s finish their 10 ms requests first).
    let expected = (4.0 * 5.0 + 100.0 * 10.0 + 1.0 * 10.0 + 8.0 * 10.0) / 35.0;
    assert!(
        (mean - expected).abs() < 0.1,
        "{mean} against {expected:.2}"
    );
    // The share is of those: share x mean servers = mean busy servers.
    let busy = s.mean_in_system - s.mean_queue_len;
    assert!(
        (s.utilization * mean - busy).abs() < 0.06,
        "{} x {mean} against {busy}",
        s.utilization
    );
    assert!(
        (pct - 100.0 * s.utilization).abs() <= 0.5,
        "{pct} against {}",
        s.utilization
    );
    assert!(
        busy / 8.0 > 0.3,
        "a share of the 8 at the end would read {:.0}%",
        100.0 * busy / 8.0
    );
    // Servers that never changed read as before.
    let r = servers_changed(false);
    let b = r.bottleneck.as_ref().unwrap();
    assert!(
        b.reason.starts_with("s: ") && b.reason.contains("% of 4 servers busy"),
        "{}",
        b.reason
    );
}

/// A station that cannot keep up, whose clients give up after 2 s: at the
/// end of the run, the last 2 s of requests are still waiting, and they fail
/// (time out) while the run settles.
const SLOW: &str = r#"Topology(name: "slow", sources: [ Source(id: "u", to: "s", client: Client(timeout: "2s"), arrivals: Poisson(rps: 150.0)) ],
  nodes: [ Station(id: "s", servers: 1, service: Constant("10ms")) ])"#;

/// The same without the timeout: what waits at the end is answered, late,
/// while the run settles.
const FAST: &str = r#"Topology(name: "fast", sources: [ Source(id: "u", to: "s", arrivals: Poisson(rps: 120.0)) ],
  nodes: [ Station(id: "s", servers: 1, service: Constant("10ms")) ])"#;

fn files(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bn-agree-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("slow.ron"), SLOW).unwrap();
    std::fs::write(dir.join("fast.ron"), FAST).unwrap();
    std::fs::write(
        dir.join("slow.scenario.ron"),
        r#"Scenario(name: "slow", topology: "slow.ron", duration: "20s", warmup: "2s", thresholds: [ "error_rate < 1%" ])"#,
    )
    .unwrap();
    dir
}

#[test]
fn checks_failures_line_counts_what_its_error_rate_judges() {
    let dir = files("check");
    let o = bottleneck(&[
        "check",
        &dir.join("slow.scenario.ron").display().to_string(),
        "--json",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(99), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let error_rate = v[0]["rows"][0]["measured"]["mean"].as_f64().unwrap();
    let failures = v[0]["failures"].as_str().unwrap();
    let pct: f64 = failures.split_once('%').unwrap().0.parse().unwrap();
    assert!(
        (pct - 100.0 * error_rate).abs() <= 0.05 + 1e-9,
        "`{failures}` beside error_rate {:.2}%",
        100.0 * error_rate
    );
    // And the table says the same.
    let o = bottleneck(&[
        "check",
        &dir.join("slow.scenario.ron").display().to_string(),
    ]);
    let out = text(&o.stdout);
    let shown = format!("failures: {pct:.1}% of requests failed");
    assert!(
        out.contains(&shown) && out.contains(&format!("{pct:.1}%  FAIL")),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_sweeps_columns_are_what_its_verdicts_measured() {
    let dir = files("sweep");
    // On slow.ron errors differ (the last 2 s time out while the run
    // settles), on fast.ron p99 (they are answered late).
    for file in ["slow.ron", "fast.ron"] {
        let o = bottleneck(&[
            "sweep",
            &dir.join(file).display().to_string(),
            "--from",
            "1",
            "--to",
            "1.2",
            "--steps",
            "2",
            "--duration",
            "20s",
            "--json",
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for p in v["points"].as_array().unwrap() {
            let broken: Vec<&str> = p["broken"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_str().unwrap())
                .collect();
            let measured = |name: &str| -> String {
                let b = broken
                    .iter()
                    .find(|b| b.starts_with(name))
                    .unwrap_or_else(|| panic!("{broken:?}"));
                b.split_once("(measured ")
                    .unwrap()
                    .1
                    .trim_end_matches(')')
                    .to_string()
            };
            if let Some(p99) = p["p99_ms"].as_f64() {
                assert_eq!(measured("p99"), bottleneck::fmt::fmt_ms(Some(p99)), "{p}");
            }
            let errors = p["error_rate"].as_f64().unwrap();
            if errors > 0.0 {
                let shown = measured("error_rate");
                let shown: f64 = shown.trim_end_matches('%').parse().unwrap();
                assert!(
                    (shown - 100.0 * errors).abs() <= 0.05 + 1e-9,
                    "{shown}% against {errors}"
                );
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
