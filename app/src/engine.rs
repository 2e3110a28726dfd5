//! Where the engine runs. The [`Sandbox`] (and so the `Simulation`) is
//! shared between the interface and the engine behind one lock:
//!
//! - natively, a thread of its own ([`spawn`]) steps the engine whenever
//!   the interface does not hold the lock, paced by the wall clock at the
//!   requested speed, while the frame is laid out, tessellated and drawn;
//! - in the browser (one thread), a system steps it in each frame for as
//!   long as the rest of the frame took, within bounds ([`frame_budget`]).
//!   (Tasks of its own between frames, posted through a `MessageChannel`,
//!   got less: Chromium drew a frame after nearly every task.)
//!
//! The interface takes the lock once or a few times a frame ([`Engine::lock`]
//! raises a flag the engine checks every few hundred events, so the wait is
//! short) and reads and changes the sandbox directly: commands are applied
//! at the simulated time the engine has reached, and the engine records
//! them with that time, so a session replays exactly (`Sandbox::session`).
//! The engine itself stays free of threads and clocks: wall time lives
//! here.

use crate::sandbox::Sandbox;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The shared state.
struct Shared {
    sandbox: Mutex<Sandbox>,
    /// How many interface systems are waiting for the lock.
    waiting: AtomicU32,
    /// Set when the app exits: the engine thread ends.
    stop: AtomicBool,
    /// Nanoseconds the interface has held the lock, in all.
    held_ns: AtomicU64,
    /// CPU nanoseconds the engine thread has used, in all (Linux).
    cpu_ns: AtomicU64,
}

/// The sandbox as the interface holds it (see [`Engine::lock`]): counts
/// how long it is held ([`Engine::held`]).
pub struct Held<'a> {
    guard: MutexGuard<'a, Sandbox>,
    since: bevy::platform::time::Instant,
    held_ns: &'a AtomicU64,
}

impl std::ops::Deref for Held<'_> {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.guard
    }
}

impl std::ops::DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut Sandbox {
        &mut self.guard
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let ns = self.since.elapsed().as_nanos() as u64;
        self.held_ns.fetch_add(ns, Ordering::Relaxed);
    }
}

/// The sandbox, shared between the interface and the engine.
#[derive(Clone)]
pub struct Engine(Arc<Shared>);

impl Engine {
    /// Shares `sandbox`. Nothing runs it until [`spawn`] (native) or the
    /// frame system (browser) does.
    pub fn new(sandbox: Sandbox) -> Engine {
        Engine(Arc::new(Shared {
            sandbox: Mutex::new(sandbox),
            waiting: AtomicU32::new(0),
            stop: AtomicBool::new(false),
            held_ns: AtomicU64::new(0),
            cpu_ns: AtomicU64::new(0),
        }))
    }

    /// The sandbox, for the interface: the engine lets go within a chunk
    /// of events.
    pub fn lock(&self) -> Held<'_> {
        self.0.waiting.fetch_add(1, Ordering::AcqRel);
        let guard = self
            .0
            .sandbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
        Held {
            guard,
            since: bevy::platform::time::Instant::now(),
            held_ns: &self.0.held_ns,
        }
    }

    /// Wall seconds the interface has held the sandbox, in all (natively
    /// the engine waits meanwhile).
    pub fn held(&self) -> f64 {
        self.0.held_ns.load(Ordering::Relaxed) as f64 / 1e9
    }

    /// True while the interface waits for the lock.
    pub fn wanted(&self) -> bool {
        self.0.waiting.load(Ordering::Acquire) > 0
    }

    /// CPU seconds the engine thread has used, in all (0 where the
    /// platform does not say).
    pub fn cpu(&self) -> f64 {
        self.0.cpu_ns.load(Ordering::Relaxed) as f64 / 1e9
    }

    /// Asks the engine thread to end.
    pub fn stop(&self) {
        self.0.stop.store(true, Ordering::Release);
    }

    /// True once [`Engine::stop`] was called.
    pub fn stopped(&self) -> bool {
        self.0.stop.load(Ordering::Acquire)
    }
}

/// The longest the engine thread holds the lock at once, in wall seconds,
/// when nobody asks for it (the interface asks with [`Engine::lock`] and
/// gets it after the current chunk of events).
pub const HOLD: f64 = 0.1;

/// One step of the engine thread: takes the lock, runs the engine for the
/// wall time since the last step (at the requested speed, or as much as
/// [`HOLD`] allows at "max"), and says whether the engine is idle (paused,
/// stopped, caught up with the wall clock, or out of events).
pub fn step(engine: &Engine, wall_dt: f64, now: &mut dyn FnMut() -> f64) -> bool {
    step_for(engine, wall_dt, HOLD, now)
}

/// [`step`], holding the lock at most `hold` wall seconds.
fn step_for(engine: &Engine, wall_dt: f64, hold: f64, now: &mut dyn FnMut() -> f64) -> bool {
    let mut s = engine.lock_engine();
    let t0 = now();
    let mut spent = || {
        if engine.wanted() {
            f64::INFINITY
        } else {
            now() - t0
        }
    };
    s.advance(wall_dt, hold, &mut spent);
    s.idle()
}

impl Engine {
    /// Runs the engine for a frame in the page (see [`frame_budget`]),
    /// without counting the time as the interface's.
    pub fn advance_frame(&self, wall_dt: f64, budget: f64, spent: &mut dyn FnMut() -> f64) {
        self.lock_engine().advance(wall_dt, budget, spent);
    }

    fn lock_engine(&self) -> MutexGuard<'_, Sandbox> {
        self.0
            .sandbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Starts the engine thread (native): it steps the engine until
/// [`Engine::stop`], sleeping a millisecond whenever it is idle and
/// yielding while the interface waits for the lock.
#[cfg(not(target_arch = "wasm32"))]
pub fn spawn(engine: Engine) -> std::thread::JoinHandle<()> {
    use std::time::{Duration, Instant};
    std::thread::Builder::new()
        .name("bottleneck-engine".into())
        .spawn(move || {
            let origin = Instant::now();
            let mut now = move || origin.elapsed().as_secs_f64();
            let mut last = now();
            while !engine.stopped() {
                if engine.wanted() {
                    std::thread::yield_now();
                    continue;
                }
                let t = now();
                let idle = step(&engine, t - last, &mut now);
                last = t;
                engine.0.cpu_ns.store(thread_cpu_ns(), Ordering::Relaxed);
                if idle {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        })
        .expect("the engine thread starts")
}

/// How much lower than the engine thread the interface's threads run
/// (a nice value; see [`give_way_to_the_engine`]).
pub const GIVE_WAY: i32 = 5;

/// Lowers the calling thread's scheduling priority by [`GIVE_WAY`] (Linux:
/// its nice value; threads it starts afterwards inherit it). Called by the
/// app's main thread after it started the engine thread, so that on a
/// machine with few cores and software rendering the rasterizer's threads
/// do not take the engine's core: frames get slower, the simulation keeps
/// up. Any user may lower their own threads' priority; on failure, or off
/// Linux, nothing changes.
#[cfg(not(target_arch = "wasm32"))]
pub fn give_way_to_the_engine() {
    #[cfg(target_os = "linux")]
    {
        unsafe extern "C" {
            fn setpriority(which: i32, who: u32, prio: i32) -> i32;
            fn getpriority(which: i32, who: u32) -> i32;
        }
        const PRIO_PROCESS: i32 = 0;
        // SAFETY: plain system calls on the calling thread (who = 0: on
        // Linux each thread has its own nice value).
        unsafe {
            let now = getpriority(PRIO_PROCESS, 0);
            let _ = setpriority(PRIO_PROCESS, 0, (now + GIVE_WAY).min(19));
        }
    }
}

/// The calling thread's CPU time, in nanoseconds (Linux; 0 elsewhere).
#[cfg(not(target_arch = "wasm32"))]
fn thread_cpu_ns() -> u64 {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    {
        #[repr(C)]
        struct Timespec {
            sec: i64,
            nsec: i64,
        }
        unsafe extern "C" {
            fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
        }
        const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
        let mut ts = Timespec { sec: 0, nsec: 0 };
        // SAFETY: `ts` is a valid timespec for the call to fill.
        if unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.sec as u64 * 1_000_000_000 + ts.nsec as u64;
        }
    }
    0
}

/// The engine's time in a frame in the page, in wall seconds: as long as
/// the rest of the last frame took (the page has one thread, and with a
/// software WebGL the browser's drawing blocks it: half of it for the
/// engine when it is behind), but never so long that the frame would pass
/// [`PAGE_FRAME`], and within [`PAGE_BUDGET`]. When the engine keeps up it
/// stops earlier, at the requested speed. `other` is the last frame's wall
/// time less the engine's share of it.
pub fn frame_budget(other: f64) -> f64 {
    let other = other.max(0.0);
    other
        .min(PAGE_FRAME - other)
        .clamp(PAGE_BUDGET.0, PAGE_BUDGET.1)
}

/// See [`frame_budget`]: the frame the engine's time should not stretch
/// past, in wall seconds (a frame over 200 ms counts as frozen).
pub const PAGE_FRAME: f64 = 0.19;

/// See [`frame_budget`]: at least and at most, in wall seconds.
pub const PAGE_BUDGET: (f64, f64) = (0.008, 0.100);

#[cfg(test)]
mod tests {
    use super::*;

    const WEB: &str = r#"Topology(
        name: "web",
        sources: [Source(id: "users", to: "app", arrivals: Poisson(rps: 2000))],
        nodes: [Station(id: "app", servers: 4, service: Exponential(mean: "1ms"))],
    )"#;

    #[test]
    fn the_interface_gets_the_lock_while_the_engine_runs_at_max() {
        let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
        s.speed = f64::INFINITY;
        let engine = Engine::new(s);
        #[cfg(not(target_arch = "wasm32"))]
        {
            let handle = spawn(engine.clone());
            // The interface takes the lock again and again (no timing is
            // asserted: the machine may be loaded) and sees the clock move.
            let mut last = 0;
            for _ in 0..2_000 {
                std::thread::sleep(std::time::Duration::from_millis(5));
                let s = engine.lock();
                assert!(s.now() >= last);
                last = s.now();
                if last > 0 {
                    break;
                }
            }
            engine.stop();
            handle.join().unwrap();
            assert!(last > 0, "the engine ran");
        }
    }

    #[test]
    fn the_page_gives_the_engine_the_rest_of_the_frame_within_bounds() {
        // A fast frame: the floor.
        assert_eq!(frame_budget(0.002), PAGE_BUDGET.0);
        // Drawing took 50 ms: as much again.
        assert!((frame_budget(0.05) - 0.05).abs() < 1e-12);
        // Drawing took 120 ms: the frame stays under PAGE_FRAME.
        assert!((frame_budget(0.12) - (PAGE_FRAME - 0.12)).abs() < 1e-12);
        // Drawing alone takes longer than PAGE_FRAME: the floor again.
        assert_eq!(frame_budget(0.3), PAGE_BUDGET.0);
    }

    #[test]
    fn a_step_runs_the_wall_time_at_the_speed_and_then_idles() {
        let mut s = Sandbox::open("web.ron", WEB, 1).unwrap();
        s.speed = 10.0;
        let engine = Engine::new(s);
        let mut t = 0.0;
        let mut clock = move || {
            t += 1e-6;
            t
        };
        assert!(step(&engine, 0.1, &mut clock), "caught up after one step");
        let now = engine.lock().now();
        assert!(now.abs_diff(bottleneck::time::SEC) < 1_000, "{now}");
    }
}
