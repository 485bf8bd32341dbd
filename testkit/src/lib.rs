//! Test harness shared by the `scar` and `scar-supervisor` test suites.
//!
//! [`Moto`] starts a real moto server (the AWS emulator, installed by
//! `scripts/emulator.sh install`) on a free loopback port for one test binary
//! and stops it when dropped. It never skips: if the emulator cannot start,
//! the test fails with a message saying how to install it.
//!
//! [`shared_path`] finds the read-only `../shared` folder beside the checkout;
//! a test that needs it is ignored, with its reason, when it is missing
//! outside CI (the `scar_shared_missing` flag of the build scripts), and
//! fails when it is missing under `CI=true`.
//!
//! [`registry::Registry`] starts a real OCI registry on a free loopback port.

pub mod dns;
pub mod image;
pub mod registry;

pub mod rootfs;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The root of the cargo workspace (the checkout).
pub fn workspace_root() -> PathBuf {
    // testkit/ sits directly under the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit has a parent folder")
        .to_path_buf()
}

/// `../shared/<rel>` beside the checkout.
///
/// Panics when it is missing. The tests that call it carry
/// `#[cfg_attr(scar_shared_missing, ignore = "...")]`: the crate's build
/// script sets that flag when `../shared` is missing outside CI, so such a
/// test shows as *ignored*, with its reason, in the test summary; under
/// `CI=true` (which `.ci/run` sets) it runs, and a missing folder fails it.
pub fn shared_path(rel: &str) -> PathBuf {
    let path = workspace_root().join("..").join("shared").join(rel);
    assert!(
        path.exists(),
        "{} is missing, and CI always has ../shared beside the checkout\nhint: outside CI, a build made before ../shared was there still runs these tests: `touch build.rs` to rebuild",
        path.display()
    );
    path
}

/// The static supervisor (it runs in any image): `SCAR_SUPERVISOR_STATIC`
/// if set (CI sets it to the release layer's binary), else built once per
/// test binary by `supervisor/build-static.sh dev` into `<target>/static/`
/// (its own target folder, so it never waits on the lock of the `cargo
/// test` that runs this). `test_binary`: any binary cargo built for the
/// test (`env!("CARGO_BIN_EXE_…")`), to find `<target>`.
pub fn static_supervisor(test_binary: &Path) -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("SCAR_SUPERVISOR_STATIC") {
            return bin.into();
        }
        // <target>/debug/<binary> → <target>/static
        let target = test_binary
            .parent()
            .and_then(Path::parent)
            .expect("the test binary lives in <target>/<profile>/")
            .join("static");
        let script = workspace_root().join("supervisor").join("build-static.sh");
        let started = Instant::now();
        let out = Command::new("bash")
            .arg(&script)
            .arg("dev")
            .env("CARGO_TARGET_DIR", &target)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        eprintln!(
            "static supervisor: {} (built in {:.1?})",
            bin.display(),
            started.elapsed()
        );
        bin
    })
}

/// A running moto server on 127.0.0.1, stopped on drop.
pub struct Moto {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Moto {
    /// A package cache of scar's own for the commands run against this
    /// server (`SCAR_CACHE_DIR`), so tests never touch `~/.cache`.
    pub fn cache_dir(&self) -> PathBuf {
        std::env::temp_dir().join(format!("scar-test-cache-{}", self.port))
    }
}

impl Moto {
    /// Starts a Docker-free moto server on a free loopback port and waits
    /// until it answers. Panics with a clear message if it cannot.
    pub fn start() -> Moto {
        let python = moto_python();
        assert!(
            python.exists(),
            "the AWS emulator is not installed ({} is missing).\n\
             hint: run `scripts/emulator.sh install` (or set SCAR_MOTO_PYTHON)",
            python.display()
        );
        let wrapper = workspace_root().join("scripts").join("moto_server.py");
        let mut last_err = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let log = std::env::temp_dir().join(format!("scar-moto-{port}.log"));
            let log_file = std::fs::File::create(&log).expect("create moto log file");
            let child = Command::new(&python)
                .arg(&wrapper)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                // Where moto's request recorder (`/moto-api/recorder/`)
                // writes, when a test turns it on: beside the log, never
                // in the checkout.
                .env(
                    "MOTO_RECORDER_FILEPATH",
                    std::env::temp_dir().join(format!("scar-moto-{port}.recording")),
                )
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("clone log handle"))
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
            let mut moto = Moto { child, port, log };
            match moto.wait_ready(Duration::from_secs(30)) {
                Ok(()) => return moto,
                Err(e) => last_err = e,
            }
        }
        panic!("the AWS emulator did not start: {last_err}");
    }

    fn wait_ready(&mut self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "moto exited with {status}; log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                ));
            }
            if http_get_status(self.port, "/moto-api/") == Some(200) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "moto did not answer on 127.0.0.1:{} within {within:?}; log: {}",
            self.port,
            self.log.display()
        ))
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment an AWS client needs to talk to this server and only to it.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            // Keep a developer's own AWS profile files out of the tests.
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
            ("SCAR_CACHE_DIR", self.cache_dir().display().to_string()),
        ]
    }

    /// The subnets and the `default` security group of moto's default VPC
    /// in us-east-1 (their ids are random per server), read with the
    /// emulator's own boto3, as a user would take them from their account
    /// for `batch.compute_resources` (scar itself never calls EC2).
    pub fn default_network(&self) -> (Vec<String>, Vec<String>) {
        let script = r#"
import boto3, json, sys
ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s.get("DefaultForAz"))
groups = [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] == "default"]
print(json.dumps([subnets, groups]))
"#;
        let out = self.python(script, &[]);
        let (subnets, groups): (Vec<String>, Vec<String>) =
            serde_json::from_str(&out).expect("subnets and groups as JSON");
        assert!(
            !subnets.is_empty() && !groups.is_empty(),
            "moto has no default VPC"
        );
        (subnets, groups)
    }

    /// Runs a Python script with the emulator's own interpreter (boto3 is
    /// there), with this server's endpoint as `sys.argv[1]` and `args`
    /// after it; its stdout. For what the tests check through services
    /// scar has no client of (SQS) and moto's own API (`/moto-api/`).
    pub fn python(&self, script: &str, args: &[&str]) -> String {
        let out = Command::new(moto_python())
            .args(["-c", script, &self.endpoint()])
            .args(args)
            .envs(self.env())
            .output()
            .expect("run the emulator's python");
        assert!(
            out.status.success(),
            "the emulator's python failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Applies [`Moto::env`] to a command.
    pub fn configure(&self, cmd: &mut Command) {
        cmd.env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN");
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server process (`kill -STOP`): its port stays open and the
    /// kernel still accepts connections, but nothing answers, as with a hung
    /// endpoint. [`Moto::resume`] undoes it; so does dropping the value.
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Lets a [`Moto::pause`]d server run again (`kill -CONT`).
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("cannot run `kill -{name}`: {e}"));
        assert!(
            status.success(),
            "`kill -{name} {}` failed: {status}",
            self.pid()
        );
    }

    /// Wipes all emulator state (`POST /moto-api/reset`).
    pub fn reset(&self) {
        let status = http_request(self.port, "POST", "/moto-api/reset");
        assert_eq!(status, Some(200), "moto reset failed");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too; CONT first all the same, so
        // nothing is left stopped if the kill is refused.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(self.cache_dir());
        // Keep the log only when the test failed, for the post-mortem.
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

fn moto_python() -> PathBuf {
    match std::env::var_os("SCAR_MOTO_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => workspace_root().join(".emulator/venv/bin/python"),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local addr").port()
}

fn http_get_status(port: u16, path: &str) -> Option<u16> {
    http_request(port, "GET", path)
}

/// A minimal HTTP/1.0 request to the emulator's own admin API, returning the
/// status code. (The AWS APIs themselves are only ever called through the SDK.)
fn http_request(port: u16, method: &str, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace().nth(1)?.parse().ok()
}
