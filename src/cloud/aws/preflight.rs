//! `Preflight` over IAM GetRole and S3 HeadBucket, with scar's timeouts;
//! an endpoint that does not answer is named as for every other call.

use aws_config::SdkConfig;
use aws_sdk_s3::error::SdkError;

use super::cloud::transport_error;
use super::Timeouts;
use crate::cloud::{BucketStatus, CloudError, Preflight, RoleStatus};

pub struct AwsPreflight {
    iam: aws_sdk_iam::Client,
    s3: aws_sdk_s3::Client,
    endpoint: Option<String>,
    region: String,
    timeouts: Timeouts,
}

impl AwsPreflight {
    pub fn new(conf: &SdkConfig) -> Self {
        let timeouts = Timeouts::of(conf);
        AwsPreflight {
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(conf)
                    .timeout_config(timeouts.sdk())
                    .build(),
            ),
            s3: super::s3_client(conf),
            endpoint: conf.endpoint_url().map(str::to_string),
            region: conf.region().map(|r| r.to_string()).unwrap_or_default(),
            timeouts,
        }
    }

    fn error<E>(&self, operation: String, err: SdkError<E>) -> CloudError
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        transport_error(
            operation,
            err,
            self.endpoint.as_deref(),
            &self.region,
            self.timeouts,
            CloudError::new,
        )
    }
}

/// The role name of a role ARN (`arn:aws:iam::123:role/path/name` → `name`).
pub fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

impl Preflight for AwsPreflight {
    async fn role_status(&self, role_arn: &str) -> Result<RoleStatus, CloudError> {
        let name = role_name(role_arn);
        match self.iam.get_role().role_name(name).send().await {
            Ok(out) => {
                let actual = out.role().map(|r| r.arn().to_string()).unwrap_or_default();
                if actual == role_arn {
                    Ok(RoleStatus::Exists)
                } else {
                    Ok(RoleStatus::ArnMismatch { actual })
                }
            }
            Err(SdkError::ServiceError(e)) if e.err().is_no_such_entity_exception() => {
                Ok(RoleStatus::Absent)
            }
            Err(e) => Err(self.error(format!("GetRole {name}"), e)),
        }
    }

    async fn bucket_status(&self, bucket: &str) -> Result<BucketStatus, CloudError> {
        match self.s3.head_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(BucketStatus::Reachable),
            Err(SdkError::ServiceError(e)) => {
                if e.err().is_not_found() {
                    return Ok(BucketStatus::Absent);
                }
                match e.raw().status().as_u16() {
                    404 => Ok(BucketStatus::Absent),
                    403 => Ok(BucketStatus::Forbidden),
                    // A redirect means the bucket exists in another region.
                    301 => Ok(BucketStatus::Reachable),
                    _ => Err(self.error(format!("HeadBucket {bucket}"), SdkError::ServiceError(e))),
                }
            }
            Err(e) => Err(self.error(format!("HeadBucket {bucket}"), e)),
        }
    }
}
