//! A scope dropped before it returned (its owner was cancelled): the group shuts down, and
//! on a multi-thread runtime the drop waits until every task's future has been dropped.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use crate::shared::Shared;

/// Dropped only when the scope's future is dropped before it returned (its owner was
/// cancelled): shuts the group down, waits on a multi-thread runtime until every task's future
/// has been dropped, and leaves the last task to end to tidy up.
pub(crate) struct Abandon(pub(crate) Option<Arc<Shared>>);

impl Drop for Abandon {
    fn drop(&mut self) {
        let Some(shared) = self.0.take() else { return };
        shared.shut_down();
        if !shared.state.abandon() {
            drop(shared.release_parent());
        } else {
            wait_abandoned(&shared);
        }
    }
}

/// How long a dropped scope waits without seeing any of its tasks end before it gives up: a
/// runtime that is shutting down drops the tasks itself, after the scope, and never polls them.
const PATIENCE: Duration = Duration::from_millis(250);

/// asyncio's promise when the owner of a group is cancelled: once the owner's cancellation is
/// over, every child has run its own. Here the drop of the scope is that moment, so on a
/// multi-thread runtime it waits until each task's future has been dropped: every task was
/// woken by the shutdown, and those on other threads finish their step and drop. The wait is
/// in `block_in_place`, which hands this worker's queue (where some of the tasks may wait) to
/// another thread. A current-thread runtime cannot run the tasks while its one thread waits;
/// there the tasks drop at their next poll, which the runtime makes before it polls whoever
/// awaited the scope's owner (they were woken first). The wait ends early, rather than
/// hang, if no task ends for [`PATIENCE`].
fn wait_abandoned(shared: &Shared) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if runtime.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread
        || std::thread::panicking()
    {
        return;
    }
    *shared
        .abandoner
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(std::thread::current());
    let live = || shared.state.live();
    let wait = || {
        let (mut last, mut since) = (live(), Instant::now());
        while last > 0 && since.elapsed() < PATIENCE {
            std::thread::park_timeout(Duration::from_millis(10));
            let now = live();
            if now != last {
                (last, since) = (now, Instant::now());
            }
        }
    };
    // `block_in_place` refuses some threads (a runtime's `block_on` in some setups): the drop
    // then returns at once, as it did before it waited.
    let _ = panic::catch_unwind(AssertUnwindSafe(|| tokio::task::block_in_place(wait)));
    shared
        .abandoner
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
}
