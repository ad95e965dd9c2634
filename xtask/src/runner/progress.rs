//! What the terminal shows while rows run.
//!
//! On a terminal, two lines: a bar of finished processes with the last one's figure and the
//! time left, and below it the row running now with how long it has run and how long it took
//! last time. The second line ticks on its own, so a ten-second CPython run never looks frozen.
//! Elsewhere (CI, pipes) one plain line per finished process.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::format::fmt_span;

/// A progress display on a terminal, plain lines elsewhere.
#[derive(Debug)]
pub struct Progress {
    bars: Option<Bars>,
    quiet: bool,
}

#[derive(Debug)]
struct Bars {
    multi: MultiProgress,
    done: ProgressBar,
    now: ProgressBar,
}

impl Progress {
    pub fn for_stderr() -> Self {
        Self {
            bars: std::io::stderr().is_terminal().then(|| {
                let multi = MultiProgress::with_draw_target(ProgressDrawTarget::hidden());
                let done = multi.add(ProgressBar::hidden());
                let now = multi.add(ProgressBar::hidden());
                Bars { multi, done, now }
            }),
            quiet: false,
        }
    }

    /// Prints nothing: for tests.
    pub fn quiet() -> Self {
        Self {
            bars: None,
            quiet: true,
        }
    }

    pub(crate) fn start(&self, total: u64) {
        let Some(b) = &self.bars else { return };
        b.done.set_length(total);
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}") {
            b.done.set_style(style);
        }
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
            b.now.set_style(style);
        }
        b.multi.set_draw_target(ProgressDrawTarget::stderr());
        b.now.enable_steady_tick(Duration::from_millis(200));
    }

    /// A process of `label` starts; `expected` is how long the last one of that row took.
    pub(crate) fn running(&self, label: &str, expected: Option<Duration>) {
        let Some(b) = &self.bars else { return };
        b.now.reset_elapsed();
        b.now.set_message(match expected {
            Some(d) => format!("running {label} (last took {}),", fmt_span(d)),
            None => format!("running {label},"),
        });
    }

    /// A process of `label` ended with `what`; `left` is the estimated time the rest takes.
    pub(crate) fn step(&self, label: &str, what: &str, left: Option<Duration>) {
        match &self.bars {
            Some(b) => {
                b.done.inc(1);
                let left = left
                    .map(|d| format!(" · about {} left", fmt_span(d)))
                    .unwrap_or_default();
                b.done.set_message(format!("last: {label} {what}{left}"));
            }
            None if !self.quiet => crate::say!("  {label}: {what}"),
            None => {}
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(b) = &self.bars {
            b.now.finish_and_clear();
            b.done.finish_and_clear();
        }
    }
}

/// The time the rest of a run should take, from how long each row's last process took.
#[derive(Debug, Clone)]
pub struct Eta {
    /// Per target: processes still to run.
    left: Vec<u32>,
    /// Per target: how long its last process took, once one has run.
    last: Vec<Option<Duration>>,
}

impl Eta {
    /// `processes[i]` is how many processes target `i` runs in all.
    pub fn new(processes: impl IntoIterator<Item = u32>) -> Self {
        let left: Vec<u32> = processes.into_iter().collect();
        let last = vec![None; left.len()];
        Self { left, last }
    }

    /// How long target `i`'s last process took, if one has run.
    pub fn last(&self, i: usize) -> Option<Duration> {
        self.last[i]
    }

    /// A process of target `i` ended after `took`.
    pub fn ran(&mut self, i: usize, took: Duration) {
        self.left[i] = self.left[i].saturating_sub(1);
        self.last[i] = Some(took);
    }

    /// Target `i` will run no more processes (it failed).
    pub fn drop_target(&mut self, i: usize) {
        self.left[i] = 0;
    }

    /// The rest's time: each target's processes left times its last one's time; a target not
    /// yet run counts at the mean of those that have. `None` until any has run.
    pub fn left(&self) -> Option<Duration> {
        let known: Vec<Duration> = self.last.iter().flatten().copied().collect();
        let mean =
            known.iter().sum::<Duration>() / u32::try_from(known.len()).ok().filter(|&n| n > 0)?;
        Some(
            self.left
                .iter()
                .zip(&self.last)
                .map(|(&n, last)| last.unwrap_or(mean) * n)
                .sum(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_time_left_counts_each_row_at_its_own_pace() {
        let mut eta = Eta::new([3, 3, 2]);
        assert_eq!(eta.left(), None, "nothing has run yet");
        eta.ran(0, 10 * MS);
        // Row 0: 2 left at 10 ms; rows 1 and 2 unknown, at the mean of the known (10 ms).
        assert_eq!(eta.left(), Some((2 + 3 + 2) * 10 * MS));
        eta.ran(1, 1000 * MS);
        // The mean of the known is now 505 ms, for row 2 only.
        assert_eq!(eta.left(), Some(2 * 10 * MS + 2 * 1000 * MS + 2 * 505 * MS));
        assert_eq!(eta.last(1), Some(1000 * MS));
        eta.drop_target(1);
        assert_eq!(eta.left(), Some(2 * 10 * MS + 2 * 505 * MS));
    }

    #[test]
    fn a_finished_run_has_no_time_left() {
        let mut eta = Eta::new([1, 1]);
        eta.ran(0, 5 * MS);
        eta.ran(1, 7 * MS);
        eta.ran(1, 7 * MS);
        assert_eq!(eta.left(), Some(Duration::ZERO));
    }
}
