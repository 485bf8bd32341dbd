//! API Gateway REST proxy events: the body (base64 when `isBase64Encoded`),
//! query parameters, and the event the body may carry.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{decode_b64, s3, Event, EventError, EventKind, Input, MAX_API_BODY};

pub fn parse(value: &Value, raw: String) -> Result<Event, EventError> {
    let flagged = match value.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(EventError::ApiGateway(
                "`isBase64Encoded` must be a boolean".into(),
            ))
        }
    };
    let body_text = match value.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(EventError::ApiGateway("`body` must be a string".into())),
    };
    // Base64 text is 4/3 of the bytes it holds: reject early, before decoding.
    let approx = if flagged {
        body_text.len() / 4 * 3
    } else {
        body_text.len()
    };
    if approx > MAX_API_BODY {
        return Err(EventError::BodyTooLarge {
            size: approx,
            limit: MAX_API_BODY,
        });
    }
    let body: Vec<u8> = if flagged {
        decode_b64(&body_text).map_err(|e| {
            EventError::ApiGateway(format!(
                "`isBase64Encoded` is true but the body is not base64 ({e})"
            ))
        })?
    } else {
        body_text.into_bytes()
    };
    let query_vars = query_vars(value)?;

    // A JSON body may carry a storage event (workflows through HTTP).
    let inner_json: Option<Value> = serde_json::from_slice(&body).ok();
    if let Some(Some(obj)) = inner_json.as_ref().map(s3::parse_records).transpose()? {
        return Ok(Event {
            kind: EventKind::ApiGateway,
            event_time: obj.event_time.clone(),
            input: Input::S3(obj),
            script: None,
            cmd_args: None,
            query_vars,
            raw,
        });
    }
    // SCAR's `scar invoke -db` sends files base64-encoded in a text body, and
    // faas-supervisor decodes any non-JSON body: keep that for SCAR clients.
    let input = if flagged || inner_json.is_some() || body.is_empty() {
        body
    } else {
        match std::str::from_utf8(&body).ok().map(decode_b64) {
            Some(Ok(decoded)) => decoded,
            _ => body,
        }
    };
    Ok(Event {
        kind: EventKind::ApiGateway,
        input: Input::Inline(input),
        script: None,
        cmd_args: None,
        query_vars,
        raw,
        event_time: None,
    })
}

fn query_vars(value: &Value) -> Result<BTreeMap<String, String>, EventError> {
    let mut vars = BTreeMap::new();
    let params = match value.get("queryStringParameters") {
        None | Some(Value::Null) => return Ok(vars),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(EventError::ApiGateway(
                "`queryStringParameters` must be an object".into(),
            ))
        }
    };
    for (name, v) in params {
        let v = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        // Only names a shell can read become variables.
        let valid_name =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name || v.contains('\0') {
            tracing::warn!(parameter = %name, "query parameter skipped: not usable as an environment variable");
            continue;
        }
        vars.insert(name.clone(), v);
    }
    Ok(vars)
}
