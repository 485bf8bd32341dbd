//! Retrying what passes with time: throttling, service failures and
//! concurrent changes, told apart by their [`ErrorKind`] alone.

use std::time::Duration;

use super::{CloudError, ErrorKind};

/// Retries `f` on what passes with time ([`CloudError::is_retryable`]:
/// throttling, a service failure, a concurrent change), with exponential
/// backoff (0.2 s doubling, at most 8 tries).
pub async fn retry<T, F, Fut>(f: F) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CloudError>>,
{
    retry_when(f, CloudError::is_retryable).await
}

/// Retries `f` on throttling and service failures only, with the same
/// backoff as [`retry`]: for a create, whose "already exists" and
/// conflicts are answers the caller handles (by reading what is there)
/// rather than something to repeat blindly.
pub async fn retry_throttled<T, F, Fut>(f: F) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CloudError>>,
{
    retry_when(f, |e| {
        matches!(e.kind, ErrorKind::Throttled | ErrorKind::Transient)
    })
    .await
}

async fn retry_when<T, F, Fut>(
    mut f: F,
    retryable: impl Fn(&CloudError) -> bool,
) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CloudError>>,
{
    let mut delay = Duration::from_millis(200);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match f().await {
            Err(e) if retryable(&e) && attempt < 8 => {
                tracing::debug!("{e}: retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            other => return other,
        }
    }
}
