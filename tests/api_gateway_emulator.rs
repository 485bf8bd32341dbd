//! API Gateway through the `scar` binary against the AWS emulator (moto):
//! a function with `api_gateway.name` gets a regional REST API tagged in
//! its create call, the `{proxy+}` resource with an `ANY` method, the
//! `AWS_PROXY` integration with the `X-Amz-Invocation-Type` header mapped,
//! a deployment to the `scar` stage and the permission for that API to
//! invoke the function; the invoke URL is printed after apply and in the
//! plan's outputs. Then: a no-change re-plan, in-place updates (changes by
//! hand, which `drift` reports as drift), an API change (pending in
//! `drift`; a new deployment in the plan, the stage moved to it after
//! apply), a replacement (a new stage name), and the deletes in order. A
//! foreign REST API of the same name blocks the plan and is never touched.
//!
//! moto cannot invoke a deployed API (server mode routes by the SigV4
//! scope, and it has no AWS_PROXY invocation): the tests named
//! `..._moto_cannot_invoke_...` assert what scar sent instead (the
//! integration URI, the header mapping, the permission's source ARN).
//! The last test runs one scenario over `AwsCloud` on moto and over
//! `MemoryCloud`, and compares the requests each counts.

mod common;
use common::{out, stdout};

use std::collections::BTreeMap;

use aws_sdk_apigateway::types::{Op, PatchOperation};
use scar::cloud::aws::AwsCloud;
use scar::cloud::memory::MemoryCloud;
use scar::cloud::{Cloud, IntegrationSpec, MethodSpec, PatchOp, RestApiSpec, StageState, Tags};
use serde_json::Value;

type Env = common::Scratch;

const FUNCTION: &str = "scar-apigw-f";
const API: &str = "scar-apigw-api";
const REST_API: &str = "api_gateway_rest_api.scar-apigw-api";
const STAGE: &str = "api_gateway_stage.scar-apigw-api";
const PERMISSION: &str = "lambda_permission.scar-apigw-f/scar-apigateway";

fn manifest(api: Option<(&str, &str)>) -> String {
    let mut m = format!(
        "workflow: web\nfunctions:\n  aws:\n  - lambda:\n      name: {FUNCTION}\n      init_script: run.sh\n"
    );
    if let Some((stage, method)) = api {
        m.push_str(&format!(
            "    api_gateway:\n      name: {API}\n      stage_name: {stage}\n      http_method: {method}\n"
        ));
    }
    m
}

/// The one REST API of that name in the account (panics on none or more).
async fn rest_api(
    apigw: &aws_sdk_apigateway::Client,
    name: &str,
) -> aws_sdk_apigateway::types::RestApi {
    let all = apigw.get_rest_apis().send().await.unwrap();
    let found: Vec<_> = all
        .items()
        .iter()
        .filter(|a| a.name() == Some(name))
        .cloned()
        .collect();
    assert_eq!(found.len(), 1, "REST APIs named {name}: {found:?}");
    found[0].clone()
}

/// The `{proxy+}` resource of an API: its id and its methods.
async fn proxy(apigw: &aws_sdk_apigateway::Client, api: &str) -> (String, Vec<String>) {
    let r = apigw.get_resources().rest_api_id(api).send().await.unwrap();
    let p = r
        .items()
        .iter()
        .find(|r| r.path_part() == Some("{proxy+}"))
        .unwrap_or_else(|| panic!("no {{proxy+}} resource: {r:?}"));
    let mut methods: Vec<String> = p
        .resource_methods()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    methods.sort();
    (p.id().unwrap().to_string(), methods)
}

/// The stage names of an API and the deployment each serves.
async fn stages(apigw: &aws_sdk_apigateway::Client, api: &str) -> BTreeMap<String, String> {
    apigw
        .get_stages()
        .rest_api_id(api)
        .send()
        .await
        .unwrap()
        .item()
        .iter()
        .map(|s| {
            (
                s.stage_name().unwrap_or_default().to_string(),
                s.deployment_id().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A JSON plan: its document.
fn json_plan(env: &Env, m: &str) -> Value {
    let o = env.scar(&["plan", "-o", "json", "-f", m]);
    assert!(
        matches!(o.status.code(), Some(0..=2)),
        "plan failed:\n{}",
        out(&o)
    );
    serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", out(&o)))
}

fn change<'a>(doc: &'a Value, address: &str) -> &'a Value {
    doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change of {address} in {doc:#}"))
}

fn attr<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["changed_attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no attribute {name} in {c:#}"))
}

/// A drift report (JSON) and its exit status.
fn drift(env: &Env, m: &str) -> (Option<i32>, Value) {
    let o = env.scar(&["drift", "-o", "json", "-f", m]);
    assert!(matches!(o.status.code(), Some(0 | 2)), "{}", out(&o));
    let doc = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", out(&o)));
    (o.status.code(), doc)
}

fn finding<'a>(doc: &'a Value, address: &str, status: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["address"] == address && f["status"] == status)
        .unwrap_or_else(|| panic!("no {status} finding of {address} in {doc:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_lifecycle_through_the_cli_asserting_what_scar_sent_since_moto_cannot_invoke_the_api() {
    let env = Env::new();
    env.write("run.sh", "#!/bin/sh\necho hello\n");
    let path = env.write("scar.yaml", &manifest(Some(("scar", "ANY"))));
    let m = path.to_str().unwrap();
    let conf = env.sdk().await;
    let apigw = aws_sdk_apigateway::Client::new(&conf);
    let lambda = aws_sdk_lambda::Client::new(&conf);

    // 1. The plan creates the API, its stage and the permission; the invoke
    //    URL is known after apply.
    let doc = json_plan(&env, m);
    for a in [REST_API, STAGE, PERMISSION] {
        assert_eq!(change(&doc, a)["action"], "create", "{a}");
    }
    let output = &doc["outputs"][0];
    assert_eq!(output["address"], STAGE, "{doc:#}");
    assert_eq!(output["name"], "invoke_url");
    assert_eq!(output["after_unknown"], true, "{doc:#}");
    let p = env.expect(2, &["plan", "--detailed-exitcode", "-f", m]);
    common::assert_lines(
        &stdout(&p),
        &[
            "Outputs:",
            "api_gateway_stage.scar-apigw-api.invoke_url = (known after apply)",
        ],
    );

    // 2. Applied: the URL is printed, and the account holds what scar sent.
    let a = env.ok(&["apply", "--auto-approve", "-f", m]);
    let api = rest_api(&apigw, API).await;
    let id = api.id().unwrap().to_string();
    let url = format!("https://{id}.execute-api.us-east-1.amazonaws.com/scar/launch");
    common::assert_lines(
        &stdout(&a),
        &[
            "Outputs:",
            &format!("api_gateway_stage.scar-apigw-api.invoke_url = \"{url}\""),
        ],
    );
    let tags = api.tags().expect("tags given at create");
    assert_eq!(tags.get("scar:workflow").map(String::as_str), Some("web"));
    assert_eq!(tags.get("scar:managed").map(String::as_str), Some("true"));
    let types: Vec<&str> = api
        .endpoint_configuration()
        .unwrap()
        .types()
        .iter()
        .map(|t| t.as_str())
        .collect();
    assert_eq!(types, ["REGIONAL"]);
    let (resource, methods) = proxy(&apigw, &id).await;
    assert_eq!(methods, ["ANY"]);
    let method = apigw
        .get_method()
        .rest_api_id(&id)
        .resource_id(&resource)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    assert_eq!(method.authorization_type(), Some("NONE"));
    assert_eq!(
        method
            .request_parameters()
            .and_then(|p| p.get("method.request.header.X-Amz-Invocation-Type")),
        Some(&false),
        "the invocation-type header is declared, optional"
    );
    let integration = apigw
        .get_integration()
        .rest_api_id(&id)
        .resource_id(&resource)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    assert_eq!(integration.r#type().map(|t| t.as_str()), Some("AWS_PROXY"));
    assert_eq!(integration.http_method(), Some("POST"));
    let function_arn = common::function_arn(&lambda, FUNCTION).await;
    assert_eq!(
        integration.uri(),
        Some(
            format!(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}/invocations"
            )
            .as_str()
        )
    );
    assert_eq!(
        integration
            .request_parameters()
            .and_then(|p| p.get("integration.request.header.X-Amz-Invocation-Type"))
            .map(String::as_str),
        Some("method.request.header.X-Amz-Invocation-Type"),
        "the caller's X-Amz-Invocation-Type reaches Lambda (asynchronous calls)"
    );
    let served = stages(&apigw, &id).await;
    let first_deployment = served.get("scar").cloned().expect("the scar stage");
    assert!(!first_deployment.is_empty());
    let policy = lambda
        .get_policy()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    let policy: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let statement = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "scar-apigateway")
        .unwrap_or_else(|| panic!("no API Gateway statement: {policy:#}"));
    assert_eq!(
        statement["Principal"]["Service"],
        "apigateway.amazonaws.com"
    );
    let source = statement["Condition"]["ArnLike"]["AWS:SourceArn"].clone();
    assert_eq!(
        source,
        Value::String(format!("arn:aws:execute-api:us-east-1:123456789012:{id}/*")),
        "{statement:#}"
    );

    // 3. Planned again: nothing to do, and the URL is shown.
    let p = env.expect(0, &["plan", "--detailed-exitcode", "-f", m]);
    common::assert_lines(
        &stdout(&p),
        &[
            "No changes.",
            &format!("api_gateway_stage.scar-apigw-api.invoke_url = \"{url}\""),
        ],
    );
    let (code, _) = drift(&env, m);
    assert_eq!(code, Some(0));

    // 4. Changed by hand: a stage variable and the API's description. Drift
    //    says so; the plan updates both in place; apply puts them back.
    apigw
        .update_stage()
        .rest_api_id(&id)
        .stage_name("scar")
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/variables/debug")
                .value("on")
                .build(),
        )
        .send()
        .await
        .unwrap();
    apigw
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/description")
                .value("changed by hand")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (code, d) = drift(&env, m);
    assert_eq!(code, Some(2));
    let f = finding(&d, STAGE, "drift");
    let vars = f["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "variables")
        .unwrap_or_else(|| panic!("{f:#}"));
    assert_eq!(vars["after"]["debug"], "on", "{f:#}");
    let f = finding(&d, REST_API, "drift");
    assert!(f.to_string().contains("changed by hand"), "{f:#}");
    let doc = json_plan(&env, m);
    assert_eq!(change(&doc, STAGE)["action"], "update");
    assert_eq!(change(&doc, REST_API)["action"], "update");
    env.ok(&["apply", "--auto-approve", "-f", m]);
    let s = apigw
        .get_stage()
        .rest_api_id(&id)
        .stage_name("scar")
        .send()
        .await
        .unwrap();
    assert!(s.variables().is_none_or(|v| v.is_empty()), "{s:?}");
    assert_eq!(
        rest_api(&apigw, API).await.description(),
        Some("API created automatically with scar")
    );
    assert_eq!(
        stages(&apigw, &id).await["scar"],
        first_deployment,
        "no route changed: no new deployment"
    );
    env.expect(0, &["plan", "--detailed-exitcode", "-f", m]);

    // 5. An API change in the manifests (the method): pending in drift; the
    //    plan shows a new deployment; after apply the stage serves it.
    let path = env.write("scar.yaml", &manifest(Some(("scar", "POST"))));
    let m = path.to_str().unwrap();
    let (code, d) = drift(&env, m);
    assert_eq!(code, Some(2));
    finding(&d, STAGE, "pending");
    let doc = json_plan(&env, m);
    let c = change(&doc, STAGE);
    assert_eq!(c["action"], "update", "{c:#}");
    assert_eq!(attr(c, "http_method")["after"], "POST");
    let dep = attr(c, "deployment_id");
    assert_eq!(
        dep["before"],
        Value::String(first_deployment.clone()),
        "{c:#}"
    );
    assert_eq!(dep["after_unknown"], true, "{c:#}");
    let p = env.expect(2, &["plan", "--detailed-exitcode", "-f", m]);
    let text = stdout(&p);
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("~ deployment_id")
                && l.ends_with(&format!("\"{first_deployment}\" -> (known after apply)"))),
        "the plan shows a new deployment:\n{text}"
    );
    env.ok(&["apply", "--auto-approve", "-f", m]);
    let (_, methods) = proxy(&apigw, &id).await;
    assert_eq!(methods, ["POST"], "the old method is gone");
    let second = stages(&apigw, &id).await["scar"].clone();
    assert_ne!(
        second, first_deployment,
        "the stage points at a new deployment"
    );
    let described = apigw
        .get_deployment()
        .rest_api_id(&id)
        .deployment_id(&second)
        .send()
        .await
        .unwrap();
    let want = attr(c, "deployed_content")["after"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        described.description(),
        Some(format!("scar deployment of content {want}").as_str())
    );
    env.expect(0, &["plan", "--detailed-exitcode", "-f", m]);

    // 6. A new stage name: a stage cannot be renamed, so it is replaced.
    let path = env.write("scar.yaml", &manifest(Some(("prod", "POST"))));
    let m = path.to_str().unwrap();
    let doc = json_plan(&env, m);
    let c = change(&doc, STAGE);
    assert_eq!(c["action"], "replace", "{c:#}");
    assert_eq!(attr(c, "stage_name")["forces_replacement"], true);
    assert!(
        c["action_reason"].as_str().unwrap().contains("stage_name"),
        "{c:#}"
    );
    let a = env.ok(&["apply", "--auto-approve", "-f", m]);
    common::assert_lines(
        &stdout(&a),
        &[&format!(
            "api_gateway_stage.scar-apigw-api.invoke_url = \"https://{id}.execute-api.us-east-1.amazonaws.com/prod/launch\""
        )],
    );
    let names: Vec<String> = stages(&apigw, &id).await.into_keys().collect();
    assert_eq!(names, ["prod"]);
    env.expect(0, &["plan", "--detailed-exitcode", "-f", m]);

    // 7. The API deleted by hand: drift says so; the plan makes it again,
    //    with its stage, and replaces the permission, whose source ARN
    //    names the new API's id (known after apply).
    apigw
        .delete_rest_api()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap();
    let (code, d) = drift(&env, m);
    assert_eq!(code, Some(2));
    assert_eq!(finding(&d, REST_API, "drift")["change"], "deleted", "{d:#}");
    let doc = json_plan(&env, m);
    assert_eq!(change(&doc, REST_API)["action"], "create");
    assert_eq!(change(&doc, STAGE)["action"], "create");
    let c = change(&doc, PERMISSION);
    assert_eq!(c["action"], "replace", "{c:#}");
    let source = attr(c, "source_arn");
    assert_eq!(source["forces_replacement"], true, "{c:#}");
    assert_eq!(source["after_unknown"], true, "{c:#}");
    assert!(
        c["action_reason"].as_str().unwrap().contains("source_arn"),
        "{c:#}"
    );
    env.ok(&["apply", "--auto-approve", "-f", m]);
    let id = rest_api(&apigw, API).await.id().unwrap().to_string();
    let policy = lambda
        .get_policy()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    assert!(
        policy.policy().unwrap().contains(&format!(
            "arn:aws:execute-api:us-east-1:123456789012:{id}/*"
        )),
        "{policy:?}"
    );
    env.expect(0, &["plan", "--detailed-exitcode", "-f", m]);

    // 8. The API removed from the manifests: the permission goes first,
    //    then the API (its stage with it); the function stays.
    let path = env.write("scar.yaml", &manifest(None));
    let m = path.to_str().unwrap();
    let doc = json_plan(&env, m);
    assert_eq!(change(&doc, PERMISSION)["action"], "delete");
    let c = change(&doc, REST_API);
    assert_eq!(c["action"], "delete");
    assert_eq!(c["depends_on"], serde_json::json!([PERMISSION]), "{c:#}");
    assert!(
        !doc["resource_changes"].to_string().contains(STAGE),
        "the stage goes with its API: {doc:#}"
    );
    env.ok(&["apply", "--auto-approve", "-f", m]);
    let left = apigw.get_rest_apis().send().await.unwrap();
    assert!(
        left.items().iter().all(|a| a.name() != Some(API)),
        "{left:?}"
    );
    let policy = lambda.get_policy().function_name(FUNCTION).send().await;
    let text = policy
        .ok()
        .and_then(|p| p.policy().map(str::to_string))
        .unwrap_or_default();
    assert!(!text.contains("scar-apigateway"), "{text}");
    assert!(common::function_exists(&lambda, FUNCTION).await);
    env.expect(0, &["plan", "--detailed-exitcode", "-f", m]);

    // 9. Back, then destroyed with the workflow: nothing of it is left.
    let path = env.write("scar.yaml", &manifest(Some(("scar", "ANY"))));
    let m = path.to_str().unwrap();
    env.ok(&["apply", "--auto-approve", "-f", m]);
    rest_api(&apigw, API).await;
    env.ok(&["destroy", "--auto-approve", "-f", m]);
    let left = apigw.get_rest_apis().send().await.unwrap();
    assert!(
        left.items().iter().all(|a| a.name() != Some(API)),
        "{left:?}"
    );
    assert!(!common::function_exists(&lambda, FUNCTION).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_rest_api_of_the_same_name_blocks_the_plan_and_is_never_touched() {
    let env = Env::new();
    env.write("run.sh", "#!/bin/sh\necho hello\n");
    let path = env.write("scar.yaml", &manifest(Some(("scar", "ANY"))));
    let m = path.to_str().unwrap();
    let conf = env.sdk().await;
    let apigw = aws_sdk_apigateway::Client::new(&conf);
    let theirs = apigw
        .create_rest_api()
        .name(API)
        .description("someone else's")
        .tags("team", "web")
        .send()
        .await
        .unwrap();
    let id = theirs.id().unwrap().to_string();

    let doc = json_plan(&env, m);
    let c = change(&doc, REST_API);
    assert_eq!(c["action"], "blocked", "{c:#}");
    let reason = c["action_reason"].as_str().unwrap();
    assert!(
        reason.contains("scar does not manage") && reason.contains("api_gateway.name"),
        "{reason}"
    );
    let a = env.expect(1, &["apply", "--auto-approve", "-f", m]);
    assert!(out(&a).contains("blocked"), "{}", out(&a));

    // Untouched: the same one API, its description, no resource but `/`,
    // no stage; nothing else of the workflow was created.
    let api = rest_api(&apigw, API).await;
    assert_eq!(api.id(), Some(id.as_str()));
    assert_eq!(api.description(), Some("someone else's"));
    let resources = apigw.get_resources().rest_api_id(&id).send().await.unwrap();
    let paths: Vec<&str> = resources.items().iter().filter_map(|r| r.path()).collect();
    assert_eq!(paths, ["/"]);
    assert!(stages(&apigw, &id).await.is_empty());
    let lambda = aws_sdk_lambda::Client::new(&conf);
    assert!(!common::function_exists(&lambda, FUNCTION).await);
}

/// One pass over the API Gateway trait: every call scar makes, with the
/// answers checked; the same on both clouds.
async fn api_gateway_calls<C: Cloud>(c: &C) {
    let tags: Tags = [("scar:workflow", "c"), ("scar:managed", "true")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let api = c
        .create_rest_api(&RestApiSpec {
            name: "scar-contract-api".into(),
            description: "d".into(),
            endpoint_type: "REGIONAL".into(),
            tags: tags.clone(),
        })
        .await
        .unwrap();
    let listed = c.list_rest_apis().await.unwrap();
    let found = listed.iter().find(|a| a.id == api.id).expect("listed");
    assert_eq!(found.tags, tags);
    assert_eq!(found.endpoint_types, ["REGIONAL"]);
    c.update_rest_api(&api.id, &[PatchOp::replace("/description", "e")])
        .await
        .unwrap();
    let root = c.get_resources(&api.id).await.unwrap();
    assert_eq!(root.len(), 1);
    let proxy = c
        .create_resource(&api.id, &root[0].id, "{proxy+}")
        .await
        .unwrap();
    assert_eq!(proxy.path, "/{proxy+}");
    assert_eq!(c.get_method(&api.id, &proxy.id, "ANY").await.unwrap(), None);
    let method = MethodSpec {
        http_method: "ANY".into(),
        authorization: "NONE".into(),
        request_parameters: BTreeMap::from([(
            "method.request.header.X-Amz-Invocation-Type".into(),
            false,
        )]),
    };
    c.put_method(&api.id, &proxy.id, &method).await.unwrap();
    let integration = IntegrationSpec {
        integration_type: "AWS_PROXY".into(),
        http_method: "POST".into(),
        uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations".into(),
        request_parameters: BTreeMap::from([(
            "integration.request.header.X-Amz-Invocation-Type".into(),
            "method.request.header.X-Amz-Invocation-Type".into(),
        )]),
    };
    c.put_integration(&api.id, &proxy.id, "ANY", &integration)
        .await
        .unwrap();
    assert_eq!(
        c.get_method(&api.id, &proxy.id, "ANY").await.unwrap(),
        Some(method)
    );
    assert_eq!(
        c.get_integration(&api.id, &proxy.id, "ANY").await.unwrap(),
        Some(integration)
    );
    let listed = c.get_resources(&api.id).await.unwrap();
    assert_eq!(
        listed.iter().find(|r| r.id == proxy.id).unwrap().methods,
        ["ANY"]
    );
    let d1 = c.create_deployment(&api.id, "one").await.unwrap();
    assert_eq!(
        c.get_deployment(&api.id, &d1).await.unwrap().as_deref(),
        Some("one")
    );
    c.create_stage(
        &api.id,
        &StageState {
            name: "scar".into(),
            deployment_id: Some(d1.clone()),
            variables: BTreeMap::new(),
            tags: tags.clone(),
        },
    )
    .await
    .unwrap();
    let d2 = c.create_deployment(&api.id, "two").await.unwrap();
    c.update_stage(
        &api.id,
        "scar",
        &[
            PatchOp::replace("/deploymentId", &d2),
            PatchOp::replace("/variables/k", "v"),
        ],
    )
    .await
    .unwrap();
    let applied: Tags = [("scar:applied", "v1/1")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    c.tag_stage(&api.id, "scar", &applied).await.unwrap();
    let stages = c.get_stages(&api.id).await.unwrap();
    assert_eq!(stages.len(), 1);
    assert_eq!(stages[0].deployment_id.as_deref(), Some(d2.as_str()));
    assert_eq!(stages[0].variables.get("k").map(String::as_str), Some("v"));
    assert_eq!(
        stages[0].tags.get("scar:applied").map(String::as_str),
        Some("v1/1")
    );
    assert_eq!(
        stages[0].tags.get("scar:workflow").map(String::as_str),
        Some("c")
    );
    assert!(c.delete_method(&api.id, &proxy.id, "ANY").await.unwrap());
    assert!(c.delete_resource(&api.id, &proxy.id).await.unwrap());
    assert!(c.delete_stage(&api.id, "scar").await.unwrap());
    assert!(c.delete_rest_api(&api.id).await.unwrap());
    let left = c.list_rest_apis().await.unwrap();
    assert!(left.iter().all(|a| a.id != api.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_cloud_answers_and_counts_api_gateway_calls_as_aws_cloud_on_moto() {
    let moto = testkit::Moto::start();
    let conf = common::sdk(&moto).await;
    let aws = AwsCloud::new(&conf).await.expect("AwsCloud on moto");
    aws.requests().reset();
    api_gateway_calls(&aws).await;
    let memory = MemoryCloud::new();
    api_gateway_calls(&memory).await;
    assert_eq!(
        memory.requests().snapshot(),
        aws.requests().snapshot(),
        "MemoryCloud and AwsCloud count different requests"
    );
}
