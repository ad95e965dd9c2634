//! The Answers section: the chapter's two questions and this project's, one sentence each, at
//! the top of the report and as the terminal's last lines.
//!
//! 1. How many times faster an eager `TaskGroup` (ex_6_1) is than `gather` (ex_6_2) on
//!    CPython 3.12 (the book: nearly 6×; its test asks for more than 4×).
//! 2. How many times faster `current_task` (ex_6_3) is on CPython 3.12 than on 3.10 (the book:
//!    about 6×; at least 4×).
//! 3. Per exercise with a task count: what its tokio counterpart ([`counterpart`]) costs a task
//!    against CPython 3.12 on asyncio, against the fastest Python measured (any interpreter,
//!    loop or knob), and against the Rust peer a developer would pick ([`peer`]).
//!
//! Each comparison names one reference row ([`find`]) and reads one estimator
//! ([`super::speedup`]); the Claims table reads the chapter's two claims through the same
//! [`Pair`]s, so a comparison reads the same figure wherever it is printed.

use timing::cli::Flavor;

use super::label::label;
use crate::exercises::{self, Exercise, Family, ScriptVariant};
use crate::format::fmt_ns;
use crate::results::{Row, RunResults};

use super::figures::{Speedup, fmt_speedup, per_task_ns, speedup};
use super::pitfalls;

/// Which row of an exercise a comparison reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// A Rust variant on the current-thread runtime with `main` as a task; of a variant run at
    /// two counts (held to its cap), the larger.
    Rust(&'static str),
    /// CPython `major.minor` (any patch level) as the chapter ran it: the standard loop, the
    /// collector on, the GIL.
    Python(u32, u32),
    /// The same CPython running a variant of the exercise's script other than its default.
    PythonScript(u32, u32, &'static ScriptVariant),
    /// The Python row that costs least a task: any interpreter, loop or knob.
    FastestPython,
}

impl Who {
    /// The row as a comparison asks for it, before one is found.
    fn label(self) -> String {
        match self {
            Who::Rust(variant) => format!("{variant} (current)"),
            Who::Python(major, minor) => format!("CPython {major}.{minor}"),
            Who::PythonScript(major, minor, v) => format!("CPython {major}.{minor}, {}", v.name),
            Who::FastestPython => "fastest Python".into(),
        }
    }

    /// Whether `row` is the row this names (of any exercise and count).
    pub(super) fn names(self, row: &Row) -> bool {
        let plain = row.entry.is_none() && row.measure.is_none();
        plain
            && match self {
                Who::Rust(variant) => {
                    !row.is_python()
                        && row.variant == variant
                        && row.flavor == Some(Flavor::Current)
                }
                Who::Python(major, minor) => row.is_chapter_cpython(major, minor),
                Who::PythonScript(major, minor, v) => {
                    row.is_chapter_cpython_as(major, minor, &v.row_variant())
                }
                Who::FastestPython => row.is_python(),
            }
    }
}

/// The row `who` names in `exercise`, or why there is none (`not run (needs 3.13+)`, `failed
/// (…)`, `no CPython 3.12 in this run`).
pub(crate) fn find<'a>(r: &'a RunResults, exercise: &str, who: Who) -> Result<&'a Row, String> {
    let all: Vec<&Row> = r
        .rows
        .iter()
        .filter(|row| row.exercise == exercise && who.names(row))
        .collect();
    let ran = all.iter().copied().filter(|row| per_task_ns(row).is_some());
    let found = match who {
        Who::FastestPython => ran.min_by(|a, b| cost(a).total_cmp(&cost(b))),
        Who::Rust(_) | Who::Python(..) | Who::PythonScript(..) => ran.max_by_key(|row| row.tasks),
    };
    found.ok_or_else(|| why_not(r, &all, who))
}

fn cost(row: &Row) -> f64 {
    per_task_ns(row).unwrap_or(f64::MAX)
}

/// Why none of `rows` (those `who` names, none with samples) can be read.
fn why_not(r: &RunResults, rows: &[&Row], who: Who) -> String {
    if let Some(f) = rows.iter().find_map(|row| row.failure.as_ref()) {
        return match &f.known {
            Some(known) => format!("fails, a known incompatibility ({})", known.reason),
            None => format!("failed ({})", f.reason),
        };
    }
    if let Some(why) = rows.iter().find_map(|row| row.skipped.as_ref()) {
        return format!("not run ({why})");
    }
    match who {
        // A script variant's row: its CPython is what is missing only where no row of that
        // CPython ran; else the variant is (a run from before the script had it).
        Who::Python(major, minor) | Who::PythonScript(major, minor, _)
            if !r
                .rows
                .iter()
                .any(|row| Who::Python(major, minor).names(row)) =>
        {
            format!("no CPython {major}.{minor} in this run")
        }
        Who::FastestPython if !r.rows.iter().any(Row::is_python) => "no Python ran".into(),
        _ => "not in this run".into(),
    }
}

/// One comparison: how many times faster `subject` is than `reference`, each an exercise's row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pair {
    pub subject: (&'static str, Who),
    pub reference: (&'static str, Who),
}

/// A [`Pair`] as the run measured it.
pub(crate) struct Compared<'a> {
    pub subject: Result<&'a Row, String>,
    pub reference: Result<&'a Row, String>,
}

impl Pair {
    pub fn compare(self, r: &RunResults) -> Compared<'_> {
        Compared {
            subject: find(r, self.subject.0, self.subject.1),
            reference: find(r, self.reference.0, self.reference.1),
        }
    }
}

impl Compared<'_> {
    /// The pair's figure; `None` when a row is missing.
    pub fn speedup(&self) -> Option<Speedup> {
        speedup(*self.subject.as_ref().ok()?, *self.reference.as_ref().ok()?)
    }

    /// What is missing, and why: `` `ex_6_1 CPython 3.12`: no CPython 3.12 in this run``.
    pub fn missing(&self, pair: Pair) -> Vec<String> {
        [
            (&self.subject, pair.subject),
            (&self.reference, pair.reference),
        ]
        .into_iter()
        .filter_map(|(found, (exercise, who))| {
            let why = found.as_ref().err()?;
            Some(format!("`{exercise} {}`: {why}", who.label()))
        })
        .collect()
    }
}

/// Whether a measured speedup clears a claim's threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The whole 95% interval is above the threshold.
    Yes,
    /// The whole 95% interval is below it.
    No,
    /// The interval takes the threshold in, or there is none (one run on a side).
    Unclear,
}

impl Verdict {
    /// The rule every claim and answer follows: the interval decides, never the point alone.
    pub fn of(s: Speedup, threshold: f64) -> Verdict {
        Verdict::above(s.interval, threshold)
    }

    /// The same rule for a cost held under a ceiling (a target): yes when the whole interval
    /// is below `ceiling`, no when the whole interval is above it.
    pub fn at_most(interval: Option<(f64, f64)>, ceiling: f64) -> Verdict {
        match Verdict::above(interval, ceiling) {
            Verdict::Yes => Verdict::No,
            Verdict::No => Verdict::Yes,
            Verdict::Unclear => Verdict::Unclear,
        }
    }

    /// Yes when the whole interval is above `threshold`, no when the whole interval is below.
    fn above(interval: Option<(f64, f64)>, threshold: f64) -> Verdict {
        match interval {
            Some((low, _)) if low > threshold => Verdict::Yes,
            Some((_, high)) if high < threshold => Verdict::No,
            _ => Verdict::Unclear,
        }
    }
}

/// ex_6_1 on CPython 3.12 against ex_6_2 on CPython 3.12.
pub(crate) const EAGER_OVER_GATHER: Pair = Pair {
    subject: ("ex_6_1", Who::Python(3, 12)),
    reference: ("ex_6_2", Who::Python(3, 12)),
};
/// The chapter's test: more than 4×.
pub(crate) const EAGER_OVER_GATHER_AT_LEAST: f64 = 4.0;

/// ex_6_3 on CPython 3.12 against ex_6_3 on CPython 3.10.
pub(crate) const CURRENT_TASK: Pair = Pair {
    subject: ("ex_6_3", Who::Python(3, 12)),
    reference: ("ex_6_3", Who::Python(3, 10)),
};
/// "Nearly six times" read as at least 4×, as the eager claim is.
pub(crate) const CURRENT_TASK_AT_LEAST: f64 = 4.0;

/// The variant an exercise's answer reads as its tokio counterpart: the first of this
/// project's own (ex_6_1 `eager`, ex_6_2 `gather_in_place`, queue_pc `queue`), else the
/// exercise's reference (ex_6_3 `try_id`).
pub(crate) fn counterpart(ex: &Exercise) -> &'static str {
    ex.variants
        .iter()
        .find(|v| v.family == Family::Project)
        .map_or(ex.reference, |v| v.name)
}

/// The Rust peer a developer would pick instead: the exercise's idiomatic variant, unless the
/// Pitfalls section calls it quadratic (that row is what not to write).
pub(crate) fn peer(ex: &Exercise) -> Option<&'static str> {
    ex.idiomatic
        .filter(|variant| !pitfalls::is_quadratic(ex.name, variant))
}

/// The Answers, one sentence each: the chapter's two questions when their exercises are in the
/// run, then one per exercise with a task count that ran.
pub fn answers(r: &RunResults) -> Vec<String> {
    let in_run = |name: &str| r.rows.iter().any(|row| row.exercise == name);
    let mut out = Vec::new();
    if in_run("ex_6_1") || in_run("ex_6_2") {
        out.push(chapter_answer(
            r,
            EAGER_OVER_GATHER,
            EAGER_OVER_GATHER_AT_LEAST,
            "Eager TaskGroup against gather on CPython 3.12 (the book: nearly 6×; its test asks for more than 4×)",
            |subject, reference, figure| {
                format!(
                    "ex_6_1 (eager TaskGroup) runs {figure} than ex_6_2 (gather) on {}{}",
                    label(subject),
                    same_or(subject, reference)
                )
            },
        ));
    }
    if in_run("ex_6_3") {
        out.push(chapter_answer(
            r,
            CURRENT_TASK,
            CURRENT_TASK_AT_LEAST,
            "current_task on CPython 3.12 against 3.10 (the book: about 6×, 0.05 s against 0.33 s; at least 4×)",
            |subject, reference, figure| {
                format!(
                    "ex_6_3 runs {figure} on {} than on {}",
                    label(subject),
                    label(reference)
                )
            },
        ));
    }
    for ex in exercises::ALL {
        if ex.default_tasks.is_some() && in_run(ex.name) {
            out.push(exercise_answer(r, ex));
        }
    }
    out
}

/// `` (ex_6_2 on CPython 3.12.2)`` when the two rows ran on different patch levels.
fn same_or(subject: &Row, reference: &Row) -> String {
    if subject.implementation == reference.implementation {
        String::new()
    } else {
        format!(" (ex_6_2 on {})", label(reference))
    }
}

/// A chapter question: what it asks, the figure, and whether the whole interval clears
/// `threshold`.
fn chapter_answer(
    r: &RunResults,
    pair: Pair,
    threshold: f64,
    asks: &str,
    measured: impl Fn(&Row, &Row, &str) -> String,
) -> String {
    let c = pair.compare(r);
    let (Ok(subject), Ok(reference), Some(s)) = (&c.subject, &c.reference, c.speedup()) else {
        let missing: Vec<String> = c.missing(pair).iter().map(|m| m.replace('`', "")).collect();
        return format!("{asks}: not measured: {}.", missing.join("; "));
    };
    let bound = times_threshold(threshold);
    let verdict = match Verdict::of(s, threshold) {
        Verdict::Yes => format!("yes, the whole 95% interval is above {bound}"),
        Verdict::No => format!("no, the whole 95% interval is below {bound}"),
        Verdict::Unclear if s.interval.is_none() => "unclear: one run, no interval".into(),
        Verdict::Unclear => format!("unclear, the 95% interval takes in {bound}"),
    };
    format!(
        "{asks}: {}: {verdict}.",
        measured(subject, reference, &fmt_speedup(s))
    )
}

/// `4×`, `2.5×`: a claim's threshold as the book writes it.
pub(super) fn times_threshold(x: f64) -> String {
    format!("{}×", (x * 100.0).round() / 100.0)
}

/// Question 3 for one exercise: its tokio counterpart's cost a task (a run where no count
/// applies) against CPython 3.12 on asyncio, the fastest Python measured and the Rust peer. A
/// pair the interval cannot tell apart, or within 2%, is "about the same".
pub(crate) fn exercise_answer(r: &RunResults, ex: &Exercise) -> String {
    let variant = counterpart(ex);
    let me = match find(r, ex.name, Who::Rust(variant)) {
        Ok(row) => row,
        Err(why) => {
            return format!(
                "{}: the tokio counterpart, {variant} (current): {why}.",
                ex.name
            );
        }
    };
    let unit = if me.tasks.is_some() {
        "a task"
    } else {
        "a run"
    };
    let cpython = find(r, ex.name, Who::Python(3, 12));
    let versus_cpython = match &cpython {
        Ok(row) => against(me, row, &format!("{} on asyncio", label(row))),
        Err(why) => format!("CPython 3.12: {why}"),
    };
    let versus_fastest = match find(r, ex.name, Who::FastestPython) {
        Ok(row) if cpython.is_ok_and(|c| std::ptr::eq(c, row)) => {
            format!("{} is also the fastest Python measured", label(row))
        }
        Ok(row) => against(
            me,
            row,
            &format!("the fastest Python measured, {}", label(row)),
        ),
        Err(why) => format!("fastest Python: {why}"),
    };
    let versus_peer = match peer(ex) {
        None => "no Rust peer is measured for it".into(),
        Some(p) if p == variant => {
            format!("{} is itself what a Rust developer would write", label(me))
        }
        Some(p) => {
            let what = ex
                .variant(p)
                .and_then(|v| v.about.split_once(": "))
                .map(|(name, _)| format!(" ({name})"))
                .unwrap_or_default();
            match find(r, ex.name, Who::Rust(p)) {
                Ok(row) => against(
                    me,
                    row,
                    &format!("{}, the Rust peer a developer would pick{what}", label(row)),
                ),
                Err(why) => format!("the Rust peer {p}{what}: {why}"),
            }
        }
    };
    format!(
        "{}: the tokio counterpart, {}, takes {} {unit}: {versus_cpython}; {versus_fastest}; {versus_peer}.",
        ex.name,
        label(me),
        fmt_ns(cost(me)),
    )
}

/// `1045× faster [1010×, 1080×] than CPython 3.12.1 on asyncio`, or `about the same as …, 1.01×
/// faster [0.98×, 1.04×]`.
fn against(me: &Row, reference: &Row, name: &str) -> String {
    match speedup(me, reference) {
        Some(s) if s.is_tie() => format!("about the same as {name}, {}", fmt_speedup(s)),
        Some(s) => format!("{} than {name}", fmt_speedup(s)),
        None => format!("{name}: too few samples"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(point: f64, low: f64, high: f64) -> Speedup {
        Speedup {
            point,
            interval: Some((low, high)),
        }
    }

    #[test]
    fn the_interval_decides_the_verdict_never_the_point_alone() {
        assert_eq!(Verdict::of(s(7.26, 7.02, 7.51), 4.0), Verdict::Yes);
        assert_eq!(Verdict::of(s(2.0, 1.5, 2.6), 4.0), Verdict::No);
        // The point above the threshold, the interval crossing it.
        assert_eq!(Verdict::of(s(6.93, 2.45, 19.6), 4.0), Verdict::Unclear);
        // The point below it, the interval crossing it: not "no".
        assert_eq!(Verdict::of(s(3.5, 2.9, 4.3), 4.0), Verdict::Unclear);
        // One run on a side: no interval, nothing decided.
        let point = Speedup {
            point: 50.0,
            interval: None,
        };
        assert_eq!(Verdict::of(point, 4.0), Verdict::Unclear);
    }

    #[test]
    fn a_ceiling_is_met_only_when_the_whole_interval_is_under_it() {
        assert_eq!(Verdict::at_most(Some((0.28, 0.30)), 0.35), Verdict::Yes);
        assert_eq!(Verdict::at_most(Some((1.3, 1.4)), 1.1), Verdict::No);
        assert_eq!(Verdict::at_most(Some((0.9, 1.2)), 1.1), Verdict::Unclear);
        assert_eq!(Verdict::at_most(None, 1.1), Verdict::Unclear);
    }

    #[test]
    fn each_exercise_with_a_count_has_its_counterpart_and_peer() {
        let pick = |name: &str| {
            let ex = exercises::find(name).expect(name);
            (counterpart(ex), peer(ex))
        };
        assert_eq!(pick("ex_6_1"), ("eager", Some("joinset")));
        assert_eq!(pick("ex_6_2").0, "gather_in_place");
        assert_eq!(pick("ex_6_3"), ("try_id", Some("try_id")));
        assert_eq!(pick("queue_pc"), ("queue", Some("mpsc")));
        // A quadratic gather is never the peer a developer should pick.
        assert_ne!(pick("ex_6_2").1, Some("join_handles"));
        for ex in exercises::ALL {
            assert!(ex.variant(counterpart(ex)).is_some(), "{}", ex.name);
        }
    }

    #[test]
    fn thresholds_read_as_the_book_writes_them() {
        assert_eq!(times_threshold(4.0), "4×");
        assert_eq!(times_threshold(1.0 / 0.7), "1.43×");
    }
}
