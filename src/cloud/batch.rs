//! AWS Batch: managed compute environments, job queues and job
//! definitions, in the project's own types. Batch describes by lists of
//! names (up to 100 a call) for environments and queues, and by one name
//! for job definitions; every resource takes its tags in its create call.

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};

use super::{CloudResult, Tags};

/// The most names one DescribeComputeEnvironments or DescribeJobQueues
/// call takes.
pub const DESCRIBE_NAMES: usize = 100;

/// What a managed compute environment's instances are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeResources {
    /// `EC2`, `SPOT`, `FARGATE` or `FARGATE_SPOT`.
    #[serde(rename = "type")]
    pub kind: String,
    pub min_vcpus: u32,
    pub max_vcpus: u32,
    pub desired_vcpus: u32,
    /// EC2 and SPOT only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_types: Vec<String>,
    pub subnets: Vec<String>,
    pub security_group_ids: Vec<String>,
    /// The instance profile ARN (EC2 and SPOT only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_role: Option<String>,
}

/// A compute environment as created.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComputeEnvironmentSpec {
    pub name: String,
    /// `MANAGED` or `UNMANAGED`.
    pub kind: String,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    pub service_role: String,
    /// `None` for an unmanaged one.
    pub resources: Option<ComputeResources>,
    pub tags: Tags,
}

/// A compute environment as described.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComputeEnvironmentState {
    pub spec: ComputeEnvironmentSpec,
    pub arn: String,
    /// `CREATING`, `UPDATING`, `DELETING`, `DELETED`, `VALID`, `INVALID`.
    pub status: String,
    pub status_reason: Option<String>,
}

/// What UpdateComputeEnvironment changes in place.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComputeEnvironmentUpdate {
    pub state: Option<String>,
    pub service_role: Option<String>,
    /// min, max and desired vCPUs, subnets and security groups.
    pub resources: Option<ComputeResources>,
}

/// A job queue as created.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobQueueSpec {
    pub name: String,
    pub state: String,
    pub priority: i32,
    /// Compute environment ARNs, in order.
    pub compute_environments: Vec<String>,
    pub tags: Tags,
}

/// A job queue as described.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobQueueState {
    pub spec: JobQueueSpec,
    pub arn: String,
    pub status: String,
    pub status_reason: Option<String>,
}

/// What UpdateJobQueue changes in place.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobQueueUpdate {
    pub state: Option<String>,
    pub priority: Option<i32>,
    pub compute_environments: Option<Vec<String>>,
}

/// The container of a job (or of every node of a multi-node job).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobContainer {
    pub image: String,
    pub vcpus: u32,
    /// MiB.
    pub memory: u32,
    /// GPUs (0: none).
    #[serde(default)]
    pub gpus: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// The role the job's code runs as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_role_arn: Option<String>,
    /// The role Batch pulls the image and writes logs with (Fargate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
}

/// A multi-node parallel job's nodes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobNodes {
    pub count: u32,
    pub main: u32,
}

/// A job definition revision as registered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobDefinitionSpec {
    pub name: String,
    /// `EC2` or `FARGATE`.
    pub platform: String,
    pub container: JobContainer,
    /// `Some`: a multi-node parallel job (`type: multinode`).
    pub nodes: Option<JobNodes>,
    pub tags: Tags,
}

/// A job definition revision as described.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobDefinitionState {
    pub spec: JobDefinitionSpec,
    /// `arn:...:job-definition/<name>:<revision>`.
    pub arn: String,
    pub revision: i64,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
}

/// AWS Batch: compute environments, job queues, job definitions.
pub trait BatchApi {
    /// The compute environments of these names that exist (one call per
    /// [`DESCRIBE_NAMES`] names).
    fn describe_compute_environments(
        &self,
        names: &[String],
    ) -> impl Future<Output = CloudResult<Vec<ComputeEnvironmentState>>> + Send;
    /// Creates a compute environment with its tags; returns its ARN.
    fn create_compute_environment(
        &self,
        spec: &ComputeEnvironmentSpec,
    ) -> impl Future<Output = CloudResult<String>> + Send;
    fn update_compute_environment(
        &self,
        name: &str,
        update: &ComputeEnvironmentUpdate,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Deletes a (disabled) compute environment; `Ok(false)` if it was gone.
    fn delete_compute_environment(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<bool>> + Send;
    /// The job queues of these names that exist (one call per
    /// [`DESCRIBE_NAMES`] names).
    fn describe_job_queues(
        &self,
        names: &[String],
    ) -> impl Future<Output = CloudResult<Vec<JobQueueState>>> + Send;
    /// Every job queue of the account (to find those that use a compute
    /// environment), all pages.
    fn list_job_queues(&self) -> impl Future<Output = CloudResult<Vec<JobQueueState>>> + Send;
    /// Creates a job queue with its tags; returns its ARN.
    fn create_job_queue(
        &self,
        spec: &JobQueueSpec,
    ) -> impl Future<Output = CloudResult<String>> + Send;
    fn update_job_queue(
        &self,
        name: &str,
        update: &JobQueueUpdate,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Deletes a (disabled) job queue; `Ok(false)` if it was gone.
    fn delete_job_queue(&self, name: &str) -> impl Future<Output = CloudResult<bool>> + Send;
    /// The ACTIVE revisions of the job definition `name`, oldest first.
    fn describe_job_definitions(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<Vec<JobDefinitionState>>> + Send;
    /// Registers a new revision with its tags; returns its ARN and revision.
    fn register_job_definition(
        &self,
        spec: &JobDefinitionSpec,
    ) -> impl Future<Output = CloudResult<(String, i64)>> + Send;
    /// Deregisters a revision (by ARN); an INACTIVE one stays so.
    fn deregister_job_definition(&self, arn: &str) -> impl Future<Output = CloudResult<()>> + Send;
    /// Adds or overwrites tags of a compute environment, job queue or job
    /// definition revision.
    fn tag_batch_resource(
        &self,
        arn: &str,
        tags: &Tags,
    ) -> impl Future<Output = CloudResult<()>> + Send;
}
