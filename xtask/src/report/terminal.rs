//! The closing summary printed to the terminal: a line per exercise without a task count, then
//! the report's Answers, Eager start and Targets, word for word.

use crate::exercises;
use crate::results::RunResults;

use super::{answers, eager, targets};

/// For each exercise of the run that has no task count (ex_6_4 and the sleeps of chapters 2
/// and 4), its tokio counterpart's time a run against the same fixed references the Answers
/// use (CPython 3.12 on asyncio, the fastest Python measured, the Rust peer), "about the same"
/// where the 95% interval takes in 1× or the two are within 2%; then the Answers, Eager start
/// and the Targets, one a line, as the report's first sections give them. The full tables are in the
/// report.
pub fn terminal_summary(r: &RunResults) -> String {
    let mut out = String::new();
    for ex in exercises::ALL {
        if ex.default_tasks.is_none() && r.rows.iter().any(|row| row.exercise == ex.name) {
            out.push_str(&answers::exercise_answer(r, ex));
            out.push('\n');
        }
    }
    let sections = [
        answers::answers(r),
        eager::eager_start(r),
        targets::targets(r),
    ];
    for answer in sections.into_iter().flatten() {
        out.push_str(&answer);
        out.push('\n');
    }
    out
}
