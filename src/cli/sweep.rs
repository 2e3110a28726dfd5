//! `bottleneck sweep`: vary one parameter over a range, in parallel, and
//! find the knee: the first value at which a threshold breaks.
//!
//! `--shard k/n` runs every n-th point starting at the k-th, so a batch
//! runner (GNU parallel, Slurm arrays, Kubernetes indexed jobs) can spread a
//! sweep over machines; `--merge` joins the shards' JSON and finds the knee.

use crate::cli::check::{self, Ready};
use crate::cli::out::{err, errln, out, outln};
use bottleneck::model::Model;
use bottleneck::scenario::sweep::{
    Identity, Point, SweepOut, differences, fmt_value, hex, point, render,
};
use bottleneck::scenario::{self, Outcome, Scenario, Threshold};
use bottleneck::sim::Change;
use bottleneck::time::{Duration, SEC};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct SweepArgs {
    /// A topology (.ron) or a scenario (.scenario.ron); without one, the
    /// bundled default topology. A scenario brings its timeline and thresholds.
    file: Option<PathBuf>,
    /// What to vary: `traffic` (multiplier), `rps` (total open-loop rate),
    /// `servers:NODE` or `instances:APP`.
    #[arg(long, default_value = "traffic")]
    vary: String,
    /// First value.
    #[arg(long, default_value_t = 1.0)]
    from: f64,
    /// Last value.
    #[arg(long, default_value_t = 10.0)]
    to: f64,
    /// Number of values, from `--from` to `--to` inclusive.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    steps: u32,
    /// Space the values geometrically (for ranges over orders of magnitude).
    #[arg(long)]
    log: bool,
    /// A threshold that defines "broken" (repeatable) [default: the
    /// scenario's thresholds, or `p99 < 200ms` and `error_rate < 0.1%`].
    #[arg(long = "threshold")]
    thresholds: Vec<String>,
    /// Simulated time per point [default: 2m, or the scenario's `duration`].
    #[arg(long, value_parser = crate::parse_duration)]
    duration: Option<Duration>,
    /// Warm-up per point [default: a tenth of --duration, or the
    /// scenario's `warmup` when it is shorter than the duration].
    #[arg(long, value_parser = crate::parse_duration)]
    warmup: Option<Duration>,
    /// Seed [default: 1, or the scenario's `seed`].
    #[arg(long)]
    seed: Option<u64>,
    /// Run only shard K of N (1-based): points K, K+N, K+2N...
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(u32, u32)>,
    /// Print the points as JSON (for --merge).
    #[arg(long)]
    json: bool,
    /// Join the JSON outputs of shards and report the knee.
    #[arg(long, num_args = 1.., conflicts_with = "file")]
    merge: Vec<PathBuf>,
    /// Parallel jobs [default: the number of cores, fewer when the runs'
    /// memory would pass --max-memory].
    #[arg(long, short)]
    jobs: Option<usize>,
    #[command(flatten)]
    budget: check::BudgetArgs,
}

/// How this command names a run's length and warm-up in hints.
const RUN_NAMES: bottleneck::topology::bursts::RunNames<'static> =
    bottleneck::topology::bursts::RunNames {
        duration: "--duration",
        warmup: "--warmup",
    };

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("`{s}` is not K/N, e.g. 2/8"))?;
    let k: u32 = k
        .trim()
        .parse()
        .map_err(|_| format!("`{k}` is not a number"))?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("`{n}` is not a number"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("shard {k}/{n} is out of range: use 1/N to N/N"));
    }
    Ok((k, n))
}

fn values(a: &SweepArgs) -> Result<Vec<f64>, String> {
    if !a.from.is_finite() || !a.to.is_finite() {
        return Err("--from and --to must be numbers".into());
    }
    if a.from < 0.0 || a.to < 0.0 {
        return Err(format!(
            "--from {} and --to {}: a sweep varies a rate, a multiplier or a count, none of which is negative",
            fmt_value(a.from),
            fmt_value(a.to)
        ));
    }
    if a.from > a.to {
        return Err(format!(
            "--from {} is above --to {}: a sweep goes up\n   = hint: swap them: --from {} --to {}",
            fmt_value(a.from),
            fmt_value(a.to),
            fmt_value(a.to),
            fmt_value(a.from)
        ));
    }
    if a.log && (a.from <= 0.0 || a.to <= 0.0) {
        return Err("--log needs --from and --to above 0".into());
    }
    if a.log && !(a.to / a.from).is_finite() {
        return Err(format!(
            "--log from {:e} to {:e} spans more orders of magnitude than a number holds; narrow the range",
            a.from, a.to
        ));
    }
    let n = a.steps as usize;
    let vals: Vec<f64> = (0..n)
        .map(|i| {
            let f = i as f64 / (n - 1) as f64;
            if a.log {
                a.from * (a.to / a.from).powf(f)
            } else {
                a.from + (a.to - a.from) * f
            }
        })
        .collect();
    if let Some(v) = vals.iter().find(|v| !v.is_finite()) {
        return Err(format!("the range gives the value {v}; narrow it"));
    }
    Ok(whole_steps(&a.vary, vals))
}

/// A count (`servers:`, `instances:`) steps by whole numbers: the values
/// rounded, repeats dropped (the table says so when there were any).
fn whole_steps(vary: &str, vals: Vec<f64>) -> Vec<f64> {
    if !(vary.starts_with("servers:") || vary.starts_with("instances:")) {
        return vals;
    }
    let mut out: Vec<f64> = vals.into_iter().map(f64::round).collect();
    out.dedup();
    out
}

fn change(vary: &str, v: f64, model: &Model) -> Result<Change, String> {
    let count = |v: f64| -> Result<u32, String> {
        if v.is_finite() && (1.0..=1_000_000.0).contains(&v.round()) {
            Ok(v.round() as u32)
        } else {
            Err(format!("{v} is not a count from 1 to 1,000,000"))
        }
    };
    let node = |id: &str| -> Result<String, String> {
        if model.node_index(id).is_some() {
            Ok(id.to_string())
        } else {
            let ids = model.nodes.iter().map(|n| n.id.as_str());
            Err(match bottleneck::diag::closest(id, ids) {
                Some(c) => format!("`{id}` is not a node; did you mean `{c}`?"),
                None => format!("`{id}` is not a node of \"{}\"", model.name),
            })
        }
    };
    match vary.split_once(':') {
        None if vary == "traffic" => Ok(Change::Traffic(v)),
        None if vary == "rps" => {
            let base: f64 = model
                .sources
                .iter()
                .filter(|s| s.closed.is_none())
                .map(|s| s.rps)
                .sum();
            if base <= 0.0 {
                return Err("`rps` needs open-loop sources, and this topology has none".into());
            }
            Ok(Change::Traffic(v / base))
        }
        Some(("servers", id)) => Ok(Change::Servers {
            node: node(id)?,
            servers: count(v)?,
        }),
        Some(("instances", id)) => Ok(Change::Instances {
            node: node(id)?,
            count: count(v)?,
        }),
        _ => Err(format!(
            "cannot vary `{vary}`\n   = hint: use traffic, rps, servers:NODE or instances:APP"
        )),
    }
}

fn prepare(a: &SweepArgs) -> Result<Ready, ExitCode> {
    let bad = || ExitCode::from(crate::EXIT_BAD_INPUT);
    let path = a.file.clone();
    let is_scenario = path
        .as_ref()
        .is_some_and(|p| p.to_string_lossy().ends_with(".scenario.ron"));
    let mut thresholds = Vec::new();
    for t in &a.thresholds {
        match Threshold::parse(t) {
            Ok(t) => thresholds.push(t),
            Err(e) => {
                errln!("error: --threshold \"{t}\": {e}");
                return Err(bad());
            }
        }
    }
    if is_scenario {
        let p = path.expect("checked");
        let mut ready = check::prepare(&p, None).map_err(|_| bad())?;
        let mut s = ready.scenario.clone();
        if !thresholds.is_empty() {
            s.thresholds = thresholds;
            s.expect_fail = vec![false; s.thresholds.len()];
        }
        override_run(&mut s, a)?;
        if !a.thresholds.is_empty()
            || a.seed.is_some()
            || a.duration.is_some()
            || a.warmup.is_some()
        {
            ready.plan = replan(&s, &ready.model)?;
            ready.scenario = s;
        }
        check::warn_bursts(&ready, check::SCENARIO_NAMES);
        return Ok(ready);
    }
    let loaded = crate::load(path.as_ref())?;
    if thresholds.is_empty() {
        thresholds = ["p99 < 200ms", "error_rate < 0.1%"]
            .iter()
            .map(|t| Threshold::parse(t).expect("valid"))
            .collect();
    }
    let duration = a.duration.unwrap_or(Duration(2 * 60 * SEC));
    let warmup = a.warmup.unwrap_or(Duration(duration.0 / 10));
    if let Err(m) = super::run::check_run_length(duration, warmup) {
        errln!("{m}");
        return Err(bad());
    }
    let name = path.map_or(bottleneck::DEFAULT_TOPOLOGY_NAME.to_string(), |p| {
        p.display().to_string()
    });
    let mut s = Scenario::adhoc(&loaded.model.name, &name, duration, warmup, thresholds);
    s.seed = a.seed.unwrap_or(1);
    let plan = replan(&s, &loaded.model)?;
    let ready = Ready {
        scenario: s,
        model: loaded.model,
        plan,
        topology: bottleneck::diag::Diagnostics::new(
            &loaded.warnings.file,
            &loaded.warnings.source,
        ),
    };
    check::warn_bursts(&ready, RUN_NAMES);
    Ok(ready)
}

/// `--seed`, `--duration` and `--warmup` given with a scenario: its own
/// values replaced, with a note on stderr that says what they were. The
/// warm-up stays the scenario's unless given or no longer shorter than the
/// duration (then a tenth of it).
fn override_run(s: &mut Scenario, a: &SweepArgs) -> Result<(), ExitCode> {
    if a.seed.is_none() && a.duration.is_none() && a.warmup.is_none() {
        return Ok(());
    }
    let own = format!(
        "{} has seed {}, duration {} and warm-up {}",
        s.file, s.seed, s.duration, s.warmup
    );
    let duration = a.duration.unwrap_or(s.duration);
    let warmup = a.warmup.unwrap_or(if s.warmup < duration {
        s.warmup
    } else {
        Duration(duration.0 / 10)
    });
    if let Err(m) = super::run::check_run_length(duration, warmup) {
        errln!("{m}\n   = note: {own}");
        return Err(ExitCode::from(crate::EXIT_BAD_INPUT));
    }
    if let Some(seed) = a.seed {
        s.seed = seed;
    }
    s.duration = duration;
    s.warmup = warmup;
    errln!(
        "note: {own}; this sweep runs seed {}, duration {}, warm-up {}",
        s.seed,
        s.duration,
        s.warmup
    );
    Ok(())
}

fn replan(s: &Scenario, model: &Model) -> Result<scenario::Plan, ExitCode> {
    s.plan(model).map_err(|ds| {
        err!("{ds}");
        ExitCode::from(crate::EXIT_BAD_INPUT)
    })
}

pub fn sweep(a: SweepArgs) -> ExitCode {
    if !a.merge.is_empty() {
        return merge(&a.merge, a.json);
    }
    let mut ready = match prepare(&a) {
        Ok(r) => r,
        Err(code) => return code,
    };
    ready.plan.config.max_events = a.budget.max_events;
    let vals = match values(&a) {
        Ok(v) => v,
        Err(e) => {
            errln!("error: {e}");
            return ExitCode::from(crate::EXIT_BAD_INPUT);
        }
    };
    if vals.len() < a.steps as usize {
        errln!(
            "note: {} is a whole number, so the sweep steps by whole numbers: {} values from {} to {} rather than {} (fractions rounded, repeats dropped)",
            a.vary,
            vals.len(),
            fmt_value(vals[0]),
            fmt_value(vals[vals.len() - 1]),
            a.steps
        );
    }
    let picked: Vec<(u32, f64)> = vals
        .iter()
        .enumerate()
        .filter(|(i, _)| a.shard.is_none_or(|(k, n)| *i as u32 % n == k - 1))
        .map(|(i, v)| (i as u32, *v))
        .collect();
    // One change per point. The point with the most traffic (any point,
    // when servers or instances vary) is checked against the budgets
    // before any runs: the others need no more. The plans are made as the
    // points run (a timeline can be long), and the model is shared.
    let mut changes = Vec::new();
    for &(_, v) in &picked {
        match change(&a.vary, v, &ready.model)
            .and_then(|c| c.check(&ready.model).map(|()| c).map_err(|e| e.to_string()))
        {
            Ok(c) => changes.push(c),
            Err(e) => {
                errln!("error: --vary {}: {e}", a.vary);
                return ExitCode::from(crate::EXIT_BAD_INPUT);
            }
        }
    }
    let Some(top) = (0..picked.len()).max_by(|&i, &j| picked[i].1.total_cmp(&picked[j].1)) else {
        return ExitCode::SUCCESS;
    };
    let memory = match check::within_budget(&ready, Some(&changes[top]), false, &a.budget) {
        Ok(m) => vec![m; picked.len()],
        Err(r) => {
            let r = bottleneck::budget::Refusal {
                message: format!(
                    "at {} = {} (the largest point), {}",
                    a.vary,
                    fmt_value(picked[top].1),
                    r.message
                ),
                hint: format!("sweep to a lower --to, or: {}", r.hint),
            };
            // The scenario file, or the topology for a sweep of one.
            let file = if ready.scenario.source.is_empty() {
                &ready.scenario.topology
            } else {
                &ready.scenario.file
            };
            check::refuse(file, &r);
            return ExitCode::from(crate::EXIT_FAILED);
        }
    };
    let jobs = check::parallel(a.jobs, &memory, a.budget.max_memory);
    let outcomes: Vec<Outcome> = check::par_map(changes.len(), jobs, |k| {
        let plan = ready.plan.with_change_at_start(changes[k].clone());
        scenario::run(&plan, &ready.model, ready.scenario.seed, false)
    });
    let points: Vec<Point> = picked
        .iter()
        .zip(&outcomes)
        .map(|(&(i, v), o)| point(i, v, &ready.scenario, o))
        .collect();
    let (k, n) = a.shard.unwrap_or((1, 1));
    let sweep = Identity {
        topology: hex(bottleneck::topology::to_ron(&ready.model.topology).as_bytes()),
        scenario: a
            .file
            .as_ref()
            .is_some_and(|p| p.to_string_lossy().ends_with(".scenario.ron"))
            .then(|| hex(ready.scenario.source.as_bytes())),
        parameter: a.vary.clone(),
        from: a.from,
        to: a.to,
        // The values run (a count's repeats dropped), which `--merge`
        // counts the shards' points against.
        steps: vals.len() as u32,
        log: a.log,
        seed: ready.scenario.seed,
        duration: ready.scenario.duration.to_string(),
        warmup: ready.scenario.warmup.to_string(),
        thresholds: ready
            .scenario
            .thresholds
            .iter()
            .map(|t| t.text.clone())
            .collect(),
        engine: env!("CARGO_PKG_VERSION").to_string(),
        shard: format!("{k}/{n}"),
    };
    let out = SweepOut {
        sweep,
        parameter: a.vary.clone(),
        thresholds: ready
            .scenario
            .thresholds
            .iter()
            .map(|t| t.text.clone())
            .collect(),
        points,
    };
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        out!("{}", render(&out, a.shard));
    }
    ExitCode::SUCCESS
}

fn merge(files: &[PathBuf], json: bool) -> ExitCode {
    let bad = |m: String| {
        errln!("error: {m}");
        ExitCode::from(crate::EXIT_BAD_INPUT)
    };
    let mut all: Option<(SweepOut, PathBuf)> = None;
    let mut shards: Vec<(u32, PathBuf)> = Vec::new();
    let mut of: Option<u32> = None;
    let mut seen: Vec<(Point, PathBuf)> = Vec::new();
    for f in files {
        let parsed = crate::cli::files::read(
            f,
            "a sweep's JSON (from `bottleneck sweep --json`)",
            crate::cli::files::MAX_JSON_BYTES,
        )
        .map_err(|d| {
            d.message
                .trim_start_matches("cannot read the file: ")
                .to_string()
        })
        .and_then(|b| serde_json::from_slice::<SweepOut>(&b).map_err(|e| e.to_string()));
        let o = match parsed {
            Ok(o) => o,
            Err(e) => {
                return bad(format!(
                    "cannot read {} as a sweep's JSON: {e}\n   = hint: give files written by `bottleneck sweep --json` (this version)",
                    f.display()
                ));
            }
        };
        let Some((k, n)) = parse_shard(&o.sweep.shard).ok() else {
            return bad(format!(
                "{}: the shard `{}` is not K/N",
                f.display(),
                o.sweep.shard
            ));
        };
        if let Some((first, path)) = &all {
            let diff = differences(&first.sweep, &o.sweep);
            if !diff.is_empty() {
                return bad(format!(
                    "{} is not a shard of the same sweep as {}: {}\n   = hint: merge the shards of one sweep (same topology, scenario, parameter, range, steps, seed, thresholds, version)",
                    f.display(),
                    path.display(),
                    diff.join("; ")
                ));
            }
        }
        if of.is_some_and(|m| m != n) {
            return bad(format!(
                "{} is shard {k}/{n}, but the others are out of {}",
                f.display(),
                of.unwrap_or(0)
            ));
        }
        of = Some(n);
        // The same shard twice is fine when its points say the same (below).
        shards.push((k, f.clone()));
        for p in &o.points {
            if let Some((q, other)) = seen.iter().find(|(q, _)| q.index == p.index) {
                let same = serde_json::to_value(q).ok() == serde_json::to_value(p).ok();
                if !same {
                    return bad(format!(
                        "point {} ({} = {}) has different results in {} and {}\n   = hint: the files come from different runs; rerun that shard",
                        p.index,
                        o.parameter,
                        fmt_value(p.value),
                        other.display(),
                        f.display()
                    ));
                }
                continue;
            }
            seen.push((p.clone(), f.clone()));
        }
        if all.is_none() {
            all = Some((o, f.clone()));
        }
    }
    let Some((mut all, _)) = all else {
        return bad("--merge needs the JSON files of a sweep's shards".into());
    };
    let n = of.unwrap_or(1);
    let missing: Vec<String> = (1..=n)
        .filter(|k| !shards.iter().any(|(x, _)| x == k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return bad(format!(
            "shards missing: {}\n   = hint: run them with `--shard K/{n} --json` and merge every shard",
            missing.join(", ")
        ));
    }
    let steps = all.sweep.steps;
    let lost: Vec<String> = (0..steps)
        .filter(|i| !seen.iter().any(|(p, _)| p.index == *i))
        .map(|i| i.to_string())
        .collect();
    if !lost.is_empty() {
        return bad(format!(
            "the shards lack points {} of {steps}: a shard file was cut or edited",
            lost.join(", ")
        ));
    }
    all.points = seen.into_iter().map(|(p, _)| p).collect();
    all.points.sort_by_key(|p| p.index);
    all.sweep.shard = format!("1/1 (merged from {n})");
    if json {
        outln!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
    } else {
        out!("{}", render(&all, None));
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_points() {
        assert_eq!(parse_shard("2/8"), Ok((2, 8)));
        assert!(parse_shard("0/8").is_err());
        assert!(parse_shard("9/8").is_err());
        assert!(parse_shard("x").is_err());
    }
}
