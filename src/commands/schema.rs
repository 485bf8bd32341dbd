//! `scar schema`: prints the manifest's JSON Schema.

use super::ExitStatus;
use crate::manifest::schema::manifest_schema_text;

pub fn run() -> anyhow::Result<ExitStatus> {
    print!("{}", manifest_schema_text());
    Ok(ExitStatus::Success)
}
