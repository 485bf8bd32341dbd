//! SCAR's real workflows with AWS Batch functions, through the `scar`
//! binary against the AWS emulator (moto: Batch, Lambda, S3, IAM, ECR's
//! control plane, EC2's default VPC) and a real registry: the manifests of
//! `../shared/corpus/` are copied, with their scripts, into a scratch
//! folder (never written in place), and the copy gets the subnets and
//! security group of moto's default VPC in each Batch function's
//! `batch.compute_resources`: SCAR took them from the user's config, and a
//! user of scar writes them in the manifest. What the account holds is read
//! back with the AWS SDK, never through scar's code.
//!
//! Covered:
//! - `scar-workflows/video-process/scar-video-process.yaml` (a Batch
//!   function chained to a Lambda one): applies, plans again with no
//!   change, and is destroyed, leaving no function, repository, compute
//!   environment, job queue or ACTIVE job definition;
//! - `scar-examples/video-process.yaml` (the same text; SCAR's examples
//!   folder does not ship its scripts, taken from `scar-workflows/`):
//!   planned, with the Batch resources in the plan.
//!
//! Not planned, with why (each checked below):
//! - `scar-examples/_root--fdl-example.yaml` has `batch` and `api_gateway`
//!   blocks but runs on Lambda (`execution_mode: lambda`) and names no API
//!   (`api_gateway.name`): it has no Batch or API Gateway resource;
//! - the `legacy-*` files with `execution_mode: batch` or `api_gateway`
//!   are in SCAR 3.x's layout, which SCAR 4.x and scar refuse
//!   (`legacy-layout`, see `tests/corpus.rs`).
//!
//! No manifest of either corpus in the current layout names an API
//! (`api_gateway.name`): API Gateway is tested on the emulator with
//! manifests of its own (`tests/api_gateway_emulator.rs`).

mod common;
use common::images::ImageEnv;
use common::{out, stdout};

use std::path::{Path, PathBuf};

use scar::image::reference::ImageRef;
use scar::manifest::{self, LoadOptions, Severity};

fn corpus(rel: &str) -> PathBuf {
    testkit::shared_path(&format!("corpus/{rel}"))
}

/// `text` (a manifest in SCAR 4.x's layout, `functions: aws: - lambda:`)
/// with a `batch.compute_resources` block naming `subnets` and `groups`
/// appended to each function whose `execution_mode` is `batch` or
/// `lambda-batch`. Panics if the text already has a `batch:` block there
/// (the copy would then hold two).
fn with_network(text: &str, subnets: &[String], groups: &[String]) -> String {
    let block = format!(
        "    batch:\n      compute_resources:\n        subnets: [{}]\n        security_group_ids: [{}]\n",
        subnets.join(", "),
        groups.join(", ")
    );
    // The functions' items start at `  - ` (two spaces): split there.
    let mut items: Vec<String> = vec![String::new()];
    for line in text.lines() {
        if line.starts_with("  - ") {
            items.push(String::new());
        }
        let last = items.last_mut().expect("one item at least");
        last.push_str(line);
        last.push('\n');
    }
    let uses_batch = |item: &str| {
        item.lines().any(|l| {
            matches!(
                l.trim(),
                "execution_mode: batch" | "execution_mode: lambda-batch"
            )
        })
    };
    items
        .into_iter()
        .map(|item| {
            if item.starts_with("  - ") && uses_batch(&item) {
                assert!(
                    !item.contains("\n    batch:"),
                    "a batch block already:\n{item}"
                );
                item + &block
            } else {
                item
            }
        })
        .collect()
}

/// Loads `path` with no error; the manifest.
fn load(path: &Path) -> manifest::Manifest {
    let loaded = manifest::load_with(&[path.to_path_buf()], &LoadOptions::default());
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    loaded.manifest.expect("a manifest")
}

/// Copies the manifest `rel` of the corpus into the scratch folder with
/// the emulator's network added, and its `scripts` (read from `scripts_in`)
/// beside it; pushes a stand-in for every image it names (`seed` apart);
/// the copy's path and its Batch functions' names.
fn copy_with_network(
    env: &ImageEnv,
    rel: &str,
    scripts_in: &Path,
    scripts: &[&str],
    seed: u64,
) -> (PathBuf, Vec<String>) {
    let (subnets, groups) = env.scratch.moto.default_network();
    let text = std::fs::read_to_string(corpus(rel)).unwrap();
    let name = Path::new(rel).file_name().unwrap().to_string_lossy();
    let copy = env
        .scratch
        .write(&name, &with_network(&text, &subnets, &groups));
    for s in scripts {
        std::fs::copy(scripts_in.join(s), env.scratch.path().join(s))
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    let mut pushed = 0;
    for line in text.lines() {
        let Some(image) = line.trim().strip_prefix("image: ") else {
            continue;
        };
        let r = ImageRef::parse(image.trim()).unwrap();
        assert_eq!(r.registry(), "docker.io", "{rel}: {image}");
        env.push_image(
            r.repository(),
            r.tag().unwrap_or("latest"),
            seed + pushed,
            2,
        );
        pushed += 10;
    }
    // The copy holds the network, in the Batch functions only.
    let m = load(&copy);
    let mut batch = Vec::new();
    for f in &m.functions {
        let c = &f.spec.batch.compute_resources;
        if f.spec.lambda.execution_mode.uses_batch() {
            assert_eq!((&c.subnets, &c.security_group_ids), (&subnets, &groups));
            batch.push(f.name().to_string());
        }
    }
    assert!(!batch.is_empty(), "{rel} has no Batch function");
    (copy, batch)
}

/// Whether the compute environment `name` exists (in any state).
async fn has_environment(b: &aws_sdk_batch::Client, name: &str) -> bool {
    let out = b
        .describe_compute_environments()
        .compute_environments(name)
        .send()
        .await
        .unwrap();
    !out.compute_environments().is_empty()
}

/// Whether the job queue `name` exists (in any state).
async fn has_queue(b: &aws_sdk_batch::Client, name: &str) -> bool {
    let out = b
        .describe_job_queues()
        .job_queues(name)
        .send()
        .await
        .unwrap();
    !out.job_queues().is_empty()
}

/// The ACTIVE revisions of the job definition `name`.
async fn active_revisions(b: &aws_sdk_batch::Client, name: &str) -> Vec<i32> {
    let out = b
        .describe_job_definitions()
        .job_definition_name(name)
        .status("ACTIVE")
        .send()
        .await
        .unwrap();
    let mut r: Vec<i32> = out
        .job_definitions()
        .iter()
        .filter(|d| d.status() == Some("ACTIVE"))
        .filter_map(|d| d.revision())
        .collect();
    r.sort();
    r
}

#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing (CI always has it; outside CI this shows as ignored)"
)]
#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn the_video_process_workflow_with_the_emulators_network_applies_replans_empty_and_destroys()
{
    let env = ImageEnv::new();
    let rel = "scar-workflows/video-process/scar-video-process.yaml";
    let beside = corpus("scar-workflows/video-process");
    let scripts = ["split-video.sh", "yolo-sample-object-detection.sh"];
    let (copy, batch_functions) = copy_with_network(&env, rel, &beside, &scripts, 100);
    assert_eq!(batch_functions, ["scar-batch-ffmpeg-split"]);
    let file = copy.display().to_string();
    let functions: Vec<String> = load(&copy)
        .functions
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    assert_eq!(functions.len(), 2, "{functions:?}");

    let sdk = env.scratch.sdk().await;
    let (b, l, e) = (
        aws_sdk_batch::Client::new(&sdk),
        aws_sdk_lambda::Client::new(&sdk),
        aws_sdk_ecr::Client::new(&sdk),
    );
    env.ok(&["apply", "-f", &file, "--auto-approve"]);
    for f in &functions {
        let got = l.get_function().function_name(f).send().await;
        got.unwrap_or_else(|e| panic!("function {f}: {e:?}"));
        let repo = scar::resources::repository_name(f);
        assert!(
            e.describe_repositories()
                .repository_names(&repo)
                .send()
                .await
                .is_ok(),
            "repository {repo}"
        );
    }
    for f in &batch_functions {
        assert!(has_environment(&b, f).await, "compute environment {f}");
        assert!(has_queue(&b, f).await, "job queue {f}");
        assert_eq!(active_revisions(&b, f).await, [1], "job definition {f}");
    }

    let o = env.expect(0, &["plan", "-f", &file, "--detailed-exitcode"]);
    assert!(stdout(&o).contains("No changes"), "{}", out(&o));

    let o = env.ok(&["destroy", "-f", &file, "--auto-approve"]);
    for f in &functions {
        assert!(
            l.get_function().function_name(f).send().await.is_err(),
            "function {f} was not deleted:\n{}",
            out(&o)
        );
        let repo = scar::resources::repository_name(f);
        assert!(
            e.describe_repositories()
                .repository_names(&repo)
                .send()
                .await
                .is_err(),
            "repository {repo} was not deleted"
        );
    }
    for f in &batch_functions {
        assert!(!has_environment(&b, f).await, "compute environment {f}");
        assert!(!has_queue(&b, f).await, "job queue {f}");
        assert!(
            active_revisions(&b, f).await.is_empty(),
            "job definition {f}"
        );
    }
}

#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing (CI always has it; outside CI this shows as ignored)"
)]
#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn the_batch_example_of_scar_examples_with_the_emulators_network_plans_its_batch_resources() {
    let env = ImageEnv::new();
    // SCAR's examples folder ships the manifest alone; its scripts are
    // the workflows corpus's (the same workflow).
    let beside = corpus("scar-workflows/video-process");
    let scripts = ["split-video.sh", "yolo-sample-object-detection.sh"];
    let (copy, batch_functions) = copy_with_network(
        &env,
        "scar-examples/video-process.yaml",
        &beside,
        &scripts,
        200,
    );
    let file = copy.display().to_string();
    let plan = stdout(&env.expect(2, &["plan", "-f", &file, "--detailed-exitcode"]));
    for f in &batch_functions {
        for kind in [
            "batch_compute_environment",
            "batch_job_queue",
            "batch_job_definition",
            "lambda_function",
        ] {
            let line = format!("# {kind}.{f} will be created");
            assert!(plan.contains(&line), "{line}:\n{plan}");
        }
    }
    assert!(
        plan.lines().any(|l| {
            let l = l.trim();
            l.starts_with("# iam_instance_profile.scar-")
                && l.ends_with("-batch-instance will be created")
        }),
        "the instance profile of the EC2 environment:\n{plan}"
    );
    assert!(
        plan.contains("# lambda_function.scar-lambda-darknet will be created"),
        "{plan}"
    );
}

#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing (CI always has it; outside CI this shows as ignored)"
)]
#[test]
fn the_other_examples_naming_batch_or_api_gateway_have_no_batch_or_api_resource_or_do_not_load() {
    // Runs on Lambda and names no API, despite its `batch` and
    // `api_gateway` blocks.
    let path = corpus("scar-examples/_root--fdl-example.yaml");
    let m = load(&path);
    for f in &m.functions {
        assert!(!f.spec.lambda.execution_mode.uses_batch(), "{}", f.name());
        let api = f.spec.api_gateway.as_ref().and_then(|a| a.name.as_deref());
        assert_eq!(api, None, "{}", f.name());
    }
    // SCAR 3.x's layout: refused, so there is nothing to plan.
    for name in [
        "legacy-3.2.2--darknet--scar-darknet-api-bin.yaml",
        "legacy-3.2.2--mrbayes--scar-mrbayes-batch.yaml",
        "legacy-3.2.2--video-process--scar-batch-ffmpeg-split.yaml",
        "legacy-v3.0.0--darknet--scar-darknet-api.yaml",
    ] {
        let path = corpus(&format!("scar-examples/{name}"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("execution_mode: batch") || text.contains("api_gateway:"),
            "{name}"
        );
        let loaded = manifest::load_with(&[path], &LoadOptions::default());
        assert!(loaded.manifest.is_none(), "{name} loaded");
        let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code).collect();
        assert!(codes.contains(&"legacy-layout"), "{name}: {codes:?}");
    }
}

/// Every manifest of both corpora that uses Batch or API Gateway is one
/// this file covers (so a new one is not missed).
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing (CI always has it; outside CI this shows as ignored)"
)]
#[test]
fn no_manifest_of_the_corpora_using_batch_or_api_gateway_goes_untested() {
    let covered = [
        "scar-examples/_root--fdl-example.yaml",
        "scar-examples/legacy-3.2.2--darknet--scar-darknet-api-bin.yaml",
        "scar-examples/legacy-3.2.2--mrbayes--scar-mrbayes-batch.yaml",
        "scar-examples/legacy-3.2.2--video-process--scar-batch-ffmpeg-split.yaml",
        "scar-examples/legacy-v3.0.0--darknet--scar-darknet-api.yaml",
        "scar-examples/video-process.yaml",
        "scar-workflows/video-process/scar-video-process.yaml",
    ];
    let mut found = Vec::new();
    let mut dirs = vec![corpus("scar-examples"), corpus("scar-workflows")];
    let root = corpus("");
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            if !p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let uses = text.lines().any(|l| {
                let l = l.trim();
                l == "api_gateway:"
                    || l.starts_with("execution_mode: batch")
                    || l.starts_with("execution_mode: lambda-batch")
            });
            if uses {
                found.push(p.strip_prefix(&root).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    assert_eq!(found, covered);
}
