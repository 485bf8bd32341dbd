//! GetObject to a file, and PutObject or multipart upload from a file.

use std::path::Path;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::StorageError;

/// Files larger than this go up in parts.
pub const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
/// The size of each part (S3's minimum is 5 MiB).
pub const MULTIPART_PART_SIZE: usize = 8 * 1024 * 1024;

fn classify<E>(
    err: &SdkError<E, HttpResponse>,
    bucket: &str,
    key: &str,
    operation: &'static str,
) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = err.as_service_error().and_then(|e| e.code()).unwrap_or("");
    // The raw HTTP status tells 403/404 apart when the reply has no error code.
    let status = err.raw_response().map(|r| r.status().as_u16());
    let (b, k) = (bucket.to_string(), key.to_string());
    if matches!(code, "NoSuchKey" | "NotFound" | "NoSuchBucket") || status == Some(404) {
        return StorageError::NotFound { bucket: b, key: k };
    }
    if matches!(code, "AccessDenied" | "Forbidden" | "AllAccessDisabled") || status == Some(403) {
        return StorageError::AccessDenied {
            bucket: b,
            key: k,
            operation,
        };
    }
    StorageError::Request {
        bucket: b,
        key: k,
        operation,
        detail: DisplayErrorContext(err).to_string(),
    }
}

/// Downloads `s3://bucket/key` into `dest` (which must not exist yet).
pub async fn download(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    dest: &Path,
) -> Result<u64, StorageError> {
    let resp = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| classify(&e, bucket, key, "GetObject"))?;
    let io_err = |source, operation| StorageError::Io {
        path: dest.to_path_buf(),
        operation,
        source,
    };
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
        .await
        .map_err(|e| io_err(e, "create"))?;
    let mut body = resp.body;
    let mut written = 0u64;
    while let Some(chunk) = body.try_next().await.map_err(|e| StorageError::Request {
        bucket: bucket.to_string(),
        key: key.to_string(),
        operation: "GetObject",
        detail: format!("reading the body: {e}"),
    })? {
        file.write_all(&chunk)
            .await
            .map_err(|e| io_err(e, "write"))?;
        written += chunk.len() as u64;
    }
    file.flush().await.map_err(|e| io_err(e, "write"))?;
    Ok(written)
}

/// Uploads the file at `path` to `s3://bucket/key`.
pub async fn upload_file(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    path: &Path,
    threshold: u64,
) -> Result<(), StorageError> {
    let io_err = |source, operation| StorageError::Io {
        path: path.to_path_buf(),
        operation,
        source,
    };
    let size = tokio::fs::metadata(path)
        .await
        .map_err(|e| io_err(e, "stat"))?
        .len();
    if size <= threshold {
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| io_err(std::io::Error::other(e), "read"))?;
        client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body)
            .send()
            .await
            .map_err(|e| classify(&e, bucket, key, "PutObject"))?;
        return Ok(());
    }
    let created = client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| classify(&e, bucket, key, "CreateMultipartUpload"))?;
    let upload_id = created.upload_id().unwrap_or_default().to_string();
    let result = upload_parts(client, bucket, key, path, &upload_id).await;
    if result.is_err() {
        // Leave no half-built object (or billed parts) behind.
        let _ = client
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .send()
            .await;
    }
    result
}

async fn upload_parts(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    path: &Path,
    upload_id: &str,
) -> Result<(), StorageError> {
    let io_err = |source, operation| StorageError::Io {
        path: path.to_path_buf(),
        operation,
        source,
    };
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| io_err(e, "open"))?;
    let mut parts = Vec::new();
    let mut number = 1;
    loop {
        let mut buf = Vec::with_capacity(MULTIPART_PART_SIZE);
        let mut reader = (&mut file).take(MULTIPART_PART_SIZE as u64);
        reader
            .read_to_end(&mut buf)
            .await
            .map_err(|e| io_err(e, "read"))?;
        if buf.is_empty() {
            break;
        }
        let last = buf.len() < MULTIPART_PART_SIZE;
        let part = client
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(buf))
            .send()
            .await
            .map_err(|e| classify(&e, bucket, key, "UploadPart"))?;
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(part.e_tag().map(str::to_string))
                .build(),
        );
        number += 1;
        if last {
            break;
        }
    }
    client
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .map_err(|e| classify(&e, bucket, key, "CompleteMultipartUpload"))?;
    Ok(())
}
