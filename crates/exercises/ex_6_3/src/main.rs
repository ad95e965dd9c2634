//! ex_6_3: `asyncio.current_task()` called 1,000,000 times.
//!
//! Its Python original: `scripts/python/ex_6_3.py`.
//!
//! The Python original calls `asyncio.current_task()` a million times inside `main()` and prints
//! how long that took. CPython 3.12 moved the function to C, which the chapter reports as about
//! six times faster than 3.10 (0.05 s against 0.33 s on the author's PC).
//!
//! The tokio counterpart is `tokio::task::try_id()`: the id of the running task, or `None`
//! outside a task. (tokio hands out ids, not task objects: what a Python program does with the
//! Task it gets back, a tokio program does with a `JoinHandle` or `AbortHandle` it kept.) The
//! loop runs inside a task, as `main()` runs inside the Task `asyncio.run` made, and checks that
//! every call saw that task, so the optimizer cannot drop the calls.
//!
//! Variant `floor` runs the same loop over a bare thread-local read: the least a look-up can
//! cost, since tokio keeps the current task's id in a thread-local too.
//!
//! Run: `cargo run --release -p ex_6_3` (`-- --help` lists the flags). Prints:
//!
//! ```text
//! It took 0.00135s
//! ```

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use catalog::Exercise;
use timing::cli::Spec;

const CALLS: u64 = EXERCISE.tasks();

/// This exercise's facts: its variants, default count and help line (crates/catalog).
const EXERCISE: &Exercise = catalog::exercise("ex_6_3");
const SPEC: Spec = timing::spec!(EXERCISE);

thread_local! {
    /// The floor's stand-in for the runtime's record of the current task.
    static CURRENT: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
}

/// The floor: the same loop over a bare thread-local read, the least a look-up can cost.
fn floor_calls(calls: u64) -> (Duration, u64) {
    let this = CURRENT.with(std::cell::Cell::get);
    let t1 = Instant::now();
    let mut seen = 0;
    for _ in 0..calls {
        if black_box(CURRENT.with(std::cell::Cell::get)) == this {
            seen += 1;
        }
    }
    (t1.elapsed(), seen)
}

/// Calls `try_id()` `calls` times; returns the time taken and how many calls saw `this` task.
async fn current_task_calls(calls: u64) -> (Duration, u64) {
    let this = tokio::task::try_id();
    let t1 = Instant::now();
    let mut seen = 0;
    for _ in 0..calls {
        // black_box: the compiler must assume each result is used and each call is needed.
        if black_box(tokio::task::try_id()) == this && this.is_some() {
            seen += 1;
        }
    }
    let t2 = Instant::now();
    (t2 - t1, seen)
}

fn main() -> ExitCode {
    timing::harness::main(&SPEC, |rt, args| {
        let calls = args.tasks.unwrap_or(CALLS);
        let (elapsed, seen) = match args.variant {
            "try_id" => timing::enter(rt, args.entry, current_task_calls(calls))?,
            "floor" => floor_calls(calls),
            other => bail!("no code for the catalogue's variant '{other}'"),
        };
        ensure!(
            seen == calls,
            "only {seen} of {calls} calls saw the running task"
        );
        timing::say(format_args!("It took {}s", timing::seconds(elapsed)));
        Ok(elapsed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_call_inside_a_task_sees_that_task() {
        let (_, seen) = tokio::spawn(current_task_calls(1_000)).await.unwrap();
        assert_eq!(seen, 1_000);
    }

    #[test]
    fn the_floor_sees_its_thread_local_every_time() {
        assert_eq!(floor_calls(1_000).1, 1_000);
    }

    #[test]
    fn outside_a_task_no_call_counts() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // block_on runs the future on this thread but not as a task: try_id() is None.
        let (_, seen) = rt.block_on(current_task_calls(10));
        assert_eq!(seen, 0);
    }
}
