//! One module per subcommand; each returns the process exit status.

pub mod apply;
pub mod drift;
pub mod everyday;
pub mod import;
pub mod local;
pub mod plan;
pub mod schema;
pub mod validate;

use std::path::PathBuf;

use crate::settings::Settings;

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

/// Runs `work` unless Ctrl-C (SIGINT) or SIGTERM (a CI run cancelled)
/// comes first: then `work` is cancelled where it is, as a killed run
/// would be (every step is idempotent, and the next apply converges), but
/// the caller still releases its lock.
pub async fn until_interrupted<F>(work: F) -> anyhow::Result<ExitStatus>
where
    F: std::future::Future<Output = anyhow::Result<ExitStatus>>,
{
    let interrupted = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    };
    tokio::select! {
        r = work => r,
        () = interrupted => Err(anyhow::anyhow!(
            "interrupted: the changes under way were cancelled, and some of them may have been made\nhint: run `scar plan` to see where the account stands; `scar apply` again converges"
        )),
    }
}

/// The manifest paths given, else `scar.yaml` here if there is one.
pub fn given_or_default(given: &[PathBuf]) -> Option<Vec<PathBuf>> {
    if !given.is_empty() {
        return Some(given.to_vec());
    }
    let default = PathBuf::from("scar.yaml");
    default.is_file().then(|| vec![default])
}

/// The manifest paths to read: those given, else `scar.yaml` here.
pub fn manifest_paths(given: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    if let Some(paths) = given_or_default(given) {
        return Ok(paths);
    }
    anyhow::bail!(
        "no manifest given and no `scar.yaml` in the current folder\nhint: pass a manifest with `-f FILE` (or a folder of manifests with `-f DIR`)"
    )
}

/// Where AWS settings come from, for the hint of a failed connection.
const AWS_SETTINGS_HINT: &str = "set AWS_PROFILE (or --profile) to a profile of ~/.aws/config, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and AWS_REGION (or --region); for the local emulator: eval \"$(scripts/emulator.sh start)\"";

/// Connects to AWS through the standard configuration chain. A missing
/// region or credentials is one error with a hint saying where they come
/// from, before any request.
pub async fn connect(settings: &Settings) -> anyhow::Result<crate::cloud::aws::AwsCloud> {
    use aws_sdk_sts::config::ProvideCredentials;
    let conf = crate::cloud::aws::sdk_config(&settings.connection).await;
    if conf.region().is_none() {
        anyhow::bail!("no AWS region is configured\nhint: {AWS_SETTINGS_HINT}");
    }
    match crate::cloud::aws::AwsCloud::new(&conf).await {
        Ok(cloud) => Ok(cloud),
        Err(e)
            if e.kind == crate::cloud::ErrorKind::Other
                && !e.source.is::<crate::cloud::aws::NoAnswer>() =>
        {
            // Failed before any request was answered, and not because the
            // endpoint is silent or unreachable (named as such): see
            // whether the credentials are what is missing
            // (asked only now, so a working chain is resolved only once).
            let found = match conf.credentials_provider() {
                None => false,
                Some(p) => p.provide_credentials().await.is_ok(),
            };
            if found {
                return Err(e.into());
            }
            let profile = match &settings.connection.profile {
                Some(p) => format!(" (profile `{p}`)"),
                None => String::new(),
            };
            anyhow::bail!(
                "no AWS credentials were found{profile}: the environment, the profile files, web identity, the container and the EC2 instance metadata had none (-v shows each)\nhint: {AWS_SETTINGS_HINT}"
            )
        }
        Err(e) => Err(e.into()),
    }
}
