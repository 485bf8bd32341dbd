//! `s3_bucket`: holds data, so it is never replaced, and deleted only when
//! it is empty and nobody else uses it (observed facts). Another
//! workflow's or a foreign bucket is used as it is.

use serde_json::Value;

use super::{Found, KindRules, PlanContext, Removal, Replacement};
use crate::model::{Observed, FACT_USED_BY};

pub struct S3Bucket;

impl KindRules for S3Bucket {
    fn other_workflow(&self, workflow: &str) -> Found {
        Found::Keep(format!("owned by workflow `{workflow}`: used as is"))
    }

    fn unmanaged(&self) -> Found {
        Found::Keep("exists and was not created by scar: used as is, never deleted".into())
    }

    fn replacement(&self) -> Replacement {
        Replacement::Never
    }

    fn removal(&self, have: &Observed, _ctx: &PlanContext) -> Removal {
        if have.facts.get("has_objects") == Some(&Value::Bool(true)) {
            return Removal::Keep(
                "no longer in the manifests, but it holds objects: kept (scar never deletes data)"
                    .into(),
            );
        }
        let users: Vec<&str> = have
            .facts
            .get(FACT_USED_BY)
            .and_then(Value::as_array)
            .map(|u| u.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !users.is_empty() {
            return Removal::Keep(format!(
                "no longer in this workflow's manifests, but still used by {}: kept",
                users.join(", ")
            ));
        }
        Removal::no_longer_wanted()
    }
}
