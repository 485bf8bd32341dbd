//! `scar apply` as a person runs it, in a real pseudo-terminal (rexpect),
//! and as a pipeline runs it, without one: against the AWS emulator (moto),
//! on a copy of the `uppercase` example, with the account checked afterwards
//! with raw SDK calls.
//!
//! On a terminal apply shows the plan, asks, and on "yes" draws a progress
//! bar with each finished change printed above it; without a terminal it
//! refuses unless `--auto-approve` is given, and then prints plain lines
//! with no escape codes.

mod common;
use common::out;

use std::io::Write;
use std::process::{Command, Stdio};

use rexpect::process::WaitStatus;
use rexpect::session::PtySession;

const FUNCTION: &str = "scar-uppercase";
const BUCKET: &str = "scar-uppercase";
const WORKFLOW: &str = "uppercase";
const PROMPT: &str = "Do you want to perform these actions? Only 'yes' will be accepted:";
/// The uppercase example: layer, role, bucket, function, log group,
/// permission, notifications.
const PLAN_LINE: &str = "Plan: 7 to add, 0 to change, 0 to destroy.";
const APPLIED: &str = "Apply complete! Resources: 7 added, 0 changed, 0 destroyed.";
struct Env {
    s: common::Scratch,
}

impl Env {
    /// A fresh emulator and a copy of `manifests/examples/uppercase`.
    fn new() -> Env {
        let s = common::Scratch::new();
        let example = testkit::workspace_root().join("manifests/examples/uppercase");
        for file in ["scar.yaml", "uppercase.sh"] {
            let text = std::fs::read_to_string(example.join(file)).unwrap();
            s.write(&format!("wf/{file}"), &text);
        }
        Env { s }
    }

    /// `scar <args> -f <the copy>`, pointed at this emulator only.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.s.command(args);
        // Inherited: in a pseudo-terminal, that is the terminal.
        cmd.arg("-f")
            .arg(self.s.path().join("wf"))
            .env("TERM", "xterm")
            .stdin(Stdio::inherit());
        cmd
    }

    /// `scar apply` in a pseudo-terminal (stdin, stdout and stderr on it).
    fn apply_in_terminal(&self) -> Terminal {
        self.in_terminal("apply")
    }

    /// `scar <command>` in a pseudo-terminal.
    fn in_terminal(&self, command: &str) -> Terminal {
        let session = rexpect::session::spawn_command(self.command(&[command]), Some(120_000))
            .expect("spawn scar in a pseudo-terminal");
        Terminal {
            session,
            transcript: String::new(),
        }
    }

    async fn account(&self) -> Account {
        let conf = self.s.sdk().await;
        let lambda = aws_sdk_lambda::Client::new(&conf);
        let functions = lambda.list_functions().send().await.unwrap();
        let function = match lambda.get_function().function_name(FUNCTION).send().await {
            Ok(f) => Some(f.tags().cloned().unwrap_or_default()),
            Err(e) => {
                let code = e.as_service_error().and_then(|s| {
                    aws_sdk_lambda::error::ProvideErrorMetadata::code(s).map(str::to_string)
                });
                assert_eq!(code.as_deref(), Some("ResourceNotFoundException"), "{e:?}");
                None
            }
        };
        let s3 = common::s3(&conf);
        let buckets = s3.list_buckets().send().await.unwrap();
        let notifications = match function {
            Some(_) => s3
                .get_bucket_notification_configuration()
                .bucket(BUCKET)
                .send()
                .await
                .unwrap()
                .lambda_function_configurations()
                .len(),
            None => 0,
        };
        let iam = aws_sdk_iam::Client::new(&conf);
        let roles = iam.list_roles().send().await.unwrap();
        Account {
            function_names: functions
                .functions()
                .iter()
                .filter_map(|f| f.function_name().map(str::to_string))
                .collect(),
            function_tags: function,
            buckets: buckets
                .buckets()
                .iter()
                .filter_map(|b| b.name().map(str::to_string))
                .collect(),
            roles: roles
                .roles()
                .iter()
                .map(|r| r.role_name().to_string())
                .collect(),
            notifications,
        }
    }
}

/// What a user would look at in the account.
#[derive(Debug)]
struct Account {
    function_names: Vec<String>,
    /// The function's tags, `None` when it does not exist.
    function_tags: Option<std::collections::HashMap<String, String>>,
    buckets: Vec<String>,
    roles: Vec<String>,
    /// Lambda entries in the bucket's notification configuration.
    notifications: usize,
}

impl Account {
    fn assert_untouched(&self) {
        assert!(self.function_names.is_empty(), "{self:?}");
        assert_eq!(self.function_tags, None, "{self:?}");
        assert!(self.buckets.is_empty(), "{self:?}");
        assert!(self.roles.is_empty(), "{self:?}");
    }

    fn assert_applied(&self) {
        assert_eq!(self.function_names, [FUNCTION], "{self:?}");
        let tags = self.function_tags.as_ref().expect("the function exists");
        assert_eq!(
            tags.get("scar:workflow").map(String::as_str),
            Some(WORKFLOW)
        );
        assert_eq!(self.buckets, [BUCKET], "{self:?}");
        assert_eq!(self.roles, [format!("scar-{WORKFLOW}")], "{self:?}");
        assert_eq!(self.notifications, 1, "{self:?}");
    }
}

/// A running `scar` on a pseudo-terminal and everything it wrote so far.
struct Terminal {
    session: PtySession,
    transcript: String,
}

impl Terminal {
    /// Waits for `text`; on a timeout or an early exit, fails with all the
    /// output so far.
    fn expect(&mut self, text: &str) {
        match self.session.exp_string(text) {
            Ok(before) => {
                self.transcript.push_str(&before);
                self.transcript.push_str(text);
            }
            Err(e) => panic!(
                "waiting for {text:?}: {e}\n--- terminal so far\n{}",
                self.transcript
            ),
        }
    }

    fn answer(&mut self, line: &str) {
        self.session.send_line(line).expect("type an answer");
    }

    /// Reads to the end and returns the exit code.
    fn exit_code(&mut self) -> i32 {
        match self.session.exp_eof() {
            Ok(rest) => self.transcript.push_str(&rest),
            Err(e) => panic!("waiting for the end: {e}\n{}", self.transcript),
        }
        match self.session.process().wait().expect("wait for scar") {
            WaitStatus::Exited(_, code) => code,
            other => panic!("scar ended with {other:?}\n{}", self.transcript),
        }
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// The plan, then the prompt: what a person sees before answering.
fn expect_plan_and_prompt(term: &mut Terminal) {
    term.expect(&format!("+ lambda_function \"{FUNCTION}\" {{"));
    term.expect(PLAN_LINE);
    term.expect(PROMPT);
}

#[test]
fn on_a_terminal_answering_no_cancels_and_changes_nothing() {
    let env = Env::new();
    let mut term = env.apply_in_terminal();
    expect_plan_and_prompt(&mut term);
    term.answer("no");
    term.expect("Apply cancelled.");
    let code = term.exit_code();
    assert_eq!(code, 1, "{}", term.transcript);
    assert!(
        !term.transcript.contains("Apply complete!") && !term.transcript.contains("creating"),
        "{}",
        term.transcript
    );
    rt().block_on(env.account()).assert_untouched();
}

#[test]
fn on_a_terminal_answering_yes_applies_with_a_progress_bar() {
    let env = Env::new();
    let mut term = env.apply_in_terminal();
    expect_plan_and_prompt(&mut term);
    term.answer("yes");
    // Each finished change is printed above the bar, terraform-style.
    term.expect(&format!(
        "lambda_function.{FUNCTION}: Creation complete after "
    ));
    term.expect(APPLIED);
    let code = term.exit_code();
    let t = &term.transcript;
    assert_eq!(code, 0, "{t}");
    for addr in [
        format!("lambda_function.{FUNCTION}"),
        format!("s3_bucket.{BUCKET}"),
        format!("iam_role.scar-{WORKFLOW}"),
        format!("log_group./aws/lambda/{FUNCTION}"),
        format!("s3_notifications.{BUCKET}"),
    ] {
        assert!(
            t.contains(&format!("{addr}: Creation complete after ")),
            "no outcome line for {addr}:\n{t}"
        );
    }
    // The bar: drawn with terminal escape codes, and left in its final
    // state (all 7 changes finished) before the summary.
    let bar_end = t
        .rfind("7/7 done")
        .unwrap_or_else(|| panic!("no final bar:\n{t}"));
    assert!(bar_end < t.find(APPLIED).unwrap(), "{t}");
    assert!(
        t.contains("\x1b["),
        "no escape codes: not drawn as a bar?\n{t}"
    );
    // Not the plain lines meant for pipelines.
    assert!(!t.contains("creating..."), "{t}");
    assert!(!t.contains(") done"), "{t}");
    rt().block_on(env.account()).assert_applied();
}

#[test]
fn without_a_terminal_apply_refuses_even_a_piped_yes_then_auto_approve_prints_plain_lines() {
    let env = Env::new();
    // stdin is a pipe that says "yes": not a person's answer.
    let mut child = env
        .command(&["apply"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn scar");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"yes\n")
        .expect("write to scar's stdin");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("refusing to change the account without confirmation")
            && stderr.contains("hint: pass --auto-approve"),
        "{}",
        out(&o)
    );
    assert!(!stderr.contains(PROMPT), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(PLAN_LINE),
        "{}",
        out(&o)
    );
    rt().block_on(env.account()).assert_untouched();

    // With --auto-approve: one plain line when a change starts, one when it
    // ends with its time, and no escape codes anywhere.
    let o = env
        .command(&["apply", "--auto-approve"])
        .stdin(Stdio::null())
        .output()
        .expect("run scar");
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(common::stdout(&o).contains(APPLIED), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!stderr.contains('\x1b'), "{stderr}");
    let starts = stderr
        .lines()
        .filter(|l| l.ends_with(": creating..."))
        .count();
    let ends: Vec<&str> = stderr.lines().filter(|l| l.ends_with(") done")).collect();
    assert_eq!((starts, ends.len()), (7, 7), "{stderr}");
    let line = format!("lambda_function.{FUNCTION}: creating (");
    let done = ends
        .iter()
        .find(|l| l.starts_with(&line))
        .unwrap_or_else(|| panic!("no end line for the function:\n{stderr}"));
    let secs = done[line.len()..].trim_end_matches("s) done");
    assert!(secs.parse::<f64>().is_ok(), "{done:?}");
    rt().block_on(env.account()).assert_applied();
}

#[test]
fn on_a_terminal_a_warning_is_printed_above_the_bar_not_through_it() {
    let env = Env::new();
    let o = env.command(&["apply", "--auto-approve"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let mut term = env.in_terminal("destroy");
    term.expect(PROMPT);
    // Between the plan and the answer, the bucket gets an object: destroy
    // keeps it and logs a warning while the bar is on screen.
    rt().block_on(async {
        let conf = env.s.sdk().await;
        common::s3(&conf)
            .put_object()
            .bucket(BUCKET)
            .key("late/arrival.txt")
            .body(b"data".to_vec().into())
            .send()
            .await
            .unwrap();
    });
    term.answer("yes");
    term.expect("Destroy complete!");
    assert_eq!(term.exit_code(), 0, "{}", term.transcript);
    let csi = regex::Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").unwrap();
    let text = csi.replace_all(&term.transcript, "");
    let line = text
        .lines()
        .find(|l| l.contains("holds objects now: kept"))
        .unwrap_or_else(|| panic!("no warning:\n{}", term.transcript));
    // What the terminal shows of that line: the text after its last
    // carriage return. The log line owns it, from its timestamp on.
    let shown = line.rsplit('\r').next().unwrap_or(line).trim_start();
    assert!(
        shown.starts_with("20") && shown.contains(" WARN "),
        "the warning shares its line with the bar: {shown:?}\n{}",
        term.transcript
    );
    let conf = rt().block_on(env.s.sdk());
    let kept = rt().block_on(common::s3(&conf).head_bucket().bucket(BUCKET).send());
    assert!(kept.is_ok(), "the bucket with an object must be kept");
}
