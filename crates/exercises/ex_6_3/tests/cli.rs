//! ex_6_3 as a user runs it: its line, its flags, its exit codes.
//!
//! What every exercise does alike (the variants, default count and help line the catalogue
//! gives it, bad flags, a closed or full stdout) is checked for all of them in
//! `xtask/tests/catalog.rs`.

use timing::testing::{Ran, assert_one_error_line, run, run_with_thread_limit, seconds_in};

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

/// Runs ex_6_3 with four tokio workers where it may start `new_threads` threads; `None` (after
/// saying why) where no thread limit can be set here.
fn run_with_threads(flavor: &str, new_threads: u32) -> Option<Ran> {
    let args = ["--flavor", flavor, "--tasks", "10"];
    match run_with_thread_limit(EXE, &args, &[("TOKIO_WORKER_THREADS", "4")], new_threads) {
        Ok(ran) => Some(ran),
        Err(why) => {
            eprintln!("skipped: {why}");
            None
        }
    }
}

#[test]
fn a_runtime_that_cannot_start_a_thread_is_one_error_line() {
    // `--flavor multi` where the OS refuses every new thread: tokio panics inside its
    // builder ("OS can't spawn worker thread"); the harness promises one line and exit 1.
    let Some(multi) = run_with_threads("multi", 0) else {
        return;
    };
    assert_one_error_line(&multi, "Error: cannot start the tokio runtime: ");
    // The same limit leaves the current-thread runtime, which starts no thread, running.
    let current = run_with_threads("current", 0).expect("as above");
    assert_eq!(current.code, Some(0), "{current:?}");
    assert_eq!(current.stdout.len(), 1, "{current:?}");
}

#[test]
fn a_runtime_that_starts_only_some_of_its_threads_is_one_error_line() {
    // Two of the four workers start, the third is refused: tokio panics with two workers
    // running, which its unwinding waits for for ever. One line and exit 1 instead.
    let Some(multi) = run_with_threads("multi", 2) else {
        return;
    };
    assert_one_error_line(&multi, "Error: cannot start the tokio runtime: ");
}
