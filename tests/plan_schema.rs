//! The JSON plan: `schemas/plan.schema.json` is generated from the Rust
//! types (kept fresh here), and real plans validate against it, with
//! secrets masked.

use std::sync::Arc;

use scar::apply::{self, Event};
use scar::cloud::memory::MemoryCloud;
use scar::manifest::load_texts;
use scar::pipeline::plan_workflow_in;
use scar::render::json::{plan_schema_text, render};

#[test]
fn plan_schema_file_is_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/plan.schema.json");
    let generated = plan_schema_text();
    if std::env::var_os("SCAR_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == generated,
        "{} is stale: run `SCAR_UPDATE_SCHEMAS=1 cargo test --test plan_schema`",
        path.display()
    );
}

const MANIFEST: &str = "workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: f\n      environment:\n        Variables:\n          API_TOKEN: hunter2-secret\n          MODE: fast\n      input:\n      - storage_provider: s3\n        path: in-bucket/f\n      output:\n      - storage_provider: minio.m\n        path: results/f\nstorage_providers:\n  minio:\n    m:\n      endpoint: http://127.0.0.1:9000\n      access_key: hunter2-access\n      secret_key: hunter2-minio\n";

#[test]
fn saved_plans_validate_against_the_schema_and_mask_secrets() {
    let schema: serde_json::Value = serde_json::from_str(&plan_schema_text()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cloud = Arc::new(MemoryCloud::new());
        let m = load_texts(&[("m.yaml", MANIFEST)]).manifest.unwrap();
        // A create plan, then an update plan, then a destroy plan.
        let p = plan_workflow_in(cloud.clone(), &m, Some(b"layer".to_vec()), false, None)
            .await
            .unwrap();
        let mut docs = vec![render(&p.plan)];
        let quiet: Arc<dyn Fn(Event) + Send + Sync> = Arc::new(|_| {});
        apply::apply(cloud.clone(), &p.plan, p.artifacts.clone(), 4, quiet).await;
        let m2 = load_texts(&[("m.yaml", &MANIFEST.replace("MODE: fast", "MODE: slow"))])
            .manifest
            .unwrap();
        let p2 = plan_workflow_in(cloud.clone(), &m2, Some(b"layer".to_vec()), false, None)
            .await
            .unwrap();
        docs.push(render(&p2.plan));
        let p3 = plan_workflow_in(cloud.clone(), &m2, None, true, None)
            .await
            .unwrap();
        docs.push(render(&p3.plan));
        for (i, doc) in docs.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(doc).unwrap();
            let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "plan {i}: {errors:?}\n{doc}");
            assert!(
                !doc.contains("hunter2"),
                "plan {i} shows the secret:\n{doc}"
            );
        }
        let update: serde_json::Value = serde_json::from_str(&docs[1]).unwrap();
        let change = update["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["action"] == "update")
            .expect("an update");
        assert_eq!(change["address"], "lambda_function.f");
        let attrs = change["changed_attributes"].as_array().unwrap();
        let names: Vec<&str> = attrs.iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["environment"]);
        let env = &attrs[0];
        assert_eq!(env["before"]["API_TOKEN"], "(sensitive value)");
        assert_eq!(env["before"]["MODE"], "fast");
        assert_eq!(env["after"]["MODE"], "slow");
        assert_eq!(update["summary"]["change"], 1);
        let destroy: serde_json::Value = serde_json::from_str(&docs[2]).unwrap();
        assert!(destroy["summary"]["destroy"].as_u64().unwrap() >= 4);
    });
}

#[test]
fn markdown_plans_summarize_for_pull_requests_without_secrets() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cloud = Arc::new(MemoryCloud::new());
        let m = load_texts(&[("m.yaml", MANIFEST)]).manifest.unwrap();
        let p = plan_workflow_in(cloud.clone(), &m, Some(b"layer".to_vec()), false, None)
            .await
            .unwrap();
        let md = scar::render::markdown::render(&p.plan);
        assert!(md.starts_with("### scar plan: workflow `wf`"), "{md}");
        assert!(
            md.contains("**Plan: 7 to add, 0 to change, 0 to destroy.**"),
            "{md}"
        );
        assert!(
            md.contains("| ➕ create | `lambda_function.f` | does not exist |"),
            "{md}"
        );
        assert!(md.contains("```diff\n"), "{md}");
        assert!(!md.contains("hunter2"), "{md}");
        // The function's config (with the storage credentials) is shown,
        // masked.
        assert!(md.contains("function_config"), "{md}");
        assert!(md.contains("http://127.0.0.1:9000"), "{md}");
        let quiet: Arc<dyn Fn(Event) + Send + Sync> = Arc::new(|_| {});
        apply::apply(cloud.clone(), &p.plan, p.artifacts.clone(), 4, quiet).await;
        let again = plan_workflow_in(cloud.clone(), &m, Some(b"layer".to_vec()), false, None)
            .await
            .unwrap();
        assert!(scar::render::markdown::render(&again.plan).contains("**No changes.**"));
    });
}
