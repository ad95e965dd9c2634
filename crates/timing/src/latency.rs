//! Start latency: each task's time from its creation to its first poll.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use hdrhistogram::Histogram;

/// One slot per task for its start latency, filled without locks from any thread.
///
/// ```
/// let lat = timing::StartLatencies::new(2);
/// let created = std::time::Instant::now();
/// lat.started(0, created);
/// lat.started(1, created);
/// assert_eq!(lat.histogram().len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct StartLatencies(Arc<[AtomicU64]>);

/// A slot no task has filled.
const UNSET: u64 = u64::MAX;

impl StartLatencies {
    /// Slots for `tasks` tasks.
    pub fn new(tasks: usize) -> Self {
        Self((0..tasks).map(|_| AtomicU64::new(UNSET)).collect())
    }

    /// Task `i`, created at `created`, is being polled for the first time now.
    pub fn started(&self, i: usize, created: Instant) {
        let ns = u64::try_from(created.elapsed().as_nanos()).unwrap_or(UNSET - 1);
        if let Some(slot) = self.0.get(i) {
            slot.store(ns, Ordering::Relaxed);
        }
    }

    /// The latencies of every task that started.
    pub fn histogram(&self) -> Histogram<u64> {
        let mut h = crate::histogram::new_histogram();
        for slot in self.0.iter() {
            let ns = slot.load(Ordering::Relaxed);
            if ns != UNSET {
                h.saturating_record(ns);
            }
        }
        h
    }
}
