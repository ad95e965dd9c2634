//! How much memory a run needs, so that a `--tasks` count that cannot fit is refused before it
//! runs rather than aborting on allocation part-way.

use crate::cli::Measure;

/// Bytes each task (future, call, item) holds while a run is in flight, per exercise and
/// variant, as `cargo xtask sweep` measured peak RSS per added task on the current-thread
/// runtime (the README's "What carries over"): a spawned or scheduled task 323–336 bytes, a
/// `join_all` future 96, a future gathered in place 2; a spawned task whose handle waits in a
/// `join_all` or `FuturesUnordered` 343–385 (peak RSS between 10^4 and 10^5 tasks, or 10^5
/// and 10^6 for `join_handles_unconstrained`). A variant not listed holds nothing per
/// task (an eager task that finishes in its first poll, the floors, `try_id`, a bounded queue).
pub const BYTES_PER_TASK: &[(&str, &str, u64)] = &[
    ("ex_6_1", "spawn", 340),
    ("ex_6_1", "bare_spawn", 340),
    ("ex_6_1", "joinset", 340),
    ("ex_6_1", "tracker", 340),
    ("ex_6_2", "join_all", 96),
    ("ex_6_2", "spawn_gather", 340),
    ("ex_6_2", "gather_in_place", 2),
    ("ex_6_2", "join_handles", 390),
    ("ex_6_2", "futures_unordered", 390),
    ("ex_6_2", "join_handles_unconstrained", 390),
    // Every child suspended at once: peak RSS between 10^5 and 10^6 tasks, current-thread.
    ("suspend_once", "scheduled", 540),
    ("suspend_once", "eager", 520),
    ("suspend_once", "bare_spawn", 340),
    ("suspend_once", "tracker", 460),
    ("suspend_once", "joinset", 340),
    ("suspend_once", "futures_unordered", 130),
    ("suspend_once", "polled", 85),
    ("suspend_once", "polled_eager", 165),
];

/// What `--measure start-latency` adds per task: its 8-byte slot and the 16-byte creation
/// instant its future carries.
pub const START_LATENCY_BYTES_PER_TASK: u64 = 24;

/// The estimate is this many halves of the measured figure: a 1.5× margin for allocator slack
/// and growth of the runtime's queues.
const MARGIN_HALVES: u64 = 3;

/// What a run needs whatever its count: runtime, histograms, the binary (peak RSS at 10³ tasks
/// is under 4 MiB).
pub const FIXED_BYTES: u64 = 64 << 20;

/// Estimated bytes per task of `variant` of `exercise`, margin included; 0 when nothing is held
/// per task.
///
/// ```
/// use timing::cli::Measure;
/// assert_eq!(timing::memory::bytes_per_task("ex_6_1", "spawn", Measure::Throughput), 510);
/// assert_eq!(timing::memory::bytes_per_task("ex_6_1", "eager", Measure::Throughput), 0);
/// ```
pub fn bytes_per_task(exercise: &str, variant: &str, measure: Measure) -> u64 {
    let held = BYTES_PER_TASK
        .iter()
        .find(|(e, v, _)| *e == exercise && *v == variant)
        .map_or(0, |(_, _, bytes)| *bytes);
    let latency = match measure {
        Measure::StartLatency => START_LATENCY_BYTES_PER_TASK,
        Measure::Throughput => 0,
    };
    (held + latency) * MARGIN_HALVES / 2
}

/// Estimated bytes a run of `tasks` tasks at `per_task` bytes each needs.
pub fn needed_bytes(per_task: u64, tasks: u64) -> u64 {
    FIXED_BYTES.saturating_add(per_task.saturating_mul(tasks))
}

/// The most tasks at `per_task` bytes each that fit in `available` bytes.
pub fn largest_fitting(per_task: u64, available: u64) -> u64 {
    available.saturating_sub(FIXED_BYTES) / per_task.max(1)
}

/// Why `tasks` tasks of `variant` of `exercise` cannot run in `available` bytes (how much they
/// need, and the largest count that fits), or `None` when they fit or hold nothing per task.
pub fn misfit(
    exercise: &str,
    variant: &str,
    measure: Measure,
    tasks: u64,
    available: u64,
) -> Option<String> {
    let per_task = bytes_per_task(exercise, variant, measure);
    let needed = needed_bytes(per_task, tasks);
    if per_task == 0 || needed <= available {
        return None;
    }
    let gib = |bytes: u64| bytes as f64 / f64::from(1 << 30);
    Some(format!(
        "--tasks {tasks} needs about {:.1} GiB with --variant {variant} (about {per_task} bytes \
         a task, margin included), more than the {:.1} GiB available (MemAvailable); \
         the largest count that fits is {}",
        gib(needed),
        gib(available),
        largest_fitting(per_task, available)
    ))
}

/// The machine's available memory (`MemAvailable` in `/proc/meminfo`), in bytes; `None` where
/// it cannot be read, and then no count is refused.
pub fn available_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_memory_is_read_on_linux() {
        assert!(available_bytes().is_some_and(|b| b > 0));
    }

    #[test]
    fn largest_fitting_count_fits_and_one_more_does_not() {
        let available = 8 << 30;
        let per_task = bytes_per_task("ex_6_2", "spawn_gather", Measure::StartLatency);
        let n = largest_fitting(per_task, available);
        assert!(needed_bytes(per_task, n) <= available);
        assert!(needed_bytes(per_task, n + 1) > available);
    }
}
