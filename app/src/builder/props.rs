//! Property edits: a field set from a value or from typed text, live when
//! the engine can apply it, renames with every reference.

use super::fields::{self, Editor, Item, TextType};
use super::{Builder, field_at, kind_of, path};
use crate::sandbox::Sandbox;
use bottleneck::kind::{Field, FieldType, Kind};
use bottleneck::sim::Change;
use serde_json::{Map, Value};

impl Builder {
    /// Sets a field (`path` through nested structs) to a value in its serde
    /// form (`Null`: back to its default). Refused with the loader's words
    /// when the result would not load.
    pub fn set_value(
        &mut self,
        s: &mut Sandbox,
        item: &Item,
        path: &[String],
        v: Value,
    ) -> Result<String, String> {
        self.sync(s);
        if path == ["id"] {
            let to = v.as_str().unwrap_or_default().to_string();
            return self.rename(s, item, &to);
        }
        let mut m =
            fields::item_value(&self.working, item).ok_or_else(|| format!("no `{}`", item.id()))?;
        let old = fields::get(&m, path).clone();
        if old == v {
            return Ok("unchanged".into());
        }
        let t0 = self.working.clone();
        let make = |p: &[String]| match field_at(&t0, item, p).map(|f| f.ty) {
            Some(FieldType::Nested(name)) => fields::new_struct(&t0, item, name),
            _ => Value::Object(Map::new()),
        };
        fields::set(&mut m, path, v.clone(), &make)?;
        let mut t = self.working.clone();
        fields::put_item(&mut t, item, m)?;
        // Shown as it is typed (RON), not in its serde form.
        let shown = match field_at(&t0, item, path).map(|f| fields::editor(&t0, item, &f)) {
            _ if v.is_null() => "default".to_string(),
            Some(Editor::Text(ty)) => fields::to_text(ty, &v),
            Some(Editor::Nodes(_)) => fields::to_text(TextType::Words, &v),
            _ => v.as_str().map_or_else(|| v.to_string(), str::to_string),
        };
        let what = format!("`{}`: {} = {shown}", item.id(), path.join("."));
        let live = self.live_change(item, path, &old, &v);
        let r = self.commit(s, t, what, true, live);
        self.field_error = match &r {
            Err(e) => Some((item.clone(), path.join("."), e.clone())),
            Ok(_) => None,
        };
        r
    }

    /// The changes that apply (and undo) a field edit live, if the engine
    /// has one: servers, an app's workers and instances.
    fn live_change(
        &self,
        item: &Item,
        path: &[String],
        old: &Value,
        new: &Value,
    ) -> Option<(Change, Change)> {
        let Item::Node(id) = item else { return None };
        let [name] = path else { return None };
        // An unset field is at its default (an app's one instance).
        let old = old.as_u64().or_else(|| {
            field_at(&self.working, item, path)?
                .default?
                .parse::<u64>()
                .ok()
        })?;
        let (old, new) = (u32::try_from(old).ok()?, u32::try_from(new.as_u64()?).ok()?);
        let kind = kind_of(&self.working, id)?;
        let servers = |n| Change::Servers {
            node: id.clone(),
            servers: n,
        };
        match (kind, name.as_str()) {
            (Kind::App, "instances") => Some((
                Change::Instances {
                    node: id.clone(),
                    count: new,
                },
                Change::Instances {
                    node: id.clone(),
                    count: old,
                },
            )),
            (Kind::App, "workers") => Some((servers(new), servers(old))),
            (Kind::App, _) => None,
            (_, "servers") => Some((servers(new), servers(old))),
            _ => None,
        }
    }

    /// Sets a field from text as a person types it: numbers, durations
    /// (`"250ms"`), `true`/`false`, words, ids, RON for distributions,
    /// handlers, mixes, keys and profiles; an empty text means the default.
    pub fn set_text(
        &mut self,
        s: &mut Sandbox,
        item: &Item,
        field: &str,
        text: &str,
    ) -> Result<String, String> {
        self.sync(s);
        let p = path(field);
        let f = field_at(&self.working, item, &p)
            .ok_or_else(|| format!("`{}` has no field `{field}`", item.id()))?;
        let text = text.trim();
        let v = self.parse_text(item, field, &f, text);
        let r = v.and_then(|v| self.set_value(s, item, &p, v));
        if let Err(e) = &r {
            self.field_error = Some((item.clone(), field.to_string(), e.clone()));
        }
        r
    }

    /// A field's value from text, by its editor.
    fn parse_text(&self, item: &Item, field: &str, f: &Field, text: &str) -> Result<Value, String> {
        Ok(if text.is_empty() {
            Value::Null
        } else {
            match fields::editor(&self.working, item, f) {
                Editor::Number { whole: true, .. } => Value::from(
                    text.replace('_', "")
                        .parse::<u64>()
                        .map_err(|_| format!("`{field}` takes a whole number, not `{text}`"))?,
                ),
                Editor::Number { .. } => Value::from(
                    text.replace('_', "")
                        .parse::<f64>()
                        .map_err(|_| format!("`{field}` takes a number, not `{text}`"))?,
                ),
                Editor::Bool => Value::Bool(
                    text.parse::<bool>()
                        .map_err(|_| format!("`{field}` takes true or false"))?,
                ),
                Editor::Duration => {
                    bottleneck::time::Duration::parse(text)?;
                    Value::from(text)
                }
                Editor::Choice(_) | Editor::Node(_) | Editor::Id => Value::from(text),
                Editor::Nodes(_) => fields::from_text(TextType::Words, text)?,
                Editor::Text(ty) => fields::from_text(ty, text)?,
                Editor::Struct(_) => {
                    return Err(format!("set the fields of `{field}` one by one"));
                }
            }
        })
    }

    /// Renames a node or source, and every reference to it.
    pub fn rename(&mut self, s: &mut Sandbox, item: &Item, to: &str) -> Result<String, String> {
        let from = item.id().to_string();
        if to == from {
            return Ok("unchanged".into());
        }
        if self.working.nodes.iter().any(|n| n.id() == to)
            || self.working.sources.iter().any(|x| x.id == to)
        {
            return Err(format!("`{to}` is taken"));
        }
        let mut t = self.working.clone();
        for k in 0..t.nodes.len() {
            let (kind, m) = fields::node_value(&t.nodes[k]);
            let mut v = Value::Object(m);
            fields::rename_refs(&mut v, &from, to);
            let Value::Object(m) = v else { unreachable!() };
            t.nodes[k] = fields::node_from(kind, m)?;
        }
        for src in t.sources.iter_mut() {
            if src.id == from || src.to == from {
                let mut v = Value::Object(fields::source_value(src));
                fields::rename_refs(&mut v, &from, to);
                let Value::Object(m) = v else { unreachable!() };
                *src = fields::source_from(m)?;
            }
        }
        for r in t.regions.iter_mut() {
            for x in r.nodes.iter_mut().chain(r.sources.iter_mut()) {
                if *x == from {
                    *x = to.to_string();
                }
            }
        }
        if let Some(p) = self.pos.remove(&from) {
            self.pos.insert(to.to_string(), p);
        }
        let r = self.commit(s, t, format!("renamed `{from}` to `{to}`"), true, None);
        if r.is_ok() {
            self.selected = Some(match item {
                Item::Node(_) => Item::Node(to.into()),
                Item::Source(_) => Item::Source(to.into()),
            });
        }
        r
    }
}
