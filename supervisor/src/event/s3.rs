//! S3 (and MinIO) notification records: bucket, URL-decoded key, event time.

use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::EventError;

/// The object an S3 notification is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    /// `s3` for `aws:s3`, `minio` for `minio:s3`.
    pub provider: &'static str,
    pub bucket: String,
    /// The decoded key (`+` is a space, `%2B` a plus).
    pub key: String,
    pub event_time: Option<String>,
}

/// `Some(object)` for an S3/MinIO notification, `None` for any other shape.
pub fn parse_records(value: &Value) -> Result<Option<S3Object>, EventError> {
    let Some(records) = value.get("Records").and_then(Value::as_array) else {
        return Ok(None);
    };
    let Some(first) = records.first() else {
        return Ok(None);
    };
    let provider = match first.get("eventSource").and_then(Value::as_str) {
        Some("aws:s3") => "s3",
        Some("minio:s3") => "minio",
        _ => return Ok(None),
    };
    let s3 = first
        .get("s3")
        .ok_or_else(|| EventError::S3("Records[0].s3 is missing".into()))?;
    let bucket = s3
        .pointer("/bucket/name")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty())
        .ok_or_else(|| EventError::S3("Records[0].s3.bucket.name is missing".into()))?;
    let raw_key = s3
        .pointer("/object/key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| EventError::S3("Records[0].s3.object.key is missing".into()))?;
    let key = decode_key(raw_key)?;
    let event_time = first
        .get("eventTime")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Some(S3Object {
        provider,
        bucket: bucket.to_string(),
        key,
        event_time,
    }))
}

/// Decodes a notification key as Python's `unquote_plus` does, and rejects
/// what no S3 key can hold.
pub fn decode_key(raw: &str) -> Result<String, EventError> {
    let spaced = raw.replace('+', " ");
    let key = percent_decode_str(&spaced)
        .decode_utf8()
        .map_err(|_| EventError::S3(format!("object key {raw:?} is not UTF-8 once decoded")))?
        .into_owned();
    if key.contains('\0') {
        return Err(EventError::S3(format!(
            "object key {raw:?} contains a NUL byte"
        )));
    }
    if key.len() > 1024 {
        return Err(EventError::S3(format!(
            "object key is {} bytes, over S3's 1024-byte limit",
            key.len()
        )));
    }
    Ok(key)
}
