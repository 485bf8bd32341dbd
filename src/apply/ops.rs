//! One change against the cloud: every step an idempotent `ensure_*`.
//!
//! The plan has already read the account, so a step does not read it again
//! before writing: a create is attempted straight away, and only when the
//! cloud answers "already exists" (a run that died after the create, or a
//! race with someone else) does the step read what is there and fall back
//! to bringing it in line, and only if it is this workflow's. An update
//! writes what the plan says differs, with the ARN the plan observed.

use std::time::Duration;

use serde_json::Value;

use super::{retry, retry_throttled, Artifacts, Outputs};
use crate::cloud::{
    Cloud, CloudError, CodeArtifact, ErrorKind, FunctionSpec, FunctionState, LambdaNotification,
    LayerSpec, PackageSpec, PackageType, PermissionStatement, Tags,
};
use crate::desired::{is_own_notification, ATTR_PACKAGE_TYPE, CODE_ATTRS};
use crate::model::{owner_of, Addr, Attrs, Kind, Owner, PACKAGE_ATTRS};
use crate::observe::{layer_description, ROLE_POLICY};
use crate::plan::{resolve_value, Action, Change, UNKNOWN};
use crate::resources::Replacement;

/// Carries out one change. A replacement is carried out as its kind
/// declares ([`crate::resources::KindRules::replacement`]): a delete, then
/// a create, where the name is the natural key (the new one cannot exist
/// beside the old one); in place (a bucket's notification entries, a new
/// layer version); never (a bucket, which holds data).
pub async fn run<C: Cloud>(
    cloud: &C,
    c: &Change,
    artifacts: &Artifacts,
    outputs: &Outputs,
    workflow: &str,
) -> Result<(), CloudError> {
    if c.action != Action::Replace {
        return step(cloud, c, artifacts, outputs, workflow).await;
    }
    match crate::resources::rules(c.address.kind).replacement() {
        Replacement::Never => Err(CloudError::with_kind(
            format!("replacing {}", c.address),
            ErrorKind::Invalid,
            "it is never replaced (it holds data)",
        )),
        Replacement::InPlace => step(cloud, c, artifacts, outputs, workflow).await,
        Replacement::DeleteThenCreate => {
            let as_action = |action| Change {
                action,
                ..c.clone()
            };
            step(
                cloud,
                &as_action(Action::Delete),
                artifacts,
                outputs,
                workflow,
            )
            .await?;
            step(
                cloud,
                &as_action(Action::Create),
                artifacts,
                outputs,
                workflow,
            )
            .await
        }
    }
}

/// One create, update or delete.
async fn step<C: Cloud>(
    cloud: &C,
    c: &Change,
    artifacts: &Artifacts,
    outputs: &Outputs,
    workflow: &str,
) -> Result<(), CloudError> {
    let attrs = resolved(c, outputs)?;
    let tag_set = tags(&attrs);
    let name = c.address.name.as_str();
    let addr = c.address.to_string();
    let set_output = |key: &str, value: String| {
        if let Ok(mut o) = outputs.lock() {
            o.entry(addr.clone())
                .or_default()
                .insert(key.to_string(), value);
        }
    };
    match (c.address.kind, c.action) {
        (Kind::LambdaLayer, Action::Delete) => {
            // `<layer name>:<version>`: a version no function uses any longer.
            let (layer, version) = name.rsplit_once(':').unwrap_or((name, ""));
            let version: i64 = version.parse().map_err(|_| {
                CloudError::with_kind(
                    format!("deleting {addr}"),
                    ErrorKind::Invalid,
                    "not a layer version address",
                )
            })?;
            retry(|| cloud.delete_layer_version(layer, version)).await?;
        }
        (Kind::LambdaLayer, _) => {
            let sha = str_attr(&attrs, "content_sha256");
            let spec = LayerSpec {
                layer_name: name.to_string(),
                description: layer_description(&sha),
                license_info: str_attr(&attrs, "license_info"),
                compatible_runtimes: strings(&attrs, "compatible_runtimes"),
                compatible_architectures: vec!["x86_64".into()],
            };
            let v = retry(|| cloud.publish_layer_version(&spec, &artifacts.layer_zip)).await?;
            // Another apply may have published the same content meanwhile:
            // the oldest version of it is the one used, a later one of ours
            // is removed again.
            let versions = retry(|| cloud.list_layer_versions(name)).await?;
            let oldest = versions
                .iter()
                .filter(|o| o.description == spec.description)
                .min_by_key(|o| o.version)
                .cloned()
                .unwrap_or_else(|| v.clone());
            if oldest.version < v.version {
                retry(|| cloud.delete_layer_version(name, v.version)).await?;
            }
            set_output("arn", oldest.arn);
        }
        (Kind::IamRole, Action::Delete) => {
            retry(|| cloud.delete_role(name)).await?;
        }
        (Kind::IamRole, _) => {
            let trust = attrs
                .get("assume_role_policy")
                .map(Value::to_string)
                .unwrap_or_default();
            let policy = attrs
                .get("policy")
                .map(Value::to_string)
                .unwrap_or_default();
            let arn = if c.action == Action::Create {
                match retry_throttled(|| cloud.create_role(name, &trust, &tag_set)).await {
                    Ok(arn) => arn,
                    Err(e) if found_or_conflict(&e) => {
                        match retry(|| cloud.get_role(name)).await? {
                            // Already there: adopt it if it is ours, trust included.
                            Some(role) => {
                                check_owner(&c.address, Some(&role.tags), workflow)?;
                                retry(|| cloud.update_assume_role_policy(name, &trust)).await?;
                                role.arn
                            }
                            // Not there: a concurrent change (or one being
                            // deleted); try again, retrying conflicts.
                            None => retry(|| cloud.create_role(name, &trust, &tag_set)).await?,
                        }
                    }
                    Err(e) => return Err(e),
                }
            } else {
                if differs(c, "assume_role_policy") {
                    retry(|| cloud.update_assume_role_policy(name, &trust)).await?;
                }
                match c.outputs.get("arn") {
                    Some(arn) => arn.clone(),
                    None => match retry(|| cloud.get_role(name)).await? {
                        Some(r) => r.arn,
                        None => return Err(vanished(&c.address)),
                    },
                }
            };
            if c.action == Action::Create || differs(c, "policy") {
                retry(|| cloud.put_role_policy(name, ROLE_POLICY, &policy)).await?;
            }
            set_output("arn", arn);
        }
        (Kind::S3Bucket, Action::Delete) => {
            // Checked again: objects or someone else's triggers may have
            // arrived since the plan.
            let others = retry(|| cloud.get_notifications(name))
                .await?
                .lambda
                .iter()
                .any(|n| !is_own_notification(workflow, &n.id, n.prefix.as_deref()));
            if others {
                tracing::warn!(
                    "bucket {name} holds another workflow's or foreign triggers now: kept"
                );
            } else if retry(|| cloud.bucket_has_objects(name)).await? {
                tracing::warn!("bucket {name} holds objects now: kept");
            } else {
                retry(|| cloud.delete_bucket(name)).await?;
            }
        }
        (Kind::S3Bucket, Action::Create) => {
            match retry_throttled(|| cloud.create_bucket(name, &tag_set)).await {
                Ok(()) => {}
                // Another account's name: nothing to wait for or adopt.
                Err(e) if e.kind == ErrorKind::NameTaken => {
                    return Err(CloudError::with_kind(
                        format!("creating {addr}"),
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
                        // workflow's tags, bring them in line; anyone
                        // else's is used as is, as the plan does with a
                        // bucket it finds.
                        Some(bucket) => {
                            if owner_of(bucket.tags.as_ref(), workflow) == Owner::Workflow {
                                retry(|| cloud.put_bucket_tags(name, &tag_set)).await?;
                            }
                        }
                        // Not there: a passing conflict (OperationAborted
                        // right after a delete); try again, retrying it.
                        None => retry(|| cloud.create_bucket(name, &tag_set)).await?,
                    }
                }
                Err(e) => return Err(e),
            }
        }
        (Kind::S3Bucket, _) => retry(|| cloud.put_bucket_tags(name, &tag_set)).await?,
        (Kind::LambdaFunction, Action::Delete) => {
            retry(|| cloud.delete_function(name)).await?;
        }
        (Kind::LambdaFunction, _) => {
            ensure_function(cloud, name, &attrs, c, artifacts, workflow, set_output).await?
        }
        (Kind::LogGroup, Action::Delete) => {
            retry(|| cloud.delete_log_group(name)).await?;
        }
        (Kind::LogGroup, Action::Update | Action::Replace) => {
            // It exists (the plan saw it): write only what differs.
            if differs(c, "tags") {
                retry(|| cloud.tag_log_group(name, &tag_set)).await?;
            }
            if differs(c, "retention_days") {
                if let Some(days) = attrs.get("retention_days").and_then(Value::as_u64) {
                    retry(|| cloud.put_retention(name, days as u32)).await?;
                }
            }
        }
        (Kind::LogGroup, _) => {
            let t = &tag_set;
            // "Already exists" is an answer here, not something to retry.
            match retry_throttled(|| cloud.create_log_group(name, t)).await {
                Ok(()) => {}
                Err(e) if e.kind == ErrorKind::AlreadyExists => {
                    // Already there (adopted, or created by Lambda): tag it;
                    // gone again meanwhile (it was being deleted): create it.
                    match retry(|| cloud.tag_log_group(name, t)).await {
                        Err(e) if e.kind == ErrorKind::NotFound => {
                            retry(|| cloud.create_log_group(name, t)).await?
                        }
                        other => other?,
                    }
                }
                Err(e) => return Err(e),
            }
            if let Some(days) = attrs.get("retention_days").and_then(Value::as_u64) {
                retry(|| cloud.put_retention(name, days as u32)).await?;
            }
        }
        (Kind::LambdaPermission, action) => {
            let function = str_attr(&attrs, "function");
            let sid = str_attr(&attrs, "sid");
            let (function, sid) = if action == Action::Delete {
                let (f, s) = name.split_once('/').unwrap_or((name, ""));
                (f.to_string(), s.to_string())
            } else {
                (function, sid)
            };
            if action == Action::Delete {
                retry(|| cloud.remove_permission(&function, &sid)).await?;
            } else {
                let s = PermissionStatement {
                    sid: sid.clone(),
                    principal: str_attr(&attrs, "principal"),
                    action: str_attr(&attrs, "action"),
                    source_arn: attrs
                        .get("source_arn")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    source_account: attrs
                        .get("source_account")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                };
                // Idempotent: a statement of that id already there (an
                // interrupted run's, or the one being replaced) is removed
                // first, then added again. A create tries the add alone
                // first: its conflict is "that id already exists" (or a
                // concurrent change of the policy), after which the
                // remove-and-add below settles it either way.
                let added = action == Action::Create
                    && match retry_throttled(|| cloud.add_permission(&function, &s)).await {
                        Ok(()) => true,
                        Err(e) if found_or_conflict(&e) => false,
                        Err(e) => return Err(e),
                    };
                if !added {
                    retry(|| cloud.remove_permission(&function, &sid)).await?;
                    retry(|| cloud.add_permission(&function, &s)).await?;
                }
            }
        }
        (Kind::S3Notifications, action) => {
            // Read-modify-write: only this workflow's entries change.
            let mut config = retry(|| cloud.get_notifications(name)).await?;
            config
                .lambda
                .retain(|n| !is_own_notification(workflow, &n.id, n.prefix.as_deref()));
            if action != Action::Delete {
                config.lambda.extend(entries(&attrs));
            }
            config.lambda.sort();
            retry(|| cloud.put_notifications(name, &config)).await?;
        }
    }
    Ok(())
}

async fn ensure_function<C: Cloud>(
    cloud: &C,
    name: &str,
    attrs: &Attrs,
    c: &Change,
    artifacts: &Artifacts,
    workflow: &str,
    set_output: impl Fn(&str, String),
) -> Result<(), CloudError> {
    let spec = function_spec(name, attrs);
    let code = artifacts.code.get(name).ok_or_else(|| {
        CloudError::with_kind(
            format!("deploying {}", c.address),
            ErrorKind::Invalid,
            "no code was built for it",
        )
    })?;
    let arn = if c.action == Action::Create {
        // Ok: created now; Err: found there.
        let created = match create_function(cloud, &spec, code, false).await {
            Err(e) if found_or_conflict(&e) => {
                match retry(|| cloud.get_function(name)).await? {
                    Some(current) => Err(current),
                    // Not there: a passing conflict (or it was being
                    // deleted); try again, retrying conflicts.
                    None => Ok(create_function(cloud, &spec, code, true).await?),
                }
            }
            other => Ok(other?),
        };
        match created {
            Ok(created) => {
                // The create response carries the state: poll only if Lambda
                // is still getting it ready.
                if !is_ready(&created, name)? {
                    wait_ready(cloud, name).await?;
                }
                set_output("arn", created.arn);
                return Ok(());
            }
            Err(current) => {
                // Already there (an earlier run died after creating it): if
                // it is ours, update it as a whole below, as the plan lists
                // every attribute of a create as changed.
                check_owner(&c.address, current.tags.as_ref(), workflow)?;
                wait_ready(cloud, name).await?;
                current.arn
            }
        }
    } else {
        match c.outputs.get("arn") {
            Some(arn) => arn.clone(),
            None => match retry(|| cloud.get_function(name)).await? {
                Some(f) => f.arn,
                None => return Err(vanished(&c.address)),
            },
        }
    };
    let changed: Vec<&str> = c.diffs.iter().map(|d| d.name.as_str()).collect();
    let config_changed = changed
        .iter()
        .any(|n| !PACKAGE_ATTRS.contains(n) && !CODE_ATTRS.contains(n) && *n != "tags");
    if config_changed {
        retry(|| cloud.update_function_configuration(&spec)).await?;
        wait_ready(cloud, name).await?;
    }
    if changed.iter().any(|n| CODE_ATTRS.contains(n)) {
        retry(|| cloud.update_function_code(name, code)).await?;
        wait_ready(cloud, name).await?;
    }
    if changed.contains(&"tags") {
        retry(|| cloud.tag_resource(&arn, &spec.tags)).await?;
        // scar's own tags that are no longer wanted (a bucket the function
        // stopped using) go; others' tags are never touched.
        let stale: Vec<String> = c
            .diffs
            .iter()
            .find(|d| d.name == "tags")
            .and_then(|d| d.before.as_ref())
            .and_then(Value::as_object)
            .map(|before| {
                before
                    .keys()
                    .filter(|k| k.starts_with("scar:") && !spec.tags.contains_key(*k))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if !stale.is_empty() {
            retry(|| cloud.untag_resource(&arn, &stale)).await?;
        }
    }
    set_output("arn", arn);
    Ok(())
}

/// CreateFunction, retried on throttling and service failures (and on
/// conflicts only if `retry_conflicts`: otherwise a conflict or "already
/// exists" is returned to the caller), and waited on while a role created
/// moments ago cannot be assumed yet ([`ErrorKind::NotReady`]: IAM is
/// eventually consistent), 0.5 s doubling, up to 20 s.
async fn create_function<C: Cloud>(
    cloud: &C,
    spec: &FunctionSpec,
    code: &CodeArtifact,
    retry_conflicts: bool,
) -> Result<FunctionState, CloudError> {
    let mut delay = Duration::from_millis(500);
    loop {
        let attempt = if retry_conflicts {
            retry(|| cloud.create_function(spec, code)).await
        } else {
            retry_throttled(|| cloud.create_function(spec, code)).await
        };
        match attempt {
            Err(e) if e.kind == ErrorKind::NotReady && delay < Duration::from_secs(20) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
}

/// A create's answer that calls for reading what is there: "already
/// exists", or a conflict with a concurrent change of the same name.
fn found_or_conflict(e: &CloudError) -> bool {
    matches!(e.kind, ErrorKind::AlreadyExists | ErrorKind::Conflict)
}

/// A bucket name someone else holds: S3 bucket names are global.
#[derive(Debug, thiserror::Error)]
#[error("the bucket name `{name}` belongs to another AWS account (S3 bucket names are global across all accounts); choose another bucket name in the manifest")]
struct BucketNameTaken {
    name: String,
    #[source]
    source: CloudError,
}

/// Whether the plan lists `attr` among what differs.
fn differs(c: &Change, attr: &str) -> bool {
    c.diffs.iter().any(|d| d.name == attr)
}

/// A resource found where the plan expected none: taken over only if this
/// workflow's tags are on it (an earlier run created it); anything else is
/// left alone, as the plan would have.
fn check_owner(addr: &Addr, tags: Option<&Tags>, workflow: &str) -> Result<(), CloudError> {
    let whose = match owner_of(tags, workflow) {
        Owner::Workflow => return Ok(()),
        Owner::OtherWorkflow(w) => format!("it belongs to workflow `{w}`"),
        Owner::Unmanaged => "it was not created by scar".to_string(),
    };
    Err(CloudError::with_kind(
        format!("creating {addr}"),
        ErrorKind::Invalid,
        format!("it appeared after the plan was made and {whose}: left as it is (run `scar plan` to see it)"),
    ))
}

/// An update of something the plan saw but that is gone now.
fn vanished(addr: &Addr) -> CloudError {
    CloudError::with_kind(
        format!("updating {addr}"),
        ErrorKind::NotFound,
        "it no longer exists (deleted since the plan was made); run apply again to create it",
    )
}

/// Waits until Lambda reports the function ready for the next change
/// (`State` not `Pending`, `LastUpdateStatus` not `InProgress`).
async fn wait_ready<C: Cloud>(cloud: &C, name: &str) -> Result<(), CloudError> {
    let mut delay = Duration::from_millis(250);
    for _ in 0..60 {
        let f = retry(|| cloud.get_function(name)).await?;
        let Some(f) = f else { return Ok(()) };
        if is_ready(&f, name)? {
            return Ok(());
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
    Err(CloudError::with_kind(
        format!("waiting for {name}"),
        ErrorKind::Other,
        "the function did not become ready",
    ))
}

/// Whether a function is ready for the next change (`State` not `Pending`,
/// `LastUpdateStatus` not `InProgress`); an error if Lambda says it failed.
fn is_ready(f: &FunctionState, name: &str) -> Result<bool, CloudError> {
    if f.state.as_deref() == Some("Failed") || f.last_update_status.as_deref() == Some("Failed") {
        return Err(CloudError::with_kind(
            format!("waiting for {name}"),
            ErrorKind::Other,
            "Lambda reports the function Failed",
        ));
    }
    Ok(f.state.as_deref() != Some("Pending")
        && f.last_update_status.as_deref() != Some("InProgress"))
}

fn resolved(c: &Change, outputs: &Outputs) -> Result<Attrs, CloudError> {
    let Some(after) = &c.after else {
        return Ok(Attrs::new());
    };
    let snapshot = outputs.lock().map(|o| o.clone()).unwrap_or_default();
    let get = |addr: &str, out: &str| snapshot.get(addr).and_then(|o| o.get(out)).cloned();
    let attrs: Attrs = after
        .iter()
        .map(|(k, v)| (k.clone(), resolve_value(v, &get)))
        .collect();
    if attrs.values().any(|v| v.to_string().contains(UNKNOWN)) {
        return Err(CloudError::with_kind(
            format!("resolving {}", c.address),
            ErrorKind::Other,
            "a value it depends on is still unknown",
        ));
    }
    Ok(attrs)
}

fn str_attr(attrs: &Attrs, k: &str) -> String {
    attrs
        .get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn strings(attrs: &Attrs, k: &str) -> Vec<String> {
    attrs
        .get(k)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn tags(attrs: &Attrs) -> Tags {
    attrs
        .get("tags")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The function Lambda is asked for, from the plan's attributes: an image
/// function (`package_type = "Image"`) has no runtime, handler or layers.
fn function_spec(name: &str, attrs: &Attrs) -> FunctionSpec {
    let package = match PackageType::from_name(&str_attr(attrs, ATTR_PACKAGE_TYPE)) {
        PackageType::Image => PackageSpec::Image,
        PackageType::Zip => PackageSpec::Zip {
            runtime: str_attr(attrs, "runtime"),
            handler: str_attr(attrs, "handler"),
            layers: strings(attrs, "layers"),
        },
    };
    FunctionSpec {
        name: name.to_string(),
        role: str_attr(attrs, "role"),
        package,
        memory: attrs.get("memory").and_then(Value::as_u64).unwrap_or(512) as u32,
        timeout: attrs.get("timeout").and_then(Value::as_u64).unwrap_or(300) as u32,
        description: str_attr(attrs, "description"),
        environment: attrs
            .get("environment")
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        architectures: strings(attrs, "architectures"),
        vpc_subnet_ids: strings(attrs, "vpc_subnet_ids"),
        vpc_security_group_ids: strings(attrs, "vpc_security_group_ids"),
        file_systems: attrs
            .get("file_systems")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|p| {
                        Some((
                            p.get(0)?.as_str()?.to_string(),
                            p.get(1)?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        tags: tags(attrs),
    }
}

fn entries(attrs: &Attrs) -> Vec<LambdaNotification> {
    attrs
        .get("entries")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| LambdaNotification {
                    id: e["id"].as_str().unwrap_or_default().to_string(),
                    function_arn: e["function_arn"].as_str().unwrap_or_default().to_string(),
                    events: e["events"]
                        .as_array()
                        .map(|v| {
                            v.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default(),
                    prefix: e["prefix"].as_str().map(str::to_string),
                    suffix: e["suffix"].as_str().map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn attrs(v: Value) -> Attrs {
        v.as_object().unwrap().clone().into_iter().collect()
    }

    #[test]
    fn a_zip_function_spec_has_its_runtime_handler_and_layers() {
        let spec = function_spec(
            "f",
            &attrs(json!({
                "role": "arn:aws:iam::1:role/r",
                "runtime": "provided.al2023",
                "handler": "bootstrap",
                "layers": ["arn:l:1", "arn:l:2"],
                "code_sha256": "abc=",
                "memory": 1024,
            })),
        );
        assert_eq!(
            spec.package,
            PackageSpec::Zip {
                runtime: "provided.al2023".into(),
                handler: "bootstrap".into(),
                layers: vec!["arn:l:1".into(), "arn:l:2".into()],
            }
        );
        assert_eq!((spec.name.as_str(), spec.memory), ("f", 1024));
        assert_eq!(spec.role, "arn:aws:iam::1:role/r");
    }

    #[test]
    fn an_image_function_spec_has_no_runtime_handler_or_layers() {
        // Even if the attributes carried some, an image takes none.
        let spec = function_spec(
            "f",
            &attrs(json!({
                "role": "arn:aws:iam::1:role/r",
                "package_type": "Image",
                "image_uri": "r.example/wf@sha256:00",
                "runtime": "provided.al2023",
                "layers": ["arn:l:1"],
                "timeout": 60,
            })),
        );
        assert_eq!(spec.package, PackageSpec::Image);
        assert!(spec.package.layers().is_empty());
        assert_eq!(spec.timeout, 60);
        assert_eq!(
            CodeArtifact::Zip(vec![]).mismatch(spec.package.package_type()),
            Some("Zip code given for a function of package type Image".into())
        );
        assert_eq!(
            CodeArtifact::Image { uri: "u".into() }.mismatch(spec.package.package_type()),
            None
        );
    }
}
