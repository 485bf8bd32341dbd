//! Reads the account once, read-only, into an immutable [`ObservedState`]
//! normalized like the desired one. Uses list and tagging APIs (ListFunctions
//! gives 50 configurations a call, GetResources 100 tagged resources) rather
//! than one call per resource, and bounds its concurrency.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

mod previous;

pub use previous::previous_packages;

use crate::cloud::{
    Cloud, CloudError, FunctionState, NotificationConfig, PackageType, PermissionStatement,
};
use crate::desired::{
    bucket_use_tag, is_own_notification, notification_workflow, role_name, DesiredState,
    ATTR_CODE_SHA256, ATTR_IMAGE_URI, ATTR_PACKAGE_TYPE,
};
use crate::model::{
    owner_of, Addr, Kind, Observed, ObservedState, Owner, FACT_UNUSED_LAYER, FACT_USED_BY,
    TAG_WORKFLOW,
};

/// Calls in flight at once.
pub const CONCURRENCY: usize = 8;

/// The inline policy name of roles scar creates.
pub const ROLE_POLICY: &str = "scar";

/// The description of a supervisor layer version: holds the content hash.
pub fn layer_description(sha256_hex: &str) -> String {
    format!("scar-supervisor sha256:{sha256_hex}")
}

/// Whether a layer version's description says scar published it.
pub fn is_scar_layer(description: &str) -> bool {
    description.starts_with(&layer_description(""))
}

/// Observes what `desired` needs and what the workflow owns.
pub async fn observe<C: Cloud>(
    cloud: Arc<C>,
    desired: &DesiredState,
) -> Result<ObservedState, CloudError> {
    let w = desired.workflow.as_str();
    let requests_before = cloud.requests().total();
    let mut out = ObservedState::default();

    // What the workflow owns, by tag, and every function of the region.
    let tagged = cloud
        .resources_with_tag(TAG_WORKFLOW, Some(w), &["lambda", "s3", "logs"])
        .await?;
    let tags_by_arn: BTreeMap<String, BTreeMap<String, String>> =
        tagged.into_iter().map(|t| (t.arn, t.tags)).collect();
    let functions = cloud.list_functions().await?;
    // The layer versions functions outside this workflow use: a version
    // scar published that none uses is removed.
    let mut used_layers: BTreeSet<String> = BTreeSet::new();

    let wanted = |k: Kind| -> BTreeSet<String> {
        desired
            .resources
            .keys()
            .filter(|a| a.kind == k)
            .map(|a| a.name.clone())
            .collect()
    };
    let wanted_functions = wanted(Kind::LambdaFunction);

    // Functions: the wanted ones and the owned ones.
    let mut owned_functions = Vec::new();
    let mut unknown_owner = Vec::new();
    for f in functions {
        let tags = tags_by_arn.get(&f.arn).cloned();
        let owned = tags
            .as_ref()
            .is_some_and(|t| t.get(TAG_WORKFLOW).map(String::as_str) == Some(w));
        if !owned {
            used_layers.extend(f.layers.iter().cloned());
        }
        if owned {
            owned_functions.push(f.name.clone());
            // A listing gives no image URI: an image function is read
            // whole (zip functions cost no extra request).
            let f = match f.package_type {
                PackageType::Image => cloud.get_function(&f.name).await?.unwrap_or(f),
                PackageType::Zip => f,
            };
            out.resources.insert(
                Addr::new(Kind::LambdaFunction, &f.name),
                function_observed(&f, tags, w),
            );
        } else if wanted_functions.contains(&f.name) {
            unknown_owner.push(f.name.clone());
        }
    }
    // A wanted name that exists untagged by us: read its tags to say whose it is.
    for name in unknown_owner {
        if let Some(f) = cloud.get_function(&name).await? {
            let tags = f.tags.clone();
            out.resources.insert(
                Addr::new(Kind::LambdaFunction, &name),
                function_observed(&f, tags, w),
            );
        }
    }

    // Permissions of the owned functions (one GetPolicy each, concurrently).
    let limit = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    for name in owned_functions.clone() {
        let cloud = cloud.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _p = limit.acquire_owned().await;
            let r = cloud.get_policy(&name).await;
            (name, r)
        });
    }
    let mut permission_buckets = BTreeSet::new();
    while let Some(joined) = tasks.join_next().await {
        let Ok((name, statements)) = joined else {
            continue;
        };
        for s in statements? {
            if !s.sid.starts_with("scar-") {
                continue;
            }
            if let Some(b) = s
                .source_arn
                .as_deref()
                .and_then(|a| a.strip_prefix("arn:aws:s3:::"))
            {
                permission_buckets.insert(b.to_string());
            }
            let addr = Addr::new(Kind::LambdaPermission, format!("{name}/{}", s.sid));
            out.resources
                .insert(addr.clone(), permission_observed(addr, &name, &s));
        }
    }

    // Log groups under /aws/lambda/ (paged), owned or wanted.
    let groups = cloud.describe_log_groups("/aws/lambda/").await?;
    let wanted_groups = wanted(Kind::LogGroup);
    // The tagged log groups, by name.
    let owned_groups: BTreeMap<&str, &BTreeMap<String, String>> = tags_by_arn
        .iter()
        .filter_map(|(arn, tags)| {
            arn.split_once(":log-group:")
                .map(|(_, n)| (n.trim_end_matches(":*"), tags))
        })
        .collect();
    for g in groups {
        let mut tags = owned_groups.get(g.name.as_str()).map(|t| (*t).clone());
        if tags.is_none() && !wanted_groups.contains(&g.name) {
            continue;
        }
        if tags.is_none() {
            // Wanted, and not tagged by this workflow: read its tags, so
            // that another workflow's group is never taken for an
            // untagged one (which Lambda creates, and scar adopts).
            let read = cloud.list_log_group_tags(&g.name).await?;
            tags = (!read.is_empty()).then_some(read);
        }
        let mut attrs = BTreeMap::new();
        attrs.insert("retention_days".into(), json!(g.retention_days));
        attrs.insert("tags".into(), scar_tags(tags.as_ref()));
        let addr = Addr::new(Kind::LogGroup, &g.name);
        out.resources.insert(
            addr.clone(),
            Observed {
                addr,
                attrs,
                owner: owner_of(tags.as_ref(), w),
                outputs: BTreeMap::new(),
                facts: BTreeMap::new(),
            },
        );
    }

    // Buckets: wanted, owned, or holding this workflow's triggers.
    let owned_buckets: BTreeSet<String> = tags_by_arn
        .keys()
        .filter_map(|arn| arn.strip_prefix("arn:aws:s3:::").map(str::to_string))
        .collect();
    let wanted_buckets = wanted(Kind::S3Bucket);
    let buckets: BTreeSet<String> = wanted_buckets
        .iter()
        .chain(&owned_buckets)
        .chain(&permission_buckets)
        .cloned()
        .collect();
    // Where this workflow's notification entries can be: where it wants
    // them, and wherever its functions hold an S3 permission (apply adds the
    // permission before the entry and removes the entry first).
    let notif_buckets: BTreeSet<String> = wanted(Kind::S3Notifications)
        .into_iter()
        .chain(permission_buckets.iter().cloned())
        .collect();
    let mut tasks = JoinSet::new();
    for b in buckets {
        let cloud = cloud.clone();
        let limit = limit.clone();
        // A bucket this workflow may delete: is it empty, and who else
        // uses it (their triggers on it, their functions' bucket tags)?
        let delete_candidate = owned_buckets.contains(&b) && !wanted_buckets.contains(&b);
        let check_notifications = notif_buckets.contains(&b) || delete_candidate;
        let workflow = w.to_string();
        tasks.spawn(async move {
            let _p = limit.acquire_owned().await;
            let bucket = cloud.get_bucket(&b).await?;
            let Some(bucket) = bucket else {
                return Ok::<_, CloudError>((b, None, None, None, Vec::new()));
            };
            let has_objects = if delete_candidate {
                Some(cloud.bucket_has_objects(&b).await?)
            } else {
                None
            };
            let notifications = if check_notifications {
                Some(cloud.get_notifications(&b).await?)
            } else {
                None
            };
            let mut users = Vec::new();
            if delete_candidate {
                if let Some(config) = &notifications {
                    users.extend(other_triggers(config, &workflow));
                }
                let tagged = cloud
                    .resources_with_tag(&bucket_use_tag(&b), None, &["lambda"])
                    .await?;
                users.extend(other_functions(&tagged, &workflow, &bucket_use_tag(&b)));
            }
            Ok((b, Some(bucket), has_objects, notifications, users))
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let Ok(result) = joined else { continue };
        let (name, bucket, has_objects, notifications, users) = result?;
        let Some(bucket) = bucket else { continue };
        let owner = owner_of(bucket.tags.as_ref(), w);
        let addr = Addr::new(Kind::S3Bucket, &name);
        let mut facts = BTreeMap::new();
        if let Some(h) = has_objects {
            facts.insert("has_objects".to_string(), Value::Bool(h));
        }
        if !users.is_empty() {
            facts.insert(FACT_USED_BY.to_string(), json!(users));
        }
        let mut attrs = BTreeMap::new();
        attrs.insert("tags".into(), scar_tags(bucket.tags.as_ref()));
        out.resources.insert(
            addr.clone(),
            Observed {
                addr,
                attrs,
                owner,
                outputs: BTreeMap::new(),
                facts,
            },
        );
        if let Some(config) = notifications {
            if let Some(o) = notifications_observed(&name, &config, w) {
                out.resources.insert(o.addr.clone(), o);
            }
        }
    }

    // Roles the manifests name: they must exist (scar does not create them);
    // only their ARN matters, so their policies are not read.
    let given_roles: BTreeSet<String> = desired
        .resources
        .values()
        .filter(|r| r.addr.kind == Kind::LambdaFunction)
        .filter_map(|r| r.attrs.get("role").and_then(Value::as_str))
        .filter(|r| r.starts_with("arn:"))
        .map(str::to_string)
        .collect();
    for arn in given_roles {
        let name = arn.rsplit('/').next().unwrap_or_default().to_string();
        if cloud.role_arn(&name).await?.as_ref() != Some(&arn) {
            out.missing.insert(arn);
        }
    }

    // The workflow's role.
    if let Some(role) = cloud.get_role(&role_name(w)).await? {
        let mut attrs = BTreeMap::new();
        attrs.insert(
            "assume_role_policy".into(),
            parse_json(&role.assume_role_policy),
        );
        if let Some(p) = role.inline_policies.get(ROLE_POLICY) {
            attrs.insert("policy".into(), parse_json(p));
        }
        attrs.insert("tags".into(), scar_tags(Some(&role.tags)));
        let addr = Addr::new(Kind::IamRole, &role.name);
        out.resources.insert(
            addr.clone(),
            Observed {
                addr,
                attrs,
                owner: owner_of(Some(&role.tags), w),
                outputs: BTreeMap::from([("arn".to_string(), role.arn.clone())]),
                facts: BTreeMap::new(),
            },
        );
    }

    // The supervisor layer version with this content, if published, and
    // the versions scar published that no function uses any longer (this
    // workflow's functions move to the wanted version or go away).
    for layer_name in &desired.layer_names {
        let addr = Addr::new(Kind::LambdaLayer, layer_name);
        let want = desired.resources.get(&addr);
        let wanted_description = want.map(|want| {
            layer_description(
                want.attrs
                    .get("content_sha256")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            )
        });
        let mut versions = cloud.list_layer_versions(layer_name).await?;
        // Oldest first: of two versions with the same content (concurrent
        // applies), the oldest is the one used.
        versions.sort_by_key(|v| v.version);
        let mut found = false;
        for v in &versions {
            if !found && Some(&v.description) == wanted_description.as_ref() {
                found = true;
                if let Some(want) = want {
                    out.resources.insert(
                        addr.clone(),
                        Observed {
                            addr: addr.clone(),
                            attrs: want.attrs.clone(),
                            owner: Owner::Unmanaged,
                            outputs: BTreeMap::from([("arn".to_string(), v.arn.clone())]),
                            facts: BTreeMap::new(),
                        },
                    );
                }
                continue;
            }
            if !is_scar_layer(&v.description) || used_layers.contains(&v.arn) {
                continue;
            }
            let stale = Addr::new(Kind::LambdaLayer, format!("{layer_name}:{}", v.version));
            out.resources.insert(
                stale.clone(),
                Observed {
                    addr: stale,
                    attrs: BTreeMap::new(),
                    owner: Owner::Workflow,
                    outputs: BTreeMap::from([("arn".to_string(), v.arn.clone())]),
                    facts: BTreeMap::from([(FACT_UNUSED_LAYER.to_string(), Value::Bool(true))]),
                },
            );
        }
    }
    out.requests = cloud.requests().total() - requests_before;
    Ok(out)
}

/// Only scar's own tags are compared: tags others add are not drift.
fn scar_tags(tags: Option<&BTreeMap<String, String>>) -> Value {
    json!(tags
        .map(|t| t
            .iter()
            .filter(|(k, _)| k.starts_with("scar:"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>())
        .unwrap_or_default())
}

fn parse_json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
}

/// A function's attributes, normalized as `desired` writes them: a zip's
/// `runtime`, `handler`, `layers` and `code_sha256`, or an image's
/// `package_type` and `image_uri` (by digest, as desire pins it: the
/// resolved URI when Lambda gives one).
pub fn function_observed(
    f: &FunctionState,
    tags: Option<BTreeMap<String, String>>,
    workflow: &str,
) -> Observed {
    let mut attrs = BTreeMap::new();
    match f.package_type {
        PackageType::Zip => {
            let mut layers = f.layers.clone();
            layers.sort();
            attrs.insert(
                "runtime".into(),
                json!(f.runtime.clone().unwrap_or_default()),
            );
            attrs.insert(
                "handler".into(),
                json!(f.handler.clone().unwrap_or_default()),
            );
            attrs.insert("layers".into(), json!(layers));
            attrs.insert(ATTR_CODE_SHA256.into(), json!(f.code_sha256));
        }
        PackageType::Image => {
            attrs.insert(ATTR_PACKAGE_TYPE.into(), json!(PackageType::Image.as_str()));
            let uri = f
                .resolved_image_uri
                .clone()
                .or_else(|| f.image_uri.clone())
                .unwrap_or_default();
            attrs.insert(ATTR_IMAGE_URI.into(), json!(uri));
        }
    }
    attrs.insert("role".into(), json!(f.role));
    attrs.insert("memory".into(), json!(f.memory));
    attrs.insert("timeout".into(), json!(f.timeout));
    attrs.insert("description".into(), json!(f.description));
    attrs.insert("environment".into(), json!(f.environment));
    attrs.insert("architectures".into(), json!(f.architectures));
    if !f.vpc_subnet_ids.is_empty() || !f.vpc_security_group_ids.is_empty() {
        let mut s = f.vpc_subnet_ids.clone();
        s.sort();
        let mut g = f.vpc_security_group_ids.clone();
        g.sort();
        attrs.insert("vpc_subnet_ids".into(), json!(s));
        attrs.insert("vpc_security_group_ids".into(), json!(g));
    }
    if !f.file_systems.is_empty() {
        attrs.insert(
            "file_systems".into(),
            json!(f
                .file_systems
                .iter()
                .map(|(a, p)| json!([a, p]))
                .collect::<Vec<_>>()),
        );
    }
    attrs.insert("tags".into(), scar_tags(tags.as_ref()));
    let addr = Addr::new(Kind::LambdaFunction, &f.name);
    Observed {
        addr,
        attrs,
        owner: owner_of(tags.as_ref(), workflow),
        outputs: BTreeMap::from([("arn".to_string(), f.arn.clone())]),
        facts: BTreeMap::new(),
    }
}

fn permission_observed(addr: Addr, function: &str, s: &PermissionStatement) -> Observed {
    let mut attrs = BTreeMap::new();
    attrs.insert("function".into(), json!(function));
    attrs.insert("sid".into(), json!(s.sid));
    attrs.insert("principal".into(), json!(s.principal));
    attrs.insert("action".into(), json!(s.action));
    attrs.insert("source_arn".into(), json!(s.source_arn));
    attrs.insert("source_account".into(), json!(s.source_account));
    Observed {
        addr,
        attrs,
        owner: Owner::Workflow,
        outputs: BTreeMap::new(),
        facts: BTreeMap::new(),
    }
}

/// The triggers on a bucket that are not `workflow`'s, as people read them.
fn other_triggers(config: &NotificationConfig, workflow: &str) -> Vec<String> {
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

/// The functions of other workflows that carry a bucket's use tag.
fn other_functions(
    tagged: &[crate::cloud::TaggedResource],
    workflow: &str,
    use_tag: &str,
) -> Vec<String> {
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

/// The workflow's entries of a bucket's notification configuration, as
/// `desired` writes them; `None` if it has none. Ownership is exact
/// ([`is_own_notification`]): another workflow's entries are never taken
/// for this one's, whatever their ids start with.
pub fn notifications_observed(
    bucket: &str,
    config: &NotificationConfig,
    workflow: &str,
) -> Option<Observed> {
    let mut entries: Vec<Value> = config
        .lambda
        .iter()
        .filter(|n| is_own_notification(workflow, &n.id, n.prefix.as_deref()))
        .map(|n| {
            let mut events = n.events.clone();
            events.sort();
            json!({
                "id": n.id,
                "function_arn": n.function_arn,
                "events": events,
                "prefix": n.prefix,
                "suffix": n.suffix,
            })
        })
        .collect();
    if entries.is_empty() {
        return None;
    }
    entries.sort_by_key(|e| e["id"].as_str().unwrap_or_default().to_string());
    let addr = Addr::new(Kind::S3Notifications, bucket);
    let mut attrs = BTreeMap::new();
    attrs.insert("entries".into(), Value::Array(entries));
    Some(Observed {
        addr,
        attrs,
        owner: Owner::Workflow,
        outputs: BTreeMap::new(),
        facts: BTreeMap::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Code;
    use crate::desired::with_code;
    use crate::model::Resource;

    /// The code attributes desire writes for `code`.
    fn desired_code_attrs(code: &Code, layers: &[String]) -> crate::model::Attrs {
        let supervisor = Addr::new(Kind::LambdaLayer, "scar-supervisor");
        with_code(
            Resource::new(Addr::new(Kind::LambdaFunction, "f")),
            code,
            layers,
            &supervisor,
        )
        .attrs
    }

    #[test]
    fn an_image_function_is_observed_as_desire_writes_it() {
        let uri = format!("1.dkr.ecr.r.amazonaws.com/wf@sha256:{}", "c".repeat(64));
        let f = FunctionState {
            name: "f".into(),
            package_type: PackageType::Image,
            code_sha256: "c".repeat(64),
            image_uri: Some(uri.clone()),
            resolved_image_uri: Some(uri.clone()),
            ..Default::default()
        };
        let observed = function_observed(&f, None, "wf");
        let want = desired_code_attrs(
            &Code::Image {
                uri: uri.clone(),
                digest: format!("sha256:{}", "c".repeat(64)),
            },
            &[],
        );
        assert_eq!(want.len(), 2, "{want:?}");
        for (k, v) in &want {
            assert_eq!(observed.attrs.get(k), Some(v), "{k}");
        }
        for zip_only in ["runtime", "handler", "layers", "code_sha256"] {
            assert!(!observed.attrs.contains_key(zip_only), "{zip_only}");
        }
    }

    #[test]
    fn an_image_given_by_tag_is_observed_at_the_digest_lambda_resolved() {
        let f = FunctionState {
            package_type: PackageType::Image,
            image_uri: Some("r.example/wf:latest".into()),
            resolved_image_uri: Some("r.example/wf@sha256:0a".into()),
            ..Default::default()
        };
        assert_eq!(
            function_observed(&f, None, "wf").attrs["image_uri"],
            json!("r.example/wf@sha256:0a")
        );
    }

    #[test]
    fn a_zip_function_is_observed_without_a_package_type() {
        let f = FunctionState {
            name: "f".into(),
            runtime: Some("provided.al2023".into()),
            handler: Some("bootstrap".into()),
            layers: vec!["arn:b".into(), "arn:a".into()],
            code_sha256: "abc=".into(),
            ..Default::default()
        };
        let observed = function_observed(&f, None, "wf");
        assert!(!observed.attrs.contains_key("package_type"));
        assert!(!observed.attrs.contains_key("image_uri"));
        let want = desired_code_attrs(
            &Code::Zip {
                sha256: "abc=".into(),
            },
            &["arn:b".into()],
        );
        assert_eq!(observed.attrs["code_sha256"], want["code_sha256"]);
        assert_eq!(observed.attrs["runtime"], want["runtime"]);
        assert_eq!(observed.attrs["handler"], want["handler"]);
        assert_eq!(observed.attrs["layers"], json!(["arn:a", "arn:b"]));
    }
}
