//! suspend_once as a user runs it: its lines, its flags, its exit codes.

use timing::testing::{
    assert_full_stdout_is_one_error_line, assert_quiet_on_broken_pipe, assert_usage_error, run,
    run_into_closed_pipe, seconds_in,
};

const EXE: &str = env!("CARGO_BIN_EXE_suspend_once");

const VARIANTS: [&str; 7] = [
    "scheduled",
    "eager",
    "bare_spawn",
    "tracker",
    "joinset",
    "futures_unordered",
    "floor",
];

/// The three lines the Python script prints, the last as it says for `eager`.
fn assert_three_lines(ran: &timing::testing::Ran, eager: bool) {
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(ran.stdout.len(), 3, "{ran:?}");
    assert_eq!(ran.stdout[0], "Before running task group!");
    assert!(seconds_in(&ran.stdout[1], "It took ", " to run!") > 0.0);
    let with = if eager { "with" } else { "without" };
    assert_eq!(
        ran.stdout[2],
        format!("After running task group {with} eager task factory!")
    );
}

#[test]
fn prints_the_three_lines_of_the_original() {
    // No --variant: the group without eager start.
    assert_three_lines(&run(EXE, &["--tasks", "10000"]), false);
}

#[test]
fn the_default_count_is_the_originals_million() {
    // The floor, so that a million tasks take milliseconds even in a debug build.
    let dir = timing::testing::scratch_dir("suspend_once-default");
    let path = dir.join("r.json");
    let ran = run(
        EXE,
        &["--variant", "floor", "--json", path.to_str().unwrap()],
    );
    assert_three_lines(&ran, false);
    let result = timing::TimingResult::read(&path).unwrap();
    assert_eq!(result.tasks, Some(1_000_000));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_variant_on_both_runtimes_prints_the_same_lines() {
    for variant in VARIANTS {
        for flavor in ["current", "multi"] {
            let ran = run(
                EXE,
                &["--variant", variant, "--flavor", flavor, "--tasks", "10000"],
            );
            assert_three_lines(&ran, variant == "eager");
        }
    }
}

#[test]
fn start_latency_and_block_on_runs_print_the_same_lines() {
    for variant in VARIANTS {
        let ran = run(
            EXE,
            &[
                "--variant",
                variant,
                "--tasks",
                "1000",
                "--measure",
                "start-latency",
                "--entry",
                "block_on",
            ],
        );
        assert_three_lines(&ran, variant == "eager");
    }
}

#[test]
fn repeat_runs_the_body_again_and_json_records_each_run() {
    let dir = timing::testing::scratch_dir("suspend_once-json");
    let path = dir.join("r.json");
    let ran = run(
        EXE,
        &[
            "--variant",
            "tracker",
            "--tasks",
            "1000",
            "--repeat",
            "3",
            "--json",
            path.to_str().unwrap(),
        ],
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(ran.stdout.len(), 9);
    let result = timing::TimingResult::read(&path).unwrap();
    assert_eq!(result.samples_ns.len(), 3);
    assert_eq!(
        (result.exercise.as_str(), result.variant.as_str()),
        ("suspend_once", "tracker")
    );
    assert_eq!(result.tasks, Some(1000));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_flags_get_one_line_and_exit_code_2() {
    assert_usage_error(
        &run(EXE, &["--variant", "lazy"]),
        "suspend_once: unknown variant 'lazy'",
        "scheduled, eager, bare_spawn, tracker, joinset, futures_unordered, floor",
    );
    assert_usage_error(
        &run(EXE, &["--tasks", "many"]),
        "suspend_once: --tasks needs a whole number",
        "1 to",
    );
    assert_usage_error(
        &run(EXE, &["--tasks", "0"]),
        "suspend_once: --tasks needs a whole number",
        "got '0'",
    );
    assert_usage_error(
        &run(EXE, &["--flavor", "both"]),
        "suspend_once: unknown flavor",
        "current, multi",
    );
    assert_usage_error(
        &run(EXE, &["--frobnicate"]),
        "suspend_once: unknown flag",
        "--variant",
    );
    assert_usage_error(
        &run(EXE, &["--json", "/no/such/dir/x.json"]),
        "suspend_once: --json",
        "does not exist",
    );
}

#[test]
fn help_lists_the_variants() {
    let ran = run(EXE, &["--help"]);
    assert_eq!(ran.code, Some(0));
    let listed = VARIANTS.join("|");
    assert!(ran.stdout.iter().any(|l| l.contains(&listed)), "{ran:?}");
}

#[test]
fn a_task_count_that_cannot_fit_in_memory_is_refused_with_the_largest_that_fits() {
    // 10^9 suspended tasks at ~540 bytes each: ~540 GB, more than this machine has.
    let ran = run(EXE, &["--tasks", "1000000000"]);
    assert_usage_error(
        &ran,
        "suspend_once: --tasks 1000000000",
        "largest count that fits",
    );
    // The floor holds nothing per task: not refused (a small count shows it still runs).
    assert_eq!(
        run(EXE, &["--variant", "floor", "--tasks", "100"]).code,
        Some(0)
    );
}

#[test]
fn a_closed_stdout_pipe_ends_the_run_quietly() {
    // `suspend_once | head -c0`: every line fails with EPIPE; no panic, no error lines.
    assert_quiet_on_broken_pipe(&run_into_closed_pipe(EXE, &["--tasks", "1000"]));
}

#[test]
fn a_stdout_that_fails_ends_the_run_with_one_line_and_exit_code_1() {
    // `suspend_once > /dev/full`: the write fails with ENOSPC, which is no reason to panic.
    assert_full_stdout_is_one_error_line(EXE, &["--tasks", "1000"]);
}
