//! End-to-end measurements per request class and per source.
//!
//! Kept beside the end-to-end totals under the same cohort rule (a user's
//! request counts if it was born after the warm-up and before the cohort's
//! end, and is counted once more when it completes or fails for good), so
//! the classes' (and the sources') counters add up to the totals exactly.
//! Everything is allocated when the simulation starts: one latency
//! histogram, one open window and one series ring per class and per source,
//! and only when there is more than one of them (with one class the class
//! *is* the end-to-end total). Recording is a few adds: no allocation per
//! event.

use super::{Histogram, OpenWindow, Series};
use crate::time::SimTime;

/// One class's (or source's) measurements.
#[derive(Clone, Debug)]
pub struct GroupStats {
    /// Users' requests born after the warm-up (and before the cohort's end).
    pub arrivals: u64,
    /// Of those, completed.
    pub completed: u64,
    /// Of those, failed for good.
    pub dropped: u64,
    /// Of the completed, answered within the deadline.
    pub good: u64,
    /// Requests answered within the measured span (warm-up to the cohort's
    /// end), whenever they arrived: what throughput counts.
    pub departed: u64,
    /// Of those, answered within the deadline: what goodput counts.
    pub good_departed: u64,
    /// Response times of the completed, ns.
    pub latency: Histogram,
    /// The window being filled (every request, warm-up included).
    pub window: OpenWindow,
    /// Closed windows.
    pub series: Series,
}

impl GroupStats {
    /// Empty measurements keeping `series_capacity` windows.
    pub fn new(series_capacity: usize) -> Self {
        GroupStats {
            arrivals: 0,
            completed: 0,
            dropped: 0,
            good: 0,
            departed: 0,
            good_departed: 0,
            latency: Histogram::new(),
            window: OpenWindow::default(),
            series: Series::new(series_capacity),
        }
    }
}

/// Per-class and per-source measurements of a run.
#[derive(Clone, Debug, Default)]
pub struct Groups {
    /// Per class, in the model's order (empty with one class).
    pub classes: Vec<GroupStats>,
    /// Per source, in the model's order (empty with one source).
    pub sources: Vec<GroupStats>,
}

impl Groups {
    /// Measurements for `classes` classes and `sources` sources; a
    /// dimension with one member (or none) is not kept apart.
    pub fn new(classes: usize, sources: usize, series_capacity: usize) -> Self {
        let make = |n: usize| {
            if n > 1 {
                (0..n).map(|_| GroupStats::new(series_capacity)).collect()
            } else {
                Vec::new()
            }
        };
        Groups {
            classes: make(classes),
            sources: make(sources),
        }
    }

    /// True when neither classes nor sources are kept apart.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty() && self.sources.is_empty()
    }

    #[inline]
    fn each(&mut self, class: u16, source: u16, mut f: impl FnMut(&mut GroupStats)) {
        if let Some(g) = self.classes.get_mut(class as usize) {
            f(g);
        }
        if let Some(g) = self.sources.get_mut(source as usize) {
            f(g);
        }
    }

    /// A user's request was born; `counted` when it is in the cohort.
    #[inline]
    pub fn arrive(&mut self, class: u16, source: u16, counted: bool) {
        if self.is_empty() {
            return;
        }
        self.each(class, source, |g| {
            g.arrivals += counted as u64;
            g.window.arrivals += 1;
        });
    }

    /// A user's request was answered after `latency` ns; `good` when
    /// within its deadline.
    #[inline]
    pub fn complete(
        &mut self,
        class: u16,
        source: u16,
        (counted, departed): (bool, bool),
        latency: u64,
        good: bool,
    ) {
        if self.is_empty() {
            return;
        }
        self.each(class, source, |g| {
            if departed {
                g.departed += 1;
                g.good_departed += good as u64;
            }
            if counted {
                g.completed += 1;
                g.good += good as u64;
                g.latency.record(latency);
            }
            g.window.completed += 1;
            g.window.good += good as u64;
            g.window.latency.record(latency);
        });
    }

    /// A user's request failed for good.
    #[inline]
    pub fn fail(&mut self, class: u16, source: u16, counted: bool) {
        if self.is_empty() {
            return;
        }
        self.each(class, source, |g| {
            g.dropped += counted as u64;
            g.window.dropped += 1;
        });
    }

    /// Closes the window `[start, end)` of every class and source.
    pub fn close_windows(&mut self, start: SimTime, end: SimTime) {
        for g in self.classes.iter_mut().chain(self.sources.iter_mut()) {
            let rec = g.window.close(start, end, Default::default());
            g.series.push(rec);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_member_is_not_kept_apart() {
        let g = Groups::new(1, 1, 10);
        assert!(g.is_empty());
        let g = Groups::new(3, 1, 10);
        assert_eq!((g.classes.len(), g.sources.len()), (3, 0));
    }

    #[test]
    fn counts_add_up() {
        let mut g = Groups::new(2, 2, 10);
        g.arrive(0, 1, true);
        g.arrive(1, 1, true);
        g.complete(0, 1, (true, true), 5, true);
        g.fail(1, 1, true);
        assert_eq!(
            (
                g.classes[0].completed,
                g.classes[1].dropped,
                g.sources[1].arrivals
            ),
            (1, 1, 2)
        );
        assert_eq!(g.sources[1].good, 1);
        g.close_windows(0, 10);
        assert_eq!(g.classes[0].series.last().unwrap().good, 1);
    }
}
