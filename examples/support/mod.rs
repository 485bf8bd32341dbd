//! What the reconciler benchmarks share: a moto server with a client, the
//! benchmark workflow (each function with an S3 trigger on its own folder
//! of one shared bucket, a log group and its permission: the common shape
//! of a SCAR workflow), and an apply of it.

use std::sync::Arc;

use aws_sdk_s3::config::Credentials;
use scar::apply::{self, Event};
use scar::cloud::aws::AwsCloud;
use scar::manifest::Manifest;
use scar::pipeline::plan_workflow_in;

/// The stand-in supervisor layer: moto never runs code.
pub const LAYER: &[u8] = b"stand-in layer: moto never runs code";

/// A moto server on a free loopback port, and a client of it.
pub async fn emulator() -> (testkit::Moto, Arc<AwsCloud>) {
    let moto = testkit::Moto::start();
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto.endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "bench"))
        .load()
        .await;
    let cloud = Arc::new(AwsCloud::new(&conf).await.expect("connect to the emulator"));
    (moto, cloud)
}

/// The manifest of workflow `<prefix><n>` with `n` functions.
pub fn manifest(prefix: &str, n: usize) -> Manifest {
    let mut y = format!("workflow: {prefix}{n}\nfunctions:\n  aws:\n");
    for i in 0..n {
        y += &format!(
            "  - lambda:\n      name: {prefix}{n}-fn{i:04}\n      memory: 256\n      input:\n      - storage_provider: s3\n        path: scar-{prefix}-{n}/in{i:04}\n      output:\n      - storage_provider: s3\n        path: scar-{prefix}-{n}-out/fn{i:04}\n"
        );
    }
    scar::manifest::load_texts(&[("bench.yaml", &y)])
        .manifest
        .expect("a valid manifest")
}

/// Plans and applies `m` from nothing; panics unless every change is done.
pub async fn apply_all(cloud: &Arc<AwsCloud>, m: &Manifest) {
    let first = plan_workflow_in(cloud.clone(), m, Some(LAYER.to_vec()), false, None)
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
    assert!(
        results.iter().all(|r| r.2 == apply::Outcome::Done),
        "apply failed"
    );
}
