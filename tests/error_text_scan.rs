//! Errors are told apart by their kind, never by their text: only the AWS
//! adapter (`src/cloud/aws/`) reads an error's code or message, and maps it
//! to a `cloud::ErrorKind`. This scans the rest of `src/` (code before its
//! `#[cfg(test)]` module: tests may assert on messages) for text matching
//! of errors and fails on any.

use std::path::{Path, PathBuf};

/// String methods that inspect text.
const TEXT_TESTS: [&str; 4] = [".contains(", ".starts_with(", ".ends_with(", ".find("];

/// Names an error goes by.
const ERROR_NAMES: [&str; 5] = ["e", "err", "error", "source", "cause"];

/// `code` without whitespace, except one space between two words (so that
/// a method chain split over lines reads as one).
fn squeeze(code: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(code.len());
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_whitespace() {
            out.push(c);
            continue;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if out.chars().last().is_some_and(word) && chars.peek().is_some_and(|c| word(*c)) {
            out.push(' ');
        }
    }
    out
}

/// Every place in `code` that matches an error's text, as the offending
/// snippet (whitespace squeezed out, so a chain split over lines is caught).
fn text_matches(code: &str) -> Vec<String> {
    let code = squeeze(code);
    let mut found = Vec::new();
    let mut flag = |at: usize, len: usize| {
        let start = code[..at]
            .char_indices()
            .rev()
            .nth(30)
            .map_or(0, |(i, _)| i);
        let end = (at + len + 30).min(code.len());
        let end = (end..=code.len())
            .find(|i| code.is_char_boundary(*i))
            .unwrap_or(code.len());
        found.push(code[start..end].to_string());
    };
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

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src/") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_error_is_told_apart_by_its_text_outside_the_aws_adapter() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let adapter = src.join("cloud").join("aws");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(files.len() > 20, "src/ has the crate's files: {files:?}");
    let mut offences = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&adapter)) {
        let text = std::fs::read_to_string(file).expect("read a source file");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for m in text_matches(code) {
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
