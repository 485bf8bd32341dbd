//! Ownership across workflows, through the `scar` binary against the AWS
//! emulator (moto): a shared bucket survives the destroy of the workflow
//! that created it while another still uses it; a workflow whose name is a
//! prefix of another's never touches the other's triggers; another
//! workflow's log group is never adopted; supervisor layer versions that
//! no function uses any longer are removed, the last one with the last
//! workflow's destroy. Each asserts the output and the account afterwards
//! with raw SDK calls.

mod common;
use common::{out, stdout};

use std::collections::BTreeMap;

type Env = common::Scratch;

/// A one-function workflow triggered by `input` (bucket/prefix), writing
/// to `output`.
fn workflow(name: &str, function: &str, input: &str, output: &str) -> String {
    format!(
        "workflow: {name}\nfunctions:\n  aws:\n  - lambda:\n      name: {function}\n      init_script: run.sh\n      input:\n      - storage_provider: s3\n        path: {input}\n      output:\n      - storage_provider: s3\n        path: {output}\n"
    )
}

/// The notification entries of a bucket: id → (function ARN, prefix).
async fn entries(s3: &aws_sdk_s3::Client, bucket: &str) -> BTreeMap<String, (String, String)> {
    common::notification_entries(s3, bucket)
        .await
        .into_iter()
        .map(|(id, arn, prefix)| (id, (arn, prefix)))
        .collect()
}

/// Two one-function workflows, `(name, function, input, output)` each,
/// written to `<name>.yaml` beside a shared `run.sh`: their paths.
fn two_workflows(
    env: &Env,
    a: (&str, &str, &str, &str),
    b: (&str, &str, &str, &str),
) -> (String, String) {
    env.write("run.sh", "#!/bin/sh\ntrue\n");
    let write = |(name, function, input, output): (&str, &str, &str, &str)| {
        env.write(
            &format!("{name}.yaml"),
            &workflow(name, function, input, output),
        )
        .display()
        .to_string()
    };
    (write(a), write(b))
}

async fn bucket_exists(s3: &aws_sdk_s3::Client, bucket: &str) -> bool {
    s3.head_bucket().bucket(bucket).send().await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroying_a_workflow_keeps_a_bucket_another_workflow_still_uses() {
    let env = Env::new();
    let (alpha, beta) = two_workflows(
        &env,
        ("alpha", "scar-alpha-f", "shared-in/pa", "alpha-out/o"),
        ("beta", "scar-beta-f", "shared-in/pb", "beta-out/o"),
    );
    let (alpha, beta) = (alpha.as_str(), beta.as_str());
    let conf = env.sdk().await;
    let s3 = common::s3(&conf);
    let lambda = aws_sdk_lambda::Client::new(&conf);

    // alpha creates `shared-in`; beta uses it as it is.
    env.ok(&["apply", "--auto-approve", "-f", alpha]);
    let o = env.ok(&["apply", "--auto-approve", "-f", beta]);
    assert!(
        stdout(&o).contains("owned by workflow `alpha`: used as is"),
        "{}",
        out(&o)
    );
    assert_eq!(entries(&s3, "shared-in").await.len(), 2);

    // Destroying alpha keeps the (empty) bucket, and says who uses it.
    let o = env.ok(&["destroy", "--auto-approve", "-f", alpha]);
    let text = stdout(&o);
    common::assert_lines(
        &text,
        &[
            "# s3_bucket.shared-in is kept",
            "still used by",
            "function `scar-beta-f` of workflow `beta` (reads from it)",
            "the trigger of function `scar-beta-f` of workflow `beta`",
            "- s3_bucket \"alpha-out\" {",
        ],
    );
    assert!(
        !text.contains("- s3_bucket \"shared-in\""),
        "the shared bucket must not be destroyed:\n{text}"
    );
    assert!(bucket_exists(&s3, "shared-in").await);
    assert!(
        !bucket_exists(&s3, "alpha-out").await,
        "alpha's own bucket goes"
    );
    assert!(!common::function_exists(&lambda, "scar-alpha-f").await);
    // beta's trigger and function are intact, and beta has nothing to do.
    let left = entries(&s3, "shared-in").await;
    assert_eq!(left.len(), 1, "{left:?}");
    let (arn, prefix) = left.values().next().unwrap();
    assert!(arn.ends_with(":function:scar-beta-f"), "{arn}");
    assert_eq!(prefix, "pb/");
    assert!(common::function_exists(&lambda, "scar-beta-f").await);
    env.ok(&["plan", "--detailed-exitcode", "-f", beta]);

    // Once beta is gone too, nobody uses the bucket: alpha's next destroy
    // (it still carries alpha's tags) removes it.
    env.ok(&["destroy", "--auto-approve", "-f", beta]);
    assert!(bucket_exists(&s3, "shared-in").await);
    let o = env.ok(&["destroy", "--auto-approve", "-f", alpha]);
    assert!(
        stdout(&o).contains("- s3_bucket \"shared-in\" {"),
        "{}",
        out(&o)
    );
    assert!(!bucket_exists(&s3, "shared-in").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_whose_name_is_a_prefix_of_another_never_touches_its_triggers() {
    let env = Env::new();
    // `vid`'s function is called `x-f`, so that `scar-vid-` + `x-f-…`
    // reads exactly like `vid-x`'s ids `scar-vid-x-` + `f-…`.
    let (vidx, vid) = two_workflows(
        &env,
        ("vid-x", "f", "scar-media/vx", "scar-media-out/x"),
        ("vid", "x-f", "scar-media/v", "scar-media-out/v"),
    );
    let (vidx, vid) = (vidx.as_str(), vid.as_str());
    let conf = env.sdk().await;
    let s3 = common::s3(&conf);

    env.ok(&["apply", "--auto-approve", "-f", vidx]);
    let theirs = entries(&s3, "scar-media").await;
    assert_eq!(theirs.len(), 1);

    // vid's plan sees only its own entries: it adds one and removes none.
    env.ok(&["apply", "--auto-approve", "-f", vid]);
    let both = entries(&s3, "scar-media").await;
    assert_eq!(both.len(), 2, "{both:?}");
    for (id, entry) in &theirs {
        assert_eq!(both.get(id), Some(entry), "vid-x's entry {id} changed");
    }
    for wf in [vid, vidx] {
        env.ok(&["plan", "--detailed-exitcode", "-f", wf]);
    }

    // Destroying vid leaves vid-x's entry as it was.
    env.ok(&["destroy", "--auto-approve", "-f", vid]);
    assert_eq!(entries(&s3, "scar-media").await, theirs);
    env.ok(&["plan", "--detailed-exitcode", "-f", vidx]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_workflows_log_group_is_never_adopted() {
    let env = Env::new();
    let (lga, lgb) = two_workflows(
        &env,
        ("lga", "scar-lg-f", "lga-in/i", "lga-out/o"),
        ("lgb", "scar-lg-f", "lgb-in/i", "lgb-out/o"),
    );
    let (lga, lgb) = (lga.as_str(), lgb.as_str());
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);

    env.ok(&["apply", "--auto-approve", "-f", lga]);
    // lga's function is deleted behind scar's back; its log group stays.
    lambda
        .delete_function()
        .function_name("scar-lg-f")
        .send()
        .await
        .unwrap();

    let o = env.expect(1, &["plan", "-f", lgb]);
    common::assert_lines(
        &stdout(&o),
        &[
            "# log_group./aws/lambda/scar-lg-f is blocked",
            "belongs to workflow `lga`",
        ],
    );
    env.expect(1, &["apply", "--auto-approve", "-f", lgb]);
    let tags = logs
        .list_tags_for_resource()
        .resource_arn("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/scar-lg-f")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags()
            .and_then(|t| t.get("scar:workflow"))
            .map(String::as_str),
        Some("lga"),
        "lga's log group was re-tagged"
    );
    assert!(
        !common::function_exists(&lambda, "scar-lg-f").await,
        "nothing was applied"
    );
}

/// The versions of a layer: version → description.
async fn layer_versions(lambda: &aws_sdk_lambda::Client, name: &str) -> BTreeMap<i64, String> {
    lambda
        .list_layer_versions()
        .layer_name(name)
        .send()
        .await
        .unwrap()
        .layer_versions()
        .iter()
        .map(|v| (v.version(), v.description().unwrap_or_default().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layer_versions_no_function_uses_are_removed_and_the_last_goes_with_the_last_destroy() {
    let env = Env::new();
    // A second stand-in layer: an empty zip with a one-byte comment.
    let newer = env.path().join("newer.zip");
    std::fs::write(&newer, b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\0b").unwrap();
    let newer = newer.to_str().unwrap();
    let (one, two) = two_workflows(
        &env,
        ("one", "scar-one-f", "one-in/i", "one-out/o"),
        ("two", "scar-two-f", "two-in/i", "two-out/o"),
    );
    let (one, two) = (one.as_str(), two.as_str());
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);

    env.ok(&["apply", "--auto-approve", "-f", one]);
    assert_eq!(layer_versions(&lambda, "scar-supervisor").await.len(), 1);

    // A new supervisor build: workflow one moves to it, and the version it
    // used, which nothing else uses, is removed in the same apply.
    let o = env.ok(&["plan", "--supervisor-layer", newer, "-f", one]);
    common::assert_lines(
        &stdout(&o),
        &[
            "+ lambda_layer \"scar-supervisor\" {",
            "- lambda_layer \"scar-supervisor:1\" {",
            "no function uses any longer",
        ],
    );
    env.ok(&[
        "apply",
        "--auto-approve",
        "--supervisor-layer",
        newer,
        "-f",
        one,
    ]);
    let versions = layer_versions(&lambda, "scar-supervisor").await;
    assert_eq!(
        versions.keys().copied().collect::<Vec<_>>(),
        [2],
        "{versions:?}"
    );

    // Workflow two uses the same build: one version serves both, and
    // destroying one keeps it for the other.
    env.ok(&[
        "apply",
        "--auto-approve",
        "--supervisor-layer",
        newer,
        "-f",
        two,
    ]);
    assert_eq!(layer_versions(&lambda, "scar-supervisor").await.len(), 1);
    let o = env.ok(&["destroy", "--auto-approve", "-f", one]);
    assert!(
        !stdout(&o).contains("lambda_layer"),
        "the version two uses is kept:\n{}",
        out(&o)
    );
    assert_eq!(layer_versions(&lambda, "scar-supervisor").await.len(), 1);

    // The last workflow's destroy takes the last version with it.
    let o = env.ok(&["destroy", "--auto-approve", "-f", two]);
    assert!(
        stdout(&o).contains("- lambda_layer \"scar-supervisor:2\" {"),
        "{}",
        out(&o)
    );
    let left = layer_versions(&lambda, "scar-supervisor").await;
    assert!(left.is_empty(), "layer versions left: {left:?}");
}
