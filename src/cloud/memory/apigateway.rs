//! The in-memory double of API Gateway (REST APIs). Counts requests as
//! `AwsCloud` sends them (GetRestApis and GetResources 500 a page), and
//! behaves as AWS documents: a stage needs a deployment of its API, a
//! deployment needs a method with an integration, names of resources are
//! unique under their parent, REST API names are not unique.

use std::collections::BTreeMap;

use super::{error, not_found, MemoryCloud};
use crate::cloud::{
    ApiGatewayApi, ApiResource, CloudResult, ErrorKind, IntegrationSpec, MethodSpec, PatchOp,
    RestApiSpec, RestApiState, StageState, Tags,
};

/// Items per page of GetRestApis and GetResources, as `AwsCloud` asks.
const PAGE: usize = 500;

/// The account's REST APIs, by id.
#[derive(Default)]
pub(super) struct ApiGatewayState {
    apis: BTreeMap<String, RestApi>,
    /// Ids handed out so far (ids are never reused).
    next_id: u64,
}

struct RestApi {
    state: RestApiState,
    /// By id.
    resources: BTreeMap<String, ApiResource>,
    /// (resource id, HTTP method) → the method and its integration.
    methods: BTreeMap<(String, String), (MethodSpec, Option<IntegrationSpec>)>,
    /// Deployment id → description.
    deployments: BTreeMap<String, String>,
    stages: BTreeMap<String, StageState>,
}

impl ApiGatewayState {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{:010x}", self.next_id * 0x9e37_79b9)
    }
}

impl MemoryCloud {
    /// Counts one request and returns the API Gateway state (or the
    /// injected failure of the operation).
    fn apigw(
        &self,
        operation: &'static str,
        target: &str,
    ) -> CloudResult<std::sync::MutexGuard<'_, ApiGatewayState>> {
        drop(self.call(operation, target)?);
        Ok(self
            .apigateway
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

fn api_mut<'a>(s: &'a mut ApiGatewayState, op: &str, id: &str) -> CloudResult<&'a mut RestApi> {
    s.apis.get_mut(id).ok_or_else(|| not_found(op, id))
}

fn apply_stage_ops(stage: &mut StageState, ops: &[PatchOp]) {
    for p in ops {
        if p.path == "/deploymentId" {
            stage.deployment_id = p.value.clone();
        } else if let Some(key) = p.path.strip_prefix("/variables/") {
            match (p.op, &p.value) {
                ("remove", _) | (_, None) => {
                    stage.variables.remove(key);
                }
                (_, Some(v)) => {
                    stage.variables.insert(key.to_string(), v.clone());
                }
            }
        }
    }
}

impl ApiGatewayApi for MemoryCloud {
    async fn list_rest_apis(&self) -> CloudResult<Vec<RestApiState>> {
        let s = self.apigw("GetRestApis", "")?;
        let mut apis: Vec<RestApiState> = s.apis.values().map(|a| a.state.clone()).collect();
        for _ in 1..apis.len().div_ceil(PAGE).max(1) {
            self.requests.record("GetRestApis");
        }
        apis.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        Ok(apis)
    }

    async fn create_rest_api(&self, spec: &RestApiSpec) -> CloudResult<RestApiState> {
        let mut s = self.apigw("CreateRestApi", &spec.name)?;
        let id = s.new_id();
        let root = s.new_id();
        let state = RestApiState {
            id: id.clone(),
            name: spec.name.clone(),
            description: Some(spec.description.clone()),
            endpoint_types: vec![spec.endpoint_type.clone()],
            tags: spec.tags.clone(),
        };
        let root_resource = ApiResource {
            id: root.clone(),
            parent_id: None,
            path_part: None,
            path: "/".into(),
            methods: Vec::new(),
        };
        s.apis.insert(
            id,
            RestApi {
                state: state.clone(),
                resources: BTreeMap::from([(root, root_resource)]),
                methods: BTreeMap::new(),
                deployments: BTreeMap::new(),
                stages: BTreeMap::new(),
            },
        );
        Ok(state)
    }

    async fn update_rest_api(&self, id: &str, ops: &[PatchOp]) -> CloudResult<()> {
        const OP: &str = "UpdateRestApi";
        let mut s = self.apigw(OP, id)?;
        let api = api_mut(&mut s, OP, id)?;
        for p in ops {
            match (p.path.as_str(), &p.value) {
                ("/description", v) => api.state.description = v.clone(),
                (path, Some(v)) if path.starts_with("/endpointConfiguration/types/") => {
                    api.state.endpoint_types = vec![v.clone()];
                }
                _ => return Err(error(OP, id, ErrorKind::Invalid, "unsupported patch path")),
            }
        }
        Ok(())
    }

    async fn tag_rest_api(&self, id: &str, tags: &Tags) -> CloudResult<()> {
        const OP: &str = "TagResource";
        let mut s = self.apigw(OP, id)?;
        let api = api_mut(&mut s, OP, id)?;
        api.state
            .tags
            .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    async fn delete_rest_api(&self, id: &str) -> CloudResult<bool> {
        let mut s = self.apigw("DeleteRestApi", id)?;
        Ok(s.apis.remove(id).is_some())
    }

    async fn get_resources(&self, api: &str) -> CloudResult<Vec<ApiResource>> {
        const OP: &str = "GetResources";
        let mut s = self.apigw(OP, api)?;
        let a = api_mut(&mut s, OP, api)?;
        let mut found: Vec<ApiResource> = a
            .resources
            .values()
            .map(|r| ApiResource {
                methods: a
                    .methods
                    .keys()
                    .filter(|(id, _)| *id == r.id)
                    .map(|(_, m)| m.clone())
                    .collect(),
                ..r.clone()
            })
            .collect();
        for _ in 1..found.len().div_ceil(PAGE).max(1) {
            self.requests.record(OP);
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    async fn create_resource(
        &self,
        api: &str,
        parent_id: &str,
        path_part: &str,
    ) -> CloudResult<ApiResource> {
        const OP: &str = "CreateResource";
        let mut s = self.apigw(OP, api)?;
        let id = s.new_id();
        let a = api_mut(&mut s, OP, api)?;
        let parent = a
            .resources
            .get(parent_id)
            .ok_or_else(|| not_found(OP, parent_id))?
            .path
            .clone();
        let path = format!("{}/{path_part}", parent.trim_end_matches('/'));
        if a.resources.values().any(|r| r.path == path) {
            return Err(error(
                OP,
                api,
                ErrorKind::Conflict,
                format!("another resource with the path {path} exists"),
            ));
        }
        let r = ApiResource {
            id: id.clone(),
            parent_id: Some(parent_id.to_string()),
            path_part: Some(path_part.to_string()),
            path,
            methods: Vec::new(),
        };
        a.resources.insert(id, r.clone());
        Ok(r)
    }

    async fn delete_resource(&self, api: &str, resource_id: &str) -> CloudResult<bool> {
        const OP: &str = "DeleteResource";
        let mut s = self.apigw(OP, api)?;
        let a = api_mut(&mut s, OP, api)?;
        let gone = a.resources.remove(resource_id).is_some();
        a.methods.retain(|(r, _), _| r != resource_id);
        Ok(gone)
    }

    async fn get_method(
        &self,
        api: &str,
        resource_id: &str,
        http_method: &str,
    ) -> CloudResult<Option<MethodSpec>> {
        const OP: &str = "GetMethod";
        let mut s = self.apigw(OP, api)?;
        let a = api_mut(&mut s, OP, api)?;
        Ok(a.methods
            .get(&(resource_id.to_string(), http_method.to_string()))
            .map(|(m, _)| m.clone()))
    }

    async fn put_method(&self, api: &str, resource_id: &str, m: &MethodSpec) -> CloudResult<()> {
        const OP: &str = "PutMethod";
        let mut s = self.apigw(OP, api)?;
        let a = api_mut(&mut s, OP, api)?;
        if !a.resources.contains_key(resource_id) {
            return Err(not_found(OP, resource_id));
        }
        let key = (resource_id.to_string(), m.http_method.clone());
        if a.methods.contains_key(&key) {
            return Err(error(
                OP,
                api,
                ErrorKind::Conflict,
                "Method already exists for this resource",
            ));
        }
        a.methods.insert(key, (m.clone(), None));
        Ok(())
    }

    async fn delete_method(
        &self,
        api: &str,
        resource_id: &str,
        http_method: &str,
    ) -> CloudResult<bool> {
        const OP: &str = "DeleteMethod";
        let mut s = self.apigw(OP, api)?;
        let a = api_mut(&mut s, OP, api)?;
        Ok(a.methods
            .remove(&(resource_id.to_string(), http_method.to_string()))
            .is_some())
    }

    async fn get_integration(
        &self,
        api: &str,
        resource_id: &str,
        http_method: &str,
    ) -> CloudResult<Option<IntegrationSpec>> {
        const OP: &str = "GetIntegration";
        let mut s = self.apigw(OP, api)?;
        let a = api_mut(&mut s, OP, api)?;
        Ok(a.methods
            .get(&(resource_id.to_string(), http_method.to_string()))
            .and_then(|(_, i)| i.clone()))
    }

    async fn put_integration(
        &self,
        api: &str,
        resource_id: &str,
        method: &str,
        i: &IntegrationSpec,
    ) -> CloudResult<()> {
        const OP: &str = "PutIntegration";
        let mut s = self.apigw(OP, api)?;
        let a = api_mut(&mut s, OP, api)?;
        let m = a
            .methods
            .get_mut(&(resource_id.to_string(), method.to_string()))
            .ok_or_else(|| not_found(OP, method))?;
        m.1 = Some(i.clone());
        Ok(())
    }

    async fn create_deployment(&self, api: &str, description: &str) -> CloudResult<String> {
        const OP: &str = "CreateDeployment";
        let mut s = self.apigw(OP, api)?;
        let id = s.new_id();
        let a = api_mut(&mut s, OP, api)?;
        if !a.methods.values().any(|(_, i)| i.is_some()) {
            return Err(error(
                OP,
                api,
                ErrorKind::Invalid,
                "The REST API doesn't contain any methods with an integration",
            ));
        }
        a.deployments.insert(id.clone(), description.to_string());
        Ok(id)
    }

    async fn get_deployment(&self, api: &str, id: &str) -> CloudResult<Option<String>> {
        const OP: &str = "GetDeployment";
        let mut s = self.apigw(OP, api)?;
        let a = api_mut(&mut s, OP, api)?;
        Ok(a.deployments.get(id).cloned())
    }

    async fn get_stages(&self, api: &str) -> CloudResult<Vec<StageState>> {
        const OP: &str = "GetStages";
        let mut s = self.apigw(OP, api)?;
        let a = api_mut(&mut s, OP, api)?;
        Ok(a.stages.values().cloned().collect())
    }

    async fn create_stage(&self, api: &str, stage: &StageState) -> CloudResult<()> {
        const OP: &str = "CreateStage";
        let mut s = self.apigw(OP, api)?;
        let a = api_mut(&mut s, OP, api)?;
        if a.stages.contains_key(&stage.name) {
            return Err(error(OP, api, ErrorKind::Conflict, "Stage already exists"));
        }
        match &stage.deployment_id {
            Some(d) if a.deployments.contains_key(d) => {}
            _ => return Err(not_found(OP, "deployment")),
        }
        a.stages.insert(stage.name.clone(), stage.clone());
        Ok(())
    }

    async fn update_stage(&self, api: &str, name: &str, ops: &[PatchOp]) -> CloudResult<()> {
        const OP: &str = "UpdateStage";
        let mut s = self.apigw(OP, api)?;
        let a = api_mut(&mut s, OP, api)?;
        let deployments: Vec<String> = a.deployments.keys().cloned().collect();
        let stage = a.stages.get_mut(name).ok_or_else(|| not_found(OP, name))?;
        apply_stage_ops(stage, ops);
        if let Some(d) = &stage.deployment_id {
            if !deployments.contains(d) {
                return Err(not_found(OP, d));
            }
        }
        Ok(())
    }

    async fn tag_stage(&self, api: &str, name: &str, tags: &Tags) -> CloudResult<()> {
        const OP: &str = "TagResource";
        let mut s = self.apigw(OP, api)?;
        let a = api_mut(&mut s, OP, api)?;
        let stage = a.stages.get_mut(name).ok_or_else(|| not_found(OP, name))?;
        stage
            .tags
            .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    async fn delete_stage(&self, api: &str, name: &str) -> CloudResult<bool> {
        const OP: &str = "DeleteStage";
        let mut s = self.apigw(OP, api)?;
        let Some(a) = s.apis.get_mut(api) else {
            return Ok(false);
        };
        Ok(a.stages.remove(name).is_some())
    }
}
