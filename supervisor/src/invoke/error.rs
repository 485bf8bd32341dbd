//! Everything that can make an invocation fail, each with a short kind
//! (reported as the Lambda `errorType` and in the error body) and a message
//! that says what happened and, where known, what to do.

use std::path::PathBuf;

use crate::batch::BatchError;
use crate::event::EventError;
use crate::outputs::UploadError;
use crate::script::SpawnError;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("cannot prepare the invocation's temporary folder under {}", parent.display())]
    Workspace {
        parent: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot stage the input")]
    Input(#[source] StorageError),
    #[error("cannot write the input file {}", path.display())]
    InputWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("init_script {} is not there; hint: ship it beside function_config.yaml or send {{\"script\": <base64>}}", .0.display())]
    ScriptMissing(PathBuf),
    #[error("nothing to run: set `init_script` in the function config, env SCRIPT, or send {{\"script\": <base64>}} or {{\"cmd_args\": [...]}}")]
    NoProgram,
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    #[error("the script exited with status {code}{tail}")]
    ScriptFailed { code: i32, tail: String },
    #[error("the script was killed by signal {signal}{tail}")]
    ScriptKilled { signal: i32, tail: String },
    #[error("the script did not finish within {seconds:.1} s (the remaining time minus timeout_threshold); it and its children were killed and no outputs were uploaded")]
    Timeout { seconds: f64 },
    #[error("the script printed more than {limit} bytes, which does not fit in a Lambda/API Gateway response; no outputs were uploaded. hint: write large results to $TMP_OUTPUT_DIR instead of stdout")]
    ResponseTooLarge { limit: usize },
    #[error("output upload failed")]
    Upload(#[source] UploadError),
    #[error("cannot delegate the event to AWS Batch")]
    Batch(#[source] BatchError),
}

impl InvocationError {
    /// A short, stable name for the failure.
    pub fn kind(&self) -> &'static str {
        match self {
            InvocationError::Event(EventError::BodyTooLarge { .. }) => "RequestTooLarge",
            InvocationError::Event(_) => "MalformedEvent",
            InvocationError::Workspace { .. } | InvocationError::InputWrite { .. } => "TempFolder",
            InvocationError::Input(StorageError::NotFound { .. }) => "InputNotFound",
            InvocationError::Input(StorageError::AccessDenied { .. }) => "InputAccessDenied",
            InvocationError::Input(_) => "InputDownload",
            InvocationError::ScriptMissing(_) | InvocationError::NoProgram => "NoScript",
            InvocationError::Spawn(_) => "ScriptStart",
            InvocationError::ScriptFailed { .. } | InvocationError::ScriptKilled { .. } => {
                "ScriptFailed"
            }
            InvocationError::Timeout { .. } => "ScriptTimeout",
            InvocationError::ResponseTooLarge { .. } => "ResponseTooLarge",
            InvocationError::Upload(_) => "OutputUpload",
            InvocationError::Batch(_) => "BatchDelegation",
        }
    }

    /// The message with its whole cause chain, on one line.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            let next = s.to_string();
            if !text.contains(&next) {
                text.push_str(": ");
                text.push_str(&next);
            }
            source = s.source();
        }
        text
    }
}

/// The last lines of the script's output, for error messages (at most ~1 KiB).
pub fn tail_of(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(5);
    let mut tail = lines[start..].join(" | ");
    if tail.len() > 1024 {
        let mut cut = tail.len() - 1024;
        while !tail.is_char_boundary(cut) {
            cut += 1;
        }
        tail = format!("…{}", &tail[cut..]);
    }
    if tail.is_empty() {
        String::new()
    } else {
        format!("; last output: {tail}")
    }
}
