//! ex_6_1: one million no-op tasks in a `TaskGroup` with the eager task factory.
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
//! before Python 3.12); `bare_spawn`, plain `tokio::spawn` of each task and an await of every
//! handle, with no group: what the group's own bookkeeping is measured against.
//!
//! Run: `cargo run --release -p ex_6_1` (`-- --help` lists the flags). Prints:
//!
//! ```text
//! Before running task group!
//! It took 0.002913 to run!
//! After running task group with eager task factory!
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::ensure;
use taskgroup::{Start, TaskGroup, scope};
use timing::cli::Spec;

const TASKS: u64 = 1_000_000;

const SPEC: Spec = Spec {
    name: "ex_6_1",
    about: "a TaskGroup of no-op tasks, started eagerly (eager) or scheduled (spawn), or no group (bare_spawn)",
    variants: &["eager", "spawn", "bare_spawn"],
    default_tasks: Some(TASKS),
};

/// `async def light_coro(): pass`
async fn light_coro() {}

/// The body of `main()` after its first print: returns the time it took and the tasks completed.
async fn task_group(tasks: u64, start: Start) -> anyhow::Result<(Duration, u64)> {
    let time0 = Instant::now();
    // asyncio.get_event_loop().set_task_factory(asyncio.eager_task_factory)
    // async with asyncio.TaskGroup() as tg:
    let ((), completed) = scope(start, async |tg: &mut TaskGroup| {
        for _ in 0..tasks {
            tg.spawn(light_coro())?; // tg.create_task(light_coro())
        }
        Ok(())
    })
    .await?; // the end of `async with`: every task has ended
    Ok((time0.elapsed(), completed.total()))
}

/// The same tasks with plain `tokio::spawn` and no group: spawn all, then await every handle.
async fn bare_spawn(tasks: u64) -> anyhow::Result<(Duration, u64)> {
    let time0 = Instant::now();
    let handles: Vec<_> = (0..tasks).map(|_| tokio::spawn(light_coro())).collect();
    let mut completed = 0;
    for handle in handles {
        handle.await?;
        completed += 1;
    }
    Ok((time0.elapsed(), completed))
}

fn main() -> ExitCode {
    timing::harness::main(&SPEC, |rt, args| {
        let tasks = args.tasks.unwrap_or(TASKS);
        println!("Before running task group!");
        // asyncio.run(main()): the body runs as a task of the runtime.
        let (elapsed, completed) = match args.variant {
            "eager" => timing::run_as_task(rt, task_group(tasks, Start::Eager))??,
            "spawn" => timing::run_as_task(rt, task_group(tasks, Start::Scheduled))??,
            _ => timing::run_as_task(rt, bare_spawn(tasks))??,
        };
        ensure!(
            completed == tasks,
            "only {completed} of {tasks} tasks completed"
        );
        println!("It took {} to run!", timing::seconds(elapsed));
        println!("After running task group with eager task factory!");
        Ok(elapsed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_task_completes_in_every_variant() {
        for start in [Start::Eager, Start::Scheduled] {
            let (_, completed) = task_group(1_000, start).await.unwrap();
            assert_eq!(completed, 1_000, "{start:?}");
        }
        assert_eq!(bare_spawn(1_000).await.unwrap().1, 1_000);
    }
}
