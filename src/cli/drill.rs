//! `bottleneck drill`: show a drill's requirement card, or grade a topology
//! against the drill's hidden scenario and cost model.

use crate::cli::check::{self, EXIT_THRESHOLDS};
use crate::cli::out::{err, errln, out, outln};
use crate::files;
use bottleneck::diag::{Diagnostic, Diagnostics};
use bottleneck::scenario::drill::{self, Costs, Drill};
use clap::Args;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct DrillArgs {
    /// A drill file (*.drill.ron), or a directory to list the drills in it.
    drill: PathBuf,
    /// Your topology, to grade. Without it, prints the requirement card.
    #[arg(long)]
    topology: Option<PathBuf>,
    /// Seeds to grade on (judged on the mean).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    replications: u32,
    /// Every threshold must hold in every replication, not only on the mean.
    #[arg(long)]
    every_replication: bool,
    /// Cost model [default: the drill's, usually topologies/drills/costs.ron].
    #[arg(long)]
    costs: Option<PathBuf>,
    /// Print the grade as JSON.
    #[arg(long)]
    json: bool,
    /// Hints to reveal when the grade fails, one at a time: `--hints 2`
    /// shows the first two.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=100))]
    hints: u32,
    #[command(flatten)]
    budget: check::BudgetArgs,
}

/// Reads a drill or cost model as text.
fn read(path: &Path, what: &str) -> Result<String, ExitCode> {
    let bad = |ds: Diagnostics| {
        err!("{ds}");
        ExitCode::from(crate::EXIT_BAD_INPUT)
    };
    let name = path.display().to_string();
    let bytes = files::read_named(path, what, files::MAX_RON_BYTES).map_err(bad)?;
    bottleneck::topology::check_text(&name, &bytes)
        .map(str::to_string)
        .map_err(bad)
}

fn load_drill(path: &Path) -> Result<Drill, ExitCode> {
    let text = read(
        path,
        "a drill (.drill.ron); drills are in topologies/drills/",
    )?;
    drill::parse_drill(&path.display().to_string(), &text).map_err(|ds| {
        err!("{ds}");
        ExitCode::from(crate::EXIT_BAD_INPUT)
    })
}

fn list(dir: &Path) -> ExitCode {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(r) => r
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".drill.ron"))
            .collect(),
        Err(e) => {
            errln!("error: cannot read {}: {e}", dir.display());
            return ExitCode::from(crate::EXIT_BAD_INPUT);
        }
    };
    files.sort();
    if files.is_empty() {
        errln!(
            "error: no drills (*.drill.ron) in {}\n   = hint: try topologies/drills/",
            dir.display()
        );
        return ExitCode::from(crate::EXIT_BAD_INPUT);
    }
    for f in files {
        match load_drill(&f) {
            Ok(d) => outln!("level {}  {:<48} {}", d.level, d.title, f.display()),
            Err(code) => return code,
        }
    }
    outln!(
        "\nShow one: bottleneck drill FILE; grade yours: bottleneck drill FILE --topology MINE.ron"
    );
    ExitCode::SUCCESS
}

pub fn drill(args: DrillArgs) -> ExitCode {
    if args.drill.is_dir() {
        return list(&args.drill);
    }
    let d = match load_drill(&args.drill) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let dir = args.drill.parent().unwrap_or(Path::new(".")).to_path_buf();
    let costs_path = args.costs.clone().unwrap_or_else(|| dir.join(&d.costs));
    let costs: Costs = match read(&costs_path, "a cost model (costs.ron)").and_then(|t| {
        drill::parse_costs(&costs_path.display().to_string(), &t).map_err(|ds| {
            err!("{ds}");
            ExitCode::from(crate::EXIT_BAD_INPUT)
        })
    }) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let start = dir.join(&d.start);
    let hidden = match hidden_scenario(&dir.join(&d.scenario)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let Some(mine) = &args.topology else {
        out!("{}", drill::card_text(&d, Some(&costs), Some(&hidden)));
        outln!();
        outln!(
            "  Start from {} (copy it and edit the copy), then grade it:",
            start.display()
        );
        outln!(
            "    bottleneck drill {} --topology mine.ron",
            args.drill.display()
        );
        outln!(
            "  The grade runs a hidden scenario against your topology and prices it with {}.",
            costs_path.display()
        );
        return ExitCode::SUCCESS;
    };
    if let Err(code) = refuse_missing_ids(&hidden, &start, mine) {
        return code;
    }
    let Ok(mut ready) = check::prepare(&dir.join(&d.scenario), Some(mine)) else {
        return ExitCode::from(crate::EXIT_BAD_INPUT);
    };
    if let Err(code) = refuse_changes(&d, &start, mine, &ready.model.topology, &costs) {
        return code;
    }
    ready.plan.config.max_events = args.budget.max_events;
    let memory = match check::within_budget(&ready, None, false, &args.budget) {
        Ok(m) => vec![m; args.replications as usize],
        Err(r) => {
            check::refuse(&mine.display().to_string(), &r);
            return ExitCode::from(crate::EXIT_FAILED);
        }
    };
    let jobs = check::parallel(None, &memory, args.budget.max_memory);
    let outcomes = check::run_all(std::slice::from_ref(&ready), args.replications, jobs, false)
        .pop()
        .unwrap_or_default();
    let rule = check::rule(args.every_replication);
    let g = drill::requirements(&d, &ready.scenario, &outcomes, &ready.model, &costs, rule);
    // The counterfactual: the same scenario and seeds without the taught fix.
    let cf = drill::counterfactual(&d, &ready.scenario, &ready.model);
    let mut cf_outcomes = Vec::new();
    if drill::needs_run(&g, &cf)
        && let Some((model, plan)) = &cf.ready
    {
        let mut plan = plan.clone();
        plan.config.max_events = args.budget.max_events;
        let cf_ready = check::Ready {
            scenario: ready.scenario.clone(),
            model: model.clone(),
            plan,
            topology: ready.topology.clone(),
        };
        cf_outcomes = check::run_all(
            std::slice::from_ref(&cf_ready),
            args.replications,
            jobs,
            false,
        )
        .pop()
        .unwrap_or_default();
    }
    let g = drill::conclude(g, &ready.scenario, rule, &cf, &cf_outcomes);
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&g).unwrap_or_default());
    } else {
        let mut out = drill::card_text(&d, Some(&costs), Some(&ready.scenario));
        let _ = writeln!(out);
        let _ = writeln!(out, "Grading {}", mine.display());
        let _ = writeln!(out);
        out.push_str(&check::table(
            &ready.scenario,
            &g.verdict,
            args.replications,
        ));
        let _ = writeln!(out, "  cost per month");
        crate::cli::cost::write_rows(
            &mut out,
            &g.costs,
            g.monthly,
            &costs,
            &format!("   (budget {})", costs.money(g.budget)),
        );
        crate::cli::cost::write_unpriced(&mut out, &costs.report(&ready.model).unpriced);
        let _ = writeln!(out);
        counterfactual_text(&mut out, &ready.scenario, &g, args.replications);
        if g.passed {
            let _ = writeln!(
                out,
                "PASS: every requirement met, at {} of a {} budget.",
                costs.money(g.monthly),
                costs.money(g.budget)
            );
        } else if g.requirements_met {
            let _ = writeln!(
                out,
                "NOT SOLVED: every requirement is met, but not because of the fix."
            );
            for r in &g.reasons {
                let _ = writeln!(out, "  - {r}");
            }
        } else {
            let _ = writeln!(out, "FAIL:");
            for r in &g.reasons {
                let _ = writeln!(out, "  - {r}");
            }
            let shown = (args.hints as usize).min(d.hints.len());
            for (k, h) in d.hints.iter().take(shown).enumerate() {
                let _ = writeln!(out, "  hint {} of {}: {h}", k + 1, d.hints.len());
            }
            if shown < d.hints.len() {
                let _ = writeln!(
                    out,
                    "  ({} more: add `--hints {}` to see the next)",
                    d.hints.len() - shown,
                    shown + 1
                );
            }
        }
        out!("{out}");
    }
    if !g.verdict.errors.is_empty() {
        ExitCode::from(crate::EXIT_FAILED)
    } else if g.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_THRESHOLDS)
    }
}

/// The drill's hidden scenario, parsed (for its card's graded rows and
/// the ids it names).
fn hidden_scenario(path: &Path) -> Result<bottleneck::scenario::Scenario, ExitCode> {
    let name = path.display().to_string();
    let bytes = files::read_named(path, "the drill's hidden scenario", files::MAX_RON_BYTES)
        .map_err(|ds| {
            err!("{ds}");
            ExitCode::from(crate::EXIT_BAD_INPUT)
        })?;
    bottleneck::scenario::parse(&name, &bytes).map_err(|ds| {
        err!("{ds}");
        ExitCode::from(crate::EXIT_BAD_INPUT)
    })
}

/// Refuses a submission without a node the hidden scenario names by id,
/// in the learner's terms, before the scenario is planned on it (which
/// would point into the hidden file). A submission that does not parse is
/// left to the loader's own error.
fn refuse_missing_ids(
    hidden: &bottleneck::scenario::Scenario,
    start: &Path,
    mine: &Path,
) -> Result<(), ExitCode> {
    let Ok(text) = std::fs::read_to_string(mine) else {
        return Ok(());
    };
    let Ok(topology) = bottleneck::topology::parse(&mine.display().to_string(), &text) else {
        return Ok(());
    };
    let mut ds = Diagnostics::new(&mine.display().to_string(), &text);
    for v in drill::missing_ids(hidden, &topology) {
        ds.push(Diagnostic::error(v.message).hint(format!(
            "{} (the start is {})",
            v.hint,
            start.display()
        )));
    }
    if ds.has_errors() {
        err!("{ds}");
        Err(ExitCode::from(crate::EXIT_BAD_INPUT))
    } else {
        Ok(())
    }
}

/// Refuses a submission that changes what the drill gives (the workload,
/// the physics: [`drill::protect`]) or uses a kind the cost model has no
/// price for, each with its place in the submission and a hint.
fn refuse_changes(
    d: &Drill,
    start: &Path,
    mine: &Path,
    topology: &bottleneck::topology::Topology,
    costs: &Costs,
) -> Result<(), ExitCode> {
    let bad = |ds: Diagnostics| {
        err!("{ds}");
        ExitCode::from(crate::EXIT_BAD_INPUT)
    };
    let start_text = read(start, "the drill's start topology")?;
    let given =
        bottleneck::topology::parse(&start.display().to_string(), &start_text).map_err(bad)?;
    let text = std::fs::read_to_string(mine).unwrap_or_default();
    let mut ds = Diagnostics::new(&mine.display().to_string(), &text);
    let unpriced = costs.unpriced_nodes(topology);
    for v in drill::refusals(d, &given, topology, costs) {
        let hint = if unpriced.iter().any(|(id, _)| *id == v.id) {
            format!("{} with --costs", v.hint)
        } else {
            format!("{} (the start is {})", v.hint, start.display())
        };
        ds.push(
            Diagnostic::error(v.message)
                .at(bottleneck::diag::find_keyed(&text, "id", &v.id))
                .hint(hint),
        );
    }
    if ds.has_errors() {
        Err(bad(ds))
    } else {
        Ok(())
    }
}

/// The counterfactual's part of the grade: what was removed, its table, and
/// what it shows.
fn counterfactual_text(
    out: &mut String,
    s: &bottleneck::scenario::Scenario,
    g: &drill::Grade,
    reps: u32,
) {
    let Some(c) = &g.counterfactual else {
        return;
    };
    if !g.requirements_met {
        return;
    }
    let what = drill::mechanism::labels(&c.removed, "and");
    let _ = writeln!(out, "Without the fix this drill teaches ({what}):");
    for l in &c.changes {
        let _ = writeln!(out, "    {l}");
    }
    if let Some(v) = &c.verdict {
        let mut s = s.clone();
        s.name = format!("{} (without the fix)", s.name);
        s.expect_fail = vec![false; s.thresholds.len()];
        out.push_str(&check::table(&s, v, reps));
    }
    if !g.reasons.contains(&c.summary) {
        let _ = writeln!(out, "  {}", c.summary);
    }
    let _ = writeln!(out);
}
