//! ex_2_2 as a user runs it: its flags. (Its lines, which take 1 s of real sleeping, are
//! checked by the unit test under a paused clock.)
//!
//! What every exercise does alike (the variants, default count and help line the catalogue
//! gives it, bad flags, a closed or full stdout) is checked for all of them in
//! `xtask/tests/catalog.rs`.

use timing::testing::{assert_one_error_line, run_with_thread_limit};

const EXE: &str = env!("CARGO_BIN_EXE_ex_2_2");

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
