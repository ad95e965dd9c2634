//! CPython 3.13's `BarrierTests` (`Lib/test/test_asyncio/test_locks.py`), ported test by test.
//!
//! Each test keeps CPython's name, scenario and assertions, on tokio's current-thread runtime so
//! that tasks run in the order asyncio's loop runs them, and on its paused clock (see
//! [`gather`]). The translation:
//!
//! - `self.N` (set in `asyncSetUp`) is [`N`]; tests that set `self.N = 3` use a local `n`.
//! - A `Task` is a spawned task, `task.cancel()` is `abort()`, `task.done()` is
//!   `is_finished()`, `asyncio.gather` awaits every handle in turn ([`gather`]); an exception
//!   nobody catches in a task is a panic (`unwrap`), which fails the gather as it does in Python.
//! - `async with barrier as i` is `let i = barrier.wait().await`: `Barrier.__aexit__` does
//!   nothing, so the context manager is `wait()` and nothing else.
//! - `await barrier.reset()` and `await barrier.abort()` are plain calls: in asyncio they only
//!   take the barrier's condition lock, which no task holds across a suspension, so they never
//!   suspend either.
//! - `repr(barrier)` is the crate's `Display`, which prints Python's format.
//! - The coroutines' shared state (the barrier, the `results` lists, `nonlocal` counters) is
//!   leaked to `&'static` ([`shared`]), so tasks share it by reference as Python's closures do.
//! - `await asyncio.sleep(0)` is [`sleep0`]; see there for the one place where it differs.
//!
//! Nothing of `BarrierTests` is left out; the parts that have no runtime counterpart in Rust (a
//! negative party count, awaiting the barrier object itself) are said where they occur.
#![allow(clippy::unwrap_used)]

use std::future::{Future, IntoFuture};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use barrier::{Barrier, BrokenBarrierError};
use tokio::task::JoinHandle;

/// `self.N` of `asyncSetUp`.
const N: usize = 5;

/// `await asyncio.sleep(0)`.
///
/// asyncio's `sleep(0)` gives one turn to each task that is ready at that moment. tokio's
/// `yield_now` in the test body also lets the tasks that those turns wake run, until no task is
/// ready; the assertions see the same states except where asyncio looks in between, before the
/// woken tasks have run: that is [`after_ready_tasks`].
async fn sleep0() {
    tokio::task::yield_now().await;
}

/// What `look` returns at the point where asyncio's test body is after `await asyncio.sleep(0)`:
/// a task spawned now is queued behind every task ready now and ahead of every task they wake
/// (the current-thread run queue is first in, first out), as the test body is in asyncio's.
async fn after_ready_tasks<R: Send + 'static>(look: impl FnOnce() -> R + Send + 'static) -> R {
    tokio::spawn(async move { look() }).await.unwrap()
}

/// State shared by a test's tasks, for the length of the test process.
fn shared<T: Send + Sync>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// A Python list the tasks append to.
#[derive(Debug, Default)]
struct Results<T>(Mutex<Vec<T>>);

impl<T: Clone> Results<T> {
    fn append(&self, value: T) {
        self.0.lock().unwrap().push(value);
    }

    fn get(&self) -> Vec<T> {
        self.0.lock().unwrap().clone()
    }
}

/// `BarrierTests.make_tasks`.
fn make_tasks<F, Fut>(n: usize, coro: F) -> Vec<JoinHandle<Fut::Output>>
where
    F: Fn() -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    (0..n).map(|_| tokio::spawn(coro())).collect()
}

/// `asyncio.gather(*tasks)`: every task's result, in order; a task that failed fails it.
///
/// Every test here runs on the paused clock, which no test reads: it only moves once every
/// task waits. So tasks that would wait on a barrier for ever fail the test at once, with the
/// clock jumped to this deadline, where they would hang `cargo test`.
async fn gather<T>(tasks: Vec<JoinHandle<T>>) -> Vec<T> {
    let all = async {
        let mut results = Vec::with_capacity(tasks.len());
        for task in tasks {
            results.push(task.await.expect("a gathered task failed"));
        }
        results
    };
    tokio::time::timeout(Duration::from_secs(3600), all)
        .await
        .expect("the gathered tasks never all ended: some wait on the barrier for ever")
}

/// `BarrierTests.gather_tasks` (the tasks themselves are not used by any test).
async fn gather_tasks<F, Fut>(n: usize, coro: F) -> Vec<Fut::Output>
where
    F: Fn() -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    gather(make_tasks(n, coro)).await
}

/// `RGX_REPR.match(repr)`, for the alternatives a barrier can show:
/// `^<(?P<class>.*?) object at (?P<address>.*?)\[(?P<extras>STATE(, waiters:\d+\/\d+)?)\]>\Z`
/// (the regex's `value:` and plain `waiters:` groups belong to the other primitives).
fn rgx_repr_matches(repr: &str) -> bool {
    const STATES: [&str; 8] = [
        "set",
        "unset",
        "locked",
        "unlocked",
        "filling",
        "draining",
        "resetting",
        "broken",
    ];
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let Some(rest) = repr.strip_prefix('<') else {
        return false;
    };
    let Some((_class, rest)) = rest.split_once(" object at ") else {
        return false;
    };
    let Some((_address, rest)) = rest.split_once('[') else {
        return false;
    };
    let Some(extras) = rest.strip_suffix("]>") else {
        return false;
    };
    let (state, waiters) = match extras.split_once(", waiters:") {
        Some((state, waiters)) => (state, Some(waiters)),
        None => (extras, None),
    };
    STATES.contains(&state)
        && waiters.is_none_or(|w| {
            w.split_once('/')
                .is_some_and(|(a, b)| digits(a) && digits(b))
        })
}

/// The two exceptions the coroutines of the abort tests end with.
#[derive(Debug)]
enum Raised {
    BrokenBarrierError,
    RuntimeError,
}

impl From<BrokenBarrierError> for Raised {
    fn from(_: BrokenBarrierError) -> Self {
        Raised::BrokenBarrierError
    }
}

/// Compiles only for a type that cannot be awaited: for one that is `IntoFuture`, the second
/// impl applies as well, and `<T as NotAwaitable<_>>` is ambiguous.
trait NotAwaitable<Which> {
    fn check() {}
}
impl<T: ?Sized> NotAwaitable<()> for T {}
#[derive(Debug)]
struct Awaitable;
impl<T: ?Sized + IntoFuture> NotAwaitable<Awaitable> for T {}

#[tokio::test(start_paused = true)]
async fn test_barrier() {
    let barrier = Barrier::new(N);
    assert!(barrier.to_string().contains("filling"));
    // `await barrier` raises "TypeError: object Barrier can't be used in 'await' expression".
    // Here `barrier.await` does not compile; these lines check that, for the barrier and for a
    // reference to it.
    <Barrier as NotAwaitable<_>>::check();
    <&Barrier as NotAwaitable<_>>::check();
    assert!(barrier.to_string().contains("filling"));
}

#[tokio::test(start_paused = true)]
async fn test_repr() {
    let barrier = shared(Barrier::new(N));

    assert!(rgx_repr_matches(&barrier.to_string()), "{barrier}");
    assert!(barrier.to_string().contains("filling"));

    let mut waiters = Vec::new();

    let incr = 2;
    for _ in 0..incr {
        waiters.push(tokio::spawn(barrier.wait()));
    }
    sleep0().await;

    let repr = barrier.to_string();
    assert!(rgx_repr_matches(&repr), "{repr}");
    assert!(repr.contains(&format!("waiters:{incr}/{N}")), "{repr}");
    assert!(repr.contains("filling"));

    // create missing waiters
    for _ in 0..barrier.parties() - barrier.n_waiting() {
        waiters.push(tokio::spawn(barrier.wait()));
    }
    // The last of them releases the barrier; asyncio's test body runs before the released
    // waiters leave, while it drains (after a `yield_now` they would have left: filling).
    let repr = after_ready_tasks(|| barrier.to_string()).await;

    assert!(rgx_repr_matches(&repr), "{repr}");
    assert!(repr.contains("draining"), "{repr}");

    // add a part of waiters
    for _ in 0..incr {
        waiters.push(tokio::spawn(barrier.wait()));
    }
    sleep0().await;
    // and reset
    barrier.reset();

    let repr = barrier.to_string();
    assert!(rgx_repr_matches(&repr), "{repr}");
    assert!(repr.contains("resetting"), "{repr}");

    // add a part of waiters again
    for _ in 0..incr {
        waiters.push(tokio::spawn(barrier.wait()));
    }
    sleep0().await;
    // and abort
    barrier.abort();

    let repr = barrier.to_string();
    assert!(rgx_repr_matches(&repr), "{repr}");
    assert!(repr.contains("broken"), "{repr}");
    assert!(barrier.broken());

    // suppress unhandled exceptions (`gather(..., return_exceptions=True)`)
    let _ = gather(waiters).await;
}

#[tokio::test(start_paused = true)]
async fn test_barrier_parties() {
    // `ValueError` is a panic here, with Python's message.
    let refused = std::panic::catch_unwind(|| Barrier::new(0)).unwrap_err();
    let message = (refused.downcast_ref::<&str>().copied())
        .or_else(|| refused.downcast_ref::<String>().map(String::as_str));
    assert_eq!(message, Some("parties must be > 0"));
    // `asyncio.Barrier(-4)`: `parties` is a `usize`, a negative count does not compile.

    // assertIsInstance: the constructor's type says it; check it is the barrier asked for.
    let barrier: Barrier = Barrier::new(N);
    assert_eq!(barrier.parties(), N);
}

#[tokio::test(start_paused = true)]
async fn test_context_manager() {
    let n = 3;
    let barrier = shared(Barrier::new(n));
    let results = shared(Results::default());

    gather_tasks(n, move || async move {
        let i = barrier.wait().await.unwrap();
        results.append(i);
    })
    .await;

    let mut sorted = results.get();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..n).collect::<Vec<_>>());
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[tokio::test(start_paused = true)]
async fn test_filling_one_task() {
    let barrier = Barrier::new(1);

    let f = async {
        let _i = barrier.wait().await.unwrap();
        true
    };

    let ret = f.await;

    assert!(ret);
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[tokio::test(start_paused = true)]
async fn test_filling_one_task_twice() {
    let barrier = shared(Barrier::new(1));

    let t1 = tokio::spawn(barrier.wait());
    sleep0().await;
    assert_eq!(barrier.n_waiting(), 0);

    let t2 = tokio::spawn(barrier.wait());
    sleep0().await;

    // `t1.result()` raises unless t1 is done; both must be done to compare results.
    assert!(t1.is_finished() && t2.is_finished());
    assert_eq!(t1.is_finished(), t2.is_finished());
    assert_eq!(t1.await.unwrap(), t2.await.unwrap());

    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[tokio::test(start_paused = true)]
async fn test_filling_task_by_task() {
    let n = 3;
    let barrier = shared(Barrier::new(n));

    let t1 = tokio::spawn(barrier.wait());
    sleep0().await;
    assert_eq!(barrier.n_waiting(), 1);
    assert!(barrier.to_string().contains("filling"));

    let t2 = tokio::spawn(barrier.wait());
    sleep0().await;
    assert_eq!(barrier.n_waiting(), 2);
    assert!(barrier.to_string().contains("filling"));

    let t3 = tokio::spawn(barrier.wait());
    sleep0().await;

    // `asyncio.wait`: waits for the tasks, does not look at their results.
    let _ = gather(vec![t1, t2, t3]).await;

    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[tokio::test(start_paused = true)]
async fn test_filling_tasks_wait_twice() {
    let barrier = shared(Barrier::new(N));
    let results = shared(Results::default());

    gather_tasks(N, move || async move {
        barrier.wait().await.unwrap();
        results.append(true);

        barrier.wait().await.unwrap();
        results.append(false);
    })
    .await;

    let results = results.get();
    assert_eq!(results.len(), N * 2);
    assert_eq!(results.iter().filter(|&&r| r).count(), N);
    assert_eq!(results.iter().filter(|&&r| !r).count(), N);

    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[tokio::test(start_paused = true)]
async fn test_filling_tasks_check_return_value() {
    let barrier = shared(Barrier::new(N));
    let results1 = shared(Results::default());
    let results2 = shared(Results::default());

    let mut res = gather_tasks(N, move || async move {
        barrier.wait().await.unwrap();
        results1.append(true);

        let i = barrier.wait().await.unwrap();
        results2.append(true);
        i
    })
    .await;

    assert_eq!(results1.get().len(), N);
    assert!(results1.get().iter().all(|&r| r));
    assert_eq!(results2.get().len(), N);
    assert!(results2.get().iter().all(|&r| r));
    res.sort_unstable();
    assert_eq!(res, (0..N).collect::<Vec<_>>());

    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[tokio::test(start_paused = true)]
async fn test_draining_state() {
    let barrier = shared(Barrier::new(N));
    let results = shared(Results::default());

    gather_tasks(N, move || async move {
        barrier.wait().await.unwrap();
        // barrier state change to filling for the last task release
        results.append(barrier.to_string().contains("draining"));
    })
    .await;

    let results = results.get();
    assert_eq!(results.len(), N);
    assert!(!results[N - 1]);
    assert!(results[..N - 1].iter().all(|&r| r));

    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[tokio::test(start_paused = true)]
async fn test_blocking_tasks_while_draining() {
    let rewait = 2;
    let barrier = shared(Barrier::new(N));
    let barrier_nowaiting = shared(Barrier::new(N - rewait));
    let rewait_n = shared(AtomicUsize::new(rewait));
    // (The original's `results` and `counter` are never used.)

    gather_tasks(N, move || async move {
        // first time waiting
        barrier.wait().await.unwrap();

        // after wainting once for all tasks
        if rewait_n
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            // wait again only for rewait tasks
            barrier.wait().await.unwrap();
        } else {
            // wait for end of draining state
            barrier_nowaiting.wait().await.unwrap();
            // wait for other waiting tasks
            barrier.wait().await.unwrap();
        }
    })
    .await;
    // a success means that barrier_nowaiting was waited for exactly N-rewait=3 times
}

#[tokio::test(start_paused = true)]
async fn test_filling_tasks_cancel_one() {
    let n = 3;
    let barrier = shared(Barrier::new(n));
    let results = shared(Results::default());

    let coro = move || async move {
        barrier.wait().await.unwrap();
        results.append(true);
    };

    let t1 = tokio::spawn(coro());
    sleep0().await;
    assert_eq!(barrier.n_waiting(), 1);

    let t2 = tokio::spawn(coro());
    sleep0().await;
    assert_eq!(barrier.n_waiting(), 2);

    t1.abort();
    sleep0().await;
    assert_eq!(barrier.n_waiting(), 1);
    // `await t1` raises CancelledError, and `t1.cancelled()`.
    assert!(t1.await.unwrap_err().is_cancelled());

    let t3 = tokio::spawn(coro());
    sleep0().await;
    assert_eq!(barrier.n_waiting(), 2);

    let t4 = tokio::spawn(coro());
    gather(vec![t2, t3, t4]).await;

    assert_eq!(results.get().len(), n);
    assert!(results.get().iter().all(|&r| r));

    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[tokio::test(start_paused = true)]
async fn test_reset_barrier() {
    let barrier = shared(Barrier::new(1));

    tokio::spawn(async move { barrier.reset() });
    sleep0().await;

    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[tokio::test(start_paused = true)]
async fn test_reset_barrier_while_tasks_waiting() {
    let barrier = shared(Barrier::new(N));
    let results = shared(Results::default());

    let coro = move || async move {
        if let Err(BrokenBarrierError) = barrier.wait().await {
            results.append(true);
        }
    };

    let coro_reset = move || async move { barrier.reset() };

    // N-1 tasks waiting on barrier with N parties
    let tasks = make_tasks(N - 1, coro);
    sleep0().await;

    // reset the barrier
    tokio::spawn(coro_reset());
    gather(tasks).await;

    assert_eq!(results.get().len(), N - 1);
    assert!(results.get().iter().all(|&r| r));
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.to_string().contains("resetting"));
    assert!(!barrier.broken());
}

#[tokio::test(start_paused = true)]
async fn test_reset_barrier_when_tasks_half_draining() {
    let barrier = shared(Barrier::new(N));
    let results1 = shared(Results::default());
    let rest_of_tasks = N / 2;
    // The original reads `barrier._count`, the tasks inside `wait()`, which the crate does not
    // expose. Every task here enters `wait()` once, so it is N less the tasks that have come
    // out of it, which the tasks count themselves as they come out.
    let came_out = shared(AtomicUsize::new(0));

    gather_tasks(N, move || async move {
        let outcome = barrier.wait().await;
        let count = N - (came_out.fetch_add(1, SeqCst) + 1);
        match outcome {
            // catch here waiting tasks
            Err(BrokenBarrierError) => results1.append(true),
            // here drained task outside the barrier
            Ok(_) => {
                if rest_of_tasks == count {
                    // tasks outside the barrier
                    barrier.reset();
                }
            }
        }
    })
    .await;

    assert_eq!(results1.get(), vec![true; rest_of_tasks]);
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.to_string().contains("resetting"));
    assert!(!barrier.broken());
}

#[tokio::test(start_paused = true)]
async fn test_reset_barrier_when_tasks_half_draining_half_blocking() {
    let barrier = shared(Barrier::new(N));
    let results1 = shared(Results::default());
    let results2 = shared(Results::<bool>::default());
    let blocking_tasks = N / 2;
    let count = shared(AtomicUsize::new(0));

    gather_tasks(N, move || async move {
        match barrier.wait().await {
            Err(BrokenBarrierError) => {
                // here catch still waiting tasks
                results1.append(true);

                // so now waiting again to reach nb_parties
                barrier.wait().await.unwrap();
            }
            Ok(_) => {
                if count.fetch_add(1, SeqCst) + 1 > blocking_tasks {
                    // reset now: raise asyncio.BrokenBarrierError for waiting tasks
                    barrier.reset();

                    // so now waiting again to reach nb_parties
                    barrier.wait().await.unwrap();
                } else if let Err(BrokenBarrierError) = barrier.wait().await {
                    // here no catch - blocked tasks go to wait
                    results2.append(true);
                }
            }
        }
    })
    .await;

    assert_eq!(results1.get(), vec![true; blocking_tasks]);
    assert_eq!(results2.get(), vec![]);
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.to_string().contains("resetting"));
    assert!(!barrier.broken());
}

#[tokio::test(start_paused = true)]
async fn test_reset_barrier_while_tasks_waiting_and_waiting_again() {
    let barrier = shared(Barrier::new(N));
    let results1 = shared(Results::default());
    let results2 = shared(Results::default());

    let coro1 = move || async move {
        if let Err(BrokenBarrierError) = barrier.wait().await {
            results1.append(true);
        }
        // finally:
        barrier.wait().await.unwrap();
        results2.append(true);
    };

    let coro2 = move || async move {
        barrier.wait().await.unwrap();
        results2.append(true);
    };

    let tasks = make_tasks(N - 1, coro1);

    // reset barrier, N-1 waiting tasks raise an BrokenBarrierError
    tokio::spawn(async move { barrier.reset() });
    sleep0().await;

    // complete waiting tasks in the `finally`
    tokio::spawn(coro2());

    gather(tasks).await;

    assert!(!barrier.broken());
    assert_eq!(results1.get().len(), N - 1);
    assert!(results1.get().iter().all(|&r| r));
    assert_eq!(results2.get().len(), N);
    assert!(results2.get().iter().all(|&r| r));

    assert_eq!(barrier.n_waiting(), 0);
}

#[tokio::test(start_paused = true)]
async fn test_reset_barrier_while_tasks_draining() {
    let barrier = shared(Barrier::new(N));
    let results1 = shared(Results::default());
    let results2 = shared(Results::default());
    let results3 = shared(Results::default());
    let count = shared(AtomicUsize::new(0));

    gather_tasks(N, move || async move {
        let _i = barrier.wait().await.unwrap();
        if count.fetch_add(1, SeqCst) + 1 == N {
            // last task exited from barrier
            barrier.reset();

            // wait here to reach the `parties`
            barrier.wait().await.unwrap();
        } else {
            match barrier.wait().await {
                // second waiting: N-1 tasks here
                Ok(_) => results1.append(true),
                // never goes here
                Err(BrokenBarrierError) => results2.append(true),
            }
        }

        // Now, pass the barrier again
        // last wait, must be completed
        let _k = barrier.wait().await.unwrap();
        results3.append(true);
    })
    .await;

    assert!(!barrier.broken());
    assert!(results1.get().iter().all(|&r| r));
    assert_eq!(results1.get().len(), N - 1);
    assert_eq!(results2.get().len(), 0);
    assert_eq!(results3.get().len(), N);
    assert!(results3.get().iter().all(|&r| r));

    assert_eq!(barrier.n_waiting(), 0);
}

#[tokio::test(start_paused = true)]
async fn test_abort_barrier() {
    let barrier = shared(Barrier::new(1));

    tokio::spawn(async move { barrier.abort() });
    sleep0().await;

    assert_eq!(barrier.n_waiting(), 0);
    assert!(barrier.broken());
}

#[tokio::test(start_paused = true)]
async fn test_abort_barrier_when_tasks_half_draining_half_blocking() {
    let barrier = shared(Barrier::new(N));
    let results1 = shared(Results::default());
    let results2 = shared(Results::default());
    let blocking_tasks = N / 2;
    let count = shared(AtomicUsize::new(0));

    gather_tasks(N, move || async move {
        match barrier.wait().await {
            // here catch tasks waiting to drain
            Err(BrokenBarrierError) => results1.append(true),
            Ok(_) => {
                if count.fetch_add(1, SeqCst) + 1 > blocking_tasks {
                    // abort now: raise asyncio.BrokenBarrierError for all tasks
                    barrier.abort();
                } else if let Err(BrokenBarrierError) = barrier.wait().await {
                    // here catch blocked tasks (already drained)
                    results2.append(true);
                }
            }
        }
    })
    .await;

    assert!(barrier.broken());
    assert_eq!(results1.get(), vec![true; blocking_tasks]);
    assert_eq!(results2.get(), vec![true; N - blocking_tasks - 1]);
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.to_string().contains("resetting"));
}

/// The first part of both `test_abort_barrier_when_exception` tests' coroutine: the task that
/// arrives at `N / 2` raises `RuntimeError` and aborts the barrier (its `except`); the others
/// append to `results1` once past the barrier twice, or to `results2` if it broke first.
async fn raise_at_half_or_wait_twice(
    barrier: &Barrier,
    results1: &Results<bool>,
    results2: &Results<bool>,
) {
    let body = async {
        let i = barrier.wait().await?;
        if i == N / 2 {
            return Err(Raised::RuntimeError);
        }
        barrier.wait().await?;
        results1.append(true);
        Ok(())
    };
    match body.await {
        Ok(()) => {}
        Err(Raised::BrokenBarrierError) => results2.append(true),
        Err(Raised::RuntimeError) => barrier.abort(),
    }
}

#[tokio::test(start_paused = true)]
async fn test_abort_barrier_when_exception() {
    // test from threading.Barrier: see `lock_tests.test_reset`
    let barrier = shared(Barrier::new(N));
    let results1 = shared(Results::default());
    let results2 = shared(Results::default());

    gather_tasks(N, move || {
        raise_at_half_or_wait_twice(barrier, results1, results2)
    })
    .await;

    assert!(barrier.broken());
    assert_eq!(results1.get().len(), 0);
    assert_eq!(results2.get().len(), N - 1);
    assert!(results2.get().iter().all(|&r| r));
    assert_eq!(barrier.n_waiting(), 0);
}

#[tokio::test(start_paused = true)]
async fn test_abort_barrier_when_exception_then_resetting() {
    // test from threading.Barrier: see `lock_tests.test_abort_and_reset`
    let barrier1 = shared(Barrier::new(N));
    let barrier2 = shared(Barrier::new(N));
    let results1 = shared(Results::default());
    let results2 = shared(Results::default());
    let results3 = shared(Results::default());

    gather_tasks(N, move || async move {
        raise_at_half_or_wait_twice(barrier1, results1, results2).await;

        // Synchronize and reset the barrier.  Must synchronize first so
        // that everyone has left it when we reset, and after so that no
        // one enters it before the reset.
        let i = barrier2.wait().await.unwrap();
        if i == N / 2 {
            barrier1.reset();
        }
        barrier2.wait().await.unwrap();
        barrier1.wait().await.unwrap();
        results3.append(true);
    })
    .await;

    assert!(!barrier1.broken());
    assert_eq!(results1.get().len(), 0);
    assert_eq!(results2.get().len(), N - 1);
    assert!(results2.get().iter().all(|&r| r));
    assert_eq!(results3.get().len(), N);
    assert!(results3.get().iter().all(|&r| r));

    assert_eq!(barrier1.n_waiting(), 0);
}
