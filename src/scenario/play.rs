//! A scenario's timeline played in a plain run: `bottleneck run --scenario`
//! (faults and traffic changes with the run's report and series, no
//! thresholds judged).

use super::*;

/// Plays a plan's changes on a simulation as its clock advances.
#[derive(Clone, Debug)]
pub struct Player<'a> {
    plan: &'a Plan,
    next: usize,
}

impl<'a> Player<'a> {
    /// A player at the start of `plan`'s timeline.
    pub fn new(plan: &'a Plan) -> Self {
        Player { plan, next: 0 }
    }

    /// Runs `sim` to `t`, applying every change of the plan due by then at
    /// its time (a recorded change after its count of events). The error
    /// says what stopped the run or which change was refused, and when.
    pub fn step_until(&mut self, sim: &mut Simulation, t: SimTime) -> Result<(), String> {
        while let Some(s) = self.plan.steps.get(self.next).filter(|s| s.at <= t) {
            self.next += 1;
            super::run::apply_step(sim, s)?;
        }
        sim.step_until(t).map_err(|e| e.to_string())
    }

    /// Changes applied so far.
    pub fn applied(&self) -> usize {
        self.next
    }
}
