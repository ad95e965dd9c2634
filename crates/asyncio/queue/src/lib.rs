//! `asyncio.Queue`, `LifoQueue` and `PriorityQueue` (with Python 3.13's `shutdown`) on tokio.
//!
//! tokio's channels are split into senders and receivers and close when one side is dropped.
//! asyncio's queue is one object that every task shares: anyone may put, get, wait for the work
//! to be done (`join`) or shut it down. This crate is that object, with asyncio's rules, and
//! works on both tokio runtimes (share it as `Arc<Queue<T>>`, or borrow it in scoped futures).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use queue::{Queue, QueueShutDown};
//!
//! let q = Arc::new(Queue::new(2)); // maxsize 2: a third put waits
//! let consumer = tokio::spawn({
//!     let q = Arc::clone(&q);
//!     async move {
//!         let mut seen = Vec::new();
//!         // get drains what is left after shutdown, then fails.
//!         while let Ok(item) = q.get().await {
//!             seen.push(item);
//!             q.task_done().unwrap();
//!         }
//!         seen
//!     }
//! });
//! for i in 0..5 {
//!     q.put(i).await.unwrap();
//! }
//! q.join().await; // every item was taken and marked done
//! q.shutdown(false);
//! assert_eq!(q.put(5).await, Err(QueueShutDown(5))); // a refused item comes back
//! assert_eq!(consumer.await.unwrap(), [0, 1, 2, 3, 4]);
//! # });
//! ```
//!
//! # What maps to what
//!
//! | asyncio | here |
//! |---|---|
//! | `Queue(maxsize=0)`, `LifoQueue(…)`, `PriorityQueue(…)` | [`Queue::new`], [`LifoQueue::new`], [`PriorityQueue::new`]: one [`OrderedQueue`] with an [`Order`] ([`Fifo`], [`Lifo`], [`Priority`]) |
//! | `await q.put(x)` | [`q.put(x).await`](OrderedQueue::put) → `Result<(), QueueShutDown<T>>` (the refused item comes back) |
//! | `q.put_nowait(x)`, `QueueFull` | [`q.put_nowait(x)`](OrderedQueue::put_nowait) → [`TryPutError::Full`] or [`TryPutError::ShutDown`], with the item |
//! | `await q.get()` | [`q.get().await`](OrderedQueue::get) → `Result<T, QueueShutDown>` |
//! | `q.get_nowait()`, `QueueEmpty` | [`q.get_nowait()`](OrderedQueue::get_nowait) → [`TryGetError::Empty`] or [`TryGetError::ShutDown`] |
//! | `QueueShutDown` | [`QueueShutDown`] |
//! | `q.task_done()`, `ValueError('task_done() called too many times')` | [`q.task_done()`](OrderedQueue::task_done) → [`TaskDoneError`] |
//! | `await q.join()` | [`q.join().await`](OrderedQueue::join) |
//! | `q.shutdown(immediate=False)` | [`q.shutdown(false)`](OrderedQueue::shutdown) |
//! | `q.qsize()`, `q.empty()`, `q.full()`, `q.maxsize` | [`qsize`](OrderedQueue::qsize), [`empty`](OrderedQueue::empty), [`full`](OrderedQueue::full), [`maxsize`](OrderedQueue::maxsize) |
//! | `str(q)`, `repr(q)` | `Display` (`<Queue maxsize=0 _queue=[1, 2] tasks=2>`), `Debug` (the same with `at 0x…`) |
//! | cancelling a task waiting in `get`/`put` | dropping the `get`/`put` future (`abort`, `select!`, `timeout`) |
//!
//! `maxsize` is a `usize`: 0 means unbounded, as any `maxsize <= 0` does in Python. Items in
//! `Display` are shown with their `Debug`, so strings print with double quotes where Python
//! uses single ones.
//!
//! # Guarantees
//!
//! - **Fairness, as asyncio's.** Waiting getters are served in the order they started waiting,
//!   and so are waiting putters. Each `put` wakes the longest-waiting getter, each `get` the
//!   longest-waiting putter. A task that did not have to wait may still take an item or a free
//!   slot before a woken one runs; the woken one then waits again, at the back, as in asyncio.
//! - **Cancel safety.** Dropping a `get` or `put` future loses no item that was in the queue
//!   and holds no slot: a waiter that was woken and then dropped passes its wake-up to the
//!   next waiter (asyncio's `_wakeup_next`). A dropped `put` did not put its item (the item is
//!   dropped with the future). [`join`](OrderedQueue::join) may be dropped at any time.
//! - **Drop.** Dropping the queue drops the items in it. No future can outlive it: they all
//!   borrow it.
//! - **Threads.** `OrderedQueue<T, O>` is `Send + Sync` when `T` is `Send`; its state is behind
//!   one `std::sync::Mutex`, held only for a few instructions and never across an `.await`.
//!   The only user code run under that lock is `Ord` for a [`PriorityQueue`] and `Debug` for
//!   `Display`/`Debug`: they must not use the same queue. Items dropped by `shutdown(true)` are
//!   dropped after the lock is released, and after every waiter has been woken.
//! - **Panics.** A panic in user code under the lock (a `PriorityQueue` item's `Ord`) does not
//!   poison the queue for others; the queue stays usable. A panic in the drop of an item that
//!   `shutdown(true)` removes is reported by the panic hook and goes no further, as CPython
//!   ignores an error in `__del__`: the other items are still dropped, and the waiters, woken
//!   first, still return.
//!
//! # CPython tests not ported
//!
//! Every test of `Lib/test/test_asyncio/test_queues.py` (3.13.0) in the `Queue*`, `LifoQueue*`,
//! `PriorityQueue*`, join and shutdown classes is ported in `tests/`, named as in CPython and run
//! for each queue kind where CPython runs it for each, except:
//!
//! | CPython test | why not |
//! |---|---|
//! | `QueueBasicTests.test_generic_alias` | `asyncio.Queue[int]` is Python's runtime generics; `Queue<i32>` is checked by the compiler. |
//! | `QueuePutTests.test_float_maxsize` | `maxsize` is a `usize`; a float cannot be passed (Python's `1.3` behaves as 2, which `test_full` and `test_maxsize` cover). |
//! | `test_repr`'s `hex(id(q))` | ported as `Debug` showing the queue's address (`{:p}`), not Python's `id`. |
//!
//! `test_get_with_putters` puts a bare future into `q._putters`; the port uses a real waiting
//! putter and observes the wake-up through `Display`'s `_putters[n]`. The `_format` tests read
//! `Display`, and the one that sets `q._unfinished_tasks = 2` puts two items instead.

use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::sync::Notify;

// ---------------------------------------------------------------------------------------------
// Errors

/// `asyncio.QueueShutDown`: a put on a shut-down queue, or a get on a shut-down queue with
/// nothing left. A refused `put` hands its item back in the field; `get` has `()` there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> QueueShutDown<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown: the queue has been shut down")
    }
}

impl<T: fmt::Debug> std::error::Error for QueueShutDown<T> {}

/// Why [`get_nowait`](OrderedQueue::get_nowait) returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryGetError {
    /// `asyncio.QueueEmpty`: nothing to take now.
    Empty,
    /// `asyncio.QueueShutDown`: shut down and nothing left.
    ShutDown,
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("QueueEmpty: the queue is empty"),
            TryGetError::ShutDown => QueueShutDown(()).fmt(f),
        }
    }
}

impl std::error::Error for TryGetError {}

/// Why [`put_nowait`](OrderedQueue::put_nowait) refused an item; the item comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryPutError<T> {
    /// `asyncio.QueueFull`: no free slot now.
    Full(T),
    /// `asyncio.QueueShutDown`: the queue is shut down.
    ShutDown(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::ShutDown(item) => item,
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("QueueFull: the queue is full"),
            TryPutError::ShutDown(_) => QueueShutDown(()).fmt(f),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for TryPutError<T> {}

/// `ValueError('task_done() called too many times')`: more `task_done` calls than items put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ValueError: task_done() called too many times")
    }
}

impl std::error::Error for TaskDoneError {}

// ---------------------------------------------------------------------------------------------
// Orders

/// In which order a queue hands its items out: asyncio's `_init`, `_put` and `_get`.
pub trait Order<T> {
    /// Where the items are kept.
    type Store: Default;
    /// The class name `Display` shows (`Queue`, `LifoQueue`, `PriorityQueue`).
    const NAME: &'static str;
    /// Adds an item.
    fn push(store: &mut Self::Store, item: T);
    /// Takes the next item out, if any.
    fn pop(store: &mut Self::Store) -> Option<T>;
    /// How many items are kept.
    fn len(store: &Self::Store) -> usize;
    /// The items in the order Python's `list(q._queue)` shows them.
    fn items<'a>(store: &'a Self::Store) -> impl Iterator<Item = &'a T>
    where
        T: 'a;
}

/// First in, first out: `asyncio.Queue`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fifo;

/// Last in, first out: `asyncio.LifoQueue`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lifo;

/// Smallest first: `asyncio.PriorityQueue` (a binary min-heap laid out as `heapq`'s).
#[derive(Debug, Clone, Copy, Default)]
pub struct Priority;

impl<T> Order<T> for Fifo {
    type Store = VecDeque<T>;
    const NAME: &'static str = "Queue";
    fn push(store: &mut Self::Store, item: T) {
        store.push_back(item);
    }
    fn pop(store: &mut Self::Store) -> Option<T> {
        store.pop_front()
    }
    fn len(store: &Self::Store) -> usize {
        store.len()
    }
    fn items<'a>(store: &'a Self::Store) -> impl Iterator<Item = &'a T>
    where
        T: 'a,
    {
        store.iter()
    }
}

impl<T> Order<T> for Lifo {
    type Store = Vec<T>;
    const NAME: &'static str = "LifoQueue";
    fn push(store: &mut Self::Store, item: T) {
        store.push(item);
    }
    fn pop(store: &mut Self::Store) -> Option<T> {
        store.pop()
    }
    fn len(store: &Self::Store) -> usize {
        store.len()
    }
    fn items<'a>(store: &'a Self::Store) -> impl Iterator<Item = &'a T>
    where
        T: 'a,
    {
        store.iter()
    }
}

impl<T: Ord> Order<T> for Priority {
    // std's heap sifts as heapq does (push: up; pop: down to a leaf, then up), so with
    // `Reverse` its array is the list Python shows.
    type Store = BinaryHeap<std::cmp::Reverse<T>>;
    const NAME: &'static str = "PriorityQueue";
    fn push(store: &mut Self::Store, item: T) {
        store.push(std::cmp::Reverse(item));
    }
    fn pop(store: &mut Self::Store) -> Option<T> {
        store.pop().map(|std::cmp::Reverse(item)| item)
    }
    fn len(store: &Self::Store) -> usize {
        store.len()
    }
    fn items<'a>(store: &'a Self::Store) -> impl Iterator<Item = &'a T>
    where
        T: 'a,
    {
        store.as_slice().iter().map(|r| &r.0)
    }
}

/// `asyncio.Queue`: first in, first out.
pub type Queue<T> = OrderedQueue<T, Fifo>;
/// `asyncio.LifoQueue`: last in, first out.
pub type LifoQueue<T> = OrderedQueue<T, Lifo>;
/// `asyncio.PriorityQueue`: smallest first (`T: Ord`).
pub type PriorityQueue<T> = OrderedQueue<T, Priority>;

// ---------------------------------------------------------------------------------------------
// Waiters

/// Tasks waiting in `get` (or in `put`), in the order they started: asyncio's `_getters`.
///
/// Each has an id that only grows, so the list stays sorted by id and a waiter finds itself by
/// binary search. Waking one removes it; a waiter that no longer finds itself was woken.
#[derive(Debug, Default)]
struct Waiters {
    list: VecDeque<(u64, Waker)>,
}

impl Waiters {
    fn position(&self, id: u64) -> Option<usize> {
        self.list.binary_search_by_key(&id, |(i, _)| *i).ok()
    }

    /// asyncio's `_wakeup_next`: the waker of the longest waiter, removed (wake it unlocked).
    fn next(&mut self) -> Option<Waker> {
        self.list.pop_front().map(|(_, waker)| waker)
    }
}

/// Where one `get` or `put` call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// Not in the waiters' list (never was, or was woken and has not looked yet).
    Idle,
    /// In the list under this id.
    Waiting(u64),
    /// Returned.
    Done,
}

#[derive(Debug, Clone, Copy)]
enum Side {
    Getters,
    Putters,
}

struct State<T, O: Order<T>> {
    items: O::Store,
    getters: Waiters,
    putters: Waiters,
    next_id: u64,
    unfinished_tasks: usize,
    is_shutdown: bool,
}

impl<T, O: Order<T>> State<T, O> {
    fn len(&self) -> usize {
        O::len(&self.items)
    }

    fn full(&self, maxsize: usize) -> bool {
        maxsize > 0 && self.len() >= maxsize
    }

    fn waiters(&mut self, side: Side) -> &mut Waiters {
        match side {
            Side::Getters => &mut self.getters,
            Side::Putters => &mut self.putters,
        }
    }

    /// Keeps a waiter in line: registers it at the back, or refreshes its waker if it is still
    /// there. `Idle` means "not in the list": woken, or never waited.
    fn wait<R>(&mut self, side: Side, wait: &mut Wait, cx: &Context<'_>) -> Poll<R> {
        if let Wait::Waiting(id) = *wait
            && let Some(i) = self.waiters(side).position(id)
        {
            let slot = &mut self.waiters(side).list[i].1;
            if !slot.will_wake(cx.waker()) {
                slot.clone_from(cx.waker());
            }
            return Poll::Pending;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.waiters(side).list.push_back((id, cx.waker().clone()));
        *wait = Wait::Waiting(id);
        Poll::Pending
    }

    /// Whether a waiter is still in line (not woken yet); `Idle` once it was woken.
    fn still_waiting(&mut self, side: Side, wait: &mut Wait) -> bool {
        if let Wait::Waiting(id) = *wait {
            if self.waiters(side).position(id).is_some() {
                return true;
            }
            *wait = Wait::Idle;
        }
        false
    }
}

/// A `get` or `put` call leaving, by returning or by being dropped (the `except:` branch of
/// asyncio's `get`/`put`).
struct Leave<'a, T, O: Order<T>> {
    queue: &'a OrderedQueue<T, O>,
    side: Side,
    wait: Wait,
}

impl<T, O: Order<T>> Drop for Leave<'_, T, O> {
    fn drop(&mut self) {
        let Wait::Waiting(id) = self.wait else {
            return;
        };
        let mut state = self.queue.state();
        let side = self.side;
        if let Some(i) = state.waiters(side).position(id) {
            // Never woken: just leave the line.
            state.waiters(side).list.remove(i);
            return;
        }
        // Woken, but leaving without taking the item or the slot: pass the wake-up on.
        let can_go = match side {
            Side::Getters => state.len() > 0,
            Side::Putters => !state.full(self.queue.maxsize),
        };
        let next = if can_go {
            state.waiters(side).next()
        } else {
            None
        };
        drop(state);
        if let Some(waker) = next {
            waker.wake();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The queue

/// A queue for tasks with asyncio's rules; [`Queue`], [`LifoQueue`] and [`PriorityQueue`] name
/// its three orders.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use queue::{LifoQueue, PriorityQueue, Queue};
///
/// let fifo = Queue::new(0);
/// let lifo = LifoQueue::new(0);
/// let prio = PriorityQueue::new(0);
/// for i in [1, 3, 2] {
///     fifo.put(i).await.unwrap();
///     lifo.put(i).await.unwrap();
///     prio.put(i).await.unwrap();
/// }
/// assert_eq!(fifo.to_string(), "<Queue maxsize=0 _queue=[1, 3, 2] tasks=3>");
/// let mut out = Vec::new();
/// for _ in 0..3 {
///     out.push((fifo.get().await.unwrap(), lifo.get().await.unwrap(), prio.get().await.unwrap()));
/// }
/// assert_eq!(out, [(1, 2, 1), (3, 3, 2), (2, 1, 3)]);
/// # });
/// ```
pub struct OrderedQueue<T, O: Order<T>> {
    maxsize: usize,
    state: Mutex<State<T, O>>,
    /// asyncio's `_finished` event: notified when the count of unfinished tasks reaches 0.
    finished: Notify,
    _order: PhantomData<fn() -> O>,
}

impl<T, O: Order<T>> Default for OrderedQueue<T, O> {
    /// An unbounded queue, as `asyncio.Queue()`.
    fn default() -> Self {
        Self::new(0)
    }
}

impl<T, O: Order<T>> OrderedQueue<T, O> {
    /// A queue that holds at most `maxsize` items; `0` means no limit.
    ///
    /// ```
    /// let q = queue::Queue::<u8>::new(0);
    /// assert!(!q.full());
    /// assert_eq!(q.maxsize(), 0);
    /// ```
    pub fn new(maxsize: usize) -> Self {
        Self {
            maxsize,
            state: Mutex::new(State {
                items: O::Store::default(),
                getters: Waiters::default(),
                putters: Waiters::default(),
                next_id: 0,
                unfinished_tasks: 0,
                is_shutdown: false,
            }),
            finished: Notify::new(),
            _order: PhantomData,
        }
    }

    fn state(&self) -> MutexGuard<'_, State<T, O>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many items the queue may hold; 0 for no limit.
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// How many items are in the queue.
    pub fn qsize(&self) -> usize {
        self.state().len()
    }

    /// Whether the queue has no items.
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Whether the queue holds `maxsize` items (never, when `maxsize` is 0).
    pub fn full(&self) -> bool {
        self.state().full(self.maxsize)
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shutdown(&self) -> bool {
        self.state().is_shutdown
    }

    /// Puts an item in without waiting: an error if the queue is full or shut down.
    ///
    /// Wakes the longest-waiting getter, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use queue::{Queue, TryPutError};
    /// let q = Queue::new(1);
    /// assert_eq!(q.put_nowait("a"), Ok(()));
    /// assert_eq!(q.put_nowait("b"), Err(TryPutError::Full("b")));
    /// q.shutdown(false);
    /// assert_eq!(q.put_nowait("c"), Err(TryPutError::ShutDown("c")));
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
        let mut state = self.state();
        let getter = Self::put_locked(&mut state, self.maxsize, item)?;
        drop(state);
        if let Some(waker) = getter {
            waker.wake();
        }
        Ok(())
    }

    /// `put_nowait` under the lock; returns the getter to wake.
    fn put_locked(
        state: &mut State<T, O>,
        maxsize: usize,
        item: T,
    ) -> Result<Option<Waker>, TryPutError<T>> {
        if state.is_shutdown {
            return Err(TryPutError::ShutDown(item));
        }
        if state.full(maxsize) {
            return Err(TryPutError::Full(item));
        }
        O::push(&mut state.items, item);
        state.unfinished_tasks += 1;
        Ok(state.getters.next())
    }

    /// Puts an item in, waiting while the queue is full.
    ///
    /// Fails with [`QueueShutDown`], handing the item back, if the queue is shut down before
    /// the item could go in, including while this call waits.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
    /// use std::time::Duration;
    /// let q = queue::Queue::new(1);
    /// q.put(1).await.unwrap();
    /// // Full: the second put waits until a get frees the slot.
    /// let second = tokio::time::timeout(Duration::from_secs(1), q.put(2)).await;
    /// assert!(second.is_err());
    /// assert_eq!(q.qsize(), 1); // the timed-out put did not put its item
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe in that dropping it never loses an item that was in the
    /// queue and never keeps a slot: if it was woken for a free slot and is dropped before
    /// using it, the next waiting putter is woken instead. If it is dropped before it returns,
    /// its item was not put, and is dropped with the future.
    pub async fn put(&self, item: T) -> Result<(), QueueShutDown<T>> {
        let mut item = Some(item);
        let mut leave = Leave {
            queue: self,
            side: Side::Putters,
            wait: Wait::Idle,
        };
        let getter = poll_fn(|cx| {
            let mut state = self.state();
            if state.still_waiting(Side::Putters, &mut leave.wait) {
                return state.wait(Side::Putters, &mut leave.wait, cx);
            }
            let Some(it) = item.take() else {
                // Polled again after it returned: a bug in the caller, not a state of ours.
                return Poll::Ready(Ok(None));
            };
            if state.full(self.maxsize) && !state.is_shutdown {
                item = Some(it);
                return state.wait(Side::Putters, &mut leave.wait, cx);
            }
            leave.wait = Wait::Done;
            Poll::Ready(match Self::put_locked(&mut state, self.maxsize, it) {
                Ok(getter) => Ok(getter),
                Err(e) => Err(QueueShutDown(e.into_inner())),
            })
        })
        .await?;
        if let Some(waker) = getter {
            waker.wake();
        }
        Ok(())
    }

    /// Takes the next item without waiting: [`TryGetError::Empty`] if there is none,
    /// [`TryGetError::ShutDown`] if there is none and the queue is shut down.
    ///
    /// Wakes the longest-waiting putter, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use queue::{Queue, TryGetError};
    /// let q = Queue::new(0);
    /// assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    /// q.put_nowait(7).unwrap();
    /// q.shutdown(false);
    /// assert_eq!(q.get_nowait(), Ok(7)); // what is left can still be taken
    /// assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
    /// ```
    pub fn get_nowait(&self) -> Result<T, TryGetError> {
        let mut state = self.state();
        let (item, putter) = Self::get_locked(&mut state)?;
        drop(state);
        if let Some(waker) = putter {
            waker.wake();
        }
        Ok(item)
    }

    /// `get_nowait` under the lock; returns the putter to wake.
    fn get_locked(state: &mut State<T, O>) -> Result<(T, Option<Waker>), TryGetError> {
        match O::pop(&mut state.items) {
            Some(item) => Ok((item, state.putters.next())),
            None if state.is_shutdown => Err(TryGetError::ShutDown),
            None => Err(TryGetError::Empty),
        }
    }

    /// Takes the next item, waiting while the queue is empty.
    ///
    /// After [`shutdown(false)`](Self::shutdown) it still returns what is left, then fails
    /// with [`QueueShutDown`]; after `shutdown(true)` nothing is left.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// let q = Arc::new(queue::Queue::new(0));
    /// let getter = tokio::spawn({
    ///     let q = Arc::clone(&q);
    ///     async move { q.get().await }
    /// });
    /// tokio::task::yield_now().await; // the getter is waiting
    /// q.put("x").await.unwrap();
    /// assert_eq!(getter.await.unwrap(), Ok("x"));
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: if it is dropped before it returns, no item was taken. If it
    /// was woken for an item and is dropped before taking it, the next waiting getter is woken
    /// instead, so the item is not left behind while others wait.
    pub async fn get(&self) -> Result<T, QueueShutDown> {
        let mut leave = Leave {
            queue: self,
            side: Side::Getters,
            wait: Wait::Idle,
        };
        let (item, putter) = poll_fn(|cx| {
            let mut state = self.state();
            if state.still_waiting(Side::Getters, &mut leave.wait) {
                return state.wait(Side::Getters, &mut leave.wait, cx);
            }
            match Self::get_locked(&mut state) {
                Ok(got) => {
                    leave.wait = Wait::Done;
                    Poll::Ready(Ok(got))
                }
                Err(TryGetError::ShutDown) => {
                    leave.wait = Wait::Done;
                    Poll::Ready(Err(QueueShutDown(())))
                }
                Err(TryGetError::Empty) => state.wait(Side::Getters, &mut leave.wait, cx),
            }
        })
        .await?;
        if let Some(waker) = putter {
            waker.wake();
        }
        Ok(item)
    }

    /// Marks one item taken from the queue as processed; when every item put has been marked,
    /// [`join`](Self::join) returns.
    ///
    /// Fails with [`TaskDoneError`] if called more times than items were put (items dropped by
    /// `shutdown(true)` count as marked).
    ///
    /// ```
    /// let q = queue::Queue::new(0);
    /// q.put_nowait(()).unwrap();
    /// q.get_nowait().unwrap();
    /// assert_eq!(q.task_done(), Ok(()));
    /// assert_eq!(q.task_done(), Err(queue::TaskDoneError));
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut state = self.state();
        if state.unfinished_tasks == 0 {
            return Err(TaskDoneError);
        }
        state.unfinished_tasks -= 1;
        let finished = state.unfinished_tasks == 0;
        drop(state);
        if finished {
            self.finished.notify_waiters();
        }
        Ok(())
    }

    /// Waits until every item put has been marked with [`task_done`](Self::task_done).
    ///
    /// As asyncio's `Event`, it returns once the count has reached 0 after it started waiting,
    /// even if new items were put before it ran again.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let q = queue::Queue::new(0);
    /// q.join().await; // nothing put: returns at once
    /// q.put(1).await.unwrap();
    /// q.get().await.unwrap();
    /// q.task_done().unwrap();
    /// q.join().await;
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it changes nothing in the queue.
    pub async fn join(&self) {
        let finished = self.finished.notified();
        tokio::pin!(finished);
        // Registered before looking, so a `task_done` between the look and the wait is seen.
        finished.as_mut().enable();
        if self.state().unfinished_tasks > 0 {
            finished.await;
        }
    }

    /// Shuts the queue down: every `put` fails with [`QueueShutDown`] from now on, and every
    /// waiting getter and putter is woken to look again.
    ///
    /// With `immediate = false`, getters still take what is left, then fail. With
    /// `immediate = true`, what is left is dropped and counted as done (so [`join`](Self::join)
    /// can return), and every `get` fails at once: the waiters are woken first, then the items
    /// dropped, each on its own (a panicking drop is reported and goes no further, as CPython
    /// ignores an error in `__del__`). Calling it again is allowed.
    ///
    /// ```
    /// let q = queue::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.shutdown(true);
    /// assert_eq!(q.qsize(), 0);
    /// assert_eq!(q.to_string(), "<Queue maxsize=0 shutdown>"); // the dropped item counts as done
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        let mut state = self.state();
        state.is_shutdown = true;
        let mut finished = false;
        let mut dropped = None;
        if immediate {
            // Taken whole, so no user code (a `PriorityQueue` item's `Ord`) runs under the lock.
            let items = std::mem::take(&mut state.items);
            state.unfinished_tasks = state.unfinished_tasks.saturating_sub(O::len(&items));
            finished = state.unfinished_tasks == 0;
            dropped = Some(items);
        }
        let getters = std::mem::take(&mut state.getters.list);
        let putters = std::mem::take(&mut state.putters.list);
        drop(state);
        // Everyone is woken before any item is dropped, so a drop that panics cannot leave
        // them waiting.
        if finished {
            self.finished.notify_waiters();
        }
        for (_, waker) in getters.into_iter().chain(putters) {
            waker.wake();
        }
        if let Some(items) = dropped {
            drop_each::<T, O>(items);
        }
    }

    /// asyncio's `_format`: what `Display` and `Debug` show after the class name.
    fn format(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result
    where
        T: fmt::Debug,
    {
        let state = self.state();
        write!(f, "maxsize={}", self.maxsize)?;
        if state.len() > 0 {
            f.write_str(" _queue=")?;
            f.debug_list().entries(O::items(&state.items)).finish()?;
        }
        if !state.getters.list.is_empty() {
            write!(f, " _getters[{}]", state.getters.list.len())?;
        }
        if !state.putters.list.is_empty() {
            write!(f, " _putters[{}]", state.putters.list.len())?;
        }
        if state.unfinished_tasks > 0 {
            write!(f, " tasks={}", state.unfinished_tasks)?;
        }
        if state.is_shutdown {
            f.write_str(" shutdown")?;
        }
        Ok(())
    }
}

/// Drops the items `shutdown(true)` removed, one at a time, as CPython lets them go: a panic
/// in one item's drop (or in a `PriorityQueue` item's `Ord` while it is taken out) is
/// reported by the panic hook and stops neither `shutdown` nor the drops of the others, as
/// CPython reports an error in `__del__` ("Exception ignored in") and goes on.
fn drop_each<T, O: Order<T>>(mut items: O::Store) {
    // Each pop takes one item out, even one that panics; the bound holds for any `Order`.
    for _ in 0..O::len(&items) {
        let popped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            O::pop(&mut items).map(drop).is_some()
        }));
        if matches!(popped, Ok(false)) {
            break;
        }
    }
    // Empty for this crate's orders; what another `Order` left is dropped with its store.
    drop(items);
}

/// Python's `str(q)`: `<Queue maxsize=1 _queue=[1] _putters[1] tasks=1>`.
impl<T: fmt::Debug, O: Order<T>> fmt::Display for OrderedQueue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} ", O::NAME)?;
        self.format(f)?;
        f.write_str(">")
    }
}

/// Python's `repr(q)`: `<Queue at 0x… maxsize=0 _getters[1]>`.
impl<T: fmt::Debug, O: Order<T>> fmt::Debug for OrderedQueue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} at {:p} ", O::NAME, self)?;
        self.format(f)?;
        f.write_str(">")
    }
}
