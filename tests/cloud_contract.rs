//! Contract tests of the cloud traits: one set of scenarios, written over
//! `C: Cloud`, run against `MemoryCloud` and against `AwsCloud` on the AWS
//! emulator (moto, started per test on a free loopback port). The moto run
//! also checks that `MemoryCloud` counts the same AWS requests as
//! `AwsCloud` sends. Tests named `*_moto_gap` run on `MemoryCloud` only:
//! moto does not do what they check (see shared/reference/moto-emulator.md).

mod common;

use std::collections::BTreeMap;

use scar::cloud::aws::{AwsCloud, RequestCounter, Timeouts};
use scar::cloud::memory::{code_sha256, MemoryCloud};
use scar::cloud::{
    Cloud, CloudResult, Code, CodeArtifact, EcrApi, ErrorKind, FunctionSpec, IamApi, ImageState,
    LambdaApi, LambdaNotification, LayerSpec, LogsApi, NotificationConfig, PackageFetch,
    PackageSpec, PackageType, PermissionStatement, RepositorySpec, S3Api, TaggingApi, Tags,
};
use serde_json::{json, Value};
use testkit::Moto;

/// Access to a cloud's request counter, for both implementations.
trait Counted {
    fn counter(&self) -> &RequestCounter;
}

impl Counted for MemoryCloud {
    fn counter(&self) -> &RequestCounter {
        self.requests()
    }
}

impl Counted for AwsCloud {
    fn counter(&self) -> &RequestCounter {
        self.requests()
    }
}

async fn moto_cloud(moto: &Moto) -> AwsCloud {
    moto_cloud_in(moto, "us-east-1").await
}

async fn moto_cloud_in(moto: &Moto, region: &'static str) -> AwsCloud {
    let conf = common::sdk_in(moto, region).await;
    AwsCloud::new(&conf).await.expect("AwsCloud::new on moto")
}

macro_rules! contract {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn memory() {
                let cloud = MemoryCloud::new();
                super::$name(&cloud).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn moto() {
                let moto = Moto::start();
                let cloud = moto_cloud(&moto).await;
                cloud.counter().reset();
                super::$name(&cloud).await;
                let memory = MemoryCloud::new();
                super::$name(&memory).await;
                assert_eq!(
                    memory.counter().snapshot(),
                    cloud.counter().snapshot(),
                    "MemoryCloud and AwsCloud count different requests"
                );
            }
        }
    };
}

contract!(functions);
contract!(image_functions);
contract!(permissions);
contract!(layers);
contract!(log_groups);
contract!(buckets);
contract!(notifications);
contract!(roles);
contract!(tagging);
contract!(ecr_repositories);
contract!(duplicates_and_missing);

// ---------------------------------------------------------------- helpers

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn owned(workflow: &str) -> Tags {
    tags(&[("scar:workflow", workflow), ("scar:managed", "true")])
}

/// [`zip`] as the code of a zip function.
fn zip_code(comment: &str) -> CodeArtifact {
    CodeArtifact::Zip(zip(comment))
}

/// A valid, empty zip archive whose comment makes its bytes unique.
fn zip(comment: &str) -> Vec<u8> {
    let mut z = vec![0x50, 0x4b, 0x05, 0x06];
    z.extend_from_slice(&[0; 16]);
    z.extend_from_slice(
        &u16::try_from(comment.len())
            .expect("short comment")
            .to_le_bytes(),
    );
    z.extend_from_slice(comment.as_bytes());
    z
}

fn kind<T: std::fmt::Debug>(r: CloudResult<T>) -> ErrorKind {
    r.expect_err("expected an error").kind
}

fn json_eq(a: &str, b: &str) -> bool {
    serde_json::from_str::<Value>(a).ok() == serde_json::from_str::<Value>(b).ok()
}

async fn role<C: Cloud>(c: &C, name: &str) -> String {
    c.create_role(name, TRUST, &Tags::new())
        .await
        .expect("create role")
}

fn function_spec(name: &str, role: &str) -> FunctionSpec {
    FunctionSpec {
        name: name.into(),
        role: role.into(),
        package: PackageSpec::zip("python3.12", "handler.main"),
        memory: 256,
        timeout: 30,
        description: "contract".into(),
        environment: BTreeMap::from([("A".to_string(), "1".to_string())]),
        architectures: vec!["x86_64".into()],
        vpc_subnet_ids: vec![],
        vpc_security_group_ids: vec![],
        file_systems: vec![],
        tags: owned("contract"),
    }
}

/// An image function's spec: no runtime, handler or layers.
fn image_spec(name: &str, role: &str) -> FunctionSpec {
    FunctionSpec {
        package: PackageSpec::Image,
        ..function_spec(name, role)
    }
}

/// An ECR image URI by digest (moto does not look it up in its ECR).
fn image_uri(c: &impl Cloud, repository: &str, fill: char) -> String {
    format!(
        "{}.dkr.ecr.{}.amazonaws.com/{repository}@sha256:{}",
        c.account_id(),
        c.region(),
        fill.to_string().repeat(64)
    )
}

// -------------------------------------------------------------- scenarios

async fn functions<C: Cloud>(c: &C) {
    let role = role(c, "scar-contract-role").await;
    let spec = function_spec("scar-contract-fn", &role);
    let arn = format!(
        "arn:aws:lambda:{}:{}:function:scar-contract-fn",
        c.region(),
        c.account_id()
    );

    let created = c
        .create_function(&spec, &zip_code("v1"))
        .await
        .expect("create");
    assert_eq!(created.name, "scar-contract-fn");
    assert_eq!(created.arn, arn);
    assert_eq!(created.code_sha256, code_sha256(&zip("v1")));
    assert_eq!(created.state.as_deref(), Some("Active"));

    let got = c
        .get_function("scar-contract-fn")
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(
        got.tags,
        Some(owned("contract")),
        "tags set in CreateFunction"
    );
    assert_eq!(got.role, role);
    assert_eq!(got.runtime.as_deref(), Some("python3.12"));
    assert_eq!(got.handler.as_deref(), Some("handler.main"));
    assert_eq!((got.memory, got.timeout), (256, 30));
    assert_eq!(got.description, "contract");
    assert_eq!(got.environment, spec.environment);
    assert_eq!(got.architectures, vec!["x86_64"]);
    assert_eq!(got.code_sha256, code_sha256(&zip("v1")));
    assert_eq!(got.last_update_status.as_deref(), Some("Successful"));

    let listed = c.list_functions().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["scar-contract-fn"]);
    assert_eq!(listed[0].tags, None, "ListFunctions does not fill tags");
    assert_eq!(listed[0].memory, 256);
    assert_eq!(listed[0].arn, arn);

    assert_eq!(
        kind(c.create_function(&spec, &zip_code("v1")).await),
        ErrorKind::AlreadyExists
    );

    let updated = FunctionSpec {
        memory: 512,
        timeout: 60,
        description: "changed".into(),
        environment: BTreeMap::from([("A".into(), "2".into()), ("B".into(), "3".into())]),
        ..spec.clone()
    };
    c.update_function_configuration(&updated)
        .await
        .expect("update config");
    let got = c
        .get_function("scar-contract-fn")
        .await
        .unwrap()
        .expect("exists");
    assert_eq!((got.memory, got.timeout), (512, 60));
    assert_eq!(got.description, "changed");
    assert_eq!(got.environment, updated.environment);
    assert_eq!(
        got.code_sha256,
        code_sha256(&zip("v1")),
        "config update keeps the code"
    );
    assert_eq!(
        got.tags,
        Some(owned("contract")),
        "config update keeps the tags"
    );

    c.update_function_code("scar-contract-fn", &zip_code("v2"))
        .await
        .expect("update code");
    let got = c
        .get_function("scar-contract-fn")
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(got.code_sha256, code_sha256(&zip("v2")));
    assert_ne!(got.code_sha256, code_sha256(&zip("v1")));

    c.tag_resource(&arn, &tags(&[("extra", "x")]))
        .await
        .expect("tag");
    c.untag_resource(&arn, &["scar:managed".to_string()])
        .await
        .expect("untag");
    let got = c
        .get_function("scar-contract-fn")
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(
        got.tags,
        Some(tags(&[("extra", "x"), ("scar:workflow", "contract")]))
    );

    assert_eq!(c.get_function("scar-contract-missing").await.unwrap(), None);
    let missing = c
        .update_function_code("scar-contract-missing", &zip_code("v1"))
        .await;
    assert_eq!(kind(missing), ErrorKind::NotFound);
    let no_role = function_spec(
        "scar-contract-norole",
        "arn:aws:iam::123456789012:role/absent",
    );
    // Lambda cannot tell a role that does not exist from one IAM has not
    // made visible to it yet: scar waits a while on either.
    assert_eq!(
        kind(c.create_function(&no_role, &zip_code("v1")).await),
        ErrorKind::NotReady
    );

    assert!(c.delete_function("scar-contract-fn").await.unwrap());
    assert!(
        !c.delete_function("scar-contract-fn").await.unwrap(),
        "second delete"
    );
    assert_eq!(c.get_function("scar-contract-fn").await.unwrap(), None);
    assert!(c.list_functions().await.unwrap().is_empty());
    let gone = c.tag_resource(&arn, &tags(&[("k", "v")])).await;
    assert_eq!(kind(gone), ErrorKind::NotFound);
}

async fn image_functions<C: Cloud>(c: &C) {
    let role = role(c, "scar-contract-role").await;
    let spec = image_spec("scar-contract-img", &role);
    let v1 = image_uri(c, "scar-contract", 'a');
    let v2 = image_uri(c, "scar-contract", 'b');

    // Code of the other package type is refused before any request.
    assert_eq!(
        kind(c.create_function(&spec, &zip_code("z")).await),
        ErrorKind::Invalid
    );
    assert_eq!(
        kind(
            c.create_function(
                &function_spec("scar-contract-img", &role),
                &CodeArtifact::Image { uri: v1.clone() }
            )
            .await
        ),
        ErrorKind::Invalid
    );
    assert_eq!(c.get_function("scar-contract-img").await.unwrap(), None);

    let created = c
        .create_function(&spec, &CodeArtifact::Image { uri: v1.clone() })
        .await
        .expect("create an image function");
    assert_eq!(created.package_type, PackageType::Image);
    assert_eq!(created.runtime, None);

    let got = c
        .get_function("scar-contract-img")
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(got.package_type, PackageType::Image);
    assert_eq!(got.image_uri.as_deref(), Some(v1.as_str()));
    let resolved = got.resolved_image_uri.clone().expect("a resolved URI");
    assert!(resolved.contains("@sha256:"), "{resolved}");
    assert_eq!((got.runtime, got.handler), (None, None));
    assert!(got.layers.is_empty());
    assert_eq!(got.tags, Some(owned("contract")));
    assert_eq!((got.memory, got.timeout), (256, 30));
    let sha_v1 = got.code_sha256.clone();
    assert!(!sha_v1.is_empty());
    let Some(Code::Image { uri, digest }) = got_code(c, "scar-contract-img").await else {
        panic!("an image function's code is an image");
    };
    assert_eq!(uri, v1);
    assert!(digest.starts_with("sha256:"), "{digest}");

    // A listing says it is an image, but not which.
    let listed = c.list_functions().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].package_type, PackageType::Image);
    assert_eq!(listed[0].image_uri, None);

    assert_eq!(
        c.function_code("scar-contract-img").await.unwrap(),
        PackageFetch::Image {
            uri: v1.clone(),
            resolved_uri: Some(resolved.clone()),
        }
    );

    // Its configuration changes without a runtime, handler or layers.
    let updated = FunctionSpec {
        memory: 512,
        ..spec.clone()
    };
    c.update_function_configuration(&updated)
        .await
        .expect("update an image function's configuration");

    // Another image.
    c.update_function_code(
        "scar-contract-img",
        &CodeArtifact::Image { uri: v2.clone() },
    )
    .await
    .expect("update to another image");
    let got = c
        .get_function("scar-contract-img")
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(got.package_type, PackageType::Image);
    assert_eq!(got.image_uri.as_deref(), Some(v2.as_str()));
    assert_eq!(got.memory, 512);
    assert_ne!(got.code_sha256, sha_v1, "a new image, a new CodeSha256");
    assert_ne!(got.resolved_image_uri.as_deref(), Some(resolved.as_str()));

    assert!(c.delete_function("scar-contract-img").await.unwrap());
    assert_eq!(c.get_function("scar-contract-img").await.unwrap(), None);
}

/// The code GetFunction reports, as desire would write it.
async fn got_code<C: Cloud>(c: &C, name: &str) -> Option<Code> {
    c.get_function(name).await.unwrap()?.code()
}

async fn permissions<C: Cloud>(c: &C) {
    let role = role(c, "scar-contract-role").await;
    c.create_function(&function_spec("scar-contract-perm", &role), &zip_code("p"))
        .await
        .unwrap();
    assert_eq!(c.get_policy("scar-contract-perm").await.unwrap(), vec![]);

    let s3 = PermissionStatement {
        sid: "scar-s3-in".into(),
        principal: "s3.amazonaws.com".into(),
        action: "lambda:InvokeFunction".into(),
        source_arn: Some("arn:aws:s3:::scar-contract-in".into()),
        source_account: Some(c.account_id().to_string()),
    };
    let api = PermissionStatement {
        sid: "scar-api".into(),
        principal: "apigateway.amazonaws.com".into(),
        action: "lambda:InvokeFunction".into(),
        source_arn: None,
        source_account: None,
    };
    c.add_permission("scar-contract-perm", &s3)
        .await
        .expect("add s3");
    c.add_permission("scar-contract-perm", &api)
        .await
        .expect("add api");
    let mut want = vec![s3.clone(), api.clone()];
    want.sort();
    assert_eq!(c.get_policy("scar-contract-perm").await.unwrap(), want);

    assert!(c
        .remove_permission("scar-contract-perm", "scar-api")
        .await
        .unwrap());
    assert!(!c
        .remove_permission("scar-contract-perm", "scar-api")
        .await
        .unwrap());
    assert_eq!(c.get_policy("scar-contract-perm").await.unwrap(), vec![s3]);

    let to_missing = c.add_permission("scar-contract-absent", &api).await;
    assert_eq!(kind(to_missing), ErrorKind::NotFound);
    assert_eq!(c.get_policy("scar-contract-absent").await.unwrap(), vec![]);
    assert!(!c
        .remove_permission("scar-contract-absent", "x")
        .await
        .unwrap());
}

async fn layers<C: Cloud>(c: &C) {
    let spec = LayerSpec {
        layer_name: "scar-contract-layer".into(),
        description: "supervisor abc".into(),
        license_info: "Apache-2.0".into(),
        compatible_runtimes: vec!["provided.al2023".into()],
        compatible_architectures: vec!["x86_64".into()],
    };
    let prefix = format!(
        "arn:aws:lambda:{}:{}:layer:scar-contract-layer",
        c.region(),
        c.account_id()
    );
    let v1 = c
        .publish_layer_version(&spec, &zip("l1"))
        .await
        .expect("publish 1");
    assert_eq!((v1.version, v1.arn.clone()), (1, format!("{prefix}:1")));
    assert_eq!(v1.description, "supervisor abc");
    let spec2 = LayerSpec {
        description: "supervisor def".into(),
        ..spec.clone()
    };
    let v2 = c
        .publish_layer_version(&spec2, &zip("l2"))
        .await
        .expect("publish 2");
    assert_eq!((v2.version, v2.arn.clone()), (2, format!("{prefix}:2")));

    let listed = c.list_layer_versions("scar-contract-layer").await.unwrap();
    assert_eq!(listed, vec![v2.clone(), v1.clone()], "newest first");

    let role = role(c, "scar-contract-role").await;
    let f = FunctionSpec {
        package: PackageSpec::Zip {
            runtime: "python3.12".into(),
            handler: "handler.main".into(),
            layers: vec![v2.arn.clone()],
        },
        ..function_spec("scar-contract-lf", &role)
    };
    c.create_function(&f, &zip_code("f"))
        .await
        .expect("create with layer");
    let got = c
        .get_function("scar-contract-lf")
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(got.layers, vec![v2.arn.clone()]);
    let bad = FunctionSpec {
        package: PackageSpec::Zip {
            runtime: "python3.12".into(),
            handler: "handler.main".into(),
            layers: vec![format!("{prefix}:9")],
        },
        ..f.clone()
    };
    assert_eq!(
        kind(c.update_function_configuration(&bad).await),
        ErrorKind::NotFound
    );

    c.delete_layer_version("scar-contract-layer", 1)
        .await
        .expect("delete v1");
    c.delete_layer_version("scar-contract-layer", 1)
        .await
        .expect("delete v1 again");
    assert_eq!(
        c.list_layer_versions("scar-contract-layer").await.unwrap(),
        vec![v2]
    );
    assert_eq!(
        c.list_layer_versions("scar-contract-none").await.unwrap(),
        vec![]
    );
    c.delete_layer_version("scar-contract-none", 3)
        .await
        .expect("delete of nothing");
}

async fn log_groups<C: Cloud>(c: &C) {
    let name = "/aws/lambda/scar-contract-lg";
    c.create_log_group(name, &owned("contract"))
        .await
        .expect("create");
    c.create_log_group("/other/scar-contract-lg", &Tags::new())
        .await
        .expect("create other");
    assert_eq!(
        kind(c.create_log_group(name, &Tags::new()).await),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        c.list_log_group_tags(name).await.unwrap(),
        owned("contract")
    );

    let groups = c
        .describe_log_groups("/aws/lambda/scar-contract")
        .await
        .unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        (groups[0].name.as_str(), groups[0].retention_days),
        (name, None)
    );

    c.put_retention(name, 14).await.expect("retention");
    c.tag_log_group(name, &tags(&[("extra", "x")]))
        .await
        .expect("tag");
    let groups = c
        .describe_log_groups("/aws/lambda/scar-contract")
        .await
        .unwrap();
    assert_eq!(groups[0].retention_days, Some(14));
    let mut want = owned("contract");
    want.insert("extra".into(), "x".into());
    assert_eq!(c.list_log_group_tags(name).await.unwrap(), want);

    assert!(c.delete_log_group(name).await.unwrap());
    assert!(!c.delete_log_group(name).await.unwrap(), "second delete");
    assert!(c
        .describe_log_groups("/aws/lambda/scar-contract")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(c.describe_log_groups("/other/").await.unwrap().len(), 1);
    assert_eq!(kind(c.put_retention(name, 7).await), ErrorKind::NotFound);
}

async fn buckets<C: Cloud>(c: &C) {
    c.create_bucket("scar-contract-tagged", &owned("contract"))
        .await
        .expect("create");
    c.create_bucket("scar-contract-plain", &Tags::new())
        .await
        .expect("create plain");
    let got = c
        .get_bucket("scar-contract-tagged")
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(got.tags, Some(owned("contract")));
    let plain = c
        .get_bucket("scar-contract-plain")
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(
        (plain.name.as_str(), plain.tags),
        ("scar-contract-plain", None)
    );
    assert_eq!(c.get_bucket("scar-contract-absent").await.unwrap(), None);

    c.put_bucket_tags("scar-contract-plain", &tags(&[("k", "v")]))
        .await
        .expect("tag");
    let plain = c
        .get_bucket("scar-contract-plain")
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(plain.tags, Some(tags(&[("k", "v")])));

    assert!(!c.bucket_has_objects("scar-contract-tagged").await.unwrap());
    c.put_object("scar-contract-tagged", "in/", b"")
        .await
        .expect("put");
    assert!(c.bucket_has_objects("scar-contract-tagged").await.unwrap());
    assert_eq!(
        kind(c.delete_bucket("scar-contract-tagged").await),
        ErrorKind::InUse
    );
    assert!(c
        .get_bucket("scar-contract-tagged")
        .await
        .unwrap()
        .is_some());
    let absent = c.put_object("scar-contract-absent", "k", b"x").await;
    assert_eq!(kind(absent), ErrorKind::NotFound);
    let absent = c.bucket_has_objects("scar-contract-absent").await;
    assert_eq!(kind(absent), ErrorKind::NotFound);
    let absent = c
        .put_bucket_tags("scar-contract-absent", &tags(&[("k", "v")]))
        .await;
    assert_eq!(kind(absent), ErrorKind::NotFound);

    assert!(c.delete_bucket("scar-contract-plain").await.unwrap());
    assert!(
        !c.delete_bucket("scar-contract-plain").await.unwrap(),
        "second delete"
    );
    assert_eq!(c.get_bucket("scar-contract-plain").await.unwrap(), None);
}

async fn notifications<C: Cloud>(c: &C) {
    let role = role(c, "scar-contract-role").await;
    let f = c
        .create_function(&function_spec("scar-contract-nf", &role), &zip_code("n"))
        .await
        .unwrap();
    c.create_bucket("scar-contract-events", &Tags::new())
        .await
        .unwrap();
    let allow = PermissionStatement {
        sid: "scar-s3".into(),
        principal: "s3.amazonaws.com".into(),
        action: "lambda:InvokeFunction".into(),
        source_arn: Some("arn:aws:s3:::scar-contract-events".into()),
        source_account: None,
    };
    c.add_permission("scar-contract-nf", &allow).await.unwrap();

    let empty = c.get_notifications("scar-contract-events").await.unwrap();
    assert_eq!(empty, NotificationConfig::default());

    let ours = LambdaNotification {
        id: "scar-in".into(),
        function_arn: f.arn.clone(),
        events: vec!["s3:ObjectCreated:*".into()],
        prefix: Some("in/".into()),
        suffix: Some(".jpg".into()),
    };
    let foreign = LambdaNotification {
        id: "someone-else".into(),
        function_arn: "arn:aws:lambda:us-east-1:111111111111:function:theirs".into(),
        events: vec!["s3:ObjectRemoved:*".into()],
        prefix: None,
        suffix: None,
    };
    let others = json!({"QueueConfigurations": [{
        "Id": "their-queue",
        "QueueArn": "arn:aws:sqs:us-east-1:111111111111:their-queue",
        "Events": ["s3:ObjectCreated:Put"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "logs/"}]}}
    }], "TopicConfigurations": [{
        "Id": "their-topic",
        "TopicArn": "arn:aws:sns:us-east-1:111111111111:their-topic",
        "Events": ["s3:ObjectRemoved:*"]
    }]});
    let config = NotificationConfig {
        lambda: vec![ours, foreign.clone()],
        others: others.clone(),
    };
    c.put_notifications("scar-contract-events", &config)
        .await
        .expect("put");
    let mut got = c.get_notifications("scar-contract-events").await.unwrap();
    got.lambda.sort();
    let mut want = config.clone();
    want.lambda.sort();
    assert_eq!(got.lambda, want.lambda);
    assert_eq!(
        normalize_rules(got.others.clone()),
        normalize_rules(others.clone())
    );

    // Remove scar's entry, writing back what was read of the others.
    let kept = NotificationConfig {
        lambda: vec![foreign.clone()],
        others: got.others,
    };
    c.put_notifications("scar-contract-events", &kept)
        .await
        .expect("put back");
    let got = c.get_notifications("scar-contract-events").await.unwrap();
    assert_eq!(got.lambda, vec![foreign]);
    assert_eq!(normalize_rules(got.others), normalize_rules(others));

    let missing = c.get_notifications("scar-contract-absent").await;
    assert_eq!(kind(missing), ErrorKind::NotFound);
}

/// Filter rule names compare case-insensitively (AWS answers `Prefix`).
fn normalize_rules(mut v: Value) -> Value {
    for list in v.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
        for entry in list.as_array_mut().into_iter().flatten() {
            let rules = entry.pointer_mut("/Filter/Key/FilterRules");
            for rule in rules.and_then(Value::as_array_mut).into_iter().flatten() {
                let name = rule["Name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                rule["Name"] = json!(name);
            }
        }
    }
    v
}

async fn roles<C: Cloud>(c: &C) {
    let arn = c
        .create_role("scar-contract-r", TRUST, &owned("contract"))
        .await
        .expect("create");
    assert_eq!(
        arn,
        format!("arn:aws:iam::{}:role/scar-contract-r", c.account_id())
    );
    assert_eq!(
        kind(c.create_role("scar-contract-r", TRUST, &Tags::new()).await),
        ErrorKind::AlreadyExists
    );

    let got = c
        .get_role("scar-contract-r")
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(
        (got.name.as_str(), got.arn.as_str()),
        ("scar-contract-r", arn.as_str())
    );
    assert!(
        json_eq(&got.assume_role_policy, TRUST),
        "decoded: {}",
        got.assume_role_policy
    );
    assert_eq!(got.tags, owned("contract"));
    assert!(got.inline_policies.is_empty());

    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
    c.put_role_policy("scar-contract-r", "scar-s3", doc)
        .await
        .expect("put policy");
    c.put_role_policy("scar-contract-r", "scar-logs", doc)
        .await
        .expect("put policy 2");
    let trust2 = TRUST.replace("lambda.amazonaws.com", "batch.amazonaws.com");
    c.update_assume_role_policy("scar-contract-r", &trust2)
        .await
        .expect("update trust");
    let got = c
        .get_role("scar-contract-r")
        .await
        .unwrap()
        .expect("exists");
    assert!(json_eq(&got.assume_role_policy, &trust2));
    assert_eq!(
        got.inline_policies.keys().collect::<Vec<_>>(),
        ["scar-logs", "scar-s3"]
    );
    assert!(
        json_eq(&got.inline_policies["scar-s3"], doc),
        "decoded: {}",
        got.inline_policies["scar-s3"]
    );

    c.delete_role_policy("scar-contract-r", "scar-logs")
        .await
        .expect("delete policy");
    c.delete_role_policy("scar-contract-r", "scar-logs")
        .await
        .expect("delete policy again");
    let got = c
        .get_role("scar-contract-r")
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(got.inline_policies.keys().collect::<Vec<_>>(), ["scar-s3"]);

    // The remaining inline policy is removed first (IAM refuses otherwise).
    assert!(c.delete_role("scar-contract-r").await.unwrap());
    assert!(
        !c.delete_role("scar-contract-r").await.unwrap(),
        "second delete"
    );
    assert_eq!(c.get_role("scar-contract-r").await.unwrap(), None);
    let missing = c.put_role_policy("scar-contract-r", "p", doc).await;
    assert_eq!(kind(missing), ErrorKind::NotFound);
}

/// A repository spec of the contract workflow.
fn repository_spec(name: &str) -> RepositorySpec {
    RepositorySpec {
        name: name.into(),
        image_tag_mutability: "MUTABLE".into(),
        scan_on_push: false,
        tags: owned("contract"),
    }
}

/// A minimal OCI image manifest, distinct per `seed`, and its digest.
fn image_manifest(seed: &str) -> (String, String) {
    let m = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": 2,
            "digest": format!("sha256:{}", seed.repeat(64)),
        },
        "layers": [],
    })
    .to_string();
    let digest = format!("sha256:{}", scar::hash::hex_sha256(m.as_bytes()));
    (m, digest)
}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

async fn ecr_repositories<C: Cloud>(c: &C) {
    let created = c
        .create_repository(&repository_spec("scar-contract/repo"))
        .await
        .expect("create");
    let uri = format!(
        "{}.dkr.ecr.{}.amazonaws.com/scar-contract/repo",
        c.account_id(),
        c.region()
    );
    let arn = format!(
        "arn:aws:ecr:{}:{}:repository/scar-contract/repo",
        c.region(),
        c.account_id()
    );
    assert_eq!(created.uri, uri);
    assert_eq!(created.arn, arn);
    let listed = c.list_repositories().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].name, "scar-contract/repo");
    assert_eq!(listed[0].uri, uri);
    assert_eq!(listed[0].arn, arn);
    assert_eq!(listed[0].image_tag_mutability, "MUTABLE");
    assert!(!listed[0].scan_on_push);
    assert_eq!(
        c.repository_tags("scar-contract/repo").await.unwrap(),
        owned("contract"),
        "tags set in CreateRepository"
    );
    assert_eq!(
        kind(
            c.create_repository(&repository_spec("scar-contract/repo"))
                .await
        ),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        kind(c.create_repository(&repository_spec("Not_Valid")).await),
        ErrorKind::Invalid
    );

    // Settings and tags change in place.
    c.tag_repository("scar-contract/repo", &tags(&[("scar:applied", "x")]))
        .await
        .unwrap();
    let mut more = owned("contract");
    more.insert("scar:applied".into(), "x".into());
    assert_eq!(c.repository_tags("scar-contract/repo").await.unwrap(), more);
    c.put_image_tag_mutability("scar-contract/repo", "IMMUTABLE")
        .await
        .unwrap();
    c.put_scan_on_push("scar-contract/repo", true)
        .await
        .unwrap();
    let changed = &c.list_repositories().await.unwrap()[0];
    assert_eq!(changed.image_tag_mutability, "IMMUTABLE");
    assert!(changed.scan_on_push);

    // The lifecycle policy: none, then the one put, as JSON.
    assert_eq!(
        c.lifecycle_policy("scar-contract/repo").await.unwrap(),
        None
    );
    let policy = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#;
    c.put_lifecycle_policy("scar-contract/repo", policy)
        .await
        .unwrap();
    let read = c
        .lifecycle_policy("scar-contract/repo")
        .await
        .unwrap()
        .expect("a policy");
    assert!(json_eq(&read, policy), "{read}");

    // Images: a tagged one and an untagged one, by digest.
    assert_eq!(c.list_images("scar-contract/repo").await.unwrap(), vec![]);
    let (m1, d1) = image_manifest("1");
    let (m2, d2) = image_manifest("2");
    let got = c
        .put_image("scar-contract/repo", &m1, OCI_MANIFEST, Some("v1"))
        .await
        .unwrap();
    assert_eq!(got, d1, "the digest is the SHA-256 of the manifest");
    assert_eq!(
        kind(
            c.put_image("scar-contract/repo", &m1, OCI_MANIFEST, Some("v1"))
                .await
        ),
        ErrorKind::AlreadyExists
    );
    c.put_image("scar-contract/repo", &m2, OCI_MANIFEST, None)
        .await
        .unwrap();
    let mut expected = vec![
        ImageState {
            digest: d1,
            tags: vec!["v1".into()],
        },
        ImageState {
            digest: d2,
            tags: vec![],
        },
    ];
    expected.sort();
    assert_eq!(c.list_images("scar-contract/repo").await.unwrap(), expected);

    // Deleting: not while it holds images, unless forced; gone is false.
    assert_eq!(
        kind(c.delete_repository("scar-contract/repo", false).await),
        ErrorKind::InUse
    );
    assert!(c
        .delete_repository("scar-contract/repo", true)
        .await
        .unwrap());
    assert!(!c
        .delete_repository("scar-contract/repo", true)
        .await
        .unwrap());
    assert_eq!(c.list_repositories().await.unwrap(), vec![]);
    assert_eq!(
        kind(c.lifecycle_policy("scar-contract/repo").await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(c.list_images("scar-contract/repo").await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(c.repository_tags("scar-contract/repo").await),
        ErrorKind::NotFound
    );
}

async fn tagging<C: Cloud>(c: &C) {
    let role = role(c, "scar-contract-role").await;
    let f = c
        .create_function(&function_spec("scar-contract-tf", &role), &zip_code("t"))
        .await
        .unwrap();
    let other = FunctionSpec {
        tags: owned("another"),
        ..function_spec("scar-contract-of", &role)
    };
    c.create_function(&other, &zip_code("o")).await.unwrap();
    c.create_log_group("/aws/lambda/scar-contract-tf", &owned("contract"))
        .await
        .unwrap();
    c.create_bucket("scar-contract-tb", &owned("contract"))
        .await
        .unwrap();
    c.create_bucket("scar-contract-ub", &Tags::new())
        .await
        .unwrap();

    let found = c
        .resources_with_tag("scar:workflow", Some("contract"), &["lambda", "s3", "logs"])
        .await
        .unwrap();
    let arns: Vec<&str> = found.iter().map(|r| r.arn.as_str()).collect();
    let log_arn = format!(
        "arn:aws:logs:{}:{}:log-group:/aws/lambda/scar-contract-tf",
        c.region(),
        c.account_id()
    );
    assert_eq!(
        arns,
        [
            f.arn.as_str(),
            log_arn.as_str(),
            "arn:aws:s3:::scar-contract-tb"
        ]
    );
    assert!(
        found.iter().all(|r| r.tags == owned("contract")),
        "{found:?}"
    );

    let only_lambda = c
        .resources_with_tag("scar:workflow", Some("contract"), &["lambda"])
        .await
        .unwrap();
    assert_eq!(only_lambda.len(), 1);
    assert_eq!(only_lambda[0].arn, f.arn);
    let none = c
        .resources_with_tag("scar:workflow", Some("nothing"), &["lambda", "s3", "logs"])
        .await
        .unwrap();
    assert!(none.is_empty());
    // Deleted resources are gone from the answer (on AWS this may lag).
    c.delete_function("scar-contract-tf").await.unwrap();
    c.delete_log_group("/aws/lambda/scar-contract-tf")
        .await
        .unwrap();
    c.delete_bucket("scar-contract-tb").await.unwrap();
    let after = c
        .resources_with_tag("scar:workflow", Some("contract"), &["lambda", "s3", "logs"])
        .await
        .unwrap();
    assert!(after.is_empty(), "after deletes: {after:?}");
}

// ------------------------------------------------------- account identity

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cloud_reads_the_account_from_sts() {
    let moto = Moto::start();
    let cloud = moto_cloud(&moto).await;
    assert_eq!(cloud.account_id(), "123456789012");
    assert_eq!(cloud.region(), "us-east-1");
    assert_eq!(cloud.requests().count("GetCallerIdentity"), 1);
    assert_eq!(cloud.requests().total(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cloud_creates_buckets_outside_us_east_1() {
    // S3 refuses a CreateBucket without LocationConstraint outside us-east-1.
    let moto = Moto::start();
    let cloud = moto_cloud_in(&moto, "eu-west-1").await;
    assert_eq!(cloud.region(), "eu-west-1");
    cloud
        .create_bucket("scar-contract-eu", &owned("contract"))
        .await
        .expect("create");
    let got = cloud
        .get_bucket("scar-contract-eu")
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(got.tags, Some(owned("contract")));
    let c = MemoryCloud::with_identity("123456789012", "eu-west-1");
    c.create_bucket("scar-contract-eu", &owned("contract"))
        .await
        .unwrap();
    assert_eq!(c.requests().snapshot(), {
        cloud.requests().reset();
        cloud
            .create_bucket("scar-contract-eu2", &owned("contract"))
            .await
            .unwrap();
        cloud.requests().snapshot()
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_log_groups_reads_every_page() {
    // moto pages DescribeLogGroups by 50, as AWS does.
    let moto = Moto::start();
    let cloud = moto_cloud(&moto).await;
    let memory = MemoryCloud::new();
    for i in 0..120 {
        let name = format!("/aws/lambda/scar-page-{i:03}");
        cloud.create_log_group(&name, &Tags::new()).await.unwrap();
        memory.create_log_group(&name, &Tags::new()).await.unwrap();
    }
    cloud.requests().reset();
    memory.requests().reset();
    let on_moto = cloud
        .describe_log_groups("/aws/lambda/scar-page-")
        .await
        .unwrap();
    let in_memory = memory
        .describe_log_groups("/aws/lambda/scar-page-")
        .await
        .unwrap();
    assert_eq!(on_moto.len(), 120);
    assert_eq!(on_moto, in_memory);
    assert_eq!(cloud.requests().count("DescribeLogGroups"), 3);
    assert_eq!(memory.requests().count("DescribeLogGroups"), 3);
}

/// A second create of the same name is "already exists" (never a conflict
/// to retry, never "invalid"), and a call on a missing thing "not found",
/// for each kind scar creates. (A duplicate permission Sid: moto accepts it,
/// see `duplicate_permission_sid_already_exists_moto_gap`; a bucket: see
/// `a_duplicate_bucket_of_ours_already_exists_outside_us_east_1`.)
async fn duplicates_and_missing<C: Cloud>(c: &C) {
    let arn = c
        .create_role("scar-dup-r", TRUST, &owned("dup"))
        .await
        .expect("create role");
    assert_eq!(
        kind(c.create_role("scar-dup-r", TRUST, &owned("dup")).await),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        kind(c.put_role_policy("scar-dup-missing", "p", "{}").await),
        ErrorKind::NotFound
    );

    let spec = function_spec("scar-dup-fn", &arn);
    c.create_function(&spec, &zip_code("a"))
        .await
        .expect("create");
    assert_eq!(
        kind(c.create_function(&spec, &zip_code("a")).await),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        kind(
            c.update_function_configuration(&function_spec("scar-dup-none", &arn))
                .await
        ),
        ErrorKind::NotFound
    );
    let s = PermissionStatement {
        sid: "scar-dup".into(),
        principal: "s3.amazonaws.com".into(),
        action: "lambda:InvokeFunction".into(),
        source_arn: Some("arn:aws:s3:::scar-dup-b".into()),
        source_account: None,
    };
    assert_eq!(
        kind(c.add_permission("scar-dup-none", &s).await),
        ErrorKind::NotFound
    );

    c.create_log_group("/aws/lambda/scar-dup-fn", &owned("dup"))
        .await
        .expect("create log group");
    assert_eq!(
        kind(
            c.create_log_group("/aws/lambda/scar-dup-fn", &owned("dup"))
                .await
        ),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        kind(c.put_retention("/aws/lambda/scar-dup-none", 7).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(c.put_bucket_tags("scar-dup-none", &owned("dup")).await),
        ErrorKind::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_bucket_of_ours_already_exists_outside_us_east_1() {
    // In us-east-1, S3 (and moto) answer a second CreateBucket of one's own
    // bucket with success; elsewhere with BucketAlreadyOwnedByYou.
    let moto = Moto::start();
    let cloud = moto_cloud_in(&moto, "eu-west-1").await;
    create_bucket_twice(&cloud, "scar-dup-eu").await;
    let memory = MemoryCloud::with_identity("123456789012", "eu-west-1");
    create_bucket_twice(&memory, "scar-dup-eu").await;
}

async fn create_bucket_twice<C: Cloud>(c: &C, name: &str) {
    c.create_bucket(name, &owned("dup")).await.expect("create");
    assert_eq!(
        kind(c.create_bucket(name, &owned("dup")).await),
        ErrorKind::AlreadyExists
    );
    assert!(c.get_bucket(name).await.unwrap().is_some());
}

#[tokio::test]
async fn a_bucket_name_another_account_holds_is_taken_moto_gap() {
    // moto cannot play another account: its buckets all belong to the
    // caller's. AWS's code for this,
    // BucketAlreadyExists, is classified in `cloud::aws` unit tests.
    let c = MemoryCloud::new();
    c.take_bucket_name_elsewhere("scar-theirs");
    assert_eq!(
        kind(c.create_bucket("scar-theirs", &owned("dup")).await),
        ErrorKind::NameTaken
    );
    assert_eq!(c.get_bucket("scar-theirs").await.unwrap(), None);
}

// ------------------------------------------------ MemoryCloud-only checks

#[tokio::test]
async fn duplicate_permission_sid_already_exists_moto_gap() {
    // moto accepts a duplicate StatementId; AWS answers ResourceConflictException.
    let c = MemoryCloud::new();
    let role = role(&c, "r").await;
    c.create_function(&function_spec("f", &role), &zip_code("x"))
        .await
        .unwrap();
    let s = PermissionStatement {
        sid: "s".into(),
        principal: "s3.amazonaws.com".into(),
        action: "lambda:InvokeFunction".into(),
        source_arn: None,
        source_account: None,
    };
    c.add_permission("f", &s).await.unwrap();
    assert_eq!(
        kind(c.add_permission("f", &s).await),
        ErrorKind::AlreadyExists
    );
}

#[tokio::test]
async fn invalid_retention_and_malformed_policies_are_rejected_moto_gap() {
    // moto accepts any retention value and any trust-policy text.
    let c = MemoryCloud::new();
    c.create_log_group("/g", &Tags::new()).await.unwrap();
    assert_eq!(kind(c.put_retention("/g", 2).await), ErrorKind::Invalid);
    assert_eq!(
        kind(c.create_role("r", "{not json", &Tags::new()).await),
        ErrorKind::Invalid
    );
}

#[tokio::test]
async fn notification_needs_an_s3_permission_moto_gap() {
    // AWS validates the destination (S3 must be allowed to invoke it); moto does not.
    let c = MemoryCloud::new();
    let role = role(&c, "r").await;
    let f = c
        .create_function(&function_spec("f", &role), &zip_code("x"))
        .await
        .unwrap();
    c.create_bucket("b-events", &Tags::new()).await.unwrap();
    let config = NotificationConfig {
        lambda: vec![LambdaNotification {
            id: "scar-b".into(),
            function_arn: f.arn,
            events: vec!["s3:ObjectCreated:*".into()],
            prefix: None,
            suffix: None,
        }],
        others: Value::Null,
    };
    assert_eq!(
        kind(c.put_notifications("b-events", &config).await),
        ErrorKind::Invalid
    );
}

#[tokio::test]
async fn a_deleted_log_group_has_no_tags_moto_gap() {
    // moto keeps a deleted log group's tags: ListTagsForResource still
    // answers them, and TagResource still succeeds.
    let c = MemoryCloud::new();
    c.create_log_group("/g", &owned("contract")).await.unwrap();
    assert!(c.delete_log_group("/g").await.unwrap());
    assert_eq!(kind(c.list_log_group_tags("/g").await), ErrorKind::NotFound);
    let gone = c.tag_log_group("/g", &owned("contract")).await;
    assert_eq!(kind(gone), ErrorKind::NotFound);
}

#[tokio::test]
async fn event_bridge_configuration_is_kept_moto_gap() {
    // moto stores EventBridgeConfiguration but never returns it.
    let c = MemoryCloud::new();
    c.create_bucket("b-events", &Tags::new()).await.unwrap();
    let config = NotificationConfig {
        lambda: vec![],
        others: json!({"EventBridgeConfiguration": {}}),
    };
    c.put_notifications("b-events", &config).await.unwrap();
    assert_eq!(c.get_notifications("b-events").await.unwrap(), config);
}

#[tokio::test]
async fn list_functions_counts_one_request_per_page_moto_gap() {
    // moto returns every function in one page; AWS pages by 50.
    let c = MemoryCloud::new();
    let role = role(&c, "r").await;
    for i in 0..120 {
        c.create_function(&function_spec(&format!("f{i:03}"), &role), &zip_code("x"))
            .await
            .unwrap();
    }
    c.requests().reset();
    let all = c.list_functions().await.unwrap();
    assert_eq!(all.len(), 120);
    assert_eq!(all[0].name, "f000");
    assert_eq!(c.requests().count("ListFunctions"), 3);
}

#[tokio::test]
async fn memory_cloud_counts_requests_and_injects_failures() {
    let c = MemoryCloud::new();
    let role = role(&c, "r").await;
    c.put_role_policy("r", "p", "{}").await.unwrap();
    c.requests().reset();
    c.get_role("r").await.unwrap();
    assert_eq!(c.requests().count("GetRole"), 1);
    assert_eq!(c.requests().count("ListRolePolicies"), 1);
    assert_eq!(c.requests().count("GetRolePolicy"), 1);
    assert_eq!(c.requests().total(), 3);

    c.fail_next("UpdateFunctionCode", ErrorKind::Conflict, 2);
    c.create_function(&function_spec("f", &role), &zip_code("x"))
        .await
        .unwrap();
    assert_eq!(
        kind(c.update_function_code("f", &zip_code("y")).await),
        ErrorKind::Conflict
    );
    assert!(c
        .update_function_code("f", &zip_code("y"))
        .await
        .unwrap_err()
        .is_retryable());
    c.update_function_code("f", &zip_code("y")).await.unwrap();
    let f = c.get_function("f").await.unwrap().unwrap();
    assert_eq!(f.code_sha256, code_sha256(&zip("y")));

    c.set_function_status("f", Some("Active"), Some("InProgress"));
    let f = c.get_function("f").await.unwrap().unwrap();
    assert_eq!(f.last_update_status.as_deref(), Some("InProgress"));
}

// ------------------------------------------- reading a package back

#[tokio::test]
async fn function_code_reads_back_the_deployed_zip_moto_gap() {
    // moto keeps the zip but answers Code.Location with a fake AWS host
    // that serves nothing; MemoryCloud hands the zip back as AWS does.
    let c = MemoryCloud::new();
    let role = role(&c, "r").await;
    c.create_function(&function_spec("f", &role), &zip_code("one"))
        .await
        .unwrap();
    assert_eq!(
        c.function_code("f").await.unwrap(),
        scar::cloud::PackageFetch::Zip(zip("one"))
    );
    c.update_function_code("f", &zip_code("two")).await.unwrap();
    assert_eq!(
        c.function_code("f").await.unwrap(),
        scar::cloud::PackageFetch::Zip(zip("two"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_code_on_moto_is_unavailable_because_its_code_location_is_not_the_endpoint() {
    let moto = Moto::start();
    let c = moto_cloud(&moto).await;
    let role = role(&c, "r").await;
    c.create_function(&function_spec("f", &role), &zip_code("one"))
        .await
        .unwrap();
    let scar::cloud::PackageFetch::Unavailable(why) = c.function_code("f").await.unwrap() else {
        panic!("moto's Code.Location is not on the endpoint and must not be fetched");
    };
    assert!(
        why.contains("awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com")
            && why.contains("not on the configured endpoint `127.0.0.1`"),
        "{why}"
    );
    assert!(matches!(
        c.function_code("missing").await.unwrap(),
        scar::cloud::PackageFetch::Unavailable(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_presigned_package_url_is_downloaded_and_checked_against_its_hash() {
    // Code.Location is a presigned S3 GET; moto's S3 serves real ones.
    use aws_sdk_s3::presigning::PresigningConfig;
    use scar::cloud::aws::download::{allowed, download};
    let moto = Moto::start();
    let conf = common::sdk(&moto).await;
    let s3 = common::s3(&conf);
    s3.create_bucket().bucket("code").send().await.unwrap();
    let body = zip("the package");
    s3.put_object()
        .bucket("code")
        .key("snapshots/f-1")
        .body(body.clone().into())
        .send()
        .await
        .unwrap();
    let presign = |key: &'static str| {
        let s3 = s3.clone();
        async move {
            s3.get_object()
                .bucket("code")
                .key(key)
                .presigned(
                    PresigningConfig::expires_in(std::time::Duration::from_secs(600)).unwrap(),
                )
                .await
                .unwrap()
                .uri()
                .to_string()
        }
    };
    let url = presign("snapshots/f-1").await;
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let endpoint = moto.endpoint();
    let uri = allowed(&url, Some(&endpoint)).expect("the endpoint's own URL");
    assert_eq!(
        download(uri.clone(), &code_sha256(&body), Timeouts::default()).await,
        Ok(body.clone())
    );

    // A package whose hash is not the one Lambda reports is refused.
    let why = download(uri, &code_sha256(b"something else"), Timeouts::default())
        .await
        .unwrap_err();
    assert!(
        why.contains("not the") && why.contains("Lambda reports"),
        "{why}"
    );
    assert!(
        !why.contains("X-Amz-Signature"),
        "the URL's query is never shown: {why}"
    );

    // A missing object is an answer, not a hang or a panic.
    let uri = allowed(&presign("snapshots/none").await, Some(&endpoint)).unwrap();
    let why = download(uri, &code_sha256(&body), Timeouts::default())
        .await
        .unwrap_err();
    assert!(why.contains("answered 404"), "{why}");
}

#[tokio::test]
async fn an_image_function_takes_no_zip_and_no_zip_configuration_moto_gap() {
    // Lambda refuses both ("Please provide ImageUri when updating a
    // function with packageType Image", and a runtime or handler for an
    // image); moto takes them.
    let c = MemoryCloud::new();
    let role = role(&c, "r").await;
    let v1 = image_uri(&c, "wf", 'a');
    c.create_function(
        &image_spec("f", &role),
        &CodeArtifact::Image { uri: v1.clone() },
    )
    .await
    .unwrap();
    assert_eq!(
        kind(c.update_function_code("f", &zip_code("z")).await),
        ErrorKind::Invalid
    );
    assert_eq!(
        kind(
            c.update_function_configuration(&function_spec("f", &role))
                .await
        ),
        ErrorKind::Invalid
    );
    let f = c.get_function("f").await.unwrap().unwrap();
    assert_eq!(f.image_uri.as_deref(), Some(v1.as_str()));
    assert_eq!(f.runtime, None);
}

/// The tagging API lists ECR repositories on AWS (`ecr:repository`); moto
/// 5.2.5's GetResources leaves them out (shared/reference/moto-emulator.md).
#[tokio::test]
async fn ecr_repositories_are_found_by_tag_moto_gap() {
    let c = MemoryCloud::new();
    c.create_repository(&repository_spec("scar-contract-r"))
        .await
        .unwrap();
    c.create_repository(&RepositorySpec {
        tags: Tags::new(),
        ..repository_spec("scar-contract-u")
    })
    .await
    .unwrap();
    let found = c
        .resources_with_tag("scar:workflow", Some("contract"), &["ecr"])
        .await
        .unwrap();
    let arns: Vec<&str> = found.iter().map(|r| r.arn.as_str()).collect();
    assert_eq!(
        arns,
        ["arn:aws:ecr:us-east-1:123456789012:repository/scar-contract-r"]
    );
}
