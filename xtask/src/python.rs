//! CPython interpreters: finding them (`--python auto`), checking a given one, and the rows
//! that run the chapter's Python exercises under each.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::UsageError;

/// The oldest CPython the project runs.
pub const MIN_VERSION: (u32, u32) = (3, 10);

/// One CPython interpreter and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    pub path: PathBuf,
    pub version: (u32, u32, u32),
}

impl Interpreter {
    /// The implementation name rows carry: `cpython-3.12.1`.
    pub fn implementation(&self) -> String {
        let (a, b, c) = self.version;
        format!("cpython-{a}.{b}.{c}")
    }

    /// Whether this interpreter is at least `major.minor`.
    pub fn at_least(&self, (major, minor): (u32, u32)) -> bool {
        (self.version.0, self.version.1) >= (major, minor)
    }
}

impl fmt::Display for Interpreter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b, c) = self.version;
        write!(f, "CPython {a}.{b}.{c} ({})", self.path.display())
    }
}

/// What a probe runs: Python 2 as well as 3 can run it (Python 3's `print(*args)` is a syntax
/// error in Python 2), so a Python 2 says its version instead of failing.
const PROBE: &str = "import platform, sys; sys.stdout.write('%s %d %d %d\\n' % \
    ((platform.python_implementation(),) + tuple(sys.version_info[:3])))";

/// Asks `path` what it is; `Some` for CPython only.
pub fn probe(path: &Path) -> Option<Interpreter> {
    let ask = || Command::new(path).args(["-c", PROBE]).output();
    // A file that was just written can be briefly busy while another process forks; try again.
    let mut out = ask();
    for _ in 0..5 {
        match &out {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                out = ask();
            }
            _ => break,
        }
    }
    let out = out.ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    if words.next()? != "CPython" {
        return None;
    }
    let mut n = words.map(|w| w.parse::<u32>().ok());
    Some(Interpreter {
        path: path.to_path_buf(),
        version: (n.next()??, n.next()??, n.next()??),
    })
}

/// CPython 3.10 and newer: under `$PYENV_ROOT/versions/*/bin`, then `python3` and
/// `python3.N` on `PATH`, one per version (the first found).
pub fn discover(path_var: Option<&OsStr>, pyenv_root: Option<&Path>) -> Vec<Interpreter> {
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
                    .is_some_and(is_python3_name)
            })
            .collect();
        names.sort();
        candidates.extend(names);
    }
    let mut found: Vec<Interpreter> = Vec::new();
    for candidate in candidates {
        if !candidate.is_file() {
            continue;
        }
        if let Some(i) = probe(&candidate)
            && i.at_least(MIN_VERSION)
            && !found.iter().any(|f| f.version == i.version)
        {
            found.push(i);
        }
    }
    found.sort_by_key(|i| i.version);
    found
}

/// `python3` or `python3.N`.
fn is_python3_name(name: &str) -> bool {
    name == "python3"
        || name
            .strip_prefix("python3.")
            .is_some_and(|minor| !minor.is_empty() && minor.chars().all(|c| c.is_ascii_digit()))
}

/// What `--python` asked for, resolved: the interpreters, and a line for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub interpreters: Vec<Interpreter>,
    pub note: String,
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
        });
    }
    let mut interpreters: Vec<Interpreter> = Vec::new();
    for value in values {
        let more = if value == "auto" {
            let pyenv = std::env::var_os("PYENV_ROOT")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")));
            discover(std::env::var_os("PATH").as_deref(), pyenv.as_deref())
        } else {
            let path = Path::new(value);
            match probe(path) {
                Some(i) if i.at_least(MIN_VERSION) => vec![i],
                Some(i) => {
                    return Err(UsageError(format!(
                        "--python '{value}' is {i}; this project runs CPython {}.{} or newer",
                        MIN_VERSION.0, MIN_VERSION.1
                    )));
                }
                None => {
                    return Err(UsageError(format!(
                        "--python '{value}' is not auto, none or a CPython interpreter that runs"
                    )));
                }
            }
        };
        for i in more {
            if !interpreters.iter().any(|k| k.version == i.version) {
                interpreters.push(i);
            }
        }
    }
    interpreters.sort_by_key(|i| i.version);
    let note = if interpreters.is_empty() {
        "no CPython 3.10 or newer found on PATH or under pyenv; only the Rust rows ran".to_owned()
    } else {
        interpreters
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(Choice { interpreters, note })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python3_names() {
        for good in ["python3", "python3.12", "python3.9"] {
            assert!(is_python3_name(good), "{good}");
        }
        for bad in [
            "python",
            "python3.",
            "python3.12-config",
            "python3.12m",
            "python2.7",
        ] {
            assert!(!is_python3_name(bad), "{bad}");
        }
    }
}
