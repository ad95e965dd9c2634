//! The JSON result an exercise writes for the harness (`--json PATH`).

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::histogram::{Recorder, Summary};

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
    /// The process' CPU time over each repetition of the body, beside `samples_ns`: the span's
    /// cost on a machine where other load stretches its wall time. Empty where not measured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpu_samples_ns: Vec<u64>,
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
        let mut h = crate::histogram::new_histogram();
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
            cpu_samples_ns: Vec::new(),
            summary: recorder.summary(tasks),
            peak_rss_bytes: None,
            start_latency: None,
        }
    }

    /// Reads a result and checks its schema.
    ///
    /// A file over [`MAX_RESULT_BYTES`] is refused by its size, before it is read, and whatever
    /// is not a regular file (a fifo, a device) before it is opened: what a child process left
    /// must not take the reader's memory with it, nor keep the reader waiting.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = read_bounded(path, MAX_RESULT_BYTES)
            .with_context(|| format!("reading {}", path.display()))?;
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

/// The largest result file [`TimingResult::read`] takes: 64 MiB. The largest a run can write
/// is under half of it, 28 MB: a million samples (the most `--repeat` takes) at 26 bytes each
/// as pretty JSON even at `u64::MAX`, and a start-latency histogram with every one of its
/// 33,420 buckets filled, 2 MB (the test `the_largest_legitimate_result_reads_back`).
pub const MAX_RESULT_BYTES: u64 = 64 << 20;

/// The text of `path`, which must be a regular file: refused unread when its size is over
/// `limit` bytes, and never read past `limit` bytes (a file of `/proc` tells no size).
///
/// A fifo, a device or a folder is refused before it is opened: opening a fifo waits for a
/// writer that may never come, and a device such as `/dev/zero` never ends.
fn read_bounded(path: &Path, limit: u64) -> anyhow::Result<String> {
    let mib = limit >> 20;
    let meta = fs::metadata(path)?;
    anyhow::ensure!(meta.is_file(), "it is not a regular file");
    let file = fs::File::open(path)?;
    let size = file.metadata()?.len();
    anyhow::ensure!(
        size <= limit,
        "it is {size} bytes, more than the {mib} MiB a timing result can be"
    );
    let mut text = String::new();
    file.take(limit + 1).read_to_string(&mut text)?;
    anyhow::ensure!(
        text.len() as u64 <= limit,
        "it gives more than the {mib} MiB a timing result can be"
    );
    Ok(text)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a reader
/// sees the old file or the new one, never half of one, and a failure leaves the old file as it was.
/// Whatever is at `path` must be a regular file (or nothing): a device node, a fifo or a folder is
/// left alone and the write fails.
///
/// The temporary file gets a name no one can guess and is created only where nothing is (no
/// link is followed), so a link planted in a shared folder cannot redirect the write; see
/// `create_beside`.
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
    write_atomic_with(path, bytes, unguessable_suffixes())
}

/// [`write_atomic`], its temporary file named with the first free one of `suffixes`.
fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    suffixes: impl IntoIterator<Item = u64>,
) -> anyhow::Result<()> {
    let written = (|| {
        let (tmp, mut file) = create_beside(path, "tmp", suffixes)?;
        let moved = (|| {
            file.write_all(bytes)?;
            file.sync_all()?;
            // The rename would replace a device node or a fifo as readily as a file.
            if let Ok(meta) = fs::metadata(path)
                && !meta.is_file()
            {
                return Err(io::Error::other("it exists and is not a regular file"));
            }
            fs::rename(&tmp, path)
        })();
        if moved.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        moved
    })();
    written.with_context(|| format!("writing {}", path.display()))
}

/// How many names [`create_beside`] tries before it gives up: each is taken only where nothing
/// is, and a clash of two unguessable names means someone is filling the folder on purpose.
const NAME_TRIES: usize = 16;

/// Creates a new empty file beside `path`, named `.NAME.SUFFIX.EXT` (NAME: the start of `path`'s
/// file name) after the first of `suffixes` whose name is free, and returns its path and the
/// file, open for writing.
///
/// The file is created exclusively (`O_CREAT | O_EXCL`): where anything is at a name already, a
/// file, a folder or a link (even a dangling one), that name is skipped and nothing is opened
/// through it. Fails with the last clash after [`NAME_TRIES`] taken names, or at once on any
/// other error.
pub(crate) fn create_beside(
    path: &Path,
    ext: &str,
    suffixes: impl IntoIterator<Item = u64>,
) -> io::Result<(PathBuf, fs::File)> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let mut clash = None;
    for suffix in suffixes.into_iter().take(NAME_TRIES) {
        let candidate = path.with_file_name(beside_name(name, suffix, ext));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(file) => return Ok((candidate, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => clash = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(clash.unwrap_or_else(|| io::Error::other("no name to try for a temporary file")))
}

/// `.NAME.SUFFIX.EXT`, NAME cut to its first 64 characters so that a long file name still leaves
/// room (255 bytes) for the rest.
fn beside_name(name: &std::ffi::OsStr, suffix: u64, ext: &str) -> String {
    let name: String = name.to_string_lossy().chars().take(64).collect();
    format!(".{name}.{suffix:016x}.{ext}")
}

/// Suffixes no other process can predict: each hashes a process-wide count, the process id and
/// the time with a hasher keyed from the OS's random source (std's `RandomState`).
pub(crate) fn unguessable_suffixes() -> impl Iterator<Item = u64> {
    use std::hash::{BuildHasher, Hasher, RandomState};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    std::iter::repeat_with(|| {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
        hasher.write_u32(std::process::id());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        hasher.write_u128(now.as_nanos());
        hasher.finish()
    })
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
    fn cpu_times_read_back_beside_their_samples_and_a_file_without_them_reads_as_none() {
        let dir = scratch("cpu");
        let mut rec = Recorder::new();
        rec.record_ns(2_000);
        let mut r = TimingResult::new("ex_6_1", "eager", "rust", Some("current"), Some(1), &rec);
        let path = dir.join("r.json");
        r.write(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("cpu_samples_ns"),
            "left out when none: {text}"
        );
        assert!(TimingResult::read(&path).unwrap().cpu_samples_ns.is_empty());
        r.cpu_samples_ns = vec![1_900];
        r.write(&path).unwrap();
        assert_eq!(TimingResult::read(&path).unwrap().cpu_samples_ns, [1_900]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_process_cpu_clock_only_moves_forward() {
        let before = crate::harness::process_cpu();
        let spun = (0..1_000_000u64).fold(0u64, |a, i| a.wrapping_mul(31).wrapping_add(i));
        std::hint::black_box(spun);
        assert!(crate::harness::process_cpu() >= before);
        assert!(
            before > std::time::Duration::ZERO,
            "a running process has used some CPU"
        );
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
        // Something at every name the write may take makes it fail before it writes.
        let suffixes = [1, 2, 3];
        for suffix in suffixes {
            fs::create_dir(dir.join(beside_name("r.json".as_ref(), suffix, "tmp"))).unwrap();
        }
        let err = write_atomic_with(&path, b"new", suffixes).unwrap_err();
        assert!(format!("{err:#}").contains("exists"), "{err:#}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A link planted at a name the write would take (were names guessable) is skipped, not
    /// followed: the next name is tried, and the linked file keeps its bytes.
    #[test]
    fn a_planted_link_at_a_temporary_name_is_skipped() {
        use std::os::unix::fs::symlink;
        let dir = scratch("planted");
        let victim = dir.join("victim");
        fs::write(&victim, "precious").unwrap();
        let path = dir.join("r.json");
        let planted = dir.join(beside_name("r.json".as_ref(), 7, "tmp"));
        symlink(&victim, &planted).unwrap();
        write_atomic_with(&path, b"new", [7, 8]).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert!(fs::symlink_metadata(&path).unwrap().is_file());
        assert_eq!(fs::read(&path).unwrap(), b"new");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_beside_stay_short_and_differ() {
        let long = "x".repeat(250);
        let name = beside_name(long.as_ref(), u64::MAX, "tmp");
        assert!(name.len() < 100, "{name}");
        let mut seen: Vec<u64> = unguessable_suffixes().take(1_000).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 1_000);
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
