//! AWS adapters of the cloud traits, over the AWS SDK for Rust. The SDK
//! configuration comes from the standard chain (profiles, region,
//! `AWS_ENDPOINT_URL`), so the same binary talks to AWS or to an emulator.

mod cloud;
pub mod download;
mod iam;
mod lambda;
mod logs;
mod preflight;
mod s3;
mod tagging;

use aws_config::{BehaviorVersion, Region, SdkConfig};

pub use cloud::{classify, decode_policy, partition, AwsCloud, RequestCounter};
pub use lambda::{parse_policy, PolicyParseError};
pub use preflight::AwsPreflight;

/// Global connection settings from the command line.
#[derive(Clone, Debug, Default)]
pub struct Connection {
    pub profile: Option<String>,
    pub region: Option<String>,
}

/// Loads the SDK configuration from the standard chain, with `--profile`
/// and `--region` taking precedence.
pub async fn sdk_config(conn: &Connection) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = &conn.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &conn.region {
        loader = loader.region(Region::new(r.clone()));
    }
    loader.load().await
}

/// An S3 client; path-style addressing so that endpoints given as an IP
/// address or `localhost` (emulators) work.
pub fn s3_client(conf: &SdkConfig) -> aws_sdk_s3::Client {
    let s3conf = aws_sdk_s3::config::Builder::from(conf)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(s3conf)
}
