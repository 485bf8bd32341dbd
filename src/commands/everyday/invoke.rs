//! `scar invoke` (through the function's API Gateway endpoint, or
//! directly through Lambda with the event API Gateway would send) and
//! `scar run` (a script, command arguments, or one S3 event per object of
//! the function's input). Both read the supervisor's answer — an
//! API-Gateway-shaped object with a base64 body — and print the body
//! decoded on stdout, the status and ids on stderr.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::SystemTime;

use base64::Engine as _;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{json, Value};

use super::{deployed, target, FunctionTarget, Meter, S3Location};
use crate::cli::{AnswerArgs, InvokeArgs, Output, RequestArgs, RunArgs};
use crate::cloud::aws::endpoint::{HttpAnswer, HttpRequest};
use crate::cloud::data::{DataPlane, Invocation, InvocationType, InvokeApi};
use crate::cloud::Cloud;
use crate::commands::{connect, ExitStatus};
use crate::settings::Settings;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The body and query of a request, as `scar invoke` sends it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// `None`: a GET without a body.
    pub body: Option<String>,
    pub content_type: Option<&'static str>,
    pub query: BTreeMap<String, String>,
}

impl Request {
    /// From the flags: `--data`/`--data-file` base64-encoded (SCAR's
    /// `-db`), `--json` as it is once checked (SCAR's `-jd`).
    pub fn from_args(args: &RequestArgs) -> anyhow::Result<Request> {
        let mut query = BTreeMap::new();
        for p in &args.params {
            let Some((k, v)) = p.split_once('=') else {
                anyhow::bail!("`--param {p}` has no `=`\nhint: write it as --param NAME=VALUE");
            };
            if k.is_empty() {
                anyhow::bail!("`--param {p}` has no name\nhint: write it as --param NAME=VALUE");
            }
            query.insert(k.to_string(), v.to_string());
        }
        let (body, content_type) = if let Some(text) = &args.data {
            (Some(b64().encode(text)), Some("application/octet-stream"))
        } else if let Some(path) = &args.data_file {
            let bytes = if path.as_os_str() == "-" {
                let mut buf = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut buf)
                    .map_err(|e| anyhow::anyhow!("cannot read stdin: {e}"))?;
                buf
            } else {
                std::fs::read(path).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot read `{}`: {e}\nhint: `--data-file -` reads stdin",
                        path.display()
                    )
                })?
            };
            (Some(b64().encode(bytes)), Some("application/octet-stream"))
        } else if let Some(text) = &args.json {
            if let Err(e) = serde_json::from_str::<Value>(text) {
                anyhow::bail!("`--json` is not JSON: {e}\nhint: quote it for the shell: --json '{{\"key\": \"value\"}}'");
            }
            (Some(text.clone()), Some("application/json"))
        } else {
            (None, None)
        };
        Ok(Request {
            body,
            content_type,
            query,
        })
    }

    fn method(&self) -> &'static str {
        if self.body.is_some() {
            "POST"
        } else {
            "GET"
        }
    }

    /// The event API Gateway's proxy integration sends for this request.
    pub fn api_event(&self, path: &str, stage: &str, asynchronous: bool) -> Value {
        let mut headers = serde_json::Map::new();
        if let Some(ct) = self.content_type {
            headers.insert("Content-Type".into(), ct.into());
        }
        if asynchronous {
            headers.insert("X-Amz-Invocation-Type".into(), "Event".into());
        }
        json!({
            "resource": path,
            "path": path,
            "httpMethod": self.method(),
            "headers": headers,
            "queryStringParameters": if self.query.is_empty() { Value::Null } else { json!(self.query) },
            "body": self.body,
            "isBase64Encoded": false,
            "requestContext": {"stage": stage, "httpMethod": self.method(), "path": format!("/{stage}{path}")},
        })
    }
}

/// What the function answered, decoded.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Answer {
    pub function: String,
    /// The supervisor's `statusCode` (else Lambda's or the endpoint's).
    pub status: i64,
    /// Queued, not waited for (`--async`).
    pub queued: bool,
    pub request_id: Option<String>,
    pub log_group: Option<String>,
    pub log_stream: Option<String>,
    /// Lambda's `FunctionError` (`Unhandled`), when the function failed.
    pub function_error: Option<String>,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub log_tail: Option<String>,
}

/// The body of a supervisor-shaped answer: base64-decoded when it says so
/// (or, from an endpoint, whenever it decodes: API Gateway hands the
/// base64 text on as it is).
fn body_of(text: &str, base64: bool) -> Vec<u8> {
    if base64 {
        if let Ok(b) = b64().decode(text.trim()) {
            return b;
        }
    }
    text.as_bytes().to_vec()
}

impl Answer {
    /// From Lambda's answer to Invoke.
    pub fn from_lambda(function: &str, inv: Invocation) -> Answer {
        let mut a = Answer {
            function: function.to_string(),
            status: i64::from(inv.status),
            queued: inv.status == 202,
            request_id: inv.request_id,
            function_error: inv.function_error,
            log_tail: inv.log_tail,
            body: inv.payload.clone(),
            ..Answer::default()
        };
        if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(&inv.payload) {
            if let Some(code) = o.get("statusCode").and_then(Value::as_i64) {
                a.status = code;
                let base64 = o.get("isBase64Encoded").and_then(Value::as_bool) == Some(true);
                a.body = match o.get("body") {
                    Some(Value::String(s)) => body_of(s, base64),
                    Some(Value::Null) | None => Vec::new(),
                    Some(other) => other.to_string().into_bytes(),
                };
                if let Some(Value::Object(h)) = o.get("headers") {
                    let get = |k: &str| h.get(k).and_then(Value::as_str).map(str::to_string);
                    a.request_id = get("amz-lambda-request-id").or(a.request_id);
                    a.log_group = get("amz-log-group-name");
                    a.log_stream = get("amz-log-stream-name");
                }
            }
        }
        a
    }

    /// From an endpoint's answer.
    pub fn from_http(function: &str, ans: HttpAnswer, asynchronous: bool) -> Answer {
        let text = String::from_utf8_lossy(&ans.body).into_owned();
        Answer {
            function: function.to_string(),
            status: i64::from(ans.status),
            // API Gateway answers an asynchronous proxy call with 502 (no
            // proxy response to read), as SCAR notes; 202 elsewhere.
            queued: asynchronous && matches!(ans.status, 202 | 502),
            request_id: ans.headers.get("amz-lambda-request-id").cloned(),
            log_group: ans.headers.get("amz-log-group-name").cloned(),
            log_stream: ans.headers.get("amz-log-stream-name").cloned(),
            function_error: None,
            body: body_of(&text, true),
            log_tail: None,
        }
    }

    fn failed(&self) -> bool {
        !self.queued && (self.function_error.is_some() || self.status >= 400)
    }
}

/// Prints an answer as `-o` says; the exit status: 1 when the function
/// failed.
pub fn show(answer: &Answer, how: &AnswerArgs) -> anyhow::Result<ExitStatus> {
    let status = if answer.failed() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    };
    if answer.queued {
        eprintln!(
            "Invocation of `{}` queued{}.",
            answer.function,
            answer
                .request_id
                .as_ref()
                .map(|r| format!(" (request id {r})"))
                .unwrap_or_default()
        );
    }
    match &how.output {
        Output::Json => {
            let mut v = serde_json::to_value(answer)?;
            match std::str::from_utf8(&answer.body) {
                Ok(s) => v["body"] = json!(s),
                Err(_) => v["body_base64"] = json!(b64().encode(&answer.body)),
            }
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(status);
        }
        Output::Text | Output::File(_) => {}
    }
    if !answer.queued {
        eprintln!("Status: {}", answer.status);
    }
    for (label, v) in [
        ("Request Id", &answer.request_id),
        ("Log Group Name", &answer.log_group),
        ("Log Stream Name", &answer.log_stream),
    ] {
        if let Some(v) = v {
            eprintln!("{label}: {v}");
        }
    }
    if let Some(e) = &answer.function_error {
        eprintln!(
            "error: the function failed ({e}){}",
            timed_out_note(&answer.body)
        );
    }
    if let Some(tail) = &answer.log_tail {
        eprintln!("--- log tail\n{}", tail.trim_end());
    }
    match &how.output {
        Output::File(path) => {
            std::fs::write(path, &answer.body)
                .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))?;
            eprintln!(
                "Saved the body ({} bytes) to {}",
                answer.body.len(),
                path.display()
            );
        }
        _ if !answer.queued || !answer.body.is_empty() => {
            let mut out = std::io::stdout().lock();
            out.write_all(&answer.body)?;
            if !answer.body.ends_with(b"\n") && !answer.body.is_empty() {
                out.write_all(b"\n")?;
            }
        }
        _ => {}
    }
    Ok(status)
}

/// Lambda's "Task timed out" said plainly.
fn timed_out_note(body: &[u8]) -> &'static str {
    if String::from_utf8_lossy(body).contains("Task timed out") {
        ": it ran out of time; raise `lambda.timeout` or make the script faster"
    } else {
        ""
    }
}

pub async fn invoke(settings: &Settings, args: &InvokeArgs) -> anyhow::Result<ExitStatus> {
    let t = target(&args.manifests, &args.function)?;
    let request = Request::from_args(&args.request)?;
    let cloud = connect(settings).await?;
    deployed(&cloud, &t).await?;
    let (path, stage) = route(&t);
    let answer = if args.direct {
        let event = request.api_event(&path, stage.as_deref().unwrap_or("scar"), false);
        through_lambda(&cloud, &t, &event, &args.answer).await?
    } else {
        let base = match &args.url {
            Some(u) => u.clone(),
            None => {
                let url = endpoint_url(&cloud, &t, &path, stage.as_deref()).await?;
                if cloud.endpoint_override().is_some() {
                    anyhow::bail!(
                        "the endpoint of `{}` is {url}, and scar talks to AWS through a configured endpoint (AWS_ENDPOINT_URL: an emulator, a proxy): it calls no other host\nhint: pass the address that serves the stage with --url, or invoke with --direct",
                        t.name
                    );
                }
                url
            }
        };
        let mut url = base.clone();
        if !request.query.is_empty() {
            let q: Vec<String> = request
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", query_encode(k), query_encode(v)))
                .collect();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&q.join("&"));
        }
        let mut headers = Vec::new();
        if let Some(ct) = request.content_type {
            headers.push(("content-type".to_string(), ct.to_string()));
        }
        if args.answer.asynchronous {
            headers.push(("x-amz-invocation-type".to_string(), "Event".to_string()));
        }
        let req = HttpRequest {
            method: request.method().to_string(),
            url,
            headers,
            body: request.body.clone().unwrap_or_default().into_bytes(),
        };
        let ans = crate::cloud::aws::endpoint::call(&req, settings.connection.timeouts)
            .await
            .map_err(|e| anyhow::anyhow!("calling `{}` failed: {e}", t.name))?;
        let mut answer = Answer::from_http(&t.name, ans, args.answer.asynchronous);
        if args.answer.log_tail && !answer.queued {
            answer.log_tail = super::logs::tail_of(&cloud, &answer).await;
        }
        answer
    };
    show(&answer, &args.answer)
}

fn kind(asynchronous: bool) -> InvocationType {
    if asynchronous {
        InvocationType::Event
    } else {
        InvocationType::RequestResponse
    }
}

/// The function's resource path and, from the manifests, its stage.
fn route(t: &FunctionTarget) -> (String, Option<String>) {
    // SCAR's endpoints serve `{proxy+}`: any path, `launch` by custom.
    let api = t.def.as_ref().and_then(|d| d.spec.api_gateway.as_ref());
    let path = api
        .map(|a| a.path_part.trim_matches('/').to_string())
        .filter(|p| !p.contains('{') && !p.is_empty())
        .unwrap_or_else(|| "launch".to_string());
    (format!("/{path}"), t.api_stage().map(str::to_string))
}

/// `a b` → `a%20b`, for a query string.
fn query_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The function's API Gateway URL: its REST API from the permission scar
/// gave API Gateway on it (`scar-apigateway`), its stage from the
/// manifests or the API's stages.
async fn endpoint_url<C: Cloud>(
    cloud: &C,
    t: &FunctionTarget,
    path: &str,
    stage: Option<&str>,
) -> anyhow::Result<String> {
    let policy = cloud.get_policy(&t.name).await?;
    let api_id = policy
        .iter()
        .filter(|s| s.principal == "apigateway.amazonaws.com")
        .filter_map(|s| s.source_arn.as_deref())
        .find_map(api_id_of)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "function `{}` has no API Gateway endpoint\nhint: give it `api_gateway.name` in its manifest and `scar apply`, or invoke it with --direct",
                t.name
            )
        })?;
    let stage = match stage {
        Some(s) => s.to_string(),
        None => {
            let stages = crate::cloud::ApiGatewayApi::get_stages(cloud, &api_id).await?;
            let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
            match names.iter().find(|n| **n == "scar").or(names.first()) {
                Some(n) => n.to_string(),
                None => anyhow::bail!(
                    "the REST API {api_id} of function `{}` has no stage\nhint: `scar apply` deploys it",
                    t.name
                ),
            }
        }
    };
    Ok(format!(
        "https://{api_id}.execute-api.{}.amazonaws.com/{stage}{path}",
        cloud.region()
    ))
}

/// The REST API id of an `execute-api` ARN
/// (`arn:aws:execute-api:REGION:ACCOUNT:ID/...`).
fn api_id_of(arn: &str) -> Option<String> {
    let rest = arn.split(':').nth(5)?;
    let id = rest.split('/').next()?;
    (!id.is_empty() && arn.contains(":execute-api:")).then(|| id.to_string())
}

pub async fn run(settings: &Settings, args: &RunArgs) -> anyhow::Result<ExitStatus> {
    let t = target(&args.manifests, &args.function)?;
    if args.all_inputs {
        let Some(input) = t.input() else {
            let why = if t.def.is_some() {
                format!("has no S3 input in {}", t.origin())
            } else {
                "has its input in its manifest, and none was read".to_string()
            };
            anyhow::bail!(
                "function `{}` {why}\nhint: pass its manifest with -f; a function without an S3 input runs with --script FILE or -- COMMAND"
            , t.name);
        };
        let cloud = connect(settings).await?;
        deployed(&cloud, &t).await?;
        return all_inputs(settings, &cloud, &t, &input, args).await;
    }
    let payload = if !args.args.is_empty() {
        json!({"cmd_args": serde_json::to_string(&args.args)?})
    } else if let Some(path) = &args.script {
        let script = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read the script `{}`: {e}", path.display()))?;
        json!({"script": b64().encode(script)})
    } else {
        json!({})
    };
    let cloud = connect(settings).await?;
    deployed(&cloud, &t).await?;
    let answer = through_lambda(&cloud, &t, &payload, &args.answer).await?;
    show(&answer, &args.answer)
}

/// Invokes the function through Lambda with `payload`, as `how` asks.
async fn through_lambda<C: InvokeApi>(
    cloud: &C,
    t: &FunctionTarget,
    payload: &Value,
    how: &AnswerArgs,
) -> anyhow::Result<Answer> {
    let inv = cloud
        .invoke(
            &t.name,
            payload.to_string().as_bytes(),
            kind(how.asynchronous),
            how.log_tail,
        )
        .await?;
    Ok(Answer::from_lambda(&t.name, inv))
}

/// One outcome of `run --all-inputs`.
#[derive(Serialize)]
struct Launched {
    key: String,
    status: Option<i32>,
    request_id: Option<String>,
    error: Option<String>,
}

async fn all_inputs<C: DataPlane>(
    settings: &Settings,
    cloud: &C,
    t: &FunctionTarget,
    input: &S3Location,
    args: &RunArgs,
) -> anyhow::Result<ExitStatus> {
    let objects = cloud
        .list_objects(&input.bucket, &input.list_prefix())
        .await?;
    if objects.is_empty() {
        eprintln!("note: nothing under {input}: no invocation");
    }
    let partition = crate::cloud::aws::partition(cloud.region());
    let prefix = input.list_prefix();
    let config_id = crate::resources::notification_id(
        t.workflow.as_deref().unwrap_or_default(),
        &t.name,
        &prefix,
    );
    let origin = super::s3_event::Origin {
        region: cloud.region(),
        account_id: cloud.account_id(),
        partition,
        bucket: &input.bucket,
        configuration_id: &config_id,
    };
    let now = SystemTime::now();
    let meter = Meter::new(settings, objects.len() as u64, false, "invoking");
    let results: Vec<Launched> = futures_util::stream::iter(objects.iter())
        .map(|o| {
            let event = super::s3_event::object_created(&origin, o, now);
            let meter = &meter;
            async move {
                // Each object's event queued (Event), as S3 invokes a
                // trigger.
                let r = cloud
                    .invoke(
                        &t.name,
                        event.to_string().as_bytes(),
                        InvocationType::Event,
                        false,
                    )
                    .await;
                meter.add(1);
                match r {
                    Ok(inv) => {
                        let failed = inv.function_error.clone();
                        Launched {
                            key: o.key.clone(),
                            status: Some(inv.status),
                            request_id: inv.request_id,
                            error: failed.map(|e| format!("the function failed ({e})")),
                        }
                    }
                    Err(e) => Launched {
                        key: o.key.clone(),
                        status: None,
                        request_id: None,
                        error: Some(e.chain_text()),
                    },
                }
            }
        })
        .buffer_unordered(usize::from(args.parallelism))
        .collect()
        .await;
    drop(meter);
    let mut results = results;
    results.sort_by(|a, b| a.key.cmp(&b.key));
    let failed = results.iter().filter(|r| r.error.is_some()).count();
    match args.answer.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&results)?),
        _ => {
            for r in &results {
                match (&r.error, r.status) {
                    (Some(e), _) => println!("failed  s3://{}/{}: {e}", input.bucket, r.key),
                    (None, s) => println!(
                        "{}  s3://{}/{}{}",
                        if s == Some(202) { "queued" } else { "done  " },
                        input.bucket,
                        r.key,
                        r.request_id
                            .as_ref()
                            .map(|id| format!(" (request id {id})"))
                            .unwrap_or_default()
                    ),
                }
            }
        }
    }
    eprintln!(
        "{} invocation{} of `{}`: {} queued, {failed} failed.",
        results.len(),
        if results.len() == 1 { "" } else { "s" },
        t.name,
        results.len() - failed,
    );
    Ok(if failed > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_supervisor_answer_is_decoded() {
        let payload = json!({
            "statusCode": 200,
            "headers": {"amz-lambda-request-id": "r1", "amz-log-group-name": "/aws/lambda/f", "amz-log-stream-name": "s"},
            "body": b64().encode("hello\n"),
            "isBase64Encoded": true,
        });
        let a = Answer::from_lambda(
            "f",
            Invocation {
                status: 200,
                function_error: None,
                payload: payload.to_string().into_bytes(),
                log_tail: None,
                request_id: Some("lambda-id".into()),
            },
        );
        assert_eq!(a.body, b"hello\n");
        assert_eq!(a.request_id.as_deref(), Some("r1"));
        assert_eq!(a.log_stream.as_deref(), Some("s"));
        assert!(!a.failed());
    }

    #[test]
    fn other_answers_are_shown_as_they_came_and_errors_fail() {
        let a = Answer::from_lambda(
            "f",
            Invocation {
                status: 200,
                function_error: Some("Unhandled".into()),
                payload: br#"{"errorMessage":"Task timed out after 3.00 seconds"}"#.to_vec(),
                log_tail: None,
                request_id: None,
            },
        );
        assert!(a.failed());
        assert!(timed_out_note(&a.body).contains("out of time"));
    }

    #[test]
    fn requests_are_made_as_scar_makes_them() {
        let args = RequestArgs {
            data: Some("a b".into()),
            data_file: None,
            json: None,
            params: vec!["k=v=w".into()],
        };
        let r = Request::from_args(&args).unwrap();
        assert_eq!(r.body.as_deref(), Some(b64().encode("a b").as_str()));
        assert_eq!(r.query["k"], "v=w");
        let ev = r.api_event("/launch", "scar", false);
        assert_eq!(ev["httpMethod"], "POST");
        assert_eq!(ev["queryStringParameters"]["k"], "v=w");
        let bad = RequestArgs {
            params: vec!["novalue".into()],
            ..args
        };
        assert!(Request::from_args(&bad).is_err());
        assert_eq!(
            api_id_of("arn:aws:execute-api:us-east-1:123:abc123/*").as_deref(),
            Some("abc123")
        );
        assert_eq!(api_id_of("arn:aws:s3:::bucket"), None);
    }
}
