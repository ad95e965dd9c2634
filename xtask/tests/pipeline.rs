//! The runner end to end against fixture binaries that sleep, fail, crash and hang.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use xtask::measure::{Progress, Target, execute};
use xtask::report;
use xtask::results::{Row, RowKey, RunResults};

fn fixture(variant: &str) -> Target {
    Target {
        key: common::key("fixture", variant, "current", Some(1_000)),
        exe: PathBuf::from(env!("CARGO_BIN_EXE_fixture")),
        args: vec![
            "--variant".into(),
            variant.into(),
            "--tasks".into(),
            "1000".into(),
        ],
        expected_exit: 0,
        warmup: 1,
        runs: 3,
    }
}

fn find<'a>(rows: &'a [Row], variant: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.variant == variant)
        .expect("a row per target")
}

#[test]
fn run_results_and_report_with_processes_that_sleep_fail_crash_and_hang() {
    let dir = common::scratch("pipeline");
    let targets: Vec<Target> = ["ok", "slow", "fail", "crash", "hang", "nojson"]
        .into_iter()
        .map(fixture)
        .collect();
    let measured = execute(
        &targets,
        Duration::from_secs(2),
        &dir.join("scratch"),
        &Progress::quiet(),
    )
    .unwrap();
    let rows = &measured.rows;
    assert_eq!(rows.len(), 6);

    // Sleepers: one sample per measured process, warmup discarded, sizes as slept.
    for (variant, ms) in [("ok", 2), ("slow", 20)] {
        let row = find(rows, variant);
        assert!(row.failure.is_none(), "{row:?}");
        assert_eq!(row.samples_ns.len(), 3);
        assert!(
            row.samples_ns.iter().all(|&ns| ns >= ms * 1_000_000),
            "{variant}: {row:?}"
        );
    }
    let reason = |v: &str| {
        find(rows, v)
            .failure
            .as_ref()
            .map(|f| (f.reason.clone(), f.stderr_tail.clone()))
    };
    let (why, stderr) = reason("fail").unwrap();
    assert_eq!(why, "exited with code 1, expected 0");
    assert!(stderr.contains("fixture failure on purpose"), "{stderr}");
    let (why, stderr) = reason("crash").unwrap();
    assert_eq!(why, "killed by signal 6");
    assert!(stderr.contains("about to crash"), "{stderr}");
    assert_eq!(
        reason("hang").unwrap().0,
        "timed out after 2 s and was killed"
    );
    assert!(
        reason("nojson")
            .unwrap()
            .0
            .starts_with("wrote no usable timing result")
    );
    for failed in ["fail", "crash", "hang", "nojson"] {
        assert!(
            find(rows, failed).samples_ns.is_empty(),
            "{failed} kept no samples"
        );
    }
    // Each process' CPU time, killed or not: known for every row, and no more than its wall
    // time on every core. The sleepers sleep most of their lives.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    for row in rows {
        let cpu = row
            .process_cpu_ns
            .expect("every process' CPU time is known");
        let wall = row.process_ns.expect("every row ran");
        assert!(
            cpu > 0 && cpu <= wall * cores,
            "{} {cpu} > {wall}",
            row.variant
        );
    }
    let slow = find(rows, "slow");
    let (cpu, wall) = (slow.process_cpu_ns.unwrap(), slow.process_ns.unwrap());
    assert!(cpu < wall / 2, "slow: {cpu} ns of CPU in {wall} ns");
    // Every process was run and measured by the runner, cheaply.
    let overhead = measured.overhead.unwrap();
    assert_eq!(
        overhead.processes,
        4 + 4 + 4,
        "ok and slow 4 times, each failure once"
    );

    // Results → JSON → report.
    let results = common::results("20261126T100000Z", measured.rows);
    results.write(&dir.join("results.json")).unwrap();
    let back = RunResults::read(&dir.join("results.json")).unwrap();
    assert_eq!(back, results);
    report::write(&back, None, &dir).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("## Failures"), "{md}");
    for line in [
        "| fixture fail (current) | exited with code 1, expected 0 |",
        "| fixture hang (current) | timed out after 2 s",
    ] {
        assert!(md.contains(line), "missing {line:?} in\n{md}");
    }
    assert!(md.contains("4 row(s) failed: see Failures."));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rows_match_across_runs_by_their_key() {
    let a = common::row("ex_6_1", "eager", "current", &[1, 2]);
    let b = common::row("ex_6_1", "eager", "current", &[3, 4]);
    assert_eq!(a.key(), b.key());
    let other: RowKey = common::key("ex_6_1", "eager", "multi", Some(1_000_000));
    assert_ne!(a.key(), other);
}

#[test]
fn rows_with_fewer_runs_take_part_in_the_last_rounds() {
    let dir = common::scratch("capped");
    let mut few = fixture("ok");
    (few.warmup, few.runs) = (0, 1);
    let many = fixture("slow");
    let measured = execute(
        &[few, many],
        Duration::from_secs(10),
        &dir,
        &Progress::quiet(),
    )
    .unwrap();
    assert_eq!(measured.rows[0].samples_ns.len(), 1);
    assert_eq!(measured.rows[1].samples_ns.len(), 3);
    assert_eq!(
        measured.overhead.unwrap().processes,
        1 + 4,
        "no warmup for the short row"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_binary_that_cannot_start_is_one_failed_row_and_the_run_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::scratch("unstartable");
    let not_executable = dir.join("not_executable");
    std::fs::write(&not_executable, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&not_executable, std::fs::Permissions::from_mode(0o644)).unwrap();
    let bad_format = dir.join("bad_format");
    std::fs::write(&bad_format, [0x7f, b'E', b'L', b'F', 0, 0, 0, 0]).unwrap();
    std::fs::set_permissions(&bad_format, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut targets = vec![fixture("ok")];
    for (variant, exe) in [("noexec", not_executable), ("badformat", bad_format)] {
        let mut t = fixture("ok");
        t.key.variant = variant.into();
        t.exe = exe;
        targets.push(t);
    }
    let measured = execute(
        &targets,
        Duration::from_secs(10),
        &dir.join("scratch"),
        &Progress::quiet(),
    )
    .expect("a start failure does not abort the run");
    assert_eq!(measured.rows.len(), 3);
    assert!(find(&measured.rows, "ok").failure.is_none());
    let failure = |v: &str| find(&measured.rows, v).failure.clone().unwrap();
    let noexec = failure("noexec");
    assert!(noexec.reason.starts_with("could not start"), "{noexec:?}");
    // A process started with a pre-exec step goes through execvp, which hands a file the kernel
    // will not run (ENOEXEC) to /bin/sh, as POSIX says: then the shell is what fails.
    let badformat = failure("badformat");
    assert!(
        badformat.reason.starts_with("could not start")
            || badformat.reason == "exited with code 127, expected 0",
        "{badformat:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_stderr_tail_is_capped_in_bytes_and_kept_when_it_is_not_utf8() {
    let dir = common::scratch("stderr-tails");
    let measured = execute(
        &[fixture("loud"), fixture("binary")],
        Duration::from_secs(10),
        &dir,
        &Progress::quiet(),
    )
    .unwrap();
    let tail = |v: &str| {
        find(&measured.rows, v)
            .failure
            .as_ref()
            .map(|f| f.stderr_tail.clone())
            .unwrap()
    };
    // 4 MB on one line: the tail keeps its end, a few KB at most.
    let loud = tail("loud");
    assert!(loud.len() <= 8 * 1024, "{} bytes kept", loud.len());
    assert!(loud.contains("end of a long line"), "{loud}");
    assert!(loud.contains("fixture failure after a long stderr line"));
    assert!(!loud.contains("start of a long line"));
    // Bytes that are not UTF-8 are replaced, not the whole tail lost.
    let binary = tail("binary");
    assert!(
        binary.contains("bytes \u{FFFD}\u{FFFD} that are not UTF-8"),
        "{binary:?}"
    );
    assert!(binary.contains("fixture failure after binary stderr"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_result_that_does_not_match_what_ran_or_cannot_be_true_fails_its_row() {
    let dir = common::scratch("liars");
    let targets: Vec<Target> = ["ok", "othername", "forever", "wrongcount"]
        .into_iter()
        .map(fixture)
        .collect();
    let measured = execute(&targets, Duration::from_secs(10), &dir, &Progress::quiet()).unwrap();
    let rows = &measured.rows;
    assert!(find(rows, "ok").failure.is_none(), "{:?}", find(rows, "ok"));
    for (variant, why) in [
        (
            "othername",
            "wrote a result for exercise 'ex_6_1', expected 'fixture'",
        ),
        ("forever", "longer than the process ran"),
        ("wrongcount", "wrote a result for tasks 7, expected 1000"),
    ] {
        let row = find(rows, variant);
        let reason = &row.failure.as_ref().expect("a lie fails its row").reason;
        assert!(reason.contains(why), "{variant}: {reason}");
        assert!(row.samples_ns.is_empty(), "{variant} kept no samples");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_timeout_kills_what_the_process_started_too() {
    let dir = common::scratch("orphan");
    let mut orphan = fixture("orphan");
    (orphan.warmup, orphan.runs) = (0, 1);
    let measured = execute(&[orphan], Duration::from_secs(1), &dir, &Progress::quiet()).unwrap();
    let reason = &measured.rows[0].failure.as_ref().unwrap().reason;
    assert!(reason.starts_with("timed out"), "{reason}");
    let out = std::fs::read_to_string(dir.join("0.out")).unwrap();
    let sleeper: u32 = out.lines().next().unwrap().trim().parse().unwrap();
    let gone = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        !common::alive(sleeper)
    });
    if !gone {
        let _ = std::process::Command::new("kill")
            .arg(sleeper.to_string())
            .status();
    }
    assert!(gone, "the fixture's sleep {sleeper} outlived its timeout");
    std::fs::remove_dir_all(&dir).unwrap();
}
