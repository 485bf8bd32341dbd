//! The everyday commands (`put`, `get`, `ls`, `logs`, `run`, `invoke`)
//! through the `scar` binary against the AWS emulator, asserting the
//! output and the account's state with raw SDK calls.
//!
//! Where moto cannot do the real thing, the test's name says so:
//! - moto runs no Lambda code without Docker: an Invoke answers with the
//!   request's own payload, or with an answer queued through moto's
//!   `/moto-api/static/lambda-simple/response` (a stand-in for the
//!   supervisor's answer). So `run` and `invoke --direct` are checked on
//!   the request scar sent, and on decoding a supervisor-shaped answer.
//! - moto answers 200 to an Invoke of a function that does not exist.
//! - moto cannot serve a deployed API's stage: `invoke` over HTTP is
//!   checked against a real HTTP server on loopback answering as API
//!   Gateway does, and the stage URL scar derives from the account is
//!   checked in its error.
//! - the S3 events of `run --all-inputs` are compared with the events moto's
//!   S3 itself sends to an SQS queue for the same objects (moto's events
//!   carry fewer fields than AWS's; scar's must have every one of them).

mod common;
use common::{out, stdout};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;

use base64::Engine as _;
use serde_json::Value;

type Env = common::Scratch;

const WF: &str = r#"workflow: daily
functions:
  aws:
  - lambda:
      name: daily-resize
      memory: 256
      init_script: resize.sh
      input:
      - storage_provider: s3
        path: daily-in/input
      output:
      - storage_provider: s3
        path: daily-out/output
  - lambda:
      name: daily-noinput
      init_script: resize.sh
"#;

/// A deployed two-function workflow; the manifest's path.
fn deployed(env: &Env) -> String {
    env.write(
        "wf/resize.sh",
        "#!/bin/sh\ncp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/\"\n",
    );
    let m = env.write("wf/scar.yaml", WF);
    let m = m.to_str().unwrap().to_string();
    env.ok(&["apply", "--auto-approve", "-f", &m]);
    m
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Deterministic bytes that do not compress.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn write_bytes(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

async fn keys(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<(String, i64, String)> {
    let out = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    out.contents()
        .iter()
        .map(|o| {
            (
                o.key().unwrap().to_string(),
                o.size().unwrap(),
                o.e_tag().unwrap().trim_matches('"').to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_then_get_round_trips_a_tree_byte_for_byte_with_a_multipart_file_and_unicode_names() {
    let env = Env::new();
    let m = deployed(&env);
    let s3 = common::s3(&env.sdk().await);
    let tree = env.path().join("tree");
    let big = noise(20 * 1024 * 1024 + 123, 1); // over the 8 MiB part size: 3 parts
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("a.txt", b"alpha\n".to_vec()),
        ("empty", Vec::new()),
        ("sub dir/ünïcødé файл 名前.bin", noise(70_000, 2)),
        ("sub dir/deeper/big one.bin", big.clone()),
    ];
    for (rel, data) in &files {
        write_bytes(&tree.join(rel), data);
    }

    // --dry-run lists what would move and moves nothing.
    let o = env.ok(&["put", "tree", "daily-resize", "-f", &m, "--dry-run"]);
    let text = stdout(&o);
    assert!(
        text.contains("would upload tree/sub dir/deeper/big one.bin -> s3://daily-in/input/tree/sub dir/deeper/big one.bin (20.0 MiB)"),
        "{}",
        out(&o)
    );
    assert!(text.contains("Would upload 4 files"), "{}", out(&o));
    assert!(keys(&s3, "daily-in")
        .await
        .iter()
        .all(|(k, _, _)| !k.contains("tree")));

    // Into the function's input, by the function's name.
    let o = env.ok(&["put", "tree", "daily-resize", "-f", &m]);
    assert!(
        stdout(&o).contains("Uploaded 4 files (20.1 MiB) to s3://daily-in/input"),
        "{}",
        out(&o)
    );
    let listed = keys(&s3, "daily-in").await;
    let names: Vec<&str> = listed.iter().map(|(k, _, _)| k.as_str()).collect();
    for (rel, _) in &files {
        assert!(
            names.contains(&format!("input/tree/{rel}").as_str()),
            "{rel} in {names:?}"
        );
    }
    let (_, size, etag) = listed
        .iter()
        .find(|(k, _, _)| k.ends_with("big one.bin"))
        .unwrap();
    assert_eq!(*size as usize, big.len());
    assert!(
        etag.ends_with("-3"),
        "a multipart upload of 3 parts has an ETag ending -3: {etag}"
    );

    // And back, by s3:// path, into a new folder.
    let o = env.ok(&["get", "s3://daily-in/input", "back"]);
    assert!(
        stdout(&o).contains("Downloaded 4 files (20.1 MiB) from s3://daily-in/input"),
        "{}",
        out(&o)
    );
    for (rel, data) in &files {
        let got = std::fs::read(env.path().join("back/tree").join(rel)).unwrap();
        assert!(got == *data, "{rel} differs after the round trip");
    }

    // get replaces nothing without --overwrite, and says what is in the way.
    std::fs::write(env.path().join("back/tree/a.txt"), "local edit").unwrap();
    let o = env.expect(1, &["get", "s3://daily-in/input", "back"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("4 local files would be replaced"),
        "{}",
        out(&o)
    );
    assert!(err.contains("--overwrite"), "{}", out(&o));
    assert_eq!(
        std::fs::read_to_string(env.path().join("back/tree/a.txt")).unwrap(),
        "local edit"
    );
    env.ok(&["get", "s3://daily-in/input", "back", "--overwrite"]);
    assert_eq!(
        std::fs::read_to_string(env.path().join("back/tree/a.txt")).unwrap(),
        "alpha\n"
    );

    // A folder written with a trailing slash puts its contents; get by
    // the function's name reads its output; JSON says what moved.
    env.ok(&["put", "tree/sub dir/", "s3://daily-out/output"]);
    let o = env.ok(&["get", "daily-resize", "out", "-f", &m, "-o", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON summary");
    assert_eq!(v["files"], 2, "{v}");
    assert_eq!(
        std::fs::read(env.path().join("out/deeper/big one.bin")).unwrap(),
        big
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_transfers_are_refused_before_anything_moves() {
    let env = Env::new();
    let m = deployed(&env);
    let s3 = common::s3(&env.sdk().await);
    write_bytes(&env.path().join("tree/a.txt"), b"a");

    // put of a path that does not exist: nothing is uploaded.
    let o = env.expect(
        1,
        &["put", "tree", "no/such/file", "daily-resize", "-f", &m],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("this path does not exist: `no/such/file`"),
        "{}",
        out(&o)
    );
    assert!(keys(&s3, "daily-in")
        .await
        .iter()
        .all(|(k, _, _)| !k.contains("tree")));

    // get into a path that is a file.
    write_bytes(&env.path().join("a-file"), b"x");
    let o = env.expect(1, &["get", "s3://daily-in/input", "a-file"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("`a-file` is a file"),
        "{}",
        out(&o)
    );
    assert_eq!(std::fs::read(env.path().join("a-file")).unwrap(), b"x");

    // A function without an S3 input, and a function not in the manifests.
    let o = env.expect(1, &["put", "tree", "daily-noinput", "-f", &m]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("has no S3 input"),
        "{}",
        out(&o)
    );
    let o = env.expect(1, &["put", "tree", "daily-resise", "-f", &m]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("did you mean `daily-resize`?"),
        "{}",
        out(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_marks_a_function_changed_out_of_band() {
    let env = Env::new();
    let m = deployed(&env);
    let lambda = aws_sdk_lambda::Client::new(&env.sdk().await);

    let o = env.ok(&["ls", "-f", &m]);
    let text = stdout(&o);
    for name in ["daily-resize", "daily-noinput"] {
        let line = text
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name}: {text}"));
        assert!(line.ends_with("in sync"), "{line}");
    }
    assert!(
        text.lines().next().unwrap().starts_with("WORKFLOW  NAME"),
        "{text}"
    );

    // Changed behind scar's back.
    lambda
        .update_function_configuration()
        .function_name("daily-resize")
        .memory_size(1024)
        .send()
        .await
        .unwrap();
    let o = env.ok(&["ls", "-f", &m, "-o", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON listing");
    let row = |name: &str| {
        v["functions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()
            .clone()
    };
    let resize = row("daily-resize");
    assert_eq!(resize["status"], "drift", "{v}");
    assert_eq!(resize["memory"], 1024, "{v}");
    assert!(
        resize["changes"][0]
            .as_str()
            .unwrap()
            .contains("lambda_function.daily-resize: drift (memory)"),
        "{v}"
    );
    assert_eq!(row("daily-noinput")["status"], "in sync", "{v}");
    assert_eq!(resize["execution_mode"], "lambda");
    assert!(
        resize["supervisor"]
            .as_str()
            .unwrap()
            .starts_with("scar-supervisor"),
        "{v}"
    );

    // --all needs no manifest, and lists by workflow.
    let o = env.ok(&["ls", "--all"]);
    let text = stdout(&o);
    assert!(
        text.lines()
            .any(|l| l.starts_with("daily") && l.contains("daily-resize")),
        "{text}"
    );
    assert!(text.lines().any(|l| l.contains("daily-noinput")), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_show_the_events_of_the_log_group_filtered_by_request_id() {
    let env = Env::new();
    let m = deployed(&env);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&env.sdk().await);
    let group = "/aws/lambda/daily-resize";
    let stream = "2026/12/02/[$LATEST]abc";
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let lines = [
        "START RequestId: req-one Version: $LATEST",
        "first invocation's output",
        "REPORT RequestId: req-one Duration: 10.0 ms",
        "START RequestId: req-two Version: $LATEST",
        r#"{"timestamp":"2026-12-02T00:00:00Z","level":"INFO","message":"uploaded the output","key":"output/a.txt","target":"scar_supervisor"}"#,
        "second invocation's output",
        "REPORT RequestId: req-two Duration: 12.0 ms",
    ];
    let mut put = logs
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream);
    for (i, l) in lines.iter().enumerate() {
        put = put.log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now - 60_000 + i as i64 * 100)
                .message(*l)
                .build()
                .unwrap(),
        );
    }
    put.send().await.unwrap();

    let o = env.ok(&["logs", "daily-resize", "-f", &m, "--request-id", "req-two"]);
    let text = stdout(&o);
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("START RequestId: req-two"), "{text}");
    assert!(
        text.contains("INFO  uploaded the output key=output/a.txt"),
        "{text}"
    );
    assert!(
        !text.contains("req-one") && !text.contains("first invocation"),
        "{text}"
    );

    // All of them, as JSON lines, and filtered by a pattern.
    let o = env.ok(&["logs", "daily-resize", "--since", "1h", "-o", "json"]);
    let events: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), lines.len(), "{}", out(&o));
    assert_eq!(events[4]["fields"]["message"], "uploaded the output");
    assert_eq!(events[0]["stream"], stream);
    let o = env.ok(&["logs", "daily-resize", "--filter", "\"second invocation\""]);
    assert_eq!(stdout(&o).lines().count(), 1, "{}", out(&o));

    // An id no event names, and a function with no log group.
    let o = env.expect(1, &["logs", "daily-resize", "--request-id", "req-none"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("names request `req-none`"),
        "{}",
        out(&o)
    );
    let o = env.expect(1, &["logs", "never-deployed"]);
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("function `never-deployed` has no log group `/aws/lambda/never-deployed`"),
        "{}",
        out(&o)
    );
}

/// moto's S3 sends the events of `daily-in` to an SQS queue (kept beside
/// scar's Lambda trigger); returns the queue's URL.
const SQS_SETUP: &str = r#"
import boto3, json, sys
ep = sys.argv[1]
kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
sqs = boto3.client("sqs", **kw); s3 = boto3.client("s3", **kw)
url = sqs.create_queue(QueueName="events")["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
conf = s3.get_bucket_notification_configuration(Bucket="daily-in")
conf.pop("ResponseMetadata", None)
conf["QueueConfigurations"] = [{"Id": "to-sqs", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
s3.put_bucket_notification_configuration(Bucket="daily-in", NotificationConfiguration=conf)
print(url)
"#;

const SQS_READ: &str = r#"
import boto3, json, sys
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
sqs = boto3.client("sqs", **kw)
events = []
for _ in range(20):
    r = sqs.receive_message(QueueUrl=sys.argv[2], MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for msg in r.get("Messages", []):
        body = json.loads(msg["Body"])
        if "Records" in body:
            events.append(body)
    if len(events) >= int(sys.argv[3]):
        break
print(json.dumps(events))
"#;

const RECORDER: &str = r#"
import sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/moto-api/recorder/" + sys.argv[2], method="POST" if sys.argv[2] != "download-recording" else "GET")
print(urllib.request.urlopen(req).read().decode())
"#;

/// Every key path of a JSON value (`Records/0/s3/object/key`).
fn paths(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                paths(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                paths(x, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

/// `a+b%2Fc` → `a b/c` (Python's unquote_plus, which the supervisor uses).
fn unquote_plus(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_inputs_sends_each_objects_s3_event_checked_against_the_events_moto_s3_sends_to_sqs(
) {
    let env = Env::new();
    let m = deployed(&env);
    let queue = env.moto.python(SQS_SETUP, &[]).trim().to_string();
    for (rel, data) in [
        ("one.txt", &b"1"[..]),
        ("two words.txt", b"22"),
        ("sub/ü.txt", b"333"),
    ] {
        write_bytes(&env.path().join("in").join(rel), data);
    }
    env.ok(&["put", "in/", "daily-resize", "-f", &m]);
    let real: Vec<Value> =
        serde_json::from_str(&env.moto.python(SQS_READ, &[&queue, "3"])).unwrap();
    assert_eq!(
        real.len(),
        3,
        "moto's S3 sent one event per object: {real:?}"
    );

    env.moto.python(RECORDER, &["reset-recording"]);
    env.moto.python(RECORDER, &["start-recording"]);
    let o = env.ok(&["run", "daily-resize", "--all-inputs", "-f", &m]);
    env.moto.python(RECORDER, &["stop-recording"]);
    let text = stdout(&o);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("queued")).count(),
        3,
        "{}",
        out(&o)
    );
    assert!(text.contains("s3://daily-in/input/two words.txt"), "{text}");
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("3 invocations of `daily-resize`: 3 queued, 0 failed."));

    // The Invoke requests moto received, with their payloads.
    let recording = env.moto.python(RECORDER, &["download-recording"]);
    let mut sent: Vec<Value> = Vec::new();
    for line in recording.lines().filter(|l| !l.trim().is_empty()) {
        let r: Value = serde_json::from_str(line).unwrap();
        let url = r["url"].as_str().unwrap_or_default();
        if !url.contains("/functions/daily-resize/invocations") {
            continue;
        }
        assert_eq!(r["headers"]["X-Amz-Invocation-Type"], "Event", "{r}");
        let body = r["body"].as_str().unwrap();
        let bytes = if r["body_encoded"] == true {
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap()
        } else {
            body.as_bytes().to_vec()
        };
        sent.push(serde_json::from_slice(&bytes).unwrap());
    }
    assert_eq!(sent.len(), 3, "one Invoke per object");

    let key_of = |e: &Value| unquote_plus(e["Records"][0]["s3"]["object"]["key"].as_str().unwrap());
    for ours in &sent {
        let key = key_of(ours);
        let theirs = real
            .iter()
            .find(|e| key_of(e) == key)
            .unwrap_or_else(|| panic!("{key}"));
        let (mut want, mut have) = (Vec::new(), Vec::new());
        paths(theirs, String::new(), &mut want);
        paths(ours, String::new(), &mut have);
        for p in &want {
            assert!(have.contains(p), "scar's event lacks {p}: {ours}");
        }
        for p in [
            "/Records/0/eventVersion",
            "/Records/0/eventSource",
            "/Records/0/awsRegion",
            "/Records/0/s3/s3SchemaVersion",
            "/Records/0/s3/bucket/name",
            "/Records/0/s3/bucket/arn",
            "/Records/0/s3/object/size",
            "/Records/0/s3/object/eTag",
        ] {
            assert_eq!(ours.pointer(p), theirs.pointer(p), "{p} of {key}");
        }
        // AWS names the put ObjectCreated:Put (moto: the same, or
        // CompleteMultipartUpload for multipart).
        assert_eq!(ours["Records"][0]["eventName"], "ObjectCreated:Put");
        let ours_t =
            humantime::parse_rfc3339(ours["Records"][0]["eventTime"].as_str().unwrap()).unwrap();
        let theirs_t =
            humantime::parse_rfc3339(theirs["Records"][0]["eventTime"].as_str().unwrap()).unwrap();
        let apart = ours_t
            .duration_since(theirs_t)
            .or_else(|e| Ok::<_, ()>(e.duration()))
            .unwrap();
        assert!(
            apart.as_secs() < 5,
            "eventTime is the object's time: {ours_t:?} vs {theirs_t:?}"
        );
    }

    // A function without an S3 input.
    let o = env.expect(1, &["run", "daily-noinput", "--all-inputs", "-f", &m]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("function `daily-noinput` has no S3 input"),
        "{}",
        out(&o)
    );
}

const QUEUE_ANSWER: &str = r#"
import json, sys, urllib.request
body = json.dumps({"results": [sys.argv[2]], "region": "us-east-1"}).encode()
req = urllib.request.Request(sys.argv[1] + "/moto-api/static/lambda-simple/response", data=body, method="POST", headers={"Content-Type": "application/json"})
urllib.request.urlopen(req).read()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_direct_decodes_a_supervisor_answer_queued_in_moto_and_sends_the_api_gateway_event_moto_echoes(
) {
    let env = Env::new();
    let m = deployed(&env);
    let answer = serde_json::json!({
        "statusCode": 200,
        "headers": {
            "amz-lambda-request-id": "req-42",
            "amz-log-group-name": "/aws/lambda/daily-resize",
            "amz-log-stream-name": "2026/12/02/[$LATEST]x",
        },
        "body": b64("resized 3 images\n".as_bytes()),
        "isBase64Encoded": true,
    });
    env.moto.python(QUEUE_ANSWER, &[&answer.to_string()]);
    let o = env.ok(&[
        "invoke",
        "daily-resize",
        "-f",
        &m,
        "--direct",
        "--data",
        "hello",
    ]);
    assert_eq!(stdout(&o), "resized 3 images\n", "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Status: 200") && err.contains("Request Id: req-42"),
        "{err}"
    );

    // -o FILE saves the body; -o json tells everything.
    env.moto.python(QUEUE_ANSWER, &[&answer.to_string()]);
    env.ok(&[
        "invoke",
        "daily-resize",
        "-f",
        &m,
        "--direct",
        "-o",
        "body.txt",
    ]);
    assert_eq!(
        std::fs::read_to_string(env.path().join("body.txt")).unwrap(),
        "resized 3 images\n"
    );
    env.moto.python(QUEUE_ANSWER, &[&answer.to_string()]);
    let o = env.ok(&["invoke", "daily-resize", "-f", &m, "--direct", "-o", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["body"], "resized 3 images\n");
    assert_eq!(v["log_stream"], "2026/12/02/[$LATEST]x");

    // With nothing queued moto echoes the request: the event API Gateway
    // would send, the body base64-encoded as `scar invoke -db` sends it.
    let o = env.ok(&[
        "invoke",
        "daily-resize",
        "-f",
        &m,
        "--direct",
        "--data",
        "hello",
        "--param",
        "size=small",
    ]);
    let sent: Value = serde_json::from_str(&stdout(&o)).expect("the echoed event");
    assert_eq!(sent["httpMethod"], "POST");
    assert_eq!(sent["path"], "/launch");
    assert_eq!(sent["body"], b64(b"hello"));
    assert_eq!(sent["queryStringParameters"]["size"], "small");

    // run: the script, or the command's arguments, as SCAR sends them.
    env.write("other.sh", "echo other\n");
    let o = env.ok(&["run", "daily-resize", "-f", &m, "--script", "other.sh"]);
    let sent: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(sent["script"], b64(b"echo other\n"));
    let o = env.ok(&["run", "daily-resize", "-f", &m, "--", "echo", "a b"]);
    let sent: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(sent["cmd_args"], r#"["echo","a b"]"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoking_a_function_that_does_not_exist_fails_though_moto_answers_invoke_with_200() {
    let env = Env::new();
    for args in [
        &["invoke", "no-such-fn", "--direct"][..],
        &["run", "no-such-fn"][..],
        &["invoke", "no-such-fn", "--url", "http://127.0.0.1:9/x"][..],
    ] {
        let o = env.expect(1, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("function `no-such-fn` does not exist in us-east-1"),
            "{args:?}: {}",
            out(&o)
        );
        assert!(stdout(&o).is_empty(), "{}", out(&o));
    }
}

/// A loopback HTTP server that answers one request as API Gateway's proxy
/// integration answers for the supervisor (its base64 body handed on as
/// text, the `amz-*` headers); returns its port and the request it got.
fn api_gateway_stand_in(status: u16, body: &'static str) -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut req_body = vec![0; length];
        reader.read_exact(&mut req_body).unwrap();
        let answer = b64(body.as_bytes());
        write!(
            conn,
            "HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\namz-lambda-request-id: req-http\r\namz-log-group-name: /aws/lambda/daily-resize\r\namz-log-stream-name: s1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
            answer.len()
        )
        .unwrap();
        format!("{head}{}", String::from_utf8_lossy(&req_body))
    });
    (port, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_over_http_against_a_loopback_server_answering_as_api_gateway() {
    let env = Env::new();
    let m = deployed(&env);
    env.write("photo.jpg", "JPEGDATA");

    let (port, server) = api_gateway_stand_in(200, "thumbnail made\n");
    let url = format!("http://127.0.0.1:{port}/scar/launch");
    let o = env.ok(&[
        "invoke",
        "daily-resize",
        "-f",
        &m,
        "--url",
        &url,
        "--data-file",
        "photo.jpg",
        "--param",
        "w=64",
    ]);
    assert_eq!(stdout(&o), "thumbnail made\n", "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Request Id: req-http"),
        "{}",
        out(&o)
    );
    let request = server.join().unwrap();
    assert!(
        request.starts_with("POST /scar/launch?w=64 HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains("content-type: application/octet-stream"),
        "{request}"
    );
    assert!(request.ends_with(&b64(b"JPEGDATA")), "{request}");

    // --async: API Gateway answers 502 (no proxy answer), which is a launch.
    let (port, server) = api_gateway_stand_in(502, "");
    let url = format!("http://127.0.0.1:{port}/scar/launch");
    let o = env.ok(&["invoke", "daily-resize", "-f", &m, "--url", &url, "--async"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Invocation of `daily-resize` queued"),
        "{}",
        out(&o)
    );
    let request = server.join().unwrap();
    assert!(
        request.starts_with("GET /scar/launch HTTP/1.1"),
        "{request}"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains("x-amz-invocation-type: event"),
        "{request}"
    );

    // A failing function's 500 is an error exit, its body shown.
    let (port, server) = api_gateway_stand_in(500, "{\"exception\": \"boom\"}");
    let url = format!("http://127.0.0.1:{port}/scar/launch");
    let o = env.expect(1, &["invoke", "daily-resize", "-f", &m, "--url", &url]);
    assert!(stdout(&o).contains("boom"), "{}", out(&o));
    server.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_over_http_names_the_stage_url_from_the_account_which_moto_cannot_serve() {
    let env = Env::new();
    env.write("wf/resize.sh", "#!/bin/sh\necho hi\n");
    let m = env.write(
        "wf/scar.yaml",
        "workflow: web\nfunctions:\n  aws:\n  - lambda:\n      name: web-fn\n      init_script: resize.sh\n    api_gateway:\n      name: web-api\n",
    );
    let m = m.to_str().unwrap();
    env.ok(&["apply", "--auto-approve", "-f", m]);
    let apigw = aws_sdk_apigateway::Client::new(&env.sdk().await);
    let apis = apigw.get_rest_apis().send().await.unwrap();
    let id = apis.items()[0].id().unwrap().to_string();
    // With the manifest (its stage), and by the function's name alone
    // (the stage from the API).
    for args in [
        &["invoke", "web-fn", "-f", m][..],
        &["invoke", "web-fn"][..],
    ] {
        let o = env.expect(1, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("the endpoint of `web-fn` is https://{id}.execute-api.us-east-1.amazonaws.com/scar/launch")),
            "{args:?}: {}",
            out(&o)
        );
        assert!(
            err.contains("AWS_ENDPOINT_URL") && err.contains("--url"),
            "{err}"
        );
    }
    // A function without an endpoint says so.
    let o = env.expect(1, &["invoke", "daily-x", "--url", "http://127.0.0.1:9/"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("does not exist"),
        "{}",
        out(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_and_get_draw_a_bar_of_bytes_files_and_rate_on_a_terminal() {
    let env = Env::new();
    let s3 = common::s3(&env.sdk().await);
    s3.create_bucket()
        .bucket("bar-bucket")
        .send()
        .await
        .unwrap();
    let data = noise(48 * 1024 * 1024, 3);
    write_bytes(&env.path().join("big.bin"), &data);
    for (args, done) in [
        (
            &["put", "big.bin", "s3://bar-bucket/in"][..],
            "Uploaded 1 file (48.0 MiB) to s3://bar-bucket/in",
        ),
        (
            &["get", "s3://bar-bucket/in", "back"][..],
            "Downloaded 1 file (48.0 MiB) from s3://bar-bucket/in",
        ),
    ] {
        let mut cmd = env.command(args);
        cmd.env("TERM", "xterm")
            .stdin(std::process::Stdio::inherit());
        let mut p = rexpect::session::spawn_command(cmd, Some(120_000)).expect("a pseudo-terminal");
        // The bar: bytes of the total, the rate, what moves.
        p.exp_regex(r"MiB/48\.00 MiB")
            .unwrap_or_else(|e| panic!("{args:?}: no bar of bytes: {e}"));
        p.exp_regex(r"[KM]iB/s")
            .unwrap_or_else(|e| panic!("{args:?}: no rate: {e}"));
        p.exp_string("1/1 files")
            .unwrap_or_else(|e| panic!("{args:?}: no file count: {e}"));
        p.exp_string(done)
            .unwrap_or_else(|e| panic!("{args:?}: no summary: {e}"));
        p.exp_eof().unwrap();
    }
    assert!(std::fs::read(env.path().join("back/big.bin")).unwrap() == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_prints_events_written_after_it_started() {
    let env = Env::new();
    let m = deployed(&env);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&env.sdk().await);
    let group = "/aws/lambda/daily-resize";
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let mut child = env
        .command(&["logs", "daily-resize", "-f", &m, "--follow"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    // Written after it started (and read its first, empty, answer).
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name("s")
        .log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now)
                .message("a new event")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let line = rx.recv_timeout(std::time::Duration::from_secs(20));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("the new event within 20 s");
    assert!(line.ends_with(" a new event"), "{line}");
}
