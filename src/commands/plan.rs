//! `scar plan`: what apply would change, as text or JSON.

use std::sync::Arc;

use super::{connect, ExitStatus};
use crate::cli::{PlanArgs, PlanFormat};
use crate::pipeline;
use crate::render;
use crate::settings::Settings;

pub async fn run(settings: &Settings, args: &PlanArgs) -> anyhow::Result<ExitStatus> {
    let paths = super::manifest_paths(&args.manifests.files)?;
    let (m, warnings) = pipeline::load_manifest(&paths, &args.manifests, args.strict)?;
    let layer_zip = pipeline::read_layer(args.layer.supervisor_layer.as_deref(), settings)?;
    let settings = &settings.with_supervisor(args.layer.supervisor.as_deref());
    let cloud = Arc::new(connect(settings).await?);
    let mut planned = pipeline::plan_workflow(cloud, &m, Some(layer_zip), false, settings).await?;
    planned.plan.warnings.splice(0..0, warnings);
    pipeline::apply_targets(&mut planned.plan, &args.targets)?;
    planned.plan.inputs = Some(pipeline::inputs(
        &paths,
        &args.manifests,
        args.strict,
        &args.targets,
        &m,
    ));
    let plan = &planned.plan;
    let drift = crate::drift::drift(&planned.desired, &planned.observed);
    match args.output {
        PlanFormat::Text => print!(
            "{}{}",
            render::drift::outside_section(&drift),
            render::text::render(plan)
        ),
        PlanFormat::Json => println!("{}", render::json::render(plan)),
        PlanFormat::Markdown => print!(
            "{}{}",
            render::drift::outside_markdown(&drift),
            render::markdown::render(plan)
        ),
    }
    if let Some(out) = &args.out {
        std::fs::write(out, render::json::render(plan))
            .map_err(|e| anyhow::anyhow!("cannot write the plan to `{}`: {e}", out.display()))?;
    }
    tracing::info!(requests = planned.observed.requests, "observed the account");
    if plan.is_blocked() {
        anyhow::bail!(
            "some changes are blocked (see `is blocked` above): apply would refuse this plan"
        );
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
