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

/// How long a person takes for some steps, by the keystroke-level model
/// (Card, Moran and Newell, *The Psychology of Human-Computer Interaction*,
/// 1983): an error-free performance built from measured operator times,
/// plus the time to read each step as the README words it. An estimate
/// that can be checked against the steps, not a person timed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Doing the steps: keys, pointing, clicks, drags, typing, and a
    /// mental preparation before each.
    pub operate_s: f64,
    /// Reading each step's words first.
    pub read_s: f64,
}

impl Estimate {
    /// Both together.
    pub fn total_s(&self) -> f64 {
        self.operate_s + self.read_s
    }
}

/// The model's operators, in seconds (Card, Moran and Newell's values).
mod klm {
    /// A keystroke, for an average non-secretary typist (40 words a minute).
    pub const K: f64 = 0.28;
    /// Pointing with the mouse at a target on the screen.
    pub const P: f64 = 1.1;
    /// Pressing or releasing the mouse button.
    pub const B: f64 = 0.1;
    /// Moving the hand between the keyboard and the mouse.
    pub const H: f64 = 0.4;
    /// Mental preparation before a step.
    pub const M: f64 = 1.35;
    /// Silent reading of instructions, words a minute (Brysbaert, 2019:
    /// 238 for non-fiction in English).
    pub const WPM: f64 = 238.0;
}

/// [`Estimate`] for `steps`, the hand starting on the keyboard. A key
/// costs a keystroke per key pressed (Shift+L is two); a click points and
/// clicks; a drag points, presses, points and releases; typing a value
/// clicks the field, selects what is there (Ctrl+A), types each character
/// and Enter. Moving between mouse and keyboard costs a homing each time.
pub fn estimate(steps: &[Step]) -> Estimate {
    use klm::*;
    let mut on_mouse = false;
    let mut home = |mouse: bool| {
        let h = if on_mouse != mouse { H } else { 0.0 };
        on_mouse = mouse;
        h
    };
    let mut operate = 0.0;
    let mut read = 0.0;
    for step in steps {
        read += step.describe().split_whitespace().count() as f64 * 60.0 / WPM;
        operate += M + match *step {
            Step::Key(a) => {
                let presses = keys::shortcut(a).map_or(1, |s| match s.keys[0].0 {
                    keys::Mods::CtrlShift => 3,
                    keys::Mods::Ctrl | keys::Mods::Shift => 2,
                    keys::Mods::Plain => 1,
                });
                home(false) + K * presses as f64
            }
            Step::Click(_) => home(true) + P + 2.0 * B,
            Step::Drag(..) => home(true) + P + B + P + B,
            Step::Type(_, text) => {
                // The click selects the field's value: type over it, Enter.
                let click = home(true) + P + 2.0 * B;
                click + home(false) + K * text.chars().count() as f64 + K
            }
        };
    }
    Estimate {
        operate_s: operate,
        read_s: read,
    }
}

/// The README's section a first-time reader reads before and while doing
/// the walk-through: from its heading to the end of the last step (what
/// follows is not needed to do it).
pub fn readme_section(readme: &str) -> Option<&str> {
    let start = readme.find("#### Build the cache-aside stage from a blank canvas")?;
    let last = readme[start..].find(&format!("\n{}. ", CACHE_ASIDE.len()))?;
    let len = last + 1 + readme[start + last + 1..].find('\n')?;
    Some(&readme[start..start + len])
}

/// Seconds to read `words` words at the model's reading speed.
pub fn reading_s(words: usize) -> f64 {
    words as f64 * 60.0 / klm::WPM
}

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
                // Onto what is drawn where `to` is, as a pointer finds it
                // (a draft is drawn from the builder's own boxes).
                let target = if b.is_draft() {
                    Some(Item::Node(to.to_string()))
                } else {
                    let rect = bevy_egui::egui::Rect::from_min_size(
                        bevy_egui::egui::Pos2::ZERO,
                        bevy_egui::egui::Vec2::new(800.0, 600.0),
                    );
                    crate::ui::graph::drop_on(s, rect, to)
                };
                match target {
                    Some(Item::Node(t)) => b.connect(s, &it, &t).map(|_| ()),
                    _ => Err(format!("no box `{to}` to drop on")),
                }
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
        assert_eq!(parse_build("cache-aside:12"), Ok(12));
        assert!(
            parse_build("cache-aside:0")
                .unwrap_err()
                .contains(&format!("1 to {}", CACHE_ASIDE.len()))
        );
        assert!(parse_build("cache-aside:99").is_err());
        assert!(parse_build("cdn").unwrap_err().contains("not `cdn`"));
    }

    #[test]
    fn the_keystroke_model_prices_each_operator() {
        use klm::*;
        // One plain key from the keyboard: prepare, press.
        let e = estimate(&[Step::Key(Action::Place(Kind::Database))]);
        assert!((e.operate_s - (M + K)).abs() < 1e-9, "{e:?}");
        // A drag from the keyboard: home to the mouse, point, press, point, release.
        let e = estimate(&[Step::Drag("a", "b")]);
        assert!((e.operate_s - (M + H + 2.0 * P + 2.0 * B)).abs() < 1e-9);
        // Typing "8": click the field (it selects the value), home back,
        // the digit, Enter.
        let e = estimate(&[Step::Type("servers", "8")]);
        let want = M + H + P + 2.0 * B + H + K + K;
        assert!((e.operate_s - want).abs() < 1e-9, "{e:?}");
        // Shift+L is two keystrokes; reading grows with the words.
        let shift = estimate(&[Step::Key(Action::AutoLayout)]);
        assert!((shift.operate_s - (M + 2.0 * K)).abs() < 1e-9);
        assert!(shift.read_s > 0.0);
    }

    #[test]
    fn the_cache_aside_walk_through_fits_in_two_minutes() {
        let e = estimate(CACHE_ASIDE);
        // Reading: the README's whole section, not only the steps' words.
        let readme = include_str!("../../../README.md");
        let words = readme_section(readme)
            .expect("the README has the walk-through")
            .split_whitespace()
            .count();
        let read = reading_s(words);
        assert!(read > e.read_s, "the section holds the steps and more");
        assert!(e.operate_s + read < 120.0, "{e:?}, reading {read:.0} s");
        // The README gives these figures.
        let said = format!(
            "the steps are about {:.0} s of doing, and reading this section to its last step\n({words} words at 238 a minute) about {read:.0} s: about {:.0} s",
            e.operate_s,
            e.operate_s + read
        );
        assert!(readme.contains(&said), "the README should say: {said}");
    }
}
