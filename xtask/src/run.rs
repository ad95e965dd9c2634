//! `run` and `run-all`: build, run every selected exercise process by process, record, report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use timing::cli::Flavor;

use crate::exercises;
use crate::loops::{self, LoopList};
use crate::process::{self, stopped};
use crate::results::{self, Flags, Layout, RunResults};
use crate::{UsageError, env, python, report, workspace_root};

/// Task count and iterations of `--quick`.
pub const QUICK_TASKS: u64 = 100_000;
pub const QUICK_ITERATIONS: u32 = 3;
pub const DEFAULT_ITERATIONS: u32 = 10;
/// The default `--budget`: the whole `run-all`, build included, in 8 minutes, so that with
/// the build of `xtask` itself a fresh clone is done within 10.
pub const DEFAULT_BUDGET_SECS: u64 = 480;
/// What the report and the rest of the run keep of the budget after measuring.
const REPORT_RESERVE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FlavorChoice {
    Current,
    Multi,
    Both,
}

impl FlavorChoice {
    pub fn flavors(self) -> &'static [Flavor] {
        match self {
            FlavorChoice::Current => &[Flavor::Current],
            FlavorChoice::Multi => &[Flavor::Multi],
            FlavorChoice::Both => &Flavor::ALL,
        }
    }
}

/// The flags `run` and `run-all` share.
#[derive(Debug, Clone, clap::Args)]
pub struct RunFlags {
    /// Measured processes per row, a fixed count instead of the time budget [--thorough: 10;
    /// --quick: 3]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub iterations: Option<u32>,
    /// Processes per row run first and discarded
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=1_000))]
    pub warmup: u32,
    /// Tasks per run, where a count applies [default: each exercise's; 100000 with --quick]
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = timing::cli::tasks_count)]
    pub tasks: Option<u64>,
    /// tokio runtime flavors to run
    #[arg(long, value_enum, default_value_t = FlavorChoice::Both)]
    pub flavor: FlavorChoice,
    /// Seconds one process may take before it is killed and recorded as failed
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
    #[arg(long, value_name = "DIR", help = concat!("Where runs, `latest` and baselines go [default: ", crate::default_out!(), "]"))]
    pub out: Option<PathBuf>,
    /// Also save this run as baseline NAME
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    /// Compare this run with baseline NAME (or a results.json) in the report
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// CPython interpreters to run the chapter's Python under: auto (every CPython 3.10+ on
    /// PATH and under pyenv), none, or an interpreter's path (repeatable)
    #[arg(long, value_name = "auto|none|PATH", default_value = "auto")]
    pub python: Vec<String>,
    /// Event loops the CPython rows run on, comma-separated: asyncio (the standard loop; also
    /// gives PyPy's rows and ex_6_2's gc.disable() row), uvloop, rloop [default: all; a loop
    /// that cannot be installed for a CPython is shown as not available]
    #[arg(long, value_name = "LOOPS", value_parser = loops::parse_loops)]
    pub python_loops: Option<LoopList>,
    /// Measured runs of each CPython row [default: 3; 1 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub python_iterations: Option<u32>,
    /// Smoke run: 100000 tasks, 3 iterations
    #[arg(long)]
    pub quick: bool,
    /// Today's full depth instead of the time budget: every row 10 measured processes after a
    /// warmup (CPython rows 3), whatever their precision; takes 15-30 minutes here
    #[arg(long, conflicts_with = "quick")]
    pub thorough: bool,
    /// Seconds the whole command should take, build included: rows run until their 95%
    /// interval is tight or this is spent (not with --quick, --thorough, --iterations or
    /// --python-iterations, which run fixed counts)
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = DEFAULT_BUDGET_SECS,
        value_parser = clap::value_parser!(u64).range(30..=86_400),
        conflicts_with_all = ["quick", "thorough", "iterations", "python_iterations"]
    )]
    pub budget: u64,
}

impl RunFlags {
    pub fn layout(&self) -> anyhow::Result<Layout> {
        Layout::at(self.out.clone())
    }

    fn iterations(&self) -> u32 {
        self.iterations.unwrap_or(if self.quick {
            QUICK_ITERATIONS
        } else {
            DEFAULT_ITERATIONS
        })
    }

    fn python_iterations(&self) -> u32 {
        self.python_iterations
            .unwrap_or(if self.quick { 1 } else { 3 })
    }

    fn tasks(&self) -> Option<u64> {
        self.tasks.or(self.quick.then_some(QUICK_TASKS))
    }

    /// Whether rows run until their interval is tight or the budget is spent, rather than a
    /// fixed number of times.
    pub fn adaptive(&self) -> bool {
        !(self.quick
            || self.thorough
            || self.iterations.is_some()
            || self.python_iterations.is_some())
    }
}

use crate::measure::{
    Runs, Schedule, Session, build_release, discard_if_stopped, extra_targets, loop_targets,
    python_targets, targets,
};

/// `run` / `run-all`: everything from the build to the report.
pub fn run(specs: &[String], flags: &RunFlags) -> anyhow::Result<ExitCode> {
    let began = std::time::Instant::now();
    // Every check of the user's input comes before anything is built, run or written.
    let selection = exercises::select(specs)?;
    let layout = flags.layout()?;
    if let Some(name) = &flags.save_baseline {
        results::check_baseline_name(name)?;
    }
    check_out(&layout, flags.save_baseline.is_some())?;
    results::check_latest_replaceable(&layout.out)?;
    exercises::check_fits(&selection, &[flags.tasks()], true)?;
    let baseline = match &flags.baseline {
        Some(name) => Some(RunResults::read(&layout.resolve_baseline(name)?)?),
        None => None,
    };
    // From here on a stop signal (Ctrl-C, SIGTERM, a hang-up, Ctrl-\) stops the runner's
    // processes and the run, whatever phase it is in: probes, build, venvs or measuring.
    process::catch_stop_signals()?;
    let python = python::resolve(&flags.python);
    // What a probe left running (in a session of its own, say) goes now, not at the exit.
    crate::kill_orphans();
    stopped()?;
    let mut python = python?;
    let chosen = flags.python_loops.clone().unwrap_or_default().0;
    if !python.interpreters.is_empty() {
        let names: Vec<&str> = chosen.iter().map(|l| l.name()).collect();
        python.note = format!("{}; loops: {}", python.note, names.join(", "));
    }
    crate::say!("CPython: {}", python.note);

    let root = workspace_root()?;
    let mut names: Vec<&str> = selection.iter().map(|(e, _)| e.name).collect();
    names.sort_unstable();
    names.dedup();
    // The load before the build: compiling on every core is not the machine being busy.
    let load_before = env::load_average();
    let scripts = root.join("scripts").join("python");
    // The venvs are made while cargo builds: pip mostly waits for the network and the disk.
    let (built, venvs) = std::thread::scope(|s| {
        let venvs = s.spawn(|| {
            loops::prepare_all(
                &python.interpreters,
                &layout.venvs(),
                &scripts.join("requirements.txt"),
                &chosen,
            )
        });
        let built = build_release(&root, &names);
        (built, venvs.join())
    });
    let bin_dir = built?;
    let venvs = venvs.map_err(|_| anyhow::anyhow!("making the venvs panicked"))?;
    stopped()?;
    for line in loops::unavailable(&venvs) {
        crate::say!("cargo xtask: {line}");
    }

    let mut session = Session::begin(&layout, &root)?;
    let dir = session.dir.clone();
    // Everything up to `latest` moving: a failure anywhere in it (a full disk while the report
    // is written, say) removes the half-made run folder, as a stop does.
    let measure_and_write = || -> anyhow::Result<(RunResults, PathBuf)> {
        session.load_before(load_before);
        let runs = Runs {
            warmup: flags.warmup,
            iterations: flags.iterations(),
            python_iterations: flags.python_iterations(),
            cap_override: flags.quick.then_some(1),
        };
        let mut targets = targets(
            &selection,
            flags.flavor.flavors(),
            flags.tasks(),
            runs,
            &bin_dir,
        );
        let extra = extra_targets(&targets, &selection);
        targets.extend(extra);
        // The standard loop's rows (CPython and PyPy), then the other loops' and gc.disable()'s.
        let default_loop: &[python::Interpreter] = if chosen.contains(&loops::Loop::Asyncio) {
            &python.interpreters
        } else {
            &[]
        };
        let (python_targets, mut skipped) =
            python_targets(&selection, default_loop, flags.tasks(), runs, &scripts);
        targets.extend(python_targets);
        let (loop_targets, loop_skipped) =
            loop_targets(&selection, &venvs, &chosen, flags.tasks(), runs, &scripts);
        targets.extend(loop_targets);
        skipped.extend(loop_skipped);
        let timeout = Duration::from_secs(flags.timeout);
        let measured = if flags.adaptive() {
            let deadline = began + Duration::from_secs(flags.budget).saturating_sub(REPORT_RESERVE);
            let previous = RunResults::read(&layout.latest().join("results.json")).ok();
            let schedule = Schedule::adaptive(&mut targets, deadline, previous.as_ref());
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            crate::say!(
                "run {}: {} rows, each until its 95% interval is tight or the budget ends (about {} from now; --thorough for full depth)",
                session.id,
                targets.len(),
                crate::format::fmt_span(left)
            );
            session.measure_scheduled(&targets, &schedule, timeout)?
        } else {
            crate::say!("run {}: {} rows", session.id, targets.len());
            session.measure(&targets, timeout)?
        };

        let mut rows = measured.rows;
        rows.extend(skipped);
        crate::known::classify(&mut rows);
        let flags_used = Flags {
            iterations: runs.iterations,
            warmup: runs.warmup,
            tasks: flags.tasks(),
            flavors: flags.flavor.flavors().to_vec(),
            timeout_secs: flags.timeout,
            quick: flags.quick,
            python: flags.python.clone(),
            python_iterations: runs.python_iterations,
            python_found: python.note,
            selection: specs.to_vec(),
            baseline: flags.baseline.clone(),
            thorough: flags.thorough,
            budget_secs: flags.adaptive().then_some(flags.budget),
        };
        let results = session.results(flags_used, measured.overhead, rows);
        let run_dir = session.dir;
        results.write(&run_dir.join("results.json"))?;
        report::write(
            &results,
            flags.baseline.as_deref().zip(baseline.as_ref()),
            &run_dir,
        )?;
        discard_if_stopped(&run_dir)?;
        layout.point_latest_at(&run_dir)?;
        Ok((results, run_dir))
    };
    let (results, run_dir) = match measure_and_write() {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    if let Some(name) = &flags.save_baseline {
        let path = layout.save_baseline(name, &results)?;
        crate::say!("saved baseline '{name}': {}", path.display());
    }
    print!("{}", report::terminal_summary(&results));
    Ok(finish(&results, &run_dir))
}

/// Refuses, before anything is built, an `--out` the run could not write into: one that is not a
/// folder, or lies under something that is not, and a `runs` (or, to save a baseline,
/// `baselines`) inside it that is not a folder, and a folder (or the nearest that exists above
/// it, and `runs` and `baselines` where they exist) that does not take new files.
pub fn check_out(layout: &Layout, save_baseline: bool) -> Result<(), UsageError> {
    let out = &layout.out;
    // Names the file system cannot hold are refused now, not when the run folder is made.
    use std::os::unix::ffi::OsStrExt;
    if let Some(long) = out
        .components()
        .map(|c| c.as_os_str())
        .find(|c| c.as_bytes().len() > NAME_MAX)
    {
        return Err(UsageError(format!(
            "--out '{}': the name '{}' is {} bytes, over the {NAME_MAX} a file name may have",
            out.display(),
            long.to_string_lossy(),
            long.as_bytes().len()
        )));
    }
    if out.as_os_str().as_bytes().len() + INSIDE_OUT > PATH_MAX {
        return Err(UsageError(format!(
            "--out '{}' is {} bytes long; the files a run writes under it need it under {}",
            out.display(),
            out.as_os_str().as_bytes().len(),
            PATH_MAX - INSIDE_OUT
        )));
    }
    let existing = out.ancestors().find(|p| p.symlink_metadata().is_ok());
    if let Some(existing) = existing
        && !existing.is_dir()
    {
        let under = if existing == out.as_path() {
            String::new()
        } else {
            format!(" ('{}' is a file)", existing.display())
        };
        return Err(UsageError(format!(
            "--out '{}' is not a folder{under}",
            out.display()
        )));
    }
    if let Some(existing) = existing
        && let Err(e) = timing::cli::probe_writable(existing, "xtask-out".as_ref())
    {
        return Err(UsageError(format!(
            "--out '{}': '{}' does not take new files ({e}); give a folder this user can write",
            out.display(),
            existing.display()
        )));
    }
    let runs = layout.runs();
    if runs.symlink_metadata().is_ok() && !runs.is_dir() {
        return Err(UsageError(format!(
            "--out '{}': '{}' is not a folder",
            out.display(),
            runs.display()
        )));
    }
    // The folders the run writes into, where they exist already, take new files too.
    let mut inside = vec![runs];
    if save_baseline {
        results::check_baselines_folder(out)?;
        inside.push(layout.baselines());
    }
    for dir in inside.iter().filter(|d| d.is_dir()) {
        if let Err(e) = timing::cli::probe_writable(dir, "xtask-out".as_ref()) {
            return Err(UsageError(format!(
                "--out '{}': '{}' does not take new files ({e}); give a folder this user can write",
                out.display(),
                dir.display()
            )));
        }
    }
    Ok(())
}

/// The longest file name and path Linux takes (`NAME_MAX`, `PATH_MAX` less its NUL), and room
/// for what a run writes under `--out`: `runs/<id>-NN/.report.html.<16 hex>.tmp`, with margin.
const NAME_MAX: usize = 255;
const PATH_MAX: usize = 4095;
const INSIDE_OUT: usize = 96;

/// Names the report's files and says how many rows failed: exit code 1 when any did, other
/// than by a known incompatibility (those are named, and do not change the exit code).
pub fn finish(results: &RunResults, run_dir: &Path) -> ExitCode {
    println!("report: {}", run_dir.join("report.md").display());
    println!("        {}", run_dir.join("report.html").display());
    let known = results
        .rows
        .iter()
        .filter(|r| r.failure.as_ref().is_some_and(|f| !f.unexpected()))
        .count();
    if known > 0 {
        crate::say!(
            "{known} row(s) fail by a known incompatibility; see the report's Known incompatibilities section"
        );
    }
    let failed = results
        .rows
        .iter()
        .filter(|r| r.failed_unexpectedly())
        .count();
    if failed > 0 {
        crate::say!("{failed} row(s) failed; see the report's Failures section");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
