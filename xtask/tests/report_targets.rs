//! The Targets section: issue 24's four targets, each met, not met, unclear or not measured as
//! its interval (or a missing row) says, in the same sentences in Markdown, HTML and on the
//! terminal.

mod common;

use xtask::report;
use xtask::report::doc;
use xtask::results::{Row, RunResults};

/// A Rust row on the current-thread runtime at `tasks`, its samples in milliseconds.
fn at(exercise: &str, variant: &str, tasks: u64, ms: &[f64]) -> Row {
    Row::new(
        common::key(exercise, variant, "current", Some(tasks)),
        ms.iter().map(|m| (m * 1e6) as u64).collect(),
        None,
    )
}

const MILLION: u64 = 1_000_000;
const TIGHT: [f64; 3] = [1.0, 1.01, 0.99];
/// About 1×, with an interval from about 0.3× to 3×.
const WIDE: [f64; 3] = [0.6, 1.6, 1.0];

/// `ms` scaled by `k`.
fn times(ms: &[f64], k: f64) -> Vec<f64> {
    ms.iter().map(|m| m * k).collect()
}

/// Target `i` (0 to 3) of `run`, as the report lists it.
fn target(run: &RunResults, i: usize) -> String {
    let targets = report::targets(run);
    assert_eq!(targets.len(), 4, "{targets:?}");
    targets[i].clone()
}

/// suspend_once at 10^6 tasks: tracker at 1 s, and `variant` at `ms`.
fn against_tracker(variant: &str, ms: &[f64]) -> RunResults {
    common::results(
        "t",
        vec![
            at("suspend_once", "tracker", MILLION, &times(&TIGHT, 1_000.0)),
            at("suspend_once", variant, MILLION, ms),
        ],
    )
}

#[test]
fn the_polled_group_against_task_tracker_follows_its_interval() {
    let says = "Polled group at most 0.35× TaskTracker's time a task (suspend_once, 10^6 tasks): ";
    let met = target(&against_tracker("polled", &times(&TIGHT, 280.0)), 0);
    assert_eq!(
        met,
        format!(
            "{says}polled (current) takes 0.28× [0.27×, 0.29×] the time a task of tracker (current): met, the whole 95% interval is below 0.35×."
        )
    );
    let not_met = target(&against_tracker("polled", &times(&TIGHT, 500.0)), 0);
    assert!(
        not_met.starts_with(&format!("{says}polled (current) takes 0.50× ["))
            && not_met.ends_with(": not met, the whole 95% interval is above 0.35×."),
        "{not_met}"
    );
    // The point (0.35× or so) says nothing alone: the interval takes the ceiling in.
    let unclear = target(&against_tracker("polled", &times(&WIDE, 350.0)), 0);
    assert!(
        unclear.ends_with(": unclear, the 95% interval takes in 0.35×."),
        "{unclear}"
    );
    // One run on a side: no interval, nothing decided.
    let once = target(&against_tracker("polled", &[280.0]), 0);
    assert!(
        once.ends_with(" the time a task of tracker (current): unclear: one run, no interval."),
        "{once}"
    );
}

#[test]
fn the_scheduled_group_against_task_tracker_follows_its_interval() {
    let says =
        "Scheduled group at most 1.1× TaskTracker's time a task (suspend_once, 10^6 tasks): ";
    let met = target(&against_tracker("scheduled", &times(&TIGHT, 1_000.0)), 3);
    assert!(
        met.starts_with(&format!("{says}scheduled (current) takes 1.00× ["))
            && met.ends_with(": met, the whole 95% interval is below 1.1×."),
        "{met}"
    );
    let not_met = target(&against_tracker("scheduled", &times(&TIGHT, 1_400.0)), 3);
    assert!(
        not_met.ends_with(": not met, the whole 95% interval is above 1.1×."),
        "{not_met}"
    );
    let unclear = target(&against_tracker("scheduled", &times(&WIDE, 1_100.0)), 3);
    assert!(
        unclear.ends_with(": unclear, the 95% interval takes in 1.1×."),
        "{unclear}"
    );
}

/// ex_6_1 with eager at 1 ms and polled_eager at `ms`, at the default count.
fn eager_against(ms: &[f64]) -> RunResults {
    common::results(
        "t",
        vec![
            at("ex_6_1", "eager", MILLION, &TIGHT),
            at("ex_6_1", "polled_eager", MILLION, ms),
        ],
    )
}

#[test]
fn the_polled_group_with_eager_start_against_the_eager_group_follows_its_interval() {
    let says =
        "Polled group with eager start within 1.25× of the eager group's time a task (ex_6_1): ";
    let met = target(&eager_against(&times(&TIGHT, 1.1)), 2);
    assert!(
        met.starts_with(&format!(
            "{says}polled_eager (current) takes 1.10× [1.08×, 1.13×] the time a task of eager (current): met"
        )),
        "{met}"
    );
    let not_met = target(&eager_against(&times(&TIGHT, 1.5)), 2);
    assert!(
        not_met.ends_with(": not met, the whole 95% interval is above 1.25×."),
        "{not_met}"
    );
    let unclear = target(&eager_against(&times(&WIDE, 1.25)), 2);
    assert!(
        unclear.ends_with(": unclear, the 95% interval takes in 1.25×."),
        "{unclear}"
    );
    // ex_6_1 ran without polled_eager: the row is named, and why it is missing.
    let run = common::results("t", vec![at("ex_6_1", "eager", MILLION, &TIGHT)]);
    assert_eq!(
        target(&run, 2),
        format!("{says}not measured: ex_6_1 polled_eager (current): not in this run.")
    );
}

/// suspend_once polled at 10^5 tasks, `ms` a run; its processes, from start to exit, took
/// `wall_ms` and used `cpu_ms` of CPU time (`None`: a results.json from before CPU times).
fn polled_at_100k(ms: &[f64], process: Option<(u64, u64)>) -> RunResults {
    let mut row = at("suspend_once", "polled", 100_000, ms);
    row.process_ns = process.map(|(wall, _)| wall * 1_000_000);
    row.process_cpu_ns = process.map(|(_, cpu)| cpu * 1_000_000);
    common::results("t", vec![row])
}

/// [`polled_at_100k`] on a machine busy during the run.
fn busy(ms: &[f64], process: Option<(u64, u64)>) -> RunResults {
    let mut run = polled_at_100k(ms, process);
    run.environment.load_after = Some([4.2, 3.0, 2.0]);
    run
}

#[test]
fn the_polled_groups_time_a_task_follows_its_interval_and_names_what_was_timed() {
    let says = "Polled group at most 100 ns a task in CPU time (suspend_once, 10^5 tasks): ";
    // 6 ms for 10^5 tasks: 60 ns a task. Its processes took 9 ms and used 8 ms of CPU time:
    // 3 ms outside the span, so the span used at least 5 ms, 50 ns a task.
    let met = target(&polled_at_100k(&times(&TIGHT, 6.0), Some((9, 8))), 1);
    assert!(
        met.starts_with(&format!("{says}polled (current) takes 60.0 ns [")) && met.ends_with(
            " a task in its timed span (wall time on the runtime's one thread, which is at least its CPU time; its processes' CPU time, start-up and exit included, less their wall time outside the span: at least 50.0 ns a task, from means with no interval): met, the whole 95% interval is below 100 ns."
        ),
        "{met}"
    );
    // Without the processes' times (an older results.json), the span's figure alone.
    let old = target(&polled_at_100k(&times(&TIGHT, 6.0), None), 1);
    assert!(
        old.contains("which is at least its CPU time): met,"),
        "{old}"
    );
    let not_met = target(&polled_at_100k(&times(&TIGHT, 15.0), Some((18, 17))), 1);
    assert!(
        not_met.contains("takes 150 ns [")
            && not_met.ends_with(": not met, the whole 95% interval is above 100 ns."),
        "{not_met}"
    );
    let unclear = target(&polled_at_100k(&times(&WIDE, 10.0), Some((13, 12))), 1);
    assert!(
        unclear.ends_with(": unclear, the 95% interval takes in 100 ns."),
        "{unclear}"
    );
}

#[test]
fn on_a_busy_machine_a_span_over_the_ceiling_fails_only_if_its_cpu_time_does() {
    // The processes used 17 ms of CPU time, at most 3 ms of it outside the span: the span used
    // at least 140 ns a task, over the ceiling whatever the load.
    let over = target(&busy(&times(&TIGHT, 15.0), Some((18, 17))), 1);
    assert!(
        over.contains("at least 140 ns a task")
            && over.ends_with(": not met, the whole 95% interval is above 100 ns."),
        "{over}"
    );
    // 16 ms of CPU time in processes of 24 ms: the span may have used as little as 70 ns a
    // task, its wall time stretched by the other load.
    let waited = target(&busy(&times(&TIGHT, 15.0), Some((24, 16))), 1);
    let unclear = ": unclear: the whole 95% interval is above 100 ns, but the machine was busy, and wall time then holds time spent waiting for a core.";
    assert!(
        waited.contains("at least 70.0 ns a task") && waited.ends_with(unclear),
        "{waited}"
    );
    // No CPU time recorded: nothing shows the span used more than its ceiling.
    let old = target(&busy(&times(&TIGHT, 15.0), None), 1);
    assert!(old.ends_with(unclear), "{old}");
    // Under the ceiling, the load cannot have shortened the span: met.
    let under = target(&busy(&times(&TIGHT, 6.0), Some((24, 8))), 1);
    assert!(under.contains(": met, "), "{under}");
}

#[test]
fn where_each_repetition_has_its_cpu_time_the_verdict_follows_that_interval() {
    let says = "Polled group at most 100 ns a task in CPU time (suspend_once, 10^5 tasks): ";
    // A busy machine: 15 ms of wall time a span (150 ns a task), but 9 ms of CPU time over
    // each repetition (90 ns): the CPU interval is under the ceiling, so the target is met.
    let mut run = busy(&times(&TIGHT, 15.0), Some((24, 16)));
    run.rows[0].cpu_samples_ns = times(&TIGHT, 9.0)
        .iter()
        .map(|m| (m * 1e6) as u64)
        .collect();
    let met = target(&run, 1);
    assert!(
        met.starts_with(&format!("{says}polled (current) takes 90.0 ns ["))
            && met.contains(" a task of CPU time, user and system, over each repetition of its body (its timed span and the body's prints; wall time in the span 150 ns [")
            && met.ends_with(": met, the whole 95% interval is below 100 ns."),
        "{met}"
    );
    // The same CPU times over the ceiling fail it, whatever the wall time.
    run.rows[0].cpu_samples_ns = times(&TIGHT, 12.0)
        .iter()
        .map(|m| (m * 1e6) as u64)
        .collect();
    let over = target(&run, 1);
    assert!(
        over.contains("takes 120 ns [")
            && over.ends_with(": not met, the whole 95% interval is above 100 ns."),
        "{over}"
    );
    // CPU times that straddle it leave it unclear.
    run.rows[0].cpu_samples_ns = times(&WIDE, 10.0)
        .iter()
        .map(|m| (m * 1e6) as u64)
        .collect();
    let unclear = target(&run, 1);
    assert!(
        unclear.ends_with(": unclear, the 95% interval takes in 100 ns."),
        "{unclear}"
    );
}

#[test]
fn a_target_whose_rows_are_missing_says_which_and_why() {
    // Only ex_6_1 ran: every suspend_once target says so.
    let run = common::results("t", vec![at("ex_6_1", "eager", MILLION, &TIGHT)]);
    for i in [0, 1, 3] {
        let line = target(&run, i);
        assert!(
            line.ends_with(" tasks): not measured: suspend_once was not in this run."),
            "{line}"
        );
    }
    // suspend_once ran at 10^5 tasks: the 10^6 targets are not measured, the 10^5 one is.
    let small = common::results(
        "t",
        vec![
            at("suspend_once", "tracker", 100_000, &times(&TIGHT, 40.0)),
            at("suspend_once", "polled", 100_000, &times(&TIGHT, 6.0)),
        ],
    );
    assert!(
        target(&small, 0).ends_with(
            ": not measured: suspend_once polled (current) ran at 10^5 tasks, and the target is at 10^6."
        ),
        "{}",
        target(&small, 0)
    );
    assert!(
        target(&small, 1).contains(": met, "),
        "{}",
        target(&small, 1)
    );
    // And the other way round.
    let large = against_tracker("polled", &times(&TIGHT, 280.0));
    assert!(
        target(&large, 1).ends_with(
            ": not measured: suspend_once polled (current) ran at 10^6 tasks, and the target is at 10^5."
        ),
        "{}",
        target(&large, 1)
    );
    // A failed reference row: its failure is the reason.
    let failed = common::results(
        "t",
        vec![
            at(
                "suspend_once",
                "scheduled",
                MILLION,
                &times(&TIGHT, 1_000.0),
            ),
            common::failed_row("suspend_once", "tracker", "current", "exited with code 101"),
        ],
    );
    assert!(
        target(&failed, 3).ends_with(
            ": not measured: suspend_once tracker (current): failed (exited with code 101)."
        ),
        "{}",
        target(&failed, 3)
    );
    // A run with neither exercise has no Targets at all.
    let other = common::results(
        "t",
        vec![common::row("ex_6_3", "try_id", "current", &[1, 2, 3])],
    );
    assert!(report::targets(&other).is_empty());
    let md = doc::markdown(&report::blocks(&other, None, false).unwrap());
    assert!(!md.contains("## Targets"), "{md}");
}

#[test]
fn the_markdown_the_html_and_the_terminal_give_the_same_sentences() {
    let mut run = against_tracker("polled", &times(&TIGHT, 280.0));
    run.rows.push(at(
        "suspend_once",
        "scheduled",
        MILLION,
        &times(&TIGHT, 1_400.0),
    ));
    run.rows.push(at("ex_6_1", "eager", MILLION, &TIGHT));
    let targets = report::targets(&run);
    let blocks = report::blocks(&run, None, true).unwrap();

    let md = doc::markdown(&blocks);
    let section = md
        .split("\n## Targets\n")
        .nth(1)
        .expect("a Targets section");
    let section = section.split("\n## ").next().unwrap();
    let listed: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .collect();
    assert_eq!(listed, targets);

    let page = doc::html("t", &blocks);
    let items = common::html_section_items(&page, "Targets");
    assert_eq!(items, targets);

    let text = report::terminal_summary(&run);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[lines.len() - 4..], targets);
    // Each kind of verdict and a missing row are in this run.
    for said in [": met, ", ": not measured: ", ": not met, "] {
        assert!(
            targets.iter().any(|t| t.contains(said)),
            "{said}: {targets:?}"
        );
    }
}
