//! CPython's `Lib/test/test_asyncio/test_taskgroups.py` (class `TestTaskGroup`, 3.13), ported:
//! one Rust test per CPython test, named after it. `CONFORMANCE.md` beside this crate lists
//! every CPython test and how it was ported, adapted, or why it cannot be.
//!
//! How asyncio maps here:
//!
//! - Every scenario runs with both [`Start`]s: asyncio's default (scheduled) tasks, which is
//!   how CPython runs this file, and eager start.
//! - `asyncio.sleep(x)` is [`Clock::sleep`]: on the current-thread runtime with a paused clock
//!   it is `x` seconds of virtual time, so no test waits; `asyncio.sleep(0)`, which only yields
//!   to the loop once, is `yield_now` (a zero tokio sleep is over at its first poll). The
//!   `_multi_thread` twins run on two worker threads with the real clock, where a sleep
//!   shorter than a second lasts a hundredth of it (at most 10 ms) and a longer one lasts its
//!   full length: every sleep that CPython expects to be cancelled is a second or longer, so
//!   it is never waited for unless the crate is wrong, and the order of any two sleeps is kept
//!   with at least a second between the short ones and the long ones. Scenarios whose outcome
//!   hangs on two short sleeps ending in a given order run on the paused clock only.
//! - `1 / 0` in a task is `Err(anyhow!("ZeroDivisionError"))` (a raised exception is the
//!   task's error); an exception raised while a future is cancelled (`finally: 1 / 0`) is a
//!   panic in a drop guard, as the crate documents.
//! - `except CancelledError: …; raise` around an await is an [`OnCancel`] guard, `finally:` a
//!   [`Finally`] guard: cancelling is dropping the future, so the guard runs when it is dropped.
//!   Where the body catches its cancellation to await a cleanup, raise an exception of its
//!   own or read `cancelling()` (`test_taskgroup_15` to `18`,
//!   `test_nested_groups_both_cancelled`), the body is cooperative instead
//!   ([`Scope::cooperative`]): it is not dropped, it sees each cancellation as one request in
//!   [`TaskGroup::cancel_request`], `except CancelledError:` is a `select!` arm on
//!   [`CancelRequest::cancelled`], and `raise` is `Err(req.error())`.
//! - `KeyboardInterrupt` is a panic with an [`Interrupt`] payload, which passes through the
//!   group unwrapped; any other `BaseException` (`MyBaseExc`) is a plain panic, which the group
//!   gathers as a failure.
//! - `get_error_types(eg)` is [`kinds`]: the set of failure names, `ExceptionGroup` for a
//!   nested group's [`GroupError`].
//! - `r = asyncio.create_task(runner()); r.cancel(); await r` is a `tokio::spawn` of a scope
//!   with [`Scope::cancel_on`], then `token.cancel()` and awaiting the `JoinHandle`.
//!   `test_cancellation` and `test_taskgroup_07` also run it as asyncio does, by dropping the
//!   runner: `JoinHandle::abort()`, then awaiting the `JoinHandle` (on two threads 20 times).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::anyhow;
use contextvars::{Context, ContextVar, SharedContext, copy_context};
use futures::FutureExt;
use futures::future::BoxFuture;
use taskgroup::{
    CancelRequest, GroupError, GroupHandle, Interrupt, Refused, Scope, Start, TaskError, TaskGroup,
    TaskHandle,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

mod common;
use common::{Clock, Finally, OnCancel, kinds, nested_kinds, set, zero_division};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const STARTS: [Start; 2] = [Start::Scheduled, Start::Eager];

/// Counts the tasks whose first step is over. asyncio takes the first step of every task it
/// has scheduled in the next loop turn, before a timer can fire, so a child is inside its
/// `try` by the time another child's `sleep(0.1)` ends or the test's own `sleep(0.1)` does.
/// On two threads and a real clock a scheduled child may not have been polled by then, and a
/// child cancelled before its first step never enters its `try` (as in asyncio). So the tests
/// whose outcome needs children inside their `try` when the cancellation comes count their
/// first steps with this, and wait for them where asyncio's order promises them.
#[derive(Clone, Default)]
struct FirstSteps(Arc<AtomicUsize>);

impl FirstSteps {
    /// `future`, counted once its first poll is over.
    fn track<F: Future>(&self, future: F) -> impl Future<Output = F::Output> + use<F> {
        let count = Arc::clone(&self.0);
        let mut counted = false;
        let mut future = Box::pin(future);
        std::future::poll_fn(move |cx| {
            let polled = future.as_mut().poll(cx);
            if !counted {
                counted = true;
                count.fetch_add(1, Ordering::SeqCst);
            }
            polled
        })
    }

    /// Until `n` of the tracked futures have taken their first step.
    async fn wait_for(&self, n: usize) {
        while self.0.load(Ordering::SeqCst) < n {
            tokio::task::yield_now().await;
        }
    }
}

/// `r = asyncio.create_task(runner()); await asyncio.sleep(0.1)` leaves the runner started: its
/// body has taken its first step. On two threads and a real clock a short sleep does not
/// promise that, and a group cancelled before its body starts never runs it (as asyncio never
/// runs a task cancelled before its first step). So the tests that cancel a runner spawn it
/// with this, and wait for its first step (`wait_for(1)`) before they sleep and cancel.
fn spawn_started<F>(future: F) -> (FirstSteps, tokio::task::JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let started = FirstSteps::default();
    let handle = tokio::spawn(started.track(future));
    (started, handle)
}

/// Runs `scenario` with each start on the paused clock.
async fn paused<F, Fut>(scenario: F)
where
    F: Fn(Clock, Start) -> Fut,
    Fut: Future<Output = ()>,
{
    for start in STARTS {
        eprintln!("start: {start:?}");
        scenario(Clock::Paused, start).await;
    }
}

/// Runs `scenario` with each start on the real clock, bounded so that a hang fails the test.
async fn multi_thread<F, Fut>(scenario: F)
where
    F: Fn(Clock, Start) -> Fut,
    Fut: Future<Output = ()>,
{
    for start in STARTS {
        eprintln!("start: {start:?}");
        tokio::time::timeout(Duration::from_secs(60), scenario(Clock::Real, start))
            .await
            .expect("the scenario hung");
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// `async def foo(): try: await asyncio.sleep(secs) finally: 1 / 0`
async fn sleep_then_fail_in_finally(clock: Clock, secs: f64) {
    let _finally = Finally::new(|| panic!("ZeroDivisionError"));
    clock.sleep(secs).await;
}

/// `async def foo(): try: await asyncio.sleep(secs) except CancelledError: NUM += 1; raise`
async fn sleep_counting_cancel(clock: Clock, secs: f64, num: Arc<AtomicUsize>) {
    let on_cancel = OnCancel::new(move || {
        num.fetch_add(1, Ordering::SeqCst);
    });
    clock.sleep(secs).await;
    on_cancel.done();
}

/// `async def crash_after(t): await asyncio.sleep(t); raise <name>`
async fn crash_after(clock: Clock, secs: f64, name: &'static str) -> anyhow::Result<()> {
    clock.sleep(secs).await;
    Err(anyhow!(name))
}

/// `async def foo(n, v): await asyncio.sleep(n); return v`
async fn sleep_then(clock: Clock, secs: f64, value: i32) -> i32 {
    clock.sleep(secs).await;
    value
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_01
// ---------------------------------------------------------------------------------------------

async fn taskgroup_01(clock: Clock, start: Start) {
    let (t1, t2) = Scope::new(start)
        .run(async |g: &mut TaskGroup| {
            let t1 = g.spawn(sleep_then(clock, 0.1, 42))?;
            let t2 = g.spawn(sleep_then(clock, 0.2, 11))?;
            Ok((t1, t2))
        })
        .await
        .expect("the group succeeds");
    assert_eq!(t1.result(), Some(42));
    assert_eq!(t2.result(), Some(11));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_01() {
    paused(taskgroup_01).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_01_multi_thread() {
    multi_thread(taskgroup_01).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_02
// ---------------------------------------------------------------------------------------------

async fn taskgroup_02(clock: Clock, start: Start) {
    let (t1, t2) = Scope::new(start)
        .run(async |g: &mut TaskGroup| {
            let t1 = g.spawn(sleep_then(clock, 0.1, 42))?;
            clock.sleep(0.15).await;
            let t2 = g.spawn(sleep_then(clock, 0.2, 11))?;
            Ok((t1, t2))
        })
        .await
        .expect("the group succeeds");
    assert_eq!(t1.result(), Some(42));
    assert_eq!(t2.result(), Some(11));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_02() {
    paused(taskgroup_02).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_02_multi_thread() {
    multi_thread(taskgroup_02).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_03
// ---------------------------------------------------------------------------------------------

async fn taskgroup_03(clock: Clock, start: Start) {
    let (t1, t2) = Scope::new(start)
        .run(async |g: &mut TaskGroup| {
            let t1 = g.spawn(sleep_then(clock, 1.0, 42))?;
            clock.sleep(0.15).await;
            // Cancel t1 explicitly: everything else goes on as usual.
            t1.cancel();
            let t2 = g.spawn(sleep_then(clock, 0.2, 11))?;
            Ok((t1, t2))
        })
        .await
        .expect("cancelling one task is not a failure of the group");
    assert!(t1.cancelled());
    assert_eq!(t2.result(), Some(11));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_03() {
    paused(taskgroup_03).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_03_multi_thread() {
    multi_thread(taskgroup_03).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_04
// ---------------------------------------------------------------------------------------------

async fn taskgroup_04(clock: Clock, start: Start) {
    let num = counter();
    let t2_cancel = Arc::new(AtomicBool::new(false));
    let t2_slot: Arc<Mutex<Option<TaskHandle<()>>>> = Arc::default();

    let runner = {
        let (num, t2_cancel, t2_slot) = (num.clone(), t2_cancel.clone(), t2_slot.clone());
        async move {
            let n = num.clone();
            let t2_started = FirstSteps::default();
            Scope::new(start)
                .run(async move |g: &mut TaskGroup| {
                    let t2_in_try = t2_started.clone();
                    g.spawn_fallible(async move {
                        clock.sleep(0.1).await;
                        t2_in_try.wait_for(1).await; // asyncio: foo2 is in its sleep
                        Err::<(), _>(zero_division())
                    })?;
                    let t2 = g.spawn(t2_started.track(async move {
                        let on_cancel =
                            OnCancel::new(move || t2_cancel.store(true, Ordering::SeqCst));
                        clock.sleep(1.0).await;
                        on_cancel.done();
                        n.fetch_add(1, Ordering::SeqCst);
                    }))?;
                    *t2_slot.lock().expect("not poisoned") = Some(t2);
                    Ok(())
                })
                .await?;
            num.fetch_add(10, Ordering::SeqCst);
            Ok::<(), GroupError>(())
        }
    };
    let err = tokio::spawn(runner)
        .await
        .expect("the runner does not panic")
        .expect_err("an ExceptionGroup");

    assert_eq!(kinds(&err), set(["ZeroDivisionError"]));
    assert_eq!(num.load(Ordering::SeqCst), 0);
    assert!(t2_cancel.load(Ordering::SeqCst));
    let t2 = t2_slot
        .lock()
        .expect("not poisoned")
        .take()
        .expect("t2 was created");
    assert!(t2.cancelled());
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_04() {
    paused(taskgroup_04).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_04_multi_thread() {
    multi_thread(taskgroup_04).await;
}

// ---------------------------------------------------------------------------------------------
// test_cancel_children_on_child_error
// ---------------------------------------------------------------------------------------------

async fn cancel_children_on_child_error(clock: Clock, start: Start) {
    let num = counter();
    let t2_cancel = Arc::new(AtomicBool::new(false));
    let runner_cancel = Arc::new(AtomicBool::new(false));

    let runner = {
        let (num, t2_cancel, runner_cancel) =
            (num.clone(), t2_cancel.clone(), runner_cancel.clone());
        async move {
            let n = num.clone();
            let t2_started = FirstSteps::default();
            Scope::new(start)
                .run(async move |g: &mut TaskGroup| {
                    for _ in 0..3 {
                        let t2_in_try = t2_started.clone();
                        g.spawn_fallible(async move {
                            clock.sleep(0.1).await;
                            t2_in_try.wait_for(1).await; // asyncio: foo2 is in its sleep
                            Err::<(), _>(zero_division())
                        })?;
                    }
                    g.spawn(t2_started.track(async move {
                        let on_cancel =
                            OnCancel::new(move || t2_cancel.store(true, Ordering::SeqCst));
                        clock.sleep(5.0).await;
                        on_cancel.done();
                        n.fetch_add(1, Ordering::SeqCst);
                    }))?;
                    let on_cancel =
                        OnCancel::new(move || runner_cancel.store(true, Ordering::SeqCst));
                    clock.sleep(10.0).await;
                    on_cancel.done();
                    Ok(())
                })
                .await?;
            num.fetch_add(10, Ordering::SeqCst);
            Ok::<(), GroupError>(())
        }
    };
    let err = tokio::spawn(runner)
        .await
        .expect("the runner does not panic")
        .expect_err("an ExceptionGroup");

    assert_eq!(kinds(&err), set(["ZeroDivisionError"]));
    assert_eq!(num.load(Ordering::SeqCst), 0);
    assert!(t2_cancel.load(Ordering::SeqCst));
    assert!(runner_cancel.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn test_cancel_children_on_child_error() {
    paused(cancel_children_on_child_error).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_cancel_children_on_child_error_multi_thread() {
    multi_thread(cancel_children_on_child_error).await;
}

// ---------------------------------------------------------------------------------------------
// test_cancellation (`r.cancel()` both as the token of `cancel_on` and as `r.abort()`, the
// drop path, which on two threads runs 20 times)
// ---------------------------------------------------------------------------------------------

/// How many times the drop-path twins run their scenario: on two threads a child may be in
/// the middle of a step when the owner is dropped, which one run may not reach.
const DROP_RUNS: usize = 20;

/// The children of `test_cancellation`, each counting its cancellation in `num`.
fn five_children_counting_cancel(
    g: &mut TaskGroup,
    clock: Clock,
    steps: &FirstSteps,
    num: &Arc<AtomicUsize>,
) -> Result<(), Refused> {
    for _ in 0..5 {
        g.spawn(steps.track(sleep_counting_cancel(clock, 5.0, num.clone())))?;
    }
    Ok(())
}

/// `r.cancel(); await r` as a drop: aborts the runner's tokio task and awaits it, which must
/// end cancelled.
async fn abort_and_await<T: std::fmt::Debug>(r: tokio::task::JoinHandle<T>) {
    r.abort(); // r.cancel()
    let err = r.await.expect_err("CancelledError");
    assert!(err.is_cancelled(), "{err}");
}

async fn cancellation(clock: Clock, start: Start) {
    let num = counter();
    let token = CancellationToken::new();
    let n = num.clone();
    let children = FirstSteps::default();
    let steps = children.clone();
    let (started, r) = spawn_started(Scope::new(start).cancel_on(token.clone()).run(
        async move |g: &mut TaskGroup| {
            five_children_counting_cancel(g, clock, &steps, &n)?;
            Ok(())
        },
    ));
    started.wait_for(1).await;
    children.wait_for(5).await; // asyncio: every child is in its sleep by the end of ours
    clock.sleep(0.1).await;

    assert!(!r.is_finished());
    token.cancel(); // r.cancel()
    let err = r
        .await
        .expect("the runner does not panic")
        .expect_err("CancelledError");
    assert!(err.cancelled && err.failures.is_empty(), "{err}");

    assert_eq!(num.load(Ordering::SeqCst), 5);
}

/// `test_cancellation` with `r.cancel()` as asyncio does it: the runner is cancelled, here
/// dropped, and every child has run its cancellation by the time `await r` returns.
async fn cancellation_by_drop(clock: Clock, start: Start) {
    let num = counter();
    let n = num.clone();
    let children = FirstSteps::default();
    let steps = children.clone();
    let (started, r) = spawn_started(Scope::new(start).run(async move |g: &mut TaskGroup| {
        five_children_counting_cancel(g, clock, &steps, &n)?;
        Ok(())
    }));
    started.wait_for(1).await;
    children.wait_for(5).await; // asyncio: every child is in its sleep by the end of ours
    clock.sleep(0.1).await;

    assert!(!r.is_finished());
    abort_and_await(r).await;

    assert_eq!(num.load(Ordering::SeqCst), 5);
}

#[tokio::test(start_paused = true)]
async fn test_cancellation() {
    paused(cancellation).await;
    paused(cancellation_by_drop).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_cancellation_multi_thread() {
    multi_thread(cancellation).await;
    for _ in 0..DROP_RUNS {
        multi_thread(cancellation_by_drop).await;
    }
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_07 (as test_cancellation: the token, then the drop path)
// ---------------------------------------------------------------------------------------------

/// The body of `test_taskgroup_07`'s runner: five children counting their cancellation, then
/// `try: await asyncio.sleep(10) except CancelledError: NUM += 10; raise`.
async fn five_children_then_sleep(
    g: &mut TaskGroup,
    clock: Clock,
    steps: &FirstSteps,
    num: &Arc<AtomicUsize>,
) -> anyhow::Result<()> {
    five_children_counting_cancel(g, clock, steps, num)?;
    let n = num.clone();
    let on_cancel = OnCancel::new(move || {
        n.fetch_add(10, Ordering::SeqCst);
    });
    clock.sleep(10.0).await;
    on_cancel.done();
    Ok(())
}

async fn taskgroup_07(clock: Clock, start: Start) {
    let num = counter();
    let token = CancellationToken::new();
    let n = num.clone();
    let children = FirstSteps::default();
    let steps = children.clone();
    let (started, r) =
        spawn_started(Scope::new(start).cancel_on(token.clone()).run(
            async move |g: &mut TaskGroup| five_children_then_sleep(g, clock, &steps, &n).await,
        ));
    started.wait_for(1).await;
    children.wait_for(5).await; // asyncio: every child is in its sleep by the end of ours
    clock.sleep(0.1).await;

    assert!(!r.is_finished());
    token.cancel();
    let err = r
        .await
        .expect("the runner does not panic")
        .expect_err("CancelledError");
    assert!(err.cancelled && err.failures.is_empty(), "{err}");

    assert_eq!(num.load(Ordering::SeqCst), 15);
}

/// `test_taskgroup_07` with the runner dropped, as `cancellation_by_drop`.
async fn taskgroup_07_by_drop(clock: Clock, start: Start) {
    let num = counter();
    let n = num.clone();
    let children = FirstSteps::default();
    let steps = children.clone();
    let (started, r) =
        spawn_started(Scope::new(start).run(async move |g: &mut TaskGroup| {
            five_children_then_sleep(g, clock, &steps, &n).await
        }));
    started.wait_for(1).await;
    children.wait_for(5).await; // asyncio: every child is in its sleep by the end of ours
    clock.sleep(0.1).await;

    assert!(!r.is_finished());
    abort_and_await(r).await;

    assert_eq!(num.load(Ordering::SeqCst), 15);
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_07() {
    paused(taskgroup_07).await;
    paused(taskgroup_07_by_drop).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_07_multi_thread() {
    multi_thread(taskgroup_07).await;
    for _ in 0..DROP_RUNS {
        multi_thread(taskgroup_07_by_drop).await;
    }
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_08
// ---------------------------------------------------------------------------------------------

async fn taskgroup_08(clock: Clock, start: Start) {
    let token = CancellationToken::new();
    let children = FirstSteps::default();
    let steps = children.clone();
    let (started, r) = spawn_started(Scope::new(start).cancel_on(token.clone()).run(
        async move |g: &mut TaskGroup| {
            for _ in 0..5 {
                g.spawn(steps.track(sleep_then_fail_in_finally(clock, 10.0)))?;
            }
            clock.sleep(10.0).await;
            Ok(())
        },
    ));
    started.wait_for(1).await;
    children.wait_for(5).await; // asyncio: every child is in its sleep by the end of ours
    clock.sleep(0.1).await;

    assert!(!r.is_finished());
    token.cancel();
    let err = r
        .await
        .expect("the runner does not panic")
        .expect_err("an ExceptionGroup");
    assert_eq!(kinds(&err), set(["ZeroDivisionError"]));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_08() {
    paused(taskgroup_08).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_08_multi_thread() {
    multi_thread(taskgroup_08).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_09
// ---------------------------------------------------------------------------------------------

async fn taskgroup_09(clock: Clock, start: Start) {
    let mut t1 = None;
    let mut t2 = None;
    let err = Scope::new(start)
        .run(async |g: &mut TaskGroup| {
            t1 = Some(g.spawn(sleep_then(clock, 1.0, 42))?);
            t2 = Some(g.spawn(sleep_then(clock, 2.0, 11))?);
            clock.sleep(0.1).await;
            Err::<(), _>(zero_division())
        })
        .await
        .expect_err("ExceptionGroup was not raised");
    assert_eq!(kinds(&err), set(["ZeroDivisionError"]));

    assert!(t1.expect("t1 was created").cancelled());
    assert!(t2.expect("t2 was created").cancelled());
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_09() {
    paused(taskgroup_09).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_09_multi_thread() {
    multi_thread(taskgroup_09).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_10
// ---------------------------------------------------------------------------------------------

async fn taskgroup_10(clock: Clock, start: Start) {
    let mut t1 = None;
    let mut t2 = None;
    let err = Scope::new(start)
        .run(async |g: &mut TaskGroup| {
            t1 = Some(g.spawn(sleep_then(clock, 1.0, 42))?);
            t2 = Some(g.spawn(sleep_then(clock, 2.0, 11))?);
            Err::<(), _>(zero_division())
        })
        .await
        .expect_err("ExceptionGroup was not raised");
    assert_eq!(kinds(&err), set(["ZeroDivisionError"]));

    assert!(t1.expect("t1 was created").cancelled());
    assert!(t2.expect("t2 was created").cancelled());
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_10() {
    paused(taskgroup_10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_10_multi_thread() {
    multi_thread(taskgroup_10).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_11
// ---------------------------------------------------------------------------------------------

async fn taskgroup_11(clock: Clock, start: Start) {
    let token = CancellationToken::new();
    let children = FirstSteps::default();
    let steps = children.clone();
    let (started, r) = spawn_started(Scope::new(start).cancel_on(token.clone()).run(
        async move |outer: &mut TaskGroup| {
            Scope::new(start)
                .parent(&outer.handle())
                .run(async |g2: &mut TaskGroup| {
                    for _ in 0..5 {
                        g2.spawn(steps.track(sleep_then_fail_in_finally(clock, 10.0)))?;
                    }
                    clock.sleep(10.0).await;
                    Ok(())
                })
                .await?;
            Ok(())
        },
    ));
    started.wait_for(1).await;
    children.wait_for(5).await; // asyncio: every child is in its sleep by the end of ours
    clock.sleep(0.1).await;

    assert!(!r.is_finished());
    token.cancel();
    let err = r
        .await
        .expect("the runner does not panic")
        .expect_err("an ExceptionGroup");

    assert_eq!(kinds(&err), set(["ExceptionGroup"]));
    assert_eq!(nested_kinds(&err.failures[0]), set(["ZeroDivisionError"]));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_11() {
    paused(taskgroup_11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_11_multi_thread() {
    multi_thread(taskgroup_11).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_12
// ---------------------------------------------------------------------------------------------

async fn taskgroup_12(clock: Clock, start: Start) {
    let token = CancellationToken::new();
    let children = FirstSteps::default();
    let steps = children.clone();
    let (started, r) = spawn_started(Scope::new(start).cancel_on(token.clone()).run(
        async move |g1: &mut TaskGroup| {
            g1.spawn(clock.sleep(10.0))?;
            Scope::new(start)
                .parent(&g1.handle())
                .run(async |g2: &mut TaskGroup| {
                    for _ in 0..5 {
                        g2.spawn(steps.track(sleep_then_fail_in_finally(clock, 10.0)))?;
                    }
                    clock.sleep(10.0).await;
                    Ok(())
                })
                .await?;
            Ok(())
        },
    ));
    started.wait_for(1).await;
    children.wait_for(5).await; // asyncio: every child is in its sleep by the end of ours
    clock.sleep(0.1).await;

    assert!(!r.is_finished());
    token.cancel();
    let err = r
        .await
        .expect("the runner does not panic")
        .expect_err("an ExceptionGroup");

    assert_eq!(kinds(&err), set(["ExceptionGroup"]));
    assert_eq!(nested_kinds(&err.failures[0]), set(["ZeroDivisionError"]));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_12() {
    paused(taskgroup_12).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_12_multi_thread() {
    multi_thread(taskgroup_12).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_13
// ---------------------------------------------------------------------------------------------

async fn taskgroup_13(clock: Clock, start: Start) {
    // asyncio runs the runner on to `async with g2` and g2's task's first step before g1's
    // task's sleep(0.1) ends. On two threads the runner's body could still be on its way
    // there when g1 fails, and then g2 would not start (its parent is shutting down), which
    // is a failure of its own; so g1's task raises once g2's task has taken its first step.
    let g2_started = FirstSteps::default();
    let r = tokio::spawn(Scope::new(start).run(async move |g1: &mut TaskGroup| {
        let in_g2 = g2_started.clone();
        g1.spawn_fallible(async move {
            let crashed = crash_after(clock, 0.1, "ValueError").await;
            in_g2.wait_for(1).await;
            crashed
        })?;
        Scope::new(start)
            .parent(&g1.handle())
            .run(async |g2: &mut TaskGroup| {
                g2.spawn_fallible(g2_started.track(crash_after(clock, 10.0, "ValueError")))?;
                Ok(())
            })
            .await?;
        Ok(())
    }));
    let err = r
        .await
        .expect("the runner does not panic")
        .expect_err("an ExceptionGroup");

    assert_eq!(kinds(&err), set(["ValueError"]));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_13() {
    paused(taskgroup_13).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_13_multi_thread() {
    multi_thread(taskgroup_13).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_14
// ---------------------------------------------------------------------------------------------

async fn taskgroup_14(clock: Clock, start: Start) {
    let r = tokio::spawn(Scope::new(start).run(async move |g1: &mut TaskGroup| {
        g1.spawn_fallible(crash_after(clock, 10.0, "ValueError"))?;
        Scope::new(start)
            .parent(&g1.handle())
            .run(async |g2: &mut TaskGroup| {
                g2.spawn_fallible(crash_after(clock, 0.1, "ValueError"))?;
                Ok(())
            })
            .await?;
        Ok(())
    }));
    let err = r
        .await
        .expect("the runner does not panic")
        .expect_err("an ExceptionGroup");

    assert_eq!(kinds(&err), set(["ExceptionGroup"]));
    assert_eq!(nested_kinds(&err.failures[0]), set(["ValueError"]));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_14() {
    paused(taskgroup_14).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_14_multi_thread() {
    multi_thread(taskgroup_14).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_15 (the body is cooperative: `r.cancel()` is one request to it, and it awaits
// its cleanup while the child goes on, as asyncio's body catching `CancelledError`. Paused
// clock only: the outcome needs the child's 0.3 s to end before the body's 0.1 s + 0.5 s)
// ---------------------------------------------------------------------------------------------

/// `async def nested_runner()` of `test_taskgroup_16` (and `runner()` of `test_taskgroup_15`):
/// `owner` is the cancellation of the task that runs it (`r.cancel()`).
async fn crash_soon_while_body_cleans_up(
    clock: Clock,
    start: Start,
    owner: CancellationToken,
) -> Result<(), GroupError> {
    Scope::new(start)
        .cooperative()
        .cancel_on(owner)
        .run(async move |g1: &mut TaskGroup| {
            let mut req = g1.cancel_request();
            g1.spawn_fallible(crash_after(clock, 0.3, "ZeroDivisionError"))?;
            tokio::select! {
                () = clock.sleep(10.0) => Ok(()),
                _ = req.cancelled() => {
                    // except asyncio.CancelledError:
                    clock.sleep(0.5).await;
                    Err(req.error().into()) // raise
                }
            }
        })
        .await
        .map(drop)
}

async fn taskgroup_15(clock: Clock, start: Start) {
    let token = CancellationToken::new();
    let r = tokio::spawn(crash_soon_while_body_cleans_up(clock, start, token.clone()));
    clock.sleep(0.1).await;

    assert!(!r.is_finished());
    token.cancel(); // r.cancel()
    let err = r
        .await
        .expect("the runner does not panic")
        .expect_err("an ExceptionGroup");
    assert_eq!(kinds(&err), set(["ZeroDivisionError"]));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_15() {
    paused(taskgroup_15).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_16 (adapted: as test_taskgroup_15, with the group in a task `t` that the
// runner awaits. In asyncio `r.cancel()` reaches `t` through `await t`; here it is the token
// given to `t`'s group, which reaches `t` without passing through `r`)
// ---------------------------------------------------------------------------------------------

async fn taskgroup_16(clock: Clock, start: Start) {
    let token = CancellationToken::new();
    let t_owner = token.clone();
    let r = tokio::spawn(async move {
        let t = tokio::spawn(crash_soon_while_body_cleans_up(clock, start, t_owner));
        t.await.expect("nested_runner does not panic")
    });
    clock.sleep(0.1).await;

    assert!(!r.is_finished());
    token.cancel(); // r.cancel(), which cancels the task r awaits
    let err = r
        .await
        .expect("the runner does not panic")
        .expect_err("an ExceptionGroup");
    assert_eq!(kinds(&err), set(["ZeroDivisionError"]));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_16() {
    paused(taskgroup_16).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_17 (the body is cooperative: `except CancelledError:` is a select arm on its
// cancel request, and `raise` is returning that request's error)
// ---------------------------------------------------------------------------------------------

/// `async with TaskGroup(): try: await asyncio.sleep(10) except CancelledError: <on_cancel>`:
/// a cooperative group whose body runs `on_cancel` (with the request) when `owner` is
/// cancelled, and returns what it returns. The runner, spawned and started.
fn spawn_cooperative_sleeper(
    clock: Clock,
    start: Start,
    owner: CancellationToken,
    on_cancel: impl FnOnce(&CancelRequest) -> anyhow::Error + Send + 'static,
) -> (FirstSteps, tokio::task::JoinHandle<Result<(), GroupError>>) {
    spawn_started(async move {
        Scope::new(start)
            .cooperative()
            .cancel_on(owner)
            .run(async move |tg: &mut TaskGroup| {
                let mut req = tg.cancel_request();
                tokio::select! {
                    () = clock.sleep(10.0) => Ok(()),
                    _ = req.cancelled() => Err(on_cancel(&req)),
                }
            })
            .await
            .map(drop)
    })
}

async fn taskgroup_17(clock: Clock, start: Start) {
    let num = counter();
    let token = CancellationToken::new();
    let n = num.clone();
    let (started, r) = spawn_cooperative_sleeper(clock, start, token.clone(), move |req| {
        n.fetch_add(10, Ordering::SeqCst);
        req.error().into() // raise
    });
    started.wait_for(1).await;
    clock.sleep(0.1).await;

    assert!(!r.is_finished());
    token.cancel();
    let err = r
        .await
        .expect("the runner does not panic")
        .expect_err("CancelledError");
    assert!(err.cancelled && err.failures.is_empty(), "{err}");

    assert_eq!(num.load(Ordering::SeqCst), 10);
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_17() {
    paused(taskgroup_17).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_17_multi_thread() {
    multi_thread(taskgroup_17).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_18 (as test_taskgroup_17; `raise MyExc` in `except CancelledError` is the
// body's error)
// ---------------------------------------------------------------------------------------------

async fn taskgroup_18(clock: Clock, start: Start) {
    let num = counter();
    let token = CancellationToken::new();
    let n = num.clone();
    let (started, r) = spawn_cooperative_sleeper(clock, start, token.clone(), move |_| {
        n.fetch_add(10, Ordering::SeqCst);
        // This isn't a good idea, but we have to support this weird case.
        anyhow!("MyExc")
    });
    started.wait_for(1).await;
    clock.sleep(0.1).await;

    assert!(!r.is_finished());
    token.cancel();
    let err = r
        .await
        .expect("the runner does not panic")
        .expect_err("ExceptionGroup was not raised");
    assert_eq!(kinds(&err), set(["MyExc"]));

    assert_eq!(num.load(Ordering::SeqCst), 10);
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_18() {
    paused(taskgroup_18).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_18_multi_thread() {
    multi_thread(taskgroup_18).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_19
// ---------------------------------------------------------------------------------------------

/// `async def nested(): try: await asyncio.sleep(10) finally: raise <name>`
async fn nested_raising_in_finally(clock: Clock, name: &'static str) {
    let _finally = Finally::new(move || panic!("{name}"));
    clock.sleep(10.0).await;
}

async fn taskgroup_19(clock: Clock, start: Start) {
    let r = tokio::spawn(Scope::new(start).run(async move |g: &mut TaskGroup| {
        g.spawn_fallible(crash_after(clock, 0.1, "ZeroDivisionError"))?;
        nested_raising_in_finally(clock, "MyExc").await;
        Ok(())
    }));
    let err = r
        .await
        .expect("the runner does not panic")
        .expect_err("TaskGroupError was not raised");
    assert_eq!(kinds(&err), set(["MyExc", "ZeroDivisionError"]));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_19() {
    paused(taskgroup_19).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_19_multi_thread() {
    multi_thread(taskgroup_19).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_20 (`raise KeyboardInterrupt` in `finally` is a drop guard that panics with an
// `Interrupt`: the scope raises it again, unwrapped, once every task has ended)
// ---------------------------------------------------------------------------------------------

/// `panic_any(Interrupt::new("KeyboardInterrupt"))`: `raise KeyboardInterrupt`.
fn keyboard_interrupt() -> ! {
    std::panic::panic_any(Interrupt::new("KeyboardInterrupt"))
}

/// `with self.assertRaises(KeyboardInterrupt): await runner()`: `runner` panics, and its
/// payload is the `Interrupt` itself, not a group around it.
async fn assert_raises_keyboard_interrupt<T>(runner: impl Future<Output = T>) {
    let payload = std::panic::AssertUnwindSafe(runner)
        .catch_unwind()
        .await
        .err()
        .expect("KeyboardInterrupt was not raised");
    let interrupt = payload
        .downcast::<Interrupt>()
        .expect("the KeyboardInterrupt passes through unwrapped");
    assert_eq!(*interrupt, Interrupt::new("KeyboardInterrupt"));
}

async fn taskgroup_20(clock: Clock, start: Start) {
    let runner = Scope::new(start).run(async |g: &mut TaskGroup| {
        g.spawn_fallible(crash_after(clock, 0.1, "ZeroDivisionError"))?;
        // nested(): try: await asyncio.sleep(10) finally: raise KeyboardInterrupt
        let _finally = Finally::new(|| keyboard_interrupt());
        clock.sleep(10.0).await;
        Ok(())
    });
    assert_raises_keyboard_interrupt(runner).await;
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_20() {
    paused(taskgroup_20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_20_multi_thread() {
    multi_thread(taskgroup_20).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_20a (`raise MyBaseExc`, a BaseException that is not KeyboardInterrupt, is a
// plain panic: the group gathers it beside the ZeroDivisionError)
// ---------------------------------------------------------------------------------------------

async fn taskgroup_20a(clock: Clock, start: Start) {
    let err = Scope::new(start)
        .run(async |g: &mut TaskGroup| {
            g.spawn_fallible(crash_after(clock, 0.1, "ZeroDivisionError"))?;
            nested_raising_in_finally(clock, "MyBaseExc").await;
            Ok(())
        })
        .await
        .expect_err("a BaseExceptionGroup");
    assert_eq!(kinds(&err), set(["MyBaseExc", "ZeroDivisionError"]));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_20a() {
    paused(taskgroup_20a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_20a_multi_thread() {
    multi_thread(taskgroup_20a).await;
}

// ---------------------------------------------------------------------------------------------
// _test_taskgroup_21 (disabled in CPython, where KeyboardInterrupt in a task crashes the loop;
// here it passes through as in test_taskgroup_20, and the body's TypeError is not raised)
// ---------------------------------------------------------------------------------------------

async fn taskgroup_21(clock: Clock, start: Start) {
    let runner = Scope::new(start).run(async |g: &mut TaskGroup| {
        g.spawn(async move {
            clock.sleep(0.1).await;
            keyboard_interrupt();
        })?;
        nested_raising_in_finally(clock, "TypeError").await;
        Ok(())
    });
    assert_raises_keyboard_interrupt(runner).await;
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_21() {
    paused(taskgroup_21).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_21_multi_thread() {
    multi_thread(taskgroup_21).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_21a (the child's `raise MyBaseExc` is a plain panic; `finally: raise
// TypeError` a panic in a drop guard)
// ---------------------------------------------------------------------------------------------

async fn taskgroup_21a(clock: Clock, start: Start) {
    let err = Scope::new(start)
        .run(async |g: &mut TaskGroup| {
            g.spawn(async move {
                clock.sleep(0.1).await;
                panic!("MyBaseExc");
            })?;
            nested_raising_in_finally(clock, "TypeError").await;
            Ok(())
        })
        .await
        .expect_err("a BaseExceptionGroup");
    assert_eq!(kinds(&err), set(["MyBaseExc", "TypeError"]));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_21a() {
    paused(taskgroup_21a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_21a_multi_thread() {
    multi_thread(taskgroup_21a).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_22
// ---------------------------------------------------------------------------------------------

async fn taskgroup_22(clock: Clock, start: Start) {
    let token = CancellationToken::new();
    let (started, r) = spawn_started(Scope::new(start).cancel_on(token.clone()).run(
        async move |g: &mut TaskGroup| {
            g.spawn(sleep_then(clock, 1.0, 42))?;
            g.spawn(sleep_then(clock, 2.0, 11))?;
            Ok(())
        },
    ));
    started.wait_for(1).await;
    clock.sleep(0.05).await;
    token.cancel();

    let err = r
        .await
        .expect("the runner does not panic")
        .expect_err("CancelledError");
    assert!(err.cancelled && err.failures.is_empty(), "{err}");
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_22() {
    paused(taskgroup_22).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_22_multi_thread() {
    multi_thread(taskgroup_22).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_23 (`len(g._tasks)` is `g.snapshot().live`)
// ---------------------------------------------------------------------------------------------

async fn taskgroup_23(clock: Clock, start: Start) {
    Scope::new(start)
        .run(async |g: &mut TaskGroup| {
            for count in 0..10 {
                clock.sleep(0.1).await;
                g.spawn(clock.sleep(0.3))?;
                if count == 5 {
                    let live = g.snapshot().live;
                    assert!(live < 5, "{live} live tasks");
                }
            }
            clock.sleep(1.35).await;
            assert_eq!(g.snapshot().live, 0);
            Ok(())
        })
        .await
        .expect("the group succeeds");
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_23() {
    paused(taskgroup_23).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_24
// ---------------------------------------------------------------------------------------------

async fn taskgroup_24(clock: Clock, start: Start) {
    let ((), done) = Scope::new(start)
        .run_counted(async |g: &mut TaskGroup| {
            let root_g = g.handle();
            g.spawn_fallible(async move {
                clock.sleep(0.1).await;
                root_g.spawn(clock.sleep(0.1))?;
                root_g.spawn(clock.sleep(0.2))?;
                Ok::<(), Refused>(())
            })?;
            Ok(())
        })
        .await
        .expect("the group succeeds");
    assert_eq!(done.total(), 3);
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_24() {
    paused(taskgroup_24).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_24_multi_thread() {
    multi_thread(taskgroup_24).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_25 (paused clock only: on the real clock the hydras double every 0.1 ms for
// as long as hercules is late)
// ---------------------------------------------------------------------------------------------

fn hydra(
    g: GroupHandle,
    nhydras: Arc<AtomicUsize>,
    clock: Clock,
) -> BoxFuture<'static, Result<(), Refused>> {
    Box::pin(async move {
        nhydras.fetch_add(1, Ordering::SeqCst);
        clock.sleep(0.01).await;
        g.spawn_fallible(hydra(g.clone(), nhydras.clone(), clock))?;
        g.spawn_fallible(hydra(g.clone(), nhydras.clone(), clock))?;
        Ok(())
    })
}

async fn taskgroup_25(clock: Clock, start: Start) {
    let nhydras = counter();
    let n = nhydras.clone();
    let err = Scope::new(start)
        .run(async |g: &mut TaskGroup| {
            g.spawn_fallible(hydra(g.handle(), nhydras.clone(), clock))?;
            g.spawn_fallible(async move {
                while n.load(Ordering::SeqCst) < 10 {
                    clock.sleep(0.015).await;
                }
                Err::<(), _>(zero_division())
            })?;
            Ok(())
        })
        .await
        .expect_err("an ExceptionGroup");

    assert_eq!(kinds(&err), set(["ZeroDivisionError"]));
    assert!(nhydras.load(Ordering::SeqCst) >= 10);
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_25() {
    paused(taskgroup_25).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_task_name
// ---------------------------------------------------------------------------------------------

async fn taskgroup_task_name(_clock: Clock, start: Start) {
    Scope::new(start)
        .run(async |g: &mut TaskGroup| {
            let t = g.task().name("yolo").spawn(tokio::task::yield_now())?;
            assert_eq!(t.name(), "yolo");
            Ok(())
        })
        .await
        .expect("the group succeeds");
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_task_name() {
    paused(taskgroup_task_name).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_task_context (`ctx` is a `SharedContext`: the task runs in it, and its sets
// show in the `ctx` the body holds)
// ---------------------------------------------------------------------------------------------

static CVAR: ContextVar<i32> = ContextVar::new("cvar", 0);

/// `async def coro(val): await asyncio.sleep(0); cvar.set(val)`
async fn set_cvar(val: i32) {
    tokio::task::yield_now().await;
    CVAR.set(val).expect("the task runs in a context");
}

async fn taskgroup_task_context(_clock: Clock, start: Start) {
    // The loop's main task runs in a context of its own.
    Context::new()
        .scope(async {
            Scope::new(start)
                .run(async |g: &mut TaskGroup| {
                    let ctx = SharedContext::new(copy_context());
                    assert_eq!(ctx.get(&CVAR), None);
                    let t1 = g.task().context(ctx.clone()).spawn(set_cvar(1))?;
                    t1.await?;
                    assert_eq!(ctx.get(&CVAR), Some(1));
                    let t2 = g.task().context(ctx.clone()).spawn(set_cvar(2))?;
                    t2.await?;
                    assert_eq!(ctx.get(&CVAR), Some(2));
                    Ok(())
                })
                .await
                .expect("the group succeeds");
        })
        .await;
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_task_context() {
    paused(taskgroup_task_context).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_task_context_multi_thread() {
    multi_thread(taskgroup_task_context).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_no_create_task_after_failure
// ---------------------------------------------------------------------------------------------

async fn taskgroup_no_create_task_after_failure(clock: Clock, start: Start) {
    let attempt: Arc<Mutex<Option<Result<(), Refused>>>> = Arc::default();
    let seen = attempt.clone();
    let t2_started = FirstSteps::default();
    let err = Scope::new(start)
        .run(async |g: &mut TaskGroup| {
            let t2_in_try = t2_started.clone();
            g.spawn_fallible(async move {
                let crashed = crash_after(clock, 0.001, "ZeroDivisionError").await;
                t2_in_try.wait_for(1).await; // asyncio: the second task is in its sleep
                crashed
            })?;
            let g2 = g.handle();
            g.spawn(t2_started.track(async move {
                let on_cancel = OnCancel::new(move || {
                    let spawned = g2
                        .spawn_fallible(crash_after(clock, 0.001, "ZeroDivisionError"))
                        .map(drop);
                    *seen.lock().expect("not poisoned") = Some(spawned);
                });
                clock.sleep(1.0).await;
                on_cancel.done();
            }))?;
            Ok(())
        })
        .await
        .expect_err("an ExceptionGroup");

    assert_eq!(
        *attempt.lock().expect("not poisoned"),
        Some(Err(Refused::ShuttingDown)),
        "create_task in a cancelled child raises RuntimeError"
    );
    assert_eq!(kinds(&err), set(["ZeroDivisionError"]));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_no_create_task_after_failure() {
    paused(taskgroup_no_create_task_after_failure).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_no_create_task_after_failure_multi_thread() {
    multi_thread(taskgroup_no_create_task_after_failure).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_context_manager_exit_raises (adapted: the context manager's `finally: raise`
// is a drop guard that panics; `task.cancelling() == 0` is: the owner's token is not cancelled)
// ---------------------------------------------------------------------------------------------

async fn taskgroup_context_manager_exit_raises(clock: Clock, start: Start) {
    let task = CancellationToken::new();
    let err = Scope::new(start)
        .cancel_on(task.clone())
        .run(async |tg: &mut TaskGroup| {
            let _database = Finally::new(|| panic!("CustomException"));
            tg.spawn_fallible(async { Err::<(), _>(anyhow!("CustomException")) })?;
            clock.sleep(1.0).await;
            Ok(())
        })
        .await
        .expect_err("CustomException not raised");

    assert!(!task.is_cancelled(), "task.cancelling() == 0");
    assert_eq!(err.failures.len(), 2, "{err}");
    assert_eq!(kinds(&err), set(["CustomException"]));
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_context_manager_exit_raises() {
    paused(taskgroup_context_manager_exit_raises).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_taskgroup_context_manager_exit_raises_multi_thread() {
    multi_thread(taskgroup_context_manager_exit_raises).await;
}

// ---------------------------------------------------------------------------------------------
// test_taskgroup_finished and test_coro_closed_when_tg_closed: a handle kept past the scope
// ---------------------------------------------------------------------------------------------

/// Spawns through a handle of a group whose scope has returned: refused as finished, and the
/// future dropped without running ("the coroutine was closed").
async fn create_task_after_tg_finish(start: Start) {
    let tg = Scope::new(start)
        .run(async |tg: &mut TaskGroup| Ok(tg.handle()))
        .await
        .expect("the group succeeds");
    let ran = Arc::new(AtomicBool::new(false));
    let closed = counter();
    let guard = Finally::new({
        let closed = closed.clone();
        move || {
            closed.fetch_add(1, Ordering::SeqCst);
        }
    });
    let r = ran.clone();
    let refused = tg
        .spawn(async move {
            let _guard = guard;
            r.store(true, Ordering::SeqCst);
        })
        .expect_err("RuntimeError");
    assert_eq!(refused, Refused::Finished);
    assert!(refused.to_string().contains("is finished"), "{refused}");
    assert!(!ran.load(Ordering::SeqCst));
    assert_eq!(closed.load(Ordering::SeqCst), 1, "the future was dropped");
}

#[tokio::test(start_paused = true)]
async fn test_taskgroup_finished() {
    for start in STARTS {
        create_task_after_tg_finish(start).await;
    }
}

#[test]
fn test_coro_closed_when_tg_closed() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    for start in STARTS {
        rt.block_on(create_task_after_tg_finish(start));
    }
}

// ---------------------------------------------------------------------------------------------
// test_cancelling_level_preserved (adapted: the owner's cancellation is the token the group is
// cancelled on; `cancelling() == 0` is: the group's failure did not cancel it)
// ---------------------------------------------------------------------------------------------

async fn cancelling_level_preserved(clock: Clock, start: Start) {
    let current_task = CancellationToken::new();
    let err = Scope::new(start)
        .cancel_on(current_task.clone())
        .run(async |tg: &mut TaskGroup| {
            tg.spawn_fallible(crash_after(clock, 0.0, "RuntimeError"))?;
            Ok(())
        })
        .await
        .expect_err("an ExceptionGroup");
    // except* RuntimeError: pass
    assert_eq!(kinds(&err), set(["RuntimeError"]));
    assert!(!current_task.is_cancelled(), "cancelling() == 0");
}

#[tokio::test(start_paused = true)]
async fn test_cancelling_level_preserved() {
    paused(cancelling_level_preserved).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_cancelling_level_preserved_multi_thread() {
    multi_thread(cancelling_level_preserved).await;
}

// ---------------------------------------------------------------------------------------------
// test_nested_groups_both_cancelled (adapted: the outer body is cooperative, so the outer
// group's cancellation of it is a request, and `cancelling() == 1` inside it is its request
// count; `== 0` after the group is "the owner's token is not cancelled". Paused clock only:
// both children fail after sleep(0), and the check needs both failures in)
// ---------------------------------------------------------------------------------------------

async fn nested_groups_both_cancelled(clock: Clock, start: Start) {
    let current_task = CancellationToken::new();
    let err = Scope::new(start)
        .cooperative()
        .cancel_on(current_task.clone())
        .run(async |outer_tg: &mut TaskGroup| {
            let req = outer_tg.cancel_request();
            let outer = outer_tg.handle();
            let inner = Scope::new(start)
                .parent(&outer)
                .run(async |inner_tg: &mut TaskGroup| {
                    inner_tg.spawn_fallible(crash_after(clock, 0.0, "RuntimeError"))?;
                    outer.spawn_fallible(crash_after(clock, 0.0, "ValueError"))?;
                    Ok(())
                })
                .await;
            // except* RuntimeError: pass; else: fail
            let inner = inner.expect_err("RuntimeError not raised");
            assert_eq!(kinds(&inner), set(["RuntimeError"]));
            assert_eq!(req.cancelling(), 1);
            Ok(())
        })
        .await
        .expect_err("ValueError not raised");
    // except* ValueError: pass
    assert_eq!(kinds(&err), set(["ValueError"]));
    assert!(!current_task.is_cancelled(), "cancelling() == 0");
}

#[tokio::test(start_paused = true)]
async fn test_nested_groups_both_cancelled() {
    paused(nested_groups_both_cancelled).await;
}

// ---------------------------------------------------------------------------------------------
// test_error_and_cancel (adapted: `t.cancel()` is the token `t`'s group is cancelled on, which
// `t` also selects on for its own sleep after the group; `cancelling()` is whether that token is
// cancelled. asyncio's loop runs `outer` between the child's `event.set()` and its raise (the
// child's `sleep(0)` queues it behind `outer`); tokio's `yield_now` does not promise that, so
// the child waits for `go`, which `outer` sets together with `t.cancel()`, as in that loop turn)
// ---------------------------------------------------------------------------------------------

async fn error_and_cancel(clock: Clock, start: Start) {
    let event = Arc::new(Notify::new());
    let go = Arc::new(Notify::new());
    let t_cancel = CancellationToken::new();

    let inner = {
        let (event, go, t_cancel) = (event.clone(), go.clone(), t_cancel.clone());
        async move {
            let group = Scope::new(start)
                .cancel_on(t_cancel.clone())
                .run(async move |tg: &mut TaskGroup| {
                    tg.spawn_fallible(async move {
                        event.notify_one();
                        go.notified().await; // asyncio.sleep(0): outer runs first
                        Err::<(), _>(anyhow!("RuntimeError"))
                    })?;
                    clock.sleep(1.0).await;
                    Err::<(), _>(anyhow!(
                        "AssertionError: Sleep in group should have been cancelled"
                    ))
                })
                .await;
            match group {
                Ok(()) => unreachable!("the body never returns Ok"),
                // The cancellation came first: the group ends cancelled, and CancelledError
                // propagates out of `inner` (`except*` does not match).
                Err(e) if e.failures.is_empty() => {
                    assert!(e.cancelled, "{e}");
                    // On one thread the order is asyncio's: the child fails before the group
                    // sees the cancellation, so this path is only taken with two threads.
                    assert!(matches!(clock, Clock::Real), "the child's error was lost");
                    return Err(TaskError::Cancelled(None));
                }
                // except* RuntimeError:
                Err(e) => {
                    assert_eq!(kinds(&e), set(["RuntimeError"]));
                    assert!(t_cancel.is_cancelled(), "cancelling() == 1");
                }
            }
            assert!(t_cancel.is_cancelled(), "cancelling() == 1");
            tokio::select! {
                () = clock.sleep(1.0) => panic!("Sleep after group should have been cancelled"),
                () = t_cancel.cancelled() => Err::<(), _>(TaskError::Cancelled(None)),
            }
        }
    };

    // outer()
    let t = tokio::spawn(inner);
    event.notified().await;
    assert!(!t_cancel.is_cancelled(), "t.cancelling() == 0");
    match clock {
        // One thread: nothing runs between these two lines, and the child, woken first, takes
        // its step before `t` sees the cancellation, as in asyncio's loop turn.
        Clock::Paused => {
            go.notify_one();
            t_cancel.cancel();
        }
        // Two threads: the child could fail and its group end between the two lines, before
        // the cancellation exists, which asyncio never does; cancel first.
        Clock::Real => {
            t_cancel.cancel();
            go.notify_one();
        }
    }
    assert!(t_cancel.is_cancelled(), "t.cancelling() == 1");
    let ended = t.await.expect("inner does not panic");
    assert_eq!(ended, Err(TaskError::Cancelled(None)), "t.cancelled()");
}

#[tokio::test(start_paused = true)]
async fn test_error_and_cancel() {
    paused(error_and_cancel).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_error_and_cancel_multi_thread() {
    multi_thread(error_and_cancel).await;
}
