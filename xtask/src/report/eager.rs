//! The Eager start section: when eager start helps a task group and when it does not, from this
//! run's own figures: where the children finish in their first step (ex_6_1, the chapter's
//! case) and where each suspends once (suspend_once, which the chapter does not measure). One
//! sentence per exercise, after the Answers, and on the terminal after them.
//!
//! Each figure is the time a task with eager start over the time a task without it (the
//! inverse of [`super::speedup`], as the Targets give theirs), on the Rust group and on the
//! chapter's CPython, with its 95% interval: eager start helps when the whole interval is below
//! 1× ([`Verdict::at_most`]), does not help when the whole interval is above 1×, and is
//! unclear otherwise.

use super::label::label;
use crate::exercises::{self, EagerStart, Exercise};
use crate::results::RunResults;

use super::answers::{Pair, Verdict, Who};
use super::figures::times;
use super::targets::bracket;

/// The CPython the section reads: the chapter's, the first with the eager task factory.
const CPYTHON: (u32, u32) = (3, 12);

/// One sentence per exercise of the run that compares eager start; none otherwise.
pub fn eager_start(r: &RunResults) -> Vec<String> {
    exercises::ALL
        .iter()
        .filter_map(|ex| {
            let e = ex.eager_start?;
            let in_run = r.rows.iter().any(|row| row.exercise == ex.name);
            in_run.then(|| statement(r, ex, e))
        })
        .collect()
}

/// An exercise's sentence: on the Rust group, then on CPython.
fn statement(r: &RunResults, ex: &Exercise, e: EagerStart) -> String {
    let rust = Pair {
        subject: (ex.name, Who::Rust(e.eager)),
        reference: (ex.name, Who::Rust(e.scheduled)),
    };
    let rust = clause(r, rust, "on the Rust group", "eager start");
    let (major, minor) = CPYTHON;
    let cpython = match ex.script_without_eager() {
        Some(without) => {
            let pair = Pair {
                subject: (ex.name, Who::Python(major, minor)),
                reference: (ex.name, Who::PythonScript(major, minor, without)),
            };
            clause(r, pair, "on CPython", "the eager task factory")
        }
        None => format!(
            "on CPython: not measured, {}'s script has no variant without the eager task factory",
            ex.name
        ),
    };
    format!("{} ({}): {rust}; {cpython}.", ex.name, e.children)
}

/// `on the Rust group, eager (current) takes 0.41× [0.40×, 0.42×] the time a task of spawn
/// (current), which runs without eager start: eager start helps, the whole 95% interval is
/// below 1×`; a CPython row names itself, so `on CPython` is said only of what is not measured,
/// and why.
fn clause(r: &RunResults, pair: Pair, place: &str, what: &str) -> String {
    let c = pair.compare(r);
    let (Ok(eager), Ok(scheduled), Some(s)) = (&c.subject, &c.reference, c.speedup()) else {
        let missing: Vec<String> = c.missing(pair).iter().map(|m| m.replace('`', "")).collect();
        return format!("{place}: not measured: {}", missing.join("; "));
    };
    // The eager row's time over the scheduled row's: the speedup upside down.
    let interval = s.interval.map(|(low, high)| (1.0 / high, 1.0 / low));
    let verdict = match Verdict::at_most(interval, 1.0) {
        Verdict::Yes => format!("{what} helps, the whole 95% interval is below 1×"),
        Verdict::No => format!("{what} does not help, the whole 95% interval is above 1×"),
        Verdict::Unclear if interval.is_none() => {
            format!("unclear whether {what} helps: one run, no interval")
        }
        Verdict::Unclear => format!("unclear whether {what} helps, the 95% interval takes in 1×"),
    };
    let place = if eager.is_python() {
        String::new()
    } else {
        format!("{place}, ")
    };
    format!(
        "{place}{} takes {}{} the time a task of {}, which runs without {what}: {verdict}",
        label(eager),
        times(1.0 / s.point),
        bracket(interval, times),
        label(scheduled)
    )
}
