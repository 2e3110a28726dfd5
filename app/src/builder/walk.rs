//! The README's walk-through as data: the cache-aside stage (a balancer,
//! three apps, a cache, a database) built from a blank canvas in a few
//! keys, clicks, right-drags and typed values. [`replay`] does each step
//! with the function the interface calls for it (keys through the shortcut
//! table itself), so the README, `bottleneck-app --build cache-aside` and
//! the tests follow the same steps.

use super::Builder;
use super::fields::Item;
use crate::sandbox::Sandbox;
use crate::ui::UiState;
use crate::ui::keys::{self, Action};
use bottleneck::kind::Kind;

/// One thing a person does.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// Press a shortcut.
    Key(Action),
    /// Click a box.
    Click(&'static str),
    /// Right-drag from a box to another (connect).
    Drag(&'static str, &'static str),
    /// Type a value into the selected box's field (then Enter).
    Type(&'static str, &'static str),
}

impl Step {
    /// How the README says it.
    pub fn describe(&self) -> String {
        match self {
            Step::Key(a) => {
                let what = keys::shortcut(*a).map_or("", |s| s.what);
                format!("press **{}** ({what})", keys::hint(*a))
            }
            Step::Click(id) => format!("click `{id}`"),
            Step::Drag(a, b) => format!("right-drag from `{a}` to `{b}`"),
            Step::Type(f, t) => format!("type `{t}` into **{f}**"),
        }
    }
}

/// The cache-aside stage from a blank canvas.
pub const CACHE_ASIDE: &[Step] = &[
    Step::Key(Action::NewBlank),
    Step::Key(Action::Place(Kind::Database)),
    Step::Key(Action::Place(Kind::LoadBalancer)),
    Step::Key(Action::AddSource),
    Step::Type("mix", r#"{"read": 0.95, "write": 0.05}"#),
    Step::Type("keys", "Zipf(keys: 1_000_000, s: 0.99)"),
    Step::Type("arrivals", "Poisson(rps: 4000)"),
    Step::Key(Action::Place(Kind::App)),
    Step::Drag("lb", "app"),
    Step::Drag("app", "db"),
    Step::Key(Action::Place(Kind::Cache)),
    Step::Type("servers", "8"),
    Step::Drag("app", "redis"),
    Step::Click("app"),
    Step::Key(Action::Duplicate),
    Step::Click("app"),
    Step::Key(Action::Duplicate),
    Step::Key(Action::AutoLayout),
];

/// Does `steps` with the interface's own functions; stops at the first
/// refused one with its message.
pub fn replay(steps: &[Step], s: &mut Sandbox, st: &mut UiState) -> Result<(), String> {
    for (k, step) in steps.iter().enumerate() {
        let b = &mut st.builder;
        b.message = None;
        let item = |b: &Builder, id: &str| {
            if b.working.sources.iter().any(|x| x.id == id) {
                Item::Source(id.to_string())
            } else {
                Item::Node(id.to_string())
            }
        };
        let r = match *step {
            Step::Key(a) => {
                keys::run(a, s, st);
                match &st.builder.message {
                    Some((m, true)) => Err(m.clone()),
                    _ => Ok(()),
                }
            }
            Step::Click(id) => {
                let it = item(b, id);
                b.click_box(s, it);
                Ok(())
            }
            Step::Drag(from, to) => {
                let it = item(b, from);
                b.connect(s, &it, to).map(|_| ())
            }
            Step::Type(field, text) => match b.selected.clone() {
                Some(it) => b.set_text(s, &it, field, text).map(|_| ()),
                None => Err("nothing is selected to type into".into()),
            },
        };
        r.map_err(|e| format!("step {} ({}): {e}", k + 1, step.describe()))?;
    }
    Ok(())
}

/// What `--build` (native) and `?build=` (browser) ask for: `cache-aside`
/// (every step) or `cache-aside:N` (the first N, to show the builder
/// mid-build). Returns the number of steps.
pub fn parse_build(spec: &str) -> Result<usize, String> {
    let (name, n) = spec.split_once(':').unwrap_or((spec, ""));
    if name != "cache-aside" {
        return Err(format!("--build knows `cache-aside`, not `{name}`"));
    }
    if n.is_empty() {
        return Ok(CACHE_ASIDE.len());
    }
    match n.parse::<usize>() {
        Ok(k) if (1..=CACHE_ASIDE.len()).contains(&k) => Ok(k),
        _ => Err(format!(
            "`{spec}`: the steps are 1 to {}, as in the README",
            CACHE_ASIDE.len()
        )),
    }
}

/// The first `steps` steps of the walk-through (a draft is fine).
pub fn build_steps(s: &mut Sandbox, b: &mut Builder, steps: usize) -> Result<(), String> {
    let mut st = UiState {
        builder: std::mem::take(b),
        ..Default::default()
    };
    let r = replay(&CACHE_ASIDE[..steps.min(CACHE_ASIDE.len())], s, &mut st);
    *b = std::mem::take(&mut st.builder);
    r
}

/// The cache-aside stage (a balancer, three apps, a cache, a database),
/// built from a blank canvas by replaying [`CACHE_ASIDE`], the way the
/// README walks through it. Returns the cache's id.
pub fn build_cache_aside(s: &mut Sandbox, b: &mut Builder) -> Result<String, String> {
    build_steps(s, b, CACHE_ASIDE.len())?;
    if b.is_draft() {
        return Err(b.problems.join("\n"));
    }
    b.working
        .nodes
        .iter()
        .find(|n| n.kind_of() == Kind::Cache)
        .map(|n| n.id().to_string())
        .ok_or_else(|| "no cache was built".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_specs_name_the_stage_and_a_step_count() {
        assert_eq!(parse_build("cache-aside"), Ok(CACHE_ASIDE.len()));
        assert_eq!(parse_build("cache-aside:14"), Ok(14));
        assert!(
            parse_build("cache-aside:0")
                .unwrap_err()
                .contains("1 to 18")
        );
        assert!(parse_build("cache-aside:99").is_err());
        assert!(parse_build("cdn").unwrap_err().contains("not `cdn`"));
    }
}
