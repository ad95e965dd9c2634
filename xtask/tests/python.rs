//! The CPython side: finding interpreters, and the chapter's Python exercises themselves.
#![allow(clippy::unwrap_used)] // helpers of tests: a failed unwrap is a failed test

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use timing::testing::Ran;
use xtask::python::{self, Interpreter};
use xtask::report;
use xtask::report::doc;

/// A stand-in interpreter that answers the version probe with `CPython <version>`.
fn fake_python(path: &Path, implementation: &str, version: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let words = version.replace('.', " ");
    std::fs::write(path, format!("#!/bin/sh\necho {implementation} {words}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn versions(found: &[Interpreter]) -> Vec<String> {
    found.iter().map(Interpreter::implementation).collect()
}

#[test]
fn discovery_reads_pyenv_and_path_keeps_cpython_3_10_and_newer_once_each() {
    let dir = common::scratch("discover");
    let pyenv = dir.join("pyenv");
    fake_python(
        &pyenv.join("versions/3.12.1/bin/python3"),
        "CPython",
        "3.12.1",
    );
    fake_python(
        &pyenv.join("versions/3.9.18/bin/python3"),
        "CPython",
        "3.9.18",
    );
    fake_python(
        &pyenv.join("versions/pypy3.10/bin/python3"),
        "PyPy",
        "3.10.14",
    );
    let bin = dir.join("bin");
    fake_python(&bin.join("python3"), "CPython", "3.11.7");
    fake_python(&bin.join("python3.12"), "CPython", "3.12.1"); // the same version again
    fake_python(&bin.join("python3.13"), "CPython", "3.13.0");
    fake_python(&bin.join("python3.13-config"), "CPython", "3.99.0"); // not an interpreter name
    let path = std::env::join_paths([bin.clone(), dir.join("no-such-dir")]).unwrap();

    let found = python::discover(Some(&path), Some(&pyenv), python::PROBE_TIMEOUT).found;
    assert_eq!(
        versions(&found),
        ["cpython-3.11.7", "cpython-3.12.1", "cpython-3.13.0"]
    );
    // The pyenv copy of 3.12.1 came first, so it is the one kept.
    assert!(found[1].path.starts_with(&pyenv), "{:?}", found[1]);
    assert_eq!(
        python::discover(None, None, python::PROBE_TIMEOUT),
        python::Discovery::default()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stand-in that answers the probe in full: `CPython 3 14 0 t -`, `PyPy 3 9 16 - 7.3.11`.
fn fake_probe_answer(path: &Path, answer: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\necho {answer}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn discovery_finds_python3_14_its_free_threaded_twin_and_pypy() {
    let dir = common::scratch("discover-314");
    let bin = dir.join("bin");
    fake_probe_answer(&bin.join("python3.14"), "CPython 3 14 0 - -");
    fake_probe_answer(&bin.join("python3.14t"), "CPython 3 14 0 t -");
    fake_probe_answer(&bin.join("pypy3"), "PyPy 3 9 16 - 7.3.11");
    fake_probe_answer(&bin.join("pypy3.7"), "PyPy 3 7 13 - 7.3.9"); // older than the harness runs
    let path = std::env::join_paths([bin.clone()]).unwrap();
    let found = python::discover(Some(&path), None, python::PROBE_TIMEOUT).found;
    assert_eq!(
        versions(&found),
        ["cpython-3.14.0", "cpython-3.14.0t", "pypy-7.3.11"]
    );
    assert!(
        found[1]
            .to_string()
            .starts_with("CPython 3.14.0t, free-threaded ("),
        "{}",
        found[1]
    );
    // PyPy given by path is taken too, and runs what needs nothing newer than its Python.
    let choice = python::resolve(&[bin.join("pypy3").display().to_string()]).unwrap();
    assert_eq!(versions(&choice.interpreters), ["pypy-7.3.11"]);
    assert!(
        choice.note.contains("PyPy 7.3.11, Python 3.9.16"),
        "{}",
        choice.note
    );
    let sel = xtask::exercises::select(&["ex_6_2".into(), "ex_6_1".into()]).unwrap();
    let runs = xtask::measure::Runs {
        warmup: 0,
        iterations: 1,
        python_iterations: 1,
        cap_override: None,
    };
    let (targets, skipped) = xtask::measure::python_targets(
        &sel,
        &choice.interpreters,
        None,
        runs,
        Path::new("/scripts"),
    );
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].key.exercise, "ex_6_2");
    assert_eq!(targets[0].key.implementation, "pypy-7.3.11");
    assert_eq!(skipped[0].skipped.as_deref(), Some("needs 3.12+"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_explicit_interpreter_is_checked() {
    let dir = common::scratch("explicit");
    let old = dir.join("python3.9");
    fake_python(&old, "CPython", "3.9.18");
    let err = python::resolve(&[old.display().to_string()]).unwrap_err();
    assert!(
        err.0.contains("this project runs CPython 3.10 or newer"),
        "{err}"
    );
    let good = dir.join("python3.12");
    fake_python(&good, "CPython", "3.12.1");
    let choice = python::resolve(&[good.display().to_string()]).unwrap();
    assert_eq!(versions(&choice.interpreters), ["cpython-3.12.1"]);
    assert!(
        choice.note.starts_with("CPython 3.12.1 ("),
        "{}",
        choice.note
    );
    let none = python::resolve(&["none".into()]).unwrap();
    assert!(none.interpreters.is_empty());
    assert!(python::resolve(&["none".into(), "auto".into()]).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stand-in for CPython 2.7.18: Python 3's `print(*args)` is a syntax error there, as the
/// real one says (exit 1, nothing on stdout); a probe Python 2 can run gets its answer.
fn fake_python2(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        path,
        "#!/bin/sh\n\
         case \"$2\" in\n\
         *'print('*'*'*) printf '  File \"<string>\", line 1\\nSyntaxError: invalid syntax\\n' >&2; exit 1;;\n\
         esac\n\
         echo CPython 2 7 18\n",
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_python_2_given_as_python_is_named_with_its_version() {
    let dir = common::scratch("python2");
    let old = dir.join("python");
    fake_python2(&old);
    let err = python::resolve(&[old.display().to_string()]).unwrap_err();
    assert!(
        err.0.contains("is CPython 2.7.18")
            && err.0.contains("this project runs CPython 3.10 or newer"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stand-in interpreter that never answers: it starts a child that sleeps, writes the
/// child's pid to `<path>.child`, and waits for it.
fn hanging_python(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        path,
        "#!/bin/sh\nsleep 1000 &\necho $! > \"$0.child\"\nwait\n",
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Whether process `pid` still runs a second after it was killed (SIGKILL takes effect when the
/// process is next scheduled; a zombie no longer runs).
fn running(pid: &str) -> bool {
    let runs = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'))
        })
    };
    let start = std::time::Instant::now();
    while runs() {
        if start.elapsed() > std::time::Duration::from_secs(1) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    false
}

/// How long a test lets an interpreter probe take.
const PROBE_TIMEOUT_MS: &str = "300";

/// Longer than any probe may take here: a test still waiting then has found a hang.
const HANG: std::time::Duration = std::time::Duration::from_secs(30);

#[test]
fn an_explicit_interpreter_that_hangs_is_refused_quickly_with_its_name() {
    let dir = common::scratch("hang-explicit");
    let hang = dir.join("hang.sh");
    hanging_python(&hang);
    let start = std::time::Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["run", "ex_6_3", "--python", hang.to_str().unwrap()])
        .arg("--out")
        .arg(dir.join("out"))
        .env(python::PROBE_TIMEOUT_ENV, PROBE_TIMEOUT_MS)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > HANG {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("`xtask run --python {}` hung", hang.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let ran = Ran::from(out);
    timing::testing::assert_usage_error(
        &ran,
        "cargo xtask: ",
        &format!("--python '{}' ", hang.display()),
    );
    assert!(ran.stderr.contains("300 ms"), "{}", ran.stderr);
    // The probe is killed with whatever it started.
    let sleeper = std::fs::read_to_string(dir.join("hang.sh.child")).unwrap();
    assert!(
        !running(sleeper.trim()),
        "the probe's child {sleeper} still runs"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stand-in interpreter that answers the probe as `answer` and leaves a sleeper behind in a
/// session of its own, with every standard stream closed, once the sleeper has written its pid
/// to `<path>.child`.
fn python_leaving_an_orphan(path: &Path, answer: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        path,
        format!(
            "#!/bin/sh\nsetsid sh -c 'echo $$ > \"$0.child\"; exec sleep 1000' \"$0\" </dev/null >/dev/null 2>&1 &\nwhile [ ! -s \"$0.child\" ]; do sleep 0.01; done\necho {answer}\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn what_a_probe_leaves_in_a_session_of_its_own_does_not_outlive_xtask() {
    let dir = common::scratch("probe-orphan");
    let py = dir.join("python3.9");
    // An interpreter too old to run: refused after its probe has answered.
    python_leaving_an_orphan(&py, "CPython 3 9 0");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["run", "ex_6_3", "--python", py.to_str().unwrap()])
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let ran = Ran::from(out);
    timing::testing::assert_usage_error(&ran, "cargo xtask: ", "CPython 3.9.0");
    // The sleeper wrote its pid before the probe answered.
    let child = dir.join("python3.9.child");
    let sleeper = std::fs::read_to_string(&child).unwrap();
    let alive = running(sleeper.trim());
    if alive {
        // Leave nothing behind, whatever the outcome.
        let _ = std::process::Command::new("kill")
            .args(["-9", sleeper.trim()])
            .status();
    }
    assert!(
        !alive,
        "the probe's orphan {} outlived xtask",
        sleeper.trim()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The kernel's count of processes and threads a cgroup may hold (cgroup v1's pids controller,
/// as these machines mount it), or `None` where there is none this user can make.
fn pids_cgroup(name: &str, max: u32) -> Option<PathBuf> {
    let dir = Path::new("/sys/fs/cgroup/pids").join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    std::fs::write(dir.join("pids.max"), max.to_string()).ok()?;
    Some(dir)
}

#[test]
fn thousands_of_interpreters_on_path_are_probed_a_few_at_a_time() {
    let Some(cgroup) = pids_cgroup("xtask-probes", 64) else {
        // Only a machine without cgroup v1's pids controller, or a user who may not use it.
        eprintln!("skipped: no pids cgroup to hold xtask to 64 threads and processes");
        return;
    };
    let dir = common::scratch("many-pythons");
    let bin = dir.join("bin");
    for minor in 0..2_000 {
        fake_python(&bin.join(format!("python3.{minor}")), "CPython", "3.9.0");
    }
    // Under a limit of 64 threads and processes: one thread and one reader per candidate
    // would be 4,000. `auto` then an interpreter that is not there: refused after discovery.
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg("echo $$ > \"$0/cgroup.procs\" && exec \"$@\"")
        .arg(&cgroup)
        .arg(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "run",
            "ex_6_3",
            "--python",
            "auto",
            "--python",
            "/no/such/python",
        ])
        .arg("--out")
        .arg(dir.join("out"))
        .env("PATH", &bin)
        .env("PYENV_ROOT", dir.join("no-pyenv"))
        .output()
        .unwrap();
    let ran = Ran::from(out);
    let _ = std::fs::remove_dir(&cgroup);
    timing::testing::assert_usage_error(&ran, "cargo xtask: ", "--python '/no/such/python'");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn discovery_skips_an_interpreter_that_hangs_with_a_warning_and_finds_the_others() {
    let dir = common::scratch("hang-auto");
    let pyenv = dir.join("pyenv");
    fake_python(
        &pyenv.join("versions/3.12.1/bin/python3"),
        "CPython",
        "3.12.1",
    );
    let bin = dir.join("bin");
    hanging_python(&bin.join("python3.11"));
    fake_python(&bin.join("python3.13"), "CPython", "3.13.0");
    let path = std::env::join_paths([bin.clone()]).unwrap();

    let (tx, rx) = std::sync::mpsc::channel();
    let (path2, pyenv2) = (path.clone(), pyenv.clone());
    std::thread::spawn(move || {
        let timeout = std::time::Duration::from_millis(PROBE_TIMEOUT_MS.parse().unwrap());
        let _ = tx.send(python::discover(Some(&path2), Some(&pyenv2), timeout));
    });
    let hang = bin.join("python3.11");
    let discovery = rx
        .recv_timeout(HANG)
        .unwrap_or_else(|_| panic!("discovery hung on {}", hang.display()));
    assert_eq!(
        versions(&discovery.found),
        ["cpython-3.12.1", "cpython-3.13.0"]
    );
    assert_eq!(
        discovery.warnings,
        [format!(
            "skipped '{}': it gave no answer to the version probe within 300 ms, so it is not a usable CPython",
            hang.display()
        )]
    );
    let sleeper = std::fs::read_to_string(bin.join("python3.11.child")).unwrap();
    assert!(
        !running(sleeper.trim()),
        "the probe's child {sleeper} still runs"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The `python3` this machine has: required, as the machine image ships it.
fn python3() -> Interpreter {
    let path = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("python3"))
        .find(|p| p.is_file())
        .expect("python3 on PATH");
    python::probe(&path).expect("python3 is CPython")
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts/python")
        .join(format!("{name}.py"))
}

fn run_script(py: &Interpreter, name: &str, args: &[&str]) -> Ran {
    let script = script(name);
    let all: Vec<&str> = std::iter::once(script.to_str().unwrap())
        .chain(args.iter().copied())
        .collect();
    timing::testing::run(&py.path, &all)
}

/// Runs `name` with `--json` and checks the result has `repeat` samples in the shared schema.
fn check_json(py: &Interpreter, name: &str, args: &[&str], repeat: usize, code: i32) -> Ran {
    let dir = common::scratch(&format!("py-{name}"));
    let json = dir.join("r.json");
    let mut all: Vec<&str> = args.to_vec();
    let repeat_text = repeat.to_string();
    all.extend(["--repeat", &repeat_text, "--json", json.to_str().unwrap()]);
    let ran = run_script(py, name, &all);
    assert_eq!(ran.code, Some(code), "{name}: {}", ran.stderr);
    // The same schema the Rust side writes: the timing crate reads it.
    let result = timing::TimingResult::read(&json).unwrap();
    assert_eq!(result.exercise, name);
    assert_eq!(result.implementation, py.implementation());
    assert_eq!(result.flavor, None);
    assert_eq!(result.samples_ns.len(), repeat);
    assert_eq!(result.summary.count, repeat as u64);
    std::fs::remove_dir_all(&dir).unwrap();
    ran
}

#[test]
fn the_harness_writes_its_json_through_no_link_planted_beside_it() {
    let py = python3();
    let dir = common::scratch("harness-links");
    let victim = dir.join("victim");
    std::fs::write(&victim, "mine").unwrap();
    let json = dir.join("r.json");
    // The old temporary name was `.r.json.<pid>.tmp`: a link at each pid the next processes
    // will likely get.
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    for pid in last + 1..last + 400 {
        let _ = std::os::unix::fs::symlink(&victim, dir.join(format!(".r.json.{pid}.tmp")));
    }
    let ran = run_script(
        &py,
        "ex_6_3",
        &["--tasks", "10", "--json", json.to_str().unwrap()],
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine");
    assert!(std::fs::symlink_metadata(&json).unwrap().is_file());
    assert!(
        std::fs::read_to_string(&json)
            .unwrap()
            .contains("\"exercise\": \"ex_6_3\"")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ex_6_2_and_ex_6_3_print_the_chapters_lines_and_write_the_shared_json() {
    let py = python3();
    let ran = check_json(&py, "ex_6_2", &["--tasks", "2000"], 2, 0);
    assert_eq!(ran.stdout.len(), 8, "two runs of four lines");
    assert_eq!(ran.stdout[0], "Before running gather!");
    let took = timing::testing::seconds_in(&ran.stdout[1], "It took ", " to run!");
    assert!(took > 0.0);
    assert_eq!(
        ran.stdout[2],
        "After running gather without eager task factory!"
    );
    assert_eq!(
        ran.stdout[3],
        "tasks: <_GatheringFuture finished result=[None, None, None, None, None, None, ...]>"
    );

    let ran = check_json(&py, "ex_6_3", &["--tasks", "1000"], 1, 0);
    assert_eq!(ran.stdout.len(), 1);
    assert!(
        ran.stdout[0].starts_with("It took ") && ran.stdout[0].ends_with('s'),
        "{:?}",
        ran.stdout
    );
}

#[test]
fn queue_pc_prints_its_line_and_writes_the_shared_json() {
    let py = python3();
    let ran = check_json(&py, "queue_pc", &["--tasks", "1000"], 2, 0);
    assert_eq!(ran.stdout.len(), 2, "two runs of one line");
    for line in &ran.stdout {
        let took = timing::testing::seconds_in(
            line,
            "Passed 1000 items through Queue(maxsize=100) in ",
            "s",
        );
        assert!(took > 0.0, "{line}");
    }
}

#[test]
fn exercises_that_need_a_newer_python_say_so_or_run() {
    let py = python3();
    for (name, needs, lines) in [("ex_6_1", (3, 12), 3), ("ex_4_4", (3, 11), 4)] {
        if py.at_least(needs) {
            let ran = check_json(
                &py,
                name,
                if name == "ex_6_1" {
                    &["--tasks", "1000"]
                } else {
                    &[]
                },
                1,
                0,
            );
            assert_eq!(ran.stdout.len(), lines, "{name}: {:?}", ran.stdout);
        } else {
            let ran = run_script(&py, name, &[]);
            assert_eq!(ran.code, Some(2));
            assert!(
                ran.stderr
                    .contains(&format!("needs Python {}.{} or newer", needs.0, needs.1)),
                "{}",
                ran.stderr
            );
        }
    }
    if py.at_least((3, 11)) {
        let ran = run_script(&py, "ex_4_4", &[]);
        assert_eq!(ran.stdout[2], "barrier passed");
        assert!(
            ran.stdout[0].ends_with("[filling, waiters:2/3]>"),
            "{:?}",
            ran.stdout
        );
    }
}

#[test]
fn ex_6_4_fails_like_the_original_and_still_keeps_its_timing() {
    let py = python3();
    if py.at_least((3, 13)) {
        let ran = check_json(&py, "ex_6_4", &[], 2, 1);
        assert!(
            ran.stderr.trim_end().ends_with("QueueShutDown"),
            "{}",
            ran.stderr
        );
    } else {
        let ran = run_script(&py, "ex_6_4", &[]);
        assert_eq!(ran.code, Some(2));
        assert!(
            ran.stderr.contains("needs Python 3.13 or newer"),
            "{}",
            ran.stderr
        );
    }
}

#[test]
fn python_bad_flags_get_one_line_and_exit_code_2() {
    let py = python3();
    for (args, needle) in [
        (
            &["--tasks", "0"][..],
            "ex_6_3: --tasks needs a whole number from 1 to 1000000000, got '0'",
        ),
        (
            &["--bogus"][..],
            "ex_6_3: unknown flag '--bogus'; valid flags: --tasks, --repeat, --json",
        ),
        (
            &["--json", "/no/such/dir/r.json"][..],
            "is not a file path in an existing folder",
        ),
    ] {
        let ran = run_script(&py, "ex_6_3", args);
        assert_eq!(ran.code, Some(2), "{args:?}");
        assert!(ran.stdout.is_empty());
        assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
        assert!(ran.stderr.contains(needle), "{}", ran.stderr);
    }
}

#[test]
fn the_harness_runs_the_loop_and_gc_it_is_asked_for_and_refuses_others() {
    let py = python3();
    for (args, needle) in [
        (
            &["--loop", "trio"][..],
            "ex_6_3: --loop takes one of asyncio, uvloop, rloop, got 'trio'",
        ),
        (
            &["--gc", "maybe"][..],
            "ex_6_3: --gc takes one of on, off, got 'maybe'",
        ),
        (
            &["--loop", "asyncio", "--loop", "uvloop"][..],
            "--loop is given twice",
        ),
    ] {
        let ran = run_script(&py, "ex_6_3", args);
        assert_eq!(ran.code, Some(2), "{args:?}");
        assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
        assert!(ran.stderr.contains(needle), "{}", ran.stderr);
    }
    let dir = common::scratch("py-gc-off");
    let json = dir.join("r.json");
    let ran = run_script(
        &py,
        "ex_6_2",
        &[
            "--tasks",
            "1000",
            "--gc",
            "off",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(
        ran.stdout[0], "Before running gather!",
        "the chapter's lines, unchanged"
    );
    assert_eq!(
        timing::TimingResult::read(&json).unwrap().variant,
        "asyncio_gc_off"
    );
    // A "uvloop" whose loop is asyncio's own: the row would be named after a loop it did not
    // run on, so the harness refuses it.
    let fake = dir.join("fake");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::write(
        fake.join("uvloop.py"),
        "import asyncio\nnew_event_loop = asyncio.new_event_loop\nEventLoopPolicy = asyncio.DefaultEventLoopPolicy\n",
    )
    .unwrap();
    let out = std::process::Command::new(&py.path)
        .arg(script("ex_6_3"))
        .args(["--tasks", "10", "--loop", "uvloop"])
        .env("PYTHONPATH", &fake)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--loop uvloop: the exercise did not run on uvloop's loop"),
        "{stderr}"
    );
    // A loop this Python does not have is one line, not a traceback.
    let has_uvloop = timing::testing::run(&py.path, &["-c", "import uvloop"]).code == Some(0);
    if !has_uvloop {
        let ran = run_script(&py, "ex_6_3", &["--loop", "uvloop"]);
        assert_eq!(ran.code, Some(2));
        assert!(
            ran.stderr.contains("uvloop is not installed"),
            "{}",
            ran.stderr
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_report_puts_cpython_rows_beside_the_rust_ones() {
    let mut run = common::sample_run();
    run.rows.push(common::python_row(
        "ex_6_1",
        "3.12.1",
        &[940_000_000, 950_000_000, 945_000_000],
    ));
    run.rows.push(common::python_row(
        "ex_6_2",
        "3.12.1",
        &[8_000_000_000, 8_100_000_000, 7_950_000_000],
    ));
    run.rows.push(common::python_row(
        "ex_6_3",
        "3.10.13",
        &[230_000_000, 235_000_000, 228_000_000],
    ));
    run.rows.push(common::python_row(
        "ex_6_3",
        "3.12.1",
        &[36_000_000, 37_000_000, 35_500_000],
    ));
    let mut skipped = common::python_row("ex_6_4", "3.12.1", &[]);
    skipped.skipped = Some("needs 3.13+".into());
    run.rows.push(skipped);
    let md = doc::markdown(&report::blocks(&run, None, false).unwrap());
    assert!(md.contains("| CPython 3.12.1 | 3 | 940 ms |"), "{md}");
    assert!(
        md.contains("| CPython 3.12.1 | 0 | — | — | — | — | — | — | — | needs 3.13+ |"),
        "{md}"
    );
    assert!(md.contains("| Rust row | vs CPython 3.12.1 |"), "{md}");
    let claim = |start: &str, who: &str| {
        md.lines()
            .find(|l| l.starts_with(start) && l.contains(who))
            .unwrap_or_else(|| panic!("no claim {start} {who} in\n{md}"))
            .to_owned()
    };
    let eager = claim(
        "| An eager TaskGroup",
        "`ex_6_1 CPython 3.12.1` against `ex_6_2 CPython 3.12.1`",
    );
    assert!(eager.ends_with("| yes |"), "{eager}");
    let current_task = claim(
        "| `current_task`",
        "`ex_6_3 CPython 3.12.1` against `ex_6_3 CPython 3.10.13`",
    );
    assert!(current_task.ends_with("| yes |"), "{current_task}");
    assert!(
        !md.contains("CPython 3.13` against"),
        "no 3.13 claim without a 3.13 run"
    );
    // Rows that did not run are not failures.
    assert!(
        !md.contains(
            "## Failures\n\n| row | reason | stderr (last lines) |\n|---|---|---|\n| ex_6_4"
        ),
        "{md}"
    );
}

/// Runs a script as `__main__` with `asyncio.sleep` made instant, so its lines can be checked
/// without the real seconds of sleeping.
fn run_without_sleeping(py: &Interpreter, name: &str) -> Ran {
    let script = script(name);
    let code = format!(
        "import asyncio, runpy, sys\n\
         real_sleep = asyncio.sleep\n\
         async def instant(delay, *args, **kwargs):\n    await real_sleep(0)\n\
         asyncio.sleep = instant\n\
         sys.path.insert(0, {dir:?})\n\
         sys.argv = [{path:?}]\n\
         runpy.run_path({path:?}, run_name='__main__')\n",
        dir = script.parent().unwrap().display().to_string(),
        path = script.display().to_string(),
    );
    timing::testing::run(&py.path, &["-c", &code])
}

#[test]
fn ex_2_2_and_ex_2_7_print_the_chapters_lines() {
    let py = python3();
    if !py.at_least((3, 11)) {
        let ran = run_script(&py, "ex_2_7", &[]);
        assert!(
            ran.stderr.contains("needs Python 3.11 or newer"),
            "{}",
            ran.stderr
        );
        return;
    }
    let ran = run_without_sleeping(&py, "ex_2_2");
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(ran.stdout, catalog::exercise("ex_2_2").prints);
    let ran = run_without_sleeping(&py, "ex_2_7");
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(ran.stdout, catalog::exercise("ex_2_7").prints);
}
