//! Diagnostics: every input error is a value with a place and a hint.
//!
//! A [`Diagnostic`] says what is wrong, where (line and column in the file,
//! and the node or source it belongs to) and how to fix it. [`Diagnostics`]
//! carries all of them for one file and renders them the way compilers do:
//!
//! ```text
//! error: route target `dbb` does not exist
//!   --> shop.ron:9:62 (node `web`)
//!    |
//!  9 |         Station(id: "web", servers: 4, routes: [Route(to: "dbb", p: 0.3)]),
//!    |                                                              ^
//!    = hint: did you mean `db`?
//! ```

use serde::Serialize;
use std::fmt;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file cannot be run.
    Error,
    /// The file runs, but probably not as meant.
    Warning,
}

/// A line and column in a file, both counted from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub col: usize,
}

/// One problem with an input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// Where in the file, when known.
    pub pos: Option<Pos>,
    /// Which item it concerns, e.g. "node `web`".
    pub item: Option<String>,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error with a message.
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            pos: None,
            item: None,
            hint: None,
        }
    }

    /// A warning with a message.
    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    /// Sets the position.
    pub fn at(mut self, pos: Option<Pos>) -> Self {
        self.pos = pos;
        self
    }

    /// Sets the item it concerns.
    pub fn on(mut self, item: impl Into<String>) -> Self {
        self.item = Some(item.into());
        self
    }

    /// Sets the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A diagnostic as people should read it: a run of more than 15 digits (a
/// huge number printed in full, `1e308` as 309 digits) is shortened to its
/// first digits and its count (`100000...(309 digits)`), and an error
/// without a hint whose message ends with its remedy after a `; ` ("`servers`
/// is 0; give at least 1") gives that remedy as its hint.
pub fn tidy(mut d: Diagnostic) -> Diagnostic {
    d.message = shorten_digits(&d.message);
    if d.hint.is_none()
        && let Some((what, how)) = d
            .message
            .rsplit_once("; ")
            .or_else(|| d.message.split_once(": give "))
        && !what.is_empty()
        && !how.is_empty()
    {
        d.hint = Some(how.to_string());
        d.message = what.to_string();
    }
    d
}

/// Runs of more than 15 digits cut to six and their count.
fn shorten_digits(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() > 15 {
            out.push_str(&run[..6]);
            out.push_str(&format!("...({} digits)", run.len()));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Most diagnostics kept for one file. Past it, more are only counted: a
/// file with a mistake repeated a million times gets a hundred messages and
/// "and 999,900 more errors", in time and memory that do not grow with it.
pub const MAX_DIAGNOSTICS: usize = 100;

/// All diagnostics for one input file, with its text for rendering.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    /// The file's name as the user gave it.
    pub file: String,
    /// The file's text (empty when unreadable or binary).
    pub source: String,
    /// The problems, in file order where known (at most [`MAX_DIAGNOSTICS`]).
    pub items: Vec<Diagnostic>,
    /// Errors found past [`MAX_DIAGNOSTICS`]: counted, not kept.
    pub more_errors: usize,
    /// Warnings found past [`MAX_DIAGNOSTICS`]: counted, not kept.
    pub more_warnings: usize,
}

impl Diagnostics {
    /// Empty, for `file` with text `source`.
    pub fn new(file: &str, source: &str) -> Self {
        Diagnostics {
            file: file.to_string(),
            source: source.to_string(),
            items: Vec::new(),
            more_errors: 0,
            more_warnings: 0,
        }
    }

    /// Adds one (tidied, see [`tidy`]); past [`MAX_DIAGNOSTICS`], only
    /// counts it.
    pub fn push(&mut self, d: Diagnostic) {
        if self.items.len() < MAX_DIAGNOSTICS {
            self.items.push(tidy(d));
        } else if d.is_error() {
            self.more_errors += 1;
        } else {
            self.more_warnings += 1;
        }
    }

    /// True when no more diagnostics will be kept: checks that only add
    /// messages can stop early.
    pub fn is_full(&self) -> bool {
        self.items.len() >= MAX_DIAGNOSTICS
    }

    /// True when any is an error.
    pub fn has_errors(&self) -> bool {
        self.more_errors > 0 || self.items.iter().any(Diagnostic::is_error)
    }

    /// Number of errors, those counted past the limit included.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count() + self.more_errors
    }

    /// Only the warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| !d.is_error())
    }

    fn render_one(
        &self,
        d: &Diagnostic,
        lines: &LineIndex,
        f: &mut fmt::Formatter<'_>,
    ) -> fmt::Result {
        let label = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{label}: {}", clip(&d.message))?;
        let item = d
            .item
            .as_deref()
            .map(|i| format!(" ({})", clip(i)))
            .unwrap_or_default();
        match d.pos {
            Some(p) => {
                writeln!(f, "  --> {}:{}:{}{item}", self.file, p.line, p.col)?;
                if let Some(line) = lines.line(p.line) {
                    // At most 160 characters of the line, around the column
                    // (a minified file is one long line), without control
                    // characters that a terminal would act on.
                    let skip = p.col.saturating_sub(1).saturating_sub(120);
                    let shown: String = line
                        .chars()
                        .skip(skip)
                        .take(160)
                        .map(|c| {
                            if c.is_control() && c != '\t' {
                                '\u{fffd}'
                            } else {
                                c
                            }
                        })
                        .collect();
                    let w = p.line.to_string().len();
                    writeln!(f, "{:w$} |", "")?;
                    writeln!(f, "{} | {}", p.line, shown)?;
                    let caret = (p.col.saturating_sub(1) - skip).min(shown.chars().count());
                    writeln!(f, "{:w$} | {:caret$}^", "", "")?;
                }
            }
            None => writeln!(f, "  --> {}{item}", self.file)?,
        }
        if let Some(h) = &d.hint {
            writeln!(f, "   = hint: {}", clip(h))?;
        }
        Ok(())
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = LineIndex::new(&self.source);
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            self.render_one(d, &lines, f)?;
        }
        if self.more_errors + self.more_warnings > 0 {
            let mut parts = Vec::new();
            if self.more_errors > 0 {
                parts.push(plural(self.more_errors, "more error"));
            }
            if self.more_warnings > 0 {
                parts.push(plural(self.more_warnings, "more warning"));
            }
            writeln!(
                f,
                "\n... and {} (only the first {MAX_DIAGNOSTICS} are shown; fix these and run again)",
                parts.join(" and ")
            )?;
        }
        let n = self.error_count();
        if n > 1 {
            writeln!(f, "\n{n} errors in {}", self.file)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// A message as shown: at most 2,000 characters (a message that quotes a
/// value from a hostile file could be megabytes long).
fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 2000;
    match s.char_indices().nth(MAX) {
        None => s.into(),
        Some((i, _)) => format!(
            "{}... (cut: {} characters in all)",
            &s[..i],
            s.chars().count()
        )
        .into(),
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The closest of `candidates` to `word`, if it is close enough to suggest:
/// within a few edits (transpositions count as one) or very similar by
/// Jaro-Winkler.
///
/// The work is bounded whatever the input: words longer than a few ids are
/// not compared, and one call compares at most [`SUGGEST_CELLS`] characters
/// pairs (candidates past that are not considered).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut budget = SUGGEST_CELLS;
    closest_within(word, candidates, &mut budget)
}

/// Character pairs one suggestion may compare (a few milliseconds).
pub const SUGGEST_CELLS: u64 = 2_000_000;

/// Longest word worth a suggestion, in characters (ids are at most 64).
const SUGGEST_MAX_LEN: usize = 256;

/// [`closest`] drawing on a shared `budget` of character pairs, so a file
/// with ten thousand unknown names costs no more than a few of them: once
/// the budget is spent, no more suggestions are made.
pub fn closest_within<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    budget: &mut u64,
) -> Option<&'a str> {
    let len = word.chars().count();
    if len > SUGGEST_MAX_LEN {
        return None;
    }
    let edits = (len / 3).max(1);
    let mut best: Option<(usize, f64, &'a str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        let cost = ((len + 2) * (c.len() + 2)) as u64;
        if cost > *budget {
            *budget = 0;
            break;
        }
        *budget -= cost;
        let (d, jw) = (
            strsim::damerau_levenshtein(word, c),
            strsim::jaro_winkler(word, c),
        );
        if !(d <= edits || jw > 0.85) {
            continue;
        }
        let better = match best {
            None => true,
            Some((bd, bjw, _)) => d < bd || (d == bd && jw > bjw),
        };
        if better {
            best = Some((d, jw, c));
        }
    }
    best.map(|(_, _, c)| c)
}

/// A name from a file as messages quote it: at most 80 characters (a
/// hostile file may hold a megabyte-long id), the rest elided.
pub fn short(name: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 80;
    match name.char_indices().nth(MAX) {
        None => name.into(),
        Some((i, _)) => format!("{}... ({} characters)", &name[..i], name.chars().count()).into(),
    }
}

/// Names for a hint: all of them when there are few, else the first 20 and
/// how many more, so a hint stays short whatever the file.
pub fn list_names<T: AsRef<str>>(names: &[T]) -> String {
    const SHOWN: usize = 20;
    let mut s = names
        .iter()
        .take(SHOWN)
        .map(|n| short(n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    s
}

/// Finds where `key: "value"` is written in `source` (the first time), to
/// point at an item that validation found wrong.
pub fn find_keyed(source: &str, key: &str, value: &str) -> Option<Pos> {
    let places = Places::new(source);
    places
        .find(0, key, value)
        .map(|at| LineIndex::new(source).pos(at))
}

/// Line and column (from 1, in characters) of byte offset `at`.
///
/// This scans the text before `at`; to place many items in one text, build
/// a [`LineIndex`] once.
pub fn pos_of(source: &str, at: usize) -> Pos {
    LineIndex::new(source).pos(at)
}

/// Where every line of a text starts, to turn byte offsets into line and
/// column in logarithmic time (plus the length of the line, for columns).
#[derive(Clone, Debug)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// The text indexed.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Indexes `text`: one pass.
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { text, starts }
    }

    /// The text of line `n` (from 1), without its line break.
    pub fn line(&self, n: usize) -> Option<&'a str> {
        let start = *self.starts.get(n.checked_sub(1)?)?;
        if start == self.text.len() {
            // After a final line break there is no line (as `str::lines`).
            return None;
        }
        let end = self.starts.get(n).map_or(self.text.len(), |&next| next - 1);
        let line = self.text.get(start..end)?;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }

    /// Line and column (from 1; the column in characters) of byte offset
    /// `at` (clamped to the text).
    pub fn pos(&self, at: usize) -> Pos {
        let at = at.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= at);
        let start = self.starts[line - 1];
        let col = match self.text.get(start..at) {
            Some(s) => s.chars().count(),
            None => at - start,
        };
        Pos { line, col: col + 1 }
    }
}

/// Every string literal written as `key: "value"` in a RON text, by key and
/// value, in file order: one pass over the text, then each look-up is a
/// binary search. Strings inside comments are not items; a list's elements
/// (`to: ["a", "b"]`) have no key of their own.
#[derive(Clone, Debug, Default)]
pub struct Places<'a> {
    at: std::collections::BTreeMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'a> Places<'a> {
    /// Scans `text` once.
    pub fn new(text: &'a str) -> Self {
        let b = text.as_bytes();
        let mut at: std::collections::BTreeMap<(&str, &str), Vec<usize>> = Default::default();
        let mut i = 0;
        // The key whose `:` was the last token before this one, if any.
        let mut key: Option<&str> = None;
        let mut ident_start: Option<usize> = None;
        let mut last_ident: Option<(usize, usize)> = None;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_alphanumeric() || c == b'_' {
                if ident_start.is_none() {
                    ident_start = Some(i);
                }
                i += 1;
                continue;
            }
            if let Some(s) = ident_start.take() {
                last_ident = Some((s, i));
                key = None;
            }
            match c {
                b' ' | b'\t' | b'\n' | b'\r' => i += 1,
                b'/' if b.get(i + 1) == Some(&b'/') => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    let mut depth = 0usize;
                    while i < b.len() {
                        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                            depth += 1;
                            i += 2;
                        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                            depth -= 1;
                            i += 2;
                            if depth == 0 {
                                break;
                            }
                        } else {
                            i += 1;
                        }
                    }
                }
                b':' => {
                    key = last_ident.take().map(|(s, e)| &text[s..e]);
                    i += 1;
                }
                b'"' => {
                    let open = i;
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    let close = i.min(b.len());
                    if let (Some(k), Some(v)) = (key.take(), text.get(open + 1..close)) {
                        at.entry((k, v)).or_default().push(open);
                    }
                    last_ident = None;
                    i = close + 1;
                }
                b'\'' => {
                    // A char literal: 'a', '\n', '\''.
                    i += match (b.get(i + 1), b.get(i + 2), b.get(i + 3)) {
                        (Some(b'\\'), Some(_), Some(b'\'')) => 4,
                        (Some(_), Some(b'\''), _) => 3,
                        _ => 1,
                    };
                    key = None;
                    last_ident = None;
                }
                _ => {
                    key = None;
                    last_ident = None;
                    i += 1;
                }
            }
        }
        Places { at }
    }

    /// Byte offset of the opening quote of the first `key: "value"` at or
    /// after byte `from`.
    pub fn find(&self, from: usize, key: &str, value: &str) -> Option<usize> {
        let v = self.at.get(&(key, value))?;
        v.get(v.partition_point(|&q| q < from)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words() {
        assert_eq!(
            closest("servrs", ["id", "servers", "queue"]),
            Some("servers")
        );
        assert_eq!(closest("zzz", ["id", "servers"]), None);
        assert_eq!(closest("wbe", ["web", "db"]), Some("web"));
        assert_eq!(closest("dbb", ["web", "db"]), Some("db"));
        assert_eq!(
            closest("Exponental", ["Constant", "Exponential", "Uniform"]),
            Some("Exponential")
        );
    }

    #[test]
    fn bounded_suggestions_stop_when_the_budget_is_spent() {
        let mut budget = SUGGEST_CELLS;
        assert_eq!(
            closest_within("dbb", ["web", "db"], &mut budget),
            Some("db")
        );
        assert!(budget < SUGGEST_CELLS);
        let mut none = 10;
        assert_eq!(closest_within("dbb", ["web", "db"], &mut none), None);
        assert_eq!(none, 0);
        let long = "x".repeat(10_000);
        assert_eq!(closest(&long, [long.as_str()]), None);
    }

    #[test]
    fn line_index_agrees_with_counting() {
        let src = "ab\ncdé\n\nxyz";
        let idx = LineIndex::new(src);
        for at in [0, 1, 2, 3, 5, 7, 8, 9, 10, 12, 100] {
            let before = &src[..at.min(src.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
            assert_eq!(idx.pos(at), Pos { line, col }, "at {at}");
        }
        // Inside a character: no panic, a byte column.
        assert_eq!(idx.pos(6).line, 2);
        // Lines as `str::lines` gives them.
        for text in ["a\r\nb\n\nc", "a\n", "", "\n\n"] {
            let idx = LineIndex::new(text);
            for n in 1..6 {
                assert_eq!(idx.line(n), text.lines().nth(n - 1), "{text:?} line {n}");
            }
        }
        assert_eq!(idx.line(0), None);
        assert_eq!(idx.line(5), None);
    }

    #[test]
    fn places_skip_comments_and_list_elements() {
        let src = "// to: \"a\"\nX(to: \"a\", l: [\"a\"], /* to: \"a\" */ to : \"a\", s: \"q\\\"x\", to: \"a\")";
        let p = Places::new(src);
        let first = p.find(0, "to", "a").unwrap();
        assert_eq!(&src[first - 4..first], "to: ");
        let second = p.find(first + 1, "to", "a").unwrap();
        assert_eq!(&src[second - 4..second], "o : ");
        let third = p.find(second + 1, "to", "a").unwrap();
        assert!(third > second);
        assert_eq!(p.find(third + 1, "to", "a"), None);
        assert_eq!(p.find(0, "l", "a"), None);
        assert!(p.find(0, "s", "q\\\"x").is_some());
        // Any bytes: no panic.
        for s in ["\"", "'", "'\\", "/*", "a:", "a: \"\\", "é: \"é\""] {
            let _ = Places::new(s).find(0, "a", "");
        }
    }

    #[test]
    fn too_many_are_counted() {
        let mut d = Diagnostics::new("t.ron", "");
        for i in 0..MAX_DIAGNOSTICS + 5 {
            d.push(Diagnostic::error(format!("e{i}")));
        }
        d.push(Diagnostic::warning("w"));
        assert_eq!(d.items.len(), MAX_DIAGNOSTICS);
        assert_eq!(d.error_count(), MAX_DIAGNOSTICS + 5);
        let s = d.to_string();
        assert!(
            s.contains("... and 5 more errors and 1 more warning"),
            "{s}"
        );
        assert!(s.contains("105 errors in t.ron"), "{s}");
    }

    #[test]
    fn long_lines_show_the_column() {
        let line = format!("{}BAD\u{1b}[31m", "x".repeat(5000));
        let mut d = Diagnostics::new("t.ron", &line);
        d.push(Diagnostic::error("bad").at(Some(Pos { line: 1, col: 5001 })));
        let s = d.to_string();
        assert!(s.contains("BAD\u{fffd}[31m"), "{s}");
        assert!(!s.contains('\u{1b}'));
        let caret_line = s.lines().find(|l| l.ends_with('^')).unwrap();
        let text_line = s.lines().find(|l| l.contains("BAD")).unwrap();
        assert_eq!(caret_line.len() - 1, text_line.find("BAD").unwrap());
    }

    #[test]
    fn finds_items() {
        let src = "Topology(\n  nodes: [\n    Station(id: \"web\", x: \"web\"),\n  ])";
        assert_eq!(find_keyed(src, "id", "web"), Some(Pos { line: 3, col: 17 }));
        assert_eq!(find_keyed(src, "id", "nope"), None);
    }

    #[test]
    fn renders_with_caret_and_hint() {
        let mut d = Diagnostics::new("t.ron", "line one\n  bad thing\n");
        d.push(
            Diagnostic::error("it is bad")
                .at(Some(Pos { line: 2, col: 3 }))
                .on("node `x`")
                .hint("fix it"),
        );
        let s = d.to_string();
        assert!(s.contains("error: it is bad"), "{s}");
        assert!(s.contains("--> t.ron:2:3 (node `x`)"), "{s}");
        assert!(s.contains("2 |   bad thing"), "{s}");
        assert!(s.contains("  |   ^"), "{s}");
        assert!(s.contains("= hint: fix it"), "{s}");
    }
}
