//! ex_6_1: one million no-op tasks in a `TaskGroup` with the eager task factory.
//!
//! Its Python original: `scripts/python/ex_6_1.py`.
//!
//! The Python original (3.12+) sets `asyncio.eager_task_factory` on the loop and creates
//! 1,000,000 `light_coro()` tasks in an `asyncio.TaskGroup`. Eager tasks run their coroutine at
//! once, inside `create_task`; `light_coro` finishes there, so no task is ever scheduled.
//!
//! The tokio counterpart is `taskgroup::scope(Start::Eager, …)`: the scope is the `async with`
//! block and ends when every task of the group has ended; `tg.spawn` polls each future once in
//! place, and only a future that is still pending becomes a tokio task.
//!
//! Variants: `eager` (default); `spawn`, the same group with every task scheduled (ex_6_1
//! before Python 3.12); `polled_eager`, `taskgroup::polled::scope` with eager start, the group
//! whose scope polls its children itself (run as a local task: it need not be `Send`); `bare_spawn`, plain `tokio::spawn` of each task and an await of every
//! handle, with no group: what the group's own bookkeeping is measured against; `joinset` and
//! `tracker`, what a Rust developer would pick instead of this project's group: tokio's
//! `JoinSet` (spawn all, then `join_next` until it is empty) and tokio-util's `TaskTracker`
//! (spawn, close, wait); `floor`, each future polled once inline with no group at all: the
//! least this work can cost.
//!
//! Run: `cargo run --release -p ex_6_1` (`-- --help` lists the flags). Prints what
//! `scripts/python/ex_6_1.py` prints for the same start (`without` for every variant but
//! `eager` and `polled_eager`, as the script's `--variant scheduled`):
//!
//! ```text
//! Before running task group!
//! It took 0.002913 to run!
//! After running task group with eager task factory!
//! ```

use std::hint::black_box;
use std::pin::pin;
use std::process::ExitCode;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use catalog::Exercise;
use taskgroup::{Start, TaskGroup, polled, scope};
use timing::StartLatencies;
use timing::cli::{Measure, Spec};
use tokio::task::JoinSet;
use tokio_util::task::TaskTracker;

const TASKS: u64 = EXERCISE.tasks();

/// This exercise's facts: its variants, default count and help line (crates/catalog).
const EXERCISE: &Exercise = catalog::exercise("ex_6_1");
const VARIANTS: [&str; EXERCISE.variants.len()] = catalog::variant_array(EXERCISE);
const SPEC: Spec = Spec {
    name: EXERCISE.name,
    about: EXERCISE.help,
    variants: &VARIANTS,
    default_tasks: EXERCISE.default_tasks,
    start_latency: EXERCISE.takes_start_latency(),
};

/// `async def light_coro(): pass`
async fn light_coro() {}

/// `light_coro` that notes, when first polled, how long ago it was created.
async fn timed_light_coro(latencies: StartLatencies, i: usize, created: Instant) {
    latencies.started(i, created);
}

/// The body of `main()` after its first print: returns the time it took and the tasks
/// completed. With `latencies`, each task records its start latency.
async fn task_group(
    tasks: u64,
    start: Start,
    latencies: Option<StartLatencies>,
) -> anyhow::Result<(Duration, u64)> {
    let time0 = Instant::now();
    // asyncio.get_event_loop().set_task_factory(asyncio.eager_task_factory)
    // async with asyncio.TaskGroup() as tg:
    let ((), completed) = scope(start, async |tg: &mut TaskGroup| {
        match &latencies {
            // The chapter's loop: `for _ in range(1_000_000): tg.create_task(light_coro())`.
            None => {
                for _ in 0..tasks {
                    tg.spawn(light_coro())?;
                }
            }
            Some(l) => {
                for i in 0..tasks {
                    tg.spawn(timed_light_coro(l.clone(), i as usize, Instant::now()))?;
                }
            }
        }
        Ok(())
    })
    .await?; // the end of `async with`: every task has ended
    Ok((time0.elapsed(), completed.total()))
}

/// The same tasks with plain `tokio::spawn` and no group: spawn all, then await every handle.
async fn bare_spawn(
    tasks: u64,
    latencies: Option<StartLatencies>,
) -> anyhow::Result<(Duration, u64)> {
    let time0 = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|i| match &latencies {
            None => tokio::spawn(light_coro()),
            Some(l) => tokio::spawn(timed_light_coro(l.clone(), i as usize, Instant::now())),
        })
        .collect();
    let mut completed = 0;
    for handle in handles {
        handle.await?;
        completed += 1;
    }
    Ok((time0.elapsed(), completed))
}

/// Tokio's `JoinSet`: spawn every task into the set, then `join_next` until the set is empty.
///
/// Dearer than `bare_spawn` although it runs the same tasks: the set keeps each task's handle
/// in an entry of its own (one more heap allocation, an `Arc`, per task) on a list behind a
/// mutex, locked on insert, when the task's completion moves the entry to the "notified" list,
/// and when `join_next` takes it off; and each handle holds the entry's waker. What it buys:
/// results in completion order, and dropping the set aborts whatever still runs.
async fn joinset(tasks: u64, latencies: Option<StartLatencies>) -> anyhow::Result<(Duration, u64)> {
    let time0 = Instant::now();
    let mut set = JoinSet::new();
    for i in 0..tasks {
        match &latencies {
            None => set.spawn(light_coro()),
            Some(l) => set.spawn(timed_light_coro(l.clone(), i as usize, Instant::now())),
        };
    }
    let mut completed = 0;
    while let Some(done) = set.join_next().await {
        done?; // Err: the task panicked
        completed += 1;
    }
    Ok((time0.elapsed(), completed))
}

/// tokio-util's `TaskTracker`: spawn each task through the tracker, `close` it, then `wait`.
///
/// The cheapest way to wait for many tasks: the tracker only counts them (an atomic add when a
/// task is spawned, a subtract when its future is dropped) and wakes the waiter once the count
/// is zero and the tracker closed. No handle is awaited (each is dropped at once), so no task
/// stores a waker or keeps its output, and each task's memory is freed as soon as it has run,
/// where awaiting handles visits every finished task once more. What it gives up: results and
/// errors (a task that panics just ends), and it cancels nothing.
async fn tracker(tasks: u64, latencies: Option<StartLatencies>) -> anyhow::Result<(Duration, u64)> {
    let time0 = Instant::now();
    let tracker = TaskTracker::new();
    for i in 0..tasks {
        match &latencies {
            None => tracker.spawn(light_coro()),
            Some(l) => tracker.spawn(timed_light_coro(l.clone(), i as usize, Instant::now())),
        };
    }
    tracker.close(); // no more tasks: `wait` can now end
    tracker.wait().await; // every tracked task has ended
    // The tracker keeps no results: what it knows is how many of its tasks have ended.
    let completed = tasks - tracker.len() as u64;
    Ok((time0.elapsed(), completed))
}

/// The chapter's loop in the group polled by its own scope, with eager start: a child that
/// finishes in its step is never kept, as with `Start::Eager` above.
async fn polled_group(
    tasks: u64,
    latencies: Option<StartLatencies>,
) -> anyhow::Result<(Duration, u64)> {
    let time0 = Instant::now();
    let ((), completed) = polled::scope(Start::Eager, async |tg| {
        match &latencies {
            None => {
                for _ in 0..tasks {
                    tg.spawn(light_coro())?;
                }
            }
            Some(l) => {
                for i in 0..tasks {
                    tg.spawn(timed_light_coro(l.clone(), i as usize, Instant::now()))?;
                }
            }
        }
        Ok(())
    })
    .await?;
    Ok((time0.elapsed(), completed.total()))
}

/// The floor: each future polled once where it is made, no group, no task, no waker.
async fn floor(tasks: u64) -> anyhow::Result<(Duration, u64)> {
    let time0 = Instant::now();
    let mut cx = Context::from_waker(Waker::noop());
    let mut completed = 0;
    for _ in 0..tasks {
        // black_box: the future must really be made and polled, not folded away.
        completed += u64::from(pin!(black_box(light_coro())).poll(&mut cx).is_ready());
    }
    Ok((time0.elapsed(), completed))
}

fn main() -> ExitCode {
    timing::harness::main(&SPEC, |rt, args| {
        let tasks = args.tasks.unwrap_or(TASKS);
        let latencies =
            (args.measure == Measure::StartLatency).then(|| StartLatencies::new(tasks as usize));
        let l = latencies.clone();
        timing::say("Before running task group!");
        // asyncio.run(main()): by default the body runs as a task of the runtime.
        let (elapsed, completed) = match args.variant {
            "eager" => timing::enter(rt, args.entry, task_group(tasks, Start::Eager, l))??,
            "spawn" => timing::enter(rt, args.entry, task_group(tasks, Start::Scheduled, l))??,
            "polled_eager" => timing::enter_local(rt, args.entry, move || polled_group(tasks, l))??,
            "bare_spawn" => timing::enter(rt, args.entry, bare_spawn(tasks, l))??,
            "joinset" => timing::enter(rt, args.entry, joinset(tasks, l))??,
            "tracker" => timing::enter(rt, args.entry, tracker(tasks, l))??,
            "floor" => timing::enter(rt, args.entry, floor(tasks))??,
            other => bail!("no code for the catalogue's variant '{other}'"),
        };
        ensure!(
            completed == tasks,
            "only {completed} of {tasks} tasks completed"
        );
        if let Some(l) = latencies {
            timing::harness::report_start_latency(&l.histogram());
        }
        timing::say(format_args!("It took {} to run!", timing::seconds(elapsed)));
        // The last line of the script's run with the same start: `scripts/python/ex_6_1.py`
        // prints "with" for its default, "without" for `--variant scheduled`.
        timing::say(match args.variant {
            "eager" | "polled_eager" => "After running task group with eager task factory!",
            _ => "After running task group without eager task factory!",
        });
        Ok(elapsed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_task_completes_in_every_variant() {
        for start in [Start::Eager, Start::Scheduled] {
            let (_, completed) = task_group(1_000, start, None).await.unwrap();
            assert_eq!(completed, 1_000, "{start:?}");
        }
        assert_eq!(polled_group(1_000, None).await.unwrap().1, 1_000);
        assert_eq!(bare_spawn(1_000, None).await.unwrap().1, 1_000);
        assert_eq!(joinset(1_000, None).await.unwrap().1, 1_000);
        assert_eq!(tracker(1_000, None).await.unwrap().1, 1_000);
        assert_eq!(floor(1_000).await.unwrap().1, 1_000);
    }

    #[tokio::test]
    async fn start_latencies_are_recorded_for_every_task() {
        for start in [Start::Eager, Start::Scheduled] {
            let l = StartLatencies::new(500);
            task_group(500, start, Some(l.clone())).await.unwrap();
            assert_eq!(l.histogram().len(), 500, "{start:?}");
        }
        let l = StartLatencies::new(500);
        bare_spawn(500, Some(l.clone())).await.unwrap();
        assert_eq!(l.histogram().len(), 500);
    }

    /// The peers run every task: each one records its start, so none was skipped or left
    /// pending when the wait ended (the tracker reports no results of its own).
    #[tokio::test]
    async fn joinset_and_tracker_run_every_task_before_they_return() {
        let l = StartLatencies::new(500);
        assert_eq!(joinset(500, Some(l.clone())).await.unwrap().1, 500);
        assert_eq!(l.histogram().len(), 500);
        let l = StartLatencies::new(500);
        assert_eq!(tracker(500, Some(l.clone())).await.unwrap().1, 500);
        assert_eq!(l.histogram().len(), 500);
    }
}
