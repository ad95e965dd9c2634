//! Helpers for the exercises' integration tests, which run the built binaries.

use std::path::Path;
use std::process::Command;

/// What a finished exercise process left behind.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: Vec<String>,
    pub stderr: String,
}

/// Runs `exe` with `args` to completion.
pub fn run(exe: impl AsRef<Path>, args: &[&str]) -> Ran {
    let out = Command::new(exe.as_ref())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.as_ref().display()));
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The seconds figure in `line`, which must read `prefix` + a plain decimal float + `suffix`.
///
/// ```
/// assert_eq!(timing::testing::seconds_in("It took 0.25s", "It took ", "s"), 0.25);
/// ```
pub fn seconds_in(line: &str, prefix: &str, suffix: &str) -> f64 {
    let figure = line
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .unwrap_or_else(|| panic!("{line:?} is not {prefix:?} <seconds> {suffix:?}"));
    assert!(
        !figure.is_empty() && figure.chars().all(|c| c.is_ascii_digit() || c == '.'),
        "{figure:?} is not a plain decimal float"
    );
    figure.parse().unwrap_or_else(|e| panic!("{figure:?}: {e}"))
}

/// Checks that a run was refused as bad usage: exit code 2, nothing on stdout, and one line on
/// stderr starting with `line_start`; `extra` must appear in it too.
pub fn assert_usage_error(ran: &Ran, line_start: &str, extra: &str) {
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stdout.is_empty(), "{ran:?}");
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {ran:?}");
    assert!(lines[0].starts_with(line_start), "{ran:?}");
    assert!(lines[0].contains(extra), "{ran:?}");
    assert!(!ran.stderr.contains("panicked"), "{ran:?}");
}
