//! The data-plane traits ([`crate::cloud::data`]) over the S3, Lambda,
//! CloudWatch Logs and Batch SDKs. Files are streamed from and to disk,
//! never held whole; a large upload goes in parts, a few at a time.

use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::cloud::{is_not_found, AwsCloud, Guarded};
use crate::cloud::data::{
    Invocation, InvocationType, InvokeApi, JobState, JobsApi, LogEvent, LogEventsApi, LogQuery,
    ObjectInfo, ObjectsApi, Progress, PARTS_AT_ONCE, PART_SIZE,
};
use crate::cloud::{CloudError, CloudResult, ErrorKind};

/// A local file that could not be read or written, as a cloud error of
/// the operation it was for.
fn file_error(op: &str, path: &Path, e: std::io::Error) -> CloudError {
    CloudError::with_kind(
        op.to_string(),
        ErrorKind::Other,
        format!("{}: {e}", path.display()),
    )
}

impl ObjectsApi for AwsCloud {
    async fn list_objects(&self, bucket: &str, prefix: &str) -> CloudResult<Vec<ObjectInfo>> {
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.record("ListObjectsV2")?;
            let mut req = self
                .s3
                .list_objects_v2()
                .bucket(bucket)
                .set_continuation_token(token.take());
            if !prefix.is_empty() {
                req = req.prefix(prefix);
            }
            let out = req
                .send()
                .guarded(self, "ListObjectsV2")
                .await?
                .map_err(|e| self.sdk_error(format!("ListObjectsV2 s3://{bucket}/{prefix}"), e))?;
            for o in out.contents() {
                let key = o.key().unwrap_or_default();
                if key.is_empty() || key.ends_with('/') {
                    continue;
                }
                objects.push(ObjectInfo {
                    key: key.to_string(),
                    size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                    etag: o.e_tag().unwrap_or_default().trim_matches('"').to_string(),
                    last_modified: o
                        .last_modified()
                        .and_then(|t| std::time::SystemTime::try_from(*t).ok()),
                });
            }
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) && !t.is_empty() => {
                    token = Some(t.to_string())
                }
                _ => break,
            }
        }
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(objects)
    }

    async fn upload_file(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        progress: Progress<'_>,
    ) -> CloudResult<()> {
        let op = format!("PutObject s3://{bucket}/{key}");
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| file_error(&op, path, e))?
            .len();
        if size < PART_SIZE {
            let body = ByteStream::from_path(path)
                .await
                .map_err(|e| CloudError::new(op.clone(), e))?;
            self.record("PutObject")?;
            self.s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(body)
                .send()
                .guarded(self, "PutObject")
                .await?
                .map_err(|e| self.sdk_error(op, e))?;
            progress(size);
            return Ok(());
        }
        self.upload_in_parts(bucket, key, path, size, progress)
            .await
    }

    async fn download_file(
        &self,
        bucket: &str,
        key: &str,
        dest: &Path,
        progress: Progress<'_>,
    ) -> CloudResult<u64> {
        let op = format!("GetObject s3://{bucket}/{key}");
        self.record("GetObject")?;
        let out = self
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .guarded(self, "GetObject")
            .await?
            .map_err(|e| self.sdk_error(op.clone(), e))?;
        let partial = partial_path(dest);
        let result = async {
            let mut file = tokio::fs::File::create(&partial)
                .await
                .map_err(|e| file_error(&op, &partial, e))?;
            let mut body = out.body;
            let mut total = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| CloudError::new(op.clone(), e))?;
                file.write_all(&chunk)
                    .await
                    .map_err(|e| file_error(&op, &partial, e))?;
                total += chunk.len() as u64;
                progress(chunk.len() as u64);
            }
            file.flush()
                .await
                .map_err(|e| file_error(&op, &partial, e))?;
            tokio::fs::rename(&partial, dest)
                .await
                .map_err(|e| file_error(&op, dest, e))?;
            Ok(total)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&partial).await;
        }
        result
    }
}

/// Where a download is written before it is complete: beside `dest`.
fn partial_path(dest: &Path) -> std::path::PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".scar-partial");
    dest.with_file_name(name)
}

impl AwsCloud {
    /// A multipart upload of `path` ([`PART_SIZE`] parts, [`PARTS_AT_ONCE`]
    /// at a time), aborted if any part fails.
    async fn upload_in_parts(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        size: u64,
        progress: Progress<'_>,
    ) -> CloudResult<()> {
        let op = format!("CreateMultipartUpload s3://{bucket}/{key}");
        self.record("CreateMultipartUpload")?;
        let created = self
            .s3
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .send()
            .guarded(self, "CreateMultipartUpload")
            .await?
            .map_err(|e| self.sdk_error(op.clone(), e))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| CloudError::new(op, "the response has no upload id"))?
            .to_string();
        let count = size.div_ceil(PART_SIZE);
        let parts = futures_util::stream::iter(0..count)
            .map(|i| self.upload_part(bucket, key, &upload_id, path, i, size, progress))
            .buffer_unordered(PARTS_AT_ONCE)
            .collect::<Vec<_>>()
            .await;
        let mut done = Vec::with_capacity(parts.len());
        let mut failed = None;
        for p in parts {
            match p {
                Ok(part) => done.push(part),
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        let completed = match failed {
            Some(e) => Err(e),
            None => {
                done.sort_by_key(|p| p.part_number());
                let op = format!("CompleteMultipartUpload s3://{bucket}/{key}");
                self.record("CompleteMultipartUpload")?;
                self.s3
                    .complete_multipart_upload()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(done))
                            .build(),
                    )
                    .send()
                    .guarded(self, "CompleteMultipartUpload")
                    .await?
                    .map(|_| ())
                    .map_err(|e| self.sdk_error(op, e))
            }
        };
        if completed.is_err() {
            // Parts of an upload never completed are stored (and billed)
            // until it is aborted.
            if self.record("AbortMultipartUpload").is_ok() {
                let _ = self
                    .s3
                    .abort_multipart_upload()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .send()
                    .guarded(self, "AbortMultipartUpload")
                    .await;
            }
        }
        completed
    }

    /// Part `index` (from 0) of a multipart upload, read from its place in
    /// the file.
    #[allow(clippy::too_many_arguments)]
    async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        path: &Path,
        index: u64,
        size: u64,
        progress: Progress<'_>,
    ) -> CloudResult<CompletedPart> {
        let number = i32::try_from(index + 1).unwrap_or(i32::MAX);
        let op = format!("UploadPart {number} s3://{bucket}/{key}");
        let start = index * PART_SIZE;
        let len = PART_SIZE.min(size - start);
        let mut buf = vec![0u8; len as usize];
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| file_error(&op, path, e))?;
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| file_error(&op, path, e))?;
        file.read_exact(&mut buf)
            .await
            .map_err(|e| file_error(&op, path, e))?;
        self.record("UploadPart")?;
        let out = self
            .s3
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(buf))
            .send()
            .guarded(self, "UploadPart")
            .await?
            .map_err(|e| self.sdk_error(op, e))?;
        progress(len);
        Ok(CompletedPart::builder()
            .part_number(number)
            .set_e_tag(out.e_tag().map(str::to_string))
            .build())
    }
}

impl InvokeApi for AwsCloud {
    async fn invoke(
        &self,
        function: &str,
        payload: &[u8],
        kind: InvocationType,
        log_tail: bool,
    ) -> CloudResult<Invocation> {
        use aws_sdk_lambda::operation::RequestId;
        use aws_sdk_lambda::types::{InvocationType as Type, LogType};
        use base64::Engine as _;
        self.record("Invoke")?;
        let out = self
            .lambda
            .invoke()
            .function_name(function)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload.to_vec()))
            .invocation_type(match kind {
                InvocationType::RequestResponse => Type::RequestResponse,
                InvocationType::Event => Type::Event,
            })
            .log_type(if log_tail && kind == InvocationType::RequestResponse {
                LogType::Tail
            } else {
                LogType::None
            })
            .send()
            .guarded(self, "Invoke")
            .await?
            .map_err(|e| self.sdk_error(format!("Invoke {function}"), e))?;
        let log_tail = out.log_result().and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        });
        Ok(Invocation {
            status: out.status_code(),
            function_error: out.function_error().map(str::to_string),
            payload: out
                .payload()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default(),
            log_tail,
            request_id: out.request_id().map(str::to_string),
        })
    }
}

impl LogEventsApi for AwsCloud {
    async fn filter_log_events(&self, query: &LogQuery) -> CloudResult<Vec<LogEvent>> {
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        let mut last: Option<String> = None;
        loop {
            self.record("FilterLogEvents")?;
            let out = self
                .logs
                .filter_log_events()
                .log_group_name(&query.group)
                .set_log_stream_names((!query.streams.is_empty()).then(|| query.streams.clone()))
                .set_start_time(query.start_ms)
                .set_end_time(query.end_ms)
                .set_filter_pattern(query.pattern.clone())
                .set_next_token(token.take())
                .send()
                .guarded(self, "FilterLogEvents")
                .await?
                .map_err(|e| self.sdk_error(format!("FilterLogEvents {}", query.group), e))?;
            events.extend(out.events().iter().map(|e| LogEvent {
                timestamp: e.timestamp().unwrap_or(0),
                stream: e.log_stream_name().unwrap_or_default().to_string(),
                message: e.message().unwrap_or_default().to_string(),
                event_id: e.event_id().unwrap_or_default().to_string(),
            }));
            // AWS may answer a page with no events and a token (it searched
            // part of the group): go on while the token moves.
            match out.next_token() {
                Some(t) if !t.is_empty() && last.as_deref() != Some(t) => {
                    last = Some(t.to_string());
                    token = last.clone();
                }
                _ => break,
            }
        }
        events.sort_by(|a, b| (a.timestamp, &a.event_id).cmp(&(b.timestamp, &b.event_id)));
        Ok(events)
    }
}

impl JobsApi for AwsCloud {
    async fn describe_job(&self, id: &str) -> CloudResult<Option<JobState>> {
        self.record("DescribeJobs")?;
        let out = match self
            .batch
            .describe_jobs()
            .jobs(id)
            .send()
            .guarded(self, "DescribeJobs")
            .await?
        {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(self.sdk_error(format!("DescribeJobs {id}"), e)),
        };
        Ok(out.jobs().first().map(|j| JobState {
            id: j.job_id().unwrap_or(id).to_string(),
            name: j.job_name().unwrap_or_default().to_string(),
            status: j
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            status_reason: j.status_reason().map(str::to_string),
            log_stream: j
                .container()
                .and_then(|c| c.log_stream_name())
                .map(str::to_string),
        }))
    }
}
