//! `schemas/manifest.schema.json` is the schema generated from the Rust
//! types. Run with `SCAR_UPDATE_SCHEMAS=1` to rewrite it after changing them.

use scar::manifest::schema::manifest_schema_text;

#[test]
fn manifest_schema_file_is_fresh() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/manifest.schema.json");
    let generated = manifest_schema_text();
    if std::env::var_os("SCAR_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == generated,
        "{} is stale: run `SCAR_UPDATE_SCHEMAS=1 cargo test --test schema_fresh` and commit it",
        path.display()
    );
}

#[test]
fn manifest_reference_is_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/manifest.md");
    let generated = scar::manifest::reference::manifest_reference();
    if std::env::var_os("SCAR_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == generated,
        "{} is stale: run `SCAR_UPDATE_SCHEMAS=1 cargo test --test schema_fresh` and commit it",
        path.display()
    );
    // Every key of every block is documented.
    for key in [
        "`memory`",
        "`timeout_threshold`",
        "`log_retention_policy_in_days`",
        "`workflow`",
        "`storage_provider`",
        "`secret_key`",
        "`multi_node_parallel`",
        "`number_nodes`",
    ] {
        assert!(stored.contains(key), "{key} missing from docs/manifest.md");
    }
}

#[test]
fn schema_documents_defaults_and_scar_keys() {
    let schema: serde_json::Value = serde_json::from_str(&manifest_schema_text()).unwrap();
    let lambda = &schema["$defs"]["Lambda"]["properties"];
    assert_eq!(lambda["memory"]["default"], 512);
    assert_eq!(lambda["memory"]["minimum"], 128);
    assert_eq!(lambda["memory"]["maximum"], 10240);
    assert_eq!(lambda["timeout"]["default"], 300);
    assert_eq!(
        schema["$defs"]["Container"]["properties"]["timeout_threshold"]["default"],
        10
    );
    assert_eq!(
        schema["$defs"]["CloudWatch"]["properties"]["log_retention_policy_in_days"]["default"],
        30
    );
    assert!(schema["properties"]["workflow"]["description"]
        .as_str()
        .unwrap()
        .contains("(scar)"));
    assert_eq!(schema["required"], serde_json::json!(["functions"]));
}
