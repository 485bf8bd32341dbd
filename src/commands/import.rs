//! `scar import`: takes resources that exist in the account into the
//! workflow, in place: functions deployed by SCAR 4.x (tag `createdby:
//! scar`), and functions, buckets, log groups, roles and repositories made
//! by hand, wherever the manifests declare them. It shows first what it
//! would take over and what `plan` would then change, and changes nothing
//! without confirmation (or `--auto-approve`). Taking over is writing the
//! workflow's ownership tags and the applied record of what is there, so
//! that `scar plan` afterwards shows only the real differences, and `scar
//! drift` shows them as pending.

use std::sync::Arc;

use super::apply::{execute, give_back, take_lock};
use super::{connect, ExitStatus};
use crate::cli::ImportArgs;
use crate::pipeline;
use crate::render;
use crate::settings::Settings;

pub async fn run(settings: &Settings, args: &ImportArgs) -> anyhow::Result<ExitStatus> {
    let paths = super::manifest_paths(&args.manifests.files)?;
    let (m, warnings) = pipeline::load_manifest(&paths, &args.manifests, args.strict)?;
    let layer_zip = pipeline::read_layer(args.layer.supervisor_layer.as_deref(), settings)?;
    let settings = &settings.with_supervisor(args.layer.supervisor.as_deref());
    let cloud = Arc::new(connect(settings).await?);
    let held = take_lock(&*cloud, &m, &args.lock, settings, "import").await?;
    let result = super::until_interrupted(async {
        let mut planned =
            pipeline::plan_workflow(cloud.clone(), &m, Some(layer_zip), false, settings).await?;
        planned.plan.warnings.splice(0..0, warnings);
        let taken = crate::plan::import(&planned.desired, &planned.observed);
        if taken.plan.changes.is_empty() {
            println!(
                "Nothing to import: no resource the manifests of workflow `{}` declare exists in the account without a scar workflow.",
                m.workflow
            );
            return Ok(ExitStatus::Success);
        }
        println!(
            "Once imported, `scar plan` would show:\n\n{}\nscar import takes these resources into workflow `{}`, in place (only their tags change):\n",
            render::text::render(&taken.after),
            m.workflow
        );
        planned.plan = taken.plan;
        execute(cloud.clone(), planned, args.auto_approve, 10, "Import", settings).await
    })
    .await;
    give_back(&*cloud, &held).await;
    result
}
