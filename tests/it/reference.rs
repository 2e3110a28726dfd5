//! The generated reference and JSON Schemas are current, and every field the
//! file format has is described (and nothing else is).

use bottleneck::kind::Kind;
use bottleneck::kinds::{self, Node};
use std::collections::BTreeSet;
use std::path::Path;

/// Compares a generated file with the committed one (rewrites it with
/// `BOTTLENECK_BLESS=1`).
fn current(path: &str, want: &str) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("BOTTLENECK_BLESS").is_some() {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, want).unwrap();
    }
    let got = std::fs::read_to_string(&p).unwrap_or_default();
    assert!(
        got == want,
        "{path} is stale: run `BOTTLENECK_BLESS=1 cargo test --test it reference` and commit it"
    );
}

#[test]
fn the_reference_and_the_schemas_are_current() {
    current("docs/reference.md", &bottleneck::reference::markdown());
    for (name, schema) in bottleneck::reference::schemas() {
        current(&format!("docs/schema/{name}.json"), &schema);
    }
}

/// The keys a node serializes to (every field, given or not).
fn keys_of(node: &Node) -> BTreeSet<String> {
    let v = serde_json::to_value(node).unwrap();
    let inner = v.as_object().unwrap().values().next().unwrap().clone();
    inner.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn every_field_of_every_kind_is_described_and_its_example_loads() {
    for k in Kind::ALL {
        let d = kinds::doc(k);
        let node: Node = bottleneck::topology::ron_options()
            .from_str(d.example)
            .unwrap_or_else(|e| panic!("{}'s example does not parse: {e}", k.name()));
        assert_eq!(node.kind_of(), k, "{}'s example is of its kind", k.name());
        let described: BTreeSet<String> = d.fields.iter().map(|f| f.name.to_string()).collect();
        assert_eq!(
            keys_of(&node),
            described,
            "{}: the fields described",
            k.name()
        );
        assert!(d.fields.iter().all(|f| !f.about.is_empty()));
    }
}

#[test]
fn the_reference_prints_at_the_terminal() {
    use crate::common::{bottleneck, text};
    let out = bottleneck(&["reference", "cache"]);
    assert!(out.status.success());
    let t = text(&out.stdout);
    assert!(
        t.contains("### Cache") && t.contains("`single_flight`") && t.contains("`hit_ratio`"),
        "{t}"
    );
    let e = bottleneck(&["reference", "Cahce"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(text(&e.stderr).contains("did you mean `Cache`?"));
    let s = bottleneck(&["reference", "--schema", "run"]);
    let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert!(v["properties"]["end_to_end"].is_object(), "{v}");
}
