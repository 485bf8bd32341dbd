use serde_json::{json, Value};

use super::*;
use crate::model::Attrs;

fn supervisor() -> Addr {
    Addr::new(Kind::LambdaLayer, "scar-supervisor")
}

/// The code attributes desire writes for `code`.
fn desired_code_attrs(code: &Code, layers: &[String]) -> Attrs {
    to_attrs(&code_attrs(code, layers, &supervisor()))
}

#[test]
fn a_zip_functions_code_is_its_hash_runtime_handler_and_layers() {
    let a = desired_code_attrs(
        &Code::Zip {
            sha256: "abc=".into(),
        },
        &["arn:user".to_string()],
    );
    let keys: Vec<&str> = a.keys().map(String::as_str).collect();
    assert_eq!(keys, ["code_sha256", "handler", "layers", "runtime"]);
    assert_eq!(a["code_sha256"], "abc=");
    assert_eq!(a["runtime"], RUNTIME);
    let layers = a["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2, "the user's and the supervisor's");
    assert!(layers.contains(&Value::String("arn:user".into())));
}

#[test]
fn an_image_functions_code_is_its_uri_and_package_type() {
    let a = desired_code_attrs(
        &Code::Image {
            uri: "r.example/wf@sha256:0a".into(),
            digest: "sha256:0a".into(),
        },
        &["arn:user".to_string()],
    );
    let keys: Vec<&str> = a.keys().map(String::as_str).collect();
    assert_eq!(keys, ["image_uri", "package_type"]);
    assert_eq!(a["image_uri"], "r.example/wf@sha256:0a");
    assert_eq!(a["package_type"], "Image");
}

#[test]
fn an_image_function_is_observed_as_desire_writes_it() {
    let uri = format!("1.dkr.ecr.r.amazonaws.com/wf@sha256:{}", "c".repeat(64));
    let f = FunctionState {
        name: "f".into(),
        package_type: PackageType::Image,
        code_sha256: "c".repeat(64),
        image_uri: Some(uri.clone()),
        resolved_image_uri: Some(uri.clone()),
        ..Default::default()
    };
    let observed = function_observed(&f, None, "wf");
    let want = desired_code_attrs(
        &Code::Image {
            uri: uri.clone(),
            digest: format!("sha256:{}", "c".repeat(64)),
        },
        &[],
    );
    assert_eq!(want.len(), 2, "{want:?}");
    for (k, v) in &want {
        assert_eq!(observed.attrs.get(k), Some(v), "{k}");
    }
    for zip_only in ["runtime", "handler", "layers", "code_sha256"] {
        assert!(!observed.attrs.contains_key(zip_only), "{zip_only}");
    }
}

#[test]
fn an_image_given_by_tag_is_observed_at_the_digest_lambda_resolved() {
    let f = FunctionState {
        package_type: PackageType::Image,
        image_uri: Some("r.example/wf:latest".into()),
        resolved_image_uri: Some("r.example/wf@sha256:0a".into()),
        ..Default::default()
    };
    assert_eq!(
        function_observed(&f, None, "wf").attrs["image_uri"],
        json!("r.example/wf@sha256:0a")
    );
}

#[test]
fn a_zip_function_is_observed_without_a_package_type() {
    let f = FunctionState {
        name: "f".into(),
        runtime: Some("provided.al2023".into()),
        handler: Some("bootstrap".into()),
        layers: vec!["arn:b".into(), "arn:a".into()],
        code_sha256: "abc=".into(),
        ..Default::default()
    };
    let observed = function_observed(&f, None, "wf");
    assert!(!observed.attrs.contains_key("package_type"));
    assert!(!observed.attrs.contains_key("image_uri"));
    let want = desired_code_attrs(
        &Code::Zip {
            sha256: "abc=".into(),
        },
        &["arn:b".into()],
    );
    assert_eq!(observed.attrs["code_sha256"], want["code_sha256"]);
    assert_eq!(observed.attrs["runtime"], want["runtime"]);
    assert_eq!(observed.attrs["handler"], want["handler"]);
    assert_eq!(observed.attrs["layers"], json!(["arn:a", "arn:b"]));
}

fn typed(v: Value) -> FunctionAttrs {
    let attrs: Attrs = v.as_object().unwrap().clone().into_iter().collect();
    from_attrs(&addr("f"), &attrs).unwrap()
}

fn base() -> Value {
    json!({
        "role": "arn:aws:iam::1:role/r",
        "memory": 1024,
        "timeout": 60,
        "description": "",
        "environment": {},
        "architectures": ["x86_64"],
        "tags": {},
    })
}

#[test]
fn a_zip_function_spec_has_its_runtime_handler_and_layers() {
    let mut v = base();
    for (k, x) in [
        ("runtime", json!("provided.al2023")),
        ("handler", json!("bootstrap")),
        ("layers", json!(["arn:l:1", "arn:l:2"])),
        ("code_sha256", json!("abc=")),
    ] {
        v[k] = x;
    }
    let spec = function_spec("f", &typed(v));
    assert_eq!(
        spec.package,
        PackageSpec::Zip {
            runtime: "provided.al2023".into(),
            handler: "bootstrap".into(),
            layers: vec!["arn:l:1".into(), "arn:l:2".into()],
        }
    );
    assert_eq!((spec.name.as_str(), spec.memory), ("f", 1024));
    assert_eq!(spec.role, "arn:aws:iam::1:role/r");
}

#[test]
fn an_image_function_spec_has_no_runtime_handler_or_layers() {
    // Even if the attributes carried some, an image takes none.
    let mut v = base();
    for (k, x) in [
        ("package_type", json!("Image")),
        ("image_uri", json!("r.example/wf@sha256:00")),
        ("runtime", json!("provided.al2023")),
        ("layers", json!(["arn:l:1"])),
    ] {
        v[k] = x;
    }
    let spec = function_spec("f", &typed(v));
    assert_eq!(spec.package, PackageSpec::Image);
    assert!(spec.package.layers().is_empty());
    assert_eq!(spec.timeout, 60);
    assert_eq!(
        CodeArtifact::Zip(vec![]).mismatch(spec.package.package_type()),
        Some("Zip code given for a function of package type Image".into())
    );
    assert_eq!(
        CodeArtifact::Image { uri: "u".into() }.mismatch(spec.package.package_type()),
        None
    );
}

#[test]
fn attributes_round_trip_through_the_typed_struct() {
    let f = FunctionState {
        name: "f".into(),
        runtime: Some("provided.al2023".into()),
        handler: Some("bootstrap".into()),
        code_sha256: "abc=".into(),
        vpc_subnet_ids: vec!["s-2".into(), "s-1".into()],
        file_systems: vec![("arn:fs".into(), "/mnt/x".into())],
        ..Default::default()
    };
    let o = function_observed(&f, None, "wf");
    assert_eq!(o.attrs["vpc_subnet_ids"], json!(["s-1", "s-2"]));
    assert_eq!(o.attrs["file_systems"], json!([["arn:fs", "/mnt/x"]]));
    let back: FunctionAttrs = from_attrs(&o.addr, &o.attrs).unwrap();
    assert_eq!(to_attrs(&back), o.attrs);
}
