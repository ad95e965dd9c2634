//! `sweep`: how each strategy's cost grows with the work, and what memory it takes.
//!
//! Runs the variants of ex_6_1, ex_6_2 and ex_6_3 at several task counts on both runtime
//! flavors (and CPython 3.12, when found, up to 10^6 tasks), then writes `sweep.json` (the
//! `results.json` schema: one row per point) and a report with the Scaling section.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::doc::{self, Block};
use crate::exercises;
use crate::format::fmt_ns;
use crate::results::{self, Flags, Row, RunResults};
use crate::run::{self, FlavorChoice};
use crate::runner::{self, Runs, Target};
use crate::{UsageError, plots, python, workspace_root};

/// The exercises a sweep covers.
pub const EXERCISES: [&str; 3] = ["ex_6_1", "ex_6_2", "ex_6_3"];
/// Default task counts: 10^3 … 10^7.
pub const COUNTS: [u64; 5] = [1_000, 10_000, 100_000, 1_000_000, 10_000_000];
/// The largest count CPython runs at.
pub const PYTHON_MAX: u64 = 1_000_000;

/// `cargo xtask sweep` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepFlags {
    /// Task counts, comma-separated [default: 1000,10000,100000,1000000,10000000; up to 100000 with --quick]
    #[arg(long, value_name = "N,N,…", value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub tasks: Vec<u64>,
    /// tokio runtime flavors to run
    #[arg(long, value_enum, default_value_t = FlavorChoice::Both)]
    pub flavor: FlavorChoice,
    /// Measured processes per point [default: 3; 1 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub iterations: Option<u32>,
    /// CPython: auto (CPython 3.12 when found), none, or an interpreter's path
    #[arg(long, value_name = "auto|none|PATH", default_value = "auto")]
    pub python: Vec<String>,
    /// Seconds one process may take before it is killed and recorded as failed
    #[arg(long, value_name = "SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
    /// Where runs go [default: target/xtask]
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
    /// Smoke sweep: 10^3 … 10^5, one run per point
    #[arg(long)]
    pub quick: bool,
}

impl SweepFlags {
    fn counts(&self) -> Vec<u64> {
        let mut counts = if !self.tasks.is_empty() {
            self.tasks.clone()
        } else if self.quick {
            COUNTS[..3].to_vec()
        } else {
            COUNTS.to_vec()
        };
        counts.sort_unstable();
        counts.dedup();
        counts
    }
}

pub fn run(flags: &SweepFlags) -> anyhow::Result<ExitCode> {
    let layout = results::Layout {
        out: match &flags.out {
            Some(dir) => dir.clone(),
            None => workspace_root()?.join("target").join("xtask"),
        },
    };
    let counts = flags.counts();
    let selection: Vec<_> = EXERCISES
        .iter()
        .filter_map(|name| exercises::find(name))
        .flat_map(|e| e.variant_names().map(move |v| (e, v)))
        .collect();
    if let Some(available) = timing::memory::available_bytes() {
        let each: Vec<_> = counts.iter().copied().map(Some).collect();
        // The sweep runs no start-latency rows.
        exercises::check_memory(&selection, &each, false, available)?;
    }
    // Which CPython: with auto, the 3.12 the machine has; given paths are used as they are.
    let mut python = python::resolve(&flags.python)?;
    if flags.python == ["auto"] {
        python
            .interpreters
            .retain(|i| i.version.0 == 3 && i.version.1 == 12);
        python.interpreters.truncate(1);
        if python.interpreters.is_empty() {
            python.note = "CPython 3.12 not found; only the Rust rows ran".into();
        } else {
            python.note = python.interpreters[0].to_string();
        }
    }
    eprintln!("CPython: {}", python.note);
    let iterations = flags.iterations.unwrap_or(if flags.quick { 1 } else { 3 });
    let root = workspace_root()?;
    runner::build_release(&root, &EXERCISES)?;
    let mut session = runner::Session::begin(&layout, &root)?;

    let runs = Runs {
        warmup: 0,
        iterations,
        python_iterations: iterations,
        cap_override: None,
    };
    let mut targets: Vec<Target> = Vec::new();
    for &n in &counts {
        targets.extend(runner::targets(
            &selection,
            flags.flavor.names(),
            Some(n),
            runs,
            &root.join("target").join("release"),
        ));
        if n <= PYTHON_MAX {
            let (py, _) = runner::python_targets(
                &selection,
                &python.interpreters,
                Some(n),
                runs,
                &root.join("scripts").join("python"),
            );
            targets.extend(py);
        }
    }
    eprintln!(
        "sweep {}: {} points at {counts:?} tasks",
        session.id,
        targets.len()
    );
    let measured = session.measure(&targets, Duration::from_secs(flags.timeout))?;
    let flags_used = Flags {
        iterations,
        warmup: 0,
        tasks: None,
        flavors: flags.flavor.names().iter().map(|s| s.to_string()).collect(),
        timeout_secs: flags.timeout,
        quick: flags.quick,
        python: flags.python.clone(),
        python_iterations: iterations,
        python_found: python.note,
        selection: counts.iter().map(|n| format!("sweep:{n}")).collect(),
        baseline: None,
    };
    let results = session.results(flags_used, measured.overhead, measured.rows);
    let run_dir = session.dir;
    results.write(&run_dir.join("sweep.json"))?;
    write_report(&results, &run_dir)?;
    println!("{}", summary(&results));
    Ok(run::finish(&results, &run_dir))
}

/// Reads a sweep folder's `sweep.json`, if it is one.
pub fn read(dir: &Path) -> Option<Result<RunResults, UsageError>> {
    let path = dir.join("sweep.json");
    path.is_file().then(|| RunResults::read(&path))
}

/// `report.md` and `report.html` of a sweep, each written atomically.
pub fn write_report(results: &RunResults, dir: &Path) -> anyhow::Result<()> {
    let blocks = blocks(results, true)?;
    timing::write_atomic(&dir.join("report.md"), doc::markdown(&blocks).as_bytes())?;
    let title = format!("asyncio-in-tokio scaling sweep {}", results.run_id);
    timing::write_atomic(
        &dir.join("report.html"),
        doc::html(&title, &blocks).as_bytes(),
    )
}

/// One implementation of an exercise across the counts: its label and its points by count.
fn lines_of<'a>(r: &'a RunResults, exercise: &str) -> Vec<(String, Vec<&'a Row>)> {
    let mut lines: Vec<(String, Vec<&Row>)> = Vec::new();
    for row in r.rows.iter().filter(|row| row.exercise == exercise) {
        let label = row.label();
        match lines.iter_mut().find(|(l, _)| *l == label) {
            Some((_, points)) => points.push(row),
            None => lines.push((label, vec![row])),
        }
    }
    for (_, points) in &mut lines {
        points.sort_by_key(|row| row.tasks);
    }
    lines
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
                r.flags.flavors.join(" and "),
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
            let series: Vec<(String, Vec<(f64, f64)>)> = lines
                .iter()
                .map(|(label, points)| {
                    let xy = points
                        .iter()
                        .filter_map(|row| Some((row.tasks? as f64, per_task(row)?.max(0.01))))
                        .collect();
                    (label.clone(), xy)
                })
                .collect();
            b.push(Block::Svg {
                caption: format!("{ex}: nanoseconds per task against task count, log-log"),
                svg: plots::scaling(&format!("{ex}: cost per task as the work grows"), &series)?,
            });
        }
        let head = std::iter::once("implementation".to_owned())
            .chain(counts.iter().map(|n| format!(">{n}")))
            .collect();
        let floor = |flavor: &Option<String>, n: u64| {
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
                        match (per_task(row), floor(&row.flavor, n)) {
                            (Some(ns), Some(f)) if row.variant != "floor" && f > 0.0 => {
                                format!("{} ({} floor)", fmt_ns(ns), crate::report::times(ns / f))
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
    let failed: Vec<(String, &results::Failure)> = r
        .rows
        .iter()
        .filter_map(|row| {
            let name = format!(
                "{} {} at {}",
                row.exercise,
                row.label(),
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
        b.extend(crate::report::stderr_tails(
            failed.into_iter().map(|(name, f)| (name, Some(f))),
        ));
    }
    Ok(b)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// One line per exercise: the cheapest implementation at the largest count.
fn summary(r: &RunResults) -> String {
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
                row.label(),
                fmt_ns(ns)
            ));
        }
    }
    out.join("\n")
}
