//! The runner behind `run`, `run-all` and `sweep`: planning rows, executing them as processes,
//! showing progress.

pub mod execute;
pub mod plan;
pub mod progress;

pub use crate::process::Interrupted;
pub use execute::{
    Measured, Session, build_release, discard_if_stopped, execute, execute_scheduled, new_run_dir,
};
pub use plan::{
    Goal, Runs, Schedule, Target, extra_targets, loop_targets, python_targets, targets,
    uncapped_targets,
};
pub use progress::Progress;
