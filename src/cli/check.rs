//! `bottleneck check`: run scenarios and judge their thresholds, in parallel.
//!
//! Exit codes follow k6: 99 when a threshold is not as expected (a plain
//! scenario's threshold failed, or a "before" scenario's expected failure
//! did not happen), 1 when a run could not finish, 2 for bad input.

use crate::cli::out::{err, errln, out, outln};
use crate::{files, plot};
use bottleneck::budget::{Limits, Refusal};
use bottleneck::diag::{Diagnostic, Diagnostics};
use bottleneck::model::Model;
use bottleneck::scenario::{self, Outcome, Plan, Scenario, Verdict};
use bottleneck::sim::Change;
use bottleneck::topology;
use clap::Args;
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code when thresholds are not as expected (k6's).
pub const EXIT_THRESHOLDS: u8 = 99;

#[derive(Args)]
pub struct CheckArgs {
    /// Scenario files (*.scenario.ron) or directories to search for them.
    /// Other .ron files (topologies) given by a glob are skipped.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Run each scenario with this many seeds (its seed, seed+1, ...) and
    /// judge thresholds on the mean, with 95% confidence intervals.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    replications: u32,
    /// A threshold passes only when it holds in every replication, not
    /// only on the mean (each row says in how many it held).
    #[arg(long)]
    every_replication: bool,
    /// Run until precise: add replications (two at a time, from
    /// --replications or 3) until every measured threshold's 95% interval
    /// is within this share of its mean (e.g. 5% or 0.05), or
    /// --max-replications is reached; the table says which.
    #[arg(long, value_parser = parse_share)]
    precision: Option<f64>,
    /// The most replications --precision may run (at least 3: an interval
    /// needs them).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(3..=1000))]
    max_replications: u32,
    /// Write a JUnit XML report here (one test case per threshold).
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write the verdicts as JSON here (`-` for stdout, instead of the table).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Draw latency, throughput, errors and utilization over time as SVG.
    /// With several scenarios, each gets `PATH-<scenario>.svg` (`-2`,
    /// `-3`... after the name when two would clash), named on stderr.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Parallel jobs [default: the number of cores, fewer when the runs'
    /// memory would pass --max-memory].
    #[arg(long, short)]
    jobs: Option<usize>,
    #[command(flatten)]
    budget: BudgetArgs,
}

/// The budgets every command that runs scenarios checks before it starts.
#[derive(Args, Clone, Copy)]
pub struct BudgetArgs {
    /// Refuse (and stop) a run, one scenario and seed, that takes more
    /// events than this.
    #[arg(long, default_value_t = bottleneck::budget::DEFAULT_MAX_EVENTS)]
    pub max_events: u64,
    /// Refuse a run estimated to need more memory than this (e.g. 4GiB);
    /// runs in parallel share it.
    #[arg(long, default_value = "2GiB", value_parser = crate::parse_bytes)]
    pub max_memory: u64,
}

impl BudgetArgs {
    /// As the library's limits.
    pub fn limits(&self) -> Limits {
        crate::budget_limits(self.max_events, self.max_memory)
    }
}

/// Checks one run of `ready` (with `start` applied first: a sweep's point)
/// against the budgets, before it starts; gives its memory estimate.
pub fn within_budget(
    ready: &Ready,
    start: Option<&Change>,
    series: bool,
    budget: &BudgetArgs,
) -> Result<f64, Refusal> {
    let e = bottleneck::budget::estimate_plan(&ready.model, &ready.plan, start, series);
    e.check(&budget.limits(), "--max-events", "--max-memory")?;
    Ok(e.memory)
}

/// Says a refusal for the scenario file `file`.
pub fn refuse(file: &str, r: &Refusal) {
    let mut ds = Diagnostics::new(file, "");
    ds.push(Diagnostic::error(r.message.clone()).hint(r.hint.clone()));
    err!("{ds}");
}

/// How many runs may go at once: `jobs` (or the cores), and no more than
/// the largest runs' memory estimates fit in `max_memory` together.
pub fn parallel(jobs: Option<usize>, memory: &[f64], max_memory: u64) -> Option<usize> {
    let mut m = memory.to_vec();
    m.sort_by(|a, b| b.total_cmp(a));
    let mut total = 0.0;
    let fit = m
        .iter()
        .take_while(|&&x| {
            total += x;
            total <= max_memory as f64
        })
        .count()
        .max(1);
    let wanted = jobs.unwrap_or_else(rayon::current_num_threads).max(1);
    if fit < wanted && fit < m.len() {
        errln!(
            "note: running {fit} at a time so that the runs' memory stays within --max-memory ({})",
            bottleneck::budget::fmt_bytes(max_memory as f64)
        );
        Some(fit)
    } else {
        jobs
    }
}

/// Runs `f(0..n)` on a pool of `jobs` threads (the cores by default);
/// results come back in index order, whatever the scheduling.
pub fn par_map<T: Send>(n: usize, jobs: Option<usize>, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let work = || (0..n).into_par_iter().map(&f).collect::<Vec<T>>();
    match jobs {
        Some(k) => match rayon::ThreadPoolBuilder::new()
            .num_threads(k.max(1))
            .build()
        {
            Ok(pool) => pool.install(work),
            Err(_) => work(),
        },
        None => work(),
    }
}

/// A scenario ready to run: parsed, its topology loaded, planned.
pub struct Ready {
    pub scenario: Scenario,
    pub model: Model,
    pub plan: Plan,
    /// The topology's file name and text (no diagnostics), for messages
    /// that point into it.
    pub topology: Diagnostics,
}

/// How a scenario names its run's length and warm-up in hints.
pub const SCENARIO_NAMES: topology::bursts::RunNames<'static> = topology::bursts::RunNames {
    duration: "the scenario's `duration`",
    warmup: "the scenario's `warmup`",
};

/// Warns, at the topology's sources, of bursts a run of `ready` (its
/// scenario's duration and warm-up) would not measure.
pub fn warn_bursts(ready: &Ready, names: topology::bursts::RunNames) {
    let ds = topology::bursts::unmeasured_bursts(
        &ready.topology.file,
        &ready.topology.source,
        &ready.model,
        ready.scenario.duration,
        Some(ready.scenario.warmup),
        names,
    );
    if !ds.items.is_empty() {
        err!("{ds}");
    }
}

/// Finds scenario files under the given paths, sorted within each
/// directory. Each directory is read once and each file kept once, by
/// canonical path: a symbolic link to a directory above it (a loop) or to
/// a file already found adds nothing.
pub fn collect(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, usize), String> {
    let mut out = Vec::new();
    let mut skipped = 0;
    let mut dirs = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut dirs, &mut seen, &mut out)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        } else if p.exists() {
            if !is_scenario(p) {
                skipped += 1;
            } else if seen.insert(canonical(p)) {
                out.push(p.clone());
            }
        } else {
            return Err(format!(
                "{} does not exist\n   = hint: give scenario files (*.scenario.ron) or directories, e.g. `bottleneck check topologies/`",
                p.display()
            ));
        }
    }
    Ok((out, skipped))
}

/// The path with links resolved (as given when that fails).
fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

fn is_scenario(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".scenario.ron"))
}

/// Most directories `check` reads under the paths it is given.
const MAX_DIRS: usize = 10_000;

fn walk(
    dir: &Path,
    dirs: &mut BTreeSet<PathBuf>,
    seen: &mut BTreeSet<PathBuf>,
    out: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    if !dirs.insert(canonical(dir)) {
        return Ok(());
    }
    if dirs.len() > MAX_DIRS {
        return Err(std::io::Error::other(format!(
            "more than {MAX_DIRS} directories under the paths given; give the directories of the scenarios"
        )));
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, dirs, seen, out)?;
        } else if is_scenario(&e) && seen.insert(canonical(&e)) {
            out.push(e);
        }
    }
    Ok(())
}

/// Reads a scenario, its topology (relative to the scenario, unless
/// `topology` overrides it) and plans it; prints diagnostics on failure.
pub fn prepare(path: &Path, topology_override: Option<&Path>) -> Result<Ready, String> {
    prepare_quietly(path, topology_override).inspect_err(|e| err!("{e}"))
}

/// [`prepare`], returning what is wrong instead of saying it.
fn prepare_quietly(path: &Path, topology_override: Option<&Path>) -> Result<Ready, String> {
    let name = path.display().to_string();
    let bytes = files::read_named(path, "a scenario (.scenario.ron)", files::MAX_RON_BYTES)
        .map_err(|ds| ds.to_string())?;
    let scenario = scenario::parse(&name, &bytes).map_err(|ds| ds.to_string())?;
    let top_path = match topology_override {
        Some(p) => p.to_path_buf(),
        None => path
            .parent()
            .unwrap_or(Path::new("."))
            .join(&scenario.topology),
    };
    let top_name = top_path.display().to_string();
    let top_bytes =
        files::read(&top_path, "a topology (.ron)", files::MAX_RON_BYTES).map_err(|d| {
            let mut ds = Diagnostics::new(&name, &scenario.source);
            let at = scenario
                .source
                .find(&format!("\"{}\"", scenario.topology))
                .map(|i| bottleneck::diag::pos_of(&scenario.source, i + 1));
            let hint = match topology_override {
                Some(_) => d.hint.unwrap_or_default(),
                None => format!(
                    "`topology` is a path relative to the scenario file; {}",
                    d.hint.unwrap_or_default()
                ),
            };
            ds.push(
                Diagnostic::error(format!(
                    "cannot read the topology {top_name}: {}",
                    d.message.trim_start_matches("cannot read the file: ")
                ))
                .at(at)
                .hint(hint),
            );
            ds.to_string()
        })?;
    let loaded = topology::load(&top_name, &top_bytes).map_err(|ds| ds.to_string())?;
    let plan = scenario.plan(&loaded.model).map_err(|ds| ds.to_string())?;
    if plan.warnings.warnings().next().is_some() {
        errln!("{}", plan.warnings);
    }
    Ok(Ready {
        scenario,
        model: loaded.model,
        plan,
        topology: Diagnostics::new(&loaded.warnings.file, &loaded.warnings.source),
    })
}

/// Runs every (scenario, replication) pair on a pool of `jobs` threads;
/// results come back in a fixed order, whatever the scheduling.
pub fn run_all(
    ready: &[Ready],
    replications: u32,
    jobs: Option<usize>,
    series: bool,
) -> Vec<Vec<Outcome>> {
    let mut out: Vec<Vec<Outcome>> = (0..ready.len()).map(|_| Vec::new()).collect();
    let pairs: Vec<(usize, u32)> = (0..ready.len())
        .flat_map(|s| (0..replications).map(move |r| (s, r)))
        .collect();
    run_pairs(ready, &pairs, jobs, series, &mut out);
    out
}

/// Runs the given (scenario, replication) pairs in parallel and appends
/// each outcome to its scenario's list, in the order given.
fn run_pairs(
    ready: &[Ready],
    pairs: &[(usize, u32)],
    jobs: Option<usize>,
    series: bool,
    out: &mut [Vec<Outcome>],
) {
    let flat = par_map(pairs.len(), jobs, |k| {
        let (s, r) = pairs[k];
        let x = &ready[s];
        let seed = x.scenario.seed.wrapping_add(r as u64);
        scenario::run(&x.plan, &x.model, seed, series && r == 0)
    });
    for ((s, _), o) in pairs.iter().zip(flat) {
        out[*s].push(o);
    }
}

/// Run-until-precision: each scenario gets `start` replications, then two
/// more at a time while its verdict is not within `target`, up to `max`.
/// The number run depends only on the measurements (not on `jobs`), so
/// the result is the same on every machine.
fn run_until_precise(
    ready: &[Ready],
    start: u32,
    max: u32,
    target: f64,
    jobs: Option<usize>,
    series: bool,
    every: bool,
) -> (Vec<Vec<Outcome>>, Vec<Verdict>) {
    let mut out = run_all(ready, start, jobs, series);
    loop {
        let pairs: Vec<(usize, u32)> = ready
            .iter()
            .enumerate()
            .filter(|(s, r)| {
                let n = out[*s].len() as u32;
                let v = scenario::judge_by(&r.scenario, &out[*s], rule(every));
                n < max && v.errors.is_empty() && !scenario::Precision::of(&v, target).reached
            })
            .flat_map(|(s, _)| {
                let n = out[s].len() as u32;
                (n..(n + 2).min(max)).map(move |r| (s, r))
            })
            .collect();
        if pairs.is_empty() {
            break;
        }
        run_pairs(ready, &pairs, jobs, false, &mut out);
    }
    let verdicts = ready
        .iter()
        .zip(&out)
        .map(|(r, o)| {
            let mut v = scenario::judge_by(&r.scenario, o, rule(every));
            v.precision = Some(scenario::Precision::of(&v, target));
            v
        })
        .collect();
    (out, verdicts)
}

/// A share: `5%` or `0.05`, above 0 and below 1.
fn parse_share(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|x| x / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("`{s}` is not a share; write e.g. 5% or 0.05"))?;
    if !(v > 0.0 && v < 1.0) {
        return Err(format!("`{s}` must be above 0 and below 100% (e.g. 5%)"));
    }
    Ok(v)
}

pub fn check(args: CheckArgs) -> ExitCode {
    let (files, skipped) = match collect(&args.paths) {
        Ok(x) => x,
        Err(e) => {
            errln!("error: {e}");
            return ExitCode::from(crate::EXIT_BAD_INPUT);
        }
    };
    if files.is_empty() {
        errln!(
            "error: no scenario files among the {} path(s) given{}\n   = hint: scenario files end in .scenario.ron; see topologies/walls/ and topologies/journey/",
            args.paths.len(),
            if skipped > 0 {
                format!(" ({skipped} other .ron files skipped)")
            } else {
                String::new()
            }
        );
        return ExitCode::from(crate::EXIT_BAD_INPUT);
    }
    let start = match args.precision {
        Some(_) => args.replications.max(3),
        None => args.replications,
    };
    if args.precision.is_some() && start > args.max_replications {
        errln!(
            "error: --precision starts with --replications {start}, more than --max-replications {}\n   = hint: raise --max-replications, or give fewer --replications",
            args.max_replications
        );
        return ExitCode::from(crate::EXIT_BAD_INPUT);
    }
    let most = if args.precision.is_some() {
        args.max_replications
    } else {
        start
    };
    let mut ready = Vec::new();
    let mut memory = Vec::new();
    let mut bad = 0;
    let mut refused = 0;
    // Files that could not run, by their place among the files: they are
    // errors in the JSON and JUnit reports too, not left out.
    let mut broken: Vec<(usize, Verdict)> = Vec::new();
    for f in &files {
        match prepare(f, None) {
            Ok(r) if most > 1 && recorded(&r).is_some() => {
                let why = replications_refused(&r, &args);
                errln!("error: {why}");
                bad += 1;
                broken.push((ready.len(), Verdict::could_not_run(&r.scenario.file, why)));
            }
            Ok(mut r) => {
                warn_bursts(&r, SCENARIO_NAMES);
                r.plan.config.max_events = args.budget.max_events;
                match within_budget(&r, None, args.plot.is_some(), &args.budget) {
                    Ok(m) => {
                        ready.push(r);
                        memory.push(m);
                    }
                    Err(e) => {
                        refuse(&r.scenario.file, &e);
                        refused += 1;
                        let why = format!("{}\n   = hint: {}", e.message, e.hint);
                        broken.push((ready.len(), Verdict::could_not_run(&r.scenario.file, why)));
                    }
                }
            }
            Err(e) => {
                bad += 1;
                let file = f.display().to_string();
                broken.push((ready.len(), Verdict::could_not_run(&file, e)));
            }
        }
    }
    if let Some(r) = ready.iter().find(|r| {
        r.scenario
            .seed
            .checked_add(most.max(1) as u64 - 1)
            .is_none()
    }) {
        errln!(
            "error: {}: seeds {}..{} replications would pass the largest seed ({})\n   = hint: use a smaller `seed:` in the scenario, or fewer --replications",
            r.scenario.file,
            r.scenario.seed,
            most,
            u64::MAX
        );
        return ExitCode::from(crate::EXIT_BAD_INPUT);
    }
    let jobs = parallel(args.jobs, &memory, args.budget.max_memory);
    let (outcomes, verdicts) = match args.precision {
        Some(target) => run_until_precise(
            &ready,
            start,
            most,
            target,
            jobs,
            args.plot.is_some(),
            args.every_replication,
        ),
        None => {
            let outcomes = run_all(&ready, start, jobs, args.plot.is_some());
            let verdicts: Vec<Verdict> = ready
                .iter()
                .zip(&outcomes)
                .map(|(r, o)| scenario::judge_by(&r.scenario, o, rule(args.every_replication)))
                .collect();
            (outcomes, verdicts)
        }
    };

    // Every file's verdict, in the order given, for the JSON and JUnit reports.
    let mut reported: Vec<Verdict> = Vec::with_capacity(verdicts.len() + broken.len());
    let mut broken_iter = broken.into_iter().peekable();
    for (k, v) in verdicts.iter().enumerate() {
        while let Some((_, b)) = broken_iter.next_if(|(at, _)| *at <= k) {
            reported.push(b);
        }
        reported.push(v.clone());
    }
    reported.extend(broken_iter.map(|(_, b)| b));

    let to_stdout_json = args.json.as_deref() == Some(Path::new("-"));
    if !to_stdout_json {
        for (r, v) in ready.iter().zip(&verdicts) {
            out!("{}", table(&r.scenario, v, v.seeds.len() as u32));
        }
        out!("{}", summary(&verdicts, bad, refused, skipped));
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&reported).unwrap_or_default();
        if to_stdout_json {
            outln!("{text}");
        } else if let Err(e) = std::fs::write(path, text + "\n") {
            errln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(crate::EXIT_FAILED);
        }
    }
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, junit(&reported))
    {
        errln!("error: cannot write {}: {e}", path.display());
        return ExitCode::from(crate::EXIT_FAILED);
    }
    if let Some(path) = &args.plot {
        let files: Vec<&str> = ready.iter().map(|r| r.scenario.file.as_str()).collect();
        let paths = plot_paths(path, &files);
        for ((r, o), out) in ready.iter().zip(&outcomes).zip(paths) {
            if ready.len() > 1 {
                errln!("plot of {}: {}", r.scenario.file, out.display());
            }
            let title = format!("{} (seed {})", r.scenario.name, o[0].seed);
            let marks = plot::timeline_marks(&r.scenario.timeline);
            if let Err(e) = plot::draw(&out, &title, &o[0].report, &marks) {
                errln!("error: cannot draw {}: {e}", out.display());
                return ExitCode::from(crate::EXIT_FAILED);
            }
        }
    }
    if bad > 0 {
        ExitCode::from(crate::EXIT_BAD_INPUT)
    } else if refused > 0 || verdicts.iter().any(|v| !v.errors.is_empty()) {
        ExitCode::from(crate::EXIT_FAILED)
    } else if verdicts.iter().any(|v| !v.as_expected()) {
        ExitCode::from(EXIT_THRESHOLDS)
    } else {
        ExitCode::SUCCESS
    }
}

/// The place of the first recorded change (`Exact(time, events, ...)`) of
/// `r`'s timeline, if it has one (`""` when the place is unknown).
fn recorded(r: &Ready) -> Option<&str> {
    r.plan
        .steps
        .iter()
        .find(|s| s.after_events.is_some())
        .map(|s| s.place.as_deref().unwrap_or(""))
}

/// Why a recorded session is not run with replications: its `Exact` items
/// count events of its own seed's run, so on any other seed they do not fit
/// and that run stops there, unfaulted; a mean over such runs is no
/// measurement.
fn replications_refused(r: &Ready, args: &CheckArgs) -> String {
    let asked = match args.precision {
        Some(_) => "--precision runs several seeds".to_string(),
        None => format!("--replications {} runs several seeds", args.replications),
    };
    let place = recorded(r)
        .filter(|p| !p.is_empty())
        .map(|p| format!("\n  --> {p}"))
        .unwrap_or_default();
    format!(
        "{}: a recorded session (`Exact(time, events, ...)` items) replays only its own seed ({}), and {asked}{place}\n   = hint: check it without --replications or --precision; to repeat the same changes over several seeds, write them `At(\"10s\", ...)`",
        r.scenario.file, r.scenario.seed
    )
}

/// The plot files of `scenario_files` for `--plot base`: `base` itself for
/// one scenario; else `base-<scenario>.svg` each (`out.svg` +
/// `topologies/walls/1-pool.before.scenario.ron` -> `out-1-pool.before.svg`),
/// and where names would clash (the same file name in two directories, or
/// names that differ only in case), the later ones get `-2`, `-3`... in the
/// order given, so no plot overwrites another and the same command gives
/// the same names.
fn plot_paths(base: &Path, scenario_files: &[&str]) -> Vec<PathBuf> {
    if scenario_files.len() == 1 {
        return vec![base.to_path_buf()];
    }
    let base_stem = base.file_stem().and_then(|s| s.to_str()).unwrap_or("plot");
    let stems: Vec<String> = scenario_files
        .iter()
        .map(|f| {
            let stem = Path::new(f)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("scenario")
                .trim_end_matches(".ron")
                .trim_end_matches(".scenario");
            format!("{base_stem}-{stem}")
        })
        .collect();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(stems.len());
    for stem in &stems {
        let mut name = stem.clone();
        let mut k = 1;
        while taken.contains(&name.to_lowercase()) {
            k += 1;
            name = format!("{stem}-{k}");
        }
        taken.insert(name.to_lowercase());
        out.push(base.with_file_name(format!("{name}.svg")));
    }
    out
}

/// The table a person reads for one scenario.
/// The rule replications are judged by: `--every-replication` or the mean.
pub fn rule(every: bool) -> scenario::Rule {
    if every {
        scenario::Rule::Every
    } else {
        scenario::Rule::Mean
    }
}

use super::verdicts::summary;
pub use super::verdicts::{junit, table};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plot_names_are_unique_and_follow_the_order_given() {
        let p = |v: &[&str]| -> Vec<String> {
            plot_paths(Path::new("out/pl.svg"), v)
                .iter()
                .map(|p| p.display().to_string())
                .collect()
        };
        assert_eq!(p(&["a/pr.scenario.ron"]), ["out/pl.svg"]);
        assert_eq!(
            p(&[
                "a/pr.scenario.ron",
                "b/pr.scenario.ron",
                "c/PR.scenario.ron",
                "pr-2.scenario.ron"
            ]),
            [
                "out/pl-pr.svg",
                "out/pl-pr-2.svg",
                "out/pl-PR-3.svg",
                "out/pl-pr-2-2.svg"
            ]
        );
        assert_eq!(
            p(&["x/1-pool.before.scenario.ron", "y/other.scenario.ron"]),
            ["out/pl-1-pool.before.svg", "out/pl-other.svg"]
        );
    }
}
