//! A `results.json` is input like any other: a corrupt or hostile one is refused with one line
//! and exit code 2, never drawn, divided by or trusted. And what `--out` holds is the user's:
//! a real folder at `latest` is not the runner's to delete.

#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use timing::cli::Flavor;
use timing::testing::{Ran, assert_usage_error};
use xtask::results::{Layout, RunResults};

const XTASK: &str = env!("CARGO_BIN_EXE_xtask");

/// The sample run as JSON, changed by `edit`, written as `<scratch>/results.json`.
fn hostile(name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let dir = common::scratch(name);
    let mut json = serde_json::to_value(common::sample_run()).unwrap();
    edit(&mut json);
    let path = dir.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    path
}

/// `RunResults::read` refuses the file, naming it and `needle`.
fn assert_refused(path: &Path, needle: &str) {
    let err = RunResults::read(path).expect_err("a hostile results.json is refused");
    let line = err.to_string();
    assert!(!line.contains('\n'), "one line: {line}");
    assert!(line.contains(&path.display().to_string()), "{line}");
    assert!(line.contains(needle), "{line}");
}

fn first_row(json: &mut Value) -> &mut Value {
    &mut json["rows"][0]
}

/// Runs `cargo xtask args` and gives up (failing) after 60 s instead of hanging the test run.
fn xtask_within_a_minute(args: &[&str]) -> Ran {
    let mut child = Command::new(XTASK)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cargo xtask {args:?} still ran after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    Ran::from(out)
}

#[test]
fn header_words_of_many_lines_or_megabytes_and_rows_given_twice_are_refused() {
    // A line break in a word the header prints would start a heading of its own in report.md.
    let path = hostile("hostile-cpu-lines", |json| {
        json["environment"]["cpu_model"] = serde_json::json!("<b>x</b>\n# INJECTED | x |");
    });
    assert_refused(&path, "environment.cpu_model holds a control character");
    let path = hostile("hostile-found-lines", |json| {
        json["flags"]["python_found"] = serde_json::json!("CPython\n\n## fake");
    });
    assert_refused(&path, "flags.python_found holds a control character");
    let path = hostile("hostile-cpu-huge", |json| {
        json["environment"]["cpu_model"] = serde_json::json!("x".repeat(50_000));
    });
    assert_refused(&path, "environment.cpu_model is 50000 bytes");
    let path = hostile("hostile-twice", |json| {
        let first = json["rows"][0].clone();
        json["rows"].as_array_mut().unwrap().push(first);
    });
    assert_refused(&path, "twice");
}

#[test]
fn more_samples_than_the_runs_flags_allow_and_files_no_run_writes_are_refused() {
    // 2.5 million samples in a row of a run of 4 iterations: refused, not drawn.
    let path = hostile("hostile-samples", |json| {
        let many: Vec<u64> = vec![1_000_000; 2_500_000];
        first_row(json)["samples_ns"] = serde_json::json!(many);
    });
    assert_refused(&path, "holds 2500000 samples; its flags allow at most 4");
    // A file larger than any run writes is refused before it is read.
    let dir = common::scratch("hostile-huge");
    let huge = dir.join("results.json");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(xtask::results::MAX_RESULTS_BYTES + 1).unwrap();
    assert_refused(&huge, "over the");
    // An adaptive run may hold up to its most runs a row.
    let mut adaptive = common::sample_run();
    adaptive.flags.budget_secs = Some(480);
    let key = adaptive.rows[0].key();
    adaptive.rows[0] = xtask::results::Row::new(key, vec![1_000_000; 30], None);
    let path = dir.join("adaptive.json");
    adaptive.write(&path).unwrap();
    assert!(
        RunResults::read(&path).is_ok(),
        "{:?}",
        RunResults::read(&path)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sound_results_file_reads_back_as_written() {
    let path = hostile("hostile-sound", |_| {});
    assert_eq!(RunResults::read(&path).unwrap(), common::sample_run());
}

#[test]
fn cpu_time_reads_back_as_written_and_an_older_file_without_it_reads_as_unknown() {
    let mut run = common::sample_run();
    run.rows[0].process_ns = Some(40_000_000);
    run.rows[0].process_cpu_ns = Some(30_000_000);
    let dir = common::scratch("hostile-cpu");
    let path = dir.join("results.json");
    run.write(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"process_cpu_ns\": 30000000"), "{text}");
    assert!(
        text.contains("\"process_cpu_ns\": null"),
        "unknown is written as null"
    );
    assert_eq!(RunResults::read(&path).unwrap(), run);
    // A results.json written before rows had the field: every row's CPU time is unknown.
    let path = hostile("hostile-cpu-old", |json| {
        for row in json["rows"].as_array_mut().unwrap() {
            row.as_object_mut()
                .unwrap()
                .remove("process_cpu_ns")
                .unwrap();
        }
    });
    let old = RunResults::read(&path).unwrap();
    assert!(old.rows.iter().all(|row| row.process_cpu_ns.is_none()));
    assert_eq!(old, common::sample_run());
}

#[test]
fn cpu_time_beyond_every_core_until_the_timeout_is_refused() {
    // 300 s on each of 2 cores is the most; a busy multi-thread process may pass its wall time.
    let path = hostile("hostile-cpu-fits", |json| {
        first_row(json)["process_cpu_ns"] = 599_000_000_000u64.into();
    });
    assert!(RunResults::read(&path).is_ok());
    let path = hostile("hostile-cpu-long", |json| {
        first_row(json)["process_cpu_ns"] = 601_000_000_000u64.into();
    });
    assert_refused(&path, "process_cpu_ns");
    let path = hostile("hostile-cpu-negative", |json| {
        first_row(json)["process_cpu_ns"] = (-1).into();
    });
    assert_refused(&path, "expected u64");
}

#[test]
fn cpu_samples_read_back_as_written_and_must_pair_with_the_samples() {
    let mut run = common::sample_run();
    let n = run.rows[0].samples_ns.len();
    run.rows[0].cpu_samples_ns = vec![5_000; n];
    let dir = common::scratch("hostile-cpu-samples");
    let path = dir.join("results.json");
    run.write(&path).unwrap();
    assert_eq!(RunResults::read(&path).unwrap(), run);
    // Rows without them (Python's, older files) leave the field out and read as none.
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches("\"cpu_samples_ns\"").count(), 1, "{text}");
    // One CPU time too many, or one beyond every core until the timeout, is refused.
    let path = hostile("hostile-cpu-samples-count", |json| {
        first_row(json)["cpu_samples_ns"] = serde_json::json!(vec![5_000u64; n + 1]);
    });
    assert_refused(&path, "cpu_samples_ns");
    let path = hostile("hostile-cpu-samples-long", |json| {
        let mut cpu = vec![5_000u64; n];
        cpu[0] = 601_000_000_000;
        first_row(json)["cpu_samples_ns"] = serde_json::json!(cpu);
    });
    assert_refused(&path, "cpu_samples_ns");
}

#[test]
fn report_of_a_huge_per_task_cost_exits_2_instead_of_hanging() {
    let path = hostile("hostile-huge", |json| {
        first_row(json)["summary"]["per_item_ns"] = 1e308.into();
    });
    assert_refused(&path, "per_item_ns");
    let dir = path.parent().unwrap().to_str().unwrap();
    assert_usage_error(
        &xtask_within_a_minute(&["report", dir]),
        "cargo xtask: ",
        "per_item_ns",
    );
    assert!(!path.with_file_name("report.md").exists());
}

#[test]
fn bucket_counts_of_u64_max_are_refused() {
    let path = hostile("hostile-buckets", |json| {
        first_row(json)["histogram"]["buckets"] = serde_json::json!([[1000, u64::MAX], [2000, 1]]);
    });
    assert_refused(&path, "histogram");
    let path = hostile("hostile-latency", |json| {
        first_row(json)["start_latency"] = serde_json::json!({
            "significant_digits": 3,
            "highest_ns": 3_600_000_000_000u64,
            "buckets": [[100, u64::MAX], [200, u64::MAX]],
        });
    });
    assert_refused(&path, "start_latency");
}

#[test]
fn a_zero_or_negative_summary_is_refused() {
    let path = hostile("hostile-zero", |json| {
        first_row(json)["summary"]["mean_ns"] = 0.0.into();
    });
    assert_refused(&path, "mean_ns");
    let path = hostile("hostile-negative", |json| {
        let s = &mut first_row(json)["summary"];
        s["mean_ns"] = (-5.0).into();
        s["stdev_ns"] = (-1.0).into();
    });
    assert_refused(&path, "mean_ns");
}

#[test]
fn samples_that_cannot_be_true_are_refused() {
    // No span takes no time, and none outlasts the timeout that would have killed it.
    let path = hostile("hostile-zero-sample", |json| {
        first_row(json)["samples_ns"][0] = 0.into();
    });
    assert_refused(&path, "samples_ns");
    let path = hostile("hostile-long-sample", |json| {
        first_row(json)["samples_ns"][0] = u64::MAX.into();
    });
    assert_refused(&path, "samples_ns");
}

#[test]
fn a_summary_that_disagrees_with_its_samples_is_refused() {
    let path = hostile("hostile-count", |json| {
        first_row(json)["summary"]["count"] = 400.into();
    });
    assert_refused(&path, "count");
    let path = hostile("hostile-p50", |json| {
        first_row(json)["summary"]["p50_ns"] = 7.into();
    });
    assert_refused(&path, "p50_ns");
}

#[test]
fn names_and_machine_figures_out_of_range_are_refused() {
    let path = hostile("hostile-name", |json| {
        first_row(json)["variant"] = "<script>alert(1)</script>".into();
    });
    assert_refused(&path, "variant");
    let path = hostile("hostile-cores", |json| {
        json["environment"]["cores"] = 0.into();
    });
    assert_refused(&path, "cores");
    let path = hostile("hostile-overhead", |json| {
        json["harness_overhead"]["mean_ns"] = 5_000_000.into();
    });
    assert_refused(&path, "harness_overhead");
}

#[test]
fn a_page_fault_of_no_time_or_of_seconds_is_refused_and_an_older_file_reads_without_one() {
    for (name, field, ns) in [
        ("hostile-fault-zero", "page_fault_ns_before", 0_u64),
        ("hostile-fault-slow", "page_fault_ns_after", 5_000_000_000),
    ] {
        let path = hostile(name, |json| {
            json["environment"][field] = ns.into();
        });
        assert_refused(&path, field);
    }
    // A results.json written before runs measured it: not measured, the rest as written.
    let path = hostile("hostile-fault-old", |json| {
        let environment = json["environment"].as_object_mut().unwrap();
        environment.remove("page_fault_ns_before").unwrap();
        environment.remove("page_fault_ns_after").unwrap();
    });
    let old = RunResults::read(&path).unwrap();
    assert_eq!(old.environment.page_fault_ns_before, None);
    assert_eq!(old.environment.page_fault_ns_after, None);
    assert_eq!(old.rows, common::sample_run().rows);
}

#[test]
fn a_real_folder_at_latest_is_refused_and_kept() {
    let out = common::scratch("hostile-latest");
    let layout = Layout { out: out.clone() };
    let kept = out.join("latest").join("notes.txt");
    std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
    std::fs::write(&kept, "mine").unwrap();
    let err = xtask::results::check_latest_replaceable(&out).expect_err("a real folder");
    assert!(err.to_string().contains("is not a link"), "{err}");
    let run_dir = layout.runs().join("20261126T100000Z");
    std::fs::create_dir_all(&run_dir).unwrap();
    assert!(layout.point_latest_at(&run_dir).is_err());
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "mine");
}

#[test]
fn a_link_the_runner_made_is_replaced() {
    let out = common::scratch("hostile-relink");
    let layout = Layout { out: out.clone() };
    for id in ["20261126T100000Z", "20261126T110000Z"] {
        let run_dir = layout.runs().join(id);
        std::fs::create_dir_all(&run_dir).unwrap();
        xtask::results::check_latest_replaceable(&out).unwrap();
        layout.point_latest_at(&run_dir).unwrap();
        assert_eq!(
            std::fs::read_link(layout.latest()).unwrap(),
            Path::new("runs").join(id)
        );
    }
    // A link somewhere else is the user's.
    std::fs::remove_file(layout.latest()).unwrap();
    std::os::unix::fs::symlink("/tmp", layout.latest()).unwrap();
    assert!(xtask::results::check_latest_replaceable(&out).is_err());
}

#[test]
fn a_baselines_file_is_named_before_anything_runs() {
    let out = common::scratch("hostile-baselines");
    std::fs::write(out.join("baselines"), "not a folder").unwrap();
    let err = xtask::results::check_baselines_folder(&out).expect_err("a file");
    let line = err.to_string();
    assert!(
        line.contains(&out.join("baselines").display().to_string()) && line.contains("folder"),
        "{line}"
    );
    let fine = common::scratch("hostile-baselines-fine");
    xtask::results::check_baselines_folder(&fine).unwrap();
}

#[test]
fn the_recorded_flavors_are_typed_and_read_as_files_have_always_written_them() {
    // Written as their names, as before the flags were typed: a results.json from then reads.
    let json = serde_json::to_value(common::sample_run()).unwrap();
    assert_eq!(
        json["flags"]["flavors"],
        serde_json::json!(["current", "multi"])
    );
    let older = hostile("flavors-as-names", |json| {
        json["flags"]["flavors"] = serde_json::json!(["multi"]);
    });
    let read = RunResults::read(&older).unwrap();
    assert_eq!(read.flags.flavors, [Flavor::Multi]);
    assert_eq!(read.flags.flavor_names(), ["multi"]);
    // A name no flag takes is refused, as a row's flavor is.
    let unknown = hostile("flavors-unknown", |json| {
        json["flags"]["flavors"] = serde_json::json!(["fast"]);
    });
    assert_refused(&unknown, "fast");
}
