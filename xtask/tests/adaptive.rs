//! The adaptive schedule of `run` and `run-all` against the fixture binary: rows run until
//! their interval is as narrow as their goal, or their cap, or the time budget.

#![allow(clippy::unwrap_used)] // helpers of tests: a failed unwrap is a failed test

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use xtask::measure::{Goal, Progress, Schedule, Target, execute_scheduled};
use xtask::results::{Row, Stop};

fn fixture(variant: &str, warmup: u32, runs: u32) -> Target {
    Target {
        key: common::key("fixture", variant, "current", Some(1_000)),
        exe: PathBuf::from(env!("CARGO_BIN_EXE_fixture")),
        args: vec!["--variant".into(), variant.into()],
        expected_exit: 0,
        warmup,
        runs,
    }
}

fn schedule(goals: Vec<Option<Goal>>, deadline: Option<Instant>) -> Schedule {
    Schedule {
        estimates: vec![Duration::from_millis(5); goals.len()],
        goals,
        deadline,
    }
}

fn run(targets: &[Target], schedule: &Schedule, name: &str) -> Vec<Row> {
    let dir = common::scratch(name);
    execute_scheduled(
        targets,
        schedule,
        Duration::from_secs(10),
        &dir.join("scratch"),
        &Progress::quiet(),
    )
    .unwrap()
    .rows
}

/// A goal no interval of two or more samples misses, and one none reaches.
const ANY: f64 = 1e6;
const NEVER: f64 = 1e-12;

fn goal(half_width: f64, max_runs: u32, priority: u8) -> Option<Goal> {
    Some(Goal {
        half_width,
        max_runs,
        priority,
        fixed_first: priority == 0,
    })
}

#[test]
fn a_row_stops_at_its_goal_or_at_its_cap_and_says_which() {
    // One fixed run each: the first needs a second sample for an interval, then has its goal;
    // the second never does and runs to its cap of 5.
    let targets = [fixture("ok", 0, 1), fixture("slow", 1, 1)];
    let rows = run(
        &targets,
        &schedule(vec![goal(ANY, 5, 0), goal(NEVER, 5, 0)], None),
        "adaptive-goal",
    );
    let (ok, slow) = (&rows[0], &rows[1]);
    assert_eq!(ok.samples_ns.len(), 2, "{ok:?}");
    let p = ok.precision.expect("a measured row states its precision");
    assert_eq!((p.stopped, p.goal), (Stop::Goal, Some(ANY)));
    assert!(p.half_width.is_some_and(|h| h >= 0.0));
    assert_eq!(slow.samples_ns.len(), 5, "{slow:?}");
    assert_eq!(slow.precision.map(|p| p.stopped), Some(Stop::MaxRuns));
    // The mean process time is recorded for the next run's estimates.
    assert!(
        slow.process_ns.is_some_and(|ns| ns >= 20_000_000),
        "{slow:?}"
    );
}

#[test]
fn rows_without_a_goal_run_exactly_their_fixed_count() {
    let targets = [fixture("ok", 1, 3)];
    let rows = run(&targets, &schedule(vec![None], None), "adaptive-fixed");
    assert_eq!(rows[0].samples_ns.len(), 3);
    assert_eq!(rows[0].precision.map(|p| p.stopped), Some(Stop::Fixed));
    assert_eq!(rows[0].precision.and_then(|p| p.goal), None);
}

#[test]
fn a_spent_budget_keeps_the_first_rows_fixed_runs_and_skips_the_others() {
    // The deadline has passed before anything runs.
    let past = Some(Instant::now());
    let targets = [
        fixture("ok", 0, 2),
        fixture("slow", 0, 1),
        fixture("ok", 0, 2),
    ];
    // The third: its extra runs wait (priority 1), its fixed ones do not (a Rust row).
    let rust_like = Some(Goal {
        fixed_first: true,
        ..goal(NEVER, 9, 1).unwrap()
    });
    let rows = run(
        &targets,
        &schedule(vec![goal(NEVER, 9, 0), goal(ANY, 9, 1), rust_like], past),
        "adaptive-budget",
    );
    assert_eq!(rows[2].samples_ns.len(), 2, "{:?}", rows[2]);
    assert_eq!(rows[2].precision.map(|p| p.stopped), Some(Stop::Budget));
    // Priority 0: its fixed runs whatever the budget, then no more.
    assert_eq!(rows[0].samples_ns.len(), 2, "{:?}", rows[0]);
    assert_eq!(rows[0].precision.map(|p| p.stopped), Some(Stop::Budget));
    // Priority 1: not started, and the row says why instead of failing.
    assert!(rows[1].samples_ns.is_empty());
    assert!(rows[1].failure.is_none());
    assert!(
        rows[1]
            .skipped
            .as_deref()
            .is_some_and(|s| s.contains("time budget")),
        "{:?}",
        rows[1]
    );
}

#[test]
fn a_failed_row_is_not_run_again_and_says_it_failed() {
    let targets = [fixture("fail", 0, 1)];
    let rows = run(
        &targets,
        &schedule(vec![goal(NEVER, 9, 0)], None),
        "adaptive-fail",
    );
    assert!(rows[0].failure.is_some());
    assert_eq!(rows[0].precision.map(|p| p.stopped), Some(Stop::Failed));
}

#[test]
fn the_next_run_expects_a_process_to_take_its_lifetime_and_the_runners_own_time() {
    // The last run: a row whose processes lived 40 ms, and 3 ms of the runner's a process.
    let mut previous = common::sample_run();
    previous.rows[0].process_ns = Some(40_000_000);
    if let Some(o) = &mut previous.harness_overhead {
        o.mean_ns = 3_000_000;
    }
    let mut targets = [Target {
        key: previous.rows[0].key(),
        ..fixture("ok", 0, 1)
    }];
    let s = Schedule::adaptive(&mut targets, Instant::now(), Some(&previous));
    assert_eq!(s.estimates, [Duration::from_millis(43)]);
}
