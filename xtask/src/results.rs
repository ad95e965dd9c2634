//! `results.json`: what a run measured, and where runs and baselines live on disk.
//!
//! # Schema `asyncio-in-tokio/results/v1`
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `schema` | string | `"asyncio-in-tokio/results/v1"`; readers refuse any other |
//! | `run_id` | string | the run folder's name, a UTC timestamp like `20261126T101500Z` |
//! | `started_utc`, `finished_utc` | string | RFC 3339 times, UTC |
//! | `environment` | object | `cpu_model`, `cores`, `os`, `kernel`, `rustc`, `tokio`, `git_commit`, `git_dirty`, `load_before`/`load_after` (1, 5, 15-minute load averages, or null), `governor_before`/`governor_after` (CPU frequency governor, or null) |
//! | `flags` | object | the flags of the run: `iterations`, `warmup`, `tasks` (null: each exercise's default), `flavors`, `timeout_secs`, `quick`, `python` (as given), `python_iterations`, `python_found` (the interpreters found, or why none ran), `selection`, `baseline` |
//! | `harness_overhead` | object or null | `processes`, `mean_ns`, `max_ns`: the runner's own time per exercise process, outside the process' lifetime |
//! | `rows` | array | one per (exercise, variant, implementation, flavor, tasks), below |
//!
//! A row: `exercise`, `variant`, `implementation` (`"rust"`), `flavor` (`"current"`, `"multi"`,
//! or null), `tasks` (null where no count applies), `samples_ns` (one per measured process, in
//! order), `histogram` (the merged HDR histogram: `significant_digits`, `highest_ns`, and
//! `buckets`, a list of `[value_ns, count]` for every non-empty bucket), `summary` (the timing
//! crate's summary of the histogram, or null with no samples), `failure` (null, or `reason`
//! and `stderr_tail`), `skipped` (null, or why the row did not run, e.g. `needs 3.12+`),
//! `entry` (null, or `"block_on"` when `main` ran in `block_on` rather than as a task),
//! `measure` (null for throughput, or `"start-latency"`), `peak_rss_bytes` (the highest of the
//! row's processes, or null) and `start_latency` (start-latency rows: the merged histogram of
//! every task's creation-to-first-poll time, in the same form as `histogram`).
//! CPython rows have `variant` `"asyncio"`, `implementation` `"cpython-3.12.1"` and `flavor`
//! null.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
pub use timing::SerializedHistogram;
use timing::Summary;

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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flags {
    pub iterations: u32,
    pub warmup: u32,
    pub tasks: Option<u64>,
    pub flavors: Vec<String>,
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
    pub flavor: Option<String>,
    pub tasks: Option<u64>,
    #[serde(default)]
    pub entry: Option<String>,
    #[serde(default)]
    pub measure: Option<String>,
    pub samples_ns: Vec<u64>,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub reason: String,
    pub stderr_tail: String,
}

impl Row {
    /// A row of `samples` (possibly none) and an optional failure.
    pub fn new(key: RowKey, samples: Vec<u64>, failure: Option<Failure>) -> Self {
        let mut h = timing::new_histogram();
        for &s in &samples {
            h.saturating_record(s);
        }
        let summary = (!samples.is_empty()).then(|| Summary::of(&h, key.tasks));
        Self {
            exercise: key.exercise,
            variant: key.variant,
            implementation: key.implementation,
            flavor: key.flavor,
            tasks: key.tasks,
            entry: key.entry,
            measure: key.measure,
            samples_ns: samples,
            histogram: SerializedHistogram::of(&h),
            summary,
            failure,
            skipped: None,
            peak_rss_bytes: None,
            start_latency: None,
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
            flavor: self.flavor.clone(),
            tasks: self.tasks,
            entry: self.entry.clone(),
            measure: self.measure.clone(),
        }
    }

    /// How the report names the row within its exercise: `eager (current)`, `CPython 3.12.1`.
    pub fn label(&self) -> String {
        match (&self.flavor, self.implementation.strip_prefix("cpython-")) {
            (Some(f), _) => match &self.entry {
                Some(entry) => format!("{} ({f}, from {entry})", self.variant),
                None => format!("{} ({f})", self.variant),
            },
            (None, Some(version)) => format!("CPython {version}"),
            (None, None) => format!("{} ({})", self.variant, self.implementation),
        }
    }

    /// Whether the row is a CPython run.
    pub fn is_python(&self) -> bool {
        self.implementation.starts_with("cpython-")
    }
}

/// What identifies a row across runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowKey {
    pub exercise: String,
    pub variant: String,
    pub implementation: String,
    pub flavor: Option<String>,
    pub tasks: Option<u64>,
    /// `block_on` when `main` ran in `block_on` rather than as a task (the default).
    pub entry: Option<String>,
    /// `start-latency` for a start-latency run; `None` for throughput (the default).
    pub measure: Option<String>,
}

impl RunResults {
    /// Reads and checks a `results.json`; a missing or corrupt file is a usage error.
    pub fn read(path: &Path) -> Result<Self, UsageError> {
        let text = fs::read_to_string(path)
            .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
        let results: Self = serde_json::from_str(&text).map_err(|e| {
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
        Ok(results)
    }

    /// Writes pretty JSON atomically.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        timing::write_atomic(path, text.as_bytes())
    }
}

/// Where runs and baselines live under `--out`.
#[derive(Debug, Clone)]
pub struct Layout {
    pub out: PathBuf,
}

impl Layout {
    pub fn runs(&self) -> PathBuf {
        self.out.join("runs")
    }

    pub fn latest(&self) -> PathBuf {
        self.out.join("latest")
    }

    pub fn baseline(&self, name: &str) -> PathBuf {
        self.out.join("baselines").join(format!("{name}.json"))
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

    /// Points `latest` at `run_dir`, replacing the old link in one rename.
    pub fn point_latest_at(&self, run_dir: &Path) -> anyhow::Result<()> {
        let latest = self.latest();
        let tmp = self.out.join(format!(".latest.{}.tmp", std::process::id()));
        let _ = fs::remove_file(&tmp);
        let target = run_dir.strip_prefix(&self.out).unwrap_or(run_dir);
        std::os::unix::fs::symlink(target, &tmp).context("linking latest")?;
        if latest.is_dir() && !latest.is_symlink() {
            fs::remove_dir_all(&latest).context("replacing the old latest folder")?;
        }
        fs::rename(&tmp, &latest).context("replacing latest")
    }
}

/// A baseline name: letters, digits, `.`, `_`, `-`.
pub fn check_baseline_name(name: &str) -> Result<(), UsageError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(UsageError(format!(
            "baseline name '{name}' is not valid; use letters, digits, '.', '_' and '-'"
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
            flavor: Some("current".into()),
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
    fn baseline_names_are_plain() {
        assert!(check_baseline_name("main-2026.11").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "sp ace"] {
            assert!(check_baseline_name(bad).is_err(), "{bad}");
        }
    }
}
