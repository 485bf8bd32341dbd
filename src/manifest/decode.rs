//! Checks a YAML node tree against the manifest's JSON Schema (generated
//! from the Rust types) and turns it into JSON that serde reads into those
//! types. Every problem is collected, none stops the walk.
//!
//! Scalars are typed by what the schema expects there, which is how SCAR's
//! files behave under PyYAML: `memory: 1024` is a number, `KEY: 10000` under
//! `environment.Variables` is the string `"10000"`, and YAML 1.1 booleans
//! (`yes`, `False`, `on`) are booleans where a boolean is expected. A quoted
//! number where a number is expected is an error (AWS would reject it).

use serde_json::{Map, Number, Value};

use super::diag::{Diagnostic, SourceSet};
use super::suggest::did_you_mean;
use super::yaml::{is_null_text, path_string, Node, NodeKind, PathSeg, Scalar};

/// Walks one document.
pub struct Walker<'a> {
    root_schema: &'a Value,
    file: usize,
    pub diags: Vec<Diagnostic>,
    pub sources: &'a mut SourceSet,
}

impl<'a> Walker<'a> {
    pub fn new(root_schema: &'a Value, file: usize, sources: &'a mut SourceSet) -> Self {
        Walker {
            root_schema,
            file,
            diags: Vec::new(),
            sources,
        }
    }

    /// Checks `node` against the root schema; returns its JSON form.
    pub fn walk_root(&mut self, node: &Node) -> Value {
        let schema = self.root_schema;
        self.walk(node, schema, &mut Vec::new())
    }

    fn resolve(&self, schema: &'a Value) -> &'a Value {
        let mut s = schema;
        for _ in 0..32 {
            match s.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let name = r.rsplit('/').next().unwrap_or_default();
                    match self.root_schema.get("$defs").and_then(|d| d.get(name)) {
                        Some(target) => s = target,
                        None => return s,
                    }
                }
                None => return s,
            }
        }
        s
    }

    fn error(&mut self, node: &Node, path: &[PathSeg], code: &'static str, msg: String) -> usize {
        self.diags.push(
            Diagnostic::error(code, msg)
                .at(self.file, node.span.clone())
                .path(path_string(path)),
        );
        self.diags.len() - 1
    }

    fn walk(&mut self, node: &Node, schema: &'a Value, path: &mut Vec<PathSeg>) -> Value {
        let schema = self.resolve(schema);
        if schema.as_bool() == Some(true) || schema.as_object().is_some_and(|o| o.is_empty()) {
            return any_value(node);
        }
        if schema.get("x-scar-secret").and_then(Value::as_bool) == Some(true) {
            self.sources.mark_secret(self.file, node.span.clone());
        }
        if let Some(alts) = schema.get("anyOf").or_else(|| schema.get("oneOf")) {
            return self.walk_alternatives(node, alts, path);
        }
        let types = schema_types(schema);
        match &node.kind {
            NodeKind::Map(entries) => {
                if types.contains(&"object") {
                    self.walk_map(node, entries, schema, path)
                } else if node_is_nullish(node) && types.contains(&"null") {
                    Value::Null
                } else {
                    let i = self.error(
                        node,
                        path,
                        "wrong-type",
                        format!("expected {}, found a mapping", describe(&types, schema)),
                    );
                    self.diags[i].hint = Some(example_hint(path, schema, &types));
                    Value::Null
                }
            }
            NodeKind::Seq(items) => {
                if types.contains(&"array") {
                    self.walk_seq(node, items, schema, path)
                } else {
                    let i = self.error(
                        node,
                        path,
                        "wrong-type",
                        format!("expected {}, found a list", describe(&types, schema)),
                    );
                    self.diags[i].hint = Some(example_hint(path, schema, &types));
                    Value::Null
                }
            }
            NodeKind::Scalar(s) => self.walk_scalar(node, s, schema, &types, path),
        }
    }

    fn walk_alternatives(
        &mut self,
        node: &Node,
        alts: &'a Value,
        path: &mut Vec<PathSeg>,
    ) -> Value {
        let alts: Vec<&'a Value> = alts
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        if node.is_null()
            && alts
                .iter()
                .any(|a| schema_types(self.resolve(a)).contains(&"null"))
        {
            return Value::Null;
        }
        // Try each alternative; keep the first that is clean, else the one
        // with the fewest errors (its diagnostics are the ones reported).
        let mut best: Option<(usize, Value, Vec<Diagnostic>)> = None;
        for alt in alts {
            let saved = std::mem::take(&mut self.diags);
            let v = self.walk(node, alt, path);
            let produced = std::mem::replace(&mut self.diags, saved);
            let errors = produced
                .iter()
                .filter(|d| d.severity == super::diag::Severity::Error)
                .count();
            if best.as_ref().is_none_or(|(e, ..)| errors < *e) {
                best = Some((errors, v, produced));
            }
            if errors == 0 {
                break;
            }
        }
        match best {
            Some((_, v, diags)) => {
                self.diags.extend(diags);
                v
            }
            None => any_value(node),
        }
    }

    fn walk_map(
        &mut self,
        node: &Node,
        entries: &[(Node, Node)],
        schema: &'a Value,
        path: &mut Vec<PathSeg>,
    ) -> Value {
        let props = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        // A free-form map (no declared keys) takes any key silently.
        if props.is_none() && matches!(additional, Some(Value::Bool(true)) | None) {
            return any_value(node);
        }
        let mut out = Map::new();
        let mut seen: Vec<(&str, &Node)> = Vec::new();
        for (k, v) in entries {
            let key = match &k.kind {
                NodeKind::Scalar(s) => s.text.as_str(),
                _ => {
                    self.error(
                        k,
                        path,
                        "complex-key",
                        "keys must be plain strings, not lists or mappings".into(),
                    );
                    continue;
                }
            };
            if let Some((_, first)) = seen.iter().find(|(s, _)| *s == key) {
                let d = Diagnostic::error("duplicate-key", format!("duplicate key `{key}`"))
                    .at(self.file, k.span.clone())
                    .label("defined again here")
                    .also_at(self.file, first.span.clone(), "first defined here")
                    .hint("remove one of them: YAML keeps only the last, silently")
                    .path(path_string(path));
                self.diags.push(d);
                continue;
            }
            seen.push((key, k));
            path.push(PathSeg::Key(key.to_string()));
            if let Some(prop) = props.and_then(|p| p.get(key)) {
                let val = self.walk(v, prop, path);
                out.insert(key.to_string(), val);
            } else {
                match additional {
                    Some(Value::Object(sub)) if !sub.is_empty() => {
                        let sub = additional.unwrap_or(&Value::Bool(true));
                        let val = self.walk(v, sub, path);
                        out.insert(key.to_string(), val);
                    }
                    Some(Value::Bool(false)) => {
                        self.unknown_key(k, key, props, path, false);
                    }
                    Some(Value::Bool(true)) | Some(Value::Object(_)) => {
                        self.unknown_key(k, key, props, path, true);
                        out.insert(key.to_string(), any_value(v));
                    }
                    _ => {
                        self.unknown_key(k, key, props, path, false);
                    }
                }
            }
            path.pop();
        }
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for r in required.iter().filter_map(Value::as_str) {
                if !seen.iter().any(|(k, _)| *k == r) {
                    let span = first_line_span(node);
                    let d = Diagnostic::error("missing-key", format!("missing required key `{r}`"))
                        .at(self.file, span)
                        .label(format!("this mapping needs `{r}`"))
                        .hint(required_hint(path, r))
                        .path(path_string(path));
                    self.diags.push(d);
                }
            }
        }
        Value::Object(out)
    }

    fn unknown_key(
        &mut self,
        k: &Node,
        key: &str,
        props: Option<&Map<String, Value>>,
        path: &[PathSeg],
        kept: bool,
    ) {
        let known: Vec<&str> = props
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut d = Diagnostic::warning("unknown-key", format!("unknown key `{key}`"))
            .at(self.file, k.span.clone())
            // `path` already ends with this key (the walk pushed it).
            .path(path_string(path));
        d = if kept {
            d.label("not a SCAR key: passed through to the supervisor's function config")
        } else {
            d.label("not a SCAR key: ignored")
        };
        if let Some(s) = did_you_mean(key, &known) {
            d = d.hint(format!("did you mean `{s}`?"));
        } else if !known.is_empty() {
            d = d.hint(format!("known keys here: {}", known.join(", ")));
        }
        self.diags.push(d);
    }

    fn walk_seq(
        &mut self,
        node: &Node,
        items: &[Node],
        schema: &'a Value,
        path: &mut Vec<PathSeg>,
    ) -> Value {
        let item_schema = schema.get("items").unwrap_or(&Value::Bool(true));
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            path.push(PathSeg::Index(i));
            out.push(self.walk(item, item_schema, path));
            path.pop();
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if items.len() as u64 > max {
                let first_extra = &items[usize::try_from(max).unwrap_or(0).min(items.len() - 1)];
                let i = self.error(
                    first_extra,
                    path,
                    "too-many-items",
                    format!(
                        "`{}` takes at most {max} item{}, found {}",
                        path_string(path),
                        if max == 1 { "" } else { "s" },
                        items.len()
                    ),
                );
                self.diags[i].hint = Some(format!("keep at most {max}"));
            }
        }
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < min {
                let i = self.error(
                    node,
                    path,
                    "too-few-items",
                    format!(
                        "`{}` needs at least {min} item{}, found {}",
                        path_string(path),
                        if min == 1 { "" } else { "s" },
                        items.len()
                    ),
                );
                self.diags[i].hint = Some(example_hint(path, schema, &["array"]));
            }
        }
        Value::Array(out)
    }

    fn walk_scalar(
        &mut self,
        node: &Node,
        s: &Scalar,
        schema: &'a Value,
        types: &[&'static str],
        path: &[PathSeg],
    ) -> Value {
        let text = s.text.as_str();
        if s.plain && is_null_text(text) {
            if types.contains(&"null") {
                return Value::Null;
            }
            // An empty value where a mapping or list is expected (`input:`
            // with nothing under it) means "none": let the default apply.
            if types.contains(&"object") || types.contains(&"array") {
                return if types.contains(&"object") {
                    Value::Object(Map::new())
                } else {
                    Value::Array(Vec::new())
                };
            }
        }
        if s.plain {
            if types.contains(&"boolean") {
                if let Some(b) = yaml11_bool(text) {
                    return Value::Bool(b);
                }
            }
            if types.contains(&"integer") {
                if let Some(n) = parse_int(text) {
                    return self.check_number_range(node, Value::Number(n), schema, path);
                }
            }
            if types.contains(&"number") {
                if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
                    return self.check_number_range(node, Value::Number(n), schema, path);
                }
            }
        }
        if types.contains(&"string") {
            return self.check_string(node, text, schema, path);
        }
        // Not a match: say what was expected and what was found.
        let found = if !s.plain {
            format!("the string \"{}\"", truncate(text))
        } else if yaml11_bool(text).is_some() {
            format!("the boolean `{text}`")
        } else if parse_int(text).is_some() || text.parse::<f64>().is_ok() {
            format!("the number `{text}`")
        } else if is_null_text(text) {
            "nothing (null)".to_string()
        } else {
            format!("`{}`", truncate(text))
        };
        let mut hint = example_hint(path, schema, types);
        if !s.plain && (parse_int(text).is_some() || yaml11_bool(text).is_some()) {
            hint = format!(
                "remove the quotes: `{}: {}`",
                last_key(path).unwrap_or("key"),
                text
            );
        }
        let i = self.error(
            node,
            path,
            "wrong-type",
            format!("expected {}, found {found}", describe(types, schema)),
        );
        self.diags[i].hint = Some(hint);
        Value::Null
    }

    fn check_number_range(
        &mut self,
        node: &Node,
        v: Value,
        schema: &Value,
        path: &[PathSeg],
    ) -> Value {
        let x = v.as_f64().unwrap_or(0.0);
        let min = schema.get("minimum").and_then(Value::as_f64);
        let max = schema.get("maximum").and_then(Value::as_f64);
        let below = min.is_some_and(|m| x < m);
        let above = max.is_some_and(|m| x > m);
        if below || above {
            let range = match (min, max) {
                (Some(a), Some(b)) => format!("between {a} and {b}"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                (None, None) => String::new(),
            };
            let key = last_key(path).unwrap_or("value").to_string();
            let i = self.error(
                node,
                path,
                "out-of-range",
                format!("`{key}` must be {range}, found {v}"),
            );
            let fix = if below { min } else { max };
            self.diags[i].hint = fix.map(|f| format!("use a value {range}, e.g. `{key}: {f}`"));
            return Value::Null;
        }
        let too_big = match schema.get("format").and_then(Value::as_str) {
            Some("uint32") => x > f64::from(u32::MAX),
            Some("int32") => x > f64::from(i32::MAX) || x < f64::from(i32::MIN),
            Some("uint64") | Some("uint") => x < 0.0,
            _ => false,
        };
        if too_big {
            let key = last_key(path).unwrap_or("value").to_string();
            self.error(
                node,
                path,
                "out-of-range",
                format!("`{key}` is out of range: {v}"),
            );
            return Value::Null;
        }
        v
    }

    fn check_string(&mut self, node: &Node, text: &str, schema: &Value, path: &[PathSeg]) -> Value {
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
            if !names.contains(&text) {
                let key = last_key(path).unwrap_or("value").to_string();
                let i = self.error(
                    node,
                    path,
                    "invalid-value",
                    format!(
                        "`{}` is not a valid `{key}`: expected one of {}",
                        truncate(text),
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                self.diags[i].hint = Some(match did_you_mean(text, &names) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "write for example `{key}: {}`",
                        names.first().unwrap_or(&"")
                    ),
                });
                // Let the default stand in, so the other checks still run.
                return Value::Null;
            }
            return Value::String(text.to_string());
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
            if let Ok(re) = regex::Regex::new(pattern) {
                if !re.is_match(text) {
                    let key = last_key(path).unwrap_or("value").to_string();
                    let i = self.error(
                        node,
                        path,
                        "invalid-value",
                        format!("`{}` is not a valid `{key}`", truncate(text)),
                    );
                    self.diags[i].hint = Some(format!("it must match `{pattern}`"));
                }
            }
        }
        let len = text.chars().count() as u64;
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
            if len > max {
                let key = last_key(path).unwrap_or("value").to_string();
                let i = self.error(
                    node,
                    path,
                    "too-long",
                    format!("`{key}` is {len} characters long; at most {max} are allowed"),
                );
                self.diags[i].hint = Some("shorten it".into());
            }
        }
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
            if len < min {
                let key = last_key(path).unwrap_or("value").to_string();
                let i = self.error(
                    node,
                    path,
                    "empty-value",
                    format!("`{key}` must not be empty"),
                );
                self.diags[i].hint = Some(example_hint(path, schema, &["string"]));
            }
        }
        Value::String(text.to_string())
    }
}

/// JSON for a node with no schema: YAML 1.2 core typing of plain scalars.
pub fn any_value(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Scalar(s) => {
            if !s.plain {
                return Value::String(s.text.clone());
            }
            if is_null_text(&s.text) {
                Value::Null
            } else if let Some(b) = yaml11_bool(&s.text) {
                Value::Bool(b)
            } else if let Some(n) = parse_int(&s.text) {
                Value::Number(n)
            } else if let Some(n) = s
                .text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(Number::from_f64)
            {
                Value::Number(n)
            } else {
                Value::String(s.text.clone())
            }
        }
        NodeKind::Seq(items) => Value::Array(items.iter().map(any_value).collect()),
        NodeKind::Map(entries) => {
            let mut m = Map::new();
            for (k, v) in entries {
                let key = match &k.kind {
                    NodeKind::Scalar(s) => s.text.clone(),
                    _ => continue,
                };
                m.insert(key, any_value(v));
            }
            Value::Object(m)
        }
    }
}

/// PyYAML's (YAML 1.1) booleans.
pub fn yaml11_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

fn parse_int(text: &str) -> Option<Number> {
    let t = text.replace('_', "");
    if let Ok(i) = t.parse::<i64>() {
        return Some(Number::from(i));
    }
    if let Ok(u) = t.parse::<u64>() {
        return Some(Number::from(u));
    }
    if let Some(hex) = t.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(Number::from);
    }
    if let Some(oct) = t.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok().map(Number::from);
    }
    None
}

fn schema_types(schema: &Value) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut add = |t: &str| {
        let t: &'static str = match t {
            "object" => "object",
            "array" => "array",
            "string" => "string",
            "integer" => "integer",
            "number" => "number",
            "boolean" => "boolean",
            "null" => "null",
            _ => return,
        };
        out.push(t);
    };
    match schema.get("type") {
        Some(Value::String(t)) => add(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).for_each(add),
        _ => {
            if schema.get("properties").is_some() {
                add("object");
            } else if schema.get("enum").is_some() || schema.get("const").is_some() {
                add("string");
            }
        }
    }
    out
}

fn describe(types: &[&str], schema: &Value) -> String {
    if schema.get("enum").is_some() {
        return "one of the listed names".into();
    }
    let words: Vec<&str> = types
        .iter()
        .filter(|t| **t != "null")
        .map(|t| match *t {
            "object" => "a mapping",
            "array" => "a list",
            "string" => "a string",
            "integer" => "an integer",
            "number" => "a number",
            "boolean" => "a boolean (true or false)",
            _ => "a value",
        })
        .collect();
    if words.is_empty() {
        "nothing".into()
    } else {
        words.join(" or ")
    }
}

fn example_hint(path: &[PathSeg], schema: &Value, types: &[&str]) -> String {
    let key = last_key(path).unwrap_or("key");
    let ex = if let Some(e) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
    {
        format!("`{key}: {e}`")
    } else if let Some(d) = schema
        .get("default")
        .filter(|d| !(d.is_null() || d.is_array() || d.is_object()))
    {
        match d {
            Value::String(s) => format!("`{key}: {s}`"),
            other => format!("`{key}: {other}`"),
        }
    } else if types.contains(&"object") {
        format!("`{key}:` followed by indented `name: value` lines")
    } else if types.contains(&"array") {
        format!("`{key}:` followed by `- item` lines")
    } else if types.contains(&"integer") {
        format!("`{key}: 1`")
    } else if types.contains(&"boolean") {
        format!("`{key}: true`")
    } else {
        format!("`{key}: some-text`")
    };
    format!("write it as {ex}")
}

fn required_hint(path: &[PathSeg], key: &str) -> String {
    match (path_string(path).as_str(), key) {
        ("", "functions") => "a manifest starts with `functions:` and a list under `aws:`".into(),
        (p, "name") if p.ends_with("lambda") => {
            "add `name: my-function` (letters, digits, `-`, `_`)".into()
        }
        (p, "lambda") if p.contains("aws[") => {
            "each `functions.aws` entry needs a `lambda:` block with at least `name:`".into()
        }
        (_, k) => format!("add `{k}:`"),
    }
}

fn last_key(path: &[PathSeg]) -> Option<&str> {
    path.iter().rev().find_map(|s| match s {
        PathSeg::Key(k) => Some(k.as_str()),
        PathSeg::Index(_) => None,
    })
}

fn node_is_nullish(node: &Node) -> bool {
    node.is_null()
}

fn first_line_span(node: &Node) -> std::ops::Range<usize> {
    // Underline where the mapping starts (its first key), not the whole block.
    match &node.kind {
        NodeKind::Map(entries) if !entries.is_empty() => entries[0].0.span.clone(),
        _ => node.span.clone(),
    }
}

fn truncate(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let t: String = s.chars().take(MAX).collect();
        format!("{t}…")
    }
}
