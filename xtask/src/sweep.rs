//! `sweep`: how each strategy's cost grows with the work, and what memory it takes.
//!
//! Runs the variants of ex_6_1, ex_6_2 and ex_6_3 at several task counts on both runtime
//! flavors (and CPython 3.12, when found, up to 10^6 tasks), then writes `sweep.json` (the
//! `results.json` schema: one row per point) and a report with the Scaling section: one line
//! per implementation (a variant on one flavor, or one interpreter) across every count it ran,
//! the variants `run-all` holds to a task cap included, since their growth is what is shown.
//!
//! The counts run from the smallest up, one count at a time. A variant (on one flavor, or one
//! interpreter) whose median run at some count takes longer than `--stop-over` seconds, or is
//! killed at `--timeout`, is not run at the larger counts: those points are rows marked stopped
//! (`skipped`, with the reason), not failures. Any other failure stops nothing: the next count
//! may well run. So a variant whose cost grows faster than the
//! work (ex_6_2's `join_handles`) still shows its slope without running for hours.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::exercises;
use crate::format::fmt_count;
use crate::measure::{self, Runs, Target};
use crate::report::sweep as sweep_report;
use crate::results::{self, Flags, Overhead, Row, RowKey, RunResults};
use crate::run::{self, FlavorChoice};
use crate::{UsageError, process, python, workspace_root};

/// The exercises a sweep covers (the catalogue's list, which the sweep's report reads too).
pub use crate::exercises::SWEPT as EXERCISES;
/// Default task counts: 10^3 … 10^7.
pub const COUNTS: [u64; 5] = [1_000, 10_000, 100_000, 1_000_000, 10_000_000];
/// The largest count CPython runs at.
pub use crate::exercises::SWEEP_PYTHON_MAX as PYTHON_MAX;
/// Default `--stop-over`: seconds a point's median run may take before its variant stops. With
/// counts a decade apart a quadratic line's next point is 100× dearer, so the limit sits between
/// the linear lines' 10^6 points (0.3–1.2 s on a quiet machine, up to 1.8 s on this busy one)
/// and the quadratic ones' 10^5 (2.5 s quiet, 7–9 s busy): they stop before a 10^6 point that
/// would take five minutes or more a run.
pub const STOP_OVER_SECS: u64 = 2;

/// `cargo xtask sweep` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepFlags {
    /// Task counts, comma-separated [default: 1000,10000,100000,1000000,10000000; up to 100000 with --quick]
    #[arg(long, value_name = "N,N,…", value_delimiter = ',', allow_hyphen_values = true, value_parser = timing::cli::tasks_count)]
    pub tasks: Vec<u64>,
    /// tokio runtime flavors to run
    #[arg(long, value_enum, default_value_t = FlavorChoice::Both)]
    pub flavor: FlavorChoice,
    /// Measured processes per point [default: 3; 1 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub iterations: Option<u32>,
    /// CPython: auto (CPython 3.12 when found), none, or an interpreter's path
    #[arg(long, value_name = "auto|none|PATH", default_value = "auto")]
    pub python: Vec<String>,
    /// Seconds one process may take before it is killed and recorded as failed
    #[arg(long, value_name = "SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
    /// Stop a variant (per flavor) once its median run at one count takes over SECS, or it
    /// times out: its larger counts are reported as stopped, not run
    #[arg(long, value_name = "SECS", default_value_t = STOP_OVER_SECS, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub stop_over: u64,
    #[arg(long, value_name = "DIR", help = concat!("Where runs go [default: ", crate::default_out!(), "]"))]
    pub out: Option<std::path::PathBuf>,
    /// Smoke sweep: 10^3 … 10^5, one run per point
    #[arg(long)]
    pub quick: bool,
}

impl SweepFlags {
    fn counts(&self) -> Vec<u64> {
        let mut counts = if !self.tasks.is_empty() {
            self.tasks.clone()
        } else if self.quick {
            COUNTS[..3].to_vec()
        } else {
            COUNTS.to_vec()
        };
        counts.sort_unstable();
        counts.dedup();
        counts
    }
}

pub fn run(flags: &SweepFlags) -> anyhow::Result<ExitCode> {
    let layout = results::Layout::at(flags.out.clone())?;
    // Before anything is built: an --out the sweep could not write into is refused now.
    crate::run::check_out(&layout, false)?;
    let counts = flags.counts();
    let selection: Vec<_> = EXERCISES
        .iter()
        .filter_map(|name| exercises::find(name))
        .flat_map(|e| e.variant_names().map(move |v| (e, v)))
        .collect();
    let each: Vec<_> = counts.iter().copied().map(Some).collect();
    // The sweep runs no start-latency rows.
    exercises::check_fits(&selection, &each, false)?;
    // Which CPython: with auto, the 3.12 the machine has; given paths are used as they are.
    // From here on a stop signal (Ctrl-C, SIGTERM, a hang-up, Ctrl-\) stops the runner's
    // processes and the sweep.
    process::catch_stop_signals()?;
    let python = python::resolve(&flags.python);
    process::stopped()?;
    let mut python = python?;
    if flags.python == ["auto"] {
        python
            .interpreters
            .retain(|i| i.version.0 == 3 && i.version.1 == 12);
        python.interpreters.truncate(1);
        if python.interpreters.is_empty() {
            python.note = "CPython 3.12 not found; only the Rust rows ran".into();
        } else {
            python.note = python.interpreters[0].to_string();
        }
    }
    crate::say!("CPython: {}", python.note);
    let iterations = flags.iterations.unwrap_or(if flags.quick { 1 } else { 3 });
    let root = workspace_root()?;
    let bin_dir = measure::build_release(&root, &EXERCISES)?;
    let mut session = measure::Session::begin(&layout, &root)?;

    let runs = Runs {
        warmup: 0,
        iterations,
        python_iterations: iterations,
        cap_override: None,
    };
    let limit = Duration::from_secs(flags.stop_over);
    let mut stops = Stops::default();
    let mut rows: Vec<Row> = Vec::new();
    let mut overheads: Vec<Overhead> = Vec::new();
    crate::say!(
        "sweep {}: {counts:?} tasks; a variant stops once a median run takes over {} s",
        session.id,
        flags.stop_over
    );
    // One count at a time, smallest first: what a point took decides whether the next runs.
    for &n in &counts {
        let mut targets: Vec<Target> =
            measure::uncapped_targets(&selection, flags.flavor.flavors(), Some(n), runs, &bin_dir);
        if n <= PYTHON_MAX {
            let (py, _) = measure::python_targets(
                &selection,
                &python.interpreters,
                Some(n),
                runs,
                &root.join("scripts").join("python"),
            );
            targets.extend(py);
        }
        let (targets, stopped) = stops.split(targets);
        rows.extend(stopped);
        if targets.is_empty() {
            continue;
        }
        crate::say!("{n} tasks: {} points", targets.len());
        let measured = session.measure(&targets, Duration::from_secs(flags.timeout))?;
        stops.note(&measured.rows, limit);
        rows.extend(measured.rows);
        overheads.extend(measured.overhead);
    }
    let flags_used = Flags {
        iterations,
        warmup: 0,
        tasks: None,
        flavors: flags.flavor.flavors().to_vec(),
        timeout_secs: flags.timeout,
        quick: flags.quick,
        python: flags.python.clone(),
        python_iterations: iterations,
        python_found: python.note,
        selection: counts.iter().map(|n| format!("sweep:{n}")).collect(),
        baseline: None,
        thorough: false,
        budget_secs: None,
    };
    let results = session.results(flags_used, merge(&overheads), rows);
    let run_dir = session.dir;
    results.write(&run_dir.join("sweep.json"))?;
    sweep_report::write(&results, &run_dir)?;
    measure::discard_if_stopped(&run_dir)?;
    println!("{}", sweep_report::summary(&results));
    Ok(run::finish(&results, &run_dir))
}

/// The runner's overhead over several batches of processes, as one.
fn merge(overheads: &[Overhead]) -> Option<Overhead> {
    let processes: u64 = overheads.iter().map(|o| o.processes).sum();
    let total: u128 = overheads
        .iter()
        .map(|o| u128::from(o.mean_ns) * u128::from(o.processes))
        .sum();
    (processes > 0).then(|| Overhead {
        processes,
        mean_ns: u64::try_from(total / u128::from(processes)).unwrap_or(u64::MAX),
        max_ns: overheads.iter().map(|o| o.max_ns).max().unwrap_or(0),
    })
}

/// The sweep's stop rule: which lines (a variant on one flavor, or one interpreter) have
/// stopped, and why.
#[derive(Debug, Default)]
pub struct Stops(Vec<(RowKey, String)>);

impl Stops {
    /// Notes the lines of `rows` (points just measured) that stop: a point whose median run
    /// took over `limit`, or that was killed at the timeout (the runner's reason starts with
    /// "timed out"). Other failures stop nothing.
    pub fn note(&mut self, rows: &[Row], limit: Duration) {
        for row in rows {
            let at = row.tasks.map_or_else(|| "its count".into(), fmt_count);
            let why = if let Some(failure) = &row.failure {
                if !failure.reason.starts_with("timed out") {
                    continue;
                }
                format!("stopped: at {at} tasks it {}", failure.reason)
            } else {
                let Some(median) = median(&row.samples_ns) else {
                    continue;
                };
                if median <= limit.as_nanos() as f64 {
                    continue;
                }
                format!(
                    "stopped: at {at} tasks the median run took {:.1} s, over the sweep's {} s limit",
                    median / 1e9,
                    limit.as_secs_f64()
                )
            };
            let line = sweep_report::line(&row.key());
            if !self.0.iter().any(|(l, _)| *l == line) {
                self.0.push((line, why));
            }
        }
    }

    /// Why `key`'s line stopped, if it has.
    pub fn reason(&self, key: &RowKey) -> Option<&str> {
        let line = sweep_report::line(key);
        self.0
            .iter()
            .find(|(l, _)| *l == line)
            .map(|(_, why)| why.as_str())
    }

    /// The targets still to run, and a row marked stopped for each of the others.
    pub fn split(&self, targets: Vec<Target>) -> (Vec<Target>, Vec<Row>) {
        let mut run = Vec::new();
        let mut stopped = Vec::new();
        for t in targets {
            match self.reason(&t.key) {
                Some(why) => stopped.push(Row::skipped(t.key, why.to_owned())),
                None => run.push(t),
            }
        }
        (run, stopped)
    }
}

/// The middle of `samples` (the mean of the two middle ones for an even count), exact where the
/// histogram's quantiles are rounded.
fn median(samples: &[u64]) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if !n.is_multiple_of(2) => Some(sorted[mid] as f64),
        _ => Some((sorted[mid - 1] as f64 + sorted[mid] as f64) / 2.0),
    }
}

/// Reads a sweep folder's `sweep.json`, if it is one.
pub fn read(dir: &Path) -> Option<Result<RunResults, UsageError>> {
    let path = dir.join("sweep.json");
    path.is_file().then(|| RunResults::read(&path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use timing::cli::Flavor;

    fn key(variant: &str, flavor: &str, tasks: u64) -> RowKey {
        RowKey {
            exercise: "ex_6_2".into(),
            variant: variant.into(),
            implementation: "rust".into(),
            flavor: flavor.parse().ok(),
            tasks: Some(tasks),
            entry: None,
            measure: None,
        }
    }

    fn point(variant: &str, flavor: &str, tasks: u64, median_ms: u64) -> Row {
        Row::new(
            key(variant, flavor, tasks),
            vec![median_ms * 1_000_000; 3],
            None,
        )
    }

    fn target(variant: &str, flavor: &str, tasks: u64) -> Target {
        Target {
            key: key(variant, flavor, tasks),
            exe: "/bin/ex_6_2".into(),
            args: Vec::new(),
            expected_exit: 0,
            warmup: 0,
            runs: 1,
        }
    }

    #[test]
    fn a_line_stops_after_its_first_point_over_the_limit_and_only_that_line() {
        let limit = Duration::from_secs(10);
        let mut stops = Stops::default();
        stops.note(
            &[
                point("join_handles", "current", 100_000, 12_300),
                point("join_handles", "multi", 100_000, 9_000),
                point("spawn_gather", "current", 100_000, 80),
            ],
            limit,
        );
        let (run, stopped) = stops.split(vec![
            target("join_handles", "current", 1_000_000),
            target("join_handles", "multi", 1_000_000),
            target("spawn_gather", "current", 1_000_000),
        ]);
        let ran: Vec<_> = run
            .iter()
            .map(|t| {
                (
                    t.key.variant.as_str(),
                    t.key.flavor.map_or("", Flavor::name),
                )
            })
            .collect();
        assert_eq!(
            ran,
            [("join_handles", "multi"), ("spawn_gather", "current")]
        );
        assert_eq!(stopped.len(), 1);
        let row = &stopped[0];
        assert_eq!(
            (row.variant.as_str(), row.tasks),
            ("join_handles", Some(1_000_000))
        );
        assert!(row.failure.is_none(), "stopped, not failed");
        assert_eq!(
            row.skipped.as_deref(),
            Some("stopped: at 10^5 tasks the median run took 12.3 s, over the sweep's 10 s limit")
        );
        // Still stopped at every larger count, with the first reason.
        let (run, stopped) = stops.split(vec![target("join_handles", "current", 10_000_000)]);
        assert!(run.is_empty());
        assert!(
            stopped[0]
                .skipped
                .as_deref()
                .unwrap_or("")
                .contains("at 10^5 tasks")
        );
    }

    #[test]
    fn a_point_at_the_limit_runs_on_a_timed_out_one_stops_and_another_failure_does_not() {
        let limit = Duration::from_secs(10);
        let mut stops = Stops::default();
        let failed = |variant: &str, reason: &str| {
            let failure = results::Failure {
                reason: reason.into(),
                stderr_tail: String::new(),
                known: None,
            };
            Row::new(key(variant, "current", 30_000), Vec::new(), Some(failure))
        };
        stops.note(
            &[
                point("join_all", "current", 10_000, 10_000),
                failed("futures_unordered", "timed out after 600 s and was killed"),
                failed("spawn_gather", "exited with code 101"),
            ],
            limit,
        );
        assert_eq!(stops.reason(&key("join_all", "current", 100_000)), None);
        assert_eq!(stops.reason(&key("spawn_gather", "current", 100_000)), None);
        assert_eq!(
            stops.reason(&key("futures_unordered", "current", 100_000)),
            Some("stopped: at 30000 tasks it timed out after 600 s and was killed")
        );
    }

    #[test]
    fn the_median_is_the_middle_sample() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[9, 1, 5]), Some(5.0));
        assert_eq!(median(&[4, 1, 3, 2]), Some(2.5));
    }

    #[test]
    fn overheads_of_several_batches_merge_by_process_count() {
        let merged = merge(&[
            Overhead {
                processes: 1,
                mean_ns: 100,
                max_ns: 100,
            },
            Overhead {
                processes: 3,
                mean_ns: 300,
                max_ns: 900,
            },
        ]);
        assert_eq!(
            merged,
            Some(Overhead {
                processes: 4,
                mean_ns: 250,
                max_ns: 900
            })
        );
        assert_eq!(merge(&[]), None);
    }
}
