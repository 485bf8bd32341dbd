//! Every runnable example in `manifests/examples/` goes through plan → apply
//! → plan (no changes) → destroy with the `scar` binary against the AWS
//! emulator (moto), and the account is checked after each step with raw SDK
//! calls, as a user would check it.
//!
//! The folders are listed at run time: a new example is covered without
//! touching this file. moto never runs function code, so the supervisor
//! layer is a stand-in zip.

mod common;
use common::{out, stdout};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use testkit::Moto;

struct Clients {
    lambda: aws_sdk_lambda::Client,
    s3: aws_sdk_s3::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    iam: aws_sdk_iam::Client,
}

async fn clients(moto: &Moto) -> Clients {
    let conf = common::sdk(moto).await;
    Clients {
        lambda: aws_sdk_lambda::Client::new(&conf),
        s3: common::s3(&conf),
        logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
        iam: aws_sdk_iam::Client::new(&conf),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// What the test expects of one example, read from its manifests.
struct Expected {
    workflow: String,
    /// function name → its S3 inputs as (bucket, folder).
    functions: BTreeMap<String, Vec<(String, String)>>,
    /// Every bucket the functions read or write.
    buckets: Vec<String>,
}

fn bucket_and_folder(path: &str) -> (String, String) {
    let p = path.trim_matches('/');
    match p.split_once('/') {
        Some((b, f)) => (b.to_string(), f.trim_matches('/').to_string()),
        None => (p.to_string(), String::new()),
    }
}

fn expected(dir: &Path) -> Expected {
    let loaded = scar::manifest::load(&[dir.to_path_buf()]);
    assert_eq!(
        loaded.error_count(),
        0,
        "{} does not load: {:?}",
        dir.display(),
        loaded.diagnostics
    );
    let m = loaded.manifest.expect("a manifest");
    let mut functions = BTreeMap::new();
    let mut buckets = Vec::new();
    for f in &m.functions {
        let l = &f.spec.lambda;
        let mut inputs = Vec::new();
        // Only `storage_provider: s3` inputs get a trigger (README); outputs
        // to the function's own S3 (`s3`, `s3.default`) get their bucket.
        for i in l.input.iter().filter(|i| i.storage_provider == "s3") {
            let (b, folder) = bucket_and_folder(&i.path);
            buckets.push(b.clone());
            inputs.push((b, folder));
        }
        for o in &l.output {
            if matches!(o.storage_provider.as_str(), "s3" | "s3.default") {
                buckets.push(bucket_and_folder(&o.path).0);
            }
        }
        functions.insert(l.name.clone(), inputs);
    }
    buckets.sort();
    buckets.dedup();
    assert!(!functions.is_empty(), "{}: no functions", dir.display());
    Expected {
        workflow: m.workflow,
        functions,
        buckets,
    }
}

/// Every string in a JSON value (to look for an ARN in a policy condition).
fn strings(v: &Value, acc: &mut Vec<String>) {
    match v {
        Value::String(s) => acc.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, acc)),
        Value::Object(o) => o.values().for_each(|x| strings(x, acc)),
        _ => {}
    }
}

async fn check_applied(c: &Clients, e: &Expected, problems: &mut Vec<String>) {
    let wf = &e.workflow;
    for (name, inputs) in &e.functions {
        let f = match c.lambda.get_function().function_name(name).send().await {
            Ok(f) => f,
            Err(err) => {
                problems.push(format!(
                    "{wf}: function {name} missing after apply: {err:?}"
                ));
                continue;
            }
        };
        let tags = f.tags().cloned().unwrap_or_default();
        if tags.get("scar:workflow") != Some(wf) {
            problems.push(format!("{wf}: {name} has scar:workflow tag {tags:?}"));
        }
        if tags.get("scar:managed").map(String::as_str) != Some("true") {
            problems.push(format!("{wf}: {name} has scar:managed tag {tags:?}"));
        }
        let arn = f
            .configuration()
            .and_then(|c| c.function_arn())
            .unwrap_or_default()
            .to_string();
        let policy: Value = match c.lambda.get_policy().function_name(name).send().await {
            Ok(p) => serde_json::from_str(p.policy().unwrap_or("{}")).unwrap_or(Value::Null),
            Err(err) => {
                problems.push(format!("{wf}: {name} has no resource policy: {err:?}"));
                Value::Null
            }
        };
        let statements: Vec<Value> = match &policy["Statement"] {
            Value::Array(a) => a.clone(),
            Value::Null => Vec::new(),
            other => vec![other.clone()],
        };
        for (bucket, folder) in inputs {
            // The permission for S3 to invoke the function, for this bucket.
            let bucket_arn = format!("arn:aws:s3:::{bucket}");
            let allowed = statements.iter().any(|s| {
                let mut principal = Vec::new();
                strings(&s["Principal"], &mut principal);
                let mut cond = Vec::new();
                strings(&s["Condition"], &mut cond);
                principal.iter().any(|p| p == "s3.amazonaws.com")
                    && cond.contains(&bucket_arn)
                    && s["Effect"] == "Allow"
            });
            if !allowed {
                problems.push(format!(
                    "{wf}: {name} has no s3.amazonaws.com statement for {bucket_arn}: {policy}"
                ));
            }
            // The bucket's notification entry for this input.
            let prefix = format!("{folder}/");
            let n = match c
                .s3
                .get_bucket_notification_configuration()
                .bucket(bucket)
                .send()
                .await
            {
                Ok(n) => n,
                Err(err) => {
                    problems.push(format!("{wf}: notifications of {bucket}: {err:?}"));
                    continue;
                }
            };
            let found = n.lambda_function_configurations().iter().any(|cfg| {
                cfg.lambda_function_arn() == arn
                    && cfg
                        .events()
                        .iter()
                        .any(|ev| ev.as_str().starts_with("s3:ObjectCreated:"))
                    && cfg
                        .filter()
                        .and_then(|f| f.key())
                        .map(|k| {
                            k.filter_rules().iter().any(|r| {
                                r.name()
                                    .is_some_and(|n| n.as_str().eq_ignore_ascii_case("prefix"))
                                    && r.value() == Some(prefix.as_str())
                            })
                        })
                        .unwrap_or(false)
            });
            if !found {
                problems.push(format!(
                    "{wf}: bucket {bucket} has no notification entry with prefix {prefix:?} for {arn}: {:?}",
                    n.lambda_function_configurations()
                ));
            }
        }
    }
    for b in &e.buckets {
        if let Err(err) = c.s3.head_bucket().bucket(b).send().await {
            problems.push(format!("{wf}: bucket {b} missing after apply: {err:?}"));
        }
    }
}

async fn check_destroyed(c: &Clients, e: &Expected, problems: &mut Vec<String>) {
    let wf = &e.workflow;
    for name in e.functions.keys() {
        if c.lambda
            .get_function()
            .function_name(name)
            .send()
            .await
            .is_ok()
        {
            problems.push(format!("{wf}: function {name} left after destroy"));
        }
        let groups = c
            .logs
            .describe_log_groups()
            .log_group_name_prefix(format!("/aws/lambda/{name}"))
            .send()
            .await
            .unwrap();
        for g in groups.log_groups() {
            if g.log_group_name() == Some(format!("/aws/lambda/{name}").as_str()) {
                problems.push(format!("{wf}: log group of {name} left after destroy"));
            }
        }
    }
    // Nothing else tagged with the workflow either.
    let functions = c.lambda.list_functions().send().await.unwrap();
    for f in functions.functions() {
        let arn = f.function_arn().unwrap_or_default();
        let tags = c.lambda.list_tags().resource(arn).send().await.unwrap();
        if tags.tags().and_then(|t| t.get("scar:workflow")) == Some(wf) {
            problems.push(format!("{wf}: function {arn} of the workflow left"));
        }
    }
    let role = format!("scar-{wf}");
    if c.iam.get_role().role_name(&role).send().await.is_ok() {
        problems.push(format!("{wf}: role {role} left after destroy"));
    }
    // The buckets were empty: destroy removes them.
    let buckets = c.s3.list_buckets().send().await.unwrap();
    for b in buckets.buckets().iter().filter_map(|b| b.name()) {
        if e.buckets.iter().any(|x| x == b) {
            problems.push(format!("{wf}: empty bucket {b} left after destroy"));
        }
    }
}

fn example_folders() -> Vec<PathBuf> {
    let root = testkit::workspace_root().join("manifests").join("examples");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_applies_converges_and_destroys() {
    let folders = example_folders();
    assert!(!folders.is_empty(), "manifests/examples/ holds no workflow");
    // One emulator for the whole binary: the examples run one after the
    // other and each is destroyed (and checked gone) before the next.
    let scratch = common::Scratch::new();
    let c = clients(&scratch.moto).await;

    let mut problems = Vec::new();
    for src in &folders {
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let dir = scratch.path().join(&name);
        copy_dir(src, &dir);
        let e = expected(&dir);
        let d = dir.to_str().unwrap();
        let wf = e.workflow.clone();
        let started = std::time::Instant::now();

        let o = scratch.scar(&["plan", "--detailed-exitcode", "-f", d]);
        if o.status.code() != Some(2) {
            problems.push(format!(
                "{name}: first plan exited {:?}\n{}",
                o.status,
                out(&o)
            ));
            continue;
        }
        for f in e.functions.keys() {
            let line = format!("+ lambda_function \"{f}\" {{");
            if !stdout(&o).contains(&line) {
                problems.push(format!("{name}: first plan lacks {line:?}\n{}", out(&o)));
            }
        }

        let o = scratch.scar(&["apply", "--auto-approve", "-f", d]);
        if o.status.code() != Some(0) || !stdout(&o).contains("Apply complete!") {
            problems.push(format!("{name}: apply exited {:?}\n{}", o.status, out(&o)));
            continue;
        }

        let o = scratch.scar(&["plan", "--detailed-exitcode", "-f", d]);
        if o.status.code() != Some(0) || !stdout(&o).contains("No changes.") {
            problems.push(format!(
                "{name}: plan after apply exited {:?} (want 0, `No changes.`)\n{}",
                o.status,
                out(&o)
            ));
        }

        check_applied(&c, &e, &mut problems).await;

        let o = scratch.scar(&["destroy", "--auto-approve", "-f", d]);
        if o.status.code() != Some(0) {
            problems.push(format!(
                "{name}: destroy exited {:?}\n{}",
                o.status,
                out(&o)
            ));
        }
        check_destroyed(&c, &e, &mut problems).await;
        eprintln!(
            "example {name} (workflow {wf}, {} functions): {:.1?}",
            e.functions.len(),
            started.elapsed()
        );
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}
