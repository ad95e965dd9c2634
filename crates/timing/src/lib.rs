//! Timing harness shared by every exercise.
//!
//! An exercise measures the same span its Python original measures, records it in nanoseconds
//! into an HDR histogram ([`Recorder`]), and, when the harness passes `--json PATH`, writes a
//! [`TimingResult`]. [`harness::main`] does all of that around an exercise's body, with the
//! common flags of [`cli`].
//!
//! # The JSON result (schema `asyncio-in-tokio/timing/v1`)
//!
//! This is the contract between an exercise, `cargo xtask` and the Python side, which writes
//! the same shape. One object per process:
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `schema` | string | always `"asyncio-in-tokio/timing/v1"`; readers refuse any other |
//! | `exercise` | string | `"ex_6_1"`, … |
//! | `variant` | string | the implementation variant, e.g. `"eager"` |
//! | `implementation` | string | `"rust"`, or `"cpython-3.12.1"` for the Python side |
//! | `flavor` | string or null | tokio runtime, `"current"` or `"multi"`; null for Python |
//! | `tasks` | integer or null | work items per sampled run (tasks, calls); null where no count applies |
//! | `samples_ns` | array of integers | one duration per repetition, in order, nanoseconds |
//! | `cpu_samples_ns` | array of integers (may be absent) | the process' CPU time (user + system, every thread) over each repetition of the exercise's body, which holds its timed span: one per sample, in order; empty where not measured (the Python side) |
//! | `peak_rss_bytes` | integer or null | the process' peak resident memory (Linux `VmHWM`; Python: `ru_maxrss`) |
//! | `start_latency` | object or null | with `--measure start-latency`: a [`SerializedHistogram`] (`significant_digits`, `highest_ns`, `buckets` of `[value_ns, count]`) of every task's time from creation to first poll |
//! | `summary` | object | [`Summary`] of the samples: `count`, `min_ns`, `p50_ns`, `p90_ns`, `p99_ns`, `p999_ns`, `max_ns` (integers), `mean_ns`, `stdev_ns` (numbers), `work` (integer or null), `per_item_ns` (number or null) |
//!
//! The samples are the record; the summary is derived from them (histogram bounds 1 ns … 1 h,
//! 3 significant digits) and kept for readers that do not want to rebuild it.

pub mod cli;
pub mod exercise;
pub mod harness;
pub mod harness_checks;
mod histogram;
mod latency;
mod lines;
pub mod memory;
mod result;
pub mod testing;

pub use exercise::noting_start;
pub use harness::{FailedAfter, enter, enter_local, run_as_task, runtime};
pub use histogram::{HIGHEST_NS, Recorder, SIGNIFICANT_DIGITS, Summary, new_histogram};
pub use latency::StartLatencies;
pub use lines::{
    BROKEN_PIPE_EXIT, Lines, exit_for_stdout_error, exit_on_stdout_error,
    exit_quietly_on_broken_pipe, say,
};
pub use result::{
    MAX_RESULT_BYTES, SCHEMA, SerializedHistogram, TimingResult, peak_rss_bytes, write_atomic,
};

/// Seconds as Python's `print(f'{t}')` shows a float, but always in plain decimal notation
/// (Rust's shortest round-trip form, never an exponent).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(timing::seconds(Duration::from_millis(1_250)), "1.25");
/// assert_eq!(timing::seconds(Duration::from_nanos(12_000)), "0.000012");
/// ```
pub fn seconds(elapsed: std::time::Duration) -> String {
    format!("{}", elapsed.as_secs_f64())
}
