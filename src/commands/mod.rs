//! One module per subcommand; each returns the process exit status.

pub mod apply;
pub mod pipeline;
pub mod plan;
pub mod schema;
pub mod validate;

use std::path::PathBuf;

/// Exit statuses (ARCHITECTURE.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success (and, where it applies, no changes).
    Success,
    /// 1: an error.
    Failure,
    /// 2: changes present (`plan --detailed-exitcode`, `drift`).
    Changes,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        match s {
            ExitStatus::Success => 0.into(),
            ExitStatus::Failure => 1.into(),
            ExitStatus::Changes => 2.into(),
        }
    }
}

/// The manifest paths to read: those given, else `scar.yaml` here.
pub fn manifest_paths(given: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    let default = PathBuf::from("scar.yaml");
    if default.is_file() {
        return Ok(vec![default]);
    }
    anyhow::bail!(
        "no manifest given and no `scar.yaml` in the current folder\nhint: pass a manifest with `-f FILE` (or a folder of manifests with `-f DIR`)"
    )
}

/// Connects to AWS through the standard configuration chain.
pub async fn connect(
    global: &crate::cli::GlobalArgs,
) -> anyhow::Result<crate::cloud::aws::AwsCloud> {
    let conn = crate::cloud::aws::Connection {
        profile: global.profile.clone(),
        region: global.region.clone(),
    };
    let conf = crate::cloud::aws::sdk_config(&conn).await;
    Ok(crate::cloud::aws::AwsCloud::new(&conf).await?)
}
