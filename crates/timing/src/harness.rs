//! The `main` every exercise shares: flags, runtime, repetitions, JSON, exit codes.

use std::cell::Cell;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::time::Duration;

use tokio::runtime::{Builder, Runtime};

use std::sync::{Mutex, PoisonError};

use hdrhistogram::Histogram;

use crate::cli::{Args, Command, Entry, Flavor, Spec};
use crate::histogram::{Recorder, nanos};
use crate::lines::error_line;
use crate::result::{SerializedHistogram, TimingResult};

/// An error after which the run still has a figure worth keeping: an exercise whose point is the
/// failure (like `ex_6_4`) returns it, and the harness records `elapsed` and repeats the run.
/// Any other error stops the repetitions.
#[derive(Debug)]
pub struct FailedAfter {
    pub elapsed: Duration,
    pub error: anyhow::Error,
}

impl std::fmt::Display for FailedAfter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for FailedAfter {}

/// The tokio runtime for `flavor`, with timers on.
///
/// A multi-thread runtime whose worker threads the OS refuses (a thread limit, no memory for
/// their stacks) makes tokio panic inside its builder ("OS can't spawn worker thread") rather
/// than return the error. Under the harness ([`main`]) that ends the process at once with one
/// line, `Error: cannot start the tokio runtime: …`, and exit code 1: the panic cannot be let
/// unwind, since when some workers did start, tokio's unwinding waits for them and they are
/// never told to stop (a hang). Elsewhere the panic is caught where no worker started, and
/// returned as the error.
///
/// ```
/// let rt = timing::runtime(timing::cli::Flavor::Multi).unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
pub fn runtime(flavor: Flavor) -> std::io::Result<Runtime> {
    let mut builder = match flavor {
        Flavor::Current => Builder::new_current_thread(),
        Flavor::Multi => Builder::new_multi_thread(),
    };
    builder.enable_time();
    STARTING_RUNTIME.set(true);
    let built = std::panic::catch_unwind(AssertUnwindSafe(|| builder.build()));
    STARTING_RUNTIME.set(false);
    built.unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("tokio's builder panicked");
        Err(std::io::Error::other(why.to_owned()))
    })
}

thread_local! {
    /// Set while [`runtime`] builds a runtime on this thread.
    static STARTING_RUNTIME: Cell<bool> = const { Cell::new(false) };
}

/// Makes a panic while [`runtime`] builds a runtime (tokio's, when the OS refuses a worker
/// thread) end the process before it unwinds: one line on stderr, exit code 1. Every other
/// panic goes to the hook installed before.
fn exit_when_the_runtime_cannot_start() {
    let earlier = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if STARTING_RUNTIME.get() {
            let why = info.payload_as_str().unwrap_or("tokio's builder panicked");
            let line = error_line(format_args!("cannot start the tokio runtime: {why}"));
            let _ = writeln!(std::io::stderr(), "{line}");
            std::process::exit(1);
        }
        earlier(info);
    }));
}

/// Runs `main` as a task on `rt` and waits for it, as `asyncio.run(main())` wraps `main` in a Task.
///
/// Running inside a task (not directly in `block_on`) matters: `tokio::task::try_id()` sees a task,
/// and on the multi-thread runtime `tokio::spawn` goes to the worker's local queue. A panic in
/// `main` comes back as an error.
///
/// ```
/// let rt = timing::runtime(timing::cli::Flavor::Current).unwrap();
/// let id = timing::run_as_task(&rt, async { tokio::task::try_id() }).unwrap();
/// assert!(id.is_some());
/// ```
pub fn run_as_task<F>(rt: &Runtime, main: F) -> anyhow::Result<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    rt.block_on(async { tokio::spawn(main).await })
        .map_err(|e| anyhow::anyhow!("the main task failed: {e}"))
}

/// Runs `main` on `rt` the way `entry` says: as a task ([`run_as_task`]) or directly in
/// `block_on` on this thread.
pub fn enter<F>(rt: &Runtime, entry: Entry, main: F) -> anyhow::Result<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match entry {
        Entry::Task => run_as_task(rt, main),
        Entry::BlockOn => Ok(rt.block_on(main)),
    }
}

/// Runs a `main` that is not `Send` (a `taskgroup::polled` scope, whose children need not be)
/// the way `entry` says: as a task on this thread (`spawn_local` in a `LocalSet`, the
/// counterpart of [`run_as_task`]), or directly in `block_on`. `main` makes the future where
/// it runs.
pub fn enter_local<M, F>(rt: &Runtime, entry: Entry, main: M) -> anyhow::Result<F::Output>
where
    M: FnOnce() -> F + 'static,
    F: Future + 'static,
    F::Output: 'static,
{
    match entry {
        Entry::Task => tokio::task::LocalSet::new()
            .block_on(rt, async {
                tokio::task::spawn_local(async { main().await }).await
            })
            .map_err(|e| anyhow::anyhow!("the main task failed: {e}")),
        Entry::BlockOn => Ok(rt.block_on(main())),
    }
}

/// Start latencies reported by this process' runs, merged, for the JSON result.
static START_LATENCY: Mutex<Option<Histogram<u64>>> = Mutex::new(None);

/// Adds one run's start latencies (nanoseconds from each task's creation to its first poll) to
/// what `--json` writes.
pub fn report_start_latency(run: &Histogram<u64>) {
    let mut merged = START_LATENCY.lock().unwrap_or_else(PoisonError::into_inner);
    match merged.as_mut() {
        Some(all) => {
            // Both have the project's bounds, so adding cannot fail.
            let _ = all.add(run);
        }
        None => *merged = Some(run.clone()),
    }
}

/// An exercise's whole `main`: parses the flags (bad ones, and a `--tasks` that cannot fit in the
/// machine's available memory: one line on stderr, exit 2), builds the runtime (one that cannot
/// start: one line, exit 1; see [`runtime`]), runs `body` `--repeat` times recording each
/// returned duration, writes `--json`, and exits 0, or 1 after printing the error when a run
/// failed. A closed stdout pipe (`ex | head`) ends the run quietly with exit code 141, writing no
/// `--json`, as a C tool killed by SIGPIPE; any other failed write to stdout (`ex > /dev/full`)
/// ends it with one line on stderr and exit code 1, writing no `--json` either.
///
/// `body` prints what the Python original prints and returns the duration it measured, the same
/// span the original times.
pub fn main<B>(spec: &Spec, body: B) -> ExitCode
where
    B: FnMut(&Runtime, &Args) -> anyhow::Result<Duration>,
{
    crate::lines::exit_on_stdout_error();
    exit_when_the_runtime_cannot_start();
    match spec.parse(std::env::args_os().skip(1)) {
        Ok(Command::Help) => {
            crate::lines::print_stdout(format_args!("{}", spec.usage()));
            ExitCode::SUCCESS
        }
        Ok(Command::Run(args)) => {
            let fits = crate::memory::available_bytes()
                .map_or(Ok(()), |available| spec.check_memory(&args, available));
            match fits {
                Ok(()) => run(spec, &args, body),
                Err(usage) => {
                    eprintln!("{usage}");
                    ExitCode::from(2)
                }
            }
        }
        Err(usage) => {
            eprintln!("{usage}");
            ExitCode::from(2)
        }
    }
}

fn run<B>(spec: &Spec, args: &Args, mut body: B) -> ExitCode
where
    B: FnMut(&Runtime, &Args) -> anyhow::Result<Duration>,
{
    let rt = match runtime(args.flavor) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!(
                "{}",
                error_line(format_args!("cannot start the tokio runtime: {e}"))
            );
            return ExitCode::FAILURE;
        }
    };
    let mut recorder = Recorder::new();
    let mut cpu = Vec::new();
    let mut failed = None;
    for _ in 0..args.repeat {
        let cpu_before = process_cpu();
        let ran = body(&rt, args);
        let cpu_ns = nanos(process_cpu().saturating_sub(cpu_before));
        // A run that returned, or whose point is its failure, has a figure to keep.
        let kept = match &ran {
            Ok(elapsed) => Some(*elapsed),
            Err(error) => error.downcast_ref::<FailedAfter>().map(|f| f.elapsed),
        };
        if let Some(elapsed) = kept {
            recorder.record(elapsed);
            cpu.push(cpu_ns);
        }
        if let Err(error) = ran {
            failed = Some(error);
            if kept.is_none() {
                break;
            }
        }
    }
    if let Some(path) = &args.json
        && !recorder.samples().is_empty()
    {
        let mut result = TimingResult::new(
            spec.name,
            args.variant,
            "rust",
            Some(args.flavor.name()),
            args.tasks,
            &recorder,
        );
        result.cpu_samples_ns = cpu;
        result.peak_rss_bytes = crate::result::peak_rss_bytes();
        result.start_latency = START_LATENCY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(SerializedHistogram::of);
        if let Err(e) = result.write(path) {
            eprintln!("{}", error_line(format_args!("{e:#}")));
            return ExitCode::FAILURE;
        }
    }
    match failed {
        Some(error) => {
            eprintln!("{}", error_line(format_args!("{error:#}")));
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    }
}

/// The CPU time (user + system, every thread) this process has used so far, from the kernel's
/// own accounting at nanosecond precision. Around a repetition it is what the repetition cost,
/// where the wall time would also hold time spent waiting for a core on a busy machine.
pub fn process_cpu() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}
