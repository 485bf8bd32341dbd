//! Plans for the unit tests of the plan document, its staleness check and
//! its renderers: one update of `lambda_function.f`.

use serde_json::json;

use super::{Action, AttrDiff, Change, Plan};
use crate::model::{Addr, Kind};

/// A plan of one update of `lambda_function.f` with these diffs, observed
/// with fingerprint `ab`.
pub fn one_update(diffs: Vec<AttrDiff>) -> Plan {
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
        id: None,
        inputs: None,
        warnings: Vec::new(),
        outputs: Vec::new(),
    }
}

/// An update whose only sensitive value, `DB_PASS`, becomes `secret`
/// (from `old-secret`).
pub fn secret_plan(secret: &str) -> Plan {
    one_update(vec![AttrDiff {
        name: "environment".into(),
        before: Some(json!({"DB_PASS": "old-secret", "MODE": "a"})),
        after: Some(json!({"DB_PASS": secret, "MODE": "a"})),
        after_unknown: false,
        forces_replacement: false,
        sensitive: vec!["DB_PASS".into()],
    }])
}
