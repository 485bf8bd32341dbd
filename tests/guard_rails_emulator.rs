//! Guard rails, through the `scar` binary against the AWS emulator (moto):
//! `prevent_destroy` on a function, a bucket and a repository blocks any
//! plan that would delete them, naming them, with nothing changed;
//! `ignore_changes` leaves an attribute another system manages alone in
//! plan, apply and drift; `--target` plans one resource and what it needs,
//! with a warning; and a function a CloudFormation stack manages is
//! foreign, the plan naming the stack.

mod common;
use common::{out, stdout};

type Env = common::Scratch;

/// Two functions on one input bucket; `extra` is added to the first
/// function's `lambda` block, `top` at the top of the manifest.
fn manifest(extra: &str, top: &str, memory_b: u32) -> String {
    format!(
        "{top}workflow: guarded\nfunctions:\n  aws:\n  - lambda:\n      name: scar-guarded-a\n      init_script: run.sh\n{extra}      input:\n      - storage_provider: s3\n        path: scar-guarded-in/a\n      output:\n      - storage_provider: s3\n        path: scar-guarded-out/a\n  - lambda:\n      name: scar-guarded-b\n      memory: {memory_b}\n      init_script: run.sh\n      input:\n      - storage_provider: s3\n        path: scar-guarded-in/b\n      output:\n      - storage_provider: s3\n        path: scar-guarded-out/b\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prevent_destroy_blocks_deleting_a_function_or_a_bucket() {
    let env = Env::new();
    env.write("run.sh", "#!/bin/sh\ntrue\n");
    let protected = manifest(
        "      prevent_destroy: true\n",
        "buckets:\n  scar-guarded-out:\n    prevent_destroy: true\n",
        256,
    );
    let path = env.write("scar.yaml", &protected);
    let m = path.to_str().unwrap();
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let s3 = common::s3(&conf);
    env.ok(&["apply", "--auto-approve", "-f", m]);
    // The guard rails are no part of the function's package.
    env.expect(0, &["plan", "--detailed-exitcode", "-f", m]);

    // destroy: the protected function and bucket block it; nothing goes.
    let o = env.expect(1, &["destroy", "--auto-approve", "-f", m]);
    common::assert_lines(
        &out(&o),
        &[
            "# lambda_function.scar-guarded-a is blocked",
            "`prevent_destroy` is set on it in the manifests, and this plan would delete it",
            "# s3_bucket.scar-guarded-out is blocked",
            "nothing was changed",
        ],
    );
    assert!(common::function_exists(&lambda, "scar-guarded-a").await);
    assert!(common::function_exists(&lambda, "scar-guarded-b").await);
    assert!(s3
        .head_bucket()
        .bucket("scar-guarded-out")
        .send()
        .await
        .is_ok());

    // The bucket stays protected when no function uses it any more.
    let no_out = protected
        .replace("path: scar-guarded-out/a", "path: scar-guarded-in/out-a")
        .replace("path: scar-guarded-out/b", "path: scar-guarded-in/out-b");
    std::fs::write(&path, &no_out).unwrap();
    let o = env.expect(1, &["plan", "-f", m]);
    common::assert_lines(
        &out(&o),
        &["# s3_bucket.scar-guarded-out is blocked", "would delete it"],
    );
    // Without the key, the same plan goes through.
    std::fs::write(
        &path,
        no_out.replace(
            "buckets:\n  scar-guarded-out:\n    prevent_destroy: true\n",
            "",
        ),
    )
    .unwrap();
    let o = env.ok(&["plan", "-f", m]);
    assert!(
        stdout(&o).contains("# s3_bucket.scar-guarded-out will be destroyed"),
        "{}",
        out(&o)
    );
    std::fs::write(&path, manifest("", "", 256)).unwrap();
    env.ok(&["destroy", "--auto-approve", "-f", m]);
    assert!(!common::function_exists(&lambda, "scar-guarded-a").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_changes_leaves_what_another_system_manages() {
    let env = Env::new();
    env.write("run.sh", "#!/bin/sh\ntrue\n");
    let path = env.write(
        "scar.yaml",
        &manifest(
            "      memory: 512\n      ignore_changes: [memory]\n",
            "",
            256,
        ),
    );
    let m = path.to_str().unwrap();
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    env.ok(&["apply", "--auto-approve", "-f", m]);
    let memory = |lambda: aws_sdk_lambda::Client| async move {
        lambda
            .get_function_configuration()
            .function_name("scar-guarded-a")
            .send()
            .await
            .unwrap()
            .memory_size()
    };
    assert_eq!(
        memory(lambda.clone()).await,
        Some(512),
        "created as written"
    );
    // Another system scales it: no plan, no drift.
    lambda
        .update_function_configuration()
        .function_name("scar-guarded-a")
        .memory_size(2048)
        .send()
        .await
        .unwrap();
    env.expect(0, &["plan", "--detailed-exitcode", "-f", m]);
    env.expect(0, &["drift", "-f", m]);
    // An update of something else leaves it as the account has it.
    std::fs::write(
        &path,
        manifest(
            "      memory: 512\n      timeout: 120\n      ignore_changes: [memory]\n",
            "",
            256,
        ),
    )
    .unwrap();
    let o = env.ok(&["apply", "--auto-approve", "-f", m]);
    assert!(!stdout(&o).contains("memory"), "{}", out(&o));
    assert_eq!(memory(lambda.clone()).await, Some(2048));
    env.expect(0, &["drift", "-f", m]);
    // An unknown attribute is a manifest error with the place.
    std::fs::write(&path, manifest("      ignore_changes: [memroy]\n", "", 256)).unwrap();
    let o = env.expect(1, &["validate", "-f", m]);
    common::assert_lines(
        &out(&o),
        &["`memroy` is not a valid `ignore_changes`", "scar.yaml:7:24"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_plans_one_resource_and_what_it_needs() {
    let env = Env::new();
    env.write("run.sh", "#!/bin/sh\ntrue\n");
    let path = env.write("scar.yaml", &manifest("", "", 256));
    let m = path.to_str().unwrap();
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);

    // From nothing: the function, and the role, layer and bucket it needs.
    let o = env.ok(&[
        "plan",
        "--target",
        "lambda_function.scar-guarded-a",
        "-f",
        m,
    ]);
    let text = stdout(&o);
    common::assert_lines(
        &text,
        &[
            "# lambda_function.scar-guarded-a will be created",
            "# iam_role.scar-guarded will be created",
            "# s3_bucket.scar-guarded-in will be created",
        ],
    );
    // The shared role's policy names b's log group; b itself is not planned.
    assert!(!text.contains("lambda_function.scar-guarded-b"), "{text}");
    assert!(
        out(&o).contains("warning: resource targeting is in effect"),
        "{}",
        out(&o)
    );
    env.ok(&[
        "apply",
        "--auto-approve",
        "--target",
        "lambda_function.scar-guarded-a",
        "-f",
        m,
    ]);
    assert!(common::function_exists(&lambda, "scar-guarded-a").await);
    assert!(!common::function_exists(&lambda, "scar-guarded-b").await);
    // The rest is still to do.
    let o = env.expect(2, &["plan", "--detailed-exitcode", "-f", m]);
    assert!(
        stdout(&o).contains("# lambda_function.scar-guarded-b will be created"),
        "{}",
        out(&o)
    );
    // A target that names nothing of the plan is an error, with a hint.
    let o = env.expect(
        1,
        &[
            "plan",
            "--target",
            "lambda_function.scar-guarded-bb",
            "-f",
            m,
        ],
    );
    assert!(
        out(&o).contains("names no resource of this workflow's plan (did you mean `lambda_function.scar-guarded-b`?)"),
        "{}",
        out(&o)
    );
    let o = env.expect(1, &["plan", "--target", "scar-guarded-a", "-f", m]);
    assert!(out(&o).contains("is not a resource address"), "{}", out(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_a_cloudformation_stack_manages_is_foreign() {
    // moto's CloudFormation does not tag what it creates, as AWS does: the
    // test sets the stack tag itself, with the raw SDK.
    let env = Env::new();
    env.write("run.sh", "#!/bin/sh\ntrue\n");
    let path = env.write("scar.yaml", &manifest("", "", 256));
    let m = path.to_str().unwrap();
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let iam = aws_sdk_iam::Client::new(&conf);
    let role = iam
        .create_role()
        .role_name("stack-role")
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap();
    lambda
        .create_function()
        .function_name("scar-guarded-a")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .handler("index.handler")
        .role(role.role().unwrap().arn())
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(common::EMPTY_ZIP))
                .build(),
        )
        .tags("aws:cloudformation:stack-name", "photos-stack")
        .send()
        .await
        .unwrap();
    let o = env.expect(1, &["plan", "-f", m]);
    common::assert_lines(
        &out(&o),
        &[
            "# lambda_function.scar-guarded-a is blocked",
            "is managed by the CloudFormation stack `photos-stack`",
        ],
    );
    let o = env.expect(1, &["apply", "--auto-approve", "-f", m]);
    assert!(out(&o).contains("nothing was changed"), "{}", out(&o));
    let f = lambda
        .get_function_configuration()
        .function_name("scar-guarded-a")
        .send()
        .await
        .unwrap();
    assert_eq!(
        f.handler(),
        Some("index.handler"),
        "left as the stack made it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_workflow_is_said_so_and_retagged_in_place() {
    let env = Env::new();
    env.write("run.sh", "#!/bin/sh\ntrue\n");
    let path = env.write("scar.yaml", &manifest("", "", 256));
    let m = path.to_str().unwrap();
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let s3 = common::s3(&conf);
    env.ok(&["apply", "--auto-approve", "-f", m]);

    // Renamed in the manifest: the plan says what happened instead of
    // planning to recreate everything.
    std::fs::write(
        &path,
        manifest("", "", 256).replace("workflow: guarded", "workflow: shielded"),
    )
    .unwrap();
    let o = env.expect(1, &["plan", "-f", m]);
    assert!(
        out(&o).contains("no resource of workflow `shielded` exists, but 6 of the resources its manifests declare belong to workflow `guarded`")
            && out(&o).contains("run `scar rename-workflow guarded shielded`"),
        "{}",
        out(&o)
    );
    // The functions and log groups are blocked, not planned anew.
    assert!(
        stdout(&o).contains("# lambda_function.scar-guarded-a is blocked"),
        "{}",
        out(&o)
    );

    // A wrong old name, or a new name already taken, changes nothing.
    let o = env.expect(
        1,
        &["rename-workflow", "nosuch", "shielded", "--auto-approve"],
    );
    assert!(
        out(&o).contains("workflow `nosuch` owns nothing"),
        "{}",
        out(&o)
    );

    let o = env.ok(&["rename-workflow", "guarded", "shielded", "--auto-approve"]);
    common::assert_lines(
        &stdout(&o),
        &[
            "# lambda_function.scar-guarded-a will be updated in-place",
            "retagged from workflow `guarded` to `shielded`",
            "Workflow `guarded` is now `shielded`",
        ],
    );
    assert!(!stdout(&o).contains("will be destroyed"), "{}", out(&o));
    let arn = common::function_arn(&lambda, "scar-guarded-a").await;
    let tags = lambda.list_tags().resource(&arn).send().await.unwrap();
    assert_eq!(
        tags.tags()
            .unwrap()
            .get("scar:workflow")
            .map(String::as_str),
        Some("shielded")
    );
    let ids: Vec<String> = common::notification_entries(&s3, "scar-guarded-in")
        .await
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(
        ids.iter()
            .all(|id| id.starts_with("scar-shielded-scar-guarded-")),
        "{ids:?}"
    );

    // The next plan replaces only the role (IAM roles cannot be renamed).
    let o = env.expect(2, &["plan", "--detailed-exitcode", "-f", m]);
    let text = stdout(&o);
    common::assert_lines(
        &text,
        &[
            "# iam_role.scar-shielded will be created",
            "# iam_role.scar-guarded will be destroyed",
        ],
    );
    assert!(
        !text.contains("lambda_function.scar-guarded-a will be created"),
        "{text}"
    );
    // The new role is no role "deleted outside scar": the functions'
    // records name the old one.
    assert!(
        !text.contains("Objects have changed outside of scar"),
        "{text}"
    );
    env.ok(&["apply", "--auto-approve", "-f", m]);
    env.expect(0, &["plan", "--detailed-exitcode", "-f", m]);
    env.expect(0, &["drift", "-f", m]);
}
