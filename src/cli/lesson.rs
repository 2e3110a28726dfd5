//! `bottleneck lesson`: list the lessons, print one, or run its check
//! (the topology before must fail it, the topology after must pass it).

use crate::cli::check::{self, EXIT_THRESHOLDS};
use crate::cli::out::{err, errln, out, outln};
use crate::files;
use bottleneck::lesson::{self, Lesson};
use clap::Args;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct LessonArgs {
    /// The lesson's name (its file name without `.lesson.ron`, e.g.
    /// `wall-6-retry-storm`) or a lesson file. Without it, lists the lessons.
    name: Option<String>,
    /// Run the lesson's check: its scenario on the topology before (which
    /// must fail) and after (which must pass). Exit 99 when it does not hold.
    #[arg(long)]
    check: bool,
    /// Seeds to run the check with (the scenario's seed, seed+1, ...): the
    /// lesson holds only when it holds with every one.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    replications: u32,
    /// Where the lessons are.
    #[arg(long, default_value = "topologies/lessons")]
    dir: PathBuf,
    #[command(flatten)]
    budget: check::BudgetArgs,
}

fn bad() -> ExitCode {
    ExitCode::from(crate::EXIT_BAD_INPUT)
}

/// The lesson files in `dir`, sorted.
fn files_in(dir: &Path) -> Result<Vec<PathBuf>, ExitCode> {
    let mut v: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(r) => r
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".lesson.ron"))
            .collect(),
        Err(e) => {
            errln!(
                "error: cannot read {}: {e}\n   = hint: lessons are in topologies/lessons/; run from the repository or pass --dir",
                dir.display()
            );
            return Err(bad());
        }
    };
    v.sort();
    Ok(v)
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_end_matches(".lesson.ron")
                .to_string()
        })
        .unwrap_or_default()
}

fn load(path: &Path) -> Result<Lesson, ExitCode> {
    let name = path.display().to_string();
    let bytes =
        files::read_named(path, "a lesson (.lesson.ron)", files::MAX_RON_BYTES).map_err(|ds| {
            err!("{ds}");
            bad()
        })?;
    let text = bottleneck::topology::check_text(&name, &bytes).map_err(|ds| {
        err!("{ds}");
        bad()
    })?;
    lesson::parse(&name, text).map_err(|ds| {
        err!("{ds}");
        bad()
    })
}

pub fn lesson(args: LessonArgs) -> ExitCode {
    // A lesson given as a file needs no lesson directory: its before,
    // after and check are relative to the file itself.
    let by_file = args.name.as_ref().is_some_and(|n| n.ends_with(".ron"));
    let all = if by_file {
        Vec::new()
    } else {
        match files_in(&args.dir) {
            Ok(v) => v,
            Err(c) => return c,
        }
    };
    let Some(name) = &args.name else {
        if all.is_empty() {
            errln!("error: no lessons (*.lesson.ron) in {}", args.dir.display());
            return bad();
        }
        for f in &all {
            match load(f) {
                Ok(l) => outln!("{:<32} {:<8} {}", name_of(f), l.part.to_string(), l.title),
                Err(c) => return c,
            }
        }
        outln!("\nShow one: bottleneck lesson NAME; run its check: bottleneck lesson NAME --check");
        return ExitCode::SUCCESS;
    };
    let path = if by_file {
        PathBuf::from(name)
    } else {
        match all.iter().find(|f| name_of(f) == *name) {
            Some(p) => p.clone(),
            None => {
                let names: Vec<String> = all.iter().map(|f| name_of(f)).collect();
                let close = bottleneck::diag::closest(name, names.iter().map(String::as_str))
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                errln!(
                    "error: no lesson `{name}` in {}\n   = hint: {close}`bottleneck lesson` lists them",
                    args.dir.display()
                );
                return bad();
            }
        }
    };
    let l = match load(&path) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut text = String::new();
    let _ = writeln!(text, "{} ({}): {}", name_of(&path), l.part, l.title);
    let _ = writeln!(text);
    let _ = writeln!(text, "  {}", l.text);
    let _ = writeln!(text);
    let _ = writeln!(text, "  Try: {}", l.task);
    let _ = writeln!(text);
    let _ = writeln!(text, "  before  {}", dir.join(&l.before).display());
    let _ = writeln!(text, "  after   {}", dir.join(&l.after).display());
    let _ = writeln!(text, "  check   {}", dir.join(&l.check).display());
    out!("{text}");
    if !args.check {
        outln!(
            "\n  Run the check: bottleneck lesson {} --check",
            name_of(&path)
        );
        return ExitCode::SUCCESS;
    }
    let check_path = dir.join(&l.check);
    let mut ready = Vec::new();
    for t in [&l.before, &l.after] {
        let Ok(mut r) = check::prepare(&check_path, Some(&dir.join(t))) else {
            return bad();
        };
        r.plan.config.max_events = args.budget.max_events;
        if let Err(r) = check::within_budget(&r, None, false, &args.budget) {
            check::refuse(&dir.join(t).display().to_string(), &r);
            return ExitCode::from(crate::EXIT_FAILED);
        }
        ready.push(r);
    }
    let reps = args.replications;
    let runs = check::run_all(&ready, reps, None, false);
    let c = lesson::judge(&ready[0].scenario, &runs[0], &runs[1]);
    let mut out = String::new();
    for (what, v, r) in [
        ("before", &c.before, &ready[0]),
        ("after", &c.after, &ready[1]),
    ] {
        let mut s = r.scenario.clone();
        s.name = format!("{} ({what}: {})", s.name, r.model.name);
        s.expect_fail = vec![false; s.thresholds.len()];
        let _ = writeln!(out);
        out.push_str(&check::table(&s, v, reps));
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{}: {}",
        if c.holds { "HOLDS" } else { "DOES NOT HOLD" },
        c.summary
    );
    out!("{out}");
    if c.holds {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_THRESHOLDS)
    }
}
