//! Image references in real manifests and through the CLI: every `image:`
//! value in SCAR's corpus (`../shared/corpus/`, read in place) is read as
//! docker reads it, or reported as a placeholder with its file named; the
//! files load with no image diagnostic; and `scar validate` reports a
//! placeholder or a misspelled image at file:line:col with a hint, in text
//! and JSON, and exits 1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scar::image::reference::{ImageRef, ReferenceError};
use scar::manifest::{self, yaml};

/// Every `.yaml`/`.yml` file under `dir`, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every scalar value of an `image` key anywhere in `node` (SCAR 4.x's
/// `container.image`, the legacy formats' top-level `image`, OSCAR's).
fn image_values(node: &yaml::Node, out: &mut Vec<String>) {
    if let Some(map) = node.as_map() {
        for (k, v) in map {
            match (k.as_str(), v.as_str()) {
                (Some("image"), Some(value)) => out.push(value.to_string()),
                _ => image_values(v, out),
            }
        }
    } else if let Some(seq) = node.as_seq() {
        for n in seq {
            image_values(n, out);
        }
    }
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files = yaml_files(&testkit::shared_path("corpus/scar-examples"));
    files.extend(yaml_files(&testkit::shared_path("corpus/scar-workflows")));
    files
}

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn every_image_in_the_corpus_is_read_as_docker_reads_it() {
    let mut found: Vec<(String, ImageRef)> = Vec::new();
    let mut problems = Vec::new();
    for file in corpus_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let parsed = yaml::parse(&text).unwrap_or_else(|e| panic!("{}: {e:?}", file.display()));
        let mut values = Vec::new();
        if let Some(root) = &parsed.root {
            image_values(root, &mut values);
        }
        for v in values {
            match ImageRef::parse(&v) {
                Ok(r) => found.push((v, r)),
                // A placeholder is allowed, but must be reported as one.
                Err(ReferenceError::Placeholder(p)) => {
                    println!("{}: placeholder `{p}`", file.display())
                }
                Err(e) => problems.push(format!("{}: `{v}`: {e}", file.display())),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The corpus holds SCAR's examples in two copies plus legacy files:
    // dozens of images, not a handful.
    assert!(found.len() >= 30, "only {} images found", found.len());
    let canonical = |v: &str| {
        found
            .iter()
            .find(|(s, _)| s == v)
            .map(|(_, r)| r.to_string())
            .unwrap_or_else(|| panic!("`{v}` is not in the corpus"))
    };
    assert_eq!(
        canonical("grycap/imagemagick"),
        "docker.io/grycap/imagemagick:latest"
    );
    assert_eq!(canonical("ubuntu:20.04"), "docker.io/library/ubuntu:20.04");
    assert_eq!(
        canonical("ruby:2.2.10-slim-jessie"),
        "docker.io/library/ruby:2.2.10-slim-jessie"
    );
    assert_eq!(
        canonical("jrottenberg/ffmpeg:4.1-ubuntu"),
        "docker.io/jrottenberg/ffmpeg:4.1-ubuntu"
    );
    assert_eq!(
        canonical("974349055189.dkr.ecr.us-east-1.amazonaws.com/micafer:latest"),
        "974349055189.dkr.ecr.us-east-1.amazonaws.com/micafer:latest"
    );
}

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn no_corpus_manifest_gets_an_image_diagnostic() {
    let mut loaded_functions = 0;
    for file in corpus_files() {
        // SCAR's MPI example names files in /tmp.
        let options = manifest::LoadOptions {
            allow_files_in: vec![PathBuf::from("/tmp")],
        };
        let loaded = manifest::load_with(std::slice::from_ref(&file), &options);
        let image_diags: Vec<_> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.code.starts_with("image-reference"))
            .collect();
        assert!(
            image_diags.is_empty(),
            "{}: {image_diags:#?}",
            file.display()
        );
        loaded_functions += loaded.manifest.map_or(0, |m| m.functions.len());
    }
    // The check ran on real functions, not only on files that fail to load.
    assert!(
        loaded_functions >= 20,
        "{loaded_functions} functions loaded"
    );
}

fn scar(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scar"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("CONTAINERS_REGISTRIES_CONF")
        .output()
        .expect("run scar")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A two-function manifest: `cowsay`'s image is `first`, `darknet`'s is
/// `second` (each on line 7 and 11, after `image: `, column 16).
fn manifest(first: &str, second: &str) -> String {
    format!(
        "workflow: images\nfunctions:\n  aws:\n  - lambda:\n      name: cowsay\n      container:\n        image: {first}\n  - lambda:\n      name: darknet\n      container:\n        image: {second}\n"
    )
}

#[test]
fn validate_reports_a_placeholder_image_at_its_place_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.yaml"),
        manifest("<your-image>", "grycap/darknet"),
    )
    .unwrap();
    let o = scar(&["validate", "-f", "m.yaml"], dir.path());
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("error[image-reference-placeholder]: `<your-image>` is a placeholder, not an image name"),
        "{out}"
    );
    assert!(out.contains("m.yaml:7:16"), "{out}");
    assert!(
        out.contains("hint: replace the placeholder with an image name"),
        "{out}"
    );
    // The valid image of the other function is not reported.
    assert!(!out.contains("grycap/darknet"), "{out}");
    assert!(out.contains("invalid: 1 error"), "{out}");
}

#[test]
fn validate_json_locates_every_bad_image_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.yaml"),
        manifest("\"{{image}}\"", "Grycap/Darknet:v2"),
    )
    .unwrap();
    let o = scar(&["validate", "-o", "json", "-f", "m.yaml"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["valid"], false);
    let diags: Vec<&serde_json::Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"].as_str().unwrap().starts_with("image-reference"))
        .collect();
    assert_eq!(diags.len(), 2, "{v:#}");
    let placeholder = diags
        .iter()
        .find(|d| d["code"] == "image-reference-placeholder")
        .expect("the placeholder");
    assert_eq!(placeholder["severity"], "error");
    assert_eq!(placeholder["file"], "m.yaml");
    assert_eq!(placeholder["line"], 7);
    assert_eq!(placeholder["column"], 16);
    assert_eq!(
        placeholder["path"],
        "functions.aws[0].lambda.container.image"
    );
    let upper = diags
        .iter()
        .find(|d| d["code"] == "image-reference-invalid")
        .expect("the upper-case image");
    assert_eq!(upper["line"], 11);
    assert_eq!(upper["column"], 16);
    assert_eq!(upper["source_line"], "        image: Grycap/Darknet:v2");
    assert!(
        upper["message"].as_str().unwrap().contains("upper-case"),
        "{upper}"
    );
    assert_eq!(upper["hint"], "did you mean `grycap/darknet:v2`?");
}

#[test]
fn validate_accepts_registry_ports_digests_and_official_images() {
    let dir = tempfile::tempdir().unwrap();
    let digested = "localhost:5000/team/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    std::fs::write(dir.path().join("m.yaml"), manifest(digested, "ubuntu")).unwrap();
    let o = scar(&["validate", "-o", "json", "-f", "m.yaml"], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    let image_diags: Vec<_> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"].as_str().unwrap().starts_with("image-reference"))
        .collect();
    assert!(image_diags.is_empty(), "{v:#}");
}

#[test]
fn plan_refuses_a_placeholder_image_before_reaching_aws() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.yaml"),
        manifest("<your-image>", "ubuntu"),
    )
    .unwrap();
    // No AWS settings at all: the manifest is refused first.
    let o = Command::new(env!("CARGO_BIN_EXE_scar"))
        .args(["plan", "-f", "m.yaml"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("m.yaml:7:16"), "{err}");
    assert!(err.contains("image-reference-placeholder"), "{err}");
}
