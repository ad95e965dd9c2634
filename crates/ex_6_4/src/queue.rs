//! The smallest faithful `asyncio.Queue` with Python 3.13's `shutdown()`.
//!
//! tokio's channels close when a *side* is dropped; asyncio's queue is one shared object that
//! anyone may shut down. This queue is unbounded (`asyncio.Queue()` with no `maxsize`):
//! - after `shutdown()`, `put` fails with [`QueueShutDown`];
//! - `get` still returns what is left, then fails with [`QueueShutDown`] once empty, and
//!   getters already waiting are woken to fail;
//! - `shutdown_immediate()` (`shutdown(immediate=True)`) also discards what is left.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// Raised by `put` after shutdown, and by `get` once a shut-down queue is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueShutDown;

impl fmt::Display for QueueShutDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown: the queue has been shut down")
    }
}

impl std::error::Error for QueueShutDown {}

/// An unbounded FIFO queue for tasks, with shutdown.
#[derive(Debug)]
pub struct Queue<T> {
    state: Mutex<State<T>>,
    /// Wakes getters when an item arrives or the queue shuts down.
    changed: Notify,
}

#[derive(Debug)]
struct State<T> {
    items: VecDeque<T>,
    shut_down: bool,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Queue<T> {
    /// An empty, open queue.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State {
                items: VecDeque::new(),
                shut_down: false,
            }),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `await queue.put(item)`: never waits, as the queue is unbounded.
    pub async fn put(&self, item: T) -> Result<(), QueueShutDown> {
        self.put_nowait(item)
    }

    /// `queue.put_nowait(item)`.
    pub fn put_nowait(&self, item: T) -> Result<(), QueueShutDown> {
        let mut state = self.state();
        if state.shut_down {
            return Err(QueueShutDown);
        }
        state.items.push_back(item);
        drop(state);
        self.changed.notify_one();
        Ok(())
    }

    /// `await queue.get()`: the oldest item, waiting for one while the queue is open and empty.
    pub async fn get(&self) -> Result<T, QueueShutDown> {
        loop {
            // Register interest before looking, so a put or shutdown between the look and the
            // wait is not missed.
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.state();
                if let Some(item) = state.items.pop_front() {
                    let more = !state.items.is_empty();
                    drop(state);
                    if more {
                        // Pass the baton: another getter may be waiting for the next item.
                        self.changed.notify_one();
                    }
                    return Ok(item);
                }
                if state.shut_down {
                    return Err(QueueShutDown);
                }
            }
            notified.await;
        }
    }

    /// `queue.shutdown()`: refuse new items; what is queued can still be taken.
    pub fn shutdown(&self) {
        self.state().shut_down = true;
        self.changed.notify_waiters();
    }

    /// `queue.shutdown(immediate=True)`: refuse new items and discard what is queued.
    pub fn shutdown_immediate(&self) {
        {
            let mut state = self.state();
            state.shut_down = true;
            state.items.clear();
        }
        self.changed.notify_waiters();
    }

    /// `queue.qsize()`.
    pub fn qsize(&self) -> usize {
        self.state().items.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn items_come_out_in_order() {
        let q = Queue::new();
        for i in 0..3 {
            q.put(i).await.unwrap();
        }
        assert_eq!(q.qsize(), 3);
        for i in 0..3 {
            assert_eq!(q.get().await, Ok(i));
        }
    }

    #[tokio::test]
    async fn put_after_shutdown_errors() {
        let q = Queue::new();
        q.put(1).await.unwrap();
        q.shutdown();
        assert_eq!(q.put(2).await, Err(QueueShutDown));
        assert_eq!(q.put_nowait(3), Err(QueueShutDown));
        assert_eq!(q.qsize(), 1, "the refused items were not queued");
    }

    #[tokio::test]
    async fn get_drains_what_is_left_then_errors() {
        let q = Queue::new();
        q.put("a").await.unwrap();
        q.put("b").await.unwrap();
        q.shutdown();
        assert_eq!(q.get().await, Ok("a"));
        assert_eq!(q.get().await, Ok("b"));
        assert_eq!(q.get().await, Err(QueueShutDown));
    }

    #[tokio::test]
    async fn immediate_shutdown_discards_what_is_left() {
        let q = Queue::new();
        q.put(1).await.unwrap();
        q.shutdown_immediate();
        assert_eq!(q.qsize(), 0);
        assert_eq!(q.get().await, Err(QueueShutDown));
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_getters_wake_to_error_on_shutdown() {
        let q = Arc::new(Queue::<u8>::new());
        let getters: Vec<_> = (0..3)
            .map(|_| {
                let q = Arc::clone(&q);
                tokio::spawn(async move { q.get().await })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(1)).await; // every getter is now waiting
        q.shutdown();
        for g in getters {
            assert_eq!(g.await.unwrap(), Err(QueueShutDown));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_getters_each_receive_one_item() {
        let q = Arc::new(Queue::new());
        let getters: Vec<_> = (0..3)
            .map(|_| {
                let q = Arc::clone(&q);
                tokio::spawn(async move { q.get().await })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(1)).await;
        for i in 0..3 {
            q.put(i).await.unwrap();
        }
        let mut got: Vec<_> = Vec::new();
        for g in getters {
            got.push(g.await.unwrap().unwrap());
        }
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
    }
}
