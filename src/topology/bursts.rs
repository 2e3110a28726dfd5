//! Burst sources against the span a run measures: a burst after the run's
//! end sends nothing, and a run whose only traffic is bursts in the
//! warm-up measures nothing. Both are said before the run, at the source.

use crate::diag::{Diagnostic, Diagnostics, LineIndex, Places};
use crate::model::Model;
use crate::time::Duration;

/// What a command calls the run's length and warm-up in its hints:
/// `--duration`/`--warmup`, or a scenario's `duration:`/`warmup:`.
#[derive(Clone, Copy, Debug)]
pub struct RunNames<'a> {
    /// The run's length.
    pub duration: &'a str,
    /// The warm-up.
    pub warmup: &'a str,
}

/// Warnings (in the topology `file` with text `text`) for the burst
/// sources of `model` that a run of `duration`, measured from `warmup`
/// (`None`: not known before the run), would not measure: a burst at or
/// after the end, and, when every source is such a burst or one in the
/// warm-up, each burst in the warm-up (with other traffic, a burst in the
/// warm-up is measured by what it leaves behind, as in a retry storm).
pub fn unmeasured_bursts(
    file: &str,
    text: &str,
    model: &Model,
    duration: Duration,
    warmup: Option<Duration>,
    names: RunNames,
) -> Diagnostics {
    let mut ds = Diagnostics::new(file, text);
    let bursts: Vec<(usize, u32, u64)> = model
        .sources
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.burst.map(|(c, at)| (i, c, at)))
        .collect();
    if bursts.is_empty() {
        return ds;
    }
    let in_warmup = |at: u64| warmup.is_some_and(|w| at < w.0);
    let after_end = |at: u64| at >= duration.0;
    let nothing_measured = bursts.len() == model.sources.len()
        && bursts
            .iter()
            .all(|&(_, _, at)| in_warmup(at) || after_end(at));
    // The place of each source: its `id`, found in file order.
    let places = Places::new(text);
    let lines = LineIndex::new(text);
    let mut cursor = 0;
    let at_of: Vec<Option<usize>> = model
        .sources
        .iter()
        .map(|s| {
            let at = places.find(cursor, "id", &s.id);
            if let Some(a) = at {
                cursor = a + 1;
            }
            at
        })
        .collect();
    for (i, count, at) in bursts {
        let s = &model.sources[i];
        let requests = crate::fmt::fmt_counted(count.into(), "request");
        let d = if after_end(at) {
            Diagnostic::warning(format!(
                "the burst at {} comes at or after the run's end ({duration}), so none of its {requests} is answered in the run",
                Duration(at)
            ))
            .hint(format!(
                "run longer than {} ({}), or move the burst's `at` before {duration}",
                Duration(at),
                names.duration
            ))
        } else if nothing_measured && in_warmup(at) {
            let w = warmup.unwrap_or_default();
            Diagnostic::warning(format!(
                "the burst at {} comes in the warm-up (the first {w}), and nothing else sends traffic, so none of its {requests} is measured",
                Duration(at)
            ))
            .hint(format!(
                "a warm-up of at most {} ({}), or move the burst's `at` to {w} or later",
                Duration(at),
                names.warmup
            ))
        } else {
            continue;
        };
        ds.push(
            d.at(at_of[i].map(|a| lines.pos(a)))
                .on(format!("source `{}`", crate::diag::short(&s.id))),
        );
    }
    ds
}
