//! Helpers for the exercises' integration tests, which run the built binaries.

use std::path::Path;
use std::process::{Command, Stdio};

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
    Ran::from(out)
}

impl From<std::process::Output> for Ran {
    /// What a finished process gave: its code, its stdout as lines, its stderr as text.
    fn from(out: std::process::Output) -> Self {
        Ran {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .collect(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `exe` with `args` to completion, its stdout a pipe whose read end is already closed (as
/// `exe | head -c0` leaves it once `head` has exited): every write to stdout fails with EPIPE.
pub fn run_into_closed_pipe(exe: impl AsRef<Path>, args: &[&str]) -> Ran {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = Command::new(exe.as_ref())
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.as_ref().display()));
    Ran {
        code: out.status.code(),
        stdout: Vec::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Checks that a run whose stdout was a closed pipe ([`run_into_closed_pipe`]) ended quietly:
/// exit code 141 (128 + SIGPIPE, what a shell reports for `seq 9 | head -c0`'s `seq`) and
/// nothing on stderr, no panic message in particular.
pub fn assert_quiet_on_broken_pipe(ran: &Ran) {
    assert!(ran.stderr.is_empty(), "nothing on stderr: {ran:?}");
    assert_eq!(ran.code, Some(crate::lines::BROKEN_PIPE_EXIT), "{ran:?}");
}

/// Runs `exe` with `args` to completion, its stdout `/dev/full`: every write to stdout fails
/// with ENOSPC, as on a full disk.
pub fn run_into_full_device(exe: impl AsRef<Path>, args: &[&str]) -> Ran {
    let full = std::fs::File::create("/dev/full").expect("/dev/full, on Linux");
    let out = Command::new(exe.as_ref())
        .args(args)
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.as_ref().display()));
    Ran::from(out)
}

/// Checks that a run failed as the exercises fail after they started: exit code 1, nothing on
/// stdout, and one line on stderr, `Error: ` then text that contains `extra`; no panic.
pub fn assert_one_error_line(ran: &Ran, extra: &str) {
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stdout.is_empty(), "{ran:?}");
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {ran:?}");
    assert!(lines[0].starts_with("Error: "), "{ran:?}");
    assert!(lines[0].contains(extra), "{ran:?}");
    assert!(!ran.stderr.contains("panicked"), "{ran:?}");
}

/// Checks that `exe` run with `args`, and asked for `--help`, each end with one error line and
/// exit code 1 when their stdout is `/dev/full` ([`assert_one_error_line`]).
pub fn assert_full_stdout_is_one_error_line(exe: impl AsRef<Path>, args: &[&str]) {
    assert_one_error_line(
        &run_into_full_device(&exe, args),
        "cannot write to stdout: No space left on device",
    );
    assert_one_error_line(
        &run_into_full_device(&exe, &["--help"]),
        "cannot write to stdout",
    );
}

/// Runs `exe` with `args` and the environment variables `env` where it can start at most
/// `new_threads` threads: under util-linux's `prlimit --nproc` (the limit counts the user's
/// threads, its own first one included). The limit does not bind root, so as root the run also
/// goes through `setpriv` to user and group `nobody` (65534), which then needs `exe` readable
/// and executable by everyone. A run that has not ended after 60 s is killed (coreutils'
/// `timeout`: exit code 124).
///
/// `Err` says why the run cannot be made here (no `prlimit`, `setpriv` or `timeout`, or
/// `nobody` cannot execute `exe`), for the test to report and skip.
pub fn run_with_thread_limit(
    exe: impl AsRef<Path>,
    args: &[&str],
    env: &[(&str, &str)],
    new_threads: u32,
) -> Result<Ran, String> {
    let tool = |name: &str| {
        Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    };
    for needed in ["timeout", "prlimit"] {
        if !tool(needed) {
            return Err(format!("{needed} is not installed"));
        }
    }
    let mut command = Command::new("timeout");
    command.args(["--kill-after=5", "60"]);
    if is_root() {
        if !tool("setpriv") {
            return Err(
                "running as root, where RLIMIT_NPROC does not bind, and util-linux's \
                        setpriv is not installed to run as another user"
                    .to_owned(),
            );
        }
        command.args([
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]);
    }
    let out = command
        .arg("prlimit")
        .arg(format!("--nproc={}", 1 + new_threads))
        .arg(exe.as_ref())
        .args(args)
        .envs(env.iter().copied())
        .output()
        .map_err(|e| format!("cannot run timeout: {e}"))?;
    let ran = Ran::from(out);
    // prlimit's own failure to execute `exe`: 126 (cannot execute) or 127 (not found).
    if matches!(ran.code, Some(126 | 127)) && ran.stderr.starts_with("prlimit:") {
        return Err(format!(
            "{} cannot be executed under the limit: {}",
            exe.as_ref().display(),
            ran.stderr.trim_end()
        ));
    }
    Ok(ran)
}

/// Whether this process runs as root (real user id 0), by `/proc/self/status`.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next())
            == Some("0")
    })
}

/// A fresh empty folder under the system's temp folder, named for `name` and this process.
pub fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
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
