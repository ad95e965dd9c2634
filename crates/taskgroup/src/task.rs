//! One task of a group: its handle (`asyncio.Task` as the group's owner sees it) and the
//! future that runs it on tokio.

use std::fmt;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe};
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::task::JoinHandle;
use tokio::task::coop;

use crate::current::{self, TaskId};
use crate::group::{GroupRef, Live, Shared};
use crate::{Failure, panic_message};

/// How one task ended, or that it has not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Not ended: not yet polled, running a step, or suspended.
    Pending,
    /// Returned a value.
    Done,
    /// Returned an error or panicked: a failure of its group.
    Failed,
    /// Cancelled (by [`TaskHandle::cancel`] or its group's shutdown) before it finished.
    Cancelled,
}

/// A task's name, shared by its handle and its listing: one pointer, so that a handle stays
/// small (the eager path returns one for every task).
pub(crate) type Name = Arc<String>;

/// How a scheduled task ended: the output of its tokio task, which its handle reads through
/// the `JoinHandle`: the tokio task holds the value, so no cell is shared beside it.
pub(crate) enum Ended<T> {
    Done(T),
    Failed,
    Cancelled,
}

/// What the group's listing keeps of a task, under the listing's lock: an entry is made when
/// the task first suspends (a task that ends in its first step costs no lock), or at its spawn
/// if it has a name, which only the listing keeps for its task.
pub(crate) struct Listed {
    pub(crate) name: Option<Name>,
    /// The task's own waker, from its first suspension on; the listing shows only the tasks
    /// that have one. It wakes the task to see that its group is shutting down. Tokio polls a
    /// task with its own waker every time, so the first one stays valid.
    pub(crate) waker: Option<Waker>,
    pub(crate) state: TaskState,
    pub(crate) cancel_requested: bool,
}

impl Listed {
    pub(crate) fn new(name: Option<Name>) -> Self {
        Self {
            name,
            waker: None,
            state: TaskState::Pending,
            cancel_requested: false,
        }
    }
}

/// Why awaiting a [`TaskHandle`] gave no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskError {
    /// The task was cancelled (`CancelledError`).
    Cancelled,
    /// The task failed; the failure itself is its group's, in the scope's [`GroupError`](crate::GroupError).
    Failed,
    /// The value was already taken.
    Taken,
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskError::Cancelled => "the task was cancelled",
            TaskError::Failed => "the task failed (its failure is the group's)",
            TaskError::Taken => "the task's value was already taken",
        })
    }
}

impl std::error::Error for TaskError {}

/// One task of a group (`asyncio.Task`, as `tg.create_task` returns it).
///
/// Ask it whether it is [`done`](Self::done) or [`cancelled`](Self::cancelled),
/// [`cancel`](Self::cancel) it, take its [`result`](Self::result) once it has ended, or await
/// it (`await task`, from inside the group or anywhere else) for `Ok(value)` or a
/// [`TaskError`]. Dropping the handle does not cancel the task: it runs on as part of its group.
pub struct TaskHandle<T>(Inner<T>);

// The value is never pinned: it is moved out whole.
impl<T> Unpin for TaskHandle<T> {}

enum Inner<T> {
    /// Finished in its eager step, never a tokio task: its value (`None` once taken).
    Done(Option<T>),
    /// Failed in its eager step.
    Failed,
    /// Ended in its eager step, with a name.
    Named {
        value: Option<T>,
        failed: bool,
        name: Name,
    },
    /// On the heap: a pointer keeps the handle at 16 bytes (for `()`), two registers, so that
    /// returning it through `Result` and `?` moves no memory. A larger handle was copied
    /// twice on its way to the caller, each copy reading it before its own stores had landed
    /// and waiting for them: more than the allocation costs. Dropped out of line (see
    /// `TaskHandle`'s drop), so that dropping an eager handle is nothing at all.
    Scheduled(ManuallyDrop<Box<Scheduled<T>>>),
}

/// Dropping the handle of a scheduled task lets go of its `JoinHandle` (the task runs on) and
/// its group; dropping an eager one drops its value, if any.
impl<T> Drop for TaskHandle<T> {
    #[inline(always)]
    fn drop(&mut self) {
        if let Inner::Scheduled(_) = self.0 {
            // Out of line: the eager path, which returns a handle for every task and whose
            // caller mostly drops it at once, stays a few instructions long. Inline, this drop
            // made the compiler keep every eager handle in memory, and copy it.
            drop_scheduled(self.take());
        }
    }
}

#[inline(never)]
fn drop_scheduled<T>(inner: Inner<T>) {
    if let Inner::Scheduled(task) = inner {
        drop(ManuallyDrop::into_inner(task));
    }
}

/// The handle of a task that runs as a tokio task: its `JoinHandle` and what it read from it.
pub(crate) struct Scheduled<T> {
    id: TaskId,
    name: Option<Name>,
    /// Its group: to know that the scope has returned, and to mark a listed task's cancellation.
    group: GroupRef,
    /// Behind a lock so that the `&self` queries (`done()`, `cancel()`) can read the output.
    join: Mutex<Join<T>>,
}

enum Join<T> {
    /// Not seen to have ended: its output is still in the tokio task.
    Running(JoinHandle<Ended<T>>),
    /// How it ended, read from the tokio task.
    Ended(Ended<T>),
    /// It completed and its value was taken.
    Taken,
}

impl<T> Scheduled<T> {
    fn join(&self) -> MutexGuard<'_, Join<T>> {
        self.join.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn state(&self) -> TaskState {
        let mut join = self.join();
        settle(self.group.shared(), &mut join);
        join_state(&join)
    }
}

/// Reads how the task ended, if it has, into `join`.
fn settle<T>(group: &Shared, join: &mut Join<T>) {
    let Join::Running(handle) = join else { return };
    if !handle.is_finished() {
        if !group.has_returned() {
            return; // still running
        }
        // The scope returns once every task's future is dropped, which tokio does just
        // before it marks the task finished: on another thread, that mark may lag by a few
        // instructions. The scope promises that every task has ended, so wait for it.
        while !handle.is_finished() {
            std::thread::yield_now();
        }
    }
    // The task is finished, so this poll is ready at once; unconstrained: a finished
    // task's output is never held back by the caller's cooperative budget.
    let mut cx = Context::from_waker(Waker::noop());
    let ended = match pin!(coop::unconstrained(handle)).poll(&mut cx) {
        Poll::Ready(Ok(ended)) => ended,
        // The drop of a future that tokio cancelled panicked (see `Child`'s drop).
        Poll::Ready(Err(e)) if e.is_panic() => Ended::Failed,
        Poll::Ready(Err(_)) => Ended::Cancelled,
        Poll::Pending => return,
    };
    *join = Join::Ended(ended);
}

fn join_state<T>(join: &Join<T>) -> TaskState {
    match join {
        Join::Running(_) => TaskState::Pending,
        Join::Ended(Ended::Done(_)) | Join::Taken => TaskState::Done,
        Join::Ended(Ended::Failed) => TaskState::Failed,
        Join::Ended(Ended::Cancelled) => TaskState::Cancelled,
    }
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TaskHandle");
        if let Inner::Scheduled(task) = &self.0 {
            d.field("id", &task.id);
        }
        d.field("name", &self.name())
            .field("state", &self.state())
            .finish()
    }
}

impl<T> TaskHandle<T> {
    /// A task that ended in its eager step: with its value, or failed (`None`).
    pub(crate) fn eager(value: Option<T>, name: Option<Name>) -> Self {
        Self(match (value, name) {
            (value, Some(name)) => Inner::Named {
                failed: value.is_none(),
                value,
                name,
            },
            (Some(value), None) => Inner::Done(Some(value)),
            (None, None) => Inner::Failed,
        })
    }

    pub(crate) fn scheduled(
        id: TaskId,
        name: Option<Name>,
        group: GroupRef,
        handle: JoinHandle<Ended<T>>,
    ) -> Self {
        Self::from_boxed(Self::boxed(id, name, group, handle))
    }

    /// What a scheduled task's handle points to: made where the task is spawned, which may be
    /// out of line, and returned as one pointer.
    pub(crate) fn boxed(
        id: TaskId,
        name: Option<Name>,
        group: GroupRef,
        handle: JoinHandle<Ended<T>>,
    ) -> Box<Scheduled<T>> {
        // Written field by field where it lives: `Box::new` built the handle on the stack and
        // copied it, reading it back before its stores had landed.
        let mut task = Box::<Scheduled<T>>::new_uninit();
        let place = task.as_mut_ptr();
        // SAFETY: each field of the allocation is written once, then it is whole.
        #[allow(unsafe_code)]
        unsafe {
            (&raw mut (*place).id).write(id);
            (&raw mut (*place).name).write(name);
            (&raw mut (*place).group).write(group);
            (&raw mut (*place).join).write(Mutex::new(Join::Running(handle)));
            task.assume_init()
        }
    }

    #[inline(always)]
    pub(crate) fn from_boxed(task: Box<Scheduled<T>>) -> Self {
        Self(Inner::Scheduled(ManuallyDrop::new(task)))
    }

    /// What the handle holds, leaving it empty (a failed eager task, which drops nothing).
    fn take(&mut self) -> Inner<T> {
        std::mem::replace(&mut self.0, Inner::Failed)
    }

    /// How the task ended, or [`TaskState::Pending`].
    pub fn state(&self) -> TaskState {
        match &self.0 {
            Inner::Failed | Inner::Named { failed: true, .. } => TaskState::Failed,
            Inner::Done(_) | Inner::Named { .. } => TaskState::Done,
            Inner::Scheduled(task) => task.state(),
        }
    }

    /// `task.done()`: it has ended, whichever way.
    pub fn done(&self) -> bool {
        self.state() != TaskState::Pending
    }

    /// `task.cancelled()`: it ended by being cancelled.
    pub fn cancelled(&self) -> bool {
        self.state() == TaskState::Cancelled
    }

    /// `task.get_name()`: the name given at spawn ([`TaskBuilder::name`](crate::TaskBuilder::name)).
    pub fn name(&self) -> Option<&str> {
        match &self.0 {
            Inner::Done(_) | Inner::Failed => None,
            Inner::Named { name, .. } => Some(name.as_str()),
            Inner::Scheduled(task) => task.name.as_deref().map(String::as_str),
        }
    }

    /// The task's identity, as [`current_task`](crate::current_task) returns it inside the
    /// task; `None` for a task that finished in its eager step, which keeps no id (so that
    /// such a task costs no shared counter), even if it asked for one there.
    pub fn id(&self) -> Option<TaskId> {
        match &self.0 {
            Inner::Done(_) | Inner::Failed | Inner::Named { .. } => None,
            Inner::Scheduled(task) => Some(task.id),
        }
    }

    /// `task.cancel()`: asks the task to stop. It is dropped at its next step (at once if it
    /// is suspended), without failing its group. Returns `false` if it had already ended.
    pub fn cancel(&self) -> bool {
        match &self.0 {
            Inner::Done(_) | Inner::Failed | Inner::Named { .. } => false,
            Inner::Scheduled(task) => {
                let mut join = task.join();
                settle(task.group.shared(), &mut join);
                let Join::Running(handle) = &*join else {
                    return false;
                };
                // Tokio's abort is asyncio's cancel here: a task not running is dropped when
                // the runtime next reaches it, one running is dropped after its step unless
                // that step finished it. Either way `Child`'s drop reports it to the group.
                handle.abort();
                task.group.shared().request_cancel(task.id);
                true
            }
        }
    }

    /// The task's value (`task.result()`), or `None` if it has not finished, failed or was
    /// cancelled. Once [`scope`](crate::scope) has returned, every task has ended, so this
    /// never reads `None` for a task that completed.
    pub fn result(mut self) -> Option<T> {
        match self.take() {
            Inner::Done(value) | Inner::Named { value, .. } => value,
            Inner::Failed => None,
            Inner::Scheduled(task) => {
                let task = *ManuallyDrop::into_inner(task);
                let mut join = task
                    .join
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner);
                settle(task.group.shared(), &mut join);
                match join {
                    Join::Ended(Ended::Done(value)) => Some(value),
                    _ => None,
                }
            }
        }
    }
}

/// `await task`: the task's value once it has ended, or why there is none.
///
/// # Cancel safety
/// Cancel safe: dropping the wait leaves the value in the handle.
impl<T> Future for TaskHandle<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            Inner::Failed | Inner::Named { failed: true, .. } => {
                Poll::Ready(Err(TaskError::Failed))
            }
            Inner::Done(value) | Inner::Named { value, .. } => {
                Poll::Ready(value.take().ok_or(TaskError::Taken))
            }
            Inner::Scheduled(task) => {
                let join = task.join.get_mut().unwrap_or_else(PoisonError::into_inner);
                if let Join::Running(handle) = join {
                    // Unconstrained: awaiting a task is not a step of the awaiting task's own
                    // work, as in asyncio, where `await task` on a done task never yields.
                    let ended = match pin!(coop::unconstrained(handle)).poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Ok(ended)) => ended,
                        Poll::Ready(Err(e)) if e.is_panic() => Ended::Failed,
                        Poll::Ready(Err(_)) => Ended::Cancelled,
                    };
                    *join = Join::Ended(ended);
                }
                Poll::Ready(match std::mem::replace(join, Join::Taken) {
                    Join::Ended(Ended::Done(value)) => Ok(value),
                    Join::Ended(Ended::Failed) => {
                        *join = Join::Ended(Ended::Failed);
                        Err(TaskError::Failed)
                    }
                    Join::Ended(Ended::Cancelled) => {
                        *join = Join::Ended(Ended::Cancelled);
                        Err(TaskError::Cancelled)
                    }
                    Join::Taken => Err(TaskError::Taken),
                    Join::Running(_) => unreachable!("read just above"),
                })
            }
        }
    }
}

pin_project_lite::pin_project! {
    #[project = StageProj]
    enum Stage<F> {
        Running { #[pin] future: F },
        Gone,
    }
}

pin_project_lite::pin_project! {
    /// A scheduled task of the group: runs `future` as its task (for
    /// [`current_task`](crate::current_task)), turns its output into the task's value or a
    /// failure of the group, and drops the future unfinished when the group is cancelled.
    /// Cancelled through its handle, it is dropped by tokio (an abort), which its drop reports.
    ///
    /// Small on purpose: with a small future, tokio's task fits in 128 bytes, as a bare
    /// `tokio::spawn` of that future does. A context is in the future (`Context::scope`), and
    /// a name in the group's listing.
    pub(crate) struct Child<F, O> {
        #[pin]
        stage: Stage<F>,
        outcome: Option<O>,
        // The task has an entry in its group's listing (see `Listed`).
        listed: bool,
        // The task has suspended at least once: its entry has its waker.
        suspended: bool,
        id: TaskId,
        // Dropped last: the scope's wait for its tasks covers the drop of each future.
        live: Live,
    }

    impl<F, O> PinnedDrop for Child<F, O> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            let shared = this.live.shared();
            if matches!(this.stage.as_mut().project(), StageProj::Running { .. }) {
                // Dropped unfinished by tokio: the task was aborted (`TaskHandle::cancel`) or its
                // runtime shut down. The same as a cancellation by the group; a panic while the
                // future is dropped is a failure of the group, and is raised again so that the
                // handle reads it as one.
                let dropped = cancel(this.stage, *this.listed, *this.id, shared);
                if *this.listed {
                    shared.unlist(*this.id);
                }
                if let Err(payload) = dropped
                    && !std::thread::panicking()
                {
                    panic::resume_unwind(payload);
                }
            } else if *this.listed {
                // A listed task leaves the listing once its future is gone.
                shared.unlist(*this.id);
            }
        }
    }
}

impl<F, O> Child<F, O> {
    /// `listed`: the task's name is already in the listing.
    pub(crate) fn new(future: F, outcome: O, id: TaskId, listed: bool, live: Live) -> Self {
        Self {
            stage: Stage::Running { future },
            outcome: Some(outcome),
            listed,
            suspended: false,
            id,
            live,
        }
    }
}

impl<F, O, T> Future for Child<F, O>
where
    F: Future,
    O: FnOnce(F::Output) -> anyhow::Result<T>,
{
    type Output = Ended<T>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Ended<T>> {
        let mut this = self.project();
        let shared = this.live.shared();
        let (listed, id) = (*this.listed, *this.id);
        // A task whose group shuts down before this step never takes it (asyncio never starts
        // a task whose group is already shutting down).
        if shared.is_shutting_down() {
            return Poll::Ready(cancelled(this.stage, listed, id, shared));
        }
        let previous = current::enter(id.current());
        let polled = panic::catch_unwind(AssertUnwindSafe(|| {
            let StageProj::Running { future } = this.stage.as_mut().project() else {
                unreachable!("a task that ended is not polled again");
            };
            future.poll(cx)
        }));
        current::leave(previous);
        match polled {
            Ok(Poll::Ready(out)) => {
                // A panic while the finished future is dropped (a cleanup that fails) is a
                // failure of the group, as it is in an eager step: left to unwind, tokio would
                // catch it and the handle would read a failure that the group never saw. The
                // stage is `Gone` even then (an assignment writes its new value when the old
                // one's drop unwinds), so the future is not dropped again.
                let dropped = panic::catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Gone)));
                if let Err(payload) = dropped {
                    drop(out);
                    let failure = Failure::Panic(panic_message(&*payload));
                    return Poll::Ready(failed(listed, id, shared, failure));
                }
                match this.outcome.take().map(|outcome| outcome(out)) {
                    Some(Ok(value)) => {
                        end(listed, id, shared, TaskState::Done);
                        Poll::Ready(Ended::Done(value))
                    }
                    Some(Err(e)) => Poll::Ready(failed(listed, id, shared, Failure::Error(e))),
                    None => unreachable!("a finished task is not polled again"),
                }
            }
            Ok(Poll::Pending) => {
                if !*this.suspended {
                    // Listed when it first suspends: a task that ends in its first step never
                    // takes the listing's lock.
                    shared.suspended(id, cx.waker());
                    *this.suspended = true;
                    *this.listed = true;
                }
                // Listed first, checked second: a shutdown between the two is not missed.
                if shared.is_shutting_down() {
                    return Poll::Ready(cancelled(this.stage, true, id, shared));
                }
                Poll::Pending
            }
            Err(payload) => {
                let _ = panic::catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Gone)));
                let failure = Failure::Panic(panic_message(&*payload));
                Poll::Ready(failed(listed, id, shared, failure))
            }
        }
    }
}

/// Shows in the listing how a listed task ended.
#[inline(always)]
fn end(listed: bool, id: TaskId, shared: &Shared, how: TaskState) {
    if listed {
        shared.ended(id, how);
    }
}

/// The task failed in a step, its future gone: a failure of its group.
#[cold]
fn failed<T>(listed: bool, id: TaskId, shared: &Shared, failure: Failure) -> Ended<T> {
    end(listed, id, shared, TaskState::Failed);
    shared.unfinished();
    shared.fail(failure);
    Ended::Failed
}

/// The group cancels the task: drops its future unfinished.
fn cancelled<F, T>(
    stage: Pin<&mut Stage<F>>,
    listed: bool,
    id: TaskId,
    shared: &Shared,
) -> Ended<T> {
    match cancel(stage, listed, id, shared) {
        Ok(()) => Ended::Cancelled,
        Err(_) => Ended::Failed,
    }
}

/// Drops the task's future unfinished. A panic while it is dropped (a cleanup that fails, as an
/// exception raised in `finally` while a task is cancelled) is a failure of the group; its
/// payload is returned.
fn cancel<F>(
    mut stage: Pin<&mut Stage<F>>,
    listed: bool,
    id: TaskId,
    shared: &Shared,
) -> std::thread::Result<()> {
    let dropped = panic::catch_unwind(AssertUnwindSafe(|| stage.set(Stage::Gone)));
    shared.unfinished();
    match dropped {
        Ok(()) => {
            end(listed, id, shared, TaskState::Cancelled);
            Ok(())
        }
        Err(payload) => {
            end(listed, id, shared, TaskState::Failed);
            shared.fail(Failure::Panic(panic_message(&*payload)));
            Err(payload)
        }
    }
}
