//! Benchmark: `scar plan` of in-sync workflows with AWS Batch functions,
//! beside the Lambda-only figure, in one run against the AWS emulator
//! (moto, one fresh server per workflow so that no workflow's listings
//! see another's resources) and a real OCI registry on 127.0.0.1 (Debian's
//! `docker-registry`, for the Batch functions' image). Issue 12's goal: at
//! most 3 AWS requests per Batch function.
//!
//!   cargo run --release --example bench_batch          # 5 plans each
//!   cargo run --release --example bench_batch -- 9     # 9 plans each
//!
//! (`cargo run --example bench_batch` builds faster and gives the same
//! request counts; its wall times are slower.)
//!
//! Three workflows, each applied once, then planned with no change: one
//! warm-up plan, then N plans (default 5); wall time is the median:
//! - `lambda500`: 500 zip functions, each with an S3 trigger on its own
//!   folder of one shared bucket, a log group and its permission (the
//!   workflow of `bench_plan`);
//! - `mixed`: 50 such zip functions and 50 Batch functions
//!   (`execution_mode: batch`, the same trigger shape, with the subnets
//!   and security group of moto's default VPC);
//! - `twin`: `mixed` with the Batch functions turned into Lambda image
//!   functions (same image, same triggers): what 50 + 50 Lambda
//!   functions cost, so `mixed − twin` is what Batch adds.
//!
//! The Batch functions run an ECR image as it is (no `create_image`), as
//! SCAR runs one: the registry stands in for the account's ECR registry
//! through a `registries.conf`, and no supervisor image is built (a built
//! image would add the same ECR repository reads to `mixed` and `twin`).
//! Batch requests per Batch function are given both ways: `mixed − twin`
//! over 50, and the requests of the Batch operations (`Describe*` of
//! Batch, `GetInstanceProfile`) over 50.

#[path = "support/mod.rs"]
#[allow(dead_code)] // `apply_all` plans without image sources
mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use scar::apply::{self, Event};
use scar::cloud::aws::AwsCloud;
use scar::manifest::Manifest;
use scar::pipeline::{plan_workflow_with, ImageSources};
use support::{emulator, LAYER};

/// The account's ECR registry in moto (account 123456789012, us-east-1).
const ECR: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
/// The Batch functions' image (as it is, from the account's ECR).
const IMAGE: &str = "bench/batch";
/// Lambda and Batch functions in the mixed workflow, each.
const HALF: usize = 50;
/// The Lambda-only workflow's size.
const LAMBDA_ONLY: usize = 500;
/// Issue 12's goal, in AWS requests per Batch function.
const GOAL: f64 = 3.0;

/// The operations that only Batch functions send: Batch's listings and
/// the instance profile of their compute environments.
const BATCH_OPERATIONS: &[&str] = &[
    "DescribeComputeEnvironments",
    "DescribeJobQueues",
    "DescribeJobDefinitions",
    "GetInstanceProfile",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One function with an S3 trigger on folder `i` of the workflow's bucket
/// (and its output folder): the common shape of a SCAR function.
fn function(workflow: &str, name: &str, i: usize, extra: &str) -> String {
    format!(
        "  - lambda:\n      name: {name}\n      memory: 256\n{extra}      input:\n      - storage_provider: s3\n        path: scar-{workflow}/in{i:04}\n      output:\n      - storage_provider: s3\n        path: scar-{workflow}-out/fn{i:04}\n"
    )
}

/// The mixed workflow (`batch`: the image functions run on Batch, with
/// the network given) or its Lambda twin (`batch: None`).
fn mixed(workflow: &str, batch: Option<(&[String], &[String])>) -> Manifest {
    let mut y = format!("workflow: {workflow}\nfunctions:\n  aws:\n");
    for i in 0..HALF {
        y += &function(workflow, &format!("{workflow}-fn{i:04}"), i, "");
    }
    let image = format!("      container:\n        image: {ECR}/{IMAGE}:latest\n");
    for i in 0..HALF {
        let name = format!("{workflow}-img{i:04}");
        match batch {
            None => y += &function(workflow, &name, HALF + i, &image),
            Some((subnets, groups)) => {
                let mode = format!("      execution_mode: batch\n{image}");
                y += &function(workflow, &name, HALF + i, &mode);
                y += &format!(
                    "    batch:\n      compute_resources:\n        subnets: [{}]\n        security_group_ids: [{}]\n",
                    subnets.join(", "),
                    groups.join(", ")
                );
            }
        }
    }
    let loaded = scar::manifest::load_texts(&[("bench.yaml", &y)]);
    match loaded.manifest {
        Some(m) => m,
        None => panic!(
            "the generated manifest is invalid: {:?}",
            loaded.diagnostics
        ),
    }
}

/// Plans `m` with `sources`, applies it from nothing; panics unless every
/// change is done.
async fn apply_all(cloud: &Arc<AwsCloud>, m: &Manifest, sources: &ImageSources) {
    let first = plan_workflow_with(cloud.clone(), m, Some(LAYER.to_vec()), false, None, sources)
        .await
        .expect("plan");
    let quiet: Arc<dyn Fn(Event) + Send + Sync> = Arc::new(|_| {});
    let results = apply::apply(
        cloud.clone(),
        &first.plan,
        first.artifacts.clone(),
        10,
        quiet,
    )
    .await;
    let failed: Vec<_> = results
        .iter()
        .filter(|r| r.2 != apply::Outcome::Done)
        .collect();
    assert!(failed.is_empty(), "apply failed: {failed:?}");
}

/// What the no-change plans of one workflow cost.
struct Figures {
    functions: usize,
    wall: f64,
    requests: u64,
    by_operation: BTreeMap<String, u64>,
}

/// Applies `m` on a fresh emulator, then times `runs` no-change plans
/// after one warm-up. The request counts are those of the last plan
/// (every plan sends the same requests; the run asserts it).
async fn measure(
    cloud: &Arc<AwsCloud>,
    m: &Manifest,
    sources: &ImageSources,
    runs: usize,
) -> Figures {
    apply_all(cloud, m, sources).await;
    let plan_once = || async {
        cloud.requests().reset();
        let t = Instant::now();
        let p = plan_workflow_with(cloud.clone(), m, Some(LAYER.to_vec()), false, None, sources)
            .await
            .expect("plan");
        let took = t.elapsed().as_secs_f64();
        assert!(
            !p.plan.has_changes(),
            "workflow {} did not converge",
            m.workflow
        );
        (took, cloud.requests().snapshot())
    };
    plan_once().await;
    let mut times = Vec::new();
    let mut counts: Vec<BTreeMap<String, u64>> = Vec::new();
    for _ in 0..runs {
        let (t, c) = plan_once().await;
        times.push(t);
        counts.push(c);
    }
    let by_operation = counts.pop().unwrap_or_default();
    assert!(
        counts.iter().all(|c| *c == by_operation),
        "workflow {}: the plans sent different requests",
        m.workflow
    );
    Figures {
        functions: m.functions.len(),
        wall: median(times),
        requests: by_operation.values().sum(),
        by_operation,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(5);

    // The registry standing in for the account's ECR, with the image.
    let registry = testkit::registry::Registry::start();
    let base = testkit::image::Image {
        layers: vec![testkit::image::random_layer(1, "batch-data", 4096)],
        run: serde_json::json!({"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]}),
        arch: "amd64".into(),
    };
    testkit::image::push(&registry.host(), IMAGE, "latest", &base);
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let conf: PathBuf = scratch.path().join("registries.conf");
    std::fs::write(
        &conf,
        format!(
            "[[registry]]\nprefix = \"{ECR}\"\nlocation = \"{}\"\ninsecure = true\n",
            registry.host()
        ),
    )
    .expect("write registries.conf");
    let sources = ImageSources {
        registries_conf: Some(conf),
        ..Default::default()
    };

    let lambda_only = {
        let (_moto, cloud) = emulator().await;
        let m = support::manifest("lambda", LAMBDA_ONLY);
        measure(&cloud, &m, &sources, runs).await
    };
    let with_batch = {
        let (moto, cloud) = emulator().await;
        let (subnets, groups) = moto.default_network();
        let m = mixed("mixed", Some((&subnets, &groups)));
        measure(&cloud, &m, &sources, runs).await
    };
    let twin = {
        let (_moto, cloud) = emulator().await;
        measure(&cloud, &mixed("twin", None), &sources, runs).await
    };

    println!("no-change plan against moto (median wall time of {runs} plans after a warm-up)");
    println!(
        "{:<28} | {:>9} | {:>8} | {:>13} | {:>20}",
        "workflow", "functions", "wall (s)", "AWS requests", "requests / function"
    );
    println!(
        "{:-<28}-+-{:-<9}-+-{:-<8}-+-{:-<13}-+-{:-<20}",
        "", "", "", "", ""
    );
    for (what, f) in [
        ("Lambda only", &lambda_only),
        ("50 Lambda + 50 Batch", &with_batch),
        ("50 Lambda + 50 Lambda image", &twin),
    ] {
        println!(
            "{what:<28} | {:>9} | {:>8.3} | {:>13} | {:>20.2}",
            f.functions,
            f.wall,
            f.requests,
            f.requests as f64 / f.functions as f64
        );
    }

    // Per operation, where the mixed workflow and its twin differ.
    println!();
    println!("requests per operation where `50 Lambda + 50 Batch` and its Lambda twin differ:");
    let mut ops: Vec<&String> = with_batch
        .by_operation
        .keys()
        .chain(twin.by_operation.keys())
        .collect();
    ops.sort();
    ops.dedup();
    for op in ops {
        let (b, l) = (
            with_batch.by_operation.get(op).copied().unwrap_or(0),
            twin.by_operation.get(op).copied().unwrap_or(0),
        );
        if b != l {
            println!("  {op:<30} {b:>5} vs {l:>5}");
        }
    }

    let added = with_batch.requests as f64 - twin.requests as f64;
    let by_difference = added / HALF as f64;
    let batch_ops: u64 = BATCH_OPERATIONS
        .iter()
        .map(|op| with_batch.by_operation.get(*op).copied().unwrap_or(0))
        .sum();
    let by_operations = batch_ops as f64 / HALF as f64;
    let verdict = |v: f64| if v <= GOAL { "PASS" } else { "FAIL" };
    println!();
    println!(
        "Batch requests per Batch function, (mixed - twin) / {HALF}: {by_difference:.2} (goal <= {GOAL}): {}",
        verdict(by_difference)
    );
    println!(
        "Batch requests per Batch function, Batch operations ({}) / {HALF}: {by_operations:.2} (goal <= {GOAL}): {}",
        BATCH_OPERATIONS.join(", "),
        verdict(by_operations)
    );
}
