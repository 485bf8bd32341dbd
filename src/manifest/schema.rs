//! The manifest's JSON Schema, generated from [`super::types`].
//!
//! `scar schema` prints it; `schemas/manifest.schema.json` holds a copy that
//! a test keeps fresh, so editors reading `# yaml-language-server: $schema=`
//! see the same format the loader checks.

use std::sync::OnceLock;

use serde_json::Value;

use super::types::ManifestDoc;

/// The schema as JSON (generated once per process).
pub fn manifest_schema() -> Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let schema = schemars::schema_for!(ManifestDoc);
            let mut v = serde_json::to_value(schema).unwrap_or(Value::Null);
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "$id".into(),
                    Value::String(
                        "https://github.com/grycap/scar/schemas/manifest.schema.json".into(),
                    ),
                );
            }
            v
        })
        .clone()
}

/// The schema as pretty-printed JSON with a final newline.
pub fn manifest_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&manifest_schema()).unwrap_or_default();
    s.push('\n');
    s
}
