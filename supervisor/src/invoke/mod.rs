//! One invocation, start to end: parse the event, (in Lambda with
//! `execution_mode: batch`) hand it to Batch, else stage the input, run the
//! program, upload the outputs and build the response. The temporary folder
//! is removed on every path, success or failure.

mod env;
mod error;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};
use tracing::Instrument as _;

use crate::batch::{self, JobContext};
use crate::config::{ExecutionMode, LoadedConfig};
use crate::event::{self, Event, EventKind, Input};
use crate::outputs;
use crate::response::{self, Ids, MAX_BODY_BYTES};
use crate::script::{self, Exit, Program, RunSpec};
use crate::storage::{self, Storage};
use crate::workspace::Workspace;

pub use error::{tail_of, InvocationError};

/// Long-lived state shared by all invocations of one process.
pub struct Supervisor {
    pub config: LoadedConfig,
    pub storage: Storage,
    pub batch: aws_sdk_batch::Client,
    /// Env `SCRIPT` (base64), as Batch jobs receive the script.
    pub env_script: Option<Vec<u8>>,
    /// Where per-invocation folders go (the system temp dir).
    pub tmp_parent: PathBuf,
    /// Running under the Lambda Runtime API (enables Batch delegation).
    pub in_lambda: bool,
    /// Env `TIMEOUT_THRESHOLD`, which wins over `container.timeout_threshold`.
    pub timeout_threshold_env: Option<String>,
    /// Files above this size are uploaded in parts.
    pub multipart_threshold: u64,
}

/// One request.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub payload: Vec<u8>,
    pub ids: Ids,
    /// When the invocation must be over (Lambda's deadline), if any.
    pub deadline: Option<SystemTime>,
    pub function_name: String,
    pub memory_mb: String,
}

/// What the invocation produced.
#[derive(Debug)]
pub enum Reply {
    Success(Value),
    Failure {
        kind: &'static str,
        message: String,
        /// The 500-shaped response.
        response: Value,
        /// The event came through API Gateway (the caller is an HTTP client).
        http: bool,
    },
}

impl Supervisor {
    /// Handles one invocation inside a span carrying its request id.
    pub async fn handle(&self, inv: Invocation) -> Reply {
        let span = tracing::info_span!("invocation", request_id = %inv.ids.request_id);
        Box::pin(self.handle_inner(inv).instrument(span)).await
    }

    async fn handle_inner(&self, inv: Invocation) -> Reply {
        let started = std::time::Instant::now();
        tracing::debug!(bytes = inv.payload.len(), "event received");
        let parsed = event::parse(&inv.payload);
        let http = matches!(&parsed, Ok(e) if e.kind == EventKind::ApiGateway)
            || (parsed.is_err() && looks_like_api_gateway(&inv.payload));
        let result = match parsed {
            Ok(ev) => self.process(&inv, ev).await,
            Err(e) => Err(InvocationError::Event(e)),
        };
        match result {
            Ok(resp) => {
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "invocation succeeded"
                );
                Reply::Success(resp)
            }
            Err(err) => {
                let message = err.chain();
                let kind = err.kind();
                tracing::error!(
                    error_type = kind,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "invocation failed: {message}"
                );
                Reply::Failure {
                    kind,
                    response: response::error(&inv.ids, kind, &message),
                    message,
                    http,
                }
            }
        }
    }

    async fn process(&self, inv: &Invocation, ev: Event) -> Result<Value, InvocationError> {
        tracing::info!(kind = ?ev.kind, "event parsed");
        let config = &self.config.config;
        if self.in_lambda && config.execution_mode == ExecutionMode::Batch {
            return self.delegate(inv, &ev).await;
        }
        let ws =
            Workspace::create(&self.tmp_parent).map_err(|source| InvocationError::Workspace {
                parent: self.tmp_parent.clone(),
                source,
            })?;
        let root = ws.root().to_path_buf();
        let result = Box::pin(self.run_in(inv, &ev, &ws)).await;
        if let Err(e) = ws.remove() {
            tracing::warn!(folder = %root.display(), error = %e, "could not remove the invocation's temporary folder");
        }
        result
    }

    async fn run_in(
        &self,
        inv: &Invocation,
        ev: &Event,
        ws: &Workspace,
    ) -> Result<Value, InvocationError> {
        let config = &self.config.config;
        // What to run is settled first: a function with nothing to run
        // fails before it downloads anything.
        let program = self.program(ev, ws)?;
        let input_path = if config.file_stage_in {
            tracing::info!("file_stage_in is true: the input is not downloaded");
            None
        } else {
            Some(self.stage_input(ev, ws).await?)
        };
        let env = env::script_env(self, inv, ev, ws, input_path.as_deref());
        let deadline = self.script_deadline(inv);
        let budget = deadline.map(|d| d.saturating_duration_since(tokio::time::Instant::now()));
        tracing::info!(program = %program.describe(), "running the script");
        let outcome = script::run(RunSpec {
            program,
            env,
            cwd: ws.root().to_path_buf(),
            deadline,
            capture_limit: MAX_BODY_BYTES + 1,
        })
        .await?;
        tracing::info!(exit = ?outcome.exit, elapsed_ms = outcome.elapsed.as_millis() as u64, "the script ended");
        match outcome.exit {
            Exit::Code(0) => {}
            Exit::TimedOut => {
                if self.in_lambda && config.execution_mode == ExecutionMode::LambdaBatch {
                    tracing::warn!("the script ran out of time: delegating the event to AWS Batch");
                    return self.delegate(inv, ev).await;
                }
                return Err(InvocationError::Timeout {
                    seconds: budget.unwrap_or_default().as_secs_f64(),
                });
            }
            Exit::Code(code) => {
                return Err(InvocationError::ScriptFailed {
                    code,
                    tail: tail_of(&outcome.output),
                })
            }
            Exit::Signal(signal) => {
                return Err(InvocationError::ScriptKilled {
                    signal,
                    tail: tail_of(&outcome.output),
                })
            }
        }
        let mut body = outcome.output;
        if outcome.truncated || body.len() > MAX_BODY_BYTES {
            if self.in_lambda {
                return Err(InvocationError::ResponseTooLarge {
                    limit: MAX_BODY_BYTES,
                });
            }
            tracing::warn!(
                limit = MAX_BODY_BYTES,
                "the script's output is cut to the response limit"
            );
            body.truncate(MAX_BODY_BYTES);
        }
        let files = outputs::collect_files(ws.output_dir()).map_err(InvocationError::Upload)?;
        let planned = outputs::plan(&files, &config.output);
        tracing::info!(
            files = files.len(),
            uploads = planned.len(),
            "uploading outputs"
        );
        outputs::upload_all(&self.storage, planned, self.multipart_threshold)
            .await
            .map_err(InvocationError::Upload)?;
        Ok(response::success(&inv.ids, &body))
    }

    async fn stage_input(&self, ev: &Event, ws: &Workspace) -> Result<PathBuf, InvocationError> {
        match &ev.input {
            Input::S3(obj) => {
                let dest = ws.input_path_for(&obj.key);
                let client = self
                    .storage
                    .client(obj.provider)
                    .map_err(InvocationError::Input)?;
                let bytes = storage::download(&client, &obj.bucket, &obj.key, &dest)
                    .await
                    .map_err(InvocationError::Input)?;
                tracing::info!(bucket = %obj.bucket, key = %obj.key, bytes, "input downloaded");
                Ok(dest)
            }
            Input::Inline(bytes) => {
                let dest = ws.input_dir().join("event-file");
                std::fs::write(&dest, bytes).map_err(|source| InvocationError::InputWrite {
                    path: dest.clone(),
                    source,
                })?;
                Ok(dest)
            }
        }
    }

    /// The event's script or command, else env `SCRIPT`, else `init_script`.
    fn program(&self, ev: &Event, ws: &Workspace) -> Result<Program, InvocationError> {
        if let Some(args) = &ev.cmd_args {
            return Ok(Program::Command(args.clone()));
        }
        let inline = ev.script.as_ref().or(self.env_script.as_ref());
        if let Some(script) = inline {
            let path = ws.root().join("script.sh");
            std::fs::write(&path, script).map_err(|source| InvocationError::InputWrite {
                path: path.clone(),
                source,
            })?;
            return Ok(Program::Script(path));
        }
        let Some(init) = self
            .config
            .config
            .init_script
            .as_deref()
            .filter(|s| !s.is_empty())
        else {
            return Err(InvocationError::NoProgram);
        };
        let path = resolve(&self.config.base_dir, init);
        if !path.is_file() {
            return Err(InvocationError::ScriptMissing(path));
        }
        Ok(Program::Script(path))
    }

    fn script_deadline(&self, inv: &Invocation) -> Option<tokio::time::Instant> {
        let deadline = inv.deadline?;
        let threshold = Duration::from_secs(
            self.config
                .config
                .timeout_threshold(self.timeout_threshold_env.as_deref()),
        );
        let remaining = deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(threshold);
        // A deadline too far away to represent is no deadline.
        tokio::time::Instant::now().checked_add(remaining)
    }

    async fn delegate(&self, inv: &Invocation, ev: &Event) -> Result<Value, InvocationError> {
        let context = JobContext {
            function_name: inv.function_name.clone(),
            memory_limit_in_mb: inv.memory_mb.clone(),
            aws_request_id: inv.ids.request_id.clone(),
            log_group_name: inv.ids.log_group.clone(),
            log_stream_name: inv.ids.log_stream.clone(),
        };
        let job = batch::submit(
            &self.batch,
            &self.config.config,
            &ev.raw,
            ev.script.as_deref(),
            &context,
        )
        .await
        .map_err(InvocationError::Batch)?;
        tracing::info!(job_id = %job.job_id, job_queue = %job.job_queue, "event delegated to AWS Batch");
        let body = json!({
            "message": "Job delegated to AWS Batch",
            "batch_job_id": job.job_id,
            "job_name": job.job_name,
            "job_queue": job.job_queue,
            "job_definition": job.job_definition,
        });
        Ok(response::success(&inv.ids, body.to_string().as_bytes()))
    }
}

fn resolve(base: &Path, script: &str) -> PathBuf {
    let p = Path::new(script);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn looks_like_api_gateway(payload: &[u8]) -> bool {
    serde_json::from_slice::<Value>(payload)
        .map(|v| v.get("httpMethod").is_some())
        .unwrap_or(false)
}
