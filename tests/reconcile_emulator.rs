//! plan → apply → plan → change → destroy through the `scar` binary against
//! the AWS emulator (moto, started by the harness), asserting the output and
//! the account's state afterwards with raw SDK calls.
//!
//! moto never runs function code, so the supervisor layer here is a small
//! stand-in zip; the real layer is built and tested in `supervisor/`.

mod common;
use common::{out, stdout};

use std::path::Path;
use std::process::Output;

type Env = common::Scratch;

/// `scar <args>` with extra environment variables.
fn scar_with(env: &Env, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = env.command(args);
    cmd.envs(envs.iter().copied());
    cmd.output().expect("run scar")
}

const ONE: &str = r#"workflow: photos
functions:
  aws:
  - lambda:
      name: scar-thumbs
      memory: 256
      init_script: thumbs.sh
      input:
      - storage_provider: s3
        path: scar-photos/uploads
      output:
      - storage_provider: s3
        path: scar-photos-out/thumbs
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_converge_update_rename_and_destroy() {
    let env = Env::new();
    env.write(
        "wf/thumbs.sh",
        "#!/bin/sh\ncp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/\"\n",
    );
    let manifest = env.write("wf/scar.yaml", ONE);
    let m = manifest.to_str().unwrap();
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let s3 = common::s3(&conf);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);

    // 1. From nothing: everything is created.
    let o = env.scar(&["plan", "--detailed-exitcode", "-f", m]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let text = stdout(&o);
    common::assert_lines(
        &text,
        &[
            "+ lambda_function \"scar-thumbs\" {",
            "+ memory          = 256",
            "+ role            = (known after apply)",
            "+ iam_role \"scar-photos\" {",
            "+ s3_bucket \"scar-photos\" {",
            "+ s3_bucket \"scar-photos-out\" {",
            "+ log_group \"/aws/lambda/scar-thumbs\" {",
            "+ lambda_permission \"scar-thumbs/scar-s3-scar-photos\" {",
            "+ s3_notifications \"scar-photos\" {",
            "Plan: 8 to add, 0 to change, 0 to destroy.",
        ],
    );
    let o = env.scar(&["apply", "--auto-approve", "-f", m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        stdout(&o).contains("Apply complete! Resources: 8 added, 0 changed, 0 destroyed."),
        "{}",
        out(&o)
    );

    // The account holds it all, tagged in the create calls.
    let f = lambda
        .get_function()
        .function_name("scar-thumbs")
        .send()
        .await
        .unwrap();
    let cfg = f.configuration().unwrap();
    assert_eq!(cfg.memory_size(), Some(256));
    assert_eq!(cfg.handler(), Some("bootstrap"));
    assert_eq!(
        cfg.role(),
        Some("arn:aws:iam::123456789012:role/scar-photos")
    );
    let tags = f.tags().unwrap();
    assert_eq!(
        tags.get("scar:workflow").map(String::as_str),
        Some("photos")
    );
    assert_eq!(tags.get("scar:managed").map(String::as_str), Some("true"));
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/scar-thumbs")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(30));
    let n = s3
        .get_bucket_notification_configuration()
        .bucket("scar-photos")
        .send()
        .await
        .unwrap();
    let entries = n.lambda_function_configurations();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].lambda_function_arn(),
        cfg.function_arn().unwrap()
    );
    let rules = entries[0].filter().unwrap().key().unwrap().filter_rules();
    assert_eq!(rules[0].value(), Some("uploads/"));
    let policy = lambda
        .get_policy()
        .function_name("scar-thumbs")
        .send()
        .await
        .unwrap();
    assert!(policy
        .policy()
        .unwrap()
        .contains("arn:aws:s3:::scar-photos"));

    // 2. Again: nothing to do.
    let o = env.scar(&["plan", "--detailed-exitcode", "-f", m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(stdout(&o).contains("No changes."), "{}", out(&o));

    // 3. Memory: one in-place update.
    std::fs::write(&manifest, ONE.replace("memory: 256", "memory: 1024")).unwrap();
    let o = env.scar(&["plan", "--detailed-exitcode", "-f", m]);
    assert_eq!(o.status.code(), Some(2));
    let text = stdout(&o);
    assert!(text.contains("~ memory = 256 -> 1024"), "{text}");
    assert!(
        !text.contains("code_sha256"),
        "a memory change is no code change:\n{text}"
    );
    assert!(
        text.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{text}"
    );
    let o = env.scar(&["apply", "--auto-approve", "-f", m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let f = lambda
        .get_function_configuration()
        .function_name("scar-thumbs")
        .send()
        .await
        .unwrap();
    assert_eq!(f.memory_size(), Some(1024));

    // 4. The script: a code update.
    let sha_before = f.code_sha256().unwrap().to_string();
    env.write(
        "wf/thumbs.sh",
        "#!/bin/sh\nconvert \"$INPUT_FILE_PATH\" -resize 64x64 \"$TMP_OUTPUT_DIR/thumb.png\"\n",
    );
    let o = env.scar(&["plan", "--detailed-exitcode", "-f", m]);
    assert_eq!(o.status.code(), Some(2));
    let text = stdout(&o);
    // The script as a unified diff: the previous one comes from the local
    // package cache (apply remembered it by its hash).
    common::assert_lines(
        &text,
        &[
            "~ code_sha256",
            "~ init_script = <<-EOT",
            "    #!/bin/sh",
            "  - cp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/\"",
            "  + convert \"$INPUT_FILE_PATH\" -resize 64x64 \"$TMP_OUTPUT_DIR/thumb.png\"",
            "Plan: 0 to add, 1 to change, 0 to destroy.",
        ],
    );
    assert!(
        !text.contains("function_config"),
        "only the script changed:\n{text}"
    );
    // Without the cache, scar reads the package back from Lambda's
    // Code.Location; moto's is a fake AWS host (not the endpoint), so it
    // is not fetched and the plan says why instead of showing the diff.
    let o = scar_with(
        &env,
        &["plan", "--detailed-exitcode", "-f", m],
        &[("SCAR_CACHE_DIR", "")],
    );
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let text = stdout(&o);
    assert!(text.contains("~ code_sha256"), "{text}");
    assert!(!text.contains("init_script"), "{text}");
    assert!(
        text.contains("the previous script and config cannot be shown: the code location is on `awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com`, not on the configured endpoint `127.0.0.1`"),
        "{text}"
    );
    let o = env.scar(&["apply", "--auto-approve", "-f", m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let f = lambda
        .get_function_configuration()
        .function_name("scar-thumbs")
        .send()
        .await
        .unwrap();
    assert_ne!(f.code_sha256().unwrap(), sha_before);
    assert_eq!(
        env.scar(&["plan", "--detailed-exitcode", "-f", m])
            .status
            .code(),
        Some(0)
    );

    // 4b. An output path lives in the function's config: a code update
    // that shows the config as a diff (and the role's new write prefix).
    let before = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        before.replace("scar-photos-out/thumbs", "scar-photos-out/small"),
    )
    .unwrap();
    let o = env.scar(&["plan", "--detailed-exitcode", "-f", m]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let text = stdout(&o);
    common::assert_lines(
        &text,
        &[
            "~ function_config = <<-EOT",
            "-       \"path\": \"scar-photos-out/thumbs\"",
            "+       \"path\": \"scar-photos-out/small\"",
            "~ iam_role \"scar-photos\" {",
        ],
    );
    assert!(!text.contains("init_script"), "{text}");
    std::fs::write(&manifest, before).unwrap();

    // 5. A change behind scar's back shows up.
    lambda
        .update_function_configuration()
        .function_name("scar-thumbs")
        .timeout(42)
        .send()
        .await
        .unwrap();
    let o = env.scar(&["plan", "--detailed-exitcode", "-f", m]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stdout(&o).contains("~ timeout = 42 -> 300"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        env.scar(&["apply", "--auto-approve", "-f", m])
            .status
            .code(),
        Some(0)
    );

    // 6. A foreign notification entry on the same bucket survives a rename.
    let mut n = s3
        .get_bucket_notification_configuration()
        .bucket("scar-photos")
        .send()
        .await
        .unwrap();
    let foreign = aws_sdk_s3::types::LambdaFunctionConfiguration::builder()
        .id("someone-elses")
        .lambda_function_arn("arn:aws:lambda:us-east-1:123456789012:function:other")
        .events(aws_sdk_s3::types::Event::S3ObjectCreated)
        .filter(
            aws_sdk_s3::types::NotificationConfigurationFilter::builder()
                .key(
                    aws_sdk_s3::types::S3KeyFilter::builder()
                        .filter_rules(
                            aws_sdk_s3::types::FilterRule::builder()
                                .name(aws_sdk_s3::types::FilterRuleName::Prefix)
                                .value("other/")
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build()
        .unwrap();
    let mut all = n.lambda_function_configurations.take().unwrap_or_default();
    all.push(foreign);
    s3.put_bucket_notification_configuration()
        .bucket("scar-photos")
        .notification_configuration(
            aws_sdk_s3::types::NotificationConfiguration::builder()
                .set_lambda_function_configurations(Some(all))
                .build(),
        )
        .send()
        .await
        .unwrap();
    std::fs::write(
        &manifest,
        ONE.replace("memory: 256", "memory: 1024")
            .replace("scar-thumbs", "scar-thumbnails"),
    )
    .unwrap();
    let o = env.scar(&["plan", "--detailed-exitcode", "-f", m]);
    assert_eq!(o.status.code(), Some(2));
    let text = stdout(&o);
    assert!(
        text.contains("# lambda_function.scar-thumbs will be destroyed"),
        "{text}"
    );
    assert!(
        text.contains("# lambda_function.scar-thumbnails will be created"),
        "{text}"
    );
    assert!(
        text.contains("# log_group./aws/lambda/scar-thumbs will be destroyed"),
        "{text}"
    );
    let o = env.scar(&["apply", "--auto-approve", "-f", m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(lambda
        .get_function()
        .function_name("scar-thumbs")
        .send()
        .await
        .is_err());
    assert!(lambda
        .get_function()
        .function_name("scar-thumbnails")
        .send()
        .await
        .is_ok());
    let n = s3
        .get_bucket_notification_configuration()
        .bucket("scar-photos")
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = n
        .lambda_function_configurations()
        .iter()
        .filter_map(|c| c.id())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&"someone-elses"));
    assert!(n
        .lambda_function_configurations()
        .iter()
        .any(|c| c.lambda_function_arn().ends_with(":scar-thumbnails")));
    assert_eq!(
        env.scar(&["plan", "--detailed-exitcode", "-f", m])
            .status
            .code(),
        Some(0)
    );

    // 7. Destroy: everything the workflow owns goes; the foreign entry
    //    stays, and so do the bucket that holds objects and the bucket
    //    that still carries the foreign entry (someone else's trigger).
    s3.put_object()
        .bucket("scar-photos-out")
        .key("thumbs/x.png")
        .body(b"png".to_vec().into())
        .send()
        .await
        .unwrap();
    let o = env.scar(&["destroy", "--auto-approve", "-f", m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let text = stdout(&o);
    assert!(
        text.contains("# s3_bucket.scar-photos-out is kept"),
        "{text}"
    );
    common::assert_lines(
        &text,
        &[
            "# s3_bucket.scar-photos is kept",
            "still used by the notification entry `someone-elses` (not made by scar)",
        ],
    );
    assert!(lambda
        .get_function()
        .function_name("scar-thumbnails")
        .send()
        .await
        .is_err());
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/scar-")
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty());
    let buckets = s3.list_buckets().send().await.unwrap();
    let mut names: Vec<&str> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    names.sort();
    assert_eq!(names, ["scar-photos", "scar-photos-out"]);
    let iam = aws_sdk_iam::Client::new(&conf);
    assert!(iam
        .get_role()
        .role_name("scar-photos")
        .send()
        .await
        .is_err());
}

#[test]
fn apply_without_a_terminal_or_auto_approve_refuses() {
    let env = Env::new();
    let m = env.write(
        "m.yaml",
        "workflow: w\nfunctions:\n  aws:\n  - lambda:\n      name: lonely\n",
    );
    let o = env.scar(&["apply", "-f", m.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("pass --auto-approve"), "{}", out(&o));
    let _ = Path::new("");
}

const TWO: &str = r#"workflow: pair
functions:
  aws:
  - lambda:
      name: scar-pair-a
      input:
      - storage_provider: s3
        path: scar-pair/a
  - lambda:
      name: scar-pair-b
      input:
      - storage_provider: s3
        path: scar-pair/b
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_function_deletes_its_resources_and_keeps_foreign_entries() {
    let env = Env::new();
    let manifest = env.write("pair/scar.yaml", TWO);
    let m = manifest.to_str().unwrap();
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let s3 = common::s3(&conf);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    let o = env.scar(&["apply", "--auto-approve", "-f", m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    // Someone else's entry on the same bucket.
    let mut n = s3
        .get_bucket_notification_configuration()
        .bucket("scar-pair")
        .send()
        .await
        .unwrap();
    let mut all = n.lambda_function_configurations.take().unwrap_or_default();
    assert_eq!(all.len(), 2);
    all.push(
        aws_sdk_s3::types::LambdaFunctionConfiguration::builder()
            .id("foreign-entry")
            .lambda_function_arn("arn:aws:lambda:us-east-1:123456789012:function:not-scars")
            .events(aws_sdk_s3::types::Event::S3ObjectCreated)
            .build()
            .unwrap(),
    );
    s3.put_bucket_notification_configuration()
        .bucket("scar-pair")
        .notification_configuration(
            aws_sdk_s3::types::NotificationConfiguration::builder()
                .set_lambda_function_configurations(Some(all))
                .build(),
        )
        .send()
        .await
        .unwrap();
    // `foreign-entry` has no prefix, so it overlaps scar's entries: S3 would
    // reject that; moto accepts it, which is enough to see it kept.

    // Remove function b.
    let only_a = TWO
        .split("  - lambda:\n      name: scar-pair-b")
        .next()
        .unwrap()
        .to_string();
    std::fs::write(&manifest, only_a).unwrap();
    let o = env.scar(&["plan", "--detailed-exitcode", "-f", m]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let text = stdout(&o);
    common::assert_lines(
        &text,
        &[
            "# lambda_function.scar-pair-b will be destroyed",
            "# log_group./aws/lambda/scar-pair-b will be destroyed",
            "# s3_notifications.scar-pair will be updated in-place",
            // The least-privilege role follows the manifest: b's log group and
            // input prefix leave its policy.
            "# iam_role.scar-pair will be updated in-place",
            "Plan: 0 to add, 2 to change, 2 to destroy.",
        ],
    );
    let o = env.scar(&["apply", "--auto-approve", "-f", m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    assert!(lambda
        .get_function()
        .function_name("scar-pair-b")
        .send()
        .await
        .is_err());
    assert!(
        lambda
            .get_policy()
            .function_name("scar-pair-b")
            .send()
            .await
            .is_err(),
        "its permission went with it"
    );
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/scar-pair-b")
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty());
    let n = s3
        .get_bucket_notification_configuration()
        .bucket("scar-pair")
        .send()
        .await
        .unwrap();
    let mut ids: Vec<String> = n
        .lambda_function_configurations()
        .iter()
        .filter_map(|c| c.id().map(str::to_string))
        .collect();
    ids.sort();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&"foreign-entry".to_string()));
    assert!(n
        .lambda_function_configurations()
        .iter()
        .any(|c| c.lambda_function_arn().ends_with(":scar-pair-a")));
    assert!(!n
        .lambda_function_configurations()
        .iter()
        .any(|c| c.lambda_function_arn().ends_with(":scar-pair-b")));
    let iam = aws_sdk_iam::Client::new(&conf);
    let policy = iam
        .get_role_policy()
        .role_name("scar-pair")
        .policy_name("scar")
        .send()
        .await
        .unwrap();
    let doc = percent_decode(policy.policy_document());
    assert!(
        doc.contains("scar-pair/a/*") && !doc.contains("scar-pair/b/*"),
        "{doc}"
    );
    // Function a is untouched and the workflow converged.
    assert!(lambda
        .get_function()
        .function_name("scar-pair-a")
        .send()
        .await
        .is_ok());
    assert_eq!(
        env.scar(&["plan", "--detailed-exitcode", "-f", m])
            .status
            .code(),
        Some(0)
    );
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_applies_only_while_the_account_matches_it() {
    let env = Env::new();
    env.write(
        "wf/thumbs.sh",
        "#!/bin/sh\ncp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/\"\n",
    );
    let manifest = env.write("wf/scar.yaml", ONE);
    let m = manifest.to_str().unwrap();
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);

    // A reviewed plan applies without a prompt.
    let o = env.scar(&["plan", "--out", "create.json", "-f", m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = env.scar(&["apply", "--plan", "create.json", "-f", m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        stdout(&o).contains("Apply complete! Resources: 8 added"),
        "{}",
        out(&o)
    );

    // A plan made before a change behind scar's back is stale.
    std::fs::write(&manifest, ONE.replace("memory: 256", "memory: 512")).unwrap();
    let o = env.scar(&["plan", "--out", "update.json", "-f", m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    lambda
        .update_function_configuration()
        .function_name("scar-thumbs")
        .timeout(77)
        .send()
        .await
        .unwrap();
    let o = env.scar(&["apply", "--plan", "update.json", "-f", m]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "Saved plan is stale: `lambda_function.scar-thumbs` changed in the account since the plan was made"
        ),
        "{err}"
    );
    // Nothing was changed.
    let f = lambda
        .get_function_configuration()
        .function_name("scar-thumbs")
        .send()
        .await
        .unwrap();
    assert_eq!((f.memory_size(), f.timeout()), (Some(256), Some(77)));

    // A fresh plan of the same change applies.
    let o = env.scar(&["plan", "--out", "update2.json", "-f", m]);
    assert_eq!(o.status.code(), Some(0));
    let o = env.scar(&["apply", "--plan", "update2.json", "-f", m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let f = lambda
        .get_function_configuration()
        .function_name("scar-thumbs")
        .send()
        .await
        .unwrap();
    assert_eq!((f.memory_size(), f.timeout()), (Some(512), Some(300)));
}
