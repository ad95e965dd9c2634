//! Builders shared by the xtask integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

use timing::cli::Flavor;
use xtask::results::{Environment, Failure, Flags, Overhead, Row, RowKey, RunResults, SCHEMA};

pub fn key(exercise: &str, variant: &str, flavor: &str, tasks: Option<u64>) -> RowKey {
    RowKey {
        exercise: exercise.into(),
        variant: variant.into(),
        implementation: "rust".into(),
        flavor: Some(flavor.parse().expect("a flavor")),
        tasks,
        entry: None,
        measure: None,
    }
}

pub fn row(exercise: &str, variant: &str, flavor: &str, samples: &[u64]) -> Row {
    let tasks = (exercise != "ex_6_4").then_some(1_000_000);
    Row::new(
        key(exercise, variant, flavor, tasks),
        samples.to_vec(),
        None,
    )
}

pub fn failed_row(exercise: &str, variant: &str, flavor: &str, reason: &str) -> Row {
    let failure = Failure {
        reason: reason.into(),
        stderr_tail: "thread 'main' panicked\nnote: run with RUST_BACKTRACE=1".into(),
        known: None,
    };
    Row::new(
        key(exercise, variant, flavor, Some(1_000_000)),
        Vec::new(),
        Some(failure),
    )
}

/// A run with fixed, known figures: everything in it is deterministic.
pub fn results(run_id: &str, rows: Vec<Row>) -> RunResults {
    RunResults {
        schema: SCHEMA.into(),
        run_id: run_id.into(),
        started_utc: "2026-11-26T10:00:00Z".into(),
        finished_utc: "2026-11-26T10:01:00Z".into(),
        environment: Environment {
            cpu_model: "Test CPU".into(),
            cores: 2,
            os: "Test OS".into(),
            kernel: "6.0".into(),
            rustc: "rustc 1.95.0".into(),
            tokio: "1.0.0".into(),
            git_commit: "0123456789ab".into(),
            git_dirty: false,
            load_before: Some([0.1, 0.1, 0.1]),
            load_after: Some([1.0, 0.5, 0.2]),
            governor_before: Some("performance".into()),
            governor_after: Some("performance".into()),
            page_fault_ns_before: Some(1_600),
            page_fault_ns_after: Some(2_200),
        },
        flags: Flags {
            iterations: 4,
            warmup: 1,
            tasks: None,
            flavors: vec![Flavor::Current, Flavor::Multi],
            timeout_secs: 300,
            quick: false,
            python: vec!["auto".into()],
            python_iterations: 3,
            python_found: "CPython 3.12.1 (/opt/python3.12)".into(),
            selection: vec![],
            baseline: None,
            thorough: false,
            budget_secs: None,
        },
        harness_overhead: Some(Overhead {
            processes: 40,
            mean_ns: 400_000,
            max_ns: 1_200_000,
        }),
        rows,
    }
}

/// A run of the real exercises' shape, with made-up samples.
pub fn sample_run() -> RunResults {
    results(
        "20261126T100000Z",
        vec![
            row(
                "ex_6_1",
                "eager",
                "current",
                &[1_000_000, 1_010_000, 990_000, 1_020_000],
            ),
            row(
                "ex_6_1",
                "spawn",
                "current",
                &[700_000_000, 720_000_000, 690_000_000, 710_000_000],
            ),
            row(
                "ex_6_1",
                "spawn",
                "multi",
                &[900_000_000, 1_400_000_000, 1_000_000_000, 1_300_000_000],
            ),
            row(
                "ex_6_2",
                "join_all",
                "current",
                &[80_000_000, 81_000_000, 79_000_000, 80_500_000],
            ),
            row(
                "ex_6_2",
                "spawn_gather",
                "current",
                &[330_000_000, 325_000_000, 335_000_000, 328_000_000],
            ),
            row(
                "ex_6_3",
                "try_id",
                "current",
                &[520_000, 530_000, 510_000, 525_000],
            ),
            row("ex_6_4", "shutdown", "current", &[400, 420, 410, 390]),
            failed_row(
                "ex_6_2",
                "spawn_gather",
                "multi",
                "exited with code 101, expected 0",
            ),
        ],
    )
}

/// A CPython row of `exercise` under `version` (`3.12.1`).
pub fn python_row(exercise: &str, version: &str, samples: &[u64]) -> Row {
    let key = RowKey {
        exercise: exercise.into(),
        variant: "asyncio".into(),
        implementation: format!("cpython-{version}"),
        flavor: None,
        tasks: Some(1_000_000),
        entry: None,
        measure: None,
    };
    Row::new(key, samples.to_vec(), None)
}

/// A fresh, empty folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a scratch folder");
    dir
}

/// Whether process `pid` still runs (a zombie waiting for its reaper does not).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat.rsplit_once(") ")?.1.chars().next()?;
            Some(state != 'Z' && state != 'X')
        })
        .unwrap_or(false)
}

/// The text of each list item in the section of an HTML `page` under `<h2>{heading}</h2>`.
pub fn html_section_items(page: &str, heading: &str) -> Vec<String> {
    let section = page
        .split(&format!("<h2>{heading}</h2>"))
        .nth(1)
        .expect("its heading");
    let section = section.split("<h2>").next().unwrap_or_default();
    let dom = tl::parse(section, tl::ParserOptions::default()).expect("it parses");
    let parser = dom.parser();
    dom.query_selector("li")
        .expect("a valid selector")
        .filter_map(|li| li.get(parser))
        .map(|li| li.inner_text(parser).into_owned())
        .collect()
}
