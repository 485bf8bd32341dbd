//! AWS Batch functions through the `scar` binary against the AWS emulator
//! (moto: Batch, Lambda, S3, IAM, ECR's control plane; EC2 for the default
//! VPC's subnets and security group, which moto's Batch checks) and a real
//! OCI registry for the function images. What the account holds
//! afterwards is read back with the AWS SDK, never through scar's code.
//!
//! Moto runs no Batch job and no container: what a job would run is
//! asserted as scar sent it (the job definition's image, role and
//! resources, the function's `BATCH_JOB_*` variables, the role's
//! `batch:SubmitJob`). Moto also ignores `computeResources` in
//! UpdateComputeEnvironment, so the in-place update tested here is the
//! state (which it applies), and min/max vCPUs are tested against the
//! in-memory double (`tests/reconcile_memory.rs` style unit tests in
//! `src/resources`).

mod common;
use common::images::ImageEnv;
use common::{out, stdout};

/// A workflow chaining a Batch function `split` (bucket `video/in` →
/// `video/split`) and a Lambda function `detect` (`video/split` →
/// `video/out`), with `extra` lines added to `split`'s `batch:` block.
fn manifest(subnets: &[String], groups: &[String], extra: &str) -> String {
    let list = |v: &[String]| {
        v.iter()
            .map(|s| format!("\n          - {s}"))
            .collect::<String>()
    };
    format!(
        "workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: split\n      init_script: split.sh\n      execution_mode: batch\n      container:\n        image: grycap/ffmpeg\n      input:\n      - storage_provider: s3\n        path: video/in\n      output:\n      - storage_provider: s3\n        path: video/split\n    batch:\n{extra}      compute_resources:\n        subnets:{}\n        security_group_ids:{}\n  - lambda:\n      name: detect\n      init_script: detect.sh\n      container:\n        image: grycap/darknet\n      input:\n      - storage_provider: s3\n        path: video/split\n      output:\n      - storage_provider: s3\n        path: video/out\n",
        list(subnets),
        list(groups)
    )
}

async fn batch(env: &ImageEnv) -> aws_sdk_batch::Client {
    aws_sdk_batch::Client::new(&env.scratch.sdk().await)
}

/// (state, status, instance types, service role) of a compute environment.
async fn environment(
    b: &aws_sdk_batch::Client,
    name: &str,
) -> Option<(String, String, Vec<String>, String)> {
    let out = b
        .describe_compute_environments()
        .compute_environments(name)
        .send()
        .await
        .unwrap();
    out.compute_environments().first().map(|c| {
        (
            c.state()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            c.status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            c.compute_resources()
                .map(|r| r.instance_types().to_vec())
                .unwrap_or_default(),
            c.service_role().unwrap_or_default().to_string(),
        )
    })
}

/// (state, priority, environment ARNs) of a job queue.
async fn queue(b: &aws_sdk_batch::Client, name: &str) -> Option<(String, i32, Vec<String>)> {
    let out = b
        .describe_job_queues()
        .job_queues(name)
        .send()
        .await
        .unwrap();
    out.job_queues().first().map(|q| {
        (
            q.state()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            q.priority().unwrap_or_default(),
            q.compute_environment_order()
                .iter()
                .filter_map(|o| o.compute_environment().map(str::to_string))
                .collect(),
        )
    })
}

/// Every revision of a job definition: (revision, status, ARN, container).
async fn revisions(
    b: &aws_sdk_batch::Client,
    name: &str,
) -> Vec<(i32, String, String, serde_json::Value)> {
    let out = b
        .describe_job_definitions()
        .job_definition_name(name)
        .send()
        .await
        .unwrap();
    let mut r: Vec<_> = out
        .job_definitions()
        .iter()
        .map(|d| {
            let c = d.container_properties();
            let req: serde_json::Map<String, serde_json::Value> = c
                .map(|c| {
                    c.resource_requirements()
                        .iter()
                        .map(|r| {
                            (
                                r.r#type()
                                    .map(|t| t.as_str().to_string())
                                    .unwrap_or_default(),
                                serde_json::Value::String(
                                    r.value().unwrap_or_default().to_string(),
                                ),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            (
                d.revision().unwrap_or_default(),
                d.status().unwrap_or_default().to_string(),
                d.job_definition_arn().unwrap_or_default().to_string(),
                serde_json::json!({
                    "image": c.and_then(|c| c.image()).unwrap_or_default(),
                    "job_role_arn": c.and_then(|c| c.job_role_arn()).unwrap_or_default(),
                    "resources": req,
                }),
            )
        })
        .collect();
    r.sort_by_key(|x| x.0);
    r
}

/// The ACTIVE revisions' numbers.
fn active(revs: &[(i32, String, String, serde_json::Value)]) -> Vec<i32> {
    revs.iter()
        .filter(|r| r.1 == "ACTIVE")
        .map(|r| r.0)
        .collect()
}

/// The Lambda function's environment variables.
async fn function_env(env: &ImageEnv, name: &str) -> std::collections::HashMap<String, String> {
    let l = aws_sdk_lambda::Client::new(&env.scratch.sdk().await);
    let f = l.get_function().function_name(name).send().await.unwrap();
    f.configuration()
        .and_then(|c| c.environment())
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default()
}

/// `scar plan --detailed-exitcode`, which must exit with changes (2); its
/// text, which must hold every one of `lines`.
fn plan_with(env: &ImageEnv, lines: &[&str]) -> String {
    let plan = stdout(&env.expect(2, &["plan", "-f", "wf.yaml", "--detailed-exitcode"]));
    for line in lines {
        assert!(plan.contains(line), "{line}:\n{plan}");
    }
    plan
}

fn setup() -> (ImageEnv, Vec<String>, Vec<String>) {
    let env = ImageEnv::new();
    env.push_base("ffmpeg", "latest", 1, 2);
    env.push_base("darknet", "latest", 7, 2);
    env.scratch.write(
        "split.sh",
        "#!/bin/sh\nffmpeg -i \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/%d.png\"\n",
    );
    env.scratch.write(
        "detect.sh",
        "#!/bin/sh\ndarknet detect \"$INPUT_FILE_PATH\"\n",
    );
    let (subnets, groups) = env.scratch.moto.default_network();
    (env, subnets, groups)
}

#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn a_lambda_and_a_batch_function_chained_by_a_bucket_apply_update_replace_and_destroy_asserting_what_scar_sent_since_moto_runs_no_batch_job(
) {
    let (env, subnets, groups) = setup();
    let write = |extra: &str| {
        env.scratch
            .write("wf.yaml", &manifest(&subnets, &groups, extra))
    };
    write("");
    let b = batch(&env).await;

    // Plan: the three Batch resources and the service role, in the plan.
    let plan = stdout(&env.ok(&["plan", "-f", "wf.yaml"]));
    for line in [
        "# batch_compute_environment.split will be created",
        "# batch_job_queue.split will be created",
        "# batch_job_definition.split will be created",
        "# iam_role.scar-wf-batch will be created",
        "# lambda_function.split will be created",
        "# lambda_function.detect will be created",
    ] {
        assert!(plan.contains(line), "{line}:\n{plan}");
    }
    env.ok(&["apply", "-f", "wf.yaml", "--auto-approve"]);

    // The account: a VALID environment run by scar's service role, a
    // queue on it, one ACTIVE revision running the function's own image as
    // the function's role.
    let (state, status, types, service_role) = environment(&b, "split").await.expect("environment");
    assert_eq!((state.as_str(), status.as_str()), ("ENABLED", "VALID"));
    assert_eq!(types, ["m3.medium"]);
    assert!(
        service_role.ends_with(":role/scar-wf-batch"),
        "{service_role}"
    );
    let (qstate, priority, ces) = queue(&b, "split").await.expect("queue");
    assert_eq!((qstate.as_str(), priority), ("ENABLED", 1));
    assert_eq!(ces.len(), 1);
    assert!(ces[0].ends_with(":compute-environment/split"), "{ces:?}");
    let revs = revisions(&b, "split").await;
    assert_eq!(active(&revs), [1], "{revs:?}");
    let l = aws_sdk_lambda::Client::new(&env.scratch.sdk().await);
    let f = l
        .get_function()
        .function_name("split")
        .send()
        .await
        .unwrap();
    let image = f.code().and_then(|c| c.image_uri()).unwrap().to_string();
    assert!(image.contains("@sha256:"), "{image}");
    assert_eq!(
        revs[0].3["image"],
        image.as_str(),
        "the job runs the function's own image"
    );
    assert!(revs[0].3["job_role_arn"]
        .as_str()
        .unwrap()
        .ends_with(":role/scar-wf"));
    assert_eq!(revs[0].3["resources"]["VCPU"], "1");
    assert_eq!(revs[0].3["resources"]["MEMORY"], "1024");
    let vars = function_env(&env, "split").await;
    assert_eq!(
        vars.get("BATCH_JOB_QUEUE").map(String::as_str),
        Some("split")
    );
    assert_eq!(vars.get("BATCH_JOB_DEFINITION"), Some(&revs[0].2));
    assert!(!function_env(&env, "detect")
        .await
        .contains_key("BATCH_JOB_QUEUE"));
    // The Lambda side may submit to its own queue and job definition only.
    let iam = aws_sdk_iam::Client::new(&env.scratch.sdk().await);
    let policy = iam
        .get_role_policy()
        .role_name("scar-wf")
        .policy_name("scar")
        .send()
        .await
        .unwrap();
    let doc = scar::cloud::aws::decode_policy(policy.policy_document());
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let submit = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"] == serde_json::json!(["batch:SubmitJob"]))
        .expect("a SubmitJob statement");
    let resources: Vec<&str> = submit["Resource"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert!(
        resources.iter().all(|r| r.contains("/split")),
        "{resources:?}"
    );
    assert!(
        resources.iter().any(|r| r.ends_with(":job-queue/split")),
        "{resources:?}"
    );
    env.expect(0, &["plan", "-f", "wf.yaml", "--detailed-exitcode"]);

    // A job-definition change: a new revision (known after apply), the
    // function updated to it, and then only the new revision ACTIVE.
    write("      memory: 2048\n");
    let plan = plan_with(
        &env,
        &[
            "# batch_job_definition.split must be replaced",
            "# lambda_function.split will be updated in-place",
            "(known after apply)",
            "# batch_job_definition.split:1 will be destroyed",
        ],
    );
    assert!(
        !plan.contains("function_image.split"),
        "the function's image does not change:\n{plan}"
    );
    env.ok(&["apply", "-f", "wf.yaml", "--auto-approve"]);
    let revs = revisions(&b, "split").await;
    assert_eq!(active(&revs), [2], "{revs:?}");
    assert_eq!(revs[1].3["resources"]["MEMORY"], "2048");
    assert_eq!(
        function_env(&env, "split")
            .await
            .get("BATCH_JOB_DEFINITION"),
        Some(&revs[1].2)
    );
    env.expect(0, &["plan", "-f", "wf.yaml", "--detailed-exitcode"]);

    // In place: the state of the environment and queue.
    write("      memory: 2048\n      state: DISABLED\n");
    plan_with(
        &env,
        &[
            "# batch_compute_environment.split will be updated in-place",
            "# batch_job_queue.split will be updated in-place",
        ],
    );
    env.ok(&["apply", "-f", "wf.yaml", "--auto-approve"]);
    assert_eq!(environment(&b, "split").await.unwrap().0, "DISABLED");
    assert_eq!(queue(&b, "split").await.unwrap().0, "DISABLED");
    env.expect(0, &["plan", "-f", "wf.yaml", "--detailed-exitcode"]);

    // A replacement, with its reason: the queue goes before the
    // environment and comes back after it.
    env.scratch.write(
        "wf.yaml",
        &manifest(
            &subnets,
            &groups,
            "      memory: 2048\n      state: DISABLED\n",
        )
        .replace(
            "      compute_resources:\n",
            "      compute_resources:\n        instance_types: [c5.large]\n",
        ),
    );
    plan_with(
        &env,
        &[
            "# batch_compute_environment.split must be replaced",
            "# batch_job_queue.split must be replaced",
            "its compute environment is replaced",
            "forces replacement",
        ],
    );
    env.ok(&["apply", "-f", "wf.yaml", "--auto-approve"]);
    assert_eq!(environment(&b, "split").await.unwrap().2, ["c5.large"]);
    let (_, _, ces) = queue(&b, "split").await.expect("the queue, created again");
    assert!(ces[0].ends_with(":compute-environment/split"));
    env.expect(0, &["plan", "-f", "wf.yaml", "--detailed-exitcode"]);

    // Destroy: queue, then environment, then the roles; revisions
    // deregistered.
    let o = env.ok(&["destroy", "-f", "wf.yaml", "--auto-approve"]);
    assert!(environment(&b, "split").await.is_none(), "{}", out(&o));
    assert!(queue(&b, "split").await.is_none());
    assert!(active(&revisions(&b, "split").await).is_empty());
    assert!(iam
        .get_role()
        .role_name("scar-wf-batch")
        .send()
        .await
        .is_err());
}

/// `scar drift -f wf.yaml -o json`: its exit status and report.
fn drift(env: &ImageEnv) -> (Option<i32>, serde_json::Value) {
    let o = env
        .command(&["drift", "-f", "wf.yaml", "-o", "json"])
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(&o)));
    (o.status.code(), doc)
}

/// The finding of `address` with `status`, and its attribute `name`'s
/// (before, after).
fn finding(
    doc: &serde_json::Value,
    address: &str,
    status: &str,
    name: &str,
) -> (serde_json::Value, serde_json::Value) {
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["address"] == address && f["status"] == status)
        .unwrap_or_else(|| panic!("no {status} finding for {address}: {doc:#}"));
    let a = f["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no attribute {name} in {f:#}"));
    (a["before"].clone(), a["after"].clone())
}

#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn out_of_band_changes_to_each_batch_kind_are_drift_and_a_manifest_edit_is_pending() {
    let (env, subnets, groups) = setup();
    env.scratch
        .write("wf.yaml", &manifest(&subnets, &groups, ""));
    env.ok(&["apply", "-f", "wf.yaml", "--auto-approve"]);
    let (code, doc) = drift(&env);
    assert_eq!(code, Some(0), "{doc:#}");

    // By hand: the queue's priority, the environment's state, a new
    // revision of the job definition (its tags copied, as the console's
    // "create revision" does), the instance profile's role removed.
    let b = batch(&env).await;
    b.update_job_queue()
        .job_queue("split")
        .priority(5)
        .send()
        .await
        .unwrap();
    b.update_compute_environment()
        .compute_environment("split")
        .state(aws_sdk_batch::types::CeState::Disabled)
        .send()
        .await
        .unwrap();
    let now = b
        .describe_job_definitions()
        .job_definition_name("split")
        .status("ACTIVE")
        .send()
        .await
        .unwrap();
    let jd = now.job_definitions().first().unwrap().clone();
    let mut cp = jd.container_properties().unwrap().clone();
    cp.resource_requirements = Some(vec![
        aws_sdk_batch::types::ResourceRequirement::builder()
            .r#type(aws_sdk_batch::types::ResourceType::Vcpu)
            .value("1")
            .build(),
        aws_sdk_batch::types::ResourceRequirement::builder()
            .r#type(aws_sdk_batch::types::ResourceType::Memory)
            .value("4096")
            .build(),
    ]);
    b.register_job_definition()
        .job_definition_name("split")
        .r#type(aws_sdk_batch::types::JobDefinitionType::Container)
        .container_properties(cp)
        .set_tags(jd.tags().cloned())
        .send()
        .await
        .unwrap();
    let iam = aws_sdk_iam::Client::new(&env.scratch.sdk().await);
    iam.remove_role_from_instance_profile()
        .instance_profile_name("scar-wf-batch-instance")
        .role_name("scar-wf-batch-instance")
        .send()
        .await
        .unwrap();

    let (code, doc) = drift(&env);
    assert_eq!(code, Some(2), "{doc:#}");
    assert_eq!(
        finding(&doc, "batch_job_queue.split", "drift", "priority"),
        (1.into(), 5.into())
    );
    assert_eq!(
        finding(&doc, "batch_compute_environment.split", "drift", "state"),
        ("ENABLED".into(), "DISABLED".into())
    );
    assert_eq!(
        finding(&doc, "batch_job_definition.split", "drift", "memory"),
        (1024.into(), 4096.into())
    );
    assert_eq!(
        finding(
            &doc,
            "iam_instance_profile.scar-wf-batch-instance",
            "drift",
            "role"
        ),
        ("scar-wf-batch-instance".into(), "".into())
    );

    // Apply brings them back; then a manifest edit is pending, not drift.
    env.ok(&["apply", "-f", "wf.yaml", "--auto-approve"]);
    let (code, doc) = drift(&env);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(active(&revisions(&b, "split").await).len(), 1);
    env.scratch
        .write("wf.yaml", &manifest(&subnets, &groups, "      vcpus: 2\n"));
    let (code, doc) = drift(&env);
    assert_eq!(code, Some(2), "{doc:#}");
    assert_eq!(
        finding(&doc, "batch_job_definition.split", "pending", "vcpus"),
        (1.into(), 2.into())
    );
    env.ok(&["destroy", "-f", "wf.yaml", "--auto-approve"]);
}

#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_environment_queue_and_job_definition_of_the_same_names_are_never_touched() {
    let (env, subnets, groups) = setup();
    env.scratch
        .write("wf.yaml", &manifest(&subnets, &groups, ""));
    let b = batch(&env).await;
    let iam = aws_sdk_iam::Client::new(&env.scratch.sdk().await);
    let role = iam
        .create_role()
        .role_name("someone-batch")
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    let ce = b
        .create_compute_environment()
        .compute_environment_name("split")
        .r#type(aws_sdk_batch::types::CeType::Managed)
        .service_role(&role_arn)
        .compute_resources(
            aws_sdk_batch::types::ComputeResource::builder()
                .r#type(aws_sdk_batch::types::CrType::Fargate)
                .maxv_cpus(4)
                .set_subnets(Some(subnets.clone()))
                .set_security_group_ids(Some(groups.clone()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    b.create_job_queue()
        .job_queue_name("split")
        .state(aws_sdk_batch::types::JqState::Enabled)
        .priority(7)
        .compute_environment_order(
            aws_sdk_batch::types::ComputeEnvironmentOrder::builder()
                .order(1)
                .compute_environment(ce.compute_environment_arn().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    b.register_job_definition()
        .job_definition_name("split")
        .r#type(aws_sdk_batch::types::JobDefinitionType::Container)
        .container_properties(
            aws_sdk_batch::types::ContainerProperties::builder()
                .image("busybox")
                .resource_requirements(
                    aws_sdk_batch::types::ResourceRequirement::builder()
                        .r#type(aws_sdk_batch::types::ResourceType::Memory)
                        .value("512")
                        .build(),
                )
                .resource_requirements(
                    aws_sdk_batch::types::ResourceRequirement::builder()
                        .r#type(aws_sdk_batch::types::ResourceType::Vcpu)
                        .value("1")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();

    let environment_before = environment(&b, "split").await;
    let o = env.expect(1, &["plan", "-f", "wf.yaml"]);
    let text = out(&o);
    for addr in [
        "batch_compute_environment.split",
        "batch_job_queue.split",
        "batch_job_definition.split",
    ] {
        let header = format!("# {addr} is blocked\n  # (exists and scar does not manage it");
        assert!(
            text.contains(&header),
            "{addr} blocked with the reason:\n{text}"
        );
    }
    env.expect(1, &["apply", "-f", "wf.yaml", "--auto-approve"]);
    // Untouched: the same revision, priority and state.
    assert_eq!(active(&revisions(&b, "split").await), [1]);
    assert_eq!(queue(&b, "split").await.unwrap().1, 7);
    assert_eq!(environment(&b, "split").await, environment_before);
    // Nothing of the workflow was created either.
    let l = aws_sdk_lambda::Client::new(&env.scratch.sdk().await);
    assert!(l
        .get_function()
        .function_name("split")
        .send()
        .await
        .is_err());
}

#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_function_without_subnets_or_with_a_gpu_on_fargate_is_refused_with_its_place() {
    let env = ImageEnv::new();
    env.push_base("ffmpeg", "latest", 1, 2);
    // No subnets: a located warning at validate, and plan refuses it.
    env.scratch.write(
        "wf.yaml",
        "workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: split\n      execution_mode: batch\n      container:\n        image: grycap/ffmpeg\n",
    );
    let v = out(&env.ok(&["validate", "-f", "wf.yaml"]));
    assert!(v.contains("wf.yaml:") && v.contains("subnets"), "{v}");
    let p = out(&env.expect(1, &["plan", "-f", "wf.yaml"]));
    assert!(
        p.contains("batch_compute_environment.split")
            && p.contains("needs `batch.compute_resources.subnets`"),
        "{p}"
    );
    // A GPU on Fargate, and a Batch function without an image: errors
    // naming the line and the fix, before anything is read.
    env.scratch.write(
        "gpu.yaml",
        "workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: split\n      execution_mode: lambda-batch\n      container:\n        image: grycap/ffmpeg\n    batch:\n      enable_gpu: true\n      memory: 2048\n      compute_resources:\n        type: FARGATE\n        subnets: [subnet-0abc1234]\n        security_group_ids: [sg-0abc1234]\n  - lambda:\n      name: zip\n      execution_mode: batch\n      init_script: s.sh\n",
    );
    env.scratch.write("s.sh", "echo\n");
    let v = out(&env.expect(1, &["validate", "-f", "gpu.yaml"]));
    assert!(
        v.contains("Fargate offers no GPUs") && v.contains("gpu.yaml:10"),
        "{v}"
    );
    assert!(
        v.contains("runs the function's container image") && v.contains("gpu.yaml:18"),
        "{v}"
    );
}

#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn a_lambda_batch_function_whose_given_role_cannot_submit_is_warned_of_with_the_action() {
    let (env, subnets, groups) = setup();
    let iam = aws_sdk_iam::Client::new(&env.scratch.sdk().await);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    for (role, action) in [("no-submit", "s3:GetObject"), ("can-submit", "batch:*")] {
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap();
        iam.put_role_policy()
            .role_name(role)
            .policy_name("p")
            .policy_document(format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
            ))
            .send()
            .await
            .unwrap();
    }
    let with_role = |role: &str| {
        manifest(&subnets, &groups, "")
            .replace(
                "      execution_mode: batch\n",
                "      execution_mode: lambda-batch\n",
            )
            .replace(
                "    batch:\n",
                &format!(
                    "    iam:\n      role: arn:aws:iam::123456789012:role/{role}\n    batch:\n"
                ),
            )
    };
    env.scratch.write("wf.yaml", &with_role("no-submit"));
    let o = env.ok(&["plan", "-f", "wf.yaml"]);
    let text = out(&o);
    assert!(
        text.contains("warning: function `split` hands its events to AWS Batch")
            && text.contains("allows no `batch:SubmitJob`"),
        "{text}"
    );
    assert!(
        text.contains(
            "hint: add `batch:SubmitJob` on `arn:aws:batch:us-east-1:123456789012:job-queue/split`"
        ),
        "{text}"
    );
    let json = stdout(&env.ok(&["plan", "-f", "wf.yaml", "-o", "json"]));
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        doc["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "batch-submit-not-allowed"),
        "{doc:#}"
    );
    env.scratch.write("wf.yaml", &with_role("can-submit"));
    let text = out(&env.ok(&["plan", "-f", "wf.yaml"]));
    assert!(!text.contains("batch:SubmitJob"), "{text}");
}

/// The ACTIVE revision of `split`: its type, whether moto gave node
/// properties, its container's resource requirements and environment.
async fn registered(
    b: &aws_sdk_batch::Client,
) -> (String, bool, Vec<(String, String)>, Vec<(String, String)>) {
    let out = b
        .describe_job_definitions()
        .job_definition_name("split")
        .status("ACTIVE")
        .send()
        .await
        .unwrap();
    let d = out.job_definitions().first().expect("a revision");
    let c = d.container_properties().expect("container properties");
    let pairs = |v: Vec<(Option<&str>, Option<&str>)>| {
        v.into_iter()
            .map(|(a, b)| {
                (
                    a.unwrap_or_default().to_string(),
                    b.unwrap_or_default().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    (
        d.r#type().unwrap_or_default().to_string(),
        d.node_properties().is_some(),
        pairs(
            c.resource_requirements()
                .iter()
                .map(|r| (r.r#type().map(|t| t.as_str()), r.value()))
                .collect(),
        ),
        pairs(
            c.environment()
                .iter()
                .map(|kv| (kv.name(), kv.value()))
                .collect(),
        ),
    )
}

#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn gpus_and_environment_are_registered_and_a_multi_node_job_as_multinode_though_moto_returns_no_node_properties(
) {
    let (env, subnets, groups) = setup();
    let asked = "      vcpus: 2\n      memory: 4096\n      enable_gpu: true\n      environment:\n        Variables:\n          FRAMES: \"25\"\n";
    env.scratch
        .write("wf.yaml", &manifest(&subnets, &groups, asked));
    env.ok(&["apply", "-f", "wf.yaml", "--auto-approve"]);
    let b = batch(&env).await;
    let (kind, _, req, vars) = registered(&b).await;
    assert_eq!(kind, "container");
    for want in [("VCPU", "2"), ("MEMORY", "4096"), ("GPU", "1")] {
        assert!(
            req.contains(&(want.0.into(), want.1.into())),
            "{want:?} in {req:?}"
        );
    }
    assert!(vars.contains(&("FRAMES".into(), "25".into())), "{vars:?}");
    env.expect(0, &["plan", "-f", "wf.yaml", "--detailed-exitcode"]);

    // Multi-node: registered as `multinode` (a new revision). Moto's
    // DescribeJobDefinitions leaves nodeProperties out (its `describe`
    // never writes them), so the nodes scar sent cannot be read back here:
    // `src/cloud/memory/batch.rs` keeps them, and the AWS adapter reads
    // them from `nodeProperties` as AWS returns it.
    let multi = format!("{asked}      multi_node_parallel:\n        enabled: true\n        number_nodes: 3\n        main_node_index: 1\n");
    env.scratch
        .write("wf.yaml", &manifest(&subnets, &groups, &multi));
    env.ok(&["apply", "-f", "wf.yaml", "--auto-approve"]);
    let (kind, moto_gave_nodes, _, _) = registered(&b).await;
    assert_eq!(kind, "multinode");
    assert!(
        !moto_gave_nodes,
        "moto now returns nodeProperties: assert them and the empty re-plan here"
    );
    env.ok(&["destroy", "-f", "wf.yaml", "--auto-approve"]);
}

/// The same Batch and instance-profile calls against any cloud, with their
/// answers checked.
async fn batch_calls<C: scar::cloud::Cloud>(c: &C, subnets: &[String], groups: &[String]) {
    use scar::cloud::{
        ComputeEnvironmentSpec, ComputeEnvironmentUpdate, ComputeResources, JobContainer,
        JobDefinitionSpec, JobQueueSpec, JobQueueUpdate, Tags,
    };
    let tags: Tags = [("scar:workflow".to_string(), "wf".to_string())].into();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"batch.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = c.create_role("svc", trust, &tags).await.unwrap();
    let spec = ComputeEnvironmentSpec {
        name: "cenv".into(),
        kind: "MANAGED".into(),
        state: "ENABLED".into(),
        service_role: role.clone(),
        resources: Some(ComputeResources {
            kind: "FARGATE".into(),
            min_vcpus: 0,
            max_vcpus: 4,
            desired_vcpus: 0,
            instance_types: Vec::new(),
            subnets: subnets.to_vec(),
            security_group_ids: groups.to_vec(),
            instance_role: None,
        }),
        tags: tags.clone(),
    };
    let ce_arn = c.create_compute_environment(&spec).await.unwrap();
    assert!(ce_arn.ends_with(":compute-environment/cenv"), "{ce_arn}");
    let again = c.create_compute_environment(&spec).await.unwrap_err();
    assert_eq!(
        again.kind,
        scar::cloud::ErrorKind::AlreadyExists,
        "{}",
        again.chain_text()
    );
    let found = c
        .describe_compute_environments(&["cenv".into(), "missing".into()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].status.as_str(), found[0].spec.state.as_str()),
        ("VALID", "ENABLED")
    );
    assert_eq!(found[0].spec.resources.as_ref().unwrap().max_vcpus, 4);
    assert_eq!(
        found[0].spec.tags.get("scar:workflow").map(String::as_str),
        Some("wf")
    );
    let q = JobQueueSpec {
        name: "queue".into(),
        state: "ENABLED".into(),
        priority: 1,
        compute_environments: vec![ce_arn.clone()],
        tags: tags.clone(),
    };
    let q_arn = c.create_job_queue(&q).await.unwrap();
    let update = JobQueueUpdate {
        priority: Some(3),
        ..Default::default()
    };
    c.update_job_queue("queue", &update).await.unwrap();
    let qs = c.describe_job_queues(&["queue".into()]).await.unwrap();
    assert_eq!(
        (qs[0].spec.priority, qs[0].spec.compute_environments.clone()),
        (3, vec![ce_arn.clone()])
    );
    assert!(c
        .list_job_queues()
        .await
        .unwrap()
        .iter()
        .any(|x| x.arn == q_arn));
    c.tag_batch_resource(&q_arn, &[("k".to_string(), "v".to_string())].into())
        .await
        .unwrap();
    assert_eq!(
        c.describe_job_queues(&["queue".into()]).await.unwrap()[0]
            .spec
            .tags
            .get("k")
            .map(String::as_str),
        Some("v")
    );
    let jd = JobDefinitionSpec {
        name: "jobdef".into(),
        platform: "FARGATE".into(),
        container: JobContainer {
            image: "busybox".into(),
            vcpus: 1,
            memory: 2048,
            gpus: 0,
            command: Vec::new(),
            environment: [("A".to_string(), "1".to_string())].into(),
            job_role_arn: Some(role.clone()),
            execution_role_arn: Some(role.clone()),
        },
        nodes: None,
        tags: tags.clone(),
    };
    let (first, r1) = c.register_job_definition(&jd).await.unwrap();
    let (_, r2) = c.register_job_definition(&jd).await.unwrap();
    assert_eq!((r1, r2), (1, 2));
    let revs = c.describe_job_definitions("jobdef").await.unwrap();
    assert_eq!(revs.iter().map(|d| d.revision).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        revs[0].spec.container, jd.container,
        "read back as registered"
    );
    c.deregister_job_definition(&first).await.unwrap();
    let revs = c.describe_job_definitions("jobdef").await.unwrap();
    assert_eq!(revs.iter().map(|d| d.revision).collect::<Vec<_>>(), [2]);
    assert!(c
        .describe_job_definitions("nothing")
        .await
        .unwrap()
        .is_empty());
    // Down: the queue disabled and deleted, then the environment.
    let disable = JobQueueUpdate {
        state: Some("DISABLED".into()),
        ..Default::default()
    };
    c.update_job_queue("queue", &disable).await.unwrap();
    assert!(c.delete_job_queue("queue").await.unwrap());
    let left = c.describe_job_queues(&["queue".into()]).await.unwrap();
    assert!(left.iter().all(|q| q.status == "DELETED"), "{left:?}");
    let off = ComputeEnvironmentUpdate {
        state: Some("DISABLED".into()),
        ..Default::default()
    };
    c.update_compute_environment("cenv", &off).await.unwrap();
    assert!(c.delete_compute_environment("cenv").await.unwrap());

    // Instance profiles.
    let ec2 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    c.create_role("instance", ec2, &tags).await.unwrap();
    let p = c.create_instance_profile("instance", &tags).await.unwrap();
    assert!(p.ends_with(":instance-profile/instance"), "{p}");
    c.add_role_to_instance_profile("instance", "instance")
        .await
        .unwrap();
    c.tag_instance_profile("instance", &[("k".to_string(), "v".to_string())].into())
        .await
        .unwrap();
    let got = c.get_instance_profile("instance").await.unwrap().unwrap();
    assert_eq!(got.roles, ["instance"]);
    assert_eq!(got.tags.get("k").map(String::as_str), Some("v"));
    assert!(c
        .attached_policy_documents("instance")
        .await
        .unwrap()
        .is_empty());
    assert!(c.delete_instance_profile("instance").await.unwrap());
    assert!(c.get_instance_profile("instance").await.unwrap().is_none());
    assert!(!c.delete_instance_profile("instance").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_cloud_answers_and_counts_batch_calls_as_aws_cloud_on_moto() {
    let moto = testkit::Moto::start();
    let (subnets, groups) = moto.default_network();
    let conf = common::sdk(&moto).await;
    let aws = scar::cloud::aws::AwsCloud::new(&conf)
        .await
        .expect("AwsCloud on moto");
    aws.requests().reset();
    batch_calls(&aws, &subnets, &groups).await;
    let memory = scar::cloud::memory::MemoryCloud::new();
    batch_calls(&memory, &subnets, &groups).await;
    assert_eq!(
        memory.requests().snapshot(),
        aws.requests().snapshot(),
        "MemoryCloud and AwsCloud count different requests"
    );
}
