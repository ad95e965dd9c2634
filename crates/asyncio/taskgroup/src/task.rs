//! One task of a group: the future that runs it on tokio, and what its group lists of it.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::cancel::cancellation;
use crate::current::{self, TaskId};
use crate::listing::UNLISTED;
use crate::outcome::Failure;
use crate::shared::{Live, Shared};

/// How a scheduled task ended: the output of its tokio task, which its handle reads through
/// the `JoinHandle`: the tokio task holds the value, so no cell is shared beside it.
pub(crate) enum Ended<T> {
    Done(T),
    Failed,
    /// Cancelled. The message of a cancellation the task returned is kept by its group
    /// (`Shared::keep_message`): a message here would make every task's output, and so every
    /// tokio task, larger.
    Cancelled,
}

pin_project_lite::pin_project! {
    #[project = StageProj]
    enum Stage<F> {
        Running { #[pin] future: F },
        Gone,
    }
}

/// The task has suspended at least once: its entry in the listing has its waker.
const SUSPENDED: u8 = 1;
/// A cooperative task: its group's shutdown is a request it sees (see `Cooperative`), not a
/// drop.
const COOPERATIVE: u8 = 2;

pin_project_lite::pin_project! {
    /// A scheduled task of the group: runs `future` as its task (for
    /// [`current_task`](crate::current_task)), turns its output into the task's value or a
    /// failure of the group, and drops the future unfinished when the group is cancelled.
    /// Cancelled through its handle, it is dropped by tokio (an abort), which its drop reports.
    ///
    /// Small on purpose: with a small future, tokio's task fits in 128 bytes, as a bare
    /// `tokio::spawn` of that future does. A context is in the future (`Context::scope`), and
    /// a name in the group's listing.
    pub(crate) struct Child<F, O> {
        #[pin]
        stage: Stage<F>,
        outcome: Option<O>,
        // The task's slot in its group's listing, or `UNLISTED`.
        slot: u32,
        // `SUSPENDED`, `COOPERATIVE`: one byte, so that with a small future the task stays
        // within tokio's 128 bytes (two bools here made it 256).
        flags: u8,
        id: TaskId,
        // Dropped last: the scope's wait for its tasks covers the drop of each future.
        live: Live,
    }

    impl<F, O> PinnedDrop for Child<F, O> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            let shared = this.live.shared();
            if matches!(this.stage.as_mut().project(), StageProj::Running { .. }) {
                let slot = std::mem::replace(this.slot, UNLISTED);
                aborted(this.stage, slot, *this.id, shared);
            } else if *this.slot != UNLISTED {
                // Not reached: a task leaves the listing when it ends.
                shared.unlist(std::mem::replace(this.slot, UNLISTED));
            }
        }
    }
}

/// A task dropped unfinished by tokio: aborted (`TaskHandle::cancel`), or its runtime shut
/// down. The same as a cancellation by the group; a panic while the future is dropped is a
/// failure of the group, and is raised again so that the handle reads it as one. Out of line:
/// the drop of every finished task stays small enough for tokio to put it in line.
#[cold]
#[inline(never)]
fn aborted<F>(stage: Pin<&mut Stage<F>>, slot: u32, id: TaskId, shared: &Shared) {
    let dropped = cancel(stage, slot, id, shared);
    if let Err(payload) = dropped
        && !std::thread::panicking()
    {
        panic::resume_unwind(payload);
    }
}

impl<F, O> Child<F, O> {
    /// `slot`: the task's entry in the listing, made at its spawn (a task with a name, or one
    /// that went on from an eager step), or `UNLISTED`.
    pub(crate) fn new(
        future: F,
        outcome: O,
        id: TaskId,
        (slot, cooperative): (u32, bool),
        live: Live,
    ) -> Self {
        Self {
            stage: Stage::Running { future },
            outcome: Some(outcome),
            slot,
            flags: if cooperative { COOPERATIVE } else { 0 },
            id,
            live,
        }
    }
}

impl<F, O, T> Future for Child<F, O>
where
    F: Future,
    O: FnOnce(F::Output) -> anyhow::Result<T>,
{
    type Output = Ended<T>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Ended<T>> {
        let mut this = self.project();
        let shared = this.live.shared();
        let id = *this.id;
        // A task whose group shuts down before this step never takes it (asyncio never starts
        // a task whose group is already shutting down), unless it is cooperative.
        if shared.is_shutting_down() && *this.flags & COOPERATIVE == 0 {
            let slot = std::mem::replace(this.slot, UNLISTED);
            return Poll::Ready(cancelled(this.stage, slot, id, shared));
        }
        let previous = current::enter(id.current());
        let polled = panic::catch_unwind(AssertUnwindSafe(|| {
            let StageProj::Running { future } = this.stage.as_mut().project() else {
                unreachable!("a task that ended is not polled again");
            };
            future.poll(cx)
        }));
        current::leave(previous);
        match polled {
            Ok(Poll::Ready(out)) => {
                let slot = std::mem::replace(this.slot, UNLISTED);
                // A panic while the finished future is dropped (a cleanup that fails) is a
                // failure of the group, as it is in an eager step: left to unwind, tokio would
                // catch it and the handle would read a failure that the group never saw. The
                // stage is `Gone` even then (an assignment writes its new value when the old
                // one's drop unwinds), so the future is not dropped again.
                let dropped = panic::catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Gone)));
                if let Err(payload) = dropped {
                    drop(out);
                    return Poll::Ready(panicked(slot, id, shared, &*payload));
                }
                match this.outcome.take().map(|outcome| outcome(out)) {
                    Some(Ok(value)) => {
                        if end(slot, id, shared) {
                            // Cancelled by its handle in the step that finished it: asyncio
                            // ends such a task cancelled, its value dropped.
                            drop(value);
                            shared.unfinished();
                            return Poll::Ready(Ended::Cancelled);
                        }
                        Poll::Ready(Ended::Done(value))
                    }
                    Some(Err(e)) => Poll::Ready(match cancellation(&e) {
                        // A cancellation returned (`raise CancelledError`) ends it cancelled.
                        Some(message) => {
                            end(slot, id, shared);
                            shared.unfinished();
                            if let Some(message) = message {
                                shared.keep_message(id, message);
                            }
                            Ended::Cancelled
                        }
                        None => failed(slot, id, shared, Failure::Error(e)),
                    }),
                    None => unreachable!("a finished task is not polled again"),
                }
            }
            Ok(Poll::Pending) => {
                if *this.flags & SUSPENDED == 0 {
                    // Listed when it first suspends: a task that ends in its first step never
                    // takes the listing's lock.
                    shared.suspended(this.slot, id, cx.waker());
                    *this.flags |= SUSPENDED;
                }
                // Listed first, checked second: a shutdown between the two is not missed.
                if shared.is_shutting_down() && *this.flags & COOPERATIVE == 0 {
                    let slot = std::mem::replace(this.slot, UNLISTED);
                    return Poll::Ready(cancelled(this.stage, slot, id, shared));
                }
                Poll::Pending
            }
            Err(payload) => {
                let _ = panic::catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Gone)));
                let slot = std::mem::replace(this.slot, UNLISTED);
                Poll::Ready(panicked(slot, id, shared, &*payload))
            }
        }
    }
}

/// A task ended: it leaves the listing if it is listed (`slot`); returns whether its handle
/// had asked it to stop (see `Shared::request_cancel`).
#[inline(always)]
fn end(slot: u32, id: TaskId, shared: &Shared) -> bool {
    if slot != UNLISTED {
        shared.unlist(slot);
    }
    shared.has_marks() && shared.take_mark(id)
}

/// The task failed in a step, its future gone: a failure of its group.
#[cold]
fn failed<T>(slot: u32, id: TaskId, shared: &Shared, failure: Failure) -> Ended<T> {
    end(slot, id, shared);
    shared.unfinished();
    shared.fail(failure);
    Ended::Failed
}

/// The task panicked in a step, its future gone: a failure of its group (or an
/// [`Interrupt`](crate::Interrupt) it raises again).
#[cold]
fn panicked<T>(slot: u32, id: TaskId, shared: &Shared, payload: &(dyn Any + Send)) -> Ended<T> {
    end(slot, id, shared);
    shared.unfinished();
    shared.panicked(payload);
    Ended::Failed
}

/// The group cancels the task: drops its future unfinished.
fn cancelled<F, T>(stage: Pin<&mut Stage<F>>, slot: u32, id: TaskId, shared: &Shared) -> Ended<T> {
    match cancel(stage, slot, id, shared) {
        Ok(()) => Ended::Cancelled,
        Err(_) => Ended::Failed,
    }
}

/// Drops the task's future unfinished. A panic while it is dropped (a cleanup that fails, as an
/// exception raised in `finally` while a task is cancelled) is a failure of the group; its
/// payload is returned.
fn cancel<F>(
    mut stage: Pin<&mut Stage<F>>,
    slot: u32,
    id: TaskId,
    shared: &Shared,
) -> std::thread::Result<()> {
    let dropped = panic::catch_unwind(AssertUnwindSafe(|| stage.set(Stage::Gone)));
    shared.unfinished();
    match dropped {
        Ok(()) => {
            end(slot, id, shared);
            Ok(())
        }
        Err(payload) => {
            end(slot, id, shared);
            shared.panicked(&*payload);
            Err(payload)
        }
    }
}

#[cfg(test)]
mod tests {
    /// With a small future, a task fits tokio's 128-byte task cell only while `Child` stays
    /// at three words: at 32 bytes every scheduled task of ex_6_1 took a 256-byte cell
    /// (measured: 323 MB → 448 MB of peak memory for 10^6 tasks, and a quarter slower).
    #[test]
    fn a_small_futures_child_stays_at_three_words() {
        fn size_for<F: Future, O>(_: &F, _: &O) -> usize {
            std::mem::size_of::<super::Child<F, O>>()
        }
        async fn light() {}
        let outcome = |out: ()| anyhow::Ok(out);
        assert_eq!(size_for(&light(), &outcome), 24);
    }
}
