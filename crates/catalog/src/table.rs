//! The table itself: every exercise, in the order `cargo xtask list` and the report show them.

use crate::types::Family::{Floor, Peer, Project, Tokio};
use crate::types::{EagerStart, Exercise, Incompatibility, ScriptVariant, variant};

/// The count `run` and `run-all` give the quadratic ex_6_2 variants (`join_all` or
/// `FuturesUnordered` over `JoinHandle`s): about 0.5 s a run here, 200 polls per handle.
pub const QUADRATIC_MAX_TASKS: u64 = 50_000;

/// Every exercise.
pub const ALL: &[Exercise] = &[
    Exercise {
        name: "ex_6_1",
        chapter: 6,
        listing: Some((6, 1)),
        about: "TaskGroup over no-op tasks with the eager task factory",
        shows: "one million no-op tasks in a `TaskGroup` with the eager task factory",
        help: "a TaskGroup of no-op tasks, started eagerly (eager) or scheduled (spawn); bare_spawn, joinset, tracker and floor compare",
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
            )
            .holding(340),
            variant(
                "polled_eager",
                Project,
                "taskgroup::polled::scope(Start::Eager, …): the group whose scope polls its children itself, eager start",
            ),
            variant(
                "bare_spawn",
                Tokio,
                "tokio::spawn each task, await every handle: no group at all",
            )
            .holding(340),
            variant(
                "joinset",
                Peer,
                "tokio::task::JoinSet: spawn all, then join_next until it is empty",
            )
            .holding(340),
            variant(
                "tracker",
                Peer,
                "tokio_util::task::TaskTracker: spawn all, close, wait",
            )
            .holding(340),
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
        prints: &[],
    },
    Exercise {
        name: "suspend_once",
        chapter: 6,
        listing: None,
        about: "ex_6_1 with one suspension: TaskGroup over tasks that each await sleep(0) once",
        shows: "ex_6_1 with children that suspend once",
        help: "a TaskGroup of tasks that each suspend once (one yield), scheduled, eager or polled by the scope; bare_spawn, tracker, joinset, futures_unordered and floor compare",
        variants: &[
            // The default is the script's (the chapter's eager TaskGroup), so that the two print
            // the same lines.
            variant(
                "eager",
                Project,
                "taskgroup::scope(Start::Eager, …): each task suspends in its eager step, then goes on as a tokio task",
            )
            .holding(520),
            variant(
                "scheduled",
                Project,
                "taskgroup::scope(Start::Scheduled, …): every task a tokio task, first polled by the runtime",
            )
            .holding(540),
            variant(
                "polled",
                Project,
                "taskgroup::polled::scope(Start::Scheduled, …): the scope polls its children itself, no tokio task each",
            )
            .holding(85),
            variant(
                "polled_eager",
                Project,
                "taskgroup::polled::scope(Start::Eager, …): the same, each child's first step where it is spawned",
            )
            .holding(165),
            variant(
                "bare_spawn",
                Tokio,
                "tokio::spawn each task, await every handle: no group at all",
            )
            .holding(340),
            variant(
                "tracker",
                Peer,
                "tokio_util::task::TaskTracker: spawn all, close, wait",
            )
            .holding(460),
            variant(
                "joinset",
                Peer,
                "tokio::task::JoinSet: spawn all, then join_next until it is empty",
            )
            .holding(340),
            variant(
                "futures_unordered",
                Peer,
                "futures::stream::FuturesUnordered: every task polled by the body, no tokio task each",
            )
            .holding(130),
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
        prints: &[],
    },
    Exercise {
        name: "ex_6_2",
        chapter: 6,
        listing: Some((6, 2)),
        about: "gather over lazily started no-op coroutines",
        shows: "one million no-op coroutines awaited with `gather`, without the eager task factory",
        help: "gather of no-op coroutines: join_all, spawned tasks (spawn_gather), gather_in_place, spawned handles gathered by join_all or FuturesUnordered (join_handles, futures_unordered, join_handles_unconstrained), floor",
        variants: &[
            variant(
                "join_all",
                Peer,
                "futures::future::join_all: every future polled inside one task",
            )
            .holding(96),
            variant(
                "spawn_gather",
                Tokio,
                "tokio::spawn each future, await the handles in order",
            )
            .holding(340),
            variant(
                "gather_in_place",
                Project,
                "taskgroup::gather: the futures polled where they lie, no allocation each",
            )
            .holding(2),
            variant(
                "join_handles",
                Peer,
                "tokio::spawn each future, join_all of the handles: quadratic under tokio's budget",
            )
            .capped(QUADRATIC_MAX_TASKS)
            .holding(390),
            variant(
                "futures_unordered",
                Peer,
                "the handles drained from a FuturesUnordered: quadratic under tokio's budget",
            )
            .capped(QUADRATIC_MAX_TASKS)
            .holding(390),
            variant(
                "join_handles_unconstrained",
                Peer,
                "join_handles inside tokio::task::unconstrained: linear, never yields meanwhile",
            )
            .holding(390),
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
        prints: &[],
    },
    Exercise {
        name: "ex_6_3",
        chapter: 6,
        listing: Some((6, 3)),
        about: "current-task look-up, many times over (asyncio.current_task)",
        shows: "`asyncio.current_task()` called 1,000,000 times",
        help: "look up the current task N times (tokio::task::try_id)",
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
        prints: &[],
    },
    Exercise {
        name: "ex_6_4",
        chapter: 6,
        listing: Some((6, 4)),
        about: "Queue.shutdown (Python 3.13): a put after shutdown fails",
        shows: "Python 3.13's `Queue.shutdown()`: a put after shutdown fails",
        help: "put on a queue after Queue.shutdown() fails with QueueShutDown",
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
        prints: &[],
    },
    Exercise {
        name: "queue_pc",
        chapter: 6,
        listing: None,
        about: "items through asyncio.Queue(maxsize=100), one producer task and one consumer task",
        shows: "1,000,000 items through a bounded queue, one producer task and one consumer task",
        help: "pass N items through a bounded queue (maxsize 100), one producer and one consumer task",
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
        prints: &[],
    },
    Exercise {
        name: "ex_2_2",
        chapter: 2,
        listing: Some((2, 2)),
        about: "asyncio.Runner (3.11): one runtime and one context for several async calls",
        shows: "`asyncio.Runner` (Python 3.11)",
        help: "asyncio.Runner: one runtime (and one context) for several async calls",
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
        prints: &[
            "stared sleeping for 1 second!",
            "Finished sleeping!",
        ],
    },
    Exercise {
        name: "ex_2_7",
        chapter: 2,
        listing: Some((2, 7)),
        about: "asyncio.TaskGroup (3.11) with two tasks sleeping 2 s and 3 s",
        shows: "`asyncio.TaskGroup` (Python 3.11) with two sleeping tasks",
        help: "a TaskGroup of two sleeping tasks, 2 s and 3 s, that run concurrently",
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
        prints: &[
            "Before running task group!",
            "Started sleeping for 2 seconds!",
            "Started sleeping for 3 seconds!",
            "Finished sleeping for 2 seconds!",
            "Finished sleeping for 3 seconds!",
            "After running task group!",
            "task1: 2, task2: 3",
        ],
    },
    Exercise {
        name: "ex_4_4",
        chapter: 4,
        listing: Some((4, 4)),
        about: "asyncio.Barrier (3.11) of three tasks, printed as it fills and drains",
        shows: "`asyncio.Barrier` (Python 3.11) and its states",
        help: "a Barrier of three parties, printed as it fills, drains and fills again",
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
        prints: &[],
    },
];

/// The known incompatibilities of loop libraries with exercises' scripts: a failed row that
/// matches one is reported as failing for that reason, and does not make a run exit 1.
pub const LOOP_INCOMPATIBILITIES: &[Incompatibility] = &[Incompatibility {
    loop_name: "uvloop",
    python: ((3, 13), (3, 14)),
    // Every script whose default runs the eager task factory.
    exercises: &["ex_6_1", "suspend_once"],
    error: "unexpected keyword argument 'eager_start'",
    reason: "uvloop 0.23.0, built for CPython 3.13, passes `eager_start=` to the loop's task \
             factory (as CPython 3.14's `loop.create_task` does); the chapter's \
             `asyncio.eager_task_factory` accepts it only from 3.14 (CPython gh-128306), so \
             in every 3.13 each `create_task` raises TypeError. 3.12 and older are not \
             affected: uvloop passes `eager_start` to the factory on 3.13+ only",
}];
