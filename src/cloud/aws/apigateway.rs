//! `ApiGatewayApi` over the API Gateway (v1) SDK.

use super::cloud::AwsCloud;
use crate::cloud::ApiGatewayApi;

impl ApiGatewayApi for AwsCloud {}
