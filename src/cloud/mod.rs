//! The cloud seam: narrow traits per AWS service family, in the project's
//! own types. Only `cloud::aws` names `aws_sdk_*` types; the rest of scar
//! talks to these traits.

mod apigateway;
pub mod aws;
mod batch;
pub mod data;
pub mod memory;
mod requests;
pub mod retry;
pub mod types;

use std::future::Future;

pub use apigateway::{
    ApiGatewayApi, ApiResource, IntegrationSpec, MethodSpec, PatchOp, RestApiSpec, RestApiState,
    StageState,
};
pub use batch::*;
pub use requests::RequestCounter;
pub use types::*;

/// Base64 of the SHA-256 of a deployment package: Lambda's `CodeSha256`.
pub use crate::hash::code_sha256;

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

/// What kind of failure a cloud call had. The AWS adapter decides it from
/// the error code (`cloud::aws::classify`), the in-memory double as AWS
/// would; everything else branches on the kind, never on the error's text.
///
/// The executor retries `Throttled`, `Transient` and (except on a create)
/// `Conflict`; waits on `NotReady`; reads what is there on `AlreadyExists`;
/// treats `NotFound` on deletes as done; and fails at once on the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// No such thing (`ResourceNotFoundException`, `NoSuchEntity`, 404).
    NotFound,
    /// A create found a thing of that name already in this account
    /// (`EntityAlreadyExists`, `ResourceAlreadyExistsException`,
    /// `BucketAlreadyOwnedByYou`, Lambda's "already exist(s)" conflict).
    AlreadyExists,
    /// The name is taken by someone else, outside this account
    /// (`BucketAlreadyExists`: S3 bucket names are global). Nothing to
    /// wait for or adopt.
    NameTaken,
    /// Another change of the same thing is under way (Lambda's
    /// `ResourceConflictException` "an update is in progress",
    /// `OperationAborted`, `ConcurrentModification`): passes with time.
    Conflict,
    /// Something it depends on was made moments ago and is not usable yet
    /// (IAM is eventually consistent: "the role defined for the function
    /// cannot be assumed by Lambda").
    NotReady,
    /// It cannot be deleted while it still holds or is used by something
    /// (`BucketNotEmpty`, IAM `DeleteConflict`): does not pass with time.
    InUse,
    /// Too many requests (`ThrottlingException`, `TooManyRequestsException`,
    /// `SlowDown`, 429).
    Throttled,
    /// The service failed on its side (`InternalError`, `ServiceUnavailable`,
    /// 5xx): worth another try.
    Transient,
    AccessDenied,
    /// The request was rejected as invalid.
    Invalid,
    /// No answer in time (connect, read or the total per call): never
    /// retried by the executor, since the SDK already retried within the
    /// bound.
    Timeout,
    /// Anything else (network, credentials, ...).
    Other,
}

/// A failed call to the cloud.
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed")]
pub struct CloudError {
    /// The operation and its target, e.g. `GetRole scar-role`.
    pub operation: String,
    pub kind: ErrorKind,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl CloudError {
    pub fn new(
        operation: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::with_kind(operation, ErrorKind::Other, source)
    }

    pub fn with_kind(
        operation: impl Into<String>,
        kind: ErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        CloudError {
            operation: operation.into(),
            kind,
            source: source.into(),
        }
    }

    /// Whether the same call may succeed if made again a little later:
    /// throttling, a service failure, a concurrent change.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Conflict | ErrorKind::Throttled | ErrorKind::Transient
        )
    }

    /// The error and its causes on one line (`a failed: b: c`), a cause
    /// that repeats the one before it left out. For people, never for
    /// deciding anything: branch on [`CloudError::kind`].
    pub fn chain_text(&self) -> String {
        let mut parts = vec![self.to_string()];
        let mut src = std::error::Error::source(self);
        while let Some(s) = src {
            let t = s.to_string();
            if parts.last() != Some(&t) {
                parts.push(t);
            }
            src = s.source();
        }
        parts.join(": ")
    }
}

pub type CloudResult<T> = Result<T, CloudError>;

/// Lambda: functions, their resource policies, layers.
pub trait LambdaApi {
    /// Every function of the account and region (ListFunctions, 50 a page);
    /// tags are not filled.
    fn list_functions(&self) -> impl Future<Output = CloudResult<Vec<FunctionState>>> + Send;
    /// One function with its tags; `None` if it does not exist.
    fn get_function(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<Option<FunctionState>>> + Send;
    /// The function's deployed code: a zip read from GetFunction's
    /// `Code.Location` and checked against its `CodeSha256`, or an image
    /// function's URIs; `Unavailable` says why not (never an error: plans
    /// show less, they do not fail).
    fn function_code(&self, name: &str) -> impl Future<Output = CloudResult<PackageFetch>> + Send;
    /// Creates a function with its tags in the same call, of the spec's
    /// package type with `code` of the same type (a mismatch is
    /// `ErrorKind::Invalid`, as Lambda has it).
    fn create_function(
        &self,
        spec: &FunctionSpec,
        code: &CodeArtifact,
    ) -> impl Future<Output = CloudResult<FunctionState>> + Send;
    /// Updates the configuration (not the code, not the tags).
    fn update_function_configuration(
        &self,
        spec: &FunctionSpec,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Replaces the code: a new zip, or another image (of the function's
    /// package type).
    fn update_function_code(
        &self,
        name: &str,
        code: &CodeArtifact,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Deletes a function; `Ok(false)` if it was already gone.
    fn delete_function(&self, name: &str) -> impl Future<Output = CloudResult<bool>> + Send;
    fn tag_resource(&self, arn: &str, tags: &Tags) -> impl Future<Output = CloudResult<()>> + Send;
    fn untag_resource(
        &self,
        arn: &str,
        keys: &[String],
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// The function's resource-policy statements (empty when it has none).
    fn get_policy(
        &self,
        function: &str,
    ) -> impl Future<Output = CloudResult<Vec<PermissionStatement>>> + Send;
    fn add_permission(
        &self,
        function: &str,
        statement: &PermissionStatement,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Removes a statement; `Ok(false)` if it was already gone.
    fn remove_permission(
        &self,
        function: &str,
        sid: &str,
    ) -> impl Future<Output = CloudResult<bool>> + Send;
    /// All versions of a layer, newest first (empty when the layer does not exist).
    fn list_layer_versions(
        &self,
        layer_name: &str,
    ) -> impl Future<Output = CloudResult<Vec<LayerVersion>>> + Send;
    fn publish_layer_version(
        &self,
        spec: &LayerSpec,
        zip: &[u8],
    ) -> impl Future<Output = CloudResult<LayerVersion>> + Send;
    fn delete_layer_version(
        &self,
        layer_name: &str,
        version: i64,
    ) -> impl Future<Output = CloudResult<()>> + Send;
}

/// CloudWatch Logs log groups.
pub trait LogsApi {
    /// Log groups whose name starts with `prefix`, with retention (all pages).
    fn describe_log_groups(
        &self,
        prefix: &str,
    ) -> impl Future<Output = CloudResult<Vec<LogGroupState>>> + Send;
    fn list_log_group_tags(&self, name: &str) -> impl Future<Output = CloudResult<Tags>> + Send;
    /// Creates a log group with its tags in the same call.
    fn create_log_group(
        &self,
        name: &str,
        tags: &Tags,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn put_retention(&self, name: &str, days: u32) -> impl Future<Output = CloudResult<()>> + Send;
    fn tag_log_group(
        &self,
        name: &str,
        tags: &Tags,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Deletes a log group; `Ok(false)` if it was already gone.
    fn delete_log_group(&self, name: &str) -> impl Future<Output = CloudResult<bool>> + Send;
}

/// S3 buckets and their notification configuration.
pub trait S3Api {
    /// The bucket and its tags; `None` if it does not exist (or is not
    /// reachable: see `Preflight::bucket_status` for the difference).
    fn get_bucket(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<Option<BucketState>>> + Send;
    /// Creates a bucket in the client's region and tags it right after
    /// (S3 takes no tags in CreateBucket).
    fn create_bucket(
        &self,
        name: &str,
        tags: &Tags,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Sets scar's tags of a bucket (those starting `scar:`: the ones given,
    /// and no others); tags that are not scar's are kept.
    fn put_bucket_tags(
        &self,
        name: &str,
        tags: &Tags,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Whether the bucket holds at least one object.
    fn bucket_has_objects(&self, name: &str) -> impl Future<Output = CloudResult<bool>> + Send;
    /// Deletes an empty bucket; `Ok(false)` if it was already gone.
    fn delete_bucket(&self, name: &str) -> impl Future<Output = CloudResult<bool>> + Send;
    fn get_notifications(
        &self,
        bucket: &str,
    ) -> impl Future<Output = CloudResult<NotificationConfig>> + Send;
    /// Writes the whole configuration (scar's entries and the others).
    fn put_notifications(
        &self,
        bucket: &str,
        config: &NotificationConfig,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Puts an (empty) object, e.g. a `folder/` marker.
    fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Puts an object only if no object holds the key (a conditional put,
    /// `If-None-Match: *`: of racing writers exactly one wins); `Ok(false)`
    /// when one does.
    fn put_object_if_absent(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
    ) -> impl Future<Output = CloudResult<bool>> + Send;
    /// An object's body and ETag; `None` if there is none.
    fn get_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = CloudResult<Option<(Vec<u8>, String)>>> + Send;
    /// Deletes an object only while its ETag is `etag` (`If-Match`);
    /// `Ok(false)` when it changed. One already gone counts as deleted.
    fn delete_object_if_match(
        &self,
        bucket: &str,
        key: &str,
        etag: &str,
    ) -> impl Future<Output = CloudResult<bool>> + Send;
}

/// A bucket's tags once scar's are set to `ours`: the tags of `current`
/// that are not scar's (`scar:`), and `ours`.
pub fn with_scar_tags(current: Option<Tags>, ours: &Tags) -> Tags {
    let mut all: Tags = current
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("scar:"))
        .collect();
    all.extend(ours.iter().map(|(k, v)| (k.clone(), v.clone())));
    all
}

/// IAM roles with inline policies.
pub trait IamApi {
    /// The role with its tags and inline policies; `None` if it does not exist.
    fn get_role(&self, name: &str) -> impl Future<Output = CloudResult<Option<RoleState>>> + Send;
    /// The role's ARN alone (GetRole, without reading its inline policies);
    /// `None` if it does not exist.
    fn role_arn(&self, name: &str) -> impl Future<Output = CloudResult<Option<String>>> + Send;
    /// Creates a role with its tags in the same call; returns its ARN.
    fn create_role(
        &self,
        name: &str,
        assume_role_policy: &str,
        tags: &Tags,
    ) -> impl Future<Output = CloudResult<String>> + Send;
    fn update_assume_role_policy(
        &self,
        name: &str,
        policy: &str,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Adds or overwrites tags of a role (TagRole); others' tags stay.
    fn tag_role(&self, name: &str, tags: &Tags) -> impl Future<Output = CloudResult<()>> + Send;
    fn put_role_policy(
        &self,
        role: &str,
        policy_name: &str,
        document: &str,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn delete_role_policy(
        &self,
        role: &str,
        policy_name: &str,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Deletes a role (its inline policies first); `Ok(false)` if it was gone.
    fn delete_role(&self, name: &str) -> impl Future<Output = CloudResult<bool>> + Send;
    /// The documents of the managed policies attached to a role (URL-decoded
    /// JSON; ListAttachedRolePolicies, then GetPolicy and GetPolicyVersion
    /// of each).
    fn attached_policy_documents(
        &self,
        role: &str,
    ) -> impl Future<Output = CloudResult<Vec<String>>> + Send;
    /// An instance profile with its roles and tags; `None` if it does not
    /// exist.
    fn get_instance_profile(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<Option<InstanceProfileState>>> + Send;
    /// Creates an instance profile with its tags in the same call; its ARN.
    fn create_instance_profile(
        &self,
        name: &str,
        tags: &Tags,
    ) -> impl Future<Output = CloudResult<String>> + Send;
    fn add_role_to_instance_profile(
        &self,
        profile: &str,
        role: &str,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn remove_role_from_instance_profile(
        &self,
        profile: &str,
        role: &str,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Adds or overwrites tags of an instance profile.
    fn tag_instance_profile(
        &self,
        name: &str,
        tags: &Tags,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Deletes an instance profile (its roles removed first); `Ok(false)`
    /// if it was gone.
    fn delete_instance_profile(&self, name: &str)
        -> impl Future<Output = CloudResult<bool>> + Send;
}

/// ECR repositories: the control plane only (images get there through
/// the registry's own protocol, `image/`; PutImage is here for a manifest
/// whose blobs are already in the repository).
pub trait EcrApi {
    /// Every repository of the account's registry in the region
    /// (DescribeRepositories without names, 1000 a page); tags are not
    /// filled. Listed whole because DescribeRepositories with names fails
    /// as a whole if one of them does not exist.
    fn list_repositories(&self) -> impl Future<Output = CloudResult<Vec<RepositoryState>>> + Send;
    /// A repository's tags (ListTagsForResource).
    fn repository_tags(&self, name: &str) -> impl Future<Output = CloudResult<Tags>> + Send;
    /// Creates a repository with its tags, tag mutability and scanning in
    /// the same call.
    fn create_repository(
        &self,
        spec: &RepositorySpec,
    ) -> impl Future<Output = CloudResult<RepositoryState>> + Send;
    /// Adds or overwrites tags (TagResource); others are left alone.
    fn tag_repository(
        &self,
        name: &str,
        tags: &Tags,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn put_image_tag_mutability(
        &self,
        name: &str,
        mutability: &str,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn put_scan_on_push(
        &self,
        name: &str,
        scan_on_push: bool,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// The lifecycle policy text; `None` if the repository has none.
    fn lifecycle_policy(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<Option<String>>> + Send;
    fn put_lifecycle_policy(
        &self,
        name: &str,
        policy: &str,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Every image of a repository (ListImages, all pages), sorted by
    /// digest.
    fn list_images(&self, name: &str) -> impl Future<Output = CloudResult<Vec<ImageState>>> + Send;
    /// Puts an image manifest (its blobs already pushed), optionally
    /// tagged; returns its digest (`sha256:` of the manifest's bytes, as
    /// the registry computes it and sent along so that the registry checks
    /// it).
    fn put_image(
        &self,
        name: &str,
        manifest: &str,
        media_type: &str,
        tag: Option<&str>,
    ) -> impl Future<Output = CloudResult<String>> + Send;
    /// The registry's credentials (GetAuthorizationToken): user name and
    /// password, as the registry's basic auth takes them. Secret: never
    /// logged or shown.
    fn authorization_token(&self) -> impl Future<Output = CloudResult<(String, String)>> + Send;
    /// Deletes a repository; with `force`, the images in it too.
    /// `Ok(false)` if it was already gone.
    fn delete_repository(
        &self,
        name: &str,
        force: bool,
    ) -> impl Future<Output = CloudResult<bool>> + Send;
}

/// The Resource Groups Tagging API: find what carries a tag.
pub trait TaggingApi {
    /// Resources of the given types (`lambda`, `s3`, `logs`, ...) with the
    /// tag `key=value` (with `None`: the tag `key`, whatever its value),
    /// all pages.
    fn resources_with_tag(
        &self,
        key: &str,
        value: Option<&str>,
        types: &[&str],
    ) -> impl Future<Output = CloudResult<Vec<TaggedResource>>> + Send;
}

/// Everything the reconciler needs from the cloud.
pub trait Cloud:
    LambdaApi
    + LogsApi
    + S3Api
    + IamApi
    + EcrApi
    + TaggingApi
    + BatchApi
    + ApiGatewayApi
    + Send
    + Sync
    + 'static
{
    /// The account id (for ARNs).
    fn account_id(&self) -> &str;
    /// The region (for ARNs).
    fn region(&self) -> &str;
    /// The AWS requests made through this value so far.
    fn requests(&self) -> &RequestCounter;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_passes_with_time_is_retryable() {
        for kind in [
            ErrorKind::Throttled,
            ErrorKind::Transient,
            ErrorKind::Conflict,
        ] {
            assert!(
                CloudError::with_kind("op", kind, "x").is_retryable(),
                "{kind:?}"
            );
        }
        for kind in [
            ErrorKind::Timeout,
            ErrorKind::AlreadyExists,
            ErrorKind::NameTaken,
            ErrorKind::NotReady,
            ErrorKind::InUse,
            ErrorKind::NotFound,
            ErrorKind::Invalid,
            ErrorKind::AccessDenied,
            ErrorKind::Other,
        ] {
            assert!(
                !CloudError::with_kind("op", kind, "x").is_retryable(),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn the_chain_text_names_the_operation_and_every_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let e = CloudError::with_kind(
            "GetRole r",
            ErrorKind::Other,
            Outer(std::io::Error::other("inner")),
        );
        assert_eq!(e.chain_text(), "GetRole r failed: outer: inner");
        let repeated = CloudError::new("op", CloudError::new("op", "x"));
        assert_eq!(repeated.chain_text(), "op failed: x");
    }
}
