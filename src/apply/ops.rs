//! One change against the cloud, carried out by its kind's `step`
//! ([`crate::resources::step`]), every step idempotent.
//!
//! The plan has already read the account, so a step does not read it again
//! before writing: a create is attempted straight away, and only when the
//! cloud answers "already exists" (a run that died after the create, or a
//! race with someone else) does the step read what is there and fall back
//! to bringing it in line, and only if it is this workflow's. An update
//! writes what the plan says differs, with the ARN the plan observed.
//! References to other resources' outputs are resolved here, from what
//! the steps before produced.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Artifacts, Outputs};
use crate::cloud::{Cloud, CloudError, ErrorKind};
use crate::model::{applied, Attrs};
use crate::plan::{resolve_value, Action, Change, UNKNOWN};
use crate::resources::{self, rules, Fingerprint, Replacement, Step};

/// What every step of one apply shares.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub artifacts: &'a Artifacts,
    pub outputs: &'a Outputs,
    pub workflow: &'a str,
    /// The saved plan being applied, if one is.
    pub plan_id: Option<&'a str>,
}

/// Carries out one change. A replacement is carried out as its kind
/// declares ([`crate::resources::KindRules::replacement`]): a delete, then
/// a create, where the name is the natural key (the new one cannot exist
/// beside the old one); in place (a bucket's notification entries, a new
/// layer version); never (a bucket, which holds data).
pub async fn run<C: Cloud>(cloud: &C, c: &Change, ctx: &Ctx<'_>) -> Result<(), CloudError> {
    if c.action != Action::Replace {
        return step(cloud, c, ctx).await;
    }
    match crate::resources::rules(c.address.kind).replacement() {
        Replacement::Never => Err(CloudError::with_kind(
            format!("replacing {}", c.address),
            ErrorKind::Invalid,
            "it is never replaced (it holds data)",
        )),
        Replacement::InPlace => step(cloud, c, ctx).await,
        Replacement::DeleteThenCreate => {
            let as_action = |action| Change {
                action,
                ..c.clone()
            };
            step(cloud, &as_action(Action::Delete), ctx).await?;
            step(cloud, &as_action(Action::Create), ctx).await
        }
    }
}

/// One create, update or delete: its kind's step, with the plan's
/// attributes resolved; the outputs it gives are kept for the changes
/// that reference them.
async fn step<C: Cloud>(cloud: &C, c: &Change, ctx: &Ctx<'_>) -> Result<(), CloudError> {
    let Ctx {
        artifacts,
        outputs,
        workflow,
        plan_id,
    } = *ctx;
    let mut attrs = resolved(c, outputs)?;
    let mut changed: BTreeMap<&str, Option<&Value>> = c
        .diffs
        .iter()
        .map(|d| (d.name.as_str(), d.before.as_ref()))
        .collect();
    if c.action != Action::Delete && rules(c.address.kind).fingerprint() == Fingerprint::Tags {
        record_applied(&mut attrs, plan_id);
        changed.entry("tags").or_insert(None);
    }
    let s = Step {
        addr: &c.address,
        action: c.action,
        attrs: &attrs,
        changed,
        observed: &c.outputs,
        workflow,
        artifacts,
    };
    let produced = resources::step(cloud, &s).await?;
    if !produced.is_empty() {
        if let Ok(mut o) = outputs.lock() {
            o.entry(c.address.to_string()).or_default().extend(produced);
        }
    }
    Ok(())
}

/// Adds the applied record of `attrs` (ARCHITECTURE.md §3.1) to the tags
/// they write: the tags are then written with the change, in the same
/// call where the API takes tags (a create), else right after it.
fn record_applied(attrs: &mut Attrs, plan_id: Option<&str>) {
    let record = applied::to_tags(&applied::record(attrs), plan_id);
    if let Some(Value::Object(tags)) = attrs.get_mut("tags") {
        tags.retain(|k, _| !applied::is_record_tag(k));
        tags.extend(record.into_iter().map(|(k, v)| (k, Value::String(v))));
    }
}

fn resolved(c: &Change, outputs: &Outputs) -> Result<Attrs, CloudError> {
    let Some(after) = &c.after else {
        return Ok(Attrs::new());
    };
    let snapshot = outputs.lock().map(|o| o.clone()).unwrap_or_default();
    let get = |addr: &str, out: &str| snapshot.get(addr).and_then(|o| o.get(out)).cloned();
    let attrs: Attrs = after
        .iter()
        .map(|(k, v)| (k.clone(), resolve_value(v, &get)))
        .collect();
    if attrs.values().any(|v| v.to_string().contains(UNKNOWN)) {
        return Err(CloudError::with_kind(
            format!("resolving {}", c.address),
            ErrorKind::Other,
            "a value it depends on is still unknown",
        ));
    }
    Ok(attrs)
}
