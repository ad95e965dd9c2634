//! The comparison with a baseline run: each row's change, its p-value and a verdict.

use crate::doc::Block;
use crate::format::fmt_ns;
use crate::results::RunResults;
use crate::stats;

use super::{ALPHA, REGRESSION};

/// The comparison with baseline `name`: every row found in both runs.
pub fn comparison(results: &RunResults, name: &str, base: &RunResults) -> Vec<Block> {
    let mut rows = Vec::new();
    let mut regressions = 0;
    for row in &results.rows {
        let Some(old) = base.rows.iter().find(|b| b.key() == row.key()) else {
            continue;
        };
        let (Some(now), Some(then)) = (&row.summary, &old.summary) else {
            continue;
        };
        let ratio = stats::ratio(&row.samples_ns, &old.samples_ns);
        let p = stats::welch_p_value(&row.samples_ns, &old.samples_ns);
        let verdict = match (ratio, p) {
            (Some(r), Some(p)) if p < ALPHA && r.point >= REGRESSION => {
                regressions += 1;
                "**regression**"
            }
            (Some(r), Some(p)) if p < ALPHA && r.point < 1.0 => "faster",
            (Some(_), Some(p)) if p < ALPHA => "slower, under the threshold",
            (Some(_), Some(_)) => "no significant change",
            _ => "too few samples",
        };
        rows.push(vec![
            format!("{} {}", row.exercise, row.label()),
            fmt_ns(then.mean_ns),
            fmt_ns(now.mean_ns),
            ratio
                .map(|r| format!("{:+.1}%", (r.point - 1.0) * 100.0))
                .unwrap_or_else(|| "—".into()),
            p.map(|p| format!("{p:.3}")).unwrap_or_else(|| "—".into()),
            verdict.into(),
        ]);
    }
    vec![
        Block::Heading(2, format!("Compared with baseline `{name}`")),
        Block::Para(format!(
            "Baseline run `{}`. Change: ratio of geometric means, this run over the baseline. p: Welch's two-sided t-test on log samples. {} regression(s).",
            base.run_id, regressions
        )),
        Block::Table(
            [
                "row",
                ">baseline mean",
                ">this run's mean",
                ">change",
                ">p",
                "verdict",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        ),
    ]
}
