//! Where an exercise prints: stdout, or a list a test reads back.

use std::fmt::Display;
use std::io::{ErrorKind, Write};
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
            None => print_stdout(format_args!("{line}\n")),
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

/// The exit code of a run whose stdout was closed under it: 128 + SIGPIPE, what a shell reports
/// for a C tool such as `seq` killed by the signal in `seq 9 | head -c0`.
pub const BROKEN_PIPE_EXIT: i32 = 141;

/// Writes `text` to stdout and flushes it, as `print!` does, except that a closed pipe (EPIPE:
/// the reader, say `head`, has gone) ends the process quietly with [`BROKEN_PIPE_EXIT`] instead
/// of panicking. Any other failure panics as `print!` does.
pub(crate) fn print_stdout(text: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(text).and_then(|()| out.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(BROKEN_PIPE_EXIT);
        }
        panic!("failed printing to stdout: {e}");
    }
}

/// Makes a `println!` that fails on a closed pipe end the process quietly with
/// [`BROKEN_PIPE_EXIT`]: no panic message, no error lines, whichever thread printed.
///
/// `println!` panics on EPIPE (Rust ignores SIGPIPE, so the write fails rather than killing the
/// process); this hook recognizes that one panic and exits before it unwinds. Every other panic
/// goes to the hook that was installed before.
pub fn exit_quietly_on_broken_pipe() {
    let earlier = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload_as_str().unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(BROKEN_PIPE_EXIT);
        }
        earlier(info);
    }));
}
