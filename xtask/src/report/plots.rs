//! The report's plots, drawn with plotters' SVG backend.

use plotters::prelude::*;

use crate::format::fmt_ns;

/// Percentiles a distribution plot shows, and where they sit on its `1 / (1 − q)` axis.
const QUANTILES: [f64; 8] = [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999];

/// The range every log axis keeps to: a value beyond it (or not a number) is drawn at its edge.
/// An axis must stay finite: on an infinite one plotters looks for tick marks forever.
const AXIS: (f64, f64) = (1e-3, 1e15);

fn on_axis(v: f64) -> f64 {
    if v.is_nan() {
        AXIS.0
    } else {
        v.clamp(AXIS.0, AXIS.1)
    }
}

fn x_of(q: f64) -> f64 {
    1.0 / (1.0 - q)
}

fn percentile_label(x: f64) -> String {
    let q = (1.0 - 1.0 / x) * 100.0;
    let rounded = (q * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}%")
    } else {
        format!("{rounded:.1}%")
    }
}

fn colour(i: usize) -> RGBColor {
    const COLOURS: [RGBColor; 12] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
        RGBColor(0, 0, 0),
        RGBColor(255, 187, 120),
    ];
    COLOURS[i % COLOURS.len()]
}

/// Latency against percentile (both log scale), one line per series of `(label, histogram)`.
pub fn percentiles(
    title: &str,
    series: &[(String, hdrhistogram::Histogram<u64>)],
) -> anyhow::Result<String> {
    let lines: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(label, h)| {
            let points = QUANTILES
                .iter()
                .map(|&q| (x_of(q), h.value_at_quantile(q).max(1) as f64))
                .collect();
            (label.clone(), points)
        })
        .collect();
    let axes = Axes {
        x: ("percentile", 1.0..x_of(0.999) * 1.2, &|x| {
            percentile_label(x)
        }),
        y: ("time per run", &|y| fmt_ns(y)),
    };
    log_log(title, axes, &lines)
}

/// Nanoseconds per task against task count (both log scale), one line per series.
pub fn scaling(title: &str, lines: &[(String, Vec<(f64, f64)>)]) -> anyhow::Result<String> {
    let lines: Vec<(String, Vec<(f64, f64)>)> = lines
        .iter()
        .map(|(label, points)| {
            let points = points.iter().map(|&(x, y)| (on_axis(x), y)).collect();
            (label.clone(), points)
        })
        .collect();
    let lines = lines.as_slice();
    let xs = lines.iter().flat_map(|(_, p)| p.iter().map(|&(x, _)| x));
    let (lo, hi) = xs.fold((f64::MAX, 0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let range = if lines.is_empty() {
        1.0..10.0
    } else {
        lo / 1.5..hi * 1.5
    };
    let axes = Axes {
        x: ("tasks", range, &|x| format!("{x:.0e}")),
        y: ("ns per task", &|y| fmt_ns(y)),
    };
    log_log(title, axes, lines)
}

/// A log-log chart's axes: x's name, range and labels; y's name and labels.
struct Axes<'a> {
    x: (&'a str, std::ops::Range<f64>, &'a dyn Fn(f64) -> String),
    y: (&'a str, &'a dyn Fn(f64) -> String),
}

/// Lines on log-log axes, the legend in the upper left with room kept for it.
fn log_log(
    title: &str,
    axes: Axes<'_>,
    lines: &[(String, Vec<(f64, f64)>)],
) -> anyhow::Result<String> {
    let lines: Vec<(String, Vec<(f64, f64)>)> = lines
        .iter()
        .map(|(label, points)| {
            let points = points.iter().map(|&(x, y)| (x, on_axis(y))).collect();
            (label.clone(), points)
        })
        .collect();
    let lines = lines.as_slice();
    let values = lines.iter().flat_map(|(_, p)| p.iter().map(|&(_, y)| y));
    let (lo, hi) = values.fold((f64::MAX, 0f64), |(lo, hi), y| (lo.min(y), hi.max(y)));
    // The chart grows with its legend, which sits in the upper left; the y range is stretched
    // so the lines keep to the part of the plot below it.
    let height = 340 + 16 * lines.len() as u32;
    let legend = (24.0 + 16.0 * lines.len() as f64) / (f64::from(height) - 90.0);
    let (lo, hi) = if lines.is_empty() {
        (1.0, 10.0)
    } else {
        let (lo, hi) = (lo / 1.3, (hi * 1.3).max(lo * 2.0));
        (lo, lo * (hi / lo).powf(1.0 / (1.0 - legend.min(0.6))))
    };
    let (x_desc, x_range, x_fmt) = axes.x;
    let (y_desc, y_fmt) = axes.y;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(72)
            .build_cartesian_2d(x_range.log_scale(), (lo..hi).log_scale())
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_label_formatter(&|x| x_fmt(*x))
            .y_label_formatter(&|y| y_fmt(*y))
            .draw()
            .map_err(draw_error)?;
        for (i, (label, points)) in lines.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(LineSeries::new(points.clone(), c.stroke_width(2)))
                .map_err(draw_error)?
                .label(label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
        }
        if !lines.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(draw_error)?;
        }
        root.present().map_err(draw_error)?;
    }
    Ok(svg)
}

/// One bar of [`bars`]: a value with an optional confidence interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub interval: Option<(f64, f64)>,
}

/// What a bar chart's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Ratios: labelled `3.0×`, with a red line at 1×.
    Times,
    /// Durations in nanoseconds.
    Nanos,
}

/// Horizontal bars on a log scale, first at the top.
pub fn bars(title: &str, axis: &str, unit: Unit, bars: &[Bar]) -> anyhow::Result<String> {
    let bars: Vec<Bar> = bars
        .iter()
        .map(|b| Bar {
            label: b.label.clone(),
            value: on_axis(b.value),
            interval: b.interval.map(|(l, h)| (on_axis(l), on_axis(h))),
        })
        .collect();
    let bars = bars.as_slice();
    let all = bars.iter().flat_map(|b| {
        let (l, h) = b.interval.unwrap_or((b.value, b.value));
        [b.value, l, h]
    });
    let (lo, hi) = all.fold((1f64, 1f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = (lo / 2.0, hi * 2.0);
    let n = bars.len().max(1);
    let height = 80 + 28 * n as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(230)
            .build_cartesian_2d((lo..hi).log_scale(), -0.5f64..(n as f64 - 0.5))
            .map_err(draw_error)?;
        let labels: Vec<&str> = bars.iter().map(|b| b.label.as_str()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(axis)
            .y_labels(n)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 0.01 && i >= 0.0 {
                    // Rows run top to bottom in the order given.
                    labels
                        .get(row_y(i as usize, n) as usize)
                        .map(|s| s.to_string())
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|x| match unit {
                Unit::Times => format!("{}×", trim_float(*x)),
                Unit::Nanos => fmt_ns(*x),
            })
            .draw()
            .map_err(draw_error)?;
        for (
            i,
            Bar {
                value, interval, ..
            },
        ) in bars.iter().enumerate()
        {
            let y = row_y(i, n);
            let c = colour(0);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(lo, y - 0.3), (*value, y + 0.3)],
                    c.filled(),
                )))
                .map_err(draw_error)?;
            if let Some((l, h)) = interval {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(*l, y), (*h, y)],
                        BLACK.stroke_width(2),
                    )))
                    .map_err(draw_error)?;
            }
        }
        if unit == Unit::Times {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(1.0, -0.5), (1.0, n as f64 - 0.5)],
                    RED.stroke_width(1),
                )))
                .map_err(draw_error)?;
        }
        root.present().map_err(draw_error)?;
    }
    Ok(svg)
}

/// Where bar `i` of `n` sits: the first at the top.
fn row_y(i: usize, n: usize) -> f64 {
    (n - 1 - i.min(n - 1)) as f64
}

fn trim_float(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}")
    } else if x >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn draw_error<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing a plot: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_axis_labels() {
        assert_eq!(percentile_label(x_of(0.5)), "50%");
        assert_eq!(percentile_label(x_of(0.99)), "99%");
        assert_eq!(percentile_label(x_of(0.999)), "99.9%");
    }

    #[test]
    fn plots_are_svg_with_their_labels() {
        let mut h = timing::new_histogram();
        for v in [1_000u64, 2_000, 4_000] {
            h.record(v).unwrap();
        }
        let svg = percentiles("p", &[("eager (current)".into(), h)]).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.contains("eager (current)"));
        let bar = Bar {
            label: "a".into(),
            value: 3.0,
            interval: Some((2.0, 4.0)),
        };
        let svg = bars("b", "speedup", Unit::Times, &[bar]).unwrap();
        assert!(svg.contains("<rect"));
    }

    #[test]
    fn values_beyond_any_axis_are_drawn_at_its_edge_in_finite_time() {
        // An infinite axis made plotters look for tick marks forever (issue 11, #7).
        for value in [1e308, f64::INFINITY, f64::NAN, 0.0, -5.0, 1e-300] {
            let bar = Bar {
                label: "a".into(),
                value,
                interval: Some((value, value * 2.0)),
            };
            for unit in [Unit::Times, Unit::Nanos] {
                assert!(
                    bars("b", "x", unit, std::slice::from_ref(&bar)).is_ok(),
                    "{value}"
                );
            }
            let line = vec![("a".to_owned(), vec![(1e3, value), (value, 2.0)])];
            assert!(scaling("s", &line).is_ok(), "{value}");
        }
    }
}
