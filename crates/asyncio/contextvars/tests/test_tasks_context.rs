//! The context tests of CPython's `Lib/test/test_asyncio/test_tasks.py` (`test_context_1` …
//! `test_context_6`), ported with their names: a task gets a copy of its creator's context,
//! or runs in the context it is given.
//!
//! `asyncio.create_task(coro)` is `contextvars::spawn(fut)`; `create_task(coro, context=ctx)`
//! is `tokio::spawn(ctx.clone().scope(fut))` with `ctx` a `SharedContext`, the one context
//! object that both the task and its creator hold, as in Python. Python's three ways of making a task (`Task(...)`,
//! `asyncio.create_task`, `loop.create_task`) are one `tokio::spawn` here, so `test_context_4`,
//! `_5` and `_6` are the same test. `asyncio.sleep(0)` is `yield_now()`; other sleeps run on a
//! paused clock. Not ported: `test_get_context` (`task.get_context()`: a `JoinHandle` has no
//! context to give back) and the `decimal` context test of `test_asyncio/test_context.py`.

use std::time::Duration;

use contextvars::{Context, ContextVar, SharedContext, copy_context};
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
    let ctx = SharedContext::new(copy_context());
    ret.push(ctx.get(&CVAR_456));
    let t1 = tokio::spawn(ctx.clone().scope(coro_456(1)));
    t1.await.expect("t1 passed");
    ret.push(ctx.get(&CVAR_456));
    let t2 = tokio::spawn(ctx.clone().scope(coro_456(2)));
    t2.await.expect("t2 passed");
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

#[tokio::test]
async fn a_panicking_task_in_a_shared_context_leaves_its_sets_there() {
    static C: ContextVar<u8> = ContextVar::new("c", 0);
    let ctx = SharedContext::default();
    let task = tokio::spawn(ctx.clone().scope(async {
        C.set(1).unwrap();
        yield_now().await;
        C.set(2).unwrap();
        panic!("after two sets");
    }));
    assert!(task.await.unwrap_err().is_panic());
    assert_eq!(ctx.get(&C), Some(2));
}

#[tokio::test]
async fn tasks_in_one_shared_context_see_each_others_sets() {
    static C: ContextVar<u32> = ContextVar::new("c", 0);
    let ctx = SharedContext::default();
    let (first_set, second_may_read) = oneshot::channel();
    let (second_set, first_may_read) = oneshot::channel();
    let first = tokio::spawn(ctx.clone().scope(async {
        C.set(1).unwrap();
        first_set.send(()).unwrap();
        first_may_read.await.unwrap();
        C.get()
    }));
    let second = tokio::spawn(ctx.clone().scope(async {
        second_may_read.await.unwrap();
        let seen = C.get();
        C.set(2).unwrap();
        second_set.send(()).unwrap();
        seen
    }));
    assert_eq!((first.await.unwrap(), second.await.unwrap()), (2, 1));
    // A task a shared task spawns with contextvars::spawn gets a copy, as ever.
    let copied = tokio::spawn(
        ctx.clone()
            .scope(async { contextvars::spawn(async { C.set(3).map(|_| C.get()) }).await }),
    );
    assert_eq!(copied.await.unwrap().unwrap(), Ok(3));
    assert_eq!(ctx.get(&C), Some(2));
}

#[test]
fn shared_context_tasks_on_worker_threads_take_turns() {
    static COUNT: ContextVar<u32> = ContextVar::new("count", 0);
    const TASKS: u32 = 40;
    const STEPS: u32 = 10;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let ctx = SharedContext::new(Context::new());
    rt.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                tokio::spawn(ctx.clone().scope(async {
                    for _ in 0..STEPS {
                        let seen = COUNT.get();
                        std::thread::yield_now(); // within one step: the other worker waits
                        COUNT.set(seen + 1).unwrap();
                        yield_now().await;
                    }
                }))
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(ctx.get(&COUNT), Some(TASKS * STEPS));
}
