//! Reading a function's deployed package back: GetFunction answers with a
//! presigned URL (`Code.Location`, valid for ten minutes) to the zip Lambda
//! keeps. scar fetches it only from where it may (AWS's own hosts over
//! HTTPS, or the endpoint it was configured to talk to), caps its size,
//! and keeps it only if its SHA-256 is the `CodeSha256` Lambda reports.
//!
//! The URL carries a signature and often a session token: it is never
//! logged or shown, only its host.
//!
//! The download has the same bounds as every AWS call ([`Timeouts`]): the
//! connect timeout, and the total for the whole fetch, body included.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::Uri;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::Timeouts;

/// The largest package read back (Lambda's direct-upload limit is 50 MB).
pub const MAX_PACKAGE_BYTES: usize = 64 * 1024 * 1024;

/// Whether scar may fetch `url`: with a configured endpoint (an emulator, a
/// VPC endpoint) only from that same scheme, host and port; otherwise only
/// over HTTPS from AWS's own domains. `Err` says why not, naming the host
/// only.
pub fn allowed(url: &str, endpoint: Option<&str>) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|_| "the code location is not a URL".to_string())?;
    let host = uri.host().unwrap_or_default().to_ascii_lowercase();
    let scheme = uri.scheme_str().unwrap_or_default().to_ascii_lowercase();
    match endpoint {
        Some(e) => {
            let e: Uri = e
                .parse()
                .map_err(|_| format!("the configured endpoint `{e}` is not a URL"))?;
            let same = e.scheme_str().map(str::to_ascii_lowercase).as_deref() == Some(&scheme)
                && e.host().map(str::to_ascii_lowercase).as_deref() == Some(&host)
                && e.port_u16() == uri.port_u16();
            if same {
                Ok(uri)
            } else {
                Err(format!(
                    "the code location is on `{host}`, not on the configured endpoint `{}`; scar downloads only from the endpoint it talks to",
                    e.host().unwrap_or_default()
                ))
            }
        }
        None => {
            let aws = host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
            if scheme == "https" && aws {
                Ok(uri)
            } else {
                Err(format!(
                    "the code location `{scheme}://{host}` is not an AWS HTTPS address"
                ))
            }
        }
    }
}

/// The HTTPS connector with its connect timeout, built once per process
/// (per connect timeout): the system's root certificates are read once,
/// not per download. (A client, whose pooled connections belong to the
/// runtime that made them, is made per call.)
pub(super) fn connector(connect: Duration) -> Result<HttpsConnector<HttpConnector>, String> {
    type Built = Result<HttpsConnector<HttpConnector>, String>;
    static CONNECTOR: OnceLock<(Duration, Built)> = OnceLock::new();
    let build = || {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(connect));
        Ok(hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| format!("no TLS root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http))
    };
    let (made_for, built) = CONNECTOR.get_or_init(|| (connect, build()));
    if *made_for == connect {
        built.clone()
    } else {
        build()
    }
}

/// Downloads a package from a location [`allowed`] accepted and checks it
/// against `expected_sha256` (base64, as Lambda reports `CodeSha256`),
/// within `timeouts` (connect, and the total for the whole fetch).
pub async fn download(
    uri: Uri,
    expected_sha256: &str,
    timeouts: Timeouts,
) -> Result<Vec<u8>, String> {
    let host = uri.host().unwrap_or_default().to_string();
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(connector(timeouts.connect)?);
    let fetch = async {
        let resp = client
            .get(uri)
            .await
            .map_err(|e| format!("cannot reach `{host}`: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("`{host}` answered {}", resp.status()));
        }
        let body = Limited::new(resp.into_body(), MAX_PACKAGE_BYTES)
            .collect()
            .await
            .map_err(|e| format!("reading the package from `{host}`: {e}"))?;
        Ok(body.to_bytes().to_vec())
    };
    let bytes = tokio::time::timeout(timeouts.total, fetch)
        .await
        .map_err(|_| {
            format!(
                "`{host}` did not answer within {} s (--timeout)",
                timeouts.total.as_secs_f64()
            )
        })??;
    let got = crate::cloud::code_sha256(&bytes);
    if got != expected_sha256 {
        return Err(format!(
            "the package read from `{host}` has SHA-256 {got}, not the {expected_sha256} Lambda reports"
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_an_endpoint_only_that_endpoint_is_fetched() {
        let ep = Some("http://127.0.0.1:5000");
        assert!(allowed("http://127.0.0.1:5000/b/k?X-Amz-Signature=s", ep).is_ok());
        let why = allowed(
            "https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/f-1?X-Amz-Security-Token=SECRET",
            ep,
        )
        .unwrap_err();
        assert!(why.contains("awslambda-us-east-1-tasks"), "{why}");
        assert!(
            !why.contains("SECRET"),
            "the query must never be shown: {why}"
        );
        assert!(allowed("http://127.0.0.1:5001/b/k", ep).is_err());
        assert!(allowed("https://127.0.0.1:5000/b/k", ep).is_err());
    }

    #[test]
    fn without_an_endpoint_only_aws_https_is_fetched() {
        assert!(allowed(
            "https://awslambda-eu-west-1-tasks.s3.eu-west-1.amazonaws.com/snapshots/1/f?x=y",
            None
        )
        .is_ok());
        assert!(allowed("https://x.s3.cn-north-1.amazonaws.com.cn/k", None).is_ok());
        assert!(allowed("http://x.s3.amazonaws.com/k", None).is_err());
        assert!(allowed("https://evil.example.com/k", None).is_err());
        assert!(allowed("https://amazonaws.com.evil.example/k", None).is_err());
        assert!(allowed("s3://bucket/key", None).is_err());
        assert!(allowed("not a url", None).is_err());
    }
}
