//! `bottleneck run`: simulate a topology (optionally through a scenario's
//! timeline of faults and traffic changes) and print what happened, as a
//! table, JSON, an SVG plot or the series as CSV.

use crate::cli::out::{err, errln, out, outln};
use crate::cli::{check, plot};
use crate::{EXIT_BAD_INPUT, EXIT_FAILED, budget_limits, load, parse_bytes, parse_duration};
use bottleneck::budget;
use bottleneck::model::Model;
use bottleneck::scenario::{Plan, Player};
use bottleneck::sim::{RunConfig, Simulation};
use bottleneck::time::{Duration, SEC};
use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct RunArgs {
    /// Topology file (.ron); without one, runs the bundled default (or,
    /// with --scenario, the scenario's topology).
    file: Option<PathBuf>,
    /// Play a scenario's timeline (faults, traffic changes) in this run:
    /// its topology (unless FILE is given), seed, duration, warm-up, window
    /// and deadline, each unless given here. Thresholds are judged by
    /// `bottleneck check`, not here.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Seed of the random streams: the same seed gives the same report [default: 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Simulated time to run, e.g. 60s, 10m [default: 60s].
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Simulated time to discard before measuring, or `auto`: found from a
    /// first run by MSER-5 on the end-to-end median per window (the run is
    /// then done again with it) [default: a tenth of --duration].
    #[arg(long, value_parser = parse_warmup)]
    warmup: Option<Warmup>,
    /// A request is good (counts toward goodput) when answered successfully
    /// within this time of its first attempt, retries included [default:
    /// each client's timeout; without one, every success is good].
    #[arg(long, value_parser = parse_duration)]
    deadline: Option<Duration>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Include per-window time series in the JSON report.
    #[arg(long)]
    series: bool,
    /// Write the per-window series as CSV here (`-` for stdout, instead of
    /// the table or JSON): one row per window of end to end, each node, and
    /// each class and source when there are several.
    #[arg(long)]
    series_csv: Option<PathBuf>,
    /// Length of a time-series window [default: 1s].
    #[arg(long, value_parser = parse_duration)]
    window: Option<Duration>,
    /// Stop the run after this many events.
    #[arg(long, default_value_t = 2_000_000_000)]
    max_events: u64,
    /// Stop the run when more requests than this are in flight.
    #[arg(long, default_value_t = 2_000_000)]
    max_in_flight: usize,
    /// Refuse a run estimated to need more memory than this (e.g. 4GiB).
    #[arg(long, default_value = "2GiB", value_parser = parse_bytes)]
    max_memory: u64,
    /// Draw latency, throughput, failures and utilization over time (SVG).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// What to run: the model, and the scenario's plan when there is one.
struct Setup {
    name: String,
    model: Model,
    plan: Option<Plan>,
    seed: u64,
    duration: Duration,
    warmup: Option<Duration>,
    window: Duration,
    deadline: Option<Duration>,
    /// The topology's file name and text, for warnings that point into it.
    topology: bottleneck::diag::Diagnostics,
}

fn setup(args: &RunArgs) -> Result<Setup, ExitCode> {
    let bad = || ExitCode::from(EXIT_BAD_INPUT);
    let name = |p: Option<&PathBuf>| {
        p.map_or(bottleneck::DEFAULT_TOPOLOGY_NAME.to_string(), |p| {
            p.display().to_string()
        })
    };
    match &args.scenario {
        None => {
            let loaded = load(args.file.as_ref())?;
            crate::print_warnings(&loaded);
            Ok(Setup {
                topology: bottleneck::diag::Diagnostics::new(
                    &loaded.warnings.file,
                    &loaded.warnings.source,
                ),
                name: name(args.file.as_ref()),
                model: loaded.model,
                plan: None,
                seed: args.seed.unwrap_or(1),
                duration: args.duration.unwrap_or(Duration(60 * SEC)),
                warmup: fixed(args.warmup),
                window: args.window.unwrap_or(Duration(SEC)),
                deadline: args.deadline,
            })
        }
        Some(path) => {
            let ready = check::prepare(path, args.file.as_deref()).map_err(|_| bad())?;
            let s = &ready.scenario;
            let duration = args.duration.unwrap_or(s.duration);
            Ok(Setup {
                topology: ready.topology,
                name: path.display().to_string(),
                seed: args.seed.unwrap_or(s.seed),
                duration,
                // The scenario's warm-up, unless the run is shortened below it.
                warmup: fixed(args.warmup).or((s.warmup < duration).then_some(s.warmup)),
                window: args.window.unwrap_or(s.window),
                deadline: args.deadline.or(s.deadline),
                model: ready.model,
                plan: Some(ready.plan),
            })
        }
    }
}

/// `--warmup`: a time, or found by MSER-5.
#[derive(Clone, Copy, Debug)]
enum Warmup {
    Fixed(Duration),
    Auto,
}

fn parse_warmup(s: &str) -> Result<Warmup, String> {
    if s.trim().eq_ignore_ascii_case("auto") {
        Ok(Warmup::Auto)
    } else {
        parse_duration(s)
            .map(Warmup::Fixed)
            .map_err(|e| format!("{e}; or `auto` to find it by MSER-5"))
    }
}

fn fixed(w: Option<Warmup>) -> Option<Duration> {
    match w {
        Some(Warmup::Fixed(d)) => Some(d),
        _ => None,
    }
}

/// Runs the whole duration (through the plan's changes, if any).
fn simulate(
    model: &Model,
    plan: Option<&Plan>,
    config: RunConfig,
    duration: Duration,
    bar: Option<&indicatif::ProgressBar>,
) -> (Simulation, Result<(), String>) {
    let mut sim = Simulation::new(model, config);
    let mut player = plan.map(Player::new);
    let chunks = 200u64;
    let mut outcome = Ok(());
    for k in 1..=chunks {
        let t = duration.0 / chunks * k + if k == chunks { duration.0 % chunks } else { 0 };
        outcome = match &mut player {
            Some(p) => p.step_until(&mut sim, t),
            None => sim.step_until(t).map_err(|e| e.to_string()),
        };
        if let Some(b) = bar {
            b.set_position(k);
        }
        if outcome.is_err() {
            break;
        }
    }
    (sim, outcome)
}

/// `--warmup auto`: a first run measuring from the start, then MSER-5 on
/// the end-to-end median latency per window. Says what it found on stderr.
fn find_warmup(
    model: &Model,
    plan: Option<&Plan>,
    config: &RunConfig,
    duration: Duration,
) -> Result<Duration, String> {
    use bottleneck::scenario::warmup::{self, Judged};
    let by_design = warmup::changes_by_design(model, plan, duration, 3);
    if !by_design.is_empty() {
        return Err(format!(
            "--warmup auto finds where a steady run's output settles, and this run changes on purpose: {}; after each change there is a new transient, so there is no one warm-up to find\n   = hint: give --warmup a time (before the first change), or judge the change with a scenario's `during` windows",
            by_design.join("; ")
        ));
    }
    let pilot = RunConfig {
        warmup: Duration(0),
        ..config.clone()
    };
    let (sim, outcome) = simulate(model, plan, pilot, duration, None);
    outcome.map_err(|e| format!("the run that finds the warm-up stopped: {e}"))?;
    let series = sim.series_report();
    let window = config.window;
    let windows = series.end_to_end.len();
    match warmup::judge(&series) {
        Judged::Truncate { windows: w } => {
            let found = Duration(window.0.saturating_mul(w as u64));
            errln!(
                "warm-up: {found}, found by MSER-5 on the end-to-end median per {window} window ({w} of {windows} windows dropped)"
            );
            Ok(found)
        }
        Judged::NotSteady { what } => Err(format!(
            "--warmup auto: {what} still trends at the end of the run, so no warm-up makes the rest steady (overload, or traffic that keeps changing)\n   = hint: look at `--plot`; lengthen --duration, lower the traffic, or give --warmup a time"
        )),
        Judged::Stalled { stalled, of } => Err(format!(
            "--warmup auto: in {stalled} of the last {of} windows requests arrived and none completed: the system has stopped answering, which is not a steady state to measure\n   = hint: look at `--plot` and the bottleneck; give --warmup a time to measure the collapse as it is"
        )),
        Judged::TooShort { observations } => Err(format!(
            "--warmup auto needs at least {} windows with completions; this run has {observations}\n   = hint: a shorter --window (now {window}) or a longer --duration",
            warmup::BATCH * warmup::MIN_BATCHES
        )),
    }
}

/// The shortest run the CLI accepts: shorter, almost nothing arrives and
/// nothing it reports (a bottleneck least of all) means anything.
pub(crate) const MIN_RUN: Duration = Duration(bottleneck::time::MS);

/// `--duration` at least [`MIN_RUN`], and a warm-up shorter than it; the
/// error says which and how to fix it.
pub(crate) fn check_run_length(duration: Duration, warmup: Duration) -> Result<(), String> {
    if duration < MIN_RUN {
        return Err(format!(
            "error: --duration {duration} is too short to measure anything (the shortest run is {MIN_RUN})\n   = hint: give a run of at least {MIN_RUN}; a minute or more gives steady numbers, e.g. --duration 1m"
        ));
    }
    if warmup >= duration {
        return Err(format!(
            "error: the warm-up ({warmup}) is not shorter than the run ({duration}), so nothing would be measured\n   = hint: shorten --warmup or lengthen --duration"
        ));
    }
    Ok(())
}

pub fn run(args: RunArgs) -> ExitCode {
    let setup = match setup(&args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let duration = setup.duration;
    let warmup = setup.warmup.unwrap_or(Duration(duration.0 / 10));
    if let Err(m) = check_run_length(duration, warmup) {
        errln!("{m}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    // `--warmup auto` is found by a first run: not known yet.
    let known_warmup = (!matches!(args.warmup, Some(Warmup::Auto))).then_some(warmup);
    let names = bottleneck::topology::bursts::RunNames {
        duration: if setup.plan.is_some() && args.duration.is_none() {
            "--duration, or the scenario's `duration`"
        } else {
            "--duration"
        },
        warmup: if setup.plan.is_some() && args.warmup.is_none() {
            "--warmup, or the scenario's `warmup`"
        } else {
            "--warmup"
        },
    };
    let bursts = bottleneck::topology::bursts::unmeasured_bursts(
        &setup.topology.file,
        &setup.topology.source,
        &setup.model,
        duration,
        known_warmup,
        names,
    );
    if !bursts.items.is_empty() {
        err!("{bursts}");
    }
    if setup.deadline.is_some_and(|d| d.0 == 0) {
        errln!(
            "error: --deadline 0 would make no answer good\n   = hint: give the time a user waits at most, e.g. --deadline 500ms"
        );
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let csv_stdout = args.series_csv.as_deref() == Some(Path::new("-"));
    if csv_stdout && args.json {
        errln!(
            "error: --json and --series-csv - both print on stdout\n   = hint: write the CSV to a file (--series-csv series.csv), or leave out --json"
        );
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    if args.series && !args.json {
        errln!(
            "error: --series adds the per-window series to the JSON report, and this run prints a table\n   = hint: add --json, or write the series as CSV with --series-csv FILE (or - for stdout)"
        );
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let series_out = args.series || args.plot.is_some() || args.series_csv.is_some();
    // `--warmup auto` reads the series of a first run.
    let keep_series = series_out || matches!(args.warmup, Some(Warmup::Auto));
    let window = setup.window;
    if let Err(r) = budget::check_windows(duration.0, window.0, keep_series, "--window") {
        errln!("error: {r}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    // A series is whole windows: a tail shorter than one would be in no row.
    if series_out && window.0 > 0 && duration.0 % window.0 != 0 {
        let whole = Duration(duration.0 / window.0 * window.0);
        errln!(
            "error: --window {window} does not divide the run ({duration}): the series would end at {whole} and leave out the rest\n   = hint: a window that divides {duration} (for example {}), or a --duration of whole windows",
            Duration(gcd(duration.0, window.0))
        );
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    // A scenario cut short: its changes after the end do not happen; say so.
    if let Some(plan) = &setup.plan
        && args.duration.is_some()
    {
        let late: Vec<String> = plan
            .steps
            .iter()
            .filter(|s| s.at > duration.0)
            .map(|s| format!("{} at {}", s.change, Duration(s.at)))
            .collect();
        if !late.is_empty() {
            errln!(
                "warning: --duration {duration} ends the scenario before {} of its changes, which do not happen in this run: {}\n   = hint: leave out --duration to run the scenario's own ({})",
                late.len(),
                late.join(", "),
                Duration(plan.duration)
            );
        }
    }
    // Runaway work and memory: refuse a run that could not finish within
    // its budgets before starting it.
    let model = &setup.model;
    let shape = budget::Run {
        series_out: keep_series,
        ..budget::Run::plain(duration.0, window.0)
    };
    let estimate = match &setup.plan {
        None => budget::estimate(model, &shape),
        Some(plan) => {
            let mut p = plan.clone();
            p.windows.truncate(1);
            p.duration = duration.0;
            p.config.window = window;
            p.config.series_capacity = shape.series_capacity;
            budget::estimate_plan(model, &p, None, keep_series)
        }
    };
    if let Err(r) = estimate.check(
        &budget_limits(args.max_events, args.max_memory),
        "--max-events",
        "--max-memory",
    ) {
        check::refuse(&setup.name, &r);
        return ExitCode::from(EXIT_FAILED);
    }
    let mut config = RunConfig {
        seed: setup.seed,
        warmup,
        window,
        series_capacity: shape.series_capacity,
        max_events: args.max_events,
        max_in_flight: args.max_in_flight,
        deadline: setup.deadline,
        ..RunConfig::default()
    };
    if matches!(args.warmup, Some(Warmup::Auto)) {
        match find_warmup(model, setup.plan.as_ref(), &config, duration) {
            Ok(w) => config.warmup = w,
            Err(e) => {
                errln!("error: {e}");
                return ExitCode::from(EXIT_FAILED);
            }
        }
    }
    let bar = progress_bar(!args.quiet && std::io::stderr().is_terminal(), duration);
    let (sim, outcome) = simulate(model, setup.plan.as_ref(), config, duration, bar.as_ref());
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut report = sim.report();
    if series_out {
        report.series = Some(sim.series_report());
    }
    if let Some(path) = &args.plot {
        let title = format!("{} (seed {})", report.topology, report.seed);
        if let Err(e) = plot::draw(path, &title, &report, &plot::change_marks(&report)) {
            errln!("error: cannot draw {}: {e}", path.display());
            return ExitCode::from(EXIT_FAILED);
        }
    }
    // The series stays in the JSON only when asked for with --series.
    let series = if args.series {
        report.series.clone()
    } else {
        report.series.take()
    };
    if let (Some(path), Some(series)) = (&args.series_csv, &series)
        && !csv_stdout
        && let Err(e) = std::fs::write(path, series.to_csv())
    {
        errln!(
            "error: cannot write {}: {e}\n   = hint: check that its directory exists and is writable",
            path.display()
        );
        return ExitCode::from(EXIT_FAILED);
    }
    // A failed write is said by `out` (nothing, for a closed pipe), and
    // `out::finish` makes the exit code 1.
    if csv_stdout {
        if let Some(s) = &series {
            out!("{}", s.to_csv());
        }
    } else if args.json {
        outln!("{}", report.to_json());
    } else {
        out!("{}", report.to_table());
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("error: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn progress_bar(show: bool, duration: Duration) -> Option<indicatif::ProgressBar> {
    if !show || duration.0 < 10 * SEC {
        return None;
    }
    let b = indicatif::ProgressBar::new(200);
    b.set_style(
        indicatif::ProgressStyle::with_template("simulating {bar:40} {percent:>3}%  eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(b)
}

/// The greatest common divisor, for a window that divides a run.
fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}
