//! What the tasks of one group, its handles and its scope share ([`Shared`]): the state word,
//! the failures, the listing, the cancel marks and messages, the shutdown; and every group's,
//! for [`all_tasks`].

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::task::Waker;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::cancel::Requests;
use crate::current::{self, NoRunningLoop, TaskId};
use crate::listing::Listing;
use crate::options::Start;
use crate::outcome::{Failure, GroupError, Interrupt, Refused, TaskState, panic_message};
use crate::snapshot::{Snapshot, TaskInfo};
use crate::state::{self, State};

/// Counts one scheduled task (or nested group) as live in its group until dropped (see
/// [`state::Live`]).
pub(crate) type Live = state::Live<Shared>;

/// A scheduled task's handle's reference to its group, counted with the live tasks.
pub(crate) type GroupRef = state::GroupRef<Shared>;

/// What the tasks of one group, its handles and its scope share.
pub(crate) struct Shared {
    /// Flags, the count of scheduled tasks (and nested groups) not yet ended, and the count
    /// of scheduled tasks' handles: see [`state`].
    pub(crate) state: State,
    /// Cancelled when the group shuts down; cancelling it from outside cancels the group.
    pub(crate) token: CancellationToken,
    /// The group was cancelled (its token, or [`TaskGroup::cancel`](crate::TaskGroup::cancel)), not
    /// only failed.
    pub(crate) cancelled: AtomicBool,
    pub(crate) failures: Mutex<Vec<Failure>>,
    /// Notified when the live count drops to zero.
    pub(crate) ended: Notify,
    /// Scheduled tasks that have suspended at least once, those with a name (whose name only
    /// this keeps for them) and those that went on from an eager step: what snapshots and
    /// `all_tasks()` show, and what the shutdown wakes.
    pub(crate) listed: Mutex<Listing>,
    /// Tasks whose handle asked them to stop, by id (see [`request_cancel`](Self::request_cancel)).
    pub(crate) marks: Mutex<BTreeSet<TaskId>>,
    /// How many `marks` there are, readable without the lock: while 0, a task that ends takes
    /// no lock to look for its own.
    pub(crate) marked: AtomicU64,
    /// The messages of the cancellations that scheduled tasks returned, until their handles
    /// read them.
    pub(crate) messages: Mutex<BTreeMap<TaskId, Arc<str>>>,
    /// Tasks finished in their eager step when spawned through a
    /// [`GroupHandle`](crate::GroupHandle).
    pub(crate) eager_done: AtomicU64,
    /// Tasks scheduled through a [`GroupHandle`](crate::GroupHandle) (the body's own are counted in
    /// [`TaskGroup`](crate::TaskGroup)).
    pub(crate) scheduled: AtomicU64,
    /// Scheduled tasks that ended without completing: failed or cancelled. Counting these
    /// rather than the completed ones keeps an atomic off the common path.
    pub(crate) unfinished: AtomicU64,
    pub(crate) start: Start,
    /// Held while this group is nested in another: the parent counts it as a live task.
    pub(crate) parent: Mutex<Option<Live>>,
    /// A second token that cancels the group: the one given to
    /// [`Scope::cancel_on`](crate::Scope::cancel_on) when the group's own token is already a child
    /// of its parent's.
    pub(crate) also: Option<CancellationToken>,
    /// The runtime the scope runs on, which scheduled tasks go to from whatever thread spawns
    /// them. A scope polled outside tokio takes the runtime its first scheduled task is
    /// spawned in (and, as `tokio::spawn`, panics if there is none).
    pub(crate) runtime: OnceLock<tokio::runtime::Handle>,
    /// The first [`Interrupt`] a task or the body panicked with: the scope raises it again.
    pub(crate) interrupt: Mutex<Option<Interrupt>>,
    /// The thread a dropped scope waits on for its tasks (see `wait_abandoned`).
    pub(crate) abandoner: Mutex<Option<std::thread::Thread>>,
    /// A cooperative body's requests, and whether the group's shutdown made one yet.
    pub(crate) body: OnceLock<Arc<Requests>>,
    pub(crate) body_requested: AtomicBool,
}

impl Shared {
    /// The group's state, listed for [`all_tasks`] until it is let go.
    pub(crate) fn registered(shared: Shared) -> Arc<Shared> {
        let shared = Arc::new(shared);
        groups().insert(Arc::as_ptr(&shared) as usize, Arc::downgrade(&shared));
        shared
    }

    pub(crate) fn new(
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

    /// The token given to [`Scope::cancel_on`](crate::Scope::cancel_on) beside the group's own was
    /// cancelled.
    pub(crate) fn also_cancelled(&self) -> bool {
        self.also
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled)
    }

    /// Returns once the group is cancelled: its token, or the second one.
    pub(crate) async fn cancelled(&self) {
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

    pub(crate) fn listing(&self) -> MutexGuard<'_, Listing> {
        self.listed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn marks(&self) -> MutexGuard<'_, BTreeSet<TaskId>> {
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
        if !listing.set_waker(*slot, waker) {
            *slot = listing.insert(id, None, Some(waker.clone()));
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
    pub(crate) fn accepting(&self) -> Result<(), Refused> {
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
    pub(crate) fn shut_down(&self) {
        if !self.state.shut_down() {
            return;
        }
        self.token.cancel();
        self.request_body();
        for waker in self.listing().wakers() {
            waker.wake_by_ref();
        }
    }

    /// A cooperative body's request for the group's shutdown, made once, in the very step
    /// that shuts the group down (a task that fails in its eager step, `tg.cancel()`), as
    /// asyncio cancels the parent task at once.
    pub(crate) fn request_body(&self) {
        if let Some(body) = self.body.get()
            && !self.body_requested.swap(true, Ordering::AcqRel)
        {
            body.request(None);
        }
    }

    pub(crate) fn cancel(&self) {
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

    pub(crate) fn unfinished(&self) {
        self.unfinished.fetch_add(1, Ordering::Relaxed);
    }

    /// Lets go of the parent group, handing it the failures nobody collected here: returns
    /// the count the parent keeps of this group, for the caller to drop. Dropping it may end
    /// the parent, abandoned too, and so on up a chain of nested groups: [`Live`]'s drop walks
    /// up that chain in a loop, where a drop here would recurse once per level.
    #[must_use = "dropping the parent's count is what lets it go"]
    pub(crate) fn release_parent(&self) -> Option<Live> {
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

    pub(crate) fn snapshot(&self) -> Snapshot {
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
                        name: entry.name.map(|name| String::clone(name)),
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
