//! What the polled group gives up, measured on this machine: run with
//! `cargo run --release -p taskgroup --example polled_costs`.
//!
//! The same work in the scheduled group (`taskgroup::scope`, a tokio task per child) and in the
//! polled group (`taskgroup::polled::scope`, the whole group one tokio task), on a multi-thread
//! runtime with two workers:
//!
//! 1. **Parallelism.** Four children each burn `BURN` of CPU. The scheduled group spreads them
//!    over both workers; the polled group runs them one after another on the thread that polls
//!    its scope.
//! 2. **A child that blocks.** One child burns `BURN` without awaiting; a sibling spawned just
//!    after it notes how long it waited for its first poll. In the polled group it waits for
//!    the whole burn, as an asyncio task waits behind one that blocks the loop; in the
//!    scheduled group the other worker takes it at once.
//!
//! Wall times, one run each: the figures move with the machine's load, the shape does not.

use std::hint::black_box;
use std::time::{Duration, Instant};

use taskgroup::{Start, polled, scope};

/// CPU each busy child burns.
const BURN: Duration = Duration::from_millis(50);

/// Spins for `how_long` without awaiting: a child that computes, or blocks.
fn burn(how_long: Duration) {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < how_long {
        x = black_box(x.wrapping_add(1));
    }
}

/// Four burning children in the scheduled group: the time until the scope returns.
async fn parallel_scheduled() -> anyhow::Result<Duration> {
    let start = Instant::now();
    scope(Start::Scheduled, async |tg| {
        for _ in 0..4 {
            tg.spawn(async { burn(BURN) })?;
        }
        Ok(())
    })
    .await?;
    Ok(start.elapsed())
}

/// The same four children in the polled group.
async fn parallel_polled() -> anyhow::Result<Duration> {
    let start = Instant::now();
    polled::scope(Start::Scheduled, async |tg| {
        for _ in 0..4 {
            tg.spawn(async { burn(BURN) })?;
        }
        Ok(())
    })
    .await?;
    Ok(start.elapsed())
}

/// A child that blocks, then a sibling: how long the sibling waited for its first poll, in
/// the scheduled group.
async fn stalled_scheduled() -> anyhow::Result<Duration> {
    let waited = scope(Start::Scheduled, async |tg| {
        tg.spawn(async { burn(BURN) })?;
        let spawned = Instant::now();
        let waited = tg.spawn(async move { spawned.elapsed() })?;
        Ok(waited.await?)
    })
    .await?;
    Ok(waited)
}

/// The same in the polled group.
async fn stalled_polled() -> anyhow::Result<Duration> {
    let waited = polled::scope(Start::Scheduled, async |tg| {
        tg.spawn(async { burn(BURN) })?;
        let spawned = Instant::now();
        let waited = tg.spawn(async move { spawned.elapsed() })?;
        Ok(waited.await?)
    })
    .await?;
    Ok(waited)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // The polled scope is not `Send`: it runs where `block_on` polls it, as a `spawn_local`
    // task would.
    let (scheduled, polled_group) = runtime
        .block_on(async { anyhow::Ok((parallel_scheduled().await?, parallel_polled().await?)) })?;
    let (stall_scheduled, stall_polled) = runtime
        .block_on(async { anyhow::Ok((stalled_scheduled().await?, stalled_polled().await?)) })?;
    println!(
        "multi-thread runtime, 2 workers; each busy child burns {}",
        ms(BURN)
    );
    println!("| | scheduled group | polled group |");
    println!("|---|---:|---:|");
    println!(
        "| four busy children: until the scope returns | {} | {} |",
        ms(scheduled),
        ms(polled_group)
    );
    println!(
        "| a sibling behind a child that blocks: its wait for a first poll | {} | {} |",
        ms(stall_scheduled),
        ms(stall_polled)
    );
    Ok(())
}
