//! The cooperative cancel: a task (or a scope's body) that sees a cancellation as a request,
//! as an asyncio task sees `CancelledError`, instead of being dropped.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::outcome::{GroupError, TaskError};

/// The cancellation requests made of one cooperative task, shared by the task and its handle.
#[derive(Default)]
pub(crate) struct Requests {
    state: Mutex<Requested>,
    /// Notified at every request.
    arrived: Notify,
}

#[derive(Default)]
struct Requested {
    /// Requests not taken back by `uncancel` (`task.cancelling()`).
    count: u32,
    /// The message of the latest request that had one (`task.cancel(msg)`).
    message: Option<Arc<str>>,
}

impl Requests {
    fn state(&self) -> MutexGuard<'_, Requested> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `task.cancel(msg)`: one more request.
    pub(crate) fn request(&self, message: Option<Arc<str>>) {
        let mut state = self.state();
        state.count = state.count.saturating_add(1);
        if message.is_some() {
            state.message = message;
        }
        drop(state);
        self.arrived.notify_waiters();
    }

    pub(crate) fn count(&self) -> u32 {
        self.state().count
    }

    pub(crate) fn message(&self) -> Option<Arc<str>> {
        self.state().message.clone()
    }
}

/// What a cooperative task (or a cooperative scope's body) sees of the cancellation asked of
/// it: asyncio's `CancelledError`, as a request the task looks at where it chooses.
///
/// A task spawned with [`spawn_cooperative`](crate::TaskGroup::spawn_cooperative) is never
/// dropped to cancel it: [`TaskHandle::cancel`](crate::TaskHandle::cancel), a failure in its
/// group or the group's cancellation each make one request here, and the task goes on until it
/// returns. Where asyncio raises `CancelledError` at the task's next `await`, the task here
/// awaits [`cancelled`](Self::cancelled) beside its work (a `select!`) and decides: return
/// `Err(request.error())` to end cancelled (`raise`), clean up with more awaits first, or
/// [`uncancel`](Self::uncancel) and carry on (`except CancelledError: pass`).
///
/// Each clone sees each request once through [`cancelled`](Self::cancelled), as asyncio throws
/// one `CancelledError` per `cancel()`.
#[derive(Clone)]
pub struct CancelRequest {
    requests: Arc<Requests>,
    /// Requests this clone has returned from `cancelled`.
    seen: u32,
}

impl std::fmt::Debug for CancelRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelRequest")
            .field("cancelling", &self.cancelling())
            .field("seen", &self.seen)
            .finish()
    }
}

impl CancelRequest {
    pub(crate) fn new(requests: Arc<Requests>) -> Self {
        Self { requests, seen: 0 }
    }

    /// Waits for a request this clone has not yet returned, and returns its message
    /// (`except CancelledError as e: e.args`). Cancel safe: a request is marked seen only
    /// when this returns it.
    pub async fn cancelled(&mut self) -> Option<Arc<str>> {
        loop {
            let arrived = self.requests.arrived.notified();
            let mut arrived = std::pin::pin!(arrived);
            // Registered before the count is read, so a request between the two is not lost.
            arrived.as_mut().enable();
            let unseen = {
                let state = self.requests.state();
                (state.count > self.seen).then(|| (state.count, state.message.clone()))
            };
            if let Some((count, message)) = unseen {
                self.seen = count;
                return message;
            }
            arrived.await;
        }
    }

    /// `task.cancelling()`: the requests made and not taken back by [`uncancel`](Self::uncancel).
    pub fn cancelling(&self) -> u32 {
        self.requests.count()
    }

    /// `task.uncancel()`: takes one request back and returns how many are left. A task that
    /// handled a cancellation and carries on calls this, so that whoever counts requests
    /// (a group waiting to see whether its owner was cancelled) is not misled.
    pub fn uncancel(&mut self) -> u32 {
        let mut state = self.requests.state();
        state.count = state.count.saturating_sub(1);
        if state.count == 0 {
            state.message = None;
        }
        self.seen = self.seen.min(state.count);
        state.count
    }

    /// The message of the latest request that had one.
    pub fn message(&self) -> Option<Arc<str>> {
        self.requests.message()
    }

    /// The error that ends the task cancelled (`raise CancelledError(msg)`), with the latest
    /// request's message: return it as the task's `Err`.
    pub fn error(&self) -> TaskError {
        TaskError::Cancelled(self.message())
    }
}

pin_project_lite::pin_project! {
    /// A cooperative task's future: makes one request when its group shuts down, then goes on.
    pub(crate) struct Cooperative<F> {
        #[pin]
        future: F,
        requests: Arc<Requests>,
        // The group's token: cancelled when the group shuts down.
        group: Option<CancellationToken>,
    }
}

impl<F> Cooperative<F> {
    pub(crate) fn new(future: F, requests: Arc<Requests>, group: CancellationToken) -> Self {
        Self {
            future,
            requests,
            group: Some(group),
        }
    }
}

impl<F: Future> Future for Cooperative<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        // The group wakes its suspended tasks when it shuts down: that wake-up lands here.
        if this
            .group
            .as_ref()
            .is_some_and(|group| group.is_cancelled())
        {
            *this.group = None;
            this.requests.request(None);
        }
        this.future.poll(cx)
    }
}

/// The message of a cancellation, if `e` is one: a [`TaskError::Cancelled`] (a cancelled task
/// awaited with `?`, or a cooperative task's [`CancelRequest::error`]) or a group's error that
/// is only a cancellation. Python's `CancelledError` raised out of a task ends it cancelled,
/// not failed; so does such an `Err` here.
pub(crate) fn cancellation(e: &anyhow::Error) -> Option<Option<Arc<str>>> {
    // The error itself, not its context chain: anyhow's `downcast_ref` also finds the source
    // of a `.context(..)`, and an error raised *from* a cancellation is no cancellation.
    let outermost: &(dyn std::error::Error + 'static) = e.as_ref();
    if let Some(TaskError::Cancelled(message)) = outermost.downcast_ref::<TaskError>() {
        return Some(message.clone());
    }
    outermost
        .downcast_ref::<GroupError>()
        .filter(|group| group.cancelled && group.failures.is_empty())
        .map(|_| None)
}
