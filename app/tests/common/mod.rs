//! Helpers the builder's test binaries share: open a stage into a sandbox
//! and a builder, run it for a while, name the items edits act on.

// Each test binary includes this module and uses a part of it.
#![allow(dead_code)]

use bottleneck::time::SEC;
use bottleneck_app::builder::Builder;
use bottleneck_app::builder::fields::Item;
use bottleneck_app::content;
use bottleneck_app::sandbox::Sandbox;

/// The node `id`, as the builder selects it.
pub fn node(id: &str) -> Item {
    Item::Node(id.to_string())
}

/// The source `id`, as the builder selects it.
pub fn source(id: &str) -> Item {
    Item::Source(id.to_string())
}

/// Runs the sandbox to `until_s` simulated seconds, fast, on a fake clock.
pub fn run(s: &mut Sandbox, until_s: u64) {
    s.speed = 1_000.0;
    s.paused = false;
    let mut t = 0.0;
    let mut clock = move || {
        t += 1e-4;
        t
    };
    while s.now() < until_s * SEC {
        s.advance(0.05, 10.0, &mut clock);
    }
}

/// The bundled stage `key`, open in a sandbox with a builder on it.
pub fn open_stage(key: &str) -> (Sandbox, Builder) {
    let st = content::find(key).unwrap();
    let s = Sandbox::open(st.file, st.text, 1).unwrap();
    let b = Builder::new(&s);
    (s, b)
}

/// An edit's message, or a panic naming the refusal.
pub fn ok(r: Result<String, String>) -> String {
    r.unwrap_or_else(|e| panic!("refused: {e}"))
}
