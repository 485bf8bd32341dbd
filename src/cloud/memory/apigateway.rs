//! The in-memory double of API Gateway (REST APIs).

use super::MemoryCloud;
use crate::cloud::ApiGatewayApi;

/// The account's REST APIs.
#[derive(Default)]
pub(super) struct ApiGatewayState {}

impl ApiGatewayApi for MemoryCloud {}
