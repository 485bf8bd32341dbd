//! Command mode (Batch jobs, local runs): one event from `--event <file>`
//! (`-` for stdin), else env `EVENT`, else stdin; the response is printed to
//! stdout as JSON and the exit status is 0 on success, 1 on failure.

use std::io::Read as _;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use crate::invoke::{Invocation, Reply, Supervisor};
use crate::response::Ids;

/// Where the event comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSource {
    File(std::path::PathBuf),
    Stdin,
    /// `--event` not given: env `EVENT`, else stdin.
    Default,
}

/// Reads the event bytes.
pub fn read_event(source: &EventSource) -> std::io::Result<Vec<u8>> {
    match source {
        EventSource::File(p) => std::fs::read(p),
        EventSource::Stdin => read_stdin(),
        EventSource::Default => match std::env::var_os("EVENT") {
            Some(v) if !v.is_empty() => Ok(v.into_encoded_bytes()),
            _ => read_stdin(),
        },
    }
}

fn read_stdin() -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin().read_to_end(&mut buf)?;
    Ok(buf)
}

/// The request id: `AWS_LAMBDA_REQUEST_ID` (set on delegated Batch jobs),
/// else `AWS_BATCH_JOB_ID`, else a local one.
pub fn request_id() -> String {
    for var in ["AWS_LAMBDA_REQUEST_ID", "AWS_BATCH_JOB_ID"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return v;
            }
        }
    }
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("local-{}-{nanos:x}", std::process::id())
}

/// Handles one event and prints the response.
pub async fn run(sup: &Supervisor, payload: Vec<u8>) -> ExitCode {
    let timeout = std::env::var("SCAR_SUPERVISOR_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok());
    let inv = Invocation {
        payload,
        ids: Ids {
            request_id: request_id(),
            log_group: std::env::var("AWS_LAMBDA_LOG_GROUP_NAME").unwrap_or_default(),
            log_stream: std::env::var("AWS_LAMBDA_LOG_STREAM_NAME").unwrap_or_default(),
        },
        deadline: timeout
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .and_then(|d| SystemTime::now().checked_add(d)),
        function_name: sup.config.config.name.clone().unwrap_or_default(),
        memory_mb: String::new(),
    };
    match sup.handle(inv).await {
        Reply::Success(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Reply::Failure { response, .. } => {
            println!("{response}");
            ExitCode::FAILURE
        }
    }
}
