//! The `bootstrap` binary end to end against a Lambda Runtime API served on
//! 127.0.0.1 by the test: next invocation, response, error and init error,
//! with request ids and deadlines; S3 and Batch through the moto emulator.

mod batch;
#[path = "../common/mod.rs"]
mod common;
mod fake;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fake::FakeRuntime;

/// The bootstrap process, killed on drop.
pub struct Bootstrap(pub Child);

impl Drop for Bootstrap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary as Lambda starts `bootstrap`: no arguments, Runtime API in the env.
pub fn start_bootstrap(
    api: &FakeRuntime,
    f: &Function,
    moto: Option<&testkit::Moto>,
    env: &[(&str, &str)],
) -> Bootstrap {
    // SCAR_SUPERVISOR_BOOTSTRAP runs these tests against another build, such
    // as the `bootstrap` unpacked from target/supervisor-layer.zip.
    let bin = std::env::var_os("SCAR_SUPERVISOR_BOOTSTRAP")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_scar-supervisor").into());
    let mut cmd = Command::new(bin);
    cmd.env("AWS_LAMBDA_RUNTIME_API", api.api())
        .env("AWS_LAMBDA_FUNCTION_NAME", "fn")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/fn")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/27/[$LATEST]abc")
        .env("SCAR_FUNCTION_CONFIG_PATH", f.config_path())
        .env("TMPDIR", f.tmp.path())
        .env_remove("FDL")
        .env_remove("EVENT")
        .env_remove("SCRIPT")
        .env_remove("EXECUTION_MODE")
        .env_remove("LOG_LEVEL")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(m) = moto {
        m.configure(&mut cmd);
    }
    Bootstrap(cmd.spawn().expect("start bootstrap"))
}

/// The decoded body of an API-Gateway-shaped result.
pub fn body_of(result: &serde_json::Value) -> Vec<u8> {
    unb64(result["body"].as_str().expect("body"))
}

const CONFIG: &str = "\
name: fn
init_script: handler.sh
container: {timeout_threshold: 1}
output:
- storage_provider: s3
  path: rt-out/results
";

// The mode comes from the API query string (`?mode=...`).
const HANDLER: &str = r#"case "$CONT_VAR_mode" in
  fail) echo "cannot convert"; exit 5 ;;
  big) head -c 5000000 /dev/zero | tr '\0' 'a' ;;
  *) tr 'a-z' 'A-Z' < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH")"
     echo "request $REQUEST_ID" ;;
esac
"#;

#[test]
fn runtime_loop_serves_responses_errors_and_deadlines() {
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    let rt = runtime();
    rt.block_on(async {
        create_bucket(&s3c, "rt-in").await;
        create_bucket(&s3c, "rt-out").await;
        put(&s3c, "rt-in", "in/a b.txt", b"lambda data").await;
    });
    let f = Function::new(CONFIG).with_script("handler.sh", HANDLER);
    let marks = tempfile::tempdir().unwrap();
    let pidfile = marks.path().join("bg.pid");
    let api = FakeRuntime::start();
    let minute = Duration::from_secs(60);
    api.push("req-s3", minute, &s3_event("rt-in", "in/a+b.txt"));
    let api_event = |mode: &str| {
        serde_json::json!({"httpMethod": "POST", "body": b64(b"x"), "isBase64Encoded": true,
                           "queryStringParameters": {"mode": mode}})
        .to_string()
    };
    api.push("req-api-fail", minute, &api_event("fail"));
    let failing = serde_json::json!({"script": b64(b"echo oops\nexit 4\n")}).to_string();
    api.push("req-direct-fail", minute, &failing);
    let sleeper = format!("sleep 120 &\necho $! > {}\nsleep 120\n", pidfile.display());
    let slow = serde_json::json!({"script": b64(sleeper.as_bytes())}).to_string();
    // Three seconds left, one of them reserved: the script gets two.
    api.push("req-deadline", Duration::from_secs(3), &slow);
    api.push("req-big", minute, &api_event("big"));
    api.push("req-last", minute, &s3_event("rt-in", "in/a+b.txt"));

    let started = Instant::now();
    let _bootstrap = start_bootstrap(&api, &f, Some(&moto), &[]);
    api.wait_posts(6, Duration::from_secs(90));
    assert_eq!(
        api.served(),
        [
            "req-s3",
            "req-api-fail",
            "req-direct-fail",
            "req-deadline",
            "req-big",
            "req-last"
        ]
    );

    // Success: the API-Gateway-shaped result, outputs uploaded.
    let ok = api
        .post("/2018-06-01/runtime/invocation/req-s3/response")
        .json();
    assert_eq!(ok["statusCode"], 200);
    assert_eq!(body_of(&ok), b"request req-s3\n");
    assert_eq!(ok["headers"]["amz-lambda-request-id"], "req-s3");
    assert_eq!(ok["headers"]["amz-log-group-name"], "/aws/lambda/fn");
    rt.block_on(async {
        assert_eq!(get(&s3c, "rt-out", "results/a b.txt").await, b"LAMBDA DATA");
    });

    // An HTTP caller gets the 500-shaped result with the message.
    let api_fail = api
        .post("/2018-06-01/runtime/invocation/req-api-fail/response")
        .json();
    assert_eq!(api_fail["statusCode"], 500);
    let err: serde_json::Value = serde_json::from_slice(&body_of(&api_fail)).unwrap();
    assert_eq!(err["error_type"], "ScriptFailed");
    assert!(err["exception"]
        .as_str()
        .unwrap()
        .contains("exited with status 5; last output: cannot convert"));

    // Other callers get a Lambda function error.
    let direct = api
        .post("/2018-06-01/runtime/invocation/req-direct-fail/error")
        .json();
    assert_eq!(direct["errorType"], "ScriptFailed");
    assert!(direct["errorMessage"]
        .as_str()
        .unwrap()
        .contains("exited with status 4"));

    // The deadline: killed at (deadline - threshold), children too.
    let late = api
        .post("/2018-06-01/runtime/invocation/req-deadline/error")
        .json();
    assert_eq!(late["errorType"], "ScriptTimeout", "{late}");
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let proc_dir = std::path::PathBuf::from(format!("/proc/{}", pid.trim()));
    let gone_by = Instant::now() + Duration::from_secs(5);
    while proc_dir.exists() && !zombie(&proc_dir) {
        assert!(
            Instant::now() < gone_by,
            "the script's child {} survived",
            pid.trim()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A body too large for Lambda's 6 MB response is refused clearly.
    let big = api
        .post("/2018-06-01/runtime/invocation/req-big/response")
        .json();
    assert_eq!(big["statusCode"], 500);
    let err: serde_json::Value = serde_json::from_slice(&body_of(&big)).unwrap();
    assert_eq!(err["error_type"], "ResponseTooLarge");

    // The loop goes on after failures, with the right request id.
    let last = api
        .post("/2018-06-01/runtime/invocation/req-last/response")
        .json();
    assert_eq!(body_of(&last), b"request req-last\n");
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(f.leftovers().is_empty(), "{:?}", f.leftovers());
}

fn zombie(proc_dir: &std::path::Path) -> bool {
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
fn unreadable_config_is_an_init_error() {
    let f = Function::new("name: [broken\n");
    let api = FakeRuntime::start();
    api.push("never", Duration::from_secs(60), "{}");
    let mut boot = start_bootstrap(&api, &f, None, &[]);
    let posts = api.wait_posts(1, Duration::from_secs(30));
    assert_eq!(posts[0].path, "/2018-06-01/runtime/init/error");
    let body = posts[0].json();
    assert_eq!(body["errorType"], "ConfigUnreadable");
    assert!(body["errorMessage"]
        .as_str()
        .unwrap()
        .contains("function_config.yaml"));
    assert!(posts[0]
        .headers
        .iter()
        .any(|(k, v)| k == "lambda-runtime-function-error-type" && v == "Runtime.InitError"));
    // It exits instead of polling for events.
    let gone_by = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = boot.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < gone_by,
            "bootstrap kept running after the init error"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    assert!(api.served().is_empty());
}
