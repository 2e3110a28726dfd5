//! Checking and compiling each node kind and each source's clients.
//!
//! Every check pushes a diagnostic and carries on, so one pass reports every
//! problem; compilation runs only when there were none, and can index freely.

use super::limits::*;
use super::{App, Cache, DEFAULT_CLASS, Node, Source, Station, Step};
use crate::diag::{Diagnostic, Diagnostics, LineIndex, Places, closest_within, short};
use crate::dist::Sampler;
use crate::model::{ClientModel, KindModel, NodeModel, RouteModel, SourceModel, StepModel};
use crate::profile::Profile;
use std::cell::Cell;
use std::collections::BTreeMap;

/// What checks need to know about the file.
pub struct Ctx<'a> {
    /// Where `key: "value"` items are written (for places).
    pub places: &'a Places<'a>,
    /// The file's line starts (for places).
    pub lines: &'a LineIndex<'a>,
    /// Node id to index.
    pub index: &'a BTreeMap<&'a str, usize>,
    /// The nodes as written.
    pub nodes: &'a [Node],
    /// The classes every source can send (sorted).
    pub classes: &'a [String],
    /// Builds the "is not a node" diagnostic with a suggestion.
    pub unknown: &'a dyn Fn(&str) -> Diagnostic,
    /// What is left of the file's budget for suggestions (character pairs
    /// compared, see [`crate::diag::closest_within`]).
    pub suggest: &'a Cell<u64>,
}

impl Ctx<'_> {
    fn pos(&self, at: Option<usize>) -> Option<crate::diag::Pos> {
        at.map(|a| self.lines.pos(a))
    }

    /// The closest of `candidates` to `word`, within the file's
    /// suggestion budget.
    pub fn closest_in<'b>(
        &self,
        word: &str,
        candidates: impl IntoIterator<Item = &'b str>,
    ) -> Option<&'b str> {
        let mut b = self.suggest.get();
        let c = closest_within(word, candidates, &mut b);
        self.suggest.set(b);
        c
    }

    /// The closest class to `class`, within the file's suggestion budget.
    fn closest_class(&self, class: &str) -> Option<&str> {
        self.closest_in(class, self.classes.iter().map(String::as_str))
    }

    fn has_class(&self, class: &str) -> bool {
        self.classes
            .binary_search_by(|c| c.as_str().cmp(class))
            .is_ok()
    }

    /// Checks that `target` names a node of kind `want` (any kind if `None`).
    fn check_target(
        &self,
        target: &str,
        key: &str,
        want: &[&str],
        at: Option<usize>,
        item: &str,
        ds: &mut Diagnostics,
    ) {
        let place = || self.places.find(at.unwrap_or(0), key, target).or(at);
        match self.index.get(target) {
            None => ds.push((self.unknown)(target).at(self.pos(place())).on(item)),
            Some(&i) => {
                let got = self.nodes[i].kind();
                if !want.is_empty() && !want.contains(&got) {
                    let kinds = want.join(" or ");
                    ds.push(
                        Diagnostic::error(format!(
                            "`{target}` is a {got}, but `{key}:` needs a {kinds}"
                        ))
                        .at(self.pos(place()))
                        .on(item)
                        .hint(format!("point `{key}:` at a {kinds} node")),
                    );
                }
            }
        }
    }
}

fn count(what: &str, n: u64, min: u64, max: u64) -> Result<(), String> {
    if n < min {
        Err(format!("`{what}` is {n}; give at least {min}"))
    } else if n > max {
        Err(format!("`{what}` is {n}, over the limit of {max}"))
    } else {
        Ok(())
    }
}

/// The classes sources can send, sorted.
pub fn classes(sources: &[Source]) -> Vec<String> {
    let mut set = std::collections::BTreeSet::new();
    for s in sources {
        match &s.mix {
            Some(m) if !m.is_empty() => set.extend(m.keys().cloned()),
            _ => {
                set.insert(DEFAULT_CLASS.to_string());
            }
        }
    }
    set.into_iter().collect()
}

/// Checks a source's mix, keys and clients.
pub fn check_source_extras(s: &Source, at: Option<usize>, cx: &Ctx, ds: &mut Diagnostics) {
    let item = format!("source `{}`", short(&s.id));
    let err = |m: String| Diagnostic::error(m).at(cx.pos(at)).on(&item);
    if let Some(mix) = &s.mix {
        let mut sum = 0.0;
        for (class, &p) in mix {
            if !p.is_finite() || !(0.0..=1.0).contains(&p) {
                ds.push(err(format!(
                    "the share of class `{class}` is {p}; a share is between 0 and 1"
                )));
            } else {
                sum += p;
            }
        }
        if mix.is_empty() {
            ds.push(
                err("the mix is empty".into())
                    .hint("write e.g. `mix: {\"read\": 0.95, \"write\": 0.05}`, or leave it out"),
            );
        } else if (sum - 1.0).abs() > 1e-6 {
            ds.push(
                err(format!("the mix's shares sum to {sum}, not 1"))
                    .hint("the shares are fractions of the source's requests"),
            );
        }
    }
    if let crate::profile::Arrivals::Closed { users, think } = &s.arrivals {
        if *users == 0 || *users > 1_000_000 {
            ds.push(err(format!(
                "Closed: `users` is {users}; give 1 to 1000000"
            )));
        }
        if let Err(m) = think.check() {
            ds.push(err(format!("Closed: think time: {m}")));
        }
        if s.profile.is_some() {
            ds.push(
                err("a closed-loop source has no rate profile: its users set the pace".into())
                    .hint("change the number of users instead"),
            );
        }
    }
    if let Some(k) = &s.keys
        && let Err(m) = k.check()
    {
        ds.push(err(m));
    }
    if let Some(c) = &s.client {
        if c.timeout.is_some_and(|t| t.0 == 0) {
            ds.push(
                err("the client timeout is 0: every attempt would time out at once".into())
                    .hint("e.g. `timeout: \"2s\"`"),
            );
        }
        if let Some(r) = &c.retries {
            if r.max > 100 {
                ds.push(err(format!("{} retries, over the limit of 100", r.max)));
            }
            if r.budget
                .is_some_and(|b| !b.is_finite() || !(0.0..=10.0).contains(&b))
            {
                ds.push(err(format!(
                    "retry budget {:?}: give a share of first attempts from 0 to 10, e.g. 0.1",
                    r.budget
                )));
            }
        }
        if let Some(b) = &c.breaker {
            if !b.failure_ratio.is_finite()
                || !(0.0..=1.0).contains(&b.failure_ratio)
                || b.failure_ratio == 0.0
            {
                ds.push(err(format!(
                    "breaker: `failure_ratio` is {}; give a share above 0 and at most 1, e.g. 0.5",
                    b.failure_ratio
                )));
            }
            if b.window.0 == 0 || b.open_for.0 == 0 {
                ds.push(err(
                    "breaker: `window` and `open_for` must be longer than 0".into(),
                ));
            }
        }
    }
}

/// Checks one node.
pub fn check_node(n: &Node, at: Option<usize>, cx: &Ctx, ds: &mut Diagnostics) {
    let item = format!("node `{}`", short(n.id()));
    let pos = cx.pos(at);
    let err = |m: String| Diagnostic::error(m).at(pos).on(&item);
    let dist = |what: &str, d: &crate::dist::Dist, ds: &mut Diagnostics| {
        if let Err(m) = d.check() {
            ds.push(err(format!("{what}: {m}")));
        }
    };
    match n {
        Node::Station(st) => check_station(st, &item, at, cx, ds),
        Node::LoadBalancer(lb) => {
            if lb.to.is_empty() {
                ds.push(
                    err("the load balancer has no backends".into())
                        .hint("list them: `to: [\"app-1\", \"app-2\"]`"),
                );
            }
            if lb.to.len() > MAX_ROUTES {
                ds.push(
                    err(format!(
                        "{} backends, over the limit of {MAX_ROUTES}",
                        lb.to.len()
                    ))
                    .hint("list each backend once; for more, put balancers in front of groups of them"),
                );
                return;
            }
            let mut seen = std::collections::BTreeSet::new();
            for b in &lb.to {
                cx.check_target(b, "to", &[], at, &item, ds);
                if b == &lb.id {
                    ds.push(err("the load balancer lists itself as a backend".into()));
                }
                if !seen.insert(b) {
                    ds.push(
                        err(format!("backend `{b}` is listed twice"))
                            .hint("list each backend once"),
                    );
                }
                if let Some(&i) = cx.index.get(b.as_str())
                    && matches!(cx.nodes[i], Node::LoadBalancer(_))
                {
                    ds.push(
                        err(format!("backend `{b}` is another load balancer"))
                            .hint("point load balancers at servers"),
                    );
                }
            }
            if let Some(h) = &lb.health_check {
                if h.every.0 == 0 {
                    ds.push(err("health checks every 0s".into()).hint("e.g. `every: \"5s\"`"));
                }
                if h.unhealthy_after == 0 || h.healthy_after == Some(0) {
                    ds.push(err("health-check thresholds must be at least 1".into()));
                }
            }
        }
        Node::App(app) => {
            if let Err(m) = count("workers", app.workers, 1, MAX_SERVERS) {
                ds.push(err(m));
            }
            if app
                .load_factor
                .is_some_and(|f| !f.is_finite() || !(0.0..=1000.0).contains(&f))
            {
                ds.push(err(format!("`load_factor` is {:?}; give 0 to 1000 (e.g. 2: three times slower when saturated)", app.load_factor)));
            }
            if let Some(n) = app.instances
                && let Err(m) = count("instances", n, 1, 10_000)
            {
                ds.push(err(m));
            }
            if app.workers.saturating_mul(app.instances.unwrap_or(1)) > MAX_SERVERS {
                ds.push(err(format!(
                    "instances x workers is over the limit of {MAX_SERVERS}"
                )));
            }
            if let Some(p) = &app.pool {
                cx.check_target(
                    &p.to,
                    "to",
                    &["Database", "Pooler", "Replica", "ShardRouter"],
                    at,
                    &item,
                    ds,
                );
                if let Err(m) = count("size", p.size, 1, MAX_SERVERS) {
                    ds.push(err(format!("pool: {m}")));
                }
            }
            if let Some(c) = &app.calls {
                if c.timeout.is_some_and(|t| t.0 == 0) {
                    ds.push(err(
                        "calls: `timeout` is 0: every call would time out at once".into(),
                    ));
                }
                if c.retries.as_ref().is_some_and(|r| r.max > 100) {
                    ds.push(err("calls: more than 100 retries".into()));
                }
                if let Some(b) = &c.breaker
                    && (!b.failure_ratio.is_finite()
                        || b.failure_ratio <= 0.0
                        || b.failure_ratio > 1.0
                        || b.window.0 == 0
                        || b.open_for.0 == 0)
                {
                    ds.push(err("calls: the breaker needs a failure_ratio above 0 and at most 1, and a window and open_for above 0".into()));
                }
            }
            if let Some(a) = &app.autoscale {
                if !a.target.is_finite() || a.target <= 0.0 || a.target > 1.0 {
                    ds.push(err(format!("autoscale: `target` is {}; give a utilization above 0 and at most 1, e.g. 0.6", a.target)));
                }
                if a.min == 0 || a.min > a.max || a.max > 10_000 {
                    ds.push(err(format!(
                        "autoscale: min {} and max {} must satisfy 1 <= min <= max <= 10000",
                        a.min, a.max
                    )));
                }
                if a.every.is_some_and(|e| e.0 == 0) {
                    ds.push(err("autoscale: `every` is 0".into()));
                }
                if a.max.saturating_mul(app.workers) > MAX_SERVERS {
                    ds.push(err(format!(
                        "autoscale: max instances x workers is over the limit of {MAX_SERVERS}"
                    )));
                }
            }
            if let Some(q) = app.queue
                && q > MAX_QUEUE
            {
                ds.push(err(format!(
                    "`queue` is {q}, over the limit of {MAX_QUEUE}"
                )));
            }
            dist("service", &app.service, ds);
            for (class, steps) in &app.handle {
                if class != "*" && !cx.has_class(class) {
                    let d = err(format!(
                        "the handler for class `{class}` matches no source's requests"
                    ));
                    ds.push(match cx.closest_class(class) {
                        Some(c) => d.hint(format!(
                            "did you mean `{c}`? (classes: {})",
                            crate::diag::list_names(cx.classes)
                        )),
                        None => d.hint(format!(
                            "the classes are: {} (or `*` for any)",
                            crate::diag::list_names(cx.classes)
                        )),
                    });
                }
                if steps.len() > 64 {
                    ds.push(err(format!(
                        "{} steps for `{class}`, over the limit of 64",
                        steps.len()
                    )));
                    continue;
                }
                for step in steps {
                    match step {
                        Step::Call { to } => {
                            cx.check_target(to, "to", &[], at, &item, ds);
                            if to == &app.id {
                                ds.push(
                                    err("the app calls itself".into())
                                        .hint("a call to itself would never finish"),
                                );
                            }
                        }
                        Step::Read { db } => cx.check_target(
                            db,
                            "db",
                            &[
                                "Database",
                                "Replica",
                                "LoadBalancer",
                                "ShardRouter",
                                "Pooler",
                            ],
                            at,
                            &item,
                            ds,
                        ),
                        Step::Write { db } => {
                            cx.check_target(db, "db", &["Database", "ShardRouter"], at, &item, ds)
                        }
                        Step::Publish { queue } => {
                            cx.check_target(queue, "queue", &["Queue"], at, &item, ds)
                        }
                        Step::ReadFresh {
                            replicas,
                            primary,
                            within,
                        } => {
                            cx.check_target(
                                replicas,
                                "replicas",
                                &["Replica", "LoadBalancer"],
                                at,
                                &item,
                                ds,
                            );
                            cx.check_target(primary, "primary", &["Database"], at, &item, ds);
                            if within.0 == 0 {
                                ds.push(err("ReadFresh: `within` is 0; give the longest replication lag you expect, e.g. \"2s\"".into()));
                            }
                        }
                        Step::CacheAside { cache, db } => {
                            cx.check_target(cache, "cache", &["Cache"], at, &item, ds);
                            cx.check_target(db, "db", &["Database", "ShardRouter"], at, &item, ds);
                        }
                        Step::WriteThrough { cache, db } => {
                            cx.check_target(cache, "cache", &["Cache"], at, &item, ds);
                            cx.check_target(
                                db,
                                "db",
                                &["Database", "ShardRouter", "Pooler"],
                                at,
                                &item,
                                ds,
                            );
                        }
                        Step::Invalidate { cache } => {
                            cx.check_target(cache, "cache", &["Cache"], at, &item, ds)
                        }
                        Step::FanOut {
                            to,
                            count,
                            hedge_after,
                        } => {
                            cx.check_target(to, "to", &[], at, &item, ds);
                            if to == &app.id {
                                ds.push(err("the app fans out to itself".into()));
                            }
                            if *count == 0 || *count > 1000 {
                                ds.push(err(format!("FanOut: `count` is {count}; give 1 to 1000")));
                            }
                            if hedge_after.is_some_and(|h| h.0 == 0) {
                                ds.push(
                                    err("FanOut: `hedge_after` is 0, which would send every call twice at once".into())
                                        .hint("hedge after about the p95 of one call, e.g. \"20ms\""),
                                );
                            }
                        }
                    }
                }
            }
        }
        Node::Cache(c) => {
            if let Err(m) = count("capacity", c.capacity, 0, 1_000_000_000) {
                ds.push(err(m));
            }
            if let Err(m) = count("servers", c.servers.unwrap_or(1), 1, MAX_SERVERS) {
                ds.push(err(m));
            }
            if let Some(j) = c.ttl_jitter
                && (!j.is_finite() || !(0.0..1.0).contains(&j))
            {
                ds.push(err(format!(
                    "`ttl_jitter` is {j}; give a fraction from 0 to below 1, e.g. 0.1"
                )));
            }
            if c.ttl.is_some_and(|t| t.0 == 0) {
                ds.push(
                    err("`ttl` is 0: nothing would ever be cached".into())
                        .hint("leave `ttl` out to keep entries until evicted"),
                );
            }
            dist("service", &c.service, ds);
        }
        Node::Cdn(c) => {
            cx.check_target(&c.origin, "origin", &[], at, &item, ds);
            if c.origin == c.id {
                ds.push(err("the CDN is its own origin".into()));
            }
            if let Err(m) = count("capacity", c.capacity, 0, 1_000_000_000) {
                ds.push(err(m));
            }
            if let Err(m) = count("servers", c.servers.unwrap_or(100_000), 1, MAX_SERVERS) {
                ds.push(err(m));
            }
            if c.ttl.is_some_and(|t| t.0 == 0) {
                ds.push(err("`ttl` is 0: nothing would ever be cached".into()));
            }
            for class in c.cacheable.iter().flatten() {
                if !cx.has_class(class) {
                    let d = err(format!(
                        "`cacheable` names class `{class}`, which no source sends"
                    ));
                    ds.push(match cx.closest_class(class) {
                        Some(x) => d.hint(format!("did you mean `{x}`?")),
                        None => d.hint(format!(
                            "the classes are: {}",
                            crate::diag::list_names(cx.classes)
                        )),
                    });
                }
            }
            dist("service", &c.service, ds);
        }
        Node::Pooler(p) => {
            cx.check_target(
                &p.to,
                "to",
                &["Database", "Replica", "ShardRouter"],
                at,
                &item,
                ds,
            );
            if let Err(m) = count("connections", p.connections, 1, MAX_SERVERS) {
                ds.push(err(m));
            }
        }
        Node::Queue(q) => {
            if let Err(m) = count("workers", q.workers, 1, MAX_SERVERS) {
                ds.push(err(m));
            }
            if let Some(c) = q.capacity
                && c > MAX_QUEUE
            {
                ds.push(err(format!(
                    "`capacity` is {c}, over the limit of {MAX_QUEUE}"
                )));
            }
            if q.visibility_timeout.is_some_and(|v| v.0 == 0) {
                ds.push(err(
                    "`visibility_timeout` is 0: every message would be delivered again at once"
                        .into(),
                ));
            }
            if q.max_deliveries.is_some_and(|m| m == 0 || m > 100) {
                ds.push(err(format!(
                    "`max_deliveries` is {:?}; give 1 to 100",
                    q.max_deliveries
                )));
            }
            dist("service", &q.service, ds);
        }
        Node::ShardRouter(r) => {
            if r.shards.is_empty() || r.shards.len() > MAX_ROUTES {
                ds.push(err(format!(
                    "{} shards; give 1 to {MAX_ROUTES}",
                    r.shards.len()
                )));
                if r.shards.len() > MAX_ROUTES {
                    return;
                }
            }
            let mut seen = std::collections::BTreeSet::new();
            for sh in &r.shards {
                cx.check_target(sh, "shards", &[], at, &item, ds);
                if sh == &r.id {
                    ds.push(err("the router lists itself as a shard".into()));
                }
                if !seen.insert(sh) {
                    ds.push(err(format!("shard `{sh}` is listed twice")));
                }
            }
            if let Some(a) = r.active
                && (a == 0 || a as usize > r.shards.len())
            {
                ds.push(err(format!(
                    "`active` is {a}; give 1 to the number of shards ({})",
                    r.shards.len()
                )));
            }
        }
        Node::RateLimiter(l) => {
            cx.check_target(&l.to, "to", &[], at, &item, ds);
            if l.to == l.id {
                ds.push(err("the rate limiter sends to itself".into()));
            }
            if !l.limit.is_finite() || l.limit <= 0.0 || l.limit > MAX_RPS {
                ds.push(err(format!(
                    "`limit` is {}; give a number of requests above 0",
                    l.limit
                )));
            }
            if l.per.0 == 0 {
                ds.push(err("`per` is 0".into()).hint("e.g. `per: \"1s\"`"));
            }
            if l.burst.is_some_and(|b| !b.is_finite() || b < 1.0) {
                ds.push(err(format!("`burst` is {:?}; give at least 1", l.burst)));
            }
        }
        Node::Replica(r) => {
            cx.check_target(&r.primary, "primary", &["Database"], at, &item, ds);
            for m in database_limits(r.servers, r.max_connections, r.queue) {
                ds.push(err(m));
            }
            dist("read", &r.read, ds);
            dist("lag", &r.lag, ds);
        }
        Node::Database(d) => {
            for m in database_limits(d.servers, d.max_connections, d.queue) {
                ds.push(err(m));
            }
            if d.load_factor
                .is_some_and(|f| !f.is_finite() || !(0.0..=1000.0).contains(&f))
            {
                ds.push(err(format!(
                    "`load_factor` is {:?}; give 0 to 1000",
                    d.load_factor
                )));
            }
            dist("read", &d.read, ds);
            dist("write", &d.write, ds);
            if let Some(f) = &d.failover {
                cx.check_target(&f.to, "to", &["Replica"], at, &item, ds);
                if f.after.0 == 0 {
                    ds.push(err(
                        "failover: `after` is 0; promotion takes detection time, e.g. \"30s\""
                            .into(),
                    ));
                }
            }
        }
    }
}

/// The limits a database or replica shares: cores, connections, queue.
fn database_limits(servers: u64, max_connections: Option<u64>, queue: Option<u64>) -> Vec<String> {
    let mut out: Vec<String> = count("servers", servers, 1, MAX_SERVERS)
        .err()
        .into_iter()
        .collect();
    if let Some(m) = max_connections {
        out.extend(count("max_connections", m, 1, MAX_SERVERS).err());
    }
    if let Some(q) = queue
        && q > MAX_QUEUE
    {
        out.push(format!("`queue` is {q}, over the limit of {MAX_QUEUE}"));
    }
    out
}

fn check_station(st: &Station, item: &str, at: Option<usize>, cx: &Ctx, ds: &mut Diagnostics) {
    let pos = cx.pos(at);
    if st.servers == 0 {
        ds.push(
            Diagnostic::error("`servers` is 0: nothing would ever be served")
                .at(pos)
                .on(item)
                .hint("give at least 1 server"),
        );
    } else if st.servers > MAX_SERVERS {
        ds.push(
            Diagnostic::error(format!(
                "`servers` is {}, over the limit of {MAX_SERVERS}",
                st.servers
            ))
            .at(pos)
            .on(item),
        );
    }
    if let Some(q) = st.queue
        && q > MAX_QUEUE
    {
        ds.push(
            Diagnostic::error(format!("`queue` is {q}, over the limit of {MAX_QUEUE}"))
                .at(pos)
                .on(item)
                .hint("leave `queue` out for an unbounded queue"),
        );
    }
    if let Err(m) = st.service.check() {
        ds.push(Diagnostic::error(m).at(pos).on(item));
    }
    if st.routes.len() > MAX_ROUTES {
        ds.push(
            Diagnostic::error(format!(
                "{} routes, over the limit of {MAX_ROUTES}",
                st.routes.len()
            ))
            .at(pos)
            .on(item),
        );
        return;
    }
    let mut sum = 0.0;
    let mut from = at.unwrap_or(0);
    for r in &st.routes {
        let rat = cx.places.find(from, "to", &r.to);
        if let Some(a) = rat {
            from = a;
        }
        if !cx.index.contains_key(r.to.as_str()) {
            ds.push((cx.unknown)(&r.to).at(cx.pos(rat.or(at))).on(item));
        }
        if !r.p.is_finite() || r.p < 0.0 || r.p > 1.0 {
            ds.push(
                Diagnostic::error(format!(
                    "route to `{}` has p = {}; a probability is between 0 and 1",
                    r.to, r.p
                ))
                .at(cx.pos(rat.or(at)))
                .on(item),
            );
        } else {
            sum += r.p;
        }
    }
    if sum > 1.0 + 1e-9 {
        ds.push(
            Diagnostic::error(format!("route probabilities sum to {sum}, more than 1"))
                .at(pos)
                .on(item)
                .hint("the probabilities are shares of the requests leaving the node; what is left over leaves the system"),
        );
    }
}

/// Compiles a source (after checks).
pub fn compile_source(
    s: &Source,
    index: &BTreeMap<&str, usize>,
    classes: &[String],
) -> SourceModel {
    let class_of = |name: &str| {
        classes
            .binary_search_by(|c| c.as_str().cmp(name))
            .unwrap_or(0) as u16
    };
    let mix = match &s.mix {
        Some(m) if !m.is_empty() => {
            let mut cum = 0.0;
            m.iter()
                .map(|(c, &p)| {
                    cum += p;
                    (cum, class_of(c))
                })
                .collect()
        }
        _ => vec![(1.0, class_of(DEFAULT_CLASS))],
    };
    let client = s.client.as_ref().map_or(ClientModel::default(), |c| {
        let r = c.retries.as_ref();
        ClientModel {
            timeout: c.timeout.map(|t| t.0),
            retries: r.map_or(0, |r| r.max),
            backoff: r.map_or(0, |r| r.backoff.0),
            cap: r.map_or(0, |r| r.cap.map_or(u64::MAX, |c| c.0)),
            jitter: r.map_or_else(Default::default, |r| r.jitter),
            budget: r.and_then(|r| r.budget),
            respect_retry_after: c.respect_retry_after.unwrap_or(true),
            breaker: c.breaker.as_ref().map(|b| {
                (
                    b.failure_ratio,
                    b.window.0,
                    b.min_requests.unwrap_or(10),
                    b.open_for.0,
                )
            }),
        }
    });
    SourceModel {
        id: s.id.clone(),
        to: index[s.to.as_str()],
        rps: s.arrivals.rps(),
        profile: s.profile.clone().unwrap_or(Profile::Constant),
        mix,
        keys: s.keys.as_ref().map(|k| k.sampler()),
        client,
        ips: s.ips.unwrap_or(1).max(1),
        closed: match &s.arrivals {
            crate::profile::Arrivals::Closed { users, think } => {
                Some((*users as u32, think.sampler()))
            }
            _ => None,
        },
    }
}

/// Share of all traffic that is of each class (weighted by source rates).
pub fn class_shares(sources: &[SourceModel], classes: usize) -> Vec<f64> {
    let total: f64 = sources.iter().map(|s| s.rps).sum();
    let mut share = vec![0.0; classes];
    for s in sources {
        let mut prev = 0.0;
        for &(cum, c) in &s.mix {
            let w = if total > 0.0 {
                s.rps / total
            } else {
                1.0 / sources.len() as f64
            };
            share[c as usize] += (cum - prev) * w;
            prev = cum;
        }
    }
    share
}

/// Compiles a node (after checks).
pub fn compile_node(
    n: &Node,
    index: &BTreeMap<&str, usize>,
    classes: &[String],
    shares: &[f64],
) -> NodeModel {
    let ix = |id: &str| index[id] as u32;
    let base =
        |id: &str, kind_name, kind, servers: u64, queue: Option<u64>, service: Sampler| NodeModel {
            id: id.to_string(),
            kind_name,
            kind,
            servers: servers.min(u32::MAX as u64) as u32,
            queue: queue.map(|q| q as u32),
            service,
            routes: Vec::new(),
            flows: Vec::new(),
            exit: 1.0,
            behind_cache: None,
            load_factor: 0.0,
        };
    match n {
        Node::Station(st) => {
            let routes: Vec<RouteModel> = st
                .routes
                .iter()
                .filter(|r| r.p > 0.0)
                .map(|r| RouteModel {
                    to: index[r.to.as_str()],
                    p: r.p,
                })
                .collect();
            let mut m = base(
                &st.id,
                "Station",
                KindModel::Station,
                st.servers,
                st.queue,
                st.service.sampler(),
            );
            m.exit = (1.0 - routes.iter().map(|r| r.p).sum::<f64>()).max(0.0);
            m.flows = routes.clone();
            m.routes = routes;
            m
        }
        Node::LoadBalancer(lb) => {
            let backends: Vec<u32> = lb.to.iter().map(|b| ix(b)).collect();
            let health = lb
                .health_check
                .as_ref()
                .map(|h| (h.every.0, h.unhealthy_after, h.healthy_after.unwrap_or(1)));
            let share = 1.0 / backends.len().max(1) as f64;
            let mut m = base(
                &lb.id,
                "LoadBalancer",
                KindModel::LoadBalancer {
                    backends: backends.clone(),
                    policy: lb.policy,
                    health,
                },
                u32::MAX as u64,
                None,
                Sampler::Constant(0.0),
            );
            m.flows = backends
                .iter()
                .map(|&b| RouteModel {
                    to: b as usize,
                    p: share,
                })
                .collect();
            m.exit = 0.0;
            m
        }
        Node::App(app) => compile_app(app, index, classes, shares),
        Node::Pooler(p) => {
            let mut m = base(
                &p.id,
                "Pooler",
                KindModel::Pooler { to: ix(&p.to) },
                p.connections,
                p.queue,
                Sampler::Constant(0.0),
            );
            m.flows = vec![RouteModel {
                to: index[p.to.as_str()],
                p: 1.0,
            }];
            m
        }
        Node::Queue(q) => base(
            &q.id,
            "Queue",
            KindModel::Queue {
                visibility: q.visibility_timeout.map_or(30 * crate::time::SEC, |v| v.0),
                max_deliveries: q.max_deliveries.unwrap_or(3),
                backoff: q.backoff.map_or(crate::time::SEC, |b| b.0),
                dead_letter: q.dead_letter.unwrap_or(true),
                idempotent: q.idempotent,
            },
            q.workers,
            q.capacity,
            q.service.sampler(),
        ),
        Node::ShardRouter(r) => {
            let shards: Vec<u32> = r.shards.iter().map(|x| ix(x)).collect();
            let active = r.active.unwrap_or(shards.len() as u32);
            let share = 1.0 / active.max(1) as f64;
            let mut m = base(
                &r.id,
                "ShardRouter",
                KindModel::ShardRouter {
                    shards: shards.clone(),
                    scheme: r.scheme,
                    active,
                },
                u32::MAX as u64,
                None,
                Sampler::Constant(0.0),
            );
            m.flows = shards
                .iter()
                .take(active as usize)
                .map(|&x| RouteModel {
                    to: x as usize,
                    p: share,
                })
                .collect();
            m.exit = 0.0;
            m
        }
        Node::RateLimiter(l) => {
            let mut m = base(
                &l.id,
                "RateLimiter",
                KindModel::RateLimiter {
                    to: ix(&l.to),
                    rate: l.limit / l.per.0 as f64,
                    burst: l.burst.unwrap_or(l.limit),
                    window: l.per.0,
                    algorithm: l.algorithm,
                    by: l.by,
                },
                u32::MAX as u64,
                None,
                Sampler::Constant(0.0),
            );
            m.flows = vec![RouteModel {
                to: index[l.to.as_str()],
                p: 1.0,
            }];
            m.exit = 0.0;
            m
        }
        Node::Replica(r) => base(
            &r.id,
            "Replica",
            KindModel::Replica {
                primary: ix(&r.primary),
                max_connections: r.max_connections.map(|c| c as u32),
                lag: r.lag.sampler(),
            },
            r.servers,
            r.queue,
            r.read.sampler(),
        ),
        Node::Cdn(c) => {
            let cacheable = classes
                .iter()
                .map(|k| c.cacheable.as_ref().is_none_or(|list| list.contains(k)))
                .collect();
            let mut m = base(
                &c.id,
                "Cdn",
                KindModel::Cdn {
                    origin: ix(&c.origin),
                    capacity: c.capacity,
                    ttl: c.ttl.map_or(u64::MAX, |t| t.0),
                    cacheable,
                },
                c.servers.unwrap_or(100_000),
                None,
                c.service.sampler(),
            );
            m.flows = vec![RouteModel {
                to: index[c.origin.as_str()],
                p: 1.0,
            }];
            m
        }
        Node::Cache(c) => compile_cache(c),
        Node::Database(d) => {
            let mut m = base(
                &d.id,
                "Database",
                KindModel::Database {
                    max_connections: d.max_connections.map(|c| c as u32),
                    write: d.write.sampler(),
                    idempotent: d.idempotency_keys,
                    failover: d
                        .failover
                        .as_ref()
                        .map(|f| (ix(&f.to), f.after.0, f.synchronous)),
                },
                d.servers,
                d.queue,
                d.read.sampler(),
            );
            m.exit = 1.0;
            m.load_factor = d.load_factor.unwrap_or(0.0);
            m
        }
    }
}

fn compile_app(
    app: &App,
    index: &BTreeMap<&str, usize>,
    classes: &[String],
    shares: &[f64],
) -> NodeModel {
    let ix = |id: &str| index[id] as u32;
    let compile_steps = |steps: &Vec<Step>| -> Vec<StepModel> {
        steps
            .iter()
            .map(|s| match s {
                Step::Call { to } => StepModel::Call(ix(to)),
                Step::Read { db } => StepModel::Read(ix(db)),
                Step::ReadFresh {
                    replicas,
                    primary,
                    within,
                } => StepModel::ReadFresh {
                    replicas: ix(replicas),
                    primary: ix(primary),
                    within: within.0,
                },
                Step::Write { db } => StepModel::Write(ix(db)),
                Step::CacheAside { cache, db } => StepModel::CacheAside {
                    cache: ix(cache),
                    db: ix(db),
                },
                Step::Invalidate { cache } => StepModel::Invalidate(ix(cache)),
                Step::WriteThrough { cache, db } => StepModel::WriteThrough {
                    cache: ix(cache),
                    db: ix(db),
                },
                Step::Publish { queue } => StepModel::Publish(ix(queue)),
                Step::FanOut {
                    to,
                    count,
                    hedge_after,
                } => StepModel::FanOut {
                    to: ix(to),
                    count: (*count).min(1000) as u16,
                    hedge_after: hedge_after.map_or(u64::MAX, |h| h.0),
                },
            })
            .collect()
    };
    let fallback = app.handle.get("*").map(compile_steps).unwrap_or_default();
    let handlers: Vec<Vec<StepModel>> = classes
        .iter()
        .map(|c| {
            app.handle
                .get(c)
                .map(compile_steps)
                .unwrap_or_else(|| fallback.clone())
        })
        .collect();
    // Flows: each step's targets, weighted by the share of its class.
    let mut flows: BTreeMap<usize, f64> = BTreeMap::new();
    for (c, steps) in handlers.iter().enumerate() {
        for s in steps {
            let (targets, times): (&[u32], f64) = match s {
                StepModel::Call(t)
                | StepModel::Read(t)
                | StepModel::Write(t)
                | StepModel::Invalidate(t) => (&[*t][..], 1.0),
                StepModel::CacheAside { cache, db } => (&[*cache, *db][..], 1.0),
                StepModel::WriteThrough { cache, db } => (&[*cache, *db][..], 1.0),
                StepModel::ReadFresh { replicas, .. } => (&[*replicas][..], 1.0),
                StepModel::Publish(q) => (&[*q][..], 1.0),
                StepModel::FanOut { to, count, .. } => (&[*to][..], *count as f64),
            };
            for &t in targets {
                *flows.entry(t as usize).or_default() += shares[c] * times;
            }
        }
    }
    let instances = app.instances.unwrap_or(1).max(1) as u32;
    let workers = app.workers as u32;
    NodeModel {
        id: app.id.clone(),
        kind_name: "App",
        kind: KindModel::App {
            handlers,
            instances,
            workers,
            queue: app.queue.map(|q| q as u32),
            pool: app.pool.as_ref().map(|p| (ix(&p.to), p.size as u32)),
            calls: app.calls.as_ref().map(|c| {
                let r = c.retries.as_ref();
                ClientModel {
                    timeout: c.timeout.map(|t| t.0),
                    retries: r.map_or(0, |r| r.max),
                    backoff: r.map_or(0, |r| r.backoff.0),
                    cap: r.map_or(0, |r| r.cap.map_or(u64::MAX, |c| c.0)),
                    jitter: r.map_or_else(Default::default, |r| r.jitter),
                    budget: r.and_then(|r| r.budget),
                    respect_retry_after: true,
                    breaker: c.breaker.as_ref().map(|b| {
                        (
                            b.failure_ratio,
                            b.window.0,
                            b.min_requests.unwrap_or(10),
                            b.open_for.0,
                        )
                    }),
                }
            }),
            autoscale: app.autoscale.as_ref().map(|a| {
                (
                    a.target,
                    a.min as u32,
                    a.max as u32,
                    a.every.map_or(15 * crate::time::SEC, |d| d.0),
                    a.provision.map_or(60 * crate::time::SEC, |d| d.0),
                    a.cooldown.map_or(300 * crate::time::SEC, |d| d.0),
                )
            }),
        },
        load_factor: app.load_factor.unwrap_or(0.0),
        servers: workers.saturating_mul(instances),
        queue: app.queue.map(|q| (q as u32).saturating_mul(instances)),
        service: app.service.sampler(),
        routes: Vec::new(),
        flows: flows
            .into_iter()
            .map(|(to, p)| RouteModel { to, p })
            .collect(),
        exit: 1.0,
        behind_cache: None,
    }
}

fn compile_cache(c: &Cache) -> NodeModel {
    NodeModel {
        id: c.id.clone(),
        kind_name: "Cache",
        kind: KindModel::Cache {
            capacity: c.capacity,
            eviction: c.eviction,
            ttl: c.ttl.map_or(u64::MAX, |t| t.0),
            jitter: c.ttl_jitter.unwrap_or(0.0),
            single_flight: c.single_flight,
            swr: c.stale_while_revalidate.map_or(0, |d| d.0),
        },
        servers: c.servers.unwrap_or(1) as u32,
        queue: None,
        service: c.service.sampler(),
        routes: Vec::new(),
        flows: Vec::new(),
        exit: 1.0,
        behind_cache: None,
        load_factor: 0.0,
    }
}

/// Regions checked and compiled: (names, region of each node, region of
/// each source, one-way latency matrix in ns).
pub type Regions = (Vec<String>, Vec<u16>, Vec<u16>, Vec<Vec<u64>>);

/// Checks the regions and links and compiles them.
pub fn compile_regions(top: &super::Topology, cx: &Ctx, ds: &mut Diagnostics) -> Regions {
    use crate::model::NO_REGION;
    let mut node_region = vec![NO_REGION; top.nodes.len()];
    let mut source_region = vec![NO_REGION; top.sources.len()];
    let at = |key: &str, v: &str| cx.pos(cx.places.find(0, key, v));
    let max_links = MAX_REGIONS * (MAX_REGIONS - 1) / 2;
    if top.regions.len() > MAX_REGIONS || top.links.len() > max_links {
        ds.push(
            Diagnostic::error(format!(
                "{} regions and {} links, over the limit of {MAX_REGIONS} regions (and {max_links} links, one per pair)",
                top.regions.len(),
                top.links.len()
            ))
            .at(at("id", top.regions.first().map_or("", |r| r.id.as_str())))
            .hint("a region is a data centre: model a few, each with its own nodes"),
        );
        return (Vec::new(), node_region, source_region, Vec::new());
    }
    let names: Vec<String> = top.regions.iter().map(|r| r.id.clone()).collect();
    let region_index: BTreeMap<&str, usize> = names
        .iter()
        .enumerate()
        .rev()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let source_index: BTreeMap<&str, usize> = top
        .sources
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for (ri, r) in top.regions.iter().enumerate() {
        let item = format!("region `{}`", r.id);
        if !seen.insert(r.id.as_str()) {
            ds.push(
                Diagnostic::error(format!("the region `{}` is listed twice", r.id))
                    .at(at("id", &r.id))
                    .on(&item),
            );
        }
        for n in &r.nodes {
            match cx.index.get(n.as_str()) {
                None => ds.push((cx.unknown)(n).at(at("id", &r.id)).on(&item)),
                Some(&i) if node_region[i] != NO_REGION => ds.push(
                    Diagnostic::error(format!("node `{n}` is in two regions"))
                        .at(at("id", &r.id))
                        .on(&item)
                        .hint("a node is in one data centre; give each region its own copy"),
                ),
                Some(&i) => node_region[i] = ri as u16,
            }
        }
        for s in &r.sources {
            match source_index.get(s.as_str()) {
                None => ds.push(
                    Diagnostic::error(format!("`{s}` is not a source"))
                        .at(at("id", &r.id))
                        .on(&item),
                ),
                Some(&i) => source_region[i] = ri as u16,
            }
        }
    }
    let n = names.len();
    let mut latency = vec![vec![u64::MAX; n]; n];
    for (i, row) in latency.iter_mut().enumerate() {
        row[i] = 0;
    }
    for l in &top.links {
        let (a, b) = (
            region_index.get(l.a.as_str()).copied(),
            region_index.get(l.b.as_str()).copied(),
        );
        match (a, b) {
            (Some(a), Some(b)) if a != b => {
                if l.latency.0 > 10 * crate::time::SEC {
                    ds.push(Diagnostic::error(format!(
                        "the link `{}`-`{}` has {} of latency, over the limit of 10s",
                        l.a, l.b, l.latency
                    )));
                }
                latency[a][b] = l.latency.0;
                latency[b][a] = l.latency.0;
            }
            _ => {
                let bad = if a.is_none() { &l.a } else { &l.b };
                let d = Diagnostic::error(format!(
                    "a link names `{bad}`, which is not a region (or links a region to itself)"
                ))
                .at(at("a", &l.a));
                ds.push(match cx.closest_in(bad, names.iter().map(String::as_str)) {
                    Some(x) => d.hint(format!("did you mean `{x}`?")),
                    None => d.hint(format!(
                        "the regions are: {}",
                        crate::diag::list_names(&names)
                    )),
                });
            }
        }
    }
    for a in 0..n {
        for b in a + 1..n {
            if latency[a][b] == u64::MAX {
                ds.push(
                    Diagnostic::error(format!(
                        "no link between regions `{}` and `{}`",
                        names[a], names[b]
                    ))
                    .hint(format!(
                        "add `Link(a: \"{}\", b: \"{}\", latency: \"40ms\")` to `links`",
                        names[a], names[b]
                    )),
                );
                latency[a][b] = 0;
                latency[b][a] = 0;
            }
        }
    }
    (names, node_region, source_region, latency)
}
