//! The polled group's wakers: one allocation for [`CHUNK`] children's, not one each.
//!
//! A child of the polled group needs a [`Waker`] that marks its slot ready and wakes the
//! scope. Made from an `Arc` each, a child that suspends costs an allocation and a free for
//! its waker beside the one for its future: at 10^5 children, a fifth of the group's time.
//! Here [`CHUNK`] consecutive slots share one reference-counted block, and a waker is a
//! pointer to its slot's mark inside the block: cloning it counts the block once more,
//! dropping it once less, and the block is freed with its last waker (a timer may hold one
//! after the group is gone).
//!
//! Everything unsafe about that is in this module: a raw waker's four functions, and the one
//! computation that finds the block from a mark ([`Mark::block`]). The contract:
//! - a waker's data pointer points at a `Mark` inside a live `Block`, made from the block's
//!   own pointer (so it may reach the whole block), and holds one count of the block, except
//!   the scope's own [`Wakers::poll_with`] waker, which borrows the block while the scope
//!   holds it;
//! - a block is never moved or written but through atomics (`Mark`s) once shared.
//!
//! The marks themselves follow [`Ready`]'s protocol, which `loom` checks.

#![allow(unsafe_code)]

use std::cell::RefCell;
use std::mem::{ManuallyDrop, offset_of};
use std::sync::Arc;
use std::task::{RawWaker, RawWakerVTable, Waker};

use futures::task::AtomicWaker;

use crate::ready::{Queued, Ready};

/// Slots a block holds wakers for.
pub(crate) const CHUNK: usize = 64;

/// One slot's part of a block: its ready mark, and where it sits in the block.
struct Mark {
    queued: Queued,
    index: u8,
}

/// The wakers of [`CHUNK`] consecutive slots, from `base`.
#[repr(C)]
struct Block {
    ready: Arc<Ready>,
    scope: Arc<AtomicWaker>,
    base: u32,
    marks: [Mark; CHUNK],
}

const _: () = assert!(CHUNK <= u8::MAX as usize + 1, "a mark's index is a u8");

impl Block {
    /// Marks slot `base + index` ready, and wakes the scope if it must (see [`Ready::mark`]).
    fn wake(&self, index: usize) {
        let slot = self.base + index as u32;
        if self.ready.mark(slot, &self.marks[index].queued) {
            self.scope.wake();
        }
    }
}

impl Mark {
    /// The block this mark is in, and its index there.
    ///
    /// # Safety
    /// `mark` is a waker's data pointer: it points at a `Mark` of a live `Block`, with the
    /// block's provenance.
    unsafe fn block(mark: *const ()) -> (*const Block, usize) {
        let mark = mark.cast::<Mark>();
        // SAFETY: `mark` points at a live `Mark` (the caller's contract).
        let index = usize::from(unsafe { (*mark).index });
        // SAFETY: the mark is `marks[index]` of its block, so stepping back over the marks
        // before it and the fields before `marks` stays inside the block, which the pointer
        // may reach (it was made from the block's own pointer).
        let block = unsafe {
            mark.sub(index)
                .cast::<u8>()
                .sub(offset_of!(Block, marks))
                .cast::<Block>()
        };
        (block, index)
    }
}

/// A data pointer for slot `index` of `block`: its mark, made from the block's own pointer.
fn mark_of(block: &Arc<Block>, index: usize) -> *const () {
    let base = Arc::as_ptr(block).cast::<u8>();
    // SAFETY: `marks[index]` is inside the block (`index < CHUNK`), and `Block` is `repr(C)`,
    // so the mark is at this offset.
    unsafe { base.add(offset_of!(Block, marks) + index * size_of::<Mark>()) }.cast()
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// Cloning a waker counts its block once more.
unsafe fn clone(mark: *const ()) -> RawWaker {
    // SAFETY: `mark` is a waker's data pointer (the module's contract).
    let (block, _) = unsafe { Mark::block(mark) };
    // SAFETY: `block` came from an `Arc<Block>` that is live: the waker being cloned holds a
    // count of it, or borrows it from the scope that holds one.
    unsafe { Arc::increment_strong_count(block) };
    RawWaker::new(mark, &VTABLE)
}

unsafe fn wake(mark: *const ()) {
    // SAFETY: as for `wake_by_ref`, then `drop_waker`, each with the waker's own pointer.
    unsafe {
        wake_by_ref(mark);
        drop_waker(mark);
    }
}

unsafe fn wake_by_ref(mark: *const ()) {
    // SAFETY: `mark` is a waker's data pointer, and the waker keeps its block alive.
    let (block, index) = unsafe { Mark::block(mark) };
    // SAFETY: the block is live for as long as this waker (see above).
    unsafe { &*block }.wake(index);
}

/// Dropping a waker counts its block once less; the last one frees it.
unsafe fn drop_waker(mark: *const ()) {
    // SAFETY: `mark` is a waker's data pointer, and this waker holds one count of the block.
    let (block, _) = unsafe { Mark::block(mark) };
    // SAFETY: gives back the count this waker held; nothing uses the pointer after.
    unsafe { Arc::decrement_strong_count(block) };
}

/// The wakers of a polled group's slots, a block per [`CHUNK`] slots, made as slots are.
/// Blocks are only ever added while this lives, so a block stays where it is for as long.
pub(crate) struct Wakers {
    ready: Arc<Ready>,
    scope: Arc<AtomicWaker>,
    blocks: RefCell<Vec<Arc<Block>>>,
}

impl Wakers {
    pub(crate) fn new(ready: Arc<Ready>, scope: Arc<AtomicWaker>) -> Self {
        Self {
            ready,
            scope,
            blocks: RefCell::new(Vec::new()),
        }
    }

    /// Slot `slot` is about to be used: its block exists from here on.
    pub(crate) fn reserve(&self, slot: u32) {
        let chunk = slot as usize / CHUNK;
        let mut blocks = self.blocks.borrow_mut();
        while blocks.len() <= chunk {
            let base = u32::try_from(blocks.len() * CHUNK)
                .unwrap_or_else(|_| unreachable!("a block's base is at most a u32 slot"));
            blocks.push(Arc::new(Block {
                ready: Arc::clone(&self.ready),
                scope: Arc::clone(&self.scope),
                base,
                marks: std::array::from_fn(|index| Mark {
                    queued: Queued::default(),
                    index: u8::try_from(index).unwrap_or_else(|_| unreachable!("CHUNK <= 256")),
                }),
            }));
        }
    }

    /// The ready queue these wakers mark.
    pub(crate) fn ready(&self) -> &Ready {
        &self.ready
    }

    /// Runs `poll` with the waker of `slot`, borrowed: no count is taken for the poll itself
    /// (a clone the child keeps takes one). The slot's mark is cleared first: a wake from
    /// here on marks it again. `poll` may reserve slots (a child spawning).
    pub(crate) fn poll_with<R>(&self, slot: u32, poll: impl FnOnce(&Waker) -> R) -> R {
        let slot = slot as usize;
        let mark = {
            let blocks = self.blocks.borrow();
            let block = &blocks[slot / CHUNK];
            block.marks[slot % CHUNK].queued.clear();
            mark_of(block, slot % CHUNK)
        };
        // SAFETY: the data pointer is the slot's mark, made from its block's pointer. The
        // waker holds no count, so it is never dropped (`ManuallyDrop`); the block outlives
        // it, as `self` holds the block for as long as it lives and the waker is only lent
        // to `poll` (a block added meanwhile moves the `Arc`s, never the blocks).
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(mark, &VTABLE)) });
        poll(&waker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    fn block(wakers: &Wakers, chunk: usize) -> Arc<Block> {
        Arc::clone(&wakers.blocks.borrow()[chunk])
    }

    fn wakers() -> (Wakers, Arc<Ready>) {
        let ready = Arc::new(Ready::default());
        let wakers = Wakers::new(Arc::clone(&ready), Arc::new(AtomicWaker::new()));
        (wakers, ready)
    }

    fn taken(ready: &Ready) -> Vec<u32> {
        let mut queue = VecDeque::new();
        ready.take(&mut queue);
        queue.into()
    }

    #[test]
    fn a_waker_marks_its_own_slot_once_until_the_slot_is_cleared() {
        let (wakers, ready) = wakers();
        wakers.reserve(3 * CHUNK as u32 + 5);
        for slot in [0, 63, 64, 3 * CHUNK as u32 + 5] {
            let kept = wakers.poll_with(slot, Waker::clone);
            kept.wake_by_ref();
            kept.wake_by_ref(); // marked already: not pushed twice
            assert_eq!(taken(&ready), [slot]);
            wakers.poll_with(slot, |_| ()); // clears the mark
            kept.wake();
            assert_eq!(taken(&ready), [slot]);
        }
    }

    #[test]
    fn a_block_lives_as_long_as_its_last_waker() {
        let (wakers, ready) = wakers();
        wakers.reserve(70);
        let kept: Vec<Waker> = (60..70)
            .map(|slot| wakers.poll_with(slot, Waker::clone))
            .collect();
        let block = Arc::downgrade(&block(&wakers, 1));
        drop(wakers); // the group is gone; the wakers are not
        assert!(block.upgrade().is_some());
        let woken_elsewhere = std::thread::spawn(move || {
            for waker in kept {
                waker.wake();
            }
        });
        woken_elsewhere.join().expect("woken");
        assert_eq!(taken(&ready), (60..70).collect::<Vec<_>>());
        assert!(block.upgrade().is_none(), "freed with its last waker");
    }

    #[test]
    fn a_borrowed_waker_takes_no_count() {
        let (wakers, _ready) = wakers();
        wakers.reserve(0);
        let counts = |w: &Wakers| Arc::strong_count(&block(w, 0)) - 1;
        let before = counts(&wakers);
        wakers.poll_with(0, |waker| {
            waker.wake_by_ref();
            assert!(waker.will_wake(&waker.clone()));
        });
        assert_eq!(counts(&wakers), before);
    }
}
