//! What the topology being built costs a month: the engine's own cost
//! report (`Costs::report`, what `bottleneck cost` prints and the drills
//! grade with) under the bundled cost model, recomputed only when the
//! topology changes.

use super::colour::{GREY, RED};
use crate::builder::{Builder, check};
use bevy_egui::egui::{self, RichText};
use bottleneck::scenario::drill::{self, CostReport};
use bottleneck::topology::Topology;

/// The monthly cost of a topology under the bundled cost model
/// (`topologies/drills/costs.ron`), as `bottleneck cost` prints it; the
/// loader's first problem when it does not load.
pub fn monthly(t: &Topology) -> Result<CostReport, String> {
    let costs = drill::parse_costs("topologies/drills/costs.ron", drill::DEFAULT_COSTS)
        .map_err(|d| d.to_string())?;
    let loaded = check(t).map_err(|e| e.into_iter().next().unwrap_or_default())?;
    Ok(costs.report(&loaded.model))
}

/// The last cost computed, and of what.
#[derive(Default)]
pub struct CostCache {
    of: Option<Topology>,
    cost: Option<Result<CostReport, String>>,
}

impl CostCache {
    /// The cost of `t`, computed again only when `t` changed.
    pub fn get(&mut self, t: &Topology) -> &Result<CostReport, String> {
        if self.of.as_ref() != Some(t) {
            self.of = Some(t.clone());
            self.cost = None;
        }
        self.cost.get_or_insert_with(|| monthly(t))
    }
}

/// `$1,234`.
pub fn money(currency: &str, x: f64) -> String {
    let whole = x.round() as i64;
    let digits = whole.abs().to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}{currency}{out}", if whole < 0 { "-" } else { "" })
}

/// One line at the top of the inspector: the monthly cost, node by node on
/// hover.
pub fn line(ui: &mut egui::Ui, cache: &mut CostCache, b: &Builder) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Cost").strong());
        match cache.get(&b.working) {
            Ok(r) => {
                let mut detail = format!(
                    "{} a month, with the bundled prices (topologies/drills/costs.ron, {} hours a month); `bottleneck cost` prints the same.\n",
                    money(&r.currency, r.monthly),
                    r.hours_per_month
                );
                for l in &r.lines {
                    detail.push_str(&format!(
                        "\n{:<14} {:>6} {:<10} {}",
                        l.node,
                        l.units,
                        l.per,
                        money(&r.currency, l.monthly)
                    ));
                }
                ui.label(
                    RichText::new(format!("{} a month", money(&r.currency, r.monthly))).strong(),
                )
                .on_hover_text(detail);
                if !r.unpriced.is_empty() {
                    ui.label(
                        RichText::new(format!("(no price for {})", r.unpriced.join(", ")))
                            .small()
                            .color(GREY),
                    );
                }
            }
            Err(e) => {
                ui.label(RichText::new("unknown until the topology loads").color(RED))
                    .on_hover_text(e.as_str());
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money("$", 0.4), "$0");
        assert_eq!(money("$", 1234.5), "$1,235");
        assert_eq!(money("$", 1_000_000.0), "$1,000,000");
        assert_eq!(money("€", -999.0), "-€999");
    }

    #[test]
    fn the_cost_is_the_engines_and_follows_the_topology() {
        let st = crate::content::find("cache-aside").unwrap();
        let t = bottleneck::topology::parse(st.file, st.text).unwrap();
        let costs = drill::parse_costs("c", drill::DEFAULT_COSTS).unwrap();
        let model = bottleneck::topology::load_str(st.file, st.text)
            .unwrap()
            .model;
        let want = costs.report(&model);
        let mut cache = CostCache::default();
        let got = cache.get(&t).clone().unwrap();
        assert_eq!(got, want);
        assert!(got.monthly > 0.0);
        // More database servers cost more; the cache notices the change.
        let s0 = crate::sandbox::Sandbox::open(st.file, st.text, 1).unwrap();
        let mut s = s0;
        let mut b = crate::builder::Builder::new(&s);
        let db = crate::builder::Item::Node("db".into());
        let servers = b.value(&db, "servers").as_u64().unwrap();
        b.set_text(&mut s, &db, "servers", &(servers * 2).to_string())
            .unwrap();
        let more = cache.get(&b.working).clone().unwrap();
        assert!(
            more.monthly > got.monthly,
            "{} <= {}",
            more.monthly,
            got.monthly
        );
        // A draft has no cost yet, and says why.
        b.new_blank(&mut s).unwrap();
        assert!(cache.get(&b.working).is_err());
    }
}
