//! Smoothed signals the sandbox draws: an exponential moving average per
//! measure, per node and end to end.

/// A smoothed signal: an exponential moving average over windows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Ema {
    /// The smoothed value.
    pub value: f64,
    primed: bool,
}

impl Ema {
    /// Adds a sample with weight `alpha` (0 to 1).
    pub fn push(&mut self, x: f64, alpha: f64) {
        if self.primed {
            self.value += alpha * (x - self.value);
        } else {
            self.value = x;
            self.primed = true;
        }
    }
}

/// What the graph shows for one node, smoothed over the last few windows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Signals {
    /// Busy servers / servers.
    pub utilization: Ema,
    /// Mean waiting.
    pub queue: Ema,
    /// Completed per simulated second.
    pub rps: Ema,
    /// Failed / arrived.
    pub errors: Ema,
    /// 99th percentile time at the node, ms.
    pub p99_ms: Ema,
    /// Busy time spent waiting on calls / capacity.
    pub calling: Ema,
    /// Busy time spent waiting for a pool connection / capacity.
    pub pool_wait: Ema,
    /// Arrivals per simulated second.
    pub arrivals: Ema,
    /// Drops per simulated second.
    pub dropped: Ema,
    /// Drops for want of capacity per simulated second.
    pub overflow: Ema,
}
