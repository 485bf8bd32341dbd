//! `api_gateway_rest_api`: the regional REST API of a function with
//! `api_gateway.name`, by name. REST API names need not be unique in an
//! account, so ownership decides: the one tagged with this workflow (tags
//! given to CreateRestApi itself) is scar's; one of that name that is not
//! is never touched and blocks the plan. Nothing of it forces a
//! replacement (every property changes in place, as CloudFormation
//! documents it). What it serves (its proxy resource, method and
//! integration) and its deployment belong to its stage
//! (`api_gateway_stage`). Observed with GetRestApis (with the tags).
//!
//! Its applied record is its id ([`Fingerprint::InId`]): its name is all
//! the manifests say of it (description and endpoint type are fixed), and
//! TagResource on a REST API is missing in moto, so a record in its tags
//! could not be rewritten on update.

use serde::{Deserialize, Serialize};

use super::support::{observed, scar_tags, vanished, wanted};
use super::{Desire, Fingerprint, Found, KindRules, Observation, Outputs, Step};
use crate::cloud::retry::{retry, retry_throttled};
use crate::cloud::{Cloud, CloudError, ErrorKind, PatchOp, RestApiSpec, Tags};
use crate::manifest::FunctionDef;
use crate::model::{owner_of, Action, Addr, DesiredState, Kind, ObservedState, Owner};

pub struct ApiGatewayRestApi;

/// What scar writes as the description of its APIs.
pub const DESCRIPTION: &str = "API created automatically with scar";

/// The endpoint type of scar's APIs.
pub const ENDPOINT_TYPE: &str = "REGIONAL";

/// A REST API's attributes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RestApiAttrs {
    pub description: String,
    pub endpoint_type: String,
    pub tags: Tags,
}

impl KindRules for ApiGatewayRestApi {
    fn fingerprint(&self) -> Fingerprint {
        Fingerprint::InId
    }

    fn unmanaged(&self) -> Found {
        Found::Block("a REST API of this name exists that scar does not manage (made by hand, by SCAR or by another tool); scar never changes it, nor creates a second API of the same name beside it: set another `api_gateway.name`, or delete that API".into())
    }
}

/// The REST API named `name`.
pub fn addr(name: &str) -> Addr {
    Addr::new(Kind::ApiGatewayRestApi, name)
}

/// The API name of a function, if it has an API.
pub fn api_name(f: &FunctionDef) -> Option<&str> {
    f.spec
        .api_gateway
        .as_ref()
        .and_then(|a| a.name.as_deref())
        .filter(|n| !n.is_empty())
}

/// What execute-api ARN patterns start with for the API `id`: the source
/// ARN of the permission that lets it invoke a function (`<prefix>*`).
pub fn execute_arn(region: &str, account: &str, id: &str) -> String {
    format!("arn:aws:execute-api:{region}:{account}:{id}/*")
}

/// The observed REST API whose `execute_arn` is `arn`, if any.
pub fn with_execute_arn(observed: &ObservedState, arn: &str) -> Option<Addr> {
    observed
        .resources
        .values()
        .find(|o| {
            o.addr.kind == Kind::ApiGatewayRestApi
                && o.outputs.get("execute_arn").map(String::as_str) == Some(arn)
        })
        .map(|o| o.addr.clone())
}

/// The REST APIs observed that this workflow owns: (name, id).
pub fn owned(observed: &ObservedState) -> Vec<(String, String)> {
    observed
        .resources
        .values()
        .filter(|r| r.addr.kind == Kind::ApiGatewayRestApi && r.owner == Owner::Workflow)
        .filter_map(|r| Some((r.addr.name.clone(), r.outputs.get("id")?.clone())))
        .collect()
}

pub fn desire(d: &Desire, out: &mut DesiredState) {
    for f in d.functions {
        let Some(name) = api_name(f) else { continue };
        let attrs = RestApiAttrs {
            description: DESCRIPTION.into(),
            endpoint_type: ENDPOINT_TYPE.into(),
            tags: d.ownership_tags(),
        };
        // Made after its function, so that an API never exists without a
        // function of the workflow (found through the tagging API) that
        // makes observation look for it.
        out.add(wanted(addr(name), &attrs).dep(super::lambda_function::addr(f.name())));
    }
}

/// The REST APIs this workflow owns (by tag) or wants (by name), from one
/// listing. Of several of one name, the workflow's own is taken, else the
/// first by id.
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    let wanted = o.wanted(Kind::ApiGatewayRestApi);
    if wanted.is_empty() && o.tagged.is_empty() {
        // Nothing of the workflow exists and no API is wanted: no call.
        return Ok(());
    }
    let apis = o.cloud.list_rest_apis().await?;
    let mut found: Vec<crate::model::Observed> = Vec::new();
    for api in apis {
        let owner = owner_of(Some(&api.tags), o.workflow);
        if owner != Owner::Workflow && !wanted.contains(&api.name) {
            continue;
        }
        if let Some(i) = found.iter().position(|f| f.addr.name == api.name) {
            // One of that name is already taken: the workflow's wins.
            if found[i].owner == Owner::Workflow || owner != Owner::Workflow {
                continue;
            }
            found.remove(i);
        }
        let attrs = RestApiAttrs {
            description: api.description.clone().unwrap_or_default(),
            endpoint_type: api.endpoint_types.join(","),
            tags: scar_tags(Some(&api.tags)),
        };
        let mut ob = observed(addr(&api.name), &attrs, owner);
        ob.outputs.insert("id".into(), api.id.clone());
        ob.outputs.insert(
            "execute_arn".into(),
            execute_arn(o.cloud.region(), o.cloud.account_id(), &api.id),
        );
        found.push(ob);
    }
    for f in found {
        o.insert(f);
    }
    Ok(())
}

pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    let Some(id) = s.observed.get("id") else {
        return Ok(());
    };
    retry(|| cloud.delete_rest_api(id)).await?;
    Ok(())
}

pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: RestApiAttrs,
) -> Result<Outputs, CloudError> {
    if s.action == Action::Update {
        let id = s.observed.get("id").ok_or_else(|| vanished(s.addr))?;
        let mut ops = Vec::new();
        if s.differs("description") {
            ops.push(PatchOp::replace("/description", &want.description));
        }
        if s.differs("endpoint_type") {
            let old = s
                .changed
                .get("endpoint_type")
                .copied()
                .flatten()
                .and_then(|v| v.as_str())
                .unwrap_or("EDGE");
            ops.push(PatchOp::replace(
                format!("/endpointConfiguration/types/{old}"),
                &want.endpoint_type,
            ));
        }
        if !ops.is_empty() {
            match retry(|| cloud.update_rest_api(id, &ops)).await {
                Err(e) if e.kind == ErrorKind::NotFound => return Err(vanished(s.addr)),
                other => other?,
            }
        }
        if s.differs("tags") {
            retry(|| cloud.tag_rest_api(id, &want.tags)).await?;
        }
        return Ok(outputs(cloud, id));
    }
    // CreateRestApi never answers "already exists" (names need not be
    // unique): an API an interrupted run created carries the workflow's
    // tags and was observed, so this is a create only when there is none.
    let spec = RestApiSpec {
        name: s.addr.name.clone(),
        description: want.description.clone(),
        endpoint_type: want.endpoint_type.clone(),
        tags: want.tags.clone(),
    };
    let api = retry_throttled(|| cloud.create_rest_api(&spec)).await?;
    Ok(outputs(cloud, &api.id))
}

fn outputs<C: Cloud>(cloud: &C, id: &str) -> Outputs {
    Outputs::from([
        ("id".to_string(), id.to_string()),
        (
            "execute_arn".to_string(),
            execute_arn(cloud.region(), cloud.account_id(), id),
        ),
    ])
}
