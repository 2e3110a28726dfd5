//! `bottleneck cost`: what a topology costs a month under a cost model (the
//! bundled one the drills grade with, or `--costs FILE`).

use crate::cli::out::{err, out, outln};
use crate::{EXIT_BAD_INPUT, files, load};
use bottleneck::scenario::drill::{self, CostLine, Costs};
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CostArgs {
    /// Topology file (.ron); without one, the bundled default.
    file: Option<PathBuf>,
    /// Cost model (a `Costs(...)` file) [default: the bundled one,
    /// topologies/drills/costs.ron].
    #[arg(long)]
    costs: Option<PathBuf>,
    /// Print the cost as JSON.
    #[arg(long)]
    json: bool,
}

fn read_costs(path: Option<&PathBuf>) -> Result<(String, Costs), ExitCode> {
    let bad = |ds: bottleneck::diag::Diagnostics| {
        err!("{ds}");
        ExitCode::from(EXIT_BAD_INPUT)
    };
    let (name, text) = match path {
        None => (
            "the bundled cost model, topologies/drills/costs.ron,".to_string(),
            drill::DEFAULT_COSTS.to_string(),
        ),
        Some(p) => {
            let name = p.display().to_string();
            let bytes = files::read_named(p, "a cost model (costs.ron)", files::MAX_RON_BYTES)
                .map_err(bad)?;
            let text = bottleneck::topology::check_text(&name, &bytes)
                .map(str::to_string)
                .map_err(bad)?;
            (name, text)
        }
    };
    let costs = drill::parse_costs(&name, &text).map_err(bad)?;
    Ok((name, costs))
}

/// Writes the monthly cost table's rows, one a priced line and then the
/// total (followed by `after_total`): the one formatter `cost` and the
/// drills' grades share.
pub(crate) fn write_rows<'a>(
    out: &mut String,
    lines: impl IntoIterator<Item = &'a CostLine>,
    monthly: f64,
    costs: &Costs,
    after_total: &str,
) {
    for l in lines {
        let units = if l.units.fract() == 0.0 {
            format!("{}", l.units)
        } else {
            format!("{:.2}", l.units)
        };
        let _ = writeln!(
            out,
            "    {:<16} {:<14} {:>8} {:<10} {:>10}",
            l.node,
            l.kind,
            units,
            l.per,
            costs.money(l.monthly)
        );
    }
    let _ = writeln!(
        out,
        "    {:<16} {:<14} {:>8} {:<10} {:>10}{after_total}",
        "total",
        "",
        "",
        "",
        costs.money(monthly)
    );
}

/// The note under a cost table naming the kinds the model does not price
/// (nothing when it prices them all): `cost` and the drills' grades share it.
pub(crate) fn write_unpriced(out: &mut String, unpriced: &[String]) {
    if !unpriced.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "  not priced (counted as 0): {}; add them to the cost model's `prices`",
            unpriced.join(", ")
        );
    }
}

pub fn cost(args: CostArgs) -> ExitCode {
    let loaded = match load(args.file.as_ref()) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let (name, costs) = match read_costs(args.costs.as_ref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let r = costs.report(&loaded.model);
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "monthly cost of \"{}\", with the prices of {name} ({} hours a month)",
        r.topology, r.hours_per_month
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "    {:<16} {:<14} {:>8} {:<10} {:>10}",
        "node", "kind", "units", "per", "monthly"
    );
    write_rows(&mut out, &r.lines, r.monthly, &costs, "");
    write_unpriced(&mut out, &r.unpriced);
    out!("{out}");
    ExitCode::SUCCESS
}
