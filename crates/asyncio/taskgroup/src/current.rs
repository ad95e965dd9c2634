//! `asyncio.current_task()` for the tasks of a group, across the eager step.

use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// The identity of one task of a group, as `asyncio.current_task()` returns it: the same
/// during its eager step, inside the spawning task, and afterwards as a tokio task of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(NonZeroU64);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Task-{}", self.0)
    }
}

/// The first id of the next block a thread takes.
static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
/// How many ids a thread takes from [`NEXT_BLOCK`] at a time.
const BLOCK: u64 = 1024;

thread_local! {
    /// This thread's ids still to give: the next one, and the end of its block.
    static IDS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

impl TaskId {
    /// A new id, unique in the process, from this thread's block: a scheduled task costs no
    /// shared counter (one atomic add per 1,024 ids). On one thread, ids are given in order.
    pub(crate) fn next() -> Self {
        IDS.with(|ids| {
            let (mut next, mut end) = ids.get();
            if next == end {
                next = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed);
                end = next + BLOCK;
            }
            ids.set((next + 1, end));
            Self(NonZeroU64::new(next).unwrap_or(NonZeroU64::MIN))
        })
    }

    /// The number in `Task-N`.
    pub fn get(self) -> u64 {
        self.0.get()
    }

    /// The id whose number is `raw`; `None` for 0.
    pub(crate) fn from_raw(raw: u64) -> Option<Self> {
        NonZeroU64::new(raw).map(Self)
    }
}

/// The group task this thread is running a step of: [`NONE`], [`UNNAMED`] (an eager step
/// whose id nobody has asked for yet: a task that nobody asks about costs no shared counter),
/// or a task's id.
pub(crate) type Current = u64;
pub(crate) const NONE: Current = 0;
pub(crate) const UNNAMED: Current = u64::MAX;

impl TaskId {
    pub(crate) fn current(self) -> Current {
        self.0.get()
    }
}

thread_local! {
    static CURRENT: Cell<Current> = const { Cell::new(NONE) };
}

/// `asyncio.current_task()` called where no runtime runs: asyncio's `RuntimeError: no running
/// event loop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRunningLoop;

impl fmt::Display for NoRunningLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no running event loop: current_task() was called outside any tokio runtime")
    }
}

impl std::error::Error for NoRunningLoop {}

/// The task of a group that is running now: `Ok(None)` outside every group task, and
/// [`NoRunningLoop`] outside every tokio runtime too (asyncio's `RuntimeError`).
///
/// This is `asyncio.current_task()` for the tasks of a [`TaskGroup`](crate::TaskGroup): during
/// a task's eager step it is already the new task (as in asyncio, where the eager step runs as
/// the new task), and it stays the same when the task goes on as a tokio task.
///
/// `tokio::task::try_id()` is the *tokio* task's id: during an eager step that is the
/// spawning task's (the step runs inside it), afterwards the task's own. Code in a scope's
/// body sees the task the body runs in: `None` unless that is itself a task of a group.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use taskgroup::{Start, TaskGroup, current_task, scope};
/// let task = scope(Start::Eager, async |tg: &mut TaskGroup| {
///     let t = tg.spawn(async {
///         let first = current_task(); // the eager step, inside the body's task
///         tokio::task::yield_now().await;
///         (first, current_task()) // now a tokio task of its own
///     })?;
///     Ok(t)
/// })
/// .await?;
/// let task_id = task.id();
/// let (first, later) = task.result().unwrap();
/// assert_eq!(first, Ok(Some(task_id)));
/// assert_eq!(first, later);
/// assert_eq!(current_task(), Ok(None)); // not inside a group's task
/// # anyhow::Ok(()) }).unwrap();
/// assert!(taskgroup::current_task().is_err()); // not inside a runtime
/// ```
pub fn current_task() -> Result<Option<TaskId>, NoRunningLoop> {
    let task = CURRENT.with(|current| match current.get() {
        NONE => None,
        UNNAMED => {
            let id = TaskId::next();
            current.set(id.current());
            Some(id)
        }
        id => NonZeroU64::new(id).map(TaskId),
    });
    match task {
        Some(task) => Ok(Some(task)),
        // Only outside every group task is the runtime looked for.
        None if tokio::runtime::Handle::try_current().is_ok() => Ok(None),
        None => Err(NoRunningLoop),
    }
}

/// Makes `task` current for the length of one step; returns what to restore.
#[inline(always)]
pub(crate) fn enter(task: Current) -> Current {
    CURRENT.with(|current| current.replace(task))
}

/// Ends a step begun with [`enter`] and returns what the step left current: what it entered,
/// or, where it entered [`UNNAMED`] and the task asked who it is, the id it was given.
#[inline(always)]
pub(crate) fn swap_back(previous: Current) -> Current {
    CURRENT.with(|current| current.replace(previous))
}

/// Ends a step begun with [`enter`]: restores `previous`, and returns the id the step's task
/// was given, if it was given one (which a task that goes on keeps).
#[inline(always)]
pub(crate) fn leave(previous: Current) -> Option<TaskId> {
    match swap_back(previous) {
        NONE | UNNAMED => None,
        id => NonZeroU64::new(id).map(TaskId),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_across_threads_and_in_order_on_each() {
        // More ids per thread than one block holds, so that every thread takes several.
        let per_thread: Vec<Vec<TaskId>> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..3 * BLOCK).map(|_| TaskId::next()).collect()))
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        for ids in &per_thread {
            assert!(
                ids.windows(2).all(|w| w[0] < w[1]),
                "in order on one thread"
            );
        }
        let all: HashSet<TaskId> = per_thread.iter().flatten().copied().collect();
        assert_eq!(all.len(), 4 * 3 * BLOCK as usize, "no id given twice");
    }
}
