//! What the source-scanning tests share: the crate's Rust files, each
//! one's code before its test module, and that code with its whitespace
//! squeezed out, so that a chain split over lines reads as one.

use std::path::{Path, PathBuf};

/// The crate's `src/`.
pub fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file below `dir`, sorted.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read a source folder") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// A file's code before its `#[cfg(test)]` module (tests may do what the
/// code must not).
pub fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read a source file");
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// `code` without whitespace, except one space between two words.
pub fn squeeze(code: &str) -> String {
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

/// The text around `code[at..at + len]`, `around` characters either side.
pub fn snippet(code: &str, at: usize, len: usize, around: usize) -> String {
    let start = code[..at]
        .char_indices()
        .rev()
        .nth(around)
        .map_or(0, |(i, _)| i);
    let end = (at + len + around).min(code.len());
    let end = (end..=code.len())
        .find(|i| code.is_char_boundary(*i))
        .unwrap_or(code.len());
    code[start..end].to_string()
}
