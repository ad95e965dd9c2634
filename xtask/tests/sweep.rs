//! The scaling sweep's report, from points with known figures.

mod common;

use xtask::doc;
use xtask::results::{Row, RowKey};
use xtask::sweep;

fn point(
    variant: &str,
    flavor: Option<&str>,
    implementation: &str,
    tasks: u64,
    ns_per_task: u64,
    rss: u64,
) -> Row {
    let key = RowKey {
        exercise: "ex_6_1".into(),
        variant: variant.into(),
        implementation: implementation.into(),
        flavor: flavor.map(|f| f.parse().expect("a flavor")),
        tasks: Some(tasks),
        entry: None,
        measure: None,
    };
    Row {
        peak_rss_bytes: Some(rss),
        ..Row::new(key, vec![ns_per_task * tasks; 2], None)
    }
}

#[test]
fn scaling_tables_show_cost_per_task_times_floor_and_bytes_per_task() {
    let mut rows = Vec::new();
    for (n, rss) in [(1_000u64, 3_000_000u64), (100_000, 43_000_000)] {
        rows.push(point("spawn", Some("current"), "rust", n, 300, rss));
        rows.push(point("floor", Some("current"), "rust", n, 1, 3_000_000));
    }
    rows.push(point(
        "asyncio",
        None,
        "cpython-3.12.1",
        1_000,
        960,
        20_000_000,
    ));
    let run = common::results("sweep", rows);
    let md = doc::markdown(&sweep::blocks(&run, false).unwrap());
    assert!(md.contains("| implementation | 1000 | 100000 |"), "{md}");
    // 300 ns a task over a 1 ns floor.
    assert!(
        md.contains("| spawn (current) | 300 ns (300× floor) | 300 ns (300× floor) |"),
        "{md}"
    );
    assert!(md.contains("| CPython 3.12.1 | 960 ns | — |"), "{md}");
    // (43,000,000 − 3,000,000) bytes over 99,000 more tasks: 404 bytes a task.
    assert!(
        md.contains("| spawn (current) | 2.9 MiB | 41.0 MiB | 404 |"),
        "{md}"
    );
    assert!(
        md.contains("| floor (current) | 2.9 MiB | 2.9 MiB | 0 |"),
        "{md}"
    );
    let html = doc::html("t", &sweep::blocks(&run, true).unwrap());
    assert_eq!(
        html.matches("<svg").count(),
        1,
        "one scaling plot for the one exercise"
    );
}

#[test]
fn stopped_points_show_as_stopped_with_their_reason_not_as_failures() {
    let why = "stopped: at 10^5 tasks the median run took 12.3 s, over the sweep's 10 s limit";
    let mut rows = Vec::new();
    for n in [1_000u64, 100_000] {
        rows.push(point("spawn", Some("current"), "rust", n, 300, 3_000_000));
    }
    rows.push(point(
        "slow",
        Some("current"),
        "rust",
        1_000,
        500,
        3_000_000,
    ));
    let mut stopped = point("slow", Some("current"), "rust", 100_000, 1, 3_000_000);
    stopped = Row::skipped(stopped.key(), why.into());
    rows.push(stopped);
    let run = common::results("sweep", rows);
    let md = doc::markdown(&sweep::blocks(&run, false).unwrap());
    assert!(md.contains("| slow (current) | 500 ns | stopped |"), "{md}");
    assert!(md.contains("## Stopped"), "{md}");
    assert!(
        md.contains(&format!("| ex_6_1 slow (current) | 10^5 | {why} |")),
        "{md}"
    );
    assert!(!md.contains("## Failures"), "{md}");
}
