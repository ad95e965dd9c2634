//! The report's structure (a Markdown snapshot), its HTML (parsed), claims and baselines.

mod common;

use xtask::report;
use xtask::report::doc;

fn markdown(
    results: &xtask::results::RunResults,
    baseline: Option<(&str, &xtask::results::RunResults)>,
) -> String {
    doc::markdown(&report::blocks(results, baseline, false).expect("the report builds"))
}

#[test]
fn markdown_matches_the_snapshot() {
    // A deliberate change: `INSTA_UPDATE=always cargo test -p xtask --test report`, then read
    // the diff of `tests/snapshots/report__markdown.snap` before committing it.
    insta::assert_snapshot!("markdown", markdown(&common::sample_run(), None));
}

#[test]
fn html_is_one_self_contained_page_with_a_plot_per_exercise() {
    let run = common::sample_run();
    let page = doc::html("t", &report::blocks(&run, None, true).unwrap());
    let dom = tl::parse(&page, tl::ParserOptions::default()).expect("the report parses as HTML");
    let parser = dom.parser();
    let count = |selector: &str| {
        dom.query_selector(selector)
            .map(|it| it.count())
            .unwrap_or(0)
    };
    // Four exercises ran: the overview, a strip plot each, and the speedup chart.
    assert_eq!(count("svg"), 6);
    assert_eq!(count("figure"), 6);
    // One table per exercise, the claims, the failures.
    assert_eq!(count("table"), 6);
    // The page's style, and each picture's own (which travels with it when copied out).
    assert_eq!(count("style"), 1 + 6);
    for external in ["script", "link", "img", "iframe"] {
        assert_eq!(
            count(external),
            0,
            "no <{external}>: the page must open from disk"
        );
    }
    let h2: Vec<String> = dom
        .query_selector("h2")
        .unwrap()
        .filter_map(|h| h.get(parser))
        .map(|h| h.inner_text(parser).into_owned())
        .collect();
    assert_eq!(
        h2,
        [
            "Answers",
            "Eager start",
            "Targets",
            "The run",
            "Warnings",
            "At a glance",
            "ex_6_1: TaskGroup over no-op tasks with the eager task factory",
            "ex_6_2: gather over lazily started no-op coroutines",
            "ex_6_3: current-task look-up, many times over (asyncio.current_task)",
            "ex_6_4: Queue.shutdown (Python 3.13): a put after shutdown fails",
            "Speedups",
            "Claims",
            "Failures",
            "Method",
        ]
    );
    assert!(
        !page.contains("src=") && !page.contains("href="),
        "nothing fetched"
    );
}

#[test]
fn claims_hold_or_not_by_the_interval() {
    let rust_pair = |md: &str| {
        md.lines()
            .find(|l| l.starts_with("| An eager TaskGroup") && l.contains("the same pair in Rust"))
            .expect("the Rust claim row")
            .to_owned()
    };
    // join_all ≈ 80 ms over eager ≈ 1 ms: far beyond 4×.
    let line = rust_pair(&markdown(&common::sample_run(), None));
    assert!(line.ends_with("| yes |"), "{line}");
    // Rows missing: the claim is not measured rather than failed.
    let run = common::results(
        "r",
        vec![common::row("ex_6_1", "eager", "current", &[1, 2, 3])],
    );
    let line = rust_pair(&markdown(&run, None));
    assert!(line.ends_with("| not measured |"), "{line}");
}

#[test]
fn wide_spread_and_a_busy_machine_are_named() {
    let mut run = common::sample_run();
    run.environment.load_before = Some([1.7, 1.0, 0.5]);
    let warnings = report::warnings(&run);
    assert!(
        warnings[0].contains("busy before the run: 1-minute load average 1.70 on 2 cores"),
        "{warnings:?}"
    );
    // spawn (multi) was drawn with a 20% spread; nothing else is over 10%.
    let wide = warnings
        .iter()
        .find(|w| w.starts_with("Wide spread"))
        .unwrap();
    assert!(wide.contains("`ex_6_1 spawn (multi)`"), "{wide}");
    assert!(!wide.contains("eager"), "{wide}");
}

#[test]
fn the_cost_of_a_page_fault_is_shown_as_far_as_it_was_measured() {
    let line = |run: &xtask::results::RunResults| {
        markdown(run, None)
            .lines()
            .find(|line| line.starts_with("- Page faults:"))
            .map(str::to_owned)
    };
    let mut run = common::sample_run();
    let both = line(&run).unwrap();
    assert!(
        both.contains("took 1.60 µs as the run began, 2.20 µs as it ended."),
        "{both}"
    );
    run.environment.page_fault_ns_after = None; // a run stopped before its end
    let began = line(&run).unwrap();
    assert!(began.contains("took 1.60 µs as the run began."), "{began}");
    run.environment.page_fault_ns_before = None; // a run from before it was measured
    assert_eq!(line(&run), None);
}

/// The sample run with each row's wall and CPU time per process: ex_6_1 eager waited half its
/// wall time, spawn (multi) used two cores, and the failed row has no CPU time.
fn run_with_cpu_times() -> xtask::results::RunResults {
    let mut run = common::sample_run();
    for row in &mut run.rows {
        row.process_ns = Some(40_000_000);
        row.process_cpu_ns = Some(38_000_000);
    }
    run.rows[0].process_cpu_ns = Some(20_000_000);
    run.rows[2].process_cpu_ns = Some(70_000_000);
    run.rows[7].process_cpu_ns = None;
    run
}

#[test]
fn a_start_latency_row_in_the_cpu_table_says_so() {
    let mut busy = run_with_cpu_times();
    busy.environment.load_after = Some([4.2, 3.0, 2.0]);
    let mut latency = busy.rows[0].clone();
    latency.measure = Some(timing::cli::Measure::StartLatency);
    latency.process_cpu_ns = Some(30_000_000);
    busy.rows.push(latency);
    let md = markdown(&busy, None);
    for line in [
        "| ex_6_1 eager (current) | 40.0 ms | 20.0 ms | 0.50 |",
        "| ex_6_1 eager (current), start latency | 40.0 ms | 30.0 ms | 0.75 |",
    ] {
        assert!(md.contains(line), "missing {line:?} in\n{md}");
    }
}

#[test]
fn cpu_time_is_shown_beside_wall_time_only_where_the_machine_was_busy() {
    // Quiet: neither the section nor its warning.
    let quiet = run_with_cpu_times();
    let md = markdown(&quiet, None);
    assert!(!md.contains("## CPU time"), "{md}");
    assert!(!md.contains("CPU ÷ wall"), "{md}");
    assert!(
        report::warnings(&quiet)
            .iter()
            .all(|w| !w.contains("CPU time"))
    );

    // Busy during the run: a row each with both times, and the warning points to them.
    let mut busy = run_with_cpu_times();
    busy.environment.load_after = Some([4.2, 3.0, 2.0]);
    let md = markdown(&busy, None);
    assert!(md.contains("## CPU time"), "{md}");
    for line in [
        "| row | wall | CPU | CPU ÷ wall |",
        "| ex_6_1 eager (current) | 40.0 ms | 20.0 ms | 0.50 |",
        "| ex_6_1 spawn (multi) | 40.0 ms | 70.0 ms | 1.75 |",
        "| ex_6_3 try_id (current) | 40.0 ms | 38.0 ms | 0.95 |",
    ] {
        assert!(md.contains(line), "missing {line:?} in\n{md}");
    }
    assert!(
        !md.contains("| ex_6_2 spawn_gather (multi) | 40.0 ms"),
        "{md}"
    );
    let warnings = report::warnings(&busy);
    assert!(
        warnings.iter().any(|w| w.contains("under CPU time")),
        "{warnings:?}"
    );
    // The same table in the HTML, under its own heading.
    let page = doc::html("t", &report::blocks(&busy, None, false).unwrap());
    let dom = tl::parse(&page, tl::ParserOptions::default()).expect("the report parses");
    let parser = dom.parser();
    let h2: Vec<String> = dom
        .query_selector("h2")
        .unwrap()
        .filter_map(|h| h.get(parser))
        .map(|h| h.inner_text(parser).into_owned())
        .collect();
    assert!(h2.iter().any(|h| h == "CPU time"), "{h2:?}");
    assert!(page.contains("CPU ÷ wall"), "{page}");

    // Busy before the run counts too; a results.json without CPU times shows no section.
    let mut before = run_with_cpu_times();
    before.environment.load_before = Some([1.7, 1.0, 0.5]);
    assert!(markdown(&before, None).contains("## CPU time"));
    let mut old = common::sample_run();
    old.environment.load_after = Some([4.2, 3.0, 2.0]);
    let md = markdown(&old, None);
    assert!(!md.contains("## CPU time"), "{md}");
    assert!(
        report::warnings(&old)
            .iter()
            .all(|w| !w.contains("CPU time"))
    );
}

#[test]
fn many_wide_rows_are_named_widest_first_and_the_rest_counted() {
    let mut run = common::sample_run();
    // Eight more rows, spreads growing with i (v1 stays under 10%): the five widest are named,
    // the rest counted.
    for i in 1..=8u64 {
        let s = 1_000_000;
        run.rows.push(common::row(
            "ex_6_3",
            &format!("v{i}"),
            "current",
            &[s, s + i * 100_000, s - i * 100_000, s],
        ));
    }
    let warnings = report::warnings(&run);
    let wide = warnings
        .iter()
        .find(|w| w.starts_with("Wide spread"))
        .unwrap();
    assert!(
        wide.contains(" in 8 row(s): `ex_6_3 v8 (current)`"),
        "{wide}"
    );
    assert!(
        wide.ends_with(", and 3 more (see each table's mean ± stdev)."),
        "{wide}"
    );
    assert!(!wide.contains("v3 "), "{wide}");
}

#[test]
fn baseline_comparison_marks_regressions() {
    let base = common::results(
        "base",
        vec![
            common::row("ex_6_1", "eager", "current", &[1_000, 1_010, 990, 1_005]),
            common::row("ex_6_3", "try_id", "current", &[500, 510, 505, 495]),
        ],
    );
    let now = common::results(
        "now",
        vec![
            common::row("ex_6_1", "eager", "current", &[2_000, 2_020, 1_980, 2_010]),
            common::row("ex_6_3", "try_id", "current", &[505, 495, 510, 500]),
        ],
    );
    let md = markdown(&now, Some(("main", &base)));
    assert!(md.contains("## Compared with baseline `main`"), "{md}");
    let eager = md
        .lines()
        .find(|l| l.starts_with("| ex_6_1 eager (current)") && l.contains("%"))
        .unwrap();
    assert!(
        eager.contains("+100.0%") && eager.ends_with("| **regression** |"),
        "{eager}"
    );
    let try_id = md
        .lines()
        .find(|l| l.starts_with("| ex_6_3 try_id (current)") && l.contains("%"))
        .unwrap();
    assert!(try_id.ends_with("| no significant change |"), "{try_id}");
    assert!(md.contains("1 regression(s)."));
}

#[test]
fn a_childs_stderr_is_shown_as_text_never_as_html() {
    let mut run = common::sample_run();
    let failed = run.rows.iter_mut().find(|r| r.failure.is_some()).unwrap();
    failed.failure.as_mut().unwrap().stderr_tail =
        "<script>alert(1)</script>\n<img src=x onerror=alert(2)> ``` `|".into();
    let md = markdown(&run, None);
    // Raw HTML stays inside a fenced code block, where Markdown shows it as text.
    let mut fenced = false;
    for line in md.lines() {
        if line.starts_with("````") {
            fenced = !fenced;
        } else if line.contains("<script>") || line.contains("<img") {
            assert!(fenced, "raw HTML outside a code block: {line}");
        }
    }
    let page = doc::html("t", &report::blocks(&run, None, true).unwrap());
    let dom = tl::parse(&page, tl::ParserOptions::default()).unwrap();
    for tag in ["script", "img"] {
        let found = dom.query_selector(tag).map(|it| it.count()).unwrap_or(0);
        assert_eq!(found, 0, "no <{tag}> from a child's stderr");
    }
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn a_row_held_to_fewer_tasks_is_compared_per_task() {
    // spawn_gather: 1 s for 10^6 tasks; join_handles held to 5·10^4: 0.5 s, 10× dearer a task.
    let at = |variant: &str, tasks: u64, ns: u64| {
        xtask::results::Row::new(
            common::key("ex_6_2", variant, "current", Some(tasks)),
            vec![ns, ns + 1_000, ns - 1_000],
            None,
        )
    };
    let run = common::results(
        "capped",
        vec![
            at("spawn_gather", 1_000_000, 1_000_000_000),
            at("join_handles", 50_000, 500_000_000),
        ],
    );
    let md = markdown(&run, None);
    assert!(
        md.contains(
            "Rows run at another count, compared per task: `join_handles (current, 50000 tasks)`."
        ),
        "{md}"
    );
    // Ten times dearer a task reads "10.0× slower", never "0.10×".
    let capped = md
        .lines()
        .find(|l| l.starts_with("| join_handles (current, 50000 tasks) |"))
        .unwrap_or_else(|| panic!("no join_handles row in\n{md}"));
    assert!(
        capped.contains("| 10.0× slower [10.0×, 10.0×] |"),
        "{capped}"
    );
    assert!(!md.contains("0.10×"), "{md}");
}

#[test]
fn the_pitfalls_section_states_the_slope_measured_in_the_run() {
    let mut run = common::sample_run();
    assert!(
        !markdown(&run, None).contains("## Pitfalls"),
        "no gather over handles ran"
    );
    let mut at = |variant: &str, tasks: u64, ms: u64| {
        run.rows.push(xtask::results::Row::new(
            common::key("ex_6_2", variant, "current", Some(tasks)),
            vec![ms * 1_000_000, ms * 1_010_000, ms * 990_000],
            None,
        ));
    };
    // Four times the tasks, sixteen times the time: quadratic.
    at("join_handles", 12_500, 50);
    at("join_handles", 50_000, 800);
    at("join_handles_unconstrained", 1_000_000, 1_400);
    let md = markdown(&run, None);
    assert!(md.contains("## Pitfalls"), "{md}");
    let growth = md
        .lines()
        .find(|l| l.starts_with("| join_handles (current) | 12500 → 50000 |"))
        .unwrap_or_else(|| panic!("no growth row in\n{md}"));
    assert!(growth.contains("| 16.0× | 2.00 ["), "{growth}");
    assert!(
        md.contains("(`join_handles (current, 50000 tasks)`), against"),
        "{md}"
    );
    assert!(md.contains("linear again (1.40 µs a task)"), "{md}");
}

/// A row of `exercise` under CPython `version` on `variant` (`asyncio`, `uvloop`, …), its
/// samples in milliseconds, at the exercise's default count.
fn python(exercise: &str, version: &str, variant: &str, ms: &[f64]) -> xtask::results::Row {
    let tasks = xtask::exercises::find(exercise).and_then(|ex| ex.default_tasks);
    let key = xtask::results::RowKey {
        exercise: exercise.into(),
        variant: variant.into(),
        implementation: format!("cpython-{version}"),
        flavor: None,
        tasks,
        entry: None,
        measure: None,
    };
    xtask::results::Row::new(key, ms.iter().map(|m| (m * 1e6) as u64).collect(), None)
}

/// A Rust row on the current-thread runtime, at the exercise's default count, in milliseconds.
fn rust(exercise: &str, variant: &str, ms: &[f64]) -> xtask::results::Row {
    let tasks = xtask::exercises::find(exercise).and_then(|ex| ex.default_tasks);
    xtask::results::Row::new(
        common::key(exercise, variant, "current", tasks),
        ms.iter().map(|m| (m * 1e6) as u64).collect(),
        None,
    )
}

/// The Answers section's sentences, as the Markdown lists them.
fn answers_in(md: &str) -> Vec<String> {
    let section = md
        .split("## Answers\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no Answers in\n{md}"));
    let section = section
        .split("\n## ")
        .next()
        .expect("split yields one part at least");
    section
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .map(String::from)
        .collect()
}

/// The Claims table's line of `claim` with `source`: its "measured here" figure and its verdict.
fn claim(md: &str, claim: &str, source: &str) -> (String, String) {
    let line = md
        .lines()
        .find(|l| l.starts_with(&format!("| {claim}")) && l.contains(source))
        .unwrap_or_else(|| panic!("no claim {claim:?} in\n{md}"));
    let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
    let figure = cells[2]
        .rsplit_once("`: ")
        .map_or(cells[2], |(_, figure)| figure);
    (figure.trim().to_owned(), cells[3].trim().to_owned())
}

const EAGER_CLAIM: &str = "An eager TaskGroup (ex_6_1)";
const NEARLY_SIX: &str = "\"nearly 6 times faster\" (CPython 3.12)";

/// ex_6_1 on CPython 3.12 at about 100 ms a run, ex_6_2 at `gather` ms.
fn eager_against_gather(gather: &[f64]) -> xtask::results::RunResults {
    common::results(
        "q1",
        vec![
            python("ex_6_1", "3.12.1", "asyncio", &[100.0, 101.0, 99.0]),
            python("ex_6_2", "3.12.1", "asyncio", gather),
        ],
    )
}

#[test]
fn a_verdict_follows_its_interval_both_ways() {
    // (gather's times, the claim's verdict, the answer's verdict)
    let cases: [(&[f64], &str, &str); 4] = [
        // 7× with a tight interval: yes.
        (
            &[700.0, 705.0, 695.0],
            "yes",
            "yes, the whole 95% interval is above 4×.",
        ),
        // 2× with a tight interval: no.
        (
            &[200.0, 201.0, 199.0],
            "**no**",
            "no, the whole 95% interval is below 4×.",
        ),
        // 5.5× with an interval from under 2× to over 20×: the point above, nothing decided.
        (
            &[300.0, 900.0, 600.0],
            "unclear: the interval crosses the threshold",
            "unclear, the 95% interval takes in 4×.",
        ),
        // 2.7× with an interval that takes in 4×: the point below, still not "no".
        (
            &[150.0, 450.0, 300.0],
            "unclear: the interval crosses the threshold",
            "unclear, the 95% interval takes in 4×.",
        ),
    ];
    for (gather, holds, says) in cases {
        let md = markdown(&eager_against_gather(gather), None);
        let (figure, verdict) = claim(&md, EAGER_CLAIM, NEARLY_SIX);
        assert_eq!(verdict, holds, "{figure}");
        let answer = &answers_in(&md)[0];
        assert!(answer.ends_with(says), "{answer}");
    }
}

/// A run with every row the Answers read: CPython 3.10 and 3.12, uvloop on 3.12 (the fastest
/// Python), and the Rust counterparts and peers.
fn answered_run() -> xtask::results::RunResults {
    let mut run = common::sample_run();
    run.rows.extend([
        python("ex_6_1", "3.12.1", "asyncio", &[100.0, 103.0, 98.0]),
        python("ex_6_1", "3.12.1", "uvloop", &[80.0, 82.0, 79.0]),
        python("ex_6_2", "3.12.1", "asyncio", &[700.0, 720.0, 690.0]),
        python("ex_6_3", "3.10.13", "asyncio", &[330.0, 340.0, 325.0]),
        python("ex_6_3", "3.12.1", "asyncio", &[50.0, 52.0, 51.0]),
        rust("ex_6_1", "joinset", &[30.0, 31.0, 29.5]),
    ]);
    run
}

#[test]
fn the_answers_come_first_right_under_the_title() {
    let md = markdown(&answered_run(), None);
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(
        headings[..2],
        ["# asyncio-in-tokio timing report", "## Answers"]
    );
    // Between the title and the Answers: nothing; the run's particulars follow them.
    let before = md.split("## Answers").next().unwrap();
    assert!(before.lines().skip(1).all(str::is_empty), "{before}");
    // ex_6_1 ran, so what eager start does and issue 24's targets follow the Answers; then
    // the run's particulars.
    assert_eq!(
        headings[2..5],
        ["## Eager start", "## Targets", "## The run"],
        "{md}"
    );
    let answers = answers_in(&md);
    assert_eq!(
        answers.len(),
        2 + 3,
        "two chapter questions, ex_6_1 to ex_6_3: {answers:?}"
    );
    assert!(
        answers[0].starts_with("Eager TaskGroup against gather on CPython 3.12 ")
            && answers[0].contains(": ex_6_1 (eager TaskGroup) runs 7.")
            && answers[0].ends_with(": yes, the whole 95% interval is above 4×."),
        "{}",
        answers[0]
    );
    assert!(
        answers[1].contains(": ex_6_3 runs 6.")
            && answers[1].contains(" on CPython 3.12.1 than on CPython 3.10.13: yes"),
        "{}",
        answers[1]
    );
    // Each named reference: CPython 3.12 on asyncio, the fastest Python, the Rust peer.
    let ex_6_1 = &answers[2];
    assert!(
        ex_6_1
            .starts_with("ex_6_1: the tokio counterpart, eager (current), takes 1.00 ns a task: "),
        "{ex_6_1}"
    );
    for named in [
        " than CPython 3.12.1 on asyncio; ",
        " than the fastest Python measured, CPython 3.12.1 + uvloop; ",
        " than joinset (current), the Rust peer a developer would pick (tokio::task::JoinSet).",
    ] {
        assert!(ex_6_1.contains(named), "{named:?} in {ex_6_1}");
    }
    // What is missing says which row, and why.
    assert!(
        answers[3].starts_with(
            "ex_6_2: the tokio counterpart, gather_in_place (current): not in this run."
        ),
        "{}",
        answers[3]
    );
    assert!(
        answers[4].contains("CPython 3.12.1 is also the fastest Python measured; try_id (current) is itself what a Rust developer would write."),
        "{}",
        answers[4]
    );
    // The HTML has the same sentences, from the same blocks.
    let page = doc::html("t", &report::blocks(&answered_run(), None, true).unwrap());
    assert!(page.contains("<h2>Answers</h2>"));
    assert!(page.find("<h2>Answers</h2>") < page.find("<h2>Warnings</h2>"));
}

#[test]
fn a_comparison_reads_the_same_figure_in_the_answers_the_claims_and_the_tables() {
    let md = markdown(&answered_run(), None);
    let answers = answers_in(&md);
    let pairs = [
        (EAGER_CLAIM, NEARLY_SIX, 0),
        ("`current_task` is much faster", "\"nearly six times\"", 1),
        (
            "Eager ex_6_1 is at least 300× faster than CPython 3.12's",
            "target",
            2,
        ),
        (
            "Eager ex_6_1 is at least 500× faster than the fastest Python",
            "target",
            2,
        ),
    ];
    for (text, source, answer) in pairs {
        let (figure, _) = claim(&md, text, source);
        assert!(figure.contains(" faster ["), "{figure}");
        assert!(
            answers[answer].contains(&format!(" {figure} ")),
            "{figure:?} not in {}",
            answers[answer]
        );
    }
    // ex_6_1's table of Rust against Python: eager against CPython 3.12, the same figure.
    let (figure, _) = claim(&md, "Eager ex_6_1 is at least 300× faster", "target");
    let cell = figure.replacen(" faster", "", 1);
    let table = md
        .lines()
        .find(|l| l.starts_with("| Rust row | vs CPython 3.12.1 |"))
        .expect("the Rust against Python table");
    let eager = md
        .lines()
        .skip_while(|l| *l != table)
        .find(|l| l.starts_with("| eager (current) |"))
        .unwrap();
    assert_eq!(eager, format!("| eager (current) | {cell} |"));
}

#[test]
fn the_terminal_ends_with_the_answers_eager_start_and_targets_word_for_word() {
    let run = answered_run();
    let answers = report::answers(&run);
    assert_eq!(answers, answers_in(&markdown(&run, None)));
    let eager = report::eager_start(&run);
    assert_eq!(eager.len(), 1, "ex_6_1 ran: {eager:?}");
    let targets = report::targets(&run);
    assert_eq!(
        targets.len(),
        4,
        "ex_6_1 ran: every target, measured or not"
    );
    let text = report::terminal_summary(&run);
    let lines: Vec<&str> = text.lines().collect();
    let answers = [answers, eager, targets].concat();
    assert_eq!(lines[lines.len() - answers.len()..], answers[..]);
    // Before them, the exercise without a task count, against the same fixed references.
    assert_eq!(
        lines[0],
        "ex_6_4: the tokio counterpart, shutdown (current), takes 405 ns a run: CPython 3.12: not in this run; fastest Python: not in this run; no Rust peer is measured for it."
    );
    assert_eq!(lines.len(), 1 + answers.len(), "{text}");
}

#[test]
fn a_slower_counterpart_reads_n_times_slower() {
    let run = common::results(
        "slower",
        vec![
            rust("ex_6_1", "eager", &[10.0, 10.1, 9.9]),
            rust("ex_6_1", "joinset", &[5.0, 5.05, 4.95]),
            python("ex_6_1", "3.12.1", "asyncio", &[4130.0, 4140.0, 4120.0]),
        ],
    );
    let answer = &report::answers(&run)[1];
    assert!(
        answer.contains("2.00× slower [1.9") && answer.contains("than joinset (current)"),
        "{answer}"
    );
    assert!(answer.contains("413× faster ["), "{answer}");
    let md = markdown(&run, None);
    // Against the reference row (spawn) there is none: the Rust against Python table then.
    assert!(!md.contains("0.50×") && !md.contains("0.00242×"), "{md}");
}

#[test]
fn a_tie_is_a_tie() {
    let s = 3_000.0;
    let ex_2_7 = |implementation: &str, ms: &[f64]| {
        let mut key = common::key("ex_2_7", "taskgroup", "current", None);
        if implementation != "rust" {
            key.implementation = implementation.into();
            key.variant = "asyncio".into();
            key.flavor = None;
        }
        xtask::results::Row::new(key, ms.iter().map(|m| (m * 1e6) as u64).collect(), None)
    };
    let run = common::results(
        "ties",
        vec![
            // Two sleeps 0.13% apart, tight: significant, and no difference worth a word.
            ex_2_7("rust", &[s, s + 0.1, s - 0.1]),
            ex_2_7("cpython-3.12.1", &[s + 4.0, s + 4.1, s + 3.9]),
            // 5% apart with an interval that takes in 1×: no winner either.
            rust("ex_6_1", "eager", &[10.0, 14.0, 7.0]),
            rust("ex_6_1", "joinset", &[11.0, 8.0, 13.0]),
        ],
    );
    let text = report::terminal_summary(&run);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("ex_2_7: the tokio counterpart, taskgroup (current), takes 3.00 s a run: about the same as CPython 3.12.1 on asyncio, 1.00× faster ["),
        "{first}"
    );
    assert!(
        first.contains("CPython 3.12.1 is also the fastest Python measured"),
        "{first}"
    );
    let ex_6_1 = text.lines().find(|l| l.starts_with("ex_6_1:")).unwrap();
    assert!(
        ex_6_1.contains("about the same as joinset (current), the Rust peer"),
        "{ex_6_1}"
    );
    assert!(!ex_6_1.contains(" than joinset"), "{ex_6_1}");
}

#[test]
fn a_quadratic_row_is_never_tagged_idiomatic() {
    let mut run = common::sample_run();
    for variant in ["join_handles", "futures_unordered"] {
        run.rows.push(xtask::results::Row::new(
            common::key("ex_6_2", variant, "current", Some(50_000)),
            vec![500_000_000, 505_000_000, 495_000_000],
            None,
        ));
    }
    let md = markdown(&run, None);
    assert!(md.contains("## Pitfalls"), "{md}");
    for variant in ["join_handles", "futures_unordered"] {
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {variant} (current, 50000 tasks) |")))
            .unwrap();
        assert!(!line.contains("idiomatic"), "{line}");
    }
}

#[test]
fn each_row_states_the_precision_it_reached() {
    use xtask::results::{Precision, Stop};
    let mut run = common::sample_run();
    for row in &mut run.rows {
        let half_width = xtask::stats::relative_half_width(&row.samples_ns);
        let stopped = if row.variant == "spawn" && row.flavor == Some(timing::cli::Flavor::Multi) {
            Stop::Budget
        } else {
            Stop::Goal
        };
        row.precision = Some(Precision {
            half_width,
            goal: Some(0.03),
            stopped,
        });
    }
    let md = markdown(&run, None);
    let line = |start: &str| {
        md.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no {start:?} in\n{md}"))
            .to_owned()
    };
    // Reached: the half-width alone; short of the goal: the goal and why it stopped.
    assert!(line("| eager (current) |").contains("| ±2.1% |"), "{md}");
    assert!(
        line("| spawn (multi) |").contains("| ±40% (goal ±3.0%: time budget spent) |"),
        "{md}"
    );
    assert!(
        md.contains(
            "Each row ran until the 95% interval of its geometric mean was within its goal (±3.0%"
        ),
        "{md}"
    );
}
