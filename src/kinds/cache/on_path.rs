//! A cache-aside cache (a `Cache` without `backend`) answers only its apps'
//! `CacheAside`, `WriteThrough` and `Invalidate` steps: it holds what those
//! steps set and has nothing to read a miss from. Sent a request as itself
//! (from a source, a station's route, a balancer, a router, a limiter, a
//! CDN's origin, a read-through cache's backend or an app's `Call` or
//! `FanOut`), it would answer every miss as a success with no data and
//! never fill. Such wiring is refused at load, at the field that sends, so
//! the validator, `run` and the sandbox's builder (which commits only what
//! loads) refuse the same thing.

use crate::diag::{Diagnostic, Diagnostics, short};
use crate::kinds::Node;
use crate::topology::check::{Ctx, NodeCheck};

/// Refuses `target` named in `key:` of `item` (written at `at`) when it
/// is a cache-aside cache: requests sent there would be answered with
/// nothing. Unknown targets are left to the caller's own check.
pub(crate) fn refuse_aside(
    cx: &Ctx,
    target: &str,
    key: &str,
    at: Option<usize>,
    item: &str,
    ds: &mut Diagnostics,
) {
    let Some(&ix) = cx.index.get(target) else {
        return;
    };
    let Some(Node::Cache(c)) = cx.nodes.get(ix) else {
        return;
    };
    if c.backend.is_some() {
        return;
    }
    let place = cx.places.find(at.unwrap_or(0), key, target).or(at);
    let t = short(target);
    ds.push(
        Diagnostic::error(format!(
            "`{t}` is a cache-aside Cache (it has no `backend`), but `{key}:` sends requests to it: it would answer every miss as a success, with no data, and never fill"
        ))
        .at(cx.pos(place))
        .on(item)
        .hint(format!(
            "a Cache without `backend` is used only by an app's `CacheAside`, `WriteThrough` and `Invalidate` steps; to put `{t}` on the request path, give it `backend: \"...\"` (the node it reads misses from) to make it read-through"
        )),
    );
}

impl NodeCheck<'_> {
    /// Checks that `target`, named in `key:`, is a node that requests can
    /// be sent to as themselves: any kind but a cache-aside cache.
    pub fn on_path(&self, target: &str, key: &str, ds: &mut Diagnostics) {
        self.target(target, key, &[], ds);
        refuse_aside(self.cx, target, key, self.at, &self.item, ds);
    }
}
