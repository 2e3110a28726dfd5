//! The fields of `Closed(...)`, `Task(...)` and `Set(...)`, for the generated
//! reference.

use super::MAX_REPEAT;
use crate::kind::{Field, FieldType, field};

/// The fields of `Closed(...)`, `Task(...)` and `Set(...)`, for the reference.
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
                "A session: the tasks each user walks, Locust-style: `[Task(class: \"browse\", repeat: 3), Task(class: \"cart\", key: Previous), Task(class: \"order\")]`. An entry may be a `Set(...)` of tasks of its own, which the user enters, walks and leaves by its `interrupt` (Locust's nested TaskSet). A session source has no `mix` (the tasks name the classes) and no `ips` (user i sends from address i). At most 100 tasks and sets in all.",
            ),
            field(
                "order",
                FieldType::Choice(&["Sequence", "Weighted"]),
                "",
                Some("Sequence"),
                "How the session's tasks are walked: in order, or each step picks one with probability weight / sum of weights (Locust's `@task(weight)`), from the user's own random stream. Weighted needs `interrupt`.",
            ),
            field(
                "interrupt",
                FieldType::Nested("After(n) or Chance(p)"),
                "",
                Some("after the last task (Sequence)"),
                "When a session ends: `After(20)` after 20 tasks (a set or a repeated task counts as one; a sequence is walked round again), `Chance(0.05)` after each task with probability 0.05 (on average after 20). n from 1 to 1000000; p above 0, at most 1.",
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
                "weight",
                FieldType::Number {
                    min: crate::kind::ABOVE_ZERO,
                    max: 1e9,
                },
                "",
                Some("1"),
                "In a `Weighted` list, the task is picked with probability weight / sum of the list's weights (Locust's `@task(weight)`); above 0. Refused in a list walked in order.",
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
                "Carry a key instead of drawing one: the user's previous request's (not on the first task of a sequence; drawn like the source's keys when a weighted pick comes first), or the user's own (user i has key i + 1).",
            ),
        ],
    ),
    (
        "Set",
        &[
            field(
                "tasks",
                FieldType::Nested("list of Task(...) or Set(...)"),
                "",
                None,
                "The set's own tasks (not empty). Sets nest at most 3 deep under the session.",
            ),
            field(
                "order",
                FieldType::Choice(&["Sequence", "Weighted"]),
                "",
                Some("Sequence"),
                "In order, or picked by weight at each step (then `interrupt` is required).",
            ),
            field(
                "interrupt",
                FieldType::Nested("After(n) or Chance(p)"),
                "",
                Some("after its last task (Sequence)"),
                "When the user leaves the set and goes on in the enclosing list (Locust's `interrupt()`): `After(n)` after n of its tasks, `Chance(p)` after each with probability p.",
            ),
            field(
                "weight",
                FieldType::Number {
                    min: crate::kind::ABOVE_ZERO,
                    max: 1e9,
                },
                "",
                Some("1"),
                "Its weight in an enclosing `Weighted` list; the whole set counts as one task there.",
            ),
        ],
    ),
];
