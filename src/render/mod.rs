//! Plans for people and programs: terraform-like text, Markdown for
//! pull-request comments, JSON in a versioned schema. Secrets are masked in every format.

pub mod json;
pub mod markdown;
pub mod text;

use serde_json::Value;

use crate::plan::AttrDiff;

/// What stands for a secret value.
pub const SENSITIVE: &str = crate::secrets::MASK;

/// What stands for a secret value that this change alters: a change to a
/// secret alone never renders as an empty diff.
pub const SENSITIVE_CHANGED: &str = crate::secrets::MASK_CHANGED;

/// The before and after values of `diff`, with its sensitive parts
/// masked: [`SENSITIVE`], or [`SENSITIVE_CHANGED`] on the after side
/// where the secret differs from before.
pub fn masked(diff: &AttrDiff) -> (Option<Value>, Option<Value>) {
    let whole = diff.sensitive.iter().any(String::is_empty);
    let before = diff.before.as_ref();
    let after = diff.after.as_ref();
    if whole {
        let changed = before.is_some() && after.is_some() && before != after;
        return (
            before.map(|_| Value::String(SENSITIVE.into())),
            after.map(|_| {
                Value::String(
                    if changed {
                        SENSITIVE_CHANGED
                    } else {
                        SENSITIVE
                    }
                    .into(),
                )
            }),
        );
    }
    fn part<'a>(v: Option<&'a Value>, k: &str) -> Option<&'a Value> {
        v.and_then(|v| v.get(k))
    }
    let mask_one = |v: &Value, after_side: bool| match v {
        Value::Object(o) if !diff.sensitive.is_empty() => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    if diff.sensitive.contains(k) {
                        let changed = after_side
                            && part(before, k).is_some()
                            && part(before, k) != part(after, k);
                        let m = if changed {
                            SENSITIVE_CHANGED
                        } else {
                            SENSITIVE
                        };
                        (k.clone(), Value::String(m.into()))
                    } else {
                        (k.clone(), x.clone())
                    }
                })
                .collect(),
        ),
        other => other.clone(),
    };
    (
        before.map(|v| mask_one(v, false)),
        after.map(|v| mask_one(v, true)),
    )
}

/// The raw sensitive parts of a diff (before and after), for a salted
/// digest; `None` when it has none.
pub fn sensitive_parts(diff: &AttrDiff) -> Option<Value> {
    if diff.sensitive.is_empty() {
        return None;
    }
    let pick = |v: Option<&Value>| -> Value {
        let Some(v) = v else { return Value::Null };
        if diff.sensitive.iter().any(String::is_empty) {
            return v.clone();
        }
        Value::Object(
            diff.sensitive
                .iter()
                .map(|k| (k.clone(), v.get(k).cloned().unwrap_or(Value::Null)))
                .collect(),
        )
    };
    Some(Value::Array(vec![
        pick(diff.before.as_ref()),
        pick(diff.after.as_ref()),
    ]))
}
