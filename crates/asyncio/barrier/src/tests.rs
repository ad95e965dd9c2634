use std::sync::Arc;
use std::time::Duration;

use tokio::task::{JoinHandle, yield_now};

use super::*;

fn waiter(b: &Arc<Barrier>) -> JoinHandle<Result<usize, BrokenBarrierError>> {
    let b = Arc::clone(b);
    tokio::spawn(async move { b.wait().await })
}

/// The `[state, waiters:n/p]` part of the repr.
fn shown(b: &Barrier) -> String {
    let text = b.to_string();
    text[text.find('[').unwrap()..].to_owned()
}

#[tokio::test]
async fn wait_returns_arrival_indexes_and_the_last_arrival_releases() {
    let b = Arc::new(Barrier::new(3));
    let first = waiter(&b);
    yield_now().await;
    let second = waiter(&b);
    yield_now().await;
    assert_eq!(b.n_waiting(), 2);
    assert_eq!(b.wait().await, Ok(2));
    assert_eq!(first.await.unwrap(), Ok(0));
    assert_eq!(second.await.unwrap(), Ok(1));
}

#[tokio::test]
async fn states_go_filling_draining_filling_as_in_the_python_example() {
    let b = Arc::new(Barrier::new(3));
    waiter(&b);
    waiter(&b);
    yield_now().await;
    assert_eq!(shown(&b), "[filling, waiters:2/3]>");
    b.wait().await.unwrap();
    assert_eq!(shown(&b), "[draining, waiters:0/3]>");
    yield_now().await;
    assert_eq!(shown(&b), "[filling, waiters:0/3]>");
}

#[tokio::test]
async fn the_barrier_can_be_passed_again_and_again() {
    let b = Arc::new(Barrier::new(2));
    for _ in 0..3 {
        let other = waiter(&b);
        yield_now().await;
        assert_eq!(b.wait().await, Ok(1));
        assert_eq!(other.await.unwrap(), Ok(0));
        assert_eq!(b.state(), State::Filling);
    }
}

#[tokio::test]
async fn arrivals_while_draining_wait_for_the_next_round() {
    let b = Arc::new(Barrier::new(2));
    let first = waiter(&b);
    yield_now().await;
    b.wait().await.unwrap(); // releases `first`, which has not left yet
    assert_eq!(b.state(), State::Draining);
    let late = waiter(&b);
    yield_now().await; // `first` leaves; `late` gets in on the new round
    assert_eq!(first.await.unwrap(), Ok(0));
    assert_eq!(b.state(), State::Filling);
    assert_eq!(b.n_waiting(), 1, "the late arrival waits in the new round");
    assert_eq!(b.wait().await, Ok(1));
    assert_eq!(late.await.unwrap(), Ok(0));
}

#[tokio::test]
async fn abort_breaks_waiters_and_arrivals_until_reset() {
    let b = Arc::new(Barrier::new(3));
    let w = waiter(&b);
    yield_now().await;
    b.abort();
    assert_eq!(w.await.unwrap(), Err(BrokenBarrierError));
    assert!(b.broken());
    assert_eq!(b.wait().await, Err(BrokenBarrierError));
    assert!(b.to_string().ends_with(" [broken]>"), "{b}");
    b.reset();
    assert_eq!(shown(&b), "[filling, waiters:0/3]>");
}

#[tokio::test]
async fn reset_breaks_current_waiters_then_fills_again() {
    let b = Arc::new(Barrier::new(3));
    let (w1, w2) = (waiter(&b), waiter(&b));
    yield_now().await;
    b.reset();
    assert_eq!(b.state(), State::Resetting, "waiters are still inside");
    assert_eq!(w1.await.unwrap(), Err(BrokenBarrierError));
    assert_eq!(w2.await.unwrap(), Err(BrokenBarrierError));
    assert_eq!(
        b.state(),
        State::Filling,
        "the last to leave fills it again"
    );
    // Usable again at once.
    let (w1, w2) = (waiter(&b), waiter(&b));
    yield_now().await;
    assert_eq!(b.wait().await, Ok(2));
    assert!(w1.await.unwrap().is_ok() && w2.await.unwrap().is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_waiter_leaves_the_barrier() {
    let b = Arc::new(Barrier::new(2));
    // Unlike tokio::sync::Barrier, a waiter that gives up does not count as arrived.
    let gave_up = tokio::time::timeout(Duration::from_secs(1), b.wait()).await;
    assert!(gave_up.is_err());
    assert_eq!(b.n_waiting(), 0);
    let w = waiter(&b);
    yield_now().await;
    assert_eq!(b.n_waiting(), 1);
    w.abort();
    let _ = w.await;
    assert_eq!(b.n_waiting(), 0, "an aborted task leaves too");
}

#[test]
#[should_panic(expected = "parties must be > 0")]
fn zero_parties_is_refused() {
    Barrier::new(0);
}
