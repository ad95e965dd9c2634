//! The CPU time section: on a busy machine, each row's CPU time beside its wall time, so that a
//! reader sees whether the wall time was stretched by other load.

use super::label::full_label;
use crate::format::fmt_ns;
use crate::report::doc::Block;
use crate::results::{Row, RunResults};

use super::figures::{label_cell, load_warnings};

/// Each row's mean CPU time per process against its mean wall time, when the machine was busy
/// (the load the Warnings name) and the run recorded CPU times; nothing otherwise.
pub fn section(results: &RunResults) -> Vec<Block> {
    if load_warnings(&results.environment).is_empty() {
        return Vec::new();
    }
    let table: Vec<Vec<String>> = results.rows.iter().filter_map(cells).collect();
    if table.is_empty() {
        return Vec::new();
    }
    vec![
        Block::Heading(2, "CPU time".into()),
        Block::Para(
            "The machine was busy (see Warnings), so a process' wall time, from its start to its exit, holds time it spent waiting for a core; its CPU time (user + system, all its threads, from `wait4`) is what it used itself, which other load changes much less. Means per process, warmups included. A process that computes throughout reads near 1.00 CPU ÷ wall on a quiet machine (more on the multi-thread runtime, a core a worker); well below, other load stretched its wall time, or it slept (ex_2_2 and ex_2_7 sleep by design). A process of a few milliseconds reads lower on any machine: the runner sees it end up to 2 ms late.".into(),
        ),
        Block::Table(
            ["row", ">wall", ">CPU", ">CPU ÷ wall"]
                .map(String::from)
                .to_vec(),
            table,
        ),
    ]
}

/// A row's name, its wall and CPU time per process and their ratio; `None` where either time
/// is unknown.
fn cells(row: &Row) -> Option<Vec<String>> {
    let (wall, cpu) = (row.process_ns?, row.process_cpu_ns?);
    Some(vec![
        label_cell(&full_label(row)),
        fmt_ns(wall as f64),
        fmt_ns(cpu as f64),
        format!("{:.2}", cpu as f64 / wall as f64),
    ])
}
