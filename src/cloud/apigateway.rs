//! API Gateway (REST APIs, v1), in the project's own types: the API, its
//! resources, methods and integrations, deployments and stages.

use std::collections::BTreeMap;
use std::future::Future;

use super::{CloudResult, Tags};

/// A REST API as GetRestApis lists it (with the tags given when it was
/// created: moto returns those only, and AWS returns every tag).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestApiState {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// `REGIONAL`, `EDGE` or `PRIVATE`.
    pub endpoint_types: Vec<String>,
    pub tags: Tags,
}

/// What CreateRestApi is given: the tags are set in the create call itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestApiSpec {
    pub name: String,
    pub description: String,
    pub endpoint_type: String,
    pub tags: Tags,
}

/// One JSON-patch operation of an Update* call (`replace /description`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchOp {
    /// `replace`, `add` or `remove`.
    pub op: &'static str,
    pub path: String,
    pub value: Option<String>,
}

impl PatchOp {
    pub fn replace(path: impl Into<String>, value: impl Into<String>) -> PatchOp {
        PatchOp {
            op: "replace",
            path: path.into(),
            value: Some(value.into()),
        }
    }

    pub fn remove(path: impl Into<String>) -> PatchOp {
        PatchOp {
            op: "remove",
            path: path.into(),
            value: None,
        }
    }
}

/// A resource (a path) of a REST API.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiResource {
    pub id: String,
    pub parent_id: Option<String>,
    /// The last segment (`{proxy+}`); `None` for the root `/`.
    pub path_part: Option<String>,
    pub path: String,
    /// The HTTP methods it has (GetResources with `embed=methods`),
    /// sorted.
    pub methods: Vec<String>,
}

/// A method of a resource (PutMethod, GetMethod).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MethodSpec {
    pub http_method: String,
    pub authorization: String,
    /// `method.request.header.X` → whether it is required.
    pub request_parameters: BTreeMap<String, bool>,
}

/// The integration of a method (PutIntegration, GetIntegration).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntegrationSpec {
    /// `AWS_PROXY`, ...
    pub integration_type: String,
    /// The method the integration calls the backend with (`POST` for
    /// Lambda).
    pub http_method: String,
    pub uri: String,
    /// `integration.request.header.X` → `method.request.header.X`.
    pub request_parameters: BTreeMap<String, String>,
}

/// A stage: a name that serves one deployment, with its variables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StageState {
    pub name: String,
    pub deployment_id: Option<String>,
    pub variables: BTreeMap<String, String>,
    pub tags: Tags,
}

/// API Gateway REST APIs: the API, its resources, methods and
/// integrations, deployments and stages.
pub trait ApiGatewayApi {
    /// Every REST API of the account and region, with its tags
    /// (GetRestApis, 500 a page).
    fn list_rest_apis(&self) -> impl Future<Output = CloudResult<Vec<RestApiState>>> + Send;
    /// Creates a REST API with its tags in the same call.
    fn create_rest_api(
        &self,
        spec: &RestApiSpec,
    ) -> impl Future<Output = CloudResult<RestApiState>> + Send;
    fn update_rest_api(
        &self,
        id: &str,
        ops: &[PatchOp],
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Adds or overwrites tags of a REST API (TagResource on its ARN;
    /// moto lacks it); others stay.
    fn tag_rest_api(&self, id: &str, tags: &Tags) -> impl Future<Output = CloudResult<()>> + Send;
    /// Deletes a REST API with all it holds; `Ok(false)` if it was gone.
    fn delete_rest_api(&self, id: &str) -> impl Future<Output = CloudResult<bool>> + Send;
    /// Every resource (path) of an API (GetResources, 500 a page).
    fn get_resources(
        &self,
        api: &str,
    ) -> impl Future<Output = CloudResult<Vec<ApiResource>>> + Send;
    fn create_resource(
        &self,
        api: &str,
        parent_id: &str,
        path_part: &str,
    ) -> impl Future<Output = CloudResult<ApiResource>> + Send;
    /// Deletes a resource and its methods; `Ok(false)` if it was gone.
    fn delete_resource(
        &self,
        api: &str,
        resource_id: &str,
    ) -> impl Future<Output = CloudResult<bool>> + Send;
    /// A method; `None` if the resource has no such method.
    fn get_method(
        &self,
        api: &str,
        resource_id: &str,
        http_method: &str,
    ) -> impl Future<Output = CloudResult<Option<MethodSpec>>> + Send;
    fn put_method(
        &self,
        api: &str,
        resource_id: &str,
        method: &MethodSpec,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Deletes a method and its integration; `Ok(false)` if it was gone.
    fn delete_method(
        &self,
        api: &str,
        resource_id: &str,
        http_method: &str,
    ) -> impl Future<Output = CloudResult<bool>> + Send;
    /// A method's integration; `None` if it has none.
    fn get_integration(
        &self,
        api: &str,
        resource_id: &str,
        http_method: &str,
    ) -> impl Future<Output = CloudResult<Option<IntegrationSpec>>> + Send;
    /// Sets (or replaces) a method's integration.
    fn put_integration(
        &self,
        api: &str,
        resource_id: &str,
        method: &str,
        integration: &IntegrationSpec,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// A snapshot of what the API serves now, for stages to point at;
    /// returns its id.
    fn create_deployment(
        &self,
        api: &str,
        description: &str,
    ) -> impl Future<Output = CloudResult<String>> + Send;
    /// A deployment's description; `None` if there is no such deployment.
    fn get_deployment(
        &self,
        api: &str,
        id: &str,
    ) -> impl Future<Output = CloudResult<Option<String>>> + Send;
    /// Every stage of an API, with its tags.
    fn get_stages(&self, api: &str) -> impl Future<Output = CloudResult<Vec<StageState>>> + Send;
    /// Creates a stage (its deployment, variables and tags in one call).
    fn create_stage(
        &self,
        api: &str,
        stage: &StageState,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn update_stage(
        &self,
        api: &str,
        name: &str,
        ops: &[PatchOp],
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Adds or overwrites tags of a stage (TagResource); others stay.
    fn tag_stage(
        &self,
        api: &str,
        name: &str,
        tags: &Tags,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Deletes a stage; `Ok(false)` if it was gone.
    fn delete_stage(&self, api: &str, name: &str)
        -> impl Future<Output = CloudResult<bool>> + Send;
}
