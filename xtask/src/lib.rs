//! The machinery behind `cargo xtask`: running the exercises, storing results, reporting.
//!
//! `main.rs` parses the command line and calls into these modules; the integration tests drive
//! them directly against fixture binaries.

pub mod compare;
pub mod env;
pub mod exercises;
pub mod format;
pub mod known;
pub mod loops;
pub mod measure;
mod process;
pub mod python;
pub mod report;
pub mod results;
pub mod run;
pub mod stats;
pub mod sweep;

/// `eprintln!` that cannot panic: stderr may be a pipe whose reader is gone (a `tee` stopped by
/// the same Ctrl-C) or a terminal that hung up, and a stop must still end cleanly.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub use process::{adopt_orphans, kill_orphans};

/// The `--out` folder when none is given, under the workspace root, as a literal so that each
/// command's `--help` names it: [`results::Layout::at`] reads it, and it is the one place every
/// default folder (runs, `latest`, baselines, venvs, sweeps) comes from.
#[macro_export]
macro_rules! default_out {
    () => {
        "target/xtask"
    };
}

/// The report's documents (Markdown, HTML) and plots, which the sweep draws too.
use std::path::{Path, PathBuf};

/// Bad input from the user: reported as one line, with exit code 2 (the exercises' type).
pub use timing::cli::UsageError;

/// The workspace root: the folder above this crate's manifest.
pub fn workspace_root() -> anyhow::Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow::anyhow!("xtask's manifest has no parent folder"))
}
