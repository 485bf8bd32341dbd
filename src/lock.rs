//! Workflow locks: two applies (or destroys) of one workflow never
//! interleave. A lock is a small JSON object ([`LockInfo`]: its id, who
//! holds it, since when, for which command) in an S3 bucket the user names,
//! written with a conditional put (`If-None-Match: *`), so that of racing
//! acquirers exactly one wins, and removed with a conditional delete
//! (`If-Match` its ETag) by its holder only. Without a bucket, a lock file
//! in the working folder (created exclusively), which guards one machine
//! only.
//!
//! The lock is taken before the account is read for the plan and released
//! after the last change, so a plan never sees the account half-way through
//! another apply. A lock left by a run that was killed stays until
//! `scar force-unlock ID` removes it, given its id.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use crate::cloud::S3Api;

/// Where a workflow's lock lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Store {
    /// An object in an S3 bucket.
    Bucket { bucket: String, key: String },
    /// A file on this machine.
    File(PathBuf),
}

impl Store {
    /// Where the lock is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Store::Bucket { bucket, key } => format!("s3://{bucket}/{key}"),
            Store::File(p) => p.display().to_string(),
        }
    }

    /// The lock file of `workflow` in `dir`.
    pub fn file_in(dir: &Path, workflow: &str) -> Store {
        Store::File(dir.join(format!(".scar-{workflow}.lock")))
    }
}

/// What a lock says of its holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Random; `force-unlock` needs it.
    pub id: String,
    pub workflow: String,
    /// `user@host`.
    pub who: String,
    /// The CI run that holds it, where the CI says (GitHub Actions,
    /// GitLab, Jenkins, CircleCI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_run: Option<String>,
    /// `apply` or `destroy`.
    pub command: String,
    /// When it was taken (RFC 3339, UTC).
    pub created: String,
    pub pid: u32,
}

impl LockInfo {
    /// A new lock of `workflow` for `command`, held by `owner`, with a
    /// random id.
    pub fn new(workflow: &str, command: &str, owner: &Owner) -> LockInfo {
        let mut bytes = [0u8; 8];
        if getrandom::fill(&mut bytes).is_err() {
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            bytes = (nanos as u64 ^ u64::from(std::process::id())).to_be_bytes();
        }
        LockInfo {
            id: crate::hash::hex(&bytes),
            workflow: workflow.to_string(),
            who: owner.who.clone(),
            ci_run: owner.ci_run.clone(),
            command: command.to_string(),
            created: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            pid: std::process::id(),
        }
    }

    /// How long it has been held, if its time can be read.
    pub fn age(&self) -> Option<Duration> {
        let created = humantime::parse_rfc3339(&self.created).ok()?;
        SystemTime::now().duration_since(created).ok()
    }

    /// The holder, as messages name it.
    pub fn describe(&self) -> String {
        let age = self
            .age()
            .map(|a| {
                let secs = Duration::from_secs(a.as_secs());
                format!(", {} ago", humantime::format_duration(secs))
            })
            .unwrap_or_default();
        let ci = self
            .ci_run
            .as_deref()
            .map(|u| format!(", CI run {u}"))
            .unwrap_or_default();
        format!(
            "{} (scar {}, since {}{age}{ci}; lock id {})",
            self.who, self.command, self.created, self.id
        )
    }
}

/// Who takes a lock: from the settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Owner {
    pub who: String,
    pub ci_run: Option<String>,
}

/// Why a lock was not taken or removed.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("workflow `{workflow}` is locked by {holder} at {at}")]
    Held {
        workflow: String,
        holder: String,
        at: String,
        id: String,
    },
    #[error("the lock bucket `{bucket}` does not exist or cannot be reached")]
    NoBucket { bucket: String },
    #[error("workflow `{workflow}` is not locked at {at}")]
    NotLocked { workflow: String, at: String },
    #[error("the lock at {at} has id {actual}, not {given}: it is held by {holder}")]
    OtherId {
        at: String,
        given: String,
        actual: String,
        holder: String,
    },
    #[error("the lock at {at} cannot be read: {why}")]
    Unreadable { at: String, why: String },
    #[error("{0}")]
    Cloud(#[from] crate::cloud::CloudError),
    #[error("the lock file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl LockError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            LockError::Held { id, .. } => Some(format!(
                "wait for it (`--lock-timeout 5m` waits), or, if that run died, remove the lock with `scar force-unlock {id}` and the same -f and lock options"
            )),
            LockError::NoBucket { bucket } => Some(format!(
                "create the bucket `{bucket}` (scar never creates or deletes the lock bucket), or name another with --lock-bucket or `lock.bucket`"
            )),
            LockError::OtherId { .. } => Some(
                "pass the id the lock holds; check that its holder is really gone first".into(),
            ),
            _ => None,
        }
    }
}

/// A lock this run holds; [`release`] it when done.
#[derive(Debug)]
pub struct Held {
    pub store: Store,
    pub info: LockInfo,
}

/// Takes the lock, waiting up to `timeout` while another run holds it
/// (`on_wait` hears of the holder once). Fails naming the holder.
pub async fn acquire<C: S3Api>(
    cloud: &C,
    store: &Store,
    info: LockInfo,
    timeout: Duration,
    on_wait: &(dyn Fn(&LockInfo) + Sync),
) -> Result<Held, LockError> {
    let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
    let started = Instant::now();
    let mut told = false;
    let mut pause = Duration::from_millis(250);
    loop {
        let taken = match store {
            Store::Bucket { bucket, key } => {
                match cloud.put_object_if_absent(bucket, key, &body).await {
                    Ok(taken) => taken,
                    Err(e) if e.kind == crate::cloud::ErrorKind::NotFound => {
                        return Err(LockError::NoBucket {
                            bucket: bucket.clone(),
                        })
                    }
                    // Another conditional write of the key under way.
                    Err(e) if e.is_retryable() => false,
                    Err(e) => return Err(e.into()),
                }
            }
            Store::File(path) => create_file(path, &body)?,
        };
        if taken {
            return Ok(Held {
                store: store.clone(),
                info,
            });
        }
        let Some((holder, _)) = read(cloud, store).await? else {
            // Released between the two calls: try again at once.
            continue;
        };
        if started.elapsed() >= timeout {
            return Err(LockError::Held {
                workflow: info.workflow.clone(),
                holder: holder.describe(),
                at: store.describe(),
                id: holder.id,
            });
        }
        if !told {
            on_wait(&holder);
            told = true;
        }
        let left = timeout.saturating_sub(started.elapsed());
        tokio::time::sleep(pause.min(left)).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// Releases a lock this run holds: removed only if it is still this run's
/// (its id, and in a bucket its ETag, unchanged).
pub async fn release<C: S3Api>(cloud: &C, held: &Held) -> Result<(), LockError> {
    remove(cloud, &held.store, &held.info.id).await.map(|_| ())
}

/// `scar force-unlock ID`: removes the lock if it has `id`; returns what
/// it said.
pub async fn force_unlock<C: S3Api>(
    cloud: &C,
    store: &Store,
    workflow: &str,
    id: &str,
) -> Result<LockInfo, LockError> {
    match remove(cloud, store, id).await? {
        Some(info) => Ok(info),
        None => Err(LockError::NotLocked {
            workflow: workflow.to_string(),
            at: store.describe(),
        }),
    }
}

/// Removes the lock if its id is `id`: what it said, or `None` when
/// there is none.
async fn remove<C: S3Api>(
    cloud: &C,
    store: &Store,
    id: &str,
) -> Result<Option<LockInfo>, LockError> {
    let Some((info, etag)) = read(cloud, store).await? else {
        return Ok(None);
    };
    if info.id != id {
        return Err(LockError::OtherId {
            at: store.describe(),
            given: id.to_string(),
            actual: info.id.clone(),
            holder: info.describe(),
        });
    }
    match store {
        Store::Bucket { bucket, key } => {
            if !cloud.delete_object_if_match(bucket, key, &etag).await? {
                // Replaced between the read and the delete: by another
                // holder, whose lock stays.
                return Err(LockError::OtherId {
                    at: store.describe(),
                    given: id.to_string(),
                    actual: "(changed meanwhile)".into(),
                    holder: "another run".into(),
                });
            }
        }
        Store::File(path) => match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(LockError::Io {
                    path: path.display().to_string(),
                    source,
                })
            }
        },
    }
    Ok(Some(info))
}

/// The lock there is, with its ETag (files: its content's hash).
pub async fn read<C: S3Api>(
    cloud: &C,
    store: &Store,
) -> Result<Option<(LockInfo, String)>, LockError> {
    let (body, etag) = match store {
        Store::Bucket { bucket, key } => match cloud.get_object(bucket, key).await {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(None),
            Err(e) if e.kind == crate::cloud::ErrorKind::NotFound => {
                return Err(LockError::NoBucket {
                    bucket: bucket.clone(),
                })
            }
            Err(e) => return Err(e.into()),
        },
        Store::File(path) => match std::fs::read(path) {
            Ok(body) => {
                let etag = crate::hash::hex_sha256(&body);
                (body, etag)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(LockError::Io {
                    path: path.display().to_string(),
                    source,
                })
            }
        },
    };
    let info = serde_json::from_slice(&body).map_err(|e| LockError::Unreadable {
        at: store.describe(),
        why: e.to_string(),
    })?;
    Ok(Some((info, etag)))
}

/// Creates the lock file if there is none (`O_EXCL`): whether it did.
fn create_file(path: &Path, body: &[u8]) -> Result<bool, LockError> {
    use std::io::Write;
    let io = |source| LockError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut f) => {
            f.write_all(body).map_err(io)?;
            f.sync_all().map_err(io)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::memory::MemoryCloud;

    fn owner(who: &str) -> Owner {
        Owner {
            who: who.into(),
            ci_run: Some("https://ci.example/run/7".into()),
        }
    }

    #[tokio::test]
    async fn a_held_lock_names_its_holder_and_only_its_id_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let cloud = MemoryCloud::new();
        let store = Store::file_in(dir.path(), "wf");
        let quiet = |_: &LockInfo| {};
        let first = acquire(
            &cloud,
            &store,
            LockInfo::new("wf", "apply", &owner("alice@a")),
            Duration::ZERO,
            &quiet,
        )
        .await
        .unwrap();
        let e = acquire(
            &cloud,
            &store,
            LockInfo::new("wf", "apply", &owner("bob@b")),
            Duration::ZERO,
            &quiet,
        )
        .await
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("alice@a")
                && text.contains(&first.info.id)
                && text.contains("ci.example"),
            "{text}"
        );
        assert!(e.hint().unwrap().contains("force-unlock"));
        let wrong = force_unlock(&cloud, &store, "wf", "0000")
            .await
            .unwrap_err();
        assert!(matches!(wrong, LockError::OtherId { .. }), "{wrong}");
        let removed = force_unlock(&cloud, &store, "wf", &first.info.id)
            .await
            .unwrap();
        assert_eq!(removed.who, "alice@a");
        assert!(read(&cloud, &store).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_waiting_run_gets_the_lock_once_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let cloud = std::sync::Arc::new(MemoryCloud::new());
        let store = Store::file_in(dir.path(), "wf");
        let quiet = |_: &LockInfo| {};
        let held = acquire(
            &*cloud,
            &store,
            LockInfo::new("wf", "apply", &owner("a")),
            Duration::ZERO,
            &quiet,
        )
        .await
        .unwrap();
        let (c2, s2) = (cloud.clone(), store.clone());
        let waiter = tokio::spawn(async move {
            let heard = std::sync::atomic::AtomicBool::new(false);
            let on_wait = |_: &LockInfo| heard.store(true, std::sync::atomic::Ordering::SeqCst);
            let got = acquire(
                &*c2,
                &s2,
                LockInfo::new("wf", "destroy", &owner("b")),
                Duration::from_secs(20),
                &on_wait,
            )
            .await;
            (got.map(|h| h.info.who), heard.into_inner())
        });
        tokio::time::sleep(Duration::from_millis(400)).await;
        release(&*cloud, &held).await.unwrap();
        let (got, heard) = waiter.await.unwrap();
        assert_eq!(got.unwrap(), "b");
        assert!(heard, "the waiter was told who held it");
    }
}
