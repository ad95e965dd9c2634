//! The comparison with a baseline run: first what differs between the two runs (machine, load,
//! build, flags, commit), then each row's change, the rows' own spread, the p-value and a
//! verdict.
//!
//! A change is a regression only when it is significant (Welch, p < [`ALPHA`]), at least the
//! [`REGRESSION`] floor, and larger than the spread the two rows show by themselves: the same
//! commit run twice on a busy machine differs by more than its p-value admits, because each
//! run's samples share that run's conditions. A significant change inside that spread is noise.

use super::label::full_label;
use crate::format::fmt_ns;
use crate::report::doc::Block;
use crate::results::{Environment, Flags, Row, RunResults};
use crate::stats;

use super::figures::{ALPHA, REGRESSION};

/// A run's 1-minute load per core (besides the run's own) above which the machine was busy.
pub const BUSY_PER_CORE: f64 = 0.7;
/// How far apart two runs' loads per core may be before a change may be the load's doing: on
/// two cores, 0.5 a core is one more busy process, half of what a two-thread runtime gets.
pub const LOAD_APART_PER_CORE: f64 = 0.5;

/// The comparison with baseline `name`: what differs between the runs, then every row found in
/// both.
pub fn comparison(results: &RunResults, name: &str, base: &RunResults) -> Vec<Block> {
    let loads = Loads {
        now: Load::of(&results.environment),
        then: Load::of(&base.environment),
    };
    let notes = differences(results, base, &loads);
    let mut b = vec![
        Block::Heading(2, format!("Compared with baseline `{name}`")),
        Block::Para(format!(
            "This run `{}` against baseline run `{}`.",
            results.run_id, base.run_id
        )),
    ];
    if notes.is_empty() {
        let load = if loads.now.per_core.is_some() {
            format!("neither machine was busy ({})", loads.describe())
        } else {
            "neither run recorded its load".into()
        };
        b.push(Block::Para(format!(
            "The two runs match in machine, build, flags and commit, and {load}."
        )));
    } else {
        b.push(Block::Para(
            "**The two runs differ**, so a change below may come from this rather than from the code:".into(),
        ));
        b.push(Block::List(notes));
    }
    let mut rows = Vec::new();
    let mut regressions = 0;
    let mut explained = 0;
    let mut unmatched = 0;
    for row in &results.rows {
        let Some(old) = base.rows.iter().find(|b| b.key() == row.key()) else {
            unmatched += usize::from(row.summary.is_some());
            continue;
        };
        let (Some(now), Some(then)) = (&row.summary, &old.summary) else {
            continue;
        };
        let change = Change::of(row, old);
        let verdict = change.verdict();
        let load_note = loads.may_explain(verdict);
        if verdict == Verdict::Regression {
            regressions += 1;
            explained += usize::from(load_note);
        }
        let mut said = verdict.describe(change.spread);
        if load_note {
            said.push_str(" (the load may explain it)");
        }
        rows.push(vec![
            full_label(row),
            fmt_ns(then.mean_ns),
            fmt_ns(now.mean_ns),
            change
                .ratio
                .map(|r| format!("{:+.1}%", (r.point - 1.0) * 100.0))
                .unwrap_or_else(|| "—".into()),
            change
                .spread
                .map(|s| format!("±{:.1}%", s * 100.0))
                .unwrap_or_else(|| "—".into()),
            change
                .p
                .map(|p| format!("{p:.3}"))
                .unwrap_or_else(|| "—".into()),
            said,
        ]);
    }
    let mut summary = format!(
        "Change: ratio of geometric means, this run over the baseline. Spread: the larger, over the two rows, of a row's run-to-run spread (standard deviation over mean) and the half-width of its geometric mean's 95% interval. p: Welch's two-sided t-test on log samples. A regression is a slowdown that is significant (p < {ALPHA}), at least {:.0}% and larger than the spread; a significant change inside the spread is noise. {regressions} regression(s).",
        (REGRESSION - 1.0) * 100.0
    );
    if explained > 0 {
        summary.push_str(&format!(
            " This run's machine was busier than the baseline's, which may explain {explained} of them."
        ));
    }
    if unmatched > 0 {
        summary.push_str(&format!(
            " {unmatched} row(s) of this run have no counterpart in the baseline."
        ));
    }
    b.push(Block::Para(summary));
    b.push(Block::Table(
        [
            "row",
            ">baseline mean",
            ">this run's mean",
            ">change",
            ">spread",
            ">p",
            "verdict",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    ));
    b
}

/// One row against its baseline: the ratio, the p-value and the two rows' own spread.
struct Change {
    ratio: Option<stats::Ratio>,
    p: Option<f64>,
    /// Relative: 0.1 for ±10%.
    spread: Option<f64>,
}

impl Change {
    fn of(now: &Row, then: &Row) -> Self {
        let spread = |samples: &[u64]| {
            Some(stats::relative_half_width(samples)?.max(stats::relative_spread(samples)))
        };
        Self {
            ratio: stats::ratio(&now.samples_ns, &then.samples_ns),
            p: stats::welch_p_value(&now.samples_ns, &then.samples_ns),
            spread: spread(&now.samples_ns)
                .zip(spread(&then.samples_ns))
                .map(|(a, b)| a.max(b)),
        }
    }

    fn verdict(&self) -> Verdict {
        let (Some(r), Some(p), Some(spread)) = (self.ratio, self.p, self.spread) else {
            return Verdict::TooFewSamples;
        };
        if p >= ALPHA {
            return Verdict::NoSignificantChange;
        }
        // On the log scale, so that a halving and a doubling are the same size.
        let size = r.point.ln().abs();
        let slower = r.point > 1.0;
        if size < REGRESSION.ln() {
            return if slower {
                Verdict::SlowerUnderFloor
            } else {
                Verdict::FasterUnderFloor
            };
        }
        if size <= spread.ln_1p() {
            return if slower {
                Verdict::SlowerNoise
            } else {
                Verdict::FasterNoise
            };
        }
        if slower {
            Verdict::Regression
        } else {
            Verdict::Faster
        }
    }
}

/// What a row's change is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    TooFewSamples,
    NoSignificantChange,
    SlowerUnderFloor,
    FasterUnderFloor,
    SlowerNoise,
    FasterNoise,
    Regression,
    Faster,
}

impl Verdict {
    fn describe(self, spread: Option<f64>) -> String {
        let spread = spread.map_or_else(String::new, |s| format!("±{:.1}%", s * 100.0));
        match self {
            Verdict::TooFewSamples => "too few samples".into(),
            Verdict::NoSignificantChange => "no significant change".into(),
            Verdict::SlowerUnderFloor => "slower, under the threshold".into(),
            Verdict::FasterUnderFloor => "faster, under the threshold".into(),
            Verdict::SlowerNoise => format!("noise: slower, within the rows' {spread} spread"),
            Verdict::FasterNoise => format!("noise: faster, within the rows' {spread} spread"),
            Verdict::Regression => "**regression**".into(),
            Verdict::Faster => "faster".into(),
        }
    }

    /// Slower (+1), faster (−1), or neither (0), for a verdict that calls a change.
    fn direction(self) -> i8 {
        match self {
            Verdict::Regression => 1,
            Verdict::Faster => -1,
            _ => 0,
        }
    }
}

/// A run's 1-minute load averages and its load per core besides the run itself.
#[derive(Debug, Clone, Copy)]
struct Load {
    before: Option<f64>,
    after: Option<f64>,
    cores: usize,
    /// The higher of the figure before the run and the one after it less the run's own ~1,
    /// over the cores; `None` when neither was recorded.
    per_core: Option<f64>,
}

impl Load {
    fn of(e: &Environment) -> Self {
        let before = e.load_before.map(|l| l[0]);
        let after = e.load_after.map(|l| l[0]);
        // The run itself keeps about one core busy: the figure after it counts that too.
        let others = [before, after.map(|a| (a - 1.0).max(0.0))]
            .into_iter()
            .flatten()
            .reduce(f64::max);
        Self {
            before,
            after,
            cores: e.cores,
            per_core: others.map(|l| l / e.cores.max(1) as f64),
        }
    }

    fn busy(&self) -> bool {
        self.per_core.is_some_and(|l| l > BUSY_PER_CORE)
    }

    /// `6.10 before and 5.90 after this run on 2 cores (3.05 a core besides the run's own)`.
    fn describe(&self, whose: &str) -> String {
        let Some(per_core) = self.per_core else {
            return format!("not recorded for {whose}");
        };
        let figure =
            |f: Option<f64>| f.map_or_else(|| "not recorded".into(), |l| format!("{l:.2}"));
        format!(
            "{} before and {} after {whose} on {} cores ({per_core:.2} a core besides the run's own)",
            figure(self.before),
            figure(self.after),
            self.cores
        )
    }
}

/// Both runs' loads.
struct Loads {
    now: Load,
    then: Load,
}

impl Loads {
    /// This run's load per core less the baseline's, when both are known.
    fn apart(&self) -> Option<f64> {
        Some(self.now.per_core? - self.then.per_core?)
    }

    /// Whether the loads differ markedly.
    fn differ(&self) -> bool {
        self.apart().is_some_and(|d| d.abs() > LOAD_APART_PER_CORE)
    }

    /// Whether a change called `verdict` is in the direction the load difference would push
    /// it: slower on the busier machine, faster on the quieter one.
    fn may_explain(&self, verdict: Verdict) -> bool {
        let Some(apart) = self.apart().filter(|_| self.differ()) else {
            return false;
        };
        match verdict.direction() {
            1 => apart > 0.0,
            -1 => apart < 0.0,
            _ => false,
        }
    }

    fn describe(&self) -> String {
        format!(
            "1-minute load average {}, {}",
            self.now.describe("this run"),
            self.then.describe("the baseline")
        )
    }

    /// The load line of the differences, when either machine was busy, the loads differ
    /// markedly, or only one run recorded its load.
    fn note(&self) -> Option<String> {
        let one_unknown = self.now.per_core.is_some() != self.then.per_core.is_some();
        if !(self.now.busy() || self.then.busy() || self.differ() || one_unknown) {
            return None;
        }
        let how = if self.differ() {
            "load differs"
        } else if self.now.busy() || self.then.busy() {
            "busy machine"
        } else {
            "load known for one run only"
        };
        Some(format!("{how}: {}.", self.describe()))
    }
}

/// `name: A here, B in the baseline` when `now` and `then` differ.
fn field(name: &str, now: String, then: String) -> Option<String> {
    (now != then).then(|| format!("{name} {now} here, {then} in the baseline"))
}

/// What a page fault cost here and in the baseline (as each run began), where both runs
/// measured it and one cost a quarter more than the other or over: memory first touched is
/// part of every row's time, so the rows that take the most memory move with it.
fn page_fault_difference(now: &Environment, then: &Environment) -> Option<String> {
    let (a, b) = (now.page_fault_ns_before?, then.page_fault_ns_before?);
    let (low, high) = (a.min(b) as f64, a.max(b) as f64);
    (high >= 1.25 * low).then(|| {
        format!(
            "page fault {} here, {} in the baseline (memory first touched is part of every row's time)",
            fmt_ns(a as f64),
            fmt_ns(b as f64)
        )
    })
}

/// One line per kind of difference (machine, load, build, flags, commit), or none.
fn differences(now: &RunResults, base: &RunResults, loads: &Loads) -> Vec<String> {
    let (e, f) = (&now.environment, &base.environment);
    let group = |kind: &str, fields: Vec<Option<String>>| {
        let parts: Vec<String> = fields.into_iter().flatten().collect();
        (!parts.is_empty()).then(|| format!("{kind}: {}.", parts.join("; ")))
    };
    let governor = |g: &Option<String>| g.clone().unwrap_or_else(|| "not recorded".into());
    [
        group(
            "machine",
            vec![
                field("CPU", e.cpu_model.clone(), f.cpu_model.clone()),
                field("cores", e.cores.to_string(), f.cores.to_string()),
                field("OS", e.os.clone(), f.os.clone()),
                field("kernel", e.kernel.clone(), f.kernel.clone()),
                field(
                    "CPU governor",
                    governor(&e.governor_before),
                    governor(&f.governor_before),
                ),
                page_fault_difference(e, f),
            ],
        ),
        loads.note(),
        group(
            "build",
            vec![
                field("rustc", e.rustc.clone(), f.rustc.clone()),
                field("tokio", e.tokio.clone(), f.tokio.clone()),
            ],
        ),
        group("flags", flag_differences(&now.flags, &base.flags)),
        commit(e, f),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The flags that shape what a row measures, where they differ.
fn flag_differences(a: &Flags, b: &Flags) -> Vec<Option<String>> {
    let tasks =
        |t: Option<u64>| t.map_or_else(|| "each exercise's default".into(), |n| n.to_string());
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let list = |v: &[String], empty: &str| {
        if v.is_empty() {
            empty.to_owned()
        } else {
            v.join(", ")
        }
    };
    let quoted = |s: &str| {
        if s.is_empty() {
            "not recorded".to_owned()
        } else {
            format!("“{s}”")
        }
    };
    vec![
        field(
            "iterations",
            a.iterations.to_string(),
            b.iterations.to_string(),
        ),
        field("warmup", a.warmup.to_string(), b.warmup.to_string()),
        field("tasks", tasks(a.tasks), tasks(b.tasks)),
        field(
            "flavors",
            list(&names(&a.flavor_names()), "none"),
            list(&names(&b.flavor_names()), "none"),
        ),
        field("quick", on_off(a.quick), on_off(b.quick)),
        field("thorough", on_off(a.thorough), on_off(b.thorough)),
        field("time budget", budget(a.budget_secs), budget(b.budget_secs)),
        field("python", list(&a.python, "none"), list(&b.python, "none")),
        field(
            "Python iterations",
            a.python_iterations.to_string(),
            b.python_iterations.to_string(),
        ),
        field(
            "interpreters",
            quoted(&a.python_found),
            quoted(&b.python_found),
        ),
        field(
            "selection",
            list(&a.selection, "everything"),
            list(&b.selection, "everything"),
        ),
    ]
}

fn budget(secs: Option<u64>) -> String {
    secs.map_or_else(|| "none (fixed runs)".into(), |s| format!("{s} s"))
}

fn on_off(on: bool) -> String {
    if on { "on" } else { "off" }.into()
}

/// The commit line: another commit, or uncommitted changes on either side.
fn commit(e: &Environment, f: &Environment) -> Option<String> {
    let dirty = |d: bool| if d { " with uncommitted changes" } else { "" };
    if e.git_commit != f.git_commit {
        return Some(format!(
            "commit: `{}`{} here, `{}`{} in the baseline.",
            e.git_commit,
            dirty(e.git_dirty),
            f.git_commit,
            dirty(f.git_dirty)
        ));
    }
    let which = match (e.git_dirty, f.git_dirty) {
        (false, false) => return None,
        (true, false) => "this run",
        (false, true) => "the baseline",
        (true, true) => "both runs, which may differ",
    };
    Some(format!(
        "commit: `{}` in both, with uncommitted changes in {which}.",
        e.git_commit
    ))
}
