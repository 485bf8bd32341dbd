//! AWS adapters of the cloud traits, over the AWS SDK for Rust. The SDK
//! configuration comes from the standard chain (profiles, region,
//! `AWS_ENDPOINT_URL`), so the same binary talks to AWS or to an emulator.
//!
//! Every AWS call is bounded in time ([`Timeouts`]): a connect timeout, a
//! read timeout and a total per operation that covers the SDK's own retries.
//! A call that runs out of time stops the conversation with the endpoint:
//! calls of the same [`AwsCloud`] still waiting are abandoned and every
//! later one fails at once, so a silent endpoint ends a command at most one
//! `--timeout` after it stopped answering, not one `--timeout` per call.

mod apigateway;
mod batch;
mod cloud;
mod data;
pub mod download;
mod ecr;
pub mod endpoint;
mod iam;
mod lambda;
mod logs;
mod preflight;
mod s3;
mod tagging;

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

pub use crate::cloud::RequestCounter;
pub use cloud::{classify, decode_policy, partition, AwsCloud, NoAnswer};
pub use lambda::{parse_policy, PolicyParseError};
pub use preflight::AwsPreflight;

/// Global connection settings from the command line.
#[derive(Clone, Debug, Default)]
pub struct Connection {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub timeouts: Timeouts,
}

/// How long scar waits for AWS (`--connect-timeout`, `--timeout`).
///
/// - `connect`: to open a connection (default 5 s: a regional AWS endpoint
///   answers a TCP handshake in milliseconds; 5 s leaves room for slow DNS
///   and a TLS handshake on a poor link, and a blackholed address costs
///   little).
/// - `total`: the most one AWS operation may take, the SDK's own retries
///   included (default 60 s: every call scar makes is answered in well
///   under a second, except the upload of a function package, at most
///   50 MB, which fits in one attempt's 30 s from about 14 Mbit/s of
///   upload; slower links raise it).
/// - the read timeout (no response within it ends the attempt) and the
///   attempt timeout are half the total, so a retry on a fresh connection
///   still fits in the bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(60),
        }
    }
}

impl Timeouts {
    /// The longest wait for a response to one attempt (half the total).
    pub fn read(&self) -> Duration {
        self.total / 2
    }

    /// The SDK's form of these timeouts.
    pub fn sdk(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .read_timeout(self.read())
            .operation_attempt_timeout(self.read())
            .operation_timeout(self.total)
            .build()
    }

    /// The timeouts an SDK configuration carries (scar's defaults for any
    /// it leaves unset).
    pub fn of(conf: &SdkConfig) -> Timeouts {
        let default = Timeouts::default();
        let tc = conf.timeout_config();
        Timeouts {
            connect: tc
                .and_then(|t| t.connect_timeout())
                .unwrap_or(default.connect),
            total: tc
                .and_then(|t| t.operation_timeout())
                .unwrap_or(default.total),
        }
    }
}

/// Loads the SDK configuration from the standard chain, with `--profile`
/// and `--region` taking precedence, and scar's timeouts.
pub async fn sdk_config(conn: &Connection) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).timeout_config(conn.timeouts.sdk());
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
/// The client gets scar's timeouts ([`Timeouts::of`]) whatever `conf` says.
pub fn s3_client(conf: &SdkConfig) -> aws_sdk_s3::Client {
    let s3conf = aws_sdk_s3::config::Builder::from(conf)
        .force_path_style(true)
        .timeout_config(Timeouts::of(conf).sdk())
        .build();
    aws_sdk_s3::Client::from_conf(s3conf)
}
