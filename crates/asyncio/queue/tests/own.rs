//! This crate's own tests: cancel safety (step by step, then under the multi-thread runtime)
//! and `Display`/`Debug` against what CPython 3.13 prints.
#![allow(clippy::unwrap_used)]

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use queue::{LifoQueue, PriorityQueue, Queue, QueueShutDown};

/// Polls a future once with a waker that does nothing.
fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_woken_getter_dropped_passes_the_item_to_the_next_getter() {
    let q = Queue::new(0);
    let mut a = Box::pin(q.get());
    let mut b = pin!(q.get());
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(poll_once(b.as_mut()).is_pending());
    assert_eq!(q.to_string(), "<Queue maxsize=0 _getters[2]>");
    q.put_nowait(1).unwrap(); // wakes a, which leaves the line
    assert_eq!(
        q.to_string(),
        "<Queue maxsize=0 _queue=[1] _getters[1] tasks=1>"
    );
    drop(a); // woken, never took it: b is woken in its place
    assert_eq!(q.to_string(), "<Queue maxsize=0 _queue=[1] tasks=1>");
    assert_eq!(poll_once(b.as_mut()), Poll::Ready(Ok(1)));
}

#[test]
fn a_getter_dropped_before_being_woken_leaves_the_line_and_wakes_no_one() {
    let q = Queue::new(0);
    let mut a = Box::pin(q.get());
    let mut b = pin!(q.get());
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(poll_once(b.as_mut()).is_pending());
    drop(a);
    assert_eq!(q.to_string(), "<Queue maxsize=0 _getters[1]>");
    // b is still waiting in line: a spurious poll does not let it jump ahead of the wake-up.
    assert!(poll_once(b.as_mut()).is_pending());
    q.put_nowait(2).unwrap();
    assert_eq!(poll_once(b.as_mut()), Poll::Ready(Ok(2)));
}

#[test]
fn a_woken_putter_dropped_passes_the_slot_to_the_next_putter() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let mut a = Box::pin(q.put(1));
    let mut b = pin!(q.put(2));
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(poll_once(b.as_mut()).is_pending());
    assert_eq!(q.get_nowait(), Ok(0)); // wakes a
    drop(a); // its item was not put; b gets the slot
    assert_eq!(q.to_string(), "<Queue maxsize=1 tasks=1>");
    assert_eq!(poll_once(b.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(q.get_nowait(), Ok(2));
    assert!(q.empty());
}

#[test]
fn a_woken_waiter_that_finds_its_item_taken_waits_again_at_the_back() {
    let q = Queue::new(0);
    let mut a = pin!(q.get());
    let mut b = pin!(q.get());
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(poll_once(b.as_mut()).is_pending());
    q.put_nowait(1).unwrap(); // wakes a
    assert_eq!(q.get_nowait(), Ok(1)); // but someone who did not wait takes it first
    assert!(poll_once(a.as_mut()).is_pending()); // a waits again, behind b
    q.put_nowait(2).unwrap();
    assert_eq!(poll_once(b.as_mut()), Poll::Ready(Ok(2)));
    assert!(poll_once(a.as_mut()).is_pending());
}

#[test]
fn shutdown_wakes_every_getter_and_putter() {
    let q = Queue::new(1);
    let mut g = pin!(q.get());
    assert!(poll_once(g.as_mut()).is_pending());
    q.put_nowait(1).unwrap(); // g woken; the item stays until it runs
    let mut p = pin!(q.put(2));
    assert!(poll_once(p.as_mut()).is_pending());
    q.shutdown(false);
    assert_eq!(poll_once(p.as_mut()), Poll::Ready(Err(QueueShutDown(2))));
    assert_eq!(poll_once(g.as_mut()), Poll::Ready(Ok(1))); // drains what is left
    assert_eq!(q.to_string(), "<Queue maxsize=1 tasks=1 shutdown>");
}

#[test]
fn shutdown_immediate_drops_the_items_outside_the_lock() {
    /// An item whose drop uses the queue it was in: would deadlock if dropped under the lock.
    struct Touch(Arc<Queue<Touch>>);
    impl std::fmt::Debug for Touch {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Touch")
        }
    }
    impl Drop for Touch {
        fn drop(&mut self) {
            let _ = self.0.qsize();
        }
    }
    let q = Arc::new(Queue::new(0));
    q.put_nowait(Touch(Arc::clone(&q))).unwrap();
    q.shutdown(true);
    assert_eq!(q.qsize(), 0);
}

/// An item whose drop panics for one value, and counts every drop.
#[derive(Debug)]
struct Fragile {
    value: u32,
    drops: Arc<AtomicUsize>,
}

impl Drop for Fragile {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
        if self.value == 1 {
            panic!("the drop of item 1");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_immediate_wakes_the_waiters_even_when_an_items_drop_panics() {
    let drops = Arc::new(AtomicUsize::new(0));
    let item = |value| Fragile {
        value,
        drops: Arc::clone(&drops),
    };
    let q = Arc::new(Queue::new(3));
    for value in 0..3 {
        q.put_nowait(item(value)).unwrap();
    }
    let putter = tokio::spawn({
        let q = Arc::clone(&q);
        let late = item(3);
        async move { q.put(late).await.map_err(|refused| refused.0.value) }
    });
    let joiner = tokio::spawn({
        let q = Arc::clone(&q);
        async move { q.join().await }
    });
    tokio::task::yield_now().await;
    assert_eq!(
        q.to_string(),
        "<Queue maxsize=3 _queue=[Fragile { value: 0, drops: 0 }, Fragile { value: 1, drops: 0 }, Fragile { value: 2, drops: 0 }] _putters[1] tasks=3>"
    );

    let shut = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| q.shutdown(true)));
    // On the paused clock a waiter never woken fails the test at once instead of hanging it.
    let waited = Duration::from_secs(3600);
    let put = tokio::time::timeout(waited, putter).await;
    assert_eq!(put.expect("the putter is woken").unwrap(), Err(3));
    let joined = tokio::time::timeout(waited, joiner).await;
    joined.expect("join() returns").unwrap();
    assert!(
        shut.is_ok(),
        "the panic of one item's drop stays inside shutdown"
    );
    // Items 0, 1 and 2 dropped by shutdown (1 panicking, 2 dropped all the same), 3 refused.
    assert_eq!(drops.load(Ordering::Relaxed), 4);
    assert_eq!(q.to_string(), "<Queue maxsize=3 shutdown>");
}

/// Many getters and putters whose futures are dropped at random points, on the multi-thread
/// runtime: every item arrives exactly once and nobody is left waiting with items queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_getters_and_putters_lose_nothing_on_the_multi_thread_runtime() {
    const ITEMS: usize = 2_000;
    const WORKERS: usize = 4;
    for round in 0..20 {
        let q = Arc::new(Queue::<usize>::new(3));
        let seen: Arc<Vec<AtomicUsize>> =
            Arc::new((0..ITEMS).map(|_| AtomicUsize::new(0)).collect());
        let received = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(tokio::sync::Notify::new());
        let mut tasks = Vec::new();
        for w in 0..WORKERS {
            let (q, seen, received, done) =
                (q.clone(), seen.clone(), received.clone(), done.clone());
            // Consumers: every few tries, give up on a get that had to wait.
            tasks.push(tokio::spawn(async move {
                let mut tries = w + round;
                loop {
                    tries += 1;
                    let mut get = pin!(q.get());
                    let got = if tries % 3 == 0 {
                        match poll_once(get.as_mut()) {
                            Poll::Ready(got) => got,
                            Poll::Pending => {
                                tokio::task::yield_now().await;
                                continue; // dropped while waiting, maybe after being woken
                            }
                        }
                    } else {
                        get.await
                    };
                    let Ok(i) = got else { return };
                    seen[i].fetch_add(1, Ordering::SeqCst);
                    if received.fetch_add(1, Ordering::SeqCst) + 1 == ITEMS {
                        done.notify_one();
                    }
                }
            }));
        }
        for w in 0..WORKERS {
            let q = q.clone();
            // Producers: every few tries, give up on a put that had to wait, and retry it.
            tasks.push(tokio::spawn(async move {
                let mut tries = w + round;
                for i in (w..ITEMS).step_by(WORKERS) {
                    loop {
                        tries += 1;
                        let mut put = pin!(q.put(i));
                        let put = if tries % 2 == 0 {
                            match poll_once(put.as_mut()) {
                                Poll::Ready(put) => put,
                                Poll::Pending => {
                                    tokio::task::yield_now().await;
                                    continue; // dropped while waiting; put it again
                                }
                            }
                        } else {
                            put.await
                        };
                        put.unwrap();
                        break;
                    }
                }
            }));
        }
        // A lost wake-up leaves items queued with every consumer asleep: this never ends.
        tokio::time::timeout(Duration::from_secs(60), done.notified())
            .await
            .unwrap_or_else(|_| panic!("round {round}: stuck with {q}"));
        q.shutdown(false);
        for t in tasks {
            t.await.unwrap();
        }
        for (i, n) in seen.iter().enumerate() {
            assert_eq!(n.load(Ordering::SeqCst), 1, "round {round}: item {i}");
        }
        assert_eq!(
            q.to_string(),
            format!("<Queue maxsize=3 tasks={ITEMS} shutdown>")
        );
    }
}

/// Getters aborted while a producer wakes them, on the multi-thread runtime: a getter woken and
/// then aborted must pass its wake-up on, or a surviving getter sleeps beside a queued item.
/// Exactly one item is put per surviving getter (plus one per aborted getter that got one
/// before its abort landed), so a single lost wake-up leaves a getter asleep forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getters_aborted_while_being_woken_pass_the_wake_up_on() {
    const GETTERS: usize = 8;
    for round in 0..300 {
        let q = Arc::new(Queue::<usize>::new(0));
        let mut getters: Vec<_> = (0..GETTERS)
            .map(|_| {
                let q = Arc::clone(&q);
                tokio::spawn(async move { q.get().await })
            })
            .collect();
        while !q.to_string().contains(&format!("_getters[{GETTERS}]")) {
            tokio::task::yield_now().await;
        }
        // Abort the first half while items for the other half arrive.
        let producer = tokio::spawn({
            let q = Arc::clone(&q);
            async move {
                for i in 0..GETTERS / 2 {
                    q.put_nowait(i).unwrap();
                    tokio::task::yield_now().await;
                }
            }
        });
        let survivors = getters.split_off(GETTERS / 2);
        for g in &getters {
            g.abort();
            tokio::task::yield_now().await;
        }
        producer.await.unwrap();
        let mut got = Vec::new();
        let mut next = GETTERS / 2;
        for g in getters {
            match g.await {
                Ok(item) => {
                    // It took an item before the abort landed: make up for it.
                    got.push(item.unwrap());
                    q.put_nowait(next).unwrap();
                    next += 1;
                }
                Err(e) => assert!(e.is_cancelled(), "round {round}: {e}"),
            }
        }
        for (n, g) in survivors.into_iter().enumerate() {
            // A hang guard, not a timing: a lost wake-up never ends.
            match tokio::time::timeout(Duration::from_secs(30), g).await {
                Ok(item) => got.push(item.unwrap().unwrap()),
                Err(_) => panic!("round {round}: survivor {n} never woke; {q}"),
            }
        }
        assert!(q.empty(), "round {round}: {q}");
        got.sort_unstable();
        assert_eq!(got, (0..next).collect::<Vec<_>>(), "round {round}");
    }
}

// ---------------------------------------------------------------------------------------------
// Display and Debug: the strings CPython 3.13 prints for the same steps.

#[test]
fn display_shows_what_python_str_shows() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert_eq!(q.to_string(), "<Queue maxsize=0 _queue=[1, 2] tasks=2>");

    // heapq's layout after five pushes and one pop.
    let p = PriorityQueue::new(0);
    for i in [5, 3, 4, 1, 2] {
        p.put_nowait(i).unwrap();
    }
    assert_eq!(p.get_nowait(), Ok(1));
    assert_eq!(
        p.to_string(),
        "<PriorityQueue maxsize=0 _queue=[2, 3, 4, 5] tasks=5>"
    );

    let l = LifoQueue::new(3);
    l.put_nowait(1).unwrap();
    l.put_nowait(2).unwrap();
    assert_eq!(l.to_string(), "<LifoQueue maxsize=3 _queue=[1, 2] tasks=2>");

    let s = Queue::<i32>::new(0);
    s.shutdown(false);
    assert_eq!(s.to_string(), "<Queue maxsize=0 shutdown>");
}

#[test]
fn debug_is_python_repr_with_the_address() {
    let q = Queue::new(1);
    q.put_nowait("a").unwrap();
    let mut p = pin!(q.put("b"));
    assert!(poll_once(p.as_mut()).is_pending());
    assert_eq!(
        format!("{q:?}"),
        format!(
            "<Queue at {:p} maxsize=1 _queue=[\"a\"] _putters[1] tasks=1>",
            &q
        )
    );
}
