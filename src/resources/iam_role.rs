//! `iam_role`: the workflow's least-privilege execution role (`scar-<workflow>`),
//! for the functions that name no `iam.role`: its trust policy lets Lambda
//! assume it, its inline policy (`scar`) lets each function write its own
//! logs, read its inputs and write its outputs, and nothing else. The
//! default rules: only its own workflow changes it; replaced by delete,
//! then create. Observed with GetRole (and, for the roles the manifests
//! name, whether they exist).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::support::{
    arn_output, check_owner, found_or_conflict, observed_tagged, parse_json, s3_reads, s3_writes,
    scar_tags, vanished, wanted,
};
use super::{batch, lambda_function, Context, Desire, KindRules, Observation, Outputs, Step};
use crate::cloud::retry::{retry, retry_throttled};
use crate::cloud::{Cloud, CloudError, Tags};
use crate::manifest::FunctionDef;
use crate::model::{owner_of, Action, Addr, DesiredState, Kind, Owner};

pub struct IamRole;

impl KindRules for IamRole {}

/// A role's attributes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RoleAttrs {
    pub assume_role_policy: Value,
    /// The inline policy [`ROLE_POLICY`] (absent when the role has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Value>,
    pub tags: Tags,
}

/// The inline policy name of roles scar creates.
pub const ROLE_POLICY: &str = "scar";

/// The name of the role scar creates for a workflow.
pub fn role_name(workflow: &str) -> String {
    format!("scar-{workflow}")
}

/// The address of a workflow's role.
pub fn addr(workflow: &str) -> Addr {
    Addr::new(Kind::IamRole, role_name(workflow))
}

/// The workflow's role, if some function names no `iam.role`, and the
/// Batch service role, if a Batch function names none.
pub fn desire(d: &Desire, out: &mut DesiredState) {
    desire_batch_service_role(d, out);
    desire_batch_instance_role(d, out);
    let users: Vec<&FunctionDef> = d
        .functions
        .iter()
        .copied()
        .filter(|f| f.spec.iam.role.is_none())
        .collect();
    if users.is_empty() {
        return;
    }
    let a = addr(d.workflow);
    let mut trust = lambda_trust_policy();
    if batch::functions(&users).next().is_some() {
        // Its Batch jobs run as the function's role too.
        trust["Statement"][0]["Principal"]["Service"] =
            json!(["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]);
    }
    let attrs = RoleAttrs {
        assume_role_policy: trust,
        policy: Some(least_privilege_policy(d.ctx, &users)),
        tags: d.ownership_tags(),
    };
    out.add(wanted(a, &attrs));
}

/// The Batch service role, if a Batch function names no
/// `batch.service_role`.
fn desire_batch_service_role(d: &Desire, out: &mut DesiredState) {
    if !batch::functions(d.functions).any(|f| f.spec.batch.service_role.is_none()) {
        return;
    }
    let attrs = RoleAttrs {
        assume_role_policy: batch::service_trust_policy(),
        policy: Some(batch::service_policy()),
        tags: d.ownership_tags(),
    };
    out.add(wanted(batch::service_role(d.workflow), &attrs));
}

/// The role of the Batch instances, in scar's instance profile, if an EC2
/// or SPOT environment names no `compute_resources.instance_role`: the
/// ECS agent's actions, pulling the workflow's function images and
/// writing the jobs' logs.
fn desire_batch_instance_role(d: &Desire, out: &mut DesiredState) {
    if !super::iam_instance_profile::wanted_by(d) {
        return;
    }
    let (region, account) = (&d.ctx.region, &d.ctx.account_id);
    let repositories: Vec<String> = batch::functions(d.functions)
        .map(|f| {
            format!(
                "arn:aws:ecr:{region}:{account}:repository/{}",
                super::repository_name(f.name())
            )
        })
        .collect();
    let attrs = RoleAttrs {
        assume_role_policy: json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole"
            }]
        }),
        policy: Some(json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "EcsAgent",
                    "Effect": "Allow",
                    "Action": [
                        "ecs:CreateCluster", "ecs:DeregisterContainerInstance", "ecs:DiscoverPollEndpoint",
                        "ecs:Poll", "ecs:RegisterContainerInstance", "ecs:StartTelemetrySession",
                        "ecs:UpdateContainerInstancesState", "ecs:Submit*", "ecs:TagResource",
                        "ecr:GetAuthorizationToken"
                    ],
                    "Resource": "*"
                },
                {
                    "Sid": "PullFunctionImages",
                    "Effect": "Allow",
                    "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                    "Resource": repositories
                },
                {
                    "Sid": "JobLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": [format!("arn:aws:logs:{region}:{account}:log-group:/aws/batch/job:*")]
                }
            ]
        })),
        tags: d.ownership_tags(),
    };
    out.add(wanted(
        Addr::new(Kind::IamRole, super::iam_instance_profile::name(d.workflow)),
        &attrs,
    ));
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
        logs.insert(format!(
            "arn:aws:logs:{}:{}:log-group:/aws/lambda/{}:*",
            ctx.region,
            ctx.account_id,
            f.name()
        ));
        reads.extend(s3_reads(f).map(object_arn));
        writes.extend(s3_writes(f).map(object_arn));
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
    let (region, account) = (&ctx.region, &ctx.account_id);
    let mut submit = BTreeSet::new();
    let mut pulls = BTreeSet::new();
    for f in batch::functions(functions) {
        submit.insert(batch::arn(region, account, "job-queue", f.name()));
        submit.insert(batch::arn(region, account, "job-definition", f.name()));
        submit.insert(batch::arn(
            region,
            account,
            "job-definition",
            &format!("{}:*", f.name()),
        ));
        if batch::on_fargate(f) {
            pulls.insert(format!(
                "arn:aws:ecr:{region}:{account}:repository/{}",
                super::repository_name(f.name())
            ));
        }
    }
    if !submit.is_empty() {
        // The Lambda side hands events to its own queue and job
        // definition, and nothing else.
        statements.push(json!({
            "Sid": "SubmitToOwnBatchQueue",
            "Effect": "Allow",
            "Action": ["batch:SubmitJob"],
            "Resource": submit.into_iter().collect::<Vec<_>>(),
        }));
    }
    if !pulls.is_empty() {
        // On Fargate the role is also the job definition's execution role:
        // it pulls the function's image and writes the job's logs.
        statements.push(json!({
            "Sid": "FargateToken",
            "Effect": "Allow",
            "Action": ["ecr:GetAuthorizationToken"],
            "Resource": "*",
        }));
        statements.push(json!({
            "Sid": "FargatePull",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            "Resource": pulls.into_iter().collect::<Vec<_>>(),
        }));
        statements.push(json!({
            "Sid": "FargateJobLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [format!("arn:aws:logs:{region}:{account}:log-group:/aws/batch/job:*")],
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Whether a policy document has an `Allow` statement whose actions match
/// `action` (`service:Name`; `*` wildcards as IAM reads them, letters in
/// any case). Conditions, resources and `Deny`s are not weighed: this
/// finds a role that cannot do it, it does not prove one can.
pub fn allows(document: &Value, action: &str) -> bool {
    let matches = |pattern: &str| {
        let re = format!(
            "(?i)^{}$",
            regex::escape(pattern)
                .replace(r"\*", ".*")
                .replace(r"\?", ".")
        );
        regex::Regex::new(&re).is_ok_and(|r| r.is_match(action))
    };
    let statements = match &document["Statement"] {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => Vec::new(),
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && match &s["Action"] {
                Value::String(a) => matches(a),
                Value::Array(a) => a.iter().filter_map(Value::as_str).any(matches),
                _ => false,
            }
    })
}

fn object_arn((bucket, folder): (&str, &str)) -> String {
    if folder.is_empty() {
        format!("arn:aws:s3:::{bucket}/*")
    } else {
        format!("arn:aws:s3:::{bucket}/{folder}/*")
    }
}

/// The workflow's role, and whether the roles the manifests name exist
/// (only their ARN matters, so their policies are not read).
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    for arn in lambda_function::given_roles(o.desired) {
        let name = arn.rsplit('/').next().unwrap_or_default().to_string();
        if o.cloud.role_arn(&name).await?.as_ref() != Some(&arn) {
            o.out.missing.insert(arn);
        }
    }
    // A Batch function that runs as a role of its own must be let submit
    // to its queue: warn when none of the role's policies allows it.
    for (function, arn) in lambda_function::batch_roles(o.desired) {
        if o.out.missing.contains(&arn) {
            continue;
        }
        let name = arn.rsplit('/').next().unwrap_or_default().to_string();
        let Some(role) = o.cloud.get_role(&name).await? else {
            continue;
        };
        let mut documents: Vec<String> = role.inline_policies.into_values().collect();
        // A managed policy that cannot be read (an AWS one the account
        // does not show) leaves the question open: no warning.
        match o.cloud.attached_policy_documents(&name).await {
            Ok(docs) => documents.extend(docs),
            Err(_) => continue,
        }
        if !documents
            .iter()
            .any(|d| allows(&parse_json(d), "batch:SubmitJob"))
        {
            o.out.warnings.push((
                "batch-submit-not-allowed".into(),
                format!("function `{function}` hands its events to AWS Batch, but its `iam.role` `{arn}` allows no `batch:SubmitJob`: its jobs would be refused"),
                format!("add `batch:SubmitJob` on `{}` and `{}` to that role, or remove `iam.role` to let scar create a least-privilege role that has it", batch::arn(o.cloud.region(), o.cloud.account_id(), "job-queue", &function), batch::arn(o.cloud.region(), o.cloud.account_id(), "job-definition", &format!("{function}:*"))),
            ));
        }
    }
    // The workflow's role, and any other role of the workflow that its
    // functions still run as (one a rename left behind: IAM roles cannot
    // be renamed, so it goes once the functions have moved).
    let own = role_name(o.workflow);
    let wanted = o.wanted(Kind::IamRole);
    let mut names = BTreeSet::from([own.clone()]);
    names.extend(wanted.iter().cloned());
    if !batch::names(o).is_empty() {
        // The Batch roles, also once the manifests dropped the functions.
        names.insert(batch::service_role_name(o.workflow));
        names.insert(super::iam_instance_profile::name(o.workflow));
    }
    for role in lambda_function::owned_roles(&o.out) {
        if let Some(name) = role.rsplit_once(":role/").map(|(_, n)| n) {
            if name.starts_with("scar-") {
                names.insert(name.to_string());
            }
        }
    }
    for name in names {
        let Some(role) = o.cloud.get_role(&name).await? else {
            continue;
        };
        let owner = owner_of(Some(&role.tags), o.workflow);
        if name != own && !wanted.contains(&name) && owner != Owner::Workflow {
            continue;
        }
        let attrs = RoleAttrs {
            assume_role_policy: parse_json(&role.assume_role_policy),
            policy: role.inline_policies.get(ROLE_POLICY).map(|p| parse_json(p)),
            tags: scar_tags(Some(&role.tags)),
        };
        let mut found = observed_tagged(
            Addr::new(Kind::IamRole, &role.name),
            &attrs,
            owner,
            Some(&role.tags),
        );
        found.outputs = arn_output(role.arn);
        o.insert(found);
    }
    Ok(())
}

pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    retry(|| cloud.delete_role(&s.addr.name)).await?;
    Ok(())
}

pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: RoleAttrs,
) -> Result<Outputs, CloudError> {
    let name = s.addr.name.as_str();
    let trust = want.assume_role_policy.to_string();
    let policy = want
        .policy
        .as_ref()
        .map(Value::to_string)
        .unwrap_or_default();
    let tags = &want.tags;
    let arn = if s.action == Action::Create {
        match retry_throttled(|| cloud.create_role(name, &trust, tags)).await {
            Ok(arn) => arn,
            Err(e) if found_or_conflict(&e) => match retry(|| cloud.get_role(name)).await? {
                // Already there: adopt it if it is ours, trust included.
                Some(role) => {
                    check_owner(s.addr, Some(&role.tags), s.workflow)?;
                    retry(|| cloud.update_assume_role_policy(name, &trust)).await?;
                    role.arn
                }
                // Not there: a concurrent change (or one being deleted);
                // try again, retrying conflicts.
                None => retry(|| cloud.create_role(name, &trust, tags)).await?,
            },
            Err(e) => return Err(e),
        }
    } else {
        if s.differs("assume_role_policy") {
            retry(|| cloud.update_assume_role_policy(name, &trust)).await?;
        }
        if s.differs("tags") {
            retry(|| cloud.tag_role(name, tags)).await?;
        }
        match s.observed.get("arn") {
            Some(arn) => arn.clone(),
            None => match retry(|| cloud.get_role(name)).await? {
                Some(r) => r.arn,
                None => return Err(vanished(s.addr)),
            },
        }
    };
    if s.action == Action::Create || s.differs("policy") {
        retry(|| cloud.put_role_policy(name, ROLE_POLICY, &policy)).await?;
    }
    Ok(arn_output(arn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::checks::split_path;

    #[test]
    fn an_allow_of_the_action_or_a_wildcard_allows_it() {
        let doc = |action: Value| json!({"Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]});
        assert!(allows(&doc(json!("batch:SubmitJob")), "batch:SubmitJob"));
        assert!(allows(
            &doc(json!(["s3:GetObject", "batch:*"])),
            "batch:SubmitJob"
        ));
        assert!(allows(&doc(json!("*")), "batch:SubmitJob"));
        assert!(allows(&doc(json!("Batch:submitjob")), "batch:SubmitJob"));
        assert!(!allows(&doc(json!("batch:Describe*")), "batch:SubmitJob"));
        assert!(!allows(&doc(json!(["s3:*"])), "batch:SubmitJob"));
        let deny = json!({"Statement": {"Effect": "Deny", "Action": "batch:SubmitJob"}});
        assert!(!allows(&deny, "batch:SubmitJob"));
    }

    #[test]
    fn a_folder_is_its_objects_and_a_bucket_all_of_its_objects() {
        assert_eq!(object_arn(split_path("b/in")), "arn:aws:s3:::b/in/*");
        assert_eq!(object_arn(split_path("b")), "arn:aws:s3:::b/*");
    }
}
