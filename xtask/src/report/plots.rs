//! The report's charts: bars grouped by exercise, strips of run times, and lines on log-log
//! axes (start-latency percentiles, the sweep's scaling). Colour says the family of a bar or
//! strip; lines get a colour each, named in a legend beside the plot.

use super::svg::{Anchor, Canvas, LogAxis, tick_ns, tick_times};

/// The family a mark's colour stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tone {
    /// This project's crates (`taskgroup`, `queue`, …).
    Project,
    /// Plain tokio, written the way the port is.
    Tokio,
    /// What a Rust developer would pick instead (`JoinSet`, `TaskTracker`, `join_all`, …).
    Peer,
    /// The least the work can cost.
    Floor,
    /// CPython on its own asyncio loop.
    CPython,
    /// CPython on another loop (uvloop, rloop) or with a knob turned (`gc.disable()`).
    CPythonOther,
    /// PyPy.
    PyPy,
}

impl Tone {
    const ALL: [Tone; 7] = [
        Tone::Project,
        Tone::Tokio,
        Tone::Peer,
        Tone::Floor,
        Tone::CPython,
        Tone::CPythonOther,
        Tone::PyPy,
    ];

    pub fn colour(self) -> &'static str {
        match self {
            Tone::Project => "#1f5fa8",
            Tone::Tokio => "#2a9d8f",
            Tone::Peer => "#7b4fb0",
            Tone::Floor => "#a0a0a0",
            Tone::CPython => "#e07b00",
            Tone::CPythonOther => "#c0392b",
            Tone::PyPy => "#d64f9b",
        }
    }

    /// The family's name in a table's column: `project`, `tokio`, `peer`, `floor`, `CPython`.
    pub fn short_name(self) -> &'static str {
        match self {
            Tone::Project => "project",
            Tone::Tokio => "tokio",
            Tone::Peer => "peer",
            Tone::Floor => "floor",
            Tone::CPython => "CPython",
            Tone::CPythonOther => "CPython, other",
            Tone::PyPy => "PyPy",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tone::Project => "this project",
            Tone::Tokio => "plain tokio",
            Tone::Peer => "Rust peers",
            Tone::Floor => "floor",
            Tone::CPython => "CPython asyncio",
            Tone::CPythonOther => "CPython, other loop or gc off",
            Tone::PyPy => "PyPy",
        }
    }
}

/// Line colours: twenty that tell apart on white; past ten, lines are dashed as well.
const PALETTE: [&str; 20] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
    "#e6550d", "#31a354", "#756bb1", "#636363",
];

/// Width of every chart, in its own units (pixels at natural size).
const WIDTH: f64 = 900.0;

/// One bar: a value, an optional 95% interval, its family and an optional figure written
/// beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub interval: Option<(f64, f64)>,
    pub tone: Tone,
    pub note: Option<String>,
}

/// Bars under one heading (an exercise).
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: String,
    pub bars: Vec<Bar>,
}

/// What a bar chart's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Ratios, on an axis centred on 1×, each bar drawn from 1×.
    Times,
    /// Durations in nanoseconds, each bar drawn from the axis' left end.
    Nanos,
}

/// Where the labels of a labelled chart end, and where its plot area begins and ends.
const LABELS_END: f64 = 330.0;
const PLOT: (f64, f64) = (340.0, WIDTH - 110.0);

/// Horizontal bars on a log axis, grouped under headings, coloured by family, with a legend of
/// the families shown.
pub fn bars(title: &str, axis: &str, unit: Unit, groups: &[Group]) -> anyhow::Result<String> {
    let all = groups.iter().flat_map(|g| &g.bars).flat_map(|b| {
        let (l, h) = b.interval.unwrap_or((b.value, b.value));
        [b.value, l, h]
    });
    let (min, max) = min_max(all);
    let x = match unit {
        Unit::Times => {
            // Symmetric about 1×, so a bar's length is how far it is from a tie either way.
            let reach = (max.max(1.0 / min) * 1.25).max(1.5);
            LogAxis::over(1.0 / reach, reach, PLOT.0, PLOT.1)
        }
        Unit::Nanos => LogAxis::fit(min, max, PLOT.0, PLOT.1),
    };
    let tones = tones_in(groups.iter().flat_map(|g| &g.bars).map(|b| b.tone));
    let rows: f64 = groups.iter().map(|g| 1.0 + g.bars.len() as f64).sum();
    let top = 40.0 + legend_height(&tones);
    let bottom = top + 22.0 * rows + 8.0;
    let mut c = Canvas::new(WIDTH, bottom + 50.0);
    c.text((WIDTH / 2.0, 22.0), title, Anchor::Middle, "title");
    legend(&mut c, &tones, 40.0);
    grid(&mut c, &x, unit, (top, bottom), axis);
    let mut y = top;
    for g in groups {
        c.text((8.0, y + 16.0), &g.name, Anchor::Start, "group");
        y += 22.0;
        for b in &g.bars {
            let mid = y + 11.0;
            c.text((LABELS_END, mid + 5.0), &b.label, Anchor::End, "bar-label");
            let from = match unit {
                Unit::Times => x.at(1.0),
                Unit::Nanos => PLOT.0,
            };
            let to = x.at(b.value);
            let tip = format!("{}: {}", b.label, value_text(unit, b.value));
            c.rect(
                (from.min(to), mid - 7.0),
                ((to - from).abs().max(1.0), 14.0),
                b.tone.colour(),
                &tip,
            );
            let mut end = from.max(to);
            if let Some((l, h)) = b.interval {
                let (l, h) = (x.at(l), x.at(h));
                c.line((l, mid), (h, mid), "#111", 1.5);
                c.line((l, mid - 4.0), (l, mid + 4.0), "#111", 1.5);
                c.line((h, mid - 4.0), (h, mid + 4.0), "#111", 1.5);
                end = end.max(h);
            }
            if let Some(note) = &b.note {
                c.text((end + 6.0, mid + 5.0), note, Anchor::Start, "note");
            }
            y += 22.0;
        }
    }
    if unit == Unit::Times {
        c.line((x.at(1.0), top), (x.at(1.0), bottom), "#111", 1.5);
    }
    Ok(c.finish(title))
}

/// One row of a strip chart: every sample a dot.
#[derive(Debug, Clone, PartialEq)]
pub struct Strip {
    pub label: String,
    pub tone: Tone,
    pub samples_ns: Vec<u64>,
}

/// Every sample of every row as a dot on a log axis of time, a row a lane, with a tick at each
/// row's median: the run-to-run spread, which a table's figures only summarise.
pub fn strips(title: &str, axis: &str, strips: &[Strip]) -> anyhow::Result<String> {
    let (min, max) = min_max(strips.iter().flat_map(|s| &s.samples_ns).map(|&v| v as f64));
    let x = LogAxis::fit(min, max, PLOT.0, PLOT.1);
    let tones = tones_in(strips.iter().map(|s| s.tone));
    let top = 40.0 + legend_height(&tones);
    let bottom = top + 24.0 * strips.len() as f64 + 8.0;
    let mut c = Canvas::new(WIDTH, bottom + 50.0);
    c.text((WIDTH / 2.0, 22.0), title, Anchor::Middle, "title");
    legend(&mut c, &tones, 40.0);
    grid(&mut c, &x, Unit::Nanos, (top, bottom), axis);
    for (i, s) in strips.iter().enumerate() {
        let mid = top + 24.0 * i as f64 + 12.0;
        c.text((LABELS_END, mid + 5.0), &s.label, Anchor::End, "bar-label");
        c.line((PLOT.0, mid), (PLOT.1, mid), "#eee", 1.0);
        for &v in &s.samples_ns {
            let tip = format!("{}: {}", s.label, tick_ns(v as f64));
            c.dot((x.at(v as f64), mid), 4.5, s.tone.colour(), &tip);
        }
        if let Some(median) = median(&s.samples_ns) {
            let at = x.at(median);
            c.line((at, mid - 9.0), (at, mid + 9.0), "#111", 2.0);
        }
    }
    Ok(c.finish(title))
}

/// One line of a line chart: `(x, y)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Percentiles a latency plot shows, and where they sit on its `1 / (1 − q)` axis.
const QUANTILES: [f64; 8] = [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999];
/// The percentiles the latency plot's x axis names.
const NAMED: [(f64, &str); 5] = [
    (0.0, "0%"),
    (0.5, "50%"),
    (0.9, "90%"),
    (0.99, "99%"),
    (0.999, "99.9%"),
];

fn x_of(q: f64) -> f64 {
    1.0 / (1.0 - q)
}

/// Each task's start latency against percentile (both log scales), a line per series of
/// `(label, histogram)`: where many samples make a distribution worth drawing.
pub fn percentiles(
    title: &str,
    series: &[(String, hdrhistogram::Histogram<u64>)],
) -> anyhow::Result<String> {
    let lines: Vec<Line> = series
        .iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(label, h)| Line {
            label: label.clone(),
            points: QUANTILES
                .iter()
                .map(|&q| (x_of(q), h.value_at_quantile(q).max(1) as f64))
                .collect(),
        })
        .collect();
    let x = LogAxis::over(x_of(0.0) / 1.1, x_of(0.999) * 1.3, 80.0, 560.0);
    let ticks: Vec<(f64, String)> = NAMED.iter().map(|&(q, n)| (x_of(q), n.into())).collect();
    Ok(line_chart(
        title,
        (&x, &ticks, "percentile of tasks"),
        "start latency per task",
        &lines,
    ))
}

/// Nanoseconds per task against task count (both log scales), a line per series.
pub fn scaling(title: &str, lines: &[(String, Vec<(f64, f64)>)]) -> anyhow::Result<String> {
    let lines: Vec<Line> = lines
        .iter()
        .map(|(label, points)| Line {
            label: label.clone(),
            points: points.clone(),
        })
        .collect();
    let (min, max) = min_max(lines.iter().flat_map(|l| &l.points).map(|p| p.0));
    let x = LogAxis::fit(min, max, 80.0, 560.0);
    let ticks: Vec<(f64, String)> = x.ticks().into_iter().map(|v| (v, count(v))).collect();
    Ok(line_chart(
        title,
        (&x, &ticks, "tasks"),
        "ns per task",
        &lines,
    ))
}

/// `1k`, `10k`, `1M`.
fn count(n: f64) -> String {
    if n >= 1e6 {
        format!("{}M", n / 1e6)
    } else if n >= 1e3 {
        format!("{}k", n / 1e3)
    } else {
        format!("{n}")
    }
}

/// Lines on a log x axis (given, with its named ticks) and a log y axis of durations fitted to
/// the data, the legend to the right of the plot.
fn line_chart(
    title: &str,
    (x, x_ticks, x_name): (&LogAxis, &[(f64, String)], &str),
    y_name: &str,
    lines: &[Line],
) -> String {
    let (min, max) = min_max(lines.iter().flat_map(|l| &l.points).map(|p| p.1));
    let (top, bottom) = (44.0, 44.0 + 300f64.max(22.0 * lines.len() as f64));
    let y = LogAxis::fit(min, max, bottom, top);
    let mut c = Canvas::new(WIDTH, bottom + 56.0);
    c.text((WIDTH / 2.0, 22.0), title, Anchor::Middle, "title");
    // Frame, grid and ticks.
    let (left, right) = (80.0, 560.0);
    for v in y.ticks() {
        let at = y.at(v);
        c.line((left, at), (right, at), "#e4e4e4", 1.0);
        c.text((left - 6.0, at + 4.0), &tick_ns(v), Anchor::End, "tick v");
    }
    for (v, name) in x_ticks {
        let at = x.at(*v);
        c.line((at, top), (at, bottom), "#e4e4e4", 1.0);
        c.text((at, bottom + 18.0), name, Anchor::Middle, "tick x");
    }
    c.line((left, bottom), (right, bottom), "#444", 1.0);
    c.line((left, top), (left, bottom), "#444", 1.0);
    c.text(
        ((left + right) / 2.0, bottom + 42.0),
        x_name,
        Anchor::Middle,
        "axis-label",
    );
    c.vertical_text((18.0, (top + bottom) / 2.0), y_name, "axis-label");
    // Lines, each with dots at its points, and the legend beside.
    for (i, l) in lines.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let dash = if i >= 10 { "7 4" } else { "" };
        let points: Vec<(f64, f64)> = l.points.iter().map(|&(a, b)| (x.at(a), y.at(b))).collect();
        c.polyline(&points, colour, dash, &l.label);
        for (&(px, py), &(_, v)) in points.iter().zip(&l.points) {
            c.dot(
                (px, py),
                3.0,
                colour,
                &format!("{}: {}", l.label, tick_ns(v)),
            );
        }
        let ly = top + 8.0 + 22.0 * i as f64;
        c.line((580.0, ly), (604.0, ly), colour, 3.0);
        c.text(
            (612.0, ly + 5.0),
            &shorten(&l.label, 40),
            Anchor::Start,
            "legend",
        );
    }
    c.finish(title)
}

/// The vertical grid, the ticks under it and the axis' name, for a labelled (bars or strips)
/// chart whose plot runs from `top` to `bottom`.
fn grid(c: &mut Canvas, x: &LogAxis, unit: Unit, (top, bottom): (f64, f64), name: &str) {
    for v in x.ticks() {
        let at = x.at(v);
        c.line((at, top), (at, bottom), "#e4e4e4", 1.0);
        let label = match unit {
            Unit::Times => tick_times(v),
            Unit::Nanos => tick_ns(v),
        };
        c.text((at, bottom + 18.0), &label, Anchor::Middle, "tick v");
    }
    c.line((PLOT.0, bottom), (PLOT.1, bottom), "#444", 1.0);
    c.text(
        ((PLOT.0 + PLOT.1) / 2.0, bottom + 42.0),
        name,
        Anchor::Middle,
        "axis-label",
    );
}

/// The families shown, in a fixed order.
fn tones_in(tones: impl Iterator<Item = Tone>) -> Vec<Tone> {
    let mut seen: Vec<Tone> = tones.collect();
    seen.sort();
    seen.dedup();
    Tone::ALL.into_iter().filter(|t| seen.contains(t)).collect()
}

/// Where each of `tones`' legend entries goes: left to right, each as wide as its name (about
/// 8 units a character at the legend's size), onto a new line when the next would not fit.
fn legend_places(tones: &[Tone]) -> Vec<(f64, f64)> {
    let (mut x, mut line) = (20.0, 0.0);
    let mut places = Vec::new();
    for t in tones {
        let width = 20.0 + 8.0 * t.name().chars().count() as f64 + 24.0;
        if x + width > WIDTH - 10.0 && x > 20.0 {
            (x, line) = (20.0, line + 1.0);
        }
        places.push((x, 22.0 * line));
        x += width;
    }
    places
}

/// How far a legend of `tones` reaches down.
fn legend_height(tones: &[Tone]) -> f64 {
    legend_places(tones).last().map_or(0.0, |p| p.1 + 22.0) + 4.0
}

/// Swatches and names of `tones`, from `y` down.
fn legend(c: &mut Canvas, tones: &[Tone], y: f64) {
    for (t, (x, dy)) in tones.iter().zip(legend_places(tones)) {
        c.rect((x, y + dy), (14.0, 14.0), t.colour(), t.name());
        c.text((x + 20.0, y + dy + 12.0), t.name(), Anchor::Start, "legend");
    }
}

fn value_text(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Times => format!("{}×", (v * 100.0).round() / 100.0),
        Unit::Nanos => tick_ns(v),
    }
}

/// The least and greatest finite positive values; `(1, 10)` for none.
fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::MAX, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if hi == 0.0 { (1.0, 10.0) } else { (lo, hi) }
}

fn median(samples: &[u64]) -> Option<f64> {
    let mut s = samples.to_vec();
    s.sort_unstable();
    let n = s.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(s[n / 2] as f64),
        _ => Some((s[n / 2 - 1] as f64 + s[n / 2] as f64) / 2.0),
    }
}

/// `text` cut to `max` characters with an ellipsis (the full text stays in the line's data).
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_chart_is_centred_on_a_tie() {
        let svg = bars(
            "t",
            "times faster",
            Unit::Times,
            &[Group {
                name: "ex".into(),
                bars: vec![Bar {
                    label: "a".into(),
                    value: 4.0,
                    interval: Some((3.0, 5.0)),
                    tone: Tone::Project,
                    note: None,
                }],
            }],
        )
        .expect("drawn");
        // 1× is a tick, and the axis reaches as far below it as above.
        assert!(svg.contains(">1×</text>"), "{svg}");
        assert!(
            svg.contains(">0.2×</text>") && svg.contains(">5×</text>"),
            "{svg}"
        );
    }

    #[test]
    fn counts_read_as_people_write_them() {
        assert_eq!(count(1e3), "1k");
        assert_eq!(count(1e7), "10M");
        assert_eq!(count(500.0), "500");
    }

    #[test]
    fn long_legend_labels_are_cut_with_an_ellipsis() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
