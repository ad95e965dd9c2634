//! ex_6_1 as a user runs it: its lines, its flags, its exit codes.
//!
//! What every exercise does alike (the variants, default count and help line the catalogue
//! gives it, bad flags, a closed or full stdout) is checked for all of them in
//! `xtask/tests/catalog.rs`.

use timing::harness_checks::assert_repeat_records_each_run;
use timing::testing::{assert_usage_error, run, seconds_in};

const EXE: &str = env!("CARGO_BIN_EXE_ex_6_1");

/// Its facts: the variants, default first, and its default count (crates/catalog).
const EXERCISE: &catalog::Exercise = catalog::exercise("ex_6_1");

#[test]
fn prints_the_three_lines_of_the_original() {
    // No arguments: the full 1,000,000 tasks, as the original.
    let ran = run(EXE, &[]);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(ran.stdout.len(), 3, "{ran:?}");
    assert_eq!(ran.stdout[0], "Before running task group!");
    assert!(seconds_in(&ran.stdout[1], "It took ", " to run!") > 0.0);
    assert_eq!(
        ran.stdout[2],
        "After running task group with eager task factory!"
    );
}

#[test]
fn other_variants_on_both_runtimes_print_the_same_lines() {
    for variant in ["spawn", "bare_spawn", "joinset", "tracker"] {
        for flavor in ["current", "multi"] {
            let ran = run(
                EXE,
                &["--variant", variant, "--flavor", flavor, "--tasks", "10000"],
            );
            assert_eq!(ran.code, Some(0), "{ran:?}");
            assert_eq!(ran.stdout[0], "Before running task group!");
            assert_eq!(ran.stdout.len(), 3);
            // Every variant but the eager ones runs as the script's `--variant scheduled`.
            assert_eq!(
                ran.stdout[2],
                "After running task group without eager task factory!"
            );
        }
    }
}

#[test]
fn repeat_runs_the_body_again_and_json_records_each_run() {
    assert_repeat_records_each_run(EXE, EXERCISE, "eager", 3);
}

#[test]
fn json_refuses_a_target_that_is_not_a_regular_file_before_measuring() {
    let dir = timing::testing::scratch_dir("ex_6_1-json-target");
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let folder = dir.join("folder");
    std::fs::create_dir(&folder).unwrap();
    for target in [&fifo, &folder] {
        let ran = run(EXE, &["--tasks", "10", "--json", target.to_str().unwrap()]);
        assert_usage_error(&ran, "ex_6_1: --json", "give a regular file");
    }
    // Both left as they were, and nothing else written beside them.
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_refuses_a_link_and_a_name_ending_in_a_slash_before_measuring() {
    let dir = timing::testing::scratch_dir("ex_6_1-json-link");
    let target = dir.join("target.json");
    std::fs::write(&target, "ORIG").unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let ran = run(EXE, &["--tasks", "10", "--json", link.to_str().unwrap()]);
    assert_usage_error(&ran, "ex_6_1: --json", "is a symbolic link");
    // The link is still a link, and what it points to is as it was.
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "ORIG");
    // `new.json/`: refused before anything runs, not after the measuring.
    let slash = format!("{}/new.json/", dir.display());
    let ran = run(EXE, &["--tasks", "10", "--json", &slash]);
    assert_usage_error(&ran, "ex_6_1: --json", "ends with '/'");
    assert!(ran.stdout.is_empty(), "{ran:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_refuses_a_folder_that_is_missing_or_cannot_be_written() {
    let dir = timing::testing::scratch_dir("ex_6_1-json-folder");
    let missing = dir.join("no").join("r.json");
    assert_usage_error(
        &run(EXE, &["--tasks", "10", "--json", missing.to_str().unwrap()]),
        "ex_6_1: --json",
        "does not exist",
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
    // A folder even root cannot create files in: refused before measuring, not after.
    assert_usage_error(
        &run(EXE, &["--tasks", "10", "--json", "/proc/self/x.json"]),
        "ex_6_1: --json '/proc/self/x.json'",
        "cannot be written",
    );
}

#[test]
fn a_task_count_that_cannot_fit_in_memory_is_refused_with_the_largest_that_fits() {
    // 10^9 scheduled tasks at ~336 bytes each: ~336 GB, more than this machine has.
    let ran = run(EXE, &["--variant", "spawn", "--tasks", "1000000000"]);
    assert_usage_error(
        &ran,
        "ex_6_1: --tasks 1000000000",
        "largest count that fits",
    );
    let largest: u64 = ran
        .stderr
        .trim_end()
        .rsplit(' ')
        .next()
        .and_then(|n| n.replace(',', "").parse().ok())
        .unwrap_or_else(|| panic!("no count at the end of {:?}", ran.stderr));
    assert!((1..1_000_000_000).contains(&largest), "{largest}");
    // A small count of the same variant still runs.
    assert_eq!(
        run(EXE, &["--variant", "spawn", "--tasks", "100"]).code,
        Some(0)
    );
}

#[test]
fn a_value_with_a_control_character_is_echoed_escaped_on_one_line() {
    // `ex_6_1 --tasks $'1\n2'`: the error names the value as `1\n2`, on one line.
    assert_usage_error(
        &run(EXE, &["--tasks", "1\n2"]),
        "ex_6_1: --tasks needs a whole number",
        "got '1\\n2'",
    );
    // An escape sequence (clear the screen, set the title) reaches the terminal only as text.
    let ran = run(EXE, &["--variant", "x\u{1b}[2J\u{1b}]0;owned\u{7}"]);
    assert_usage_error(
        &ran,
        "ex_6_1: unknown variant",
        "'x\\u{1b}[2J\\u{1b}]0;owned\\u{7}'",
    );
    assert!(!ran.stderr.contains('\u{1b}'), "{ran:?}");
}
