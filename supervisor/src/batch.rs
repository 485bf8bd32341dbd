//! Delegation to AWS Batch: `SubmitJob` with the event, the inline script
//! and the Lambda context in the container environment, on the job queue and
//! job definition the config names (SCAR's default: the function name).

use aws_sdk_batch::error::DisplayErrorContext;
use aws_sdk_batch::types::{ContainerOverrides, KeyValuePair, NodeOverrides, NodePropertyOverride};
use base64::Engine as _;

use crate::config::FunctionConfig;

/// A submitted job.
#[derive(Debug, Clone)]
pub struct SubmittedJob {
    pub job_id: String,
    pub job_name: String,
    pub job_queue: String,
    pub job_definition: String,
}

/// Why the job could not be submitted.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("Batch delegation needs the function `name` (or batch.job_queue and batch.job_definition) in the config")]
    NoNames,
    #[error("the event is {0} bytes, too large to pass to a Batch job (limit {MAX_EVENT_BYTES})")]
    EventTooLarge(usize),
    #[error("SubmitJob to queue {queue} failed: {detail}")]
    Submit { queue: String, detail: String },
}

/// SubmitJob's whole request must stay under 30 KiB.
pub const MAX_EVENT_BYTES: usize = 24 * 1024;

/// The Lambda context passed on as env `CONTEXT`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct JobContext {
    pub function_name: String,
    pub memory_limit_in_mb: String,
    pub aws_request_id: String,
    pub log_group_name: String,
    pub log_stream_name: String,
}

/// Submits the event to Batch.
pub async fn submit(
    client: &aws_sdk_batch::Client,
    config: &FunctionConfig,
    raw_event: &str,
    script: Option<&[u8]>,
    context: &JobContext,
) -> Result<SubmittedJob, BatchError> {
    if raw_event.len() > MAX_EVENT_BYTES {
        return Err(BatchError::EventTooLarge(raw_event.len()));
    }
    let name = config.name.clone().filter(|n| !n.is_empty());
    let job_queue = config
        .batch
        .job_queue
        .clone()
        .or_else(|| name.clone())
        .ok_or(BatchError::NoNames)?;
    let job_definition = config
        .batch
        .job_definition
        .clone()
        .or_else(|| name.clone())
        .ok_or(BatchError::NoNames)?;
    let job_name = job_name(name.as_deref().unwrap_or(&job_definition));

    let mut env = vec![
        kv("EVENT", raw_event),
        kv(
            "CONTEXT",
            &serde_json::to_string(context).unwrap_or_default(),
        ),
        kv("AWS_LAMBDA_REQUEST_ID", &context.aws_request_id),
    ];
    if let Some(script) = script {
        env.push(kv(
            "SCRIPT",
            &base64::engine::general_purpose::STANDARD.encode(script),
        ));
    }
    let overrides = ContainerOverrides::builder()
        .set_environment(Some(env))
        .build();
    let mut req = client
        .submit_job()
        .job_name(&job_name)
        .job_queue(&job_queue)
        .job_definition(&job_definition);
    req = if config.batch.multi_node_parallel.enabled {
        req.node_overrides(
            NodeOverrides::builder()
                .node_property_overrides(
                    NodePropertyOverride::builder()
                        .target_nodes("0:")
                        .container_overrides(overrides)
                        .build(),
                )
                .build(),
        )
    } else {
        req.container_overrides(overrides)
    };
    let out = req.send().await.map_err(|e| BatchError::Submit {
        queue: job_queue.clone(),
        detail: DisplayErrorContext(&e).to_string(),
    })?;
    Ok(SubmittedJob {
        job_id: out.job_id().unwrap_or_default().to_string(),
        job_name,
        job_queue,
        job_definition,
    })
}

fn kv(name: &str, value: &str) -> KeyValuePair {
    KeyValuePair::builder().name(name).value(value).build()
}

/// Batch job names: letters, digits, `-` and `_`, at most 128, starting with a letter or digit.
fn job_name(base: &str) -> String {
    let mut name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(128)
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        name.insert(0, 'j');
        name.truncate(128);
    }
    name
}

#[cfg(test)]
mod tests {
    #[test]
    fn job_names_are_valid() {
        assert_eq!(super::job_name("scar-ffmpeg"), "scar-ffmpeg");
        assert_eq!(super::job_name("_a.b c"), "j_a-b-c");
        assert_eq!(super::job_name(&"x".repeat(300)).len(), 128);
    }
}
