//! Two projects that never name a workflow, each a `scar.yaml`, in one
//! account (against the emulator, through the CLI): applying the second
//! leaves the first's function, bucket and log group intact, because their
//! default workflow names differ (`scar-<hash of where each is>`).

mod common;

use common::{out, Scratch};

fn project(name: &str) -> String {
    format!(
        "functions:\n  aws:\n  - lambda:\n      name: {name}\n      init_script: run.sh\n      input:\n      - storage_provider: s3\n        path: {name}-in\n"
    )
}

#[tokio::test]
async fn a_second_scar_yaml_project_leaves_the_first_intact() {
    let s = Scratch::new();
    for p in ["one", "two"] {
        s.write(&format!("{p}/scar.yaml"), &project(&format!("fn-{p}")));
        s.write(&format!("{p}/run.sh"), "echo hi\n");
    }
    let o = s.scar(&["apply", "--auto-approve", "-f", "one/scar.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    // The second project's plan touches nothing of the first's.
    let o = s.scar(&["plan", "-o", "json", "-f", "two/scar.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let plan = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!plan.contains("fn-one"), "{plan}");
    let o = s.scar(&["apply", "--auto-approve", "-f", "two/scar.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    let conf = s.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let mut workflows = Vec::new();
    for name in ["fn-one", "fn-two"] {
        let f = lambda
            .get_function()
            .function_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name} is gone: {e:?}"));
        let wf = f.tags().unwrap()["scar:workflow"].clone();
        assert!(wf.starts_with("scar-"), "{wf}");
        workflows.push(wf);
    }
    assert_ne!(workflows[0], workflows[1]);
    let s3 = common::s3(&conf);
    s3.head_bucket().bucket("fn-one-in").send().await.unwrap();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/fn-one")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups().len(), 1);
}
