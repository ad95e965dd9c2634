//! The Pitfalls section: what the most natural Rust translation of `asyncio.gather(*tasks)`
//! costs under tokio's cooperative budget, with the growth measured in this run.

use timing::cli::Flavor;

use super::label::label;
use crate::format::fmt_ns;
use crate::results::{Row, RunResults};
use crate::stats;

use super::doc::Block;
use super::figures::{per_task_ns, times};

/// The gathers over `JoinHandle`s whose cost grows with the square of the work.
const QUADRATIC: [&str; 2] = ["join_handles", "futures_unordered"];

/// Whether `variant` of `exercise` is one this section calls quadratic: what not to write, so
/// never the row a report tags as idiomatic.
pub(crate) fn is_quadratic(exercise: &str, variant: &str) -> bool {
    exercise == "ex_6_2" && QUADRATIC.contains(&variant)
}

/// How a quadratic variant's time grew between two counts measured in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Growth {
    pub label: String,
    pub counts: (u64, u64),
    /// How many times longer a run took at the larger count, with its 95% interval.
    pub ratio: stats::Ratio,
}

impl Growth {
    /// The exponent `k` in time ∝ nᵏ, with its interval: 1 is linear, 2 quadratic.
    pub fn slope(&self) -> (f64, f64, f64) {
        let span = (self.counts.1 as f64 / self.counts.0 as f64).ln();
        (
            self.ratio.point.ln() / span,
            self.ratio.low.ln() / span,
            self.ratio.high.ln() / span,
        )
    }
}

/// Every quadratic variant that ran at two counts (its cap and a quarter of it), per flavor.
pub fn growths(r: &RunResults) -> Vec<Growth> {
    let mut out = Vec::new();
    let plain = |row: &&Row| {
        row.exercise == "ex_6_2"
            && is_quadratic(&row.exercise, &row.variant)
            && row.entry.is_none()
            && row.measure.is_none()
            && !row.samples_ns.is_empty()
    };
    let rows: Vec<&Row> = r.rows.iter().filter(plain).collect();
    for small in &rows {
        let larger = rows.iter().find(|big| {
            big.variant == small.variant
                && big.flavor == small.flavor
                && big.tasks.zip(small.tasks).is_some_and(|(b, s)| b > s)
        });
        if let (Some(big), Some(s), Some(b)) = (larger, small.tasks, larger.and_then(|l| l.tasks))
            && let Some(ratio) = stats::ratio(&big.samples_ns, &small.samples_ns)
        {
            out.push(Growth {
                // The counts have a column of their own.
                label: format!(
                    "{} ({})",
                    big.variant,
                    big.flavor.unwrap_or(Flavor::Current)
                ),
                counts: (s, b),
                ratio,
            });
        }
    }
    out
}

/// The section, when the run measured a gather over `JoinHandle`s.
pub fn section(r: &RunResults) -> Vec<Block> {
    // A variant's plain current-thread row; of a capped one run at two counts, the larger.
    let row_of = |exercise: &str, variant: &str| {
        r.rows
            .iter()
            .filter(|row| {
                row.exercise == exercise
                    && row.variant == variant
                    && row.flavor == Some(Flavor::Current)
                    && row.entry.is_none()
                    && row.measure.is_none()
                    && row.summary.is_some()
            })
            .max_by_key(|row| row.tasks)
    };
    let find = |variant: &str| row_of("ex_6_2", variant);
    let Some(quadratic) = QUADRATIC.iter().find_map(|v| find(v)) else {
        return Vec::new();
    };
    let per_task = |row: Option<&Row>| {
        row.and_then(per_task_ns)
            .map(|ns| format!("{} a task", fmt_ns(ns)))
            .unwrap_or_else(|| "not run".into())
    };
    let mut b = vec![
        Block::Heading(2, "Pitfalls".into()),
        Block::Para(format!(
            "**`join_all` over `JoinHandle`s is quadratic under tokio's cooperative budget.** It is the direct translation of `asyncio.gather(*tasks)`: spawn each coroutine, then `join_all(handles).await`. Here it took {} (`{}`), against {} for spawning and awaiting each handle in turn (`spawn_gather`, at 10⁶).",
            per_task(Some(quadratic)),
            label(quadratic),
            per_task(find("spawn_gather")),
        )),
    ];
    let growths = growths(r);
    if !growths.is_empty() {
        let rows = growths
            .iter()
            .map(|g| {
                let (k, lo, hi) = g.slope();
                vec![
                    g.label.clone(),
                    format!("{} → {}", g.counts.0, g.counts.1),
                    times(g.ratio.point),
                    format!("{k:.2} [{lo:.2}, {hi:.2}]"),
                ]
            })
            .collect();
        b.push(Block::Para(
            "Measured in this run at two counts: a slope of 1 is linear, 2 quadratic.".into(),
        ));
        b.push(Block::Table(
            [
                "row",
                ">tasks",
                ">time a run grew",
                ">slope (log-log) [95% CI]",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        ));
    }
    b.push(Block::List(vec![
        "Why: each time tokio polls a task it gives it a budget of 128. A `JoinHandle` whose task has finished spends one unit to hand over its result; with the budget spent it returns `Pending` and has itself woken once the gathering task has yielded. Past 30 futures `join_all` runs on a `FuturesOrdered`, a `FuturesUnordered` inside, which on every wake-up polls each handle still pending. So every wake-up collects 128 results and polls all the rest for nothing: about n/128 wake-ups of n polls, n²/256 polls in all. A `FuturesUnordered` of the handles does the same.".into(),
        format!(
            "What to write instead: a `JoinSet` (`join_next` hands over one finished task per poll, with no scan; ex_6_1's `joinset`: {}), this project's task group or `taskgroup::gather`, or spawn and await each handle in order (`spawn_gather`). `tokio::task::unconstrained` around the `join_all` makes it linear again ({}), at a price in fairness: the gathering task then never yields while results are ready, so every other task on its worker waits until it is done.",
            per_task(row_of("ex_6_1", "joinset")),
            per_task(find("join_handles_unconstrained")),
        ),
    ]));
    b
}
