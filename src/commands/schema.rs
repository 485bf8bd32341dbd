//! `scar schema`: prints the manifest's JSON Schema, or the manifest
//! reference generated from it.

use super::ExitStatus;
use crate::cli::{SchemaArgs, SchemaFormat};
use crate::manifest::reference::manifest_reference;
use crate::manifest::schema::manifest_schema_text;

pub fn run(args: &SchemaArgs) -> anyhow::Result<ExitStatus> {
    match args.format {
        SchemaFormat::Json => print!("{}", manifest_schema_text()),
        SchemaFormat::Markdown => print!("{}", manifest_reference()),
        SchemaFormat::Plan => print!("{}", crate::render::json::plan_schema_text()),
        SchemaFormat::Drift => print!("{}", crate::render::json::drift_schema_text()),
    }
    Ok(ExitStatus::Success)
}
