//! Nodes that filter rather than queue: a rate limiter passes at most its
//! rate and turns the rest away at once, so in the long run it passes the
//! share `min(1, rate / λ)` of the arrivals (a token bucket's burst or a
//! window's edge lets short runs above the rate through, which the long run
//! averages out). Nothing waits there: no utilization, no wait.

use super::{NodeTheory, Verdict};

/// A rate limiter of `rate` requests a second, counting all requests
/// together (`global`) or separately per client IP or account, with
/// `lambda` arrivals a second measured.
pub fn rate_limiter(rate: f64, global: bool, lambda: f64) -> NodeTheory {
    if !global {
        return NodeTheory::none(
            Verdict::NotAQueue,
            "a filter counting each client separately: the share passed depends on how the traffic spreads over them (not predicted); no queue of its own",
            lambda,
        );
    }
    let share = pass_share(rate, lambda);
    let mut t = NodeTheory::none(
        Verdict::NotAQueue,
        format!(
            "a filter: passes min(1, rate / arrivals) = {:.1}% in the long run (`passed_rps`), turns the rest away at once; no queue of its own",
            share * 100.0
        ),
        lambda,
    );
    t.passed_rps = Some(lambda * share);
    t
}

/// `min(1, rate / lambda)` (1 with no arrivals).
pub fn pass_share(rate: f64, lambda: f64) -> f64 {
    if lambda > rate && lambda > 0.0 {
        rate / lambda
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_the_rate_and_no_more() {
        assert_eq!(pass_share(100.0, 50.0), 1.0);
        assert_eq!(pass_share(100.0, 400.0), 0.25);
        assert_eq!(pass_share(100.0, 0.0), 1.0);
        let t = rate_limiter(100.0, true, 400.0);
        assert_eq!(t.passed_rps, Some(100.0));
        assert!(t.note.contains("25.0%"), "{}", t.note);
        // No number where the split is not known.
        let t = rate_limiter(100.0, false, 400.0);
        assert_eq!(t.passed_rps, None);
        assert!(t.note.contains("not predicted"));
    }
}
