//! `--plot out.svg`: a run's story over time in four panels (latency
//! percentiles, throughput, failures, utilization of the busiest nodes),
//! with the timeline's changes marked.

use bottleneck::report::{Report, WindowRecordOut};
use bottleneck::scenario::{Action, Item};
use plotters::prelude::*;
use std::error::Error;
use std::path::Path;

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

type Line<'a> = (String, Vec<(f64, f64)>);

/// The engine's changes in a report, as marks.
pub fn change_marks(report: &Report) -> Vec<(f64, String)> {
    report
        .changes
        .iter()
        .map(|c| (c.at.as_secs_f64(), c.change.to_string()))
        .collect()
}

/// A scenario's timeline, as marks (a ramp is one mark, not one per step).
pub fn timeline_marks(items: &[Item]) -> Vec<(f64, String)> {
    items
        .iter()
        .map(|i| {
            let label = match i.action() {
                Action::Rps(r) => format!("{r} rps"),
                Action::Ramp { to, over } => format!("ramp to x{to} over {over}"),
                Action::Spike { times, lasting } => format!("x{times} for {lasting}"),
                Action::DownFirst(k) => format!("first {k} down"),
                other => {
                    let changes = bottleneck::scenario::Action::to_change(other);
                    changes.map_or_else(String::new, |c| c.to_string())
                }
            };
            (i.at().as_secs_f64(), label)
        })
        .collect()
}

/// Draws the report's series (it must have been run with series) as SVG,
/// with `marks` (time in seconds, label) drawn as vertical lines.
pub fn draw(
    path: &Path,
    title: &str,
    report: &Report,
    marks: &[(f64, String)],
) -> Result<(), Box<dyn Error>> {
    let series = report
        .series
        .as_ref()
        .ok_or("the run kept no time series")?;
    let w = series.window_s.max(1e-9);
    let e2e = &series.end_to_end;
    let t_end = report.simulated_s.max(w);
    let pick = |f: &dyn Fn(&WindowRecordOut) -> Option<f64>| -> Vec<(f64, f64)> {
        e2e.iter()
            .filter_map(|r| f(r).map(|v| (r.t_s + w, v)))
            .collect()
    };
    let latency: Vec<Line> = vec![
        ("p50".into(), pick(&|r| r.p50_ms)),
        ("p95".into(), pick(&|r| r.p95_ms)),
        ("p99".into(), pick(&|r| r.p99_ms)),
    ];
    let throughput: Vec<Line> = vec![
        ("arrivals/s".into(), pick(&|r| Some(r.arrivals as f64 / w))),
        (
            "completed/s".into(),
            pick(&|r| Some(r.completed as f64 / w)),
        ),
    ];
    let failures: Vec<Line> = vec![("failed/s".into(), pick(&|r| Some(r.dropped as f64 / w)))];
    // The four busiest nodes on average.
    let mut nodes: Vec<(f64, &String, &Vec<WindowRecordOut>)> = series
        .nodes
        .iter()
        .map(|(id, rs)| {
            let mean = rs.iter().map(|r| r.utilization).sum::<f64>() / rs.len().max(1) as f64;
            (mean, id, rs)
        })
        .collect();
    nodes.sort_by(|a, b| b.0.total_cmp(&a.0));
    let utilization: Vec<Line> = nodes
        .iter()
        .take(4)
        .map(|(_, id, rs)| {
            (
                (*id).clone(),
                rs.iter()
                    .map(|r| (r.t_s + w, r.utilization * 100.0))
                    .collect(),
            )
        })
        .collect();

    let root = SVGBackend::new(path, (960, 1000)).into_drawing_area();
    root.fill(&WHITE)?;
    let (head, body) = root.split_vertically(36);
    head.draw(&Text::new(
        title.to_string(),
        (12, 10),
        ("sans-serif", 20).into_font().color(&BLACK),
    ))?;
    let panels = body.split_evenly((4, 1));
    let charts: [(&str, &[Line]); 4] = [
        ("Latency, end to end (ms)", &latency),
        ("Throughput (requests/s)", &throughput),
        ("Failures (requests/s)", &failures),
        ("Utilization of the busiest nodes (%)", &utilization),
    ];
    for (k, (caption, lines)) in charts.into_iter().enumerate() {
        panel(&panels[k], caption, lines, t_end, marks, k == 0, k == 3)?;
    }
    root.present()?;
    Ok(())
}

fn panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    caption: &str,
    lines: &[Line],
    t_end: f64,
    marks: &[(f64, String)],
    label_marks: bool,
    x_desc: bool,
) -> Result<(), Box<dyn Error>> {
    let y_max = lines
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    let y_max = if y_max <= 0.0 { 1.0 } else { y_max * 1.1 };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 15))
        .margin(8)
        .x_label_area_size(if x_desc { 36 } else { 22 })
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..t_end, 0f64..y_max)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(240, 240, 240))
        .x_desc(if x_desc { "simulated time (s)" } else { "" })
        .label_style(("sans-serif", 11))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| {
            if y_max >= 10.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        })
        .draw()?;
    // Changes first, under the lines; a thinned label per change.
    let mut last_label = f64::NEG_INFINITY;
    for (t, label) in marks {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(*t, 0.0), (*t, y_max)],
            RGBColor(120, 120, 120).stroke_width(1),
        )))?;
        if label_marks && *t - last_label > t_end / 25.0 {
            last_label = *t;
            chart.draw_series(std::iter::once(Text::new(
                label.clone(),
                (*t, y_max * 0.97),
                ("sans-serif", 11).into_font().color(&RGBColor(90, 90, 90)),
            )))?;
        }
    }
    for (k, (name, pts)) in lines.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))?
            .label(name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 11))
        .draw()?;
    Ok(())
}
