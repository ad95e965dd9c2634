//! ex_4_4: `asyncio.Barrier` (Python 3.11) and its states.
//!
//! Its Python original: `scripts/python/ex_4_4.py`.
//!
//! The Python original:
//!
//! ```python
//! async def example_barrier():
//!     b = asyncio.Barrier(3)
//!     asyncio.create_task(b.wait())
//!     asyncio.create_task(b.wait())
//!     await asyncio.sleep(0)
//!     print(b)
//!     await b.wait()
//!     print(b)
//!     print("barrier passed")
//!     await asyncio.sleep(0)
//!     print(b)
//! ```
//!
//! tokio's own `tokio::sync::Barrier` has no states to print, no abort or reset, and counts a
//! cancelled waiter as arrived; `barrier::Barrier` follows asyncio's rules instead, and its
//! `Display` is Python's repr. `asyncio.sleep(0)` is `tokio::task::yield_now()`: on the
//! current-thread runtime it lets the two spawned tasks run before `main` goes on, as in
//! asyncio. (On `--flavor multi` the tasks run on other threads and the interleaving, so the
//! counts printed, can differ.)
//!
//! Run: `cargo run --release -p ex_4_4` (`-- --help` lists the flags). Prints:
//!
//! ```text
//! <barrier::Barrier object at 0x5581e2a0 [filling, waiters:2/3]>
//! <barrier::Barrier object at 0x5581e2a0 [draining, waiters:0/3]>
//! barrier passed
//! <barrier::Barrier object at 0x5581e2a0 [filling, waiters:0/3]>
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use barrier::Barrier;
use catalog::Exercise;
use timing::Lines;
use timing::cli::Spec;
use tokio::task::yield_now;

/// This exercise's facts: its variants, default count and help line (crates/catalog).
const EXERCISE: &Exercise = catalog::exercise("ex_4_4");
const SPEC: Spec = timing::spec!(EXERCISE);

/// The original's `example_barrier()`, printing into `out`; returns how long it took.
async fn example_barrier(out: Lines) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let b = Arc::new(Barrier::new(3));
    for _ in 0..2 {
        // asyncio.create_task(b.wait()): a task, not awaited.
        let b = Arc::clone(&b);
        tokio::spawn(async move { b.wait().await });
    }
    yield_now().await; // await asyncio.sleep(0)
    out.say(&b);
    b.wait().await?; // the third wait passes the barrier
    out.say(&b);
    out.say("barrier passed");
    yield_now().await;
    out.say(&b);
    Ok(start.elapsed())
}

fn main() -> ExitCode {
    timing::harness::main(&SPEC, |rt, args| {
        timing::enter(rt, args.entry, example_barrier(Lines::stdout()))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn prints_the_four_states_of_the_original() {
        let out = Lines::recorded();
        example_barrier(out.clone()).await.unwrap();
        let lines = out.lines();
        let states: Vec<&str> = lines
            .iter()
            .map(|l| l.find('[').map_or(l.as_str(), |i| &l[i..]))
            .collect();
        assert_eq!(
            states,
            [
                "[filling, waiters:2/3]>",
                "[draining, waiters:0/3]>",
                "barrier passed",
                "[filling, waiters:0/3]>",
            ]
        );
    }
}
