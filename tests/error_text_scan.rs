//! Errors are told apart by their kind, never by their text: only the AWS
//! adapter (`src/cloud/aws/`) reads an error's code or message, and maps it
//! to a `cloud::ErrorKind`. This scans the rest of `src/` (code before its
//! `#[cfg(test)]` module: tests may assert on messages) for text matching
//! of errors and fails on any.

#[path = "common/source_scan.rs"]
mod source_scan;

use source_scan::{code_of, rust_files, snippet, squeeze};

/// String methods that inspect text.
const TEXT_TESTS: [&str; 4] = [".contains(", ".starts_with(", ".ends_with(", ".find("];

/// Names an error goes by.
const ERROR_NAMES: [&str; 5] = ["e", "err", "error", "source", "cause"];

/// Every place in `code` that matches an error's text, as the offending
/// snippet (whitespace squeezed out, so a chain split over lines is caught).
fn text_matches(code: &str) -> Vec<String> {
    let code = squeeze(code);
    let mut found = Vec::new();
    let mut flag = |at: usize, len: usize| found.push(snippet(&code, at, len, 30));
    // The old one-line text of an error, gone from the API: any use of it
    // (it existed only to be matched or printed).
    for (at, m) in code.match_indices("error_text(") {
        flag(at, m.len());
    }
    for test in TEXT_TESTS {
        // `e.chain_text().contains(..)`, `e.to_string().contains(..)`,
        // `format!("{e}").contains(..)`.
        for text_of in [".chain_text()", ".to_string()"] {
            let needle = format!("{text_of}{test}");
            for (at, m) in code.match_indices(&needle) {
                let before = &code[..at];
                let ident: String = before
                    .chars()
                    .rev()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                if text_of == ".chain_text()" || ERROR_NAMES.contains(&ident.as_str()) {
                    flag(at, m.len());
                }
            }
        }
        for name in ERROR_NAMES {
            for fmt in [format!("\"{{{name}}}\")"), format!("\"{{{name}:?}}\")")] {
                let needle = format!("{fmt}{test}");
                for (at, m) in code.match_indices(&needle) {
                    flag(at, m.len());
                }
            }
        }
    }
    found
}

#[test]
fn no_error_is_told_apart_by_its_text_outside_the_aws_adapter() {
    let src = source_scan::src();
    let adapter = src.join("cloud").join("aws");
    let files = rust_files(&src);
    assert!(files.len() > 20, "src/ has the crate's files: {files:?}");
    let mut offences = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&adapter)) {
        for m in text_matches(&code_of(file)) {
            offences.push(format!(
                "{}: {m}",
                file.strip_prefix(&src).unwrap_or(file).display()
            ));
        }
    }
    assert!(
        offences.is_empty(),
        "errors matched by their text outside src/cloud/aws/ (branch on `CloudError::kind`; \
         if the kind cannot tell, give `cloud::aws::classify` a new kind):\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_scan_finds_what_it_looks_for() {
    // What ops.rs did before kinds could tell.
    let old = r#"
        Err(e) if crate::apply::error_text(&e).contains("BucketAlreadyExists") => {
            return Err(e)
        }"#;
    assert_eq!(text_matches(old).len(), 1, "{:?}", text_matches(old));
    for bad in [
        r#"if e.chain_text().contains("cannot be assumed") {}"#,
        "if e\n    .chain_text()\n    .starts_with(\"x\") {}",
        r#"if err.to_string().contains("Throttl") {}"#,
        r#"if e.source.to_string().ends_with("exists") {}"#,
        r#"if format!("{e}").contains("exists") {}"#,
    ] {
        assert_eq!(text_matches(bad).len(), 1, "{bad}");
    }
    for fine in [
        r#"attrs.values().any(|v| v.to_string().contains(UNKNOWN))"#,
        r#"if name.to_string().contains("x") {}"#,
        r#"if e.kind == ErrorKind::AlreadyExists {}"#,
        r#"Outcome::Failed(e.chain_text())"#,
    ] {
        assert!(text_matches(fine).is_empty(), "{fine}");
    }
}
