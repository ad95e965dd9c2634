//! The loop dimension of the Python rows: venvs made with stand-in interpreters and pips (no
//! network), rows that cannot run shown as "not available", known incompatibilities, the gc
//! row, and how the report reads them.
#![allow(clippy::unwrap_used)] // helpers of tests: a failed unwrap is a failed test

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xtask::loops::{self, Loop};
use xtask::measure::Runs;
use xtask::python::{self, Interpreter};
use xtask::report::doc;
use xtask::results::{Failure, Row, RowKey};
use xtask::{exercises, report, run};

fn write_script(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A stand-in CPython 3.12.1 whose `-m venv DIR` makes `DIR/bin/python`, a stand-in venv
/// python: `-c 'import NAME'` succeeds once `DIR/NAME.installed` exists; `-m pip install …
/// PIN` runs `pip` (shell code that sees the pin as `$pin` and the venv as `$venv`). Every call
/// is appended to `calls`.
fn fake_cpython(dir: &Path, pip: &str) -> (Interpreter, PathBuf) {
    let calls = dir.join("calls");
    let venv_python = format!(
        "#!/bin/sh\n\
         venv=$(dirname \"$(dirname \"$0\")\")\n\
         echo \"venv-python $*\" >> '{calls}'\n\
         if [ \"$1\" = -c ]; then\n\
           name=${{2#import }}\n\
           [ -e \"$venv/$name.installed\" ] && exit 0\n\
           echo \"ModuleNotFoundError: No module named '$name'\" >&2; exit 1\n\
         fi\n\
         for pin; do :; done\n\
         {pip}\n",
        calls = calls.display()
    );
    let template = dir.join("venv-python");
    write_script(&template, &venv_python);
    let python = dir.join("python3.12");
    write_script(
        &python,
        &format!(
            "#!/bin/sh\n\
             echo \"python $*\" >> '{calls}'\n\
             if [ \"$1\" = -m ] && [ \"$2\" = venv ]; then\n\
               mkdir -p \"$3/bin\" && cp '{template}' \"$3/bin/python\" && exit 0\n\
             fi\n\
             echo CPython 3 12 1\n",
            calls = calls.display(),
            template = template.display()
        ),
    );
    (python::probe(&python).unwrap(), calls)
}

fn requirements(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("requirements.txt");
    std::fs::write(&path, text).unwrap();
    path
}

const PINS: &str = "# pinned\nuvloop==0.23.0\nrloop==0.5.0\n";

fn count(calls: &Path, what: &str) -> usize {
    std::fs::read_to_string(calls)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(what))
        .count()
}

fn runs() -> Runs {
    Runs {
        warmup: 1,
        iterations: 10,
        python_iterations: 3,
        cap_override: None,
    }
}

#[test]
fn a_pip_that_fails_gives_rows_not_available_with_the_log_not_a_failed_run() {
    let dir = common::scratch("loops-pip-fails");
    let (py, _) = fake_cpython(
        &dir,
        "echo \"ERROR: Could not find a version that satisfies the requirement $pin\" >&2\n\
         echo \"ERROR: No matching distribution found for $pin\" >&2\nexit 1",
    );
    let reqs = requirements(&dir, PINS);
    let venvs = loops::prepare_all(
        std::slice::from_ref(&py),
        &dir.join("venvs"),
        &reqs,
        &Loop::ALL,
    );
    let venv = &venvs[0].1;
    let why = venv.offers(Loop::Uvloop).unwrap_err();
    assert!(
        why.contains("pip could not install uvloop==0.23.0 for cpython-3.12.1")
            && why.contains("ERROR: No matching distribution found for uvloop==0.23.0"),
        "{why}"
    );
    let log = dir.join("venvs/cpython-3.12.1.uvloop.log");
    assert!(why.contains(&log.display().to_string()), "{why}");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("No matching distribution"),
        "the log keeps pip's output"
    );
    assert!(
        venv.offers(Loop::Rloop)
            .unwrap_err()
            .contains("rloop==0.5.0")
    );
    assert!(!why.contains("no package index could be reached"), "{why}");

    let selection = exercises::select(&["ex_6_2".into(), "ex_2_2".into()]).unwrap();
    let (targets, skipped) = xtask::measure::loop_targets(
        &selection,
        &venvs,
        &Loop::ALL,
        None,
        runs(),
        Path::new("/scripts"),
    );
    // The gc row runs on the interpreter itself; the loops are not available; ex_2_2, a sleep,
    // gets no loop rows.
    let variants: Vec<_> = targets.iter().map(|t| t.key.variant.as_str()).collect();
    assert_eq!(variants, [loops::GC_OFF]);
    assert_eq!(targets[0].exe, py.path);
    assert!(targets[0].args.ends_with(&["--gc".into(), "off".into()]));
    let shown: Vec<_> = skipped
        .iter()
        .map(|r| (r.exercise.as_str(), r.variant.as_str()))
        .collect();
    assert_eq!(shown, [("ex_6_2", "uvloop"), ("ex_6_2", "rloop")]);
    assert!(skipped.iter().all(|r| {
        r.failure.is_none()
            && r.skipped
                .as_deref()
                .unwrap()
                .starts_with("not available: pip could not install")
    }));

    // In the report: the row says why, and the run did not fail.
    let mut results = common::sample_run();
    results.rows.retain(|r| r.failure.is_none());
    results.rows.extend(skipped);
    let md = doc::markdown(&report::blocks(&results, None, false).unwrap());
    assert!(
        md.contains("| CPython 3.12.1 + uvloop | 0 | — | — | — | — | — | — | — | not available: pip could not install uvloop==0.23.0"),
        "{md}"
    );
    assert!(!md.contains("## Failures"), "{md}");
    assert_eq!(run::finish(&results, &dir), ExitCode::SUCCESS);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_pip_without_network_says_so() {
    let dir = common::scratch("loops-offline");
    let (py, _) = fake_cpython(
        &dir,
        "echo \"WARNING: Retrying after connection broken by 'NewConnectionError: Failed to establish a new connection: [Errno 111] Connection refused'\" >&2\n\
         echo \"ERROR: No matching distribution found for $pin\" >&2\nexit 1",
    );
    let venv = loops::prepare(
        &py,
        &dir.join("venvs"),
        &requirements(&dir, PINS),
        &Loop::ALL,
    );
    let why = venv.offers(Loop::Uvloop).unwrap_err();
    assert!(
        why.contains("for cpython-3.12.1 (no package index could be reached): ERROR: No matching distribution found"),
        "{why}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_venv_is_made_once_reused_and_made_again_when_the_requirements_change() {
    let dir = common::scratch("loops-reuse");
    let (py, calls) = fake_cpython(
        &dir,
        "name=${pin%%==*}\ntouch \"$venv/$name.installed\"\necho \"Successfully installed $pin\"",
    );
    let reqs = requirements(&dir, PINS);
    let venvs = dir.join("venvs");
    let first = loops::prepare(&py, &venvs, &reqs, &Loop::ALL);
    assert_eq!(first.offers(Loop::Uvloop), Ok(()));
    assert_eq!(first.offers(Loop::Rloop), Ok(()));
    assert_eq!(first.python, venvs.join("cpython-3.12.1/bin/python"));
    let second = loops::prepare(&py, &venvs, &reqs, &Loop::ALL);
    assert_eq!(second, first);
    assert_eq!(count(&calls, "-m venv"), 1, "made once");
    assert_eq!(count(&calls, "pip install"), 2, "each loop installed once");
    // Asked for one loop only: the other is neither installed nor offered.
    let one = loops::prepare(&py, &venvs, &reqs, &[Loop::Asyncio, Loop::Rloop]);
    assert!(one.offers(Loop::Uvloop).is_err());
    assert_eq!(one.offers(Loop::Rloop), Ok(()));

    let reqs = requirements(&dir, "uvloop==0.23.1\nrloop==0.5.0\n");
    let third = loops::prepare(&py, &venvs, &reqs, &Loop::ALL);
    assert_eq!(third.offers(Loop::Uvloop), Ok(()));
    assert_eq!(
        count(&calls, "-m venv"),
        2,
        "made again for new requirements"
    );
    assert_eq!(count(&calls, "pip install --"), 4);
    assert!(
        std::fs::read_to_string(&calls)
            .unwrap()
            .contains("--only-binary=:all: --retries 1 --timeout 15 uvloop==0.23.1"),
        "wheels only, no prompts, the pinned line"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_the_runner_did_not_make_is_left_alone_and_a_failed_venv_is_not_available() {
    let dir = common::scratch("loops-theirs");
    let (py, calls) = fake_cpython(&dir, "exit 0");
    let reqs = requirements(&dir, PINS);
    let theirs = dir.join("venvs/cpython-3.12.1");
    std::fs::create_dir_all(&theirs).unwrap();
    std::fs::write(theirs.join("mine"), "kept").unwrap();
    let venv = loops::prepare(&py, &dir.join("venvs"), &reqs, &Loop::ALL);
    assert!(
        venv.offers(Loop::Uvloop)
            .unwrap_err()
            .contains("the runner did not make it"),
        "{venv:?}"
    );
    assert_eq!(
        std::fs::read_to_string(theirs.join("mine")).unwrap(),
        "kept"
    );
    assert_eq!(count(&calls, "-m venv"), 0);

    // An interpreter whose venv module fails (Debian's without python3-venv, say).
    let broken = dir.join("broken/python3.12");
    write_script(
        &broken,
        "#!/bin/sh\nif [ \"$1\" = -m ]; then echo 'The virtual environment was not created successfully because ensurepip is not available.' >&2; exit 1; fi\necho CPython 3 12 1\n",
    );
    let broken = python::probe(&broken).unwrap();
    let venv = loops::prepare(&broken, &dir.join("other"), &reqs, &Loop::ALL);
    let why = venv.offers(Loop::Rloop).unwrap_err();
    assert!(
        why.contains("-m venv` failed") && why.contains("ensurepip is not available"),
        "{why}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_venv_cut_off_halfway_is_made_again_not_refused() {
    let dir = common::scratch("loops-halfway");
    let reqs = requirements(&dir, PINS);
    // `-m venv` that makes part of the venv, then fails: a missing ensurepip, or a runner
    // killed while it ran.
    let halfway = dir.join("halfway/python3.12");
    write_script(
        &halfway,
        "#!/bin/sh\nif [ \"$1\" = -m ]; then mkdir -p \"$3/bin\"; echo 'ensurepip is not available' >&2; exit 1; fi\necho CPython 3 12 1\n",
    );
    let halfway = python::probe(&halfway).unwrap();
    let venvs = dir.join("venvs");
    let venv = loops::prepare(&halfway, &venvs, &reqs, &[Loop::Uvloop]);
    let why = venv.offers(Loop::Uvloop).unwrap_err();
    assert!(why.contains("ensurepip is not available"), "{why}");
    assert!(venvs.join("cpython-3.12.1/bin").is_dir(), "left halfway");

    // The same interpreter, mended: the half-made folder is the runner's, made again.
    let (mended, calls) = fake_cpython(&dir, "touch \"$venv/uvloop.installed\"");
    let venv = loops::prepare(&mended, &venvs, &reqs, &[Loop::Uvloop]);
    assert_eq!(venv.offers(Loop::Uvloop), Ok(()), "{venv:?}");
    assert_eq!(count(&calls, "-m venv"), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn failed_python_row(exercise: &str, variant: &str, version: &str, stderr: &str) -> Row {
    let key = RowKey {
        exercise: exercise.into(),
        variant: variant.into(),
        implementation: format!("cpython-{version}"),
        flavor: None,
        tasks: Some(1_000_000),
        entry: None,
        measure: None,
    };
    let failure = Failure {
        reason: "exited with code 1, expected 0".into(),
        stderr_tail: stderr.into(),
        known: None,
    };
    Row::new(key, Vec::new(), Some(failure))
}

const EAGER_START: &str = "Traceback (most recent call last):\n  File \"ex_6_1.py\", line 27, in <module>\nTypeError: create_eager_task_factory.<locals>.factory() got an unexpected keyword argument 'eager_start'\n<sys>:0: RuntimeWarning: coroutine 'light_coro' was never awaited";

#[test]
fn a_known_incompatibility_fails_its_row_with_the_reason_and_not_the_run() {
    let mut rows = vec![
        failed_python_row("ex_6_1", "uvloop", "3.13.0", EAGER_START),
        // The same error where it is not known: another Python, another loop.
        failed_python_row("ex_6_1", "uvloop", "3.12.1", EAGER_START),
        failed_python_row("ex_6_1", "rloop", "3.13.0", EAGER_START),
        // Another error on the known pair.
        failed_python_row("ex_6_1", "uvloop", "3.13.5", "MemoryError: out of memory"),
    ];
    xtask::known::classify(&mut rows);
    let known = rows[0].failure.as_ref().unwrap().known.as_ref().unwrap();
    assert!(
        known.error.starts_with("TypeError: ") && known.error.ends_with("'eager_start'"),
        "{known:?}"
    );
    assert!(known.reason.contains("3.14"), "{known:?}");
    assert!(rows[1..].iter().all(Row::failed_unexpectedly));

    let dir = common::scratch("loops-known");
    let mut results = common::sample_run();
    results.rows.retain(|r| r.failure.is_none());
    results.rows.push(rows[0].clone());
    assert_eq!(run::finish(&results, &dir), ExitCode::SUCCESS);
    let md = doc::markdown(&report::blocks(&results, None, false).unwrap());
    assert!(md.contains("## Known incompatibilities"), "{md}");
    assert!(
        md.contains("| CPython 3.13.0 + uvloop | 0 | — | — | — | — | — | — | — | fails: a known incompatibility (see below) |"),
        "{md}"
    );
    assert!(
        !md.contains("## Failures") && !md.contains("failed: see Failures"),
        "{md}"
    );
    // An unexpected failure still fails the run.
    results.rows.push(rows[3].clone());
    assert_eq!(run::finish(&results, &dir), ExitCode::FAILURE);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn python_row(exercise: &str, variant: &str, implementation: &str, samples: &[u64]) -> Row {
    let mut row = common::python_row(exercise, "3.12.1", samples);
    row.variant = variant.into();
    row.implementation = implementation.into();
    row
}

#[test]
fn the_report_names_loops_gives_the_gc_share_and_keeps_claims_on_the_standard_loop() {
    let mut results = common::sample_run();
    let s = 1_000_000_000;
    // A uvloop row first, far faster: the claims must not read it.
    results.rows.extend([
        python_row("ex_6_2", "uvloop", "cpython-3.12.1", &[s, s, s]),
        python_row("ex_6_1", "uvloop", "cpython-3.12.1", &[s, s, s]),
        python_row(
            "ex_6_2",
            "asyncio",
            "cpython-3.12.1",
            &[8 * s, 8 * s, 8 * s],
        ),
        python_row(
            "ex_6_2",
            "asyncio_gc_off",
            "cpython-3.12.1",
            &[2 * s, 2 * s, 2 * s],
        ),
        python_row("ex_6_1", "asyncio", "cpython-3.12.1", &[s, s, s]),
        python_row("ex_6_2", "asyncio", "pypy-7.3.11", &[4 * s, 4 * s, 4 * s]),
    ]);
    let md = doc::markdown(&report::blocks(&results, None, false).unwrap());
    let labels: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| CPython") || l.starts_with("| PyPy"))
        .map(|l| l.split(" | ").next().unwrap())
        .collect();
    assert!(
        labels.starts_with(&[
            "| CPython 3.12.1",
            "| CPython 3.12.1 + uvloop",
            "| CPython 3.12.1",
            "| CPython 3.12.1, gc off",
            "| CPython 3.12.1 + uvloop",
            "| PyPy 7.3.11",
        ]),
        "{labels:?}"
    );
    // 1 − 2 s ÷ 8 s.
    assert!(
        md.contains("CPython 3.12.1: 75% (2.00 s with `gc.disable()` against 8.00 s, medians)"),
        "{md}"
    );
    let eager = md
        .lines()
        // Named as they ran: the standard loop's rows, not `+ uvloop`.
        .find(|l| l.contains("`ex_6_1 CPython 3.12.1` against `ex_6_2 CPython 3.12.1`:"))
        .unwrap();
    assert!(
        eager.contains(": 8.00× faster ["),
        "the standard loop's rows: {eager}"
    );
    // The Rust-against-Python table has a column per interpreter on the standard loop.
    assert!(
        md.contains("| Rust row | vs CPython 3.12.1 | vs PyPy 7.3.11 |"),
        "{md}"
    );
}
