//! queue_pc as a user runs it: the Python script's line, its flags, its exit codes.

use timing::testing::{assert_full_stdout_is_one_error_line, assert_usage_error, run, seconds_in};

const EXE: &str = env!("CARGO_BIN_EXE_queue_pc");

#[test]
fn prints_the_line_of_the_python_script_for_every_variant_and_flavor() {
    for variant in ["queue", "mpsc", "floor"] {
        for flavor in ["current", "multi"] {
            let ran = run(
                EXE,
                &["--variant", variant, "--flavor", flavor, "--tasks", "5000"],
            );
            assert_eq!(ran.code, Some(0), "{ran:?}");
            assert_eq!(ran.stdout.len(), 1, "{ran:?}");
            let took = seconds_in(
                &ran.stdout[0],
                "Passed 5000 items through Queue(maxsize=100) in ",
                "s",
            );
            assert!(took > 0.0, "{ran:?}");
        }
    }
}

#[test]
fn bad_flags_get_one_line_and_exit_code_2() {
    assert_usage_error(
        &run(EXE, &["--variant", "channel"]),
        "queue_pc: unknown variant",
        "queue",
    );
    assert_usage_error(
        &run(EXE, &["--tasks", "0"]),
        "queue_pc: --tasks",
        "1000000000",
    );
}

#[test]
fn a_stdout_that_fails_ends_the_run_with_one_line_and_exit_code_1() {
    // `queue_pc > /dev/full`: the write fails with ENOSPC, which is no reason to panic.
    assert_full_stdout_is_one_error_line(EXE, &["--tasks", "1000"]);
}
