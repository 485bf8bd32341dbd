//! Manifest → DesiredState: the resources one workflow needs, each with a
//! stable address, normalized attributes and its dependencies. Pure: the
//! packages and the supervisor layer's hash are given, not read here.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::cloud::{Code, PackageType};
use crate::manifest::checks::{split_path, split_provider};
use crate::manifest::{FunctionDef, Manifest};
use crate::model::{ownership_tags, reference, Addr, Kind, Resource};

/// The runtime scar deploys zip functions on.
pub const RUNTIME: &str = "provided.al2023";
pub const HANDLER: &str = "bootstrap";

/// What desire needs besides the manifest.
#[derive(Clone, Debug)]
pub struct Context {
    pub account_id: String,
    pub region: String,
    /// Hex SHA-256 of the supervisor layer zip.
    pub layer_sha256: String,
    /// Each function's code (a zip's hash, or an image by digest), by
    /// function name.
    pub code: BTreeMap<String, Code>,
    /// The init script text of each function, by function name.
    pub scripts: BTreeMap<String, String>,
    /// The supervisor config in each function's package (secrets masked).
    pub configs: BTreeMap<String, String>,
}

/// The resources a workflow needs, and what it asks for that scar cannot
/// deploy yet.
#[derive(Clone, Debug, Default)]
pub struct DesiredState {
    pub workflow: String,
    pub resources: BTreeMap<Addr, Resource>,
    /// The supervisor layer names the manifests use, also when nothing is
    /// desired (destroy): stale versions of them are looked for.
    pub layer_names: BTreeSet<String>,
    /// (function name, why it is not deployable yet).
    pub unsupported: Vec<(String, String)>,
}

/// The name of the role scar creates for a workflow.
pub fn role_name(workflow: &str) -> String {
    format!("scar-{workflow}")
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

pub use crate::resources::s3_permission_sid;

/// The tag on a function that says it uses a bucket (`in`, `out` or
/// `in+out`): who still uses a bucket is one tagging query away.
pub fn bucket_use_tag(bucket: &str) -> String {
    format!("{TAG_BUCKET_PREFIX}{bucket}")
}

/// The key prefix of [`bucket_use_tag`].
pub const TAG_BUCKET_PREFIX: &str = "scar:bucket:";

pub fn function_arn(ctx: &Context, name: &str) -> String {
    format!(
        "arn:aws:lambda:{}:{}:function:{name}",
        ctx.region, ctx.account_id
    )
}

/// The supervisor layer names a manifest's functions use.
pub fn layer_names(m: &Manifest) -> BTreeSet<String> {
    m.functions
        .iter()
        .map(|f| f.spec.lambda.supervisor.layer_name.clone())
        .collect()
}

/// Builds the desired state of a manifest.
pub fn desire(m: &Manifest, ctx: &Context) -> DesiredState {
    let mut d = DesiredState {
        workflow: m.workflow.clone(),
        layer_names: layer_names(m),
        ..Default::default()
    };
    let tags = json!(ownership_tags(&m.workflow));
    let mut deployable: Vec<&FunctionDef> = Vec::new();
    for f in &m.functions {
        if let Some(why) = unsupported(f) {
            d.unsupported.push((f.name().to_string(), why));
        } else {
            deployable.push(f);
        }
    }
    if deployable.is_empty() {
        return d;
    }

    // The supervisor layer, content-addressed.
    let layer_name = deployable[0].spec.lambda.supervisor.layer_name.clone();
    let layer = Addr::new(Kind::LambdaLayer, &layer_name);
    d.resources.insert(
        layer.clone(),
        Resource::new(layer.clone())
            .attr("content_sha256", ctx.layer_sha256.clone())
            .attr("compatible_runtimes", json!([RUNTIME]))
            .attr(
                "license_info",
                deployable[0].spec.lambda.supervisor.license_info.clone(),
            ),
    );

    // The workflow's role, if some function has none.
    let needs_role = deployable.iter().any(|f| f.spec.iam.role.is_none());
    let role = Addr::new(Kind::IamRole, role_name(&m.workflow));
    if needs_role {
        let users: Vec<&FunctionDef> = deployable
            .iter()
            .copied()
            .filter(|f| f.spec.iam.role.is_none())
            .collect();
        d.resources.insert(
            role.clone(),
            Resource::new(role.clone())
                .attr("assume_role_policy", lambda_trust_policy())
                .attr("policy", least_privilege_policy(ctx, &users))
                .attr("tags", tags.clone()),
        );
    }

    let mut notifications: BTreeMap<String, Vec<(Value, Addr)>> = BTreeMap::new();
    let mut buckets: BTreeSet<String> = BTreeSet::new();
    for f in &deployable {
        let l = &f.spec.lambda;
        let name = l.name.clone();
        let func = Addr::new(Kind::LambdaFunction, &name);
        let code = ctx.code.get(&name).cloned().unwrap_or(Code::Zip {
            sha256: String::new(),
        });
        let mut r = Resource::new(func.clone())
            .attr(
                "role",
                match &f.spec.iam.role {
                    Some(arn) => Value::String(arn.clone()),
                    None => reference(&role, "arn"),
                },
            )
            .attr("memory", l.memory)
            .attr("timeout", l.timeout)
            .attr("description", l.description.clone())
            .attr("environment", json!(l.environment.variables))
            .attr(
                "architectures",
                json!(l
                    .architectures
                    .iter()
                    .map(|a| serde_json::to_value(a).unwrap_or_default())
                    .collect::<Vec<_>>()),
            )
            .attr("tags", json!(function_tags(&m.workflow, f)));
        r = with_code(r, &code, &l.layers, &layer);
        if let Some(script) = ctx.scripts.get(&name) {
            r = r.attr("init_script", script.clone());
        }
        if let Some(config) = ctx.configs.get(&name) {
            r = r.attr("function_config", config.clone());
        }
        if let Some(vpc) = &l.vpc {
            let mut s = vpc.subnet_ids.clone();
            s.sort();
            let mut g = vpc.security_group_ids.clone();
            g.sort();
            r = r
                .attr("vpc_subnet_ids", json!(s))
                .attr("vpc_security_group_ids", json!(g));
        }
        if !l.file_system.is_empty() {
            r = r.attr(
                "file_systems",
                json!(l
                    .file_system
                    .iter()
                    .map(|fs| json!([fs.arn, fs.local_mount_path]))
                    .collect::<Vec<_>>()),
            );
        }
        for (k, v) in &l.environment.variables {
            if crate::secrets::looks_secret(k, v) {
                r.sensitive.insert(format!("environment.{k}"));
            }
        }
        if f.spec.iam.role.is_none() {
            r = r.dep(role.clone());
        }
        let group = Addr::new(Kind::LogGroup, format!("/aws/lambda/{name}"));
        d.resources.insert(
            group.clone(),
            Resource::new(group)
                .attr(
                    "retention_days",
                    f.spec.cloudwatch.log_retention_policy_in_days,
                )
                .attr("tags", tags.clone()),
        );
        // Buckets, triggers and the permissions behind them.
        for inp in &l.input {
            if inp.storage_provider != "s3" {
                continue;
            }
            let (bucket, folder) = split_path(&inp.path);
            buckets.insert(bucket.to_string());
            let bucket_addr = Addr::new(Kind::S3Bucket, bucket);
            let perm = Addr::new(
                Kind::LambdaPermission,
                format!("{name}/{}", s3_permission_sid(bucket)),
            );
            let mut statement = Resource::new(perm.clone());
            // A permission statement cannot change in place: a change replaces it.
            statement.force_new = ["principal", "action", "source_arn", "source_account"]
                .into_iter()
                .map(str::to_string)
                .collect();
            d.resources.insert(
                perm.clone(),
                statement
                    .attr("function", name.clone())
                    .attr("sid", s3_permission_sid(bucket))
                    .attr("principal", "s3.amazonaws.com")
                    .attr("action", "lambda:InvokeFunction")
                    .attr("source_arn", format!("arn:aws:s3:::{bucket}"))
                    .attr("source_account", ctx.account_id.clone())
                    .dep(func.clone())
                    .dep(bucket_addr.clone()),
            );
            let prefix = if folder.is_empty() {
                Value::Null
            } else {
                Value::String(format!("{folder}/"))
            };
            let entry = json!({
                "id": notification_id(&m.workflow, &name, prefix.as_str().unwrap_or("")),
                "function_arn": function_arn(ctx, &name),
                "events": ["s3:ObjectCreated:*"],
                "prefix": prefix,
                "suffix": Value::Null,
            });
            notifications
                .entry(bucket.to_string())
                .or_default()
                .push((entry, perm));
            r = r.dep(bucket_addr);
        }
        for out in &l.output {
            if split_provider(&out.storage_provider) != ("s3", "default") {
                continue;
            }
            let (bucket, _) = split_path(&out.path);
            buckets.insert(bucket.to_string());
        }
        d.resources.insert(func, r);
    }
    for b in &buckets {
        let addr = Addr::new(Kind::S3Bucket, b);
        d.resources
            .insert(addr.clone(), Resource::new(addr).attr("tags", tags.clone()));
    }
    for (bucket, entries) in notifications {
        let addr = Addr::new(Kind::S3Notifications, &bucket);
        let mut r = Resource::new(addr).dep(Addr::new(Kind::S3Bucket, &bucket));
        let mut list = Vec::new();
        for (entry, perm) in entries {
            list.push(entry);
            r = r.dep(perm);
        }
        list.sort_by_key(|e| e["id"].as_str().unwrap_or_default().to_string());
        r = r.attr("entries", Value::Array(list));
        d.resources.insert(r.addr.clone(), r);
    }
    d
}

/// The attributes that say what code a function runs. A zip runs on
/// [`RUNTIME`] with [`HANDLER`], the function's `layers` and the supervisor
/// layer, and is identified by `code_sha256`; an image carries all of that
/// inside itself and is identified by `image_uri` (by digest), with
/// `package_type = "Image"` (a function cannot change package type in
/// place). A zip function has no `package_type` attribute.
pub fn with_code(r: Resource, code: &Code, layers: &[String], supervisor: &Addr) -> Resource {
    match code {
        Code::Zip { sha256 } => {
            let mut layers: Vec<Value> = layers.iter().map(|s| Value::String(s.clone())).collect();
            layers.push(reference(supervisor, "arn"));
            layers.sort_by_key(|v| v.as_str().unwrap_or_default().to_string());
            r.attr("runtime", RUNTIME)
                .attr("handler", HANDLER)
                .attr("layers", Value::Array(layers))
                .attr(ATTR_CODE_SHA256, sha256.clone())
                .dep(supervisor.clone())
        }
        Code::Image { uri, .. } => {
            let mut r = r
                .attr(ATTR_PACKAGE_TYPE, PackageType::Image.as_str())
                .attr(ATTR_IMAGE_URI, uri.clone());
            r.force_new.insert(ATTR_PACKAGE_TYPE.to_string());
            r
        }
    }
}

/// A zip function's code attribute (Lambda's `CodeSha256`, base64).
pub const ATTR_CODE_SHA256: &str = "code_sha256";
/// An image function's code attribute: the image URI, by digest.
pub const ATTR_IMAGE_URI: &str = "image_uri";
/// `"Image"` on image functions (absent on zips).
pub const ATTR_PACKAGE_TYPE: &str = "package_type";
/// The attributes whose change is a code update (UpdateFunctionCode).
pub const CODE_ATTRS: &[&str] = &[ATTR_CODE_SHA256, ATTR_IMAGE_URI];

/// A function's tags: ownership, and one [`bucket_use_tag`] per S3 bucket
/// it reads from or writes to.
fn function_tags(workflow: &str, f: &FunctionDef) -> BTreeMap<String, String> {
    let l = &f.spec.lambda;
    let mut uses: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
    for i in &l.input {
        if split_provider(&i.storage_provider) == ("s3", "default") {
            uses.entry(split_path(&i.path).0).or_default().0 = true;
        }
    }
    for o in &l.output {
        if split_provider(&o.storage_provider) == ("s3", "default") {
            uses.entry(split_path(&o.path).0).or_default().1 = true;
        }
    }
    let mut tags = ownership_tags(workflow);
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

/// Why a function cannot be deployed by scar yet, if it cannot.
fn unsupported(f: &FunctionDef) -> Option<String> {
    let l = &f.spec.lambda;
    if l.container.image.is_some() || l.runtime.as_deref() == Some("image") {
        return Some(
            "functions that run a container image (`container.image`) are not supported yet; remove `container.image` to run `init_script` directly on the supervisor".into(),
        );
    }
    if l.container.image_file.is_some() {
        return Some("`container.image_file` (udocker tarballs) is not supported".into());
    }
    if l.execution_mode.uses_batch() {
        return Some(format!(
            "`execution_mode: {}` (AWS Batch) is not supported yet",
            serde_json::to_value(l.execution_mode)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ));
    }
    if f.spec
        .api_gateway
        .as_ref()
        .is_some_and(|a| a.name.is_some())
    {
        return Some("`api_gateway` endpoints are not supported yet".into());
    }
    None
}

/// The trust policy of roles scar creates: Lambda may assume them.
pub fn lambda_trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    })
}

/// Least privilege for the functions that use the workflow's role: write
/// their own log groups, read their input prefixes, write their output
/// prefixes, and nothing else.
fn least_privilege_policy(ctx: &Context, functions: &[&FunctionDef]) -> Value {
    let mut logs = BTreeSet::new();
    let mut reads = BTreeSet::new();
    let mut writes = BTreeSet::new();
    for f in functions {
        let l = &f.spec.lambda;
        logs.insert(format!(
            "arn:aws:logs:{}:{}:log-group:/aws/lambda/{}:*",
            ctx.region, ctx.account_id, l.name
        ));
        for i in &l.input {
            if split_provider(&i.storage_provider) == ("s3", "default") {
                reads.insert(object_arn(&i.path));
            }
        }
        for o in &l.output {
            if split_provider(&o.storage_provider) == ("s3", "default") {
                writes.insert(object_arn(&o.path));
            }
        }
    }
    let mut statements = vec![json!({
        "Sid": "Logs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": logs.into_iter().collect::<Vec<_>>(),
    })];
    if !reads.is_empty() {
        statements.push(json!({
            "Sid": "ReadInputs",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": reads.into_iter().collect::<Vec<_>>(),
        }));
    }
    if !writes.is_empty() {
        statements.push(json!({
            "Sid": "WriteOutputs",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": writes.into_iter().collect::<Vec<_>>(),
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn object_arn(path: &str) -> String {
    let (bucket, folder) = split_path(path);
    if folder.is_empty() {
        format!("arn:aws:s3:::{bucket}/*")
    } else {
        format!("arn:aws:s3:::{bucket}/{folder}/*")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::load_texts;

    fn ctx() -> Context {
        Context {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            layer_sha256: "ab".repeat(32),
            code: BTreeMap::new(),
            configs: BTreeMap::new(),
            scripts: BTreeMap::new(),
        }
    }

    #[test]
    fn a_triggered_function_expands_to_its_graph() {
        let m = load_texts(&[(
            "m.yaml",
            "workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: f\n      input:\n      - storage_provider: s3\n        path: b/in\n      output:\n      - storage_provider: s3\n        path: c/out\n",
        )])
        .manifest
        .unwrap();
        let d = desire(&m, &ctx());
        let addrs: Vec<String> = d.resources.keys().map(|a| a.to_string()).collect();
        assert_eq!(
            addrs,
            [
                "lambda_layer.scar-supervisor",
                "iam_role.scar-wf",
                "s3_bucket.b",
                "s3_bucket.c",
                "lambda_function.f",
                "log_group./aws/lambda/f",
                "lambda_permission.f/scar-s3-b",
                "s3_notifications.b",
            ]
        );
        let policy = &d.resources[&Addr::new(Kind::IamRole, "scar-wf")].attrs["policy"];
        let text = policy.to_string();
        assert!(text.contains("arn:aws:s3:::b/in/*") && text.contains("arn:aws:s3:::c/out/*"));
        assert!(!text.contains("s3:*") && !text.contains("\"*\""));
        let n = &d.resources[&Addr::new(Kind::S3Notifications, "b")].attrs["entries"][0];
        assert_eq!(n["prefix"], "in/");
        assert!(n["id"].as_str().unwrap().starts_with("scar-wf-f-"));
    }

    #[test]
    fn images_and_batch_are_reported_unsupported() {
        let m = load_texts(&[(
            "m.yaml",
            "functions:\n  aws:\n  - lambda:\n      name: f\n      container:\n        image: grycap/cowsay\n",
        )])
        .manifest
        .unwrap();
        let d = desire(&m, &ctx());
        assert!(d.resources.is_empty());
        assert_eq!(d.unsupported.len(), 1);
        assert!(d.unsupported[0].1.contains("not supported yet"));
    }

    #[test]
    fn a_zip_functions_code_is_its_hash_runtime_handler_and_layers() {
        let supervisor = Addr::new(Kind::LambdaLayer, "scar-supervisor");
        let r = with_code(
            Resource::new(Addr::new(Kind::LambdaFunction, "f")),
            &Code::Zip {
                sha256: "abc=".into(),
            },
            &["arn:user".to_string()],
            &supervisor,
        );
        let keys: Vec<&str> = r.attrs.keys().map(String::as_str).collect();
        assert_eq!(keys, ["code_sha256", "handler", "layers", "runtime"]);
        assert_eq!(r.attrs["code_sha256"], "abc=");
        assert_eq!(r.attrs["runtime"], RUNTIME);
        let layers = r.attrs["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 2, "the user's and the supervisor's");
        assert!(layers.contains(&Value::String("arn:user".into())));
        assert!(r.deps.contains(&supervisor));
        assert!(r.force_new.is_empty());
    }

    #[test]
    fn an_image_functions_code_is_its_uri_and_it_cannot_become_a_zip_in_place() {
        let supervisor = Addr::new(Kind::LambdaLayer, "scar-supervisor");
        let r = with_code(
            Resource::new(Addr::new(Kind::LambdaFunction, "f")),
            &Code::Image {
                uri: "r.example/wf@sha256:0a".into(),
                digest: "sha256:0a".into(),
            },
            &["arn:user".to_string()],
            &supervisor,
        );
        let keys: Vec<&str> = r.attrs.keys().map(String::as_str).collect();
        assert_eq!(keys, ["image_uri", "package_type"]);
        assert_eq!(r.attrs["image_uri"], "r.example/wf@sha256:0a");
        assert_eq!(r.attrs["package_type"], "Image");
        assert!(r.force_new.contains("package_type"));
        assert!(r.deps.is_empty(), "an image needs no supervisor layer");
    }
}
