//! Bottleneck's sandbox: grow traffic, break things, watch the bottleneck
//! move. A Bevy app whose every feature is a plugin; the state logic lives in
//! plain modules ([`sandbox`], [`layout`], [`edits`], [`content`]) tested
//! without a window, and the engine is used only through its public API.

pub mod builder;
pub mod content;
pub mod edits;
pub mod layout;
pub mod sandbox;
pub mod share;
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod web;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPlugin, EguiPrimaryContextPass};
use sandbox::Sandbox;
use std::path::PathBuf;

/// The sandbox as a Bevy resource.
#[derive(Resource)]
pub struct SandboxRes(pub Sandbox);

/// The interface's own state.
#[derive(Resource, Default)]
pub struct UiRes(pub ui::UiState);

/// How long the simulation may run per frame, in wall seconds, at least
/// and at most: 40% of the last frame's time within these bounds, so a slow
/// renderer (software, in CI) leaves the engine more of each frame while
/// the frame never waits on it for long.
pub const FRAME_BUDGET: (f64, f64) = (0.008, 0.030);

/// Runs the engine for the frame, within [`FRAME_BUDGET`].
pub struct SimulationPlugin;

impl Plugin for SimulationPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, drive);
    }
}

fn drive(time: Res<Time>, mut sb: ResMut<SandboxRes>) {
    let start = bevy::platform::time::Instant::now();
    let mut spent = move || start.elapsed().as_secs_f64();
    let dt = time.delta_secs_f64();
    let budget = (0.4 * dt).clamp(FRAME_BUDGET.0, FRAME_BUDGET.1);
    sb.0.advance(dt, budget, &mut spent);
}

/// The interface: panels, graph, inspector, lessons.
pub struct InterfacePlugin;

impl Plugin for InterfacePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<UiRes>()
            .add_systems(Startup, |mut commands: Commands| {
                commands.spawn(Camera2d);
            })
            .add_systems(EguiPrimaryContextPass, interface)
            .add_systems(Update, open_requested);
    }
}

fn interface(
    mut contexts: EguiContexts,
    time: Res<Time>,
    mut sb: ResMut<SandboxRes>,
    mut st: ResMut<UiRes>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    ui::draw(ctx, &mut sb.0, &mut st.0, time.delta_secs_f64());
    Ok(())
}

fn open_requested(mut sb: ResMut<SandboxRes>, mut st: ResMut<UiRes>) {
    if let Some((name, text)) = st.0.open.take() {
        match Sandbox::open(&name, &text, sb.0.seed) {
            Ok(mut s) => {
                s.speed = sb.0.speed;
                sb.0 = s;
            }
            Err(e) => sb.0.status = Some((e, true)),
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
    /// Run this many wall seconds and print frames and events per second.
    pub bench: Option<f64>,
    /// Open this lesson's panel (0-based).
    pub lesson: Option<usize>,
    frames: u64,
    shot: bool,
    edited: bool,
    wall: f64,
    events0: u64,
    completed0: u64,
    arrivals0: u64,
    now0: u64,
    done_at: Option<u64>,
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
    time: Res<Time>,
    mut sc: ResMut<Script>,
    mut sb: ResMut<SandboxRes>,
    mut ui_res: ResMut<UiRes>,
    mut exit: MessageWriter<AppExit>,
) {
    use bevy::render::view::screenshot::{Screenshot, save_to_disk};
    if sc.frames == 0 {
        ui_res.0.lesson = sc.lesson;
    }
    let s = &mut sb.0;
    sc.frames += 1;
    if sc.frames == 1 {
        sc.events0 = s.sim.events();
        let e = s.sim.report().end_to_end;
        sc.completed0 = e.completed;
        sc.arrivals0 = e.arrivals;
        sc.now0 = s.now();
        if let Some(id) = &sc.select {
            s.selected = s.model.node_index(id);
        }
    }
    sc.wall += time.delta_secs_f64();
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
    if let Some(b) = sc.bench
        && sc.wall >= b
    {
        let frames = sc.frames as f64;
        let e = s.sim.report().end_to_end;
        println!(
            "frames per second {:.1}; simulated requests per wall second {:.0} ({:.0} completed); events per wall second {:.0}; {:.2}x real time ({} simulated in {:.0} s)",
            frames / sc.wall,
            (e.arrivals - sc.arrivals0) as f64 / sc.wall,
            (e.completed - sc.completed0) as f64 / sc.wall,
            (s.sim.events() - sc.events0) as f64 / sc.wall,
            (s.now() - sc.now0) as f64 / 1e9 / sc.wall,
            ui::clock(s.now() - sc.now0),
            sc.wall,
        );
        exit.write(AppExit::Success);
        return;
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
    let mut app = App::new();
    app.add_plugins(base_plugins())
        .add_plugins(EguiPlugin::default())
        .insert_resource(SandboxRes(sandbox))
        .add_plugins((SimulationPlugin, InterfacePlugin));
    #[cfg(not(target_arch = "wasm32"))]
    app.add_plugins(DropPlugin);
    #[cfg(target_arch = "wasm32")]
    app.add_plugins(web::WebPlugin);
    app
}
