//! ex_2_7: `asyncio.TaskGroup` (Python 3.11) with two sleeping tasks.
//!
//! Its Python original: `scripts/python/ex_2_7.py`.
//!
//! The Python original:
//!
//! ```python
//! async def sleep_coro(delay):
//!     print(f'Started sleeping for {delay} seconds!')
//!     await asyncio.sleep(delay)
//!     print(f'Finished sleeping for {delay} seconds!')
//!     return delay
//!
//! async def main():
//!     print('Before running task group!')
//!     async with asyncio.TaskGroup() as tg:
//!         task1 = tg.create_task(sleep_coro(2))
//!         task2 = tg.create_task(sleep_coro(3))
//!     print('After running task group!')
//!     print(f"task1: {task1.result()}, task2: {task2.result()}")
//! ```
//!
//! The tokio counterpart is `taskgroup::scope`: its body is the `async with` block, `tg.spawn`
//! is `tg.create_task`, and the scope returns once both tasks have ended. The two sleeps run
//! concurrently, so the whole takes about 3 seconds, not 5. (tokio's `JoinSet` would also wait
//! for both, but would not cancel the other task if one failed; the group does.)
//!
//! Run: `cargo run --release -p ex_2_7` (`-- --help` lists the flags). Prints, in about 3 s:
//!
//! ```text
//! Before running task group!
//! Started sleeping for 2 seconds!
//! Started sleeping for 3 seconds!
//! Finished sleeping for 2 seconds!
//! Finished sleeping for 3 seconds!
//! After running task group!
//! task1: 2, task2: 3
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use catalog::Exercise;
use taskgroup::{Start, TaskGroup, scope};
use timing::Lines;
use timing::cli::Spec;

/// This exercise's facts: its variants, default count and help line (crates/catalog).
const EXERCISE: &Exercise = catalog::exercise("ex_2_7");
const SPEC: Spec = timing::spec!(EXERCISE);

async fn sleep_coro(out: Lines, delay: u64) -> u64 {
    out.say(format_args!("Started sleeping for {delay} seconds!"));
    tokio::time::sleep(Duration::from_secs(delay)).await;
    out.say(format_args!("Finished sleeping for {delay} seconds!"));
    delay
}

/// The original's `main()`, printing into `out`; returns how long the task group took.
async fn task_group(out: Lines) -> anyhow::Result<Duration> {
    out.say("Before running task group!");
    let start = Instant::now();
    let (task1, task2) = scope(Start::Scheduled, async |tg: &mut TaskGroup| {
        let task1 = tg.spawn(sleep_coro(out.clone(), 2))?;
        let task2 = tg.spawn(sleep_coro(out.clone(), 3))?;
        Ok((task1, task2))
    })
    .await?;
    let elapsed = start.elapsed();
    out.say("After running task group!");
    let (r1, r2) = (task1.result(), task2.result());
    let (r1, r2) = r1.zip(r2).context("a task of the group has no result")?;
    out.say(format_args!("task1: {r1}, task2: {r2}"));
    Ok(elapsed)
}

fn main() -> ExitCode {
    timing::harness::main(&SPEC, |rt, args| {
        timing::enter(rt, args.entry, task_group(Lines::stdout()))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn prints_the_seven_lines_of_the_original_in_three_seconds() {
        let out = Lines::recorded();
        let start = tokio::time::Instant::now();
        task_group(out.clone()).await.unwrap();
        // The sleeps overlap: 3 s of (paused, virtual) time, not 2 + 3.
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        assert_eq!(out.lines(), catalog::exercise("ex_2_7").prints);
    }
}
