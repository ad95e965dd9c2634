//! The group: its shared state, the scope that owns it, and the two ways to spawn into it.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::poll_fn;
use std::panic::{self, AssertUnwindSafe};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use contextvars::SharedContext;
use futures::future::Either;
use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::Start;
use crate::cancel::{CancelRequest, Cooperative, Requests, cancellation};
use crate::current::{self, NoRunningLoop, TaskId};
use crate::handle::{Scheduled, TaskHandle};
use crate::listing::Name;
use crate::listing::{Listed, Listing, UNLISTED};
use crate::outcome::{
    Completed, Failure, GroupError, Interrupt, Refused, TaskState, panic_message,
};
use crate::place::{self, Placed, Places, Stepped};
use crate::state::{self, State};
use crate::task::Child;

/// Counts one scheduled task (or nested group) as live in its group until dropped (see
/// [`state::Live`]).
pub(crate) type Live = state::Live<Shared>;

/// A scheduled task's handle's reference to its group, counted with the live tasks.
pub(crate) type GroupRef = state::GroupRef<Shared>;

/// What the tasks of one group, its handles and its scope share.
pub(crate) struct Shared {
    /// Flags, the count of scheduled tasks (and nested groups) not yet ended, and the count
    /// of scheduled tasks' handles: see [`state`].
    state: State,
    /// Cancelled when the group shuts down; cancelling it from outside cancels the group.
    token: CancellationToken,
    /// The group was cancelled (its token, or [`TaskGroup::cancel`]), not only failed.
    cancelled: AtomicBool,
    failures: Mutex<Vec<Failure>>,
    /// Notified when the live count drops to zero.
    ended: Notify,
    /// Scheduled tasks that have suspended at least once, those with a name (whose name only
    /// this keeps for them) and those that went on from an eager step: what snapshots and
    /// `all_tasks()` show, and what the shutdown wakes.
    listed: Mutex<Listing>,
    /// Tasks whose handle asked them to stop, by id (see [`request_cancel`](Self::request_cancel)).
    marks: Mutex<BTreeSet<TaskId>>,
    /// How many `marks` there are, readable without the lock: while 0, a task that ends takes
    /// no lock to look for its own.
    marked: AtomicU64,
    /// The messages of the cancellations that scheduled tasks returned, until their handles
    /// read them.
    messages: Mutex<BTreeMap<TaskId, Arc<str>>>,
    /// Tasks finished in their eager step when spawned through a [`GroupHandle`].
    eager_done: AtomicU64,
    /// Tasks scheduled through a [`GroupHandle`] (the body's own are counted in [`TaskGroup`]).
    scheduled: AtomicU64,
    /// Scheduled tasks that ended without completing: failed or cancelled. Counting these
    /// rather than the completed ones keeps an atomic off the common path.
    unfinished: AtomicU64,
    start: Start,
    /// Held while this group is nested in another: the parent counts it as a live task.
    parent: Mutex<Option<Live>>,
    /// A second token that cancels the group: the one given to [`Scope::cancel_on`] when the
    /// group's own token is already a child of its parent's.
    also: Option<CancellationToken>,
    /// The runtime the scope runs on, which scheduled tasks go to from whatever thread spawns
    /// them. A scope polled outside tokio takes the runtime its first scheduled task is
    /// spawned in (and, as `tokio::spawn`, panics if there is none).
    runtime: OnceLock<tokio::runtime::Handle>,
    /// The first [`Interrupt`] a task or the body panicked with: the scope raises it again.
    interrupt: Mutex<Option<Interrupt>>,
    /// The thread a dropped scope waits on for its tasks (see `wait_abandoned`).
    abandoner: Mutex<Option<std::thread::Thread>>,
    /// A cooperative body's requests, and whether the group's shutdown made one yet.
    body: OnceLock<Arc<Requests>>,
    body_requested: AtomicBool,
}

impl Shared {
    /// The group's state, listed for [`all_tasks`] until it is let go.
    fn registered(shared: Shared) -> Arc<Shared> {
        let shared = Arc::new(shared);
        groups().insert(Arc::as_ptr(&shared) as usize, Arc::downgrade(&shared));
        shared
    }

    fn new(
        start: Start,
        token: CancellationToken,
        also: Option<CancellationToken>,
        parent: Option<Live>,
    ) -> Self {
        Self {
            state: State::new(),
            token,
            cancelled: AtomicBool::new(false),
            failures: Mutex::new(Vec::new()),
            ended: Notify::new(),
            listed: Mutex::new(Listing::default()),
            marks: Mutex::new(BTreeSet::new()),
            marked: AtomicU64::new(0),
            messages: Mutex::new(BTreeMap::new()),
            eager_done: AtomicU64::new(0),
            scheduled: AtomicU64::new(0),
            unfinished: AtomicU64::new(0),
            start,
            parent: Mutex::new(parent),
            also,
            runtime: tokio::runtime::Handle::try_current()
                .map(OnceLock::from)
                .unwrap_or_default(),
            interrupt: Mutex::new(None),
            abandoner: Mutex::new(None),
            body: OnceLock::new(),
            body_requested: AtomicBool::new(false),
        }
    }

    /// The token given to [`Scope::cancel_on`] beside the group's own was cancelled.
    fn also_cancelled(&self) -> bool {
        self.also
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled)
    }

    /// Returns once the group is cancelled: its token, or the second one.
    async fn cancelled(&self) {
        match &self.also {
            None => self.token.cancelled().await,
            Some(also) => tokio::select! {
                () = self.token.cancelled() => {}
                () = also.cancelled() => {}
            },
        }
    }

    /// The scope has returned: every task of the group has ended.
    pub(crate) fn has_returned(&self) -> bool {
        self.state.has_finished()
    }

    fn listing(&self) -> MutexGuard<'_, Listing> {
        self.listed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn marks(&self) -> MutexGuard<'_, BTreeSet<TaskId>> {
        self.marks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks that a task's handle asked it to stop, so that the task ends cancelled even if the
    /// step it is in finishes it (asyncio's `_must_cancel`).
    pub(crate) fn request_cancel(&self, id: TaskId) {
        if self.marks().insert(id) {
            self.marked.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// A scheduled task ended by returning a cancellation with `message`.
    #[cold]
    pub(crate) fn keep_message(&self, id: TaskId, message: Arc<str>) {
        self.messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, message);
    }

    /// The message of the cancellation a scheduled task returned, if it returned one.
    #[cold]
    pub(crate) fn take_message(&self, id: TaskId) -> Option<Arc<str>> {
        self.messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id)
    }

    /// Takes the cancel mark of task `id`, if it has one (returns whether it had): when it
    /// ends, or, for a mark made just as it ended, when its handle is dropped.
    #[cold]
    pub(crate) fn take_mark(&self, id: TaskId) -> bool {
        let taken = self.marks().remove(&id);
        if taken {
            self.marked.fetch_sub(1, Ordering::AcqRel);
        }
        taken
    }

    /// Some task has a cancel mark not yet seen: every task that ends looks for its own.
    #[inline(always)]
    pub(crate) fn has_marks(&self) -> bool {
        self.marked.load(Ordering::Acquire) != 0
    }

    /// A task suspended for the first time: it gets its waker in the listing, and an entry
    /// there if it had none (`slot`).
    pub(crate) fn suspended(&self, slot: &mut u32, id: TaskId, waker: &Waker) {
        let mut listing = self.listing();
        match listing.get_mut(*slot) {
            Some(entry) => entry.waker = Some(waker.clone()),
            None => {
                *slot = listing.insert(Listed {
                    id,
                    name: None,
                    waker: Some(waker.clone()),
                });
            }
        }
    }

    /// A listed task ended: it leaves the listing.
    pub(crate) fn unlist(&self, slot: u32) {
        self.listing().remove(slot);
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.state.is_shutting_down()
    }

    #[inline(always)]
    fn accepting(&self) -> Result<(), Refused> {
        self.state.accepting()
    }

    pub(crate) fn fail(&self, failure: Failure) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(failure);
        self.shut_down();
    }

    /// Cancels every task: each listed task is woken to drop its future, and every other task
    /// does so at its next step.
    fn shut_down(&self) {
        if !self.state.shut_down() {
            return;
        }
        self.token.cancel();
        self.request_body();
        for waker in self
            .listing()
            .iter()
            .filter_map(|entry| entry.waker.as_ref())
        {
            waker.wake_by_ref();
        }
    }

    /// A cooperative body's request for the group's shutdown, made once, in the very step
    /// that shuts the group down (a task that fails in its eager step, `tg.cancel()`), as
    /// asyncio cancels the parent task at once.
    fn request_body(&self) {
        if let Some(body) = self.body.get()
            && !self.body_requested.swap(true, Ordering::AcqRel)
        {
            body.request(None);
        }
    }

    fn cancel(&self) {
        if !self.is_shutting_down() {
            self.cancelled.store(true, Ordering::Release);
        }
        self.shut_down();
    }

    /// A task or the body panicked: a failure of the group, or, for an [`Interrupt`], what the
    /// scope raises once every task has ended (`KeyboardInterrupt` through `async with`).
    pub(crate) fn panicked(&self, payload: &(dyn Any + Send)) {
        match payload.downcast_ref::<Interrupt>() {
            Some(interrupt) => {
                self.interrupt
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_or_insert_with(|| interrupt.clone());
                self.shut_down();
            }
            None => self.fail(Failure::Panic(panic_message(payload))),
        }
    }

    /// A task's eager step returned `Err(e)`: a failure of the group, unless it is a
    /// cancellation, which ends the task cancelled.
    #[cold]
    #[inline(never)]
    fn eager_error<T>(
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

    pub(crate) fn unfinished(&self) {
        self.unfinished.fetch_add(1, Ordering::Relaxed);
    }

    /// Schedules `future` as a tokio task of the group.
    fn schedule<F, T, O>(
        self: &Arc<Self>,
        future: F,
        outcome: O,
        options: Options,
    ) -> Result<TaskHandle<T>, Refused>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: FnOnce(F::Output) -> anyhow::Result<T> + Send + 'static,
    {
        let joined = Live::join_task(self)?;
        Ok(self.schedule_as(joined, future, outcome, options, None))
    }

    /// [`schedule`](Self::schedule) of a task with no name and no context: the common case,
    /// with nothing to list.
    #[inline(always)]
    fn schedule_plain<F, T, O>(
        self: &Arc<Self>,
        future: F,
        outcome: O,
    ) -> Result<TaskHandle<T>, Refused>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: FnOnce(F::Output) -> anyhow::Result<T> + Send + 'static,
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
        O: FnOnce(F::Output) -> anyhow::Result<T> + Send + 'static,
    {
        let id = TaskId::next();
        let join = self.spawn(Child::new(future, outcome, id, (UNLISTED, false), live));
        TaskHandle::boxed(id, None, group, None, join)
    }

    /// Schedules `future` as the task that `live` counts, with the handle that `group` counts.
    fn schedule_as<F, T, O>(
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
        O: FnOnce(F::Output) -> anyhow::Result<T> + Send + 'static,
    {
        let id = id.unwrap_or_else(TaskId::next);
        // Only the listing keeps a task's name for it: its tokio task stays small.
        // A task that went on from an eager step is listed at once, so that `all_tasks()`
        // shows it from its spawn on, as asyncio's does; a plain scheduled one from its first
        // suspension.
        let slot = if name.is_some() || start == Start::Eager {
            self.listing().insert(Listed {
                id,
                name: name.clone(),
                waker: None,
            })
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

    /// Lets go of the parent group, handing it the failures nobody collected here: returns
    /// the count the parent keeps of this group, for the caller to drop. Dropping it may end
    /// the parent, abandoned too, and so on up a chain of nested groups: [`Live`]'s drop walks
    /// up that chain in a loop, where a drop here would recurse once per level.
    #[must_use = "dropping the parent's count is what lets it go"]
    fn release_parent(&self) -> Option<Live> {
        let parent = self
            .parent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        let failures =
            std::mem::take(&mut *self.failures.lock().unwrap_or_else(PoisonError::into_inner));
        if !failures.is_empty() {
            let cancelled = self.cancelled.load(Ordering::Acquire);
            parent.shared().fail(Failure::Error(
                GroupError {
                    failures,
                    cancelled,
                }
                .into(),
            ));
        }
        Some(parent)
    }

    fn snapshot(&self) -> Snapshot {
        let seen = self.state.seen();
        Snapshot {
            start: self.start,
            live: seen.live as usize, // under 2³¹
            shutting_down: seen.shutting_down,
            finished: seen.finished,
            tasks: {
                let marks = self.marks();
                let mut tasks: Vec<TaskInfo> = self
                    .listing()
                    .iter()
                    .map(|entry| TaskInfo {
                        id: entry.id,
                        name: entry.name.as_deref().cloned(),
                        state: TaskState::Pending,
                        cancel_requested: marks.contains(&entry.id),
                    })
                    .collect();
                tasks.sort_unstable_by_key(|task| task.id);
                tasks
            },
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        groups().remove(&(std::ptr::from_ref::<Shared>(self) as usize));
    }
}

impl state::Group for Shared {
    type Owner = Arc<Shared>;

    #[inline(always)]
    fn state(&self) -> &State {
        &self.state
    }

    fn drop_live(live: state::Ending<'_, Live>) {
        live.end();
    }

    fn drop_handle(handle: state::Ending<'_, GroupRef>) {
        handle.end();
    }

    /// The last task's last look: it wakes the scope, or tidies up after a dropped one.
    fn last_ended(&self, abandoned: bool) -> Option<Live> {
        if abandoned {
            // The dropped scope may be waiting for this last task (see `wait_abandoned`).
            if let Some(waiting) = self
                .abandoner
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
            {
                waiting.unpark();
            }
            self.release_parent()
        } else {
            self.ended.notify_one();
            None
        }
    }
}

/// A cheap, clonable handle to a group, for spawning from inside its tasks (`tg.create_task`
/// called by a child) or from anywhere else while the group runs, any thread included: a
/// scheduled task goes to the runtime the scope runs on.
#[derive(Clone)]
pub struct GroupHandle(Arc<Shared>);

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
    pub fn spawn<F>(&self, future: F) -> Result<TaskHandle<F::Output>, Refused>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.task().spawn(future)
    }

    /// Adds a task whose `Err` is a failure of the group.
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

    /// Adds a cooperative task: see [`TaskGroup::spawn_cooperative`].
    pub fn spawn_cooperative<B, F, T, E>(&self, body: B) -> Result<TaskHandle<T>, Refused>
    where
        B: FnOnce(CancelRequest) -> F,
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<anyhow::Error>,
    {
        self.task().spawn_cooperative(body)
    }

    /// `tg.cancel()`: cancels every task and the scope's body; the scope returns, once every
    /// task has ended, a [`GroupError`] that says it was cancelled.
    pub fn cancel(&self) {
        self.0.cancel();
    }

    /// The group's cancellation token: cancelling it cancels the group (as [`cancel`](Self::cancel)),
    /// and it is cancelled whenever the group shuts down. Give it (or a child of it) to work
    /// that must stop with the group.
    pub fn token(&self) -> &CancellationToken {
        &self.0.token
    }

    /// The group is shutting down: a task failed, or it was cancelled.
    pub fn is_shutting_down(&self) -> bool {
        self.0.is_shutting_down()
    }

    /// The group's live tasks with their names and states, for debugging a stuck group.
    pub fn snapshot(&self) -> Snapshot {
        self.0.snapshot()
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
        O: FnOnce(F::Output) -> anyhow::Result<T> + Send + 'static,
    {
        self.0.accepting()?;
        let mut options = options.resolved(self.0.start);
        if options.start == Start::Scheduled {
            let joined = Live::join_task(&self.0)?;
            // Counted while the task is live and before it can run: on another thread it may
            // end, and the scope read this count, before the spawn returns here.
            self.0.scheduled.fetch_add(1, Ordering::Relaxed);
            return Ok(self.0.schedule_as(joined, future, outcome, options, None));
        }
        // Counted as live from before its step: from another thread, a scope must not finish
        // while the step runs.
        let live = Live::join(&self.0)?;
        // A no-op waker is sound here: a future that returns `Pending` is always polled again
        // once scheduled, and only the latest poll's waker must be woken.
        let mut cx = Context::from_waker(Waker::noop());
        // The same step as the group's own, in memory of the future's own: a handle keeps no
        // place between spawns. A panic while a finished future is dropped is a failure of
        // the group, not a panic in whoever spawned it, which may be outside the group.
        // It runs as the new task (`step_alone` makes it current).
        let (stepped, id) = place::step_alone(future, |future| {
            panic::catch_unwind(AssertUnwindSafe(|| {
                options.context.run(|| future.poll(&mut cx))
            }))
        });
        match stepped {
            Stepped::Ready(out) => Ok(match outcome(out) {
                Ok(value) => {
                    self.0.eager_done.fetch_add(1, Ordering::Relaxed);
                    TaskHandle::eager(Some(value), options.name, id)
                }
                Err(e) => self.0.eager_error(e, options.name, id),
            }),
            Stepped::Pending(task) => {
                self.0.scheduled.fetch_add(1, Ordering::Relaxed);
                let group = GroupRef::for_live(&live);
                Ok(self
                    .0
                    .schedule_as((live, group), task, outcome, options, id))
            }
            Stepped::Panicked(payload) => {
                self.0.panicked(&*payload);
                Ok(TaskHandle::eager(None, options.name, id))
            }
        }
    }
}

/// What the builder was told beyond the future.
#[derive(Default)]
struct Builder {
    name: Option<Name>,
    start: Option<Start>,
    /// The context given, which the task runs in itself (not in a copy).
    context: Option<SharedContext>,
    cooperative: Option<Arc<Requests>>,
}

/// What a task is spawned with beyond its future.
struct Options {
    name: Option<Name>,
    start: Start,
    context: Option<contextvars::Context>,
    /// A cooperative task's requests (see [`CancelRequest`]).
    cooperative: Option<Arc<Requests>>,
}

impl Builder {
    /// The task's start (the group's unless given) and context: the one given, or a copy of
    /// the spawner's (`create_task` copies the current context), which is a share of it until
    /// either side sets a variable.
    fn resolved(self, start: Start) -> Options {
        Options {
            name: self.name,
            cooperative: self.cooperative,
            start: self.start.unwrap_or(start),
            // A given context is entered by the future itself (see `TaskBuilder::spawn_with`).
            context: match self.context {
                Some(_) => None,
                None => contextvars::Context::current(),
            },
        }
    }
}

enum Target<'a> {
    Group(&'a mut TaskGroup),
    Handle(&'a GroupHandle),
}

/// A task to spawn with options (`tg.create_task(coro, name=…, eager_start=…, context=…)`).
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
    pub fn spawn<F>(self, future: F) -> Result<TaskHandle<F::Output>, Refused>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(future, Ok)
    }

    /// Spawns `future` as the task; its `Err` is a failure of the group.
    pub fn spawn_fallible<F, T, E>(self, future: F) -> Result<TaskHandle<T>, Refused>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<anyhow::Error>,
    {
        self.spawn_with(future, |out| out.map_err(Into::into))
    }

    /// Spawns a cooperative task: see [`TaskGroup::spawn_cooperative`].
    pub fn spawn_cooperative<B, F, T, E>(mut self, body: B) -> Result<TaskHandle<T>, Refused>
    where
        B: FnOnce(CancelRequest) -> F,
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<anyhow::Error>,
    {
        let requests = Arc::new(Requests::default());
        let group = match &self.target {
            Target::Group(tg) => tg.handle.0.token.clone(),
            Target::Handle(handle) => handle.0.token.clone(),
        };
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
        O: FnOnce(F::Output) -> anyhow::Result<T> + Send + 'static,
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
        O: FnOnce(F::Output) -> anyhow::Result<T> + Send + 'static,
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

/// The group a [`scope`] body spawns into (`tg` in `async with TaskGroup() as tg`).
pub struct TaskGroup {
    handle: GroupHandle,
    start: Start,
    eager_done: u64,
    /// Tasks the body scheduled.
    scheduled: u64,
    /// The heap place the eager path polls futures in, reused while futures finish eagerly.
    places: Places,
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("snapshot", &self.handle.snapshot())
            .field("eager_done", &self.eager_done)
            .finish_non_exhaustive()
    }
}

/// Runs `body` with a new group and returns once every task of the group has ended
/// (`async with asyncio.TaskGroup() as tg: body`). The same as `Scope::new(start).run(body)`.
///
/// Returns the body's value and the count of completed tasks, or every failure.
pub async fn scope<T, B>(start: Start, body: B) -> Result<(T, Completed), GroupError>
where
    B: AsyncFnOnce(&mut TaskGroup) -> anyhow::Result<T>,
{
    Scope::new(start).run(body).await
}

/// A task group to run, with its options: how it starts tasks, what cancels it, and the group
/// it is nested in.
#[derive(Debug)]
#[must_use = "a scope does nothing until it is run"]
pub struct Scope {
    start: Start,
    token: Option<CancellationToken>,
    parent: Option<GroupHandle>,
    cooperative: bool,
}

impl Scope {
    /// A group that starts its tasks as `start` says.
    pub fn new(start: Start) -> Self {
        Self {
            start,
            token: None,
            parent: None,
            cooperative: false,
        }
    }

    /// The body is cancelled cooperatively, as an asyncio task is: it is not dropped when the
    /// group shuts down (a task failed, [`TaskGroup::cancel`], or the parent's shutdown) or
    /// when the token given to [`cancel_on`](Self::cancel_on) is cancelled, but each of these
    /// makes one request in [`TaskGroup::cancel_request`], and the body decides. The tasks
    /// keep running meanwhile, as in asyncio, until the body returns: then, if it returned an
    /// error or a cancellation ([`CancelRequest::error`]), they are cancelled.
    ///
    /// A body that handles its owner's cancellation and returns `Ok` ends the scope as usual:
    /// the scope waits for its tasks and returns the body's value.
    pub fn cooperative(mut self) -> Self {
        self.cooperative = true;
        self
    }

    /// Cancels the group when `token` is cancelled (the group's own token is a child of it):
    /// the body is dropped, every task is cancelled, and the scope returns, once every task
    /// has ended, a [`GroupError`] whose `cancelled` is set. This is the way to cancel the
    /// owner of a group and know that every child has run its cancellation when the owner's
    /// wait returns.
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.token = Some(token);
        self
    }

    /// Nests this group in `parent` (an `async with TaskGroup()` inside another group's body
    /// or task): it is cancelled with the parent (at once, its body never run, if the parent
    /// is already shutting down when it starts), the parent counts it as one of its tasks
    /// until its own tasks have all ended (even if this scope is dropped), and failures that
    /// this scope could not return, because it was dropped, become one failure of the parent.
    pub fn parent(mut self, parent: &GroupHandle) -> Self {
        self.parent = Some(parent.clone());
        self
    }

    /// Runs `body` with the group and returns once every task of it has ended.
    ///
    /// Returns the body's value and the count of completed tasks; or, if a task or the body
    /// failed or the group was cancelled, every failure.
    pub async fn run<T, B>(self, body: B) -> Result<(T, Completed), GroupError>
    where
        B: AsyncFnOnce(&mut TaskGroup) -> anyhow::Result<T>,
    {
        // Made and taken apart out of line: the scope's own future stays small, which keeps
        // the eager spawns of its body in registers.
        let start = self.start;
        let shared = self.group()?;
        let mut abandon = Abandon(Some(Arc::clone(&shared)));
        let mut tg = TaskGroup {
            handle: GroupHandle(Arc::clone(&shared)),
            start,
            eager_done: 0,
            scheduled: 0,
            places: Places::default(),
        };
        let requests = shared.body.get().map(Arc::as_ref);
        let value = run_body(&shared, body(&mut tg), requests).await;
        // A cancellation of the owner that the cooperative body saw and handled is spent.
        let owner_spent = requests.is_some() && shared.also_cancelled();
        wait_ended(&shared, owner_spent).await;
        abandon.0 = None; // returned: not abandoned
        finish(&shared, value, &tg)
    }

    /// The group this scope runs: joined to its parent, with its tokens, and the requests to
    /// cancel its body if it is cooperative.
    #[inline(never)]
    fn group(self) -> Result<Arc<Shared>, GroupError> {
        let (token, parent) = match &self.parent {
            Some(parent) => {
                let live = Live::join(&parent.0).map_err(|refused| match refused {
                    // Cancelled with its parent before its body runs: asyncio's parent task
                    // gets `CancelledError` at its next await, which is no failure of the
                    // parent's, and a group cancelled before its body starts never runs it.
                    Refused::ShuttingDown => GroupError {
                        failures: Vec::new(),
                        cancelled: true,
                    },
                    Refused::Finished => GroupError {
                        failures: vec![Failure::Error(anyhow::anyhow!(
                            "a nested TaskGroup cannot start: its parent {refused}"
                        ))],
                        cancelled: false,
                    },
                })?;
                (parent.0.token.child_token(), Some(live))
            }
            None => (CancellationToken::new(), None),
        };
        // A group has one token of its own; with both a parent and a given token, it is the
        // parent's child and the given one is watched beside it.
        // A cooperative body sees the given token's cancellation as a request, and the tasks
        // go on: the group's token must not be its child then either.
        let (token, also) = match self.token {
            Some(given) if parent.is_some() || self.cooperative => (token, Some(given)),
            Some(given) => (given.child_token(), None),
            None => (token, None),
        };
        let shared = Shared::registered(Shared::new(self.start, token, also, parent));
        if self.cooperative {
            let _ = shared.body.set(Arc::default());
        }
        Ok(shared)
    }
}

/// What a scope returns once every task has ended: the body's value and the counts, or the
/// failures; or the interrupt, raised again.
#[inline(never)]
fn finish<T>(
    shared: &Shared,
    value: Option<T>,
    tg: &TaskGroup,
) -> Result<(T, Completed), GroupError> {
    // Ours to return: taken before the parent is let go, which would take them otherwise.
    let failures = std::mem::take(
        &mut *shared
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    drop(shared.release_parent());
    let interrupt = shared
        .interrupt
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(interrupt) = interrupt {
        // `KeyboardInterrupt` out of `async with`: every task has ended, and the
        // interrupt goes on unwrapped.
        panic::resume_unwind(Box::new(interrupt));
    }
    let cancelled = shared.cancelled.load(Ordering::Acquire);
    match value {
        Some(value) if failures.is_empty() && !cancelled => Ok((
            value,
            Completed {
                eager: tg.eager_done + shared.eager_done.load(Ordering::Relaxed),
                scheduled: tg.scheduled + shared.scheduled.load(Ordering::Relaxed)
                    - shared.unfinished.load(Ordering::Relaxed),
            },
        )),
        _ => Err(GroupError {
            failures,
            cancelled,
        }),
    }
}

/// Runs the body until it ends, or until the group shuts down or its owner is cancelled: then
/// a body is dropped (cancelled), and a cooperative one (`requests`) gets one request for each
/// and goes on until it returns.
async fn run_body<T>(
    shared: &Shared,
    body: impl Future<Output = anyhow::Result<T>>,
    requests: Option<&Requests>,
) -> Option<T> {
    let mut body = pin!(Some(body));
    let mut cancelled = pin!(shared.cancelled());
    // A cooperative body's two sources of requests, each seen once.
    let mut shutdown = pin!(Some(shared.token.cancelled()));
    let mut owner = pin!(shared.also.as_ref().map(CancellationToken::cancelled));
    let mut started = false;
    let ended = poll_fn(|cx| {
        // A group cancelled before its body starts never runs it, and a body the group's
        // shutdown cancels takes no further step (asyncio raises `CancelledError` at its
        // current await): a wake-up the shutdown itself caused (a cancelled child's handle,
        // a gather) must not let it run on. A cooperative body decides for itself.
        if (requests.is_none() || !std::mem::replace(&mut started, true))
            && cancelled.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(None);
        }
        if let Some(requests) = requests {
            // Before the body's poll, so that it sees the requests in this very poll. The
            // group's token is also cancelled from outside (its `token()`, a parent's).
            if let Some(shut) = shutdown.as_mut().as_pin_mut()
                && shut.poll(cx).is_ready()
            {
                shutdown.set(None);
                shared.request_body();
            }
            request_once(owner.as_mut(), requests, cx);
        }
        if let Some(running) = body.as_mut().as_pin_mut() {
            match panic::catch_unwind(AssertUnwindSafe(|| running.poll(cx))) {
                Ok(Poll::Pending) => {}
                Ok(Poll::Ready(ended)) => {
                    body.set(None);
                    return Poll::Ready(Some(ended.map_err(BodyError::Error)));
                }
                // A panic in the body is one of the group's failures, as an exception raised
                // in the body of `async with` is.
                Err(payload) => {
                    return Poll::Ready(Some(Err(BodyError::Panic(payload))));
                }
            }
        }
        if requests.is_some() {
            return Poll::Pending; // the body decides when it ends
        }
        // The token is cancelled at every shutdown: a failure, `cancel()`, or from outside.
        cancelled.as_mut().poll(cx).map(|()| None)
    })
    .await;
    match ended {
        Some(Ok(value)) => return Some(value),
        // A body that returns a cancellation (a nested group's `GroupError` with no failure:
        // Python's `CancelledError`) is cancelled, as `__aexit__` never counts a
        // `CancelledError` among the errors: it is swallowed if the group asked for it (it is
        // shutting down), and the group ends cancelled if not.
        Some(Err(BodyError::Error(e))) if cancellation(&e).is_some() => shared.cancel(),
        // Counted with the tasks' failures, as `__aexit__` adds the body's exception.
        Some(Err(BodyError::Error(e))) => shared.fail(Failure::Error(e)),
        Some(Err(BodyError::Panic(payload))) => shared.panicked(&*payload),
        // Cancelled from outside: marks it so, unless a failure came first.
        None => shared.cancel(),
    }
    // A body that is cancelled is dropped here; a panic while it is dropped (a failing
    // cleanup, an exception raised in `finally`) is a failure too.
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| body.set(None))) {
        shared.panicked(&*payload);
    }
    None
}

/// How a body ended without a value.
enum BodyError {
    Error(anyhow::Error),
    Panic(Box<dyn Any + Send>),
}

/// Makes one request when `source` (a token's cancellation) completes, then forgets it.
fn request_once(
    mut source: Pin<&mut Option<WaitForCancellationFuture<'_>>>,
    requests: &Requests,
    cx: &mut Context<'_>,
) {
    if let Some(cancelled) = source.as_mut().as_pin_mut()
        && cancelled.poll(cx).is_ready()
    {
        source.set(None);
        requests.request(None);
    }
}

/// Waits until no task is live, then closes the group to new tasks. A cancellation of the
/// owner cancels the tasks still running, unless the body has seen it (`owner_spent`).
async fn wait_ended(shared: &Shared, owner_spent: bool) {
    loop {
        if shared.state.finish() {
            return;
        }
        // `notify_one` keeps a permit when nobody waits, so the last task's wake-up is not
        // lost between `finish`'s look and the await. Cancelling the token while we wait (from
        // outside) cancels the tasks still running.
        let ended = shared.ended.notified();
        if shared.is_shutting_down() {
            ended.await;
        } else if owner_spent {
            tokio::select! {
                biased;
                () = ended => {}
                () = shared.token.cancelled() => shared.cancel(),
            }
        } else {
            tokio::select! {
                biased;
                () = ended => {}
                () = shared.cancelled() => shared.cancel(),
            }
        }
    }
}

/// Every group not yet let go, for [`all_tasks`], by the address of its state: one lock when a
/// group is made and one when it is let go, nothing per task.
static GROUPS: Mutex<BTreeMap<usize, Weak<Shared>>> = Mutex::new(BTreeMap::new());

fn groups() -> MutexGuard<'static, BTreeMap<usize, Weak<Shared>>> {
    GROUPS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `asyncio.all_tasks()`: the live tasks of every group whose scope runs on this runtime, and
/// the task in its eager step on this thread, if any, by id.
///
/// A task of a group shows from its spawn on if it has a name or went on from an eager
/// step, and otherwise from its first suspension: a scheduled task that tokio has not yet
/// polled is not listed (listing every task at its spawn would cost each one a lock). Nor are
/// the tasks left running by a scope that was dropped. Outside every runtime this is
/// [`NoRunningLoop`], as asyncio's `RuntimeError`.
pub fn all_tasks() -> Result<Vec<TaskInfo>, NoRunningLoop> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| NoRunningLoop)?
        .id();
    let running: Vec<Arc<Shared>> = groups().values().filter_map(Weak::upgrade).collect();
    let mut tasks: Vec<TaskInfo> = running
        .iter()
        .filter(|group| group.runtime.get().map(tokio::runtime::Handle::id) == Some(runtime))
        .flat_map(|group| group.snapshot().tasks)
        .filter(|task| task.state == TaskState::Pending)
        .collect();
    if let Ok(Some(current)) = current::current_task()
        && tasks.iter().all(|task| task.id != current)
    {
        tasks.push(TaskInfo {
            id: current,
            name: None,
            state: TaskState::Pending,
            cancel_requested: false,
        });
    }
    tasks.sort_by_key(|task| task.id);
    Ok(tasks)
}

/// Dropped only when the scope's future is dropped before it returned (its owner was
/// cancelled): shuts the group down, waits on a multi-thread runtime until every task's future
/// has been dropped, and leaves the last task to end to tidy up.
struct Abandon(Option<Arc<Shared>>);

impl Drop for Abandon {
    fn drop(&mut self) {
        let Some(shared) = self.0.take() else { return };
        shared.shut_down();
        if !shared.state.abandon() {
            drop(shared.release_parent());
        } else {
            wait_abandoned(&shared);
        }
    }
}

/// How long a dropped scope waits without seeing any of its tasks end before it gives up: a
/// runtime that is shutting down drops the tasks itself, after the scope, and never polls them.
const PATIENCE: Duration = Duration::from_millis(250);

/// asyncio's promise when the owner of a group is cancelled: once the owner's cancellation is
/// over, every child has run its own. Here the drop of the scope is that moment, so on a
/// multi-thread runtime it waits until each task's future has been dropped: every task was
/// woken by the shutdown, and those on other threads finish their step and drop. The wait is
/// in `block_in_place`, which hands this worker's queue (where some of the tasks may wait) to
/// another thread. A current-thread runtime cannot run the tasks while its one thread waits;
/// there the tasks drop at their next poll, which the runtime makes before it polls whoever
/// awaited the scope's owner (they were woken first). The wait ends early, rather than
/// hang, if no task ends for [`PATIENCE`].
fn wait_abandoned(shared: &Shared) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if runtime.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread
        || std::thread::panicking()
    {
        return;
    }
    *shared
        .abandoner
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(std::thread::current());
    let live = || shared.state.live();
    let wait = || {
        let (mut last, mut since) = (live(), Instant::now());
        while last > 0 && since.elapsed() < PATIENCE {
            std::thread::park_timeout(Duration::from_millis(10));
            let now = live();
            if now != last {
                (last, since) = (now, Instant::now());
            }
        }
    };
    // `block_in_place` refuses some threads (a runtime's `block_on` in some setups): the drop
    // then returns at once, as it did before it waited.
    let _ = panic::catch_unwind(AssertUnwindSafe(|| tokio::task::block_in_place(wait)));
    shared
        .abandoner
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
}

impl TaskGroup {
    /// How this group starts its tasks by default.
    pub fn start(&self) -> Start {
        self.start
    }

    /// Adds a task running `future` to the group (`tg.create_task(coro)`); it fails only by
    /// panicking. Refused once the group is shutting down: the future is dropped, never run.
    pub fn spawn<F>(&mut self, future: F) -> Result<TaskHandle<F::Output>, Refused>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let options = self.plain();
        self.spawn_as(future, Ok, options)
    }

    /// Adds a task whose `Err` is a failure of the group, as an exception in an asyncio task is.
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
    /// [`Scope::cooperative`] watches (`except CancelledError:` around the body's awaits).
    /// In a scope that is not cooperative the body is dropped instead, so it never sees one.
    pub fn cancel_request(&self) -> CancelRequest {
        CancelRequest::new(self.handle.0.body.get().cloned().unwrap_or_default())
    }

    /// A clonable handle to this group, for spawning from its tasks.
    pub fn handle(&self) -> GroupHandle {
        self.handle.clone()
    }

    /// `tg.cancel()` (Python 3.15): see [`GroupHandle::cancel`].
    pub fn cancel(&self) {
        self.handle.cancel();
    }

    /// The group's cancellation token: see [`GroupHandle::token`].
    pub fn token(&self) -> &CancellationToken {
        self.handle.token()
    }

    /// The group's live tasks: see [`GroupHandle::snapshot`].
    pub fn snapshot(&self) -> Snapshot {
        self.handle.snapshot()
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
        O: FnOnce(F::Output) -> anyhow::Result<T> + Send + 'static,
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
            let handle = match (name, context, cooperative) {
                (None, None, None) => self.handle.0.schedule_plain(future, outcome)?,
                (name, context, cooperative) => self.handle.0.schedule(
                    future,
                    outcome,
                    Options {
                        name,
                        start,
                        context,
                        cooperative,
                    },
                )?,
            };
            self.scheduled += 1;
            return Ok(handle);
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
        O: FnOnce(F::Output) -> anyhow::Result<T> + Send + 'static,
    {
        self.eager_in(future, outcome, task, context)
    }

    /// The eager step in `context`: polls the future once in the group's reused place.
    /// `(name, cooperative)`: the task's name, and its requests if it is cooperative.
    #[inline(always)]
    fn eager_in<F, T, O, C>(
        &mut self,
        future: F,
        outcome: O,
        (name, cooperative): (Option<Name>, Option<Arc<Requests>>),
        mut context: C,
    ) -> Result<TaskHandle<T>, Refused>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: FnOnce(F::Output) -> anyhow::Result<T> + Send + 'static,
        C: StepContext,
    {
        // The place is made ready first (it may allocate: a call), then the new task is made
        // current for its step (for `current_task()`), and the previous one restored after
        // it. With no call between those two thread-local writes, the compiler folds them
        // away for a future that never asks for its task, and folds writing, polling and
        // dropping a future that finishes in its step.
        let free = self.places.free::<F>();
        let previous = current::enter(current::UNNAMED);
        // A no-op waker is sound here: a future that returns `Pending` is always polled again
        // once scheduled, and only the latest poll's waker must be woken.
        let mut cx = Context::from_waker(Waker::noop());
        let stepped = free.step(future, |future| {
            panic::catch_unwind(AssertUnwindSafe(|| context.run(|| future.poll(&mut cx))))
        });
        let id = current::leave(previous);
        match stepped {
            Stepped::Ready(out) => match outcome(out) {
                Ok(value) => {
                    self.eager_done += 1;
                    Ok(TaskHandle::eager(Some(value), name, id))
                }
                Err(e) => Ok(self.handle.0.eager_error(e, name, id)),
            },
            Stepped::Pending(task) => {
                // A task that suspends costs a tokio task: the finished ones go first.
                std::hint::cold_path();
                let options = Options {
                    name,
                    start: Start::Eager,
                    context: context.into_option(),
                    cooperative,
                };
                self.suspended(task, outcome, options, id)
            }
            Stepped::Panicked(payload) => Ok(self.panicked(payload, name, id)),
        }
    }

    /// An eager step panicked: a failure of the group.
    #[cold]
    #[inline(never)]
    fn panicked<T>(
        &mut self,
        payload: Box<dyn Any + Send>,
        name: Option<Name>,
        id: Option<TaskId>,
    ) -> TaskHandle<T> {
        self.handle.0.panicked(&*payload);
        TaskHandle::eager(None, name, id)
    }

    /// The future suspended in its eager step: it goes on as a tokio task, in its place.
    #[inline(never)]
    fn suspended<F, T, O>(
        &mut self,
        task: Placed<F>,
        outcome: O,
        options: Options,
        id: Option<TaskId>,
    ) -> Result<TaskHandle<T>, Refused>
    where
        F: Future + Send + 'static,
        T: Send + 'static,
        O: FnOnce(F::Output) -> anyhow::Result<T> + Send + 'static,
    {
        let joined = Live::join_after_step(&self.handle.0)?;
        self.scheduled += 1;
        Ok(self
            .handle
            .0
            .schedule_as(joined, task, outcome, options, id))
    }
}

/// Where an eager step runs: in no context at all, or in a copy of the spawner's.
trait StepContext {
    fn run<R>(&mut self, step: impl FnOnce() -> R) -> R;
    fn into_option(self) -> Option<contextvars::Context>;
}

/// The spawner runs in no context: neither does the step.
struct NoContext;

impl StepContext for NoContext {
    #[inline(always)]
    fn run<R>(&mut self, step: impl FnOnce() -> R) -> R {
        step()
    }
    fn into_option(self) -> Option<contextvars::Context> {
        None
    }
}

/// A step in the spawner's context, if it has one.
impl StepContext for Option<contextvars::Context> {
    fn run<R>(&mut self, step: impl FnOnce() -> R) -> R {
        match self {
            None => step(),
            Some(context) => context.run(step),
        }
    }
    fn into_option(self) -> Option<contextvars::Context> {
        self
    }
}

impl StepContext for contextvars::Context {
    fn run<R>(&mut self, step: impl FnOnce() -> R) -> R {
        contextvars::Context::run(self, step)
    }
    fn into_option(self) -> Option<contextvars::Context> {
        Some(self)
    }
}

/// A group's live tasks, for debugging (like `python -m asyncio pstree`). `Display` prints one
/// line for the group and one per task that has suspended at least once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// How the group starts its tasks by default.
    pub start: Start,
    /// Scheduled tasks not yet ended, and the nested groups ([`Scope::parent`]) and eager steps
    /// of [`GroupHandle`] spawns under way, which are not listed in `tasks` (a nested group
    /// has a snapshot of its own).
    pub live: usize,
    /// A task failed or the group was cancelled.
    pub shutting_down: bool,
    /// The scope has returned.
    pub finished: bool,
    /// Every live task that has suspended at least once, by [`TaskId`] (on each thread, ids
    /// are given as tasks are scheduled, so a task spawned from a child's eager step can come
    /// before its parent).
    pub tasks: Vec<TaskInfo>,
}

/// One task in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    pub id: TaskId,
    pub name: Option<String>,
    pub state: TaskState,
    /// [`TaskHandle::cancel`] was called; the task has not yet seen it.
    pub cancel_requested: bool,
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.finished {
            "finished"
        } else if self.shutting_down {
            "shutting down"
        } else {
            "running"
        };
        write!(
            f,
            "TaskGroup ({:?}, {state}): {} live task{}",
            self.start,
            self.live,
            if self.live == 1 { "" } else { "s" }
        )?;
        for task in &self.tasks {
            write!(f, "\n  {}", task.id)?;
            if let Some(name) = &task.name {
                write!(f, " '{name}'")?;
            }
            let state = match task.state {
                TaskState::Pending if task.cancel_requested => "suspended, cancel requested",
                TaskState::Pending => "suspended",
                TaskState::Done => "done",
                TaskState::Failed => "failed",
                TaskState::Cancelled => "cancelled",
            };
            write!(f, " {state}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits (on the real clock, up to ten seconds) until only `kept` holds its group: the
    /// last task to end lets go of the live tasks' reference just after the count reaches
    /// zero, on its own thread, so the scope may return a moment before.
    fn only_this_holds_the_group(kept: &GroupHandle) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while Arc::strong_count(&kept.0) != 1 {
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::yield_now();
        }
        true
    }

    #[tokio::test]
    async fn the_last_task_to_end_lets_go_of_the_group() {
        let (kept, done) = scope(Start::Scheduled, async |tg: &mut TaskGroup| {
            for i in 0..100 {
                tg.spawn(async move {
                    if i % 2 == 0 {
                        tokio::task::yield_now().await;
                    }
                })?;
            }
            // The body, its group and its tasks: more than this handle holds the group.
            let kept = tg.handle();
            assert!(Arc::strong_count(&kept.0) > 1);
            Ok(kept)
        })
        .await
        .unwrap();
        assert_eq!(done.total(), 100);
        assert!(only_this_holds_the_group(&kept), "a reference was kept");
    }

    /// Each task ends before the next is spawned, on either of two threads: the live count
    /// rises from zero and falls back to it a hundred times, each time taking and letting go
    /// of the live tasks' reference.
    fn two_workers() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
    }

    #[test]
    fn a_count_that_returns_to_zero_again_and_again_keeps_no_reference_on_the_multi_thread_runtime()
    {
        let (kept, done) = two_workers()
            .block_on(scope(Start::Scheduled, async |tg: &mut TaskGroup| {
                for i in 0..100u32 {
                    let task = tg.spawn(async move { i })?;
                    assert_eq!(task.await, Ok(i));
                }
                Ok(tg.handle())
            }))
            .unwrap();
        assert_eq!(done.total(), 100);
        assert!(only_this_holds_the_group(&kept), "a reference was kept");
    }

    /// Handles that outlive their scope keep their group readable; the last of them lets it go.
    #[tokio::test]
    async fn handles_kept_past_the_scope_let_go_of_the_group_when_the_last_is_dropped() {
        let ((kept, handles), _) = scope(Start::Scheduled, async |tg: &mut TaskGroup| {
            let handles = (0..3u32)
                .map(|i| tg.spawn(async move { i }))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((tg.handle(), handles))
        })
        .await
        .unwrap();
        // Every task has ended; their handles still count, so the group is still held.
        assert!(Arc::strong_count(&kept.0) > 1);
        let mut handles = handles.into_iter();
        assert_eq!(handles.next().unwrap().result(), Some(0));
        let rest: Vec<_> = handles.collect();
        assert!(rest.iter().all(TaskHandle::done));
        assert!(Arc::strong_count(&kept.0) > 1, "two handles are left");
        drop(rest);
        assert!(only_this_holds_the_group(&kept), "a reference was kept");
    }

    /// Tasks end on two worker threads while the thread that spawned them drops their handles:
    /// the last task to end and the last handle to go race to let go of the group.
    #[test]
    fn the_last_task_and_the_last_handle_race_to_let_go_on_the_multi_thread_runtime() {
        let rt = two_workers();
        for _ in 0..20 {
            let (kept, done) = rt
                .block_on(scope(Start::Scheduled, async |tg: &mut TaskGroup| {
                    let handles = (0..20)
                        .map(|_| tg.spawn(tokio::task::yield_now()))
                        .collect::<Result<Vec<_>, _>>()?;
                    let kept = tg.handle();
                    std::thread::spawn(move || drop(handles));
                    Ok(kept)
                }))
                .unwrap();
            assert_eq!(done.total(), 20);
            assert!(only_this_holds_the_group(&kept), "a reference was kept");
        }
    }

    /// The scope's future is dropped while its tasks wait: its group goes on until the last
    /// task has ended, and that task lets go of it.
    #[tokio::test]
    async fn an_abandoned_group_is_let_go_by_its_last_task() {
        let kept = Arc::new(Mutex::new(None));
        let release = Arc::new(Notify::new());
        let run = scope(Start::Scheduled, {
            let (kept, release) = (Arc::clone(&kept), Arc::clone(&release));
            async move |tg: &mut TaskGroup| {
                *kept.lock().unwrap() = Some(tg.handle());
                for _ in 0..3 {
                    let release = Arc::clone(&release);
                    tg.spawn(async move { release.notified().await })?;
                }
                std::future::pending::<()>().await;
                Ok(())
            }
        });
        // The body never returns: the timeout drops the scope with its tasks still waiting.
        let abandoned = tokio::time::timeout(std::time::Duration::from_millis(10), run).await;
        assert!(abandoned.is_err());
        // Dropping the scope shut the group down, which cancels the tasks at once.
        tokio::task::yield_now().await;
        let kept = kept.lock().unwrap().take().unwrap();
        assert!(kept.0.is_shutting_down());
        assert!(only_this_holds_the_group(&kept), "a reference was kept");
    }
}
