//! `s3_notifications`: this workflow's entries in a bucket's notification
//! configuration (others' entries are never touched). Each entry's id is
//! deterministic and checkable ([`notification_id`]), so ownership is
//! exact. Rewritten in place (read, modify, write); it needs its bucket
//! and the permissions that let S3 invoke its functions. Observed from
//! the configurations `s3_bucket` reads.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::support::{observed, to_attrs, triggers};
use super::{
    lambda_function, lambda_permission, s3_bucket, Desire, Fingerprint, Found, KindRules,
    Observation, Outputs, PlanContext, Removal, Replacement, Step,
};
use crate::cloud::retry::retry;
use crate::cloud::{Cloud, CloudError, LambdaNotification, NotificationConfig};
use crate::model::{Addr, Attrs, DesiredState, Kind, Observed, ObservedState, Owner, Resource};

pub struct S3Notifications;

/// The workflow's entries of one bucket, sorted by id.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NotificationsAttrs {
    pub entries: Vec<Entry>,
}

/// One notification entry: S3 invokes `function_arn` on `events` under
/// `prefix`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub function_arn: String,
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

impl KindRules for S3Notifications {
    fn fingerprint(&self) -> Fingerprint {
        // Each entry's id is a hash of what it triggers on.
        Fingerprint::InId
    }

    /// Each entry of `old` gets the id `new` would give it (the id names
    /// the workflow).
    fn renamed(&self, have: &Observed, old: &str, new: &str) -> Option<Attrs> {
        let attrs: NotificationsAttrs = serde_json::from_value(serde_json::Value::Object(
            have.attrs.clone().into_iter().collect(),
        ))
        .ok()?;
        let prefix = format!("scar-{old}-");
        let entries = attrs
            .entries
            .into_iter()
            .map(|mut e| {
                let function =
                    e.id.strip_prefix(&prefix)
                        .and_then(|rest| rest.rsplit_once('-'))
                        .map(|(f, _)| f.to_string());
                if let Some(function) = function {
                    e.id = notification_id(new, &function, e.prefix.as_deref().unwrap_or(""));
                }
                e
            })
            .collect();
        Some(to_attrs(&NotificationsAttrs { entries }))
    }

    /// The entries that are there, each as the manifests want it under its
    /// id (an id they no longer want: as it is), so that an entry edited
    /// behind scar's back is drift and a trigger the manifests changed
    /// (a new id) is pending.
    fn applied_by_id(&self, have: &Observed, want: &Attrs) -> Attrs {
        let entries = |attrs: &Attrs| {
            attrs
                .get("entries")
                .and_then(|e| serde_json::from_value::<Vec<Entry>>(e.clone()).ok())
                .unwrap_or_default()
        };
        let wanted = entries(want);
        let applied: Vec<Entry> = entries(&have.attrs)
            .into_iter()
            .map(|e| wanted.iter().find(|w| w.id == e.id).cloned().unwrap_or(e))
            .collect();
        to_attrs(&NotificationsAttrs { entries: applied })
    }

    fn unmanaged(&self) -> Found {
        // Only entries whose ids are this workflow's are ever observed.
        Found::Adopt(None)
    }

    fn replacement(&self) -> Replacement {
        Replacement::InPlace
    }

    fn needs(&self, have: &Observed, observed: &ObservedState) -> Vec<Addr> {
        let bucket = have.addr.name.as_str();
        let mut deps = lambda_permission::for_bucket(observed, bucket);
        deps.push(s3_bucket::addr(bucket));
        deps
    }

    fn removal(&self, _have: &Observed, _ctx: &PlanContext) -> Removal {
        Removal::Delete {
            reason: "this workflow's entries are no longer wanted; other entries are kept".into(),
            after: Vec::new(),
        }
    }
}

/// The id of a notification entry scar owns: deterministic, readable
/// (`scar-<workflow>-<function>-<check>`), and checkable: `<check>` is a
/// hash of the workflow, the function and the entry's prefix, so that
/// ownership is decided exactly ([`is_own_notification`]), never by a
/// string prefix (`scar-vid-` is a prefix of workflow `vid-x`'s ids).
pub fn notification_id(workflow: &str, function: &str, prefix: &str) -> String {
    format!(
        "scar-{workflow}-{function}-{}",
        notification_check(workflow, function, prefix)
    )
}

fn notification_check(workflow: &str, function: &str, prefix: &str) -> String {
    let h = crate::hash::hex_sha256(format!("{workflow}\0{function}\0{prefix}").as_bytes());
    h[..8].to_string()
}

/// Whether a notification entry (its id and its filter prefix) is one that
/// `workflow` wrote: its id is exactly the one [`notification_id`] gives
/// for some function of that workflow and that prefix.
pub fn is_own_notification(workflow: &str, id: &str, prefix: Option<&str>) -> bool {
    let Some(rest) = id.strip_prefix(&format!("scar-{workflow}-")) else {
        return false;
    };
    let Some((function, check)) = rest.rsplit_once('-') else {
        return false;
    };
    !function.is_empty() && check == notification_check(workflow, function, prefix.unwrap_or(""))
}

/// The workflow a scar notification id names, if it is one: the reading
/// of `scar-<workflow>-<function>-<check>` whose check holds.
pub fn notification_workflow(id: &str, prefix: Option<&str>) -> Option<String> {
    let rest = id.strip_prefix("scar-")?;
    let (head, _) = rest.rsplit_once('-')?;
    head.match_indices('-')
        .map(|(i, _)| &head[..i])
        .filter(|w| is_own_notification(w, id, prefix))
        .map(str::to_string)
        .next()
}

/// The buckets where the desired state wants entries.
pub fn wanted_buckets(d: &DesiredState) -> BTreeSet<String> {
    d.resources
        .keys()
        .filter(|a| a.kind == Kind::S3Notifications)
        .map(|a| a.name.clone())
        .collect()
}

/// One entry per trigger, grouped by bucket.
pub fn desire(d: &Desire, out: &mut DesiredState) {
    let mut by_bucket: BTreeMap<&str, Resource> = BTreeMap::new();
    let mut entries: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
    for f in d.functions {
        let name = f.name();
        for (bucket, folder) in triggers(f) {
            let prefix = (!folder.is_empty()).then(|| format!("{folder}/"));
            entries.entry(bucket).or_default().push(Entry {
                id: notification_id(d.workflow, name, prefix.as_deref().unwrap_or("")),
                function_arn: lambda_function::arn(d.ctx, name),
                events: vec!["s3:ObjectCreated:*".into()],
                prefix,
                suffix: None,
            });
            let r = by_bucket.entry(bucket).or_insert_with(|| {
                Resource::new(Addr::new(Kind::S3Notifications, bucket)).dep(s3_bucket::addr(bucket))
            });
            r.deps.insert(lambda_permission::addr(name, bucket));
        }
    }
    for (bucket, mut r) in by_bucket {
        let mut list = entries.remove(bucket).unwrap_or_default();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        r.attrs = to_attrs(&NotificationsAttrs { entries: list });
        out.add(r);
    }
}

/// The workflow's entries in the configurations `s3_bucket` read.
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    let functions = lambda_function::owned_arns(&o.out);
    let found: Vec<Observed> = o
        .notifications
        .iter()
        .filter_map(|(bucket, config)| {
            notifications_observed(bucket, config, o.workflow, &functions)
        })
        .collect();
    for f in found {
        o.insert(f);
    }
    Ok(())
}

/// The workflow's entries of a bucket's notification configuration, as
/// desire writes them; `None` if it has none. Ownership is exact
/// ([`is_own_notification`]): another workflow's entries are never taken
/// for this one's, whatever their ids start with. An entry of another id
/// that triggers one of the workflow's own functions (`functions`: their
/// ARNs), as SCAR 4.x wrote them before an import, is the workflow's too:
/// apply rewrites it under scar's id.
fn notifications_observed(
    bucket: &str,
    config: &NotificationConfig,
    workflow: &str,
    functions: &BTreeSet<String>,
) -> Option<Observed> {
    let mut entries: Vec<Entry> = config
        .lambda
        .iter()
        .filter(|n| {
            is_own_notification(workflow, &n.id, n.prefix.as_deref())
                || (functions.contains(&n.function_arn)
                    && notification_workflow(&n.id, n.prefix.as_deref()).is_none())
        })
        .map(|n| {
            let mut events = n.events.clone();
            events.sort();
            Entry {
                id: n.id.clone(),
                function_arn: n.function_arn.clone(),
                events,
                prefix: n.prefix.clone(),
                suffix: n.suffix.clone(),
            }
        })
        .collect();
    if entries.is_empty() {
        return None;
    }
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    Some(observed(
        Addr::new(Kind::S3Notifications, bucket),
        &NotificationsAttrs { entries },
        Owner::Workflow,
    ))
}

/// The triggers on a bucket that are not `workflow`'s, as people read them.
pub fn other_triggers(config: &NotificationConfig, workflow: &str) -> Vec<String> {
    config
        .lambda
        .iter()
        .filter(|n| !is_own_notification(workflow, &n.id, n.prefix.as_deref()))
        .map(|n| {
            let function = n.function_arn.rsplit(':').next().unwrap_or_default();
            match notification_workflow(&n.id, n.prefix.as_deref()) {
                Some(other) => {
                    format!("the trigger of function `{function}` of workflow `{other}`")
                }
                None => format!(
                    "the notification entry `{}` (not made by scar) of `{function}`",
                    n.id
                ),
            }
        })
        .collect()
}

/// Removes the workflow's entries; others' stay.
pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    write(cloud, s, NotificationsAttrs::default()).await?;
    Ok(())
}

/// Replaces the workflow's entries with `want`'s; others' stay.
pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: NotificationsAttrs,
) -> Result<Outputs, CloudError> {
    let name = s.addr.name.as_str();
    // Read-modify-write: only this workflow's entries change.
    let mut config = retry(|| cloud.get_notifications(name)).await?;
    // This workflow's entries go, and so does any entry that triggers one
    // of the wanted functions on the same filter (SCAR 4.x's, taken over
    // by an import): S3 refuses two entries that overlap.
    config.lambda.retain(|n| {
        !is_own_notification(s.workflow, &n.id, n.prefix.as_deref())
            && !want.entries.iter().any(|e| {
                e.function_arn == n.function_arn && e.prefix == n.prefix && e.suffix == n.suffix
            })
    });
    config
        .lambda
        .extend(want.entries.into_iter().map(|e| LambdaNotification {
            id: e.id,
            function_arn: e.function_arn,
            events: e.events,
            prefix: e.prefix,
            suffix: e.suffix,
        }));
    config.lambda.sort();
    retry(|| cloud.put_notifications(name, &config)).await?;
    Ok(Outputs::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_of_an_entry_is_exact() {
        let id = notification_id("vid", "f", "in/");
        assert!(is_own_notification("vid", &id, Some("in/")));
        assert!(!is_own_notification("vid", &id, Some("other/")));
        assert!(!is_own_notification("vid-x", &id, Some("in/")));
        assert_eq!(notification_workflow(&id, Some("in/")), Some("vid".into()));
        let theirs = notification_id("vid-x", "f", "in/");
        assert!(!is_own_notification("vid", &theirs, Some("in/")));
        assert_eq!(
            notification_workflow(&theirs, Some("in/")),
            Some("vid-x".into())
        );
    }
}
