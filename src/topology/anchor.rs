//! Where a session source's problem is written: from the `class:` of a
//! task, out to the field at fault (see [`crate::sessions::Anchor`]).

use super::check::Ctx;

/// Byte offset of `a`'s field, searched from the source written at
/// `source` (its class's place when the field is not found after it).
pub fn place(cx: &Ctx, source: Option<usize>, a: &crate::sessions::Anchor) -> Option<usize> {
    let mut class = cx.places.find(source.unwrap_or(0), "class", &a.class)?;
    for _ in 0..a.nth {
        class = cx.places.find(class + 1, "class", &a.class)?;
    }
    Some(
        a.field
            .and_then(|f| field_after(cx.lines.text(), class, a.up, f))
            .unwrap_or(class),
    )
}

/// Byte offset of the key `field:` written `up` brackets out from byte
/// `from` (0: in the same brackets), searching forward; `None` when the
/// brackets close first. Strings and comments are skipped.
pub fn field_after(text: &str, from: usize, up: usize, field: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth: isize = 0;
    let want = -(up as isize);
    let mut i = from;
    // Skip the string at `from` (the class value).
    if b.get(i) == Some(&b'"') {
        i += 1;
        while i < b.len() && b[i] != b'"' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        i += 1;
    }
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth < want {
                    return None;
                }
            }
            c if depth == want && (c.is_ascii_alphabetic() || c == b'_') => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let word = &text[start..i];
                let rest = text[i..].trim_start();
                if word == field && rest.starts_with(':') {
                    return Some(start);
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::field_after;

    #[test]
    fn finds_the_field_at_its_level() {
        let t = r#"tasks: [Set(tasks: [Task(class: "a", repeat: 0)], interrupt: After(0))], interrupt: Chance(0.0)"#;
        let a = t.find("\"a\"").unwrap();
        assert_eq!(field_after(t, a, 0, "repeat"), t.find("repeat"));
        assert_eq!(
            field_after(t, a, 2, "interrupt"),
            t.find("interrupt: After")
        );
        assert_eq!(
            field_after(t, a, 4, "interrupt"),
            t.find("interrupt: Chance")
        );
        // Not in the task's own brackets: not found.
        assert_eq!(field_after(t, a, 0, "interrupt"), None);
    }
}
