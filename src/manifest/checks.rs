//! Checks beyond types: names and ARNs, bucket naming rules, storage paths
//! and provider references, Batch settings, container image references,
//! credentials written inline, and things SCAR accepts but scar does not
//! deploy.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

use super::diag::{Diagnostic, SourceSet};
use super::files::{self, FileKey};
use super::yaml::PathSeg;
use super::{
    ComputeResourceType, FunctionDef, Locator, Manifest, WorkflowOrigin, LOG_RETENTION_DAYS,
};
use crate::image::reference::ImageRef;
use crate::p;

/// Storage provider types the supervisor knows.
pub const PROVIDER_TYPES: &[&str] = &["s3", "minio", "onedata", "webdav", "rucio"];

/// Lambda's reserved environment variable names (CreateFunction rejects them).
const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Lambda's limit on the total size of environment variables, in bytes.
const LAMBDA_ENV_LIMIT: usize = 4096;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    // The patterns are constants, each exercised by the tests below.
    cell.get_or_init(|| Regex::new(pattern).expect("a valid constant regex"))
}

fn function_name_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[A-Za-z0-9_-]{1,64}$")
}

fn role_arn_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]+$",
    )
}

fn instance_profile_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^arn:aws[a-z-]*:iam::\d{12}:instance-profile/[A-Za-z0-9_+=,.@/-]+$",
    )
}

fn layer_arn_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:layer:[A-Za-z0-9_-]{1,140}:\d+$",
    )
}

fn region_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[a-z]{2}(-[a-z]+)+-\d$")
}

fn env_name_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[A-Za-z][A-Za-z0-9_]*$")
}

/// Runs every check; marks secret values in `sources` for masking.
pub fn check(m: &Manifest, at: &Locator, sources: &mut SourceSet) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    workflow_name(m, at, &mut out);
    let mut seen: BTreeMap<&str, &FunctionDef> = BTreeMap::new();
    for f in &m.functions {
        if let Some(first) = seen.get(f.name()) {
            let path = [f.path(), p!["lambda", "name"]].concat();
            let first_path = [first.path(), p!["lambda", "name"]].concat();
            out.push(
                Diagnostic::error(
                    "duplicate-function",
                    format!("two functions are named `{}`", f.name()),
                )
                .at(f.file, at.span(f.file, &path))
                .label("defined again here")
                .also_at(
                    first.file,
                    at.span(first.file, &first_path),
                    "first defined here",
                )
                .hint("function names are unique in an account and region: rename one of them")
                .path(super::yaml::path_string(&path)),
            );
        } else {
            seen.insert(f.name(), f);
        }
        function(m, f, at, sources, &mut out);
    }
    providers(m, at, sources, &mut out);
    api_gateway(m, at, &mut out);
    for (file, i) in &m.oscar {
        let entry = p!["functions", "oscar", *i];
        let cluster = at
            .node(*file, &entry)
            .and_then(|n| n.as_map())
            .and_then(|m| m.first())
            .map(|(k, _)| k.span.clone())
            .unwrap_or_else(|| at.span(*file, &entry));
        out.push(
            Diagnostic::warning("oscar-not-deployed", "OSCAR services are not deployed by scar")
                .at(*file, cluster)
                .label("parsed and skipped")
                .hint("deploy OSCAR services with SCAR or the OSCAR CLI; scar deploys `functions.aws` only"),
        );
    }
    out
}

fn workflow_name(m: &Manifest, at: &Locator, out: &mut Vec<Diagnostic>) {
    if m.workflow_origin == WorkflowOrigin::Explicit {
        return;
    }
    let Some(first) = m.functions.first() else {
        return;
    };
    let from = match m.workflow_origin {
        WorkflowOrigin::FolderName => "the folder's name",
        _ => "the file's name",
    };
    let basis = m.workflow_basis.as_deref().unwrap_or("unknown");
    out.push(
        Diagnostic::note(
            "default-workflow",
            format!(
                "workflow name defaults to `{}` ({from} and a hash of where the manifest is)",
                m.workflow
            ),
        )
        .at(first.file, at.key_span(first.file, &p!["functions"]))
        .with_note(format!(
            "the hash is {basis}: the same in every clone of the project, distinct across projects"
        ))
        .hint(format!(
            "add `workflow: {}` at the top to pin it: resources are owned by the workflow name",
            m.workflow
        )),
    );
}

fn function(
    m: &Manifest,
    f: &FunctionDef,
    at: &Locator,
    sources: &mut SourceSet,
    out: &mut Vec<Diagnostic>,
) {
    let l = &f.spec.lambda;
    let base = [f.path(), p!["lambda"]].concat();
    let path = |rest: Vec<PathSeg>| [base.clone(), rest].concat();
    let err = |code: &'static str, msg: String, rest: Vec<PathSeg>| {
        let p = path(rest);
        Diagnostic::error(code, msg)
            .at(f.file, at.span(f.file, &p))
            .path(super::yaml::path_string(&p))
    };
    let warn = |code: &'static str, msg: String, rest: Vec<PathSeg>| {
        let p = path(rest);
        Diagnostic::warning(code, msg)
            .at(f.file, at.span(f.file, &p))
            .path(super::yaml::path_string(&p))
    };

    if !l.name.is_empty() && !function_name_re().is_match(&l.name) {
        let fixed: String = l
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .take(64)
            .collect::<String>()
            .trim_matches('-')
            .to_string();
        let why = if l.name.chars().count() > 64 {
            format!(
                "it is {} characters long; at most 64 are allowed",
                l.name.chars().count()
            )
        } else {
            "only letters, digits, `-` and `_` are allowed".to_string()
        };
        out.push(
            err(
                "invalid-function-name",
                format!("`{}` is not a valid Lambda function name: {why}", l.name),
                p!["name"],
            )
            .hint(format!("for example `name: {fixed}`")),
        );
    }

    if l.container.timeout_threshold >= l.timeout {
        let p = if at.has(f.file, &path(p!["container", "timeout_threshold"])) {
            p!["container", "timeout_threshold"]
        } else {
            p!["timeout"]
        };
        out.push(
            err(
                "timeout-threshold",
                format!(
                    "`container.timeout_threshold` ({} s) leaves no time to run the script within `timeout` ({} s)",
                    l.container.timeout_threshold, l.timeout
                ),
                p,
            )
            .hint("make `timeout_threshold` smaller than `timeout`, e.g. 10 s of a 300 s timeout"),
        );
    }

    if let Some(r) = &l.region {
        if !region_re().is_match(r) {
            out.push(
                err(
                    "invalid-region",
                    format!("`{r}` is not an AWS region name"),
                    p!["region"],
                )
                .hint("for example `region: us-east-1`"),
            );
        }
    }

    // Layers: SCAR's reference file shows `arn:....` placeholders, so a bad
    // ARN is a warning here; AWS rejects it when the function is created.
    for (i, layer) in l.layers.iter().enumerate() {
        if !layer_arn_re().is_match(layer) {
            out.push(
                warn(
                    "invalid-layer-arn",
                    format!("`{layer}` is not a layer version ARN"),
                    p!["layers", i],
                )
                .hint("use `arn:aws:lambda:<region>:<account>:layer:<name>:<version>`; Lambda rejects anything else when the function is created"),
            );
        }
    }

    env_vars(
        f,
        &l.environment.variables,
        path(p!["environment", "Variables"]),
        true,
        at,
        sources,
        out,
    );
    env_vars(
        f,
        &l.container.environment.variables,
        path(p!["container", "environment", "Variables"]),
        false,
        at,
        sources,
        out,
    );

    if let Some(vpc) = &l.vpc {
        if vpc.subnet_ids.is_empty() != vpc.security_group_ids.is_empty() {
            out.push(
                err(
                    "vpc-incomplete",
                    "a VPC configuration needs both `SubnetIds` and `SecurityGroupIds`".into(),
                    p!["vpc"],
                )
                .hint("list at least one subnet and one security group, or remove `vpc`"),
            );
        }
        for (i, s) in vpc.subnet_ids.iter().enumerate() {
            if !s.starts_with("subnet-") {
                out.push(
                    err(
                        "invalid-subnet",
                        format!("`{s}` is not a subnet id"),
                        p!["vpc", "SubnetIds", i],
                    )
                    .hint("subnet ids look like `subnet-0abc1234`"),
                );
            }
        }
        for (i, s) in vpc.security_group_ids.iter().enumerate() {
            if !s.starts_with("sg-") {
                out.push(
                    err(
                        "invalid-security-group",
                        format!("`{s}` is not a security group id"),
                        p!["vpc", "SecurityGroupIds", i],
                    )
                    .hint("security group ids look like `sg-0abc1234`"),
                );
            }
        }
    }
    for (i, fs) in l.file_system.iter().enumerate() {
        let ok = fs
            .local_mount_path
            .strip_prefix("/mnt/")
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'));
        if !ok {
            out.push(
                err(
                    "invalid-mount-path",
                    format!("`{}` is not an EFS mount path", fs.local_mount_path),
                    p!["file_system", i, "LocalMountPath"],
                )
                .hint("Lambda mounts EFS under `/mnt/<name>`, e.g. `/mnt/data`"),
            );
        }
        if !fs.arn.starts_with("arn:") || !fs.arn.contains(":elasticfilesystem:") {
            out.push(
                err(
                    "invalid-efs-arn",
                    format!("`{}` is not an EFS access point ARN", fs.arn),
                    p!["file_system", i, "Arn"],
                )
                .hint("use `arn:aws:elasticfilesystem:<region>:<account>:access-point/fsap-...`"),
            );
        }
    }

    local_files(m, f, at, out);
    container_image(f, at, out);
    if let Some(rt) = &l.runtime {
        if rt != "image" {
            out.push(
                warn(
                    "runtime-ignored",
                    format!("`runtime: {rt}` is ignored: scar runs zip functions on the `provided.al2023` runtime with its own supervisor"),
                    p!["runtime"],
                )
                .hint("remove `runtime`, or set `runtime: image` to deploy a container image"),
            );
        }
    }
    if l.supervisor.version != "latest" {
        out.push(
            warn(
                "supervisor-version-ignored",
                format!(
                    "`supervisor.version: {}` is ignored: scar deploys the supervisor built with it",
                    l.supervisor.version
                ),
                p!["supervisor", "version"],
            )
            .hint("remove `supervisor.version`"),
        );
    }

    storage_paths(m, f, at, out);
    iam(f, at, out);
    cloudwatch(f, at, out);
    if l.execution_mode.uses_batch() {
        batch(f, at, out);
    }
    if let Some(bucket) = &l.deployment.bucket {
        if let Err((why, fix)) = bucket_name_problem(bucket) {
            out.push(
                err(
                    "invalid-bucket-name",
                    format!("`{bucket}` is not a valid S3 bucket name: {why}"),
                    p!["deployment", "bucket"],
                )
                .hint(fix),
            );
        }
    }
}

/// `container.image` is an image reference docker would read
/// ([`crate::image::reference`]); a placeholder left from an example is
/// its own error.
fn container_image(f: &FunctionDef, at: &Locator, out: &mut Vec<Diagnostic>) {
    let Some(image) = &f.spec.lambda.container.image else {
        return;
    };
    if let Err(e) = ImageRef::parse(image) {
        let p = [f.path(), p!["lambda", "container", "image"]].concat();
        out.push(
            Diagnostic::error(e.code(), e.to_string())
                .at(f.file, at.span(f.file, &p))
                .path(super::yaml::path_string(&p))
                .hint(e.hint()),
        );
    }
}

/// Every file the function names may be read ([`super::files`]): inside
/// the manifest's folder or an `--allow-files-in` folder, a regular file,
/// under its size cap.
fn local_files(m: &Manifest, f: &FunctionDef, at: &Locator, out: &mut Vec<Diagnostic>) {
    let l = &f.spec.lambda;
    for key in FileKey::ALL {
        let given = match key {
            FileKey::InitScript => &l.init_script,
            FileKey::RunScript => &l.run_script,
            FileKey::ExtraPayload => &l.extra_payload,
            FileKey::ImageFile => &l.container.image_file,
        };
        let Some(given) = given.as_deref() else {
            continue;
        };
        let Err(e) = files::resolve(m.file_roots(f), given, key) else {
            continue;
        };
        let p = [f.path(), p!["lambda"], key.path()].concat();
        let msg = format!("{}: {e}", key.name());
        let d = if e.is_error() {
            Diagnostic::error(e.code(), msg)
        } else {
            Diagnostic::warning(e.code(), msg)
        };
        out.push(
            d.at(f.file, at.span(f.file, &p))
                .path(super::yaml::path_string(&p))
                .hint(e.hint()),
        );
    }
}

fn env_vars(
    f: &FunctionDef,
    vars: &BTreeMap<String, String>,
    path: Vec<PathSeg>,
    lambda_env: bool,
    at: &Locator,
    sources: &mut SourceSet,
    out: &mut Vec<Diagnostic>,
) {
    let mut size = 0;
    for (k, v) in vars {
        size += k.len() + v.len();
        let p = [path.clone(), p![k.as_str()]].concat();
        if !env_name_re().is_match(k) {
            out.push(
                Diagnostic::error(
                    "invalid-env-name",
                    format!("`{k}` is not a valid environment variable name"),
                )
                .at(f.file, at.key_span(f.file, &p))
                .path(super::yaml::path_string(&p))
                .hint("start with a letter; use only letters, digits and `_`"),
            );
        }
        if lambda_env && RESERVED_ENV.contains(&k.as_str()) {
            out.push(
                Diagnostic::error(
                    "reserved-env",
                    format!("`{k}` is reserved by Lambda and cannot be set"),
                )
                .at(f.file, at.key_span(f.file, &p))
                .path(super::yaml::path_string(&p))
                .hint("remove it; Lambda sets it itself"),
            );
        }
        if crate::secrets::looks_secret(k, v) && !v.is_empty() {
            sources.mark_secret(f.file, at.span(f.file, &p));
            out.push(
                Diagnostic::warning(
                    "inline-credential",
                    format!("`{k}` looks like a credential written inline"),
                )
                .at(f.file, at.span(f.file, &p))
                .label("stored in plain text in the function's configuration")
                .path(super::yaml::path_string(&p))
                .hint("give the function an IAM role with the access it needs, or read the secret at run time (Secrets Manager, SSM); scar masks it in its output"),
            );
        }
    }
    if lambda_env && size > LAMBDA_ENV_LIMIT {
        out.push(
            Diagnostic::error(
                "env-too-large",
                format!("the Lambda environment is {size} bytes; Lambda allows {LAMBDA_ENV_LIMIT}"),
            )
            .at(f.file, at.span(f.file, &path))
            .path(super::yaml::path_string(&path))
            .hint("move large values into files (init_script, extra_payload) or the container's environment"),
        );
    }
}

/// Splits `<type>[.<id>]`.
pub fn split_provider(p: &str) -> (&str, &str) {
    match p.split_once('.') {
        Some((t, id)) => (t, id),
        None => (p, "default"),
    }
}

/// Splits `bucket[/folder...]` into the bucket and the folder (no slashes
/// at either end; empty for a whole bucket).
pub fn split_path(path: &str) -> (&str, &str) {
    let trimmed = path.trim_matches('/');
    match trimmed.split_once('/') {
        Some((b, rest)) => (b, rest.trim_matches('/')),
        None => (trimmed, ""),
    }
}

fn storage_paths(m: &Manifest, f: &FunctionDef, at: &Locator, out: &mut Vec<Diagnostic>) {
    let l = &f.spec.lambda;
    for (list, i, provider, path) in l.storage_entries() {
        let base = [f.path(), p!["lambda", list, i]].concat();
        let sp = [base.clone(), p!["storage_provider"]].concat();
        let pp = [base.clone(), p!["path"]].concat();
        let (kind, id) = split_provider(provider);
        if !PROVIDER_TYPES.contains(&kind) {
            let suggestion = super::suggest::did_you_mean(kind, PROVIDER_TYPES);
            out.push(
                Diagnostic::error(
                    "unknown-provider-type",
                    format!("`{provider}` is not a storage provider: the type must be one of s3, minio, onedata, webdav, rucio"),
                )
                .at(f.file, at.span(f.file, &sp))
                .path(super::yaml::path_string(&sp))
                .hint(match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "write `<type>` or `<type>.<id>`, e.g. `s3` or `minio.my_minio`".into(),
                }),
            );
        } else if id != "default" && !m.storage_providers.has(kind, id) {
            let defined = m.storage_providers.ids(kind);
            let hint = match super::suggest::did_you_mean(id, &defined) {
                Some(s) => format!("did you mean `{kind}.{s}`?"),
                None => format!("define it under `storage_providers: {kind}: {id}: ...`, or use `{kind}` for the function's own credentials"),
            };
            out.push(
                Diagnostic::error(
                    "undefined-provider",
                    format!("storage provider `{provider}` is not defined in `storage_providers`"),
                )
                .at(f.file, at.span(f.file, &sp))
                .path(super::yaml::path_string(&sp))
                .hint(hint),
            );
        }
        if list == "input" && kind == "s3" && id != "default" {
            out.push(
                Diagnostic::warning(
                    "input-not-triggered",
                    format!("input `{provider}` gets no trigger: SCAR and scar wire S3 triggers only for `storage_provider: s3`"),
                )
                .at(f.file, at.span(f.file, &sp))
                .path(super::yaml::path_string(&sp))
                .hint("use `storage_provider: s3` for a bucket in this account that should trigger the function"),
            );
        }
        // The path itself.
        let (bucket, folder) = split_path(path);
        let problem = if path.trim().is_empty() {
            Some((
                "the path is empty".to_string(),
                "write `bucket` or `bucket/folder`".to_string(),
            ))
        } else if path.starts_with('/') {
            Some((
                "it starts with `/`".into(),
                format!(
                    "write it without the leading slash: `{}`",
                    path.trim_start_matches('/')
                ),
            ))
        } else if path.contains("//") {
            Some((
                "it holds an empty folder (`//`)".into(),
                format!("write `{}`", path.replace("//", "/")),
            ))
        } else {
            None
        };
        if let Some((why, fix)) = problem {
            out.push(
                Diagnostic::error(
                    "invalid-path",
                    format!("`{path}` is not a `bucket[/folder]` path: {why}"),
                )
                .at(f.file, at.span(f.file, &pp))
                .path(super::yaml::path_string(&pp))
                .hint(fix),
            );
            continue;
        }
        if kind == "s3" || kind == "minio" {
            if let Err((why, fix)) = bucket_name_problem(bucket) {
                out.push(
                    Diagnostic::error(
                        "invalid-bucket-name",
                        format!("`{bucket}` is not a valid S3 bucket name: {why}"),
                    )
                    .at(f.file, at.span(f.file, &pp))
                    .path(super::yaml::path_string(&pp))
                    .hint(fix),
                );
            }
        }
        if path.ends_with('/') && !folder.is_empty() {
            out.push(
                Diagnostic::warning("trailing-slash", format!("`{path}` ends with `/`"))
                    .at(f.file, at.span(f.file, &pp))
                    .path(super::yaml::path_string(&pp))
                    .hint(format!(
                        "write `{}`; the folder is the same",
                        path.trim_end_matches('/')
                    )),
            );
        }
    }
}

/// Why a bucket name breaks S3's naming rules, and a fix.
pub fn bucket_name_problem(name: &str) -> Result<(), (String, String)> {
    let fix_name = || {
        let mut s: String = name
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        s = s.trim_matches(|c| c == '-' || c == '.').to_string();
        while s.contains("..") {
            s = s.replace("..", ".");
        }
        if s.len() < 3 {
            s = format!("{s}-bucket");
        }
        s.truncate(63);
        format!("for example `{s}`")
    };
    let len = name.len();
    if !(3..=63).contains(&len) {
        return Err((
            format!("it is {len} characters long; S3 needs 3 to 63"),
            fix_name(),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        let what = if c.is_ascii_uppercase() {
            "upper-case letters are not allowed".to_string()
        } else {
            format!("`{c}` is not allowed (only a-z, 0-9, `.` and `-`)")
        };
        return Err((what, fix_name()));
    }
    let first = name.chars().next().unwrap_or('-');
    let last = name.chars().last().unwrap_or('-');
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err((
            "it must start and end with a letter or digit".into(),
            fix_name(),
        ));
    }
    if name.contains("..") {
        return Err(("it must not hold two adjacent dots".into(), fix_name()));
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Err((
            "it must not look like an IP address".into(),
            "choose a name with letters".into(),
        ));
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return Err((
                format!("the prefix `{prefix}` is reserved"),
                "choose another prefix".into(),
            ));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", "--x-s3", ".mrap", "--table-s3"] {
        if name.ends_with(suffix) {
            return Err((
                format!("the suffix `{suffix}` is reserved"),
                "choose another suffix".into(),
            ));
        }
    }
    Ok(())
}

fn iam(f: &FunctionDef, at: &Locator, out: &mut Vec<Diagnostic>) {
    if let Some(role) = &f.spec.iam.role {
        if !role_arn_re().is_match(role) {
            let p = [f.path(), p!["iam", "role"]].concat();
            let hint = if !role.starts_with("arn:") && !role.is_empty() {
                format!("use the role's ARN, e.g. `arn:aws:iam::123456789012:role/{role}`")
            } else {
                "use `arn:aws:iam::<12-digit account>:role/<name>`, or remove `role` to let scar create a least-privilege role".into()
            };
            out.push(
                Diagnostic::error(
                    "invalid-role-arn",
                    format!("`{role}` is not an IAM role ARN"),
                )
                .at(f.file, at.span(f.file, &p))
                .path(super::yaml::path_string(&p))
                .hint(hint),
            );
        }
    }
}

fn cloudwatch(f: &FunctionDef, at: &Locator, out: &mut Vec<Diagnostic>) {
    let days = f.spec.cloudwatch.log_retention_policy_in_days;
    if !LOG_RETENTION_DAYS.contains(&days) {
        let nearest = LOG_RETENTION_DAYS
            .iter()
            .min_by_key(|d| d.abs_diff(days))
            .copied()
            .unwrap_or(30);
        let p = [f.path(), p!["cloudwatch", "log_retention_policy_in_days"]].concat();
        out.push(
            Diagnostic::error(
                "invalid-retention",
                format!("CloudWatch Logs cannot keep logs for {days} days"),
            )
            .at(f.file, at.span(f.file, &p))
            .path(super::yaml::path_string(&p))
            .with_note("allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653")
            .hint(format!("the nearest allowed value is {nearest}")),
        );
    }
}

fn batch(f: &FunctionDef, at: &Locator, out: &mut Vec<Diagnostic>) {
    let b = &f.spec.batch;
    let c = &b.compute_resources;
    let base = [f.path(), p!["batch"]].concat();
    let at_path = |rest: Vec<PathSeg>| {
        let p = [base.clone(), rest].concat();
        (at.span(f.file, &p), super::yaml::path_string(&p))
    };
    if !(c.min_v_cpus <= c.desired_v_cpus && c.desired_v_cpus <= c.max_v_cpus) {
        let (span, path) = at_path(p!["compute_resources"]);
        out.push(
            Diagnostic::error(
                "batch-vcpus-order",
                format!(
                    "Batch needs min_v_cpus ≤ desired_v_cpus ≤ max_v_cpus; found {} ≤ {} ≤ {}",
                    c.min_v_cpus, c.desired_v_cpus, c.max_v_cpus
                ),
            )
            .at(f.file, span)
            .path(path)
            .hint("raise `max_v_cpus` or lower `min_v_cpus`/`desired_v_cpus`"),
        );
    }
    if b.vcpus > c.max_v_cpus {
        let (span, path) = at_path(p!["vcpus"]);
        out.push(
            Diagnostic::error(
                "batch-vcpus-exceed",
                format!(
                    "a job asks for {} vCPUs but the compute environment has at most {}: it would never start",
                    b.vcpus, c.max_v_cpus
                ),
            )
            .at(f.file, span)
            .path(path)
            .hint("raise `compute_resources.max_v_cpus` or lower `vcpus`"),
        );
    }
    if c.subnets.is_empty() || c.security_group_ids.is_empty() {
        let (span, path) = at_path(p!["compute_resources"]);
        out.push(
            Diagnostic::warning(
                "batch-network-missing",
                "Batch compute environments need `subnets` and `security_group_ids`".to_string(),
            )
            .at(f.file, span)
            .path(path)
            .with_note("SCAR took them from ~/.scar/scar.cfg; scar reads only the manifest")
            .hint("set `batch.compute_resources.subnets` and `security_group_ids`; plan refuses a Batch function without them"),
        );
    }
    for (i, s) in c.subnets.iter().enumerate() {
        for part in s.split_whitespace() {
            if !part.starts_with("subnet-") {
                let (span, path) = at_path(p!["compute_resources", "subnets", i]);
                out.push(
                    Diagnostic::error("invalid-subnet", format!("`{part}` is not a subnet id"))
                        .at(f.file, span)
                        .path(path)
                        .hint("subnet ids look like `subnet-0abc1234`"),
                );
            }
        }
        if s.split_whitespace().count() > 1 {
            let (span, path) = at_path(p!["compute_resources", "subnets", i]);
            out.push(
                Diagnostic::error(
                    "subnets-one-item",
                    format!("`{s}` holds several subnet ids in one list item"),
                )
                .at(f.file, span)
                .path(path)
                .hint("write one `- subnet-...` line per subnet (a missing `-` joins the lines)"),
            );
        }
    }
    for (i, s) in c.security_group_ids.iter().enumerate() {
        if !s.starts_with("sg-") {
            let (span, path) = at_path(p!["compute_resources", "security_group_ids", i]);
            out.push(
                Diagnostic::error(
                    "invalid-security-group",
                    format!("`{s}` is not a security group id"),
                )
                .at(f.file, span)
                .path(path)
                .hint("security group ids look like `sg-0abc1234`"),
            );
        }
    }
    if let Some(r) = &b.service_role {
        if !role_arn_re().is_match(r) {
            let (span, path) = at_path(p!["service_role"]);
            out.push(
                Diagnostic::error("invalid-role-arn", format!("`{r}` is not an IAM role ARN"))
                    .at(f.file, span)
                    .path(path)
                    .hint("use `arn:aws:iam::<account>:role/service-role/AWSBatchServiceRole`, or remove it for that default"),
            );
        }
    }
    if let Some(r) = &c.instance_role {
        if !instance_profile_re().is_match(r) {
            let (span, path) = at_path(p!["compute_resources", "instance_role"]);
            out.push(
                Diagnostic::error(
                    "invalid-instance-profile",
                    format!("`{r}` is not an instance profile ARN"),
                )
                .at(f.file, span)
                .path(path)
                .hint("use `arn:aws:iam::<account>:instance-profile/ecsInstanceRole`, or remove it for that default"),
            );
        }
    }
    batch_platform(f, at, out);
    let mnp = &b.multi_node_parallel;
    if mnp.enabled && mnp.main_node_index >= mnp.number_nodes {
        let (span, path) = at_path(p!["multi_node_parallel", "main_node_index"]);
        out.push(
            Diagnostic::error(
                "batch-main-node",
                format!(
                    "main_node_index {} is not one of the {} nodes (0–{})",
                    mnp.main_node_index,
                    mnp.number_nodes,
                    mnp.number_nodes.saturating_sub(1)
                ),
            )
            .at(f.file, span)
            .path(path)
            .hint("use an index below `number_nodes`, usually 0"),
        );
    }
}

/// The memory (MiB) Fargate allows with `vcpus` vCPUs: (least, most,
/// step); `None` for a vCPU count it does not offer.
pub fn fargate_memory(vcpus: u32) -> Option<(u32, u32, u32)> {
    match vcpus {
        1 => Some((2048, 8192, 1024)),
        2 => Some((4096, 16384, 1024)),
        4 => Some((8192, 30720, 1024)),
        8 => Some((16384, 61440, 4096)),
        16 => Some((32768, 122880, 8192)),
        _ => None,
    }
}

/// What the Batch platform takes: the function's image (Batch runs it),
/// and on Fargate no GPU, no multi-node job, and one of its vCPU and
/// memory pairs.
fn batch_platform(f: &FunctionDef, at: &Locator, out: &mut Vec<Diagnostic>) {
    let b = &f.spec.batch;
    let l = &f.spec.lambda;
    let at_path = |p: Vec<PathSeg>| {
        let p = [f.path(), p].concat();
        (at.span(f.file, &p), super::yaml::path_string(&p))
    };
    if l.container.image.is_none() {
        let (span, path) = at_path(p!["lambda", "execution_mode"]);
        out.push(
            Diagnostic::error(
                "batch-needs-image",
                "AWS Batch runs the function's container image, and this function names none".to_string(),
            )
            .at(f.file, span)
            .path(path)
            .hint("set `container.image` (scar adds the supervisor to it and runs it on Lambda and on Batch), or use `execution_mode: lambda`"),
        );
    }
    let fargate = matches!(
        b.compute_resources.resource_type,
        ComputeResourceType::Fargate | ComputeResourceType::FargateSpot
    );
    if !fargate {
        return;
    }
    if b.enable_gpu {
        let (span, path) = at_path(p!["batch", "enable_gpu"]);
        out.push(
            Diagnostic::error("batch-gpu-on-fargate", "Fargate offers no GPUs".to_string())
                .at(f.file, span)
                .path(path)
                .hint("use `compute_resources.type: EC2` (with a GPU instance type such as `g4dn.xlarge`), or remove `enable_gpu`"),
        );
    }
    if b.multi_node_parallel.enabled {
        let (span, path) = at_path(p!["batch", "multi_node_parallel", "enabled"]);
        out.push(
            Diagnostic::error(
                "batch-multinode-on-fargate",
                "Fargate does not run multi-node parallel jobs".to_string(),
            )
            .at(f.file, span)
            .path(path)
            .hint("use `compute_resources.type: EC2`, or turn `multi_node_parallel` off"),
        );
    }
    match fargate_memory(b.vcpus) {
        None => {
            let (span, path) = at_path(p!["batch", "vcpus"]);
            out.push(
                Diagnostic::error(
                    "batch-fargate-vcpus",
                    format!("Fargate offers 1, 2, 4, 8 or 16 vCPUs, not {}", b.vcpus),
                )
                .at(f.file, span)
                .path(path)
                .hint("use one of 1, 2, 4, 8, 16"),
            );
        }
        Some((least, most, step))
            if b.memory < least || b.memory > most || !(b.memory - least).is_multiple_of(step) =>
        {
            let (span, path) = at_path(p!["batch", "memory"]);
            out.push(
                Diagnostic::error(
                    "batch-fargate-memory",
                    format!(
                        "with {} vCPUs Fargate takes {least}–{most} MiB in steps of {step}, not {}",
                        b.vcpus, b.memory
                    ),
                )
                .at(f.file, span)
                .path(path)
                .hint(format!(
                    "set `batch.memory` to {least}, or another value of that range"
                )),
            );
        }
        Some(_) => {}
    }
}

fn providers(m: &Manifest, at: &Locator, sources: &SourceSet, out: &mut Vec<Diagnostic>) {
    let sp = &m.storage_providers;
    let mut inline: Vec<(&str, &str, &str)> = Vec::new();
    for (id, p) in &sp.s3 {
        if p.access_key.is_some() {
            inline.push(("s3", id, "access_key"));
        }
        if p.secret_key.is_some() {
            inline.push(("s3", id, "secret_key"));
        }
    }
    for (id, p) in &sp.minio {
        if p.secret_key.is_some() {
            inline.push(("minio", id, "secret_key"));
        }
        if p.access_key.is_some() {
            inline.push(("minio", id, "access_key"));
        }
    }
    for (id, p) in &sp.onedata {
        if p.token.is_some() {
            inline.push(("onedata", id, "token"));
        }
    }
    for (id, p) in &sp.webdav {
        if p.password.is_some() {
            inline.push(("webdav", id, "password"));
        }
    }
    for (id, p) in &sp.rucio {
        if p.access_token.is_some() {
            inline.push(("rucio", id, "access_token"));
        }
        if p.refresh_token.is_some() {
            inline.push(("rucio", id, "refresh_token"));
        }
    }
    // Find the file that defines each: the first whose document has it.
    let files: Vec<usize> = {
        let mut f: Vec<usize> = m.functions.iter().map(|f| f.file).collect();
        f.extend(0..sources.files().len());
        f.dedup();
        f
    };
    for (kind, id, key) in inline {
        let path = p!["storage_providers", kind, id, key];
        let Some(file) = files.iter().copied().find(|f| at.has(*f, &path)) else {
            continue;
        };
        // The schema walk (`x-scar-secret`) has already marked it for masking.
        let span = at.span(file, &path);
        out.push(
            Diagnostic::warning(
                "inline-credential",
                format!("`{kind}.{id}.{key}` is a credential written inline"),
            )
            .at(file, span)
            .label("masked in scar's output; stored in plain text in the function's configuration")
            .path(super::yaml::path_string(&path))
            .hint("keep credentials out of manifests: for S3 in this account use the function's role (`storage_provider: s3`); otherwise inject them at deploy time"),
        );
    }
}

/// `api_gateway`: one REST API per function (its name is the API's key
/// in the workflow, so two functions cannot share one), a stage name API
/// Gateway accepts, and an HTTP method it knows.
fn api_gateway(m: &Manifest, at: &Locator, out: &mut Vec<Diagnostic>) {
    const METHODS: [&str; 8] = [
        "ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
    ];
    static STAGE: OnceLock<Regex> = OnceLock::new();
    let mut seen: BTreeMap<&str, &FunctionDef> = BTreeMap::new();
    for f in &m.functions {
        let Some(api) = &f.spec.api_gateway else {
            continue;
        };
        let Some(name) = api.name.as_deref() else {
            continue;
        };
        let name_path = [f.path(), p!["api_gateway", "name"]].concat();
        if let Some(first) = seen.get(name) {
            let first_path = [first.path(), p!["api_gateway", "name"]].concat();
            out.push(
                Diagnostic::error(
                    "duplicate-api-name",
                    format!(
                        "functions `{}` and `{}` both name the REST API `{name}`",
                        first.name(),
                        f.name()
                    ),
                )
                .at(f.file, at.span(f.file, &name_path))
                .label("named again here")
                .also_at(first.file, at.span(first.file, &first_path), "first named here")
                .hint("scar makes one REST API per function, found by its name: give each function's `api_gateway.name` a name of its own")
                .path(super::yaml::path_string(&name_path)),
            );
        } else {
            seen.insert(name, f);
        }
        if !re(&STAGE, r"^[A-Za-z0-9_-]{1,128}$").is_match(&api.stage_name) {
            let p = [f.path(), p!["api_gateway", "stage_name"]].concat();
            out.push(
                Diagnostic::error(
                    "invalid-stage-name",
                    format!(
                        "`{}` is not a stage name API Gateway accepts",
                        api.stage_name
                    ),
                )
                .at(f.file, at.span(f.file, &p))
                .path(super::yaml::path_string(&p))
                .hint("use letters, digits, `-` and `_` only (at most 128), e.g. `scar`"),
            );
        }
        if !METHODS.contains(&api.http_method.as_str()) {
            let p = [f.path(), p!["api_gateway", "http_method"]].concat();
            out.push(
                Diagnostic::error(
                    "invalid-http-method",
                    format!(
                        "`{}` is not an HTTP method API Gateway knows",
                        api.http_method
                    ),
                )
                .at(f.file, at.span(f.file, &p))
                .path(super::yaml::path_string(&p))
                .hint(format!("use one of {}", METHODS.join(", "))),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        assert!(bucket_name_problem("scar-imagemagick").is_ok());
        assert!(bucket_name_problem("a.b-c1").is_ok());
        assert!(bucket_name_problem("ab").is_err());
        assert!(bucket_name_problem("My_Bucket").is_err());
        assert!(bucket_name_problem("-abc").is_err());
        assert!(bucket_name_problem("a..b").is_err());
        assert!(bucket_name_problem("192.168.1.1").is_err());
        assert!(bucket_name_problem("xn--abc").is_err());
        assert!(bucket_name_problem(&"a".repeat(64)).is_err());
    }

    #[test]
    fn arn_patterns_accept_real_arns() {
        assert!(role_arn_re().is_match("arn:aws:iam::123456789012:role/scar-existing-role"));
        assert!(role_arn_re()
            .is_match("arn:aws:iam::123456789012:role/service-role/AWSBatchServiceRole"));
        assert!(!role_arn_re().is_match("my-role"));
        assert!(instance_profile_re()
            .is_match("arn:aws:iam::123456789012:instance-profile/ecsInstanceRole"));
        assert!(layer_arn_re().is_match("arn:aws:lambda:us-east-1:123456789012:layer:tools:3"));
        assert!(region_re().is_match("eu-west-1") && !region_re().is_match("europe"));
        assert!(env_name_re().is_match("KEY_1") && !env_name_re().is_match("1KEY"));
        assert!(function_name_re().is_match("scar-cowsay") && !function_name_re().is_match("a b"));
    }

    #[test]
    fn paths_split_into_bucket_and_folder() {
        assert_eq!(split_path("b"), ("b", ""));
        assert_eq!(split_path("b/in"), ("b", "in"));
        assert_eq!(split_path("b/in/deep/"), ("b", "in/deep"));
        assert_eq!(split_provider("s3"), ("s3", "default"));
        assert_eq!(split_provider("minio.my_minio"), ("minio", "my_minio"));
    }
}
