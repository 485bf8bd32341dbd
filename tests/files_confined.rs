//! Files a manifest names are read only from inside its folder (or a folder
//! given with `--allow-files-in`), through the CLI: `validate` refuses every
//! other file with a located error, and `plan` (text, JSON, markdown,
//! `--out`, against the emulator) never shows what such a file holds, nor a
//! binary script's bytes.

mod common;

use std::process::Output;

use common::{out, Scratch};

/// In the file outside the manifest's folder, and in scar's environment.
const MARKER: &str = "probe-outside-secret-7f3a9c";
const ENV_MARKER: &str = "probe-env-secret-c41d02";

fn manifest(script: &str) -> String {
    format!(
        "workflow: confined\nfunctions:\n  aws:\n  - lambda:\n      name: confined-fn\n      init_script: {script}\n"
    )
}

/// A scratch folder: `proj/` (the manifest's), `outside/secret.sh`.
fn setup(s: &Scratch) {
    std::fs::create_dir_all(s.path().join("proj")).unwrap();
    s.write("outside/secret.sh", &format!("echo {MARKER}\n"));
}

fn run(s: &Scratch, args: &[&str]) -> Output {
    s.command(args)
        .env("AWS_SECRET_ACCESS_KEY_PROBE", ENV_MARKER)
        .output()
        .unwrap()
}

fn validate_json(s: &Scratch, extra: &[&str]) -> (Output, serde_json::Value) {
    let mut args = vec!["validate", "-o", "json", "-f", "proj/scar.yaml"];
    args.extend_from_slice(extra);
    let o = run(s, &args);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(&o)));
    (o, v)
}

/// The diagnostic of `init_script`, which must be an error with `code`,
/// located on the key's line, with a hint.
fn assert_refused(v: &serde_json::Value, code: &str, o: &Output) {
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == "functions.aws[0].lambda.init_script")
        .unwrap_or_else(|| panic!("no init_script diagnostic: {}", out(o)));
    assert_eq!(d["code"], code, "{d}");
    assert_eq!(d["severity"], "error", "{d}");
    assert_eq!(d["file"], "proj/scar.yaml");
    assert_eq!(d["line"], 6, "{d}");
    assert!(d["hint"].as_str().is_some_and(|h| !h.is_empty()), "{d}");
    assert_eq!(o.status.code(), Some(1), "{}", out(o));
}

fn assert_no_marker(text: &str) {
    assert!(!text.contains(MARKER), "the outside file leaked:\n{text}");
    assert!(
        !text.contains(ENV_MARKER),
        "scar's environment leaked:\n{text}"
    );
}

/// `plan` in every format, and `--out`: refused, and nothing leaks.
fn assert_plan_refused_without_leak(s: &Scratch) {
    for format in ["text", "json", "markdown"] {
        let saved = s.path().join(format!("plan-{format}.json"));
        let o = run(
            s,
            &[
                "plan",
                "-o",
                format,
                "-f",
                "proj/scar.yaml",
                "--out",
                saved.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{}", out(&o));
        assert_no_marker(&out(&o));
        if let Ok(text) = std::fs::read_to_string(&saved) {
            assert_no_marker(&text);
        }
    }
}

#[test]
fn files_outside_the_folder_are_refused_and_never_printed() {
    let s = Scratch::new();
    setup(&s);
    let outside = s.path().join("outside/secret.sh");
    let cases: Vec<(String, &str)> = vec![
        // A kernel pseudo-file is never read, whatever is allowed.
        ("/proc/self/environ".into(), "file-not-regular"),
        (outside.display().to_string(), "file-outside-folder"),
        ("../outside/secret.sh".into(), "file-outside-folder"),
        ("../../x".into(), "file-outside-folder"),
    ];
    for (script, code) in &cases {
        s.write("proj/scar.yaml", &manifest(script));
        let (o, v) = validate_json(&s, &[]);
        assert_refused(&v, code, &o);
        assert_no_marker(&out(&o));
        let text = run(&s, &["validate", "-f", "proj/scar.yaml"]);
        assert!(
            String::from_utf8_lossy(&text.stdout).contains("proj/scar.yaml:6:20"),
            "{}",
            out(&text)
        );
        assert_plan_refused_without_leak(&s);
    }
    // The absolute path's hint names the option that would allow it.
    s.write("proj/scar.yaml", &manifest(&outside.display().to_string()));
    let (_, v) = validate_json(&s, &[]);
    let hint = v["diagnostics"][0]["hint"].as_str().unwrap().to_string();
    let dir = std::fs::canonicalize(s.path().join("outside")).unwrap();
    assert!(
        hint.contains(&format!("--allow-files-in {}", dir.display())),
        "{hint}"
    );
}

#[test]
fn a_symlink_inside_pointing_outside_is_refused() {
    let s = Scratch::new();
    setup(&s);
    std::os::unix::fs::symlink(
        s.path().join("outside/secret.sh"),
        s.path().join("proj/run.sh"),
    )
    .unwrap();
    s.write("proj/scar.yaml", &manifest("run.sh"));
    let (o, v) = validate_json(&s, &[]);
    assert_refused(&v, "file-outside-folder", &o);
    assert!(out(&o).contains("resolves to"), "{}", out(&o));
    assert_plan_refused_without_leak(&s);
}

#[test]
fn folders_fifos_and_oversized_files_are_refused() {
    let s = Scratch::new();
    setup(&s);
    std::fs::create_dir(s.path().join("proj/adir")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(s.path().join("proj/pipe.sh"))
        .status()
        .expect("mkfifo");
    assert!(fifo.success());
    let big = std::fs::File::create(s.path().join("proj/big.sh")).unwrap();
    big.set_len(scar::manifest::files::MAX_SCRIPT_BYTES + 1)
        .unwrap();
    for (script, code) in [
        ("adir", "file-not-regular"),
        ("pipe.sh", "file-not-regular"),
        ("big.sh", "file-too-large"),
    ] {
        s.write("proj/scar.yaml", &manifest(script));
        let started = std::time::Instant::now();
        let (o, v) = validate_json(&s, &[]);
        assert_refused(&v, code, &o);
        // A FIFO is never opened (it would block).
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        let o = run(&s, &["plan", "-f", "proj/scar.yaml"]);
        assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    }
}

#[test]
fn allow_files_in_accepts_a_named_folder_only() {
    let s = Scratch::new();
    setup(&s);
    let outside = s.path().join("outside/secret.sh");
    s.write("proj/scar.yaml", &manifest(&outside.display().to_string()));
    let (o, v) = validate_json(&s, &["--allow-files-in", "outside"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(v["errors"], 0, "{v}");
    // plan reads it then, and shows it (the user allowed it).
    let o = run(
        &s,
        &[
            "plan",
            "-f",
            "proj/scar.yaml",
            "--allow-files-in",
            "outside",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains(MARKER), "{}", out(&o));
    // Another folder does not allow it.
    std::fs::create_dir(s.path().join("other")).unwrap();
    let (o, v) = validate_json(&s, &["--allow-files-in", "other"]);
    assert_refused(&v, "file-outside-folder", &o);
}

#[test]
fn a_binary_script_is_never_shown_in_a_plan() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.path().join("proj")).unwrap();
    let mut bytes = b"\x7fELF\x02\x01\x01\0\0\0".to_vec();
    bytes.extend_from_slice(MARKER.as_bytes());
    bytes.extend_from_slice(&[0xff, 0xfe, 0]);
    std::fs::write(s.path().join("proj/run.bin"), &bytes).unwrap();
    s.write("proj/scar.yaml", &manifest("run.bin"));
    let (o, v) = validate_json(&s, &[]);
    assert_eq!(v["errors"], 0, "{}", out(&o));
    for format in ["text", "json", "markdown"] {
        let saved = s.path().join("saved.json");
        let o = run(
            &s,
            &[
                "plan",
                "-o",
                format,
                "-f",
                "proj/scar.yaml",
                "--out",
                saved.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        assert_no_marker(&out(&o));
        assert_no_marker(&std::fs::read_to_string(&saved).unwrap());
        if format == "text" {
            assert!(
                out(&o).contains(&format!("(binary file, {} bytes, sha256", bytes.len())),
                "{}",
                out(&o)
            );
        }
    }
}

#[test]
fn package_build_refuses_on_its_own() {
    // Defence in depth: even a manifest that skipped validate cannot have
    // an outside file packaged.
    let dir = tempfile::tempdir().unwrap();
    let proj = dir.path().join("proj");
    std::fs::create_dir(&proj).unwrap();
    std::fs::write(dir.path().join("secret.sh"), MARKER).unwrap();
    std::fs::write(proj.join("scar.yaml"), manifest("../secret.sh")).unwrap();
    let loaded = scar::manifest::load(&[proj.join("scar.yaml")]);
    assert!(loaded.error_count() > 0);
    let m = loaded.manifest.unwrap();
    let e = scar::package::build(&m, &m.functions[0]).unwrap_err();
    let chain = format!("{e}: {}", std::error::Error::source(&e).unwrap());
    assert!(chain.contains("outside the manifest's folder"), "{chain}");
    assert!(!chain.contains(MARKER));
}
