//! Sessions of closed-loop users (Locust's task sets): the file format, its
//! checks (`check.rs`) and its compiled form (`model.rs`).
//!
//! A closed-loop source with `tasks` is a session source: each of its users
//! walks the tasks, thinking between requests, and sends the next request
//! only once the previous one is over (answered, failed, or given up after
//! the client's retries). By default the tasks are walked in order, each
//! `repeat` times (Locust's `SequentialTaskSet`):
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
//! With `order: Weighted`, each step picks one task with probability
//! `weight / sum of weights` (Locust's `@task(weight)`), from the user's
//! own random stream, until the `interrupt` rule ends the session. A task
//! may be a `Set` of tasks of its own (sequential or weighted), which the
//! user enters, walks, and leaves by its own `interrupt` rule (Locust's
//! nested `TaskSet` and `interrupt()`); leaving, the user goes on in the
//! enclosing list, where the whole set counted as one task:
//!
//! ```ron
//! arrivals: Closed(users: 100, think: Exponential(mean: "1s"),
//!     order: Weighted, interrupt: After(20),
//!     tasks: [
//!         Task(class: "browse", weight: 6),
//!         Task(class: "search", weight: 3),
//!         Set(weight: 1, order: Weighted, interrupt: Chance(0.3), tasks: [
//!             Task(class: "cart", weight: 3, key: Previous),
//!             Task(class: "order", key: User),
//!         ]),
//!     ]),
//! ```
//!
//! The engine's side is `sim::sessions`; the report's, `report::sessions`.

use crate::keys::Keys;
use serde::{Deserialize, Serialize};

mod check;
mod model;
pub use check::{Anchor, problems};
pub use model::{Child, End, KeyRule, SessionModel, SetModel, TaskModel};

/// Most tasks and sets in one session, nested ones included.
pub const MAX_TASKS: usize = 100;
/// Most repeats of one task.
pub const MAX_REPEAT: u32 = 1_000;
/// Most sets one inside another under the session (`Set` in `Set` in `Set`).
pub const MAX_DEPTH: usize = 3;
/// Largest `After(n)`.
pub const MAX_AFTER: u32 = 1_000_000;

/// One entry of a `tasks` list: a task, or a set of tasks of its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Step {
    /// One request class, sent `repeat` times in a row.
    Task(Task),
    /// A nested task set: entered, walked, left by its `interrupt` rule.
    Set(TaskSet),
}

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
    /// Its weight in a `Weighted` list (default 1; Locust's `@task(weight)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Draw this task's keys from this law (instead of the source's `keys`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Keys>,
    /// Or carry a key from the session: the previous request's, or the user's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<TaskKey>,
}

/// A nested task set (Locust's `TaskSet` inside a user's tasks).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSet {
    /// Its tasks (and sets).
    pub tasks: Vec<Step>,
    /// In order (default) or picked by weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    /// When the user leaves it; without it, after walking it once (in
    /// order only: a weighted set needs one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupt: Option<Interrupt>,
    /// Its weight in an enclosing `Weighted` list (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
}

/// How a list of tasks is walked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Order {
    /// In the order written (Locust's `SequentialTaskSet`).
    #[default]
    Sequence,
    /// Each step picks a task with probability weight / sum of weights.
    Weighted,
}

/// When a user leaves a list of tasks (Locust's `interrupt()`): the
/// session's own list ends the session; a set's returns to its parent.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Interrupt {
    /// After this many tasks of the list (a nested set counts as one, a
    /// repeated task as one); in order, the list is walked round again.
    After(u32),
    /// After each task of the list, with this probability.
    Chance(f64),
}

/// A key a task carries from its session instead of drawing one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskKey {
    /// The key of the user's previous request in this session (order the
    /// item you put in the cart); drawn like the source's keys when the
    /// session has sent nothing yet (a weighted pick can come first).
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

/// A session source's settings as written in `Closed(...)`.
#[derive(Clone, Copy, Debug)]
pub struct Spec<'a> {
    /// The session's tasks.
    pub tasks: &'a [Step],
    /// How they are walked.
    pub order: Option<Order>,
    /// When the session ends.
    pub interrupt: Option<Interrupt>,
    /// After the session.
    pub sessions: Option<Repeat>,
    /// After a failed request.
    pub on_failure: Option<OnFailure>,
}

impl<'a> Spec<'a> {
    /// The session settings of `arrivals`, if it is a closed loop with tasks.
    pub fn of(arrivals: &'a crate::profile::Arrivals) -> Option<Self> {
        match arrivals {
            crate::profile::Arrivals::Closed {
                tasks: Some(tasks),
                order,
                interrupt,
                sessions,
                on_failure,
                ..
            } => Some(Spec {
                tasks,
                order: *order,
                interrupt: *interrupt,
                sessions: *sessions,
                on_failure: *on_failure,
            }),
            _ => None,
        }
    }

    /// Every class its tasks name, nested ones included, in the order written.
    pub fn classes(&self) -> Vec<&'a str> {
        fn walk<'a>(steps: &'a [Step], out: &mut Vec<&'a str>) {
            for s in steps {
                match s {
                    Step::Task(t) => out.push(&t.class),
                    Step::Set(set) => walk(&set.tasks, out),
                }
            }
        }
        let mut out = Vec::new();
        walk(self.tasks, &mut out);
        out
    }
}

mod fields;
pub use fields::SESSION_NESTED;
