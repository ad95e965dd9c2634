//! How much memory a run needs, so that a `--tasks` count that cannot fit is refused before it
//! runs rather than aborting on allocation part-way.

/// What `--measure start-latency` adds per task: its 8-byte slot and the 16-byte creation
/// instant its future carries.
pub const START_LATENCY_BYTES_PER_TASK: u64 = 24;

/// The estimate is this many halves of the measured figure: a 1.5× margin for allocator slack
/// and growth of the runtime's queues.
const MARGIN_HALVES: u64 = 3;

/// What a run needs whatever its count: runtime, histograms, the binary (peak RSS at 10³ tasks
/// is under 4 MiB).
pub const FIXED_BYTES: u64 = 64 << 20;

/// Estimated bytes per task of `variant` of `exercise`, margin included: what the catalogue
/// says a task holds (`catalog::Variant::bytes_per_task`, as `cargo xtask sweep` measured
/// it), plus what `--measure start-latency` adds (`start_latency`); 0 when nothing is held
/// per task.
///
/// ```
/// assert_eq!(timing::memory::bytes_per_task("ex_6_1", "spawn", false), 510);
/// assert_eq!(timing::memory::bytes_per_task("ex_6_1", "eager", false), 0);
/// ```
pub fn bytes_per_task(exercise: &str, variant: &str, start_latency: bool) -> u64 {
    let held = catalog::bytes_per_task(exercise, variant).unwrap_or(0);
    let latency = if start_latency {
        START_LATENCY_BYTES_PER_TASK
    } else {
        0
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
    start_latency: bool,
    tasks: u64,
    available: u64,
) -> Option<String> {
    let per_task = bytes_per_task(exercise, variant, start_latency);
    let needed = needed_bytes(per_task, tasks);
    if per_task == 0 || needed <= available {
        return None;
    }
    let gib = |bytes: u64| bytes as f64 / f64::from(1 << 30);
    let measure = if start_latency {
        " --measure start-latency"
    } else {
        ""
    };
    Some(format!(
        "--tasks {tasks} needs about {:.1} GiB with --variant {variant}{measure} (about \
         {per_task} bytes a task, margin included), more than the {:.1} GiB available \
         (MemAvailable); the largest count that fits is {}",
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
        let per_task = bytes_per_task("ex_6_2", "spawn_gather", true);
        let n = largest_fitting(per_task, available);
        assert!(needed_bytes(per_task, n) <= available);
        assert!(needed_bytes(per_task, n + 1) > available);
    }
}
