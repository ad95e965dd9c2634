//! The Failures section: the rows that failed and the last lines of what each wrote to stderr,
//! in the run's report and the sweep's.

use crate::results::{Failure, Row, RunResults};

use super::doc::Block;
use super::label::full_label;

/// The Failures section: each failed row, its reason and its stderr's last lines.
pub(super) fn failures(results: &RunResults) -> Vec<Block> {
    let mut b = Vec::new();
    let failed: Vec<&Row> = results
        .rows
        .iter()
        .filter(|r| r.failed_unexpectedly())
        .collect();
    if !failed.is_empty() {
        b.push(Block::Heading(2, "Failures".into()));
        let rows = failed
            .iter()
            .filter_map(|r| {
                let f = r.failure.as_ref()?;
                Some(vec![full_label(r), f.reason.clone()])
            })
            .collect();
        b.push(Block::Table(
            ["row", "reason"].map(String::from).to_vec(),
            rows,
        ));
        b.extend(stderr_tails(
            failed.iter().map(|r| (full_label(r), r.failure.as_ref())),
        ));
    }
    b
}

/// Each failed row's stderr tail as it was printed, under the row's name: a child's output is
/// text, never markup, in Markdown as in HTML.
pub(super) fn stderr_tails<'a>(
    failed: impl Iterator<Item = (String, Option<&'a Failure>)>,
) -> Vec<Block> {
    let mut b = Vec::new();
    for (name, failure) in failed {
        let Some(f) = failure.filter(|f| !f.stderr_tail.trim().is_empty()) else {
            continue;
        };
        b.push(Block::Para(format!(
            "`{name}`: the last lines of its stderr."
        )));
        b.push(Block::Code(f.stderr_tail.clone()));
    }
    b
}
