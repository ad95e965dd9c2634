//! queue_pc: 1,000,000 items through a bounded queue, one producer task and one consumer task.
//!
//! Its Python original: `scripts/python/queue_pc.py`.
//!
//! Not a listing of the chapter: the classic use of the `asyncio.Queue` whose shutdown ex_6_4
//! shows, timed so the cost per item can be set beside CPython's. The Python
//! (`scripts/python/queue_pc.py`):
//!
//! ```python
//! async def producer(queue, items):
//!     for i in range(items):
//!         await queue.put(i)
//!
//! async def consumer(queue, items):
//!     total = 0
//!     for _ in range(items):
//!         total += await queue.get()
//!     return total
//!
//! queue = asyncio.Queue(maxsize=100)
//! put_all = asyncio.create_task(producer(queue, items))
//! total = await asyncio.create_task(consumer(queue, items))
//! await put_all
//! ```
//!
//! Variants:
//! - `queue` (default): the same two tasks over `queue::Queue`, asyncio's queue on tokio.
//! - `mpsc`: `tokio::sync::mpsc::channel(100)`, what a tokio user would pick for one producer
//!   and one consumer (no `join`, no `shutdown` by a third party, no `qsize` for anyone).
//! - `floor`: a `VecDeque` filled 100 at a time and drained, in one task with no waiting: the
//!   least the same passes of items can cost.
//!
//! `--tasks N` is the number of items. Run: `cargo run --release -p queue_pc` (`-- --help`
//! lists the flags). Prints:
//!
//! ```text
//! Passed 1000000 items through Queue(maxsize=100) in 0.0213s
//! ```

use std::collections::VecDeque;
use std::hint::black_box;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use catalog::Exercise;
use queue::Queue;
use timing::cli::Spec;

const ITEMS: u64 = EXERCISE.tasks();
const MAXSIZE: usize = 100;

/// This exercise's facts: its variants, default count and help line (crates/catalog).
const EXERCISE: &Exercise = catalog::exercise("queue_pc");
const SPEC: Spec = timing::spec!(EXERCISE);

/// The original: a producer task and a consumer task over `queue::Queue`. Returns the time and
/// the sum of the items received.
async fn through_queue(items: u64) -> anyhow::Result<(Duration, u64)> {
    let queue = Arc::new(Queue::new(MAXSIZE));
    let t1 = Instant::now();
    let put_all = tokio::spawn({
        let queue = Arc::clone(&queue);
        async move {
            for i in 0..items {
                queue.put(i).await?;
            }
            anyhow::Ok(())
        }
    });
    let total = tokio::spawn(async move {
        let mut total = 0;
        for _ in 0..items {
            total += queue.get().await?;
        }
        anyhow::Ok(total)
    })
    .await
    .context("the consumer task failed")??;
    put_all.await.context("the producer task failed")??;
    Ok((t1.elapsed(), total))
}

/// The same two tasks over tokio's bounded channel.
async fn through_mpsc(items: u64) -> anyhow::Result<(Duration, u64)> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(MAXSIZE);
    let t1 = Instant::now();
    let put_all = tokio::spawn(async move {
        for i in 0..items {
            tx.send(i).await?;
        }
        anyhow::Ok(())
    });
    let total = tokio::spawn(async move {
        let mut total = 0;
        for _ in 0..items {
            total += rx.recv().await.context("the channel closed early")?;
        }
        anyhow::Ok(total)
    })
    .await
    .context("the consumer task failed")??;
    put_all.await.context("the producer task failed")??;
    Ok((t1.elapsed(), total))
}

/// The floor: the same batches of at most 100 through a `VecDeque`, no tasks, no waiting.
fn floor(items: u64) -> (Duration, u64) {
    let mut store = VecDeque::with_capacity(MAXSIZE);
    let t1 = Instant::now();
    let (mut next, mut total) = (0, 0);
    while next < items {
        while next < items && store.len() < MAXSIZE {
            store.push_back(black_box(next));
            next += 1;
        }
        while let Some(item) = store.pop_front() {
            total += black_box(item);
        }
    }
    (t1.elapsed(), total)
}

fn main() -> ExitCode {
    timing::harness::main(&SPEC, |rt, args| {
        let items = args.tasks.unwrap_or(ITEMS);
        let (elapsed, total) = match args.variant {
            "queue" => timing::enter(rt, args.entry, through_queue(items))??,
            "mpsc" => timing::enter(rt, args.entry, through_mpsc(items))??,
            "floor" => floor(items),
            other => bail!("no code for the catalogue's variant '{other}'"),
        };
        let expected = u128::from(items) * u128::from(items.saturating_sub(1)) / 2;
        ensure!(
            u128::from(total) == expected,
            "the consumer summed {total}, not {expected}: items were lost or repeated"
        );
        timing::say(format_args!(
            "Passed {items} items through Queue(maxsize={MAXSIZE}) in {}s",
            timing::seconds(elapsed)
        ));
        Ok(elapsed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUM_OF_1000: u64 = 1000 * 999 / 2;

    #[tokio::test]
    async fn every_item_arrives_once_through_the_queue() {
        assert_eq!(through_queue(1000).await.unwrap().1, SUM_OF_1000);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_item_arrives_once_on_the_multi_thread_runtime() {
        assert_eq!(through_queue(1000).await.unwrap().1, SUM_OF_1000);
        assert_eq!(through_mpsc(1000).await.unwrap().1, SUM_OF_1000);
    }

    #[tokio::test]
    async fn every_item_arrives_once_through_the_channel() {
        assert_eq!(through_mpsc(1000).await.unwrap().1, SUM_OF_1000);
    }

    #[test]
    fn the_floor_passes_every_item() {
        assert_eq!(floor(1000).1, SUM_OF_1000);
        assert_eq!(floor(1).1, 0);
    }
}
