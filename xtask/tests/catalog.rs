//! One catalogue (`crates/catalog`), and every other place that states an exercise's
//! facts agreeing with it: each binary (its `--help`, its refusals, and code for each of its
//! variants, run as built), each Python script (`scripts/python/<name>.py`: its variants, the
//! Python it needs, its default count), the first line of each port's `main.rs` and the output
//! its docs show (where the catalogue has the lines it prints), the README's
//! `## Exercises` table, and xtask's known loop incompatibilities. One table of checks, run for
//! every exercise; every disagreement is listed, each naming its place, the catalogue's fact
//! and what the place says.
//!
//! The checks every exercise's own `tests/cli.rs` used to repeat (its help lists its variants,
//! an unknown variant is refused with the valid ones, `--tasks` where no count applies, a
//! closed or full stdout) run here, once for every exercise of the catalogue.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use catalog::{ALL, Exercise};

/// What a check says of one exercise: `Err` lists what disagrees, one line each.
type Verdict = Result<(), Vec<String>>;

/// One place's check: what it says of an exercise, against the catalogue.
type Check = fn(&Exercise) -> Verdict;

/// Every place that states an exercise's facts, and how it is read.
const PLACES: &[(&str, Check)] = &[
    ("the binary's --help", binary_help),
    ("the binary's refusals", binary_refusals),
    (
        "the binary's code for each variant",
        binary_runs_each_variant,
    ),
    ("the Python script", script),
    ("the Python script's --help", script_help),
    ("the first line of its main.rs", main_rs_first_line),
    ("the output its main.rs shows", main_rs_output),
    ("the README's `## Exercises` table", readme_row),
];

#[test]
fn every_place_agrees_with_the_catalogue() {
    let mut wrong = Vec::new();
    for ex in ALL {
        for (place, check) in PLACES {
            if let Err(lines) = check(ex) {
                wrong.extend(
                    lines
                        .into_iter()
                        .map(|l| format!("{}, {place}: {l}", ex.name)),
                );
            }
        }
    }
    let readme_names: Vec<String> = readme_rows()
        .into_iter()
        .flatten()
        .map(|cells| cells[0].clone())
        .filter(|name| catalog::find(name).is_none())
        .collect();
    for name in readme_names {
        wrong.push(format!(
            "the README's table has `{name}`, which the catalogue has not"
        ));
    }
    assert!(
        wrong.is_empty(),
        "{} disagreement(s) with crates/catalog:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Every binary the catalogue lists, as the harness promises it behaves on a broken stdout:
/// into a closed pipe (`| head -c0`) it ends quietly, with no panic and no error line; into
/// a full device (`> /dev/full`) it ends with one error line and exit code 1, its `--help`
/// too. (The sleeping ex_2_2 and ex_2_7 print their first line before they sleep, so both end
/// at once; ex_6_4 prints nothing on stdout, and ends with `QueueShutDown` whatever it is.)
#[test]
fn every_binary_ends_cleanly_on_a_closed_or_full_stdout() {
    use timing::testing::{
        assert_full_stdout_is_one_error_line, assert_quiet_on_broken_pipe, run_into_closed_pipe,
    };
    for ex in ALL.iter().filter(|ex| ex.expected_exit == 0) {
        let exe = binaries().join(ex.name);
        let args: &[&str] = match ex.default_tasks {
            Some(_) => &["--tasks", "1000"],
            None => &[],
        };
        eprintln!("{}: a closed pipe, then a full device", ex.name);
        assert_quiet_on_broken_pipe(&run_into_closed_pipe(&exe, args));
        assert_full_stdout_is_one_error_line(&exe, args);
    }
}

#[test]
fn every_binary_refuses_bad_flags_with_one_line_and_exit_code_2() {
    for ex in ALL {
        eprintln!("{}: bad flags", ex.name);
        timing::harness_checks::assert_bad_flags_refused(binaries().join(ex.name), ex);
    }
}

/// `Ok` when `said` is `expected`, else the line that says what differs.
fn same<T: PartialEq + std::fmt::Debug>(what: &str, expected: T, said: T) -> Result<(), String> {
    if expected == said {
        Ok(())
    } else {
        Err(format!(
            "{what}: the catalogue has {expected:?}, it says {said:?}"
        ))
    }
}

/// The lines of the failed comparisons.
fn verdict(results: impl IntoIterator<Item = Result<(), String>>) -> Verdict {
    let wrong: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    if wrong.is_empty() { Ok(()) } else { Err(wrong) }
}

fn root() -> PathBuf {
    xtask::workspace_root().expect("the workspace root")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// --- The binaries, as built --------------------------------------------------------------------

/// The folder of the exercise binaries, built once for this test run in this test's own profile
/// (`target/debug` under `cargo test`), whatever is built there already.
fn binaries() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test's path");
        // target/<profile>/deps/catalog-…
        let dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("the profile folder");
        let profile = match dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .current_dir(root())
            .args(["build", "--quiet", "--bins", "--profile", profile]);
        for ex in ALL {
            build.args(["-p", ex.name]);
        }
        let status = build.status().expect("running cargo build");
        assert!(status.success(), "cargo build of the exercises: {status}");
        dir.to_path_buf()
    })
}

fn run(ex: &Exercise, args: &[&str]) -> timing::testing::Ran {
    timing::testing::run(binaries().join(ex.name), args)
}

/// `--help`: the help line, the variants with the default, the default count, `--measure`.
fn binary_help(ex: &Exercise) -> Verdict {
    let ran = run(ex, &["--help"]);
    let line = |flag: &str| -> Option<String> {
        let flag = format!("--{flag} <");
        ran.stdout
            .iter()
            .find(|l| l.trim_start().starts_with(&flag))
            .cloned()
    };
    let variants: Vec<&str> = ex.variant_names().collect();
    let variant_help = format!(
        "{} (default {})",
        variants.join("|"),
        ex.default_variant().name
    );
    verdict([
        same("exit code", Some(0), ran.code),
        same(
            "help line",
            Some(format!("{}: {}", ex.name, ex.help)),
            ran.stdout.first().cloned(),
        ),
        same(
            "variants, default first",
            Some(variant_help),
            line("variant").map(|l| l.split_whitespace().skip(2).collect::<Vec<_>>().join(" ")),
        ),
        same(
            "default --tasks",
            ex.default_tasks.map(|n| n.to_string()),
            line("tasks").map(|l| after(&l, "; default ")),
        ),
        same(
            "--measure start-latency",
            ex.takes_start_latency(),
            line("measure").is_some(),
        ),
    ])
}

/// What follows `marker` in `line`, up to the next `)`.
fn after(line: &str, marker: &str) -> String {
    line.split_once(marker)
        .map(|(_, rest)| rest.split(')').next().unwrap_or(rest).to_owned())
        .unwrap_or_default()
}

/// An unknown `--variant` lists the catalogue's variants; `--tasks` is refused where no count
/// applies; each with one line and exit code 2.
fn binary_refusals(ex: &Exercise) -> Verdict {
    let variants: Vec<&str> = ex.variant_names().collect();
    let unknown = run(ex, &["--variant", "no_such_variant"]);
    let mut checks = vec![
        same("unknown --variant: exit code", Some(2), unknown.code),
        same(
            "unknown --variant: its one line",
            format!(
                "{}: unknown variant 'no_such_variant'; valid variants: {}",
                ex.name,
                variants.join(", ")
            ),
            unknown.stderr.trim_end().to_owned(),
        ),
    ];
    if ex.default_tasks.is_none() {
        let tasks = run(ex, &["--tasks", "10"]);
        checks.push(same("--tasks: exit code", Some(2), tasks.code));
        checks.push(same(
            "--tasks where no count applies",
            Some(format!("{0}: --tasks does not apply to {0}", ex.name)),
            tasks
                .stderr
                .trim_end()
                .split_once("; valid flags: --variant")
                .map(|(said, _)| said.to_owned()),
        ));
    }
    verdict(checks)
}

/// Each variant the catalogue lists runs to the exit code the catalogue expects: a variant
/// added to the catalogue without its code in the binary ends with an error instead. (The
/// sleeping ex_2_2 and ex_2_7, one variant each, run in their own tests.)
fn binary_runs_each_variant(ex: &Exercise) -> Verdict {
    if ex.max_iterations.is_some() {
        return Ok(());
    }
    verdict(ex.variant_names().map(|v| {
        let mut args = vec!["--variant", v];
        if ex.default_tasks.is_some() {
            args.extend(["--tasks", "100"]);
        }
        let ran = run(ex, &args);
        same(
            &format!("--variant {v}: exit code"),
            (Some(ex.expected_exit), String::new()),
            (
                ran.code,
                if ran.code == Some(ex.expected_exit) {
                    String::new()
                } else {
                    ran.stderr
                },
            ),
        )
    }))
}

// --- The Python scripts --------------------------------------------------------------------------

/// What a script says of itself, read from its source.
#[derive(Debug)]
struct Script {
    name: Option<String>,
    /// `VARIANTS = (…)`: the default first; empty for a script with one way to run.
    variants: Vec<String>,
    /// The oldest Python of each variant (of the script itself where it has none); `None`:
    /// the harness's floor (`_harness.FLOOR`, or no `needs=` at all).
    needs: Vec<(String, Option<(u32, u32)>)>,
    default_tasks: Option<u64>,
}

fn script_source(ex: &Exercise) -> String {
    read(&root().join(format!("scripts/python/{}.py", ex.name)))
}

/// The script's own statements, read as the harness reads its arguments.
fn parse_script(text: &str) -> Script {
    let assigned = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
    };
    // The call that hands the script to the harness: `_harness.main(…)` or `main_variants(…)`.
    let call = text
        .rfind("_harness.main")
        .map(|at| &text[at..])
        .unwrap_or_default();
    let keyword = |key: &str| {
        let at = call.find(&format!("{key}="))? + key.len() + 1;
        let rest = &call[at..];
        let end = if rest.starts_with('(') {
            rest.find(')')? + 1
        } else {
            rest.find([',', ')', '\n'])?
        };
        Some(rest[..end].trim().to_owned())
    };
    let name = keyword("name").map(|n| match n.as_str() {
        "NAME" => assigned("NAME = ")
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned(),
        quoted => quoted.trim_matches('"').to_owned(),
    });
    let variants: Vec<String> = assigned("VARIANTS = ")
        .map(|tuple| {
            tuple
                .trim_matches(|c| c == '(' || c == ')')
                .split(',')
                .map(|v| v.trim().trim_matches('"').to_owned())
                .filter(|v| !v.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let needs = match assigned("NEEDS = ") {
        Some(dict) => dict
            .trim_matches(|c| c == '{' || c == '}')
            .split(", \"")
            .filter_map(|entry| {
                let (variant, version) = entry.split_once(':')?;
                Some((
                    variant.trim().trim_matches('"').to_owned(),
                    version_of(version),
                ))
            })
            .collect(),
        None => vec![(String::new(), keyword("needs").and_then(|v| version_of(&v)))],
    };
    let default_tasks = keyword("default_tasks").map(|n| {
        let number = |s: &str| s.trim().replace('_', "").parse::<u64>().expect(s);
        match n.split_once("**") {
            Some((base, power)) => number(base).pow(number(power) as u32),
            None => number(&n),
        }
    });
    Script {
        name,
        variants,
        needs,
        default_tasks,
    }
}

/// `(3, 12)` → `Some((3, 12))`; the harness's floor → `None`.
fn version_of(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text
        .trim()
        .trim_matches(|c| c == '(' || c == ')')
        .split_once(',')?;
    Some((major.trim().parse().ok()?, minor.trim().parse().ok()?))
}

/// The Python the project runs a script on that needs `needs`: never below its own floor.
fn on_the_floor(needs: Option<(u32, u32)>) -> (u32, u32) {
    needs
        .unwrap_or(xtask::python::MIN_VERSION)
        .max(xtask::python::MIN_VERSION)
}

/// Its name, its variants (the default, then the catalogue's script variants), the Python
/// each needs, and its default count.
fn script(ex: &Exercise) -> Verdict {
    let s = parse_script(&script_source(ex));
    let expected_variants: Vec<String> = if ex.script_variants.is_empty() {
        Vec::new()
    } else {
        std::iter::once(s.variants.first().cloned().unwrap_or_default())
            .chain(ex.script_variants.iter().map(|v| v.name.to_owned()))
            .collect()
    };
    let needs_of = |variant: &str| {
        s.needs
            .iter()
            .find(|(v, _)| v == variant)
            .map(|(_, needs)| on_the_floor(*needs))
    };
    let default = s.variants.first().map_or("", String::as_str);
    let mut checks = vec![
        same("name", Some(ex.name.to_owned()), s.name.clone()),
        same(
            "variants besides the default",
            expected_variants,
            s.variants.clone(),
        ),
        same("default --tasks", ex.default_tasks, s.default_tasks),
        same(
            "the Python its default needs",
            Some(ex.python_needs),
            needs_of(default),
        ),
    ];
    for v in ex.script_variants {
        checks.push(same(
            &format!("the Python --variant {} needs", v.name),
            Some(v.python_needs),
            needs_of(v.name),
        ));
    }
    verdict(checks)
}

/// A script with variants prints its own usage: the variants, the default, the default count.
/// Skipped (saying so) where `python3` is missing; a script with one way to run has no
/// `--help`, and its source says all of it.
fn script_help(ex: &Exercise) -> Verdict {
    if ex.script_variants.is_empty() {
        return Ok(());
    }
    let path = root().join(format!("scripts/python/{}.py", ex.name));
    let out = match Command::new("python3").arg(&path).arg("--help").output() {
        Ok(out) => out,
        Err(why) => {
            eprintln!("skipped {}'s --help: no python3 here ({why})", ex.name);
            return Ok(());
        }
    };
    let usage = String::from_utf8_lossy(&out.stdout);
    // The default is the script's own (the catalogue holds the others).
    let source = parse_script(&script_source(ex));
    let default = source.variants.first().map_or("", String::as_str);
    let variants: Vec<&str> = std::iter::once(default)
        .chain(ex.script_variants.iter().map(|v| v.name))
        .collect();
    // `  --variant NAME  a|b|c (default a): …`, `  --tasks N  how many tasks (1 to …; default N)`
    let line = |flag: &str| {
        usage
            .lines()
            .find(|l| l.trim_start().starts_with(flag))
            .map(str::to_owned)
    };
    verdict([
        same("exit code", Some(0), out.status.code()),
        same(
            "variants, default first",
            Some(format!("{} (default {})", variants.join("|"), variants[0])),
            line("--variant NAME").map(|l| {
                let words: Vec<&str> = l.split_whitespace().skip(2).take(3).collect();
                words.join(" ").trim_end_matches(':').to_owned()
            }),
        ),
        same(
            "default --tasks",
            ex.default_tasks.map(|n| n.to_string()),
            line("--tasks N").map(|l| after(&l, "; default ")),
        ),
    ])
}

// --- The prose -----------------------------------------------------------------------------------

/// Backticks and a closing full stop aside, as Markdown and a doc comment write the same words.
fn plain(text: &str) -> String {
    text.replace('`', "")
        .trim()
        .trim_end_matches('.')
        .to_owned()
}

/// `//! <name>: <shows>.`
fn main_rs_first_line(ex: &Exercise) -> Verdict {
    let path = root().join(format!("crates/exercises/{}/src/main.rs", ex.name));
    let text = read(&path);
    let first = text.lines().next().unwrap_or_default();
    verdict([same(
        "what it shows",
        Some(plain(ex.shows)),
        first.strip_prefix(&format!("//! {}: ", ex.name)).map(plain),
    )])
}

/// The lines a port's `main.rs` shows it printing (the first ```` ```text ```` block of its docs
/// after a line saying `Prints`), for an exercise whose output holds no figure: what the
/// catalogue says it prints, which the port's own test and the script's test compare against.
fn main_rs_output(ex: &Exercise) -> Verdict {
    if ex.prints.is_empty() {
        return Ok(());
    }
    let path = root().join(format!("crates/exercises/{}/src/main.rs", ex.name));
    let printed = shown_output(&read(&path));
    verdict([same(
        "the lines it prints",
        Some(ex.prints.iter().map(|l| l.to_string()).collect()),
        printed,
    )])
}

/// The lines of the first ```` ```text ```` block of a module's docs after a line saying
/// `Prints`.
fn shown_output(text: &str) -> Option<Vec<String>> {
    let docs: Vec<&str> = text.lines().map_while(|l| l.strip_prefix("//!")).collect();
    let from = docs.iter().position(|l| l.contains("Prints"))?;
    let open = from + docs[from..].iter().position(|l| l.trim() == "```text")?;
    let lines = docs[open + 1..]
        .iter()
        .take_while(|l| l.trim() != "```")
        .map(|l| l.strip_prefix(' ').unwrap_or(l).to_owned())
        .collect();
    Some(lines)
}

/// The rows of the README's table under `## Exercises`, as cells with the backticks taken off
/// the name; `None` where the README has no such section.
fn readme_rows() -> Option<Vec<Vec<String>>> {
    let text = read(&root().join("README.md"));
    let (_, section) = text.split_once("\n## Exercises\n")?;
    let section = section.split("\n## ").next().unwrap_or(section);
    let rows = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect()
        })
        .collect();
    Some(rows)
}

/// `| exercise | what it shows | Python | tasks by default |`.
fn readme_row(ex: &Exercise) -> Verdict {
    let Some(rows) = readme_rows() else {
        return Err(vec!["README.md has no `## Exercises` section".to_owned()]);
    };
    let Some(row) = rows.iter().find(|r| r[0] == ex.name) else {
        return Err(vec!["no row for it".to_owned()]);
    };
    let (major, minor) = ex.python_needs;
    let tasks = ex.default_tasks.map_or("—".to_owned(), thousands);
    verdict([
        same("columns", 4, row.len()),
        same(
            "what it shows",
            Some(plain(ex.shows)),
            row.get(1).map(|c| plain(c)),
        ),
        same(
            "Python",
            Some(format!("{major}.{minor}+")),
            row.get(2).cloned(),
        ),
        same("tasks by default", Some(tasks), row.get(3).cloned()),
    ])
}

/// `1000000` → `1,000,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[test]
fn the_checks_read_what_they_say_they_read() {
    // Each reader on a text whose facts are known, so that a check cannot pass by reading nothing.
    let s = parse_script(
        "NAME = \"x\"\nVARIANTS = (\"a\", \"b\")\nNEEDS = {\"a\": (3, 12), \"b\": _harness.FLOOR}\n\
         _harness.main_variants(m, name=NAME, needs=NEEDS, usage=U, default_tasks=10 ** 6,\n)\n",
    );
    assert_eq!(s.name.as_deref(), Some("x"));
    assert_eq!(s.variants, ["a", "b"]);
    assert_eq!(
        s.needs,
        [("a".to_owned(), Some((3, 12))), ("b".to_owned(), None)]
    );
    assert_eq!(s.default_tasks, Some(1_000_000));
    let single =
        parse_script("_harness.main(lambda _t: asyncio.run(m()), name=\"y\", needs=(3, 11))\n");
    assert_eq!(single.name.as_deref(), Some("y"));
    assert!(single.variants.is_empty());
    assert_eq!(single.needs, [(String::new(), Some((3, 11)))]);
    assert_eq!(single.default_tasks, None);
    assert_eq!(on_the_floor(None), xtask::python::MIN_VERSION);
    assert_eq!(thousands(1_000_000), "1,000,000");
    assert_eq!(thousands(999), "999");
    assert_eq!(plain("a `TaskGroup`."), "a TaskGroup");
    assert_eq!(
        shown_output(
            "//! x\n//!\n//! ```text\n//! no\n//! ```\n//! Prints:\n//!\n//! ```text\n//! a b\n//! c\n//! ```\nfn main() {}\n"
        ),
        Some(vec!["a b".to_owned(), "c".to_owned()])
    );
    assert_eq!(shown_output("//! Prints nothing.\n"), None);
}
