//! Whole runs of the `scar` binary: exit codes, streams and formats.

use std::path::Path;
use std::process::{Command, Output};

fn scar(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scar"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run scar")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const VALID: &str =
    "workflow: demo\nfunctions:\n  aws:\n  - lambda:\n      name: hello\n      memory: 256\n";

#[test]
fn valid_manifest_exits_0_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("scar.yaml"), VALID).unwrap();
    // No -f: scar.yaml in the current folder.
    let o = scar(&["validate"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o),
        "valid: workflow `demo`, 1 function in 1 file (0 errors, 0 warnings)\n"
    );
}

#[test]
fn errors_exit_1_with_located_diagnostics_on_stdout() {
    let o = scar(
        &[
            "validate",
            "-f",
            "tests/fixtures/invalid/02-memory-timeout-range.yaml",
        ],
        root(),
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("tests/fixtures/invalid/02-memory-timeout-range.yaml:5:15"),
        "{out}"
    );
    assert!(
        out.contains("invalid: 2 errors, 0 warnings in 1 file"),
        "{out}"
    );
}

#[test]
fn strict_turns_warnings_into_errors() {
    let file = "tests/fixtures/invalid/10-unknown-keys.yaml";
    assert_eq!(
        scar(&["validate", "-f", file], root()).status.code(),
        Some(0)
    );
    let o = scar(&["validate", "--strict", "-f", file], root());
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("error[unknown-key]: unknown key `memmory`"));
}

#[test]
fn json_output_is_data_with_locations() {
    let o = scar(
        &[
            "validate",
            "-o",
            "json",
            "-f",
            "tests/fixtures/invalid/13-endless-loop.yaml",
        ],
        root(),
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["valid"], false);
    assert_eq!(v["errors"], 1);
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "endless-loop")
        .unwrap();
    assert_eq!(d["severity"], "error");
    assert_eq!(d["line"], 11);
    assert_eq!(d["column"], 15);
    assert_eq!(d["file"], "tests/fixtures/invalid/13-endless-loop.yaml");
    assert_eq!(d["path"], "functions.aws[0].lambda.output[0].path");
    assert_eq!(d["source_line"], "        path: scar-images/in/gray");
    assert!(d["hint"].as_str().unwrap().contains("another folder"));
    assert_eq!(v["functions"][0]["name"], "grayify");
}

#[test]
fn a_folder_is_one_workflow_named_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join("photo-flow");
    std::fs::create_dir(&wf).unwrap();
    std::fs::write(
        wf.join("a.yaml"),
        "functions:\n  aws:\n  - lambda:\n      name: a\n",
    )
    .unwrap();
    std::fs::write(
        wf.join("b.yml"),
        "functions:\n  aws:\n  - lambda:\n      name: b\n",
    )
    .unwrap();
    std::fs::write(wf.join("notes.txt"), "not a manifest").unwrap();
    let o = scar(&["validate", "-o", "json", "-f", "photo-flow"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // The folder's name, and a hash of where it is (no two folders share
    // a default name).
    let wf = v["workflow"].as_str().unwrap();
    let hash = wf.strip_prefix("photo-flow-").expect(wf);
    assert!(
        hash.len() == 8 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{wf}"
    );
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
}

#[test]
fn files_disagreeing_on_the_workflow_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        format!("workflow: one\n{}", &VALID[15..]),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.yaml"),
        "workflow: two\nfunctions:\n  aws:\n  - lambda:\n      name: other\n",
    )
    .unwrap();
    let o = scar(&["validate", "-f", "a.yaml", "-f", "b.yaml"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("error[workflow-mismatch]"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn usage_errors_exit_1_and_missing_files_are_named() {
    let o = scar(&["validate", "--no-such-flag"], root());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--no-such-flag"));
    let dir = tempfile::tempdir().unwrap();
    let o = scar(&["validate"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no manifest given"), "{}", stderr(&o));
    assert!(stderr(&o).contains("hint: pass a manifest with `-f FILE`"));
    let o = scar(&["validate", "-f", "nope.yaml"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("cannot read `nope.yaml`"),
        "{}",
        stdout(&o)
    );
    // --help is not an error.
    assert_eq!(scar(&["--help"], root()).status.code(), Some(0));
}

#[test]
fn schema_command_prints_the_stored_schema() {
    let o = scar(&["schema"], root());
    assert_eq!(o.status.code(), Some(0));
    let stored = std::fs::read_to_string(root().join("schemas/manifest.schema.json")).unwrap();
    assert_eq!(stdout(&o), stored);
}

#[test]
fn every_example_workflow_validates_cleanly() {
    let examples = root().join("manifests/examples");
    let mut dirs: Vec<_> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for dir in dirs {
        let o = scar(
            &["validate", "--strict", "-f", dir.to_str().unwrap()],
            root(),
        );
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{out}");
        assert!(
            out.starts_with("valid: workflow"),
            "{}: {out}",
            dir.display()
        );
    }
}

fn validate_json(dir: &Path, file: &str) -> serde_json::Value {
    let o = scar(&["validate", "-o", "json", "-f", file], dir);
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)))
}

const NO_WORKFLOW: &str = "functions:\n  aws:\n  - lambda:\n      name: f\n";

#[test]
fn two_scar_yaml_projects_get_different_default_workflows() {
    let dir = tempfile::tempdir().unwrap();
    for p in ["one", "two"] {
        std::fs::create_dir(dir.path().join(p)).unwrap();
        std::fs::write(dir.path().join(p).join("scar.yaml"), NO_WORKFLOW).unwrap();
    }
    let a = validate_json(dir.path(), "one/scar.yaml");
    let b = validate_json(dir.path(), "two/scar.yaml");
    let (a, b) = (
        a["workflow"].as_str().unwrap(),
        b["workflow"].as_str().unwrap(),
    );
    assert!(a.starts_with("scar-") && b.starts_with("scar-"), "{a} {b}");
    assert_ne!(a, b);
    // Editing the manifest never renames the workflow.
    std::fs::write(
        dir.path().join("one/scar.yaml"),
        format!("{NO_WORKFLOW}      memory: 256\n"),
    )
    .unwrap();
    assert_eq!(validate_json(dir.path(), "one/scar.yaml")["workflow"], a);
    // Names that clean alike stay apart.
    std::fs::write(dir.path().join("my wf ü.yaml"), NO_WORKFLOW).unwrap();
    std::fs::write(dir.path().join("my-wf.yaml"), NO_WORKFLOW).unwrap();
    let c = validate_json(dir.path(), "my wf ü.yaml");
    let d = validate_json(dir.path(), "my-wf.yaml");
    assert!(c["workflow"].as_str().unwrap().starts_with("my-wf-"));
    assert_ne!(c["workflow"], d["workflow"]);
    // The note says the name and how to pin it.
    let note = c["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "default-workflow")
        .unwrap();
    let name = c["workflow"].as_str().unwrap();
    assert!(note["message"].as_str().unwrap().contains(name), "{note}");
    assert!(note["hint"]
        .as_str()
        .unwrap()
        .contains(&format!("add `workflow: {name}`")));
}

#[test]
fn clones_of_one_git_project_share_the_default_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let token = "tok3n-never-printed";
    for (clone, url) in [
        ("clone-a", "git@example.org:team/proj.git".to_string()),
        (
            "deep/clone-b",
            format!("https://bot:{token}@example.org/team/proj"),
        ),
    ] {
        let root = dir.path().join(clone);
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("deploy")).unwrap();
        std::fs::write(
            root.join(".git/config"),
            format!("[remote \"origin\"]\n\turl = {url}\n"),
        )
        .unwrap();
        std::fs::write(root.join("deploy/scar.yaml"), NO_WORKFLOW).unwrap();
    }
    let a = validate_json(dir.path(), "clone-a/deploy/scar.yaml");
    let b = validate_json(dir.path(), "deep/clone-b/deploy/scar.yaml");
    assert_eq!(a["workflow"], b["workflow"]);
    assert!(!b.to_string().contains(token), "{b}");
    assert!(!b.to_string().contains("example.org"), "{b}");
    // Another project on the same host does not.
    let other = dir.path().join("other");
    std::fs::create_dir_all(other.join(".git")).unwrap();
    std::fs::create_dir_all(other.join("deploy")).unwrap();
    std::fs::write(
        other.join(".git/config"),
        "[remote \"origin\"]\n\turl = git@example.org:team/other.git\n",
    )
    .unwrap();
    std::fs::write(other.join("deploy/scar.yaml"), NO_WORKFLOW).unwrap();
    let c = validate_json(dir.path(), "other/deploy/scar.yaml");
    assert_ne!(a["workflow"], c["workflow"]);
}

/// validate's text and JSON output for `text` in `m.yaml`.
fn validate_outputs(text: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.yaml"), text).unwrap();
    let t = scar(&["validate", "-f", "m.yaml"], dir.path());
    let j = scar(&["validate", "-o", "json", "-f", "m.yaml"], dir.path());
    (
        format!("{}{}", stdout(&t), stderr(&t)),
        format!("{}{}", stdout(&j), stderr(&j)),
    )
}

#[test]
fn credentials_never_print_in_errors_and_masks_have_one_length() {
    let cases = |secret: &str| {
        vec![
            // A YAML syntax error on the credential's line.
            format!("workflow: w\nfunctions:\n  aws:\n  - lambda:\n      name: f\nstorage_providers:\n  minio:\n    m:\n      secret_key: \"{secret}\n"),
            // A type error on it.
            format!("workflow: w\nfunctions:\n  aws:\n  - lambda:\n      name: f\nstorage_providers:\n  minio:\n    m:\n      secret_key: {{nested: {secret}}}\n"),
            format!("workflow: w\nfunctions:\n  aws:\n  - lambda:\n      name: f\nstorage_providers:\n  minio:\n    m:\n      secret_key: [{secret}]\n"),
            // Secret by name and by shape, with an error elsewhere.
            format!("workflow: w\nfunctions:\n  aws:\n  - lambda:\n      name: f\n      memory: lots\n      environment:\n        Variables:\n          DB_PASS: {secret}\n          DATABASE_URL: postgres://u:{secret}@db.internal/app\n"),
        ]
    };
    let short = "p4s";
    let long = "probe-secret-value-42-abcdefghij";
    assert_eq!(long.len(), 32);
    for (s, l) in cases(short).iter().zip(cases(long)) {
        let (st, sj) = validate_outputs(s);
        let (lt, lj) = validate_outputs(&l);
        for out in [&st, &sj] {
            assert!(!out.contains(short), "{out}");
        }
        for out in [&lt, &lj] {
            assert!(!out.contains(long), "{out}");
        }
        // Nothing in the output tells the secret's length.
        assert_eq!(st, lt);
        assert_eq!(sj, lj);
    }
    // The env vars are warned as credentials, the URL by its shape.
    let (text, _) = validate_outputs(&cases(long)[3]);
    assert!(text.contains("`DB_PASS` looks like a credential"), "{text}");
    assert!(
        text.contains("`DATABASE_URL` looks like a credential"),
        "{text}"
    );
}

#[test]
fn an_unknown_key_s_json_path_names_it_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.yaml"),
        "workflow: w\nfunctions:\n  aws:\n  - lambda:\n      name: f\n      memroy: 256\n",
    )
    .unwrap();
    let v = validate_json(dir.path(), "m.yaml");
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "unknown-key")
        .unwrap()
        .clone();
    assert_eq!(d["path"], "functions.aws[0].lambda.memroy");
}
