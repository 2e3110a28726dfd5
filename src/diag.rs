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

/// All diagnostics for one input file, with its text for rendering.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    /// The file's name as the user gave it.
    pub file: String,
    /// The file's text (empty when unreadable or binary).
    pub source: String,
    /// The problems, in file order where known.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Empty, for `file` with text `source`.
    pub fn new(file: &str, source: &str) -> Self {
        Diagnostics {
            file: file.to_string(),
            source: source.to_string(),
            items: Vec::new(),
        }
    }

    /// Adds one.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// True when any is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    /// Only the warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| !d.is_error())
    }

    fn render_one(&self, d: &Diagnostic, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{label}: {}", d.message)?;
        let item = d
            .item
            .as_deref()
            .map(|i| format!(" ({i})"))
            .unwrap_or_default();
        match d.pos {
            Some(p) => {
                writeln!(f, "  --> {}:{}:{}{item}", self.file, p.line, p.col)?;
                if let Some(line) = self.source.lines().nth(p.line.saturating_sub(1)) {
                    let shown: String = line.chars().take(160).collect();
                    let w = p.line.to_string().len();
                    writeln!(f, "{:w$} |", "")?;
                    writeln!(f, "{} | {}", p.line, shown)?;
                    let caret = p.col.saturating_sub(1).min(shown.chars().count());
                    writeln!(f, "{:w$} | {:caret$}^", "", "")?;
                }
            }
            None => writeln!(f, "  --> {}{item}", self.file)?,
        }
        if let Some(h) = &d.hint {
            writeln!(f, "   = hint: {h}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            self.render_one(d, f)?;
        }
        let n = self.error_count();
        if n > 1 {
            writeln!(f, "\n{n} errors in {}", self.file)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The closest of `candidates` to `word`, if it is close enough to suggest:
/// within a few edits (transpositions count as one) or very similar by
/// Jaro-Winkler.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let budget = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| {
            (
                strsim::damerau_levenshtein(word, c),
                strsim::jaro_winkler(word, c),
                c,
            )
        })
        .filter(|&(d, jw, _)| d <= budget || jw > 0.85)
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, c)| c)
}

/// Finds where `key: "value"` is written in `source` (the first time), to
/// point at an item that validation found wrong.
pub fn find_keyed(source: &str, key: &str, value: &str) -> Option<Pos> {
    let quoted = format!("\"{value}\"");
    let mut from = 0;
    while let Some(i) = source[from..].find(&quoted) {
        let at = from + i;
        let before = source[..at].trim_end();
        if let Some(b) = before.strip_suffix(':')
            && b.trim_end().ends_with(key)
        {
            return Some(pos_of(source, at));
        }
        from = at + quoted.len();
    }
    None
}

/// Line and column (from 1, in characters) of byte offset `at`.
pub fn pos_of(source: &str, at: usize) -> Pos {
    let before = &source[..at.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Pos { line, col }
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
