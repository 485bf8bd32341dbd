//! `AwsCloud`: the SDK clients behind every cloud trait, the account and
//! region they act in, a request counter, and the mapping of SDK errors to
//! [`CloudError`] kinds. The trait impls live in the sibling files.
//!
//! A call that gets no answer in time ([`super::Timeouts`]) is an
//! [`ErrorKind::Timeout`] naming the operation and the endpoint (host and
//! port only); from then on this `AwsCloud` sends nothing more and every
//! call fails at once ([`NoAnswer::NotSent`]), and calls still waiting are
//! abandoned ([`Guarded`]), so that a silent endpoint costs one timeout per
//! command, not one per call.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};

use super::Timeouts;
use crate::cloud::{Cloud, CloudError, CloudResult, ErrorKind, RequestCounter, Tags};

/// Why a call got no answer. Endpoints are named by host and port only,
/// never with credentials, a path or a query.
#[derive(Debug, thiserror::Error)]
pub enum NoAnswer {
    /// This call ran out of time.
    #[error(
        "no answer from {endpoint} within the time allowed ({}; raise it with --timeout/SCAR_TIMEOUT, --connect-timeout/SCAR_CONNECT_TIMEOUT)",
        describe(.timeouts)
    )]
    TimedOut {
        endpoint: String,
        timeouts: Timeouts,
    },
    /// An earlier call ran out of time; this one was not sent.
    #[error("not sent: {endpoint} stopped answering (no answer to {first}); scar sends nothing more in this run")]
    NotSent { endpoint: String, first: String },
    /// The connection was refused or dropped.
    #[error("cannot reach {endpoint}")]
    Unreachable {
        endpoint: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn describe(t: &Timeouts) -> String {
    format!(
        "{} per AWS call, {} to connect",
        seconds(t.total),
        seconds(t.connect)
    )
}

/// `3 s`, `1.5 s`.
fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// The AWS implementation of [`Cloud`]. The account id comes from STS
/// GetCallerIdentity in [`AwsCloud::new`], or from the caller in
/// [`AwsCloud::with_account`]; the region from the SDK configuration.
pub struct AwsCloud {
    pub(super) lambda: aws_sdk_lambda::Client,
    pub(super) logs: aws_sdk_cloudwatchlogs::Client,
    pub(super) s3: aws_sdk_s3::Client,
    pub(super) iam: aws_sdk_iam::Client,
    pub(super) ecr: aws_sdk_ecr::Client,
    pub(super) tagging: aws_sdk_resourcegroupstagging::Client,
    pub(super) batch: aws_sdk_batch::Client,
    pub(super) apigateway: aws_sdk_apigateway::Client,
    sts: aws_sdk_sts::Client,
    account_id: String,
    region: String,
    /// The endpoint override (`AWS_ENDPOINT_URL`, an emulator), if any.
    pub(super) endpoint: Option<String>,
    pub(super) timeouts: Timeouts,
    /// The first call that got no answer, and from where: once set,
    /// nothing more is sent.
    stalled: Mutex<Option<(String, String)>>,
    /// Turns true with `stalled`: calls still waiting stop waiting.
    halt: tokio::sync::watch::Sender<bool>,
    requests: RequestCounter,
}

impl AwsCloud {
    /// Builds the clients and asks STS which account the credentials
    /// belong to (one request, counted as `GetCallerIdentity`).
    pub async fn new(conf: &SdkConfig) -> Result<Self, CloudError> {
        let mut cloud = Self::with_account(conf, "")?;
        cloud.record("GetCallerIdentity")?;
        let out = cloud
            .sts
            .get_caller_identity()
            .send()
            .guarded(&cloud, "GetCallerIdentity")
            .await?
            .map_err(|e| cloud.sdk_error("GetCallerIdentity", e))?;
        let account = out.account().unwrap_or_default();
        if account.is_empty() {
            return Err(CloudError::new(
                "GetCallerIdentity",
                "the response names no account",
            ));
        }
        cloud.account_id = account.to_string();
        Ok(cloud)
    }

    /// Builds the clients for a known account, without any request. Every
    /// client gets scar's timeouts ([`Timeouts::of`] `conf`).
    pub fn with_account(conf: &SdkConfig, account_id: &str) -> Result<Self, CloudError> {
        let region = conf.region().map(|r| r.to_string()).ok_or_else(|| {
            CloudError::with_kind(
                "configure AWS",
                ErrorKind::Invalid,
                "no AWS region is configured (set --region or AWS_REGION)",
            )
        })?;
        let timeouts = Timeouts::of(conf);
        macro_rules! client {
            ($sdk:ident) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(conf)
                        .timeout_config(timeouts.sdk())
                        .build(),
                )
            };
        }
        Ok(AwsCloud {
            lambda: client!(aws_sdk_lambda),
            logs: client!(aws_sdk_cloudwatchlogs),
            s3: super::s3_client(conf),
            iam: client!(aws_sdk_iam),
            ecr: client!(aws_sdk_ecr),
            tagging: client!(aws_sdk_resourcegroupstagging),
            batch: client!(aws_sdk_batch),
            apigateway: client!(aws_sdk_apigateway),
            sts: client!(aws_sdk_sts),
            account_id: account_id.to_string(),
            region,
            endpoint: conf.endpoint_url().map(str::to_string),
            timeouts,
            stalled: Mutex::new(None),
            halt: tokio::sync::watch::Sender::new(false),
            requests: RequestCounter::default(),
        })
    }

    /// Before each request of `operation`: counts it, or refuses it if an
    /// earlier call got no answer.
    pub(super) fn record(&self, operation: &'static str) -> CloudResult<()> {
        if let Some(e) = self.not_sent(operation) {
            return Err(e);
        }
        self.requests.record(operation);
        Ok(())
    }

    /// The error of a call not sent (or no longer waited for) because an
    /// earlier one got no answer; `None` while the endpoint answers.
    fn not_sent(&self, operation: &'static str) -> Option<CloudError> {
        let stalled = self
            .stalled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()?;
        let (first, endpoint) = stalled;
        Some(CloudError::with_kind(
            operation,
            ErrorKind::Timeout,
            NoAnswer::NotSent { endpoint, first },
        ))
    }

    /// Converts an SDK error: a timeout stops all further calls and names
    /// the endpoint; an unreachable endpoint is named; anything else is
    /// classified by its error code and HTTP status.
    pub(super) fn sdk_error<E>(&self, operation: impl Into<String>, err: SdkError<E>) -> CloudError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let operation = operation.into();
        let e = transport_error(
            operation,
            err,
            self.endpoint.as_deref(),
            &self.region,
            self.timeouts,
            sdk_error,
        );
        if let Some(NoAnswer::TimedOut { endpoint, .. }) = e.source.downcast_ref() {
            let mut stalled = self
                .stalled
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            stalled.get_or_insert_with(|| (e.operation.clone(), endpoint.clone()));
            drop(stalled);
            self.halt.send_replace(true);
        }
        e
    }

    /// Waits for `request` unless (or until) another call of this value
    /// finds the endpoint silent: then it is abandoned, as not sent.
    async fn guard<F: std::future::Future>(
        &self,
        operation: &'static str,
        request: F,
    ) -> CloudResult<F::Output> {
        let mut halted = self.halt.subscribe();
        tokio::select! {
            biased;
            out = request => Ok(out),
            _ = halted.wait_for(|halt| *halt) => Err(self
                .not_sent(operation)
                .unwrap_or_else(|| CloudError::new(operation, "abandoned"))),
        }
    }

    /// The endpoint every client talks to instead of AWS's own
    /// (`AWS_ENDPOINT_URL`: an emulator, a proxy), if one is configured.
    pub fn endpoint_override(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The requests made through this value so far.
    pub fn requests(&self) -> &RequestCounter {
        &self.requests
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

/// A request to AWS that is abandoned when the endpoint stops answering
/// ([`AwsCloud::guard`]): `.send().guarded(self, "GetFunction").await?`.
pub(super) trait Guarded: std::future::Future + Sized {
    fn guarded<'a>(
        self,
        cloud: &'a AwsCloud,
        operation: &'static str,
    ) -> impl std::future::Future<Output = CloudResult<Self::Output>> + 'a
    where
        Self: 'a,
    {
        cloud.guard(operation, self)
    }
}

impl<F: std::future::Future> Guarded for F {}

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

/// A failure to get any answer (a timeout, [`ErrorKind::Timeout`]; no
/// connection, [`ErrorKind::Other`]) as an error naming the endpoint;
/// anything else goes to `otherwise`.
pub(super) fn transport_error<E>(
    operation: String,
    err: SdkError<E>,
    configured: Option<&str>,
    region: &str,
    timeouts: Timeouts,
    otherwise: impl FnOnce(String, SdkError<E>) -> CloudError,
) -> CloudError
where
    E: std::error::Error + Send + Sync + 'static,
{
    let (timed_out, unreachable) = match &err {
        SdkError::TimeoutError(_) => (true, false),
        SdkError::DispatchFailure(d) => (d.is_timeout(), d.is_io()),
        _ => (false, false),
    };
    let endpoint = endpoint_name(configured, service_of::<E>(), region);
    if timed_out {
        tracing::debug!("{operation}: {err:?}");
        return CloudError::with_kind(
            operation,
            ErrorKind::Timeout,
            NoAnswer::TimedOut { endpoint, timeouts },
        );
    }
    if unreachable {
        return CloudError::with_kind(
            operation,
            ErrorKind::Other,
            NoAnswer::Unreachable {
                endpoint,
                source: Box::new(err),
            },
        );
    }
    otherwise(operation, err)
}

/// The endpoint a client talks to, as `host:port`: the configured one
/// (credentials, path and query left out), else the service's regional
/// AWS endpoint.
fn endpoint_name(configured: Option<&str>, service: Option<&str>, region: &str) -> String {
    if let Some(url) = configured {
        return match url.parse::<hyper::Uri>() {
            Ok(uri) if uri.host().is_some() => {
                let host = uri.host().unwrap_or_default();
                let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
                    Some("http") => 80,
                    _ => 443,
                });
                format!("{host}:{port}")
            }
            _ => "the configured AWS endpoint".to_string(),
        };
    }
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    match service {
        Some("iam") => format!("iam.{suffix}:443"),
        Some(s) => format!("{s}.{region}.{suffix}:443"),
        None => format!("the AWS endpoint of {region}"),
    }
}

/// The endpoint prefix of the service whose SDK crate defines `E` (the
/// error types live in `aws_sdk_<service>`).
fn service_of<E>() -> Option<&'static str> {
    let name = std::any::type_name::<E>();
    let krate = name.split("::").next().unwrap_or_default();
    Some(match krate {
        "aws_sdk_lambda" => "lambda",
        "aws_sdk_s3" => "s3",
        "aws_sdk_iam" => "iam",
        "aws_sdk_ecr" => "api.ecr",
        "aws_sdk_sts" => "sts",
        "aws_sdk_cloudwatchlogs" => "logs",
        "aws_sdk_resourcegroupstagging" => "tagging",
        _ => return None,
    })
}

/// Converts an SDK error, classifying it by its error code and HTTP status
/// (and, where the code alone cannot tell, its message: see [`classify`]).
fn sdk_error<E>(operation: impl Into<String>, err: SdkError<E>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let kind = classify(err.code(), status, err.message());
    CloudError::with_kind(operation, kind, err)
}

/// Whether an SDK error has one of these error codes.
pub(super) fn has_code<E: ProvideErrorMetadata>(err: &SdkError<E>, codes: &[&str]) -> bool {
    err.code().is_some_and(|c| codes.contains(&c))
}

/// Whether an SDK error means "no such thing" (by code or HTTP 404).
pub(super) fn is_not_found<E: ProvideErrorMetadata>(err: &SdkError<E>) -> bool {
    let status = err.raw_response().map(|r| r.status().as_u16());
    classify(err.code(), status, err.message()) == ErrorKind::NotFound
}

/// The kind of a failure, from the AWS error code, else the HTTP status.
///
/// The message is read in the places where AWS gives one code to
/// failures that call for different handling, and nowhere else:
/// - AWS Batch's `ClientException` is every refusal: "already exists",
///   "does not exist", and invalid requests;
/// - Lambda's `ResourceConflictException` is both "already exists" (a
///   duplicate CreateFunction, "Function already exist: f"; a duplicate
///   AddPermission Sid, "The statement id (s) provided already exists")
///   and "an update is in progress";
/// - Lambda's `InvalidParameterValueException` "The role defined for the
///   function cannot be assumed by Lambda" is, right after the role was
///   created, IAM's eventual consistency rather than a bad request.
pub fn classify(code: Option<&str>, status: Option<u16>, message: Option<&str>) -> ErrorKind {
    let message = message.unwrap_or_default().to_ascii_lowercase();
    match code.unwrap_or_default() {
        "ResourceNotFoundException"
        | "NoSuchEntity"
        | "NoSuchBucket"
        | "NoSuchKey"
        | "NotFound"
        | "NotFoundException"
        | "RepositoryNotFoundException"
        | "LifecyclePolicyNotFoundException"
        | "ImageNotFoundException" => ErrorKind::NotFound,
        "ResourceConflictException" if message.contains("already exist") => {
            ErrorKind::AlreadyExists
        }
        "ResourceAlreadyExistsException"
        | "EntityAlreadyExists"
        | "BucketAlreadyOwnedByYou"
        | "RepositoryAlreadyExistsException"
        | "ImageAlreadyExistsException" => ErrorKind::AlreadyExists,
        "BucketAlreadyExists" => ErrorKind::NameTaken,
        // AWS Batch gives one code to every refusal: the message tells.
        "ClientException" if message.contains("already exist") => ErrorKind::AlreadyExists,
        "ClientException" if message.contains("does not exist") || message.contains("not found") => {
            ErrorKind::NotFound
        }
        "ClientException" => ErrorKind::Invalid,
        // moto's Batch answers a duplicate name so.
        "InvalidParameterValue" if message.contains("already exists") => ErrorKind::AlreadyExists,
        "ServerException" => ErrorKind::Transient,
        "ResourceConflictException"
        | "ResourceInUseException"
        | "OperationAbortedException"
        | "OperationAborted"
        | "ConcurrentModification"
        | "ConcurrentModificationException"
        // S3: another conditional write of the key is under way.
        | "ConditionalRequestConflict" => ErrorKind::Conflict,
        "BucketNotEmpty" | "DeleteConflict" | "RepositoryNotEmptyException" => ErrorKind::InUse,
        "InvalidParameterValueException" if message.contains("cannot be assumed by lambda") => {
            ErrorKind::NotReady
        }
        "ThrottlingException"
        | "Throttling"
        | "ThrottledException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "SlowDown" => ErrorKind::Throttled,
        "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "ServiceException"
        | "InternalError"
        | "InternalFailure"
        | "InternalServerError"
        | "ServiceFailure"
        | "RequestTimeout"
        | "RequestTimeoutException" => ErrorKind::Transient,
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
            Some(s) if s >= 500 => ErrorKind::Transient,
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
        let k = |code: &str, status: u16| classify(Some(code), Some(status), None);
        assert_eq!(k("ResourceNotFoundException", 404), ErrorKind::NotFound);
        assert_eq!(k("NoSuchEntity", 404), ErrorKind::NotFound);
        assert_eq!(k("ResourceConflictException", 409), ErrorKind::Conflict);
        assert_eq!(k("OperationAborted", 409), ErrorKind::Conflict);
        assert_eq!(k("ConcurrentModification", 409), ErrorKind::Conflict);
        assert_eq!(k("Throttling", 400), ErrorKind::Throttled);
        assert_eq!(k("TooManyRequestsException", 429), ErrorKind::Throttled);
        assert_eq!(k("SlowDown", 503), ErrorKind::Throttled);
        assert_eq!(k("InternalError", 500), ErrorKind::Transient);
        assert_eq!(k("ServiceUnavailable", 503), ErrorKind::Transient);
        assert_eq!(k("AccessDenied", 403), ErrorKind::AccessDenied);
        assert_eq!(k("InvalidParameterValueException", 400), ErrorKind::Invalid);
        assert_eq!(k("BucketNotEmpty", 409), ErrorKind::InUse);
        assert_eq!(k("DeleteConflict", 409), ErrorKind::InUse);
        assert_eq!(k("RepositoryNotEmptyException", 400), ErrorKind::InUse);
        assert_eq!(k("RepositoryNotFoundException", 400), ErrorKind::NotFound);
        assert_eq!(
            k("LifecyclePolicyNotFoundException", 400),
            ErrorKind::NotFound
        );
        assert_eq!(
            k("RepositoryAlreadyExistsException", 400),
            ErrorKind::AlreadyExists
        );
        assert_eq!(k("Weird", 503), ErrorKind::Transient);
        assert_eq!(k("Weird", 429), ErrorKind::Throttled);
        assert_eq!(k("Weird", 404), ErrorKind::NotFound);
        assert_eq!(k("Weird", 409), ErrorKind::Conflict);
        assert_eq!(classify(None, None, None), ErrorKind::Other);
    }

    #[test]
    fn a_create_that_finds_its_own_thing_is_already_exists() {
        for (code, message) in [
            ("EntityAlreadyExists", "Role with name r already exists."),
            (
                "ResourceAlreadyExistsException",
                "The specified log group already exists",
            ),
            (
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.",
            ),
            ("ResourceConflictException", "Function already exist: f"),
            (
                "ResourceConflictException",
                "The statement id (s) provided already exists. Please explicitly specify a new statement id, or remove the existing statement.",
            ),
        ] {
            assert_eq!(
                classify(Some(code), Some(409), Some(message)),
                ErrorKind::AlreadyExists,
                "{code}: {message}"
            );
        }
        // The same code while another change runs is a conflict.
        assert_eq!(
            classify(
                Some("ResourceConflictException"),
                Some(409),
                Some("The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:123456789012:function:f")
            ),
            ErrorKind::Conflict
        );
    }

    #[test]
    fn a_bucket_name_of_another_account_is_taken_not_ours() {
        // moto cannot play another account's bucket (its buckets are all of
        // one account): the code AWS sends is classified here.
        assert_eq!(
            classify(
                Some("BucketAlreadyExists"),
                Some(409),
                Some("The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
            ),
            ErrorKind::NameTaken
        );
    }

    #[test]
    fn a_role_lambda_cannot_assume_yet_is_not_ready() {
        assert_eq!(
            classify(
                Some("InvalidParameterValueException"),
                Some(400),
                Some("The role defined for the function cannot be assumed by Lambda.")
            ),
            ErrorKind::NotReady
        );
        assert_eq!(
            classify(
                Some("InvalidParameterValueException"),
                Some(400),
                Some("Unsupported runtime: python1.0")
            ),
            ErrorKind::Invalid
        );
    }

    #[test]
    fn endpoints_are_named_by_host_and_port_only() {
        assert_eq!(
            endpoint_name(Some("http://127.0.0.1:5000"), Some("lambda"), "us-east-1"),
            "127.0.0.1:5000"
        );
        let named = endpoint_name(
            Some("https://user:pass@vpce.example.com/path?X-Amz-Security-Token=t"),
            Some("s3"),
            "eu-west-1",
        );
        assert_eq!(named, "vpce.example.com:443");
        assert_eq!(
            endpoint_name(None, Some("lambda"), "eu-west-1"),
            "lambda.eu-west-1.amazonaws.com:443"
        );
        assert_eq!(
            endpoint_name(None, Some("iam"), "cn-north-1"),
            "iam.amazonaws.com.cn:443"
        );
        assert_eq!(
            service_of::<aws_sdk_lambda::operation::get_function::GetFunctionError>(),
            Some("lambda")
        );
        assert_eq!(
            service_of::<aws_sdk_s3::operation::head_bucket::HeadBucketError>(),
            Some("s3")
        );
    }

    #[test]
    fn timeouts_bound_each_attempt_by_half_the_total() {
        let t = Timeouts {
            connect: Duration::from_secs(2),
            total: Duration::from_secs(10),
        };
        let sdk = t.sdk();
        assert_eq!(sdk.connect_timeout(), Some(Duration::from_secs(2)));
        assert_eq!(sdk.read_timeout(), Some(Duration::from_secs(5)));
        assert_eq!(
            sdk.operation_attempt_timeout(),
            Some(Duration::from_secs(5))
        );
        assert_eq!(sdk.operation_timeout(), Some(Duration::from_secs(10)));
        let text = NoAnswer::TimedOut {
            endpoint: "127.0.0.1:5000".into(),
            timeouts: t,
        }
        .to_string();
        assert!(
            text.contains("127.0.0.1:5000") && text.contains("10 s per AWS call"),
            "{text}"
        );
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
}
