//! The polled group's memory for its children's futures: blocks that live as long as the
//! group, handed out a piece at a time and taken back by size.
//!
//! A child that suspends needs memory that stays where it is until it ends. From the global
//! allocator that is an allocation and a free each, and a burst of them (a body that spawns
//! 10^5 children) takes glibc's slow paths: at 10^5 children, about 400 of the group's 1,200
//! instructions a child were `malloc`, `free` and their consolidation. Here a child's memory
//! comes from the group's current block (a bump), or from the memory a finished child of the
//! same size class gave back; the blocks are freed with the group.
//!
//! Everything unsafe about that is here: [`Arena`] hands out raw memory, and [`Held`] is a
//! future written into it, polled and dropped in place. The contract:
//! - a [`Held`] lives no longer than the [`Arena`] it came from (the group drops its children
//!   before its arena: `Inner`'s fields are dropped in order);
//! - memory given back ([`Arena::give_back`]) holds no live value, and is not used again by
//!   whoever gave it.

#![allow(unsafe_code)]

use std::alloc::{self, Layout};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// Bytes a block holds.
const BLOCK: usize = 64 * 1024;
/// Every piece is aligned this much, and its size rounded up to it: the size classes.
const ALIGN: usize = 16;
/// The largest piece taken from a block; a larger or more aligned future gets memory of its
/// own from the global allocator.
const LARGEST: usize = 1024;

/// Memory for children's futures. Not `Send`: it belongs to one group.
pub(crate) struct Arena {
    blocks: Vec<NonNull<u8>>,
    /// The current block's unused part: its start, and its length.
    next: NonNull<u8>,
    left: usize,
    /// Pieces given back, by size class (`size / ALIGN - 1`): the last one given back; each
    /// free piece holds the one given back before it in its first word. The list lives in
    /// memory that is free anyway, and the piece a drop just left is in the cache.
    free: Vec<Option<NonNull<u8>>>,
}

/// A piece of memory a dropped [`Held`] leaves, to give back to its arena.
#[must_use = "give the memory back to the arena"]
pub(crate) struct Memory {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl Default for Arena {
    fn default() -> Self {
        Self {
            blocks: Vec::new(),
            next: NonNull::dangling(),
            left: 0,
            free: Vec::new(),
        }
    }
}

/// Whether a future of `layout` gets memory of its own rather than a piece of a block.
fn own(layout: Layout) -> bool {
    layout.size() > LARGEST || layout.align() > ALIGN
}

/// The layout of memory of its own for a future of `layout`: at least a byte.
fn of_its_own(layout: Layout) -> Layout {
    Layout::from_size_align(layout.size().max(1), layout.align())
        .unwrap_or_else(|_| unreachable!("a future's layout, a byte larger at most"))
}

/// The size class of a piece for `layout` (not [`own`]): its size rounded up to [`ALIGN`].
fn class(layout: Layout) -> usize {
    layout.size().max(1).div_ceil(ALIGN) - 1
}

impl Arena {
    /// Memory for a value of `layout`: a piece given back, or the next of the current block,
    /// or a new block's first.
    fn take(&mut self, layout: Layout) -> NonNull<u8> {
        if own(layout) {
            let layout = of_its_own(layout);
            // SAFETY: `layout` has a non-zero size.
            let ptr = unsafe { alloc::alloc(layout) };
            return NonNull::new(ptr).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        }
        let class = class(layout);
        if let Some(head) = self.free.get_mut(class)
            && let Some(piece) = *head
        {
            // SAFETY: a free piece of this class (`give_back`), whose first word it wrote: a
            // piece is at least `ALIGN` bytes, aligned to it.
            *head = unsafe { piece.cast::<Option<NonNull<u8>>>().read() };
            return piece;
        }
        let size = (class + 1) * ALIGN;
        if self.left < size {
            let block = Layout::from_size_align(BLOCK, ALIGN)
                .unwrap_or_else(|_| unreachable!("a block's layout is valid"));
            // SAFETY: a block has a non-zero size.
            let ptr = unsafe { alloc::alloc(block) };
            let ptr = NonNull::new(ptr).unwrap_or_else(|| alloc::handle_alloc_error(block));
            self.blocks.push(ptr);
            self.next = ptr;
            self.left = BLOCK;
        }
        let piece = self.next;
        // SAFETY: `size <= left`, so the piece and the pointer past it are in the block (or
        // one past its end).
        self.next = unsafe { self.next.add(size) };
        self.left -= size;
        piece
    }

    /// Takes back memory a dropped future left: the next future of its size class gets it.
    pub(crate) fn give_back(&mut self, memory: Memory) {
        let Memory { ptr, layout } = memory;
        if own(layout) {
            // SAFETY: allocated by `take` with this layout, and free now.
            unsafe { alloc::dealloc(ptr.as_ptr(), of_its_own(layout)) };
            return;
        }
        let class = class(layout);
        if self.free.len() <= class {
            self.free.resize(class + 1, None);
        }
        // SAFETY: the piece is free (the contract), and its first word fits (a piece is at
        // least `ALIGN` bytes, aligned to it): it holds the list's next piece until taken.
        unsafe { ptr.cast::<Option<NonNull<u8>>>().write(self.free[class]) };
        self.free[class] = Some(ptr);
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        let block = Layout::from_size_align(BLOCK, ALIGN)
            .unwrap_or_else(|_| unreachable!("a block's layout is valid"));
        for ptr in self.blocks.drain(..) {
            // SAFETY: allocated by `take` with this layout; every future in it was dropped
            // (the contract: no `Held` outlives its arena).
            unsafe { alloc::dealloc(ptr.as_ptr(), block) };
        }
    }
}

/// A future written into an arena's memory, where it stays until dropped: a `Pin<Box<dyn
/// Future>>` whose memory is the group's. Dropping it drops the future and leaves its memory
/// to the arena's end; [`drop_future`](Self::drop_future) gives it back for the next child.
pub(crate) struct Held<'env, O> {
    future: NonNull<dyn Future<Output = O> + 'env>,
}

impl<'env, O> Held<'env, O> {
    /// Writes `future` into memory from `arena`.
    pub(crate) fn new<F: Future<Output = O> + 'env>(arena: &mut Arena, future: F) -> Self {
        let ptr = arena.take(Layout::new::<F>()).cast::<F>();
        // SAFETY: the memory is free, and large and aligned enough for an `F` (`take`).
        unsafe { ptr.as_ptr().write(future) };
        let future: *mut (dyn Future<Output = O> + 'env) = ptr.as_ptr();
        Self {
            // SAFETY: made from a non-null pointer.
            future: unsafe { NonNull::new_unchecked(future) },
        }
    }

    /// Polls the future where it is.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<O> {
        // SAFETY: the future is live and never moves: it is dropped where it is.
        unsafe { Pin::new_unchecked(self.future.as_mut()) }.poll(cx)
    }

    /// Drops the future and returns its memory, for the arena to take back. If the drop
    /// panics, the memory stays with the arena until its end.
    pub(crate) fn drop_future(self) -> Memory {
        let this = ManuallyDrop::new(self);
        // SAFETY: the future is live (a `Held` holds one until dropped).
        let layout = Layout::for_value(unsafe { this.future.as_ref() });
        // SAFETY: live, and dropped once: `this` is not dropped again.
        unsafe { this.future.as_ptr().drop_in_place() };
        Memory {
            ptr: this.future.cast(),
            layout,
        }
    }
}

impl<O> Drop for Held<'_, O> {
    fn drop(&mut self) {
        // SAFETY: the future is live, and dropped once, here.
        unsafe { self.future.as_ptr().drop_in_place() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// A future that is ready with its value at once, and counts its drops.
    struct Ready<T>(T, Rc<Cell<u32>>);

    impl<T: Copy + Unpin> Future for Ready<T> {
        type Output = T;
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<T> {
            Poll::Ready(self.0)
        }
    }

    impl<T> Drop for Ready<T> {
        fn drop(&mut self) {
            self.1.set(self.1.get() + 1);
        }
    }

    fn poll<O>(held: &mut Held<'_, O>) -> Poll<O> {
        held.poll(&mut Context::from_waker(std::task::Waker::noop()))
    }

    #[test]
    fn a_future_is_polled_and_dropped_in_its_memory_which_the_next_of_its_size_gets() {
        let mut arena = Arena::default();
        let drops = Rc::new(Cell::new(0));
        let mut first = Held::new(&mut arena, Ready(7u64, Rc::clone(&drops)));
        assert_eq!(poll(&mut first), Poll::Ready(7));
        let place = first.future.cast::<u8>();
        arena.give_back(first.drop_future());
        assert_eq!(drops.get(), 1);
        let mut second = Held::new(&mut arena, Ready(8u64, Rc::clone(&drops)));
        assert_eq!(
            second.future.cast::<u8>(),
            place,
            "the same size class reuses it"
        );
        assert_eq!(poll(&mut second), Poll::Ready(8));
        drop(second); // dropped without giving back: the memory stays with the arena
        assert_eq!(drops.get(), 2);
    }

    #[test]
    fn blocks_fill_and_large_or_aligned_futures_get_memory_of_their_own() {
        let mut arena = Arena::default();
        let drops = Rc::new(Cell::new(0));
        // More than a block's worth of small futures, all live at once.
        let held: Vec<_> = (0..3 * BLOCK / 16)
            .map(|i| Held::new(&mut arena, Ready(i as u64, Rc::clone(&drops))))
            .collect();
        assert!(arena.blocks.len() >= 3);
        let mut addresses: Vec<usize> = held
            .iter()
            .map(|h| h.future.cast::<u8>().addr().get())
            .collect();
        addresses.sort_unstable();
        addresses.dedup();
        assert_eq!(
            addresses.len(),
            held.len(),
            "every live future has its own memory"
        );
        let mut large = Held::new(&mut arena, Ready([1u8; 4096], Rc::clone(&drops)));
        assert_eq!(poll(&mut large).map(|a| a[4095]), Poll::Ready(1));
        #[repr(align(64))]
        #[derive(Clone, Copy)]
        struct Aligned(u8);
        let mut aligned = Held::new(&mut arena, Ready(Aligned(3), Rc::clone(&drops)));
        assert_eq!(aligned.future.cast::<u8>().addr().get() % 64, 0);
        assert_eq!(poll(&mut aligned).map(|a| a.0), Poll::Ready(3));
        arena.give_back(large.drop_future());
        arena.give_back(aligned.drop_future());
        for h in held {
            arena.give_back(h.drop_future());
        }
        assert_eq!(drops.get(), 3 * BLOCK as u32 / 16 + 2);
    }

    #[test]
    fn a_panic_in_a_futures_drop_leaves_its_memory_to_the_arena() {
        struct Bomb;
        impl Future for Bomb {
            type Output = ();
            fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
                Poll::Pending
            }
        }
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("boom");
            }
        }
        let mut arena = Arena::default();
        let mut held = Held::new(&mut arena, Bomb);
        assert_eq!(poll(&mut held), Poll::Pending);
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| held.drop_future()));
        assert!(dropped.is_err());
        // The arena is dropped after: its block goes, with nothing live in it.
    }
}
