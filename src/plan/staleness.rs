//! Saved-plan staleness: whether a plan saved by `scar plan --out` still
//! describes what apply would do now, by comparing it with a fresh plan in
//! the saved document's own salt.

use serde_json::Value;

use super::doc::{to_doc_salted, AttrDoc, PlanDoc, ResourceChange};
use super::Plan;

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
    use crate::plan::fixtures::{one_update, secret_plan};
    use crate::plan::AttrDiff;
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
        one_update(diffs)
    }

    #[test]
    fn a_saved_plan_is_not_stale_because_the_old_script_could_not_be_read_again() {
        let saved = to_doc_salted(&plan("new=", Some("echo one\n")), "a-salt");
        assert_eq!(staleness(&saved, &plan("new=", None)), None);
        assert_eq!(
            staleness(&saved, &plan("newer=", Some("echo one\n"))).as_deref(),
            Some("the planned attribute values differ")
        );
    }

    #[test]
    fn a_saved_plan_is_stale_when_a_secret_changes_though_no_secret_is_written() {
        let saved = to_doc_salted(&secret_plan("reviewed-secret"), "a-salt");
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
}
