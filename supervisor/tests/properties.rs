//! Properties over arbitrary input: event parsing never panics, and no
//! object key yields a file name that leaves the input folder.

use proptest::prelude::*;
use scar_supervisor::event;
use scar_supervisor::workspace::safe_file_name;

fn s3_event(key: &str) -> String {
    serde_json::json!({"Records": [{"eventSource": "aws:s3",
        "s3": {"bucket": {"name": "b"}, "object": {"key": key}}}]})
    .to_string()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = event::parse(&bytes);
    }

    #[test]
    fn parsing_arbitrary_json_shapes_never_panics(
        method in proptest::option::of("[A-Z]{0,6}"),
        body in proptest::option::of(".{0,64}"),
        b64 in proptest::option::of(any::<bool>()),
        key in ".{0,64}",
        script in proptest::option::of(".{0,32}"),
    ) {
        let mut v = serde_json::json!({"Records": [{"eventSource": "aws:s3",
            "s3": {"bucket": {"name": "b"}, "object": {"key": key}}}]});
        if let Some(m) = method { v["httpMethod"] = m.into(); }
        if let Some(b) = body { v["body"] = b.into(); }
        if let Some(f) = b64 { v["isBase64Encoded"] = f.into(); }
        if let Some(s) = script { v["script"] = s.into(); }
        let _ = event::parse(v.to_string().as_bytes());
    }

    #[test]
    fn every_key_gives_one_safe_component(key in "\\PC{0,300}|[./\\\\%+]{0,40}") {
        let name = safe_file_name(&key);
        prop_assert!(!name.is_empty());
        prop_assert!(!name.contains('/'));
        prop_assert!(!name.contains('\0'));
        prop_assert!(name != "." && name != "..");
        prop_assert!(name.len() <= 255);
        // Through the event path too: whatever the encoded key decodes to.
        let encoded: String = key.bytes().map(|b| format!("%{b:02X}")).collect();
        if let Ok(ev) = event::parse(s3_event(&encoded).as_bytes()) {
            if let event::Input::S3(obj) = ev.input {
                prop_assert_eq!(&obj.key, &key);
                let n = safe_file_name(&obj.key);
                prop_assert!(!n.contains('/') && n != ".." && n != ".");
            }
        }
    }
}
