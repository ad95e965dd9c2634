//! CPython's `Lib/test/test_asyncio/test_runners.py`, ported test by test (same names): the
//! `RunnerTests` with a tokio counterpart, and the `RunTests` (`asyncio.run`) whose behaviour
//! the Runner shares. What is not ported, and why, is in the crate docs' table.
//!
//! `asyncio.run(main())` is [`asyncio_run`]: a runner, one `run`, `close`. Python's
//! `interrupt_self()` is a real SIGINT (`kill -INT`) sent to a child process, the
//! `runner_sigint_fixture` binary, whose lines the test reads with bounded waits.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use contextvars::{Context, ContextVar};
use runner::{Error, Flavor, Runner};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::task::yield_now;

/// `asyncio.run(main)`: fails fast inside a running runtime, before making a runner.
fn asyncio_run<F>(main: F) -> Result<F::Output, Error>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if Handle::try_current().is_ok() {
        return Err(Error::NestedRun);
    }
    let runner = Runner::new().expect("a runtime");
    let output = runner.run(main);
    runner.close().expect("closed outside any runtime");
    output
}

/// `loop.is_closed()` for a runtime seen through its handle: a task spawned on it is
/// cancelled at once.
fn is_closed(handle: &Handle) -> bool {
    let probe = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    probe
        .block_on(handle.spawn(async {}))
        .is_err_and(|e| e.is_cancelled())
}

// RunTests

#[test]
fn test_asyncio_run_return() {
    let main = async {
        yield_now().await;
        42
    };
    assert_eq!(asyncio_run(main), Ok(42));
}

#[test]
fn test_asyncio_run_raises() {
    // An exception out of main: here a panic (an error value simply comes back as output).
    let main = async {
        yield_now().await;
        panic!("spam");
    };
    let err = asyncio_run(main).unwrap_err();
    assert_eq!(err, Error::Panicked("spam".into()));
    assert!(err.to_string().contains("spam"));
}

#[test]
fn test_asyncio_run_from_running_loop() {
    // From a task of the runner's own runtime, and from block_on of any runtime.
    let err = asyncio_run(async { asyncio_run(async {}) })
        .expect("the outer run")
        .unwrap_err();
    assert_eq!(err, Error::NestedRun);
    assert!(err.to_string().contains("cannot be called from a running"));

    let other = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(
        other.block_on(async { asyncio_run(async {}) }),
        Err(Error::NestedRun)
    );
}

#[test]
fn test_asyncio_run_cancels_hanging_tasks() {
    let (alive, leftover_done) = tokio::sync::oneshot::channel::<()>();
    let lo_task = Arc::new(Mutex::new(None));
    let main = {
        let lo_task = Arc::clone(&lo_task);
        async move {
            let leftover = tokio::spawn(async move {
                let _alive = alive;
                tokio::time::sleep(Duration::from_millis(100)).await;
            });
            *lo_task.lock().unwrap() = Some(leftover);
            123
        }
    };
    assert_eq!(asyncio_run(main), Ok(123));
    // `lo_task.done()`: the task was dropped (cancelled) by close, not left running.
    let mut leftover_done = leftover_done;
    assert_eq!(
        leftover_done.try_recv(),
        Err(tokio::sync::oneshot::error::TryRecvError::Closed)
    );
    let handle = lo_task.lock().unwrap().take().unwrap();
    assert!(handle.is_finished());
}

#[test]
fn test_asyncio_run_loop_factory() {
    // `loop_factory`: the runner runs on the runtime it is given, made once.
    let made = AtomicUsize::new(0);
    let factory = || {
        made.fetch_add(1, Ordering::Relaxed);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(3)
            .build()
            .unwrap()
    };
    let runner = Runner::builder().runtime(factory()).build().unwrap();
    let workers = runner
        .run(async { Handle::current().metrics().num_workers() })
        .unwrap();
    assert_eq!(workers, 3);
    runner.close().unwrap();
    assert_eq!(made.load(Ordering::Relaxed), 1);
}

#[test]
fn test_loop_factory_default_event_loop() {
    // The default runtime is the one-thread loop, as asyncio's default is its event loop.
    let runner = Runner::new().unwrap();
    let flavor = runner
        .run(async { Handle::current().runtime_flavor() })
        .unwrap();
    assert_eq!(flavor, RuntimeFlavor::CurrentThread);
    let multi = Runner::builder()
        .flavor(Flavor::MultiThread)
        .build()
        .unwrap();
    assert_eq!(
        multi.get_loop().unwrap().runtime_flavor(),
        RuntimeFlavor::MultiThread
    );
}

// RunnerTests

#[test]
fn test_custom_factory() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(3)
        .build()
        .unwrap();
    let runner = Runner::builder().runtime(runtime).build().unwrap();
    let handle = runner.get_loop().unwrap();
    assert_eq!(handle.runtime_flavor(), RuntimeFlavor::MultiThread);
    assert_eq!(handle.metrics().num_workers(), 3);
}

#[test]
fn test_run() {
    let f = async {
        yield_now().await;
        "done"
    };
    let runner = Runner::new().unwrap();
    assert_eq!(runner.run(f), Ok("done"));
    let handle = runner.get_loop().unwrap();
    runner.close().unwrap(); // leaving `with`

    let err = runner.get_loop().unwrap_err();
    assert_eq!(err, Error::Closed);
    assert_eq!(err.to_string(), "Runner is closed");

    assert!(is_closed(&handle));
}

#[test]
fn test_explicit_close() {
    let runner = Runner::new().unwrap();
    let handle = runner.get_loop().unwrap();
    runner.close().unwrap();
    assert_eq!(runner.get_loop().unwrap_err(), Error::Closed);
    assert!(is_closed(&handle));
}

#[test]
fn test_double_close() {
    let runner = Runner::new().unwrap();
    let handle = runner.get_loop().unwrap();

    runner.close().unwrap();
    assert!(is_closed(&handle));

    // the second call is a no-op
    runner.close().unwrap();
    assert!(is_closed(&handle));
    assert!(runner.is_closed());
}

#[test]
fn test_second_with_block_raises() {
    let ret = Arc::new(Mutex::new(Vec::new()));
    let f = |arg: i32| {
        let ret = Arc::clone(&ret);
        async move { ret.lock().unwrap().push(arg) }
    };

    let runner = Runner::new().unwrap();
    runner.run(f(1)).unwrap();
    runner.close().unwrap(); // leaving the first `with`

    let err = runner.run(f(2)).unwrap_err();
    assert_eq!(err.to_string(), "Runner is closed");

    assert_eq!(*ret.lock().unwrap(), [1]);
}

#[test]
fn test_run_keeps_context() {
    static CVAR: ContextVar<i32> = ContextVar::new("cvar", -1);

    async fn f(val: i32) -> i32 {
        let old = CVAR.get();
        yield_now().await;
        CVAR.set(val).unwrap();
        old
    }

    let runner = Runner::new().unwrap();
    assert_eq!(runner.run(f(1)), Ok(-1));
    assert_eq!(runner.run(f(2)), Ok(1));

    let context = runner.run(async { Context::current() }).unwrap().unwrap();
    assert_eq!(context.get(&CVAR), Some(2));
}

#[test]
fn test_recursive_run() {
    let g_polled = Arc::new(AtomicBool::new(false));
    let runner = Arc::new(Runner::new().unwrap());
    let f = {
        let runner = Arc::clone(&runner);
        let g_polled = Arc::clone(&g_polled);
        async move {
            let g = async move { g_polled.store(true, Ordering::Relaxed) };
            runner.run(g)
        }
    };
    let err = runner.run(f).unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        "Runner.run() cannot be called from a running event loop"
    );
    // "coroutine ... was never awaited": g was dropped unpolled.
    assert!(!g_polled.load(Ordering::Relaxed));
}

#[test]
fn test_interrupt_call_soon() {
    // The only case where the task is not suspended on a future or another task: it yields
    // in a loop. Ctrl-C cancels it and run raises KeyboardInterrupt.
    let mut child = Fixture::start("call_soon");
    child.expect("running");
    child.interrupt();
    child.expect("main task dropped");
    child.expect("run: Err(Interrupted)");
    child.expect("next run: Ok(42)");
    child.expect("waiting");
    // After run, SIGINT ends the process again (exit code 130: see the crate docs).
    child.interrupt();
    let status = child.exit();
    assert_eq!(status.code(), Some(130), "{status:?}");
    child.expect_no_more_lines();
}

#[test]
fn test_interrupt_wait() {
    // Interrupting while waiting on a future cancels both the future and the main task.
    let mut child = Fixture::start("wait");
    child.expect("running");
    child.interrupt();
    child.expect("run: Err(Interrupted)");
    child.expect("future cancelled: true");
    assert!(child.exit().success());
}

#[test]
fn test_interrupt_cancelled_task() {
    // Another task cancels the main task, then a SIGINT comes before the task has ended: run
    // raises CancelledError, not KeyboardInterrupt. The default runner: its task runs on the
    // helper thread, the SIGINT is taken on the main one.
    interrupt_cancelled_task("cancelled_task");
}

/// `test_interrupt_cancelled_task` against the fixture `mode`.
fn interrupt_cancelled_task(mode: &str) {
    let mut child = Fixture::start(mode);
    child.expect("running");
    child.expect("cancelled: true");
    child.interrupt(); // `interrupt_self()`
    child.expect("main task dropped");
    child.expect("run: Err(Cancelled)");
    // The subtask's cancel and the SIGINT's.
    child.expect("cancel requests: 2");
    child.expect("cancel after run: false");
    assert!(child.exit().success());
    child.expect_no_more_lines();
}

#[test]
fn test_signal_install_not_supported_ok() {
    // Where no handler can be installed (here: not the main thread, as every test thread),
    // run works without one.
    let runner = Runner::new().unwrap();
    assert_ne!(std::thread::current().name(), Some("main"));
    assert_eq!(runner.run(async {}), Ok(()));
}

#[test]
fn test_no_repr_is_call_on_the_task_result() {
    static REPR_COUNT: AtomicUsize = AtomicUsize::new(0);
    struct MyResult;
    impl std::fmt::Debug for MyResult {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            REPR_COUNT.fetch_add(1, Ordering::Relaxed);
            f.write_str("MyResult")
        }
    }
    let runner = Runner::new().unwrap();
    let _result: MyResult = runner.run(async { MyResult }).unwrap();
    drop(runner);
    assert_eq!(REPR_COUNT.load(Ordering::Relaxed), 0);
}

// Beyond CPython's tests: the rest of the Ctrl-C rules, and the Rust-side guarantees.

#[test]
fn a_second_ctrl_c_returns_without_waiting_for_the_main_task() {
    let mut child = Fixture::start("second");
    child.expect("running");
    child.interrupt();
    std::thread::sleep(Duration::from_millis(200)); // two signals, not one merged
    child.interrupt();
    // Before the blocked task gets to print "blocking over".
    child.expect("run: Err(Interrupted)");
    assert!(child.exit().success());
}

#[test]
fn a_second_ctrl_c_returns_from_a_current_thread_runner_whose_task_never_yields() {
    // The task holds the runtime's only thread for 20 s; run must not wait for it.
    let mut child = Fixture::start("spin");
    child.expect("running");
    child.interrupt();
    std::thread::sleep(Duration::from_millis(200)); // two signals, not one merged
    child.interrupt();
    child.expect("run: Err(Interrupted)");
    // Its runtime is left to the task that still runs: the runner is closed.
    child.expect("next run: Err(Closed)");
    child.expect("closed: true");
    assert!(child.exit().success());
    child.expect_no_more_lines();
}

#[test]
fn a_ctrl_c_after_another_task_cancelled_the_main_task_of_a_multi_thread_runner_is_no_interrupt() {
    // test_interrupt_cancelled_task where `run` takes the SIGINT inside `block_on`.
    interrupt_cancelled_task("cancelled_task_multi");
}

#[test]
fn a_runner_built_without_sigint_handling_leaves_sigint_alone() {
    let mut child = Fixture::start("no_handler");
    child.expect("running");
    child.interrupt();
    child.assert_sigint_left_alone();
}

#[test]
fn a_run_off_the_main_thread_leaves_sigint_alone() {
    let mut child = Fixture::start("thread");
    child.expect("running");
    child.interrupt();
    child.assert_sigint_left_alone();
}

/// Whether SIGINT is ignored in this process, and so in the fixtures it starts: a job started
/// in the background by a shell without job control (as CI may be) inherits that.
fn sigint_ignored_here() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let mask = status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .map(|hex| u64::from_str_radix(hex.trim(), 16).expect("a hex mask"))
        .expect("a SigIgn line");
    mask & (1 << (2 - 1)) != 0 // SIGINT is signal 2
}

#[test]
fn a_run_from_another_thread_during_a_run_is_refused() {
    let runner = Arc::new(Runner::new().unwrap());
    let (started, wait_started) = std::sync::mpsc::channel();
    let (finish, wait_finish) = tokio::sync::oneshot::channel::<()>();
    let first = {
        let runner = Arc::clone(&runner);
        std::thread::spawn(move || {
            runner.run(async move {
                started.send(()).unwrap();
                wait_finish.await.unwrap();
            })
        })
    };
    wait_started.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(runner.run(async {}), Err(Error::AlreadyRunning));
    assert_eq!(runner.close(), Err(Error::CloseWhileRunning));
    finish.send(()).unwrap();
    assert_eq!(first.join().unwrap(), Ok(()));
    assert_eq!(runner.run(async { 1 }), Ok(1));
}

#[test]
fn a_subtask_can_cancel_the_main_task() {
    // test_interrupt_cancelled_task without the SIGINT, where run installs no handler (a test
    // thread is not the main one), on both flavors.
    for flavor in [Flavor::CurrentThread, Flavor::MultiThread] {
        let runner = Runner::builder().flavor(flavor).build().unwrap();
        let (keep, kept) = std::sync::mpsc::channel();
        let outcome = runner.run(async move {
            let task = runner::main_task().expect("the main task has a handle");
            let subtask = tokio::spawn(async move {
                yield_now().await;
                task.cancel()
            });
            keep.send((subtask, runner::main_task().unwrap())).unwrap();
            tokio::time::sleep(Duration::from_secs(10)).await;
        });
        assert_eq!(outcome, Err(Error::Cancelled), "{flavor:?}");
        let (subtask, task) = kept.recv().unwrap();
        let cancelled = runner.run(subtask).unwrap().unwrap();
        assert!(cancelled, "the subtask's cancel landed ({flavor:?})");
        assert_eq!(task.cancelling(), 1);
        // From any thread: the handle is Send and Sync.
        let late = std::thread::spawn({
            let task = task.clone();
            move || task.cancel()
        });
        assert!(!late.join().unwrap(), "the run is over ({flavor:?})");
        assert_eq!(
            task.cancelling(),
            1,
            "a cancel that did not land is not counted"
        );
        assert_eq!(
            runner.run(async { 3 }),
            Ok(3),
            "the next run is not cancelled"
        );
    }
}

#[test]
fn the_main_task_can_cancel_itself() {
    // asyncio's `asyncio.current_task().cancel()`: the task ends at its next yield. On a
    // multi-thread runtime the cancel may come before run has the task's handle.
    for flavor in [Flavor::CurrentThread, Flavor::MultiThread] {
        let runner = Runner::builder().flavor(flavor).build().unwrap();
        let reached = Arc::new(AtomicBool::new(false));
        let after = Arc::clone(&reached);
        let outcome = runner.run(async move {
            assert!(runner::main_task().unwrap().cancel());
            yield_now().await;
            after.store(true, Ordering::Relaxed);
        });
        assert_eq!(outcome, Err(Error::Cancelled), "{flavor:?}");
        assert!(
            !reached.load(Ordering::Relaxed),
            "dropped at the yield ({flavor:?})"
        );

        // Returning before the next yield does not escape a cancel that landed (asyncio
        // cancels a task whose coroutine returns with a cancel pending).
        let outcome = runner.run(async { runner::main_task().unwrap().cancel() });
        assert_eq!(outcome, Err(Error::Cancelled), "{flavor:?}");
    }
}

#[test]
fn main_task_is_only_the_main_tasks() {
    assert!(runner::main_task().is_none(), "outside a run");
    let runner = Runner::new().unwrap();
    let seen = runner
        .run(async {
            let in_subtask = tokio::spawn(async { runner::main_task().is_some() });
            (runner::main_task().is_some(), in_subtask.await.unwrap())
        })
        .unwrap();
    assert_eq!(seen, (true, false), "tasks do not inherit it");
    let mut context = Context::new();
    assert_eq!(
        runner.run_in(&mut context, async { runner::main_task().is_some() }),
        Ok(true)
    );
    assert_eq!(
        runner.run_in_place(async { runner::main_task().is_some() }),
        Ok(false),
        "run_in_place has no task"
    );
}

#[test]
fn a_cancelled_run_in_keeps_the_context_it_set() {
    static CVAR: ContextVar<i32> = ContextVar::new("cvar", 0);
    let runner = Runner::new().unwrap();
    let mut context = Context::new();
    let outcome = runner.run_in(&mut context, async {
        CVAR.set(4).unwrap();
        runner::main_task().unwrap().cancel();
        yield_now().await;
    });
    assert_eq!(outcome, Err(Error::Cancelled));
    assert_eq!(context.get(&CVAR), Some(4));
}

#[test]
fn close_inside_a_run_is_refused() {
    let runner = Arc::new(Runner::new().unwrap());
    let inner = Arc::clone(&runner);
    assert_eq!(
        runner.run(async move { inner.close() }),
        Ok(Err(Error::CloseWhileRunning))
    );
    assert_eq!(runner.run(async { 2 }), Ok(2));
}

#[test]
fn a_panicking_run_keeps_the_context_it_set() {
    static CVAR: ContextVar<i32> = ContextVar::new("cvar", 0);
    let runner = Runner::new().unwrap();
    let err = runner.run(async {
        CVAR.set(5).unwrap();
        panic!("after the set");
    });
    assert_eq!(err, Err(Error::Panicked("after the set".into())));
    assert_eq!(runner.run(async { CVAR.get() }), Ok(5));
}

#[test]
fn a_panicking_run_in_place_is_an_error_and_keeps_the_context() {
    static VARS: [ContextVar<usize>; 7] = [
        ContextVar::new("v0", 0),
        ContextVar::new("v1", 0),
        ContextVar::new("v2", 0),
        ContextVar::new("v3", 0),
        ContextVar::new("v4", 0),
        ContextVar::new("v5", 0),
        ContextVar::new("v6", 0),
    ];
    static LAST: ContextVar<i32> = ContextVar::new("last", 0);
    let runner = Runner::new().unwrap();
    for (i, var) in VARS.iter().enumerate() {
        runner
            .run(async move { var.set(i + 1).map(drop) })
            .unwrap()
            .unwrap();
    }
    // Caught here too, so that a panic escaping run_in_place shows what it did to the context.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runner.run_in_place(async {
            LAST.set(8).unwrap();
            yield_now().await;
            panic!("in place");
        })
    }));
    let seen = runner
        .run(async {
            (
                VARS.iter().map(ContextVar::get).collect::<Vec<_>>(),
                LAST.get(),
            )
        })
        .unwrap();
    assert_eq!(
        seen,
        ((1..=7).collect::<Vec<_>>(), 8),
        "every earlier set survives"
    );
    match outcome {
        Ok(result) => assert_eq!(result, Err(Error::Panicked("in place".into()))),
        Err(_) => panic!("the panic escaped run_in_place instead of being Err(Panicked)"),
    }
    assert_eq!(
        runner.run_in_place(async { VARS[6].get() }),
        Ok(7),
        "still usable"
    );
}

#[test]
fn run_in_runs_in_the_given_context_and_tasks_get_copies() {
    static CVAR: ContextVar<i32> = ContextVar::new("cvar", 0);
    let runner = Runner::new().unwrap();
    let mut ctx = Context::new();
    let child_saw = runner
        .run_in(&mut ctx, async {
            CVAR.set(1).unwrap();
            contextvars::spawn(async {
                let saw = CVAR.get();
                CVAR.set(2).unwrap();
                saw
            })
            .await
            .unwrap()
        })
        .unwrap();
    assert_eq!(child_saw, 1);
    assert_eq!(ctx.get(&CVAR), Some(1));
    assert_eq!(
        runner.run(async { CVAR.get() }),
        Ok(0),
        "the runner's own is untouched"
    );
}

#[test]
fn the_runner_context_is_a_copy_of_the_creators() {
    static CVAR: ContextVar<i32> = ContextVar::new("cvar", 0);
    let runner = Context::new().run(|| {
        CVAR.set(9).unwrap();
        Runner::new().unwrap()
    });
    assert_eq!(runner.run(async { CVAR.get() }), Ok(9));
}

#[test]
fn time_runs_on_a_paused_clock_given_as_the_runtime() {
    let paused = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let runner = Runner::builder().runtime(paused).build().unwrap();
    let slept = runner
        .run(async {
            let start = tokio::time::Instant::now();
            tokio::time::sleep(Duration::from_secs(3600)).await;
            start.elapsed()
        })
        .unwrap();
    assert_eq!(slept, Duration::from_secs(3600));
}

// The child process harness.

const FIXTURE: &str = env!("CARGO_BIN_EXE_runner_sigint_fixture");
/// The longest any step may take before the test fails; nothing waits this long on success.
const BOUND: Duration = Duration::from_secs(10);

struct Fixture {
    child: Child,
    lines: Receiver<String>,
}

impl Fixture {
    fn start(mode: &str) -> Self {
        let mut child = Command::new(FIXTURE)
            .arg(mode)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the fixture starts");
        let stdout = child.stdout.take().expect("piped");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    fn expect(&mut self, want: &str) {
        match self.lines.recv_timeout(BOUND) {
            Ok(line) => assert_eq!(line, want),
            Err(e) => panic!("waiting for {want:?}: {e:?}"),
        }
    }

    fn expect_no_more_lines(&mut self) {
        match self.lines.recv_timeout(BOUND) {
            Err(RecvTimeoutError::Disconnected) => {}
            other => panic!("expected the end of the output, got {other:?}"),
        }
    }

    fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// The SIGINT just sent had the action the fixture inherited, which the runner left
    /// alone: the default kills it, and an inherited "ignore" leaves it running, printing
    /// nothing (a handler of the runner's would have ended its run with a line).
    fn assert_sigint_left_alone(&mut self) {
        if sigint_ignored_here() {
            match self.lines.recv_timeout(Duration::from_millis(500)) {
                Err(RecvTimeoutError::Timeout) => {}
                other => panic!("SIGINT was ignored, yet the fixture went on: {other:?}"),
            }
            assert!(
                self.child.try_wait().expect("try_wait").is_none(),
                "still running"
            );
            return;
        }
        assert_eq!(
            killed_by(self.exit()),
            Some(2),
            "the default action: death by SIGINT"
        );
        self.expect_no_more_lines();
    }

    fn exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the fixture did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn killed_by(status: ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}
