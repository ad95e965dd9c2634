//! ex_6_2 as a user runs it: its lines, its flags, its exit codes.
//!
//! What every exercise does alike (the variants, default count and help line the catalogue
//! gives it, bad flags, a closed or full stdout) is checked for all of them in
//! `xtask/tests/catalog.rs`.

use timing::testing::{assert_usage_error, run, seconds_in};

const EXE: &str = env!("CARGO_BIN_EXE_ex_6_2");

fn assert_original_lines(stdout: &[String]) {
    assert_eq!(stdout.len(), 4, "{stdout:?}");
    assert_eq!(stdout[0], "Before running gather!");
    assert!(seconds_in(&stdout[1], "It took ", " to run!") > 0.0);
    assert_eq!(
        stdout[2],
        "After running gather without eager task factory!"
    );
    assert_eq!(
        stdout[3],
        "tasks: <_GatheringFuture finished result=[None, None, None, None, None, None, ...]>"
    );
}

#[test]
fn prints_the_four_lines_of_the_original() {
    let ran = run(EXE, &[]);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_original_lines(&ran.stdout);
}

#[test]
fn spawning_variants_print_the_same_lines_on_both_runtimes() {
    for variant in [
        "spawn_gather",
        "join_handles",
        "futures_unordered",
        "join_handles_unconstrained",
    ] {
        for flavor in ["current", "multi"] {
            let ran = run(
                EXE,
                &["--variant", variant, "--flavor", flavor, "--tasks", "5000"],
            );
            assert_eq!(ran.code, Some(0), "{variant} {flavor}: {ran:?}");
            assert_original_lines(&ran.stdout);
        }
    }
}

#[test]
fn a_gather_that_cannot_fit_in_memory_is_refused() {
    let ran = run(EXE, &["--variant", "spawn_gather", "--tasks", "1000000000"]);
    assert_usage_error(
        &ran,
        "ex_6_2: --tasks 1000000000",
        "largest count that fits",
    );
}
