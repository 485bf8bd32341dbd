//! `lambda_permission`: a statement in a function's resource policy, with
//! a deterministic id (`scar-s3-<bucket>`: S3 may invoke the function;
//! `scar-apigateway`: the function's REST API may, from any of its stages
//! and methods, the API's id known after it is created). A
//! statement cannot change in place, so any change replaces it. It lives
//! in its function: replaced with it, and gone with it when the function
//! is removed; it needs the function and the bucket it names. Observed
//! with one GetPolicy per function the workflow owns.

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use super::support::{found_or_conflict, from_attrs, observed, triggers, wanted};
use super::{
    api_gateway_rest_api, lambda_function, s3_bucket, Desire, Fingerprint, Found, KindRules,
    Observation, Outputs, PlanContext, Removal, Step,
};
use crate::cloud::retry::{retry, retry_throttled};
use crate::cloud::{Cloud, CloudError, PermissionStatement};
use crate::model::{Action, Addr, DesiredState, Kind, Observed, ObservedState, Owner, Resource};

pub struct LambdaPermission;

/// A permission statement's attributes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PermissionAttrs {
    pub function: String,
    pub sid: String,
    pub principal: String,
    pub action: String,
    pub source_arn: Option<String>,
    pub source_account: Option<String>,
}

/// What a statement is: none of it can change in place.
const FORCE_NEW: [&str; 4] = ["principal", "action", "source_arn", "source_account"];

/// The statement id of the permission that lets S3 invoke a function.
pub fn s3_permission_sid(bucket: &str) -> String {
    format!("scar-s3-{bucket}")
}

/// The statement id of the permission that lets a function's REST API
/// invoke it (a function has one API at most).
pub const APIGATEWAY_SID: &str = "scar-apigateway";

/// The address of the permission that lets the REST API of `function`
/// invoke it.
pub fn apigateway_addr(function: &str) -> Addr {
    Addr::new(
        Kind::LambdaPermission,
        format!("{function}/{APIGATEWAY_SID}"),
    )
}

/// The address of the permission that lets S3 invoke `function` from
/// `bucket`.
pub fn addr(function: &str, bucket: &str) -> Addr {
    Addr::new(
        Kind::LambdaPermission,
        format!("{function}/{}", s3_permission_sid(bucket)),
    )
}

/// The observed permissions that let S3 invoke some function from
/// `bucket`.
pub fn for_bucket(observed: &ObservedState, bucket: &str) -> Vec<Addr> {
    let sid = format!("/{}", s3_permission_sid(bucket));
    observed
        .resources
        .keys()
        .filter(|a| a.kind == Kind::LambdaPermission && a.name.ends_with(&sid))
        .cloned()
        .collect()
}

fn typed(addr: &Addr, attrs: &crate::model::Attrs) -> PermissionAttrs {
    from_attrs(addr, attrs).unwrap_or_default()
}

impl KindRules for LambdaPermission {
    fn fingerprint(&self) -> Fingerprint {
        // Its statement id names the function and the bucket, and they
        // are all the statement says.
        Fingerprint::InId
    }

    fn unmanaged(&self) -> Found {
        // scar's own statement (its id), on a function the workflow manages.
        Found::Adopt(None)
    }

    fn needs(&self, have: &Observed, observed: &ObservedState) -> Vec<Addr> {
        let p = typed(&have.addr, &have.attrs);
        let mut deps = vec![lambda_function::addr(&p.function)];
        let source = p.source_arn.as_deref();
        if let Some(bucket) = source.and_then(|a| a.strip_prefix("arn:aws:s3:::")) {
            deps.push(s3_bucket::addr(bucket));
        }
        // The API it names is deleted after it.
        if let Some(api) = source.and_then(|a| api_gateway_rest_api::with_execute_arn(observed, a))
        {
            deps.push(api);
        }
        deps
    }

    fn lives_in(&self, want: &Resource) -> Option<(Addr, String)> {
        let function = typed(&want.addr, &want.attrs).function;
        Some((
            lambda_function::addr(&function),
            format!(
                "its function `{function}` is replaced, and a permission lives in the function's policy"
            ),
        ))
    }

    fn removal(&self, have: &Observed, ctx: &PlanContext) -> Removal {
        // A removed function takes its permissions with it.
        let function = typed(&have.addr, &have.attrs).function;
        if !lambda_function::is_desired(ctx.desired, &function) {
            return Removal::Skip;
        }
        Removal::no_longer_wanted()
    }
}

/// One statement per trigger: S3 may invoke the function from the bucket.
pub fn desire(d: &Desire, out: &mut DesiredState) {
    for f in d.functions {
        let name = f.name();
        for (bucket, _) in triggers(f) {
            let a = addr(name, bucket);
            let attrs = PermissionAttrs {
                function: name.to_string(),
                sid: s3_permission_sid(bucket),
                principal: "s3.amazonaws.com".into(),
                action: "lambda:InvokeFunction".into(),
                source_arn: Some(format!("arn:aws:s3:::{bucket}")),
                source_account: Some(d.ctx.account_id.clone()),
            };
            let mut r = wanted(a, &attrs)
                .dep(lambda_function::addr(name))
                .dep(s3_bucket::addr(bucket));
            r.force_new = FORCE_NEW.iter().map(|s| s.to_string()).collect();
            out.add(r);
        }
        if let Some(api) = api_gateway_rest_api::api_name(f) {
            let api_addr = api_gateway_rest_api::addr(api);
            let source = crate::model::reference(&api_addr, "execute_arn");
            let attrs = PermissionAttrs {
                function: name.to_string(),
                sid: APIGATEWAY_SID.into(),
                principal: "apigateway.amazonaws.com".into(),
                action: "lambda:InvokeFunction".into(),
                source_arn: source.as_str().map(str::to_string),
                source_account: None,
            };
            let mut r = wanted(apigateway_addr(name), &attrs)
                .dep(lambda_function::addr(name))
                .dep(api_addr);
            r.force_new = FORCE_NEW.iter().map(|s| s.to_string()).collect();
            out.add(r);
        }
    }
}

/// The scar statements of the functions the workflow owns (one GetPolicy
/// each, concurrently); the buckets they name go to
/// [`Observation::trigger_buckets`].
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    let mut tasks = JoinSet::new();
    for name in lambda_function::owned(&o.out) {
        let cloud = o.cloud.clone();
        let limit = o.limit.clone();
        tasks.spawn(async move {
            let _p = limit.acquire_owned().await;
            let r = cloud.get_policy(&name).await;
            (name, r)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let Ok((name, statements)) = joined else {
            continue;
        };
        for s in statements? {
            if !s.sid.starts_with("scar-") {
                continue;
            }
            if let Some(b) = s
                .source_arn
                .as_deref()
                .and_then(|a| a.strip_prefix("arn:aws:s3:::"))
            {
                o.trigger_buckets.insert(b.to_string());
            }
            let attrs = PermissionAttrs {
                function: name.clone(),
                sid: s.sid.clone(),
                principal: s.principal,
                action: s.action,
                source_arn: s.source_arn,
                source_account: s.source_account,
            };
            let a = Addr::new(Kind::LambdaPermission, format!("{name}/{}", s.sid));
            o.insert(observed(a, &attrs, Owner::Workflow));
        }
    }
    Ok(())
}

pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    let name = s.addr.name.as_str();
    let (function, sid) = name.split_once('/').unwrap_or((name, ""));
    retry(|| cloud.remove_permission(function, sid)).await?;
    Ok(())
}

pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: PermissionAttrs,
) -> Result<Outputs, CloudError> {
    let function = want.function.as_str();
    let statement = PermissionStatement {
        sid: want.sid.clone(),
        principal: want.principal.clone(),
        action: want.action.clone(),
        source_arn: want.source_arn.clone(),
        source_account: want.source_account.clone(),
    };
    // Idempotent: a statement of that id already there (an interrupted
    // run's, or the one being replaced) is removed first, then added
    // again. A create tries the add alone first: its conflict is "that id
    // already exists" (or a concurrent change of the policy), after which
    // the remove-and-add below settles it either way.
    let added = s.action == Action::Create
        && match retry_throttled(|| cloud.add_permission(function, &statement)).await {
            Ok(()) => true,
            Err(e) if found_or_conflict(&e) => false,
            Err(e) => return Err(e),
        };
    if !added {
        retry(|| cloud.remove_permission(function, &want.sid)).await?;
        retry(|| cloud.add_permission(function, &statement)).await?;
    }
    Ok(Outputs::new())
}
