//! Nesting far deeper than any program should, which must still not overflow a stack: a chain
//! of nested groups let go when its owner is aborted, and a `GroupError` nested in itself,
//! displayed and dropped. A stack overflow aborts the whole process, so each scenario runs in
//! a child process (this test binary, filtered to the one test) on a thread with the stack of
//! a tokio worker: a regression fails its test with the child's message, and the other tests
//! run on.
#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use taskgroup::{Failure, GroupError, GroupHandle, Scope, Start, TaskGroup, scope};

/// Set in the child process: run the scenario itself.
const CHILD: &str = "TASKGROUP_DEEP_NESTING_CHILD";

/// A tokio worker thread's default stack.
const STACK: usize = 2 * 1024 * 1024;

/// Runs `scenario` on a thread with [`STACK`] bytes of stack in a child process, and fails if
/// the child does not pass (an overflow aborts it).
fn in_child(test: &str, scenario: fn()) {
    if std::env::var_os(CHILD).is_some() {
        let thread = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn(scenario)
            .unwrap();
        if let Err(payload) = thread.join() {
            std::panic::resume_unwind(payload);
        }
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "{test}, in a child process: {:?}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "the child ran {test}:\n{stdout}"
    );
}

// A chain of nested groups, abandoned.

const LEVELS: usize = 50_000;

/// A group nested in `parent`, run by a task of it, whose body starts the next level's task
/// until `levels` is 0, then says so and waits forever.
fn level(
    parent: GroupHandle,
    levels: usize,
    bottom: Arc<AtomicBool>,
) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        let run = Scope::new(Start::Scheduled).parent(&parent);
        let _ = run
            .run(async move |tg: &mut TaskGroup| {
                if levels == 0 {
                    bottom.store(true, Ordering::Release);
                } else {
                    tg.spawn(level(tg.handle(), levels - 1, bottom))?;
                }
                std::future::pending::<()>().await;
                Ok(())
            })
            .await;
    })
}

fn a_deep_chain_abandoned_by_its_owner() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let bottom = Arc::new(AtomicBool::new(false));
        let (top, got_top) = tokio::sync::oneshot::channel();
        let owner = tokio::spawn({
            let bottom = Arc::clone(&bottom);
            scope(Start::Scheduled, async move |tg: &mut TaskGroup| {
                top.send(tg.handle()).unwrap();
                tg.spawn(level(tg.handle(), LEVELS - 1, bottom))?;
                std::future::pending::<()>().await;
                Ok(())
            })
        });
        let top = got_top.await.unwrap();
        while !bottom.load(Ordering::Acquire) {
            tokio::task::yield_now().await;
        }
        // The first level's task, and the group nested in it.
        assert_eq!(top.snapshot().live, 2);
        owner.abort();
        assert!(owner.await.unwrap_err().is_cancelled());
        // Every level lets go of the one above once its own tasks have ended: the top group
        // counts none once the whole chain has been let go.
        for _ in 0..LEVELS * 10 {
            if top.snapshot().live == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        let snapshot = top.snapshot();
        assert_eq!(snapshot.live, 0, "the chain was let go: {snapshot}");
        assert!(snapshot.shutting_down);
    });
}

#[test]
fn a_chain_of_50_000_nested_groups_abandoned_by_its_owner_is_let_go_without_recursion() {
    in_child(
        "a_chain_of_50_000_nested_groups_abandoned_by_its_owner_is_let_go_without_recursion",
        a_deep_chain_abandoned_by_its_owner,
    );
}

// A GroupError nested in itself, as nested groups whose bodies return the error of the group
// inside them (`inner.await?`) build it.

const DEPTH: usize = 100_000;

fn nested_error(depth: usize) -> GroupError {
    let mut error = GroupError {
        failures: vec![Failure::Panic("at the bottom".into())],
        cancelled: false,
    };
    for _ in 1..depth {
        error = GroupError {
            failures: vec![Failure::Error(error.into())],
            cancelled: false,
        };
    }
    error
}

fn a_deep_error_displayed() {
    let error = nested_error(DEPTH);
    let shown = error.to_string();
    let group = "unhandled errors in a TaskGroup (1 sub-exception)";
    let shown_levels = shown.matches(group).count();
    assert!(shown_levels <= 10, "{shown_levels} levels shown: {shown}");
    assert!(
        shown.ends_with(&format!("… {} more nested groups", DEPTH - shown_levels)),
        "says how many are left out: {shown}"
    );
    // `Debug` shows the outer group's fields and the nested one through its `Display`;
    // `{:#?}` shows each nested group's `Debug`; both to the same depth.
    for debugged in [format!("{error:?}"), format!("{error:#?}")] {
        assert!(debugged.starts_with("GroupError {"), "{debugged}");
        assert!(debugged.matches(group).count() < 10, "{debugged}");
        let left_out = format!("… {} more nested groups", DEPTH - 10);
        assert!(debugged.contains(&left_out), "{debugged}");
    }
    // A shallow error is shown whole.
    assert_eq!(
        nested_error(2).to_string(),
        format!("{group}; {group}; panicked: at the bottom")
    );
}

#[test]
fn a_group_error_nested_100_000_deep_is_displayed_to_a_bounded_depth() {
    in_child(
        "a_group_error_nested_100_000_deep_is_displayed_to_a_bounded_depth",
        a_deep_error_displayed,
    );
}

fn a_deep_error_dropped() {
    drop(nested_error(DEPTH));
    // Inside anyhow, with context, as a body returns it through `?` and `.context(…)`.
    let wrapped = anyhow::Error::from(nested_error(DEPTH)).context("the outer body");
    drop(wrapped);
}

#[test]
fn a_group_error_nested_100_000_deep_is_dropped_without_recursion() {
    in_child(
        "a_group_error_nested_100_000_deep_is_dropped_without_recursion",
        a_deep_error_dropped,
    );
}

/// Nested groups whose bodies return the error of the group inside them, `depth` deep, with
/// a failure at the bottom.
fn failing_groups(depth: usize) -> std::pin::Pin<Box<dyn Future<Output = GroupError> + Send>> {
    Box::pin(async move {
        scope(
            Start::Eager,
            async move |_: &mut TaskGroup| -> anyhow::Result<()> {
                if depth == 1 {
                    anyhow::bail!("at the bottom");
                }
                Err(failing_groups(depth - 1).await.into())
            },
        )
        .await
        .unwrap_err()
    })
}

#[tokio::test]
async fn the_error_of_groups_nested_twelve_deep_shows_ten_and_counts_the_rest() {
    let group = "unhandled errors in a TaskGroup (1 sub-exception); ";
    assert_eq!(
        failing_groups(10).await.to_string(),
        format!("{}at the bottom", group.repeat(10)),
        "ten are shown whole"
    );
    assert_eq!(
        failing_groups(12).await.to_string(),
        format!("{}… 2 more nested groups", group.repeat(10))
    );
}
