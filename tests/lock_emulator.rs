//! Workflow locks against the AWS emulator (moto): the lock object is
//! written with a conditional put (of racing acquirers exactly one wins);
//! an apply finding the lock held fails naming the holder, or waits with
//! `--lock-timeout`; two applies started at once both finish and leave
//! the account consistent; a lock left by an apply killed for real
//! (SIGKILL) is reported with its owner and removed by `force-unlock`
//! given its id, and only then.

mod common;
use common::{out, stdout};

use std::sync::Arc;
use std::time::{Duration, Instant};

use scar::cloud::aws::AwsCloud;
use scar::lock::{self, LockInfo, Owner, Store};

type Env = common::Scratch;

const LOCKS: &str = "scar-lock-bucket";
const KEY: &str = "scar/locks/locked.lock";

/// A workflow of `n` functions, each on its own folder of one bucket.
fn manifest(n: usize) -> String {
    let mut y = String::from("workflow: locked\nfunctions:\n  aws:\n");
    for i in 0..n {
        y += &format!(
            "  - lambda:\n      name: scar-locked-{i:02}\n      init_script: run.sh\n      input:\n      - storage_provider: s3\n        path: scar-locked-in/f{i:02}\n      output:\n      - storage_provider: s3\n        path: scar-locked-out/f{i:02}\n"
        );
    }
    y
}

async fn setup(n: usize) -> (Env, String, aws_sdk_s3::Client) {
    let env = Env::new();
    env.write("run.sh", "#!/bin/sh\ntrue\n");
    let m = env.write("scar.yaml", &manifest(n));
    let conf = env.sdk().await;
    let s3 = common::s3(&conf);
    s3.create_bucket().bucket(LOCKS).send().await.unwrap();
    (env, m.display().to_string(), s3)
}

async fn lock_object(s3: &aws_sdk_s3::Client) -> Option<serde_json::Value> {
    let o = s3.get_object().bucket(LOCKS).key(KEY).send().await.ok()?;
    let body = o.body.collect().await.ok()?.into_bytes();
    serde_json::from_slice(&body).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_racing_acquirers_exactly_one_wins() {
    let (env, _, _) = setup(1).await;
    let cloud = Arc::new(AwsCloud::new(&env.sdk().await).await.unwrap());
    let store = Store::Bucket {
        bucket: LOCKS.into(),
        key: KEY.into(),
    };
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12 {
        let (cloud, store) = (cloud.clone(), store.clone());
        tasks.spawn(async move {
            let owner = Owner {
                who: format!("racer-{i}@test"),
                ci_run: None,
            };
            let quiet = |_: &LockInfo| {};
            lock::acquire(
                &*cloud,
                &store,
                LockInfo::new("locked", "apply", &owner),
                Duration::ZERO,
                &quiet,
            )
            .await
        });
    }
    let (mut won, mut held) = (Vec::new(), 0);
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(h) => won.push(h),
            Err(lock::LockError::Held { .. }) => held += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one wins");
    assert_eq!(held, 11);
    // The object is the winner's, and its release removes it.
    let (info, _) = lock::read(&*cloud, &store).await.unwrap().unwrap();
    assert_eq!(info, won[0].info);
    lock::release(&*cloud, &won[0]).await.unwrap();
    assert!(lock::read(&*cloud, &store).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_finding_the_lock_held_fails_naming_the_holder_or_waits() {
    let (env, m, s3) = setup(2).await;
    let holder = serde_json::json!({
        "id": "feedc0de12345678",
        "workflow": "locked",
        "who": "alice@build-7",
        "ci_run": "https://github.com/acme/photos/actions/runs/42",
        "command": "apply",
        "created": "2026-12-01T10:00:00Z",
        "pid": 4242,
    });
    s3.put_object()
        .bucket(LOCKS)
        .key(KEY)
        .body(holder.to_string().into_bytes().into())
        .send()
        .await
        .unwrap();
    let o = env.expect(
        1,
        &["apply", "--auto-approve", "--lock-bucket", LOCKS, "-f", &m],
    );
    let text = out(&o);
    common::assert_lines(
        &text,
        &[
            "workflow `locked` is locked by alice@build-7 (scar apply, since 2026-12-01T10:00:00Z",
            "CI run https://github.com/acme/photos/actions/runs/42",
            "lock id feedc0de12345678",
            "scar force-unlock feedc0de12345678",
        ],
    );
    assert!(
        !stdout(&o).contains("will be created"),
        "nothing is planned under someone else's lock:\n{text}"
    );
    // Nothing was changed.
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    assert!(lambda
        .list_functions()
        .send()
        .await
        .unwrap()
        .functions()
        .is_empty());

    // With --lock-timeout it waits, and goes on once the holder is done.
    let child = env
        .command(&[
            "apply",
            "--auto-approve",
            "--lock-bucket",
            LOCKS,
            "--lock-timeout",
            "60s",
            "-f",
            &m,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    s3.delete_object()
        .bucket(LOCKS)
        .key(KEY)
        .send()
        .await
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        out(&o).contains("Waiting for the lock of workflow `locked`, held by alice@build-7"),
        "{}",
        out(&o)
    );
    assert!(lock_object(&s3).await.is_none(), "released after the apply");
    env.expect(0, &["plan", "--detailed-exitcode", "-f", &m]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_started_at_once_leave_the_account_consistent() {
    let (env, m, s3) = setup(6).await;
    let args = [
        "apply",
        "--auto-approve",
        "--lock-bucket",
        LOCKS,
        "--lock-timeout",
        "120s",
        "-f",
        &m,
    ];
    let spawn = || {
        env.command(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for o in [&a, &b] {
        assert_eq!(o.status.code(), Some(0), "{}", out(o));
    }
    // One ran the changes; the other planned after it and found none, or
    // (if it was not kept waiting) the changes were split between them.
    let created = |o: &std::process::Output| stdout(o).contains("Apply complete");
    assert!(created(&a) || created(&b), "{}\n{}", out(&a), out(&b));
    assert!(lock_object(&s3).await.is_none());
    env.expect(0, &["plan", "--detailed-exitcode", "-f", &m]);
}

/// Starts an apply of `m` under the bucket lock, one change at a time,
/// and returns once it reports its first finished change: the child, the
/// rest of its stderr lines, and their reader.
fn apply_until_first_change(
    env: &Env,
    m: &str,
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<()>,
) {
    let mut child = env
        .command(&[
            "apply",
            "--auto-approve",
            "--parallelism",
            "1",
            "--lock-bucket",
            LOCKS,
            "-f",
            m,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, reader) = common::stderr_lines(&mut child);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the apply reports its first finished change");
        if line.contains("done") {
            break;
        }
    }
    (child, lines, reader)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_left_by_a_killed_apply_is_reported_and_removed_by_its_id() {
    let (env, m, s3) = setup(24).await;
    // Killed for real once it is changing the account.
    let (mut child, lines, reader) = apply_until_first_change(&env, &m);
    child.kill().unwrap();
    child.wait().unwrap();
    drop(lines);
    let _ = reader.join();
    let left = lock_object(&s3)
        .await
        .expect("the killed apply's lock is left");
    let id = left["id"].as_str().unwrap().to_string();
    assert_eq!(left["command"], "apply");
    let who = left["who"].as_str().unwrap().to_string();
    assert!(who.contains('@'), "{who}");

    // The next apply names it; a wrong id removes nothing.
    let o = env.expect(
        1,
        &["apply", "--auto-approve", "--lock-bucket", LOCKS, "-f", &m],
    );
    common::assert_lines(
        &out(&o),
        &[&format!("locked by {who}"), &format!("lock id {id}")],
    );
    let o = env.expect(
        1,
        &[
            "force-unlock",
            "0123456789abcdef",
            "--lock-bucket",
            LOCKS,
            "-f",
            &m,
        ],
    );
    assert!(out(&o).contains(&format!("has id {id}")), "{}", out(&o));
    assert!(lock_object(&s3).await.is_some());
    let o = env.ok(&["force-unlock", &id, "--lock-bucket", LOCKS, "-f", &m]);
    assert!(
        stdout(&o).contains(&format!("held by {who}")),
        "{}",
        out(&o)
    );
    assert!(lock_object(&s3).await.is_none());

    // And the workflow converges.
    env.ok(&["apply", "--auto-approve", "--lock-bucket", LOCKS, "-f", &m]);
    env.expect(0, &["plan", "--detailed-exitcode", "-f", &m]);
}

#[test]
fn without_a_bucket_the_lock_is_a_file_here_and_ci_is_warned() {
    let env = Env::new();
    env.write("run.sh", "#!/bin/sh\ntrue\n");
    let m = env.write("scar.yaml", &manifest(1));
    let m = m.to_str().unwrap();
    env.write(
        ".scar-locked.lock",
        r#"{"id":"abad1dea00000000","workflow":"locked","who":"carol@laptop","command":"destroy","created":"2026-12-01T09:00:00Z","pid":1}"#,
    );
    let o = env
        .command(&["apply", "--auto-approve", "-f", m])
        .env("CI", "true")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    common::assert_lines(
        &out(&o),
        &[
            "warning: no lock bucket",
            "locked by carol@laptop (scar destroy",
            "lock id abad1dea00000000",
        ],
    );
    env.ok(&["force-unlock", "abad1dea00000000", "-f", m]);
    assert!(!env.path().join(".scar-locked.lock").exists());
    // Outside CI (the test itself may run under CI=true): no warning.
    let o = env
        .command(&["apply", "--auto-approve", "-f", m])
        .env_remove("CI")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(!out(&o).contains("warning: no lock bucket"), "not in CI");
    assert!(!env.path().join(".scar-locked.lock").exists(), "released");
}

#[test]
fn a_lock_bucket_that_does_not_exist_is_named_before_any_change() {
    let env = Env::new();
    env.write("run.sh", "#!/bin/sh\ntrue\n");
    let m = env.write(
        "scar.yaml",
        &format!("lock:\n  bucket: scar-no-such-locks\n{}", manifest(1)),
    );
    let o = env.expect(1, &["apply", "--auto-approve", "-f", m.to_str().unwrap()]);
    common::assert_lines(
        &out(&o),
        &[
            "the lock bucket `scar-no-such-locks` does not exist",
            "hint: create the bucket",
        ],
    );
    assert!(!stdout(&o).contains("will be created"), "{}", out(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_interrupted_by_ctrl_c_releases_its_lock() {
    let (env, m, s3) = setup(24).await;
    let (mut child, lines, reader) = apply_until_first_change(&env, &m);
    assert!(lock_object(&s3).await.is_some(), "held while it runs");
    // Ctrl-C, as a terminal sends it.
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.iter().collect();
    let _ = reader.join();
    assert_eq!(status.code(), Some(1), "{rest:#?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("interrupted: the changes under way were cancelled")),
        "{rest:#?}"
    );
    assert!(lock_object(&s3).await.is_none(), "released on Ctrl-C");
    // The next apply needs no force-unlock, and converges.
    env.ok(&["apply", "--auto-approve", "--lock-bucket", LOCKS, "-f", &m]);
    env.expect(0, &["plan", "--detailed-exitcode", "-f", &m]);
}
