//! Nesting far deeper than any program should, which must still not overflow a stack: a chain
//! of nested groups let go when its owner is aborted. A stack overflow aborts the whole process, so each scenario runs in
//! a child process (this test binary, filtered to the one test) on a thread with the stack of
//! a tokio worker: a regression fails its test with the child's message, and the other tests
//! run on.
#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use taskgroup::{GroupHandle, Scope, Start, TaskGroup, scope};

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
