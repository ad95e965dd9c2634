//! The polled group: asyncio's TaskGroup semantics with children the scope polls itself.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::anyhow;
use taskgroup::polled::{self, BUDGET, PolledScope};
use taskgroup::{Refused, Start, TaskError, TaskState, current_task};
use tokio::time::sleep;

/// Counts the allocations this thread makes while `COUNTING` is set.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to the system allocator unchanged; the counter is a plain
// thread-local with no destructor, so counting never allocates.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: allocated by `System` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Counts its drops: a child's `finally:`.
struct Dropped(Rc<Cell<usize>>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[tokio::test(start_paused = true)]
async fn children_may_borrow_and_need_not_be_send_and_the_scope_waits_for_all() {
    for start in [Start::Eager, Start::Scheduled] {
        let log = RefCell::new(Vec::new()); // borrowed by every child, and not Sync
        let shared = Rc::new(Cell::new(0)); // not Send
        let (handles, done) = polled::scope_counted(start, async |tg| {
            let mut handles = Vec::new();
            for i in 0..5u64 {
                let (log, shared) = (&log, Rc::clone(&shared));
                handles.push(tg.spawn(async move {
                    sleep(Duration::from_millis(10 * (5 - i))).await;
                    log.borrow_mut().push(i);
                    shared.set(shared.get() + 1);
                    i * 2
                })?);
            }
            Ok(handles)
        })
        .await
        .expect("no failure");
        assert_eq!(
            *log.borrow(),
            [4, 3, 2, 1, 0],
            "{start:?}: the sleeps' order"
        );
        assert_eq!(shared.get(), 5);
        assert_eq!(done.total(), 5);
        let values: Vec<_> = handles.into_iter().map(|h| h.result()).collect();
        assert_eq!(values, [Some(0), Some(2), Some(4), Some(6), Some(8)]);
    }
}

#[tokio::test(start_paused = true)]
async fn the_first_failure_cancels_the_other_children_and_the_body() {
    for start in [Start::Eager, Start::Scheduled] {
        let dropped = Rc::new(Cell::new(0));
        let body_after = Cell::new(false);
        let error = polled::scope(start, async |tg| {
            for _ in 0..3 {
                let guard = Dropped(Rc::clone(&dropped));
                tg.spawn(async move {
                    let _guard = guard;
                    sleep(Duration::from_secs(3600)).await;
                })?;
            }
            tg.spawn_fallible(async {
                sleep(Duration::from_millis(1)).await;
                Err::<(), _>(anyhow!("ZeroDivisionError"))
            })?;
            sleep(Duration::from_secs(3600)).await;
            body_after.set(true);
            Ok(())
        })
        .await
        .expect_err("a child failed");
        assert_eq!(dropped.get(), 3, "{start:?}: each sleeper cancelled");
        assert!(!body_after.get(), "{start:?}: the body was cancelled");
        assert!(!error.cancelled);
        let failures: Vec<String> = error.failures.iter().map(ToString::to_string).collect();
        assert_eq!(failures, ["ZeroDivisionError"]);
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_is_a_failure_and_spawning_is_refused_after_it() {
    let refused = Cell::new(None);
    let error = polled::scope(Start::Scheduled, async |tg| {
        tg.spawn(async { panic!("boom") })?;
        tokio::task::yield_now().await; // the scope polls the child, which fails
        refused.set(tg.spawn(async {}).err());
        Ok(())
    })
    .await
    .expect_err("a child panicked");
    assert_eq!(error.failures.len(), 1);
    assert_eq!(error.failures[0].to_string(), "panicked: boom");
    assert_eq!(
        refused.get(),
        None,
        "the body is cancelled before it can spawn again"
    );

    let refused = Cell::new(None);
    let _ = polled::scope(Start::Eager, async |tg| {
        tg.spawn(async { panic!("boom") })?; // fails in its eager step
        refused.set(tg.spawn(async {}).err());
        Ok(())
    })
    .await;
    assert_eq!(refused.get(), Some(Refused::ShuttingDown));
}

#[tokio::test(start_paused = true)]
async fn a_child_spawns_into_the_group_through_a_handle() {
    for start in [Start::Eager, Start::Scheduled] {
        let ((), done) = polled::scope_counted(start, async |tg: &mut PolledScope<'_>| {
            let group = tg.handle();
            tg.spawn(async move {
                sleep(Duration::from_millis(1)).await;
                let grandchild = group.spawn(async {
                    tokio::task::yield_now().await;
                    7
                });
                assert_eq!(grandchild.expect("accepted").await, Ok(7));
            })?;
            Ok(())
        })
        .await
        .expect("no failure");
        assert_eq!(done.total(), 2, "{start:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_child_drops_its_future_at_once() {
    for start in [Start::Eager, Start::Scheduled] {
        let dropped = Rc::new(Cell::new(0));
        let ((), done) = polled::scope_counted(start, async |tg| {
            let guard = Dropped(Rc::clone(&dropped));
            let sleeper = tg.spawn(async move {
                let _guard = guard;
                sleep(Duration::from_secs(3600)).await;
            })?;
            tokio::task::yield_now().await;
            assert!(sleeper.cancel());
            assert_eq!(dropped.get(), 1, "dropped by cancel() itself");
            assert!(sleeper.cancelled());
            assert!(!sleeper.cancel(), "already ended");
            assert_eq!(sleeper.await, Err(TaskError::Cancelled(None)));
            Ok(())
        })
        .await
        .expect("a cancelled child is no failure");
        assert_eq!(done.total(), 0, "{start:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_child_is_the_current_task_with_its_handles_id() {
    for start in [Start::Eager, Start::Scheduled] {
        let handle = polled::scope(start, async |tg| {
            let handle = tg.spawn(async {
                let first = current_task().expect("inside a runtime");
                tokio::task::yield_now().await;
                (first, current_task().expect("inside a runtime"))
            })?;
            assert_eq!(current_task().expect("inside a runtime"), None, "the body");
            Ok(handle)
        })
        .await
        .expect("no failure");
        let id = handle.id();
        assert_eq!(handle.name(), id.to_string());
        assert_eq!(handle.result(), Some((Some(id), Some(id))), "{start:?}");
    }
}

/// Slots freed in whatever order children end (by themselves, cancelled, their handles kept
/// or not) serve the next children: in three waves, every kept handle gives its own child's
/// value or cancellation, and no child is left over.
#[tokio::test(start_paused = true)]
async fn slots_freed_in_any_order_serve_the_next_children() {
    for start in [Start::Eager, Start::Scheduled] {
        polled::scope(start, async |tg| {
            for wave in 0..3u32 {
                let mut kept = Vec::new();
                for i in 0..100u32 {
                    let handle = tg.spawn(async move {
                        // Ends after 0 to 6 steps: children end in a mixed order.
                        for _ in 0..(i * 5 + wave) % 7 {
                            tokio::task::yield_now().await;
                        }
                        wave * 1000 + i
                    })?;
                    if i % 3 == 0 {
                        kept.push((i, handle));
                    } else if i % 3 == 1 && i % 2 == 0 {
                        handle.cancel();
                    }
                }
                for (i, handle) in kept {
                    let expected = wave * 1000 + i;
                    match handle.await {
                        Ok(value) => assert_eq!(value, expected, "{start:?}"),
                        Err(e) => panic!("{start:?}: child {expected}: {e}"),
                    }
                }
                while tg.live() > 0 {
                    tokio::task::yield_now().await;
                }
            }
            Ok(())
        })
        .await
        .expect("a cancelled child is no failure");
    }
}

/// A child is named when first asked, by its handle or by itself in any step, and keeps
/// that name: the handle's id before the child ran is the one it sees inside, and an id the
/// child took in a later step is the one its handle gives.
#[tokio::test(start_paused = true)]
async fn a_childs_id_is_the_same_whoever_asks_first() {
    for start in [Start::Eager, Start::Scheduled] {
        let (asked_first, first, second) = polled::scope(start, async |tg| {
            // The handle asks first: before the child's first step when scheduled.
            let first = tg.spawn(async {
                tokio::task::yield_now().await;
                current_task().expect("inside a runtime")
            })?;
            let asked_first = first.id();
            // The child asks first, in its second step; its handle asks once it has ended.
            let second = tg.spawn(async {
                tokio::task::yield_now().await;
                current_task().expect("inside a runtime")
            })?;
            Ok((asked_first, first, second))
        })
        .await
        .expect("no failure");
        assert_eq!(first.id(), asked_first, "{start:?}");
        assert_eq!(first.result(), Some(Some(asked_first)), "{start:?}");
        let id = second.id();
        assert_ne!(id, asked_first, "{start:?}");
        assert_eq!(second.result(), Some(Some(id)), "{start:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_group_cancelled_ends_cancelled_with_no_failure() {
    let dropped = Rc::new(Cell::new(0));
    let error = polled::scope(Start::Scheduled, async |tg| {
        let guard = Dropped(Rc::clone(&dropped));
        tg.spawn(async move {
            let _guard = guard;
            sleep(Duration::from_secs(3600)).await;
        })?;
        tokio::task::yield_now().await;
        tg.cancel();
        sleep(Duration::from_secs(3600)).await;
        Ok(())
    })
    .await
    .expect_err("cancelled");
    assert!(error.cancelled && error.failures.is_empty());
    assert_eq!(dropped.get(), 1);
}

/// Dropping the scope's future (its owner cancelled) drops every child before the drop
/// returns: asyncio's promise to a cancelled owner, by construction.
#[tokio::test(start_paused = true)]
async fn dropping_the_scope_drops_every_child_before_the_drop_returns() {
    let dropped = Rc::new(Cell::new(0));
    let d = Rc::clone(&dropped);
    let scope = polled::scope(Start::Eager, async move |tg| {
        for _ in 0..10 {
            let guard = Dropped(Rc::clone(&d));
            tg.spawn(async move {
                let _guard = guard;
                sleep(Duration::from_secs(3600)).await;
            })?;
        }
        sleep(Duration::from_secs(3600)).await;
        Ok(())
    });
    let mut scope = Box::pin(scope);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(scope.as_mut().poll(&mut cx).is_pending());
    assert_eq!(dropped.get(), 0);
    drop(scope);
    assert_eq!(dropped.get(), 10);
}

/// Each time it is polled, the scope polls at most `BUDGET` children and then yields: a
/// neighbour task on the same thread gets its turns while a large group runs.
#[tokio::test]
async fn a_large_group_yields_to_its_neighbours() {
    const CHILDREN: usize = 20 * BUDGET;
    let turns = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicUsize::new(0));
    let neighbour = {
        let (turns, stop) = (Arc::clone(&turns), Arc::clone(&stop));
        tokio::spawn(async move {
            while stop.load(Ordering::Relaxed) == 0 {
                turns.fetch_add(1, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        })
    };
    tokio::task::yield_now().await; // the neighbour starts
    let before = turns.load(Ordering::Relaxed);
    let ((), done) = polled::scope_counted(Start::Scheduled, async |tg| {
        for _ in 0..CHILDREN {
            tg.spawn(async {
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
            })?;
        }
        Ok(())
    })
    .await
    .expect("no failure");
    let during = turns.load(Ordering::Relaxed) - before;
    stop.store(1, Ordering::Relaxed);
    neighbour.await.expect("the neighbour ends");
    assert_eq!(done.total(), CHILDREN as u64);
    // The scope polls each child four times: at least 4 × CHILDREN / BUDGET yields.
    assert!(
        during >= 4 * CHILDREN / BUDGET / 2,
        "the neighbour ran {during} times while the group ran"
    );
}

/// A child that finishes in its eager step costs no allocation; one that suspends is kept in
/// the memory it was polled in.
#[tokio::test(flavor = "current_thread")]
async fn a_child_that_finishes_in_its_eager_step_costs_no_allocation() {
    polled::scope(Start::Eager, async |tg| {
        tg.spawn(async {})?; // the group's first spawn makes its slab and place
        COUNTING.set(true);
        ALLOCATIONS.set(0);
        for _ in 0..1_000 {
            tg.spawn(async {})?;
        }
        let finished = ALLOCATIONS.get();
        let suspended = tg.spawn(tokio::task::yield_now())?;
        let after_one_suspended = ALLOCATIONS.get();
        COUNTING.set(false);
        assert_eq!(finished, 0, "1,000 children finished eagerly");
        assert!(
            after_one_suspended > 0,
            "a suspended child keeps its memory"
        );
        assert_eq!(suspended.state(), TaskState::Pending);
        Ok(())
    })
    .await
    .expect("no failure");
}

/// `(&mut task).await` waits without taking the handle; a wait that is dropped leaves the
/// child running, and the value is still there for the next wait.
#[tokio::test(start_paused = true)]
async fn a_wait_through_a_borrowed_handle_keeps_the_handle_and_the_child() {
    polled::scope(Start::Scheduled, async |tg| {
        let mut child = tg.spawn(async {
            sleep(Duration::from_millis(10)).await;
            5
        })?;
        let early = tokio::time::timeout(Duration::from_millis(1), &mut child).await;
        assert!(early.is_err(), "timed out: the wait was dropped");
        assert_eq!(child.state(), TaskState::Pending, "the child runs on");
        assert_eq!((&mut child).await, Ok(5));
        assert_eq!((&mut child).await, Err(TaskError::Taken));
        Ok(())
    })
    .await
    .expect("no failure");
}

/// A child that spawns into its group during its own eager step: the nested step runs in
/// memory of its own (the group's reused place is in use), and both children complete.
#[tokio::test]
async fn a_child_spawns_during_its_eager_step() {
    let ((), done) = polled::scope_counted(Start::Eager, async |tg| {
        let group = tg.handle();
        tg.spawn(async move {
            let inner = group.spawn(async { 2 }).expect("accepted");
            assert_eq!(inner.result(), Some(2), "finished in its own eager step");
        })?;
        Ok(())
    })
    .await
    .expect("no failure");
    assert_eq!(done.total(), 2);
}

/// A child whose value is another child's handle: dropping its own handle drops that value,
/// whose drop goes back to the group, after the group has let go of its slots.
#[tokio::test]
async fn a_value_that_holds_a_handle_is_dropped_outside_the_groups_borrow() {
    let ((), done) =
        polled::scope_counted(Start::Scheduled, async |tg: &mut PolledScope<'static>| {
            let group = tg.handle();
            let outer = tg.spawn(async move { group.spawn(async { 1 }).expect("accepted") })?;
            for _ in 0..3 {
                tokio::task::yield_now().await; // the scope polls `outer`, then the inner child
            }
            assert_eq!(outer.state(), TaskState::Done);
            drop(outer); // its value, the inner handle, is dropped with it
            Ok(())
        })
        .await
        .expect("no failure");
    assert_eq!(done.total(), 2);
}
