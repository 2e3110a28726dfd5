//! The documented ranges against validation, generated from the field
//! descriptors (`Field::ty`): for every whole-number, number and share
//! field of every table the reference prints, both ends of its range load
//! and a value just outside either end is refused. The value is written
//! into a bundled topology that already has the struct (in place of the
//! field's number, or added as the struct's first field), so the test
//! needs no list of fields of its own.

use super::load::load_str;
use crate::kind::{ABOVE_ZERO, Field, FieldType, Kind};

/// Fields whose end of range only another part of the file can reach,
/// with what bounds them there: their ends are not probed (the values
/// outside the range still are).
const BOUNDED: &[(&str, &str, &str)] = &[
    (
        "ShardRouter",
        "active",
        "at most the number of `shards` listed",
    ),
    (
        "Task",
        "weight",
        "only in a session that picks its tasks by weight",
    ),
    ("Autoscale", "max", "at least the app's `instances`"),
];

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
            // Open at 0: the smallest number above it loads, 0 does not.
            let below = if min == ABOVE_ZERO {
                0.0
            } else {
                min - step(min)
            };
            Some((
                vec![num(min), num(max)],
                vec![num(below), num(max + step(max))],
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
        // Not in a comment (a line's `//` before it, outside a string).
        let line = &text[text[..at].rfind('\n').map_or(0, |i| i + 1)..at];
        let mut in_str = false;
        let commented = line.as_bytes().windows(2).any(|w| {
            if w[0] == b'"' {
                in_str = !in_str;
            }
            !in_str && w == b"//"
        });
        if commented {
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

/// `text` with `field` set to `value` in the `nth` struct `name(...)`:
/// the field's number replaced, or the field added first.
fn set_field(text: &str, name: &str, nth: usize, field: &str, value: &str) -> String {
    let s = structs(text, name)[nth];
    match field_number(text, s, field) {
        Some((a, e)) => format!("{}{value}{}", &text[..a], &text[e..]),
        None => format!("{}{field}: {value}, {}", &text[..s.0 + 1], &text[s.0 + 1..]),
    }
}

/// Whether the struct at `(open, close)` writes `field` directly (in any
/// form: a number, a list, a string).
fn writes(text: &str, (open, close): (usize, usize), field: &str) -> bool {
    let b = text.as_bytes();
    let mut from = open;
    while let Some(k) = text[from..close].find(field) {
        let at = from + k;
        from = at + 1;
        let starts = !(b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_');
        if starts && text[at + field.len()..close].trim_start().starts_with(':') {
            return true;
        }
    }
    false
}

/// Every place a field of `name(...)` can be set: (topology, struct's
/// index), those that write the field first. A struct that writes the
/// field in a form other than a number (a list, a string) is left out.
fn sites(bundled: &[(String, String)], name: &str, field: &str) -> Vec<(usize, usize)> {
    let (mut written, mut added) = (Vec::new(), Vec::new());
    for (f, (_, text)) in bundled.iter().enumerate() {
        for (k, s) in structs(text, name).into_iter().enumerate() {
            if field_number(text, s, field).is_some() {
                written.push((f, k));
            } else if !writes(text, s, field) {
                added.push((f, k));
            }
        }
    }
    written.extend(added);
    written
}

/// The value a probe sets the struct's other numeric fields to when the
/// field alone is refused: the same end of their own ranges (a `min` at its
/// largest needs a `max` as large; a `warm` at its largest, a `capacity`).
fn partners(fields: &[Field], field: &str, high: bool) -> Vec<(&'static str, String)> {
    fields
        .iter()
        .filter(|f| f.name != field)
        .filter_map(|f| {
            let (lo, hi) = probes(f.ty)?
                .0
                .into_iter()
                .fold((None, None), |(lo, _), v| (lo.or(Some(v.clone())), Some(v)));
            Some((f.name, if high { hi? } else { lo? }))
        })
        .collect()
}

#[test]
fn documented_ranges_are_the_validated_ones() {
    let bundled: Vec<(String, String)> = super::input_tests::bundled()
        .into_iter()
        .filter(|(f, t)| load_str(f, t).is_ok())
        .collect();
    let loads = |site: (usize, usize), name: &str, sets: &[(&str, String)]| {
        let (file, text) = &bundled[site.0];
        let mut t = text.clone();
        for (f, v) in sets {
            t = set_field(&t, name, site.1, f, v);
        }
        load_str(file, &t).map(|_| ()).map_err(|ds| {
            let first = ds.items.iter().find(|d| d.is_error());
            format!(
                "{} (in {file})",
                first.map(|d| d.message.as_str()).unwrap_or("")
            )
        })
    };
    let mut wrong = Vec::new();
    let mut untested = Vec::new();
    let mut tested = 0;
    for (name, fields) in tables() {
        for f in fields {
            let Some((accepted, refused)) = probes(f.ty) else {
                continue;
            };
            let sites = sites(&bundled, name, f.name);
            if sites.is_empty() {
                untested.push(format!("{name}.{}", f.name));
                continue;
            }
            tested += 1;
            let what = format!("{name}.{} ({})", f.name, f.ty.describe());
            let bounded = BOUNDED.iter().any(|&(s, x, _)| s == name && x == f.name);
            let accepted = if bounded { Vec::new() } else { accepted };
            // Each end loads somewhere: alone, or with the struct's other
            // numbers at the same end of their ranges.
            for (k, v) in accepted.iter().enumerate() {
                let alone = [(f.name, v.clone())];
                let mut with = partners(fields, f.name, k == 1);
                with.push((f.name, v.clone()));
                let mut why = String::new();
                let ok = sites.iter().any(|&site| {
                    let r = loads(site, name, &alone).or_else(|_| loads(site, name, &with));
                    if let Err(e) = &r
                        && why.is_empty()
                    {
                        why = e.clone();
                    }
                    r.is_ok()
                });
                if !ok {
                    wrong.push(format!("{what} = {v} is refused: {why}"));
                }
            }
            // Just outside is refused where the field is written.
            for v in &refused {
                if loads(sites[0], name, &[(f.name, v.clone())]).is_ok() {
                    wrong.push(format!(
                        "{what} = {v} is accepted (in {})",
                        bundled[sites[0].0].0
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong, {tested} fields tested:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // No bundled topology writes a `Set` with a weight; its descriptor is
    // `Task.weight`'s, whose values outside the range are probed.
    untested.retain(|f| f != "Set.weight");
    assert!(untested.is_empty(), "no bundled topology has: {untested:?}");
    assert!(tested > 40, "{tested}");
}
