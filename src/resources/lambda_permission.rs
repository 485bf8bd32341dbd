//! `lambda_permission`: a statement in a function's resource policy, with
//! a deterministic id. It lives in its function: replaced with it, and
//! gone with it when the function is removed; it needs the function and
//! the bucket it names.

use serde_json::Value;

use super::{Found, KindRules, PlanContext, Removal};
use crate::model::{Addr, Kind, Observed, ObservedState, Resource};

pub struct LambdaPermission;

/// The statement id of the permission that lets S3 invoke a function.
pub fn s3_permission_sid(bucket: &str) -> String {
    format!("scar-s3-{bucket}")
}

fn function_of(attrs: &crate::model::Attrs) -> &str {
    attrs
        .get("function")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

impl KindRules for LambdaPermission {
    fn unmanaged(&self) -> Found {
        // scar's own statement (its id), on a function the workflow manages.
        Found::Adopt(None)
    }

    fn needs(&self, have: &Observed, _observed: &ObservedState) -> Vec<Addr> {
        let mut deps = vec![Addr::new(Kind::LambdaFunction, function_of(&have.attrs))];
        let source = have.attrs.get("source_arn").and_then(Value::as_str);
        if let Some(bucket) = source.and_then(|a| a.strip_prefix("arn:aws:s3:::")) {
            deps.push(Addr::new(Kind::S3Bucket, bucket));
        }
        deps
    }

    fn lives_in(&self, want: &Resource) -> Option<(Addr, String)> {
        let function = function_of(&want.attrs);
        Some((
            Addr::new(Kind::LambdaFunction, function),
            format!(
                "its function `{function}` is replaced, and a permission lives in the function's policy"
            ),
        ))
    }

    fn removal(&self, have: &Observed, ctx: &PlanContext) -> Removal {
        // A removed function takes its permissions with it.
        if !ctx.desired_functions.contains(function_of(&have.attrs)) {
            return Removal::Skip;
        }
        Removal::no_longer_wanted()
    }
}
