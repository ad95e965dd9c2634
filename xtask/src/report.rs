//! `report.md` and `report.html` from a run's results (and a baseline's), and the terminal summary.

use std::fmt::Write;
use std::path::Path;

use crate::doc::{self, Block};
use crate::exercises;
use crate::format::fmt_ns;
use crate::plots;
use crate::results::{Row, RowKey, RunResults};
use crate::stats::{self, Ratio};

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
    b.push(Block::List(header(results)));
    let warnings = warnings(results);
    if !warnings.is_empty() {
        b.push(Block::Heading(2, "Warnings".into()));
        b.push(Block::List(warnings));
    }
    let mut speedups = Vec::new();
    for ex in exercises::ALL {
        let mut rows: Vec<&Row> = results
            .rows
            .iter()
            .filter(|r| r.exercise == ex.name && r.measure.is_none())
            .collect();
        if rows.is_empty() {
            continue;
        }
        // Rust rows as they ran, then CPython rows from the oldest version up (each version's
        // loops and gc row beside its default row), then PyPy.
        rows.sort_by_key(|r| python_order(r));
        b.push(Block::Heading(2, format!("{}: {}", ex.name, ex.about)));
        let reference = reference_row(&rows, ex.reference);
        let ref_label = reference
            .map(|r| r.label())
            .unwrap_or_else(|| format!("{} (not run)", ex.reference));
        let tasks = rows.iter().find_map(|r| r.tasks);
        b.push(Block::Para(match tasks {
            Some(n) => format!("{n} tasks a run. Speedups are against `{ref_label}`."),
            None => format!("Speedups are against `{ref_label}`."),
        }));
        let head = [
            "row",
            ">n",
            ">min",
            ">p50",
            ">p90",
            ">p99",
            ">max",
            ">mean ± stdev",
            ">per task",
        ]
        .into_iter()
        .map(String::from)
        .chain([format!(">speedup vs {ref_label} [95% CI]")]);
        // The least the same work can cost, on the row's flavor (CPython rows: current-thread).
        let floor_of = |row: &Row| {
            let flavor = row.flavor.as_deref().unwrap_or("current");
            rows.iter().find(|f| {
                f.variant == "floor"
                    && f.entry.is_none()
                    && f.flavor.as_deref() == Some(flavor)
                    && f.summary.is_some()
            })
        };
        let has_floor = rows.iter().any(|r| floor_of(r).is_some());
        let head = head
            .chain(has_floor.then(|| ">× floor".to_owned()))
            .collect();
        let mut table = Vec::new();
        for row in &rows {
            let ratio = reference.and_then(|r| stats::ratio(&r.samples_ns, &row.samples_ns));
            let mut cells = stat_cells(row, ratio);
            if has_floor {
                let multiple = floor_of(row)
                    .and_then(|f| Some(row.summary.as_ref()?.mean_ns / f.summary.as_ref()?.mean_ns))
                    .map(times);
                cells.push(multiple.unwrap_or_else(|| "—".into()));
            }
            table.push(cells);
            if let (Some(r), Some(reference)) = (ratio, reference)
                && !std::ptr::eq(*row, reference)
            {
                speedups.push(plots::Bar {
                    label: format!("{} {}", row.exercise, row.label()),
                    value: r.point,
                    interval: Some((r.low, r.high)),
                });
            }
        }
        b.push(Block::Table(head, table));
        b.extend(gc_share(&rows));
        if let Some(versus) = against_python(&rows) {
            b.push(Block::Para(
                "How many times faster each Rust row is than each Python row on the standard asyncio loop:".into(),
            ));
            b.push(versus);
        }
        if plots {
            let series: Vec<_> = rows
                .iter()
                .filter(|r| !r.samples_ns.is_empty())
                .map(|r| (r.label(), r.histogram.histogram()))
                .collect();
            b.push(Block::Svg {
                caption: format!("{}: time per run against percentile, log scales", ex.name),
                svg: plots::percentiles(&format!("{} percentile distribution", ex.name), &series)?,
            });
        }
    }
    let per_task: Vec<plots::Bar> = results
        .rows
        .iter()
        .filter(|r| r.measure.is_none())
        .filter_map(|r| {
            Some(plots::Bar {
                label: format!("{} {}", r.exercise, r.label()),
                value: r.summary.as_ref()?.per_item_ns?,
                interval: None,
            })
        })
        .collect();
    if plots && !per_task.is_empty() {
        b.push(Block::Heading(2, "Cost per task".into()));
        b.push(Block::Svg {
            caption:
                "mean nanoseconds per task (or call) of every row, Rust and CPython, log scale"
                    .into(),
            svg: plots::bars(
                "Nanoseconds per task, every implementation",
                "ns per task (log scale)",
                plots::Unit::Nanos,
                &per_task,
            )?,
        });
    }
    if plots && !speedups.is_empty() {
        b.push(Block::Heading(2, "Speedups".into()));
        b.push(Block::Svg {
            caption: "each row against its exercise's reference row (ratio of geometric means, 95% CI as a black line; red line: 1×)".into(),
            svg: plots::bars("Speedup against each exercise's reference", "times faster (log scale)", plots::Unit::Times, &speedups)?,
        });
    }
    b.extend(entry_section(results));
    b.extend(latency_section(results, plots)?);
    b.push(Block::Heading(2, "Claims".into()));
    b.push(Block::Para(
        "Each claim the chapter makes, and the project's own targets, measured here. A claim holds when the whole 95% confidence interval of the ratio clears the threshold.".into(),
    ));
    b.push(Block::Table(
        ["claim", "source", "measured here", "holds"]
            .map(String::from)
            .to_vec(),
        claims(results),
    ));
    if let Some((name, base)) = baseline {
        b.extend(comparison(results, name, base));
    }
    b.extend(known_section(results));
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
    b.push(Block::Heading(2, "Method".into()));
    b.push(Block::List(vec![
        format!(
            "Each row ran {} measured processes after {} discarded warmup process(es), one run each; rounds were interleaved (every row once per round), so drift touches every row alike.",
            results.flags.iterations, results.flags.warmup
        ),
        "Exercises whose time is a fixed sleep (ex_2_2, ex_2_7) run at most 3 times (1 with `--quick`), in the last rounds, with no warmup.".into(),
        "Each process times the same span its Python original times and records it in nanoseconds; the samples of a row are merged into one HDR histogram (3 significant digits).".into(),
        "Speedup: the ratio of geometric means of the reference row and the row; its 95% confidence interval is Welch's t interval on the log samples.".into(),
        format!(
            "Baseline comparison: Welch's two-sided t-test on log samples at the {:.0}% level; a regression is a significant slowdown of {:.0}% or more.",
            ALPHA * 100.0,
            (REGRESSION - 1.0) * 100.0
        ),
        format!("A row's spread is wide when its standard deviation exceeds {:.0}% of its mean.", WIDE_SPREAD * 100.0),
    ]));
    Ok(b)
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
            "Flags: {} iterations after {} warmup, {tasks}, flavors {}, timeout {} s{}.",
            r.flags.iterations,
            r.flags.warmup,
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
            if r.rows.iter().any(Row::is_python) {
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

/// Where a row stands in its exercise's table: Rust rows first, as they ran; then CPython by
/// version (`cpython-3.12.1` → `[3, 12, 1]`, a free-threaded build after its GIL twin), each
/// version's rows by loop (asyncio, its gc-off row, uvloop, rloop); then PyPy.
fn python_order(row: &Row) -> (u8, Vec<u32>, bool, u8) {
    let (family, version) = if let Some(v) = row.implementation.strip_prefix("cpython-") {
        (1, v)
    } else if let Some(v) = row.implementation.strip_prefix("pypy-") {
        (2, v)
    } else {
        return (0, Vec::new(), false, 0);
    };
    let threaded = version.ends_with('t');
    let numbers = version
        .trim_end_matches('t')
        .split('.')
        .filter_map(|n| n.parse().ok())
        .collect();
    let by_loop = match row.variant.as_str() {
        "asyncio" => 0,
        "asyncio_gc_off" => 1,
        "uvloop" => 2,
        "rloop" => 3,
        _ => 4,
    };
    (family, numbers, threaded, by_loop)
}

/// Under ex_6_2: per CPython with both rows measured, what share of gather's time the cyclic
/// garbage collector took, 1 − (gc-off median ÷ default median).
fn gc_share(rows: &[&Row]) -> Vec<Block> {
    let mut said = Vec::new();
    for off in rows
        .iter()
        .filter(|r| r.variant == crate::loops::GC_OFF && r.is_python())
    {
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
            on.label(),
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

/// The machine was busy, or a row's spread was wide: each reason, naming what it concerns.
pub fn warnings(r: &RunResults) -> Vec<String> {
    let e = &r.environment;
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
    if e.governor_before != e.governor_after {
        out.push(format!(
            "The CPU frequency governor changed during the run: {} → {}.",
            e.governor_before.as_deref().unwrap_or("unknown"),
            e.governor_after.as_deref().unwrap_or("unknown")
        ));
    }
    let wide: Vec<String> = r
        .rows
        .iter()
        .filter_map(|row| {
            let spread = stats::relative_spread(&row.samples_ns);
            (spread > WIDE_SPREAD).then(|| {
                format!(
                    "`{} {}` ({:.0}%)",
                    row.exercise,
                    row.label(),
                    spread * 100.0
                )
            })
        })
        .collect();
    if !wide.is_empty() {
        out.push(format!(
            "Wide spread (standard deviation over {:.0}% of the mean): {}.",
            WIDE_SPREAD * 100.0,
            wide.join(", ")
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

fn reference_row<'a>(rows: &[&'a Row], variant: &str) -> Option<&'a Row> {
    rows.iter()
        .copied()
        .filter(|r| r.variant == variant && r.entry.is_none() && !r.samples_ns.is_empty())
        .min_by_key(|r| r.flavor.as_deref() != Some("current"))
}

fn stat_cells(row: &Row, ratio: Option<Ratio>) -> Vec<String> {
    let label = row.label();
    let Some(s) = &row.summary else {
        let mut cells = vec![label, "0".into()];
        cells.resize(10, "—".into());
        if let Some(f) = &row.failure {
            cells[9] = if f.unexpected() {
                "failed".into()
            } else {
                "fails: a known incompatibility (see below)".into()
            };
        }
        if let Some(why) = &row.skipped {
            cells[9] = why.clone();
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
        s.per_item_ns.map(fmt_ns).unwrap_or_else(|| "—".into()),
        ratio.map(fmt_ratio).unwrap_or_else(|| "—".into()),
    ]
}

/// `2.50× [2.31×, 2.70×]`.
pub fn fmt_ratio(r: Ratio) -> String {
    format!("{} [{}, {}]", times(r.point), times(r.low), times(r.high))
}

/// A ratio with three significant digits (two past the point at least): `230×`, `2.50×`,
/// `0.00233×`.
pub fn times(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}×")
    } else if x >= 10.0 {
        format!("{x:.1}×")
    } else if x >= 0.1 || x <= 0.0 {
        format!("{x:.2}×")
    } else {
        let digits = (2.0 - x.log10().floor()) as usize;
        format!("{x:.digits$}×")
    }
}

/// Which row of an exercise a claim reads.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// A Rust variant on the current-thread runtime.
    Rust(&'static str),
    /// The CPython row of this `major.minor`, any patch level.
    Python(u32, u32),
}

impl Who {
    fn label(self) -> String {
        match self {
            Who::Rust(variant) => format!("{variant} (current)"),
            Who::Python(major, minor) => format!("CPython {major}.{minor}"),
        }
    }
}

fn find<'a>(r: &'a RunResults, exercise: &str, who: Who) -> Option<&'a Row> {
    r.rows.iter().find(|row| {
        row.exercise == exercise
            && !row.samples_ns.is_empty()
            && row.entry.is_none()
            && row.measure.is_none()
            && match who {
                Who::Rust(variant) => {
                    row.variant == variant && row.flavor.as_deref() == Some("current")
                }
                // The chapter's own setting: the standard loop, the collector on, the GIL.
                Who::Python(major, minor) => {
                    row.variant == "asyncio"
                        && !row.implementation.ends_with('t')
                        && row
                            .implementation
                            .starts_with(&format!("cpython-{major}.{minor}."))
                }
            }
    })
}

/// What a claim's ratio must do to hold.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// The whole interval above this.
    Above(f64),
    /// The whole interval below this.
    Below(f64),
}

/// One claim about the ratio `a / b` of two rows.
fn claim_row(
    r: &RunResults,
    claim: &str,
    source: &str,
    a: (&str, Who),
    b: (&str, Who),
    bound: Bound,
) -> Vec<String> {
    let name = |(ex, who): (&str, Who)| format!("`{ex} {}`", who.label());
    let (measured, holds) = match (find(r, a.0, a.1), find(r, b.0, b.1)) {
        (Some(x), Some(y)) => match stats::ratio(&x.samples_ns, &y.samples_ns) {
            Some(ratio) => {
                let (clear, point) = match bound {
                    Bound::Above(t) => (ratio.low > t, ratio.point > t),
                    Bound::Below(t) => (ratio.high < t, ratio.point < t),
                };
                let holds = if clear {
                    "yes"
                } else if point {
                    "unclear: the interval crosses the threshold"
                } else {
                    "no"
                };
                (
                    format!("{} ÷ {}: {}", name(a), name(b), fmt_ratio(ratio)),
                    holds.to_owned(),
                )
            }
            None => (
                format!("{} ÷ {}: too few samples", name(a), name(b)),
                "not measured".into(),
            ),
        },
        _ => (
            format!("needs rows {} and {}", name(a), name(b)),
            "not measured".into(),
        ),
    };
    vec![claim.into(), source.into(), measured, holds]
}

fn claims(r: &RunResults) -> Vec<Vec<String>> {
    let eager = "An eager TaskGroup (ex_6_1) is several times faster than gather (ex_6_2); the chapter's test asks for more than 4×";
    let nearly_six = "\"nearly 6 times faster\" (CPython 3.12)";
    let mut rows = vec![
        claim_row(
            r,
            eager,
            nearly_six,
            ("ex_6_2", Who::Python(3, 12)),
            ("ex_6_1", Who::Python(3, 12)),
            Bound::Above(4.0),
        ),
        claim_row(
            r,
            eager,
            nearly_six,
            ("ex_6_2", Who::Python(3, 13)),
            ("ex_6_1", Who::Python(3, 13)),
            Bound::Above(4.0),
        ),
        claim_row(
            r,
            eager,
            "the same pair in Rust",
            ("ex_6_2", Who::Rust("join_all")),
            ("ex_6_1", Who::Rust("eager")),
            Bound::Above(4.0),
        ),
        claim_row(
            r,
            "Eager task start makes task-heavy code 2× to 5× faster (at least 2×)",
            "\"making some use-cases 2x to 5x faster\"",
            ("ex_6_1", Who::Rust("spawn")),
            ("ex_6_1", Who::Rust("eager")),
            Bound::Above(2.0),
        ),
        claim_row(
            r,
            "`current_task` is much faster in CPython 3.12 than in 3.10 (at least 4×)",
            "\"nearly six times\": 0.05 s against 0.33 s on the author's PC",
            ("ex_6_3", Who::Python(3, 10)),
            ("ex_6_3", Who::Python(3, 12)),
            Bound::Above(4.0),
        ),
        claim_row(
            r,
            "Eager ex_6_1 costs at most 3× its floor (each future polled once inline)",
            "this project's target",
            ("ex_6_1", Who::Rust("eager")),
            ("ex_6_1", Who::Rust("floor")),
            Bound::Below(3.0),
        ),
        claim_row(
            r,
            "A gather that polls the futures where they lie costs at most 3× its floor",
            "this project's target",
            ("ex_6_2", Who::Rust("gather_in_place")),
            ("ex_6_2", Who::Rust("floor")),
            Bound::Below(3.0),
        ),
        claim_row(
            r,
            "Eager ex_6_1 is at least 300× faster than CPython 3.12's",
            "this project's target",
            ("ex_6_1", Who::Python(3, 12)),
            ("ex_6_1", Who::Rust("eager")),
            Bound::Above(300.0),
        ),
        claim_row(
            r,
            "ex_6_2 `join_all` is at least 80× faster than CPython 3.12's gather",
            "this project's target",
            ("ex_6_2", Who::Python(3, 12)),
            ("ex_6_2", Who::Rust("join_all")),
            Bound::Above(80.0),
        ),
        claim_row(
            r,
            "ex_6_3 `try_id` is at least 25× faster than CPython 3.12's `current_task`",
            "this project's target",
            ("ex_6_3", Who::Python(3, 12)),
            ("ex_6_3", Who::Rust("try_id")),
            Bound::Above(25.0),
        ),
        claim_row(
            r,
            "Spawning through a task group costs no more than bare `tokio::spawn` of the same tasks (at most 1×)",
            "this project's target",
            ("ex_6_1", Who::Rust("spawn")),
            ("ex_6_1", Who::Rust("bare_spawn")),
            Bound::Below(1.0),
        ),
        claim_row(
            r,
            "An item through `queue::Queue` (queue_pc) is at least 20× faster than through CPython 3.12's `asyncio.Queue`",
            "this project's target",
            ("queue_pc", Who::Python(3, 12)),
            ("queue_pc", Who::Rust("queue")),
            Bound::Above(20.0),
        ),
    ];
    // A CPython 3.13 row repeats the 3.12 claim; leave it out when 3.13 did not run.
    rows.retain(|row| {
        !(row[1] == nearly_six && row[3] == "not measured" && row[2].contains("CPython 3.13"))
    });
    rows
}

/// Spawning from `main` as a worker task against spawning from `block_on`, row by row.
fn entry_section(r: &RunResults) -> Vec<Block> {
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
        let ratio = stats::ratio(&from_block_on.samples_ns, &from_task.samples_ns);
        let faster = match ratio {
            Some(x) if x.low > 1.0 => "a task",
            Some(x) if x.high < 1.0 => "`block_on`",
            Some(_) => "no clear difference",
            None => "—",
        };
        table.push(vec![
            format!("{} {}", from_task.exercise, from_task.label()),
            fmt_ns(task.mean_ns),
            fmt_ns(block_on.mean_ns),
            ratio.map(fmt_ratio).unwrap_or_else(|| "—".into()),
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
            ["row", ">from a task (mean)", ">from `block_on` (mean)", ">`block_on` ÷ task [95% CI]", "faster"]
                .map(String::from)
                .to_vec(),
            table,
        ),
    ]
}

/// Each task's time from creation to first poll, per start-latency row.
fn latency_section(r: &RunResults, plots: bool) -> anyhow::Result<Vec<Block>> {
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
                format!("{} {}", row.exercise, row.label()),
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
                .map(|(row, h)| (row.label(), h.clone()))
                .collect();
            if !series.is_empty() {
                b.push(Block::Svg {
                    caption: format!("{}: start latency against percentile, log scales", ex.name),
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
        .chain(python.iter().map(|p| format!(">vs {} [95% CI]", p.label())))
        .collect();
    let table = rust
        .iter()
        .map(|r| {
            std::iter::once(r.label())
                .chain(python.iter().map(|p| {
                    stats::ratio(&p.samples_ns, &r.samples_ns)
                        .map(fmt_ratio)
                        .unwrap_or_else(|| "—".into())
                }))
                .collect()
        })
        .collect();
    Some(Block::Table(head, table))
}

/// The comparison with baseline `name`: every row found in both runs.
pub fn comparison(results: &RunResults, name: &str, base: &RunResults) -> Vec<Block> {
    let mut rows = Vec::new();
    let mut regressions = 0;
    for row in &results.rows {
        let Some(old) = base.rows.iter().find(|b| b.key() == row.key()) else {
            continue;
        };
        let (Some(now), Some(then)) = (&row.summary, &old.summary) else {
            continue;
        };
        let ratio = stats::ratio(&row.samples_ns, &old.samples_ns);
        let p = stats::welch_p_value(&row.samples_ns, &old.samples_ns);
        let verdict = match (ratio, p) {
            (Some(r), Some(p)) if p < ALPHA && r.point >= REGRESSION => {
                regressions += 1;
                "**regression**"
            }
            (Some(r), Some(p)) if p < ALPHA && r.point < 1.0 => "faster",
            (Some(_), Some(p)) if p < ALPHA => "slower, under the threshold",
            (Some(_), Some(_)) => "no significant change",
            _ => "too few samples",
        };
        rows.push(vec![
            format!("{} {}", row.exercise, row.label()),
            fmt_ns(then.mean_ns),
            fmt_ns(now.mean_ns),
            ratio
                .map(|r| format!("{:+.1}%", (r.point - 1.0) * 100.0))
                .unwrap_or_else(|| "—".into()),
            p.map(|p| format!("{p:.3}")).unwrap_or_else(|| "—".into()),
            verdict.into(),
        ]);
    }
    vec![
        Block::Heading(2, format!("Compared with baseline `{name}`")),
        Block::Para(format!(
            "Baseline run `{}`. Change: ratio of geometric means, this run over the baseline. p: Welch's two-sided t-test on log samples. {} regression(s).",
            base.run_id, regressions
        )),
        Block::Table(
            [
                "row",
                ">baseline mean",
                ">this run's mean",
                ">change",
                ">p",
                "verdict",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        ),
    ]
}

/// Per exercise: its fastest implementation, and how many times faster it is than each other.
pub fn terminal_summary(r: &RunResults) -> String {
    let mut out = String::new();
    for ex in exercises::ALL {
        let rows: Vec<&Row> = r
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
        let Some(fastest) = rows
            .iter()
            .copied()
            .min_by(|a, b| mean(a).total_cmp(&mean(b)))
        else {
            continue;
        };
        let _ = write!(
            out,
            "{}: fastest is {}, {} a run",
            ex.name,
            fastest.label(),
            fmt_ns(mean(fastest))
        );
        let others: Vec<String> = rows
            .iter()
            .filter(|row| !std::ptr::eq(**row, fastest))
            .map(|row| {
                format!(
                    "{} faster than {}",
                    times(mean(row) / mean(fastest)),
                    row.label()
                )
            })
            .collect();
        if others.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, ": {}", others.join(", "));
        }
    }
    out
}

fn mean(row: &Row) -> f64 {
    row.summary.as_ref().map(|s| s.mean_ns).unwrap_or(f64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_keep_three_significant_digits() {
        assert_eq!(times(652.7), "653×");
        assert_eq!(times(87.34), "87.3×");
        assert_eq!(times(2.5), "2.50×");
        assert_eq!(times(0.52), "0.52×");
        assert_eq!(times(0.0233), "0.0233×");
        assert_eq!(times(0.00233), "0.00233×");
    }
}
