//! Requests in flight, in a slab: slots are reused, so memory follows the
//! number of requests in the system, not the number simulated, and nothing is
//! allocated per request once the slab has grown to its working size.

use crate::time::SimTime;

/// One request in flight: a call at one node. A user's request is a root
/// (no parent); a node's calls to others are children that answer their
/// parent when done.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// When the user's request began (kept across retries and calls).
    pub born: SimTime,
    /// When it arrived at its current node.
    pub visit_arrival: SimTime,
    /// The key it is about.
    pub key: u64,
    /// A rate limiter's retry-after hint, ns.
    pub retry_after: u64,
    /// The backoff before this attempt (or this step's last call retry),
    /// ns: decorrelated jitter grows from it.
    pub slept: u64,
    /// The side effect a write performs: the user request's id and the
    /// caller's step (the same across retries: an idempotency key).
    pub effect: u64,
    /// The fan-out it is a leg of: `(round << 32) | slot` (`NO_GROUP` if
    /// none). Kept apart from [`Request::fanout`]: a leg may fan out itself.
    pub group: u64,
    /// Its current node (`FREE` for an empty slot, `SLEEPING` for a retry
    /// waiting out its backoff).
    pub node: u32,
    /// The caller waiting for the answer (`ROOT` for a user's request,
    /// `DETACHED` for a call nobody waits for).
    pub parent: u32,
    /// Allocation number, to recognise stale timers.
    pub serial: u32,
    /// The client IP it came from.
    pub ip: u32,
    /// The serial of the call it waits for (0: none); a different answer is
    /// stale (the call timed out) and is ignored.
    pub call: u32,
    /// The node that call went to.
    pub call_target: u32,
    /// The load balancer that sent it to its current node (`ROOT` if none).
    pub lb: u32,
    /// Next request in a cache's single-flight wait list.
    pub next_waiter: u32,
    /// Its node's epoch when it was admitted (a node that went down since
    /// has lost it).
    pub epoch: u32,
    /// Request class.
    pub class: u16,
    /// The source that sent the user's request.
    pub source: u16,
    /// Which backend of `lb`.
    pub lb_backend: u16,
    /// Which leg of its fan-out.
    pub leg: u16,
    /// The fan-out slot it owns while its own fan-out step waits for its
    /// legs (`NO_FANOUT` if none).
    pub fanout: u32,
    /// Operation asked of the node (`op::*`).
    pub op: u8,
    /// Handler step (apps).
    pub pc: u8,
    /// Phase within the step.
    pub phase: u8,
    /// Outcome of the last call it made (`outcome::*`).
    pub result: u8,
    /// Attempt number (0 for the first).
    pub attempt: u8,
    /// Tries of the current handler step's call (apps with retries).
    pub tries: u8,
    /// `ABANDONED` and friends.
    pub flags: u8,
    /// What it waits on while it holds a server at its node: an index into
    /// the node's per-target waits, `WAIT_POOL` for a pool connection, or
    /// `WAIT_NONE`.
    pub waiting_on: u8,
    /// Which handlers it runs at its app: 0 the app's current ones, `k` the
    /// ones a live edit replaced while it was there (kept until it is done:
    /// `AppState::earlier`). Set back to 0 whenever it enters a node.
    pub handlers: u8,
}

impl Request {
    /// A fresh root or call; the caller fills in what differs.
    pub fn new(born: SimTime, node: u32, parent: u32) -> Self {
        Request {
            born,
            visit_arrival: born,
            key: 1,
            retry_after: 0,
            slept: 0,
            effect: 0,
            group: NO_GROUP,
            node,
            parent,
            serial: 0,
            ip: 0,
            call: 0,
            call_target: 0,
            lb: ROOT,
            next_waiter: ROOT,
            epoch: 0,
            class: 0,
            source: 0,
            lb_backend: 0,
            leg: 0,
            fanout: NO_FANOUT,
            op: 0,
            pc: 0,
            phase: 0,
            result: 0,
            attempt: 0,
            tries: 0,
            flags: 0,
            waiting_on: WAIT_NONE,
            handlers: 0,
        }
    }
}

/// Not part of a fan-out.
pub const NO_GROUP: u64 = u64::MAX;
/// Not waiting on anything.
pub const WAIT_NONE: u8 = u8::MAX;
/// Waiting for a connection of its app's pool.
pub const WAIT_POOL: u8 = u8::MAX - 1;
/// Waiting on a call to a node outside the node's list of targets.
pub const WAIT_OTHER: u8 = u8::MAX - 2;
/// Owns no fan-out slot.
pub const NO_FANOUT: u32 = u32::MAX;
/// No parent: a user's request.
pub const ROOT: u32 = u32::MAX;
/// A call nobody waits for (a cache fill).
pub const DETACHED: u32 = u32::MAX - 1;
/// A retry waiting out its backoff (not at any node).
pub const SLEEPING: u32 = u32::MAX - 1;
/// The client gave up on this attempt; its answer will be ignored.
pub const ABANDONED: u8 = 1;
/// A rate limiter refused it (see `retry_after`).
pub const RATE_LIMITED: u8 = 2;
/// Its current call holds a connection of its app's pool.
pub const POOLED: u8 = 4;
/// A pool connection was handed to it while it waited.
pub const POOL_GRANTED: u8 = 8;
/// A call made over a pooled connection that is already open.
pub const VIA_POOL: u8 = 16;
/// A background refresh: on success, set the key in the cache whose index
/// is in `next_waiter`.
pub const REFILL: u8 = 32;
/// Held at its node without a server (counted in the node's `held` level
/// until its visit ends).
pub const HELD: u8 = 64;
/// A queue delivery whose visibility timeout fired: the message was made
/// visible again (or dead-lettered), so this copy's own failure decides
/// nothing more.
pub const SUPERSEDED: u8 = 128;

/// Operations a call asks of a node.
pub mod op {
    /// A plain request.
    pub const CALL: u8 = 0;
    /// Cache get.
    pub const GET: u8 = 1;
    /// Cache set.
    pub const SET: u8 = 2;
    /// Cache delete.
    pub const DEL: u8 = 3;
    /// Database read.
    pub const READ: u8 = 4;
    /// Database write.
    pub const WRITE: u8 = 5;
}

/// Outcomes of a call.
pub mod outcome {
    /// Done.
    pub const OK: u8 = 0;
    /// A cache miss.
    pub const MISS: u8 = 1;
    /// Failed (dropped, refused, error, or lost).
    pub const FAIL: u8 = 2;
    /// A cache hit on an expired entry within its stale-while-revalidate
    /// window: usable, but the caller should refresh it.
    pub const STALE: u8 = 3;
}

/// Marks an empty slot.
pub const FREE: u32 = u32::MAX;

/// The slab.
#[derive(Clone, Debug, Default)]
pub struct Requests {
    slots: Vec<Request>,
    free: Vec<u32>,
    live: usize,
    allocated: u32,
}

impl Requests {
    /// Stores a request and returns its slot.
    #[inline]
    pub fn alloc(&mut self, mut r: Request) -> u32 {
        self.live += 1;
        self.allocated = self.allocated.wrapping_add(1);
        r.serial = self.allocated;
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = r;
                i
            }
            None => {
                self.slots.push(r);
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Frees a slot.
    #[inline]
    pub fn free(&mut self, i: u32) {
        debug_assert_ne!(
            self.slots[i as usize].node, FREE,
            "double free of request {i}"
        );
        self.slots[i as usize].node = FREE;
        self.free.push(i);
        self.live -= 1;
    }

    /// Requests in flight.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Slots allocated (the high-water mark of requests in flight).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The live requests.
    pub fn iter(&self) -> impl Iterator<Item = &Request> {
        self.slots.iter().filter(|r| r.node != FREE)
    }

    /// The live requests, to change (a live edit marks those at a node).
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Request> {
        self.slots.iter_mut().filter(|r| r.node != FREE)
    }

    /// True if the user's attempt `i` works for (itself, or the request at
    /// the top of its chain of callers) was given up by its client: work on
    /// it is wasted. A detached call (a cache fill) belongs to no attempt.
    /// Follows at most 64 callers, without allocating.
    #[inline]
    pub fn abandoned(&self, mut i: u32) -> bool {
        for _ in 0..64 {
            let Some(r) = self.slots.get(i as usize) else {
                return false;
            };
            if r.flags & ABANDONED != 0 {
                return true;
            }
            if r.parent == ROOT || r.parent == DETACHED {
                return false;
            }
            i = r.parent;
        }
        false
    }

    /// Calls `f` on every live request (structural edits remap them).
    pub(crate) fn for_each_mut(&mut self, mut f: impl FnMut(&mut Request)) {
        for r in self.slots.iter_mut().filter(|r| r.node != FREE) {
            f(r);
        }
    }

    /// True if slot `i` holds the allocation `serial` (a timer is not stale).
    pub fn is(&self, i: u32, serial: u32) -> bool {
        self.slots
            .get(i as usize)
            .is_some_and(|r| r.node != FREE && r.serial == serial)
    }
}

impl std::ops::Index<u32> for Requests {
    type Output = Request;
    #[inline]
    fn index(&self, i: u32) -> &Request {
        &self.slots[i as usize]
    }
}

impl std::ops::IndexMut<u32> for Requests {
    #[inline]
    fn index_mut(&mut self, i: u32) -> &mut Request {
        &mut self.slots[i as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused() {
        let mut r = Requests::default();
        let req = Request::new(0, 0, ROOT);
        let a = r.alloc(req);
        let b = r.alloc(req);
        r.free(a);
        let c = r.alloc(req);
        assert_eq!(c, a);
        assert_eq!(r.live(), 2);
        assert_eq!(r.capacity(), 2);
        r.free(b);
        assert_eq!(r.iter().count(), 1);
    }
}
