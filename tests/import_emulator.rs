//! `scar import` through the `scar` binary against the AWS emulator
//! (moto): a function deployed by SCAR 4.x — made here with raw SDK calls
//! shaped as SCAR makes them: tags `createdby: scar` and `owner`, its
//! config in the `FDL` variable, the faas-supervisor layer, a uuid4 S3
//! permission and a notification entry without scar's id — with its log
//! group and a bucket made by hand that has a tag of its own. import
//! shows what it takes and what plan would then change, changes nothing
//! unasked, takes them over in place, and afterwards plan shows only the
//! real differences; one apply later the account matches, SCAR's
//! notification entry rewritten under scar's id (no duplicate trigger)
//! and the bucket's own tag kept.

mod common;
use common::{out, stdout};

use base64::Engine as _;

type Env = common::Scratch;

const MANIFEST: &str = r#"functions:
  aws:
  - lambda:
      name: scar-legacy
      memory: 512
      init_script: run.sh
      input:
      - storage_provider: s3
        path: scar-legacy-in/input
      output:
      - storage_provider: s3
        path: scar-legacy-in/output
    iam:
      role: arn:aws:iam::123456789012:role/legacy-role
"#;

/// What SCAR 4.x leaves in the account for the function above.
async fn deploy_as_scar_4(conf: &aws_config::SdkConfig) -> String {
    let lambda = aws_sdk_lambda::Client::new(conf);
    let iam = aws_sdk_iam::Client::new(conf);
    let s3 = common::s3(conf);
    let logs = aws_sdk_cloudwatchlogs::Client::new(conf);
    iam.create_role()
        .role_name("legacy-role")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap();
    let layer = lambda
        .publish_layer_version()
        .layer_name("faas-supervisor")
        .content(
            aws_sdk_lambda::types::LayerVersionContentInput::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(common::EMPTY_ZIP))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let fdl = base64::engine::general_purpose::STANDARD
        .encode(br#"{"name":"scar-legacy","memory":512,"input":[{"storage_provider":"s3","path":"scar-legacy-in/input"}]}"#);
    let f = lambda
        .create_function()
        .function_name("scar-legacy")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .handler("scar-legacy.lambda_handler")
        .role("arn:aws:iam::123456789012:role/legacy-role")
        .memory_size(512)
        .timeout(300)
        .layers(layer.layer_version_arn().unwrap())
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .variables("FDL", fdl)
                .variables("SUPERVISOR_TYPE", "LAMBDA")
                .build(),
        )
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(common::EMPTY_ZIP))
                .build(),
        )
        .tags("createdby", "scar")
        .tags("owner", "AIDAEXAMPLEUSER")
        .send()
        .await
        .unwrap();
    let arn = f.function_arn().unwrap().to_string();
    logs.create_log_group()
        .log_group_name("/aws/lambda/scar-legacy")
        .tags("createdby", "scar")
        .tags("owner", "AIDAEXAMPLEUSER")
        .send()
        .await
        .unwrap();
    s3.create_bucket()
        .bucket("scar-legacy-in")
        .send()
        .await
        .unwrap();
    let tag = aws_sdk_s3::types::Tag::builder()
        .key("team")
        .value("photos")
        .build()
        .unwrap();
    s3.put_bucket_tagging()
        .bucket("scar-legacy-in")
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(tag)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    lambda
        .add_permission()
        .function_name("scar-legacy")
        .statement_id("5d2c1f7e-8f1e-4b9e-9a53-3c1f0a6e2b11")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn("arn:aws:s3:::scar-legacy-in")
        .send()
        .await
        .unwrap();
    let rule = aws_sdk_s3::types::FilterRule::builder()
        .name(aws_sdk_s3::types::FilterRuleName::Prefix)
        .value("input/")
        .build();
    s3.put_bucket_notification_configuration()
        .bucket("scar-legacy-in")
        .notification_configuration(
            aws_sdk_s3::types::NotificationConfiguration::builder()
                .lambda_function_configurations(
                    aws_sdk_s3::types::LambdaFunctionConfiguration::builder()
                        .lambda_function_arn(&arn)
                        .events(aws_sdk_s3::types::Event::S3ObjectCreated)
                        .filter(
                            aws_sdk_s3::types::NotificationConfigurationFilter::builder()
                                .key(
                                    aws_sdk_s3::types::S3KeyFilter::builder()
                                        .filter_rules(rule)
                                        .build(),
                                )
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    arn
}

async fn tags_of(
    lambda: &aws_sdk_lambda::Client,
    arn: &str,
) -> std::collections::HashMap<String, String> {
    lambda
        .list_tags()
        .resource(arn)
        .send()
        .await
        .unwrap()
        .tags()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_deployed_by_scar_4_is_imported_and_then_planned_for_its_real_differences() {
    let env = Env::new();
    env.write(
        "legacy/run.sh",
        "#!/bin/sh\ncp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/\"\n",
    );
    let m = env
        .write(
            "legacy/legacy.yaml",
            &format!("workflow: legacy\n{MANIFEST}"),
        )
        .display()
        .to_string();
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let s3 = common::s3(&conf);
    let arn = deploy_as_scar_4(&conf).await;

    // Before: SCAR's function blocks the plan.
    let o = env.expect(1, &["plan", "-f", &m]);
    assert!(
        stdout(&o).contains("# lambda_function.scar-legacy is blocked"),
        "{}",
        out(&o)
    );

    // Unasked (no terminal, no --auto-approve), nothing is taken.
    let o = env.expect(1, &["import", "-f", &m]);
    common::assert_lines(
        &stdout(&o),
        &[
            "Once imported, `scar plan` would show:",
            "# lambda_function.scar-legacy will be updated in-place",
            "scar import takes these resources into workflow `legacy`",
            "imported: deployed by SCAR 4.x (tag `createdby: scar`)",
        ],
    );
    assert!(!tags_of(&lambda, &arn).await.contains_key("scar:workflow"));

    let o = env.ok(&["import", "--auto-approve", "-f", &m]);
    common::assert_lines(
        &stdout(&o),
        &[
            "# lambda_function.scar-legacy will be updated in-place",
            "# s3_bucket.scar-legacy-in will be updated in-place",
            "# log_group./aws/lambda/scar-legacy will be updated in-place",
            "Import complete!",
        ],
    );
    let tags = tags_of(&lambda, &arn).await;
    assert_eq!(
        tags.get("scar:workflow").map(String::as_str),
        Some("legacy")
    );
    assert_eq!(
        tags.get("createdby").map(String::as_str),
        Some("scar"),
        "others' tags stay"
    );
    assert!(tags.contains_key("scar:applied"), "{tags:?}");

    // Now the plan shows only the real differences: scar's runtime and
    // supervisor instead of SCAR's, and SCAR's trigger taken over; nothing
    // is blocked or created anew.
    let o = env.expect(2, &["plan", "--detailed-exitcode", "-f", &m]);
    let text = stdout(&o);
    common::assert_lines(
        &text,
        &[
            "# lambda_function.scar-legacy will be updated in-place",
            "~ runtime",
            "~ handler",
            "# s3_notifications.scar-legacy-in will be updated in-place",
        ],
    );
    assert!(!text.contains("is blocked"), "{text}");
    assert!(
        !text.contains("lambda_function.scar-legacy will be created"),
        "{text}"
    );
    // drift calls them pending: the manifests want what was not applied.
    let o = env.expect(2, &["drift", "-o", "json", "-f", &m]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(doc["summary"]["pending"].as_u64().unwrap() >= 1, "{doc:#}");
    assert_eq!(doc["summary"]["drift"], 0, "{doc:#}");

    env.ok(&["apply", "--auto-approve", "-f", &m]);
    env.expect(0, &["plan", "--detailed-exitcode", "-f", &m]);
    env.expect(0, &["drift", "-f", &m]);
    // One trigger for the function: SCAR's entry was rewritten, not doubled.
    let entries = common::notification_entries(&s3, "scar-legacy-in").await;
    let mine: Vec<_> = entries.iter().filter(|(_, a, _)| *a == arn).collect();
    assert_eq!(mine.len(), 1, "{entries:?}");
    assert!(
        mine[0].0.starts_with("scar-legacy-scar-legacy-"),
        "{entries:?}"
    );
    // The bucket's own tag survived the import and the apply.
    let bucket_tags = s3
        .get_bucket_tagging()
        .bucket("scar-legacy-in")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = bucket_tags.tag_set().iter().map(|t| t.key()).collect();
    assert!(
        keys.contains(&"team") && keys.contains(&"scar:workflow"),
        "{keys:?}"
    );

    // Nothing is left to import.
    let o = env.ok(&["import", "-f", &m]);
    assert!(stdout(&o).contains("Nothing to import"), "{}", out(&o));
}
