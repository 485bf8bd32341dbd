//! Helpers shared by the emulator test binaries: an SDK configuration that
//! talks to one moto server, clients built the way scar builds them, and
//! the text of a finished `scar` process for assertion messages.
#![allow(dead_code)] // each test binary uses a different subset

pub mod images;

use std::process::Output;

use aws_sdk_s3::config::Credentials;
use testkit::Moto;

/// The SDK configuration of `moto` in `region`, with static test keys.
pub async fn sdk_in(moto: &Moto, region: &'static str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto.endpoint())
        .region(aws_config::Region::new(region))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await
}

/// The SDK configuration of `moto` in us-east-1.
pub async fn sdk(moto: &Moto) -> aws_config::SdkConfig {
    sdk_in(moto, "us-east-1").await
}

/// An S3 client as scar builds it (path-style addressing).
pub fn s3(conf: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    scar::cloud::aws::s3_client(conf)
}

/// stdout and stderr of a finished process, labelled.
pub fn out(o: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// stdout of a finished process.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// An empty but valid zip: the stand-in supervisor layer (moto never runs
/// function code; the real layer is built and tested in `supervisor/`).
pub const EMPTY_ZIP: &[u8] = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

/// One emulator, a scratch folder, and the stand-in layer in it.
pub struct Scratch {
    pub moto: Moto,
    pub dir: tempfile::TempDir,
    pub layer: std::path::PathBuf,
}

impl Scratch {
    pub fn new() -> Scratch {
        let moto = Moto::start();
        let dir = tempfile::tempdir().unwrap();
        let layer = dir.path().join("layer.zip");
        std::fs::write(&layer, EMPTY_ZIP).unwrap();
        Scratch { moto, dir, layer }
    }

    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Writes `text` to `rel` in the folder (parents created).
    pub fn write(&self, rel: &str, text: &str) -> std::path::PathBuf {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `scar <args>`, run in the folder against this emulator only: no
    /// colour, no log filter, the stand-in layer, stdin closed.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_scar"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("SCAR_LOG")
            .env("SCAR_SUPERVISOR_LAYER", &self.layer)
            .stdin(std::process::Stdio::null());
        self.moto.configure(&mut cmd);
        cmd
    }

    /// Runs `scar <args>` to the end.
    pub fn scar(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run scar")
    }

    /// Runs `scar <args>`, which must exit with `code`; its output.
    pub fn expect(&self, code: i32, args: &[&str]) -> Output {
        let o = self.scar(args);
        assert_eq!(o.status.code(), Some(code), "scar {args:?}:\n{}", out(&o));
        o
    }

    /// Runs `scar <args>`, which must succeed; its output.
    pub fn ok(&self, args: &[&str]) -> Output {
        self.expect(0, args)
    }

    /// The SDK configuration of this emulator.
    pub async fn sdk(&self) -> aws_config::SdkConfig {
        sdk(&self.moto).await
    }
}

/// Whether the function exists.
pub async fn function_exists(lambda: &aws_sdk_lambda::Client, name: &str) -> bool {
    lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .is_ok()
}

/// The ARN of a function that exists.
pub async fn function_arn(lambda: &aws_sdk_lambda::Client, name: &str) -> String {
    lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetFunction {name}: {e:?}"))
        .configuration()
        .and_then(|c| c.function_arn())
        .unwrap_or_else(|| panic!("{name} has no ARN"))
        .to_string()
}

/// Fails, showing all of `text`, unless it contains every one of `lines`.
pub fn assert_lines(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

/// The Lambda notification entries of a bucket, in the account's order:
/// (id, function ARN, prefix filter or "").
pub async fn notification_entries(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Vec<(String, String, String)> {
    let n = s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    n.lambda_function_configurations()
        .iter()
        .map(|e| {
            let prefix = e
                .filter()
                .and_then(|f| f.key())
                .and_then(|k| k.filter_rules().first())
                .and_then(|r| r.value())
                .unwrap_or_default()
                .to_string();
            (
                e.id().unwrap_or_default().to_string(),
                e.lambda_function_arn().to_string(),
                prefix,
            )
        })
        .collect()
}

/// The lines a running child writes to its (piped) stderr, as they come:
/// a reader thread sends each to the receiver, and ends with the stream.
pub fn stderr_lines(
    child: &mut std::process::Child,
) -> (
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<()>,
) {
    use std::io::BufRead;
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (rx, reader)
}
