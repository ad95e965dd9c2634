//! The exercises the project has, as the runner knows them.

use timing::cli::Measure;
use timing::memory;

use crate::UsageError;

/// One exercise binary.
#[derive(Debug, Clone, Copy)]
pub struct Exercise {
    pub name: &'static str,
    pub chapter: u8,
    /// One line: what the exercise shows.
    pub about: &'static str,
    /// Variants with a line each; the first is the exercise's default.
    pub variants: &'static [(&'static str, &'static str)],
    /// The variant every other row of the exercise is compared against.
    pub reference: &'static str,
    /// The exercise's own `--tasks` default; `None` where no count applies.
    pub default_tasks: Option<u64>,
    /// The exit code a successful run ends with: `ex_6_4` ends, like its Python original, with
    /// the `QueueShutDown` error and code 1.
    pub expected_exit: i32,
    /// At most this many measured runs, whatever `--iterations` says: for exercises whose time
    /// is a fixed sleep, where more runs only cost seconds.
    pub max_iterations: Option<u32>,
    /// The oldest Python its script (`scripts/python/<name>.py`) runs on.
    pub python_needs: (u32, u32),
    /// Variants that spawn from `main`: also run with `--entry block_on`, to compare spawning
    /// from a worker task with spawning through the runtime's inject queue.
    pub entry_variants: &'static [&'static str],
    /// Variants also run with `--measure start-latency`.
    pub latency_variants: &'static [&'static str],
}

pub const ALL: &[Exercise] = &[
    Exercise {
        name: "ex_6_1",
        chapter: 6,
        about: "TaskGroup over no-op tasks with the eager task factory",
        variants: &[
            (
                "eager",
                "taskgroup::TaskGroup::eager(): poll each task once where it is created",
            ),
            (
                "spawn",
                "the same group without eager start: every task scheduled",
            ),
            (
                "bare_spawn",
                "tokio::spawn each task, await every handle: no group at all",
            ),
            (
                "floor",
                "each future polled once inline: the least the work can cost",
            ),
        ],
        reference: "spawn",
        default_tasks: Some(1_000_000),
        expected_exit: 0,
        python_needs: (3, 12),
        entry_variants: &["spawn", "bare_spawn"],
        latency_variants: &["eager", "spawn", "bare_spawn"],
        max_iterations: None,
    },
    Exercise {
        name: "ex_6_2",
        chapter: 6,
        about: "gather over lazily started no-op coroutines",
        variants: &[
            (
                "join_all",
                "futures::future::join_all: every future polled inside one task",
            ),
            (
                "spawn_gather",
                "tokio::spawn each future, await the handles in order",
            ),
            (
                "gather_in_place",
                "taskgroup::gather: the futures polled where they lie, no allocation each",
            ),
            (
                "floor",
                "each future polled once inline: the least the work can cost",
            ),
        ],
        reference: "spawn_gather",
        default_tasks: Some(1_000_000),
        expected_exit: 0,
        python_needs: (3, 10),
        entry_variants: &["spawn_gather"],
        latency_variants: &["join_all", "spawn_gather", "gather_in_place"],
        max_iterations: None,
    },
    Exercise {
        name: "ex_6_3",
        chapter: 6,
        about: "current-task look-up, many times over (asyncio.current_task)",
        variants: &[
            ("try_id", "tokio::task::try_id() inside a task"),
            (
                "floor",
                "a bare thread-local read: the least a look-up can cost",
            ),
        ],
        reference: "try_id",
        default_tasks: Some(1_000_000),
        expected_exit: 0,
        python_needs: (3, 10),
        entry_variants: &[],
        latency_variants: &[],
        max_iterations: None,
    },
    Exercise {
        name: "ex_6_4",
        chapter: 6,
        about: "Queue.shutdown (Python 3.13): a put after shutdown fails",
        variants: &[(
            "shutdown",
            "a queue with asyncio's shutdown rules; ends with QueueShutDown, exit 1",
        )],
        reference: "shutdown",
        default_tasks: None,
        expected_exit: 1,
        python_needs: (3, 13),
        entry_variants: &[],
        latency_variants: &[],
        max_iterations: None,
    },
    Exercise {
        name: "queue_pc",
        chapter: 6,
        about: "items through asyncio.Queue(maxsize=100), one producer task and one consumer task",
        variants: &[
            (
                "queue",
                "queue::Queue, asyncio's queue on tokio, between two spawned tasks",
            ),
            (
                "mpsc",
                "tokio::sync::mpsc::channel(100): what a tokio user would pick for one to one",
            ),
            (
                "floor",
                "a VecDeque filled 100 at a time and drained, no tasks, no waiting",
            ),
        ],
        reference: "queue",
        default_tasks: Some(1_000_000),
        expected_exit: 0,
        python_needs: (3, 10),
        entry_variants: &[],
        latency_variants: &[],
        max_iterations: None,
    },
    Exercise {
        name: "ex_2_2",
        chapter: 2,
        about: "asyncio.Runner (3.11): one runtime and one context for several async calls",
        variants: &[(
            "runner",
            "a Runtime kept for every run() call, each a task in one shared context",
        )],
        reference: "runner",
        default_tasks: None,
        expected_exit: 0,
        python_needs: (3, 11),
        entry_variants: &[],
        latency_variants: &[],
        max_iterations: Some(3),
    },
    Exercise {
        name: "ex_2_7",
        chapter: 2,
        about: "asyncio.TaskGroup (3.11) with two tasks sleeping 2 s and 3 s",
        variants: &[(
            "taskgroup",
            "taskgroup::scope: waits for both, cancels the other on a failure",
        )],
        reference: "taskgroup",
        default_tasks: None,
        expected_exit: 0,
        python_needs: (3, 11),
        entry_variants: &[],
        latency_variants: &[],
        max_iterations: Some(3),
    },
    Exercise {
        name: "ex_4_4",
        chapter: 4,
        about: "asyncio.Barrier (3.11) of three tasks, printed as it fills and drains",
        variants: &[(
            "barrier",
            "barrier::Barrier with asyncio's states, abort, reset and repr",
        )],
        reference: "barrier",
        default_tasks: None,
        expected_exit: 0,
        python_needs: (3, 11),
        entry_variants: &[],
        latency_variants: &[],
        max_iterations: None,
    },
];

impl Exercise {
    /// Variant names, default first.
    pub fn variant_names(&self) -> impl Iterator<Item = &'static str> {
        self.variants.iter().map(|(name, _)| *name)
    }
}

/// The exercise called `name`.
pub fn find(name: &str) -> Option<&'static Exercise> {
    ALL.iter().find(|e| e.name == name)
}

/// Reads `exercise[:variant]` selections; none means every exercise with every variant.
pub fn select(specs: &[String]) -> Result<Vec<(&'static Exercise, &'static str)>, UsageError> {
    if specs.is_empty() {
        return Ok(ALL
            .iter()
            .flat_map(|e| e.variant_names().map(move |v| (e, v)))
            .collect());
    }
    let mut chosen = Vec::new();
    for spec in specs {
        let (name, variant) = match spec.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (spec.as_str(), None),
        };
        let Some(ex) = find(name) else {
            let valid: Vec<_> = ALL.iter().map(|e| e.name).collect();
            return Err(UsageError(format!(
                "unknown exercise '{name}'; valid exercises: {}",
                valid.join(", ")
            )));
        };
        let variants: Vec<&'static str> = match variant {
            None => ex.variant_names().collect(),
            Some(v) => match ex.variant_names().find(|n| *n == v) {
                Some(found) => vec![found],
                None => {
                    let valid: Vec<_> = ex.variant_names().collect();
                    return Err(UsageError(format!(
                        "unknown variant '{v}' of {name}; valid variants: {}",
                        valid.join(", ")
                    )));
                }
            },
        };
        for v in variants {
            if !chosen
                .iter()
                .any(|(e, cv): &(&Exercise, &str)| e.name == ex.name && *cv == v)
            {
                chosen.push((ex, v));
            }
        }
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(specs: &[&str]) -> Result<Vec<String>, UsageError> {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        select(&specs).map(|v| {
            v.iter()
                .map(|(e, var)| format!("{}:{var}", e.name))
                .collect()
        })
    }

    #[test]
    fn nothing_selected_means_everything() {
        let all = names(&[]).unwrap();
        assert_eq!(
            all.len(),
            ALL.iter().map(|e| e.variants.len()).sum::<usize>()
        );
        assert_eq!(all[0], "ex_6_1:eager");
    }

    #[test]
    fn a_name_selects_every_variant_and_duplicates_collapse() {
        assert_eq!(
            names(&["ex_6_2", "ex_6_2:join_all", "ex_6_1:spawn"]).unwrap(),
            [
                "ex_6_2:join_all",
                "ex_6_2:spawn_gather",
                "ex_6_2:gather_in_place",
                "ex_6_2:floor",
                "ex_6_1:spawn"
            ]
        );
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        assert_eq!(
            names(&["ex_9_9"]).unwrap_err().0,
            "unknown exercise 'ex_9_9'; valid exercises: ex_6_1, ex_6_2, ex_6_3, ex_6_4, queue_pc, ex_2_2, ex_2_7, ex_4_4"
        );
        assert_eq!(
            names(&["ex_6_1:lazy"]).unwrap_err().0,
            "unknown variant 'lazy' of ex_6_1; valid variants: eager, spawn, bare_spawn, floor"
        );
    }

    #[test]
    fn every_reference_is_a_variant() {
        for e in ALL {
            assert!(e.variant_names().any(|v| v == e.reference), "{}", e.name);
        }
    }
}

/// Refuses, before anything is built, a task count whose estimated memory (bytes per task as
/// the sweep measured them, with the exercises' own margin) does not fit in `available` bytes,
/// for any selected variant run with that count (`tasks`, or the exercise's default), its
/// start-latency row included where `latency_rows` says they run. Names the largest count
/// that fits.
pub fn check_memory(
    selection: &[(&'static Exercise, &'static str)],
    counts: &[Option<u64>],
    latency_rows: bool,
    available: u64,
) -> Result<(), UsageError> {
    for &(exercise, variant) in selection {
        if exercise.default_tasks.is_none() {
            continue; // no count applies
        }
        let measure = if latency_rows && exercise.latency_variants.contains(&variant) {
            Measure::StartLatency
        } else {
            Measure::Throughput
        };
        for n in counts.iter().filter_map(|n| n.or(exercise.default_tasks)) {
            if let Some(why) = memory::misfit(exercise.name, variant, measure, n, available) {
                return Err(UsageError(format!("{}: {why}", exercise.name)));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod memory_tests {
    use super::*;

    #[test]
    fn counts_that_fit_pass_and_others_name_the_largest_that_fits() {
        let ex_6_1 = find("ex_6_1").expect("ex_6_1");
        let spawn = [(ex_6_1, "spawn")];
        let floor = [(ex_6_1, "floor")];
        let gib = 1u64 << 30;
        assert!(check_memory(&spawn, &[Some(1_000_000)], true, 8 * gib).is_ok());
        assert!(
            check_memory(&spawn, &[None], true, 8 * gib).is_ok(),
            "the default count"
        );
        let refused = check_memory(&spawn, &[Some(1_000_000_000)], true, 8 * gib).unwrap_err();
        let largest = memory::largest_fitting(
            memory::bytes_per_task("ex_6_1", "spawn", Measure::StartLatency),
            8 * gib,
        );
        assert!(
            refused
                .0
                .ends_with(&format!("the largest count that fits is {largest}")),
            "{refused}"
        );
        // What holds nothing per task is never refused.
        assert!(check_memory(&floor, &[Some(1_000_000_000)], true, 0).is_ok());
    }
}
