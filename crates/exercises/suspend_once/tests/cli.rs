//! suspend_once as a user runs it: its lines, its flags, its exit codes.
//!
//! What every exercise does alike (the variants, default count and help line the catalogue
//! gives it, bad flags, a closed or full stdout) is checked for all of them in
//! `xtask/tests/catalog.rs`.

use timing::harness_checks::assert_repeat_records_each_run;
use timing::testing::{assert_usage_error, run, seconds_in};

const EXE: &str = env!("CARGO_BIN_EXE_suspend_once");

/// Its facts: the variants, default first, and what its script needs (crates/catalog).
const EXERCISE: &catalog::Exercise = catalog::exercise("suspend_once");

/// The three lines the Python script prints, the last as it says for `eager`.
fn assert_three_lines(ran: &timing::testing::Ran, eager: bool) {
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(ran.stdout.len(), 3, "{ran:?}");
    assert_eq!(ran.stdout[0], "Before running task group!");
    assert!(seconds_in(&ran.stdout[1], "It took ", " to run!") > 0.0);
    let with = if eager { "with" } else { "without" };
    assert_eq!(
        ran.stdout[2],
        format!("After running task group {with} eager task factory!")
    );
}

#[test]
fn prints_the_three_lines_of_the_original() {
    // No --variant: the group with eager start, as the script's default.
    assert_three_lines(&run(EXE, &["--tasks", "10000"]), true);
}

#[test]
fn the_default_count_is_the_originals_million() {
    // The floor, so that a million tasks take milliseconds even in a debug build.
    let dir = timing::testing::scratch_dir("suspend_once-default");
    let path = dir.join("r.json");
    let ran = run(
        EXE,
        &["--variant", "floor", "--json", path.to_str().unwrap()],
    );
    assert_three_lines(&ran, false);
    let result = timing::TimingResult::read(&path).unwrap();
    assert_eq!(result.tasks, Some(1_000_000));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_variant_on_both_runtimes_prints_the_same_lines() {
    for variant in EXERCISE.variant_names() {
        for flavor in ["current", "multi"] {
            let ran = run(
                EXE,
                &["--variant", variant, "--flavor", flavor, "--tasks", "10000"],
            );
            assert_three_lines(&ran, variant.ends_with("eager"));
        }
    }
}

#[test]
fn start_latency_and_block_on_runs_print_the_same_lines() {
    for variant in EXERCISE.variant_names() {
        let ran = run(
            EXE,
            &[
                "--variant",
                variant,
                "--tasks",
                "1000",
                "--measure",
                "start-latency",
                "--entry",
                "block_on",
            ],
        );
        assert_three_lines(&ran, variant.ends_with("eager"));
    }
}

#[test]
fn repeat_runs_the_body_again_and_json_records_each_run() {
    assert_repeat_records_each_run(EXE, EXERCISE, "tracker", 3);
}

#[test]
fn a_task_count_that_cannot_fit_in_memory_is_refused_with_the_largest_that_fits() {
    // 10^9 suspended tasks at ~540 bytes each: ~540 GB, more than this machine has.
    let ran = run(EXE, &["--tasks", "1000000000"]);
    assert_usage_error(
        &ran,
        "suspend_once: --tasks 1000000000",
        "largest count that fits",
    );
    // The floor holds nothing per task: not refused (a small count shows it still runs).
    assert_eq!(
        run(EXE, &["--variant", "floor", "--tasks", "100"]).code,
        Some(0)
    );
}

/// The Python original, `scripts/python/suspend_once.py`, run by the `python3` on `PATH` (the
/// machine image ships one, as xtask's tests require).
mod python {
    use std::path::PathBuf;

    use timing::testing::{Ran, assert_usage_error, run};

    fn python3() -> PathBuf {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join("python3"))
            .find(|p| p.is_file())
            .expect("python3 on PATH")
    }

    fn script(args: &[&str]) -> Ran {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../scripts/python/suspend_once.py"
        );
        let all: Vec<&str> = std::iter::once(script)
            .chain(args.iter().copied())
            .collect();
        run(python3(), &all)
    }

    /// `python3`'s (major, minor).
    fn version() -> (u32, u32) {
        let ran = run(
            python3(),
            &["-c", "import sys; print(*sys.version_info[:2])"],
        );
        let parts: Vec<u32> = ran.stdout[0]
            .split(' ')
            .map(|n| n.parse().expect("a version number"))
            .collect();
        (parts[0], parts[1])
    }

    /// The lines with the seconds figure taken out.
    fn without_figures(stdout: &[String]) -> Vec<String> {
        let mut lines = stdout.to_vec();
        lines[1] = "It took … to run!".to_owned();
        lines
    }

    #[test]
    fn each_python_variant_prints_what_its_rust_counterpart_prints() {
        let version = version();
        let scheduled = super::EXERCISE
            .script_variant("scheduled")
            .expect("the script's scheduled variant");
        for (variant, needs, recorded) in [
            ("eager", super::EXERCISE.python_needs, "asyncio"),
            ("scheduled", scheduled.python_needs, "asyncio_scheduled"),
        ] {
            if version < needs {
                let ran = script(&["--variant", variant, "--tasks", "10"]);
                let needs = format!("needs Python {}.{} or newer", needs.0, needs.1);
                assert_usage_error(&ran, "suspend_once: ", &needs);
                continue;
            }
            let dir = timing::testing::scratch_dir(&format!("suspend_once-py-{variant}"));
            let path = dir.join("r.json");
            let json = path.to_str().unwrap();
            let ran = script(&["--variant", variant, "--tasks", "1000", "--json", json]);
            assert_eq!(ran.code, Some(0), "{ran:?}");
            let rust = run(super::EXE, &["--variant", variant, "--tasks", "1000"]);
            assert_eq!(without_figures(&ran.stdout), without_figures(&rust.stdout));
            let result = timing::TimingResult::read(&path).unwrap();
            assert_eq!(
                (result.exercise.as_str(), result.variant.as_str()),
                ("suspend_once", recorded)
            );
            assert_eq!(result.tasks, Some(1000));
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn gather_runs_on_any_python_and_names_its_result_after_the_loop_and_itself() {
        let dir = timing::testing::scratch_dir("suspend_once-py-gather");
        let path = dir.join("r.json");
        let json = path.to_str().unwrap();
        let ran = script(&[
            "--variant=gather",
            "--tasks",
            "1000",
            "--gc",
            "off",
            "--json",
            json,
        ]);
        assert_eq!(ran.code, Some(0), "{ran:?}");
        assert_eq!(ran.stdout.len(), 3, "{ran:?}");
        assert_eq!(ran.stdout[0], "Before running gather!");
        assert!(super::seconds_in(&ran.stdout[1], "It took ", " to run!") > 0.0);
        assert_eq!(
            ran.stdout[2],
            "After running gather without eager task factory!"
        );
        let result = timing::TimingResult::read(&path).unwrap();
        assert_eq!(result.variant, "asyncio_gather_gc_off");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_flags_get_one_line_and_exit_code_2() {
        assert_usage_error(
            &script(&["--variant", "lazy"]),
            "suspend_once: --variant takes one of eager, scheduled, gather",
            "got 'lazy'",
        );
        assert_usage_error(
            &script(&["--variant", "gather", "--variant", "eager"]),
            "suspend_once: --variant is given twice",
            "give it once",
        );
        assert_usage_error(
            &script(&["--variant"]),
            "suspend_once: --variant needs a value",
            "",
        );
        assert_usage_error(
            &script(&["--frobnicate"]),
            "suspend_once: unknown flag '--frobnicate'",
            "--variant, --tasks",
        );
        // A flag's value is the harness's to check, whatever it looks like.
        assert_usage_error(
            &script(&["--variant", "gather", "--tasks", "-5"]),
            "suspend_once: --tasks needs a whole number",
            "got '-5'",
        );
    }

    #[test]
    fn help_lists_the_variants_and_every_flag() {
        let ran = script(&["--help"]);
        assert_eq!(ran.code, Some(0), "{ran:?}");
        let text = ran.stdout.join("\n");
        for expected in [
            "eager|scheduled|gather",
            "--tasks",
            "--repeat",
            "--json",
            "--loop",
            "--gc",
        ] {
            assert!(text.contains(expected), "{expected}: {text}");
        }
    }
}
