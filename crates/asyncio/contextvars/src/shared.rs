//! [`SharedContext`]: one context object held by several owners, as Python code holds a
//! `Context` by reference.
//!
//! The context lives in a mutex-guarded slot. Entering it moves it out of the slot into the
//! thread's current context for the length of the run (so sets cost what they cost in any
//! context) and marks the slot with the entering thread; leaving puts it back, also on unwind,
//! and wakes the threads waiting for it. While it is entered, a read from its own thread goes
//! where the context is: the thread's current context if it is the innermost one entered,
//! else the copy [`suspended`] left in the slot when a nested context was entered over it.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::Poll;
use std::thread;

use pin_project_lite::pin_project;

use crate::context::{
    CURRENT, Context, ContextVar, INNERMOST, SHARED_INNERMOST, STATE, Shared, Slot, enter,
};

/// A [`Context`] shared by reference: every clone is the same context object, as a Python
/// variable holding a `contextvars.Context` is. For `asyncio.create_task(coro, context=ctx)`:
/// a task polling [`ctx.clone().scope(fut)`](SharedContext::scope) runs in `ctx`, and once it
/// has set a variable, `ctx.get(var)` in its creator sees the value.
///
/// A [`Context`] is a value: cloning it is `ctx.copy()`. Turn one into a `SharedContext` to
/// share it, and take a copy back out with [`snapshot`](SharedContext::snapshot).
///
/// ```
/// use contextvars::{ContextVar, SharedContext, copy_context};
/// static CVAR: ContextVar<i32> = ContextVar::new("cvar", 0);
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let ctx = SharedContext::new(copy_context());
/// let task = tokio::spawn(ctx.clone().scope(async {
///     tokio::task::yield_now().await;
///     CVAR.set(1).unwrap();
/// }));
/// task.await.unwrap();
/// assert_eq!(ctx.get(&CVAR), Some(1)); // the task's set, seen through the creator's `ctx`
///
/// ctx.run(|| CVAR.set(2).unwrap());
/// assert_eq!(ctx.snapshot().get(&CVAR), Some(2));
/// # });
/// ```
///
/// # Guarantees
///
/// - **One thread at a time.** A `SharedContext` is entered by [`run`](SharedContext::run)
///   and by each poll of a [`SharedScoped`] future. Entering it while another thread has it
///   entered **waits** until that thread leaves it: a run should be short, as a task's step
///   is. Never block inside a run on a thread that is entering or reading the same shared
///   context: that thread waits for you, and both wait for ever.
/// - **Entering it again on the thread that has it entered panics** with Python's message,
///   `cannot enter context: … is already entered` (its `RuntimeError`), instead of
///   deadlocking: a run inside a run of the same context, or a `SharedScoped` future polled
///   inside one.
/// - **Sets stay.** Sets made in a run are in the shared context when the run returns, and
///   also when it panics (the context is put back on unwind).
/// - **Reads.** [`get`](SharedContext::get) and [`snapshot`](SharedContext::snapshot) see
///   what the context holds now: from inside a run of it on this thread, its live values
///   (also from a nested context); while another thread has it entered, they wait as
///   entering does.
/// - **Tokens.** A token from a set in one run resets in a later run: it is the same context.
#[derive(Clone)]
pub struct SharedContext {
    shared: Arc<Shared>,
}

impl Default for SharedContext {
    fn default() -> Self {
        Self::new(Context::new())
    }
}

impl From<Context> for SharedContext {
    fn from(context: Context) -> Self {
        Self::new(context)
    }
}

impl fmt::Debug for SharedContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedContext")
            .field("at", &Arc::as_ptr(&self.shared))
            .finish()
    }
}

impl SharedContext {
    /// Shares `context`: from now on, every clone of the result is that one context.
    pub fn new(context: Context) -> Self {
        Self {
            shared: Arc::new(Shared {
                slot: Mutex::new(Slot {
                    context,
                    owner: None,
                }),
                returned: Condvar::new(),
            }),
        }
    }

    /// `ctx.get(var)`: the value `var` has in the shared context now, `None` if it is not set
    /// there.
    pub fn get<T: Clone + Send + Sync + 'static>(&self, var: &ContextVar<T>) -> Option<T> {
        self.snapshot().get(var)
    }

    /// `ctx.copy()`: an O(1) copy of what the shared context holds now, a context of its own.
    pub fn snapshot(&self) -> Context {
        let me = thread::current().id();
        let mut slot = self.shared.lock();
        loop {
            match slot.owner {
                None => return slot.context.clone(),
                Some(owner) if owner == me => {
                    if !self.is_innermost() {
                        return slot.context.clone(); // what it held when left for a nested one
                    }
                    drop(slot);
                    return CURRENT.with(|current| current.borrow().clone());
                }
                Some(_) => slot = self.shared.wait(slot),
            }
        }
    }

    /// `ctx.run(f)`: runs `f` with the shared context current; the sets `f` makes land in
    /// it, for every clone to see.
    ///
    /// Waits while another thread has it entered; panics if this thread has (see the
    /// type's guarantees).
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut held = self.acquire();
        enter(&mut held.context, Some(&self.shared), f)
    }

    /// A future that polls `future` inside [`run`](SharedContext::run) on every poll:
    /// spawned, it is `asyncio.create_task(coro, context=ctx)`, a task running in this very
    /// context.
    pub fn scope<F: Future>(self, future: F) -> SharedScoped<F> {
        SharedScoped {
            context: self,
            future,
        }
    }

    /// Whether this is the innermost context entered on this thread.
    fn is_innermost(&self) -> bool {
        STATE.get() & SHARED_INNERMOST != 0
            && INNERMOST.with(|innermost| {
                innermost
                    .borrow()
                    .as_ref()
                    .is_some_and(|shared| Arc::ptr_eq(shared, &self.shared))
            })
    }

    /// Takes the context out of the slot for this thread, once no other thread has it.
    fn acquire(&self) -> Held<'_> {
        let me = thread::current().id();
        let mut slot = self.shared.lock();
        while let Some(owner) = slot.owner {
            if owner == me {
                drop(slot);
                panic!("cannot enter context: {self:?} is already entered");
            }
            slot = self.shared.wait(slot);
        }
        slot.owner = Some(me);
        let context = std::mem::take(&mut slot.context);
        Held {
            shared: &self.shared,
            context,
        }
    }
}

/// The shared context, out of its slot for one run; put back on drop, also on unwind.
struct Held<'a> {
    shared: &'a Shared,
    context: Context,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let context = std::mem::take(&mut self.context);
        let copy = {
            let mut slot = self.shared.lock();
            slot.owner = None;
            std::mem::replace(&mut slot.context, context)
        };
        self.shared.returned.notify_all();
        drop(copy); // outside the lock
    }
}

pin_project! {
    /// A future running in a [`SharedContext`]: see [`SharedContext::scope`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct SharedScoped<F> {
        context: SharedContext,
        #[pin]
        future: F,
    }
}

impl<F> SharedScoped<F> {
    /// The shared context the future runs in.
    pub fn context(&self) -> &SharedContext {
        &self.context
    }
}

impl<F: Future> Future for SharedScoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let future = this.future;
        this.context.run(|| future.poll(cx))
    }
}
