//! `ApiGatewayApi` over the API Gateway (v1) SDK. Tags of a REST API are
//! given to CreateRestApi itself (moto answers TagResource on a REST API's
//! ARN with a 404); stages are tagged through their ARN.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, IntegrationType, Op};

use super::cloud::{from_map, is_not_found, tag_map, AwsCloud, Guarded};
use crate::cloud::{
    ApiGatewayApi, ApiResource, Cloud, CloudResult, IntegrationSpec, MethodSpec, PatchOp,
    RestApiSpec, RestApiState, StageState, Tags,
};

/// Items per page asked for (the most API Gateway gives).
const PAGE: i32 = 500;

fn patch(ops: &[PatchOp]) -> Vec<aws_sdk_apigateway::types::PatchOperation> {
    ops.iter()
        .map(|p| {
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(Op::from(p.op))
                .path(&p.path)
                .set_value(p.value.clone())
                .build()
        })
        .collect()
}

fn rest_api(a: &aws_sdk_apigateway::types::RestApi) -> RestApiState {
    RestApiState {
        id: a.id().unwrap_or_default().to_string(),
        name: a.name().unwrap_or_default().to_string(),
        description: a.description().map(str::to_string),
        endpoint_types: a
            .endpoint_configuration()
            .map(|c| c.types().iter().map(|t| t.as_str().to_string()).collect())
            .unwrap_or_default(),
        tags: a.tags().map(from_map).unwrap_or_default(),
    }
}

fn sorted<V: Clone>(m: Option<&HashMap<String, V>>) -> BTreeMap<String, V> {
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

impl AwsCloud {
    /// A stage's ARN, as TagResource takes it.
    fn stage_arn(&self, api: &str, name: &str) -> String {
        format!(
            "arn:{}:apigateway:{}::/restapis/{api}/stages/{name}",
            self.partition(),
            self.region()
        )
    }
}

impl ApiGatewayApi for AwsCloud {
    async fn list_rest_apis(&self) -> CloudResult<Vec<RestApiState>> {
        let mut apis = Vec::new();
        let mut position: Option<String> = None;
        loop {
            self.record("GetRestApis")?;
            let out = self
                .apigateway
                .get_rest_apis()
                .limit(PAGE)
                .set_position(position.take())
                .send()
                .guarded(self, "GetRestApis")
                .await?
                .map_err(|e| self.sdk_error("GetRestApis", e))?;
            apis.extend(out.items().iter().map(rest_api));
            match out.position() {
                Some(p) if !p.is_empty() => position = Some(p.to_string()),
                _ => break,
            }
        }
        apis.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        Ok(apis)
    }

    async fn create_rest_api(&self, spec: &RestApiSpec) -> CloudResult<RestApiState> {
        self.record("CreateRestApi")?;
        let endpoint = EndpointConfiguration::builder()
            .types(EndpointType::from(spec.endpoint_type.as_str()))
            .build();
        let out = self
            .apigateway
            .create_rest_api()
            .name(&spec.name)
            .description(&spec.description)
            .endpoint_configuration(endpoint)
            .set_tags((!spec.tags.is_empty()).then(|| tag_map(&spec.tags)))
            .send()
            .guarded(self, "CreateRestApi")
            .await?
            .map_err(|e| self.sdk_error(format!("CreateRestApi {}", spec.name), e))?;
        Ok(RestApiState {
            id: out.id().unwrap_or_default().to_string(),
            name: spec.name.clone(),
            description: out.description().map(str::to_string),
            endpoint_types: out
                .endpoint_configuration()
                .map(|c| c.types().iter().map(|t| t.as_str().to_string()).collect())
                .unwrap_or_default(),
            tags: out.tags().map(from_map).unwrap_or_default(),
        })
    }

    async fn update_rest_api(&self, id: &str, ops: &[PatchOp]) -> CloudResult<()> {
        self.record("UpdateRestApi")?;
        self.apigateway
            .update_rest_api()
            .rest_api_id(id)
            .set_patch_operations(Some(patch(ops)))
            .send()
            .guarded(self, "UpdateRestApi")
            .await?
            .map_err(|e| self.sdk_error(format!("UpdateRestApi {id}"), e))?;
        Ok(())
    }

    async fn tag_rest_api(&self, id: &str, tags: &Tags) -> CloudResult<()> {
        self.record("TagResource")?;
        let arn = format!(
            "arn:{}:apigateway:{}::/restapis/{id}",
            self.partition(),
            self.region()
        );
        self.apigateway
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tag_map(tags)))
            .send()
            .guarded(self, "TagResource")
            .await?
            .map_err(|e| self.sdk_error(format!("TagResource {id}"), e))?;
        Ok(())
    }

    async fn delete_rest_api(&self, id: &str) -> CloudResult<bool> {
        self.record("DeleteRestApi")?;
        match self
            .apigateway
            .delete_rest_api()
            .rest_api_id(id)
            .send()
            .guarded(self, "DeleteRestApi")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("DeleteRestApi {id}"), e)),
        }
    }

    async fn get_resources(&self, api: &str) -> CloudResult<Vec<ApiResource>> {
        let mut found = Vec::new();
        let mut position: Option<String> = None;
        loop {
            self.record("GetResources")?;
            let out = self
                .apigateway
                .get_resources()
                .rest_api_id(api)
                .embed("methods")
                .limit(PAGE)
                .set_position(position.take())
                .send()
                .guarded(self, "GetResources")
                .await?
                .map_err(|e| self.sdk_error(format!("GetResources {api}"), e))?;
            found.extend(out.items().iter().map(|r| {
                ApiResource {
                    id: r.id().unwrap_or_default().to_string(),
                    parent_id: r.parent_id().map(str::to_string),
                    path_part: r.path_part().map(str::to_string),
                    path: r.path().unwrap_or_default().to_string(),
                    methods: r
                        .resource_methods()
                        .map(|m| {
                            let mut names: Vec<String> = m.keys().cloned().collect();
                            names.sort();
                            names
                        })
                        .unwrap_or_default(),
                }
            }));
            match out.position() {
                Some(p) if !p.is_empty() => position = Some(p.to_string()),
                _ => break,
            }
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
        self.record("CreateResource")?;
        let out = self
            .apigateway
            .create_resource()
            .rest_api_id(api)
            .parent_id(parent_id)
            .path_part(path_part)
            .send()
            .guarded(self, "CreateResource")
            .await?
            .map_err(|e| self.sdk_error(format!("CreateResource {api} {path_part}"), e))?;
        Ok(ApiResource {
            id: out.id().unwrap_or_default().to_string(),
            parent_id: out.parent_id().map(str::to_string),
            path_part: out.path_part().map(str::to_string),
            path: out.path().unwrap_or_default().to_string(),
            methods: Vec::new(),
        })
    }

    async fn delete_resource(&self, api: &str, resource_id: &str) -> CloudResult<bool> {
        self.record("DeleteResource")?;
        match self
            .apigateway
            .delete_resource()
            .rest_api_id(api)
            .resource_id(resource_id)
            .send()
            .guarded(self, "DeleteResource")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("DeleteResource {api} {resource_id}"), e)),
        }
    }

    async fn get_method(
        &self,
        api: &str,
        resource_id: &str,
        http_method: &str,
    ) -> CloudResult<Option<MethodSpec>> {
        self.record("GetMethod")?;
        match self
            .apigateway
            .get_method()
            .rest_api_id(api)
            .resource_id(resource_id)
            .http_method(http_method)
            .send()
            .guarded(self, "GetMethod")
            .await?
        {
            Ok(m) => Ok(Some(MethodSpec {
                http_method: m.http_method().unwrap_or(http_method).to_string(),
                authorization: m.authorization_type().unwrap_or_default().to_string(),
                request_parameters: sorted(m.request_parameters()),
            })),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.sdk_error(format!("GetMethod {api} {http_method}"), e)),
        }
    }

    async fn put_method(&self, api: &str, resource_id: &str, m: &MethodSpec) -> CloudResult<()> {
        self.record("PutMethod")?;
        let params: HashMap<String, bool> = m
            .request_parameters
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        self.apigateway
            .put_method()
            .rest_api_id(api)
            .resource_id(resource_id)
            .http_method(&m.http_method)
            .authorization_type(&m.authorization)
            .set_request_parameters((!params.is_empty()).then_some(params))
            .send()
            .guarded(self, "PutMethod")
            .await?
            .map_err(|e| self.sdk_error(format!("PutMethod {api} {}", m.http_method), e))?;
        Ok(())
    }

    async fn delete_method(
        &self,
        api: &str,
        resource_id: &str,
        http_method: &str,
    ) -> CloudResult<bool> {
        self.record("DeleteMethod")?;
        match self
            .apigateway
            .delete_method()
            .rest_api_id(api)
            .resource_id(resource_id)
            .http_method(http_method)
            .send()
            .guarded(self, "DeleteMethod")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("DeleteMethod {api} {http_method}"), e)),
        }
    }

    async fn get_integration(
        &self,
        api: &str,
        resource_id: &str,
        http_method: &str,
    ) -> CloudResult<Option<IntegrationSpec>> {
        self.record("GetIntegration")?;
        match self
            .apigateway
            .get_integration()
            .rest_api_id(api)
            .resource_id(resource_id)
            .http_method(http_method)
            .send()
            .guarded(self, "GetIntegration")
            .await?
        {
            Ok(i) => Ok(Some(IntegrationSpec {
                integration_type: i
                    .r#type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                http_method: i.http_method().unwrap_or_default().to_string(),
                uri: i.uri().unwrap_or_default().to_string(),
                request_parameters: sorted(i.request_parameters()),
            })),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.sdk_error(format!("GetIntegration {api} {http_method}"), e)),
        }
    }

    async fn put_integration(
        &self,
        api: &str,
        resource_id: &str,
        method: &str,
        i: &IntegrationSpec,
    ) -> CloudResult<()> {
        self.record("PutIntegration")?;
        let params: HashMap<String, String> = i
            .request_parameters
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.apigateway
            .put_integration()
            .rest_api_id(api)
            .resource_id(resource_id)
            .http_method(method)
            .r#type(IntegrationType::from(i.integration_type.as_str()))
            .integration_http_method(&i.http_method)
            .uri(&i.uri)
            .set_request_parameters((!params.is_empty()).then_some(params))
            .send()
            .guarded(self, "PutIntegration")
            .await?
            .map_err(|e| self.sdk_error(format!("PutIntegration {api} {method}"), e))?;
        Ok(())
    }

    async fn create_deployment(&self, api: &str, description: &str) -> CloudResult<String> {
        self.record("CreateDeployment")?;
        let out = self
            .apigateway
            .create_deployment()
            .rest_api_id(api)
            .description(description)
            .send()
            .guarded(self, "CreateDeployment")
            .await?
            .map_err(|e| self.sdk_error(format!("CreateDeployment {api}"), e))?;
        Ok(out.id().unwrap_or_default().to_string())
    }

    async fn get_deployment(&self, api: &str, id: &str) -> CloudResult<Option<String>> {
        self.record("GetDeployment")?;
        match self
            .apigateway
            .get_deployment()
            .rest_api_id(api)
            .deployment_id(id)
            .send()
            .guarded(self, "GetDeployment")
            .await?
        {
            Ok(d) => Ok(Some(d.description().unwrap_or_default().to_string())),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.sdk_error(format!("GetDeployment {api} {id}"), e)),
        }
    }

    async fn get_stages(&self, api: &str) -> CloudResult<Vec<StageState>> {
        self.record("GetStages")?;
        let out = self
            .apigateway
            .get_stages()
            .rest_api_id(api)
            .send()
            .guarded(self, "GetStages")
            .await?
            .map_err(|e| self.sdk_error(format!("GetStages {api}"), e))?;
        let mut stages: Vec<StageState> = out
            .item()
            .iter()
            .map(|s| StageState {
                name: s.stage_name().unwrap_or_default().to_string(),
                deployment_id: s.deployment_id().map(str::to_string),
                variables: sorted(s.variables()),
                tags: s.tags().map(from_map).unwrap_or_default(),
            })
            .collect();
        stages.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(stages)
    }

    async fn create_stage(&self, api: &str, stage: &StageState) -> CloudResult<()> {
        self.record("CreateStage")?;
        let variables: HashMap<String, String> = stage
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.apigateway
            .create_stage()
            .rest_api_id(api)
            .stage_name(&stage.name)
            .set_deployment_id(stage.deployment_id.clone())
            .set_variables((!variables.is_empty()).then_some(variables))
            .set_tags((!stage.tags.is_empty()).then(|| tag_map(&stage.tags)))
            .send()
            .guarded(self, "CreateStage")
            .await?
            .map_err(|e| self.sdk_error(format!("CreateStage {api} {}", stage.name), e))?;
        Ok(())
    }

    async fn update_stage(&self, api: &str, name: &str, ops: &[PatchOp]) -> CloudResult<()> {
        self.record("UpdateStage")?;
        self.apigateway
            .update_stage()
            .rest_api_id(api)
            .stage_name(name)
            .set_patch_operations(Some(patch(ops)))
            .send()
            .guarded(self, "UpdateStage")
            .await?
            .map_err(|e| self.sdk_error(format!("UpdateStage {api} {name}"), e))?;
        Ok(())
    }

    async fn tag_stage(&self, api: &str, name: &str, tags: &Tags) -> CloudResult<()> {
        self.record("TagResource")?;
        self.apigateway
            .tag_resource()
            .resource_arn(self.stage_arn(api, name))
            .set_tags(Some(tag_map(tags)))
            .send()
            .guarded(self, "TagResource")
            .await?
            .map_err(|e| self.sdk_error(format!("TagResource {api} {name}"), e))?;
        Ok(())
    }

    async fn delete_stage(&self, api: &str, name: &str) -> CloudResult<bool> {
        self.record("DeleteStage")?;
        match self
            .apigateway
            .delete_stage()
            .rest_api_id(api)
            .stage_name(name)
            .send()
            .guarded(self, "DeleteStage")
            .await?
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(format!("DeleteStage {api} {name}"), e)),
        }
    }
}
