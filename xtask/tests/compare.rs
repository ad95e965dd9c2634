//! `compare`: what differs between two runs is said first, and a change inside the rows' own
//! spread is noise, not a regression.

mod common;

use timing::testing::run;
use xtask::report;
use xtask::report::doc;
use xtask::results::RunResults;

const XTASK: &str = env!("CARGO_BIN_EXE_xtask");

/// `n` samples alternating 15% either side of `ns`: a run-to-run spread of 15%.
fn spread_around(ns: u64, n: usize) -> Vec<u64> {
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                ns * 85 / 100
            } else {
                ns * 115 / 100
            }
        })
        .collect()
}

fn tight(ns: u64) -> Vec<u64> {
    vec![ns, ns + ns / 100, ns - ns / 100, ns + ns / 200]
}

fn run_of(id: &str, samples: &[u64]) -> RunResults {
    common::results(id, vec![common::row("ex_6_1", "eager", "current", samples)])
}

fn compared(now: &RunResults, base: &RunResults) -> String {
    doc::markdown(&report::comparison(now, "main", base))
}

/// The table line of ex_6_1 eager (current), split into its cells.
fn eager_cells(md: &str) -> Vec<String> {
    let line = md
        .lines()
        .find(|l| l.starts_with("| ex_6_1 eager (current) |"))
        .unwrap_or_else(|| panic!("no eager row in\n{md}"));
    line.trim_matches('|')
        .split(" | ")
        .map(|c| c.trim().to_owned())
        .collect()
}

fn p_value(cells: &[String]) -> f64 {
    cells[5].parse().expect("a p-value")
}

#[test]
fn a_significant_shift_inside_the_rows_spread_is_noise() {
    let base = run_of("base", &spread_around(1_000_000, 40));
    let shifted: Vec<u64> = spread_around(1_000_000, 40)
        .iter()
        .map(|s| s * 110 / 100)
        .collect();
    let md = compared(&run_of("now", &shifted), &base);
    let cells = eager_cells(&md);
    assert_eq!(cells[3], "+10.0%", "{md}");
    // Significant, and over the 5% floor: the rows' own 15% spread is what makes it noise.
    assert!(p_value(&cells) < 0.05, "{md}");
    assert_eq!(cells[4], "±15.0%", "{md}");
    assert_eq!(
        cells[6], "noise: slower, within the rows' ±15.0% spread",
        "{md}"
    );
    assert!(md.contains(" 0 regression(s)."), "{md}");
}

#[test]
fn a_clear_slowdown_with_tight_samples_is_a_regression() {
    let base = run_of("base", &tight(1_000_000));
    let now = run_of("now", &tight(2_000_000));
    let md = compared(&now, &base);
    let cells = eager_cells(&md);
    assert_eq!(cells[3], "+100.0%", "{md}");
    assert_eq!(cells[6], "**regression**", "{md}");
    assert!(md.contains(" 1 regression(s)."), "{md}");
    // Same machine, flags, commit and a quiet load: nothing to warn about.
    assert!(
        md.contains(
            "The two runs match in machine, build, flags and commit, and neither machine was busy"
        ),
        "{md}"
    );
    assert!(!md.contains("may explain"), "{md}");
}

#[test]
fn a_busier_run_says_both_loads_and_that_the_load_may_explain_a_slowdown() {
    let mut base = run_of("base", &tight(1_000_000));
    base.environment.load_before = Some([1.4, 1.0, 0.9]);
    base.environment.load_after = Some([1.5, 1.1, 0.9]);
    let mut now = run_of("now", &tight(2_000_000));
    now.environment.load_before = Some([6.1, 5.0, 4.0]);
    now.environment.load_after = Some([6.0, 5.2, 4.1]);
    let md = compared(&now, &base);
    assert!(md.contains("**The two runs differ**"), "{md}");
    assert!(
        md.contains(
            "- load differs: 1-minute load average 6.10 before and 6.00 after this run on 2 cores (3.05 a core besides the run's own), \
             1.40 before and 1.50 after the baseline on 2 cores (0.70 a core besides the run's own)."
        ),
        "{md}"
    );
    assert_eq!(
        eager_cells(&md)[6],
        "**regression** (the load may explain it)",
        "{md}"
    );
    assert!(
        md.contains(
            " 1 regression(s). This run's machine was busier than the baseline's, which may explain 1 of them."
        ),
        "{md}"
    );
    // The other way round, the quieter run was faster, which the load may explain too.
    let md = compared(&base, &now);
    assert_eq!(
        eager_cells(&md)[6],
        "faster (the load may explain it)",
        "{md}"
    );
}

#[test]
fn page_faults_a_quarter_dearer_or_more_are_a_difference_of_the_machine() {
    let mut base = run_of("base", &tight(1_000_000));
    base.environment.page_fault_ns_before = Some(1_600);
    let mut now = run_of("now", &tight(1_000_000));
    now.environment.page_fault_ns_before = Some(2_200);
    let md = compared(&now, &base);
    assert!(
        md.contains(
            "page fault 2.20 µs here, 1.60 µs in the baseline (memory first touched is part of every row's time)"
        ),
        "{md}"
    );
    // Within a quarter, or not measured in one of the runs: nothing to say.
    now.environment.page_fault_ns_before = Some(1_900);
    assert!(!compared(&now, &base).contains("page fault"));
    now.environment.page_fault_ns_before = None;
    assert!(!compared(&now, &base).contains("page fault"));
}

#[test]
fn a_slowdown_on_the_quieter_machine_is_not_put_down_to_the_load() {
    let mut base = run_of("base", &tight(1_000_000));
    base.environment.load_before = Some([6.1, 5.0, 4.0]);
    let now = run_of("now", &tight(2_000_000));
    let md = compared(&now, &base);
    assert!(md.contains("- load differs: "), "{md}");
    assert_eq!(eager_cells(&md)[6], "**regression**", "{md}");
}

#[test]
fn a_busy_machine_is_said_even_when_both_were_alike() {
    let mut base = run_of("base", &tight(1_000_000));
    base.environment.load_before = Some([1.8, 1.0, 0.9]);
    let mut now = run_of("now", &tight(1_000_000));
    now.environment.load_before = Some([1.9, 1.0, 0.9]);
    let md = compared(&now, &base);
    assert!(
        md.contains("- busy machine: 1-minute load average 1.90 before and 1.00 after this run on 2 cores (0.95 a core"),
        "{md}"
    );
}

#[test]
fn differing_flags_machine_and_commit_are_said_first() {
    let base = run_of("base", &tight(1_000_000));
    let mut now = run_of("now", &tight(1_000_000));
    now.flags.iterations = 10;
    now.flags.quick = true;
    now.flags.tasks = Some(1_000);
    now.environment.cores = 4;
    now.environment.cpu_model = "Other CPU".into();
    now.environment.git_commit = "fedcba987654".into();
    now.environment.git_dirty = true;
    let md = compared(&now, &base);
    let notes: Vec<&str> = md.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(
        notes,
        [
            "- machine: CPU Other CPU here, Test CPU in the baseline; cores 4 here, 2 in the baseline.",
            "- flags: iterations 10 here, 4 in the baseline; tasks 1000 here, each exercise's default in the baseline; quick on here, off in the baseline.",
            "- commit: `fedcba987654` with uncommitted changes here, `0123456789ab` in the baseline.",
        ],
        "{md}"
    );
    // Said before the table.
    assert!(
        md.find("**The two runs differ**").unwrap() < md.find("| row |").unwrap(),
        "{md}"
    );
}

#[test]
fn the_same_commit_with_uncommitted_changes_is_said() {
    let base = run_of("base", &tight(1_000_000));
    let mut now = run_of("now", &tight(1_000_000));
    now.environment.git_dirty = true;
    let md = compared(&now, &base);
    assert!(
        md.contains("- commit: `0123456789ab` in both, with uncommitted changes in this run."),
        "{md}"
    );
}

#[test]
fn the_command_says_the_load_and_calls_a_shift_inside_the_spread_noise() {
    let dir = common::scratch("compare-cli");
    let mut base = run_of("20261126T090000Z", &spread_around(1_000_000, 40));
    base.environment.load_before = Some([6.1, 5.0, 4.0]);
    // 40 samples a row: possible for the baseline's flags only through its CPython count.
    base.flags.python_iterations = 40;
    let shifted: Vec<u64> = spread_around(1_000_000, 40)
        .iter()
        .map(|s| s * 110 / 100)
        .collect();
    let mut now = run_of("20261126T100000Z", &shifted);
    now.environment.load_before = Some([1.4, 1.0, 0.9]);
    now.flags.iterations = 40;
    now.flags.python_iterations = 40;
    let run_dir = dir.join("runs").join(&now.run_id);
    std::fs::create_dir_all(&run_dir).unwrap();
    now.write(&run_dir.join("results.json")).unwrap();
    std::fs::create_dir_all(dir.join("baselines")).unwrap();
    base.write(&dir.join("baselines").join("busy.json"))
        .unwrap();
    let ran = run(
        XTASK,
        &[
            "compare",
            "busy",
            run_dir.to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let md = ran.stdout.join("\n");
    assert!(
        md.contains("- load differs: 1-minute load average 1.40 before and 1.00 after this run"),
        "{md}"
    );
    assert!(
        md.contains("- flags: iterations 40 here, 4 in the baseline."),
        "{md}"
    );
    assert!(
        eager_cells(&md)[6].starts_with("noise: slower, within the rows'"),
        "{md}"
    );
    assert!(md.contains(" 0 regression(s)."), "{md}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_load_recorded_for_one_run_only_is_said() {
    let mut base = run_of("base", &tight(1_000_000));
    base.environment.load_before = None;
    base.environment.load_after = None;
    let now = run_of("now", &tight(2_000_000));
    let md = compared(&now, &base);
    assert!(
        md.contains("- load known for one run only: 1-minute load average 0.10 before and 1.00 after this run on 2 cores (0.05 a core besides the run's own), not recorded for the baseline."),
        "{md}"
    );
    // With no figure to compare, the load is not offered as the reason.
    assert_eq!(eager_cells(&md)[6], "**regression**", "{md}");
}

/// A start-latency row is the same variant's processes, each task also timed: the comparison
/// names it apart from the throughput row, so that the two do not read as one row twice.
#[test]
fn a_start_latency_row_is_named_apart_from_its_throughput_row() {
    let both = |id: &str| {
        let mut latency = common::row("ex_6_1", "eager", "current", &tight(60_000_000));
        latency.measure = Some(timing::cli::Measure::StartLatency);
        common::results(
            id,
            vec![
                common::row("ex_6_1", "eager", "current", &tight(1_000_000)),
                latency,
            ],
        )
    };
    let md = compared(&both("now"), &both("base"));
    let named = |name: &str| md.lines().filter(|l| l.starts_with(name)).count();
    assert_eq!(named("| ex_6_1 eager (current) |"), 1, "{md}");
    assert_eq!(
        named("| ex_6_1 eager (current), start latency |"),
        1,
        "{md}"
    );
}
