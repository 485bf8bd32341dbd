//! What the three AWS Batch kinds (`batch_compute_environment`,
//! `batch_job_queue`, `batch_job_definition`) share: which functions have
//! them, their names (SCAR's: the function's name for all three), the
//! service role scar creates for them, when observation must look for
//! them at all, and the wait for Batch's asynchronous states.
//!
//! Observation describes the environments and queues by name lists (100
//! names a call) and the ACTIVE revisions of each job definition by name
//! (one call per function), and only when the workflow wants
//! a Batch function or one of its functions still delegates to Batch (its
//! `BATCH_JOB_QUEUE` variable): a Lambda-only workflow sends no Batch
//! request.

use std::time::Duration;

use serde_json::{json, Value};

use super::Observation;
use crate::cloud::{CloudError, ErrorKind};
use crate::manifest::{ComputeResourceType, FunctionDef};
use crate::model::{Addr, Kind};

/// The Lambda variable naming a Batch function's job queue (read by the
/// supervisor, and by observation to find the Batch resources of functions
/// the manifests dropped).
pub const ENV_JOB_QUEUE: &str = "BATCH_JOB_QUEUE";
/// The Lambda variable naming the job definition revision, by ARN.
pub const ENV_JOB_DEFINITION: &str = "BATCH_JOB_DEFINITION";

/// The functions that have Batch resources (`execution_mode` `batch` or
/// `lambda-batch`).
pub fn functions<'a>(functions: &'a [&'a FunctionDef]) -> impl Iterator<Item = &'a FunctionDef> {
    functions
        .iter()
        .copied()
        .filter(|f| f.spec.lambda.execution_mode.uses_batch())
}

/// The name of the Batch service role scar creates for a workflow.
pub fn service_role_name(workflow: &str) -> String {
    format!("scar-{workflow}-batch")
}

/// Its address.
pub fn service_role(workflow: &str) -> Addr {
    Addr::new(Kind::IamRole, service_role_name(workflow))
}

/// Whether a function's jobs run on Fargate.
pub fn on_fargate(f: &FunctionDef) -> bool {
    matches!(
        f.spec.batch.compute_resources.resource_type,
        ComputeResourceType::Fargate | ComputeResourceType::FargateSpot
    )
}

/// The Batch service role's trust policy.
pub fn service_trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "batch.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    })
}

/// What Batch needs to run managed compute environments: the EC2, Auto
/// Scaling and ECS actions of AWS's `AWSBatchServiceRole` policy, and
/// passing roles to the instances and tasks it starts (only to ECS and
/// EC2).
pub fn service_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ManageComputeResources",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeAccountAttributes", "ec2:DescribeInstances",
                    "ec2:DescribeInstanceStatus", "ec2:DescribeInstanceAttribute",
                    "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
                    "ec2:DescribeKeyPairs", "ec2:DescribeImages", "ec2:DescribeImageAttribute",
                    "ec2:DescribeSpotInstanceRequests", "ec2:DescribeSpotFleetInstances",
                    "ec2:DescribeSpotFleetRequests", "ec2:DescribeSpotPriceHistory",
                    "ec2:DescribeVpcClassicLink", "ec2:DescribeLaunchTemplateVersions",
                    "ec2:CreateLaunchTemplate", "ec2:DeleteLaunchTemplate",
                    "ec2:RequestSpotFleet", "ec2:CancelSpotFleetRequests",
                    "ec2:ModifySpotFleetRequest", "ec2:TerminateInstances", "ec2:RunInstances",
                    "ec2:CreateTags",
                    "autoscaling:DescribeAccountLimits", "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:CreateLaunchConfiguration", "autoscaling:CreateAutoScalingGroup",
                    "autoscaling:UpdateAutoScalingGroup", "autoscaling:SetDesiredCapacity",
                    "autoscaling:DeleteLaunchConfiguration", "autoscaling:DeleteAutoScalingGroup",
                    "autoscaling:CreateOrUpdateTags", "autoscaling:SuspendProcesses",
                    "autoscaling:PutNotificationConfiguration", "autoscaling:TerminateInstanceInAutoScalingGroup",
                    "ecs:DescribeClusters", "ecs:DescribeContainerInstances",
                    "ecs:DescribeTaskDefinition", "ecs:DescribeTasks", "ecs:ListAccountSettings",
                    "ecs:ListClusters", "ecs:ListContainerInstances", "ecs:ListTaskDefinitionFamilies",
                    "ecs:ListTaskDefinitions", "ecs:ListTasks", "ecs:CreateCluster",
                    "ecs:DeleteCluster", "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition",
                    "ecs:RunTask", "ecs:StartTask", "ecs:StopTask", "ecs:UpdateContainerAgent",
                    "ecs:DeregisterContainerInstance", "ecs:TagResource",
                    "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                    "logs:DescribeLogGroups", "iam:GetInstanceProfile", "iam:GetRole"
                ],
                "Resource": "*"
            },
            {
                "Sid": "PassRolesToInstancesAndTasks",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"]}}
            },
            {
                "Sid": "SpotAndEcsServiceLinkedRoles",
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"iam:AWSServiceName": ["spot.amazonaws.com", "spotfleet.amazonaws.com", "autoscaling.amazonaws.com", "ecs.amazonaws.com"]}}
            }
        ]
    })
}

/// The ARN of a Batch resource (`compute-environment`, `job-queue`,
/// `job-definition`), as the IAM policy of the functions names it.
pub fn arn(region: &str, account: &str, what: &str, name: &str) -> String {
    format!("arn:aws:batch:{region}:{account}:{what}/{name}")
}

/// The names of the Batch resources observation looks for (the same for
/// the three kinds): the Batch functions the workflow wants, and those its
/// functions still delegate to (their [`ENV_JOB_QUEUE`]), so that what the
/// manifests dropped is found; none for a Lambda-only workflow.
pub fn names<C>(o: &Observation<'_, C>) -> Vec<String> {
    let mut names = o.wanted(Kind::BatchJobQueue);
    for r in o.out.resources.values() {
        if r.owner != crate::model::Owner::Workflow {
            continue;
        }
        if let Some(q) = r
            .attrs
            .get("environment")
            .and_then(|e| e.get(ENV_JOB_QUEUE))
            .and_then(Value::as_str)
        {
            names.insert(q.to_string());
        }
    }
    names.into_iter().collect()
}

/// How long a Batch resource may take to settle (VALID, or gone).
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(600);

/// Polls `status` until it answers `Some(true)` (settled), `Some(false)`
/// meaning "not yet"; fails after [`SETTLE_TIMEOUT`], or at once with the
/// error `status` gives (an INVALID environment).
pub async fn settle<F, Fut>(what: &str, mut status: F) -> Result<(), CloudError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, CloudError>>,
{
    let start = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(250);
    loop {
        if status().await? {
            return Ok(());
        }
        if start.elapsed() >= SETTLE_TIMEOUT {
            return Err(CloudError::with_kind(
                format!("waiting for {what}"),
                ErrorKind::Timeout,
                format!(
                    "not settled after {} s; see its status in the AWS Batch console, then run apply again",
                    SETTLE_TIMEOUT.as_secs()
                ),
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}
