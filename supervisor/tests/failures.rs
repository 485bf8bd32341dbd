//! Failure paths in command mode: each gives a 500-shaped response with a
//! clear message and a non-zero exit, uploads nothing half-done, and leaves
//! no temporary files behind.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

const OUT_CONFIG: &str =
    "name: f\ninit_script: s.sh\noutput:\n- storage_provider: s3\n  path: outs\n";

#[test]
fn missing_object() {
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    runtime().block_on(create_bucket(&s3c, "inputs"));
    let f = Function::new(OUT_CONFIG).with_script("s.sh", "echo never\n");
    let run = f.run(Some(&moto), &s3_event("inputs", "in/nope.txt"));
    let msg = run.assert_error("InputNotFound");
    assert!(
        msg.contains("s3://inputs/in/nope.txt does not exist"),
        "{msg}"
    );
    assert!(!run.stderr.contains("never"), "the script ran");
    assert!(f.leftovers().is_empty(), "{:?}", f.leftovers());
}

/// moto enforces IAM once `INITIAL_NO_AUTH_ACTION_COUNT` unauthenticated
/// calls are spent: the set-up uses exactly those, then the supervisor runs
/// with the keys of an IAM user that has no policy, and S3 answers 403.
#[test]
fn access_denied() {
    let python = emulator_python();
    let wrapper = testkit::workspace_root().join("scripts/moto_server.py");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Kill(
        Command::new(&python)
            .arg(&wrapper)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "4")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start moto"),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The four unauthenticated calls: bucket, object, user, access key.
    let setup = r#"
import boto3, json, os
from botocore.config import Config
kw = dict(endpoint_url=os.environ["EP"], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **kw)
iam = boto3.client("iam", **kw)
s3.create_bucket(Bucket="locked")
s3.put_object(Bucket="locked", Key="in/secret.txt", Body=b"secret")
iam.create_user(UserName="nobody")
k = iam.create_access_key(UserName="nobody")["AccessKey"]
print(json.dumps({"ak": k["AccessKeyId"], "sk": k["SecretAccessKey"]}))
"#;
    let out = Command::new(&python)
        .arg("-c")
        .arg(setup)
        .env("EP", &endpoint)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let f = Function::new(OUT_CONFIG).with_script("s.sh", "echo never\n");
    let mut cmd = f.command(None);
    cmd.env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", keys["ak"].as_str().unwrap())
        .env("AWS_SECRET_ACCESS_KEY", keys["sk"].as_str().unwrap())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE");
    let run = run_stdin(cmd, s3_event("locked", "in/secret.txt").as_bytes());
    let msg = run.assert_error("InputAccessDenied");
    assert!(
        msg.contains("access denied to s3://locked/in/secret.txt"),
        "{msg}"
    );
    // The secret key never reaches the log.
    assert!(!run.stderr.contains(keys["sk"].as_str().unwrap()));
    assert!(f.leftovers().is_empty());
}

#[test]
fn script_exits_non_zero_and_nothing_is_uploaded() {
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    let rt = runtime();
    rt.block_on(create_bucket(&s3c, "outs"));
    let f = Function::new(OUT_CONFIG).with_script(
        "s.sh",
        "echo partial > \"$TMP_OUTPUT_DIR/half.txt\"\necho 'convert: bad input' >&2\nexit 3\n",
    );
    let run = f.run(Some(&moto), "{\"anything\": true}");
    let msg = run.assert_error("ScriptFailed");
    assert!(msg.contains("exited with status 3"), "{msg}");
    assert!(msg.contains("convert: bad input"), "{msg}");
    assert!(
        rt.block_on(keys(&s3c, "outs")).is_empty(),
        "a failed run uploaded outputs"
    );
    assert!(f.leftovers().is_empty());
}

#[test]
fn script_past_the_deadline_is_killed_with_its_children() {
    let f = Function::new("name: slow\ninit_script: s.sh\ncontainer: {timeout_threshold: 1}\n");
    let marks = tempfile::tempdir().unwrap();
    let pidfile = marks.path().join("child.pid");
    std::fs::write(
        f.dir.path().join("s.sh"),
        format!(
            "sleep 300 &\necho $! > {}\n( sleep 300 ) &\necho started\nwait\n",
            pidfile.display()
        ),
    )
    .unwrap();
    let started = Instant::now();
    // Three seconds left, one kept for uploads: killed after about two.
    let run = f.run_with(None, "{}", &[("SCAR_SUPERVISOR_TIMEOUT", "3")]);
    let elapsed = started.elapsed();
    let msg = run.assert_error("ScriptTimeout");
    assert!(msg.contains("did not finish within 2.0 s"), "{msg}");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    let pid = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .to_string();
    let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
    let gone_by = Instant::now() + Duration::from_secs(5);
    while proc_dir.exists() && !is_zombie(&proc_dir) {
        assert!(
            Instant::now() < gone_by,
            "background child {pid} survived the deadline"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(f.leftovers().is_empty());
}

fn is_zombie(proc_dir: &std::path::Path) -> bool {
    std::fs::read_to_string(proc_dir.join("stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(true)
}

#[test]
fn crafted_keys_stay_inside_the_input_folder() {
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    let rt = runtime();
    rt.block_on(create_bucket(&s3c, "keys"));
    let long = format!("in/{}.txt", "k".repeat(600));
    let crafted = [
        "../../escape.txt",
        "in/../../../../tmp/evil",
        "/abs/olute",
        "in/..",
        "in/tab\there",
        long.as_str(),
        "in/\u{202e}gpj.exe",
    ];
    let f = Function::new("name: k\ninit_script: s.sh\n").with_script(
        "s.sh",
        "printf '%s\\n%s\\n' \"$TMP_INPUT_DIR\" \"$INPUT_FILE_PATH\"\ncat \"$INPUT_FILE_PATH\"\n",
    );
    for key in crafted {
        rt.block_on(put(&s3c, "keys", key, format!("body of {key}").as_bytes()));
        let encoded =
            percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let run = f.run(Some(&moto), &s3_event("keys", &encoded));
        run.assert_ok();
        let text = run.body_text();
        let mut lines = text.splitn(3, '\n');
        let (dir, path, body) = (
            lines.next().unwrap(),
            lines.next().unwrap(),
            lines.next().unwrap(),
        );
        let rest = path
            .strip_prefix(dir)
            .unwrap_or_else(|| panic!("{path} is outside {dir}"));
        assert!(
            rest.starts_with('/') && !rest[1..].contains('/'),
            "{key:?} -> {path}"
        );
        assert!(rest.len() <= 256, "file name too long for {key:?}");
        assert_eq!(body, format!("body of {key}"));
        assert!(f.leftovers().is_empty(), "{key:?}: {:?}", f.leftovers());
    }
    assert!(!std::path::Path::new("/tmp/evil").exists());
}

#[test]
fn request_body_over_the_api_gateway_limit() {
    let f = Function::new("name: api\ninit_script: s.sh\n").with_script("s.sh", "echo never\n");
    let body = "A".repeat(11 * 1024 * 1024);
    let event = serde_json::json!({"httpMethod": "POST", "body": body, "isBase64Encoded": false});
    let run = f.run(None, &event.to_string());
    let msg = run.assert_error("RequestTooLarge");
    assert!(msg.contains("over the 10485760-byte limit"), "{msg}");
    assert!(f.leftovers().is_empty());
}

#[test]
fn malformed_events() {
    let f = Function::new("name: m\ninit_script: s.sh\n").with_script("s.sh", "echo never\n");
    let cases = [
        (
            r#"{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"}}}]}"#,
            "object.key is missing",
        ),
        (
            r#"{"Records":[{"eventSource":"aws:s3","s3":{"object":{"key":"k"}}}]}"#,
            "bucket.name is missing",
        ),
        (
            r#"{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"a%00b"}}}]}"#,
            "NUL",
        ),
        (
            r#"{"httpMethod":"GET","isBase64Encoded":true,"body":"%%%"}"#,
            "not base64",
        ),
        (
            r#"{"httpMethod":"GET","queryStringParameters":"x=1"}"#,
            "must be an object",
        ),
        (r#"{"script":"not base64!"}"#, "not valid base64"),
        (r#"{"cmd_args":{"a":1}}"#, "list of strings"),
    ];
    for (event, needle) in cases {
        let run = f.run(None, event);
        let msg = run.assert_error("MalformedEvent");
        assert!(msg.contains(needle), "{event}: {msg}");
        assert!(!run.stderr.contains("never"));
    }
    // The API Gateway caller gets the message in a 500 even for a malformed body.
    assert!(f.leftovers().is_empty());
}

#[test]
fn unreadable_configs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "name: [unclosed\n").unwrap();
    std::fs::write(dir.path().join("mode.yaml"), "execution_mode: lamda\n").unwrap();
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            vec![(
                "SCAR_FUNCTION_CONFIG_PATH",
                dir.path().join("missing.yaml").display().to_string(),
            )],
            "cannot read the function config",
        ),
        (
            vec![(
                "SCAR_FUNCTION_CONFIG_PATH",
                dir.path().display().to_string(),
            )],
            "cannot read the function config",
        ),
        (
            vec![(
                "SCAR_FUNCTION_CONFIG_PATH",
                dir.path().join("bad.yaml").display().to_string(),
            )],
            "not valid YAML/JSON",
        ),
        (
            vec![(
                "SCAR_FUNCTION_CONFIG_PATH",
                dir.path().join("mode.yaml").display().to_string(),
            )],
            "unknown variant `lamda`",
        ),
        (
            vec![
                ("SCAR_FUNCTION_CONFIG_PATH", String::new()),
                ("FDL", "%%not-base64%%".into()),
            ],
            "env FDL is not valid base64",
        ),
        (
            vec![
                ("SCAR_FUNCTION_CONFIG_PATH", String::new()),
                ("FUNCTION_CONFIG", b64(b"output: 3\n")),
            ],
            "env FUNCTION_CONFIG",
        ),
    ];
    let f = Function::new("");
    for (env, needle) in cases {
        let mut cmd = f.command(None);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let run = run_stdin(cmd, b"{}");
        let msg = run.assert_error("ConfigUnreadable");
        assert!(msg.contains(needle), "{env:?}: {msg}");
    }
    assert!(f.leftovers().is_empty());
}

#[test]
fn upload_to_a_missing_bucket_fails_the_invocation() {
    let moto = testkit::Moto::start();
    let f = Function::new(
        "name: u\ninit_script: s.sh\noutput:\n- storage_provider: s3\n  path: no-such-bucket/out\n",
    )
    .with_script("s.sh", "echo data > \"$TMP_OUTPUT_DIR/r.txt\"\n");
    let run = f.run(Some(&moto), "{}");
    let msg = run.assert_error("OutputUpload");
    assert!(msg.contains("1 of 1 output uploads failed"), "{msg}");
    assert!(msg.contains("s3://no-such-bucket/out/r.txt"), "{msg}");
    assert!(f.leftovers().is_empty());
}

#[test]
fn missing_init_script_and_no_program() {
    let f = Function::new("name: n\ninit_script: absent.sh\n");
    let msg = f.run(None, "{}").assert_error("NoScript");
    assert!(msg.contains("absent.sh is not there"), "{msg}");
    let f = Function::new("name: n\n");
    let msg = f.run(None, "{}").assert_error("NoScript");
    assert!(msg.contains("nothing to run"), "{msg}");
}

#[test]
fn a_process_that_leaves_the_group_does_not_hang_the_invocation() {
    let f = Function::new("name: esc\ninit_script: s.sh\n").with_script(
        "s.sh",
        "echo before\nsetsid sh -c 'sleep 6' &\nsleep 0.5\necho after\n",
    );
    let started = Instant::now();
    let run = f.run(None, "{}");
    run.assert_ok();
    // The escaped process keeps the pipe open; after a 2 s grace the
    // supervisor answers with what it had.
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(6),
        "{elapsed:?}"
    );
    assert_eq!(run.body_text(), "before\nafter\n");
    assert!(f.leftovers().is_empty());
}
