//! The command line: help, version, usage errors, and `lambda` outside Lambda.

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scar-supervisor"));
    for var in [
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    ] {
        c.env_remove(var);
    }
    c
}

#[test]
fn help_and_version() {
    let out = bin().arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--event <file>"));
    let out = bin().arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("scar-supervisor "));
}

#[test]
fn usage_errors_exit_1() {
    for args in [
        &["bogus"][..],
        &["run", "--event"],
        &["run", "--event", "a", "b"],
        &["lambda", "x"],
    ] {
        let out = bin().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("usage:"),
            "{args:?}"
        );
    }
}

#[test]
fn lambda_mode_outside_lambda_says_why() {
    let out = bin().arg("lambda").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs AWS_LAMBDA_RUNTIME_API"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn absurd_timeouts_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.yaml"), "name: t\n").unwrap();
    for timeout in ["1e300", "-5", "NaN", "inf", "x"] {
        let mut cmd = bin();
        cmd.args(["run", "--event", "-"])
            .env("SCAR_FUNCTION_CONFIG_PATH", dir.path().join("c.yaml"))
            .env("SCAR_SUPERVISOR_TIMEOUT", timeout)
            .env("TMPDIR", dir.path())
            .env("AWS_REGION", "us-east-1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write as _;
        let script = "ZWNobyBvaw=="; // echo ok
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{{\"script\": \"{script}\"}}").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{timeout}: {err}");
        assert!(out.status.success(), "{timeout}: {err}");
    }
}
