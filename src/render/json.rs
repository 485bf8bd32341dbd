//! The JSON plan (`--output json`, saved plans): a versioned document whose
//! schema is `schemas/plan.schema.json`. Secrets are masked.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::mask;
use crate::plan::{Action, Plan};

/// Version of the JSON plan format: a minor bump adds fields, a major bump
/// breaks them.
pub const FORMAT_VERSION: &str = "1.0";

/// A plan as data.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "scar plan")]
pub struct PlanDoc {
    pub format_version: String,
    pub workflow: String,
    pub resource_changes: Vec<ResourceChange>,
    pub summary: SummaryDoc,
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

/// The plan as a JSON document.
pub fn to_doc(plan: &Plan) -> PlanDoc {
    let s = plan.summary();
    PlanDoc {
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
                    .map(|d| AttrDoc {
                        name: d.name.clone(),
                        before: d.before.as_ref().map(|v| mask(v, d)),
                        after: d.after.as_ref().map(|v| mask(v, d)),
                        after_unknown: d.after_unknown,
                        forces_replacement: d.forces_replacement,
                        sensitive: d.sensitive.clone(),
                    })
                    .collect(),
                depends_on: c.depends_on.iter().map(|a| a.to_string()).collect(),
                fingerprint: c.fingerprint.clone(),
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
    let now = to_doc(fresh);
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
}
