//! Saved-plan staleness: whether a plan saved by `scar plan --out` still
//! describes what apply would do now, by comparing it with a fresh plan in
//! the saved document's own salt.

use serde_json::Value;

use super::doc::{to_doc_salted, AttrDoc, InputsDoc, PlanDoc, ResourceChange};
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
    if let (Some(was), Some(is)) = (&saved.inputs, &now.inputs) {
        if let Some(why) = inputs_changed(was, is) {
            return Some(why);
        }
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
    // The first address whose change differs, and how.
    let saved_of = |addr: &str| a.iter().find(|x| x.0 == addr);
    let now_of = |addr: &str| b.iter().find(|x| x.0 == addr);
    let mut addrs: Vec<&String> = a.iter().chain(b.iter()).map(|x| &x.0).collect();
    addrs.sort();
    addrs.dedup();
    for addr in addrs {
        match (saved_of(addr), now_of(addr)) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(x), Some(y)) if x.1 == y.1 => {
                return Some(format!(
                    "`{addr}` changed in the account since the plan was made"
                ))
            }
            (Some(x), Some(y)) => {
                return Some(format!(
                    "`{addr}` now needs {}, the plan says {}",
                    action_name(y.1),
                    action_name(x.1)
                ))
            }
            (Some(_), None) => return Some(format!("`{addr}` needs no change any more")),
            (None, _) => return Some(format!("`{addr}` needs a change the plan does not have")),
        }
    }
    Some("the planned changes differ".into())
}

fn action_name(a: super::doc::ActionDoc) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Which manifest file changed between the saved plan and now, if one did.
fn inputs_changed(was: &InputsDoc, is: &InputsDoc) -> Option<String> {
    for f in &was.files {
        match is.files.iter().find(|g| g.path == f.path) {
            None => return Some(format!("the manifest `{}` is no longer read", f.path)),
            Some(g) if g.digest != f.digest => {
                return Some(format!(
                    "the manifest `{}` changed since the plan was made",
                    f.path
                ))
            }
            Some(_) => {}
        }
    }
    is.files
        .iter()
        .find(|g| !was.files.iter().any(|f| f.path == g.path))
        .map(|g| format!("the manifest `{}` is new since the plan was made", g.path))
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
    fn a_saved_plan_names_the_manifest_that_changed_appeared_or_went() {
        let with = |files: &[(&str, &str)]| {
            let mut p = plan("new=", None);
            p.inputs = Some(crate::plan::Inputs {
                paths: vec!["m".into()],
                files: files
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
                ..Default::default()
            });
            p
        };
        let saved = to_doc_salted(&with(&[("m/a.yaml", "1"), ("m/b.yaml", "2")]), "s");
        let stale = |files: &[(&str, &str)]| staleness(&saved, &with(files));
        assert_eq!(stale(&[("m/a.yaml", "1"), ("m/b.yaml", "2")]), None);
        assert_eq!(
            stale(&[("m/a.yaml", "1"), ("m/b.yaml", "3")]).as_deref(),
            Some("the manifest `m/b.yaml` changed since the plan was made")
        );
        assert_eq!(
            stale(&[("m/a.yaml", "1")]).as_deref(),
            Some("the manifest `m/b.yaml` is no longer read")
        );
        assert_eq!(
            stale(&[("m/a.yaml", "1"), ("m/b.yaml", "2"), ("m/c.yaml", "4")]).as_deref(),
            Some("the manifest `m/c.yaml` is new since the plan was made")
        );
        let digests: Vec<&str> = saved
            .inputs
            .as_ref()
            .unwrap()
            .files
            .iter()
            .map(|f| f.digest.as_str())
            .collect();
        assert!(
            digests.len() == 2 && !digests.contains(&"1") && !digests.contains(&"2"),
            "salted: {digests:?}"
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
