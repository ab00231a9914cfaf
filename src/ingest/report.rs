//! Messages and progress on standard error during an ingest.
//!
//! Object errors are always printed, even under `--quiet`; warnings and the
//! progress bar are not. The bar is drawn only when standard error is a
//! terminal. Every message is escaped for the terminal, because file names
//! and parser messages can carry text from the evidence.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::render::escape_for_terminal;
use crate::source::s3::S3Counters;

/// Most problems printed for one object; the rest are counted.
pub const MAX_PROBLEMS_SHOWN: usize = 5;

/// Prints ingest messages and drives the progress bar.
pub struct Reporter {
    bar: Option<ProgressBar>,
    quiet: bool,
    /// Counters of the S3 source, shown on the bar when an input is in S3.
    s3: OnceLock<Arc<S3Counters>>,
}

impl Reporter {
    /// Creates a reporter. The bar appears only when `quiet` is false and
    /// standard error is a terminal.
    pub fn new(quiet: bool) -> Reporter {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(8));
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} objects, {msg} ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Reporter {
            bar,
            quiet,
            s3: OnceLock::new(),
        }
    }

    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Sets the number of objects the bar counts towards.
    pub fn set_total(&self, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }

    /// Shows what the run is doing before objects are counted, such as
    /// listing a bucket.
    pub fn stage(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(escape_for_terminal(message).into_owned());
        }
    }

    /// Shows the S3 fetch counts on the bar from now on.
    pub fn watch_s3(&self, counters: Arc<S3Counters>) {
        let _ = self.s3.set(counters);
    }

    /// Advances the bar by one object and shows the running record count.
    pub fn object_done(&self, records: u64, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            let mut message = format!("{records} records, {}", human_bytes(bytes));
            if let Some(counters) = self.s3.get() {
                let totals = counters.totals();
                message.push_str(&format!(
                    ", {} of {} listed objects fetched ({}), {} retries",
                    totals.fetched_objects,
                    totals.listed_objects,
                    human_bytes(totals.fetched_bytes),
                    totals.retries
                ));
            }
            bar.set_message(message);
        }
    }

    /// Prints an error about one object or path. Never hidden.
    pub fn error(&self, uri: &str, reason: &str) {
        self.print(&format!("trailhound: error: {uri}: {reason}"));
    }

    /// Prints a warning about one object. Hidden under `--quiet`.
    pub fn warn(&self, uri: &str, reason: &str) {
        if !self.quiet {
            self.print(&format!("trailhound: warning: {uri}: {reason}"));
        }
    }

    /// Prints a line that is not about one object (the summary). Hidden under
    /// `--quiet`.
    pub fn info(&self, line: &str) {
        if !self.quiet {
            self.print(line);
        }
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn print(&self, line: &str) {
        let line = escape_for_terminal(line);
        // A closed standard error (`2>&1 | head`) must not stop the ingest,
        // so write errors are ignored rather than panicking as eprintln! does.
        let write = || {
            let _ = writeln!(std::io::stderr(), "{line}");
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

/// Formats a byte count with a binary unit, e.g. `3.7 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_picks_unit() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
