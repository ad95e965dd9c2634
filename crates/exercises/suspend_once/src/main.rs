//! suspend_once: ex_6_1 with children that suspend once.
//!
//! Its Python original: `scripts/python/suspend_once.py`.
//!
//! ex_6_1's `light_coro` finishes in its first step, so there the eager task factory never
//! schedules a task. Most real children wait for something at least once. This exercise is
//! ex_6_1 with `light_coro` doing exactly one `await asyncio.sleep(0)`: one suspension and an
//! immediate reschedule. Its tokio counterpart is one `tokio::task::yield_now().await`. Every
//! child is then still pending after its first poll, and each way of running children pays for
//! keeping it until its second.
//!
//! Variants:
//! - `eager` (default, as the script's): `taskgroup::scope(Start::Eager, …)`, asyncio's
//!   `TaskGroup` with the eager task factory: each child takes its eager step where it is
//!   spawned, suspends there, and goes on as a tokio task. The step saves nothing here.
//! - `scheduled`: the same group with `Start::Scheduled`, asyncio's `TaskGroup` without the
//!   eager task factory: every child a tokio task, first polled by the runtime.
//! - `polled`, `polled_eager`: `taskgroup::polled::scope`, the group whose scope polls its
//!   children itself: no tokio task per child, the whole group one task (run with
//!   `spawn_local`, as the scope need not be `Send`); with scheduled and with eager start.
//! - `bare_spawn`: `tokio::spawn` each child and await every handle, no group at all.
//! - `tracker`: tokio-util's `TaskTracker` (spawn, close, wait).
//! - `joinset`: tokio's `JoinSet` (spawn all, then `join_next` until it is empty).
//! - `futures_unordered`: every child in one `FuturesUnordered` that the body owns and drives
//!   to empty: no tokio task per child, but a node each, relinked on every wake.
//! - `floor`: each future polled twice where it is made, with a no-op waker: pending, then
//!   ready. No runtime task, no queue: the least this work can cost.
//!
//! Run: `cargo run --release -p suspend_once` (`-- --help` lists the flags). Prints what
//! `scripts/python/suspend_once.py` prints for the same start (`with` for the eager variant):
//!
//! ```text
//! Before running task group!
//! It took 0.254839 to run!
//! After running task group without eager task factory!
//! ```

use std::hint::black_box;
use std::pin::pin;
use std::process::ExitCode;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use catalog::Exercise;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use taskgroup::{Completed, Scope, Start, TaskGroup, polled};
use timing::StartLatencies;
use timing::cli::{Measure, Spec};
use tokio::task::JoinSet;
use tokio_util::task::TaskTracker;

const TASKS: u64 = EXERCISE.tasks();

/// This exercise's facts: its variants, default count and help line (crates/catalog).
const EXERCISE: &Exercise = catalog::exercise("suspend_once");
const SPEC: Spec = timing::spec!(EXERCISE);

/// How the children are run: one arm of [`run`] each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Eager,
    Scheduled,
    /// The group polled by its own scope, with scheduled and with eager start.
    Polled,
    PolledEager,
    BareSpawn,
    Tracker,
    JoinSet,
    FuturesUnordered,
    Floor,
}

impl Way {
    /// Every way, in the order of [`SPEC`]'s variants.
    const ALL: [Way; 9] = [
        Way::Eager,
        Way::Scheduled,
        Way::Polled,
        Way::PolledEager,
        Way::BareSpawn,
        Way::Tracker,
        Way::JoinSet,
        Way::FuturesUnordered,
        Way::Floor,
    ];

    /// The variant's name, as `--variant` takes it.
    fn name(self) -> &'static str {
        match self {
            Way::Scheduled => "scheduled",
            Way::Eager => "eager",
            Way::Polled => "polled",
            Way::PolledEager => "polled_eager",
            Way::BareSpawn => "bare_spawn",
            Way::Tracker => "tracker",
            Way::JoinSet => "joinset",
            Way::FuturesUnordered => "futures_unordered",
            Way::Floor => "floor",
        }
    }

    /// The way `--variant name` asks for.
    fn named(name: &str) -> Option<Way> {
        Way::ALL.into_iter().find(|w| w.name() == name)
    }

    /// The last line, as the Python script prints it for the same start: only the eager
    /// group runs with the eager task factory's counterpart.
    fn last_line(self) -> &'static str {
        match self {
            Way::Eager | Way::PolledEager => "After running task group with eager task factory!",
            _ => "After running task group without eager task factory!",
        }
    }
}

/// `async def light_coro(): await asyncio.sleep(0)`: pending once, then done.
///
/// `yield_now` is `sleep(0)`'s counterpart: it wakes its task at once and returns pending, so
/// the runtime polls the task again after the tasks already queued.
async fn light_coro() {
    tokio::task::yield_now().await;
}

/// The body of `main()` after its first print: makes `tasks` children with `child` and runs
/// them to the end the way `way` says; returns the time it took and the children completed.
async fn run<C, F>(way: Way, tasks: u64, child: C) -> anyhow::Result<(Duration, u64)>
where
    C: FnMut(u64) -> F + Send,
    F: Future<Output = ()> + Send + 'static,
{
    let time0 = Instant::now();
    let completed = match way {
        Way::Scheduled => group(tasks, Start::Scheduled, child).await?.total(),
        Way::Eager => group(tasks, Start::Eager, child).await?.total(),
        // Not `Send`: run by `run_polled`, on this thread.
        Way::Polled | Way::PolledEager => bail!("{way:?} runs with run_polled"),
        Way::BareSpawn => bare_spawn(tasks, child).await?,
        Way::Tracker => tracker(tasks, child).await,
        Way::JoinSet => joinset(tasks, child).await?,
        Way::FuturesUnordered => futures_unordered(tasks, child).await,
        Way::Floor => floor(tasks, child),
    };
    Ok((time0.elapsed(), completed))
}

/// `async with asyncio.TaskGroup() as tg: for _ in range(tasks): tg.create_task(light_coro())`,
/// with the eager task factory when `start` is [`Start::Eager`].
async fn group<C, F>(tasks: u64, start: Start, mut child: C) -> anyhow::Result<Completed>
where
    C: FnMut(u64) -> F + Send,
    F: Future<Output = ()> + Send + 'static,
{
    let ((), completed) = Scope::new(start)
        .run_counted(async |tg: &mut TaskGroup| {
            for i in 0..tasks {
                tg.spawn(child(i))?;
            }
            Ok(())
        })
        .await?; // the end of `async with`: every task has ended
    Ok(completed)
}

/// `run` for the group polled by its own scope: the scope is no tokio task of its own kind
/// (its children need not be `Send`), so it runs as a local task on this thread.
async fn run_polled<C, F>(way: Way, tasks: u64, mut child: C) -> anyhow::Result<(Duration, u64)>
where
    C: FnMut(u64) -> F,
    F: Future<Output = ()>,
{
    let start = match way {
        Way::PolledEager => Start::Eager,
        _ => Start::Scheduled,
    };
    let time0 = Instant::now();
    let ((), completed) = polled::scope_counted(start, async |tg| {
        for i in 0..tasks {
            tg.spawn(child(i))?;
        }
        Ok(())
    })
    .await?; // every child has ended
    Ok((time0.elapsed(), completed.total()))
}

/// Plain `tokio::spawn` and no group: spawn all, then await every handle.
async fn bare_spawn<C, F>(tasks: u64, child: C) -> anyhow::Result<u64>
where
    C: FnMut(u64) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let handles: Vec<_> = (0..tasks).map(child).map(tokio::spawn).collect();
    let mut completed = 0;
    for handle in handles {
        handle.await?;
        completed += 1;
    }
    Ok(completed)
}

/// tokio-util's `TaskTracker`: spawn each child through the tracker, `close` it, then `wait`.
/// It counts its tasks and keeps no results, so what it knows is how many have ended.
async fn tracker<C, F>(tasks: u64, child: C) -> u64
where
    C: FnMut(u64) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let tracker = TaskTracker::new();
    for future in (0..tasks).map(child) {
        tracker.spawn(future);
    }
    tracker.close(); // no more tasks: `wait` can now end
    tracker.wait().await; // every tracked task has ended
    tasks - tracker.len() as u64
}

/// Tokio's `JoinSet`: spawn every child into the set, then `join_next` until it is empty.
async fn joinset<C, F>(tasks: u64, child: C) -> anyhow::Result<u64>
where
    C: FnMut(u64) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let mut set = JoinSet::new();
    for future in (0..tasks).map(child) {
        set.spawn(future);
    }
    let mut completed = 0;
    while let Some(done) = set.join_next().await {
        done?; // Err: the task panicked
        completed += 1;
    }
    Ok(completed)
}

/// Every child in one `FuturesUnordered` owned by the body, which polls them itself: one tokio
/// task in all. Each child is a node of the set (one allocation), and each wake relinks its
/// node onto the set's ready queue.
async fn futures_unordered<C, F>(tasks: u64, child: C) -> u64
where
    C: FnMut(u64) -> F,
    F: Future<Output = ()>,
{
    let mut set: FuturesUnordered<F> = (0..tasks).map(child).collect();
    let mut completed = 0;
    while let Some(()) = set.next().await {
        completed += 1;
    }
    completed
}

/// The floor: each future polled twice where it is made, with a no-op waker: pending after
/// its yield, then done. No runtime task, no queue, no allocation.
fn floor<C, F>(tasks: u64, mut child: C) -> u64
where
    C: FnMut(u64) -> F,
    F: Future<Output = ()>,
{
    let mut cx = Context::from_waker(Waker::noop());
    let mut completed = 0;
    for i in 0..tasks {
        // black_box: the future must really be made and polled, not folded away.
        let mut future = pin!(black_box(child(i)));
        let suspended = future.as_mut().poll(&mut cx).is_pending();
        let done = future.poll(&mut cx).is_ready();
        completed += u64::from(suspended && done);
    }
    completed
}

fn main() -> ExitCode {
    timing::harness::main(&SPEC, |rt, args| {
        let tasks = args.tasks.unwrap_or(TASKS);
        let Some(way) = Way::named(args.variant) else {
            bail!("no variant '{}'", args.variant); // the flags were checked: never here
        };
        let latencies =
            (args.measure == Measure::StartLatency).then(|| StartLatencies::new(tasks as usize));
        timing::say("Before running task group!");
        // asyncio.run(main()): by default the body runs as a task of the runtime.
        let (elapsed, completed) = match (way, latencies.clone()) {
            (Way::Polled | Way::PolledEager, None) => {
                timing::enter_local(rt, args.entry, move || {
                    run_polled(way, tasks, |_| light_coro())
                })??
            }
            (Way::Polled | Way::PolledEager, Some(l)) => {
                let child = move |i| timing::noting_start(&l, i, light_coro());
                timing::enter_local(rt, args.entry, move || run_polled(way, tasks, child))??
            }
            (_, None) => timing::enter(rt, args.entry, run(way, tasks, |_| light_coro()))??,
            (_, Some(l)) => {
                let child = move |i| timing::noting_start(&l, i, light_coro());
                timing::enter(rt, args.entry, run(way, tasks, child))??
            }
        };
        ensure!(
            completed == tasks,
            "only {completed} of {tasks} tasks completed"
        );
        if let Some(l) = latencies {
            timing::harness::report_start_latency(&l.histogram());
        }
        timing::say(format_args!("It took {} to run!", timing::seconds(elapsed)));
        timing::say(way.last_line());
        Ok(elapsed)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// `run`, or `run_polled` for the polled ways, as `main` picks them.
    async fn run_any<C, F>(way: Way, tasks: u64, child: C) -> anyhow::Result<(Duration, u64)>
    where
        C: FnMut(u64) -> F + Send,
        F: Future<Output = ()> + Send + 'static,
    {
        match way {
            Way::Polled | Way::PolledEager => run_polled(way, tasks, child).await,
            _ => run(way, tasks, child).await,
        }
    }

    #[test]
    fn the_variants_are_the_ways_in_order() {
        let names: Vec<_> = Way::ALL.into_iter().map(Way::name).collect();
        assert_eq!(names, SPEC.variants);
        for way in Way::ALL {
            assert_eq!(Way::named(way.name()), Some(way));
        }
        assert_eq!(Way::named("lazy"), None);
    }

    #[test]
    fn light_coro_is_pending_once_then_done() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut future = pin!(light_coro());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert!(future.poll(&mut cx).is_ready());
    }

    async fn every_way_completes_every_task() {
        for way in Way::ALL {
            let (_, completed) = run_any(way, 1_000, |_| light_coro()).await.unwrap();
            assert_eq!(completed, 1_000, "{way:?}");
        }
    }

    #[tokio::test]
    async fn every_task_completes_in_every_variant() {
        every_way_completes_every_task().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_task_completes_in_every_variant_multi_thread() {
        every_way_completes_every_task().await;
    }

    /// Each child runs past its yield: its second step really ran, in every variant.
    #[tokio::test]
    async fn every_child_resumes_after_its_suspension() {
        for way in Way::ALL {
            let resumed = Arc::new(AtomicU64::new(0));
            let r = resumed.clone();
            let child = move |_| {
                let r = r.clone();
                async move {
                    tokio::task::yield_now().await;
                    r.fetch_add(1, Ordering::Relaxed);
                }
            };
            assert_eq!(run_any(way, 500, child).await.unwrap().1, 500, "{way:?}");
            assert_eq!(resumed.load(Ordering::Relaxed), 500, "{way:?}");
        }
    }

    /// The eager step cannot finish a child that suspends: every child goes on as a tokio task,
    /// in the eager group as in the scheduled one.
    #[tokio::test]
    async fn no_child_finishes_in_its_eager_step() {
        for start in [Start::Eager, Start::Scheduled] {
            let completed = group(1_000, start, |_| light_coro()).await.unwrap();
            assert_eq!(
                (completed.eager, completed.scheduled),
                (0, 1_000),
                "{start:?}"
            );
        }
    }

    #[tokio::test]
    async fn start_latencies_are_recorded_for_every_task_in_every_variant() {
        for way in Way::ALL {
            let l = StartLatencies::new(500);
            let latencies = l.clone();
            let child = move |i| timing::noting_start(&latencies, i, light_coro());
            assert_eq!(run_any(way, 500, child).await.unwrap().1, 500, "{way:?}");
            assert_eq!(l.histogram().len(), 500, "{way:?}");
        }
    }
}
