//! Logs: JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON`, each carrying the
//! invocation's request id; the script's output at INFO line by line; the
//! config's `log_level` honoured.

mod common;

use common::*;
use serde_json::Value;

const SCRIPT: &str = "echo first line\necho 'to stderr' >&2\necho third\n";

fn direct() -> String {
    serde_json::json!({"script": b64(SCRIPT.as_bytes())}).to_string()
}

#[test]
fn json_logs_carry_the_request_id() {
    let f = Function::new("name: logs\n");
    let run = f.run_with(
        None,
        &direct(),
        &[
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("AWS_LAMBDA_REQUEST_ID", "req-json"),
        ],
    );
    run.assert_ok();
    let lines: Vec<Value> = run
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let script: Vec<&Value> = lines.iter().filter(|l| l["target"] == "script").collect();
    let texts: Vec<&str> = script
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    for want in ["first line", "to stderr", "third"] {
        assert!(texts.contains(&want), "{texts:?}");
    }
    for l in &script {
        assert_eq!(l["level"], "INFO");
        assert_eq!(l["span"]["request_id"], "req-json", "{l}");
    }
    assert!(lines.iter().any(|l| l["message"] == "invocation succeeded"));
}

#[test]
fn log_level_from_the_config() {
    let quiet = Function::new("name: logs\nlog_level: WARNING\n");
    let run = quiet.run(None, &direct());
    run.assert_ok();
    assert!(!run.stderr.contains("first line"), "{}", run.stderr);
    assert_eq!(run.body_text(), "first line\nto stderr\nthird\n");

    // Without log_level, Lambda's AWS_LAMBDA_LOG_LEVEL applies.
    let plain = Function::new("name: logs\n");
    let run = plain.run_with(None, &direct(), &[("AWS_LAMBDA_LOG_LEVEL", "WARN")]);
    run.assert_ok();
    assert!(!run.stderr.contains("first line"), "{}", run.stderr);

    let verbose = Function::new("name: logs\nlog_level: debug\n");
    let run = verbose.run(None, &direct());
    assert!(run.stderr.contains("DEBUG"), "{}", run.stderr);
    assert!(run.stderr.contains("first line"));
}

#[test]
fn command_arguments_stay_out_of_the_log() {
    let f = Function::new("name: logs\n");
    let event = serde_json::json!({"cmd_args": ["sh", "-c", "true", "--token=s3cr3t-value"]});
    let run = f.run(None, &event.to_string());
    run.assert_ok();
    assert!(!run.stderr.contains("s3cr3t-value"), "{}", run.stderr);
}
