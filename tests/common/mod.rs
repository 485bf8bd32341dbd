//! Helpers shared by the emulator test binaries: an SDK configuration that
//! talks to one moto server, clients built the way scar builds them, and
//! the text of a finished `scar` process for assertion messages.
#![allow(dead_code)] // each test binary uses a different subset

use std::process::Output;

use aws_sdk_s3::config::Credentials;
use testkit::Moto;

/// The SDK configuration of `moto` in `region`, with static test keys.
pub async fn sdk_in(moto: &Moto, region: &'static str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto.endpoint())
        .region(aws_config::Region::new(region))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await
}

/// The SDK configuration of `moto` in us-east-1.
pub async fn sdk(moto: &Moto) -> aws_config::SdkConfig {
    sdk_in(moto, "us-east-1").await
}

/// An S3 client as scar builds it (path-style addressing).
pub fn s3(conf: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    scar::cloud::aws::s3_client(conf)
}

/// stdout and stderr of a finished process, labelled.
pub fn out(o: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// stdout of a finished process.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
