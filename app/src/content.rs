//! What the sandbox ships with: the journey's stages, the walls before and
//! after, the drills, and the lessons that walk through them. Compiled in,
//! so the browser build needs no files.

use crate::sandbox::Sandbox;

/// A bundled topology.
pub struct Stage {
    /// Short key (the command line's `--stage`, the URL's `#stage=`).
    pub key: &'static str,
    /// As listed in the menu.
    pub title: &'static str,
    /// Its path in the repository (saved sessions name it).
    pub file: &'static str,
    /// The RON text.
    pub text: &'static str,
}

macro_rules! stage {
    ($key:expr, $title:expr, $file:expr) => {
        Stage {
            key: $key,
            title: $title,
            file: $file,
            text: include_str!(concat!("../../", $file)),
        }
    };
}

/// The journey, in order.
pub const JOURNEY: &[Stage] = &[
    stage!(
        "single-server",
        "1. A single server",
        "topologies/journey/01-single-server.ron"
    ),
    stage!(
        "web-and-database",
        "2. Web and database",
        "topologies/journey/02-web-and-database.ron"
    ),
    stage!(
        "load-balancer",
        "3. A load balancer",
        "topologies/journey/03-load-balancer.ron"
    ),
    stage!(
        "cache-aside",
        "3b. Cache-aside: add a cache",
        "topologies/drills/03-reads-outgrow-the-database.start.ron"
    ),
    stage!(
        "read-replicas",
        "4. Read replicas",
        "topologies/journey/04-read-replicas.ron"
    ),
    stage!("cache", "5. A cache", "topologies/journey/05-cache.ron"),
    stage!("cdn", "6. A CDN", "topologies/journey/06-cdn.ron"),
    stage!(
        "queue",
        "7. A queue and workers",
        "topologies/journey/07-queue.ron"
    ),
    stage!("shards", "8. Shards", "topologies/journey/08-shards.ron"),
    stage!(
        "two-regions",
        "9. Two data centres",
        "topologies/journey/09-two-regions.ron"
    ),
];

/// The walls: (before, after).
pub const WALLS: &[(Stage, Stage)] = &[
    (
        stage!(
            "pool-exhaustion",
            "Pool exhaustion",
            "topologies/pool-exhaustion.ron"
        ),
        stage!("pooler", "... fixed: a pooler", "topologies/pooler.ron"),
    ),
    (
        stage!("stampede", "Cache stampede", "topologies/stampede.ron"),
        stage!(
            "stampede-fixed",
            "... fixed: single-flight",
            "topologies/stampede-fixed.ron"
        ),
    ),
    (
        stage!(
            "double-charge",
            "Retries that double-charge",
            "topologies/double-charge.ron"
        ),
        stage!(
            "idempotency-keys",
            "... fixed: idempotency keys",
            "topologies/idempotency-keys.ron"
        ),
    ),
    (
        stage!(
            "credential-stuffing",
            "Credential stuffing",
            "topologies/credential-stuffing.ron"
        ),
        stage!(
            "limit-per-account",
            "... fixed: limit per account",
            "topologies/limit-per-account.ron"
        ),
    ),
    (
        stage!("hot-shard", "The hot shard", "topologies/hot-shard.ron"),
        stage!(
            "hot-shard-cached",
            "... fixed: cache the hot key",
            "topologies/hot-shard-cached.ron"
        ),
    ),
    (
        stage!("retry-storm", "Retry storm", "topologies/retry-storm.ron"),
        stage!(
            "retry-storm-fixed",
            "... fixed: budget, backoff, breaker",
            "topologies/retry-storm-fixed.ron"
        ),
    ),
    (
        stage!("replica-lag", "Replica lag", "topologies/read-replicas.ron"),
        stage!(
            "read-your-writes",
            "... fixed: read-your-writes",
            "topologies/read-your-writes.ron"
        ),
    ),
    (
        stage!(
            "tail-at-scale",
            "Tail at scale",
            "topologies/tail-at-scale.ron"
        ),
        stage!(
            "hedged-requests",
            "... fixed: hedged requests",
            "topologies/hedged-requests.ron"
        ),
    ),
];

/// The web stack the benchmarks run in the sandbox (BENCHMARKS.md).
pub const WEB_STACK: Stage = stage!(
    "web-stack",
    "Web stack (cache-aside, two apps)",
    "topologies/cache-aside.ron"
);

/// The default (the CLI's too).
pub const DEFAULT: Stage = stage!(
    "default",
    "Web and database (the CLI's default)",
    "topologies/default.ron"
);

/// Every bundled stage.
pub fn all() -> impl Iterator<Item = &'static Stage> {
    JOURNEY
        .iter()
        .chain(WALLS.iter().flat_map(|(a, b)| [a, b]))
        .chain([&WEB_STACK, &DEFAULT])
}

/// The stage with this key.
pub fn find(key: &str) -> Option<&'static Stage> {
    all().find(|s| s.key == key)
}

/// A drill: its file, starting topology and hidden scenario, compiled in.
pub struct DrillFiles {
    /// The drill file.
    pub drill: &'static str,
    /// The starting topology.
    pub start: &'static str,
    /// The hidden scenario.
    pub scenario: &'static str,
}

macro_rules! drill {
    ($stem:expr) => {
        DrillFiles {
            drill: include_str!(concat!("../../topologies/drills/", $stem, ".drill.ron")),
            start: include_str!(concat!("../../topologies/drills/", $stem, ".start.ron")),
            scenario: include_str!(concat!("../../topologies/drills/", $stem, ".scenario.ron")),
        }
    };
}

/// The drills, in order of difficulty.
pub const DRILLS: &[DrillFiles] = &[
    drill!("01-front-page"),
    drill!("02-no-single-point-of-failure"),
    drill!("03-reads-outgrow-the-database"),
    drill!("04-stale-profiles"),
    drill!("05-celebrity-post"),
    drill!("06-black-friday"),
    drill!("07-charge-once"),
    drill!("08-the-slow-minute"),
    drill!("09-autoscaling-meets-the-database"),
];

/// The cost model drills are graded with.
pub const COSTS: &str = include_str!("../../topologies/drills/costs.ron");

/// Grades a topology against a drill, as `bottleneck drill` does: the
/// hidden scenario's thresholds (all must pass) and the cost model.
pub fn grade(
    d: &DrillFiles,
    topology: &bottleneck::topology::Topology,
) -> Result<bottleneck::scenario::drill::Grade, String> {
    use bottleneck::scenario::{self, drill};
    let meta = drill::parse_drill("drill.ron", d.drill).map_err(|e| e.to_string())?;
    let costs = drill::parse_costs("costs.ron", COSTS).map_err(|e| e.to_string())?;
    let sc = scenario::parse_str("hidden.scenario.ron", d.scenario).map_err(|e| e.to_string())?;
    let text = bottleneck::topology::to_ron(topology);
    let model = bottleneck::topology::load_str("yours.ron", &text)
        .map_err(|e| e.to_string())?
        .model;
    let plan = sc
        .plan(&model)
        .map_err(|e| format!("the drill's scenario does not fit your topology:\n{e}"))?;
    let outcome = scenario::run(&plan, &model, sc.seed, false);
    Ok(drill::grade(&meta, &sc, &[outcome], &model, &costs))
}

/// A lesson: a stage, what is going on, what to try, and a check that
/// says when the learner has done it.
pub struct Lesson {
    /// Title.
    pub title: &'static str,
    /// The stage it opens.
    pub stage: &'static str,
    /// What is going on.
    pub text: &'static str,
    /// What to try.
    pub task: &'static str,
    /// `Some(why)` once done.
    pub check: fn(&Sandbox) -> Option<String>,
}

fn node(s: &Sandbox, id: &str) -> Option<usize> {
    s.model.node_index(id)
}

fn healthy(s: &Sandbox, p99_ms: f64, errors: f64) -> bool {
    s.e2e.p99_ms.value < p99_ms && s.e2e.errors.value < errors && s.e2e.rps.value > 0.0
}

/// The lessons, in order.
pub const LESSONS: &[Lesson] = &[
    Lesson {
        title: "One server, until it is not",
        stage: "single-server",
        text: "Everything runs on one 8-core server. Each request takes about 12 ms of CPU, so the box tops out near 650 requests a second. Watch its colour as you push traffic: green is idle, red is saturated, and the bar under it is the queue.",
        task: "Push traffic to 1,000 rps and watch the server turn red and the p99 explode. Then give it more cores (select it, Servers +) until p99 is under 200 ms again at 1,000 rps.",
        check: |s| {
            (s.rps() >= 1_000.0 && healthy(s, 200.0, 0.001)).then(|| {
                format!(
                    "At {:.0} rps the p99 is {:.0} ms: the bigger box holds.",
                    s.rps(),
                    s.e2e.p99_ms.value
                )
            })
        },
    },
    Lesson {
        title: "No single point of failure",
        stage: "load-balancer",
        text: "Three app servers behind a load balancer that checks their health every 2 s. Losing one server is no longer an outage: after two failed probes it is out of rotation.",
        task: "Select an app server and take it down. Watch the errors spike for a few seconds, then stop. Bring it back up.",
        check: |s| {
            let down = (0..s.model.nodes.len()).any(|i| s.sim.live(i).down);
            (down && healthy(s, 200.0, 0.001)).then(|| {
                "A server is down and users do not notice: the balancer routes around it."
                    .to_string()
            })
        },
    },
    Lesson {
        title: "Cache-aside",
        stage: "cache-aside",
        text: "Three app servers share one database, and every read is a query. Reads are Zipf-skewed: a few keys are very popular, which is what a cache is for.",
        task: "Push traffic to 14,000 rps until the database turns red. Then select the database and press 'Add a cache in front'. Watch the database cool from red to green and the bottleneck move off it.",
        check: |s| {
            let has_cache = s.model.nodes.iter().any(|n| n.kind_name() == "Cache");
            let db = node(s, "db")?;
            let cooled = s.signals[db].utilization.value < 0.7;
            (has_cache && s.rps() >= 12_000.0 && cooled && healthy(s, 100.0, 0.001)).then(|| {
                format!(
                    "At {:.0} rps the database is {:.0}% busy and the p99 is {:.0} ms: the cache answers most reads.",
                    s.rps(),
                    s.signals[db].utilization.value * 100.0,
                    s.e2e.p99_ms.value
                )
            })
        },
    },
    Lesson {
        title: "The retry storm",
        stage: "retry-storm",
        text: "The API runs at 80% of its capacity. Its clients time out after 500 ms and retry at once, up to three times, and abandoned attempts are still served.",
        task: "Slow the API down x2 for half a minute, then restore it. It never recovers: retries keep it overloaded. Then open the '... fixed' stage (Walls menu) and do the same.",
        check: |s| {
            let api = node(s, "api")?;
            let restored = s.sim.changes().iter().any(|c| matches!(&c.change, bottleneck::sim::Change::Slow { factor, .. } if *factor == 1.0));
            (s.title.contains("fixed") && restored && s.sim.live(api).slow == 1.0 && healthy(s, 500.0, 0.01))
                .then(|| "Slowed and restored, and it recovered: the retry budget and the breaker let the queue drain.".to_string())
        },
    },
    Lesson {
        title: "The stampede",
        stage: "stampede",
        text: "One celebrity key takes 80% of 4,000 reads a second, and its cache entry lives 2 s. Each time it expires, every read that misses before the refill goes to the database.",
        task: "Watch the database's error badge: it refuses connections in bursts. Open '... fixed: single-flight' from the Walls menu and compare.",
        check: |s| {
            let db = node(s, "db")?;
            (s.title.contains("fixed")
                && s.signals[db].errors.value < 0.001
                && healthy(s, 100.0, 0.001))
            .then(|| "The database sees one refill per expiry: no more bursts.".to_string())
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_opens_and_lessons_name_stages() {
        for s in all() {
            Sandbox::open(s.file, s.text, 1).unwrap_or_else(|e| panic!("{}: {e}", s.file));
        }
        for l in LESSONS {
            assert!(find(l.stage).is_some(), "{}", l.stage);
        }
    }

    #[test]
    fn drills_grade_as_the_cli_does() {
        for d in DRILLS {
            let start = bottleneck::topology::load_str("s.ron", d.start)
                .unwrap()
                .model
                .topology;
            let g = grade(d, &start).unwrap();
            assert!(!g.passed, "a start topology fails its drill");
        }
        // The first drill's reference solution passes.
        let sol = include_str!("../../tests/drills/01-front-page.solution.ron");
        let t = bottleneck::topology::load_str("sol.ron", sol)
            .unwrap()
            .model
            .topology;
        assert!(grade(&DRILLS[0], &t).unwrap().passed);
    }

    #[test]
    fn the_cache_aside_lesson_is_done_by_adding_a_cache() {
        let st = find("cache-aside").unwrap();
        let mut s = Sandbox::open(st.file, st.text, 1).unwrap();
        let lesson = &LESSONS[2];
        s.speed = 1_000.0;
        s.set_rps(14_000.0);
        let mut t = 0.0;
        let mut clock = move || {
            t += 1e-4;
            t
        };
        while s.now() < 30 * bottleneck::time::SEC {
            s.advance(0.01, 10.0, &mut clock);
        }
        let db = s.model.node_index("db").unwrap();
        assert_eq!(
            s.bottleneck().map(|b| b.0),
            Some(db),
            "the database is the wall"
        );
        assert!((lesson.check)(&s).is_none());
        let (t2, what) = crate::edits::add_cache(&s.topology, "db").unwrap();
        s.restructure(t2, &what).unwrap();
        // The edit applies live: the clock goes on, the backlog drains.
        let until = s.now() + 60 * bottleneck::time::SEC;
        while s.now() < until {
            s.advance(0.01, 10.0, &mut clock);
        }
        let done = (lesson.check)(&s);
        assert!(
            done.is_some(),
            "{:?} p99 {}",
            s.bottleneck(),
            s.e2e.p99_ms.value
        );
    }
}
