//! How a task starts: the group's default ([`Start`]), what a spawn carries beside its
//! future (a name, a start of its own, a context, a cooperative task's requests), and the
//! eager step's one poll in that context ([`first_poll`]).

use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;

use contextvars::SharedContext;

use crate::cancel::Requests;
use crate::listing::Name;

/// How a group starts its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// As tokio tasks start: scheduled, first polled by the runtime.
    Scheduled,
    /// As with `asyncio.eager_task_factory`: polled once where they are spawned.
    Eager,
}

/// What the builder was told beyond the future.
#[derive(Default)]
pub(crate) struct Builder {
    pub(crate) name: Option<Name>,
    pub(crate) start: Option<Start>,
    /// The context given, which the task runs in itself (not in a copy).
    pub(crate) context: Option<SharedContext>,
    pub(crate) cooperative: Option<Arc<Requests>>,
}

/// What a task is spawned with beyond its future.
pub(crate) struct Options {
    pub(crate) name: Option<Name>,
    pub(crate) start: Start,
    pub(crate) context: Option<contextvars::Context>,
    /// A cooperative task's requests (see [`CancelRequest`](crate::CancelRequest)).
    pub(crate) cooperative: Option<Arc<Requests>>,
}

impl Builder {
    /// The task's start (the group's unless given) and context: the one given, or a copy of
    /// the spawner's (`create_task` copies the current context), which is a share of it until
    /// either side sets a variable.
    pub(crate) fn resolved(self, start: Start) -> Options {
        Options {
            name: self.name,
            cooperative: self.cooperative,
            start: self.start.unwrap_or(start),
            // A given context is entered by the future itself (see `TaskBuilder::spawn_with`).
            context: match self.context {
                Some(_) => None,
                None => contextvars::Context::current(),
            },
        }
    }
}

/// The eager step's one poll, in `context`: with a waker that does nothing, its panic caught.
/// A no-op waker is sound here: a future that returns `Pending` is always polled again once
/// scheduled, and only the latest poll's waker must be woken.
#[inline(always)]
pub(crate) fn first_poll<F: Future>(
    context: &mut impl StepContext,
) -> impl FnOnce(Pin<&mut F>) -> thread::Result<Poll<F::Output>> {
    |future| {
        let mut cx = Context::from_waker(Waker::noop());
        panic::catch_unwind(AssertUnwindSafe(|| context.run(|| future.poll(&mut cx))))
    }
}

/// Where an eager step runs: in no context at all, or in a copy of the spawner's.
pub(crate) trait StepContext {
    fn run<R>(&mut self, step: impl FnOnce() -> R) -> R;
    fn into_option(self) -> Option<contextvars::Context>;
}

/// The spawner runs in no context: neither does the step (a polled group's, or a spawner that
/// never entered one, whose step then has no context code at all).
pub(crate) struct NoContext;

impl StepContext for NoContext {
    #[inline(always)]
    fn run<R>(&mut self, step: impl FnOnce() -> R) -> R {
        step()
    }
    fn into_option(self) -> Option<contextvars::Context> {
        None
    }
}

/// A step in the spawner's context, if it has one.
impl StepContext for Option<contextvars::Context> {
    fn run<R>(&mut self, step: impl FnOnce() -> R) -> R {
        match self {
            None => step(),
            Some(context) => context.run(step),
        }
    }
    fn into_option(self) -> Option<contextvars::Context> {
        self
    }
}

impl StepContext for contextvars::Context {
    fn run<R>(&mut self, step: impl FnOnce() -> R) -> R {
        contextvars::Context::run(self, step)
    }
    fn into_option(self) -> Option<contextvars::Context> {
        Some(self)
    }
}
