//! The Claims section: each claim the chapter makes, and the project's own targets, as a ratio
//! of two rows measured in the run, with whether its whole 95% interval clears the bound.

use timing::cli::Flavor;

use crate::results::{Row, RunResults};

use super::{fmt_ratio, per_task_mean, per_task_ratio};

/// Which row of an exercise a claim reads.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// A Rust variant on the current-thread runtime.
    Rust(&'static str),
    /// The CPython row of this `major.minor`, any patch level.
    Python(u32, u32),
    /// The fastest Python row a user could pick: any interpreter, loop or knob.
    FastestPython,
}

impl Who {
    fn label(self) -> String {
        match self {
            Who::Rust(variant) => format!("{variant} (current)"),
            Who::Python(major, minor) => format!("CPython {major}.{minor}"),
            Who::FastestPython => "fastest Python".into(),
        }
    }
}

fn find<'a>(r: &'a RunResults, exercise: &str, who: Who) -> Option<&'a Row> {
    if let Who::FastestPython = who {
        return r
            .rows
            .iter()
            .filter(|row| row.exercise == exercise && row.is_python())
            .filter_map(|row| Some((row, per_task_mean(row)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(row, _)| row);
    }
    r.rows.iter().find(|row| {
        row.exercise == exercise
            && !row.samples_ns.is_empty()
            && row.entry.is_none()
            && row.measure.is_none()
            && match who {
                Who::Rust(variant) => row.variant == variant && row.flavor == Some(Flavor::Current),
                Who::Python(major, minor) => row.is_chapter_cpython(major, minor),
                Who::FastestPython => false,
            }
    })
}

/// What a claim's ratio must do to hold.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// The whole interval above this.
    Above(f64),
    /// The whole interval below this.
    Below(f64),
}

/// One claim about the ratio `a / b` of two rows.
fn claim_row(
    r: &RunResults,
    claim: &str,
    source: &str,
    a: (&str, Who),
    b: (&str, Who),
    bound: Bound,
) -> Vec<String> {
    let (x, y) = (find(r, a.0, a.1), find(r, b.0, b.1));
    // The row as it ran (`CPython 3.12.1 + uvloop`), or what the claim needs.
    let name = |(ex, who): (&str, Who), row: Option<&Row>| {
        format!("`{ex} {}`", row.map_or_else(|| who.label(), Row::label))
    };
    let (a, b) = (name(a, x), name(b, y));
    let (measured, holds) = match (x, y) {
        (Some(x), Some(y)) => match per_task_ratio(x, y) {
            Some(ratio) => {
                let (clear, point) = match bound {
                    Bound::Above(t) => (ratio.low > t, ratio.point > t),
                    Bound::Below(t) => (ratio.high < t, ratio.point < t),
                };
                let holds = if clear {
                    "yes"
                } else if point {
                    "unclear: the interval crosses the threshold"
                } else {
                    // Bold: it stands out in the Markdown, and the HTML marks the cell.
                    "**no**"
                };
                (format!("{a} ÷ {b}: {}", fmt_ratio(ratio)), holds.to_owned())
            }
            None => (format!("{a} ÷ {b}: too few samples"), "not measured".into()),
        },
        _ => (format!("needs rows {a} and {b}"), "not measured".into()),
    };
    vec![claim.into(), source.into(), measured, holds]
}

pub fn claims(r: &RunResults) -> Vec<Vec<String>> {
    let eager = "An eager TaskGroup (ex_6_1) is several times faster than gather (ex_6_2); the chapter's test asks for more than 4×";
    let nearly_six = "\"nearly 6 times faster\" (CPython 3.12)";
    let mut rows = vec![
        claim_row(
            r,
            eager,
            nearly_six,
            ("ex_6_2", Who::Python(3, 12)),
            ("ex_6_1", Who::Python(3, 12)),
            Bound::Above(4.0),
        ),
        claim_row(
            r,
            eager,
            nearly_six,
            ("ex_6_2", Who::Python(3, 13)),
            ("ex_6_1", Who::Python(3, 13)),
            Bound::Above(4.0),
        ),
        claim_row(
            r,
            eager,
            "the same pair in Rust",
            ("ex_6_2", Who::Rust("join_all")),
            ("ex_6_1", Who::Rust("eager")),
            Bound::Above(4.0),
        ),
        claim_row(
            r,
            "Eager task start makes task-heavy code 2× to 5× faster (at least 2×)",
            "\"making some use-cases 2x to 5x faster\"",
            ("ex_6_1", Who::Rust("spawn")),
            ("ex_6_1", Who::Rust("eager")),
            Bound::Above(2.0),
        ),
        claim_row(
            r,
            "`current_task` is much faster in CPython 3.12 than in 3.10 (at least 4×)",
            "\"nearly six times\": 0.05 s against 0.33 s on the author's PC",
            ("ex_6_3", Who::Python(3, 10)),
            ("ex_6_3", Who::Python(3, 12)),
            Bound::Above(4.0),
        ),
        claim_row(
            r,
            "Eager ex_6_1 costs at most 3× its floor (each future polled once inline)",
            "this project's target",
            ("ex_6_1", Who::Rust("eager")),
            ("ex_6_1", Who::Rust("floor")),
            Bound::Below(3.0),
        ),
        claim_row(
            r,
            "A gather that polls the futures where they lie costs at most 3× its floor",
            "this project's target",
            ("ex_6_2", Who::Rust("gather_in_place")),
            ("ex_6_2", Who::Rust("floor")),
            Bound::Below(3.0),
        ),
        claim_row(
            r,
            "Eager ex_6_1 is at least 300× faster than CPython 3.12's",
            "this project's target",
            ("ex_6_1", Who::Python(3, 12)),
            ("ex_6_1", Who::Rust("eager")),
            Bound::Above(300.0),
        ),
        claim_row(
            r,
            "Eager ex_6_1 is at least 500× faster than the fastest Python alternative measured (CPython on any loop, or PyPy)",
            "this project's target",
            ("ex_6_1", Who::FastestPython),
            ("ex_6_1", Who::Rust("eager")),
            Bound::Above(500.0),
        ),
        claim_row(
            r,
            "ex_6_2 `join_all` is at least 80× faster than CPython 3.12's gather",
            "this project's target",
            ("ex_6_2", Who::Python(3, 12)),
            ("ex_6_2", Who::Rust("join_all")),
            Bound::Above(80.0),
        ),
        claim_row(
            r,
            "ex_6_3 `try_id` is at least 25× faster than CPython 3.12's `current_task`",
            "this project's target",
            ("ex_6_3", Who::Python(3, 12)),
            ("ex_6_3", Who::Rust("try_id")),
            Bound::Above(25.0),
        ),
        claim_row(
            r,
            "Spawning through a task group costs no more than bare `tokio::spawn` of the same tasks (at most 1×)",
            "this project's target",
            ("ex_6_1", Who::Rust("spawn")),
            ("ex_6_1", Who::Rust("bare_spawn")),
            Bound::Below(1.0),
        ),
        claim_row(
            r,
            "Spawning through this project's group, which also cancels and gathers errors as asyncio does, costs at most 1× `TaskTracker`'s",
            "this project's target",
            ("ex_6_1", Who::Rust("spawn")),
            ("ex_6_1", Who::Rust("tracker")),
            Bound::Below(1.0),
        ),
        claim_row(
            r,
            "… and at most 0.7× `JoinSet`'s",
            "this project's target",
            ("ex_6_1", Who::Rust("spawn")),
            ("ex_6_1", Who::Rust("joinset")),
            Bound::Below(0.7),
        ),
        claim_row(
            r,
            "An item through `queue::Queue` (queue_pc) is at least 20× faster than through CPython 3.12's `asyncio.Queue`",
            "this project's target",
            ("queue_pc", Who::Python(3, 12)),
            ("queue_pc", Who::Rust("queue")),
            Bound::Above(20.0),
        ),
    ];
    // A CPython 3.13 row repeats the 3.12 claim; leave it out when 3.13 did not run.
    rows.retain(|row| {
        !(row[1] == nearly_six && row[3] == "not measured" && row[2].contains("CPython 3.13"))
    });
    rows
}
