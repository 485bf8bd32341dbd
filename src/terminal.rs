//! stderr, shared by log lines and `apply`'s progress bar: while a bar is
//! drawn, a log line is printed above it (the bar is cleared, the line
//! written, the bar redrawn) instead of being torn through it.

use std::io::Write;
use std::sync::Mutex;

use indicatif::ProgressBar;
use tracing_subscriber::fmt::MakeWriter;

static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn bar() -> Option<ProgressBar> {
    BAR.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Log lines go above `bar` until [`hide_bar`].
pub fn show_bar(bar: &ProgressBar) {
    *BAR.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar.clone());
}

/// Log lines go straight to stderr again.
pub fn hide_bar() {
    *BAR.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// The log writer: one buffered line per event, written when dropped.
pub struct Stderr;

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line(Vec::new())
    }
}

/// One log event's text.
pub struct Line(Vec<u8>);

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let write = || {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(&self.0);
            let _ = err.flush();
        };
        match bar() {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}
