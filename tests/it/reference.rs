//! The generated reference and JSON Schemas are current, and every field the
//! file format has is described (and nothing else is).

use bottleneck::kind::Kind;
use bottleneck::kinds::{self, Node};
use serde_json::Value;
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

/// A small JSON Schema (2020-12) checker for what schemars writes: `$ref`
/// into `$defs`, `type`, `enum`, `const`, `anyOf`/`oneOf`/`allOf`,
/// `properties`, `required`, `additionalProperties`, `items`,
/// `prefixItems`. Pushes one line per violation.
fn conforms(root: &Value, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    if let Some(b) = schema.as_bool() {
        if !b {
            errs.push(format!("{at}: no value is allowed here"));
        }
        return;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/");
        conforms(root, &root["$defs"][name], v, at, errs);
    }
    let matches = |s: &Value| {
        let mut e = Vec::new();
        conforms(root, s, v, at, &mut e);
        e.is_empty()
    };
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array)
            && !alts.iter().any(matches)
        {
            errs.push(format!("{at}: matches none of its {key} ({v:.80})"));
        }
    }
    for s in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        conforms(root, s, v, at, errs);
    }
    if let Some(t) = schema.get("type") {
        let ok = |t: &str| match t {
            "null" => v.is_null(),
            "boolean" => v.is_boolean(),
            "string" => v.is_string(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            "number" => v.is_number(),
            "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|x| x.fract() == 0.0),
            _ => false,
        };
        let fits = match t {
            Value::String(s) => ok(s),
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(ok),
            _ => true,
        };
        if !fits {
            errs.push(format!("{at}: is not of type {t} ({v:.80})"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        errs.push(format!("{at}: {v} is not one of {e:?}"));
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        errs.push(format!("{at}: {v} is not {c}"));
    }
    if let Some(o) = v.as_object() {
        for k in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let k = k.as_str().unwrap_or_default();
            if !o.contains_key(k) {
                errs.push(format!("{at}: `{k}` is required but missing"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, x) in o {
            let here = format!("{at}/{k}");
            match props.and_then(|p| p.get(k)) {
                Some(s) => conforms(root, s, x, &here, errs),
                None => {
                    if let Some(extra) = schema.get("additionalProperties") {
                        conforms(root, extra, x, &here, errs);
                    }
                }
            }
        }
    }
    if let Some(a) = v.as_array() {
        let prefix = schema.get("prefixItems").and_then(Value::as_array);
        for (k, x) in a.iter().enumerate() {
            let here = format!("{at}/{k}");
            match prefix.and_then(|p| p.get(k)) {
                Some(s) => conforms(root, s, x, &here, errs),
                None => {
                    if let Some(s) = schema.get("items") {
                        conforms(root, s, x, &here, errs);
                    }
                }
            }
        }
    }
}

fn schema(name: &str) -> Value {
    let (_, text) = bottleneck::reference::schemas()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn assert_conforms(what: &str, schema: &Value, json: &str) {
    let v: Value = serde_json::from_str(json).unwrap();
    let mut errs = Vec::new();
    conforms(schema, schema, &v, "", &mut errs);
    errs.truncate(8);
    assert!(
        errs.is_empty(),
        "{what} does not fit its schema:\n{}",
        errs.join("\n")
    );
}

/// What `run --json` and `check --json` print fits the schemas the
/// reference publishes, for every bundled topology and a scenario with
/// series, classes, sessions and changes: CI pipelines parse these.
#[test]
fn the_json_outputs_fit_their_published_schemas() {
    let run_schema = schema("run");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    let mut ran = 0;
    for p in &files {
        let Ok(t) = bottleneck::topology::load_str("t", &std::fs::read_to_string(p).unwrap())
        else {
            continue;
        };
        let mut sim = bottleneck::sim::Simulation::new(
            &t.model,
            bottleneck::sim::RunConfig {
                warmup: bottleneck::time::Duration(bottleneck::time::SEC),
                ..Default::default()
            },
        );
        sim.step_until(6 * bottleneck::time::SEC).unwrap();
        let r = sim.report();
        assert_conforms(&p.display().to_string(), &run_schema, &r.to_json());
        ran += 1;
    }
    assert!(ran >= 20, "only {ran} topologies ran");
    // A scenario run with series, changes and thresholds; its verdicts.
    let base = dir.join("walls");
    let sc_path = base.join("6a-retry-storm.scenario.ron");
    let sc =
        bottleneck::scenario::parse_str("s", &std::fs::read_to_string(&sc_path).unwrap()).unwrap();
    let m = bottleneck::topology::load_str(
        "t",
        &std::fs::read_to_string(base.join(&sc.topology)).unwrap(),
    )
    .unwrap()
    .model;
    let plan = sc.plan(&m).unwrap();
    let o = bottleneck::scenario::run(&plan, &m, sc.seed, true);
    assert_conforms("a scenario's report", &run_schema, &o.report.to_json());
    let v = bottleneck::scenario::judge(&sc, &[o]);
    let could_not = bottleneck::scenario::Verdict::could_not_run("x.scenario.ron", "why".into());
    assert_conforms(
        "check's verdicts",
        &schema("check"),
        &serde_json::to_string(&vec![v, could_not]).unwrap(),
    );
}

#[test]
fn the_schema_checker_finds_what_is_wrong() {
    let s = schema("run");
    let mut errs = Vec::new();
    let v = serde_json::json!({"topology": 3});
    conforms(&s, &s, &v, "", &mut errs);
    assert!(
        errs.iter().any(|e| e.contains("/topology: is not of type")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("`nodes` is required")),
        "{errs:?}"
    );
}
