//! Simulated time: integer nanoseconds, and durations written with units.
//!
//! The engine never uses floating point for the clock: every instant is a
//! [`SimTime`] (nanoseconds since the start of the run) so that event order is
//! exact and identical on every target. Topology files write durations as
//! strings with a unit (`"250us"`, `"10ms"`, `"2s"`, `"5m"`), parsed by
//! [`Duration::parse`].

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An instant of simulated time, in nanoseconds since the run started.
pub type SimTime = u64;

/// Nanoseconds in one microsecond.
pub const US: u64 = 1_000;
/// Nanoseconds in one millisecond.
pub const MS: u64 = 1_000_000;
/// Nanoseconds in one second.
pub const SEC: u64 = 1_000_000_000;
/// Nanoseconds in one minute.
pub const MIN: u64 = 60 * SEC;
/// Nanoseconds in one hour.
pub const HOUR: u64 = 60 * MIN;
/// Nanoseconds in one day.
pub const DAY: u64 = 24 * HOUR;

/// The longest duration a file may write: 366 days.
pub const MAX_DURATION: u64 = 366 * DAY;

/// A span of simulated time in whole nanoseconds.
///
/// Written in files as a string with a unit: `ns`, `us` (or `µs`), `ms`, `s`,
/// `m`, `h`, `d`; fractions are allowed (`"1.5s"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub u64);

impl Duration {
    /// Zero length.
    pub const ZERO: Duration = Duration(0);

    /// From whole nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        Duration(ns)
    }

    /// From whole milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Duration(ms * MS)
    }

    /// From whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        Duration(s * SEC)
    }

    /// Nanoseconds.
    pub const fn nanos(self) -> u64 {
        self.0
    }

    /// Seconds as a float (for reports only; the engine never computes with it).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / SEC as f64
    }

    /// Milliseconds as a float (for reports only).
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / MS as f64
    }

    /// Parses `"250us"`, `"10ms"`, `"1.5s"`, `"5m"`, `"2h"`, `"1d"`.
    ///
    /// A space between number and unit is allowed. Negative numbers, missing
    /// units and durations over [`MAX_DURATION`] are errors whose text says
    /// how to write the value instead.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let t = text.trim();
        // Compound durations, largest unit first: "1m30s", "2h15m", "1s500ms".
        if let Some(parts) = compound_parts(t) {
            let mut total = 0u64;
            for p in parts {
                total = total.saturating_add(Duration::parse(p)?.0);
            }
            if total > MAX_DURATION {
                return Err(format!(
                    "duration \"{text}\" is longer than the limit of 366 days: write at most \"366d\" (a simulated year is ample; shorten the run or period)"
                ));
            }
            return Ok(Duration(total));
        }
        if t.is_empty() {
            return Err("empty duration: write a number with a unit, e.g. \"10ms\"".into());
        }
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_' || c == '-' || c == '+'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let unit = unit.trim();
        if num.is_empty() {
            return Err(format!(
                "duration \"{text}\" has no number: write e.g. \"10ms\" or \"2s\""
            ));
        }
        if num.starts_with('-') {
            return Err(format!(
                "duration \"{text}\" is negative: durations must be 0 or more"
            ));
        }
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => US as f64,
            "ms" => MS as f64,
            "s" => SEC as f64,
            "m" | "min" => MIN as f64,
            "h" => HOUR as f64,
            "d" => DAY as f64,
            "" => {
                return Err(format!(
                    "duration \"{text}\" has no unit: add one of ns, us, ms, s, m, h, d (e.g. \"{num}ms\")"
                ));
            }
            other => {
                return Err(format!(
                    "unknown unit `{other}` in duration \"{text}\": use ns, us, ms, s, m, h or d"
                ));
            }
        };
        let cleaned: String = num.chars().filter(|&c| c != '_').collect();
        let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
        if digits.contains(['+', '-']) {
            return Err(format!(
                "`{num}` in duration \"{text}\" is not a number: write e.g. \"5ms\""
            ));
        }
        let value: f64 = digits.parse().map_err(|_| {
            format!("`{num}` in duration \"{text}\" is not a number: write e.g. \"5ms\"")
        })?;
        if value < 0.0 {
            return Err(format!(
                "duration \"{text}\" is negative: durations must be 0 or more"
            ));
        }
        if !value.is_finite() {
            return Err(format!(
                "duration \"{text}\" is not a finite number: write e.g. \"5ms\""
            ));
        }
        let ns = value * scale;
        if ns > MAX_DURATION as f64 {
            return Err(format!(
                "duration \"{text}\" is longer than the limit of 366 days: write at most \"366d\" (a simulated year is ample; shorten the run or period)"
            ));
        }
        Ok(Duration(libm::round(ns) as u64))
    }
}

impl fmt::Display for Duration {
    /// Formats with the largest unit that keeps the number readable:
    /// `250us`, `10ms`, `1.5s`, `5m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        let (div, unit) = if ns == 0 {
            (1, "s")
        } else if ns.is_multiple_of(HOUR) {
            (HOUR, "h")
        } else if ns.is_multiple_of(MIN) {
            (MIN, "m")
        } else if ns >= SEC {
            (SEC, "s")
        } else if ns >= MS {
            (MS, "ms")
        } else if ns >= US {
            (US, "us")
        } else {
            (1, "ns")
        };
        if ns.is_multiple_of(div) {
            write!(f, "{}{unit}", ns / div)
        } else {
            // Up to 3 decimals, trailing zeros removed.
            let s = format!("{:.3}", ns as f64 / div as f64);
            let s = s.trim_end_matches('0').trim_end_matches('.');
            write!(f, "{s}{unit}")
        }
    }
}

impl Duration {
    /// The exact text form: the largest unit that divides it (`"90s"`,
    /// `"11225018030ns"`), so that writing and reading loses nothing.
    pub fn to_exact_string(&self) -> String {
        let ns = self.0;
        for (div, unit) in [
            (DAY, "d"),
            (HOUR, "h"),
            (MIN, "m"),
            (SEC, "s"),
            (MS, "ms"),
            (US, "us"),
        ] {
            if ns != 0 && ns.is_multiple_of(div) {
                return format!("{}{unit}", ns / div);
            }
        }
        format!("{ns}ns")
    }
}

/// Splits "1m30s" into ["1m", "30s"] when it has more than one number
/// (digits after a unit letter); `None` for a simple duration.
fn compound_parts(t: &str) -> Option<Vec<&str>> {
    let b = t.as_bytes();
    let mut starts = vec![0];
    for i in 1..b.len() {
        if b[i].is_ascii_digit() && b[i - 1].is_ascii_alphabetic() {
            starts.push(i);
        }
    }
    if starts.len() < 2 || t.contains(' ') {
        return None;
    }
    starts.push(b.len());
    Some(starts.windows(2).map(|w| &t[w[0]..w[1]]).collect())
}

impl schemars::JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration, exactly, in nanoseconds with its unit: \"11225018030ns\"."
        })
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_exact_string())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string with a unit, such as \"10ms\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "a duration needs a unit: write \"{v}ms\" or \"{v}s\", not {v}"
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "a duration needs a unit: write \"{v}ms\" or \"{v}s\", not {v}"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "a duration needs a unit: write \"{v}ms\" or \"{v}s\", not {v}"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(Duration::parse("250us").unwrap(), Duration(250_000));
        assert_eq!(Duration::parse("10ms").unwrap(), Duration(10 * MS));
        assert_eq!(Duration::parse("2s").unwrap(), Duration(2 * SEC));
        assert_eq!(Duration::parse("5m").unwrap(), Duration(5 * MIN));
        assert_eq!(Duration::parse("1.5s").unwrap(), Duration(1_500 * MS));
        assert_eq!(Duration::parse("7 ns").unwrap(), Duration(7));
        assert_eq!(Duration::parse("1_000ms").unwrap(), Duration(SEC));
        assert_eq!(Duration::parse("2h").unwrap(), Duration(2 * HOUR));
        assert_eq!(Duration::parse("1m30s").unwrap(), Duration(90 * SEC));
        assert_eq!(
            Duration::parse("2h15m").unwrap(),
            Duration(2 * HOUR + 15 * MIN)
        );
        assert_eq!(Duration::parse("1s500ms").unwrap(), Duration(1_500 * MS));
        assert!(Duration::parse("1m30").unwrap_err().contains("no unit"));
        assert!(
            Duration::parse("1m30x")
                .unwrap_err()
                .contains("unknown unit")
        );
    }

    #[test]
    fn rejects_with_hints() {
        assert!(Duration::parse("10").unwrap_err().contains("no unit"));
        assert!(Duration::parse("-1s").unwrap_err().contains("negative"));
        assert!(
            Duration::parse("3 weeks")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(Duration::parse("400d").unwrap_err().contains("366 days"));
        assert!(Duration::parse("ms").unwrap_err().contains("no number"));
        assert!(
            Duration::parse("1.2.3s")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(Duration::parse("").is_err());
    }

    #[test]
    fn displays_round_trip() {
        for s in [
            "250us", "10ms", "1.5s", "5m", "2h", "7ns", "0s", "12.345ms", "1.25us",
        ] {
            let d = Duration::parse(s).unwrap();
            assert_eq!(Duration::parse(&d.to_string()).unwrap(), d, "{s}");
        }
        assert_eq!(Duration::parse("90s").unwrap().to_string(), "90s");
        assert_eq!(Duration::parse("120s").unwrap().to_string(), "2m");
        assert_eq!(Duration(11_225_018_030).to_string(), "11.225s");
        assert_eq!(Duration(11_225_018_030).to_exact_string(), "11225018030ns");
        assert_eq!(Duration(90 * SEC).to_exact_string(), "90s");
        assert_eq!(Duration(0).to_exact_string(), "0ns");
    }
}
