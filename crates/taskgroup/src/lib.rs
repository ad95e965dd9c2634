//! `asyncio.TaskGroup` on tokio, with `asyncio.eager_task_factory`'s eager start.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use taskgroup::{Start, TaskGroup, scope};
//!
//! // async with asyncio.TaskGroup() as tg:
//! let ((first, second), done) = scope(Start::Eager, async |tg: &mut TaskGroup| {
//!     let first = tg.spawn(async { 2 })?;
//!     let second = tg.spawn(async {
//!         tokio::task::yield_now().await; // suspends: handed to the runtime
//!         3
//!     })?;
//!     Ok((first, second))
//! })
//! .await?; // the end of `async with`: every task has ended
//! assert_eq!((done.eager, done.scheduled), (1, 1));
//! assert_eq!((first.result(), second.result()), (Some(2), Some(3)));
//! # anyhow::Ok(()) }).unwrap();
//! ```
//!
//! # What carries over from asyncio
//!
//! - [`scope`] returns only when every task spawned into the group has ended.
//! - The first failure, a task's `Err` or panic, cancels the tasks still running *and the body
//!   of the scope* (as asyncio cancels the parent task), and [`TaskGroup::spawn`] refuses new
//!   tasks from then on: the future is dropped, never run. The scope then returns every failure
//!   together in a [`GroupError`], Python's `ExceptionGroup`, including an error the body itself
//!   returned.
//! - Dropping the scope's future (cancelling its owner) aborts every task of the group.
//!
//! # Eager start
//!
//! With [`Start::Eager`], [`TaskGroup::spawn`] polls the new future once, right where it is
//! called. A future that finishes in that poll never becomes a tokio task: no allocation, no
//! scheduling, and its result is in the handle at once. A future that does not finish is handed
//! to the runtime, which polls it again from the start of its next turn.
//!
//! Where this differs from Python: asyncio's eager step runs the coroutine as its own Task, so
//! `asyncio.current_task()` inside it is the new task. Here the eager poll runs inside the
//! *parent* task, so `tokio::task::try_id()` during that first poll returns the parent's id;
//! from the first suspension on, the future is a task of its own.
//!
//! The eager poll uses a no-op waker. That is sound because a future that returns `Pending`
//! is always polled again once spawned, and by the `Future` contract only the waker of the
//! latest poll must be woken.

mod gather;

pub use gather::{Gather, gather};

use std::any::{Any, TypeId};
use std::fmt;
use std::future::poll_fn;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use futures::FutureExt;
use tokio::sync::Notify;
use tokio::sync::futures::OwnedNotified;
use tokio::task::JoinHandle;

/// How a group starts its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// As tokio tasks start: scheduled, first polled by the runtime.
    Scheduled,
    /// As with `asyncio.eager_task_factory`: polled once where they are spawned.
    Eager,
}

/// One task's failure, or the scope body's.
#[derive(Debug)]
pub enum Failure {
    /// An error the task (or the body) returned.
    Error(anyhow::Error),
    /// A panic, with its message.
    Panic(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(e) => write!(f, "{e:#}"),
            Failure::Panic(msg) => write!(f, "panicked: {msg}"),
        }
    }
}

/// Every failure of a group, in the order they happened: Python's `ExceptionGroup`.
#[derive(Debug)]
pub struct GroupError {
    pub failures: Vec<Failure>,
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        write!(
            f,
            "unhandled errors in a TaskGroup ({n} sub-exception{})",
            if n == 1 { "" } else { "s" }
        )?;
        for failure in &self.failures {
            write!(f, "; {failure}")?;
        }
        Ok(())
    }
}

impl std::error::Error for GroupError {}

/// `spawn` on a group that is shutting down: the future was dropped, never run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TaskGroup is shutting down")
    }
}

impl std::error::Error for Refused {}

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

/// The result of one task of a group (`task.result()`), readable once the task has ended.
#[derive(Debug)]
pub struct TaskHandle<T>(Slot<T>);

#[derive(Debug)]
enum Slot<T> {
    Done(T),
    Failed,
    Task(JoinHandle<Option<T>>),
}

impl<T> TaskHandle<T> {
    /// The task's value, or `None` if it has not finished, failed or was cancelled.
    pub fn result(self) -> Option<T> {
        match self.0 {
            Slot::Done(value) => Some(value),
            Slot::Failed => None,
            Slot::Task(handle) => handle.now_or_never().and_then(Result::ok).flatten(),
        }
    }
}

/// What the tasks of one group share.
#[derive(Debug, Default)]
struct Shared {
    /// Scheduled tasks not yet ended (completed, failed or aborted).
    live: AtomicUsize,
    ended: Notify,
    /// Set at the first failure, or when the group is dropped: the group is shutting down,
    /// and every scheduled task still running is cancelled.
    shutting_down: AtomicBool,
    shut_down: Arc<Notify>,
    failures: Mutex<Vec<Failure>>,
}

impl Shared {
    fn fail(&self, failure: Failure) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(failure);
        self.shut_down();
    }

    fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::Release);
        self.shut_down.notify_waiters();
    }

    fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// Returns once the group is shutting down.
    async fn wait_shut_down(&self) {
        loop {
            let notified = self.shut_down.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_shutting_down() {
                return;
            }
            notified.await;
        }
    }

    /// Returns once no scheduled task is live.
    async fn wait_ended(&self) {
        while self.live.load(Ordering::Acquire) > 0 {
            // `notify_one` keeps a permit when nobody waits, so the last task's wake-up is not
            // lost between the load and the await.
            self.ended.notified().await;
        }
    }
}

pin_project_lite::pin_project! {
    /// A scheduled task of the group: runs `future`, turns its output into the task's value or
    /// a failure of the group, and ends early, dropping `future`, when the group shuts down.
    struct Child<F, O> {
        #[pin]
        future: F,
        outcome: Option<O>,
        // Dropped after `future`: the scope's wait for its tasks covers the drop of each future.
        live: Live,
        // Registered for the group's shutdown only once the task first suspends, so a task that
        // finishes in its first poll costs little more than a bare tokio task.
        cancel: Option<Pin<Box<OwnedNotified>>>,
    }
}

impl<F, O, T> Future for Child<F, O>
where
    F: Future,
    O: FnOnce(F::Output) -> anyhow::Result<T>,
{
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.project();
        let shared = &this.live.0;
        let failure = match panic::catch_unwind(AssertUnwindSafe(|| this.future.poll(cx))) {
            Ok(Poll::Ready(out)) => match this.outcome.take().map(|outcome| outcome(out)) {
                Some(Ok(value)) => return Poll::Ready(Some(value)),
                Some(Err(e)) => Failure::Error(e),
                None => unreachable!("a finished task is not polled again"),
            },
            Ok(Poll::Pending) => {
                let shutdown = this.cancel.get_or_insert_with(|| {
                    Box::pin(Arc::clone(&shared.shut_down).notified_owned())
                });
                // Registered first, checked second: a shutdown between the two is not missed.
                if shutdown.as_mut().poll(cx).is_ready() || shared.is_shutting_down() {
                    return Poll::Ready(None); // cancelled: the future is dropped unfinished
                }
                return Poll::Pending;
            }
            Err(payload) => Failure::Panic(panic_message(&*payload)),
        };
        shared.fail(failure);
        Poll::Ready(None)
    }
}

/// Counts a scheduled task as live until its future is dropped: completed or aborted.
struct Live(Arc<Shared>);

impl Drop for Live {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.ended.notify_one();
        }
    }
}

/// The group a [`scope`] body spawns into (`tg` in `async with TaskGroup() as tg`).
#[derive(Debug)]
pub struct TaskGroup {
    start: Start,
    shared: Arc<Shared>,
    eager_done: u64,
    /// Tasks handed to the runtime. When the scope ends without a failure, every one of them
    /// completed: only a failure or the group's drop cancels tasks.
    scheduled: u64,
    /// The heap place the eager path polls futures in, reused while futures finish eagerly:
    /// a `Pin<Box<Option<F>>>` for the last future type `F` spawned, with that type's id.
    scratch: Option<(TypeId, Box<dyn Any + Send>)>,
}

/// Runs `body` with a new group and returns once every task of the group has ended
/// (`async with asyncio.TaskGroup() as tg: body`).
///
/// Returns the body's value and the count of completed tasks, or every failure.
pub async fn scope<T, B>(start: Start, body: B) -> Result<(T, Completed), GroupError>
where
    B: AsyncFnOnce(&mut TaskGroup) -> anyhow::Result<T>,
{
    let mut tg = TaskGroup::new(start);
    let shared = Arc::clone(&tg.shared);
    // The body runs until it ends or a task fails; a failure drops (cancels) it. A body that
    // ends with an error in the same turn as a task's failure still has its error counted,
    // as Python's `__aexit__` adds the body's exception to the group's.
    let value = tokio::select! {
        biased;
        ended = body(&mut tg) => match ended {
            Ok(value) => Some(value),
            Err(e) => {
                shared.fail(Failure::Error(e));
                None
            }
        },
        () = shared.wait_shut_down() => None,
    };
    // A failure, now or while we wait, cancels every task still running.
    shared.wait_ended().await;
    let failures = std::mem::take(
        &mut *shared
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    match value {
        Some(value) if failures.is_empty() => Ok((
            value,
            Completed {
                eager: tg.eager_done,
                scheduled: tg.scheduled,
            },
        )),
        _ => Err(GroupError { failures }),
    }
}

impl Drop for TaskGroup {
    fn drop(&mut self) {
        // The owner was cancelled (or the scope ended): nothing of the group keeps running.
        self.shared.shut_down();
    }
}

impl TaskGroup {
    fn new(start: Start) -> Self {
        Self {
            start,
            shared: Arc::default(),
            eager_done: 0,
            scheduled: 0,
            scratch: None,
        }
    }

    /// How this group starts its tasks.
    pub fn start(&self) -> Start {
        self.start
    }

    /// Adds a task running `future` to the group (`tg.create_task(coro)`); it fails only by
    /// panicking. Refused once the group is shutting down.
    pub fn spawn<F>(&mut self, future: F) -> Result<TaskHandle<F::Output>, Refused>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(future, Ok)
    }

    /// Adds a task whose `Err` is a failure of the group, as an exception in an asyncio task is.
    pub fn spawn_fallible<F, T, E>(&mut self, future: F) -> Result<TaskHandle<T>, Refused>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<anyhow::Error>,
    {
        self.spawn_with(future, |out| out.map_err(Into::into))
    }

    fn spawn_with<F, T, O>(&mut self, future: F, outcome: O) -> Result<TaskHandle<T>, Refused>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: FnOnce(F::Output) -> anyhow::Result<T> + Send + 'static,
    {
        if self.shared.is_shutting_down() {
            return Err(Refused);
        }
        if self.start == Start::Scheduled {
            return Ok(self.schedule(future, outcome));
        }
        let place = self.scratch_for::<F>();
        let mut slot = place.as_mut();
        slot.set(Some(future));
        let mut cx = Context::from_waker(Waker::noop());
        let polled = panic::catch_unwind(AssertUnwindSafe(|| {
            slot.as_mut().as_pin_mut().map(|f| f.poll(&mut cx))
        }));
        match polled {
            Ok(Some(Poll::Ready(out))) => {
                slot.set(None); // drop the finished future in place; keep the memory
                Ok(match outcome(out) {
                    Ok(value) => {
                        self.eager_done += 1;
                        TaskHandle(Slot::Done(value))
                    }
                    Err(e) => {
                        self.shared.fail(Failure::Error(e));
                        TaskHandle(Slot::Failed)
                    }
                })
            }
            Ok(_) => {
                // Suspended: the pinned future moves to the runtime inside its box; the next
                // eager spawn gets a fresh place.
                let mut pinned = std::mem::replace(place, Box::pin(None));
                let resumed = poll_fn(move |cx| match pinned.as_mut().as_pin_mut() {
                    Some(f) => f.poll(cx),
                    None => unreachable!("a suspended eager future stays in its place"),
                });
                Ok(self.schedule(resumed, outcome))
            }
            Err(payload) => {
                self.scratch = None; // the panicked future is dropped with its place
                self.shared.fail(Failure::Panic(panic_message(&*payload)));
                Ok(TaskHandle(Slot::Failed))
            }
        }
    }

    fn schedule<F, T, O>(&mut self, future: F, outcome: O) -> TaskHandle<T>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: FnOnce(F::Output) -> anyhow::Result<T> + Send + 'static,
    {
        self.scheduled += 1;
        self.shared.live.fetch_add(1, Ordering::AcqRel);
        let live = Live(Arc::clone(&self.shared));
        TaskHandle(Slot::Task(tokio::spawn(Child {
            future,
            outcome: Some(outcome),
            live,
            cancel: None,
        })))
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

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-text payload".to_owned())
}

#[cfg(test)]
mod tests;
