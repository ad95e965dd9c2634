//! The sweep's report: per exercise a log-log plot of ns per task against task count (one line
//! per implementation), each point's multiple of the exercise's `floor`, peak memory and bytes
//! per added task; then the lines stopped and the points failed. `sweep.rs` runs the points and
//! records them; this says what they show.

use std::path::Path;

use timing::cli::Flavor;

use crate::exercises::{SWEEP_PYTHON_MAX as PYTHON_MAX, SWEPT as EXERCISES};
use crate::format::{fmt_count, fmt_ns};
use crate::results::{Failure, Row, RowKey, RunResults};

use super::doc::{self, Block};
use super::failures::stderr_tails;
use super::figures::times;
use super::label::label;
use super::plots;

/// A point's line: its key without the count. One line is one implementation (a variant on one
/// flavor, or one interpreter) across every count, capped variants included.
pub fn line(key: &RowKey) -> RowKey {
    RowKey {
        tasks: None,
        ..key.clone()
    }
}

/// How the sweep names a point's line: the row's label without a count (a variant held to a
/// task cap names its count in the run's report; here the count is the x axis).
fn line_label(row: &Row) -> String {
    label(&Row::new(line(&row.key()), Vec::new(), None))
}

/// `report.md` and `report.html` of a sweep, each written atomically.
pub fn write(results: &RunResults, dir: &Path) -> anyhow::Result<()> {
    let blocks = blocks(results, true)?;
    timing::write_atomic(&dir.join("report.md"), doc::markdown(&blocks).as_bytes())?;
    let title = format!("asyncio-in-tokio scaling sweep {}", results.run_id);
    timing::write_atomic(
        &dir.join("report.html"),
        doc::html(&title, &blocks).as_bytes(),
    )
}

/// Each implementation of an exercise across the counts (in the order the rows first name it):
/// its label and its points by count.
fn lines_of<'a>(r: &'a RunResults, exercise: &str) -> Vec<(String, Vec<&'a Row>)> {
    let mut lines: Vec<(RowKey, String, Vec<&Row>)> = Vec::new();
    for row in r.rows.iter().filter(|row| row.exercise == exercise) {
        let key = line(&row.key());
        match lines.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, points)) => points.push(row),
            None => lines.push((key, line_label(row), vec![row])),
        }
    }
    lines
        .into_iter()
        .map(|(_, label, mut points)| {
            points.sort_by_key(|row| row.tasks);
            (label, points)
        })
        .collect()
}

/// What the scaling plot of `exercise` draws: one line per implementation, labelled, with a
/// point (task count, ns per task) for each count it measured.
pub fn scaling_lines(r: &RunResults, exercise: &str) -> Vec<(String, Vec<(f64, f64)>)> {
    lines_of(r, exercise)
        .into_iter()
        .map(|(label, points)| {
            let xy = points
                .iter()
                .filter_map(|row| Some((row.tasks? as f64, per_task(row)?.max(0.01))))
                .collect();
            (label, xy)
        })
        .collect()
}

fn per_task(row: &Row) -> Option<f64> {
    row.summary.as_ref()?.per_item_ns
}

/// The sweep report: header, then per exercise its scaling plot, ns per task and memory.
pub fn blocks(r: &RunResults, plots: bool) -> anyhow::Result<Vec<Block>> {
    let counts: Vec<u64> = {
        let mut c: Vec<u64> = r.rows.iter().filter_map(|row| row.tasks).collect();
        c.sort_unstable();
        c.dedup();
        c
    };
    let e = &r.environment;
    let mut b = vec![
        Block::Heading(1, "asyncio-in-tokio scaling sweep".into()),
        Block::List(vec![
            format!("Run `{}`, from {} to {}.", r.run_id, r.started_utc, r.finished_utc),
            format!("Machine: {}, {} cores; {}, kernel {}.", e.cpu_model, e.cores, e.os, e.kernel),
            format!("Build: {}; tokio {}; commit `{}`.", e.rustc, e.tokio, e.git_commit),
            format!(
                "{} measured process(es) per point, task counts {}, flavors {}; CPython up to {PYTHON_MAX}: {}.",
                r.flags.iterations,
                counts.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
                r.flags.flavor_names().join(" and "),
                r.flags.python_found
            ),
        ]),
        Block::Heading(2, "Scaling".into()),
        Block::Para(
            "Mean nanoseconds per task at each task count, and peak resident memory. `× floor` divides a row by its exercise's `floor` variant on the same flavor at the same count; `bytes/task` is the growth of peak memory from the smallest to the largest count, per added task.".into(),
        ),
    ];
    for ex in EXERCISES {
        let lines = lines_of(r, ex);
        if lines.is_empty() {
            continue;
        }
        b.push(Block::Heading(3, ex.to_owned()));
        if plots {
            let series = scaling_lines(r, ex);
            b.push(Block::Svg {
                caption: format!("{ex}: nanoseconds per task against task count, log-log"),
                svg: plots::scaling(&format!("{ex}: cost per task as the work grows"), &series)?,
            });
        }
        let head = std::iter::once("implementation".to_owned())
            .chain(counts.iter().map(|n| format!(">{n}")))
            .collect();
        let floor = |flavor: &Option<Flavor>, n: u64| {
            r.rows
                .iter()
                .find(|row| {
                    row.exercise == ex
                        && row.variant == "floor"
                        && &row.flavor == flavor
                        && row.tasks == Some(n)
                })
                .and_then(per_task)
        };
        let table = lines
            .iter()
            .map(|(label, points)| {
                std::iter::once(label.clone())
                    .chain(counts.iter().map(|&n| {
                        let Some(row) = points.iter().find(|row| row.tasks == Some(n)) else {
                            return "—".into();
                        };
                        if row.failure.is_some() {
                            return "failed".into();
                        }
                        if row.skipped.is_some() {
                            return "stopped".into();
                        }
                        match (per_task(row), floor(&row.flavor, n)) {
                            (Some(ns), Some(f)) if row.variant != "floor" && f > 0.0 => {
                                format!("{} ({} floor)", fmt_ns(ns), times(ns / f))
                            }
                            (Some(ns), _) => fmt_ns(ns),
                            (None, _) => "—".into(),
                        }
                    }))
                    .collect()
            })
            .collect();
        b.push(Block::Table(head, table));
        let memory_head = std::iter::once("implementation".to_owned())
            .chain(counts.iter().map(|n| format!(">peak RSS at {n}")))
            .chain([">bytes/task".to_owned()])
            .collect();
        let memory = lines
            .iter()
            .map(|(label, points)| {
                let rss = |n: u64| {
                    points
                        .iter()
                        .find(|row| row.tasks == Some(n))
                        .and_then(|row| row.peak_rss_bytes)
                };
                let measured: Vec<(u64, u64)> =
                    counts.iter().filter_map(|&n| Some((n, rss(n)?))).collect();
                let growth = match (measured.first(), measured.last()) {
                    (Some(&(n0, r0)), Some(&(n1, r1))) if n1 > n0 => {
                        // Peak memory only grows: a fall is noise between processes.
                        format!(
                            "{:.0}",
                            ((r1 as f64 - r0 as f64) / (n1 - n0) as f64).max(0.0)
                        )
                    }
                    _ => "—".into(),
                };
                std::iter::once(label.clone())
                    .chain(
                        counts
                            .iter()
                            .map(|&n| rss(n).map(mib).unwrap_or_else(|| "—".into())),
                    )
                    .chain([growth])
                    .collect()
            })
            .collect();
        b.push(Block::Table(memory_head, memory));
    }
    // Each stopped line once, at the first count it did not run.
    let mut stopped: Vec<Vec<String>> = Vec::new();
    let mut seen: Vec<RowKey> = Vec::new();
    let mut skipped: Vec<&Row> = r.rows.iter().filter(|row| row.skipped.is_some()).collect();
    skipped.sort_by_key(|row| row.tasks);
    for row in skipped {
        let key = line(&row.key());
        if seen.contains(&key) {
            continue;
        }
        let from = row.tasks.map_or_else(|| "—".into(), fmt_count);
        stopped.push(vec![
            format!("{} {}", row.exercise, line_label(row)),
            from,
            row.skipped.clone().unwrap_or_default(),
        ]);
        seen.push(key);
    }
    if !stopped.is_empty() {
        b.push(Block::Heading(2, "Stopped".into()));
        b.push(Block::Para(
            "Lines not run from the count shown on, because a smaller count's median run took over the sweep's limit (`--stop-over`) or was killed at the timeout: stopped, not failed.".into(),
        ));
        b.push(Block::Table(
            ["implementation", ">not run from", "why"]
                .map(String::from)
                .to_vec(),
            stopped,
        ));
    }
    let failed: Vec<(String, &Failure)> = r
        .rows
        .iter()
        .filter_map(|row| {
            let name = format!(
                "{} {} at {}",
                row.exercise,
                line_label(row),
                row.tasks.unwrap_or(0)
            );
            Some((name, row.failure.as_ref()?))
        })
        .collect();
    if !failed.is_empty() {
        b.push(Block::Heading(2, "Failures".into()));
        b.push(Block::Table(
            ["point", "reason"].map(String::from).to_vec(),
            failed
                .iter()
                .map(|(name, f)| vec![name.clone(), f.reason.clone()])
                .collect(),
        ));
        b.extend(stderr_tails(
            failed.into_iter().map(|(name, f)| (name, Some(f))),
        ));
    }
    Ok(b)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// One line per exercise: the cheapest implementation at the largest count.
pub fn summary(r: &RunResults) -> String {
    let mut out = Vec::new();
    for ex in EXERCISES {
        let largest = r
            .rows
            .iter()
            .filter(|row| row.exercise == ex)
            .filter_map(|row| row.tasks)
            .max();
        let best = r
            .rows
            .iter()
            .filter(|row| row.exercise == ex && row.tasks == largest && row.variant != "floor")
            .filter_map(|row| Some((row, per_task(row)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let (Some(n), Some((row, ns))) = (largest, best) {
            out.push(format!(
                "{ex}: at {n} tasks the cheapest is {} at {} a task",
                line_label(row),
                fmt_ns(ns)
            ));
        }
    }
    out.join("\n")
}
