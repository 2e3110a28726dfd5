//! Values and windows as written in thresholds: `200ms`, `0.1%`,
//! `during 2m..10m`, `after recovery within 30s`; and values shown back.

use super::{Metric, ThresholdError, Unit, Window, err};
use crate::fmt::{fmt_count, fmt_ms};
use crate::time::Duration;

/// A value in a unit as people read it.
pub fn show(unit: Unit, v: f64) -> String {
    match unit {
        // Three figures from 10 s up too: a row must not show `10s` beside
        // `< 10s` when it measured 10.3 s.
        Unit::Ms if (10_000.0..100_000.0).contains(&v) => format!("{:.1}s", v / 1000.0),
        Unit::Ms => fmt_ms(Some(v)),
        Unit::Ratio => {
            let p = v * 100.0;
            if p == 0.0 {
                "0%".into()
            } else if p.abs() >= 10.0 {
                format!("{p:.1}%")
            } else if p.abs() >= 0.1 {
                format!("{p:.2}%")
            } else {
                format!("{p:.3}%")
            }
        }
        Unit::Rps => format!("{} rps", fmt_count(v.round().max(0.0) as u64)),
        Unit::Count if v.fract() == 0.0 && v >= 0.0 => fmt_count(v as u64),
        Unit::Count | Unit::Number => {
            if v.abs() >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        }
    }
}

pub(super) fn parse_value(value: &str, metric: Metric) -> Result<f64, ThresholdError> {
    let v = value.trim().replace('_', "");
    if v.is_empty() {
        return Err(err(
            "the threshold has no value after its comparison",
            "e.g. `< 200ms`, `< 0.1%`, `> 0.85`",
        ));
    }
    match metric.unit {
        Unit::Ms => {
            if v.parse::<f64>().is_ok() {
                return Err(err(
                    format!("`{}` is a time: `{v}` needs a unit", metric.name),
                    format!("write `{v}ms` or `{v}s`"),
                ));
            }
            Duration::parse(&v).map(|d| d.0 as f64 / 1e6).map_err(|e| {
                err(
                    format!("`{v}` is not a time: {e}"),
                    "write e.g. `200ms`, `1.5s`",
                )
            })
        }
        _ => {
            let (num, scale) = match v.strip_suffix('%') {
                Some(n) if metric.unit == Unit::Ratio => (n.trim(), 0.01),
                Some(_) => {
                    return Err(err(
                        format!(
                            "`{}` is not a ratio, so `{v}` cannot be a percentage",
                            metric.name
                        ),
                        "write a plain number",
                    ));
                }
                None => (v.as_str(), 1.0),
            };
            let num = num.strip_suffix("rps").map(str::trim).unwrap_or(num);
            let x: f64 = num.parse().map_err(|_| {
                let hint = if Duration::parse(num).is_ok() {
                    format!("`{}` is not a time; write a plain number", metric.name)
                } else {
                    "write a number, e.g. `0.8` or `0.1%`".to_string()
                };
                err(format!("`{v}` is not a number"), hint)
            })?;
            if !x.is_finite() {
                return Err(err(
                    format!("`{v}` is not a finite number"),
                    "write a number",
                ));
            }
            Ok(x * scale)
        }
    }
}

/// Splits `... during A..B` / `... after recovery within D` off the end.
pub(super) fn split_window(s: &str) -> Result<(&str, Window), ThresholdError> {
    let dur = |x: &str| {
        Duration::parse(x.trim()).map_err(|e| {
            err(
                format!("`{}` is not a time: {e}", x.trim()),
                "write e.g. `2m`, `30s`",
            )
        })
    };
    if let Some(at) = s.find(" during ") {
        let spec = s[at + 8..].trim();
        let (a, b) = spec.split_once("..").ok_or_else(|| {
            err(
                format!("`during {spec}` is not a stretch of time"),
                "write `during 2m..10m` (or `during 2m..` to the end)",
            )
        })?;
        let from = dur(a)?;
        let to = if b.trim().is_empty() {
            None
        } else {
            Some(dur(b)?)
        };
        if let Some(t) = to
            && t <= from
        {
            return Err(err(
                format!("`during {spec}` ends before it starts"),
                "write the earlier time first",
            ));
        }
        return Ok((&s[..at], Window::During(from, to)));
    }
    if let Some(at) = s.find(" after ") {
        let spec = s[at + 7..].trim();
        let Some(d) = spec.strip_prefix("recovery within ") else {
            return Err(err(
                format!("`after {spec}` is not a window"),
                "write `after recovery within 30s`, or `during 5m..` for a fixed time",
            ));
        };
        return Ok((&s[..at], Window::AfterRecovery(dur(d)?)));
    }
    Ok((s, Window::Whole))
}
