//! ex_4_4 as a user runs it: the four lines of the original, and its flags.

use timing::testing::{
    assert_full_stdout_is_one_error_line, assert_quiet_on_broken_pipe, assert_usage_error, run,
    run_into_closed_pipe,
};

const EXE: &str = env!("CARGO_BIN_EXE_ex_4_4");

#[test]
fn prints_the_barrier_as_python_prints_it() {
    let ran = run(EXE, &[]);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(ran.stdout.len(), 4, "{ran:?}");
    let states = [
        "[filling, waiters:2/3]>",
        "[draining, waiters:0/3]>",
        "[filling, waiters:0/3]>",
    ];
    for (line, state) in [&ran.stdout[0], &ran.stdout[1], &ran.stdout[3]]
        .into_iter()
        .zip(states)
    {
        let rest = line
            .strip_prefix("<barrier::Barrier object at 0x")
            .expect("a repr");
        assert!(rest.ends_with(&format!(" {state}")), "{line}");
    }
    assert_eq!(ran.stdout[2], "barrier passed");
}

#[test]
fn bad_flags_get_one_line_and_exit_code_2() {
    assert_usage_error(
        &run(EXE, &["--variant", "tokio"]),
        "ex_4_4: unknown variant 'tokio'",
        "barrier",
    );
    assert_usage_error(
        &run(EXE, &["--tasks", "3"]),
        "ex_4_4: --tasks does not apply",
        "--variant",
    );
}

#[test]
fn a_closed_stdout_pipe_ends_the_run_quietly() {
    // `ex_4_4 | head -c0`: every line fails with EPIPE; no panic, no error lines.
    assert_quiet_on_broken_pipe(&run_into_closed_pipe(EXE, &[]));
}

#[test]
fn a_stdout_that_fails_ends_the_run_with_one_line_and_exit_code_1() {
    // `ex_4_4 > /dev/full`: the write fails with ENOSPC, which is no reason to panic.
    assert_full_stdout_is_one_error_line(EXE, &[]);
}
