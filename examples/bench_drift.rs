//! Benchmark: `scar drift` against `scar plan` of the same in-sync
//! workflow, side by side in one run, against the AWS emulator (moto,
//! started here on a free loopback port): wall time and AWS requests per
//! function of each, and their ratios (issue 11's goal: drift costs at
//! most 10% more requests than a no-change plan, and stays under 5 s at
//! 500 functions).
//!
//!   cargo run --release --example bench_drift            # 500 functions
//!   cargo run --release --example bench_drift -- 100     # another size
//!
//! Each function has an S3 trigger on its own folder of one shared bucket,
//! a log group and its permission, as in `bench_plan`. Drift is what
//! `scar drift` runs: the plan's reading of the account, then the pure
//! comparison with the applied records. Plan and drift alternate, 5 runs
//! each after one warm-up of each; medians.

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use scar::pipeline::plan_workflow_in;
use support::{apply_all, emulator, manifest, LAYER};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let (_moto, cloud) = emulator().await;
    let m = manifest("drift", n);
    let layer = LAYER.to_vec();
    apply_all(&cloud, &m).await;
    let plan_once = || async {
        let before = cloud.requests().total();
        let t = Instant::now();
        let p = plan_workflow_in(cloud.clone(), &m, Some(layer.clone()), false, None)
            .await
            .expect("plan");
        let took = t.elapsed().as_secs_f64();
        assert!(!p.plan.has_changes(), "the workflow did not converge");
        (took, cloud.requests().total() - before)
    };
    let drift_once = || async {
        let before = cloud.requests().total();
        let t = Instant::now();
        let p = plan_workflow_in(cloud.clone(), &m, Some(layer.clone()), false, None)
            .await
            .expect("plan");
        let report = scar::drift::drift(&p.desired, &p.observed);
        let took = t.elapsed().as_secs_f64();
        assert!(report.is_in_sync(), "drift found differences: {report:?}");
        (took, cloud.requests().total() - before)
    };
    plan_once().await;
    drift_once().await;
    let (mut plan_t, mut drift_t) = (Vec::new(), Vec::new());
    let (mut plan_r, mut drift_r) = (0, 0);
    for _ in 0..5 {
        let (t, r) = plan_once().await;
        plan_t.push(t);
        plan_r = r;
        let (t, r) = drift_once().await;
        drift_t.push(t);
        drift_r = r;
    }
    let (pt, dt) = (median(plan_t), median(drift_t));
    println!("drift vs plan of an in-sync workflow of {n} functions against moto (median of 5, alternating)");
    println!(
        "{:>7} | {:>9} | {:>13} | {:>20}",
        "", "wall (s)", "AWS requests", "requests / function"
    );
    println!("{:-<7}-+-{:-<9}-+-{:-<13}-+-{:-<20}", "", "", "", "");
    for (what, t, r) in [("plan", pt, plan_r), ("drift", dt, drift_r)] {
        println!(
            "{what:>7} | {t:>9.3} | {r:>13} | {:>20.2}",
            r as f64 / n as f64
        );
    }
    println!(
        "drift/plan: wall {:.2}x, requests {:.2}x (goal: requests <= 1.10x, drift < 5 s)",
        dt / pt,
        drift_r as f64 / plan_r as f64
    );
}
