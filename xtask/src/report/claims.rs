//! The Claims section: each claim the chapter makes, and the project's own targets, as how many
//! times faster one row is than another, with whether its whole 95% interval clears the bound.
//!
//! The chapter's two claims read the Answers' own pairs ([`answers::EAGER_OVER_GATHER`],
//! [`answers::CURRENT_TASK`]), so the table and the Answers give the same figure.

use super::label::label;
use crate::results::RunResults;

use super::answers::{self, Pair, Verdict, Who};
use super::figures::fmt_speedup;

/// One claim: `pair.subject` is more than `faster` times faster than `pair.reference`. (A
/// claim that a row costs at most k× another is a speedup above 1/k.)
fn claim_row(r: &RunResults, claim: &str, source: &str, pair: Pair, faster: f64) -> Vec<String> {
    let c = pair.compare(r);
    let (measured, holds) = match (&c.subject, &c.reference, c.speedup()) {
        (Ok(subject), Ok(reference), Some(s)) => {
            let holds = match Verdict::of(s, faster) {
                Verdict::Yes => "yes",
                // Bold: it stands out in the Markdown, and the HTML marks the cell.
                Verdict::No => "**no**",
                Verdict::Unclear if s.interval.is_none() => "unclear: one run, no interval",
                Verdict::Unclear => "unclear: the interval crosses the threshold",
            };
            (
                format!(
                    "`{} {}` against `{} {}`: {}",
                    pair.subject.0,
                    label(subject),
                    pair.reference.0,
                    label(reference),
                    fmt_speedup(s)
                ),
                holds,
            )
        }
        _ => (
            format!("needs {}", c.missing(pair).join("; ")),
            "not measured",
        ),
    };
    vec![claim.into(), source.into(), measured, holds.into()]
}

/// `subject` of `ex` against `reference` of `ex`.
fn within(ex: &'static str, subject: Who, reference: Who) -> Pair {
    Pair {
        subject: (ex, subject),
        reference: (ex, reference),
    }
}

/// This project's own targets, after the chapter's claims: the claim, the exercise, the row
/// that is faster, the row it is compared with, and how many times faster it must be (a row
/// that costs at most k× another is faster by 1/k).
const TARGETS: [(&str, &str, Who, Who, f64); 10] = {
    use Who::{FastestPython, Python, Rust};
    [
        (
            "Eager ex_6_1 costs at most 3× its floor (each future polled once inline)",
            "ex_6_1",
            Rust("eager"),
            Rust("floor"),
            1.0 / 3.0,
        ),
        (
            "A gather that polls the futures where they lie costs at most 3× its floor",
            "ex_6_2",
            Rust("gather_in_place"),
            Rust("floor"),
            1.0 / 3.0,
        ),
        (
            "Eager ex_6_1 is at least 300× faster than CPython 3.12's",
            "ex_6_1",
            Rust("eager"),
            Python(3, 12),
            300.0,
        ),
        (
            "Eager ex_6_1 is at least 500× faster than the fastest Python alternative measured (CPython on any loop, or PyPy)",
            "ex_6_1",
            Rust("eager"),
            FastestPython,
            500.0,
        ),
        (
            "ex_6_2 `join_all` is at least 80× faster than CPython 3.12's gather",
            "ex_6_2",
            Rust("join_all"),
            Python(3, 12),
            80.0,
        ),
        (
            "ex_6_3 `try_id` is at least 25× faster than CPython 3.12's `current_task`",
            "ex_6_3",
            Rust("try_id"),
            Python(3, 12),
            25.0,
        ),
        (
            "Spawning through a task group costs no more than bare `tokio::spawn` of the same tasks (at most 1×)",
            "ex_6_1",
            Rust("spawn"),
            Rust("bare_spawn"),
            1.0,
        ),
        (
            "Spawning through this project's group, which also cancels and gathers errors as asyncio does, costs at most 1× `TaskTracker`'s",
            "ex_6_1",
            Rust("spawn"),
            Rust("tracker"),
            1.0,
        ),
        (
            "… and at most 0.7× `JoinSet`'s",
            "ex_6_1",
            Rust("spawn"),
            Rust("joinset"),
            1.0 / 0.7,
        ),
        (
            "An item through `queue::Queue` (queue_pc) is at least 20× faster than through CPython 3.12's `asyncio.Queue`",
            "queue_pc",
            Rust("queue"),
            Python(3, 12),
            20.0,
        ),
    ]
};

pub fn claims(r: &RunResults) -> Vec<Vec<String>> {
    use Who::{Python, Rust};
    let eager = "An eager TaskGroup (ex_6_1) is several times faster than gather (ex_6_2); the chapter's test asks for more than 4×";
    let nearly_six = "\"nearly 6 times faster\" (CPython 3.12)";
    let target = "this project's target";
    let mut rows = vec![
        claim_row(
            r,
            eager,
            nearly_six,
            answers::EAGER_OVER_GATHER,
            answers::EAGER_OVER_GATHER_AT_LEAST,
        ),
        claim_row(
            r,
            eager,
            nearly_six,
            Pair {
                subject: ("ex_6_1", Python(3, 13)),
                reference: ("ex_6_2", Python(3, 13)),
            },
            answers::EAGER_OVER_GATHER_AT_LEAST,
        ),
        claim_row(
            r,
            eager,
            "the same pair in Rust",
            Pair {
                subject: ("ex_6_1", Rust("eager")),
                reference: ("ex_6_2", Rust("join_all")),
            },
            answers::EAGER_OVER_GATHER_AT_LEAST,
        ),
        claim_row(
            r,
            "Eager task start makes task-heavy code 2× to 5× faster (at least 2×)",
            "\"making some use-cases 2x to 5x faster\"",
            within("ex_6_1", Rust("eager"), Rust("spawn")),
            2.0,
        ),
        claim_row(
            r,
            "`current_task` is much faster in CPython 3.12 than in 3.10 (at least 4×)",
            "\"nearly six times\": 0.05 s against 0.33 s on the author's PC",
            answers::CURRENT_TASK,
            answers::CURRENT_TASK_AT_LEAST,
        ),
    ];
    rows.extend(
        TARGETS
            .iter()
            .map(|&(claim, ex, subject, reference, faster)| {
                claim_row(r, claim, target, within(ex, subject, reference), faster)
            }),
    );
    // A CPython 3.13 row repeats the 3.12 claim; leave it out when 3.13 did not run.
    rows.retain(|row| {
        !(row[1] == nearly_six && row[3] == "not measured" && row[2].contains("CPython 3.13"))
    });
    rows
}
