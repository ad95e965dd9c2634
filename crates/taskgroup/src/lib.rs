//! `asyncio.TaskGroup` on tokio, with `asyncio.eager_task_factory`'s eager start.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use taskgroup::TaskGroup;
//!
//! // async with asyncio.TaskGroup() as tg: ...
//! let mut tg = TaskGroup::eager();
//! let first = tg.spawn(async { 2 });
//! let second = tg.spawn(async {
//!     tokio::task::yield_now().await; // suspends: handed to the runtime
//!     3
//! });
//! let done = tg.join().await; // leaving the `async with` block
//! assert_eq!((done.eager, done.scheduled), (1, 1));
//! assert_eq!((first.into_result(), second.into_result()), (Some(2), Some(3)));
//! # });
//! ```
//!
//! # Eager start
//!
//! With [`TaskGroup::eager`], [`TaskGroup::spawn`] polls the new future once, right where it is
//! called, before returning. A future that finishes in that poll never becomes a tokio task: no
//! allocation, no scheduling, and its result is in the handle at once. A future that does not
//! finish is handed to the runtime, which polls it again from the start of its next turn.
//!
//! Where this differs from Python: asyncio's eager step runs the coroutine as its own Task, so
//! `asyncio.current_task()` inside it is the new task. Here the eager poll runs inside the
//! *parent* task, so `tokio::task::try_id()` during that first poll returns the parent's id;
//! from the first suspension on, the future is a task of its own.
//!
//! The eager poll uses a no-op waker. That is sound because a future that returns `Pending`
//! is always polled again once spawned, and by the `Future` contract only the waker of the
//! latest poll must be woken.

use std::any::{Any, TypeId};
use std::future::poll_fn;
use std::panic;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::task::JoinSet;

/// A scope of tasks: [`join`](TaskGroup::join) returns once every task spawned into it has ended.
///
/// Dropping a group before `join` finishes aborts the tasks still running in it.
#[derive(Debug, Default)]
pub struct TaskGroup {
    tasks: JoinSet<()>,
    eager: bool,
    eager_done: u64,
    /// The heap place the eager path polls futures in, reused while futures finish eagerly:
    /// a `Pin<Box<Option<F>>>` for the last future type `F` spawned, with that type's id.
    scratch: Option<(TypeId, Box<dyn Any + Send>)>,
}

/// How many tasks of a group completed, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Completed {
    /// Finished in their eager first poll, never becoming tokio tasks.
    pub eager: u64,
    /// Ran as tokio tasks to completion.
    pub scheduled: u64,
}

impl Completed {
    /// Every task that completed.
    pub fn total(self) -> u64 {
        self.eager + self.scheduled
    }
}

/// The result of one task of a group, readable once the task has ended.
#[derive(Debug)]
pub struct TaskHandle<T>(Slot<T>);

#[derive(Debug)]
enum Slot<T> {
    Done(T),
    Later(Arc<Mutex<Option<T>>>),
}

impl<T> TaskHandle<T> {
    /// The task's output, or `None` while it has not finished (or if it was aborted).
    pub fn into_result(self) -> Option<T> {
        match self.0 {
            Slot::Done(value) => Some(value),
            Slot::Later(cell) => cell.lock().unwrap_or_else(PoisonError::into_inner).take(),
        }
    }
}

impl TaskGroup {
    /// A group whose tasks start as tokio tasks do: scheduled, first polled by the runtime.
    pub fn new() -> Self {
        Self::default()
    }

    /// A group whose tasks start eagerly (see the [crate docs](crate#eager-start)).
    pub fn eager() -> Self {
        Self {
            eager: true,
            ..Self::default()
        }
    }

    /// Whether this group starts its tasks eagerly.
    pub fn is_eager(&self) -> bool {
        self.eager
    }

    /// Adds a task running `future` to the group (`tg.create_task(coro)`).
    ///
    /// Must be called within a tokio runtime. A panic in the eager poll unwinds into the caller.
    pub fn spawn<F>(&mut self, future: F) -> TaskHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if !self.eager {
            return self.schedule(future);
        }
        let place = self.scratch_for::<F>();
        let mut slot = place.as_mut();
        slot.set(Some(future));
        let mut cx = Context::from_waker(Waker::noop());
        match slot.as_mut().as_pin_mut().map(|f| f.poll(&mut cx)) {
            Some(Poll::Ready(value)) => {
                slot.set(None); // drop the finished future in place; keep the memory
                self.eager_done += 1;
                TaskHandle(Slot::Done(value))
            }
            _ => {
                // Suspended: the pinned future moves to the runtime inside its box; the next
                // eager spawn gets a fresh place.
                let mut pinned = std::mem::replace(place, Box::pin(None));
                self.schedule(poll_fn(move |cx| match pinned.as_mut().as_pin_mut() {
                    Some(f) => f.poll(cx),
                    None => unreachable!("a suspended eager future stays in its place"),
                }))
            }
        }
    }

    /// Waits until every task of the group has ended (leaving `async with`), and counts them.
    ///
    /// A task that panicked makes `join` panic with the same payload once the others have been
    /// awaited, as an exception in a task propagates out of Python's `TaskGroup`.
    pub async fn join(mut self) -> Completed {
        let mut done = Completed {
            eager: self.eager_done,
            scheduled: 0,
        };
        let mut panicked = None;
        while let Some(ended) = self.tasks.join_next().await {
            match ended {
                Ok(()) => done.scheduled += 1,
                Err(e) if e.is_panic() => panicked = panicked.or(Some(e.into_panic())),
                Err(_) => {} // aborted
            }
        }
        if let Some(payload) = panicked {
            panic::resume_unwind(payload);
        }
        done
    }

    fn schedule<F>(&mut self, future: F) -> TaskHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let cell = Arc::new(Mutex::new(None));
        let out = Arc::clone(&cell);
        self.tasks.spawn(async move {
            let value = future.await;
            *out.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
        });
        TaskHandle(Slot::Later(cell))
    }

    fn scratch_for<F: Send + 'static>(&mut self) -> &mut Pin<Box<Option<F>>> {
        let wanted = TypeId::of::<Pin<Box<Option<F>>>>();
        let place = match &mut self.scratch {
            Some((held, place)) if *held == wanted => place,
            scratch => &mut scratch.insert((wanted, Box::new(Box::pin(None::<F>)))).1,
        };
        let place: *mut (dyn Any + Send) = &mut **place;
        // SAFETY: the TypeId stored beside the box is always the id of the box's content (both
        // are set together just above), and it equals `wanted`, so the content is a
        // `Pin<Box<Option<F>>>`. This is `downcast_mut` without its second, dynamically
        // dispatched type check, which costs a third of an eagerly finished task.
        #[allow(unsafe_code)]
        unsafe {
            &mut *place.cast::<Pin<Box<Option<F>>>>()
        }
    }
}

#[cfg(test)]
mod tests;
