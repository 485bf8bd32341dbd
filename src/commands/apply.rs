//! `scar apply` and `scar destroy`: show the plan, ask (on a terminal), run
//! it, report every change's outcome.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use super::{connect, pipeline, ExitStatus};
use crate::apply::{self, Event, Outcome};
use crate::cli::{ApplyArgs, DestroyArgs, GlobalArgs};
use crate::plan::Action;
use crate::render;

pub async fn run(global: &GlobalArgs, args: &ApplyArgs) -> anyhow::Result<ExitStatus> {
    let paths = super::manifest_paths(&args.manifests.files)?;
    let m = pipeline::load_manifest(&paths)?;
    let layer = pipeline::find_layer(args.layer.supervisor_layer.as_deref())?;
    let layer_zip = std::fs::read(&layer).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the supervisor layer `{}`: {e}",
            layer.display()
        )
    })?;
    let cloud = Arc::new(connect(global).await?);
    let planned = pipeline::plan_workflow(cloud.clone(), &m, Some(layer_zip), false).await?;
    let mut approved = args.auto_approve;
    if let Some(file) = &args.plan {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read the saved plan `{}`: {e}", file.display()))?;
        let saved: render::json::PlanDoc = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "`{}` is not a scar plan: {e}\nhint: save one with `scar plan --out FILE`",
                file.display()
            )
        })?;
        if let Some(why) = render::json::staleness(&saved, &planned.plan) {
            anyhow::bail!(
                "Saved plan is stale: {why}\nhint: the account or the manifests changed since `{}` was made; run `scar plan --out FILE` again and review it",
                file.display()
            );
        }
        // A reviewed saved plan counts as approval, as in terraform.
        approved = true;
    }
    execute(cloud, planned, approved, args.parallelism.into(), "Apply").await
}

pub async fn destroy(global: &GlobalArgs, args: &DestroyArgs) -> anyhow::Result<ExitStatus> {
    let paths = super::manifest_paths(&args.manifests.files)?;
    let m = pipeline::load_manifest(&paths)?;
    let cloud = Arc::new(connect(global).await?);
    let planned = pipeline::plan_workflow(cloud.clone(), &m, None, true).await?;
    execute(
        cloud,
        planned,
        args.auto_approve,
        args.parallelism.into(),
        "Destroy",
    )
    .await
}

async fn execute<C: crate::cloud::Cloud>(
    cloud: Arc<C>,
    planned: pipeline::Planned,
    auto_approve: bool,
    parallelism: usize,
    what: &str,
) -> anyhow::Result<ExitStatus> {
    let plan = &planned.plan;
    print!("{}", render::text::render(plan));
    if plan.is_blocked() {
        anyhow::bail!("some changes are blocked (see `is blocked` above): nothing was changed");
    }
    if !plan.has_changes() {
        return Ok(ExitStatus::Success);
    }
    if !auto_approve && !confirm()? {
        eprintln!("Apply cancelled.");
        return Ok(ExitStatus::Failure);
    }
    let on_event: Arc<dyn Fn(Event) + Send + Sync> = Arc::new(|e| match e {
        Event::Started(addr, action) => eprintln!("{addr}: {}...", verb(action)),
        Event::Finished(addr, action, Outcome::Done) => eprintln!("{addr}: {} done", verb(action)),
        Event::Finished(addr, _, Outcome::Failed(why)) => eprintln!("{addr}: FAILED: {why}"),
        Event::Finished(addr, _, Outcome::Skipped(why)) => eprintln!("{addr}: skipped ({why})"),
    });
    let results = apply::apply(
        cloud,
        plan,
        planned.artifacts.clone(),
        parallelism,
        on_event,
    )
    .await;
    let (mut added, mut changed, mut destroyed, mut failed, mut skipped) = (0, 0, 0, 0, 0);
    for (addr, action, outcome) in &results {
        match outcome {
            Outcome::Done => match action {
                Action::Create => added += 1,
                Action::Update => changed += 1,
                Action::Replace => {
                    added += 1;
                    destroyed += 1;
                }
                Action::Delete => destroyed += 1,
                _ => {}
            },
            Outcome::Failed(why) => {
                failed += 1;
                println!("error: {addr}: {why}");
            }
            Outcome::Skipped(why) => {
                skipped += 1;
                println!("skipped: {addr} ({why})");
            }
        }
    }
    if failed > 0 {
        println!(
            "{what} failed: {failed} failed, {skipped} skipped; {added} added, {changed} changed, {destroyed} destroyed.\nRun it again to converge once the cause is fixed."
        );
        return Ok(ExitStatus::Failure);
    }
    println!(
        "{what} complete! Resources: {added} added, {changed} changed, {destroyed} destroyed."
    );
    Ok(ExitStatus::Success)
}

fn verb(a: Action) -> &'static str {
    match a {
        Action::Create => "creating",
        Action::Update => "updating",
        Action::Replace => "replacing",
        Action::Delete => "destroying",
        _ => "checking",
    }
}

/// Asks on the terminal; refuses without one.
fn confirm() -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("refusing to change the account without confirmation\nhint: pass --auto-approve (pipelines), or run in a terminal to be asked");
    }
    eprint!("\nDo you want to perform these actions? Only 'yes' will be accepted: ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}
