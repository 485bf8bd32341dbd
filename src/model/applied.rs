//! Applied fingerprints (ARCHITECTURE.md §3.1): what scar last wrote to a
//! resource, recorded on the resource itself, so that `drift` can tell
//! the account's changes (observed ≠ applied) from the manifests' (desired
//! ≠ applied) without a state file.
//!
//! A record holds one entry per attribute: the value itself where it is a
//! short public scalar (a number, a flag, a short name), so that a drift
//! report can show what was applied; a short hash otherwise (lists, maps,
//! long strings, and every map that may hold a secret: only a hash of an
//! environment is ever written). Kinds with tags keep it in the
//! `scar:applied` tags ([`to_tags`], [`from_tags`]); the others need no
//! record ([`crate::resources::Fingerprint`]).
//!
//! Tag values allow letters, digits, spaces and `_ . : / = + - @` only,
//! at most 256 characters, so a record is written as space-separated
//! `name=value` tokens over as many tags as it needs: `scar:applied` holds
//! `v1/N` (N tags in all) and the first tokens, `scar:applied:2` … the
//! rest.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::Digest;

use super::{Attrs, PACKAGE_ATTRS};

/// The first tag of a record; the others are `scar:applied:2`, ….
pub const TAG_APPLIED: &str = "scar:applied";

/// The most characters AWS allows in a tag value.
const TAG_VALUE_MAX: usize = 256;

/// Strings up to this length, of tag-safe characters, are recorded as
/// they are.
const LITERAL_MAX: usize = 40;

/// Hex digits of a recorded hash: enough to tell a change apart (one in
/// four billion to miss one), too few to be worth attacking.
const HASH_HEX: usize = 8;

/// One attribute as it was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// The value itself (a number, a flag, null or a short string).
    Value(Value),
    /// A short hash of the value's JSON.
    Hash(String),
}

impl Recorded {
    /// The record of a value: itself if it is short and public, else its
    /// hash.
    pub fn of(v: &Value) -> Recorded {
        match v {
            Value::Number(_) | Value::Bool(_) | Value::Null => Recorded::Value(v.clone()),
            Value::String(s) if s.len() <= LITERAL_MAX && s.chars().all(is_token_char) => {
                Recorded::Value(v.clone())
            }
            _ => Recorded::Hash(hash(v)),
        }
    }

    /// Whether `v` is what was applied (an absent attribute is `null`).
    pub fn matches(&self, v: Option<&Value>) -> bool {
        let v = v.unwrap_or(&Value::Null);
        match self {
            Recorded::Value(x) => x == v,
            Recorded::Hash(h) => *h == hash(v),
        }
    }

    /// The applied value, where it was recorded as such.
    pub fn value(&self) -> Option<&Value> {
        match self {
            Recorded::Value(v) => Some(v),
            Recorded::Hash(_) => None,
        }
    }

    fn token(&self) -> String {
        match self {
            Recorded::Value(Value::String(s)) => format!("s.{s}"),
            Recorded::Value(v) => v.to_string(),
            Recorded::Hash(h) => format!("h.{h}"),
        }
    }

    fn parse(text: &str) -> Option<Recorded> {
        if let Some(h) = text.strip_prefix("h.") {
            return (h.len() == HASH_HEX && h.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| Recorded::Hash(h.to_string()));
        }
        if let Some(s) = text.strip_prefix("s.") {
            return Some(Recorded::Value(Value::String(s.to_string())));
        }
        match serde_json::from_str::<Value>(text).ok()? {
            v @ (Value::Number(_) | Value::Bool(_) | Value::Null) => Some(Recorded::Value(v)),
            _ => None,
        }
    }
}

/// A resource's record: attribute name → what was applied.
pub type Applied = BTreeMap<String, Recorded>;

/// The record of the attributes scar writes. Attributes that live inside a
/// function's package are covered by its code hash and left out, and so
/// are the `scar:applied` tags themselves.
pub fn record(attrs: &Attrs) -> Applied {
    attrs
        .iter()
        .filter(|(k, _)| !PACKAGE_ATTRS.contains(&k.as_str()))
        .map(|(k, v)| {
            let v = if k == "tags" {
                without_record(v)
            } else {
                v.clone()
            };
            (k.clone(), Recorded::of(&v))
        })
        .collect()
}

/// A `tags` value without the record's own tags.
fn without_record(tags: &Value) -> Value {
    match tags {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| !is_record_tag(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether a tag key is one of a record's.
pub fn is_record_tag(key: &str) -> bool {
    key == TAG_APPLIED
        || key
            .strip_prefix(TAG_APPLIED)
            .and_then(|r| r.strip_prefix(':'))
            .is_some_and(|n| n.parse::<u32>().is_ok())
}

/// The tags that hold a record; `plan`: the id of the saved plan that
/// wrote it, if one did (its first [`PLAN_ID_LEN`] characters are kept).
pub fn to_tags(applied: &Applied, plan: Option<&str>) -> BTreeMap<String, String> {
    let tokens: Vec<String> = applied
        .iter()
        .map(|(k, v)| format!("{k}={}", v.token()))
        .collect();
    let plan: Option<String> = plan.map(|p| {
        p.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(PLAN_ID_LEN)
            .collect()
    });
    let header_room = 7 + plan.as_ref().map_or(0, |p| p.len() + 1);
    // Room for the `v1/NN@plan ` header in the first tag.
    let mut chunks: Vec<String> = vec![String::new()];
    for t in tokens {
        let room = if chunks.len() == 1 {
            TAG_VALUE_MAX - header_room
        } else {
            TAG_VALUE_MAX
        };
        let last = chunks.last_mut().expect("one chunk at least");
        if !last.is_empty() && last.len() + 1 + t.len() > room {
            chunks.push(t);
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(&t);
        }
    }
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                let at = plan.as_ref().map(|p| format!("@{p}")).unwrap_or_default();
                let value = format!("v1/{n}{at} {c}");
                (TAG_APPLIED.to_string(), value.trim_end().to_string())
            } else {
                (format!("{TAG_APPLIED}:{}", i + 1), c)
            }
        })
        .collect()
}

/// What the tags say was applied: `None` when they hold no record, or one
/// that cannot be read (a tag removed or edited by hand): the origin of a
/// difference is then unknown.
pub fn from_tags(tags: &BTreeMap<String, String>) -> Option<Applied> {
    let first = tags.get(TAG_APPLIED)?;
    let (header, rest) = first.split_once(' ').unwrap_or((first.as_str(), ""));
    let count = header.strip_prefix("v1/")?;
    let n: usize = count
        .split_once('@')
        .map_or(count, |(n, _)| n)
        .parse()
        .ok()?;
    let mut text = rest.to_string();
    for i in 2..=n {
        text.push(' ');
        text.push_str(tags.get(&format!("{TAG_APPLIED}:{i}"))?);
    }
    let mut applied = Applied::new();
    for token in text.split(' ').filter(|t| !t.is_empty()) {
        let (k, v) = token.split_once('=')?;
        applied.insert(k.to_string(), Recorded::parse(v)?);
    }
    Some(applied)
}

/// How much of a saved plan's id a record keeps.
pub const PLAN_ID_LEN: usize = 16;

/// The saved plan whose apply wrote the record in these tags, if one did
/// (its id shortened to [`PLAN_ID_LEN`]).
pub fn plan_of(tags: &BTreeMap<String, String>) -> Option<String> {
    let first = tags.get(TAG_APPLIED)?;
    let header = first.split(' ').next()?;
    let (_, plan) = header.strip_prefix("v1/")?.split_once('@')?;
    Some(plan.to_string())
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.:/+-@".contains(c)
}

/// The hash of a value's canonical JSON: object keys sorted at every
/// level, so that a policy the account returns with its keys in another
/// order hashes as the one scar wrote.
fn hash(v: &Value) -> String {
    let digest = sha2::Sha256::digest(canonical(v).to_string().as_bytes());
    crate::hash::hex(&digest)[..HASH_HEX].to_string()
}

fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&o[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(pairs: &[(&str, Value)]) -> Attrs {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn short_scalars_are_kept_and_the_rest_hashed() {
        let a = record(&attrs(&[
            ("memory", json!(512)),
            ("runtime", json!("provided.al2023")),
            ("environment", json!({"TOKEN": "s3cret-value"})),
            ("description", json!("a description with spaces")),
            ("init_script", json!("echo hi")),
        ]));
        assert_eq!(a["memory"], Recorded::Value(json!(512)));
        assert_eq!(a["runtime"], Recorded::Value(json!("provided.al2023")));
        assert!(matches!(a["environment"], Recorded::Hash(_)));
        assert!(matches!(a["description"], Recorded::Hash(_)));
        assert!(!a.contains_key("init_script"), "covered by the code hash");
        assert!(a["environment"].matches(Some(&json!({"TOKEN": "s3cret-value"}))));
        assert!(!a["environment"].matches(Some(&json!({"TOKEN": "other"}))));
    }

    #[test]
    fn a_record_goes_to_tags_and_back_and_the_tags_hold_no_secret() {
        let mut many = vec![
            ("memory", json!(512)),
            ("flag", json!(true)),
            ("nothing", Value::Null),
            ("env", json!({"TOKEN": "s3cret-value"})),
            (
                "tags",
                json!({"scar:workflow": "wf", "scar:applied": "v1/1 old"}),
            ),
        ];
        let names: Vec<String> = (0..40).map(|i| format!("attribute_number_{i}")).collect();
        for n in &names {
            many.push((n.as_str(), json!("some-value-of-twenty")));
        }
        let a = record(&attrs(&many));
        let tags = to_tags(&a, Some("0123456789abcdef0123"));
        assert!(tags.len() > 1, "a long record spans several tags");
        for (k, v) in &tags {
            assert!(is_record_tag(k), "{k}");
            assert!(v.len() <= TAG_VALUE_MAX, "{k}: {} chars", v.len());
            assert!(
                v.chars()
                    .all(|c| c.is_alphanumeric() || " _.:/=+-@".contains(c)),
                "{v}"
            );
            assert!(!v.contains("s3cret"), "{v}");
        }
        assert_eq!(from_tags(&tags), Some(a.clone()));
        assert_eq!(plan_of(&tags).as_deref(), Some("0123456789abcdef"));
        // The record's own tags are not part of what it records.
        assert!(a["tags"].matches(Some(&json!({"scar:workflow": "wf"}))));
    }

    #[test]
    fn the_order_of_keys_does_not_change_a_hash() {
        let a: Value = serde_json::from_str(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"x"}]}"#,
        )
        .unwrap();
        let b: Value = serde_json::from_str(
            r#"{"Statement":[{"Action":"x","Effect":"Allow"}],"Version":"1"}"#,
        )
        .unwrap();
        assert!(Recorded::of(&a).matches(Some(&b)));
    }

    #[test]
    fn a_missing_or_edited_record_reads_as_unknown() {
        let tags = to_tags(&record(&attrs(&[("memory", json!(512))])), None);
        assert_eq!(tags[TAG_APPLIED], "v1/1 memory=512");
        assert_eq!(plan_of(&tags), None);
        assert!(from_tags(&BTreeMap::new()).is_none());
        let edited = BTreeMap::from([(TAG_APPLIED.to_string(), "v1/2 memory=512".to_string())]);
        assert!(from_tags(&edited).is_none(), "its second tag is missing");
        let garbled = BTreeMap::from([(TAG_APPLIED.to_string(), "v1/1 memory".to_string())]);
        assert!(from_tags(&garbled).is_none());
        assert!(is_record_tag("scar:applied:3") && !is_record_tag("scar:applied-by"));
    }
}
