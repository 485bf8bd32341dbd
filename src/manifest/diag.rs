//! Diagnostics about manifests: what is wrong, where (file, line, column and
//! the offending line), and how to fix it.
//!
//! Rendering masks secrets: every line whose key looks secret or whose
//! value has a secret's shape ([`crate::secrets`]) is marked when the file
//! is added, before it is parsed (so a syntax or type error on a
//! credential's line shows no credential), the schema walk and the checks
//! mark more, and the text shown for a file has each marked value replaced
//! by the fixed [`crate::secrets::MASK`]; spans are mapped onto the masked
//! text, and messages quoting a marked value have it masked too.

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
        let secrets = line_secrets(&text);
        self.files.push(SourceFile {
            name,
            text,
            secrets,
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
            if span.start < span.end
                && span.end <= f.text.len()
                && f.text.is_char_boundary(span.start)
                && f.text.is_char_boundary(span.end)
            {
                f.secrets.push(span);
            }
        }
    }

    /// The text of a file as shown: every secret replaced by the fixed
    /// mask, line by line (so line numbers stay right).
    pub fn masked_text(&self, id: usize) -> String {
        self.masked(id).text
    }

    /// The masked text of a file and the map from its offsets.
    pub fn masked(&self, id: usize) -> Masked {
        let Some(f) = self.files.get(id) else {
            return Masked::default();
        };
        let segments = segments(f);
        let mut text = String::with_capacity(f.text.len());
        let mut at = 0;
        let mut map = Vec::new();
        for seg in &segments {
            text.push_str(&f.text[at..seg.start]);
            map.push((seg.clone(), text.len()));
            text.push_str(crate::secrets::MASK);
            at = seg.end;
        }
        text.push_str(&f.text[at..]);
        Masked { text, map }
    }

    /// `s` with every secret value of every file masked (for messages and
    /// hints that quote a value). Errs on the side of masking: a short
    /// secret such as `none` is masked in every message.
    pub fn redact(&self, s: &str) -> String {
        let mut words: Vec<&str> = Vec::new();
        for f in &self.files {
            for seg in segments(f) {
                let w = f.text[seg].trim_matches(|c| c == '"' || c == '\'');
                if !w.is_empty() {
                    words.push(w);
                }
            }
        }
        // Longest first, so a secret holding another is masked whole; a
        // NUL stands for the mask until the end, so that no later word
        // matches inside an inserted mask.
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let mut out = s.replace('\0', "");
        for w in words {
            out = out.replace(w, "\0");
            // Messages quote at most the first 60 characters.
            if w.chars().count() > 60 {
                let head: String = w.chars().take(60).collect();
                out = out.replace(&head, "\0");
            }
        }
        out.replace('\0', crate::secrets::MASK)
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, id: usize, offset: usize) -> Option<(usize, usize)> {
        text_line_col(&self.files.get(id)?.text, offset)
    }
}

/// 1-based line and column of a byte offset of `text`.
fn text_line_col(text: &str, offset: usize) -> Option<(usize, usize)> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = text[line_start..offset].chars().count() + 1;
    Some((line, col))
}

/// A file's text with its secrets masked, and where each masked range went.
#[derive(Clone, Debug, Default)]
pub struct Masked {
    pub text: String,
    /// Each masked range of the original and the start of its mask.
    map: Vec<(Range<usize>, usize)>,
}

impl Masked {
    /// Where an offset of the original text is in the masked text (inside a
    /// secret: its mask's start, or its end for the end of a span).
    pub fn offset(&self, o: usize, end: bool) -> usize {
        let mut delta: isize = 0;
        for (r, new_start) in &self.map {
            if o <= r.start {
                break;
            }
            if o < r.end {
                return if end {
                    new_start + crate::secrets::MASK.len()
                } else {
                    *new_start
                };
            }
            delta = (new_start + crate::secrets::MASK.len()) as isize - r.end as isize;
        }
        (o as isize + delta).max(0) as usize
    }

    /// A span of the original text in the masked text.
    pub fn span(&self, r: &Range<usize>) -> Range<usize> {
        let start = self.offset(r.start, false);
        start..self.offset(r.end, true).max(start)
    }
}

/// The secret ranges of a file, merged, split at line ends (each line's
/// part is masked on its own, so lines keep their numbers).
fn segments(f: &SourceFile) -> Vec<Range<usize>> {
    let mut ranges: Vec<Range<usize>> = f.secrets.clone();
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    let mut out = Vec::new();
    for r in merged {
        let mut start = r.start;
        for (i, part) in f.text[r.clone()].split('\n').enumerate() {
            if i > 0 {
                start += 1;
            }
            let trimmed = part.trim_end_matches('\r');
            let lead = trimmed.len() - trimmed.trim_start().len();
            if !trimmed.trim().is_empty() {
                out.push(start + lead..start + trimmed.len());
            }
            start += part.len();
        }
    }
    out
}

fn key_re() -> &'static regex::Regex {
    static R: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    // A constant pattern, exercised by the tests below.
    R.get_or_init(|| {
        regex::Regex::new(r#"(?:^|[\s{,\[-])["']?([A-Za-z0-9_.\-]+)["']?[ \t]*:(?:[ \t]+|$)"#)
            .expect("a valid constant regex")
    })
}

/// The values of a file's lines that look secret, found on the raw text
/// (the file may not even parse): the value after a key that looks secret
/// (to the end of the line, or the indented block of a `|`/`>` scalar),
/// and any word with a secret's shape (a URL with a password).
fn line_secrets(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut block: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let body = content.trim_start();
        let indent = content.len() - body.len();
        if let Some(key_indent) = block {
            if body.is_empty() || indent > key_indent {
                if !body.is_empty() {
                    out.push(offset + indent..offset + content.len());
                }
                offset += line.len();
                continue;
            }
            block = None;
        }
        for caps in key_re().captures_iter(content) {
            let (Some(key), Some(whole)) = (caps.get(1), caps.get(0)) else {
                continue;
            };
            let value = content[whole.end()..].trim_end();
            if value.is_empty() || value.starts_with('#') {
                continue;
            }
            let unquoted = value.trim_matches(|c| c == '"' || c == '\'');
            if crate::secrets::looks_secret(key.as_str(), unquoted) {
                if value.starts_with('|') || value.starts_with('>') {
                    block = Some(indent);
                } else {
                    out.push(offset + whole.end()..offset + whole.end() + value.len());
                }
                break;
            }
        }
        let mut word_start = None;
        for (i, c) in content
            .char_indices()
            .chain(std::iter::once((content.len(), ' ')))
        {
            let sep = c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}' | '"' | '\'');
            match (sep, word_start) {
                (true, Some(s)) => {
                    if crate::secrets::value_looks_secret(&content[s..i]) {
                        out.push(offset + s..offset + i);
                    }
                    word_start = None;
                }
                (false, None) => word_start = Some(i),
                _ => {}
            }
        }
        offset += line.len();
    }
    out
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
    let mut masked = Vec::new();
    for (i, f) in sources.files().iter().enumerate() {
        let m = sources.masked(i);
        let id = files.add(f.name.clone(), m.text.clone());
        debug_assert_eq!(id, i);
        masked.push(m);
    }
    let config = term::Config::default();
    let mut out = String::new();
    for d in diags {
        let d = &shown(sources, &masked, d);
        let cs = to_codespan(d, &files);
        match term::emit_into_string(&config, &files, &cs) {
            Ok(s) => out.push_str(&s),
            Err(_) => out.push_str(&format!("{}: {}\n", severity_word(d.severity), d.message)),
        }
    }
    out
}

/// A diagnostic as shown: spans moved onto the masked text, quoted
/// secrets masked in every text.
fn shown(sources: &SourceSet, masked: &[Masked], d: &Diagnostic) -> Diagnostic {
    let map = |file: usize, r: &Range<usize>| match masked.get(file) {
        Some(m) => m.span(r),
        None => r.clone(),
    };
    let mut d = d.clone();
    redact_texts(sources, &mut d);
    if let (Some(f), Some(span)) = (d.file, d.span.as_ref()) {
        d.span = Some(map(f, span));
    }
    for (f, span, _) in &mut d.secondary {
        *span = map(*f, span);
    }
    d
}

fn redact_texts(sources: &SourceSet, d: &mut Diagnostic) {
    let redact = |t: &str| sources.redact(t);
    d.message = redact(&d.message);
    d.label = d.label.as_deref().map(redact);
    d.hint = d.hint.as_deref().map(redact);
    for n in &mut d.notes {
        *n = redact(n);
    }
    for (_, _, l) in &mut d.secondary {
        *l = redact(l);
    }
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
    let mut redacted = d.clone();
    redact_texts(sources, &mut redacted);
    let d = &redacted;
    let file = d.file.and_then(|f| sources.get(f)).map(|f| f.name.clone());
    let (mut line, mut column, mut end_line, mut end_column, mut source_line) =
        (None, None, None, None, None);
    if let (Some(f), Some(span)) = (d.file, d.span.as_ref()) {
        // Positions are those of the text as shown (secrets masked), so
        // that no column tells a secret's length.
        let masked = sources.masked(f);
        let span = masked.span(span);
        if let Some((l, c)) = text_line_col(&masked.text, span.start) {
            line = Some(l);
            column = Some(c);
            source_line = masked.text.lines().nth(l - 1).map(|s| s.to_string());
        }
        if let Some((l, c)) = text_line_col(&masked.text, span.end) {
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
    fn secret_lines_are_masked_before_parsing_with_a_fixed_mask() {
        for secret in ["abc", "probe-secret-value-42-which-is-much-longer"] {
            let mut s = SourceSet::default();
            let text = format!("a: 1\nsecret_key: \"{secret}\nb: [x\n");
            let id = s.add("m.yaml".into(), text.clone());
            let masked = s.masked_text(id);
            assert!(!masked.contains(secret), "{masked}");
            assert_eq!(masked.lines().nth(1), Some("secret_key: (sensitive value)"));
            // A span after the secret still points at the same text.
            let b = text.find("b:").unwrap();
            let m = s.masked(id);
            assert_eq!(&m.text[m.span(&(b..b + 2))], "b:");
            // A message quoting the secret shows the mask, wherever it is.
            let at = text.find(secret).unwrap();
            let near = Diagnostic::error("wrong-type", format!("bad `{secret}`"))
                .at(id, at..at + secret.len());
            let far = Diagnostic::error("yaml-syntax", format!("bad `{secret}`")).at(id, b..b + 2);
            let out = render_text(&s, &[near, far.clone()]);
            assert!(out.contains("m.yaml:3:1"), "{out}");
            assert!(!out.contains(secret), "{out}");
            assert_eq!(out.matches(crate::secrets::MASK).count(), 3, "{out}");
        }
        let mut s = SourceSet::default();
        let text = "env:\n  DB_PASS: x1\n  DATABASE_URL: postgres://u:pw@host/db\n  - ftp://a:b@h\n  key: |\n    line1\n    line2\n  name: ok\n";
        let id = s.add("m.yaml".into(), text.into());
        let masked = s.masked_text(id);
        for gone in ["x1", "u:pw", "a:b", "line1", "line2"] {
            assert!(!masked.contains(gone), "{gone}: {masked}");
        }
        assert!(masked.contains("name: ok"));
        assert_eq!(masked.lines().count(), text.lines().count());
    }

    #[test]
    fn spans_map_onto_the_masked_text() {
        let mut s = SourceSet::default();
        let text = "a: x\nb: secret-one\nc: y\nd: s2\ne: z\n";
        let id = s.add("m.yaml".into(), text.into());
        let one = text.find("secret-one").unwrap();
        let two = text.find("s2").unwrap();
        s.mark_secret(id, one..one + 10);
        s.mark_secret(id, two..two + 2);
        let m = s.masked(id);
        for word in ["a: x", "c: y", "e: z"] {
            let at = text.find(word).unwrap();
            assert_eq!(&m.text[m.span(&(at..at + word.len()))], word);
        }
        // A span over a secret covers its whole mask.
        assert_eq!(&m.text[m.span(&(one + 2..one + 4))], crate::secrets::MASK);
        let b = text.find("b:").unwrap();
        assert_eq!(
            &m.text[m.span(&(b..one + 10))],
            format!("b: {}", crate::secrets::MASK)
        );
    }

    #[test]
    fn line_col_is_one_based() {
        let mut s = SourceSet::default();
        let id = s.add("a".into(), "ab\ncd\n".into());
        assert_eq!(s.line_col(id, 0), Some((1, 1)));
        assert_eq!(s.line_col(id, 4), Some((2, 2)));
    }
}
