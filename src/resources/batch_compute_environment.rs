//! `batch_compute_environment`: the managed compute environment of a Batch
//! function, named after it (as SCAR names it), EC2, SPOT, FARGATE or
//! FARGATE_SPOT from `batch.compute_resources`, run by the workflow's
//! Batch service role unless `batch.service_role` names one.
//!
//! In place: its state and service role, and min/max vCPUs. Anything else
//! (its type, instance types, instance role, subnets and security groups,
//! which AWS changes in place only for some allocation strategies) is a
//! replacement, delete then create: its job queue goes first and is
//! created again after it (`lives_in`). `desiredvCpus` is given at create
//! only: Batch itself moves it as it scales, so it is never a difference.
//! Created, it is waited on until VALID (INVALID is an error with Batch's
//! reason); deleted, it is disabled first, then waited on until gone.

use serde::{Deserialize, Serialize};

use super::support::{
    arn_output, check_owner, found_or_conflict, observed_tagged, scar_tags, vanished, wanted,
};
use super::{batch, Desire, KindRules, Observation, Outputs, Step};
use crate::cloud::retry::{retry, retry_throttled};
use crate::cloud::{
    Cloud, CloudError, ComputeEnvironmentSpec, ComputeEnvironmentUpdate, ComputeResources,
    ErrorKind, Tags,
};
use crate::manifest::{ComputeEnvironmentType, FunctionDef};
use crate::model::{
    owner_of, reference, Action, Addr, DesiredState, Kind, Observed, ObservedState, Owner, Resource,
};

pub struct BatchComputeEnvironment;

/// A compute environment's attributes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ComputeEnvironmentAttrs {
    /// `MANAGED` or `UNMANAGED`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    pub service_role: String,
    /// `EC2`, `SPOT`, `FARGATE` or `FARGATE_SPOT`.
    pub compute_type: String,
    pub min_vcpus: u32,
    pub max_vcpus: u32,
    /// Given at create only: Batch moves it as it scales
    /// (`ignore_changes`).
    pub desired_vcpus: u32,
    /// Sorted; none on Fargate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_types: Vec<String>,
    /// Sorted.
    pub subnets: Vec<String>,
    /// Sorted.
    pub security_group_ids: Vec<String>,
    /// The instance profile ARN (EC2 and SPOT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_role: Option<String>,
    pub tags: Tags,
}

/// What AWS cannot change in place.
const FORCE_NEW: [&str; 6] = [
    "type",
    "compute_type",
    "instance_types",
    "subnets",
    "security_group_ids",
    "instance_role",
];

impl KindRules for BatchComputeEnvironment {
    fn blocked_by(&self, want: &Resource, _observed: &ObservedState) -> Option<String> {
        let a: ComputeEnvironmentAttrs = super::from_attrs(&want.addr, &want.attrs).ok()?;
        (a.kind == "MANAGED" && (a.subnets.is_empty() || a.security_group_ids.is_empty())).then(|| {
            "a managed compute environment needs `batch.compute_resources.subnets` and `security_group_ids` (SCAR took them from ~/.scar/scar.cfg; scar reads only the manifest): set them in the manifest".to_string()
        })
    }

    fn needs(&self, have: &Observed, observed: &ObservedState) -> Vec<Addr> {
        // Its service role, while it exists.
        let role = have
            .attrs
            .get("service_role")
            .and_then(|r| r.as_str())
            .and_then(|r| r.rsplit_once(":role/"))
            .map(|(_, n)| Addr::new(Kind::IamRole, n.rsplit('/').next().unwrap_or(n)));
        role.into_iter()
            .filter(|r| observed.resources.contains_key(r))
            .collect()
    }
}

/// The compute environment of a Batch function.
pub fn addr(function: &str) -> Addr {
    Addr::new(Kind::BatchComputeEnvironment, function)
}

fn upper<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}

/// The attributes a function's manifest asks of its environment.
pub fn attrs_of(d: &Desire, f: &FunctionDef) -> ComputeEnvironmentAttrs {
    let b = &f.spec.batch;
    let cr = &b.compute_resources;
    let fargate = batch::on_fargate(f);
    ComputeEnvironmentAttrs {
        kind: match b.ce_type {
            ComputeEnvironmentType::Managed => "MANAGED".into(),
            ComputeEnvironmentType::Unmanaged => "UNMANAGED".into(),
        },
        state: upper(b.state),
        service_role: b.service_role.clone().unwrap_or_else(|| {
            reference(&batch::service_role(d.workflow), "arn")
                .as_str()
                .unwrap_or_default()
                .to_string()
        }),
        compute_type: upper(cr.resource_type),
        min_vcpus: cr.min_v_cpus,
        max_vcpus: cr.max_v_cpus,
        desired_vcpus: cr.desired_v_cpus,
        instance_types: if fargate {
            Vec::new()
        } else {
            sorted(&cr.instance_types)
        },
        subnets: sorted(&cr.subnets),
        security_group_ids: sorted(&cr.security_group_ids),
        instance_role: (!fargate).then(|| {
            cr.instance_role.clone().unwrap_or_else(|| {
                reference(&super::iam_instance_profile::addr(d.workflow), "arn")
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
        }),
        tags: d.ownership_tags(),
    }
}

pub fn desire(d: &Desire, out: &mut DesiredState) {
    for f in batch::functions(d.functions) {
        let mut r = wanted(addr(f.name()), &attrs_of(d, f));
        r.force_new = FORCE_NEW.iter().map(|s| s.to_string()).collect();
        r.ignore_changes.insert("desired_vcpus".into());
        if f.spec.batch.service_role.is_none() {
            r = r.dep(batch::service_role(d.workflow));
        }
        if !batch::on_fargate(f) && f.spec.batch.compute_resources.instance_role.is_none() {
            r = r.dep(super::iam_instance_profile::addr(d.workflow));
        }
        out.add(r);
    }
}

fn observed_attrs(spec: &ComputeEnvironmentSpec) -> ComputeEnvironmentAttrs {
    let r = spec.resources.clone().unwrap_or_default();
    ComputeEnvironmentAttrs {
        kind: spec.kind.clone(),
        state: spec.state.clone(),
        service_role: spec.service_role.clone(),
        compute_type: r.kind,
        min_vcpus: r.min_vcpus,
        max_vcpus: r.max_vcpus,
        desired_vcpus: r.desired_vcpus,
        instance_types: sorted(&r.instance_types),
        subnets: sorted(&r.subnets),
        security_group_ids: sorted(&r.security_group_ids),
        instance_role: r.instance_role,
        tags: scar_tags(Some(&spec.tags)),
    }
}

/// The environments of the workflow's Batch functions (wanted, or still
/// delegated to), in one DescribeComputeEnvironments per 100 names.
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    let names = batch::names(o);
    if names.is_empty() {
        return Ok(());
    }
    let wanted = o.wanted(Kind::BatchComputeEnvironment);
    for ce in o.cloud.describe_compute_environments(&names).await? {
        if ce.status == "DELETED" {
            continue;
        }
        let owner = owner_of(Some(&ce.spec.tags), o.workflow);
        if owner != Owner::Workflow && !wanted.contains(&ce.spec.name) {
            continue;
        }
        let mut found = observed_tagged(
            addr(&ce.spec.name),
            &observed_attrs(&ce.spec),
            owner,
            Some(&ce.spec.tags),
        );
        found.outputs = arn_output(ce.arn);
        o.insert(found);
    }
    Ok(())
}

/// Waits until the environment is VALID (and in `state`, if given);
/// INVALID is an error with Batch's reason.
async fn settle_valid<C: Cloud>(
    cloud: &C,
    name: &str,
    state: Option<&str>,
) -> Result<(), CloudError> {
    let names = [name.to_string()];
    batch::settle(&format!("compute environment {name}"), || async {
        let found = retry(|| cloud.describe_compute_environments(&names)).await?;
        let Some(ce) = found.into_iter().next() else {
            return Err(CloudError::with_kind(
                format!("waiting for compute environment {name}"),
                ErrorKind::NotFound,
                "it is gone (deleted while scar waited); run apply again",
            ));
        };
        match ce.status.as_str() {
            "INVALID" => Err(CloudError::with_kind(
                format!("creating compute environment {name}"),
                ErrorKind::Invalid,
                format!(
                    "AWS Batch says it is INVALID: {} (check its subnets, security groups and roles, then run apply again)",
                    ce.status_reason.unwrap_or_default()
                ),
            )),
            "VALID" => Ok(state.is_none_or(|s| ce.spec.state == s)),
            _ => Ok(false),
        }
    })
    .await
}

/// Disables, then deletes, the job queues of this workflow that use the
/// environment (a replacement: each is created again after it); fails on
/// a queue the workflow does not own.
async fn detach_queues<C: Cloud>(cloud: &C, s: &Step<'_>, arn: &str) -> Result<(), CloudError> {
    for q in retry(|| cloud.list_job_queues()).await? {
        if !q.spec.compute_environments.iter().any(|c| c == arn) {
            continue;
        }
        if owner_of(Some(&q.spec.tags), s.workflow) != Owner::Workflow {
            return Err(CloudError::with_kind(
                format!("deleting {}", s.addr),
                ErrorKind::InUse,
                format!("the job queue `{}`, which scar does not manage, uses it; remove it from that queue first", q.spec.name),
            ));
        }
        super::batch_job_queue::remove(cloud, &q.spec.name).await?;
    }
    Ok(())
}

pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    let name = s.addr.name.as_str();
    let names = [name.to_string()];
    let Some(ce) = retry(|| cloud.describe_compute_environments(&names))
        .await?
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    detach_queues(cloud, s, &ce.arn).await?;
    if ce.spec.state != "DISABLED" {
        let update = ComputeEnvironmentUpdate {
            state: Some("DISABLED".into()),
            ..Default::default()
        };
        retry(|| cloud.update_compute_environment(name, &update)).await?;
        settle_valid(cloud, name, Some("DISABLED")).await?;
    }
    retry(|| cloud.delete_compute_environment(name)).await?;
    batch::settle(
        &format!("deletion of compute environment {name}"),
        || async {
            let left = retry(|| cloud.describe_compute_environments(&names)).await?;
            Ok(left.iter().all(|c| c.status == "DELETED"))
        },
    )
    .await
}

fn spec_of(name: &str, want: &ComputeEnvironmentAttrs) -> ComputeEnvironmentSpec {
    ComputeEnvironmentSpec {
        name: name.to_string(),
        kind: want.kind.clone(),
        state: want.state.clone(),
        service_role: want.service_role.clone(),
        resources: (want.kind == "MANAGED").then(|| ComputeResources {
            kind: want.compute_type.clone(),
            min_vcpus: want.min_vcpus,
            max_vcpus: want.max_vcpus,
            desired_vcpus: want.desired_vcpus,
            instance_types: want.instance_types.clone(),
            subnets: want.subnets.clone(),
            security_group_ids: want.security_group_ids.clone(),
            instance_role: want.instance_role.clone(),
        }),
        tags: want.tags.clone(),
    }
}

pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: ComputeEnvironmentAttrs,
) -> Result<Outputs, CloudError> {
    let name = s.addr.name.as_str();
    let names = [name.to_string()];
    let in_place = ComputeEnvironmentUpdate {
        state: Some(want.state.clone()),
        service_role: Some(want.service_role.clone()),
        resources: spec_of(name, &want).resources,
    };
    let arn = if s.action == Action::Update {
        let arn = s
            .observed
            .get("arn")
            .cloned()
            .ok_or_else(|| vanished(s.addr))?;
        if ["state", "service_role", "min_vcpus", "max_vcpus"]
            .iter()
            .any(|a| s.differs(a))
        {
            retry(|| cloud.update_compute_environment(name, &in_place)).await?;
        }
        if s.differs("tags") {
            retry(|| cloud.tag_batch_resource(&arn, &want.tags)).await?;
        }
        arn
    } else {
        let spec = spec_of(name, &want);
        match retry_throttled(|| cloud.create_compute_environment(&spec)).await {
            Ok(arn) => arn,
            Err(e) if found_or_conflict(&e) => {
                let found = retry(|| cloud.describe_compute_environments(&names)).await?;
                let ce = found.into_iter().next().ok_or(e)?;
                check_owner(s.addr, Some(&ce.spec.tags), s.workflow)?;
                retry(|| cloud.update_compute_environment(name, &in_place)).await?;
                retry(|| cloud.tag_batch_resource(&ce.arn, &want.tags)).await?;
                ce.arn
            }
            Err(e) => return Err(e),
        }
    };
    settle_valid(cloud, name, Some(&want.state)).await?;
    Ok(arn_output(arn))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cloud::memory::MemoryCloud;
    use crate::cloud::BatchApi;
    use crate::resources::{support::to_attrs, Artifacts};

    fn attrs(max: u32) -> ComputeEnvironmentAttrs {
        ComputeEnvironmentAttrs {
            kind: "MANAGED".into(),
            state: "ENABLED".into(),
            service_role: "arn:aws:iam::123456789012:role/scar-wf-batch".into(),
            compute_type: "EC2".into(),
            min_vcpus: 0,
            max_vcpus: max,
            desired_vcpus: 0,
            instance_types: vec!["m3.medium".into()],
            subnets: vec!["subnet-1".into()],
            security_group_ids: vec!["sg-1".into()],
            instance_role: Some("arn:aws:iam::123456789012:instance-profile/p".into()),
            tags: crate::model::ownership_tags("wf"),
        }
    }

    async fn step(
        cloud: &MemoryCloud,
        action: Action,
        want: &ComputeEnvironmentAttrs,
        changed: &[&str],
        arn: Option<&str>,
    ) -> Result<Outputs, CloudError> {
        let addr = addr("split");
        let a = to_attrs(want);
        let observed: BTreeMap<String, String> =
            arn.map(|a| arn_output(a.to_string())).unwrap_or_default();
        let artifacts = Artifacts::default();
        let s = Step {
            addr: &addr,
            action,
            attrs: &a,
            changed: changed.iter().map(|c| (*c, None)).collect(),
            observed: &observed,
            workflow: "wf",
            artifacts: &artifacts,
        };
        write(cloud, &s, want.clone()).await
    }

    // Moto ignores computeResources in UpdateComputeEnvironment, so what
    // an in-place vCPU change sends is checked against the double.
    #[tokio::test]
    async fn max_vcpus_change_in_place_and_an_invalid_environment_fails_with_batchs_reason() {
        let cloud = MemoryCloud::new();
        let out = step(&cloud, Action::Create, &attrs(2), &[], None)
            .await
            .unwrap();
        let arn = out["arn"].clone();
        step(
            &cloud,
            Action::Update,
            &attrs(8),
            &["max_vcpus"],
            Some(&arn),
        )
        .await
        .unwrap();
        let ce = cloud
            .describe_compute_environments(&["split".into()])
            .await
            .unwrap();
        assert_eq!(ce[0].spec.resources.as_ref().unwrap().max_vcpus, 8);
        assert_eq!(cloud.requests().count("UpdateComputeEnvironment"), 1);

        cloud.set_compute_environment_status("split", "INVALID", "subnet-1 does not exist");
        let e = step(
            &cloud,
            Action::Update,
            &attrs(4),
            &["max_vcpus"],
            Some(&arn),
        )
        .await
        .unwrap_err();
        assert!(
            e.chain_text().contains("INVALID: subnet-1 does not exist"),
            "{}",
            e.chain_text()
        );
    }

    // The double refuses, as AWS documents (moto allows it), to delete an
    // enabled queue or environment, or an environment a queue uses: the
    // delete of a replacement disables and deletes the workflow's queue
    // first, then disables and deletes the environment.
    #[tokio::test]
    async fn a_replaced_environment_takes_its_queue_down_first_each_disabled_before_deleted() {
        let cloud = MemoryCloud::new();
        let arn = step(&cloud, Action::Create, &attrs(2), &[], None)
            .await
            .unwrap()["arn"]
            .clone();
        let q = crate::cloud::JobQueueSpec {
            name: "split".into(),
            state: "ENABLED".into(),
            priority: 1,
            compute_environments: vec![arn.clone()],
            tags: crate::model::ownership_tags("wf"),
        };
        cloud.create_job_queue(&q).await.unwrap();
        assert_eq!(
            cloud
                .delete_compute_environment("split")
                .await
                .unwrap_err()
                .kind,
            ErrorKind::Invalid
        );
        let addr = addr("split");
        let (a, observed, artifacts) = (
            crate::model::Attrs::new(),
            arn_output(arn),
            Artifacts::default(),
        );
        let s = Step {
            addr: &addr,
            action: Action::Delete,
            attrs: &a,
            changed: BTreeMap::new(),
            observed: &observed,
            workflow: "wf",
            artifacts: &artifacts,
        };
        delete(&cloud, &s).await.unwrap();
        assert!(cloud
            .describe_job_queues(&["split".into()])
            .await
            .unwrap()
            .is_empty());
        assert!(cloud
            .describe_compute_environments(&["split".into()])
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            cloud.requests().count("UpdateJobQueue"),
            1,
            "disabled before deleted"
        );
        assert_eq!(cloud.requests().count("UpdateComputeEnvironment"), 1);

        // Another workflow's queue on it: the delete refuses, naming it.
        let arn = step(&cloud, Action::Create, &attrs(2), &[], None)
            .await
            .unwrap()["arn"]
            .clone();
        let foreign = crate::cloud::JobQueueSpec {
            compute_environments: vec![arn],
            tags: crate::model::ownership_tags("other"),
            ..q
        };
        cloud.create_job_queue(&foreign).await.unwrap();
        let e = delete(&cloud, &s).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InUse);
        assert!(e.chain_text().contains("`split`"), "{}", e.chain_text());
    }
}
