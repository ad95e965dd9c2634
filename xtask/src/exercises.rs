//! The exercises the project has, as the runner knows them.
//!
//! # Families and the idiomatic row
//!
//! Each variant belongs to one [`Family`], so a report can group rows by who wrote the code
//! they measure: this project's crates (`project`), plain tokio written the way the port is
//! (`tokio`), what a Rust developer would pick instead of this project's crates (`peer`), or
//! the least the work can cost (`floor`). Each exercise may name one variant as
//! [`Exercise::idiomatic`]: the code a Rust developer porting the Python would most likely
//! write, measured beside the project's; `None` where no such row is measured.

use timing::cli::Measure;
use timing::memory;

use crate::UsageError;

/// Who wrote the code a variant measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// This project's port: its own crates doing what asyncio does (`taskgroup`, `queue`, …).
    Project,
    /// Plain tokio, none of this project's crates, written the way the port is: the yardstick
    /// for the project's own bookkeeping (`bare_spawn`, `spawn_gather`, `try_id`).
    Tokio,
    /// A Rust peer: what a Rust developer would pick instead of this project's crates
    /// (`JoinSet`, `TaskTracker`, `join_all`, `FuturesUnordered`, `mpsc`).
    Peer,
    /// The least the work can cost: no tasks, no waiting.
    Floor,
}

impl Family {
    /// The family's name in reports and `cargo xtask list`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Project => "project",
            Family::Tokio => "tokio",
            Family::Peer => "peer",
            Family::Floor => "floor",
        }
    }
}

/// One variant of an exercise: the binary's `--variant` value.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    pub name: &'static str,
    pub family: Family,
    /// One line: what the variant runs.
    pub about: &'static str,
    /// `run` and `run-all` run it with at most this many tasks, whatever `--tasks` or the
    /// exercise's default says (the row's `tasks` is the count that ran): for variants whose
    /// cost grows faster than the work. `sweep` ignores it and stops such a variant by time.
    pub max_tasks: Option<u64>,
}

const fn variant(name: &'static str, family: Family, about: &'static str) -> Variant {
    Variant {
        name,
        family,
        about,
        max_tasks: None,
    }
}

impl Variant {
    const fn capped(self, max_tasks: u64) -> Variant {
        Variant {
            max_tasks: Some(max_tasks),
            ..self
        }
    }
}

/// The count `run` and `run-all` give the quadratic ex_6_2 variants (`join_all` or
/// `FuturesUnordered` over `JoinHandle`s): about 0.5 s a run here, 200 polls per handle.
pub const QUADRATIC_MAX_TASKS: u64 = 50_000;

/// One exercise binary.
#[derive(Debug, Clone, Copy)]
pub struct Exercise {
    pub name: &'static str,
    pub chapter: u8,
    /// One line: what the exercise shows.
    pub about: &'static str,
    /// The variants; the first is the exercise's default.
    pub variants: &'static [Variant],
    /// The variant every other row of the exercise is compared against.
    pub reference: &'static str,
    /// The variant a Rust developer porting the exercise would most likely write; `None` where
    /// no such row is measured (only the project's port runs).
    pub idiomatic: Option<&'static str>,
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
    /// Its script's `--variant`s besides the default (which [`Exercise::python_needs`] is
    /// for), each a CPython row of its own on the standard loop; empty for a script with one
    /// way to run.
    pub script_variants: &'static [ScriptVariant],
    /// The rows that say what eager start does here; `None` where nothing compares it.
    pub eager_start: Option<EagerStart>,
}

/// A `--variant` of an exercise's Python script other than its default: measured under every
/// interpreter as a row of its own, beside the default's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptVariant {
    /// The script's `--variant` value.
    pub name: &'static str,
    /// One line: what it runs.
    pub about: &'static str,
    /// The oldest Python it runs on.
    pub python_needs: (u32, u32),
}

impl ScriptVariant {
    /// The variant of its row, as the script's `--json` names it on the standard loop with the
    /// collector on: the loop's name, then the script variant's (`asyncio_scheduled`). The
    /// default's row keeps the loop's name alone (`asyncio`).
    pub fn row_variant(&self) -> String {
        format!("asyncio_{}", self.name)
    }
}

/// What eager start is measured by in an exercise: the Rust variant with it, the one without it,
/// and, where the script's default runs the eager task factory, the script variant without it.
#[derive(Debug, Clone, Copy)]
pub struct EagerStart {
    /// What the exercise's children do, as the report says it.
    pub children: &'static str,
    pub eager: &'static str,
    pub scheduled: &'static str,
    /// The [`ScriptVariant`] without the eager task factory; `None` where the script has none.
    pub script_scheduled: Option<&'static str>,
}

use Family::{Floor, Peer, Project, Tokio};

pub const ALL: &[Exercise] = &[
    Exercise {
        name: "ex_6_1",
        chapter: 6,
        about: "TaskGroup over no-op tasks with the eager task factory",
        variants: &[
            variant(
                "eager",
                Project,
                "taskgroup::scope(Start::Eager, …): each task polled once where it is spawned",
            ),
            variant(
                "spawn",
                Project,
                "the same group without eager start: every task scheduled",
            ),
            variant(
                "polled_eager",
                Project,
                "taskgroup::polled::scope(Start::Eager, …): the group whose scope polls its children itself, eager start",
            ),
            variant(
                "bare_spawn",
                Tokio,
                "tokio::spawn each task, await every handle: no group at all",
            ),
            variant(
                "joinset",
                Peer,
                "tokio::task::JoinSet: spawn all, then join_next until it is empty",
            ),
            variant(
                "tracker",
                Peer,
                "tokio_util::task::TaskTracker: spawn all, close, wait",
            ),
            variant(
                "floor",
                Floor,
                "each future polled once inline: the least the work can cost",
            ),
        ],
        reference: "spawn",
        idiomatic: Some("joinset"),
        default_tasks: Some(1_000_000),
        expected_exit: 0,
        python_needs: (3, 12),
        entry_variants: &["spawn", "bare_spawn"],
        latency_variants: &["eager", "spawn", "bare_spawn", "joinset", "tracker"],
        max_iterations: None,
        // The chapter's script (the eager task factory), and the same without the factory.
        script_variants: &[ScriptVariant {
            name: "scheduled",
            about: "the same TaskGroup without the eager task factory",
            python_needs: (3, 11),
        }],
        eager_start: Some(EagerStart {
            children: "children that finish in their first step",
            eager: "eager",
            scheduled: "spawn",
            script_scheduled: Some("scheduled"),
        }),
    },
    Exercise {
        name: "suspend_once",
        chapter: 6,
        about: "ex_6_1 with one suspension: TaskGroup over tasks that each await sleep(0) once",
        variants: &[
            variant(
                "scheduled",
                Project,
                "taskgroup::scope(Start::Scheduled, …): every task a tokio task, first polled by the runtime",
            ),
            variant(
                "eager",
                Project,
                "taskgroup::scope(Start::Eager, …): each task suspends in its eager step, then goes on as a tokio task",
            ),
            variant(
                "polled",
                Project,
                "taskgroup::polled::scope(Start::Scheduled, …): the scope polls its children itself, no tokio task each",
            ),
            variant(
                "polled_eager",
                Project,
                "taskgroup::polled::scope(Start::Eager, …): the same, each child's first step where it is spawned",
            ),
            variant(
                "bare_spawn",
                Tokio,
                "tokio::spawn each task, await every handle: no group at all",
            ),
            variant(
                "tracker",
                Peer,
                "tokio_util::task::TaskTracker: spawn all, close, wait",
            ),
            variant(
                "joinset",
                Peer,
                "tokio::task::JoinSet: spawn all, then join_next until it is empty",
            ),
            variant(
                "futures_unordered",
                Peer,
                "futures::stream::FuturesUnordered: every task polled by the body, no tokio task each",
            ),
            variant(
                "floor",
                Floor,
                "each future polled twice inline, pending then ready: the least the work can cost",
            ),
        ],
        // The targets are ratios to the cheapest way to wait for spawned tasks.
        reference: "tracker",
        idiomatic: Some("joinset"),
        default_tasks: Some(1_000_000),
        expected_exit: 0,
        // The script's default, the chapter's eager TaskGroup; its other variants below.
        python_needs: (3, 12),
        entry_variants: &["scheduled", "bare_spawn"],
        latency_variants: &[
            "scheduled",
            "eager",
            "bare_spawn",
            "tracker",
            "joinset",
            "futures_unordered",
        ],
        max_iterations: None,
        // The script's `--variant`s (scripts/python/suspend_once.py), its default first.
        script_variants: &[
            ScriptVariant {
                name: "scheduled",
                about: "the same TaskGroup without the eager task factory",
                python_needs: (3, 11),
            },
            ScriptVariant {
                name: "gather",
                about: "asyncio.gather of the coroutines, without the eager task factory",
                python_needs: (3, 10),
            },
        ],
        eager_start: Some(EagerStart {
            children: "children that suspend once",
            eager: "eager",
            scheduled: "scheduled",
            script_scheduled: Some("scheduled"),
        }),
    },
    Exercise {
        name: "ex_6_2",
        chapter: 6,
        about: "gather over lazily started no-op coroutines",
        variants: &[
            variant(
                "join_all",
                Peer,
                "futures::future::join_all: every future polled inside one task",
            ),
            variant(
                "spawn_gather",
                Tokio,
                "tokio::spawn each future, await the handles in order",
            ),
            variant(
                "gather_in_place",
                Project,
                "taskgroup::gather: the futures polled where they lie, no allocation each",
            ),
            variant(
                "join_handles",
                Peer,
                "tokio::spawn each future, join_all of the handles: quadratic under tokio's budget",
            )
            .capped(QUADRATIC_MAX_TASKS),
            variant(
                "futures_unordered",
                Peer,
                "the handles drained from a FuturesUnordered: quadratic under tokio's budget",
            )
            .capped(QUADRATIC_MAX_TASKS),
            variant(
                "join_handles_unconstrained",
                Peer,
                "join_handles inside tokio::task::unconstrained: linear, never yields meanwhile",
            ),
            variant(
                "floor",
                Floor,
                "each future polled once inline: the least the work can cost",
            ),
        ],
        reference: "spawn_gather",
        // `join_all` is what a Rust developer reaches for to await many futures. The row that
        // spawns each future and joins the handles (`join_handles`) is a pitfall, quadratic
        // under tokio's budget (the report's Pitfalls), never the idiomatic choice.
        idiomatic: Some("join_all"),
        default_tasks: Some(1_000_000),
        expected_exit: 0,
        python_needs: (3, 10),
        entry_variants: &["spawn_gather"],
        latency_variants: &[
            "join_all",
            "spawn_gather",
            "gather_in_place",
            "join_handles",
            "futures_unordered",
            "join_handles_unconstrained",
        ],
        max_iterations: None,
        script_variants: &[],
        eager_start: None,
    },
    Exercise {
        name: "ex_6_3",
        chapter: 6,
        about: "current-task look-up, many times over (asyncio.current_task)",
        variants: &[
            variant("try_id", Tokio, "tokio::task::try_id() inside a task"),
            variant(
                "floor",
                Floor,
                "a bare thread-local read: the least a look-up can cost",
            ),
        ],
        reference: "try_id",
        idiomatic: Some("try_id"),
        default_tasks: Some(1_000_000),
        expected_exit: 0,
        python_needs: (3, 10),
        entry_variants: &[],
        latency_variants: &[],
        max_iterations: None,
        script_variants: &[],
        eager_start: None,
    },
    Exercise {
        name: "ex_6_4",
        chapter: 6,
        about: "Queue.shutdown (Python 3.13): a put after shutdown fails",
        variants: &[variant(
            "shutdown",
            Project,
            "a queue with asyncio's shutdown rules; ends with QueueShutDown, exit 1",
        )],
        reference: "shutdown",
        idiomatic: None,
        default_tasks: None,
        expected_exit: 1,
        python_needs: (3, 13),
        entry_variants: &[],
        latency_variants: &[],
        max_iterations: None,
        script_variants: &[],
        eager_start: None,
    },
    Exercise {
        name: "queue_pc",
        chapter: 6,
        about: "items through asyncio.Queue(maxsize=100), one producer task and one consumer task",
        variants: &[
            variant(
                "queue",
                Project,
                "queue::Queue, asyncio's queue on tokio, between two spawned tasks",
            ),
            variant(
                "mpsc",
                Peer,
                "tokio::sync::mpsc::channel(100): what a tokio user would pick for one to one",
            ),
            variant(
                "floor",
                Floor,
                "a VecDeque filled 100 at a time and drained, no tasks, no waiting",
            ),
        ],
        reference: "queue",
        idiomatic: Some("mpsc"),
        default_tasks: Some(1_000_000),
        expected_exit: 0,
        python_needs: (3, 10),
        entry_variants: &[],
        latency_variants: &[],
        max_iterations: None,
        script_variants: &[],
        eager_start: None,
    },
    Exercise {
        name: "ex_2_2",
        chapter: 2,
        about: "asyncio.Runner (3.11): one runtime and one context for several async calls",
        variants: &[variant(
            "runner",
            Project,
            "a Runtime kept for every run() call, each a task in one shared context",
        )],
        reference: "runner",
        idiomatic: None,
        default_tasks: None,
        expected_exit: 0,
        python_needs: (3, 11),
        entry_variants: &[],
        latency_variants: &[],
        max_iterations: Some(3),
        script_variants: &[],
        eager_start: None,
    },
    Exercise {
        name: "ex_2_7",
        chapter: 2,
        about: "asyncio.TaskGroup (3.11) with two tasks sleeping 2 s and 3 s",
        variants: &[variant(
            "taskgroup",
            Project,
            "taskgroup::scope: waits for both, cancels the other on a failure",
        )],
        reference: "taskgroup",
        idiomatic: None,
        default_tasks: None,
        expected_exit: 0,
        python_needs: (3, 11),
        entry_variants: &[],
        latency_variants: &[],
        max_iterations: Some(3),
        script_variants: &[],
        eager_start: None,
    },
    Exercise {
        name: "ex_4_4",
        chapter: 4,
        about: "asyncio.Barrier (3.11) of three tasks, printed as it fills and drains",
        variants: &[variant(
            "barrier",
            Project,
            "barrier::Barrier with asyncio's states, abort, reset and repr",
        )],
        reference: "barrier",
        idiomatic: None,
        default_tasks: None,
        expected_exit: 0,
        python_needs: (3, 11),
        entry_variants: &[],
        latency_variants: &[],
        max_iterations: None,
        script_variants: &[],
        eager_start: None,
    },
];

impl Exercise {
    /// Variant names, default first.
    pub fn variant_names(&self) -> impl Iterator<Item = &'static str> {
        self.variants.iter().map(|v| v.name)
    }

    /// The variant called `name`.
    pub fn variant(&self, name: &str) -> Option<&'static Variant> {
        self.variants.iter().find(|v| v.name == name)
    }

    /// The script variant called `name`.
    pub fn script_variant(&self, name: &str) -> Option<&'static ScriptVariant> {
        self.script_variants.iter().find(|v| v.name == name)
    }

    /// The script variant whose CPython row has `variant` (`asyncio_scheduled`: `scheduled`);
    /// `None` for the default's row and the other loops'.
    pub fn script_variant_of_row(&self, variant: &str) -> Option<&'static ScriptVariant> {
        self.script_variants
            .iter()
            .find(|v| v.row_variant() == variant)
    }

    /// The script variant the report sets against the script's default to say what the eager
    /// task factory does ([`EagerStart::script_scheduled`]).
    pub fn script_without_eager(&self) -> Option<&'static ScriptVariant> {
        self.script_variant(self.eager_start?.script_scheduled?)
    }

    /// The task count `run` and `run-all` give `variant`: `asked` (`--tasks`), else the
    /// exercise's default, held to the variant's [`Variant::max_tasks`]; `None` where no count
    /// applies.
    pub fn capped_tasks(&self, variant: &str, asked: Option<u64>) -> Option<u64> {
        let n = asked.unwrap_or(self.default_tasks?);
        let cap = self.variant(variant).and_then(|v| v.max_tasks);
        Some(cap.map_or(n, |cap| n.min(cap)))
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
    fn no_exercise_names_a_variant_capped_for_its_growth_as_idiomatic() {
        for ex in ALL {
            if let Some(idiomatic) = ex.idiomatic {
                let v = ex.variant(idiomatic).expect("the idiomatic variant exists");
                assert_eq!(v.max_tasks, None, "{}: {idiomatic} is a pitfall", ex.name);
            }
        }
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
                "ex_6_2:join_handles",
                "ex_6_2:futures_unordered",
                "ex_6_2:join_handles_unconstrained",
                "ex_6_2:floor",
                "ex_6_1:spawn"
            ]
        );
    }

    #[test]
    fn suspend_once_runs_the_binarys_variants_scheduled_first() {
        // The order of the binary's `--help` (crates/exercises/suspend_once): the default first.
        assert_eq!(
            names(&["suspend_once"]).unwrap(),
            [
                "suspend_once:scheduled",
                "suspend_once:eager",
                "suspend_once:polled",
                "suspend_once:polled_eager",
                "suspend_once:bare_spawn",
                "suspend_once:tracker",
                "suspend_once:joinset",
                "suspend_once:futures_unordered",
                "suspend_once:floor"
            ]
        );
        let ex = find("suspend_once").expect("suspend_once");
        assert_eq!(ex.capped_tasks("scheduled", None), Some(1_000_000));
        assert_eq!(ex.python_needs, (3, 12), "the script's default is eager");
    }

    #[test]
    fn eager_start_names_variants_the_exercise_and_its_script_have() {
        let mut compared = Vec::new();
        for ex in ALL {
            let Some(e) = ex.eager_start else { continue };
            for name in [e.eager, e.scheduled] {
                assert!(ex.variant(name).is_some(), "{}: {name}", ex.name);
            }
            if let Some(name) = e.script_scheduled {
                assert!(ex.script_variant(name).is_some(), "{}: {name}", ex.name);
            }
            compared.push(ex.name);
        }
        assert_eq!(compared, ["ex_6_1", "suspend_once"]);
        let row = |ex: &str, variant: &str| {
            find(ex)
                .and_then(|e| e.script_variant_of_row(variant))
                .map(|v| v.name)
        };
        assert_eq!(row("suspend_once", "asyncio_scheduled"), Some("scheduled"));
        assert_eq!(row("suspend_once", "asyncio_gather"), Some("gather"));
        assert_eq!(row("suspend_once", "asyncio"), None, "the default's row");
        assert_eq!(row("suspend_once", "uvloop"), None);
        assert_eq!(row("ex_6_1", "asyncio_scheduled"), Some("scheduled"));
        assert_eq!(
            row("ex_6_2", "asyncio_scheduled"),
            None,
            "a script with one way to run"
        );
    }

    /// The `("a", "b")` after `prefix` on a line of `text`, as strings; empty without one.
    fn python_tuple(text: &str, prefix: &str) -> Vec<String> {
        let Some(line) = text.lines().find_map(|l| l.strip_prefix(prefix)) else {
            return Vec::new();
        };
        line.trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace())
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    #[test]
    fn the_script_variants_and_their_pythons_are_the_scripts_own() {
        let scripts = crate::workspace_root().unwrap().join("scripts/python");
        for ex in ALL {
            let path = scripts.join(format!("{}.py", ex.name));
            let text = std::fs::read_to_string(&path).expect("the exercise's script");
            let variants = python_tuple(&text, "VARIANTS = ");
            if ex.script_variants.is_empty() {
                assert!(variants.is_empty(), "{}: {variants:?}", ex.name);
                continue;
            }
            // The default first, then the catalogue's, in its order.
            let declared: Vec<&str> = ex.script_variants.iter().map(|v| v.name).collect();
            assert_eq!(variants[1..], declared, "{}", ex.name);
            let needs_line = text
                .lines()
                .find(|l| l.starts_with("NEEDS = {"))
                .expect("the script's NEEDS");
            let needs = std::iter::once((variants[0].as_str(), ex.python_needs))
                .chain(ex.script_variants.iter().map(|v| (v.name, v.python_needs)));
            for (name, (major, minor)) in needs {
                // Nothing newer than the project's floor: the harness's own floor.
                let said = if (major, minor) <= crate::python::MIN_VERSION {
                    format!("\"{name}\": _harness.FLOOR")
                } else {
                    format!("\"{name}\": ({major}, {minor})")
                };
                assert!(
                    needs_line.contains(&said),
                    "{}: {said} in {needs_line}",
                    ex.name
                );
            }
        }
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        assert_eq!(
            names(&["ex_9_9"]).unwrap_err().0,
            "unknown exercise 'ex_9_9'; valid exercises: ex_6_1, suspend_once, ex_6_2, ex_6_3, ex_6_4, queue_pc, ex_2_2, ex_2_7, ex_4_4"
        );
        assert_eq!(
            names(&["ex_6_1:lazy"]).unwrap_err().0,
            "unknown variant 'lazy' of ex_6_1; valid variants: eager, spawn, polled_eager, bare_spawn, joinset, tracker, floor"
        );
    }

    #[test]
    fn every_variant_named_in_an_exercise_is_one_of_its_variants() {
        for e in ALL {
            let named = [e.reference]
                .into_iter()
                .chain(e.idiomatic)
                .chain(e.entry_variants.iter().copied())
                .chain(e.latency_variants.iter().copied());
            for name in named {
                assert!(e.variant(name).is_some(), "{}: {name}", e.name);
            }
        }
    }

    #[test]
    fn floors_and_the_rust_peers_are_in_their_families() {
        for e in ALL {
            for v in e.variants {
                assert_eq!(
                    v.name == "floor",
                    v.family == Family::Floor,
                    "{}:{}",
                    e.name,
                    v.name
                );
            }
        }
        let family = |ex: &str, v: &str| find(ex).and_then(|e| e.variant(v)).map(|v| v.family);
        for (ex, v) in [
            ("ex_6_1", "joinset"),
            ("ex_6_1", "tracker"),
            ("ex_6_2", "join_handles"),
            ("ex_6_2", "futures_unordered"),
            ("ex_6_2", "join_handles_unconstrained"),
            ("suspend_once", "tracker"),
            ("suspend_once", "joinset"),
            ("suspend_once", "futures_unordered"),
        ] {
            assert_eq!(family(ex, v), Some(Family::Peer), "{ex}:{v}");
        }
        assert_eq!(family("ex_6_1", "bare_spawn"), Some(Family::Tokio));
        assert_eq!(family("suspend_once", "bare_spawn"), Some(Family::Tokio));
        assert_eq!(family("ex_6_2", "spawn_gather"), Some(Family::Tokio));
        assert_eq!(family("ex_6_1", "spawn"), Some(Family::Project));
        assert_eq!(family("suspend_once", "scheduled"), Some(Family::Project));
        assert_eq!(family("suspend_once", "eager"), Some(Family::Project));
    }

    #[test]
    fn capped_variants_run_at_most_their_cap_and_others_as_asked() {
        let ex_6_2 = find("ex_6_2").expect("ex_6_2");
        let cap = QUADRATIC_MAX_TASKS;
        for quadratic in ["join_handles", "futures_unordered"] {
            assert_eq!(
                ex_6_2.capped_tasks(quadratic, None),
                Some(cap),
                "the default"
            );
            assert_eq!(
                ex_6_2.capped_tasks(quadratic, Some(100_000)),
                Some(cap),
                "--quick"
            );
            assert_eq!(ex_6_2.capped_tasks(quadratic, Some(1_000)), Some(1_000));
        }
        assert_eq!(
            ex_6_2.capped_tasks("join_handles_unconstrained", None),
            Some(1_000_000)
        );
        assert_eq!(
            ex_6_2.capped_tasks("spawn_gather", Some(100_000)),
            Some(100_000)
        );
        // No count applies: none is made up, whatever was asked.
        let ex_6_4 = find("ex_6_4").expect("ex_6_4");
        assert_eq!(ex_6_4.capped_tasks("shutdown", Some(10)), None);
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
