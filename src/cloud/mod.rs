//! The cloud seam: narrow traits per AWS service family, in the project's
//! own types. Only `cloud::aws` names `aws_sdk_*` types; the rest of scar
//! talks to these traits.

pub mod aws;

use std::future::Future;

/// What a read-only look at a bucket found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BucketStatus {
    /// No bucket of that name exists: scar can create it.
    Absent,
    /// It exists and these credentials can reach it.
    Reachable,
    /// It exists but these credentials cannot reach it (another account's).
    Forbidden,
}

/// What a read-only look at a role found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleStatus {
    /// The role exists with exactly this ARN.
    Exists,
    /// No role of that name exists in the account.
    Absent,
    /// A role of that name exists, but under another ARN (account or path).
    ArnMismatch { actual: String },
}

/// A failed call to the cloud.
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed")]
pub struct CloudError {
    /// The operation and its target, e.g. `GetRole scar-role`.
    pub operation: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl CloudError {
    pub fn new(
        operation: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        CloudError {
            operation: operation.into(),
            source: source.into(),
        }
    }
}

/// Read-only checks made by `scar validate --online`.
pub trait Preflight {
    fn role_status(
        &self,
        role_arn: &str,
    ) -> impl Future<Output = Result<RoleStatus, CloudError>> + Send;
    fn bucket_status(
        &self,
        bucket: &str,
    ) -> impl Future<Output = Result<BucketStatus, CloudError>> + Send;
}
