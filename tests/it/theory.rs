//! The engine against queueing theory.
//!
//! Each test runs independent replications (seeds 1..=R) and compares the
//! mean of a metric with its closed form, within 4 standard errors of the
//! replications plus the histogram's resolution for percentiles (see
//! `common::assert_agrees`). Times are in milliseconds, rates per second.

use crate::common::{assert_agrees, model, reports, run, stat};
use bottleneck::report::says;
use bottleneck::theory::{self as lens, Verdict, erlang, mmck};
use proptest::prelude::*;

fn factorial(n: u32) -> f64 {
    (1..=n).map(f64::from).product()
}

/// Erlang C: probability an arrival waits in M/M/c with offered load `a = lambda/mu`.
fn erlang_c(c: u32, a: f64) -> f64 {
    let top = a.powi(c as i32) / factorial(c) * c as f64 / (c as f64 - a);
    let bottom: f64 = (0..c).map(|k| a.powi(k as i32) / factorial(k)).sum::<f64>() + top;
    top / bottom
}

/// Erlang B: blocking probability of M/M/c/c with offered load `a`.
fn erlang_b(c: u32, a: f64) -> f64 {
    let top = a.powi(c as i32) / factorial(c);
    top / (0..=c)
        .map(|k| a.powi(k as i32) / factorial(k))
        .sum::<f64>()
}

/// M/M/c mean sojourn in seconds.
fn mmc_w(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (c as f64 * mu - lambda) + 1.0 / mu
}

const MM1: &str = r#"Topology(name: "M/M/1", sources: [Source(id: "s", to: "q", arrivals: Poisson(rps: 700))],
    nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "1ms"))])"#;

#[test]
fn mm1_means_utilization_and_queue() {
    // lambda 700/s, mu 1000/s, rho 0.7.
    let m = model(MM1);
    let (lambda, mu) = (700.0, 1000.0);
    let rho: f64 = lambda / mu;
    let rs = reports(&m, 8, 300.0, 10.0);
    let w = stat(&rs, |r| r.nodes["q"].mean_sojourn_ms.unwrap());
    assert_agrees("M/M/1 W", w, 1e3 / (mu - lambda), 0.0, 0.01);
    let wq = stat(&rs, |r| r.nodes["q"].mean_wait_ms.unwrap());
    assert_agrees("M/M/1 Wq", wq, 1e3 * rho / (mu - lambda), 0.0, 0.015);
    let lq = stat(&rs, |r| r.nodes["q"].mean_queue_len);
    assert_agrees("M/M/1 Lq", lq, rho * rho / (1.0 - rho), 0.0, 0.015);
    let u = stat(&rs, |r| r.nodes["q"].utilization);
    assert_agrees("M/M/1 utilization", u, rho, 0.0, 0.005);
    let e2e = stat(&rs, |r| r.end_to_end.mean_ms.unwrap());
    assert_agrees("M/M/1 end-to-end W", e2e, 1e3 / (mu - lambda), 0.0, 0.01);
}

#[test]
fn mm1_sojourn_percentiles() {
    // The M/M/1 sojourn time is exponential with rate mu - lambda, so its
    // p-quantile is -ln(1 - p) / (mu - lambda): ln 2 / 300 s at p50 and
    // ln 100 / 300 s at p99.
    let m = model(MM1);
    let rs8 = reports(&m, 8, 300.0, 10.0);
    let rate = 300.0;
    let p50 = stat(&rs8, |r| r.nodes["q"].p50_ms.unwrap());
    assert_agrees("M/M/1 p50", p50, 1e3 * 2f64.ln() / rate, 0.004, 0.01);
    let p99 = stat(&rs8, |r| r.nodes["q"].p99_ms.unwrap());
    assert_agrees("M/M/1 p99", p99, 1e3 * 100f64.ln() / rate, 0.004, 0.015);
    let e2e99 = stat(&rs8, |r| r.end_to_end.p99_ms.unwrap());
    assert_agrees(
        "M/M/1 end-to-end p99",
        e2e99,
        1e3 * 100f64.ln() / rate,
        0.004,
        0.015,
    );
}

#[test]
fn mmc_erlang_c() {
    // c = 4, lambda 3000/s, mu 1000/s per server: rho 0.75.
    let m = model(
        r#"Topology(name: "M/M/4", sources: [Source(id: "s", to: "q", arrivals: Poisson(rps: 3000))],
        nodes: [Station(id: "q", servers: 4, service: Exponential(mean: "1ms"))])"#,
    );
    let rs8 = reports(&m, 8, 120.0, 5.0);
    let (c, lambda, mu) = (4, 3000.0, 1000.0);
    let pw = erlang_c(c, lambda / mu);
    let wq = stat(&rs8, |r| r.nodes["q"].mean_wait_ms.unwrap());
    assert_agrees(
        "M/M/4 Wq",
        wq,
        1e3 * pw / (c as f64 * mu - lambda),
        0.0,
        0.015,
    );
    let w = stat(&rs8, |r| r.nodes["q"].mean_sojourn_ms.unwrap());
    assert_agrees("M/M/4 W", w, 1e3 * mmc_w(c, lambda, mu), 0.0, 0.01);
    let u = stat(&rs8, |r| r.nodes["q"].utilization);
    assert_agrees("M/M/4 utilization", u, 0.75, 0.0, 0.005);
}

#[test]
fn md1_pollaczek_khinchine() {
    // Deterministic 1 ms service at 700/s: Wq = rho / (2 mu (1 - rho)).
    let m = model(
        r#"Topology(name: "M/D/1", sources: [Source(id: "s", to: "q", arrivals: Poisson(rps: 700))],
        nodes: [Station(id: "q", servers: 1, service: Constant("1ms"))])"#,
    );
    let rs8 = reports(&m, 8, 300.0, 10.0);
    let wq = stat(&rs8, |r| r.nodes["q"].mean_wait_ms.unwrap());
    assert_agrees("M/D/1 Wq", wq, 1e3 * 0.7 / (2.0 * 1000.0 * 0.3), 0.0, 0.015);
}

#[test]
fn mg1_pollaczek_khinchine() {
    // Uniform(0.5ms, 1.5ms): E[S] = 1 ms, E[S^2] = 13/12 ms^2.
    // Wq = lambda E[S^2] / (2 (1 - rho)).
    let m = model(
        r#"Topology(name: "M/G/1", sources: [Source(id: "s", to: "q", arrivals: Poisson(rps: 700))],
        nodes: [Station(id: "q", servers: 1, service: Uniform(min: "500us", max: "1500us"))])"#,
    );
    let rs8 = reports(&m, 8, 300.0, 10.0);
    let es2 = 13.0 / 12.0 * 1e-6;
    let wq = stat(&rs8, |r| r.nodes["q"].mean_wait_ms.unwrap());
    assert_agrees(
        "M/G/1 (uniform) Wq",
        wq,
        1e3 * 700.0 * es2 / (2.0 * 0.3),
        0.0,
        0.015,
    );

    // LogNormal with mean 1 ms and std 1.5 ms: E[S^2] = 1 + 2.25 = 3.25 ms^2.
    // Heavier tail, so more replications for the same sharpness.
    let m = model(
        r#"Topology(name: "M/G/1", sources: [Source(id: "s", to: "q", arrivals: Poisson(rps: 500))],
        nodes: [Station(id: "q", servers: 1, service: LogNormal(mean: "1ms", std: "1500us"))])"#,
    );
    let rs16 = reports(&m, 16, 300.0, 10.0);
    let es2 = 3.25e-6;
    let wq = stat(&rs16, |r| r.nodes["q"].mean_wait_ms.unwrap());
    assert_agrees(
        "M/G/1 (lognormal) Wq",
        wq,
        1e3 * 500.0 * es2 / (2.0 * 0.5),
        0.0,
        0.02,
    );
}

#[test]
fn mmcc_erlang_b() {
    // 5 servers, no waiting room, offered load 4 Erlangs: blocking = B(5, 4).
    let m = model(
        r#"Topology(name: "M/M/5/5", sources: [Source(id: "s", to: "q", arrivals: Poisson(rps: 4000))],
        nodes: [Station(id: "q", servers: 5, queue: 0, service: Exponential(mean: "1ms"))])"#,
    );
    let rs8 = reports(&m, 8, 60.0, 1.0);
    let b = stat(&rs8, |r| r.nodes["q"].blocking);
    assert_agrees("Erlang B", b, erlang_b(5, 4.0), 0.0, 0.01);
    // Nobody waits; carried load is a (1 - B) spread over 5 servers.
    let u = stat(&rs8, |r| r.nodes["q"].utilization);
    assert_agrees(
        "M/M/5/5 utilization",
        u,
        4.0 * (1.0 - erlang_b(5, 4.0)) / 5.0,
        0.0,
        0.005,
    );
    let r = crate::common::run(&m, 1, 10.0, 1.0);
    assert_eq!(r.nodes["q"].mean_queue_len, 0.0);
    assert_eq!(r.end_to_end.dropped, r.nodes["q"].dropped);
}

#[test]
fn mm1k_blocking_and_occupancy() {
    // K = 5 in the system (1 in service + 4 waiting), rho 0.9.
    let m = model(
        r#"Topology(name: "M/M/1/5", sources: [Source(id: "s", to: "q", arrivals: Poisson(rps: 900))],
        nodes: [Station(id: "q", servers: 1, queue: 4, service: Exponential(mean: "1ms"))])"#,
    );
    let rs8 = reports(&m, 8, 120.0, 1.0);
    let (rho, k) = (0.9f64, 5);
    let pk = (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1));
    let l = rho / (1.0 - rho) - (k as f64 + 1.0) * rho.powi(k + 1) / (1.0 - rho.powi(k + 1));
    let b = stat(&rs8, |r| r.nodes["q"].blocking);
    assert_agrees("M/M/1/K blocking", b, pk, 0.0, 0.01);
    let got_l = stat(&rs8, |r| r.nodes["q"].mean_in_system);
    assert_agrees("M/M/1/K L", got_l, l, 0.0, 0.01);
}

#[test]
fn open_jackson_network() {
    // A (M/M/1, 1 ms) sends 50% to B (M/M/1, 3 ms), 30% to C (M/M/2, 10 ms),
    // 20% out; C sends 25% back to A. External arrivals 400/s at A.
    // Traffic equations: lA = 400 + 0.25 lC, lB = 0.5 lA, lC = 0.3 lA.
    let m = model(
        r#"Topology(name: "Jackson", sources: [Source(id: "s", to: "a", arrivals: Poisson(rps: 400))],
        nodes: [
            Station(id: "a", servers: 1, service: Exponential(mean: "1ms"), routes: [Route(to: "b", p: 0.5), Route(to: "c", p: 0.3)]),
            Station(id: "b", servers: 1, service: Exponential(mean: "3ms")),
            Station(id: "c", servers: 2, service: Exponential(mean: "10ms"), routes: [Route(to: "a", p: 0.25)]),
        ])"#,
    );
    let rs8 = reports(&m, 8, 200.0, 10.0);
    let la = 400.0 / (1.0 - 0.25 * 0.3);
    let (lb, lc) = (0.5 * la, 0.3 * la);
    let rates = m.visit_rates(&m.base_rates()).unwrap();
    assert!(
        (rates[0] - la).abs() < 1e-6
            && (rates[1] - lb).abs() < 1e-6
            && (rates[2] - lc).abs() < 1e-6
    );
    let wa = mmc_w(1, la, 1000.0);
    let wb = mmc_w(1, lb, 1000.0 / 3.0);
    let wc = mmc_w(2, lc, 100.0);
    for (id, w) in [("a", wa), ("b", wb), ("c", wc)] {
        let got = stat(&rs8, |r| r.nodes[id].mean_sojourn_ms.unwrap());
        assert_agrees(&format!("Jackson W at {id}"), got, 1e3 * w, 0.0, 0.015);
    }
    // End to end: the sum over nodes of visits per request times W.
    let e2e = 1e3 * (la * wa + lb * wb + lc * wc) / 400.0;
    let got = stat(&rs8, |r| r.end_to_end.mean_ms.unwrap());
    assert_agrees("Jackson end-to-end W", got, e2e, 0.0, 0.015);
    let thr = stat(&rs8, |r| r.nodes["a"].throughput_rps);
    assert_agrees("Jackson throughput at a", thr, la, 0.0, 0.005);
}

#[test]
fn station_with_feedback() {
    // M/M/1 where half the requests come back for another round: the
    // effective rate is 300 / (1 - 0.5) = 600/s, each visit takes
    // 1 / (1000 - 600) s, and a request makes 2 visits on average.
    let m = model(
        r#"Topology(name: "Feedback", sources: [Source(id: "s", to: "q", arrivals: Poisson(rps: 300))],
        nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "1ms"), routes: [Route(to: "q", p: 0.5)])])"#,
    );
    let rs8 = reports(&m, 8, 200.0, 10.0);
    let visit = stat(&rs8, |r| r.nodes["q"].mean_sojourn_ms.unwrap());
    assert_agrees("feedback W per visit", visit, 2.5, 0.0, 0.015);
    let e2e = stat(&rs8, |r| r.end_to_end.mean_ms.unwrap());
    assert_agrees("feedback end-to-end W", e2e, 5.0, 0.0, 0.015);
    let u = stat(&rs8, |r| r.nodes["q"].utilization);
    assert_agrees("feedback utilization", u, 0.6, 0.0, 0.005);
}

// ---------------------------------------------------------------------------
// The theory lens (issue 15): the report's own predictions beside its
// measurements, agreeing on the journey at moderate load and flagging the
// walls with the cause the engine counted.

proptest! {
    #[test]
    fn formulas_stay_probabilities_and_move_the_right_way(
        c in 1u32..2_000,
        rho in 0.0f64..1.5,
        extra in 0u64..5_000,
    ) {
        let lam = rho * c as f64;
        let b = erlang::erlang_b(c, lam);
        prop_assert!((0.0..=1.0).contains(&b));
        match erlang::mmc(c, lam, 1.0) {
            Ok(p) => {
                prop_assert!(rho < 1.0);
                prop_assert!((0.0..=1.0).contains(&p.p_wait) && p.p_wait >= b - 1e-12);
                prop_assert!(p.wait.is_finite() && p.wait >= 0.0);
                // More load, more waiting.
                let more = erlang::mmc(c, lam * 0.99, 1.0).unwrap();
                prop_assert!(more.wait <= p.wait + 1e-12);
            }
            Err(u) => prop_assert!(rho >= 1.0 && u.rho >= 1.0),
        }
        let k = c as u64 + extra;
        let q = mmck::mmck(c, k, lam, 1.0).unwrap();
        for v in [q.blocking, q.utilization] {
            prop_assert!((0.0..=1.0).contains(&v), "{v}");
        }
        prop_assert!(q.queue_len.is_finite() && q.queue_len >= 0.0 && q.queue_len <= extra as f64 + 1e-6);
        prop_assert!(q.wait.is_finite() && q.wait >= 0.0);
        // More room, fewer turned away; more load, more.
        let roomier = mmck::mmck(c, k + 10, lam, 1.0).unwrap();
        prop_assert!(roomier.blocking <= q.blocking + 1e-12);
        let busier = mmck::mmck(c, k, lam * 1.1 + 0.01, 1.0).unwrap();
        prop_assert!(busier.blocking >= q.blocking - 1e-12);
    }
}

/// A run without the Little's-law check of `common::run` (the lens judges
/// for itself).
fn lens_run(m: &bottleneck::model::Model, secs: f64, warmup: f64) -> bottleneck::report::Report {
    use bottleneck::sim::{RunConfig, Simulation};
    use bottleneck::time::{Duration, SEC};
    let mut sim = Simulation::new(
        m,
        RunConfig {
            seed: 1,
            warmup: Duration((warmup * SEC as f64) as u64),
            ..RunConfig::default()
        },
    );
    sim.step_until(((warmup + secs) * SEC as f64) as u64)
        .unwrap();
    sim.report()
}

fn scaled(text: &str, to: f64, secs: f64) -> bottleneck::report::Report {
    // Scale the sources so the busiest queueing node runs at about `to`.
    let mut m = model(text);
    let first = lens_run(&m, 20.0, 4.0);
    let busiest = first
        .nodes
        .0
        .iter()
        .filter(|(_, r)| r.theory.as_ref().is_some_and(|t| t.model.is_some()))
        .map(|(_, r)| r.utilization)
        .fold(0.0, f64::max);
    let f = (to / busiest.max(0.01)).min(5.0);
    for s in &mut m.sources {
        s.rps *= f;
    }
    lens_run(&m, secs, secs / 6.0)
}

#[test]
fn on_the_journey_at_moderate_load_theory_and_simulation_agree() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/journey");
    let mut judged = 0;
    for stage in [
        "01-single-server",
        "02-web-and-database",
        "03-load-balancer",
        "04-read-replicas",
        "05-cache",
        "08-shards",
    ] {
        let text = std::fs::read_to_string(dir.join(format!("{stage}.ron"))).unwrap();
        let r = scaled(&text, 0.7, 30.0);
        for (id, n) in &r.nodes.0 {
            let t = n.theory.as_ref().expect("every node has a theory section");
            assert!(
                !matches!(t.verdict, Verdict::Diverges | Verdict::Unstable),
                "{stage} `{id}` at {:.0}%: {:?} {:?} {:?}",
                n.utilization * 100.0,
                t.verdict,
                t.off,
                t.causes
            );
            if t.verdict == Verdict::Agrees {
                judged += 1;
                let line = says(n).unwrap();
                assert!(
                    line.starts_with("theory says: ρ ") && line.ends_with("within tolerance"),
                    "{line}"
                );
            }
            if bottleneck::kind::Kind::from_name(&n.kind)
                .unwrap()
                .routes_only()
            {
                assert_eq!(t.verdict, Verdict::NotAQueue);
                assert_eq!(says(n), None);
            }
        }
        // The network estimate agrees with the measured mean (stage 8
        // publishes to a queue: fire and forget, its work left out).
        if stage == "08-shards" {
            assert!(r.theory.note.contains("publishes"), "{}", r.theory.note);
        }
        assert_eq!(r.theory.verdict, Verdict::Agrees, "{stage}: {:?}", r.theory);
        let (est, got) = (r.theory.mean_ms.unwrap(), r.end_to_end.mean_ms.unwrap());
        assert!(
            (est - got).abs() <= lens::END_TO_END_REL * est,
            "{stage}: {est} vs {got}"
        );
    }
    assert!(judged >= 15, "{judged} nodes judged");
}

#[test]
fn at_moderate_load_the_prediction_has_teeth() {
    // Stage 1 at 80%: the wait is well above the floor, and the report's
    // prediction is Allen-Cunneen's number.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/journey");
    let text = std::fs::read_to_string(dir.join("01-single-server.ron")).unwrap();
    let r = scaled(&text, 0.85, 120.0);
    let n = &r.nodes["server"];
    let t = n.theory.as_ref().unwrap();
    assert_eq!(t.model.as_deref(), Some("M/G/8"));
    let lam = n.arrivals as f64 / r.measured_s;
    let p = erlang::mgc(8, lam, 0.012, t.scv.unwrap()).unwrap();
    assert!((t.wait_ms.unwrap() - p.wait * 1e3).abs() < 1e-9);
    assert!(t.wait_ms.unwrap() > 0.3 * 12.0, "{:?}", t.wait_ms);
    assert_eq!(t.verdict, Verdict::Agrees, "{:?}", t.off);
}

fn wall(name: &str) -> bottleneck::report::Report {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/walls");
    let p = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(name))
        .unwrap();
    let s =
        bottleneck::scenario::parse(&p.display().to_string(), &std::fs::read(&p).unwrap()).unwrap();
    let t = p.parent().unwrap().join(&s.topology);
    let l =
        bottleneck::topology::load(&t.display().to_string(), &std::fs::read(&t).unwrap()).unwrap();
    let plan = s.plan(&l.model).unwrap();
    bottleneck::scenario::run(&plan, &l.model, s.seed, false).report
}

fn flagged(r: &bottleneck::report::Report, node: &str, cause: &str) -> String {
    let t = r.nodes[node].theory.as_ref().unwrap();
    assert!(
        matches!(t.verdict, Verdict::Diverges | Verdict::Unstable),
        "`{node}` not flagged: {t:?}"
    );
    assert!(
        t.causes.iter().any(|c| c.contains(cause)),
        "`{node}`: no cause `{cause}` in {:?}",
        t.causes
    );
    let line = says(&r.nodes[node]).unwrap();
    assert!(line.contains("why: "), "{line}");
    line
}

#[test]
fn a_retry_storm_is_flagged_as_retries_and_wasted_work() {
    let r = wall("6a");
    flagged(&r, "api", "retries amplified the arrival rate");
    flagged(&r, "api", "client had already timed out (wasted work)");
    let t = r.nodes["api"].theory.as_ref().unwrap();
    assert!(
        t.off.iter().any(|o| o.starts_with("arrivals")),
        "{:?}",
        t.off
    );
}

#[test]
fn a_stampede_is_flagged_at_the_database_as_cache_misses_and_a_spike() {
    let r = wall("2a");
    flagged(&r, "db", "the cache `redis` answered");
    flagged(&r, "db", "misses reaching here ranged from");
    flagged(&r, "db", "traffic was not steady");
}

#[test]
fn pool_exhaustion_is_flagged_as_waiting_for_connections() {
    let r = wall("1a");
    flagged(&r, "app", "pool connection");
}

/// The tail at scale: the slowest of 100 leaves with a 1% tail of 1 s is
/// predicted from the leaves' own distribution (about 650 ms), so the
/// frontend's wait and the end-to-end mean agree; before, the legs were
/// taken as exponential (103 ms) and a heavy tail was the cause.
#[test]
fn the_tail_at_scale_is_predicted_from_the_leaves_tail() {
    let r = wall("8a");
    let t = r.nodes["frontend"].theory.as_ref().unwrap();
    assert!(!t.off.iter().any(|o| o.contains("parallel calls")), "{t:?}");
    assert!(
        r.theory
            .note
            .contains("waits for the slowest of 100 parallel calls to `leaves`"),
        "{}",
        r.theory.note
    );
    assert_eq!(r.theory.verdict, Verdict::Agrees, "{:?}", r.theory);
    // The leaves themselves behave as their queue predicts.
    assert_eq!(
        r.nodes["leaves"].theory.as_ref().unwrap().verdict,
        Verdict::Agrees
    );
}

#[test]
fn an_unbounded_queue_past_capacity_gets_words_not_a_number() {
    let r = run(
        &model(
            r#"Topology(name: "over", sources: [Source(id: "s", to: "q", arrivals: Poisson(rps: 150))],
               nodes: [Station(id: "q", servers: 1, service: Exponential(mean: "10ms"))])"#,
        ),
        1,
        20.0,
        2.0,
    );
    let t = r.nodes["q"].theory.as_ref().unwrap();
    assert_eq!(t.verdict, Verdict::Unstable);
    assert_eq!((t.wait_ms, t.sojourn_ms, t.utilization), (None, None, None));
    assert!(t.offered_load.unwrap() > 1.3);
    let line = says(&r.nodes["q"]).unwrap();
    assert!(
        line.contains("unstable (ρ ≥ 1): arrivals exceed capacity"),
        "{line}"
    );
    assert!(
        r.to_table()
            .contains("theory: q: unstable (ρ ≥ 1): arrivals exceed capacity")
    );
    assert_eq!(r.theory.verdict, Verdict::Unstable);
    assert_eq!(r.theory.mean_ms, None);
}
