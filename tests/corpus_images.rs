//! SCAR's real workflows (`../shared/corpus/scar-workflows/`, manifests,
//! scripts and Dockerfiles read in place, never changed) deployed through
//! the `scar` binary against the AWS emulator and a real registry: every
//! workflow whose functions run on Lambda plans, applies, plans again with
//! no change and is destroyed, leaving no function and no repository.
//!
//! The base images they name are stand-ins pushed to the registry under
//! the names the manifests use (read from the manifests, through
//! `registries.conf`): the tests run no image here (see
//! `tests/local_invoke.rs` for that). `mpi/lambda.yaml` names files in
//! `/tmp` that SCAR's repository does not ship: the test writes a stand-in
//! image archive (`docker save` layout) and the corpus's `run_helper.sh`
//! there, and passes `--allow-files-in /tmp`, as a user would.
//!
//! Workflows with AWS Batch functions (`video-process/`) are deployed by
//! `tests/corpus_batch.rs`, in a copy given the emulator's network.
//!
//! Left out, with why (each checked to fail as it should):
//! - `cowsay/scar-minicow.yaml` names `minicow.tar.gz` beside itself,
//!   which SCAR's repository does not ship and this read-only folder
//!   cannot get.

mod common;
use common::images::ImageEnv;
use common::out;

use std::path::{Path, PathBuf};

use scar::image::reference::ImageRef;

fn workflows() -> PathBuf {
    testkit::shared_path("corpus/scar-workflows")
}

/// Every manifest of the corpus, relative to it, sorted.
fn manifests() -> Vec<String> {
    let root = workflows();
    let mut found = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "yaml") {
                found.push(f.strip_prefix(&root).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

/// Left out, and the error each gives.
const LEFT_OUT: &[(&str, &str)] = &[("cowsay/scar-minicow.yaml", "minicow.tar.gz")];

/// A `docker save` archive of one small amd64 layer.
fn stand_in_archive() -> Vec<u8> {
    let tar_of = |entries: &[(&str, &[u8])]| {
        let mut t = tar::Builder::new(Vec::new());
        for (name, bytes) in entries {
            let mut h = tar::Header::new_ustar();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o755);
            h.set_cksum();
            t.append_data(&mut h, name, *bytes).unwrap();
        }
        t.into_inner().unwrap()
    };
    let layer = tar_of(&[("opt/mpi/run.sh", b"#!/bin/sh\necho mpi\n")]);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [testkit::image::digest(&layer)]},
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": "config.json", "RepoTags": ["scar-mpi:latest"], "Layers": ["l1/layer.tar"],
    }]))
    .unwrap();
    tar_of(&[
        ("manifest.json", &manifest),
        ("config.json", &config),
        ("l1/layer.tar", &layer),
    ])
}

/// Whether a manifest has an AWS Batch function (`tests/corpus_batch.rs`
/// deploys those).
fn uses_batch(path: &Path) -> bool {
    let loaded = scar::manifest::load_with(
        &[path.to_path_buf()],
        &scar::manifest::LoadOptions {
            allow_files_in: vec![PathBuf::from("/tmp")],
        },
    );
    loaded.manifest.is_some_and(|m| {
        m.functions
            .iter()
            .any(|f| f.spec.lambda.execution_mode.uses_batch())
    })
}

/// The names of the functions and their repositories in a manifest.
fn function_names(path: &Path) -> Vec<String> {
    let loaded = scar::manifest::load_with(
        &[path.to_path_buf()],
        &scar::manifest::LoadOptions {
            allow_files_in: vec![PathBuf::from("/tmp")],
        },
    );
    loaded
        .manifest
        .unwrap()
        .functions
        .iter()
        .map(|f| f.name().to_string())
        .collect()
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
async fn every_lambda_workflow_of_the_corpus_applies_replans_empty_and_destroys() {
    let env = ImageEnv::new();
    let root = workflows();
    let all = manifests();
    let deployed: Vec<&String> = all
        .iter()
        .filter(|m| !LEFT_OUT.iter().any(|(l, _)| l == m))
        .filter(|m| !uses_batch(&root.join(m)))
        .collect();
    assert!(deployed.len() >= 10, "{all:?}");

    // Stand-ins for every base the manifests name, under those names.
    let mut seed = 100;
    for m in &deployed {
        let text = std::fs::read_to_string(root.join(m)).unwrap();
        for line in text.lines() {
            let Some(image) = line.trim().strip_prefix("image: ") else {
                continue;
            };
            let r = ImageRef::parse(image.trim()).unwrap();
            assert_eq!(r.registry(), "docker.io", "{m}: {image}");
            env.push_image(r.repository(), r.tag().unwrap_or("latest"), seed, 2);
            seed += 10;
        }
    }
    std::fs::write("/tmp/scar-mpi.img", stand_in_archive()).unwrap();
    std::fs::copy(root.join("mpi/run_helper.sh"), "/tmp/run_helper.sh").unwrap();

    let e = aws_sdk_ecr::Client::new(&env.scratch.sdk().await);
    let l = aws_sdk_lambda::Client::new(&env.scratch.sdk().await);
    for m in &deployed {
        let path = root.join(m);
        let file = path.display().to_string();
        let args = |cmd: &'static str| -> Vec<String> {
            let mut a = vec![cmd.to_string(), "-f".into(), file.clone()];
            if m.starts_with("mpi/") {
                a.extend(["--allow-files-in".into(), "/tmp".into()]);
            }
            if cmd != "plan" {
                a.push("--auto-approve".into());
            }
            a
        };
        let run = |cmd: &'static str, code: i32| {
            let a = args(cmd);
            let mut a: Vec<&str> = a.iter().map(String::as_str).collect();
            if cmd == "plan" {
                a.push("--detailed-exitcode");
            }
            env.expect(code, &a)
        };
        run("apply", 0);
        let functions = function_names(&path);
        for f in &functions {
            let c = l.get_function().function_name(f).send().await;
            let c = c.unwrap_or_else(|e| panic!("{m}: function {f}: {e:?}"));
            let kind = c.configuration().unwrap().package_type().unwrap().as_str();
            assert_eq!(kind, "Image", "{m}: {f}");
            let repo = scar::resources::repository_name(f);
            assert!(
                e.describe_repositories()
                    .repository_names(&repo)
                    .send()
                    .await
                    .is_ok(),
                "{m}: repository {repo}"
            );
        }
        let o = run("plan", 0);
        assert!(
            common::stdout(&o).contains("No changes"),
            "{m}:\n{}",
            out(&o)
        );
        run("destroy", 0);
        for f in &functions {
            assert!(
                l.get_function().function_name(f).send().await.is_err(),
                "{m}: {f} was not deleted"
            );
            let repo = scar::resources::repository_name(f);
            assert!(
                e.describe_repositories()
                    .repository_names(&repo)
                    .send()
                    .await
                    .is_err(),
                "{m}: repository {repo} was not deleted"
            );
        }
    }

    // The ones left out fail as they should, before any change.
    for (m, says) in LEFT_OUT {
        let file = root.join(m).display().to_string();
        let o = env.command(&["plan", "-f", &file]).output().unwrap();
        let text = out(&o);
        assert!(text.contains(says), "{m}: missing {says:?} in:\n{text}");
    }
}
