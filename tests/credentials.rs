//! Without AWS settings, `scar plan` ends with one error and a hint that
//! says where region and credentials come from (and how to point scar at
//! the local emulator), without the SDK's warnings about the EC2 instance
//! metadata service, and without a long wait for it.
//!
//! Every run has an empty environment and an empty home folder. The EC2
//! instance metadata service is either switched off
//! (`AWS_EC2_METADATA_DISABLED`) or pointed at a loopback port that accepts
//! connections and never answers, as off EC2 (the SDK would otherwise try
//! 169.254.169.254, and tests talk to loopback addresses only).

mod common;
use common::out;

use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A run must end well before this, IMDS timeouts included.
const WITHIN: Duration = Duration::from_secs(20);

struct Bare {
    home: tempfile::TempDir,
    manifest: std::path::PathBuf,
    layer: std::path::PathBuf,
    /// A loopback port that accepts connections and never answers.
    silent: TcpListener,
}

impl Bare {
    fn new() -> Bare {
        let home = tempfile::tempdir().unwrap();
        let work = home.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::write(work.join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
        let manifest = work.join("scar.yaml");
        std::fs::write(
            &manifest,
            "workflow: bare\nfunctions:\n  aws:\n  - lambda:\n      name: scar-bare\n      init_script: run.sh\n      input:\n      - storage_provider: s3\n        path: scar-bare-in/in\n",
        )
        .unwrap();
        let layer = home.path().join("layer.zip");
        std::fs::write(&layer, common::EMPTY_ZIP).unwrap();
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        Bare {
            home,
            manifest,
            layer,
            silent,
        }
    }

    /// `scar plan -f <manifest>` with nothing but `vars` in its environment.
    fn plan(&self, imds: Imds, vars: &[(&str, &str)]) -> (Output, Duration) {
        self.run(&[], imds, vars)
    }

    /// `scar <global> plan -f <manifest>`.
    fn run(&self, global: &[&str], imds: Imds, vars: &[(&str, &str)]) -> (Output, Duration) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_scar"));
        cmd.env_clear()
            .args(global)
            .arg("plan")
            .arg("-f")
            .arg(&self.manifest)
            .current_dir(self.home.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("SCAR_SUPERVISOR_LAYER", &self.layer)
            .env("SCAR_CACHE_DIR", "");
        match imds {
            Imds::Disabled => {
                cmd.env("AWS_EC2_METADATA_DISABLED", "true");
            }
            Imds::Silent => {
                let port = self.silent.local_addr().unwrap().port();
                cmd.env(
                    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                    format!("http://127.0.0.1:{port}"),
                );
            }
        }
        cmd.envs(vars.iter().copied());
        let started = Instant::now();
        let o = cmd.output().expect("run scar");
        (o, started.elapsed())
    }
}

#[derive(Clone, Copy, Debug)]
enum Imds {
    Disabled,
    /// Reachable, but never answers (as off EC2, or with a firewall).
    Silent,
}

/// Exit 1; stderr is `error: <first>` and a hint naming the settings, in at
/// most three lines, with no SDK warnings.
fn assert_one_error_with_hint(o: &Output, took: Duration, first: &str) {
    let text = out(o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(took < WITHIN, "took {took:?}:\n{text}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.starts_with(&format!("error: {first}")),
        "expected `error: {first}`:\n{text}"
    );
    let hint = stderr
        .lines()
        .find(|l| l.starts_with("hint: "))
        .unwrap_or_else(|| panic!("no hint:\n{text}"));
    for needed in [
        "AWS_PROFILE",
        "--profile",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "--region",
        "eval \"$(scripts/emulator.sh start)\"",
    ] {
        assert!(hint.contains(needed), "the hint lacks {needed}:\n{text}");
    }
    assert!(
        stderr.lines().count() <= 3,
        "more than three lines:\n{text}"
    );
    assert!(!stderr.contains("WARN"), "SDK warnings shown:\n{text}");
    assert!(
        !stderr.to_ascii_lowercase().contains("imds"),
        "IMDS details shown:\n{text}"
    );
    assert!(o.stdout.is_empty(), "no plan on stdout:\n{text}");
}

#[test]
fn no_region_is_one_error_with_a_hint() {
    let bare = Bare::new();
    for imds in [Imds::Disabled, Imds::Silent] {
        let (o, took) = bare.plan(imds, &[]);
        assert_one_error_with_hint(&o, took, "no AWS region is configured");
    }
}

#[test]
fn no_credentials_is_one_error_with_a_hint() {
    let bare = Bare::new();
    for imds in [Imds::Disabled, Imds::Silent] {
        let (o, took) = bare.plan(imds, &[("AWS_REGION", "us-east-1")]);
        assert_one_error_with_hint(&o, took, "no AWS credentials were found");
    }
}

#[test]
fn an_unknown_profile_is_named() {
    let bare = Bare::new();
    let (o, took) = bare.plan(
        Imds::Disabled,
        &[("AWS_REGION", "us-east-1"), ("AWS_PROFILE", "nope")],
    );
    assert_one_error_with_hint(&o, took, "no AWS credentials were found (profile `nope`)");
}

#[test]
fn verbose_shows_each_credential_source_tried() {
    // The error says "-v shows each": it does.
    let bare = Bare::new();
    let (o, _) = bare.run(&["-v"], Imds::Disabled, &[("AWS_REGION", "us-east-1")]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    for source in [
        "provider=Environment",
        "provider=Profile",
        "provider=Ec2InstanceMetadata",
    ] {
        assert!(
            stderr.contains(source),
            "-v does not show {source}:\n{stderr}"
        );
    }
}
