//! The Lambda custom-runtime loop (`bootstrap`), on the official
//! `lambda_runtime` crate: one invocation at a time; failures of events that
//! came through API Gateway are answered with the 500-shaped response (so the
//! HTTP client sees the message), all other failures are reported to the
//! Runtime API's invocation error endpoint (so Lambda counts them, retries
//! asynchronous events and the caller sees `errorType`/`errorMessage`).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::invoke::{Invocation, Reply, Supervisor};
use crate::response::Ids;

/// Serves invocations until the Runtime API goes away.
pub async fn run(sup: Arc<Supervisor>) -> Result<(), lambda_runtime::Error> {
    let handler = service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let sup = sup.clone();
        async move {
            let ctx = event.context;
            let inv = Invocation {
                payload: event.payload.get().as_bytes().to_vec(),
                ids: Ids {
                    request_id: ctx.request_id.clone(),
                    log_group: ctx.env_config.log_group.clone(),
                    log_stream: ctx.env_config.log_stream.clone(),
                },
                deadline: SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(ctx.deadline)),
                function_name: ctx.env_config.function_name.clone(),
                memory_mb: ctx.env_config.memory.to_string(),
            };
            match sup.handle(inv).await {
                Reply::Success(v) => Ok::<Value, Diagnostic>(v),
                Reply::Failure {
                    response,
                    http: true,
                    ..
                } => Ok(response),
                Reply::Failure { kind, message, .. } => Err(Diagnostic {
                    error_type: kind.to_string(),
                    error_message: message,
                }),
            }
        }
    });
    lambda_runtime::run(handler).await
}

/// Tells the Runtime API that the function cannot start (`/runtime/init/error`).
pub async fn report_init_error(kind: &str, message: &str) {
    let body = serde_json::json!({"errorType": kind, "errorMessage": message}).to_string();
    let client = lambda_runtime_api_client::PooledClient::builder().build();
    let req = lambda_runtime_api_client::build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .body(lambda_runtime_api_client::body::Body::from(body));
    match req {
        Ok(req) => {
            if let Err(e) = client.call(req).await {
                tracing::error!(error = %e, "could not report the init error to the Runtime API");
            }
        }
        Err(e) => tracing::error!(error = %e, "could not build the init error request"),
    }
}
