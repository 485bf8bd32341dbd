//! What the kinds' modules share: the one conversion between a kind's
//! typed attributes and the plan's attribute map, scar's own tags, and the
//! answers a step gives when the account is not what the plan saw.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::cloud::{CloudError, ErrorKind, Tags};
use crate::manifest::checks::{split_path, split_provider};
use crate::manifest::FunctionDef;
use crate::model::{applied, owner_of, Addr, Attrs, Observed, Owner, Resource, FACT_APPLIED_PLAN};

/// A kind's typed attributes as the plan's attribute map (normalized JSON
/// values, by name). The one way attributes are written.
pub fn to_attrs<T: Serialize>(typed: &T) -> Attrs {
    match serde_json::to_value(typed) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        _ => Attrs::new(),
    }
}

/// The plan's attribute map as a kind's typed attributes. The one way
/// attributes are read; an error names the resource (a saved plan edited
/// by hand, or one written by another version of scar).
pub fn from_attrs<T: DeserializeOwned>(addr: &Addr, attrs: &Attrs) -> Result<T, CloudError> {
    let map: serde_json::Map<String, Value> =
        attrs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    serde_json::from_value(Value::Object(map)).map_err(|e| {
        CloudError::with_kind(
            format!("reading the attributes of {addr}"),
            ErrorKind::Invalid,
            format!("they do not fit its kind ({e}); make the plan again with `scar plan`"),
        )
    })
}

/// Only scar's own tags are compared: tags others add are not drift, and
/// the applied record ([`crate::model::applied`]) is bookkeeping, never a
/// difference.
pub fn scar_tags(tags: Option<&Tags>) -> Tags {
    tags.map(|t| {
        t.iter()
            .filter(|(k, _)| k.starts_with("scar:") && !applied::is_record_tag(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    })
    .unwrap_or_default()
}

/// A wanted resource with its typed attributes.
pub fn wanted<T: Serialize>(addr: Addr, attrs: &T) -> Resource {
    Resource {
        attrs: to_attrs(attrs),
        ..Resource::new(addr)
    }
}

/// An observed resource with its typed attributes.
pub fn observed<T: Serialize>(addr: Addr, attrs: &T, owner: Owner) -> Observed {
    Observed {
        addr,
        attrs: to_attrs(attrs),
        owner,
        outputs: BTreeMap::new(),
        facts: BTreeMap::new(),
        applied: None,
    }
}

/// An observed resource of a kind that keeps its record in tags
/// ([`crate::resources::Fingerprint::Tags`]): its tags as compared
/// ([`scar_tags`]) go into its attributes, its record into `applied`.
pub fn observed_tagged<T: Serialize>(
    addr: Addr,
    attrs: &T,
    owner: Owner,
    tags: Option<&Tags>,
) -> Observed {
    let mut o = observed(addr, attrs, owner);
    read_record(&mut o, tags);
    o
}

/// Reads a resource's applied record from its tags into `applied`, and
/// the saved plan that wrote it into the fact [`FACT_APPLIED_PLAN`].
pub fn read_record(o: &mut Observed, tags: Option<&Tags>) {
    let Some(tags) = tags else { return };
    o.applied = applied::from_tags(tags);
    if let Some(plan) = applied::plan_of(tags) {
        o.facts
            .insert(FACT_APPLIED_PLAN.to_string(), Value::String(plan));
    }
}

/// A JSON document as the account returns it (a policy), parsed; kept as
/// text if it is not JSON.
pub fn parse_json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
}

/// A create's answer that calls for reading what is there: "already
/// exists", or a conflict with a concurrent change of the same name.
pub fn found_or_conflict(e: &CloudError) -> bool {
    matches!(e.kind, ErrorKind::AlreadyExists | ErrorKind::Conflict)
}

/// A resource found where the plan expected none: taken over only if this
/// workflow's tags are on it (an earlier run created it); anything else is
/// left alone, as the plan would have.
pub fn check_owner(addr: &Addr, tags: Option<&Tags>, workflow: &str) -> Result<(), CloudError> {
    let whose = match owner_of(tags, workflow) {
        Owner::Workflow => return Ok(()),
        Owner::OtherWorkflow(w) => format!("it belongs to workflow `{w}`"),
        Owner::Unmanaged => "it was not created by scar".to_string(),
        Owner::Stack(s) => format!("it is managed by the CloudFormation stack `{s}`"),
    };
    Err(CloudError::with_kind(
        format!("creating {addr}"),
        ErrorKind::Invalid,
        format!("it appeared after the plan was made and {whose}: left as it is (run `scar plan` to see it)"),
    ))
}

/// An update of something the plan saw but that is gone now.
pub fn vanished(addr: &Addr) -> CloudError {
    CloudError::with_kind(
        format!("updating {addr}"),
        ErrorKind::NotFound,
        "it no longer exists (deleted since the plan was made); run apply again to create it",
    )
}

/// The one output every kind that has an ARN gives.
pub fn arn_output(arn: String) -> BTreeMap<String, String> {
    BTreeMap::from([("arn".to_string(), arn)])
}

/// The buckets and folders a function is triggered from (its `input`s on
/// S3: each gets a permission and a notification entry).
pub fn triggers(f: &FunctionDef) -> impl Iterator<Item = (&str, &str)> {
    f.spec
        .lambda
        .input
        .iter()
        .filter(|i| i.storage_provider == "s3")
        .map(|i| split_path(&i.path))
}

/// The buckets and folders a function reads from on the default S3
/// provider.
pub fn s3_reads(f: &FunctionDef) -> impl Iterator<Item = (&str, &str)> {
    f.spec
        .lambda
        .input
        .iter()
        .filter(|s| split_provider(&s.storage_provider) == ("s3", "default"))
        .map(|s| split_path(&s.path))
}

/// The buckets and folders a function writes to on the default S3
/// provider.
pub fn s3_writes(f: &FunctionDef) -> impl Iterator<Item = (&str, &str)> {
    f.spec
        .lambda
        .output
        .iter()
        .filter(|s| split_provider(&s.storage_provider) == ("s3", "default"))
        .map(|s| split_path(&s.path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Sample {
        days: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        extra: Option<String>,
        tags: Tags,
    }

    #[test]
    fn typed_attributes_go_to_the_map_and_back() {
        let s = Sample {
            days: Some(7),
            extra: None,
            tags: Tags::from([("scar:managed".into(), "true".into())]),
        };
        let attrs = to_attrs(&s);
        let keys: Vec<&str> = attrs.keys().map(String::as_str).collect();
        assert_eq!(keys, ["days", "tags"], "an absent optional is no attribute");
        let addr = Addr::new(Kind::LogGroup, "g");
        assert_eq!(from_attrs::<Sample>(&addr, &attrs).unwrap(), s);
    }

    #[test]
    fn attributes_that_do_not_fit_name_the_resource() {
        let addr = Addr::new(Kind::LogGroup, "g");
        let attrs = Attrs::from([("days".to_string(), Value::String("x".into()))]);
        let e = from_attrs::<Sample>(&addr, &attrs).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert!(e.chain_text().contains("log_group.g"), "{}", e.chain_text());
    }
}
