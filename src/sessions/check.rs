//! The checks of a session source's settings: each problem with what is
//! wrong, where (the task's place, `task 3.1` for the first task of the
//! set at place 3), and how to fix it.

use super::{Interrupt, MAX_AFTER, MAX_DEPTH, MAX_REPEAT, MAX_TASKS, Order, Spec, Step, TaskKey};

/// Where a problem is written: found from the `class:` of a task (the
/// first in file order of that class after the source), `up` brackets
/// out from it (0: that task's own fields; each set around it adds 2, its
/// `Set(` and its list's `[`), at the field named (`None`: the class).
#[derive(Clone, Debug, PartialEq)]
pub struct Anchor {
    /// The task's class.
    pub class: String,
    /// Which task of that class, in file order from 0.
    pub nth: usize,
    /// How many brackets out from the class the field is.
    pub up: usize,
    /// The field at fault.
    pub field: Option<&'static str>,
}

/// One problem: (message, hint, where it is written if known).
type Problem = (String, String, Option<Anchor>);

/// The problems of a session source's fields. `handled` is every class
/// some app handles by name, and whether one has a `"*"` handler.
pub fn problems(
    spec: &Spec,
    has_mix: bool,
    has_ips: bool,
    handled: (&[&str], bool),
) -> Vec<Problem> {
    let mut out = Vec::new();
    let tasks = spec.tasks;
    if tasks.is_empty() {
        say(
            &mut out,
            "Closed: `tasks` is empty: a session needs at least one task".into(),
            "write e.g. `tasks: [Task(class: \"browse\")]`, or leave `tasks` out for plain closed-loop users",
            None,
        );
    }
    let count = count(tasks);
    if count > MAX_TASKS {
        say(
            &mut out,
            format!("Closed: {count} tasks and sets, over the limit of {MAX_TASKS}"),
            "use `repeat` for a task done several times in a row",
            None,
        );
        return out;
    }
    if has_mix {
        say(
            &mut out,
            "a session source has no `mix`: its tasks name the classes".into(),
            "leave `mix` out; the share of each class follows from the tasks, their `repeat` and `weight`",
            None,
        );
    }
    if has_ips {
        say(
            &mut out,
            "a session source has no `ips`: each user sends from its own address".into(),
            "leave `ips` out (user i sends from address i, so a rate limiter by `Ip` limits each user)",
            None,
        );
    }
    let list = List {
        steps: tasks,
        order: spec.order.unwrap_or_default(),
        interrupt: spec.interrupt,
        path: String::new(),
        depth: 0,
    };
    if tasks.first().is_some_and(first_carries_previous) && list.order == Order::Sequence {
        say(
            &mut out,
            "Closed: the first task carries `key: Previous`, but a session's first request has no previous one".into(),
            "draw its key with `keys: ...` (or the source's `keys`), or use `key: User`",
            first_class(tasks).map(|(class, _)| Anchor {
                class,
                nth: 0,
                up: 0,
                field: Some("key"),
            }),
        );
    }
    check_list(&list, handled, &mut Seen::new(), &mut out);
    out
}

fn say(out: &mut Vec<Problem>, m: String, h: &str, at: Option<Anchor>) {
    out.push((m, h.to_string(), at));
}

/// Tasks and sets in `steps`, nested ones included.
fn count(steps: &[Step]) -> usize {
    steps
        .iter()
        .map(|s| match s {
            Step::Task(_) => 1,
            Step::Set(set) => 1 + count(&set.tasks),
        })
        .sum()
}

/// True when the first request walking `s` in order carries `Previous`.
fn first_carries_previous(s: &Step) -> bool {
    match s {
        Step::Task(t) => t.key == Some(TaskKey::Previous) && t.keys.is_none(),
        Step::Set(set) => {
            set.order.unwrap_or_default() == Order::Sequence
                && set.tasks.first().is_some_and(first_carries_previous)
        }
    }
}

/// The class of the first task in `steps` (in file order), and how many
/// brackets out from it the first step's own fields are.
fn first_class(steps: &[Step]) -> Option<(String, usize)> {
    match steps.first()? {
        Step::Task(t) => Some((t.class.clone(), 0)),
        Step::Set(set) => first_class(&set.tasks).map(|(c, up)| (c, up + 2)),
    }
}

/// Per class, the tasks of it checked so far (they are checked in file
/// order, so this is the next one's place among them).
type Seen = std::collections::BTreeMap<String, usize>;

/// A task's class, which task of that class it is, and a level (see
/// [`first_class`]).
type At = Option<(String, usize, usize)>;

/// Counts the tasks of `steps` (nested ones too) as checked.
fn count_seen(steps: &[Step], seen: &mut Seen) {
    for s in steps {
        match s {
            Step::Task(t) => *seen.entry(t.class.clone()).or_default() += 1,
            Step::Set(set) => count_seen(&set.tasks, seen),
        }
    }
}

/// `first` with its class's count in `seen`: the task not checked yet.
fn at(first: Option<(String, usize)>, seen: &Seen) -> At {
    first.map(|(c, up)| {
        let nth = seen.get(&c).copied().unwrap_or(0);
        (c, nth, up)
    })
}

/// `field` of the step whose first class and level are `at`, `out` levels
/// further out (2: the list holding that step).
fn field_at(at: &At, out: usize, field: &'static str) -> Option<Anchor> {
    at.as_ref().map(|(class, nth, up)| Anchor {
        class: class.clone(),
        nth: *nth,
        up: up + out,
        field: Some(field),
    })
}

/// One list to check: the session's own or a set's.
struct List<'a> {
    steps: &'a [Step],
    order: Order,
    interrupt: Option<Interrupt>,
    /// `""` for the session, `"3."` for the set at place 3.
    path: String,
    depth: usize,
}

impl List<'_> {
    /// How the list is named in messages.
    fn name(&self) -> String {
        if self.path.is_empty() {
            "the session's tasks".into()
        } else {
            format!("the set at task {}", self.path.trim_end_matches('.'))
        }
    }
}

fn check_list(list: &List, handled: (&[&str], bool), seen: &mut Seen, out: &mut Vec<Problem>) {
    let weighted = list.order == Order::Weighted;
    let at_first = at(first_class(list.steps), seen);
    match list.interrupt {
        None if weighted => say(
            out,
            format!(
                "Closed: {} are picked by weight but never interrupted: a user would stay in them for good",
                list.name()
            ),
            "add `interrupt: After(10)` (leave after 10 tasks) or `interrupt: Chance(0.1)` (after each task with probability 0.1)",
            field_at(&at_first, 2, "order"),
        ),
        Some(Interrupt::After(n)) if !(1..=MAX_AFTER).contains(&n) => say(
            out,
            format!(
                "Closed: {}: `After({n})`; give 1 to {MAX_AFTER}",
                list.name()
            ),
            "After(n) leaves after n tasks of the list (a nested set or a repeated task counts as one)",
            field_at(&at_first, 2, "interrupt"),
        ),
        Some(Interrupt::Chance(p)) if !p.is_finite() || p <= 0.0 || p > 1.0 => say(
            out,
            format!(
                "Closed: {}: `Chance({p})`; give a probability above 0 and at most 1",
                list.name()
            ),
            "Chance(p) leaves after each task with probability p: on average after 1/p tasks",
            field_at(&at_first, 2, "interrupt"),
        ),
        _ => {}
    }
    let (names, star) = handled;
    for (i, step) in list.steps.iter().enumerate() {
        let place = format!("{}{}", list.path, i + 1);
        let weight = match step {
            Step::Task(t) => t.weight,
            Step::Set(s) => s.weight,
        };
        let at = at(
            match step {
                Step::Task(t) => Some((t.class.clone(), 0)),
                Step::Set(s) => first_class(&s.tasks).map(|(c, up)| (c, up + 2)),
            },
            seen,
        );
        if let Some(w) = weight {
            if !w.is_finite() || w <= 0.0 || w > 1e9 {
                say(
                    out,
                    format!(
                        "Closed: task {place}: `weight` is {w}; give a number above 0 (up to 1e9)"
                    ),
                    "a task is picked with probability weight / sum of its list's weights",
                    field_at(&at, 0, "weight"),
                );
            } else if !weighted {
                say(
                    out,
                    format!(
                        "Closed: task {place} has a `weight`, but {} are walked in order",
                        list.name()
                    ),
                    "write `order: Weighted` on the list to pick its tasks by weight, or leave `weight` out",
                    field_at(&at, 0, "weight"),
                );
            }
        }
        match step {
            Step::Task(t) => check_task(t, &place, (names, star), seen, out),
            Step::Set(set) => {
                if list.depth + 1 > MAX_DEPTH {
                    say(
                        out,
                        format!(
                            "Closed: task {place}: sets nested {} deep, over the limit of {MAX_DEPTH}",
                            list.depth + 1
                        ),
                        "flatten the innermost set into its parent",
                        field_at(&at, 0, "tasks"),
                    );
                    count_seen(&set.tasks, seen);
                    continue;
                }
                if set.tasks.is_empty() {
                    say(
                        out,
                        format!("Closed: task {place} is a set with no tasks"),
                        "give it tasks, e.g. `Set(tasks: [Task(class: \"cart\")])`, or remove it",
                        None,
                    );
                    continue;
                }
                let inner = List {
                    steps: &set.tasks,
                    order: set.order.unwrap_or_default(),
                    interrupt: set.interrupt,
                    path: format!("{place}."),
                    depth: list.depth + 1,
                };
                check_list(&inner, handled, seen, out);
            }
        }
    }
}

fn check_task(
    t: &super::Task,
    place: &str,
    handled: (&[&str], bool),
    seen: &mut Seen,
    out: &mut Vec<Problem>,
) {
    let at = at(Some((t.class.clone(), 0)), seen);
    *seen.entry(t.class.clone()).or_default() += 1;
    let (names, star) = handled;
    if t.class.is_empty() {
        say(
            out,
            format!("Closed: task {place} has an empty class"),
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
            out,
            format!(
                "Closed: task {place} names class `{}`, which no app handles",
                crate::diag::short(&t.class)
            ),
            &hint,
            at.as_ref().map(|(class, nth, _)| Anchor {
                class: class.clone(),
                nth: *nth,
                up: 0,
                field: None,
            }),
        );
    }
    if let Some(r) = t.repeat
        && !(1..=MAX_REPEAT).contains(&r)
    {
        say(
            out,
            format!("Closed: task {place}: `repeat` is {r}; give 1 to {MAX_REPEAT}"),
            "a task is sent `repeat` times in a row (default 1)",
            field_at(&at, 0, "repeat"),
        );
    }
    if t.keys.is_some() && t.key.is_some() {
        say(
            out,
            format!("Closed: task {place} has both `keys` and `key`"),
            "keep `keys` to draw a key, or `key` (Previous or User) to carry one",
            field_at(&at, 0, "key"),
        );
    }
    if let Some(k) = &t.keys
        && let Err(m) = k.check()
    {
        say(
            out,
            format!("Closed: task {place}: {m}"),
            "",
            field_at(&at, 0, "keys"),
        );
    }
}
