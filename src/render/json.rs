//! The JSON plan (`--output json`, saved plans): a versioned document whose
//! schema is `schemas/plan.schema.json`. Secrets are masked.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest;

use super::{masked, sensitive_parts};
use crate::plan::{Action, Plan};

/// Version of the JSON plan format: a minor bump adds fields, a major bump
/// breaks them.
pub const FORMAT_VERSION: &str = "1.1";

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
    pub warnings: Vec<WarningDoc>,
    /// A random salt, new for every document: the fingerprints and
    /// `sensitive_digest`s below are hashes salted with it, so that no
    /// hash in a plan can be matched against a guessed secret from
    /// another plan. Absent in documents of format 1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
}

/// A warning or note about the manifests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WarningDoc {
    /// `warning` or `note`.
    pub severity: String,
    pub code: String,
    pub message: String,
    /// `file:line:column`, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
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
    /// Absent when known only after apply (`after_unknown`) or on delete.
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

/// The plan as a JSON document, with a new random salt.
pub fn to_doc(plan: &Plan) -> PlanDoc {
    to_doc_salted(plan, &new_salt())
}

/// A random salt (hex), from the operating system's generator.
fn new_salt() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No generator: a salt that still differs from run to run.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let seed = format!("{}:{}", now.as_nanos(), std::process::id());
        bytes.copy_from_slice(&sha2::Sha256::digest(seed.as_bytes())[..16]);
    }
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `sha256(salt NUL text)`, hex, shortened to 16 bytes.
fn salted(salt: &str, text: &str) -> String {
    let mut h = sha2::Sha256::new();
    h.update(salt.as_bytes());
    h.update([0]);
    h.update(text.as_bytes());
    hex(&h.finalize()[..16])
}

/// The plan as a JSON document whose hashes are salted with `salt`.
pub fn to_doc_salted(plan: &Plan, salt: &str) -> PlanDoc {
    let s = plan.summary();
    PlanDoc {
        salt: Some(salt.to_string()),
        warnings: plan
            .warnings
            .iter()
            .map(|w| WarningDoc {
                severity: w.severity.clone(),
                code: w.code.clone(),
                message: w.message.clone(),
                location: w.location.clone(),
                hint: w.hint.clone(),
            })
            .collect(),
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

pub fn render(plan: &Plan) -> String {
    serde_json::to_string_pretty(&to_doc(plan)).unwrap_or_default()
}

/// The JSON Schema of [`PlanDoc`], pretty-printed.
pub fn plan_schema_text() -> String {
    let schema = schemars::schema_for!(PlanDoc);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

/// Why a saved plan no longer describes what apply would do, if it does
/// not: another workflow, other changes, or resources that changed since
/// (their fingerprints differ).
pub fn staleness(saved: &PlanDoc, fresh: &Plan) -> Option<String> {
    // What was read back of a package (the previous script and config) is
    // shown for review only: `code_sha256` says whether the code is the
    // same, and reading back can work at one time and not at another.
    fn compared(attrs: &[AttrDoc]) -> Option<Value> {
        let kept: Vec<&AttrDoc> = attrs
            .iter()
            .filter(|a| !crate::model::PACKAGE_ATTRS.contains(&a.name.as_str()))
            .collect();
        serde_json::to_value(kept).ok()
    }
    let now = match &saved.salt {
        Some(salt) => to_doc_salted(fresh, salt),
        None => {
            // A 1.0 document: its fingerprints were not salted.
            let mut d = to_doc_salted(fresh, "");
            for (c, f) in d.resource_changes.iter_mut().zip(&fresh.changes) {
                c.fingerprint = f.fingerprint.clone();
            }
            d
        }
    };
    if saved.workflow != now.workflow {
        return Some(format!(
            "it is for workflow `{}`, the manifests are workflow `{}`",
            saved.workflow, now.workflow
        ));
    }
    let key = |c: &ResourceChange| (c.address.clone(), c.action, c.fingerprint.clone());
    let mut a: Vec<_> = saved.resource_changes.iter().map(key).collect();
    let mut b: Vec<_> = now.resource_changes.iter().map(key).collect();
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    if a == b {
        let same_attrs = saved
            .resource_changes
            .iter()
            .zip(now.resource_changes.iter())
            .all(|(x, y)| compared(&x.changed_attributes) == compared(&y.changed_attributes));
        if same_attrs {
            return None;
        }
        return Some("the planned attribute values differ".into());
    }
    let first = a
        .iter()
        .zip(b.iter())
        .find(|(x, y)| x != y)
        .map(|(x, _)| x.0.clone())
        .or_else(|| a.get(b.len()).map(|x| x.0.clone()))
        .or_else(|| b.get(a.len()).map(|x| x.0.clone()))
        .unwrap_or_default();
    Some(format!("`{first}` changed since the plan was made"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Addr, Kind};
    use crate::plan::{Action, AttrDiff, Change};
    use serde_json::json;

    fn plan(code_after: &str, script_before: Option<&str>) -> Plan {
        let diff = |name: &str, before: Option<Value>, after: &str| AttrDiff {
            name: name.into(),
            before,
            after: Some(json!(after)),
            after_unknown: false,
            forces_replacement: false,
            sensitive: Vec::new(),
        };
        let mut diffs = vec![diff("code_sha256", Some(json!("old=")), code_after)];
        if let Some(s) = script_before {
            diffs.push(diff("init_script", Some(json!(s)), "echo two\n"));
        }
        Plan {
            workflow: "w".into(),
            changes: vec![Change {
                address: Addr::new(Kind::LambdaFunction, "f"),
                action: Action::Update,
                reason: String::new(),
                diffs,
                after: None,
                outputs: Default::default(),
                depends_on: Vec::new(),
                fingerprint: Some("ab".into()),
            }],
            warnings: Vec::new(),
        }
    }

    #[test]
    fn a_saved_plan_is_not_stale_because_the_old_script_could_not_be_read_again() {
        let saved = to_doc(&plan("new=", Some("echo one\n")));
        assert_eq!(staleness(&saved, &plan("new=", None)), None);
        assert_eq!(
            staleness(&saved, &plan("newer=", Some("echo one\n"))).as_deref(),
            Some("the planned attribute values differ")
        );
    }

    fn secret_plan(secret: &str) -> Plan {
        let mut p = plan("new=", None);
        p.changes[0].diffs = vec![AttrDiff {
            name: "environment".into(),
            before: Some(json!({"DB_PASS": "old-secret", "MODE": "a"})),
            after: Some(json!({"DB_PASS": secret, "MODE": "a"})),
            after_unknown: false,
            forces_replacement: false,
            sensitive: vec!["DB_PASS".into()],
        }];
        p
    }

    #[test]
    fn a_saved_plan_is_stale_when_a_secret_changes_though_no_secret_is_written() {
        let saved = to_doc(&secret_plan("reviewed-secret"));
        let text = serde_json::to_string(&saved).unwrap();
        assert!(
            !text.contains("reviewed-secret") && !text.contains("old-secret"),
            "{text}"
        );
        assert_eq!(staleness(&saved, &secret_plan("reviewed-secret")), None);
        assert_eq!(
            staleness(&saved, &secret_plan("swapped-secret")).as_deref(),
            Some("the planned attribute values differ")
        );
    }

    #[test]
    fn hashes_are_salted_per_document() {
        let a = to_doc(&secret_plan("s"));
        let b = to_doc(&secret_plan("s"));
        assert_ne!(a.salt, b.salt);
        let (fa, fb) = (&a.resource_changes[0], &b.resource_changes[0]);
        assert_ne!(fa.fingerprint, fb.fingerprint);
        assert_ne!(
            fa.changed_attributes[0].sensitive_digest,
            fb.changed_attributes[0].sensitive_digest
        );
        // The raw (unsalted) fingerprint is never written.
        assert_ne!(fa.fingerprint.as_deref(), Some("ab"));
        // Each stays valid against a fresh plan of the same account.
        assert_eq!(staleness(&a, &secret_plan("s")), None);
        assert_eq!(staleness(&b, &secret_plan("s")), None);
    }
}
