//! A YAML document as a tree of nodes that remember where they came from.
//!
//! Built from `saphyr-parser` events. Aliases are expanded (with a bound on
//! the total size, so "billion laughs" documents are refused rather than
//! exhausting memory), `<<` merge keys are applied as PyYAML does (SCAR reads
//! its files with PyYAML), and every node keeps its byte range in the source.
//! Scalars keep their text and style; typing them is the decoder's job,
//! because YAML 1.1 (PyYAML) and 1.2 disagree and the expected type decides.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// Most nodes one document may expand to (aliases included).
const MAX_NODES: usize = 200_000;
/// Most bytes of scalar text one document may expand to: each scalar
/// counts every time an alias re-uses it (16 MiB; a manifest file is at
/// most 4 MiB, so only alias expansion can reach it).
pub const MAX_EXPANDED_BYTES: usize = 16 * 1024 * 1024;
/// Deepest nesting accepted.
const MAX_DEPTH: usize = 128;

/// One YAML node and the bytes of the source it spans.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Range<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Entries in source order; duplicate keys are kept so the decoder can
    /// report them.
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: String,
    /// Plain (unquoted, untagged) scalars are the only ones YAML resolves to
    /// null, booleans or numbers.
    pub plain: bool,
}

impl Node {
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar node, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(|s| s.text.as_str())
    }

    /// The value under `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node under `key` in a mapping node.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// Follows a path of keys and indexes.
    pub fn at(&self, path: &[PathSeg]) -> Option<&Node> {
        let mut node = self;
        for seg in path {
            node = match seg {
                PathSeg::Key(k) => node.get(k)?,
                PathSeg::Index(i) => node.as_seq()?.get(*i)?,
            };
        }
        Some(node)
    }

    /// The span of the key under which the last path segment sits (for
    /// "unknown key" style messages), else the node's own span.
    pub fn key_span_at(&self, path: &[PathSeg]) -> Option<Range<usize>> {
        let (last, parent) = path.split_last()?;
        let parent = self.at(parent)?;
        match last {
            PathSeg::Key(k) => parent.entry(k).map(|(k, _)| k.span.clone()),
            PathSeg::Index(i) => parent.as_seq()?.get(*i).map(|n| n.span.clone()),
        }
    }

    /// True for a plain scalar that YAML reads as null (`~`, `null`, empty).
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(s) if s.plain && is_null_text(&s.text))
    }
}

pub fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// One step of a path into a document.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

impl From<&str> for PathSeg {
    fn from(k: &str) -> Self {
        PathSeg::Key(k.to_string())
    }
}

impl From<usize> for PathSeg {
    fn from(i: usize) -> Self {
        PathSeg::Index(i)
    }
}

/// Renders a path as `functions.aws[0].lambda.memory`.
pub fn path_string(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathSeg::Index(i) => {
                out.push_str(&format!("[{i}]"));
            }
        }
    }
    out
}

/// Why a document could not be read as YAML.
#[derive(Clone, Debug, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub span: Range<usize>,
}

/// The result of parsing one file: its first document (`None` for an empty
/// file) and how many documents the stream held.
#[derive(Debug)]
pub struct Parsed {
    pub root: Option<Node>,
    pub documents: usize,
    /// Spans of the second and later documents (reported, never read).
    pub extra_documents: Vec<Range<usize>>,
}

/// Parses a YAML stream into node trees.
pub fn parse(src: &str) -> Result<Parsed, YamlError> {
    let offsets = CharOffsets::new(src);
    let mut parser = Parser::new_from_str(src);
    let mut builder = Builder {
        offsets: &offsets,
        anchors: HashMap::new(),
        stack: Vec::new(),
        docs: Vec::new(),
        nodes: 0,
        bytes: 0,
    };
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| YamlError {
            message: e.info().to_string(),
            span: offsets.point(e.marker().index()),
        })?;
        if builder.on_event(event, span)? {
            break;
        }
    }
    let documents = builder.docs.len();
    let mut docs = builder.docs.into_iter();
    let root = docs.next();
    let extra_documents = docs.map(|d| d.span).collect();
    Ok(Parsed {
        root,
        documents,
        extra_documents,
    })
}

/// Maps saphyr's character indexes to byte offsets.
struct CharOffsets {
    /// Byte offset of each char index, plus one past the end. Empty when the
    /// source is ASCII (then char index == byte offset).
    table: Vec<usize>,
    len: usize,
}

impl CharOffsets {
    fn new(src: &str) -> Self {
        let table = if src.is_ascii() {
            Vec::new()
        } else {
            src.char_indices()
                .map(|(b, _)| b)
                .chain(std::iter::once(src.len()))
                .collect()
        };
        CharOffsets {
            table,
            len: src.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.table.is_empty() {
            char_index.min(self.len)
        } else {
            *self
                .table
                .get(char_index)
                .unwrap_or(self.table.last().unwrap_or(&0))
        }
    }

    fn range(&self, span: Span) -> Range<usize> {
        let start = self.byte(span.start.index());
        let end = self.byte(span.end.index()).max(start);
        start..end
    }

    fn point(&self, char_index: usize) -> Range<usize> {
        let b = self.byte(char_index);
        b..b
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        start: usize,
        anchor: usize,
    },
}

struct Builder<'a> {
    offsets: &'a CharOffsets,
    anchors: HashMap<usize, Node>,
    stack: Vec<Frame>,
    docs: Vec<Node>,
    nodes: usize,
    /// Scalar bytes produced so far, aliases' copies included.
    bytes: usize,
}

impl Builder<'_> {
    /// Handles one event; returns true when the stream has ended.
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<bool, YamlError> {
        let range = self.offsets.range(span);
        match event {
            Event::StreamEnd => return Ok(true),
            Event::Nothing | Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd => {}
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    return Err(YamlError {
                        message: "alias refers to an unknown anchor".into(),
                        span: range,
                    });
                };
                let (nodes, bytes) = measure(&node);
                self.count(nodes, &range)?;
                self.count_bytes(bytes, &range)?;
                // The alias points at the anchored node, but errors in it are
                // reported where the alias is used.
                let node = Node {
                    span: range,
                    ..node
                };
                self.push(node)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, &range)?;
                self.count_bytes(text.len(), &range)?;
                let tagged_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let node = Node {
                    kind: NodeKind::Scalar(Scalar {
                        text: cow_to_string(text),
                        plain: style == ScalarStyle::Plain && !tagged_str,
                    }),
                    span: range,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push(node)?;
            }
            Event::SequenceStart(anchor, _) => {
                self.depth_check(&range)?;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    start: range.start,
                    anchor,
                });
            }
            Event::MappingStart(anchor, _) => {
                self.depth_check(&range)?;
                self.stack.push(Frame::Map {
                    entries: Vec::new(),
                    pending_key: None,
                    start: range.start,
                    anchor,
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq {
                    items,
                    start,
                    anchor,
                }) = self.stack.pop()
                {
                    self.count(1, &range)?;
                    let node = Node {
                        kind: NodeKind::Seq(items),
                        span: start..range.end.max(start),
                    };
                    if anchor > 0 {
                        self.anchors.insert(anchor, node.clone());
                    }
                    self.push(node)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    entries,
                    start,
                    anchor,
                    ..
                }) = self.stack.pop()
                {
                    self.count(1, &range)?;
                    let node = Node {
                        kind: NodeKind::Map(apply_merge_keys(entries)),
                        span: start..range.end.max(start),
                    };
                    if anchor > 0 {
                        self.anchors.insert(anchor, node.clone());
                    }
                    self.push(node)?;
                }
            }
        }
        Ok(false)
    }

    fn depth_check(&self, range: &Range<usize>) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
                span: range.clone(),
            });
        }
        Ok(())
    }

    fn count(&mut self, n: usize, range: &Range<usize>) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(YamlError {
                message: format!(
                    "the document expands to more than {MAX_NODES} nodes (through aliases?)"
                ),
                span: range.clone(),
            });
        }
        Ok(())
    }

    fn count_bytes(&mut self, n: usize, range: &Range<usize>) -> Result<(), YamlError> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > MAX_EXPANDED_BYTES {
            return Err(YamlError {
                message: format!(
                    "the document expands to more than {} MiB of text (through aliases?)",
                    MAX_EXPANDED_BYTES / (1024 * 1024)
                ),
                span: range.clone(),
            });
        }
        Ok(())
    }

    fn push(&mut self, node: Node) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }
}

fn cow_to_string(c: Cow<'_, str>) -> String {
    c.into_owned()
}

/// The nodes and scalar bytes in a tree.
fn measure(node: &Node) -> (usize, usize) {
    let add =
        |(a, b): (usize, usize), (c, d): (usize, usize)| (a.saturating_add(c), b.saturating_add(d));
    match &node.kind {
        NodeKind::Scalar(s) => (1, s.text.len()),
        NodeKind::Seq(items) => items.iter().map(measure).fold((1, 0), add),
        NodeKind::Map(entries) => entries
            .iter()
            .map(|(k, v)| add(measure(k), measure(v)))
            .fold((1, 0), add),
    }
}

/// Applies `<<: *anchor` and `<<: [*a, *b]` merge keys: merged entries are
/// added unless the mapping already has the key (explicit keys win).
fn apply_merge_keys(entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    if !entries
        .iter()
        .any(|(k, _)| matches!(&k.kind, NodeKind::Scalar(s) if s.plain && s.text == "<<"))
    {
        return entries;
    }
    let mut own = Vec::new();
    let mut merged = Vec::new();
    for (k, v) in entries {
        let is_merge = matches!(&k.kind, NodeKind::Scalar(s) if s.plain && s.text == "<<");
        if !is_merge {
            own.push((k, v));
            continue;
        }
        match v.kind {
            NodeKind::Map(m) => merged.extend(m),
            NodeKind::Seq(items) => {
                for item in items {
                    match item.kind {
                        NodeKind::Map(m) => merged.extend(m),
                        other => own.push((
                            k.clone(),
                            Node {
                                kind: other,
                                span: item.span,
                            },
                        )),
                    }
                }
            }
            // Not mergeable: keep it as an ordinary entry, so the decoder
            // reports it as an unknown key `<<`.
            other => own.push((
                k,
                Node {
                    kind: other,
                    span: v.span,
                },
            )),
        }
    }
    for (k, v) in merged {
        let present = own.iter().any(|(ok, _)| ok.as_str() == k.as_str());
        if !present {
            own.push((k, v));
        }
    }
    own
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(src: &str) -> Node {
        parse(src).unwrap().root.unwrap()
    }

    #[test]
    fn spans_are_byte_ranges_of_scalars() {
        let src = "a:\n  b: hello\n";
        let r = root(src);
        let b = r.get("a").unwrap().get("b").unwrap();
        assert_eq!(&src[b.span.clone()], "hello");
    }

    #[test]
    fn spans_survive_multibyte_text() {
        let src = "d: \"héllo wörld\"\nm: 12\n";
        let r = root(src);
        let m = r.get("m").unwrap();
        assert_eq!(&src[m.span.clone()], "12");
    }

    #[test]
    fn quoted_scalars_are_not_plain() {
        let r = root("a: '1'\nb: 1\nc: !!str 2\n");
        assert!(!r.get("a").unwrap().as_scalar().unwrap().plain);
        assert!(r.get("b").unwrap().as_scalar().unwrap().plain);
        assert!(!r.get("c").unwrap().as_scalar().unwrap().plain);
    }

    #[test]
    fn aliases_and_merge_keys_expand() {
        let r = root("base: &b {memory: 1024, timeout: 10}\nf:\n  <<: *b\n  timeout: 20\n");
        let f = r.get("f").unwrap();
        assert_eq!(f.get("memory").unwrap().as_str(), Some("1024"));
        assert_eq!(f.get("timeout").unwrap().as_str(), Some("20"));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let prev = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse(&src).unwrap_err();
        assert!(err.message.contains("more than"), "{err:?}");
    }

    #[test]
    fn string_alias_bombs_are_refused_by_bytes() {
        // Few nodes, many bytes: 64 KiB re-used 300 times is 19 MiB.
        let big = "x".repeat(64 * 1024);
        let mut src = format!("s: &s \"{big}\"\nl: [");
        src.push_str(&vec!["*s"; 300].join(", "));
        src.push_str("]\n");
        let err = parse(&src).unwrap_err();
        assert!(err.message.contains("MiB of text"), "{err:?}");
        assert_eq!(&src[err.span.clone()], "*s");
        // The same string used a few times is fine.
        let ok = format!("s: &s \"{big}\"\nl: [*s, *s, *s]\n");
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn syntax_errors_have_a_location() {
        let src = "a: [1, 2\nb: 3\n";
        let err = parse(src).unwrap_err();
        assert!(err.span.start > 0 && err.span.start <= src.len());
    }

    #[test]
    fn counts_documents() {
        let p = parse("a: 1\n---\nb: 2\n").unwrap();
        assert_eq!(p.documents, 2);
        assert_eq!(p.extra_documents.len(), 1);
        assert!(parse("").unwrap().root.is_none());
    }
}
