//! How a task starts: the group's default ([`Start`]), and what a spawn carries beside its
//! future (a name, a start of its own, a context, a cooperative task's requests).

use std::sync::Arc;

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
