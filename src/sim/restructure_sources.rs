//! Live edits of the sources, the request classes and the regions (the
//! part of [`Simulation::restructure`] that is not about nodes).
//!
//! Sources keep their indices as nodes do: the edited model lists every
//! running source at its index, new ones after them. A source the edit
//! removes stays, renamed `id:removed`, silent for good (it is *retired*):
//! its pending arrival is ignored when it fires (its epoch moved on) and is
//! not counted; its requests in flight finish as they would have, counted
//! under it. A source whose settings changed takes them in place when its
//! kind of arrivals stays the same ([`arrivals_shape`]: open loop, closed
//! loop, closed loop with sessions, burst); one that changes kind is
//! replaced (retired, and the edited one appended):
//! - open loop (rate, profile, mix, keys, IPs, target, clients): it draws
//!   its next arrival from now;
//! - closed loop: the users wanted become `users x traffic multiplier`.
//!   New users join now, each after a first think, in new slots; surplus
//!   users finish their current request and leave the loop at once (plain
//!   users; session users at their next turn, the session counted as
//!   `left`). The think time, mix, keys and clients apply at each user's
//!   next decision; users in the loop keep their requests in flight;
//! - closed loop with sessions, tasks edited (`tasks`, `order`,
//!   `interrupt`): each session under way ends at the edit, counted as
//!   `left` (its user's request in flight is still answered); each user's
//!   next session walks the edited tasks. `sessions` and `on_failure` alone
//!   apply at once;
//! - burst: one that has not fired takes its new count and instant (an
//!   instant already past fires now); one that has fired stays fired, and
//!   the edit changes nothing of it.
//!
//! A new source starts now, with its own random streams, named by its id
//! and its stable index (never shared with a source removed under the same
//! id).
//!
//! Request classes keep their indices too: the edited model lists the
//! running classes in their order and appends new ones (the loader compiles
//! it so), so every request in flight keeps a valid class. A class no
//! source sends any more keeps its row in the per-class measurements, and
//! handlers compiled for it. Per-class and per-source rows exist once there
//! are two: when the second class (or source) comes, the first one's row
//! is the end-to-end total so far, which it was.
//!
//! Regions are read where requests cross them, so a change of regions
//! (new region, nodes moved, latencies) acts from the next hop on; load
//! balancers learn their backends' distances again.

use super::{ControlError, Event, KindState, Remap, Restructure, Simulation, SourceState};
use crate::metrics::{GroupStats, WindowRecord};
use crate::model::{Model, SourceModel};
use crate::profile::Arrivals;

/// A source's kind of arrivals, which a live edit keeps in place: 0 open
/// loop, 1 closed loop, 2 closed loop with sessions, 3 burst.
pub fn arrivals_shape(a: &Arrivals) -> u8 {
    match a {
        Arrivals::Poisson { .. } => 0,
        Arrivals::Closed { tasks: None, .. } => 1,
        Arrivals::Closed { tasks: Some(_), .. } => 2,
        Arrivals::Burst { .. } => 3,
    }
}

fn refuse(message: String, hint: &str) -> ControlError {
    ControlError {
        message,
        hint: hint.to_string(),
    }
}

/// What is retired in a running simulation: nodes and sources, by index.
#[derive(Clone, Copy, Debug)]
pub struct Retired<'a> {
    /// Per node of the running model.
    pub nodes: &'a [bool],
    /// Per source of the running model.
    pub sources: &'a [bool],
}

impl Simulation {
    /// The nodes and sources removed by structural edits.
    pub fn retirements(&self) -> Retired<'_> {
        Retired {
            nodes: &self.retired,
            sources: &self.retired_sources,
        }
    }

    /// Sources removed by structural edits (kept, renamed, silent).
    pub fn retired_sources(&self) -> &[bool] {
        &self.retired_sources
    }

    /// Checks that `r` keeps every source's and class's index, and adds
    /// what it does to the sources to `remap`.
    pub(crate) fn check_sources(
        &self,
        r: &Restructure,
        remap: &mut Remap,
    ) -> Result<(), ControlError> {
        let (old, new) = (&self.model, &*r.model);
        let n = old.sources.len();
        if new.sources.len() < n {
            return Err(refuse(
                format!(
                    "the edited model has {} sources, fewer than the {n} running",
                    new.sources.len()
                ),
                "removed sources stay in the model, retired (bottleneck::live builds it)",
            ));
        }
        for s in 0..n {
            let (a, b) = (&old.sources[s], &new.sources[s]);
            let gone = r.retire_sources.contains(&(s as u32));
            let was = self.retired_sources[s];
            if gone && was {
                return Err(refuse(
                    format!("source `{}` was removed already", a.id),
                    "retire a source once",
                ));
            }
            if gone {
                remap.sources_removed.push(s);
                continue;
            }
            if was {
                continue;
            }
            if a.id != b.id {
                return Err(refuse(
                    format!(
                        "source {s} is `{}` running and `{}` in the edit",
                        a.id, b.id
                    ),
                    "a source keeps its index and id; replace it by retiring it",
                ));
            }
            let (x, y) = (&old.topology.sources[s], &new.topology.sources[s]);
            if x != y {
                if arrivals_shape(&x.arrivals) != arrivals_shape(&y.arrivals) {
                    return Err(refuse(
                        format!(
                            "source `{}` cannot change its kind of arrivals in place",
                            a.id
                        ),
                        "a source that changes between open loop, closed loop, sessions and burst is replaced: retire it and append the edited source (bottleneck::live does)",
                    ));
                }
                remap.sources_updated.push(s);
            }
        }
        if new.classes.len() < old.classes.len() || new.classes[..old.classes.len()] != old.classes
        {
            return Err(refuse(
                format!(
                    "the edit changes the order of the request classes ({} running, {} in the edit)",
                    old.classes.join(", "),
                    new.classes.join(", ")
                ),
                "classes keep their indices: running ones first, new ones after (bottleneck::live builds it)",
            ));
        }
        remap.sources_added = (n..new.sources.len()).collect();
        Ok(())
    }

    /// Applies a checked edit of the sources, classes and regions; the
    /// model is the edited one already, `old` the one before.
    pub(crate) fn apply_sources(&mut self, r: &Restructure, old: &Model) {
        let now = self.now;
        let n = old.sources.len();
        for &s in &r.retire_sources {
            self.sources[s as usize].stop();
            self.retired_sources[s as usize] = true;
        }
        let deadline = |sim: &Simulation, s: usize| {
            let m = &sim.model.sources[s];
            sim.config
                .deadline
                .map(|d| d.0)
                .or(m.client.timeout)
                .unwrap_or(u64::MAX)
        };
        let mut deadlines = std::mem::take(&mut self.deadlines).into_vec();
        for (s, d) in deadlines.iter_mut().enumerate().take(n) {
            if self.retired_sources[s] {
                continue;
            }
            self.sources[s].to = self.model.sources[s].to as u32;
            if old.topology.sources[s] != self.model.topology.sources[s] {
                let m = self.model.sources[s].clone();
                *d = deadline(self, s);
                self.retune_source(s, &m, old);
            }
        }
        for s in n..self.model.sources.len() {
            let m = &self.model.sources[s];
            let label = format!("{}@{s}", m.id);
            self.sources.push(SourceState::labelled(
                m,
                self.config.seed,
                &label,
                self.config.series_capacity,
            ));
            deadlines.push(deadline(self, s));
            self.retired_sources.push(false);
            match self.sources[s].closed.as_ref().map(|c| c.0) {
                Some(users) => {
                    for _ in 0..users {
                        let at = now.saturating_add(self.sources[s].think());
                        let ev = Event::Arrival {
                            source: s as u32,
                            epoch: self.sources[s].epoch,
                        };
                        self.queue.push(at, ev);
                    }
                }
                None => self.schedule_arrival(s, now),
            }
        }
        self.deadlines = deadlines.into_boxed_slice();
        self.grow_groups(old);
        // Balancers learn their backends' distances again (regions).
        for i in 0..self.nodes.len().min(old.nodes.len()) {
            if self.retired[i] {
                continue;
            }
            let health = match &mut self.nodes[i].kind {
                KindState::LoadBalancer(lb) => lb.health.take(),
                _ => continue,
            };
            self.load_balancer_start(i);
            if let KindState::LoadBalancer(lb) = &mut self.nodes[i].kind {
                lb.health = health;
            }
        }
    }

    /// Source `s` takes its edited settings `m` in place (same kind of
    /// arrivals; `old` is the model before the edit): see the module's docs.
    fn retune_source(&mut self, s: usize, m: &SourceModel, old: &Model) {
        let now = self.now;
        let src = &mut self.sources[s];
        src.retune(m);
        if let Some((users, think)) = &m.closed {
            src.closed = Some((*users, think.clone()));
            let want = super::control::users_at(*users, self.multiplier);
            if src.session.is_some() {
                let (a, b) = (&old.topology.sources[s], &self.model.topology.sources[s]);
                let tasks = |x: &Arrivals| match x {
                    Arrivals::Closed {
                        tasks,
                        order,
                        interrupt,
                        ..
                    } => Some((tasks.clone(), *order, *interrupt)),
                    _ => None,
                };
                let restart = tasks(&a.arrivals) != tasks(&b.arrivals);
                let counted = (self.config.warmup.0, self.config.cohort_end);
                if let Some(run) = self.sources[s].session.as_deref_mut() {
                    run.retune(m, restart, counted);
                }
                self.session_users(s, want);
            } else {
                self.closed_users(s, want);
            }
            return;
        }
        if let Some((count, at)) = m.burst {
            // Fired: it has sent some of the count it was given.
            let given = old.sources[s].burst.map(|b| b.0);
            let fired = src.burst.is_none_or(|(left, _)| Some(left) != given);
            if !fired {
                src.burst = Some((count, at));
                src.epoch = src.epoch.wrapping_add(1);
                self.schedule_arrival(s, now);
            }
            return;
        }
        src.epoch = src.epoch.wrapping_add(1);
        self.schedule_arrival(s, now);
    }

    /// Plain closed-loop source `s` now wants `want` users: surplus users
    /// leave when their request is over (or at their turn, if thinking);
    /// those about to leave stay if wanted again; then new users join,
    /// each after a first think.
    pub(crate) fn closed_users(&mut self, s: usize, want: u32) {
        let now = self.now;
        let src = &mut self.sources[s];
        let staying = src.users - src.retiring;
        if want < staying {
            src.retiring += staying - want;
            return;
        }
        let back = (want - staying).min(src.retiring);
        src.retiring -= back;
        let new = want - staying - back;
        src.users += new;
        for _ in 0..new {
            let at = now.saturating_add(self.sources[s].think());
            self.queue.push(
                at,
                Event::Arrival {
                    source: s as u32,
                    epoch: 0,
                },
            );
        }
    }

    /// Plain closed-loop source `s`'s users: in the loop (thinking or
    /// waiting), and of those, leaving at their next decision.
    pub fn closed_loop_users(&self, s: usize) -> Option<(u32, u32)> {
        let src = self.sources.get(s)?;
        (src.closed.is_some() && src.session.is_none()).then_some((src.users, src.retiring))
    }

    /// Per-class and per-source rows for the classes and sources the edit
    /// adds (see the module's docs).
    fn grow_groups(&mut self, old: &Model) {
        let cap = self.config.series_capacity;
        let past: Vec<WindowRecord> = self
            .e2e_series
            .records()
            .map(|r| WindowRecord {
                start: r.start,
                ..Default::default()
            })
            .collect();
        let empty = || {
            let mut g = GroupStats::new(cap);
            for r in &past {
                g.series.push(*r);
            }
            g
        };
        let first = GroupStats {
            arrivals: self.e2e.arrivals,
            completed: self.e2e.completed,
            dropped: self.e2e.dropped,
            good: self.e2e.good,
            departed: self.e2e.departed,
            good_departed: self.e2e.good_departed,
            latency: self.e2e.latency.clone(),
            window: self.e2e_window.clone(),
            series: self.e2e_series.clone(),
        };
        let sizes = [
            (old.classes.len(), self.model.classes.len()),
            (old.sources.len(), self.model.sources.len()),
        ];
        for (k, (was, now)) in sizes.into_iter().enumerate() {
            if now <= was.max(1) {
                continue;
            }
            let rows = if k == 0 {
                &mut self.groups.classes
            } else {
                &mut self.groups.sources
            };
            if rows.is_empty() {
                rows.push(first.clone());
            }
            while rows.len() < now {
                rows.push(empty());
            }
        }
    }
}
