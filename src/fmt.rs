//! Numbers as people read them: `850ms`, `1.24s`, `1,234,567`. Below every
//! layer that prints (the report, the analysis, thresholds, the CLI).

use crate::time::Duration;

/// `word` after "a" or "an", as English wants it: `a Database`,
/// `an App`, `an ObjectStore`.
pub fn a(word: &str) -> String {
    let an = word
        .chars()
        .next()
        .is_some_and(|c| "AEIOUaeiou".contains(c));
    format!("{} {word}", if an { "an" } else { "a" })
}

/// Formats milliseconds for people: `850ms`, `1.24s`, `320us`, `-`.
pub fn fmt_ms(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(x) if x >= 10_000.0 => format!("{:.0}s", x / 1000.0),
        Some(x) if x >= 1000.0 => format!("{:.2}s", x / 1000.0),
        Some(x) if x >= 100.0 => format!("{x:.0}ms"),
        Some(x) if x >= 1.0 => format!("{x:.2}ms"),
        Some(x) if x >= 0.001 => format!("{:.0}us", x * 1000.0),
        Some(x) => format!("{:.0}ns", x * 1e6),
    }
}

/// Groups thousands: `1,234,567`.
pub fn fmt_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count and its noun, singular for one: `1 instance`, `1,200 instances`
/// (`noun` is the singular; the plural adds an `s`).
pub fn fmt_counted(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", fmt_count(n))
    }
}

/// Seconds as a duration people read: `1m30s`, `250ms`.
pub fn fmt_secs(s: f64) -> String {
    Duration((s * 1e9).round() as u64).to_string()
}

/// `a / b`, 0 when `b` is 0.
pub(crate) fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// A count as people read it, also past `u64`.
pub fn fmt_big(x: f64) -> String {
    if !x.is_finite() {
        "unboundedly many".into()
    } else if x < 1e15 {
        fmt_count(x as u64)
    } else {
        format!("{x:.1e}")
    }
}

/// A number from a file as people read it: as written when it is
/// ordinary (`0.5`, `250`, `1000000`), in powers of ten when it is huge or
/// tiny (`1e308`, `1.5e-12`), never three hundred digits.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() || x == 0.0 || (1e-6..1e12).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_for_people() {
        assert_eq!(fmt_count(1234567), "1,234,567");
        assert_eq!(fmt_count(12), "12");
        assert_eq!(fmt_ms(Some(850.0)), "850ms");
        assert_eq!(fmt_ms(Some(1240.0)), "1.24s");
        assert_eq!(fmt_ms(Some(0.32)), "320us");
        assert_eq!(fmt_ms(Some(12.345)), "12.35ms");
        assert_eq!(fmt_ms(None), "-");
        assert_eq!(fmt_num(1e308), "1e308");
        assert_eq!(fmt_num(100_000_000.0), "100000000");
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(fmt_num(-1.5e-300), "-1.5e-300");
        for x in [1e300, 1.7976931348623157e308, 4e9, 1e-320] {
            assert!(fmt_num(x).len() < 30, "{x}");
        }
    }
}
