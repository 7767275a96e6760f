//! The progress bar of the commands that open many records: records done, rate and time left,
//! on stderr. It appears only on a terminal, only once a run has lasted half a second, and never
//! with `--quiet`, so piped output, logs and tests see none of it.

use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run goes before its bar appears: a short run ends before anyone would look.
const SHOW_AFTER: Duration = Duration::from_millis(500);

/// `--quiet`, shared by every command that opens records.
#[derive(Clone, Copy, Debug, Default, clap::Args)]
pub(crate) struct ProgressArgs {
    /// No progress bar on stderr (there is one only on a terminal, for runs longer than half a
    /// second).
    #[arg(long, short)]
    quiet: bool,
}

/// A progress bar over records, shared by the threads that open them.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: ProgressBar,
    /// Whether the bar may be drawn at all (a terminal, no `--quiet`).
    wanted: bool,
    shown: AtomicBool,
    started: Instant,
}

impl Progress {
    /// A bar over `total` records (a spinner with a count when that is not known).
    pub(crate) fn new(args: ProgressArgs, total: Option<u64>) -> Self {
        let wanted = !args.quiet && io::stderr().is_terminal();
        let (bar, template) = match total {
            Some(total) => (
                ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden()),
                "{wide_bar} {human_pos}/{human_len} records, {per_sec}, {eta} left",
            ),
            None => (
                ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()),
                "{spinner} {human_pos} records, {per_sec}, {elapsed}",
            ),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        Self {
            bar,
            wanted,
            shown: AtomicBool::new(false),
            started: Instant::now(),
        }
    }

    /// One more record done (opened or not); from any thread.
    pub(crate) fn inc(&self) {
        self.bar.inc(1);
        if self.wanted
            && !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() >= SHOW_AFTER
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Runs `print` (which writes to stderr) with the bar out of the way.
    pub(crate) fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        self.bar.suspend(print)
    }

    /// Takes the bar off the screen, so the summary that follows stands alone.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
