//! The eager step's reused heap place (`place.rs`), through the public API only: futures of
//! every size and alignment, zero-sized ones, futures that finish in their step and futures
//! that suspend and go on in their place as tokio tasks, and futures that panic in their poll,
//! in their drop, or both. Each test checks that every value arrives intact and that every
//! future is dropped exactly once.
//!
//! Nothing in this project runs these tests under Miri: it cannot be installed on the machines
//! the project is built on. What they check is what a normal `cargo test` sees (values intact,
//! one drop each); the `cfg(miri)` sizes below only keep a Miri run short for whoever can run
//! one (`cargo +nightly miri test -p taskgroup --test eager_place`).

use std::marker::PhantomPinned;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use taskgroup::{Completed, GroupError, Refused, Scope, Start, TaskGroup, scope};
use tokio::runtime::{Builder, Runtime};

/// Spawns per test; a handful under Miri, which interprets every step (not run here: see above).
const SPAWNS: usize = if cfg!(miri) { 21 } else { 630 };
/// A large future's state: far larger than the group's first place (64 bytes), and smaller
/// under Miri, where every byte written and checked is interpreted.
const LARGE: usize = if cfg!(miri) { 256 } else { 4096 };

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().expect("a runtime")
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(3)
        .build()
        .expect("a runtime")
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

fn count(drops: &AtomicUsize) -> usize {
    drops.load(Ordering::SeqCst)
}

fn messages(e: &GroupError) -> Vec<String> {
    e.failures.iter().map(ToString::to_string).collect()
}

/// Counts its drops.
struct Drops(Arc<AtomicUsize>);

impl Drop for Drops {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future's state of some size and alignment, filled from a seed and checked against it.
trait Payload: Send + 'static {
    fn fill(seed: u64) -> Self;
    fn intact(&self, seed: u64) -> bool;
}

fn byte(seed: u64, i: usize) -> u8 {
    (seed as usize).wrapping_mul(31).wrapping_add(i) as u8
}

/// One byte.
impl Payload for u8 {
    fn fill(seed: u64) -> Self {
        byte(seed, 0)
    }
    fn intact(&self, seed: u64) -> bool {
        *self == byte(seed, 0)
    }
}

/// Any size: `[u8; LARGE]` is far larger than the group's first place.
impl<const N: usize> Payload for [u8; N] {
    fn fill(seed: u64) -> Self {
        std::array::from_fn(|i| byte(seed, i))
    }
    fn intact(&self, seed: u64) -> bool {
        self.iter().enumerate().all(|(i, b)| *b == byte(seed, i))
    }
}

/// Aligned far beyond the group's place (16).
#[repr(align(256))]
struct Aligned256([u8; 40]);

impl Payload for Aligned256 {
    fn fill(seed: u64) -> Self {
        Self(<[u8; 40]>::fill(seed))
    }
    fn intact(&self, seed: u64) -> bool {
        self.0.intact(seed)
    }
}

/// Large and over-aligned at once (at least 4 KiB: its size is a multiple of its alignment).
#[repr(align(4096))]
struct Aligned4096([u8; LARGE + 904]);

impl Payload for Aligned4096 {
    fn fill(seed: u64) -> Self {
        Self(<[u8; LARGE + 904]>::fill(seed))
    }
    fn intact(&self, seed: u64) -> bool {
        self.0.intact(seed)
    }
}

/// What a probe saw of itself, returned as its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Report {
    seed: u64,
    /// Its state read back as written.
    intact: bool,
    /// Polled at an address aligned for it every time.
    aligned: bool,
    /// Polled at the same address every time: a pinned future never moves.
    stayed: bool,
    polls: u32,
}

impl Report {
    fn expected(seed: u64, polls: u32) -> Self {
        Self {
            seed,
            intact: true,
            aligned: true,
            stayed: true,
            polls,
        }
    }
}

/// What a probe does beyond reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// Panics in its last poll.
    PanicInPoll,
    /// Panics when dropped.
    PanicInDrop,
    /// Panics in its last poll, and again when dropped.
    PanicInPollAndDrop,
}

pin_project_lite::pin_project! {
    /// A future with a payload `P`: suspends `yields` times (waking itself), then returns what
    /// it saw of itself. `!Unpin`, so that its address staying put is the pinning promise.
    struct Probe<P> {
        payload: P,
        seed: u64,
        yields: u32,
        polls: u32,
        first_at: usize,
        aligned: bool,
        stayed: bool,
        fault: Fault,
        drops: Arc<AtomicUsize>,
        #[pin]
        _pinned: PhantomPinned,
    }

    impl<P> PinnedDrop for Probe<P> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.drops.fetch_add(1, Ordering::SeqCst);
            if matches!(*this.fault, Fault::PanicInDrop | Fault::PanicInPollAndDrop) {
                panic!("drop of probe {}", this.seed);
            }
        }
    }
}

fn probe<P: Payload>(seed: u64, yields: u32, drops: &Arc<AtomicUsize>) -> Probe<P> {
    faulty(seed, yields, Fault::None, drops)
}

fn faulty<P: Payload>(seed: u64, yields: u32, fault: Fault, drops: &Arc<AtomicUsize>) -> Probe<P> {
    Probe {
        payload: P::fill(seed),
        seed,
        yields,
        polls: 0,
        first_at: 0,
        aligned: true,
        stayed: true,
        fault,
        drops: Arc::clone(drops),
        _pinned: PhantomPinned,
    }
}

impl<P: Payload> Future for Probe<P> {
    type Output = Report;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Report> {
        let at = &*self as *const Self as usize;
        let this = self.project();
        *this.polls += 1;
        *this.aligned &= at.is_multiple_of(align_of::<Self>());
        if *this.first_at == 0 {
            *this.first_at = at;
        }
        *this.stayed &= *this.first_at == at;
        if *this.yields > 0 {
            *this.yields -= 1;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if matches!(*this.fault, Fault::PanicInPoll | Fault::PanicInPollAndDrop) {
            panic!("poll of probe {}", this.seed);
        }
        Poll::Ready(Report {
            seed: *this.seed,
            intact: this.payload.intact(*this.seed),
            aligned: *this.aligned,
            stayed: *this.stayed,
            polls: *this.polls,
        })
    }
}

/// Suspends once, as a tokio task's step does.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

/// An `async` block whose state holds a large buffer and a reference into it across its
/// suspensions: if its memory moved or were reused while it is suspended, the reference
/// would read freed or foreign memory, and the values checked would differ unless that memory
/// happened to hold the same bytes (only a memory checker would tell then).
fn borrowing(
    seed: u64,
    yields: u32,
    drops: &Arc<AtomicUsize>,
) -> impl Future<Output = Report> + Send + 'static {
    let guard = Drops(Arc::clone(drops));
    async move {
        let _guard = guard;
        let buffer = <[u8; LARGE]>::fill(seed);
        let view = &buffer;
        let first = view.as_ptr() as usize;
        for _ in 0..yields {
            yield_once().await;
        }
        Report {
            seed,
            intact: view.intact(seed),
            aligned: true,
            stayed: view.as_ptr() as usize == first,
            polls: yields + 1,
        }
    }
}

/// Spawns `n` futures eagerly, cycling through sizes and alignments, some finishing in their
/// step and some suspending; checks every value and that every future was dropped once.
fn spawn_mixed(tg: &mut TaskGroup, n: usize, drops: &Arc<AtomicUsize>) -> Vec<(Report, Spawned)> {
    let mut spawned = Vec::with_capacity(n);
    for i in 0..n {
        let seed = i as u64;
        // Every third suspends (once or twice), the rest finish in their step; the cycle of 7
        // kinds against the cycle of 3 puts every kind in both, and every kind after every
        // other (21 spawns cover each pair of kind and suspension).
        let yields = match i % 3 {
            0 => 1 + (i % 2) as u32,
            _ => 0,
        };
        let handle = match i % 7 {
            0 => tg.spawn(probe::<u8>(seed, yields, drops)),
            6 => tg.spawn(probe::<[u8; 16]>(seed, yields, drops)),
            1 => tg.spawn(probe::<[u8; LARGE]>(seed, yields, drops)),
            2 => tg.spawn(probe::<Aligned256>(seed, yields, drops)),
            3 => tg.spawn(borrowing(seed, yields, drops)),
            4 => tg.spawn(probe::<Aligned4096>(seed, yields, drops)),
            _ => tg.spawn(probe::<[u8; 100]>(seed, yields, drops)),
        }
        .expect("a running group accepts every spawn");
        spawned.push((Report::expected(seed, yields + 1), handle));
    }
    spawned
}

type Spawned = taskgroup::TaskHandle<Report>;

/// The mixed spawns in one scope; asserts every value and drop after it returns.
async fn mixed_scope(n: usize) {
    let drops = counter();
    let (spawned, done) = Scope::new(Start::Eager)
        .run_counted(async |tg: &mut TaskGroup| Ok(spawn_mixed(tg, n, &drops)))
        .await
        .expect("the group succeeds");
    let suspending = (0..n).filter(|i| i % 3 == 0).count() as u64;
    assert_eq!(
        done,
        Completed {
            eager: n as u64 - suspending,
            scheduled: suspending,
        }
    );
    for (expected, handle) in spawned {
        assert_eq!(handle.result(), Some(expected));
    }
    assert_eq!(count(&drops), n, "every future dropped exactly once");
}

#[test]
fn mixed_sizes_and_alignments_arrive_intact_and_drop_once_on_a_current_thread_runtime() {
    current_thread().block_on(mixed_scope(SPAWNS));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "slow under Miri; the current-thread test covers the place"
)]
fn mixed_sizes_and_alignments_arrive_intact_and_drop_once_on_a_multi_thread_runtime() {
    multi_thread().block_on(async { tokio::spawn(mixed_scope(SPAWNS)).await.unwrap() });
}

static SPAWNER_VAR: contextvars::ContextVar<u64> = contextvars::ContextVar::new("spawner", 0);

/// The step in the spawner's context is a second copy of the eager path: the same checks.
#[test]
fn mixed_sizes_and_alignments_arrive_intact_and_drop_once_when_spawned_in_a_context() {
    current_thread().block_on(contextvars::Context::new().scope(async {
        SPAWNER_VAR.set(7).unwrap();
        mixed_scope(SPAWNS).await;
    }));
}

/// Groups one after another and side by side (a nested group inside a future's eager step)
/// each keep their own place.
#[test]
fn an_eager_step_that_runs_a_nested_eager_group_keeps_both_places_apart() {
    current_thread().block_on(async {
        let drops = counter();
        let n = SPAWNS / 3;
        let inner_drops = Arc::clone(&drops);
        let (outer, nested, after) = scope(Start::Eager, async |tg: &mut TaskGroup| {
            let outer = spawn_mixed(tg, n, &drops);
            // Its eager step runs a whole group whose own eager steps use the nested group's
            // place, while the outer group's place is lent to this step.
            let nested = tg.spawn(async move {
                let spawned = scope(Start::Eager, async |tg: &mut TaskGroup| {
                    Ok(spawn_mixed(tg, n, &inner_drops))
                })
                .await
                .unwrap();
                spawned
                    .into_iter()
                    .map(|(expected, handle)| handle.result() == Some(expected))
                    .collect::<Vec<_>>()
            })?;
            let after = spawn_mixed(tg, n, &drops);
            Ok((outer, nested, after))
        })
        .await
        .unwrap();
        for (expected, handle) in outer.into_iter().chain(after) {
            assert_eq!(handle.result(), Some(expected));
        }
        let nested = nested.result().unwrap();
        assert_eq!(nested.len(), n);
        assert!(nested.iter().all(|ok| *ok), "{nested:?}");
        assert_eq!(count(&drops), 3 * n);
    });
}

/// A zero-sized future: finishes, or waits for a flag and suspends in its step.
macro_rules! zero_sized {
    ($name:ident, $align:literal, $go:ident, $drops:ident) => {
        static $go: AtomicBool = AtomicBool::new(false);
        static $drops: AtomicUsize = AtomicUsize::new(0);

        #[repr(align($align))]
        struct $name {
            wait: bool,
        }

        impl Future for $name {
            type Output = bool;
            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
                if self.wait && !$go.load(Ordering::SeqCst) {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Poll::Ready((&*self as *const Self as usize).is_multiple_of($align))
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                $drops.fetch_add(1, Ordering::SeqCst);
            }
        }
    };
}

// One byte (a `bool`); the zero-sized ones follow.
zero_sized!(ByteSized, 1, BYTE_GO, BYTE_DROPS);

macro_rules! truly_zero_sized {
    ($name:ident, $align:literal, $go:ident, $drops:ident) => {
        static $go: AtomicBool = AtomicBool::new(false);
        static $drops: AtomicUsize = AtomicUsize::new(0);

        /// Waits for the flag when `WAIT`.
        #[repr(align($align))]
        struct $name<const WAIT: bool>;

        impl<const WAIT: bool> Future for $name<WAIT> {
            type Output = bool;
            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
                if WAIT && !$go.load(Ordering::SeqCst) {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Poll::Ready((&*self as *const Self as usize).is_multiple_of($align))
            }
        }

        impl<const WAIT: bool> Drop for $name<WAIT> {
            fn drop(&mut self) {
                $drops.fetch_add(1, Ordering::SeqCst);
            }
        }
    };
}

truly_zero_sized!(Zst, 1, ZST_GO, ZST_DROPS);
truly_zero_sized!(AlignedZst, 512, ALIGNED_ZST_GO, ALIGNED_ZST_DROPS);

#[test]
fn zero_sized_futures_finish_suspend_and_drop_once_in_the_place() {
    assert_eq!(size_of::<Zst<true>>(), 0);
    assert_eq!(size_of::<AlignedZst<false>>(), 0);
    assert_eq!(align_of::<AlignedZst<false>>(), 512);
    assert_eq!(size_of::<ByteSized>(), 1);
    current_thread().block_on(async {
        let n = SPAWNS / 3;
        let (handles, done) = Scope::new(Start::Eager)
            .run_counted(async |tg: &mut TaskGroup| {
                let mut handles = Vec::new();
                for i in 0..n {
                    // Zero-sized futures between sized ones, so that the place they use has held
                    // others before.
                    handles.push(tg.spawn(Zst::<false>)?);
                    handles.push(tg.spawn(Zst::<true>)?);
                    handles.push(tg.spawn(AlignedZst::<false>)?);
                    handles.push(tg.spawn(AlignedZst::<true>)?);
                    handles.push(tg.spawn(ByteSized { wait: i % 2 == 0 })?);
                }
                // The suspended ones may finish from now on.
                ZST_GO.store(true, Ordering::SeqCst);
                ALIGNED_ZST_GO.store(true, Ordering::SeqCst);
                BYTE_GO.store(true, Ordering::SeqCst);
                Ok(handles)
            })
            .await
            .unwrap();
        assert_eq!(handles.len(), 5 * n);
        assert_eq!(
            done,
            Completed {
                eager: 3 * n as u64 - n.div_ceil(2) as u64,
                scheduled: 2 * n as u64 + n.div_ceil(2) as u64,
            }
        );
        for handle in handles {
            assert_eq!(handle.result(), Some(true), "polled at an aligned address");
        }
        assert_eq!(ZST_DROPS.load(Ordering::SeqCst), 2 * n);
        assert_eq!(ALIGNED_ZST_DROPS.load(Ordering::SeqCst), 2 * n);
        assert_eq!(BYTE_DROPS.load(Ordering::SeqCst), n);
    });
}

/// Runs a group whose eager spawns are `before` good ones then one with `fault`. A fault in
/// the eager step shuts the group down at once: three more spawns are refused (and dropped,
/// never run). One after `yields` suspensions fails on the runtime, and cancels the body,
/// which waits for it. Returns the failure messages.
fn one_faulty_among_good<P: Payload>(fault: Fault, yields: u32) -> Vec<String> {
    current_thread().block_on(async {
        let drops = counter();
        let before = 5;
        let result = scope(Start::Eager, async |tg: &mut TaskGroup| {
            let good = spawn_mixed(tg, before, &drops);
            let bad = tg.spawn(faulty::<P>(99, yields, fault, &drops))?;
            if yields > 0 {
                // The runtime takes the task's remaining steps; at its failure the body is
                // cancelled (dropped) at its next suspension. Bounded, so that a failure the
                // group misses fails the test instead of hanging it.
                for _ in 0..10 * (yields + 1) {
                    yield_once().await;
                }
                anyhow::bail!("the group did not fail: its body was not cancelled");
            }
            // Refused from now on: dropped, never run.
            for i in 0..3 {
                let refused = tg.spawn(probe::<[u8; LARGE]>(100 + i, 0, &drops));
                assert_eq!(refused.expect_err("refused"), Refused::ShuttingDown);
            }
            Ok((good, bad))
        })
        .await;
        let e = result.expect_err("the group fails");
        assert!(!e.cancelled);
        let refused = if yields == 0 { 3 } else { 0 };
        assert_eq!(
            count(&drops),
            before + 1 + refused,
            "every future dropped exactly once"
        );
        // The place still works after the failure: a new group starts in the same thread.
        let late = scope(Start::Eager, async |tg: &mut TaskGroup| {
            Ok(tg.spawn(probe::<Aligned256>(7, 0, &drops))?)
        })
        .await
        .expect("a later group succeeds");
        assert_eq!(late.result(), Some(Report::expected(7, 1)));
        messages(&e)
    })
}

#[test]
fn a_panic_in_an_eager_poll_drops_the_future_once_and_fails_the_group() {
    for messages in [
        one_faulty_among_good::<u8>(Fault::PanicInPoll, 0),
        one_faulty_among_good::<[u8; LARGE]>(Fault::PanicInPoll, 0),
        one_faulty_among_good::<Aligned256>(Fault::PanicInPoll, 0),
    ] {
        assert_eq!(messages, ["panicked: poll of probe 99"]);
    }
}

#[test]
fn a_panic_in_an_eager_poll_then_in_its_drop_is_one_failure_and_one_drop() {
    for messages in [
        one_faulty_among_good::<u8>(Fault::PanicInPollAndDrop, 0),
        one_faulty_among_good::<Aligned4096>(Fault::PanicInPollAndDrop, 0),
    ] {
        // The poll's panic is the failure; the drop's, during its cleanup, is lost with it.
        assert_eq!(messages, ["panicked: poll of probe 99"]);
    }
}

#[test]
fn a_finished_eager_future_whose_drop_panics_is_a_failure_not_a_crash() {
    for messages in [
        one_faulty_among_good::<u8>(Fault::PanicInDrop, 0),
        one_faulty_among_good::<[u8; LARGE]>(Fault::PanicInDrop, 0),
        one_faulty_among_good::<Aligned256>(Fault::PanicInDrop, 0),
    ] {
        assert_eq!(messages, ["panicked: drop of probe 99"]);
    }
}

#[test]
fn a_suspended_future_that_panics_in_its_next_poll_is_dropped_once_and_fails_the_group() {
    for messages in [
        one_faulty_among_good::<[u8; LARGE]>(Fault::PanicInPoll, 1),
        one_faulty_among_good::<Aligned256>(Fault::PanicInPollAndDrop, 1),
    ] {
        assert_eq!(messages, ["panicked: poll of probe 99"]);
    }
}

#[test]
fn a_suspended_future_whose_drop_panics_after_it_finishes_is_a_failure_of_the_group() {
    for messages in [
        one_faulty_among_good::<u8>(Fault::PanicInDrop, 1),
        one_faulty_among_good::<Aligned4096>(Fault::PanicInDrop, 2),
    ] {
        assert_eq!(messages, ["panicked: drop of probe 99"]);
    }
}

/// A [`GroupHandle`](taskgroup::GroupHandle)'s eager step (used from a task, or from outside
/// the group) reports a future's panicking drop as the group's failure, as the group's own
/// eager step does, rather than panicking in the caller.
#[test]
fn a_group_handle_eager_future_whose_drop_panics_fails_the_group_not_the_spawner() {
    for (fault, message) in [
        (Fault::PanicInDrop, "panicked: drop of probe 99"),
        (Fault::PanicInPollAndDrop, "panicked: poll of probe 99"),
    ] {
        current_thread().block_on(async {
            let drops = counter();
            let e = scope(Start::Eager, async |tg: &mut TaskGroup| {
                let handle = tg.handle();
                let spawned = panic::catch_unwind(AssertUnwindSafe(|| {
                    handle.spawn(faulty::<[u8; 200]>(99, 0, fault, &drops))
                }));
                let task = spawned.expect("the spawner does not panic").unwrap();
                assert_eq!(task.result(), None, "the task failed");
                Ok(())
            })
            .await
            .unwrap_err();
            assert_eq!(messages(&e), [message]);
            assert_eq!(count(&drops), 1);
        });
    }
}

/// Suspended futures, in their places as tokio tasks, when the group is cancelled: each is
/// dropped once, and none of their places is touched by later spawns.
#[test]
fn futures_suspended_in_their_places_are_dropped_once_when_the_group_is_cancelled() {
    current_thread().block_on(async {
        let drops = counter();
        let n = SPAWNS / 3;
        let e = scope(Start::Eager, async |tg: &mut TaskGroup| {
            let mut handles = Vec::new();
            for i in 0..n as u64 {
                // Never finish: each keeps its place until cancelled.
                handles.push(tg.spawn(probe::<[u8; LARGE]>(i, u32::MAX, &drops))?);
                handles.push(tg.spawn(probe::<Aligned256>(i, u32::MAX, &drops))?);
                handles.push(tg.spawn(borrowing(i, u32::MAX, &drops))?);
                // And finished ones between them, in the group's place.
                let done = tg.spawn(probe::<[u8; LARGE]>(i, 0, &drops))?;
                assert_eq!(done.result(), Some(Report::expected(i, 1)));
            }
            yield_once().await;
            assert_eq!(count(&drops), n, "only the finished ones are dropped");
            tg.cancel();
            std::future::pending::<()>().await;
            Ok(())
        })
        .await
        .unwrap_err();
        assert!(e.cancelled && e.failures.is_empty());
        assert_eq!(count(&drops), 4 * n);
    });
}

/// Dropping the scope's future (its owner aborted) with futures suspended in their places:
/// each is dropped once by the runtime, and nothing is freed twice.
#[test]
fn futures_suspended_in_their_places_are_dropped_once_when_the_scope_is_abandoned() {
    let drops = counter();
    let n = SPAWNS / 3;
    let runtime = current_thread();
    runtime.block_on(async {
        let body_drops = Arc::clone(&drops);
        let owner = tokio::spawn(async move {
            scope(Start::Eager, async |tg: &mut TaskGroup| {
                for i in 0..n as u64 {
                    tg.spawn(probe::<Aligned4096>(i, u32::MAX, &body_drops))?;
                    tg.spawn(borrowing(i, u32::MAX, &body_drops))?;
                    tg.spawn(probe::<u8>(i, 0, &body_drops))?;
                }
                std::future::pending::<()>().await;
                Ok(())
            })
            .await
        });
        yield_once().await;
        owner.abort();
        assert!(owner.await.unwrap_err().is_cancelled());
    });
    drop(runtime);
    assert_eq!(count(&drops), 3 * n);
}

/// Values live in their handles: a value is dropped once whether `result()` takes it, the
/// handle is dropped before or after the scope returns, or the task finished eagerly, on the
/// runtime, or with a name.
#[test]
fn every_task_value_is_dropped_once_whether_taken_or_left_in_its_handle() {
    current_thread().block_on(async {
        let values = counter();
        let n = SPAWNS / 3;
        let kept = scope(Start::Eager, async |tg: &mut TaskGroup| {
            let mut kept = Vec::new();
            for i in 0..n {
                let value = Drops(Arc::clone(&values));
                let yields = (i % 2) as u32;
                let task = async move {
                    for _ in 0..yields {
                        yield_once().await;
                    }
                    value
                };
                let handle = match i % 3 {
                    0 => tg.spawn(task)?,
                    1 => tg.task().name(format!("task {i}")).spawn(task)?,
                    _ => tg.task().start(Start::Scheduled).spawn(task)?,
                };
                // A quarter dropped at once, unread.
                if i % 4 != 0 {
                    kept.push(handle);
                }
            }
            Ok(kept)
        })
        .await
        .unwrap();
        let mut taken = 0;
        for (i, handle) in kept.into_iter().enumerate() {
            if i % 2 == 0 {
                assert!(handle.result().is_some());
                taken += 1;
            }
        }
        assert!(taken > 0);
        assert_eq!(count(&values), n, "every value dropped exactly once");
    });
}

/// A scheduled handle awaited, then queried and dropped: its value is moved out once.
#[test]
fn a_scheduled_handle_awaited_then_dropped_drops_its_value_once() {
    current_thread().block_on(async {
        let values = counter();
        let value = Drops(Arc::clone(&values));
        Scope::new(Start::Eager)
            .run(async |tg: &mut TaskGroup| {
                let mut handle = tg.spawn(async move {
                    yield_once().await;
                    value
                })?;
                let value = (&mut handle).await.unwrap();
                assert_eq!(count(&values), 0);
                drop(value);
                assert_eq!(count(&values), 1);
                assert!(matches!(
                    (&mut handle).await,
                    Err(taskgroup::TaskError::Taken)
                ));
                drop(handle);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(count(&values), 1);
    });
}

/// Many scopes on a multi-thread runtime at once, each spawning mixed futures from its body
/// and, eagerly, from its tasks through a group handle; all values intact, all dropped once.
#[test]
#[cfg_attr(
    miri,
    ignore = "slow under Miri; the current-thread tests cover the place"
)]
fn concurrent_groups_on_a_multi_thread_runtime_keep_every_value_and_drop() {
    multi_thread().block_on(async {
        let drops = counter();
        let groups = 8;
        let n = SPAWNS / 4;
        let mut owners = Vec::new();
        for _ in 0..groups {
            let drops = Arc::clone(&drops);
            owners.push(tokio::spawn(async move {
                let (spawned, from_tasks) = scope(Start::Eager, async |tg: &mut TaskGroup| {
                    let group = tg.handle();
                    let task_drops = Arc::clone(&drops);
                    let from_tasks = tg.spawn(async move {
                        let mut handles = Vec::new();
                        for i in 0..n as u64 {
                            yield_once().await;
                            let h = group
                                .spawn(probe::<Aligned256>(i, (i % 2) as u32, &task_drops))
                                .unwrap();
                            handles.push((Report::expected(i, (i % 2) as u32 + 1), h));
                        }
                        handles
                    })?;
                    Ok((spawn_mixed(tg, n, &drops), from_tasks))
                })
                .await
                .unwrap();
                for (expected, handle) in spawned.into_iter().chain(from_tasks.result().unwrap()) {
                    assert_eq!(handle.result(), Some(expected));
                }
            }));
        }
        for owner in owners {
            owner.await.unwrap();
        }
        assert_eq!(count(&drops), groups * 2 * n);
    });
}
