//! ex_6_3 as a user runs it: its line, its flags, its exit codes.

use timing::testing::{
    assert_one_error_line, assert_quiet_on_broken_pipe, assert_usage_error, run,
    run_into_closed_pipe, run_into_full_device, seconds_in,
};

const EXE: &str = env!("CARGO_BIN_EXE_ex_6_3");

#[test]
fn prints_the_one_line_of_the_original() {
    for flavor in ["current", "multi"] {
        let ran = run(EXE, &["--flavor", flavor]);
        assert_eq!(ran.code, Some(0), "{ran:?}");
        assert_eq!(ran.stdout.len(), 1, "{ran:?}");
        assert!(seconds_in(&ran.stdout[0], "It took ", "s") > 0.0);
    }
}

#[test]
fn bad_flags_get_one_line_and_exit_code_2() {
    assert_usage_error(
        &run(EXE, &["--variant", "current_task"]),
        "ex_6_3: unknown variant",
        "try_id",
    );
    assert_usage_error(
        &run(EXE, &["extra"]),
        "ex_6_3: unexpected argument 'extra'",
        "valid flags",
    );
}

#[test]
fn a_closed_stdout_pipe_ends_the_run_quietly() {
    // `ex_6_3 | head -c0`: every line fails with EPIPE; no panic, no error lines.
    assert_quiet_on_broken_pipe(&run_into_closed_pipe(EXE, &["--tasks", "1000"]));
}

#[test]
fn a_stdout_that_fails_ends_the_run_with_one_line_and_exit_code_1() {
    // `ex_6_3 > /dev/full`: the write fails with ENOSPC, which is no reason to panic.
    assert_one_error_line(
        &run_into_full_device(EXE, &["--tasks", "1000"]),
        "cannot write to stdout: No space left on device",
    );
    assert_one_error_line(
        &run_into_full_device(EXE, &["--help"]),
        "cannot write to stdout",
    );
}
