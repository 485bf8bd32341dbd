//! The JSON plan (`--output json`, saved plans): the document of
//! [`crate::plan::doc`] (re-exported here), serialized with a new random
//! salt per document, and its JSON Schema. Secrets are masked.

use sha2::Digest;

pub use crate::plan::doc::{
    to_doc_salted, ActionDoc, AttrDoc, PlanDoc, ResourceChange, SummaryDoc, FORMAT_VERSION,
};
use crate::plan::Plan;

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
    crate::hash::hex(&bytes)
}

pub fn render(plan: &Plan) -> String {
    serde_json::to_string_pretty(&to_doc(plan)).unwrap_or_default()
}

/// The JSON Schema of [`PlanDoc`], pretty-printed.
pub fn plan_schema_text() -> String {
    schema_text(schemars::schema_for!(PlanDoc))
}

/// The JSON Schema of `scar drift -o json`, pretty-printed.
pub fn drift_schema_text() -> String {
    schema_text(schemars::schema_for!(crate::drift::doc::DriftDoc))
}

fn schema_text(schema: schemars::Schema) -> String {
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::secret_plan;
    use crate::plan::staleness;

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
