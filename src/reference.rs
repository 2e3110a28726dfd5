//! The reference, generated from the definitions: every node kind (what it
//! is, every field with its type, unit, default and meaning, an example,
//! what each fault does to it, which threshold metrics name it), sources and
//! clients, the timeline's actions, the threshold metrics, and the JSON
//! Schemas of what `run`, `check`, `sweep` and `drill` print.
//! `docs/reference.md` and `docs/schema/*.json` are written from here (a
//! test fails when they are stale), and `bottleneck reference` prints it.

use crate::kind::{Field, Kind};
use crate::kinds::{self, KindDoc};
use crate::sim::Fault;
use std::fmt::Write as _;

/// The timeline's actions: how each is written, and what it does.
pub const ACTIONS: &[(&str, &str)] = &[
    (
        "Traffic(3.0)",
        "Multiply every open-loop source's rate (1.0 is the topology's own; a source's profile still shapes it); closed-loop sources get that many times the users, rounded half up but at least 1 while the multiplier is above 0 (x0.01 on 3 users leaves 1; x0 removes them all). A `Burst` is a fixed count, sent at its instant whatever the multiplier (0 included). The multiplier in force again changes nothing and is refused.",
    ),
    (
        "Rps(30000)",
        "Set the open-loop sources' total rate, requests per second, at this instant: the traffic multiplier becomes this figure over their rate then (their profiles' rates at this time). It is a multiplier from then on: a source whose profile later changes its rate (a `Steps` step, a ramp, a daily cycle) moves the total with it, as under `Traffic`.",
    ),
    (
        "Ramp(to: 3.0, over: \"1m\")",
        "Move the traffic multiplier linearly to `to` over `over`, a step a second.",
    ),
    (
        "Spike(times: 11.0, lasting: \"30s\")",
        "Multiply traffic by `times` for `lasting`, then go back.",
    ),
    (
        "Down(\"db\")",
        "Take a node down, as a crash: requests waiting or in service there are lost (the default; see each kind's faults).",
    ),
    (
        "Drain(\"db\")",
        "Take a node down gracefully: requests in service finish and are answered; waiting requests are lost and arrivals fail, as with `Down`. `Up` brings it back.",
    ),
    ("Up(\"db\")", "Bring a node back."),
    (
        "DownFirst(\"Replica\")",
        "Take down the first node of a kind (drills, whose topologies are the learner's).",
    ),
    (
        "Slow(node: \"db\", factor: 2.0)",
        "Multiply a node's service times (1.0 restores it).",
    ),
    (
        "Errors(node: \"db\", rate: 0.1)",
        "Make a share of a node's requests fail (0 restores it).",
    ),
    (
        "Servers(node: \"db\", servers: 8)",
        "Set a node's servers (what they are depends on the kind).",
    ),
    (
        "Instances(node: \"app\", count: 6)",
        "Set an app's instances.",
    ),
    ("Flush(\"redis\")", "Empty a cache or a CDN edge."),
    (
        "Partition(a: \"app\", b: \"db\")",
        "Cut the network between two nodes that exchange requests: a call, hand-off or `Publish` across it fails at once, counted at the sender.",
    ),
    ("Heal(a: \"app\", b: \"db\")", "Restore it."),
    ("DownRegion(\"eu\")", "Take every node of a region down."),
    ("UpRegion(\"eu\")", "Bring them back."),
    (
        "Shards(node: \"shards\", count: 8)",
        "Use the first `count` shards of a shard router (resharding).",
    ),
];

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn field_table(out: &mut String, fields: &[Field]) {
    out.push_str("| field | type | unit | default | meaning |\n|---|---|---|---|---|\n");
    for f in fields {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            f.name,
            cell(&f.ty.describe()),
            if f.unit.is_empty() { "" } else { f.unit },
            f.default.map_or("**required**".to_string(), cell),
            cell(f.about)
        );
    }
    out.push('\n');
}

/// The reference for one kind.
pub fn kind_section(kind: Kind) -> String {
    let d: &KindDoc = kinds::doc(kind);
    let mut out = String::new();
    let _ = writeln!(out, "### {}\n\n{}\n", kind.name(), d.about);
    field_table(&mut out, d.fields);
    for (name, fields) in d.nested {
        let _ = writeln!(out, "`{name}(...)`:\n");
        field_table(&mut out, fields);
    }
    let _ = writeln!(out, "Example:\n\n```ron\n{}\n```\n", d.example);
    out.push_str("Faults and capacity changes:\n\n| change | effect |\n|---|---|\n");
    for f in Fault::ALL {
        let effect = match kinds::effect(f, kind) {
            Ok(e) => e.to_string(),
            Err(why) => format!("refused: {why}"),
        };
        let _ = writeln!(out, "| `{}` | {} |", f.name(), cell(&effect));
    }
    let metrics: Vec<String> = crate::scenario::METRICS
        .iter()
        .filter(|m| m.applies_to(kind.name()))
        .map(|m| format!("`{}`", m.name))
        .collect();
    let _ = writeln!(
        out,
        "\nThreshold metrics that can name it: {}.\n",
        metrics.join(", ")
    );
    out
}

/// The whole reference, as `docs/reference.md` holds it.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Reference\n\n\
         Generated from the definitions in the code (`src/reference.rs`): do not\n\
         edit; run `BOTTLENECK_BLESS=1 cargo test --test it reference` after a change.\n\
         `bottleneck reference [KIND]` prints it at the terminal.\n\n\
         Durations are strings with a unit: `\"250us\"`, `\"10ms\"`, `\"1.5s\"`, `\"5m\"`, `\"1h\"`,\n\
         or compound: `\"1m30s\"`. Distributions of times: `Constant(\"10ms\")`,\n\
         `Exponential(mean: \"10ms\")`, `Uniform(min: \"5ms\", max: \"15ms\")`,\n\
         `Normal(mean: \"10ms\", std: \"2ms\")` (truncated at 0), `LogNormal(mean: \"20ms\", std: \"30ms\")`\n\
         (of the distribution itself), `Pareto(scale: \"1ms\", shape: 2.5)`,\n\
         `FromPercentiles(p50: \"4ms\", p99: \"25ms\")` (a lognormal fitted to them),\n\
         `Mixture([Part(p: 0.9, dist: ...), ...])`. Numbers may be written with `_`.\n\n\
         ## Topology\n\n`Topology(...)`:\n\n",
    );
    field_table(&mut out, crate::topology::TOPOLOGY_FIELDS);
    out.push_str("## Sources\n\n`Source(...)`:\n\n");
    field_table(&mut out, crate::topology::SOURCE_FIELDS);
    for (name, fields) in crate::sessions::SESSION_NESTED
        .iter()
        .chain(crate::topology::CLIENT_NESTED)
    {
        let _ = writeln!(out, "`{name}(...)`:\n");
        field_table(&mut out, fields);
    }
    out.push_str("## Node kinds\n\n");
    for k in Kind::ALL {
        let _ = writeln!(
            out,
            "- [{}](#{}): {}",
            k.name(),
            k.name().to_lowercase(),
            first_sentence(kinds::doc(k).about)
        );
    }
    out.push('\n');
    for k in Kind::ALL {
        out.push_str(&kind_section(k));
    }
    out.push_str(
        "## Scenarios\n\n\
         `Scenario(name, topology, seed, duration, warmup, window, deadline, timeline, thresholds, expect_fail)`;\n\
         `deadline` (e.g. `\"300ms\"`) is the time within which a successful answer counts toward\n\
         `goodput` (from the request's first attempt, retries included; without it, each client's\n\
         `timeout`; without either, every success). `bottleneck run --scenario FILE` plays the\n\
         timeline in a plain run (with `--json`, `--series`, `--series-csv`); `check` judges it.\n\
         the timeline is a list of `At(\"2m\", ACTION)` (or `Exact(time, events, ACTION)` in\n\
         recorded sessions). Actions:\n\n| action | what it does |\n|---|---|\n",
    );
    for (a, what) in ACTIONS {
        let _ = writeln!(out, "| `{a}` | {} |", cell(what));
    }
    out.push_str(
        "\nThresholds are `metric[(node)] op value [window]`, e.g. `p99 < 200ms`,\n\
         `utilization(db) < 0.8 during 2m..`, `error_rate < 1% after recovery within 30s`.\n\
         End-to-end metrics take k6's tags for one request class (of the sources' `mix`) or one\n\
         source: `p99{class:order} < 300ms`, `error_rate{source:mobile} < 1%`,\n\
         `goodput{class:order} > 5 during 2m..` (tagged: p50, p95, p99, p999, mean, max, error_rate,\n\
         throughput, goodput, good_ratio, completed, arrivals, failed; the session metrics take\n\
         `{source:ID}` only: `session_p99{source:shoppers} < 15s`). Reports list classes and\n\
         sources apart (`classes`, `sources`, and in the series) when there is more than one.\n\
         A window counts the requests that arrive in it, judged by their outcome whenever it\n\
         comes (at most 60 s after the window; one still unanswered then counts as failed).\n\n\
         | metric | unit | applies to | meaning |\n|---|---|---|---|\n",
    );
    for m in crate::scenario::METRICS {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            m.name,
            m.unit.name(),
            cell(&m.scope()),
            cell(m.about)
        );
    }
    out.push_str(
        "\n## Outputs\n\n\
         What the commands print as JSON, as JSON Schemas (units are in the key names\n\
         (`_ms`, `_s`, `_rps`) or, for threshold values, in each row's `unit`):\n\n\
         - `bottleneck run --json`: [docs/schema/run.json](schema/run.json)\n\
         - `bottleneck check --json`: [docs/schema/check.json](schema/check.json)\n\
         - `bottleneck sweep --json`: [docs/schema/sweep.json](schema/sweep.json)\n\
         - `bottleneck drill --json`: [docs/schema/drill.json](schema/drill.json)\n\
         - `bottleneck cost --json`: [docs/schema/cost.json](schema/cost.json)\n",
    );
    out
}

fn first_sentence(s: &str) -> &str {
    s.split_once(". ").map_or(s, |(a, _)| a)
}

/// The JSON Schemas of the commands' JSON outputs: (command, schema).
/// The schemas describe the outputs as written (schemars' serialize
/// contract): a key left out when empty is optional, not required.
pub fn schemas() -> Vec<(&'static str, String)> {
    fn of<T: schemars::JsonSchema>() -> String {
        let s = schemars::generate::SchemaSettings::default()
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<T>();
        serde_json::to_string_pretty(&s).unwrap_or_default() + "\n"
    }
    vec![
        ("run", of::<crate::report::Report>()),
        ("check", of::<Vec<crate::scenario::Verdict>>()),
        ("sweep", of::<crate::scenario::sweep::SweepOut>()),
        ("drill", of::<crate::scenario::drill::Grade>()),
        ("cost", of::<crate::scenario::drill::CostReport>()),
    ]
}
