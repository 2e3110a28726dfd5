//! The documented ranges against validation, generated from the field
//! descriptors (`Field::ty`): for every whole-number, number and share
//! field of every table the reference prints, both ends of its range load
//! and a value just outside either end is refused. The value is written
//! into a bundled topology that already has the struct (in place of the
//! field's number, or added as the struct's first field), so the test
//! needs no list of fields of its own.

use super::load::load_str;
use crate::kind::{Field, FieldType, Kind};

/// Every table of fields the reference prints: (struct name, fields).
fn tables() -> Vec<(&'static str, &'static [Field])> {
    let mut out: Vec<(&'static str, &'static [Field])> = vec![
        ("Topology", super::TOPOLOGY_FIELDS),
        ("Source", super::SOURCE_FIELDS),
    ];
    out.extend(crate::sessions::SESSION_NESTED.iter().copied());
    out.extend(super::CLIENT_NESTED.iter().copied());
    for k in Kind::ALL {
        let d = crate::kinds::doc(k);
        out.push((k.name(), d.fields));
        out.extend(d.nested.iter().copied());
    }
    out
}

/// Values at the ends of a range and just outside: (accepted, refused).
fn probes(ty: FieldType) -> Option<(Vec<String>, Vec<String>)> {
    let num = |x: f64| format!("{x:?}");
    match ty {
        FieldType::Count { min, max } => {
            let mut refused = vec![(max + 1).to_string()];
            if min > 0 {
                refused.push((min - 1).to_string());
            }
            Some((vec![min.to_string(), max.to_string()], refused))
        }
        FieldType::Number { min, max } => {
            let step = |x: f64| (x.abs() * 1e-3).max(1e-3);
            Some((
                vec![num(min), num(max)],
                vec![num(min - step(min)), num(max + step(max))],
            ))
        }
        FieldType::Ratio => Some((
            vec!["0.0".into(), "1.0".into()],
            vec!["-0.001".into(), "1.001".into()],
        )),
        _ => None,
    }
}

/// The byte range of the struct `name(...)` starting at each occurrence.
fn structs(text: &str, name: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let pat = format!("{name}(");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(k) = text[from..].find(&pat) {
        let at = from + k;
        from = at + 1;
        if at > 0 && (b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_') {
            continue;
        }
        let open = at + name.len();
        let (mut depth, mut in_str, mut i) = (0usize, false, open);
        while i < b.len() {
            match b[i] {
                b'"' => in_str = !in_str,
                b'(' | b'[' | b'{' if !in_str => depth += 1,
                b')' | b']' | b'}' if !in_str => {
                    depth -= 1;
                    if depth == 0 {
                        out.push((open, i));
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// Where `field: NUMBER` is written directly inside the struct at
/// `(open, close)`: the number's byte range.
fn field_number(text: &str, (open, close): (usize, usize), field: &str) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let (mut depth, mut in_str) = (0usize, false);
    let mut i = open;
    while i < close {
        match b[i] {
            b'"' => in_str = !in_str,
            b'(' | b'[' | b'{' if !in_str => depth += 1,
            b')' | b']' | b'}' if !in_str => depth -= 1,
            _ if !in_str
                && depth == 1
                && text[i..].starts_with(field)
                && !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') =>
            {
                let mut j = i + field.len();
                let skip = |j: &mut usize| {
                    while *j < close && b[*j].is_ascii_whitespace() {
                        *j += 1;
                    }
                };
                skip(&mut j);
                if b[j] == b':' {
                    j += 1;
                    skip(&mut j);
                    let v0 = j;
                    while j < close && (b[j].is_ascii_digit() || b"._-+eE".contains(&b[j])) {
                        j += 1;
                    }
                    return (j > v0).then_some((v0, j));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Writes a value into a topology's text.
type Setter = Box<dyn Fn(&str) -> String>;

/// A bundled topology that loads, with `name(...)` in it, and the text
/// with `field` set to `value` in its first such struct: the field's number
/// replaced, or the field added first. Topologies that write the field
/// are preferred.
fn with_value(bundled: &[(String, String)], name: &str, field: &str) -> Option<(String, Setter)> {
    let mut added = None;
    for (file, text) in bundled {
        for s in structs(text, name) {
            if let Some((a, e)) = field_number(text, s, field) {
                let t = text.clone();
                return Some((
                    file.clone(),
                    Box::new(move |v: &str| format!("{}{v}{}", &t[..a], &t[e..])),
                ));
            }
            if added.is_none() && !text[s.0..s.1].contains(&format!("{field}:")) {
                let (t, f) = (text.clone(), field.to_string());
                let at = s.0 + 1;
                let set: Setter = Box::new(move |v: &str| format!("{}{f}: {v}, {}", &t[..at], &t[at..]));
                added = Some((file.clone(), set));
            }
        }
    }
    added
}

#[test]
fn documented_ranges_are_the_validated_ones() {
    let bundled: Vec<(String, String)> = super::input_tests::bundled()
        .into_iter()
        .filter(|(f, t)| load_str(f, t).is_ok())
        .collect();
    let mut wrong = Vec::new();
    let mut untested = Vec::new();
    let mut tested = 0;
    for (name, fields) in tables() {
        for f in fields {
            let Some((accepted, refused)) = probes(f.ty) else {
                continue;
            };
            let Some((file, set)) = with_value(&bundled, name, f.name) else {
                untested.push(format!("{name}.{}", f.name));
                continue;
            };
            tested += 1;
            for v in &accepted {
                if let Err(ds) = load_str(&file, &set(v)) {
                    let first = ds.items.iter().find(|d| d.is_error()).map(|d| d.message.clone());
                    wrong.push(format!(
                        "{name}.{} = {v} ({}) is refused: {} (in {file})",
                        f.name,
                        f.ty.describe(),
                        first.unwrap_or_default()
                    ));
                }
            }
            for v in &refused {
                if load_str(&file, &set(v)).is_ok() {
                    wrong.push(format!(
                        "{name}.{} = {v} ({}) is accepted (in {file})",
                        f.name,
                        f.ty.describe()
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {tested} fields:\n{}", wrong.len(), wrong.join("\n"));
    assert!(untested.is_empty(), "no bundled topology has: {untested:?}");
}
