//! Plans for people and programs: terraform-like text, Markdown for
//! pull-request comments, JSON in a versioned schema. Secrets are masked in every format.

pub mod json;
pub mod markdown;
pub mod text;

use serde_json::Value;

use crate::plan::AttrDiff;

/// What stands for a secret value.
pub const SENSITIVE: &str = crate::secrets::MASK;

/// A value with the sensitive parts of `diff` masked.
pub fn mask(value: &Value, diff: &AttrDiff) -> Value {
    if diff.sensitive.iter().any(String::is_empty) {
        return Value::String(SENSITIVE.into());
    }
    match value {
        Value::Object(o) if !diff.sensitive.is_empty() => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    if diff.sensitive.contains(k) {
                        (k.clone(), Value::String(SENSITIVE.into()))
                    } else {
                        (k.clone(), v.clone())
                    }
                })
                .collect(),
        ),
        other => other.clone(),
    }
}
