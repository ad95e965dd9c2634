//! `results.json`: what a run measured, and where runs and baselines live on disk.
//!
//! # Schema `asyncio-in-tokio/results/v1`
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `schema` | string | `"asyncio-in-tokio/results/v1"`; readers refuse any other |
//! | `run_id` | string | the run folder's name, a UTC timestamp like `20261126T101500Z` |
//! | `started_utc`, `finished_utc` | string | RFC 3339 times, UTC |
//! | `environment` | object | `cpu_model`, `cores`, `os`, `kernel`, `rustc`, `tokio`, `git_commit`, `git_dirty`, `load_before`/`load_after` (1, 5, 15-minute load averages, or null), `governor_before`/`governor_after` (CPU frequency governor, or null), `page_fault_ns_before`/`page_fault_ns_after` (ns a first touch of a 4 KiB page cost, as the run began and ended, or null; absent in older files) |
//! | `flags` | object | the flags of the run: `iterations`, `warmup`, `tasks` (null: each exercise's default), `flavors` (a list of `"current"`, `"multi"`), `timeout_secs`, `quick`, `python` (as given), `python_iterations`, `python_found` (the interpreters found, or why none ran), `selection`, `baseline`, `thorough`, `budget_secs` (seconds, or null for fixed counts) |
//! | `harness_overhead` | object or null | `processes`, `mean_ns`, `max_ns`: the runner's own time per exercise process, outside the process' lifetime |
//! | `rows` | array | one per (exercise, variant, implementation, flavor, tasks), below |
//!
//! A row: `exercise`, `variant`, `implementation` (`"rust"`), `flavor` (`"current"`, `"multi"`,
//! or null), `tasks` (null where no count applies), `samples_ns` (one per measured process, in
//! order), `histogram` (the merged HDR histogram: `significant_digits`, `highest_ns`, and
//! `buckets`, a list of `[value_ns, count]` for every non-empty bucket), `summary` (the timing
//! crate's summary of the histogram, or null with no samples), `failure` (null, or `reason`
//! and `stderr_tail`, and `known`: null, or `error` and `reason` when the failure is a known
//! incompatibility of a loop with a Python version, which does not fail the run), `skipped`
//! (null, or why the row did not run, e.g. `needs 3.12+` or `not available: …`),
//! `entry` (null, or `"block_on"` when `main` ran in `block_on` rather than as a task),
//! `measure` (null for throughput, or `"start-latency"`), `peak_rss_bytes` (the highest of the
//! row's processes, or null) and `start_latency` (start-latency rows: the merged histogram of
//! every task's creation-to-first-poll time, in the same form as `histogram`) and `precision`
//! (null for a row that did not run, or `half_width`: the relative half-width of the 95%
//! interval of the row's geometric mean, 0.05 for ±5%, null with one sample; `goal`: the
//! half-width at which the runner stops adding processes, null for a fixed count; `stopped`:
//! `"goal"`, `"budget"`, `"max-runs"`, `"fixed"` or `"failed"`) and `process_ns` (the mean
//! wall time of the row's processes from their start to their exit as the runner saw them,
//! its own time around each being in `harness_overhead`; or null) and `process_cpu_ns` (the
//! mean CPU time, user + system, of the same processes, from `wait4` as each was reaped: all
//! its threads, and what it waited for itself; null where a process' was not known, in a row
//! that did not run, or in a results.json written before rows said so). On a busy machine wall
//! time grows with the other load, CPU time much less: their ratio says how much a process
//! waited for a core. `cpu_samples_ns` (absent where unknown, as in Python rows) holds, beside
//! each of `samples_ns`, the process' CPU time over the repetition that sample times: its
//! timed span with the body's prints around it.
//! Python rows have `flavor` null, `implementation` `"cpython-3.12.1"` (`"cpython-3.14.0t"`
//! free-threaded, `"pypy-7.3.11"` for PyPy) and `variant` the event loop: `"asyncio"` (the
//! standard loop), `"uvloop"`, `"rloop"`, or `"asyncio_gc_off"` (`gc.disable()`); a script
//! with `--variant`s of its own (suspend_once) has a row per variant on the standard loop
//! besides its default's `"asyncio"`, named after the loop and the variant:
//! `"asyncio_scheduled"`, `"asyncio_gather"`.
//! `flags.python_found` also says which loops were asked for.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
pub use timing::SerializedHistogram;
use timing::Summary;
use timing::cli::{Entry, Flavor, Measure};

use crate::UsageError;

pub const SCHEMA: &str = "asyncio-in-tokio/results/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    pub schema: String,
    pub run_id: String,
    pub started_utc: String,
    pub finished_utc: String,
    pub environment: Environment,
    pub flags: Flags,
    pub harness_overhead: Option<Overhead>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub cpu_model: String,
    pub cores: usize,
    pub os: String,
    pub kernel: String,
    pub rustc: String,
    pub tokio: String,
    pub git_commit: String,
    pub git_dirty: bool,
    pub load_before: Option<[f64; 3]>,
    pub load_after: Option<[f64; 3]>,
    pub governor_before: Option<String>,
    pub governor_after: Option<String>,
    /// What a first touch of a 4 KiB page of memory cost (a page fault), in ns, as the run
    /// began and as it ended: null where not measured (runs from before it was).
    #[serde(default)]
    pub page_fault_ns_before: Option<u64>,
    #[serde(default)]
    pub page_fault_ns_after: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flags {
    pub iterations: u32,
    pub warmup: u32,
    pub tasks: Option<u64>,
    /// The runtime flavors asked for, typed as a row's `flavor` is; in JSON their names
    /// (`"current"`, `"multi"`), as they have always been written, so files from before read.
    pub flavors: Vec<Flavor>,
    pub timeout_secs: u64,
    pub quick: bool,
    pub python: Vec<String>,
    #[serde(default)]
    pub python_iterations: u32,
    /// The interpreters found (or why none ran), as the report's header says it.
    #[serde(default)]
    pub python_found: String,
    pub selection: Vec<String>,
    pub baseline: Option<String>,
    /// `--thorough`: every row at today's full depth.
    #[serde(default)]
    pub thorough: bool,
    /// `--budget` of an adaptive run (rows until their interval is tight or this is spent);
    /// `None` where every row ran a fixed number of times.
    #[serde(default)]
    pub budget_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overhead {
    pub processes: u64,
    pub mean_ns: u64,
    pub max_ns: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub exercise: String,
    pub variant: String,
    pub implementation: String,
    pub flavor: Option<Flavor>,
    pub tasks: Option<u64>,
    #[serde(default)]
    pub entry: Option<Entry>,
    #[serde(default)]
    pub measure: Option<Measure>,
    pub samples_ns: Vec<u64>,
    /// The CPU time (user + system) of each sample's repetition, in the same order; empty where
    /// a process did not give it (the Python side), and then for the whole row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpu_samples_ns: Vec<u64>,
    pub histogram: SerializedHistogram,
    pub summary: Option<Summary>,
    pub failure: Option<Failure>,
    /// Why the row did not run although nothing failed, e.g. `needs 3.12+`.
    #[serde(default)]
    pub skipped: Option<String>,
    /// The highest peak resident memory of the row's processes.
    #[serde(default)]
    pub peak_rss_bytes: Option<u64>,
    /// Start-latency rows: every task's time from creation to first poll, all runs merged.
    #[serde(default)]
    pub start_latency: Option<SerializedHistogram>,
    /// How precisely the row's geometric mean is known, and why its runs stopped; `None` for a
    /// row that did not run (or a results.json written before rows said so).
    #[serde(default)]
    pub precision: Option<Precision>,
    /// The mean wall time of the row's processes (warmups included) from their start to their
    /// exit, as the runner saw them: with the harness overhead, what the next run expects a
    /// process of this row to take.
    #[serde(default)]
    pub process_ns: Option<u64>,
    /// The mean CPU time (user + system) of the same processes, from `wait4`; `None` where one
    /// of them was not known, or in a results.json written before rows said so.
    #[serde(default)]
    pub process_cpu_ns: Option<u64>,
}

/// The precision a row reached: the half-width of the 95% interval of its geometric mean, the
/// goal the runner had for it, and why it ran no more processes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Precision {
    /// Relative half-width of the 95% interval of the geometric mean (0.05: ±5%), from the
    /// samples ([`crate::stats::relative_half_width`]); `None` with fewer than two samples.
    pub half_width: Option<f64>,
    /// The half-width at which the runner would have stopped the row; `None` for rows run a
    /// fixed number of times.
    pub goal: Option<f64>,
    pub stopped: Stop,
}

/// Why a row ran no more processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// Its interval was as narrow as the goal.
    Goal,
    /// The run's time budget was spent (or the next process would not fit in it).
    Budget,
    /// It ran the most processes it may.
    MaxRuns,
    /// It runs a fixed number of processes (`--iterations`, a sleep-bound exercise, one
    /// start-latency run): no goal.
    Fixed,
    /// It failed.
    Failed,
}

impl Stop {
    /// How the report says it.
    pub fn describe(self) -> &'static str {
        match self {
            Stop::Goal => "reached its goal",
            Stop::Budget => "time budget spent",
            Stop::MaxRuns => "most runs allowed",
            Stop::Fixed => "fixed runs",
            Stop::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub reason: String,
    pub stderr_tail: String,
    /// A known incompatibility (a loop with a Python version): shown as "fails", with the
    /// error and its reason, and not counted as a failed run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<Known>,
}

/// Why a failure was expected: the error the process ended with, and what causes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Known {
    pub error: String,
    pub reason: String,
}

impl Failure {
    /// A failure that no known incompatibility explains.
    pub fn unexpected(&self) -> bool {
        self.known.is_none()
    }
}

impl Row {
    /// A row of `samples` (possibly none) and an optional failure.
    pub fn new(key: RowKey, samples: Vec<u64>, failure: Option<Failure>) -> Self {
        let mut h = timing::new_histogram();
        for &s in &samples {
            h.saturating_record(s);
        }
        let summary = (!samples.is_empty()).then(|| Summary::of(&samples, key.tasks));
        Self {
            exercise: key.exercise,
            variant: key.variant,
            implementation: key.implementation,
            flavor: key.flavor,
            tasks: key.tasks,
            entry: key.entry,
            measure: key.measure,
            samples_ns: samples,
            cpu_samples_ns: Vec::new(),
            histogram: SerializedHistogram::of(&h),
            summary,
            failure,
            skipped: None,
            peak_rss_bytes: None,
            start_latency: None,
            precision: None,
            process_ns: None,
            process_cpu_ns: None,
        }
    }

    /// A row that was not run, and why (not a failure).
    pub fn skipped(key: RowKey, why: String) -> Self {
        Self {
            skipped: Some(why),
            ..Self::new(key, Vec::new(), None)
        }
    }

    pub fn key(&self) -> RowKey {
        RowKey {
            exercise: self.exercise.clone(),
            variant: self.variant.clone(),
            implementation: self.implementation.clone(),
            flavor: self.flavor,
            tasks: self.tasks,
            entry: self.entry,
            measure: self.measure,
        }
    }

    /// What ran the row.
    pub fn kind(&self) -> Implementation<'_> {
        Implementation::of(&self.implementation)
    }

    /// Whether the row is a Python run (CPython or PyPy).
    pub fn is_python(&self) -> bool {
        matches!(
            self.kind(),
            Implementation::CPython { .. } | Implementation::PyPy { .. }
        )
    }

    /// A Python row on the standard asyncio loop with the collector on: the one the chapter ran.
    pub fn is_default_python(&self) -> bool {
        self.is_python() && self.variant == "asyncio"
    }

    /// The chapter's own setting of CPython `major.minor` (any patch level): the standard loop,
    /// the collector on, the GIL.
    pub fn is_chapter_cpython(&self, major: u32, minor: u32) -> bool {
        chapter_cpython(&self.implementation, &self.variant, major, minor)
    }

    /// CPython `major.minor` (any patch level) with the GIL, as the row `variant` names it: a
    /// script variant's row (`asyncio_scheduled`), say, where [`Row::is_chapter_cpython`] is
    /// the default's.
    pub fn is_chapter_cpython_as(&self, major: u32, minor: u32, variant: &str) -> bool {
        cpython_with_gil(&self.implementation, major, minor) && self.variant == variant
    }

    /// A failure that counts: not a known incompatibility.
    pub fn failed_unexpectedly(&self) -> bool {
        self.failure.as_ref().is_some_and(Failure::unexpected)
    }
}

impl Row {
    /// [`RunResults::check`] for one row whose samples may be at most `longest` ns, on a machine
    /// of `cores` cores.
    fn check(&mut self, longest: u64, cores: usize) -> Result<(), String> {
        plain("exercise", &self.exercise)?;
        plain("variant", &self.variant)?;
        plain("implementation", &self.implementation)?;
        // Flavor, entry and measure are typed: a name serde does not know was refused already.
        // The defaults are spelled by their absence.
        if self.entry == Some(Entry::Task) || self.measure == Some(Measure::Throughput) {
            return Err(
                "entry 'task' and measure 'throughput' are the defaults: leave them out".into(),
            );
        }
        check_tasks("tasks", self.tasks)?;
        if let Some(&bad) = self.samples_ns.iter().find(|&&s| s == 0 || s > longest) {
            return Err(format!(
                "samples_ns holds {bad}, not a time from 1 ns to the run's timeout ({longest} ns)"
            ));
        }
        if let Some(rss) = self.peak_rss_bytes
            && rss > MAX_RSS_BYTES
        {
            return Err(format!("peak_rss_bytes is {rss}, over {MAX_RSS_BYTES}"));
        }
        let samples = self.samples_ns.len() as u64;
        let counted = bucket_total("histogram", &self.histogram, longest)?;
        if counted != samples {
            return Err(format!(
                "histogram counts {counted} samples, samples_ns has {samples}"
            ));
        }
        if let Some(latency) = &self.start_latency {
            // Every task of every measured process, at most.
            let most = self.tasks.unwrap_or(0).saturating_mul(samples);
            let counted = bucket_total("start_latency", latency, longest)?;
            if counted > most {
                return Err(format!(
                    "start_latency counts {counted} tasks, more than {most} ({samples} runs of {} tasks)",
                    self.tasks.unwrap_or(0)
                ));
            }
        }
        let fresh = Row::new(self.key(), std::mem::take(&mut self.samples_ns), None);
        if let Some(stored) = &self.summary {
            let Some(real) = &fresh.summary else {
                return Err("summary given for a row with no samples".into());
            };
            same_summary(stored, real)?;
        }
        if let Some(ns) = self.process_ns
            && (ns == 0 || ns > longest)
        {
            return Err(format!(
                "process_ns is {ns}, not a time from 1 ns to the run's timeout ({longest} ns)"
            ));
        }
        // A process busy on every core until its timeout, at most.
        let busiest = longest.saturating_mul(cores as u64);
        if let Some(ns) = self.process_cpu_ns
            && ns > busiest
        {
            return Err(format!(
                "process_cpu_ns is {ns}, over the run's timeout on all {cores} cores ({busiest} ns)"
            ));
        }
        if !self.cpu_samples_ns.is_empty() && self.cpu_samples_ns.len() != fresh.samples_ns.len() {
            return Err(format!(
                "cpu_samples_ns has {} times, samples_ns {}",
                self.cpu_samples_ns.len(),
                fresh.samples_ns.len()
            ));
        }
        if let Some(&bad) = self.cpu_samples_ns.iter().find(|&&ns| ns > busiest) {
            return Err(format!(
                "cpu_samples_ns holds {bad}, over the run's timeout on all {cores} cores ({busiest} ns)"
            ));
        }
        if let Some(p) = &self.precision {
            let real = crate::stats::relative_half_width(&fresh.samples_ns);
            let same = match (p.half_width, real) {
                (Some(s), Some(r)) => s.is_finite() && (s - r).abs() <= r.abs() * 1e-9,
                (None, None) => true,
                _ => false,
            };
            if !same {
                return Err(format!(
                    "precision.half_width is {:?}, its samples give {real:?}",
                    p.half_width
                ));
            }
            if let Some(goal) = p.goal
                && !(goal.is_finite() && goal > 0.0 && goal < 10.0)
            {
                return Err(format!(
                    "precision.goal is {goal}, not above 0 and below 10"
                ));
            }
        }
        self.samples_ns = fresh.samples_ns;
        self.histogram = fresh.histogram;
        self.summary = fresh.summary;
        Ok(())
    }
}

/// The largest results.json a run writes: every row at its most samples is a few megabytes.
pub const MAX_RESULTS_BYTES: u64 = 64 << 20;

/// The most processes an adaptive run gives a row (the runner's largest `max_runs`).
pub const MOST_ADAPTIVE_RUNS: u32 = 30;

impl Flags {
    /// The most samples a row of a run with these flags can hold: one a measured process, and
    /// a row runs at most `iterations` (or `python_iterations`) processes, or, in an adaptive
    /// run, [`MOST_ADAPTIVE_RUNS`].
    pub fn most_samples(&self) -> u64 {
        let fixed = self.iterations.max(self.python_iterations);
        let adaptive = if self.budget_secs.is_some() {
            MOST_ADAPTIVE_RUNS
        } else {
            0
        };
        u64::from(fixed.max(adaptive))
    }

    /// The flavors' names, as the flag takes them: `["current", "multi"]`.
    pub fn flavor_names(&self) -> Vec<&'static str> {
        self.flavors.iter().map(|f| f.name()).collect()
    }
}

/// The most cores, load average, timeout and peak memory a results file may name.
const MAX_CORES: usize = 1 << 16;
const MAX_LOAD: f64 = 1e6;
/// A page fault that took a second is no measurement.
const MAX_PAGE_FAULT_NS: u64 = 1_000_000_000;
const MAX_TIMEOUT_SECS: u64 = 86_400;
const MAX_RSS_BYTES: u64 = 1 << 50;

/// The most bytes a word of a results.json's header may have (the interpreters found, with
/// their paths, are the longest).
const MAX_TEXT: usize = 16 * 1024;

/// A word the report's header prints: one line, no control character, at most [`MAX_TEXT`].
fn one_line(field: &str, value: &str) -> Result<(), String> {
    if value.len() > MAX_TEXT {
        return Err(format!("{field} is {} bytes, over {MAX_TEXT}", value.len()));
    }
    if value.chars().any(char::is_control) {
        return Err(format!(
            "{field} holds a control character ({:?}); a run writes one line there",
            timing::cli::visible(value)
        ));
    }
    Ok(())
}

/// A name the report prints as it is (in code spans too): letters, digits and `._:+-`.
fn plain(field: &str, value: &str) -> Result<(), String> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:+-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field} {value:?} is not a name of letters, digits and '._:+-'"
        ))
    }
}

/// How many values a stored histogram holds, each at most `longest` ns.
fn bucket_total(field: &str, h: &SerializedHistogram, longest: u64) -> Result<u64, String> {
    let mut total = 0u64;
    for &(value, count) in &h.buckets {
        if value > longest {
            return Err(format!(
                "{field} has a bucket at {value} ns, over {longest} ns"
            ));
        }
        total = total
            .checked_add(count)
            .ok_or_else(|| format!("{field}'s bucket counts add up past {}", u64::MAX))?;
    }
    Ok(total)
}

/// The stored summary is the one the samples give (floats to 1 part in 10⁹: JSON round trip).
fn same_summary(stored: &Summary, real: &Summary) -> Result<(), String> {
    let whole = [
        ("count", stored.count, real.count),
        ("min_ns", stored.min_ns, real.min_ns),
        ("p50_ns", stored.p50_ns, real.p50_ns),
        ("p90_ns", stored.p90_ns, real.p90_ns),
        ("p99_ns", stored.p99_ns, real.p99_ns),
        ("p999_ns", stored.p999_ns, real.p999_ns),
        ("max_ns", stored.max_ns, real.max_ns),
    ];
    for (name, s, r) in whole {
        if s != r {
            return Err(format!("summary.{name} is {s}, its samples give {r}"));
        }
    }
    if stored.work != real.work {
        return Err(format!(
            "summary.work is {:?}, the row's tasks are {:?}",
            stored.work, real.work
        ));
    }
    let close = |s: f64, r: f64| s.is_finite() && (s - r).abs() <= r.abs() * 1e-9;
    let real_per_item = real.per_item_ns.unwrap_or(f64::NAN);
    for (name, s, r) in [
        ("mean_ns", Some(stored.mean_ns), real.mean_ns),
        ("stdev_ns", Some(stored.stdev_ns), real.stdev_ns),
        ("per_item_ns", stored.per_item_ns, real_per_item),
    ] {
        match s {
            Some(s) if close(s, r) => {}
            None if real.per_item_ns.is_none() => {}
            _ => {
                return Err(format!(
                    "summary.{name} is {}, its samples give {}",
                    s.map(|s| s.to_string()).unwrap_or_else(|| "null".into()),
                    if r.is_nan() {
                        "null".into()
                    } else {
                        r.to_string()
                    }
                ));
            }
        }
    }
    Ok(())
}

/// What ran a row, read from its `implementation` name: `rust`, `cpython-3.12.1`,
/// `cpython-3.14.0t` (free-threaded), `pypy-7.3.11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation<'a> {
    Rust,
    CPython {
        version: &'a str,
        free_threaded: bool,
    },
    PyPy {
        version: &'a str,
    },
    /// A name this build does not know (an old or foreign results file).
    Other(&'a str),
}

impl<'a> Implementation<'a> {
    pub fn of(name: &'a str) -> Self {
        if name == "rust" {
            Implementation::Rust
        } else if let Some(v) = name.strip_prefix("cpython-") {
            Implementation::CPython {
                version: v.trim_end_matches('t'),
                free_threaded: v.ends_with('t'),
            }
        } else if let Some(version) = name.strip_prefix("pypy-") {
            Implementation::PyPy { version }
        } else {
            Implementation::Other(name)
        }
    }

    /// The version as numbers (`3.12.1` → `[3, 12, 1]`); empty for Rust.
    pub fn version_numbers(self) -> Vec<u32> {
        match self {
            Implementation::CPython { version, .. } | Implementation::PyPy { version } => {
                version.split('.').filter_map(|n| n.parse().ok()).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// The variant of a Python row run with `gc.disable()`: the standard loop, the collector off.
pub const GC_OFF: &str = "asyncio_gc_off";

/// What identifies a row across runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowKey {
    pub exercise: String,
    pub variant: String,
    pub implementation: String,
    /// The tokio runtime of a Rust row; `None` for a Python row.
    pub flavor: Option<Flavor>,
    pub tasks: Option<u64>,
    /// `Some(BlockOn)` when `main` ran in `block_on` rather than as a task (the default).
    pub entry: Option<Entry>,
    /// `Some(StartLatency)` for a start-latency run; `None` for throughput (the default).
    pub measure: Option<Measure>,
}

/// Whether a row of `implementation` and `variant` is the chapter's own setting of CPython
/// `major.minor`: the standard loop (which is also the collector on), the GIL.
fn chapter_cpython(implementation: &str, variant: &str, major: u32, minor: u32) -> bool {
    cpython_with_gil(implementation, major, minor) && variant == "asyncio"
}

/// Whether `implementation` is CPython `major.minor` (any patch level) with the GIL.
fn cpython_with_gil(implementation: &str, major: u32, minor: u32) -> bool {
    let kind = Implementation::of(implementation);
    matches!(
        kind,
        Implementation::CPython {
            free_threaded: false,
            ..
        }
    ) && kind.version_numbers().starts_with(&[major, minor])
}

impl RowKey {
    /// The key of a Python row: `exercise`'s `variant` (a loop, `asyncio_gc_off`, a script
    /// variant) under `implementation` (`cpython-3.12.1`), at `tasks`; no flavor, entry or
    /// measure, which are the Rust rows'.
    pub fn python(
        exercise: &str,
        variant: String,
        implementation: String,
        tasks: Option<u64>,
    ) -> Self {
        Self {
            exercise: exercise.into(),
            variant,
            implementation,
            flavor: None,
            tasks,
            entry: None,
            measure: None,
        }
    }

    /// [`Row::is_chapter_cpython`] of the row this key names.
    pub fn is_chapter_cpython(&self, major: u32, minor: u32) -> bool {
        chapter_cpython(&self.implementation, &self.variant, major, minor)
    }

    /// [`Row::is_chapter_cpython_as`] of the row this key names.
    pub fn is_chapter_cpython_as(&self, major: u32, minor: u32, variant: &str) -> bool {
        cpython_with_gil(&self.implementation, major, minor) && self.variant == variant
    }
}

impl RunResults {
    /// Reads and checks a `results.json`; a missing or corrupt file is a usage error.
    pub fn read(path: &Path) -> Result<Self, UsageError> {
        let cannot = |e: std::io::Error| UsageError(format!("cannot read {}: {e}", path.display()));
        // Looked at before it is read: a file no run writes is refused unread.
        let meta = fs::metadata(path).map_err(cannot)?;
        if !meta.is_file() || meta.len() > MAX_RESULTS_BYTES {
            return Err(UsageError(format!(
                "{} is not a results.json of this project: {}",
                path.display(),
                if meta.is_file() {
                    format!(
                        "{} bytes, over the {MAX_RESULTS_BYTES} a run writes at most",
                        meta.len()
                    )
                } else {
                    "not a regular file".to_owned()
                }
            )));
        }
        let text = fs::read_to_string(path).map_err(cannot)?;
        let mut results: Self = serde_json::from_str(&text).map_err(|e| {
            UsageError(format!(
                "{} is not a results.json of this project: {e}",
                path.display()
            ))
        })?;
        if results.schema != SCHEMA {
            return Err(UsageError(format!(
                "{} has schema '{}'; this build reads '{SCHEMA}'",
                path.display(),
                results.schema
            )));
        }
        results.check().map_err(|why| {
            UsageError(format!(
                "{} is not a results.json this project wrote: {why}",
                path.display()
            ))
        })?;
        Ok(results)
    }

    /// Checks every figure a report reads against what a run can produce, and replaces each
    /// row's histogram and summary with the ones its samples give: a stored summary that
    /// disagrees with its samples, a sample no process could take, a count that does not fit,
    /// and a name that is not a plain word are refused, with what is wrong.
    pub fn check(&mut self) -> Result<(), String> {
        let e = &self.environment;
        if !(1..=MAX_CORES).contains(&e.cores) {
            return Err(format!(
                "environment.cores is {}, not 1 to {MAX_CORES}",
                e.cores
            ));
        }
        for (name, load) in [("load_before", e.load_before), ("load_after", e.load_after)] {
            if let Some(l) = load
                && !l
                    .iter()
                    .all(|x| x.is_finite() && (0.0..=MAX_LOAD).contains(x))
            {
                return Err(format!(
                    "environment.{name} is {l:?}, not load averages from 0 to {MAX_LOAD}"
                ));
            }
        }
        for (name, ns) in [
            ("page_fault_ns_before", e.page_fault_ns_before),
            ("page_fault_ns_after", e.page_fault_ns_after),
        ] {
            if let Some(ns) = ns
                && !(1..=MAX_PAGE_FAULT_NS).contains(&ns)
            {
                return Err(format!(
                    "environment.{name} is {ns}, not 1 to {MAX_PAGE_FAULT_NS} ns"
                ));
            }
        }
        plain("run_id", &self.run_id)?;
        plain("environment.git_commit", &e.git_commit)?;
        let f = &self.flags;
        // Words the report prints as they are: one line each, of a size a machine gives.
        let texts = [
            ("started_utc", Some(&self.started_utc)),
            ("finished_utc", Some(&self.finished_utc)),
            ("environment.cpu_model", Some(&e.cpu_model)),
            ("environment.os", Some(&e.os)),
            ("environment.kernel", Some(&e.kernel)),
            ("environment.rustc", Some(&e.rustc)),
            ("environment.tokio", Some(&e.tokio)),
            ("environment.governor_before", e.governor_before.as_ref()),
            ("environment.governor_after", e.governor_after.as_ref()),
            ("flags.python_found", Some(&f.python_found)),
            ("flags.baseline", f.baseline.as_ref()),
        ];
        let lists = f
            .python
            .iter()
            .map(|p| ("flags.python", Some(p)))
            .chain(f.selection.iter().map(|v| ("flags.selection", Some(v))));
        for (field, text) in texts.into_iter().chain(lists) {
            if let Some(text) = text {
                one_line(field, text)?;
            }
        }
        let mut keys = std::collections::HashSet::new();
        if let Some(row) = self.rows.iter().find(|row| !keys.insert(row.key())) {
            return Err(format!(
                "rows hold {} {} twice; a run measures each row once",
                row.exercise, row.variant
            ));
        }
        check_tasks("flags.tasks", f.tasks)?;
        if !(1..=MAX_TIMEOUT_SECS).contains(&f.timeout_secs) {
            return Err(format!(
                "flags.timeout_secs is {}, not 1 to {MAX_TIMEOUT_SECS}",
                f.timeout_secs
            ));
        }
        if let Some(o) = &self.harness_overhead
            && (o.processes == 0 || o.mean_ns > o.max_ns)
        {
            return Err(format!(
                "harness_overhead has a mean of {} ns over {} processes with a max of {} ns",
                o.mean_ns, o.processes, o.max_ns
            ));
        }
        // No process outlives its timeout, nor the histogram's range.
        let longest = f
            .timeout_secs
            .saturating_mul(1_000_000_000)
            .min(timing::HIGHEST_NS);
        let most = f.most_samples();
        for (i, row) in self.rows.iter_mut().enumerate() {
            if row.samples_ns.len() as u64 > most {
                return Err(format!(
                    "rows[{i}] ({} {}) holds {} samples; its flags allow at most {most}",
                    row.exercise,
                    row.variant,
                    row.samples_ns.len()
                ));
            }
            row.check(longest, e.cores)
                .map_err(|why| format!("rows[{i}] ({} {}): {why}", row.exercise, row.variant))?;
        }
        Ok(())
    }

    /// Writes pretty JSON atomically.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        timing::write_atomic(path, text.as_bytes())
    }
}

/// The `--out` folder when none is given, under the workspace root.
pub const DEFAULT_OUT: &str = crate::default_out!();

/// A stored task count is one a run could have asked for: 1 to the binaries' own
/// [`MAX_TASKS`](timing::cli::MAX_TASKS), as `--tasks` is parsed ([`TASKS_RANGE`]).
fn check_tasks(field: &str, tasks: Option<u64>) -> Result<(), String> {
    match tasks {
        Some(n) if !TASKS_RANGE.contains(&n) => Err(format!(
            "{field} is {n}, not 1 to {}",
            timing::cli::MAX_TASKS
        )),
        _ => Ok(()),
    }
}

/// The task counts `--tasks` takes, in xtask as in the binaries (`timing::cli`'s limit).
pub const TASKS_RANGE: std::ops::RangeInclusive<u64> = 1..=timing::cli::MAX_TASKS;

/// Where everything xtask writes lives under `--out` ([`DEFAULT_OUT`] by default): the runs
/// (and the sweeps), `latest`, the baselines and the venvs of the other loops. Every command
/// finds these folders here, and only here.
#[derive(Debug, Clone)]
pub struct Layout {
    pub out: PathBuf,
}

impl Layout {
    /// The layout under `out`, or under the workspace's [`DEFAULT_OUT`] when none is given.
    pub fn at(out: Option<PathBuf>) -> anyhow::Result<Self> {
        let out = match out {
            Some(dir) => dir,
            None => crate::workspace_root()?.join(DEFAULT_OUT),
        };
        Ok(Self { out })
    }

    /// One folder a run (or a sweep), named by its id.
    pub fn runs(&self) -> PathBuf {
        self.out.join("runs")
    }

    /// The link to the newest complete run.
    pub fn latest(&self) -> PathBuf {
        self.out.join("latest")
    }

    /// The saved baselines, one `NAME.json` each.
    pub fn baselines(&self) -> PathBuf {
        self.out.join("baselines")
    }

    pub fn baseline(&self, name: &str) -> PathBuf {
        self.baselines().join(format!("{name}.json"))
    }

    /// One venv per CPython for the other loops, with its logs.
    pub fn venvs(&self) -> PathBuf {
        self.out.join("venvs")
    }

    /// The `results.json` that `RUN` names: a run id, a run folder, a results file, or (none)
    /// the latest run.
    pub fn resolve_run(&self, run: Option<&str>) -> Result<PathBuf, UsageError> {
        let candidate = match run {
            None => self.latest().join("results.json"),
            Some(r) if Path::new(r).is_dir() => Path::new(r).join("results.json"),
            Some(r) if Path::new(r).is_file() => PathBuf::from(r),
            Some(r) => self.runs().join(r).join("results.json"),
        };
        if candidate.is_file() {
            return Ok(candidate);
        }
        Err(UsageError(match run {
            None => format!(
                "no run yet: {} does not exist; run `cargo xtask run-all` first",
                candidate.display()
            ),
            Some(r) => format!(
                "no run '{r}': give a run id from {}, a run folder or a results.json",
                self.runs().display()
            ),
        }))
    }

    /// The baseline file `NAME` names: a saved baseline's name, or a results file's path.
    pub fn resolve_baseline(&self, name: &str) -> Result<PathBuf, UsageError> {
        if Path::new(name).is_file() {
            return Ok(PathBuf::from(name));
        }
        check_baseline_name(name)?;
        let path = self.baseline(name);
        if path.is_file() {
            Ok(path)
        } else {
            Err(UsageError(format!(
                "no baseline '{name}': save one with --save-baseline {name}, or give a results.json path"
            )))
        }
    }

    /// Points `latest` at `run_dir`, replacing the old link in one rename. Anything at
    /// `latest` other than a link the runner made is the user's, and refused.
    pub fn point_latest_at(&self, run_dir: &Path) -> anyhow::Result<()> {
        check_latest_replaceable(&self.out)?;
        let latest = self.latest();
        let tmp = self.out.join(format!(".latest.{}.tmp", std::process::id()));
        let _ = fs::remove_file(&tmp);
        let target = run_dir.strip_prefix(&self.out).unwrap_or(run_dir);
        std::os::unix::fs::symlink(target, &tmp).context("linking latest")?;
        fs::rename(&tmp, &latest).context("replacing latest")
    }

    /// Saves `results` as baseline `name`, creating the baselines folder.
    pub fn save_baseline(&self, name: &str, results: &RunResults) -> anyhow::Result<PathBuf> {
        check_baseline_name(name)?;
        check_baselines_folder(&self.out)?;
        let path = self.baseline(name);
        let dir = self.baselines();
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        results.write(&path)?;
        Ok(path)
    }
}

/// `<out>/latest` is absent, or a link the runner made (to a folder in `<out>/runs`), so a
/// run may replace it. Run before anything runs: a real folder there, or a link elsewhere,
/// is the user's, and replacing it would lose it.
pub fn check_latest_replaceable(out: &Path) -> Result<(), UsageError> {
    let layout = Layout {
        out: out.to_path_buf(),
    };
    let latest = layout.latest();
    let Ok(meta) = fs::symlink_metadata(&latest) else {
        return Ok(()); // nothing there
    };
    let ours = meta.file_type().is_symlink()
        && fs::read_link(&latest).is_ok_and(|target| {
            let target = if target.is_relative() {
                out.join(target)
            } else {
                target
            };
            target.parent() == Some(layout.runs().as_path())
        });
    if ours {
        return Ok(());
    }
    let what = if meta.file_type().is_symlink() {
        "is a link that does not point into runs/"
    } else if meta.is_dir() {
        "is not a link but a real folder"
    } else {
        "is not a link but a file"
    };
    Err(UsageError(format!(
        "{} {what}; the runner only replaces the link it made there: move it away, or give another --out",
        latest.display()
    )))
}

/// `<out>/baselines` is absent or a folder, so a baseline can be saved in it. Run before
/// anything runs when `--save-baseline` is given.
pub fn check_baselines_folder(out: &Path) -> Result<(), UsageError> {
    let dir = Layout {
        out: out.to_path_buf(),
    }
    .baselines();
    match fs::metadata(&dir) {
        Ok(meta) if !meta.is_dir() => Err(UsageError(format!(
            "{} is a file, but baselines are kept in a folder there: move it away, or give another --out",
            dir.display()
        ))),
        _ => Ok(()),
    }
}

/// The longest baseline name: with `.json` well within a file name's 255 bytes.
pub const MAX_BASELINE_NAME: usize = 100;

/// A baseline name: 1 to [`MAX_BASELINE_NAME`] letters, digits, `.`, `_`, `-`.
pub fn check_baseline_name(name: &str) -> Result<(), UsageError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_BASELINE_NAME
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(UsageError(format!(
            "baseline name '{name}' is not valid; use 1 to {MAX_BASELINE_NAME} letters, digits, '.', '_' and '-'"
        )))
    }
}

/// `YYYYMMDDTHHMMSSZ` and RFC 3339 forms of a Unix time, UTC.
pub fn utc(secs: u64) -> (String, String) {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3_600, rem % 3_600 / 60, rem % 60);
    // Days since 1970-01-01 to a civil date (proleptic Gregorian), by 400-year eras.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}{month:02}{day:02}T{h:02}{m:02}{s:02}Z"),
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z"),
    )
}

/// Now, as seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_by_hand() {
        assert_eq!(utc(0).1, "1970-01-01T00:00:00Z");
        // 2000-02-29 is a leap day: 11016 days after the epoch.
        assert_eq!(utc(11_016 * 86_400 + 3_661).1, "2000-02-29T01:01:01Z");
        assert_eq!(utc(1_795_685_400).0, "20261126T093000Z");
    }

    #[test]
    fn histogram_survives_json() {
        let key = RowKey {
            exercise: "ex".into(),
            variant: "v".into(),
            implementation: "rust".into(),
            flavor: Some(Flavor::Current),
            tasks: Some(10),
            entry: None,
            measure: None,
        };
        let row = Row::new(key, vec![1_000, 2_000, 2_000, 50_000], None);
        let back: Row = serde_json::from_str(&serde_json::to_string(&row).unwrap()).unwrap();
        let h = back.histogram.histogram();
        assert_eq!(h.len(), 4);
        assert_eq!(h.count_at(2_000), 2);
        assert_eq!(back.summary.unwrap().count, 4);
    }

    #[test]
    fn every_default_folder_is_under_the_one_default_out() {
        let layout = Layout::at(None).unwrap();
        let root = crate::workspace_root().unwrap();
        assert_eq!(layout.out, root.join("target").join("xtask"));
        for dir in [
            layout.runs(),
            layout.latest(),
            layout.baselines(),
            layout.venvs(),
        ] {
            assert_eq!(
                dir.parent(),
                Some(layout.out.as_path()),
                "{}",
                dir.display()
            );
        }
        let given = Layout::at(Some("/elsewhere".into())).unwrap();
        assert_eq!(given.venvs(), Path::new("/elsewhere/venvs"));
        assert_eq!(
            given.baseline("b"),
            Path::new("/elsewhere/baselines/b.json")
        );
    }

    #[test]
    fn baseline_names_are_plain() {
        assert!(check_baseline_name("main-2026.11").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "sp ace"] {
            assert!(check_baseline_name(bad).is_err(), "{bad}");
        }
    }
}
