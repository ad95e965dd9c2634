//! `cargo xtask`: the project's runner. See `cargo xtask --help`.

mod exercises;
mod run;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Build, run and measure the asyncio-in-tokio exercises"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the workspace in release and run every exercise once, showing its output.
    RunAll(run::RunAll),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // One line: clap's first line says what was wrong; the rest is usage.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("bad arguments");
            eprintln!(
                "cargo xtask: {}; see `cargo xtask --help`",
                first.trim_start_matches("error: ")
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let outcome = match cli.command {
        Command::RunAll(cmd) => cmd.run(),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cargo xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}
