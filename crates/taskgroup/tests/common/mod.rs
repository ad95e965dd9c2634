//! What the CPython test ports share: asyncio's clock, and a bound on real-clock scenarios.
//! (Each test binary uses part of it.)
#![allow(dead_code)]

use std::time::Duration;

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
