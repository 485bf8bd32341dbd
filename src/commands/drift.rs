//! `scar drift`: read-only, for scheduled jobs. Reads the account as
//! `plan` does and reports drift, pending changes and unmanaged resources
//! ([`crate::drift`]); exits 0 in sync, 2 when anything differs, 1 on
//! errors.

use std::sync::Arc;

use super::{connect, ExitStatus};
use crate::cli::{DriftArgs, PlanFormat};
use crate::pipeline;
use crate::render;
use crate::settings::Settings;

pub async fn run(settings: &Settings, args: &DriftArgs) -> anyhow::Result<ExitStatus> {
    let paths = super::manifest_paths(&args.manifests.files)?;
    let (m, _warnings) = pipeline::load_manifest(&paths, &args.manifests, args.strict)?;
    let layer_zip = pipeline::read_layer(args.layer.supervisor_layer.as_deref(), settings)?;
    let settings = &settings.with_supervisor(args.layer.supervisor.as_deref());
    let cloud = Arc::new(connect(settings).await?);
    let planned =
        pipeline::plan_workflow(cloud.clone(), &m, Some(layer_zip), false, settings).await?;
    let mut report = crate::drift::drift(&planned.desired, &planned.observed);
    if args.all {
        report.add_strays(crate::resources::strays(&*cloud).await?, &planned.desired);
    }
    let requests = crate::cloud::Cloud::requests(&*cloud).total();
    match args.output {
        PlanFormat::Text => print!("{}", render::drift::text(&report, requests)),
        PlanFormat::Json => println!("{}", render::drift::json(&report, requests)),
        PlanFormat::Markdown => print!("{}", render::drift::markdown(&report, requests)),
    }
    tracing::info!(requests, "observed the account");
    Ok(if report.is_in_sync() {
        ExitStatus::Success
    } else {
        ExitStatus::Changes
    })
}
