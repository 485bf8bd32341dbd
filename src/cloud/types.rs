//! The project's own types for what the cloud holds and what scar asks it to
//! do. No AWS SDK type appears here; `cloud::aws` converts.

use std::collections::BTreeMap;

pub type Tags = BTreeMap<String, String>;

/// A Lambda function as the account reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionState {
    pub name: String,
    pub arn: String,
    pub role: String,
    /// `None` for image functions.
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub memory: u32,
    pub timeout: u32,
    pub description: String,
    /// Empty when the function has no environment.
    pub environment: BTreeMap<String, String>,
    /// Layer version ARNs, in the function's order.
    pub layers: Vec<String>,
    pub architectures: Vec<String>,
    /// Base64 SHA-256 of the deployment package, as Lambda reports it.
    pub code_sha256: String,
    pub vpc_subnet_ids: Vec<String>,
    pub vpc_security_group_ids: Vec<String>,
    /// (access point ARN, local mount path).
    pub file_systems: Vec<(String, String)>,
    /// Filled by calls that return tags (GetFunction, the tagging API).
    pub tags: Option<Tags>,
    /// `Pending`, `Active`, `Inactive`, `Failed` (absent: unknown).
    pub state: Option<String>,
    /// `InProgress`, `Successful`, `Failed` (absent: unknown).
    pub last_update_status: Option<String>,
}

/// A function's deployed package read back, or why it could not be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PackageFetch {
    Zip(Vec<u8>),
    Unavailable(String),
}

/// What scar asks Lambda to create or update.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionSpec {
    pub name: String,
    pub role: String,
    pub runtime: String,
    pub handler: String,
    pub memory: u32,
    pub timeout: u32,
    pub description: String,
    pub environment: BTreeMap<String, String>,
    pub layers: Vec<String>,
    pub architectures: Vec<String>,
    pub vpc_subnet_ids: Vec<String>,
    pub vpc_security_group_ids: Vec<String>,
    pub file_systems: Vec<(String, String)>,
    /// Set in the CreateFunction call itself.
    pub tags: Tags,
}

/// One statement of a function's resource policy.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PermissionStatement {
    pub sid: String,
    /// `s3.amazonaws.com`, `apigateway.amazonaws.com`, ...
    pub principal: String,
    pub action: String,
    /// The `AWS:SourceArn` condition, if any.
    pub source_arn: Option<String>,
    /// The `AWS:SourceAccount` condition, if any.
    pub source_account: Option<String>,
}

/// A published layer version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerVersion {
    pub layer_name: String,
    /// The version ARN (`...:layer:<name>:<version>`).
    pub arn: String,
    pub version: i64,
    pub description: String,
}

/// A request to publish a layer version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSpec {
    pub layer_name: String,
    pub description: String,
    pub license_info: String,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<String>,
}

/// A CloudWatch Logs log group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogGroupState {
    pub name: String,
    pub retention_days: Option<u32>,
    /// Filled when asked for.
    pub tags: Option<Tags>,
}

/// One Lambda entry of a bucket's notification configuration.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LambdaNotification {
    pub id: String,
    pub function_arn: String,
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

/// A bucket's whole notification configuration. The entries scar does not
/// manage (other Lambda entries, queues, topics, EventBridge) are kept as
/// they were read, to be written back untouched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotificationConfig {
    pub lambda: Vec<LambdaNotification>,
    /// Queue, topic and EventBridge configuration, opaque to scar: JSON as
    /// read, re-sent as is.
    pub others: serde_json::Value,
}

/// A bucket as seen from the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketState {
    pub name: String,
    /// `None` when the bucket has no tag set.
    pub tags: Option<Tags>,
}

/// An IAM role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleState {
    pub name: String,
    pub arn: String,
    /// The trust policy, URL-decoded JSON.
    pub assume_role_policy: String,
    pub tags: Tags,
    /// Inline policies: name → JSON document (URL-decoded).
    pub inline_policies: BTreeMap<String, String>,
}

/// A resource found through the tagging API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaggedResource {
    pub arn: String,
    pub tags: Tags,
}
