//! Session users at run time: closed-loop users who walk a sequence of
//! tasks (the format is [`crate::sessions`]).
//!
//! Each user is one slot, allocated when the run starts (or when the
//! traffic multiplier asks for more users than ever before): its place in
//! the session, the key it carries, when its session began. A user's turn is
//! an `Arrival` event whose `epoch` is the user's index; its request carries
//! the index as its client address (`ip`), so the answer finds the user. A
//! turn sends one request; its end (answer, failure, or the client giving
//! up) moves the user on and, after a think time, schedules the next turn.
//! Nothing is allocated per event.

use super::*;
use crate::keys::KeySampler;
use crate::metrics::Histogram;
use crate::model::SourceModel;
use crate::sessions::{KeyRule, SessionModel};

/// One user's place in its session.
#[derive(Clone, Copy, Debug, Default)]
struct User {
    /// Task index.
    task: u16,
    /// Requests of the task already answered.
    rep: u32,
    /// Its last request's key.
    key: u64,
    /// When its session began.
    started: SimTime,
    /// In the loop (thinking or waiting for an answer).
    active: bool,
    /// Within a session.
    in_session: bool,
    /// A request of this session failed.
    failed: bool,
    /// Walked its one session (`Once`) and left for good.
    done: bool,
}

/// A session source's counts, for sessions that began in the measured
/// cohort (after the warm-up, before the cohort's end).
#[derive(Clone, Debug)]
pub struct SessionStats {
    /// Sessions begun.
    pub started: u64,
    /// Of those, every request answered successfully.
    pub completed: u64,
    /// Ended early: a request failed and the policy is `Abandon`.
    pub abandoned: u64,
    /// Walked to the end with at least one failed request (`Continue`).
    pub with_failures: u64,
    /// Cut short because the user left the loop (the traffic multiplier
    /// went down).
    pub left: u64,
    /// Requests of abandoned sessions never sent.
    pub tasks_abandoned: u64,
    /// Durations of completed sessions, ns: from the first request to the
    /// last answer, think times between included.
    pub duration: Histogram,
}

/// A session source's users and counts.
#[derive(Clone, Debug)]
pub struct SessionRun {
    model: SessionModel,
    users: Vec<User>,
    /// Users wanted now; those with a higher index leave at their next turn.
    target: u32,
    keys: Option<KeySampler>,
    rng: Stream,
    /// What the sessions did.
    pub stats: SessionStats,
}

impl SessionRun {
    /// For source `m` (which has a session), with streams from `seed`.
    pub fn new(m: &SourceModel, seed: u64) -> Self {
        let users = m.closed.as_ref().map_or(0, |c| c.0);
        SessionRun {
            model: m.session.clone().unwrap_or(SessionModel {
                tasks: Vec::new(),
                once: false,
                abandon: true,
            }),
            users: vec![
                User {
                    active: true,
                    ..User::default()
                };
                users as usize
            ],
            target: users,
            keys: m.keys.clone(),
            rng: Stream::new(seed, Purpose::Keys, &format!("{}/session", m.id)),
            stats: SessionStats {
                started: 0,
                completed: 0,
                abandoned: 0,
                with_failures: 0,
                left: 0,
                tasks_abandoned: 0,
                duration: Histogram::new(),
            },
        }
    }

    /// Users in the loop now (thinking or waiting).
    pub fn active(&self) -> u64 {
        self.users.iter().filter(|u| u.active).count() as u64
    }

    /// Users within a session now.
    pub fn in_session(&self) -> u64 {
        self.users.iter().filter(|u| u.in_session).count() as u64
    }
}

impl Simulation {
    /// User `u` of session source `s` takes a turn: leaves (fewer users
    /// wanted), or sends its session's next request.
    pub(crate) fn session_turn(&mut self, s: usize, u: u32) {
        let now = self.now;
        let (from, to) = (self.config.warmup.0, self.config.cohort_end);
        let counts = |t: SimTime| t >= from && t < to;
        let Some(run) = self.sources[s].session.as_deref_mut() else {
            return;
        };
        let SessionRun {
            model,
            users,
            target,
            keys,
            rng,
            stats,
        } = run;
        let user = &mut users[u as usize];
        if u >= *target {
            user.active = false;
            if user.in_session {
                user.in_session = false;
                stats.left += counts(user.started) as u64;
            }
            return;
        }
        if !user.in_session {
            user.in_session = true;
            user.started = now;
            user.task = 0;
            user.rep = 0;
            user.failed = false;
            stats.started += counts(now) as u64;
        }
        let task = &model.tasks[user.task as usize];
        user.key = match &task.key {
            KeyRule::Source => keys.as_ref().map_or(1, |k| k.sample(rng)),
            KeyRule::Draw(k) => k.sample(rng),
            KeyRule::Previous => user.key,
            KeyRule::User => u as u64 + 1,
        };
        let (class, key) = (task.class, user.key);
        self.new_user_request(s, class, key, u);
    }

    /// The request of user `u` of session source `s` is over (`ok`: answered
    /// successfully): the user moves on, then thinks before its next turn
    /// (or leaves, after its one session).
    pub(crate) fn session_answered(&mut self, s: usize, u: u32, ok: bool) {
        let now = self.now;
        let (from, to) = (self.config.warmup.0, self.config.cohort_end);
        let counts = |t: SimTime| t >= from && t < to;
        let Some(run) = self.sources[s].session.as_deref_mut() else {
            return;
        };
        let SessionRun {
            model,
            users,
            stats,
            ..
        } = run;
        let Some(user) = users.get_mut(u as usize) else {
            return;
        };
        if !user.in_session {
            return;
        }
        let counted = counts(user.started);
        let tasks = &model.tasks;
        if !ok {
            user.failed = true;
            if model.abandon {
                // The requests of this task after this one, and every
                // later task's.
                let t = user.task as usize;
                let left = (tasks[t].repeat - user.rep - 1) as u64
                    + tasks[t + 1..].iter().map(|x| x.repeat as u64).sum::<u64>();
                user.in_session = false;
                if counted {
                    stats.abandoned += 1;
                    stats.tasks_abandoned += left;
                }
            }
        }
        if user.in_session {
            user.rep += 1;
            if user.rep >= tasks[user.task as usize].repeat {
                user.rep = 0;
                user.task += 1;
            }
            if user.task as usize >= tasks.len() {
                user.in_session = false;
                if counted && user.failed {
                    stats.with_failures += 1;
                } else if counted {
                    stats.completed += 1;
                    stats.duration.record(now - user.started);
                }
            }
        }
        if !user.in_session && model.once {
            user.done = true;
            user.active = false;
            return;
        }
        let at = now.saturating_add(self.sources[s].think());
        self.queue.push(
            at,
            Event::Arrival {
                source: s as u32,
                epoch: u,
            },
        );
    }

    /// The traffic multiplier is now `m`: session source `s` wants
    /// `users x m` users. Those over it leave at their next turn; those
    /// under it who are out of the loop come back (a new session, after a
    /// think time), unless they walked their one session already.
    pub(crate) fn session_traffic(&mut self, s: usize, m: f64) {
        let now = self.now;
        let base = self.sources[s].closed.as_ref().map_or(0, |c| c.0);
        // `Change::check` bounds it by the most users a source may have.
        let want = (base as f64 * m).round().clamp(0.0, u32::MAX as f64) as u32;
        let Some(run) = self.sources[s].session.as_deref_mut() else {
            return;
        };
        run.target = want;
        if run.users.len() < want as usize {
            run.users.resize(want as usize, User::default());
        }
        for u in 0..want {
            let user = &mut self.sources[s]
                .session
                .as_deref_mut()
                .expect("a session source")
                .users[u as usize];
            if user.active || user.done {
                continue;
            }
            user.active = true;
            let at = now.saturating_add(self.sources[s].think());
            self.queue.push(
                at,
                Event::Arrival {
                    source: s as u32,
                    epoch: u,
                },
            );
        }
    }

    /// Session source `s`'s counts, if it is one.
    pub fn session_stats(&self, s: usize) -> Option<&SessionRun> {
        self.sources.get(s)?.session.as_deref()
    }
}
