//! `report.md` and `report.html` from a run's results (and a baseline's), and the terminal summary.
//!
//! The parts: `answers` (the chapter's questions, first in the report and last on the
//! terminal), `eager` (when eager start helps, right after the Answers in both), `targets`
//! (issue 24's, after that in both), `exercise` (each
//! exercise's table and plots), `cpu` (CPU time against wall time, on a busy machine),
//! `claims`, `pitfalls`, `baseline` (the comparison with a saved run), `terminal` (the closing
//! summary), `plots` (the SVGs) and `doc` (the blocks every report is made of, written as
//! Markdown or HTML).
//!
//! Every comparison of two rows, wherever it is printed, is [`speedup`]: the ratio of their
//! geometric means per task with Welch's 95% interval, against one named reference row.

use std::path::Path;

use crate::exercises;
use crate::format::fmt_ns;
use crate::results::{Environment, Implementation, Row, RunResults};
use crate::stats::{self, Ratio};

mod answers;
mod baseline;
mod claims;
mod cpu;
pub mod doc;
mod eager;
mod exercise;
mod pitfalls;
pub mod plots;
mod svg;
mod targets;
mod terminal;

pub use answers::{Verdict, answers};
pub use baseline::comparison;
use doc::Block;
pub use eager::eager_start;
pub use targets::targets;
pub use terminal::terminal_summary;

/// A row's spread (population stdev over mean) beyond which the report warns.
pub const WIDE_SPREAD: f64 = 0.10;
/// Significance level of the baseline comparison.
pub const ALPHA: f64 = 0.05;
/// The smallest slowdown the baseline comparison calls a regression.
pub const REGRESSION: f64 = 1.05;

/// Writes `report.md` and `report.html` into `dir`, each atomically.
pub fn write(
    results: &RunResults,
    baseline: Option<(&str, &RunResults)>,
    dir: &Path,
) -> anyhow::Result<()> {
    let blocks = blocks(results, baseline, true)?;
    timing::write_atomic(&dir.join("report.md"), doc::markdown(&blocks).as_bytes())?;
    let title = format!("asyncio-in-tokio timing report {}", results.run_id);
    timing::write_atomic(
        &dir.join("report.html"),
        doc::html(&title, &blocks).as_bytes(),
    )
}

/// The report as blocks; `plots` false leaves the SVGs out (the Markdown does not show them).
pub fn blocks(
    results: &RunResults,
    baseline: Option<(&str, &RunResults)>,
    plots: bool,
) -> anyhow::Result<Vec<Block>> {
    let mut b = vec![Block::Heading(1, "asyncio-in-tokio timing report".into())];
    // The answers first, even on a phone, where the run's particulars fill a screen.
    let answers = answers(results);
    if !answers.is_empty() {
        b.push(Block::Heading(2, "Answers".into()));
        b.push(Block::Para(
            "The chapter's two questions, and this project's: what each tokio counterpart costs. Each figure is how many times faster, per task: the ratio of the two rows' geometric means, with Welch's 95% interval; the tables and Claims below give the same figure for the same pair.".into(),
        ));
        b.push(Block::List(answers));
    }
    let eager = eager_start(results);
    if !eager.is_empty() {
        b.push(Block::Heading(2, "Eager start".into()));
        b.push(Block::Para(
            "When eager start helps a task group, from this run: where the children finish in their first step (ex_6_1, the chapter's case) and where each suspends once (suspend_once, which the chapter does not measure). Each figure is the time a task with eager start over the time a task without it, with its 95% interval, on the Rust group (current-thread runtime) and on CPython 3.12 (the eager task factory against the same script without it): eager start helps when the whole interval is below 1×, does not help when the whole interval is above 1×, and is unclear otherwise.".into(),
        ));
        b.push(Block::List(eager));
    }
    let targets = targets(results);
    if !targets.is_empty() {
        b.push(Block::Heading(2, "Targets".into()));
        b.push(Block::Para(
            "Issue 24's targets for the group its scope polls (`polled`) and the scheduled group, from this run, each a time a task on the current-thread runtime with its 95% interval: met when the whole interval is under the ceiling, not met when the whole interval is over it, unclear otherwise.".into(),
        ));
        b.push(Block::List(targets));
    }
    // Under the title, the Answers, Eager start or the Targets: the run's particulars have a
    // heading then.
    if b.len() > 1 {
        b.push(Block::Heading(2, "The run".into()));
    }
    b.push(Block::List(header(results)));
    let warnings = warnings(results);
    if !warnings.is_empty() {
        b.push(Block::Heading(2, "Warnings".into()));
        b.push(Block::List(warnings));
    }
    if plots && let Some(svg) = overview(results)? {
        b.push(Block::Heading(2, "At a glance".into()));
        b.push(Block::Svg {
            caption: overview_caption(results),
            svg,
        });
    }
    let mut speedups = Vec::new();
    for ex in exercises::ALL {
        let rows: Vec<&Row> = results
            .rows
            .iter()
            .filter(|r| r.exercise == ex.name && r.measure.is_none())
            .collect();
        if !rows.is_empty() {
            b.extend(exercise::section(ex, rows, plots, &mut speedups)?);
        }
    }
    if plots && !speedups.is_empty() {
        b.push(Block::Heading(2, "Speedups".into()));
        b.push(Block::Svg {
            caption: "each row against its exercise's reference row: how many times faster per task (ratio of geometric means), a dot per row, from 1× (a tie), 95% interval as whiskers".into(),
            svg: plots::bars(
                "How many times faster than each exercise's reference",
                "times faster (log scale; left of 1×: slower)",
                plots::Unit::Times,
                &speedups,
            )?,
        });
    }
    b.extend(cpu::section(results));
    b.extend(exercise::entry_section(results));
    b.extend(exercise::latency_section(results, plots)?);
    b.extend(pitfalls::section(results));
    b.push(Block::Heading(2, "Claims".into()));
    b.push(Block::Para(
        "Each claim the chapter makes, and the project's own targets, measured here as how many times faster one row is than another. A claim holds (yes) when the whole 95% interval clears its threshold, fails (**no**) when the whole interval is on the wrong side, and is unclear otherwise.".into(),
    ));
    b.push(Block::Table(
        ["claim", "source", "measured here", "holds"]
            .map(String::from)
            .to_vec(),
        claims::claims(results),
    ));
    if let Some((name, base)) = baseline {
        b.extend(comparison(results, name, base));
    }
    b.extend(known_section(results));
    b.extend(failures(results));
    b.push(Block::Heading(2, "Method".into()));
    b.push(Block::List(vec![
        how_runs_were_chosen(results),
        "Exercises whose time is a fixed sleep (ex_2_2, ex_2_7) run at most 3 times (1 with `--quick`), in the last rounds, with no warmup.".into(),
        "Each process times the same span its Python original times and records it in nanoseconds; a row's min, max, mean, stdev and percentiles are those of its samples, and its samples are merged into one HDR histogram (3 significant digits) for the plots.".into(),
        "Per task: the geometric mean of a row's times over its task count. Speedup: how many times faster a row is than another, per task: the ratio of their geometric means, with Welch's t interval (95%) on the log samples; below 1× it reads \"N× slower\". Every comparison in the report, the Answers, Claims, tables and charts, is this one figure against one named row.".into(),
        "A claim or answer holds (\"yes\") when the whole 95% interval clears its threshold, fails (\"no\") when the whole interval is on the wrong side, and is unclear otherwise. Two rows are about the same when the interval of their ratio takes in 1× or they are within 2%.".into(),
        format!(
            "Baseline comparison: Welch's two-sided t-test on log samples at the {:.0}% level; a regression is a significant slowdown of {:.0}% or more that is also larger than the two rows' own spread (the larger of stdev over mean and the 95% half-width); a significant change inside that spread is noise.",
            ALPHA * 100.0,
            (REGRESSION - 1.0) * 100.0
        ),
        format!("A row's spread is wide when its standard deviation exceeds {:.0}% of its mean.", WIDE_SPREAD * 100.0),
    ]));
    Ok(b)
}

/// How many processes each row ran: until its interval was tight enough (an adaptive run), or
/// a fixed count.
fn how_runs_were_chosen(r: &RunResults) -> String {
    let mut goals: Vec<f64> = r
        .rows
        .iter()
        .filter_map(|row| row.precision.as_ref()?.goal)
        .collect();
    goals.sort_by(f64::total_cmp);
    goals.dedup();
    if goals.is_empty() && r.flags.budget_secs.is_none() {
        return format!(
            "Each row ran {} measured processes after {} discarded warmup process(es), one run each; rounds were interleaved (every row once per round), so drift touches every row alike.",
            r.flags.iterations, r.flags.warmup
        );
    }
    let goals: Vec<String> = goals.into_iter().map(exercise::percent).collect();
    let goals = match goals.split_last() {
        Some((last, [])) => format!(" ({last})"),
        Some((last, rest)) => format!(
            " ({} or {last}, the rows an answer reads the tightest)",
            rest.join(", ")
        ),
        None => String::new(),
    };
    let budget = r
        .flags
        .budget_secs
        .map(|b| format!(" ({b} s)"))
        .unwrap_or_default();
    format!(
        "Each row ran until the 95% interval of its geometric mean was within its goal{goals}, or the run's time budget{budget} was spent. Each table's precision column gives the half-width of the 95% interval of a row's geometric mean, and why it stopped where it fell short of its goal."
    )
}

/// The family a row's colour stands for.
pub(crate) fn tone(row: &Row) -> plots::Tone {
    use plots::Tone;
    if let Implementation::PyPy { .. } = row.kind() {
        return Tone::PyPy;
    }
    if row.is_python() {
        return if row.variant == "asyncio" {
            Tone::CPython
        } else {
            Tone::CPythonOther
        };
    }
    use exercises::Family;
    let family = exercises::find(&row.exercise)
        .and_then(|ex| ex.variant(&row.variant))
        .map(|v| v.family);
    match family {
        Some(Family::Tokio) => Tone::Tokio,
        Some(Family::Peer) => Tone::Peer,
        Some(Family::Floor) => Tone::Floor,
        // A variant this build does not know (an old results file) counts as the project's.
        Some(Family::Project) | None => Tone::Project,
    }
}

/// The chapter's question per exercise in one picture: the cost per task of every
/// implementation (not the `--entry` or start-latency reruns), fastest first, coloured by
/// family. Each bar is [`per_task_ns`], the figure whose ratios are the report's speedups, with
/// its 95% interval; the fastest, the fastest Python and CPython 3.12 carry their figures.
/// `None` when no row has a count.
fn overview(results: &RunResults) -> anyhow::Result<Option<String>> {
    let mut groups = Vec::new();
    for ex in exercises::ALL {
        let all: Vec<(&Row, f64)> = results
            .rows
            .iter()
            .filter(|r| r.exercise == ex.name && r.measure.is_none() && r.entry.is_none())
            .filter(|r| r.tasks.is_some())
            .filter_map(|r| Some((r, per_task_ns(r)?)))
            .collect();
        // One picture a reader takes in: Rust on the current-thread runtime (at a capped
        // variant's larger count), each Python on its standard loop, and the fastest Python of
        // all (another loop, gc off, PyPy), the one the Answers name. Every row is in the
        // exercise's table.
        let fastest_python = answers::find(results, ex.name, answers::Who::FastestPython).ok();
        let largest = |r: &Row| {
            all.iter()
                .filter(|(o, _)| o.variant == r.variant && o.flavor == r.flavor)
                .all(|(o, _)| o.tasks <= r.tasks)
        };
        let mut rows: Vec<(&Row, f64)> = all
            .iter()
            .copied()
            .filter(|&(r, _)| {
                if r.is_python() {
                    r.is_default_python() || fastest_python.is_some_and(|f| std::ptr::eq(f, r))
                } else {
                    r.flavor == Some(timing::cli::Flavor::Current) && largest(r)
                }
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        rows.sort_by(|a, b| a.1.total_cmp(&b.1));
        let fastest = rows
            .iter()
            .find(|(r, _)| r.variant != "floor")
            .map(|(r, _)| *r);
        let bars = rows
            .iter()
            .map(|&(row, ns)| {
                let cpython_312 = row.is_chapter_cpython(3, 12);
                let is = |other: Option<&Row>| other.is_some_and(|o| std::ptr::eq(o, row));
                let named = is(fastest) || is(fastest_python) || cpython_312;
                plots::Bar {
                    label: row.label(),
                    value: ns,
                    interval: per_task_interval(row),
                    tone: tone(row),
                    note: named.then(|| fmt_ns(ns)),
                }
            })
            .collect();
        groups.push(plots::Group {
            name: format!("{}: {}", ex.name, ex.about),
            bars,
        });
    }
    if groups.is_empty() {
        return Ok(None);
    }
    plots::bars(
        "Nanoseconds per task",
        "time per task, geometric mean (log scale)",
        plots::Unit::Nanos,
        &groups,
    )
    .map(Some)
}

fn overview_caption(results: &RunResults) -> String {
    let python = if results.rows.iter().any(Row::is_python) {
        "; Python on its standard loop, and the fastest Python of all (another loop, gc off or PyPy)"
    } else {
        " (no Python ran)"
    };
    format!(
        "nanoseconds per task (the geometric mean of a row's times over its task count, with its 95% interval), each exercise's fastest first: Rust on the current-thread runtime{python}. The ratio of two dots is the speedup the Answers and tables give for that pair. The fastest implementation, the fastest Python and CPython 3.12 carry their figures; every row is in the tables"
    )
}

/// Rows that fail by a known incompatibility of a loop with a Python version: the error they
/// end with and why; they do not make the run fail.
fn known_section(r: &RunResults) -> Vec<Block> {
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .filter_map(|row| {
            let known = row.failure.as_ref()?.known.as_ref()?;
            Some(vec![
                format!("{} {}", row.exercise, row.label()),
                format!("`{}`", known.error.replace('`', "'")),
                known.reason.clone(),
            ])
        })
        .collect();
    if rows.is_empty() {
        return Vec::new();
    }
    vec![
        Block::Heading(2, "Known incompatibilities".into()),
        Block::Para(
            "These rows fail, as expected for this library on this Python: the run is not counted as failed for them.".into(),
        ),
        Block::Table(
            ["row", "error", "why"].map(String::from).to_vec(),
            rows,
        ),
    ]
}

/// The Failures section: each failed row, its reason and its stderr's last lines.
fn failures(results: &RunResults) -> Vec<Block> {
    let mut b = Vec::new();
    let failed: Vec<&Row> = results
        .rows
        .iter()
        .filter(|r| r.failed_unexpectedly())
        .collect();
    if !failed.is_empty() {
        b.push(Block::Heading(2, "Failures".into()));
        let rows = failed
            .iter()
            .filter_map(|r| {
                let f = r.failure.as_ref()?;
                Some(vec![
                    format!("{} {}", r.exercise, r.label()),
                    f.reason.clone(),
                ])
            })
            .collect();
        b.push(Block::Table(
            ["row", "reason"].map(String::from).to_vec(),
            rows,
        ));
        b.extend(stderr_tails(failed.iter().map(|r| {
            (format!("{} {}", r.exercise, r.label()), r.failure.as_ref())
        })));
    }
    b
}

/// Each failed row's stderr tail as it was printed, under the row's name: a child's output is
/// text, never markup, in Markdown as in HTML.
pub fn stderr_tails<'a>(
    failed: impl Iterator<Item = (String, Option<&'a crate::results::Failure>)>,
) -> Vec<Block> {
    let mut b = Vec::new();
    for (name, failure) in failed {
        let Some(f) = failure.filter(|f| !f.stderr_tail.trim().is_empty()) else {
            continue;
        };
        b.push(Block::Para(format!(
            "`{name}`: the last lines of its stderr."
        )));
        b.push(Block::Code(f.stderr_tail.clone()));
    }
    b
}

fn header(r: &RunResults) -> Vec<String> {
    let e = &r.environment;
    let dirty = if e.git_dirty {
        " (with uncommitted changes)"
    } else {
        ""
    };
    let tasks = match r.flags.tasks {
        Some(n) => format!("{n} tasks"),
        None => "each exercise's default task count".into(),
    };
    let mut lines = vec![
        format!(
            "Run `{}`, from {} to {}.",
            r.run_id, r.started_utc, r.finished_utc
        ),
        format!(
            "Machine: {}, {} cores; {}, kernel {}.",
            e.cpu_model, e.cores, e.os, e.kernel
        ),
        format!(
            "Build: {}; tokio {}; commit `{}`{dirty}.",
            e.rustc, e.tokio, e.git_commit
        ),
        format!(
            "Flags: {}, {tasks}, flavors {}, timeout {} s{}.",
            match r.flags.budget_secs {
                Some(budget) => format!(
                    "each row until its 95% interval is within its goal, in a time budget of {budget} s"
                ),
                None => format!(
                    "{} iterations after {} warmup{}",
                    r.flags.iterations,
                    r.flags.warmup,
                    if r.flags.thorough { " (thorough)" } else { "" }
                ),
            },
            r.flags.flavors.join(" and "),
            r.flags.timeout_secs,
            if r.flags.quick { ", quick" } else { "" }
        ),
        format!(
            "CPython: {}{}.",
            if r.flags.python_found.is_empty() {
                "not recorded"
            } else {
                &r.flags.python_found
            },
            if r.rows.iter().any(Row::is_python) && r.flags.budget_secs.is_none() {
                format!(
                    "; {} measured run(s) each, no warmup",
                    r.flags.python_iterations
                )
            } else {
                String::new()
            }
        ),
    ];
    if let Some(o) = &r.harness_overhead {
        lines.push(format!(
            "Harness overhead: {} mean per process (max {}) over {} processes, outside the processes' own lifetimes.",
            fmt_ns(o.mean_ns as f64),
            fmt_ns(o.max_ns as f64),
            o.processes
        ));
    }
    lines
}

/// The machine was busy, or a row's spread was wide: each reason, naming what it concerns.
pub fn warnings(r: &RunResults) -> Vec<String> {
    let e = &r.environment;
    let mut out = load_warnings(e);
    if !cpu::section(r).is_empty() {
        out.push(
            "Wall time grows with the other load, CPU time much less: each row's CPU time against its wall time is under CPU time.".into(),
        );
    }
    if e.governor_before != e.governor_after {
        out.push(format!(
            "The CPU frequency governor changed during the run: {} → {}.",
            e.governor_before.as_deref().unwrap_or("unknown"),
            e.governor_after.as_deref().unwrap_or("unknown")
        ));
    }
    // The widest first; past a handful, the count (each table's mean ± stdev shows the rest).
    let mut wide: Vec<(f64, String)> = r
        .rows
        .iter()
        .filter_map(|row| {
            let spread = stats::relative_spread(&row.samples_ns);
            (spread > WIDE_SPREAD).then(|| (spread, format!("`{} {}`", row.exercise, row.label())))
        })
        .collect();
    wide.sort_by(|a, b| b.0.total_cmp(&a.0));
    const SHOWN: usize = 5;
    if !wide.is_empty() {
        let named: Vec<String> = wide
            .iter()
            .take(SHOWN)
            .map(|(spread, name)| format!("{name} ({:.0}%)", spread * 100.0))
            .collect();
        let more = match wide.len().saturating_sub(SHOWN) {
            0 => String::new(),
            n => format!(", and {n} more (see each table's mean ± stdev)"),
        };
        out.push(format!(
            "Wide spread (standard deviation over {:.0}% of the mean) in {} row(s): {}{more}.",
            WIDE_SPREAD * 100.0,
            wide.len(),
            named.join(", ")
        ));
    }
    let failed = r
        .rows
        .iter()
        .filter(|row| row.failed_unexpectedly())
        .count();
    if failed > 0 {
        out.push(format!("{failed} row(s) failed: see Failures."));
    }
    out
}

/// The run's load as warnings: the machine was busy before the run, or during it. Empty on a
/// quiet machine (or one whose load was not recorded).
fn load_warnings(e: &Environment) -> Vec<String> {
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
fn work(row: &Row) -> f64 {
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
    let interval =
        stats::relative_half_width(&row.cpu_samples_ns).map(|h| (ns / (1.0 + h), ns * (1.0 + h)));
    Some((ns, interval))
}

/// [`per_task_ns`] with its 95% interval (from the row's own spread), for a chart's whiskers;
/// `None` for the interval with fewer than two samples.
pub(crate) fn per_task_interval(row: &Row) -> Option<(f64, f64)> {
    let ns = per_task_ns(row)?;
    let h = stats::relative_half_width(&row.samples_ns)?;
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
/// `reference`, per task, as the ratio of their geometric means ([`per_task_ratio`] of the
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
