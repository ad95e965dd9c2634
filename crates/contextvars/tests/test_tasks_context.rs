//! The context tests of CPython's `Lib/test/test_asyncio/test_tasks.py` (`test_context_1` …
//! `test_context_6`), ported with their names: a task gets a copy of its creator's context,
//! or runs in the context it is given.
//!
//! `asyncio.create_task(coro)` is `contextvars::spawn(fut)`; `create_task(coro, context=ctx)`
//! is a task polling `ctx.scope_mut(fut)` (it hands `ctx` back when done, as Python's shared
//! `ctx` object shows the task's sets). Python's three ways of making a task (`Task(...)`,
//! `asyncio.create_task`, `loop.create_task`) are one `tokio::spawn` here, so `test_context_4`,
//! `_5` and `_6` are the same test. `asyncio.sleep(0)` is `yield_now()`; other sleeps run on a
//! paused clock. Not ported: `test_get_context` (`task.get_context()`: a `JoinHandle` has no
//! context to give back) and the `decimal` context test of `test_asyncio/test_context.py`.

use std::time::Duration;

use contextvars::{Context, ContextVar};
use tokio::sync::oneshot;
use tokio::task::yield_now;
use tokio::time::sleep;

/// `loop.run_until_complete(task)`: `main` as a task in a context of its own.
async fn run_main<F>(main: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(Context::new().scope(main))
        .await
        .expect("main passed")
}

/// `create_task(coro, context=ctx)`: runs `fut` in `ctx` and gives `ctx` back with the task.
async fn task_in(mut ctx: Context, fut: impl Future<Output = ()> + Send + 'static) -> Context {
    tokio::spawn(async move {
        ctx.scope_mut(fut).await;
        ctx
    })
    .await
    .expect("the task passed")
}

#[tokio::test(start_paused = true)]
async fn test_context_1() {
    static CVAR: ContextVar<&str> = ContextVar::new("cvar", "nope");

    async fn sub() {
        sleep(Duration::from_millis(10)).await;
        assert_eq!(CVAR.get(), "nope");
        CVAR.set("something else").unwrap();
    }

    run_main(async {
        assert_eq!(CVAR.get(), "nope");
        let subtask = contextvars::spawn(sub());
        CVAR.set("yes").unwrap();
        assert_eq!(CVAR.get(), "yes");
        subtask.await.unwrap();
        assert_eq!(CVAR.get(), "yes");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn test_context_2() {
    static CVAR: ContextVar<String> = ContextVar::new("cvar", String::new());

    run_main(async {
        assert_eq!(CVAR.get(), "");

        for j in 0..2 {
            // `fut.add_done_callback(fut_on_done)`: the callback runs in a copy of the
            // task's context when the future completes; its set must not reach the task.
            let (set_result, fut) = oneshot::channel::<()>();
            let (done_tx, done_rx) = oneshot::channel::<()>();
            let on_done = contextvars::spawn(async move {
                done_rx.await.expect("the future completed");
                CVAR.set("something else".into()).unwrap();
            });
            CVAR.set(format!("yes{j}")).unwrap();
            tokio::spawn(async move { set_result.send(()) }); // loop.call_soon(fut.set_result)
            fut.await.unwrap();
            done_tx.send(()).unwrap();
            on_done.await.unwrap();
            assert_eq!(CVAR.get(), format!("yes{j}"));

            for i in 0..3 {
                CVAR.set(format!("yes{i}-{j}")).unwrap();
                sleep(Duration::from_millis(1)).await;
                assert_eq!(CVAR.get(), format!("yes{i}-{j}"));
            }
        }
    })
    .await;

    assert_eq!(CVAR.get(), "");
}

#[tokio::test(start_paused = true)]
async fn test_context_3() {
    // 100 tasks at once, each setting the variable around sleeps of varied length.
    static CVAR: ContextVar<i64> = ContextVar::new("cvar", -1);

    async fn sub(num: i64, mut seed: u64) {
        for i in 0..10 {
            CVAR.set(num + i).unwrap();
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            sleep(Duration::from_micros(1_000 + (seed >> 33) % 49_000)).await;
            assert_eq!(CVAR.get(), num + i);
        }
    }

    run_main(async {
        let tasks: Vec<_> = (0..100u64)
            .map(|n| contextvars::spawn(sub((n % 11) as i64, n)))
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    })
    .await;

    assert_eq!(CVAR.get(), -1);
}

static CVAR_456: ContextVar<i32> = ContextVar::new("cvar", 0);

async fn coro_456(val: i32) {
    yield_now().await;
    CVAR_456.set(val).expect("in a task context");
}

async fn main_456() -> Vec<Option<i32>> {
    let mut ret = Vec::new();
    let ctx = Context::current().expect("main runs in a context");
    ret.push(ctx.get(&CVAR_456));
    let ctx = task_in(ctx, coro_456(1)).await;
    ret.push(ctx.get(&CVAR_456));
    let ctx = task_in(ctx, coro_456(2)).await;
    ret.push(ctx.get(&CVAR_456));
    ret
}

#[tokio::test]
async fn test_context_4() {
    assert_eq!(run_main(main_456()).await, [None, Some(1), Some(2)]);
}

#[tokio::test]
async fn test_context_5() {
    assert_eq!(run_main(main_456()).await, [None, Some(1), Some(2)]);
}

#[tokio::test]
async fn test_context_6() {
    assert_eq!(run_main(main_456()).await, [None, Some(1), Some(2)]);
}

// Beyond CPython's tests: what the crate promises about tokio itself.

#[tokio::test]
async fn a_plain_tokio_spawn_task_has_no_context() {
    static C: ContextVar<u8> = ContextVar::new("c", 0);
    run_main(async {
        C.set(1).unwrap();
        let plain =
            tokio::spawn(async { (C.get(), C.set(2).is_err(), Context::current().is_none()) });
        assert_eq!(plain.await.unwrap(), (0, true, true));
        assert_eq!(C.get(), 1);
    })
    .await;
}

#[tokio::test]
async fn spawn_with_no_current_context_gives_none() {
    static C: ContextVar<u8> = ContextVar::new("c", 0);
    let task = contextvars::spawn(async { (Context::current().is_none(), C.set(1).is_err()) });
    assert_eq!(task.await.unwrap(), (true, true));
}

#[test]
fn a_scoped_task_keeps_its_context_across_worker_threads() {
    static C: ContextVar<usize> = ContextVar::new("c", 0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (1..=50)
            .map(|n| {
                tokio::spawn(Context::new().scope(async move {
                    C.set(n).unwrap();
                    for _ in 0..20 {
                        yield_now().await;
                        assert_eq!(C.get(), n);
                    }
                    contextvars::spawn(async { C.get() }).await.unwrap()
                }))
            })
            .collect();
        for (n, task) in (1..=50).zip(tasks) {
            assert_eq!(task.await.unwrap(), n);
        }
    });
}

#[tokio::test]
async fn a_panicking_poll_restores_the_previous_context() {
    static C: ContextVar<u8> = ContextVar::new("c", 0);
    run_main(async {
        C.set(1).unwrap();
        let mut inner = Context::new();
        let result = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(
            inner.scope_mut(async {
                C.set(2).unwrap();
                panic!("in the inner poll");
            }),
        ))
        .await;
        assert!(result.is_err());
        assert_eq!(C.get(), 1);
        assert_eq!(inner.get(&C), Some(2));
    })
    .await;
}
