//! ex_2_2: `asyncio.Runner` (Python 3.11).
//!
//! Its Python original: `scripts/python/ex_2_2.py`.
//!
//! The Python original:
//!
//! ```python
//! async def async_sleep_for_one_second():
//!     print('stared sleeping for 1 second!')
//!     await asyncio.sleep(1)
//!     print('Finished sleeping!')
//!
//! with asyncio.Runner() as runner:
//!     runner.run(async_sleep_for_one_second())
//! ```
//!
//! (The first line's spelling is the original's.) The tokio counterpart is `runner::Runner`:
//! a `Runtime` kept for several `run` calls, each run as a task in one shared
//! `contextvars::Context` (see this crate's docs for why tokio needs help there), with
//! asyncio's Ctrl-C handling. Leaving the `with` block closes the loop; here the runner is
//! dropped, which shuts its runtime down.
//!
//! Run: `cargo run --release -p ex_2_2` (`-- --help` lists the flags). Prints, in about 1 s:
//!
//! ```text
//! stared sleeping for 1 second!
//! Finished sleeping!
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use catalog::Exercise;
use runner::Runner;
use timing::Lines;
use timing::cli::{Entry, Spec};

/// This exercise's facts: its variants, default count and help line (crates/catalog).
const EXERCISE: &Exercise = catalog::exercise("ex_2_2");
const SPEC: Spec = timing::spec!(EXERCISE);

async fn async_sleep_for_one_second(out: Lines) {
    out.say("stared sleeping for 1 second!");
    tokio::time::sleep(Duration::from_secs(1)).await;
    out.say("Finished sleeping!");
}

/// The `with` block on `runtime`: returns how long it took, the runner's life included.
fn with_runner(
    runtime: tokio::runtime::Runtime,
    entry: Entry,
    out: Lines,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let runner = Runner::builder().runtime(runtime).build()?;
    match entry {
        Entry::Task => runner.run(async_sleep_for_one_second(out))?,
        Entry::BlockOn => runner.run_in_place(async_sleep_for_one_second(out))?,
    }
    drop(runner); // leaving `with`: the runtime shuts down
    Ok(start.elapsed())
}

fn main() -> ExitCode {
    // The runner owns its runtime, as asyncio.Runner owns its loop: one per repetition.
    timing::harness::main(&SPEC, |_rt, args| {
        let runtime = timing::runtime(args.flavor).context("cannot start the tokio runtime")?;
        with_runner(runtime, args.entry, Lines::stdout())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_the_two_lines_of_the_original_after_one_second() {
        let paused = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let out = Lines::recorded();
        let runner = Runner::builder().runtime(paused).build().unwrap();
        let slept = runner
            .run({
                let out = out.clone();
                async move {
                    let start = tokio::time::Instant::now();
                    async_sleep_for_one_second(out).await;
                    start.elapsed()
                }
            })
            .unwrap();
        assert_eq!(
            slept,
            Duration::from_secs(1),
            "virtual time: nothing really slept"
        );
        assert_eq!(out.lines(), catalog::exercise("ex_2_2").prints);
    }
}
