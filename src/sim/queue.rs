//! The future event list: a binary heap ordered by (time, sequence number).
//!
//! The sequence number is a global counter stamped when an event is
//! scheduled, so events at the same instant run in the order they were
//! scheduled, on every platform. Time and sequence are packed into one `u128`
//! key so that ordering is a single comparison.

use crate::time::SimTime;

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

/// Pending events, earliest first: a binary min-heap, written out here
/// because the standard one moves entries through the stack in a way that
/// stalls store forwarding on this hot path (measured: 26% of W1's cycles).
#[derive(Clone, Debug, Default)]
pub struct EventQueue {
    heap: Vec<Entry>,
    seq: u64,
}

impl EventQueue {
    /// Empty, with room for `cap` events before it allocates.
    pub fn with_capacity(cap: usize) -> Self {
        EventQueue {
            heap: Vec::with_capacity(cap),
            seq: 0,
        }
    }

    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: Event) {
        let key = ((time as u128) << 64) | self.seq as u128;
        self.seq += 1;
        let mut i = self.heap.len();
        self.heap.push(Entry { key, event });
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
        self.heap[i] = Entry { key, event };
    }

    /// The time of the earliest event.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.first().map(|e| (e.key >> 64) as SimTime)
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, Event)> {
        let last = self.heap.pop()?;
        let n = self.heap.len();
        if n == 0 {
            return Some(((last.key >> 64) as SimTime, last.event));
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
        Some(((top.key >> 64) as SimTime, top.event))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
}
