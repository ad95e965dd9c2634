//! Scheduling a task of a group on tokio (its [`Child`] future and its handle), and the
//! handle of a task that ended in its eager step with an error.

use std::sync::Arc;

use futures::future::Either;

use crate::cancel::cancellation;
use crate::current::TaskId;
use crate::handle::{Scheduled, TaskHandle};
use crate::listing::{Name, UNLISTED};
use crate::options::{Options, Start};
use crate::outcome::{Failure, Outcome, Refused};
use crate::shared::{GroupRef, Live, Shared};
use crate::task::Child;

impl Shared {
    /// A task's eager step returned `Err(e)`: a failure of the group, unless it is a
    /// cancellation, which ends the task cancelled.
    #[cold]
    #[inline(never)]
    pub(crate) fn eager_error<T>(
        &self,
        e: anyhow::Error,
        name: Option<Name>,
        id: Option<TaskId>,
    ) -> TaskHandle<T> {
        match cancellation(&e) {
            Some(message) => TaskHandle::eager_cancelled(message, name, id),
            None => {
                self.fail(Failure::Error(e));
                TaskHandle::eager(None, name, id)
            }
        }
    }

    /// Schedules `future` as a tokio task of the group.
    pub(crate) fn schedule<F, T, O>(
        self: &Arc<Self>,
        future: F,
        outcome: O,
        options: Options,
    ) -> Result<TaskHandle<T>, Refused>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: Outcome<F::Output, T>,
    {
        let joined = Live::join_task(self)?;
        Ok(self.schedule_as(joined, future, outcome, options, None))
    }

    /// [`schedule`](Self::schedule) of a task with no name and no context: the common case,
    /// with nothing to list.
    #[inline(always)]
    pub(crate) fn schedule_plain<F, T, O>(
        self: &Arc<Self>,
        future: F,
        outcome: O,
    ) -> Result<TaskHandle<T>, Refused>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: Outcome<F::Output, T>,
    {
        let joined = Live::join_task(self)?;
        Ok(TaskHandle::from_boxed(
            self.spawn_plain(joined, future, outcome),
        ))
    }

    /// The spawn of [`schedule_plain`](Self::schedule_plain), out of line so that the eager
    /// path keeps its registers, with tokio's spawn in line in it. It returns the handle's one
    /// pointer, in a register: a whole handle would come back through memory, and the
    /// caller's first read of it would wait for the stores just made.
    #[inline(never)]
    fn spawn_plain<F, T, O>(
        self: &Arc<Self>,
        (live, group): (Live, GroupRef),
        future: F,
        outcome: O,
    ) -> Box<Scheduled<T>>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: Outcome<F::Output, T>,
    {
        let id = TaskId::next();
        let join = self.spawn(Child::new(future, outcome, id, (UNLISTED, false), live));
        TaskHandle::boxed(id, None, group, None, join)
    }

    /// Schedules `future` as the task that `live` counts, with the handle that `group` counts.
    pub(crate) fn schedule_as<F, T, O>(
        self: &Arc<Self>,
        (live, group): (Live, GroupRef),
        future: F,
        outcome: O,
        Options {
            name,
            start,
            context,
            cooperative,
        }: Options,
        id: Option<TaskId>,
    ) -> TaskHandle<T>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: Outcome<F::Output, T>,
    {
        let id = id.unwrap_or_else(TaskId::next);
        // Only the listing keeps a task's name for it: its tokio task stays small.
        // A task that went on from an eager step is listed at once, so that `all_tasks()`
        // shows it from its spawn on, as asyncio's does; a plain scheduled one from its first
        // suspension.
        let slot = if name.is_some() || start == Start::Eager {
            self.listing().insert(id, name.clone(), None)
        } else {
            UNLISTED
        };
        // The handle keeps the JoinHandle: the tokio task holds the value and how the task
        // ended, so a task costs no allocation beside tokio's own. One type of task here, with
        // a context or without: `schedule_plain` is then the only spawn of a plain future's
        // task, and the compiler puts tokio's spawn in line there.
        let future = match context {
            None => Either::Right(future),
            Some(context) => Either::Left(context.scope(future)),
        };
        let flags = (slot, cooperative.is_some());
        let join = self.spawn(Child::new(future, outcome, id, flags, live));
        TaskHandle::from_boxed(TaskHandle::boxed(id, name, group, cooperative, join))
    }

    #[inline(always)]
    fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // One call of tokio's spawn for each type of task, which the compiler then puts in line.
        self.runtime
            .get_or_init(tokio::runtime::Handle::current)
            .spawn(task)
    }
}
