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
