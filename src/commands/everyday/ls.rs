//! `scar ls`: the workflow's functions — memory, timeout, what code they
//! run (the image's digest, or the supervisor layer's version), how they
//! run, their API URL — and whether each matches the manifests, as `scar
//! drift` would report it (drift: changed in the account since apply;
//! pending: the manifests changed). It reads the account as `plan` does.
//!
//! `--all` (or no manifest at all) lists every scar workflow of the
//! account and region from two listings (the tagging API and
//! ListFunctions), and one GetFunction per image function for its digest;
//! without manifests there is nothing to compare with.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::cli::{LsArgs, OutputFormat};
use crate::cloud::{Cloud, FunctionState, PackageType};
use crate::commands::{connect, ExitStatus};
use crate::drift::{Report, Status};
use crate::manifest::{FunctionDef, Manifest};
use crate::model::{Addr, Kind, ObservedState};
use crate::pipeline;
use crate::settings::Settings;

/// One function of the listing.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Row {
    pub workflow: String,
    pub name: String,
    pub memory: Option<u32>,
    pub timeout: Option<u32>,
    /// `zip` or `image`.
    pub package_type: Option<String>,
    /// An image function's image (`repository@sha256:…`).
    pub image: Option<String>,
    /// A zip function's supervisor layer (`name:version`).
    pub supervisor: Option<String>,
    pub execution_mode: Option<String>,
    pub api_url: Option<String>,
    /// `in sync`, `drift`, `pending`, `drift, pending`, `not deployed`;
    /// `None` without manifests.
    pub status: Option<String>,
    /// What differs, as `<address>: <attribute>, …` (drift and pending).
    pub changes: Vec<String>,
}

#[derive(Serialize)]
struct Listing<'a> {
    functions: &'a [Row],
    requests: u64,
}

pub async fn ls(settings: &Settings, args: &LsArgs) -> anyhow::Result<ExitStatus> {
    let manifests = if args.all {
        None
    } else {
        super::optional_manifests(&args.manifests)
    };
    let cloud = Arc::new(connect(settings).await?);
    let rows = match manifests {
        Some(paths) => {
            let (m, _w) = pipeline::load_manifest(&paths, &args.manifests, args.strict)?;
            let layer = pipeline::read_layer(args.layer.supervisor_layer.as_deref(), settings)?;
            let settings = &settings.with_supervisor(args.layer.supervisor.as_deref());
            let planned =
                pipeline::plan_workflow_of(cloud.clone(), &m, Some(layer), settings, &scope())
                    .await?;
            let report = crate::drift::drift(&planned.desired, &planned.observed);
            let urls: BTreeMap<String, String> = planned
                .plan
                .outputs
                .iter()
                .filter(|o| o.name == "invoke_url")
                .filter_map(|o| Some((o.address.clone(), o.value.clone()?)))
                .collect();
            m.functions
                .iter()
                .map(|f| workflow_row(&m, f, &planned.observed, &report, &urls))
                .collect()
        }
        None => account_rows(&*cloud).await?,
    };
    let requests = Cloud::requests(&*cloud).total();
    match args.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&Listing {
                functions: &rows,
                requests
            })?
        ),
        OutputFormat::Text => print!("{}", table(&rows)),
    }
    tracing::info!(requests, "listed the functions");
    Ok(ExitStatus::Success)
}

/// What `ls` reads: every kind but the buckets and their notification
/// configurations, which functions share and which cost requests per
/// bucket (`scar drift` reads them).
fn scope() -> std::collections::BTreeSet<Kind> {
    let shared = [Kind::S3Bucket, Kind::S3Notifications];
    Kind::ALL
        .iter()
        .copied()
        .filter(|k| !shared.contains(k))
        .collect()
}

/// Whether `addr` is one of function `f`'s resources (its function, log
/// group, image, permissions, Batch resources, API).
fn belongs(addr: &Addr, f: &FunctionDef) -> bool {
    let name = f.name();
    let api = f.spec.api_gateway.as_ref().and_then(|a| a.name.as_deref());
    addr.name == name
        || addr.name.starts_with(&format!("{name}/"))
        || addr.name == format!("/aws/lambda/{name}")
        || api.is_some_and(|a| {
            *addr == Addr::new(Kind::ApiGatewayRestApi, a)
                || *addr == Addr::new(Kind::ApiGatewayStage, a)
        })
}

fn workflow_row(
    m: &Manifest,
    f: &FunctionDef,
    observed: &ObservedState,
    report: &Report,
    urls: &BTreeMap<String, String>,
) -> Row {
    let fn_addr = Addr::new(Kind::LambdaFunction, f.name());
    let deployed = observed.resources.get(&fn_addr);
    let attr = |k: &str| deployed.and_then(|o| o.attrs.get(k));
    let number = |k: &str| {
        attr(k)
            .and_then(|v| v.as_u64())
            .and_then(|v| u32::try_from(v).ok())
    };
    let text = |k: &str| attr(k).and_then(|v| v.as_str()).map(str::to_string);
    let image = text("image_uri");
    let supervisor = attr("layers")
        .and_then(|v| v.as_array())
        .and_then(|layers| {
            layers
                .iter()
                .filter_map(|l| l.as_str())
                .find_map(layer_version)
        });
    let mut drift = false;
    let mut pending = false;
    let mut changes = Vec::new();
    for finding in report.findings.iter().filter(|x| belongs(&x.address, f)) {
        match finding.status {
            Status::Drift | Status::OriginUnknown => drift = true,
            Status::Pending => pending = true,
            _ => continue,
        }
        let attrs: Vec<&str> = finding.attributes.iter().map(|a| a.name.as_str()).collect();
        changes.push(if attrs.is_empty() {
            format!(
                "{}: {} ({})",
                finding.address,
                finding.status.label(),
                finding.reason
            )
        } else {
            format!(
                "{}: {} ({})",
                finding.address,
                finding.status.label(),
                attrs.join(", ")
            )
        });
    }
    let status = match (deployed.is_some(), drift, pending) {
        (false, _, _) => "not deployed",
        (true, false, false) => "in sync",
        (true, true, false) => "drift",
        (true, false, true) => "pending",
        (true, true, true) => "drift, pending",
    };
    let api = f.spec.api_gateway.as_ref().and_then(|a| a.name.as_deref());
    let api_url = api.and_then(|a| {
        urls.get(&Addr::new(Kind::ApiGatewayStage, a).to_string())
            .cloned()
    });
    Row {
        workflow: m.workflow.clone(),
        name: f.name().to_string(),
        memory: number("memory"),
        timeout: number("timeout"),
        package_type: deployed.map(|_| if image.is_some() { "image" } else { "zip" }.to_string()),
        image,
        supervisor,
        execution_mode: serde_json::to_value(f.spec.lambda.execution_mode)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string)),
        api_url,
        status: Some(status.to_string()),
        changes,
    }
}

/// A supervisor layer version ARN's `name:version`
/// (`arn:aws:lambda:…:layer:scar-supervisor-…:3`).
fn layer_version(arn: &str) -> Option<String> {
    let (_, rest) = arn.split_once(":layer:")?;
    rest.starts_with("scar").then(|| rest.to_string())
}

/// Every scar workflow's functions: the functions tagged `scar:workflow`
/// (tagging API), their configuration (ListFunctions), and for image
/// functions their digest (GetFunction each).
async fn account_rows<C: Cloud>(cloud: &C) -> anyhow::Result<Vec<Row>> {
    let (tagged, listed) = tokio::try_join!(
        cloud.resources_with_tag(crate::model::TAG_WORKFLOW, None, &["lambda"]),
        cloud.list_functions()
    )?;
    let by_arn: BTreeMap<&str, &FunctionState> =
        listed.iter().map(|f| (f.arn.as_str(), f)).collect();
    let mut rows = Vec::new();
    let mut images = Vec::new();
    for t in &tagged {
        let Some(f) = by_arn.get(t.arn.as_str()) else {
            continue;
        };
        let workflow = t.tags.get("scar:workflow").cloned().unwrap_or_default();
        let image = f.package_type == PackageType::Image;
        if image {
            images.push(f.name.clone());
        }
        rows.push(Row {
            workflow,
            name: f.name.clone(),
            memory: Some(f.memory),
            timeout: Some(f.timeout),
            package_type: Some(if image { "image" } else { "zip" }.to_string()),
            supervisor: f.layers.iter().find_map(|l| layer_version(l)),
            execution_mode: Some(
                if f.environment.contains_key(crate::resources::ENV_JOB_QUEUE) {
                    "lambda-batch"
                } else {
                    "lambda"
                }
                .to_string(),
            ),
            ..Row::default()
        });
    }
    let digests =
        futures_util::future::try_join_all(images.iter().map(|n| cloud.get_function(n))).await?;
    for f in digests.into_iter().flatten() {
        if let Some(row) = rows.iter_mut().find(|r| r.name == f.name) {
            row.image = f.resolved_image_uri.or(f.image_uri);
        }
    }
    rows.sort_by(|a, b| (&a.workflow, &a.name).cmp(&(&b.workflow, &b.name)));
    Ok(rows)
}

/// The listing as a table.
pub fn table(rows: &[Row]) -> String {
    if rows.is_empty() {
        return "No scar functions.\n".to_string();
    }
    let dash = || "-".to_string();
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            [
                r.workflow.clone(),
                r.name.clone(),
                r.memory.map(|m| m.to_string()).unwrap_or_else(dash),
                r.timeout.map(|t| t.to_string()).unwrap_or_else(dash),
                r.image
                    .as_deref()
                    .map(short_image)
                    .or_else(|| r.supervisor.clone())
                    .unwrap_or_else(dash),
                r.execution_mode.clone().unwrap_or_else(dash),
                r.api_url.clone().unwrap_or_else(dash),
                r.status.clone().unwrap_or_else(dash),
            ]
        })
        .collect();
    let head = [
        "WORKFLOW", "NAME", "MEMORY", "TIMEOUT", "CODE", "MODE", "API_URL", "STATUS",
    ];
    let mut widths: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for c in &cells {
        for (i, v) in c.iter().enumerate() {
            widths[i] = widths[i].max(v.chars().count());
        }
    }
    let line = |vals: Vec<&str>| {
        let mut s = String::new();
        for (i, v) in vals.iter().enumerate() {
            if i + 1 == vals.len() {
                s.push_str(v);
            } else {
                s.push_str(&format!("{v:<w$}  ", w = widths[i]));
            }
        }
        s.push('\n');
        s
    };
    let mut out = line(head.to_vec());
    for (c, r) in cells.iter().zip(rows) {
        out.push_str(&line(c.iter().map(String::as_str).collect()));
        for change in &r.changes {
            out.push_str(&format!("    {change}\n"));
        }
    }
    out
}

/// An image reference, shortened to its repository's last name and its
/// digest's first 12 hex digits (`app@sha256:0123456789ab`).
fn short_image(uri: &str) -> String {
    let (repo, at) = match uri.split_once('@') {
        Some((r, d)) => (r, format!("@{}", &d[..d.len().min(19)])),
        None => (uri, String::new()),
    };
    let last = repo.rsplit('/').next().unwrap_or(repo);
    format!("{last}{at}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_reads_shortly() {
        assert_eq!(
            short_image("1.dkr.ecr.r.amazonaws.com/wf/app@sha256:0123456789abcdef0123"),
            "app@sha256:0123456789ab"
        );
        assert_eq!(
            layer_version("arn:aws:lambda:us-east-1:1:layer:scar-supervisor-abc:3").as_deref(),
            Some("scar-supervisor-abc:3")
        );
        assert_eq!(
            layer_version("arn:aws:lambda:us-east-1:1:layer:other:3"),
            None
        );
    }
}
