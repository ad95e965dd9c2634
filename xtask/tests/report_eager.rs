//! The Eager start section: per exercise, the time a task with eager start over the time a task
//! without it, on the Rust group and on CPython 3.12, each with the verdict its interval gives,
//! in the same sentences in Markdown, HTML and on the terminal.

mod common;

use xtask::report;
use xtask::report::doc;
use xtask::results::{Row, RowKey, RunResults};

const MILLION: u64 = 1_000_000;
const TIGHT: [f64; 3] = [1.0, 1.01, 0.99];
/// About 1×, with an interval from about 0.3× to 3×.
const WIDE: [f64; 3] = [0.6, 1.6, 1.0];

/// `ms` scaled by `k`, in nanoseconds.
fn ns(ms: &[f64], k: f64) -> Vec<u64> {
    ms.iter().map(|m| (m * k * 1e6) as u64).collect()
}

/// A Rust row on the current-thread runtime at 10^6 tasks.
fn rust(exercise: &str, variant: &str, samples: Vec<u64>) -> Row {
    Row::new(
        common::key(exercise, variant, "current", Some(MILLION)),
        samples,
        None,
    )
}

/// A CPython 3.12.1 row of `exercise` at 10^6 tasks.
fn cpython(exercise: &str, variant: &str, samples: Vec<u64>) -> Row {
    let key = RowKey {
        exercise: exercise.into(),
        variant: variant.into(),
        implementation: "cpython-3.12.1".into(),
        flavor: None,
        tasks: Some(MILLION),
        entry: None,
        measure: None,
    };
    Row::new(key, samples, None)
}

/// suspend_once with the Rust group's eager row at `rust_k` and CPython's at `python_k` times
/// their scheduled rows (1 s and 2 s), every row of `shape`.
fn suspend_once(shape: &[f64], rust_k: f64, python_k: f64) -> RunResults {
    common::results(
        "t",
        vec![
            rust("suspend_once", "scheduled", ns(&TIGHT, 1_000.0)),
            rust("suspend_once", "eager", ns(shape, 1_000.0 * rust_k)),
            cpython("suspend_once", "asyncio", ns(shape, 2_000.0 * python_k)),
            cpython("suspend_once", "asyncio_scheduled", ns(&TIGHT, 2_000.0)),
            cpython("suspend_once", "asyncio_gather", ns(&TIGHT, 1_500.0)),
        ],
    )
}

/// The run's one Eager start sentence.
fn only(run: &RunResults) -> String {
    let said = report::eager_start(run);
    assert_eq!(said.len(), 1, "{said:?}");
    said[0].clone()
}

#[test]
fn eager_start_helps_where_the_whole_interval_is_below_1x() {
    let run = common::results(
        "t",
        vec![
            rust("ex_6_1", "eager", ns(&TIGHT, 1.0)),
            rust("ex_6_1", "spawn", ns(&TIGHT, 400.0)),
            cpython("ex_6_1", "asyncio", ns(&TIGHT, 600.0)),
            cpython("ex_6_1", "asyncio_scheduled", ns(&TIGHT, 2_400.0)),
        ],
    );
    assert_eq!(
        only(&run),
        "ex_6_1 (children that finish in their first step): on the Rust group, eager (current) takes 0.00250× [0.00244×, 0.00256×] the time a task of spawn (current), which runs without eager start: eager start helps, the whole 95% interval is below 1×; CPython 3.12.1 takes 0.25× [0.24×, 0.26×] the time a task of CPython 3.12.1, scheduled, which runs without the eager task factory: the eager task factory helps, the whole 95% interval is below 1×."
    );
    let said = only(&suspend_once(&TIGHT, 0.5, 0.8));
    assert!(
        said.starts_with(
            "suspend_once (children that suspend once): on the Rust group, eager (current) takes 0.50× ["
        ) && said.contains(
            "] the time a task of scheduled (current), which runs without eager start: eager start helps, the whole 95% interval is below 1×; CPython 3.12.1 takes 0.80× ["
        ) && said.ends_with(
            "] the time a task of CPython 3.12.1, scheduled, which runs without the eager task factory: the eager task factory helps, the whole 95% interval is below 1×."
        ),
        "{said}"
    );
}

#[test]
fn eager_start_does_not_help_where_the_whole_interval_is_above_1x() {
    let said = only(&suspend_once(&TIGHT, 1.2, 1.3));
    assert!(
        said.starts_with(
            "suspend_once (children that suspend once): on the Rust group, eager (current) takes 1.20× ["
        ) && said.contains(
            ": eager start does not help, the whole 95% interval is above 1×; CPython 3.12.1 takes 1.30× ["
        ) && said.ends_with(
            ": the eager task factory does not help, the whole 95% interval is above 1×."
        ),
        "{said}"
    );
}

#[test]
fn an_interval_that_takes_in_1x_or_one_run_decides_nothing() {
    // WIDE's geometric mean is 0.99 of TIGHT's: 0.89× and 1.09×.
    let said = only(&suspend_once(&WIDE, 0.9, 1.1));
    assert!(
        said.contains("on the Rust group, eager (current) takes 0.89× [")
            && said.contains(": unclear whether eager start helps, the 95% interval takes in 1×; CPython 3.12.1 takes 1.09× [")
            && said.ends_with(": unclear whether the eager task factory helps, the 95% interval takes in 1×."),
        "{said}"
    );
    let said = only(&suspend_once(&[1.0], 0.5, 0.5));
    assert!(
        said.contains(
            "eager (current) takes 0.50× the time a task of scheduled (current), which runs without eager start: unclear whether eager start helps: one run, no interval;"
        ) && said.ends_with(": unclear whether the eager task factory helps: one run, no interval."),
        "{said}"
    );
}

#[test]
fn a_missing_row_is_named_with_why() {
    // No Python at all, and the Rust group without its scheduled row.
    let run = common::results(
        "t",
        vec![rust("suspend_once", "eager", ns(&TIGHT, 1_000.0))],
    );
    assert_eq!(
        only(&run),
        "suspend_once (children that suspend once): on the Rust group: not measured: suspend_once scheduled (current): not in this run; on CPython: not measured: suspend_once CPython 3.12: no CPython 3.12 in this run; suspend_once CPython 3.12, scheduled: no CPython 3.12 in this run."
    );
    // CPython 3.12 ran the script's default only (a run from before the script's variants).
    let mut run = suspend_once(&TIGHT, 0.5, 0.8);
    run.rows.retain(|r| r.variant != "asyncio_scheduled");
    assert!(
        only(&run).ends_with(
            "; on CPython: not measured: suspend_once CPython 3.12, scheduled: not in this run."
        ),
        "{}",
        only(&run)
    );
    // Neither exercise: no section.
    let other = common::results(
        "t",
        vec![common::row("ex_6_3", "try_id", "current", &[1, 2, 3])],
    );
    assert!(report::eager_start(&other).is_empty());
    let md = doc::markdown(&report::blocks(&other, None, false).unwrap());
    assert!(!md.contains("## Eager start"), "{md}");
}

#[test]
fn the_markdown_the_html_and_the_terminal_give_the_same_sentences() {
    let mut run = suspend_once(&TIGHT, 1.2, 1.3);
    run.rows.push(rust("ex_6_1", "eager", ns(&TIGHT, 1.0)));
    run.rows.push(rust("ex_6_1", "spawn", ns(&TIGHT, 400.0)));
    let said = report::eager_start(&run);
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(said[0].starts_with("ex_6_1 ") && said[1].starts_with("suspend_once "));
    let blocks = report::blocks(&run, None, true).unwrap();

    let md = doc::markdown(&blocks);
    let section = md
        .split("\n## Eager start\n")
        .nth(1)
        .expect("an Eager start section");
    // After the Answers, before the Targets.
    assert!(md.find("## Answers").unwrap() < md.find("## Eager start").unwrap());
    assert!(
        section
            .split("\n## ")
            .nth(1)
            .unwrap()
            .starts_with("Targets")
    );
    let section = section.split("\n## ").next().unwrap();
    let listed: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .collect();
    assert_eq!(listed, said);

    let page = doc::html("t", &blocks);
    let items = common::html_section_items(&page, "Eager start");
    assert_eq!(items, said);

    // On the terminal: after the Answers, right before the Targets.
    let text = report::terminal_summary(&run);
    let lines: Vec<&str> = text.lines().collect();
    let targets = report::targets(&run);
    let at = lines.len() - targets.len();
    assert_eq!(lines[at - 2..at], said);
    assert_eq!(lines[at..], targets);
}

#[test]
fn the_script_variants_rows_are_named_after_their_variant() {
    let run = suspend_once(&TIGHT, 1.2, 1.3);
    let labels: Vec<String> = run.rows.iter().map(xtask::report::label::label).collect();
    assert_eq!(
        labels[2..],
        [
            "CPython 3.12.1",
            "CPython 3.12.1, scheduled",
            "CPython 3.12.1, gather"
        ]
    );
    // A results.json with them reads back as it was written.
    let dir = common::scratch("eager_rows");
    let path = dir.join("results.json");
    run.write(&path).unwrap();
    assert_eq!(RunResults::read(&path).unwrap(), run);
    std::fs::remove_dir_all(&dir).unwrap();
}
