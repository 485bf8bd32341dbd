//! The loader never panics: arbitrary text, arbitrary YAML-shaped documents
//! and mutations of SCAR's own manifests all come back as diagnostics.
//!
//! Memory is bounded too: after every fuzz case the process's peak
//! resident size (`VmHWM` of `/proc/self/status`, a high-water mark of the
//! whole test process) must stay under [`FUZZ_BUDGET_KIB`]; the alias-bomb
//! tests run the loader in a child process (this test binary, re-run with
//! one ignored test) and check that child's own peak, under 100 MiB, and
//! its time, under 1 s.

use proptest::prelude::*;
use scar::commands::validate::{render_json, render_text};
use scar::manifest::load_texts;

/// The peak resident size the fuzz cases may bring this process to.
const FUZZ_BUDGET_KIB: u64 = 512 * 1024;

fn check(text: &str) {
    let loaded = load_texts(&[("fuzz.yaml", text)]);
    // Rendering must not panic either, whatever the spans.
    let _ = render_text(&loaded);
    let _ = render_json(&loaded);
    let peak = peak_rss_kib();
    assert!(peak < FUZZ_BUDGET_KIB, "peak RSS {peak} KiB after {text:?}");
}

/// This process's peak resident size (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

/// A 1 MB string anchored once and used 3,000 times: as list items, or as
/// environment values of a function.
fn string_bomb(as_env: bool) -> String {
    let big = "x".repeat(1_000_000);
    let mut src = format!("big: &s \"{big}\"\n");
    if as_env {
        src.push_str("functions:\n  aws:\n  - lambda:\n      name: f\n      environment:\n        Variables:\n");
        for i in 0..3000 {
            src.push_str(&format!("          V{i}: *s\n"));
        }
    } else {
        src.push_str("list: [");
        src.push_str(&vec!["*s"; 3000].join(", "));
        src.push_str("]\n");
    }
    src
}

#[test]
#[ignore = "run by `string_alias_bombs_are_refused_fast_and_small` in a child process"]
fn child_loads_a_string_bomb() {
    let as_env = std::env::var("SCAR_BOMB_AS_ENV").as_deref() == Ok("1");
    let src = string_bomb(as_env);
    let started = std::time::Instant::now();
    let loaded = load_texts(&[("bomb.yaml", &src)]);
    let text = render_text(&loaded);
    let elapsed = started.elapsed();
    assert!(loaded.error_count() > 0, "{text}");
    assert!(text.contains("MiB of text"), "{text}");
    println!(
        "RESULT elapsed_ms={} peak_kib={}",
        elapsed.as_millis(),
        peak_rss_kib()
    );
}

#[test]
fn string_alias_bombs_are_refused_fast_and_small() {
    for as_env in [false, true] {
        let o = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "child_loads_a_string_bomb",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("SCAR_BOMB_AS_ENV", if as_env { "1" } else { "0" })
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.split("RESULT ").nth(1))
            .unwrap_or_else(|| panic!("the child ran no bomb: {stdout}"));
        let field = |name: &str| -> u64 {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(name))
                .and_then(|v| v.parse().ok())
                .unwrap()
        };
        let (ms, kib) = (field("elapsed_ms="), field("peak_kib="));
        assert!(ms < 1000, "as_env={as_env}: {ms} ms");
        assert!(kib < 100 * 1024, "as_env={as_env}: peak {kib} KiB");
    }
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
