//! Helpers shared by the integration tests.

use bottleneck::model::Model;
use bottleneck::report::Report;
use bottleneck::sim::{RunConfig, Simulation};
use bottleneck::time::{Duration, SEC};
use bottleneck::topology;

/// Loads a topology from text, panicking with the rendered diagnostics.
pub fn model(text: &str) -> Model {
    match topology::load_str("test.ron", text) {
        Ok(l) => l.model,
        Err(d) => panic!("{d}"),
    }
}

/// Runs `model` for `secs` simulated seconds after `warmup_secs` of warm-up.
pub fn run(model: &Model, seed: u64, secs: f64, warmup_secs: f64) -> Report {
    let config = RunConfig {
        seed,
        warmup: Duration((warmup_secs * SEC as f64) as u64),
        max_in_flight: 10_000_000,
        ..RunConfig::default()
    };
    let mut sim = Simulation::new(model, config);
    sim.step_until(((warmup_secs + secs) * SEC as f64) as u64)
        .expect("run within budget");
    let r = sim.report();
    check_little(&r);
    r
}

/// Independent replications: one report per seed in 1..=reps.
pub fn reports(model: &Model, reps: u64, secs: f64, warmup: f64) -> Vec<Report> {
    (1..=reps)
        .map(|seed| run(model, seed, secs, warmup))
        .collect()
}

/// Mean and standard error of `metric` over independent replications. They
/// are independent, so the standard error of their mean is the sample
/// standard deviation over sqrt(reps), whatever the autocorrelation inside
/// one run.
pub fn stat(reports: &[Report], metric: impl Fn(&Report) -> f64) -> (f64, f64) {
    let xs: Vec<f64> = reports.iter().map(metric).collect();
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Asserts that an estimate agrees with theory: within 4 standard errors
/// (a false alarm has probability about 1e-4 under normality; the seeds are
/// fixed, so a passing test stays passing) plus `bias` relative for known
/// discretisation (histogram buckets are 0.4% wide at the midpoint). Also
/// asserts the estimate is sharp (standard error under `max_rel_se`), so the
/// test could fail if the engine were wrong by a few percent.
pub fn assert_agrees(what: &str, (mean, se): (f64, f64), theory: f64, bias: f64, max_rel_se: f64) {
    eprintln!(
        "{what}: simulated {mean:.5} +- {se:.5} (se {:.2}%), theory {theory:.5}, off by {:+.2}%",
        100.0 * se / theory,
        100.0 * (mean - theory) / theory
    );
    assert!(
        se <= max_rel_se * theory.abs(),
        "{what}: standard error {se:.5} is too large to judge (over {:.1}% of {theory:.5}); run longer",
        max_rel_se * 100.0
    );
    let tol = 4.0 * se + bias * theory.abs();
    assert!(
        (mean - theory).abs() <= tol,
        "{what}: simulated {mean:.5} +- {se:.5}, theory {theory:.5} (tolerance {tol:.5})"
    );
}

/// Little's law, L = lambda W, per node and end to end, on every run.
///
/// `mean_in_system` is a time average over the measured interval; lambda W is
/// built from the visits that completed. They differ only by edge effects
/// (requests in flight at the start and end of the interval), which are
/// bounded by `in_flight / measured_s`; the tolerance allows 3% plus that.
pub fn check_little(r: &Report) {
    let t = r.measured_s;
    if t <= 0.0 {
        return;
    }
    for (id, n) in &r.nodes.0 {
        if n.completed < 5_000 {
            continue;
        }
        let lambda = n.completed as f64 / t;
        let w = n.mean_sojourn_ms.unwrap() / 1e3;
        let l = n.mean_in_system;
        let edge = 2.0 * (n.in_flight as f64 + l) * w / t;
        let tol = 0.03 * l.max(lambda * w) + edge + 1e-3;
        assert!(
            (l - lambda * w).abs() <= tol,
            "Little's law at `{id}`: L = {l:.4} but lambda W = {lambda:.2} x {w:.6} = {:.4}",
            lambda * w
        );
    }
    let e = &r.end_to_end;
    if e.completed >= 5_000 && e.dropped == 0 {
        let lambda = e.completed as f64 / t;
        let w = e.mean_ms.unwrap() / 1e3;
        let l = e.mean_in_system;
        let tol = 0.03 * l.max(lambda * w) + 2.0 * (e.in_flight as f64 + l) * w / t + 1e-3;
        assert!(
            (l - lambda * w).abs() <= tol,
            "Little's law end to end: L = {l:.4} but lambda W = {:.4}",
            lambda * w
        );
    }
}

/// Runs the `bottleneck` binary from the repository's root.
pub fn bottleneck(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_bottleneck"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// Output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Wall time a capped run may take before it counts as hung (generous:
/// the hostile inputs finish in well under a second; CI machines are slow
/// and run tests in parallel).
pub const TIME_CAP: std::time::Duration = std::time::Duration::from_secs(90);
/// Address space a capped run may take, KiB (4 GiB): past it allocations
/// fail and the run aborts, so a blow-up fails the test instead of the
/// machine.
pub const MEMORY_CAP_KIB: u64 = 4 * 1024 * 1024;

/// Where a capped run's stdout goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdout {
    /// Captured (up to 16 MiB are kept).
    Capture,
    /// `/dev/full`: every write fails with "no space left".
    Full,
    /// A pipe whose reader has gone, as `| head -1` leaves it.
    Closed,
}

/// What a capped run did.
#[derive(Debug)]
pub struct Capped {
    /// Exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Stdout, as text.
    pub stdout: String,
    /// Stderr, as text.
    pub stderr: String,
}

/// Reads a pipe to its end, keeping at most 16 MiB.
fn drain(mut r: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            if kept.len() < 16 << 20 {
                kept.extend_from_slice(&buf[..n]);
            }
        }
        kept
    })
}

/// Runs the `bottleneck` binary from the repository's root under
/// [`TIME_CAP`] and [`MEMORY_CAP_KIB`] (`ulimit -v` in `sh`, before `exec`),
/// with `shell` run first in that shell (e.g. `exec 2>&-` to close stderr).
/// Panics, naming the command, if it hangs past the time cap, is killed by
/// a signal (an allocation past the memory cap aborts), or panics (exit
/// 101): a hostile input must end, within bounds, with an exit code.
pub fn bottleneck_capped_in(shell: &str, args: &[&str], out: Stdout) -> Capped {
    use std::process::{Command, Stdio};
    let script = format!("ulimit -v {MEMORY_CAP_KIB} || exit 97; {shell} exec \"$0\" \"$@\"");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_bottleneck"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // Few malloc arenas, so threads do not reserve address space.
        .env("MALLOC_ARENA_MAX", "2")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    match out {
        Stdout::Capture | Stdout::Closed => cmd.stdout(Stdio::piped()),
        Stdout::Full => cmd.stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full"),
        ),
    };
    let start = std::time::Instant::now();
    let mut child = cmd.spawn().expect("sh runs");
    let stdout = child.stdout.take().map(|s| {
        if out == Stdout::Closed {
            drop(s);
            None
        } else {
            Some(drain(s))
        }
    });
    let stderr = drain(child.stderr.take().expect("piped"));
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > TIME_CAP {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`bottleneck {}` did not finish within {TIME_CAP:?}: a hang",
                args.join(" ")
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let stderr = text(&stderr.join().unwrap_or_default());
    let stdout = match stdout.flatten() {
        Some(h) => text(&h.join().unwrap_or_default()),
        None => String::new(),
    };
    let code = status.code();
    assert!(
        code.is_some() && code != Some(101) && code != Some(97),
        "`bottleneck {}` ended with {status} (a panic, a signal or the memory cap):\n{stderr}",
        args.join(" ")
    );
    Capped {
        code,
        stdout,
        stderr,
    }
}

/// [`bottleneck_capped_in`] with nothing run before.
pub fn bottleneck_capped(args: &[&str], out: Stdout) -> Capped {
    bottleneck_capped_in("", args, out)
}
