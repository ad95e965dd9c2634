//! Checks, for an exercise's integration tests, of what [`harness::main`](crate::harness::main)
//! does alike for every exercise: run its body `--repeat` times and record each run with
//! `--json`, and refuse a bad value of a common flag with one line and exit code 2.
//!
//! They run the built binary, as a user does; each exercise's tests call them with its own.

use std::path::Path;

use catalog::Exercise;

use crate::result::TimingResult;
use crate::testing::{assert_usage_error, run, scratch_dir};

/// `exe`, the binary of `exercise`, run with `variant` (no `--variant` flag for the default),
/// `--tasks 1000` where a count applies, `--repeat 3` and `--json`: exits 0, prints its
/// `lines_per_run` lines three times, and the JSON result records three samples, the
/// exercise, the variant and the count.
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
    let exe = exe.as_ref();
    let name = exercise.name;
    if exercise.default_tasks.is_some() {
        let needs = format!("{name}: --tasks needs a whole number");
        assert_usage_error(&run(exe, &["--tasks", "many"]), &needs, "1 to");
        assert_usage_error(&run(exe, &["--tasks", "0"]), &needs, "got '0'");
        let value = format!("{name}: --tasks needs a value");
        assert_usage_error(&run(exe, &["--tasks"]), &value, "whole number");
    }
    let needs = format!("{name}: --repeat needs a whole number");
    assert_usage_error(&run(exe, &["--repeat", "x"]), &needs, "1 to");
    assert_usage_error(&run(exe, &["--repeat", "0"]), &needs, "1 to");
    assert_usage_error(
        &run(exe, &["--flavor"]),
        &format!("{name}: --flavor needs a value"),
        "current or multi",
    );
    assert_usage_error(
        &run(exe, &["--flavor", "both"]),
        &format!("{name}: unknown flavor"),
        "current, multi",
    );
    assert_usage_error(
        &run(exe, &["--frobnicate"]),
        &format!("{name}: unknown flag"),
        "--variant",
    );
    assert_usage_error(
        &run(exe, &["extra"]),
        &format!("{name}: unexpected argument 'extra'"),
        "valid flags",
    );
    assert_usage_error(
        &run(exe, &["--json", "/no/such/dir/x.json"]),
        &format!("{name}: --json"),
        "does not exist",
    );
}
