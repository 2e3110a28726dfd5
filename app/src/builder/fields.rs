//! Fields of nodes and sources as the property editor sees them: generic
//! values (`serde_json::Value`, the typed structs' own serde form) found by
//! the engine's per-kind field descriptors (`bottleneck::kinds::doc`), and
//! the few value types that are edited as RON text (distributions,
//! handlers, mixes, keys, profiles, arrivals, lists).

use bottleneck::kind::{Field, FieldType, Kind};
use bottleneck::topology::{Node, Source, Topology};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// What the builder edits: a node or a source, by id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Item {
    /// A node.
    Node(String),
    /// A source.
    Source(String),
}

impl Item {
    /// Its id.
    pub fn id(&self) -> &str {
        match self {
            Item::Node(id) | Item::Source(id) => id,
        }
    }
}

/// The descriptors of an item's own fields.
pub fn fields_of(t: &Topology, item: &Item) -> Option<&'static [Field]> {
    match item {
        Item::Source(_) => Some(bottleneck::topology::SOURCE_FIELDS),
        Item::Node(id) => {
            let n = t.nodes.iter().find(|n| n.id() == id)?;
            Some(bottleneck::kinds::doc(n.kind_of()).fields)
        }
    }
}

/// The fields of a nested struct (`Pool`, `Retries`, ...) of an item.
pub fn nested_fields(t: &Topology, item: &Item, name: &str) -> Option<&'static [Field]> {
    let from_kind = match item {
        Item::Node(id) => t
            .nodes
            .iter()
            .find(|n| n.id() == id)
            .map(|n| bottleneck::kinds::doc(n.kind_of()).nested),
        Item::Source(_) => None,
    };
    from_kind
        .into_iter()
        .chain([bottleneck::topology::CLIENT_NESTED])
        .flat_map(|list| list.iter())
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
}

/// A node's fields as a JSON object (its kind's serde form), with its kind.
pub fn node_value(n: &Node) -> (Kind, Map<String, Value>) {
    let kind = n.kind_of();
    let v = serde_json::to_value(n).unwrap_or(Value::Null);
    let inner = match v {
        Value::Object(mut m) => match m.remove(kind.name()) {
            Some(Value::Object(inner)) => inner,
            _ => Map::new(),
        },
        _ => Map::new(),
    };
    (kind, inner)
}

/// Unset fields (`Null`) are left out, so each takes its default.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// The node back from its JSON form.
pub fn node_from(kind: Kind, inner: Map<String, Value>) -> Result<Node, String> {
    let mut inner = Value::Object(inner);
    strip_nulls(&mut inner);
    let mut outer = Map::new();
    outer.insert(kind.name().to_string(), inner);
    serde_json::from_value(Value::Object(outer)).map_err(|e| e.to_string())
}

/// A source's fields as a JSON object.
pub fn source_value(s: &Source) -> Map<String, Value> {
    match serde_json::to_value(s) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The source back from its JSON form.
pub fn source_from(m: Map<String, Value>) -> Result<Source, String> {
    let mut v = Value::Object(m);
    strip_nulls(&mut v);
    serde_json::from_value(v).map_err(|e| e.to_string())
}

/// An item's JSON form.
pub fn item_value(t: &Topology, item: &Item) -> Option<Map<String, Value>> {
    match item {
        Item::Node(id) => t
            .nodes
            .iter()
            .find(|n| n.id() == id)
            .map(|n| node_value(n).1),
        Item::Source(id) => t.sources.iter().find(|s| s.id == *id).map(source_value),
    }
}

/// Writes an item's JSON form back into the topology.
pub fn put_item(t: &mut Topology, item: &Item, m: Map<String, Value>) -> Result<(), String> {
    match item {
        Item::Node(id) => {
            let at = t
                .nodes
                .iter()
                .position(|n| n.id() == id)
                .ok_or_else(|| format!("no node `{id}`"))?;
            let kind = t.nodes[at].kind_of();
            t.nodes[at] = node_from(kind, m)?;
        }
        Item::Source(id) => {
            let at = t
                .sources
                .iter()
                .position(|s| s.id == *id)
                .ok_or_else(|| format!("no source `{id}`"))?;
            t.sources[at] = source_from(m)?;
        }
    }
    Ok(())
}

/// The value at `path` (field names, into nested structs), `Null` when unset.
pub fn get<'a>(m: &'a Map<String, Value>, path: &[String]) -> &'a Value {
    static NULL: Value = Value::Null;
    let Some((first, rest)) = path.split_first() else {
        return &NULL;
    };
    match (m.get(first), rest.is_empty()) {
        (Some(v), true) => v,
        (Some(Value::Object(inner)), false) => get(inner, rest),
        _ => &NULL,
    }
}

/// Sets the value at `path`; a nested struct that was unset is created
/// from `make` first.
pub fn set(
    m: &mut Map<String, Value>,
    path: &[String],
    v: Value,
    make: &dyn Fn(&[String]) -> Value,
) -> Result<(), String> {
    fn go(
        m: &mut Map<String, Value>,
        path: &[String],
        full: &[String],
        v: Value,
        make: &dyn Fn(&[String]) -> Value,
    ) -> Result<(), String> {
        let (first, rest) = path.split_first().ok_or("empty field path")?;
        if rest.is_empty() {
            m.insert(first.clone(), v);
            return Ok(());
        }
        let depth = full.len() - rest.len();
        let entry = m.entry(first.clone()).or_insert(Value::Null);
        if entry.is_null() {
            *entry = make(&full[..depth]);
        }
        match entry {
            Value::Object(inner) => go(inner, rest, full, v, make),
            _ => Err(format!("`{first}` has no fields")),
        }
    }
    go(m, path, path, v, make)
}

/// How a field's value is edited.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Editor {
    /// A number (with its range).
    Number {
        /// Smallest.
        min: f64,
        /// Largest.
        max: f64,
        /// Whole numbers only.
        whole: bool,
    },
    /// A duration string.
    Duration,
    /// A checkbox.
    Bool,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// One node of these kinds.
    Node(&'static [Kind]),
    /// Nodes of these kinds.
    Nodes(&'static [Kind]),
    /// A nested struct with descriptors of its own.
    Struct(&'static str),
    /// RON text, parsed as this type.
    Text(TextType),
    /// Not editable here (the id is renamed with its own edit).
    Id,
}

/// A value type edited as RON text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextType {
    /// A service-time distribution.
    Dist,
    /// An app's handlers: class -> steps.
    Handlers,
    /// A source's class mix.
    Mix,
    /// A source's keys.
    Keys,
    /// A source's rate profile.
    Profile,
    /// A source's arrivals.
    Arrivals,
    /// A list of words (class names, ids).
    Words,
    /// A station's routes.
    Routes,
    /// A plain string.
    Text,
}

/// The editor for a field, from its descriptor.
pub fn editor(t: &Topology, item: &Item, f: &Field) -> Editor {
    match f.ty {
        FieldType::Id => Editor::Id,
        FieldType::Count { min, max } => Editor::Number {
            min: min as f64,
            max: max as f64,
            whole: true,
        },
        FieldType::Number { min, max } => Editor::Number {
            min,
            max,
            whole: false,
        },
        FieldType::Ratio => Editor::Number {
            min: 0.0,
            max: 1.0,
            whole: false,
        },
        FieldType::Duration => Editor::Duration,
        FieldType::Dist => Editor::Text(TextType::Dist),
        FieldType::Bool => Editor::Bool,
        FieldType::Node(k) => Editor::Node(k),
        FieldType::Nodes(k) => Editor::Nodes(k),
        FieldType::Choice(c) => Editor::Choice(c),
        FieldType::Classes => Editor::Text(TextType::Words),
        FieldType::Nested(name) => match name {
            "handlers" => Editor::Text(TextType::Handlers),
            "mix" => Editor::Text(TextType::Mix),
            "keys" => Editor::Text(TextType::Keys),
            "profile" => Editor::Text(TextType::Profile),
            "arrivals" => Editor::Text(TextType::Arrivals),
            "Route" => Editor::Text(TextType::Routes),
            "source ids" => Editor::Text(TextType::Words),
            _ if nested_fields(t, item, name).is_some() => Editor::Struct(name),
            _ => Editor::Text(TextType::Text),
        },
    }
}

fn ron_of<T: Serialize + DeserializeOwned>(v: &Value) -> Option<String> {
    let typed: T = serde_json::from_value(v.clone()).ok()?;
    let config = ron::ser::PrettyConfig::default()
        .struct_names(true)
        .compact_arrays(true)
        .compact_structs(true)
        .compact_maps(true);
    ron::ser::to_string_pretty(&typed, config).ok()
}

fn value_of<T: Serialize + DeserializeOwned>(text: &str) -> Result<Value, String> {
    let typed: T = bottleneck::topology::ron_options()
        .from_str(text)
        .map_err(|e| e.to_string())?;
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

type Handlers = std::collections::BTreeMap<String, Vec<bottleneck::topology::Step>>;
type Mix = std::collections::BTreeMap<String, f64>;

/// A value as RON text for its box (empty when unset).
pub fn to_text(ty: TextType, v: &Value) -> String {
    if v.is_null() {
        return String::new();
    }
    let t = match ty {
        TextType::Dist => ron_of::<bottleneck::dist::Dist>(v),
        TextType::Handlers => ron_of::<Handlers>(v),
        TextType::Mix => ron_of::<Mix>(v),
        TextType::Keys => ron_of::<bottleneck::keys::Keys>(v),
        TextType::Profile => ron_of::<bottleneck::profile::Profile>(v),
        TextType::Arrivals => ron_of::<bottleneck::profile::Arrivals>(v),
        TextType::Words => ron_of::<Vec<String>>(v),
        TextType::Routes => ron_of::<Vec<bottleneck::topology::Route>>(v),
        TextType::Text => v.as_str().map(str::to_string),
    };
    t.unwrap_or_else(|| v.to_string())
}

/// RON text from a box as a value (`Null` for an empty box: the default).
pub fn from_text(ty: TextType, text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    match ty {
        TextType::Dist => value_of::<bottleneck::dist::Dist>(text),
        TextType::Handlers => value_of::<Handlers>(text),
        TextType::Mix => value_of::<Mix>(text),
        TextType::Keys => value_of::<bottleneck::keys::Keys>(text),
        TextType::Profile => value_of::<bottleneck::profile::Profile>(text),
        TextType::Arrivals => value_of::<bottleneck::profile::Arrivals>(text),
        TextType::Words => value_of::<Vec<String>>(text),
        TextType::Routes => value_of::<Vec<bottleneck::topology::Route>>(text),
        TextType::Text => Ok(Value::String(text.to_string())),
    }
}

/// A value for a required field nobody has set yet: the smallest sensible
/// one of its type (the loader then says what is wrong, if anything).
pub fn starting_value(t: &Topology, item: &Item, f: &Field) -> Value {
    match editor(t, item, f) {
        Editor::Number { min, whole, .. } => {
            if whole {
                Value::from(min.max(1.0) as u64)
            } else if f.ty == FieldType::Ratio {
                Value::from(0.5)
            } else {
                Value::from(min.max(0.0))
            }
        }
        Editor::Duration => Value::from("1s"),
        Editor::Bool => Value::Bool(false),
        Editor::Choice(c) => Value::from(c.first().copied().unwrap_or("")),
        Editor::Node(kinds) => Value::from(first_of(t, kinds, item.id()).unwrap_or_default()),
        Editor::Nodes(_) => Value::Array(Vec::new()),
        Editor::Struct(name) => new_struct(t, item, name),
        Editor::Text(TextType::Dist) => serde_json::json!({"Exponential": {"mean": "10ms"}}),
        Editor::Text(TextType::Arrivals) => serde_json::json!({"Poisson": {"rps": 100.0}}),
        Editor::Text(_) => Value::Null,
        Editor::Id => Value::from(""),
    }
}

/// A nested struct with its required fields at their starting values.
pub fn new_struct(t: &Topology, item: &Item, name: &str) -> Value {
    let mut m = Map::new();
    for f in nested_fields(t, item, name).unwrap_or(&[]) {
        if f.default.is_none() {
            m.insert(f.name.to_string(), starting_value(t, item, f));
        }
    }
    Value::Object(m)
}

/// The first node of one of these kinds (any when empty), not `not`.
pub fn first_of(t: &Topology, kinds: &[Kind], not: &str) -> Option<String> {
    t.nodes
        .iter()
        .find(|n| n.id() != not && (kinds.is_empty() || kinds.contains(&n.kind_of())))
        .map(|n| n.id().to_string())
}

/// Every string in a value.
pub fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Removes every reference to `id` from a value: list items that are `id`
/// or hold it go; a field that is `id` becomes unset. Returns true if
/// anything changed.
pub fn drop_refs(v: &mut Value, id: &str) -> bool {
    let holds = |x: &Value| {
        let mut s = Vec::new();
        strings(x, &mut s);
        s.iter().any(|s| s == id)
    };
    match v {
        Value::Array(a) => {
            let before = a.len();
            a.retain(|x| !holds(x));
            before != a.len()
        }
        Value::Object(m) => {
            let mut changed = false;
            for x in m.values_mut() {
                if x.as_str() == Some(id) {
                    *x = Value::Null;
                    changed = true;
                } else {
                    changed |= drop_refs(x, id);
                }
            }
            changed
        }
        _ => false,
    }
}

/// Renames every reference `from` to `to` in a value.
pub fn rename_refs(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::String(s) if s == from => *s = to.to_string(),
        Value::Array(a) => a.iter_mut().for_each(|x| rename_refs(x, from, to)),
        Value::Object(m) => m.values_mut().for_each(|x| rename_refs(x, from, to)),
        _ => {}
    }
}

/// The edges of a topology as written (it need not load): (from, to id).
pub fn edges(t: &Topology) -> Vec<(Item, String)> {
    let ids: std::collections::BTreeSet<&str> = t.nodes.iter().map(|n| n.id()).collect();
    let mut out = Vec::new();
    for s in &t.sources {
        out.push((Item::Source(s.id.clone()), s.to.clone()));
    }
    for n in &t.nodes {
        let (_, m) = node_value(n);
        let mut refs = Vec::new();
        for (k, v) in &m {
            if k != "id" {
                strings(v, &mut refs);
            }
        }
        refs.sort();
        refs.dedup();
        for r in refs {
            if r != n.id() && ids.contains(r.as_str()) {
                out.push((Item::Node(n.id().to_string()), r));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_topology_round_trips_through_its_values() {
        for st in crate::content::all() {
            let t = bottleneck::topology::load_str(st.file, st.text)
                .unwrap()
                .model
                .topology;
            for n in &t.nodes {
                let (k, m) = node_value(n);
                assert_eq!(&node_from(k, m).unwrap(), n, "{}", st.file);
            }
            for s in &t.sources {
                assert_eq!(&source_from(source_value(s)).unwrap(), s, "{}", st.file);
            }
        }
    }

    #[test]
    fn text_values_round_trip() {
        let v = from_text(TextType::Dist, "Exponential(mean: \"5ms\")").unwrap();
        assert_eq!(to_text(TextType::Dist, &v), "Exponential(mean: \"5ms\")");
        let v = from_text(
            TextType::Handlers,
            "{\"read\": [Read(db: \"db\")], \"write\": [Write(db: \"db\")]}",
        )
        .unwrap();
        let back = from_text(TextType::Handlers, &to_text(TextType::Handlers, &v)).unwrap();
        assert_eq!(v, back);
        assert!(from_text(TextType::Dist, "Exponentail(mean: \"5ms\")").is_err());
        assert_eq!(from_text(TextType::Mix, " ").unwrap(), Value::Null);
    }
}
