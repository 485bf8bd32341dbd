//! The event of a local invocation: a JSON document from a file or stdin,
//! or the S3 `ObjectCreated:Put` notification S3 would send for an object
//! (`--s3 s3://bucket/key`).

use std::time::SystemTime;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

/// Why an event could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("`{given}` is not an S3 object URI\nhint: write it as s3://BUCKET/KEY")]
    BadUri { given: String },
    #[error("the event from {from} is not JSON: {source}\nhint: Lambda events are JSON documents; give `{{}}` for an empty one")]
    NotJson {
        from: String,
        #[source]
        source: serde_json::Error,
    },
}

/// `s3://bucket/key` as (bucket, key); the key as given (not encoded).
pub fn parse_s3_uri(uri: &str) -> Result<(String, String), EventError> {
    let bad = || EventError::BadUri {
        given: uri.to_string(),
    };
    let rest = uri.strip_prefix("s3://").ok_or_else(bad)?;
    let (bucket, key) = rest.split_once('/').ok_or_else(bad)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(bad());
    }
    Ok((bucket.to_string(), key.to_string()))
}

/// What S3 leaves unencoded in an event's object key (besides letters
/// and digits); a space becomes `+`, as in a form.
const KEY_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*')
    .remove(b'/')
    .remove(b' ');

/// An object key as S3 writes it in event notifications (URL-encoded,
/// spaces as `+`).
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY_SET)
        .to_string()
        .replace(' ', "+")
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` of a time (UTC).
fn iso8601(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// The notification S3 sends a function when `key` is put in `bucket`
/// (one record, event version 2.1). Size and ETag are left out: the
/// object is not read to make the event, and the supervisor needs only
/// the bucket and key.
pub fn s3_put_event(bucket: &str, key: &str, region: &str, at: SystemTime) -> Value {
    let stamp = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": iso8601(at),
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "scar-local"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": "scar-local",
            "x-amz-id-2": "scar-local"
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "scar-local-invoke",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "scar-local"},
                "arn": format!("arn:aws:s3:::{bucket}")
            },
            "object": {
                "key": encode_key(key),
                "sequencer": format!("{stamp:016X}")
            }
        }
    }]})
}

/// `bytes` checked to be one JSON document (`from` names where they came
/// from in the error).
pub fn json_event(bytes: Vec<u8>, from: &str) -> Result<Vec<u8>, EventError> {
    serde_json::from_slice::<Value>(&bytes).map_err(|source| EventError::NotJson {
        from: from.to_string(),
        source,
    })?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_split_into_bucket_and_key_and_bad_ones_say_how() {
        assert_eq!(
            parse_s3_uri("s3://in/photos/a b.txt").unwrap(),
            ("in".into(), "photos/a b.txt".into())
        );
        for bad in [
            "in/key",
            "s3://in",
            "s3://in/",
            "s3:///key",
            "https://in/key",
        ] {
            let e = parse_s3_uri(bad).unwrap_err().to_string();
            assert!(e.contains("s3://BUCKET/KEY"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_put_event_encodes_the_key_as_s3_does() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_764_590_400_123);
        let e = s3_put_event("in", "photos/a b+c%.txt", "eu-west-1", at);
        let r = &e["Records"][0];
        assert_eq!(r["s3"]["object"]["key"], "photos/a+b%2Bc%25.txt");
        assert_eq!(r["s3"]["bucket"]["name"], "in");
        assert_eq!(r["s3"]["bucket"]["arn"], "arn:aws:s3:::in");
        assert_eq!(r["eventName"], "ObjectCreated:Put");
        assert_eq!(r["awsRegion"], "eu-west-1");
        assert_eq!(r["eventTime"], "2025-12-01T12:00:00.123Z");
    }

    #[test]
    fn events_must_be_json() {
        assert!(json_event(b"{\"a\": 1}".to_vec(), "x").is_ok());
        let e = json_event(b"not json".to_vec(), "`ev.txt`").unwrap_err();
        assert!(e.to_string().contains("`ev.txt`"), "{e}");
    }
}
