//! What to run: a row per exercise × variant × flavor × interpreter, and how many times.

use std::path::{Path, PathBuf};

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

/// Targets for the selected exercise variants, every flavor, from binaries in `bin_dir`.
pub fn targets(
    selection: &[(&'static Exercise, &'static str)],
    flavors: &[&str],
    tasks: Option<u64>,
    runs: Runs,
    bin_dir: &Path,
) -> Vec<Target> {
    let mut out = Vec::new();
    for (ex, variant) in selection {
        let (warmup, measured) = runs.of(ex, runs.iterations);
        for flavor in flavors {
            let tasks = ex.default_tasks.map(|default| (tasks, default));
            let mut args = vec![
                "--variant".into(),
                variant.to_string(),
                "--flavor".into(),
                flavor.to_string(),
            ];
            if let Some((Some(n), _)) = tasks {
                args.extend(["--tasks".into(), n.to_string()]);
            }
            out.push(Target {
                key: RowKey {
                    exercise: ex.name.into(),
                    variant: variant.to_string(),
                    implementation: "rust".into(),
                    flavor: Some(flavor.to_string()),
                    // The count that ran: the flag, else the exercise's default.
                    tasks: tasks.map(|(flag, default)| flag.unwrap_or(default)),
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
/// start-latency` run each. Both on every flavor.
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
                .extend(["--entry".into(), "block_on".into()]);
            from_block_on.key.entry = Some("block_on".into());
            out.push(from_block_on);
        }
        if ex.latency_variants.contains(&t.key.variant.as_str()) {
            let mut latency = t.clone();
            latency
                .args
                .extend(["--measure".into(), "start-latency".into()]);
            latency.key.measure = Some("start-latency".into());
            // Every run gives one sample per task: one run is plenty.
            (latency.warmup, latency.runs) = (0, 1);
            out.push(latency);
        }
    }
    out
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
    let mut exercises: Vec<&Exercise> = Vec::new();
    for (ex, _) in selection {
        if !exercises.iter().any(|e| e.name == ex.name) {
            exercises.push(ex);
        }
    }
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
            let mut args = vec![
                scripts
                    .join(format!("{}.py", ex.name))
                    .display()
                    .to_string(),
            ];
            if let Some(n) = tasks {
                args.extend(["--tasks".into(), n.to_string()]);
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
    (targets, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercises;

    #[test]
    fn python_rows_are_one_per_key_whatever_the_order_of_the_selection() {
        let sel = exercises::select(&[
            "ex_6_1:eager".into(),
            "ex_6_2:join_all".into(),
            "ex_6_1:spawn".into(),
        ])
        .unwrap();
        let cpython = |path: &str| python::Interpreter::cpython(path, (3, 12, 1));
        let runs = Runs {
            warmup: 1,
            iterations: 10,
            python_iterations: 3,
            cap_override: None,
        };
        // The same CPython found twice, under two names.
        let (t, skipped) = python_targets(
            &sel,
            &[cpython("/usr/bin/python3"), cpython("/usr/bin/python3.12")],
            None,
            runs,
            Path::new("/scripts"),
        );
        let keys: Vec<_> = t.iter().map(|t| t.key.exercise.as_str()).collect();
        assert_eq!(keys, ["ex_6_1", "ex_6_2"]);
        assert!(skipped.is_empty());
    }

    #[test]
    fn targets_skip_tasks_where_no_count_applies() {
        let sel = exercises::select(&["ex_6_4".into(), "ex_6_3:try_id".into()]).unwrap();
        let runs = Runs {
            warmup: 1,
            iterations: 10,
            python_iterations: 3,
            cap_override: None,
        };
        let t = targets(
            &sel,
            &["current", "multi"],
            Some(10),
            runs,
            Path::new("/bin"),
        );
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
        assert_eq!(t[3].key.flavor.as_deref(), Some("multi"));
    }
}
