//! Where an exercise prints: stdout, or a list a test reads back.

use std::fmt::Display;
use std::sync::{Arc, Mutex, PoisonError};

/// An exercise's output lines: printed to stdout, or recorded for a test.
///
/// Cloning shares the destination, so tasks of one exercise can print into one record.
///
/// ```
/// let out = timing::Lines::recorded();
/// out.say("Before running task group!");
/// out.clone().say(format_args!("task1: {}", 2));
/// assert_eq!(out.lines(), ["Before running task group!", "task1: 2"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Lines(Option<Arc<Mutex<Vec<String>>>>);

impl Lines {
    /// Lines go to stdout, as `print()` does.
    pub fn stdout() -> Self {
        Self(None)
    }

    /// Lines are kept, for [`lines`](Lines::lines).
    pub fn recorded() -> Self {
        Self(Some(Arc::default()))
    }

    /// Prints one line.
    pub fn say(&self, line: impl Display) {
        match &self.0 {
            None => println!("{line}"),
            Some(record) => record
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line.to_string()),
        }
    }

    /// The recorded lines so far (none when printing to stdout).
    pub fn lines(&self) -> Vec<String> {
        match &self.0 {
            None => Vec::new(),
            Some(record) => record
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }
}
