//! The failures known to come from a loop library and a Python version rather than from the
//! run (the catalogue's [`LOOP_INCOMPATIBILITIES`]): such a failed row is shown as "fails",
//! with its error and reason, and does not make the run exit 1. Anything else stays a failure.

use catalog::LOOP_INCOMPATIBILITIES;

use crate::format::shorten;
use crate::results::{Failure, Known, Row, RowKey};

/// Marks each failed row that matches a [`LOOP_INCOMPATIBILITIES`] incompatibility as known, with the error
/// its stderr ended with and the reason.
pub fn classify(rows: &mut [Row]) {
    for row in rows.iter_mut() {
        let key = row.key();
        if let Some(failure) = &mut row.failure {
            failure.known = known_failure(&key, failure);
        }
    }
}

/// The known incompatibility that explains `failure` of the row `key`, if one does: its loop,
/// exercise and Python version are one of [`LOOP_INCOMPATIBILITIES`]'s, and its stderr has the error.
pub fn known_failure(key: &RowKey, failure: &Failure) -> Option<Known> {
    let version = python_version(&key.implementation);
    let k = LOOP_INCOMPATIBILITIES.iter().find(|k| {
        k.loop_name == key.variant
            && k.exercises.contains(&key.exercise.as_str())
            && version.is_some_and(|v| k.python.0 <= v && v < k.python.1)
            && failure.stderr_tail.contains(k.error)
    })?;
    let error = failure
        .stderr_tail
        .lines()
        .map(str::trim)
        .rfind(|l| l.contains(k.error))
        .unwrap_or(k.error);
    Some(Known {
        error: shorten(error, 300),
        reason: k.reason.into(),
    })
}

/// `cpython-3.13.0` → `(3, 13)`; `None` for other implementations.
fn python_version(implementation: &str) -> Option<(u32, u32)> {
    let mut parts = implementation.strip_prefix("cpython-")?.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}
