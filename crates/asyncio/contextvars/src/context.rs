//! The thread's current context, and the types that read and write it: [`Context`] and
//! [`ContextVar`], entering a context for a closure or a future's poll, and the bookkeeping
//! that lets a [`SharedContext`](crate::SharedContext) entered on this thread be read where its
//! values are while a nested context is entered over it.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::thread::ThreadId;

use pin_project_lite::pin_project;

/// A value stored in a context: shared between copies, never mutated in place.
type Value = Arc<dyn Any + Send + Sync>;

/// A context's variables, sorted by variable key.
type Vars = Vec<(usize, Value)>;

/// Python's `contextvars.Context`: the values of [`ContextVar`]s for one task (or one
/// [`Context::run`] call).
///
/// `Clone` is an O(1) copy (`ctx.copy()`, `copy_context()`): later sets in either do not show
/// in the other, and the copy is a different context for [`ContextVar::reset`].
#[derive(Default)]
pub struct Context {
    /// `None` while nothing was ever set: a new context costs no allocation.
    vars: Option<Arc<Vars>>,
    /// This context's identity for tokens, assigned on the first [`ContextVar::set`]
    /// (0: not assigned yet), so that copying costs no atomic counter.
    id: u64,
}

static NEXT_CONTEXT_ID: AtomicU64 = AtomicU64::new(1);
static NEXT_VAR_KEY: AtomicUsize = AtomicUsize::new(1);

/// [`STATE`] bit: some context is entered on this thread ([`Context::run`], a [`Scoped`] poll,
/// [`SharedContext::run`](crate::SharedContext::run)).
const ENTERED: u8 = 1;
/// [`STATE`] bit: this thread's base context holds at least one variable.
const BASE_HOLDS: u8 = 2;
/// [`STATE`] bit: the innermost context entered on this thread is a [`SharedContext`](crate::SharedContext)'s (its
/// module's thread-local says which).
pub(crate) const SHARED_INNERMOST: u8 = 4;

thread_local! {
    /// [`ENTERED`], [`BASE_HOLDS`] and [`SHARED_INNERMOST`]: a plain `Cell<u8>` with no
    /// destructor, so that reading it is one thread-local load. 0 (nothing entered, an empty
    /// base) is the hot path of [`Context::current`] and [`ContextVar::get`]: nothing to read,
    /// and no need to ask tokio whether a runtime is entered.
    pub(crate) static STATE: Cell<u8> = const { Cell::new(0) };
    /// The current context while [`ENTERED`]; otherwise this thread's base context, which is
    /// current only at the thread's top level (see [`at_top_level`]).
    pub(crate) static CURRENT: RefCell<Context> = const { RefCell::new(Context::EMPTY) };
}

/// Whether this thread is at its top level, where its base context is current (called with
/// no context entered): outside every tokio runtime. Inside one (a task, a `block_on` body,
/// a `spawn_blocking` closure) a thread-wide context would carry one plain task's sets into
/// the next task the thread polls, so there is none.
#[cold]
fn at_top_level() -> bool {
    tokio::runtime::Handle::try_current().is_err()
}

/// Whether [`CURRENT`] holds a context that reads should see, in state `state`.
#[inline]
fn readable(state: u8) -> bool {
    state & ENTERED != 0 || (state & BASE_HOLDS != 0 && at_top_level())
}

/// Whether [`CURRENT`] holds the context that sets go to, in state `state`.
#[inline]
fn writable(state: u8) -> bool {
    state & ENTERED != 0 || at_top_level()
}

impl Clone for Context {
    fn clone(&self) -> Self {
        Self {
            vars: self.vars.clone(),
            id: 0, // a copy is a new context
        }
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").field("len", &self.len()).finish()
    }
}

impl Context {
    const EMPTY: Self = Self { vars: None, id: 0 };

    /// `contextvars.Context()`: an empty context.
    pub fn new() -> Self {
        Self::EMPTY
    }

    /// `contextvars.copy_context()` where there is something to copy: an O(1) copy of the
    /// context entered on this thread; with none entered, at the thread's top level, a copy
    /// of its base context if that holds a variable; `None` otherwise (inside a tokio runtime
    /// with no context entered, or an empty base). [`copy_context`] always gives a `Context`.
    ///
    /// With nothing entered and this thread's base context empty (a spawn in plain tokio code),
    /// this costs one thread-local read and a branch.
    #[inline]
    pub fn current() -> Option<Context> {
        let state = STATE.get();
        if state == 0 {
            return None;
        }
        // Laid out for the caller outside every context: a copy inside one costs an atomic
        // increment anyway.
        std::hint::cold_path();
        if !readable(state) {
            return None;
        }
        CURRENT.try_with(|current| current.borrow().clone()).ok()
    }

    /// `Context.run(f)`: runs `f` with `self` as the current context.
    ///
    /// [`ContextVar::set`] inside `f` changes `self`. The previously current context (or
    /// none) is current again when `run` returns, and also when `f` panics; the sets `f` made
    /// before panicking stay in `self`.
    pub fn run<R>(&mut self, f: impl FnOnce() -> R) -> R {
        enter(self, None, f)
    }

    /// A future that polls `future` inside `self.run` on every poll: spawned, it is a task
    /// running in `self` (`asyncio.create_task(coro, context=ctx)`).
    pub fn scope<F: Future>(self, future: F) -> Scoped<F> {
        Scoped {
            context: self,
            future,
        }
    }

    /// Like [`scope`](Context::scope), borrowing the context: when the future is done (or
    /// dropped), `self` holds what it set.
    pub fn scope_mut<F: Future>(&mut self, future: F) -> ScopedMut<'_, F> {
        ScopedMut {
            context: self,
            future,
        }
    }

    /// `ctx.get(var)`: the value `var` has in this context, `None` if it is not set here.
    pub fn get<T: Clone + Send + Sync + 'static>(&self, var: &ContextVar<T>) -> Option<T> {
        self.value(var.key())?.downcast_ref::<T>().cloned()
    }

    /// `var in ctx`: whether `var` is set in this context.
    pub fn contains<T>(&self, var: &ContextVar<T>) -> bool {
        self.value(var.key()).is_some()
    }

    /// `len(ctx)`: how many variables are set in this context.
    pub fn len(&self) -> usize {
        self.vars.as_ref().map_or(0, |vars| vars.len())
    }

    /// Whether no variable is set in this context.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn value(&self, key: usize) -> Option<&Value> {
        let vars = self.vars.as_ref()?;
        let at = vars.binary_search_by_key(&key, |(k, _)| *k).ok()?;
        Some(&vars[at].1)
    }

    fn identity(&mut self) -> u64 {
        if self.id == 0 {
            self.id = NEXT_CONTEXT_ID.fetch_add(1, Ordering::Relaxed);
        }
        self.id
    }

    /// Sets `key` to `value` (removes it with `None`), copying the map first if another
    /// context shares it. Returns the old value, to be dropped by the caller outside any borrow.
    fn put(&mut self, key: usize, value: Option<Value>) -> Option<Value> {
        let vars = Arc::make_mut(self.vars.get_or_insert_with(Default::default));
        match (vars.binary_search_by_key(&key, |(k, _)| *k), value) {
            (Ok(at), Some(value)) => Some(std::mem::replace(&mut vars[at].1, value)),
            (Ok(at), None) => Some(vars.remove(at).1),
            (Err(at), Some(value)) => {
                vars.insert(at, (key, value));
                None
            }
            (Err(_), None) => None,
        }
    }
}

pin_project! {
    /// A future running in its own [`Context`]: see [`Context::scope`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Scoped<F> {
        context: Context,
        #[pin]
        future: F,
    }
}

impl<F> Scoped<F> {
    /// The context the future runs in, as its last poll left it.
    pub fn context(&self) -> &Context {
        &self.context
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let future = this.future;
        this.context.run(|| future.poll(cx))
    }
}

pin_project! {
    /// A future running in a borrowed [`Context`]: see [`Context::scope_mut`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct ScopedMut<'a, F> {
        context: &'a mut Context,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for ScopedMut<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let future = this.future;
        this.context.run(|| future.poll(cx))
    }
}

/// Runs `f` with `slot`'s context current (moved into [`CURRENT`], and back into `slot` when
/// `f` returns or unwinds); `shared` is the [`SharedContext`](crate::SharedContext) it belongs to, if any.
pub(crate) fn enter<R>(
    slot: &mut Context,
    shared: Option<&Arc<Shared>>,
    f: impl FnOnce() -> R,
) -> R {
    /// Puts `slot`'s context back and restores the previous one, on return or unwind.
    struct Exit<'a> {
        slot: &'a mut Context,
        previous: Context,
        /// [`STATE`] before: the base cannot change while a context is entered.
        state: u8,
        /// The innermost shared context before, if this is a shared one.
        previous_shared: Option<Option<Arc<Shared>>>,
    }
    impl Drop for Exit<'_> {
        fn drop(&mut self) {
            let previous = std::mem::take(&mut self.previous);
            *self.slot = CURRENT.with(|current| current.replace(previous));
            if let Some(previous_shared) = self.previous_shared.take() {
                set_innermost(previous_shared);
            }
            STATE.set(self.state);
            if self.state & SHARED_INNERMOST != 0 {
                resumed();
            }
        }
    }

    let state = STATE.get();
    if state & SHARED_INNERMOST != 0 {
        suspended(); // while CURRENT still holds what it is leaving
    }
    let mine = std::mem::take(slot);
    let previous = CURRENT.with(|current| current.replace(mine));
    let (previous_shared, entered) = match shared {
        None => (None, ENTERED),
        Some(shared) => (
            Some(set_innermost(Some(Arc::clone(shared)))),
            ENTERED | SHARED_INNERMOST,
        ),
    };
    STATE.set((state & !SHARED_INNERMOST) | entered);
    let _exit = Exit {
        slot,
        previous,
        state,
        previous_shared,
    };
    f()
}

/// `contextvars.copy_context()`: a copy of the current context: the one entered on this
/// thread; with none entered, at the thread's top level, its base context; inside a tokio
/// runtime with none entered, an empty context.
///
/// ```
/// use contextvars::{ContextVar, copy_context};
/// static USER: ContextVar<&str> = ContextVar::new("user", "nobody");
///
/// USER.set("ada").unwrap(); // at the top level of a thread: its base context
/// let mut ctx = copy_context();
/// ctx.run(|| USER.set("grace").unwrap()); // the copy's set stays in the copy
/// assert_eq!((USER.get(), ctx.get(&USER)), ("ada", Some("grace")));
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// // Inside a runtime with no context entered: no base context, an empty copy.
/// assert!(runtime.block_on(async { copy_context() }).is_empty());
/// ```
pub fn copy_context() -> Context {
    Context::current().unwrap_or_default()
}

/// `asyncio.create_task(coro)`: `tokio::spawn(future)` in a copy of the current context, or
/// with no context if there is none.
///
/// ```
/// use contextvars::{Context, ContextVar};
/// static NAME: ContextVar<&str> = ContextVar::new("name", "none");
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let parent = Context::new().scope(async {
///     NAME.set("parent").unwrap();
///     let child = contextvars::spawn(async { NAME.get() });
///     let plain = tokio::spawn(async { NAME.get() }); // no context at all
///     (child.await.unwrap(), plain.await.unwrap())
/// });
/// assert_eq!(parent.await, ("parent", "none"));
/// # });
/// ```
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match Context::current() {
        Some(context) => tokio::spawn(context.scope(future)),
        None => tokio::spawn(future),
    }
}

/// Setting a [`ContextVar`] inside a tokio runtime where no [`Context`] is entered (see the
/// crate docs for why the thread's base context is not current there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoContext;

impl fmt::Display for NoContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no current context: inside a tokio runtime, set a ContextVar inside Context::run, \
             a Context::scope future or a task started with contextvars::spawn",
        )
    }
}

impl std::error::Error for NoContext {}

/// Why [`ContextVar::reset`] refused a [`Token`]: Python's `RuntimeError`/`ValueError`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetError {
    /// The token was already used for a reset (`RuntimeError: ... has already been used once`).
    Used,
    /// The token came from another variable's `set` (`ValueError: ... was created by a
    /// different ContextVar`).
    DifferentVar,
    /// The token was made in another context than the current one, or there is none
    /// (`ValueError: ... was created in a different Context`).
    DifferentContext,
}

impl fmt::Display for ResetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResetError::Used => "the token has already been used once",
            ResetError::DifferentVar => "the token was created by a different ContextVar",
            ResetError::DifferentContext => "the token was created in a different Context",
        })
    }
}

impl std::error::Error for ResetError {}

/// Python's `contextvars.ContextVar`: a variable whose value depends on the current
/// [`Context`]. Declare it as a `static`.
///
/// ```
/// use contextvars::{Context, ContextVar};
/// static DEPTH: ContextVar<u32> = ContextVar::new("depth", 0);
///
/// assert_eq!(DEPTH.get(), 0); // not set in this thread's base context: the default
/// let mut ctx = Context::new();
/// ctx.run(|| {
///     let token = DEPTH.set(1).unwrap();
///     assert_eq!(DEPTH.get(), 1);
///     DEPTH.reset(&token).unwrap(); // back to unset
///     assert_eq!(DEPTH.try_get(), None);
///     DEPTH.set(2).unwrap();
/// });
/// assert_eq!(ctx.get(&DEPTH), Some(2));
/// ```
pub struct ContextVar<T> {
    name: &'static str,
    default: T,
    /// Assigned on first use (0: not yet); the key of this variable in every context.
    key: AtomicUsize,
}

impl<T: fmt::Debug> fmt::Debug for ContextVar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<ContextVar name={:?} default={:?}>",
            self.name, self.default
        )
    }
}

impl<T> ContextVar<T> {
    /// `contextvars.ContextVar(name, default=default)`.
    pub const fn new(name: &'static str, default: T) -> Self {
        Self {
            name,
            default,
            key: AtomicUsize::new(0),
        }
    }

    /// `var.name`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The value read where the variable is not set.
    pub fn default_value(&self) -> &T {
        &self.default
    }

    fn key(&self) -> usize {
        match self.key.load(Ordering::Relaxed) {
            0 => {
                let fresh = NEXT_VAR_KEY.fetch_add(1, Ordering::Relaxed);
                match self
                    .key
                    .compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed)
                {
                    Ok(_) => fresh,
                    Err(assigned) => assigned,
                }
            }
            key => key,
        }
    }
}

impl<T: Clone + Send + Sync + 'static> ContextVar<T> {
    /// `var.get()`: the value in the current context (at a thread's top level, its base
    /// context), or the default if it is not set there or no context is current.
    pub fn get(&self) -> T {
        self.try_get().unwrap_or_else(|| self.default.clone())
    }

    /// The value set in the current context, `None` if it is not set there or no context is
    /// current (Python's `var.get(None)` for a variable without a default).
    pub fn try_get(&self) -> Option<T> {
        let state = STATE.get();
        if state == 0 || !readable(state) {
            return None;
        }
        let key = self.key();
        // Clone the shared value out first: T::clone runs with no borrow held.
        let value = CURRENT
            .try_with(|current| current.borrow().value(key).cloned())
            .ok()??;
        value.downcast_ref::<T>().cloned()
    }

    /// `var.set(value)`: sets the value in the current context only (at a thread's top
    /// level, its base context), and returns a [`Token`] to [`reset`](ContextVar::reset) it;
    /// [`NoContext`] inside a tokio runtime with no context entered.
    pub fn set(&self, value: T) -> Result<Token<'_, T>, NoContext> {
        let state = STATE.get();
        if !writable(state) {
            return Err(NoContext);
        }
        let key = self.key();
        let value: Value = Arc::new(value);
        let (context, old) = CURRENT
            .try_with(|current| {
                let mut current = current.borrow_mut();
                (current.identity(), current.put(key, Some(value)))
            })
            .map_err(|_| NoContext)?; // the thread is exiting: its base context is gone
        if state & ENTERED == 0 {
            STATE.set(state | BASE_HOLDS);
        }
        Ok(Token {
            var: self,
            context,
            old,
            used: AtomicBool::new(false),
        })
    }

    /// `var.reset(token)`: gives the variable the value it had before the `set` that made
    /// `token` (unset if it had none), in the current context.
    ///
    /// Errors, checked in Python's order: the token was used already; it belongs to another
    /// variable; it was made in another context (or none is current). On error nothing
    /// changes and the token stays usable.
    pub fn reset(&self, token: &Token<'_, T>) -> Result<(), ResetError> {
        if token.used.load(Ordering::Acquire) {
            return Err(ResetError::Used);
        }
        if !std::ptr::eq(token.var, self) {
            return Err(ResetError::DifferentVar);
        }
        let state = STATE.get();
        if !writable(state) {
            return Err(ResetError::DifferentContext);
        }
        let (removed, now_empty) = CURRENT
            .try_with(|current| {
                let mut current = current.borrow_mut();
                if current.id != token.context {
                    return Err(ResetError::DifferentContext);
                }
                if token.used.swap(true, Ordering::AcqRel) {
                    return Err(ResetError::Used);
                }
                let removed = current.put(self.key(), token.old.clone());
                Ok((removed, current.is_empty()))
            })
            .map_err(|_| ResetError::DifferentContext)??;
        if state & ENTERED == 0 && now_empty {
            STATE.set(state & !BASE_HOLDS); // back to the hot path
        }
        drop(removed); // outside the borrow: T's Drop may read context variables
        Ok(())
    }
}

/// What [`ContextVar::set`] returns: Python's `contextvars.Token`, for one
/// [`reset`](ContextVar::reset) in the context it was made in.
///
/// It borrows its variable, as Python's `token.var` refers to it: its `Debug` shows the
/// variable's (`<Token var=<ContextVar name="a" default=0> old_value=MISSING>`).
pub struct Token<'var, T> {
    var: &'var ContextVar<T>,
    context: u64,
    old: Option<Value>,
    used: AtomicBool,
}

impl<'var, T: 'static> Token<'var, T> {
    /// `token.var`: the variable whose `set` made this token.
    pub fn var(&self) -> &'var ContextVar<T> {
        self.var
    }

    /// `token.old_value`: the variable's value before the `set`, `None` where Python gives
    /// `Token.MISSING` (it was not set).
    pub fn old_value(&self) -> Option<&T> {
        self.old.as_ref()?.downcast_ref::<T>()
    }

    /// The name of `token.var`.
    pub fn var_name(&self) -> &'static str {
        self.var.name
    }

    /// Whether the token was used by a [`reset`](ContextVar::reset).
    pub fn used(&self) -> bool {
        self.used.load(Ordering::Acquire)
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Token<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let used = if self.used() { " used" } else { "" };
        write!(f, "<Token{used} var={:?}", self.var)?;
        match self.old_value() {
            Some(old) => write!(f, " old_value={old:?}>"),
            None => f.write_str(" old_value=MISSING>"),
        }
    }
}

/// The object every clone of a [`SharedContext`](crate::SharedContext) refers to.
pub(crate) struct Shared {
    pub(crate) slot: Mutex<Slot>,
    /// Notified when the context is put back into the slot.
    pub(crate) returned: Condvar,
}

pub(crate) struct Slot {
    /// The context, while no thread has it entered. While one has: empty, or what it held
    /// when a nested context was entered over it on that thread (read only by that thread).
    pub(crate) context: Context,
    /// The thread that has the context entered.
    pub(crate) owner: Option<ThreadId>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Slot> {
        // Nothing panics while the lock is held: a poisoned slot is still consistent.
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn wait<'a>(&self, slot: MutexGuard<'a, Slot>) -> MutexGuard<'a, Slot> {
        self.returned
            .wait(slot)
            .unwrap_or_else(PoisonError::into_inner)
    }
}

thread_local! {
    /// While [`STATE`] has [`SHARED_INNERMOST`]: the shared context entered innermost on this
    /// thread (stale otherwise).
    pub(crate) static INNERMOST: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

/// Makes `shared` the innermost shared context of this thread; returns the one before.
pub(crate) fn set_innermost(shared: Option<Arc<Shared>>) -> Option<Arc<Shared>> {
    INNERMOST.with(|innermost| innermost.replace(shared))
}

/// The innermost shared context is being left for a nested context: a copy of what it holds
/// goes into its slot, where this thread's reads of it find it.
#[cold]
pub(crate) fn suspended() {
    let Some(shared) = INNERMOST.with(|innermost| innermost.borrow().clone()) else {
        return;
    };
    let live = CURRENT.with(|current| current.borrow().clone());
    let stale = std::mem::replace(&mut shared.lock().context, live);
    drop(stale); // outside the lock
}

/// The nested context is left and the shared context is innermost again: the copy in its slot
/// goes, so that its next set does not copy the map.
#[cold]
pub(crate) fn resumed() {
    let Some(shared) = INNERMOST.with(|innermost| innermost.borrow().clone()) else {
        return;
    };
    let copy = std::mem::take(&mut shared.lock().context);
    drop(copy); // outside the lock
}
