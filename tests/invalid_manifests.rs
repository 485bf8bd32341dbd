//! Invalid manifests: each file in `tests/fixtures/invalid/` is validated
//! and its exact diagnostic output is compared with a snapshot
//! (`tests/snapshots/`). A second test checks that together they cover
//! every check `scar validate` makes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use scar::commands::validate::render_text;
use scar::manifest::{self, Severity};

fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .to_path_buf()
}

#[test]
fn each_invalid_manifest_has_its_exact_diagnostics() {
    insta::glob!("fixtures/invalid/*.yaml", |path| {
        let loaded = manifest::load(&[relative(path)]);
        assert!(
            !loaded.diagnostics.is_empty(),
            "{} produced no diagnostics",
            path.display()
        );
        insta::assert_snapshot!(stable(&render_text(&loaded)));
    });
}

/// The text with what depends on the checkout (the hash of default
/// workflow names, and the identity it was made from: a git remote, or the
/// checkout's path) replaced by placeholders.
fn stable(text: &str) -> String {
    let hash =
        regex::Regex::new(r"((?:defaults to `|workflow: |workflow `)[A-Za-z0-9_-]+)-[0-9a-f]{8}`")
            .unwrap();
    let basis = regex::Regex::new(r"(?m)^(\s*= the hash is ).*$").unwrap();
    let text = hash.replace_all(text, "$1-XXXXXXXX`");
    basis.replace_all(&text, "${1}<identity>").into_owned()
}

#[test]
fn invalid_manifests_cover_every_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| relative(&e.unwrap().path()))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "only {} invalid manifests", files.len());
    let mut codes = BTreeSet::new();
    let mut with_errors = 0;
    for f in &files {
        let loaded = manifest::load(std::slice::from_ref(f));
        if loaded.error_count() > 0 {
            with_errors += 1;
        }
        for d in &loaded.diagnostics {
            codes.insert(d.code);
            // Every diagnostic names its file, and every error a place in it.
            assert!(d.file.is_some(), "{}: {d:?} has no file", f.display());
            if d.severity == Severity::Error && d.code != "empty-manifest" {
                assert!(d.span.is_some(), "{}: {d:?} has no location", f.display());
            }
            if d.severity != Severity::Note && d.code != "oscar-not-deployed" {
                assert!(
                    d.hint.is_some() || d.code == "unknown-key",
                    "{}: {} has no hint",
                    f.display(),
                    d.code
                );
            }
        }
    }
    assert!(
        with_errors >= 20,
        "only {with_errors} manifests have errors"
    );
    let required = [
        // types and ranges
        "wrong-type",
        "out-of-range",
        "invalid-function-name",
        "invalid-bucket-name",
        "invalid-path",
        "invalid-role-arn",
        "invalid-value",
        "batch-vcpus-order",
        "batch-vcpus-exceed",
        "invalid-security-group",
        "invalid-subnet",
        "subnets-one-item",
        "invalid-instance-profile",
        "invalid-retention",
        "timeout-threshold",
        "reserved-env",
        "invalid-env-name",
        "too-many-items",
        "invalid-mount-path",
        "vpc-incomplete",
        // unknown keys
        "unknown-key",
        // references
        "undefined-provider",
        "unknown-provider-type",
        "duplicate-function",
        // the workflow graph
        "endless-loop",
        "workflow-cycle",
        "overlapping-triggers",
        "possible-loop",
        "whole-bucket-trigger",
        // layouts
        "legacy-layout",
        "draft-layout",
        "function-config-not-manifest",
        "not-a-manifest",
        // credentials
        "inline-credential",
        // YAML itself
        "yaml-syntax",
        "empty-manifest",
        "missing-key",
        "duplicate-key",
        "multiple-documents",
        "oscar-not-deployed",
        // AWS Batch and API Gateway
        "batch-needs-image",
        "batch-gpu-on-fargate",
        "batch-multinode-on-fargate",
        "batch-fargate-vcpus",
        "batch-fargate-memory",
        "duplicate-api-name",
        "invalid-stage-name",
        "invalid-http-method",
    ];
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !codes.contains(c))
        .collect();
    assert!(
        missing.is_empty(),
        "no invalid manifest exercises: {missing:?}"
    );
}

#[test]
fn secrets_never_appear_in_text_or_json() {
    let path = PathBuf::from("tests/fixtures/invalid/19-inline-credentials.yaml");
    let loaded = manifest::load(std::slice::from_ref(&path));
    let text = render_text(&loaded);
    let json = scar::commands::validate::render_json(&loaded);
    for secret in [
        "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",
        "minio-user-secret-id",
        "minio-password-do-not-print",
    ] {
        assert!(!text.contains(secret), "text shows {secret}:\n{text}");
        assert!(!json.contains(secret), "json shows {secret}:\n{json}");
    }
    assert_eq!(loaded.error_count(), 0);
    assert_eq!(loaded.warning_count(), 3);
}
