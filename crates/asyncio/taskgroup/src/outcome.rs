//! How tasks and groups end: a task's state and error, a group's failures and error, the
//! interrupt that passes through groups, a refused spawn, and the count of completed tasks.
//! The words every other module uses; it uses none of theirs.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

/// What turns a spawned future's output into its task's result: `Ok` for a plain spawn, the
/// error into the group's failure for a fallible one. One name for the bound every spawn path
/// carries.
pub(crate) trait Outcome<Output, T>:
    FnOnce(Output) -> anyhow::Result<T> + Send + 'static
{
}

impl<Output, T, O> Outcome<Output, T> for O where
    O: FnOnce(Output) -> anyhow::Result<T> + Send + 'static
{
}

/// How one task ended, or that it has not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Not ended: not yet polled, running a step, or suspended.
    Pending,
    /// Returned a value.
    Done,
    /// Returned an error or panicked: a failure of its group.
    Failed,
    /// Cancelled (by [`TaskHandle::cancel`](crate::TaskHandle::cancel) or its group's shutdown)
    /// before it finished.
    Cancelled,
}

/// Why awaiting a [`TaskHandle`](crate::TaskHandle) gave no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskError {
    /// The task was cancelled (`CancelledError`), with the message given to
    /// [`TaskHandle::cancel_with`](crate::TaskHandle::cancel_with), if any (`CancelledError(msg)`).
    Cancelled(Option<Arc<str>>),
    /// The task failed; the failure itself is its group's, in the scope's [`GroupError`].
    Failed,
    /// The value was already taken.
    Taken,
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Cancelled(None) => f.write_str("the task was cancelled"),
            TaskError::Cancelled(Some(message)) => write!(f, "the task was cancelled: {message}"),
            TaskError::Failed => f.write_str("the task failed (its failure is the group's)"),
            TaskError::Taken => f.write_str("the task's value was already taken"),
        }
    }
}

impl std::error::Error for TaskError {}

/// One task's failure, or the scope body's.
#[derive(Debug)]
pub enum Failure {
    /// An error the task (or the body) returned.
    Error(anyhow::Error),
    /// A panic, with its message.
    Panic(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(e) => write!(f, "{e:#}"),
            Failure::Panic(msg) => write!(f, "panicked: {msg}"),
        }
    }
}

/// Every failure of a group, in the order they happened (Python's `ExceptionGroup`), and
/// whether the group was cancelled (Python's `CancelledError`, when there is no failure).
///
/// A group's error holds those of the groups nested in it whose bodies returned them, so it
/// can nest as deep as the groups did. `Display` and `Debug` show ten levels of nested groups
/// (as Python's `traceback` does) and then say how many more there are; dropping one takes a
/// loop, not a drop per level. So its fields cannot be moved out of it: take them
/// (`std::mem::take(&mut error.failures)`).
pub struct GroupError {
    pub failures: Vec<Failure>,
    /// The group was cancelled: through its token, [`TaskGroup::cancel`](crate::TaskGroup::cancel),
    /// or its parent.
    pub cancelled: bool,
}

/// How many levels of nested groups `Display` and `Debug` show: Python's `traceback` shows
/// ten (its `max_group_depth`).
const SHOWN_DEPTH: usize = 10;

thread_local! {
    /// How many groups this thread is formatting, one inside the other (through `anyhow`'s
    /// formatting of a nested group's error, or an error type's of its own).
    static FORMATTING: Cell<usize> = const { Cell::new(0) };
}

impl GroupError {
    /// Formats the group with `show`, one level deeper; past [`SHOWN_DEPTH`], says how many
    /// groups are left out instead.
    fn formatted(
        &self,
        f: &mut fmt::Formatter<'_>,
        show: impl FnOnce(&Self, &mut fmt::Formatter<'_>) -> fmt::Result,
    ) -> fmt::Result {
        /// Back to the depth before, however the formatting ends.
        struct Back(usize);
        impl Drop for Back {
            fn drop(&mut self) {
                FORMATTING.set(self.0);
            }
        }
        let depth = FORMATTING.get();
        if depth >= SHOWN_DEPTH {
            let n = self.groups();
            return write!(
                f,
                "… {n} more nested group{}",
                if n == 1 { "" } else { "s" }
            );
        }
        FORMATTING.set(depth + 1);
        let _back = Back(depth);
        show(self, f)
    }

    /// This group and every group nested in it, counted in a loop.
    fn groups(&self) -> usize {
        let mut count = 0;
        let mut left = vec![self];
        while let Some(group) = left.pop() {
            count += 1;
            for failure in &group.failures {
                if let Failure::Error(e) = failure {
                    left.extend(
                        e.chain()
                            .filter_map(|cause| cause.downcast_ref::<GroupError>()),
                    );
                }
            }
        }
        count
    }

    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        if n == 0 && self.cancelled {
            return f.write_str("the TaskGroup was cancelled");
        }
        write!(
            f,
            "unhandled errors in a TaskGroup ({n} sub-exception{})",
            if n == 1 { "" } else { "s" }
        )?;
        for failure in &self.failures {
            write!(f, "; {failure}")?;
        }
        Ok(())
    }
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.formatted(f, Self::show)
    }
}

impl fmt::Debug for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.formatted(f, |group, f| {
            f.debug_struct("GroupError")
                .field("failures", &group.failures)
                .field("cancelled", &group.cancelled)
                .finish()
        })
    }
}

impl Drop for GroupError {
    fn drop(&mut self) {
        // A nested group's failures are moved here before it is dropped, so that no drop
        // reaches a group inside another: a loop as long as the nesting is deep, on one frame.
        let mut left = std::mem::take(&mut self.failures);
        while let Some(failure) = left.pop() {
            if let Failure::Error(e) = failure
                && let Ok(mut nested) = e.downcast::<GroupError>()
            {
                left.append(&mut nested.failures);
            }
        }
    }
}

impl std::error::Error for GroupError {}

/// A panic payload that passes through groups unwrapped, as `KeyboardInterrupt` and
/// `SystemExit` pass through asyncio's `TaskGroup`: raise it with
/// `std::panic::panic_any(Interrupt::new("KeyboardInterrupt"))` in a task or the body (a drop
/// guard included). The group cancels everything as for a failure, waits for every task, and
/// then the scope panics again with this payload instead of returning a [`GroupError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupt {
    /// What interrupted: `"KeyboardInterrupt"`, `"SystemExit"`, or your own word.
    pub what: String,
}

impl Interrupt {
    pub fn new(what: impl Into<String>) -> Self {
        Self { what: what.into() }
    }
}

impl fmt::Display for Interrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

/// A spawn the group refused (Python's `RuntimeError`): the future was dropped, never run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A task failed or the group was cancelled.
    ShuttingDown,
    /// The scope has returned.
    Finished,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refused::ShuttingDown => "TaskGroup is shutting down",
            Refused::Finished => "TaskGroup is finished",
        })
    }
}

impl std::error::Error for Refused {}

/// How many tasks of a group completed, and how: what [`Scope::run_counted`](crate::Scope::run_counted)
/// and [`polled::scope_counted`](crate::polled::scope_counted) return beside the body's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Completed {
    /// Finished in their eager first poll, never becoming tokio tasks.
    pub eager: u64,
    /// Ran as tokio tasks to completion.
    pub scheduled: u64,
}

impl Completed {
    /// Every task that completed.
    pub fn total(self) -> u64 {
        self.eager + self.scheduled
    }
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-text payload".to_owned())
}
