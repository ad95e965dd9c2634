//! `cargo xtask` as a user types it: bad input gets one line and exit code 2, and nothing the
//! user had is overwritten.

mod common;

use timing::testing::{Ran, assert_usage_error, run};

const XTASK: &str = env!("CARGO_BIN_EXE_xtask");

fn xtask(args: &[&str]) -> Ran {
    run(XTASK, args)
}

/// Refused as bad usage: exit code 2, nothing on stdout, one line naming `needle`.
fn assert_usage(args: &[&str], needle: &str) {
    assert_usage_error(&xtask(args), "cargo xtask: ", needle);
}

/// `run ex_6_4 --python none`, then `extra`, into `--out out`: the cheapest whole run.
fn ex_6_4_into<'a>(out: &'a std::path::Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", "ex_6_4", "--python", "none"];
    args.extend_from_slice(extra);
    args.extend(["--out", out.to_str().expect("a UTF-8 path")]);
    args
}

#[test]
fn unknown_exercises_and_variants_name_the_valid_ones() {
    assert_usage(
        &["run", "ex_9_9"],
        "unknown exercise 'ex_9_9'; valid exercises: ex_6_1, suspend_once, ex_6_2, ex_6_3, ex_6_4, queue_pc, ex_2_2, ex_2_7, ex_4_4",
    );
    assert_usage(
        &["run", "ex_6_2:lazy"],
        "valid variants: join_all, spawn_gather",
    );
}

#[test]
fn a_flag_error_points_to_the_help_that_lists_the_flag() {
    assert_usage(
        &["run", "ex_6_3", "--tasks", "0"],
        "see `cargo xtask run --help`",
    );
    assert_usage(
        &["compare"],
        "not provided: <BASELINE>; see `cargo xtask compare --help`",
    );
    assert_usage(&["frobnicate"], "see `cargo xtask --help`");
}

#[test]
fn a_python_path_that_names_nothing_is_told_apart_from_one_that_is_no_interpreter() {
    assert_usage(
        &["run", "ex_6_3", "--python", "/no/such/python3"],
        "--python '/no/such/python3' names no file",
    );
    assert_usage(
        &["run", "ex_6_3", "--python", "/bin/true"],
        "--python '/bin/true' is not auto, none or a CPython or PyPy interpreter",
    );
}

#[test]
fn the_time_budget_is_refused_beside_a_fixed_count() {
    for fixed in [
        &["--quick"][..],
        &["--thorough"],
        &["--iterations", "5"],
        &["--python-iterations", "2"],
    ] {
        let mut args = vec!["run", "ex_6_3", "--budget", "100"];
        args.extend_from_slice(fixed);
        assert_usage(&args, "cannot be used with");
    }
}

#[test]
fn control_characters_in_what_the_user_typed_are_shown_not_sent_to_the_terminal() {
    for (args, shown) in [
        (&["run", "ex_6_3:fl\u{1b}[2Joor"][..], "'fl\\u{1b}[2Joor'"),
        (&["run", "ex_6_3\nfoo"][..], "'ex_6_3\\nfoo'"),
        (&["run-all", "--save-baseline", "nl\nx"][..], "'nl\\nx'"),
        (&["run-all", "--tasks", "1\n2"][..], "1\\n2"),
    ] {
        let ran = xtask(args);
        assert!(!ran.stderr.contains('\u{1b}'), "{:?}", ran.stderr);
        // assert_usage_error checks one line, exit code 2 and an empty stdout.
        assert_usage_error(&ran, "cargo xtask: ", shown);
    }
}

#[test]
fn a_stdout_that_cannot_be_written_is_one_line_and_exit_1_not_a_panic() {
    let dir = common::scratch("cli-dev-full");
    let results = common::sample_run();
    let run_dir = dir.join("runs").join(&results.run_id);
    std::fs::create_dir_all(&run_dir).unwrap();
    results.write(&run_dir.join("results.json")).unwrap();
    let out = dir.to_str().unwrap();
    for args in [
        &["list"][..],
        &["report", run_dir.to_str().unwrap(), "--out", out],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let done = std::process::Command::new(XTASK)
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains("cannot write to stdout"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn what_a_run_could_not_write_is_refused_before_anything_is_built() {
    let dir = common::scratch("cli-late-refusals");
    // An --out the file system cannot hold: a name of 300 bytes, a path past 4,096.
    let long_name = dir.join("b".repeat(300));
    assert_usage(
        &ex_6_4_into(&long_name, &[]),
        "over the 255 a file name may have",
    );
    let long_path = dir.join(vec!["c".repeat(200); 25].join("/"));
    assert_usage(&ex_6_4_into(&long_path, &[]), "bytes long");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing made");
    // A baseline name too long for a file name.
    let long = "b".repeat(300);
    assert_usage(
        &["run-all", "--save-baseline", &long],
        "use 1 to 100 letters",
    );
    // The sweep's --out is checked as run's is.
    let file = dir.join("a-file");
    std::fs::write(&file, "mine").unwrap();
    assert_usage(
        &[
            "sweep",
            "--quick",
            "--python",
            "none",
            "--out",
            file.to_str().unwrap(),
        ],
        "is not a folder",
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    // A writable --out whose runs/ takes no new files (immutable: root writes anywhere else).
    let out = dir.join("out");
    let runs = out.join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    let immutable = std::process::Command::new("chattr")
        .arg("+i")
        .arg(&runs)
        .status()
        .is_ok_and(|s| s.success());
    if immutable {
        let ran = xtask(&ex_6_4_into(&out, &[]));
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&runs)
            .status();
        assert_usage_error(&ran, "cargo xtask: ", "does not take new files");
        assert!(ran.stderr.contains("runs"), "{}", ran.stderr);
    } else {
        eprintln!("skipped the read-only runs/ case: chattr +i is not available here");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_that_cannot_finish_writing_leaves_no_half_made_folder() {
    let dir = common::scratch("cli-disk-full");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    // A disk of 16 KiB: results.json and report.md fit, report.html does not.
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16k", "tmpfs"])
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: this user cannot mount a small tmpfs to fill");
        return;
    }
    let ran = xtask(&ex_6_4_into(
        &out,
        &["--iterations", "1", "--warmup", "0", "--flavor", "current"],
    ));
    let left: Vec<_> = std::fs::read_dir(out.join("runs"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    let latest = out.join("latest").symlink_metadata().is_ok();
    let _ = std::process::Command::new("umount").arg(&out).status();
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stderr.contains("No space left"), "{}", ran.stderr);
    assert!(left.is_empty(), "a half-made run is left: {left:?}");
    assert!(!latest, "latest points at a run that is not whole");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn piped_output_shows_the_build_and_counts_each_process_with_the_time_left() {
    let dir = common::scratch("cli-piped");
    let ran = xtask(&ex_6_4_into(
        &dir,
        &["--iterations", "2", "--warmup", "0", "--flavor", "current"],
    ));
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    // cargo's own lines pass through when stderr is not a terminal.
    assert!(
        ran.stderr.contains("Finished `release` profile"),
        "{}",
        ran.stderr
    );
    let steps: Vec<&str> = ran.stderr.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(steps.len(), 2, "{}", ran.stderr);
    assert!(
        steps[0].starts_with("[1/2] ex_6_4:shutdown (current): "),
        "{steps:?}"
    );
    assert!(
        steps[1].starts_with("[2/2] ex_6_4:shutdown (current): "),
        "{steps:?}"
    );
    assert!(steps[0].contains(" left"), "{steps:?}");
    // The answers are the run's last lines before the report's path.
    let out = ran.stdout.join("\n");
    assert!(out.contains("ex_6_4: "), "{out}");
    assert!(out.contains("report: "), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_flags_and_numbers_get_one_line() {
    assert_usage(&["run-all", "--iterations", "0"], "--iterations");
    assert_usage(
        &["run-all", "--flavor", "all"],
        "possible values: current, multi, both",
    );
    assert_usage(&["run-all", "--tasks", "lots"], "--tasks");
    // A negative count is a bad count, in the binaries' words, not an unknown flag.
    assert_usage(
        &["run-all", "--tasks", "-1"],
        "invalid value '-1' for '--tasks <N>': a whole number from 1 to",
    );
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
fn bad_python_loops_get_one_line_naming_the_valid_ones() {
    for (value, needle) in [
        (
            "trio",
            "unknown loop 'trio'; valid loops: asyncio, uvloop, rloop",
        ),
        ("uvloop,,rloop", "an empty loop name"),
        ("uvloop,uvloop", "loop 'uvloop' is given twice"),
        ("", "an empty loop name"),
    ] {
        assert_usage(&["run-all", "--python-loops", value], needle);
        assert_usage(
            &["run", "ex_6_2", "--python-loops", value],
            "--python-loops",
        );
    }
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
    let ran = xtask(&[
        "report",
        "20261126T100000Z",
        "--out",
        out,
        "--baseline",
        "main",
    ]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(ran.stdout[0].ends_with("report.md"), "{ran:?}");
    let md = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(md.contains("## Compared with baseline `main`"));
    assert!(run.join("report.html").is_file());
    let ran = xtask(&["compare", "main", run.to_str().unwrap(), "--out", out]);
    assert_eq!(ran.code, Some(0));
    assert!(
        ran.stdout.iter().any(|l| l.contains("0 regression(s).")),
        "{ran:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn list_shows_every_exercise_and_variant() {
    let ran = xtask(&["list"]);
    assert_eq!(ran.code, Some(0));
    let stdout = ran.stdout.join("\n");
    for name in [
        "ex_6_1",
        "eager, default",
        "spawn, reference",
        "ex_6_4",
        "shutdown",
        "queue_pc",
        "queue, default, reference",
        "mpsc",
    ] {
        assert!(stdout.contains(name), "{name}: {stdout}");
    }
}

#[test]
fn sweep_checks_its_task_counts() {
    assert_usage(&["sweep", "--tasks", "1000,0"], "--tasks");
    assert_usage(&["sweep", "--tasks", "1000,many"], "--tasks");
    // Parsed as the binaries parse `--tasks`: `1_000` is taken, and a count out of range is
    // refused in their words.
    let limit = format!(
        "invalid value '0' for '--tasks <N,N,…>': a whole number from 1 to {}",
        timing::cli::MAX_TASKS
    );
    assert_usage(&["sweep", "--tasks", "1_000,0"], &limit);
}

/// `xtask` with `CARGO` set to `false`: a check that comes too late fails the build at once
/// instead of building every exercise in release.
fn xtask_without_building(args: &[&str]) -> Ran {
    let out = std::process::Command::new(XTASK)
        .args(args)
        .env("CARGO", "false")
        .output()
        .expect("running xtask");
    Ran::from(out)
}

#[test]
fn an_out_that_is_not_a_folder_is_refused_before_anything_is_built() {
    let dir = common::scratch("cli-out-file");
    let file = dir.join("a-file");
    std::fs::write(&file, "kept").unwrap();
    let under_file = file.join("sub");
    let as_folder = dir.join("out");
    std::fs::create_dir_all(&as_folder).unwrap();
    std::fs::write(as_folder.join("baselines"), "kept too").unwrap();
    let unwritable = std::path::PathBuf::from("/proc/self/xtask-out");
    for (out, extra, needle) in [
        (&file, None, "is not a folder"),
        (&under_file, None, "is not a folder"),
        (&as_folder, Some("main"), "baselines"),
        (&unwritable, None, "does not take new files"),
    ] {
        let mut args = vec![
            "run",
            "ex_6_4",
            "--python",
            "none",
            "--out",
            out.to_str().unwrap(),
        ];
        if let Some(name) = extra {
            args.extend(["--save-baseline", name]);
        }
        let ran = xtask_without_building(&args);
        assert_usage_error(&ran, "cargo xtask: ", needle);
        assert!(ran.stderr.contains(out.to_str().unwrap()), "{ran:?}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "kept");
    assert!(!as_folder.join("runs").exists(), "nothing written");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stand-in cargo in `dir` that prints what `cargo build --message-format=json…` prints for
/// each `-p NAME`, and builds nothing: each binary is reported in a folder that is not there.
fn stand_in_cargo(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let cargo = dir.join("cargo");
    std::fs::write(
        &cargo,
        format!(
            "#!/bin/sh
for a; do
  [ \"$p\" = -p ] && echo '{{\"reason\":\"compiler-artifact\",\"target\":{{\"name\":\"'$a'\"}},\"executable\":\"{}/'$a'\"}}'
  p=$a
done
",
            dir.join("no-binaries").display()
        ),
    )
    .expect("writing the stand-in cargo");
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755))
        .expect("making it executable");
    cargo
}

/// `xtask run ex_6_4` with out folder `out`, under a stand-in "CPython 3.13" that answers the
/// probe, then runs `body` (which appends process ids to `pids`); returns once `count` ids are
/// written, with them. The Rust rows fail to start: the stand-in cargo builds nothing and
/// reports each binary in a folder that is not there.
fn start_run(
    dir: &std::path::Path,
    out: &std::path::Path,
    body: &str,
    count: usize,
) -> (std::process::Child, Vec<u32>) {
    use std::os::unix::fs::PermissionsExt;
    let pids = dir.join("pids");
    let python = dir.join("python3.13");
    std::fs::write(
        &python,
        format!(
            "#!/bin/sh\n[ \"$1\" = -c ] && {{ echo CPython 3 13 1; exit 0; }}\n{}\n",
            body.replace("PIDS", &format!("'{}'", pids.display()))
        ),
    )
    .expect("writing the stand-in CPython");
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755))
        .expect("making it executable");
    let cargo = stand_in_cargo(dir);
    let mut xtask = std::process::Command::new(XTASK)
        .args(["run", "ex_6_4", "--flavor", "current", "--warmup", "0"])
        // The standard loop only: no venv is made (the stand-in would run `body` for it).
        .args(["--python-loops", "asyncio"])
        .args(["--python".as_ref(), python.as_os_str()])
        .args(["--out".as_ref(), out.as_os_str()])
        .env("CARGO", &cargo)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting xtask");
    let found = wait_for_pids(&pids, count);
    if found.len() != count {
        let _ = xtask.kill();
        let _ = xtask.wait();
        panic!("the stand-in CPython never started");
    }
    (xtask, found)
}

/// The process ids in `pids`, one a line, once there are `count` of them, or those there are
/// after 20 s.
fn wait_for_pids(pids: &std::path::Path, count: usize) -> Vec<u32> {
    use std::time::{Duration, Instant};
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(pids).unwrap_or_default();
        let found: Vec<u32> = text.lines().filter_map(|l| l.parse().ok()).collect();
        if found.len() >= count || started.elapsed() > Duration::from_secs(20) {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` to the runner and waits for it to end (killing it after 30 s): how it
/// ended, and what it wrote on stderr.
fn stop(
    xtask: &mut std::process::Child,
    signal: rustix::process::Signal,
) -> (std::process::ExitStatus, String) {
    use std::time::{Duration, Instant};
    let started = Instant::now();
    rustix::process::kill_process(rustix::process::Pid::from_child(xtask), signal)
        .expect("signalling the runner");
    let status = loop {
        if let Some(status) = xtask.try_wait().expect("waiting for the runner") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = xtask.kill();
            panic!("xtask did not stop on {signal:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut err) = xtask.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
    }
    (status, stderr)
}

/// An out folder `dir/out` with one earlier run, `runs/old`, that `latest` points at.
fn out_with_a_previous_run(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("out");
    std::fs::create_dir_all(out.join("runs").join("old")).expect("making runs/old");
    std::os::unix::fs::symlink("runs/old", out.join("latest")).expect("linking latest");
    out
}

/// What a stopped run leaves in `out`: the earlier run alone, and `latest` still at it.
fn assert_only_the_previous_run(out: &std::path::Path) {
    let runs: Vec<_> = std::fs::read_dir(out.join("runs"))
        .expect("reading runs")
        .collect();
    assert_eq!(runs.len(), 1, "the half-made run folder is removed");
    assert_eq!(
        std::fs::read_link(out.join("latest")).expect("latest is a link"),
        std::path::Path::new("runs/old")
    );
}

/// Whether any of `pids` still runs 2 s from now; kills those that do.
fn lingering(pids: &[u32]) -> bool {
    let lingered = (0..100).all(|_| {
        std::thread::sleep(std::time::Duration::from_millis(20));
        pids.iter().any(|&p| common::alive(p))
    });
    for &p in pids {
        if common::alive(p) {
            let _ = std::process::Command::new("kill")
                .arg(p.to_string())
                .status();
        }
    }
    lingered
}

#[test]
fn sigterm_stops_the_run_kills_its_processes_and_keeps_the_previous_latest() {
    let dir = common::scratch("cli-sigterm");
    let out = out_with_a_previous_run(&dir);
    let (mut xtask, running) = start_run(
        &dir,
        &out,
        "echo $$ >> PIDS\nsleep 3600 &\necho $! >> PIDS\nwait",
        2,
    );
    let (status, stderr) = stop(&mut xtask, rustix::process::Signal::TERM);
    let lingered = lingering(&running);
    assert_eq!(status.code(), Some(143), "{status:?}: {stderr}");
    assert!(
        !lingered,
        "the measured process or its sleep outlived the runner"
    );
    assert!(
        stderr.lines().last().unwrap_or("").contains("SIGTERM"),
        "{stderr}"
    );
    assert_only_the_previous_run(&out);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_measured_process_dies_with_a_runner_killed_by_sigkill() {
    let dir = common::scratch("cli-sigkill");
    let (mut xtask, running) = start_run(
        &dir,
        &dir.join("out"),
        "echo $$ >> PIDS\nexec sleep 3600",
        1,
    );
    xtask.kill().unwrap(); // SIGKILL: nothing of the runner's own runs after it
    xtask.wait().unwrap();
    assert!(
        !lingering(&running),
        "the measured process outlived its runner"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stand-in CPython 3.12 in `dir` whose `-m venv DIR` makes a venv python that, asked to
/// `-m pip install`, appends its process id to `dir/pids` and sleeps for an hour.
fn cpython_with_a_hanging_pip(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let write = |path: &std::path::Path, body: String| {
        std::fs::write(path, body).expect("writing a stand-in");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .expect("making it executable");
    };
    let venv_python = dir.join("venv-python");
    write(
        &venv_python,
        format!(
            "#!/bin/sh
[ \"$1 $2\" = '-m pip' ] && {{ echo $$ >> '{}'; exec sleep 3600; }}
exit 1
",
            dir.join("pids").display()
        ),
    );
    let python = dir.join("python3.12");
    write(
        &python,
        format!(
            "#!/bin/sh
if [ \"$1 $2\" = '-m venv' ]; then mkdir -p \"$3/bin\" && cp '{}' \"$3/bin/python\"; exit; fi
echo CPython 3 12 1
",
            venv_python.display()
        ),
    );
    python
}

#[test]
fn pip_dies_with_a_runner_killed_by_sigkill() {
    let dir = common::scratch("cli-pip-sigkill");
    let python = cpython_with_a_hanging_pip(&dir);
    let mut xtask = std::process::Command::new(XTASK)
        .args(["run", "ex_6_1", "--python-loops", "uvloop"])
        .args(["--python".as_ref(), python.as_os_str()])
        .args(["--out".as_ref(), dir.join("out").as_os_str()])
        // Builds nothing: the venv is made before anything is measured.
        .env("CARGO", stand_in_cargo(&dir))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pip = wait_for_pids(&dir.join("pids"), 1);
    xtask.kill().unwrap(); // SIGKILL: nothing of the runner's own runs after it
    xtask.wait().unwrap();
    assert_eq!(pip.len(), 1, "pip was started once");
    assert!(!lingering(&pip), "pip outlived its runner");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Shell code that starts a child of its own, appends its own id and the child's to `pids`,
/// and waits: a process of the runner's that hangs with something it started.
fn hang_with_a_child(pids: &std::path::Path) -> String {
    format!(
        "sleep 3600 & echo $! >> '{p}'; echo $$ >> '{p}'; wait",
        p = pids.display()
    )
}

#[test]
fn each_phase_before_measuring_stops_on_a_signal_with_what_its_process_started() {
    use std::os::unix::fs::PermissionsExt;
    let write = |path: &std::path::Path, body: &str| {
        std::fs::write(path, body).expect("writing a stand-in");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .expect("making it executable");
    };
    for (phase, signal, code) in [
        ("probe", rustix::process::Signal::INT, 130),
        ("build", rustix::process::Signal::TERM, 143),
        ("venv", rustix::process::Signal::HUP, 129),
        ("pip", rustix::process::Signal::QUIT, 131),
    ] {
        let dir = common::scratch(&format!("cli-stop-{phase}"));
        let pids = dir.join("pids");
        let hang = hang_with_a_child(&pids);
        let cargo = match phase {
            "build" => {
                // cargo runs in the runner's process group, the terminal's, and is stopped
                // alone (its compilers end on their own): a stand-in with no child.
                let cargo = dir.join("cargo");
                write(
                    &cargo,
                    &format!(
                        "#!/bin/sh\ncut -d' ' -f5 /proc/$$/stat > '{}'\necho $$ >> '{}'\nexec sleep 3600\n",
                        dir.join("pgrp").display(),
                        pids.display()
                    ),
                );
                cargo
            }
            _ => stand_in_cargo(&dir),
        };
        let venv_python = dir.join("venv-python");
        let pip = if phase == "pip" {
            hang.as_str()
        } else {
            "exit 1"
        };
        write(
            &venv_python,
            &format!("#!/bin/sh\n[ \"$1 $2\" = '-m pip' ] && {{ {pip}; }}\nexit 1\n"),
        );
        let python = dir.join("python3.12");
        let on_venv = if phase == "venv" {
            hang.clone()
        } else {
            format!(
                "mkdir -p \"$3/bin\" && cp '{}' \"$3/bin/python\"; exit",
                venv_python.display()
            )
        };
        let on_probe = if phase == "probe" {
            hang.clone()
        } else {
            "echo CPython 3 12 1".into()
        };
        write(
            &python,
            &format!("#!/bin/sh\nif [ \"$1 $2\" = '-m venv' ]; then {on_venv}; fi\n{on_probe}\n"),
        );
        let out = dir.join("out");
        let mut xtask = std::process::Command::new(XTASK)
            .args(["run", "ex_6_1", "--python-loops", "uvloop"])
            .args(["--python".as_ref(), python.as_os_str()])
            .args(["--out".as_ref(), out.as_os_str()])
            .env("CARGO", &cargo)
            .env("XTASK_PROBE_TIMEOUT_MS", "60000")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = if phase == "build" { 1 } else { 2 };
        let hung = wait_for_pids(&pids, started);
        let (status, stderr) = stop(&mut xtask, signal);
        assert_eq!(
            hung.len(),
            started,
            "{phase}: the stand-in (and its child) started: {stderr}"
        );
        assert!(
            !lingering(&hung),
            "{phase}: a process or its child outlived the stop"
        );
        assert_eq!(status.code(), Some(code), "{phase}: {status:?}: {stderr}");
        assert!(
            stderr
                .lines()
                .last()
                .unwrap_or("")
                .contains("stopped by SIG"),
            "{phase}: {stderr}"
        );
        assert!(!out.join("runs").exists(), "{phase}: no run folder is made");
        if phase == "build" {
            // In the terminal's group, the runner's: a terminal's Ctrl-C, Ctrl-Z and hang-up
            // reach cargo, and `stty tostop` lets it write its progress.
            let pgrp = std::fs::read_to_string(dir.join("pgrp")).unwrap();
            assert_eq!(
                pgrp.trim(),
                rustix::process::getpgrp().as_raw_nonzero().to_string(),
                "cargo runs in the runner's process group"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_stop_with_stderr_closed_still_ends_cleanly() {
    // `cargo xtask run … 2>&1 | tee log` and Ctrl-C: the same Ctrl-C ends `tee`, and the
    // runner's "stopped" line goes to a closed pipe. It must not panic.
    let dir = common::scratch("cli-closed-stderr");
    let out = out_with_a_previous_run(&dir);
    let (mut xtask, running) = start_run(&dir, &out, "echo $$ >> PIDS\nexec sleep 3600", 1);
    drop(xtask.stderr.take()); // the reader is gone
    let (status, _) = stop(&mut xtask, rustix::process::Signal::INT);
    assert!(
        !lingering(&running),
        "the measured process outlived the stop"
    );
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_only_the_previous_run(&out);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn list_into_a_closed_pipe_ends_quietly() {
    // `cargo xtask list | head -c0`: no panic, nothing on stderr.
    let ran = timing::testing::run_into_closed_pipe(XTASK, &["list"]);
    timing::testing::assert_quiet_on_broken_pipe(&ran);
}

#[test]
fn a_task_count_that_cannot_fit_in_memory_is_refused_before_anything_is_built() {
    // 10^9 spawned tasks need about 500 GB: refused for run and sweep alike, with
    // the largest count that fits, before a build (CARGO=false would fail it) or a probe.
    for args in [
        &[
            "run",
            "ex_6_1:spawn",
            "--tasks",
            "1000000000",
            "--python",
            "none",
        ][..],
        &["sweep", "--tasks", "1000,1000000000", "--python", "none"][..],
    ] {
        let ran = xtask_without_building(args);
        assert_eq!(ran.code, Some(2), "{args:?}: {ran:?}");
        assert_eq!(ran.stderr.lines().count(), 1, "{ran:?}");
        assert!(
            ran.stderr.contains("the largest count that fits is"),
            "{ran:?}"
        );
    }
    // A count that fits goes on to the build, which CARGO=false then fails.
    let ran = xtask_without_building(&[
        "run",
        "ex_6_1:spawn",
        "--tasks",
        "1000",
        "--python",
        "none",
        "--out",
        common::scratch("cli-mem-ok").to_str().unwrap(),
    ]);
    assert_ne!(ran.code, Some(2), "{ran:?}");
}
