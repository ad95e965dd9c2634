//! A small SVG canvas and the log axes the report's charts stand on.
//!
//! Written here rather than drawn with a plotting crate because what a reader needs from these
//! charts is control over exactly the things such crates decide for you: ticks that fall inside
//! the data, a legend outside the plot rather than over it, text at a size a person reads, and a
//! picture that scales with the page.
//!
//! Every chart is drawn [`WIDTH`] units wide with no text under [`FONT`] units, so that on a
//! phone, where the page's column is about 360 px wide, its text is still 11 px or more; on a
//! wider screen a chart is shown at its natural size.

use std::fmt::Write;

use crate::format::fmt_ns;

/// The text size of labels and ticks, in the SVG's own units (pixels at its natural width):
/// the smallest text of every chart.
pub const FONT: f64 = 14.0;

/// The width of every chart, in its own units (pixels at natural size): on a 390 px phone,
/// whose page column is 360 px or a little more, a chart shrinks to about 0.82 of it, and
/// [`FONT`] to 11.4 px.
pub const WIDTH: f64 = 440.0;

/// About how wide `text` is at `size` units, bold or not: system sans-serif fonts average a
/// little over half an em a character; this errs wide, so text placed by it does not collide.
pub fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    let em = if bold { 0.64 } else { 0.6 };
    text.chars().count() as f64 * size * em
}

/// `text` cut into lines no wider than `width` at `size`, at spaces (a word longer than a line
/// gets a line of its own).
pub fn wrap(text: &str, width: f64, size: f64, bold: bool) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(&candidate, size, bold) > width {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        } else {
            line = candidate;
        }
    }
    lines.push(line);
    lines
}

/// Where a text's anchor point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// An SVG picture being drawn: a width, a height and its elements so far.
#[derive(Debug)]
pub struct Canvas {
    width: f64,
    height: f64,
    body: String,
}

impl Canvas {
    pub fn new(width: f64, height: f64) -> Self {
        Self {
            width,
            height,
            body: String::new(),
        }
    }

    /// Sets the picture's height, for a chart that knows it only once drawn.
    pub fn set_height(&mut self, height: f64) {
        self.height = height;
    }

    /// Text at `(x, y)` (its baseline); `class` names its role (`tick v`, `axis-label`, …).
    pub fn text(&mut self, (x, y): (f64, f64), text: &str, anchor: Anchor, class: &str) {
        let anchor = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" class="{class}">{}</text>"#,
            escape(text)
        );
    }

    /// Text turned a quarter left, for a vertical axis' name.
    pub fn vertical_text(&mut self, (x, y): (f64, f64), text: &str, class: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" transform="rotate(-90 {x:.1} {y:.1})" class="{class}">{}</text>"#,
            escape(text)
        );
    }

    pub fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str, width: f64) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{stroke}" stroke-width="{width}"/>"#
        );
    }

    /// A line with a role: `class` names it (`axis`, `swatch`), `dash` is an SVG dash pattern
    /// or empty.
    pub fn stroke(
        &mut self,
        (x1, y1): (f64, f64),
        (x2, y2): (f64, f64),
        (stroke, width, dash): (&str, f64, &str),
        class: &str,
    ) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{stroke}" stroke-width="{width}"{} class="{class}"/>"#,
            dash_attribute(dash)
        );
    }

    /// A dot; `tip` is what a reader hovering over it sees (the value it stands for).
    pub fn dot(&mut self, (x, y): (f64, f64), r: f64, fill: &str, tip: &str) {
        let _ = writeln!(
            self.body,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="{fill}" fill-opacity="0.75"><title>{}</title></circle>"#,
            escape(tip)
        );
    }

    /// A line through `points`; `series` names it (the legend's label), `dash` is an SVG dash
    /// pattern or empty.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, dash: &str, series: &str) {
        let mut d = String::new();
        for (x, y) in points {
            let _ = write!(d, "{x:.1},{y:.1} ");
        }
        let _ = writeln!(
            self.body,
            r#"<polyline points="{}" fill="none" stroke="{stroke}" stroke-width="2.5"{} class="series" data-series="{}"/>"#,
            d.trim_end(),
            dash_attribute(dash),
            escape(series)
        );
    }

    /// The finished picture: `title` is what a screen reader says and a hover shows.
    pub fn finish(self, title: &str) -> String {
        format!(
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" font-family="system-ui, sans-serif" font-size="{font}">"#,
                "\n<title>{title}</title>\n",
                "<style>.tick {{ fill: #444; }} .axis-label {{ fill: #222; }} .side {{ fill: #555; font-style: italic; }} .title {{ font-size: 16px; font-weight: 600; }} .group, .note {{ font-weight: 600; }} .group, .note, .bar-label {{ paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }}</style>\n",
                r##"<rect width="100%" height="100%" fill="#fff"/>"##,
                "\n{body}</svg>\n"
            ),
            w = self.width,
            h = self.height.ceil(),
            font = FONT,
            title = escape(title),
            body = self.body,
        )
    }
}

/// ` stroke-dasharray="…"` for a dash pattern; nothing for a solid line.
fn dash_attribute(dash: &str) -> String {
    if dash.is_empty() {
        String::new()
    } else {
        format!(r#" stroke-dasharray="{dash}""#)
    }
}

/// Escapes text for SVG (XML).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A logarithmic axis from `lo` to `hi`, drawn from position `from` to `to`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogAxis {
    pub lo: f64,
    pub hi: f64,
    from: f64,
    to: f64,
}

/// The smallest value an axis shows: below it (zero, negative, not a number) a value is drawn
/// at the axis' edge.
const TINY: f64 = 1e-3;

impl LogAxis {
    /// An axis around the values from `min` to `max`, a little wider than they are (and at least
    /// 30% wide, so a handful of ticks fits even when every value is the same).
    pub fn fit(min: f64, max: f64, from: f64, to: f64) -> Self {
        let (min, max) = (clean(min), clean(max).max(clean(min)));
        let (mut lo, mut hi) = (min / 1.12, max * 1.12);
        if hi / lo < 1.3 {
            let mid = (min * max).sqrt();
            (lo, hi) = (mid / 1.15, mid * 1.15);
        }
        Self { lo, hi, from, to }
    }

    /// An axis over exactly `lo` to `hi`.
    pub fn over(lo: f64, hi: f64, from: f64, to: f64) -> Self {
        Self { lo, hi, from, to }
    }

    /// As [`LogAxis::fit`], with every value at least `units` inside the ends (room for a
    /// dot's radius, however many decades the values span).
    pub fn fit_with_room(min: f64, max: f64, (from, to): (f64, f64), units: f64) -> Self {
        let axis = Self::fit(min, max, from, to);
        let length = (to - from).abs();
        if length <= 2.0 * units {
            return axis;
        }
        let (min, max) = (clean(min), clean(max).max(clean(min)));
        let stretch = ((max / min).ln() * units / (length - 2.0 * units)).exp();
        Self {
            lo: axis.lo.min(min / stretch),
            hi: axis.hi.max(max * stretch),
            ..axis
        }
    }

    /// Where `v` is drawn; values beyond the axis at its edges.
    pub fn at(&self, v: f64) -> f64 {
        let v = clean(v).clamp(self.lo, self.hi);
        let share = (v / self.lo).ln() / (self.hi / self.lo).ln();
        self.from + share * (self.to - self.from)
    }

    /// Tick values inside the axis, three or more where they fit: decades where the axis spans
    /// several, else 1, 2 and 5 of each decade, else every whole digit, else evenly spaced round
    /// values.
    pub fn ticks(&self) -> Vec<f64> {
        let inside = |mantissas: &[f64]| -> Vec<f64> {
            let first = self.lo.log10().floor() as i32;
            let last = self.hi.log10().ceil() as i32;
            (first..=last)
                .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
                .filter(|v| *v >= self.lo * (1.0 - 1e-9) && *v <= self.hi * (1.0 + 1e-9))
                .collect()
        };
        for mantissas in [
            &[1.0][..],
            &[1.0, 2.0, 5.0][..],
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0][..],
        ] {
            let ticks = inside(mantissas);
            if ticks.len() >= 3 {
                return ticks;
            }
        }
        // A narrow axis: round steps, about five of them.
        let step = nice_step((self.hi - self.lo) / 5.0);
        let first = (self.lo / step).ceil() as i64;
        let last = (self.hi / step).floor() as i64;
        (first..=last).map(|k| k as f64 * step).collect()
    }
}

fn clean(v: f64) -> f64 {
    if v.is_nan() { TINY } else { v.max(TINY) }
}

/// The round value (1, 2, 2.5 or 5 times a power of ten) nearest above `raw`.
fn nice_step(raw: f64) -> f64 {
    let decade = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * decade)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * decade)
}

/// A tick's duration: as few digits as say it (`1 ns`, `2.5 ms`, `950 µs`).
pub fn tick_ns(ns: f64) -> String {
    trim_zeros(&fmt_ns(ns))
}

/// A tick's ratio: `0.1×`, `1×`, `2.5×`, `100×`, one format on every tick.
pub fn tick_times(x: f64) -> String {
    let digits = if x >= 1.0 {
        1
    } else {
        (1.0 - x.log10().floor()) as usize
    };
    format!("{}×", trim_zeros(&format!("{x:.digits$}")))
}

/// `1.00 ns` → `1 ns`, `2.50 ms` → `2.5 ms`; other text as it is.
fn trim_zeros(text: &str) -> String {
    let (number, unit) = text.split_once(' ').unwrap_or((text, ""));
    let number = if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    };
    if unit.is_empty() {
        number.to_owned()
    } else {
        format!("{number} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticks(min: f64, max: f64) -> Vec<f64> {
        LogAxis::fit(min, max, 0.0, 100.0).ticks()
    }

    #[test]
    fn every_axis_gets_at_least_two_ticks_inside_it() {
        for (min, max) in [
            (24e3, 49e3),
            (1e9, 1e9),
            (1.001e9, 1.0035e9),
            (0.5, 12e3),
            (3.0, 3.2),
            (1e-9, 1e-9),
        ] {
            let axis = LogAxis::fit(min, max, 0.0, 100.0);
            let t = axis.ticks();
            assert!(t.len() >= 2, "{min}..{max}: {t:?}");
            assert!(t.iter().all(|v| *v >= axis.lo && *v <= axis.hi), "{t:?}");
            // The axis fits the data: it is not decades wider than the values.
            assert!(axis.hi / axis.lo < (max / min) * 1.6, "{axis:?}");
        }
        assert_eq!(ticks(24e3, 49e3), vec![30e3, 40e3, 50e3]);
        assert_eq!(ticks(0.5, 12e3), vec![1.0, 10.0, 100.0, 1e3, 1e4]);
    }

    #[test]
    fn tick_labels_are_distinct_and_carry_their_unit() {
        let labels: Vec<String> = ticks(1e9, 1e9).into_iter().map(tick_ns).collect();
        assert_eq!(labels, ["900 ms", "1 s", "1.1 s"]);
        assert_eq!(tick_ns(1.0), "1 ns");
        assert_eq!(tick_ns(2.5e6), "2.5 ms");
        assert_eq!(tick_times(0.1), "0.1×");
        assert_eq!(tick_times(0.05), "0.05×");
        assert_eq!(tick_times(1.0), "1×");
        assert_eq!(tick_times(2.5), "2.5×");
        assert_eq!(tick_times(100.0), "100×");
    }

    #[test]
    fn an_axis_with_room_keeps_every_value_a_radius_inside() {
        for (min, max) in [(1e3, 1e11), (5e4, 1.2e9), (1e9, 1e9), (3.0, 3.2)] {
            let axis = LogAxis::fit_with_room(min, max, (36.0, 404.0), 5.5);
            assert!(axis.at(min) >= 36.0 + 5.5 - 1e-9, "{min}..{max}: {axis:?}");
            assert!(axis.at(max) <= 404.0 - 5.5 + 1e-9, "{min}..{max}: {axis:?}");
        }
        // Over twelve decades plain fitting leaves less than a radius.
        let plain = LogAxis::fit(1e-1, 1e11, 36.0, 404.0);
        assert!(plain.at(1e11) > 404.0 - 5.5);
    }

    #[test]
    fn text_wraps_at_spaces_within_its_width() {
        let lines = wrap("one two three four five six", 60.0, 14.0, false);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.join(" "), "one two three four five six");
        for line in &lines {
            assert!(
                text_width(line, 14.0, false) <= 60.0 || !line.contains(' '),
                "{lines:?}"
            );
        }
        assert_eq!(wrap("short", 400.0, 14.0, false), ["short"]);
    }

    #[test]
    fn values_beyond_the_axis_are_drawn_at_its_edges() {
        let axis = LogAxis::fit(10.0, 1000.0, 50.0, 150.0);
        assert_eq!(axis.at(f64::NAN), 50.0);
        assert_eq!(axis.at(-5.0), 50.0);
        assert_eq!(axis.at(f64::INFINITY), 150.0);
        assert!(
            (axis.at(100.0) - 100.0).abs() < 1e-9,
            "the middle, in log terms"
        );
    }
}
