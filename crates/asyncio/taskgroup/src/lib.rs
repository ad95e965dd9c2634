//! `asyncio.TaskGroup` on tokio, with `asyncio.eager_task_factory`'s eager start.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use std::time::Duration;
//! use taskgroup::{Scope, Start, TaskGroup};
//! use tokio_util::sync::CancellationToken;
//!
//! // async with asyncio.TaskGroup() as tg:
//! let (first, done) = Scope::new(Start::Eager)
//!     .run_counted(async |tg: &mut TaskGroup| {
//!         let first = tg.spawn(async { 2 })?; // finishes in its eager step
//!         // A child spawns into its own group through a handle (tg.create_task in a task).
//!         let group = tg.handle();
//!         tg.spawn(async move {
//!             tokio::task::yield_now().await; // suspends: handed to the runtime
//!             group.spawn(async { 3 }).is_ok()
//!         })?;
//!         Ok(first)
//!     })
//!     .await?; // the end of `async with`: every task has ended
//! assert_eq!(first.result(), Some(2));
//! assert_eq!((done.eager, done.scheduled), (2, 1)); // how they ran: `run` returns `first` alone
//!
//! // Cancel a group from outside: the scope returns once every child has ended.
//! let token = CancellationToken::new();
//! let owner = tokio::spawn(Scope::new(Start::Scheduled).cancel_on(token.clone()).run(
//!     async |tg: &mut TaskGroup| {
//!         tg.spawn(tokio::time::sleep(Duration::from_secs(3600)))?;
//!         std::future::pending::<()>().await; // the body waits forever
//!         Ok(())
//!     },
//! ));
//! tokio::task::yield_now().await;
//! token.cancel();
//! let cancelled = owner.await?.unwrap_err();
//! assert!(cancelled.cancelled && cancelled.failures.is_empty());
//! # anyhow::Ok(()) }).unwrap();
//! ```
//!
//! # asyncio → taskgroup
//!
//! | asyncio | here |
//! |---|---|
//! | `async with TaskGroup() as tg: body` | [`scope(start, async \|tg\| body)`](scope), or [`Scope::new(start).run(…)`](Scope::run) |
//! | `tg.create_task(coro)` | [`tg.spawn(fut)`](TaskGroup::spawn); [`spawn_fallible`](TaskGroup::spawn_fallible) when its `Err` is an exception |
//! | `tg.create_task(coro, name=…, eager_start=…, context=…)` | [`tg.task().name(…).start(…).context(…).spawn(fut)`](TaskBuilder); `context=ctx` runs the task in `ctx` itself (a [`contextvars::SharedContext`]) |
//! | `tg.create_task` from inside a task of the group | [`tg.handle()`](TaskGroup::handle), a clonable [`GroupHandle`] |
//! | `tg.cancel()` (3.15) | [`tg.cancel()`](TaskGroup::cancel), or cancel its [`token`](TaskGroup::token) |
//! | cancelling the task that runs `async with` | [`Scope::cancel_on(token)`](Scope::cancel_on), then `token.cancel()`; or abort or drop the scope's owner |
//! | nested `async with TaskGroup()` | [`Scope::parent(&handle)`](Scope::parent) |
//! | `task.cancel()`, `task.cancel(msg)`, `task.cancelling()` | [`TaskHandle::cancel`], [`cancel_with`](TaskHandle::cancel_with), [`cancelling`](TaskHandle::cancelling) |
//! | `done()`, `cancelled()`, `result()`, `get_name()` (`Task-N`) | [`TaskHandle`] |
//! | `await task` (cancelling the awaiter cancels the task) | `task.await` |
//! | `asyncio.wait([task])`, `asyncio.shield(task)` (the task goes on) | `(&mut task).await`, [`shield(task)`](shield) |
//! | `except CancelledError:` in a task or the body, `task.uncancel()` | [`spawn_cooperative`](TaskGroup::spawn_cooperative), [`Scope::cooperative`]: a [`CancelRequest`] |
//! | `CancelledError(msg)` | [`TaskError::Cancelled(msg)`](TaskError::Cancelled) |
//! | `asyncio.gather(*tasks)`, `return_exceptions=True`, `gather.cancel()` | [`gather_tasks`], [`return_exceptions`](GatherTasks::return_exceptions), [`cancel`](GatherTasks::cancel) |
//! | `asyncio.gather(*coros)` under the eager task factory | [`gather`]: polled in place, no task at all |
//! | `asyncio.current_task()`, `asyncio.all_tasks()` | [`current_task()`], [`all_tasks()`] |
//! | `ExceptionGroup` | [`GroupError`] |
//! | `KeyboardInterrupt`, `SystemExit` through `async with` | a panic with an [`Interrupt`] payload |
//! | `asyncio.capture_call_graph`, `python -m asyncio pstree` (3.14) | [`tg.snapshot()`](TaskGroup::snapshot), printable |
//!
//! # What carries over from asyncio
//!
//! - The scope returns only when every task spawned into the group has ended.
//! - The first failure, a task's `Err` or panic, cancels the tasks still running *and the body
//!   of the scope* (as asyncio cancels the parent task), and spawning is refused from then on
//!   ([`Refused::ShuttingDown`]; after the scope, [`Refused::Finished`]): the future is
//!   dropped, never run. A task spawned just before the failure that has not yet taken its
//!   first step never takes it. The scope then returns every failure together in a
//!   [`GroupError`], Python's `ExceptionGroup`, including an error the body itself returned.
//!   A panic whose payload is an [`Interrupt`] is not gathered: once every task has ended, the
//!   scope panics again with it, as `KeyboardInterrupt` leaves `async with` unwrapped.
//! - A task whose `Err` is a cancellation ([`TaskError::Cancelled`], as `?` on a cancelled
//!   task gives, or a group's error that is only a cancellation) ends cancelled, not failed:
//!   Python's `CancelledError` raised out of a task.
//! - Each task runs in a copy of its spawner's [`contextvars::Context`] (a share until either
//!   side sets a variable), its eager step too, as `create_task` copies the current context;
//!   or, given one ([`TaskBuilder::context`]), in that context itself. A spawner inside a
//!   runtime with no context entered (a `#[tokio::test]` body, a plain `block_on`) has none to
//!   copy, and its tasks have none either: enter one around the scope (`contextvars::Context::new().scope(…)`,
//!   or run it with `runner::Runner`, which runs every call in a context).
//! - A task that fails with an error is spawned with [`spawn_fallible`](TaskGroup::spawn_fallible);
//!   an `async` block that only fails needs its value's type said
//!   (`async { Err::<(), _>(anyhow::anyhow!("boom")) }`), as `?` and `bail!` cannot tell it.
//!
//! # Cancelling: two models
//!
//! In asyncio a cancellation is a `CancelledError` raised at the task's next `await`: the task
//! may catch it, clean up with more awaits, or carry on. Rust has no async drop and no
//! exception to raise in a future, so a task here is cancelled in one of two ways, chosen at
//! its spawn:
//!
//! - **Dropped** (the default, and the cheap one): [`TaskHandle::cancel`], a failure in the
//!   group or the group's cancellation drops the task's future at its next step (at once if it
//!   is suspended). Its `except CancelledError:` and `finally:` are drop guards; they cannot
//!   await, and a panic in one is a failure of the group. A task cancelled in the very step
//!   that finishes it ends cancelled all the same, its value dropped (asyncio's
//!   `_must_cancel`).
//! - **Cooperative** ([`TaskGroup::spawn_cooperative`], [`Scope::cooperative`] for the body):
//!   never dropped; each cancellation is a request that the task sees through its
//!   [`CancelRequest`], where it chooses to look, and it decides: return
//!   `Err(request.error())` to end cancelled (`raise`), await some cleanup first, or
//!   [`uncancel`](CancelRequest::uncancel) and carry on. Its handle counts the requests
//!   ([`TaskHandle::cancelling`]). A cooperative body keeps its group's tasks running while it
//!   handles a cancellation, as in asyncio.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
//! use std::time::Duration;
//! use taskgroup::{Start, TaskError, TaskGroup, scope};
//! use tokio::time::sleep;
//!
//! let (dropped, cooperative) = scope(Start::Scheduled, async |tg: &mut TaskGroup| {
//!     // try: await asyncio.sleep(3600) / finally: ... — dropped at the cancel, no await after.
//!     let dropped = tg.spawn(sleep(Duration::from_secs(3600)))?;
//!     // try: await asyncio.sleep(3600) / except CancelledError: await cleanup(); raise
//!     let cooperative = tg.spawn_cooperative(|mut request| async move {
//!         tokio::select! {
//!             () = sleep(Duration::from_secs(3600)) => Ok(1),
//!             _ = request.cancelled() => {
//!                 sleep(Duration::from_secs(1)).await; // an awaited cleanup
//!                 Err(request.error())
//!             }
//!         }
//!     })?;
//!     tokio::task::yield_now().await;
//!     dropped.cancel();
//!     cooperative.cancel_with("stop");
//!     Ok((dropped.await, cooperative.await))
//! })
//! .await?;
//! assert_eq!(dropped, Err(TaskError::Cancelled(None)));
//! assert_eq!(cooperative, Err(TaskError::Cancelled(Some("stop".into()))));
//! # anyhow::Ok(()) }).unwrap();
//! ```
//!
//! **Awaiting a task** with `task.await` makes it the awaiter's, as `await task` does: if the
//! awaiter is cancelled (the wait dropped), the task is cancelled too, and so are the tasks
//! of a dropped [`gather_tasks`]. `(&mut task).await` waits without that, and [`shield`]
//! is `asyncio.shield`.
//!
//! **Cancelling the owner of a group.** The promise asyncio keeps, that every child has run its
//! cancellation when the owner's `CancelledError` goes on, holds on the explicit path: cancel
//! the group through its token ([`Scope::cancel_on`], [`TaskGroup::token`]) or
//! [`TaskGroup::cancel`], and await the scope. It returns, after every task has ended, a
//! [`GroupError`] with `cancelled` set and the failures collected before and during the
//! cancellation. Dropping the scope's future instead (aborting its owner) shuts the group down
//! and wakes every task to drop its future; on the multi-thread runtime the drop then waits,
//! in `block_in_place`, until each task's future has been dropped (those on other threads
//! finish their step first), so the promise holds there too. On the current-thread runtime
//! the drop cannot wait, as the tasks need its one thread: they drop at their next poll,
//! before a task that awaits the owner runs again (tokio's queue is first in, first out), but
//! `block_on`'s own future is polled between batches of 61 tasks and may see some still
//! running. A runtime that shuts down drops the scope before its tasks: the wait then gives up
//! after 250 ms without any task ending, rather than hang.
//!
//! A [`GroupError`] with `cancelled` set and no failure is the Rust `CancelledError`, and is
//! treated as one: a body that returns it (a nested group's, through `?`) is cancelled, not
//! failed, as `__aexit__` never counts a `CancelledError` among its errors. The group then
//! ends cancelled, or, if it was already shutting down because something failed, with just
//! those failures. A nested group whose parent is already shutting down when it starts
//! returns this cancellation at once, its body never run, as asyncio's parent task would get
//! its `CancelledError` at its next await.
//!
//! A nested group ([`Scope::parent`]) that is dropped stays counted in its parent until its
//! tasks have all ended, and hands its failures to the parent, so the parent's scope still
//! waits for them. However deep a chain of such groups, the last task to end lets go of it in
//! a loop, level by level, using no stack per level.
//!
//! # Eager start
//!
//! With [`Start::Eager`], spawning polls the new future once, right where it is called. A
//! future that finishes in that poll never becomes a tokio task: no scheduling, and its result
//! is in the handle at once; spawned by the scope's body ([`TaskGroup::spawn`]), no allocation
//! either, while a [`GroupHandle`]'s spawn allocates the memory its step runs in (see
//! [Cost](#cost)). A future that does not finish is handed to the runtime, which polls it
//! again from the start of its next turn.
//!
//! As in asyncio, the eager step runs *as the new task* for [`current_task()`]: it returns the
//! new task's id during that step and the same id afterwards. `tokio::task::try_id()` is the
//! tokio task's id instead, and the eager step runs inside the spawning tokio task, so during
//! that step it is the parent's; from the first suspension on it is the task's own.
//!
//! # Cost
//!
//! A task that [`TaskGroup::spawn`] finishes in its eager step costs a poll and a few loads: no
//! allocation, no shared counter, no lock; it gets its `Task-N` number only if someone asks for its
//! [`id`](TaskHandle::id) or name. (A spawner that runs in a `contextvars` context copies it for
//! each task: an atomic increment and a decrement.) Spawned through a [`GroupHandle`] (from another
//! task or thread), the same task costs more: the group counts it as live during its step and
//! counts it as done after (three atomic updates, more when it is the only task live), and the step
//! runs in a place allocated for it. A scheduled task costs one tokio task, as small as a bare
//! `tokio::spawn`'s for a small future, and its handle one small allocation: the handle is a
//! pointer to its `JoinHandle`, its id and its group, and reads the task's value and how it ended
//! from the tokio task's output. A whole handle returned through `Result` cost more than the
//! allocation, in copies that waited for their own stores. The group's counts of live tasks and of
//! handles share one atomic word, which a spawn adds to once. A task is listed in the group (a
//! lock) only if it suspends, has a name, went on from an eager step, or was cancelled through its
//! handle. Cooperative tasks cost one more allocation each (their requests) and a look at the
//! group's token at every step.
//!
//! CPython's own tests of `TaskGroup` and the eager task factory are ported, one Rust test each,
//! in `tests/`; `CONFORMANCE.md` beside this crate lists those that cannot be and why.

// The modules in layers, each using only modules named before it here (so none imports
// another back).
// 1. Words: `outcome` (how tasks and groups end), `current` (task ids, the current task),
//    `listing` (what a group lists of its tasks, and their names), `cancel` (a cooperative
//    task's requests), `options` (how a task starts, and the eager step's one poll),
//    `snapshot` (what a group shows).
// 2. Memory and atomics (most of the crate's unsafe code, with its contracts): `state` (the
//    scheduled group's state word and counted references), `place` (the memory of an eager
//    step), and the polled group's `arena`, `ready` and `wakers`.
// 3. The scheduled group, bottom up: `shared` (what its tasks, handles and scope share) <
//    `task` (a task's future on tokio) < `handle` (`TaskHandle`) < `schedule` (a task onto
//    tokio) < `eager` (the eager step both spawners share) < `spawn` (`TaskGroup`,
//    `GroupHandle`, `TaskBuilder`) < `abandon` (a scope dropped before it returned) < `scope`
//    (the scope's lifecycle).
// 4. Beside it: `polled` (the polled group, on layers 1 and 2) and `gather` (on `handle`).
mod abandon;
mod arena;
mod cancel;
mod current;
mod eager;
mod gather;
mod handle;
mod listing;
mod options;
mod outcome;
mod place;
pub mod polled;
mod ready;
mod schedule;
mod scope;
mod shared;
mod snapshot;
mod spawn;
mod state;
mod task;
mod wakers;

pub use cancel::CancelRequest;
pub use current::{NoRunningLoop, TaskId, current_task};
pub use gather::{Gather, GatherOutcomes, GatherTasks, gather, gather_tasks};
pub use handle::{Await, Shielded, TaskHandle, Wait, shield};
pub use options::Start;
pub use outcome::{Completed, Failure, GroupError, Interrupt, Refused, TaskError, TaskState};
pub use scope::{Scope, scope};
pub use shared::all_tasks;
pub use snapshot::{Snapshot, TaskInfo};
pub use spawn::{GroupHandle, TaskBuilder, TaskGroup};
