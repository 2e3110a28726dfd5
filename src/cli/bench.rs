//! `bottleneck bench`: the engine's speed on the standard workloads (W1, W3).
//!
//! Wall-clock timing lives here, in the binary, never in the engine.

use crate::cli::out::{err, errln, outln};
use bottleneck::fmt::fmt_count;
use bottleneck::sim::{RunConfig, Simulation};
use bottleneck::time::{Duration, MS, SEC};
use bottleneck::topology;
use clap::{Args, ValueEnum};
use std::process::ExitCode;
use std::time::Instant;

/// The workloads.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// M/M/1 at rho 0.9, about 1,000,000 requests.
    W1,
    /// The web stack, 1000 rps for 1000 simulated seconds.
    W3,
    /// W1 with ten times the requests: memory must stay flat.
    W1x10,
}

/// Options of `bottleneck bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// Which workloads (default: W1 and W3).
    #[arg(long, value_enum)]
    workload: Vec<Workload>,
    /// Runs of each; the fastest is reported.
    #[arg(long, default_value_t = 3)]
    repeat: u32,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

struct Spec {
    name: &'static str,
    text: &'static str,
    duration: Duration,
}

fn spec(w: Workload) -> Spec {
    match w {
        Workload::W1 => Spec {
            name: "W1 M/M/1 rho=0.9, 1M requests",
            text: include_str!("../../bench/w1.ron"),
            duration: Duration(1_111_111 * MS),
        },
        Workload::W1x10 => Spec {
            name: "W1x10 M/M/1 rho=0.9, 10M requests",
            text: include_str!("../../bench/w1.ron"),
            duration: Duration(11_111_111 * MS),
        },
        Workload::W3 => Spec {
            name: "W3 web stack, 1000 rps x 1000 s",
            text: include_str!("../../bench/w3.ron"),
            duration: Duration(1000 * SEC),
        },
    }
}

/// Peak resident memory of this process, in KiB (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the benchmark.
pub fn bench(args: BenchArgs) -> ExitCode {
    let workloads = if args.workload.is_empty() {
        vec![Workload::W1, Workload::W3]
    } else {
        args.workload.clone()
    };
    if !args.json {
        outln!(
            "{:<36} {:>12} {:>12} {:>10} {:>14} {:>14} {:>10} {:>10}",
            "workload",
            "events",
            "requests",
            "wall s",
            "events/s",
            "requests/s",
            "peak slab",
            "rss MiB"
        );
    }
    for w in workloads {
        let s = spec(w);
        let loaded = match topology::load_str(s.name, s.text) {
            Ok(l) => l,
            Err(d) => {
                err!("{d}");
                return ExitCode::from(2);
            }
        };
        let mut best = f64::INFINITY;
        let mut last = None;
        for _ in 0..args.repeat.max(1) {
            let config = RunConfig {
                seed: 1,
                series_capacity: 100,
                ..RunConfig::default()
            };
            let start = Instant::now();
            let mut sim = Simulation::new(&loaded.model, config);
            if let Err(e) = sim.step_until(s.duration.0) {
                errln!("error: {e}");
                return ExitCode::from(1);
            }
            let wall = start.elapsed().as_secs_f64();
            best = best.min(wall);
            last = Some(sim);
        }
        let sim = last.expect("ran at least once");
        let report = sim.report();
        let events = sim.events();
        let requests = report.end_to_end.arrivals;
        let rss = peak_rss_kib().map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0));
        if args.json {
            outln!(
                "{{\"workload\":\"{}\",\"events\":{events},\"requests\":{requests},\"wall_s\":{best:.4},\"events_per_s\":{:.0},\"requests_per_s\":{:.0},\"peak_in_flight\":{},\"peak_rss_mib\":\"{rss}\"}}",
                s.name,
                events as f64 / best,
                requests as f64 / best,
                sim.peak_in_flight()
            );
        } else {
            outln!(
                "{:<36} {:>12} {:>12} {:>10.3} {:>14} {:>14} {:>10} {:>10}",
                s.name,
                fmt_count(events),
                fmt_count(requests),
                best,
                fmt_count((events as f64 / best) as u64),
                fmt_count((requests as f64 / best) as u64),
                fmt_count(sim.peak_in_flight() as u64),
                rss
            );
        }
    }
    ExitCode::SUCCESS
}
