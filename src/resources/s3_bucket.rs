//! `s3_bucket`: a bucket a function is triggered from or writes to. It
//! holds data, so it is never replaced, and deleted only when it is empty
//! and nobody else uses it (observed facts: its objects, others' triggers
//! on it, other workflows' functions tagged as using it). Another
//! workflow's or a foreign bucket is used as it is. Observed with one
//! HeadBucket and GetBucketTagging each (and, for one that may be deleted
//! or holds the workflow's triggers, its notification configuration).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::task::JoinSet;

use super::s3_notifications::{self, is_own_notification, other_triggers};
use super::support::{found_or_conflict, observed_tagged, s3_writes, scar_tags, triggers, wanted};
use super::{
    Desire, Found, KindRules, Observation, Outputs, PlanContext, Removal, Replacement, Step,
};
use crate::cloud::retry::{retry, retry_throttled};
use crate::cloud::{Cloud, CloudError, ErrorKind, NotificationConfig, TaggedResource, Tags};
use crate::model::{
    owner_of, Action, Addr, DesiredState, Kind, Observed, Owner, FACT_USED_BY, TAG_WORKFLOW,
};

pub struct S3Bucket;

/// A bucket's attributes: only scar's tags are compared.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BucketAttrs {
    pub tags: Tags,
}

/// Whether an observed bucket holds objects (checked only for one that may
/// be deleted).
const FACT_HAS_OBJECTS: &str = "has_objects";

impl KindRules for S3Bucket {
    fn protected(&self, m: &crate::manifest::Manifest) -> Vec<Addr> {
        m.buckets
            .iter()
            .filter(|(_, b)| b.prevent_destroy)
            .map(|(name, _)| addr(name))
            .collect()
    }

    fn other_workflow(&self, workflow: &str) -> Found {
        Found::Keep(format!("owned by workflow `{workflow}`: used as is"))
    }

    fn unmanaged(&self) -> Found {
        Found::Keep("exists and was not created by scar: used as is, never deleted".into())
    }

    fn in_stack(&self, stack: &str) -> Found {
        Found::Keep(format!(
            "is managed by the CloudFormation stack `{stack}`: used as is, never changed or deleted"
        ))
    }

    fn replacement(&self) -> Replacement {
        Replacement::Never
    }

    fn removal(&self, have: &Observed, _ctx: &PlanContext) -> Removal {
        if have.facts.get(FACT_HAS_OBJECTS) == Some(&Value::Bool(true)) {
            return Removal::Keep(
                "no longer in the manifests, but it holds objects: kept (scar never deletes data)"
                    .into(),
            );
        }
        let users: Vec<&str> = have
            .facts
            .get(FACT_USED_BY)
            .and_then(Value::as_array)
            .map(|u| u.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !users.is_empty() {
            return Removal::Keep(format!(
                "no longer in this workflow's manifests, but still used by {}: kept",
                users.join(", ")
            ));
        }
        Removal::no_longer_wanted()
    }

    fn tagged_in(&self) -> Option<&'static str> {
        Some("s3")
    }
}

/// A bucket's address.
pub fn addr(bucket: &str) -> Addr {
    Addr::new(Kind::S3Bucket, bucket)
}

/// The tag on a function that says it uses a bucket (`in`, `out` or
/// `in+out`): who still uses a bucket is one tagging query away.
pub fn bucket_use_tag(bucket: &str) -> String {
    format!("scar:bucket:{bucket}")
}

/// Every bucket a function is triggered from or writes to.
pub fn desire(d: &Desire, out: &mut DesiredState) {
    let buckets: BTreeSet<&str> = d
        .functions
        .iter()
        .flat_map(|f| triggers(f).chain(s3_writes(f)))
        .map(|(bucket, _)| bucket)
        .collect();
    for b in buckets {
        let a = addr(b);
        let attrs = BucketAttrs {
            tags: d.ownership_tags(),
        };
        out.add(wanted(a, &attrs));
    }
}

/// What one bucket's observation found.
struct Seen {
    name: String,
    tags: Option<Tags>,
    has_objects: Option<bool>,
    notifications: Option<NotificationConfig>,
    users: Vec<String>,
}

/// The buckets wanted, owned, or holding the workflow's triggers (its
/// functions hold a permission for them); their notification
/// configurations go to [`Observation::notifications`].
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    let owned: BTreeSet<String> = o
        .tagged
        .keys()
        .filter_map(|arn| arn.strip_prefix("arn:aws:s3:::").map(str::to_string))
        .collect();
    let wanted = o.wanted(Kind::S3Bucket);
    let buckets: BTreeSet<String> = wanted
        .iter()
        .chain(&owned)
        .chain(&o.trigger_buckets)
        .cloned()
        .collect();
    // Where this workflow's notification entries can be: where it wants
    // them, and wherever its functions hold an S3 permission (apply adds the
    // permission before the entry and removes the entry first).
    let notification_buckets: BTreeSet<String> = s3_notifications::wanted_buckets(o.desired)
        .into_iter()
        .chain(o.trigger_buckets.iter().cloned())
        .collect();
    let mut tasks = JoinSet::new();
    for b in buckets {
        let cloud = o.cloud.clone();
        let limit = o.limit.clone();
        // A bucket this workflow may delete: is it empty, and who else
        // uses it (their triggers on it, their functions' bucket tags)?
        let delete_candidate = owned.contains(&b) && !wanted.contains(&b);
        let read_notifications = notification_buckets.contains(&b) || delete_candidate;
        let workflow = o.workflow.to_string();
        tasks.spawn(async move {
            let _p = limit.acquire_owned().await;
            let Some(bucket) = cloud.get_bucket(&b).await? else {
                return Ok::<_, CloudError>(None);
            };
            let has_objects = if delete_candidate {
                Some(cloud.bucket_has_objects(&b).await?)
            } else {
                None
            };
            let notifications = if read_notifications {
                Some(cloud.get_notifications(&b).await?)
            } else {
                None
            };
            let mut users = Vec::new();
            if delete_candidate {
                if let Some(config) = &notifications {
                    users.extend(other_triggers(config, &workflow));
                }
                let use_tag = bucket_use_tag(&b);
                let tagged = cloud
                    .resources_with_tag(&use_tag, None, &["lambda"])
                    .await?;
                users.extend(other_functions(&tagged, &workflow, &use_tag));
            }
            Ok(Some(Seen {
                name: b,
                tags: bucket.tags,
                has_objects,
                notifications,
                users,
            }))
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let Ok(seen) = joined else { continue };
        let Some(seen) = seen? else { continue };
        let attrs = BucketAttrs {
            tags: scar_tags(seen.tags.as_ref()),
        };
        let mut found = observed_tagged(
            addr(&seen.name),
            &attrs,
            owner_of(seen.tags.as_ref(), o.workflow),
            seen.tags.as_ref(),
        );
        if let Some(h) = seen.has_objects {
            found
                .facts
                .insert(FACT_HAS_OBJECTS.to_string(), Value::Bool(h));
        }
        if !seen.users.is_empty() {
            found
                .facts
                .insert(FACT_USED_BY.to_string(), json!(seen.users));
        }
        o.insert(found);
        if let Some(config) = seen.notifications {
            o.notifications.insert(seen.name, config);
        }
    }
    Ok(())
}

/// The functions of other workflows that carry a bucket's use tag.
fn other_functions(tagged: &[TaggedResource], workflow: &str, use_tag: &str) -> Vec<String> {
    tagged
        .iter()
        .filter(|t| t.tags.get(TAG_WORKFLOW).map(String::as_str) != Some(workflow))
        .map(|t| {
            let function = t.arn.rsplit(':').next().unwrap_or_default();
            let how = match t.tags.get(use_tag).map(String::as_str) {
                Some("in") => "reads from it",
                Some("out") => "writes to it",
                _ => "reads from and writes to it",
            };
            match t.tags.get(TAG_WORKFLOW) {
                Some(other) => format!("function `{function}` of workflow `{other}` ({how})"),
                None => format!("function `{function}` ({how})"),
            }
        })
        .collect()
}

pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    let name = s.addr.name.as_str();
    // Checked again: objects or someone else's triggers may have
    // arrived since the plan.
    let others = retry(|| cloud.get_notifications(name))
        .await?
        .lambda
        .iter()
        .any(|n| !is_own_notification(s.workflow, &n.id, n.prefix.as_deref()));
    if others {
        tracing::warn!("bucket {name} holds another workflow's or foreign triggers now: kept");
    } else if retry(|| cloud.bucket_has_objects(name)).await? {
        tracing::warn!("bucket {name} holds objects now: kept");
    } else {
        retry(|| cloud.delete_bucket(name)).await?;
    }
    Ok(())
}

pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: BucketAttrs,
) -> Result<Outputs, CloudError> {
    let name = s.addr.name.as_str();
    let tags = &want.tags;
    if s.action == Action::Update {
        retry(|| cloud.put_bucket_tags(name, tags)).await?;
        return Ok(Outputs::new());
    }
    match retry_throttled(|| cloud.create_bucket(name, tags)).await {
        Ok(()) => {}
        // Another account's name: nothing to wait for or adopt.
        Err(e) if e.kind == ErrorKind::NameTaken => {
            return Err(CloudError::with_kind(
                format!("creating {}", s.addr),
                ErrorKind::NameTaken,
                BucketNameTaken {
                    name: name.to_string(),
                    source: e,
                },
            ))
        }
        Err(e) if found_or_conflict(&e) => {
            match retry(|| cloud.get_bucket(name)).await? {
                // Already ours (BucketAlreadyOwnedByYou): with this
                // workflow's tags, bring them in line; anyone else's is
                // used as is, as the plan does with a bucket it finds.
                Some(bucket) => {
                    if owner_of(bucket.tags.as_ref(), s.workflow) == Owner::Workflow {
                        retry(|| cloud.put_bucket_tags(name, tags)).await?;
                    }
                }
                // Not there: a passing conflict (OperationAborted right
                // after a delete); try again, retrying it.
                None => retry(|| cloud.create_bucket(name, tags)).await?,
            }
        }
        Err(e) => return Err(e),
    }
    Ok(Outputs::new())
}

/// A bucket name someone else holds: S3 bucket names are global.
#[derive(Debug, thiserror::Error)]
#[error("the bucket name `{name}` belongs to another AWS account (S3 bucket names are global across all accounts); choose another bucket name in the manifest")]
struct BucketNameTaken {
    name: String,
    #[source]
    source: CloudError,
}
