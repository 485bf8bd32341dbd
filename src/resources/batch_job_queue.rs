//! `batch_job_queue`: the job queue of a Batch function, named after it,
//! priority 1, on its one compute environment. Its state, priority and
//! environment change in place. It lives in its compute environment: when
//! that is replaced, the queue is deleted before it and created again
//! after it. Created, it is waited on until VALID; deleted, it is disabled
//! first and waited on until gone, before its environment goes.

use serde::{Deserialize, Serialize};

use super::support::{
    arn_output, check_owner, found_or_conflict, observed_tagged, scar_tags, vanished, wanted,
};
use super::{batch, batch_compute_environment, Desire, KindRules, Observation, Outputs, Step};
use crate::cloud::retry::{retry, retry_throttled};
use crate::cloud::{Cloud, CloudError, ErrorKind, JobQueueSpec, JobQueueUpdate, Tags};
use crate::model::{
    owner_of, reference, Action, Addr, DesiredState, Kind, Observed, ObservedState, Owner, Resource,
};

pub struct BatchJobQueue;

/// A job queue's attributes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobQueueAttrs {
    pub state: String,
    pub priority: i32,
    /// Compute environment ARNs, in order.
    pub compute_environments: Vec<String>,
    pub tags: Tags,
}

/// The priority of the queues scar creates (SCAR's).
pub const PRIORITY: i32 = 1;

impl KindRules for BatchJobQueue {
    fn lives_in(&self, want: &Resource) -> Option<(Addr, String)> {
        Some((
            batch_compute_environment::addr(&want.addr.name),
            "its compute environment is replaced: the queue is deleted before it and created again after it".into(),
        ))
    }

    fn needs(&self, have: &Observed, observed: &ObservedState) -> Vec<Addr> {
        // The environments it uses, while it exists.
        let ce = batch_compute_environment::addr(&have.addr.name);
        observed
            .resources
            .contains_key(&ce)
            .then_some(ce)
            .into_iter()
            .collect()
    }
}

/// The job queue of a Batch function.
pub fn addr(function: &str) -> Addr {
    Addr::new(Kind::BatchJobQueue, function)
}

pub fn desire(d: &Desire, out: &mut DesiredState) {
    for f in batch::functions(d.functions) {
        let ce = batch_compute_environment::addr(f.name());
        let attrs = JobQueueAttrs {
            state: batch_compute_environment::attrs_of(d, f).state,
            priority: PRIORITY,
            compute_environments: vec![reference(&ce, "arn")
                .as_str()
                .unwrap_or_default()
                .to_string()],
            tags: d.ownership_tags(),
        };
        out.add(wanted(addr(f.name()), &attrs).dep(ce));
    }
}

/// The queues of the workflow's Batch functions, in one DescribeJobQueues
/// per 100 names.
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    let names = batch::names(o);
    if names.is_empty() {
        return Ok(());
    }
    let wanted = o.wanted(Kind::BatchJobQueue);
    for q in o.cloud.describe_job_queues(&names).await? {
        if q.status == "DELETED" {
            continue;
        }
        let owner = owner_of(Some(&q.spec.tags), o.workflow);
        if owner != Owner::Workflow && !wanted.contains(&q.spec.name) {
            continue;
        }
        let attrs = JobQueueAttrs {
            state: q.spec.state.clone(),
            priority: q.spec.priority,
            compute_environments: q.spec.compute_environments.clone(),
            tags: scar_tags(Some(&q.spec.tags)),
        };
        let mut found = observed_tagged(addr(&q.spec.name), &attrs, owner, Some(&q.spec.tags));
        found.outputs = arn_output(q.arn);
        o.insert(found);
    }
    Ok(())
}

/// Waits until the queue is VALID in `state`, or gone (`None`).
async fn settle<C: Cloud>(cloud: &C, name: &str, state: Option<&str>) -> Result<(), CloudError> {
    let names = [name.to_string()];
    batch::settle(&format!("job queue {name}"), || async {
        let found = retry(|| cloud.describe_job_queues(&names)).await?;
        let q = found.into_iter().next().filter(|q| q.status != "DELETED");
        match (q, state) {
            (None, None) => Ok(true),
            (None, Some(_)) => Err(CloudError::with_kind(
                format!("waiting for job queue {name}"),
                ErrorKind::NotFound,
                "it is gone (deleted while scar waited); run apply again",
            )),
            (Some(_), None) => Ok(false),
            (Some(q), Some(s)) => match q.status.as_str() {
                "INVALID" => Err(CloudError::with_kind(
                    format!("waiting for job queue {name}"),
                    ErrorKind::Invalid,
                    format!(
                        "AWS Batch says it is INVALID: {}",
                        q.status_reason.unwrap_or_default()
                    ),
                )),
                "VALID" => Ok(q.spec.state == s),
                _ => Ok(false),
            },
        }
    })
    .await
}

/// Disables the queue, waits, deletes it and waits until it is gone (a
/// queue is deleted only once disabled).
pub async fn remove<C: Cloud>(cloud: &C, name: &str) -> Result<(), CloudError> {
    let names = [name.to_string()];
    let Some(q) = retry(|| cloud.describe_job_queues(&names))
        .await?
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    if q.spec.state != "DISABLED" {
        let update = JobQueueUpdate {
            state: Some("DISABLED".into()),
            ..Default::default()
        };
        retry(|| cloud.update_job_queue(name, &update)).await?;
        settle(cloud, name, Some("DISABLED")).await?;
    }
    retry(|| cloud.delete_job_queue(name)).await?;
    settle(cloud, name, None).await
}

pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    remove(cloud, &s.addr.name).await
}

pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: JobQueueAttrs,
) -> Result<Outputs, CloudError> {
    let name = s.addr.name.as_str();
    let update = JobQueueUpdate {
        state: Some(want.state.clone()),
        priority: Some(want.priority),
        compute_environments: Some(want.compute_environments.clone()),
    };
    let arn = if s.action == Action::Update {
        let arn = s
            .observed
            .get("arn")
            .cloned()
            .ok_or_else(|| vanished(s.addr))?;
        if ["state", "priority", "compute_environments"]
            .iter()
            .any(|a| s.differs(a))
        {
            retry(|| cloud.update_job_queue(name, &update)).await?;
        }
        if s.differs("tags") {
            retry(|| cloud.tag_batch_resource(&arn, &want.tags)).await?;
        }
        arn
    } else {
        let spec = JobQueueSpec {
            name: name.to_string(),
            state: want.state.clone(),
            priority: want.priority,
            compute_environments: want.compute_environments.clone(),
            tags: want.tags.clone(),
        };
        match retry_throttled(|| cloud.create_job_queue(&spec)).await {
            Ok(arn) => arn,
            Err(e) if found_or_conflict(&e) => {
                let names = [name.to_string()];
                let q = retry(|| cloud.describe_job_queues(&names))
                    .await?
                    .into_iter()
                    .next()
                    .ok_or(e)?;
                check_owner(s.addr, Some(&q.spec.tags), s.workflow)?;
                retry(|| cloud.update_job_queue(name, &update)).await?;
                retry(|| cloud.tag_batch_resource(&q.arn, &want.tags)).await?;
                q.arn
            }
            Err(e) => return Err(e),
        }
    };
    settle(cloud, name, Some(&want.state)).await?;
    Ok(arn_output(arn))
}
