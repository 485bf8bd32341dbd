//! The loader never panics: arbitrary text, arbitrary YAML-shaped documents
//! and mutations of SCAR's own manifests all come back as diagnostics.

use proptest::prelude::*;
use scar::commands::validate::{render_json, render_text};
use scar::manifest::load_texts;

fn check(text: &str) {
    let loaded = load_texts(&[("fuzz.yaml", text)]);
    // Rendering must not panic either, whatever the spans.
    let _ = render_text(&loaded);
    let _ = render_json(&loaded);
}

const SEEDS: &[&str] = &[
    include_str!("fixtures/invalid/09-batch-fields.yaml"),
    include_str!("fixtures/invalid/14-cycle.yaml"),
    include_str!("fixtures/invalid/19-inline-credentials.yaml"),
    include_str!("fixtures/invalid/33-oscar-and-lists.yaml"),
    "functions:\n  aws:\n  - lambda:\n      name: f\n      memory: 1024\n      input:\n      - storage_provider: s3\n        path: b/in\n      output:\n      - storage_provider: s3\n        path: b/out\n        prefix: [a]\n        suffix: [.png]\n",
];

/// Tokens that make YAML interesting: indicators, anchors, tags, keys.
const TOKENS: &[&str] = &[
    ":",
    "- ",
    "\n",
    "  ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!str ",
    "'",
    "\"",
    "#",
    "|\n",
    ">\n",
    "~",
    "null",
    "yes",
    "1e9",
    "-1",
    "99999999999999999999",
    "functions:",
    "aws:",
    "lambda:",
    "name: x",
    "memory:",
    "input:",
    "path: b/",
    "storage_provider: s3",
    "---\n",
    "...\n",
    "\t",
    "é",
    "\u{0}",
    "%YAML 1.2\n",
    "? ",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text(text in "\\PC{0,400}") {
        check(&text);
    }

    #[test]
    fn arbitrary_token_soup(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..80)) {
        check(&tokens.concat());
    }

    #[test]
    fn mutated_manifests(
        seed in prop::sample::select(SEEDS),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, prop::sample::select(TOKENS)), 1..8),
    ) {
        let mut text = seed.to_string();
        for (at, kind, token) in edits {
            let mut pos = at.index(text.len() + 1);
            while !text.is_char_boundary(pos) {
                pos -= 1;
            }
            match kind {
                0 => text.insert_str(pos, token),
                1 => {
                    // delete a few bytes
                    let mut end = (pos + 3).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.replace_range(pos..end, "");
                }
                2 => {
                    // duplicate a line
                    let line_start = text[..pos].rfind('\n').map(|i| i + 1).unwrap_or(0);
                    let line_end = text[pos..].find('\n').map(|i| pos + i + 1).unwrap_or(text.len());
                    let line = text[line_start..line_end].to_string();
                    text.insert_str(line_start, &line);
                }
                _ => {
                    // change indentation of the line
                    let line_start = text[..pos].rfind('\n').map(|i| i + 1).unwrap_or(0);
                    text.insert(line_start, ' ');
                }
            }
        }
        check(&text);
    }
}

#[test]
fn deep_nesting_and_alias_bombs_are_errors_not_crashes() {
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let loaded = load_texts(&[("deep.yaml", &deep)]);
    assert!(loaded.error_count() > 0);
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let loaded = load_texts(&[("bomb.yaml", &bomb)]);
    assert_eq!(loaded.diagnostics[0].code, "yaml-syntax");
}
