//! Reads the account once, read-only, into an immutable [`ObservedState`]
//! normalized like the desired one, by asking every kind
//! ([`crate::resources::observe`], in the registry's order). What the
//! workflow owns is read once for all kinds, by tag (GetResources, 100
//! tagged resources a page); each kind uses list APIs rather than one call
//! per resource where AWS has them, under one bound on concurrency.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::Semaphore;

pub use crate::resources::previous_packages;
pub use crate::resources::CONCURRENCY;

use crate::cloud::{Cloud, CloudError};
use crate::image::registry::Registries;
use crate::model::{DesiredState, Kind, ObservedState, TAG_WORKFLOW};
use crate::resources::{self, Observation};

/// Observes what `desired` needs and what the workflow owns.
pub async fn observe<C: Cloud>(
    cloud: Arc<C>,
    desired: &DesiredState,
) -> Result<ObservedState, CloudError> {
    observe_with(cloud, desired, None).await
}

/// [`observe`], reading the function images from `registries`.
pub async fn observe_with<C: Cloud>(
    cloud: Arc<C>,
    desired: &DesiredState,
    registries: Option<Arc<Registries>>,
) -> Result<ObservedState, CloudError> {
    observe_scoped(cloud, desired, registries, None).await
}

/// [`observe_with`] of only the kinds in `scope` (`None`: all).
pub async fn observe_scoped<C: Cloud>(
    cloud: Arc<C>,
    desired: &DesiredState,
    registries: Option<Arc<Registries>>,
    scope: Option<BTreeSet<Kind>>,
) -> Result<ObservedState, CloudError> {
    let w = desired.workflow.as_str();
    let requests_before = cloud.requests().total();
    let tagged = cloud
        .resources_with_tag(TAG_WORKFLOW, Some(w), &resources::tagged_services())
        .await?;
    let mut o = Observation {
        cloud: cloud.clone(),
        desired,
        workflow: w,
        tagged: tagged.into_iter().map(|t| (t.arn, t.tags)).collect(),
        limit: Arc::new(Semaphore::new(CONCURRENCY)),
        layers_in_use: Default::default(),
        trigger_buckets: Default::default(),
        notifications: BTreeMap::new(),
        registries,
        scope,
        out: ObservedState::default(),
    };
    resources::observe(&mut o).await?;
    let mut out = o.out;
    out.requests = cloud.requests().total() - requests_before;
    Ok(out)
}
