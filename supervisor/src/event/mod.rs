//! Invocation events: S3 notifications, API Gateway REST proxy events, direct
//! invocations (`{"script": base64}`, `{"cmd_args": [...]}`) and anything else,
//! detected in faas-supervisor's order. Parsing is pure and never panics:
//! every malformed shape becomes an [`EventError`].

mod apigw;
mod s3;

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

pub use s3::S3Object;

/// Largest request body accepted from API Gateway (its own payload limit).
pub const MAX_API_BODY: usize = 10 * 1024 * 1024;

/// What kind of event started the invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    S3,
    ApiGateway,
    Direct,
    Unknown,
}

/// Where the input file comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// An object to download.
    S3(S3Object),
    /// Bytes carried by the event itself, saved as the input file.
    Inline(Vec<u8>),
}

/// A parsed event.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub input: Input,
    /// A script sent with a direct invocation (decoded).
    pub script: Option<Vec<u8>>,
    /// A command sent with a direct invocation.
    pub cmd_args: Option<Vec<String>>,
    /// API Gateway query-string parameters, exported as `CONT_VAR_<name>`.
    pub query_vars: BTreeMap<String, String>,
    /// The raw event, as JSON text when it was JSON.
    pub raw: String,
    /// `eventTime` of a storage event.
    pub event_time: Option<String>,
}

/// A malformed event.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("malformed S3 event: {0}")]
    S3(String),
    #[error("malformed API Gateway event: {0}")]
    ApiGateway(String),
    #[error("the API Gateway request body is {size} bytes, over the {limit}-byte limit")]
    BodyTooLarge { size: usize, limit: usize },
    #[error("malformed direct invocation: {0}")]
    Direct(String),
}

/// Parses the raw invocation payload.
pub fn parse(raw: &[u8]) -> Result<Event, EventError> {
    let text = String::from_utf8_lossy(raw).into_owned();
    let value: Value = match serde_json::from_slice(raw) {
        Ok(v) => v,
        Err(_) => return Ok(unknown(raw.to_vec(), text)),
    };
    if value.get("httpMethod").is_some() {
        return apigw::parse(&value, text);
    }
    if let Some(obj) = s3::parse_records(&value)? {
        return Ok(Event {
            kind: EventKind::S3,
            event_time: obj.event_time.clone(),
            input: Input::S3(obj),
            script: None,
            cmd_args: None,
            query_vars: BTreeMap::new(),
            raw: text,
        });
    }
    if let Some(event) = parse_direct(&value, &text)? {
        return Ok(event);
    }
    Ok(unknown(text.clone().into_bytes(), text))
}

fn unknown(bytes: Vec<u8>, raw: String) -> Event {
    Event {
        kind: EventKind::Unknown,
        input: Input::Inline(bytes),
        script: None,
        cmd_args: None,
        query_vars: BTreeMap::new(),
        raw,
        event_time: None,
    }
}

/// `{"script": base64}` and/or `{"cmd_args": [..] | "<json list>"}`.
fn parse_direct(value: &Value, text: &str) -> Result<Option<Event>, EventError> {
    let Some(obj) = value.as_object() else {
        return Ok(None);
    };
    let script = match obj.get("script") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            decode_b64(s)
                .map_err(|e| EventError::Direct(format!("`script` is not valid base64 ({e})")))?,
        ),
        Some(_) => {
            return Err(EventError::Direct(
                "`script` must be a base64 string".into(),
            ))
        }
    };
    let cmd_args = match obj.get("cmd_args") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_cmd_args(v)?),
    };
    if script.is_none() && cmd_args.is_none() {
        return Ok(None);
    }
    Ok(Some(Event {
        kind: EventKind::Direct,
        input: Input::Inline(text.as_bytes().to_vec()),
        script,
        cmd_args,
        query_vars: BTreeMap::new(),
        raw: text.to_string(),
        event_time: None,
    }))
}

fn parse_cmd_args(v: &Value) -> Result<Vec<String>, EventError> {
    // SCAR sends a JSON-encoded list inside a string.
    let list = match v {
        Value::String(s) => serde_json::from_str::<Value>(s).map_err(|_| {
            EventError::Direct("`cmd_args` string is not a JSON list of strings".into())
        })?,
        other => other.clone(),
    };
    let items = list
        .as_array()
        .ok_or_else(|| EventError::Direct("`cmd_args` must be a list of strings".into()))?;
    let args: Vec<String> = items
        .iter()
        .map(|i| i.as_str().map(str::to_string))
        .collect::<Option<_>>()
        .ok_or_else(|| EventError::Direct("`cmd_args` must be a list of strings".into()))?;
    if args.is_empty() {
        return Err(EventError::Direct("`cmd_args` is empty".into()));
    }
    if args.iter().any(|a| a.contains('\0')) {
        return Err(EventError::Direct("`cmd_args` contains a NUL byte".into()));
    }
    Ok(args)
}

pub fn decode_b64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let cleaned: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(cleaned)
}

#[cfg(test)]
mod tests;
