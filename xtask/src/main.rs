//! `cargo xtask`: build, run and measure the exercises. See `cargo xtask --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
// Every message shows a value's control characters as `\n`, `\u{1b}`: one line, and nothing
// the terminal would take as a command.
use timing::cli::visible;
use xtask::results::{Layout, RunResults};
use xtask::run::RunFlags;
use xtask::{UsageError, compare, exercises, measure, report, run};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Build, run and measure the asyncio-in-tokio exercises"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every exercise with its variants, chapter and what it shows
    List,
    /// Run the named exercises: EXERCISE or EXERCISE:VARIANT
    Run {
        #[arg(required = true, value_name = "EXERCISE[:VARIANT]")]
        exercises: Vec<String>,
        #[command(flatten)]
        flags: RunFlags,
    },
    /// Build in release, run every exercise and variant, write the report
    RunAll {
        #[command(flatten)]
        flags: RunFlags,
    },
    /// Run ex_6_1, ex_6_2 and ex_6_3 at growing task counts: cost per task and memory
    Sweep {
        #[command(flatten)]
        flags: xtask::sweep::SweepFlags,
    },
    /// Rebuild report.md and report.html from a stored run, running nothing
    Report {
        /// A run id, run folder or results.json [default: the latest run]
        run: Option<String>,
        /// Compare with baseline NAME (or a results.json) in the report
        #[arg(long, value_name = "NAME")]
        baseline: Option<String>,
        #[arg(long, value_name = "DIR", help = concat!("Where runs, `latest` and baselines are [default: ", xtask::default_out!(), "]"))]
        out: Option<PathBuf>,
    },
    /// Compare a run (default: the latest) with a saved baseline, as Markdown
    Compare {
        /// A baseline name (saved with --save-baseline) or a results.json
        baseline: String,
        /// A run id, run folder or results.json [default: the latest run]
        run: Option<String>,
        #[arg(long, value_name = "DIR", help = concat!("Where runs, `latest` and baselines are [default: ", xtask::default_out!(), "]"))]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    // `cargo xtask list | head -c0`: a closed stdout ends the command quietly, as it would a C
    // tool; any other failed write to stdout (a full disk, /dev/full) with one line and exit 1.
    timing::exit_on_stdout_error();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let args: Vec<String> = std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            xtask::say!("cargo xtask: {}", one_line(&e.render().to_string(), &args));
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print(); // --help, --version
            return ExitCode::SUCCESS;
        }
    };
    // What a probe or an exercise leaves running, even in a session of its own, comes back to
    // the runner when its parent ends, and is killed before the runner exits, whatever happens.
    xtask::adopt_orphans();
    let outcome = dispatch(cli.command);
    xtask::kill_orphans();
    match outcome {
        Ok(code) => code,
        Err(e) if e.is::<measure::Interrupted>() => {
            xtask::say!("cargo xtask: {}", visible(&e.to_string()));
            e.downcast_ref::<measure::Interrupted>()
                .map_or(ExitCode::FAILURE, |stop| ExitCode::from(stop.exit_code()))
        }
        Err(e) => match e.downcast_ref::<UsageError>() {
            Some(usage) => {
                xtask::say!("cargo xtask: {}", visible(&usage.to_string()));
                ExitCode::from(2)
            }
            None => {
                xtask::say!("cargo xtask: {}", visible(&format!("{e:#}")));
                ExitCode::FAILURE
            }
        },
    }
}

fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::List => {
            print!("{}", list());
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { exercises, flags } => run::run(&exercises, &flags),
        Command::RunAll { flags } => run::run(&[], &flags),
        Command::Sweep { flags } => xtask::sweep::run(&flags),
        Command::Report { run, baseline, out } => {
            let layout = Layout::at(out)?;
            if let Some(dir) = run
                .as_deref()
                .map(std::path::Path::new)
                .filter(|d| d.is_dir())
                && let Some(sweep) = xtask::sweep::read(dir)
            {
                xtask::report::sweep::write(&sweep?, dir)?;
                println!("report: {}", dir.join("report.md").display());
                return Ok(ExitCode::SUCCESS);
            }
            let path = layout.resolve_run(run.as_deref())?;
            let results = RunResults::read(&path)?;
            let base = match &baseline {
                Some(name) => Some(RunResults::read(&layout.resolve_baseline(name)?)?),
                None => None,
            };
            let dir = path.parent().unwrap_or(&layout.out);
            report::write(&results, baseline.as_deref().zip(base.as_ref()), dir)?;
            println!("report: {}", dir.join("report.md").display());
            println!("        {}", dir.join("report.html").display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Compare { baseline, run, out } => {
            compare::run(&Layout::at(out)?, &baseline, run.as_deref())
        }
    }
}

fn list() -> String {
    let mut out = String::new();
    for ex in exercises::ALL {
        out.push_str(&format!(
            "{}  (chapter {})  {}\n",
            ex.name, ex.chapter, ex.about
        ));
        for (i, v) in ex.variants.iter().enumerate() {
            let default = if i == 0 { ", default" } else { "" };
            let reference = if v.name == ex.reference {
                ", reference"
            } else {
                ""
            };
            let idiomatic = if Some(v.name) == ex.idiomatic {
                ", idiomatic"
            } else {
                ""
            };
            let cap = match v.max_tasks {
                Some(n) => format!(" (run and run-all: at most {n} tasks)"),
                None => String::new(),
            };
            out.push_str(&format!(
                "    {}{default}{reference}{idiomatic} [{}]: {}{cap}\n",
                v.name,
                v.family.name(),
                v.about
            ));
        }
    }
    out
}

/// clap's error as one line: what was wrong, and the valid values where it lists them. A value
/// of `args` that clap quotes is shown with its control characters escaped first, so that a
/// newline in it neither splits the line nor reads as the end of one of clap's lines.
fn one_line(rendered: &str, args: &[String]) -> String {
    let mut text = rendered.to_owned();
    for arg in args.iter().filter(|a| visible(a) != a.as_str()) {
        text = text.replace(arg.as_str(), &visible(arg));
    }
    let text = visible_lines(&text);
    text.lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .map(|l| l.trim_start_matches("error: "))
        .fold(String::new(), |line, part| {
            // A line that ends in a colon introduces the next: joined by a space, not a `;`.
            if line.is_empty() {
                part.to_owned()
            } else if line.ends_with(':') {
                format!("{line} {part}")
            } else {
                format!("{line}; {part}")
            }
        })
        + &format!("; see `{}`", help_for(args))
}

/// The help that lists the flags the command line was given to: the subcommand's, where it
/// names one, else the top level's.
fn help_for(args: &[String]) -> String {
    use clap::CommandFactory;
    let cli = Cli::command();
    let sub = args
        .iter()
        .skip(1)
        .find_map(|a| cli.get_subcommands().find(|c| c.get_name() == a.as_str()));
    match sub {
        Some(c) => format!("cargo xtask {} --help", c.get_name()),
        None => "cargo xtask --help".to_owned(),
    }
}

/// `text` with every control character but its line breaks escaped.
fn visible_lines(text: &str) -> String {
    text.split('\n')
        .map(|line| visible(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}
