//! `bottleneck`: the command-line front end. A thin layer over the library:
//! it reads files, drives the engine, prints reports and sets exit codes
//! (0 ok, 1 failed run, 2 bad input).

mod cli;

use cli::{bench, check, cost, drill, files, lesson, out, plot, run, sweep};

use crate::cli::out::{err, errln, out, outln};
use bottleneck::budget;
use bottleneck::time::Duration;
use bottleneck::topology::{self, Loaded};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code for a run that failed (a budget stopped it).
const EXIT_FAILED: u8 = 1;
/// Exit code for bad input (a file that does not load, bad arguments).
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "bottleneck",
    version,
    about = "A deterministic discrete-event simulator of web-system architectures",
    long_about = "A deterministic discrete-event simulator of web-system architectures.\n\n\
        With no arguments, runs a bundled example so you see something at once.\n\
        Exit codes: 0 ok, 1 the run failed (a budget stopped it), 2 bad input,\n        99 `check`: a threshold is not as expected (as k6)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a topology and print what happened.
    Run(run::RunArgs),
    /// Check topology files and report every problem.
    Validate {
        /// Topology files (.ron).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print a topology as a Graphviz DOT or Mermaid diagram.
    Graph {
        /// Topology file (.ron).
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// Run scenarios and judge their thresholds (exit 99 when one is not as expected).
    Check(check::CheckArgs),
    /// Vary one parameter over a range and find the knee where thresholds break.
    Sweep(sweep::SweepArgs),
    /// Price a topology a month with a cost model (the drills' by default).
    Cost(cost::CostArgs),
    /// Show an interview drill's requirement card, or grade your topology against it.
    Drill(drill::DrillArgs),
    /// List the lessons, print one, or run its check (before fails, after passes).
    Lesson(lesson::LessonArgs),
    /// Measure the engine's speed on standard workloads.
    Bench(bench::BenchArgs),
    /// Print the reference: every node kind and its fields, faults and
    /// metrics (or one kind's), or a JSON Schema of a command's output.
    Reference {
        /// One kind (e.g. `Cache`); without one, the whole reference.
        kind: Option<String>,
        /// Print the JSON Schema of `run`, `check`, `sweep` or `drill` output.
        #[arg(long)]
        schema: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    Duration::parse(s)
}

fn parse_bytes(s: &str) -> Result<u64, String> {
    budget::parse_bytes(s)
}

/// The budgets of one run, from the command line.
fn budget_limits(max_events: u64, max_memory: u64) -> budget::Limits {
    budget::Limits {
        max_events,
        max_memory,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // No subcommand: behave exactly as `bottleneck run` (the bundled default).
    let command = match cli.command {
        Some(c) => c,
        None => Cli::parse_from(["bottleneck", "run"])
            .command
            .expect("run parses"),
    };
    let code = match command {
        Command::Run(args) => run::run(args),
        Command::Cost(args) => cost::cost(args),
        Command::Validate { files } => validate(&files),
        Command::Graph { file, format } => graph(&file, format),
        Command::Check(args) => check::check(args),
        Command::Drill(args) => drill::drill(args),
        Command::Lesson(args) => lesson::lesson(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Bench(args) => bench::bench(args),
        Command::Reference { kind, schema } => reference(kind.as_deref(), schema.as_deref()),
    };
    out::finish(code)
}

/// Reads and loads a topology, printing diagnostics on failure.
fn load(file: Option<&PathBuf>) -> Result<Loaded, ExitCode> {
    let (name, bytes) = match file {
        None => (
            bottleneck::DEFAULT_TOPOLOGY_NAME.to_string(),
            bottleneck::DEFAULT_TOPOLOGY.as_bytes().to_vec(),
        ),
        Some(path) => {
            let name = path.display().to_string();
            match files::read_named(path, "a topology (.ron)", files::MAX_RON_BYTES) {
                Ok(b) => (name, b),
                Err(ds) => {
                    err!("{ds}");
                    return Err(ExitCode::from(EXIT_BAD_INPUT));
                }
            }
        }
    };
    match topology::load(&name, &bytes) {
        Ok(l) => Ok(l),
        Err(ds) => {
            err!("{ds}");
            Err(ExitCode::from(EXIT_BAD_INPUT))
        }
    }
}

fn print_warnings(l: &Loaded) {
    if l.warnings.warnings().next().is_some() {
        errln!("{}", l.warnings);
    }
}

fn validate(files: &[PathBuf]) -> ExitCode {
    let mut worst = ExitCode::SUCCESS;
    for f in files {
        match load(Some(f)) {
            Ok(l) => {
                let warnings = l.warnings.warnings().count();
                outln!(
                    "ok: {} (\"{}\": {} source{}, {} node{}{})",
                    f.display(),
                    l.model.name,
                    l.model.sources.len(),
                    if l.model.sources.len() == 1 { "" } else { "s" },
                    l.model.nodes.len(),
                    if l.model.nodes.len() == 1 { "" } else { "s" },
                    if warnings > 0 {
                        format!(", {warnings} warning(s)")
                    } else {
                        String::new()
                    }
                );
                print_warnings(&l);
            }
            Err(code) => worst = code,
        }
    }
    worst
}

fn graph(file: &PathBuf, format: GraphFormat) -> ExitCode {
    match load(Some(file)) {
        Ok(l) => {
            let text = match format {
                GraphFormat::Dot => bottleneck::graph::to_dot(&l.model),
                GraphFormat::Mermaid => bottleneck::graph::to_mermaid(&l.model),
            };
            out!("{text}");
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// `bottleneck reference`: the generated reference, or a JSON Schema.
fn reference(kind: Option<&str>, schema: Option<&str>) -> ExitCode {
    if let Some(which) = schema {
        return match bottleneck::reference::schemas()
            .into_iter()
            .find(|(name, _)| *name == which)
        {
            Some((_, text)) => {
                out!("{text}");
                ExitCode::SUCCESS
            }
            None => {
                let names: Vec<&str> = bottleneck::reference::schemas()
                    .iter()
                    .map(|(name, _)| *name)
                    .collect();
                errln!(
                    "error: no schema for `{which}`\n   = hint: use one of {}",
                    names.join(", ")
                );
                ExitCode::from(EXIT_BAD_INPUT)
            }
        };
    }
    match kind {
        None => {
            out!("{}", bottleneck::reference::markdown());
            ExitCode::SUCCESS
        }
        Some(name) => {
            let found = bottleneck::kind::Kind::ALL
                .into_iter()
                .find(|k| k.name().eq_ignore_ascii_case(name));
            match found {
                Some(k) => {
                    out!("{}", bottleneck::reference::kind_section(k));
                    ExitCode::SUCCESS
                }
                None => {
                    let names: Vec<&str> = bottleneck::kind::Kind::ALL
                        .iter()
                        .map(|k| k.name())
                        .collect();
                    let hint = match bottleneck::diag::closest(name, names.iter().copied()) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => format!("the kinds are: {}", names.join(", ")),
                    };
                    errln!("error: `{name}` is not a kind of node\n   = hint: {hint}");
                    ExitCode::from(EXIT_BAD_INPUT)
                }
            }
        }
    }
}
