//! Test fixture, not an example: a process for `tests/test_runners.rs` to send SIGINT to.
//!
//! `runner_sigint_fixture MODE` prints `running` once its main task runs, then what `run`
//! returned; the test reads the lines and sends SIGINT with `kill -INT`. Modes:
//!
//! - `call_soon`: the main task yields forever (asyncio's `test_interrupt_call_soon`); after
//!   `run` it prints `waiting` and waits for a second SIGINT, which must end the process.
//! - `wait`: the main task awaits a future nobody completes (`test_interrupt_wait`); prints
//!   whether that future was dropped.
//! - `second`: a multi-thread runner whose main task blocks its worker for 5 s, so the first
//!   SIGINT's cancel cannot land; the second must make `run` return at once.
//! - `spin`: the default (current-thread) runner, whose main task holds the only thread for
//!   20 s without yielding; the second SIGINT must make `run` return at once all the same.
//!   Then prints what a later `run` and `is_closed` say.
//! - `no_handler`: a runner built with `handle_sigint(false)`; SIGINT must act as by default.
//! - `thread`: `run` on a thread that is not the main one; SIGINT must act as by default.
//! - `cancelled_task`, `cancelled_task_multi`: a subtask cancels the main task of the default
//!   (current-thread) runner, or of a multi-thread one, and prints `cancelled: true`; the
//!   SIGINT then sent must leave `run`'s outcome `Err(Cancelled)` (asyncio's
//!   `test_interrupt_cancelled_task`). Then prints the cancel count and a later `cancel`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use runner::{Flavor, MainTask, Runner};

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Prints `line` when dropped: shows the main task was cancelled.
struct OnDrop(&'static str);

impl Drop for OnDrop {
    fn drop(&mut self) {
        say(self.0);
    }
}

fn main() -> ExitCode {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let outcome = match mode.as_str() {
        "call_soon" => call_soon(),
        "wait" => wait(),
        "second" => second(),
        "spin" => spin(),
        "no_handler" => no_handler(),
        "thread" => thread(),
        "cancelled_task" => cancelled_task(Flavor::CurrentThread),
        "cancelled_task_multi" => cancelled_task(Flavor::MultiThread),
        _ => {
            eprintln!(
                "usage: runner_sigint_fixture \
                 call_soon|wait|second|spin|no_handler|thread|cancelled_task|cancelled_task_multi"
            );
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn call_soon() -> anyhow::Result<()> {
    let runner = Runner::new()?;
    let result = runner.run(async {
        let _guard = OnDrop("main task dropped");
        say("running");
        loop {
            tokio::task::yield_now().await;
        }
    });
    say(&format!("run: {result:?}"));
    // The runner still works after an interrupted run.
    say(&format!("next run: {:?}", runner.run(async { 42 })));
    runner.close()?;
    say("waiting");
    std::thread::sleep(Duration::from_secs(20));
    say("still alive");
    Ok(())
}

fn wait() -> anyhow::Result<()> {
    let runner = Runner::new()?;
    let (complete, fut) = tokio::sync::oneshot::channel::<()>();
    let result = runner.run(async move {
        say("running");
        fut.await
    });
    say(&format!("run: {result:?}"));
    say(&format!("future cancelled: {}", complete.is_closed()));
    Ok(())
}

fn second() -> anyhow::Result<()> {
    let runner = Runner::builder().flavor(Flavor::MultiThread).build()?;
    let result = runner.run(async {
        say("running");
        std::thread::sleep(Duration::from_secs(5)); // blocks the worker: no yield point
        say("blocking over");
        tokio::task::yield_now().await;
    });
    say(&format!("run: {result:?}"));
    // Exit without waiting for the blocked worker (closing would wait for it).
    std::process::exit(0);
}

fn spin() -> anyhow::Result<()> {
    let runner = Runner::new()?;
    let result = runner.run(async {
        say("running");
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(10)); // never yields to the runtime
        }
        say("spinning over");
    });
    say(&format!("run: {result:?}"));
    say(&format!("next run: {:?}", runner.run(async { 42 })));
    say(&format!("closed: {}", runner.is_closed()));
    // Leaving main ends the process, the abandoned task with it.
    Ok(())
}

fn no_handler() -> anyhow::Result<()> {
    let runner = Runner::builder().handle_sigint(false).build()?;
    let result = runner.run(async {
        say("running");
        tokio::time::sleep(Duration::from_secs(20)).await;
    });
    say(&format!("run: {result:?}"));
    Ok(())
}

fn thread() -> anyhow::Result<()> {
    let runner = Runner::new()?;
    let result = std::thread::spawn(move || {
        runner.run(async {
            say("running");
            tokio::time::sleep(Duration::from_secs(20)).await;
        })
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the thread panicked"))?;
    say(&format!("run: {result:?}"));
    Ok(())
}

/// Held by the main task of `cancelled_task`: when the cancelled task is dropped, waits until
/// the run has taken the SIGINT too (the run's own cancel makes it the second request). In
/// Python, `interrupt_self()` is handled before the cancelled task runs again; here the signal
/// comes from the test, through another thread, so without this wait the task could end, and
/// `run` return, before the signal is seen.
struct UntilInterrupted(MainTask);

impl Drop for UntilInterrupted {
    fn drop(&mut self) {
        while self.0.cancelling() < 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
        say("main task dropped");
    }
}

fn cancelled_task(flavor: Flavor) -> anyhow::Result<()> {
    let runner = Runner::builder().flavor(flavor).build()?;
    let (keep, kept) = std::sync::mpsc::channel();
    let result = runner.run(async move {
        let Some(task) = runner::main_task() else {
            say("no main task");
            return;
        };
        let _ = keep.send(task.clone());
        let _until = UntilInterrupted(task.clone());
        say("running");
        // `asyncio.create_task(subtask(asyncio.current_task()))`
        tokio::spawn(async move {
            tokio::task::yield_now().await; // `asyncio.sleep(0)`
            say(&format!("cancelled: {}", task.cancel()));
        });
        tokio::time::sleep(Duration::from_secs(10)).await;
        say("slept 10 s");
    });
    say(&format!("run: {result:?}"));
    let task = kept.recv()?;
    say(&format!("cancel requests: {}", task.cancelling()));
    say(&format!("cancel after run: {}", task.cancel()));
    Ok(())
}
