//! A task's handle: `asyncio.Task` as its group's owner sees it, and the ways to await it.

use std::borrow::Cow;
use std::fmt;
use std::future::IntoFuture;
use std::mem::ManuallyDrop;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::task::JoinHandle;
use tokio::task::coop;

use crate::cancel::Requests;
use crate::current::TaskId;
use crate::listing::Name;
use crate::outcome::{TaskError, TaskState};
use crate::shared::{GroupRef, Shared};
use crate::task::Ended;

/// One task of a group (`asyncio.Task`, as `tg.create_task` returns it).
///
/// Ask it whether it is [`done`](Self::done) or [`cancelled`](Self::cancelled),
/// [`cancel`](Self::cancel) it, take its [`result`](Self::result) once it has ended, or await
/// it for `Ok(value)` or a [`TaskError`]. Dropping the handle does not cancel the task: it runs
/// on as part of its group.
///
/// Awaiting, as asyncio's `await task`: `task.await` takes the handle, and if that wait is
/// dropped before the task ends (the awaiting task is cancelled), the task is cancelled too,
/// as cancelling a task cancels the task it awaits. `(&mut task).await` (and a `select!` on
/// `&mut task`) waits without that, as `asyncio.wait` does; [`shield`] takes the handle and
/// waits without it, as `asyncio.shield` does.
pub struct TaskHandle<T>(Inner<T>);

// The value is never pinned: it is moved out whole.
impl<T> Unpin for TaskHandle<T> {}

enum Inner<T> {
    /// Finished in its eager step, never a tokio task: its value (`None` once taken), and its
    /// number, given when first asked for.
    Done(Option<T>, Numbered),
    /// Failed in its eager step.
    Failed(Numbered),
    /// Ended in its eager step with a name, or cancelled there: rare, so boxed, keeping the
    /// common handle at two registers.
    Ended(Box<EagerEnd<T>>),
    /// On the heap: a pointer keeps the handle at 16 bytes (for `()`), two registers, so that
    /// returning it through `Result` and `?` moves no memory. A larger handle was copied
    /// twice on its way to the caller, each copy reading it before its own stores had landed
    /// and waiting for them: more than the allocation costs. Dropped out of line (see
    /// `TaskHandle`'s drop), so that dropping an eager handle is nothing at all.
    Scheduled(ManuallyDrop<Box<Scheduled<T>>>),
}

/// An eager task's id, given when first asked for: a task that nobody asks about costs no
/// counter. 0 until then. Ids come from the same counter as scheduled tasks' (`Task-N`).
struct Numbered(AtomicU64);

impl Numbered {
    #[inline(always)]
    fn new(id: Option<TaskId>) -> Self {
        Self(AtomicU64::new(id.map_or(0, TaskId::get)))
    }

    fn id(&self) -> TaskId {
        let now = self.0.load(Ordering::Acquire);
        if let Some(id) = TaskId::from_raw(now) {
            return id;
        }
        let new = TaskId::next();
        match self
            .0
            .compare_exchange(0, new.get(), Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => new,
            // Another thread asked at the same time: its number stands.
            Err(theirs) => TaskId::from_raw(theirs).unwrap_or(new),
        }
    }
}

/// An eager task that ended with a name, or cancelled.
struct EagerEnd<T> {
    value: Option<T>,
    state: TaskState,
    name: Option<Name>,
    message: Option<Arc<str>>,
    id: Numbered,
}

/// Dropping the handle of a scheduled task lets go of its `JoinHandle` (the task runs on) and
/// its group; dropping an eager one drops its value, if any.
impl<T> Drop for TaskHandle<T> {
    #[inline(always)]
    fn drop(&mut self) {
        if let Inner::Scheduled(_) | Inner::Ended(_) = self.0 {
            // Out of line: the eager path, which returns a handle for every task and whose
            // caller mostly drops it at once, stays a few instructions long. Inline, this drop
            // made the compiler keep every eager handle in memory, and copy it; and a boxed
            // ending's `free` in line took a register from the caller's spawn loop.
            drop_boxed(self.take());
        }
    }
}

#[inline(never)]
fn drop_boxed<T>(inner: Inner<T>) {
    match inner {
        Inner::Scheduled(task) => drop(ManuallyDrop::into_inner(task)),
        other => drop(other),
    }
}

/// The handle of a task that runs as a tokio task: its `JoinHandle` and what it read from it.
pub(crate) struct Scheduled<T> {
    id: TaskId,
    name: Option<Name>,
    /// Its group: to know that the scope has returned, and to mark a listed task's cancellation.
    group: GroupRef,
    /// A cooperative task's requests: `cancel` makes one there instead of dropping the task.
    requests: Option<Arc<Requests>>,
    /// Behind a lock so that the `&self` queries (`done()`, `cancel()`) can read the output.
    join: Mutex<Join<T>>,
}

struct Join<T> {
    output: Output<T>,
    /// `cancel()` calls that found the task running (`cancelling()`), for a task that is
    /// dropped to cancel it.
    cancels: u32,
    /// The message of the latest `cancel_with`.
    message: Option<Arc<str>>,
}

enum Output<T> {
    /// Not seen to have ended: its output is still in the tokio task.
    Running(JoinHandle<Ended<T>>),
    /// How it ended, read from the tokio task.
    Ended(Ended<T>),
    /// It completed and its value was taken.
    Taken,
}

/// A cancel mark made just as the task ended, after its last look for one, is taken here, so
/// that the group's tasks go back to ending without a lock.
impl<T> Drop for Scheduled<T> {
    fn drop(&mut self) {
        let join = self.join.get_mut().unwrap_or_else(PoisonError::into_inner);
        if join.cancels > 0 {
            settle(self.group.shared(), self.id, join);
            if !matches!(join.output, Output::Running(_)) {
                self.group.shared().take_mark(self.id);
            }
        }
    }
}

impl<T> Scheduled<T> {
    fn join(&self) -> MutexGuard<'_, Join<T>> {
        self.join.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn state(&self) -> TaskState {
        let mut join = self.join();
        settle(self.group.shared(), self.id, &mut join);
        join_state(&join.output)
    }
}

/// Reads how the task ended, if it has, into `join`.
fn settle<T>(group: &Shared, id: TaskId, join: &mut Join<T>) {
    let Output::Running(handle) = &mut join.output else {
        return;
    };
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
    if let Poll::Ready(read) = pin!(coop::unconstrained(handle)).poll(&mut cx) {
        join.read(read, group, id);
    }
}

impl<T> Join<T> {
    /// Keeps what the tokio task's output says of how it ended.
    fn read(&mut self, read: Result<Ended<T>, tokio::task::JoinError>, group: &Shared, id: TaskId) {
        let ended = match read {
            Ok(ended) => ended,
            // The drop of a future that tokio cancelled panicked (see `Child`'s drop).
            Err(e) if e.is_panic() => Ended::Failed,
            Err(_) => Ended::Cancelled,
        };
        if let Ended::Cancelled = ended
            && let Some(own) = group.take_message(id)
        {
            // The message of the cancellation the task returned, over `cancel_with`'s.
            self.message = Some(own);
        }
        self.output = Output::Ended(ended);
    }
}

fn join_state<T>(output: &Output<T>) -> TaskState {
    match output {
        Output::Running(_) => TaskState::Pending,
        Output::Ended(Ended::Done(_)) | Output::Taken => TaskState::Done,
        Output::Ended(Ended::Failed) => TaskState::Failed,
        Output::Ended(Ended::Cancelled) => TaskState::Cancelled,
    }
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("state", &self.state())
            .field("cancelling", &self.cancelling())
            .finish()
    }
}

impl<T> TaskHandle<T> {
    /// A task that ended in its eager step: with its value, or failed (`None`). `id` is the
    /// one the step was given, if it asked for it.
    #[inline(always)]
    pub(crate) fn eager(value: Option<T>, name: Option<Name>, id: Option<TaskId>) -> Self {
        Self(match (value, name) {
            (Some(value), None) => Inner::Done(Some(value), Numbered::new(id)),
            (None, None) => Inner::Failed(Numbered::new(id)),
            (value, Some(name)) => Inner::Ended(Box::new(EagerEnd {
                state: match value {
                    Some(_) => TaskState::Done,
                    None => TaskState::Failed,
                },
                value,
                name: Some(name),
                message: None,
                id: Numbered::new(id),
            })),
        })
    }

    /// A task that ended cancelled in its eager step: it returned a cancellation.
    #[cold]
    pub(crate) fn eager_cancelled(
        message: Option<Arc<str>>,
        name: Option<Name>,
        id: Option<TaskId>,
    ) -> Self {
        Self(Inner::Ended(Box::new(EagerEnd {
            value: None,
            state: TaskState::Cancelled,
            name,
            message,
            id: Numbered::new(id),
        })))
    }

    /// What a scheduled task's handle points to: made where the task is spawned, which may be
    /// out of line, and returned as one pointer.
    pub(crate) fn boxed(
        id: TaskId,
        name: Option<Name>,
        group: GroupRef,
        requests: Option<Arc<Requests>>,
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
            (&raw mut (*place).requests).write(requests);
            (&raw mut (*place).join).write(Mutex::new(Join {
                output: Output::Running(handle),
                cancels: 0,
                message: None,
            }));
            task.assume_init()
        }
    }

    #[inline(always)]
    pub(crate) fn from_boxed(task: Box<Scheduled<T>>) -> Self {
        Self(Inner::Scheduled(ManuallyDrop::new(task)))
    }

    /// What the handle holds, leaving it empty (a failed eager task, which drops nothing).
    fn take(&mut self) -> Inner<T> {
        std::mem::replace(&mut self.0, Inner::Failed(Numbered::new(None)))
    }

    /// How the task ended, or [`TaskState::Pending`].
    pub fn state(&self) -> TaskState {
        match &self.0 {
            Inner::Done(..) => TaskState::Done,
            Inner::Failed(_) => TaskState::Failed,
            Inner::Ended(end) => end.state,
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

    /// `task.get_name()`: the name given at spawn ([`TaskBuilder::name`](crate::TaskBuilder::name)),
    /// or `Task-N` from its [`id`](Self::id), as asyncio names an unnamed task.
    pub fn name(&self) -> Cow<'_, str> {
        let given = match &self.0 {
            Inner::Ended(end) => end.name.as_deref(),
            Inner::Scheduled(task) => task.name.as_deref(),
            Inner::Done(..) | Inner::Failed(_) => None,
        };
        match given {
            Some(name) => Cow::Borrowed(name.as_str()),
            None => Cow::Owned(self.id().to_string()),
        }
    }

    /// The task's identity, as [`current_task`](crate::current_task) returns it inside the
    /// task. A task that finished in its eager step without asking for its id gets one when
    /// first asked here (so that such a task costs no counter), from the same counter.
    pub fn id(&self) -> TaskId {
        match &self.0 {
            Inner::Done(_, id) | Inner::Failed(id) => id.id(),
            Inner::Ended(end) => end.id.id(),
            Inner::Scheduled(task) => task.id,
        }
    }

    /// `task.cancel()`: asks the task to stop, and returns `false` if it had already ended.
    ///
    /// A task spawned the usual way is dropped at its next step (at once if it is suspended),
    /// without failing its group; one cancelled in the step that finishes it ends cancelled
    /// all the same, its value dropped, as in asyncio. A cooperative task
    /// ([`spawn_cooperative`](crate::TaskGroup::spawn_cooperative)) gets a request instead,
    /// and decides.
    pub fn cancel(&self) -> bool {
        self.cancel_as(None)
    }

    /// `task.cancel(msg)`: as [`cancel`](Self::cancel), with a message that awaiting the task
    /// gives back in [`TaskError::Cancelled`] (and a cooperative task sees in its request).
    pub fn cancel_with(&self, message: impl Into<Arc<str>>) -> bool {
        self.cancel_as(Some(message.into()))
    }

    fn cancel_as(&self, message: Option<Arc<str>>) -> bool {
        let Inner::Scheduled(task) = &self.0 else {
            return false; // ended in its eager step
        };
        let mut join = task.join();
        settle(task.group.shared(), task.id, &mut join);
        let Output::Running(handle) = &join.output else {
            return false;
        };
        if let Some(requests) = &task.requests {
            drop(join);
            requests.request(message);
            return true;
        }
        // Tokio's abort is asyncio's cancel here: a task not running is dropped when the
        // runtime next reaches it, one running is dropped after its step; if that step
        // finishes it, the mark made first ends it cancelled all the same (`Child`).
        task.group.shared().request_cancel(task.id);
        handle.abort();
        join.cancels = join.cancels.saturating_add(1);
        if message.is_some() {
            join.message = message;
        }
        true
    }

    /// `task.cancelling()`: the cancellations asked of the task and not taken back (a
    /// cooperative task takes one back with [`CancelRequest::uncancel`](crate::CancelRequest::uncancel)).
    pub fn cancelling(&self) -> u32 {
        match &self.0 {
            Inner::Scheduled(task) => match &task.requests {
                Some(requests) => requests.count(),
                None => task.join().cancels,
            },
            _ => 0,
        }
    }

    /// The task's value (`task.result()`), or `None` if it has not finished, failed or was
    /// cancelled. Once [`scope`](crate::scope) has returned, every task has ended, so this
    /// never reads `None` for a task that completed.
    pub fn result(mut self) -> Option<T> {
        match self.take() {
            Inner::Done(value, _) => value,
            Inner::Failed(_) => None,
            Inner::Ended(end) => end.value,
            Inner::Scheduled(mut task) => {
                let Scheduled {
                    id, group, join, ..
                } = &mut **task;
                let join = join.get_mut().unwrap_or_else(PoisonError::into_inner);
                settle(group.shared(), *id, join);
                let output = std::mem::replace(&mut join.output, Output::Taken);
                drop(ManuallyDrop::into_inner(task));
                match output {
                    Output::Ended(Ended::Done(value)) => Some(value),
                    _ => None,
                }
            }
        }
    }

    /// The task's value once it has ended, or why there is none: the wait of every way to
    /// await a handle.
    fn poll_ended(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>> {
        match &mut self.0 {
            Inner::Failed(_) => Poll::Ready(Err(TaskError::Failed)),
            Inner::Done(value, _) => Poll::Ready(value.take().ok_or(TaskError::Taken)),
            Inner::Ended(end) => Poll::Ready(match end.state {
                TaskState::Cancelled => Err(TaskError::Cancelled(end.message.clone())),
                TaskState::Failed => Err(TaskError::Failed),
                _ => end.value.take().ok_or(TaskError::Taken),
            }),
            Inner::Scheduled(task) => {
                let Scheduled {
                    id, group, join, ..
                } = &mut ***task;
                let join = join.get_mut().unwrap_or_else(PoisonError::into_inner);
                if let Output::Running(handle) = &mut join.output {
                    // Unconstrained: awaiting a task is not a step of the awaiting task's own
                    // work, as in asyncio, where `await task` on a done task never yields.
                    match pin!(coop::unconstrained(handle)).poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(read) => join.read(read, group.shared(), *id),
                    }
                }
                Poll::Ready(match std::mem::replace(&mut join.output, Output::Taken) {
                    Output::Ended(Ended::Done(value)) => Ok(value),
                    Output::Ended(ended) => {
                        let error = match &ended {
                            Ended::Cancelled => TaskError::Cancelled(join.message.clone()),
                            _ => TaskError::Failed,
                        };
                        join.output = Output::Ended(ended);
                        Err(error)
                    }
                    Output::Taken => Err(TaskError::Taken),
                    Output::Running(_) => unreachable!("read just above"),
                })
            }
        }
    }
}

/// `task.await`: asyncio's `await task`. Dropping the wait before the task ends cancels the
/// task (see [`TaskHandle`]).
impl<T> IntoFuture for TaskHandle<T> {
    type Output = Result<T, TaskError>;
    type IntoFuture = Await<T>;

    fn into_future(self) -> Await<T> {
        Await {
            task: self,
            ended: false,
        }
    }
}

/// `(&mut task).await`: waits for the task without owning it, as `asyncio.wait` does: dropping
/// this wait leaves the task running and its value in the handle (cancel safe).
impl<'a, T> IntoFuture for &'a mut TaskHandle<T> {
    type Output = Result<T, TaskError>;
    type IntoFuture = Wait<'a, T>;

    fn into_future(self) -> Wait<'a, T> {
        Wait(self)
    }
}

/// The future of `task.await`: see [`TaskHandle`].
#[must_use = "a future does nothing unless awaited"]
#[derive(Debug)]
pub struct Await<T> {
    task: TaskHandle<T>,
    ended: bool,
}

impl<T> Future for Await<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let ended = self.task.poll_ended(cx);
        self.ended = ended.is_ready();
        ended
    }
}

/// The awaiter is cancelled: so is the task it awaits.
impl<T> Drop for Await<T> {
    fn drop(&mut self) {
        if !self.ended {
            self.task.cancel();
        }
    }
}

/// The future of `(&mut task).await`.
#[must_use = "a future does nothing unless awaited"]
#[derive(Debug)]
pub struct Wait<'a, T>(&'a mut TaskHandle<T>);

impl<T> Future for Wait<'_, T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.poll_ended(cx)
    }
}

/// `asyncio.shield(task)`: awaits the task, and leaves it running if this wait is dropped
/// (its awaiter cancelled). The task's value is then lost with the handle; keep the handle and
/// await `&mut task` instead to come back for it.
pub fn shield<T>(task: TaskHandle<T>) -> Shielded<T> {
    Shielded(task)
}

/// The future of [`shield`].
#[must_use = "a future does nothing unless awaited"]
#[derive(Debug)]
pub struct Shielded<T>(TaskHandle<T>);

impl<T> Future for Shielded<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.poll_ended(cx)
    }
}
