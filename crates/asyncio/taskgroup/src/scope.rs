//! The scope's lifecycle (`async with TaskGroup() as tg:`): the group made and joined to its
//! parent, the body run until it ends or is cancelled, the wait for every task, and what the
//! scope returns.

use std::any::Any;
use std::future::poll_fn;
use std::panic::{self, AssertUnwindSafe};
use std::pin::{Pin, pin};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll};

use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::abandon::Abandon;
use crate::cancel::{Requests, cancellation};
use crate::options::Start;
use crate::outcome::{Completed, Failure, GroupError, Refused};
use crate::place::Places;
use crate::shared::{Live, Shared};
use crate::spawn::{GroupHandle, TaskGroup};

/// Runs `body` with a new group and returns once every task of the group has ended
/// (`async with asyncio.TaskGroup() as tg: body`). The same as `Scope::new(start).run(body)`.
///
/// Returns the body's value, or every failure.
///
/// # Panics
///
/// Once every task has ended, with the [`Interrupt`](crate::Interrupt) a task or the body
/// panicked with, if one did: `KeyboardInterrupt` out of `async with`.
pub async fn scope<T, B>(start: Start, body: B) -> Result<T, GroupError>
where
    B: AsyncFnOnce(&mut TaskGroup) -> anyhow::Result<T>,
{
    Scope::new(start).run(body).await
}

/// A task group to run, with its options: how it starts tasks, what cancels it, and the group
/// it is nested in.
#[derive(Debug)]
#[must_use = "a scope does nothing until it is run"]
pub struct Scope {
    start: Start,
    token: Option<CancellationToken>,
    parent: Option<GroupHandle>,
    cooperative: bool,
}

impl Scope {
    /// A group that starts its tasks as `start` says.
    pub fn new(start: Start) -> Self {
        Self {
            start,
            token: None,
            parent: None,
            cooperative: false,
        }
    }

    /// The body is cancelled cooperatively, as an asyncio task is: it is not dropped when the group
    /// shuts down (a task failed, [`TaskGroup::cancel`], or the parent's shutdown) or when the
    /// token given to [`cancel_on`](Self::cancel_on) is cancelled, but each of these makes one
    /// request in [`TaskGroup::cancel_request`], and the body decides. The tasks keep running
    /// meanwhile, as in asyncio, until the body returns: then, if it returned an error or a
    /// cancellation ([`CancelRequest::error`](crate::CancelRequest::error)), they are cancelled.
    ///
    /// A body that handles its owner's cancellation and returns `Ok` ends the scope as usual:
    /// the scope waits for its tasks and returns the body's value.
    pub fn cooperative(mut self) -> Self {
        self.cooperative = true;
        self
    }

    /// Cancels the group when `token` is cancelled (the group's own token is a child of it):
    /// the body is dropped, every task is cancelled, and the scope returns, once every task
    /// has ended, a [`GroupError`] whose `cancelled` is set. This is the way to cancel the
    /// owner of a group and know that every child has run its cancellation when the owner's
    /// wait returns.
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.token = Some(token);
        self
    }

    /// Nests this group in `parent` (an `async with TaskGroup()` inside another group's body
    /// or task): it is cancelled with the parent (at once, its body never run, if the parent
    /// is already shutting down when it starts), the parent counts it as one of its tasks
    /// until its own tasks have all ended (even if this scope is dropped), and failures that
    /// this scope could not return, because it was dropped, become one failure of the parent.
    pub fn parent(mut self, parent: &GroupHandle) -> Self {
        self.parent = Some(parent.clone());
        self
    }

    /// Runs `body` with the group and returns once every task of it has ended.
    ///
    /// Returns the body's value; or, if a task or the body failed or the group was cancelled,
    /// every failure.
    ///
    /// # Panics
    ///
    /// Once every task has ended, with the [`Interrupt`](crate::Interrupt) a task or the body
    /// panicked with, if one did: `KeyboardInterrupt` out of `async with`.
    pub async fn run<T, B>(self, body: B) -> Result<T, GroupError>
    where
        B: AsyncFnOnce(&mut TaskGroup) -> anyhow::Result<T>,
    {
        self.run_counted(body).await.map(|(value, _)| value)
    }

    /// [`run`](Self::run), and also how many tasks completed and how ([`Completed`]): what a
    /// benchmark checks its run by, and what asyncio has no counterpart of.
    ///
    /// # Panics
    ///
    /// As [`run`](Self::run).
    pub async fn run_counted<T, B>(self, body: B) -> Result<(T, Completed), GroupError>
    where
        B: AsyncFnOnce(&mut TaskGroup) -> anyhow::Result<T>,
    {
        // Made and taken apart out of line: the scope's own future stays small, which keeps
        // the eager spawns of its body in registers.
        let start = self.start;
        let shared = self.group()?;
        let mut abandon = Abandon(Some(Arc::clone(&shared)));
        let mut tg = TaskGroup {
            handle: GroupHandle(Arc::clone(&shared)),
            start,
            eager_done: 0,
            scheduled: 0,
            places: Places::default(),
        };
        let requests = shared.body.get().map(Arc::as_ref);
        let value = run_body(&shared, body(&mut tg), requests).await;
        // A cancellation of the owner that the cooperative body saw and handled is spent.
        let owner_spent = requests.is_some() && shared.also_cancelled();
        wait_ended(&shared, owner_spent).await;
        abandon.0 = None; // returned: not abandoned
        finish(&shared, value, &tg)
    }

    /// The group this scope runs: joined to its parent, with its tokens, and the requests to
    /// cancel its body if it is cooperative.
    #[inline(never)]
    fn group(self) -> Result<Arc<Shared>, GroupError> {
        let (token, parent) = match &self.parent {
            Some(parent) => {
                let live = Live::join(&parent.0).map_err(|refused| match refused {
                    // Cancelled with its parent before its body runs: asyncio's parent task
                    // gets `CancelledError` at its next await, which is no failure of the
                    // parent's, and a group cancelled before its body starts never runs it.
                    Refused::ShuttingDown => GroupError {
                        failures: Vec::new(),
                        cancelled: true,
                    },
                    Refused::Finished => GroupError {
                        failures: vec![Failure::Error(anyhow::anyhow!(
                            "a nested TaskGroup cannot start: its parent {refused}"
                        ))],
                        cancelled: false,
                    },
                })?;
                (parent.0.token.child_token(), Some(live))
            }
            None => (CancellationToken::new(), None),
        };
        // A group has one token of its own; with both a parent and a given token, it is the
        // parent's child and the given one is watched beside it.
        // A cooperative body sees the given token's cancellation as a request, and the tasks
        // go on: the group's token must not be its child then either.
        let (token, also) = match self.token {
            Some(given) if parent.is_some() || self.cooperative => (token, Some(given)),
            Some(given) => (given.child_token(), None),
            None => (token, None),
        };
        let shared = Shared::registered(Shared::new(self.start, token, also, parent));
        if self.cooperative {
            let _ = shared.body.set(Arc::default());
        }
        Ok(shared)
    }
}

/// What a scope returns once every task has ended: the body's value and the counts, or the
/// failures; or the interrupt, raised again.
#[inline(never)]
fn finish<T>(
    shared: &Shared,
    value: Option<T>,
    tg: &TaskGroup,
) -> Result<(T, Completed), GroupError> {
    // Ours to return: taken before the parent is let go, which would take them otherwise.
    let failures = std::mem::take(
        &mut *shared
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    drop(shared.release_parent());
    let interrupt = shared
        .interrupt
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(interrupt) = interrupt {
        // `KeyboardInterrupt` out of `async with`: every task has ended, and the
        // interrupt goes on unwrapped.
        panic::resume_unwind(Box::new(interrupt));
    }
    let cancelled = shared.cancelled.load(Ordering::Acquire);
    match value {
        Some(value) if failures.is_empty() && !cancelled => Ok((
            value,
            Completed {
                eager: tg.eager_done + shared.eager_done.load(Ordering::Relaxed),
                scheduled: tg.scheduled + shared.scheduled.load(Ordering::Relaxed)
                    - shared.unfinished.load(Ordering::Relaxed),
            },
        )),
        _ => Err(GroupError {
            failures,
            cancelled,
        }),
    }
}

/// Runs the body until it ends, or until the group shuts down or its owner is cancelled: then
/// a body is dropped (cancelled), and a cooperative one (`requests`) gets one request for each
/// and goes on until it returns.
async fn run_body<T>(
    shared: &Shared,
    body: impl Future<Output = anyhow::Result<T>>,
    requests: Option<&Requests>,
) -> Option<T> {
    let mut body = pin!(Some(body));
    let mut cancelled = pin!(shared.cancelled());
    // A cooperative body's two sources of requests, each seen once.
    let mut shutdown = pin!(Some(shared.token.cancelled()));
    let mut owner = pin!(shared.also.as_ref().map(CancellationToken::cancelled));
    let mut started = false;
    let ended = poll_fn(|cx| {
        // A group cancelled before its body starts never runs it, and a body the group's
        // shutdown cancels takes no further step (asyncio raises `CancelledError` at its
        // current await): a wake-up the shutdown itself caused (a cancelled child's handle,
        // a gather) must not let it run on. A cooperative body decides for itself.
        if (requests.is_none() || !std::mem::replace(&mut started, true))
            && cancelled.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(None);
        }
        if let Some(requests) = requests {
            // Before the body's poll, so that it sees the requests in this very poll. The
            // group's token is also cancelled from outside (its `token()`, a parent's).
            if let Some(shut) = shutdown.as_mut().as_pin_mut()
                && shut.poll(cx).is_ready()
            {
                shutdown.set(None);
                shared.request_body();
            }
            request_once(owner.as_mut(), requests, cx);
        }
        if let Some(running) = body.as_mut().as_pin_mut() {
            match panic::catch_unwind(AssertUnwindSafe(|| running.poll(cx))) {
                Ok(Poll::Pending) => {}
                Ok(Poll::Ready(ended)) => {
                    body.set(None);
                    return Poll::Ready(Some(ended.map_err(BodyError::Error)));
                }
                // A panic in the body is one of the group's failures, as an exception raised
                // in the body of `async with` is.
                Err(payload) => {
                    return Poll::Ready(Some(Err(BodyError::Panic(payload))));
                }
            }
        }
        if requests.is_some() {
            return Poll::Pending; // the body decides when it ends
        }
        // The token is cancelled at every shutdown: a failure, `cancel()`, or from outside.
        cancelled.as_mut().poll(cx).map(|()| None)
    })
    .await;
    match ended {
        Some(Ok(value)) => return Some(value),
        // A body that returns a cancellation (a nested group's `GroupError` with no failure:
        // Python's `CancelledError`) is cancelled, as `__aexit__` never counts a
        // `CancelledError` among the errors: it is swallowed if the group asked for it (it is
        // shutting down), and the group ends cancelled if not.
        Some(Err(BodyError::Error(e))) if cancellation(&e).is_some() => shared.cancel(),
        // Counted with the tasks' failures, as `__aexit__` adds the body's exception.
        Some(Err(BodyError::Error(e))) => shared.fail(Failure::Error(e)),
        Some(Err(BodyError::Panic(payload))) => shared.panicked(&*payload),
        // Cancelled from outside: marks it so, unless a failure came first.
        None => shared.cancel(),
    }
    // A body that is cancelled is dropped here; a panic while it is dropped (a failing
    // cleanup, an exception raised in `finally`) is a failure too.
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| body.set(None))) {
        shared.panicked(&*payload);
    }
    None
}

/// How a body ended without a value.
enum BodyError {
    Error(anyhow::Error),
    Panic(Box<dyn Any + Send>),
}

/// Makes one request when `source` (a token's cancellation) completes, then forgets it.
fn request_once(
    mut source: Pin<&mut Option<WaitForCancellationFuture<'_>>>,
    requests: &Requests,
    cx: &mut Context<'_>,
) {
    if let Some(cancelled) = source.as_mut().as_pin_mut()
        && cancelled.poll(cx).is_ready()
    {
        source.set(None);
        requests.request(None);
    }
}

/// Waits until no task is live, then closes the group to new tasks. A cancellation of the
/// owner cancels the tasks still running, unless the body has seen it (`owner_spent`).
async fn wait_ended(shared: &Shared, owner_spent: bool) {
    loop {
        if shared.state.finish() {
            return;
        }
        // `notify_one` keeps a permit when nobody waits, so the last task's wake-up is not
        // lost between `finish`'s look and the await. Cancelling the token while we wait (from
        // outside) cancels the tasks still running.
        let ended = shared.ended.notified();
        if shared.is_shutting_down() {
            ended.await;
        } else if owner_spent {
            tokio::select! {
                biased;
                () = ended => {}
                () = shared.token.cancelled() => shared.cancel(),
            }
        } else {
            tokio::select! {
                biased;
                () = ended => {}
                () = shared.cancelled() => shared.cancel(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handle::TaskHandle;
    use std::sync::Mutex;
    use tokio::sync::Notify;

    /// Waits (on the real clock, up to ten seconds) until only `kept` holds its group: the
    /// last task to end lets go of the live tasks' reference just after the count reaches
    /// zero, on its own thread, so the scope may return a moment before.
    fn only_this_holds_the_group(kept: &GroupHandle) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while Arc::strong_count(&kept.0) != 1 {
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::yield_now();
        }
        true
    }

    #[tokio::test]
    async fn the_last_task_to_end_lets_go_of_the_group() {
        let (kept, done) = Scope::new(Start::Scheduled)
            .run_counted(async |tg: &mut TaskGroup| {
                for i in 0..100 {
                    tg.spawn(async move {
                        if i % 2 == 0 {
                            tokio::task::yield_now().await;
                        }
                    })?;
                }
                // The body, its group and its tasks: more than this handle holds the group.
                let kept = tg.handle();
                assert!(Arc::strong_count(&kept.0) > 1);
                Ok(kept)
            })
            .await
            .unwrap();
        assert_eq!(done.total(), 100);
        assert!(only_this_holds_the_group(&kept), "a reference was kept");
    }

    /// Each task ends before the next is spawned, on either of two threads: the live count
    /// rises from zero and falls back to it a hundred times, each time taking and letting go
    /// of the live tasks' reference.
    fn two_workers() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
    }

    #[test]
    fn a_count_that_returns_to_zero_again_and_again_keeps_no_reference_on_the_multi_thread_runtime()
    {
        let (kept, done) = two_workers()
            .block_on(
                Scope::new(Start::Scheduled).run_counted(async |tg: &mut TaskGroup| {
                    for i in 0..100u32 {
                        let task = tg.spawn(async move { i })?;
                        assert_eq!(task.await, Ok(i));
                    }
                    Ok(tg.handle())
                }),
            )
            .unwrap();
        assert_eq!(done.total(), 100);
        assert!(only_this_holds_the_group(&kept), "a reference was kept");
    }

    /// Handles that outlive their scope keep their group readable; the last of them lets it go.
    #[tokio::test]
    async fn handles_kept_past_the_scope_let_go_of_the_group_when_the_last_is_dropped() {
        let (kept, handles) = scope(Start::Scheduled, async |tg: &mut TaskGroup| {
            let handles = (0..3u32)
                .map(|i| tg.spawn(async move { i }))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((tg.handle(), handles))
        })
        .await
        .unwrap();
        // Every task has ended; their handles still count, so the group is still held.
        assert!(Arc::strong_count(&kept.0) > 1);
        let mut handles = handles.into_iter();
        assert_eq!(handles.next().unwrap().result(), Some(0));
        let rest: Vec<_> = handles.collect();
        assert!(rest.iter().all(TaskHandle::done));
        assert!(Arc::strong_count(&kept.0) > 1, "two handles are left");
        drop(rest);
        assert!(only_this_holds_the_group(&kept), "a reference was kept");
    }

    /// Tasks end on two worker threads while the thread that spawned them drops their handles:
    /// the last task to end and the last handle to go race to let go of the group.
    #[test]
    fn the_last_task_and_the_last_handle_race_to_let_go_on_the_multi_thread_runtime() {
        let rt = two_workers();
        for _ in 0..20 {
            let (kept, done) = rt
                .block_on(
                    Scope::new(Start::Scheduled).run_counted(async |tg: &mut TaskGroup| {
                        let handles = (0..20)
                            .map(|_| tg.spawn(tokio::task::yield_now()))
                            .collect::<Result<Vec<_>, _>>()?;
                        let kept = tg.handle();
                        std::thread::spawn(move || drop(handles));
                        Ok(kept)
                    }),
                )
                .unwrap();
            assert_eq!(done.total(), 20);
            assert!(only_this_holds_the_group(&kept), "a reference was kept");
        }
    }

    /// The scope's future is dropped while its tasks wait: its group goes on until the last
    /// task has ended, and that task lets go of it.
    #[tokio::test]
    async fn an_abandoned_group_is_let_go_by_its_last_task() {
        let kept = Arc::new(Mutex::new(None));
        let release = Arc::new(Notify::new());
        let run = scope(Start::Scheduled, {
            let (kept, release) = (Arc::clone(&kept), Arc::clone(&release));
            async move |tg: &mut TaskGroup| {
                *kept.lock().unwrap() = Some(tg.handle());
                for _ in 0..3 {
                    let release = Arc::clone(&release);
                    tg.spawn(async move { release.notified().await })?;
                }
                std::future::pending::<()>().await;
                Ok(())
            }
        });
        // The body never returns: the timeout drops the scope with its tasks still waiting.
        let abandoned = tokio::time::timeout(std::time::Duration::from_millis(10), run).await;
        assert!(abandoned.is_err());
        // Dropping the scope shut the group down, which cancels the tasks at once.
        tokio::task::yield_now().await;
        let kept = kept.lock().unwrap().take().unwrap();
        assert!(kept.0.is_shutting_down());
        assert!(only_this_holds_the_group(&kept), "a reference was kept");
    }
}
