//! Output upload: every regular file under `TMP_OUTPUT_DIR` (recursively) goes
//! to every `output[]` entry whose `prefix`/`suffix` filters match, at key
//! `<folder>/<relative path>` as SCAR lays it out. Uploads run concurrently;
//! a failure of any of them fails the invocation, naming what did and did
//! not get uploaded.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::OutputSpec;
use crate::storage::{split_path, upload_file, Storage, StorageError};

/// Uploads running at once.
pub const CONCURRENCY: usize = 8;

/// One file to one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedUpload {
    pub local: PathBuf,
    pub provider: String,
    pub bucket: String,
    pub key: String,
}

/// Why the outputs could not all be uploaded.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("cannot list the output folder {}", path.display())]
    Walk {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("output file {} has a name that is not UTF-8, so it cannot become an S3 key", .0.display())]
    NonUtf8Name(PathBuf),
    #[error("{failed} of {total} output uploads failed (uploaded: {uploaded:?})")]
    Failed {
        failed: usize,
        total: usize,
        uploaded: Vec<String>,
        #[source]
        first: Box<StorageError>,
    },
}

/// Regular files under `dir` (symlinks to files are followed, to folders are
/// not), with their `/`-separated paths relative to `dir`, sorted.
pub fn collect_files(dir: &Path) -> Result<Vec<(PathBuf, String)>, UploadError> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let entries = std::fs::read_dir(&current).map_err(|source| UploadError::Walk {
            path: current.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| UploadError::Walk {
                path: current.clone(),
                source,
            })?;
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            let is_file = kind.is_file()
                || (kind.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_file()));
            if !is_file {
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_str()
                .ok_or_else(|| UploadError::NonUtf8Name(path.clone()))?
                .trim()
                .trim_start_matches('/')
                .to_string();
            if !rel.is_empty() {
                files.push((path, rel));
            }
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(files)
}

/// SCAR's filter: no (or empty) `prefix` list, or any prefix matches; and the same for `suffix`.
pub fn matches(rel: &str, spec: &OutputSpec) -> bool {
    let prefix_ok =
        spec.prefix.is_empty() || spec.prefix.iter().any(|p| rel.starts_with(p.as_str()));
    let suffix_ok = spec.suffix.is_empty() || spec.suffix.iter().any(|s| rel.ends_with(s.as_str()));
    prefix_ok && suffix_ok
}

/// Every (file, output) pair that passes the filters.
pub fn plan(files: &[(PathBuf, String)], outputs: &[OutputSpec]) -> Vec<PlannedUpload> {
    let mut planned = Vec::new();
    for spec in outputs {
        let (bucket, folder) = split_path(&spec.path);
        for (local, rel) in files {
            if !matches(rel, spec) {
                continue;
            }
            let key = if folder.is_empty() {
                rel.clone()
            } else {
                format!("{folder}/{rel}")
            };
            planned.push(PlannedUpload {
                local: local.clone(),
                provider: spec.storage_provider.clone(),
                bucket: bucket.clone(),
                key,
            });
        }
    }
    planned
}

/// Runs the uploads, at most [`CONCURRENCY`] at a time. Returns the `s3://` URIs written.
pub async fn upload_all(
    storage: &Storage,
    planned: Vec<PlannedUpload>,
    multipart_threshold: u64,
) -> Result<Vec<String>, UploadError> {
    let total = planned.len();
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut set = JoinSet::new();
    for up in planned {
        let client = storage.client(&up.provider);
        let permits = permits.clone();
        set.spawn(async move {
            let uri = format!("s3://{}/{}", up.bucket, up.key);
            let client = client?;
            let _permit = permits.acquire_owned().await.ok();
            upload_file(&client, &up.bucket, &up.key, &up.local, multipart_threshold).await?;
            tracing::info!(%uri, "uploaded output");
            Ok::<String, StorageError>(uri)
        });
    }
    let mut uploaded = Vec::new();
    let mut errors = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(uri)) => uploaded.push(uri),
            Ok(Err(e)) => errors.push(e),
            Err(join) => errors.push(StorageError::Io {
                path: PathBuf::new(),
                operation: "upload task",
                source: std::io::Error::other(join.to_string()),
            }),
        }
    }
    uploaded.sort();
    if errors.is_empty() {
        return Ok(uploaded);
    }
    Err(UploadError::Failed {
        failed: errors.len(),
        total,
        uploaded,
        first: Box::new(errors.remove(0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(path: &str, prefix: &[&str], suffix: &[&str]) -> OutputSpec {
        OutputSpec {
            storage_provider: "s3".into(),
            path: path.into(),
            prefix: prefix.iter().map(|s| s.to_string()).collect(),
            suffix: suffix.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn filters_and_keys_follow_scar() {
        let files = vec![
            (PathBuf::from("/o/a.png"), "a.png".to_string()),
            (PathBuf::from("/o/sub/b.wav"), "sub/b.wav".to_string()),
            (PathBuf::from("/o/log.txt"), "log.txt".to_string()),
        ];
        let outputs = vec![
            spec("bucket/out/", &[], &[".png", ".wav"]),
            spec("other", &["sub/"], &[]),
            spec("third/deep/er", &[], &[]),
        ];
        let keys: Vec<_> = plan(&files, &outputs)
            .into_iter()
            .map(|p| format!("{}:{}", p.bucket, p.key))
            .collect();
        assert_eq!(
            keys,
            vec![
                "bucket:out/a.png",
                "bucket:out/sub/b.wav",
                "other:sub/b.wav",
                "third:deep/er/a.png",
                "third:deep/er/sub/b.wav",
                "third:deep/er/log.txt",
            ]
        );
    }

    #[test]
    fn walk_is_recursive_and_skips_dir_symlinks() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("x/y")).unwrap();
        std::fs::write(d.path().join("x/y/f.txt"), b"1").unwrap();
        std::fs::write(d.path().join("top"), b"2").unwrap();
        std::os::unix::fs::symlink(d.path().join("x"), d.path().join("loop")).unwrap();
        let rels: Vec<_> = collect_files(d.path())
            .unwrap()
            .into_iter()
            .map(|f| f.1)
            .collect();
        assert_eq!(rels, vec!["top", "x/y/f.txt"]);
    }
}
