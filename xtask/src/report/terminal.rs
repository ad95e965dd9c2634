//! The closing summary printed to the terminal: one line per exercise.

use std::fmt::Write;

use crate::exercises;
use crate::format::fmt_ns;
use crate::results::{Row, RunResults};

use super::{per_task_mean, per_task_ratio, times};

/// One line per exercise: its fastest implementation and its time a run; the next and how many
/// times slower it is, or "about the same" when the 95% interval of their ratio takes in 1×; and,
/// when the fastest is not CPython, how many times slower the fastest CPython row is. The full
/// ranking is in the report's tables.
pub fn terminal_summary(r: &RunResults) -> String {
    let mut out = String::new();
    for ex in exercises::ALL {
        let mut rows: Vec<&Row> = r
            .rows
            .iter()
            // Implementations only: not the floor (a bound) nor the start-latency runs.
            .filter(|row| {
                row.exercise == ex.name
                    && row.summary.is_some()
                    && row.variant != "floor"
                    && row.measure.is_none()
            })
            .collect();
        rows.sort_by(|a, b| per_task(a).total_cmp(&per_task(b)));
        let Some((&fastest, rest)) = rows.split_first() else {
            continue;
        };
        let _ = write!(
            out,
            "{}: {} {}",
            ex.name,
            fastest.label(),
            match fastest.tasks {
                Some(_) => format!("{} a task", fmt_ns(per_task(fastest))),
                None => format!("{} a run", fmt_ns(per_task(fastest))),
            }
        );
        if let Some(&next) = rest.first() {
            let _ = match slower(next, fastest) {
                None => write!(out, ", about the same as {}", next.label()),
                Some(x) => write!(out, "; next {} {} slower", next.label(), times(x)),
            };
        }
        let python = rest.iter().skip(1).find(|row| row.is_python());
        if let (false, Some(&py)) = (fastest.is_python(), python) {
            let _ = match slower(py, fastest) {
                Some(x) => write!(out, "; {} {} slower", py.label(), times(x)),
                None => write!(out, "; {} about the same", py.label()),
            };
        }
        out.push('\n');
    }
    out
}

/// How many times slower `row` is than `fastest`, or `None` for "about the same": the 95%
/// interval of the ratio takes in 1×, or the two are within 2% (a difference no reader acts on,
/// however tight the interval of two sleeps), or with fewer than two samples a side the means
/// are within 2%.
fn slower(row: &Row, fastest: &Row) -> Option<f64> {
    const SAME: f64 = 1.02;
    match per_task_ratio(row, fastest) {
        Some(q) if q.low <= 1.0 || q.point < SAME => None,
        Some(q) => Some(q.point),
        None => Some(per_task(row) / per_task(fastest)).filter(|&x| x >= SAME),
    }
}

/// What the summary compares: the mean per task (per run where no count applies), so a row
/// held to fewer tasks is not taken for a faster one.
fn per_task(row: &Row) -> f64 {
    per_task_mean(row).unwrap_or(f64::MAX)
}
