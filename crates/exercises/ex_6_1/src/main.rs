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
use taskgroup::{Scope, Start, TaskGroup, polled};
use timing::StartLatencies;
use timing::cli::{Args, Measure, Spec};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;
use tokio_util::task::TaskTracker;

const TASKS: u64 = EXERCISE.tasks();

/// This exercise's facts: its variants, default count and help line (crates/catalog).
const EXERCISE: &Exercise = catalog::exercise("ex_6_1");
const SPEC: Spec = timing::spec!(EXERCISE);

/// `async def light_coro(): pass`
async fn light_coro() {}

/// The body of `main()` after its first print: returns the time it took and the tasks
/// completed. `child(i)` makes task `i`'s coroutine: `light_coro()`, or, with `--measure
/// start-latency`, `light_coro()` noting when it starts ([`timing::noting_start`]).
async fn task_group<F>(
    tasks: u64,
    start: Start,
    mut child: impl FnMut(u64) -> F + Send,
) -> anyhow::Result<(Duration, u64)>
where
    F: Future<Output = ()> + Send + 'static,
{
    let time0 = Instant::now();
    // asyncio.get_event_loop().set_task_factory(asyncio.eager_task_factory)
    // async with asyncio.TaskGroup() as tg:
    let ((), completed) = Scope::new(start)
        .run_counted(async |tg: &mut TaskGroup| {
            // for _ in range(1_000_000): tg.create_task(light_coro())
            for i in 0..tasks {
                tg.spawn(child(i))?;
            }
            Ok(())
        })
        .await?; // the end of `async with`: every task has ended
    Ok((time0.elapsed(), completed.total()))
}

/// The same tasks with plain `tokio::spawn` and no group: spawn all, then await every handle.
async fn bare_spawn<F>(tasks: u64, child: impl FnMut(u64) -> F) -> anyhow::Result<(Duration, u64)>
where
    F: Future<Output = ()> + Send + 'static,
{
    let time0 = Instant::now();
    let handles: Vec<_> = (0..tasks).map(child).map(tokio::spawn).collect();
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
async fn joinset<F>(tasks: u64, child: impl FnMut(u64) -> F) -> anyhow::Result<(Duration, u64)>
where
    F: Future<Output = ()> + Send + 'static,
{
    let time0 = Instant::now();
    let mut set = JoinSet::new();
    for future in (0..tasks).map(child) {
        set.spawn(future);
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
async fn tracker<F>(tasks: u64, child: impl FnMut(u64) -> F) -> anyhow::Result<(Duration, u64)>
where
    F: Future<Output = ()> + Send + 'static,
{
    let time0 = Instant::now();
    let tracker = TaskTracker::new();
    for future in (0..tasks).map(child) {
        tracker.spawn(future);
    }
    tracker.close(); // no more tasks: `wait` can now end
    tracker.wait().await; // every tracked task has ended
    // The tracker keeps no results: what it knows is how many of its tasks have ended.
    let completed = tasks - tracker.len() as u64;
    Ok((time0.elapsed(), completed))
}

/// The chapter's loop in the group polled by its own scope, with eager start: a child that
/// finishes in its step is never kept, as with `Start::Eager` above.
async fn polled_group<F>(
    tasks: u64,
    mut child: impl FnMut(u64) -> F,
) -> anyhow::Result<(Duration, u64)>
where
    F: Future<Output = ()>,
{
    let time0 = Instant::now();
    let ((), completed) = polled::scope_counted(Start::Eager, async |tg| {
        for i in 0..tasks {
            tg.spawn(child(i))?;
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

/// Runs the variant `args` names on `rt`, each task's coroutine made by `child` (the floor
/// makes its own: it has no task whose start to note); returns the time and tasks completed.
fn run<F>(
    rt: &Runtime,
    args: &Args,
    tasks: u64,
    child: impl FnMut(u64) -> F + Send + 'static,
) -> anyhow::Result<(Duration, u64)>
where
    F: Future<Output = ()> + Send + 'static,
{
    // asyncio.run(main()): by default the body runs as a task of the runtime.
    let entry = args.entry;
    Ok(match args.variant {
        "eager" => timing::enter(rt, entry, task_group(tasks, Start::Eager, child))??,
        "spawn" => timing::enter(rt, entry, task_group(tasks, Start::Scheduled, child))??,
        "polled_eager" => timing::enter_local(rt, entry, move || polled_group(tasks, child))??,
        "bare_spawn" => timing::enter(rt, entry, bare_spawn(tasks, child))??,
        "joinset" => timing::enter(rt, entry, joinset(tasks, child))??,
        "tracker" => timing::enter(rt, entry, tracker(tasks, child))??,
        "floor" => timing::enter(rt, entry, floor(tasks))??,
        other => bail!("no code for the catalogue's variant '{other}'"),
    })
}

fn main() -> ExitCode {
    timing::harness::main(&SPEC, |rt, args| {
        let tasks = args.tasks.unwrap_or(TASKS);
        let latencies =
            (args.measure == Measure::StartLatency).then(|| StartLatencies::new(tasks as usize));
        timing::say("Before running task group!");
        let (elapsed, completed) = match latencies.clone() {
            None => run(rt, args, tasks, |_| light_coro())?,
            Some(l) => run(rt, args, tasks, move |i| {
                timing::noting_start(&l, i, light_coro())
            })?,
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
            let (_, completed) = task_group(1_000, start, |_| light_coro()).await.unwrap();
            assert_eq!(completed, 1_000, "{start:?}");
        }
        let light = |_| light_coro();
        assert_eq!(polled_group(1_000, light).await.unwrap().1, 1_000);
        assert_eq!(bare_spawn(1_000, light).await.unwrap().1, 1_000);
        assert_eq!(joinset(1_000, light).await.unwrap().1, 1_000);
        assert_eq!(tracker(1_000, light).await.unwrap().1, 1_000);
        assert_eq!(floor(1_000).await.unwrap().1, 1_000);
    }

    #[tokio::test]
    async fn start_latencies_are_recorded_for_every_task() {
        for start in [Start::Eager, Start::Scheduled] {
            let l = StartLatencies::new(500);
            let noting = |i| timing::noting_start(&l, i, light_coro());
            task_group(500, start, noting).await.unwrap();
            assert_eq!(l.histogram().len(), 500, "{start:?}");
        }
        let l = StartLatencies::new(500);
        bare_spawn(500, |i| timing::noting_start(&l, i, light_coro()))
            .await
            .unwrap();
        assert_eq!(l.histogram().len(), 500);
    }

    /// The peers run every task: each one records its start, so none was skipped or left
    /// pending when the wait ended (the tracker reports no results of its own).
    #[tokio::test]
    async fn joinset_and_tracker_run_every_task_before_they_return() {
        let l = StartLatencies::new(500);
        let noting = |i| timing::noting_start(&l, i, light_coro());
        assert_eq!(joinset(500, noting).await.unwrap().1, 500);
        assert_eq!(l.histogram().len(), 500);
        let l = StartLatencies::new(500);
        let noting = |i| timing::noting_start(&l, i, light_coro());
        assert_eq!(tracker(500, noting).await.unwrap().1, 500);
        assert_eq!(l.histogram().len(), 500);
    }
}
