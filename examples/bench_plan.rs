//! Benchmark: `scar plan` of a workflow that needs no changes, with 10, 100
//! and 500 functions, against the AWS emulator (moto, started here on a free
//! loopback port). Prints wall time and AWS requests per function.
//!
//!   cargo run --release --example bench_plan            # sizes 10 100 500
//!   cargo run --release --example bench_plan -- 10 50   # other sizes
//!
//! Each function has an S3 trigger on its own folder of one shared bucket,
//! a log group and its permission: the common shape of a SCAR workflow.
//! The time is the median of 5 plans after one warm-up plan.

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use scar::pipeline::plan_workflow_in;
use support::{apply_all, emulator, manifest, LAYER};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10, 100, 500]
    } else {
        sizes
    };
    let (_moto, cloud) = emulator().await;
    println!("plan of a no-change workflow against moto (median of 5 plans)");
    println!(
        "{:>9} | {:>11} | {:>13} | {:>20}",
        "functions", "wall (s)", "AWS requests", "requests / function"
    );
    println!("{:-<9}-+-{:-<11}-+-{:-<13}-+-{:-<20}", "", "", "", "");
    for n in sizes {
        let m = manifest("bench", n);
        let layer = LAYER.to_vec();
        apply_all(&cloud, &m).await;
        // Warm-up, then timed plans.
        let warm = plan_workflow_in(cloud.clone(), &m, Some(layer.clone()), false, None)
            .await
            .expect("plan");
        assert!(!warm.plan.has_changes(), "the workflow did not converge");
        let mut times = Vec::new();
        let mut requests = 0;
        for _ in 0..5 {
            let before = cloud.requests().total();
            let t = Instant::now();
            let p = plan_workflow_in(cloud.clone(), &m, Some(layer.clone()), false, None)
                .await
                .expect("plan");
            times.push(t.elapsed().as_secs_f64());
            requests = cloud.requests().total() - before;
            assert!(!p.plan.has_changes());
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "{n:>9} | {median:>11.3} | {requests:>13} | {:>20.2}",
            requests as f64 / n as f64
        );
    }
}
