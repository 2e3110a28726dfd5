//! Read-through mode of the cache: with `backend`, the cache sits on the
//! request path. A request that reaches it (from a source, a balancer, a
//! route, or an app's `Call`) gets its key; on a hit it is answered at once;
//! on a miss the cache reads the key from its backend (holding no server
//! while the backend works), fills the key from the answer, and answers.
//!
//! Nothing upstream cancels a fetch: when the caller has given up (its
//! client timed out, or an app's call policy stopped waiting), the backend's
//! late answer still fills the key. That is what lets a cache recover while
//! every user is timing out, and what the `late_fills` count shows.
//!
//! With `single_flight`, concurrent misses of one key share one fetch: the
//! first miss fetches, the others wait at the cache (holding no server) and
//! get the fetch's outcome, a hit or a failure (read-through waiters do not
//! read the backend themselves, unlike cache-aside's).
//!
//! With `stale_while_revalidate`, an expired entry within its window is
//! served while one background read refreshes it (a detached read whose
//! answer sets the key).
//!
//! Writes go through: a request whose class writes
//! ([`crate::kinds::database::direct`]) is not looked up; the cache sends
//! it on to the backend as a write (holding no server while it works) and,
//! when the backend acknowledges it, sets the key, so the next read is a
//! hit on the new value, as an app's `WriteThrough` does. A failed write
//! leaves the key as it was.

use crate::diag::Diagnostics;
use crate::fmt::fmt_count;
use crate::kinds::KindState;
use crate::kinds::cache::store::Lookup;
use crate::sim::requests::{ABANDONED, DETACHED, NO_GROUP, REFILL};
use crate::sim::{ROOT, Simulation, op, outcome};
use crate::topology::check::NodeCheck;
use serde::Serialize;
use std::fmt::Write as _;

/// The phase of a request at a read-through cache whose write is at the
/// backend (a fetch is phase 1).
const WRITING: u8 = 2;

/// A read-through cache's own counts (after the warm-up).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Reads sent to the backend for misses.
    pub fetches: u64,
    /// Fetches that failed (no key filled; the caller and waiters failed).
    pub failed: u64,
    /// Keys filled by an answer whose requester had already given up.
    pub late_fills: u64,
    /// Background refreshes of stale entries.
    pub refreshes: u64,
    /// Writes passed on to the backend (write-through).
    pub writes: u64,
}

/// A read-through cache's section of the report.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ReadThroughReport {
    /// The backend's node id.
    pub backend: String,
    /// Reads sent to the backend for misses.
    pub fetches: u64,
    /// Fetches that failed.
    pub failed: u64,
    /// Keys filled by an answer whose requester had already given up
    /// (its client timed out, or its caller stopped waiting).
    pub late_fills: u64,
    /// Background refreshes of stale entries (stale-while-revalidate).
    pub refreshes: u64,
    /// Writes passed on to the backend (write-through), each setting its
    /// key when acknowledged.
    pub writes: u64,
}

impl ReadThroughReport {
    /// The line the table prints under the cache's own line.
    pub fn write_lines(&self, id: &str, out: &mut String) {
        let _ = writeln!(
            out,
            "{id}: read-through from {}: {} fetches ({} failed), {} late fills (requester gone), {} background refreshes",
            self.backend,
            fmt_count(self.fetches),
            fmt_count(self.failed),
            fmt_count(self.late_fills),
            fmt_count(self.refreshes)
        );
        if self.writes > 0 {
            // (Printed only when there are some: a read-only cache's line is
            // as before.)
            let _ = writeln!(
                out,
                "{id}: write-through to {}: {} writes, each setting its key when done",
                self.backend,
                fmt_count(self.writes)
            );
        }
    }
}

/// The read-through checks: a backend that exists and is not the cache.
pub(crate) fn check(c: &super::Cache, nc: &NodeCheck, ds: &mut Diagnostics) {
    let Some(b) = &c.backend else {
        return;
    };
    if b == &c.id {
        ds.push(
            nc.err("the cache is its own `backend`".into())
                .hint("name the database (or the balancer over replicas) it reads misses from"),
        );
        return;
    }
    nc.on_path(b, "backend", ds);
}

/// Refuses an app's `CacheAside` on a read-through cache: the cache would
/// read its backend itself and never answer "miss", so the step's
/// database would silently never be read.
pub(crate) fn check_aside(nc: &NodeCheck, cache: &str, ds: &mut Diagnostics) {
    let Some(&ix) = nc.cx.index.get(cache) else {
        return;
    };
    if let Some(crate::kinds::Node::Cache(c)) = nc.cx.nodes.get(ix)
        && let Some(b) = &c.backend
    {
        ds.push(
            nc.err(format!(
                "CacheAside on `{cache}`, a read-through cache (its `backend` is `{b}`): it reads misses itself and never answers a miss"
            ))
            .hint(format!(
                "call it like a database (`Call(to: \"{cache}\")`), or leave out its `backend` to use it cache-aside"
            )),
        );
    }
}

impl super::CacheState {
    /// The read-through section, with the backend's id (`None` for a
    /// cache-aside cache).
    pub(crate) fn read_through_section(
        &self,
        model: &crate::model::Model,
    ) -> Option<ReadThroughReport> {
        let b = self.backend?;
        let f = self.fetch;
        Some(ReadThroughReport {
            backend: model.nodes[b as usize].id.clone(),
            fetches: f.fetches,
            failed: f.failed,
            late_fills: f.late_fills,
            refreshes: f.refreshes,
            writes: f.writes,
        })
    }
}

impl Simulation {
    /// A read-through cache at node `i` has served get `req`: answer a hit,
    /// or fetch the key from `backend` (or wait for the fetch under way).
    pub(crate) fn read_through_get(&mut self, i: usize, req: u32, backend: u32) {
        let now = self.now;
        let r = self.reqs[req];
        let counted = self.counts(r.visit_arrival);
        let KindState::Cache(c) = &mut self.nodes[i].kind else {
            unreachable!("read_through_get on a cache")
        };
        // No server is held from here on: not while the backend works,
        // not while waiting for another request's fetch.
        match c.store.get(r.key, now) {
            Lookup::Hit => {
                if counted {
                    c.hits += 1;
                }
                self.release(i);
                self.record_visit(i, req, true);
                self.finish(req, outcome::OK);
            }
            Lookup::Stale => {
                if counted {
                    c.hits += 1;
                    c.stale_hits += 1;
                    c.fetch.refreshes += 1;
                }
                self.release(i);
                self.read_through_refresh(i, req, backend);
                self.record_visit(i, req, true);
                self.finish(req, outcome::OK);
            }
            Lookup::Miss | Lookup::Expired => {
                if counted {
                    c.misses += 1;
                }
                if c.single_flight {
                    if let Some(head) = c.pending.get_mut(&r.key) {
                        self.reqs[req].next_waiter = *head;
                        *head = req;
                        if counted {
                            c.coalesced += 1;
                        }
                        self.release(i);
                        self.hold(i, req);
                        return;
                    }
                    c.pending.insert(r.key, ROOT);
                }
                if counted {
                    c.fetch.fetches += 1;
                }
                self.release(i);
                self.hold(i, req);
                self.reqs[req].phase = 1;
                self.call(req, backend, op::READ, false);
            }
        }
    }

    /// A read-through cache at node `i` has served write `req`: pass it on
    /// to `backend` as a write (no server held while it works).
    pub(crate) fn read_through_write(&mut self, i: usize, req: u32, backend: u32) {
        let counted = self.counts(self.reqs[req].visit_arrival);
        if let KindState::Cache(c) = &mut self.nodes[i].kind
            && counted
        {
            c.fetch.writes += 1;
        }
        self.release(i);
        self.hold(i, req);
        self.reqs[req].phase = WRITING;
        self.call(req, backend, op::WRITE, false);
    }

    /// The backend answered the fetch (or write) `req` made at read-through
    /// cache `i`: fill the key (whether or not anyone still waits), answer
    /// the waiters of a single flight and `req`'s caller.
    pub(crate) fn read_through_answered(&mut self, i: usize, req: u32, result: u8) {
        let now = self.now;
        let r = self.reqs[req];
        let counted = self.counts(r.visit_arrival);
        // A write acknowledged sets its key (the new value), as a fetch's
        // answer does; a failed one leaves the key alone. Waiters of a
        // read's fetch of the key wait for that fetch, not for a write.
        let write = r.phase == WRITING;
        let gone = if r.group != NO_GROUP || r.parent == DETACHED {
            false
        } else if r.parent == ROOT {
            r.flags & ABANDONED != 0
        } else {
            // The caller stopped waiting for this call (its timeout).
            self.reqs[r.parent].call != r.serial
        };
        let KindState::Cache(c) = &mut self.nodes[i].kind else {
            unreachable!("read_through_answered on a cache")
        };
        let ok = result == outcome::OK || result == outcome::STALE;
        if ok {
            let exp = c.expiry(now);
            c.store.put(r.key, exp);
            if counted && gone && !write {
                c.fetch.late_fills += 1;
            }
        } else if counted && result == outcome::FAIL && !write {
            c.fetch.failed += 1;
        }
        let answer = if ok { outcome::OK } else { result };
        if !write {
            // Waiters of this fetch (single-flight), even if single-flight
            // was turned off since they began waiting (a live edit).
            self.wake(i, r.key, answer);
        }
        self.record_visit(i, req, answer != outcome::FAIL);
        self.finish(req, answer);
    }

    /// Serves a stale entry's refresh: a detached read of the key from
    /// `backend` whose success sets it in cache `i`.
    fn read_through_refresh(&mut self, i: usize, req: u32, backend: u32) {
        if self.partitioned(i, backend as usize) {
            return;
        }
        let mut c = self.child_of(req, backend, op::READ, DETACHED);
        c.flags = REFILL;
        c.next_waiter = i as u32;
        let id = self.reqs.alloc(c);
        self.enter(backend as usize, id);
    }
}
