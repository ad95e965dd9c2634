//! `compare BASELINE [RUN]`: a run against a saved baseline, as Markdown on stdout: first what
//! differs between the two runs (machine, load, build, flags, commit), then each row's change
//! and its verdict, where a change inside the rows' own spread is noise (`report::comparison`).

use std::process::ExitCode;

use crate::report;
use crate::report::doc;
use crate::results::{Layout, RunResults};

pub fn run(layout: &Layout, baseline: &str, run: Option<&str>) -> anyhow::Result<ExitCode> {
    let base = RunResults::read(&layout.resolve_baseline(baseline)?)?;
    let results = RunResults::read(&layout.resolve_run(run)?)?;
    print!(
        "{}",
        doc::markdown(&report::comparison(&results, baseline, &base))
    );
    Ok(ExitCode::SUCCESS)
}
