//! Unit tests of event detection.

use super::*;

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn s3_key_is_unquoted_plus() {
    let ev = br#"{"Records":[{"eventSource":"aws:s3","eventTime":"2026-01-01T00:00:00Z","s3":{"bucket":{"name":"b"},"object":{"key":"in/my+file%2B1%C3%A9.txt"}}}]}"#;
    let e = parse(ev).unwrap();
    assert_eq!(e.kind, EventKind::S3);
    let Input::S3(o) = e.input else { panic!() };
    assert_eq!(o.key, "in/my file+1é.txt");
    assert_eq!(o.bucket, "b");
    assert_eq!(e.event_time.as_deref(), Some("2026-01-01T00:00:00Z"));
}

#[test]
fn s3_without_event_time_is_accepted() {
    // SCAR's own `scar run` template has no eventTime (inventory D7).
    let ev = br#"{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}"#;
    assert_eq!(parse(ev).unwrap().event_time, None);
}

#[test]
fn malformed_s3_events_are_errors() {
    for ev in [
        &br#"{"Records":[{"eventSource":"aws:s3"}]}"#[..],
        br#"{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{}}}]}"#,
        br#"{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{},"object":{"key":"k"}}}]}"#,
        br#"{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"a%00b"}}}]}"#,
        br#"{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"%FF"}}}]}"#,
    ] {
        assert!(matches!(parse(ev), Err(EventError::S3(_))), "{}", String::from_utf8_lossy(ev));
    }
}

#[test]
fn api_gateway_base64_body_and_query() {
    let ev = serde_json::json!({
        "httpMethod": "POST", "isBase64Encoded": true, "body": b64(b"\x00\x01binary"),
        "queryStringParameters": {"size": "10", "bad-name": "x"}
    });
    let e = parse(ev.to_string().as_bytes()).unwrap();
    assert_eq!(e.kind, EventKind::ApiGateway);
    assert_eq!(e.input, Input::Inline(b"\x00\x01binary".to_vec()));
    assert_eq!(e.query_vars.get("size").map(String::as_str), Some("10"));
    assert!(!e.query_vars.contains_key("bad-name"));
}

#[test]
fn api_gateway_scar_style_text_base64_and_json_bodies() {
    // `scar invoke -db` sends base64 text without the flag.
    let ev = serde_json::json!({"httpMethod": "POST", "body": b64(b"hello")});
    assert_eq!(
        parse(ev.to_string().as_bytes()).unwrap().input,
        Input::Inline(b"hello".to_vec())
    );
    // A JSON body is kept as is.
    let ev = serde_json::json!({"httpMethod": "POST", "body": "{\"a\":1}"});
    assert_eq!(
        parse(ev.to_string().as_bytes()).unwrap().input,
        Input::Inline(b"{\"a\":1}".to_vec())
    );
    // A JSON body holding an S3 event downloads that object.
    let inner = r#"{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}"#;
    let ev = serde_json::json!({"httpMethod": "POST", "body": inner});
    assert!(matches!(
        parse(ev.to_string().as_bytes()).unwrap().input,
        Input::S3(_)
    ));
}

#[test]
fn api_gateway_bad_shapes() {
    let big = "a".repeat(MAX_API_BODY + 8);
    let ev = serde_json::json!({"httpMethod": "POST", "body": big});
    assert!(matches!(
        parse(ev.to_string().as_bytes()),
        Err(EventError::BodyTooLarge { .. })
    ));
    let ev = serde_json::json!({"httpMethod": "POST", "isBase64Encoded": true, "body": "***"});
    assert!(matches!(
        parse(ev.to_string().as_bytes()),
        Err(EventError::ApiGateway(_))
    ));
    let ev = serde_json::json!({"httpMethod": "POST", "body": 12});
    assert!(matches!(
        parse(ev.to_string().as_bytes()),
        Err(EventError::ApiGateway(_))
    ));
}

#[test]
fn direct_invocations() {
    let ev = serde_json::json!({"script": b64(b"echo hi")});
    let e = parse(ev.to_string().as_bytes()).unwrap();
    assert_eq!(e.kind, EventKind::Direct);
    assert_eq!(e.script.as_deref(), Some(&b"echo hi"[..]));
    let ev = serde_json::json!({"cmd_args": "[\"echo\", \"a b\"]"});
    assert_eq!(
        parse(ev.to_string().as_bytes()).unwrap().cmd_args.unwrap(),
        vec!["echo", "a b"]
    );
    let ev = serde_json::json!({"cmd_args": ["ls"]});
    assert_eq!(
        parse(ev.to_string().as_bytes()).unwrap().cmd_args.unwrap(),
        vec!["ls"]
    );
    for bad in [
        serde_json::json!({"script": 3}),
        serde_json::json!({"script": "!!"}),
        serde_json::json!({"cmd_args": "not json"}),
        serde_json::json!({"cmd_args": [1, 2]}),
        serde_json::json!({"cmd_args": []}),
    ] {
        assert!(
            matches!(
                parse(bad.to_string().as_bytes()),
                Err(EventError::Direct(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn anything_else_is_saved() {
    let e = parse(b"not json at all").unwrap();
    assert_eq!(e.kind, EventKind::Unknown);
    assert_eq!(e.input, Input::Inline(b"not json at all".to_vec()));
    let e = parse(br#"{"Records":[{"eventSource":"aws:sqs"}]}"#).unwrap();
    assert_eq!(e.kind, EventKind::Unknown);
    let e = parse(b"[1,2]").unwrap();
    assert_eq!(e.kind, EventKind::Unknown);
}
