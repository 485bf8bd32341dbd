//! Calling a function's HTTP endpoint (API Gateway, or the `--url` given
//! instead): one request over the same HTTPS connector as package
//! downloads, bounded by the same timeouts, its answer capped in size.

use std::collections::BTreeMap;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::download::connector;
use super::Timeouts;

/// The largest answer read (API Gateway's payload limit is 10 MB).
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// A request to an endpoint.
#[derive(Clone, Debug, Default)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// With its query string.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What it answered: the status, the headers (names in lower case) and
/// the body.
#[derive(Clone, Debug, Default)]
pub struct HttpAnswer {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// Sends `req`; `Err` says why there is no answer, naming the host only.
pub async fn call(req: &HttpRequest, timeouts: Timeouts) -> Result<HttpAnswer, String> {
    let uri: hyper::Uri = req
        .url
        .parse()
        .map_err(|_| format!("`{}` is not a URL", req.url))?;
    let host = uri.host().unwrap_or_default().to_string();
    let mut builder = hyper::Request::builder()
        .method(req.method.as_str())
        .uri(uri);
    for (k, v) in &req.headers {
        builder = builder.header(k, v);
    }
    let request = builder
        .body(Full::new(Bytes::from(req.body.clone())))
        .map_err(|e| format!("cannot make the request: {e}"))?;
    let client: Client<_, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(connector(timeouts.connect)?);
    let fetch = async {
        let resp = client
            .request(request)
            .await
            .map_err(|e| format!("cannot reach `{host}`: {e}"))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = Limited::new(resp.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| format!("reading the answer of `{host}`: {e}"))?;
        Ok(HttpAnswer {
            status,
            headers,
            body: body.to_bytes().to_vec(),
        })
    };
    tokio::time::timeout(timeouts.total, fetch)
        .await
        .map_err(|_| {
            format!(
                "`{host}` did not answer within {} s (--timeout)",
                timeouts.total.as_secs_f64()
            )
        })?
}
