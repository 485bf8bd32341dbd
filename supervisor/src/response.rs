//! API-Gateway-proxy-shaped responses, as faas-supervisor returns them:
//! `statusCode`, `amz-*` headers, and a base64 body (the script's output on
//! success, `{"exception": "<message>"}` on failure).

use base64::Engine as _;
use serde_json::{json, Value};

/// Lambda's limit for a synchronous response payload.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// The largest script output that still fits in a response once base64-encoded.
pub const MAX_BODY_BYTES: usize = (MAX_RESPONSE_BYTES - 2048) / 4 * 3;

/// Identifies the invocation in response headers.
#[derive(Debug, Clone, Default)]
pub struct Ids {
    pub request_id: String,
    pub log_group: String,
    pub log_stream: String,
}

fn headers(ids: &Ids) -> Value {
    json!({
        "amz-lambda-request-id": ids.request_id,
        "amz-log-group-name": ids.log_group,
        "amz-log-stream-name": ids.log_stream,
    })
}

/// A 200 response whose body is `body` (base64-encoded).
pub fn success(ids: &Ids, body: &[u8]) -> Value {
    json!({
        "statusCode": 200,
        "headers": headers(ids),
        "body": base64::engine::general_purpose::STANDARD.encode(body),
        "isBase64Encoded": true,
    })
}

/// A 500 response carrying `{"exception": message, "error_type": kind}`.
pub fn error(ids: &Ids, kind: &str, message: &str) -> Value {
    let body = json!({"exception": message, "error_type": kind}).to_string();
    json!({
        "statusCode": 500,
        "headers": headers(ids),
        "body": base64::engine::general_purpose::STANDARD.encode(body),
        "isBase64Encoded": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_body_fits() {
        let ids = Ids {
            request_id: "r".repeat(64),
            log_group: "g".repeat(512),
            log_stream: "s".repeat(512),
        };
        let r = success(&ids, &vec![0u8; MAX_BODY_BYTES]);
        assert!(r.to_string().len() <= MAX_RESPONSE_BYTES);
    }
}
