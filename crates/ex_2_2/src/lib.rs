//! `asyncio.Runner` on tokio: one runtime, and one context, for several async calls.
//!
//! `asyncio.run(coro)` makes an event loop, runs one coroutine and closes the loop. A
//! `Runner` keeps one loop for several `runner.run(coro)` calls, and runs each in the same
//! `contextvars.Context`, so a `ContextVar` set by one call is seen by the next.
//!
//! On tokio, reusing a `Runtime` for several `block_on` calls is the easy half. The context is
//! the other: a `tokio::task_local!` value lives only inside one `scope`, so nothing set in one
//! `block_on` survives to the next. [`Runner`] therefore owns a [`Context`] and runs every call
//! inside it, and [`ContextVar`] reads and writes that context.
//!
//! ```
//! use ex_2_2::{ContextVar, Runner};
//! static REQUEST: ContextVar<u32> = ContextVar::new("request", 0);
//!
//! let runner = Runner::new(tokio::runtime::Builder::new_current_thread().build().unwrap());
//! runner.run(async { REQUEST.set(7) }).unwrap().unwrap();
//! assert_eq!(runner.run(async { REQUEST.get() }).unwrap(), 7); // seen by the next call
//! ```
//!
//! One difference: asyncio copies the context into every task a call creates; tokio's task
//! locals are not inherited by spawned tasks, so inside a spawned task a `ContextVar` reads its
//! default and cannot be set.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::runtime::Runtime;

/// The values of every [`ContextVar`] set within one [`Runner`].
#[derive(Debug, Clone, Default)]
pub struct Context(Arc<Mutex<HashMap<&'static str, Box<dyn Any + Send>>>>);

tokio::task_local! {
    static CONTEXT: Context;
}

/// `with asyncio.Runner() as runner:` — a runtime reused for several calls, in one context.
#[derive(Debug)]
pub struct Runner {
    runtime: Runtime,
    context: Context,
}

impl Runner {
    /// A runner on `runtime`, with an empty context.
    pub fn new(runtime: Runtime) -> Self {
        Self {
            runtime,
            context: Context::default(),
        }
    }

    /// `runner.run(coro)`: runs `future` to completion as a task on the runner's runtime, in
    /// the runner's context. A panic in the task comes back as an error.
    pub fn run<F>(&self, future: F) -> anyhow::Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let scoped = CONTEXT.scope(self.context.clone(), future);
        self.runtime
            .block_on(async { tokio::spawn(scoped).await })
            .map_err(|e| anyhow::anyhow!("the task failed: {e}"))
    }

    /// Like [`run`](Runner::run), but polls `future` directly in `block_on` on this thread
    /// rather than as a task of the runtime (`--entry block_on`).
    pub fn run_in_place<F: Future>(&self, future: F) -> F::Output {
        self.runtime
            .block_on(CONTEXT.scope(self.context.clone(), future))
    }
}

/// Setting a [`ContextVar`] outside a [`Runner`]'s call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoContext;

impl fmt::Display for NoContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no context: set a ContextVar inside Runner::run")
    }
}

impl std::error::Error for NoContext {}

/// `contextvars.ContextVar(name, default=…)`: a value per [`Runner`] context.
#[derive(Debug)]
pub struct ContextVar<T: 'static> {
    name: &'static str,
    default: T,
}

impl<T: Clone + Send + 'static> ContextVar<T> {
    /// A variable called `name` reading `default` until set.
    pub const fn new(name: &'static str, default: T) -> Self {
        Self { name, default }
    }

    /// `var.get()`: the value in the current context, or the default.
    pub fn get(&self) -> T {
        CONTEXT
            .try_with(|ctx| {
                ctx.0
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(self.name)
                    .and_then(|v| v.downcast_ref::<T>())
                    .cloned()
            })
            .ok()
            .flatten()
            .unwrap_or_else(|| self.default.clone())
    }

    /// `var.set(value)` in the current context.
    pub fn set(&self, value: T) -> Result<(), NoContext> {
        CONTEXT
            .try_with(|ctx| {
                ctx.0
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(self.name, Box::new(value));
            })
            .map_err(|_| NoContext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static COUNTER: ContextVar<u32> = ContextVar::new("counter", 0);

    fn runner() -> Runner {
        Runner::new(
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        )
    }

    #[test]
    fn a_value_set_in_one_call_is_seen_in_the_next() {
        let runner = runner();
        runner
            .run(async { COUNTER.set(COUNTER.get() + 1) })
            .unwrap()
            .unwrap();
        runner
            .run(async { COUNTER.set(COUNTER.get() + 1) })
            .unwrap()
            .unwrap();
        assert_eq!(runner.run(async { COUNTER.get() }).unwrap(), 2);
    }

    #[test]
    fn each_runner_has_its_own_context() {
        let (a, b) = (runner(), runner());
        a.run(async { COUNTER.set(5) }).unwrap().unwrap();
        assert_eq!(b.run(async { COUNTER.get() }).unwrap(), 0);
        assert_eq!(a.run(async { COUNTER.get() }).unwrap(), 5);
    }

    #[test]
    fn outside_a_runner_the_default_is_read_and_set_is_refused() {
        assert_eq!(COUNTER.get(), 0);
        assert_eq!(COUNTER.set(1), Err(NoContext));
    }

    #[test]
    fn calls_in_place_share_the_context_but_are_not_tasks() {
        let runner = runner();
        runner.run_in_place(async { COUNTER.set(3) }).unwrap();
        assert_eq!(runner.run(async { COUNTER.get() }).unwrap(), 3);
        assert_eq!(runner.run_in_place(async { tokio::task::try_id() }), None);
    }

    #[test]
    fn every_call_is_a_task_of_the_same_runtime() {
        let runner = runner();
        assert!(
            runner
                .run(async { tokio::task::try_id() })
                .unwrap()
                .is_some()
        );
        let panicked = runner.run(async { panic!("in a call") });
        assert!(panicked.unwrap_err().to_string().contains("panicked"));
        // The runtime survives a failed call.
        assert_eq!(runner.run(async { 1 + 1 }).unwrap(), 2);
    }
}
