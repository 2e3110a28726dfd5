//! The sandbox's state, free of Bevy and egui: a topology, its running
//! simulation, the speed and the per-frame budget, smoothed signals for
//! drawing, edits with undo, and the session to save as a scenario.
//!
//! Everything here is plain Rust so it is tested without a window.

use crate::layout::Layout;
use bottleneck::analysis::{Analyzer, Load};
use bottleneck::model::Model;
use bottleneck::report::Report;
use bottleneck::scenario::FaultState;
use bottleneck::sim::{Change, RunConfig, Simulation, TrafficProfile};
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

pub use crate::signals::{Ema, Signals};

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
    /// A change to the topology's structure, applied live: undone by
    /// going back to the topology before it (another live edit).
    Structure {
        /// The topology before.
        before: Box<Topology>,
        /// What it was, for the timeline.
        what: String,
    },
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
    /// The topology the simulation started from (saved sessions replay
    /// from it, structural edits included).
    pub start: Topology,
    /// Structural edits, with the simulated time they were made.
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
            start: loaded.model.topology.clone(),
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

    /// Whether `change` would act on the running simulation now
    /// ([`bottleneck::scenario::fault_effect`]): `Err` says why it would
    /// do nothing, in the words `bottleneck check` refuses it with.
    pub fn would_act(&self, state: &FaultState, change: &Change) -> Result<(), String> {
        bottleneck::scenario::fault_effect(&self.model, state, change)
            .map_err(|e| format!("would do nothing: {} ({})", e.message, e.hint))
    }

    /// The fault state of the running simulation, for [`Sandbox::would_act`].
    pub fn fault_state(&self) -> FaultState {
        FaultState::of_live(&self.sim)
    }

    /// Applies a fault or repair only if it would act; otherwise says why
    /// not in the status line (a fault that does nothing would teach
    /// nothing, and `bottleneck check` refuses it in a replay).
    pub fn apply_fault(&mut self, change: Change) -> bool {
        if let Err(why) = self.would_act(&self.fault_state(), &change) {
            self.status = Some((why, true));
            return false;
        }
        self.apply(change)
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
        self.sim
            .cancel_scheduled(|c| matches!(c, Change::Traffic(_)));
        let m = (rps / base).clamp(0.0, bottleneck::sim::MAX_TRAFFIC);
        self.apply(Change::Traffic(m))
    }

    /// A campaign surge: `times` the traffic for `lasting`, then back
    /// (the engine's traffic profile).
    pub fn surge(&mut self, times: f64, lasting: Duration) {
        self.profile(TrafficProfile::Spike { times, lasting });
    }

    /// A ramp of the traffic multiplier to `to` over `over`, a step a
    /// second (the engine's traffic profile).
    pub fn ramp(&mut self, to: f64, over: Duration) {
        self.profile(TrafficProfile::Ramp { to, over });
    }

    fn profile(&mut self, p: TrafficProfile) {
        if let Err(e) = self.sim.traffic_profile(p) {
            self.status = Some((e.message, true));
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

    /// Applies an edit of the topology's structure live: the clock goes
    /// on, nodes that stay keep their state, new ones start cold, removed
    /// ones fail their work (`bottleneck::live`); positions are kept.
    /// Sources, request classes and regions change live too: a removed
    /// source falls silent, a new one starts now.
    pub fn restructure(&mut self, topology: Topology, what: &str) -> Result<(), OpenError> {
        let r = bottleneck::live::restructure(
            &self.origin,
            self.sim.model(),
            self.sim.retirements(),
            &topology,
            what,
        )
        .map_err(|d| d.to_string())?;
        let remap = self.sim.restructure(r).map_err(|e| e.to_string())?;
        let before = std::mem::replace(&mut self.topology, topology);
        let positions = self.layout.positions();
        self.model = self.sim.model().clone();
        self.layout = Layout::of(&self.model, &positions);
        self.analyzer = Analyzer::new(&self.model);
        self.signals
            .resize(self.model.nodes.len(), Signals::default());
        for &i in &remap.removed {
            self.signals[i] = Signals::default();
        }
        if self.selected.is_some_and(|i| remap.removed.contains(&i)) {
            self.selected = None;
        }
        self.report = None;
        self.edits.push(Edit::Structure {
            before: Box::new(before),
            what: what.to_string(),
        });
        self.notes.push((self.now(), what.to_string()));
        self.status = Some((format!("{what}: applied while running"), false));
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
            // Scheduled changes (a surge's end, a ramp's steps) are the
            // engine's: `next_event_time` and `step_event` include them.
            for _ in 0..CHUNK {
                let next = self.sim.next_event_time().unwrap_or(SimTime::MAX);
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
        // Structural edits are in the changes (`Restructure`), so the
        // session starts from the topology the simulation started from.
        let scenario = bottleneck::scenario::record(
            &format!("Session on {}", self.title),
            topology_file,
            self.seed,
            Duration(self.now().max(1)),
            self.sim.changes(),
        );
        let mut t = self.start.clone();
        t.layout = self.layout.positions();
        let body = topology::to_ron(&t);
        let start = format!(
            "// Saved by the Bottleneck sandbox from {} (as the session started).\n{body}\n",
            self.origin
        );
        (scenario, start)
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
#[path = "sandbox_tests.rs"]
mod tests;
