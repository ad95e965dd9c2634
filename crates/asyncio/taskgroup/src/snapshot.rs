//! What a group shows of itself for debugging: its [`Snapshot`], one [`TaskInfo`] a task.

use std::fmt;

use crate::current::TaskId;
use crate::options::Start;
use crate::outcome::TaskState;

/// A group's live tasks, for debugging (like `python -m asyncio pstree`). `Display` prints one
/// line for the group and one per task that has suspended at least once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// How the group starts its tasks by default.
    pub start: Start,
    /// Scheduled tasks not yet ended, and the nested groups
    /// ([`Scope::parent`](crate::Scope::parent)) and eager steps of
    /// [`GroupHandle`](crate::GroupHandle) spawns under way, which are not listed in `tasks` (a
    /// nested group has a snapshot of its own).
    pub live: usize,
    /// A task failed or the group was cancelled.
    pub shutting_down: bool,
    /// The scope has returned.
    pub finished: bool,
    /// Every live task that has suspended at least once, by [`TaskId`] (on each thread, ids
    /// are given as tasks are scheduled, so a task spawned from a child's eager step can come
    /// before its parent).
    pub tasks: Vec<TaskInfo>,
}

/// One task in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    pub id: TaskId,
    pub name: Option<String>,
    pub state: TaskState,
    /// [`TaskHandle::cancel`](crate::TaskHandle::cancel) was called; the task has not yet seen it.
    pub cancel_requested: bool,
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.finished {
            "finished"
        } else if self.shutting_down {
            "shutting down"
        } else {
            "running"
        };
        write!(
            f,
            "TaskGroup ({:?}, {state}): {} live task{}",
            self.start,
            self.live,
            if self.live == 1 { "" } else { "s" }
        )?;
        for task in &self.tasks {
            write!(f, "\n  {}", task.id)?;
            if let Some(name) = &task.name {
                write!(f, " '{name}'")?;
            }
            let state = match task.state {
                TaskState::Pending if task.cancel_requested => "suspended, cancel requested",
                TaskState::Pending => "suspended",
                TaskState::Done => "done",
                TaskState::Failed => "failed",
                TaskState::Cancelled => "cancelled",
            };
            write!(f, " {state}")?;
        }
        Ok(())
    }
}
