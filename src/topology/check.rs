//! What the checks of every kind share ([`Ctx`], [`NodeCheck`], [`CompileCx`])
//! and the checks and compilation of sources, clients and regions. Each
//! kind's own checks and compilation live in its module under
//! [`crate::kinds`].
//!
//! Every check pushes a diagnostic and carries on, so one pass reports every
//! problem; compilation runs only when there were none, and can index freely.

use super::limits::*;
use super::{DEFAULT_CLASS, Node, Source};
use crate::diag::{Diagnostic, Diagnostics, LineIndex, Places, closest_within, short};
use crate::model::{ClientModel, SourceModel};
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
    pub(crate) fn pos(&self, at: Option<usize>) -> Option<crate::diag::Pos> {
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
    pub(crate) fn closest_class(&self, class: &str) -> Option<&str> {
        self.closest_in(class, self.classes.iter().map(String::as_str))
    }

    pub(crate) fn has_class(&self, class: &str) -> bool {
        self.classes.iter().any(|c| c == class)
    }

    /// Checks that `target` names a node of kind `want` (any kind if `None`).
    pub(crate) fn check_target(
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
                            "`{target}` is {}, but `{key}:` needs {}",
                            crate::fmt::a(got),
                            crate::fmt::a(&kinds)
                        ))
                        .at(self.pos(place()))
                        .on(item)
                        .hint(format!("point `{key}:` at {} node", crate::fmt::a(&kinds))),
                    );
                }
            }
        }
    }
}

/// `what` is `n`: within `min..=max`, or a message saying which way it is out.
pub(crate) fn count(what: &str, n: u64, min: u64, max: u64) -> Result<(), String> {
    if n < min {
        Err(format!("`{what}` is {n}; give at least {min}"))
    } else if n > max {
        Err(format!("`{what}` is {n}, over the limit of {max}"))
    } else {
        Ok(())
    }
}

/// What is wrong with a retry policy's budget: `budget` and `limit`
/// together, or a limit's numbers out of range. Each message says how to
/// put it right.
pub fn retry_limit_problems(r: &crate::topology::Retries) -> Vec<String> {
    use crate::topology::RetryLimit;
    let mut out = Vec::new();
    let bad = |v: f64, lo: f64, hi: f64| !v.is_finite() || v < lo || v > hi;
    const MAX_TOKENS: f64 = 1e9;
    match r.limit {
        None => {}
        Some(_) if r.budget.is_some() => out.push(
            "retries: both `budget` and `limit` are given; keep one (`limit` is the richer form)"
                .into(),
        ),
        Some(RetryLimit::TokenBucket {
            capacity,
            cost,
            timeout_cost,
            per_success,
        }) => {
            if bad(capacity, 0.0, MAX_TOKENS) {
                out.push(format!(
                    "retries: TokenBucket `capacity` is {capacity}; give 0 to {MAX_TOKENS} tokens (AWS: 500)"
                ));
            }
            for (name, v) in [
                ("cost", cost),
                ("timeout_cost", timeout_cost),
                ("per_success", per_success),
            ] {
                if let Some(v) = v
                    && bad(v, 0.0, MAX_TOKENS)
                {
                    out.push(format!(
                        "retries: TokenBucket `{name}` is {v}; give 0 to {MAX_TOKENS} tokens"
                    ));
                }
            }
        }
        Some(RetryLimit::Finagle {
            percent,
            min_per_second,
            ttl,
        }) => {
            if bad(percent, 0.0, 10.0) {
                out.push(format!(
                    "retries: Finagle `percent` is {percent}; give a share of requests from 0 to 10 (Finagle's default is 0.2)"
                ));
            }
            if let Some(m) = min_per_second
                && bad(m, 0.0, 1e6)
            {
                out.push(format!(
                    "retries: Finagle `min_per_second` is {m}; give 0 to 1000000 (Finagle's default is 10)"
                ));
            }
            if let Some(t) = ttl
                && !(crate::time::SEC..=60 * crate::time::SEC).contains(&t.0)
            {
                out.push(format!(
                    "retries: Finagle `ttl` is {t}; give 1s to 60s (Finagle's default is 10s)"
                ));
            }
        }
    }
    out
}

/// The classes sources can send, sorted.
pub fn classes(sources: &[Source]) -> Vec<String> {
    let mut set = std::collections::BTreeSet::new();
    for s in sources {
        match &s.mix {
            Some(m) if !m.is_empty() => set.extend(m.keys().cloned()),
            _ => match session_tasks(s) {
                Some(spec) if !spec.tasks.is_empty() => {
                    set.extend(spec.classes().into_iter().map(str::to_string))
                }
                _ => {
                    set.insert(DEFAULT_CLASS.to_string());
                }
            },
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
    if let Some(n) = s.ips
        && !(1..=super::limits::MAX_IPS).contains(&n)
    {
        ds.push(
            err(format!(
                "`ips` is {n}; give 1 to {}",
                super::limits::MAX_IPS
            ))
            .hint("the client IP addresses the requests come from; leave it out for one"),
        );
    }
    // A class name is printed in tables and series: a line break or
    // another control character in it would break them.
    let named: Vec<String> = match (&s.mix, session_tasks(s)) {
        (Some(m), _) => m.keys().cloned().collect(),
        (None, Some(spec)) => spec.classes().into_iter().map(str::to_string).collect(),
        _ => Vec::new(),
    };
    if let Some(bad) = named.iter().find(|c| c.chars().any(char::is_control)) {
        ds.push(
            err(format!(
                "the class name {:?} holds a control character (a line break, tab, ...), which would break the report's tables",
                short(bad)
            ))
            .hint("name classes with letters, digits, spaces and punctuation, e.g. \"checkout\""),
        );
    }
    if let Some(tasks) = session_tasks(s) {
        check_session(s, tasks, at, cx, ds);
    }
    if let crate::profile::Arrivals::Closed { users, think, .. } = &s.arrivals {
        if *users == 0 || *users > 1_000_000 {
            ds.push(
                err(format!("Closed: `users` is {users}; give 1 to 1000000"))
                    .hint("a closed loop simulates each user; for more traffic, shorten `think` or use `Poisson(rps: ...)`"),
            );
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
    if let crate::profile::Arrivals::Burst { count, .. } = &s.arrivals {
        if *count == 0 || *count > MAX_BURST {
            ds.push(
                err(format!("Burst: `count` is {count}; give 1 to {MAX_BURST}"))
                    .hint("a burst sends exactly `count` requests at the instant `at`"),
            );
        }
        if s.profile.is_some() {
            ds.push(
                err("a burst has no rate profile: all its requests come at once".into())
                    .hint("use several sources for several bursts, or a Poisson source with a `Spike` profile"),
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
            for m in retry_limit_problems(r) {
                ds.push(err(m));
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

/// A session source's settings (`Closed(..., tasks: [...])`), if it has them.
pub fn session_tasks(s: &Source) -> Option<crate::sessions::Spec<'_>> {
    crate::sessions::Spec::of(&s.arrivals)
}

/// Checks a session source's tasks against the apps' handlers.
fn check_session(
    s: &Source,
    tasks: crate::sessions::Spec,
    at: Option<usize>,
    cx: &Ctx,
    ds: &mut Diagnostics,
) {
    let mut names: Vec<&str> = Vec::new();
    let mut star = false;
    for n in cx.nodes {
        if let Node::App(app) = n {
            for c in app.handle.keys() {
                if c == "*" {
                    star = true;
                } else {
                    names.push(c);
                }
            }
        }
    }
    names.sort_unstable();
    names.dedup();
    let item = format!("source `{}`", short(&s.id));
    let found = crate::sessions::problems(&tasks, s.mix.is_some(), s.ips.is_some(), (&names, star));
    for (message, hint, anchor) in found {
        let place = anchor.and_then(|a| super::anchor::place(cx, at, &a)).or(at);
        let d = Diagnostic::error(message).at(cx.pos(place)).on(&item);
        ds.push(if hint.is_empty() { d } else { d.hint(hint) });
    }
}

/// Most requests in one burst.
pub const MAX_BURST: u64 = 1_000_000;

/// Compiles a source (after checks).
pub fn compile_source(
    s: &Source,
    index: &BTreeMap<&str, usize>,
    classes: &[String],
) -> SourceModel {
    let class_of = |name: &str| classes.iter().position(|c| c == name).unwrap_or(0) as u16;
    let session =
        session_tasks(s).map(|spec| crate::sessions::SessionModel::compile(&spec, class_of));
    let mix = match &s.mix {
        _ if session.is_some() => session.as_ref().map(|m| m.mix()).unwrap_or_default(),
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
            limit: r.and_then(|r| r.limit),
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
        burst: match &s.arrivals {
            crate::profile::Arrivals::Burst { count, at } => Some((*count as u32, at.0)),
            _ => None,
        },
        closed: match &s.arrivals {
            crate::profile::Arrivals::Closed { users, think, .. } => {
                Some((*users as u32, think.sampler()))
            }
            _ => None,
        },
        session,
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
    let errors_before = ds.error_count();
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
                Some(&i) if node_region[i] == ri as u16 => ds.push(
                    Diagnostic::error(format!("node `{n}` is listed twice in region `{}`", r.id))
                        .at(at("id", &r.id))
                        .on(&item)
                        .hint("list it once"),
                ),
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
                Some(&i) if source_region[i] == ri as u16 => ds.push(
                    Diagnostic::error(format!("source `{s}` is listed twice in region `{}`", r.id))
                        .at(at("id", &r.id))
                        .on(&item)
                        .hint("list it once"),
                ),
                Some(&i) if source_region[i] != NO_REGION => ds.push(
                    Diagnostic::error(format!("source `{s}` is in two regions"))
                        .at(at("id", &r.id))
                        .on(&item)
                        .hint("a source's users are in one place; split them into two sources, one per region"),
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
    // Each link's place: the `a:` of the n-th link, searched in file order.
    let mut from = 0;
    let mut linked: BTreeMap<(usize, usize), crate::time::Duration> = BTreeMap::new();
    for l in &top.links {
        let here = cx.places.find(from, "a", &l.a);
        if let Some(h) = here {
            from = h + 1;
        }
        let place = cx.pos(here);
        let (a, b) = (
            region_index.get(l.a.as_str()).copied(),
            region_index.get(l.b.as_str()).copied(),
        );
        match (a, b) {
            (Some(a), Some(b)) if a == b => ds.push(
                Diagnostic::error(format!("this link joins region `{}` to itself", l.a))
                    .at(place)
                    .hint("calls within a region take no network time: remove the link"),
            ),
            (Some(a), Some(b)) => {
                if l.latency.0 > 10 * crate::time::SEC {
                    ds.push(
                        Diagnostic::error(format!(
                            "the link `{}`-`{}` has {} of latency, over the limit of 10s",
                            l.a, l.b, l.latency
                        ))
                        .at(place)
                        .hint("the longest real round trips are well under a second"),
                    );
                }
                if let Some(before) = linked.insert((a.min(b), a.max(b)), l.latency) {
                    ds.push(
                        Diagnostic::error(format!(
                            "regions `{}` and `{}` are linked twice ({before}, then {})",
                            l.a, l.b, l.latency
                        ))
                        .at(place)
                        .hint("a link goes both ways: keep one `Link` per pair of regions"),
                    );
                }
                latency[a][b] = l.latency.0;
                latency[b][a] = l.latency.0;
            }
            _ => {
                let bad = if a.is_none() { &l.a } else { &l.b };
                let d = Diagnostic::error(format!("a link names `{bad}`, which is not a region"))
                    .at(place);
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
    // A missing link is looked for only once the regions themselves are
    // right: after a region listed twice or a node in two regions, it would
    // be a follow-on (or name a region paired with itself).
    let regions_ok = ds.error_count() == errors_before;
    for a in 0..n {
        for b in a + 1..n {
            if latency[a][b] == u64::MAX {
                if regions_ok {
                    ds.push(
                        Diagnostic::error(format!(
                            "no link between regions `{}` and `{}`",
                            names[a], names[b]
                        ))
                        .at(at("id", &names[b]))
                        .on(format!("region `{}`", names[b]))
                        .hint(format!(
                            "add `Link(a: \"{}\", b: \"{}\", latency: ...)` to `links`, with the one-way network time between the two (each pair of regions needs one)",
                            names[a], names[b]
                        )),
                    );
                }
                latency[a][b] = 0;
                latency[b][a] = 0;
            }
        }
    }
    (names, node_region, source_region, latency)
}

/// What one node's checks need: the file's context, where the node is
/// written, and how its messages are labelled.
pub struct NodeCheck<'a> {
    /// The file's context.
    pub cx: &'a Ctx<'a>,
    /// Where the node is written (a byte offset).
    pub at: Option<usize>,
    /// "node `id`", for messages.
    pub item: String,
}

impl NodeCheck<'_> {
    /// An error about this node.
    pub fn err(&self, message: String) -> Diagnostic {
        Diagnostic::error(message)
            .at(self.cx.pos(self.at))
            .on(&self.item)
    }

    /// Checks a distribution's parameters.
    pub fn dist(&self, what: &str, d: &crate::dist::Dist, ds: &mut Diagnostics) {
        if let Err(m) = d.check() {
            ds.push(self.err(format!("{what}: {m}")).hint(
                "e.g. `Exponential(mean: \"10ms\")` or `Constant(\"5ms\")`; `bottleneck reference` lists the distributions",
            ));
        }
    }

    /// Checks that `target` names a node of one of the kinds `want` (any
    /// kind if empty).
    pub fn target(&self, target: &str, key: &str, want: &[&str], ds: &mut Diagnostics) {
        self.cx
            .check_target(target, key, want, self.at, &self.item, ds);
    }

    /// Checks a node's load curve, and the older `load_factor` (a
    /// quadratic curve) where the kind has it: one or the other.
    pub fn load(
        &self,
        load: &Option<crate::kind::LoadCurve>,
        load_factor: Option<f64>,
        ds: &mut Diagnostics,
    ) {
        if let Some(c) = load
            && let Err(m) = c.check()
        {
            ds.push(self.err(m));
        }
        if load.is_some() && load_factor.is_some() {
            ds.push(
                self.err("both `load` and `load_factor` are given".into())
                    .hint("`load_factor: f` is `load: Polynomial(factor: f, exponent: 2.0)`; keep one"),
            );
        }
    }

    /// Checks a count against its range.
    pub fn count(&self, what: &str, n: u64, min: u64, max: u64, ds: &mut Diagnostics) {
        if let Err(m) = count(what, n, min, max) {
            ds.push(self.err(m).hint(format!("`{what}` takes {min} to {max}")));
        }
    }
}

/// A node's load curve as the model keeps it: `load`, else the older
/// `load_factor` as a quadratic curve; `None` when service times do not
/// depend on load.
pub(crate) fn load_model(
    load: Option<crate::kind::LoadCurve>,
    load_factor: Option<f64>,
) -> Option<crate::kind::LoadCurve> {
    match (load, load_factor) {
        (Some(c), _) if !c.is_flat() => Some(c),
        (None, Some(f)) if f > 0.0 => Some(crate::kind::LoadCurve::quadratic(f)),
        _ => None,
    }
}

/// The limits a database or replica shares: cores, connections, queue.
pub(crate) fn database_limits(
    servers: u64,
    max_connections: Option<u64>,
    queue: Option<u64>,
) -> Vec<String> {
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

/// What compiling a node needs: node ids to indices, the classes and their
/// shares of the traffic.
pub struct CompileCx<'a> {
    /// Node id to index.
    pub index: &'a BTreeMap<&'a str, usize>,
    /// The classes, sorted.
    pub classes: &'a [String],
    /// Each class's share of all traffic.
    pub shares: &'a [f64],
}

impl CompileCx<'_> {
    /// The index of node `id` (checked to exist).
    pub fn ix(&self, id: &str) -> u32 {
        self.index[id] as u32
    }
}
