//! Spawning into a group: from the scope's body ([`TaskGroup`], with the eager step in its
//! reused place), from anywhere else ([`GroupHandle`]), and with options ([`TaskBuilder`]).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use contextvars::SharedContext;
use tokio_util::sync::CancellationToken;

use crate::cancel::{CancelRequest, Cooperative, Requests};
use crate::eager;
use crate::handle::TaskHandle;
use crate::listing::Name;
use crate::options::{Builder, NoContext, Options, Start, StepContext};
use crate::outcome::{Outcome, Refused};
use crate::place::{Alone, Places};
use crate::shared::{Live, Shared};
use crate::snapshot::Snapshot;

/// The methods [`TaskGroup`] and [`GroupHandle`] share, written once for both: the group's
/// state and its cancellation, read through each type's `shared()`.
macro_rules! group_state {
    () => {
        /// `tg.cancel()` (Python 3.15): cancels every task and the scope's body; the scope
        /// returns, once every task has ended, a [`GroupError`](crate::GroupError) that says it
        /// was cancelled.
        pub fn cancel(&self) {
            self.shared().cancel();
        }

        /// The group's cancellation token: cancelling it cancels the group (as
        /// [`cancel`](Self::cancel)), and it is cancelled whenever the group shuts down. Give it
        /// (or a child of it) to work that must stop with the group.
        pub fn token(&self) -> &CancellationToken {
            &self.shared().token
        }

        /// The group is shutting down: a task failed, or it was cancelled.
        pub fn is_shutting_down(&self) -> bool {
            self.shared().is_shutting_down()
        }

        /// The group's live tasks with their names and states, for debugging a stuck group.
        pub fn snapshot(&self) -> Snapshot {
            self.shared().snapshot()
        }
    };
}

/// A cheap, clonable handle to a group, for spawning from inside its tasks (`tg.create_task`
/// called by a child) or from anywhere else while the group runs, any thread included: a
/// scheduled task goes to the runtime the scope runs on.
#[derive(Clone)]
pub struct GroupHandle(pub(crate) Arc<Shared>);

impl fmt::Debug for GroupHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GroupHandle")
            .field(&self.snapshot())
            .finish()
    }
}

impl GroupHandle {
    /// Adds a task running `future` to the group, started as the group starts its tasks.
    /// Refused once the group is shutting down or its scope has returned: the future is
    /// dropped, never run. A future that has taken its eager step is the group's task from
    /// then on: if the group started shutting down during that step, the task is cancelled
    /// before its next one (its handle says so), as asyncio cancels it.
    ///
    /// # Cost
    ///
    /// More than [`TaskGroup::spawn`]'s, as a handle may spawn from any thread while the
    /// scope runs. An eager task that finishes in its step still costs an allocation (the
    /// place its step runs in, freed after it) and three atomic updates of the group's shared
    /// counters: it is counted live for its step, counted out after it, and counted among the
    /// completed; more when it is the only task live (the group's reference is then taken and
    /// let go, and its scope woken). A scheduled task, or one that suspends in its step, costs what
    /// [`TaskGroup::spawn`]'s does and one atomic update more (the count of scheduled tasks),
    /// two for one that suspends in its step (its handle is counted apart from its step).
    ///
    /// # Panics
    ///
    /// If the task goes to tokio (scheduled, or suspended in its eager step) and the group has
    /// no runtime: its scope was first polled outside every tokio runtime, and none is current
    /// here (as `tokio::spawn` panics outside a runtime).
    pub fn spawn<F>(&self, future: F) -> Result<TaskHandle<F::Output>, Refused>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.task().spawn(future)
    }

    /// Adds a task whose `Err` is a failure of the group. It costs what [`spawn`](Self::spawn)
    /// does.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn).
    pub fn spawn_fallible<F, T, E>(&self, future: F) -> Result<TaskHandle<T>, Refused>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<anyhow::Error>,
    {
        self.task().spawn_fallible(future)
    }

    /// A task with a name, its own start, or a given context.
    pub fn task(&self) -> TaskBuilder<'_> {
        TaskBuilder::new(Target::Handle(self))
    }

    /// Adds a cooperative task: see [`TaskGroup::spawn_cooperative`]. It costs what
    /// [`spawn`](Self::spawn) does, and one allocation more (its requests).
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn).
    pub fn spawn_cooperative<B, F, T, E>(&self, body: B) -> Result<TaskHandle<T>, Refused>
    where
        B: FnOnce(CancelRequest) -> F,
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<anyhow::Error>,
    {
        self.task().spawn_cooperative(body)
    }

    group_state!();

    fn shared(&self) -> &Arc<Shared> {
        &self.0
    }

    fn spawn_as<F, T, O>(
        &self,
        future: F,
        outcome: O,
        options: Builder,
    ) -> Result<TaskHandle<T>, Refused>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: Outcome<F::Output, T>,
    {
        self.0.accepting()?;
        let options = options.resolved(self.0.start);
        if options.start == Start::Scheduled {
            let joined = Live::join_task(&self.0)?;
            // Counted while the task is live and before it can run: on another thread it may
            // end, and the scope read this count, before the spawn returns here.
            self.0.scheduled.fetch_add(1, Ordering::Relaxed);
            return Ok(self.0.schedule_as(joined, future, outcome, options, None));
        }
        // Counted as live from before its step: from another thread, a scope must not finish
        // while the step runs. The same step as the group's own, in memory of the future's
        // own: a handle keeps no place between spawns.
        let live = Live::join(&self.0)?;
        let Options {
            name,
            context,
            cooperative,
            ..
        } = options;
        let spawner = eager::Handle {
            shared: &self.0,
            live,
        };
        eager::step(
            spawner,
            Alone::new(),
            future,
            outcome,
            (name, cooperative),
            context,
        )
    }
}

enum Target<'a> {
    Group(&'a mut TaskGroup),
    Handle(&'a GroupHandle),
}

/// A task to spawn with options (`tg.create_task(coro, name=…, eager_start=…, context=…)`).
#[must_use = "a task builder spawns nothing until one of its spawn methods is called"]
pub struct TaskBuilder<'a> {
    target: Target<'a>,
    options: Builder,
}

impl fmt::Debug for TaskBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskBuilder")
            .field("name", &self.options.name)
            .field("start", &self.options.start)
            .finish_non_exhaustive()
    }
}

impl<'a> TaskBuilder<'a> {
    fn new(target: Target<'a>) -> Self {
        Self {
            target,
            options: Builder::default(),
        }
    }

    /// `name=`: the task's name, shown by [`TaskHandle::name`] and in the group's [`Snapshot`].
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.options.name = Some(Name::from(name.into()));
        self
    }

    /// `eager_start=` (Python 3.14): start this task eagerly or scheduled, whatever the
    /// group's default.
    pub fn start(mut self, start: Start) -> Self {
        self.options.start = Some(start);
        self
    }

    /// `context=`: run the task in `context` instead of a copy of the current one.
    ///
    /// The task runs in that very context, as asyncio's does: give a [`SharedContext`] (a
    /// clone of one you keep) and the task's sets show in it, for you to read afterwards;
    /// a [`Context`](contextvars::Context) given by value becomes a context of its own.
    /// Tasks that share one context take turns entering it, step by step.
    pub fn context(mut self, context: impl Into<SharedContext>) -> Self {
        self.options.context = Some(context.into());
        self
    }

    /// Spawns `future` as the task.
    ///
    /// # Cost
    ///
    /// What the spawn of the group or handle it was made from costs ([`TaskGroup::spawn`],
    /// [`GroupHandle::spawn`]), and: with a name, the name's allocation, a boxed handle if the
    /// task ends in its eager step, and a lock to list the task if it goes to tokio; with a
    /// context, the context entered and left at every step of the task.
    ///
    /// # Panics
    ///
    /// As [`TaskGroup::spawn`]: a task that goes to tokio in a group with no runtime.
    pub fn spawn<F>(self, future: F) -> Result<TaskHandle<F::Output>, Refused>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(future, Ok)
    }

    /// Spawns `future` as the task; its `Err` is a failure of the group. It costs what
    /// [`spawn`](Self::spawn) does.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn).
    pub fn spawn_fallible<F, T, E>(self, future: F) -> Result<TaskHandle<T>, Refused>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<anyhow::Error>,
    {
        self.spawn_with(future, |out| out.map_err(Into::into))
    }

    /// Spawns a cooperative task: see [`TaskGroup::spawn_cooperative`]. It costs what
    /// [`spawn`](Self::spawn) does, and one allocation more (its requests).
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn).
    pub fn spawn_cooperative<B, F, T, E>(mut self, body: B) -> Result<TaskHandle<T>, Refused>
    where
        B: FnOnce(CancelRequest) -> F,
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<anyhow::Error>,
    {
        let requests = Arc::new(Requests::default());
        let group = match &self.target {
            Target::Group(tg) => tg.token(),
            Target::Handle(handle) => handle.token(),
        }
        .clone();
        let future = Cooperative::new(
            body(CancelRequest::new(Arc::clone(&requests))),
            Arc::clone(&requests),
            group,
        );
        self.options.cooperative = Some(requests);
        self.spawn_with(future, |out| out.map_err(Into::into))
    }

    fn spawn_with<F, T, O>(mut self, future: F, outcome: O) -> Result<TaskHandle<T>, Refused>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: Outcome<F::Output, T>,
    {
        match self.options.context.take() {
            // The future enters the context at every poll, its eager step included.
            Some(context) => self.spawn_in(context.scope(future), outcome),
            None => self.spawn_in(future, outcome),
        }
    }

    fn spawn_in<F, T, O>(self, future: F, outcome: O) -> Result<TaskHandle<T>, Refused>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: Outcome<F::Output, T>,
    {
        match self.target {
            Target::Group(tg) => {
                let options = self.options.resolved(tg.start);
                tg.spawn_as(future, outcome, options)
            }
            Target::Handle(handle) => handle.spawn_as(future, outcome, self.options),
        }
    }
}

/// The group a [`scope`](crate::scope) body spawns into (`tg` in `async with TaskGroup() as tg`).
pub struct TaskGroup {
    pub(crate) handle: GroupHandle,
    pub(crate) start: Start,
    pub(crate) eager_done: u64,
    /// Tasks the body scheduled.
    pub(crate) scheduled: u64,
    /// The heap place the eager path polls futures in, reused while futures finish eagerly.
    pub(crate) places: Places,
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("snapshot", &self.snapshot())
            .field("eager_done", &self.eager_done)
            .finish_non_exhaustive()
    }
}

impl TaskGroup {
    /// How this group starts its tasks by default.
    pub fn start(&self) -> Start {
        self.start
    }

    /// Adds a task running `future` to the group (`tg.create_task(coro)`); it fails only by
    /// panicking. Refused once the group is shutting down: the future is dropped, never run.
    ///
    /// # Cost
    ///
    /// Started eagerly, a task that finishes in its step costs a poll and a few loads: no
    /// allocation (the step runs in a place the group keeps and reuses; a task that suspends
    /// takes that place with it, and the next spawn makes another), no update of a shared
    /// counter, no lock. A scheduled task, or one that suspends in its step, costs one tokio
    /// task, one small allocation for its handle, one atomic add to the group's counts (and
    /// one when it ends, one when its handle is dropped), and a lock when it is listed (see
    /// the [crate's costs](crate#cost)). A spawner that runs in a [`contextvars::Context`]
    /// also copies it for the task: an atomic increment, and a decrement when the copy is
    /// dropped. [`GroupHandle::spawn`] costs more.
    ///
    /// # Panics
    ///
    /// If the task goes to tokio (scheduled, or suspended in its eager step) and the group has
    /// no runtime: its scope was first polled outside every tokio runtime, and none is current
    /// here (as `tokio::spawn` panics outside a runtime).
    pub fn spawn<F>(&mut self, future: F) -> Result<TaskHandle<F::Output>, Refused>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let options = self.plain();
        self.spawn_as(future, Ok, options)
    }

    /// Adds a task whose `Err` is a failure of the group, as an exception in an asyncio task is.
    /// It costs what [`spawn`](Self::spawn) does.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn).
    pub fn spawn_fallible<F, T, E>(&mut self, future: F) -> Result<TaskHandle<T>, Refused>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<anyhow::Error>,
    {
        let options = self.plain();
        self.spawn_as(future, |out| out.map_err(Into::into), options)
    }

    /// A task with a name, its own start, or a given context.
    pub fn task(&mut self) -> TaskBuilder<'_> {
        TaskBuilder::new(Target::Group(self))
    }

    /// Adds a cooperative task: `body` gets the task's [`CancelRequest`] and returns its
    /// future. Cancelling the task, or the group's shutdown, is a request it sees there,
    /// never a drop (see [`CancelRequest`]). Its `Err` is a failure of the group, unless it is
    /// a cancellation ([`CancelRequest::error`]), which ends the task cancelled.
    ///
    /// It costs what [`spawn`](Self::spawn) does, one allocation more (its requests), and a
    /// look at the group's token at every step.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn).
    pub fn spawn_cooperative<B, F, T, E>(&mut self, body: B) -> Result<TaskHandle<T>, Refused>
    where
        B: FnOnce(CancelRequest) -> F,
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<anyhow::Error>,
    {
        self.task().spawn_cooperative(body)
    }

    /// The requests to cancel the body of this scope: what a body run with
    /// [`Scope::cooperative`](crate::Scope::cooperative) watches (`except CancelledError:` around
    /// the body's awaits). In a scope that is not cooperative the body is dropped instead, so it
    /// never sees one.
    pub fn cancel_request(&self) -> CancelRequest {
        CancelRequest::new(self.handle.0.body.get().cloned().unwrap_or_default())
    }

    /// A clonable handle to this group, for spawning from its tasks.
    pub fn handle(&self) -> GroupHandle {
        self.handle.clone()
    }

    group_state!();

    fn shared(&self) -> &Arc<Shared> {
        &self.handle.0
    }

    /// A task with no name, the group's start, in a copy of the current context.
    #[inline(always)]
    fn plain(&self) -> Options {
        Options {
            name: None,
            start: self.start,
            context: contextvars::Context::current(),
            cooperative: None,
        }
    }

    #[inline(always)]
    fn spawn_as<F, T, O>(
        &mut self,
        future: F,
        outcome: O,
        options: Options,
    ) -> Result<TaskHandle<T>, Refused>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: Outcome<F::Output, T>,
    {
        self.handle.0.accepting()?;
        // Taken apart at once: a whole `Options` carried down the eager path was kept in
        // memory and written at every spawn, doubling the cost of an eager task.
        let Options {
            name,
            start,
            context,
            cooperative,
        } = options;
        if start == Start::Scheduled {
            // A scheduled task costs a tokio task: the branch is laid out for the eager path,
            // which is worth a few cycles.
            std::hint::cold_path();
            // Counted before tokio's spawn: a spawn that panics (a scope polled outside tokio)
            // drops the task, which then counts itself unfinished.
            self.scheduled += 1;
            let handle = match (name, context, cooperative) {
                (None, None, None) => self.handle.0.schedule_plain(future, outcome),
                (name, context, cooperative) => self.handle.0.schedule(
                    future,
                    outcome,
                    Options {
                        name,
                        start,
                        context,
                        cooperative,
                    },
                ),
            };
            if handle.is_err() {
                self.scheduled -= 1; // refused: no task was made
            }
            return handle;
        }
        // Two copies of the step. With no context (a spawner that never entered one, the
        // common case) the step has no context code at all, so the compiler can fold storing,
        // polling and dropping a future that finishes; with one, the step is out of line.
        match context {
            None => self.eager_in(future, outcome, (name, cooperative), NoContext),
            Some(context) => {
                std::hint::cold_path();
                self.eager_in_context(future, outcome, (name, cooperative), context)
            }
        }
    }

    #[inline(never)]
    fn eager_in_context<F, T, O>(
        &mut self,
        future: F,
        outcome: O,
        task: (Option<Name>, Option<Arc<Requests>>),
        context: contextvars::Context,
    ) -> Result<TaskHandle<T>, Refused>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: Outcome<F::Output, T>,
    {
        self.eager_in(future, outcome, task, context)
    }

    /// The eager step in `context`, in the group's reused place.
    /// `(name, cooperative)`: the task's name, and its requests if it is cooperative.
    #[inline(always)]
    fn eager_in<F, T, O, C>(
        &mut self,
        future: F,
        outcome: O,
        task: (Option<Name>, Option<Arc<Requests>>),
        context: C,
    ) -> Result<TaskHandle<T>, Refused>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: Outcome<F::Output, T>,
        C: StepContext,
    {
        let spawner = eager::Body {
            shared: &self.handle.0,
            eager_done: &mut self.eager_done,
            scheduled: &mut self.scheduled,
        };
        eager::step(
            spawner,
            self.places.free::<F>(),
            future,
            outcome,
            task,
            context,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::Scope;
    use std::panic::{self, AssertUnwindSafe};
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// The spawns' `# Panics`: a task that goes to tokio needs a runtime, which a scope first
    /// polled outside every runtime does not have (as `tokio::spawn` needs one); a task that
    /// finishes in its eager step needs none, and the group goes on.
    #[test]
    fn a_task_that_goes_to_tokio_panics_in_a_scope_polled_outside_tokio() {
        let run = pin!(
            Scope::new(Start::Eager).run_counted(async |tg: &mut TaskGroup| {
                let eager = tg.spawn(async { 1 })?;
                let group = tg.handle();
                let scheduled = panic::catch_unwind(AssertUnwindSafe(|| {
                    group.task().start(Start::Scheduled).spawn(async { 2 })
                }));
                Ok((eager.result(), scheduled.is_err()))
            })
        );
        let Poll::Ready(ended) = run.poll(&mut Context::from_waker(Waker::noop())) else {
            panic!("a body that never awaits ends in one poll");
        };
        let ((eager, panicked), done) = ended.unwrap();
        assert_eq!(eager, Some(1));
        assert!(panicked, "scheduling with no runtime panics");
        assert_eq!(done.total(), 1);
    }

    #[test]
    fn a_body_that_catches_the_panic_of_its_own_scheduled_spawn_counts_nothing_completed_for_it() {
        let run = pin!(
            Scope::new(Start::Scheduled).run_counted(async |tg: &mut TaskGroup| {
                let scheduled = panic::catch_unwind(AssertUnwindSafe(|| tg.spawn(async { 2 })));
                Ok(scheduled.is_err())
            })
        );
        let Poll::Ready(ended) = run.poll(&mut Context::from_waker(Waker::noop())) else {
            panic!("a body that never awaits ends in one poll");
        };
        let (panicked, done) = ended.unwrap();
        assert!(panicked, "scheduling with no runtime panics");
        assert_eq!(done.total(), 0, "the dropped task completed nothing");
    }
}
