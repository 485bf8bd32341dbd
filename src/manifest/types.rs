//! The manifest's types: SCAR's function-definition format (FDL 4.x), every
//! key with SCAR's default, plus the keys scar adds (documented as such).
//!
//! These types are the single source of truth for the format: the JSON
//! Schema (`scar schema`, `schemas/manifest.schema.json`) is generated from
//! them, the loader checks types, ranges, enums and unknown keys against that
//! schema, and serde fills in the defaults declared here.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a workflow name may be (the schema checks `workflow:` with it;
/// `rename-workflow` checks its arguments with it).
pub const WORKFLOW_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$";

/// One manifest file: SCAR function definitions for AWS Lambda and AWS Batch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "scar manifest")]
pub struct ManifestDoc {
    /// (scar) The workflow these functions belong to: the unit of ownership.
    /// scar tags everything it creates with `scar:workflow=<name>` and only
    /// ever deletes resources carrying its own workflow's tag. Defaults to the
    /// manifest file's name without extension (or the folder's name when a
    /// folder is given) and `-` with 8 hex digits of a hash of where the
    /// manifest is (its git remote and path in the repository, else its
    /// path), so that two projects never share a name. Every file of one
    /// workflow must agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = WORKFLOW_PATTERN))]
    pub workflow: Option<String>,

    /// The functions, per provider.
    pub functions: Functions,

    /// Credentials and endpoints of storage providers, passed to the
    /// supervisor. `s3` without an id means the function's own role.
    #[serde(default, skip_serializing_if = "StorageProviders::is_empty")]
    pub storage_providers: StorageProviders,

    /// SCAR's internal CLI section; ignored by scar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scar: Option<Value>,

    /// (scar) Where `apply` and `destroy` lock the workflow, so that two
    /// of them never interleave: an S3 object written with a conditional
    /// put. `--lock-bucket` overrides it. Without either, a lock file in
    /// the working folder (which only guards runs on one machine; scar
    /// warns in CI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<LockConfig>,

    /// (scar) Settings of the S3 buckets the functions use, by bucket name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub buckets: BTreeMap<String, BucketSettings>,
}

/// (scar) What scar may do with one bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketSettings {
    /// No plan may delete this bucket (even an empty one no manifest uses
    /// any more): one that would fails before any change, naming it.
    #[serde(default)]
    pub prevent_destroy: bool,
}

/// (scar) The lock of a workflow: an object in an S3 bucket of the
/// account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockConfig {
    /// The bucket that holds the locks (it must exist; scar never creates
    /// or deletes it, as it holds the locks of every workflow).
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))]
    pub bucket: String,
    /// The lock object's key.
    #[serde(default = "default_lock_key")]
    pub key: String,
}

/// `scar/locks/<workflow>.lock`, with the workflow's name put in by the
/// loader.
pub const DEFAULT_LOCK_KEY: &str = "scar/locks/{workflow}.lock";

fn default_lock_key() -> String {
    DEFAULT_LOCK_KEY.to_string()
}

/// Functions per provider.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Functions {
    /// AWS functions: each entry is one Lambda function and its linked
    /// services.
    #[serde(default)]
    pub aws: Vec<AwsFunction>,

    /// OSCAR services (`- <cluster_id>: {name, image, script, ...}`). scar
    /// parses them but does not deploy them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oscar: Vec<BTreeMap<String, Value>>,
}

/// One AWS function and the services configured for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AwsFunction {
    pub lambda: Lambda,
    #[serde(default)]
    pub iam: Iam,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_gateway: Option<ApiGateway>,
    #[serde(default)]
    pub cloudwatch: CloudWatch,
    #[serde(default)]
    pub batch: Batch,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Client>,
    #[serde(default)]
    pub ecr: Ecr,
}

/// The Lambda function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Lambda {
    /// Function name: letters, digits, `-` and `_`, at most 64 characters.
    /// Also names its log group `/aws/lambda/<name>` and its Batch resources.
    #[schemars(length(min = 1))]
    pub name: String,

    /// Region of the function. Unset: the region of the AWS configuration
    /// chain (`--region`, `AWS_REGION`, the profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,

    /// AWS profile (SCAR's `boto_profile`). Unset: `--profile` or the default
    /// chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boto_profile: Option<String>,

    /// Memory in MB (128–10240).
    #[serde(default = "default_memory")]
    #[schemars(range(min = 128, max = 10240))]
    pub memory: u32,

    /// Maximum run time in seconds (1–900).
    #[serde(default = "default_timeout")]
    #[schemars(range(min = 1, max = 900))]
    pub timeout: u32,

    /// Function description.
    #[serde(default = "default_description")]
    #[schemars(length(max = 256))]
    pub description: String,

    /// `image` deploys the function as a container image. Any other value is
    /// SCAR's zip runtime (python3.x); scar runs zip functions on the
    /// `provided.al2023` custom runtime with its own supervisor instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,

    /// Instruction set: `x86_64` or `arm64`.
    #[serde(default = "default_architectures")]
    #[schemars(length(min = 1, max = 1))]
    pub architectures: Vec<Architecture>,

    /// VPC settings, passed as Lambda `VpcConfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc: Option<Vpc>,

    /// EFS mounts, passed as Lambda `FileSystemConfigs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1))]
    pub file_system: Vec<FileSystem>,

    /// Extra layer version ARNs (at most 4; the supervisor layer is added).
    #[serde(default)]
    #[schemars(length(max = 4))]
    pub layers: Vec<String>,

    /// Environment of the Lambda function (not of the user's container).
    #[serde(default)]
    pub environment: Environment,

    /// `lambda`, `lambda-batch` (Lambda, handed to Batch when it would time
    /// out) or `batch` (always delegated to AWS Batch).
    #[serde(default)]
    pub execution_mode: ExecutionMode,

    /// Supervisor log level.
    #[serde(default)]
    pub log_level: LogLevel,

    /// Script run on every invocation, relative to the manifest's folder and
    /// read only from inside it (or a folder given with `--allow-files-in`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_script: Option<String>,

    /// Script for `scar run` only (SCAR CLI); not deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_script: Option<String>,

    /// Arguments for `scar run` only (SCAR CLI); not deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_args: Option<Vec<String>>,

    /// File or folder copied into the package root (`/var/task`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_payload: Option<String>,

    /// The user's container.
    #[serde(default)]
    pub container: Container,

    /// Where input files come from. An `s3` input gets a bucket, a trigger
    /// (bucket notification) and the permission for S3 to invoke.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input: Vec<StorageInput>,

    /// Where the files the script writes to `$TMP_OUTPUT_DIR` are uploaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<StorageOutput>,

    /// The in-function supervisor.
    #[serde(default)]
    pub supervisor: Supervisor,

    /// Package upload settings.
    #[serde(default)]
    pub deployment: Deployment,

    /// Default invocation type of `scar run` (SCAR CLI).
    #[serde(default = "default_invocation_type")]
    pub invocation_type: InvocationType,

    /// `LogType` of `scar run` (SCAR CLI).
    #[serde(default = "default_log_type")]
    pub log_type: String,

    /// Asynchronous `scar run` (SCAR CLI).
    #[serde(default)]
    pub asynchronous: bool,

    /// Invoke once after creation (SCAR `init -ph`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preheat: Option<bool>,

    /// Supervisor: `true` skips downloading the input file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_stage_in: Option<bool>,

    /// Supervisor (OSCAR multi-tenant output rewrite); passed through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation_level: Option<String>,

    /// Supervisor (OSCAR multi-tenant output rewrite); passed through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_list: Option<Vec<String>>,

    /// (scar) No plan may delete or replace this function: one that would
    /// (a destroy, its removal from the manifests, a change that forces a
    /// replacement) fails before any change, naming it. Remove the key to
    /// delete the function.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prevent_destroy: bool,

    /// (scar) Attributes of the function that another system manages: scar
    /// neither shows nor writes their differences, and `drift` does not
    /// report them (a new function is still created as the manifest says).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_changes: Vec<FunctionAttribute>,

    /// Keys SCAR does not know are passed through to the supervisor's
    /// function config, as SCAR does (a warning names each one).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// (scar) A function attribute `ignore_changes` can name: as `plan` shows
/// them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FunctionAttribute {
    Memory,
    Timeout,
    Description,
    Environment,
    Role,
    Layers,
    Tags,
    VpcSubnetIds,
    VpcSecurityGroupIds,
    FileSystems,
}

impl FunctionAttribute {
    /// The attribute's name in plans.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

impl Lambda {
    /// Every storage entry: (`input` or `output`, index, provider, path).
    pub fn storage_entries(&self) -> impl Iterator<Item = (&'static str, usize, &str, &str)> {
        let inputs = self
            .input
            .iter()
            .enumerate()
            .map(|(i, e)| ("input", i, e.storage_provider.as_str(), e.path.as_str()));
        let outputs = self
            .output
            .iter()
            .enumerate()
            .map(|(i, e)| ("output", i, e.storage_provider.as_str(), e.path.as_str()));
        inputs.chain(outputs)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Architecture {
    #[serde(rename = "x86_64")]
    X86_64,
    #[serde(rename = "arm64")]
    Arm64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExecutionMode {
    #[default]
    Lambda,
    LambdaBatch,
    Batch,
}

impl ExecutionMode {
    /// True when the function needs AWS Batch resources.
    pub fn uses_batch(self) -> bool {
        !matches!(self, ExecutionMode::Lambda)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    Critical,
    Error,
    Warning,
    #[default]
    Info,
    Debug,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

/// `environment: {Variables: {KEY: value}}`, as Lambda spells it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    #[serde(rename = "Variables", default)]
    pub variables: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Vpc {
    #[serde(rename = "SubnetIds", default)]
    pub subnet_ids: Vec<String>,
    #[serde(rename = "SecurityGroupIds", default)]
    pub security_group_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FileSystem {
    /// ARN of the EFS access point.
    #[serde(rename = "Arn")]
    pub arn: String,
    /// Mount path inside the function, under `/mnt/`.
    #[serde(rename = "LocalMountPath")]
    pub local_mount_path: String,
}

/// The user's container image and its settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Container {
    /// The function's base image (Docker Hub name, registry path or ECR
    /// URI, with a tag or a digest): scar appends its layer (the
    /// supervisor, the config and the script in `/var/task`) and pushes the
    /// result to the function's ECR repository; an ECR image without
    /// `create_image: true` runs as it is, by digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// An image saved to a file (`docker save`, or an OCI layout archive;
    /// plain or gzipped) as the base instead of `image`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_file: Option<String>,
    /// Environment of the user's script.
    #[serde(default)]
    pub environment: Environment,
    /// Seconds kept for uploading outputs: the script is killed at the
    /// remaining time minus this.
    #[serde(default = "default_timeout_threshold")]
    #[schemars(range(min = 0, max = 899))]
    pub timeout_threshold: u32,
    /// SCAR's flag for a musl (Alpine) base; accepted and not needed: the
    /// supervisor is static and runs in any image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpine: Option<bool>,
    /// With an ECR `image`: `true` builds the function's image on it;
    /// otherwise (SCAR's default) it runs as it is, by digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_image: Option<bool>,
}

impl Default for Container {
    fn default() -> Self {
        Container {
            image: None,
            image_file: None,
            environment: Environment::default(),
            timeout_threshold: default_timeout_threshold(),
            alpine: None,
            create_image: None,
        }
    }
}

/// An input: `storage_provider` is `<type>[.<id>]`, `path` is
/// `bucket[/folder...]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StorageInput {
    /// `s3`, `s3.<id>`, `minio.<id>`, `onedata.<id>`, `webdav.<id>` or
    /// `rucio.<id>`. Only plain `s3` inputs get a trigger on AWS.
    pub storage_provider: String,
    /// `bucket[/folder...]`.
    pub path: String,
}

/// An output with optional filters on the relative path of each file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StorageOutput {
    pub storage_provider: String,
    /// `bucket[/folder...]`: files go to `<folder>/<relative path>`.
    pub path: String,
    /// Upload only files whose relative path starts with one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefix: Vec<String>,
    /// Upload only files whose relative path ends with one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suffix: Vec<String>,
}

/// The supervisor that runs inside the function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Supervisor {
    /// SCAR: a faas-supervisor release. scar ships its own supervisor, built
    /// alongside it; other values than `latest` are ignored (warning).
    #[serde(default = "default_supervisor_version")]
    pub version: String,
    /// Name of the supervisor layer.
    #[serde(default = "default_layer_name")]
    pub layer_name: String,
    /// `LicenseInfo` of the supervisor layer.
    #[serde(default = "default_license_info")]
    pub license_info: String,
}

impl Default for Supervisor {
    fn default() -> Self {
        Supervisor {
            version: default_supervisor_version(),
            layer_name: default_layer_name(),
            license_info: default_license_info(),
        }
    }
}

/// How the code package is uploaded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Deployment {
    /// Upload the package to `s3://<bucket>/lambda/<name>.zip` first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// Largest package uploaded directly, in bytes.
    #[serde(default = "default_max_payload_size")]
    pub max_payload_size: u64,
    /// Largest package uploaded through the deployment bucket, in bytes.
    #[serde(default = "default_max_s3_payload_size")]
    pub max_s3_payload_size: u64,
}

impl Default for Deployment {
    fn default() -> Self {
        Deployment {
            bucket: None,
            max_payload_size: default_max_payload_size(),
            max_s3_payload_size: default_max_s3_payload_size(),
        }
    }
}

/// The function's execution role.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Iam {
    /// ARN of the execution role, used as is. Unset or empty: scar creates a
    /// least-privilege role for the workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boto_profile: Option<String>,
}

/// An HTTP endpoint in API Gateway (created when `name` is set).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApiGateway {
    /// Name of the REST API; setting it creates the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boto_profile: Option<String>,
    /// Stage of the deployment.
    #[serde(default = "default_stage_name")]
    pub stage_name: String,
    /// Resource path under the API root.
    #[serde(default = "default_path_part")]
    pub path_part: String,
    /// HTTP method.
    #[serde(default = "default_http_method")]
    pub http_method: String,
    /// SCAR internals, accepted and not used by scar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_arn_testing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_arn_invocation: Option<String>,
}

/// The function's log group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CloudWatch {
    /// Days to keep logs (a CloudWatch retention value: 1, 3, 5, 7, 14, 30,
    /// 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    /// 2922, 3288, 3653).
    #[serde(default = "default_log_retention")]
    pub log_retention_policy_in_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boto_profile: Option<String>,
    /// `scar log` only (SCAR CLI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
    /// `scar log` only (SCAR CLI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Default for CloudWatch {
    fn default() -> Self {
        CloudWatch {
            log_retention_policy_in_days: default_log_retention(),
            region: None,
            boto_profile: None,
            log_stream_name: None,
            request_id: None,
        }
    }
}

/// AWS Batch settings, used when `execution_mode` is `batch` or
/// `lambda-batch`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Batch {
    /// vCPUs of the job.
    #[serde(default = "default_batch_vcpus")]
    #[schemars(range(min = 1))]
    pub vcpus: u32,
    /// Memory of the job in MiB.
    #[serde(default = "default_batch_memory")]
    #[schemars(range(min = 4))]
    pub memory: u32,
    /// Ask for one GPU.
    #[serde(default)]
    pub enable_gpu: bool,
    /// State of the compute environment and job queue.
    #[serde(default)]
    pub state: BatchState,
    /// Compute environment type.
    #[serde(rename = "type", default)]
    pub ce_type: ComputeEnvironmentType,
    /// Extra environment of the job.
    #[serde(default)]
    pub environment: Environment,
    #[serde(default)]
    pub multi_node_parallel: MultiNodeParallel,
    #[serde(default)]
    pub compute_resources: ComputeResources,
    /// ARN of the Batch service role. Unset: scar creates a least-privilege
    /// one for the workflow (`scar-<workflow>-batch`; SCAR used the
    /// account's `service-role/AWSBatchServiceRole`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boto_profile: Option<String>,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            vcpus: default_batch_vcpus(),
            memory: default_batch_memory(),
            enable_gpu: false,
            state: BatchState::default(),
            ce_type: ComputeEnvironmentType::default(),
            environment: Environment::default(),
            multi_node_parallel: MultiNodeParallel::default(),
            compute_resources: ComputeResources::default(),
            service_role: None,
            region: None,
            boto_profile: None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum BatchState {
    #[default]
    Enabled,
    Disabled,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ComputeEnvironmentType {
    #[default]
    Managed,
    Unmanaged,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MultiNodeParallel {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_number_nodes")]
    #[schemars(range(min = 1, max = 1000))]
    pub number_nodes: u32,
    #[serde(default)]
    pub main_node_index: u32,
}

impl Default for MultiNodeParallel {
    fn default() -> Self {
        MultiNodeParallel {
            enabled: false,
            number_nodes: default_number_nodes(),
            main_node_index: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComputeResources {
    /// Security groups of the instances (required for Batch).
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    /// Subnets of the instances (required for Batch).
    #[serde(default)]
    pub subnets: Vec<String>,
    /// `EC2`, `SPOT`, `FARGATE` or `FARGATE_SPOT`.
    #[serde(rename = "type", default)]
    pub resource_type: ComputeResourceType,
    #[serde(default)]
    pub desired_v_cpus: u32,
    #[serde(default)]
    pub min_v_cpus: u32,
    #[serde(default = "default_max_v_cpus")]
    #[schemars(range(min = 1))]
    pub max_v_cpus: u32,
    #[serde(default = "default_instance_types")]
    pub instance_types: Vec<String>,
    /// SCAR's launch template installing its supervisor on the instances;
    /// accepted and not used: scar's supervisor is in the function's image.
    #[serde(default = "default_launch_template_name")]
    pub launch_template_name: String,
    /// Instance profile ARN (EC2 and SPOT). Unset: scar creates one for the
    /// workflow (`scar-<workflow>-batch-instance`, with a role of the same
    /// name that may run the ECS agent, pull the workflow's function images
    /// and write the jobs' logs; SCAR used the account's `ecsInstanceRole`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_role: Option<String>,
}

impl Default for ComputeResources {
    fn default() -> Self {
        ComputeResources {
            security_group_ids: Vec::new(),
            subnets: Vec::new(),
            resource_type: ComputeResourceType::default(),
            desired_v_cpus: 0,
            min_v_cpus: 0,
            max_v_cpus: default_max_v_cpus(),
            instance_types: default_instance_types(),
            launch_template_name: default_launch_template_name(),
            instance_role: None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ComputeResourceType {
    #[default]
    Ec2,
    Spot,
    Fargate,
    FargateSpot,
}

/// S3 client settings and SCAR's synthetic event template (`scar run`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct S3Client {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boto_profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Value>,
}

/// ECR settings of image functions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Ecr {
    /// Delete the function's ECR repository with the function.
    #[serde(default = "default_true")]
    pub delete_image: bool,
    /// (scar) No plan may delete the function's ECR repository: one that
    /// would fails before any change, naming it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prevent_destroy: bool,
}

impl Default for Ecr {
    fn default() -> Self {
        Ecr {
            delete_image: true,
            prevent_destroy: false,
        }
    }
}

/// Storage providers by type, then by id.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StorageProviders {
    /// S3 accounts other than the function's own role (`s3.<id>`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub s3: BTreeMap<String, S3Provider>,
    /// MinIO servers (`minio.<id>`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub minio: BTreeMap<String, MinioProvider>,
    /// Onedata spaces (`onedata.<id>`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub onedata: BTreeMap<String, OnedataProvider>,
    /// WebDAV servers, e.g. dCache (`webdav.<id>`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub webdav: BTreeMap<String, WebdavProvider>,
    /// Rucio data management (`rucio.<id>`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rucio: BTreeMap<String, RucioProvider>,
}

impl StorageProviders {
    pub fn is_empty(&self) -> bool {
        self.s3.is_empty()
            && self.minio.is_empty()
            && self.onedata.is_empty()
            && self.webdav.is_empty()
            && self.rucio.is_empty()
    }

    /// Whether `<kind>.<id>` is defined.
    pub fn has(&self, kind: &str, id: &str) -> bool {
        self.ids(kind).contains(&id)
    }

    /// The ids defined for a provider type (none for an unknown type).
    pub fn ids(&self, kind: &str) -> Vec<&str> {
        fn keys<T>(m: &BTreeMap<String, T>) -> Vec<&str> {
            m.keys().map(String::as_str).collect()
        }
        match kind {
            "s3" => keys(&self.s3),
            "minio" => keys(&self.minio),
            "onedata" => keys(&self.onedata),
            "webdav" => keys(&self.webdav),
            "rucio" => keys(&self.rucio),
            _ => Vec::new(),
        }
    }
}

/// A secret value: masked wherever scar prints it.
pub type Secret = String;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct S3Provider {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Secret: masked in scar's output (a warning asks to keep it out of
    /// manifests).
    #[schemars(extend("x-scar-secret" = true))]
    pub access_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Secret: masked in scar's output.
    #[schemars(extend("x-scar-secret" = true))]
    pub secret_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MinioProvider {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Secret: masked in scar's output (a warning asks to keep it out of
    /// manifests).
    #[schemars(extend("x-scar-secret" = true))]
    pub access_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Secret: masked in scar's output.
    #[schemars(extend("x-scar-secret" = true))]
    pub secret_key: Option<Secret>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OnedataProvider {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oneprovider_host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Secret: masked in scar's output.
    #[schemars(extend("x-scar-secret" = true))]
    pub token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WebdavProvider {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Secret: masked in scar's output.
    #[schemars(extend("x-scar-secret" = true))]
    pub password: Option<Secret>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RucioProvider {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rse: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-scar-secret" = true))]
    pub access_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-scar-secret" = true))]
    pub refresh_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_audience: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Value>,
}

/// CloudWatch Logs' accepted retention values, in days.
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

fn default_memory() -> u32 {
    512
}
fn default_timeout() -> u32 {
    300
}
fn default_description() -> String {
    "Automatically generated lambda function".into()
}
fn default_architectures() -> Vec<Architecture> {
    vec![Architecture::X86_64]
}
fn default_timeout_threshold() -> u32 {
    10
}
fn default_supervisor_version() -> String {
    "latest".into()
}
fn default_layer_name() -> String {
    "scar-supervisor".into()
}
fn default_license_info() -> String {
    "Apache 2.0".into()
}
fn default_max_payload_size() -> u64 {
    52_428_800
}
fn default_max_s3_payload_size() -> u64 {
    262_144_000
}
fn default_invocation_type() -> InvocationType {
    InvocationType::RequestResponse
}
fn default_log_type() -> String {
    "Tail".into()
}
fn default_stage_name() -> String {
    "scar".into()
}
fn default_path_part() -> String {
    "{proxy+}".into()
}
fn default_http_method() -> String {
    "ANY".into()
}
fn default_log_retention() -> u32 {
    30
}
fn default_batch_vcpus() -> u32 {
    1
}
fn default_batch_memory() -> u32 {
    1024
}
fn default_number_nodes() -> u32 {
    10
}
fn default_max_v_cpus() -> u32 {
    2
}
fn default_instance_types() -> Vec<String> {
    vec!["m3.medium".into()]
}
fn default_launch_template_name() -> String {
    "faas-supervisor".into()
}
fn default_true() -> bool {
    true
}
