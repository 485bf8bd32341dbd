//! `BatchApi` over the AWS Batch SDK.

use super::cloud::AwsCloud;
use crate::cloud::BatchApi;

impl BatchApi for AwsCloud {}
