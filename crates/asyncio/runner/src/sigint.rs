//! SIGINT for [`Runner::run`](crate::Runner::run): one process-wide thread owns the signal once
//! a run has asked for it, forwards it to the run in progress, and ends the process when no run
//! is in progress (what the default action would have done: tokio cannot restore it).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use tokio::sync::mpsc;

/// The run that handles SIGINT now, if any. The watcher decides under this lock, so a signal
/// is either forwarded to a run still installed or treated as the default, never both.
static HANDLER: Mutex<Option<(u64, mpsc::UnboundedSender<Wake>)>> = Mutex::new(None);

/// Numbers the installations, so a run uninstalls only its own.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Exit code for a SIGINT that no run handles: 128 + 2, as a shell reports a death by SIGINT.
const EXIT_ON_SIGINT: i32 = 130;

/// What a run waiting on its [`Interrupts`] is woken by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    /// A Ctrl-C.
    Interrupt,
    /// The main task's thread is done (see [`Interrupts::on_finish`]).
    Finished,
}

/// The interrupts of one run; uninstalls the run's handler when dropped.
#[derive(Debug)]
pub(crate) struct Interrupts {
    id: u64,
    sender: mpsc::UnboundedSender<Wake>,
    receiver: mpsc::UnboundedReceiver<Wake>,
}

impl Interrupts {
    /// The next Ctrl-C.
    pub(crate) async fn next(&mut self) {
        loop {
            match self.receiver.recv().await {
                Some(Wake::Interrupt) => return,
                Some(Wake::Finished) => {}
                None => std::future::pending::<()>().await, // no more signals
            }
        }
    }

    /// Blocks this thread (which must not be inside a runtime) until the next Ctrl-C, or
    /// until the [`Finish`] of [`on_finish`](Interrupts::on_finish) is dropped.
    pub(crate) fn wait(&mut self) -> Wake {
        // `self.sender` keeps the channel open, so `None` cannot come; it would mean that
        // nothing can wake the run any more, which the caller treats as the end.
        self.receiver.blocking_recv().unwrap_or(Wake::Finished)
    }

    /// A guard for the thread that drives the main task: dropping it (on return or unwind)
    /// wakes [`wait`](Interrupts::wait) with [`Wake::Finished`].
    pub(crate) fn on_finish(&self) -> Finish {
        Finish(self.sender.clone())
    }
}

/// Wakes the run's [`Interrupts::wait`] with [`Wake::Finished`] when dropped.
#[derive(Debug)]
pub(crate) struct Finish(mpsc::UnboundedSender<Wake>);

impl Drop for Finish {
    fn drop(&mut self) {
        let _ = self.0.send(Wake::Finished);
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        let mut handler = HANDLER.lock().unwrap_or_else(PoisonError::into_inner);
        if handler.as_ref().is_some_and(|(id, _)| *id == self.id) {
            *handler = None;
        }
    }
}

/// Installs a handler for this run, unless another run has one; `None` if SIGINT cannot be
/// watched here (not Unix, or tokio refused to register it): the run then goes without, as
/// asyncio does when `signal.signal` fails.
pub(crate) fn install() -> Option<Interrupts> {
    if !watching() {
        return None;
    }
    let mut handler = HANDLER.lock().unwrap_or_else(PoisonError::into_inner);
    if handler.is_some() {
        return None;
    }
    let (sender, receiver) = mpsc::unbounded_channel();
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    *handler = Some((id, sender.clone()));
    Some(Interrupts {
        id,
        sender,
        receiver,
    })
}

/// Starts the watcher thread once; whether it watches SIGINT.
fn watching() -> bool {
    static WATCHING: OnceLock<bool> = OnceLock::new();
    *WATCHING.get_or_init(start_watcher)
}

#[cfg(unix)]
fn start_watcher() -> bool {
    use tokio::signal::unix::{SignalKind, signal};

    let (ready, registered) = std::sync::mpsc::channel();
    let started = std::thread::Builder::new()
        .name("runner-sigint".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            else {
                let _ = ready.send(false);
                return;
            };
            runtime.block_on(async move {
                let Ok(mut sigint) = signal(SignalKind::interrupt()) else {
                    let _ = ready.send(false);
                    return;
                };
                let _ = ready.send(true);
                while sigint.recv().await.is_some() {
                    let handler = HANDLER.lock().unwrap_or_else(PoisonError::into_inner);
                    match handler.as_ref() {
                        Some((_, run)) => {
                            let _ = run.send(Wake::Interrupt);
                        }
                        None => std::process::exit(EXIT_ON_SIGINT),
                    }
                }
            });
        });
    started.is_ok() && registered.recv().unwrap_or(false)
}

#[cfg(not(unix))]
fn start_watcher() -> bool {
    false
}
