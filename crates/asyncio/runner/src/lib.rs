//! `asyncio.Runner` (Python 3.11) on tokio: one runtime and one context for several calls, with
//! asyncio's Ctrl-C handling.
//!
//! `asyncio.run(coro)` makes an event loop, runs one coroutine as a task and closes the loop.
//! `with asyncio.Runner() as runner:` keeps the loop for several `runner.run(coro)` calls and
//! runs every one of them in the runner's own `contextvars.Context`, so a `ContextVar` set by
//! one call is seen by the next. [`Runner`] does the same with a tokio [`Runtime`] and a
//! [`contextvars::Context`]:
//!
//! | asyncio | here |
//! |---|---|
//! | `Runner()`, `Runner(loop_factory=…)` | [`Runner::new`] (current-thread runtime), [`Runner::builder`] (flavor, or a runtime of your own) |
//! | `runner.run(coro)` | [`Runner::run`]: `future` as a task of the runtime, in the runner's context |
//! | `runner.run(coro, context=ctx)` | [`Runner::run_in`] |
//! | `runner.get_loop()` | [`Runner::get_loop`]: the runtime's [`Handle`] |
//! | `asyncio.current_task()` in the main task, `task.cancel()`, `task.cancelling()` | [`main_task`], [`MainTask::cancel`], [`MainTask::cancelling`] |
//! | `runner.close()`, leaving `with` | [`Runner::close`], `Drop` |
//! | `KeyboardInterrupt` out of `run` | [`Error::Interrupted`] |
//! | `CancelledError` out of `run` | [`Error::Cancelled`] |
//!
//! # Examples
//!
//! ```
//! use contextvars::ContextVar;
//! static REQUEST: ContextVar<u32> = ContextVar::new("request", 0);
//!
//! let runner = runner::Runner::new()?;
//! runner.run(async { REQUEST.set(7).map(drop) })??;
//! assert_eq!(runner.run(async { REQUEST.get() })?, 7); // seen by the next call
//! // A task spawned with contextvars::spawn gets a copy: its sets stay in it.
//! let child = runner.run(async {
//!     contextvars::spawn(async { REQUEST.set(8).map(drop) }).await.map(|_| REQUEST.get())
//! })?;
//! assert_eq!(child?, 7);
//! runner.close()?;
//! assert_eq!(runner.run(async {}).unwrap_err(), runner::Error::Closed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Guarantees
//!
//! - **Every call is a task**, spawned on the runner's runtime and awaited from `block_on`,
//!   as `Runner.run` wraps the coroutine in a `Task`. It runs in the runner's context (a copy
//!   of the creating thread's current context, or a new one): its sets stay there for the next
//!   call, even when it panics or is cancelled. Tasks it spawns with [`contextvars::spawn`]
//!   get copies; a plain `tokio::spawn` task has no context (see the `contextvars` crate).
//! - **Errors, as asyncio's.** [`run`](Runner::run) inside a runtime (from a task, or from
//!   `block_on` of any runtime) is [`Error::NestedRun`], not tokio's panic. A thread of
//!   tokio's blocking pool (`spawn_blocking`) counts as inside too, although asyncio lets an
//!   executor thread run a loop of its own: tokio shows a blocking thread the same runtime
//!   handle as a task, so the two cannot be told apart. While another
//!   thread is in `run` on the same runner, [`Error::AlreadyRunning`]; after
//!   [`close`](Runner::close), [`Error::Closed`]; a panic in the task, [`Error::Panicked`],
//!   and the runner stays usable.
//! - **Cancelling the main task.** [`main_task`], called in the main task, gives a
//!   [`MainTask`] to move into the tasks (on any thread) that may cancel it; `run` then
//!   returns [`Error::Cancelled`]. Once the task has ended, [`MainTask::cancel`] does nothing.
//! - **Ctrl-C.** While `run` is in progress, the first SIGINT cancels the main task (aborts
//!   it and waits until it has been dropped) and `run` returns [`Error::Interrupted`]. If the
//!   task finished first, its result; if a [`MainTask::cancel`] landed too, before or after
//!   the SIGINT, [`Error::Cancelled`], as asyncio's `Runner.run` raises `KeyboardInterrupt`
//!   only where its own cancel is the only one. A second SIGINT makes `run` return
//!   [`Error::Interrupted`] at once, without waiting for a task that does not yield. As in
//!   asyncio, only a run on the main thread installs this (a thread named `main`, which is
//!   Rust's main thread), and only where nobody else handles SIGINT: asyncio checks that the
//!   handler is still Python's default; that cannot be read without unsafe code, so a program
//!   with its own Ctrl-C handling says so with [`Builder::handle_sigint`]`(false)`. The
//!   handler is installed for the duration of one `run` and removed after it.
//! - **A task that never yields, on one thread.** On a current-thread runtime (the default)
//!   such a task holds the runtime's only thread, and nothing else runs there, not even the
//!   wait for a second Ctrl-C. So where `run` handles Ctrl-C on such a runtime, it calls
//!   `block_on` on a helper thread (`runner-main`, one per call) and waits for it or for the
//!   signals: the main task runs on that thread, not on the caller's. After a second SIGINT
//!   the task may still be running inside the runtime, which cannot be shut down while it
//!   is: the runner is then closed (later calls are [`Error::Closed`]) and its runtime is
//!   left to the helper thread, which drops it when the task ends, or never if it never does
//!   (the process can still exit). On a multi-thread runtime `block_on` stays on the
//!   caller's thread, the task blocks a worker only, and the runner stays open.
//! - **SIGINT after `run`.** Before the first handling `run`, SIGINT has the operating
//!   system's default action (the process dies). tokio cannot give that back: once tokio
//!   registers a signal, its handler stays for the life of the process (the `tokio::signal`
//!   docs). So the first handling `run` also starts a thread that owns SIGINT from then on:
//!   during a `run` it forwards the signal to it, and otherwise it ends the process with exit
//!   code 130 (128 + SIGINT, what a shell reports for a death by Ctrl-C), the closest to the
//!   default that safe code can do. The difference: a parent sees an exit code, not a death by
//!   signal. (Unix only; elsewhere `run` installs nothing.)
//! - **Close** ([`close`](Runner::close), or drop) is idempotent. It shuts the runtime down:
//!   every task still there is dropped (asyncio cancels them), and blocking work gets up to
//!   300 s to finish (asyncio's timeout for its default executor). Closing inside a runtime or
//!   during a `run` is [`Error::CloseWhileRunning`]; a drop there shuts down in the
//!   background instead.
//!
//! # CPython's tests
//!
//! `tests/test_runners.rs` ports `Lib/test/test_asyncio/test_runners.py` test by test, under
//! the same names (`RunnerTests`, and the `RunTests` of `asyncio.run` whose behaviour the
//! Runner shares). These have no counterpart:
//!
//! | CPython test | why not |
//! |---|---|
//! | `test_debug`, `test_non_debug`, `test_asyncio_run_debug` | tokio has no debug mode to switch |
//! | `test_run_non_coro`, `test_run_future`, `test_asyncio_run_only_coro` | passing a non-future is a compile error; and any future may be run, as a task |
//! | `test_set_event_loop_called_once`, `test_asyncio_run_set_event_loop` | no event-loop policy: a runtime is entered per call, never installed process-wide |
//! | `test_asyncio_run_reports_hanging_tasks_errors` | a tokio task is cancelled by being dropped, so no error can come out of its cancellation to report |
//! | `test_asyncio_run_closes_gens_after_hanging_tasks_errors` | no async generators to finalize |
//! | `test_asyncio_run_without_uncancel` | no task factory, and tokio tasks have no `uncancel` count |
//!
//! `test_signal_install_not_supported_ok` is ported as a run where no handler is installed
//! (any thread but the main one).

use std::any::Any;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::Duration;

use contextvars::Context;
use tokio::runtime::{Handle, Runtime, RuntimeFlavor};
use tokio::task::{AbortHandle, JoinHandle};

mod sigint;

/// How long closing waits for blocking work: asyncio's `THREAD_JOIN_TIMEOUT` (300 s), the time
/// it gives its default executor to shut down.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(300);

/// Why a [`Runner`] call failed: asyncio's exceptions out of `Runner.run`, `get_loop`, `close`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The runner was closed (`RuntimeError: Runner is closed`).
    Closed,
    /// `run` from inside a running runtime (`RuntimeError: Runner.run() cannot be called from a
    /// running event loop`).
    NestedRun,
    /// `run` while another thread is running this runner (`RuntimeError: This event loop is
    /// already running`).
    AlreadyRunning,
    /// `close` during a `run` or inside a runtime (`RuntimeError: Cannot close a running event
    /// loop`).
    CloseWhileRunning,
    /// Ctrl-C cancelled the main task (`KeyboardInterrupt`).
    Interrupted,
    /// The main task was cancelled otherwise, by [`MainTask::cancel`] (`CancelledError`).
    Cancelled,
    /// The main task panicked (the exception `run` re-raises), with the panic's message.
    Panicked(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Closed => f.write_str("Runner is closed"),
            Error::NestedRun => {
                f.write_str("Runner.run() cannot be called from a running event loop")
            }
            Error::AlreadyRunning => f.write_str("This event loop is already running"),
            Error::CloseWhileRunning => f.write_str("Cannot close a running event loop"),
            Error::Interrupted => f.write_str("KeyboardInterrupt: Ctrl-C cancelled the main task"),
            Error::Cancelled => f.write_str("the main task was cancelled"),
            Error::Panicked(message) => write!(f, "the main task panicked: {message}"),
        }
    }
}

impl std::error::Error for Error {}

tokio::task_local! {
    /// The main task of the run whose main future is being polled.
    static MAIN_TASK: MainTask;
}

/// In the main task of a [`Runner::run`] or [`Runner::run_in`], a handle to that task:
/// `asyncio.current_task()` there. `None` anywhere else: outside a run, in
/// [`Runner::run_in_place`] (no task), and in a task the main task spawns, as tokio tasks do
/// not inherit task-locals. A task that is to cancel the main task gets the handle from it, as
/// CPython's `test_interrupt_cancelled_task` passes `asyncio.current_task()` to its subtask:
///
/// ```
/// let runner = runner::Runner::new()?;
/// let outcome = runner.run(async {
///     let main = runner::main_task().expect("in the main task");
///     tokio::spawn(async move { main.cancel() });
///     std::future::pending::<()>().await // cancelled here
/// });
/// assert_eq!(outcome, Err(runner::Error::Cancelled));
/// assert!(runner::main_task().is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn main_task() -> Option<MainTask> {
    MAIN_TASK.try_with(MainTask::clone).ok()
}

/// The main task of one [`Runner::run`] (see [`main_task`]): asyncio's `Task` as far as
/// cancelling it goes. Usable from any task and any thread, during the run and after it.
#[derive(Debug, Clone)]
pub struct MainTask(Arc<Mutex<Control>>);

/// What [`MainTask`] shares with the run.
#[derive(Debug, Default)]
struct Control {
    /// The spawned task; `None` while `run` has not yet got its handle (the task may already
    /// be running then, on another worker).
    task: Option<AbortHandle>,
    /// Cancellation requests that landed: `cancel` calls that returned true.
    requests: usize,
    /// Whether `run` has taken the task's outcome: later requests cannot land.
    ended: bool,
}

impl MainTask {
    /// A handle for a task `run` is about to spawn; see [`attach`](MainTask::attach).
    fn unattached() -> Self {
        Self(Arc::default())
    }

    /// `task.cancel()`: aborts the main task, which is dropped at its next yield, and `run`
    /// returns [`Error::Cancelled`] (asyncio's `CancelledError`), even if a Ctrl-C comes
    /// before the task has ended: that is no `KeyboardInterrupt` then. False, and nothing
    /// done, if the task has already ended (a task that a second Ctrl-C left running has not:
    /// this aborts it).
    ///
    /// True means `run` ends cancelled: if the task returns before it yields again (tokio
    /// then keeps its output), `run` drops the output and returns [`Error::Cancelled`], as
    /// asyncio cancels a task whose coroutine returns with a cancel pending. A panic still
    /// comes out as [`Error::Panicked`], as asyncio's exception wins over the cancel.
    pub fn cancel(&self) -> bool {
        let mut control = self.lock();
        if control.ended || control.task.as_ref().is_some_and(AbortHandle::is_finished) {
            return false;
        }
        control.requests += 1;
        // Without a handle yet, `attach` aborts the task as soon as it has one.
        if let Some(task) = &control.task {
            task.abort();
        }
        true
    }

    /// `task.cancelling()`: how many cancellation requests have landed so far, counting
    /// [`cancel`](MainTask::cancel) calls that returned true and a Ctrl-C's (the runner
    /// cancels the main task as a `cancel` call does). Cancellation cannot be undone here, so
    /// the count only grows.
    pub fn cancelling(&self) -> usize {
        self.lock().requests
    }

    /// Gives the run's task to the handle, aborting it if a `cancel` came first.
    fn attach(&self, task: AbortHandle) {
        let mut control = self.lock();
        if control.requests > 0 {
            task.abort();
        }
        control.task = Some(task);
    }

    /// Ends the task for `cancel`, which lands no more: the requests that landed.
    fn end(&self) -> usize {
        let mut control = self.lock();
        control.ended = true;
        control.requests
    }

    fn lock(&self) -> MutexGuard<'_, Control> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The runtime a [`Builder`] makes, as `Runner(loop_factory=…)` chooses the loop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Flavor {
    /// One thread, like asyncio's loop (the default).
    #[default]
    CurrentThread,
    /// A worker thread per core.
    MultiThread,
}

/// Configures a [`Runner`]: `asyncio.Runner(loop_factory=…)`.
#[derive(Debug, Default)]
pub struct Builder {
    flavor: Flavor,
    runtime: Option<Runtime>,
    ignore_sigint: bool,
    context: Option<Context>,
}

impl Builder {
    /// The runtime flavor (default [`Flavor::CurrentThread`]); it gets time and I/O enabled.
    pub fn flavor(mut self, flavor: Flavor) -> Self {
        self.flavor = flavor;
        self
    }

    /// Runs on `runtime` instead of making one (a `loop_factory`): e.g. a runtime whose clock
    /// starts paused.
    pub fn runtime(mut self, runtime: Runtime) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Whether `run` on the main thread handles Ctrl-C (default true). Say false where the
    /// program handles SIGINT itself: asyncio leaves a custom handler alone.
    pub fn handle_sigint(mut self, handle: bool) -> Self {
        self.ignore_sigint = !handle;
        self
    }

    /// The runner's context (default: a copy of the current one, or a new one).
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// The runner; an error if the runtime cannot be built.
    pub fn build(self) -> std::io::Result<Runner> {
        let runtime = match self.runtime {
            Some(runtime) => runtime,
            None => match self.flavor {
                Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
                Flavor::MultiThread => tokio::runtime::Builder::new_multi_thread(),
            }
            .enable_all()
            .build()?,
        };
        Ok(Runner {
            state: Mutex::new(State::Open {
                runtime: Arc::new(runtime),
                context: self
                    .context
                    .unwrap_or_else(|| Context::current().unwrap_or_default()),
            }),
            running: AtomicBool::new(false),
            handle_sigint: !self.ignore_sigint,
        })
    }
}

#[derive(Debug)]
enum State {
    Open {
        runtime: Arc<Runtime>,
        context: Context,
    },
    Closed,
}

/// `asyncio.Runner`: a runtime kept for several [`run`](Runner::run) calls, each a task in the
/// runner's own context. See the crate docs for the guarantees.
#[derive(Debug)]
pub struct Runner {
    state: Mutex<State>,
    running: AtomicBool,
    handle_sigint: bool,
}

impl Runner {
    /// `asyncio.Runner()`: a runner on a new current-thread runtime (time and I/O enabled).
    pub fn new() -> std::io::Result<Self> {
        Self::builder().build()
    }

    /// A [`Builder`] to choose the runtime.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `runner.run(coro)`: runs `future` as a task on the runner's runtime, in the runner's
    /// context, and returns its output. See the crate docs for the errors and Ctrl-C.
    pub fn run<F>(&self, future: F) -> Result<F::Output, Error>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runtime, _running) = self.enter()?;
        let mut context = self.take_context();
        let result = self.drive(&runtime, &mut context, future);
        self.put_context(context);
        result
    }

    /// `runner.run(coro, context=ctx)`: like [`run`](Runner::run), in `context` instead of the
    /// runner's; `context` keeps what the task set.
    pub fn run_in<F>(&self, context: &mut Context, future: F) -> Result<F::Output, Error>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runtime, _running) = self.enter()?;
        self.drive(&runtime, context, future)
    }

    /// Not in asyncio: polls `future` directly in `block_on` on this thread, in the runner's
    /// context, rather than as a task (this project's `--entry block_on`). Same errors as
    /// [`run`](Runner::run). Ctrl-C, where `run` would handle it, drops the future in place at
    /// its next yield and returns [`Error::Interrupted`]; as the future is polled on this
    /// thread, nothing can end a future that never yields (`run` can: see the crate docs).
    ///
    /// A panic while the future is polled is [`Error::Panicked`], as from `run`: the future is
    /// dropped, and the runner keeps the context with what the future set before panicking. A
    /// panic out of the future's drop is caught the same way.
    pub fn run_in_place<F: Future>(&self, future: F) -> Result<F::Output, Error> {
        let (runtime, _running) = self.enter()?;
        let mut context = self.take_context();
        let interrupts = self.install_sigint();
        // `Context::run` puts the context back in `context` on an unwind too, so whatever
        // escapes `block_on` (a panic of the future's drop), the runner gets its context back.
        let result = catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(async {
                let future = context.scope_mut(catching(future));
                match interrupts {
                    None => future.await,
                    Some(mut interrupts) => {
                        tokio::select! {
                            biased;
                            output = future => output,
                            _ = interrupts.next() => Err(Error::Interrupted),
                        }
                    }
                }
            })
        }));
        self.put_context(context);
        result.unwrap_or_else(|payload| Err(Error::Panicked(panic_message(&*payload))))
    }

    /// `runner.get_loop()`: a handle to the runner's runtime; [`Error::Closed`] after close.
    pub fn get_loop(&self) -> Result<Handle, Error> {
        match &*self.lock() {
            State::Open { runtime, .. } => Ok(runtime.handle().clone()),
            State::Closed => Err(Error::Closed),
        }
    }

    /// `runner.close()`: shuts the runtime down, dropping every task still there, and waits
    /// up to [`SHUTDOWN_TIMEOUT`] for blocking work. Closing again does nothing.
    /// [`Error::CloseWhileRunning`] during a `run` or inside a runtime.
    pub fn close(&self) -> Result<(), Error> {
        if Handle::try_current().is_ok() || self.running.load(Ordering::Acquire) {
            return Err(Error::CloseWhileRunning);
        }
        let state = std::mem::replace(&mut *self.lock(), State::Closed);
        if let State::Open { runtime, .. } = state {
            match Arc::try_unwrap(runtime) {
                Ok(runtime) => runtime.shutdown_timeout(SHUTDOWN_TIMEOUT),
                // Only a run holds another reference, and there is none: unreachable, but a
                // drop is the safe answer.
                Err(shared) => drop(shared),
            }
        }
        Ok(())
    }

    /// Whether [`close`](Runner::close) has run.
    pub fn is_closed(&self) -> bool {
        matches!(*self.lock(), State::Closed)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The checks of `Runner.run`, in its order, and the running flag for the call.
    fn enter(&self) -> Result<(Arc<Runtime>, Running<'_>), Error> {
        if Handle::try_current().is_ok() {
            return Err(Error::NestedRun);
        }
        let runtime = match &*self.lock() {
            State::Open { runtime, .. } => Arc::clone(runtime),
            State::Closed => return Err(Error::Closed),
        };
        if self.running.swap(true, Ordering::AcqRel) {
            return Err(Error::AlreadyRunning);
        }
        Ok((runtime, Running(&self.running)))
    }

    fn take_context(&self) -> Context {
        match &mut *self.lock() {
            State::Open { context, .. } => std::mem::take(context),
            State::Closed => Context::new(),
        }
    }

    fn put_context(&self, new: Context) {
        if let State::Open { context, .. } = &mut *self.lock() {
            *context = new;
        }
    }

    fn install_sigint(&self) -> Option<sigint::Interrupts> {
        if self.handle_sigint && std::thread::current().name() == Some("main") {
            sigint::install()
        } else {
            None
        }
    }

    /// Runs `future` as the main task in `context` and waits for it, handling Ctrl-C.
    fn drive<F>(
        &self,
        runtime: &Arc<Runtime>,
        context: &mut Context,
        future: F,
    ) -> Result<F::Output, Error>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // If a second Ctrl-C leaves the task running with the context, the runner keeps this
        // O(1) copy of it as it was.
        let before = context.clone();
        let slot = Arc::new(Mutex::new(None));
        let guard = PutBack {
            slot: Arc::clone(&slot),
            context: Some(std::mem::take(context)),
        };
        let main_task = MainTask::unattached();
        let main = MAIN_TASK.scope(main_task.clone(), async move {
            let mut guard = guard;
            let context = guard.context.get_or_insert_default();
            context.scope_mut(future).await
        });
        let interrupts = self.install_sigint();
        let task = runtime.spawn(main);
        main_task.attach(task.abort_handle());
        let main = Main {
            task,
            ending: Ending::new(main_task),
        };
        let result = match interrupts {
            None => runtime.block_on(main.outcome()),
            Some(interrupts)
                if runtime.handle().runtime_flavor() == RuntimeFlavor::CurrentThread =>
            {
                self.drive_elsewhere(runtime, main, interrupts)
            }
            Some(interrupts) => runtime.block_on(watch(main, interrupts)),
        };
        let left = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        *context = left.unwrap_or(before);
        result
    }

    /// Waits for the main task on a current-thread runtime, handling Ctrl-C. There the task
    /// runs on the thread in `block_on`, and while it does not yield nothing else runs on that
    /// thread, not even the wait for a second Ctrl-C. So `block_on` runs on a helper thread,
    /// and this one waits for whichever comes first: the helper's end or a Ctrl-C. On the
    /// second, the task still holds the helper thread and, through it, the runtime, which
    /// cannot be shut down while a thread is inside it: the runner closes and leaves the
    /// runtime to the helper thread, which drops it if the task ever ends.
    fn drive_elsewhere<T: Send + 'static>(
        &self,
        runtime: &Arc<Runtime>,
        main: Main<T>,
        mut interrupts: sigint::Interrupts,
    ) -> Result<T, Error> {
        let Main { task, mut ending } = main;
        let (give, take) = std::sync::mpsc::channel::<JoinHandle<T>>();
        let helper = {
            let runtime = Arc::clone(runtime);
            let finish = interrupts.on_finish();
            std::thread::Builder::new()
                .name("runner-main".into())
                .spawn(move || {
                    let _finish = finish; // wakes this thread however the helper ends
                    let task = take.recv().ok()?;
                    Some(runtime.block_on(task))
                })
        };
        // Where no thread can be started, or it is already gone, the task is driven here as
        // on a multi-thread runtime: a Ctrl-C then waits for the task to yield.
        let helper = match helper {
            Ok(helper) => match give.send(task) {
                Ok(()) => helper,
                Err(unsent) => {
                    let main = Main {
                        task: unsent.0,
                        ending,
                    };
                    return runtime.block_on(watch(main, interrupts));
                }
            },
            Err(_) => return runtime.block_on(watch(Main { task, ending }, interrupts)),
        };
        while interrupts.wait() == sigint::Wake::Interrupt {
            if ending.interrupt() {
                *self.lock() = State::Closed; // the runtime is the helper thread's now
                return Err(Error::Interrupted);
            }
        }
        match helper.join() {
            Ok(Some(joined)) => ending.outcome(joined),
            // Not reached: the helper has the task before it can end.
            Ok(None) => Err(Error::Cancelled),
            Err(payload) => Err(Error::Panicked(panic_message(&*payload))),
        }
    }
}

/// A run's main task: its `JoinHandle`, and how the run ends.
struct Main<T> {
    task: JoinHandle<T>,
    ending: Ending,
}

impl<T> Main<T> {
    /// Waits for the task without Ctrl-C handling.
    async fn outcome(self) -> Result<T, Error> {
        self.ending.outcome(self.task.await)
    }
}

/// How a run ends, from the Ctrl-Cs it has had: asyncio's `Runner._on_sigint` and the
/// `except CancelledError` of `Runner.run`.
struct Ending {
    main: MainTask,
    /// Whether a Ctrl-C has come.
    interrupted: bool,
    /// Whether the first Ctrl-C's cancel landed (false if the task had ended by then).
    sigint_cancelled: bool,
}

impl Ending {
    fn new(main: MainTask) -> Self {
        Self {
            main,
            interrupted: false,
            sigint_cancelled: false,
        }
    }

    /// A Ctrl-C: the first cancels the main task, as a [`MainTask::cancel`] call does; true
    /// on the second, on which `run` returns [`Error::Interrupted`] at once.
    fn interrupt(&mut self) -> bool {
        if self.interrupted {
            return true;
        }
        self.interrupted = true;
        self.sigint_cancelled = self.main.cancel();
        false
    }

    /// What `run` returns for the main task's end: its output, unless a cancel landed (see
    /// [`MainTask::cancel`]). A cancelled task ends the run as Ctrl-C's
    /// ([`Error::Interrupted`]) only where the runner's own cancel is the only one, as asyncio
    /// raises `KeyboardInterrupt` only where `task.uncancel()` comes to 0; otherwise as
    /// anyone's ([`Error::Cancelled`]).
    fn outcome<T>(&self, joined: Result<T, tokio::task::JoinError>) -> Result<T, Error> {
        let requests = self.main.end();
        match joined {
            Ok(output) if requests == 0 => Ok(output),
            Err(e) if !e.is_cancelled() => Err(Error::Panicked(panic_message(&*e.into_panic()))),
            _ if self.sigint_cancelled && requests == 1 => Err(Error::Interrupted),
            _ => Err(Error::Cancelled),
        }
    }
}

/// Waits for the main task inside `block_on`, handling Ctrl-C: the first cancels the task and
/// waits until it has been dropped; the second returns at once.
async fn watch<T>(main: Main<T>, mut interrupts: sigint::Interrupts) -> Result<T, Error> {
    let Main {
        mut task,
        mut ending,
    } = main;
    loop {
        tokio::select! {
            biased;
            joined = &mut task => return ending.outcome(joined),
            _ = interrupts.next() => {
                if ending.interrupt() {
                    return Err(Error::Interrupted);
                }
            }
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        let state = std::mem::replace(&mut *self.lock(), State::Closed);
        if let State::Open { runtime, .. } = state
            && let Ok(runtime) = Arc::try_unwrap(runtime)
        {
            if Handle::try_current().is_ok() {
                runtime.shutdown_background(); // blocking here would panic
            } else {
                runtime.shutdown_timeout(SHUTDOWN_TIMEOUT);
            }
        }
    }
}

/// Clears the running flag when a call ends, however it ends.
struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Gives the main task's context back to `run` when the task ends: done, panicked or dropped.
struct PutBack {
    slot: Arc<Mutex<Option<Context>>>,
    context: Option<Context>,
}

impl Drop for PutBack {
    fn drop(&mut self) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = self.context.take();
    }
}

/// A panic's message, as `std` prints it: the `&str` or `String` it carries.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".to_owned())
}

/// `future`, with a panic in its poll caught as [`Error::Panicked`], as tokio catches a task's:
/// the future is then dropped as usual, not during an unwind.
async fn catching<F: Future>(future: F) -> Result<F::Output, Error> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(Error::Panicked(panic_message(&*payload)))),
        },
    )
    .await
}
