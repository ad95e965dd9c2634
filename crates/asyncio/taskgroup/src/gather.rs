//! `asyncio.gather`: of futures polled in place, with no task and no allocation per awaitable
//! ([`gather`]), and of tasks, as asyncio's ([`gather_tasks`]).

use std::future::IntoFuture;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures::future::MaybeDone;

use crate::handle::TaskHandle;
use crate::outcome::TaskError;

/// Polls every future where it lies, in one boxed slice, until all have finished, and returns
/// their outputs in order (`await asyncio.gather(*coros)`).
///
/// Unlike `futures::future::join_all`, which for more than 30 futures gives each its own
/// heap-allocated task node, this makes one allocation for the whole set; every wake-up polls
/// the futures not yet done, so it suits many futures that finish quickly.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let outputs = taskgroup::gather((0..100).map(|i| async move { i * 2 })).await;
/// assert_eq!(outputs.len(), 100);
/// assert_eq!(outputs[99], 198);
/// # });
/// ```
pub fn gather<F: Future>(futures: impl IntoIterator<Item = F>) -> Gather<F> {
    let slots: Box<[MaybeDone<F>]> = futures.into_iter().map(MaybeDone::Future).collect();
    Gather {
        slots: slots.into(),
    }
}

/// The future of [`gather`].
#[must_use = "a future does nothing unless awaited"]
pub struct Gather<F: Future> {
    slots: Pin<Box<[MaybeDone<F>]>>,
}

impl<F: Future> std::fmt::Debug for Gather<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gather")
            .field("futures", &self.slots.len())
            .finish()
    }
}

impl<F: Future> Future for Gather<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let mut all_done = true;
        for slot in pinned(self.slots.as_mut()) {
            all_done &= slot.poll(cx).is_ready();
        }
        if !all_done {
            return Poll::Pending;
        }
        Poll::Ready(
            pinned(self.slots.as_mut())
                .map(|slot| slot.take_output().expect("every slot is done"))
                .collect(),
        )
    }
}

/// The elements of a pinned slice, each pinned.
fn pinned<T>(slice: Pin<&mut [T]>) -> impl Iterator<Item = Pin<&mut T>> {
    // SAFETY: the slice is pinned, so its elements never move; nothing here moves them out,
    // and each is only handed on as a pinned reference.
    #[allow(unsafe_code)]
    unsafe {
        slice
            .get_unchecked_mut()
            .iter_mut()
            .map(|element| Pin::new_unchecked(element))
    }
}

/// `asyncio.gather(*tasks)`: waits for tasks of a group and returns their values in order.
///
/// As asyncio's: the first task that fails or is cancelled ends the gather at once with its
/// [`TaskError`], and the others keep running ([`return_exceptions`](GatherTasks::return_exceptions)
/// waits for all and returns every outcome instead). Dropping the gather before it ends (its
/// awaiter cancelled) cancels every task still running, and [`cancel`](GatherTasks::cancel)
/// does so explicitly. Unlike [`gather`], which polls futures in place, each item here is a
/// task of its own, scheduled or eager as its group starts it.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use taskgroup::{Start, TaskGroup, gather_tasks, scope};
/// let values = scope(Start::Scheduled, async |tg: &mut TaskGroup| {
///     let tasks = (1..=3).map(|i| tg.spawn(async move { i * 10 })).collect::<Result<Vec<_>, _>>()?;
///     Ok(gather_tasks(tasks).await?)
/// })
/// .await?;
/// assert_eq!(values, [10, 20, 30]);
/// # anyhow::Ok(()) }).unwrap();
/// ```
pub fn gather_tasks<T>(tasks: impl IntoIterator<Item = TaskHandle<T>>) -> GatherTasks<T> {
    GatherTasks(Gathering {
        slots: tasks.into_iter().map(Slot::Waiting).collect(),
        cancelled: Mutex::new(None),
        ended: false,
    })
}

/// The future of [`gather_tasks`]: every value, or the first [`TaskError`].
#[must_use = "a future does nothing unless awaited"]
#[derive(Debug)]
pub struct GatherTasks<T>(Gathering<T>);

/// The future of [`GatherTasks::return_exceptions`]: every task's outcome.
#[must_use = "a future does nothing unless awaited"]
#[derive(Debug)]
pub struct GatherOutcomes<T>(Gathering<T>);

#[derive(Debug)]
struct Gathering<T> {
    slots: Vec<Slot<T>>,
    /// `cancel()` cancelled a task: the gather ends cancelled, with this message.
    cancelled: Mutex<Option<Option<Arc<str>>>>,
    /// The gather returned: dropping it cancels nothing.
    ended: bool,
}

#[derive(Debug)]
enum Slot<T> {
    Waiting(TaskHandle<T>),
    Ended(Result<T, TaskError>),
    Taken,
}

impl<T> GatherTasks<T> {
    /// `return_exceptions=True`: wait for every task and return each one's outcome; the gather
    /// itself ends with an error only if it was cancelled.
    pub fn return_exceptions(self) -> GatherOutcomes<T> {
        GatherOutcomes(self.into_inner())
    }

    /// `gather.cancel()`: cancels every task still running; `false` if none was (all had
    /// ended, even if the gather has not yet seen it), and the gather then returns as usual.
    pub fn cancel(&self) -> bool {
        self.0.cancel(None)
    }

    /// `gather.cancel(msg)`: as [`cancel`](Self::cancel), with a message.
    pub fn cancel_with(&self, message: impl Into<Arc<str>>) -> bool {
        self.0.cancel(Some(message.into()))
    }

    fn into_inner(mut self) -> Gathering<T> {
        std::mem::replace(
            &mut self.0,
            Gathering {
                slots: Vec::new(),
                cancelled: Mutex::new(None),
                ended: true,
            },
        )
    }
}

impl<T> GatherOutcomes<T> {
    /// As [`GatherTasks::cancel`].
    pub fn cancel(&self) -> bool {
        self.0.cancel(None)
    }
}

impl<T> Gathering<T> {
    fn cancel(&self, message: Option<Arc<str>>) -> bool {
        let mut any = false;
        for slot in &self.slots {
            if let Slot::Waiting(task) = slot {
                any |= match &message {
                    Some(message) => task.cancel_with(Arc::clone(message)),
                    None => task.cancel(),
                };
            }
        }
        if any {
            *self
                .cancelled
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(message);
        }
        any
    }

    /// Polls every task not yet ended; with `first_error`, the first error ends the gather.
    fn poll_tasks(
        &mut self,
        cx: &mut Context<'_>,
        first_error: bool,
    ) -> Poll<Result<Vec<Result<T, TaskError>>, TaskError>> {
        let mut pending = false;
        for slot in &mut self.slots {
            let Slot::Waiting(task) = slot else { continue };
            match Pin::new(&mut task.into_future()).poll(cx) {
                Poll::Pending => pending = true,
                Poll::Ready(Err(e)) if first_error => {
                    *slot = Slot::Taken;
                    self.ended = true;
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(outcome) => *slot = Slot::Ended(outcome),
            }
        }
        if pending {
            return Poll::Pending;
        }
        self.ended = true;
        let cancelled = self
            .cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(message) = cancelled {
            return Poll::Ready(Err(TaskError::Cancelled(message)));
        }
        Poll::Ready(Ok(self
            .slots
            .iter_mut()
            .map(|slot| match std::mem::replace(slot, Slot::Taken) {
                Slot::Ended(outcome) => outcome,
                _ => Err(TaskError::Taken),
            })
            .collect()))
    }
}

// Nothing is pinned: the handles are moved whole.
impl<T> Unpin for GatherTasks<T> {}
impl<T> Unpin for GatherOutcomes<T> {}

impl<T> Future for GatherTasks<T> {
    type Output = Result<Vec<T>, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0
            .poll_tasks(cx, true)
            .map(|all| all?.into_iter().collect())
    }
}

impl<T> Future for GatherOutcomes<T> {
    type Output = Result<Vec<Result<T, TaskError>>, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.poll_tasks(cx, false)
    }
}

/// The gather's awaiter is cancelled: so is every task it still waits for.
impl<T> Drop for Gathering<T> {
    fn drop(&mut self) {
        if !self.ended {
            self.cancel(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn outputs_come_back_in_order_whatever_order_they_finish_in() {
        let start = tokio::time::Instant::now();
        let out = gather([3u64, 1, 2].map(|s| async move {
            tokio::time::sleep(Duration::from_secs(s)).await;
            s
        }))
        .await;
        assert_eq!(out, [3, 1, 2]);
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(3),
            "they ran concurrently"
        );
    }

    #[tokio::test]
    async fn every_future_is_polled_to_completion_once_it_is_done() {
        let polls = Arc::new(AtomicUsize::new(0));
        let futures = (0..1_000).map(|i| {
            let polls = Arc::clone(&polls);
            async move {
                polls.fetch_add(1, Ordering::Relaxed);
                if i % 3 == 0 {
                    tokio::task::yield_now().await;
                }
                i
            }
        });
        let out = gather(futures).await;
        assert_eq!(out, (0..1_000).collect::<Vec<_>>());
        assert_eq!(
            polls.load(Ordering::Relaxed),
            1_000,
            "each body started once"
        );
    }

    #[tokio::test]
    async fn nothing_to_gather_is_ready_at_once() {
        let out: Vec<()> = gather(Vec::<std::future::Ready<()>>::new()).await;
        assert!(out.is_empty());
    }
}
