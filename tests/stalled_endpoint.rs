//! A hung AWS endpoint ends a command within the configured bound: the
//! `scar` binary against a real moto server whose process is stopped
//! (`kill -STOP`: the port stays open and connections are accepted, but
//! nothing answers), never a mock. The command exits 1 with an error that
//! names the AWS operation and the endpoint (host:port, no credentials);
//! once the server runs again (`kill -CONT`), a re-run converges.

mod common;
use common::out;

use std::process::{Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The `--timeout` the tests run with (seconds).
const TIMEOUT: &str = "3";
/// How long a stalled command may take before the test calls it hung: the
/// bound (3 s) with room for a loaded machine, and far below what one
/// timeout per remaining call would add up to.
const WITHIN: Duration = Duration::from_secs(20);

const FUNCTIONS: usize = 8;

/// A workflow of [`FUNCTIONS`] functions, each triggered by its own folder
/// of one input bucket and writing to one output bucket.
fn manifest(s: &common::Scratch) -> std::path::PathBuf {
    s.write(
        "wf/run.sh",
        "#!/bin/sh\ncp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/\"\n",
    );
    let mut yaml = String::from("workflow: stall\nfunctions:\n  aws:\n");
    for i in 0..FUNCTIONS {
        yaml.push_str(&format!(
            "  - lambda:\n      name: scar-stall-{i}\n      init_script: run.sh\n      input:\n      - storage_provider: s3\n        path: scar-stall-in/f{i}\n      output:\n      - storage_provider: s3\n        path: scar-stall-out/f{i}\n"
        ));
    }
    s.write("wf/scar.yaml", &yaml);
    s.path().join("wf")
}

fn assert_names_operation_and_endpoint(o: &Output, operation: &str, s: &common::Scratch) {
    let text = out(o);
    let endpoint = format!("127.0.0.1:{}", s.moto.port());
    // `error: <operation> failed` then `Caused by: no answer from <endpoint>`.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.starts_with(&format!("error: {operation} failed\n"))
            && stderr.contains(&format!("Caused by: no answer from {endpoint} ")),
        "the error does not name {operation} and {endpoint}:\n{text}"
    );
    assert!(
        !text.contains("testing"),
        "the credentials must not be shown:\n{text}"
    );
}

/// `scar plan <flags> -f <manifest>` (with `envs`) while the emulator is
/// stopped: it must fail (exit 1) within the bound; its output.
fn plan_stopped(s: &common::Scratch, flags: &[&str], envs: &[(&str, &str)]) -> Output {
    let wf = manifest(s);
    s.moto.pause();
    let started = Instant::now();
    let o = s
        .command(&["plan"])
        .args(flags)
        .arg("-f")
        .arg(&wf)
        .envs(envs.iter().copied())
        .output()
        .expect("run scar");
    let took = started.elapsed();
    s.moto.resume();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(took < WITHIN, "plan took {took:?}:\n{}", out(&o));
    o
}

#[test]
fn plan_against_a_stopped_endpoint_fails_within_the_timeout() {
    let s = common::Scratch::new();
    let o = plan_stopped(&s, &["--timeout", TIMEOUT], &[]);
    // The first call of every command asks STS who the credentials are.
    assert_names_operation_and_endpoint(&o, "GetCallerIdentity", &s);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.lines().filter(|l| l.starts_with("error:")).count() == 1,
        "one error:\n{stderr}"
    );
}

#[test]
fn the_timeout_comes_from_the_environment_too() {
    let s = common::Scratch::new();
    let o = plan_stopped(&s, &[], &[("SCAR_TIMEOUT", "2")]);
    assert!(
        out(&o).contains("2 s per AWS call"),
        "the bound in force is named:\n{}",
        out(&o)
    );
}

#[test]
fn apply_stopped_midway_fails_within_the_timeout_and_a_rerun_converges() {
    let s = common::Scratch::new();
    let wf = manifest(&s);
    let stdout_path = s.path().join("apply.stdout");
    let mut child = s
        .command(&[
            "apply",
            "--auto-approve",
            "--parallelism",
            "1",
            "--timeout",
            TIMEOUT,
            "-f",
        ])
        .arg(&wf)
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn scar");
    let (rx, reader) = common::stderr_lines(&mut child);
    // Stop the server as soon as the first change is reported done.
    let mut lines = Vec::new();
    let mut paused_at = None;
    let hard_stop = Instant::now() + Duration::from_secs(300);
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                let first_done = line.ends_with(" done");
                lines.push(line);
                if first_done && paused_at.is_none() {
                    s.moto.pause();
                    paused_at = Some(Instant::now());
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if Instant::now() > hard_stop {
                    let _ = child.kill();
                    s.moto.resume();
                    panic!("apply hung:\n{}", lines.join("\n"));
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let status = child.wait().unwrap();
    let ended = Instant::now();
    reader.join().unwrap();
    s.moto.resume();
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let text = format!("--- stdout\n{stdout}--- stderr\n{}", lines.join("\n"));
    let paused_at = paused_at.unwrap_or_else(|| panic!("no change was reported done:\n{text}"));
    assert_eq!(status.code(), Some(1), "{text}");
    let took = ended - paused_at;
    assert!(took < WITHIN, "apply ran {took:?} after the stop:\n{text}");
    eprintln!("{text}");
    let endpoint = format!("127.0.0.1:{}", s.moto.port());
    // The end-of-run failure lines go to stderr.
    assert!(
        lines.iter().any(|l| l.starts_with("error: ")
            && l.contains(" failed: no answer from ")
            && l.contains(&endpoint)),
        "no error names the operation and {endpoint}:\n{text}"
    );
    assert!(!text.contains("testing"), "credentials shown:\n{text}");

    // The endpoint answers again: the same apply finishes the job.
    let again = s
        .command(&["apply", "--auto-approve", "-f"])
        .arg(&wf)
        .output()
        .expect("run scar");
    assert_eq!(again.status.code(), Some(0), "{}", out(&again));
    let plan = s
        .command(&["plan", "--detailed-exitcode", "-f"])
        .arg(&wf)
        .output()
        .expect("run scar");
    assert_eq!(plan.status.code(), Some(0), "{}", out(&plan));
}

#[test]
fn a_closed_port_is_named_at_once() {
    let s = common::Scratch::new();
    let wf = manifest(&s);
    // A loopback port nothing listens on (bound, then released).
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let started = Instant::now();
    let o = s
        .command(&["plan", "-f"])
        .arg(&wf)
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .output()
        .expect("run scar");
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(took < WITHIN, "plan took {took:?}:\n{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.starts_with("error: GetCallerIdentity failed\n")
            && stderr.contains(&format!("Caused by: cannot reach 127.0.0.1:{port}")),
        "{}",
        out(&o)
    );
}

/// Through the library: a call still waiting when another one times out
/// stops waiting then (it does not wait out its own bound), and a call made
/// afterwards is not sent at all. The endpoint is a loopback port that
/// accepts connections and never answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_calls_are_abandoned_when_one_times_out() {
    use scar::cloud::aws::{AwsCloud, Timeouts};
    use scar::cloud::{ErrorKind, LambdaApi};
    use std::sync::Arc;

    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("127.0.0.1:{}", silent.local_addr().unwrap().port());
    let total = Duration::from_secs(2);
    let timeouts = Timeouts {
        connect: Duration::from_secs(1),
        total,
    };
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(format!("http://{endpoint}"))
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .timeout_config(timeouts.sdk())
        .load()
        .await;
    let cloud = Arc::new(AwsCloud::with_account(&conf, "123456789012").unwrap());

    let started = Instant::now();
    let first = tokio::spawn({
        let cloud = cloud.clone();
        async move { cloud.get_function("first").await }
    });
    // The second call starts late: on its own it would wait until 1.5 s + 2 s.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = tokio::spawn({
        let cloud = cloud.clone();
        async move { (cloud.get_function("second").await, started.elapsed()) }
    });
    let first = first.await.unwrap().unwrap_err();
    let (second, second_ended) = second.await.unwrap();
    let second = second.unwrap_err();

    assert_eq!(first.kind, ErrorKind::Timeout, "{first:?}");
    let why = first.chain_text();
    assert!(
        why.starts_with("GetFunction first failed: no answer from ") && why.contains(&endpoint),
        "{why}"
    );
    assert_eq!(second.kind, ErrorKind::Timeout, "{second:?}");
    let why = second.chain_text();
    assert!(why.contains("not sent") && why.contains(&endpoint), "{why}");
    assert!(
        second_ended < Duration::from_millis(1500) + total,
        "the second call waited out its own bound ({second_ended:?})"
    );

    // Nothing more is sent.
    let before = cloud.requests().total();
    let third = Instant::now();
    let e = cloud.get_function("third").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(third.elapsed() < Duration::from_millis(100));
    assert_eq!(cloud.requests().total(), before, "a request was counted");
}

#[test]
fn validate_online_against_a_stopped_endpoint_fails_within_the_timeout() {
    let s = common::Scratch::new();
    let wf = manifest(&s);
    s.moto.pause();
    let started = Instant::now();
    let o = s
        .command(&["validate", "--online", "--timeout", TIMEOUT, "-f"])
        .arg(&wf)
        .output()
        .expect("run scar");
    let took = started.elapsed();
    s.moto.resume();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(took < WITHIN, "validate took {took:?}:\n{}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let endpoint = format!("127.0.0.1:{}", s.moto.port());
    assert!(
        stdout.contains("HeadBucket scar-stall-in failed")
            && stdout.contains(&format!("no answer from {endpoint} ")),
        "{}",
        out(&o)
    );
}
