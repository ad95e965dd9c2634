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

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use runner::{Flavor, Runner};

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
        _ => {
            eprintln!("usage: runner_sigint_fixture call_soon|wait|second|spin|no_handler|thread");
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
