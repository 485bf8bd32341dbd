//! `lambda_function`: a function, its configuration, its code (a zip on
//! the supervisor's runtime and layers, or an image by digest) and its
//! tags (ownership, and one `scar:bucket:<bucket>` per bucket it uses).
//! Replaced by delete, then create (its name is its key); a change of
//! package type forces it. While it exists it needs its role and the
//! layer versions it runs on, so those are deleted after it. Observed
//! with ListFunctions (50 a call), plus GetFunction for an image function
//! (a listing gives no image URI) and for a wanted name not tagged by the
//! workflow (to say whose it is); the previous package of a code update
//! is read by [`previous_packages`].

mod previous;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use previous::previous_packages;

use super::lambda_layer::{self, RUNTIME};
use super::s3_bucket::{self, bucket_use_tag};
use super::support::{
    arn_output, check_owner, found_or_conflict, from_attrs, read_record, s3_reads, s3_writes,
    scar_tags, to_attrs, triggers, vanished, wanted,
};
use super::{iam_role, Context, Desire, KindRules, Observation, Outputs, Step};
use crate::cloud::retry::{retry, retry_throttled};
use crate::cloud::{
    Cloud, CloudError, Code, CodeArtifact, ErrorKind, FunctionSpec, FunctionState, PackageSpec,
    PackageType, Tags,
};
use crate::manifest::FunctionDef;
use crate::model::{
    owner_of, reference, Action, Addr, DesiredState, Kind, Observed, ObservedState, Owner,
    Resource, PACKAGE_ATTRS, TAG_WORKFLOW,
};

pub struct LambdaFunction;

/// The handler of zip functions: the supervisor's bootstrap.
pub const HANDLER: &str = "bootstrap";

/// A zip function's code attribute (Lambda's `CodeSha256`, base64).
pub const ATTR_CODE_SHA256: &str = "code_sha256";
/// An image function's code attribute: the image URI, by digest.
pub const ATTR_IMAGE_URI: &str = "image_uri";
/// `"Image"` on image functions (absent on zips).
pub const ATTR_PACKAGE_TYPE: &str = "package_type";
/// The attributes whose change is a code update (UpdateFunctionCode).
pub const CODE_ATTRS: &[&str] = &[ATTR_CODE_SHA256, ATTR_IMAGE_URI];
/// The package's init script ([`PACKAGE_ATTRS`]).
pub const ATTR_INIT_SCRIPT: &str = "init_script";
/// The package's supervisor config, secrets masked ([`PACKAGE_ATTRS`]).
pub const ATTR_FUNCTION_CONFIG: &str = "function_config";

/// A function's attributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunctionAttrs {
    /// The execution role's ARN (a reference to the workflow's role until
    /// it is known).
    pub role: String,
    pub memory: u32,
    pub timeout: u32,
    pub description: String,
    pub environment: BTreeMap<String, String>,
    pub architectures: Vec<String>,
    pub tags: Tags,
    #[serde(flatten)]
    pub code: CodeAttrs,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_script: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_config: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_subnet_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_security_group_ids: Option<Vec<String>>,
    /// (access point ARN, local mount path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_systems: Option<Vec<(String, String)>>,
}

/// What code a function runs. A zip runs on [`RUNTIME`] with [`HANDLER`],
/// the function's `layers` and the supervisor layer, and is identified by
/// `code_sha256`; an image carries all of that inside itself and is
/// identified by `image_uri` (by digest), with `package_type = "Image"`
/// (a function cannot change package type in place). A zip function has
/// no `package_type` attribute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CodeAttrs {
    Image {
        package_type: String,
        image_uri: String,
    },
    Zip {
        runtime: String,
        handler: String,
        layers: Vec<String>,
        code_sha256: String,
    },
}

impl KindRules for LambdaFunction {
    fn protected(&self, m: &crate::manifest::Manifest) -> Vec<Addr> {
        m.functions
            .iter()
            .filter(|f| f.spec.lambda.prevent_destroy)
            .map(|f| addr(f.name()))
            .collect()
    }

    fn blocked_by(&self, want: &Resource, observed: &ObservedState) -> Option<String> {
        let role = from_attrs::<FunctionAttrs>(&want.addr, &want.attrs)
            .ok()?
            .role;
        observed.missing.contains(&role).then(|| format!("its `iam.role` `{role}` does not exist in this account; create it, or remove `iam.role` to let scar create a least-privilege role"))
    }

    fn needs(&self, have: &Observed, observed: &ObservedState) -> Vec<Addr> {
        let Ok(f) = from_attrs::<FunctionAttrs>(&have.addr, &have.attrs) else {
            return Vec::new();
        };
        let layers: BTreeSet<&str> = match &f.code {
            CodeAttrs::Zip { layers, .. } => layers.iter().map(String::as_str).collect(),
            CodeAttrs::Image { .. } => BTreeSet::new(),
        };
        // What it runs as and on: whatever observed resource has that ARN.
        observed
            .resources
            .values()
            .filter(|o| {
                o.outputs
                    .get("arn")
                    .is_some_and(|arn| *arn == f.role || layers.contains(arn.as_str()))
            })
            .map(|o| o.addr.clone())
            .collect()
    }

    /// The package's hash changed, yet its script and (masked) config
    /// read back the same: only secrets in the config differ. Say so,
    /// rather than show a code change with no visible cause.
    fn unseen_changes(&self, changed: &[&str], have: &Observed) -> Vec<(String, Value, Value)> {
        if changed.contains(&ATTR_CODE_SHA256)
            && have.attrs.contains_key(ATTR_FUNCTION_CONFIG)
            && !PACKAGE_ATTRS.iter().any(|p| changed.contains(p))
        {
            return vec![(
                ATTR_FUNCTION_CONFIG.into(),
                Value::String(crate::secrets::MASK.into()),
                Value::String(crate::secrets::MASK_CHANGED.into()),
            )];
        }
        Vec::new()
    }

    fn tagged_in(&self) -> Option<&'static str> {
        Some("lambda")
    }
}

/// A function's address.
pub fn addr(name: &str) -> Addr {
    Addr::new(Kind::LambdaFunction, name)
}

/// A function's ARN, as S3 notifications name it.
pub fn arn(ctx: &Context, name: &str) -> String {
    format!(
        "arn:aws:lambda:{}:{}:function:{name}",
        ctx.region, ctx.account_id
    )
}

/// The functions a desired state wants.
pub fn desired(d: &DesiredState) -> Vec<Addr> {
    d.resources
        .keys()
        .filter(|a| a.kind == Kind::LambdaFunction)
        .cloned()
        .collect()
}

/// Whether a desired state wants the function `name`.
pub fn is_desired(d: &DesiredState, name: &str) -> bool {
    d.resources.contains_key(&addr(name))
}

/// The roles the desired functions name by ARN (`iam.role`).
pub fn given_roles(d: &DesiredState) -> BTreeSet<String> {
    desired(d)
        .iter()
        .filter_map(|a| from_attrs::<FunctionAttrs>(a, &d.resources[a].attrs).ok())
        .map(|f| f.role)
        .filter(|r| r.starts_with("arn:"))
        .collect()
}

/// The Batch functions (those that hand events to a job queue) that run
/// as a role the manifests name: (function, role ARN).
pub fn batch_roles(d: &DesiredState) -> Vec<(String, String)> {
    desired(d)
        .iter()
        .filter_map(|a| {
            Some((
                a,
                from_attrs::<FunctionAttrs>(a, &d.resources[a].attrs).ok()?,
            ))
        })
        .filter(|(_, f)| {
            f.role.starts_with("arn:") && f.environment.contains_key(super::batch::ENV_JOB_QUEUE)
        })
        .map(|(a, f)| (a.name.clone(), f.role))
        .collect()
}

/// The names of the image functions observed as this workflow's.
pub fn owned_images(o: &ObservedState) -> Vec<String> {
    o.resources
        .values()
        .filter(|r| {
            r.addr.kind == Kind::LambdaFunction
                && r.owner == Owner::Workflow
                && r.attrs.contains_key(ATTR_PACKAGE_TYPE)
        })
        .map(|r| r.addr.name.clone())
        .collect()
}

/// The names of the functions observed as this workflow's.
pub fn owned(o: &ObservedState) -> Vec<String> {
    o.resources
        .values()
        .filter(|r| r.addr.kind == Kind::LambdaFunction && r.owner == Owner::Workflow)
        .map(|r| r.addr.name.clone())
        .collect()
}

/// One function per `functions.aws[]` entry.
pub fn desire(d: &Desire, out: &mut DesiredState) {
    let supervisor = lambda_layer::supervisor(d.functions);
    let role = iam_role::addr(d.workflow);
    for f in d.functions {
        let l = &f.spec.lambda;
        let name = f.name();
        let code = d.ctx.code.get(name).cloned().unwrap_or(Code::Zip {
            sha256: String::new(),
        });
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        let attrs = FunctionAttrs {
            role: match &f.spec.iam.role {
                Some(arn) => arn.clone(),
                None => reference_text(&role, "arn"),
            },
            memory: l.memory,
            timeout: l.timeout,
            description: l.description.clone(),
            environment: environment(f),
            architectures: l
                .architectures
                .iter()
                .map(|a| {
                    serde_json::to_value(a)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                })
                .collect(),
            tags: function_tags(d.workflow, f),
            code: code_attrs(&code, &l.layers, &supervisor),
            init_script: d.ctx.scripts.get(name).cloned(),
            function_config: d.ctx.configs.get(name).cloned(),
            vpc_subnet_ids: l.vpc.as_ref().map(|v| sorted(&v.subnet_ids)),
            vpc_security_group_ids: l.vpc.as_ref().map(|v| sorted(&v.security_group_ids)),
            file_systems: (!l.file_system.is_empty()).then(|| {
                l.file_system
                    .iter()
                    .map(|fs| (fs.arn.clone(), fs.local_mount_path.clone()))
                    .collect()
            }),
        };
        let mut r = wanted(addr(name), &attrs);
        r.ignore_changes = l.ignore_changes.iter().map(|a| a.name()).collect();
        if let CodeAttrs::Zip { .. } = attrs.code {
            r = r.dep(supervisor.clone());
        } else {
            r.force_new.insert(ATTR_PACKAGE_TYPE.to_string());
            if d.ctx.images.contains_key(name) {
                r = r.dep(super::function_image::addr(name));
            }
        }
        for (k, v) in &l.environment.variables {
            if crate::secrets::looks_secret(k, v) {
                r.sensitive.insert(format!("environment.{k}"));
            }
        }
        if f.spec.iam.role.is_none() {
            r = r.dep(role.clone());
        }
        for (bucket, _) in triggers(f) {
            r = r.dep(s3_bucket::addr(bucket));
        }
        if l.execution_mode.uses_batch() {
            r = r
                .dep(super::batch_job_queue::addr(name))
                .dep(super::batch_job_definition::addr(name));
        }
        out.add(r);
    }
}

/// A function's Lambda environment: the manifest's, and for a Batch
/// function where its jobs go (its queue, and its job definition's
/// revision by ARN, known after apply when a new one is registered).
fn environment(f: &FunctionDef) -> BTreeMap<String, String> {
    let mut env = f.spec.lambda.environment.variables.clone();
    if f.spec.lambda.execution_mode.uses_batch() {
        env.insert(super::batch::ENV_JOB_QUEUE.into(), f.name().to_string());
        env.insert(
            super::batch::ENV_JOB_DEFINITION.into(),
            reference_text(&super::batch_job_definition::addr(f.name()), "arn"),
        );
    }
    env
}

/// A reference to another resource's output, as attribute text.
fn reference_text(addr: &Addr, output: &str) -> String {
    reference(addr, output)
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The code attributes of `code`: a zip's runtime, handler, layers (the
/// function's own and the supervisor's, sorted) and hash, or an image's
/// package type and URI.
pub fn code_attrs(code: &Code, layers: &[String], supervisor: &Addr) -> CodeAttrs {
    match code {
        Code::Zip { sha256 } => {
            let mut layers = layers.to_vec();
            layers.push(reference_text(supervisor, "arn"));
            layers.sort();
            CodeAttrs::Zip {
                runtime: RUNTIME.into(),
                handler: HANDLER.into(),
                layers,
                code_sha256: sha256.clone(),
            }
        }
        Code::Image { uri, .. } => CodeAttrs::Image {
            package_type: PackageType::Image.as_str().into(),
            image_uri: uri.clone(),
        },
    }
}

/// Rewrites the code attributes of a wanted function (for tests that
/// turn a zip function into an image function).
#[cfg(test)]
pub fn set_code(r: &mut Resource, code: &Code, layers: &[String], supervisor: &Addr) {
    for k in [
        "runtime",
        "handler",
        "layers",
        ATTR_CODE_SHA256,
        ATTR_PACKAGE_TYPE,
        ATTR_IMAGE_URI,
    ] {
        r.attrs.remove(k);
    }
    r.attrs
        .extend(to_attrs(&code_attrs(code, layers, supervisor)));
    match code {
        Code::Zip { .. } => {
            r.deps.insert(supervisor.clone());
        }
        Code::Image { .. } => {
            r.force_new.insert(ATTR_PACKAGE_TYPE.to_string());
        }
    }
}

/// A function's tags: ownership, and one [`bucket_use_tag`] per S3 bucket
/// it reads from or writes to (`in`, `out` or `in+out`).
fn function_tags(workflow: &str, f: &FunctionDef) -> Tags {
    let mut uses: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
    for (bucket, _) in s3_reads(f) {
        uses.entry(bucket).or_default().0 = true;
    }
    for (bucket, _) in s3_writes(f) {
        uses.entry(bucket).or_default().1 = true;
    }
    let mut tags = crate::model::ownership_tags(workflow);
    for (bucket, (reads, writes)) in uses {
        let how = match (reads, writes) {
            (true, true) => "in+out",
            (true, false) => "in",
            _ => "out",
        };
        tags.insert(bucket_use_tag(bucket), how.to_string());
    }
    tags
}

/// The functions of the region the workflow owns or wants; the layer
/// versions the others use go to [`Observation::layers_in_use`].
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    let w = o.workflow;
    let functions = o.cloud.list_functions().await?;
    let wanted = o.wanted(Kind::LambdaFunction);
    let mut unknown_owner = Vec::new();
    for f in functions {
        let tags = o.tagged.get(&f.arn).cloned();
        let owned = tags
            .as_ref()
            .is_some_and(|t| t.get(TAG_WORKFLOW).map(String::as_str) == Some(w));
        if owned {
            // A listing gives no image URI: an image function is read
            // whole (zip functions cost no extra request).
            let f = match f.package_type {
                PackageType::Image => o.cloud.get_function(&f.name).await?.unwrap_or(f),
                PackageType::Zip => f,
            };
            o.insert(function_observed(&f, tags, w));
        } else {
            o.layers_in_use.extend(f.layers.iter().cloned());
            if wanted.contains(&f.name) {
                unknown_owner.push(f.name.clone());
            }
        }
    }
    // A wanted name that exists untagged by us: read its tags to say whose it is.
    for name in unknown_owner {
        if let Some(f) = o.cloud.get_function(&name).await? {
            let tags = f.tags.clone();
            o.insert(function_observed(&f, tags, w));
        }
    }
    Ok(())
}

/// A function as desire writes it: a zip's `runtime`, `handler`, `layers`
/// and `code_sha256`, or an image's `package_type` and `image_uri` (by
/// digest, as desire pins it: the URI given when it has a digest, else the
/// resolved one).
pub fn function_observed(f: &FunctionState, tags: Option<Tags>, workflow: &str) -> Observed {
    let code = match f.package_type {
        PackageType::Zip => {
            let mut layers = f.layers.clone();
            layers.sort();
            CodeAttrs::Zip {
                runtime: f.runtime.clone().unwrap_or_default(),
                handler: f.handler.clone().unwrap_or_default(),
                layers,
                code_sha256: f.code_sha256.clone(),
            }
        }
        PackageType::Image => CodeAttrs::Image {
            package_type: PackageType::Image.as_str().into(),
            // scar gives the URI by digest, and Lambda keeps it as given;
            // the resolved URI is for one given by tag (moto's is not a
            // valid reference when the URI already has a digest).
            image_uri: f
                .image_uri
                .clone()
                .filter(|u| u.contains("@sha256:"))
                .or_else(|| f.resolved_image_uri.clone())
                .or_else(|| f.image_uri.clone())
                .unwrap_or_default(),
        },
    };
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    let has_vpc = !f.vpc_subnet_ids.is_empty() || !f.vpc_security_group_ids.is_empty();
    let attrs = FunctionAttrs {
        role: f.role.clone(),
        memory: f.memory,
        timeout: f.timeout,
        description: f.description.clone(),
        environment: f.environment.clone(),
        architectures: f.architectures.clone(),
        tags: scar_tags(tags.as_ref()),
        code,
        init_script: None,
        function_config: None,
        vpc_subnet_ids: has_vpc.then(|| sorted(&f.vpc_subnet_ids)),
        vpc_security_group_ids: has_vpc.then(|| sorted(&f.vpc_security_group_ids)),
        file_systems: (!f.file_systems.is_empty()).then(|| f.file_systems.clone()),
    };
    let mut o = Observed {
        addr: addr(&f.name),
        attrs: to_attrs(&attrs),
        owner: owner_of(tags.as_ref(), workflow),
        outputs: arn_output(f.arn.clone()),
        facts: BTreeMap::new(),
        applied: None,
    };
    read_record(&mut o, tags.as_ref());
    if tags
        .as_ref()
        .and_then(|t| t.get("createdby"))
        .is_some_and(|v| v == "scar")
    {
        o.facts.insert(
            crate::model::FACT_DEPLOYED_BY.into(),
            Value::String("SCAR 4.x (tag `createdby: scar`)".into()),
        );
    }
    o
}

/// Functions that look like SCAR's (its `createdby: scar` tag, or a
/// `scar-` name) and carry no scar workflow's tag (`drift --all`).
pub async fn strays<C: Cloud>(cloud: &C) -> Result<Vec<(Addr, String)>, CloudError> {
    let owned: BTreeSet<String> = cloud
        .resources_with_tag(TAG_WORKFLOW, None, &["lambda"])
        .await?
        .into_iter()
        .map(|r| r.arn)
        .collect();
    let scar4: BTreeSet<String> = cloud
        .resources_with_tag("createdby", Some("scar"), &["lambda"])
        .await?
        .into_iter()
        .map(|r| r.arn)
        .collect();
    Ok(cloud
        .list_functions()
        .await?
        .into_iter()
        .filter(|f| !owned.contains(&f.arn))
        .filter_map(|f| {
            let why = if scar4.contains(&f.arn) {
                "deployed by SCAR 4.x (tag `createdby: scar`) and in no scar workflow: take it into one with `scar import`, or delete it"
            } else if f.name.starts_with("scar-") {
                "named like scar's (`scar-`) and carrying no scar workflow's tag"
            } else {
                return None;
            };
            Some((addr(&f.name), why.to_string()))
        })
        .collect())
}

/// The ARNs of the observed functions this workflow owns.
pub fn owned_arns(observed: &ObservedState) -> BTreeSet<String> {
    observed
        .resources
        .values()
        .filter(|f| f.addr.kind == Kind::LambdaFunction && f.owner == Owner::Workflow)
        .filter_map(|f| f.outputs.get("arn").cloned())
        .collect()
}

/// The roles (ARNs) the observed functions this workflow owns run as.
pub fn owned_roles(observed: &ObservedState) -> BTreeSet<String> {
    observed
        .resources
        .values()
        .filter(|f| f.addr.kind == Kind::LambdaFunction && f.owner == Owner::Workflow)
        .filter_map(|f| {
            f.attrs
                .get("role")
                .and_then(|r| r.as_str())
                .map(str::to_string)
        })
        .collect()
}

pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    retry(|| cloud.delete_function(&s.addr.name)).await?;
    Ok(())
}

pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: FunctionAttrs,
) -> Result<Outputs, CloudError> {
    let name = s.addr.name.as_str();
    let spec = function_spec(name, &want);
    // Needed only to create it or change its code (a retag needs none).
    let code = || {
        s.artifacts.code.get(name).ok_or_else(|| {
            CloudError::with_kind(
                format!("deploying {}", s.addr),
                ErrorKind::Invalid,
                "no code was built for it",
            )
        })
    };
    let arn = if s.action == Action::Create {
        let code = code()?;
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
                return Ok(arn_output(created.arn));
            }
            Err(current) => {
                // Already there (an earlier run died after creating it): if
                // it is ours, update it as a whole below, as the plan lists
                // every attribute of a create as changed.
                check_owner(s.addr, current.tags.as_ref(), s.workflow)?;
                wait_ready(cloud, name).await?;
                current.arn
            }
        }
    } else {
        match s.observed.get("arn") {
            Some(arn) => arn.clone(),
            None => match retry(|| cloud.get_function(name)).await? {
                Some(f) => f.arn,
                None => return Err(vanished(s.addr)),
            },
        }
    };
    let config_changed = s
        .changed
        .keys()
        .any(|n| !PACKAGE_ATTRS.contains(n) && !CODE_ATTRS.contains(n) && *n != "tags");
    if config_changed {
        retry(|| cloud.update_function_configuration(&spec)).await?;
        wait_ready(cloud, name).await?;
    }
    if s.changed.keys().any(|n| CODE_ATTRS.contains(n)) {
        let code = code()?;
        retry(|| cloud.update_function_code(name, code)).await?;
        wait_ready(cloud, name).await?;
    }
    if let Some(before) = s.changed.get("tags") {
        retry(|| cloud.tag_resource(&arn, &spec.tags)).await?;
        // scar's own tags that are no longer wanted (a bucket the function
        // stopped using) go; others' tags are never touched.
        let stale: Vec<String> = before
            .and_then(|b| b.as_object())
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
    Ok(arn_output(arn))
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

/// The function Lambda is asked for: an image function has no runtime,
/// handler or layers.
fn function_spec(name: &str, f: &FunctionAttrs) -> FunctionSpec {
    let package = match &f.code {
        CodeAttrs::Image { .. } => PackageSpec::Image,
        CodeAttrs::Zip {
            runtime,
            handler,
            layers,
            ..
        } => PackageSpec::Zip {
            runtime: runtime.clone(),
            handler: handler.clone(),
            layers: layers.clone(),
        },
    };
    FunctionSpec {
        name: name.to_string(),
        role: f.role.clone(),
        package,
        memory: f.memory,
        timeout: f.timeout,
        description: f.description.clone(),
        environment: f.environment.clone(),
        architectures: f.architectures.clone(),
        vpc_subnet_ids: f.vpc_subnet_ids.clone().unwrap_or_default(),
        vpc_security_group_ids: f.vpc_security_group_ids.clone().unwrap_or_default(),
        file_systems: f.file_systems.clone().unwrap_or_default(),
        tags: f.tags.clone(),
    }
}

#[cfg(test)]
mod tests;
