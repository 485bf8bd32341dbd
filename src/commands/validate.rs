//! `scar validate`: loads the manifests, reports every problem at once,
//! and with `--online` checks the account read-only.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;

use super::ExitStatus;
use crate::cli::{OutputFormat, ValidateArgs};
use crate::cloud::aws::{sdk_config, AwsPreflight};
use crate::cloud::{BucketStatus, Preflight, RoleStatus};
use crate::manifest::checks::{split_path, split_provider};
use crate::manifest::diag::{self, DiagnosticJson};
use crate::manifest::yaml::path_string;
use crate::manifest::{self, Diagnostic, Loaded, Locator, Manifest, Severity};
use crate::p;

/// Version of the `--output json` document.
pub const VALIDATE_JSON_VERSION: u32 = 1;

pub async fn run(
    settings: &crate::settings::Settings,
    args: &ValidateArgs,
) -> anyhow::Result<ExitStatus> {
    let paths = super::manifest_paths(&args.manifests.files)?;
    let mut loaded = manifest::load_with(&paths, &crate::pipeline::load_options(&args.manifests));
    if args.online {
        if let Some(m) = loaded.manifest.clone() {
            let conf = sdk_config(&settings.connection).await;
            let preflight = Arc::new(AwsPreflight::new(&conf));
            let found = online_checks(&m, &Locator::new(&loaded.roots), preflight).await;
            loaded.diagnostics.extend(found);
            diag::sort(&mut loaded.diagnostics);
        }
    }
    if args.strict {
        loaded.make_strict();
    }
    match args.output {
        OutputFormat::Text => print!("{}", render_text(&loaded)),
        OutputFormat::Json => println!("{}", render_json(&loaded)),
    }
    Ok(if loaded.error_count() > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// The text report: each diagnostic, then a summary line.
pub fn render_text(loaded: &Loaded) -> String {
    let mut out = diag::render_text(&loaded.sources, &loaded.diagnostics);
    let files = loaded.sources.files().len();
    let (errors, warnings) = (loaded.error_count(), loaded.warning_count());
    let counts = format!(
        "{errors} error{}, {warnings} warning{}",
        plural(errors),
        plural(warnings)
    );
    match (&loaded.manifest, errors) {
        (Some(m), 0) => out.push_str(&format!(
            "valid: workflow `{}`, {} function{} in {files} file{} ({counts})\n",
            m.workflow,
            m.functions.len(),
            plural(m.functions.len()),
            plural(files)
        )),
        _ => out.push_str(&format!(
            "invalid: {counts} in {files} file{}\n",
            plural(files)
        )),
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[derive(Serialize)]
struct ValidateJson<'a> {
    format_version: u32,
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    workflow: Option<&'a str>,
    files: Vec<&'a str>,
    functions: Vec<FunctionJson<'a>>,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<DiagnosticJson>,
}

#[derive(Serialize)]
struct FunctionJson<'a> {
    name: &'a str,
    file: &'a str,
}

/// The JSON report (`--output json`), secrets masked.
pub fn render_json(loaded: &Loaded) -> String {
    let files: Vec<&str> = loaded
        .sources
        .files()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    let functions = loaded
        .manifest
        .as_ref()
        .map(|m| {
            m.functions
                .iter()
                .map(|f| FunctionJson {
                    name: f.name(),
                    file: files.get(f.file).copied().unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let doc = ValidateJson {
        format_version: VALIDATE_JSON_VERSION,
        valid: loaded.error_count() == 0,
        workflow: loaded.manifest.as_ref().map(|m| m.workflow.as_str()),
        files: files.clone(),
        functions,
        errors: loaded.error_count(),
        warnings: loaded.warning_count(),
        diagnostics: loaded
            .diagnostics
            .iter()
            .map(|d| diag::to_json(&loaded.sources, d))
            .collect(),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// Where a bucket or role is named in the manifests.
struct Use {
    file: usize,
    span: Range<usize>,
    path: String,
}

/// Read-only checks against the account: every `iam.role` exists, every
/// bucket (s3 inputs and outputs with the function's own credentials, and
/// deployment buckets) is absent or reachable. Each name is checked once,
/// with at most 8 calls in flight.
pub async fn online_checks<P: Preflight + Send + Sync + 'static>(
    m: &Manifest,
    at: &Locator<'_>,
    preflight: Arc<P>,
) -> Vec<Diagnostic> {
    let mut roles: BTreeMap<String, Vec<Use>> = BTreeMap::new();
    let mut buckets: BTreeMap<String, Vec<Use>> = BTreeMap::new();
    for f in &m.functions {
        let l = &f.spec.lambda;
        if let Some(role) = &f.spec.iam.role {
            let path = [f.path(), p!["iam", "role"]].concat();
            roles.entry(role.clone()).or_default().push(Use {
                file: f.file,
                span: at.span(f.file, &path),
                path: path_string(&path),
            });
        }
        for (list, i, provider, path) in l.storage_entries() {
            if split_provider(provider) != ("s3", "default") {
                continue;
            }
            let (bucket, _) = split_path(path);
            let p = [f.path(), p!["lambda", list, i, "path"]].concat();
            buckets.entry(bucket.to_string()).or_default().push(Use {
                file: f.file,
                span: at.span(f.file, &p),
                path: path_string(&p),
            });
        }
        if let Some(bucket) = &l.deployment.bucket {
            let p = [f.path(), p!["lambda", "deployment", "bucket"]].concat();
            buckets.entry(bucket.clone()).or_default().push(Use {
                file: f.file,
                span: at.span(f.file, &p),
                path: path_string(&p),
            });
        }
    }

    enum Subject {
        Role(String),
        Bucket(String),
    }
    enum Found {
        Role(Result<RoleStatus, crate::cloud::CloudError>),
        Bucket(Result<BucketStatus, crate::cloud::CloudError>),
    }
    let limit = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = tokio::task::JoinSet::new();
    let subjects: Vec<Subject> = roles
        .keys()
        .map(|r| Subject::Role(r.clone()))
        .chain(buckets.keys().map(|b| Subject::Bucket(b.clone())))
        .collect();
    for (n, subject) in subjects.into_iter().enumerate() {
        let preflight = preflight.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let found = match &subject {
                Subject::Role(r) => Found::Role(preflight.role_status(r).await),
                Subject::Bucket(b) => Found::Bucket(preflight.bucket_status(b).await),
            };
            (n, subject, found)
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(r) = joined {
            results.push(r);
        }
    }
    results.sort_by_key(|(n, ..)| *n);

    let mut out = Vec::new();
    for (_, subject, found) in results {
        match (subject, found) {
            (Subject::Role(role), Found::Role(status)) => {
                let uses = &roles[&role];
                let d = match status {
                    Ok(RoleStatus::Exists) => continue,
                    Ok(RoleStatus::Absent) => Diagnostic::error(
                        "role-not-found",
                        format!("IAM role `{role}` does not exist in this account"),
                    )
                    .hint("create the role first, or remove `iam.role` to let scar create a least-privilege role"),
                    Ok(RoleStatus::ArnMismatch { actual }) => Diagnostic::error(
                        "role-arn-mismatch",
                        format!("no role `{role}` here; a role with that name is `{actual}`"),
                    )
                    .hint(format!("use `role: {actual}`, or check the account id and path")),
                    Err(e) => cloud_error(&e),
                };
                out.push(at_uses(d, uses));
            }
            (Subject::Bucket(bucket), Found::Bucket(status)) => {
                let uses = &buckets[&bucket];
                let d = match status {
                    Ok(BucketStatus::Absent) | Ok(BucketStatus::Reachable) => continue,
                    Ok(BucketStatus::Forbidden) => Diagnostic::error(
                        "bucket-forbidden",
                        format!("bucket `{bucket}` exists but these credentials cannot reach it"),
                    )
                    .with_note("bucket names are global: it probably belongs to another account")
                    .hint("choose another bucket name, or use credentials that can reach it"),
                    Err(e) => cloud_error(&e),
                };
                out.push(at_uses(d, uses));
            }
            _ => {}
        }
    }
    out
}

fn at_uses(mut d: Diagnostic, uses: &[Use]) -> Diagnostic {
    if let Some(first) = uses.first() {
        d = d
            .at(first.file, first.span.clone())
            .path(first.path.clone());
        for u in &uses[1..] {
            d = d.also_at(u.file, u.span.clone(), "also used here");
        }
    }
    d
}

fn cloud_error(e: &crate::cloud::CloudError) -> Diagnostic {
    let mut chain = Vec::new();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        chain.push(s.to_string());
        src = s.source();
    }
    let mut d = Diagnostic::error("aws-call-failed", format!("{e}"));
    if !chain.is_empty() {
        d = d.with_note(format!("caused by: {}", chain.join(": ")));
    }
    d.hint("check the credentials, region and endpoint (`--profile`, `--region`, AWS_ENDPOINT_URL)")
}

/// Counts diagnostics of one severity (used by tests and the JSON report).
pub fn count(diags: &[Diagnostic], s: Severity) -> usize {
    diags.iter().filter(|d| d.severity == s).count()
}
