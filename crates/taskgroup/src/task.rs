//! One task of a group: its handle (`asyncio.Task` as the group's owner sees it) and the
//! future that runs it on tokio.

use std::cell::UnsafeCell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

use futures::task::AtomicWaker;

use crate::current::{self, TaskId};
use crate::group::{Live, Shared};
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

const PENDING: u8 = 0;
const DONE: u8 = 1;
const FAILED: u8 = 2;
const CANCELLED: u8 = 3;
const ENDED: u8 = 0b11;
/// Set by [`TaskHandle::cancel`]; the task sees it at its next step.
const CANCEL_REQUESTED: u8 = 0b100;
/// Set by an await of the handle once its waker is registered: the task wakes it at its end.
const JOINER: u8 = 0b1000;

/// What a scheduled task shares with its handle and its group.
pub(crate) struct TaskCell<T> {
    pub(crate) id: TaskId,
    name: Option<Box<str>>,
    state: AtomicU8,
    /// Written once by the task, before its state says `DONE`; read once by the handle, after
    /// it has seen `DONE`.
    value: UnsafeCell<Option<T>>,
    /// Whoever awaits the handle.
    joiner: AtomicWaker,
    /// The task's own waker, set when it first suspends: wakes it to see a cancellation.
    task: OnceLock<Waker>,
}

impl<T> TaskCell<T> {
    pub(crate) fn new(id: TaskId, name: Option<Box<str>>) -> Self {
        Self {
            id,
            name,
            state: AtomicU8::new(PENDING),
            value: UnsafeCell::new(None),
            joiner: AtomicWaker::new(),
            task: OnceLock::new(),
        }
    }

    /// The task has ended; only the task calls this, once.
    fn end(&self, how: u8, value: Option<T>) {
        if value.is_some() {
            // SAFETY: only the task writes `value`, once, here; the handle reads it only after
            // it has seen the state this store publishes (`DONE`), which is set just below
            // with `Release` (within `SeqCst`) and read with `Acquire`, so the two never touch
            // `value` at the same time.
            #[allow(unsafe_code)]
            unsafe {
                *self.value.get() = value;
            }
        }
        if self.state.fetch_or(how, Ordering::SeqCst) & JOINER != 0 {
            self.joiner.wake();
        }
    }

    /// Takes the value, once the state says `DONE`. Only the handle calls this, through
    /// `&mut` or by value, so no two takes run at once.
    fn take(&self) -> Option<T> {
        if self.state.load(Ordering::SeqCst) & ENDED != DONE {
            return None;
        }
        // SAFETY: `DONE` is set after the task's only write of `value` (see `end`), and the
        // handle, which is not `Clone` and is borrowed mutably or consumed here, is the only
        // reader: nothing else touches `value` from now on.
        #[allow(unsafe_code)]
        unsafe {
            (*self.value.get()).take()
        }
    }

    fn cancel_requested(&self) -> bool {
        self.state.load(Ordering::SeqCst) & CANCEL_REQUESTED != 0
    }

    fn wake_task(&self) {
        if let Some(waker) = self.task.get() {
            waker.wake_by_ref();
        }
    }
}

/// What the group's listing needs of a task, whatever its output type.
pub(crate) trait Entry: Send + Sync {
    fn id(&self) -> TaskId;
    fn name(&self) -> Option<&str>;
    fn state(&self) -> TaskState;
    fn cancel_requested(&self) -> bool;
    fn wake(&self);
}

// SAFETY: `value` is the only field that is not `Sync` by itself; it is written once by the task
// and then read once by the handle, ordered by `state` (see `TaskCell::end` and `take`). A `T`
// moves from the task's thread to the handle's, so `T: Send` is required, as for a channel.
#[allow(unsafe_code)]
unsafe impl<T: Send> Sync for TaskCell<T> {}

impl<T: Send> Entry for TaskCell<T> {
    fn id(&self) -> TaskId {
        self.id
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn state(&self) -> TaskState {
        state_of(self.state.load(Ordering::SeqCst))
    }
    fn cancel_requested(&self) -> bool {
        TaskCell::cancel_requested(self)
    }
    fn wake(&self) {
        self.wake_task();
    }
}

fn state_of(bits: u8) -> TaskState {
    match bits & ENDED {
        DONE => TaskState::Done,
        FAILED => TaskState::Failed,
        CANCELLED => TaskState::Cancelled,
        _ => TaskState::Pending,
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
        name: Box<str>,
    },
    Scheduled(Arc<TaskCell<T>>),
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TaskHandle");
        if let Inner::Scheduled(cell) = &self.0 {
            d.field("id", &cell.id);
        }
        d.field("name", &self.name())
            .field("state", &self.state())
            .finish()
    }
}

impl<T> TaskHandle<T> {
    /// A task that ended in its eager step: with its value, or failed (`None`).
    pub(crate) fn eager(value: Option<T>, name: Option<Box<str>>) -> Self {
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

    pub(crate) fn scheduled(cell: Arc<TaskCell<T>>) -> Self {
        Self(Inner::Scheduled(cell))
    }

    /// How the task ended, or [`TaskState::Pending`].
    pub fn state(&self) -> TaskState {
        match &self.0 {
            Inner::Failed | Inner::Named { failed: true, .. } => TaskState::Failed,
            Inner::Done(_) | Inner::Named { .. } => TaskState::Done,
            Inner::Scheduled(cell) => state_of(cell.state.load(Ordering::SeqCst)),
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
            Inner::Named { name, .. } => Some(name),
            Inner::Scheduled(cell) => cell.name.as_deref(),
        }
    }

    /// The task's identity, as [`current_task`](crate::current_task) returns it inside the
    /// task; `None` for a task that finished in its eager step, which keeps no id (so that
    /// such a task costs no shared counter), even if it asked for one there.
    pub fn id(&self) -> Option<TaskId> {
        match &self.0 {
            Inner::Done(_) | Inner::Failed | Inner::Named { .. } => None,
            Inner::Scheduled(cell) => Some(cell.id),
        }
    }

    /// `task.cancel()`: asks the task to stop. It is dropped at its next step (at once if it
    /// is suspended), without failing its group. Returns `false` if it had already ended.
    pub fn cancel(&self) -> bool {
        match &self.0 {
            Inner::Done(_) | Inner::Failed | Inner::Named { .. } => false,
            Inner::Scheduled(cell) => {
                let before = cell.state.fetch_or(CANCEL_REQUESTED, Ordering::SeqCst);
                if before & ENDED != PENDING {
                    return false;
                }
                cell.wake_task();
                true
            }
        }
    }

    /// The task's value (`task.result()`), or `None` if it has not finished, failed or was
    /// cancelled. Once [`scope`](crate::scope) has returned, every task has ended, so this
    /// never reads `None` for a task that completed.
    pub fn result(self) -> Option<T> {
        match self.0 {
            Inner::Done(value) | Inner::Named { value, .. } => value,
            Inner::Failed => None,
            Inner::Scheduled(cell) => cell.take(),
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
            Inner::Scheduled(cell) => {
                let mut state = cell.state.load(Ordering::SeqCst);
                if state & ENDED == PENDING {
                    // Registered first, flagged second: an end between the two wakes us.
                    cell.joiner.register(cx.waker());
                    state = cell.state.fetch_or(JOINER, Ordering::SeqCst);
                }
                match state_of(state) {
                    TaskState::Pending => Poll::Pending,
                    TaskState::Failed => Poll::Ready(Err(TaskError::Failed)),
                    TaskState::Cancelled => Poll::Ready(Err(TaskError::Cancelled)),
                    TaskState::Done => Poll::Ready(cell.take().ok_or(TaskError::Taken)),
                }
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
    /// A scheduled task of the group: runs `future` in its task's context and as its task
    /// (for [`current_task`](crate::current_task)), turns its output into the task's value or
    /// a failure of the group, and drops the future unfinished when the task or the group is
    /// cancelled.
    pub(crate) struct Child<F, O, T> {
        #[pin]
        stage: Stage<F>,
        outcome: Option<O>,
        context: Option<contextvars::Context>,
        cell: Arc<TaskCell<T>>,
        // Dropped last: the scope's wait for its tasks covers the drop of each future, and a
        // listed task leaves the group's listing only when it is gone.
        live: Live,
    }
}

impl<F, O, T> Child<F, O, T> {
    pub(crate) fn new(
        future: F,
        outcome: O,
        context: Option<contextvars::Context>,
        cell: Arc<TaskCell<T>>,
        live: Live,
    ) -> Self {
        Self {
            stage: Stage::Running { future },
            outcome: Some(outcome),
            context,
            cell,
            live,
        }
    }
}

impl<F, O, T> Future for Child<F, O, T>
where
    F: Future,
    O: FnOnce(F::Output) -> anyhow::Result<T>,
    T: Send + 'static,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        // A task whose group shuts down, or that was cancelled, before this step never takes it
        // (asyncio never starts a task whose group is already shutting down).
        if this.live.shared().is_shutting_down() || this.cell.cancel_requested() {
            return cancel(this.stage, this.cell, this.live.shared());
        }
        let previous = current::enter(this.cell.id.current());
        let polled = panic::catch_unwind(AssertUnwindSafe(|| {
            let StageProj::Running { future } = this.stage.as_mut().project() else {
                unreachable!("a task that ended is not polled again");
            };
            match this.context {
                Some(context) => context.run(|| future.poll(cx)),
                None => future.poll(cx),
            }
        }));
        current::leave(previous);
        match polled {
            Ok(Poll::Ready(out)) => {
                this.stage.set(Stage::Gone);
                match this.outcome.take().map(|outcome| outcome(out)) {
                    Some(Ok(value)) => this.cell.end(DONE, Some(value)),
                    Some(Err(e)) => {
                        this.cell.end(FAILED, None);
                        this.live.shared().unfinished();
                        this.live.shared().fail(Failure::Error(e));
                    }
                    None => unreachable!("a finished task is not polled again"),
                }
                Poll::Ready(())
            }
            Ok(Poll::Pending) => {
                if this.cell.task.get().is_none() {
                    // Listed, and given its waker, when it first suspends: a task that ends in
                    // its first step costs neither. Tokio polls a task with its own waker every
                    // time, so the first one stays valid.
                    let _ = this.cell.task.set(cx.waker().clone());
                    this.live.list(Arc::clone(this.cell) as Arc<dyn Entry>);
                }
                // Listed first, checked second: a cancellation between the two is not missed.
                if this.live.shared().is_shutting_down() || this.cell.cancel_requested() {
                    return cancel(this.stage, this.cell, this.live.shared());
                }
                Poll::Pending
            }
            Err(payload) => {
                let _ = panic::catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Gone)));
                this.cell.end(FAILED, None);
                this.live.shared().unfinished();
                this.live
                    .shared()
                    .fail(Failure::Panic(panic_message(&*payload)));
                Poll::Ready(())
            }
        }
    }
}

/// Drops the task's future unfinished. A panic while it is dropped (a cleanup that fails, as an
/// exception raised in `finally` while a task is cancelled) is a failure of the group.
fn cancel<F, T>(mut stage: Pin<&mut Stage<F>>, cell: &TaskCell<T>, shared: &Shared) -> Poll<()> {
    let dropped = panic::catch_unwind(AssertUnwindSafe(|| stage.set(Stage::Gone)));
    shared.unfinished();
    match dropped {
        Ok(()) => cell.end(CANCELLED, None),
        Err(payload) => {
            cell.end(FAILED, None);
            shared.fail(Failure::Panic(panic_message(&*payload)));
        }
    }
    Poll::Ready(())
}
