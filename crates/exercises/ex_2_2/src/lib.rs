//! `asyncio.Runner` on tokio: one runtime, and one context, for several async calls.
//!
//! `asyncio.run(coro)` makes an event loop, runs one coroutine and closes the loop. A
//! `Runner` keeps one loop for several `runner.run(coro)` calls, and runs each in the same
//! `contextvars.Context`, so a `ContextVar` set by one call is seen by the next.
//!
//! On tokio, reusing a `Runtime` for several `block_on` calls is the easy half. The context is
//! the other: a `tokio::task_local!` value lives only inside one `scope`, so nothing set in one
//! `block_on` survives to the next, and a spawned task inherits nothing. The exercise therefore
//! uses two crates of this workspace, re-exported here: [`Runner`] (the `runner` crate) owns a
//! [`Context`] and runs every call as a task inside it, and [`ContextVar`] (the `contextvars`
//! crate) reads and writes the current context, which every task started with
//! [`contextvars::spawn`] gets a copy of, as in asyncio.
//!
//! ```
//! use ex_2_2::{ContextVar, Runner};
//! static REQUEST: ContextVar<u32> = ContextVar::new("request", 0);
//!
//! let runner = Runner::new().unwrap();
//! runner.run(async { REQUEST.set(7).map(drop) }).unwrap().unwrap();
//! assert_eq!(runner.run(async { REQUEST.get() }).unwrap(), 7); // seen by the next call
//! ```

pub use contextvars::{Context, ContextVar, NoContext};
pub use runner::Runner;

#[cfg(test)]
mod tests {
    use super::*;

    static COUNTER: ContextVar<u32> = ContextVar::new("counter", 0);

    fn runner() -> Runner {
        Runner::builder()
            .runtime(
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn a_value_set_in_one_call_is_seen_in_the_next() {
        let runner = runner();
        runner
            .run(async { COUNTER.set(COUNTER.get() + 1).map(drop) })
            .unwrap()
            .unwrap();
        runner
            .run(async { COUNTER.set(COUNTER.get() + 1).map(drop) })
            .unwrap()
            .unwrap();
        assert_eq!(runner.run(async { COUNTER.get() }).unwrap(), 2);
    }

    #[test]
    fn each_runner_has_its_own_context() {
        let (a, b) = (runner(), runner());
        a.run(async { COUNTER.set(5).map(drop) }).unwrap().unwrap();
        assert_eq!(b.run(async { COUNTER.get() }).unwrap(), 0);
        assert_eq!(a.run(async { COUNTER.get() }).unwrap(), 5);
    }

    /// A thread's top level has a base context, as in Python; inside a runtime with no
    /// context entered, a set is refused (a thread-wide context would leak between tasks).
    #[test]
    fn outside_a_runner_sets_go_to_the_threads_base_context_and_inside_a_runtime_are_refused() {
        assert_eq!(COUNTER.get(), 0);
        let token = COUNTER.set(1).expect("the thread's base context");
        assert_eq!(COUNTER.get(), 1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        assert_eq!(rt.block_on(async { COUNTER.set(2).err() }), Some(NoContext));
        COUNTER.reset(&token).expect("reset at the top level");
        assert_eq!(COUNTER.get(), 0);
    }

    #[test]
    fn calls_in_place_share_the_context_but_are_not_tasks() {
        let runner = runner();
        runner
            .run_in_place(async { COUNTER.set(3).map(drop) })
            .unwrap()
            .unwrap();
        assert_eq!(runner.run(async { COUNTER.get() }).unwrap(), 3);
        assert_eq!(
            runner
                .run_in_place(async { tokio::task::try_id() })
                .unwrap(),
            None
        );
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

    #[test]
    fn a_spawned_task_gets_a_copy_of_the_calls_context() {
        let runner = runner();
        runner
            .run(async { COUNTER.set(1).map(drop) })
            .unwrap()
            .unwrap();
        let seen = runner
            .run(async {
                contextvars::spawn(async {
                    let seen = COUNTER.get();
                    COUNTER.set(2).map(|_| seen)
                })
                .await
            })
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(seen, 1);
        assert_eq!(runner.run(async { COUNTER.get() }).unwrap(), 1);
    }
}
