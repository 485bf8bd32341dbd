//! The everyday commands, which drive and watch a deployed workflow:
//! `invoke` and `run` ([`invoke`]), `ls` ([`ls`]), `logs` ([`logs`]),
//! `put` and `get` ([`transfer`]). Each finds its function in the
//! manifests (`-f`, or `scar.yaml` here) or, with no manifest, in the
//! account by name alone ([`FunctionTarget`]); stdout carries the result,
//! progress and notes go to stderr.

pub mod invoke;
pub mod logs;
pub mod ls;
pub mod s3_event;
pub mod transfer;

use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::ManifestArgs;
use crate::cloud::FunctionState;
use crate::manifest::checks::split_path;
use crate::manifest::{FunctionDef, Manifest};
use crate::settings::Settings;

/// A bucket and a folder in it (no slashes at either end; empty for the
/// whole bucket).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
}

impl S3Location {
    /// `bucket[/folder...]`, as manifests write paths.
    pub fn from_path(path: &str) -> S3Location {
        let (bucket, prefix) = split_path(path);
        S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        }
    }

    /// `s3://bucket[/folder...]`: `None` if `text` is no `s3://` URI, an
    /// error if it is one without a bucket.
    pub fn parse_uri(text: &str) -> Option<anyhow::Result<S3Location>> {
        let rest = text.strip_prefix("s3://")?;
        let loc = S3Location::from_path(rest);
        if loc.bucket.is_empty() {
            return Some(Err(anyhow::anyhow!(
                "`{text}` names no bucket\nhint: write it as s3://BUCKET or s3://BUCKET/FOLDER"
            )));
        }
        Some(Ok(loc))
    }

    /// The key of `rel` (a `/`-separated relative path) in the folder.
    pub fn key(&self, rel: &str) -> String {
        if self.prefix.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.prefix)
        }
    }

    /// What to list to find the folder's objects: `folder/` (not the
    /// objects of `folder2`).
    pub fn list_prefix(&self) -> String {
        if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        }
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// A function as an everyday command needs it: from the manifests when
/// there are any (its input, outputs and endpoint), else its name alone.
#[derive(Clone, Debug)]
pub struct FunctionTarget {
    pub name: String,
    /// Its definition, when manifests were read.
    pub def: Option<FunctionDef>,
    /// Its workflow, when manifests were read.
    pub workflow: Option<String>,
    /// The manifest files read, for messages.
    pub files: Vec<PathBuf>,
}

impl FunctionTarget {
    /// Its first input on the default S3 provider (the one with a trigger).
    pub fn input(&self) -> Option<S3Location> {
        let def = self.def.as_ref()?;
        def.spec
            .lambda
            .input
            .iter()
            .find(|i| i.storage_provider == "s3")
            .map(|i| S3Location::from_path(&i.path))
    }

    /// Its outputs on the default S3 provider.
    pub fn outputs(&self) -> Vec<S3Location> {
        self.def
            .iter()
            .flat_map(|d| d.spec.lambda.output.iter())
            .filter(|o| o.storage_provider == "s3")
            .map(|o| S3Location::from_path(&o.path))
            .collect()
    }

    /// The stage of its API Gateway endpoint, when the manifests give it one.
    pub fn api_stage(&self) -> Option<&str> {
        let api = self.def.as_ref()?.spec.api_gateway.as_ref()?;
        api.name.as_ref()?;
        Some(&api.stage_name)
    }

    /// Its log group.
    pub fn log_group(&self) -> String {
        format!("/aws/lambda/{}", self.name)
    }

    /// Where it was looked for, for messages: the manifest files, or "the
    /// account".
    pub fn origin(&self) -> String {
        if self.files.is_empty() {
            "the account".to_string()
        } else {
            files_text(&self.files)
        }
    }
}

fn files_text(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| format!("`{}`", f.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The manifest paths to read: those given, else `scar.yaml` here if
/// there is one; `None` when there are none (a function by name alone).
pub fn optional_manifests(args: &ManifestArgs) -> Option<Vec<PathBuf>> {
    crate::commands::given_or_default(&args.files)
}

/// Loads the manifests, if any (errors printed as `validate` prints them).
pub fn load(args: &ManifestArgs) -> anyhow::Result<Option<(Manifest, Vec<PathBuf>)>> {
    let Some(paths) = optional_manifests(args) else {
        return Ok(None);
    };
    let (m, _warnings) = crate::pipeline::load_manifest(&paths, args, false)?;
    Ok(Some((m, paths)))
}

/// The function `name`: from the manifests when there are any (an error
/// if they do not declare it, listing those they do), else by name alone.
pub fn target(args: &ManifestArgs, name: &str) -> anyhow::Result<FunctionTarget> {
    let Some((m, files)) = load(args)? else {
        return Ok(FunctionTarget {
            name: name.to_string(),
            def: None,
            workflow: None,
            files: Vec::new(),
        });
    };
    match m.functions.iter().find(|f| f.name() == name) {
        Some(def) => Ok(FunctionTarget {
            name: name.to_string(),
            def: Some(def.clone()),
            workflow: Some(m.workflow.clone()),
            files,
        }),
        None => {
            let names: Vec<&str> = m.functions.iter().map(|f| f.name()).collect();
            let hint = match crate::manifest::suggest::did_you_mean(name, &names) {
                Some(s) => format!("did you mean `{s}`?"),
                None if names.is_empty() => "they declare no function".to_string(),
                None => format!("they declare {}", names.join(", ")),
            };
            anyhow::bail!(
                "no function `{name}` in {}\nhint: {hint}",
                files_text(&files)
            )
        }
    }
}

/// The deployed function (GetFunction): an error saying so when it does
/// not exist. (An emulator may answer an Invoke of a missing function as
/// if it ran, so this is asked first.)
pub async fn deployed<C: crate::cloud::Cloud>(
    cloud: &C,
    target: &FunctionTarget,
) -> anyhow::Result<FunctionState> {
    match cloud.get_function(&target.name).await? {
        Some(f) => Ok(f),
        None => {
            let hint = if target.def.is_some() {
                format!(
                    "it is declared in {}: deploy it with `scar apply`",
                    target.origin()
                )
            } else {
                "check the name (`scar ls --all` lists scar's functions) and the region (--region)"
                    .to_string()
            };
            anyhow::bail!(
                "function `{}` does not exist in {} (account {})\nhint: {hint}",
                target.name,
                cloud.region(),
                cloud.account_id()
            )
        }
    }
}

/// A progress meter on stderr: a bar on a terminal
/// ([`Settings::progress_bar`]), nothing elsewhere.
pub struct Meter {
    bar: Option<ProgressBar>,
}

impl Meter {
    /// A bar of `total` bytes (`bytes`) or items, with `what` as its message.
    pub fn new(settings: &Settings, total: u64, bytes: bool, what: &str) -> Meter {
        let bar = settings.progress_bar.then(|| {
            let template = if bytes {
                "{spinner} [{elapsed_precise}] [{bar:20}] {bytes}/{total_bytes} {binary_bytes_per_sec} {wide_msg}"
            } else {
                "{spinner} [{elapsed_precise}] [{bar:20}] {pos}/{len} {per_sec} {wide_msg}"
            };
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(what.to_string());
            bar.enable_steady_tick(Duration::from_millis(100));
            crate::terminal::show_bar(&bar);
            bar
        });
        Meter { bar }
    }

    pub fn add(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    pub fn message(&self, text: String) {
        if let Some(b) = &self.bar {
            b.set_message(text);
        }
    }

    /// Prints a line above the bar (or plainly, with no bar).
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
            crate::terminal::hide_bar();
        }
    }
}
