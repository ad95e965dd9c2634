//! ex_6_4: Python 3.13's `Queue.shutdown()`: a put after shutdown fails.
//!
//! Its Python original: `scripts/python/ex_6_4.py`.
//!
//! The Python original:
//!
//! ```python
//! async def main():
//!     queue = asyncio.Queue()
//!     await queue.put(1)
//!     queue.shutdown()
//!     await queue.put(2)   # raises asyncio.QueueShutDown
//! asyncio.run(main())
//! ```
//!
//! prints nothing on stdout; the uncaught `QueueShutDown` ends the program with a traceback on
//! stderr and exit code 1.
//!
//! tokio has no queue that can be shut down (its channels close when a side is dropped), so
//! this uses the workspace's `queue` crate: `asyncio.Queue` with asyncio's rules, ported with
//! CPython's own tests. The refused put hands its item back inside the error, which flows out
//! of `main` with `?`, as the exception propagates out of `asyncio.run`.
//!
//! Run: `cargo run --release -p ex_6_4` (`-- --help` lists the flags). Prints, on stderr, and
//! exits with code 1:
//!
//! ```text
//! Error: QueueShutDown: the queue has been shut down
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use catalog::Exercise;
use queue::{Queue, QueueShutDown};
use timing::FailedAfter;
use timing::cli::Spec;

/// This exercise's facts: its variants, default count and help line (crates/catalog).
const EXERCISE: &Exercise = catalog::exercise("ex_6_4");
const SPEC: Spec = timing::spec!(EXERCISE);

/// The original's `main()`: how long it ran, and how it ended.
async fn shutdown_then_put() -> (Duration, Result<(), QueueShutDown<i32>>) {
    let start = Instant::now();
    let outcome = async {
        let queue = Queue::new(0); // asyncio.Queue(): unbounded
        queue.put(1).await?;
        queue.shutdown(false);
        queue.put(2).await // fails: the queue is shut down
    }
    .await;
    (start.elapsed(), outcome)
}

fn main() -> ExitCode {
    timing::harness::main(&SPEC, |rt, args| {
        match timing::enter(rt, args.entry, shutdown_then_put())? {
            (elapsed, Ok(())) => Ok(elapsed),
            // The failure is the point: keep its timing, end with the error (exit 1).
            (elapsed, Err(error)) => Err(FailedAfter {
                elapsed,
                error: error.into(),
            }
            .into()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_second_put_fails_with_queue_shut_down() {
        let (_, outcome) = shutdown_then_put().await;
        assert_eq!(outcome, Err(QueueShutDown(2)));
    }
}
