//! Checks, for an exercise's integration tests, of what [`harness::main`](crate::harness::main)
//! does alike for every exercise: run its body `--repeat` times and record each run with
//! `--json`, and refuse a bad value of a common flag with one line and exit code 2.
//!
//! They run the built binary, as a user does: `xtask/tests/catalog.rs` calls the bad-flag check
//! for every exercise, and an exercise's own tests call the `--repeat` check with its own.

use std::path::Path;

use catalog::Exercise;

use crate::result::TimingResult;
use crate::testing::{assert_usage_error, run, scratch_dir};

/// `exe`, the binary of `exercise`, run with `variant` (no `--variant` flag for the default),
/// `--tasks 1000` where a count applies, `--repeat 3` and `--json`: exits 0, prints its
/// `lines_per_run` lines three times, and the JSON result records three samples with their CPU
/// times, the exercise, the variant and the count.
pub fn assert_repeat_records_each_run(
    exe: impl AsRef<Path>,
    exercise: &Exercise,
    variant: &str,
    lines_per_run: usize,
) {
    let dir = scratch_dir(&format!("{}-repeat-json", exercise.name));
    let path = dir.join("r.json");
    let json = path.to_str().expect("a UTF-8 temporary folder");
    let mut args = vec!["--repeat", "3", "--json", json];
    if variant != exercise.default_variant().name {
        args.extend(["--variant", variant]);
    }
    let tasks = exercise.default_tasks.map(|_| 1000);
    if tasks.is_some() {
        args.extend(["--tasks", "1000"]);
    }
    let ran = run(exe, &args);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(ran.stdout.len(), 3 * lines_per_run, "{ran:?}");
    let result = TimingResult::read(&path).expect("the JSON result");
    assert_eq!(result.samples_ns.len(), 3);
    assert_eq!(
        result.cpu_samples_ns.len(),
        3,
        "a CPU time beside each sample"
    );
    assert_eq!(
        (result.exercise.as_str(), result.variant.as_str()),
        (exercise.name, variant)
    );
    assert_eq!(result.tasks, tasks);
    std::fs::remove_dir_all(&dir).expect("the scratch folder removed");
}

/// `exe`, the binary of `exercise`, refuses bad usage of the common flags with one line on
/// stderr that starts with the exercise's name and the flag, and exit code 2: `--tasks` that
/// is missing, no whole number or 0 (where a count applies), `--repeat` that is no whole
/// number or 0, `--flavor` without a value or with an unknown one, an unknown flag, a stray
/// argument, and `--json` into a folder that does not exist.
pub fn assert_bad_flags_refused(exe: impl AsRef<Path>, exercise: &Exercise) {
    // (the arguments, what the line says after `name: `, a part of the rest of it)
    let tasks: &[(&[&str], &str, &str)] = &[
        (&["--tasks", "many"], "--tasks needs a whole number", "1 to"),
        (&["--tasks", "0"], "--tasks needs a whole number", "got '0'"),
        (&["--tasks"], "--tasks needs a value", "whole number"),
    ];
    let common: &[(&[&str], &str, &str)] = &[
        (&["--repeat", "x"], "--repeat needs a whole number", "1 to"),
        (&["--repeat", "0"], "--repeat needs a whole number", "1 to"),
        (&["--flavor"], "--flavor needs a value", "current or multi"),
        (&["--flavor", "both"], "unknown flavor", "current, multi"),
        (&["--frobnicate"], "unknown flag", "--variant"),
        (&["extra"], "unexpected argument 'extra'", "valid flags"),
        (
            &["--json", "/no/such/dir/x.json"],
            "--json",
            "does not exist",
        ),
    ];
    let counted = exercise.default_tasks.is_some();
    for (args, says, extra) in common.iter().chain(tasks.iter().filter(|_| counted)) {
        let ran = run(exe.as_ref(), args);
        assert_usage_error(&ran, &format!("{}: {says}", exercise.name), extra);
    }
}
