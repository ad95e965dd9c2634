//! ex_2_2 as a user runs it: its flags. (Its lines, which take 1 s of real sleeping, are
//! checked by the unit test under a paused clock.)

use timing::testing::{
    assert_one_error_line, assert_quiet_on_broken_pipe, assert_usage_error, run,
    run_into_closed_pipe, run_into_full_device, run_with_thread_limit,
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

#[test]
fn a_runner_runtime_that_cannot_start_its_threads_is_one_error_line() {
    // The runner's own runtime is built in the body, after the harness' one: room for the
    // harness' two workers and no more makes the body's runtime the one refused.
    let args = ["--flavor", "multi"];
    match run_with_thread_limit(EXE, &args, &[("TOKIO_WORKER_THREADS", "2")], 2) {
        Ok(ran) => assert_one_error_line(&ran, "Error: cannot start the tokio runtime: "),
        Err(why) => eprintln!("skipped: {why}"),
    }
}
