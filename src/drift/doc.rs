//! The drift report as data: the versioned document of `scar drift -o
//! json` (its schema is `schemas/drift.schema.json`), with secrets masked
//! as in plans.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Change, Report, Status};
use crate::plan::doc::masked;
use crate::plan::AttrDiff;

/// Version of the JSON drift format: a minor bump adds fields, a major
/// bump breaks them.
pub const FORMAT_VERSION: &str = "1.0";

/// A drift report as data.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "scar drift")]
pub struct DriftDoc {
    pub format_version: String,
    pub workflow: String,
    /// True when the account, what scar applied and the manifests agree
    /// (the exit status is 0).
    pub in_sync: bool,
    pub summary: DriftSummary,
    /// Per resource: what changed outside scar (`drift`), what the
    /// manifests changed (`pending`), what carries the workflow's tags and
    /// no manifest declares (`unmanaged`), and differences whose origin is
    /// unknown (`origin_unknown`), and with `--all` what looks like SCAR's
    /// and belongs to no workflow (`unowned`). A resource may have several.
    pub findings: Vec<FindingDoc>,
    /// AWS requests the report took.
    pub aws_requests: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct DriftSummary {
    pub drift: usize,
    pub pending: usize,
    pub unmanaged: usize,
    pub origin_unknown: usize,
    /// What looks like SCAR's and belongs to no workflow (`--all`).
    #[serde(default)]
    pub unowned: usize,
    /// Resources compared and found in sync.
    pub in_sync: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct FindingDoc {
    /// `lambda_function.scar-uppercase`.
    pub address: String,
    /// The resource kind (`lambda_function`, `s3_bucket`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub status: Status,
    pub change: Change,
    /// Why, for people.
    pub reason: String,
    /// drift: before = applied, after = observed; pending: before =
    /// applied, after = wanted; origin_unknown: before = observed, after =
    /// wanted.
    pub attributes: Vec<DriftAttrDoc>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct DriftAttrDoc {
    pub name: String,
    /// Absent when only a hash of it was recorded (`before_known` false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    pub before_known: bool,
    pub after: Option<Value>,
    /// Keys whose values are masked (`""`: the whole value).
    #[serde(default)]
    pub sensitive: Vec<String>,
}

/// The report as a JSON document, secrets masked.
pub fn to_doc(report: &Report, aws_requests: u64) -> DriftDoc {
    DriftDoc {
        format_version: FORMAT_VERSION.into(),
        workflow: report.workflow.clone(),
        in_sync: report.is_in_sync(),
        summary: DriftSummary {
            drift: report.count(Status::Drift),
            pending: report.count(Status::Pending),
            unmanaged: report.count(Status::Unmanaged),
            origin_unknown: report.count(Status::OriginUnknown),
            unowned: report.count(Status::Unowned),
            in_sync: report.in_sync,
        },
        findings: report
            .findings
            .iter()
            .map(|f| FindingDoc {
                address: f.address.to_string(),
                kind: f.address.kind.as_str().into(),
                name: f.address.name.clone(),
                status: f.status,
                change: f.change,
                reason: f.reason.clone(),
                attributes: f
                    .attributes
                    .iter()
                    .map(|a| {
                        let (before, after) = masked(&AttrDiff {
                            name: a.name.clone(),
                            before: a.before.clone(),
                            after: a.after.clone(),
                            after_unknown: false,
                            forces_replacement: false,
                            sensitive: a.sensitive.clone(),
                        });
                        DriftAttrDoc {
                            name: a.name.clone(),
                            before_known: before.is_some(),
                            before,
                            after,
                            sensitive: a.sensitive.clone(),
                        }
                    })
                    .collect(),
            })
            .collect(),
        aws_requests,
    }
}
