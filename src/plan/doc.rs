//! The plan as data: the versioned document of `--output json` and of
//! saved plans (its schema is `schemas/plan.schema.json`), with secrets
//! masked and the fingerprints and secret digests salted. It is also the
//! comparable form a saved plan is checked against ([`super::staleness()`]).
//! Pure: the salt is given; `render::json` draws a new one per document.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest;

use super::{Action, AttrDiff, Plan, PlanOutput, Warning};
use crate::secrets::{MASK, MASK_CHANGED};

/// Version of the JSON plan format: a minor bump adds fields, a major bump
/// breaks them.
pub const FORMAT_VERSION: &str = "1.2";

/// A plan as data.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "scar plan")]
pub struct PlanDoc {
    pub format_version: String,
    pub workflow: String,
    pub resource_changes: Vec<ResourceChange>,
    pub summary: SummaryDoc,
    /// The manifests' warnings and notes (secrets masked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// A random salt, new for every document: the fingerprints and
    /// `sensitive_digest`s below are hashes salted with it, so that no
    /// hash in a plan can be matched against a guessed secret from
    /// another plan. Absent in documents of format 1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// What the plan was made from (format 1.2): `apply --plan` reads the
    /// same manifests again when given no `-f`, and refuses the plan when
    /// one of them changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<InputsDoc>,
    /// What the wanted resources give their users once applied (a
    /// stage's `invoke_url`), by address and name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<PlanOutput>,
}

/// What a saved plan was made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InputsDoc {
    /// The `-f` paths as given (files or folders), relative to the folder
    /// scar ran in.
    pub paths: Vec<String>,
    /// Each manifest file read.
    pub files: Vec<InputFileDoc>,
    /// The `--allow-files-in` folders.
    #[serde(default)]
    pub allow_files_in: Vec<String>,
    /// Whether warnings counted as errors (`--strict`).
    #[serde(default)]
    pub strict: bool,
    /// The `--target` addresses: only they, and what they need, were
    /// planned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InputFileDoc {
    pub path: String,
    /// The SHA-256 of its text, salted with the document's `salt` (the
    /// text may hold secrets).
    pub digest: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct SummaryDoc {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub blocked: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ResourceChange {
    /// `lambda_function.scar-uppercase`.
    pub address: String,
    /// The resource kind (`lambda_function`, `s3_bucket`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub action: ActionDoc,
    /// Why, for people.
    pub action_reason: String,
    /// Attributes that change.
    pub changed_attributes: Vec<AttrDoc>,
    /// Addresses this change waits for.
    pub depends_on: Vec<String>,
    /// Fingerprint of the observed resource: a saved plan applies only if
    /// the account still matches it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ActionDoc {
    Create,
    Update,
    Replace,
    Delete,
    NoOp,
    Keep,
    Blocked,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct AttrDoc {
    pub name: String,
    /// Absent on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// Absent when known only after apply (`after_unknown`) or on delete;
    /// a map of which only some values are unknown is given, those values
    /// as `(known after apply)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    #[serde(default)]
    pub after_unknown: bool,
    #[serde(default)]
    pub forces_replacement: bool,
    /// Keys whose values are masked (`""`: the whole value).
    #[serde(default)]
    pub sensitive: Vec<String>,
    /// A hash of the masked values (before and after) salted with the
    /// document's `salt`: a saved plan is stale when a secret changes,
    /// though neither value is ever written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive_digest: Option<String>,
}

impl From<Action> for ActionDoc {
    fn from(a: Action) -> Self {
        match a {
            Action::Create => ActionDoc::Create,
            Action::Update => ActionDoc::Update,
            Action::Replace => ActionDoc::Replace,
            Action::Delete => ActionDoc::Delete,
            Action::NoOp => ActionDoc::NoOp,
            Action::Keep => ActionDoc::Keep,
            Action::Blocked => ActionDoc::Blocked,
        }
    }
}

/// `sha256(salt NUL text)`, hex, shortened to 16 bytes.
fn salted(salt: &str, text: &str) -> String {
    let mut h = sha2::Sha256::new();
    h.update(salt.as_bytes());
    h.update([0]);
    h.update(text.as_bytes());
    crate::hash::hex(&h.finalize()[..16])
}

/// The plan as a JSON document whose hashes are salted with `salt`.
pub fn to_doc_salted(plan: &Plan, salt: &str) -> PlanDoc {
    let s = plan.summary();
    PlanDoc {
        inputs: plan.inputs.as_ref().map(|i| InputsDoc {
            paths: i.paths.clone(),
            files: i
                .files
                .iter()
                .map(|(path, sha)| InputFileDoc {
                    path: path.clone(),
                    digest: salted(salt, sha),
                })
                .collect(),
            allow_files_in: i.allow_files_in.clone(),
            strict: i.strict,
            targets: i.targets.clone(),
        }),
        salt: Some(salt.to_string()),
        warnings: plan.warnings.clone(),
        outputs: plan.outputs.clone(),
        format_version: FORMAT_VERSION.into(),
        workflow: plan.workflow.clone(),
        resource_changes: plan
            .changes
            .iter()
            .map(|c| ResourceChange {
                address: c.address.to_string(),
                kind: c.address.kind.as_str().into(),
                name: c.address.name.clone(),
                action: c.action.into(),
                action_reason: c.reason.clone(),
                changed_attributes: c
                    .diffs
                    .iter()
                    .map(|d| {
                        let (before, after) = masked(d);
                        AttrDoc {
                            name: d.name.clone(),
                            before,
                            after,
                            after_unknown: d.after_unknown,
                            forces_replacement: d.forces_replacement,
                            sensitive: d.sensitive.clone(),
                            sensitive_digest: sensitive_parts(d)
                                .map(|v| salted(salt, &v.to_string())),
                        }
                    })
                    .collect(),
                depends_on: c.depends_on.iter().map(|a| a.to_string()).collect(),
                // The observed fingerprint covers secret values too: only
                // its salted hash is written.
                fingerprint: c.fingerprint.as_ref().map(|f| salted(salt, f)),
            })
            .collect(),
        summary: SummaryDoc {
            add: s.add,
            change: s.change,
            destroy: s.destroy,
            blocked: s.blocked,
        },
    }
}

/// The before and after values of `diff`, with its sensitive parts
/// masked: [`MASK`], or [`MASK_CHANGED`] on the after side
/// where the secret differs from before.
pub fn masked(diff: &AttrDiff) -> (Option<Value>, Option<Value>) {
    let whole = diff.sensitive.iter().any(String::is_empty);
    let before = diff.before.as_ref();
    let after = diff.after.as_ref();
    if whole {
        let changed = before.is_some() && after.is_some() && before != after;
        return (
            before.map(|_| Value::String(MASK.into())),
            after.map(|_| Value::String(if changed { MASK_CHANGED } else { MASK }.into())),
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
                        let m = if changed { MASK_CHANGED } else { MASK };
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
