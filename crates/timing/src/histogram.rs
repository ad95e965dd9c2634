//! Recording durations and summarizing them.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest duration a histogram tracks: one hour, in nanoseconds. Longer samples saturate.
pub const HIGHEST_NS: u64 = 3_600_000_000_000;
/// Significant decimal digits the histogram keeps: values are exact to 1 part in 1,000.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// A duration in whole nanoseconds, saturating at `u64::MAX` (585 years).
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A new, empty histogram with the bounds every part of the project uses (1 ns … 1 h, 3 digits).
///
/// ```
/// let h = timing::new_histogram();
/// assert_eq!(h.len(), 0);
/// assert_eq!(h.high(), timing::HIGHEST_NS);
/// ```
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_NS, SIGNIFICANT_DIGITS)
        .expect("the bounds are constants that hdrhistogram accepts")
}

/// Records durations, in nanoseconds, into an HDR histogram and keeps the raw samples.
///
/// ```
/// use std::time::Duration;
/// let mut rec = timing::Recorder::new();
/// rec.record(Duration::from_micros(5));
/// let out = rec.time(|| 2 + 2);
/// assert_eq!(out, 4);
/// assert_eq!(rec.samples().len(), 2);
/// assert_eq!(rec.samples()[0], 5_000);
/// ```
#[derive(Debug, Clone)]
pub struct Recorder {
    histogram: Histogram<u64>,
    samples: Vec<u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self {
            histogram: new_histogram(),
            samples: Vec::new(),
        }
    }

    /// Records one duration (saturating at [`HIGHEST_NS`]).
    pub fn record(&mut self, elapsed: Duration) {
        self.record_ns(nanos(elapsed));
    }

    /// Records one duration given in nanoseconds (saturating at [`HIGHEST_NS`]).
    pub fn record_ns(&mut self, ns: u64) {
        let ns = ns.min(HIGHEST_NS);
        self.histogram.saturating_record(ns);
        self.samples.push(ns);
    }

    /// Runs `body`, records how long it took, and returns its result.
    pub fn time<R>(&mut self, body: impl FnOnce() -> R) -> R {
        let start = Instant::now();
        let out = body();
        self.record(start.elapsed());
        out
    }

    /// Awaits `body`, records how long it took (from the first poll to completion), and returns its output.
    pub async fn time_async<F: Future>(&mut self, body: F) -> F::Output {
        let start = Instant::now();
        let out = body.await;
        self.record(start.elapsed());
        out
    }

    /// The raw samples, in nanoseconds, in the order they were recorded.
    pub fn samples(&self) -> &[u64] {
        &self.samples
    }

    /// The histogram of every sample recorded so far.
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.histogram
    }

    /// Summary of the samples, with `work` items done by each sampled run (see [`Summary::of`]).
    pub fn summary(&self, work: Option<u64>) -> Summary {
        Summary::of(&self.samples, work)
    }
}

/// Count, percentiles, mean and spread of the samples, all in nanoseconds.
///
/// Every figure comes from the samples themselves, not from the histogram: min and max are
/// samples, percentiles are the nearest-rank sample (the smallest sample with at least that
/// share of the samples at or below it), `mean_ns` is their mean and `stdev_ns` their
/// population standard deviation. (The histogram rounds to [`SIGNIFICANT_DIGITS`]: a sleep of
/// 3 s would read "± 0 ns" and a min could fall below the smallest sample.) The histogram is
/// for plots and for the latency percentiles of millions of values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub min_ns: u64,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub max_ns: u64,
    pub mean_ns: f64,
    pub stdev_ns: f64,
    /// Items of work one sampled run did (tasks, calls), when a count applies.
    pub work: Option<u64>,
    /// `mean_ns / work`: the cost of one item.
    pub per_item_ns: Option<f64>,
}

impl Summary {
    /// Summarizes `samples`; `work` is how many items each sample covered.
    ///
    /// ```
    /// let samples: Vec<u64> = (1..=100u64).map(|ms| ms * 1_000_000).collect();
    /// let s = timing::Summary::of(&samples, Some(1_000));
    /// assert_eq!((s.count, s.min_ns, s.p50_ns, s.max_ns), (100, 1_000_000, 50_000_000, 100_000_000));
    /// assert_eq!(s.per_item_ns, Some(50_500.0));
    /// ```
    pub fn of(samples: &[u64], work: Option<u64>) -> Self {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        // Nearest rank: the ceil(q·n)-th smallest sample.
        let at = |q: f64| {
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n.max(1));
            sorted.get(rank - 1).copied().unwrap_or(0)
        };
        let mean_ns = if n == 0 {
            0.0
        } else {
            sorted.iter().map(|&s| s as f64).sum::<f64>() / n as f64
        };
        let stdev_ns = if n == 0 {
            0.0
        } else {
            (sorted
                .iter()
                .map(|&s| (s as f64 - mean_ns).powi(2))
                .sum::<f64>()
                / n as f64)
                .sqrt()
        };
        Self {
            count: n as u64,
            min_ns: sorted.first().copied().unwrap_or(0),
            p50_ns: at(0.50),
            p90_ns: at(0.90),
            p99_ns: at(0.99),
            p999_ns: at(0.999),
            max_ns: sorted.last().copied().unwrap_or(0),
            mean_ns,
            stdev_ns,
            work,
            per_item_ns: work.filter(|&w| w > 0).map(|w| mean_ns / w as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within(actual: u64, expected: u64) -> bool {
        (actual as f64 - expected as f64).abs() <= expected as f64 * 1e-3
    }

    #[test]
    fn one_to_hundred_ms_has_textbook_percentiles() {
        let mut rec = Recorder::new();
        for ms in 1..=100 {
            rec.record(Duration::from_millis(ms));
        }
        let s = rec.summary(None);
        assert_eq!(s.count, 100);
        assert!(within(s.min_ns, 1_000_000), "min {}", s.min_ns);
        assert!(within(s.p50_ns, 50_000_000), "p50 {}", s.p50_ns);
        assert!(within(s.p90_ns, 90_000_000), "p90 {}", s.p90_ns);
        assert!(within(s.p99_ns, 99_000_000), "p99 {}", s.p99_ns);
        assert!(within(s.p999_ns, 100_000_000), "p99.9 {}", s.p999_ns);
        assert!(within(s.max_ns, 100_000_000), "max {}", s.max_ns);
        assert!(
            (s.mean_ns - 50.5e6).abs() < 50.5e6 * 1e-3,
            "mean {}",
            s.mean_ns
        );
        // Population stdev of 1..=100 is sqrt((100^2 - 1) / 12) = 28.866 ms.
        assert!(
            (s.stdev_ns - 28.866e6).abs() < 28.866e6 * 2e-3,
            "stdev {}",
            s.stdev_ns
        );
        assert_eq!(s.per_item_ns, None);
    }

    #[test]
    fn the_summary_is_the_samples_own_statistics_not_the_histograms() {
        // Three sleeps of about 3 s that differ below the histogram's 3 significant digits:
        // from the histogram they read "3.00 s ± 0 ns" with a min under the smallest sample.
        let samples = [3_000_412_345, 3_001_234_567, 3_000_987_654];
        let mut rec = Recorder::new();
        for &ns in &samples {
            rec.record_ns(ns);
        }
        let s = rec.summary(None);
        assert_eq!(s.min_ns, 3_000_412_345);
        assert_eq!(s.max_ns, 3_001_234_567);
        assert_eq!(s.p50_ns, 3_000_987_654);
        let mean = samples.iter().map(|&x| x as f64).sum::<f64>() / 3.0;
        assert!(
            (s.mean_ns - mean).abs() < 1e-3,
            "{} against {mean}",
            s.mean_ns
        );
        let var = samples
            .iter()
            .map(|&x| (x as f64 - mean).powi(2))
            .sum::<f64>()
            / 3.0;
        assert!((s.stdev_ns - var.sqrt()).abs() < 1e-3, "{}", s.stdev_ns);
        assert!(
            s.stdev_ns > 300_000.0,
            "not the histogram's zero: {}",
            s.stdev_ns
        );
        // Nearest rank over 1..=10: p90 is the 9th, p99 and p99.9 the 10th.
        let s = Summary::of(&[10, 2, 3, 4, 5, 6, 7, 8, 9, 1], None);
        assert_eq!((s.p50_ns, s.p90_ns, s.p99_ns, s.p999_ns), (5, 9, 10, 10));
    }

    #[test]
    fn per_item_divides_the_mean_by_the_work() {
        let mut rec = Recorder::new();
        rec.record_ns(3_000_000);
        rec.record_ns(3_000_000);
        let s = rec.summary(Some(1_000_000));
        let per_item = s.per_item_ns.unwrap();
        assert!((per_item - 3.0).abs() < 3.0 * 1e-3, "{per_item}");
        assert_eq!(rec.summary(Some(0)).per_item_ns, None);
    }

    #[test]
    fn empty_summary_is_all_zero() {
        let s = Recorder::new().summary(Some(10));
        assert_eq!((s.count, s.min_ns, s.p50_ns, s.max_ns), (0, 0, 0, 0));
        assert_eq!(s.mean_ns, 0.0);
    }

    #[test]
    fn samples_over_an_hour_saturate() {
        let mut rec = Recorder::new();
        rec.record(Duration::from_secs(7_200));
        assert_eq!(rec.samples(), &[HIGHEST_NS]);
        assert_eq!(rec.histogram().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn time_async_measures_the_awaited_body() {
        let mut rec = Recorder::new();
        // With the clock paused, tokio's sleep returns at once in wall time: this checks that
        // the body's output comes back and exactly one sample is recorded.
        let out = rec
            .time_async(async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                7
            })
            .await;
        assert_eq!(out, 7);
        assert_eq!(rec.samples().len(), 1);
    }
}
