//! The Targets section: issue 24's targets for the group polled by its own scope
//! (`taskgroup::polled::scope`) and for the scheduled group, one sentence each, right after the
//! Answers and on the terminal after them.
//!
//! Each target is a ceiling on a cost read off this run: a row's time a task over another
//! row's (the inverse of [`super::speedup`], so of the same figure the tables give), or a
//! row's own time a task ([`super::per_task_ns`]). Either comes with its 95% interval, and
//! [`Verdict::at_most`] says whether the whole interval is under the ceiling.

use super::label::label;
use crate::format::{fmt_count, fmt_ns};
use crate::results::{Row, RunResults};

use super::answers::{self, Verdict, Who, times_threshold};
use super::figures::{load_warnings, per_task_cpu, per_task_interval, per_task_ns, speedup, times};

/// What a target holds a row's time a task to.
#[derive(Debug, Clone, Copy)]
enum Ceiling {
    /// At most this many times the time a task of the exercise's `reference` variant.
    Times(f64, &'static str),
    /// At most this many nanoseconds a task. The rows time their work in the process (the
    /// span the Python original times) in wall time; on the current-thread runtime that span
    /// runs on one thread, so its wall time is at least its CPU time.
    Nanos(f64),
}

/// One of issue 24's targets: `subject` of `exercise`, on the current-thread runtime, at
/// `tasks` (`None`: whatever count the run used), under `ceiling`.
struct Target {
    says: &'static str,
    exercise: &'static str,
    tasks: Option<u64>,
    subject: &'static str,
    ceiling: Ceiling,
}

const TARGETS: [Target; 4] = [
    Target {
        says: "Polled group at most 0.35× TaskTracker's time a task (suspend_once, 10^6 tasks)",
        exercise: "suspend_once",
        tasks: Some(1_000_000),
        subject: "polled",
        ceiling: Ceiling::Times(0.35, "tracker"),
    },
    Target {
        says: "Polled group at most 100 ns a task in CPU time (suspend_once, 10^5 tasks)",
        exercise: "suspend_once",
        tasks: Some(100_000),
        subject: "polled",
        ceiling: Ceiling::Nanos(100.0),
    },
    Target {
        says: "Polled group with eager start within 1.25× of the eager group's time a task (ex_6_1)",
        exercise: "ex_6_1",
        tasks: None,
        subject: "polled_eager",
        ceiling: Ceiling::Times(1.25, "eager"),
    },
    Target {
        says: "Scheduled group at most 1.1× TaskTracker's time a task (suspend_once, 10^6 tasks)",
        exercise: "suspend_once",
        tasks: Some(1_000_000),
        subject: "scheduled",
        ceiling: Ceiling::Times(1.1, "tracker"),
    },
];

/// The Targets, one sentence each, when the run has an exercise they read; none otherwise.
pub fn targets(r: &RunResults) -> Vec<String> {
    let in_run = |t: &Target| r.rows.iter().any(|row| row.exercise == t.exercise);
    if !TARGETS.iter().any(in_run) {
        return Vec::new();
    }
    TARGETS.iter().map(|t| target(r, t)).collect()
}

/// A target: what it asks, the figure with its interval, and the verdict the interval gives;
/// or why it is not measured.
fn target(r: &RunResults, t: &Target) -> String {
    let said = row(r, t, t.subject).and_then(|subject| match t.ceiling {
        Ceiling::Times(at_most, reference) => ratio(subject, row(r, t, reference)?, at_most),
        Ceiling::Nanos(at_most) => nanos(r, subject, at_most),
    });
    match said {
        Ok(said) => format!("{}: {said}.", t.says),
        Err(why) => format!("{}: not measured: {why}.", t.says),
    }
}

/// `subject`'s time a task over `reference`'s, under `at_most`.
fn ratio(subject: &Row, reference: &Row, at_most: f64) -> Result<String, String> {
    let s = speedup(subject, reference).ok_or("too few samples")?;
    // The subject's time over the reference's: the speedup upside down.
    let interval = s.interval.map(|(low, high)| (1.0 / high, 1.0 / low));
    let v = Verdict::at_most(interval, at_most);
    Ok(format!(
        "{} takes {}{} the time a task of {}: {}",
        label(subject),
        times(1.0 / s.point),
        bracket(interval, times),
        label(reference),
        verdict(v, interval.is_some(), &times_threshold(at_most))
    ))
}

/// `subject`'s time a task, under `at_most` ns of CPU time. Where its processes gave the CPU
/// time of each repetition (`cpu_samples_ns`), the verdict follows that interval: the CPU time
/// over a repetition holds the span's, and is not stretched by other load as wall time is.
/// Otherwise, the span's wall time, on the runtime's one thread, is at least its CPU time, so a
/// span under the ceiling meets it. One over it fails it where the machine was quiet, or where
/// the processes' CPU time shows the span used more than the ceiling ([`cpu_floor`]); on a busy
/// machine the span's wall time may be time spent waiting for a core, and the verdict is
/// otherwise unclear.
fn nanos(r: &RunResults, subject: &Row, at_most: f64) -> Result<String, String> {
    let ns = per_task_ns(subject).ok_or("no samples")?;
    let interval = per_task_interval(subject);
    if let Some((cpu, cpu_interval)) = per_task_cpu(subject) {
        return Ok(format!(
            "{} takes {}{} a task of CPU time, user and system, over each repetition of its body (its timed span and the body's prints; wall time in the span {}{}): {}",
            label(subject),
            fmt_ns(cpu),
            bracket(cpu_interval, fmt_ns),
            fmt_ns(ns),
            bracket(interval, fmt_ns),
            verdict(
                Verdict::at_most(cpu_interval, at_most),
                cpu_interval.is_some(),
                &fmt_ns(at_most)
            )
        ));
    }
    let floor = cpu_floor(subject);
    let cpu = floor.map_or(String::new(), |f| {
        format!(
            "; its processes' CPU time, start-up and exit included, less their wall time outside the span: at least {} a task, from means with no interval",
            fmt_ns(f.max(0.0))
        )
    });
    let bound = fmt_ns(at_most);
    let busy = !load_warnings(&r.environment).is_empty();
    let verdict = match Verdict::at_most(interval, at_most) {
        Verdict::No if busy && !floor.is_some_and(|f| f > at_most) => format!(
            "unclear: the whole 95% interval is above {bound}, but the machine was busy, and wall time then holds time spent waiting for a core"
        ),
        v => verdict(v, interval.is_some(), &bound),
    };
    Ok(format!(
        "{} takes {}{} a task in its timed span (wall time on the runtime's one thread, which is at least its CPU time{cpu}): {verdict}",
        label(subject),
        fmt_ns(ns),
        bracket(interval, fmt_ns)
    ))
}

/// The least CPU time a task the row's timed span can have used: its processes' mean CPU time
/// (from start-up to exit) less their mean wall time outside the span, over the task count. A
/// process of one thread uses at most its wall time outside the span; the wall time the runner
/// sees is, if anything, late, which only lowers the floor. `None` where a time is unknown.
fn cpu_floor(row: &Row) -> Option<f64> {
    let (wall, cpu, tasks) = (row.process_ns?, row.process_cpu_ns?, row.tasks?);
    let spans = row.samples_ns.len() as f64;
    let span = row.samples_ns.iter().map(|&ns| ns as f64).sum::<f64>() / spans;
    Some((cpu as f64 - (wall as f64 - span)) / tasks as f64)
}

/// ` [0.28×, 0.30×]`, or nothing without an interval.
pub(super) fn bracket(interval: Option<(f64, f64)>, fmt: impl Fn(f64) -> String) -> String {
    interval.map_or(String::new(), |(low, high)| {
        format!(" [{}, {}]", fmt(low), fmt(high))
    })
}

/// A verdict on a ceiling, in words.
fn verdict(v: Verdict, interval: bool, bound: &str) -> String {
    match v {
        Verdict::Yes => format!("met, the whole 95% interval is below {bound}"),
        Verdict::No => format!("not met, the whole 95% interval is above {bound}"),
        Verdict::Unclear if !interval => "unclear: one run, no interval".into(),
        Verdict::Unclear => format!("unclear, the 95% interval takes in {bound}"),
    }
}

/// `variant` of the target's exercise on the current-thread runtime at the target's count, or
/// why it is not measured: the exercise was not in the run, the row failed, was skipped or
/// absent, or it ran at another count.
fn row<'a>(r: &'a RunResults, t: &Target, variant: &'static str) -> Result<&'a Row, String> {
    let ex = t.exercise;
    if !r.rows.iter().any(|row| row.exercise == ex) {
        return Err(format!("{ex} was not in this run"));
    }
    let who = Who::Rust(variant);
    let name = format!("{ex} {variant} (current)");
    let largest = answers::find(r, ex, who).map_err(|why| format!("{name}: {why}"))?;
    let Some(n) = t.tasks else {
        return Ok(largest);
    };
    r.rows
        .iter()
        .filter(|row| row.exercise == ex && who.names(row) && row.tasks == Some(n))
        .find(|row| per_task_ns(row).is_some())
        .ok_or_else(|| {
            let ran = largest.tasks.map_or("no task count".into(), |m| {
                format!("{} tasks", fmt_count(m))
            });
            format!("{name} ran at {ran}, and the target is at {}", fmt_count(n))
        })
}
