//! The JSON result an exercise writes for the harness (`--json PATH`).

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::{Recorder, Summary};

/// The `schema` field of every result this version writes.
pub const SCHEMA: &str = "asyncio-in-tokio/timing/v1";

/// One process' timing result: who ran what, the raw samples and their summary.
///
/// ```
/// let mut rec = timing::Recorder::new();
/// rec.record_ns(2_000);
/// let r = timing::TimingResult::new("ex_6_1", "eager", "rust", Some("current"), Some(1_000), &rec);
/// let json = serde_json::to_string(&r).unwrap();
/// let back: timing::TimingResult = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, r);
/// assert_eq!(back.summary.per_item_ns, Some(2.0));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingResult {
    pub schema: String,
    pub exercise: String,
    pub variant: String,
    pub implementation: String,
    pub flavor: Option<String>,
    pub tasks: Option<u64>,
    pub samples_ns: Vec<u64>,
    pub summary: Summary,
    /// The process' peak resident memory when it wrote the result, where the OS tells it.
    #[serde(default)]
    pub peak_rss_bytes: Option<u64>,
    /// With `--measure start-latency`: every task's time from creation to first poll.
    #[serde(default)]
    pub start_latency: Option<SerializedHistogram>,
}

/// An HDR histogram as JSON: every non-empty bucket as `[value_ns, count]`.
///
/// ```
/// let mut h = timing::new_histogram();
/// h.record_n(1_000, 3).unwrap();
/// let back = timing::SerializedHistogram::of(&h).histogram();
/// assert_eq!(back.count_at(1_000), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SerializedHistogram {
    pub significant_digits: u8,
    pub highest_ns: u64,
    pub buckets: Vec<(u64, u64)>,
}

impl SerializedHistogram {
    pub fn of(h: &Histogram<u64>) -> Self {
        Self {
            significant_digits: h.sigfig(),
            highest_ns: h.high(),
            buckets: h
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
        }
    }

    /// The histogram back, with the project's bounds.
    pub fn histogram(&self) -> Histogram<u64> {
        let mut h = crate::new_histogram();
        for &(value, count) in &self.buckets {
            h.saturating_record_n(value, count);
        }
        h
    }
}

/// The peak resident memory of this process so far (`VmHWM`), in bytes, on Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let kb = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    kb.trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .ok()
        .map(|kb| kb * 1024)
}

impl TimingResult {
    /// A result holding every sample of `recorder`.
    pub fn new(
        exercise: &str,
        variant: &str,
        implementation: &str,
        flavor: Option<&str>,
        tasks: Option<u64>,
        recorder: &Recorder,
    ) -> Self {
        Self {
            schema: SCHEMA.to_owned(),
            exercise: exercise.to_owned(),
            variant: variant.to_owned(),
            implementation: implementation.to_owned(),
            flavor: flavor.map(str::to_owned),
            tasks,
            samples_ns: recorder.samples().to_vec(),
            summary: recorder.summary(tasks),
            peak_rss_bytes: None,
            start_latency: None,
        }
    }

    /// Reads a result and checks its schema.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let result: Self = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a timing result", path.display()))?;
        anyhow::ensure!(
            result.schema == SCHEMA,
            "{} has schema '{}', this build reads '{SCHEMA}'",
            path.display(),
            result.schema
        );
        Ok(result)
    }

    /// Writes the result as pretty JSON, atomically: see [`write_atomic`].
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        write_atomic(path, text.as_bytes())
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a reader
/// sees the old file or the new one, never half of one, and a failure leaves the old file as it was.
/// Whatever is at `path` must be a regular file (or nothing): a device node, a fifo or a folder is
/// left alone and the write fails.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("timing-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("out.json");
/// timing::write_atomic(&path, b"{}").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"{}");
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        // The rename would replace a device node or a fifo as readily as a file.
        if let Ok(meta) = fs::metadata(path)
            && !meta.is_file()
        {
            return Err(std::io::Error::other("it exists and is not a regular file"));
        }
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("timing-test-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn written_result_reads_back_with_every_sample() {
        let dir = scratch("roundtrip");
        let mut rec = Recorder::new();
        for ns in [1_000, 2_000, 3_000] {
            rec.record_ns(ns);
        }
        let r = TimingResult::new("ex_6_3", "try_id", "rust", Some("multi"), Some(10), &rec);
        let path = dir.join("r.json");
        r.write(&path).unwrap();
        let back = TimingResult::read(&path).unwrap();
        assert_eq!(back.samples_ns, vec![1_000, 2_000, 3_000]);
        assert_eq!(back.summary.count, 3);
        assert_eq!(back.flavor.as_deref(), Some("multi"));
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn peak_rss_is_read_on_linux() {
        let rss = peak_rss_bytes().unwrap();
        assert!(rss > 1 << 20, "a test process holds more than 1 MiB: {rss}");
    }

    #[test]
    fn foreign_schema_is_refused() {
        let dir = scratch("schema");
        let path = dir.join("r.json");
        let mut r = TimingResult::new("ex_6_1", "eager", "rust", None, None, &Recorder::new());
        r.schema = "something/else".into();
        r.write(&path).unwrap();
        let err = TimingResult::read(&path).unwrap_err().to_string();
        assert!(err.contains("something/else"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failed_write_keeps_the_old_file() {
        let dir = scratch("keep");
        let path = dir.join("r.json");
        fs::write(&path, "old").unwrap();
        // A folder where the temporary file would go makes the write fail part-way.
        let blocker = dir.join(format!(".r.json.{}.tmp", std::process::id()));
        fs::create_dir(&blocker).unwrap();
        assert!(write_atomic(&path, b"new").is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn write_leaves_a_fifo_at_the_path_alone() {
        use std::os::unix::fs::FileTypeExt;
        let dir = scratch("fifo");
        let path = dir.join("r.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        assert!(write_atomic(&path, b"new").is_err());
        assert!(fs::metadata(&path).unwrap().file_type().is_fifo());
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
