//! ex_2_7 as a user runs it: its flags. (Its lines, which take 3 s of real sleeping, are
//! checked by the unit test under a paused clock.)

use timing::testing::{
    assert_one_error_line, assert_quiet_on_broken_pipe, assert_usage_error, run,
    run_into_closed_pipe, run_into_full_device,
};

const EXE: &str = env!("CARGO_BIN_EXE_ex_2_7");

#[test]
fn bad_flags_get_one_line_and_exit_code_2() {
    assert_usage_error(
        &run(EXE, &["--variant", "joinset"]),
        "ex_2_7: unknown variant 'joinset'",
        "taskgroup",
    );
    assert_usage_error(
        &run(EXE, &["--repeat", "x"]),
        "ex_2_7: --repeat needs a whole number",
        "1 to",
    );
}

#[test]
fn help_says_what_it_shows() {
    let ran = run(EXE, &["-h"]);
    assert_eq!(ran.code, Some(0));
    assert!(
        ran.stdout[0].starts_with("ex_2_7: a TaskGroup of two sleeping tasks"),
        "{ran:?}"
    );
}

#[test]
fn a_closed_stdout_pipe_ends_the_run_quietly() {
    // `ex_2_7 | head -c0`: every line fails with EPIPE; no panic, no error lines.
    // The first line comes before the sleeps, so this ends at once.
    assert_quiet_on_broken_pipe(&run_into_closed_pipe(EXE, &[]));
}

#[test]
fn a_stdout_that_fails_ends_the_run_with_one_line_and_exit_code_1() {
    // `ex_2_7 > /dev/full`: its first line fails with ENOSPC, before it sleeps.
    assert_one_error_line(
        &run_into_full_device(EXE, &[]),
        "cannot write to stdout: No space left on device",
    );
}
