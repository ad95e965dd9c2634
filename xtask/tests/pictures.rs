//! The report's pictures as a reader meets them: every SVG of a report parsed, its ticks and
//! marks read back as the figures they print.

mod common;

use xtask::doc;
use xtask::report;
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
fn figure(text: &str) -> Option<f64> {
    let text = text.trim();
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

/// The figures the marks of `svg` stand for: each bar's and dot's hover title, `label: figure`.
fn marks(svg: &str) -> Vec<f64> {
    svg.split("<title>")
        .skip(2) // the picture's own title first
        .filter_map(|rest| {
            let title = &rest[..rest.find("</title>")?];
            figure(title.rsplit(": ").next()?)
        })
        .collect()
}

#[test]
fn every_plot_has_two_or_more_value_ticks_around_its_data() {
    let page = page(&run());
    let svgs = svgs(&page);
    assert!(svgs.len() >= 6, "{} pictures", svgs.len());
    for svg in &svgs {
        let ticks: Vec<f64> = texts(svg, "tick v")
            .iter()
            .map(|t| figure(t).unwrap_or_else(|| panic!("tick '{t}' is a figure with a unit")))
            .collect();
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
        // Ticks inside the data's range, give or take a third: no decades of empty axis.
        let inside = ticks
            .iter()
            .filter(|t| **t >= lo / 1.35 && **t <= hi * 1.35)
            .count();
        assert!(
            inside >= 2 && inside == ticks.len(),
            "ticks {ticks:?} around data {lo}..{hi}"
        );
    }
}

#[test]
fn no_two_lines_or_families_share_a_colour() {
    let page = page(&run());
    for svg in svgs(&page) {
        let dom = tl::parse(&svg, tl::ParserOptions::default()).expect("the svg parses");
        let parser = dom.parser();
        let attr = |selector: &str, name: &str| -> Vec<String> {
            dom.query_selector(selector)
                .expect("a selector")
                .filter_map(|h| h.get(parser)?.as_tag().cloned())
                .filter_map(|t| Some(t.attributes().get(name)??.as_utf8_str().into_owned()))
                .collect()
        };
        let lines = attr("polyline", "stroke");
        let mut distinct = lines.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), lines.len(), "line colours {lines:?}");
        // The legend of families: one swatch each, each its own colour.
        let legend = texts(&svg, "legend");
        let mut names = legend.clone();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), legend.len(), "legend {legend:?}");
    }
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

#[test]
fn the_page_fits_a_phone() {
    let page = page(&run());
    assert!(
        page.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
    );
    for svg in svgs(&page) {
        assert!(svg.contains("viewBox=\"0 0 "), "scales with the page");
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
    // ex_6_1: eager at 1.01 ns a task, CPython 3.12 at 905 ns; ex_6_2 and ex_6_3: the fastest.
    assert!(notes.contains(&"1.01 ns".to_owned()), "{notes:?}");
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
