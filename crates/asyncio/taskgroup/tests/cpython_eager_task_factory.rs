//! CPython's `Lib/test/test_asyncio/test_eager_task_factory.py` (3.13), ported: one Rust test
//! per CPython test, named after it. `CONFORMANCE.md` beside this crate lists every CPython test
//! and how it was ported, adapted, or why it cannot be.
//!
//! How asyncio maps here:
//!
//! - A loop with `asyncio.eager_task_factory` is a group with [`Start::Eager`]:
//!   `self.loop.create_task(coro)` is `tg.spawn(fut)`, and `run_coro(run())` runs `run()` as the
//!   body of that group ([`run_coro`]). CPython runs the loop tests once with the Python `Task`
//!   and once with the C one; there is one `Task` here, so they are ported once.
//! - The task-counting classes (`NonEagerTests`, `EagerTests`, and their `PyTask`/`CTask`
//!   twins) become the modules [`non_eager_tests`] and [`eager_tests`]: CPython's counter counts
//!   the tasks created without an eager start, which here are the tasks that ran as tokio tasks
//!   ([`taskgroup::Completed::scheduled`]).
//! - `asyncio.sleep(x)` is [`Clock::sleep`]: virtual time on the current-thread runtime with a
//!   paused clock; on the `_multi_thread` twins (two worker threads, real clock) a sleep of `x`
//!   seconds lasts `x / 100` seconds, so at most a millisecond here.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use contextvars::{Context, ContextVar};
use futures::future::BoxFuture;
use taskgroup::{
    GroupHandle, Scope, Start, TaskError, TaskGroup, TaskId, TaskInfo, all_tasks, current_task,
    gather_tasks,
};
use tokio::sync::oneshot;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

mod common;
use common::bounded;

/// `asyncio.sleep`, on the paused clock or, a hundred times shorter, on the real one.
#[derive(Debug, Clone, Copy)]
enum Clock {
    Paused,
    Real,
}

impl Clock {
    async fn sleep(self, secs: f64) {
        let secs = match self {
            Clock::Paused => secs,
            Clock::Real => secs / 100.0,
        };
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    }
}

/// `run_coro(run())` on a loop with the eager task factory: `run()` is the body of an eager
/// group, and its value is returned once every task of the group has ended.
async fn run_coro<T>(run: impl AsyncFnOnce(&mut TaskGroup) -> anyhow::Result<T>) -> T {
    Scope::new(Start::Eager)
        .run(run)
        .await
        .expect("the group succeeds")
}

/// Counts its drops: the future holding it was dropped (finished, cancelled or refused).
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------------------------
// EagerTaskFactoryLoopTests
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn test_eager_task_factory_set() {
    run_coro(async |g: &mut TaskGroup| {
        // The factory is set: the group starts its tasks eagerly.
        assert_eq!(g.start(), Start::Eager);
        let t = g.spawn(async {})?;
        t.await?;
        Ok(())
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn test_await_future_during_eager_step() {
    let message = run_coro(async |g: &mut TaskGroup| {
        let (fut, rx) = oneshot::channel();
        let t = g.spawn(async move {
            fut.send("my message").expect("the receiver waits");
        })?;
        // The eager step completed the task.
        assert!(t.done());
        Ok(rx.await?)
    })
    .await;
    assert_eq!(message, "my message");
}

#[tokio::test(start_paused = true)]
async fn test_eager_completion() {
    let hello = run_coro(async |g: &mut TaskGroup| {
        let t = g.spawn(async { "hello" })?;
        // The eager step completed the task.
        assert!(t.done());
        Ok(t.await?)
    })
    .await;
    assert_eq!(hello, "hello");
}

/// In asyncio the task cannot finish before `run()` awaits it: the loop has one thread. On two
/// worker threads its sleep (a millisecond) may end and the task finish on the other worker
/// before `run()` looks at `t.done()`, so the task also waits for `checked`, sent once
/// `run()` has looked.
async fn block_after_eager_step(clock: Clock) {
    let (checked, checks_done) = oneshot::channel::<()>();
    let result = run_coro(async |g: &mut TaskGroup| {
        let mut t = g.spawn(async move {
            clock.sleep(0.1).await;
            checks_done.await.expect("run() checks first");
            "finished after blocking"
        })?;
        assert!(!t.done());
        checked.send(()).expect("the task waits for the check");
        let result = (&mut t).await?;
        assert!(t.done());
        Ok(result)
    })
    .await;
    assert_eq!(result, "finished after blocking");
}

#[tokio::test(start_paused = true)]
async fn test_block_after_eager_step() {
    block_after_eager_step(Clock::Paused).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_block_after_eager_step_multi_thread() {
    bounded(block_after_eager_step(Clock::Real)).await;
}

#[tokio::test(start_paused = true)]
async fn test_cancellation_after_eager_completion() {
    let result = run_coro(async |g: &mut TaskGroup| {
        let mut t = g.spawn(async { "finished without blocking" })?;
        t.cancel();
        let result = (&mut t).await?;
        // A finished task cannot be cancelled.
        assert!(!t.cancelled());
        Ok(result)
    })
    .await;
    assert_eq!(result, "finished without blocking");
}

/// In asyncio the task cannot finish before `run()` cancels it: the loop has one thread. On
/// two worker threads its sleep (a millisecond) may end and the task finish on the other
/// worker first, so the task also waits for `cancel_sent`, sent once `run()` has cancelled it
/// (a cancel that did not land lets it finish, and the test fails rather than hangs).
/// `await t` raises `CancelledError` out of `run()` in asyncio; here `run()` returns what the
/// await gave, for the test to check its message.
async fn cancellation_after_eager_step_blocks(clock: Clock) {
    let (cancel_sent, cancelled) = oneshot::channel::<()>();
    let awaited = run_coro(async |g: &mut TaskGroup| {
        let t = g.spawn(async move {
            clock.sleep(0.1).await;
            let _ = cancelled.await;
            "finished after blocking"
        })?;
        t.cancel_with("cancellation message");
        assert!(t.cancelling() > 0);
        let _ = cancel_sent.send(()); // the task is gone if the cancel has landed
        Ok(t.await)
    })
    .await;
    // `await t` raised CancelledError('cancellation message').
    assert_eq!(
        awaited,
        Err(TaskError::Cancelled(Some("cancellation message".into())))
    );
}

#[tokio::test(start_paused = true)]
async fn test_cancellation_after_eager_step_blocks() {
    cancellation_after_eager_step_blocks(Clock::Paused).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_cancellation_after_eager_step_blocks_multi_thread() {
    bounded(cancellation_after_eager_step_blocks(Clock::Real)).await;
}

/// In asyncio `sleep(0.1)` always suspends the task, and `run()` compares ids before the task
/// resumes. On the real clock a millisecond sleep can be over at its first poll (a thread
/// preempted that long), so the task would finish in its eager step and keep no id; it also
/// waits for `checked`, sent once `run()` has compared, which keeps both.
async fn current_task_is_kept(clock: Clock) {
    let captured: Arc<Mutex<Option<TaskId>>> = Arc::default();
    let seen = captured.clone();
    let (checked, checks_done) = oneshot::channel::<()>();
    run_coro(async |g: &mut TaskGroup| {
        let t = g.spawn(async move {
            let me = current_task().expect("inside a runtime");
            *seen.lock().expect("not poisoned") = me;
            // The task is the same before and after blocking.
            clock.sleep(0.1).await;
            checks_done.await.expect("run() checks first");
            assert_eq!(current_task().expect("inside a runtime"), me);
        })?;
        let captured = *captured.lock().expect("not poisoned");
        assert!(captured.is_some());
        assert_eq!(captured, Some(t.id()));
        checked.send(()).expect("the task waits for the check");
        t.await?;
        Ok(())
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn test_current_task() {
    current_task_is_kept(Clock::Paused).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_current_task_multi_thread() {
    bounded(current_task_is_kept(Clock::Real)).await;
}

/// `t in tasks`: the listing has the task `t`.
fn listed(tasks: &[TaskInfo], t: TaskId) -> bool {
    tasks.iter().any(|task| task.id == t)
}

#[tokio::test(start_paused = true)]
async fn test_all_tasks_with_eager_completion() {
    let captured: Arc<Mutex<Option<Vec<TaskInfo>>>> = Arc::default();
    let seen = captured.clone();
    run_coro(async |g: &mut TaskGroup| {
        let t = g.spawn(async move {
            *seen.lock().expect("not poisoned") = Some(all_tasks().expect("inside a runtime"));
        })?;
        let captured_all_tasks = captured
            .lock()
            .expect("not poisoned")
            .take()
            .expect("the eager step ran");
        assert!(
            listed(&captured_all_tasks, t.id()),
            "{captured_all_tasks:?}"
        );
        let all_tasks = all_tasks()?;
        assert!(!listed(&all_tasks, t.id()), "{all_tasks:?}");
        Ok(())
    })
    .await;
}

/// Paused clock only: on two threads the body may look before the task's last step has
/// ended, which asyncio's one thread never lets it.
#[tokio::test(start_paused = true)]
async fn test_all_tasks_with_blocking() {
    let captured: Arc<Mutex<Option<Vec<TaskInfo>>>> = Arc::default();
    let seen = captured.clone();
    run_coro(async |g: &mut TaskGroup| {
        let (fut1, rx1) = oneshot::channel::<()>();
        let (tx2, fut2) = oneshot::channel::<()>();
        let t = g.spawn(async move {
            *seen.lock().expect("not poisoned") = Some(all_tasks().expect("inside a runtime"));
            rx1.await.expect("fut1 is set");
            tx2.send(()).expect("run() waits for fut2");
        })?;
        let captured_eager_all_tasks = captured
            .lock()
            .expect("not poisoned")
            .take()
            .expect("the eager step ran");
        assert!(
            listed(&captured_eager_all_tasks, t.id()),
            "{captured_eager_all_tasks:?}"
        );
        let all = all_tasks()?;
        assert!(listed(&all, t.id()), "{all:?}");
        fut1.send(()).expect("the task waits for fut1");
        fut2.await?;
        let all = all_tasks()?;
        assert!(!listed(&all, t.id()), "{all:?}");
        Ok(())
    })
    .await;
}

static CV: ContextVar<i32> = ContextVar::new("cv", 0);

/// In asyncio the task's second step cannot run before `run()` awaits `t`: the loop has one
/// thread and `run()` does not yield in between. On two worker threads the task's sleep (a
/// millisecond) may end and its second step run on the other worker while `run()` is still
/// on its way to its checks, so the task also waits for `checked`, which `run()` sends once
/// it has checked that the second step has not run.
async fn context_vars(clock: Clock) {
    let first_step_ran = Arc::new(AtomicBool::new(false));
    let second_step_ran = Arc::new(AtomicBool::new(false));
    let (first, second) = (first_step_ran.clone(), second_step_ran.clone());
    let (checked, checks_done) = oneshot::channel::<()>();
    // The loop's main task runs in a context of its own.
    Context::new()
        .scope(run_coro(async |g: &mut TaskGroup| {
            CV.set(1)?;
            let t = g.spawn(async move {
                assert_eq!(CV.get(), 1);
                CV.set(2).expect("the task runs in a context");
                assert_eq!(CV.get(), 2);
                first.store(true, Ordering::SeqCst);
                clock.sleep(0.1).await;
                checks_done.await.expect("run() checks first");
                assert_eq!(CV.get(), 2);
                CV.set(3).expect("the task runs in a context");
                assert_eq!(CV.get(), 3);
                second.store(true, Ordering::SeqCst);
            })?;
            assert!(first_step_ran.load(Ordering::SeqCst));
            assert!(!second_step_ran.load(Ordering::SeqCst));
            assert_eq!(CV.get(), 1);
            checked.send(()).expect("the task waits for the checks");
            t.await?;
            assert!(second_step_ran.load(Ordering::SeqCst));
            assert_eq!(CV.get(), 1);
            Ok(())
        }))
        .await;
}

#[tokio::test(start_paused = true)]
async fn test_context_vars() {
    context_vars(Clock::Paused).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_context_vars_multi_thread() {
    bounded(context_vars(Clock::Real)).await;
}

// ---------------------------------------------------------------------------------------------
// CEagerTaskFactoryLoopTests only
// ---------------------------------------------------------------------------------------------

/// Adapted: CPython swaps a (dummy) current task in and back out through `_swap_current_task`
/// and checks nothing is left behind. Here the eager step swaps the new task in as current and
/// back out: the body sees no current task before and after, also when the step panicked.
#[tokio::test(start_paused = true)]
async fn test_issue105987() {
    let inside = run_coro(async |g: &mut TaskGroup| {
        assert_eq!(current_task().expect("inside a runtime"), None);
        let t = g.spawn(async { current_task().expect("inside a runtime") })?;
        assert_eq!(
            current_task().expect("inside a runtime"),
            None,
            "swapped back out"
        );
        Ok(t.await?)
    })
    .await;
    assert!(inside.is_some(), "swapped in for the eager step");

    let failed = Scope::new(Start::Eager)
        .run(async |g: &mut TaskGroup| {
            g.spawn(async {
                let _ = current_task().expect("inside a runtime");
                panic!("the eager step fails");
            })?;
            assert_eq!(
                current_task().expect("inside a runtime"),
                None,
                "swapped back out after a panic"
            );
            Ok(())
        })
        .await
        .expect_err("the panic is a failure of the group");
    assert_eq!(failed.failures.len(), 1, "{failed}");
    assert_eq!(current_task().expect("inside a runtime"), None);
}

/// Adapted: `task.get_coro()` is `None` once the task is done: the future is dropped as soon
/// as it completes in its eager step, not kept by its handle.
#[tokio::test(start_paused = true)]
async fn test_issue122332() {
    let dropped = Arc::new(AtomicUsize::new(0));
    run_coro(async |g: &mut TaskGroup| {
        let guard = DropCounter(dropped.clone());
        let task = g.spawn(async move {
            let _coro = guard;
        })?;
        task.await?;
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "the coroutine is released"
        );
        Ok(())
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// BaseTaskCountingTests
// ---------------------------------------------------------------------------------------------

/// `async def awaitable_chain(depth)`: a hundred nested awaits, no task.
fn awaitable_chain(depth: u32) -> BoxFuture<'static, u32> {
    Box::pin(async move {
        if depth == 0 {
            return 0;
        }
        1 + awaitable_chain(depth - 1).await
    })
}

/// `async def recursive_taskgroups(width, depth)`: a group per level; returns how many of the
/// subtree's tasks ran as tokio tasks (CPython's count of tasks created without eager start).
fn recursive_taskgroups(width: usize, depth: u32, start: Start) -> BoxFuture<'static, u64> {
    Box::pin(async move {
        if depth == 0 {
            return 0;
        }
        let (futures, done) = Scope::new(start)
            .run_counted(async |tg: &mut TaskGroup| {
                let mut futures = Vec::with_capacity(width);
                for _ in 0..width {
                    futures.push(tg.spawn(recursive_taskgroups(width, depth - 1, start))?);
                }
                Ok(futures)
            })
            .await
            .expect("the group succeeds");
        done.scheduled
            + futures
                .into_iter()
                .map(|t| t.result().expect("every task completed"))
                .sum::<u64>()
    })
}

/// `async def recursive_gather(width, depth)`, counting its calls: `asyncio.gather` of
/// coroutines makes each a task of the loop (with its task factory), here a task of `g`, the
/// group `run_until_complete` runs it in, so that the group counts them all.
fn recursive_gather(
    g: GroupHandle,
    width: usize,
    depth: u32,
    calls: Arc<AtomicUsize>,
) -> BoxFuture<'static, anyhow::Result<()>> {
    Box::pin(async move {
        calls.fetch_add(1, Ordering::SeqCst);
        if depth == 0 {
            return Ok(());
        }
        let tasks = (0..width)
            .map(|_| g.spawn_fallible(recursive_gather(g.clone(), width, depth - 1, calls.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        gather_tasks(tasks).await?;
        Ok(())
    })
}

/// `loop.run_until_complete(coro)`: `coro` as the one task of a group, which starts it as the
/// loop's task factory would. Returns its value and how many of the group's tasks ran as
/// tokio tasks (the root, and those `coro` spawns into the group through the handle it gets).
async fn run_until_complete<T, F>(start: Start, coro: impl FnOnce(GroupHandle) -> F) -> (T, u64)
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let (task, done) = Scope::new(start)
        .run_counted(async |g: &mut TaskGroup| Ok(g.spawn(coro(g.handle()))?))
        .await
        .expect("the group succeeds");
    (task.result().expect("the task completed"), done.scheduled)
}

async fn awaitables_chain(start: Start) {
    let (observed_depth, count) = run_until_complete(start, |_| awaitable_chain(100)).await;
    assert_eq!(observed_depth, 100);
    assert_eq!(count, if start == Start::Eager { 0 } else { 1 });
}

async fn recursive_taskgroups_count(start: Start, expected_task_count: u64) {
    let (nested, count) = run_until_complete(start, |_| recursive_taskgroups(5, 4, start)).await;
    assert_eq!(count + nested, expected_task_count);
}

async fn recursive_gather_count(start: Start, expected_task_count: u64) {
    let calls = Arc::new(AtomicUsize::new(0));
    let (gathered, count) =
        run_until_complete(start, |g| recursive_gather(g, 5, 4, calls.clone())).await;
    gathered.expect("every gather succeeds");
    assert_eq!(calls.load(Ordering::SeqCst), 781, "1 + 5 + 5^2 + 5^3 + 5^4");
    assert_eq!(count, expected_task_count);
}

/// `NonEagerTests` (and `NonEagerPyTaskTests`, `NonEagerCTaskTests`): tasks are scheduled.
mod non_eager_tests {
    use super::*;

    const START: Start = Start::Scheduled;
    /// 1 + 5 + 5^2 + 5^3 + 5^4
    const EXPECTED_TASK_COUNT: u64 = 781;

    #[tokio::test(start_paused = true)]
    async fn test_awaitables_chain() {
        awaitables_chain(START).await;
    }

    #[tokio::test(start_paused = true)]
    async fn test_recursive_taskgroups() {
        recursive_taskgroups_count(START, EXPECTED_TASK_COUNT).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn test_recursive_taskgroups_multi_thread() {
        bounded(recursive_taskgroups_count(START, EXPECTED_TASK_COUNT)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn test_recursive_gather() {
        recursive_gather_count(START, EXPECTED_TASK_COUNT).await;
    }
}

/// `EagerTests` (and `EagerPyTaskTests`, `EagerCTaskTests`): tasks start eagerly.
mod eager_tests {
    use super::*;

    const START: Start = Start::Eager;
    const EXPECTED_TASK_COUNT: u64 = 0;

    #[tokio::test(start_paused = true)]
    async fn test_awaitables_chain() {
        awaitables_chain(START).await;
    }

    #[tokio::test(start_paused = true)]
    async fn test_recursive_taskgroups() {
        recursive_taskgroups_count(START, EXPECTED_TASK_COUNT).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn test_recursive_taskgroups_multi_thread() {
        bounded(recursive_taskgroups_count(START, EXPECTED_TASK_COUNT)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn test_recursive_gather() {
        recursive_gather_count(START, EXPECTED_TASK_COUNT).await;
    }
}
