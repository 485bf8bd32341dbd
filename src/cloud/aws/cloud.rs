//! `AwsCloud`: the SDK clients behind every cloud trait, the account and
//! region they act in, a request counter, and the mapping of SDK errors to
//! [`CloudError`] kinds. The trait impls live in the sibling files.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use aws_config::SdkConfig;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};

use crate::cloud::{Cloud, CloudError, ErrorKind, Tags};

/// Counts the requests a cloud implementation makes: in total and per
/// operation name (`CreateFunction`, `GetBucketTagging`, ...). Every page of
/// a paginated listing counts as one request.
#[derive(Debug, Default)]
pub struct RequestCounter {
    total: AtomicU64,
    by_operation: Mutex<BTreeMap<&'static str, u64>>,
}

impl RequestCounter {
    /// Records one request of `operation`.
    pub fn record(&self, operation: &'static str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut map = self
            .by_operation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *map.entry(operation).or_default() += 1;
    }

    /// All requests so far.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Requests of one operation so far.
    pub fn count(&self, operation: &str) -> u64 {
        self.snapshot().get(operation).copied().unwrap_or(0)
    }

    /// Requests per operation name, sorted by name.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        let map = self
            .by_operation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    /// Starts counting from zero again.
    pub fn reset(&self) {
        let mut map = self
            .by_operation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.clear();
        self.total.store(0, Ordering::Relaxed);
    }
}

/// The AWS implementation of [`Cloud`]. The account id comes from STS
/// GetCallerIdentity in [`AwsCloud::new`], or from the caller in
/// [`AwsCloud::with_account`]; the region from the SDK configuration.
pub struct AwsCloud {
    pub(super) lambda: aws_sdk_lambda::Client,
    pub(super) logs: aws_sdk_cloudwatchlogs::Client,
    pub(super) s3: aws_sdk_s3::Client,
    pub(super) iam: aws_sdk_iam::Client,
    pub(super) tagging: aws_sdk_resourcegroupstagging::Client,
    account_id: String,
    region: String,
    /// The endpoint override (`AWS_ENDPOINT_URL`, an emulator), if any.
    pub(super) endpoint: Option<String>,
    requests: RequestCounter,
}

impl AwsCloud {
    /// Builds the clients and asks STS which account the credentials
    /// belong to (one request, counted as `GetCallerIdentity`).
    pub async fn new(conf: &SdkConfig) -> Result<Self, CloudError> {
        let sts = aws_sdk_sts::Client::new(conf);
        let out = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| sdk_error("GetCallerIdentity", e))?;
        let account = out.account().unwrap_or_default();
        if account.is_empty() {
            return Err(CloudError::new(
                "GetCallerIdentity",
                "the response names no account",
            ));
        }
        let cloud = Self::with_account(conf, account)?;
        cloud.requests.record("GetCallerIdentity");
        Ok(cloud)
    }

    /// Builds the clients for a known account, without any request.
    pub fn with_account(conf: &SdkConfig, account_id: &str) -> Result<Self, CloudError> {
        let region = conf.region().map(|r| r.to_string()).ok_or_else(|| {
            CloudError::with_kind(
                "configure AWS",
                ErrorKind::Invalid,
                "no AWS region is configured (set --region or AWS_REGION)",
            )
        })?;
        Ok(AwsCloud {
            lambda: aws_sdk_lambda::Client::new(conf),
            logs: aws_sdk_cloudwatchlogs::Client::new(conf),
            s3: super::s3_client(conf),
            iam: aws_sdk_iam::Client::new(conf),
            tagging: aws_sdk_resourcegroupstagging::Client::new(conf),
            account_id: account_id.to_string(),
            region,
            endpoint: conf.endpoint_url().map(str::to_string),
            requests: RequestCounter::default(),
        })
    }

    /// The requests made through this value so far.
    pub fn requests(&self) -> &RequestCounter {
        &self.requests
    }

    /// Counts one request of `operation`.
    pub(super) fn record(&self, operation: &'static str) {
        self.requests.record(operation);
    }

    /// The ARN partition of the region (`aws`, `aws-cn`, `aws-us-gov`).
    pub(super) fn partition(&self) -> &'static str {
        partition(&self.region)
    }
}

impl Cloud for AwsCloud {
    fn account_id(&self) -> &str {
        &self.account_id
    }

    fn region(&self) -> &str {
        &self.region
    }

    fn requests(&self) -> &RequestCounter {
        &self.requests
    }
}

/// The ARN partition of a region.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Converts an SDK error, classifying it by its error code and HTTP status.
pub(super) fn sdk_error<E>(operation: impl Into<String>, err: SdkError<E>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let kind = classify(err.code(), status);
    CloudError::with_kind(operation, kind, err)
}

/// Whether an SDK error has one of these error codes.
pub(super) fn has_code<E: ProvideErrorMetadata>(err: &SdkError<E>, codes: &[&str]) -> bool {
    err.code().is_some_and(|c| codes.contains(&c))
}

/// Whether an SDK error means "no such thing" (by code or HTTP 404).
pub(super) fn is_not_found<E: ProvideErrorMetadata>(err: &SdkError<E>) -> bool {
    let status = err.raw_response().map(|r| r.status().as_u16());
    classify(err.code(), status) == ErrorKind::NotFound
}

/// The kind of a failure, from the AWS error code and the HTTP status.
pub fn classify(code: Option<&str>, status: Option<u16>) -> ErrorKind {
    match code.unwrap_or_default() {
        "ResourceNotFoundException"
        | "NoSuchEntity"
        | "NoSuchBucket"
        | "NoSuchKey"
        | "NotFound"
        | "NotFoundException" => ErrorKind::NotFound,
        "ResourceConflictException"
        | "ResourceInUseException"
        | "ResourceAlreadyExistsException"
        | "EntityAlreadyExists"
        | "BucketAlreadyExists"
        | "BucketAlreadyOwnedByYou"
        | "BucketNotEmpty"
        | "DeleteConflict"
        | "OperationAbortedException"
        | "OperationAborted"
        | "ConcurrentModification"
        | "ConcurrentModificationException" => ErrorKind::Conflict,
        "ThrottlingException"
        | "Throttling"
        | "ThrottledException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "SlowDown"
        | "ServiceUnavailable"
        | "ServiceException"
        | "InternalError"
        | "InternalFailure" => ErrorKind::Throttled,
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch" => ErrorKind::AccessDenied,
        "InvalidParameterValueException"
        | "InvalidParameterException"
        | "InvalidRequestContentException"
        | "InvalidArgument"
        | "InvalidRequest"
        | "InvalidInput"
        | "MalformedPolicyDocument"
        | "MalformedXML"
        | "ValidationException"
        | "ValidationError"
        | "InvalidBucketName"
        | "PolicyLengthExceededException"
        | "CodeStorageExceededException"
        | "LimitExceeded"
        | "LimitExceededException" => ErrorKind::Invalid,
        _ => match status {
            Some(404) => ErrorKind::NotFound,
            Some(409) => ErrorKind::Conflict,
            Some(429) => ErrorKind::Throttled,
            Some(s) if s >= 500 => ErrorKind::Throttled,
            Some(401 | 403) => ErrorKind::AccessDenied,
            Some(400) => ErrorKind::Invalid,
            _ => ErrorKind::Other,
        },
    }
}

/// A request the SDK refused to build (a required field was missing).
pub(super) fn build_error(
    operation: impl Into<String>,
    err: impl std::error::Error + Send + Sync + 'static,
) -> CloudError {
    CloudError::with_kind(operation, ErrorKind::Invalid, err)
}

/// Our tags as the SDK's string map.
pub(super) fn tag_map(tags: &Tags) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The SDK's string map as our (sorted) tags.
pub(super) fn from_map(map: &HashMap<String, String>) -> Tags {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// URL-decodes a policy document as IAM returns it; a document that is not
/// valid percent-encoded UTF-8 is returned as it is.
pub fn decode_policy(document: &str) -> String {
    match percent_encoding::percent_decode_str(document).decode_utf8() {
        Ok(decoded) => decoded.into_owned(),
        Err(_) => document.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_codes_before_statuses() {
        assert_eq!(
            classify(Some("ResourceNotFoundException"), Some(404)),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify(Some("ResourceConflictException"), Some(409)),
            ErrorKind::Conflict
        );
        assert_eq!(
            classify(Some("Throttling"), Some(400)),
            ErrorKind::Throttled
        );
        assert_eq!(
            classify(Some("TooManyRequestsException"), Some(429)),
            ErrorKind::Throttled
        );
        assert_eq!(
            classify(Some("AccessDenied"), Some(403)),
            ErrorKind::AccessDenied
        );
        assert_eq!(
            classify(Some("InvalidParameterValueException"), Some(400)),
            ErrorKind::Invalid
        );
        assert_eq!(classify(Some("Weird"), Some(503)), ErrorKind::Throttled);
        assert_eq!(classify(Some("Weird"), Some(404)), ErrorKind::NotFound);
        assert_eq!(classify(None, None), ErrorKind::Other);
    }

    #[test]
    fn decodes_url_encoded_policies() {
        assert_eq!(decode_policy("%7B%22a%22%3A1%7D"), r#"{"a":1}"#);
        assert_eq!(decode_policy(r#"{"a":1}"#), r#"{"a":1}"#);
    }

    #[test]
    fn partitions() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn counts_requests_per_operation() {
        let c = RequestCounter::default();
        c.record("GetFunction");
        c.record("GetFunction");
        c.record("ListFunctions");
        assert_eq!(c.total(), 3);
        assert_eq!(c.count("GetFunction"), 2);
        assert_eq!(c.count("DeleteFunction"), 0);
        c.reset();
        assert_eq!(c.total(), 0);
        assert!(c.snapshot().is_empty());
    }
}
