//! `batch_job_definition`: the job definition of a Batch function, named
//! after it, running **the function's own image** (the user's image plus
//! the layer scar appends, by digest: the supervisor is its entrypoint, so
//! nothing has to be installed on the instances) with the event in
//! `EVENT`, as the function's role, with `batch.vcpus`, `batch.memory`, a
//! GPU with `batch.enable_gpu`, `batch.environment` and, with
//! `batch.multi_node_parallel`, as a multi-node job.
//!
//! A revision is immutable: any change registers a new one (a replacement
//! carried out in place), whose ARN is known only after apply; the
//! function, which names it in `BATCH_JOB_DEFINITION`, is updated to it,
//! and then the revision it replaced is deregistered. The address of an
//! ACTIVE revision other than the newest is `<name>:<revision>`: it is
//! deregistered after the function, so that only one revision stays
//! ACTIVE. Observed with DescribeJobDefinitions (ACTIVE) per name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::task::JoinSet;

use super::support::{arn_output, observed_tagged, scar_tags, vanished, wanted};
use super::{
    batch, function_image, iam_role, Desire, KindRules, Observation, Outputs, PlanContext, Removal,
    Replacement, Step,
};
use crate::cloud::retry::retry;
use crate::cloud::{
    Cloud, CloudError, Code, JobContainer, JobDefinitionSpec, JobDefinitionState, JobNodes, Tags,
};
use crate::manifest::FunctionDef;
use crate::model::{owner_of, Addr, DesiredState, Kind, Observed, Owner};

pub struct BatchJobDefinition;

/// A job definition revision's attributes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobDefinitionAttrs {
    /// `EC2` or `FARGATE`.
    pub platform: String,
    /// The function's image, by digest.
    pub image: String,
    pub vcpus: u32,
    /// MiB.
    pub memory: u32,
    pub gpus: u32,
    /// `batch.environment.Variables`.
    pub environment: BTreeMap<String, String>,
    /// The role the job runs as: the function's.
    pub job_role_arn: String,
    /// The role Batch pulls the image with on Fargate (the function's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
    /// A multi-node parallel job's nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<JobNodes>,
    pub tags: Tags,
}

/// Every attribute but the tags: a revision is immutable.
const FORCE_NEW: [&str; 9] = [
    "platform",
    "image",
    "vcpus",
    "memory",
    "gpus",
    "environment",
    "job_role_arn",
    "execution_role_arn",
    "nodes",
];

/// Set on the observed entry `<name>:<revision>` of the newest revision
/// (also observed as `<name>`): it goes only when a new revision replaces it.
const FACT_NEWEST: &str = "newest_revision";

impl KindRules for BatchJobDefinition {
    fn replacement(&self) -> Replacement {
        Replacement::InPlace
    }

    fn create_reason(&self) -> &'static str {
        "no ACTIVE revision of it exists"
    }

    fn removal(&self, have: &Observed, ctx: &PlanContext) -> Removal {
        let Some((name, _rev)) = have.addr.name.rsplit_once(':') else {
            // The newest revision of a function no longer wanted: after
            // the function.
            let function = Addr::new(Kind::LambdaFunction, &have.addr.name);
            return Removal::Delete {
                reason: "owned by this workflow and no longer in the manifests (its revision is deregistered)".into(),
                after: ctx
                    .observed
                    .resources
                    .contains_key(&function)
                    .then_some(function)
                    .into_iter()
                    .collect(),
            };
        };
        let main = addr(name);
        let function = Addr::new(Kind::LambdaFunction, name);
        let mut after: Vec<Addr> = [function]
            .into_iter()
            .filter(|f| {
                ctx.desired.resources.contains_key(f) || ctx.observed.resources.contains_key(f)
            })
            .collect();
        if have.facts.contains_key(FACT_NEWEST) {
            let (Some(want), Some(now)) = (
                ctx.desired.resources.get(&main),
                ctx.observed.resources.get(&main),
            ) else {
                return Removal::Skip;
            };
            if !differs(&want.attrs, &now.attrs) {
                return Removal::Skip;
            }
            after.push(main);
            return Removal::Delete {
                reason: "the revision a new one replaces: deregistered once the function uses the new one".into(),
                after,
            };
        }
        Removal::Delete {
            reason: "an older ACTIVE revision: only the newest stays ACTIVE".into(),
            after,
        }
    }
}

/// Whether a revision with `have` is not the one `want` asks for (tags
/// aside: they change in place).
fn differs(want: &crate::model::Attrs, have: &crate::model::Attrs) -> bool {
    FORCE_NEW
        .iter()
        .any(|k| want.get(*k).unwrap_or(&Value::Null) != have.get(*k).unwrap_or(&Value::Null))
}

/// The job definition of a Batch function (its newest revision).
pub fn addr(function: &str) -> Addr {
    Addr::new(Kind::BatchJobDefinition, function)
}

/// The ARN of the workflow's role (scar creates roles at path `/`).
fn role_arn(d: &Desire, f: &FunctionDef) -> String {
    f.spec.iam.role.clone().unwrap_or_else(|| {
        format!(
            "arn:aws:iam::{}:role/{}",
            d.ctx.account_id,
            iam_role::role_name(d.workflow)
        )
    })
}

pub fn desire(d: &Desire, out: &mut DesiredState) {
    for f in batch::functions(d.functions) {
        let b = &f.spec.batch;
        let fargate = batch::on_fargate(f);
        let image = match d.ctx.code.get(f.name()) {
            Some(Code::Image { uri, .. }) => uri.clone(),
            _ => String::new(),
        };
        let role = role_arn(d, f);
        let attrs = JobDefinitionAttrs {
            platform: if fargate { "FARGATE" } else { "EC2" }.into(),
            image,
            vcpus: b.vcpus,
            memory: b.memory,
            gpus: u32::from(b.enable_gpu),
            environment: b.environment.variables.clone(),
            job_role_arn: role.clone(),
            execution_role_arn: fargate.then_some(role),
            nodes: b.multi_node_parallel.enabled.then_some(JobNodes {
                count: b.multi_node_parallel.number_nodes,
                main: b.multi_node_parallel.main_node_index,
            }),
            tags: d.ownership_tags(),
        };
        let mut r = wanted(addr(f.name()), &attrs);
        r.force_new = FORCE_NEW.iter().map(|s| s.to_string()).collect();
        for (k, v) in &b.environment.variables {
            if crate::secrets::looks_secret(k, v) {
                r.sensitive.insert(format!("environment.{k}"));
            }
        }
        if d.ctx.images.contains_key(f.name()) {
            r = r.dep(function_image::addr(f.name()));
        }
        if f.spec.iam.role.is_none() {
            r = r.dep(iam_role::addr(d.workflow));
        }
        out.add(r);
    }
}

fn attrs_of(d: &JobDefinitionState) -> JobDefinitionAttrs {
    let c = &d.spec.container;
    JobDefinitionAttrs {
        platform: d.spec.platform.clone(),
        image: c.image.clone(),
        vcpus: c.vcpus,
        memory: c.memory,
        gpus: c.gpus,
        environment: c.environment.clone(),
        job_role_arn: c.job_role_arn.clone().unwrap_or_default(),
        execution_role_arn: c.execution_role_arn.clone(),
        nodes: d.spec.nodes.clone(),
        tags: scar_tags(Some(&d.spec.tags)),
    }
}

fn revision_outputs(d: &JobDefinitionState) -> BTreeMap<String, String> {
    let mut out = arn_output(d.arn.clone());
    out.insert("revision".into(), d.revision.to_string());
    out
}

/// The ACTIVE revisions of the workflow's Batch functions' job
/// definitions: the newest as `<name>`, every one this workflow owns as
/// `<name>:<revision>` too.
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    let names = batch::names(o);
    let wanted = o.wanted(Kind::BatchJobDefinition);
    let mut calls = JoinSet::new();
    for name in names {
        let cloud = o.cloud.clone();
        let limit = o.limit.clone();
        calls.spawn(async move {
            let _permit = limit.acquire_owned().await;
            cloud.describe_job_definitions(&name).await
        });
    }
    let mut found = Vec::new();
    while let Some(done) = calls.join_next().await {
        let revisions =
            done.map_err(|e| CloudError::new("DescribeJobDefinitions", e.to_string()))??;
        let Some(newest) = revisions.iter().max_by_key(|d| d.revision) else {
            continue;
        };
        let name = newest.spec.name.clone();
        // The workflow's if any ACTIVE revision is (one registered by hand
        // on top of scar's is drift, not another owner).
        let owner = revisions
            .iter()
            .map(|d| owner_of(Some(&d.spec.tags), o.workflow))
            .find(|w| *w == Owner::Workflow)
            .unwrap_or_else(|| owner_of(Some(&newest.spec.tags), o.workflow));
        if owner == Owner::Workflow || wanted.contains(&name) {
            let mut main = observed_tagged(
                addr(&name),
                &attrs_of(newest),
                owner,
                Some(&newest.spec.tags),
            );
            main.outputs = revision_outputs(newest);
            found.push(main);
        }
        for d in &revisions {
            let owner = owner_of(Some(&d.spec.tags), o.workflow);
            if owner != Owner::Workflow {
                continue;
            }
            let a = Addr::new(Kind::BatchJobDefinition, format!("{name}:{}", d.revision));
            let mut rev = observed_tagged(a, &attrs_of(d), owner, Some(&d.spec.tags));
            rev.outputs = revision_outputs(d);
            if d.revision == newest.revision {
                rev.facts.insert(FACT_NEWEST.into(), Value::Bool(true));
            }
            found.push(rev);
        }
    }
    for f in found {
        o.insert(f);
    }
    Ok(())
}

pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    let Some(arn) = s.observed.get("arn") else {
        return Err(vanished(s.addr));
    };
    retry(|| cloud.deregister_job_definition(arn)).await
}

pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: JobDefinitionAttrs,
) -> Result<Outputs, CloudError> {
    if s.action == crate::model::Action::Update {
        // Only its tags differ: they change in place.
        let arn = s
            .observed
            .get("arn")
            .cloned()
            .ok_or_else(|| vanished(s.addr))?;
        retry(|| cloud.tag_batch_resource(&arn, &want.tags)).await?;
        return Ok(s.observed.clone());
    }
    let spec = JobDefinitionSpec {
        name: s.addr.name.clone(),
        platform: want.platform.clone(),
        container: JobContainer {
            image: want.image.clone(),
            vcpus: want.vcpus,
            memory: want.memory,
            gpus: want.gpus,
            command: Vec::new(),
            environment: want.environment.clone(),
            job_role_arn: Some(want.job_role_arn.clone()).filter(|r| !r.is_empty()),
            execution_role_arn: want.execution_role_arn.clone(),
        },
        nodes: want.nodes.clone(),
        tags: want.tags.clone(),
    };
    let (arn, revision) = retry(|| cloud.register_job_definition(&spec)).await?;
    let mut out = arn_output(arn);
    out.insert("revision".into(), revision.to_string());
    Ok(out)
}
