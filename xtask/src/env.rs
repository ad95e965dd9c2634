//! What machine and build a run measured on, and how busy the machine was.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

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
        page_fault_ns_before: page_fault_ns(),
        page_fault_ns_after: None,
    }
}

/// What a first touch of a 4 KiB page costs this process now, in ns: a page fault. Every row
/// pays it for the memory its tasks take, and it moves with the state of the machine (on a
/// shared virtual machine, by a third within an hour), so the report shows it beside the
/// times. The median of three passes, each touching one byte in each page of 4 MiB that this
/// process has not touched before (held until the end, so that no pass reuses another's);
/// `None` if the memory could not be had.
pub fn page_fault_ns() -> Option<u64> {
    const PAGE: usize = 4096;
    const PAGES: usize = 1024;
    let mut held: Vec<Vec<u8>> = Vec::new();
    let mut passes = Vec::new();
    for _ in 0..3 {
        let mut memory: Vec<u8> = Vec::new();
        memory.try_reserve_exact(PAGE * PAGES).ok()?;
        let start = Instant::now();
        for page in memory.spare_capacity_mut().chunks_mut(PAGE) {
            page[0].write(1);
        }
        let ns = start.elapsed().as_nanos() / PAGES as u128;
        passes.push(u64::try_from(ns).ok()?.max(1));
        held.push(std::hint::black_box(memory));
    }
    passes.sort_unstable();
    Some(passes[1])
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

    #[test]
    fn a_page_fault_is_measured_here() {
        // Its size is the machine's (no timing is asserted): only that the probe gets memory
        // it has not touched and times it.
        assert!(page_fault_ns().is_some_and(|ns| ns > 0));
    }
}
