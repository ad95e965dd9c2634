//! The scheduled group's state word, and the reference to the group that its counts hold: the
//! group's unsafe code, all of it here.
//!
//! Each group has one `AtomicU64` that holds three flags and two counts:
//! - `SHUTTING_DOWN`: a task failed, or the group was cancelled or abandoned;
//! - `FINISHED`: the scope has returned, which it does only once no task is live;
//! - `ABANDONED`: the scope's future was dropped before it returned;
//! - the live count (scheduled tasks, nested groups, and eager steps of [`Live::join`]ed
//!   spawns) and the count of scheduled tasks' handles ([`GroupRef`]).
//!
//! The contract, which the unsafe code relies on (a count reads its group through a raw
//! pointer, and the last count to go lets the group's `Arc` go through it), and which `loom`
//! checks (`loom_tests` below: `RUSTFLAGS="--cfg taskgroup_loom" cargo test -p taskgroup
//! --lib --release state::loom_tests`, where the word is one of loom's atomics):
//! - The counts hold one reference to the group between them, not one each: whoever brings
//!   them up from zero takes it (from a reference of its own, so the group is alive), and
//!   whoever brings them back to zero lets it go, after its last look at the group. A [`Live`]
//!   or a [`GroupRef`] is one unit of the counts, made only by adding that unit and ended only
//!   by taking it back: while one exists the counts are above zero, and the group is alive.
//! - The last live task looks at the group after its count has gone (it wakes the scope, or
//!   tidies up an abandoned group): if handles are counted, it stands as one more handle for
//!   that look, so that the last handle, dropped meanwhile, cannot let the group go under it.
//! - A join adds its units first and reads the flags in the value the add returns: a join
//!   that a shutdown or the scope's finish came before is refused (a task's join after its
//!   eager step, only by the finish), and dropping what it made takes its units back.
//! - `FINISHED` is set by a compare-exchange from a word with no live task: a join that comes
//!   after it sees it, and one that comes before it makes the exchange fail.
//! - `ABANDONED` and the last task's end are both read-modify-writes of the word, so exactly
//!   one of them sees the other: the scope sees no task live, or the last task sees the flag.
//!   The abandoned group is tidied up once.
//! - Every change of the word is `AcqRel`, and every load that decides something `Acquire`:
//!   what a task did before it ended is seen by the scope that sees it ended, and by whoever
//!   lets the group go.

#![allow(unsafe_code)]

use std::ops::Deref;

#[cfg(taskgroup_loom)]
use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(taskgroup_loom))]
use std::sync::atomic::{AtomicU64, Ordering};

use crate::outcome::Refused;

/// The group is shutting down: a task failed, or the group was cancelled or abandoned.
const SHUTTING_DOWN: u64 = 0b001;
/// The scope has returned: nothing more can join the group.
const FINISHED: u64 = 0b010;
/// The scope's future was dropped before it returned: the last task to end tidies up.
const ABANDONED: u64 = 0b100;
/// The live-task count sits above the flags, in 32 bits.
const ONE_TASK: u64 = 1 << 3;
/// The count of scheduled tasks' handles sits above the live count, in the 29 bits left.
const ONE_HANDLE: u64 = 1 << 35;
/// The bits of both counts: the live tasks and the handles hold one reference to their
/// group between them while either count is above zero (see [`Live`]).
const COUNTS: u64 = !(ONE_TASK - 1);

/// Far below what memory can hold (a task takes a tokio task of 128 bytes, a handle 48 bytes
/// of its own), and far enough below each count's last value that the threads that may add to
/// it at once cannot carry it over.
const LIVE_LIMIT: u64 = (1 << 31) - (1 << 20);
const HANDLE_LIMIT: u64 = (1 << 28) - (1 << 20);

fn live_count(state: u64) -> u64 {
    (state % ONE_HANDLE) / ONE_TASK
}

fn handle_count(state: u64) -> u64 {
    state / ONE_HANDLE
}

fn refusal(state: u64) -> Option<Refused> {
    if state & FINISHED != 0 {
        Some(Refused::Finished)
    } else if state & SHUTTING_DOWN != 0 {
        Some(Refused::ShuttingDown)
    } else {
        None
    }
}

/// A group's flags and counts, in one word.
pub(crate) struct State(AtomicU64);

/// The state word as one load saw it, for a snapshot.
pub(crate) struct Seen {
    pub(crate) live: u64,
    pub(crate) shutting_down: bool,
    pub(crate) finished: bool,
}

impl State {
    pub(crate) fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    /// The scope has returned: every task of the group has ended.
    pub(crate) fn has_finished(&self) -> bool {
        self.0.load(Ordering::Acquire) & FINISHED != 0
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.0.load(Ordering::Acquire) & SHUTTING_DOWN != 0
    }

    /// A spawn would be accepted now: the check before the work of a spawn, which the join
    /// then makes again.
    #[inline(always)]
    pub(crate) fn accepting(&self) -> Result<(), Refused> {
        match refusal(self.0.load(Ordering::Acquire)) {
            None => Ok(()),
            Some(refused) => {
                // Out of the way of the path every accepted spawn takes.
                std::hint::cold_path();
                Err(refused)
            }
        }
    }

    /// Marks the group shutting down. Returns whether this call did (the first one).
    pub(crate) fn shut_down(&self) -> bool {
        self.0.fetch_or(SHUTTING_DOWN, Ordering::AcqRel) & SHUTTING_DOWN == 0
    }

    /// Closes the group to new tasks if no task is live. Returns whether it did: otherwise a
    /// task was live at the last look, and its end will be seen.
    pub(crate) fn finish(&self) -> bool {
        loop {
            let state = self.0.load(Ordering::Acquire);
            if live_count(state) != 0 {
                return false;
            }
            if self
                .0
                .compare_exchange(state, state | FINISHED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return true;
            }
        }
    }

    /// Marks the scope's future dropped. Returns whether a task was live then: its last task
    /// to end tidies up the group ([`Group::last_ended`]); if none was, the caller does.
    pub(crate) fn abandon(&self) -> bool {
        live_count(self.0.fetch_or(ABANDONED, Ordering::AcqRel)) != 0
    }

    /// The live count.
    pub(crate) fn live(&self) -> u64 {
        live_count(self.0.load(Ordering::Acquire))
    }

    pub(crate) fn seen(&self) -> Seen {
        let state = self.0.load(Ordering::Acquire);
        Seen {
            live: live_count(state),
            shutting_down: state & SHUTTING_DOWN != 0,
            finished: state & FINISHED != 0,
        }
    }
}

/// A group whose state word this protocol keeps: what the protocol needs of it.
///
/// Implemented by the scheduled group and by the loom model only: the unsafe code trusts
/// `state` to give the group's one word every time.
pub(crate) trait Group: Sync + Sized {
    /// The owning pointer to the group (its `Arc`), whose reference the counts hold.
    type Owner: Owner<Self>;

    /// The group's state word.
    fn state(&self) -> &State;

    /// The last live task has ended (`abandoned`: after the scope's future was dropped): its
    /// last look at the group, which the protocol keeps alive until this returns. Returns a
    /// count to drop next, for an abandoned group (its count in its parent): [`Live`]'s drop
    /// drops it in a loop, where a drop here would recurse once per level.
    fn last_ended(&self, abandoned: bool) -> Option<Live<Self>>;

    /// A [`Live`] is dropped: `live.end()`, and nothing else.
    ///
    /// The drops of the counts go through the group so that a group that is not generic has
    /// one copy of each, in its own crate, as when they were its own `Drop`s. A generic
    /// `Drop` is copied into every crate whose types hold a count (ex_6_1's tasks), and LLVM
    /// then kept less of tokio's task code in line there: ex_6_1's `spawn` variant took 1861
    /// instructions a task rather than 1822.
    fn drop_live(live: Ending<'_, Live<Self>>);

    /// A [`GroupRef`] is dropped: `handle.end()`, and nothing else (see
    /// [`drop_live`](Self::drop_live)).
    fn drop_handle(handle: Ending<'_, GroupRef<Self>>);
}

/// A count being dropped, which [`Group::drop_live`] or [`Group::drop_handle`] ends. Only
/// the count's `Drop` makes one, so each count ends once.
pub(crate) struct Ending<'a, T>(&'a T);

/// An owning, reference-counted pointer to a group whose reference can be held as a raw
/// pointer: `Arc`.
///
/// # Safety
/// `into_raw` returns the address that `Deref` gives, and keeps the reference (the group
/// alive) until `from_raw` at that address takes it back.
pub(crate) unsafe trait Owner<G>: Clone + Deref<Target = G> {
    fn into_raw(this: Self) -> *const G;

    /// # Safety
    /// `ptr` came from `into_raw`, and each `into_raw` is taken back once.
    unsafe fn from_raw(ptr: *const G) -> Self;
}

// SAFETY: `Arc::into_raw` keeps the reference and returns the address `Arc` derefs to;
// `Arc::from_raw` takes it back.
unsafe impl<G> Owner<G> for std::sync::Arc<G> {
    #[inline(always)]
    fn into_raw(this: Self) -> *const G {
        std::sync::Arc::into_raw(this)
    }

    #[inline(always)]
    unsafe fn from_raw(ptr: *const G) -> Self {
        // SAFETY: `ptr` came from `Arc::into_raw` and is taken back once (the caller's).
        unsafe { std::sync::Arc::from_raw(ptr) }
    }
}

/// A group that one of its counts keeps alive: a `Live` or a `GroupRef`. The address the
/// group's owners deref to, so that it may become the counts' `Owner` again.
struct Counted<G>(*const G);

impl<G> Clone for Counted<G> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<G> Copy for Counted<G> {}

// SAFETY: a count only reads its group, which is `Sync`, and the reference it stands for is
// the group's, not the thread's.
unsafe impl<G: Sync> Send for Counted<G> {}
// SAFETY: as for `Send`: through a shared count, only `&G`, which is `Sync`.
unsafe impl<G: Sync> Sync for Counted<G> {}

impl<G> Counted<G> {
    #[inline(always)]
    fn of(owner: &impl Deref<Target = G>) -> Self {
        Counted(std::ptr::from_ref::<G>(owner))
    }

    fn shared(&self) -> &G {
        // SAFETY: while this is counted, the counts' reference keeps the group alive.
        unsafe { &*self.0 }
    }
}

/// Counts one scheduled task (or nested group) as live in its group until dropped.
///
/// The live tasks and the handles of scheduled tasks hold one reference to their group between
/// them, not one each: whoever takes the group's counts up from zero takes it, and whoever
/// brings them back to zero lets it go, after its last look at the group. So a scheduled task
/// costs one shared counter when it is spawned (its count and its handle's together), one when
/// it ends and one when its handle is dropped, where an `Arc` each would cost two more.
pub(crate) struct Live<G: Group> {
    shared: Counted<G>,
}

impl<G: Group> Live<G> {
    /// Joins a nested group, or an eager step of a handle's spawn, which has no handle yet.
    pub(crate) fn join(shared: &G::Owner) -> Result<Self, Refused> {
        let before = count::<G>(shared, ONE_TASK);
        let live = Live {
            shared: Counted::of(shared),
        };
        match refusal(before) {
            None => Ok(live),
            Some(refused) => Err(refused), // dropping `live` takes the count back
        }
    }

    /// Joins a task, and counts the handle its spawn returns.
    #[inline(always)]
    pub(crate) fn join_task(shared: &G::Owner) -> Result<(Self, GroupRef<G>), Refused> {
        let (joined, before) = Self::with_handle(shared);
        match refusal(before) {
            None => Ok(joined),
            Some(refused) => Err(refused), // dropping both takes the counts back
        }
    }

    /// Joins a task that has already taken its eager step: it is the group's task from that
    /// step on, as in asyncio, so only a finished group refuses it; a group that is shutting
    /// down cancels it before its next step.
    pub(crate) fn join_after_step(shared: &G::Owner) -> Result<(Self, GroupRef<G>), Refused> {
        let (joined, before) = Self::with_handle(shared);
        match before & FINISHED {
            0 => Ok(joined),
            _ => Err(Refused::Finished),
        }
    }

    #[inline(always)]
    fn with_handle(shared: &G::Owner) -> ((Self, GroupRef<G>), u64) {
        let before = count::<G>(shared, ONE_TASK + ONE_HANDLE);
        let counted = Counted::of(shared);
        let joined = (Live { shared: counted }, GroupRef { shared: counted });
        (joined, before)
    }

    pub(crate) fn shared(&self) -> &G {
        self.shared.shared()
    }
}

/// Adds `units` to the group's counts; returns the state before. The first count takes the
/// counts' reference to the group.
#[inline(always)]
fn count<G: Group>(shared: &G::Owner, units: u64) -> u64 {
    let before = shared.state().0.fetch_add(units, Ordering::AcqRel);
    if before & COUNTS == 0 {
        // The caller holds a reference of its own until this returns, so the group is alive
        // even if the counts drop back to zero on another thread (an earlier task's end)
        // before this line.
        let _ = G::Owner::into_raw(G::Owner::clone(shared));
    }
    within_limits(before);
    before
}

/// Aborts if a count, as it was before an add, is about to run into the next field: as `Arc`
/// does at its limit.
#[inline(always)]
fn within_limits(before: u64) {
    if live_count(before) >= LIVE_LIMIT || handle_count(before) >= HANDLE_LIMIT {
        std::process::abort();
    }
}

/// Subtracts `units` from the group's counts, and lets the counts' reference go if they are now
/// zero. Nothing may look at the group after this.
///
/// # Safety
/// `shared` is a pointer that `count` added `units` for, not yet subtracted.
unsafe fn uncount<G: Group>(shared: *const G, units: u64) {
    // SAFETY: the units not yet subtracted keep the counts' reference.
    let before = unsafe { &*shared }
        .state()
        .0
        .fetch_sub(units, Ordering::AcqRel);
    if before & COUNTS == units {
        // SAFETY: the counts were brought to zero here, which passes their reference on.
        unsafe { release(shared) };
    }
}

/// Lets go of the counts' reference to the group.
///
/// # Safety
/// The caller brought the counts to zero. Each fall to zero follows the rise from zero that
/// took the reference it lets go (`count`, through `Owner::into_raw` at this pointer).
unsafe fn release<G: Group>(shared: *const G) {
    // SAFETY: the reference `count` took at this pointer, let go once: by the fall to zero
    // that follows its rise. The scope may have returned and dropped its own reference at
    // the live count's zero, so this may drop the group.
    drop(unsafe { G::Owner::from_raw(shared) });
}

impl<G: Group> Drop for Live<G> {
    fn drop(&mut self) {
        G::drop_live(Ending(self));
    }
}

impl<G: Group> Ending<'_, Live<G>> {
    /// The drop of the count.
    pub(crate) fn end(self) {
        // Ending an abandoned group ends its count in its parent, which may end the parent,
        // abandoned too: up a chain of nested groups in a loop, not a recursion per level.
        let mut next = self.0.end();
        while let Some(parent) = next {
            // `end` is the whole of its drop: it must not run again, even if `end` unwinds.
            next = std::mem::ManuallyDrop::new(parent).end();
        }
    }
}

impl<G: Group> Live<G> {
    /// What dropping this count does to its group. Returns the count the group held in its
    /// parent if this ended the group after its scope was dropped: the caller drops it next.
    /// Out of line, so that the drop around it goes in line into a task's drop (with this
    /// in line in the drop, a scheduled task took 2 instructions more).
    #[inline(never)]
    fn end(&self) -> Option<Live<G>> {
        let shared = self.shared();
        let mut state = shared.state().0.load(Ordering::Relaxed);
        loop {
            // The last live task, while handles are still counted, becomes one more handle
            // for the length of its last look at the group below: otherwise the last handle,
            // dropped meanwhile, could let the group go under it.
            let new = if live_count(state) == 1 && handle_count(state) > 0 {
                state - ONE_TASK + ONE_HANDLE
            } else {
                state - ONE_TASK
            };
            match (shared.state().0).compare_exchange_weak(
                state,
                new,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        if live_count(state) != 1 {
            return None; // others are live: they keep the counts above zero
        }
        // Let go after the last look, even if it unwinds (a waker that panics): otherwise the
        // group, and a parent counting it, would never be let go.
        let _let_go = LetGo {
            group: self.shared,
            as_handle: handle_count(state) > 0,
        };
        shared.last_ended(state & ABANDONED != 0)
    }
}

/// What the last live task holds after its last look: a handle's unit, or the counts'
/// reference if it brought them to zero.
struct LetGo<G: Group> {
    group: Counted<G>,
    as_handle: bool,
}

impl<G: Group> Drop for LetGo<G> {
    fn drop(&mut self) {
        // SAFETY: the task stands as a handle now, or it brought the counts to zero.
        unsafe {
            if self.as_handle {
                uncount(self.group.0, ONE_HANDLE);
            } else {
                release(self.group.0);
            }
        }
    }
}

/// A scheduled task's handle's reference to its group, counted with the live tasks (see
/// [`Live`]).
pub(crate) struct GroupRef<G: Group> {
    shared: Counted<G>,
}

impl<G: Group> GroupRef<G> {
    /// The handle of a task that `live` already counts: the counts are above zero, so the
    /// counts' reference is taken already.
    pub(crate) fn for_live(live: &Live<G>) -> Self {
        let before = live
            .shared()
            .state()
            .0
            .fetch_add(ONE_HANDLE, Ordering::AcqRel);
        within_limits(before);
        GroupRef {
            shared: live.shared,
        }
    }

    pub(crate) fn shared(&self) -> &G {
        self.shared.shared()
    }
}

impl<G: Group> Drop for GroupRef<G> {
    fn drop(&mut self) {
        G::drop_handle(Ending(self));
    }
}

impl<G: Group> Ending<'_, GroupRef<G>> {
    /// The drop of the handle's count.
    pub(crate) fn end(self) {
        // SAFETY: `with_handle` or `for_live` counted this handle at this pointer, and only
        // its drop makes an `Ending` of it.
        unsafe {
            uncount(self.0.shared.0, ONE_HANDLE);
        }
    }
}

#[cfg(all(test, taskgroup_loom))]
mod loom_tests {
    //! The protocol on two and three threads, under every interleaving loom allows.
    //!
    //! The group is a model ([`Model`]): the state word; fields that every holder of a count
    //! reads and that the group's release drops (a loom cell: loom checks that the drop comes
    //! after every read); and an `Arc` of its own ([`ModelArc`]), whose count is one of loom's
    //! atomics with `Arc`'s orderings, and whose memory outlives the model's last reference:
    //! a use after the release fails an assertion rather than reading freed memory unseen.
    //! (loom's own `Arc` has `into_raw` and `from_raw`, and finds a leak or a double release,
    //! but frees the memory at the last reference, so a look after that would go unseen.)

    use super::*;
    use loom::cell::UnsafeCell;
    use loom::sync::atomic::{AtomicBool, AtomicUsize, fence};
    use loom::thread;
    use std::mem::ManuallyDrop;
    use std::sync::Arc;
    // What happened, in the order loom ran it: loom runs one thread at a time, so these
    // atomics (std's, which loom does not see) record that order and add no interleavings.
    use std::sync::atomic::{AtomicBool as Fact, AtomicUsize as Tally};

    const NOW: Ordering = Ordering::SeqCst;

    type Count = Live<Model>;

    struct Model {
        state: State,
        /// Tasks that ended without completing, counted `Relaxed` as the group counts them:
        /// the scope reads the count once it has closed the group.
        unfinished: AtomicU64,
        fields: Fields,
        /// The references of the model's `Arc`.
        refs: AtomicUsize,
        /// The last reference has gone: the group is dropped.
        released: Fact,
        /// Last looks of the last task at a group whose scope still runs (it wakes the scope).
        woke: Tally,
        /// Tidy-ups of an abandoned group: by its last task, or by the scope that abandons it.
        tidied: Tally,
    }

    /// The group's other fields: every holder of a count reads them, its release drops them.
    struct Fields(UnsafeCell<u64>);

    // SAFETY: the cell is read (`with`) by holders of a count and written (`with_mut`) once,
    // by the release: loom checks that the write comes after every read, as `Sync` needs.
    unsafe impl Sync for Fields {}

    impl Model {
        /// A holder of a count reads the group.
        fn look(&self) {
            assert!(
                !self.released.load(NOW),
                "the group was read after its release"
            );
            self.fields.0.with(|_| ());
        }

        /// After every thread has joined: the group was let go once, its counts at zero.
        fn let_go_once(&self) {
            assert!(self.released.load(NOW), "the group was never let go");
            assert_eq!(self.refs.load(Ordering::Acquire), 0);
        }

        fn counts(&self) -> u64 {
            self.state.0.load(Ordering::Acquire) & COUNTS
        }
    }

    impl Group for Model {
        type Owner = ModelArc;

        fn state(&self) -> &State {
            assert!(
                !self.released.load(NOW),
                "the group was used after its release"
            );
            &self.state
        }

        fn last_ended(&self, abandoned: bool) -> Option<Live<Self>> {
            self.look();
            let tally = if abandoned { &self.tidied } else { &self.woke };
            tally.fetch_add(1, NOW);
            None
        }

        fn drop_live(live: Ending<'_, Live<Self>>) {
            live.end();
        }

        fn drop_handle(handle: Ending<'_, GroupRef<Self>>) {
            handle.end();
        }
    }

    /// The model's `Arc`: a reference count in loom's atomics, with `Arc`'s orderings.
    struct ModelArc(Arc<Model>);

    impl ModelArc {
        fn to(model: &Arc<Model>) -> Self {
            model.refs.fetch_add(1, Ordering::Relaxed);
            ModelArc(Arc::clone(model))
        }
    }

    impl Clone for ModelArc {
        fn clone(&self) -> Self {
            assert!(!self.0.released.load(NOW), "a released group was cloned");
            Self::to(&self.0)
        }
    }

    impl Deref for ModelArc {
        type Target = Model;

        fn deref(&self) -> &Model {
            &self.0
        }
    }

    impl Drop for ModelArc {
        fn drop(&mut self) {
            let before = self.0.refs.fetch_sub(1, Ordering::Release);
            assert_ne!(before, 0, "a reference was let go twice");
            if before == 1 {
                fence(Ordering::Acquire);
                assert!(
                    !self.0.released.swap(true, NOW),
                    "the group was released twice"
                );
                // The group's drop: after every holder's last read.
                self.0.fields.0.with_mut(|_| ());
            }
        }
    }

    // SAFETY: `into_raw` keeps the model's reference (and the std `Arc`'s, which keeps the
    // memory) and gives the address `Deref` gives; `from_raw` takes both back.
    unsafe impl Owner<Model> for ModelArc {
        fn into_raw(this: Self) -> *const Model {
            Arc::as_ptr(&ManuallyDrop::new(this).0)
        }

        unsafe fn from_raw(ptr: *const Model) -> Self {
            // SAFETY: `ptr` came from `into_raw`, which kept the std `Arc`'s reference.
            ModelArc(unsafe { Arc::from_raw(ptr) })
        }
    }

    /// A new group, and its scope's reference to it.
    fn group() -> (Arc<Model>, ModelArc) {
        let model = Arc::new(Model {
            state: State::new(),
            unfinished: AtomicU64::new(0),
            fields: Fields(UnsafeCell::new(0)),
            refs: AtomicUsize::new(0),
            released: Fact::new(false),
            woke: Tally::new(0),
            tidied: Tally::new(0),
        });
        let scope = ModelArc::to(&model);
        (model, scope)
    }

    /// A task ends on one thread while its handle is dropped on another and the scope waits
    /// to finish: the group is let go once, after the last of them has read it, and the
    /// scope sees what the task did before it ended.
    #[test]
    fn the_last_task_its_handle_and_the_scope_let_the_group_go_once() {
        loom::model(|| {
            let (model, scope) = group();
            let (live, handle) = Count::join_task(&scope).expect("a new group accepts a task");
            let task = thread::spawn(move || {
                live.shared().look();
                live.shared().unfinished.fetch_add(1, Ordering::Relaxed); // it failed
                drop(live);
            });
            let holder = thread::spawn(move || {
                handle.shared().look();
                drop(handle);
            });
            // `wait_ended`: until no task is live, then closed to new ones.
            while !scope.state().finish() {
                thread::yield_now();
            }
            assert_eq!(
                scope.unfinished.load(Ordering::Relaxed),
                1,
                "the scope finished without seeing what its task did"
            );
            drop(scope);
            task.join().unwrap();
            holder.join().unwrap();
            assert_eq!(
                model.woke.load(NOW),
                1,
                "the last task wakes the scope once"
            );
            model.let_go_once();
        });
    }

    /// `tg.cancel()` on one thread while a task joins on another: a join that comes after the
    /// shutdown is refused, and counts nothing once its units are taken back.
    #[test]
    fn a_join_after_the_shutdown_is_refused_and_counts_nothing() {
        loom::model(|| {
            let (model, scope) = group();
            let shut = Arc::new(AtomicBool::new(false));
            let canceller = {
                let (group, shut) = (scope.clone(), Arc::clone(&shut));
                thread::spawn(move || {
                    let first = group.state().shut_down();
                    shut.store(true, Ordering::Release);
                    first
                })
            };
            let after_shutdown = shut.load(Ordering::Acquire);
            match Count::join_task(&scope) {
                Ok(joined) => {
                    assert!(!after_shutdown, "a join after the shutdown was accepted");
                    drop(joined);
                }
                Err(refused) => {
                    assert_eq!(refused, Refused::ShuttingDown);
                    assert_eq!(scope.counts(), 0, "a refused join left a count");
                }
            }
            assert!(canceller.join().unwrap(), "the one shutdown is the first");
            assert!(scope.state().finish());
            drop(scope);
            model.let_go_once();
        });
    }

    /// A handle's spawn from another thread (its eager step's count, then the handle's) while
    /// the scope finishes: the scope never finishes while the task is counted, and a join
    /// after the finish is refused and counts nothing.
    #[test]
    fn a_join_racing_the_scopes_finish_is_counted_before_it_or_refused() {
        loom::model(|| {
            let (model, scope) = group();
            let spawner = {
                let group = scope.clone();
                thread::spawn(move || match Count::join(&group) {
                    Ok(live) => {
                        let handle = GroupRef::for_live(&live);
                        assert!(
                            !group.state().has_finished(),
                            "the scope finished while a task was live"
                        );
                        drop(live);
                        drop(handle);
                    }
                    Err(refused) => assert_eq!(refused, Refused::Finished),
                })
            };
            while !scope.state().finish() {
                thread::yield_now();
            }
            spawner.join().unwrap();
            assert_eq!(scope.counts(), 0, "a count was left");
            drop(scope);
            model.let_go_once();
        });
    }

    /// The scope's future is dropped (it shuts the group down and marks it abandoned) while
    /// its last task ends and the task's handle is dropped: the group is tidied up once, by
    /// the scope if no task was live, or else by the last task; and let go once.
    #[test]
    fn an_abandoned_group_is_tidied_up_once_by_the_scope_or_its_last_task() {
        loom::model(|| {
            let (model, scope) = group();
            let (live, handle) = Count::join_task(&scope).expect("a new group accepts a task");
            let task = thread::spawn(move || drop(live));
            let holder = thread::spawn(move || drop(handle));
            // `Abandon`'s drop.
            scope.state().shut_down();
            if !scope.state().abandon() {
                scope.tidied.fetch_add(1, NOW); // no task was live: the scope tidies up
            }
            drop(scope);
            task.join().unwrap();
            holder.join().unwrap();
            assert_eq!(model.tidied.load(NOW), 1, "tidied up other than once");
            model.let_go_once();
        });
    }
}
