//! `Keyed<T>`: reports keyed by name in a fixed order (nodes by id in the
//! topology's order, classes sorted, sources as written), serialized as a
//! JSON object in that order. One type for every such list, so lookups,
//! serialization and the schema are written once.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// What a keyed list says of itself in the JSON schema.
pub trait KeyedItem: schemars::JsonSchema {
    /// The schema's name for the list (`Nodes`, `Groups`).
    const LIST: &'static str;
    /// The schema's description of the list.
    const ABOUT: &'static str;
}

/// Named reports in a fixed order; a JSON object keyed by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Keyed<T>(pub Vec<(String, T)>);

impl<T> Default for Keyed<T> {
    fn default() -> Self {
        Keyed(Vec::new())
    }
}

impl<T> Keyed<T> {
    /// Nothing kept.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The report named `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, r)| r)
    }
}

impl<T> std::ops::Index<&str> for Keyed<T> {
    type Output = T;
    fn index(&self, name: &str) -> &T {
        self.get(name)
            .unwrap_or_else(|| panic!("no `{name}` in the report"))
    }
}

impl<T: Serialize> Serialize for Keyed<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (name, r) in &self.0 {
            m.serialize_entry(name, r)?;
        }
        m.end()
    }
}

impl<T: KeyedItem> schemars::JsonSchema for Keyed<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::LIST.into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let item = g.subschema_for::<T>();
        schemars::json_schema!({
            "type": "object",
            "description": T::ABOUT,
            "additionalProperties": item
        })
    }
}
