//! The data plane: what the everyday commands (`put`, `get`, `run`,
//! `invoke`, `logs`, `ls`) move and read — objects, invocations, log
//! events, Batch jobs. Kept apart from [`super::Cloud`]: the reconciler
//! never needs them, and only the AWS adapter implements them (these
//! commands are tested against the emulator, not a double).

use std::future::Future;
use std::path::Path;
use std::time::SystemTime;

use super::CloudResult;

/// The size of each part of a multipart upload, and the size from which
/// a file is uploaded in parts (the AWS CLI's defaults: 8 MiB).
pub const PART_SIZE: u64 = 8 * 1024 * 1024;

/// How many parts of one file travel at once.
pub const PARTS_AT_ONCE: usize = 4;

/// One object of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
    /// As S3 gives it, without quotes.
    pub etag: String,
    pub last_modified: Option<SystemTime>,
}

/// Bytes moved so far, reported as they go (for a progress bar).
pub type Progress<'a> = &'a (dyn Fn(u64) + Send + Sync);

/// S3 objects, whole files at a time.
pub trait ObjectsApi {
    /// Every object under `prefix` (ListObjectsV2, all pages), by key;
    /// folder markers (keys ending in `/`) left out.
    fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = CloudResult<Vec<ObjectInfo>>> + Send;
    /// Uploads a file: one PutObject, or from [`PART_SIZE`] on a multipart
    /// upload of [`PARTS_AT_ONCE`] parts at a time (aborted if a part
    /// fails, so no parts are left to pay for).
    fn upload_file(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        progress: Progress<'_>,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Downloads an object into `dest` (written to a temporary file beside
    /// it and renamed, so a failed download leaves no partial file);
    /// returns its size.
    fn download_file(
        &self,
        bucket: &str,
        key: &str,
        dest: &Path,
        progress: Progress<'_>,
    ) -> impl Future<Output = CloudResult<u64>> + Send;
}

/// How Lambda runs an invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvocationType {
    /// Waits for the function's answer.
    RequestResponse,
    /// Queued; Lambda answers 202 at once.
    Event,
}

/// What Lambda answered to an Invoke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// 200 (answered), 202 (queued).
    pub status: i32,
    /// `Unhandled` or `Handled` when the function failed.
    pub function_error: Option<String>,
    pub payload: Vec<u8>,
    /// The last 4 KB of the invocation's log (asked with `LogType=Tail`),
    /// decoded.
    pub log_tail: Option<String>,
    /// The request's id (`x-amzn-RequestId`).
    pub request_id: Option<String>,
}

/// Lambda invocations.
pub trait InvokeApi {
    /// Invokes a function with `payload` (JSON).
    fn invoke(
        &self,
        function: &str,
        payload: &[u8],
        kind: InvocationType,
        log_tail: bool,
    ) -> impl Future<Output = CloudResult<Invocation>> + Send;
}

/// A query of a log group's events (FilterLogEvents).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogQuery {
    pub group: String,
    /// Only these streams (empty: all).
    pub streams: Vec<String>,
    /// Milliseconds since the epoch, inclusive.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// A CloudWatch Logs filter pattern.
    pub pattern: Option<String>,
}

/// One log event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub stream: String,
    pub message: String,
    pub event_id: String,
}

/// CloudWatch Logs events.
pub trait LogEventsApi {
    /// The events matching `query` (all pages), by time; a group that does
    /// not exist is [`super::ErrorKind::NotFound`].
    fn filter_log_events(
        &self,
        query: &LogQuery,
    ) -> impl Future<Output = CloudResult<Vec<LogEvent>>> + Send;
}

/// A Batch job, as its logs need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobState {
    pub id: String,
    pub name: String,
    /// `SUBMITTED` … `SUCCEEDED`, `FAILED`.
    pub status: String,
    pub status_reason: Option<String>,
    /// Its container's log stream in `/aws/batch/job`, once it started.
    pub log_stream: Option<String>,
}

/// Batch jobs.
pub trait JobsApi {
    /// A job by id (DescribeJobs); `None` if Batch does not know it.
    fn describe_job(&self, id: &str) -> impl Future<Output = CloudResult<Option<JobState>>> + Send;
}

/// Everything the everyday commands need.
pub trait DataPlane:
    super::Cloud + ObjectsApi + InvokeApi + LogEventsApi + JobsApi + Send + Sync
{
}

impl<T> DataPlane for T where
    T: super::Cloud + ObjectsApi + InvokeApi + LogEventsApi + JobsApi + Send + Sync
{
}
