//! The future event list, ordered by (time, sequence number).
//!
//! The sequence number is a global counter stamped when an event is
//! scheduled, so events at the same instant run in the order they were
//! scheduled, on every platform. Time and sequence are packed into one `u128`
//! key so that ordering is a single comparison.
//!
//! Events scheduled a fixed delay ahead (a client's timeout, a health check's
//! period, a constant service time) arrive in the order they fire, so they
//! wait in first-in-first-out lanes, one per delay, instead of the heap; the
//! rest (drawn delays) go to a binary heap. `pop` takes the smallest key of
//! the heap's top and the lanes' fronts: the order is the one a single heap
//! would give, exactly. Lanes start once the heap outgrows the cache
//! ([`LANES_FROM`]). An overloaded stage with a 2 s timeout keeps
//! millions of timeouts pending (most of them for attempts long refused);
//! in a heap each pop walked twenty levels of cache misses.

use crate::time::SimTime;
use std::collections::VecDeque;

/// Something that happens at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A source emits its next request. `epoch` goes stale when the source's
    /// rate changes (the arrival is then redrawn).
    Arrival {
        /// Source index.
        source: u32,
        /// Source epoch when scheduled.
        epoch: u32,
    },
    /// A request finishes service at a node. `epoch` goes stale when the node
    /// goes down (the request is then lost).
    Departure {
        /// Node index.
        node: u32,
        /// Request slot.
        req: u32,
        /// Node epoch when scheduled.
        epoch: u32,
    },
    /// A client's timeout for an attempt.
    Timeout {
        /// Request slot.
        req: u32,
        /// Its allocation number (stale if the slot was reused).
        serial: u32,
    },
    /// A retry's backoff is over: send it.
    Start {
        /// Request slot.
        req: u32,
        /// Its allocation number.
        serial: u32,
    },
    /// A fan-out's hedge delay is over: resend the calls still out.
    Hedge {
        /// The request that fanned out.
        req: u32,
        /// Its allocation number.
        serial: u32,
        /// The fan-out's round (stale once that fan-out is over).
        round: u32,
    },
    /// A queue message's visibility timeout.
    Visibility {
        /// The message.
        req: u32,
        /// Its allocation number.
        serial: u32,
    },
    /// A failed queue message is delivered again.
    Redeliver {
        /// The message.
        req: u32,
        /// Its allocation number.
        serial: u32,
        /// The queue's node index.
        node: u32,
    },
    /// An app's autoscaler looks at its utilization.
    Autoscale {
        /// The app's node index.
        node: u32,
    },
    /// New app instances are up.
    Provisioned {
        /// The app's node index.
        node: u32,
        /// How many.
        count: u32,
    },
    /// An app's call timed out (if still outstanding).
    CallTimeout {
        /// The waiting request.
        req: u32,
        /// Its allocation number.
        serial: u32,
        /// The call's serial.
        call: u32,
    },
    /// An app retries a failed call.
    CallRetry {
        /// The waiting request.
        req: u32,
        /// Its allocation number.
        serial: u32,
    },
    /// An answer that crossed regions arrives.
    Answer {
        /// The request waiting for it (the caller, or a root for its client).
        req: u32,
        /// Its allocation number.
        serial: u32,
        /// The outcome.
        result: u32,
    },
    /// A dead primary's replica is promoted.
    Promote {
        /// The old primary's node index.
        node: u32,
    },
    /// A load balancer probes its backends.
    Health {
        /// The load balancer's node index.
        node: u32,
    },
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u128,
    event: Event,
}

/// Pending events, earliest first: first-in-first-out lanes for fixed
/// delays beside a binary min-heap, written out here because the standard
/// one moves entries through the stack in a way that stalls store
/// forwarding on this hot path (measured: 26% of W1's cycles).
#[derive(Clone, Debug)]
pub struct EventQueue {
    heap: Vec<Entry>,
    lanes: Vec<Lane>,
    /// The smallest key at the lanes' fronts (`u128::MAX` when they are
    /// empty) and its lane.
    lane_min: u128,
    lane_at: usize,
    /// The last delays that went to the heap: a delay seen twice gets a lane.
    seen: [u64; SEEN],
    seen_at: usize,
    /// The time of the last event popped (delays count from it).
    now: SimTime,
    seq: u64,
}

/// Events scheduled `delay` after the event being processed, in key order.
#[derive(Clone, Debug)]
struct Lane {
    delay: u64,
    fifo: VecDeque<Entry>,
}

/// At most this many lanes (fixed delays in use at once).
const LANES: usize = 8;

/// Lanes are used only while the heap holds at least this many events
/// (128 KiB): a smaller heap stays in the processor's cache and costs
/// less than looking for a lane.
pub const LANES_FROM: usize = 4096;

/// See [`EventQueue::seen`].
const SEEN: usize = 4;

impl Default for EventQueue {
    fn default() -> Self {
        EventQueue::with_capacity(0)
    }
}

impl EventQueue {
    /// Empty, with room for `cap` events in the heap before it allocates.
    pub fn with_capacity(cap: usize) -> Self {
        EventQueue {
            heap: Vec::with_capacity(cap),
            lanes: Vec::new(),
            lane_min: u128::MAX,
            lane_at: 0,
            seen: [u64::MAX; SEEN],
            seen_at: 0,
            now: 0,
            seq: 0,
        }
    }

    /// Schedules `event` at `time`.
    #[inline(always)]
    pub fn push(&mut self, time: SimTime, event: Event) {
        let key = ((time as u128) << 64) | self.seq as u128;
        self.seq += 1;
        let entry = Entry { key, event };
        if self.heap.len() >= LANES_FROM
            && time >= self.now
            && self.lane_push(time - self.now, entry)
        {
            return;
        }
        self.heap_push(entry);
    }

    /// Puts `entry` in the lane of its delay if there is one (or the delay
    /// was seen recently and a lane is free) and it keeps the lane in
    /// order; false when it belongs in the heap.
    #[inline(never)]
    fn lane_push(&mut self, delay: u64, entry: Entry) -> bool {
        let at = match self.lanes.iter().position(|l| l.delay == delay) {
            Some(at) => at,
            None => {
                if !self.seen.contains(&delay) {
                    self.seen[self.seen_at] = delay;
                    self.seen_at = (self.seen_at + 1) % SEEN;
                    return false;
                }
                match self.lanes.iter().position(|l| l.fifo.is_empty()) {
                    Some(at) => {
                        self.lanes[at].delay = delay;
                        at
                    }
                    None if self.lanes.len() < LANES => {
                        self.lanes.push(Lane {
                            delay,
                            fifo: VecDeque::new(),
                        });
                        self.lanes.len() - 1
                    }
                    None => return false,
                }
            }
        };
        let lane = &mut self.lanes[at];
        match lane.fifo.back() {
            // Keys grow with the sequence number, so this holds unless the
            // clock went back to `now` after the lane's last push.
            Some(b) if b.key > entry.key => return false,
            Some(_) => {}
            None if entry.key < self.lane_min => {
                self.lane_min = entry.key;
                self.lane_at = at;
            }
            None => {}
        }
        lane.fifo.push_back(entry);
        true
    }

    #[inline(always)]
    fn heap_push(&mut self, entry: Entry) {
        let key = entry.key;
        let mut i = self.heap.len();
        self.heap.push(entry);
        // Sift up: move parents down until the new key's place is found.
        while i > 0 {
            let parent = (i - 1) / 2;
            let p = self.heap[parent];
            if p.key <= key {
                break;
            }
            self.heap[i] = p;
            i = parent;
        }
        self.heap[i] = entry;
    }

    /// The time of the earliest event.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        let heap = self.heap.first().map_or(u128::MAX, |e| e.key);
        let key = heap.min(self.lane_min);
        (key != u128::MAX || !self.heap.is_empty()).then_some((key >> 64) as SimTime)
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, Event)> {
        let heap = self.heap.first().map_or(u128::MAX, |e| e.key);
        let e = if self.lane_min < heap {
            self.lane_pop()
        } else {
            self.heap_pop()?
        };
        let time = (e.key >> 64) as SimTime;
        self.now = time;
        Some((time, e.event))
    }

    /// Pops the front of the lane that holds [`EventQueue::lane_min`].
    fn lane_pop(&mut self) -> Entry {
        let e = self.lanes[self.lane_at]
            .fifo
            .pop_front()
            .expect("lane_min is at a lane's front");
        self.lane_min = u128::MAX;
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(f) = lane.fifo.front()
                && f.key < self.lane_min
            {
                self.lane_min = f.key;
                self.lane_at = i;
            }
        }
        e
    }

    #[inline]
    fn heap_pop(&mut self) -> Option<Entry> {
        let last = self.heap.pop()?;
        let n = self.heap.len();
        if n == 0 {
            return Some(last);
        }
        let top = self.heap[0];
        // Sift the last entry down from the root.
        let mut i = 0;
        loop {
            let l = 2 * i + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let c = if r < n && self.heap[r].key < self.heap[l].key {
                r
            } else {
                l
            };
            let child = self.heap[c];
            if last.key <= child.key {
                break;
            }
            self.heap[i] = child;
            i = c;
        }
        self.heap[i] = last;
        Some(top)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(|l| l.fifo.len()).sum::<usize>()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.lanes.iter().all(|l| l.fifo.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_then_fifo_at_equal_times() {
        let mut q = EventQueue::default();
        let ev = |s| Event::Arrival {
            source: s,
            epoch: 0,
        };
        q.push(20, ev(0));
        q.push(10, ev(1));
        q.push(20, ev(2));
        q.push(10, ev(3));
        q.push(u64::MAX, ev(4));
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (10, ev(1)),
                (10, ev(3)),
                (20, ev(0)),
                (20, ev(2)),
                (u64::MAX, ev(4))
            ]
        );
    }

    #[test]
    fn pops_in_key_order_under_churn() {
        let mut q = EventQueue::default();
        let mut x: u64 = 12345;
        let mut popped = Vec::new();
        for round in 0..2000u32 {
            x = crate::rng::mix64(x);
            q.push(
                x % 1000,
                Event::Arrival {
                    source: round,
                    epoch: 0,
                },
            );
            if round % 3 == 0 {
                popped.push(q.pop().unwrap().0);
            }
        }
        let mut last_round = Vec::new();
        while let Some((t, _)) = q.pop() {
            last_round.push(t);
        }
        assert!(last_round.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(popped.len() + last_round.len(), 2000);
    }

    #[test]
    fn lanes_keep_the_order_of_one_heap() {
        // Fixed delays (a timeout, a period, zero) mixed with drawn ones,
        // pushed while popping: the order is (time, sequence), as with a
        // plain heap, and the fixed delays did use lanes.
        let mut q = EventQueue::default();
        let mut reference = std::collections::BinaryHeap::new();
        let mut x: u64 = 99;
        let mut now = 0;
        let mut popped = 0;
        for round in 0..20_000u32 {
            x = crate::rng::mix64(x);
            let delay = match x % 6 {
                0 | 1 => 2_000_000_000,
                2 => 5_000,
                3 => 0,
                _ => (x >> 8) % 3_000_000,
            };
            let ev = Event::Arrival {
                source: round,
                epoch: 0,
            };
            q.push(now + delay, ev);
            // One push a round: the round is the sequence number.
            reference.push(std::cmp::Reverse((now + delay, round, round)));
            if x % 5 < 3 {
                let (t, e) = q.pop().unwrap();
                let std::cmp::Reverse((rt, _, rr)) = reference.pop().unwrap();
                assert_eq!(
                    (t, e),
                    (
                        rt,
                        Event::Arrival {
                            source: rr,
                            epoch: 0
                        }
                    )
                );
                assert_eq!(q.len(), reference.len());
                now = t;
                popped += 1;
            }
        }
        assert!(!q.lanes.is_empty());
        assert!(q.heap.len() < q.len());
        while let Some((t, e)) = q.pop() {
            let std::cmp::Reverse((rt, _, rr)) = reference.pop().unwrap();
            assert_eq!(
                (t, e),
                (
                    rt,
                    Event::Arrival {
                        source: rr,
                        epoch: 0
                    }
                )
            );
        }
        assert!(reference.is_empty() && q.is_empty() && popped > 0);
    }
}
