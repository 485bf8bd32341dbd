//! `scar validate --online` against the AWS emulator (moto, started by the
//! test harness on a free loopback port): it checks, read-only, that each
//! `iam.role` exists and that each bucket is absent or reachable.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use testkit::Moto;

fn scar(moto: &Moto, args: &[&str], cwd: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scar"));
    cmd.args(args).current_dir(cwd).env("NO_COLOR", "1");
    moto.configure(&mut cmd);
    cmd.output().expect("run scar")
}

const MANIFEST: &str = r#"workflow: online
functions:
  aws:
  - lambda:
      name: with-role
      input:
      - storage_provider: s3
        path: scar-online-existing/in
      output:
      - storage_provider: s3
        path: scar-online-absent/out
    iam:
      role: arn:aws:iam::123456789012:role/scar-existing-role
  - lambda:
      name: missing-role
    iam:
      role: arn:aws:iam::123456789012:role/does-not-exist
  - lambda:
      name: wrong-account
    iam:
      role: arn:aws:iam::111111111111:role/scar-existing-role
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_checks_roles_and_buckets_read_only() {
    let moto = Moto::start();
    let conf = common::sdk(&moto).await;
    let iam = aws_sdk_iam::Client::new(&conf);
    iam.create_role()
        .role_name("scar-existing-role")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let s3 = common::s3(&conf);
    s3.create_bucket()
        .bucket("scar-online-existing")
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.yaml"), MANIFEST).unwrap();
    let o = scar(
        &moto,
        &["validate", "--online", "-o", "json", "-f", "m.yaml"],
        dir.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let diags = v["diagnostics"].as_array().unwrap();
    let codes: Vec<(&str, &str)> = diags
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap(),
                d["path"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("role-not-found", "functions.aws[1].iam.role"),
            ("role-arn-mismatch", "functions.aws[2].iam.role"),
        ],
        "{v:#}"
    );
    let mismatch = &diags[1];
    assert_eq!(mismatch["line"], 21);
    assert!(mismatch["hint"]
        .as_str()
        .unwrap()
        .contains("arn:aws:iam::123456789012:role/scar-existing-role"));

    // Read-only: nothing was created.
    let buckets = s3.list_buckets().send().await.unwrap();
    let names: Vec<&str> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["scar-online-existing"]);
    let roles = iam.list_roles().send().await.unwrap();
    assert_eq!(roles.roles().len(), 1);

    // With only the existing role, the same manifest is valid online.
    let fixed = MANIFEST
        .replace("does-not-exist", "scar-existing-role")
        .replace("111111111111", "123456789012");
    std::fs::write(dir.path().join("m.yaml"), fixed).unwrap();
    let o = scar(&moto, &["validate", "--online", "-f", "m.yaml"], dir.path());
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.starts_with("valid: workflow `online`, 3 functions"),
        "{out}"
    );
}

#[test]
fn online_without_a_reachable_endpoint_fails_clearly() {
    // A loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.yaml"), MANIFEST).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_scar"))
        .args(["validate", "--online", "-f", "m.yaml"])
        .current_dir(dir.path())
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("error[aws-call-failed]: GetRole does-not-exist failed"),
        "{out}"
    );
    assert!(
        out.contains("hint: check the credentials, region and endpoint"),
        "{out}"
    );
}
