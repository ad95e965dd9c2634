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
    /// Processes finished so far.
    done: std::cell::Cell<u64>,
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
            done: std::cell::Cell::new(0),
        }
    }

    /// Prints nothing: for tests.
    pub fn quiet() -> Self {
        Self {
            bars: None,
            quiet: true,
            done: std::cell::Cell::new(0),
        }
    }

    pub(crate) fn start(&self, total: u64) {
        let Some(b) = &self.bars else { return };
        b.done.set_length(total);
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {elapsed} {msg}") {
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

    /// A process of `label` ended with `what`; `eta` says what is still expected.
    pub(crate) fn step(&self, label: &str, what: &str, eta: &Eta) {
        self.done.set(self.done.get() + 1);
        let line = step_line(
            self.done.get(),
            eta.processes_left(),
            label,
            what,
            eta.left(),
        );
        match &self.bars {
            Some(b) => {
                b.done.set_length(self.done.get() + eta.processes_left());
                b.done.inc(1);
                b.done.set_message(line);
            }
            None if !self.quiet => crate::say!("{line}"),
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

/// One finished process as a line: `[12/80] ex_6_1:eager (current): 2.18 ms · about 3 min 10 s
/// left`, where 80 is the processes done and still expected (it moves as rows reach their
/// goal or need more).
pub fn step_line(
    done: u64,
    left: u64,
    label: &str,
    what: &str,
    time_left: Option<Duration>,
) -> String {
    let time_left = time_left
        .map(|d| format!(" · about {} left", fmt_span(d)))
        .unwrap_or_default();
    format!("[{done}/{}] {label}: {what}{time_left}", done + left)
}

/// The time the rest of a run should take: each row's processes still expected, at the time
/// its last process took, or before any has run at its first guess (the previous run's time of
/// that row, or an estimate from its task count), so that rows not yet reached count from the
/// start.
#[derive(Debug, Clone)]
pub struct Eta {
    /// Per target: processes still expected.
    left: Vec<u32>,
    /// Per target: how long its last process took, once one has run.
    last: Vec<Option<Duration>>,
    /// Per target: the first guess of a process' time.
    guess: Vec<Option<Duration>>,
    /// The most the rest may take (the time to the run's deadline).
    cap: Option<Duration>,
}

impl Eta {
    /// `processes[i]` is how many processes target `i` runs in all.
    pub fn new(processes: impl IntoIterator<Item = u32>) -> Self {
        let left: Vec<u32> = processes.into_iter().collect();
        let last = vec![None; left.len()];
        let guess = vec![None; left.len()];
        Self {
            left,
            last,
            guess,
            cap: None,
        }
    }

    /// Target `i`'s processes take about `each` until one has run.
    pub fn guess(&mut self, i: usize, each: Duration) {
        self.guess[i] = Some(each);
    }

    /// Target `i` is now expected to run `n` more processes.
    pub fn set_left(&mut self, i: usize, n: u32) {
        self.left[i] = n;
    }

    /// The rest ends by `cap` from now at the latest.
    pub fn cap(&mut self, cap: Option<Duration>) {
        self.cap = cap;
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

    /// How many processes are still expected.
    pub fn processes_left(&self) -> u64 {
        self.left.iter().map(|&n| u64::from(n)).sum()
    }

    /// The time one process of target `i` is expected to take: its last, else its guess, else
    /// the mean of the last processes of the others (zero before anything is known).
    pub fn each(&self, i: usize) -> Duration {
        if let Some(d) = self.last[i].or(self.guess[i]) {
            return d;
        }
        let known: Vec<Duration> = self.last.iter().flatten().copied().collect();
        match u32::try_from(known.len()) {
            Ok(n) if n > 0 => known.iter().sum::<Duration>() / n,
            _ => Duration::ZERO,
        }
    }

    /// The rest's time: each target's processes left times [`Eta::each`], at most the cap.
    /// `None` until anything is known of a target with processes left.
    pub fn left(&self) -> Option<Duration> {
        let unknown = (0..self.left.len())
            .any(|i| self.left[i] > 0 && self.each(i) == Duration::ZERO && self.last[i].is_none());
        if unknown {
            return None;
        }
        let total: Duration = (0..self.left.len())
            .map(|i| self.each(i) * self.left[i])
            .sum();
        Some(self.cap.map_or(total, |cap| total.min(cap)))
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
        eta.set_left(1, 0); // it failed: no more processes
        assert_eq!(eta.left(), Some(2 * 10 * MS + 2 * 505 * MS));
    }

    #[test]
    fn a_plain_line_counts_the_processes_and_says_the_time_left() {
        let line = step_line(
            3,
            7,
            "ex_6_1:eager (current)",
            "2.18 ms",
            Some(90 * 1000 * MS),
        );
        assert_eq!(
            line,
            "[3/10] ex_6_1:eager (current): 2.18 ms · about 1 min 30 s left"
        );
        assert_eq!(step_line(1, 0, "x", "y", None), "[1/1] x: y");
    }

    #[test]
    fn rows_not_yet_run_count_from_the_start_at_their_guess() {
        let mut eta = Eta::new([2, 1]);
        eta.guess(0, 100 * MS);
        eta.guess(1, 3000 * MS);
        // Nothing has run, and the estimate already counts the slow row.
        assert_eq!(eta.left(), Some(2 * 100 * MS + 3000 * MS));
        eta.ran(0, 50 * MS);
        assert_eq!(
            eta.left(),
            Some(50 * MS + 3000 * MS),
            "its own time replaces the guess"
        );
        eta.set_left(0, 4);
        assert_eq!(eta.processes_left(), 5);
        eta.cap(Some(1000 * MS));
        assert_eq!(eta.left(), Some(1000 * MS), "never past the deadline");
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
