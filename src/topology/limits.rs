//! Hard limits on what a topology file may ask for.
//!
//! They keep a typo (an extra three zeros) from turning into an hour of
//! simulation or gigabytes of memory; each error that cites one names it.

/// Largest file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting of parentheses and brackets.
pub const MAX_NESTING: usize = 48;
/// Most nodes in one topology.
pub const MAX_NODES: usize = 10_000;
/// Most sources in one topology.
pub const MAX_SOURCES: usize = 1_000;
/// Most routes out of one node.
pub const MAX_ROUTES: usize = 1_000;
/// Most steps in one `Steps` profile.
pub const MAX_STEPS: usize = 10_000;
/// Most servers at one station.
pub const MAX_SERVERS: u64 = 1_000_000;
/// Most waiting places at one station.
pub const MAX_QUEUE: u64 = 100_000_000;
/// Highest base rate of one source, requests per second.
pub const MAX_RPS: f64 = 100_000_000.0;
/// Most client IP addresses of one source (IPv4's).
pub const MAX_IPS: u64 = u32::MAX as u64;
/// The most health checks in a row a threshold may ask for.
pub const MAX_CHECKS: u64 = 1_000_000;
/// Highest multiplier in a profile (`Spike.times`, `Diurnal.peak`).
pub const MAX_FACTOR: f64 = 1_000.0;
/// Longest id, in characters.
pub const MAX_ID_LEN: usize = 64;
/// Most regions (data centres) in one topology. The network between them is
/// a matrix of one-way latencies, regions x regions.
pub const MAX_REGIONS: usize = 100;
/// Most request classes across all sources' mixes.
pub const MAX_CLASSES: usize = 256;
/// Most handler steps once compiled: every app holds its steps for every
/// class (the `"*"` handler is copied for each class it serves).
pub const MAX_HANDLER_STEPS: usize = 1_000_000;
/// Deepest nesting of waiting calls (an app calling an app calling an
/// app..., read-through caches and CDN edges included): each level holds its
/// caller, and answers travel back up through every one.
pub const MAX_CALL_DEPTH: usize = 1_000;
