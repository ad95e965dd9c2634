//! What the CPython test ports share: asyncio's clock, a bound on real-clock scenarios, the
//! kinds of a group's failures as CPython's tests name them, and `try`/`finally` guards. (Each
//! test binary uses part of it.)
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::anyhow;
use taskgroup::{Failure, GroupError};

/// `asyncio.sleep`, on the paused clock or, scaled, on the real one: a sleep under a second
/// lasts a hundredth of it there, a longer one (a sleep no test waits out) as long.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    Paused,
    Real,
}

impl Clock {
    pub fn duration(self, secs: f64) -> Duration {
        match self {
            Clock::Paused => Duration::from_secs_f64(secs),
            Clock::Real if secs < 1.0 => Duration::from_secs_f64(secs / 100.0),
            Clock::Real => Duration::from_secs_f64(secs),
        }
    }

    pub async fn sleep(self, secs: f64) {
        if secs == 0.0 {
            // asyncio.sleep(0) yields to the loop once; a zero tokio sleep may not suspend.
            tokio::task::yield_now().await;
            return;
        }
        tokio::time::sleep(self.duration(secs)).await;
    }
}

/// Runs `scenario` on the real clock, bounded so that a hang fails the test.
pub async fn bounded(scenario: impl Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(60), scenario)
        .await
        .expect("the scenario hung");
}

/// `get_error_types(eg)`: the names of the group's failures; `ExceptionGroup` for a nested
/// group's error. Errors and panics are named by their message.
pub fn kinds(e: &GroupError) -> BTreeSet<String> {
    e.failures.iter().map(kind).collect()
}

pub fn kind(failure: &Failure) -> String {
    match failure {
        Failure::Error(e) if e.downcast_ref::<GroupError>().is_some() => {
            "ExceptionGroup".to_owned()
        }
        Failure::Error(e) => e.to_string(),
        Failure::Panic(msg) => msg.clone(),
    }
}

/// `get_error_types(eg.exceptions[i])`: the kinds of a nested group's failures.
pub fn nested_kinds(failure: &Failure) -> BTreeSet<String> {
    match failure {
        Failure::Error(e) => kinds(
            e.downcast_ref::<GroupError>()
                .expect("the failure is a nested ExceptionGroup"),
        ),
        Failure::Panic(msg) => panic!("expected a nested ExceptionGroup, got a panic: {msg}"),
    }
}

pub fn set<const N: usize>(names: [&str; N]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

pub fn zero_division() -> anyhow::Error {
    anyhow!("ZeroDivisionError")
}

/// `try: <await> except CancelledError: f(); raise`: runs `f` if dropped (the future holding
/// it cancelled) before [`OnCancel::done`].
pub struct OnCancel<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> OnCancel<F> {
    pub fn new(f: F) -> Self {
        Self(Some(f))
    }

    /// The await it guards finished: no cancellation.
    pub fn done(mut self) {
        self.0 = None;
    }
}

impl<F: FnOnce()> Drop for OnCancel<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// `try: … finally: f()`: runs `f` whenever dropped, finished or cancelled.
pub struct Finally<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Finally<F> {
    pub fn new(f: F) -> Self {
        Self(Some(f))
    }
}

impl<F: FnOnce()> Drop for Finally<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}
