//! CPython 3.13's `Lib/test/test_asyncio/test_queues.py`, ported test by test.
//!
//! Each test keeps CPython's name and scenario. `await asyncio.sleep(0)` is
//! `tokio::task::yield_now()`, a `Task` is a spawned task, `task.cancel()` is `abort()`,
//! `task.done()` is `is_finished()`, `loop.call_later(d, f)` a task that sleeps `d` on the
//! paused clock, and CPython's mixins over `Queue`, `LifoQueue` and `PriorityQueue` become one
//! module per kind (`fifo`, `lifo`, `priority`). Scenarios whose outcome does not depend on the
//! interleaving of one thread run on the multi-thread runtime too (`multi_thread` modules).
//! Where CPython reads `q._getters`/`q._putters`, the port reads `Display`, which shows them.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use queue::{Order, OrderedQueue, Queue, QueueShutDown, TaskDoneError, TryGetError, TryPutError};

/// `await asyncio.sleep(0)`: let every other ready task run once.
async fn sleep0() {
    tokio::task::yield_now().await;
}

/// A queue kind that can be shared between tasks.
trait Kind<T>: Order<T, Store: Send> + Send + Sync + 'static {}
impl<T, O> Kind<T> for O where O: Order<T, Store: Send> + Send + Sync + 'static {}

/// Runs each listed generic test once per queue kind, in modules `fifo`, `lifo`, `priority`.
macro_rules! per_kind {
    ($($(#[$attr:meta])+ fn $name:ident;)*) => {
        per_kind!(@kind fifo queue::Fifo; $($(#[$attr])+ fn $name;)*);
        per_kind!(@kind lifo queue::Lifo; $($(#[$attr])+ fn $name;)*);
        per_kind!(@kind priority queue::Priority; $($(#[$attr])+ fn $name;)*);
    };
    (@kind $kind:ident $order:ty; $($(#[$attr:meta])+ fn $name:ident;)*) => {
        mod $kind {
            $( $(#[$attr])+ async fn $name() { super::$name::<$order>().await } )*
        }
    };
}

/// Fails the test instead of hanging when tasks wait for each other forever: on the paused
/// clock, an idle runtime jumps straight to the deadline.
async fn completes<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(3600), f)
        .await
        .expect("deadlock: every task is waiting")
}

// ---------------------------------------------------------------------------------------------
/// `QueueBasicTests`.
mod basic {
    use super::*;

    /// `_test_repr_or_str`: `show` is `repr` (Debug) or `str` (Display).
    async fn test_repr_or_str(show: fn(&Queue<i32>) -> String, expect_id: bool) {
        let q = Queue::<i32>::new(0);
        assert!(show(&q).starts_with("<Queue"), "{}", show(&q));
        let id_is_present = show(&q).contains(&format!("{:p}", &q));
        assert_eq!(expect_id, id_is_present);

        // getters
        let q = Arc::new(Queue::new(0));
        let getter = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.get().await }
        });
        sleep0().await;
        assert!(show(&q).contains("_getters[1]"), "{}", show(&q));
        q.put_nowait(0).unwrap();
        assert_eq!(getter.await.unwrap(), Ok(0));

        // putters
        let q = Arc::new(Queue::new(1));
        q.put_nowait(1).unwrap();
        let putter = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.put(2).await }
        });
        sleep0().await;
        assert!(show(&q).contains("_putters[1]"), "{}", show(&q));
        q.get_nowait().unwrap();
        assert_eq!(putter.await.unwrap(), Ok(()));

        let q = Queue::new(0);
        q.put_nowait(1).unwrap();
        assert!(show(&q).contains("_queue=[1]"), "{}", show(&q));
    }

    #[tokio::test]
    async fn test_repr() {
        test_repr_or_str(|q| format!("{q:?}"), true).await;
    }

    #[tokio::test]
    async fn test_str() {
        test_repr_or_str(|q| q.to_string(), false).await;
    }

    #[tokio::test]
    async fn test_empty() {
        let q = Queue::new(0);
        assert!(q.empty());
        q.put(1).await.unwrap();
        assert!(!q.empty());
        assert_eq!(q.get().await, Ok(1));
        assert!(q.empty());
    }

    #[tokio::test]
    async fn test_full() {
        let q = Queue::<i32>::new(0);
        assert!(!q.full());

        let q = Queue::new(1);
        q.put(1).await.unwrap();
        assert!(q.full());
    }

    #[tokio::test]
    async fn test_order() {
        let q = Queue::new(0);
        for i in [1, 3, 2] {
            q.put(i).await.unwrap();
        }
        let mut items = Vec::new();
        for _ in 0..3 {
            items.push(q.get().await.unwrap());
        }
        assert_eq!(items, [1, 3, 2]);
    }

    #[tokio::test]
    async fn test_maxsize() {
        let q = Arc::new(Queue::new(2));
        assert_eq!(q.maxsize(), 2);
        let have_been_put = Arc::new(Mutex::new(Vec::new()));

        let t = tokio::spawn({
            let (q, have_been_put) = (Arc::clone(&q), Arc::clone(&have_been_put));
            async move {
                for i in 0..3 {
                    q.put(i).await.unwrap();
                    have_been_put.lock().unwrap().push(i);
                }
                true
            }
        });
        for _ in 0..2 {
            sleep0().await;
        }

        // The putter is blocked after putting two items.
        assert_eq!(*have_been_put.lock().unwrap(), [0, 1]);
        assert_eq!(q.get().await, Ok(0));

        // Let the putter resume and put the last item.
        sleep0().await;
        assert_eq!(*have_been_put.lock().unwrap(), [0, 1, 2]);
        assert_eq!(q.get().await, Ok(1));
        assert_eq!(q.get().await, Ok(2));

        assert!(t.is_finished());
        assert!(t.await.unwrap());
    }
}

// ---------------------------------------------------------------------------------------------
/// `QueueGetTests`.
mod get {
    use super::*;

    #[tokio::test]
    async fn test_blocking_get() {
        let q = Queue::new(0);
        q.put_nowait(1).unwrap();
        assert_eq!(q.get().await, Ok(1));
    }

    /// CPython appends a bare future to `q._putters`; here a real putter waits, and the get
    /// wakes it at once: it leaves `_putters` before `get` returns, and its put then succeeds.
    #[tokio::test]
    async fn test_get_with_putters() {
        let q = Arc::new(Queue::new(1));
        q.put(1).await.unwrap();

        let waiter = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.put(2).await }
        });
        sleep0().await;
        assert!(q.to_string().contains("_putters[1]"), "{q}");

        assert_eq!(q.get().await, Ok(1));
        assert!(!q.to_string().contains("_putters"), "{q}");
        assert_eq!(waiter.await.unwrap(), Ok(()));
        assert_eq!(q.get_nowait(), Ok(2));
    }

    #[tokio::test(start_paused = true)]
    async fn test_blocking_get_wait() {
        let q = Arc::new(Queue::new(0));
        let started = Arc::new(tokio::sync::Notify::new());
        let finished = Arc::new(AtomicBool::new(false));

        let queue_get_task = tokio::spawn({
            let (q, started, finished) = (Arc::clone(&q), started.clone(), finished.clone());
            async move {
                started.notify_one();
                let res = q.get().await;
                finished.store(true, Ordering::SeqCst);
                res
            }
        });
        started.notified().await;
        assert!(!finished.load(Ordering::SeqCst));
        tokio::spawn({
            let q = Arc::clone(&q);
            async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                q.put_nowait(1).unwrap();
            }
        });
        let res = queue_get_task.await.unwrap();
        assert!(finished.load(Ordering::SeqCst));
        assert_eq!(res, Ok(1));
    }

    #[test]
    fn test_nonblocking_get() {
        let q = Queue::new(0);
        q.put_nowait(1).unwrap();
        assert_eq!(q.get_nowait(), Ok(1));
    }

    #[test]
    fn test_nonblocking_get_exception() {
        let q = Queue::<i32>::new(0);
        assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    }

    #[tokio::test(start_paused = true)]
    async fn test_get_cancelled_race() {
        let q = Arc::new(Queue::new(0));
        let t1 = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.get().await }
        });
        let t2 = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.get().await }
        });

        sleep0().await;
        t1.abort();
        sleep0().await;
        assert!(t1.is_finished());
        q.put("a").await.unwrap();
        sleep0().await;
        assert_eq!(completes(t2).await.unwrap(), Ok("a"));
        assert!(t1.await.unwrap_err().is_cancelled());
    }

    async fn get_with_waiting_putters() {
        let q = Arc::new(Queue::new(1));
        let putter = |item| {
            let q = Arc::clone(&q);
            tokio::spawn(async move { q.put(item).await })
        };
        putter("a");
        // asyncio runs tasks in the order they were created; on two worker threads tokio may
        // not, so "b"'s putter is spawned once "a" is in: it then waits, as in asyncio.
        while !q.full() {
            sleep0().await;
        }
        putter("b");
        assert_eq!(q.get().await, Ok("a"));
        assert_eq!(q.get().await, Ok("b"));
    }

    #[tokio::test(start_paused = true)]
    async fn test_get_with_waiting_putters() {
        completes(get_with_waiting_putters()).await;
    }

    async fn why_are_getters_waiting() {
        const PRODUCER_NUM_ITEMS: i32 = 5;
        let q = Arc::new(Queue::new(1));
        let producer = tokio::spawn({
            let q = Arc::clone(&q);
            async move {
                for i in 0..PRODUCER_NUM_ITEMS {
                    q.put(i).await.unwrap();
                }
            }
        });
        let consumer = tokio::spawn({
            let q = Arc::clone(&q);
            async move {
                for _ in 0..PRODUCER_NUM_ITEMS {
                    q.get().await.unwrap();
                }
            }
        });
        producer.await.unwrap();
        consumer.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn test_why_are_getters_waiting() {
        completes(why_are_getters_waiting()).await;
    }

    #[tokio::test(start_paused = true)]
    async fn test_cancelled_getters_not_being_held_in_self_getters() {
        let q = Queue::<i32>::new(5);
        let timed_out = tokio::time::timeout(Duration::from_millis(100), q.get()).await;
        assert!(timed_out.is_err());
        assert!(!q.to_string().contains("_getters"), "{q}");
    }

    mod multi_thread {
        use super::*;

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn test_get_with_waiting_putters() {
            get_with_waiting_putters().await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn test_why_are_getters_waiting() {
            why_are_getters_waiting().await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
/// `QueuePutTests`.
mod put {
    use super::*;

    #[tokio::test]
    async fn test_blocking_put() {
        let q = Queue::new(0);
        // No maxsize: does not wait.
        q.put(1).await.unwrap();
        assert_eq!(q.get().await, Ok(1));
    }

    #[tokio::test(start_paused = true)]
    async fn test_blocking_put_wait() {
        let q = Arc::new(Queue::new(1));
        let started = Arc::new(tokio::sync::Notify::new());
        let finished = Arc::new(AtomicBool::new(false));

        tokio::spawn({
            let q = Arc::clone(&q);
            async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                q.get_nowait().unwrap();
            }
        });
        let queue_put_task = tokio::spawn({
            let (q, started, finished) = (Arc::clone(&q), started.clone(), finished.clone());
            async move {
                started.notify_one();
                q.put(1).await.unwrap();
                q.put(2).await.unwrap();
                finished.store(true, Ordering::SeqCst);
            }
        });
        started.notified().await;
        assert!(!finished.load(Ordering::SeqCst));
        queue_put_task.await.unwrap();
        assert!(finished.load(Ordering::SeqCst));
    }

    #[test]
    fn test_nonblocking_put() {
        let q = Queue::new(0);
        q.put_nowait(1).unwrap();
        assert_eq!(q.get_nowait(), Ok(1));
    }

    #[tokio::test(start_paused = true)]
    async fn test_get_cancel_drop_one_pending_reader() {
        let q = Arc::new(Queue::new(0));
        let spawn_get = || {
            let q = Arc::clone(&q);
            tokio::spawn(async move { q.get().await })
        };
        let reader = spawn_get();
        sleep0().await;

        q.put_nowait(1).unwrap();
        q.put_nowait(2).unwrap();
        reader.abort();

        let result = match reader.await {
            Err(e) if e.is_cancelled() => completes(spawn_get()).await.unwrap(),
            other => other.unwrap(),
        };
        // Getting 2 would mean 1 was dropped.
        assert_eq!(result, Ok(1));
    }

    #[tokio::test(start_paused = true)]
    async fn test_get_cancel_drop_many_pending_readers() {
        let q = Arc::new(Queue::new(0));
        let spawn_get = || {
            let q = Arc::clone(&q);
            tokio::spawn(async move { q.get().await })
        };
        let reader1 = spawn_get();
        let reader2 = spawn_get();
        let reader3 = spawn_get();
        sleep0().await;

        q.put_nowait(1).unwrap();
        q.put_nowait(2).unwrap();
        reader1.abort();
        assert!(reader1.await.unwrap_err().is_cancelled());

        let r3 = completes(reader3).await.unwrap().unwrap();
        let r2 = completes(reader2).await.unwrap().unwrap();
        // Which concurrent reader gets which item is not defined.
        let mut got = [r2, r3];
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    }

    #[tokio::test(start_paused = true)]
    async fn test_put_cancel_drop() {
        let q = Arc::new(Queue::new(1));
        q.put_nowait(1).unwrap();
        let spawn_put = || {
            let q = Arc::clone(&q);
            tokio::spawn(async move { q.put(2).await })
        };

        // A second put has to wait (qsize 1).
        let writer = spawn_put();
        sleep0().await;

        assert_eq!(q.get_nowait(), Ok(1));

        writer.abort();
        match writer.await {
            Err(e) if e.is_cancelled() => completes(spawn_put()).await.unwrap().unwrap(),
            other => other.unwrap().unwrap(),
        }

        assert_eq!(q.get_nowait(), Ok(2));
        assert_eq!(q.qsize(), 0);
    }

    #[test]
    fn test_nonblocking_put_exception() {
        let q = Queue::new(1);
        q.put_nowait(1).unwrap();
        assert_eq!(q.put_nowait(2), Err(TryPutError::Full(2)));
    }

    #[tokio::test]
    async fn test_put_cancelled() {
        let q = Arc::new(Queue::new(0));
        let t = tokio::spawn({
            let q = Arc::clone(&q);
            async move {
                q.put(1).await.unwrap();
                true
            }
        });
        assert_eq!(q.get().await, Ok(1));
        assert!(t.is_finished());
        assert!(t.await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn test_put_cancelled_race() {
        let q = Arc::new(Queue::new(1));
        let spawn_put = |item| {
            let q = Arc::clone(&q);
            tokio::spawn(async move { q.put(item).await })
        };
        let put_a = spawn_put("a");
        let put_b = spawn_put("b");
        let put_c = spawn_put("X");

        sleep0().await;
        assert!(put_a.is_finished());
        assert!(!put_b.is_finished());

        put_c.abort();
        sleep0().await;
        assert!(put_c.is_finished());
        assert_eq!(q.get_nowait(), Ok("a"));
        sleep0().await;
        assert_eq!(q.get_nowait(), Ok("b"));

        assert_eq!(completes(put_b).await.unwrap(), Ok(()));
        assert_eq!(put_a.await.unwrap(), Ok(()));
        assert!(put_c.await.unwrap_err().is_cancelled());
    }

    #[tokio::test]
    async fn test_put_with_waiting_getters() {
        let q = Arc::new(Queue::new(0));
        let t = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.get().await }
        });
        sleep0().await;
        q.put("a").await.unwrap();
        assert_eq!(t.await.unwrap(), Ok("a"));
    }

    async fn why_are_putters_waiting() {
        let q = Arc::new(Queue::new(2));
        let getter = tokio::spawn({
            let q = Arc::clone(&q);
            async move {
                sleep0().await;
                // In asyncio that `sleep(0)` lets the four putters run: two put, two wait for
                // room. On two worker threads one yield does not promise it (the putters may
                // not even have been spawned), and a getter that takes fewer than two items
                // leaves putters waiting forever; so it waits until two putters wait.
                while !q.to_string().contains("_putters[2]") {
                    sleep0().await;
                }
                let num = q.qsize();
                for _ in 0..num {
                    q.get_nowait().unwrap();
                }
            }
        });
        let putters: Vec<_> = (0..4)
            .map(|item| {
                let q = Arc::clone(&q);
                tokio::spawn(async move { q.put(item).await })
            })
            .collect();
        getter.await.unwrap();
        for putter in putters {
            putter.await.unwrap().unwrap();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn test_why_are_putters_waiting() {
        completes(why_are_putters_waiting()).await;
    }

    #[tokio::test]
    async fn test_cancelled_puts_not_being_held_in_self_putters() {
        // Full queue.
        let q = Arc::new(Queue::new(1));
        q.put_nowait(1).unwrap();

        // A task waiting for room to put an item.
        let put_task = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.put(1).await }
        });
        sleep0().await;

        // Cancelling it takes it out of the putters.
        assert!(q.to_string().contains("_putters[1]"), "{q}");
        put_task.abort();
        assert!(put_task.await.unwrap_err().is_cancelled());
        assert!(!q.to_string().contains("_putters"), "{q}");
    }

    #[tokio::test]
    async fn test_cancelled_put_silence_value_error_exception() {
        // Full queue.
        let q = Arc::new(Queue::new(1));
        q.put_nowait(1).unwrap();

        // A task waiting for room to put an item.
        let put_task = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.put(1).await }
        });
        sleep0().await;

        // get_nowait takes the waiting putter out of the line (it wakes it)...
        q.get_nowait().unwrap();
        // ...so when cancelled it is no longer in the line, and it must end cancelled all
        // the same, not fail another way.
        put_task.abort();
        assert!(put_task.await.unwrap_err().is_cancelled());
    }

    mod multi_thread {
        use super::*;

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn test_why_are_putters_waiting() {
            why_are_putters_waiting().await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
/// `LifoQueueTests` and `PriorityQueueTests`.
mod order {
    use super::*;

    async fn order<O: Order<i32>>() -> Vec<i32> {
        let q = OrderedQueue::<i32, O>::new(0);
        for i in [1, 3, 2] {
            q.put(i).await.unwrap();
        }
        let mut items = Vec::new();
        for _ in 0..3 {
            items.push(q.get().await.unwrap());
        }
        items
    }

    mod lifo {
        #[tokio::test]
        async fn test_order() {
            assert_eq!(super::order::<queue::Lifo>().await, [2, 3, 1]);
        }
    }

    mod priority {
        #[tokio::test]
        async fn test_order() {
            assert_eq!(super::order::<queue::Priority>().await, [1, 2, 3]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
/// `_QueueJoinTestMixin`, for each queue kind.
mod join {
    use super::*;

    async fn test_task_done_underflow<O: Kind<u64>>() {
        let q = OrderedQueue::<u64, O>::new(0);
        assert_eq!(q.task_done(), Err(TaskDoneError));
    }

    async fn test_task_done<O: Kind<u64>>() {
        let q = Arc::new(OrderedQueue::<u64, O>::new(0));
        for i in 0..100 {
            q.put_nowait(i).unwrap();
        }
        let accumulator = Arc::new(AtomicU64::new(0));
        let running = Arc::new(AtomicBool::new(true));

        // Two workers take items and mark each done; join waits until all are.
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let (q, accumulator, running) = (q.clone(), accumulator.clone(), running.clone());
                tokio::spawn(async move {
                    while running.load(Ordering::SeqCst) {
                        let item = q.get().await.unwrap();
                        accumulator.fetch_add(item, Ordering::SeqCst);
                        q.task_done().unwrap();
                    }
                })
            })
            .collect();

        q.join().await;
        assert_eq!(accumulator.load(Ordering::SeqCst), (0..100).sum::<u64>());

        // Let the workers end.
        running.store(false, Ordering::SeqCst);
        for _ in 0..tasks.len() {
            q.put_nowait(0).unwrap();
        }
        for task in tasks {
            task.await.unwrap();
        }
    }

    async fn test_join_empty_queue<O: Kind<u64>>() {
        let q = OrderedQueue::<u64, O>::new(0);
        // join returns at once, twice.
        q.join().await;
        q.join().await;
    }

    /// CPython sets `q._unfinished_tasks = 2`; here two items are put and taken, not marked.
    async fn test_format<O: Kind<u64>>() {
        let q = OrderedQueue::<u64, O>::new(0);
        assert_eq!(q.to_string(), format!("<{} maxsize=0>", O::NAME));

        for i in 0..2 {
            q.put_nowait(i).unwrap();
            q.get_nowait().unwrap();
        }
        assert_eq!(q.to_string(), format!("<{} maxsize=0 tasks=2>", O::NAME));
    }

    per_kind! {
        #[tokio::test] fn test_task_done_underflow;
        #[tokio::test(start_paused = true)] fn test_task_done;
        #[tokio::test] fn test_join_empty_queue;
        #[tokio::test] fn test_format;
    }

    mod multi_thread {
        use super::*;
        per_kind! {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)] fn test_task_done;
        }
    }
}

// ---------------------------------------------------------------------------------------------
/// `_QueueShutdownTestMixin`, for each queue kind.
mod shutdown {
    use super::*;

    type Q<O> = Arc<OrderedQueue<String, O>>;

    fn s(text: &str) -> String {
        text.to_owned()
    }

    fn new<O: Kind<String>>(maxsize: usize) -> Q<O> {
        Arc::new(OrderedQueue::new(maxsize))
    }

    /// After shutdown, put and get fail both ways, waiting and not.
    async fn assert_put_and_get_fail<O: Kind<String>>(q: &Q<O>) {
        assert_eq!(q.put(s("data")).await, Err(QueueShutDown(s("data"))));
        assert_eq!(
            q.put_nowait(s("data")),
            Err(TryPutError::ShutDown(s("data")))
        );
        assert_eq!(q.get().await, Err(QueueShutDown(())));
        assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
    }

    async fn test_format<O: Kind<String>>() {
        let q = new::<O>(0);
        q.shutdown(false);
        assert_eq!(q.to_string(), format!("<{} maxsize=0 shutdown>", O::NAME));
    }

    async fn test_shutdown_empty<O: Kind<String>>() {
        // An empty queue, and a get task waiting on it.
        let q = new::<O>(0);
        let get_task = tokio::spawn({
            let q = q.clone();
            async move { q.get().await }
        });
        sleep0().await; // the get task waits before the shutdown

        q.shutdown(false); // unfinished tasks: 0 -> 0
        assert_eq!(q.qsize(), 0);

        // join returns.
        q.join().await;

        // The get task ended with QueueShutDown.
        sleep0().await;
        assert!(get_task.is_finished());
        assert_eq!(get_task.await.unwrap(), Err(QueueShutDown(())));

        assert_put_and_get_fail(&q).await;
    }

    async fn test_shutdown_nonempty<O: Kind<String>>() {
        // A full queue of one item, a join task and a put task.
        let q = new::<O>(1);
        q.put_nowait(s("data")).unwrap();
        let join_task = tokio::spawn({
            let q = q.clone();
            async move { q.join().await }
        });
        let put_task = tokio::spawn({
            let q = q.clone();
            async move { q.put(s("data2")).await }
        });

        // The put task waits.
        sleep0().await;
        assert!(!put_task.is_finished());

        q.shutdown(false); // unfinished tasks: 1 -> 1
        assert_eq!(q.qsize(), 1);

        // The put task ended with QueueShutDown.
        sleep0().await;
        assert!(put_task.is_finished());
        assert_eq!(put_task.await.unwrap(), Err(QueueShutDown(s("data2"))));

        // What was queued can still be taken.
        assert_eq!(q.get().await, Ok(s("data")));

        // join still waits.
        sleep0().await;
        assert!(!join_task.is_finished());

        assert_put_and_get_fail(&q).await;

        // One unfinished task: marking it lets join return.
        q.task_done().unwrap();
        sleep0().await;
        assert!(join_task.is_finished());
        join_task.await.unwrap();

        assert_eq!(
            q.task_done(),
            Err(TaskDoneError),
            "every task is marked done"
        );
    }

    async fn test_shutdown_immediate<O: Kind<String>>() {
        // A queue of one item, and a join task.
        let q = new::<O>(0);
        q.put_nowait(s("data")).unwrap();
        let join_task = tokio::spawn({
            let q = q.clone();
            async move { q.join().await }
        });

        q.shutdown(true); // unfinished tasks: 1 -> 0
        assert_eq!(q.qsize(), 0);

        // join returned.
        sleep0().await;
        assert!(join_task.is_finished());
        join_task.await.unwrap();

        assert_put_and_get_fail(&q).await;

        assert_eq!(
            q.task_done(),
            Err(TaskDoneError),
            "every task is marked done"
        );
    }

    async fn test_shutdown_immediate_with_unfinished<O: Kind<String>>() {
        // A queue of two items, one taken, and a join task.
        let q = new::<O>(0);
        q.put_nowait(s("data")).unwrap();
        q.put_nowait(s("data")).unwrap();
        let join_task = tokio::spawn({
            let q = q.clone();
            async move { q.join().await }
        });
        assert_eq!(q.get().await, Ok(s("data")));

        q.shutdown(true); // unfinished tasks: 2 -> 1
        assert_eq!(q.qsize(), 0);

        // join still waits.
        sleep0().await;
        assert!(!join_task.is_finished());

        assert_put_and_get_fail(&q).await;

        // One unfinished task.
        q.task_done().unwrap();
        assert_eq!(
            q.task_done(),
            Err(TaskDoneError),
            "every task is marked done"
        );

        // join returned.
        sleep0().await;
        assert!(join_task.is_finished());
        join_task.await.unwrap();
    }

    per_kind! {
        #[tokio::test] fn test_format;
        #[tokio::test] fn test_shutdown_empty;
        #[tokio::test] fn test_shutdown_nonempty;
        #[tokio::test] fn test_shutdown_immediate;
        #[tokio::test] fn test_shutdown_immediate_with_unfinished;
    }
}
