//! Lessons as data: every lesson file parses, names topologies that load,
//! and its check holds (the topology before fails it, the one after passes);
//! `bottleneck lesson` lists, prints and checks them with exit codes; the
//! README's list of lessons is the files'.

use crate::common::{bottleneck, text};
use bottleneck::lesson::{self, Part};
use bottleneck::{scenario, topology};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/lessons")
}

fn lessons() -> Vec<(String, PathBuf, lesson::Lesson)> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".lesson.ron"))
        .collect();
    v.sort();
    v.into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .unwrap()
                .to_string_lossy()
                .trim_end_matches(".lesson.ron")
                .to_string();
            let l = lesson::parse(&name, &std::fs::read_to_string(&p).unwrap())
                .unwrap_or_else(|e| panic!("{e}"));
            (name, p, l)
        })
        .collect()
}

#[test]
fn every_stage_and_wall_has_one_lesson_whose_topologies_load() {
    let all = lessons();
    let parts: Vec<Part> = all.iter().map(|(_, _, l)| l.part).collect();
    let want: Vec<Part> = (1..=9)
        .map(Part::Stage)
        .chain((1..=8).map(Part::Wall))
        .collect();
    assert_eq!(parts, want, "one lesson per stage and wall, in order");
    for (name, p, l) in &all {
        let d = p.parent().unwrap();
        for t in [&l.before, &l.after] {
            let f = d.join(t);
            let bytes =
                std::fs::read(&f).unwrap_or_else(|e| panic!("{name}: {}: {e}", f.display()));
            topology::load(&f.display().to_string(), &bytes)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_ne!(l.before, l.after, "{name}");
        let c = d.join(&l.check);
        scenario::parse(&c.display().to_string(), &std::fs::read(&c).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!l.text.is_empty() && !l.task.is_empty(), "{name}");
    }
}

/// Each lesson's check, run as the CLI runs it: before fails, after passes.
#[test]
fn every_lesson_check_holds() {
    let all = lessons();
    let results: Vec<(String, lesson::Checked)> = std::thread::scope(|s| {
        let hs: Vec<_> = all
            .iter()
            .map(|(name, p, l)| {
                s.spawn(move || {
                    let d = p.parent().unwrap();
                    let c = d.join(&l.check);
                    let sc =
                        scenario::parse_str("c", &std::fs::read_to_string(&c).unwrap()).unwrap();
                    let run = |t: &str| {
                        let m =
                            topology::load_str("t", &std::fs::read_to_string(d.join(t)).unwrap())
                                .unwrap()
                                .model;
                        let plan = sc.plan(&m).unwrap_or_else(|e| panic!("{name}: {e}"));
                        vec![scenario::run(&plan, &m, sc.seed, false)]
                    };
                    (
                        name.clone(),
                        lesson::judge(&sc, &run(&l.before), &run(&l.after)),
                    )
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (name, c) in results {
        assert!(c.holds, "{name}: {}", c.summary);
        assert!(c.before.rows.iter().any(|r| !r.passed), "{name}");
        assert!(c.after.rows.iter().all(|r| r.passed), "{name}");
    }
}

#[test]
fn the_cli_lists_prints_and_checks_a_lesson() {
    let d = dir().display().to_string();
    let o = bottleneck(&["lesson", "--dir", &d]);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("stage-") || l.starts_with("wall-"))
            .count(),
        17,
        "{out}"
    );
    let o = bottleneck(&["lesson", "wall-3-double-charge", "--dir", &d]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        out.contains("Retries that double-charge") && out.contains("Try:"),
        "{out}"
    );
    let o = bottleneck(&["lesson", "wall-3-double-charge", "--check", "--dir", &d]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("HOLDS: before fails"), "{out}");
    // A check that does not hold exits 99: the same lesson, before and after swapped.
    let tmp = std::env::temp_dir().join(format!("bn-lesson-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let top = |f: &str| dir().join("..").join(f).display().to_string();
    let swapped = format!(
        r#"Lesson(title: "swapped", part: Wall(3), before: "{}", after: "{}", text: "t", try: "t", check: "{}")"#,
        top("idempotency-keys.ron"),
        top("double-charge.ron"),
        top("walls/3b-idempotency-keys.scenario.ron")
    );
    let f = tmp.join("swapped.lesson.ron");
    std::fs::write(&f, swapped).unwrap();
    let o = bottleneck(&["lesson", &f.display().to_string(), "--check"]);
    assert_eq!(
        o.status.code(),
        Some(99),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(text(&o.stdout).contains("DOES NOT HOLD"));
    // Unknown names are refused with a suggestion.
    let o = bottleneck(&["lesson", "wall-3-double-charg", "--dir", &d]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("did you mean `wall-3-double-charge`"),
        "{}",
        text(&o.stderr)
    );
}

/// The README lists every lesson, by name, in the files' order.
#[test]
fn the_readme_lists_the_lessons() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let listed: Vec<&str> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|n| n.starts_with("stage-") || n.starts_with("wall-"))
        .collect();
    let files: Vec<String> = lessons().into_iter().map(|(n, _, _)| n).collect();
    assert_eq!(listed, files);
}

#[test]
fn the_lesson_checks_are_also_plain_scenarios_as_expected() {
    // CI runs `bottleneck check topologies/**`, which finds the lessons'
    // check scenarios too: each names its "before" topology and must fail
    // exactly the thresholds it lists in `expect_fail` there.
    let out = bottleneck(&["check", "topologies/lessons"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A check that lists `expect_fail` holds only when the topology before
/// fails every listed threshold, as `bottleneck check` expects of it.
#[test]
fn a_lesson_check_honours_its_expect_fail() {
    let m = |servers: u32| {
        topology::load_str(
            "t",
            &format!(
                r#"Topology(name: "pr", sources: [Source(id: "u", to: "s", arrivals: Poisson(rps: 90))],
                    nodes: [Station(id: "s", servers: {servers}, service: Exponential(mean: "10ms"))])"#
            ),
        )
        .unwrap()
        .model
    };
    let (before, after) = (m(1), m(4));
    let judge = |expect: &str| {
        let sc = scenario::parse_str(
            "c",
            &format!(
                r#"Scenario(name: "l", topology: "t.ron", duration: "20s", warmup: "2s",
                    thresholds: ["p99 < 100ms", "error_rate < 1%"], expect_fail: [{expect}])"#
            ),
        )
        .unwrap();
        let run = |m: &bottleneck::model::Model| {
            vec![scenario::run(&sc.plan(m).unwrap(), m, sc.seed, false)]
        };
        lesson::judge(&sc, &run(&before), &run(&after))
    };
    // Before (one server at 90% busy) is slow but drops nothing.
    let slow = judge(r#""p99 < 100ms""#);
    assert!(slow.holds, "{}", slow.summary);
    let wrong = judge(r#""error_rate < 1%""#);
    assert!(!wrong.holds);
    assert!(
        wrong.summary.contains("passes `error_rate < 1%`"),
        "{}",
        wrong.summary
    );
    // Listing none: any failing threshold will do.
    assert!(judge("").holds);
}
