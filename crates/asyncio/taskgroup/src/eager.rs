//! The eager step, one for both spawners: a [`TaskGroup`](crate::TaskGroup) steps in the place
//! it keeps and counts in its own fields ([`Body`]); a [`GroupHandle`](crate::GroupHandle), which
//! may spawn from any thread, steps in memory of the future's own and counts in the group's
//! shared counters ([`Handle`]).

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::cancel::Requests;
use crate::current::TaskId;
use crate::handle::TaskHandle;
use crate::listing::Name;
use crate::options::{Options, Start, StepContext, first_poll};
use crate::outcome::{Outcome, Refused};
use crate::place::{Placed, StepIn, Stepped};
use crate::shared::{GroupRef, Live, Shared};

/// Whom an eager step ran for: where it counts a task that finished in its step, and how a
/// task that suspended is counted as it goes on as a tokio task.
pub(crate) trait Spawner<'a> {
    fn shared(&self) -> &'a Arc<Shared>;

    /// The task finished in its step.
    fn finished(&mut self);

    /// The task suspended in its step and goes on: counted scheduled, and live with its handle.
    fn goes_on(self) -> Result<(Live, GroupRef), Refused>;
}

/// The eager step: polls `future` once in `place`, as the new task for `current_task()`, in
/// `context`. `(name, cooperative)`: the task's name, and its requests if it is cooperative.
///
/// A panic while a finished future is dropped is a failure of the group, not a panic in whoever
/// spawned it, which may be outside the group.
#[inline(always)]
pub(crate) fn step<'a, S, P, F, T, O, C>(
    mut spawner: S,
    place: P,
    future: F,
    outcome: O,
    (name, cooperative): (Option<Name>, Option<Arc<Requests>>),
    mut context: C,
) -> Result<TaskHandle<T>, Refused>
where
    S: Spawner<'a>,
    P: StepIn<F>,
    F: Future + Send + 'static,
    T: Send + 'static,
    O: Outcome<F::Output, T>,
    C: StepContext,
{
    // The place is made ready before (it may allocate: a call), and the task made current
    // inside `step_as_new`: with no call between those two thread-local writes, the compiler
    // folds them away for a future that never asks for its task, and folds writing, polling
    // and dropping a future that finishes in its step.
    let (stepped, id) = place.step_as_new(future, first_poll(&mut context));
    match stepped {
        Stepped::Ready(out) => match outcome(out) {
            Ok(value) => {
                spawner.finished();
                Ok(TaskHandle::eager(Some(value), name, id))
            }
            Err(e) => Ok(spawner.shared().eager_error(e, name, id)),
        },
        Stepped::Pending(task) => {
            // A task that suspends costs a tokio task: the finished ones go first.
            std::hint::cold_path();
            let options = Options {
                name,
                start: Start::Eager,
                context: context.into_option(),
                cooperative,
            };
            suspended(spawner, task, outcome, options, id)
        }
        Stepped::Panicked(payload) => Ok(eager_panicked(spawner.shared(), payload, name, id)),
    }
}

/// The future suspended in its eager step: it goes on as a tokio task, in its place.
#[inline(never)]
fn suspended<'a, S, F, T, O>(
    spawner: S,
    task: Placed<F>,
    outcome: O,
    options: Options,
    id: Option<TaskId>,
) -> Result<TaskHandle<T>, Refused>
where
    S: Spawner<'a>,
    F: Future + Send + 'static,
    T: Send + 'static,
    O: Outcome<F::Output, T>,
{
    let shared = spawner.shared();
    let joined = spawner.goes_on()?;
    Ok(shared.schedule_as(joined, task, outcome, options, id))
}

/// An eager step panicked: a failure of the group.
#[cold]
#[inline(never)]
fn eager_panicked<T>(
    shared: &Shared,
    payload: Box<dyn Any + Send>,
    name: Option<Name>,
    id: Option<TaskId>,
) -> TaskHandle<T> {
    shared.panicked(&*payload);
    TaskHandle::eager(None, name, id)
}

/// A [`TaskGroup`](crate::TaskGroup)'s step, from its scope's body: its counts are its own.
pub(crate) struct Body<'a> {
    pub(crate) shared: &'a Arc<Shared>,
    pub(crate) eager_done: &'a mut u64,
    pub(crate) scheduled: &'a mut u64,
}

impl<'a> Spawner<'a> for Body<'a> {
    fn shared(&self) -> &'a Arc<Shared> {
        self.shared
    }

    #[inline(always)]
    fn finished(&mut self) {
        *self.eager_done += 1;
    }

    fn goes_on(self) -> Result<(Live, GroupRef), Refused> {
        let joined = Live::join_after_step(self.shared)?;
        *self.scheduled += 1;
        Ok(joined)
    }
}

/// A [`GroupHandle`](crate::GroupHandle)'s step, from any thread: its task is counted live from
/// before its step (`live`), so that a scope does not finish while the step runs, and out after
/// it; its counts are the group's shared ones.
pub(crate) struct Handle<'a> {
    pub(crate) shared: &'a Arc<Shared>,
    pub(crate) live: Live,
}

impl<'a> Spawner<'a> for Handle<'a> {
    fn shared(&self) -> &'a Arc<Shared> {
        self.shared
    }

    fn finished(&mut self) {
        // Counted before `live` is let go: the scope reads this count once no task is live.
        self.shared.eager_done.fetch_add(1, Ordering::Relaxed);
    }

    fn goes_on(self) -> Result<(Live, GroupRef), Refused> {
        self.shared.scheduled.fetch_add(1, Ordering::Relaxed);
        let group = GroupRef::for_live(&self.live);
        Ok((self.live, group))
    }
}
