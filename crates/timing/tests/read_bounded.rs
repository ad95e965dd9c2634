//! `TimingResult::read` reads a bounded amount: a child's `--json` may be anything, and the
//! runner that reads it must not take its size in memory.

use std::fs;

use timing::testing::scratch_dir;
use timing::{HIGHEST_NS, Recorder, SerializedHistogram, TimingResult, new_histogram};

/// A 1 GiB file (sparse: it costs no disk) is refused by its size, with an error that says so,
/// and the reader's memory does not grow by the file's size.
#[test]
fn a_file_far_larger_than_any_result_is_refused_unread() {
    let dir = scratch_dir("timing-read-huge");
    let path = dir.join("r.json");
    let file = fs::File::create(&path).unwrap();
    file.set_len(1 << 30).unwrap();
    drop(file);

    let err = format!("{:#}", TimingResult::read(&path).unwrap_err());
    assert!(err.contains("1073741824 bytes"), "{err}");
    assert!(err.contains("64 MiB"), "{err}");
    let rss = timing::peak_rss_bytes().unwrap();
    assert!(
        rss < 512 << 20,
        "the file was not read into memory: peak {rss} bytes"
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// A source that is not a regular file is refused before it is opened: a device that never
/// ends (`/dev/zero`), and a fifo with no writer, whose opening would wait for ever.
#[test]
fn a_device_or_a_fifo_is_refused_unopened() {
    let err = format!(
        "{:#}",
        TimingResult::read("/dev/zero".as_ref()).unwrap_err()
    );
    assert!(err.contains("not a regular file"), "{err}");

    let dir = scratch_dir("timing-read-fifo");
    let fifo = dir.join("r.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let err = format!("{:#}", TimingResult::read(&fifo).unwrap_err());
    assert!(err.contains("not a regular file"), "{err}");
    fs::remove_dir_all(&dir).unwrap();
}

/// A file of `/proc` says it holds 0 bytes and is read to its end: the bound is on what is
/// read, not only on what the size says.
#[test]
fn a_file_that_tells_no_size_is_still_read() {
    let err = format!(
        "{:#}",
        TimingResult::read("/proc/self/status".as_ref()).unwrap_err()
    );
    assert!(err.contains("is not a timing result"), "{err}");
}

/// The largest result a run can write still reads: a million repetitions (the most `--repeat`
/// takes) of the longest sample any writer can give (the Python side does not clamp), and a
/// start-latency histogram with every bucket filled.
#[test]
fn the_largest_legitimate_result_reads_back() {
    let dir = scratch_dir("timing-read-largest");
    let path = dir.join("r.json");
    let mut rec = Recorder::new();
    rec.record_ns(HIGHEST_NS);
    let mut latencies = new_histogram();
    let mut value = 1;
    while value <= HIGHEST_NS {
        latencies.record_n(value, u64::MAX / 1_000_000).unwrap();
        value = latencies.next_non_equivalent(value);
    }
    let mut result = TimingResult::new("ex_6_1", "spawn", "rust", Some("current"), Some(1), &rec);
    result.samples_ns = vec![u64::MAX; timing::cli::MAX_REPEAT as usize];
    result.start_latency = Some(SerializedHistogram::of(&latencies));
    result.peak_rss_bytes = Some(u64::MAX);
    result.write(&path).unwrap();
    let size = fs::metadata(&path).unwrap().len();
    assert!(size > 20 << 20, "a large result: {size} bytes");

    let back = TimingResult::read(&path).unwrap();
    assert_eq!(back.samples_ns.len(), 1_000_000);
    assert_eq!(back.start_latency, result.start_latency);
    fs::remove_dir_all(&dir).unwrap();
}
