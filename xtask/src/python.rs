//! Python interpreters: finding them (`--python auto`: CPython 3.10+, free-threaded builds
//! such as `python3.14t`, and PyPy as `pypy3`), checking a given one, and the rows that run the
//! chapter's Python exercises under each.

use std::ffi::OsStr;
use std::fmt;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::UsageError;
use crate::process::{self, Poll, Waited};

/// The oldest CPython the project runs.
pub const MIN_VERSION: (u32, u32) = (3, 10);

/// The oldest Python the harness (`scripts/python/_harness.py`) runs on: an exercise whose
/// script needs nothing newer than the project's [`MIN_VERSION`] runs on this too, which is
/// what lets PyPy (Python 3.9 in Debian's 7.3.11) run the chapter's code unchanged.
pub const SCRIPT_FLOOR: (u32, u32) = (3, 8);

/// Which Python an interpreter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// CPython; `free_threaded` for a build without the GIL (`python3.14t`).
    CPython { free_threaded: bool },
    /// PyPy, with its own release number (7.3.11); `version` is the Python it implements.
    PyPy { release: (u32, u32, u32) },
}

/// One Python interpreter and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    pub path: PathBuf,
    /// The Python language version it implements: `3.12.1`; PyPy 7.3.11's is `3.9.16`.
    pub version: (u32, u32, u32),
    pub kind: Kind,
}

impl Interpreter {
    /// A CPython with the GIL, as most are.
    pub fn cpython(path: impl Into<PathBuf>, version: (u32, u32, u32)) -> Self {
        Self {
            path: path.into(),
            version,
            kind: Kind::CPython {
                free_threaded: false,
            },
        }
    }

    /// The implementation name rows carry: `cpython-3.12.1`, `cpython-3.14.0t` (free-threaded),
    /// `pypy-7.3.11` (PyPy's own release), as the harness writes it.
    pub fn implementation(&self) -> String {
        let (a, b, c) = self.version;
        match self.kind {
            Kind::CPython { free_threaded } => {
                format!(
                    "cpython-{a}.{b}.{c}{}",
                    if free_threaded { "t" } else { "" }
                )
            }
            Kind::PyPy { release: (x, y, z) } => format!("pypy-{x}.{y}.{z}"),
        }
    }

    /// Whether this interpreter implements at least Python `major.minor`.
    pub fn at_least(&self, (major, minor): (u32, u32)) -> bool {
        (self.version.0, self.version.1) >= (major, minor)
    }

    pub fn is_cpython(&self) -> bool {
        matches!(self.kind, Kind::CPython { .. })
    }

    /// The oldest Python version this kind of interpreter is run at: CPython 3.10, PyPy 3.8.
    pub fn floor(&self) -> (u32, u32) {
        match self.kind {
            Kind::CPython { .. } => MIN_VERSION,
            Kind::PyPy { .. } => SCRIPT_FLOOR,
        }
    }

    /// The Python an exercise needs, from its `python_needs`: one that needs nothing newer
    /// than the project's floor runs on whatever the harness runs on.
    pub fn needs(python_needs: (u32, u32)) -> (u32, u32) {
        if python_needs <= MIN_VERSION {
            SCRIPT_FLOOR
        } else {
            python_needs
        }
    }
}

impl fmt::Display for Interpreter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b, c) = self.version;
        match self.kind {
            Kind::CPython { free_threaded } => write!(
                f,
                "CPython {a}.{b}.{c}{} ({})",
                if free_threaded {
                    "t, free-threaded"
                } else {
                    ""
                },
                self.path.display()
            ),
            Kind::PyPy { release: (x, y, z) } => write!(
                f,
                "PyPy {x}.{y}.{z}, Python {a}.{b}.{c} ({})",
                self.path.display()
            ),
        }
    }
}

/// What a probe runs: Python 2 as well as 3 can run it (Python 3's `print(*args)` is a syntax
/// error in Python 2), so a Python 2 says its version instead of failing. It prints the
/// implementation, the version's three numbers, `t` for a free-threaded build (`-` otherwise)
/// and PyPy's own release (`-` for others).
const PROBE: &str = "import platform, sys, sysconfig; \
    p = getattr(sys, 'pypy_version_info', None); \
    sys.stdout.write('%s %d %d %d %s %s\\n' % ((platform.python_implementation(),) \
    + tuple(sys.version_info[:3]) \
    + (sysconfig.get_config_var('Py_GIL_DISABLED') and 't' or '-', \
    p and '%d.%d.%d' % tuple(p[:3]) or '-')))";

/// How long a probe may take before it counts as not a usable CPython: a CPython answers in
/// well under a second; anything slower is killed, with whatever it started.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The environment variable that sets the probe's timeout in milliseconds instead (the tests set
/// it short); read by xtask only, ignored unless a whole number from 1 to 600000.
pub const PROBE_TIMEOUT_ENV: &str = "XTASK_PROBE_TIMEOUT_MS";

/// The probe's timeout: [`PROBE_TIMEOUT`], or what [`PROBE_TIMEOUT_ENV`] says.
pub fn probe_timeout() -> Duration {
    std::env::var(PROBE_TIMEOUT_ENV)
        .ok()
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .filter(|ms| (1..=600_000).contains(ms))
        .map_or(PROBE_TIMEOUT, Duration::from_millis)
}

/// Why a probe found no usable interpreter.
#[derive(Debug)]
pub enum ProbeError {
    /// It did not answer within the timeout; it was killed, with its process group.
    TimedOut(Duration),
    /// It could not be started, failed, or answered with something other than a CPython or
    /// PyPy version.
    NotCPython,
    /// The runner was asked to stop (Ctrl-C, say) while it waited; the probe was killed.
    Stopped,
    /// The runner could not make the thread that reads the probe's answer (the machine's limit
    /// of threads or processes was reached); the probe was killed.
    NoThread(String),
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::TimedOut(limit) => write!(
                f,
                "gave no answer to the version probe within {}, so it is not a usable CPython",
                fmt_duration(*limit)
            ),
            ProbeError::NotCPython => f.write_str("is not a CPython interpreter that runs"),
            ProbeError::Stopped => f.write_str("was not asked: the runner was stopped"),
            ProbeError::NoThread(why) => {
                write!(
                    f,
                    "could not be asked: no thread to read its answer ({why})"
                )
            }
        }
    }
}

/// `300 ms`, `5 s`.
fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

/// Asks `path` what it is, within [`probe_timeout`]; `Ok` for CPython and PyPy.
pub fn probe(path: &Path) -> Result<Interpreter, ProbeError> {
    probe_within(path, probe_timeout())
}

/// Asks `path` what it is, killing it (and its process group) if it has not answered and
/// exited within `timeout`; `Ok` for CPython and PyPy.
pub fn probe_within(path: &Path, timeout: Duration) -> Result<Interpreter, ProbeError> {
    let stdout = ask(path, timeout, process::stop_requested)?;
    parse_probe(path, &String::from_utf8_lossy(&stdout)).ok_or(ProbeError::NotCPython)
}

/// `CPython 3 14 0 t -` or `PyPy 3 9 16 - 7.3.11`; the last two words may be missing (an
/// answer of an older form, or a stand-in's), meaning a GIL build and no PyPy release.
fn parse_probe(path: &Path, text: &str) -> Option<Interpreter> {
    let mut words = text.split_whitespace();
    let name = words.next()?;
    let mut number = || words.next()?.parse::<u32>().ok();
    let version = (number()?, number()?, number()?);
    let free_threaded = words.next() == Some("t");
    let release = words.next().and_then(|r| {
        let mut parts = r.split('.').map(|p| p.parse::<u32>().ok());
        Some((parts.next()??, parts.next()??, parts.next()??))
    });
    let kind = match (name, release) {
        ("CPython", _) => Kind::CPython { free_threaded },
        ("PyPy", Some(release)) => Kind::PyPy { release },
        _ => return None,
    };
    Some(Interpreter {
        path: path.to_path_buf(),
        version,
        kind,
    })
}

/// Runs the probe in its own process group; its stdout if it exits successfully in time. `stop`
/// says whether the runner was asked to stop ([`process::stop_requested`]; a test's own).
fn ask(
    path: &Path,
    timeout: Duration,
    stop: impl Fn() -> Option<process::Interrupted>,
) -> Result<Vec<u8>, ProbeError> {
    let deadline = Instant::now() + timeout;
    let start = || {
        let mut probe = Command::new(path);
        probe
            .args(["-c", PROBE])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0);
        process::die_with_the_runner(&mut probe);
        probe.spawn()
    };
    // A file that was just written can be briefly busy while another process forks; try again.
    let mut child = start();
    for _ in 0..5 {
        match &child {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(Duration::from_millis(20));
                child = start();
            }
            _ => break,
        }
    }
    let mut child = child.map_err(|_| ProbeError::NotCPython)?;
    // Read on a thread, so that a probe that never closes its stdout cannot block this one, and
    // one that writes much is not blocked on a full pipe while it is waited for; the thread
    // ends once the probe's process group is killed.
    let (tx, rx) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        let reader = std::thread::Builder::new().spawn(move || {
            let mut buf = Vec::new();
            let _ = stdout.take(64 * 1024).read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
        if let Err(e) = reader {
            process::kill_and_reap(&mut child);
            return Err(ProbeError::NoThread(e.to_string()));
        }
    }
    let status = match process::wait_or_kill(&mut child, deadline, &stop, PROBE_POLL) {
        Waited::Exited(status) => status,
        Waited::Stopped(_) => return Err(ProbeError::Stopped),
        // `Failed` cannot come: a failed look is retried until the deadline.
        Waited::TimedOut | Waited::Failed(_) => return Err(ProbeError::TimedOut(timeout)),
    };
    // It has exited, so its stdout closes now, unless something it started holds it open: that
    // is waited for until the deadline too, as the answer is not whole before, and then killed
    // with the probe's process group.
    let answer = loop {
        if stop().is_some() {
            process::kill_group(&child);
            return Err(ProbeError::Stopped);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(STEP.min(left)) {
            Ok(out) => break out,
            Err(_) if left.is_zero() => {
                process::kill_group(&child);
                return Err(ProbeError::TimedOut(timeout));
            }
            Err(_) => {}
        }
    };
    if status.success() {
        Ok(answer)
    } else {
        Err(ProbeError::NotCPython)
    }
}

/// How a probe is waited for: a look every 5 ms. A failed look is passed over until the
/// deadline, when the probe counts as not answering.
const PROBE_POLL: Poll = Poll {
    retry_failed: true,
    ..Poll::every(Duration::from_millis(5))
};

/// How often the wait for a probe's answer, once it has exited, looks at whether the runner was
/// asked to stop.
const STEP: Duration = Duration::from_millis(20);

/// What `--python auto` found, and a warning for each candidate it skipped for hanging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub found: Vec<Interpreter>,
    pub warnings: Vec<String>,
}

/// CPython 3.10 and newer: under `$PYENV_ROOT/versions/*/bin`, then `python3`, `python3.N` and
/// free-threaded `python3.Nt` on `PATH`, one per implementation (the first found); and PyPy
/// (`pypy3`, `pypy3.N` on `PATH`) implementing Python 3.8 or newer. Candidates are probed
/// a few at a time, each within `timeout`; one that does not answer in time is skipped with a
/// warning.
pub fn discover(
    path_var: Option<&OsStr>,
    pyenv_root: Option<&Path>,
    timeout: Duration,
) -> Discovery {
    let mut candidates = Vec::new();
    if let Some(root) = pyenv_root
        && let Ok(entries) = std::fs::read_dir(root.join("versions"))
    {
        let mut versions: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        versions.sort();
        candidates.extend(versions.into_iter().map(|v| v.join("bin").join("python3")));
    }
    for dir in path_var.map(std::env::split_paths).into_iter().flatten() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(OsStr::to_str)
                    .is_some_and(|n| is_python3_name(n) || is_pypy3_name(n))
            })
            .collect();
        names.sort();
        candidates.extend(names);
    }
    candidates.retain(|c| c.is_file());
    let answers = probe_all(&candidates, timeout);
    let mut discovery = Discovery::default();
    for (candidate, answer) in candidates.iter().zip(answers) {
        match answer {
            Ok(i)
                if i.at_least(i.floor())
                    && !discovery
                        .found
                        .iter()
                        .any(|f| f.implementation() == i.implementation()) =>
            {
                discovery.found.push(i);
            }
            // Stopped: the runner is stopping, and says so once `resolve` returns.
            Ok(_) | Err(ProbeError::NotCPython | ProbeError::Stopped) => {}
            Err(e @ (ProbeError::TimedOut(_) | ProbeError::NoThread(_))) => discovery
                .warnings
                .push(format!("skipped '{}': it {e}", candidate.display())),
        }
    }
    discovery.found.sort_by_key(order);
    discovery
}

/// How many candidates are probed at once: each probe is a process and a thread reading it, and a
/// `PATH` may hold thousands of `python3.N`.
const PROBES_AT_ONCE: usize = 8;

/// Probes every candidate, [`PROBES_AT_ONCE`] at a time on a small pool of threads (fewer if
/// the machine gives fewer; on this thread alone if it gives none): the answers in the
/// candidates' order.
fn probe_all(candidates: &[PathBuf], timeout: Duration) -> Vec<Result<Interpreter, ProbeError>> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let answers: Mutex<Vec<Option<Result<Interpreter, ProbeError>>>> =
        Mutex::new(candidates.iter().map(|_| None).collect());
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(candidate) = candidates.get(i) else {
                break;
            };
            let answer = probe_within(candidate, timeout);
            if let Ok(mut all) = answers.lock() {
                all[i] = Some(answer);
            }
        }
    };
    std::thread::scope(|s| {
        let workers = PROBES_AT_ONCE.min(candidates.len());
        let started = (0..workers)
            .map_while(|_| std::thread::Builder::new().spawn_scoped(s, work).ok())
            .count();
        if started == 0 {
            work();
        }
    });
    answers
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|a| a.unwrap_or(Err(ProbeError::NotCPython)))
        .collect()
}

/// How interpreters are listed: CPython by version (a free-threaded build after its GIL twin),
/// then PyPy.
pub fn order(i: &Interpreter) -> (bool, (u32, u32, u32), Kind) {
    (!i.is_cpython(), i.version, i.kind)
}

/// `python3`, `python3.N` or free-threaded `python3.Nt`.
fn is_python3_name(name: &str) -> bool {
    name == "python3"
        || name.strip_prefix("python3.").is_some_and(|minor| {
            let digits = minor.strip_suffix('t').unwrap_or(minor);
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        })
}

/// `pypy3` or `pypy3.N`.
fn is_pypy3_name(name: &str) -> bool {
    name == "pypy3"
        || name
            .strip_prefix("pypy3.")
            .is_some_and(|minor| !minor.is_empty() && minor.chars().all(|c| c.is_ascii_digit()))
}

/// What `--python` asked for, resolved: the interpreters, and a line for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub interpreters: Vec<Interpreter>,
    pub note: String,
    /// Candidates `auto` skipped for hanging, one line each (already printed to stderr).
    pub warnings: Vec<String>,
}

/// Resolves `--python` values: `auto` (discover), `none`, or interpreter paths (checked).
pub fn resolve(values: &[String]) -> Result<Choice, UsageError> {
    if values.iter().any(|v| v == "none") {
        if values.len() > 1 {
            return Err(UsageError(
                "--python none cannot be combined with other --python values".into(),
            ));
        }
        return Ok(Choice {
            interpreters: Vec::new(),
            note: "not run (`--python none`)".into(),
            warnings: Vec::new(),
        });
    }
    let mut interpreters: Vec<Interpreter> = Vec::new();
    let mut warnings = Vec::new();
    for value in values {
        let more = if value == "auto" {
            let pyenv = std::env::var_os("PYENV_ROOT")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")));
            let discovery = discover(
                std::env::var_os("PATH").as_deref(),
                pyenv.as_deref(),
                probe_timeout(),
            );
            for warning in &discovery.warnings {
                crate::say!("cargo xtask: warning: --python auto {warning}");
            }
            warnings.extend(discovery.warnings);
            discovery.found
        } else {
            let path = Path::new(value);
            match probe(path) {
                Ok(i) if i.at_least(i.floor()) => vec![i],
                Ok(i) => {
                    return Err(UsageError(format!(
                        "--python '{value}' is {i}; this project runs CPython {}.{} or newer, or a PyPy of Python {}.{} or newer",
                        MIN_VERSION.0, MIN_VERSION.1, SCRIPT_FLOOR.0, SCRIPT_FLOOR.1
                    )));
                }
                Err(
                    e @ (ProbeError::TimedOut(_) | ProbeError::Stopped | ProbeError::NoThread(_)),
                ) => {
                    return Err(UsageError(format!("--python '{value}' {e}")));
                }
                Err(ProbeError::NotCPython) => {
                    // A path that names nothing is said so: "not an interpreter" would send the
                    // user looking at a file that is not there.
                    let what = if path.exists() {
                        "is not auto, none or a CPython or PyPy interpreter that runs"
                    } else {
                        "names no file; give auto, none or the path of a CPython or PyPy interpreter"
                    };
                    return Err(UsageError(format!("--python '{value}' {what}")));
                }
            }
        };
        for i in more {
            if !interpreters
                .iter()
                .any(|k| k.implementation() == i.implementation())
            {
                interpreters.push(i);
            }
        }
    }
    interpreters.sort_by_key(order);
    let mut note = if interpreters.iter().any(Interpreter::is_cpython) {
        interpreters
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        let pypy: Vec<String> = interpreters.iter().map(ToString::to_string).collect();
        if pypy.is_empty() {
            "no CPython 3.10 or newer found on PATH or under pyenv; only the Rust rows ran"
                .to_owned()
        } else {
            format!(
                "no CPython 3.10 or newer found on PATH or under pyenv; {}",
                pypy.join(", ")
            )
        }
    };
    if values.iter().any(|v| v == "auto") && interpreters.iter().all(Interpreter::is_cpython) {
        note.push_str("; no PyPy (`pypy3` on PATH), so no PyPy rows");
    }
    Ok(Choice {
        interpreters,
        note,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_timeouts_read_as_people_write_them() {
        assert_eq!(fmt_duration(Duration::from_millis(300)), "300 ms");
        assert_eq!(fmt_duration(PROBE_TIMEOUT), "5 s");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1500 ms");
    }

    #[test]
    fn python3_names() {
        for good in ["python3", "python3.12", "python3.9", "python3.14t"] {
            assert!(is_python3_name(good), "{good}");
        }
        for bad in [
            "python",
            "python3.",
            "python3.t",
            "python3.12-config",
            "python3.12m",
            "python3.14tt",
            "python2.7",
        ] {
            assert!(!is_python3_name(bad), "{bad}");
        }
        assert!(is_pypy3_name("pypy3") && is_pypy3_name("pypy3.9"));
        assert!(!is_pypy3_name("pypy") && !is_pypy3_name("pypy3.9-c"));
    }

    #[test]
    fn probe_answers_name_the_build() {
        let at = Path::new("/x");
        let ft = parse_probe(at, "CPython 3 14 0 t -\n").unwrap();
        assert_eq!(ft.implementation(), "cpython-3.14.0t");
        let old_form = parse_probe(at, "CPython 3 12 1").unwrap();
        assert_eq!(old_form.implementation(), "cpython-3.12.1");
        let pypy = parse_probe(at, "PyPy 3 9 16 - 7.3.11").unwrap();
        assert_eq!(pypy.implementation(), "pypy-7.3.11");
        assert!(pypy.at_least(pypy.floor()) && !pypy.at_least(MIN_VERSION));
        // A PyPy that does not say its release, or another implementation, is not taken.
        assert!(parse_probe(at, "PyPy 3 9 16").is_none());
        assert!(parse_probe(at, "IronPython 3 4 0 - -").is_none());
    }

    /// An executable stand-in for a probed interpreter, running `script` whatever it is asked,
    /// alone in a folder of its own (removed by the test).
    fn stand_in(name: &str, script: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("xtask-probe-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("python3");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Far longer than a probe here needs: a wait that lasts it has found a bug.
    const AMPLE: Duration = Duration::from_secs(30);

    #[test]
    fn a_stop_after_the_answer_is_a_stop_not_a_timeout() {
        // It answers, closes its stdout, then says so in a file and lingers; the stop comes
        // once it has answered.
        let path = stand_in(
            "answers-then-lingers",
            "echo CPython 3 12 1\nexec >&-\ntouch \"$0.answered\"\nexec sleep 30",
        );
        let answered = path.with_extension("answered");
        let stop = || answered.exists().then_some(process::Interrupted(2));
        let got = ask(&path, AMPLE, stop);
        assert!(matches!(got, Err(ProbeError::Stopped)), "{got:?}");
        let stop_at_once = || Some(process::Interrupted(2));
        assert!(matches!(
            ask(&path, AMPLE, stop_at_once),
            Err(ProbeError::Stopped)
        ));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn an_answer_held_open_by_what_the_probe_left_running_is_no_answer() {
        // It answers and exits, but the sleeper it started keeps its stdout open.
        let path = stand_in(
            "leaves-a-sleeper",
            "sleep 30 &\necho $! > \"$0.child\"\necho CPython 3 12 1",
        );
        let limit = Duration::from_millis(300);
        assert!(matches!(
            ask(&path, limit, || None),
            Err(ProbeError::TimedOut(t)) if t == limit
        ));
        let sleeper = std::fs::read_to_string(path.with_extension("child")).unwrap();
        let sleeper: u32 = sleeper.trim().parse().unwrap();
        assert!(
            !process::tests::still_runs(sleeper),
            "the probe's child {sleeper} still runs"
        );
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_probe_that_answers_and_exits_is_asked_in_full() {
        let path = stand_in("answers", "echo CPython 3 12 1");
        assert_eq!(ask(&path, AMPLE, || None).unwrap(), b"CPython 3 12 1\n");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
        let path = stand_in("answers-and-fails", "echo CPython 3 12 1\nexit 1");
        assert!(matches!(
            ask(&path, AMPLE, || None),
            Err(ProbeError::NotCPython)
        ));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_failed_look_at_a_probe_is_passed_over_until_the_deadline() {
        let mut child = process::tests::reaped_behind_its_back();
        let deadline = Instant::now() + Duration::from_millis(100);
        assert!(matches!(
            process::wait_or_kill(&mut child, deadline, || None, PROBE_POLL),
            Waited::TimedOut
        ));
    }
}
