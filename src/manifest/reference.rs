//! The manifest reference (`docs/manifest.md`), generated from the JSON
//! Schema so that it lists every key, its type, default and meaning exactly
//! as the loader knows them. A test keeps the committed file fresh.

use serde_json::Value;

use super::schema::manifest_schema;

/// Renders the reference as Markdown.
pub fn manifest_reference() -> String {
    let schema = manifest_schema();
    let mut out = String::new();
    out.push_str("# Manifest reference\n\n");
    out.push_str(
        "Generated from the manifest's JSON Schema (`scar schema`, \
         `schemas/manifest.schema.json`) by `scar schema --format markdown`; \
         do not edit by hand.\n\n\
         scar reads SCAR's function-definition files (FDL, SCAR 4.x) unchanged. \
         Keys marked **(scar)** are scar's additions. Keys SCAR keeps for its \
         own CLI are accepted and ignored. Unknown keys are warnings (`--strict`: \
         errors); under `lambda` they are passed through to the supervisor, as \
         SCAR does.\n\n",
    );
    let mut sections: Vec<(String, Value)> = vec![("(top level)".into(), schema.clone())];
    let mut i = 0;
    while i < sections.len() {
        let (title, node) = sections[i].clone();
        let Some(props) = node.get("properties").and_then(Value::as_object) else {
            i += 1;
            continue;
        };
        out.push_str(&format!("## `{title}`\n\n"));
        if let Some(d) = node.get("description").and_then(Value::as_str) {
            out.push_str(&format!("{}\n\n", one_line(d)));
        }
        out.push_str("| key | type | default | meaning |\n|---|---|---|---|\n");
        let required: Vec<&str> = node
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (key, prop) in props {
            let resolved = resolve(&schema, prop);
            let (ty, child) = type_of(&schema, prop);
            let default = match prop.get("default") {
                Some(Value::Null) | None => {
                    if required.contains(&key.as_str()) {
                        "required".to_string()
                    } else {
                        "—".to_string()
                    }
                }
                Some(Value::Object(_)) => "(see below)".to_string(),
                Some(v) => format!("`{v}`"),
            };
            let desc = prop
                .get("description")
                .or_else(|| resolved.get("description"))
                .and_then(Value::as_str)
                .map(one_line)
                .unwrap_or_default();
            out.push_str(&format!(
                "| `{key}` | {ty} | {default} | {} |\n",
                desc.replace('|', "\\|")
            ));
            if let Some(child) = child {
                let path = if title == "(top level)" {
                    key.clone()
                } else {
                    format!("{title}.{key}")
                };
                let path = if ty.starts_with("list") {
                    format!("{path}[]")
                } else if ty.starts_with("map of") {
                    format!("{path}.<id>")
                } else {
                    path
                };
                if !sections.iter().any(|(t, _)| *t == path) {
                    sections.push((path, child));
                }
            }
        }
        out.push('\n');
        i += 1;
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    let mut s = s;
    if let Some(alts) = s.get("anyOf").and_then(Value::as_array) {
        if let Some(non_null) = alts
            .iter()
            .find(|a| a.get("type") != Some(&Value::from("null")))
        {
            s = non_null;
        }
    }
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            root.get("$defs").and_then(|d| d.get(name)).unwrap_or(s)
        }
        None => s,
    }
}

/// A readable type, and the object schema to document below it (if any).
fn type_of(root: &Value, prop: &Value) -> (String, Option<Value>) {
    let s = resolve(root, prop);
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        let names: Vec<String> = e
            .iter()
            .filter_map(Value::as_str)
            .map(|n| format!("`{n}`"))
            .collect();
        return (format!("one of {}", names.join(", ")), None);
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => vec![],
    };
    match types.first().copied() {
        Some("array") => {
            let items = s.get("items").cloned().unwrap_or(Value::Bool(true));
            let (inner, child) = type_of(root, &items);
            (format!("list of {inner}"), child)
        }
        Some("object") => {
            if s.get("properties").is_some() {
                ("mapping".into(), Some(s.clone()))
            } else {
                match s.get("additionalProperties") {
                    Some(v @ Value::Object(_)) => {
                        let (inner, child) = type_of(root, v);
                        (format!("map of name → {inner}"), child)
                    }
                    _ => ("mapping (any keys)".into(), None),
                }
            }
        }
        Some("integer") => {
            let range = match (s.get("minimum"), s.get("maximum")) {
                (Some(a), Some(b)) => format!(" ({a}–{b})"),
                (Some(a), None) if a != &Value::from(0) => format!(" (≥ {a})"),
                _ => String::new(),
            };
            (format!("integer{range}"), None)
        }
        Some("boolean") => ("boolean".into(), None),
        Some("string") => ("string".into(), None),
        Some("number") => ("number".into(), None),
        _ => ("any".into(), None),
    }
}
