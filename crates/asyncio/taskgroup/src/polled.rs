//! A group whose tasks the scope polls itself: the whole group is one tokio task.
//!
//! [`scope`] is `async with TaskGroup() as tg` where the scope's future
//! keeps every child and polls it when its waker marks it ready, as asyncio's event loop polls
//! its tasks. A child is no tokio task: it costs no spawn, may borrow from the caller's stack,
//! and need not be `Send` or `'static`. A child that finishes in its first poll (with
//! [`Start::Eager`]) costs no allocation at all; one that suspends takes a piece of the
//! group's arena for its future (given back to the next child of its size), a slab entry, and
//! a waker from a block shared by 64 slots.
//!
//! What it gives up, for that (the first two measured by
//! `cargo run --release -p taskgroup --example polled_costs`, on a multi-thread runtime with
//! two workers, children that burn 50 ms of CPU each):
//! - **No parallelism.** Every child runs on the thread that polls the scope, even on the
//!   multi-thread runtime: one core for the whole group. Four busy children: the scheduled
//!   group returns after 107 ms (both workers), the polled group after 200 ms.
//! - **A child that blocks stalls the group**: its siblings and the body wait for it, as an
//!   asyncio task that blocks stalls its loop. A sibling spawned just after a busy child first
//!   runs 50 ms later in the polled group, at once (0.0 ms) in the scheduled group.
//! - **One task for the scheduler's fairness.** The runtime sees one task; the scope polls at
//!   most [`BUDGET`] children each time it is polled, then yields, so a group of a million
//!   ready children does not starve its neighbours.
//!
//! What it costs instead, a child (the `suspend_once` and `ex_6_1` exercises, current-thread
//! runtime, 2026-12-06): a child that suspends once, 0.16× `TaskTracker`'s time at 10^6 children
//! and 93-96 ns of CPU at 10^5 (FuturesUnordered about 125 ns), a third of it the first touch
//! of fresh memory: about 64 bytes a child, its future in the arena (32 bytes for a
//! `yield_now().await`), its slab entry (24: its id, value and waiter live apart, made only when
//! asked for, and a free entry holds the free list's link) and its place in the ready queue.
//! One that finishes in its eager step: 0.9× to 1.2× the eager [`TaskGroup`](crate::TaskGroup)'s
//! time (no allocation, 13 instructions against its 18). The project's report gives the figures
//! of each run.
//!
//! What it keeps of asyncio's `TaskGroup`: the scope returns once every child has ended; the
//! first failure (an `Err` of [`spawn_fallible`](PolledGroup::spawn_fallible), or a panic)
//! cancels the other children and the body, and every failure comes back in a [`GroupError`];
//! spawning is refused once the group shuts down; a child spawns through a [`PolledGroup`]
//! handle it was given; each child has a [`PolledTask`] handle to cancel, await or read, a
//! `Task-N` id, and is [`current_task()`](crate::current_task) while it runs. Cancelling is
//! dropping the child's future, as in the rest of the crate; because the scope owns every
//! child, that drop happens at once, and dropping the scope drops every child before the drop
//! returns: asyncio's promise to a cancelled owner, kept by construction.

use std::any::Any;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::{IntoFuture, poll_fn};
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures::task::AtomicWaker;

use crate::arena::{Arena, Held};
use crate::current::{self, TaskId};
use crate::options::{NoContext, Start, first_poll};
use crate::outcome::{
    Completed, Failure, GroupError, Interrupt, Refused, TaskError, TaskState, panic_message,
};
use crate::place::{self, Alone, Places, StepIn, Stepped};
use crate::ready::Ready;
use crate::wakers::Wakers;

/// How many children the scope polls each time it is polled, before it yields to the runtime.
pub const BUDGET: usize = 256;

/// Runs `body` with a new polled group and returns once every child has ended. `start` says
/// whether a child is polled once where it is spawned ([`Start::Eager`]) or first when the
/// scope next polls its ready children ([`Start::Scheduled`]). Returns the body's value, or
/// every failure.
///
/// # Panics
///
/// Once every child has ended, with the [`Interrupt`] a child or the body panicked with, if
/// one did: `KeyboardInterrupt` out of `async with`.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use taskgroup::{Start, polled};
/// let words = ["borrowed", "from", "the", "caller"]; // not 'static, and children may borrow it
/// let total = polled::scope(Start::Eager, async |tg| {
///     let mut lengths = Vec::new();
///     for word in &words {
///         lengths.push(tg.spawn(async move {
///             tokio::task::yield_now().await; // suspends: the scope polls it again
///             word.len()
///         })?);
///     }
///     let mut total = 0;
///     for length in lengths {
///         total += length.await?;
///     }
///     Ok(total)
/// })
/// .await?;
/// assert_eq!(total, 21);
/// # anyhow::Ok(()) }).unwrap();
/// ```
pub async fn scope<'env, T, B>(start: Start, body: B) -> Result<T, GroupError>
where
    B: AsyncFnOnce(&mut PolledScope<'env>) -> anyhow::Result<T>,
{
    scope_counted(start, body).await.map(|(value, _)| value)
}

/// [`scope`], and also how many children completed and how ([`Completed`]): what a benchmark
/// checks its run by, and what asyncio has no counterpart of.
///
/// # Panics
///
/// As [`scope`].
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use taskgroup::{Start, polled};
/// let ((), done) = polled::scope_counted(Start::Eager, async |tg| {
///     tg.spawn(async {})?; // ends in its eager first poll
///     tg.spawn(tokio::task::yield_now())?; // suspends: the scope completes it
///     Ok(())
/// })
/// .await?;
/// assert_eq!((done.eager, done.scheduled), (1, 1));
/// # anyhow::Ok(()) }).unwrap();
/// ```
pub async fn scope_counted<'env, T, B>(start: Start, body: B) -> Result<(T, Completed), GroupError>
where
    B: AsyncFnOnce(&mut PolledScope<'env>) -> anyhow::Result<T>,
{
    let mut tg = PolledScope {
        group: PolledGroup::new(start),
        start,
        places: Places::default(),
        eager_done: 0,
    };
    let group = tg.handle();
    let outcomes = &group.inner.outcomes;
    let value = {
        let mut body = Body {
            future: pin!(Some(body(&mut tg))),
            outcomes: Rc::clone(outcomes),
        };
        let mut value = None;
        poll_fn(|cx| {
            outcomes.scope.register(cx.waker());
            group.inner.wakers.ready().begin(); // before the marks are taken (see `ready`)
            if outcomes.is_shutting_down() {
                // Cancelled since the last poll: the body takes no further step.
                body.drop_future();
            }
            if let Some(running) = body.future.as_mut().as_pin_mut() {
                match panic::catch_unwind(AssertUnwindSafe(|| running.poll(cx))) {
                    Ok(Poll::Pending) => {}
                    Ok(Poll::Ready(ended)) => {
                        body.drop_future();
                        match ended {
                            Ok(v) => value = Some(v),
                            Err(e) => outcomes.fail(Failure::Error(e)),
                        }
                    }
                    Err(payload) => {
                        body.drop_future();
                        outcomes.panicked(payload);
                    }
                }
            }
            let more = group.inner.poll_ready(BUDGET);
            if outcomes.is_shutting_down() {
                // The first failure cancels the body too (asyncio cancels the parent task).
                body.drop_future();
                group.inner.cancel_all();
            }
            if body.future.is_none() && group.inner.live() == 0 {
                return Poll::Ready(());
            }
            if more {
                cx.waker().wake_by_ref(); // the budget ran out: yield, and come back
            }
            Poll::Pending
        })
        .await;
        value
    };
    group.inner.finished.set(true);
    if let Some(interrupt) = outcomes.interrupt.take() {
        // `KeyboardInterrupt` out of `async with`: every child has ended, and the interrupt
        // goes on unwrapped.
        panic::resume_unwind(Box::new(interrupt));
    }
    let failures = outcomes.failures.take();
    let cancelled = outcomes.cancelled.get();
    match value {
        Some(value) if failures.is_empty() && !cancelled => {
            let mut completed = group.inner.completed.get();
            completed.eager += tg.eager_done;
            Ok((value, completed))
        }
        _ => Err(GroupError {
            failures,
            cancelled,
        }),
    }
}

/// The scope's body, dropped as its group drops a child: with the group as the one a nested
/// polled scope inside it hands its failures to, and with a panic in its drop a failure.
struct Body<'a, B> {
    future: Pin<&'a mut Option<B>>,
    outcomes: Rc<Outcomes>,
}

impl<B> Body<'_, B> {
    fn drop_future(&mut self) {
        if self.future.is_some() {
            let _failed = self.outcomes.dropping(|| self.future.set(None));
        }
    }
}

/// The scope's future dropped unfinished (its owner cancelled): the body goes first, as the
/// group's own drop.
impl<B> Drop for Body<'_, B> {
    fn drop(&mut self) {
        self.drop_future();
    }
}

/// How a polled group ends, apart from its children: what failed, whether it was cancelled
/// or is shutting down, an interrupt to raise again. Shared (`'static`, unlike the group) with
/// a nested polled scope that its group drops, which hands its failures here.
struct Outcomes {
    failures: RefCell<Vec<Failure>>,
    /// Failures and interrupts so far: whether one came during a drop, without a borrow.
    troubles: Cell<u64>,
    interrupt: RefCell<Option<Interrupt>>,
    shutting_down: Cell<bool>,
    cancelled: Cell<bool>,
    /// The scope's own waker, woken when a child is marked ready or the group shuts down.
    scope: Arc<AtomicWaker>,
}

thread_local! {
    /// The polled group dropping a child or its body on this thread right now: a polled scope
    /// dropped unfinished in there is nested in it (`async with` inside a task of the group).
    static DROPPING: Cell<Option<Rc<Outcomes>>> = const { Cell::new(None) };
}

impl Outcomes {
    fn is_shutting_down(&self) -> bool {
        self.shutting_down.get()
    }

    fn fail(&self, failure: Failure) {
        self.failures.borrow_mut().push(failure);
        self.troubles.set(self.troubles.get() + 1);
        self.shut_down();
    }

    /// A child or the body panicked: a failure of the group, or, for an [`Interrupt`], what
    /// the scope raises once every child has ended.
    fn panicked(&self, payload: Box<dyn Any + Send>) {
        match payload.downcast::<Interrupt>() {
            Ok(interrupt) => {
                self.interrupt.borrow_mut().get_or_insert(*interrupt);
                self.troubles.set(self.troubles.get() + 1);
                self.shut_down();
            }
            Err(payload) => self.fail(Failure::Panic(panic_message(&*payload))),
        }
    }

    fn shut_down(&self) {
        if !self.shutting_down.replace(true) {
            self.scope.wake();
        }
    }

    /// Runs `drop` (of a child, or the body) as this group's, catching a panic in it: a
    /// failure of the group, as are the failures of a polled scope nested in what is dropped.
    /// Returns whether the drop failed so.
    fn dropping(self: &Rc<Self>, drop: impl FnOnce()) -> bool {
        let before = self.troubles.get();
        let outer = DROPPING.with(|d| d.replace(Some(Rc::clone(self))));
        let dropped = panic::catch_unwind(AssertUnwindSafe(drop));
        DROPPING.with(|d| d.set(outer));
        if let Err(payload) = dropped {
            self.panicked(payload);
        }
        self.troubles.get() != before
    }

    /// This group's scope was dropped unfinished: what it could not return goes to the group
    /// dropping it, if it is nested in one, as one failure (an `ExceptionGroup` raised into
    /// the outer group).
    fn hand_up(&self) {
        let Some(outer) = DROPPING.with(|d| {
            let outer = d.take();
            d.set(outer.clone());
            outer
        }) else {
            return;
        };
        if let Some(interrupt) = self.interrupt.take() {
            outer.interrupt.borrow_mut().get_or_insert(interrupt);
            outer.troubles.set(outer.troubles.get() + 1);
            outer.shut_down();
        }
        let failures = self.failures.take();
        if !failures.is_empty() {
            outer.fail(Failure::Error(
                GroupError {
                    failures,
                    cancelled: self.cancelled.get(),
                }
                .into(),
            ));
        }
    }
}

/// What a polled [`scope`]'s body spawns with (`tg` in `async with TaskGroup() as tg`), as
/// [`TaskGroup`](crate::TaskGroup) is for the scheduled group: spawning takes `&mut`, so the
/// scope keeps its eager place and its count of children finished there to itself, out of
/// the shared group. A child spawns through a [`PolledGroup`] from [`handle`](Self::handle).
pub struct PolledScope<'env> {
    group: PolledGroup<'env>,
    start: Start,
    /// The memory each eager child's first poll runs in, reused while children finish there.
    places: Places,
    /// Children that finished in their eager step: added to the group's count at the end.
    eager_done: u64,
}

impl fmt::Debug for PolledScope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.group.fmt(f)
    }
}

impl<'env> PolledScope<'env> {
    /// How this group starts its children.
    pub fn start(&self) -> Start {
        self.start
    }

    /// Adds a child running `future` (`tg.create_task(coro)`); it fails only by panicking.
    /// Refused once the group is shutting down: the future is dropped, never run.
    ///
    /// Started eagerly, a child that finishes in its step costs a poll: no allocation (the
    /// step runs in a place the scope keeps and reuses), no atomic update, no lock. One that
    /// suspends, or a scheduled one, costs what the [module's docs](self) say.
    pub fn spawn<F>(&mut self, future: F) -> Result<PolledTask<'env, F::Output>, Refused>
    where
        F: Future + 'env,
        F::Output: 'static,
    {
        self.spawn_as(future, Ok)
    }

    /// Adds a child whose `Err` is a failure of the group.
    pub fn spawn_fallible<F, T, E>(&mut self, future: F) -> Result<PolledTask<'env, T>, Refused>
    where
        F: Future<Output = Result<T, E>> + 'env,
        T: 'static,
        E: Into<anyhow::Error>,
    {
        self.spawn_as(future, |out| out.map_err(Into::into))
    }

    /// A handle to the group, for a child to spawn into it (`Clone`).
    pub fn handle(&self) -> PolledGroup<'env> {
        self.group.clone()
    }

    /// `tg.cancel()`: see [`PolledGroup::cancel`].
    pub fn cancel(&self) {
        self.group.cancel();
    }

    /// The group is shutting down: a child failed, or it was cancelled.
    pub fn is_shutting_down(&self) -> bool {
        self.group.is_shutting_down()
    }

    /// Children not yet ended.
    pub fn live(&self) -> usize {
        self.group.live()
    }

    #[inline(always)]
    fn spawn_as<F, O, T>(&mut self, future: F, outcome: O) -> Result<PolledTask<'env, T>, Refused>
    where
        F: Future + 'env,
        O: FnOnce(F::Output) -> anyhow::Result<T> + 'env,
        T: 'static,
    {
        let inner = &self.group.inner;
        if let Some(refused) = inner.refusal() {
            return Err(refused);
        }
        match self.start {
            Start::Scheduled => {
                std::hint::cold_path(); // laid out for the eager path, worth a few cycles
                Ok(inner.schedule(future, outcome))
            }
            // The place and the count are the scope's own, behind `&mut`: the compiler keeps
            // them out of memory between spawns, as it does for `TaskGroup`'s.
            Start::Eager => Ok(inner.eager(
                self.places.free::<F>(),
                future,
                outcome,
                &mut self.eager_done,
            )),
        }
    }
}

/// A handle to a polled group, for a child to spawn into it (`Clone`, from
/// [`PolledScope::handle`]). Not `Send`: the group lives in one task.
pub struct PolledGroup<'env> {
    inner: Rc<Inner<'env>>,
    /// The scope's own group, which clears its children when dropped; clones do not.
    owner: bool,
}

impl Clone for PolledGroup<'_> {
    fn clone(&self) -> Self {
        Self {
            inner: Rc::clone(&self.inner),
            owner: false,
        }
    }
}

impl fmt::Debug for PolledGroup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolledGroup")
            .field("start", &self.inner.start)
            .field("live", &self.inner.live())
            .field("shutting_down", &self.inner.is_shutting_down())
            .finish()
    }
}

/// The scope's future is dropped (its owner cancelled): every child is dropped here, before
/// the drop returns.
impl Drop for PolledGroup<'_> {
    fn drop(&mut self) {
        if self.owner && !self.inner.finished.replace(true) {
            self.inner.cancel_all();
            self.inner.outcomes.hand_up();
        }
    }
}

impl<'env> PolledGroup<'env> {
    fn new(start: Start) -> Self {
        let ready = Arc::new(Ready::default());
        let scope = Arc::new(AtomicWaker::new());
        Self {
            inner: Rc::new(Inner {
                start,
                slots: RefCell::new(Slots::default()),
                wakers: Wakers::new(ready, Arc::clone(&scope)),
                queue: RefCell::new(VecDeque::new()),
                spare: RefCell::new(VecDeque::new()),
                outcomes: Rc::new(Outcomes {
                    failures: RefCell::new(Vec::new()),
                    troubles: Cell::new(0),
                    interrupt: RefCell::new(None),
                    shutting_down: Cell::new(false),
                    cancelled: Cell::new(false),
                    scope,
                }),
                finished: Cell::new(false),
                completed: Cell::new(Completed::default()),
                places: RefCell::new(Places::default()),
                arena: RefCell::new(Arena::default()),
            }),
            owner: true,
        }
    }

    /// How this group starts its children.
    pub fn start(&self) -> Start {
        self.inner.start
    }

    /// Adds a child running `future` (`tg.create_task(coro)`); it fails only by panicking.
    /// Refused once the group is shutting down or its scope has returned: the future is
    /// dropped, never run.
    ///
    /// It costs what [`PolledScope::spawn`] does, with the group's place behind a `RefCell`,
    /// except for a child spawned during another's eager step (which holds that place): its
    /// own step runs in memory allocated for it, freed if it finishes there.
    pub fn spawn<F>(&self, future: F) -> Result<PolledTask<'env, F::Output>, Refused>
    where
        F: Future + 'env,
        F::Output: 'static,
    {
        self.inner.spawn(future, Ok)
    }

    /// Adds a child whose `Err` is a failure of the group.
    pub fn spawn_fallible<F, T, E>(&self, future: F) -> Result<PolledTask<'env, T>, Refused>
    where
        F: Future<Output = Result<T, E>> + 'env,
        T: 'static,
        E: Into<anyhow::Error>,
    {
        self.inner.spawn(future, |out| out.map_err(Into::into))
    }

    /// `tg.cancel()`: drops every child and the body; the scope returns a [`GroupError`] that
    /// says it was cancelled.
    pub fn cancel(&self) {
        let outcomes = &self.inner.outcomes;
        if !outcomes.is_shutting_down() {
            outcomes.cancelled.set(true);
        }
        outcomes.shut_down();
    }

    /// The group is shutting down: a child failed, or it was cancelled.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.is_shutting_down()
    }

    /// Children not yet ended.
    pub fn live(&self) -> usize {
        self.inner.live()
    }
}

struct Inner<'env> {
    start: Start,
    slots: RefCell<Slots<'env>>,
    /// The children's wakers, a block per 64 slots, and the ready queue they mark (by slot,
    /// from any thread).
    wakers: Wakers,
    /// The scope's own queue of children to poll: new ones, and those the wakers marked.
    queue: RefCell<VecDeque<u32>>,
    /// An empty queue, kept for its memory: the scope polls its batch out of it.
    spare: RefCell<VecDeque<u32>>,
    outcomes: Rc<Outcomes>,
    /// The scope has returned, or was dropped.
    finished: Cell<bool>,
    completed: Cell<Completed>,
    /// The memory an eager first poll runs in, reused while children finish there.
    places: RefCell<Places>,
    /// The memory of children that suspend. After `slots`: dropped after every child.
    arena: RefCell<Arena>,
}

/// How a child ended: its value, type-erased (the slab holds children of every type), or
/// its failure.
enum Outcome {
    Done(Box<dyn Any>),
    Failed(Failure),
}

/// A child, as the slab keeps it: its future, whatever its type, ending in an [`Outcome`], in
/// the group's arena.
type Child<'env> = Held<'env, Outcome>;

pin_project_lite::pin_project! {
    /// A child's future and what turns its output into the task's value or a failure.
    struct Running<F, O> {
        #[pin]
        future: F,
        outcome: Option<O>,
    }
}

impl<F, O, T> Future for Running<F, O>
where
    F: Future,
    O: FnOnce(F::Output) -> anyhow::Result<T>,
    T: 'static,
{
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        let this = self.project();
        let out = std::task::ready!(this.future.poll(cx));
        let Some(outcome) = this.outcome.take() else {
            unreachable!("a child that ended is not polled again")
        };
        Poll::Ready(match outcome(out) {
            Ok(value) => Outcome::Done(Box::new(value)),
            Err(e) => Outcome::Failed(Failure::Error(e)),
        })
    }
}

struct Slots<'env> {
    entries: Vec<Entry<'env>>,
    /// What few slots hold beside their child, by slot, made as first needed: the scope's
    /// polls walk `entries` only, half as much memory.
    cold: Vec<Cold>,
    /// The first free slot ([`NO_SLOT`] if none); each free slot names the next
    /// ([`Holds::Vacant`]), so that freeing 10^5 slots touches no memory but theirs.
    free: u32,
    live: usize,
}

/// No slot: the end of the free list, or a vacant slot that is not on it.
const NO_SLOT: u32 = u32::MAX;

impl Default for Slots<'_> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            cold: Vec::new(),
            free: NO_SLOT,
            live: 0,
        }
    }
}

/// A slot's rarely used part: a value its handle has yet to take, a waiter on the handle, the
/// child's `Task-N` id once someone asked for it (inside it, or through its handle).
#[derive(Default)]
struct Cold {
    value: Option<Box<dyn Any>>,
    waiter: Option<Waker>,
    id: Option<TaskId>,
}

impl Slots<'_> {
    /// `slot`'s cold part, made if it was not.
    fn cold(&mut self, slot: u32) -> &mut Cold {
        let slot = slot as usize;
        if self.cold.len() <= slot {
            self.cold.resize_with(slot + 1, Cold::default);
        }
        self.entries[slot].cold = true;
        &mut self.cold[slot]
    }

    /// The id of the child in `slot`, if someone has asked for it.
    fn id(&self, slot: u32) -> Option<TaskId> {
        let slot = slot as usize;
        if self.entries[slot].cold {
            self.cold[slot].id
        } else {
            None
        }
    }

    /// Puts `slot` on the free list.
    fn push_free(&mut self, slot: u32) {
        self.entries[slot as usize].holds = Holds::Vacant(self.free);
        self.free = slot;
    }

    /// Takes a slot off the free list, if there is one.
    fn pop_free(&mut self) -> Option<u32> {
        let slot = self.free;
        if slot == NO_SLOT {
            return None;
        }
        self.free = match self.entries[slot as usize].holds {
            Holds::Vacant(next) => next,
            Holds::Child(_) => unreachable!("a slot on the free list holds no child"),
        };
        Some(slot)
    }

    /// Takes `slot`'s cold part, if it has one, for the caller to drop outside the borrow.
    fn take_cold(&mut self, slot: u32) -> Option<Cold> {
        let entry = &mut self.entries[slot as usize];
        if !std::mem::take(&mut entry.cold) {
            return None;
        }
        Some(std::mem::take(&mut self.cold[slot as usize]))
    }
}

struct Entry<'env> {
    /// Counts the children this slot has held: a handle names its child by slot and
    /// generation.
    generation: u32,
    /// Vacant while free, or while the scope polls the child (it is taken out, so that a child
    /// may spawn into the group as it runs).
    holds: Holds<'env>,
    state: TaskState,
    /// The slot's [`Cold`] part holds a value, a waiter or an id.
    cold: bool,
    /// A handle to this child exists: the slot is freed only when the child has ended and
    /// the handle is gone.
    handle: bool,
}

/// What a slot holds: its child, or none, with the next free slot if it is on the free list
/// ([`NO_SLOT`] otherwise). As the `slab` crate keeps its free list; in the space of the
/// child's pointer, so an entry stays three words.
enum Holds<'env> {
    Child(Child<'env>),
    Vacant(u32),
}

impl<'env> Entry<'env> {
    /// Takes the child out, if the slot holds one; a free slot stays on the free list.
    fn take_child(&mut self) -> Option<Child<'env>> {
        if !matches!(self.holds, Holds::Child(_)) {
            return None;
        }
        match std::mem::replace(&mut self.holds, Holds::Vacant(NO_SLOT)) {
            Holds::Child(child) => Some(child),
            Holds::Vacant(_) => None,
        }
    }
}

impl<'env> Inner<'env> {
    fn is_shutting_down(&self) -> bool {
        self.outcomes.is_shutting_down()
    }

    fn live(&self) -> usize {
        self.slots.borrow().live
    }

    fn fail(&self, failure: Failure) {
        self.outcomes.fail(failure);
    }

    fn refusal(&self) -> Option<Refused> {
        if self.finished.get() {
            Some(Refused::Finished)
        } else if self.is_shutting_down() {
            Some(Refused::ShuttingDown)
        } else {
            None
        }
    }

    /// A child spawned through a handle: the group's shared place for its eager step, or
    /// memory of its own if that place is busy (a child spawning during its own eager step).
    fn spawn<F, O, T>(
        self: &Rc<Self>,
        future: F,
        outcome: O,
    ) -> Result<PolledTask<'env, T>, Refused>
    where
        F: Future + 'env,
        O: FnOnce(F::Output) -> anyhow::Result<T> + 'env,
        T: 'static,
    {
        if let Some(refused) = self.refusal() {
            return Err(refused);
        }
        if self.start == Start::Scheduled {
            return Ok(self.schedule(future, outcome));
        }
        let mut done = 0;
        let task = match self.places.try_borrow_mut() {
            Ok(mut places) => self.eager(places.free::<F>(), future, outcome, &mut done),
            // A child spawning during its own eager step, when the group's place holds that
            // child: the step runs in memory of the future's own, out of line.
            Err(_) => {
                std::hint::cold_path();
                self.eager(Alone::new(), future, outcome, &mut done)
            }
        };
        let mut completed = self.completed.get();
        completed.eager += done;
        self.completed.set(completed);
        Ok(task)
    }

    /// A child first polled when the scope next polls its ready children.
    fn schedule<F, O, T>(self: &Rc<Self>, future: F, outcome: O) -> PolledTask<'env, T>
    where
        F: Future + 'env,
        O: FnOnce(F::Output) -> anyhow::Result<T> + 'env,
        T: 'static,
    {
        let running = Running {
            future,
            outcome: Some(outcome),
        };
        let child = Held::new(&mut self.arena.borrow_mut(), running);
        let slot = self.insert(child, None);
        self.mark_ready(slot.0);
        PolledTask::pending(self, slot)
    }

    /// The eager step: polled once where it is spawned, in `place`, as the new task for
    /// `current_task()`; `done` counts a child that finishes there. The place is made ready
    /// first, so that nothing calls out between the two thread-local writes and the compiler
    /// can fold them.
    #[inline(always)]
    fn eager<F, O, T>(
        self: &Rc<Self>,
        place: impl StepIn<F>,
        future: F,
        outcome: O,
        done: &mut u64,
    ) -> PolledTask<'env, T>
    where
        F: Future + 'env,
        O: FnOnce(F::Output) -> anyhow::Result<T> + 'env,
        T: 'static,
    {
        let (stepped, id) = place.step_as_new(future, first_poll(&mut NoContext));
        // What the step left: a value, a failure, or a child that goes on in the slab.
        match stepped {
            Stepped::Ready(out) => match outcome(out) {
                Ok(value) => {
                    *done += 1;
                    PolledTask::completed(value, id)
                }
                Err(e) => self.failed_step(Failure::Error(e), id),
            },
            Stepped::Panicked(payload) => self.panicked_step(payload, id),
            Stepped::Pending(placed) => {
                // It suspended with a no-op waker: the scope polls it again from its queue,
                // in the memory it was polled in.
                std::hint::cold_path();
                self.suspended(placed, outcome, id)
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn failed_step<T: 'static>(&self, failure: Failure, id: Option<TaskId>) -> PolledTask<'env, T> {
        self.fail(failure);
        PolledTask::failed(id)
    }

    #[cold]
    #[inline(never)]
    fn panicked_step<T: 'static>(
        &self,
        payload: Box<dyn Any + Send>,
        id: Option<TaskId>,
    ) -> PolledTask<'env, T> {
        self.outcomes.panicked(payload);
        PolledTask::failed(id)
    }

    /// A child that suspended in its eager step goes on in the slab, in its place.
    #[inline(never)]
    fn suspended<F, O, T>(
        self: &Rc<Self>,
        placed: place::Placed<F>,
        outcome: O,
        id: Option<TaskId>,
    ) -> PolledTask<'env, T>
    where
        F: Future + 'env,
        O: FnOnce(F::Output) -> anyhow::Result<T> + 'env,
        T: 'static,
    {
        let running = Running {
            future: placed,
            outcome: Some(outcome),
        };
        let child = Held::new(&mut self.arena.borrow_mut(), running);
        let slot = self.insert(child, id);
        self.mark_ready(slot.0);
        PolledTask::pending(self, slot)
    }

    /// Puts a child in a free slot: returns the slot and its generation.
    fn insert(&self, child: Child<'env>, id: Option<TaskId>) -> (u32, u32) {
        let mut slots = self.slots.borrow_mut();
        slots.live += 1;
        let placed = match slots.pop_free() {
            Some(slot) => {
                let entry = &mut slots.entries[slot as usize];
                entry.generation = entry.generation.wrapping_add(1);
                entry.holds = Holds::Child(child);
                entry.state = TaskState::Pending;
                entry.handle = true;
                (slot, entry.generation)
            }
            None => {
                let slot =
                    u32::try_from(slots.entries.len()).unwrap_or_else(|_| std::process::abort());
                self.wakers.reserve(slot);
                slots.entries.push(Entry {
                    generation: 0,
                    holds: Holds::Child(child),
                    state: TaskState::Pending,
                    cold: false,
                    handle: true,
                });
                (slot, 0)
            }
        };
        if id.is_some() {
            // Asked for in the eager step: kept, for the child's later steps and its handle.
            slots.cold(placed.0).id = id;
        }
        placed
    }

    /// A new child is ready for its first poll: on the scope's own queue, no lock (the group
    /// is spawned into only on the scope's thread).
    fn mark_ready(&self, slot: u32) {
        self.queue.borrow_mut().push_back(slot);
    }

    /// Polls up to `budget` ready children; returns whether some are still ready.
    fn poll_ready(&self, budget: usize) -> bool {
        // The queue is taken whole, and what the wakers marked joins it, first in first out,
        // as asyncio's ready queue runs; children spawned meanwhile queue up behind it.
        let mut batch = std::mem::take(&mut *self.spare.borrow_mut());
        std::mem::swap(&mut batch, &mut *self.queue.borrow_mut());
        self.wakers.ready().take(&mut batch);
        for _ in 0..budget {
            // Once the group shuts down, no child takes another step (nor a first one).
            if self.is_shutting_down() {
                break;
            }
            let Some(slot) = batch.pop_front() else {
                break;
            };
            self.poll_child(slot);
        }
        let mut queue = self.queue.borrow_mut();
        if !batch.is_empty() {
            // The budget ran out: what is left goes first, then what queued meanwhile.
            batch.append(&mut queue);
            std::mem::swap(&mut batch, &mut *queue);
        }
        let more = !queue.is_empty() || self.wakers.ready().any();
        drop(queue);
        *self.spare.borrow_mut() = batch; // empty: its memory serves the next poll
        more
    }

    /// Polls the child in `slot`, if it is still there, with its own waker.
    fn poll_child(&self, slot: u32) {
        let (mut child, id) = {
            let mut slots = self.slots.borrow_mut();
            let Some(entry) = slots.entries.get_mut(slot as usize) else {
                return;
            };
            let Some(child) = entry.take_child() else {
                return; // ended since it was marked, or a stale wake-up
            };
            let id = if entry.cold {
                slots.cold[slot as usize].id
            } else {
                None
            };
            (child, id)
        };
        // A child nobody has asked the id of runs unnamed: it gets one only if it asks
        // (`current_task()`), as an eager step does, and costs no id and no memory for it.
        let entered = id.map_or(current::UNNAMED, TaskId::current);
        let (polled, left) = self.wakers.poll_with(slot, |waker| {
            let mut cx = Context::from_waker(waker);
            let previous = current::enter(entered);
            let polled = panic::catch_unwind(AssertUnwindSafe(|| child.poll(&mut cx)));
            (polled, current::swap_back(previous))
        });
        if left != entered {
            // Unnamed, and it asked who it is: the id it was given is its name from now on.
            self.slots.borrow_mut().cold(slot).id = TaskId::from_raw(left);
        }
        match polled {
            Ok(Poll::Pending) => {
                self.slots.borrow_mut().entries[slot as usize].holds = Holds::Child(child);
            }
            Ok(Poll::Ready(outcome)) => {
                let failed = self.drop_child(child);
                match outcome {
                    Outcome::Done(value) if !failed => {
                        let mut completed = self.completed.get();
                        completed.scheduled += 1;
                        self.completed.set(completed);
                        self.end(slot, TaskState::Done, Some(value));
                    }
                    Outcome::Done(_) => self.end(slot, TaskState::Failed, None),
                    Outcome::Failed(failure) => {
                        self.end(slot, TaskState::Failed, None);
                        self.fail(failure);
                    }
                }
            }
            Err(payload) => {
                // A second panic, in the drop of the child whose poll panicked, is lost with
                // it: the first is the failure.
                let _ = panic::catch_unwind(AssertUnwindSafe(|| self.free_child(child)));
                self.end(slot, TaskState::Failed, None);
                self.outcomes.panicked(payload);
            }
        }
    }

    /// The child in `slot` ended `how`: its awaiter is woken, and the slot is freed unless a
    /// handle still needs it.
    fn end(&self, slot: u32, how: TaskState, value: Option<Box<dyn Any>>) {
        let mut slots = self.slots.borrow_mut();
        let entry = &mut slots.entries[slot as usize];
        if entry.handle || entry.cold {
            drop(slots);
            return self.end_held(slot, how, value);
        }
        // No handle to take the value, nobody to wake: the slot is free at once, and the
        // value goes. (Nothing larger than a flag passes through memory here: a value made of
        // two halves written apart and read whole cost a stalled load a child.)
        entry.state = how;
        slots.live -= 1;
        slots.push_free(slot);
        drop(slots);
        drop(value); // outside the borrow: its drop may touch the group
    }

    /// [`end`](Self::end) of a child whose slot holds something, or is held.
    #[inline(never)]
    fn end_held(&self, slot: u32, how: TaskState, value: Option<Box<dyn Any>>) {
        let (waiter, unheld) = {
            let mut slots = self.slots.borrow_mut();
            slots.live -= 1;
            let entry = &mut slots.entries[slot as usize];
            entry.state = how; // its child was taken out to be polled or dropped
            let handle = entry.handle;
            let waiter = if entry.cold {
                slots.cold[slot as usize].waiter.take()
            } else {
                None
            };
            if handle {
                if value.is_some() {
                    slots.cold(slot).value = value;
                }
                (waiter, None)
            } else {
                // No handle to take the value: it goes, with the slot.
                (waiter, Some((value, Self::free(&mut slots, slot))))
            }
        };
        drop(unheld); // outside the borrow: a value's drop may touch the group
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }

    /// Frees `slot`; returns what it still held, for the caller to drop once the slab is no
    /// longer borrowed (a value's drop may touch the group: drop a handle of it).
    #[must_use = "drop what the slot held after the slab's borrow"]
    fn free(slots: &mut Slots<'env>, slot: u32) -> Option<Cold> {
        let held = slots.take_cold(slot);
        // The slot's waker stays for the next child here. One that someone still holds (a
        // timer, tokio's deferred wake-ups) may mark the next child ready: a spurious poll,
        // which a future must bear anyway, and never a lost one (the queued flag is cleared
        // at every poll).
        slots.push_free(slot);
        held
    }

    /// Drops a child as the group's (see [`Outcomes::dropping`]), its memory back to the
    /// arena; returns whether the drop failed.
    fn drop_child(&self, child: Child<'env>) -> bool {
        self.outcomes.dropping(|| self.free_child(child))
    }

    /// Drops a child's future and gives its memory back to the arena (outside the arena's
    /// borrow: the drop may spawn).
    fn free_child(&self, child: Child<'env>) {
        let memory = child.drop_future();
        self.arena.borrow_mut().give_back(memory);
    }

    /// Drops every child still running, outside the slab's borrow (a child's drop may touch
    /// the group: drop a handle, spawn).
    fn cancel_all(&self) {
        let cancelled: Vec<(u32, Child<'env>)> = {
            let mut slots = self.slots.borrow_mut();
            slots
                .entries
                .iter_mut()
                .enumerate()
                .filter_map(|(slot, entry)| entry.take_child().map(|child| (slot as u32, child)))
                .collect()
        };
        for (slot, child) in cancelled {
            let how = if self.drop_child(child) {
                TaskState::Failed
            } else {
                TaskState::Cancelled
            };
            self.end(slot, how, None);
        }
    }

    /// Cancels one child: its future is dropped at once. `false` if it had ended.
    fn cancel_child(&self, slot: u32, generation: u32) -> bool {
        let child = {
            let mut slots = self.slots.borrow_mut();
            let entry = &mut slots.entries[slot as usize];
            if entry.generation != generation || entry.state != TaskState::Pending {
                return false;
            }
            entry.take_child()
        };
        match child {
            Some(child) => {
                let how = if self.drop_child(child) {
                    TaskState::Failed
                } else {
                    TaskState::Cancelled
                };
                self.end(slot, how, None);
                true
            }
            // It cancels itself while it runs: dropped when its poll returns.
            None => false,
        }
    }
}

/// One child of a polled group (`asyncio.Task`): ask whether it is done, cancel it (its
/// future is dropped at once), take its result, or await it (`task.await`, or
/// `(&mut task).await` to keep the handle). Neither dropping the handle nor dropping a wait for
/// it cancels the child: cancel it with [`cancel`](Self::cancel). Not `Send`: it belongs to
/// the group's task.
///
/// A child may borrow from the caller, but its *value* must be `'static`: it is kept, type
/// erased, until the handle takes it. Return owned data (`word.to_owned()`, an index), not a
/// borrow.
pub struct PolledTask<'env, T> {
    kind: Kind<'env, T>,
    _value: PhantomData<fn() -> T>,
}

enum Kind<'env, T> {
    /// Ended in its eager step: its value (`None` once taken, or if it failed), its id if it
    /// asked for one.
    Ended {
        value: Option<T>,
        failed: bool,
        id: Cell<Option<TaskId>>,
    },
    /// In the group's slab.
    Slot {
        group: Rc<Inner<'env>>,
        slot: u32,
        generation: u32,
    },
}

/// What a handle asks of its group (called directly: a handle holds the group itself, so that
/// dropping one inlines to a few instructions, where a `dyn` call cost a few percent a child).
trait Group {
    fn state(&self, slot: u32, generation: u32) -> TaskState;
    fn id(&self, slot: u32, generation: u32) -> Option<TaskId>;
    fn cancel(&self, slot: u32, generation: u32) -> bool;
    fn take(
        &self,
        slot: u32,
        generation: u32,
        waiter: Option<&Waker>,
    ) -> Poll<Result<Box<dyn Any>, TaskError>>;
    fn release(&self, slot: u32, generation: u32);
}

impl Group for Inner<'_> {
    fn state(&self, slot: u32, generation: u32) -> TaskState {
        let slots = self.slots.borrow();
        let entry = &slots.entries[slot as usize];
        if entry.generation == generation {
            entry.state
        } else {
            TaskState::Done
        }
    }

    fn id(&self, slot: u32, generation: u32) -> Option<TaskId> {
        let mut slots = self.slots.borrow_mut();
        if slots.entries[slot as usize].generation != generation {
            return None;
        }
        // Named at the first ask, and the same from then on, inside the child too.
        let id = slots.id(slot).unwrap_or_else(TaskId::next);
        slots.cold(slot).id = Some(id);
        Some(id)
    }

    fn cancel(&self, slot: u32, generation: u32) -> bool {
        self.cancel_child(slot, generation)
    }

    fn take(
        &self,
        slot: u32,
        generation: u32,
        waiter: Option<&Waker>,
    ) -> Poll<Result<Box<dyn Any>, TaskError>> {
        let mut slots = self.slots.borrow_mut();
        let entry = &slots.entries[slot as usize];
        if entry.generation != generation {
            return Poll::Ready(Err(TaskError::Taken));
        }
        match entry.state {
            TaskState::Pending => {
                if let Some(waiter) = waiter {
                    let earlier = slots.cold(slot).waiter.replace(waiter.clone());
                    drop(slots);
                    drop(earlier); // outside the borrow
                }
                Poll::Pending
            }
            TaskState::Done => {
                let value = if entry.cold {
                    slots.cold[slot as usize].value.take()
                } else {
                    None
                };
                Poll::Ready(value.ok_or(TaskError::Taken))
            }
            TaskState::Failed => Poll::Ready(Err(TaskError::Failed)),
            TaskState::Cancelled => Poll::Ready(Err(TaskError::Cancelled(None))),
        }
    }

    fn release(&self, slot: u32, generation: u32) {
        let mut slots = self.slots.borrow_mut();
        let entry = &mut slots.entries[slot as usize];
        if entry.generation != generation {
            return;
        }
        entry.handle = false;
        let held = if entry.state != TaskState::Pending {
            Self::free(&mut slots, slot)
        } else if entry.cold {
            // Still running: nobody can wait through a handle that is gone.
            let waiter = slots.cold[slot as usize].waiter.take();
            Some(Cold {
                value: None,
                waiter,
                id: None, // the child's id stays with it
            })
        } else {
            None
        };
        drop(slots);
        drop(held); // outside the borrow: its drops may touch the group
    }
}

impl<'env, T: 'static> PolledTask<'env, T> {
    fn completed(value: T, id: Option<TaskId>) -> Self {
        Self::from(Kind::Ended {
            value: Some(value),
            failed: false,
            id: Cell::new(id),
        })
    }

    fn failed(id: Option<TaskId>) -> Self {
        Self::from(Kind::Ended {
            value: None,
            failed: true,
            id: Cell::new(id),
        })
    }

    fn pending(group: &Rc<Inner<'env>>, (slot, generation): (u32, u32)) -> Self {
        Self::from(Kind::Slot {
            group: Rc::clone(group),
            slot,
            generation,
        })
    }

    fn from(kind: Kind<'env, T>) -> Self {
        Self {
            kind,
            _value: PhantomData,
        }
    }

    /// How the child ended, or [`TaskState::Pending`].
    pub fn state(&self) -> TaskState {
        match &self.kind {
            Kind::Ended { failed: true, .. } => TaskState::Failed,
            Kind::Ended { .. } => TaskState::Done,
            Kind::Slot {
                group,
                slot,
                generation,
            } => group.state(*slot, *generation),
        }
    }

    /// `task.done()`.
    pub fn done(&self) -> bool {
        self.state() != TaskState::Pending
    }

    /// `task.cancelled()`.
    pub fn cancelled(&self) -> bool {
        self.state() == TaskState::Cancelled
    }

    /// `task.cancel()`: drops the child's future at once (at the end of its step, if it
    /// cancels itself); `false` if it had ended.
    pub fn cancel(&self) -> bool {
        match &self.kind {
            Kind::Ended { .. } => false,
            Kind::Slot {
                group,
                slot,
                generation,
            } => group.cancel(*slot, *generation),
        }
    }

    /// The child's `Task-N` id, as [`current_task()`](crate::current_task) returns it inside it.
    pub fn id(&self) -> TaskId {
        match &self.kind {
            Kind::Ended { id, .. } => *id.get().get_or_insert_with(|| {
                let new = TaskId::next();
                id.set(Some(new));
                new
            }),
            Kind::Slot {
                group,
                slot,
                generation,
            } => group.id(*slot, *generation).unwrap_or_else(TaskId::next),
        }
    }

    /// `task.get_name()`: `Task-N`.
    pub fn name(&self) -> Cow<'static, str> {
        Cow::Owned(self.id().to_string())
    }

    /// The child's value, once it has completed (`task.result()`).
    pub fn result(mut self) -> Option<T> {
        match self.poll_value(None) {
            Poll::Ready(Ok(value)) => Some(value),
            _ => None,
        }
    }

    fn poll_value(&mut self, waiter: Option<&Waker>) -> Poll<Result<T, TaskError>> {
        Poll::Ready(match &mut self.kind {
            Kind::Ended { failed: true, .. } => Err(TaskError::Failed),
            Kind::Ended { value, .. } => value.take().ok_or(TaskError::Taken),
            Kind::Slot {
                group,
                slot,
                generation,
            } => std::task::ready!(group.take(*slot, *generation, waiter)).map(|value| {
                *value
                    .downcast::<T>()
                    .unwrap_or_else(|_| unreachable!("a child's value has its handle's type"))
            }),
        })
    }
}

impl<T> Drop for PolledTask<'_, T> {
    fn drop(&mut self) {
        if let Kind::Slot {
            group,
            slot,
            generation,
        } = &self.kind
        {
            group.release(*slot, *generation);
        }
    }
}

impl<T> fmt::Debug for PolledTask<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolledTask").finish_non_exhaustive()
    }
}

/// `task.await`: the child's value once it has ended, or why there is none.
impl<'env, T: 'static> IntoFuture for PolledTask<'env, T> {
    type Output = Result<T, TaskError>;
    type IntoFuture = PolledAwait<'env, T>;

    fn into_future(self) -> PolledAwait<'env, T> {
        PolledAwait(self)
    }
}

/// `(&mut task).await`: waits for the child without taking the handle.
impl<'a, 'env, T: 'static> IntoFuture for &'a mut PolledTask<'env, T> {
    type Output = Result<T, TaskError>;
    type IntoFuture = PolledWait<'a, 'env, T>;

    fn into_future(self) -> PolledWait<'a, 'env, T> {
        PolledWait(self)
    }
}

/// The future of `(&mut task).await` on a [`PolledTask`].
#[must_use = "a future does nothing unless awaited"]
#[derive(Debug)]
pub struct PolledWait<'a, 'env, T>(&'a mut PolledTask<'env, T>);

impl<T: 'static> Future for PolledWait<'_, '_, T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.poll_value(Some(cx.waker()))
    }
}

/// The future of awaiting a [`PolledTask`].
#[must_use = "a future does nothing unless awaited"]
#[derive(Debug)]
pub struct PolledAwait<'env, T>(PolledTask<'env, T>);

impl<T> Unpin for PolledAwait<'_, T> {}

impl<T: 'static> Future for PolledAwait<'_, T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.poll_value(Some(cx.waker()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scope's polls walk the slab, and at 10^5 children a slab's first touch of fresh
    /// memory is a good part of a child's time: an entry of three words, its id, value and
    /// waiter apart in the slot's cold part.
    #[test]
    fn a_slab_entry_stays_at_three_words() {
        assert_eq!(size_of::<Entry<'static>>(), 3 * size_of::<usize>());
    }
}
