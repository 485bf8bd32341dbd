//! Batch delegation through moto's Batch (Docker-less: jobs succeed at once):
//! `execution_mode: batch` submits every event, `lambda-batch` submits the
//! event when the script would pass its deadline, and command mode inside a
//! Batch job processes the `EVENT` it was given.

use std::time::Duration;

use crate::common::*;
use crate::fake::FakeRuntime;
use crate::{body_of, start_bootstrap};

/// Creates the compute environment, job queue and job definition named `name`.
fn create_batch_env(moto: &testkit::Moto, name: &str) {
    let script = format!(
        r#"
import boto3
kw = dict(region_name="us-east-1")
ec2 = boto3.client("ec2", **kw); iam = boto3.client("iam", **kw); batch = boto3.client("batch", **kw)
subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:1]
sgs = [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]][:1]
role = iam.create_role(RoleName="batch-svc-{name}", AssumeRolePolicyDocument="{{}}")["Role"]["Arn"]
profile = iam.create_instance_profile(InstanceProfileName="ecs-{name}")["InstanceProfile"]["Arn"]
ce = batch.create_compute_environment(computeEnvironmentName="{name}", type="MANAGED", state="ENABLED",
    serviceRole=role, computeResources={{"type": "EC2", "minvCpus": 0, "maxvCpus": 2,
    "instanceTypes": ["m3.medium"], "subnets": subnets, "securityGroupIds": sgs,
    "instanceRole": profile}})["computeEnvironmentArn"]
batch.create_job_queue(jobQueueName="{name}", state="ENABLED", priority=1,
    computeEnvironmentOrder=[{{"order": 1, "computeEnvironment": ce}}])
batch.register_job_definition(jobDefinitionName="{name}", type="container",
    containerProperties={{"image": "busybox", "vcpus": 1, "memory": 128, "command": ["true"]}})
print("null")
"#
    );
    boto3(moto, &script);
}

async fn job_env(
    moto: &testkit::Moto,
    job_id: &str,
) -> (String, std::collections::BTreeMap<String, String>) {
    let conf = aws_sdk_batch::Config::builder()
        .behavior_version(aws_sdk_batch::config::BehaviorVersion::latest())
        .endpoint_url(moto.endpoint())
        .region(aws_sdk_batch::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_batch::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    let client = aws_sdk_batch::Client::from_conf(conf);
    let out = client.describe_jobs().jobs(job_id).send().await.unwrap();
    let job = &out.jobs()[0];
    let env = job
        .container()
        .map(|c| {
            c.environment()
                .iter()
                .filter_map(|kv| Some((kv.name()?.to_string(), kv.value()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    (job.job_queue().unwrap_or_default().to_string(), env)
}

#[test]
fn batch_mode_submits_the_event() {
    let moto = testkit::Moto::start();
    create_batch_env(&moto, "scar-batch-fn");
    let f = Function::new("name: scar-batch-fn\nexecution_mode: batch\ninit_script: never.sh\n");
    let api = FakeRuntime::start();
    let script = b"echo from batch\n";
    let event = serde_json::json!({"script": b64(script), "n": 1}).to_string();
    api.push("req-batch", Duration::from_secs(60), &event);
    let _boot = start_bootstrap(&api, &f, Some(&moto), &[]);
    api.wait_posts(1, Duration::from_secs(60));
    let res = api
        .post("/2018-06-01/runtime/invocation/req-batch/response")
        .json();
    assert_eq!(res["statusCode"], 200);
    let body: serde_json::Value = serde_json::from_slice(&body_of(&res)).unwrap();
    let job_id = body["batch_job_id"].as_str().unwrap().to_string();
    assert!(!job_id.is_empty());
    let (queue, env) = runtime().block_on(job_env(&moto, &job_id));
    assert!(queue.ends_with("scar-batch-fn"), "{queue}");
    assert_eq!(env["EVENT"], event);
    assert_eq!(env["SCRIPT"], b64(script));
    assert_eq!(env["AWS_LAMBDA_REQUEST_ID"], "req-batch");
    let ctx: serde_json::Value = serde_json::from_str(&env["CONTEXT"]).unwrap();
    assert_eq!(ctx["function_name"], "fn");
    assert!(f.leftovers().is_empty());
}

#[test]
fn lambda_batch_delegates_when_the_deadline_would_pass() {
    let moto = testkit::Moto::start();
    create_batch_env(&moto, "lb-fn");
    let f = Function::new(
        "name: lb-fn\nexecution_mode: lambda-batch\ninit_script: slow.sh\ncontainer: {timeout_threshold: 1}\n",
    )
    .with_script("slow.sh", "echo working\nsleep 60\n");
    let api = FakeRuntime::start();
    api.push("req-slow", Duration::from_secs(3), "{\"frames\": 900}");
    let _boot = start_bootstrap(&api, &f, Some(&moto), &[("TIMEOUT_THRESHOLD", "1")]);
    let started = std::time::Instant::now();
    api.wait_posts(1, Duration::from_secs(60));
    assert!(started.elapsed() < Duration::from_secs(30));
    let slow = api
        .post("/2018-06-01/runtime/invocation/req-slow/response")
        .json();
    assert_eq!(slow["statusCode"], 200, "{slow}");
    let body: serde_json::Value = serde_json::from_slice(&body_of(&slow)).unwrap();
    let job_id = body["batch_job_id"].as_str().expect("delegated to Batch");
    let (_, env) = runtime().block_on(job_env(&moto, job_id));
    assert_eq!(env["EVENT"], "{\"frames\": 900}");
    assert!(f.leftovers().is_empty());
}

#[test]
fn command_mode_inside_a_batch_job_processes_event() {
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    let rt = runtime();
    rt.block_on(async {
        create_bucket(&s3c, "video").await;
        put(&s3c, "video", "in/clip.avi", b"frames").await;
    });
    // As the job definition delivers it: FUNCTION_CONFIG, SCRIPT and EVENT.
    let config = "name: split\nexecution_mode: batch\ninit_script: split.sh\noutput:\n- storage_provider: s3\n  path: video/split\n";
    let script = "for i in 1 2 3; do cp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/out00$i.jpg\"; done\necho \"job $REQUEST_ID\"\n";
    let f = Function::new("");
    let mut cmd = f.command(Some(&moto));
    cmd.env_remove("SCAR_FUNCTION_CONFIG_PATH")
        .env("SCAR_FUNCTION_CONFIG_PATH", "")
        .env("FUNCTION_CONFIG", b64(config.as_bytes()))
        .env("SCRIPT", b64(script.as_bytes()))
        .env("EVENT", s3_event("video", "in/clip.avi"))
        .env("AWS_BATCH_JOB_ID", "job-123");
    let run = run_stdin(cmd, b"");
    run.assert_ok();
    assert_eq!(run.body_text(), "job job-123\n");
    rt.block_on(async {
        assert_eq!(
            keys(&s3c, "video").await,
            [
                "in/clip.avi",
                "split/out001.jpg",
                "split/out002.jpg",
                "split/out003.jpg"
            ]
        );
    });
    assert!(f.leftovers().is_empty());
}
