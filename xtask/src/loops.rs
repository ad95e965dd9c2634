//! The event loops CPython rows run on besides asyncio's own (uvloop, rloop), the venvs they
//! are installed into, and the `gc.disable()` row's exercise. Their rows are planned with the
//! others' ([`crate::measure::plan::loop_targets`]); the failures known to come from a loop
//! rather than from the run are [`crate::known`]'s.
//!
//! Each CPython gets a venv of its own under `<out>/venvs/<implementation>` (for example
//! `target/xtask/venvs/cpython-3.12.1`), made on first use with `python -m venv` and reused
//! while its stamp (`xtask-venv`: the interpreter, its implementation and the text of
//! `scripts/python/requirements.txt`) matches. Each pinned requirement is installed on its own
//! with pip (wheels only, no prompts, a timeout), so a loop that has no wheel for one Python
//! leaves the others measured; whether a loop is there is decided by importing it. A loop that
//! cannot be had is a row "not available: why", naming the log of the attempt; the run goes on.

use std::fmt;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::process::{self, Poll, Waited};
use crate::python::{self, Interpreter};

/// An event loop the chapter's code can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Loop {
    /// asyncio's own loop, the default.
    Asyncio,
    /// uvloop: a loop on libuv, written in Cython.
    Uvloop,
    /// rloop: a loop written in Rust.
    Rloop,
}

impl Loop {
    pub const ALL: [Loop; 3] = [Loop::Asyncio, Loop::Uvloop, Loop::Rloop];

    /// The name in flags, rows and the harness' `--loop`, and the library's import name.
    pub fn name(self) -> &'static str {
        match self {
            Loop::Asyncio => "asyncio",
            Loop::Uvloop => "uvloop",
            Loop::Rloop => "rloop",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }
}

impl fmt::Display for Loop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `--python-loops` value: loops, each once, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopList(pub Vec<Loop>);

impl Default for LoopList {
    fn default() -> Self {
        Self(Loop::ALL.to_vec())
    }
}

/// Parses `asyncio,uvloop,rloop` (clap's value parser for `--python-loops`): an unknown, empty
/// or repeated name is refused, naming the valid ones.
pub fn parse_loops(value: &str) -> Result<LoopList, String> {
    let valid = Loop::ALL.map(Loop::name).join(", ");
    let mut loops = Vec::new();
    for name in value.split(',').map(str::trim) {
        let Some(l) = Loop::from_name(name) else {
            return Err(if name.is_empty() {
                format!("an empty loop name; give a comma-separated list of {valid}")
            } else {
                format!("unknown loop '{name}'; valid loops: {valid}")
            });
        };
        if loops.contains(&l) {
            return Err(format!("loop '{name}' is given twice; give each once"));
        }
        loops.push(l);
    }
    Ok(LoopList(loops))
}

/// How long a `python -m venv`, one `pip install` or one import check may take.
const VENV_TIMEOUT: Duration = Duration::from_secs(180);
const PIP_TIMEOUT: Duration = Duration::from_secs(300);
const IMPORT_TIMEOUT: Duration = Duration::from_secs(60);

/// The stamp file a venv the runner made carries.
const STAMP: &str = "xtask-venv";

/// What the venv of one CPython offers: its python, and each loop asked for, there or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Venv {
    pub implementation: String,
    pub python: PathBuf,
    /// One entry per non-default loop asked for: `Ok` when it imports, else why not.
    pub loops: Vec<(Loop, Result<(), String>)>,
}

impl Venv {
    /// Whether `l` can be run here: `Ok`, or the reason it cannot.
    pub fn offers(&self, l: Loop) -> Result<(), String> {
        self.loops
            .iter()
            .find(|(k, _)| *k == l)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| Err(format!("{l} was not asked for")))
    }
}

/// The venv of `interpreter` under `dir` (`<out>/venvs`), made or reused, with `loops` (the
/// non-default ones) installed from `requirements` where pip can. Never fails: what cannot be
/// had is a reason per loop. Says on stderr, in one line, when it makes or installs something.
pub fn prepare(interpreter: &Interpreter, dir: &Path, requirements: &Path, loops: &[Loop]) -> Venv {
    let implementation = interpreter.implementation();
    let venv = dir.join(&implementation);
    let python = venv.join("bin").join("python");
    let wanted: Vec<Loop> = loops
        .iter()
        .copied()
        .filter(|l| *l != Loop::Asyncio)
        .collect();
    let all = |why: String| Venv {
        implementation: implementation.clone(),
        python: python.clone(),
        loops: wanted.iter().map(|l| (*l, Err(why.clone()))).collect(),
    };
    if wanted.is_empty() {
        return all(String::new());
    }
    let text = match fs::read_to_string(requirements) {
        Ok(text) => text,
        Err(e) => return all(format!("cannot read {}: {e}", requirements.display())),
    };
    let stamp = format!(
        "asyncio-in-tokio venv\ninterpreter: {}\nimplementation: {implementation}\nrequirements:\n{text}",
        interpreter.path.display()
    );
    if let Err(why) = fs::create_dir_all(dir) {
        return all(format!("cannot create {}: {why}", dir.display()));
    }
    let ours = fs::read_to_string(venv.join(STAMP)).ok();
    // One line on stderr per venv made or loop installed later: it takes a while.
    let mut announced = false;
    if ours.as_deref() != Some(stamp.as_str()) || !python.is_file() {
        if venv.symlink_metadata().is_ok() {
            if ours.is_none() {
                return all(format!(
                    "'{}' is there and the runner did not make it; move it away to have it made",
                    venv.display()
                ));
            }
            // Ours, for other requirements or another interpreter: made again.
            if let Err(e) = fs::remove_dir_all(&venv) {
                return all(format!("cannot remove the old {}: {e}", venv.display()));
            }
        }
        crate::say!(
            "making a venv for {interpreter} in {} (once; pip installs {} into it: seconds to minutes, with the network)",
            venv.display(),
            wanted
                .iter()
                .map(|l| l.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
        announced = true;
        // Marked as the runner's before anything is made in it, so that a venv cut off
        // halfway (a failed ensurepip, a runner stopped or killed) is made again next time,
        // not refused as someone else's. `python -m venv` makes a venv in a folder that exists.
        if let Err(why) = fs::create_dir(&venv)
            .and_then(|()| fs::write(venv.join(STAMP), "being made by cargo xtask\n"))
        {
            return all(format!("cannot create {}: {why}", venv.display()));
        }
        let log = dir.join(format!("{implementation}.venv.log"));
        let made = run_logged(
            Command::new(&interpreter.path)
                .args(["-m", "venv"])
                .arg(&venv),
            &log,
            VENV_TIMEOUT,
        );
        if let Err(why) = made.and_then(|()| {
            fs::write(venv.join(STAMP), &stamp).map_err(|e| format!("cannot write its stamp: {e}"))
        }) {
            return all(format!(
                "`{} -m venv` failed: {why} (log: {})",
                interpreter.path.display(),
                log.display()
            ));
        }
    }
    let loops = wanted
        .iter()
        .map(|&l| (l, install(interpreter, dir, &python, &text, l, announced)))
        .collect();
    Venv {
        implementation,
        python,
        loops,
    }
}

/// `l` in the venv whose python is `python`: there already, or installed now with pip.
fn install(
    interpreter: &Interpreter,
    dir: &Path,
    python: &Path,
    requirements: &str,
    l: Loop,
    announced: bool,
) -> Result<(), String> {
    let import = |log: &Path| {
        run_logged(
            Command::new(python).args(["-c", &format!("import {}", l.name())]),
            log,
            IMPORT_TIMEOUT,
        )
    };
    let implementation = interpreter.implementation();
    let check_log = dir.join(format!("{implementation}.{l}.import.log"));
    if import(&check_log).is_ok() {
        return Ok(());
    }
    let Some(pin) = requirements.lines().map(str::trim).find(|line| {
        line.split(['=', '<', '>', '~', '!', ' ', '['])
            .next()
            .is_some_and(|name| name.eq_ignore_ascii_case(l.name()))
    }) else {
        return Err(format!(
            "scripts/python/requirements.txt has no line for {l}"
        ));
    };
    let log = dir.join(format!("{implementation}.{l}.log"));
    if !announced {
        crate::say!(
            "installing {pin} into the venv of {interpreter} (log: {})",
            log.display()
        );
    }
    let installed = run_logged(
        Command::new(python)
            .args(["-m", "pip", "install", "--disable-pip-version-check"])
            .args(["--no-input", "--only-binary=:all:", "--retries", "1"])
            .args(["--timeout", "15", pin])
            .env("PIP_NO_INPUT", "1"),
        &log,
        PIP_TIMEOUT,
    );
    match installed.and_then(|()| import(&check_log)) {
        Ok(()) => Ok(()),
        Err(why) => {
            // pip says "no matching distribution" both when the index has no wheel for this
            // Python and when it could not reach the index at all; its log tells which.
            let said = fs::read_to_string(&log).unwrap_or_default();
            let unreachable = UNREACHABLE.iter().any(|m| said.contains(m));
            Err(format!(
                "pip could not install {pin} for {}{}: {why} (log: {})",
                interpreter.implementation(),
                if unreachable {
                    " (no package index could be reached)"
                } else {
                    ""
                },
                log.display()
            ))
        }
    }
}

/// What pip's log says when the network, not the index, is the reason.
const UNREACHABLE: &[&str] = &[
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "Read timed out",
];

/// Runs `command`, its stdout and stderr into `log`, stdin closed, within `timeout` (killed
/// after it); `Err` with the last line that says what went wrong (pip's `ERROR:` line, a
/// Python exception) when it does not succeed.
fn run_logged(command: &mut Command, log: &Path, timeout: Duration) -> Result<(), String> {
    let file = fs::File::create(log).map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    let err = file
        .try_clone()
        .map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    // In a process group of its own (pip may start processes of its own), which dies with
    // the runner however the runner dies.
    command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .process_group(0);
    process::die_with_the_runner(command);
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not start it: {e}"))?;
    let status = wait_logged(&mut child, timeout)?;
    if status.success() {
        return Ok(());
    }
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let said = lines
        .iter()
        .rev()
        .find(|l| l.starts_with("ERROR:") || error_line(l))
        .or(lines.last())
        .map(|l| crate::format::shorten(l, 200))
        .unwrap_or_else(|| "no output".into());
    Err(format!("{said} ({status})"))
}

/// Waits for a child of [`run_logged`], a look every 20 ms, for at most `timeout` from now: its
/// exit status, or why there is none. A child that outlives `timeout` is killed, and so is one
/// the wait failed to look at: both are reported as giving no answer.
fn wait_logged(child: &mut Child, timeout: Duration) -> Result<ExitStatus, String> {
    let deadline = Instant::now() + timeout;
    let poll = Poll::every(Duration::from_millis(20));
    let no_answer = || format!("no answer within {} s", timeout.as_secs());
    match process::wait_or_kill(child, deadline, process::stop_requested, poll) {
        Waited::Exited(status) => Ok(status),
        Waited::Stopped(_) => Err("stopped, with the runner".into()),
        Waited::TimedOut => Err(no_answer()),
        Waited::Failed(_) => {
            process::kill_and_reap(child);
            Err(no_answer())
        }
    }
}

/// `TypeError: …`, `ModuleNotFoundError: …`: a Python exception as a traceback ends.
fn error_line(line: &str) -> bool {
    line.split_once(": ").is_some_and(|(name, _)| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            && (name.ends_with("Error") || name.ends_with("Exception"))
    })
}

/// The variant of the `gc.disable()` row (the schema's name, which the report reads too).
pub use crate::results::GC_OFF;
/// The exercise that gets a `gc.disable()` row per CPython: a million coroutines made at once.
pub const GC_EXERCISE: &str = "ex_6_2";

/// The venvs for every CPython among `interpreters` (PyPy runs asyncio's loop only), in the
/// folder `venvs` (the run's [`Layout::venvs`](crate::results::Layout::venvs)).
pub fn prepare_all(
    interpreters: &[Interpreter],
    venvs: &Path,
    requirements: &Path,
    loops: &[Loop],
) -> Vec<(Interpreter, Venv)> {
    interpreters
        .iter()
        .filter(|i| i.is_cpython())
        .map(|i| (i.clone(), prepare(i, venvs, requirements, loops)))
        .collect()
}

/// One line per loop that could not be had, for stderr and the report's header.
pub fn unavailable(venvs: &[(Interpreter, Venv)]) -> Vec<String> {
    venvs
        .iter()
        .flat_map(|(i, v)| {
            v.loops.iter().filter_map(move |(l, r)| {
                r.as_ref().err().map(|why| {
                    format!(
                        "{l} under {}: not available: {why}",
                        python::Interpreter::implementation(i)
                    )
                })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loop_lists() {
        assert_eq!(
            parse_loops("uvloop,asyncio").unwrap().0,
            [Loop::Uvloop, Loop::Asyncio]
        );
        assert!(parse_loops("uvloop,uvloop").unwrap_err().contains("twice"));
        assert!(
            parse_loops("trio")
                .unwrap_err()
                .contains("valid loops: asyncio, uvloop, rloop")
        );
        assert!(parse_loops("asyncio,").unwrap_err().contains("empty"));
    }

    #[test]
    fn exception_lines() {
        assert!(error_line(
            "TypeError: factory() got an unexpected keyword argument 'x'"
        ));
        assert!(error_line("ModuleNotFoundError: No module named 'uvloop'"));
        assert!(!error_line(
            "<sys>:0: RuntimeWarning: coroutine 'f' was never awaited"
        ));
    }

    #[test]
    fn a_failed_wait_for_pip_reads_as_no_answer() {
        let mut child = crate::process::tests::reaped_behind_its_back();
        assert_eq!(
            wait_logged(&mut child, Duration::from_secs(30)),
            Err("no answer within 30 s".to_owned())
        );
    }
}
