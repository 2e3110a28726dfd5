//! Where the engine runs. The [`Sandbox`] (and so the `Simulation`) is
//! shared between the interface and the engine behind one lock:
//!
//! - natively, a thread of its own ([`spawn`]) steps the engine whenever
//!   the interface does not hold the lock, paced by the wall clock at the
//!   requested speed, while the frame is laid out, tessellated and drawn;
//! - in the browser (one thread), tasks of its own between frames
//!   ([`start_in_page`]); with `?engine=frame` in the page's address, a
//!   system steps it for a share of each frame instead ([`frame_budget`]),
//!   as before issue 16.
//!
//! The interface takes the lock once or a few times a frame ([`Engine::lock`]
//! raises a flag the engine checks every few hundred events, so the wait is
//! short) and reads and changes the sandbox directly: commands are applied
//! at the simulated time the engine has reached, and the engine records
//! them with that time, so a session replays exactly (`Sandbox::session`).
//! The engine itself stays free of threads and clocks: wall time lives
//! here.

use crate::sandbox::Sandbox;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The shared state.
struct Shared {
    sandbox: Mutex<Sandbox>,
    /// How many interface systems are waiting for the lock.
    waiting: AtomicU32,
    /// Set when the app exits: the engine thread ends.
    stop: AtomicBool,
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
        }))
    }

    /// The sandbox, for the interface: the engine lets go within a chunk
    /// of events.
    pub fn lock(&self) -> MutexGuard<'_, Sandbox> {
        self.0.waiting.fetch_add(1, Ordering::AcqRel);
        let g = self
            .0
            .sandbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
        g
    }

    /// True while the interface waits for the lock.
    pub fn wanted(&self) -> bool {
        self.0.waiting.load(Ordering::Acquire) > 0
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
pub fn step_for(engine: &Engine, wall_dt: f64, hold: f64, now: &mut dyn FnMut() -> f64) -> bool {
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
                if idle {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        })
        .expect("the engine thread starts")
}

/// The longest the engine runs at once in the page, in wall seconds,
/// before it lets the browser run a frame (see [`start_in_page`]).
pub const PAGE_SLICE: f64 = 0.012;

/// Starts the engine in the page (browser, one thread): it runs in tasks of
/// its own between frames, a [`PAGE_SLICE`] at a time, posted back to back
/// through a `MessageChannel` (no 4 ms clamp as with `setTimeout`), so the
/// browser draws frames between them; idle, it looks again after a
/// millisecond or two. The engine then uses the time the page spends
/// waiting for the browser's (software) WebGL instead of a share of each
/// frame.
#[cfg(target_arch = "wasm32")]
pub fn start_in_page(engine: Engine) {
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(perf) = window.performance() else {
        return;
    };
    let Ok(channel) = web_sys::MessageChannel::new() else {
        return;
    };
    let port = channel.port2();
    let last = Rc::new(RefCell::new(perf.now() / 1e3));
    let again: Rc<RefCell<Option<Closure<dyn FnMut()>>>> = Rc::new(RefCell::new(None));
    let post = {
        let port = port.clone();
        Closure::<dyn FnMut()>::new(move || {
            let _ = port.post_message(&wasm_bindgen::JsValue::NULL);
        })
    };
    let later = again.clone();
    let run = Closure::<dyn FnMut()>::new(move || {
        let mut now = || perf.now() / 1e3;
        let t = now();
        let dt = t - *last.borrow();
        *last.borrow_mut() = t;
        let idle = step_for(&engine, dt, PAGE_SLICE, &mut now);
        if idle {
            if let Some(f) = later.borrow().as_ref() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                    f.as_ref().unchecked_ref(),
                    1,
                );
            }
        } else {
            let _ = port.post_message(&wasm_bindgen::JsValue::NULL);
        }
    });
    channel
        .port1()
        .set_onmessage(Some(run.as_ref().unchecked_ref()));
    run.forget();
    let _ = channel.port2().post_message(&wasm_bindgen::JsValue::NULL);
    // Keep the idle path's callback (and the channel) alive for the page's life.
    again.replace(Some(post));
    std::mem::forget(channel);
}

/// The browser's share of a frame for the engine, in wall seconds: a
/// fraction of the last frame's time, within bounds (the page has one
/// thread; the browser draws WebGL in its GPU process, beside it).
pub fn frame_budget(frame_dt: f64) -> f64 {
    (FRAME_SHARE * frame_dt).clamp(FRAME_BUDGET.0, FRAME_BUDGET.1)
}

/// See [`frame_budget`]: the share of the last frame.
pub const FRAME_SHARE: f64 = 0.4;

/// See [`frame_budget`]: at least and at most, in wall seconds.
pub const FRAME_BUDGET: (f64, f64) = (0.008, 0.030);

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
