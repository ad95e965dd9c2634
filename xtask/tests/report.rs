//! The report's structure (a Markdown snapshot), its HTML (parsed), claims and baselines.

mod common;

use xtask::doc;
use xtask::report;

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
fn terminal_summary_names_the_fastest_row_and_the_next_in_one_line_each() {
    let mut run = common::sample_run();
    run.rows.push(common::python_row(
        "ex_6_1",
        "3.12.1",
        &[9e9 as u64, 9.1e9 as u64, 8.9e9 as u64],
    ));
    let text = report::terminal_summary(&run);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "ex_6_1: eager (current) 1.01 ns a task; next spawn (current) 701× slower; CPython 3.12.1 8955× slower"
    );
    // One line per exercise that has a measured row; the failed row is not ranked.
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[1].starts_with("ex_6_2: join_all (current) "),
        "{text}"
    );
}

#[test]
fn terminal_summary_calls_a_tight_one_percent_about_the_same() {
    // Two rows 0.5% apart with almost no spread (as two sleeps of 1 s are): significant, and no
    // difference worth a word. (ex_6_4: a row with no task count, timed a run.)
    let s = 1_000_000_000u64;
    let run = common::results(
        "sleeps",
        vec![
            common::row("ex_6_4", "shutdown", "current", &[s, s + 1_000, s - 1_000]),
            common::row(
                "ex_6_4",
                "shutdown",
                "multi",
                &[s + 5_000_000, s + 5_001_000, s + 4_999_000],
            ),
        ],
    );
    let text = report::terminal_summary(&run);
    assert_eq!(
        text.trim_end(),
        "ex_6_4: shutdown (current) 1.00 s a run, about the same as shutdown (multi)"
    );
}

#[test]
fn terminal_summary_calls_rows_the_interval_cannot_tell_apart_about_the_same() {
    let mut run = common::sample_run();
    // Within a percent of the eager row, with the same spread: no winner.
    run.rows.push(common::row(
        "ex_6_1",
        "eager",
        "multi",
        &[1_005_000, 1_000_000, 1_015_000, 995_000],
    ));
    let text = report::terminal_summary(&run);
    let first = text.lines().next().unwrap();
    assert!(first.contains(", about the same as eager ("), "{first}");
    assert!(!first.contains("1.00×"), "{first}");
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
    assert!(md.contains("| 10.0 µs | 0.10× ["), "{md}");
    let text = report::terminal_summary(&run);
    assert!(
        text.contains(
            "ex_6_2: spawn_gather (current) 1.00 µs a task; next join_handles (current, 50000 tasks) 10.0× slower"
        ),
        "{text}"
    );
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
