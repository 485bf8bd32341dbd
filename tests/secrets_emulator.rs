//! Secrets and warnings through the `scar` binary against the AWS emulator
//! (moto): a manifest that carries secrets in every place a manifest can
//! hold one goes through validate → plan (text, JSON, Markdown, `--out`) →
//! apply `-vv` under a bucket lock → drift (text, JSON, Markdown, `-vv`) →
//! a secret-only change → destroy `-v`, and no output, log line, saved
//! plan, lock object, applied record or cache file ever holds a secret's
//! value; a saved plan whose
//! secret changed after review is stale; plan and apply print the
//! manifests' warnings and honour `--strict`.

mod common;
use common::out;

use std::path::Path;

type Env = common::Scratch;

/// Every secret value the manifest below holds, before and after the change.
const PROBES: &[&str] = &[
    "probe-db-pass-1",
    "probe-url-pass-2",
    "probe-api-token-3",
    "probe-minio-access-4",
    "probe-minio-secret-5",
    "probe-onedata-token-6",
    "probe-webdav-pass-7",
    "probe-rucio-access-8",
    "probe-rucio-refresh-9",
    "probe-s3-access-10",
    "probe-s3-secret-11",
    "probe-auth-header-12",
];

fn manifest(round: &str) -> String {
    format!(
        r#"workflow: secrets
functions:
  aws:
  - lambda:
      name: scar-secrets-f
      init_script: run.sh
      environment:
        Variables:
          DB_PASS: probe-db-pass-1{round}
          DATABASE_URL: postgres://app:probe-url-pass-2{round}@db.example.org/app
          API_TOKEN: probe-api-token-3{round}
          AUTH_HEADER: probe-auth-header-12{round}
          MODE: fast
      input:
      - storage_provider: s3
        path: scar-secrets-in/in
      output:
      - storage_provider: s3
        path: scar-secrets-out/out
      - storage_provider: minio.m
        path: results
storage_providers:
  s3:
    other:
      access_key: probe-s3-access-10{round}
      secret_key: probe-s3-secret-11{round}
  minio:
    m:
      endpoint: http://127.0.0.1:9000
      access_key: probe-minio-access-4{round}
      secret_key: probe-minio-secret-5{round}
  onedata:
    o:
      oneprovider_host: op.example.org
      token: probe-onedata-token-6{round}
      space: s
  webdav:
    w:
      hostname: dav.example.org
      login: me
      password: probe-webdav-pass-7{round}
  rucio:
    r:
      host: rucio.example.org
      access_token: probe-rucio-access-8{round}
      refresh_token: probe-rucio-refresh-9{round}
"#
    )
}

/// Fails if any probe occurs in `text`.
fn assert_clean(what: &str, text: &str) {
    for p in PROBES {
        assert!(!text.contains(p), "{what} holds the secret {p}:\n{text}");
    }
}

/// Every file below `dir`, checked.
fn assert_files_clean(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            assert_files_clean(&p);
        } else {
            let bytes = std::fs::read(&p).unwrap();
            assert_clean(&p.display().to_string(), &String::from_utf8_lossy(&bytes));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_output_saved_plan_or_cache_file_ever_holds_a_secret() {
    let env = Env::new();
    env.write("wf/run.sh", "#!/bin/sh\ntrue\n");
    let m = env
        .write("wf/scar.yaml", &manifest(""))
        .display()
        .to_string();
    let saved = env.path().join("saved.json").display().to_string();
    let cache = env.path().join("cache");
    let cache_env = cache.display().to_string();
    let scar = |what: &str, args: &[&str]| {
        let mut cmd = env.command(args);
        cmd.env("SCAR_CACHE_DIR", &cache_env);
        let o = cmd.output().unwrap();
        assert_clean(what, &out(&o));
        o
    };

    let o = scar("validate", &["validate", "-f", &m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    scar("validate json", &["validate", "-o", "json", "-f", &m]);
    let o = scar("plan", &["plan", "-f", &m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("(sensitive value)"), "{}", out(&o));
    scar("plan json", &["plan", "-o", "json", "-f", &m]);
    scar("plan markdown", &["plan", "-o", "markdown", "-f", &m]);
    scar("plan --out", &["plan", "--out", &saved, "-f", &m]);
    assert_clean("the saved plan", &std::fs::read_to_string(&saved).unwrap());
    // Applied under a lock in a bucket: the lock object, caught while the
    // apply holds it, holds no secret either.
    let conf = env.sdk().await;
    let s3 = common::s3(&conf);
    s3.create_bucket()
        .bucket("scar-secret-locks")
        .send()
        .await
        .unwrap();
    let mut cmd = env.command(&[
        "apply",
        "-vv",
        "--auto-approve",
        "--lock-bucket",
        "scar-secret-locks",
        "-f",
        &m,
    ]);
    // Its output goes to files: -vv writes more than a pipe holds before
    // the lock is even taken, and nothing reads the pipe while polling.
    let (stdout_path, stderr_path) = (env.path().join("apply.out"), env.path().join("apply.err"));
    cmd.env("SCAR_CACHE_DIR", &cache_env)
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    let mut child = cmd.spawn().unwrap();
    let mut lock_body = None;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while lock_body.is_none() && std::time::Instant::now() < deadline {
        if let Ok(o) = s3
            .get_object()
            .bucket("scar-secret-locks")
            .key("scar/locks/secrets.lock")
            .send()
            .await
        {
            let bytes = o.body.collect().await.unwrap().into_bytes();
            lock_body = Some(String::from_utf8_lossy(&bytes).into_owned());
        } else {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    let status = child.wait().unwrap();
    let logged = format!(
        "--- stdout\n{}--- stderr\n{}",
        std::fs::read_to_string(&stdout_path).unwrap(),
        std::fs::read_to_string(&stderr_path).unwrap()
    );
    assert_eq!(status.code(), Some(0), "{logged}");
    assert_clean("apply -vv", &logged);
    assert!(
        logged.contains("TRACE") || logged.contains("DEBUG"),
        "-vv logs: {logged}"
    );
    let lock_body = lock_body.expect("the lock object was seen while the apply ran");
    assert!(lock_body.contains("\"command\": \"apply\""), "{lock_body}");
    assert_clean("the lock object", &lock_body);
    // Nor does the applied record on the function.
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let f = lambda
        .get_function()
        .function_name("scar-secrets-f")
        .send()
        .await
        .unwrap();
    let tags = lambda
        .list_tags()
        .resource(f.configuration().unwrap().function_arn().unwrap())
        .send()
        .await
        .unwrap();
    let record = format!("{:?}", tags.tags());
    assert!(record.contains("scar:applied"), "{record}");
    assert_clean("the function's tags", &record);
    for (what, format) in [
        ("drift", "text"),
        ("drift json", "json"),
        ("drift markdown", "markdown"),
    ] {
        let o = scar(what, &["drift", "-vv", "-o", format, "-f", &m]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    }

    // The secrets change, and only they: the plan says so without
    // showing either value.
    std::fs::write(&m, manifest("-rotated")).unwrap();
    let o = scar("plan after rotation", &["plan", "-f", &m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    common::assert_lines(
        &common::stdout(&o),
        &[
            "(sensitive value changed)",
            "~ environment",
            "~ function_config",
        ],
    );
    scar(
        "plan json after rotation",
        &["plan", "-o", "json", "-f", &m],
    );
    scar(
        "plan markdown after rotation",
        &["plan", "-o", "markdown", "-f", &m],
    );
    scar(
        "plan --out after rotation",
        &["plan", "--out", &saved, "-f", &m],
    );
    // drift reports the rotation as pending, masked, in every format.
    for (what, format) in [
        ("drift after rotation", "text"),
        ("drift json after rotation", "json"),
        ("drift markdown after rotation", "markdown"),
    ] {
        let o = scar(what, &["drift", "-vv", "-o", format, "-f", &m]);
        assert_eq!(o.status.code(), Some(2), "{}", out(&o));
        assert!(out(&o).contains("(sensitive value changed)"), "{}", out(&o));
    }
    assert_clean("the saved plan", &std::fs::read_to_string(&saved).unwrap());

    // A saved plan whose secret changes after review is stale.
    std::fs::write(&m, manifest("-swapped")).unwrap();
    let o = scar("stale apply", &["apply", "-v", "--plan", &saved, "-f", &m]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("Saved plan is stale"), "{}", out(&o));
    std::fs::write(&m, manifest("-rotated")).unwrap();
    let o = scar(
        "apply the saved plan",
        &["apply", "-v", "--plan", &saved, "-f", &m],
    );
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = scar("destroy -v", &["destroy", "-v", "--auto-approve", "-f", &m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    assert!(cache.is_dir(), "the package cache was used");
    assert_files_clean(&cache);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_apply_print_the_manifests_warnings_and_honour_strict() {
    let env = Env::new();
    env.write("run.sh", "#!/bin/sh\ntrue\n");
    // `memroy` is a typo: validate warns, and so must plan and apply, or
    // the default memory is deployed without a word.
    let m = env
        .write(
            "typo.yaml",
            "workflow: typo\nfunctions:\n  aws:\n  - lambda:\n      name: scar-typo-f\n      memroy: 256\n      init_script: run.sh\n      input:\n      - storage_provider: s3\n        path: scar-typo-in/in\n",
        )
        .display()
        .to_string();

    let o = env.scar(&["plan", "-f", &m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("memroy"), "{}", out(&o));
    assert!(stderr.contains("did you mean `memory`"), "{}", out(&o));
    assert!(
        !common::stdout(&o).contains("unknown key"),
        "warnings stay off stdout: {}",
        out(&o)
    );

    let o = env.scar(&["plan", "-o", "json", "-f", &m]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    let warnings = doc["warnings"].as_array().expect("a warnings list");
    assert!(
        warnings.iter().any(
            |w| w["message"].as_str().unwrap_or_default().contains("memroy")
                && w["location"]
                    .as_str()
                    .unwrap_or_default()
                    .ends_with("typo.yaml:6:7")
        ),
        "{warnings:?}"
    );
    let o = env.scar(&["plan", "-o", "markdown", "-f", &m]);
    let md = common::stdout(&o);
    assert!(
        md.contains("Warnings about the manifests") && md.contains("memroy"),
        "{md}"
    );

    for cmd in [
        &["plan", "--strict"][..],
        &["apply", "--strict", "--auto-approve"],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["-f", &m]);
        let o = env.scar(&args);
        assert_eq!(o.status.code(), Some(1), "{cmd:?}: {}", out(&o));
        assert!(
            out(&o).contains("warnings count as errors with --strict"),
            "{}",
            out(&o)
        );
    }
    let conf = env.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&conf);
    assert!(
        lambda
            .get_function()
            .function_name("scar-typo-f")
            .send()
            .await
            .is_err(),
        "--strict changed nothing"
    );

    let o = env.scar(&["apply", "--auto-approve", "-f", &m]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("memroy"),
        "{}",
        out(&o)
    );
}
