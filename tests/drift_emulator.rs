//! `scar drift` through the `scar` binary against the AWS emulator (moto):
//! in sync (exit 0); a memory change behind scar's back (drift, applied →
//! observed, exit 2); a manifest edit (pending); both on one attribute
//! (both reported); a resource carrying the workflow's tags that no
//! manifest declares (unmanaged); a deleted function (drift: deleted); the
//! applied record removed by hand (origin unknown); and `plan`'s "changed
//! outside of scar" section. Every JSON report is validated against
//! `schemas/drift.schema.json` (kept fresh here), and no output holds the
//! manifest's secret.

mod common;
use common::{out, stdout};

use serde_json::{json, Value};

type Env = common::Scratch;

const SECRET: &str = "hunter2-drift-secret";

fn manifest(memory: u32, timeout: u32) -> String {
    format!(
        r#"workflow: nightly
functions:
  aws:
  - lambda:
      name: scar-nightly-f
      memory: {memory}
      timeout: {timeout}
      init_script: run.sh
      environment:
        Variables:
          API_TOKEN: {SECRET}
          MODE: fast
      input:
      - storage_provider: s3
        path: scar-nightly-in/in
      output:
      - storage_provider: s3
        path: scar-nightly-out/out
"#
    )
}

const FUNCTION: &str = "lambda_function.scar-nightly-f";

#[test]
fn drift_schema_file_is_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/drift.schema.json");
    let generated = scar::render::json::drift_schema_text();
    if std::env::var_os("SCAR_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == generated,
        "{} is stale: run `SCAR_UPDATE_SCHEMAS=1 cargo test --test drift_emulator`",
        path.display()
    );
}

/// A drift run: its exit status, its JSON report (validated against the
/// stored schema) and its text report; neither holds the secret.
struct Drift {
    code: Option<i32>,
    doc: Value,
    text: String,
}

impl Drift {
    /// The findings of `address` with `status`.
    fn findings(&self, address: &str, status: &str) -> Vec<&Value> {
        self.doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["address"] == address && f["status"] == status)
            .collect()
    }

    /// The one finding of `address` with `status`.
    fn finding(&self, address: &str, status: &str) -> &Value {
        let found = self.findings(address, status);
        assert_eq!(found.len(), 1, "{status} {address}: {:#}", self.doc);
        found[0]
    }

    /// The attribute `name` of a finding.
    fn attr<'a>(f: &'a Value, name: &str) -> &'a Value {
        f["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("no attribute {name} in {f:#}"))
    }
}

fn drift(env: &Env, m: &str) -> Drift {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/drift.schema.json"),
        )
        .expect("schemas/drift.schema.json"),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let j = env.scar(&["drift", "-o", "json", "-f", m]);
    let t = env.scar(&["drift", "-f", m]);
    let md = env.scar(&["drift", "-o", "markdown", "-f", m]);
    for o in [&j, &t, &md] {
        let all = out(o);
        assert!(!all.contains(SECRET), "the secret leaked:\n{all}");
        assert!(
            matches!(o.status.code(), Some(0 | 2)),
            "drift failed:\n{all}"
        );
    }
    assert_eq!(j.status.code(), t.status.code(), "{}", out(&t));
    assert_eq!(j.status.code(), md.status.code(), "{}", out(&md));
    let doc: Value =
        serde_json::from_str(&stdout(&j)).unwrap_or_else(|e| panic!("{e}: {}", out(&j)));
    if let Err(e) = validator.validate(&doc) {
        panic!("the report does not fit the schema: {e}\n{doc:#}");
    }
    assert_eq!(doc["format_version"], "1.0");
    assert_eq!(doc["in_sync"], j.status.code() == Some(0), "{doc:#}");
    Drift {
        code: j.status.code(),
        doc,
        text: stdout(&t),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_tells_changes_outside_scar_from_manifest_edits_and_from_lost_records() {
    let env = Env::new();
    env.write(
        "run.sh",
        "#!/bin/sh\ncp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/\"\n",
    );
    let path = env.write("scar.yaml", &manifest(512, 300));
    let m = path.to_str().unwrap();
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);

    // Before anything is applied, everything is pending creation.
    let d = drift(&env, m);
    assert_eq!(d.code, Some(2));
    assert_eq!(d.finding(FUNCTION, "pending")["change"], "create");

    // 1. Applied: in sync, exit 0.
    env.ok(&["apply", "--auto-approve", "-f", m]);
    let d = drift(&env, m);
    assert_eq!(d.code, Some(0), "{:#}", d.doc);
    assert!(d.text.starts_with("In sync"), "{}", d.text);
    assert!(
        d.doc["summary"]["in_sync"].as_u64().unwrap() >= 5,
        "{:#}",
        d.doc
    );
    // The record is on the function, and holds no secret.
    let tags = lambda
        .list_tags()
        .resource(common::function_arn(&lambda, "scar-nightly-f").await)
        .send()
        .await
        .unwrap();
    let record = tags
        .tags()
        .unwrap()
        .get("scar:applied")
        .expect("the record tag");
    assert!(
        record.contains("memory=512") && !record.contains(SECRET),
        "{record}"
    );

    // 2. Memory changed behind scar's back: drift, applied → observed.
    lambda
        .update_function_configuration()
        .function_name("scar-nightly-f")
        .memory_size(1024)
        .send()
        .await
        .unwrap();
    let d = drift(&env, m);
    assert_eq!(d.code, Some(2));
    let f = d.finding(FUNCTION, "drift");
    assert_eq!(f["change"], "changed");
    let mem = Drift::attr(f, "memory");
    assert_eq!((&mem["before"], &mem["after"]), (&json!(512), &json!(1024)));
    assert!(d.findings(FUNCTION, "pending").is_empty(), "{:#}", d.doc);
    common::assert_lines(&d.text, &["Changed outside of scar", "memory: 512 -> 1024"]);
    // plan shows it in its own section, before what it would do.
    let p = env.expect(2, &["plan", "--detailed-exitcode", "-f", m]);
    let text = stdout(&p);
    let outside = text
        .find("Objects have changed outside of scar")
        .expect(&text);
    let actions = text.find("scar will perform").expect(&text);
    assert!(outside < actions, "{text}");
    assert!(text.contains("memory: 512 -> 1024"), "{text}");
    // And in a pull-request comment.
    let p = env.ok(&["plan", "-o", "markdown", "-f", m]);
    let md = stdout(&p);
    assert!(
        md.starts_with("**Objects have changed outside of scar**")
            && md.contains("memory: 512 -> 1024"),
        "{md}"
    );
    assert!(!md.contains(SECRET), "{md}");

    // 3. Both at once on the same attribute: the manifest now wants 2048.
    std::fs::write(&path, manifest(2048, 300)).unwrap();
    let d = drift(&env, m);
    let mem = Drift::attr(d.finding(FUNCTION, "drift"), "memory").clone();
    assert_eq!((&mem["before"], &mem["after"]), (&json!(512), &json!(1024)));
    let mem = Drift::attr(d.finding(FUNCTION, "pending"), "memory").clone();
    assert_eq!((&mem["before"], &mem["after"]), (&json!(512), &json!(2048)));
    assert_eq!(d.doc["summary"]["drift"], 1);
    assert_eq!(d.doc["summary"]["pending"], 1);

    // 4. Applied again: in sync; then a manifest edit alone is pending.
    env.ok(&["apply", "--auto-approve", "-f", m]);
    assert_eq!(drift(&env, m).code, Some(0));
    std::fs::write(&path, manifest(2048, 120)).unwrap();
    let d = drift(&env, m);
    assert_eq!(d.code, Some(2));
    let t = Drift::attr(d.finding(FUNCTION, "pending"), "timeout").clone();
    assert_eq!((&t["before"], &t["after"]), (&json!(300), &json!(120)));
    assert!(d.findings(FUNCTION, "drift").is_empty(), "{:#}", d.doc);
    common::assert_lines(&d.text, &["Not applied yet", "timeout: 300 -> 120"]);
    // A secret's change is pending too, and shown masked.
    std::fs::write(
        &path,
        manifest(2048, 300).replace(SECRET, "hunter2-rotated-secret"),
    )
    .unwrap();
    let d = drift(&env, m);
    let env_attr = Drift::attr(d.finding(FUNCTION, "pending"), "environment").clone();
    // The applied value is known (the account still holds it) and masked.
    assert_eq!(env_attr["before_known"], true, "{env_attr:#}");
    assert_eq!(env_attr["sensitive"], json!(["API_TOKEN"]));
    assert_eq!(env_attr["before"]["MODE"], "fast");
    assert_eq!(env_attr["before"]["API_TOKEN"], scar::secrets::MASK);
    assert_eq!(env_attr["after"]["API_TOKEN"], scar::secrets::MASK_CHANGED);
    assert!(
        !d.doc.to_string().contains("hunter2-rotated"),
        "{:#}",
        d.doc
    );
    std::fs::write(&path, manifest(2048, 300)).unwrap();
    assert_eq!(drift(&env, m).code, Some(0));

    // 5. The record removed by hand, then a change: origin unknown.
    let arn = common::function_arn(&lambda, "scar-nightly-f").await;
    lambda
        .untag_resource()
        .resource(&arn)
        .tag_keys("scar:applied")
        .send()
        .await
        .unwrap();
    assert_eq!(
        drift(&env, m).code,
        Some(0),
        "a lost record alone is no difference"
    );
    lambda
        .update_function_configuration()
        .function_name("scar-nightly-f")
        .memory_size(128)
        .send()
        .await
        .unwrap();
    let d = drift(&env, m);
    assert_eq!(d.code, Some(2));
    let f = d.finding(FUNCTION, "origin_unknown");
    let mem = Drift::attr(f, "memory");
    assert_eq!((&mem["before"], &mem["after"]), (&json!(128), &json!(2048)));
    assert!(d.findings(FUNCTION, "drift").is_empty(), "{:#}", d.doc);
    assert!(d.text.contains("origin unknown"), "{}", d.text);
    // Apply writes the record again.
    env.ok(&["apply", "--auto-approve", "-f", m]);
    assert_eq!(drift(&env, m).code, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_reports_unmanaged_and_deleted_resources() {
    let env = Env::new();
    env.write("run.sh", "#!/bin/sh\ntrue\n");
    let path = env.write("scar.yaml", &manifest(512, 300));
    let m = path.to_str().unwrap();
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let s3 = common::s3(&conf);
    env.ok(&["apply", "--auto-approve", "-f", m]);
    assert_eq!(drift(&env, m).code, Some(0));

    // A bucket carrying the workflow's tags that no manifest declares.
    s3.create_bucket()
        .bucket("scar-nightly-stray")
        .send()
        .await
        .unwrap();
    let tag = |k: &str, v: &str| {
        aws_sdk_s3::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .unwrap()
    };
    s3.put_bucket_tagging()
        .bucket("scar-nightly-stray")
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(tag("scar:managed", "true"))
                .tag_set(tag("scar:workflow", "nightly"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let d = drift(&env, m);
    assert_eq!(d.code, Some(2));
    let f = d.finding("s3_bucket.scar-nightly-stray", "unmanaged");
    assert_eq!(f["change"], "delete", "{f:#}");
    assert_eq!(d.doc["summary"]["unmanaged"], 1);
    common::assert_lines(&d.text, &["(unmanaged)", "s3_bucket.scar-nightly-stray"]);
    s3.delete_bucket()
        .bucket("scar-nightly-stray")
        .send()
        .await
        .unwrap();
    assert_eq!(drift(&env, m).code, Some(0));

    // The function deleted by hand: the bucket's notification entry that
    // scar applied with it shows it was there.
    lambda
        .delete_function()
        .function_name("scar-nightly-f")
        .send()
        .await
        .unwrap();
    let d = drift(&env, m);
    assert_eq!(d.code, Some(2));
    let f = d.finding(FUNCTION, "drift");
    assert_eq!(f["change"], "deleted", "{f:#}");
    assert!(
        d.findings(FUNCTION, "pending").is_empty(),
        "a deleted function is not a pending create: {:#}",
        d.doc
    );
    assert!(d.text.contains("(deleted)"), "{}", d.text);
    // Apply brings it back, and drift is quiet again.
    env.ok(&["apply", "--auto-approve", "-f", m]);
    assert_eq!(drift(&env, m).code, Some(0));
}

#[test]
fn drift_on_bad_manifests_exits_1_with_the_place() {
    let env = Env::new();
    let p = env.write(
        "scar.yaml",
        "workflow: x\nfunctions:\n  aws:\n  - lambda:\n      memory: lots\n",
    );
    let o = env.expect(1, &["drift", "-f", p.to_str().unwrap()]);
    assert!(out(&o).contains("scar.yaml:5"), "{}", out(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_all_reports_what_looks_like_scars_and_belongs_to_no_workflow() {
    let env = Env::new();
    env.write("run.sh", "#!/bin/sh\ntrue\n");
    let path = env.write("scar.yaml", &manifest(512, 300));
    let m = path.to_str().unwrap();
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    env.ok(&["apply", "--auto-approve", "-f", m]);
    let role = "arn:aws:iam::123456789012:role/scar-nightly";
    let create = |name: &'static str, scar4: bool| {
        let lambda = lambda.clone();
        async move {
            let mut c = lambda
                .create_function()
                .function_name(name)
                .runtime(aws_sdk_lambda::types::Runtime::Python312)
                .handler("x.handler")
                .role(role)
                .code(
                    aws_sdk_lambda::types::FunctionCode::builder()
                        .zip_file(aws_sdk_lambda::primitives::Blob::new(common::EMPTY_ZIP))
                        .build(),
                );
            if scar4 {
                c = c.tags("createdby", "scar").tags("owner", "someone");
            }
            c.send().await.unwrap();
        }
    };
    create("legacy-thumbs", true).await;
    create("scar-forgotten", false).await;
    create("unrelated", false).await;
    logs.create_log_group()
        .log_group_name("/aws/lambda/legacy-thumbs")
        .tags("createdby", "scar")
        .send()
        .await
        .unwrap();

    // Without --all: the workflow is in sync.
    assert_eq!(drift(&env, m).code, Some(0));
    let o = env.expect(2, &["drift", "--all", "-o", "json", "-f", m]);
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let unowned: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "unowned")
        .map(|f| f["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        unowned,
        [
            "lambda_function.legacy-thumbs",
            "lambda_function.scar-forgotten",
            "log_group./aws/lambda/legacy-thumbs"
        ],
        "{doc:#}"
    );
    assert_eq!(doc["summary"]["unowned"], 3);
    let o = env.expect(2, &["drift", "--all", "-f", m]);
    common::assert_lines(
        &stdout(&o),
        &[
            "Looking like SCAR's, in no workflow (unowned)",
            "deployed by SCAR 4.x (tag `createdby: scar`)",
            "scar import",
        ],
    );
    assert!(!stdout(&o).contains("unrelated"), "{}", out(&o));
}
