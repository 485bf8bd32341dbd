//! End-to-end runs of the supervisor binary (command mode) against the moto
//! emulator: an S3 event, an API Gateway event with a base64 body, a direct
//! invocation with an inline script, and a multipart upload.

mod common;

use common::*;

const CONFIG: &str = "\
name: upper
init_script: upper.sh
container:
  environment:
    Variables: {GREETING: hello, COUNT: 3}
input:
- storage_provider: s3
  path: data/in
output:
- storage_provider: s3
  path: data/out
- storage_provider: s3
  path: data/only-txt/
  suffix: [.txt]
- storage_provider: s3
  path: reports
  prefix: [logs/]
";

// Transforms the input and writes three outputs in different folders.
const UPPER: &str = r#"#!/bin/sh
set -e
name=$(basename "$INPUT_FILE_PATH")
tr 'a-z' 'A-Z' < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/${name%.*}.txt"
mkdir -p "$TMP_OUTPUT_DIR/logs"
echo "$GREETING $COUNT $STORAGE_OBJECT_KEY" > "$TMP_OUTPUT_DIR/logs/run.log"
printf 'raw' > "$TMP_OUTPUT_DIR/data.bin"
echo "processed $STORAGE_OBJECT_KEY"
"#;

#[test]
fn s3_event_runs_the_script_and_uploads_by_filter() {
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    let rt = runtime();
    rt.block_on(async {
        create_bucket(&s3c, "data").await;
        create_bucket(&s3c, "reports").await;
        put(&s3c, "data", "in/my photo+1.dat", b"hello world").await;
    });
    let f = Function::new(CONFIG).with_script("upper.sh", UPPER);
    // S3 encodes the space as `+` and the plus as `%2B`.
    let run = f.run(Some(&moto), &s3_event("data", "in/my+photo%2B1.dat"));
    run.assert_ok();
    assert_eq!(run.body_text(), "processed in/my photo+1.dat\n");
    assert_eq!(run.response["isBase64Encoded"], true);
    assert!(run.response["headers"]["amz-lambda-request-id"].is_string());

    rt.block_on(async {
        assert_eq!(
            keys(&s3c, "data").await,
            vec![
                "in/my photo+1.dat",
                "only-txt/my photo+1.txt",
                "out/data.bin",
                "out/logs/run.log",
                "out/my photo+1.txt",
            ]
        );
        assert_eq!(keys(&s3c, "reports").await, vec!["logs/run.log"]);
        assert_eq!(
            get(&s3c, "data", "out/my photo+1.txt").await,
            b"HELLO WORLD"
        );
        assert_eq!(
            get(&s3c, "reports", "logs/run.log").await,
            b"hello 3 in/my photo+1.dat\n"
        );
    });
    assert!(f.leftovers().is_empty(), "left behind: {:?}", f.leftovers());
    // The script's output is in the log at INFO, line by line.
    assert!(
        run.stderr.contains("processed in/my photo+1.dat"),
        "{}",
        run.stderr
    );
}

#[test]
fn api_gateway_event_with_base64_body() {
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    let rt = runtime();
    rt.block_on(create_bucket(&s3c, "api-out"));
    let f = Function::new(
        "name: api\ninit_script: echo.sh\noutput:\n- storage_provider: s3\n  path: api-out/results\n",
    )
    .with_script(
        "echo.sh",
        "cp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/request.bin\"\necho \"size=$CONT_VAR_size mode=$CONT_VAR_mode\"\n",
    );
    let body: Vec<u8> = (0u8..=255).chain(*b"tail").collect();
    let event = serde_json::json!({
        "resource": "/{proxy+}", "path": "/launch", "httpMethod": "POST",
        "headers": {"Content-Type": "application/octet-stream"},
        "queryStringParameters": {"size": "10", "mode": "fast"},
        "requestContext": {"stage": "scar"},
        "body": b64(&body), "isBase64Encoded": true
    });
    let run = f.run(Some(&moto), &event.to_string());
    run.assert_ok();
    assert_eq!(run.body_text(), "size=10 mode=fast\n");
    rt.block_on(async {
        assert_eq!(keys(&s3c, "api-out").await, vec!["results/request.bin"]);
        assert_eq!(get(&s3c, "api-out", "results/request.bin").await, body);
    });
    assert!(f.leftovers().is_empty());
}

#[test]
fn direct_invocation_with_inline_script() {
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    let rt = runtime();
    rt.block_on(create_bucket(&s3c, "direct"));
    // No init_script: the event carries the script (`scar run -s`).
    let f = Function::new("name: direct\noutput:\n- storage_provider: s3\n  path: direct\n");
    let script =
        "echo \"inline $REQUEST_ID\"\ncp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/event.json\"\n";
    let event = serde_json::json!({"script": b64(script.as_bytes()), "extra": 1}).to_string();
    let run = f.run_with(Some(&moto), &event, &[("AWS_LAMBDA_REQUEST_ID", "req-42")]);
    run.assert_ok();
    assert_eq!(run.body_text(), "inline req-42\n");
    let saved = rt.block_on(get(&s3c, "direct", "event.json"));
    let saved: serde_json::Value = serde_json::from_slice(&saved).unwrap();
    assert_eq!(saved["extra"], 1);

    // cmd_args runs a command directly (SCAR sends a JSON-encoded list).
    let event =
        serde_json::json!({"cmd_args": "[\"sh\", \"-c\", \"echo args: $0 $1\", \"a b\", \"c\"]"});
    let run = f.run(Some(&moto), &event.to_string());
    run.assert_ok();
    assert_eq!(run.body_text(), "args: a b c\n");
    assert!(f.leftovers().is_empty());
}

#[test]
fn large_outputs_go_multipart() {
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    let rt = runtime();
    rt.block_on(create_bucket(&s3c, "big"));
    let f = Function::new("name: big\noutput:\n- storage_provider: s3\n  path: big/out\n");
    // 12 MiB: over an 8 MiB threshold, so two parts (8 MiB + 4 MiB).
    let script = "yes 0123456789abcde | head -c 12582912 > \"$TMP_OUTPUT_DIR/big.txt\"\nfor i in 1 2 3 4 5 6 7 8 9 10; do echo $i > \"$TMP_OUTPUT_DIR/small-$i\"; done\n";
    let event = serde_json::json!({"script": b64(script.as_bytes())}).to_string();
    let run = f.run_with(
        Some(&moto),
        &event,
        &[("SCAR_MULTIPART_THRESHOLD", "8388608")],
    );
    run.assert_ok();
    rt.block_on(async {
        let ks = keys(&s3c, "big").await;
        assert_eq!(ks.len(), 11, "{ks:?}");
        let head = s3c
            .head_object()
            .bucket("big")
            .key("out/big.txt")
            .send()
            .await
            .unwrap();
        // A multipart ETag ends in -<number of parts>.
        assert!(
            head.e_tag().unwrap_or_default().ends_with("-2\""),
            "{:?}",
            head.e_tag()
        );
        let data = get(&s3c, "big", "out/big.txt").await;
        let expected: Vec<u8> = b"0123456789abcde\n"
            .iter()
            .copied()
            .cycle()
            .take(12582912)
            .collect();
        assert!(data == expected, "multipart object differs from the file");
    });
    assert!(f.leftovers().is_empty());
}

/// `minio.<id>` and `s3.<id>` outputs use their own endpoint and keys from
/// `storage_providers`: the default endpoint here leads nowhere, so only the
/// provider's settings can reach the emulator.
#[test]
fn named_storage_providers_use_their_own_endpoint() {
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    let rt = runtime();
    rt.block_on(create_bucket(&s3c, "minio-out"));
    let config = format!(
        "name: prov\noutput:\n- storage_provider: minio.local\n  path: minio-out/res\nstorage_providers:\n  minio:\n    local:\n      endpoint: {}\n      access_key: minioadmin\n      secret_key: minio-secret-123\n      region: us-east-1\n",
        moto.endpoint()
    );
    let f = Function::new(&config);
    let script = "echo via-minio > \"$TMP_OUTPUT_DIR/m.txt\"\n";
    let event = serde_json::json!({"script": b64(script.as_bytes())}).to_string();
    let mut cmd = f.command(Some(&moto));
    // Nothing listens on port 9 of the loopback.
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("LOG_LEVEL", "DEBUG");
    let run = run_stdin(cmd, event.as_bytes());
    run.assert_ok();
    assert!(!run.stderr.contains("minio-secret-123"));
    assert_eq!(
        rt.block_on(get(&s3c, "minio-out", "res/m.txt")),
        b"via-minio\n"
    );

    // An undefined provider id or an unsupported kind fails clearly.
    for (reference, needle) in [
        (
            "s3.undefined",
            "`s3.undefined` is not defined in storage_providers",
        ),
        ("onedata.space", "`onedata.space` is not supported"),
    ] {
        let f = Function::new(&format!(
            "name: prov\noutput:\n- storage_provider: {reference}\n  path: minio-out/x\n"
        ));
        let msg = f.run(Some(&moto), &event).assert_error("OutputUpload");
        assert!(msg.contains(needle), "{msg}");
        assert!(f.leftovers().is_empty());
    }
}
