//! `report.md` and `report.html` from a run's results (and a baseline's), and the terminal summary.
//!
//! The parts: `answers` (the chapter's questions, first in the report and last on the
//! terminal), `eager` (when eager start helps, right after the Answers in both), `targets`
//! (issue 24's, after that in both), `exercise` (each
//! exercise's table and plots), `cpu` (CPU time against wall time, on a busy machine),
//! `claims`, `pitfalls`, `baseline` (the comparison with a saved run), `failures` (the failed
//! rows and their stderr), `terminal` (the closing summary), `sweep` (the sweep's own report),
//! `label` (what a row is called, here and on the progress lines), `figures` (the numbers every
//! section shares), `plots` (the SVGs) and `doc` (the blocks every report is made of, written
//! as Markdown or HTML).
//!
//! Every comparison of two rows, wherever it is printed, is [`speedup`]: the ratio of their
//! geometric means per task with Welch's 95% interval, against one named reference row.

use std::path::Path;

use crate::exercises;
use crate::format::fmt_ns;
use crate::results::{Environment, Row, RunResults};
use crate::stats;

mod answers;
mod baseline;
mod claims;
mod cpu;
pub mod doc;
mod eager;
mod exercise;
mod failures;
mod figures;
pub mod label;
mod pitfalls;
pub mod plots;
mod svg;
pub mod sweep;
mod targets;
mod terminal;

pub use answers::{Verdict, answers};
pub use baseline::comparison;
use doc::Block;
pub use eager::eager_start;
use failures::failures;
pub use figures::{ALPHA, REGRESSION, Speedup, fmt_speedup, label_cell, speedup, times};
use figures::{load_warnings, per_task_interval, per_task_ns};
use label::{full_label, label};
use plots::tone;
pub use targets::targets;
pub use terminal::terminal_summary;

/// A row's spread (population stdev over mean) beyond which the report warns.
pub const WIDE_SPREAD: f64 = 0.10;

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
                    label: label(row),
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
                full_label(row),
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
            r.flags.flavor_names().join(" and "),
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
    if let Some(line) = page_faults(e) {
        lines.push(line);
    }
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

/// What a page fault cost as the run began and as it ended, where the run measured it: part of
/// every row's time (a task's memory is new to its process), and it moves with the machine.
fn page_faults(e: &Environment) -> Option<String> {
    let cost = |ns: Option<u64>| ns.map(|ns| fmt_ns(ns as f64));
    let said = match (cost(e.page_fault_ns_before), cost(e.page_fault_ns_after)) {
        (None, None) => return None,
        (Some(before), Some(after)) => format!("{before} as the run began, {after} as it ended"),
        (Some(before), None) => format!("{before} as the run began"),
        (None, Some(after)) => format!("{after} as the run ended"),
    };
    Some(format!(
        "Page faults: a first touch of a 4 KiB page of memory took {said}. Every row pays it for the memory its tasks take, and it moves with the state of the machine."
    ))
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
            (spread > WIDE_SPREAD).then(|| (spread, format!("`{}`", full_label(row))))
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
