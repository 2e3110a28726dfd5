//! Loading a topology: bytes, then RON (with its errors translated into
//! diagnostics), then [`compile`] (the checks, then a [`crate::model::Model`]).
//!
//! Nothing here panics on any input. Every problem becomes a [`Diagnostic`]
//! with a place and a hint; validation reports every problem it finds at
//! once rather than stopping at the first.

use super::Topology;
use super::limits::*;
use crate::diag::{Diagnostic, Diagnostics, Pos, closest, pos_of};
use crate::model::Model;
use ron::error::Error as RonError;
use ron::extensions::Extensions;

pub use super::compile::compile;

/// A loaded topology: the model, and warnings that did not stop it.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The validated model.
    pub model: Model,
    /// Warnings (no errors).
    pub warnings: Diagnostics,
}

/// Loads a topology from raw bytes (a file's content). `file` names it in
/// messages.
pub fn load(file: &str, bytes: &[u8]) -> Result<Loaded, Diagnostics> {
    let text = check_bytes(file, bytes)?;
    load_str(file, text)
}

/// Loads a topology from text.
pub fn load_str(file: &str, text: &str) -> Result<Loaded, Diagnostics> {
    let text = strip_bom(text);
    let topology = parse(file, text)?;
    compile(file, text, topology)
}

/// The text of an input file's bytes: within [`MAX_FILE_BYTES`], without
/// NUL bytes, UTF-8; otherwise a diagnostic that does not quote it.
pub fn check_text<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, Diagnostics> {
    check_bytes(file, bytes)
}

pub(crate) fn check_bytes<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, Diagnostics> {
    let fail = |d: Diagnostic| {
        let mut ds = Diagnostics::new(file, "");
        ds.push(d);
        Err(ds)
    };
    if bytes.len() > MAX_FILE_BYTES {
        return fail(
            Diagnostic::error(format!(
                "the file is {} bytes, over the limit of {} bytes",
                bytes.len(),
                MAX_FILE_BYTES
            ))
            .hint("a topology is a few kilobytes; is this the right file?"),
        );
    }
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return fail(
            Diagnostic::error(format!(
                "the file has a NUL byte at offset {at}: it looks binary, not RON text"
            ))
            .hint("give a .ron topology file"),
        );
    }
    match std::str::from_utf8(bytes) {
        Ok(t) => Ok(strip_bom(t)),
        Err(e) => {
            let at = e.valid_up_to();
            let pos = pos_of(std::str::from_utf8(&bytes[..at]).unwrap_or(""), at);
            let mut ds = Diagnostics::new(file, "");
            ds.push(
                Diagnostic::error(format!(
                    "the file is not UTF-8 text (bad byte at offset {at})"
                ))
                .at(Some(pos))
                .hint("save the file as UTF-8"),
            );
            Err(ds)
        }
    }
}

/// The text without a leading UTF-8 byte order mark (some Windows editors
/// write one; it is not part of the content).
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The RON extensions topology files use: `Option` fields are written bare
/// (`queue: 50`), and a node kind wraps its fields directly
/// (`Station(id: "q", ...)`).
pub fn ron_options() -> ron::Options {
    ron::Options::default()
        .with_default_extension(Extensions::IMPLICIT_SOME | Extensions::UNWRAP_VARIANT_NEWTYPES)
        .with_recursion_limit(MAX_NESTING * 2)
}

/// Writes a topology as RON that [`load_str`] reads back (bare options,
/// node kinds wrapping their fields). Comments in the original are not kept.
pub fn to_ron(t: &Topology) -> String {
    let config = ron::ser::PrettyConfig::default()
        .extensions(Extensions::IMPLICIT_SOME | Extensions::UNWRAP_VARIANT_NEWTYPES)
        .struct_names(true);
    ron::ser::to_string_pretty(t, config).unwrap_or_default()
}

/// Parses RON text into a [`Topology`] without validating it.
pub fn parse(file: &str, text: &str) -> Result<Topology, Diagnostics> {
    let mut ds = Diagnostics::new(file, text);
    if text.len() > MAX_FILE_BYTES {
        ds.push(Diagnostic::error(format!(
            "the text is {} bytes, over the limit of {MAX_FILE_BYTES}",
            text.len()
        )));
        return Err(ds);
    }
    if is_blank(text) {
        ds.push(Diagnostic::error("the file is empty").hint(
            "a topology starts with `Topology(name: \"...\", sources: [...], nodes: [...])`",
        ));
        return Err(ds);
    }
    if let Some(d) = not_ron(text, "Topology").or_else(|| other_file(file, text, "Topology")) {
        ds.push(d);
        return Err(ds);
    }
    if let Some(pos) = too_deep(text) {
        ds.push(
            Diagnostic::error(format!("nesting deeper than {MAX_NESTING} levels"))
                .at(Some(pos))
                .hint("a topology nests a few levels; is a `)` or `]` missing?"),
        );
        return Err(ds);
    }
    match ron_options().from_str::<Topology>(text) {
        Ok(t) => Ok(t),
        Err(e) => {
            ds.push(ron_diagnostic(&e, text));
            Err(ds)
        }
    }
}

/// `None` when `text` starts as RON does (after white space, comments and
/// `#![enable(...)]` attributes: `Name(` or `(`); otherwise an error that
/// says what was expected, without quoting the text: a file that is not
/// RON (a password file, a key, someone's notes) is not echoed to the
/// terminal or a CI log.
pub fn not_ron(text: &str, kind: &str) -> Option<Diagnostic> {
    let (at, name) = leading_name(text);
    let rest = &text[at..];
    if rest[name.len()..].trim_start().starts_with('(') {
        return None;
    }
    let example = format!("`{kind}(...)`");
    let (message, hint) = if rest.starts_with('{') || rest.starts_with('[') {
        (
            format!(
                "this file looks like JSON, not a RON {}",
                kind.to_lowercase()
            ),
            format!(
                "this looks like JSON; a {} file is RON and starts with {example}",
                kind.to_lowercase()
            ),
        )
    } else {
        (
            format!(
                "this file is not a RON {}: it does not start with {example}",
                kind.to_lowercase()
            ),
            format!(
                "is this the right file? a {} file starts with {example}",
                kind.to_lowercase()
            ),
        )
    };
    Some(Diagnostic::error(message).hint(hint))
}

/// The name a RON text starts with (after white space, comments and
/// attributes): `Topology` for `Topology(...)`; empty for `(...)`.
pub(crate) fn leading_name(text: &str) -> (usize, &str) {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, r)| r);
        } else if let Some(r) = rest.strip_prefix("#!") {
            rest = r.split_once(']').map_or("", |(_, r)| r);
        } else {
            break;
        }
    }
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (text.len() - rest.len(), &rest[..end])
}

/// When `text` is one of the project's other files (a scenario, a
/// topology, a drill, a cost model) where a `want` file was expected: an
/// error that says which it is and the command that takes it.
pub fn other_file(file: &str, text: &str, want: &str) -> Option<Diagnostic> {
    let (at, name) = leading_name(text);
    if name == want || name.is_empty() {
        return None;
    }
    let (what, command) = match name {
        "Scenario" => (
            "a scenario file",
            format!("run it with `bottleneck check {file}` (the scenario names its topology)"),
        ),
        "Topology" => (
            "a topology file",
            format!(
                "run it with `bottleneck run {file}`, or check it with `bottleneck validate {file}`"
            ),
        ),
        "Drill" => (
            "a drill file",
            format!(
                "see its card with `bottleneck drill {file}`, or grade a topology with `bottleneck drill {file} --topology TOPOLOGY`"
            ),
        ),
        "Costs" => (
            "a cost model",
            "use it with `bottleneck cost TOPOLOGY --costs FILE`".to_string(),
        ),
        "Lesson" => (
            "a lesson file",
            "use it with `bottleneck lesson`".to_string(),
        ),
        _ => return None,
    };
    let article = if want.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    Some(
        Diagnostic::error(format!(
            "this is {what} (`{name}(...)`), not {article} {}",
            want.to_lowercase()
        ))
        .at(Some(pos_of(text, at)))
        .hint(command),
    )
}

/// True when the text has nothing but white space and comments.
pub(crate) fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with("//")
    }) && !text.contains("/*")
}

/// Finds the first place where brackets nest deeper than the limit
/// (outside strings and comments).
pub(crate) fn too_deep(text: &str) -> Option<Pos> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '/' if chars.peek().map(|p| p.1) == Some('/') => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(pos_of(text, i));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

pub(crate) fn ron_diagnostic(e: &ron::error::SpannedError, text: &str) -> Diagnostic {
    let start = e.span.start;
    let pos = Some(Pos {
        line: start.line.max(1),
        col: start.col.max(1),
    });
    if let Some(d) = super::numbers::number_problem(&e.code, text, start.line, start.col) {
        return d.at(pos);
    }
    let d = match &e.code {
        RonError::NoSuchStructField {
            expected,
            found,
            outer,
        } => {
            let within = outer
                .as_deref()
                .map(|o| format!(" in `{o}`"))
                .unwrap_or_default();
            let d = Diagnostic::error(format!("unknown field `{found}`{within}"));
            match closest(found, expected.iter().copied()) {
                Some(s) => d.hint(format!(
                    "did you mean `{s}`? (fields: {})",
                    expected.join(", ")
                )),
                None => d.hint(format!("the fields are: {}", expected.join(", "))),
            }
        }
        RonError::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => {
            let within = outer
                .as_deref()
                .map(|o| format!(" for `{o}`"))
                .unwrap_or_default();
            let d = Diagnostic::error(format!("unknown kind `{found}`{within}"));
            match closest(found, expected.iter().copied()) {
                Some(s) => d.hint(format!(
                    "did you mean `{s}`? (kinds: {})",
                    expected.join(", ")
                )),
                None => d.hint(format!("the kinds are: {}", expected.join(", "))),
            }
        }
        RonError::MissingStructField { field, outer } => {
            let within = outer
                .as_deref()
                .map(|o| format!("`{o}`"))
                .unwrap_or("this item".into());
            Diagnostic::error(format!("{within} is missing the field `{field}`"))
                .hint(format!("add `{field}: ...`"))
        }
        RonError::DuplicateStructField { field, .. } => {
            Diagnostic::error(format!("the field `{field}` is given twice"))
                .hint("keep one of them")
        }
        RonError::ExceededRecursionLimit => Diagnostic::error("nesting is too deep")
            .hint("a topology nests a few levels; is a `)` or `]` missing?"),
        RonError::Eof => Diagnostic::error("the file ends in the middle of a value")
            .hint("is a closing `)` or `]` missing?"),
        // A duration's own message ends with how to write it instead.
        RonError::Message(m) if m.contains("duration") && m.contains(": ") => {
            let (what, how) = m.rsplit_once(": ").unwrap_or((m, ""));
            Diagnostic::error(what).hint(how)
        }
        RonError::Message(m) => Diagnostic::error(m.clone()),
        RonError::InvalidValueForType { expected, found } => {
            Diagnostic::error(format!("expected {expected}, found {found}"))
        }
        RonError::TrailingCharacters => Diagnostic::error("unexpected text after the topology")
            .hint("a file holds one `Topology(...)`; remove what follows its closing `)`"),
        other => {
            let d = Diagnostic::error(other.to_string());
            if text.trim_start().starts_with('{') {
                d.hint("this looks like JSON; topologies are RON: `Topology(name: \"...\", ...)`")
            } else {
                d.hint("RON writes `Kind(field: value, ...)`, lists `[a, b]` and maps `{\"key\": value}`; look for a missing or extra `,`, `:`, bracket or quote just before here")
            }
        }
    };
    d.at(pos)
}
