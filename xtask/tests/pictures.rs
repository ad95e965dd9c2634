//! The report's pictures and page as a reader meets them: every SVG of a report parsed, its
//! ticks and marks read back as the figures they print; the page's style read for what a
//! phone shows.

mod common;

use std::collections::HashMap;

use xtask::report;
use xtask::report::doc;
use xtask::report::plots;
use xtask::results::{Row, RowKey, RunResults, SerializedHistogram};

/// A run with every kind of row a picture shows: Rust families, CPython, a start-latency run.
fn run() -> RunResults {
    let mut run = common::sample_run();
    run.rows.push(common::python_row(
        "ex_6_1",
        "3.12.1",
        &[900_000_000, 905_000_000, 910_000_000],
    ));
    run.rows.push(common::row(
        "ex_6_1",
        "floor",
        "current",
        &[400_000, 410_000, 405_000, 402_000],
    ));
    let mut latency = timing::new_histogram();
    for ns in (1..=10_000u64).map(|i| 200 + i * 37 % 5_000) {
        latency.saturating_record(ns);
    }
    let mut key: RowKey = common::key("ex_6_1", "spawn", "current", Some(10_000));
    key.measure = Some(timing::cli::Measure::StartLatency);
    run.rows.push(Row {
        start_latency: Some(SerializedHistogram::of(&latency)),
        ..Row::new(key, vec![5_000_000], None)
    });
    run
}

fn page(run: &RunResults) -> String {
    doc::html(
        "t",
        &report::blocks(run, None, true).expect("the report builds"),
    )
}

/// Each `<svg>…</svg>` of a page.
fn svgs(page: &str) -> Vec<String> {
    page.split("<svg ")
        .skip(1)
        .map(|rest| {
            let end = rest.find("</svg>").expect("every svg is closed");
            format!("<svg {}</svg>", &rest[..end])
        })
        .collect()
}

/// Texts of the `<text>` elements of `svg` whose class is `class`.
fn texts(svg: &str, class: &str) -> Vec<String> {
    let dom = tl::parse(svg, tl::ParserOptions::default()).expect("the svg parses");
    let parser = dom.parser();
    dom.query_selector("text")
        .expect("a selector")
        .filter_map(|h| h.get(parser)?.as_tag().cloned())
        .filter(|t| {
            t.attributes()
                .get("class")
                .flatten()
                .is_some_and(|c| c.as_utf8_str() == class)
        })
        .map(|t| t.inner_text(parser).into_owned())
        .collect()
}

/// `1.5 ms`, `950 µs`, `2×`, `0.5×` as a number (nanoseconds, or the ratio).
/// The attributes of each element of `svg` that `selector` names.
fn elements(svg: &str, selector: &str) -> Vec<HashMap<String, String>> {
    let dom = tl::parse(svg, tl::ParserOptions::default()).expect("the svg parses");
    let parser = dom.parser();
    dom.query_selector(selector)
        .expect("a selector")
        .filter_map(|h| h.get(parser)?.as_tag().cloned())
        .map(|t| {
            t.attributes()
                .iter()
                .map(|(k, v)| (k.into_owned(), v.unwrap_or_default().into_owned()))
                .collect()
        })
        .collect()
}

/// An attribute that is a number.
fn number(element: &HashMap<String, String>, name: &str) -> f64 {
    element
        .get(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} is a number: {element:?}"))
}

/// An element's stroke and dash pattern.
fn line_style(element: &HashMap<String, String>) -> (String, String) {
    let get = |name: &str| element.get(name).cloned().unwrap_or_default();
    (get("stroke"), get("stroke-dasharray"))
}

/// `1.5 ms`, `950 µs`, `2×`, `0.5×`, `4.20× faster`, `413× slower` as a number (nanoseconds,
/// or the ratio: `413× slower` is 1/413).
fn figure(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Some(x) = text.strip_suffix(" faster") {
        return figure(x);
    }
    if let Some(x) = text.strip_suffix(" slower") {
        return figure(x).map(|x| 1.0 / x);
    }
    if let Some(x) = text.strip_suffix('×') {
        return x.parse().ok();
    }
    let (number, unit) = text.split_once(' ')?;
    let scale = match unit {
        "ns" => 1.0,
        "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    };
    Some(number.parse::<f64>().ok()? * scale)
}

/// The figures the marks of `svg` stand for: every figure of each dot's hover title,
/// `label: figure` or `label: figure; 95% interval low to high`.
fn marks(svg: &str) -> Vec<f64> {
    svg.split("<title>")
        .skip(2) // the picture's own title first
        .filter_map(|rest| Some(&rest[..rest.find("</title>")?]))
        .filter_map(|title| Some(title.split_once(": ")?.1.to_owned()))
        .flat_map(|figures| {
            figures
                .replace("; 95% interval ", "|")
                .replace(" to ", "|")
                .split('|')
                .filter_map(figure)
                .collect::<Vec<f64>>()
        })
        .collect()
}

/// The value ticks of `svg` as numbers. On a ratio axis a tick left of `1×` reads a magnitude
/// slower: `10×` there is 0.1.
fn tick_values(svg: &str) -> Vec<f64> {
    let ticks: Vec<(f64, String)> = elements(svg, "text")
        .iter()
        .zip(all_texts(svg))
        .filter(|(e, _)| e.get("class").is_some_and(|c| c == "tick v"))
        .map(|(e, t)| (number(e, "x"), t))
        .collect();
    let tie = ticks.iter().find(|(_, t)| t == "1×").map(|(x, _)| *x);
    ticks
        .iter()
        .map(|(x, t)| {
            let v = figure(t).unwrap_or_else(|| panic!("tick '{t}' is a figure with a unit"));
            match tie {
                Some(tie) if *x < tie => 1.0 / v,
                _ => v,
            }
        })
        .collect()
}

/// The text of every `<text>` of `svg`, in order.
fn all_texts(svg: &str) -> Vec<String> {
    let dom = tl::parse(svg, tl::ParserOptions::default()).expect("the svg parses");
    let parser = dom.parser();
    dom.query_selector("text")
        .expect("a selector")
        .filter_map(|h| h.get(parser))
        .map(|t| t.inner_text(parser).into_owned())
        .collect()
}

#[test]
fn every_plot_has_two_or_more_value_ticks_around_its_data() {
    let page = page(&run());
    let svgs = svgs(&page);
    assert!(svgs.len() >= 6, "{} pictures", svgs.len());
    for svg in &svgs {
        let ticks = tick_values(svg);
        assert!(ticks.len() >= 2, "at least two value ticks: {ticks:?}");
        let data = marks(svg);
        assert!(!data.is_empty(), "marks carry their figures");
        let lo = data.iter().copied().fold(f64::MAX, f64::min);
        let hi = data.iter().copied().fold(0.0, f64::max);
        let is_ratio = texts(svg, "tick v").iter().all(|t| t.ends_with('×'));
        let (lo, hi) = if is_ratio {
            // A ratio axis is centred on 1×: it reaches the data's far side both ways.
            let reach = hi.max(1.0 / lo);
            (1.0 / reach, reach)
        } else {
            (lo, hi)
        };
        // Ticks inside the data's range, give or take a half: no decades of empty axis.
        let inside = ticks
            .iter()
            .filter(|t| **t >= lo / 1.5 && **t <= hi * 1.5)
            .count();
        assert!(
            inside >= 2 && inside == ticks.len(),
            "ticks {ticks:?} around data {lo}..{hi}"
        );
    }
}

#[test]
fn every_axis_names_its_unit() {
    let page = page(&run());
    for svg in svgs(&page) {
        let names = texts(&svg, "axis-label").join(" ");
        assert!(!names.is_empty(), "an axis without a name");
        let ticks = texts(&svg, "tick v");
        // Each value tick carries its unit (a duration's, or ×).
        assert!(ticks.iter().all(|t| figure(t).is_some()), "{ticks:?}");
    }
}

#[test]
fn no_two_lines_share_a_colour_and_dash_nor_two_families_a_name() {
    let page = page(&run());
    for svg in svgs(&page) {
        let styles: Vec<(String, String)> =
            elements(&svg, "polyline").iter().map(line_style).collect();
        let mut distinct = styles.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), styles.len(), "line styles {styles:?}");
        let legend = texts(&svg, "legend");
        let mut names = legend.clone();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), legend.len(), "legend {legend:?}");
    }
}

#[test]
fn the_sweeps_lines_never_share_a_colour_and_dash_and_the_legend_draws_each_as_it_is() {
    // More lines than any palette has colours.
    let lines: Vec<(String, Vec<(f64, f64)>)> = (0..33)
        .map(|i| {
            let points = [1e3, 1e4, 1e5, 1e6]
                .iter()
                .map(|&n| (n, 100.0 + 10.0 * f64::from(i) + n / 1e4))
                .collect();
            (format!("variant {i} (current)"), points)
        })
        .collect();
    let svg = plots::scaling("ex_6_1: cost per task as the work grows", &lines).expect("drawn");
    let drawn: Vec<(String, String)> = elements(&svg, "polyline").iter().map(line_style).collect();
    assert_eq!(drawn.len(), 33);
    let mut distinct = drawn.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), drawn.len(), "line styles {drawn:?}");
    let swatches: Vec<(String, String)> = elements(&svg, "line.swatch")
        .iter()
        .map(line_style)
        .collect();
    assert_eq!(swatches, drawn, "each legend entry is drawn as its line is");
    assert_eq!(texts(&svg, "legend").len(), 33);
}

#[test]
fn per_task_plots_never_say_run() {
    let page = page(&run());
    let mut per_task = 0;
    for svg in svgs(&page) {
        let labels = texts(&svg, "axis-label");
        if labels.iter().any(|l| l.contains("per task")) {
            per_task += 1;
            assert!(
                labels.iter().all(|l| !l.contains("run")),
                "a per-task plot labelled {labels:?}"
            );
        }
    }
    // The overview, and the start-latency plot.
    assert_eq!(per_task, 2);
}

/// The width of a 390 px phone's page column, at worst: less a scrollbar (15 px, where the
/// browser draws one) and the page's padding on a narrow screen (two of 0.5 rem).
const PHONE_COLUMN: f64 = 390.0 - 15.0 - 16.0;

/// The page's own style sheet.
fn page_css(page: &str) -> &str {
    let start = page.find("<style>").expect("the page has a style") + "<style>".len();
    &page[start..start + page[start..].find("</style>").expect("closed")]
}

/// Every declaration of `css` as `(selector, property, value)`.
fn declarations(css: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for rule in css.split('}') {
        // The innermost block: in `@media (…) { sel { … }` the selector is after the last `{`
        // but one.
        let Some((head, body)) = rule.rsplit_once('{') else {
            continue;
        };
        let selector = head.rsplit('{').next().unwrap_or(head).trim().to_owned();
        for declaration in body.split(';') {
            if let Some((property, value)) = declaration.split_once(':') {
                let (property, value) = (property.trim().to_owned(), value.trim().to_owned());
                out.push((selector.clone(), property, value));
            }
        }
    }
    out
}

/// A CSS length in pixels (`2rem` is 32); `None` for a share (`100%`, `auto`).
fn pixels(value: &str) -> Option<f64> {
    let value = value.trim();
    let (number, scale) = if let Some(n) = value.strip_suffix("rem") {
        (n, 16.0)
    } else if let Some(n) = value.strip_suffix("px") {
        (n, 1.0)
    } else if let Some(n) = value.strip_suffix("em") {
        (n, 16.0)
    } else {
        return None;
    };
    Some(number.trim().parse::<f64>().ok()? * scale)
}

#[test]
fn the_page_fits_a_phone() {
    let page = page(&run());
    assert!(
        page.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
    );
    let css = declarations(page_css(&page));
    // Nothing is set wider than a phone: no width or min-width over 390 px (a max-width only
    // caps the column on a wide screen).
    for (selector, property, value) in &css {
        if property == "width" || property == "min-width" {
            let px = pixels(value);
            assert!(
                px.is_none_or(|px| px <= 390.0),
                "{selector} {{ {property}: {value} }}"
            );
        }
    }
    let has = |selector: &str, property: &str, value: &str| {
        css.iter()
            .any(|(s, p, v)| s == selector && p == property && v == value)
    };
    // Every table sits in a box of its own that scrolls sideways, its first column pinned.
    let tables = page.matches("<table").count();
    assert!(tables >= 2);
    assert_eq!(page.matches(r#"<div class="table"><table"#).count(), tables);
    assert!(has(".table", "overflow-x", "auto"), "{css:?}");
    assert!(has("tr > :first-child", "position", "sticky"), "{css:?}");
    assert!(has("tr > :first-child", "left", "0"), "{css:?}");
    // A picture shrinks to the column, and is drawn so that its smallest text still reads.
    assert!(has("figure svg", "max-width", "100%"), "{css:?}");
    assert!(has("figure svg", "height", "auto"), "{css:?}");
    for svg in svgs(&page) {
        let root = &elements(&svg, "svg")[0];
        assert!(
            root.get("viewBox").is_some_and(|v| v.starts_with("0 0 ")),
            "scales with the page"
        );
        let width = number(root, "width");
        let mut fonts = vec![number(root, "font-size")];
        fonts.extend(
            svg.split("font-size:")
                .skip(1)
                .filter_map(|rest| pixels(rest.split([';', '}']).next()?)),
        );
        let smallest = fonts.iter().copied().fold(f64::MAX, f64::min);
        let on_screen = smallest * (PHONE_COLUMN / width).min(1.0);
        assert!(
            on_screen >= 11.0,
            "text of {smallest} in {width} wide: {on_screen:.1} px on a phone"
        );
    }
}

#[test]
fn the_claims_verdict_stays_in_view_on_a_phone() {
    let page = page(&run());
    let claims = &page[page.find("<h2>Claims</h2>").expect("a Claims section")..];
    let table = &claims[..claims.find("</table>").expect("its table")];
    assert!(table.contains(r#"<table class="verdict">"#), "{table}");
    assert!(
        table.contains("<th>holds</th></tr></thead>"),
        "the verdict is the last column: {table}"
    );
    let css = declarations(page_css(&page));
    let pinned = |property: &str, value: &str| {
        css.iter()
            .any(|(s, p, v)| s == "table.verdict tr > :last-child" && p == property && v == value)
    };
    assert!(
        pinned("position", "sticky") && pinned("right", "0"),
        "{css:?}"
    );
    // A table with no verdict column lets its last column scroll.
    let exercise = &page[page.find("<h2>ex_6_1").expect("ex_6_1's section")..];
    assert!(exercise.contains(r#"<div class="table"><table>"#));
}

#[test]
fn row_names_wrap_before_their_parenthesis_and_between_words_only_on_a_phone() {
    let page = page(&run());
    // `eager (current)` is one unbreakable name in the Markdown; in HTML two spans the style
    // keeps each on one line, so that a table too wide for the page breaks a name only before
    // its parenthesis, except on a narrow screen.
    assert!(
        page.contains(
            r#"<td><span class="name">eager</span> <span class="name">(current)</span></td>"#
        ),
        "{page}"
    );
    let css = page_css(&page);
    let narrow = &css[css.find("@media (max-width: 600px)").expect("phone rules")..];
    assert!(
        narrow.contains(".name { white-space: normal; }"),
        "{narrow}"
    );
    assert!(
        declarations(css)
            .iter()
            .any(|(s, p, v)| s.contains(".name") && p == "white-space" && v == "nowrap")
    );
}

#[test]
fn the_overview_draws_a_dot_per_row_not_bars_on_its_log_axis() {
    let page = page(&run());
    let overview = &svgs(&page)[0];
    assert!(
        overview.contains("Nanoseconds per task"),
        "the overview comes first"
    );
    // The only rectangle is the picture's white ground.
    assert_eq!(elements(overview, "rect").len(), 1, "{overview}");
    let rows = texts(overview, "bar-label").len();
    let dots = elements(overview, "circle").len() - texts(overview, "legend").len();
    assert!(rows >= 4);
    assert_eq!(dots, rows, "a dot a row");
}

#[test]
fn slower_rows_read_n_times_slower_never_zero() {
    let mut run = run();
    // tracker at 413 times the time of spawn (current), ex_6_1's reference: 0.0024 its speed.
    let spawn = run
        .rows
        .iter()
        .find(|r| r.exercise == "ex_6_1" && xtask::report::label::label(r) == "spawn (current)")
        .expect("the reference")
        .samples_ns
        .clone();
    let slow: Vec<u64> = spawn.iter().map(|ns| ns * 413).collect();
    run.rows
        .push(common::row("ex_6_1", "tracker", "current", &slow));
    let page = page(&run);
    let speedups = svgs(&page)
        .into_iter()
        .find(|s| s.contains("How many times faster"))
        .expect("the speedup chart");
    let notes = texts(&speedups, "note");
    assert!(notes.contains(&"413× slower".to_owned()), "{notes:?}");
    for note in &notes {
        assert!(
            note.ends_with("× faster") || note.ends_with("× slower"),
            "{note}"
        );
        assert!(!note.starts_with('0'), "{note}");
    }
    for tick in texts(&speedups, "tick v") {
        assert!(!tick.starts_with('0'), "a tick reads a magnitude: {tick}");
    }
}

#[test]
fn every_strip_dot_is_inside_the_plot() {
    let mut run = run();
    // A CPython row a hundred thousand times slower than the fastest row of its exercise.
    run.rows.push(common::python_row(
        "ex_6_1",
        "3.10.13",
        &[95_000_000_000, 99_000_000_000, 100_000_000_000],
    ));
    let page = page(&run);
    let mut strips: Vec<String> = svgs(&page)
        .into_iter()
        .filter(|s| s.contains("time of each run"))
        .collect();
    assert!(!strips.is_empty());
    // Eight decades between two rows.
    let strip = |label: &str, tone, samples_ns: Vec<u64>| plots::Strip {
        label: label.into(),
        tone,
        samples_ns,
    };
    strips.push(
        plots::strips(
            "t",
            "time per run (log scale)",
            &[
                strip("fast", plots::Tone::Project, vec![1_000, 1_100]),
                strip(
                    "CPython",
                    plots::Tone::CPython,
                    vec![1_000_000_000, 100_000_000_000],
                ),
            ],
        )
        .expect("drawn"),
    );
    for svg in strips {
        let axis = &elements(&svg, "line.axis")[0];
        let (left, right) = (number(axis, "x1"), number(axis, "x2"));
        // Every dot but the legend's.
        let legend = texts(&svg, "legend").len();
        let dots = elements(&svg, "circle");
        assert!(dots.len() > legend);
        for dot in &dots[legend..] {
            let (x, r) = (number(dot, "cx"), number(dot, "r"));
            assert!(
                x - r >= left && x + r <= right,
                "a dot at {x} (radius {r}) outside the plot, {left} to {right}"
            );
        }
    }
}

#[test]
fn a_claim_that_fails_stands_out() {
    let mut run = run();
    // CPython 3.12 faster than the eager group: the 300× target fails.
    run.rows
        .retain(|r| !(r.is_python() && r.exercise == "ex_6_1"));
    run.rows.push(common::python_row(
        "ex_6_1",
        "3.12.1",
        &[100_000, 101_000, 99_000],
    ));
    let page = page(&run);
    assert!(
        page.contains("<td><strong>no</strong></td>"),
        "a failed claim is marked"
    );
}

#[test]
fn the_overview_names_the_fastest_and_cpython_312_with_their_figures() {
    let page = page(&run());
    let overview = &svgs(&page)[0];
    let notes = texts(overview, "note");
    // ex_6_1: eager at 1.00 ns a task (the geometric mean of 0.99 to 1.02), CPython 3.12 at
    // 905 ns; ex_6_2 and ex_6_3: the fastest.
    assert!(notes.contains(&"1.00 ns".to_owned()), "{notes:?}");
    assert!(notes.contains(&"905 ns".to_owned()), "{notes:?}");
    assert_eq!(notes.len(), 4, "{notes:?}");
}

#[test]
fn the_overview_shows_the_current_thread_rows_and_the_fastest_python_of_all() {
    let mut run = run();
    let mut uvloop =
        common::python_row("ex_6_1", "3.12.1", &[600_000_000, 610_000_000, 590_000_000]);
    uvloop.variant = "uvloop".into();
    run.rows.push(uvloop);
    let page = page(&run);
    let overview = &svgs(&page)[0];
    let labels = texts(overview, "bar-label");
    assert!(labels.iter().all(|l| !l.contains("(multi")), "{labels:?}");
    assert!(
        labels.contains(&"CPython 3.12.1 + uvloop".to_owned()),
        "{labels:?}"
    );
    let notes = texts(overview, "note");
    assert!(
        notes.contains(&"600 ns".to_owned()),
        "the fastest Python: {notes:?}"
    );
    assert!(
        notes.contains(&"905 ns".to_owned()),
        "CPython 3.12 itself: {notes:?}"
    );
}
