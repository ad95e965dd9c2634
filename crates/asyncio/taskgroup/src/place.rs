//! The heap place a [`TaskGroup`](crate::TaskGroup) polls each eager future in.
//!
//! An eager step polls the future where it will stay if it suspends: a future that returned
//! `Pending` is pinned and cannot move, so it goes on as a tokio task in the very memory it was
//! polled in. Most futures finish in their step, so the group keeps one piece of raw memory and
//! writes every future into it in turn. The memory has no type: nothing is checked between one
//! spawn and the next beyond a size, and the compiler folds writing, polling and dropping a
//! future that finishes into almost nothing.
//!
//! Everything unsafe about that memory is here, behind one operation, [`StepIn::step_as_new`]
//! (in the group's place, [`Free`], or in memory of its own, [`Alone`]): write a future in, poll it, then drop it there or
//! move it on with its memory ([`Placed`]).

#![allow(unsafe_code)]

use std::alloc::{self, Layout};
use std::any::Any;
use std::marker::PhantomData;
use std::mem::{self, MaybeUninit};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};
use std::thread;

use crate::current::{self, TaskId};

/// Every place is aligned at least this much, so that a future aligned no more needs no
/// alignment check.
const ALIGN: usize = 16;
/// The smallest place: most futures fit the first one made.
const SIZE: usize = 64;

/// Raw heap memory for one future at a time.
struct Place {
    ptr: NonNull<u8>,
    layout: Layout,
}

// SAFETY: a `Place` is plain memory, owned by one value at a time; whatever future is in it is
// owned by the step that polls it or by a `Placed`, which is `Send` only when the future is.
unsafe impl Send for Place {}

impl Place {
    #[cold]
    #[inline(never)]
    fn new(at_least: Layout) -> Self {
        let layout =
            Layout::from_size_align(at_least.size().max(SIZE), at_least.align().max(ALIGN))
                .unwrap_or_else(|_| panic!("a future of {at_least:?} is too large to spawn"));
        // SAFETY: `layout` has a non-zero size.
        let ptr = unsafe { alloc::alloc(layout) };
        let ptr = NonNull::new(ptr).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        Self { ptr, layout }
    }

    /// The place holds an `F`. Checked at run time only for a future larger or more aligned
    /// than every place is: for the rest, this is `true` at compile time.
    #[inline(always)]
    fn fits<F>(&self) -> bool {
        let needed = Layout::new::<F>();
        (needed.size() <= SIZE || needed.size() <= self.layout.size())
            && (needed.align() <= ALIGN || needed.align() <= self.layout.align())
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// The group's place for its next eager future.
pub(crate) struct Places {
    /// Always held: a future that suspends takes it, and a new one is made at once, so that
    /// the common spawn checks nothing.
    next: Place,
}

impl Default for Places {
    fn default() -> Self {
        Self {
            next: Place::new(Layout::new::<()>()),
        }
    }
}

/// How an eager step ended.
pub(crate) enum Stepped<F: Future> {
    /// The future finished, and was dropped in its place.
    Ready(F::Output),
    /// The future suspended: it goes on in its memory, and the group takes a new place.
    Pending(Placed<F>),
    /// The poll panicked; the future was dropped in its place.
    Panicked(Box<dyn Any + Send>),
}

impl Places {
    /// The place for an `F`: the one held if it is large enough, else a new one. Made ready
    /// before the step, so that nothing between the step's thread-local writes calls out.
    #[inline(always)]
    pub(crate) fn free<F>(&mut self) -> Free<'_, F> {
        if !self.next.fits::<F>() {
            self.next = Place::new(Layout::new::<F>());
        }
        Free {
            ptr: self.next.ptr.cast(),
            places: self,
        }
    }
}

/// The group's place, free and fit for an `F`.
pub(crate) struct Free<'a, F> {
    places: &'a mut Places,
    /// Read here, before the caller's thread-local writes, which the compiler cannot tell apart
    /// from a write to the places.
    ptr: NonNull<F>,
}

/// Where an eager step runs as a new task: the group's place ([`Free`]), or memory of the
/// future's own ([`Alone`]). Both spawners' steps and the polled group's go through it.
///
/// # Safety
/// [`memory`](Self::memory) is valid for writes of an `F`, aligned for it, holds no live value,
/// and stays where it is while a future that suspended lives in it.
pub(crate) unsafe trait StepIn<F: Future>: Sized {
    /// The memory the future is written to.
    fn memory(&self) -> NonNull<F>;

    /// What becomes of the memory after the step: it goes on with a future that suspended.
    fn finish(self, stepped: InPlace<F::Output>) -> Stepped<F>;

    /// Writes `future` into this memory and `poll`s it there once (`poll` returns the poll, or
    /// its panic), as the current task: an unnamed one until it asks for its id, which this
    /// returns. A future that finishes or panics is dropped where it is; one that suspends
    /// moves on with its memory.
    #[inline(always)]
    fn step_as_new(
        self,
        future: F,
        poll: impl FnOnce(Pin<&mut F>) -> thread::Result<Poll<F::Output>>,
    ) -> (Stepped<F>, Option<TaskId>) {
        // SAFETY: the memory is free, and large and aligned enough for an `F` (the trait's
        // contract).
        let (stepped, id) = unsafe { in_place_as_new(bytes_of(self.memory()), future, poll) };
        (self.finish(stepped), id)
    }
}

// SAFETY: the group's place is free (the last future in it was dropped, or moved out with its
// memory) and large and aligned enough for an `F` (`Places::free`); a future that suspends
// takes the place with it.
unsafe impl<F: Future> StepIn<F> for Free<'_, F> {
    /// Read in [`Places::free`], before the caller's thread-local writes.
    #[inline(always)]
    fn memory(&self) -> NonNull<F> {
        self.ptr
    }

    /// The place stays free unless the future suspended in it; then the group takes a new one.
    #[inline(always)]
    fn finish(self, stepped: InPlace<F::Output>) -> Stepped<F> {
        match stepped {
            InPlace::Ready(out) => Stepped::Ready(out),
            InPlace::Suspended => {
                // `Place::new` must not unwind here: the pinned future would be left live in
                // the group's place, and the next spawn would write over it undropped. It does
                // not: its layout check cannot fail for an `F` that fits a place (a place at
                // least as large and aligned passed it), and a failed allocation aborts.
                let place = mem::replace(&mut self.places.next, Place::new(Layout::new::<F>()));
                Stepped::Pending(Placed {
                    place,
                    _future: PhantomData,
                })
            }
            InPlace::Panicked(payload) => Stepped::Panicked(payload),
        }
    }
}

/// The memory of an `F` at `ptr`, as the `&mut` place [`in_place_as_new`] takes: the
/// thread-local writes that make the task current are inside a function whose place is a
/// `&mut` argument, so the compiler knows that writing the future does not write them, and
/// folds them away for a future that never asks for its task. Around a bare pointer, it keeps
/// the restore.
///
/// # Safety
/// `ptr` is valid for writes of an `F`, and nothing else reads or writes its memory while the
/// place lives.
#[inline(always)]
unsafe fn bytes_of<'a, F>(ptr: NonNull<F>) -> &'a mut [MaybeUninit<u8>] {
    // SAFETY: the caller's promise.
    unsafe {
        std::slice::from_raw_parts_mut(ptr.as_ptr().cast::<MaybeUninit<u8>>(), size_of::<F>())
    }
}

/// [`in_place`] as a new task, in `place` (see [`StepIn`]).
///
/// # Safety
/// As for [`in_place`], for the memory of `place`, which is at least an `F`'s size.
#[inline]
unsafe fn in_place_as_new<F: Future>(
    place: &mut [MaybeUninit<u8>],
    future: F,
    poll: impl FnOnce(Pin<&mut F>) -> thread::Result<Poll<F::Output>>,
) -> (InPlace<F::Output>, Option<TaskId>) {
    let ptr = NonNull::from(place).cast::<F>();
    let previous = current::enter(current::UNNAMED);
    // SAFETY: the caller's promise.
    let stepped = unsafe { in_place(ptr, future, poll) };
    (stepped, current::leave(previous))
}

/// Memory of the future's own, for a spawn that keeps no place between spawns (a
/// [`GroupHandle`](crate::GroupHandle)'s, which may come from any thread, or a polled child's
/// spawning during its own eager step): the memory goes on with a future that suspends, and is
/// freed with one that does not.
pub(crate) struct Alone<F> {
    place: Place,
    _future: PhantomData<F>,
}

impl<F> Alone<F> {
    pub(crate) fn new() -> Self {
        Self {
            place: Place::new(Layout::new::<F>()),
            _future: PhantomData,
        }
    }
}

// SAFETY: the place is new, so free, and made for an `F`; a future that suspends takes it with
// it.
unsafe impl<F: Future> StepIn<F> for Alone<F> {
    fn memory(&self) -> NonNull<F> {
        self.place.ptr.cast()
    }

    fn finish(self, stepped: InPlace<F::Output>) -> Stepped<F> {
        match stepped {
            InPlace::Ready(out) => Stepped::Ready(out),
            InPlace::Suspended => Stepped::Pending(Placed {
                place: self.place,
                _future: PhantomData,
            }),
            InPlace::Panicked(payload) => Stepped::Panicked(payload),
        }
    }
}

/// How [`in_place`] left its memory.
pub(crate) enum InPlace<T> {
    /// The future finished with this output and was dropped: the memory is free.
    Ready(T),
    /// The future suspended: it is live in the memory, pinned there.
    Suspended,
    /// The poll, or the drop of the finished future, panicked; the future was dropped and the
    /// memory is free.
    Panicked(Box<dyn Any + Send>),
}

/// Writes `future` at `ptr`, `poll`s it there once, and drops it there unless it suspended.
///
/// # Safety
/// `ptr` is valid for writes of an `F`, aligned for it, and holds no live value; the memory
/// stays where it is while a future that suspended lives in it.
#[inline(always)]
unsafe fn in_place<F: Future>(
    ptr: NonNull<F>,
    future: F,
    poll: impl FnOnce(Pin<&mut F>) -> thread::Result<Poll<F::Output>>,
) -> InPlace<F::Output> {
    let ptr = ptr.as_ptr();
    // SAFETY: the caller's promise: valid, aligned and free.
    unsafe { ptr.write(future) };
    // SAFETY: the future is live here and never moves: it is dropped here, or its memory
    // (which stays where it is) goes on with it.
    match poll(unsafe { Pin::new_unchecked(&mut *ptr) }) {
        Ok(Poll::Pending) => InPlace::Suspended,
        Ok(Poll::Ready(out)) => {
            // SAFETY: live, and dropped once: the memory is free from here on.
            match panic::catch_unwind(AssertUnwindSafe(|| unsafe { ptr.drop_in_place() })) {
                Ok(()) => InPlace::Ready(out),
                Err(payload) => InPlace::Panicked(payload),
            }
        }
        Err(payload) => {
            // SAFETY: as above. A second panic, while dropping the future whose poll
            // panicked, is lost with it: the first is the failure.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| unsafe { ptr.drop_in_place() }));
            InPlace::Panicked(payload)
        }
    }
}

/// A future that suspended in its eager step, running on in its place as a tokio task.
pub(crate) struct Placed<F> {
    place: Place,
    _future: PhantomData<F>,
}

// SAFETY: a `Placed<F>` owns its `F` (in the place) and nothing else.
unsafe impl<F: Send> Send for Placed<F> {}

impl<F: Future> Future for Placed<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: the place holds a live `F` until this is dropped, and the `F` never moves
        // (the place's memory stays where it is when a `Placed` moves).
        unsafe { Pin::new_unchecked(self.place.ptr.cast::<F>().as_mut()) }.poll(cx)
    }
}

impl<F> Drop for Placed<F> {
    fn drop(&mut self) {
        // SAFETY: the place holds a live `F`, dropped once here; the memory is freed after it
        // (`place` is dropped next, even if this panics).
        unsafe { self.place.ptr.cast::<F>().drop_in_place() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Waker};

    /// Counts its drops; ready on its second poll, with the address it was polled at.
    struct Probe {
        polls: usize,
        drops: Arc<AtomicUsize>,
        _payload: [u64; 4],
    }

    impl Future for Probe {
        type Output = usize;
        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<usize> {
            self.polls += 1;
            match self.polls {
                2 => Poll::Ready(&*self as *const Self as usize),
                _ => Poll::Pending,
            }
        }
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn probe(drops: &Arc<AtomicUsize>, polls: usize) -> Probe {
        Probe {
            polls,
            drops: Arc::clone(drops),
            _payload: [0; 4],
        }
    }

    fn poll<F: Future>(future: Pin<&mut F>) -> thread::Result<Poll<F::Output>> {
        Ok(future.poll(&mut Context::from_waker(Waker::noop())))
    }

    /// A step in the group's place, as a new task.
    fn step<F: Future>(
        places: &mut Places,
        future: F,
        poll: impl FnOnce(Pin<&mut F>) -> thread::Result<Poll<F::Output>>,
    ) -> Stepped<F> {
        places.free().step_as_new(future, poll).0
    }

    fn place_of(places: &Places) -> usize {
        places.next.ptr.as_ptr() as usize
    }

    #[test]
    fn a_finished_future_is_dropped_once_in_its_place_and_the_place_is_reused() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut places = Places::default();
        let Stepped::Ready(at) = step(&mut places, probe(&drops, 1), poll) else {
            panic!("a probe polled for the second time is ready")
        };
        assert_eq!(at, place_of(&places), "polled in the place");
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        let Stepped::Ready(again) = step(&mut places, probe(&drops, 1), poll) else {
            panic!("ready")
        };
        assert_eq!(again, at, "the same memory serves the next future");
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_suspended_future_goes_on_in_its_memory_and_the_group_takes_a_new_place() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut places = Places::default();
        let Stepped::Ready(first) = step(&mut places, probe(&drops, 1), poll) else {
            panic!("ready")
        };
        let Stepped::Pending(mut task) = step(&mut places, probe(&drops, 0), poll) else {
            panic!("a fresh probe suspends")
        };
        assert_ne!(place_of(&places), first, "the place went with the task");
        assert_eq!(
            drops.load(Ordering::Relaxed),
            1,
            "the suspended one is not dropped"
        );
        let resumed = Pin::new(&mut task).poll(&mut Context::from_waker(Waker::noop()));
        assert_eq!(
            resumed,
            Poll::Ready(first),
            "resumed where it was first polled"
        );
        let Stepped::Ready(next) = step(&mut places, probe(&drops, 1), poll) else {
            panic!("ready")
        };
        assert_ne!(next, first, "the task kept its memory");
        assert_eq!(drops.load(Ordering::Relaxed), 2);
        drop(task);
        assert_eq!(
            drops.load(Ordering::Relaxed),
            3,
            "the task drops its future"
        );
    }

    #[test]
    fn a_panicking_future_is_dropped_and_the_place_kept() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut places = Places::default();
        let before = place_of(&places);
        let stepped = step(&mut places, probe(&drops, 1), |_| {
            panic::catch_unwind(|| -> Poll<usize> { panic!("boom") })
        });
        assert!(matches!(stepped, Stepped::Panicked(_)));
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        assert_eq!(place_of(&places), before, "the place is still the group's");
    }

    #[test]
    fn a_larger_or_more_aligned_future_gets_a_place_that_fits_it() {
        #[repr(align(128))]
        struct Aligned([u8; 300]);
        impl Future for Aligned {
            type Output = (usize, u8);
            fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<(usize, u8)> {
                Poll::Ready((&*self as *const Self as usize, self.0[299]))
            }
        }
        let mut places = Places::default();
        assert!(matches!(
            step(&mut places, std::future::ready(1u8), poll),
            Stepped::Ready(1)
        ));
        let Stepped::Ready((at, last)) = step(&mut places, Aligned([7; 300]), poll) else {
            panic!("ready")
        };
        assert_eq!((at % 128, last), (0, 7));
        assert!(places.next.layout.size() >= 300);
        // A smaller future fits the larger place, which is kept.
        let before = place_of(&places);
        assert!(matches!(
            step(&mut places, std::future::ready(2u8), poll),
            Stepped::Ready(2)
        ));
        assert_eq!(place_of(&places), before);
    }

    #[test]
    fn zero_sized_futures_fit_every_place() {
        assert_eq!(size_of::<std::future::Pending<()>>(), 0);
        let mut places = Places::default();
        let Stepped::Pending(mut task) = step(&mut places, std::future::pending::<()>(), poll)
        else {
            panic!("pending never ends")
        };
        let polled = Pin::new(&mut task).poll(&mut Context::from_waker(Waker::noop()));
        assert!(polled.is_pending());
    }
}
