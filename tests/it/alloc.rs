//! No allocation per event in the steady state: a counting allocator (per
//! thread, so parallel tests do not disturb each other) watches a long run.

use crate::common::model;
use bottleneck::sim::{RunConfig, Simulation};
use bottleneck::time::SEC;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn steady_state_runs_without_allocating() {
    let m = model(
        r#"Topology(name: "steady", sources: [Source(id: "u", to: "web", arrivals: Poisson(rps: 2000))],
        nodes: [
            Station(id: "web", servers: 8, service: LogNormal(mean: "3ms", std: "2ms"), routes: [Route(to: "db", p: 0.4)]),
            Station(id: "db", servers: 2, service: Exponential(mean: "1ms")),
        ])"#,
    );
    let mut sim = Simulation::new(
        &m,
        RunConfig {
            series_capacity: 16,
            ..RunConfig::default()
        },
    );
    // Warm up: the slab, heap, queues and series ring grow to working size.
    sim.step_until(60 * SEC).unwrap();
    let (a0, e0) = (allocations(), sim.events());
    sim.step_until(600 * SEC).unwrap();
    let (allocs, events) = (allocations() - a0, sim.events() - e0);
    assert!(events > 2_000_000, "{events}");
    // A new high-water mark of requests in flight may still grow a buffer
    // (doubling, so a handful of times); anything per event would be millions.
    eprintln!("{allocs} allocations over {events} events");
    assert!(allocs <= 16, "{allocs} allocations over {events} events");
}

#[test]
fn classes_and_sources_are_measured_without_allocating() {
    // Per-class and per-source histograms and windows are allocated when
    // the simulation starts; recording in them allocates nothing.
    let m = model(
        r#"Topology(name: "classes", sources: [
            Source(id: "browser", to: "web", arrivals: Poisson(rps: 1500), mix: {"browse": 0.9, "cart": 0.08, "order": 0.02},
                   client: Client(timeout: "50ms", retries: Retries(max: 1, backoff: "5ms"))),
            Source(id: "mobile", to: "web", arrivals: Poisson(rps: 500), mix: {"browse": 0.95, "order": 0.05}),
        ],
        nodes: [
            Station(id: "web", servers: 8, service: LogNormal(mean: "3ms", std: "2ms"), routes: [Route(to: "db", p: 0.4)]),
            Station(id: "db", servers: 2, service: Exponential(mean: "1ms")),
        ])"#,
    );
    let mut sim = Simulation::new(
        &m,
        RunConfig {
            series_capacity: 16,
            ..RunConfig::default()
        },
    );
    sim.step_until(60 * SEC).unwrap();
    assert_eq!(
        (sim.groups().classes.len(), sim.groups().sources.len()),
        (3, 2)
    );
    let (a0, e0) = (allocations(), sim.events());
    sim.step_until(600 * SEC).unwrap();
    let (allocs, events) = (allocations() - a0, sim.events() - e0);
    assert!(events > 2_000_000, "{events}");
    eprintln!("{allocs} allocations over {events} events");
    assert!(allocs <= 16, "{allocs} allocations over {events} events");
}

#[test]
fn session_users_walk_their_tasks_without_allocating() {
    // One slot per user, allocated when the run starts; a turn and an
    // answer only move the user on.
    let m = model(
        r#"Topology(name: "sessions", sources: [
            Source(id: "shoppers", to: "web", arrivals: Closed(users: 400, think: Exponential(mean: "100ms"),
                   tasks: [Task(class: "browse", repeat: 3, keys: Zipf(keys: 1000, s: 1.0)),
                           Task(class: "cart", key: Previous), Task(class: "order", key: User)]),
                   client: Client(timeout: "50ms")),
        ],
        nodes: [
            Station(id: "web", servers: 8, queue: 20, service: LogNormal(mean: "3ms", std: "2ms"), routes: [Route(to: "db", p: 0.4)]),
            Station(id: "db", servers: 2, service: Exponential(mean: "1ms")),
        ])"#,
    );
    let mut sim = Simulation::new(
        &m,
        RunConfig {
            series_capacity: 16,
            ..RunConfig::default()
        },
    );
    sim.step_until(60 * SEC).unwrap();
    let (a0, e0) = (allocations(), sim.events());
    sim.step_until(600 * SEC).unwrap();
    let (allocs, events) = (allocations() - a0, sim.events() - e0);
    assert!(events > 2_000_000, "{events}");
    assert!(sim.report().sessions["shoppers"].completed > 100_000);
    eprintln!("{allocs} allocations over {events} events");
    assert!(allocs <= 16, "{allocs} allocations over {events} events");
}
