//! S3-compatible storage: which client serves a `storage_provider` reference
//! (`s3`, `s3.<id>`, `minio.<id>`), downloads that stream to disk, and uploads
//! that switch to multipart for large files. Error messages name the object
//! and say whether it was missing, forbidden or something else; they never
//! include credentials.

mod transfer;

use aws_config::SdkConfig;
use aws_sdk_s3::config::{Credentials, Region};

use crate::config::StorageProviders;

pub use transfer::{download, upload_file, MULTIPART_PART_SIZE, MULTIPART_THRESHOLD};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage provider `{0}` is not supported by this supervisor (only s3 and minio)")]
    Unsupported(String),
    #[error(
        "storage provider `{0}` is not defined in storage_providers or lacks access_key/secret_key"
    )]
    UnknownProvider(String),
    #[error("the object s3://{bucket}/{key} does not exist")]
    NotFound { bucket: String, key: String },
    #[error("access denied to s3://{bucket}/{key} ({operation})")]
    AccessDenied {
        bucket: String,
        key: String,
        operation: &'static str,
    },
    #[error("{operation} s3://{bucket}/{key} failed: {detail}")]
    Request {
        bucket: String,
        key: String,
        operation: &'static str,
        detail: String,
    },
    #[error("{operation} {} failed", path.display())]
    Io {
        path: std::path::PathBuf,
        operation: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// Makes S3 clients for the providers of one function config.
#[derive(Clone)]
pub struct Storage {
    base: SdkConfig,
    providers: StorageProviders,
}

impl Storage {
    pub fn new(base: SdkConfig, providers: StorageProviders) -> Self {
        Storage { base, providers }
    }

    /// The client for a reference such as `s3`, `S3.default`, `s3.other`, `minio.local`.
    pub fn client(&self, reference: &str) -> Result<aws_sdk_s3::Client, StorageError> {
        let (kind, id) = match reference.split_once('.') {
            Some((k, id)) => (k.to_ascii_lowercase(), id.to_string()),
            None => (reference.to_ascii_lowercase(), "default".to_string()),
        };
        let mut builder = aws_sdk_s3::config::Builder::from(&self.base).force_path_style(true);
        let named = match kind.as_str() {
            "s3" => self.providers.s3.get(&id),
            "minio" => self.providers.minio.get(&id),
            _ => return Err(StorageError::Unsupported(reference.to_string())),
        };
        match named {
            Some(p) => {
                let (Some(ak), Some(sk)) = (&p.access_key, &p.secret_key) else {
                    return Err(StorageError::UnknownProvider(reference.to_string()));
                };
                builder = builder.credentials_provider(Credentials::new(
                    ak.clone(),
                    sk.0.clone(),
                    None,
                    None,
                    "scar-storage-provider",
                ));
                if let Some(region) = &p.region {
                    builder = builder.region(Region::new(region.clone()));
                }
                if let Some(endpoint) = &p.endpoint {
                    builder = builder.endpoint_url(endpoint.clone());
                }
            }
            // `default` (or no entry) means the function's own role.
            None if id == "default" && kind == "s3" => {}
            None => return Err(StorageError::UnknownProvider(reference.to_string())),
        }
        Ok(aws_sdk_s3::Client::from_conf(builder.build()))
    }
}

/// `bucket/folder/sub` → (`bucket`, `folder/sub`).
pub fn split_path(path: &str) -> (String, String) {
    let trimmed = path.trim().trim_matches('/');
    match trimmed.split_once('/') {
        Some((bucket, rest)) => (bucket.to_string(), rest.trim_matches('/').to_string()),
        None => (trimmed.to_string(), String::new()),
    }
}
