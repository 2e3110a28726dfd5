//! The cost model drills are priced with: a price per hour per node,
//! server, instance or 100,000 keys, for each kind.

use crate::diag::{Diagnostic, Diagnostics};
use crate::kinds::KindModel;
use crate::model::Model;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The bundled cost model (`topologies/drills/costs.ron`): what `bottleneck
/// cost` prices with when given no `--costs`.
pub const DEFAULT_COSTS: &str = include_str!("../../../topologies/drills/costs.ron");

/// A topology's monthly cost, as `bottleneck cost --json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CostReport {
    /// The topology's name.
    pub topology: String,
    /// The cost model's currency symbol.
    pub currency: String,
    /// Hours in a month, as the cost model counts them.
    pub hours_per_month: f64,
    /// Cost per node, in topology order (0 for kinds the model has no price for).
    pub lines: Vec<CostLine>,
    /// Total per month.
    pub monthly: f64,
    /// Kinds in the topology that the cost model has no price for.
    pub unpriced: Vec<String>,
}

impl Costs {
    /// The monthly cost of `model`, node by node, with its total.
    pub fn report(&self, model: &Model) -> CostReport {
        let lines = self.of(model);
        let mut unpriced: Vec<String> = lines
            .iter()
            .filter(|l| !self.prices.contains_key(&l.kind))
            .map(|l| l.kind.clone())
            .collect();
        unpriced.sort();
        unpriced.dedup();
        CostReport {
            topology: model.name.clone(),
            currency: self.currency.clone(),
            hours_per_month: self.hours_per_month,
            monthly: lines.iter().map(|l| l.monthly).sum(),
            lines,
            unpriced,
        }
    }
}

/// What one unit of a kind is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Per {
    /// The node itself.
    Node,
    /// Each server (core, connection slot, worker) of the node.
    Server,
    /// Each app instance; autoscaled apps count their maximum.
    Instance,
    /// Each 100,000 keys of a cache's capacity.
    HundredThousandKeys,
}

/// The price of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// What is counted.
    pub per: Per,
    /// Price per unit per hour.
    pub hourly: f64,
    /// For a Cache priced per 100,000 keys: a price per server per hour on
    /// top (its `servers`, 1 unless given), as a line of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_server: Option<f64>,
}

/// The most a unit may cost an hour: more is a typo, and totals past it
/// stop being numbers people can read.
pub const MAX_HOURLY: f64 = 1_000_000.0;

/// The kinds a unit applies to (`None`: every kind).
pub fn applies_to(per: Per) -> Option<&'static [&'static str]> {
    match per {
        Per::Node => None,
        Per::Server => Some(&[
            "Station", "App", "Database", "Replica", "Cache", "Queue", "Pooler",
        ]),
        Per::Instance => Some(&["App"]),
        Per::HundredThousandKeys => Some(&["Cache", "Cdn"]),
    }
}

/// A cost model: a price per node-hour for each kind of component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Costs", deny_unknown_fields)]
pub struct Costs {
    /// Currency symbol for display.
    pub currency: String,
    /// Hours in a month (730 is the usual).
    pub hours_per_month: f64,
    /// Price per kind, by the kind's name in topology files.
    pub prices: BTreeMap<String, Price>,
}

/// One node's cost.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CostLine {
    /// Node id.
    pub node: String,
    /// Its kind.
    pub kind: String,
    /// Units counted.
    pub units: f64,
    /// What a unit is.
    pub per: String,
    /// Per month.
    pub monthly: f64,
}

/// Parses a cost model.
pub fn parse_costs(file: &str, text: &str) -> Result<Costs, Diagnostics> {
    let mut ds = Diagnostics::new(file, text);
    if let Some(d) = crate::topology::not_ron(text, "Costs") {
        ds.push(d);
        return Err(ds);
    }
    match crate::topology::ron_options().from_str::<Costs>(text) {
        Ok(c) => {
            let kinds: Vec<&str> = crate::kind::Kind::ALL.iter().map(|k| k.name()).collect();
            let lines = crate::diag::LineIndex::new(text);
            for (kind, p) in &c.prices {
                let at = text.find(&format!("{kind:?}")).map(|i| lines.pos(i));
                let price = |m: String, h: String| Diagnostic::error(m).at(at).hint(h);
                if !kinds.contains(&kind.as_str()) {
                    let near = crate::diag::closest(kind, kinds.iter().copied())
                        .map(|k| format!("did you mean `{k}`? "))
                        .unwrap_or_default();
                    ds.push(price(
                        format!("`{kind}` is not a kind of node"),
                        format!("{near}the kinds are {}", kinds.join(", ")),
                    ));
                    continue;
                }
                for (what, h) in [
                    ("price", Some(p.hourly)),
                    ("per_server price", p.per_server),
                ] {
                    let Some(h) = h else { continue };
                    if !h.is_finite() || !(0.0..=MAX_HOURLY).contains(&h) {
                        ds.push(price(
                            format!("the {what} of {kind} is {}", show_number(h)),
                            "prices are 0 to 1,000,000 an hour per unit".into(),
                        ));
                    }
                }
                if let Some(ok) = applies_to(p.per)
                    && !ok.contains(&kind.as_str())
                {
                    ds.push(price(
                        format!(
                            "{kind} is priced `per: {:?}`, which a {kind} does not have",
                            p.per
                        ),
                        format!(
                            "{:?} applies to {}; price a {kind} per Node{}",
                            p.per,
                            ok.join(", "),
                            match applies_to(Per::Server) {
                                Some(s) if s.contains(&kind.as_str()) => " or per Server",
                                _ => "",
                            }
                        ),
                    ));
                }
                if p.per_server.is_some() && !(kind == "Cache" && p.per == Per::HundredThousandKeys)
                {
                    ds.push(price(
                        format!("{kind} has a `per_server` price"),
                        "`per_server` adds a Cache's servers to its price per 100k keys; price other kinds `per: Server`".into(),
                    ));
                }
            }
            if !(c.hours_per_month > 0.0 && c.hours_per_month <= 744.0) {
                ds.push(
                    Diagnostic::error(format!(
                        "hours_per_month is {}",
                        show_number(c.hours_per_month)
                    ))
                    .at(text.find("hours_per_month").map(|i| lines.pos(i)))
                    .hint("a month has at most 744 hours; 730 is the usual"),
                );
            }
            if ds.has_errors() { Err(ds) } else { Ok(c) }
        }
        Err(e) => {
            ds.push(crate::topology::ron_diagnostic(&e, text));
            Err(ds)
        }
    }
}

/// A number from a cost file as people read it: `0.05`, `-0.005`, `1e308`.
fn show_number(x: f64) -> String {
    if x.is_finite() && x.abs() < 1e9 {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

impl Costs {
    /// What a topology costs a month, node by node. Kinds without a price
    /// cost nothing (and are listed with 0).
    pub fn of(&self, model: &Model) -> Vec<CostLine> {
        let mut out = Vec::with_capacity(model.nodes.len());
        for n in &model.nodes {
            let price = self.prices.get(n.kind_name());
            let per = price.map_or(Per::Node, |p| p.per);
            let units = match per {
                Per::Node => 1.0,
                Per::Server => match &n.kind {
                    KindModel::App(a) => {
                        (a.autoscale.map_or(a.instances, |s| s.max.max(a.instances)) as f64)
                            * a.workers as f64
                    }
                    _ => n.servers as f64,
                },
                Per::Instance => match &n.kind {
                    KindModel::App(a) => {
                        a.autoscale.map_or(a.instances, |s| s.max.max(a.instances)) as f64
                    }
                    _ => 1.0,
                },
                Per::HundredThousandKeys => match &n.kind {
                    KindModel::Cache(c) => (c.capacity as f64 / 100_000.0).max(0.01),
                    KindModel::Cdn(c) => (c.capacity as f64 / 100_000.0).max(0.01),
                    _ => 1.0,
                },
            };
            let hourly = price.map_or(0.0, |p| p.hourly);
            out.push(CostLine {
                node: n.id.clone(),
                kind: n.kind_name().to_string(),
                units,
                per: match per {
                    Per::Node => "node",
                    Per::Server => "server",
                    Per::Instance => "instance",
                    Per::HundredThousandKeys => "100k keys",
                }
                .to_string(),
                monthly: units * hourly * self.hours_per_month,
            });
            if let (Some(extra), KindModel::Cache(_)) = (price.and_then(|p| p.per_server), &n.kind)
            {
                let servers = n.servers as f64;
                out.push(CostLine {
                    node: n.id.clone(),
                    kind: n.kind_name().to_string(),
                    units: servers,
                    per: "server".to_string(),
                    monthly: servers * extra * self.hours_per_month,
                });
            }
        }
        out
    }

    /// The nodes of `t` whose kind the model has no price for: (id, kind).
    pub fn unpriced_nodes(&self, t: &crate::topology::Topology) -> Vec<(String, String)> {
        t.nodes
            .iter()
            .filter(|n| !self.prices.contains_key(n.kind()))
            .map(|n| (n.id().to_string(), n.kind().to_string()))
            .collect()
    }

    /// A price as people read it: `$1,234`.
    /// Sums too large for whole units (past 10^15) are written as
    /// `$1.23e18`, never saturated.
    pub fn money(&self, x: f64) -> String {
        if !x.is_finite() || x >= 1e15 {
            return format!("{}{x:.3e}", self.currency);
        }
        format!(
            "{}{}",
            self.currency,
            crate::fmt::fmt_count(x.round().max(0.0) as u64)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_units() {
        let costs = parse_costs(
            "c.ron",
            r#"Costs(currency: "$", hours_per_month: 730, prices: {
                "App": Price(per: Instance, hourly: 0.10),
                "Database": Price(per: Server, hourly: 0.05),
                "Cache": Price(per: HundredThousandKeys, hourly: 0.02),
            })"#,
        )
        .unwrap();
        let m = crate::topology::load_str(
            "t.ron",
            r#"Topology(name: "t",
                sources: [Source(id: "u", to: "app", arrivals: Poisson(rps: 10))],
                nodes: [
                    App(id: "app", instances: 2, workers: 8, service: Constant("1ms"),
                        handle: {"*": [CacheAside(cache: "c", db: "db")]},
                        autoscale: Autoscale(target: 0.6, min: 2, max: 5, every: "10s", provision: "10s", cooldown: "1m")),
                    Cache(id: "c", capacity: 200_000, service: Constant("100us")),
                    Database(id: "db", servers: 4, read: Constant("1ms"), write: Constant("1ms")),
                ])"#,
        )
        .unwrap()
        .model;
        let lines = costs.of(&m);
        // Autoscaled: priced at its maximum of 5 instances.
        assert_eq!(lines[0].units, 5.0);
        assert!((lines[0].monthly - 5.0 * 0.10 * 730.0).abs() < 1e-9);
        assert_eq!(lines[1].units, 2.0);
        assert_eq!(lines[2].units, 4.0);
        assert_eq!(costs.money(1234.4), "$1,234");
    }
}
