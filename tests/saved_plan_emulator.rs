//! Exact saved plans, through the `scar` binary against the AWS emulator
//! (moto): a plan saved by `scar plan --out` applies with no `-f` (it names
//! its manifests and their hashes), exactly once, and is refused, with
//! nothing changed, when the account or the manifests changed since. The
//! saved file holds no secret of the manifests.

mod common;
use common::{out, stdout};

type Env = common::Scratch;

const SECRET: &str = "hunter2-saved-plan";

fn manifest(memory: u32) -> String {
    format!(
        "workflow: saved\nfunctions:\n  aws:\n  - lambda:\n      name: scar-saved-f\n      memory: {memory}\n      init_script: run.sh\n      environment:\n        Variables:\n          DB_PASSWORD: {SECRET}\n      input:\n      - storage_provider: s3\n        path: scar-saved-in/in\n      output:\n      - storage_provider: s3\n        path: scar-saved-out/out\n"
    )
}

async fn memory(lambda: &aws_sdk_lambda::Client) -> Option<i32> {
    lambda
        .get_function_configuration()
        .function_name("scar-saved-f")
        .send()
        .await
        .ok()?
        .memory_size()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_applies_once_without_f_and_only_while_nothing_changed() {
    let env = Env::new();
    env.write("wf/run.sh", "#!/bin/sh\ntrue\n");
    let path = env.write("wf/scar.yaml", &manifest(512));
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);

    // Saved, then applied with no -f: the file names its manifests.
    env.ok(&["plan", "--out", "create.json", "-f", "wf/scar.yaml"]);
    let saved = std::fs::read_to_string(env.path().join("create.json")).unwrap();
    assert!(!saved.contains(SECRET), "{saved}");
    let doc: serde_json::Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(doc["format_version"], "1.2");
    assert_eq!(doc["inputs"]["paths"], serde_json::json!(["wf/scar.yaml"]));
    assert_eq!(doc["inputs"]["files"][0]["path"], "wf/scar.yaml");
    let o = env.ok(&["apply", "--plan", "create.json"]);
    assert!(stdout(&o).contains("Apply complete!"), "{}", out(&o));
    assert_eq!(memory(&lambda).await, Some(512));

    // The same file again: refused, as applied already.
    let o = env.expect(1, &["apply", "--plan", "create.json"]);
    assert!(
        out(&o).contains("Saved plan `create.json` was applied already"),
        "{}",
        out(&o)
    );

    // Saved, then the manifests edited: refused naming the file.
    std::fs::write(&path, manifest(1024)).unwrap();
    env.ok(&["plan", "--out", "update.json", "-f", "wf/scar.yaml"]);
    std::fs::write(&path, manifest(2048)).unwrap();
    let o = env.expect(1, &["apply", "--plan", "update.json"]);
    assert!(
        out(&o).contains(
            "Saved plan is stale: the manifest `wf/scar.yaml` changed since the plan was made; nothing was changed"
        ),
        "{}",
        out(&o)
    );
    assert_eq!(memory(&lambda).await, Some(512), "nothing was changed");

    // Saved, then the account changed behind scar's back: refused.
    std::fs::write(&path, manifest(1024)).unwrap();
    env.ok(&["plan", "--out", "update2.json", "-f", "wf/scar.yaml"]);
    lambda
        .update_function_configuration()
        .function_name("scar-saved-f")
        .timeout(99)
        .send()
        .await
        .unwrap();
    let o = env.expect(1, &["apply", "--plan", "update2.json"]);
    assert!(
        out(&o).contains(
            "Saved plan is stale: `lambda_function.scar-saved-f` changed in the account since the plan was made"
        ),
        "{}",
        out(&o)
    );
    assert_eq!(memory(&lambda).await, Some(512), "nothing was changed");

    // A fresh plan of the same change applies, once.
    env.ok(&["plan", "--out", "update3.json", "-f", "wf/scar.yaml"]);
    env.ok(&["apply", "--plan", "update3.json"]);
    assert_eq!(memory(&lambda).await, Some(1024));
    let o = env.expect(1, &["apply", "--plan", "update3.json"]);
    assert!(out(&o).contains("was applied already"), "{}", out(&o));
    for f in ["create.json", "update.json", "update2.json", "update3.json"] {
        let text = std::fs::read_to_string(env.path().join(f)).unwrap();
        assert!(!text.contains(SECRET), "{f}: {text}");
    }
    env.expect(0, &["plan", "--detailed-exitcode", "-f", "wf/scar.yaml"]);
}
