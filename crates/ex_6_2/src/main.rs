//! ex_6_2: one million no-op coroutines awaited with `gather`, without the eager task factory.
//!
//! The Python original builds a list of 1,000,000 `light_coro()` coroutine objects, then
//! `await asyncio.gather(*tasks_list)`: gather wraps each coroutine in a Task, schedules them
//! all, and waits for the last. Only the gather is timed. It then prints the finished gather
//! future, whose result is a list of 1,000,000 `None`s (shortened by `reprlib`).
//!
//! Two tokio counterparts:
//! - `join_all` (default): `futures::future::join_all` polls every future inside the one
//!   awaiting task. No tokio task is created; this is how Rust code usually "gathers".
//! - `spawn_gather`: the literal port: `tokio::spawn` each future, then await the handles in
//!   order, collecting the results.
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

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::ensure;
use futures::future::join_all;
use timing::cli::Spec;

const TASKS: u64 = 1_000_000;

const SPEC: Spec = Spec {
    name: "ex_6_2",
    about: "gather of no-op coroutines: futures' join_all (join_all) or spawned tasks (spawn_gather)",
    variants: &["join_all", "spawn_gather"],
    default_tasks: Some(TASKS),
};

/// `async def light_coro(): pass`
async fn light_coro() {}

/// Gathers `tasks` coroutines; returns the time the gather took and its results.
async fn gather(tasks: u64, spawn: bool) -> anyhow::Result<(Duration, Vec<()>)> {
    // tasks_list = [light_coro() for _ in range(1000000)]: futures are lazy, like coroutine
    // objects: nothing runs until they are polled.
    let tasks_list: Vec<_> = (0..tasks).map(|_| light_coro()).collect();
    let time0 = Instant::now();
    let results = if spawn {
        // What gather does in asyncio: a Task for each coroutine, then wait for them in order.
        let handles: Vec<_> = tasks_list.into_iter().map(tokio::spawn).collect();
        let mut results = Vec::with_capacity(handles.len());
        for handle in handles {
            results.push(handle.await?);
        }
        results
    } else {
        join_all(tasks_list).await
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
        println!("Before running gather!");
        let (elapsed, results) =
            timing::run_as_task(rt, gather(tasks, args.variant == "spawn_gather"))??;
        ensure!(
            results.len() as u64 == tasks,
            "gathered {} of {tasks} results",
            results.len()
        );
        println!("It took {} to run!", timing::seconds(elapsed));
        println!("After running gather without eager task factory!");
        println!("tasks: {}", gathering_future_repr(&results));
        Ok(elapsed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn both_variants_gather_one_result_per_task() {
        for spawn in [false, true] {
            let (_, results) = gather(1_000, spawn).await.unwrap();
            assert_eq!(results.len(), 1_000, "spawn = {spawn}");
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
