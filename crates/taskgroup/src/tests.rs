use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::{Instant, sleep};

use super::*;

/// Counts how many times it was dropped: proves a task's future was dropped (cancelled) or not.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn eager_task_that_completes_runs_inline_and_is_never_scheduled() {
    let ran = Arc::new(AtomicU32::new(0));
    let mut tg = TaskGroup::eager();
    let r = Arc::clone(&ran);
    let handle = tg.spawn(async move {
        r.fetch_add(1, Ordering::SeqCst);
        "done"
    });
    // No await since the spawn: only an inline poll can have run the body.
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    let done = tg.join().await;
    assert_eq!(
        done,
        Completed {
            eager: 1,
            scheduled: 0
        }
    );
    assert_eq!(handle.into_result(), Some("done"));
}

#[tokio::test]
async fn eager_task_that_yields_is_handed_to_the_runtime_and_completes() {
    let steps = Arc::new(AtomicU32::new(0));
    let mut tg = TaskGroup::eager();
    let s = Arc::clone(&steps);
    let handle = tg.spawn(async move {
        s.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        s.fetch_add(1, Ordering::SeqCst);
        42
    });
    assert_eq!(
        steps.load(Ordering::SeqCst),
        1,
        "ran up to its first suspension, inline"
    );
    let done = tg.join().await;
    assert_eq!(steps.load(Ordering::SeqCst), 2);
    assert_eq!(
        done,
        Completed {
            eager: 0,
            scheduled: 1
        }
    );
    assert_eq!(handle.into_result(), Some(42));
}

#[tokio::test(start_paused = true)]
async fn eager_task_that_sleeps_wakes_as_a_task_of_its_own() {
    let start = Instant::now();
    let mut tg = TaskGroup::eager();
    // The sleep registers the eager poll's no-op waker first; the runtime's poll must
    // re-register the task's own waker or this join would never return.
    let handle = tg.spawn(async {
        sleep(Duration::from_secs(2)).await;
        tokio::task::try_id()
    });
    let done = tg.join().await;
    assert_eq!(done.scheduled, 1);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert!(
        handle.into_result().flatten().is_some(),
        "after suspending it is a task"
    );
}

#[tokio::test]
async fn eager_first_poll_runs_inside_the_parent_task() {
    let parent = tokio::task::try_id();
    let mut tg = TaskGroup::eager();
    let seen = tg.spawn(async { tokio::task::try_id() });
    tg.join().await;
    assert_eq!(seen.into_result(), Some(parent));
}

#[tokio::test]
async fn eager_tasks_start_in_spawn_order_before_the_parent_goes_on() {
    // Documents the ordering: each eager task runs up to its first suspension inside `spawn`,
    // so first halves run in spawn order, interleaved with nothing; the second halves run
    // later, when the runtime polls them (here: in spawn order too, on one thread).
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut tg = TaskGroup::eager();
    for i in 0..3 {
        let log = Arc::clone(&log);
        tg.spawn(async move {
            log.lock().unwrap().push(format!("start {i}"));
            tokio::task::yield_now().await;
            log.lock().unwrap().push(format!("end {i}"));
        });
    }
    log.lock().unwrap().push("parent".to_owned());
    tg.join().await;
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log,
        [
            "start 0", "start 1", "start 2", "parent", "end 0", "end 1", "end 2"
        ]
    );
}

#[tokio::test]
async fn lazy_tasks_do_not_run_until_the_parent_awaits() {
    let ran = Arc::new(AtomicU32::new(0));
    let mut tg = TaskGroup::new();
    for _ in 0..10 {
        let r = Arc::clone(&ran);
        tg.spawn(async move {
            r.fetch_add(1, Ordering::SeqCst);
        });
    }
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "current-thread runtime: nothing ran yet"
    );
    let done = tg.join().await;
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
async fn join_waits_for_every_task() {
    let finished = Arc::new(AtomicU32::new(0));
    for mut tg in [TaskGroup::new(), TaskGroup::eager()] {
        finished.store(0, Ordering::SeqCst);
        for secs in [3, 1, 2] {
            let f = Arc::clone(&finished);
            tg.spawn(async move {
                sleep(Duration::from_secs(secs)).await;
                f.fetch_add(1, Ordering::SeqCst);
            });
        }
        let start = Instant::now();
        assert_eq!(tg.join().await.total(), 3);
        assert_eq!(finished.load(Ordering::SeqCst), 3);
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(3),
            "the sleeps overlap"
        );
    }
}

#[tokio::test]
async fn eager_place_is_reused_across_future_types() {
    // Two future types alternate: the scratch place must switch type each time.
    let mut tg = TaskGroup::eager();
    let a = tg.spawn(async { 1u8 });
    let b = tg.spawn(async { String::from("two") });
    let c = tg.spawn(async { 3u8 });
    assert_eq!(tg.join().await.eager, 3);
    assert_eq!(
        (a.into_result(), b.into_result(), c.into_result()),
        (Some(1), Some("two".to_owned()), Some(3))
    );
}

#[tokio::test]
async fn dropping_the_group_aborts_its_tasks() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    for mut tg in [TaskGroup::new(), TaskGroup::eager()] {
        for _ in 0..4 {
            let guard = DropGuard(Arc::clone(&dropped));
            let f = Arc::clone(&finished);
            tg.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
                f.fetch_add(1, Ordering::SeqCst);
            });
        }
        tokio::task::yield_now().await;
        drop(tg);
    }
    // Abort is asynchronous on tokio: give the runtime a turn to drop the futures.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 8);
    assert_eq!(finished.load(Ordering::SeqCst), 0);
}

#[tokio::test]
#[should_panic(expected = "child failed")]
async fn a_child_panic_propagates_out_of_join() {
    let mut tg = TaskGroup::new();
    tg.spawn(async { panic!("child failed") });
    tg.spawn(async {});
    tg.join().await;
}

#[test]
fn many_eager_tasks_on_the_multi_thread_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let done = rt.block_on(async {
        tokio::spawn(async {
            let mut tg = TaskGroup::eager();
            for i in 0..1_000u32 {
                tg.spawn(async move {
                    if i % 2 == 0 {
                        tokio::task::yield_now().await;
                    }
                });
            }
            tg.join().await
        })
        .await
        .unwrap()
    });
    assert_eq!(
        done,
        Completed {
            eager: 500,
            scheduled: 500
        }
    );
}
