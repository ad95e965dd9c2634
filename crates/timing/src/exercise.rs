//! What every exercise binary writes the same way around its own lesson: its flags from the
//! catalogue ([`spec!`](crate::spec)) and a child that notes its start latency
//! ([`noting_start`]).

use std::time::Instant;

use crate::latency::StartLatencies;

/// The [`Spec`](crate::cli::Spec) of a catalogue exercise, a constant: its name, help line,
/// variants (default first), default `--tasks` and whether `--measure start-latency` applies,
/// all read from `crates/catalog`.
///
/// A macro rather than a `const fn`: the variant names must stand in an array a constant
/// holds, so that the spec can borrow them for `'static`.
///
/// ```
/// const EXERCISE: &catalog::Exercise = catalog::exercise("ex_6_1");
/// const SPEC: timing::cli::Spec = timing::spec!(EXERCISE);
/// assert_eq!(SPEC.name, "ex_6_1");
/// assert_eq!(SPEC.variants[0], EXERCISE.default_variant().name);
/// assert_eq!(SPEC.variants.len(), EXERCISE.variants.len());
/// assert_eq!(SPEC.default_tasks, Some(1_000_000));
/// ```
#[macro_export]
macro_rules! spec {
    ($exercise:expr) => {{
        const VARIANTS: [&str; $exercise.variants.len()] =
            $crate::exercise::variant_array($exercise);
        $crate::cli::Spec {
            name: $exercise.name,
            about: $exercise.help,
            variants: &VARIANTS,
            default_tasks: $exercise.default_tasks,
            start_latency: $exercise.takes_start_latency(),
        }
    }};
}

#[doc(hidden)]
pub use catalog::variant_array;

/// `child`, the coroutine of task `i`, made now, that notes in `latencies` how long after this
/// call it is first polled (its start latency, for `--measure start-latency`), then runs on.
///
/// asyncio has no counterpart: the exercises' `light_coro` measures nothing, so the timed run
/// wraps it rather than changing it.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let latencies = timing::StartLatencies::new(2);
/// let child = timing::noting_start(&latencies, 1, async { 7 });
/// assert_eq!(latencies.histogram().len(), 0); // made, not yet polled
/// assert_eq!(child.await, 7);
/// assert_eq!(latencies.histogram().len(), 1);
/// # });
/// ```
pub fn noting_start<F: Future>(
    latencies: &StartLatencies,
    i: u64,
    child: F,
) -> impl Future<Output = F::Output> + use<F> {
    let (latencies, created) = (latencies.clone(), Instant::now());
    async move {
        latencies.started(i as usize, created);
        child.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The latency is noted at the first poll, before the child's own first step.
    #[tokio::test]
    async fn the_start_is_noted_before_the_child_runs() {
        let latencies = StartLatencies::new(1);
        let l = latencies.clone();
        let noted_first = noting_start(&latencies, 0, async move { l.histogram().len() }).await;
        assert_eq!(noted_first, 1);
    }

    /// Each child notes into its own slot: three children, three latencies.
    #[tokio::test]
    async fn each_child_notes_its_own_slot() {
        let latencies = StartLatencies::new(3);
        for i in 0..3 {
            noting_start(&latencies, i, tokio::task::yield_now()).await;
        }
        assert_eq!(latencies.histogram().len(), 3);
    }
}
