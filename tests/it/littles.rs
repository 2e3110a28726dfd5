//! Every per-node number agrees with the others, on random systems over
//! every kind (stations with feedback, apps with pools, fan-outs and
//! autoscaling, cache-aside caches with single flight, read-through caches
//! in front and on the apps' calls, a CDN, databases, replicas, a pooler, a
//! shard router, a queue with workers, an object store, balancers, a rate
//! limiter; the generator is `invariants`' without what fails a request
//! after it took time: `invariants::calm_spec`).
//!
//! Checked at every node of the report a user sees (a warm-up, then the
//! measured span to the end):
//! - Little's law, `mean_in_system = throughput x mean_sojourn`, as the
//!   sample-path identity it is. Over the measured span `[w, T]` (length
//!   `T'`), the area under the number at the node is the time every visit
//!   spent there inside the span:
//!
//!   `mean_in_system x T' = completed x mean_sojourn + E_start + E_end + F`
//!
//!   `completed x mean_sojourn` is the whole time of the visits that arrived
//!   in the span and completed (the histogram's mean is exact: sum / count);
//!   `E_end` is the time so far of the span's visits still there at `T`
//!   (read exactly from the engine's requests at `T`); `E_start` is the time
//!   after `w` of the visits that began before the warm-up's end (the number
//!   of those still there is read every 1 ms after `w`, then every 10 ms,
//!   which brackets `E_start` between two sums: the only tolerance, at most
//!   the step times the visits that straddled `w`, plus 1e-9 relative for
//!   floating point); `F` is the time of visits that failed, which is 0 at a
//!   node without errors (in these runs a drop is a refusal at the door: it
//!   takes no time). So at a node without errors the identity must hold
//!   within the bracket, and at any node the left side may not fall short
//!   of the right without `F`. The report's `throughput_rps` counts
//!   completions in the span whatever the arrival: `throughput x T' -
//!   completed` is the visits from before `w` that completed in the span, at
//!   least 0 and at most the visits there at `w` (also checked), so
//!   `mean_in_system ≈ throughput x mean_sojourn` up to those edge visits.
//!   Before the fix, a CDN edge or a read-through cache left its requests
//!   waiting on the origin or backend out of `mean_in_system` (about 50
//!   against 72 on topologies/cdn.ron), and this test failed on them.
//! - utilization in [0, 1];
//! - conservation: `arrivals = completed + dropped + errors + in_flight` at
//!   every node, `arrivals = completed + dropped + in_flight` end to end.

use super::invariants::{calm_spec, topology_text};
use bottleneck::sim::{RunConfig, Simulation};
use bottleneck::time::{Duration, MS, SEC};
use bottleneck::topology;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use std::sync::atomic::{AtomicU64, Ordering};

const WARMUP: u64 = SEC;
const END: u64 = 8 * SEC;

/// Visits at each node that began before `w` (still under way).
fn before(sim: &Simulation, n: usize, w: u64) -> Vec<u64> {
    let mut at = vec![0u64; n];
    for r in sim.requests() {
        if (r.node as usize) < n && r.visit_arrival < w {
            at[r.node as usize] += 1;
        }
    }
    at
}

/// Nodes checked exactly, where requests were held without a server (a CDN
/// edge or a read-through cache missing, a single-flight wait), and where
/// visits failed (checked one-sided).
static EXACT: AtomicU64 = AtomicU64::new(0);
static HELD: AtomicU64 = AtomicU64::new(0);
static CDN: AtomicU64 = AtomicU64::new(0);
static EVENTS: AtomicU64 = AtomicU64::new(0);

fn check(text: &str, seed: u64) -> Result<(), TestCaseError> {
    let loaded = topology::load_str("random.ron", text).map_err(|d| {
        TestCaseError::fail(format!(
            "the generator made an invalid topology:\n{d}\n{text}"
        ))
    })?;
    let m = &loaded.model;
    let n = m.nodes.len();
    let mut sim = Simulation::new(
        m,
        RunConfig {
            seed,
            warmup: Duration(WARMUP),
            max_in_flight: 200_000,
            max_events: 20_000_000,
            ..RunConfig::default()
        },
    );
    if sim.step_until(WARMUP).is_err() {
        return Ok(()); // a budget stopped a runaway case
    }
    // E_start, bracketed: the visits from before the warm-up's end are
    // counted at each step; between two counts each was there for the
    // whole step (the upper sum) or none of it (the lower sum).
    let at_w = before(&sim, n, WARMUP);
    let (mut lo, mut hi) = (vec![0u128; n], vec![0u128; n]);
    let mut t = WARMUP;
    let mut left = at_w.clone();
    while t < END && left.iter().any(|&k| k > 0) {
        let step = if t < WARMUP + 100 * MS { MS } else { 10 * MS };
        let next = (t + step).min(END);
        if sim.step_until(next).is_err() {
            return Ok(());
        }
        let now = before(&sim, n, WARMUP);
        for i in 0..n {
            hi[i] += (left[i] * (next - t)) as u128;
            lo[i] += (now[i] * (next - t)) as u128;
        }
        left = now;
        t = next;
    }
    if sim.step_until(END).is_err() {
        return Ok(());
    }
    // E_end, exactly: the span's visits still under way at the end.
    let mut e_end = vec![0u128; n];
    for r in sim.requests() {
        if (r.node as usize) < n && r.visit_arrival >= WARMUP {
            e_end[r.node as usize] += (END - r.visit_arrival) as u128;
        }
    }
    let report = sim.report();
    EVENTS.fetch_add(sim.events(), Ordering::Relaxed);
    let span = (END - WARMUP) as f64;
    for (i, (id, node)) in report.nodes.0.iter().enumerate() {
        prop_assert_eq!(
            node.arrivals,
            node.completed + node.dropped + node.errors + node.in_flight,
            "{}: arrivals vs completed + dropped + errors + in flight",
            id
        );
        prop_assert!(
            (0.0..=1.0 + 1e-9).contains(&node.utilization),
            "{}: utilization {}",
            id,
            node.utilization
        );
        // Throughput: completions in the span, the span's own and some of
        // those from before it.
        let departed = (node.throughput_rps * span / 1e9).round() as u64;
        prop_assert!(
            departed >= node.completed && departed - node.completed <= at_w[i],
            "{}: {} departed in the span, {} of its visits completed, {} there at the warm-up's end",
            id,
            departed,
            node.completed,
            at_w[i]
        );
        // Little's law as the identity above, in request x ns.
        let area = node.mean_in_system * span;
        let whole = node.completed as f64 * node.mean_sojourn_ms.unwrap_or(0.0) * 1e6;
        let rest = area - whole - e_end[i] as f64;
        let eps = 1e-9 * area.max(whole) + 1.0;
        let held = node.cache.as_ref().map_or(0.0, |c| c.mean_held);
        prop_assert!(
            rest >= lo[i] as f64 - eps,
            "{} ({}): mean_in_system {:.4} is short of its visits' time: {:.4} completed x sojourn, {:.4} still there at the end, at least {:.4} from before the warm-up (requests on average over the span); held {:.4}\n{}",
            id,
            node.kind,
            node.mean_in_system,
            whole / span,
            e_end[i] as f64 / span,
            lo[i] as f64 / span,
            held,
            text
        );
        if node.errors == 0 {
            prop_assert!(
                rest <= hi[i] as f64 + eps,
                "{} ({}): mean_in_system {:.4} exceeds its visits' time: {:.4} completed x sojourn, {:.4} still there at the end, at most {:.4} from before the warm-up; held {:.4}\n{}",
                id,
                node.kind,
                node.mean_in_system,
                whole / span,
                e_end[i] as f64 / span,
                hi[i] as f64 / span,
                held,
                text
            );
            EXACT.fetch_add(1, Ordering::Relaxed);
            if held > 0.01 {
                HELD.fetch_add(1, Ordering::Relaxed);
                if node.kind == "Cdn" {
                    CDN.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    let e = &report.end_to_end;
    prop_assert_eq!(e.arrivals, e.completed + e.dropped + e.in_flight);
    Ok(())
}

#[test]
fn every_node_keeps_littles_law_its_utilization_and_its_books() {
    let cases = std::env::var("BOTTLENECK_LITTLE_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64);
    let mut runner = TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(0x11771e),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&calm_spec(), |(spec, seed)| {
        check(&topology_text(&spec), seed)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The law was checked exactly, and where requests wait without a
    // server (what the law once missed), at a CDN edge among them.
    let counts = [&EXACT, &HELD, &CDN].map(|c| c.load(Ordering::Relaxed));
    if std::env::var_os("BOTTLENECK_LITTLE_VERBOSE").is_some() {
        eprintln!(
            "nodes checked exactly, holding requests, CDN edges: {counts:?}; {} events",
            EVENTS.load(Ordering::Relaxed)
        );
    }
    assert!(
        counts.iter().all(|&c| c > 0),
        "exact, held, CDN: {counts:?}"
    );
}

/// The case the audit found: a CDN in front of the site.
#[test]
fn a_cdn_counts_what_waits_on_its_origin_as_in_the_system() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/cdn.ron"))
        .unwrap();
    check(&text, 1).unwrap();
}
