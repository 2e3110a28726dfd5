//! Wiring: connecting and disconnecting boxes the way each kind's
//! descriptor says it names other nodes (an app through its handlers).

use super::fields::{self, Item};
use super::{Builder, accepts, kind_of};
use crate::sandbox::Sandbox;
use bottleneck::kind::{FieldType, Kind};
use serde_json::{Map, Value};

impl Builder {
    /// Connects `from` to node `to`: a source sends to it; a balancer,
    /// router, limiter, pooler, replica or CDN gets it in the field its
    /// kind's descriptor says takes that kind; an app calls it from its
    /// handlers (reads and writes for a database, cache-aside for a cache,
    /// publishes for a queue, a call otherwise). Refused, with the loader's
    /// words, when the result would not load.
    pub fn connect(&mut self, s: &mut Sandbox, from: &Item, to: &str) -> Result<String, String> {
        self.sync(s);
        let target = kind_of(&self.working, to).ok_or_else(|| format!("no node `{to}`"))?;
        let what = format!("connected `{}` to `{to}`", from.id());
        let mut m =
            fields::item_value(&self.working, from).ok_or_else(|| format!("no `{}`", from.id()))?;
        match from {
            Item::Source(_) => {
                m.insert("to".into(), Value::from(to));
            }
            Item::Node(id) if id == to => return Err(format!("`{id}` cannot call itself")),
            Item::Node(id) => {
                let kind = kind_of(&self.working, id).expect("exists");
                if kind == Kind::App {
                    self.wire_app(&mut m, to, target)?;
                } else {
                    let fs = bottleneck::kinds::doc(kind).fields;
                    let list = fs
                        .iter()
                        .find(|f| matches!(f.ty, FieldType::Nodes(k) if accepts(k, target)));
                    let one = fs
                        .iter()
                        .find(|f| matches!(f.ty, FieldType::Node(k) if accepts(k, target)));
                    // When no field takes that kind, the first that names
                    // nodes gets it and the loader says why not.
                    let any = fs
                        .iter()
                        .find(|f| matches!(f.ty, FieldType::Node(_) | FieldType::Nodes(_)));
                    match list.or(one).or(any) {
                        Some(f) if matches!(f.ty, FieldType::Nodes(_)) => {
                            let e = m
                                .entry(f.name.to_string())
                                .or_insert(Value::Array(Vec::new()));
                            if !e.is_array() {
                                *e = Value::Array(Vec::new());
                            }
                            let a = e.as_array_mut().expect("array");
                            if a.iter().any(|x| x.as_str() == Some(to)) {
                                return Err(format!("`{id}` already sends to `{to}`"));
                            }
                            a.push(Value::from(to));
                        }
                        Some(f) => {
                            m.insert(f.name.to_string(), Value::from(to));
                        }
                        None => {
                            return Err(format!(
                                "a {kind} sends nothing on: connect from the node that calls `{id}` instead"
                            ));
                        }
                    }
                }
            }
        }
        let mut t = self.working.clone();
        fields::put_item(&mut t, from, m)?;
        self.commit(s, t, what, true, None)
    }

    /// An app's handlers after connecting it to `to`.
    fn wire_app(&self, m: &mut Map<String, Value>, to: &str, target: Kind) -> Result<(), String> {
        let step = |name: &str, fields: Value| {
            let mut o = Map::new();
            o.insert(name.to_string(), fields);
            Value::Object(o)
        };
        let mut classes: Vec<String> = self
            .working
            .sources
            .iter()
            .filter_map(|s| s.mix.as_ref())
            .flat_map(|mix| mix.keys().cloned())
            .collect();
        classes.sort();
        classes.dedup();
        if classes.is_empty() {
            classes.push("*".into());
        }
        let handle = m
            .entry("handle".to_string())
            .or_insert(Value::Object(Map::new()));
        if handle.is_null() {
            *handle = Value::Object(Map::new());
        }
        let h = handle.as_object_mut().ok_or("the handlers are not a map")?;
        if h.is_empty() {
            for c in &classes {
                h.insert(c.clone(), Value::Array(Vec::new()));
            }
        }
        match target {
            Kind::Cache => {
                let mut reads = 0;
                for steps in h.values_mut() {
                    let Some(a) = steps.as_array_mut() else {
                        continue;
                    };
                    let mut out = Vec::new();
                    for st in a.drain(..) {
                        if let Some(db) = st.get("Read").and_then(|r| r.get("db")).cloned() {
                            out.push(step(
                                "CacheAside",
                                serde_json::json!({"cache": to, "db": db}),
                            ));
                            reads += 1;
                        } else if st.get("Write").is_some() {
                            out.push(st);
                            out.push(step("Invalidate", serde_json::json!({"cache": to})));
                            reads += 1;
                        } else {
                            out.push(st);
                        }
                    }
                    *a = out;
                }
                if reads == 0 {
                    return Err(
                        "this app reads no database yet: connect it to the database first, then to the cache (reads become cache-aside, writes invalidate)".into(),
                    );
                }
            }
            _ => {
                for (class, steps) in h.iter_mut() {
                    let s = match target {
                        Kind::Database | Kind::Replica | Kind::Pooler | Kind::ShardRouter => {
                            if class.contains("write") {
                                step("Write", serde_json::json!({"db": to}))
                            } else {
                                step("Read", serde_json::json!({"db": to}))
                            }
                        }
                        Kind::Queue => step("Publish", serde_json::json!({"queue": to})),
                        _ => step("Call", serde_json::json!({"to": to})),
                    };
                    if let Some(a) = steps.as_array_mut() {
                        a.push(s);
                    }
                }
            }
        }
        Ok(())
    }

    /// Drops every reference to `id` from an item's fields, the way its
    /// descriptors allow: list entries go, an optional part that names it
    /// goes, a required field is emptied (the loader then asks for it);
    /// an app's cache-aside reads become plain reads again.
    pub(super) fn unlink(&self, item: &Item, m: &mut Map<String, Value>, id: &str) {
        let fs = fields::fields_of(&self.working, item).unwrap_or(&[]);
        for f in fs {
            if f.ty == FieldType::Id {
                continue;
            }
            let Some(v) = m.get_mut(f.name) else { continue };
            if f.ty == FieldType::Nested("handlers")
                && let Some(h) = v.as_object_mut()
            {
                for steps in h.values_mut() {
                    if let Some(a) = steps.as_array_mut() {
                        for st in a.iter_mut() {
                            let reverted = st
                                .get("CacheAside")
                                .filter(|c| c.get("cache").and_then(Value::as_str) == Some(id))
                                .map(|c| serde_json::json!({"Read": {"db": c["db"].clone()}}))
                                .or_else(|| {
                                    st.get("WriteThrough")
                                        .filter(|c| {
                                            c.get("cache").and_then(Value::as_str) == Some(id)
                                        })
                                        .map(|c| {
                                            serde_json::json!({"Write": {"db": c["db"].clone()}})
                                        })
                                });
                            if let Some(r) = reverted {
                                *st = r;
                            }
                        }
                    }
                }
                fields::drop_refs(v, id);
                continue;
            }
            if v.as_str() == Some(id) {
                *v = if f.default.is_some() {
                    Value::Null
                } else {
                    Value::from("")
                };
                continue;
            }
            if v.is_object() {
                let mut names = Vec::new();
                fields::strings(v, &mut names);
                if names.iter().any(|n| n == id) {
                    if f.default.is_some() {
                        *v = Value::Null;
                    } else {
                        fields::rename_refs(v, id, "");
                    }
                }
                continue;
            }
            fields::drop_refs(v, id);
        }
    }

    /// Removes the connection from `from` to node `to`.
    pub fn disconnect(&mut self, s: &mut Sandbox, from: &Item, to: &str) -> Result<String, String> {
        self.sync(s);
        if let Item::Source(_) = from {
            return Err(
                "a source always sends to one node: connect it to another node instead".into(),
            );
        }
        let mut m =
            fields::item_value(&self.working, from).ok_or_else(|| format!("no `{}`", from.id()))?;
        self.unlink(from, &mut m, to);
        let mut t = self.working.clone();
        fields::put_item(&mut t, from, m)?;
        if t == self.working {
            return Err(format!("`{}` does not send to `{to}`", from.id()));
        }
        self.commit(
            s,
            t,
            format!("disconnected `{}` from `{to}`", from.id()),
            false,
            None,
        )
    }
}
