//! Helpers shared by the supervisor's integration tests: S3 clients on the
//! emulator, running the built binary in command mode, decoding responses,
//! and boto3 set-up for what the Rust tests do not otherwise need an SDK for
//! (IAM users, Batch queues).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use serde_json::Value;

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64 body")
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// An S3 client for the emulator, as a user of the bucket would have.
pub fn s3(moto: &testkit::Moto) -> aws_sdk_s3::Client {
    s3_with_keys(moto, "testing", "testing")
}

pub fn s3_with_keys(moto: &testkit::Moto, ak: &str, sk: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(moto.endpoint())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            ak, sk, None, None, "test",
        ))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

pub async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("create bucket");
}

pub async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &[u8]) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.to_vec().into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {bucket}/{key}: {e:?}"));
}

pub async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    s3.get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {bucket}/{key}: {e:?}"))
        .body
        .collect()
        .await
        .unwrap()
        .to_vec()
}

/// Every key in the bucket, sorted.
pub async fn keys(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = s3
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("list");
    let mut keys: Vec<String> = out
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect();
    keys.sort();
    keys
}

/// An S3 notification as S3 sends it (key URL-encoded, `+` for spaces).
pub fn s3_event(bucket: &str, encoded_key: &str) -> String {
    serde_json::json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-27T08:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": encoded_key, "size": 1}}
    }]})
    .to_string()
}

/// A function folder: `function_config.yaml` and scripts, plus a private TMPDIR.
pub struct Function {
    pub dir: tempfile::TempDir,
    pub tmp: tempfile::TempDir,
}

impl Function {
    pub fn new(config_yaml: &str) -> Function {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("function_config.yaml"), config_yaml).unwrap();
        Function {
            dir,
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    pub fn with_script(self, name: &str, body: &str) -> Function {
        std::fs::write(self.dir.path().join(name), body).unwrap();
        self
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("function_config.yaml")
    }

    /// The binary in command mode, with the emulator's env and this function's config.
    pub fn command(&self, moto: Option<&testkit::Moto>) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_scar-supervisor"));
        cmd.arg("run")
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .env_remove("EVENT")
            .env_remove("SCRIPT")
            .env_remove("FDL")
            .env_remove("FUNCTION_CONFIG")
            .env_remove("LOG_LEVEL")
            .env("SCAR_FUNCTION_CONFIG_PATH", self.config_path())
            .env("TMPDIR", self.tmp.path());
        if let Some(m) = moto {
            m.configure(&mut cmd);
        }
        cmd
    }

    /// Runs one event through stdin.
    pub fn run(&self, moto: Option<&testkit::Moto>, event: &str) -> Run {
        self.run_with(moto, event, &[])
    }

    pub fn run_with(&self, moto: Option<&testkit::Moto>, event: &str, env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(moto);
        cmd.envs(env.iter().copied());
        run_stdin(cmd, event.as_bytes())
    }

    /// Names left in the private TMPDIR (must be none after every invocation).
    pub fn leftovers(&self) -> Vec<String> {
        leftovers(self.tmp.path())
    }
}

pub fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

pub fn run_stdin(mut cmd: Command, stdin: &[u8]) -> Run {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start scar-supervisor");
    let mut pipe = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run::from(out)
}

/// A finished command-mode run.
#[derive(Debug)]
pub struct Run {
    pub success: bool,
    pub response: Value,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let response = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!("stdout is not one JSON response ({e}):\n{stdout}\nstderr:\n{stderr}")
        });
        Run {
            success: out.status.success(),
            response,
            stderr,
        }
    }
}

impl Run {
    pub fn status(&self) -> i64 {
        self.response["statusCode"].as_i64().unwrap_or(-1)
    }

    /// The decoded body.
    pub fn body(&self) -> Vec<u8> {
        unb64(self.response["body"].as_str().expect("body"))
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body()).into_owned()
    }

    /// `error_type` and `exception` of a 500 response.
    pub fn error(&self) -> (String, String) {
        let v: Value = serde_json::from_slice(&self.body()).expect("error body is JSON");
        (
            v["error_type"].as_str().unwrap_or_default().to_string(),
            v["exception"].as_str().unwrap_or_default().to_string(),
        )
    }

    pub fn assert_ok(&self) {
        assert!(
            self.success && self.status() == 200,
            "expected success, got {}\nbody: {}\nstderr:\n{}",
            self.response,
            self.body_text(),
            self.stderr
        );
    }

    pub fn assert_error(&self, kind: &str) -> String {
        assert!(
            !self.success,
            "expected a failure, got success:\n{}",
            self.stderr
        );
        assert_eq!(self.status(), 500, "{}", self.response);
        let (got, message) = self.error();
        assert_eq!(got, kind, "message: {message}\nstderr:\n{}", self.stderr);
        message
    }
}

/// The emulator's Python (it has boto3 and jsonschema), as testkit finds it.
pub fn emulator_python() -> PathBuf {
    match std::env::var_os("SCAR_MOTO_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => testkit::workspace_root().join(".emulator/venv/bin/python"),
    }
}

/// Runs a boto3 snippet in the emulator's venv (set-up only); returns its stdout as JSON.
pub fn boto3(moto: &testkit::Moto, script: &str) -> Value {
    let python = emulator_python();
    let mut cmd = Command::new(python);
    cmd.arg("-c").arg(script);
    moto.configure(&mut cmd);
    let out = cmd.output().expect("run the emulator's python");
    assert!(
        out.status.success(),
        "boto3 set-up failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// The script environment printed by `env -0`, as a map.
pub fn env_map(raw: &[u8]) -> BTreeMap<String, String> {
    raw.split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .filter_map(|kv| {
            let kv = String::from_utf8_lossy(kv);
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}
