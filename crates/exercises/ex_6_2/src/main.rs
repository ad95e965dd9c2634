//! ex_6_2: one million no-op coroutines awaited with `gather`, without the eager task factory.
//!
//! Its Python original: `scripts/python/ex_6_2.py`.
//!
//! The Python original builds a list of 1,000,000 `light_coro()` coroutine objects, then
//! `await asyncio.gather(*tasks_list)`: gather wraps each coroutine in a Task, schedules them
//! all, and waits for the last. Only the gather is timed. It then prints the finished gather
//! future, whose result is a list of 1,000,000 `None`s (shortened by `reprlib`).
//!
//! Seven tokio counterparts:
//! - `join_all` (default): `futures::future::join_all` polls every future inside the one
//!   awaiting task. No tokio task is created; this is how Rust code usually "gathers". (Past
//!   30 futures it gives each its own heap-allocated node.)
//! - `spawn_gather`: the literal port: `tokio::spawn` each future, then await the handles in
//!   order, collecting the results.
//! - `gather_in_place`: `taskgroup::gather`, which polls the futures where they lie in one
//!   boxed slice: no allocation per future.
//! - `join_handles`: `tokio::spawn` each future, then `join_all` of the handles: the direct
//!   translation of `gather(*tasks)`, and quadratic in the task count (see [`Way::JoinHandles`]).
//! - `futures_unordered`: the handles in a `FuturesUnordered`, drained as a stream: the same
//!   quadratic cost.
//! - `join_handles_unconstrained`: `join_handles` inside `tokio::task::unconstrained`: linear
//!   again, at the price of never yielding to other tasks while results are ready.
//! - `floor`: each future polled once inline, consuming the list: the least the work can cost.
//!
//! Run: `cargo run --release -p ex_6_2` (`-- --help` lists the flags). Prints:
//!
//! ```text
//! Before running gather!
//! It took 0.0683 to run!
//! After running gather without eager task factory!
//! tasks: <_GatheringFuture finished result=[None, None, None, None, None, None, ...]>
//! ```
//!
//! The last line shows the gathered results the way Python's `repr` of the future does: the
//! first six, then `...`. Python's `None` is Rust's `()`.

use std::hint::black_box;
use std::pin::pin;
use std::process::ExitCode;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use catalog::Exercise;
use futures::StreamExt;
use futures::future::join_all;
use futures::stream::FuturesUnordered;
use timing::StartLatencies;
use timing::cli::{Measure, Spec};

const TASKS: u64 = EXERCISE.tasks();

/// This exercise's facts: its variants, default count and help line (crates/catalog).
const EXERCISE: &Exercise = catalog::exercise("ex_6_2");
const SPEC: Spec = timing::spec!(EXERCISE);

/// How the coroutines are gathered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    JoinAll,
    SpawnGather,
    InPlace,
    /// `tokio::spawn` each future, then `join_all` of the `JoinHandle`s.
    ///
    /// Quadratic, through tokio's cooperative budget. Each time the runtime polls a task, the
    /// task gets a budget of 128, and a `JoinHandle` whose task has finished spends one unit
    /// to hand over its result; with the budget spent it returns `Pending` and has the runtime
    /// wake it once the awaiting task has yielded. Past 30 futures `join_all` collects through
    /// a `FuturesOrdered`, that is a `FuturesUnordered`, which polls every future woken since
    /// its last poll and returns `Pending` only once it has polled as many as it holds (or two
    /// woke themselves *during* their poll: the budget's wake-ups come later, so they never
    /// count). So once every task has run, each poll of the gathering task takes 128 results,
    /// then polls each of the other handles in vain: n/128 rounds, about n²/256 polls of
    /// handles in all (n = 10^5: 39.2 million; ×4 per doubling of n).
    JoinHandles,
    /// The handles in a `FuturesUnordered`, results taken as they come (`StreamExt::next`):
    /// what a Rust developer writes when the order does not matter. The same quadratic cost as
    /// [`Way::JoinHandles`], for the same reason: it is the set `join_all` uses inside.
    FuturesUnordered,
    /// [`Way::JoinHandles`] inside `tokio::task::unconstrained`, which turns the budget off
    /// for everything the gather polls: each handle is polled twice (once pending, once
    /// done), and the gathering task does not yield while any result is ready. The price is
    /// fairness: other tasks on this thread wait until the gather has taken every result that
    /// is there.
    JoinHandlesUnconstrained,
    Floor,
}

/// `async def light_coro(): pass`
async fn light_coro() {}

/// Gathers `tasks` coroutines; returns the time the gather took and its results. With
/// `latencies`, each coroutine records its start latency.
async fn gather(
    tasks: u64,
    way: Way,
    latencies: Option<StartLatencies>,
) -> anyhow::Result<(Duration, Vec<()>)> {
    // tasks_list = [light_coro() for _ in range(1000000)]: futures are lazy, like coroutine
    // objects: nothing runs until they are polled.
    match latencies {
        None => gather_list((0..tasks).map(|_| light_coro()).collect(), way).await,
        Some(l) => {
            let list = (0..tasks).map(|i| timing::noting_start(&l, i, light_coro()));
            gather_list(list.collect(), way).await
        }
    }
}

/// `await asyncio.gather(*tasks_list)`, timed.
async fn gather_list<F>(tasks_list: Vec<F>, way: Way) -> anyhow::Result<(Duration, Vec<()>)>
where
    F: Future<Output = ()> + Send + 'static,
{
    let time0 = Instant::now();
    let results = match way {
        Way::JoinAll => join_all(tasks_list).await,
        Way::SpawnGather => {
            // What gather does in asyncio: a Task for each coroutine, then wait for them in order.
            let handles: Vec<_> = tasks_list.into_iter().map(tokio::spawn).collect();
            let mut results = Vec::with_capacity(handles.len());
            for handle in handles {
                results.push(handle.await?);
            }
            results
        }
        Way::InPlace => taskgroup::gather(tasks_list).await,
        Way::JoinHandles => {
            let handles: Vec<_> = tasks_list.into_iter().map(tokio::spawn).collect();
            // Err: a task panicked (or was aborted).
            join_all(handles)
                .await
                .into_iter()
                .collect::<Result<_, _>>()?
        }
        Way::FuturesUnordered => {
            let mut handles: FuturesUnordered<_> =
                tasks_list.into_iter().map(tokio::spawn).collect();
            let mut results = Vec::with_capacity(handles.len());
            while let Some(result) = handles.next().await {
                results.push(result?);
            }
            results // in the order the tasks finished, not the order of the list
        }
        Way::JoinHandlesUnconstrained => {
            let handles: Vec<_> = tasks_list.into_iter().map(tokio::spawn).collect();
            let results = tokio::task::unconstrained(join_all(handles)).await;
            results.into_iter().collect::<Result<_, _>>()?
        }
        Way::Floor => {
            let mut cx = Context::from_waker(Waker::noop());
            let mut results = Vec::with_capacity(tasks_list.len());
            for coroutine in tasks_list {
                // black_box: each future must really be polled, not folded away.
                if pin!(black_box(coroutine)).poll(&mut cx).is_ready() {
                    results.push(());
                }
            }
            results
        }
    };
    Ok((time0.elapsed(), results))
}

/// `repr()` of a finished gather future: the first six results, then `...` when there are more.
fn gathering_future_repr(results: &[()]) -> String {
    let mut items: Vec<&str> = results.iter().take(6).map(|()| "None").collect();
    if results.len() > 6 {
        items.push("...");
    }
    format!("<_GatheringFuture finished result=[{}]>", items.join(", "))
}

fn main() -> ExitCode {
    timing::harness::main(&SPEC, |rt, args| {
        let tasks = args.tasks.unwrap_or(TASKS);
        let way = match args.variant {
            "join_all" => Way::JoinAll,
            "spawn_gather" => Way::SpawnGather,
            "gather_in_place" => Way::InPlace,
            "join_handles" => Way::JoinHandles,
            "futures_unordered" => Way::FuturesUnordered,
            "join_handles_unconstrained" => Way::JoinHandlesUnconstrained,
            "floor" => Way::Floor,
            other => bail!("no code for the catalogue's variant '{other}'"),
        };
        let latencies = (args.measure == Measure::StartLatency && way != Way::Floor)
            .then(|| StartLatencies::new(tasks as usize));
        timing::say("Before running gather!");
        let (elapsed, results) =
            timing::enter(rt, args.entry, gather(tasks, way, latencies.clone()))??;
        if let Some(l) = latencies {
            timing::harness::report_start_latency(&l.histogram());
        }
        ensure!(
            results.len() as u64 == tasks,
            "gathered {} of {tasks} results",
            results.len()
        );
        timing::say(format_args!("It took {} to run!", timing::seconds(elapsed)));
        timing::say("After running gather without eager task factory!");
        timing::say(format_args!("tasks: {}", gathering_future_repr(&results)));
        Ok(elapsed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_WAYS: [Way; 7] = [
        Way::JoinAll,
        Way::SpawnGather,
        Way::InPlace,
        Way::JoinHandles,
        Way::FuturesUnordered,
        Way::JoinHandlesUnconstrained,
        Way::Floor,
    ];

    #[tokio::test]
    async fn every_variant_gathers_one_result_per_task() {
        for way in ALL_WAYS {
            let (_, results) = gather(1_000, way, None).await.unwrap();
            assert_eq!(results.len(), 1_000, "{way:?}");
        }
    }

    #[tokio::test]
    async fn start_latencies_are_recorded_for_every_coroutine() {
        for way in ALL_WAYS.into_iter().filter(|w| *w != Way::Floor) {
            let l = StartLatencies::new(300);
            gather(300, way, Some(l.clone())).await.unwrap();
            assert_eq!(l.histogram().len(), 300, "{way:?}");
        }
    }

    #[test]
    fn repr_shows_six_results_then_an_ellipsis() {
        assert_eq!(
            gathering_future_repr(&[(); 2]),
            "<_GatheringFuture finished result=[None, None]>"
        );
        assert_eq!(
            gathering_future_repr(&[(); 6]),
            "<_GatheringFuture finished result=[None, None, None, None, None, None]>"
        );
        assert_eq!(
            gathering_future_repr(&[(); 7]),
            "<_GatheringFuture finished result=[None, None, None, None, None, None, ...]>"
        );
    }
}
