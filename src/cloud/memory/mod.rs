//! `MemoryCloud`: an in-memory implementation of the cloud traits, a test
//! double for fast planner and executor tests (never a user-facing target).
//!
//! It behaves as AWS does where moto shows it (unique names, `NotFound`
//! errors, `CodeSha256` = base64 of the zip's SHA-256 (for an image, the hex
//! of its digest, or of the URI's SHA-256 for a tag, as moto stubs it; the
//! image URIs only from GetFunction), layer versions that
//! only grow, notification configurations stored whole), and as AWS
//! documents it where moto is lax (a duplicate permission Sid is a conflict,
//! retention days must be one of the allowed values, a trust policy must be
//! JSON, a notification to one of the account's functions needs an S3
//! permission on it; an ECR image's digest is the SHA-256 of its
//! manifest, and a mutable tag that moves leaves its old image untagged,
//! where moto deletes it). It counts requests as `AwsCloud` would send them, so a
//! test can assert how many AWS requests a change costs, and it can be told
//! to fail the next calls of an operation ([`MemoryCloud::fail_next`]).

mod apigateway;
mod batch;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use super::{
    BucketState, Cloud, CloudError, CloudResult, CodeArtifact, EcrApi, ErrorKind, FunctionSpec,
    FunctionState, IamApi, ImageState, InstanceProfileState, LambdaApi, LayerSpec, LayerVersion,
    LogGroupState, LogsApi, NotificationConfig, PackageFetch, PackageSpec, PermissionStatement,
    RepositorySpec, RepositoryState, RequestCounter, RoleState, S3Api, TaggedResource, TaggingApi,
    Tags,
};

/// The retention values CloudWatch Logs accepts.
const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Items per page of the listings, as AWS pages them by default.
const PAGE: usize = 50;

#[derive(Default)]
struct State {
    functions: BTreeMap<String, Function>,
    /// Layer name → (last version ever published, live versions).
    layers: BTreeMap<String, (i64, BTreeMap<i64, LayerVersion>)>,
    log_groups: BTreeMap<String, LogGroupState>,
    buckets: BTreeMap<String, Bucket>,
    roles: BTreeMap<String, RoleState>,
    instance_profiles: BTreeMap<String, InstanceProfileState>,
    repositories: BTreeMap<String, Repository>,
    /// Bucket names another account owns (S3 bucket names are global).
    foreign_buckets: BTreeSet<String>,
    /// Operation → how many of its next calls fail, and how.
    failures: BTreeMap<&'static str, (u32, ErrorKind)>,
    /// (operation, target) → how many of its next calls fail, and how.
    failures_for: BTreeMap<(&'static str, String), (u32, ErrorKind)>,
    /// (operation, target) whose next call panics.
    panics: BTreeSet<(&'static str, String)>,
}

struct Function {
    state: FunctionState,
    code: CodeArtifact,
    policy: Vec<PermissionStatement>,
}

#[derive(Default)]
struct Bucket {
    tags: Option<Tags>,
    objects: BTreeMap<String, Vec<u8>>,
    notifications: NotificationConfig,
}

/// An ECR repository: its state, lifecycle policy and images (digest →
/// tags).
struct Repository {
    state: RepositoryState,
    lifecycle_policy: Option<String>,
    images: BTreeMap<String, BTreeSet<String>>,
}

/// The in-memory cloud. `Send + Sync`; clones of the data are handed out.
pub struct MemoryCloud {
    account_id: String,
    region: String,
    state: Mutex<State>,
    batch: Mutex<batch::BatchState>,
    apigateway: Mutex<apigateway::ApiGatewayState>,
    requests: RequestCounter,
}

impl Default for MemoryCloud {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryCloud {
    /// An empty account `123456789012` in `us-east-1` (moto's defaults).
    pub fn new() -> Self {
        Self::with_identity("123456789012", "us-east-1")
    }

    pub fn with_identity(account_id: &str, region: &str) -> Self {
        MemoryCloud {
            account_id: account_id.to_string(),
            region: region.to_string(),
            state: Mutex::new(State::default()),
            batch: Mutex::default(),
            apigateway: Mutex::default(),
            requests: RequestCounter::default(),
        }
    }

    /// The requests made so far, named as `AwsCloud` would send them.
    pub fn requests(&self) -> &RequestCounter {
        &self.requests
    }

    /// Makes the next `times` calls of `operation` (an AWS operation name,
    /// e.g. `UpdateFunctionCode`) fail with `kind`, before changing anything.
    pub fn fail_next(&self, operation: &'static str, kind: ErrorKind, times: u32) {
        self.lock().failures.insert(operation, (times, kind));
    }

    /// Makes the next `times` calls of `operation` on `target` (a function,
    /// bucket, role... name) fail with `kind`, before changing anything.
    pub fn fail_next_for(
        &self,
        operation: &'static str,
        target: &str,
        kind: ErrorKind,
        times: u32,
    ) {
        self.lock()
            .failures_for
            .insert((operation, target.to_string()), (times, kind));
    }

    /// Makes a bucket name another account's (S3 bucket names are global):
    /// this account cannot see the bucket, and creating it fails as
    /// `BucketAlreadyExists`.
    pub fn take_bucket_name_elsewhere(&self, name: &str) {
        self.lock().foreign_buckets.insert(name.to_string());
    }

    /// Creates a function as someone would by hand: no scar tags, a role
    /// of its own (`<name>-role`), python3.12, 128 MB, 3 s.
    pub async fn create_function_by_hand(&self, name: &str) {
        let role = self
            .create_role(&format!("{name}-role"), "{}", &Tags::new())
            .await
            .expect("a role");
        let spec = FunctionSpec {
            name: name.into(),
            role,
            package: PackageSpec::zip("python3.12", "x.handler"),
            memory: 128,
            timeout: 3,
            ..Default::default()
        };
        self.create_function(&spec, &CodeArtifact::Zip(b"theirs".to_vec()))
            .await
            .expect("a function");
    }

    /// Makes the next call of `operation` on `target` panic (a bug in a
    /// step, as the executor must survive it).
    pub fn panic_next(&self, operation: &'static str, target: &str) {
        self.lock().panics.insert((operation, target.to_string()));
    }

    /// Sets a function's `State` and `LastUpdateStatus`, e.g. to make a
    /// waiter see `Pending` or `InProgress`.
    pub fn set_function_status(&self, name: &str, state: Option<&str>, last_update: Option<&str>) {
        if let Some(f) = self.lock().functions.get_mut(name) {
            f.state.state = state.map(str::to_string);
            f.state.last_update_status = last_update.map(str::to_string);
        }
    }

    /// The body of an object, if it exists.
    pub fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.lock().buckets.get(bucket)?.objects.get(key).cloned()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one request of `operation` and returns the state, or the
    /// injected failure of that operation.
    fn call(&self, operation: &'static str, target: &str) -> CloudResult<MutexGuard<'_, State>> {
        self.requests.record(operation);
        let mut state = self.lock();
        if state.panics.remove(&(operation, target.to_string())) {
            drop(state);
            panic!("injected panic in {operation} {target}");
        }
        if let Some((left, kind)) = state.failures_for.get_mut(&(operation, target.to_string())) {
            if *left > 0 {
                *left -= 1;
                let kind = *kind;
                return Err(error(operation, target, kind, "injected failure"));
            }
        }
        if let Some((left, kind)) = state.failures.get_mut(operation) {
            if *left > 0 {
                *left -= 1;
                let kind = *kind;
                return Err(error(operation, target, kind, "injected failure"));
            }
        }
        Ok(state)
    }

    fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.region, self.account_id
        )
    }

    fn layer_prefix(&self) -> String {
        format!("arn:aws:lambda:{}:{}:layer:", self.region, self.account_id)
    }

    fn log_group_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:logs:{}:{}:log-group:{name}",
            self.region, self.account_id
        )
    }

    /// Checks that layer ARNs of this account exist.
    fn check_layers(
        &self,
        state: &State,
        layers: &[String],
        op: &'static str,
        target: &str,
    ) -> CloudResult<()> {
        let prefix = self.layer_prefix();
        for arn in layers {
            let Some(rest) = arn.strip_prefix(&prefix) else {
                continue;
            };
            let found = rest.rsplit_once(':').is_some_and(|(name, v)| {
                let version = v.parse::<i64>().unwrap_or(-1);
                state
                    .layers
                    .get(name)
                    .is_some_and(|(_, vs)| vs.contains_key(&version))
            });
            if !found {
                return Err(error(
                    op,
                    target,
                    ErrorKind::NotFound,
                    format!("layer version {arn} does not exist"),
                ));
            }
        }
        Ok(())
    }
}

fn error(operation: &str, target: &str, kind: ErrorKind, message: impl Into<String>) -> CloudError {
    CloudError::with_kind(format!("{operation} {target}"), kind, message.into())
}

fn not_found(operation: &str, target: &str) -> CloudError {
    error(
        operation,
        target,
        ErrorKind::NotFound,
        format!("{target} does not exist"),
    )
}

/// Base64 of the SHA-256 of a deployment package, as Lambda reports it.
pub use super::code_sha256;

/// A function's code fields as Lambda reports them for `code`.
fn set_code(s: &mut FunctionState, code: &CodeArtifact) {
    s.package_type = code.package_type();
    match code {
        CodeArtifact::Zip(zip) => {
            s.code_sha256 = code_sha256(zip);
            s.image_uri = None;
            s.resolved_image_uri = None;
        }
        CodeArtifact::Image { uri } => {
            // By digest: that digest; by tag, a stand-in digest (moto's:
            // the hex SHA-256 of the URI).
            let (repository, digest) = match super::image_digest(uri) {
                Some(d) => (
                    uri.rsplit_once('@').map_or(uri.as_str(), |(r, _)| r),
                    d.to_string(),
                ),
                None => (
                    image_repository(uri),
                    format!("sha256:{}", crate::hash::hex_sha256(uri.as_bytes())),
                ),
            };
            s.code_sha256 = digest.trim_start_matches("sha256:").to_string();
            s.image_uri = Some(uri.clone());
            s.resolved_image_uri = Some(format!("{repository}@{digest}"));
        }
    }
}

/// An image reference without its tag (`host:port/repo:tag` gives
/// `host:port/repo`).
fn image_repository(uri: &str) -> &str {
    match uri.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => uri,
    }
}

/// How many requests a listing of `n` items takes.
fn pages(n: usize) -> usize {
    n.div_ceil(PAGE).max(1)
}

impl Cloud for MemoryCloud {
    fn account_id(&self) -> &str {
        &self.account_id
    }

    fn region(&self) -> &str {
        &self.region
    }

    fn requests(&self) -> &RequestCounter {
        &self.requests
    }
}

impl LambdaApi for MemoryCloud {
    async fn list_functions(&self) -> CloudResult<Vec<FunctionState>> {
        let state = self.call("ListFunctions", "")?;
        for _ in 1..pages(state.functions.len()) {
            self.requests.record("ListFunctions");
        }
        Ok(state
            .functions
            .values()
            .map(|f| FunctionState {
                tags: None,
                // As on AWS, a listing gives no image URIs.
                image_uri: None,
                resolved_image_uri: None,
                ..f.state.clone()
            })
            .collect())
    }

    async fn get_function(&self, name: &str) -> CloudResult<Option<FunctionState>> {
        let state = self.call("GetFunction", name)?;
        Ok(state.functions.get(name).map(|f| f.state.clone()))
    }

    async fn function_code(&self, name: &str) -> CloudResult<PackageFetch> {
        let state = self.call("GetFunction", name)?;
        Ok(match state.functions.get(name) {
            Some(Function {
                code: CodeArtifact::Zip(zip),
                ..
            }) => PackageFetch::Zip(zip.clone()),
            Some(f) => PackageFetch::Image {
                uri: f.state.image_uri.clone().unwrap_or_default(),
                resolved_uri: f.state.resolved_image_uri.clone(),
            },
            None => PackageFetch::Unavailable("the function does not exist".into()),
        })
    }

    async fn create_function(
        &self,
        spec: &FunctionSpec,
        code: &CodeArtifact,
    ) -> CloudResult<FunctionState> {
        const OP: &str = "CreateFunction";
        // Refused before any request, as `AwsCloud` does.
        if let Some(why) = code.mismatch(spec.package.package_type()) {
            return Err(error(OP, &spec.name, ErrorKind::Invalid, why));
        }
        let mut state = self.call(OP, &spec.name)?;
        if state.functions.contains_key(&spec.name) {
            return Err(error(
                OP,
                &spec.name,
                ErrorKind::AlreadyExists,
                format!("Function already exist: {}", spec.name),
            ));
        }
        if !state.roles.values().any(|r| r.arn == spec.role) {
            return Err(error(
                OP,
                &spec.name,
                ErrorKind::NotReady,
                "The role defined for the function cannot be assumed by Lambda.",
            ));
        }
        self.check_layers(&state, spec.package.layers(), OP, &spec.name)?;
        let architectures = if spec.architectures.is_empty() {
            vec!["x86_64".to_string()]
        } else {
            spec.architectures.clone()
        };
        let (runtime, handler) = match &spec.package {
            PackageSpec::Zip {
                runtime, handler, ..
            } => (Some(runtime.clone()), Some(handler.clone())),
            PackageSpec::Image => (None, None),
        };
        let mut created = FunctionState {
            name: spec.name.clone(),
            arn: self.function_arn(&spec.name),
            role: spec.role.clone(),
            runtime,
            handler,
            memory: spec.memory,
            timeout: spec.timeout,
            description: spec.description.clone(),
            environment: spec.environment.clone(),
            layers: spec.package.layers().to_vec(),
            architectures,
            vpc_subnet_ids: spec.vpc_subnet_ids.clone(),
            vpc_security_group_ids: spec.vpc_security_group_ids.clone(),
            file_systems: spec.file_systems.clone(),
            tags: Some(spec.tags.clone()),
            state: Some("Active".into()),
            last_update_status: Some("Successful".into()),
            ..Default::default()
        };
        set_code(&mut created, code);
        state.functions.insert(
            spec.name.clone(),
            Function {
                state: created.clone(),
                code: code.clone(),
                policy: Vec::new(),
            },
        );
        // Like moto (and AWS), the create response has no LastUpdateStatus.
        Ok(FunctionState {
            last_update_status: None,
            ..created
        })
    }

    async fn update_function_configuration(&self, spec: &FunctionSpec) -> CloudResult<()> {
        const OP: &str = "UpdateFunctionConfiguration";
        let mut state = self.call(OP, &spec.name)?;
        self.check_layers(&state, spec.package.layers(), OP, &spec.name)?;
        let f = state
            .functions
            .get_mut(&spec.name)
            .ok_or_else(|| not_found(OP, &spec.name))?;
        let s = &mut f.state;
        if s.package_type != spec.package.package_type() {
            return Err(error(
                OP,
                &spec.name,
                ErrorKind::Invalid,
                format!(
                    "a {} configuration given for a function of package type {}",
                    spec.package.package_type().as_str(),
                    s.package_type.as_str()
                ),
            ));
        }
        if let PackageSpec::Zip {
            runtime,
            handler,
            layers,
        } = &spec.package
        {
            s.runtime = Some(runtime.clone());
            s.handler = Some(handler.clone());
            s.layers = layers.clone();
        }
        s.role = spec.role.clone();
        s.memory = spec.memory;
        s.timeout = spec.timeout;
        s.description = spec.description.clone();
        s.environment = spec.environment.clone();
        s.vpc_subnet_ids = spec.vpc_subnet_ids.clone();
        s.vpc_security_group_ids = spec.vpc_security_group_ids.clone();
        s.file_systems = spec.file_systems.clone();
        s.last_update_status = Some("Successful".into());
        Ok(())
    }

    async fn update_function_code(&self, name: &str, code: &CodeArtifact) -> CloudResult<()> {
        const OP: &str = "UpdateFunctionCode";
        let mut state = self.call(OP, name)?;
        let f = state
            .functions
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        if let Some(why) = code.mismatch(f.state.package_type) {
            return Err(error(OP, name, ErrorKind::Invalid, why));
        }
        set_code(&mut f.state, code);
        f.code = code.clone();
        f.state.last_update_status = Some("Successful".into());
        Ok(())
    }

    async fn delete_function(&self, name: &str) -> CloudResult<bool> {
        let mut state = self.call("DeleteFunction", name)?;
        Ok(state.functions.remove(name).is_some())
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        const OP: &str = "TagResource";
        let mut state = self.call(OP, arn)?;
        let f = state
            .functions
            .values_mut()
            .find(|f| f.state.arn == arn)
            .ok_or_else(|| not_found(OP, arn))?;
        let current = f.state.tags.get_or_insert_with(Tags::new);
        current.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> CloudResult<()> {
        const OP: &str = "UntagResource";
        let mut state = self.call(OP, arn)?;
        let f = state
            .functions
            .values_mut()
            .find(|f| f.state.arn == arn)
            .ok_or_else(|| not_found(OP, arn))?;
        if let Some(current) = f.state.tags.as_mut() {
            current.retain(|k, _| !keys.contains(k));
        }
        Ok(())
    }

    async fn get_policy(&self, function: &str) -> CloudResult<Vec<PermissionStatement>> {
        let state = self.call("GetPolicy", function)?;
        // As on AWS, a missing function reads like one without a policy.
        let mut statements = state
            .functions
            .get(function)
            .map(|f| f.policy.clone())
            .unwrap_or_default();
        statements.sort();
        Ok(statements)
    }

    async fn add_permission(
        &self,
        function: &str,
        statement: &PermissionStatement,
    ) -> CloudResult<()> {
        const OP: &str = "AddPermission";
        let mut state = self.call(OP, function)?;
        let f = state
            .functions
            .get_mut(function)
            .ok_or_else(|| not_found(OP, function))?;
        if f.policy.iter().any(|s| s.sid == statement.sid) {
            return Err(error(
                OP,
                function,
                ErrorKind::AlreadyExists,
                format!(
                    "The statement id ({}) provided already exists.",
                    statement.sid
                ),
            ));
        }
        f.policy.push(statement.clone());
        Ok(())
    }

    async fn remove_permission(&self, function: &str, sid: &str) -> CloudResult<bool> {
        let mut state = self.call("RemovePermission", function)?;
        let Some(f) = state.functions.get_mut(function) else {
            return Ok(false);
        };
        let before = f.policy.len();
        f.policy.retain(|s| s.sid != sid);
        Ok(f.policy.len() != before)
    }

    async fn list_layer_versions(&self, layer_name: &str) -> CloudResult<Vec<LayerVersion>> {
        let state = self.call("ListLayerVersions", layer_name)?;
        Ok(state
            .layers
            .get(layer_name)
            .map(|(_, versions)| versions.values().rev().cloned().collect())
            .unwrap_or_default())
    }

    async fn publish_layer_version(
        &self,
        spec: &LayerSpec,
        _zip: &[u8],
    ) -> CloudResult<LayerVersion> {
        let mut state = self.call("PublishLayerVersion", &spec.layer_name)?;
        let arn_prefix = self.layer_prefix();
        let (last, versions) = state.layers.entry(spec.layer_name.clone()).or_default();
        *last += 1;
        let version = LayerVersion {
            layer_name: spec.layer_name.clone(),
            arn: format!("{arn_prefix}{}:{last}", spec.layer_name),
            version: *last,
            description: spec.description.clone(),
        };
        versions.insert(*last, version.clone());
        Ok(version)
    }

    async fn delete_layer_version(&self, layer_name: &str, version: i64) -> CloudResult<()> {
        let mut state = self.call("DeleteLayerVersion", layer_name)?;
        if let Some((_, versions)) = state.layers.get_mut(layer_name) {
            versions.remove(&version);
        }
        Ok(())
    }
}

impl LogsApi for MemoryCloud {
    async fn describe_log_groups(&self, prefix: &str) -> CloudResult<Vec<LogGroupState>> {
        let state = self.call("DescribeLogGroups", prefix)?;
        let groups: Vec<LogGroupState> = state
            .log_groups
            .values()
            .filter(|g| g.name.starts_with(prefix))
            .map(|g| LogGroupState {
                tags: None,
                ..g.clone()
            })
            .collect();
        for _ in 1..pages(groups.len()) {
            self.requests.record("DescribeLogGroups");
        }
        Ok(groups)
    }

    async fn list_log_group_tags(&self, name: &str) -> CloudResult<Tags> {
        const OP: &str = "ListTagsForResource";
        let state = self.call(OP, name)?;
        let group = state
            .log_groups
            .get(name)
            .ok_or_else(|| not_found(OP, name))?;
        Ok(group.tags.clone().unwrap_or_default())
    }

    async fn create_log_group(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        const OP: &str = "CreateLogGroup";
        let mut state = self.call(OP, name)?;
        if state.log_groups.contains_key(name) {
            return Err(error(
                OP,
                name,
                ErrorKind::AlreadyExists,
                "The specified log group already exists",
            ));
        }
        let group = LogGroupState {
            name: name.to_string(),
            retention_days: None,
            tags: Some(tags.clone()),
        };
        state.log_groups.insert(name.to_string(), group);
        Ok(())
    }

    async fn put_retention(&self, name: &str, days: u32) -> CloudResult<()> {
        const OP: &str = "PutRetentionPolicy";
        let mut state = self.call(OP, name)?;
        if !RETENTION_DAYS.contains(&days) {
            return Err(error(
                OP,
                name,
                ErrorKind::Invalid,
                format!("{days} is not a valid retention in days"),
            ));
        }
        let group = state
            .log_groups
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        group.retention_days = Some(days);
        Ok(())
    }

    async fn tag_log_group(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        const OP: &str = "TagResource";
        let mut state = self.call(OP, name)?;
        let group = state
            .log_groups
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        let current = group.tags.get_or_insert_with(Tags::new);
        current.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    async fn delete_log_group(&self, name: &str) -> CloudResult<bool> {
        let mut state = self.call("DeleteLogGroup", name)?;
        Ok(state.log_groups.remove(name).is_some())
    }
}

/// Whether a name is a valid (DNS-compatible) bucket name.
fn valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

impl S3Api for MemoryCloud {
    async fn get_bucket(&self, name: &str) -> CloudResult<Option<BucketState>> {
        let state = self.call("GetBucketTagging", name)?;
        Ok(state.buckets.get(name).map(|b| BucketState {
            name: name.to_string(),
            tags: b.tags.clone(),
        }))
    }

    async fn create_bucket(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        const OP: &str = "CreateBucket";
        {
            let mut state = self.call(OP, name)?;
            if !valid_bucket_name(name) {
                return Err(error(
                    OP,
                    name,
                    ErrorKind::Invalid,
                    "The specified bucket is not valid.",
                ));
            }
            if state.foreign_buckets.contains(name) {
                return Err(error(OP, name, ErrorKind::NameTaken, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."));
            }
            if state.buckets.contains_key(name) {
                return Err(error(OP, name, ErrorKind::AlreadyExists, "Your previous request to create the named bucket succeeded and you already own it."));
            }
            state.buckets.insert(name.to_string(), Bucket::default());
        }
        // As the AWS adapter: a new bucket is tagged with no read first.
        if !tags.is_empty() {
            let mut state = self.call("PutBucketTagging", name)?;
            if let Some(b) = state.buckets.get_mut(name) {
                b.tags = Some(tags.clone());
            }
        }
        Ok(())
    }

    async fn put_bucket_tags(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        // As the AWS adapter: the current tags are read first, to keep
        // others'.
        drop(self.call("GetBucketTagging", name)?);
        const OP: &str = "PutBucketTagging";
        let mut state = self.call(OP, name)?;
        let bucket = state
            .buckets
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        let all = super::with_scar_tags(bucket.tags.take(), tags);
        bucket.tags = (!all.is_empty()).then_some(all);
        Ok(())
    }

    async fn bucket_has_objects(&self, name: &str) -> CloudResult<bool> {
        const OP: &str = "ListObjectsV2";
        let state = self.call(OP, name)?;
        let bucket = state.buckets.get(name).ok_or_else(|| not_found(OP, name))?;
        Ok(!bucket.objects.is_empty())
    }

    async fn delete_bucket(&self, name: &str) -> CloudResult<bool> {
        const OP: &str = "DeleteBucket";
        let mut state = self.call(OP, name)?;
        match state.buckets.get(name) {
            None => Ok(false),
            Some(b) if !b.objects.is_empty() => Err(error(
                OP,
                name,
                ErrorKind::InUse,
                "The bucket you tried to delete is not empty",
            )),
            Some(_) => Ok(state.buckets.remove(name).is_some()),
        }
    }

    async fn get_notifications(&self, bucket: &str) -> CloudResult<NotificationConfig> {
        const OP: &str = "GetBucketNotificationConfiguration";
        let state = self.call(OP, bucket)?;
        let b = state
            .buckets
            .get(bucket)
            .ok_or_else(|| not_found(OP, bucket))?;
        Ok(b.notifications.clone())
    }

    async fn put_notifications(
        &self,
        bucket: &str,
        config: &NotificationConfig,
    ) -> CloudResult<()> {
        const OP: &str = "PutBucketNotificationConfiguration";
        let mut state = self.call(OP, bucket)?;
        if !state.buckets.contains_key(bucket) {
            return Err(not_found(OP, bucket));
        }
        // S3 checks that it may invoke each of the account's functions.
        let bucket_arn = format!("arn:aws:s3:::{bucket}");
        let own = format!(
            "arn:aws:lambda:{}:{}:function:",
            self.region, self.account_id
        );
        for n in &config.lambda {
            let Some(name) = n.function_arn.strip_prefix(&own) else {
                continue;
            };
            let allowed = state.functions.get(name).is_some_and(|f| {
                f.policy.iter().any(|s| {
                    s.principal == "s3.amazonaws.com"
                        && s.source_arn.as_deref().is_none_or(|a| a == bucket_arn)
                })
            });
            if !allowed {
                return Err(error(
                    OP,
                    bucket,
                    ErrorKind::Invalid,
                    format!(
                        "Unable to validate the following destination configurations: {}",
                        n.function_arn
                    ),
                ));
            }
        }
        if let Some(b) = state.buckets.get_mut(bucket) {
            b.notifications = config.clone();
        }
        Ok(())
    }

    async fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> CloudResult<()> {
        const OP: &str = "PutObject";
        let mut state = self.call(OP, bucket)?;
        let b = state
            .buckets
            .get_mut(bucket)
            .ok_or_else(|| not_found(OP, bucket))?;
        b.objects.insert(key.to_string(), body.to_vec());
        Ok(())
    }

    async fn put_object_if_absent(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
    ) -> CloudResult<bool> {
        const OP: &str = "PutObject";
        let mut state = self.call(OP, bucket)?;
        let b = state
            .buckets
            .get_mut(bucket)
            .ok_or_else(|| not_found(OP, bucket))?;
        if b.objects.contains_key(key) {
            return Ok(false);
        }
        b.objects.insert(key.to_string(), body.to_vec());
        Ok(true)
    }

    async fn get_object(&self, bucket: &str, key: &str) -> CloudResult<Option<(Vec<u8>, String)>> {
        const OP: &str = "GetObject";
        let state = self.call(OP, bucket)?;
        let b = state
            .buckets
            .get(bucket)
            .ok_or_else(|| not_found(OP, bucket))?;
        Ok(b.objects
            .get(key)
            .map(|body| (body.clone(), crate::hash::hex_sha256(body))))
    }

    async fn delete_object_if_match(
        &self,
        bucket: &str,
        key: &str,
        etag: &str,
    ) -> CloudResult<bool> {
        const OP: &str = "DeleteObject";
        let mut state = self.call(OP, bucket)?;
        let b = state
            .buckets
            .get_mut(bucket)
            .ok_or_else(|| not_found(OP, bucket))?;
        match b.objects.get(key) {
            Some(body) if crate::hash::hex_sha256(body) != etag => Ok(false),
            _ => {
                b.objects.remove(key);
                Ok(true)
            }
        }
    }
}

fn check_json(op: &str, target: &str, document: &str) -> CloudResult<()> {
    serde_json::from_str::<serde_json::Value>(document)
        .map(|_| ())
        .map_err(|e| {
            error(
                op,
                target,
                ErrorKind::Invalid,
                format!("MalformedPolicyDocument: {e}"),
            )
        })
}

impl IamApi for MemoryCloud {
    async fn get_role(&self, name: &str) -> CloudResult<Option<RoleState>> {
        let state = self.call("GetRole", name)?;
        let role = state.roles.get(name).cloned();
        drop(state);
        if let Some(role) = &role {
            // AwsCloud lists the inline policies and reads each one.
            self.requests.record("ListRolePolicies");
            for _ in &role.inline_policies {
                self.requests.record("GetRolePolicy");
            }
        }
        Ok(role)
    }

    async fn role_arn(&self, name: &str) -> CloudResult<Option<String>> {
        let state = self.call("GetRole", name)?;
        Ok(state.roles.get(name).map(|r| r.arn.clone()))
    }

    async fn create_role(
        &self,
        name: &str,
        assume_role_policy: &str,
        tags: &Tags,
    ) -> CloudResult<String> {
        const OP: &str = "CreateRole";
        let mut state = self.call(OP, name)?;
        if state.roles.contains_key(name) {
            return Err(error(
                OP,
                name,
                ErrorKind::AlreadyExists,
                format!("Role with name {name} already exists."),
            ));
        }
        check_json(OP, name, assume_role_policy)?;
        let arn = format!("arn:aws:iam::{}:role/{name}", self.account_id);
        state.roles.insert(
            name.to_string(),
            RoleState {
                name: name.to_string(),
                arn: arn.clone(),
                assume_role_policy: assume_role_policy.to_string(),
                tags: tags.clone(),
                inline_policies: BTreeMap::new(),
            },
        );
        Ok(arn)
    }

    async fn update_assume_role_policy(&self, name: &str, policy: &str) -> CloudResult<()> {
        const OP: &str = "UpdateAssumeRolePolicy";
        let mut state = self.call(OP, name)?;
        check_json(OP, name, policy)?;
        let role = state
            .roles
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        role.assume_role_policy = policy.to_string();
        Ok(())
    }

    async fn tag_role(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        const OP: &str = "TagRole";
        let mut state = self.call(OP, name)?;
        let role = state
            .roles
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        role.tags
            .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    async fn put_role_policy(
        &self,
        role: &str,
        policy_name: &str,
        document: &str,
    ) -> CloudResult<()> {
        const OP: &str = "PutRolePolicy";
        let mut state = self.call(OP, role)?;
        check_json(OP, role, document)?;
        let r = state
            .roles
            .get_mut(role)
            .ok_or_else(|| not_found(OP, role))?;
        r.inline_policies
            .insert(policy_name.to_string(), document.to_string());
        Ok(())
    }

    async fn delete_role_policy(&self, role: &str, policy_name: &str) -> CloudResult<()> {
        let mut state = self.call("DeleteRolePolicy", role)?;
        if let Some(r) = state.roles.get_mut(role) {
            r.inline_policies.remove(policy_name);
        }
        Ok(())
    }

    async fn delete_role(&self, name: &str) -> CloudResult<bool> {
        let policies: Vec<String> = {
            let state = self.call("ListRolePolicies", name)?;
            match state.roles.get(name) {
                Some(r) => r.inline_policies.keys().cloned().collect(),
                None => return Ok(false),
            }
        };
        for policy in policies {
            self.delete_role_policy(name, &policy).await?;
        }
        let mut state = self.call("DeleteRole", name)?;
        if state
            .instance_profiles
            .values()
            .any(|p| p.roles.iter().any(|r| r == name))
        {
            return Err(error(
                "DeleteRole",
                name,
                ErrorKind::InUse,
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        Ok(state.roles.remove(name).is_some())
    }

    async fn attached_policy_documents(&self, role: &str) -> CloudResult<Vec<String>> {
        // The double attaches no managed policies.
        let state = self.call("ListAttachedRolePolicies", role)?;
        if !state.roles.contains_key(role) {
            return Err(not_found("ListAttachedRolePolicies", role));
        }
        Ok(Vec::new())
    }

    async fn get_instance_profile(&self, name: &str) -> CloudResult<Option<InstanceProfileState>> {
        let state = self.call("GetInstanceProfile", name)?;
        Ok(state.instance_profiles.get(name).cloned())
    }

    async fn create_instance_profile(&self, name: &str, tags: &Tags) -> CloudResult<String> {
        const OP: &str = "CreateInstanceProfile";
        let mut state = self.call(OP, name)?;
        if state.instance_profiles.contains_key(name) {
            return Err(error(
                OP,
                name,
                ErrorKind::AlreadyExists,
                "Instance Profile already exists",
            ));
        }
        let arn = format!("arn:aws:iam::{}:instance-profile/{name}", self.account_id);
        state.instance_profiles.insert(
            name.to_string(),
            InstanceProfileState {
                name: name.to_string(),
                arn: arn.clone(),
                roles: Vec::new(),
                tags: tags.clone(),
            },
        );
        Ok(arn)
    }

    async fn add_role_to_instance_profile(&self, profile: &str, role: &str) -> CloudResult<()> {
        const OP: &str = "AddRoleToInstanceProfile";
        let mut state = self.call(OP, profile)?;
        if !state.roles.contains_key(role) {
            return Err(not_found(OP, role));
        }
        let p = state
            .instance_profiles
            .get_mut(profile)
            .ok_or_else(|| not_found(OP, profile))?;
        if !p.roles.is_empty() {
            return Err(error(
                OP,
                profile,
                ErrorKind::Invalid,
                "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
            ));
        }
        p.roles.push(role.to_string());
        Ok(())
    }

    async fn remove_role_from_instance_profile(
        &self,
        profile: &str,
        role: &str,
    ) -> CloudResult<()> {
        let mut state = self.call("RemoveRoleFromInstanceProfile", profile)?;
        if let Some(p) = state.instance_profiles.get_mut(profile) {
            p.roles.retain(|r| r != role);
        }
        Ok(())
    }

    async fn tag_instance_profile(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        const OP: &str = "TagInstanceProfile";
        let mut state = self.call(OP, name)?;
        let p = state
            .instance_profiles
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        p.tags
            .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    async fn delete_instance_profile(&self, name: &str) -> CloudResult<bool> {
        let Some(p) = self.get_instance_profile(name).await? else {
            return Ok(false);
        };
        for role in &p.roles {
            self.remove_role_from_instance_profile(name, role).await?;
        }
        let mut state = self.call("DeleteInstanceProfile", name)?;
        Ok(state.instance_profiles.remove(name).is_some())
    }
}

impl MemoryCloud {
    fn repository_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:ecr:{}:{}:repository/{name}",
            self.region, self.account_id
        )
    }
}

impl EcrApi for MemoryCloud {
    async fn list_repositories(&self) -> CloudResult<Vec<RepositoryState>> {
        let state = self.call("DescribeRepositories", "")?;
        for _ in 1..state.repositories.len().div_ceil(1000).max(1) {
            self.requests.record("DescribeRepositories");
        }
        Ok(state
            .repositories
            .values()
            .map(|r| RepositoryState {
                tags: None,
                ..r.state.clone()
            })
            .collect())
    }

    async fn repository_tags(&self, name: &str) -> CloudResult<Tags> {
        const OP: &str = "ListTagsForResource";
        let state = self.call(OP, name)?;
        let r = state
            .repositories
            .get(name)
            .ok_or_else(|| not_found(OP, name))?;
        Ok(r.state.tags.clone().unwrap_or_default())
    }

    async fn create_repository(&self, spec: &RepositorySpec) -> CloudResult<RepositoryState> {
        const OP: &str = "CreateRepository";
        let mut state = self.call(OP, &spec.name)?;
        if state.repositories.contains_key(&spec.name) {
            return Err(error(
                OP,
                &spec.name,
                ErrorKind::AlreadyExists,
                format!(
                    "The repository with name '{}' already exists in the registry with id '{}'",
                    spec.name, self.account_id
                ),
            ));
        }
        if !super::valid_repository_name(&spec.name) {
            return Err(error(
                OP,
                &spec.name,
                ErrorKind::Invalid,
                "Invalid parameter at 'repositoryName' failed to satisfy constraint",
            ));
        }
        check_mutability(OP, &spec.name, &spec.image_tag_mutability)?;
        let created = RepositoryState {
            name: spec.name.clone(),
            arn: self.repository_arn(&spec.name),
            uri: format!(
                "{}.dkr.ecr.{}.amazonaws.com/{}",
                self.account_id, self.region, spec.name
            ),
            image_tag_mutability: spec.image_tag_mutability.clone(),
            scan_on_push: spec.scan_on_push,
            tags: Some(spec.tags.clone()),
        };
        state.repositories.insert(
            spec.name.clone(),
            Repository {
                state: created.clone(),
                lifecycle_policy: None,
                images: BTreeMap::new(),
            },
        );
        Ok(created)
    }

    async fn tag_repository(&self, name: &str, tags: &Tags) -> CloudResult<()> {
        const OP: &str = "TagResource";
        let mut state = self.call(OP, name)?;
        let r = state
            .repositories
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        let current = r.state.tags.get_or_insert_with(Tags::new);
        current.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    async fn put_image_tag_mutability(&self, name: &str, mutability: &str) -> CloudResult<()> {
        const OP: &str = "PutImageTagMutability";
        let mut state = self.call(OP, name)?;
        check_mutability(OP, name, mutability)?;
        let r = state
            .repositories
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        r.state.image_tag_mutability = mutability.to_string();
        Ok(())
    }

    async fn put_scan_on_push(&self, name: &str, scan_on_push: bool) -> CloudResult<()> {
        const OP: &str = "PutImageScanningConfiguration";
        let mut state = self.call(OP, name)?;
        let r = state
            .repositories
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        r.state.scan_on_push = scan_on_push;
        Ok(())
    }

    async fn lifecycle_policy(&self, name: &str) -> CloudResult<Option<String>> {
        const OP: &str = "GetLifecyclePolicy";
        let state = self.call(OP, name)?;
        let r = state
            .repositories
            .get(name)
            .ok_or_else(|| not_found(OP, name))?;
        Ok(r.lifecycle_policy.clone())
    }

    async fn put_lifecycle_policy(&self, name: &str, policy: &str) -> CloudResult<()> {
        const OP: &str = "PutLifecyclePolicy";
        let mut state = self.call(OP, name)?;
        let parsed: serde_json::Value = serde_json::from_str(policy).map_err(|e| {
            error(
                OP,
                name,
                ErrorKind::Invalid,
                format!("Lifecycle policy validation failure: {e}"),
            )
        })?;
        if !parsed.get("rules").is_some_and(serde_json::Value::is_array) {
            return Err(error(
                OP,
                name,
                ErrorKind::Invalid,
                "Lifecycle policy validation failure: object has missing required properties ([\"rules\"])",
            ));
        }
        let r = state
            .repositories
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        r.lifecycle_policy = Some(policy.to_string());
        Ok(())
    }

    async fn list_images(&self, name: &str) -> CloudResult<Vec<ImageState>> {
        const OP: &str = "ListImages";
        let state = self.call(OP, name)?;
        let r = state
            .repositories
            .get(name)
            .ok_or_else(|| not_found(OP, name))?;
        // One id per (digest, tag), 1000 a page.
        let ids: usize = r.images.values().map(|t| t.len().max(1)).sum();
        for _ in 1..ids.div_ceil(1000).max(1) {
            self.requests.record(OP);
        }
        Ok(r.images
            .iter()
            .map(|(digest, tags)| ImageState {
                digest: digest.clone(),
                tags: tags.iter().cloned().collect(),
            })
            .collect())
    }

    async fn put_image(
        &self,
        name: &str,
        manifest: &str,
        _media_type: &str,
        tag: Option<&str>,
    ) -> CloudResult<String> {
        const OP: &str = "PutImage";
        let mut state = self.call(OP, name)?;
        if serde_json::from_str::<serde_json::Value>(manifest).is_err() {
            return Err(error(
                OP,
                name,
                ErrorKind::Invalid,
                "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'",
            ));
        }
        let digest = format!("sha256:{}", crate::hash::hex_sha256(manifest.as_bytes()));
        let r = state
            .repositories
            .get_mut(name)
            .ok_or_else(|| not_found(OP, name))?;
        if let Some(tag) = tag {
            if r.images.get(&digest).is_some_and(|t| t.contains(tag)) {
                return Err(error(
                    OP,
                    name,
                    ErrorKind::AlreadyExists,
                    format!("Image with digest '{digest}' and tag '{tag}' already exists"),
                ));
            }
            let elsewhere = r
                .images
                .iter()
                .any(|(d, t)| *d != digest && t.contains(tag));
            if elsewhere && r.state.image_tag_mutability.starts_with("IMMUTABLE") {
                return Err(error(
                    OP,
                    name,
                    ErrorKind::Invalid,
                    format!("The image tag '{tag}' already exists and cannot be overwritten because the repository is immutable."),
                ));
            }
            // A mutable tag moves: the image it left keeps its other tags.
            for t in r.images.values_mut() {
                t.remove(tag);
            }
        }
        let tags = r.images.entry(digest.clone()).or_default();
        if let Some(tag) = tag {
            tags.insert(tag.to_string());
        }
        Ok(digest)
    }

    async fn authorization_token(&self) -> CloudResult<(String, String)> {
        drop(self.call("GetAuthorizationToken", "")?);
        Ok(("AWS".into(), "memory-token".into()))
    }

    async fn delete_repository(&self, name: &str, force: bool) -> CloudResult<bool> {
        const OP: &str = "DeleteRepository";
        let mut state = self.call(OP, name)?;
        match state.repositories.get(name) {
            None => Ok(false),
            Some(r) if !r.images.is_empty() && !force => Err(error(
                OP,
                name,
                ErrorKind::InUse,
                format!("The repository with name '{name}' in registry with id '{}' cannot be deleted because it still contains images", self.account_id),
            )),
            Some(_) => Ok(state.repositories.remove(name).is_some()),
        }
    }
}

fn check_mutability(op: &str, target: &str, mutability: &str) -> CloudResult<()> {
    const VALID: [&str; 4] = [
        "MUTABLE",
        "IMMUTABLE",
        "MUTABLE_WITH_EXCLUSION",
        "IMMUTABLE_WITH_EXCLUSION",
    ];
    if VALID.contains(&mutability) {
        Ok(())
    } else {
        Err(error(
            op,
            target,
            ErrorKind::Invalid,
            format!("imageTagMutability must be one of {}", VALID.join(", ")),
        ))
    }
}

/// Whether a resource type (`lambda:function`) matches a filter (`lambda`).
fn type_matches(resource_type: &str, filters: &[&str]) -> bool {
    filters.is_empty()
        || filters.iter().any(|f| {
            resource_type == *f
                || resource_type
                    .strip_prefix(f)
                    .is_some_and(|rest| rest.starts_with(':'))
        })
}

impl TaggingApi for MemoryCloud {
    async fn resources_with_tag(
        &self,
        key: &str,
        value: Option<&str>,
        types: &[&str],
    ) -> CloudResult<Vec<TaggedResource>> {
        let state = self.call("GetResources", &format!("{key}={}", value.unwrap_or("*")))?;
        let mut found = Vec::new();
        let mut consider = |resource_type: &str, arn: String, tags: Option<&Tags>| {
            let Some(tags) = tags else { return };
            if type_matches(resource_type, types)
                && tags
                    .get(key)
                    .is_some_and(|v| value.is_none_or(|want| v == want))
            {
                found.push(TaggedResource {
                    arn,
                    tags: tags.clone(),
                });
            }
        };
        for f in state.functions.values() {
            consider(
                "lambda:function",
                f.state.arn.clone(),
                f.state.tags.as_ref(),
            );
        }
        for (name, b) in &state.buckets {
            consider("s3", format!("arn:aws:s3:::{name}"), b.tags.as_ref());
        }
        for g in state.log_groups.values() {
            consider(
                "logs:log-group",
                self.log_group_arn(&g.name),
                g.tags.as_ref(),
            );
        }
        // As AWS does (moto leaves ECR out of GetResources).
        for r in state.repositories.values() {
            consider("ecr:repository", r.state.arn.clone(), r.state.tags.as_ref());
        }
        found.sort_by(|a, b| a.arn.cmp(&b.arn));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_sha256_is_base64_of_sha256() {
        // sha256("") = e3b0c442...; base64 of those bytes:
        assert_eq!(
            code_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn type_filters_match_service_or_service_and_type() {
        assert!(type_matches("lambda:function", &["lambda"]));
        assert!(type_matches("lambda:function", &["lambda:function"]));
        assert!(!type_matches("lambda:function", &["lam"]));
        assert!(type_matches("s3", &["s3"]));
        assert!(type_matches("logs:log-group", &[]));
    }

    #[test]
    fn bucket_names() {
        assert!(valid_bucket_name("scar-bucket.1"));
        assert!(!valid_bucket_name("Upper"));
        assert!(!valid_bucket_name("ab"));
        assert!(!valid_bucket_name("-start"));
    }

    #[tokio::test]
    async fn injected_failures_fail_then_stop() {
        let cloud = MemoryCloud::new();
        cloud.fail_next("CreateLogGroup", ErrorKind::Throttled, 1);
        let e = cloud
            .create_log_group("/g", &Tags::new())
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Throttled);
        assert_eq!(e.operation, "CreateLogGroup /g");
        cloud.create_log_group("/g", &Tags::new()).await.unwrap();
        assert_eq!(cloud.requests().count("CreateLogGroup"), 2);
    }

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn is_send_and_sync() {
        assert_send_sync::<MemoryCloud>();
    }
}
