//! A resource kind is one module (`src/resources/<kind>.rs` or
//! `src/resources/<kind>/`) and one line in the registry: nothing else
//! branches on a kind. This scans `src/` (code before its `#[cfg(test)]`
//! module) for a kind's variant in a match arm, a `matches!`, an
//! `if let` or an `==`/`!=` comparison, and fails on any outside the
//! kind's own module. Naming a kind to build an address
//! (`Addr::new(Kind::S3Bucket, name)`) is not branching on it.

#[path = "common/source_scan.rs"]
mod source_scan;

use std::path::Path;

use source_scan::{code_of, rust_files, snippet, squeeze};

/// `LambdaFunction` → `lambda_function`.
fn snake(variant: &str) -> String {
    let mut out = String::new();
    for (i, c) in variant.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every `Kind::<Variant>` in `code` that is branched on: (variant,
/// snippet).
fn branches(code: &str) -> Vec<(String, String)> {
    let code = squeeze(code);
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    for (at, _) in code.match_indices("Kind::") {
        // `ErrorKind::`, `PackageKind::`: another enum.
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            continue;
        }
        let rest = &code[at + "Kind::".len()..];
        let variant: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if variant.is_empty() || !variant.starts_with(|c: char| c.is_uppercase()) {
            continue;
        }
        let before = &code[..at];
        let after = &rest[variant.len()..];
        let compared = before.ends_with("==")
            || before.ends_with("!=")
            || after.starts_with("==")
            || after.starts_with("!=");
        // A pattern: what follows, up to `=>`, is only more pattern.
        let pattern_tail: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || " ,|()_:".contains(*c))
            .collect();
        let arm = after[pattern_tail.len()..].starts_with("=>");
        let let_pattern = before.ends_with("let ") || before.ends_with("let (");
        // Inside an unclosed `matches!(`.
        let in_matches = before.rfind("matches!(").is_some_and(|m| {
            let mut depth = 0i32;
            for c in before[m + "matches!".len()..].chars() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    return false;
                }
            }
            true
        });
        if compared || arm || let_pattern || in_matches {
            found.push((variant.clone(), snippet(&code, at, variant.len() + 6, 40)));
        }
    }
    found
}

/// The kind a file belongs to: `src/resources/<kind>.rs` or
/// `src/resources/<kind>/…`; `None` for every other file.
fn owning_kind(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src.join("resources")).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "mod" && name != "support").then(|| name.to_string())
}

#[test]
fn a_kind_is_branched_on_only_in_its_own_module() {
    let src = source_scan::src();
    let files = rust_files(&src);
    let mut offenders = Vec::new();
    for file in &files {
        let own = owning_kind(&src, file);
        for (variant, snippet) in branches(&code_of(file)) {
            if own.as_deref() != Some(snake(&variant).as_str()) {
                offenders.push(format!(
                    "{}: {variant}: …{snippet}…",
                    file.strip_prefix(&src).unwrap().display()
                ));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "a kind is branched on outside its module (move the branch into src/resources/<kind>, or ask the kind through its rules):\n{}",
        offenders.join("\n")
    );
    // The scan looked at the kinds' modules at all.
    assert!(files
        .iter()
        .any(|f| owning_kind(&src, f).as_deref() == Some("lambda_function")));
}

#[test]
fn the_scan_sees_arms_comparisons_and_matches_but_not_addresses() {
    let code = r#"
        match (c.address.kind, c.action) {
            (Kind::LogGroup, Action::Update | Action::Replace) => {}
            (Kind::S3Bucket, _) => {}
        }
        if addr.kind != Kind::LambdaFunction { return; }
        let x = Kind::IamRole == k;
        if matches!(k, Kind::LambdaLayer | Kind::S3Notifications) {}
        if let Kind::LambdaPermission = k {}
        let a = Addr::new(Kind::LambdaFunction, name);
        let b = Addr::new(Kind::LogGroup, format!("/aws/lambda/{name}"));
        let e = ErrorKind::NotFound == kind;
    "#;
    let found: Vec<String> = branches(code).into_iter().map(|(v, _)| v).collect();
    assert_eq!(
        found,
        [
            "LogGroup",
            "S3Bucket",
            "LambdaFunction",
            "IamRole",
            "LambdaLayer",
            "S3Notifications",
            "LambdaPermission"
        ]
    );
    assert_eq!(snake("S3Notifications"), "s3_notifications");
    assert_eq!(snake("LambdaFunction"), "lambda_function");
}
