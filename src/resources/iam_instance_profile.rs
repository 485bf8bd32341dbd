//! `iam_instance_profile`: what the EC2 instances of a workflow's Batch
//! compute environments run as (`scar-<workflow>-batch-instance`, holding
//! the role of the same name), for the EC2 and SPOT environments that name
//! no `compute_resources.instance_role`. Tagged in its create call; its
//! role changes in place; deleted (its role removed first) before its role.
//! Observed with GetInstanceProfile per wanted name.

use serde::{Deserialize, Serialize};

use super::support::{
    arn_output, check_owner, found_or_conflict, observed_tagged, scar_tags, vanished, wanted,
};
use super::{batch, Desire, KindRules, Observation, Outputs, Step};
use crate::cloud::retry::{retry, retry_throttled};
use crate::cloud::{Cloud, CloudError, Tags};
use crate::model::{owner_of, Action, Addr, DesiredState, Kind, Observed, ObservedState};

pub struct IamInstanceProfile;

/// An instance profile's attributes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceProfileAttrs {
    /// The name of its role.
    pub role: String,
    pub tags: Tags,
}

impl KindRules for IamInstanceProfile {
    fn needs(&self, have: &Observed, observed: &ObservedState) -> Vec<Addr> {
        have.attrs
            .get("role")
            .and_then(|r| r.as_str())
            .map(|r| Addr::new(Kind::IamRole, r))
            .filter(|r| observed.resources.contains_key(r))
            .into_iter()
            .collect()
    }
}

/// The name of the instance profile (and its role) of a workflow.
pub fn name(workflow: &str) -> String {
    format!("scar-{workflow}-batch-instance")
}

pub fn addr(workflow: &str) -> Addr {
    Addr::new(Kind::IamInstanceProfile, name(workflow))
}

/// Whether the workflow's Batch functions need scar's instance profile.
pub fn wanted_by(d: &Desire) -> bool {
    batch::functions(d.functions)
        .any(|f| !batch::on_fargate(f) && f.spec.batch.compute_resources.instance_role.is_none())
}

pub fn desire(d: &Desire, out: &mut DesiredState) {
    if !wanted_by(d) {
        return;
    }
    let attrs = InstanceProfileAttrs {
        role: name(d.workflow),
        tags: d.ownership_tags(),
    };
    out.add(wanted(addr(d.workflow), &attrs).dep(Addr::new(Kind::IamRole, name(d.workflow))));
}

pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    let mut names = o.wanted(Kind::IamInstanceProfile);
    if !batch::names(o).is_empty() {
        names.insert(name(o.workflow));
    }
    for n in names {
        let Some(p) = o.cloud.get_instance_profile(&n).await? else {
            continue;
        };
        let owner = owner_of(Some(&p.tags), o.workflow);
        let attrs = InstanceProfileAttrs {
            role: p.roles.first().cloned().unwrap_or_default(),
            tags: scar_tags(Some(&p.tags)),
        };
        let mut found = observed_tagged(addr_of(&n), &attrs, owner, Some(&p.tags));
        found.outputs = arn_output(p.arn);
        o.insert(found);
    }
    Ok(())
}

fn addr_of(name: &str) -> Addr {
    Addr::new(Kind::IamInstanceProfile, name)
}

pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    retry(|| cloud.delete_instance_profile(&s.addr.name)).await?;
    Ok(())
}

pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: InstanceProfileAttrs,
) -> Result<Outputs, CloudError> {
    let name = s.addr.name.as_str();
    let tags = &want.tags;
    let (arn, roles) = if s.action == Action::Update {
        let p = retry(|| cloud.get_instance_profile(name))
            .await?
            .ok_or_else(|| vanished(s.addr))?;
        if s.differs("tags") {
            retry(|| cloud.tag_instance_profile(name, tags)).await?;
        }
        (p.arn, p.roles)
    } else {
        match retry_throttled(|| cloud.create_instance_profile(name, tags)).await {
            Ok(arn) => (arn, Vec::new()),
            Err(e) if found_or_conflict(&e) => {
                let p = retry(|| cloud.get_instance_profile(name)).await?.ok_or(e)?;
                check_owner(s.addr, Some(&p.tags), s.workflow)?;
                retry(|| cloud.tag_instance_profile(name, tags)).await?;
                (p.arn, p.roles)
            }
            Err(e) => return Err(e),
        }
    };
    if !roles.contains(&want.role) {
        for old in &roles {
            retry(|| cloud.remove_role_from_instance_profile(name, old)).await?;
        }
        retry(|| cloud.add_role_to_instance_profile(name, &want.role)).await?;
    }
    Ok(arn_output(arn))
}
