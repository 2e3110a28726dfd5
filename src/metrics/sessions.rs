//! Per-window counts of one session source (closed-loop users walking
//! tasks): sessions started and ended in each window, and the durations of
//! those completed in it. Like the other windows they count everything,
//! warm-up included, so that in every window
//! `started = completed + abandoned + with_failures + left + (in_progress
//! at its end - in_progress at its start)`.
//! Allocated when the run starts (a histogram and a bounded ring); nothing
//! per event.

use super::Histogram;
use crate::time::SimTime;
use std::collections::VecDeque;

/// What one session source's sessions did in one window.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SessionWindowRecord {
    /// Start of the window, ns.
    pub start: SimTime,
    /// Sessions begun in the window.
    pub started: u64,
    /// Sessions that ended in the window with every request answered.
    pub completed: u64,
    /// Sessions given up at a failed request in the window.
    pub abandoned: u64,
    /// Sessions walked to the end in the window with a failed request.
    pub with_failures: u64,
    /// Sessions cut short in the window because their user left.
    pub left: u64,
    /// Sessions under way at the window's end.
    pub in_progress: u64,
    /// Median duration of the sessions completed in the window, ns.
    pub p50_ns: Option<f64>,
    /// 99th percentile, ns.
    pub p99_ns: Option<f64>,
}

/// One session source's open window and its closed ones.
#[derive(Clone, Debug)]
pub struct SessionSeries {
    open: SessionWindowRecord,
    durations: Histogram,
    /// Sessions under way now.
    pub in_progress: u64,
    cap: usize,
    records: VecDeque<SessionWindowRecord>,
}

impl SessionSeries {
    /// Keeps at most `cap` windows.
    pub fn new(cap: usize) -> Self {
        SessionSeries {
            open: SessionWindowRecord::default(),
            durations: Histogram::new(),
            in_progress: 0,
            cap: cap.max(1),
            records: VecDeque::new(),
        }
    }

    /// A session began.
    #[inline]
    pub fn start(&mut self) {
        self.open.started += 1;
        self.in_progress += 1;
    }

    /// A session completed after `duration` ns.
    #[inline]
    pub fn complete(&mut self, duration: u64) {
        self.open.completed += 1;
        self.durations.record(duration);
        self.in_progress -= 1;
    }

    /// A session was abandoned at a failed request.
    #[inline]
    pub fn abandon(&mut self) {
        self.open.abandoned += 1;
        self.in_progress -= 1;
    }

    /// A session was walked to its end with a failure.
    #[inline]
    pub fn with_failures(&mut self) {
        self.open.with_failures += 1;
        self.in_progress -= 1;
    }

    /// A session was cut short: its user left.
    #[inline]
    pub fn leave(&mut self) {
        self.open.left += 1;
        self.in_progress -= 1;
    }

    /// Closes the window that began at `start`.
    pub fn close(&mut self, start: SimTime) {
        let [p50, p99] = self.durations.quantiles([0.5, 0.99]);
        let rec = SessionWindowRecord {
            start,
            in_progress: self.in_progress,
            p50_ns: p50,
            p99_ns: p99,
            ..self.open
        };
        self.open = SessionWindowRecord::default();
        self.durations.clear();
        if self.records.len() == self.cap {
            self.records.pop_front();
        }
        self.records.push_back(rec);
    }

    /// The windows kept, oldest first.
    pub fn records(&self) -> impl ExactSizeIterator<Item = &SessionWindowRecord> + '_ {
        self.records.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_balance_and_are_bounded() {
        let mut s = SessionSeries::new(2);
        s.start();
        s.start();
        s.complete(5);
        s.close(0);
        s.start();
        s.abandon();
        s.leave();
        s.close(10);
        s.close(20);
        let r: Vec<_> = s.records().copied().collect();
        assert_eq!(r.len(), 2, "the oldest window is dropped");
        assert_eq!(
            (r[0].start, r[0].started, r[0].abandoned, r[0].left),
            (10, 1, 1, 1)
        );
        assert_eq!((r[0].in_progress, r[1].in_progress), (0, 0));
        assert_eq!(r[1].p50_ns, None);
    }
}
