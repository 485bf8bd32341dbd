//! The S3 event of an object, as S3 sends it to a function's trigger
//! (`ObjectCreated:Put`, event version 2.1), for `scar run --all-inputs`.
//! Every field AWS documents is there — `eventTime` among them, which
//! SCAR 4.x leaves out and faas-supervisor requires. Pure.

use std::time::SystemTime;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use crate::cloud::data::ObjectInfo;

/// What S3 leaves as it is in an event's object key: letters, digits,
/// `.-*_` and `/`; a space becomes `+`, the rest `%XX` of its UTF-8.
const KEY_KEEPS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'*')
    .remove(b'_')
    .remove(b'/');

/// An object key as an S3 event writes it (`red flower.jpg` →
/// `red+flower.jpg`).
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY_KEEPS)
        .to_string()
        .replace("%20", "+")
}

/// Where the event comes from.
#[derive(Clone, Debug)]
pub struct Origin<'a> {
    pub region: &'a str,
    pub account_id: &'a str,
    pub partition: &'a str,
    pub bucket: &'a str,
    /// The trigger's notification id (`configurationId`).
    pub configuration_id: &'a str,
}

/// The event S3 sends when `object` is put: its time is the object's
/// `LastModified` (`now` if the listing gave none).
pub fn object_created(origin: &Origin<'_>, object: &ObjectInfo, now: SystemTime) -> Value {
    let time = object.last_modified.unwrap_or(now);
    let hex = crate::hash::hex_sha256(format!("{}\n{}", object.key, object.etag).as_bytes())
        .to_uppercase();
    json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": origin.region,
            "eventTime": humantime::format_rfc3339_millis(time).to_string(),
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": format!("AWS:{}", origin.account_id)},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {
                "x-amz-request-id": &hex[..16],
                "x-amz-id-2": &hex[16..],
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": origin.configuration_id,
                "bucket": {
                    "name": origin.bucket,
                    "ownerIdentity": {"principalId": origin.account_id},
                    "arn": format!("arn:{}:s3:::{}", origin.partition, origin.bucket),
                },
                "object": {
                    "key": encode_key(&object.key),
                    "size": object.size,
                    "eTag": object.etag,
                    "sequencer": &hex[..18],
                },
            },
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn keys_are_encoded_as_s3_writes_them() {
        assert_eq!(encode_key("red flower.jpg"), "red+flower.jpg");
        assert_eq!(encode_key("in/a b/ü+x.txt"), "in/a+b/%C3%BC%2Bx.txt");
        assert_eq!(encode_key("a-b_c.d*e"), "a-b_c.d*e");
    }

    #[test]
    fn the_event_has_the_objects_time_and_every_documented_field() {
        let origin = Origin {
            region: "eu-west-1",
            account_id: "123456789012",
            partition: "aws",
            bucket: "photos",
            configuration_id: "scar-wf-f-in",
        };
        let object = ObjectInfo {
            key: "in/a b.jpg".into(),
            size: 7,
            etag: "abc".into(),
            last_modified: Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)),
        };
        let ev = object_created(&origin, &object, UNIX_EPOCH);
        let r = &ev["Records"][0];
        assert_eq!(r["eventTime"], "2023-11-14T22:13:20.123Z");
        assert_eq!(r["eventSource"], "aws:s3");
        assert_eq!(r["awsRegion"], "eu-west-1");
        assert_eq!(r["s3"]["bucket"]["arn"], "arn:aws:s3:::photos");
        assert_eq!(r["s3"]["object"]["key"], "in/a+b.jpg");
        assert_eq!(r["s3"]["object"]["size"], 7);
        assert_eq!(r["s3"]["configurationId"], "scar-wf-f-in");
        for path in [
            "/userIdentity/principalId",
            "/requestParameters/sourceIPAddress",
            "/responseElements/x-amz-request-id",
            "/s3/bucket/ownerIdentity/principalId",
            "/s3/object/sequencer",
        ] {
            assert!(r.pointer(path).is_some(), "{path}");
        }
        // Without a time from the listing, now.
        let mut no_time = object.clone();
        no_time.last_modified = None;
        let ev = object_created(&origin, &no_time, UNIX_EPOCH + Duration::from_secs(1));
        assert_eq!(ev["Records"][0]["eventTime"], "1970-01-01T00:00:01.000Z");
    }
}
