//! The schemas in `schemas/` are the contract with `scar`: they must accept
//! what SCAR's configs hold and what the supervisor really gives the script,
//! and reject what the supervisor rejects. Validated with the `jsonschema`
//! package of the emulator's Python (draft 2020-12).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::{json, Value};

fn schema(name: &str) -> PathBuf {
    testkit::workspace_root().join("schemas").join(name)
}

/// `Ok` or the validator's messages.
fn validate(schema: &Path, instance: &Value) -> Result<(), String> {
    let python = emulator_python();
    let code = r#"
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
errors = [f"{list(e.path)}: {e.message}" for e in Draft202012Validator(schema).iter_errors(json.loads(sys.stdin.read()))]
print("\n".join(errors))
sys.exit(1 if errors else 0)
"#;
    let mut child = Command::new(python)
        .arg("-c")
        .arg(code)
        .arg(schema)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the emulator's python");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(instance.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Every 4.x example's function config (lambda block + storage_providers) and
/// SCAR's generated `function_config.yaml`.
fn corpus_configs(corpus: &Path) -> Vec<(String, Value)> {
    let mut configs = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(corpus)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && !n.starts_with("legacy-") && !n.starts_with("_test"))
        .collect();
    names.sort();
    for name in names {
        let text = std::fs::read_to_string(corpus.join(&name)).unwrap();
        let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
        if name.ends_with("function_config.yaml") {
            configs.push((name, doc));
            continue;
        }
        for (i, f) in doc["functions"]["aws"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let mut lambda = f["lambda"].clone();
            lambda["storage_providers"] =
                doc.get("storage_providers").cloned().unwrap_or(Value::Null);
            configs.push((format!("{name}[{i}]"), lambda));
        }
    }
    configs
}

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn scar_configs_match_the_function_config_schema() {
    let corpus = testkit::shared_path("corpus/scar-examples");
    let configs = corpus_configs(&corpus);
    assert!(configs.len() >= 12, "{}", configs.len());
    let schema = schema("function-config.schema.json");
    for (name, config) in configs {
        validate(&schema, &config).unwrap_or_else(|e| panic!("{name}: {e}"));
        // And the supervisor reads it.
        let yaml = serde_yaml_ng::to_string(&config).unwrap();
        scar_supervisor::config::parse(&yaml, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn the_schema_rejects_what_the_supervisor_rejects() {
    let schema = schema("function-config.schema.json");
    for bad in [
        json!({"execution_mode": "lamda"}),
        json!({"file_stage_in": "yes"}),
        json!({"output": [{"path": "bucket/out"}]}),
        json!({"output": [{"storage_provider": "onedata.x", "path": "b"}]}),
        json!({"container": {"timeout_threshold": -1}}),
    ] {
        assert!(validate(&schema, &bad).is_err(), "accepted {bad}");
        let yaml = serde_yaml_ng::to_string(&bad).unwrap();
        let read = scar_supervisor::config::parse(&yaml, "t");
        // onedata parses (it fails at upload time); the others are config errors.
        if !bad.to_string().contains("onedata") {
            assert!(read.is_err(), "the supervisor accepted {bad}");
        }
    }
    validate(&schema, &json!({})).unwrap();
}

#[test]
fn the_script_environment_matches_its_schema() {
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    runtime().block_on(async {
        create_bucket(&s3c, "schema-in").await;
        put(&s3c, "schema-in", "in/x.txt", b"x").await;
    });
    let f = Function::new("name: s\ninit_script: env.sh\n").with_script("env.sh", "env -0\n");
    let run = f.run_with(
        Some(&moto),
        &s3_event("schema-in", "in/x.txt"),
        &[("AWS_LAMBDA_REQUEST_ID", "req-schema")],
    );
    run.assert_ok();
    let env = env_map(&run.body());
    let env_json: Value = serde_json::to_value(&env).unwrap();
    let schema_path = schema("script-env.schema.json");
    validate(&schema_path, &env_json).unwrap();
    // Every variable the schema documents is really set for an S3 event.
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
    for var in doc["properties"].as_object().unwrap().keys() {
        assert!(env.contains_key(var), "{var} is documented but not set");
    }
}
