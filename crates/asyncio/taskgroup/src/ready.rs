//! The polled group's ready queue: children's wakers, on any thread, mark their slot, and the
//! scope is woken once for all the marks made before its next poll.
//!
//! The protocol, which `loom` checks (`RUSTFLAGS="--cfg taskgroup_loom" cargo test -p taskgroup --lib
//! --release ready`):
//! - a waker marks its slot at most once until the scope polls that child (`queued`), pushes
//!   the slot, and wakes the scope only if no other mark has since the scope's poll began;
//! - the scope, at the start of each poll, takes the right to be woken again, *then* takes
//!   the marks, and clears a child's `queued` just before it polls that child.
//!
//! So no wake-up is lost: a mark that the scope's poll does not take was made after the poll
//! began, and woke the scope.
//!
//! A mark made on the scope's own thread (tokio's deferred wake-ups after a poll, a child
//! waking a sibling) goes to a list only that thread touches, without the lock: two locked
//! instructions fewer a wake-up, about a tenth of a child's cost in the polled group.

#[cfg(taskgroup_loom)]
use loom::sync::Mutex;
#[cfg(taskgroup_loom)]
use loom::sync::atomic::{AtomicBool, Ordering};
#[cfg(taskgroup_loom)]
use loom::thread::ThreadId;
#[cfg(not(taskgroup_loom))]
use std::sync::Mutex;
#[cfg(not(taskgroup_loom))]
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(not(taskgroup_loom))]
use std::thread::ThreadId;

use std::cell::RefCell;
use std::collections::VecDeque;

/// This thread's id, read from a thread-local (`std::thread::current()` would count a
/// reference up and down).
#[cfg(not(taskgroup_loom))]
fn this_thread() -> ThreadId {
    thread_local! {
        static ID: ThreadId = std::thread::current().id();
    }
    ID.with(|id| *id)
}

/// Under loom every model thread runs on one OS thread: its own id is loom's.
#[cfg(taskgroup_loom)]
fn this_thread() -> ThreadId {
    loom::thread::current().id()
}

/// The marks the wakers made, and whether the scope was woken since its poll began.
pub(crate) struct Ready {
    /// The scope's thread, where it was made: the polled group is not `Send`.
    owner: ThreadId,
    /// Marks made on the scope's thread.
    local: Local,
    /// Marks made on any other thread.
    slots: Mutex<Vec<u32>>,
    woken: AtomicBool,
}

impl Default for Ready {
    fn default() -> Self {
        Self {
            owner: this_thread(),
            local: Local(RefCell::new(Vec::new())),
            slots: Mutex::new(Vec::new()),
            woken: AtomicBool::new(false),
        }
    }
}

/// A list only the scope's thread reads or writes ([`Ready::local`] checks the thread).
struct Local(RefCell<Vec<u32>>);

// SAFETY: the cell is used only through `Ready::local`, on the one thread whose id is
// `Ready::owner` (ids are never reused), so it is never used from two threads; a use that
// re-enters it on that thread is a `RefCell` borrow error, a panic, not an alias. Moving or
// dropping it elsewhere needs it owned, after every shared use (the `Arc` that holds it
// orders those uses before its drop).
#[allow(unsafe_code)]
unsafe impl Sync for Local {}
#[allow(unsafe_code)]
// SAFETY: as above: a `Vec<u32>` may move between threads.
unsafe impl Send for Local {}

/// One child's mark: set by its waker, cleared by the scope before it polls the child.
#[derive(Default)]
pub(crate) struct Queued(AtomicBool);

impl Queued {
    /// The scope is about to poll the child: a wake from here on marks it again.
    pub(crate) fn clear(&self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Ready {
    /// A child's waker: marks `slot` ready. Returns whether the caller must wake the scope.
    pub(crate) fn mark(&self, slot: u32, queued: &Queued) -> bool {
        if queued.0.swap(true, Ordering::AcqRel) {
            return false; // marked already, and not yet polled
        }
        match self.local() {
            Some(local) => local.borrow_mut().push(slot),
            None => self
                .slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(slot),
        }
        // A load first: of a million marks between two polls of the scope, one wakes it, and
        // the rest see it woken without a locked write. The lock just taken orders this load
        // after the scope's `begin` for any mark its `take` did not see.
        !self.woken.load(Ordering::Acquire) && !self.woken.swap(true, Ordering::AcqRel)
    }

    /// The scope begins a poll: the next mark wakes it again. Call before [`take`](Self::take).
    pub(crate) fn begin(&self) {
        self.woken.store(false, Ordering::Release);
    }

    /// The marks made on this thread, if it is the scope's.
    fn local(&self) -> Option<&RefCell<Vec<u32>>> {
        (this_thread() == self.owner).then_some(&self.local.0)
    }

    /// Moves every mark into the scope's own queue. On the scope's thread.
    pub(crate) fn take(&self, into: &mut VecDeque<u32>) {
        if let Some(local) = self.local() {
            into.extend(local.borrow_mut().drain(..));
        }
        into.extend(
            self.slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .drain(..),
        );
    }

    /// Some mark waits for the scope. On the scope's thread.
    pub(crate) fn any(&self) -> bool {
        self.local().is_some_and(|local| !local.borrow().is_empty())
            || !self
                .slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .is_empty()
    }
}

#[cfg(all(test, taskgroup_loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// A child woken on another thread while the scope begins its next poll: the scope takes
    /// the mark in that poll, or the mark woke it (for the poll after).
    #[test]
    fn a_mark_racing_the_scopes_poll_is_taken_or_wakes_the_scope() {
        loom::model(|| {
            let ready = Arc::new(Ready::default());
            let queued = Arc::new(Queued::default());
            let waker = {
                let (ready, queued) = (Arc::clone(&ready), Arc::clone(&queued));
                thread::spawn(move || ready.mark(7, &queued))
            };
            ready.begin();
            let mut taken = VecDeque::new();
            ready.take(&mut taken);
            let woke = waker.join().unwrap();
            assert!(taken.contains(&7) || woke, "a lost wake-up");
        });
    }

    /// Two children woken on two threads: both marks reach the scope, each slot once, and
    /// at least one of them woke it if this poll missed any.
    #[test]
    fn two_marks_on_two_threads_each_reach_the_scope_once() {
        loom::model(|| {
            let ready = Arc::new(Ready::default());
            let wakers: Vec<_> = (0..2u32)
                .map(|slot| {
                    let ready = Arc::clone(&ready);
                    let queued = Arc::new(Queued::default());
                    thread::spawn(move || {
                        let first = ready.mark(slot, &queued);
                        let again = ready.mark(slot, &queued); // not yet polled: no new mark
                        assert!(!again);
                        first
                    })
                })
                .collect();
            ready.begin();
            let mut taken = VecDeque::new();
            ready.take(&mut taken);
            // Every waker joined (not `any`, which would stop at the first that woke).
            let woke: Vec<bool> = wakers.into_iter().map(|w| w.join().unwrap()).collect();
            let woke = woke.contains(&true);
            let missed = taken.len() < 2;
            assert!(!missed || woke, "a lost wake-up");
            ready.take(&mut taken); // the next poll
            let mut all: Vec<u32> = taken.into_iter().collect();
            all.sort_unstable();
            assert_eq!(all, [0, 1], "each slot once");
        });
    }

    /// The scope clears a child's mark before polling it: a wake during that poll marks the
    /// child again, so it is polled once more.
    #[test]
    fn a_wake_during_the_childs_poll_marks_it_again() {
        loom::model(|| {
            let ready = Arc::new(Ready::default());
            let queued = Arc::new(Queued::default());
            assert!(ready.mark(3, &queued), "the first mark wakes the scope");
            ready.begin();
            let mut taken = VecDeque::new();
            ready.take(&mut taken);
            queued.clear(); // about to poll slot 3
            let waker = {
                let (ready, queued) = (Arc::clone(&ready), Arc::clone(&queued));
                thread::spawn(move || ready.mark(3, &queued))
            };
            let woke = waker.join().unwrap();
            assert!(woke, "the scope began a poll since the last wake");
            ready.take(&mut taken);
            assert_eq!(taken.iter().filter(|&&s| s == 3).count(), 2);
        });
    }

    /// A mark on the scope's own thread (its list, no lock) and one on another thread (the
    /// lock) while the scope takes: each reaches the scope once, and one taken later woke it.
    #[test]
    fn marks_on_the_scopes_thread_and_another_each_reach_the_scope_once() {
        loom::model(|| {
            let ready = Arc::new(Ready::default()); // made here: this is the scope's thread
            let (here, there) = (Queued::default(), Arc::new(Queued::default()));
            ready.begin();
            let remote = {
                let (ready, there) = (Arc::clone(&ready), Arc::clone(&there));
                thread::spawn(move || ready.mark(2, &there))
            };
            let woke_here = ready.mark(1, &here);
            let mut taken = VecDeque::new();
            ready.take(&mut taken);
            let woke_there = remote.join().unwrap();
            assert!(
                taken.contains(&1),
                "a mark on the scope's thread is taken at once"
            );
            assert!(
                taken.contains(&2) || woke_there || woke_here,
                "a lost wake-up"
            );
            ready.take(&mut taken);
            let mut all: Vec<u32> = taken.into_iter().collect();
            all.sort_unstable();
            assert_eq!(all, [1, 2], "each mark once");
        });
    }
}
