//! A stand-in exercise for the runner's tests: it takes the exercises' flags and behaves as its
//! `--variant` says (`ok`, `slow`, `fail`, `crash`, `hang`, `nojson`), so the whole pipeline can be
//! tested against processes that sleep, fail, crash and hang.

use std::process::ExitCode;
use std::time::Duration;

use timing::cli::Spec;

const SPEC: Spec = Spec {
    name: "fixture",
    about: "a stand-in exercise for the runner's tests",
    variants: &["ok", "slow", "fail", "crash", "hang", "nojson"],
    default_tasks: Some(1_000),
    start_latency: false,
};

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "nojson") {
        // Exits as a success without ever writing the timing result.
        println!("no result written");
        return ExitCode::SUCCESS;
    }
    timing::harness::main(&SPEC, |_rt, args| {
        let pause = match args.variant {
            "ok" => Duration::from_millis(2),
            "slow" => Duration::from_millis(20),
            "fail" => anyhow::bail!("fixture failure on purpose"),
            "crash" => {
                eprintln!("about to crash");
                std::process::abort();
            }
            _ => Duration::from_secs(3_600), // hang
        };
        let start = std::time::Instant::now();
        std::thread::sleep(pause);
        println!("slept {pause:?}");
        Ok(start.elapsed())
    })
}
