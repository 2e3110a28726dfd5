//! Numbers the RON parser could not take, said in the file format's words.
//!
//! RON reports `servers: 1.5` as "Expected comma" (it read `1` and then met
//! `.5`) and `servers: 99999999999999999999` as "Integer is out of bounds".
//! [`number_problem`] finds the number at the error, the field it is given
//! to and the kind around it, and says what the field takes (its range from
//! the kind's field descriptors where there is one).

use crate::diag::Diagnostic;
use crate::kind::{Field, FieldType, Kind};
use ron::error::Error as RonError;

/// The byte offset of a 1-based line and column (in characters).
fn offset(text: &str, line: usize, col: usize) -> usize {
    let mut start = 0;
    for (n, l) in text.split_inclusive('\n').enumerate() {
        if n + 1 == line {
            return start
                + l.char_indices()
                    .nth(col.saturating_sub(1))
                    .map_or(l.len(), |(i, _)| i);
        }
        start += l.len();
    }
    text.len()
}

fn is_number_char(c: u8) -> bool {
    c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'e' | b'E' | b'+' | b'-')
}

/// The identifier that ends at byte `end` (after white space), and where
/// it starts.
fn ident_before(text: &str, end: usize) -> Option<(usize, &str)> {
    let before = text[..end].trim_end();
    let start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let name = &before[start..];
    (!name.is_empty()).then_some((start, name))
}

/// The name of the struct whose `(` encloses byte `at` (`Station` for a
/// field of `Station(...)`).
fn enclosing(text: &str, at: usize) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = at;
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b')' | b']' | b'}' => depth += 1,
            b'[' | b'{' => depth = depth.saturating_sub(1),
            b'(' if depth == 0 => return ident_before(text, i).map(|(_, n)| n),
            b'(' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The descriptor of field `name` in struct `within`, when the reference
/// describes it.
fn describe(within: &str, name: &str) -> Option<&'static Field> {
    let find = |fields: &'static [Field]| fields.iter().find(|f| f.name == name);
    if let Some(kind) = Kind::from_name(within) {
        let doc = crate::kinds::doc(kind);
        return find(doc.fields);
    }
    if within == "Source" {
        return find(super::SOURCE_FIELDS);
    }
    Kind::ALL.iter().find_map(|&k| {
        crate::kinds::doc(k)
            .nested
            .iter()
            .find(|(n, _)| *n == within)
            .and_then(|(_, f)| find(f))
    })
}

/// A number the parser refused, explained: `None` when the error is not
/// about a number given to a field.
pub(crate) fn number_problem(
    code: &RonError,
    text: &str,
    line: usize,
    col: usize,
) -> Option<Diagnostic> {
    let at = offset(text, line, col).min(text.len());
    let bytes = text.as_bytes();
    let mut start = at;
    while start > 0 && is_number_char(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = at;
    while end < bytes.len() && is_number_char(bytes[end]) {
        end += 1;
    }
    let token = &text[start..end];
    let value: f64 = token.replace('_', "").parse().ok()?;
    let before = text[..start].trim_end();
    if before.ends_with(',') && enclosing(text, start) == Some("Exact") {
        return exact_count(token, value);
    }
    let colon = before.strip_suffix(':')?;
    let (field_at, field) = ident_before(text, colon.len())?;
    let within = enclosing(text, field_at).unwrap_or("");
    let described = describe(within, field);
    let shown = if token.len() > 24 {
        format!("{}... ({} characters)", &token[..12], token.len())
    } else {
        token.to_string()
    };
    let range = match described.map(|f| f.ty) {
        Some(FieldType::Count { min, max }) => format!(" from {min} to {max}"),
        _ => String::new(),
    };
    let whole = token
        .bytes()
        .all(|c| c.is_ascii_digit() || c == b'_' || c == b'-');
    let d = match code {
        _ if value < 0.0 && whole => Diagnostic::error(format!(
            "`{field}` is {shown}, but it takes a whole number of 0 or more"
        ))
        .hint(format!("give `{field}` a whole number{range}")),
        RonError::IntegerOutOfBounds => Diagnostic::error(format!(
            "`{field}` is {shown}, too large for a whole number here"
        ))
        .hint(format!("give `{field}` a whole number{range}")),
        _ if !whole => Diagnostic::error(format!(
            "`{field}` takes a whole number, but it is {shown}"
        ))
        .hint(format!(
            "give `{field}` a whole number{range}, e.g. `{field}: {}`",
            value.abs().ceil().clamp(1.0, 1e15) as u64
        )),
        _ => return None,
    };
    Some(match within {
        "" => d,
        w => d.on(format!("`{w}`")),
    })
}

/// A scenario's `Exact(time, events, change)` with an events count that is
/// not a whole number of 0 to `u64::MAX`.
fn exact_count(token: &str, value: f64) -> Option<Diagnostic> {
    let shown = if token.len() > 24 {
        format!("{}... ({} characters)", &token[..12], token.len())
    } else {
        token.to_string()
    };
    let what = if value < 0.0 {
        "negative"
    } else if token.contains(['.', 'e', 'E']) {
        "not a whole number"
    } else {
        "too large"
    };
    Some(
        Diagnostic::error(format!(
            "`Exact`'s event count is {shown}, {what}: it takes a whole number of 0 or more (below 2^64)"
        ))
        .hint(
            "`Exact(time, events, change)` is what a saved session records (the events run before the change); to make a change at a time, write `At(\"10s\", change)`",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> Option<Diagnostic> {
        let e = crate::topology::ron_options()
            .from_str::<crate::topology::Topology>(text)
            .unwrap_err();
        number_problem(&e.code, text, e.span.start.line, e.span.start.col)
    }

    const T: &str = r#"Topology(name: "x", sources: [Source(id: "u", to: "s", arrivals: Poisson(rps: 1))],
  nodes: [Station(id: "s", servers: NUM, service: Constant("1ms"))])"#;

    #[test]
    fn fractions_and_huge_whole_numbers_name_the_field_and_its_range() {
        for (num, says) in [
            ("1.5", "`servers` takes a whole number, but it is 1.5"),
            ("2e3", "`servers` takes a whole number, but it is 2e3"),
            ("99999999999999999999999", "too large for a whole number"),
            ("-1", "takes a whole number of 0 or more"),
        ] {
            let d = problem(&T.replace("NUM", num)).unwrap_or_else(|| panic!("{num}"));
            assert!(d.message.contains(says), "{num}: {}", d.message);
            let hint = d.hint.unwrap();
            assert!(hint.contains("from 1 to 1000000"), "{num}: {hint}");
        }
    }

    #[test]
    fn other_errors_are_left_alone() {
        let text = T.replace("NUM", "1 service: 2");
        let e = crate::topology::ron_options()
            .from_str::<crate::topology::Topology>(&text)
            .unwrap_err();
        let _ = number_problem(&e.code, &text, e.span.start.line, e.span.start.col);
        assert!(problem(&T.replace("NUM", "\"two\"")).is_none());
    }
}
