//! What the terminal shows while rows run.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on a terminal, plain lines elsewhere (CI, pipes).
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Progress {
    pub fn for_stderr() -> Self {
        Self {
            bar: std::io::stderr().is_terminal().then(ProgressBar::hidden),
            quiet: false,
        }
    }

    /// Prints nothing: for tests.
    pub fn quiet() -> Self {
        Self {
            bar: None,
            quiet: true,
        }
    }

    pub(crate) fn start(&self, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
            {
                bar.set_style(style);
            }
        }
    }

    pub(crate) fn step(&self, label: &str, what: &str) {
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(format!("{label} {what}"));
            }
            None if !self.quiet => eprintln!("  {label}: {what}"),
            None => {}
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
