//! Reads the program's output (stdout and stderr share one pipe) line by
//! line, logs each line at INFO as it arrives, and keeps the bytes (up to a
//! limit) for the response.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument as _;

/// Longest line written to the log; the response keeps the whole line.
const MAX_LOG_LINE: usize = 16 * 1024;

pub struct Collector {
    task: JoinHandle<(Vec<u8>, bool)>,
    reader: JoinHandle<()>,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl Collector {
    pub fn start(output: impl AsyncRead + Unpin + Send + 'static, limit: usize) -> Collector {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let reader = tokio::spawn(read_lines(output, tx));
        let task = tokio::spawn(
            async move {
                let mut kept = Vec::new();
                let mut truncated = false;
                loop {
                    let line = tokio::select! {
                        line = rx.recv() => line,
                        _ = &mut stopped => None,
                    };
                    let Some(line) = line else { break };
                    log_line(&line);
                    let room = limit.saturating_sub(kept.len());
                    if line.len() > room {
                        truncated = true;
                        kept.extend_from_slice(&line[..room]);
                    } else {
                        kept.extend_from_slice(&line);
                    }
                }
                (kept, truncated)
            }
            .in_current_span(),
        );
        Collector { task, reader, stop }
    }

    /// Waits for the pipe to close (at most `grace`), then returns what was kept.
    pub async fn finish(self, grace: Duration) -> (Vec<u8>, bool) {
        let Collector {
            mut task,
            reader,
            stop,
        } = self;
        if let Ok(joined) = tokio::time::timeout(grace, &mut task).await {
            return joined.unwrap_or_default();
        }
        // A process that left the script's group still holds the pipe open:
        // keep what arrived and stop reading.
        tracing::warn!("the script's output stayed open after it ended (a process left its group)");
        reader.abort();
        let _ = stop.send(());
        task.await.unwrap_or_default()
    }
}

/// Longest piece sent as one "line": a program that never prints a newline
/// cannot make the supervisor buffer without bound.
const MAX_CHUNK: usize = 64 * 1024;

async fn read_lines(stream: impl AsyncRead + Unpin, tx: mpsc::Sender<Vec<u8>>) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        let buf = match reader.fill_buf().await {
            Ok([]) => break,
            Ok(b) => b,
            Err(_) => break,
        };
        let room = MAX_CHUNK - line.len();
        let (take, complete) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) if i < room => (i + 1, true),
            _ => (buf.len().min(room), buf.len() >= room),
        };
        line.extend_from_slice(&buf[..take]);
        reader.consume(take);
        if complete && tx.send(std::mem::take(&mut line)).await.is_err() {
            return;
        }
    }
    if !line.is_empty() {
        let _ = tx.send(line).await;
    }
}

fn log_line(line: &[u8]) {
    let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
    let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
    if trimmed.len() > MAX_LOG_LINE {
        let shown = String::from_utf8_lossy(&trimmed[..MAX_LOG_LINE]);
        tracing::info!(target: "script", "{shown}… ({} bytes in all)", trimmed.len());
    } else {
        tracing::info!(target: "script", "{}", String::from_utf8_lossy(trimmed));
    }
}
