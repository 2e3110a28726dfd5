//! Session users at run time: closed-loop users who walk lists of tasks,
//! in order or by weight, nested sets included (the format is
//! [`crate::sessions`]).
//!
//! Each user is one slot, allocated when the run starts (or when more users
//! are wanted than ever before): where it is in its session (a small stack
//! of lists, one per set it is inside), the key it carries, when its
//! session began. A user's turn is an `Arrival` event whose `epoch` is the
//! user's index; its request carries the index as its client address
//! (`ip`), so the answer finds the user. A turn sends one request; its end
//! (answer, failure, or the client giving up) moves the user on and, after
//! a think time, schedules the next turn. Weighted picks and `Chance`
//! interrupts draw from the user's own stream (`{source}/user/{i}`), so a
//! user's walk does not depend on the others'; keys are drawn as before,
//! from the source's session stream. Nothing is allocated per event.

use super::*;
use crate::keys::KeySampler;
use crate::metrics::{Histogram, SessionSeries};
use crate::model::SourceModel;
use crate::sessions::{Child, End, KeyRule, MAX_DEPTH, SessionModel};

/// Lists one user can be inside at once: the session's and its sets.
const FRAMES: usize = MAX_DEPTH + 1;

/// Where a user is in one list.
#[derive(Clone, Copy, Debug, Default)]
struct Frame {
    /// The list (`SessionModel::sets`).
    set: u16,
    /// Its entry being walked.
    pos: u16,
    /// Its entries finished during this visit.
    done: u32,
}

/// One user's place in its session.
#[derive(Clone, Copy, Debug, Default)]
struct User {
    /// The lists it is inside, outermost first (`depth` of them).
    frames: [Frame; FRAMES],
    depth: u8,
    /// Task index (`SessionModel::tasks`).
    task: u16,
    /// Requests of the task already answered.
    rep: u32,
    /// Its last request's key.
    key: u64,
    /// It sent a request in this session (`key` is this session's).
    has_key: bool,
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

/// What one list (a nested set, or the session's own at index 0) did, for
/// sessions that began in the measured cohort.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetStats {
    /// Times a user entered it.
    pub entered: u64,
    /// Times a user left it by its rule (its interrupt, or its last entry).
    pub left: u64,
    /// Times a user was inside it when its session ended early (abandoned,
    /// or the user left the loop).
    pub cut: u64,
    /// Its entries finished (a nested set counts once when left).
    pub tasks: u64,
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
    /// Cut short because the user left the loop (fewer users wanted).
    pub left: u64,
    /// Requests of abandoned sessions never sent (known ones: the rest of
    /// the task and of the lists walked in order; not the future picks of
    /// weighted or interrupted lists).
    pub tasks_abandoned: u64,
    /// Durations of completed sessions, ns: from the first request to the
    /// last answer, think times between included.
    pub duration: Histogram,
    /// Per list (0: the session's own, then the nested sets in the order
    /// written).
    pub sets: Vec<SetStats>,
}

/// A session source's users and counts.
#[derive(Clone, Debug)]
pub struct SessionRun {
    model: SessionModel,
    users: Vec<User>,
    /// Each user's stream for weighted picks and `Chance` interrupts
    /// (empty when the sessions draw none).
    walks: Vec<Stream>,
    /// Users wanted now; those with a higher index leave at their next turn.
    target: u32,
    keys: Option<KeySampler>,
    rng: Stream,
    seed: u64,
    label: String,
    /// What the sessions did.
    pub stats: SessionStats,
    /// Per window (every session, warm-up included).
    pub windows: SessionSeries,
}

impl SessionRun {
    /// For source `m` (which has a session), with streams from `seed` and
    /// `label` (see `SourceState::labelled`); keeps `windows` windows.
    pub fn new(m: &SourceModel, seed: u64, label: &str, windows: usize) -> Self {
        let users = m.closed.as_ref().map_or(0, |c| c.0);
        let model = m.session.clone().unwrap_or(SessionModel {
            tasks: Vec::new(),
            sets: Vec::new(),
            once: false,
            abandon: true,
        });
        let sets = model.sets.len();
        let mut run = SessionRun {
            model,
            users: Vec::new(),
            walks: Vec::new(),
            target: users,
            keys: m.keys.clone(),
            rng: Stream::new(seed, Purpose::Keys, &format!("{label}/session")),
            seed,
            label: label.to_string(),
            stats: SessionStats {
                started: 0,
                completed: 0,
                abandoned: 0,
                with_failures: 0,
                left: 0,
                tasks_abandoned: 0,
                duration: Histogram::new(),
                sets: vec![SetStats::default(); sets],
            },
            windows: SessionSeries::new(windows),
        };
        run.grow(users, true);
        run
    }

    /// Makes room for `n` users (new ones `active` or not).
    fn grow(&mut self, n: u32, active: bool) {
        let n = n as usize;
        if self.users.len() < n {
            self.users.resize(
                n,
                User {
                    active,
                    ..User::default()
                },
            );
        }
        if self.model.random() {
            while self.walks.len() < n {
                let label = format!("{}/user/{}", self.label, self.walks.len());
                self.walks
                    .push(Stream::new(self.seed, Purpose::Routing, &label));
            }
        }
    }

    /// A live edit gave the source `m`: its keys and session settings
    /// apply at each user's next decision. With `restart` (the tasks
    /// changed) every session under way ends now, counted as `left` (by
    /// the cohort rule `counted`: warm-up end, cohort end), and each user's
    /// next session walks the new tasks; the sets' counts start again.
    pub(crate) fn retune(&mut self, m: &SourceModel, restart: bool, counted: (SimTime, SimTime)) {
        self.keys = m.keys.clone();
        let Some(model) = m.session.clone() else {
            return;
        };
        if restart {
            let counts = |t: SimTime| t >= counted.0 && t < counted.1;
            for user in &mut self.users {
                if user.in_session {
                    self.stats.left += counts(user.started) as u64;
                    self.windows.leave();
                    cut(user, &mut self.stats.sets, counts(user.started));
                }
            }
            self.stats.sets = vec![SetStats::default(); model.sets.len()];
        }
        self.model = model;
        let n = self.users.len() as u32;
        self.grow(n, false);
    }

    /// Users in the loop now (thinking or waiting).
    pub fn active(&self) -> u64 {
        self.users.iter().filter(|u| u.active).count() as u64
    }

    /// Users within a session now.
    pub fn in_session(&self) -> u64 {
        self.users.iter().filter(|u| u.in_session).count() as u64
    }

    /// The sessions' compiled form.
    pub fn model(&self) -> &SessionModel {
        &self.model
    }
}

/// The entry a user walks first in list `set` (its first, or a pick).
fn first(model: &SessionModel, set: u16, walk: Option<&mut Stream>) -> u16 {
    let s = &model.sets[set as usize];
    match walk {
        Some(w) if !s.cumulative.is_empty() => s.pick(w.unit()) as u16,
        _ => 0,
    }
}

/// Goes down from the user's innermost list to the task it walks now,
/// entering the sets on the way.
fn descend(
    model: &SessionModel,
    user: &mut User,
    mut walk: Option<&mut Stream>,
    sets: &mut [SetStats],
    counted: bool,
) {
    loop {
        let f = user.frames[user.depth as usize - 1];
        match model.sets[f.set as usize].children[f.pos as usize] {
            Child::Task(t) => {
                user.task = t;
                user.rep = 0;
                return;
            }
            Child::Set(s) => {
                let pos = first(model, s, walk.as_deref_mut());
                user.frames[user.depth as usize] = Frame {
                    set: s,
                    pos,
                    done: 0,
                };
                user.depth += 1;
                sets[s as usize].entered += counted as u64;
            }
        }
    }
}

/// The user finished its task (every repeat): moves on in its lists,
/// leaving those whose rule says so. False when the session is over.
fn advance(
    model: &SessionModel,
    user: &mut User,
    mut walk: Option<&mut Stream>,
    sets: &mut [SetStats],
    counted: bool,
) -> bool {
    while user.depth > 0 {
        let f = &mut user.frames[user.depth as usize - 1];
        let set = &model.sets[f.set as usize];
        f.done += 1;
        sets[f.set as usize].tasks += counted as u64;
        let leave = match set.end {
            End::Walked => f.pos as usize + 1 >= set.children.len(),
            End::After(n) => f.done >= n,
            End::Chance(p) => walk.as_deref_mut().is_some_and(|w| w.unit() < p),
        };
        if leave {
            sets[f.set as usize].left += counted as u64;
            user.depth -= 1;
            continue;
        }
        f.pos = match walk.as_deref_mut() {
            Some(w) if !set.cumulative.is_empty() => set.pick(w.unit()) as u16,
            _ => ((f.pos as usize + 1) % set.children.len()) as u16,
        };
        descend(model, user, walk, sets, counted);
        return true;
    }
    false
}

/// Requests of the user's session known to be left after its current one:
/// the rest of the task, and the later entries of the lists it walks once
/// in order.
fn requests_left(model: &SessionModel, user: &User) -> u64 {
    let mut left = (model.tasks[user.task as usize].repeat - user.rep - 1) as u64;
    for f in &user.frames[..user.depth as usize] {
        let set = &model.sets[f.set as usize];
        if set.end == End::Walked {
            left += set.children[f.pos as usize + 1..]
                .iter()
                .filter_map(|&c| model.fixed(c))
                .sum::<u64>();
        }
    }
    left
}

/// The user's session ends early: the lists it is inside are cut.
fn cut(user: &mut User, sets: &mut [SetStats], counted: bool) {
    for f in &user.frames[..user.depth as usize] {
        sets[f.set as usize].cut += counted as u64;
    }
    user.depth = 0;
    user.in_session = false;
}

impl Simulation {
    /// User `u` of session source `s` takes a turn: leaves (fewer users
    /// wanted), or sends its session's next request.
    pub(crate) fn session_turn(&mut self, s: usize, u: u32) {
        let now = self.now;
        let counts = self.cohort();
        let Some(run) = self.sources[s].session.as_deref_mut() else {
            return;
        };
        let SessionRun {
            model,
            users,
            walks,
            target,
            keys,
            rng,
            stats,
            windows,
            ..
        } = run;
        let user = &mut users[u as usize];
        if u >= *target {
            user.active = false;
            if user.in_session {
                stats.left += counts(user.started) as u64;
                windows.leave();
                cut(user, &mut stats.sets, counts(user.started));
            }
            return;
        }
        let walk = walks.get_mut(u as usize);
        if !user.in_session {
            let counted = counts(now);
            user.in_session = true;
            user.started = now;
            user.failed = false;
            user.has_key = false;
            stats.started += counted as u64;
            windows.start();
            stats.sets[0].entered += counted as u64;
            let mut walk = walk;
            user.frames[0] = Frame {
                set: 0,
                pos: first(model, 0, walk.as_deref_mut()),
                done: 0,
            };
            user.depth = 1;
            descend(model, user, walk, &mut stats.sets, counted);
        }
        let task = &model.tasks[user.task as usize];
        user.key = match &task.key {
            KeyRule::Previous if user.has_key => user.key,
            KeyRule::Source | KeyRule::Previous => keys.as_ref().map_or(1, |k| k.sample(rng)),
            KeyRule::Draw(k) => k.sample(rng),
            KeyRule::User => u as u64 + 1,
        };
        user.has_key = true;
        let (class, key) = (task.class, user.key);
        self.new_user_request(s, class, key, u);
    }

    /// The request of user `u` of session source `s` is over (`ok`: answered
    /// successfully): the user moves on, then thinks before its next turn
    /// (or leaves, after its one session).
    pub(crate) fn session_answered(&mut self, s: usize, u: u32, ok: bool) {
        let now = self.now;
        let counts = self.cohort();
        let Some(run) = self.sources[s].session.as_deref_mut() else {
            return;
        };
        let SessionRun {
            model,
            users,
            walks,
            stats,
            windows,
            ..
        } = run;
        let Some(user) = users.get_mut(u as usize) else {
            return;
        };
        if !user.in_session {
            // A live edit of the tasks ended its session while this
            // request was out: it thinks, then begins a new one.
            if user.active && !user.done {
                self.next_turn(s, u);
            }
            return;
        }
        let counted = counts(user.started);
        if !ok {
            user.failed = true;
            if model.abandon {
                let left = requests_left(model, user);
                if counted {
                    stats.abandoned += 1;
                    stats.tasks_abandoned += left;
                }
                windows.abandon();
                cut(user, &mut stats.sets, counted);
            }
        }
        if user.in_session {
            user.rep += 1;
            if user.rep >= model.tasks[user.task as usize].repeat {
                user.rep = 0;
                let walk = walks.get_mut(u as usize);
                if !advance(model, user, walk, &mut stats.sets, counted) {
                    user.in_session = false;
                    if user.failed {
                        stats.with_failures += counted as u64;
                        windows.with_failures();
                    } else {
                        if counted {
                            stats.completed += 1;
                            stats.duration.record(now - user.started);
                        }
                        windows.complete(now - user.started);
                    }
                }
            }
        }
        if !user.in_session && model.once {
            user.done = true;
            user.active = false;
            return;
        }
        self.next_turn(s, u);
    }

    /// User `u` of session source `s` thinks, then takes its next turn.
    fn next_turn(&mut self, s: usize, u: u32) {
        let at = self.now.saturating_add(self.sources[s].think());
        self.queue.push(
            at,
            Event::Arrival {
                source: s as u32,
                epoch: u,
            },
        );
    }

    /// Whether a session begun at a time is in the measured cohort.
    fn cohort(&self) -> impl Fn(SimTime) -> bool + Copy + use<> {
        let (from, to) = (self.config.warmup.0, self.config.cohort_end);
        move |t| t >= from && t < to
    }

    /// Session source `s` now wants `want` users. Those over it leave at
    /// their next turn; those under it who are out of the loop come back
    /// (a new session, after a think time), unless they walked their one
    /// session already.
    pub(crate) fn session_users(&mut self, s: usize, want: u32) {
        let Some(run) = self.sources[s].session.as_deref_mut() else {
            return;
        };
        run.target = want;
        run.grow(want, false);
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
            self.next_turn(s, u);
        }
    }

    /// The traffic multiplier is now `m`: session source `s` wants
    /// `users x m` users (see [`Simulation::session_users`]).
    pub(crate) fn session_traffic(&mut self, s: usize, m: f64) {
        let base = self.sources[s].closed.as_ref().map_or(0, |c| c.0);
        // `Change::check` bounds it by the most users a source may have.
        let want = super::control::users_at(base, m);
        self.session_users(s, want);
    }

    /// Closes the session windows that began at `start`.
    pub(crate) fn close_session_windows(&mut self, start: SimTime) {
        for src in &mut self.sources {
            if let Some(run) = src.session.as_deref_mut() {
                run.windows.close(start);
            }
        }
    }

    /// Session source `s`'s counts, if it is one.
    pub fn session_stats(&self, s: usize) -> Option<&SessionRun> {
        self.sources.get(s)?.session.as_deref()
    }
}
