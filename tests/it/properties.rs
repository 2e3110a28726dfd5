//! Properties over random topologies and random sessions: the books balance
//! and percentiles are ordered, whatever happens.

use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::{Duration, MS, SEC};
use bottleneck::topology;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct NodeSpec {
    servers: u32,
    queue: Option<u32>,
    mean_ms: u32,
    /// Routes to later nodes (acyclic) and, sometimes, back to itself.
    routes: Vec<(usize, f64)>,
    feedback: f64,
}

fn node_spec(n: usize, i: usize) -> impl Strategy<Value = NodeSpec> {
    let later = (i + 1)..n.max(i + 2);
    (
        1u32..5,
        prop::option::of(0u32..6),
        1u32..20,
        prop::collection::vec((later, 0.0f64..0.4), 0..3),
        prop_oneof![Just(0.0), 0.0f64..0.3],
    )
        .prop_map(
            move |(servers, queue, mean_ms, routes, feedback)| NodeSpec {
                servers,
                queue,
                mean_ms,
                routes: routes.into_iter().filter(|(t, _)| *t < n).collect(),
                feedback,
            },
        )
}

fn topology_text(nodes: &[NodeSpec], rps: f64) -> String {
    let mut s = format!(
        "Topology(name: \"prop\", sources: [Source(id: \"u\", to: \"n0\", arrivals: Poisson(rps: {rps}))], nodes: ["
    );
    for (i, n) in nodes.iter().enumerate() {
        let queue = n.queue.map(|q| format!("queue: {q}, ")).unwrap_or_default();
        // Keep the route probabilities a valid split (at most 0.95 in all).
        let total: f64 = n.routes.iter().map(|r| r.1).sum::<f64>() + n.feedback;
        let scale = if total > 0.95 { 0.95 / total } else { 1.0 };
        let n = &NodeSpec {
            routes: n.routes.iter().map(|&(t, p)| (t, p * scale)).collect(),
            feedback: n.feedback * scale,
            ..n.clone()
        };
        let mut routes: Vec<String> = n
            .routes
            .iter()
            .map(|(t, p)| format!("Route(to: \"n{t}\", p: {p})"))
            .collect();
        if n.feedback > 0.0 {
            routes.push(format!("Route(to: \"n{i}\", p: {})", n.feedback));
        }
        s += &format!(
            "Station(id: \"n{i}\", servers: {}, {queue}service: Exponential(mean: \"{}ms\"), routes: [{}]),",
            n.servers,
            n.mean_ms,
            routes.join(", ")
        );
    }
    s + "])"
}

fn nodes() -> impl Strategy<Value = Vec<NodeSpec>> {
    (1usize..5).prop_flat_map(|n| (0..n).map(|i| node_spec(n, i)).collect::<Vec<_>>())
}

fn changes() -> impl Strategy<Value = Vec<(u64, u8, usize, u32)>> {
    prop::collection::vec((0u64..4000, 0u8..5, 0usize..4, 1u32..6), 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(0xb0771e), ..ProptestConfig::default() })]

    #[test]
    fn books_balance_and_percentiles_are_ordered(
        nodes in nodes(),
        rps in 1.0f64..800.0,
        warmup_ms in prop_oneof![Just(0u64), 0u64..2000],
        seed in any::<u64>(),
        session in changes(),
    ) {
        let n = nodes.len();
        let text = topology_text(&nodes, rps);
        let loaded = topology::load_str("prop.ron", &text).map_err(|d| TestCaseError::fail(d.to_string()))?;
        let mut sim = Simulation::new(&loaded.model, RunConfig {
            seed,
            warmup: Duration(warmup_ms * MS),
            ..RunConfig::default()
        });
        let mut session = session;
        session.sort();
        for (at_ms, kind, node, k) in session {
            sim.step_until(at_ms * MS).unwrap();
            let id = format!("n{}", node % n);
            let change = match kind {
                0 => Change::Down(id),
                1 => Change::Up(id),
                2 => Change::Servers { node: id, servers: k },
                3 => Change::Slow { node: id, factor: k as f64 / 2.0 },
                _ => Change::Traffic(k as f64 / 3.0),
            };
            sim.apply(change).unwrap();
        }
        sim.step_until(5 * SEC).unwrap();
        let r = sim.report();

        // Conservation, end to end and at every node (in flight is counted
        // independently, from the live requests).
        let e = &r.end_to_end;
        prop_assert_eq!(e.arrivals, e.completed + e.dropped + e.in_flight);
        prop_assert_eq!(e.in_flight as usize <= sim.in_flight(), true);
        for (id, node) in &r.nodes.0 {
            prop_assert_eq!(node.arrivals, node.completed + node.dropped + node.errors + node.in_flight, "node {}", id);
            prop_assert!((0.0..=1.0 + 1e-12).contains(&node.utilization), "utilization {}", node.utilization);
            prop_assert!((0.0..=1.0).contains(&node.blocking));
            prop_assert!(node.mean_queue_len >= 0.0);
            let ps = [node.p50_ms, node.p95_ms, node.p99_ms, node.p999_ms];
            if node.completed > 0 {
                let ps: Vec<f64> = ps.iter().map(|p| p.unwrap()).collect();
                prop_assert!(ps.windows(2).all(|w| w[0] <= w[1]), "{:?}", ps);
            } else {
                prop_assert!(ps.iter().all(Option::is_none));
            }
        }
        if e.completed > 0 {
            let ps = [e.p50_ms.unwrap(), e.p95_ms.unwrap(), e.p99_ms.unwrap(), e.p999_ms.unwrap(), e.max_ms.unwrap()];
            prop_assert!(ps.windows(2).all(|w| w[0] <= w[1]), "{:?}", ps);
        }
        // The JSON is valid and stable.
        let json = r.to_json();
        prop_assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
    }
}

const BUNDLED: [&str; 11] = [
    include_str!("../../topologies/two-regions.ron"),
    include_str!("../../topologies/cache-aside.ron"),
    include_str!("../../topologies/cdn.ron"),
    include_str!("../../topologies/credential-stuffing.ron"),
    include_str!("../../topologies/double-charge.ron"),
    include_str!("../../topologies/hot-shard.ron"),
    include_str!("../../topologies/lb-three-apps.ron"),
    include_str!("../../topologies/pool-exhaustion.ron"),
    include_str!("../../topologies/queue-workers.ron"),
    include_str!("../../topologies/read-replicas.ron"),
    include_str!("../../topologies/stampede.ron"),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(0xb0771e), ..ProptestConfig::default() })]

    /// Any session of failures on any bundled component topology keeps the
    /// books balanced and never panics.
    #[test]
    fn component_sessions_keep_the_books(
        which in 0usize..11,
        seed in any::<u64>(),
        session in prop::collection::vec((0u64..3000, 0u8..12, any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0u32..6), 0..8),
    ) {
        let loaded = topology::load_str("bundled.ron", BUNDLED[which]).unwrap();
        let ids: Vec<String> = loaded.model.nodes.iter().map(|n| n.id.clone()).collect();
        let mut sim = Simulation::new(&loaded.model, RunConfig {
            seed,
            warmup: Duration(500 * MS),
            max_in_flight: 200_000,
            ..RunConfig::default()
        });
        let mut session = session;
        session.sort_by_key(|x| x.0);
        for (at_ms, kind, a, b, k) in session {
            if sim.step_until(at_ms * MS).is_err() {
                break;
            }
            let (a, b) = (ids[a.index(ids.len())].clone(), ids[b.index(ids.len())].clone());
            let change = match kind {
                0 => Change::Down(a),
                1 => Change::Up(a),
                2 => Change::Servers { node: a, servers: k + 1 },
                3 => Change::Slow { node: a, factor: k as f64 + 0.5 },
                4 => Change::Errors { node: a, rate: k as f64 / 5.0 },
                5 => Change::Partition { a, b },
                6 => Change::Heal { a, b },
                7 => Change::Flush(a),
                8 => Change::Shards { node: a, count: k + 1 },
                9 => Change::DownRegion(if k % 2 == 0 { "eu".into() } else { "us".into() }),
                10 => Change::UpRegion("eu".into()),
                _ => Change::Traffic(k as f64 / 2.0),
            };
            // Some changes do not fit the node (flushing a database): refused, not a panic.
            let _ = sim.apply(change);
        }
        let _ = sim.step_until(3 * SEC);
        let r = sim.report();
        let e = &r.end_to_end;
        prop_assert_eq!(e.arrivals, e.completed + e.dropped + e.in_flight);
        for (id, n) in &r.nodes.0 {
            prop_assert_eq!(n.arrivals, n.completed + n.dropped + n.errors + n.in_flight, "node {}", id);
            prop_assert!(n.utilization <= 1.0 + 1e-9, "utilization {} at {}", n.utilization, id);
        }
        prop_assert!(serde_json::from_str::<serde_json::Value>(&r.to_json()).is_ok());
    }
}
