//! The scaling sweep's report, from points with known figures.

mod common;

use xtask::report::{self, doc};
use xtask::results::{Row, RowKey};

fn point(
    variant: &str,
    flavor: Option<&str>,
    implementation: &str,
    tasks: u64,
    ns_per_task: u64,
    rss: u64,
) -> Row {
    point_of(
        "ex_6_1",
        variant,
        flavor,
        implementation,
        tasks,
        ns_per_task,
        rss,
    )
}

fn point_of(
    exercise: &str,
    variant: &str,
    flavor: Option<&str>,
    implementation: &str,
    tasks: u64,
    ns_per_task: u64,
    rss: u64,
) -> Row {
    let key = RowKey {
        exercise: exercise.into(),
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
    let md = doc::markdown(&report::sweep::blocks(&run, false).unwrap());
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
    let html = doc::html("t", &report::sweep::blocks(&run, true).unwrap());
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
    let md = doc::markdown(&report::sweep::blocks(&run, false).unwrap());
    assert!(md.contains("| slow (current) | 500 ns | stopped |"), "{md}");
    assert!(md.contains("## Stopped"), "{md}");
    assert!(
        md.contains(&format!("| ex_6_1 slow (current) | 10^5 | {why} |")),
        "{md}"
    );
    assert!(!md.contains("## Failures"), "{md}");
}

#[test]
fn a_capped_variant_measured_at_several_counts_is_one_line_with_a_point_per_count() {
    // join_handles is held to a task cap in run-all, where its label names its count; the
    // sweep runs it at every count, and its growth is the line it draws.
    let counts = [1_000u64, 10_000, 100_000];
    let mut rows = Vec::new();
    for (n, per_task) in counts.into_iter().zip([150u64, 1_500, 15_000]) {
        let rss = 3_000_000;
        rows.push(point_of(
            "ex_6_2",
            "join_handles",
            Some("current"),
            "rust",
            n,
            per_task,
            rss,
        ));
        rows.push(point_of(
            "ex_6_2",
            "spawn_gather",
            Some("current"),
            "rust",
            n,
            300,
            rss,
        ));
        rows.push(point_of(
            "ex_6_2",
            "asyncio",
            None,
            "cpython-3.12.1",
            n,
            900,
            rss,
        ));
    }
    let run = common::results("sweep", rows);
    let lines = report::sweep::scaling_lines(&run, "ex_6_2");
    let labels: Vec<&str> = lines.iter().map(|(label, _)| label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "join_handles (current)",
            "spawn_gather (current)",
            "CPython 3.12.1"
        ]
    );
    for (label, points) in &lines {
        let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
        assert_eq!(xs, [1e3, 1e4, 1e5], "{label}: a point per count");
    }
    // The quadratic line climbs tenfold a decade (within the histogram's 3 digits).
    for ((_, got), want) in lines[0].1.iter().zip([150.0, 1_500.0, 15_000.0]) {
        assert!((got / want - 1.0).abs() < 0.01, "{got} against {want}");
    }
    let md = doc::markdown(&report::sweep::blocks(&run, false).unwrap());
    let table_rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| join_handles"))
        .collect();
    assert_eq!(
        table_rows,
        [
            "| join_handles (current) | 150 ns | 1.50 µs | 15.0 µs |",
            "| join_handles (current) | 2.9 MiB | 2.9 MiB | 2.9 MiB | 0 |",
        ],
        "one row in the cost table and one in the memory table:\n{md}"
    );
}

#[test]
fn a_stopped_capped_variant_is_named_once_without_a_count() {
    let why = "stopped: at 10^4 tasks the median run took 2.5 s, over the sweep's 2 s limit";
    let mut rows = vec![
        point_of(
            "ex_6_2",
            "futures_unordered",
            Some("multi"),
            "rust",
            1_000,
            100,
            3_000_000,
        ),
        point_of(
            "ex_6_2",
            "futures_unordered",
            Some("multi"),
            "rust",
            10_000,
            250_000,
            3_000_000,
        ),
    ];
    for n in [100_000, 1_000_000] {
        let key = point_of(
            "ex_6_2",
            "futures_unordered",
            Some("multi"),
            "rust",
            n,
            1,
            0,
        )
        .key();
        rows.push(Row::skipped(key, why.into()));
    }
    let run = common::results("sweep", rows);
    let md = doc::markdown(&report::sweep::blocks(&run, false).unwrap());
    let stopped: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ex_6_2 futures_unordered"))
        .collect();
    assert_eq!(
        stopped,
        [format!(
            "| ex_6_2 futures_unordered (multi) | 10^5 | {why} |"
        )],
        "{md}"
    );
    assert!(
        md.contains("| futures_unordered (multi) | 100 ns | 250 µs | stopped | stopped |"),
        "{md}"
    );
}
