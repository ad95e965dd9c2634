//! What to run: a row per exercise × variant × flavor × interpreter, and how many times.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use timing::cli::{Entry, Flavor, Measure};

use crate::exercises::Exercise;
use crate::loops::{GC_EXERCISE, Loop, Venv};
use crate::python;
use crate::results::{GC_OFF, Row, RowKey};

/// One row to measure: which binary, with which flags.
#[derive(Debug, Clone)]
pub struct Target {
    pub key: RowKey,
    pub exe: PathBuf,
    pub args: Vec<String>,
    pub expected_exit: i32,
    /// Runs first, discarded.
    pub warmup: u32,
    /// Measured runs.
    pub runs: u32,
}

/// How many runs a row gets.
#[derive(Debug, Clone, Copy)]
pub struct Runs {
    pub warmup: u32,
    pub iterations: u32,
    /// Measured runs of each CPython row.
    pub python_iterations: u32,
    /// Replaces an exercise's `max_iterations` cap (`--quick`: 1).
    pub cap_override: Option<u32>,
}

impl Runs {
    /// `(warmup, runs)` for a row of `ex` with `iterations` asked for: a capped (sleep-bound)
    /// exercise runs no warmup and at most its cap.
    fn of(&self, ex: &Exercise, iterations: u32) -> (u32, u32) {
        match ex
            .max_iterations
            .map(|cap| self.cap_override.unwrap_or(cap))
        {
            Some(cap) => (0, iterations.min(cap)),
            None => (self.warmup, iterations),
        }
    }
}

/// Targets for the selected exercise variants, every flavor, from binaries in `bin_dir`, for
/// `run` and `run-all`: a variant with a [`max_tasks`](crate::exercises::Variant::max_tasks)
/// runs at most that many tasks, and its row's `tasks` says how many ran.
pub fn targets(
    selection: &[(&'static Exercise, &'static str)],
    flavors: &[Flavor],
    tasks: Option<u64>,
    runs: Runs,
    bin_dir: &Path,
) -> Vec<Target> {
    plan_rust(selection, flavors, tasks, runs, bin_dir, true)
}

/// [`targets`] with every variant at `tasks` as asked, caps ignored: for `sweep`, which stops a
/// variant by time instead.
pub fn uncapped_targets(
    selection: &[(&'static Exercise, &'static str)],
    flavors: &[Flavor],
    tasks: Option<u64>,
    runs: Runs,
    bin_dir: &Path,
) -> Vec<Target> {
    plan_rust(selection, flavors, tasks, runs, bin_dir, false)
}

fn plan_rust(
    selection: &[(&'static Exercise, &'static str)],
    flavors: &[Flavor],
    tasks: Option<u64>,
    runs: Runs,
    bin_dir: &Path,
    capped: bool,
) -> Vec<Target> {
    let mut out = Vec::new();
    for (ex, variant) in selection {
        let (warmup, measured) = runs.of(ex, runs.iterations);
        // The count that runs: the flag, else the exercise's default, held to any cap.
        let count = if capped {
            ex.capped_tasks(variant, tasks)
        } else {
            ex.default_tasks.map(|default| tasks.unwrap_or(default))
        };
        // Passed as `--tasks` unless it is the binary's own default, not asked for.
        let flag = count.filter(|&n| tasks.is_some() || Some(n) != ex.default_tasks);
        for flavor in flavors {
            let mut args = vec![
                "--variant".into(),
                variant.to_string(),
                "--flavor".into(),
                flavor.name().into(),
            ];
            if let Some(n) = flag {
                args.extend(["--tasks".into(), n.to_string()]);
            }
            out.push(Target {
                key: RowKey {
                    exercise: ex.name.into(),
                    variant: variant.to_string(),
                    implementation: "rust".into(),
                    flavor: Some(*flavor),
                    tasks: count,
                    entry: None,
                    measure: None,
                },
                exe: bin_dir.join(ex.name),
                args,
                expected_exit: ex.expected_exit,
                warmup,
                runs: measured,
            });
        }
    }
    out
}

/// The extra rows of a run: for the selected variants that spawn from `main`, the same run
/// with `--entry block_on`; for those that measure start latency, one `--measure
/// start-latency` run each; for those held to a task cap, the same at a quarter of the cap.
/// All on every flavor.
pub fn extra_targets(
    rust: &[Target],
    selection: &[(&'static Exercise, &'static str)],
) -> Vec<Target> {
    let mut out = Vec::new();
    for t in rust {
        let Some((ex, _)) = selection
            .iter()
            .find(|(e, v)| e.name == t.key.exercise && *v == t.key.variant)
        else {
            continue;
        };
        if ex.entry_variants.contains(&t.key.variant.as_str()) {
            let mut from_block_on = t.clone();
            from_block_on
                .args
                .extend(["--entry".into(), Entry::BlockOn.name().into()]);
            from_block_on.key.entry = Some(Entry::BlockOn);
            out.push(from_block_on);
        }
        if ex.latency_variants.contains(&t.key.variant.as_str()) {
            let mut latency = t.clone();
            latency
                .args
                .extend(["--measure".into(), Measure::StartLatency.name().into()]);
            latency.key.measure = Some(Measure::StartLatency);
            // Every run gives one sample per task: one run is plenty.
            (latency.warmup, latency.runs) = (0, 1);
            out.push(latency);
        }
        // A variant held to a cap costs more than its work grows: run it at a quarter of the
        // count too, so the report states the growth measured in this very run.
        if let Some(cap) = ex.variant(&t.key.variant).and_then(|v| v.max_tasks)
            && t.key.tasks == Some(cap)
            && cap >= 4
        {
            let mut quarter = t.clone();
            let n = cap / 4;
            quarter.key.tasks = Some(n);
            match quarter.args.iter().position(|a| a == "--tasks") {
                Some(i) if i + 1 < quarter.args.len() => quarter.args[i + 1] = n.to_string(),
                _ => quarter.args.extend(["--tasks".into(), n.to_string()]),
            }
            out.push(quarter);
        }
    }
    out
}

/// The exercises of a selection, each once, in the order they first appear.
pub fn exercises_of(selection: &[(&'static Exercise, &'static str)]) -> Vec<&'static Exercise> {
    let mut exercises: Vec<&'static Exercise> = Vec::new();
    for (ex, _) in selection {
        if !exercises.iter().any(|e| e.name == ex.name) {
            exercises.push(ex);
        }
    }
    exercises
}

/// An exercise's Python script and its `--tasks`, as an interpreter is given them.
pub fn script_args(scripts: &Path, ex: &Exercise, tasks: Option<u64>) -> Vec<String> {
    let mut args = vec![
        scripts
            .join(format!("{}.py", ex.name))
            .display()
            .to_string(),
    ];
    if let Some(n) = tasks {
        args.extend(["--tasks".into(), n.to_string()]);
    }
    args
}

/// CPython rows for the selected exercises (one per exercise and script variant, whatever
/// variants were chosen), under every interpreter: targets to run, and rows skipped because the
/// interpreter is older than the script (variant) needs.
pub fn python_targets(
    selection: &[(&'static Exercise, &'static str)],
    interpreters: &[python::Interpreter],
    tasks: Option<u64>,
    runs: Runs,
    scripts: &Path,
) -> (Vec<Target>, Vec<Row>) {
    // One row per key: an exercise chosen through several variants, wherever they stand in the
    // selection, or one CPython version found under two paths, runs once.
    let exercises = exercises_of(selection);
    let mut seen = std::collections::HashSet::new();
    let (mut targets, mut skipped) = (Vec::new(), Vec::new());
    for interpreter in interpreters {
        for ex in &exercises {
            let tasks = ex.default_tasks.map(|default| tasks.unwrap_or(default));
            for (variant, script_variant, python_needs) in script_rows(ex) {
                let key = RowKey::python(ex.name, variant, interpreter.implementation(), tasks);
                if !seen.insert(key.clone()) {
                    continue;
                }
                let needs = python::Interpreter::needs(python_needs);
                if !interpreter.at_least(needs) {
                    let (major, minor) = needs;
                    skipped.push(Row::skipped(key, format!("needs {major}.{minor}+")));
                    continue;
                }
                let mut args = script_args(scripts, ex, tasks);
                if let Some(name) = script_variant {
                    args.extend(["--variant".into(), name.into()]);
                }
                targets.push(Target {
                    key,
                    exe: interpreter.path.clone(),
                    args,
                    expected_exit: ex.expected_exit,
                    // In-process timing: the interpreter's start-up is outside every sample.
                    warmup: 0,
                    runs: runs.of(ex, runs.python_iterations).1,
                });
            }
        }
    }
    (targets, skipped)
}

/// Rows of the non-default loops and of `gc.disable()`, for the selected exercises under every
/// CPython (PyPy runs its own loop only): targets to run, and rows that cannot run, with why
/// (`needs 3.12+`, `not available: …`). Exercises whose time is a sleep get no loop rows: a
/// loop cannot change a sleep.
pub fn loop_targets(
    selection: &[(&'static Exercise, &'static str)],
    venvs: &[(python::Interpreter, Venv)],
    loops: &[Loop],
    tasks: Option<u64>,
    runs: Runs,
    scripts: &Path,
) -> (Vec<Target>, Vec<Row>) {
    let mut exercises = exercises_of(selection);
    exercises.retain(|ex| ex.max_iterations.is_none());
    let (mut out, mut skipped) = (Vec::new(), Vec::new());
    for (interpreter, venv) in venvs {
        for ex in &exercises {
            let tasks = ex.default_tasks.map(|default| tasks.unwrap_or(default));
            let mut rows: Vec<(String, Vec<String>, Result<PathBuf, String>)> = Vec::new();
            for &l in loops.iter().filter(|l| **l != Loop::Asyncio) {
                let exe = venv.offers(l).map(|()| venv.python.clone());
                rows.push((l.name().into(), vec!["--loop".into(), l.name().into()], exe));
            }
            if ex.name == GC_EXERCISE && loops.contains(&Loop::Asyncio) {
                let off = vec!["--gc".into(), "off".into()];
                rows.push((GC_OFF.into(), off, Ok(interpreter.path.clone())));
            }
            for (variant, extra, exe) in rows {
                let key = RowKey::python(ex.name, variant, interpreter.implementation(), tasks);
                let needs = python::Interpreter::needs(ex.python_needs);
                if !interpreter.at_least(needs) {
                    // The standard loop's row already says so, once per interpreter.
                    if !loops.contains(&Loop::Asyncio) {
                        skipped.push(Row::skipped(key, format!("needs {}.{}+", needs.0, needs.1)));
                    }
                    continue;
                }
                let exe = match exe {
                    Ok(exe) => exe,
                    Err(why) => {
                        skipped.push(Row::skipped(key, format!("not available: {why}")));
                        continue;
                    }
                };
                let mut args = script_args(scripts, ex, tasks);
                args.extend(extra);
                out.push(Target {
                    key,
                    exe,
                    args,
                    expected_exit: ex.expected_exit,
                    warmup: 0,
                    runs: runs.of(ex, runs.python_iterations).1,
                });
            }
        }
    }
    (out, skipped)
}

/// The standard loop's rows of an exercise's script: the default's (`asyncio`, no
/// `--variant`), then one per [`script variant`](crate::exercises::ScriptVariant), each with
/// its row's variant, its `--variant` and the Python it needs.
fn script_rows(ex: &Exercise) -> Vec<(String, Option<&'static str>, (u32, u32))> {
    std::iter::once(("asyncio".to_owned(), None, ex.python_needs))
        .chain(
            ex.script_variants
                .iter()
                .map(|v| (v.row_variant(), Some(v.name), v.python_needs)),
        )
        .collect()
}

/// How a row's runs end under an adaptive schedule: once the 95% interval of its geometric
/// mean is within `goal` (relative half-width), after `max_runs` measured runs, or when the
/// run's time budget is spent. The extra runs of rows of `priority` 0 come first: the CPython
/// rows an answer reads, whose spread decides the answers. A row whose `fixed_first` is set
/// runs its fixed processes in the first pass, whatever the budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Goal {
    pub half_width: f64,
    pub max_runs: u32,
    pub priority: u8,
    pub fixed_first: bool,
}

/// The goals of the rows that the report's answers read, and of the rest.
pub const RUST_GOAL: Goal = Goal {
    half_width: 0.03,
    max_runs: crate::results::MOST_ADAPTIVE_RUNS,
    priority: 1,
    fixed_first: true,
};
pub const ANSWER_PYTHON_GOAL: Goal = Goal {
    half_width: 0.05,
    // As many as a Rust row: a short process (ex_6_3's 0.15 s) under load needs them, and a
    // long one (ex_6_2's 9 s) is held by the time its pass may take.
    max_runs: crate::results::MOST_ADAPTIVE_RUNS,
    priority: 0,
    fixed_first: true,
};
pub const OTHER_GOAL: Goal = Goal {
    half_width: 0.10,
    max_runs: 5,
    priority: 1,
    fixed_first: false,
};

/// How many processes each row runs, beyond its `warmup` and `runs` (which always run, except
/// for rows of priority 1 when the budget is spent), and until when.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Per target: its goal, or `None` for exactly `warmup + runs` processes.
    pub goals: Vec<Option<Goal>>,
    /// Per target: how long one process is expected to take, before one has run.
    pub estimates: Vec<Duration>,
    /// No process starts that would not end by then (by its expected time).
    pub deadline: Option<Instant>,
}

impl Schedule {
    /// Every target exactly `warmup + runs` times, with no deadline.
    pub fn fixed(targets: &[Target]) -> Self {
        Self {
            goals: vec![None; targets.len()],
            estimates: targets.iter().map(estimate).collect(),
            deadline: None,
        }
    }

    /// Adaptive: each throughput row of Rust runs 1 warmup and at least 3 processes (the
    /// current-thread ones in the first pass), then more until [`RUST_GOAL`] if time is left;
    /// the CPython rows an answer reads (on the standard loop: every exercise under 3.12,
    /// ex_6_3 under 3.10) at least 3, then first of all until [`ANSWER_PYTHON_GOAL`]; every
    /// other Python row once, then more until [`OTHER_GOAL`] if time is left; start-latency
    /// rows once; sleep-bound rows twice. `targets`' `warmup` and
    /// `runs` are set here. `previous` (the last run's results) gives each row's expected time.
    pub fn adaptive(
        targets: &mut [Target],
        deadline: Instant,
        previous: Option<&crate::results::RunResults>,
    ) -> Self {
        let mut goals = Vec::with_capacity(targets.len());
        for t in targets.iter_mut() {
            let sleep_bound = crate::exercises::find(&t.key.exercise)
                .is_some_and(|ex| ex.max_iterations.is_some());
            let (warmup, runs, goal) = if t.key.measure.is_some() {
                (0, 1, None)
            } else if sleep_bound {
                (0, 2, None)
            } else if t.key.implementation == "rust" {
                // The answers and claims read the current-thread rows; the multi-thread and
                // `block_on` rows have their sections, after them.
                let goal = if t.key.entry.is_some() || t.key.flavor == Some(Flavor::Multi) {
                    Goal {
                        fixed_first: false,
                        ..RUST_GOAL
                    }
                } else {
                    RUST_GOAL
                };
                (1, 3, Some(goal))
            } else if answers_read(&t.key) {
                (0, 3, Some(ANSWER_PYTHON_GOAL))
            } else {
                (0, 1, Some(OTHER_GOAL))
            };
            (t.warmup, t.runs) = (warmup, runs);
            goals.push(goal);
        }
        let estimates = targets
            .iter()
            .map(|t| {
                previous
                    .and_then(|p| previous_time(p, &t.key))
                    .unwrap_or_else(|| estimate(t))
            })
            .collect();
        Self {
            goals,
            estimates,
            deadline: Some(deadline),
        }
    }
}

/// Whether an answer of the report reads this Python row, so that it needs an interval: the
/// chapter's CPython 3.12 on its standard loop for every exercise (each answer's reference),
/// 3.10 for `current_task`, and 3.12 running the script variant without the eager task factory
/// that the Eager start section sets against the default. (3.13's rows of the first claim are
/// in the Claims table, not the Answers: they get their interval if time is left.)
pub fn answers_read(key: &RowKey) -> bool {
    let without_eager = crate::exercises::find(&key.exercise)
        .and_then(|ex| ex.script_without_eager())
        .is_some_and(|v| key.is_chapter_cpython_as(3, 12, &v.row_variant()));
    key.entry.is_none()
        && key.measure.is_none()
        && (key.is_chapter_cpython(3, 12)
            || (key.exercise == "ex_6_3" && key.is_chapter_cpython(3, 10))
            || without_eager)
}

/// The mean time of a process of the row `key` in an earlier run, with the runner's own time
/// around it: its recorded process time, else its mean sample (the measured span, most of a
/// process), and that run's mean harness overhead.
fn previous_time(previous: &crate::results::RunResults, key: &RowKey) -> Option<Duration> {
    let row = previous.rows.iter().find(|r| r.key() == *key)?;
    let ns = match row.process_ns {
        Some(ns) => ns,
        None => row.summary.as_ref()?.mean_ns as u64,
    };
    let overhead = previous.harness_overhead.as_ref().map_or(0, |o| o.mean_ns);
    Some(Duration::from_nanos(ns.saturating_add(overhead)))
}

/// A first guess at one process' time where no earlier run says: a start-up, and a cost a task
/// of the order this machine showed (Rust ~0.5 µs, CPython ~2 µs, gather ~9 µs, a task
/// count's sleep-bound exercise ~3 s).
pub fn estimate(t: &Target) -> Duration {
    let python = t.key.implementation != "rust";
    let sleep_bound =
        crate::exercises::find(&t.key.exercise).is_some_and(|ex| ex.max_iterations.is_some());
    if sleep_bound {
        return Duration::from_secs(3);
    }
    let tasks = t.key.tasks.unwrap_or(0) as f64;
    let ns_a_task = match (python, t.key.exercise.as_str()) {
        (true, "ex_6_2") => 9_000.0,
        (true, "ex_6_3") => 200.0,
        (true, _) => 1_500.0,
        (false, _) => 400.0,
    };
    let start = if python { 0.1 } else { 0.02 };
    Duration::from_secs_f64(start + tasks * ns_a_task * 1e-9)
}

/// Per exercise, the fastest Python row by its geometric mean time a task so far (as the
/// report's answers rank them), among those no answer
/// reads as such ([`answers_read`]), when it is still of priority 1: the report names it as the
/// fastest alternative, so it needs an interval too. Indices of `targets`.
pub fn fastest_alternatives(
    targets: &[Target],
    samples: &[&[u64]],
    priorities: &[u8],
) -> Vec<usize> {
    let mut best: Vec<(&str, usize, f64)> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let candidate =
            t.key.implementation != "rust" && t.key.measure.is_none() && !answers_read(&t.key);
        let Some(mean) = mean_per_task(samples[i], t.key.tasks).filter(|_| candidate) else {
            continue;
        };
        match best.iter_mut().find(|(ex, _, _)| *ex == t.key.exercise) {
            Some(b) if mean < b.2 => (b.1, b.2) = (i, mean),
            Some(_) => {}
            None => best.push((&t.key.exercise, i, mean)),
        }
    }
    best.into_iter()
        .map(|(_, i, _)| i)
        .filter(|&i| priorities[i] > 0)
        .collect()
}

/// The geometric mean of `samples` a task: the estimator the report's answers rank rows by.
fn mean_per_task(samples: &[u64], tasks: Option<u64>) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let log_mean =
        samples.iter().map(|&s| (s.max(1) as f64).ln()).sum::<f64>() / samples.len() as f64;
    Some(log_mean.exp() / tasks.unwrap_or(1).max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercises;

    const RUNS: Runs = Runs {
        warmup: 1,
        iterations: 10,
        python_iterations: 3,
        cap_override: None,
    };

    /// The `--tasks` a target passes, if any.
    fn tasks_arg(t: &Target) -> Option<u64> {
        let at = t.args.iter().position(|a| a == "--tasks")?;
        t.args.get(at + 1)?.parse::<u64>().ok()
    }

    fn python_target(exercise: &str, variant: &str, implementation: &str) -> Target {
        Target {
            key: RowKey::python(
                exercise,
                variant.into(),
                implementation.into(),
                Some(1_000_000),
            ),
            exe: PathBuf::from("/usr/bin/python3"),
            args: Vec::new(),
            expected_exit: 0,
            warmup: 0,
            runs: 3,
        }
    }

    #[test]
    fn the_rows_the_answers_read_are_the_chapters_cpythons_on_their_standard_loop() {
        let reads =
            |ex: &str, variant: &str, imp: &str| answers_read(&python_target(ex, variant, imp).key);
        assert!(reads("ex_6_2", "asyncio", "cpython-3.12.1"));
        assert!(reads("queue_pc", "asyncio", "cpython-3.12.9"));
        assert!(!reads("ex_6_1", "asyncio", "cpython-3.13.0"));
        assert!(reads("ex_6_3", "asyncio", "cpython-3.10.13"));
        assert!(!reads("ex_6_3", "asyncio", "cpython-3.13.0"));
        assert!(!reads("ex_6_2", "uvloop", "cpython-3.12.1"));
        assert!(!reads("ex_6_2", "asyncio_gc_off", "cpython-3.12.1"));
        assert!(!reads("ex_6_2", "asyncio", "cpython-3.11.7"));
        assert!(!reads("ex_6_2", "asyncio", "cpython-3.13.0t"));
        assert!(!reads("ex_6_2", "asyncio", "pypy-7.3.11"));
        // The script variant the Eager start section sets against the default, on 3.12 alone.
        assert!(reads("suspend_once", "asyncio", "cpython-3.12.1"));
        assert!(reads("suspend_once", "asyncio_scheduled", "cpython-3.12.1"));
        assert!(!reads(
            "suspend_once",
            "asyncio_scheduled",
            "cpython-3.11.7"
        ));
        assert!(!reads(
            "suspend_once",
            "asyncio_scheduled",
            "cpython-3.13.0t"
        ));
        assert!(!reads("suspend_once", "asyncio_gather", "cpython-3.12.1"));
    }

    #[test]
    fn an_adaptive_schedule_gives_each_kind_of_row_its_goal_and_fixed_runs() {
        let sel = exercises::select(&["ex_6_1:eager".into(), "ex_2_7".into()]).unwrap();
        let mut t = targets(&sel, &[Flavor::Current], None, RUNS, Path::new("/bin"));
        t.extend(extra_targets(&t, &sel));
        t.push(python_target("ex_6_1", "asyncio", "cpython-3.12.1"));
        t.push(python_target("ex_6_1", "uvloop", "cpython-3.12.1"));
        let s = Schedule::adaptive(&mut t, Instant::now(), None);
        let of = |variant: &str, measure: bool| {
            let i = t
                .iter()
                .position(|t| t.key.variant == variant && t.key.measure.is_some() == measure)
                .unwrap();
            ((t[i].warmup, t[i].runs), s.goals[i])
        };
        assert_eq!(of("eager", false), ((1, 3), Some(RUST_GOAL)));
        assert_eq!(of("eager", true), ((0, 1), None), "one start-latency run");
        assert_eq!(of("taskgroup", false), ((0, 2), None), "a sleep: twice");
        assert_eq!(of("asyncio", false), ((0, 3), Some(ANSWER_PYTHON_GOAL)));
        assert_eq!(of("uvloop", false), ((0, 1), Some(OTHER_GOAL)));
        assert_eq!(s.estimates.len(), t.len());
        assert!(s.estimates.iter().all(|d| *d > Duration::ZERO));
        // The multi-thread rows come after the answers' rows.
        let mut multi = targets(&sel, &[Flavor::Multi], None, RUNS, Path::new("/bin"));
        let s = Schedule::adaptive(&mut multi, Instant::now(), None);
        assert_eq!(
            s.goals[0].map(|g| (g.priority, g.half_width, g.fixed_first)),
            Some((1, 0.03, false))
        );
    }

    #[test]
    fn the_fastest_python_row_no_answer_reads_is_raised_once() {
        let t = [
            python_target("ex_6_2", "asyncio", "cpython-3.12.1"),
            python_target("ex_6_2", "uvloop", "cpython-3.12.1"),
            python_target("ex_6_2", "asyncio_gc_off", "cpython-3.12.1"),
            python_target("ex_6_3", "asyncio", "cpython-3.12.1"),
            python_target("ex_6_3", "rloop", "cpython-3.12.1"),
        ];
        let samples: [&[u64]; 5] = [
            &[9_000_000_000, 9_100_000_000],
            &[8_000_000_000],
            &[5_000_000_000],
            &[],
            &[45_000_000],
        ];
        // The answers' own rows are never candidates; an exercise's fastest other row is.
        assert_eq!(
            fastest_alternatives(&t, &samples, &[0, 1, 1, 0, 1]),
            vec![2, 4]
        );
        // Once raised, it is not raised again; a row that has not run is no candidate.
        assert!(fastest_alternatives(&t, &samples, &[0, 1, 0, 0, 0]).is_empty());
    }

    #[test]
    fn python_rows_are_one_per_key_whatever_the_order_of_the_selection() {
        let sel = exercises::select(&[
            "ex_6_1:eager".into(),
            "ex_6_2:join_all".into(),
            "ex_6_1:spawn".into(),
        ])
        .unwrap();
        let cpython = |path: &str| python::Interpreter::cpython(path, (3, 12, 1));
        // The same CPython found twice, under two names.
        let (t, skipped) = python_targets(
            &sel,
            &[cpython("/usr/bin/python3"), cpython("/usr/bin/python3.12")],
            None,
            RUNS,
            Path::new("/scripts"),
        );
        // ex_6_1's script runs twice: its default (the eager task factory) and `scheduled`.
        let keys: Vec<_> = t
            .iter()
            .map(|t| (t.key.exercise.as_str(), t.key.variant.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("ex_6_1", "asyncio"),
                ("ex_6_1", "asyncio_scheduled"),
                ("ex_6_2", "asyncio")
            ]
        );
        assert!(skipped.is_empty());
    }

    /// A planned CPython row: its exercise, its variant and the script's `--variant`, if any.
    type Planned = (String, String, Option<String>);

    /// The CPython rows of `sel` under one CPython `version`: each target's variant and its
    /// `--variant`, and each skipped row's variant and why.
    fn python_rows(
        sel: &[(&'static Exercise, &'static str)],
        version: (u32, u32, u32),
    ) -> (Vec<Planned>, Vec<(String, String)>) {
        let cpython = python::Interpreter::cpython("/usr/bin/python3", version);
        let (t, skipped) = python_targets(sel, &[cpython], None, RUNS, Path::new("/scripts"));
        let t = t
            .iter()
            .map(|t| {
                let flag = t.args.iter().position(|a| a == "--variant");
                let value = flag.and_then(|i| t.args.get(i + 1)).cloned();
                (t.key.exercise.clone(), t.key.variant.clone(), value)
            })
            .collect();
        let skipped = skipped
            .iter()
            .map(|r| (r.variant.clone(), r.skipped.clone().unwrap_or_default()))
            .collect();
        (t, skipped)
    }

    fn row(exercise: &str, variant: &str, flag: Option<&str>) -> Planned {
        (exercise.into(), variant.into(), flag.map(String::from))
    }

    #[test]
    fn a_script_with_variants_has_a_cpython_row_for_each_and_others_one() {
        let sel =
            exercises::select(&["suspend_once:polled".into(), "ex_6_2:join_all".into()]).unwrap();
        let (t, skipped) = python_rows(&sel, (3, 12, 1));
        assert_eq!(
            t,
            [
                // The default keeps the row key every earlier run has.
                row("suspend_once", "asyncio", None),
                row("suspend_once", "asyncio_scheduled", Some("scheduled")),
                row("suspend_once", "asyncio_gather", Some("gather")),
                row("ex_6_2", "asyncio", None),
            ]
        );
        assert!(skipped.is_empty(), "{skipped:?}");
    }

    #[test]
    fn an_interpreter_too_old_for_a_script_variant_skips_that_row_alone() {
        let sel = exercises::select(&["suspend_once:scheduled".into()]).unwrap();
        let (t, skipped) = python_rows(&sel, (3, 11, 7));
        assert_eq!(
            t,
            [
                row("suspend_once", "asyncio_scheduled", Some("scheduled")),
                row("suspend_once", "asyncio_gather", Some("gather")),
            ]
        );
        assert_eq!(skipped, [("asyncio".to_owned(), "needs 3.12+".to_owned())]);
        // 3.10: gather alone, each other row with what it needs.
        let (t, skipped) = python_rows(&sel, (3, 10, 13));
        assert_eq!(t, [row("suspend_once", "asyncio_gather", Some("gather"))]);
        assert_eq!(
            skipped,
            [
                ("asyncio".to_owned(), "needs 3.12+".to_owned()),
                ("asyncio_scheduled".to_owned(), "needs 3.11+".to_owned()),
            ]
        );
    }

    /// ex_6_2's quadratic `join_handles` (held to a cap) and `spawn_gather` (not).
    fn capped_and_not() -> Vec<(&'static Exercise, &'static str)> {
        exercises::select(&["ex_6_2:join_handles".into(), "ex_6_2:spawn_gather".into()]).unwrap()
    }

    /// `run`'s targets (capped) or the sweep's (uncapped) on the current-thread flavor.
    fn current(
        sel: &[(&'static Exercise, &'static str)],
        asked: Option<u64>,
        capped: bool,
    ) -> Vec<Target> {
        let plan = if capped { targets } else { uncapped_targets };
        plan(sel, &[Flavor::Current], asked, RUNS, Path::new("/bin"))
    }

    /// The count a target's row records, and the `--tasks` it passes.
    fn counts(t: &Target) -> (Option<u64>, Option<u64>) {
        (t.key.tasks, tasks_arg(t))
    }

    #[test]
    fn capped_variants_run_and_record_at_most_their_cap_except_in_the_sweep() {
        let sel = capped_and_not();
        let cap = exercises::QUADRATIC_MAX_TASKS;
        // run-all's default count, and --quick's.
        for asked in [None, Some(100_000)] {
            let t = current(&sel, asked, true);
            assert_eq!(counts(&t[0]), (Some(cap), Some(cap)));
            assert_eq!(t[1].key.tasks, Some(asked.unwrap_or(1_000_000)));
            assert_eq!(tasks_arg(&t[1]), asked, "no --tasks unless asked");
        }
        // Fewer than the cap: as asked.
        let t = current(&sel, Some(1_000), true);
        assert_eq!(counts(&t[0]), (Some(1_000), Some(1_000)));
        // The sweep runs every count as given.
        let t = current(&sel, Some(100_000), false);
        assert_eq!(counts(&t[0]), (Some(100_000), Some(100_000)));
    }

    #[test]
    fn a_capped_variant_also_runs_at_a_quarter_of_its_cap_for_the_slope() {
        let sel = capped_and_not();
        let cap = exercises::QUADRATIC_MAX_TASKS;
        let rust = current(&sel, None, true);
        let extra = extra_targets(&rust, &sel);
        let quarter: Vec<&Target> = extra
            .iter()
            .filter(|t| t.key.measure.is_none() && t.key.entry.is_none())
            .collect();
        assert_eq!(quarter.len(), 1, "only the capped variant: {quarter:?}");
        assert_eq!(quarter[0].key.variant, "join_handles");
        assert_eq!(quarter[0].key.tasks, Some(cap / 4));
        assert_eq!(tasks_arg(quarter[0]), Some(cap / 4));
        assert_eq!(
            quarter[0].args.iter().filter(|a| *a == "--tasks").count(),
            1
        );
        // Asked for fewer tasks than the cap: the row is not capped, and has no companion.
        let rust = current(&sel, Some(1_000), true);
        assert!(
            extra_targets(&rust, &sel)
                .iter()
                .all(|t| t.key.measure.is_some() || t.key.entry.is_some())
        );
    }

    #[test]
    fn targets_skip_tasks_where_no_count_applies() {
        let sel = exercises::select(&["ex_6_4".into(), "ex_6_3:try_id".into()]).unwrap();
        let t = targets(&sel, &Flavor::ALL, Some(10), RUNS, Path::new("/bin"));
        assert_eq!(t.len(), 4);
        assert!(!t[0].args.contains(&"--tasks".to_string()));
        assert_eq!(t[0].key.tasks, None);
        assert_eq!(
            t[2].args,
            [
                "--variant",
                "try_id",
                "--flavor",
                "current",
                "--tasks",
                "10"
            ]
        );
        assert_eq!(t[3].key.flavor, Some(Flavor::Multi));
    }
}
