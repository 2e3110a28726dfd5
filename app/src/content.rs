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
/// hidden scenario's thresholds (all must pass) and the cost model. A
/// topology that changes what the drill gives (the workload, the physics)
/// or uses a kind the cost model does not price is refused with the CLI's
/// words ([`bottleneck::scenario::drill::refusals`]).
pub fn grade(
    d: &DrillFiles,
    topology: &bottleneck::topology::Topology,
) -> Result<bottleneck::scenario::drill::Grade, String> {
    use bottleneck::scenario::{self, drill};
    let meta = drill::parse_drill("drill.ron", d.drill).map_err(|e| e.to_string())?;
    let costs = drill::parse_costs("costs.ron", COSTS).map_err(|e| e.to_string())?;
    let start = bottleneck::topology::parse("start.ron", d.start).map_err(|e| e.to_string())?;
    let refused = drill::refusals(&meta, &start, topology, &costs);
    if !refused.is_empty() {
        let mut text = String::from("Not graded: the drill gives what these change.");
        for v in refused {
            text.push_str(&format!("\n- {} ({})", v.message, v.hint));
        }
        return Err(text);
    }
    let sc = scenario::parse_str("hidden.scenario.ron", d.scenario).map_err(|e| e.to_string())?;
    let missing = drill::missing_ids(&sc, topology);
    if !missing.is_empty() {
        let mut text = String::from("Not graded: the drill's scenario names nodes by id.");
        for v in missing {
            text.push_str(&format!("\n- {} ({})", v.message, v.hint));
        }
        return Err(text);
    }
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

/// A lesson file and its check scenario, compiled in (`topologies/lessons/`).
pub struct LessonFiles {
    /// The lesson's name (its file name without `.lesson.ron`).
    pub name: &'static str,
    /// The lesson file.
    pub lesson: &'static str,
    /// Its check scenario (the file its `check` names).
    pub check: &'static str,
    /// The check's path in the repository.
    pub check_file: &'static str,
}

macro_rules! lesson {
    ($name:expr, $check:expr) => {
        LessonFiles {
            name: $name,
            lesson: include_str!(concat!("../../topologies/lessons/", $name, ".lesson.ron")),
            check: include_str!(concat!("../../topologies/", $check)),
            check_file: concat!("topologies/", $check),
        }
    };
}

/// Every lesson file, in order: the nine journey stages, then the eight walls.
pub const LESSON_FILES: &[LessonFiles] = &[
    lesson!(
        "stage-1-single-server",
        "lessons/stage-1-single-server.scenario.ron"
    ),
    lesson!(
        "stage-2-web-and-database",
        "lessons/stage-2-web-and-database.scenario.ron"
    ),
    lesson!(
        "stage-3-load-balancer",
        "lessons/stage-3-load-balancer.scenario.ron"
    ),
    lesson!(
        "stage-4-read-replicas",
        "lessons/stage-4-read-replicas.scenario.ron"
    ),
    lesson!("stage-5-cache", "lessons/stage-5-cache.scenario.ron"),
    lesson!("stage-6-cdn", "lessons/stage-6-cdn.scenario.ron"),
    lesson!("stage-7-queue", "lessons/stage-7-queue.scenario.ron"),
    lesson!("stage-8-shards", "lessons/stage-8-shards.scenario.ron"),
    lesson!("stage-9-two-regions", "journey/09-two-regions.scenario.ron"),
    lesson!("wall-1-pool-exhaustion", "walls/1b-pooler.scenario.ron"),
    lesson!("wall-2-stampede", "walls/2b-single-flight.scenario.ron"),
    lesson!(
        "wall-3-double-charge",
        "walls/3b-idempotency-keys.scenario.ron"
    ),
    lesson!(
        "wall-4-credential-stuffing",
        "walls/4b-limit-per-account.scenario.ron"
    ),
    lesson!(
        "wall-5-hot-shard",
        "walls/5b-cache-the-hot-key.scenario.ron"
    ),
    lesson!("wall-6-retry-storm", "walls/6b-retry-budget.scenario.ron"),
    lesson!(
        "wall-7-replica-lag",
        "walls/7b-read-your-writes.scenario.ron"
    ),
    lesson!(
        "wall-8-tail-at-scale",
        "walls/8b-hedged-requests.scenario.ron"
    ),
];

/// A lesson's live check: `Some(why)` once done.
pub type LiveCheck = Box<dyn Fn(&Sandbox) -> Option<String> + Send + Sync>;

/// A lesson: a stage, what is going on, what to try, and a check that
/// says when the learner has done it. Read from the lesson files
/// ([`LESSON_FILES`]); the check evaluates the lesson's check thresholds
/// (the same that `bottleneck lesson NAME --check` judges) on the running
/// sandbox.
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
    pub check: LiveCheck,
}

/// A parsed lesson file with its check.
struct Parsed {
    file: bottleneck::lesson::Lesson,
    check: bottleneck::scenario::Scenario,
    before: Option<bottleneck::topology::Topology>,
}

/// `topologies/lessons/` joined with a relative path, `..` resolved.
fn beside_lessons(rel: &str) -> String {
    let mut parts = vec!["topologies", "lessons"];
    for p in rel.split('/') {
        match p {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    parts.join("/")
}

static PARSED: std::sync::LazyLock<Vec<Parsed>> = std::sync::LazyLock::new(|| {
    LESSON_FILES
        .iter()
        .map(|f| {
            let file = bottleneck::lesson::parse(f.name, f.lesson)
                .unwrap_or_else(|e| panic!("bundled lesson {}: {e}", f.name));
            assert_eq!(beside_lessons(&file.check), f.check_file, "{}", f.name);
            let check = bottleneck::scenario::parse_str(f.check_file, f.check)
                .unwrap_or_else(|e| panic!("bundled check {}: {e}", f.check_file));
            let before = all()
                .find(|s| s.file == beside_lessons(&file.before))
                .and_then(|s| bottleneck::topology::parse(s.file, s.text).ok());
            Parsed {
                file,
                check,
                before,
            }
        })
        .collect()
});

/// The lessons, in order: the journey's stages, then the walls.
pub static LESSONS: std::sync::LazyLock<Vec<Lesson>> = std::sync::LazyLock::new(|| {
    PARSED
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let stage = [&p.file.before, &p.file.after]
                .into_iter()
                .find_map(|t| all().find(|s| s.file == beside_lessons(t)))
                .map_or("default", |s| s.key);
            Lesson {
                title: &p.file.title,
                stage,
                text: &p.file.text,
                task: &p.file.task,
                check: Box::new(move |s: &Sandbox| live_check(&PARSED[k], s)),
            }
        })
        .collect()
});

/// The lesson's check thresholds, judged on what the sandbox shows now: once
/// the learner has changed something (an edit, a fault, another stage) and
/// the traffic is at the check's rate, every threshold must hold.
fn live_check(p: &Parsed, s: &Sandbox) -> Option<String> {
    if s.e2e.rps.value <= 0.0 {
        return None;
    }
    let changed = !s.sim.changes().is_empty()
        || p.before
            .as_ref()
            .is_none_or(|b| b.nodes != s.topology.nodes || b.sources != s.topology.sources);
    if !changed {
        return None;
    }
    let load = bottleneck::lesson::Lesson::load(&p.check);
    if load.is_some_and(|r| s.rps() < 0.95 * r) {
        return None;
    }
    let mut report = None;
    let why = bottleneck::lesson::Lesson::live(&p.check, |t| {
        let node = match t.node.as_deref() {
            Some(id) => Some(s.model.node_index(id)?),
            None => None,
        };
        match (t.metric.name, node, &t.tag) {
            ("p99", None, None) => Some(s.e2e.p99_ms.value),
            ("error_rate", None, None) => Some(s.e2e.errors.value),
            ("utilization", Some(i), None) => Some(s.signals[i].utilization.value),
            ("error_rate", Some(i), None) => Some(s.signals[i].errors.value),
            _ => t.measure(report.get_or_insert_with(|| s.sim.report()), None),
        }
    })?;
    Some(format!("At {:.0} rps: {why}.", s.rps()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_opens_and_lessons_name_stages() {
        for s in all() {
            Sandbox::open(s.file, s.text, 1).unwrap_or_else(|e| panic!("{}: {e}", s.file));
        }
        assert_eq!(LESSONS.len(), 17, "nine stages and eight walls");
        for l in LESSONS.iter() {
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
        let lesson = LESSONS
            .iter()
            .find(|l| l.title == "Reads outgrow the database")
            .unwrap();
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
