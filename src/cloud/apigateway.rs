//! API Gateway (REST APIs, v1), in the project's own types.

/// API Gateway REST APIs: the API, its resources, methods and
/// integrations, deployments and stages.
pub trait ApiGatewayApi {}
