//! The report's charts: dots on a log axis grouped by exercise (durations, or ratios centred
//! on a tie), strips of run times, and lines on log-log axes (start-latency percentiles, the
//! sweep's scaling). Colour says the family of a dot or strip; lines get a colour and a dash
//! pattern each, no two alike, named in a legend under the plot.
//!
//! No chart draws bars: on a log axis a bar's length is not its value (a 1,460× gap would look
//! like 7×), so a value is a dot, an interval a whisker, and the figure is written beside it.
//! A row's label sits on its own line above its dots, so a chart fits a phone's width
//! (`svg::WIDTH`) with its text at a readable size.

use std::fmt::Write;

use super::svg::{self, Anchor, Canvas, FONT, LogAxis, WIDTH, tick_ns, tick_times};
use crate::exercises;
use crate::results::{Implementation, Row};

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
            Tone::CPythonOther => "CPython, other loop, gc off or script variant",
            Tone::PyPy => "PyPy",
        }
    }
}

/// Line colours: ten that tell apart on white (d3's category10).
const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// Dash patterns, one per round of the palette: solid, dashed, dotted, dash-dot.
const DASHES: [&str; 4] = ["", "8 4", "2 3", "10 3 2 3"];

/// The colour and dash pattern of the `i`th line: the palette's colours solid, then each
/// dashed, dotted, dash-dotted, then longer dashes; no two lines share both.
pub fn line_style(i: usize) -> (&'static str, String) {
    let round = i / PALETTE.len();
    let dash = match DASHES.get(round) {
        Some(d) => (*d).to_owned(),
        None => format!("{round} 3"),
    };
    (PALETTE[i % PALETTE.len()], dash)
}

/// One row of a dot chart: a value, an optional 95% interval, its family and an optional
/// figure written beside it. (Named `Bar` from when these were bars; it is drawn as a dot.)
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub interval: Option<(f64, f64)>,
    pub tone: Tone,
    pub note: Option<String>,
}

/// Rows under one heading (an exercise).
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: String,
    pub bars: Vec<Bar>,
}

/// What a dot chart's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Ratios (times faster), on an axis centred on 1×; each dot carries its figure, `N×
    /// faster` or `N× slower`.
    Times,
    /// Durations in nanoseconds; a dot carries its figure when the caller gives one.
    Nanos,
}

/// Where a labelled chart's plot area begins and ends: the whole width but room for the tick
/// labels at its ends.
const PLOT: (f64, f64) = (36.0, WIDTH - 36.0);
/// Where a row's label and a group's heading start.
const LEFT: f64 = 8.0;
/// A row of a labelled chart: its label's line, then its dots' lane.
const ROW: f64 = 42.0;
/// From a row's top to its label's baseline, and to the middle of its lane: a label nearer its
/// own dots than the row's above.
const LABEL_AT: f64 = 20.0;
const LANE_AT: f64 = 32.0;
/// A line of a heading or title.
const LINE: f64 = 20.0;
/// The radius of a row's dot, and of a strip's.
const DOT: f64 = 5.5;
const STRIP_DOT: f64 = 4.5;
/// More rows than this and the ticks are written above the rows as well as under them.
const TICKS_ON_TOP: usize = 8;

/// A dot per row on a log axis, grouped under headings, coloured by family, with whiskers for
/// an interval and the figure beside the dot; the legend of the families shown above the plot.
/// [`Unit::Times`] centres the axis on 1× (a tie) and reads left of it as "slower".
pub fn bars(title: &str, axis: &str, unit: Unit, groups: &[Group]) -> anyhow::Result<String> {
    let all = groups.iter().flat_map(|g| &g.bars).flat_map(|b| {
        let (l, h) = b.interval.unwrap_or((b.value, b.value));
        [b.value, l, h]
    });
    let (min, max) = min_max(all);
    let x = match unit {
        Unit::Times => {
            // Symmetric about 1×, so a dot's distance from the tie reads the same either way.
            let reach = (max.max(1.0 / min) * 1.25).max(1.5);
            LogAxis::over(1.0 / reach, reach, PLOT.0, PLOT.1)
        }
        Unit::Nanos => LogAxis::fit_with_room(min, max, PLOT, DOT + 1.0),
    };
    let ticks = spaced(&x, value_ticks(&x, unit));
    let tones = tones_in(groups.iter().flat_map(|g| &g.bars).map(|b| b.tone));
    let rows: usize = groups.iter().map(|g| g.bars.len()).sum();
    let mut c = Canvas::new(WIDTH, 0.0);
    let mut top = heading(&mut c, title, &tones);
    if rows > TICKS_ON_TOP {
        tick_labels(&mut c, &x, &ticks, top + 16.0);
        top += 26.0;
    }
    let bottom = top
        + groups
            .iter()
            .map(|g| group_lines(&g.name).len() as f64 * LINE + 4.0 + ROW * g.bars.len() as f64)
            .sum::<f64>()
        + 4.0;
    grid(&mut c, &x, &ticks, (top, bottom));
    if unit == Unit::Times {
        c.stroke(
            (x.at(1.0), top),
            (x.at(1.0), bottom),
            ("#111", 1.5, ""),
            "tie",
        );
    }
    let mut y = top;
    for g in groups {
        for line in group_lines(&g.name) {
            c.text((LEFT, y + 15.0), &line, Anchor::Start, "group");
            y += LINE;
        }
        y += 4.0;
        for b in &g.bars {
            dot_row(&mut c, &x, unit, b, y);
            y += ROW;
        }
    }
    let y = axis_under(&mut c, (&x, &ticks), bottom, axis, unit == Unit::Times);
    c.set_height(y);
    Ok(c.finish(title))
}

/// A group's heading, in lines that fit the chart.
fn group_lines(name: &str) -> Vec<String> {
    svg::wrap(name, WIDTH - 2.0 * LEFT, FONT, true)
}

/// One row of a dot chart whose top is `y`: the label, the lane, the whisker, the dot and the
/// figure beside them (on the side with room).
fn dot_row(c: &mut Canvas, x: &LogAxis, unit: Unit, b: &Bar, y: f64) {
    c.text((LEFT, y + LABEL_AT), &b.label, Anchor::Start, "bar-label");
    let mid = y + LANE_AT;
    c.line((PLOT.0, mid), (PLOT.1, mid), "#eee", 1.0);
    let at = x.at(b.value);
    let (mut left, mut right) = (at - DOT, at + DOT);
    let mut tip = format!("{}: {}", b.label, value_text(unit, b.value));
    if let Some((l, h)) = b.interval {
        let _ = write!(
            tip,
            "; 95% interval {} to {}",
            value_text(unit, l),
            value_text(unit, h)
        );
        let (l, h) = (x.at(l), x.at(h));
        c.line((l, mid), (h, mid), "#111", 1.5);
        c.line((l, mid - 5.0), (l, mid + 5.0), "#111", 1.5);
        c.line((h, mid - 5.0), (h, mid + 5.0), "#111", 1.5);
        (left, right) = (left.min(l), right.max(h));
    }
    c.dot((at, mid), DOT, b.tone.colour(), &tip);
    let note = match unit {
        Unit::Times => Some(b.note.clone().unwrap_or_else(|| ratio_text(b.value))),
        Unit::Nanos => b.note.clone(),
    };
    if let Some(note) = note {
        let width = svg::text_width(&note, FONT, true);
        if right + 6.0 + width <= WIDTH - 2.0 {
            c.text((right + 6.0, mid + 5.0), &note, Anchor::Start, "note");
        } else if left - 6.0 - width >= 2.0 {
            c.text((left - 6.0, mid + 5.0), &note, Anchor::End, "note");
        } else {
            // The whisker spans the plot: the figure goes at the end of the label's line.
            c.text((WIDTH - LEFT, y + LABEL_AT), &note, Anchor::End, "note");
        }
    }
}

/// A ratio as a reader says it: `4.20× faster`, `413× slower` (never `0×`).
pub fn ratio_text(x: f64) -> String {
    if !(x.is_finite() && x > 0.0) {
        "—".to_owned()
    } else if x >= 1.0 {
        format!("{} faster", super::figures::times(x))
    } else {
        format!("{} slower", super::figures::times(1.0 / x))
    }
}

/// One row of a strip chart: every sample a dot.
#[derive(Debug, Clone, PartialEq)]
pub struct Strip {
    pub label: String,
    pub tone: Tone,
    pub samples_ns: Vec<u64>,
}

/// Every sample of every row as a dot on a log axis of time, a row a lane under its label,
/// with a tick at each row's median: the run-to-run spread, which a table's figures only
/// summarise. The axis reaches past every sample, so no dot is cut.
pub fn strips(title: &str, axis: &str, strips: &[Strip]) -> anyhow::Result<String> {
    let (min, max) = min_max(strips.iter().flat_map(|s| &s.samples_ns).map(|&v| v as f64));
    // Room for a dot's radius past the smallest and the largest sample.
    let x = LogAxis::fit_with_room(min, max, PLOT, STRIP_DOT + 1.0);
    let ticks = spaced(&x, value_ticks(&x, Unit::Nanos));
    let tones = tones_in(strips.iter().map(|s| s.tone));
    let mut c = Canvas::new(WIDTH, 0.0);
    let mut top = heading(&mut c, title, &tones);
    if strips.len() > TICKS_ON_TOP {
        tick_labels(&mut c, &x, &ticks, top + 16.0);
        top += 26.0;
    }
    let bottom = top + ROW * strips.len() as f64 + 4.0;
    grid(&mut c, &x, &ticks, (top, bottom));
    for (i, s) in strips.iter().enumerate() {
        let y = top + ROW * i as f64;
        c.text((LEFT, y + LABEL_AT), &s.label, Anchor::Start, "bar-label");
        let mid = y + LANE_AT;
        c.line((PLOT.0, mid), (PLOT.1, mid), "#eee", 1.0);
        for v in drawn(&s.samples_ns) {
            let tip = format!("{}: {}", s.label, tick_ns(v as f64));
            c.dot((x.at(v as f64), mid), STRIP_DOT, s.tone.colour(), &tip);
        }
        if let Some(median) = median(&s.samples_ns) {
            let at = x.at(median);
            c.line((at, mid - 9.0), (at, mid + 9.0), "#111", 2.0);
        }
    }
    let y = axis_under(&mut c, (&x, &ticks), bottom, axis, false);
    c.set_height(y);
    Ok(c.finish(title))
}

/// The most dots a strip draws: past it they overlap into a line anyway, and a dot each for
/// millions of samples made a report of hundreds of megabytes.
pub const MOST_DOTS: usize = 1_000;

/// The samples a strip draws: all of them, or past [`MOST_DOTS`] that many order statistics
/// spread evenly from the smallest to the largest, so the spread drawn is the spread measured.
fn drawn(samples: &[u64]) -> Vec<u64> {
    if samples.len() <= MOST_DOTS {
        return samples.to_vec();
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let last = sorted.len() - 1;
    (0..MOST_DOTS)
        .map(|k| sorted[k * last / (MOST_DOTS - 1)])
        .collect()
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

/// Where a line chart's plot area is, left to right.
const LINES_X: (f64, f64) = (84.0, WIDTH - 20.0);
/// A line chart's plot height.
const LINES_HEIGHT: f64 = 260.0;

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
    let x = LogAxis::over(x_of(0.0) / 1.1, x_of(0.999) * 1.3, LINES_X.0, LINES_X.1);
    let ticks: Vec<(f64, String)> = NAMED.iter().map(|&(q, n)| (x_of(q), n.into())).collect();
    Ok(line_chart(
        title,
        (&x, &ticks, "percentile of tasks"),
        "start latency per task",
        &lines,
    ))
}

/// Nanoseconds per task against task count (both log scales), a line per series, each its
/// own colour and dash ([`line_style`]).
pub fn scaling(title: &str, lines: &[(String, Vec<(f64, f64)>)]) -> anyhow::Result<String> {
    let lines: Vec<Line> = lines
        .iter()
        .map(|(label, points)| Line {
            label: label.clone(),
            points: points.clone(),
        })
        .collect();
    let (min, max) = min_max(lines.iter().flat_map(|l| &l.points).map(|p| p.0));
    let x = LogAxis::fit(min, max, LINES_X.0, LINES_X.1);
    let ticks: Vec<(f64, String)> = x.ticks().into_iter().map(|v| (v, count(v))).collect();
    let ticks = spaced(&x, ticks);
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
/// the data; the legend under the plot, a line's swatch drawn as the line is.
fn line_chart(
    title: &str,
    (x, x_ticks, x_name): (&LogAxis, &[(f64, String)], &str),
    y_name: &str,
    lines: &[Line],
) -> String {
    let (min, max) = min_max(lines.iter().flat_map(|l| &l.points).map(|p| p.1));
    let mut c = Canvas::new(WIDTH, 0.0);
    let top = heading(&mut c, title, &[]) + 6.0;
    let bottom = top + LINES_HEIGHT;
    let y = LogAxis::fit(min, max, bottom, top);
    let (left, right) = LINES_X;
    // Frame, grid and ticks: y ticks at least a line apart.
    let mut last = f64::MAX;
    for v in y.ticks() {
        let at = y.at(v);
        if last - at < LINE {
            continue;
        }
        last = at;
        c.line((left, at), (right, at), "#e4e4e4", 1.0);
        c.text((left - 6.0, at + 5.0), &tick_ns(v), Anchor::End, "tick v");
    }
    for (v, name) in x_ticks {
        let at = x.at(*v);
        c.line((at, top), (at, bottom), "#e4e4e4", 1.0);
        c.text((at, bottom + 20.0), name, Anchor::Middle, "tick x");
    }
    c.stroke((left, bottom), (right, bottom), ("#444", 1.0, ""), "axis");
    c.stroke((left, top), (left, bottom), ("#444", 1.0, ""), "axis");
    c.text(
        ((left + right) / 2.0, bottom + 44.0),
        x_name,
        Anchor::Middle,
        "axis-label",
    );
    c.vertical_text((18.0, (top + bottom) / 2.0), y_name, "axis-label");
    // Lines, each with dots at its points; the legend under the axis' name.
    let legend_top = bottom + 60.0;
    let max_label = WIDTH - LEFT - 48.0;
    for (i, l) in lines.iter().enumerate() {
        let (colour, dash) = line_style(i);
        let points: Vec<(f64, f64)> = l.points.iter().map(|&(a, b)| (x.at(a), y.at(b))).collect();
        c.polyline(&points, colour, &dash, &l.label);
        for (&(px, py), &(_, v)) in points.iter().zip(&l.points) {
            c.dot(
                (px, py),
                3.0,
                colour,
                &format!("{}: {}", l.label, tick_ns(v)),
            );
        }
        let ly = legend_top + LINE * i as f64;
        c.stroke(
            (LEFT, ly),
            (LEFT + 34.0, ly),
            (colour, 2.5, &dash),
            "swatch",
        );
        c.text(
            (LEFT + 42.0, ly + 5.0),
            &fit_text(&l.label, max_label),
            Anchor::Start,
            "legend",
        );
    }
    c.set_height(legend_top + LINE * lines.len() as f64);
    c.finish(title)
}

/// The title, in lines that fit, and the legend of `tones` under it; returns where the plot
/// may begin.
fn heading(c: &mut Canvas, title: &str, tones: &[Tone]) -> f64 {
    let mut y = 22.0;
    for line in svg::wrap(title, WIDTH - 2.0 * LEFT, 16.0, true) {
        c.text((WIDTH / 2.0, y), &line, Anchor::Middle, "title");
        y += LINE + 2.0;
    }
    if tones.is_empty() {
        return y - 4.0;
    }
    legend(c, tones, y - 6.0);
    y - 6.0 + legend_height(tones)
}

/// The tick values of a dot chart's axis with their labels. On a ratio axis the ticks are
/// mirrored about 1× and read as magnitudes (`10×` either side; "slower" and "faster" are
/// written under the axis).
fn value_ticks(x: &LogAxis, unit: Unit) -> Vec<(f64, String)> {
    match unit {
        Unit::Nanos => x.ticks().into_iter().map(|v| (v, tick_ns(v))).collect(),
        Unit::Times => {
            let up: Vec<f64> = LogAxis::over(1.0, x.hi, 0.0, 1.0)
                .ticks()
                .into_iter()
                .filter(|v| *v > 1.0 + 1e-9)
                .collect();
            let mut ticks: Vec<(f64, String)> =
                up.iter().rev().map(|v| (1.0 / v, tick_times(*v))).collect();
            ticks.push((1.0, tick_times(1.0)));
            ticks.extend(up.iter().map(|v| (*v, tick_times(*v))));
            ticks
        }
    }
}

/// Every `k`th of `ticks` for the least `k` whose labels do not touch, keeping 1× (a ratio
/// axis' centre) or else the first; at least the two ends if nothing else fits.
fn spaced(x: &LogAxis, ticks: Vec<(f64, String)>) -> Vec<(f64, String)> {
    let anchor = ticks
        .iter()
        .position(|(v, _)| (v - 1.0).abs() < 1e-9 && ticks.iter().any(|(w, _)| *w < 1.0))
        .unwrap_or(0);
    let clear = |kept: &[&(f64, String)]| {
        kept.windows(2).all(|w| {
            let room = (svg::text_width(&w[0].1, FONT, false)
                + svg::text_width(&w[1].1, FONT, false))
                / 2.0;
            x.at(w[1].0) - x.at(w[0].0) >= room + 14.0
        })
    };
    for k in 1..ticks.len().max(2) {
        let kept: Vec<&(f64, String)> = ticks
            .iter()
            .enumerate()
            .filter(|(i, _)| i.abs_diff(anchor) % k == 0)
            .map(|(_, t)| t)
            .collect();
        if kept.len() >= 2 && clear(&kept) {
            return kept.into_iter().cloned().collect();
        }
    }
    match (ticks.first(), ticks.last()) {
        (Some(a), Some(b)) if ticks.len() >= 2 => vec![a.clone(), b.clone()],
        _ => ticks,
    }
}

/// Tick labels at height `y`, each under (or over) its tick, kept inside the picture.
fn tick_labels(c: &mut Canvas, x: &LogAxis, ticks: &[(f64, String)], y: f64) {
    for (v, label) in ticks {
        let half = svg::text_width(label, FONT, false) / 2.0;
        let at = x.at(*v).clamp(half + 2.0, WIDTH - half - 2.0);
        c.text((at, y), label, Anchor::Middle, "tick v");
    }
}

/// The vertical grid of a labelled chart's plot, from `top` to `bottom`.
fn grid(c: &mut Canvas, x: &LogAxis, ticks: &[(f64, String)], (top, bottom): (f64, f64)) {
    for (v, _) in ticks {
        let at = x.at(*v);
        c.line((at, top), (at, bottom), "#e4e4e4", 1.0);
    }
}

/// Under a labelled chart's plot: the axis' line, the ticks, "slower"/"faster" on a ratio
/// axis, and the axis' name; returns the picture's height.
fn axis_under(
    c: &mut Canvas,
    (x, ticks): (&LogAxis, &[(f64, String)]),
    bottom: f64,
    name: &str,
    sides: bool,
) -> f64 {
    c.stroke(
        (PLOT.0, bottom),
        (PLOT.1, bottom),
        ("#444", 1.0, ""),
        "axis",
    );
    tick_labels(c, x, ticks, bottom + 20.0);
    let mut y = bottom + 42.0;
    if sides {
        c.text((PLOT.0, y), "◀ slower", Anchor::Start, "side");
        c.text((PLOT.1, y), "faster ▶", Anchor::End, "side");
        y += LINE + 2.0;
    }
    for line in svg::wrap(name, WIDTH - 2.0 * LEFT, FONT, false) {
        c.text((WIDTH / 2.0, y), &line, Anchor::Middle, "axis-label");
        y += LINE;
    }
    y
}

/// The families shown, in a fixed order.
fn tones_in(tones: impl Iterator<Item = Tone>) -> Vec<Tone> {
    let mut seen: Vec<Tone> = tones.collect();
    seen.sort();
    seen.dedup();
    Tone::ALL.into_iter().filter(|t| seen.contains(t)).collect()
}

/// Where each of `tones`' legend entries goes: left to right, each as wide as its name, onto a
/// new line when the next would not fit.
fn legend_places(tones: &[Tone]) -> Vec<(f64, f64)> {
    let (mut x, mut line) = (LEFT, 0.0);
    let mut places = Vec::new();
    for t in tones {
        let width = 18.0 + svg::text_width(t.name(), FONT, false) + 16.0;
        if x + width > WIDTH - LEFT && x > LEFT {
            (x, line) = (LEFT, line + 1.0);
        }
        places.push((x, LINE * line));
        x += width;
    }
    places
}

/// How far a legend of `tones` reaches down.
fn legend_height(tones: &[Tone]) -> f64 {
    legend_places(tones).last().map_or(0.0, |p| p.1 + LINE) + 8.0
}

/// A dot and the name of each of `tones`, from `y` down: above the plot, never over it.
fn legend(c: &mut Canvas, tones: &[Tone], y: f64) {
    for (t, (x, dy)) in tones.iter().zip(legend_places(tones)) {
        c.dot((x + 6.0, y + dy + 8.0), 6.0, t.colour(), t.name());
        c.text((x + 18.0, y + dy + 13.0), t.name(), Anchor::Start, "legend");
    }
}

fn value_text(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Times => ratio_text(v),
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

/// `text` cut with an ellipsis to fit `width` (the full text stays in the line's data).
fn fit_text(text: &str, width: f64) -> String {
    let per_char = svg::text_width("x", FONT, false);
    crate::format::shorten(text, (width / per_char).floor().max(2.0) as usize)
}

/// The family a row's colour stands for.
pub(crate) fn tone(row: &Row) -> Tone {
    if let Implementation::PyPy { .. } = row.kind() {
        return Tone::PyPy;
    }
    if row.is_python() {
        return if row.variant == "asyncio" {
            Tone::CPython
        } else {
            Tone::CPythonOther
        };
    }
    use exercises::Family;
    let family = exercises::find(&row.exercise)
        .and_then(|ex| ex.variant(&row.variant))
        .map(|v| v.family);
    match family {
        Some(Family::Tokio) => Tone::Tokio,
        Some(Family::Peer) => Tone::Peer,
        Some(Family::Floor) => Tone::Floor,
        // A variant this build does not know (an old results file) counts as the project's.
        Some(Family::Project) | None => Tone::Project,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_strip_of_millions_of_samples_draws_a_thousand_dots_with_its_ends() {
        let many: Vec<u64> = (1..=2_500_000).rev().collect();
        let d = drawn(&many);
        assert_eq!(d.len(), MOST_DOTS);
        assert_eq!((d[0], d[MOST_DOTS - 1]), (1, 2_500_000));
        let svg = strips(
            "t",
            "ns",
            &[Strip {
                label: "row".into(),
                tone: Tone::Project,
                samples_ns: many,
            }],
        )
        .unwrap();
        assert!(
            svg.matches("<circle").count() <= MOST_DOTS + 10,
            "{}",
            svg.len()
        );
        assert!(svg.len() < 1_000_000, "{} bytes", svg.len());
        assert_eq!(drawn(&[3, 1, 2]), [3, 1, 2], "few samples: every one");
    }

    fn ratio_chart(values: &[(f64, Option<(f64, f64)>)]) -> String {
        let bars = values
            .iter()
            .enumerate()
            .map(|(i, &(value, interval))| Bar {
                label: format!("row {i}"),
                value,
                interval,
                tone: Tone::Project,
                note: None,
            })
            .collect();
        bars_chart(Unit::Times, bars)
    }

    fn bars_chart(unit: Unit, rows: Vec<Bar>) -> String {
        bars(
            "t",
            "times faster",
            unit,
            &[Group {
                name: "ex".into(),
                bars: rows,
            }],
        )
        .expect("drawn")
    }

    /// The x of each `<text>` of `class` whose text is `text`.
    fn text_xs(svg: &str, class: &str, text: &str) -> Vec<f64> {
        svg.lines()
            .filter(|l| l.contains(&format!(r#"class="{class}">{text}</text>"#)))
            .filter_map(|l| l.split("x=\"").nth(1)?.split('"').next()?.parse().ok())
            .collect()
    }

    #[test]
    fn a_ratio_chart_is_centred_on_a_tie_and_reads_magnitudes_both_ways() {
        let svg = ratio_chart(&[(4.0, Some((3.0, 5.0)))]);
        // 1× in the middle; 2× and 5× once each side of it, at the same distance.
        let tie = text_xs(&svg, "tick v", "1×");
        assert_eq!(tie.len(), 1, "{svg}");
        for tick in ["2×", "5×"] {
            let xs = text_xs(&svg, "tick v", tick);
            assert_eq!(xs.len(), 2, "{tick} either side: {svg}");
            assert!(((tie[0] - xs[0]) - (xs[1] - tie[0])).abs() < 0.2, "{xs:?}");
        }
        assert!(svg.contains(">◀ slower</text>") && svg.contains(">faster ▶</text>"));
    }

    #[test]
    fn ratios_below_one_read_as_times_slower_never_zero() {
        assert_eq!(ratio_text(0.0024), "417× slower");
        assert_eq!(ratio_text(1.0 / 413.0), "413× slower");
        assert_eq!(ratio_text(0.5), "2.00× slower");
        assert_eq!(ratio_text(4.2), "4.20× faster");
        assert_eq!(ratio_text(1460.0), "1460× faster");
        assert_eq!(ratio_text(0.0), "—");
        let svg = ratio_chart(&[(0.0024, Some((0.002, 0.003))), (2.5, None)]);
        assert!(svg.contains(r#"class="note">417× slower</text>"#), "{svg}");
        assert!(svg.contains(r#"class="note">2.50× faster</text>"#), "{svg}");
        assert!(!svg.contains(">0×<") && !svg.contains(">0.00×"), "{svg}");
    }

    #[test]
    fn values_are_dots_with_whiskers_never_bars() {
        let svg = bars_chart(
            Unit::Nanos,
            vec![
                Bar {
                    label: "fast".into(),
                    value: 1.0,
                    interval: None,
                    tone: Tone::Project,
                    note: Some("1.00 ns".into()),
                },
                Bar {
                    label: "slow".into(),
                    value: 1460.0,
                    interval: Some((1000.0, 2000.0)),
                    tone: Tone::CPython,
                    note: None,
                },
            ],
        );
        // The only rectangle is the white background.
        assert_eq!(svg.matches("<rect").count(), 1, "{svg}");
        assert!(svg.contains(r#"<rect width="100%" height="100%""#));
        // A dot per row and per legend entry; three strokes of whisker for the interval.
        assert_eq!(svg.matches("<circle").count(), 2 + 2, "{svg}");
        assert_eq!(svg.matches(r##"stroke="#111""##).count(), 3, "{svg}");
        assert!(svg.contains(r#"class="note">1.00 ns</text>"#));
    }

    #[test]
    fn every_line_has_its_own_colour_and_dash() {
        let styles: Vec<(&str, String)> = (0..100).map(line_style).collect();
        let mut distinct = styles.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), styles.len());
        // The first ten are solid and of ten different colours.
        let first: Vec<&str> = styles[..10].iter().map(|s| s.0).collect();
        assert!(styles[..10].iter().all(|s| s.1.is_empty()));
        let mut colours = first.clone();
        colours.sort_unstable();
        colours.dedup();
        assert_eq!(colours.len(), 10, "{first:?}");
    }

    #[test]
    fn ticks_are_thinned_until_their_labels_clear_each_other() {
        // Twelve decades on a phone-wide axis: every decade's label would touch the next.
        let x = LogAxis::over(1e-1, 1e11, PLOT.0, PLOT.1);
        let all = value_ticks(&x, Unit::Nanos);
        let kept = spaced(&x, all.clone());
        assert!(kept.len() >= 2 && kept.len() < all.len(), "{kept:?}");
        for w in kept.windows(2) {
            let room = (svg::text_width(&w[0].1, FONT, false)
                + svg::text_width(&w[1].1, FONT, false))
                / 2.0;
            assert!(x.at(w[1].0) - x.at(w[0].0) >= room, "{kept:?}");
        }
        // A ratio axis keeps its centre.
        let x = LogAxis::over(1e-4, 1e4, PLOT.0, PLOT.1);
        let kept = spaced(&x, value_ticks(&x, Unit::Times));
        assert!(kept.iter().any(|(v, l)| *v == 1.0 && l == "1×"), "{kept:?}");
    }

    #[test]
    fn long_titles_and_headings_wrap_inside_the_picture() {
        let svg = bars(
            "How many times faster than each exercise's reference, a title too long for a phone",
            "times faster",
            Unit::Times,
            &[Group {
                name: "ex_6_3: current-task look-up, many times over (asyncio.current_task)".into(),
                bars: vec![Bar {
                    label: "a".into(),
                    value: 2.0,
                    interval: None,
                    tone: Tone::Project,
                    note: None,
                }],
            }],
        )
        .expect("drawn");
        assert!(svg.matches(r#"class="title">"#).count() >= 2, "{svg}");
        assert!(svg.matches(r#"class="group">"#).count() >= 2, "{svg}");
        for (class, size) in [("title", 16.0), ("group", FONT)] {
            for line in svg
                .lines()
                .filter(|l| l.contains(&format!("class=\"{class}\"")))
            {
                let text: Option<&str> = line.split('>').nth(1).and_then(|t| t.split('<').next());
                let width = svg::text_width(text.unwrap_or(""), size, true);
                assert!(width <= WIDTH - 2.0 * LEFT, "{line}");
            }
        }
    }

    #[test]
    fn counts_read_as_people_write_them() {
        assert_eq!(count(1e3), "1k");
        assert_eq!(count(1e7), "10M");
        assert_eq!(count(500.0), "500");
    }

    #[test]
    fn long_legend_labels_are_cut_with_an_ellipsis() {
        assert_eq!(crate::format::shorten("abcdef", 4), "abc…");
        assert_eq!(crate::format::shorten("abc", 4), "abc");
        assert_eq!(fit_text("abc", 400.0), "abc");
        assert!(fit_text(&"x".repeat(100), 100.0).ends_with('…'));
    }
}
