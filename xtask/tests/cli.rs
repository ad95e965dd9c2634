//! `cargo xtask` as a user types it: bad input gets one line and exit code 2, and nothing the
//! user had is overwritten.

mod common;

use std::process::Command;

const XTASK: &str = env!("CARGO_BIN_EXE_xtask");

fn xtask(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(XTASK)
        .args(args)
        .output()
        .expect("running xtask");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_usage(args: &[&str], needle: &str) {
    let (code, stdout, stderr) = xtask(args);
    assert_eq!(code, Some(2), "{args:?}: {stderr}");
    assert!(stdout.is_empty(), "{args:?}: {stdout}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: one line, got {stderr}"
    );
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
}

#[test]
fn unknown_exercises_and_variants_name_the_valid_ones() {
    assert_usage(
        &["run", "ex_9_9"],
        "unknown exercise 'ex_9_9'; valid exercises: ex_6_1, ex_6_2, ex_6_3, ex_6_4, ex_2_2, ex_2_7, ex_4_4",
    );
    assert_usage(
        &["run", "ex_6_2:lazy"],
        "valid variants: join_all, spawn_gather",
    );
}

#[test]
fn bad_flags_and_numbers_get_one_line() {
    assert_usage(&["run-all", "--iterations", "0"], "--iterations");
    assert_usage(
        &["run-all", "--flavor", "all"],
        "possible values: current, multi, both",
    );
    assert_usage(&["run-all", "--tasks", "lots"], "--tasks");
    assert_usage(&["run-all", "--bogus"], "--bogus");
    assert_usage(&["frobnicate"], "frobnicate");
    assert_usage(
        &["run-all", "--save-baseline", "../evil"],
        "baseline name '../evil' is not valid",
    );
    assert_usage(
        &["run-all", "--python", "/no/such/python"],
        "--python '/no/such/python'",
    );
}

#[test]
fn missing_runs_and_baselines_are_usage_errors() {
    let dir = common::scratch("cli-missing");
    let out = dir.to_str().unwrap();
    assert_usage(&["report", "--out", out], "no run yet");
    assert_usage(
        &["report", "20990101T000000Z", "--out", out],
        "no run '20990101T000000Z'",
    );
    assert_usage(&["compare", "nosuch", "--out", out], "no baseline 'nosuch'");
    assert_usage(
        &["run-all", "--baseline", "nosuch", "--out", out],
        "no baseline 'nosuch'",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_run_is_refused_and_its_report_left_whole() {
    let dir = common::scratch("cli-corrupt");
    let run = dir.join("runs").join("r1");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("results.json"), "{ not json").unwrap();
    std::fs::write(run.join("report.md"), "the old report").unwrap();
    assert_usage(
        &["report", "r1", "--out", dir.to_str().unwrap()],
        "is not a results.json of this project",
    );
    assert_eq!(
        std::fs::read_to_string(run.join("report.md")).unwrap(),
        "the old report"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn report_and_compare_work_from_stored_files() {
    let dir = common::scratch("cli-stored");
    let run = dir.join("runs").join("20261126T100000Z");
    std::fs::create_dir_all(&run).unwrap();
    let results = common::sample_run();
    results.write(&run.join("results.json")).unwrap();
    std::fs::create_dir_all(dir.join("baselines")).unwrap();
    results
        .write(&dir.join("baselines").join("main.json"))
        .unwrap();
    let out = dir.to_str().unwrap();
    let (code, stdout, stderr) = xtask(&[
        "report",
        "20261126T100000Z",
        "--out",
        out,
        "--baseline",
        "main",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("report.md"));
    let md = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(md.contains("## Compared with baseline `main`"));
    assert!(run.join("report.html").is_file());
    let (code, stdout, _) = xtask(&["compare", "main", run.to_str().unwrap(), "--out", out]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("0 regression(s)."), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn list_shows_every_exercise_and_variant() {
    let (code, stdout, _) = xtask(&["list"]);
    assert_eq!(code, Some(0));
    for name in [
        "ex_6_1",
        "eager, default",
        "spawn, reference",
        "ex_6_4",
        "shutdown",
    ] {
        assert!(stdout.contains(name), "{name}: {stdout}");
    }
}

#[test]
fn sweep_checks_its_task_counts() {
    assert_usage(&["sweep", "--tasks", "1000,0"], "--tasks");
    assert_usage(&["sweep", "--tasks", "1000,many"], "--tasks");
}
