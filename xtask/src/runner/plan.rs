//! What to run: a row per exercise × variant × flavor × interpreter, and how many times.

use std::path::{Path, PathBuf};

use timing::cli::{Entry, Flavor, Measure};

use crate::exercises::Exercise;
use crate::python;
use crate::results::{Row, RowKey};

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

/// CPython rows for the selected exercises (one per exercise, whatever variants were chosen),
/// under every interpreter: targets to run, and rows skipped because the interpreter is older
/// than the exercise needs.
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
            let key = RowKey {
                exercise: ex.name.into(),
                variant: "asyncio".into(),
                implementation: interpreter.implementation(),
                flavor: None,
                tasks,
                entry: None,
                measure: None,
            };
            if !seen.insert(key.clone()) {
                continue;
            }
            let needs = python::Interpreter::needs(ex.python_needs);
            if !interpreter.at_least(needs) {
                let (major, minor) = needs;
                skipped.push(Row::skipped(key, format!("needs {major}.{minor}+")));
                continue;
            }
            let args = script_args(scripts, ex, tasks);
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
    (targets, skipped)
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
        let keys: Vec<_> = t.iter().map(|t| t.key.exercise.as_str()).collect();
        assert_eq!(keys, ["ex_6_1", "ex_6_2"]);
        assert!(skipped.is_empty());
    }

    #[test]
    fn capped_variants_run_and_record_at_most_their_cap_except_in_the_sweep() {
        let sel = exercises::select(&["ex_6_2:join_handles".into(), "ex_6_2:spawn_gather".into()])
            .unwrap();
        let cap = exercises::QUADRATIC_MAX_TASKS;
        // run-all's default count, and --quick's.
        for asked in [None, Some(100_000)] {
            let t = targets(&sel, &[Flavor::Current], asked, RUNS, Path::new("/bin"));
            assert_eq!((t[0].key.tasks, tasks_arg(&t[0])), (Some(cap), Some(cap)));
            assert_eq!(t[1].key.tasks, Some(asked.unwrap_or(1_000_000)));
            assert_eq!(tasks_arg(&t[1]), asked, "no --tasks unless asked");
        }
        // Fewer than the cap: as asked.
        let t = targets(
            &sel,
            &[Flavor::Current],
            Some(1_000),
            RUNS,
            Path::new("/bin"),
        );
        assert_eq!(
            (t[0].key.tasks, tasks_arg(&t[0])),
            (Some(1_000), Some(1_000))
        );
        // The sweep runs every count as given.
        let t = uncapped_targets(
            &sel,
            &[Flavor::Current],
            Some(100_000),
            RUNS,
            Path::new("/bin"),
        );
        assert_eq!(
            (t[0].key.tasks, tasks_arg(&t[0])),
            (Some(100_000), Some(100_000))
        );
    }

    #[test]
    fn a_capped_variant_also_runs_at_a_quarter_of_its_cap_for_the_slope() {
        let sel = exercises::select(&["ex_6_2:join_handles".into(), "ex_6_2:spawn_gather".into()])
            .unwrap();
        let cap = exercises::QUADRATIC_MAX_TASKS;
        let rust = targets(&sel, &[Flavor::Current], None, RUNS, Path::new("/bin"));
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
        let rust = targets(
            &sel,
            &[Flavor::Current],
            Some(1_000),
            RUNS,
            Path::new("/bin"),
        );
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
