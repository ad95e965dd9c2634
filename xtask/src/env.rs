//! What machine and build a run measured on, and how busy the machine was.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::results::Environment;

/// The environment as it is now; `load_after` and `governor_after` are filled at the end.
pub fn capture(root: &Path) -> Environment {
    let (git_commit, git_dirty) = git(root);
    Environment {
        cpu_model: cpu_model().unwrap_or_else(|| "unknown".into()),
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        os: os_name().unwrap_or_else(|| std::env::consts::OS.into()),
        kernel: read_trim("/proc/sys/kernel/osrelease").unwrap_or_else(|| "unknown".into()),
        rustc: output("rustc", &["--version"], root).unwrap_or_else(|| "unknown".into()),
        tokio: locked_version(root, "tokio").unwrap_or_else(|| "unknown".into()),
        git_commit,
        git_dirty,
        load_before: load_average(),
        load_after: None,
        governor_before: governor(),
        governor_after: None,
    }
}

/// The 1, 5 and 15-minute load averages.
pub fn load_average() -> Option<[f64; 3]> {
    let text = fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// The CPU frequency governor of cpu0, where the kernel exposes it.
pub fn governor() -> Option<String> {
    read_trim("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
}

fn read_trim(path: &str) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
}

fn cpu_model() -> Option<String> {
    let info = fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

fn os_name() -> Option<String> {
    let text = fs::read_to_string("/etc/os-release").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
}

fn output(program: &str, args: &[&str], dir: &Path) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn git(root: &Path) -> (String, bool) {
    let commit = output("git", &["rev-parse", "--short=12", "HEAD"], root)
        .unwrap_or_else(|| "unknown".into());
    let dirty = output(
        "git",
        &["status", "--porcelain", "--untracked-files=no"],
        root,
    )
    .is_some_and(|s| !s.is_empty());
    (commit, dirty)
}

/// The version of `package` that `Cargo.lock` pins.
fn locked_version(root: &Path, package: &str) -> Option<String> {
    let lock = fs::read_to_string(root.join("Cargo.lock")).ok()?;
    let wanted = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            return lines
                .next()?
                .trim()
                .strip_prefix("version = ")
                .map(|v| v.trim_matches('"').to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_lock_pins_tokio() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let v = locked_version(root, "tokio").unwrap();
        assert!(v.starts_with("1."), "{v}");
        assert_eq!(locked_version(root, "no-such-package"), None);
    }
}
