//! The crate's own behaviour tests, through its public API (CPython's tests are ported beside).

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::anyhow;
use tokio::time::{Instant, sleep};

use std::sync::{Arc, Mutex};

use taskgroup::*;

/// Counts drops: proves a task's future was dropped (cancelled or refused), run or not.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

fn messages(e: &GroupError) -> Vec<String> {
    e.failures.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn eager_task_that_completes_runs_inline_and_is_never_scheduled() {
    let ran = Arc::new(AtomicU32::new(0));
    let (handle, done) = Scope::new(Start::Eager)
        .run_counted(async |tg: &mut TaskGroup| {
            let r = Arc::clone(&ran);
            let handle = tg.spawn(async move {
                r.fetch_add(1, Ordering::SeqCst);
                "done"
            })?;
            // No await since the spawn: only an inline poll can have run the body.
            assert_eq!(ran.load(Ordering::SeqCst), 1);
            Ok(handle)
        })
        .await
        .unwrap();
    assert_eq!(
        done,
        Completed {
            eager: 1,
            scheduled: 0
        }
    );
    assert_eq!(handle.result(), Some("done"));
}

#[tokio::test]
async fn eager_task_that_yields_is_handed_to_the_runtime_and_completes() {
    let steps = Arc::new(AtomicU32::new(0));
    let (handle, done) = Scope::new(Start::Eager)
        .run_counted(async |tg: &mut TaskGroup| {
            let s = Arc::clone(&steps);
            let handle = tg.spawn(async move {
                s.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                s.fetch_add(1, Ordering::SeqCst);
                42
            })?;
            assert_eq!(
                steps.load(Ordering::SeqCst),
                1,
                "ran up to its first suspension, inline"
            );
            Ok(handle)
        })
        .await
        .unwrap();
    assert_eq!(steps.load(Ordering::SeqCst), 2);
    assert_eq!(
        done,
        Completed {
            eager: 0,
            scheduled: 1
        }
    );
    assert_eq!(handle.result(), Some(42));
}

#[tokio::test(start_paused = true)]
async fn eager_task_that_sleeps_wakes_as_a_task_of_its_own() {
    let start = Instant::now();
    // The sleep registers the eager poll's no-op waker first; the runtime's poll must
    // re-register the task's own waker or this scope would never end.
    let (handle, done) = Scope::new(Start::Eager)
        .run_counted(async |tg: &mut TaskGroup| {
            Ok(tg.spawn(async {
                sleep(Duration::from_secs(2)).await;
                tokio::task::try_id()
            })?)
        })
        .await
        .unwrap();
    assert_eq!(done.scheduled, 1);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert!(
        handle.result().flatten().is_some(),
        "after suspending it is a task"
    );
}

#[tokio::test]
async fn eager_first_poll_runs_inside_the_parent_task() {
    let parent = tokio::spawn(async {
        let parent = tokio::task::try_id();
        let seen = scope(Start::Eager, async |tg: &mut TaskGroup| {
            Ok(tg.spawn(async { tokio::task::try_id() })?)
        })
        .await
        .unwrap();
        (parent, seen.result())
    });
    let (parent, seen) = parent.await.unwrap();
    assert!(parent.is_some());
    assert_eq!(seen, Some(parent));
}

#[tokio::test]
async fn eager_tasks_start_in_spawn_order_before_the_parent_goes_on() {
    // Documents the ordering: each eager task runs up to its first suspension inside `spawn`,
    // so first halves run in spawn order, before the body goes on; the second halves run
    // later, when the runtime polls them (here: in spawn order too, on one thread).
    let log = Arc::new(Mutex::new(Vec::new()));
    scope(Start::Eager, async |tg: &mut TaskGroup| {
        for i in 0..3 {
            let log = Arc::clone(&log);
            tg.spawn(async move {
                log.lock().unwrap().push(format!("start {i}"));
                tokio::task::yield_now().await;
                log.lock().unwrap().push(format!("end {i}"));
            })?;
        }
        log.lock().unwrap().push("body".to_owned());
        Ok(())
    })
    .await
    .unwrap();
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log,
        [
            "start 0", "start 1", "start 2", "body", "end 0", "end 1", "end 2"
        ]
    );
}

#[tokio::test]
async fn scheduled_tasks_do_not_run_until_the_body_awaits() {
    let ran = Arc::new(AtomicU32::new(0));
    let ((), done) = Scope::new(Start::Scheduled)
        .run_counted(async |tg: &mut TaskGroup| {
            for _ in 0..10 {
                let r = Arc::clone(&ran);
                tg.spawn(async move {
                    r.fetch_add(1, Ordering::SeqCst);
                })?;
            }
            assert_eq!(
                ran.load(Ordering::SeqCst),
                0,
                "current-thread runtime: nothing ran yet"
            );
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 10);
    assert_eq!(
        done,
        Completed {
            eager: 0,
            scheduled: 10
        }
    );
}

#[tokio::test(start_paused = true)]
async fn scope_waits_for_every_task() {
    for start in [Start::Scheduled, Start::Eager] {
        let begin = Instant::now();
        let (handles, done) = Scope::new(start)
            .run_counted(async |tg: &mut TaskGroup| {
                let mut handles = Vec::new();
                for secs in [3, 1, 2] {
                    handles.push(tg.spawn(async move {
                        sleep(Duration::from_secs(secs)).await;
                        secs
                    })?);
                }
                Ok(handles)
            })
            .await
            .unwrap();
        assert_eq!(done.total(), 3);
        assert_eq!(
            begin.elapsed(),
            Duration::from_secs(3),
            "the sleeps overlap"
        );
        let results: Vec<_> = handles.into_iter().map(TaskHandle::result).collect();
        assert_eq!(results, [Some(3), Some(1), Some(2)], "{start:?}");
    }
}

#[tokio::test]
async fn eager_place_is_reused_across_future_types() {
    // Two future types alternate: the scratch place must switch type each time.
    let ((a, b, c), done) = Scope::new(Start::Eager)
        .run_counted(async |tg: &mut TaskGroup| {
            Ok((
                tg.spawn(async { 1u8 })?,
                tg.spawn(async { String::from("two") })?,
                tg.spawn(async { 3u8 })?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(done.eager, 3);
    assert_eq!(
        (a.result(), b.result(), c.result()),
        (Some(1), Some("two".to_owned()), Some(3))
    );
}

#[tokio::test(start_paused = true)]
async fn first_failure_cancels_siblings_and_the_body() {
    for start in [Start::Scheduled, Start::Eager] {
        let dropped = counter();
        let finished = counter();
        let body_went_on = counter();
        let begin = Instant::now();
        let err = scope(start, async |tg: &mut TaskGroup| {
            for _ in 0..3 {
                let (guard, f) = (DropGuard(Arc::clone(&dropped)), Arc::clone(&finished));
                tg.spawn(async move {
                    let _guard = guard;
                    sleep(Duration::from_secs(10)).await;
                    f.fetch_add(1, Ordering::SeqCst);
                })?;
            }
            tg.spawn_fallible(async {
                sleep(Duration::from_secs(1)).await;
                Err::<(), _>(anyhow!("boom"))
            })?;
            sleep(Duration::from_secs(5)).await;
            body_went_on.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .await
        .unwrap_err();
        assert_eq!(messages(&err), ["boom"], "{start:?}");
        assert_eq!(
            begin.elapsed(),
            Duration::from_secs(1),
            "nothing waited for the sleepers"
        );
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            3,
            "every sibling was dropped"
        );
        assert_eq!(finished.load(Ordering::SeqCst), 0);
        assert_eq!(
            body_went_on.load(Ordering::SeqCst),
            0,
            "the body was cancelled"
        );
    }
}

/// Panics when dropped unfinished: a cleanup that fails while its task is cancelled.
struct FailingCleanup(&'static str);

impl Drop for FailingCleanup {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

#[tokio::test(start_paused = true)]
async fn failures_are_gathered_like_an_exception_group() {
    // The second task fails while it is being cancelled for the first one's failure.
    let err = scope(Start::Scheduled, async |tg: &mut TaskGroup| {
        tg.spawn(async {
            let cleanup = FailingCleanup("second");
            sleep(Duration::from_secs(10)).await;
            std::mem::forget(cleanup);
        })?;
        tg.spawn_fallible(async move {
            sleep(Duration::from_millis(10)).await;
            Err::<(), _>(anyhow!("first"))
        })?;
        Ok(())
    })
    .await
    .unwrap_err();
    assert_eq!(messages(&err), ["first", "panicked: second"]);
    assert_eq!(
        err.to_string(),
        "unhandled errors in a TaskGroup (2 sub-exceptions); first; panicked: second"
    );
}

#[tokio::test]
async fn a_task_not_yet_started_when_the_group_fails_never_starts() {
    let started = counter();
    let err = scope(Start::Scheduled, async |tg: &mut TaskGroup| {
        tg.spawn_fallible(async { Err::<(), _>(anyhow!("first")) })?;
        let s = Arc::clone(&started);
        let second = tg.spawn(async move {
            s.fetch_add(1, Ordering::SeqCst);
        })?;
        Ok(second)
    })
    .await
    .unwrap_err();
    assert_eq!(messages(&err), ["first"]);
    assert_eq!(started.load(Ordering::SeqCst), 0, "asyncio never starts it");
}

#[tokio::test(start_paused = true)]
async fn the_body_error_is_one_of_the_failures() {
    let dropped = counter();
    let err = scope(Start::Eager, async |tg: &mut TaskGroup| {
        let guard = DropGuard(Arc::clone(&dropped));
        tg.spawn(async move {
            let _guard = guard;
            sleep(Duration::from_secs(10)).await;
        })?;
        // A task that fails at once, eagerly, then the body's own error in the same turn.
        tg.spawn_fallible(async { Err::<(), _>(anyhow!("task")) })?;
        Err::<(), _>(anyhow!("body"))
    })
    .await
    .unwrap_err();
    assert_eq!(messages(&err), ["task", "body"]);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the sleeper was cancelled"
    );
}

#[tokio::test]
async fn a_child_panic_is_a_failure() {
    for start in [Start::Scheduled, Start::Eager] {
        let err = scope(start, async |tg: &mut TaskGroup| {
            tg.spawn(async { panic!("child failed") })?;
            Ok(())
        })
        .await
        .unwrap_err();
        assert_eq!(messages(&err), ["panicked: child failed"], "{start:?}");
    }
}

#[tokio::test]
async fn spawn_is_refused_while_shutting_down() {
    let ran = Arc::new(AtomicU32::new(0));
    let dropped = counter();
    let err = scope(Start::Eager, async |tg: &mut TaskGroup| {
        tg.spawn_fallible(async { Err::<(), _>(anyhow!("first")) })?;
        let (r, guard) = (Arc::clone(&ran), DropGuard(Arc::clone(&dropped)));
        let refused = tg.spawn(async move {
            let _guard = guard;
            r.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(refused.unwrap_err(), Refused::ShuttingDown);
        Ok(())
    })
    .await
    .unwrap_err();
    assert_eq!(messages(&err), ["first"]);
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "the refused future never ran"
    );
    assert_eq!(dropped.load(Ordering::SeqCst), 1, "and was dropped");
}

#[tokio::test(start_paused = true)]
async fn cancelling_the_owner_cancels_the_children() {
    for start in [Start::Scheduled, Start::Eager] {
        let dropped = counter();
        let d = Arc::clone(&dropped);
        let owner = tokio::spawn(async move {
            scope(start, async |tg: &mut TaskGroup| {
                for _ in 0..4 {
                    let guard = DropGuard(Arc::clone(&d));
                    tg.spawn(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                    })?;
                }
                std::future::pending::<()>().await;
                Ok(())
            })
            .await
        });
        sleep(Duration::from_secs(1)).await;
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            0,
            "the children are running"
        );
        owner.abort();
        assert!(owner.await.unwrap_err().is_cancelled());
        // Aborts take effect when the runtime next polls the tasks.
        sleep(Duration::from_secs(1)).await;
        assert_eq!(dropped.load(Ordering::SeqCst), 4, "{start:?}");
    }
}

#[test]
fn many_tasks_on_the_multi_thread_runtime() {
    let rt = multi_thread();
    for start in [Start::Scheduled, Start::Eager] {
        let done = rt
            .block_on(rt.spawn(async move {
                Scope::new(start)
                    .run_counted(async |tg: &mut TaskGroup| {
                        for i in 0..2_000u32 {
                            tg.spawn(async move {
                                if i % 2 == 0 {
                                    tokio::task::yield_now().await;
                                }
                            })?;
                        }
                        Ok(())
                    })
                    .await
                    .map(|((), done)| done)
            }))
            .unwrap()
            .unwrap();
        match start {
            Start::Eager => assert_eq!(
                done,
                Completed {
                    eager: 1_000,
                    scheduled: 1_000
                }
            ),
            Start::Scheduled => assert_eq!(
                done,
                Completed {
                    eager: 0,
                    scheduled: 2_000
                }
            ),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_the_body_is_a_failure() {
    let dropped = counter();
    let err = scope(Start::Scheduled, async |tg: &mut TaskGroup| {
        let guard = DropGuard(Arc::clone(&dropped));
        tg.spawn(async move {
            let _guard = guard;
            sleep(Duration::from_secs(10)).await;
        })?;
        tokio::task::yield_now().await;
        if dropped.load(Ordering::SeqCst) == 0 {
            panic!("the body failed");
        }
        Ok(())
    })
    .await
    .unwrap_err();
    assert_eq!(messages(&err), ["panicked: the body failed"]);
    assert!(!err.cancelled);
    assert_eq!(dropped.load(Ordering::SeqCst), 1, "the child was cancelled");
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a runtime")
}

#[test]
fn every_result_is_readable_once_the_scope_returns_on_the_multi_thread_runtime() {
    // The scope's end must imply every handle's value is in place: the task writes it before
    // the group counts the task as ended, on whichever thread it ran.
    let rt = multi_thread();
    for round in 0..300u32 {
        let handles = rt
            .block_on(rt.spawn(async move {
                scope(Start::Scheduled, async |tg: &mut TaskGroup| {
                    (0..8u32)
                        .map(|i| {
                            tg.spawn(async move {
                                if i % 2 == 0 {
                                    tokio::task::yield_now().await;
                                }
                                round * 8 + i
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(Into::into)
                })
                .await
            }))
            .unwrap()
            .unwrap();
        for (i, handle) in (0..).zip(handles) {
            assert!(handle.done(), "round {round}, task {i}");
            assert_eq!(handle.result(), Some(round * 8 + i), "round {round}");
        }
    }
}

#[test]
fn cancelling_through_the_token_returns_after_every_child_has_ended_on_the_multi_thread_runtime() {
    let rt = multi_thread();
    for _ in 0..50 {
        let dropped = counter();
        let running = counter();
        let (d, r) = (Arc::clone(&dropped), Arc::clone(&running));
        let token = tokio_util::sync::CancellationToken::new();
        let t = token.clone();
        let ended = rt.block_on(async move {
            let owner = tokio::spawn(Scope::new(Start::Scheduled).cancel_on(t).run(
                async move |tg: &mut TaskGroup| {
                    for _ in 0..5 {
                        let guard = DropGuard(Arc::clone(&d));
                        let r = Arc::clone(&r);
                        tg.spawn(async move {
                            let _guard = guard;
                            r.fetch_add(1, Ordering::SeqCst);
                            loop {
                                tokio::task::yield_now().await; // busy on the other thread
                            }
                        })?;
                    }
                    std::future::pending::<()>().await;
                    Ok(())
                },
            ));
            // Every child is running (a group cancelled before it starts would run none).
            while running.load(Ordering::SeqCst) < 5 {
                tokio::task::yield_now().await;
            }
            token.cancel();
            owner.await.unwrap()
        });
        let err = ended.unwrap_err();
        assert!(err.cancelled && err.failures.is_empty(), "{err}");
        assert_eq!(dropped.load(Ordering::SeqCst), 5, "every child ended first");
    }
}

static REQUEST: contextvars::ContextVar<u32> = contextvars::ContextVar::new("request", 0);

#[tokio::test]
async fn each_task_runs_in_a_copy_of_its_spawners_context_eager_step_included() {
    for start in [Start::Eager, Start::Scheduled] {
        let mut ctx = contextvars::Context::new();
        let seen = ctx
            .scope_mut(async {
                REQUEST.set(7).unwrap();
                let handles = scope(start, async |tg: &mut TaskGroup| {
                    let first = tg.spawn(async {
                        let at_start = REQUEST.get(); // the eager step, if eager
                        REQUEST.set(8).unwrap(); // only in the task's copy
                        tokio::task::yield_now().await;
                        (at_start, REQUEST.get())
                    })?;
                    REQUEST.set(9).unwrap(); // after the spawn: not seen by the task
                    let second = tg.spawn(async { REQUEST.get() })?;
                    Ok((first, second))
                })
                .await
                .unwrap();
                (handles.0.result(), handles.1.result(), REQUEST.get())
            })
            .await;
        assert_eq!(seen, (Some((7, 8)), Some(9), 9), "{start:?}");
    }
}

#[tokio::test]
async fn an_eager_step_during_which_the_group_starts_shutting_down_still_makes_a_task() {
    // The step fails the group through a handle, then suspends: asyncio's create_task still
    // returns the task, which the group then cancels; only the real failure is reported.
    let err = scope(Start::Eager, async |tg: &mut TaskGroup| {
        let group = tg.handle();
        let outer = tg.spawn(async move {
            let _ = group.spawn_fallible(async { Err::<(), _>(anyhow!("boom")) });
            tokio::task::yield_now().await;
            unreachable!("cancelled before its second step");
        })?;
        assert!(!outer.done());
        Ok(outer)
    })
    .await
    .unwrap_err();
    assert_eq!(messages(&err), ["boom"]);
    assert!(!err.cancelled);
}

#[test]
fn a_scope_waits_for_an_eager_step_taken_on_another_thread() {
    let rt = multi_thread();
    let ended = rt.block_on(async {
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (handle_tx, handle_rx) = tokio::sync::oneshot::channel::<GroupHandle>();
        let spawner = tokio::spawn(async move {
            let group = handle_rx.await.expect("the handle");
            let _ = group.task().start(Start::Eager).spawn_fallible(async move {
                let _ = started_tx.send(());
                // Still in its eager step, on this thread, when the body below has ended.
                std::thread::sleep(Duration::from_millis(50));
                Err::<(), _>(anyhow!("late"))
            });
        });
        let ended = scope(Start::Scheduled, async |tg: &mut TaskGroup| {
            let _ = handle_tx.send(tg.handle());
            started_rx.await?;
            Ok(())
        })
        .await;
        spawner.await.expect("the spawner");
        ended
    });
    assert_eq!(messages(&ended.unwrap_err()), ["late"]);
}

#[tokio::test]
async fn a_scope_whose_token_is_cancelled_before_it_starts_never_runs_its_body() {
    for start in [Start::Eager, Start::Scheduled] {
        let ran = counter();
        let token = tokio_util::sync::CancellationToken::new();
        token.cancel();
        let err = Scope::new(start)
            .cancel_on(token)
            .run(async |tg: &mut TaskGroup| {
                ran.fetch_add(1, Ordering::SeqCst);
                tg.spawn(async {})?;
                Ok(())
            })
            .await
            .unwrap_err();
        assert!(err.cancelled && err.failures.is_empty(), "{start:?}");
        assert_eq!(ran.load(Ordering::SeqCst), 0, "{start:?}");
    }
}

#[test]
fn a_handle_spawns_from_a_thread_outside_the_runtime() {
    let rt = multi_thread();
    let value = rt.block_on(async {
        let (handle, done) = Scope::new(Start::Scheduled)
            .run_counted(async |tg: &mut TaskGroup| {
                let group = tg.handle();
                let spawned = std::thread::spawn(move || group.spawn(async { 42 }))
                    .join()
                    .expect("the thread");
                Ok(spawned?)
            })
            .await
            .unwrap();
        assert_eq!(done.scheduled, 1);
        handle.result()
    });
    assert_eq!(value, Some(42));
}

#[tokio::test]
async fn a_nested_scope_with_its_own_token_is_cancelled_by_either_and_leaves_no_task_behind() {
    let token = tokio_util::sync::CancellationToken::new();
    let inner = scope(Start::Scheduled, async |tg: &mut TaskGroup| {
        let outer = tg.handle();
        // Dropped mid-way, many times: nothing of it may stay on the runtime.
        for _ in 0..100 {
            let nested = Scope::new(Start::Scheduled)
                .parent(&outer)
                .cancel_on(token.clone())
                .run(async |_: &mut TaskGroup| {
                    std::future::pending::<()>().await;
                    Ok(())
                });
            let _ = tokio::time::timeout(Duration::ZERO, nested).await;
        }
        // The given token cancels a nested scope that has a parent too.
        let t = token.clone();
        tg.spawn(async move {
            tokio::task::yield_now().await;
            t.cancel();
        })?;
        let inner = Scope::new(Start::Scheduled)
            .parent(&outer)
            .cancel_on(token.clone())
            .run(async |_: &mut TaskGroup| {
                std::future::pending::<()>().await;
                Ok(())
            })
            .await;
        Ok(inner)
    })
    .await
    .unwrap();
    assert!(inner.unwrap_err().cancelled);
    let metrics = tokio::runtime::Handle::current().metrics();
    assert_eq!(metrics.num_alive_tasks(), 0);
}

#[tokio::test]
async fn a_nested_scope_under_a_finished_parent_says_so() {
    let outer = scope(Start::Scheduled, async |tg: &mut TaskGroup| Ok(tg.handle()))
        .await
        .unwrap();
    let err = Scope::new(Start::Scheduled)
        .parent(&outer)
        .run(async |_: &mut TaskGroup| Ok(()))
        .await
        .unwrap_err();
    assert_eq!(
        messages(&err),
        ["a nested TaskGroup cannot start: its parent TaskGroup is finished"]
    );
}

/// A nested scope started after its parent began to shut down (its task failed first) is
/// cancelled with the parent, its body never run, and is no failure of the parent's: in
/// asyncio the parent task gets `CancelledError` at its next await, which the parent's
/// `__aexit__` swallows, so the parent raises only the first error (`test_taskgroup_13`).
#[tokio::test]
async fn a_nested_scope_under_a_shutting_down_parent_is_cancelled_not_a_failure() {
    let ran = counter();
    let r = Arc::clone(&ran);
    let err = scope(Start::Scheduled, async move |g1: &mut TaskGroup| {
        g1.task()
            .start(Start::Eager)
            .spawn_fallible(async { Err::<(), _>(anyhow!("ValueError")) })?;
        let h = g1.handle();
        assert!(h.is_shutting_down(), "the eager task failed at once");
        let nested = Scope::new(Start::Scheduled)
            .parent(&h)
            .run(async |_: &mut TaskGroup| {
                r.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
            .await;
        let nested = nested.unwrap_err();
        assert!(nested.cancelled && nested.failures.is_empty(), "{nested}");
        Err::<(), _>(nested.into()) // as `?` would: the parent task's `CancelledError`
    })
    .await
    .unwrap_err();
    assert_eq!(messages(&err), ["ValueError"]);
    assert!(!err.cancelled, "failed, not cancelled");
    assert_eq!(ran.load(Ordering::SeqCst), 0, "the nested body never ran");
}

/// A body that returns a cancellation (a nested group's `GroupError` with no failure, Python's
/// `CancelledError`) while its own group is not shutting down cancels the group: its tasks are
/// cancelled and it ends cancelled with no failure, as `CancelledError` raised in the body of
/// `async with TaskGroup()` is never one of the group's errors.
#[tokio::test]
async fn a_body_that_returns_a_nested_cancellation_ends_its_group_cancelled() {
    let token = tokio_util::sync::CancellationToken::new();
    token.cancel();
    let dropped = counter();
    let guard = DropGuard(Arc::clone(&dropped));
    let err = scope(Start::Scheduled, async |tg: &mut TaskGroup| {
        tg.spawn(async move {
            let _guard = guard; // dropped with the future, run or not
            std::future::pending::<()>().await;
        })?;
        Scope::new(Start::Scheduled)
            .cancel_on(token.clone())
            .run(async |_: &mut TaskGroup| Ok(()))
            .await?;
        Ok(())
    })
    .await
    .unwrap_err();
    assert!(err.cancelled, "{err}");
    assert!(err.failures.is_empty(), "{err}");
    assert_eq!(dropped.load(Ordering::SeqCst), 1, "its task was cancelled");
}

/// `TaskHandle::cancel` on a suspended task whose cleanup fails: the failure is the group's,
/// and the handle says the task failed, not that it was cancelled.
#[tokio::test(start_paused = true)]
async fn a_cleanup_that_fails_under_a_handle_cancel_is_a_failure_of_the_group() {
    for start in [Start::Scheduled, Start::Eager] {
        let mut handle = None;
        let err = Scope::new(start)
            .run(async |tg: &mut TaskGroup| {
                let t = tg.spawn(async {
                    let cleanup = FailingCleanup("cleanup");
                    sleep(Duration::from_secs(10)).await;
                    std::mem::forget(cleanup);
                })?;
                tokio::task::yield_now().await; // the task suspends in its sleep
                assert!(t.cancel(), "{start:?}");
                handle = Some(t);
                sleep(Duration::from_secs(1)).await;
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(messages(&err), ["panicked: cleanup"], "{start:?}");
        let t = handle.expect("kept");
        assert_eq!(t.state(), TaskState::Failed, "{start:?}");
        assert!(!t.cancel(), "an ended task cannot be cancelled");
    }
}

/// A cancelled task's handle says so, the group goes on, and a task cancelled before its first
/// step never takes it; the snapshot shows a listed task's cancellation until it is seen.
#[tokio::test(start_paused = true)]
async fn a_handle_cancel_drops_the_task_and_the_group_goes_on() {
    let dropped = counter();
    let ran = counter();
    let (handles, done) = Scope::new(Start::Scheduled)
        .run_counted(async |tg: &mut TaskGroup| {
            let (d, r) = (Arc::clone(&dropped), Arc::clone(&ran));
            let never = tg.spawn(async move {
                let _guard = DropGuard(d);
                r.fetch_add(1, Ordering::SeqCst);
            })?;
            assert!(never.cancel(), "not started: it has not ended");
            let d = Arc::clone(&dropped);
            let suspended = tg.task().name("sleeper").spawn(async move {
                let _guard = DropGuard(d);
                sleep(Duration::from_secs(10)).await;
            })?;
            tokio::task::yield_now().await;
            assert!(suspended.cancel());
            let snapshot = tg.snapshot();
            assert_eq!(snapshot.tasks.len(), 1);
            assert_eq!(snapshot.tasks[0].name.as_deref(), Some("sleeper"));
            assert!(snapshot.tasks[0].cancel_requested);
            let finished = tg.spawn(async { 7 })?;
            Ok((never, suspended, finished))
        })
        .await
        .unwrap();
    let (never, mut suspended, finished) = handles;
    assert_eq!(ran.load(Ordering::SeqCst), 0, "never polled");
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "only the suspended one had a guard"
    );
    assert!(never.cancelled());
    assert!(suspended.cancelled());
    assert_eq!(suspended.name(), "sleeper");
    assert_eq!((&mut suspended).await, Err(TaskError::Cancelled(None)));
    assert!(suspended.cancelled(), "still says so once awaited");
    assert_eq!(finished.result(), Some(7));
    assert_eq!((done.eager, done.scheduled), (0, 1));
}

/// A task that cancels itself through its own handle and then finishes in the same step ends
/// cancelled, as in asyncio (`test_cancel_at_end`): `cancel()` says yes, the value is dropped,
/// the group does not count it as completed, nothing is left in the listing, and the group's
/// other tasks run on.
#[tokio::test(start_paused = true)]
async fn a_cancel_that_comes_during_the_last_step_ends_the_task_cancelled_and_leaves_nothing() {
    for start in [Start::Scheduled, Start::Eager] {
        let slot: Arc<Mutex<Option<TaskHandle<u32>>>> = Arc::default();
        let ((asked, later), done) = Scope::new(start)
            .run_counted(async |tg: &mut TaskGroup| {
                let (own, asked) = (Arc::clone(&slot), Arc::new(AtomicUsize::new(0)));
                let a = Arc::clone(&asked);
                let first = tg.spawn(async move {
                    tokio::task::yield_now().await; // the body puts the handle in the slot
                    let me = own.lock().unwrap().as_ref().map(TaskHandle::cancel);
                    a.store(usize::from(me == Some(true)), Ordering::SeqCst);
                    5
                })?;
                let id = first.id();
                *slot.lock().unwrap() = Some(first);
                sleep(Duration::from_millis(1)).await;
                let later = tg.spawn(async {
                    sleep(Duration::from_millis(1)).await;
                    6
                })?;
                assert!(
                    tg.snapshot().tasks.iter().all(|t| t.id != id),
                    "{start:?}: the first task left the listing"
                );
                Ok((asked, later))
            })
            .await
            .unwrap();
        assert_eq!(
            asked.load(Ordering::SeqCst),
            1,
            "{start:?}: cancel() said yes"
        );
        let first = slot.lock().unwrap().take().expect("still in the slot");
        assert_eq!(first.state(), TaskState::Cancelled, "{start:?}");
        assert_eq!(first.await, Err(TaskError::Cancelled(None)), "{start:?}");
        assert_eq!(later.result(), Some(6), "{start:?}");
        assert_eq!(done.scheduled, 1, "{start:?}: only the second completed");
        assert_eq!(done.total(), 1, "{start:?}");
    }
}

/// Cancels racing the tasks' own steps on two worker threads: every task ends once, either
/// completed or cancelled, the scope returns, and what it counts as completed matches what the
/// handles say. A cancelled task either dropped its guard unfinished or was cancelled in the
/// step that finished it (which ends it cancelled, as asyncio's `_must_cancel` does).
#[test]
fn cancels_racing_steps_on_the_multi_thread_runtime() {
    let rt = multi_thread();
    for start in [Start::Scheduled, Start::Eager] {
        let (unfinished, finished) = (counter(), counter());
        let (u, f) = (Arc::clone(&unfinished), Arc::clone(&finished));
        let (handles, done) = rt
            .block_on(rt.spawn(async move {
                Scope::new(start)
                    .run_counted(async |tg: &mut TaskGroup| {
                        let mut handles = Vec::new();
                        for i in 0..4_000u32 {
                            let guard = DropGuard(Arc::clone(&u));
                            let f = Arc::clone(&f);
                            handles.push(tg.spawn(async move {
                                for _ in 0..i % 4 {
                                    tokio::task::yield_now().await;
                                }
                                std::mem::forget(guard); // finished: not dropped unfinished
                                f.fetch_add(1, Ordering::SeqCst);
                            })?);
                            if i % 3 == 0 {
                                tokio::task::yield_now().await;
                            }
                            if i % 2 == 1 {
                                handles[(i / 2) as usize].cancel();
                            }
                        }
                        Ok(handles)
                    })
                    .await
            }))
            .unwrap()
            .unwrap();
        let completed = handles
            .iter()
            .filter(|h| h.state() == TaskState::Done)
            .count();
        let cancelled = handles.iter().filter(|h| h.cancelled()).count();
        assert_eq!(
            completed + cancelled,
            4_000,
            "{start:?}: every task ended once"
        );
        assert_eq!(done.total(), completed as u64, "{start:?}");
        let (unfinished, finished) = (
            unfinished.load(Ordering::SeqCst),
            finished.load(Ordering::SeqCst),
        );
        assert_eq!(
            unfinished + finished,
            4_000,
            "{start:?}: each task's body either finished or was dropped unfinished"
        );
        assert!(
            unfinished <= cancelled && completed <= finished,
            "{start:?}: only cancelled tasks dropped unfinished ({unfinished} of {cancelled})"
        );
    }
}

/// Aborting the owner of a group on the multi-thread runtime (asyncio's `r.cancel(); await
/// r`): when the wait for the aborted owner returns, every child has been dropped, those
/// suspended on either worker and those queued behind the owner alike (issue 23, point 7).
#[test]
fn aborting_the_owner_on_two_threads_returns_after_every_child_was_dropped() {
    let rt = multi_thread();
    for round in 0..20 {
        let (dropped, started) = (counter(), counter());
        let (d, s) = (Arc::clone(&dropped), Arc::clone(&started));
        let owner = rt.spawn(scope(Start::Scheduled, async move |tg: &mut TaskGroup| {
            for i in 0..16 {
                let guard = DropGuard(Arc::clone(&d));
                let s = Arc::clone(&s);
                tg.spawn(async move {
                    let _guard = guard;
                    s.fetch_add(1, Ordering::SeqCst);
                    if i % 2 == 0 {
                        std::thread::sleep(Duration::from_micros(200)); // a step in progress
                    }
                    sleep(Duration::from_secs(3600)).await;
                })?;
            }
            std::future::pending::<()>().await;
            Ok(())
        }));
        rt.block_on(async {
            while started.load(Ordering::SeqCst) < 16 {
                tokio::task::yield_now().await;
            }
            owner.abort();
            assert!(owner.await.unwrap_err().is_cancelled());
        });
        assert_eq!(dropped.load(Ordering::SeqCst), 16, "round {round}");
    }
}

/// A runtime shut down under a running scope drops the scope before its tasks: the scope's
/// wait for them gives up instead of hanging, and every future is dropped in the end.
#[test]
fn a_runtime_shut_down_under_a_running_scope_does_not_hang() {
    let rt = multi_thread();
    let dropped = counter();
    let d = Arc::clone(&dropped);
    let started = counter();
    let s = Arc::clone(&started);
    rt.spawn(scope(Start::Scheduled, async move |tg: &mut TaskGroup| {
        for _ in 0..8 {
            let guard = DropGuard(Arc::clone(&d));
            let s = Arc::clone(&s);
            tg.spawn(async move {
                let _guard = guard;
                s.fetch_add(1, Ordering::SeqCst);
                sleep(Duration::from_secs(3600)).await;
            })?;
        }
        std::future::pending::<()>().await;
        Ok(())
    }));
    while started.load(Ordering::SeqCst) < 8 {
        std::thread::yield_now();
    }
    drop(rt);
    assert_eq!(dropped.load(Ordering::SeqCst), 8);
}

/// The same on the current-thread runtime, awaited from a task: the children, woken by the
/// shutdown before the owner's waiter, are dropped before it runs, however many there are.
/// (`block_on`'s own future is polled between batches of 61 tasks instead, so there the
/// promise holds only for fewer children: the crate docs say so.)
#[test]
fn aborting_the_owner_on_one_thread_returns_after_every_child_was_dropped() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    // More than tokio polls in one turn of its loop (61).
    const CHILDREN: usize = 300;
    for round in 0..20 {
        let (dropped, started) = (counter(), counter());
        let (d, s) = (Arc::clone(&dropped), Arc::clone(&started));
        let owner = rt.spawn(scope(Start::Scheduled, async move |tg: &mut TaskGroup| {
            for _ in 0..CHILDREN {
                let guard = DropGuard(Arc::clone(&d));
                let s = Arc::clone(&s);
                tg.spawn(async move {
                    let _guard = guard;
                    s.fetch_add(1, Ordering::SeqCst);
                    sleep(Duration::from_secs(3600)).await;
                })?;
            }
            std::future::pending::<()>().await;
            Ok(())
        }));
        let wait = async move {
            while started.load(Ordering::SeqCst) < CHILDREN {
                tokio::task::yield_now().await;
            }
            owner.abort();
            assert!(owner.await.unwrap_err().is_cancelled());
            dropped.load(Ordering::SeqCst)
        };
        let seen = rt.block_on(rt.spawn(wait)).expect("the waiter");
        assert_eq!(seen, CHILDREN, "round {round}");
    }
}

/// A cooperative body sees the group's shutdown in the very step that causes it, as asyncio
/// cancels the parent task at once when a task fails eagerly (a gap the ported CPython tests
/// found: the request used to wait for the body's next poll).
#[tokio::test]
async fn a_cooperative_body_sees_a_shutdown_in_the_step_that_causes_it() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let error = Scope::new(Start::Eager)
        .cooperative()
        .run(async move |tg: &mut TaskGroup| {
            let request = tg.cancel_request();
            s.lock().unwrap().push(request.cancelling());
            tg.spawn_fallible(async { Err::<(), _>(anyhow!("fails in its eager step")) })?;
            s.lock().unwrap().push(request.cancelling());
            tg.cancel(); // a second shutdown is no second request
            s.lock().unwrap().push(request.cancelling());
            Err::<(), _>(request.error().into())
        })
        .await
        .expect_err("a task failed");
    assert_eq!(*seen.lock().unwrap(), [0, 1, 1]);
    assert_eq!(messages(&error), ["fails in its eager step"]);
}

/// The first failure cancels the body: it takes no further step, even when the shutdown
/// itself wakes what it awaits (a cancelled child's handle). Found by a new user's trial:
/// the body used to resume once with `Err(Cancelled)` and run on.
#[tokio::test(start_paused = true)]
async fn a_body_woken_by_the_shutdown_takes_no_further_step() {
    for start in [Start::Scheduled, Start::Eager] {
        let ran_on = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&ran_on);
        let error = scope(start, async move |tg: &mut TaskGroup| {
            let mut sleeper = tg.spawn(sleep(Duration::from_secs(3600)))?;
            tg.spawn_fallible(async {
                sleep(Duration::from_millis(10)).await;
                Err::<(), _>(anyhow!("fails"))
            })?;
            let _ = (&mut sleeper).await; // woken when the failure cancels `sleeper`
            r.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .await
        .expect_err("a task failed");
        assert_eq!(messages(&error), ["fails"], "{start:?}");
        assert_eq!(
            ran_on.load(Ordering::SeqCst),
            0,
            "{start:?}: the body ran on"
        );
    }
}
