//! Diagnostics about manifests: what is wrong, where (file, line, column and
//! the offending line), and how to fix it.
//!
//! Rendering masks secrets: the loader records the byte ranges of secret
//! values, and the text shown for a file has them replaced by `*`.

use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::{Files, SimpleFiles};
use codespan_reporting::term;
use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

/// One problem found in the manifests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable, kebab-case identifier (`unknown-key`, `memory-range`, ...).
    pub code: &'static str,
    pub message: String,
    /// Where: the index of the file in the [`SourceSet`] and a byte range.
    pub file: Option<usize>,
    pub span: Option<Range<usize>>,
    /// A short text under the underlined source.
    pub label: Option<String>,
    /// How to fix it.
    pub hint: Option<String>,
    /// Further explanation, and secondary locations.
    pub notes: Vec<String>,
    pub secondary: Vec<(usize, Range<usize>, String)>,
    /// The manifest path (`functions.aws[0].lambda.memory`), if any.
    pub path: Option<String>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            file: None,
            span: None,
            label: None,
            hint: None,
            notes: Vec::new(),
            secondary: Vec::new(),
            path: None,
        }
    }

    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    pub fn note(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Note, code, message)
    }

    pub fn at(mut self, file: usize, span: Range<usize>) -> Self {
        self.file = Some(file);
        self.span = Some(span);
        self
    }

    pub fn in_file(mut self, file: usize) -> Self {
        self.file = Some(file);
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn also_at(mut self, file: usize, span: Range<usize>, label: impl Into<String>) -> Self {
        self.secondary.push((file, span, label.into()));
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
}

/// The manifest files of one run, with secrets masked for display.
#[derive(Clone, Debug, Default)]
pub struct SourceSet {
    files: Vec<SourceFile>,
}

#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The name shown to users (the path as given).
    pub name: String,
    /// The file's text as read.
    pub text: String,
    /// Byte ranges of secret values.
    pub secrets: Vec<Range<usize>>,
}

impl SourceSet {
    pub fn add(&mut self, name: String, text: String) -> usize {
        self.files.push(SourceFile {
            name,
            text,
            secrets: Vec::new(),
        });
        self.files.len() - 1
    }

    pub fn get(&self, id: usize) -> Option<&SourceFile> {
        self.files.get(id)
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// Marks a byte range of a file as secret: it is masked when shown.
    pub fn mark_secret(&mut self, id: usize, span: Range<usize>) {
        if let Some(f) = self.files.get_mut(id) {
            if span.start < span.end && span.end <= f.text.len() {
                f.secrets.push(span);
            }
        }
    }

    /// The text of a file with every secret byte replaced by `*` (same
    /// length, so spans stay valid; still valid UTF-8 since marks cover
    /// whole scalars).
    pub fn masked_text(&self, id: usize) -> String {
        let Some(f) = self.files.get(id) else {
            return String::new();
        };
        let mut bytes = f.text.clone().into_bytes();
        for r in &f.secrets {
            for b in &mut bytes[r.clone()] {
                *b = b'*';
            }
        }
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, id: usize, offset: usize) -> Option<(usize, usize)> {
        let f = self.files.get(id)?;
        let offset = offset.min(f.text.len());
        let before = &f.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = f.text[line_start..offset].chars().count() + 1;
        Some((line, col))
    }
}

/// Sorts diagnostics by file, position, severity and code, for stable output.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (
            a.file,
            a.span.as_ref().map(|s| s.start),
            a.severity,
            a.code,
            &a.message,
        )
            .cmp(&(
                b.file,
                b.span.as_ref().map(|s| s.start),
                b.severity,
                b.code,
                &b.message,
            ))
    });
}

/// Renders diagnostics as text (plain, no colour): the `error[code]: ...`
/// header, `┌─ file:line:col`, the source line underlined, then hints.
pub fn render_text(sources: &SourceSet, diags: &[Diagnostic]) -> String {
    let mut files = SimpleFiles::new();
    for (i, f) in sources.files().iter().enumerate() {
        let id = files.add(f.name.clone(), sources.masked_text(i));
        debug_assert_eq!(id, i);
    }
    let config = term::Config::default();
    let mut out = String::new();
    for d in diags {
        let cs = to_codespan(d, &files);
        match term::emit_into_string(&config, &files, &cs) {
            Ok(s) => out.push_str(&s),
            Err(_) => out.push_str(&format!("{}: {}\n", severity_word(d.severity), d.message)),
        }
    }
    out
}

fn to_codespan(d: &Diagnostic, files: &SimpleFiles<String, String>) -> CsDiagnostic<usize> {
    let severity = match d.severity {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
        Severity::Note => CsSeverity::Note,
    };
    let mut cs = CsDiagnostic::new(severity)
        .with_code(d.code)
        .with_message(&d.message);
    let mut labels = Vec::new();
    if let Some(file) = d.file {
        let span = first_line(files, file, d.span.clone().unwrap_or(0..0));
        labels.push(Label::primary(file, span).with_message(d.label.clone().unwrap_or_default()));
    }
    for (file, span, msg) in &d.secondary {
        labels.push(
            Label::secondary(*file, first_line(files, *file, span.clone())).with_message(msg),
        );
    }
    cs = cs.with_labels(labels);
    let mut notes = d.notes.clone();
    if let Some(h) = &d.hint {
        notes.push(format!("hint: {h}"));
    }
    cs.with_notes(notes)
}

/// Clamps a span to the source and to its first line: a block is shown by
/// the line it starts on, not underlined whole.
fn first_line(
    files: &SimpleFiles<String, String>,
    file: usize,
    span: Range<usize>,
) -> Range<usize> {
    let text: &str = files.source(file).unwrap_or("");
    let start = span.start.min(text.len());
    let mut end = span.end.min(text.len()).max(start);
    if let Some(nl) = text[start..end].find('\n') {
        end = start + nl;
    }
    start..end
}

pub fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A diagnostic as data (the `--output json` form).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DiagnosticJson {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<usize>,
    /// The offending source line, secrets masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_line: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

pub fn to_json(sources: &SourceSet, d: &Diagnostic) -> DiagnosticJson {
    let file = d.file.and_then(|f| sources.get(f)).map(|f| f.name.clone());
    let (mut line, mut column, mut end_line, mut end_column, mut source_line) =
        (None, None, None, None, None);
    if let (Some(f), Some(span)) = (d.file, d.span.as_ref()) {
        if let Some((l, c)) = sources.line_col(f, span.start) {
            line = Some(l);
            column = Some(c);
            let masked = sources.masked_text(f);
            source_line = masked.lines().nth(l - 1).map(|s| s.to_string());
        }
        if let Some((l, c)) = sources.line_col(f, span.end) {
            end_line = Some(l);
            end_column = Some(c);
        }
    }
    DiagnosticJson {
        severity: d.severity,
        code: d.code,
        message: d.message.clone(),
        file,
        line,
        column,
        end_line,
        end_column,
        source_line,
        path: d.path.clone(),
        label: d.label.clone(),
        hint: d.hint.clone(),
        notes: d.notes.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_rendered_text() {
        let mut s = SourceSet::default();
        let text = "secret_key: hunter2\n";
        let id = s.add("m.yaml".into(), text.into());
        s.mark_secret(id, 12..19);
        let d =
            Diagnostic::warning("inline-credential", "credential written inline").at(id, 12..19);
        let out = render_text(&s, std::slice::from_ref(&d));
        assert!(!out.contains("hunter2"), "{out}");
        assert!(out.contains("m.yaml:1:13"), "{out}");
        let j = to_json(&s, &d);
        assert!(!j.source_line.unwrap().contains("hunter2"));
    }

    #[test]
    fn line_col_is_one_based() {
        let mut s = SourceSet::default();
        let id = s.add("a".into(), "ab\ncd\n".into());
        assert_eq!(s.line_col(id, 0), Some((1, 1)));
        assert_eq!(s.line_col(id, 4), Some((2, 2)));
    }
}
