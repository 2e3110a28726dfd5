//! Bottleneck's sandbox: grow traffic, break things, watch the bottleneck
//! move. A Bevy app whose every feature is a plugin; the state logic lives in
//! plain modules ([`sandbox`], [`layout`], [`edits`], [`content`]) tested
//! without a window, and the engine is used only through its public API.

pub mod builder;
pub mod content;
pub mod edits;
pub mod engine;
pub mod layout;
pub mod sandbox;
pub mod share;
pub mod signals;
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod web;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPlugin, EguiPrimaryContextPass};
use sandbox::Sandbox;
use std::path::PathBuf;

/// The sandbox as a Bevy resource: shared with the engine thread (native),
/// so systems take it with [`SandboxRes::lock`] for as long as they need it.
#[derive(Resource, Clone)]
pub struct SandboxRes(pub engine::Engine);

impl SandboxRes {
    /// The sandbox (the engine pauses after its current chunk of events).
    pub fn lock(&self) -> engine::Held<'_> {
        self.0.lock()
    }
}

/// The interface's own state.
#[derive(Resource, Default)]
pub struct UiRes(pub ui::UiState);

/// Runs the engine: natively in a thread of its own (see [`engine`]), in
/// the browser for part of each frame ([`engine::frame_budget`]).
pub struct SimulationPlugin;

impl Plugin for SimulationPlugin {
    fn build(&self, app: &mut App) {
        // Natively, [`app`] starts the engine thread before Bevy's threads.
        #[cfg(not(target_arch = "wasm32"))]
        let _ = app;
        #[cfg(target_arch = "wasm32")]
        app.add_systems(Update, drive);
    }
}

/// The engine thread, stopped and joined when the app's world is dropped.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Resource)]
struct EngineThread(engine::Engine, Option<std::thread::JoinHandle<()>>);

#[cfg(not(target_arch = "wasm32"))]
impl Drop for EngineThread {
    fn drop(&mut self) {
        self.0.stop();
        if let Some(h) = self.1.take() {
            let _ = h.join();
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn drive(time: Res<Time<Real>>, sb: Res<SandboxRes>, mut engine_last: Local<f64>) {
    let start = bevy::platform::time::Instant::now();
    let mut spent = move || start.elapsed().as_secs_f64();
    let dt = time.delta_secs_f64();
    let budget = engine::frame_budget(dt - *engine_last);
    sb.0.advance_frame(dt, budget, &mut spent);
    *engine_last = start.elapsed().as_secs_f64();
}

/// The interface: panels, graph, inspector, lessons.
pub struct InterfacePlugin;

impl Plugin for InterfacePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<UiRes>()
            .add_systems(Startup, |mut commands: Commands| {
                // No multisampling: egui covers the window and draws its
                // own anti-aliased edges, and a 4x MSAA target (Bevy's
                // default) costs a software renderer a clear and a resolve
                // of 4x the window's pixels every frame.
                commands.spawn((Camera2d, Msaa::Off));
            })
            .add_systems(EguiPrimaryContextPass, interface)
            .add_systems(Update, open_requested);
    }
}

fn interface(
    mut contexts: EguiContexts,
    time: Res<Time>,
    sb: Res<SandboxRes>,
    mut st: ResMut<UiRes>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    ui::draw(ctx, &mut sb.lock(), &mut st.0, time.delta_secs_f64());
    Ok(())
}

fn open_requested(sb: Res<SandboxRes>, mut st: ResMut<UiRes>) {
    if let Some((name, text)) = st.0.open.take() {
        let mut sb = sb.lock();
        match Sandbox::open(&name, &text, sb.seed) {
            Ok(mut s) => {
                s.speed = sb.speed;
                *sb = s;
            }
            Err(e) => sb.status = Some((e, true)),
        }
    }
}

/// Native only: topology files dropped on the window open.
#[cfg(not(target_arch = "wasm32"))]
pub struct DropPlugin;

#[cfg(not(target_arch = "wasm32"))]
impl Plugin for DropPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, dropped);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn dropped(mut drops: MessageReader<bevy::window::FileDragAndDrop>, mut st: ResMut<UiRes>) {
    for d in drops.read() {
        if let bevy::window::FileDragAndDrop::DroppedFile { path_buf, .. } = d {
            match std::fs::read_to_string(path_buf) {
                Ok(text) => st.0.open = Some((path_buf.display().to_string(), text)),
                Err(e) => st.0.saved = Some(format!("cannot read {}: {e}", path_buf.display())),
            }
        }
    }
}

/// A scripted run for tests, screenshots and benchmarks: load, drive,
/// optionally edit, take a screenshot, report frames per second, exit.
#[derive(Resource, Clone, Debug, Default)]
pub struct Script {
    /// Save a screenshot here once `at` simulated seconds have passed.
    pub screenshot: Option<PathBuf>,
    /// Simulated seconds before the screenshot (or the end).
    pub at: f64,
    /// Add a cache in front of this database at `at / 2`.
    pub add_cache: Option<String>,
    /// Select this node (its charts show).
    pub select: Option<String>,
    /// Run this many wall seconds (after [`BENCH_WARMUP`]) and print
    /// frames and events per second ([`BenchResult`]).
    pub bench: Option<f64>,
    /// Open this lesson's panel (0-based).
    pub lesson: Option<usize>,
    frames: u64,
    shot: bool,
    edited: bool,
    wall: f64,
    start: Option<BenchStart>,
    frozen: u64,
    longest: f64,
    done_at: Option<u64>,
}

/// Wall seconds a benchmark lets pass before it measures (pipelines
/// compile, fonts load, the first windows close).
pub const BENCH_WARMUP: f64 = 2.0;

/// A frame longer than this, in wall seconds, counts as frozen.
pub const FROZEN: f64 = 0.2;

#[derive(Clone, Copy, Debug)]
struct BenchStart {
    frames: u64,
    held: f64,
    cpu: f64,
    wall: f64,
    events: u64,
    completed: u64,
    arrivals: u64,
    now: u64,
}

/// What `--bench` (native) and `?bench=` (browser) measure, per wall second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BenchResult {
    /// Wall seconds measured.
    pub wall: f64,
    /// Share of the wall time the interface held the sandbox (natively,
    /// the engine thread waits meanwhile).
    pub held: f64,
    /// Cores the engine thread used, on average (natively, on Linux; 0
    /// in the browser, where the engine runs in the page's one thread).
    pub engine_cpu: f64,
    /// Frames per second.
    pub fps: f64,
    /// Frames that took longer than [`FROZEN`].
    pub frozen: u64,
    /// The longest frame, in milliseconds.
    pub longest_ms: f64,
    /// Requests that arrived, per wall second.
    pub requests: f64,
    /// Requests completed, per wall second.
    pub completed: f64,
    /// Engine events, per wall second.
    pub events: f64,
    /// Simulated seconds per wall second.
    pub sim_per_wall: f64,
    /// Simulated nanoseconds in all.
    pub simulated_ns: u64,
}

impl BenchResult {
    /// One line for people and scripts.
    pub fn line(&self) -> String {
        format!(
            "frames per second {:.1}; frozen frames (over {:.0} ms) {} (longest {:.0} ms); simulated requests per wall second {:.0} ({:.0} completed); events per wall second {:.0}; {:.2}x real time ({} simulated in {:.0} s); the interface held the sandbox {:.0}% of the time; the engine thread used {:.2} of a core",
            self.fps,
            FROZEN * 1e3,
            self.frozen,
            self.longest_ms,
            self.requests,
            self.completed,
            self.events,
            self.sim_per_wall,
            ui::clock(self.simulated_ns),
            self.wall,
            self.held * 100.0,
            self.engine_cpu,
        )
    }
}

/// A benchmark asked for by the page's address:
/// `?bench=SECONDS[&rps=N][&speed=X|max][&stage=KEY]` (the web-stack stage
/// at real time unless said otherwise).
#[derive(Clone, Debug, PartialEq)]
pub struct BenchParams {
    /// Wall seconds measured (after the warm-up).
    pub seconds: f64,
    /// Offered load, if not the stage's own.
    pub rps: Option<f64>,
    /// Requested speed; `f64::INFINITY` is "max".
    pub speed: f64,
    /// The bundled stage.
    pub stage: String,
}

/// Parses a query string (`?bench=20&rps=330000`) for a benchmark.
pub fn parse_bench(query: &str) -> Option<BenchParams> {
    let mut b = BenchParams {
        seconds: 0.0,
        rps: None,
        speed: 1.0,
        stage: "web-stack".into(),
    };
    let mut asked = false;
    for pair in query.trim_start_matches('?').split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "bench" => {
                asked = true;
                b.seconds = v.parse().unwrap_or(20.0);
            }
            "rps" => b.rps = v.parse().ok(),
            "speed" if v == "max" => b.speed = f64::INFINITY,
            "speed" => b.speed = v.parse().unwrap_or(1.0),
            "stage" => b.stage = v.to_string(),
            _ => {}
        }
    }
    asked.then_some(b)
}

/// Drives a [`Script`].
pub struct ScriptPlugin(pub Script);

impl Plugin for ScriptPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(self.0.clone())
            .add_systems(Update, script);
    }
}

fn script(
    mut commands: Commands,
    time: Res<Time<Real>>,
    mut sc: ResMut<Script>,
    sb: Res<SandboxRes>,
    mut ui_res: ResMut<UiRes>,
    mut exit: MessageWriter<AppExit>,
) {
    use bevy::render::view::screenshot::{Screenshot, save_to_disk};
    if sc.frames == 0 {
        ui_res.0.lesson = sc.lesson;
    }
    let mut s = sb.lock();
    sc.frames += 1;
    if sc.frames == 1
        && let Some(id) = &sc.select
    {
        s.selected = s.model.node_index(id);
    }
    let dt = time.delta_secs_f64();
    sc.wall += dt;
    let now = s.now() as f64 / 1e9;
    if let Some(db) = sc.add_cache.clone()
        && !sc.edited
        && now >= sc.at / 2.0
    {
        sc.edited = true;
        match edits::add_cache(&s.topology, &db).and_then(|(t, what)| s.restructure(t, &what)) {
            Ok(()) => {
                if let Some(id) = &sc.select {
                    s.selected = s.model.node_index(id);
                }
            }
            Err(e) => eprintln!("add cache: {e}"),
        }
        // The clock restarted: the rest of the run happens after the edit.
        sc.at /= 2.0;
        return;
    }
    if let Some(b) = sc.bench {
        match sc.start {
            None if sc.wall >= BENCH_WARMUP => {
                let e = s.sim.report().end_to_end;
                sc.start = Some(BenchStart {
                    frames: sc.frames,
                    held: sb.0.held(),
                    cpu: sb.0.cpu(),
                    wall: sc.wall,
                    events: s.sim.events(),
                    completed: e.completed,
                    arrivals: e.arrivals,
                    now: s.now(),
                });
            }
            None => {}
            Some(start) => {
                if dt > FROZEN {
                    sc.frozen += 1;
                }
                sc.longest = sc.longest.max(dt);
                let wall = sc.wall - start.wall;
                if wall >= b {
                    let e = s.sim.report().end_to_end;
                    let r = BenchResult {
                        wall,
                        held: (sb.0.held() - start.held) / wall,
                        engine_cpu: (sb.0.cpu() - start.cpu) / wall,
                        fps: (sc.frames - start.frames) as f64 / wall,
                        frozen: sc.frozen,
                        longest_ms: sc.longest * 1e3,
                        requests: (e.arrivals - start.arrivals) as f64 / wall,
                        completed: (e.completed - start.completed) as f64 / wall,
                        events: (s.sim.events() - start.events) as f64 / wall,
                        sim_per_wall: (s.now() - start.now) as f64 / 1e9 / wall,
                        simulated_ns: s.now() - start.now,
                    };
                    sc.bench = None;
                    #[cfg(not(target_arch = "wasm32"))]
                    {
                        println!("{}", r.line());
                        exit.write(AppExit::Success);
                        return;
                    }
                    // The page keeps running; the result goes to the
                    // console and to `document.body.dataset.bench` for CI.
                    #[cfg(target_arch = "wasm32")]
                    web::bench_done(&r);
                }
            }
        }
    }
    if let Some(path) = sc.screenshot.clone() {
        if !sc.shot && now >= sc.at && sc.frames > 30 {
            sc.shot = true;
            sc.done_at = Some(sc.frames);
            commands
                .spawn(Screenshot::primary_window())
                .observe(check_not_blank)
                .observe(save_to_disk(path.clone()));
        }
        if let Some(f) = sc.done_at
            && sc.frames > f + 5
            && std::fs::metadata(&path).is_ok_and(|m| m.len() > 0)
        {
            println!("screenshot saved to {}", path.display());
            exit.write(AppExit::Success);
        }
        if sc.frames > 20_000 {
            eprintln!("gave up waiting for the screenshot");
            exit.write(AppExit::error());
        }
    }
}

/// The smoke test's check: a screenshot of the sandbox has many colours
/// (a blank or single-colour frame means nothing rendered).
fn check_not_blank(
    shot: On<bevy::render::view::screenshot::ScreenshotCaptured>,
    mut exit: MessageWriter<AppExit>,
) {
    let Some(data) = shot.image.data.as_ref() else {
        eprintln!("the screenshot has no pixels");
        exit.write(AppExit::error());
        return;
    };
    let mut colours: Vec<u32> = data
        .chunks_exact(4)
        .step_by(7)
        .map(|p| u32::from_le_bytes([p[0] & 0xF0, p[1] & 0xF0, p[2] & 0xF0, 0]))
        .collect();
    colours.sort_unstable();
    colours.dedup();
    println!("the screenshot has {} distinct colours", colours.len());
    if colours.len() < 16 {
        eprintln!("the screenshot looks blank");
        exit.write(AppExit::error());
    }
}

/// Bevy's plugins the sandbox needs, with its window.
pub fn base_plugins() -> bevy::app::PluginGroupBuilder {
    DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window {
            title: "Bottleneck".into(),
            resolution: (1440u32, 900u32).into(),
            #[cfg(target_arch = "wasm32")]
            canvas: Some("#bevy".into()),
            #[cfg(target_arch = "wasm32")]
            fit_canvas_to_parent: true,
            ..default()
        }),
        ..default()
    })
}

/// The sandbox app around an opened [`Sandbox`].
pub fn app(sandbox: Sandbox) -> App {
    let engine = engine::Engine::new(sandbox);
    // Natively the engine thread starts first; then this thread gives way
    // to it, and so do the threads it starts from here on (Bevy's, the
    // renderer's, a software rasterizer's): when the cores are few, the
    // simulation keeps one and the frames share the rest.
    #[cfg(not(target_arch = "wasm32"))]
    let thread = {
        let handle = engine::spawn(engine.clone());
        engine::give_way_to_the_engine();
        EngineThread(engine.clone(), Some(handle))
    };
    let mut app = App::new();
    #[cfg(not(target_arch = "wasm32"))]
    app.insert_resource(thread);
    let [r, g, b] = ui::BACKGROUND;
    app.add_plugins(base_plugins())
        .add_plugins(EguiPlugin::default())
        .insert_resource(ClearColor(Color::srgb_u8(r, g, b)))
        .insert_resource(SandboxRes(engine))
        .add_plugins((SimulationPlugin, InterfacePlugin));
    #[cfg(not(target_arch = "wasm32"))]
    app.add_plugins(DropPlugin);
    #[cfg(target_arch = "wasm32")]
    app.add_plugins(web::WebPlugin);
    app
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_asks_for_a_benchmark() {
        assert_eq!(parse_bench("?selftest"), None);
        let b = parse_bench("?bench=20&rps=330000").unwrap();
        assert_eq!((b.seconds, b.rps, b.speed), (20.0, Some(330_000.0), 1.0));
        assert_eq!(b.stage, "web-stack");
        let b = parse_bench("?bench&speed=max&stage=cdn").unwrap();
        assert_eq!((b.seconds, b.speed), (20.0, f64::INFINITY));
        assert_eq!(b.stage, "cdn");
    }

    #[test]
    fn a_bench_line_says_everything_the_benchmarks_table_needs() {
        let r = BenchResult {
            wall: 20.0,
            held: 0.05,
            engine_cpu: 0.9,
            fps: 12.5,
            frozen: 0,
            longest_ms: 150.0,
            requests: 330_000.0,
            completed: 40_000.0,
            events: 1.5e6,
            sim_per_wall: 1.0,
            simulated_ns: 20_000_000_000,
        };
        let line = r.line();
        for part in [
            "frames per second 12.5",
            "frozen frames (over 200 ms) 0",
            "events per wall second 1500000",
            "1.00x real time",
        ] {
            assert!(line.contains(part), "{line}");
        }
    }
}
