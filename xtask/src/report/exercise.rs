//! The per-exercise sections: the table of every row, Rust against CPython, the distribution
//! plot, and the sections on `--entry` and start latency.

use timing::cli::Flavor;

use super::label::label;
use crate::exercises;
use crate::exercises::Exercise;
use crate::format::fmt_ns;
use crate::report::doc::Block;
use crate::results::{GC_OFF, Implementation, Row, RowKey, RunResults, Stop};
use crate::stats;

use super::answers;
use super::figures::{Speedup, label_cell, per_task_ns, speedup, speedup_cell, times};
use super::plots::{self, tone};

/// Where a Python row stands among an exercise's Python rows: CPython by version
/// (`cpython-3.12.1` → `[3, 12, 1]`, a free-threaded build after its GIL twin), each version's
/// rows by loop (asyncio, its script variants as the catalogue lists them, its gc-off row,
/// uvloop, rloop); then PyPy. Rust rows: first.
fn python_order(row: &Row) -> (u8, Vec<u32>, bool, (u8, usize)) {
    let kind = row.kind();
    let (family, threaded) = match kind {
        Implementation::CPython { free_threaded, .. } => (1, free_threaded),
        Implementation::PyPy { .. } => (2, false),
        _ => return (0, Vec::new(), false, (0, 0)),
    };
    let numbers = kind.version_numbers();
    let script_variant = exercises::find(&row.exercise).and_then(|ex| {
        ex.script_variants
            .iter()
            .position(|v| v.row_variant() == row.variant)
    });
    let by_loop = match (row.variant.as_str(), script_variant) {
        ("asyncio", _) => (0, 0),
        (_, Some(i)) => (1, i),
        (GC_OFF, _) => (2, 0),
        ("uvloop", _) => (3, 0),
        ("rloop", _) => (4, 0),
        _ => (5, 0),
    };
    (family, numbers, threaded, by_loop)
}

/// Under ex_6_2: per CPython with both rows measured, what share of gather's time the cyclic
/// garbage collector took, 1 − (gc-off median ÷ default median).
fn gc_share(rows: &[&Row]) -> Vec<Block> {
    let mut said = Vec::new();
    for off in rows.iter().filter(|r| r.variant == GC_OFF && r.is_python()) {
        let Some(on) = rows
            .iter()
            .find(|r| r.implementation == off.implementation && r.variant == "asyncio")
        else {
            continue;
        };
        let (Some(a), Some(b)) = (&on.summary, &off.summary) else {
            continue;
        };
        let share = 1.0 - b.p50_ns as f64 / a.p50_ns as f64;
        said.push(format!(
            "{}: {:.0}% ({} with `gc.disable()` against {}, medians)",
            label(on),
            share * 100.0,
            fmt_ns(b.p50_ns as f64),
            fmt_ns(a.p50_ns as f64)
        ));
    }
    if said.is_empty() {
        return Vec::new();
    }
    vec![Block::Para(format!(
        "Share of the time taken by CPython's cyclic garbage collector (1 − gc-off median ÷ default median), collections being triggered again and again while the coroutines are made and gathered: {}.",
        said.join("; ")
    ))]
}

fn reference_row<'a>(rows: &[&'a Row], variant: &str) -> Option<&'a Row> {
    rows.iter()
        .copied()
        .filter(|r| r.variant == variant && r.entry.is_none() && !r.samples_ns.is_empty())
        .min_by_key(|r| r.flavor != Some(Flavor::Current))
}

/// The columns [`stat_cells`] fills.
const STAT_HEAD: [&str; 11] = [
    "row",
    ">n",
    ">min",
    ">p50",
    ">p90",
    ">p99",
    ">max",
    ">mean ± stdev",
    ">per task",
    ">speedup [95% CI]",
    ">precision",
];

/// Where a row that did not run says why: the speedup's column.
const STATUS: usize = 9;

fn stat_cells(row: &Row, speedup: Option<Speedup>) -> Vec<String> {
    let label = label_cell(&label(row));
    let Some(s) = &row.summary else {
        let mut cells = vec![label, "0".into()];
        cells.resize(STAT_HEAD.len(), "—".into());
        let status = &mut cells[STATUS];
        if let Some(f) = &row.failure {
            *status = if f.unexpected() {
                "failed".into()
            } else {
                "fails: a known incompatibility (see below)".into()
            };
        }
        if let Some(why) = &row.skipped {
            *status = why.clone();
        }
        return cells;
    };
    vec![
        label,
        s.count.to_string(),
        fmt_ns(s.min_ns as f64),
        fmt_ns(s.p50_ns as f64),
        fmt_ns(s.p90_ns as f64),
        fmt_ns(s.p99_ns as f64),
        fmt_ns(s.max_ns as f64),
        format!("{} ± {}", fmt_ns(s.mean_ns), fmt_ns(s.stdev_ns)),
        row.tasks
            .and(per_task_ns(row))
            .map(fmt_ns)
            .unwrap_or_else(|| "—".into()),
        speedup.map(speedup_cell).unwrap_or_else(|| "—".into()),
        precision_cell(row),
    ]
}

/// The relative half-width of the 95% interval of the row's geometric mean, `±1.2%`, and why
/// the row stopped short of its goal where it did: `±8.5%` over `(goal ±3%: time budget spent)`.
/// `one run` where there is no interval.
fn precision_cell(row: &Row) -> String {
    let half_width = match &row.precision {
        Some(p) => p.half_width,
        // A results.json written before rows said so: the same figure, from the samples.
        None => stats::relative_half_width(&row.samples_ns),
    };
    let mut cell = match half_width {
        Some(h) => percent(h),
        None => "one run".into(),
    };
    if let Some(p) = &row.precision
        && !matches!(p.stopped, Stop::Goal | Stop::Fixed)
    {
        let goal = p
            .goal
            .map(|g| format!("goal {}: ", percent(g)))
            .unwrap_or_default();
        cell = format!("{cell}\n({goal}{})", p.stopped.describe());
    }
    cell
}

/// `±1.2%`, `±0.05%`, `±12%`.
pub(crate) fn percent(h: f64) -> String {
    let pc = h * 100.0;
    if pc >= 9.95 {
        format!("±{pc:.0}%")
    } else if pc >= 0.995 {
        format!("±{pc:.1}%")
    } else {
        format!("±{pc:.2}%")
    }
}

/// Spawning from `main` as a worker task against spawning from `block_on`, row by row.
pub fn entry_section(r: &RunResults) -> Vec<Block> {
    let mut table = Vec::new();
    for from_block_on in r
        .rows
        .iter()
        .filter(|row| row.entry.is_some() && row.measure.is_none())
    {
        let plain = RowKey {
            entry: None,
            ..from_block_on.key()
        };
        let Some(from_task) = r.rows.iter().find(|row| row.key() == plain) else {
            continue;
        };
        let (Some(task), Some(block_on)) = (&from_task.summary, &from_block_on.summary) else {
            continue;
        };
        // How many times faster `block_on` is than a task.
        let ratio = speedup(from_block_on, from_task);
        let faster = match ratio.and_then(|s| s.interval) {
            Some((low, _)) if low > 1.0 => "`block_on`",
            Some((_, high)) if high < 1.0 => "a task",
            Some(_) => "no clear difference",
            None => "—",
        };
        table.push(vec![
            format!("{} {}", from_task.exercise, label(from_task)),
            fmt_ns(task.mean_ns),
            fmt_ns(block_on.mean_ns),
            ratio.map(speedup_cell).unwrap_or_else(|| "—".into()),
            faster.into(),
        ]);
    }
    if table.is_empty() {
        return Vec::new();
    }
    vec![
        Block::Heading(2, "Spawning from a worker task or from `block_on`".into()),
        Block::Para(
            "The same rows with `main` run as a task (the default, as `asyncio.run` does) and directly in `Runtime::block_on` on the main thread. On the multi-thread runtime, spawns from a worker task go to that worker's own queue; spawns from `block_on` go through the runtime's shared inject queue.".into(),
        ),
        Block::Table(
            ["row", ">from a task (mean)", ">from `block_on` (mean)", ">`block_on` against a task [95% CI]", "faster"]
                .map(String::from)
                .to_vec(),
            table,
        ),
    ]
}

/// Each task's time from creation to first poll, per start-latency row.
pub fn latency_section(r: &RunResults, plots: bool) -> anyhow::Result<Vec<Block>> {
    let rows: Vec<(&Row, hdrhistogram::Histogram<u64>)> = r
        .rows
        .iter()
        .filter_map(|row| Some((row, row.start_latency.as_ref()?.histogram())))
        .filter(|(_, h)| !h.is_empty())
        .collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut b = vec![
        Block::Heading(2, "Start latency".into()),
        Block::Para(
            "Each task's time from its creation to its first poll, every task of one run (`--measure start-latency`). An eager task is polled where it is created; a scheduled one waits for the runtime to reach it; a gathered coroutine waits for the gather to start.".into(),
        ),
    ];
    let table = rows
        .iter()
        .map(|(row, h)| {
            let mut cells = vec![
                format!("{} {}", row.exercise, label(row)),
                h.len().to_string(),
            ];
            cells.extend([0.5, 0.9, 0.99, 0.999].map(|q| fmt_ns(h.value_at_quantile(q) as f64)));
            cells.push(fmt_ns(h.max() as f64));
            cells
        })
        .collect();
    b.push(Block::Table(
        ["row", ">tasks", ">p50", ">p90", ">p99", ">p99.9", ">max"]
            .map(String::from)
            .to_vec(),
        table,
    ));
    if plots {
        for ex in exercises::ALL {
            let series: Vec<_> = rows
                .iter()
                .filter(|(row, _)| row.exercise == ex.name)
                .map(|(row, h)| (label(row), h.clone()))
                .collect();
            if !series.is_empty() {
                b.push(Block::Svg {
                    caption: format!(
                        "{}: each task's time from creation to first poll, against percentile of tasks, log scales",
                        ex.name
                    ),
                    svg: plots::percentiles(&format!("{} start latency", ex.name), &series)?,
                });
            }
        }
    }
    Ok(b)
}

/// Each Rust row against each CPython row of an exercise: how many times faster.
fn against_python(rows: &[&Row]) -> Option<Block> {
    let rows: Vec<&Row> = rows.iter().copied().filter(|r| r.entry.is_none()).collect();
    // The standard loop's rows only: one column per interpreter.
    let python: Vec<&Row> = rows
        .iter()
        .copied()
        .filter(|r| r.is_default_python() && !r.samples_ns.is_empty())
        .collect();
    let rust: Vec<&Row> = rows
        .iter()
        .copied()
        .filter(|r| !r.is_python() && !r.samples_ns.is_empty())
        .collect();
    if python.is_empty() || rust.is_empty() {
        return None;
    }
    let head = std::iter::once("Rust row".to_owned())
        .chain(python.iter().map(|p| format!(">vs {}", label(p))))
        .collect();
    let table = rust
        .iter()
        .map(|r| {
            std::iter::once(label_cell(&label(r)))
                .chain(python.iter().map(|p| {
                    speedup(r, p)
                        .map(speedup_cell)
                        .unwrap_or_else(|| "—".into())
                }))
                .collect()
        })
        .collect();
    Some(Block::Table(head, table))
}

/// One exercise's section: its heading, the table of its rows (Rust as they ran, then CPython
/// from the oldest version up), Rust against CPython, and its distribution plot. Each row's
/// speedup against the exercise's reference joins `speedups`, for the overview chart.
pub fn section(
    ex: &Exercise,
    mut rows: Vec<&Row>,
    plots: bool,
    speedups: &mut Vec<plots::Group>,
) -> anyhow::Result<Vec<Block>> {
    let mut b = Vec::new();
    // Grouped by family (this project, plain tokio, Rust peers, floor, CPython, other loops,
    // PyPy), Rust rows as they ran within theirs, CPython from the oldest version up.
    rows.sort_by_key(|r| {
        let rust = if r.is_python() {
            u8::MAX
        } else {
            tone(r) as u8
        };
        (rust, python_order(r))
    });
    let fastest = rows
        .iter()
        .filter(|r| r.variant != "floor")
        .filter_map(|r| Some((*r, per_task_ns(r)?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(r, _)| r);
    b.push(Block::Heading(2, format!("{}: {}", ex.name, ex.about)));
    let reference = reference_row(&rows, ex.reference);
    let ref_label = reference
        .map(label)
        .unwrap_or_else(|| format!("{} (not run)", ex.reference));
    let tasks = reference
        .and_then(|r| r.tasks)
        .or_else(|| rows.iter().find_map(|r| r.tasks));
    // Rows held to fewer tasks (a variant's cap): compared per task.
    let fewer: Vec<String> = rows
        .iter()
        .filter(|r| r.tasks.is_some() && r.tasks != tasks)
        .map(|r| format!("`{}`", label(r)))
        .collect();
    let fewer = if fewer.is_empty() {
        String::new()
    } else {
        format!(
            " Rows run at another count, compared per task: {}.",
            fewer.join(", ")
        )
    };
    b.push(Block::Para(match tasks {
        Some(n) => format!("{n} tasks a run. Speedups are against `{ref_label}`.{fewer}"),
        None => format!("Speedups are against `{ref_label}`."),
    }));
    let head = STAT_HEAD.into_iter().map(String::from);
    // The least the same work can cost, on the row's flavor (CPython rows: current-thread).
    let floor_of = |row: &Row| {
        let flavor = row.flavor.unwrap_or(Flavor::Current);
        rows.iter().find(|f| {
            f.variant == "floor"
                && f.entry.is_none()
                && f.flavor == Some(flavor)
                && f.summary.is_some()
        })
    };
    let has_floor = rows.iter().any(|r| floor_of(r).is_some());
    let head = head
        .chain(has_floor.then(|| ">× floor".to_owned()))
        .chain(["family".to_owned()])
        .collect();
    let mut table = Vec::new();
    let mut bars = Vec::new();
    for row in &rows {
        let ratio = reference.and_then(|r| speedup(row, r));
        let mut cells = stat_cells(row, ratio);
        if has_floor {
            // How many times the floor's cost: the inverse of the row's speedup over it.
            let multiple = floor_of(row)
                .and_then(|f| speedup(row, f))
                .map(|s| times(1.0 / s.point));
            cells.push(multiple.unwrap_or_else(|| "—".into()));
        }
        cells.push(family_cell(ex, row, fastest));
        table.push(cells);
        if let (Some(r), Some(reference)) = (ratio, reference)
            && !std::ptr::eq(*row, reference)
        {
            bars.push(plots::Bar {
                label: label(row),
                value: r.point,
                interval: r.interval,
                tone: tone(row),
                note: None,
            });
        }
    }
    b.push(Block::Table(head, table));
    b.extend(gc_share(&rows));
    if !bars.is_empty() {
        speedups.push(plots::Group {
            name: format!("{} (against {ref_label})", ex.name),
            bars,
        });
    }
    if let Some(versus) = against_python(&rows) {
        b.push(Block::Para(
            "How many times faster each Rust row is than each Python row on the standard asyncio loop, with the 95% interval:"
                .into(),
        ));
        b.push(versus);
    }
    // Ten whole-process times say little as percentiles (p99 of ten is the max): each is a dot.
    let strips: Vec<plots::Strip> = rows
        .iter()
        .filter(|r| !r.samples_ns.is_empty())
        .map(|r| plots::Strip {
            label: label(r),
            tone: tone(r),
            samples_ns: r.samples_ns.clone(),
        })
        .collect();
    if plots && !strips.is_empty() {
        b.push(Block::Svg {
            caption: format!(
                "{}: every measured process' time, a dot each; the black tick is each row's median",
                ex.name
            ),
            svg: plots::strips(
                &format!("{}: time of each run", ex.name),
                "time per run (log scale)",
                &strips,
            )?,
        });
    }
    Ok(b)
}

/// A row's family, and whether it is the exercise's fastest row or the one a Rust developer
/// would most likely write: `peer · idiomatic`, `project · fastest`.
fn family_cell(ex: &Exercise, row: &Row, fastest: Option<&Row>) -> String {
    let mut cell = tone(row).short_name().to_owned();
    if matches!(row.kind(), Implementation::CPython { .. }) && row.variant != "asyncio" {
        cell = match ex.script_variant_of_row(&row.variant) {
            Some(v) => format!("CPython, `--variant {}`", v.name),
            None => format!("CPython + {}", row.variant),
        };
    }
    // The Rust peer the Answers compare with: never a row the Pitfalls call quadratic.
    if answers::peer(ex) == Some(row.variant.as_str()) && !row.is_python() && row.entry.is_none() {
        cell.push_str(" · idiomatic");
    }
    if fastest.is_some_and(|f| std::ptr::eq(f, row)) {
        cell.push_str(" · fastest");
    }
    cell
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_that_did_not_run_says_why_in_the_speedup_column() {
        assert_eq!(STAT_HEAD[STATUS], ">speedup [95% CI]");
        let key = RowKey {
            exercise: "ex_6_4".into(),
            variant: "asyncio".into(),
            implementation: "cpython-3.12.1".into(),
            flavor: None,
            tasks: None,
            entry: None,
            measure: None,
        };
        let cells = stat_cells(&Row::skipped(key, "needs 3.13+".into()), None);
        assert_eq!(cells.len(), STAT_HEAD.len());
        assert_eq!(cells[STATUS], "needs 3.13+");
        assert_eq!(cells[STATUS + 1], "—", "no precision without samples");
    }

    #[test]
    fn precision_reads_as_a_percentage() {
        assert_eq!(percent(0.021), "±2.1%");
        assert_eq!(percent(0.4), "±40%");
        assert_eq!(percent(0.0005), "±0.05%");
    }
}
