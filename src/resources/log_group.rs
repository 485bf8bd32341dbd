//! `log_group`: `/aws/lambda/<function>`, with its retention. Lambda
//! creates one on a function's first run, untagged: such a group is
//! adopted. Another workflow's is blocked (its tags are read, never
//! assumed). Observed with DescribeLogGroups (paged, by prefix).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::support::{observed_tagged, scar_tags, wanted};
use super::{Desire, Found, KindRules, Observation, Outputs, Step};
use crate::cloud::retry::{retry, retry_throttled};
use crate::cloud::{Cloud, CloudError, ErrorKind, Tags};
use crate::model::{owner_of, Action, Addr, DesiredState, Kind};

pub struct LogGroup;

/// A log group's attributes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogGroupAttrs {
    /// `None`: kept forever.
    pub retention_days: Option<u32>,
    pub tags: Tags,
}

impl KindRules for LogGroup {
    fn unmanaged(&self) -> Found {
        Found::Adopt(Some(
            "adopted: the log group of a function this workflow manages",
        ))
    }

    fn tagged_in(&self) -> Option<&'static str> {
        Some("logs")
    }
}

/// The log group of a function.
pub fn addr(function: &str) -> Addr {
    Addr::new(Kind::LogGroup, format!("/aws/lambda/{function}"))
}

pub fn desire(d: &Desire, out: &mut DesiredState) {
    for f in d.functions {
        let a = addr(f.name());
        let attrs = LogGroupAttrs {
            retention_days: Some(f.spec.cloudwatch.log_retention_policy_in_days),
            tags: d.ownership_tags(),
        };
        out.add(wanted(a, &attrs));
    }
}

/// The groups under `/aws/lambda/` this workflow owns or wants.
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    let groups = o.cloud.describe_log_groups("/aws/lambda/").await?;
    let wanted = o.wanted(Kind::LogGroup);
    // The tagged log groups, by name.
    let owned: BTreeMap<&str, &Tags> = o
        .tagged
        .iter()
        .filter_map(|(arn, tags)| {
            arn.split_once(":log-group:")
                .map(|(_, n)| (n.trim_end_matches(":*"), tags))
        })
        .collect();
    let mut found = Vec::new();
    for g in groups {
        let mut tags = owned.get(g.name.as_str()).map(|t| (*t).clone());
        if tags.is_none() && !wanted.contains(&g.name) {
            continue;
        }
        if tags.is_none() {
            // Wanted, and not tagged by this workflow: read its tags, so
            // that another workflow's group is never taken for an
            // untagged one (which Lambda creates, and scar adopts).
            let read = o.cloud.list_log_group_tags(&g.name).await?;
            tags = (!read.is_empty()).then_some(read);
        }
        let attrs = LogGroupAttrs {
            retention_days: g.retention_days,
            tags: scar_tags(tags.as_ref()),
        };
        let owner = owner_of(tags.as_ref(), o.workflow);
        found.push(observed_tagged(
            Addr::new(Kind::LogGroup, &g.name),
            &attrs,
            owner,
            tags.as_ref(),
        ));
    }
    for f in found {
        o.insert(f);
    }
    Ok(())
}

/// Log groups SCAR 4.x tagged (`createdby: scar`) that carry no scar
/// workflow's tag (`drift --all`).
pub async fn strays<C: Cloud>(cloud: &C) -> Result<Vec<(Addr, String)>, CloudError> {
    Ok(cloud
        .resources_with_tag("createdby", Some("scar"), &["logs"])
        .await?
        .into_iter()
        .filter(|r| !r.tags.contains_key(crate::model::TAG_WORKFLOW))
        .filter_map(|r| {
            let name = r.arn.split_once(":log-group:")?.1.trim_end_matches(":*");
            Some((
                Addr::new(Kind::LogGroup, name),
                "made by SCAR 4.x (tag `createdby: scar`) and in no scar workflow".to_string(),
            ))
        })
        .collect())
}

pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    retry(|| cloud.delete_log_group(&s.addr.name)).await?;
    Ok(())
}

pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: LogGroupAttrs,
) -> Result<Outputs, CloudError> {
    let name = s.addr.name.as_str();
    let t = &want.tags;
    if s.action == Action::Update {
        // It exists (the plan saw it): write only what differs.
        if s.differs("tags") {
            retry(|| cloud.tag_log_group(name, t)).await?;
        }
        if s.differs("retention_days") {
            if let Some(days) = want.retention_days {
                retry(|| cloud.put_retention(name, days)).await?;
            }
        }
        return Ok(Outputs::new());
    }
    // "Already exists" is an answer here, not something to retry.
    match retry_throttled(|| cloud.create_log_group(name, t)).await {
        Ok(()) => {}
        Err(e) if e.kind == ErrorKind::AlreadyExists => {
            // Already there (adopted, or created by Lambda): tag it;
            // gone again meanwhile (it was being deleted): create it.
            match retry(|| cloud.tag_log_group(name, t)).await {
                Err(e) if e.kind == ErrorKind::NotFound => {
                    retry(|| cloud.create_log_group(name, t)).await?
                }
                other => other?,
            }
        }
        Err(e) => return Err(e),
    }
    if let Some(days) = want.retention_days {
        retry(|| cloud.put_retention(name, days)).await?;
    }
    Ok(Outputs::new())
}
