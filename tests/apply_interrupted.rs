//! An apply (or a destroy) killed mid-way, then re-run, converges with no
//! orphans: the `scar` binary against the AWS emulator (moto), killed for
//! real (SIGKILL) after some of its changes have finished, and the account
//! checked afterwards with raw SDK calls.
//!
//! Each test generates a workflow of N functions, each triggered by its own
//! folder on one of two input buckets, applies it with `--parallelism 2`,
//! watches the progress lines on stderr (`<address>: creating done`) and
//! kills the process after a chosen number of them. If the run ends before
//! it could be killed, the test tries again with more functions and a
//! parallelism of 1, and fails only if it never caught a run mid-way.

mod common;
use common::{out, stdout};

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WORKFLOW: &str = "bulk";
const INPUT_BUCKETS: [&str; 2] = ["scar-bulk-in-a", "scar-bulk-in-b"];
const OUTPUT_BUCKET: &str = "scar-bulk-out";
/// (functions, parallelism) of each attempt at killing a run mid-way.
const ATTEMPTS: [(usize, u16); 3] = [(30, 2), (60, 1), (120, 1)];

struct Env {
    s: common::Scratch,
    clients: Clients,
}

struct Clients {
    lambda: aws_sdk_lambda::Client,
    s3: aws_sdk_s3::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    iam: aws_sdk_iam::Client,
}

impl Env {
    async fn new() -> Env {
        let s = common::Scratch::new();
        let conf = s.sdk().await;
        let clients = Clients {
            lambda: aws_sdk_lambda::Client::new(&conf),
            s3: common::s3(&conf),
            logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
            iam: aws_sdk_iam::Client::new(&conf),
        };
        Env { s, clients }
    }

    fn wf_dir(&self) -> PathBuf {
        self.s.path().join("wf")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.s.command(args);
        cmd.arg("-f").arg(self.wf_dir());
        cmd
    }

    fn scar(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run scar")
    }

    /// A fresh account and a manifest of `n` functions.
    fn reset(&self, n: usize) -> Vec<Function> {
        self.s.moto.reset();
        // An earlier attempt's kill may have left its lock.
        let _ = std::fs::remove_file(self.s.path().join(format!(".scar-{WORKFLOW}.lock")));
        let dir = self.wf_dir();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("run.sh"),
            "#!/bin/sh\ncp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/\"\n",
        )
        .unwrap();
        let functions = functions(n);
        let mut yaml = format!("workflow: {WORKFLOW}\nfunctions:\n  aws:\n");
        for f in &functions {
            yaml.push_str(&format!(
                "  - lambda:\n      name: {}\n      memory: 128\n      timeout: 30\n      init_script: run.sh\n      input:\n      - storage_provider: s3\n        path: {}/{}\n      output:\n      - storage_provider: s3\n        path: {OUTPUT_BUCKET}/{}\n",
                f.name, f.bucket, f.folder, f.folder
            ));
        }
        std::fs::write(dir.join("scar.yaml"), yaml).unwrap();
        functions
    }
}

#[derive(Clone, Debug)]
struct Function {
    name: String,
    bucket: &'static str,
    folder: String,
}

fn functions(n: usize) -> Vec<Function> {
    (0..n)
        .map(|i| Function {
            name: format!("scar-bulk-{i:03}"),
            bucket: INPUT_BUCKETS[i % 2],
            folder: format!("in-{i:03}"),
        })
        .collect()
}

/// `Plan: A to add, C to change, D to destroy.` → (A, C, D).
fn plan_counts(text: &str) -> Option<(usize, usize, usize)> {
    let line = text.lines().find(|l| l.starts_with("Plan: "))?;
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    match n[..] {
        [a, c, d] => Some((a, c, d)),
        _ => None,
    }
}

/// A run of `scar` killed once `kill_after` changes had finished.
struct Killed {
    /// Addresses the run reported done (before and just after the kill).
    done: Vec<String>,
    /// How many were done when the kill was sent.
    done_at_kill: usize,
    stderr: String,
    stdout: String,
}

/// Runs `scar <args>`, kills it (SIGKILL) after `kill_after` "done" lines;
/// `Err` with the output if it ended before it could be killed.
fn run_and_kill(env: &Env, args: &[&str], kill_after: usize) -> Result<Killed, String> {
    run_and_kill_when(env, args, &format!("after {kill_after} done"), |done| {
        done.len() >= kill_after
    })
}

/// Runs `scar <args>` and kills it (SIGKILL) as soon as `kill_now` holds
/// of the addresses reported done so far (`when` says it, for the error);
/// `Err` with the output if it ended before it could be killed.
fn run_and_kill_when(
    env: &Env,
    args: &[&str],
    when: &str,
    kill_now: impl Fn(&[String]) -> bool,
) -> Result<Killed, String> {
    let stdout_path = env.s.path().join("killed-run.stdout");
    let mut child = env
        .command(args)
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn scar");
    let (rx, reader) = common::stderr_lines(&mut child);
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut lines = Vec::new();
    let mut done = Vec::new();
    let mut done_at_kill = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                if let Some((addr, _)) =
                    line.strip_suffix(" done").and_then(|l| l.rsplit_once(": "))
                {
                    done.push(addr.to_string());
                }
                lines.push(line);
                if done_at_kill.is_none() && kill_now(&done) {
                    child.kill().expect("kill scar");
                    done_at_kill = Some(done.len());
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("scar {args:?} hung:\n{}", lines.join("\n"));
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let status: ExitStatus = child.wait().unwrap();
    reader.join().unwrap();
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = lines.join("\n");
    match (done_at_kill, status.signal()) {
        (Some(at), Some(9)) => Ok(Killed {
            done,
            done_at_kill: at,
            stderr,
            stdout,
        }),
        _ => Err(format!(
            "scar {args:?} was not killed mid-way ({status}, {} changes done, kill {when})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            done.len()
        )),
    }
}

/// Whether the resource at a plan address exists in the account (for the
/// kinds a user would look at; others answer `None`).
async fn exists(c: &Clients, addr: &str) -> Option<bool> {
    let (kind, name) = addr.split_once('.')?;
    Some(match kind {
        "lambda_function" => c
            .lambda
            .get_function()
            .function_name(name)
            .send()
            .await
            .is_ok(),
        "log_group" => c
            .logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .send()
            .await
            .unwrap()
            .log_groups()
            .iter()
            .any(|g| g.log_group_name() == Some(name)),
        "s3_bucket" => c.s3.head_bucket().bucket(name).send().await.is_ok(),
        "iam_role" => c.iam.get_role().role_name(name).send().await.is_ok(),
        _ => return None,
    })
}

/// Every function, log group under /aws/lambda/ and bucket of the account,
/// each with its tags (None: it has none at all).
struct Inventory {
    functions: BTreeMap<String, BTreeMap<String, String>>,
    log_groups: BTreeMap<String, BTreeMap<String, String>>,
    buckets: BTreeMap<String, BTreeMap<String, String>>,
    role: bool,
}

async fn inventory(c: &Clients) -> Inventory {
    let mut functions = BTreeMap::new();
    let mut marker = None;
    loop {
        let page = c
            .lambda
            .list_functions()
            .set_marker(marker.take())
            .send()
            .await
            .unwrap();
        for f in page.functions() {
            let arn = f.function_arn().unwrap();
            let tags = c.lambda.list_tags().resource(arn).send().await.unwrap();
            functions.insert(
                f.function_name().unwrap().to_string(),
                tags.tags()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            );
        }
        match page.next_marker() {
            Some(m) if !m.is_empty() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    let mut log_groups = BTreeMap::new();
    let mut token = None;
    loop {
        let page = c
            .logs
            .describe_log_groups()
            .log_group_name_prefix("/aws/lambda/")
            .set_next_token(token.take())
            .send()
            .await
            .unwrap();
        for g in page.log_groups() {
            let name = g.log_group_name().unwrap().to_string();
            let arn = g
                .log_group_arn()
                .map(str::to_string)
                .unwrap_or_else(|| g.arn().unwrap().trim_end_matches(":*").to_string());
            let tags = c
                .logs
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .unwrap();
            log_groups.insert(
                name,
                tags.tags()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            );
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    let mut buckets = BTreeMap::new();
    for b in c.s3.list_buckets().send().await.unwrap().buckets() {
        let name = b.name().unwrap().to_string();
        let tags = match c.s3.get_bucket_tagging().bucket(&name).send().await {
            Ok(t) => t
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            Err(_) => BTreeMap::new(), // NoSuchTagSet
        };
        buckets.insert(name, tags);
    }
    let role = c
        .iam
        .get_role()
        .role_name(format!("scar-{WORKFLOW}"))
        .send()
        .await
        .is_ok();
    Inventory {
        functions,
        log_groups,
        buckets,
        role,
    }
}

/// Everything in the account carries the workflow's tags.
fn orphans(inv: &Inventory) -> Vec<String> {
    let owned = |t: &BTreeMap<String, String>| {
        t.get("scar:workflow").map(String::as_str) == Some(WORKFLOW)
            && t.get("scar:managed").map(String::as_str) == Some("true")
    };
    let mut bad = Vec::new();
    for (what, map) in [
        ("function", &inv.functions),
        ("log group", &inv.log_groups),
        ("bucket", &inv.buckets),
    ] {
        for (name, tags) in map {
            if !owned(tags) {
                bad.push(format!("{what} {name} without scar's tags: {tags:?}"));
            }
        }
    }
    bad
}

/// After a converged apply: every function, its log group, permission and
/// notification entry is there.
async fn check_converged(c: &Clients, fns: &[Function]) {
    let inv = inventory(c).await;
    let bad = orphans(&inv);
    assert!(bad.is_empty(), "orphans:\n{}", bad.join("\n"));
    let want: BTreeSet<&str> = fns.iter().map(|f| f.name.as_str()).collect();
    let have: BTreeSet<&str> = inv.functions.keys().map(String::as_str).collect();
    assert_eq!(have, want, "functions in the account");
    let want_groups: BTreeSet<String> = fns
        .iter()
        .map(|f| format!("/aws/lambda/{}", f.name))
        .collect();
    let have_groups: BTreeSet<String> = inv.log_groups.keys().cloned().collect();
    assert_eq!(have_groups, want_groups, "log groups in the account");
    let want_buckets: BTreeSet<&str> = INPUT_BUCKETS
        .iter()
        .copied()
        .chain([OUTPUT_BUCKET])
        .collect();
    let have_buckets: BTreeSet<&str> = inv.buckets.keys().map(String::as_str).collect();
    assert_eq!(have_buckets, want_buckets, "buckets in the account");
    assert!(inv.role, "the role scar-{WORKFLOW} is missing");

    for bucket in INPUT_BUCKETS {
        let entries: Vec<(String, String)> = common::notification_entries(&c.s3, bucket)
            .await
            .into_iter()
            .map(|(_, arn, prefix)| (arn, prefix))
            .collect();
        let expected: Vec<(String, String)> = fns
            .iter()
            .filter(|f| f.bucket == bucket)
            .map(|f| {
                (
                    format!("arn:aws:lambda:us-east-1:123456789012:function:{}", f.name),
                    format!("{}/", f.folder),
                )
            })
            .collect();
        let got: BTreeSet<_> = entries.iter().cloned().collect();
        assert_eq!(
            entries.len(),
            expected.len(),
            "{bucket}: one notification entry per function, no duplicates: {entries:?}"
        );
        assert_eq!(
            got,
            expected.into_iter().collect::<BTreeSet<_>>(),
            "{bucket}: notification entries"
        );
    }
    for f in fns {
        let p = c
            .lambda
            .get_policy()
            .function_name(&f.name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: no policy: {e:?}", f.name));
        let policy: serde_json::Value = serde_json::from_str(p.policy().unwrap()).unwrap();
        let statements = policy["Statement"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            statements.len(),
            1,
            "{}: exactly one statement: {policy}",
            f.name
        );
        let s = statements[0].to_string();
        assert!(
            s.contains("s3.amazonaws.com") && s.contains(&format!("\"arn:aws:s3:::{}\"", f.bucket)),
            "{}: {s}",
            f.name
        );
    }
}

/// Nothing of the workflow is left after a destroy.
async fn check_destroyed(c: &Clients) {
    let inv = inventory(c).await;
    assert!(
        inv.functions.is_empty(),
        "functions left: {:?}",
        inv.functions.keys()
    );
    assert!(
        inv.log_groups.is_empty(),
        "log groups left: {:?}",
        inv.log_groups.keys()
    );
    assert!(!inv.role, "the role scar-{WORKFLOW} is left");
    assert!(
        inv.buckets.is_empty(),
        "empty buckets left: {:?}",
        inv.buckets.keys()
    );
}

#[derive(Clone, Copy, Debug)]
enum Point {
    Early,
    Middle,
    Late,
}

/// Applies, killed at `point`; checks the partial state; re-applies; checks
/// convergence and no orphans; destroys.
/// A run killed for real leaves its lock (the lock file here, as no lock
/// bucket is named): the next run is refused naming it, and
/// `force-unlock` with its id removes it.
fn force_unlock_after_kill(env: &Env, command: &str) {
    let lock = env.s.path().join(format!(".scar-{WORKFLOW}.lock"));
    let text = std::fs::read_to_string(&lock).expect("the killed run's lock is left");
    let info: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(info["command"], command, "{text}");
    let id = info["id"].as_str().unwrap();
    let o = env.scar(&[command, "--auto-approve"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains(&format!("lock id {id}")), "{}", out(&o));
    let o = env.scar(&["force-unlock", id]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(!lock.exists());
}

async fn apply_killed_at(point: Point) {
    let started = Instant::now();
    let env = Env::new().await;
    let c = &env.clients;
    let mut failures = Vec::new();
    let mut caught = None;
    for (n, parallelism) in ATTEMPTS {
        let fns = env.reset(n);
        let o = env.scar(&["plan", "--detailed-exitcode"]);
        assert_eq!(o.status.code(), Some(2), "{}", out(&o));
        let (total, 0, 0) = plan_counts(&stdout(&o)).expect("a Plan: line") else {
            panic!("a fresh account plans only adds:\n{}", out(&o));
        };
        let kill_after = match point {
            Point::Early => 8,
            Point::Middle => total / 2,
            Point::Late => total - 6,
        };
        let p = parallelism.to_string();
        match run_and_kill(
            &env,
            &["apply", "--auto-approve", "--parallelism", &p],
            kill_after,
        ) {
            // Under load the kill may land after the last change: that
            // run did not stop mid-way, so try again with a longer one.
            Ok(k) if k.done.len() >= total => failures.push(format!(
                "all {total} changes were done before the kill landed"
            )),
            Ok(k) => {
                // The plan right after the kill: it must show what is left.
                let o = env.scar(&["plan", "--detailed-exitcode"]);
                if o.status.code() == Some(0) {
                    // Every change had landed; the last just was not printed.
                    failures.push(format!("nothing left to do after the kill:\n{}", out(&o)));
                    continue;
                }
                caught = Some((fns, total, k, o));
                break;
            }
            Err(e) => failures.push(e),
        }
    }
    let Some((fns, total, killed, o)) = caught else {
        panic!(
            "{point:?}: the apply was never killed mid-way:\n{}",
            failures.join("\n\n")
        );
    };
    eprintln!(
        "{point:?}: {} functions, {total} changes; killed after {} done ({} reported done in all)",
        fns.len(),
        killed.done_at_kill,
        killed.done.len()
    );
    assert!(
        !killed.stdout.contains("Apply complete!"),
        "{}",
        killed.stdout
    );
    assert!(
        !killed.stderr.contains("FAILED"),
        "the killed run had failures before the kill:\n{}",
        killed.stderr
    );

    // What the killed run said it had done is in the account.
    for addr in &killed.done {
        if let Some(there) = exists(c, addr).await {
            assert!(there, "{addr} was reported done but is not in the account");
        }
    }
    let inv = inventory(c).await;
    let bad = orphans(&inv);
    assert!(
        bad.is_empty(),
        "orphans right after the kill:\n{}",
        bad.join("\n")
    );

    // Partially created: plan shows the rest, and only the rest.
    assert_eq!(
        o.status.code(),
        Some(2),
        "after the kill, plan must show pending changes (and none blocked):\n{}",
        out(&o)
    );
    let (add, change, destroy) = plan_counts(&stdout(&o)).expect("a Plan: line");
    assert_eq!(destroy, 0, "{}", out(&o));
    assert!(add + change > 0);
    assert!(
        add + change <= total - killed.done.len(),
        "{} changes were reported done, yet {add} to add + {change} to change of {total}:\n{}",
        killed.done.len(),
        out(&o)
    );
    eprintln!("{point:?}: after the kill, plan: {add} to add, {change} to change");
    assert!(add < total, "the killed run created nothing?\n{}", out(&o));

    // Re-run: refused while the killed run's lock is there; converges once
    // it is removed by its id.
    force_unlock_after_kill(&env, "apply");
    let o = env.scar(&["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let summary = format!("Apply complete! Resources: {add} added, {change} changed, 0 destroyed.");
    assert!(
        stdout(&o).contains(&summary),
        "want {summary:?}:\n{}",
        out(&o)
    );
    let o = env.scar(&["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(stdout(&o).contains("No changes."), "{}", out(&o));
    check_converged(c, &fns).await;

    let o = env.scar(&["destroy", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    check_destroyed(c).await;
    eprintln!("{point:?}: {:.1?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_killed_early_then_rerun_converges_with_no_orphans() {
    apply_killed_at(Point::Early).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_killed_midway_then_rerun_converges_with_no_orphans() {
    apply_killed_at(Point::Middle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_killed_late_then_rerun_converges_with_no_orphans() {
    apply_killed_at(Point::Late).await;
}

/// The same for destroy: killed mid-way, re-run, nothing is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_killed_midway_then_rerun_leaves_nothing() {
    let started = Instant::now();
    let env = Env::new().await;
    let c = &env.clients;
    let mut failures = Vec::new();
    let mut caught = None;
    for (n, parallelism) in ATTEMPTS {
        let fns = env.reset(n);
        let o = env.scar(&["apply", "--auto-approve"]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        // Kill once half of the functions are gone. Only function deletes
        // are counted: log groups and notification entries depend on no
        // function, so the walk interleaves them with the functions in
        // whatever order the tasks happen to be scheduled.
        let half = n / 2;
        let p = parallelism.to_string();
        match run_and_kill_when(
            &env,
            &["destroy", "--auto-approve", "--parallelism", &p],
            &format!("after {half} functions destroyed"),
            |done| {
                done.iter()
                    .filter(|a| a.starts_with("lambda_function."))
                    .count()
                    >= half
            },
        ) {
            Ok(k) => {
                let left = inventory(c).await.functions.len();
                if left == 0 {
                    failures.push("every function was gone before the kill landed".into());
                    continue;
                }
                caught = Some((fns, k));
                break;
            }
            Err(e) => failures.push(e),
        }
    }
    let Some((fns, killed)) = caught else {
        panic!(
            "the destroy was never killed mid-way:\n{}",
            failures.join("\n\n")
        );
    };
    eprintln!(
        "destroy: {} functions; killed after {} done",
        fns.len(),
        killed.done_at_kill
    );
    for addr in &killed.done {
        if let Some(there) = exists(c, addr).await {
            assert!(!there, "{addr} was reported destroyed but is still there");
        }
    }
    let inv = inventory(c).await;
    assert!(
        !inv.functions.is_empty() && inv.functions.len() < fns.len(),
        "partially destroyed: {} of {} functions left",
        inv.functions.len(),
        fns.len()
    );
    let bad = orphans(&inv);
    assert!(
        bad.is_empty(),
        "orphans right after the kill:\n{}",
        bad.join("\n")
    );

    force_unlock_after_kill(&env, "destroy");
    let o = env.scar(&["destroy", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(stdout(&o).contains("Destroy complete!"), "{}", out(&o));
    check_destroyed(c).await;
    // And the workflow can come back from nothing.
    let o = env.scar(&["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    eprintln!("destroy: {:.1?}", started.elapsed());
}
