//! `asyncio.gather` with no task and no allocation per awaitable.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::MaybeDone;

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
