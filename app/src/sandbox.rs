//! The sandbox's state, free of Bevy and egui: a topology, its running
//! simulation, the speed and the per-frame budget, smoothed signals for
//! drawing, edits with undo, and the session to save as a scenario.
//!
//! Everything here is plain Rust so it is tested without a window.

use crate::layout::Layout;
use bottleneck::analysis::{Analyzer, Load};
use bottleneck::model::Model;
use bottleneck::report::Report;
use bottleneck::sim::{Change, RunConfig, Simulation};
use bottleneck::time::{Duration, SEC, SimTime};
use bottleneck::topology::{self, Topology};

/// Speeds offered, in simulated seconds per wall second; `f64::INFINITY` is
/// "max": as fast as the frame budget allows.
pub const SPEEDS: [f64; 7] = [0.1, 1.0, 10.0, 100.0, 1_000.0, 10_000.0, f64::INFINITY];

/// Events run between two looks at the clock (and at whether the
/// interface wants the lock: see `engine`).
const CHUNK: u32 = 512;

/// The most wall time one [`Sandbox::advance`] catches up with, in
/// seconds (after a long frame or a stall the simulation skips the rest
/// rather than racing to catch up).
pub const MAX_CATCH_UP: f64 = 0.25;

/// How long the speed readings (achieved, simulated time and events per
/// wall second) are smoothed over, in wall seconds.
const RATE_SMOOTHING: f64 = 0.5;

/// A smoothed signal: an exponential moving average over windows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Ema {
    /// The smoothed value.
    pub value: f64,
    primed: bool,
}

impl Ema {
    /// Adds a sample with weight `alpha` (0 to 1).
    pub fn push(&mut self, x: f64, alpha: f64) {
        if self.primed {
            self.value += alpha * (x - self.value);
        } else {
            self.value = x;
            self.primed = true;
        }
    }
}

/// What the graph shows for one node, smoothed over the last few windows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Signals {
    /// Busy servers / servers.
    pub utilization: Ema,
    /// Mean waiting.
    pub queue: Ema,
    /// Completed per simulated second.
    pub rps: Ema,
    /// Failed / arrived.
    pub errors: Ema,
    /// 99th percentile time at the node, ms.
    pub p99_ms: Ema,
    /// Busy time spent waiting on calls / capacity.
    pub calling: Ema,
    /// Busy time spent waiting for a pool connection / capacity.
    pub pool_wait: Ema,
    /// Arrivals per simulated second.
    pub arrivals: Ema,
    /// Drops per simulated second.
    pub dropped: Ema,
    /// Drops for want of capacity per simulated second.
    pub overflow: Ema,
}

/// An edit the learner made, for undo.
#[derive(Clone, Debug)]
pub enum Edit {
    /// A live change (servers, instances...): undone by its inverse.
    Live {
        /// What was applied.
        done: Change,
        /// What undoes it.
        undo: Change,
    },
    /// A change to the topology's structure: undone by going back to the
    /// topology before it (the simulation restarts).
    Structure {
        /// The topology before.
        before: Box<Topology>,
        /// What it was, for the timeline.
        what: String,
    },
}

/// A change waiting for its simulated time (the second half of a surge,
/// the steps of a ramp).
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    /// When.
    pub at: SimTime,
    /// What.
    pub change: Change,
}

/// The sandbox.
pub struct Sandbox {
    /// What is shown in the title.
    pub title: String,
    /// Where the topology came from (a bundled stage or a file).
    pub origin: String,
    /// The topology as edited.
    pub topology: Topology,
    /// Its compiled model.
    pub model: Model,
    /// The running simulation.
    pub sim: Simulation,
    /// Seed.
    pub seed: u64,
    /// Paused.
    pub paused: bool,
    /// Requested speed (simulated seconds per wall second).
    pub speed: f64,
    /// Achieved share of the requested speed (smoothed; 1 when keeping up).
    pub achieved: Ema,
    /// Simulated seconds per wall second actually run (smoothed).
    pub sim_rate: Ema,
    /// Events per wall second (smoothed).
    pub event_rate: Ema,
    /// Node positions.
    pub layout: Layout,
    /// Per node, smoothed signals.
    pub signals: Vec<Signals>,
    /// The engine's bottleneck analysis for this model.
    pub analyzer: Analyzer,
    /// End to end.
    pub e2e: Signals,
    /// The selected node.
    pub selected: Option<usize>,
    /// Undo stack.
    pub edits: Vec<Edit>,
    /// Changes scheduled for later simulated times.
    pub pending: Vec<Pending>,
    /// Structural edits since the start, with the simulated time they were made.
    pub notes: Vec<(SimTime, String)>,
    /// A line for the status bar: (text, is an error).
    pub status: Option<(String, bool)>,
    /// The last full report (refreshed now and then, not every frame).
    pub report: Option<Report>,
    windows_seen: u64,
    caught_up: bool,
    /// Simulated time the last [`Sandbox::advance`] was asked for and did
    /// not reach (its budget ran out, or the interface took the lock): the
    /// next one runs it too, so a frame or a lock taken mid-step does not
    /// lose simulated time. At most [`MAX_CATCH_UP`] of wall time.
    owed: u64,
}

/// Why a topology could not be opened.
pub type OpenError = String;

impl Sandbox {
    /// Opens topology text.
    pub fn open(origin: &str, text: &str, seed: u64) -> Result<Sandbox, OpenError> {
        let loaded = topology::load_str(origin, text).map_err(|d| d.to_string())?;
        // Whatever its origin (a file, a drop, a link, the autosave), a
        // topology whose run would not fit is refused with the reason.
        let limits = bottleneck::budget::Limits {
            max_memory: bottleneck::share::MAX_MEMORY,
            ..bottleneck::budget::Limits::default()
        };
        bottleneck::budget::estimate(
            &loaded.model,
            &bottleneck::budget::Run::plain(60 * SEC, SEC),
        )
        .check(&limits, "the event budget", "the sandbox's memory")
        .map_err(|r| format!("{origin} is too big to simulate here: {r}"))?;
        let layout = Layout::of(&loaded.model, &loaded.model.topology.layout);
        let analyzer = Analyzer::new(&loaded.model);
        let mut s = Sandbox {
            title: loaded.model.name.clone(),
            origin: origin.to_string(),
            topology: loaded.model.topology.clone(),
            sim: Simulation::new(&loaded.model, Self::config(seed)),
            model: loaded.model,
            seed,
            paused: false,
            speed: 1.0,
            achieved: Ema::default(),
            sim_rate: Ema::default(),
            event_rate: Ema::default(),
            layout,
            signals: Vec::new(),
            analyzer,
            e2e: Signals::default(),
            selected: None,
            edits: Vec::new(),
            pending: Vec::new(),
            notes: Vec::new(),
            status: None,
            report: None,
            windows_seen: 0,
            caught_up: false,
            owed: 0,
        };
        s.signals = vec![Signals::default(); s.model.nodes.len()];
        Ok(s)
    }

    fn config(seed: u64) -> RunConfig {
        RunConfig {
            seed,
            window: Duration(SEC),
            series_capacity: 600,
            max_in_flight: 3_000_000,
            ..RunConfig::default()
        }
    }

    /// Simulated time now.
    pub fn now(&self) -> SimTime {
        self.sim.now()
    }

    /// The sources' total open-loop rate at the current multiplier.
    pub fn rps(&self) -> f64 {
        self.base_rps() * self.sim.traffic_multiplier()
    }

    /// The sources' total open-loop rate as written.
    pub fn base_rps(&self) -> f64 {
        self.model
            .sources
            .iter()
            .filter(|s| s.closed.is_none())
            .map(|s| s.rps)
            .sum()
    }

    /// Applies a change now (or says why not in the status line).
    pub fn apply(&mut self, change: Change) -> bool {
        match self.sim.apply(change) {
            Ok(()) => true,
            Err(e) => {
                self.status = Some((e.message, true));
                false
            }
        }
    }

    /// Sets the total rate of the open-loop sources.
    pub fn set_rps(&mut self, rps: f64) -> bool {
        let base = self.base_rps();
        if base <= 0.0 {
            self.status = Some((
                "this topology has no open-loop sources to grow".into(),
                true,
            ));
            return false;
        }
        self.pending
            .retain(|p| !matches!(p.change, Change::Traffic(_)));
        let m = (rps / base).clamp(0.0, bottleneck::sim::MAX_TRAFFIC);
        self.apply(Change::Traffic(m))
    }

    /// A campaign surge: `times` the traffic for `lasting`, then back.
    pub fn surge(&mut self, times: f64, lasting: Duration) {
        let m = self.sim.traffic_multiplier();
        if self.apply(Change::Traffic(
            (m * times).min(bottleneck::sim::MAX_TRAFFIC),
        )) {
            self.pending.push(Pending {
                at: self.now() + lasting.0,
                change: Change::Traffic(m),
            });
        }
    }

    /// A ramp of the traffic multiplier to `to` over `over`, a step a second.
    pub fn ramp(&mut self, to: f64, over: Duration) {
        self.pending
            .retain(|p| !matches!(p.change, Change::Traffic(_)));
        let from = self.sim.traffic_multiplier();
        let n = (over.0 / SEC).clamp(1, 3_600);
        for k in 1..=n {
            self.pending.push(Pending {
                at: self.now() + over.0 * k / n,
                change: Change::Traffic(from + (to - from) * k as f64 / n as f64),
            });
        }
    }

    /// A live capacity change that can be undone: servers or instances.
    pub fn set_capacity(&mut self, node: usize, count: u32) {
        let id = self.model.nodes[node].id.clone();
        let live = self.sim.live(node);
        let (done, undo) = match live.instances {
            Some(instances) => (
                Change::Instances {
                    node: id.clone(),
                    count,
                },
                Change::Instances {
                    node: id,
                    count: instances,
                },
            ),
            _ => (
                Change::Servers {
                    node: id.clone(),
                    servers: count,
                },
                Change::Servers {
                    node: id,
                    servers: live.servers,
                },
            ),
        };
        if self.apply(done.clone()) {
            self.edits.push(Edit::Live { done, undo });
        }
    }

    /// The capacity people change for a node: instances for an app,
    /// servers otherwise.
    pub fn capacity(&self, node: usize) -> u32 {
        let live = self.sim.live(node);
        live.instances.unwrap_or(live.servers)
    }

    /// Replaces the topology (an edit of its structure): the simulation
    /// restarts at the same traffic multiplier; positions are kept.
    pub fn restructure(&mut self, topology: Topology, what: &str) -> Result<(), OpenError> {
        let text = topology::to_ron(&topology);
        let loaded = topology::load_str(&self.origin, &text).map_err(|d| d.to_string())?;
        let before = std::mem::replace(&mut self.topology, loaded.model.topology.clone());
        let traffic = self.sim.traffic_multiplier();
        let positions = self.layout.positions();
        self.layout = Layout::of(&loaded.model, &positions);
        self.model = loaded.model;
        self.analyzer = Analyzer::new(&self.model);
        self.sim = Simulation::new(&self.model, Self::config(self.seed));
        if traffic != 1.0 {
            let _ = self.sim.apply(Change::Traffic(traffic));
        }
        self.signals = vec![Signals::default(); self.model.nodes.len()];
        self.e2e = Signals::default();
        self.windows_seen = 0;
        self.pending.clear();
        self.report = None;
        self.selected = None;
        self.edits.push(Edit::Structure {
            before: Box::new(before),
            what: what.to_string(),
        });
        self.notes.push((0, what.to_string()));
        self.status = Some((format!("{what}: the simulation restarted with it"), false));
        Ok(())
    }

    /// Undoes the last edit.
    pub fn undo(&mut self) {
        match self.edits.pop() {
            None => self.status = Some(("nothing to undo".into(), false)),
            Some(Edit::Live { undo, .. }) => {
                self.apply(undo);
            }
            Some(Edit::Structure { before, what }) => {
                if self.restructure(*before, &format!("undo: {what}")).is_ok() {
                    // Undoing is not itself undoable.
                    self.edits.pop();
                }
            }
        }
    }

    /// Runs the simulation for a frame: `wall_dt` seconds of wall time at
    /// the requested speed, but never for longer than `budget()` says
    /// (wall time spent so far in this frame, in seconds, against
    /// `max_wall`). Returns the events run.
    pub fn advance(&mut self, wall_dt: f64, max_wall: f64, spent: &mut dyn FnMut() -> f64) -> u64 {
        self.caught_up = false;
        if self.paused || self.sim.stopped().is_some() {
            self.owed = 0;
            return 0;
        }
        let start = self.now();
        let target = if self.speed.is_finite() {
            let wanted = (wall_dt.clamp(0.0, MAX_CATCH_UP) * self.speed * SEC as f64) as u64;
            let most = (MAX_CATCH_UP * self.speed * SEC as f64) as u64;
            start.saturating_add(wanted.saturating_add(self.owed).min(most))
        } else {
            SimTime::MAX
        };
        let events0 = self.sim.events();
        'frame: loop {
            // Scheduled changes due before the next event apply first.
            self.pending.sort_by_key(|p| p.at);
            for _ in 0..CHUNK {
                let next = self.sim.next_event_time().unwrap_or(SimTime::MAX);
                if let Some(p) = self.pending.first()
                    && p.at <= next
                    && p.at <= target
                {
                    let p = self.pending.remove(0);
                    if self.sim.step_until(p.at).is_err() {
                        break 'frame;
                    }
                    self.apply(p.change);
                    continue;
                }
                if next > target || next == SimTime::MAX {
                    if target != SimTime::MAX {
                        let _ = self.sim.step_until(target);
                    }
                    // Nothing pending at all (no traffic): nothing to run.
                    self.caught_up = true;
                    break 'frame;
                }
                if let Err(e) = self.sim.step_event() {
                    self.status = Some((e.to_string(), true));
                    self.paused = true;
                    break 'frame;
                }
            }
            if spent() >= max_wall {
                break;
            }
        }
        self.owed = if self.caught_up || target == SimTime::MAX {
            0
        } else {
            target.saturating_sub(self.now())
        };
        let ran = self.now().saturating_sub(start) as f64 / SEC as f64;
        let events = self.sim.events() - events0;
        if wall_dt > 0.0 {
            // Weighted by the wall time the sample covers, so the readings
            // mean the same whether the engine steps once a frame (browser)
            // or hundreds of times a second (its own thread).
            let alpha = 1.0 - (-wall_dt / RATE_SMOOTHING).exp();
            self.sim_rate.push(ran / wall_dt, alpha);
            self.event_rate.push(events as f64 / wall_dt, alpha);
            if self.speed.is_finite() {
                let wanted = (wall_dt.min(0.25) * self.speed).max(1e-12);
                // Not capped per step: a step that runs what the one
                // before it owed goes above 1, and the average over wall
                // time is the share achieved.
                self.achieved.push(ran / wanted, alpha);
            } else {
                // "Max" asks for whatever the budget allows: always met.
                self.achieved.push(1.0, alpha);
            }
        }
        self.update_signals();
        events
    }

    /// True when the last [`Sandbox::advance`] had nothing (more) to do:
    /// paused, stopped, caught up with the requested speed, or out of
    /// events. The engine thread then sleeps a little.
    pub fn idle(&self) -> bool {
        self.paused || self.sim.stopped().is_some() || self.caught_up
    }

    /// Steps exactly one event (the "step" button).
    pub fn step_one(&mut self) {
        if let Err(e) = self.sim.step_event() {
            self.status = Some((e.to_string(), true));
        }
        self.update_signals();
    }

    /// Folds the windows completed since the last call into the signals.
    fn update_signals(&mut self) {
        let e2e = self.sim.end_to_end_series();
        let Some(last) = e2e.records().last().copied() else {
            return;
        };
        let window = self.sim.config().window.0;
        let seen = last.start / window + 1;
        if seen == self.windows_seen {
            return;
        }
        let new = (seen - self.windows_seen).min(e2e.records().len() as u64) as usize;
        self.windows_seen = seen;
        let w = window as f64 / SEC as f64;
        let alpha = 0.25;
        let fold = |s: &mut Signals, r: &bottleneck::metrics::WindowRecord| {
            s.utilization.push(r.utilization, alpha);
            s.queue.push(r.mean_queue_len, alpha);
            s.rps.push(r.completed as f64 / w, alpha);
            s.errors
                .push(r.dropped as f64 / (r.arrivals.max(1)) as f64, alpha);
            s.calling.push(r.calling, alpha);
            s.pool_wait.push(r.pool_wait, alpha);
            s.arrivals.push(r.arrivals as f64 / w, alpha);
            s.dropped.push(r.dropped as f64 / w, alpha);
            s.overflow.push(r.overflow as f64 / w, alpha);
            if let Some(p) = r.p99_ms {
                s.p99_ms.push(p, alpha);
            }
        };
        let n = e2e.records().len();
        for r in e2e.records().skip(n - new) {
            fold(&mut self.e2e, r);
        }
        for i in 0..self.model.nodes.len() {
            let series = self.sim.series(i);
            let n = series.records().len();
            let k = new.min(n);
            for r in series.records().skip(n - k) {
                fold(&mut self.signals[i], r);
            }
        }
    }

    /// The node that limits the system now, with a one-line reason: the
    /// engine's analysis (the same as the CLI report's) over the smoothed
    /// signals of the last few simulated seconds.
    pub fn bottleneck(&self) -> Option<(usize, String)> {
        // Rates as counts per 100 simulated seconds: the analysis only
        // compares them.
        let count = |e: &Ema| (e.value * 100.0).round().max(0.0) as u64;
        let loads: Vec<Load> = self
            .signals
            .iter()
            .enumerate()
            .map(|(i, s)| Load {
                utilization: s.utilization.value,
                calling: s.calling.value,
                pool_wait: s.pool_wait.value,
                mean_queue: s.queue.value,
                arrivals: count(&s.arrivals),
                dropped: count(&s.dropped),
                overflow: count(&s.overflow),
                servers: self.sim.live(i).servers,
                ..Load::default()
            })
            .collect();
        let f = self.analyzer.find(&loads)?;
        if f.utilization < 0.05 && loads[f.node].dropped == 0 {
            return None;
        }
        let mut reason = f.reason;
        if self.sim.live(f.node).down {
            reason = format!("{}: down", self.model.nodes[f.node].id);
        }
        Some((f.node, reason))
    }

    /// True if node `i` only hands requests on (a balancer, a router, a
    /// limiter): it has no capacity of its own.
    pub fn routes_only(&self, i: usize) -> bool {
        self.analyzer.routes_only(i)
    }

    /// Refreshes the full report (for the inspector's kind-specific numbers).
    pub fn refresh_report(&mut self) {
        self.report = Some(self.sim.report());
    }

    /// The session as a scenario file that `bottleneck check` replays
    /// exactly, with the topology it names.
    pub fn session(&self, topology_file: &str) -> (String, String) {
        // The structural edits made before this run (each restarted the
        // simulation; the topology saved is their result).
        let edits: String = self
            .notes
            .iter()
            .map(|(_, what)| format!("// edit before this run: {}\n", what.replace('\n', " ")))
            .collect();
        let scenario = edits
            + &bottleneck::scenario::record(
                &format!("Session on {}", self.title),
                topology_file,
                self.seed,
                Duration(self.now().max(1)),
                self.sim.changes(),
            );
        (scenario, self.topology_text())
    }

    /// The current topology as RON, with the node positions saved in it.
    pub fn topology_text(&self) -> String {
        let mut t = self.topology.clone();
        t.layout = self.layout.positions();
        let body = topology::to_ron(&t);
        format!(
            "// Saved by the Bottleneck sandbox from {}.\n{body}\n",
            self.origin
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEB: &str = r#"Topology(
        name: "web",
        sources: [Source(id: "users", to: "lb", arrivals: Poisson(rps: 400), mix: {"read": 0.9, "write": 0.1},
                         keys: Zipf(keys: 10_000, s: 1.0))],
        nodes: [
            LoadBalancer(id: "lb", policy: RoundRobin, to: ["app-1"]),
            App(id: "app-1", workers: 64, service: Constant("5ms"),
                handle: {"read": [Read(db: "db")], "write": [Write(db: "db")]}),
            Database(id: "db", servers: 2, read: Exponential(mean: "4ms"), write: Exponential(mean: "8ms")),
        ],
    )"#;

    fn clock() -> impl FnMut() -> f64 {
        let mut t = 0.0;
        move || {
            t += 0.001;
            t
        }
    }

    #[test]
    fn runs_at_the_requested_speed() {
        let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
        s.speed = 10.0;
        let mut c = clock();
        for _ in 0..30 {
            s.advance(1.0 / 60.0, 1.0, &mut c);
        }
        // 30 frames of 1/60 s at 10x: 5 simulated seconds (to the ns rounding).
        assert!(s.now().abs_diff(5 * SEC) < 1_000, "{}", s.now());
        assert!(s.achieved.value > 0.99);
        assert!(s.signals[2].utilization.value > 0.2, "the database works");
    }

    #[test]
    fn the_frame_budget_holds_and_reports_the_shortfall() {
        let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
        s.speed = 1e6;
        // A clock that says each chunk took 4 ms: with an 8 ms budget, a
        // frame runs at most a few chunks and the achieved speed drops.
        let mut t = 0.0;
        let mut c = move || {
            t += 0.004;
            t
        };
        let ran = s.advance(1.0 / 60.0, 0.008, &mut c);
        assert!(ran <= 2 * CHUNK as u64, "{ran} events");
        assert!(s.achieved.value < 0.5);
    }

    #[test]
    fn simulated_time_not_reached_in_one_step_is_run_in_the_next() {
        let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
        s.speed = 100.0;
        // The first step is cut short after one chunk (as when the
        // interface takes the lock): what it did not run, the next runs.
        let mut cut = || f64::INFINITY;
        s.advance(0.1, 0.0, &mut cut);
        assert!(s.now() < 9 * SEC, "{}", s.now());
        let mut c = clock();
        s.advance(0.1, 1.0, &mut c);
        assert!(s.now().abs_diff(20 * SEC) < 1_000, "{}", s.now());
        // The debt is bounded by MAX_CATCH_UP of wall time.
        s.advance(10.0, 0.0, &mut cut);
        s.advance(0.0, 1.0, &mut c);
        let most = (MAX_CATCH_UP * 100.0 * SEC as f64) as u64;
        assert!(s.now().abs_diff(20 * SEC + most) < 1_000, "{}", s.now());
    }

    #[test]
    fn no_traffic_at_max_speed_returns_at_once() {
        let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
        s.set_rps(0.0);
        s.speed = f64::INFINITY;
        let mut c = clock();
        // Drain what was scheduled before the change, then nothing is left.
        for _ in 0..10 {
            s.advance(0.016, 1.0, &mut c);
        }
        let mut calls = 0;
        let mut counting = || {
            calls += 1;
            0.0
        };
        assert_eq!(s.advance(0.016, 1.0, &mut counting), 0);
        assert_eq!(calls, 0, "no busy loop waiting for the budget");
    }

    #[test]
    fn traffic_surges_and_ramps_come_back() {
        let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
        s.speed = 100.0;
        s.surge(11.0, Duration(60 * SEC));
        assert!((s.rps() - 4400.0).abs() < 1e-6);
        let mut c = clock();
        while s.now() < 61 * SEC {
            s.advance(0.1, 1.0, &mut c);
        }
        assert!((s.rps() - 400.0).abs() < 1e-6, "back after the surge");
        s.ramp(3.0, Duration(10 * SEC));
        while s.now() < 75 * SEC {
            s.advance(0.1, 1.0, &mut c);
        }
        assert!((s.rps() - 1200.0).abs() < 1e-6);
        assert!(s.set_rps(100.0));
        assert!((s.rps() - 100.0).abs() < 1e-6);
    }

    #[test]
    fn capacity_edits_undo() {
        let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
        s.set_capacity(2, 5);
        assert_eq!(s.capacity(2), 5);
        s.set_capacity(1, 3);
        assert_eq!(s.capacity(1), 3, "apps scale by instances");
        s.undo();
        assert_eq!(s.capacity(1), 1);
        s.undo();
        assert_eq!(s.capacity(2), 2);
        s.undo();
        assert_eq!(s.status.as_ref().unwrap().0, "nothing to undo");
    }

    #[test]
    fn the_bottleneck_moves_when_the_database_grows() {
        let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
        s.speed = 1_000.0;
        s.set_rps(900.0);
        let mut c = clock();
        while s.now() < 30 * SEC {
            s.advance(0.01, 1.0, &mut c);
        }
        // The app's workers are saturated too, waiting on the database: the
        // bottleneck is the one downstream.
        assert!(s.signals[1].utilization.value > 0.95);
        assert_eq!(s.bottleneck().unwrap().0, 2, "{:?}", s.bottleneck());
        s.set_capacity(2, 16);
        while s.now() < 90 * SEC {
            s.advance(0.01, 1.0, &mut c);
        }
        assert!(s.signals[2].utilization.value < 0.5, "the database cooled");
        assert!(s.e2e.p99_ms.value < 50.0, "p99 {}", s.e2e.p99_ms.value);
    }

    #[test]
    fn a_saved_session_replays_to_the_same_report() {
        let mut s = Sandbox::open("web.ron", WEB, 3).unwrap();
        s.speed = 100.0;
        let mut c = clock();
        for k in 0..40 {
            s.advance(0.05, 1.0, &mut c);
            if k == 10 {
                s.apply(Change::Down("db".into()));
            }
            if k == 20 {
                s.apply(Change::Up("db".into()));
                s.set_capacity(2, 4);
            }
        }
        let (scenario, topology) = s.session("web.ron");
        let sc = bottleneck::scenario::parse_str("s.ron", &scenario).unwrap();
        let m = topology::load_str("web.ron", &topology).unwrap().model;
        let plan = sc.plan(&m).unwrap();
        let o = bottleneck::scenario::run(&plan, &m, sc.seed, false);
        assert_eq!(o.report.to_json(), s.sim.report().to_json());
    }
}
