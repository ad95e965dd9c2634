//! ex_6_1: one million no-op tasks in a `TaskGroup` with the eager task factory.
//!
//! The Python original (3.12+) sets `asyncio.eager_task_factory` on the loop and creates
//! 1,000,000 `light_coro()` tasks in an `asyncio.TaskGroup`. Eager tasks run their coroutine at
//! once, inside `create_task`; `light_coro` finishes there, so no task is ever scheduled.
//!
//! The tokio counterpart is `taskgroup::TaskGroup::eager()`: `spawn` polls each future once in
//! place, and only a future that is still pending becomes a tokio task. `join().await` is the end
//! of the `async with` block: it waits for every task of the group.
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
use taskgroup::TaskGroup;
use timing::cli::Spec;

const TASKS: u64 = 1_000_000;

const SPEC: Spec = Spec {
    name: "ex_6_1",
    about: "a TaskGroup of no-op tasks, started eagerly (eager) or scheduled (spawn)",
    // `spawn` is the same group without eager start: ex_6_1 before Python 3.12.
    variants: &["eager", "spawn"],
    default_tasks: Some(TASKS),
};

/// `async def light_coro(): pass`
async fn light_coro() {}

/// The body of `main()` after its first print: returns the time it took and the tasks completed.
async fn task_group(tasks: u64, eager: bool) -> (Duration, u64) {
    let time0 = Instant::now();
    // asyncio.get_event_loop().set_task_factory(asyncio.eager_task_factory)
    // async with asyncio.TaskGroup() as tg:
    let mut tg = if eager {
        TaskGroup::eager()
    } else {
        TaskGroup::new()
    };
    for _ in 0..tasks {
        tg.spawn(light_coro());
    }
    // Leaving `async with`: wait for every task in the group.
    let completed = tg.join().await.total();
    (time0.elapsed(), completed)
}

fn main() -> ExitCode {
    timing::harness::main(&SPEC, |rt, args| {
        let tasks = args.tasks.unwrap_or(TASKS);
        let eager = args.variant == "eager";
        println!("Before running task group!");
        // asyncio.run(main()): the body runs as a task of the runtime.
        let (elapsed, completed) = timing::run_as_task(rt, task_group(tasks, eager))?;
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
    async fn every_task_completes_in_both_variants() {
        for eager in [true, false] {
            let (_, completed) = task_group(1_000, eager).await;
            assert_eq!(completed, 1_000, "eager = {eager}");
        }
    }
}
