//! One change against the cloud: every step an idempotent `ensure_*`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use super::{retry, Artifacts};
use crate::cloud::{
    Cloud, CloudError, ErrorKind, FunctionSpec, LambdaNotification, LayerSpec, PermissionStatement,
    Tags,
};
use crate::desired::notification_prefix;
use crate::model::{Attrs, Kind};
use crate::observe::{layer_description, ROLE_POLICY};
use crate::plan::{resolve_value, Action, Change, UNKNOWN};

type Outputs = Mutex<BTreeMap<String, BTreeMap<String, String>>>;

pub async fn run<C: Cloud>(
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
            set_output("arn", v.arn);
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
            let arn = match retry(|| cloud.get_role(name)).await? {
                Some(r) => {
                    retry(|| cloud.update_assume_role_policy(name, &trust)).await?;
                    r.arn
                }
                None => retry(|| cloud.create_role(name, &trust, &tag_set)).await?,
            };
            retry(|| cloud.put_role_policy(name, ROLE_POLICY, &policy)).await?;
            set_output("arn", arn);
        }
        (Kind::S3Bucket, Action::Delete) => {
            if retry(|| cloud.bucket_has_objects(name)).await? {
                tracing::warn!("bucket {name} holds objects now: kept");
            } else {
                retry(|| cloud.delete_bucket(name)).await?;
            }
        }
        (Kind::S3Bucket, _) => match retry(|| cloud.get_bucket(name)).await? {
            None => retry(|| cloud.create_bucket(name, &tag_set)).await?,
            Some(_) => retry(|| cloud.put_bucket_tags(name, &tag_set)).await?,
        },
        (Kind::LambdaFunction, Action::Delete) => {
            retry(|| cloud.delete_function(name)).await?;
        }
        (Kind::LambdaFunction, _) => {
            ensure_function(cloud, name, &attrs, c, artifacts, set_output).await?
        }
        (Kind::LogGroup, Action::Delete) => {
            retry(|| cloud.delete_log_group(name)).await?;
        }
        (Kind::LogGroup, _) => {
            let t = &tag_set;
            // Not retried: "already exists" is an answer here, not a conflict.
            match cloud.create_log_group(name, t).await {
                Ok(()) => {}
                Err(e) if e.kind == ErrorKind::Conflict || e.kind == ErrorKind::Invalid => {
                    // Already there (adopted, or created by Lambda): tag it.
                    retry(|| cloud.tag_log_group(name, t)).await?;
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
            if matches!(action, Action::Delete | Action::Replace) {
                retry(|| cloud.remove_permission(&function, &sid)).await?;
            }
            if action != Action::Delete {
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
                // Idempotent: an existing statement of that id is replaced.
                let existing = retry(|| cloud.get_policy(&function)).await?;
                if existing.iter().any(|e| e.sid == sid) {
                    retry(|| cloud.remove_permission(&function, &sid)).await?;
                }
                retry(|| cloud.add_permission(&function, &s)).await?;
            }
        }
        (Kind::S3Notifications, action) => {
            // Read-modify-write: only this workflow's entries change.
            let prefix = notification_prefix(workflow);
            let mut config = retry(|| cloud.get_notifications(name)).await?;
            config.lambda.retain(|n| !n.id.starts_with(&prefix));
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
    set_output: impl Fn(&str, String),
) -> Result<(), CloudError> {
    let spec = function_spec(name, attrs);
    let zip = artifacts.packages.get(name).cloned().unwrap_or_default();
    match retry(|| cloud.get_function(name)).await? {
        None => {
            // A role created moments ago may not be assumable yet (IAM is
            // eventually consistent): retry that case too.
            let mut delay = Duration::from_millis(500);
            let created = loop {
                match retry(|| cloud.create_function(&spec, &zip)).await {
                    Err(e)
                        if e.kind == ErrorKind::Invalid
                            && crate::apply::error_text(&e).contains("cannot be assumed")
                            && delay < Duration::from_secs(20) =>
                    {
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                    }
                    other => break other?,
                }
            };
            set_output("arn", created.arn);
            wait_ready(cloud, name).await?;
        }
        Some(current) => {
            let changed: Vec<&str> = c.diffs.iter().map(|d| d.name.as_str()).collect();
            let config_changed = changed
                .iter()
                .any(|n| !matches!(*n, "code_sha256" | "init_script" | "tags"));
            if config_changed {
                retry(|| cloud.update_function_configuration(&spec)).await?;
                wait_ready(cloud, name).await?;
            }
            if changed.contains(&"code_sha256") {
                retry(|| cloud.update_function_code(name, &zip)).await?;
                wait_ready(cloud, name).await?;
            }
            if changed.contains(&"tags") {
                retry(|| cloud.tag_resource(&current.arn, &spec.tags)).await?;
            }
            set_output("arn", current.arn);
        }
    }
    Ok(())
}

/// Waits until Lambda reports the function ready for the next change
/// (`State` not `Pending`, `LastUpdateStatus` not `InProgress`).
async fn wait_ready<C: Cloud>(cloud: &C, name: &str) -> Result<(), CloudError> {
    let mut delay = Duration::from_millis(250);
    for _ in 0..60 {
        let f = retry(|| cloud.get_function(name)).await?;
        let Some(f) = f else { return Ok(()) };
        let pending = f.state.as_deref() == Some("Pending")
            || f.last_update_status.as_deref() == Some("InProgress");
        if f.state.as_deref() == Some("Failed") || f.last_update_status.as_deref() == Some("Failed")
        {
            return Err(CloudError::with_kind(
                format!("waiting for {name}"),
                ErrorKind::Other,
                "Lambda reports the function Failed",
            ));
        }
        if !pending {
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

fn function_spec(name: &str, attrs: &Attrs) -> FunctionSpec {
    FunctionSpec {
        name: name.to_string(),
        role: str_attr(attrs, "role"),
        runtime: str_attr(attrs, "runtime"),
        handler: str_attr(attrs, "handler"),
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
        layers: strings(attrs, "layers"),
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
