//! Checks a drill's [`Protect`] paths against the file format's own field
//! descriptors ([`crate::kinds::doc`], [`crate::topology::SOURCE_FIELDS`]):
//! a path that names no field (`Station.servers_typo`) would protect
//! nothing, silently, so the drill is refused at load with the fields there
//! are; a real field (`sources.to`) is accepted.

use super::protect::{Protect, SOURCE_FIELDS, physics};
use crate::kind::{Field, FieldType, Kind};

/// Checks `protect`'s paths: each starts with `sources` or a kind and names
/// a field there (and, below a field described field by field, such as a
/// source's `client`, a field of that). A path the drill `allow`s must be
/// protected in the first place (by default or by `also`): allowing what is
/// free would change nothing. Returns the first bad one with a hint.
pub fn check_paths(p: &Protect) -> Result<(), (String, String)> {
    for path in &p.also {
        check_path(path)?;
    }
    for path in &p.allow {
        check_path(path)?;
        let mut parts = path.split('.');
        let head = parts.next().unwrap_or("");
        let first = parts.next().unwrap_or("");
        let protected = match Kind::from_name(head) {
            Some(k) => physics(k).contains(&first),
            None => SOURCE_FIELDS.contains(&first),
        } || p
            .also
            .iter()
            .any(|a| path == a || path.starts_with(&format!("{a}.")));
        if !protected {
            return Err((
                format!(
                    "the drill allows `{path}`, which is not protected, so allowing it changes nothing"
                ),
                format!(
                    "`allow` frees a protected path ({}); remove `{path}`, or protect it with `also` first",
                    protected_list(head)
                ),
            ));
        }
    }
    Ok(())
}

/// What is protected by default under `head`, for hints.
fn protected_list(head: &str) -> String {
    let names: Vec<String> = match Kind::from_name(head) {
        Some(k) => physics(k).iter().map(|f| format!("{head}.{f}")).collect(),
        None => SOURCE_FIELDS
            .iter()
            .map(|f| format!("sources.{f}"))
            .collect(),
    };
    if names.is_empty() {
        format!("nothing of {head} is protected by default")
    } else {
        format!("by default: {}", names.join(", "))
    }
}

/// One path: its head is `sources` or a kind, and each part names a field
/// of the struct before it, as far as the descriptors describe it.
fn check_path(path: &str) -> Result<(), (String, String)> {
    let mut parts = path.split('.');
    let head = parts.next().unwrap_or("");
    let (mut fields, mut nested): (&[Field], &[(&str, &[Field])]) = match Kind::from_name(head) {
        _ if head == "sources" => (
            crate::topology::SOURCE_FIELDS,
            crate::topology::CLIENT_NESTED,
        ),
        Some(k) => {
            let d = crate::kinds::doc(k);
            (d.fields, d.nested)
        }
        None => {
            let mut heads = vec!["sources"];
            heads.extend(Kind::ALL.iter().map(|k| k.name()));
            let near = crate::diag::closest(head, heads.iter().copied())
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            return Err((
                format!("the protected path `{path}` starts with `{head}`"),
                format!(
                    "{near}a path starts with `sources` or a kind ({})",
                    crate::diag::list_names(&heads)
                ),
            ));
        }
    };
    let mut at = head.to_string();
    let mut any = false;
    for part in parts {
        any = true;
        let names: Vec<&str> = fields
            .iter()
            .map(|f| f.name)
            .filter(|n| *n != "id")
            .collect();
        let Some(f) = fields.iter().find(|f| f.name == part && f.name != "id") else {
            let near = crate::diag::closest(part, names.iter().copied())
                .map(|c| format!("did you mean `{at}.{c}`? "))
                .unwrap_or_default();
            let hint = if names.is_empty() {
                format!("`{at}` is a value with no fields below it: end the path there")
            } else {
                format!(
                    "{near}the fields of {at} are {}",
                    crate::diag::list_names(&names)
                )
            };
            return Err((
                format!("the protected path `{path}` names no field of {at}: it has no `{part}`"),
                hint,
            ));
        };
        at = format!("{at}.{part}");
        // Below a field described field by field, check the next part too;
        // below one described in prose (a distribution, a map), stop.
        match f.ty {
            FieldType::Nested(n) => match nested.iter().find(|(name, _)| *name == n) {
                Some((_, inner)) => fields = inner,
                None => return Ok(()),
            },
            _ => {
                fields = &[];
                nested = &[];
            }
        }
    }
    if !any {
        return Err((
            format!("the protected path `{path}` names no field of {head}"),
            format!("write `{head}.FIELD`, e.g. `sources.client.retries` or `App.service`"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(allow: &[&str], also: &[&str]) -> Result<(), (String, String)> {
        check_paths(&Protect {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            also: also.iter().map(|s| s.to_string()).collect(),
            given: vec![],
        })
    }

    #[test]
    fn real_fields_pass_and_typos_are_named_with_the_fields_there_are() {
        assert!(paths(&["sources.client.retries", "sources.client.breaker"], &[]).is_ok());
        assert!(paths(&[], &["Station.servers", "App.handle", "sources.to"]).is_ok());
        assert!(paths(&["Station.servers"], &["Station.servers"]).is_ok());
        let (m, h) = paths(&[], &["Station.servers_typo"]).unwrap_err();
        assert!(
            m.contains("names no field of Station: it has no `servers_typo`"),
            "{m}"
        );
        assert!(h.contains("did you mean `Station.servers`?"), "{h}");
        let (m, h) = paths(&[], &["App.handel"]).unwrap_err();
        assert!(m.contains("`App.handel`"), "{m}");
        assert!(h.contains("`App.handle`"), "{h}");
        let (m, _) = paths(&[], &["sources.client.retrys"]).unwrap_err();
        assert!(m.contains("no field of sources.client"), "{m}");
        let (m, _) = paths(&[], &["Station.servers.x"]).unwrap_err();
        assert!(m.contains("no field of Station.servers"), "{m}");
        let (m, _) = paths(&[], &["Station.id"]).unwrap_err();
        assert!(m.contains("no `id`"), "{m}");
        let (m, h) = paths(&["source.client"], &[]).unwrap_err();
        assert!(m.contains("starts with `source`"), "{m}");
        assert!(h.contains("did you mean `sources`?"), "{h}");
        let (m, _) = paths(&[], &["Station"]).unwrap_err();
        assert!(m.contains("names no field of Station"), "{m}");
    }

    #[test]
    fn allowing_what_is_free_is_refused() {
        let (m, h) = paths(&["Station.servers"], &[]).unwrap_err();
        assert!(
            m.contains("not protected, so allowing it changes nothing"),
            "{m}"
        );
        assert!(h.contains("Station.service"), "{h}");
        assert!(paths(&["sources.to"], &[]).is_err());
        assert!(paths(&["Station.service"], &[]).is_ok());
    }
}
