//! What a row is called: in the report's tables and sentences, and on the progress lines.
//!
//! The names come from the catalogue (whether a variant is held to a task cap, which script
//! variant a Python row ran), so they live here, on the report's side, not in the results'
//! schema, which stores what ran and needs no catalogue to read it.

use timing::cli::Measure;

use crate::exercises;
use crate::results::{GC_OFF, Implementation, Row, RowKey};

/// How the report names the row within its exercise: `eager (current)`, `CPython 3.12.1`,
/// `CPython 3.12.1 + uvloop`, `CPython 3.12.1, gc off`, `CPython 3.12.1, scheduled` (a
/// script variant), `PyPy 7.3.11`.
pub fn label(row: &Row) -> String {
    if let Some(f) = &row.flavor {
        // A variant held to a task cap runs at another count than its neighbours (and at
        // two counts in one run): its label says how many.
        let capped = exercises::find(&row.exercise)
            .and_then(|ex| ex.variant(&row.variant))
            .is_some_and(|v| v.max_tasks.is_some());
        let count = match row.tasks {
            Some(n) if capped => format!(", {n} tasks"),
            _ => String::new(),
        };
        return match &row.entry {
            Some(entry) => format!("{} ({f}{count}, from {entry})", row.variant),
            None => format!("{} ({f}{count})", row.variant),
        };
    }
    let name = match row.kind() {
        Implementation::CPython {
            version,
            free_threaded,
        } => format!("CPython {version}{}", if free_threaded { "t" } else { "" }),
        Implementation::PyPy { version } => format!("PyPy {version}"),
        _ => return format!("{} ({})", row.variant, row.implementation),
    };
    if let Some(v) =
        exercises::find(&row.exercise).and_then(|ex| ex.script_variant_of_row(&row.variant))
    {
        return format!("{name}, {}", v.name);
    }
    match row.variant.as_str() {
        "asyncio" => name,
        GC_OFF => format!("{name}, gc off"),
        other => format!("{name} + {other}"),
    }
}

/// The row's name where rows of every exercise and kind stand together (the baseline
/// comparison, the CPU table, the failures, the warnings): its exercise, its [`label`], and
/// `, start latency` for a row whose tasks were also each timed, which would otherwise read
/// as a second copy of the same variant's throughput row.
pub fn full_label(row: &Row) -> String {
    let latency = match row.measure {
        Some(Measure::StartLatency) => ", start latency",
        _ => "",
    };
    format!("{} {}{latency}", row.exercise, label(row))
}

/// The row `key` names as the progress lines name it, so that each kind of run reads apart:
/// `ex_6_1:spawn (current)`, `ex_6_1:spawn (current, block_on)`, `ex_6_1:spawn (current,
/// start latency)`, `ex_6_2:join_handles (current, 12500 tasks)`, `ex_6_2 CPython 3.12.1 +
/// uvloop`.
pub fn progress_label(key: &RowKey) -> String {
    let row = Row::skipped(key.clone(), String::new());
    if row.is_python() {
        return format!("{} {}", key.exercise, label(&row));
    }
    let mut notes: Vec<String> = key.flavor.iter().map(|f| f.to_string()).collect();
    if let Some(entry) = key.entry {
        notes.push(entry.name().into());
    }
    if key.measure == Some(Measure::StartLatency) {
        notes.push("start latency".into());
    }
    let capped = exercises::find(&key.exercise)
        .is_some_and(|ex| ex.default_tasks.is_some() && ex.default_tasks != key.tasks);
    if let (true, Some(n)) = (capped, key.tasks) {
        notes.push(format!("{n} tasks"));
    }
    format!("{}:{} ({})", key.exercise, key.variant, notes.join(", "))
}
