//! The Lambda Runtime API for one invocation, served by scar on
//! 127.0.0.1 (what AWS's runtime interface emulator does for
//! `docker run`): the first `GET …/invocation/next` gets the event, with
//! the request id, deadline, function ARN and trace headers Lambda sends;
//! the runtime's `…/response`, `…/error` or `…/init/error` is recorded as
//! the [`Outcome`]. A later `next` waits forever, as a frozen Lambda
//! sandbox does, until the runner stops the runtime.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use tokio::sync::watch;

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION: &str = "/2018-06-01/runtime/invocation/";
const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";

/// The one invocation to hand out.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub request_id: String,
    pub function_arn: String,
    pub event: Vec<u8>,
    /// The function's timeout: the deadline is this long after the event
    /// is handed out.
    pub timeout: Duration,
}

/// How the invocation ended, as the runtime reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `POST …/{id}/response`: the function's answer.
    Response(Vec<u8>),
    /// `POST …/{id}/error`: the function failed (its error document).
    Error { kind: Option<String>, body: Vec<u8> },
    /// `POST …/init/error`: the runtime could not start.
    InitError { kind: Option<String>, body: Vec<u8> },
}

struct State {
    invocation: Invocation,
    handed_out: Mutex<Option<SystemTime>>,
    outcome: watch::Sender<Option<Outcome>>,
}

/// A running Runtime API; stops serving when dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<State>,
    outcome: watch::Receiver<Option<Outcome>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A request id shaped like Lambda's (a random UUID v4).
pub fn request_id() -> String {
    let mut b = [0u8; 16];
    // No randomness is a failure of the system, not of the input; a fixed
    // id still makes a valid (if unremarkable) invocation.
    let _ = getrandom::fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::hash::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

impl RuntimeApi {
    /// Serves `invocation` on a free port of 127.0.0.1.
    pub async fn start(invocation: Invocation) -> std::io::Result<RuntimeApi> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = watch::channel(None);
        let state = Arc::new(State {
            invocation,
            handed_out: Mutex::new(None),
            outcome: tx,
        });
        let shared = state.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(req, &state).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(RuntimeApi {
            addr,
            state,
            outcome: rx,
            server,
        })
    }

    /// `127.0.0.1:<port>`: the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// When the event was handed out, if it was.
    pub fn handed_out(&self) -> Option<SystemTime> {
        *self
            .state
            .handed_out
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for the runtime's report.
    pub async fn outcome(&mut self) -> Outcome {
        loop {
            if let Some(o) = self.outcome.borrow_and_update().clone() {
                return o;
            }
            if self.outcome.changed().await.is_err() {
                // The sender lives in `state`, which `self` holds.
                std::future::pending::<()>().await;
            }
        }
    }
}

fn reply(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn error_kind(req: &Request<hyper::body::Incoming>) -> Option<String> {
    req.headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn handle(req: Request<hyper::body::Incoming>, state: &State) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let inv = &state.invocation;
    if req.method() == hyper::Method::GET && path == NEXT {
        let first = {
            let mut at = state.handed_out.lock().unwrap_or_else(|p| p.into_inner());
            match *at {
                Some(_) => false,
                None => {
                    *at = Some(SystemTime::now());
                    true
                }
            }
        };
        if !first {
            // One invocation only: the sandbox is frozen until stopped.
            std::future::pending::<()>().await;
        }
        let deadline = (SystemTime::now() + inv.timeout)
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let trace = format!(
            "Root=1-{epoch:08x}-{};Parent={};Sampled=0",
            &inv.request_id.replace('-', "")[..24],
            &inv.request_id.replace('-', "")[..16]
        );
        let mut r = Response::new(Full::new(Bytes::from(inv.event.clone())));
        let h = r.headers_mut();
        let mut set = |k: &'static str, v: String| {
            if let Ok(v) = hyper::header::HeaderValue::from_str(&v) {
                h.insert(k, v);
            }
        };
        set("content-type", "application/json".into());
        set("lambda-runtime-aws-request-id", inv.request_id.clone());
        set("lambda-runtime-deadline-ms", deadline.to_string());
        set(
            "lambda-runtime-invoked-function-arn",
            inv.function_arn.clone(),
        );
        set("lambda-runtime-trace-id", trace);
        return r;
    }
    if req.method() != hyper::Method::POST {
        return reply(StatusCode::NOT_FOUND, r#"{"errorType":"NotFound"}"#);
    }
    let kind = error_kind(&req);
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return reply(StatusCode::BAD_REQUEST, r#"{"errorType":"BadRequest"}"#),
    };
    let outcome = if path == INIT_ERROR {
        Outcome::InitError { kind, body }
    } else if let Some(rest) = path.strip_prefix(INVOCATION) {
        match rest.split_once('/') {
            Some((id, "response")) if id == inv.request_id => Outcome::Response(body),
            Some((id, "error")) if id == inv.request_id => Outcome::Error { kind, body },
            Some((_, "response" | "error")) => {
                return reply(
                    StatusCode::BAD_REQUEST,
                    r#"{"errorType":"InvalidRequestID","errorMessage":"no such invocation"}"#,
                )
            }
            _ => return reply(StatusCode::NOT_FOUND, r#"{"errorType":"NotFound"}"#),
        }
    } else {
        return reply(StatusCode::NOT_FOUND, r#"{"errorType":"NotFound"}"#);
    };
    state.outcome.send_if_modified(|slot| {
        if slot.is_some() {
            return false; // the first report stands, as in Lambda
        }
        *slot = Some(outcome);
        true
    });
    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_v4_shaped_and_differ() {
        let a = request_id();
        let b = request_id();
        assert_ne!(a, b);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'), "{a}");
    }
}
