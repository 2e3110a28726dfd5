//! Stability Sim's eight examples (topologies/stability/): each scenario's
//! timeline played on its topology, and the physics checked against the
//! numbers the mechanism predicts (fluid models, capacities, fixed points),
//! over several seeds where the effect is random; then each scenario's own
//! thresholds judged, as `bottleneck check` does.

use bottleneck::metrics::WindowRecord;
use bottleneck::model::Model;
use bottleneck::report::Report;
use bottleneck::scenario::{self, Player};
use bottleneck::sim::{RunConfig, Simulation};
use bottleneck::time::Duration;
use std::path::Path;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/stability");

/// A played scenario: the simulation at its end, with its model.
struct Played {
    sim: Simulation,
    model: Model,
}

impl Played {
    /// Per-second end-to-end records.
    fn e2e(&self) -> Vec<WindowRecord> {
        self.sim.end_to_end_series().records().cloned().collect()
    }

    /// Per-second records of node `id`.
    fn node(&self, id: &str) -> Vec<WindowRecord> {
        let i = self.model.node_index(id).unwrap();
        self.sim.series(i).records().cloned().collect()
    }

    fn report(&self) -> Report {
        self.sim.report()
    }
}

/// The windows from second `a` to second `b`.
fn span(w: &[WindowRecord], a: u64, b: u64) -> &[WindowRecord] {
    let (a, b) = (a as usize, (b as usize).min(w.len()));
    &w[a..b]
}

fn sum(w: &[WindowRecord], f: impl Fn(&WindowRecord) -> u64) -> u64 {
    w.iter().map(f).sum()
}

fn mean(w: &[WindowRecord], f: impl Fn(&WindowRecord) -> f64) -> f64 {
    w.iter().map(f).sum::<f64>() / w.len() as f64
}

fn load(name: &str) -> (scenario::Scenario, Model) {
    let path = Path::new(DIR).join(format!("{name}.scenario.ron"));
    let text = std::fs::read_to_string(&path).unwrap();
    let s =
        scenario::parse_str(&path.display().to_string(), &text).unwrap_or_else(|d| panic!("{d}"));
    let top = path.parent().unwrap().join(&s.topology);
    let t = std::fs::read(&top).unwrap();
    let m = bottleneck::topology::load(&top.display().to_string(), &t)
        .unwrap_or_else(|d| panic!("{d}"))
        .model;
    (s, m)
}

/// Plays scenario `name` with `seed` to its end, one-second windows.
fn play(name: &str, seed: u64) -> Played {
    let (s, model) = load(name);
    let plan = s.plan(&model).unwrap_or_else(|d| panic!("{d}"));
    let mut sim = Simulation::new(
        &model,
        RunConfig {
            seed,
            warmup: Duration(0),
            ..RunConfig::default()
        },
    );
    Player::new(&plan)
        .step_until(&mut sim, s.duration.0)
        .unwrap();
    Played { sim, model }
}

/// The scenario's own thresholds pass (or fail where it expects them to).
fn judged(name: &str) {
    let (s, model) = load(name);
    let plan = s.plan(&model).unwrap();
    let o = scenario::run(&plan, &model, s.seed, false);
    assert!(o.error.is_none(), "{name}: {:?}", o.error);
    let v = scenario::judge(&s, &[o]);
    assert!(v.as_expected(), "{name}: {v:?}");
}

#[test]
fn every_example_has_its_scenario_and_passes_it() {
    let mut n = 0;
    for e in std::fs::read_dir(DIR).unwrap() {
        let p = e.unwrap().path();
        let f = p.file_name().unwrap().to_str().unwrap().to_string();
        if let Some(name) = f.strip_suffix(".scenario.ron") {
            judged(name);
            n += 1;
        } else {
            let stem = f.strip_suffix(".ron").unwrap();
            assert!(
                Path::new(DIR).join(format!("{stem}.scenario.ron")).exists(),
                "{f} has no scenario"
            );
        }
    }
    // Eight examples and five controls.
    assert_eq!(n, 13);
}

#[test]
fn the_retry_storm_outlives_the_crash_and_without_retries_it_recovers() {
    for seed in 1..=3 {
        let p = play("metastable-retry", seed);
        let e = p.e2e();
        let late = span(&e, 20, 60);
        assert_eq!(
            sum(late, |w| w.good),
            0,
            "seed {seed}: goodput after the crash"
        );
        // Every request sends all 4 attempts: 280/s against 100/s. Each
        // station gets 140/s and serves 50/s: its queue grows by 90/s.
        let r = p.report();
        // (Over the whole run, the first calm seconds included.)
        assert!(
            r.end_to_end.amplification > 3.2,
            "seed {seed}: {}",
            r.end_to_end.amplification
        );
        for id in ["a", "b"] {
            let q = p.node(id);
            let growth = (mean(span(&q, 55, 60), |w| w.mean_queue_len)
                - mean(span(&q, 25, 30), |w| w.mean_queue_len))
                / 30.0;
            assert!(
                (75.0..105.0).contains(&growth),
                "seed {seed}: {id} queue grows {growth}/s"
            );
            let served = sum(span(&q, 20, 60), |w| w.completed) as f64 / 40.0;
            assert!(
                (45.0..55.0).contains(&served),
                "seed {seed}: {id} serves {served}/s"
            );
        }
        // The control: the same crash, no retries: half fail while `a` is
        // down, then everything is answered in time.
        let c = play("metastable-retry-no-retries", seed);
        let e = c.e2e();
        let down = span(&e, 6, 10);
        let ok = sum(down, |w| w.good) as f64 / sum(down, |w| w.arrivals) as f64;
        assert!(
            (0.4..0.6).contains(&ok),
            "seed {seed}: good share while down {ok}"
        );
        let after = span(&e, 12, 59);
        assert_eq!(sum(after, |w| w.dropped), 0, "seed {seed}");
        assert!(sum(after, |w| w.good) as f64 > 0.99 * sum(after, |w| w.arrivals) as f64);
    }
}

#[test]
fn the_gc_death_spiral_settles_where_the_exponential_curve_says() {
    // All ten workers busy: each request takes 8 ms x e^4 = 437 ms, so the
    // server finishes 10 / 0.437 = 22.9 a second, whoever waits for them.
    let full = 10.0 / (0.008 * 4f64.exp());
    for seed in 1..=4 {
        let p = play("gc-death-spiral", seed);
        let app = p.node("app");
        let rate = sum(span(&app, 20, 60), |w| w.completed) as f64 / 40.0;
        assert!(
            (rate - full).abs() < 0.1 * full,
            "seed {seed}: {rate}/s vs {full:.1}/s"
        );
        // At 80/s it needs no burst: collapsed within seconds, well before
        // the burst at 10 s (a rare lucky request gets through).
        let e = p.e2e();
        let early = span(&e, 5, 10);
        assert!(
            sum(early, |w| w.good) * 100 <= sum(early, |w| w.arrivals),
            "seed {seed}"
        );
        let late = span(&e, 10, 60);
        assert!(
            sum(late, |w| w.good) * 200 <= sum(late, |w| w.arrivals),
            "seed {seed}"
        );
        // At 30/s the calm state holds until the burst, which tips it for good.
        let c = play("gc-death-spiral-30rps", seed);
        let e = c.e2e();
        let before = span(&e, 0, 10);
        assert!(
            sum(before, |w| w.dropped) * 200 <= sum(before, |w| w.arrivals),
            "seed {seed}"
        );
        assert!(mean(span(&c.node("app"), 0, 10), |w| w.utilization) < 0.5);
        let after = span(&e, 15, 60);
        assert!(
            sum(after, |w| w.good) * 200 <= sum(after, |w| w.arrivals),
            "seed {seed}"
        );
    }
}

#[test]
fn pool_exhaustion_recovers_as_soon_as_the_spike_ends() {
    for seed in 1..=3 {
        let p = play("pool-exhaustion", seed);
        // Spiked and saturated: 75 ms x (1 + 4) = 375 ms a query on 20
        // connections, 53 a second.
        let db = p.node("db");
        let spiked = sum(span(&db, 10, 13), |w| w.completed) as f64 / 3.0;
        assert!(
            (spiked - 53.3).abs() < 8.0,
            "seed {seed}: {spiked}/s during the spike"
        );
        assert!(mean(span(&db, 10, 13), |w| w.utilization) > 0.95);
        // Within two seconds of its end: 5 ms queries, nothing lost.
        let e = p.e2e();
        let after = span(&e, 15, 59);
        assert_eq!(sum(after, |w| w.dropped), 0, "seed {seed}");
        assert_eq!(sum(after, |w| w.good), sum(after, |w| w.completed));
        assert!(mean(span(&db, 15, 60), |w| w.utilization) < 0.1);
    }
}

#[test]
fn the_cache_stampede_stays_below_the_slowed_database_peak() {
    for seed in 1..=3 {
        let p = play("cache-stampede", seed);
        let r = p.report();
        // 80 of 100 uniform keys under LRU: 80% hits (the 5 s TTL hardly
        // matters: an entry lasts about 0.8 s between uses before eviction).
        let c = r.nodes["cache"].cache.clone().unwrap();
        let hit = c.hit_ratio.unwrap();
        assert!((hit - 0.8).abs() < 0.02, "seed {seed}: hit ratio {hit}");
        // During the spike: misses m a second, each 100 ms x (1 + 3u^2) on
        // 20 connections, u = (k + 1) / 20 for a query that finds k busy.
        // Far from full, the number busy is Poisson with mean L (M/G/inf),
        // so E[(k+1)^2] = (L+1)^2 + L and L = m x 0.1 x (1 + 3 E[u^2]).
        let db = p.node("db");
        let m = sum(span(&db, 11, 15), |w| w.arrivals) as f64 / 4.0;
        let mut l = 5.0;
        for _ in 0..100 {
            l = m * 0.1 * (1.0 + 3.0 * ((l + 1.0) * (l + 1.0) + l) / 400.0);
        }
        let u = l / 20.0;
        let measured = mean(span(&db, 11, 15), |w| w.utilization);
        // The curve's feedback widens the swings (a busier database is
        // slower, so busier still), which pushes the mean up, but it stays
        // well below the peak at u = 0.58, past which it would run away.
        assert!(
            measured > u - 0.05 && measured < 0.5,
            "seed {seed}: u {measured} vs fixed point {u} ({m} misses/s)"
        );
        // Below the most the slowed database can serve, 200u/(1+3u^2) at
        // u = 0.58: 58/s. It would tip above that.
        assert!(m < 50.0, "seed {seed}: {m} misses/s");
        assert!(mean(span(&db, 20, 60), |w| w.utilization) < 0.05);
        assert_eq!(r.end_to_end.dropped, 0, "seed {seed}");
    }
}

#[test]
fn after_a_cache_flush_keys_return_late_and_the_database_stays_saturated() {
    let (mut late, mut worst_sum) = (0.0, 0.0);
    for seed in 1..=3 {
        let p = play("cache-flush", seed);
        // Saturated: 500 ms x (1 + 5) = 3 s a query on 30 connections: 10/s.
        let db = p.node("db");
        let rate = sum(span(&db, 15, 60), |w| w.completed) as f64 / 45.0;
        assert!((rate - 10.0).abs() < 1.5, "seed {seed}: db {rate}/s");
        assert!(mean(span(&db, 15, 60), |w| w.utilization) > 0.99);
        // The backlog, of reads whose clients gave up, grows to thousands.
        let q = mean(span(&db, 55, 60), |w| w.mean_queue_len);
        assert!(q > 2000.0, "seed {seed}: {q} queued at the end");
        // Yet keys came back, filled by late answers (a key refilled early
        // expires 30 s later and misses into the long queue again: a
        // second, slower wave begins before 60 s).
        let r = p.report();
        let c = r.nodes["cache"].cache.clone().unwrap();
        assert!(c.keys >= 25, "seed {seed}: {c:?}");
        assert!(c.read_through.unwrap().late_fills >= 40, "seed {seed}");
        // Goodput dips after the flush and comes back as keys return; how
        // soon depends on the order the first misses queued (5 to 40 s).
        let e = p.e2e();
        let share = |a: u64| {
            let w = span(&e, a, a + 5);
            sum(w, |x| x.good) as f64 / sum(w, |x| x.arrivals) as f64
        };
        let worst = (10..40).step_by(5).map(share).fold(1.0, f64::min);
        assert!(worst < 0.8, "seed {seed}: worst share {worst}");
        worst_sum += worst;
        late += (40..55).step_by(5).map(share).sum::<f64>() / 3.0;
    }
    assert!(
        worst_sum / 3.0 < 0.5,
        "mean worst share {}",
        worst_sum / 3.0
    );
    assert!(
        late / 3.0 > 0.7,
        "mean good share from 40 s: {}",
        late / 3.0
    );
}

#[test]
fn at_full_utilization_timeouts_come_in_bursts_without_a_fault() {
    // Critically loaded M/M/10: the backlog wanders with no drift, past
    // 1 s of work in most minutes; at 80% it does not.
    let (mut bursty, mut timeouts, mut full_requests) = (0, 0, 0);
    let (mut control_timeouts, mut requests) = (0, 0);
    for seed in 1..=8 {
        let p = play("timeout-cascade", seed);
        let e = p.e2e();
        // (A client that gives up drops its request: `dropped`.)
        if e.iter().filter(|w| w.dropped >= 10).count() >= 3 {
            bursty += 1;
        }
        let r = p.report();
        assert!(r.nodes["srv"].utilization > 0.95);
        timeouts += r.end_to_end.timed_out;
        full_requests += r.end_to_end.arrivals;
        let c = play("timeout-cascade-control", seed);
        let r = c.report();
        control_timeouts += r.end_to_end.timed_out;
        requests += r.end_to_end.arrivals;
    }
    assert!(bursty >= 3, "{bursty} of 8 seeds with bursts of timeouts");
    assert!(
        timeouts * 20 > full_requests,
        "{timeouts} timeouts of {full_requests} at 100%"
    );
    assert!(
        control_timeouts * 1000 < requests,
        "{control_timeouts} timeouts at 80%"
    );
}

#[test]
fn a_crashed_backend_sinks_least_connections_traffic_but_not_round_robin() {
    for seed in 1..=3 {
        let share = |p: &Played| {
            let a = sum(span(&p.node("srv-a"), 9, 17), |w| w.arrivals) as f64;
            let all: u64 = ["srv-a", "srv-b", "srv-c"]
                .iter()
                .map(|id| sum(span(&p.node(id), 9, 17), |w| w.arrivals))
                .sum();
            a / all as f64
        };
        let lc = play("lb-sinkholing", seed);
        let s = share(&lc);
        assert!(s > 0.7, "seed {seed}: dead backend's share {s}");
        let e = lc.e2e();
        let crash = span(&e, 9, 17);
        let good = sum(crash, |w| w.good) as f64 / sum(crash, |w| w.arrivals) as f64;
        assert!(good < 0.4, "seed {seed}: {good}");
        // The bucket's 10 tokens go at once and successes are few: about as
        // many retries as successes in the crash.
        let r = lc.report();
        assert!(
            r.end_to_end.retries < 600,
            "seed {seed}: {}",
            r.end_to_end.retries
        );
        let rr = play("lb-sinkholing-round-robin", seed);
        let s = share(&rr);
        assert!((s - 1.0 / 3.0).abs() < 0.05, "seed {seed}: round robin {s}");
        assert_eq!(rr.report().end_to_end.dropped, 0, "seed {seed}");
    }
}

#[test]
fn a_stale_queue_keeps_throughput_and_kills_goodput() {
    for seed in 1..=3 {
        let p = play("goodput-collapse", seed);
        let srv = p.node("srv");
        // 3x slower: 33/s served, 90/s arriving, for 8 s: about 450 queued.
        let q = mean(span(&srv, 15, 17), |w| w.mean_queue_len);
        assert!(
            (300.0..650.0).contains(&q),
            "seed {seed}: {q} queued at 16 s"
        );
        // Then it drains at 100 - 90 = 10/s (Poisson noise over 30 s).
        let drain = (mean(span(&srv, 20, 22), |w| w.mean_queue_len)
            - mean(span(&srv, 48, 50), |w| w.mean_queue_len))
            / 28.0;
        assert!(
            (4.0..16.0).contains(&drain),
            "seed {seed}: drains {drain}/s"
        );
        // Throughput at capacity, goodput zero.
        let thr = sum(span(&srv, 20, 50), |w| w.completed) as f64 / 30.0;
        assert!((thr - 100.0).abs() < 8.0, "seed {seed}: {thr}/s");
        let e = p.e2e();
        let stale = span(&e, 12, 50);
        assert!(
            sum(stale, |w| w.good) * 200 <= sum(stale, |w| w.arrivals),
            "seed {seed}"
        );
        // Bounded at 90 places: no stale backlog, goodput back after it.
        let b = play("goodput-collapse-bounded", seed);
        let e = b.e2e();
        let after = span(&e, 20, 59);
        assert!(sum(after, |w| w.good) as f64 > 0.99 * sum(after, |w| w.completed) as f64);
        // (At 90% a bounded queue still turns a few away.)
        assert!(
            sum(after, |w| w.dropped) * 100 < sum(after, |w| w.arrivals),
            "seed {seed}"
        );
    }
}
