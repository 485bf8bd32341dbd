//! The previous package of each function whose code is about to change:
//! its init script and config, so that the plan shows them as a diff. The
//! account reports only the package's hash; the text comes from the local
//! package cache (every package scar builds is remembered by hash), else
//! from reading the package back from Lambda (for a zip; an image's
//! view is only in the cache, by digest) (GetFunction's presigned
//! `Code.Location`, checked against the hash). Only functions whose hash
//! differs are read, so a plan without code changes makes no extra request.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{ATTR_CODE_SHA256, ATTR_FUNCTION_CONFIG, ATTR_IMAGE_URI, ATTR_INIT_SCRIPT};
use crate::cloud::{Cloud, PackageFetch};
use crate::model::{DesiredState, ObservedState, Owner, FACT_PACKAGE_UNREADABLE};
use crate::package::{self, Cache, View};
use crate::resources::CONCURRENCY;

/// Adds `init_script` and `function_config` (or why they cannot be read)
/// to every owned function whose `code_sha256` differs from the desired one.
pub async fn previous_packages<C: Cloud>(
    cloud: Arc<C>,
    desired: &DesiredState,
    observed: &mut ObservedState,
    cache: Option<&Cache>,
) {
    let mut todo = Vec::new();
    for addr in super::desired(desired) {
        let (Some(want), Some(have)) =
            (desired.resources.get(&addr), observed.resources.get(&addr))
        else {
            continue;
        };
        // A zip's hash, or an image's digest (the cache knows both).
        let sha = |a: &crate::model::Attrs| {
            a.get(ATTR_CODE_SHA256)
                .and_then(Value::as_str)
                .or_else(|| {
                    a.get(ATTR_IMAGE_URI)
                        .and_then(Value::as_str)
                        .and_then(|u| u.rsplit_once('@'))
                        .map(|(_, d)| d)
                })
                .unwrap_or_default()
                .to_string()
        };
        let old = sha(&have.attrs);
        if have.owner != Owner::Workflow || old.is_empty() || old == sha(&want.attrs) {
            continue;
        }
        todo.push((addr, old));
    }
    let requests_before = cloud.requests().total();
    let mut found: Vec<(crate::model::Addr, Result<View, String>)> = Vec::new();
    let limit = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    for (addr, sha) in todo {
        if let Some(view) = cache.and_then(|c| c.recall(&sha)) {
            found.push((addr, Ok(view)));
            continue;
        }
        let cloud = cloud.clone();
        let limit = limit.clone();
        let cache = cache.cloned();
        tasks.spawn(async move {
            let _p = limit.acquire_owned().await;
            let view = match cloud.function_code(&addr.name).await {
                Ok(PackageFetch::Zip(zip)) => package::inspect(&zip)
                    .ok_or_else(|| "the deployed package was not built by scar".to_string()),
                Ok(PackageFetch::Image { uri, .. }) => Err(format!(
                    "the function runs the image {uri}: its script is inside the image"
                )),
                Ok(PackageFetch::Unavailable(why)) => Err(why),
                Err(e) => Err(e.chain_text()),
            };
            if let (Ok(v), Some(c)) = (&view, &cache) {
                c.remember(&sha, v);
            }
            (addr, view)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok(r) = joined {
            found.push(r);
        }
    }
    observed.requests += cloud.requests().total() - requests_before;
    for (addr, view) in found {
        let Some(have) = observed.resources.get_mut(&addr) else {
            continue;
        };
        match view {
            Ok(v) => {
                have.attrs.insert(
                    ATTR_INIT_SCRIPT.into(),
                    v.script.map(Value::String).unwrap_or(Value::Null),
                );
                have.attrs
                    .insert(ATTR_FUNCTION_CONFIG.into(), Value::String(v.config));
            }
            Err(why) => {
                tracing::debug!("{addr}: previous package not readable: {why}");
                have.facts
                    .insert(FACT_PACKAGE_UNREADABLE.into(), Value::String(why));
            }
        }
    }
}
