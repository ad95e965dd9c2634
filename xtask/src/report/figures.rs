//! The figures the report's sections share: a row's cost a task with its interval, how many
//! times faster one row is than another, and how such numbers are written in a cell. A leaf of
//! `report/`: every section reads these, and this reads no section.

use crate::results::{Environment, Row};
use crate::stats::{self, Ratio};

/// Significance level of the baseline comparison.
pub const ALPHA: f64 = 0.05;
/// The smallest slowdown the baseline comparison calls a regression.
pub const REGRESSION: f64 = 1.05;

/// The run's load as warnings: the machine was busy before the run, or during it. Empty on a
/// quiet machine (or one whose load was not recorded).
pub(crate) fn load_warnings(e: &Environment) -> Vec<String> {
    let cores = e.cores as f64;
    let mut out = Vec::new();
    if let Some([one, ..]) = e.load_before
        && one > cores / 2.0
    {
        out.push(format!(
            "The machine was busy before the run: 1-minute load average {one:.2} on {} cores.",
            e.cores
        ));
    }
    if let Some([one, ..]) = e.load_after
        && one > cores + 1.0
    {
        out.push(format!(
            "The machine was busy during the run: 1-minute load average {one:.2} after it, on {} cores (the run itself accounts for about 1).",
            e.cores
        ));
    }
    out
}
/// The work a row's time is divided by: its task count, or 1 where no count applies.
pub(crate) fn work(row: &Row) -> f64 {
    row.tasks.map_or(1.0, |n| n as f64)
}

/// [`stats::ratio`] of `a`'s times over `b`'s, per task: rows run at different counts (a
/// variant held to its cap) compare by their cost per task. Same count, or none: the plain ratio.
pub(crate) fn per_task_ratio(a: &Row, b: &Row) -> Option<Ratio> {
    let r = stats::ratio(&a.samples_ns, &b.samples_ns)?;
    let k = work(b) / work(a);
    Some(Ratio {
        point: r.point * k,
        low: r.low * k,
        high: r.high * k,
    })
}

/// A row's cost per task (per run where no count applies): the geometric mean of its times
/// over its task count. The ratio of two rows' figures is [`speedup`]'s point, so a figure read
/// off a chart divides into the figure a table gives. `None` for a row with no samples.
pub(crate) fn per_task_ns(row: &Row) -> Option<f64> {
    per_task_of(row, &row.samples_ns)
}

/// The geometric mean of `samples` (times of `row`'s repetitions) over the row's task count.
fn per_task_of(row: &Row, samples: &[u64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let n = samples.len() as f64;
    let mean_log = samples
        .iter()
        .map(|&ns| (ns.max(1) as f64).ln())
        .sum::<f64>()
        / n;
    Some(mean_log.exp() / work(row))
}

/// [`per_task_ns`] of the row's CPU time (`cpu_samples_ns`), with its 95% interval where it
/// has two or more; `None` for a row without CPU times.
pub(crate) fn per_task_cpu(row: &Row) -> Option<(f64, Option<(f64, f64)>)> {
    let ns = per_task_of(row, &row.cpu_samples_ns)?;
    Some((ns, per_task_interval_of(row, &row.cpu_samples_ns)))
}

/// [`per_task_ns`] with its 95% interval (from the row's own spread), for a chart's whiskers;
/// `None` for the interval with fewer than two samples.
pub(crate) fn per_task_interval(row: &Row) -> Option<(f64, f64)> {
    per_task_interval_of(row, &row.samples_ns)
}

/// The 95% interval of [`per_task_of`] `samples`, from their own spread; `None` with fewer
/// than two.
fn per_task_interval_of(row: &Row, samples: &[u64]) -> Option<(f64, f64)> {
    let ns = per_task_of(row, samples)?;
    let h = stats::relative_half_width(samples)?;
    Some((ns / (1.0 + h), ns * (1.0 + h)))
}

/// How many times faster a row is than its reference, per task, with the 95% interval where
/// both rows ran at least twice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Speedup {
    pub point: f64,
    pub interval: Option<(f64, f64)>,
}

/// Two rows within this factor of each other are about the same, however tight the interval
/// (two sleeps of 3 s differ by less, and no reader acts on it).
const SAME: f64 = 1.02;

impl Speedup {
    /// No winner: the 95% interval takes in 1×, or the two are within 2%.
    pub fn is_tie(self) -> bool {
        let close = self.point < SAME && self.point > 1.0 / SAME;
        close
            || self
                .interval
                .is_some_and(|(low, high)| low <= 1.0 && high >= 1.0)
    }
}

/// The one estimator of every comparison the report prints (the Answers, Claims, each
/// exercise's tables, the charts and the terminal): how many times faster `row` is than
/// `reference`, per task, as the ratio of their geometric means (`per_task_ratio` of the
/// reference over the row) with Welch's 95% interval on the log samples. With one sample on
/// either side, the point alone. `None` when either row has no samples.
pub fn speedup(row: &Row, reference: &Row) -> Option<Speedup> {
    if let Some(r) = per_task_ratio(reference, row) {
        return Some(Speedup {
            point: r.point,
            interval: Some((r.low, r.high)),
        });
    }
    Some(Speedup {
        point: per_task_ns(reference)? / per_task_ns(row)?,
        interval: None,
    })
}

/// A speedup in words, the same string wherever one comparison is printed: `7.26× faster
/// [7.02×, 7.51×]`; below 1×, `413× slower [380×, 450×]` (the interval then in the same
/// terms); with one run on a side, `7.26× faster (one run: no interval)`.
pub fn fmt_speedup(s: Speedup) -> String {
    let (word, interval) = faster_or_slower(s);
    match interval {
        Some((low, high)) => format!(
            "{} {word} [{}, {}]",
            times(point(s)),
            times(low),
            times(high)
        ),
        None => format!("{} {word} (one run: no interval)", times(point(s))),
    }
}

/// [`fmt_speedup`] for a table cell whose header says "speedup": `7.26×` over `[7.02×, 7.51×]`
/// (on one line in Markdown), `413× slower` over its interval.
pub(crate) fn speedup_cell(s: Speedup) -> String {
    let (word, interval) = faster_or_slower(s);
    let point = match word {
        "slower" => format!("{} slower", times(point(s))),
        _ => times(point(s)),
    };
    match interval {
        Some((low, high)) => format!("{point}\n[{}, {}]", times(low), times(high)),
        None => format!("{point}\n(one run)"),
    }
}

/// `"faster"` from 1× up, else `"slower"`, with the interval in the same terms.
fn faster_or_slower(s: Speedup) -> (&'static str, Option<(f64, f64)>) {
    if s.point >= 1.0 {
        ("faster", s.interval)
    } else {
        (
            "slower",
            s.interval.map(|(low, high)| (1.0 / high, 1.0 / low)),
        )
    }
}

/// The figure a speedup is written with: itself from 1× up, its inverse below.
fn point(s: Speedup) -> f64 {
    if s.point >= 1.0 {
        s.point
    } else {
        1.0 / s.point
    }
}

/// A row's name for a table's first column: it does not wrap inside (`eager (current)` stays
/// on one line), since a cut label reads as two rows.
pub fn label_cell(label: &str) -> String {
    label.replace(' ', "\u{a0}")
}

/// A ratio with three significant digits (two past the point at least): `230×`, `2.50×`,
/// `0.00233×`.
pub fn times(x: f64) -> String {
    // The thresholds are where rounding moves up a digit: 9.996 is `10.0×`, not `10.00×`.
    if x >= 99.95 {
        format!("{x:.0}×")
    } else if x >= 9.995 {
        format!("{x:.1}×")
    } else if x >= 0.1 || x <= 0.0 {
        format!("{x:.2}×")
    } else {
        let digits = (2.0 - x.log10().floor()) as usize;
        format!("{x:.digits$}×")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::RowKey;

    fn row(variant: &str, tasks: u64, ns: u64) -> Row {
        let key = RowKey {
            exercise: "ex_6_2".into(),
            variant: variant.into(),
            implementation: "rust".into(),
            flavor: Some(timing::cli::Flavor::Current),
            tasks: Some(tasks),
            entry: None,
            measure: None,
        };
        Row::new(key, vec![ns, ns + 1, ns - 1], None)
    }

    #[test]
    fn rows_at_different_counts_compare_per_task() {
        // 1 s for 10^6 tasks against 0.5 s for 5·10^4: the capped row is 10× dearer a task.
        let reference = row("spawn_gather", 1_000_000, 1_000_000_000);
        let capped = row("join_handles", 50_000, 500_000_000);
        let speedup = per_task_ratio(&reference, &capped).unwrap();
        assert!((speedup.point - 0.1).abs() < 1e-3, "{speedup:?}");
        assert!(speedup.low < 0.1 && speedup.high > 0.1, "{speedup:?}");
        // At the same count: the plain ratio of the times.
        let same = row("join_all", 1_000_000, 250_000_000);
        assert!((per_task_ratio(&reference, &same).unwrap().point - 4.0).abs() < 1e-3);
    }

    #[test]
    fn ratios_keep_three_significant_digits() {
        assert_eq!(times(652.7), "653×");
        assert_eq!(times(87.34), "87.3×");
        assert_eq!(times(2.5), "2.50×");
        assert_eq!(times(9.998), "10.0×");
        assert_eq!(times(99.97), "100×");
        assert_eq!(times(0.52), "0.52×");
        assert_eq!(times(0.0233), "0.0233×");
        assert_eq!(times(0.00233), "0.00233×");
    }
}
