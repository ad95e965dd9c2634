//! Python's `contextvars` on tokio: every task runs in its own [`Context`], and a task gets a
//! copy of its creator's.
//!
//! In asyncio, `asyncio.create_task(coro)` gives the new task a *copy* of the creator's current
//! `contextvars.Context`; a `ContextVar.set` inside the task changes only the task's context,
//! so the creator never sees it, and the creator's later sets never reach the task. This crate
//! gives tokio the same:
//!
//! - [`Context`]: a mapping from [`ContextVar`]s to values. Cloning one is Python's
//!   `ctx.copy()` / `copy_context()`: O(1) (an `Arc` clone), and later sets in either copy do
//!   not show in the other (copy-on-write).
//! - [`Context::run`]: `Context.run(f)`: runs a closure with that context current; the
//!   closure's sets stay in that context object.
//! - [`Context::scope`] / [`Context::scope_mut`]: the same for a future, on every poll: a task
//!   made of `ctx.scope(fut)` runs in `ctx`.
//! - [`spawn`]: `asyncio.create_task`: `tokio::spawn` in a copy of the current context.
//! - [`copy_context`]: `contextvars.copy_context()`; at a thread's top level, a copy of the
//!   thread's base context, as in CPython.
//! - [`SharedContext`]: one context held by reference, as Python code holds a `Context`
//!   object: `asyncio.create_task(coro, context=ctx)` is a task of `ctx.clone().scope(coro)`,
//!   and its sets show in `ctx` for the creator.
//! - [`ContextVar`]: `contextvars.ContextVar`, declarable as a `static`, with Python's
//!   [`Token`] and [`reset`](ContextVar::reset) rules.
//!
//! # Examples
//!
//! ```
//! use contextvars::{Context, ContextVar};
//! static REQUEST: ContextVar<u32> = ContextVar::new("request", 0);
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let main = Context::new().scope(async {
//!     REQUEST.set(1).unwrap();
//!     // The child starts with a copy of main's context ...
//!     let child = contextvars::spawn(async {
//!         assert_eq!(REQUEST.get(), 1);
//!         REQUEST.set(2).unwrap(); // ... and its set stays in its own copy
//!         REQUEST.get()
//!     });
//!     assert_eq!(child.await.unwrap(), 2);
//!     REQUEST.get()
//! });
//! assert_eq!(tokio::spawn(main).await.unwrap(), 1);
//! # });
//! ```
//!
//! # Guarantees
//!
//! - **Which context is current.** The one entered by the innermost [`Context::run`]
//!   (directly, or through a [`Scoped`] future's poll) or [`SharedContext::run`] (or a
//!   [`SharedScoped`] poll) on this thread. It is a thread-local, swapped in for the closure
//!   or the poll and swapped out after, also when the closure or poll panics. A `Context` is
//!   `Send + Sync`, so a scoped task may move between the worker threads of a multi-thread
//!   runtime: its context goes with it.
//! - **With none entered, at a thread's top level, its base context is current**, as in
//!   CPython, where every thread has one. The top level is anywhere outside a tokio runtime
//!   (`tokio::runtime::Handle::try_current()` fails): `main` before or after its `block_on`,
//!   a `std::thread`, a test. [`ContextVar::set`] there sets the thread's base context,
//!   [`copy_context`] copies it, and no other thread sees it; it is dropped when the thread
//!   exits.
//! - **With none entered, inside a tokio runtime, no context is current**: in a plain
//!   `tokio::spawn` task, a `block_on` body, a `spawn_blocking` closure, [`ContextVar::get`]
//!   reads the default, [`ContextVar::set`] returns [`NoContext`] and [`copy_context`] gives
//!   an empty context, even if the thread's base context holds variables. A worker thread
//!   polls many plain tasks in turn: a thread-wide context there would carry one task's sets
//!   into every task polled after it, the leak asyncio's per-task contexts exist to prevent,
//!   and an error is better than that. Spawn with [`spawn`] (or spawn
//!   `copy_context().scope(fut)`) to get asyncio's behaviour. (One exception: a runtime
//!   driven by `block_on` *inside* a [`Context::run`] closure polls its tasks while that
//!   context is current; enter the context inside the task instead, with [`Context::scope`].)
//! - **Cost.** [`Context::current`] with none entered, on a thread whose base context holds
//!   nothing (every tokio worker thread, unless something was set there before it became
//!   one), is one thread-local read and a branch: it does not ask tokio where it is. Inside a
//!   context it is an `Arc` clone (none at all for a context where nothing was set); at a
//!   top level whose base holds something it also asks tokio for the current runtime. A
//!   [`ContextVar::set`] after a copy clones the copy's map once: O(variables set), where
//!   CPython's HAMT makes it O(log n). [`ContextVar::get`] is a short sorted-vector search
//!   and a clone of the value.
//! - **Entering a context twice** (Python's `RuntimeError: ... is already entered`) cannot
//!   be written with a [`Context`]: [`Context::run`] takes `&mut self`, so the borrow checker
//!   rejects it. A [`SharedContext`] entered again on the thread that has it entered panics
//!   with Python's message; entered from another thread meanwhile, it waits its turn.
//!
//! ```compile_fail,E0499
//! let mut ctx = contextvars::Context::new();
//! ctx.run(|| ctx.run(|| ())); // error[E0499]: `ctx` borrowed mutably twice
//! ```

mod context;
mod shared;

pub use context::{
    Context, ContextVar, NoContext, ResetError, Scoped, ScopedMut, Token, copy_context, spawn,
};
pub use shared::{SharedContext, SharedScoped};
