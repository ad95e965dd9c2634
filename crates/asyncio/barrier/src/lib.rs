//! `asyncio.Barrier` (Python 3.11) on tokio.
//!
//! tokio has `tokio::sync::Barrier`, but it is not asyncio's: it has no states, no abort or
//! reset, its `wait` tells only whether the caller was the leader, and a waiter that is dropped
//! still counts as arrived. This one follows asyncio's rules:
//!
//! - States: `filling` (waiters gather) → `draining` (the last arrival released them; they
//!   are leaving) → `filling` again once every one has left. Tasks that arrive while it drains
//!   wait for the next round.
//! - [`Barrier::wait`] returns the arrival index, 0 … parties − 1; the last arrival releases.
//! - [`Barrier::abort`] breaks the barrier: waiters and later arrivals get
//!   [`BrokenBarrierError`] until [`Barrier::reset`].
//! - [`Barrier::reset`] breaks the current waiters and, once they have left, fills again.
//! - A waiter that is cancelled (its future dropped) leaves the barrier.
//! - `Display` is Python's repr: `<barrier::Barrier object at 0x… [filling, waiters:2/3]>`.
//!
//! CPython 3.13's `BarrierTests` are ported in `tests/cpython.rs`. What has no counterpart
//! there: `Barrier(-4)` (`parties` is a `usize`), `await barrier` (a `Barrier` is not
//! awaitable, checked at compile time), and reading `barrier._count` (not exposed; that test
//! counts the tasks that have come out of `wait` instead).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! let b = Arc::new(barrier::Barrier::new(2));
//! let other = tokio::spawn({
//!     let b = Arc::clone(&b);
//!     async move { b.wait().await }
//! });
//! tokio::task::yield_now().await;
//! assert_eq!(b.n_waiting(), 1);
//! assert_eq!(b.wait().await, Ok(1)); // the last arrival
//! assert_eq!(other.await.unwrap(), Ok(0));
//! # });
//! ```

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// Raised to waiters of an aborted or reset barrier, and to arrivals at a broken one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenBarrierError;

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BrokenBarrierError: the barrier was aborted or reset")
    }
}

impl std::error::Error for BrokenBarrierError {}

/// Where a barrier is in its cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Filling,
    Draining,
    Resetting,
    Broken,
}

impl State {
    /// The name Python's repr shows.
    pub fn name(self) -> &'static str {
        match self {
            State::Filling => "filling",
            State::Draining => "draining",
            State::Resetting => "resetting",
            State::Broken => "broken",
        }
    }
}

#[derive(Debug)]
struct Inner {
    state: State,
    /// Tasks inside `wait`, past the gate: waiting, or released and not yet gone.
    count: usize,
}

/// A barrier for `parties` tasks, with asyncio's rules.
#[derive(Debug)]
pub struct Barrier {
    parties: usize,
    inner: Mutex<Inner>,
    /// Every change of state wakes every task in `wait` to look again (`notify_all`).
    changed: Notify,
}

impl Barrier {
    /// A filling barrier for `parties` tasks.
    ///
    /// # Panics
    /// If `parties` is 0, as Python raises `ValueError`.
    pub fn new(parties: usize) -> Self {
        assert!(parties > 0, "parties must be > 0");
        Self {
            parties,
            inner: Mutex::new(Inner {
                state: State::Filling,
                count: 0,
            }),
            changed: Notify::new(),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until the state satisfies `ready`, then runs `then` on it under the lock.
    async fn wait_until<R>(
        &self,
        ready: impl Fn(State) -> bool,
        then: impl FnOnce(&mut Inner) -> R,
    ) -> R {
        let mut then = Some(then);
        loop {
            // Registered before looking, so a change between the look and the await is seen.
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inner = self.inner();
                if ready(inner.state)
                    && let Some(then) = then.take()
                {
                    return then(&mut inner);
                }
            }
            notified.await;
        }
    }

    /// Passes the barrier: waits until `parties` tasks are waiting, then all go on together.
    /// Returns this task's arrival index; the last arrival (index `parties − 1`) releases.
    pub async fn wait(&self) -> Result<usize, BrokenBarrierError> {
        // Block while the barrier drains or resets; fail at once if it is broken.
        let index = self
            .wait_until(
                |s| !matches!(s, State::Draining | State::Resetting),
                |inner| {
                    if inner.state == State::Broken {
                        return Err(BrokenBarrierError);
                    }
                    inner.count += 1;
                    Ok(inner.count - 1)
                },
            )
            .await?;
        // From here this task counts as inside; leaving, however it leaves, is `Exit`'s job.
        let _exit = Exit(self);
        if index + 1 == self.parties {
            self.inner().state = State::Draining;
            self.changed.notify_waiters();
            return Ok(index);
        }
        self.wait_until(|s| s != State::Filling, |inner| inner.state)
            .await
            .eq(&State::Draining)
            .then_some(index)
            .ok_or(BrokenBarrierError)
    }

    /// Breaks the barrier: waiters and new arrivals fail until [`reset`](Barrier::reset).
    pub fn abort(&self) {
        self.inner().state = State::Broken;
        self.changed.notify_waiters();
    }

    /// Back to filling: current waiters fail with [`BrokenBarrierError`], and the barrier fills
    /// again once they have left (it is `resetting` until then).
    pub fn reset(&self) {
        {
            let mut inner = self.inner();
            inner.state = if inner.count > 0 {
                State::Resetting
            } else {
                State::Filling
            };
        }
        self.changed.notify_waiters();
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.inner().state
    }

    /// Tasks waiting to fill the barrier (0 unless it is filling).
    pub fn n_waiting(&self) -> usize {
        let inner = self.inner();
        if inner.state == State::Filling {
            inner.count
        } else {
            0
        }
    }

    /// How many tasks it takes to pass.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// Whether the barrier is broken.
    pub fn broken(&self) -> bool {
        self.state() == State::Broken
    }
}

/// A task leaving `wait`, by returning, failing or being cancelled (`finally:` in Python).
struct Exit<'a>(&'a Barrier);

impl Drop for Exit<'_> {
    fn drop(&mut self) {
        let mut inner = self.0.inner();
        inner.count -= 1;
        if inner.count == 0 {
            if matches!(inner.state, State::Resetting | State::Draining) {
                inner.state = State::Filling;
            }
            drop(inner);
            self.0.changed.notify_waiters();
        }
    }
}

impl fmt::Display for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        write!(
            f,
            "<barrier::Barrier object at {:p} [{}",
            self,
            state.name()
        )?;
        if state != State::Broken {
            write!(f, ", waiters:{}/{}", self.n_waiting(), self.parties)?;
        }
        f.write_str("]>")
    }
}

#[cfg(test)]
mod tests;
