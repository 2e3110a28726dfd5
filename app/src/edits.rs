//! The palette: edits to a topology's structure, the way a person would make
//! them on a whiteboard ("put a cache in front of the database", "add an
//! app server behind the balancer"). Each returns the new topology and a
//! line for the timeline, or says why it does not apply.

use bottleneck::dist::Dist;
use bottleneck::time::{Duration, MS, US};
use bottleneck::topology::{Cache, Node, Step, Topology};

/// A fresh id: `base`, or `base-2`, `base-3`... whichever is free.
fn fresh(t: &Topology, base: &str) -> String {
    let taken =
        |id: &str| t.nodes.iter().any(|n| n.id() == id) || t.sources.iter().any(|s| s.id == id);
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|k| format!("{base}-{k}"))
        .find(|id| !taken(id))
        .expect("some id is free")
}

/// Adds another app server behind the load balancer `lb`: a copy of its
/// first app backend.
pub fn add_app_server(t: &Topology, lb: &str) -> Result<(Topology, String), String> {
    let mut t = t.clone();
    let backends = match t.nodes.iter().find(|n| n.id() == lb) {
        Some(Node::LoadBalancer(l)) => l.to.clone(),
        Some(n) => return Err(format!("`{lb}` is a {}, not a load balancer", n.kind())),
        None => return Err(format!("no node `{lb}`")),
    };
    let Some(Node::App(template)) = backends
        .iter()
        .find_map(|b| {
            t.nodes
                .iter()
                .find(|n| n.id() == b && matches!(n, Node::App(_)))
        })
        .cloned()
    else {
        return Err(format!("`{lb}` balances no app servers to copy"));
    };
    let base = template
        .id
        .trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
    let id = fresh(&t, &format!("{base}-{}", backends.len() + 1));
    let mut app = template.clone();
    app.id = id.clone();
    let at = t
        .nodes
        .iter()
        .position(|n| n.id() == template.id)
        .unwrap_or(0);
    t.nodes.insert(at + 1, Node::App(app));
    if let Some(Node::LoadBalancer(l)) = t.nodes.iter_mut().find(|n| n.id() == lb) {
        l.to.push(id.clone());
    }
    Ok((t, format!("added app server `{id}` behind `{lb}`")))
}

/// Removes an app server from behind its load balancer (not the last one).
pub fn remove_app_server(t: &Topology, app: &str) -> Result<(Topology, String), String> {
    let mut t = t.clone();
    let Some(lb) = t.nodes.iter_mut().find_map(|n| match n {
        Node::LoadBalancer(l) if l.to.iter().any(|b| b == app) => Some(l),
        _ => None,
    }) else {
        return Err(format!("`{app}` is not behind a load balancer"));
    };
    if lb.to.len() < 2 {
        return Err(format!("`{app}` is the last server behind `{}`", lb.id));
    }
    lb.to.retain(|b| b != app);
    let lb_id = lb.id.clone();
    t.nodes.retain(|n| n.id() != app);
    Ok((t, format!("removed app server `{app}` from `{lb_id}`")))
}

/// Puts a cache in front of database `db`: every app that reads `db`
/// reads cache-aside through the new cache, and writes invalidate the key.
pub fn add_cache(t: &Topology, db: &str) -> Result<(Topology, String), String> {
    let mut t = t.clone();
    match t.nodes.iter().find(|n| n.id() == db) {
        Some(Node::Database(_)) => {}
        Some(n) => {
            return Err(format!(
                "`{db}` is a {}; a cache goes in front of a Database",
                n.kind()
            ));
        }
        None => return Err(format!("no node `{db}`")),
    }
    if t.sources.iter().all(|s| s.keys.is_none()) {
        return Err("a cache needs requests with keys; give the source `keys: Zipf(keys: 1_000_000, s: 0.99)`".into());
    }
    let cache = fresh(&t, "cache");
    let mut rewired = 0;
    for n in t.nodes.iter_mut() {
        let Node::App(app) = n else { continue };
        for steps in app.handle.values_mut() {
            let mut out = Vec::with_capacity(steps.len() + 1);
            for s in steps.drain(..) {
                match s {
                    Step::Read { db: d } if d == db => {
                        out.push(Step::CacheAside {
                            cache: cache.clone(),
                            db: d,
                        });
                        rewired += 1;
                    }
                    Step::Write { db: d } if d == db => {
                        out.push(Step::Write { db: d });
                        out.push(Step::Invalidate {
                            cache: cache.clone(),
                        });
                        rewired += 1;
                    }
                    other => out.push(other),
                }
            }
            *steps = out;
        }
    }
    if rewired == 0 {
        return Err(format!(
            "no app reads `{db}` directly, so a cache would get no traffic"
        ));
    }
    let at = t
        .nodes
        .iter()
        .position(|n| n.id() == db)
        .unwrap_or(t.nodes.len());
    t.nodes.insert(
        at,
        Node::Cache(Cache {
            id: cache.clone(),
            capacity: 100_000,
            eviction: Default::default(),
            ttl: Some(Duration(5 * 60 * 1000 * MS)),
            ttl_jitter: Some(0.1),
            servers: Some(8),
            service: Dist::Exponential {
                mean: Duration(150 * US),
            },
            single_flight: true,
            stale_while_revalidate: None,
            load: None,
            warm: None,
            backend: None,
        }),
    );
    Ok((
        t,
        format!("added `{cache}` in front of `{db}` (cache-aside reads, invalidating writes)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top() -> Topology {
        bottleneck::topology::load_str(
            "t.ron",
            r#"Topology(name: "t",
                sources: [Source(id: "u", to: "lb", arrivals: Poisson(rps: 10), mix: {"read": 0.9, "write": 0.1},
                                 keys: Zipf(keys: 1000, s: 1.0))],
                nodes: [
                    LoadBalancer(id: "lb", policy: RoundRobin, to: ["app-1"]),
                    App(id: "app-1", workers: 2, service: Constant("1ms"),
                        handle: {"read": [Read(db: "db")], "write": [Write(db: "db")]}),
                    Database(id: "db", servers: 2, read: Constant("1ms"), write: Constant("1ms")),
                ])"#,
        )
        .unwrap()
        .model
        .topology
    }

    fn compiles(t: &Topology) {
        let text = bottleneck::topology::to_ron(t);
        bottleneck::topology::load_str("edited.ron", &text)
            .unwrap_or_else(|d| panic!("{d}\n{text}"));
    }

    #[test]
    fn adds_and_removes_app_servers() {
        let (t, what) = add_app_server(&top(), "lb").unwrap();
        assert_eq!(what, "added app server `app-2` behind `lb`");
        compiles(&t);
        let (t3, _) = add_app_server(&t, "lb").unwrap();
        assert!(t3.nodes.iter().any(|n| n.id() == "app-3"));
        let (t, _) = remove_app_server(&t, "app-1").unwrap();
        compiles(&t);
        assert!(
            remove_app_server(&t, "app-2")
                .unwrap_err()
                .contains("last server")
        );
        assert!(
            add_app_server(&t, "db")
                .unwrap_err()
                .contains("not a load balancer")
        );
    }

    #[test]
    fn a_cache_rewires_reads_and_writes() {
        let (t, _) = add_cache(&top(), "db").unwrap();
        compiles(&t);
        let Some(Node::App(app)) = t.nodes.iter().find(|n| n.id() == "app-1") else {
            panic!()
        };
        assert!(matches!(app.handle["read"][0], Step::CacheAside { .. }));
        assert!(matches!(app.handle["write"][1], Step::Invalidate { .. }));
        assert!(
            add_cache(&t, "cache")
                .unwrap_err()
                .contains("in front of a Database")
        );
        let mut no_keys = top();
        no_keys.sources[0].keys = None;
        assert!(
            add_cache(&no_keys, "db")
                .unwrap_err()
                .contains("needs requests with keys")
        );
    }
}
