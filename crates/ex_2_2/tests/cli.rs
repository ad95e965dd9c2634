//! ex_2_2 as a user runs it: its flags. (Its lines, which take 1 s of real sleeping, are
//! checked by the unit test under a paused clock.)

use timing::testing::{
    assert_one_error_line, assert_quiet_on_broken_pipe, assert_usage_error, run,
    run_into_closed_pipe, run_into_full_device,
};

const EXE: &str = env!("CARGO_BIN_EXE_ex_2_2");

#[test]
fn bad_flags_get_one_line_and_exit_code_2() {
    assert_usage_error(
        &run(EXE, &["--variant", "run"]),
        "ex_2_2: unknown variant 'run'",
        "runner",
    );
    assert_usage_error(
        &run(EXE, &["--flavor"]),
        "ex_2_2: --flavor needs a value",
        "current or multi",
    );
}

#[test]
fn a_closed_stdout_pipe_ends_the_run_quietly() {
    // `ex_2_2 | head -c0`: every line fails with EPIPE; no panic, no error lines.
    // The first line comes before the sleeps, so this ends at once.
    assert_quiet_on_broken_pipe(&run_into_closed_pipe(EXE, &[]));
}

#[test]
fn a_stdout_that_fails_ends_the_run_with_one_line_and_exit_code_1() {
    // `ex_2_2 > /dev/full`: its first line fails with ENOSPC, before it sleeps.
    assert_one_error_line(
        &run_into_full_device(EXE, &[]),
        "cannot write to stdout: No space left on device",
    );
}
