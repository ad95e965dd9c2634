//! A stand-in exercise for the runner's tests: it takes the exercises' flags and behaves as its
//! `--variant` says (`ok`, `slow`, `fail`, `crash`, `hang`, `nojson`, `loud`, `binary`), so the
//! whole pipeline can be tested against processes that sleep, fail, crash and hang, and fail
//! after a 4 MB single-line stderr (`loud`) or a stderr that is not UTF-8 (`binary`). Three
//! variants exit 0 with a result that lies: `othername` names another exercise, `forever` holds
//! a sample of `u64::MAX` ns, `wrongcount` reports 7 tasks whatever `--tasks` says. `orphan`
//! starts a `sleep 3600` of its own, prints its process id, and hangs.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use timing::cli::Spec;

const SPEC: Spec = Spec {
    name: "fixture",
    about: "a stand-in exercise for the runner's tests",
    variants: &[
        "ok",
        "slow",
        "fail",
        "crash",
        "hang",
        "nojson",
        "loud",
        "binary",
        "othername",
        "forever",
        "wrongcount",
        "orphan",
    ],
    default_tasks: Some(1_000),
    start_latency: false,
};

/// Bytes of `loud`'s single stderr line.
const LOUD_BYTES: usize = 4 << 20;

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "nojson") {
        // Exits as a success without ever writing the timing result.
        println!("no result written");
        return ExitCode::SUCCESS;
    }
    if let Some(lie) = lie() {
        return lie;
    }
    timing::harness::main(&SPEC, |_rt, args| {
        let pause = match args.variant {
            "ok" => Duration::from_millis(2),
            "slow" => Duration::from_millis(20),
            "fail" => anyhow::bail!("fixture failure on purpose"),
            "orphan" => {
                let sleeper = std::process::Command::new("sleep").arg("3600").spawn()?;
                println!("{}", sleeper.id());
                std::io::stdout().flush()?;
                Duration::from_secs(3_600)
            }
            "loud" => {
                let line = vec![b'x'; LOUD_BYTES];
                let mut err = std::io::stderr().lock();
                err.write_all(b"start of a long line ")?;
                err.write_all(&line)?;
                err.write_all(b" end of a long line\n")?;
                anyhow::bail!("fixture failure after a long stderr line")
            }
            "binary" => {
                std::io::stderr().write_all(b"bytes \xff\xfe that are not UTF-8\n")?;
                anyhow::bail!("fixture failure after binary stderr")
            }
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

/// For the lying variants: writes their result to `--json PATH` and exits 0.
fn lie() -> Option<ExitCode> {
    let args: Vec<String> = std::env::args().collect();
    let after = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let variant = after("--variant")?.as_str();
    if !["othername", "forever", "wrongcount"].contains(&variant) {
        return None;
    }
    let mut recorder = timing::Recorder::new();
    recorder.record_ns(2_000_000);
    let (exercise, tasks) = match variant {
        "othername" => ("ex_6_1", Some(1_000)),
        "wrongcount" => ("fixture", Some(7)),
        _ => ("fixture", Some(1_000)),
    };
    let mut result =
        timing::TimingResult::new(exercise, variant, "rust", Some("current"), tasks, &recorder);
    if variant == "forever" {
        result.samples_ns = vec![u64::MAX];
    }
    let written = after("--json").map(|path| result.write(std::path::Path::new(path)));
    Some(match written {
        Some(Ok(())) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}
