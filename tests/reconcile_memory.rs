//! The planner and executor against the in-memory cloud (a test double of
//! the cloud traits): convergence as a property — for random manifests and
//! random starting accounts, applying the plan and planning again yields no
//! changes — and the failure paths that the emulator cannot produce
//! (throttling, conflicts, a failing step and its dependents).

use std::sync::Arc;

use proptest::prelude::*;
use scar::apply::{self, Event, Outcome};
use scar::cloud::memory::MemoryCloud;
use scar::cloud::{ErrorKind, LambdaApi, S3Api};
use scar::manifest::{load_texts, Manifest};
use scar::pipeline::{plan_workflow_in, Planned};
use scar::plan::Action;
use serde_json::json;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A workflow of `functions`: (name, memory, input folder, output folder).
fn manifest(
    workflow: &str,
    functions: &[(String, u32, Option<String>, Option<String>)],
) -> Manifest {
    let mut y = format!("workflow: {workflow}\nfunctions:\n  aws:\n");
    for (name, memory, input, output) in functions {
        y += &format!("  - lambda:\n      name: {name}\n      memory: {memory}\n");
        if let Some(i) = input {
            y += &format!("      input:\n      - storage_provider: s3\n        path: {i}\n");
        }
        if let Some(o) = output {
            y += &format!("      output:\n      - storage_provider: s3\n        path: {o}\n");
        }
    }
    let loaded = load_texts(&[("m.yaml", &y)]);
    assert_eq!(loaded.error_count(), 0, "{y}\n{:#?}", loaded.diagnostics);
    loaded.manifest.unwrap()
}

const LAYER: &[u8] = b"stand-in layer zip: the in-memory cloud never runs code";

async fn plan(cloud: &Arc<MemoryCloud>, m: &Manifest, destroy: bool) -> Planned {
    plan_workflow_in(cloud.clone(), m, Some(LAYER.to_vec()), destroy, None)
        .await
        .unwrap()
}

/// The change of one address.
fn change<'a>(p: &'a Planned, address: &str) -> &'a scar::plan::Change {
    p.plan
        .changes
        .iter()
        .find(|c| c.address.to_string() == address)
        .unwrap_or_else(|| panic!("no change of {address}"))
}

async fn apply_plan(cloud: &Arc<MemoryCloud>, p: &Planned) -> Vec<(String, Action, Outcome)> {
    let quiet: Arc<dyn Fn(Event) + Send + Sync> = Arc::new(|_| {});
    apply::apply(cloud.clone(), &p.plan, p.artifacts.clone(), 4, quiet)
        .await
        .into_iter()
        .map(|(a, act, o)| (a.to_string(), act, o))
        .collect()
}

fn function_strategy() -> impl Strategy<Value = Vec<(String, u32, Option<String>, Option<String>)>>
{
    // Inputs are distinct folders per function (no overlap), outputs go to
    // another bucket (no loops), so every generated manifest is valid.
    prop::collection::btree_map(
        "[a-e]{1,2}",
        (
            prop::sample::select(vec![128u32, 256, 512, 1024]),
            any::<bool>(),
            prop::option::of(prop::sample::select(vec!["out-a", "out-b"])),
        ),
        0..5,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(n, (mem, trig, out))| {
                let name = format!("fn-{n}");
                let input = trig.then(|| format!("in-bucket/{name}"));
                let output = out.map(|b| format!("scar-{b}/{name}"));
                (name, mem, input, output)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn apply_then_plan_converges(
        before in function_strategy(),
        after in function_strategy(),
        drift_memory in any::<bool>(),
        drop_notifications in any::<bool>(),
    ) {
        rt().block_on(async {
            let cloud = Arc::new(MemoryCloud::new());
            // A random starting account: another state of the same workflow,
            // then changes made behind scar's back.
            let m0 = manifest("wf", &before);
            let p0 = plan(&cloud, &m0, false).await;
            apply_plan(&cloud, &p0).await;
            if drift_memory {
                if let Some((name, ..)) = before.first() {
                    let f = cloud.get_function(name).await.unwrap().unwrap();
                    let spec = scar::cloud::FunctionSpec {
                        name: f.name.clone(), role: f.role.clone(),
                        package: scar::cloud::PackageSpec::Zip {
                            runtime: f.runtime.clone().unwrap_or_default(),
                            handler: f.handler.clone().unwrap_or_default(),
                            layers: f.layers.clone(),
                        },
                        memory: 2048, timeout: f.timeout,
                        description: f.description.clone(), environment: f.environment.clone(),
                        architectures: f.architectures.clone(), ..Default::default()
                    };
                    cloud.update_function_configuration(&spec).await.unwrap();
                }
            }
            if drop_notifications {
                let _ = cloud.put_notifications("in-bucket", &Default::default()).await;
            }
            // The property.
            let m1 = manifest("wf", &after);
            let p1 = plan(&cloud, &m1, false).await;
            let results = apply_plan(&cloud, &p1).await;
            for (addr, _, outcome) in &results {
                prop_assert_eq!(outcome, &Outcome::Done, "{}", addr);
            }
            let p2 = plan(&cloud, &m1, false).await;
            let left: Vec<String> = p2.plan.changes.iter().filter(|c| c.action.is_change()).map(|c| format!("{} {:?} {}", c.address, c.action, c.reason)).collect();
            prop_assert!(left.is_empty(), "not converged: {:?}", left);
            Ok(())
        })?;
    }
}

#[test]
fn destroy_removes_what_the_workflow_owns_and_keeps_data() {
    rt().block_on(async {
        let cloud = Arc::new(MemoryCloud::new());
        let fns = vec![
            (
                "a".to_string(),
                256,
                Some("in-bucket/a".to_string()),
                Some("scar-out-a/a".to_string()),
            ),
            ("b".to_string(), 256, Some("in-bucket/b".to_string()), None),
        ];
        let m = manifest("wf", &fns);
        let p = plan(&cloud, &m, false).await;
        apply_plan(&cloud, &p).await;
        cloud
            .put_object("scar-out-a", "a/result.txt", b"data")
            .await
            .unwrap();
        let d = plan(&cloud, &m, true).await;
        let kept: Vec<String> = d
            .plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Keep)
            .map(|c| c.address.to_string())
            .collect();
        assert_eq!(kept, ["s3_bucket.scar-out-a"]);
        apply_plan(&cloud, &d).await;
        assert!(cloud.get_function("a").await.unwrap().is_none());
        assert!(cloud.get_function("b").await.unwrap().is_none());
        assert!(cloud.get_bucket("in-bucket").await.unwrap().is_none());
        assert!(cloud.get_bucket("scar-out-a").await.unwrap().is_some());
        let again = plan(&cloud, &m, true).await;
        assert!(!again.plan.has_changes());
    });
}

#[test]
fn throttling_and_conflicts_are_retried() {
    rt().block_on(async {
        let cloud = Arc::new(MemoryCloud::new());
        let m = manifest(
            "wf",
            &[("a".to_string(), 256, Some("in-bucket/a".to_string()), None)],
        );
        cloud.fail_next("CreateFunction", ErrorKind::Throttled, 2);
        cloud.fail_next("PutBucketNotificationConfiguration", ErrorKind::Conflict, 1);
        let p = plan(&cloud, &m, false).await;
        let results = apply_plan(&cloud, &p).await;
        assert!(
            results.iter().all(|(_, _, o)| *o == Outcome::Done),
            "{results:?}"
        );
        assert!(!plan(&cloud, &m, false).await.plan.has_changes());
    });
}

#[test]
fn a_failed_step_skips_its_dependents_and_a_rerun_converges() {
    rt().block_on(async {
        let cloud = Arc::new(MemoryCloud::new());
        let m = manifest(
            "wf",
            &[
                ("a".to_string(), 256, Some("in-bucket/a".to_string()), None),
                ("b".to_string(), 256, None, None),
            ],
        );
        cloud.fail_next_for("CreateFunction", "a", ErrorKind::Invalid, 1);
        let p = plan(&cloud, &m, false).await;
        let results = apply_plan(&cloud, &p).await;
        let failed: Vec<&str> = results
            .iter()
            .filter(|r| matches!(r.2, Outcome::Failed(_)))
            .map(|r| r.0.as_str())
            .collect();
        assert_eq!(failed, ["lambda_function.a"], "{results:?}");
        let skipped: Vec<&str> = results
            .iter()
            .filter(|r| matches!(r.2, Outcome::Skipped(_)))
            .map(|r| r.0.as_str())
            .collect();
        // The other function and the log groups went on.
        assert!(results
            .iter()
            .any(|r| r.2 == Outcome::Done && r.0 == "lambda_function.b"));
        assert!(
            skipped.contains(&"lambda_permission.a/scar-s3-in-bucket"),
            "{skipped:?}"
        );
        assert!(
            skipped.contains(&"s3_notifications.in-bucket"),
            "{skipped:?}"
        );
        let p2 = plan(&cloud, &m, false).await;
        apply_plan(&cloud, &p2).await;
        assert!(!plan(&cloud, &m, false).await.plan.has_changes());
    });
}

#[test]
fn a_given_role_that_does_not_exist_blocks_the_plan() {
    rt().block_on(async {
        let cloud = Arc::new(MemoryCloud::new());
        let y = "workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: f\n    iam:\n      role: arn:aws:iam::123456789012:role/nope\n";
        let m = load_texts(&[("m.yaml", y)]).manifest.unwrap();
        let p = plan(&cloud, &m, false).await;
        let blocked: Vec<_> = p.plan.changes.iter().filter(|c| c.action == Action::Blocked).collect();
        assert_eq!(blocked.len(), 1);
        assert_eq!(blocked[0].address.to_string(), "lambda_function.f");
        assert!(blocked[0].reason.contains("does not exist"), "{}", blocked[0].reason);
        assert!(p.plan.is_blocked());
        // No role of the workflow is planned: the given one is used as is.
        assert!(!p.plan.changes.iter().any(|c| c.address.kind == scar::model::Kind::IamRole));
    });
}

#[test]
fn a_changed_permission_is_replaced() {
    rt().block_on(async {
        let cloud = Arc::new(MemoryCloud::new());
        let m = manifest(
            "wf",
            &[("a".to_string(), 256, Some("in-bucket/a".to_string()), None)],
        );
        let p = plan(&cloud, &m, false).await;
        apply_plan(&cloud, &p).await;
        // Someone narrows the statement behind scar's back.
        cloud
            .remove_permission("a", "scar-s3-in-bucket")
            .await
            .unwrap();
        let s = scar::cloud::PermissionStatement {
            sid: "scar-s3-in-bucket".into(),
            principal: "s3.amazonaws.com".into(),
            action: "lambda:InvokeFunction".into(),
            source_arn: Some("arn:aws:s3:::in-bucket".into()),
            source_account: Some("999999999999".into()),
        };
        cloud.add_permission("a", &s).await.unwrap();
        let p = plan(&cloud, &m, false).await;
        let c = p
            .plan
            .changes
            .iter()
            .find(|c| c.action.is_change())
            .expect("a change");
        assert_eq!(
            c.address.to_string(),
            "lambda_permission.a/scar-s3-in-bucket"
        );
        assert_eq!(c.action, Action::Replace);
        assert!(c
            .diffs
            .iter()
            .any(|d| d.name == "source_account" && d.forces_replacement));
        let text = scar::render::text::render(&p.plan);
        assert!(text.contains("-/+ lambda_permission"), "{text}");
        assert!(text.contains("# forces replacement"), "{text}");
        apply_plan(&cloud, &p).await;
        assert!(!plan(&cloud, &m, false).await.plan.has_changes());
    });
}

#[test]
fn a_code_update_shows_the_previous_script_from_the_cloud_or_the_cache() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("run.sh");
        std::fs::write(&script, "#!/bin/sh\necho one\n").unwrap();
        let path = dir.path().join("scar.yaml");
        std::fs::write(
            &path,
            "workflow: w\nfunctions:\n  aws:\n  - lambda:\n      name: f\n      init_script: run.sh\n",
        )
        .unwrap();
        let load = || scar::manifest::load(std::slice::from_ref(&path)).manifest.unwrap();
        let cloud = Arc::new(MemoryCloud::new());
        let p = plan(&cloud, &load(), false).await;
        apply_plan(&cloud, &p).await;
        std::fs::write(&script, "#!/bin/sh\necho two\n").unwrap();

        // No cache: the package is read back from Lambda, one GetFunction.
        let before = cloud.requests().count("GetFunction");
        let p = plan(&cloud, &load(), false).await;
        assert_eq!(cloud.requests().count("GetFunction"), before + 1);
        let c = change(&p, "lambda_function.f");
        let d = c.diffs.iter().find(|d| d.name == "init_script").expect("a script diff");
        assert_eq!(d.before, Some(json!("#!/bin/sh\necho one\n")));
        assert_eq!(d.after, Some(json!("#!/bin/sh\necho two\n")));
        assert!(!c.diffs.iter().any(|d| d.name == "function_config"));
        let text = scar::render::text::render(&p.plan);
        assert!(text.contains("- echo one") && text.contains("+ echo two"), "{text}");

        // With a cache, what was read back is remembered: the next plan
        // shows the diff without asking Lambda.
        let cache_dir = tempfile::tempdir().unwrap();
        let cache = scar::package::Cache::new(cache_dir.path());
        let plan_cached = || async {
            plan_workflow_in(cloud.clone(), &load(), Some(LAYER.to_vec()), false, Some(&cache))
                .await
                .unwrap()
        };
        plan_cached().await;
        let before = cloud.requests().count("GetFunction");
        let p = plan_cached().await;
        assert_eq!(cloud.requests().count("GetFunction"), before);
        let text = scar::render::text::render(&p.plan);
        assert!(text.contains("- echo one") && text.contains("+ echo two"), "{text}");

        // A package scar did not build: the plan says so instead.
        cloud.update_function_code("f", &scar::cloud::CodeArtifact::Zip(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec()))
            .await
            .unwrap();
        let p = plan(&cloud, &load(), false).await;
        let c = change(&p, "lambda_function.f");
        assert!(
            c.reason.contains("the previous script and config cannot be shown: the deployed package was not built by scar"),
            "{}",
            c.reason
        );
        apply_plan(&cloud, &p).await;
        assert!(!plan(&cloud, &load(), false).await.plan.has_changes());
    });
}
