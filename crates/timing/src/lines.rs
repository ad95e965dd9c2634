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

    /// Prints one line (to stdout: as [`say`](crate::lines::say) does, a failed write ends the
    /// process).
    pub fn say(&self, line: impl Display) {
        match &self.0 {
            None => say(line),
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

/// Prints one line to stdout, as `println!` does, except that a failed write ends the process
/// as [`exit_for_stdout_error`] says instead of panicking. (The exercises' tests check it, with
/// stdout a closed pipe and `/dev/full`.)
pub fn say(line: impl Display) {
    print_stdout(format_args!("{line}\n"));
}

/// Writes `text` to stdout and flushes it, as `print!` does, except that a failed write ends the
/// process as [`exit_for_stdout_error`] says instead of panicking.
pub(crate) fn print_stdout(text: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(text).and_then(|()| out.flush()) {
        drop(out);
        exit_for_stdout_error(&e);
    }
}

/// Ends the process after a write to stdout failed with `error`: a closed pipe (EPIPE: the
/// reader, say `head`, has gone) quietly with [`BROKEN_PIPE_EXIT`]; anything else (a full
/// disk, `/dev/full`, EIO) with one line on stderr, `Error: cannot write to stdout: …`, and
/// exit code 1.
pub fn exit_for_stdout_error(error: &std::io::Error) -> ! {
    if error.kind() == ErrorKind::BrokenPipe {
        std::process::exit(BROKEN_PIPE_EXIT);
    }
    exit_with_stdout_failure(&error.to_string())
}

/// One line on stderr for a failed write to stdout that `why` describes, then exit code 1.
fn exit_with_stdout_failure(why: &str) -> ! {
    let line = error_line(format_args!("cannot write to stdout: {why}"));
    let _ = writeln!(std::io::stderr(), "{line}");
    std::process::exit(1)
}

/// The message std's `print!` panics with when stdout fails, before the error.
const PRINT_PANIC: &str = "failed printing to stdout: ";

/// Makes a `println!` that fails on a closed pipe end the process quietly with
/// [`BROKEN_PIPE_EXIT`]: no panic message, no error lines, whichever thread printed.
///
/// `println!` panics on EPIPE (Rust ignores SIGPIPE, so the write fails rather than killing the
/// process); this hook recognizes that one panic and exits before it unwinds. Every other panic
/// goes to the hook that was installed before.
pub fn exit_quietly_on_broken_pipe() {
    install_stdout_hook(false);
}

/// [`exit_quietly_on_broken_pipe`], and a `println!` that fails otherwise (a full disk,
/// `/dev/full`) ends the process with one line on stderr and exit code 1, as
/// [`exit_for_stdout_error`] does, instead of a panic's message and exit code 101. The
/// exercises' harness installs it.
pub fn exit_on_stdout_error() {
    install_stdout_hook(true);
}

fn install_stdout_hook(every_error: bool) {
    let earlier = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload_as_str().unwrap_or("");
        if let Some(why) = message.strip_prefix(PRINT_PANIC) {
            if why.contains("Broken pipe") {
                std::process::exit(BROKEN_PIPE_EXIT);
            }
            if every_error {
                exit_with_stdout_failure(why);
            }
        }
        earlier(info);
    }));
}

/// The one line the harness prints for a failed run: `Error: ` and the error, its control
/// characters escaped ([`visible`](crate::cli::visible)): an error may quote a path or a value
/// the user gave.
pub(crate) fn error_line(error: std::fmt::Arguments<'_>) -> String {
    format!("Error: {}", crate::cli::visible(&error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_line_is_one_line_whatever_it_quotes() {
        let e = anyhow::anyhow!("it exists and is not a regular file")
            .context("writing /tmp/a\nb\u{1b}[2J/r.json");
        assert_eq!(
            error_line(format_args!("{e:#}")),
            "Error: writing /tmp/a\\nb\\u{1b}[2J/r.json: it exists and is not a regular file"
        );
    }
}
