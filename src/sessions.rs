//! Sessions of closed-loop users (Locust's sequential task sets): the file
//! format, its checks and its compiled form.
//!
//! A closed-loop source with `tasks` is a session source: each of its users
//! walks the tasks in order (each task `repeat` times), thinking between
//! requests, and sends the next request only once the previous one is over
//! (answered, failed, or given up after the client's retries):
//!
//! ```ron
//! Source(id: "shoppers", to: "web",
//!        arrivals: Closed(users: 200, think: Exponential(mean: "1s"),
//!            tasks: [
//!                Task(class: "browse", repeat: 3, keys: Zipf(keys: 10_000, s: 1.0)),
//!                Task(class: "cart", key: Previous),
//!                Task(class: "order", key: User),
//!            ],
//!            sessions: Loop, on_failure: Abandon)),
//! ```
//!
//! The engine's side is `sim::sessions`; the report's, `report::sessions`.

use crate::keys::{KeySampler, Keys};
use serde::{Deserialize, Serialize};

/// Most tasks in one session.
pub const MAX_TASKS: usize = 100;
/// Most repeats of one task.
pub const MAX_REPEAT: u32 = 1_000;

/// One task of a session: a request of `class`, sent `repeat` times in a row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// The request class (what the apps' `handle` maps to steps).
    pub class: String,
    /// How many requests in a row (default 1; Locust's sequential task
    /// listed several times).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    /// Draw this task's keys from this law (instead of the source's `keys`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Keys>,
    /// Or carry a key from the session: the previous request's, or the user's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<TaskKey>,
}

/// A key a task carries from its session instead of drawing one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskKey {
    /// The key of the user's previous request in this session (order the
    /// item you put in the cart).
    Previous,
    /// The user's own key: user `i` (from 0) has key `i + 1` (their cart,
    /// their account), in the same key space as drawn keys.
    User,
}

/// What a user does after the last task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Repeat {
    /// Think, then start a new session (Locust's default).
    #[default]
    Loop,
    /// Leave: each user walks the tasks once.
    Once,
}

/// What a user does when a request of the session fails for good (an
/// error, a drop, or a timeout after the client's retries).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnFailure {
    /// Give the session up: the tasks left are not sent (they are counted
    /// as abandoned); the user thinks and starts again (or leaves, `Once`).
    /// The default: a shopper whose cart fails does not order.
    #[default]
    Abandon,
    /// Go on with the next task as if it had succeeded.
    Continue,
}

/// Where a task's key comes from, compiled.
#[derive(Clone, Debug)]
pub enum KeyRule {
    /// The source's `keys` (key 1 without them).
    Source,
    /// The task's own law.
    Draw(KeySampler),
    /// The user's previous request's key.
    Previous,
    /// The user's own key (index + 1).
    User,
}

/// A task, compiled.
#[derive(Clone, Debug)]
pub struct TaskModel {
    /// Class index.
    pub class: u16,
    /// Requests in a row, at least 1.
    pub repeat: u32,
    /// Where its key comes from.
    pub key: KeyRule,
}

/// A session source's sessions, compiled.
#[derive(Clone, Debug)]
pub struct SessionModel {
    /// The tasks, in order.
    pub tasks: Vec<TaskModel>,
    /// Each user walks the tasks once, then leaves.
    pub once: bool,
    /// A failure ends the session (else it goes on).
    pub abandon: bool,
}

impl SessionModel {
    /// Requests in one whole session.
    pub fn requests(&self) -> u64 {
        self.tasks.iter().map(|t| t.repeat as u64).sum()
    }

    /// Compiles checked tasks; `class_of` gives a class's index.
    pub fn compile(
        tasks: &[Task],
        sessions: Option<Repeat>,
        on_failure: Option<OnFailure>,
        class_of: impl Fn(&str) -> u16,
    ) -> Self {
        SessionModel {
            tasks: tasks
                .iter()
                .map(|t| TaskModel {
                    class: class_of(&t.class),
                    repeat: t.repeat.unwrap_or(1).max(1),
                    key: match (&t.keys, t.key) {
                        (Some(k), _) => KeyRule::Draw(k.sampler()),
                        (None, Some(TaskKey::Previous)) => KeyRule::Previous,
                        (None, Some(TaskKey::User)) => KeyRule::User,
                        (None, None) => KeyRule::Source,
                    },
                })
                .collect(),
            once: sessions == Some(Repeat::Once),
            abandon: on_failure.unwrap_or_default() == OnFailure::Abandon,
        }
    }

    /// The classes' shares of the session's requests, as a source's mix
    /// (cumulative share, class), merged by class and sorted by class.
    pub fn mix(&self) -> Vec<(f64, u16)> {
        let total = self.requests().max(1) as f64;
        let mut per: std::collections::BTreeMap<u16, u64> = Default::default();
        for t in &self.tasks {
            *per.entry(t.class).or_default() += t.repeat as u64;
        }
        let mut cum = 0.0;
        per.into_iter()
            .map(|(c, n)| {
                cum += n as f64 / total;
                (cum, c)
            })
            .collect()
    }
}

/// The problems of a session source's fields, each as (message, hint,
/// `class:` value to point at if any). `handled` is every class some app
/// handles by name, and whether one has a `"*"` handler.
pub fn problems(
    tasks: &[Task],
    has_mix: bool,
    has_ips: bool,
    handled: (&[&str], bool),
) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    let mut say = |m: String, h: &str, at: Option<&str>| {
        out.push((m, h.to_string(), at.map(str::to_string)));
    };
    if tasks.is_empty() {
        say(
            "Closed: `tasks` is empty: a session needs at least one task".into(),
            "write e.g. `tasks: [Task(class: \"browse\")]`, or leave `tasks` out for plain closed-loop users",
            None,
        );
    }
    if tasks.len() > MAX_TASKS {
        say(
            format!(
                "Closed: {} tasks, over the limit of {MAX_TASKS}",
                tasks.len()
            ),
            "use `repeat` for a task done several times in a row",
            None,
        );
        return out;
    }
    if has_mix {
        say(
            "a session source has no `mix`: its tasks name the classes".into(),
            "leave `mix` out; the share of each class follows from the tasks and their `repeat`",
            None,
        );
    }
    if has_ips {
        say(
            "a session source has no `ips`: each user sends from its own address".into(),
            "leave `ips` out (user i sends from address i, so a rate limiter by `Ip` limits each user)",
            None,
        );
    }
    let (names, star) = handled;
    for (i, t) in tasks.iter().enumerate() {
        let at = Some(t.class.as_str());
        if t.class.is_empty() {
            say(
                format!("Closed: task {} has an empty class", i + 1),
                "name the request class, e.g. `Task(class: \"browse\")`",
                None,
            );
        } else if !names.is_empty() && !star && !names.contains(&t.class.as_str()) {
            let hint = match crate::diag::closest(&t.class, names.iter().copied()) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!(
                    "the apps handle {}; add a handler for it or name one of those",
                    crate::diag::list_names(names)
                ),
            };
            say(
                format!(
                    "Closed: task {} names class `{}`, which no app handles",
                    i + 1,
                    crate::diag::short(&t.class)
                ),
                &hint,
                at,
            );
        }
        if let Some(r) = t.repeat
            && !(1..=MAX_REPEAT).contains(&r)
        {
            say(
                format!(
                    "Closed: task {}: `repeat` is {r}; give 1 to {MAX_REPEAT}",
                    i + 1
                ),
                "a task is sent `repeat` times in a row (default 1)",
                at,
            );
        }
        if t.keys.is_some() && t.key.is_some() {
            say(
                format!("Closed: task {} has both `keys` and `key`", i + 1),
                "keep `keys` to draw a key, or `key` (Previous or User) to carry one",
                at,
            );
        }
        if let Some(k) = &t.keys
            && let Err(m) = k.check()
        {
            say(format!("Closed: task {}: {m}", i + 1), "", at);
        }
        if i == 0 && t.key == Some(TaskKey::Previous) {
            say(
                "Closed: the first task carries `key: Previous`, but a session's first request has no previous one".into(),
                "draw its key with `keys: ...` (or the source's `keys`), or use `key: User`",
                at,
            );
        }
    }
    out
}

use crate::kind::{Field, FieldType, field};

/// The fields of `Closed(...)` and `Task(...)`, for the reference.
pub const SESSION_NESTED: &[(&str, &[Field])] = &[
    (
        "Closed",
        &[
            field(
                "users",
                FieldType::Count {
                    min: 1,
                    max: 1_000_000,
                },
                "users",
                None,
                "Users in the loop; each sends a request, waits until it is over (answered, failed, or given up after the client's retries), thinks, and sends the next. The traffic multiplier scales how many there are.",
            ),
            field(
                "think",
                FieldType::Dist,
                "",
                None,
                "Think time after each request is over (and before a user's first).",
            ),
            field(
                "tasks",
                FieldType::Nested("list of Task(...)"),
                "",
                Some("none: each request draws its class from `mix`"),
                "A session: the tasks each user walks in order, Locust-style: `[Task(class: \"browse\", repeat: 3), Task(class: \"cart\", key: Previous), Task(class: \"order\")]`. A session source has no `mix` (the tasks name the classes) and no `ips` (user i sends from address i). At most 100 tasks.",
            ),
            field(
                "sessions",
                FieldType::Choice(&["Loop", "Once"]),
                "",
                Some("Loop"),
                "After the last task: think and start a new session, or leave.",
            ),
            field(
                "on_failure",
                FieldType::Choice(&["Abandon", "Continue"]),
                "",
                Some("Abandon"),
                "When a request fails for good: give the session up (the tasks left are counted as abandoned; think, then start again), or go on with the next task.",
            ),
        ],
    ),
    (
        "Task",
        &[
            field(
                "class",
                FieldType::Nested("class name"),
                "",
                None,
                "The request class (what the apps' `handle` maps to steps); with apps that name their classes, one of those.",
            ),
            field(
                "repeat",
                FieldType::Count {
                    min: 1,
                    max: MAX_REPEAT as u64,
                },
                "requests",
                Some("1"),
                "Requests of this task in a row, each after a think time.",
            ),
            field(
                "keys",
                FieldType::Nested("keys"),
                "",
                Some("the source's `keys`"),
                "Draw this task's keys from this law: `Zipf(keys: 10_000, s: 1.0)`, `Uniform(...)`, `Celebrity(...)`.",
            ),
            field(
                "key",
                FieldType::Choice(&["Previous", "User"]),
                "",
                Some("drawn"),
                "Carry a key instead of drawing one: the user's previous request's (not on the first task), or the user's own (user i has key i + 1).",
            ),
        ],
    ),
];
