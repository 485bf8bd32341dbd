//! `api_gateway_stage`: what a function's REST API serves and the stage
//! that serves it (`scar` by default), by API name. It holds the API's
//! `{proxy+}` resource, its `ANY` method and the `AWS_PROXY` integration
//! to the function (the `X-Amz-Invocation-Type` header mapped, so that a
//! caller can ask for an asynchronous call), and the stage with its
//! variables and the deployment it serves.
//!
//! Stale stages are what users of other tools suffer: a method changed,
//! no new deployment, the stage serves the old one. Here the stage's
//! `deployed_content` is a hash of what the API should serve; scar writes
//! it into the description of every deployment it makes, and reads it
//! back from the deployment the stage points at. When it differs (the
//! routes changed, or someone deployed by hand), the plan shows a new
//! deployment (its id known after apply) and apply moves the stage to it.
//!
//! A stage cannot be renamed: a new `stage_name` replaces it. It lives in
//! its REST API (replaced with it, gone with it). Its applied record is in
//! the stage's tags (stages take tags at create and through TagResource).
//! Observed with GetStages, GetResources (methods embedded), GetMethod,
//! GetIntegration and GetDeployment for each API the workflow owns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::support::{from_attrs, observed_tagged, scar_tags, vanished, wanted};
use super::{
    api_gateway_rest_api, lambda_function, Desire, KindRules, Observation, Outputs, PlanContext,
    Removal, Step,
};
use crate::cloud::retry::{retry, retry_throttled};
use crate::cloud::{
    ApiResource, Cloud, CloudError, ErrorKind, IntegrationSpec, MethodSpec, PatchOp, StageState,
    Tags,
};
use crate::model::{
    owner_of, reference, Action, Addr, Attrs, DesiredState, Kind, Observed, Owner, Resource,
};

pub struct ApiGatewayStage;

/// The request header a caller sets to `Event` for an asynchronous call,
/// as the method declares it (optional) and the integration passes it on.
pub const INVOCATION_TYPE_METHOD: &str = "method.request.header.X-Amz-Invocation-Type";
pub const INVOCATION_TYPE_INTEGRATION: &str = "integration.request.header.X-Amz-Invocation-Type";

/// What scar writes before the content hash in a deployment's
/// description.
const DEPLOYMENT_PREFIX: &str = "scar deployment of content ";

/// A stage's attributes: what the API serves, and the stage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StageAttrs {
    /// The REST API's id (known after the API is created).
    pub rest_api_id: String,
    pub region: String,
    pub stage_name: String,
    /// The resource under `/` (`{proxy+}`).
    pub path_part: String,
    pub http_method: String,
    pub authorization: String,
    pub method_parameters: BTreeMap<String, bool>,
    pub integration_type: String,
    pub integration_uri: String,
    pub integration_parameters: BTreeMap<String, String>,
    /// The hash of what the deployment the stage serves holds.
    pub deployed_content: String,
    pub variables: BTreeMap<String, String>,
    pub tags: Tags,
}

/// What a deployment snapshots (the hash of `deployed_content`).
#[derive(Serialize)]
struct Routes<'a> {
    path_part: &'a str,
    http_method: &'a str,
    authorization: &'a str,
    method_parameters: &'a BTreeMap<String, bool>,
    integration_type: &'a str,
    integration_uri: &'a str,
    integration_parameters: &'a BTreeMap<String, String>,
}

impl StageAttrs {
    fn routes(&self) -> Routes<'_> {
        Routes {
            path_part: &self.path_part,
            http_method: &self.http_method,
            authorization: &self.authorization,
            method_parameters: &self.method_parameters,
            integration_type: &self.integration_type,
            integration_uri: &self.integration_uri,
            integration_parameters: &self.integration_parameters,
        }
    }

    /// The content hash of what the routes serve.
    fn content(&self) -> String {
        let json = serde_json::to_vec(&self.routes()).unwrap_or_default();
        crate::hash::hex_sha256(&json)[..12].to_string()
    }
}

/// The attributes that make up what the API serves.
const ROUTE_ATTRS: [&str; 7] = [
    "path_part",
    "http_method",
    "authorization",
    "method_parameters",
    "integration_type",
    "integration_uri",
    "integration_parameters",
];

/// The URL a stage is called at, as SCAR prints it (any path under the
/// stage reaches the function, through `{proxy+}`).
pub fn invoke_url(api_id: &str, region: &str, stage: &str) -> String {
    format!("https://{api_id}.execute-api.{region}.amazonaws.com/{stage}/launch")
}

/// The stage of the REST API `api`.
pub fn addr(api: &str) -> Addr {
    Addr::new(Kind::ApiGatewayStage, api)
}

fn typed(addr: &Addr, attrs: &Attrs) -> StageAttrs {
    from_attrs(addr, attrs).unwrap_or_default()
}

impl KindRules for ApiGatewayStage {
    fn unmanaged(&self) -> super::Found {
        // A stage is observed only in an API the workflow owns.
        super::Found::Adopt(Some("adopted: a stage of a REST API this workflow owns"))
    }

    fn needs(&self, have: &Observed, _observed: &crate::model::ObservedState) -> Vec<Addr> {
        vec![api_gateway_rest_api::addr(&have.addr.name)]
    }

    fn lives_in(&self, want: &Resource) -> Option<(Addr, String)> {
        Some((
            api_gateway_rest_api::addr(&want.addr.name),
            "its REST API is replaced, and a stage lives in its API".into(),
        ))
    }

    fn removal(&self, have: &Observed, ctx: &PlanContext) -> Removal {
        // A deleted API takes its stages with it.
        if !ctx
            .desired
            .resources
            .contains_key(&api_gateway_rest_api::addr(&have.addr.name))
        {
            return Removal::Skip;
        }
        Removal::no_longer_wanted()
    }

    fn unseen_changes(&self, changed: &[&str], have: &Observed) -> Vec<(String, Value, Value)> {
        // A new deployment is made, and the stage moved to it.
        if changed.contains(&"deployed_content") {
            let before = have
                .outputs
                .get("deployment_id")
                .map(|d| Value::String(d.clone()))
                .unwrap_or(Value::Null);
            return vec![(
                "deployment_id".into(),
                before,
                Value::String(crate::plan::UNKNOWN.into()),
            )];
        }
        Vec::new()
    }

    fn plan_outputs(&self, resolved: &Attrs) -> Vec<(String, Option<String>)> {
        let get = |k: &str| resolved.get(k).and_then(Value::as_str).unwrap_or_default();
        let id = get("rest_api_id");
        let url = (!id.is_empty() && id != crate::plan::UNKNOWN)
            .then(|| invoke_url(id, get("region"), get("stage_name")));
        vec![("invoke_url".into(), url)]
    }
}

pub fn desire(d: &Desire, out: &mut DesiredState) {
    for f in d.functions {
        let Some(api) = api_gateway_rest_api::api_name(f) else {
            continue;
        };
        let Some(spec) = f.spec.api_gateway.as_ref() else {
            continue;
        };
        let region = &d.ctx.region;
        let function_arn = lambda_function::arn(d.ctx, f.name());
        let api_addr = api_gateway_rest_api::addr(api);
        let mut attrs = StageAttrs {
            rest_api_id: reference(&api_addr, "id").as_str().unwrap_or_default().to_string(),
            region: region.clone(),
            stage_name: spec.stage_name.clone(),
            path_part: spec.path_part.clone(),
            http_method: spec.http_method.clone(),
            authorization: "NONE".into(),
            method_parameters: BTreeMap::from([(INVOCATION_TYPE_METHOD.to_string(), false)]),
            integration_type: "AWS_PROXY".into(),
            integration_uri: format!(
                "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
            ),
            integration_parameters: BTreeMap::from([(
                INVOCATION_TYPE_INTEGRATION.to_string(),
                INVOCATION_TYPE_METHOD.to_string(),
            )]),
            deployed_content: String::new(),
            variables: BTreeMap::new(),
            tags: d.ownership_tags(),
        };
        attrs.deployed_content = attrs.content();
        let mut r = wanted(addr(api), &attrs)
            .dep(api_addr)
            .dep(lambda_function::addr(f.name()));
        r.force_new.insert("stage_name".into());
        out.add(r);
    }
}

/// The stage of each REST API the workflow owns: the one tagged with the
/// workflow, else the one of the wanted name; with the routes the API
/// serves.
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    for (name, id) in api_gateway_rest_api::owned(&o.out) {
        let want = o
            .desired
            .resources
            .get(&addr(&name))
            .map(|r| typed(&r.addr, &r.attrs));
        let stages = o.cloud.get_stages(&id).await?;
        let ours = stages
            .iter()
            .find(|s| owner_of(Some(&s.tags), o.workflow) == Owner::Workflow)
            .or_else(|| {
                let wanted = want.as_ref().map(|w| w.stage_name.as_str());
                stages.iter().find(|s| Some(s.name.as_str()) == wanted)
            });
        let Some(stage) = ours else { continue };
        let mut attrs = routes(&*o.cloud, &id, want.as_ref()).await?;
        attrs.rest_api_id = id.clone();
        attrs.region = o.cloud.region().to_string();
        attrs.stage_name = stage.name.clone();
        attrs.variables = stage.variables.clone();
        attrs.tags = scar_tags(Some(&stage.tags));
        if let Some(d) = &stage.deployment_id {
            let description = o.cloud.get_deployment(&id, d).await?;
            attrs.deployed_content = description
                .as_deref()
                .and_then(|t| t.strip_prefix(DEPLOYMENT_PREFIX))
                .unwrap_or_default()
                .to_string();
        }
        let owner = owner_of(Some(&stage.tags), o.workflow);
        let mut ob = observed_tagged(addr(&name), &attrs, owner, Some(&stage.tags));
        ob.outputs.insert("rest_api_id".into(), id.clone());
        ob.outputs.insert("stage_name".into(), stage.name.clone());
        if let Some(d) = &stage.deployment_id {
            ob.outputs.insert("deployment_id".into(), d.clone());
        }
        ob.outputs.insert(
            "invoke_url".into(),
            invoke_url(&id, o.cloud.region(), &stage.name),
        );
        o.insert(ob);
    }
    Ok(())
}

/// The resource under `/` that is the wanted one (else the first), and
/// the method of it that is the wanted one (else the first).
fn route_of<'a>(
    resources: &'a [ApiResource],
    want: Option<&StageAttrs>,
) -> Option<(&'a ApiResource, Option<&'a str>)> {
    let root = resources.iter().find(|r| r.parent_id.is_none())?;
    let children: Vec<&ApiResource> = resources
        .iter()
        .filter(|r| r.parent_id.as_deref() == Some(root.id.as_str()))
        .collect();
    let wanted_part = want.map(|w| w.path_part.as_str());
    let resource = children
        .iter()
        .find(|r| r.path_part.as_deref() == wanted_part)
        .or_else(|| children.first())?;
    let wanted_method = want.map(|w| w.http_method.as_str());
    let method = resource
        .methods
        .iter()
        .find(|m| Some(m.as_str()) == wanted_method)
        .or_else(|| resource.methods.first())
        .map(String::as_str);
    Some((resource, method))
}

/// What the API serves now (the route attributes only).
async fn routes<C: Cloud>(
    cloud: &C,
    api: &str,
    want: Option<&StageAttrs>,
) -> Result<StageAttrs, CloudError> {
    let resources = cloud.get_resources(api).await?;
    let mut attrs = StageAttrs::default();
    let Some((resource, method)) = route_of(&resources, want) else {
        return Ok(attrs);
    };
    attrs.path_part = resource.path_part.clone().unwrap_or_default();
    let Some(method) = method else {
        return Ok(attrs);
    };
    attrs.http_method = method.to_string();
    if let Some(m) = cloud.get_method(api, &resource.id, method).await? {
        attrs.authorization = m.authorization;
        attrs.method_parameters = m.request_parameters;
    }
    if let Some(i) = cloud.get_integration(api, &resource.id, method).await? {
        attrs.integration_type = i.integration_type;
        attrs.integration_uri = i.uri;
        attrs.integration_parameters = i.request_parameters;
    }
    Ok(attrs)
}

pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    let (Some(api), Some(name)) = (s.observed.get("rest_api_id"), s.observed.get("stage_name"))
    else {
        return Ok(());
    };
    retry(|| cloud.delete_stage(api, name)).await?;
    Ok(())
}

/// The observed value of an attribute the plan says differs, as a string.
fn before<'a>(s: &'a Step<'_>, attr: &str) -> Option<&'a str> {
    s.changed
        .get(attr)
        .copied()
        .flatten()
        .and_then(Value::as_str)
}

/// Makes the API serve the wanted route: the resource under `/` (the old
/// one removed when the path changed), the method (written anew: PutMethod
/// does not overwrite) and its integration.
async fn ensure_routes<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: &StageAttrs,
) -> Result<(), CloudError> {
    let api = want.rest_api_id.as_str();
    let resources = retry(|| cloud.get_resources(api)).await?;
    let root = resources
        .iter()
        .find(|r| r.parent_id.is_none())
        .ok_or_else(|| vanished(s.addr))?;
    if let Some(old) = before(s, "path_part").filter(|p| *p != want.path_part) {
        if let Some(r) = resources.iter().find(|r| {
            r.parent_id.as_deref() == Some(&root.id) && r.path_part.as_deref() == Some(old)
        }) {
            retry(|| cloud.delete_resource(api, &r.id)).await?;
        }
    }
    let existing = resources.iter().find(|r| {
        r.parent_id.as_deref() == Some(root.id.as_str())
            && r.path_part.as_deref() == Some(want.path_part.as_str())
    });
    let resource = match existing {
        Some(r) => r.clone(),
        None => retry(|| cloud.create_resource(api, &root.id, &want.path_part)).await?,
    };
    let mut stale: Vec<&str> = vec![want.http_method.as_str()];
    stale.extend(before(s, "http_method"));
    for m in stale {
        if resource.methods.iter().any(|have| have == m) {
            retry(|| cloud.delete_method(api, &resource.id, m)).await?;
        }
    }
    let method = MethodSpec {
        http_method: want.http_method.clone(),
        authorization: want.authorization.clone(),
        request_parameters: want.method_parameters.clone(),
    };
    retry(|| cloud.put_method(api, &resource.id, &method)).await?;
    let integration = IntegrationSpec {
        integration_type: want.integration_type.clone(),
        http_method: "POST".into(),
        uri: want.integration_uri.clone(),
        request_parameters: want.integration_parameters.clone(),
    };
    retry(|| cloud.put_integration(api, &resource.id, &want.http_method, &integration)).await?;
    Ok(())
}

pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: StageAttrs,
) -> Result<Outputs, CloudError> {
    let api = want.rest_api_id.as_str();
    let create = s.action == Action::Create;
    if create || ROUTE_ATTRS.iter().any(|a| s.differs(a)) {
        ensure_routes(cloud, s, &want).await?;
    }
    let mut deployment = s.observed.get("deployment_id").cloned();
    if create || s.differs("deployed_content") || deployment.is_none() {
        let description = format!("{DEPLOYMENT_PREFIX}{}", want.deployed_content);
        deployment = Some(retry_throttled(|| cloud.create_deployment(api, &description)).await?);
    }
    let stage = StageState {
        name: want.stage_name.clone(),
        deployment_id: deployment.clone(),
        variables: want.variables.clone(),
        tags: want.tags.clone(),
    };
    let mut update = !create;
    if create {
        match retry_throttled(|| cloud.create_stage(api, &stage)).await {
            Ok(()) => {}
            // There already (an interrupted run made it): brought in line.
            Err(e) if matches!(e.kind, ErrorKind::Conflict | ErrorKind::AlreadyExists) => {
                update = true;
            }
            Err(e) => return Err(e),
        }
    }
    if update {
        let mut ops = Vec::new();
        if deployment.as_deref() != s.observed.get("deployment_id").map(String::as_str) || create {
            if let Some(d) = &deployment {
                ops.push(PatchOp::replace("/deploymentId", d));
            }
        }
        if s.differs("variables") || create {
            let old: BTreeMap<String, String> = s
                .changed
                .get("variables")
                .copied()
                .flatten()
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            for k in old.keys().filter(|k| !want.variables.contains_key(*k)) {
                ops.push(PatchOp::remove(format!("/variables/{k}")));
            }
            for (k, v) in &want.variables {
                ops.push(PatchOp::replace(format!("/variables/{k}"), v));
            }
        }
        if !ops.is_empty() {
            match retry(|| cloud.update_stage(api, &want.stage_name, &ops)).await {
                Err(e) if e.kind == ErrorKind::NotFound => return Err(vanished(s.addr)),
                other => other?,
            }
        }
        if s.differs("tags") {
            retry(|| cloud.tag_stage(api, &want.stage_name, &want.tags)).await?;
        }
    }
    let mut out = Outputs::from([
        ("rest_api_id".to_string(), api.to_string()),
        ("stage_name".to_string(), want.stage_name.clone()),
        (
            "invoke_url".to_string(),
            invoke_url(api, &want.region, &want.stage_name),
        ),
    ]);
    if let Some(d) = deployment {
        out.insert("deployment_id".into(), d);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::apply::{apply, Outcome};
    use crate::cloud::memory::MemoryCloud;
    use crate::cloud::ApiGatewayApi;
    use crate::manifest::load_texts;
    use crate::pipeline::{plan_workflow_in, Planned};

    fn manifest(method: &str) -> String {
        format!("workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: f\n    api_gateway:\n      name: api\n      http_method: {method}\n")
    }

    async fn planned(cloud: &Arc<MemoryCloud>, text: &str, destroy: bool) -> Planned {
        let m = load_texts(&[("m.yaml", text)]).manifest.unwrap();
        plan_workflow_in(cloud.clone(), &m, Some(b"layer".to_vec()), destroy, None)
            .await
            .unwrap()
    }

    async fn run(cloud: &Arc<MemoryCloud>, p: &Planned) {
        let results = apply(
            cloud.clone(),
            &p.plan,
            p.artifacts.clone(),
            4,
            Arc::new(|_| {}),
        )
        .await;
        assert!(results.iter().all(|r| r.2 == Outcome::Done), "{results:?}");
    }

    /// The one API's id and its stage's deployment.
    async fn served(cloud: &MemoryCloud) -> (String, Option<String>) {
        let apis = cloud.list_rest_apis().await.unwrap();
        assert_eq!(apis.len(), 1, "{apis:?}");
        let stages = cloud.get_stages(&apis[0].id).await.unwrap();
        assert_eq!(stages.len(), 1, "{stages:?}");
        (apis[0].id.clone(), stages[0].deployment_id.clone())
    }

    #[tokio::test]
    async fn a_route_change_redeploys_and_moves_the_stage_where_put_method_does_not_overwrite() {
        let cloud = Arc::new(MemoryCloud::new());
        let p = planned(&cloud, &manifest("ANY"), false).await;
        run(&cloud, &p).await;
        let (id, first) = served(&cloud).await;
        assert!(!planned(&cloud, &manifest("ANY"), false)
            .await
            .plan
            .has_changes());

        // MemoryCloud answers PutMethod on an existing method with a
        // conflict, as AWS does (moto overwrites): the step removes it first.
        let p = planned(&cloud, &manifest("POST"), false).await;
        let stage = p
            .plan
            .changes
            .iter()
            .find(|c| c.address == super::addr("api"))
            .unwrap();
        let deployment = stage
            .diffs
            .iter()
            .find(|d| d.name == "deployment_id")
            .unwrap();
        assert!(deployment.after_unknown, "{deployment:?}");
        run(&cloud, &p).await;
        let (same_id, second) = served(&cloud).await;
        assert_eq!(same_id, id, "the API is updated, not replaced");
        assert_ne!(second, first, "a new deployment is served");
        let resources = cloud.get_resources(&id).await.unwrap();
        let proxy = resources.iter().find(|r| r.path == "/{proxy+}").unwrap();
        assert_eq!(proxy.methods, ["POST"]);
        assert!(!planned(&cloud, &manifest("POST"), false)
            .await
            .plan
            .has_changes());

        // Destroyed: the API goes, its stage with it.
        let d = planned(&cloud, &manifest("POST"), true).await;
        run(&cloud, &d).await;
        assert!(cloud.list_rest_apis().await.unwrap().is_empty());
    }
}
