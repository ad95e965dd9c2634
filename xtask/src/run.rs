//! `run-all`: build in release, run every exercise once.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

use crate::exercises::{self, Exercise};

#[derive(Debug, clap::Args)]
pub struct RunAll {}

impl RunAll {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let root = workspace_root()?;
        build_release(&root)?;
        let bin_dir = root.join("target").join("release");
        let mut failed = Vec::new();
        for ex in exercises::ALL {
            if !run_one(&bin_dir, ex)? {
                failed.push(ex.name);
            }
        }
        if failed.is_empty() {
            eprintln!(
                "run-all: {} exercises ran as expected",
                exercises::ALL.len()
            );
            Ok(ExitCode::SUCCESS)
        } else {
            eprintln!("run-all: failed: {}", failed.join(", "));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The workspace root: the folder above this crate's manifest.
pub fn workspace_root() -> anyhow::Result<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .context("xtask's manifest has no parent folder")
}

fn build_release(root: &Path) -> anyhow::Result<()> {
    eprintln!("run-all: cargo build --release --workspace");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--workspace", "--bins"])
        .current_dir(root)
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release failed ({status})");
    }
    Ok(())
}

/// Runs one exercise with no flags, passing its output through; true when it exited as expected.
fn run_one(bin_dir: &Path, ex: &Exercise) -> anyhow::Result<bool> {
    let exe = bin_dir.join(ex.name);
    eprintln!("\n== {} (variant {})", ex.name, ex.variants[0]);
    let status = Command::new(&exe)
        .status()
        .with_context(|| format!("starting {}", exe.display()))?;
    let ok = status.code() == Some(ex.expected_exit);
    if !ok {
        eprintln!(
            "{}: exited with {status}, expected code {}",
            ex.name, ex.expected_exit
        );
    }
    Ok(ok)
}
