//! Layouts that are not SCAR 4.x manifests: the SCAR 3.x layout
//! (`functions: {<name>: {image, time, s3: {input_bucket}}}`), the draft FDL
//! (`functions: [- name: ...]`, `storages:`), and a generated
//! `function_config.yaml`. SCAR 4.3.1 cannot read any of them; scar rejects
//! each with its location and the 4.x equivalent, written out.

use super::diag::Diagnostic;
use super::yaml::{Node, NodeKind};

/// Checks the top-level shape; returns diagnostics (errors stop the load).
pub fn check_layout(root: &Node, file: usize) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(_) = root.as_map() else {
        out.push(
            Diagnostic::error(
                "not-a-manifest",
                "a manifest is a mapping with `functions:` at the top",
            )
            .at(file, root.span.clone())
            .label("found this instead")
            .hint("start the file with `functions:` and a list of functions under `aws:`"),
        );
        return out;
    };
    let Some((fkey, functions)) = root.entry("functions") else {
        if looks_like_function_config(root) {
            out.push(
                Diagnostic::error(
                    "function-config-not-manifest",
                    "this is a generated function config (`function_config.yaml`), not a manifest",
                )
                .at(file, first_key_span(root))
                .label("function-config keys at the top level")
                .with_note(
                    "SCAR writes this file into the deployment package for the supervisor; it is not an input",
                )
                .hint(format!(
                    "write the function as a manifest:\n{}",
                    function_config_as_manifest(root)
                )),
            );
        }
        // Otherwise the schema check reports the missing `functions` key.
        return out;
    };
    match &functions.kind {
        NodeKind::Seq(items) => {
            let mut d = Diagnostic::error(
                "draft-layout",
                "`functions` is a list: this is the draft FDL layout, which SCAR 4.x does not read",
            )
            .at(file, fkey.span.clone())
            .label("4.x expects `functions:` → `aws:` → a list of `lambda:` blocks")
            .hint(format!(
                "write it in the 4.x layout:\n{}",
                draft_as_manifest(items)
            ));
            if let Some((skey, _)) = root.entry("storages") {
                d = d.also_at(
                    file,
                    skey.span.clone(),
                    "4.x: `storage_providers: {<type>: {<id>: {...}}}`",
                );
            }
            d = d.with_note("in 4.x, `files.sufix` is `suffix` and `files.prefix` is `prefix`, directly on the output");
            out.push(d);
        }
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                let key = k.as_str().unwrap_or_default();
                if key == "aws" || key == "oscar" {
                    continue;
                }
                if v.as_map().is_some() && is_legacy_function(v) {
                    out.push(
                        Diagnostic::error(
                            "legacy-layout",
                            format!(
                                "function `{key}` uses the SCAR 3.x layout, which SCAR 4.x does not read"
                            ),
                        )
                        .at(file, k.span.clone())
                        .label("3.x: functions keyed by name")
                        .with_note(legacy_key_notes(v))
                        .hint(format!(
                            "write it in the 4.x layout:\n{}",
                            legacy_as_manifest(key, v)
                        )),
                    );
                }
                // Other keys: the schema check reports them as unknown.
            }
        }
        _ => {}
    }
    out
}

fn first_key_span(root: &Node) -> std::ops::Range<usize> {
    root.as_map()
        .and_then(|m| m.first())
        .map(|(k, _)| k.span.clone())
        .unwrap_or(root.span.clone())
}

fn looks_like_function_config(root: &Node) -> bool {
    let markers = [
        "handler",
        "name",
        "container",
        "supervisor",
        "init_script",
        "runtime",
    ];
    markers.iter().filter(|m| root.get(m).is_some()).count() >= 2
}

fn is_legacy_function(v: &Node) -> bool {
    let legacy_keys = [
        "image",
        "image_file",
        "time",
        "memory",
        "init_script",
        "s3",
        "execution_mode",
        "environment",
        "api_gateway",
        "log_level",
    ];
    v.as_map().is_some_and(|m| {
        m.iter()
            .any(|(k, _)| legacy_keys.contains(&k.as_str().unwrap_or_default()))
    })
}

fn legacy_key_notes(v: &Node) -> String {
    let mut lines = vec!["3.x key → 4.x key:".to_string()];
    for (k, _) in v.as_map().unwrap_or_default() {
        let key = k.as_str().unwrap_or_default();
        let to = match key {
            "image" => "lambda.container.image",
            "image_file" => "lambda.container.image_file",
            "time" => "lambda.timeout",
            "memory" => "lambda.memory",
            "init_script" => "lambda.init_script",
            "execution_mode" => "lambda.execution_mode",
            "log_level" => "lambda.log_level",
            "environment" => "lambda.container.environment.Variables",
            "s3" => "lambda.input / lambda.output (storage_provider: s3, path: bucket/folder)",
            "api_gateway" => "api_gateway.name (beside lambda:)",
            _ => "lambda.<same key>",
        };
        lines.push(format!("  {key} → {to}"));
    }
    lines.join("\n")
}

fn raw(v: Option<&Node>) -> Option<String> {
    v.and_then(|n| n.as_str()).map(str::to_string)
}

fn scalar(v: Option<&Node>) -> Option<String> {
    v.and_then(|n| n.as_str()).map(quote_if_needed)
}

fn quote_if_needed(s: &str) -> String {
    let typed = s.parse::<f64>().is_ok() || super::decode::yaml11_bool(s).is_some();
    let plain = !s.is_empty()
        && !typed
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
        && !s.starts_with(['-', ':', '@']);
    if plain {
        s.to_string()
    } else {
        format!("{s:?}")
    }
}

fn legacy_as_manifest(name: &str, v: &Node) -> String {
    let mut y = String::from("  functions:\n    aws:\n    - lambda:\n");
    y += &format!("        name: {}\n", quote_if_needed(name));
    if let Some(m) = raw(v.get("memory")) {
        y += &format!("        memory: {m}\n");
    }
    if let Some(t) = raw(v.get("time")) {
        y += &format!("        timeout: {t}\n");
    }
    if let Some(m) = scalar(v.get("execution_mode")) {
        y += &format!("        execution_mode: {m}\n");
    }
    if let Some(m) = scalar(v.get("log_level")) {
        y += &format!("        log_level: {m}\n");
    }
    if let Some(s) = scalar(v.get("init_script")) {
        y += &format!("        init_script: {s}\n");
    }
    y += "        container:\n";
    if let Some(i) = scalar(v.get("image")) {
        y += &format!("          image: {i}\n");
    }
    if let Some(i) = scalar(v.get("image_file")) {
        y += &format!("          image_file: {i}\n");
    }
    if let Some(env) = v.get("environment").and_then(Node::as_map) {
        y += "          environment:\n            Variables:\n";
        for (k, val) in env {
            y += &format!(
                "              {}: {}\n",
                k.as_str().unwrap_or_default(),
                quote_if_needed(val.as_str().unwrap_or_default())
            );
        }
    }
    if let Some(s3) = v.get("s3") {
        if let Some(i) = scalar(s3.get("input_bucket")) {
            y += &format!("        input:\n        - storage_provider: s3\n          path: {i}\n");
        }
        if let Some(o) = scalar(s3.get("output_bucket")) {
            y += &format!("        output:\n        - storage_provider: s3\n          path: {o}\n");
        }
    }
    if let Some(a) = scalar(v.get("api_gateway").and_then(|a| a.get("name"))) {
        y += &format!("      api_gateway:\n        name: {a}\n");
    }
    y
}

fn draft_as_manifest(items: &[Node]) -> String {
    let mut y = String::from("  functions:\n    aws:\n");
    for item in items {
        let name = scalar(item.get("name")).unwrap_or_else(|| "my-function".into());
        y += &format!("    - lambda:\n        name: {name}\n");
        for (list, key) in [("input", "input"), ("output", "output")] {
            let Some(entries) = item.get(list).and_then(Node::as_seq) else {
                continue;
            };
            y += &format!("        {key}:\n");
            for e in entries {
                let provider = scalar(e.get("name")).unwrap_or_else(|| "s3".into());
                let path = scalar(e.get("path")).unwrap_or_default();
                y += &format!(
                    "        - storage_provider: <type>.{provider}\n          path: {path}\n"
                );
                if let Some(files) = e.get("files") {
                    for (draft, real) in [
                        ("sufix", "suffix"),
                        ("suffix", "suffix"),
                        ("prefix", "prefix"),
                    ] {
                        if let Some(vals) = files.get(draft).and_then(Node::as_seq) {
                            y += &format!("          {real}:\n");
                            for v in vals {
                                y += &format!(
                                    "          - {}\n",
                                    scalar(Some(v)).unwrap_or_default()
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    y += "  storage_providers:\n    <type>:\n      <id>: {...}\n";
    y
}

fn function_config_as_manifest(root: &Node) -> String {
    let name = scalar(root.get("name")).unwrap_or_else(|| "my-function".into());
    let mut y = format!("  functions:\n    aws:\n    - lambda:\n        name: {name}\n");
    for key in [
        "memory",
        "timeout",
        "init_script",
        "execution_mode",
        "log_level",
    ] {
        if let Some(v) = raw(root.get(key)) {
            y += &format!("        {key}: {v}\n");
        }
    }
    if let Some(image) = scalar(root.get("container").and_then(|c| c.get("image"))) {
        y += &format!("        container:\n          image: {image}\n");
    }
    y
}
