//! `scar apply` and `scar destroy`: show the plan, ask (on a terminal), run
//! it, report every change's outcome. Progress goes to stderr: a progress
//! bar with each finished change printed above it when stderr is a
//! terminal, plain lines otherwise; the summary goes to stdout.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{connect, ExitStatus};
use crate::apply::{self, Event, Outcome};
use crate::cli::{ApplyArgs, DestroyArgs};
use crate::lock;
use crate::model::Addr;
use crate::model::DesiredState;
use crate::observe;
use crate::pipeline;
use crate::plan::{Action, Summary};
use crate::render;
use crate::settings::Settings;
use anyhow::Context as _;

pub async fn run(settings: &Settings, args: &ApplyArgs) -> anyhow::Result<ExitStatus> {
    let saved = match &args.plan {
        Some(file) => Some(read_saved(file)?),
        None => None,
    };
    // A saved plan names the manifests it was made from: `-f` is then not
    // needed.
    let named = saved.as_ref().and_then(|s| s.inputs.as_ref());
    let (paths, manifests, strict) = match named {
        Some(i) if args.manifests.files.is_empty() => (
            i.paths.iter().map(PathBuf::from).collect(),
            crate::cli::ManifestArgs {
                files: i.paths.iter().map(PathBuf::from).collect(),
                allow_files_in: i.allow_files_in.iter().map(PathBuf::from).collect(),
            },
            i.strict,
        ),
        _ => (
            super::manifest_paths(&args.manifests.files)?,
            args.manifests.clone(),
            args.strict,
        ),
    };
    // A targeted saved plan is planned again with its targets.
    let targets = match named {
        Some(i) if args.targets.is_empty() => i.targets.clone(),
        _ => args.targets.clone(),
    };
    let (m, warnings) = pipeline::load_manifest(&paths, &manifests, strict)?;
    let inputs = pipeline::inputs(&paths, &manifests, strict, &targets, &m);
    let layer_zip = pipeline::read_layer(args.layer.supervisor_layer.as_deref(), settings)?;
    let settings = &settings.with_supervisor(args.layer.supervisor.as_deref());
    let cloud = Arc::new(connect(settings).await?);
    let held = take_lock(&*cloud, &m, &args.lock, settings, "apply").await?;
    let result = super::until_interrupted(async {
        let mut planned =
            pipeline::plan_workflow(cloud.clone(), &m, Some(layer_zip), false, settings).await?;
        planned.plan.warnings.splice(0..0, warnings);
        pipeline::apply_targets(&mut planned.plan, &targets)?;
        planned.plan.inputs = Some(inputs);
        let mut approved = args.auto_approve;
        if let (Some(file), Some(saved)) = (&args.plan, &saved) {
            check_saved(file, saved, &planned)?;
            planned.plan.id = saved.salt.clone();
            // A reviewed saved plan counts as approval, as in terraform.
            approved = true;
        }
        execute(
            cloud.clone(),
            planned,
            approved,
            args.parallelism.into(),
            "Apply",
            settings,
        )
        .await
    })
    .await;
    give_back(&*cloud, &held).await;
    result
}

/// Reads a plan saved by `scar plan --out FILE`.
fn read_saved(file: &Path) -> anyhow::Result<render::json::PlanDoc> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read the saved plan `{}`: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "`{}` is not a scar plan: {e}\nhint: save one with `scar plan --out FILE`",
            file.display()
        )
    })
}

/// Refuses a saved plan that was applied already, or that no longer says
/// what apply would do (the manifests or the account changed since).
fn check_saved(
    file: &Path,
    saved: &render::json::PlanDoc,
    planned: &pipeline::Planned,
) -> anyhow::Result<()> {
    let id = saved.salt.as_deref().map(|s| {
        s.chars()
            .take(crate::model::applied::PLAN_ID_LEN)
            .collect::<String>()
    });
    if let Some(id) = id {
        let applied = planned.observed.resources.values().find(|o| {
            o.facts
                .get(crate::model::FACT_APPLIED_PLAN)
                .and_then(|v| v.as_str())
                == Some(id.as_str())
        });
        if let Some(o) = applied {
            anyhow::bail!(
                "Saved plan `{}` was applied already ({} carries its record): a saved plan applies once\nhint: make a new plan with `scar plan --out FILE` and review it",
                file.display(),
                o.addr
            );
        }
    }
    if let Some(why) = crate::plan::staleness(saved, &planned.plan) {
        anyhow::bail!(
            "Saved plan is stale: {why}; nothing was changed\nhint: run `scar plan --out FILE` again and review it",
        );
    }
    Ok(())
}

pub async fn destroy(settings: &Settings, args: &DestroyArgs) -> anyhow::Result<ExitStatus> {
    let paths = super::manifest_paths(&args.manifests.files)?;
    let (m, warnings) = pipeline::load_manifest(&paths, &args.manifests, args.strict)?;
    let cloud = Arc::new(connect(settings).await?);
    let held = take_lock(&*cloud, &m, &args.lock, settings, "destroy").await?;
    let result = super::until_interrupted(async {
        let mut planned = pipeline::plan_workflow(cloud.clone(), &m, None, true, settings).await?;
        planned.plan.warnings.splice(0..0, warnings);
        pipeline::apply_targets(&mut planned.plan, &args.targets)?;
        execute(
            cloud.clone(),
            planned,
            args.auto_approve,
            args.parallelism.into(),
            "Destroy",
            settings,
        )
        .await
    })
    .await;
    give_back(&*cloud, &held).await;
    result
}

/// `scar force-unlock ID`: removes the workflow's lock if it has that id.
pub async fn force_unlock(
    settings: &Settings,
    args: &crate::cli::ForceUnlockArgs,
) -> anyhow::Result<ExitStatus> {
    let paths = super::manifest_paths(&args.manifests.files)?;
    let (m, _) = pipeline::load_manifest(&paths, &args.manifests, false)?;
    let cloud = connect(settings).await?;
    let store = lock_store(&m, args.lock_bucket.as_deref());
    match lock::force_unlock(&cloud, &store, &m.workflow, &args.id).await {
        Ok(info) => {
            println!(
                "Removed the lock of workflow `{}` held by {}.",
                m.workflow,
                info.describe()
            );
            Ok(ExitStatus::Success)
        }
        Err(e) => Err(lock_error(e)),
    }
}

/// Where the workflow's lock is: `--lock-bucket`, else the manifest's
/// `lock:` block, else a lock file in the working folder.
fn lock_store(m: &crate::manifest::Manifest, bucket: Option<&str>) -> lock::Store {
    lock_store_of(&m.workflow, m.lock.as_ref(), bucket)
}

/// [`lock_store`] of a workflow by name.
fn lock_store_of(
    workflow: &str,
    configured: Option<&crate::manifest::types::LockConfig>,
    bucket: Option<&str>,
) -> lock::Store {
    let key = || crate::manifest::types::DEFAULT_LOCK_KEY.replace("{workflow}", workflow);
    match (bucket, configured) {
        (Some(b), Some(l)) => lock::Store::Bucket {
            bucket: b.to_string(),
            key: l.key.clone(),
        },
        (Some(b), None) => lock::Store::Bucket {
            bucket: b.to_string(),
            key: key(),
        },
        (None, Some(l)) => lock::Store::Bucket {
            bucket: l.bucket.clone(),
            key: l.key.clone(),
        },
        (None, None) => lock::Store::file_in(std::path::Path::new("."), workflow),
    }
}

/// A lock error as the command reports it, with its hint.
fn lock_error(e: lock::LockError) -> anyhow::Error {
    match e.hint() {
        Some(h) => anyhow::anyhow!("{e}\nhint: {h}"),
        None => anyhow::anyhow!("{e}"),
    }
}

/// Takes the workflow's lock before the account is read, waiting as
/// `--lock-timeout` says.
pub(super) async fn take_lock<C: crate::cloud::S3Api>(
    cloud: &C,
    m: &crate::manifest::Manifest,
    args: &crate::cli::LockArgs,
    settings: &Settings,
    command: &str,
) -> anyhow::Result<lock::Held> {
    let store = lock_store(m, args.lock_bucket.as_deref());
    lock_workflow(cloud, &m.workflow, &store, args, settings, command).await
}

/// Takes the lock of `workflow` at `store`.
async fn lock_workflow<C: crate::cloud::S3Api>(
    cloud: &C,
    workflow: &str,
    store: &lock::Store,
    args: &crate::cli::LockArgs,
    settings: &Settings,
    command: &str,
) -> anyhow::Result<lock::Held> {
    if settings.in_ci && matches!(store, lock::Store::File(_)) {
        eprintln!(
            "warning: no lock bucket: workflow `{workflow}` is locked with {} on this machine only, which does not stop a run on another CI runner\nhint: name a bucket with --lock-bucket or a `lock:` block in the manifest",
            store.describe()
        );
    }
    let info = lock::LockInfo::new(workflow, command, &settings.lock_owner);
    let on_wait = |holder: &lock::LockInfo| {
        eprintln!(
            "Waiting for the lock of workflow `{}`, held by {}...",
            holder.workflow,
            holder.describe()
        );
    };
    lock::acquire(cloud, store, info, args.lock_timeout, &on_wait)
        .await
        .map_err(lock_error)
}

/// `scar rename-workflow OLD NEW`: retags in place what workflow `OLD`
/// owns as `NEW`'s, under both workflows' locks.
pub async fn rename_workflow(
    settings: &Settings,
    args: &crate::cli::RenameWorkflowArgs,
) -> anyhow::Result<ExitStatus> {
    let (old, new) = (args.old.as_str(), args.new.as_str());
    let valid =
        regex::Regex::new(crate::manifest::types::WORKFLOW_PATTERN).expect("a valid pattern");
    for name in [old, new] {
        if !valid.is_match(name) {
            anyhow::bail!("`{name}` is not a workflow name\nhint: letters, digits, `-` and `_`, at most 40, starting with a letter or digit");
        }
    }
    if old == new {
        anyhow::bail!("the old and the new name are both `{old}`");
    }
    let cloud = Arc::new(connect(settings).await?);
    // Both locks, in name order, so two renames never wait on each other.
    let mut names = [old, new];
    names.sort();
    let mut held = Vec::new();
    for wf in names {
        let store = lock_store_of(wf, None, args.lock.lock_bucket.as_deref());
        match lock_workflow(&*cloud, wf, &store, &args.lock, settings, "rename-workflow").await {
            Ok(h) => held.push(h),
            Err(e) => {
                for h in &held {
                    give_back(&*cloud, h).await;
                }
                return Err(e);
            }
        }
    }
    let result = super::until_interrupted(async {
        let owned = |wf: &str| DesiredState {
            workflow: wf.to_string(),
            ..Default::default()
        };
        let theirs = observe::observe_with(cloud.clone(), &owned(new), None)
            .await
            .context("reading the account")?;
        if let Some(o) = theirs
            .resources
            .values()
            .find(|o| o.owner == crate::model::Owner::Workflow)
        {
            anyhow::bail!(
                "workflow `{new}` already has resources ({} among them): scar does not merge workflows\nhint: choose another name, or destroy workflow `{new}` first",
                o.addr
            );
        }
        let observed = observe::observe_with(cloud.clone(), &owned(old), None)
            .await
            .context("reading the account")?;
        let plan = crate::plan::rename(&observed, old, new);
        if plan.changes.is_empty() {
            anyhow::bail!("workflow `{old}` owns nothing in this account (no resource carries `scar:workflow={old}`)");
        }
        let planned = pipeline::Planned {
            desired: owned(old),
            observed,
            plan,
            artifacts: Arc::new(apply::Artifacts::default()),
        };
        let status = execute(cloud.clone(), planned, args.auto_approve, 10, "Rename", settings).await?;
        if status == ExitStatus::Success {
            println!(
                "Workflow `{old}` is now `{new}`. Name it `workflow: {new}` in the manifests, then run `scar plan`: the workflow's IAM role `scar-{old}` is replaced by `scar-{new}` (IAM roles cannot be renamed)."
            );
        }
        Ok(status)
    })
    .await;
    for h in &held {
        give_back(&*cloud, h).await;
    }
    result
}

/// Releases the lock; a failure leaves it for `force-unlock`, and says so.
pub(super) async fn give_back<C: crate::cloud::S3Api>(cloud: &C, held: &lock::Held) {
    if let Err(e) = lock::release(cloud, held).await {
        eprintln!(
            "warning: the lock at {} could not be released: {e}\nhint: remove it with `scar force-unlock {}`",
            held.store.describe(),
            held.info.id
        );
    }
}

pub(super) async fn execute<C: crate::cloud::Cloud>(
    cloud: Arc<C>,
    planned: pipeline::Planned,
    auto_approve: bool,
    parallelism: usize,
    what: &str,
    settings: &Settings,
) -> anyhow::Result<ExitStatus> {
    let plan = &planned.plan;
    print!("{}", render::text::render(plan));
    if plan.is_blocked() {
        anyhow::bail!("some changes are blocked (see `is blocked` above): nothing was changed");
    }
    if !plan.has_changes() {
        return Ok(ExitStatus::Success);
    }
    if !auto_approve && !confirm()? {
        eprintln!("{what} cancelled.");
        return Ok(ExitStatus::Failure);
    }
    let total = plan.changes.iter().filter(|c| c.action.is_change()).count();
    let progress = Arc::new(Progress::new(total as u64, settings));
    let on_event: Arc<dyn Fn(Event) + Send + Sync> = {
        let progress = progress.clone();
        Arc::new(move |e| progress.event(e))
    };
    let cloud_again = cloud.clone();
    let results = apply::apply(
        cloud,
        plan,
        planned.artifacts.clone(),
        parallelism,
        on_event,
    )
    .await;
    let failures = |o: &&(Addr, Action, Outcome)| matches!(o.2, Outcome::Failed(_));
    let skips = |o: &&(Addr, Action, Outcome)| matches!(o.2, Outcome::Skipped(_));
    progress.finish(
        results.iter().filter(failures).count(),
        results.iter().filter(skips).count(),
    );
    let (failures, summary, status) = report(what, &results);
    for line in failures {
        eprintln!("{line}");
    }
    println!("{summary}");
    if status == ExitStatus::Success {
        print!("{}", applied_outputs(cloud_again, &planned).await);
    }
    Ok(status)
}

/// The `Outputs:` section after a successful apply: the plan's outputs,
/// where one was known only after apply read again from the account (one
/// more observation, made only then).
async fn applied_outputs<C: crate::cloud::Cloud>(
    cloud: Arc<C>,
    planned: &pipeline::Planned,
) -> String {
    let mut outputs = planned.plan.outputs.clone();
    if outputs.iter().any(|o| o.after_unknown) {
        match observe::observe(cloud, &planned.desired).await {
            Ok(observed) => outputs = crate::plan::plan(&planned.desired, &observed).outputs,
            Err(e) => eprintln!(
                "warning: the outputs could not be read back: {}\nhint: `scar plan` shows them",
                e.chain_text()
            ),
        }
    }
    let mut out = String::new();
    render::text::render_outputs(&mut out, &outputs);
    out
}

/// What an apply or destroy reports at its end: the failed and skipped
/// changes (for stderr), the summary line (for stdout) and the exit
/// status. Any failure, a panicked step included, is `Failure`.
fn report(what: &str, results: &[(Addr, Action, Outcome)]) -> (Vec<String>, String, ExitStatus) {
    let (mut done, mut failed, mut skipped) = (Summary::default(), 0, 0);
    let mut lines = Vec::new();
    for (addr, action, outcome) in results {
        match outcome {
            Outcome::Done => done.count(*action),
            Outcome::Failed(why) => {
                failed += 1;
                lines.push(format!("error: {addr}: {why}"));
            }
            Outcome::Skipped(why) => {
                skipped += 1;
                lines.push(format!("skipped: {addr} ({why})"));
            }
        }
    }
    if failed > 0 {
        let summary = format!(
            "{what} failed: {failed} failed, {skipped} skipped; {} added, {} changed, {} destroyed.\nRun it again to converge once the cause is fixed.",
            done.add, done.change, done.destroy
        );
        return (lines, summary, ExitStatus::Failure);
    }
    let summary = format!(
        "{what} complete! Resources: {} added, {} changed, {} destroyed.",
        done.add, done.change, done.destroy
    );
    (lines, summary, ExitStatus::Success)
}

/// Shows the executor's events on stderr: a progress bar (finished /
/// total, what runs now, elapsed time) with each finished change printed
/// above it, terraform-style, when stderr is a terminal; otherwise plain
/// lines without escape codes, one when a change starts and one when it
/// ends (`<address>: creating...`, `<address>: creating (0.4s) done`).
struct Progress {
    /// `None`: plain lines.
    bar: Option<ProgressBar>,
    color: bool,
    /// What runs now, in the order it started.
    running: Mutex<Vec<(Addr, Action)>>,
}

impl Progress {
    /// A bar when the settings say stderr can draw one
    /// ([`Settings::progress_bar`]), coloured unless `NO_COLOR`.
    fn new(total: u64, settings: &Settings) -> Progress {
        let color = settings.progress_color;
        let bar = settings.progress_bar.then(|| {
            let template = if color {
                "{spinner:.cyan} [{elapsed_precise}] [{bar:30.cyan/blue}] {pos}/{len} {wide_msg}"
            } else {
                "{spinner} [{elapsed_precise}] [{bar:30}] {pos}/{len} {wide_msg}"
            };
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(100));
            crate::terminal::show_bar(&bar);
            bar
        });
        Progress {
            bar,
            color,
            running: Mutex::new(Vec::new()),
        }
    }

    fn event(&self, e: Event) {
        let Some(bar) = &self.bar else {
            eprintln!("{}", plain_line(&e));
            return;
        };
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        match e {
            Event::Started(addr, action) => running.push((addr, action)),
            Event::Finished(addr, action, outcome, took) => {
                running.retain(|(a, _)| *a != addr);
                bar.println(self.finished_line(&addr, action, &outcome, took));
                bar.inc(1);
            }
        }
        bar.set_message(match running.as_slice() {
            [] => String::new(),
            [(addr, action)] => format!("{} {addr}", verb(*action)),
            [(addr, action), rest @ ..] => {
                format!("{} {addr} and {} more", verb(*action), rest.len())
            }
        });
    }

    /// A finished change, as terraform words it.
    fn finished_line(
        &self,
        addr: &Addr,
        action: Action,
        outcome: &Outcome,
        took: Duration,
    ) -> String {
        let paint = |code: &str, text: String| {
            if self.color {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text
            }
        };
        let addr = paint("1", format!("{addr}:"));
        let took = elapsed(took);
        match outcome {
            Outcome::Done => format!("{addr} {} complete after {took}", noun(action)),
            Outcome::Failed(why) => format!(
                "{addr} {}: {why}",
                paint("1;31", format!("{} FAILED after {took}", noun(action)))
            ),
            Outcome::Skipped(why) => format!("{addr} {}", paint("33", format!("Skipped ({why})"))),
        }
    }

    /// Leaves the bar in its final state, with how it ended.
    fn finish(&self, failed: usize, skipped: usize) {
        if let Some(bar) = &self.bar {
            bar.finish_with_message(if failed + skipped == 0 {
                "done".to_string()
            } else {
                format!("{failed} failed, {skipped} skipped")
            });
            crate::terminal::hide_bar();
        }
    }
}

/// An event as one plain line (no terminal).
fn plain_line(e: &Event) -> String {
    match e {
        Event::Started(addr, action) => format!("{addr}: {}...", verb(*action)),
        Event::Finished(addr, action, Outcome::Done, took) => {
            format!("{addr}: {} ({}) done", verb(*action), elapsed(*took))
        }
        Event::Finished(addr, action, Outcome::Failed(why), took) => format!(
            "{addr}: {} FAILED after {}: {why}",
            verb(*action),
            elapsed(*took)
        ),
        Event::Finished(addr, _, Outcome::Skipped(why), _) => format!("{addr}: skipped ({why})"),
    }
}

/// `0.4s`, `12s`, `2m05s`.
fn elapsed(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.1}s")
    } else if s < 60.0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

fn verb(a: Action) -> &'static str {
    match a {
        Action::Create => "creating",
        Action::Update => "updating",
        Action::Replace => "replacing",
        Action::Delete => "destroying",
        _ => "checking",
    }
}

/// The noun terraform puts before "complete".
fn noun(a: Action) -> &'static str {
    match a {
        Action::Create => "Creation",
        Action::Update => "Modifications",
        Action::Replace => "Replacement",
        Action::Delete => "Destruction",
        _ => "Check",
    }
}

/// Asks on the terminal; refuses without one.
fn confirm() -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("refusing to change the account without confirmation\nhint: pass --auto-approve (pipelines), or run in a terminal to be asked");
    }
    eprint!("\nDo you want to perform these actions? Only 'yes' will be accepted: ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    #[test]
    fn plain_lines_say_what_ran_how_it_ended_and_how_long() {
        let a = Addr::new(Kind::LambdaFunction, "scar-x");
        let ms = Duration::from_millis;
        assert_eq!(
            plain_line(&Event::Started(a.clone(), Action::Create)),
            "lambda_function.scar-x: creating..."
        );
        assert_eq!(
            plain_line(&Event::Finished(
                a.clone(),
                Action::Create,
                Outcome::Done,
                ms(420)
            )),
            "lambda_function.scar-x: creating (0.4s) done"
        );
        assert_eq!(
            plain_line(&Event::Finished(
                a.clone(),
                Action::Delete,
                Outcome::Failed("DeleteFunction scar-x failed: boom".into()),
                ms(12_300)
            )),
            "lambda_function.scar-x: destroying FAILED after 12s: DeleteFunction scar-x failed: boom"
        );
        assert_eq!(
            plain_line(&Event::Finished(
                a,
                Action::Create,
                Outcome::Skipped("iam_role.scar-w did not succeed".into()),
                Duration::ZERO
            )),
            "lambda_function.scar-x: skipped (iam_role.scar-w did not succeed)"
        );
    }

    #[test]
    fn any_failed_change_fails_the_run_and_says_no_complete() {
        let a = Addr::new(Kind::LambdaFunction, "scar-x");
        let b = Addr::new(Kind::LambdaPermission, "scar-x/scar-s3-b");
        let results = vec![
            (
                a,
                Action::Create,
                Outcome::Failed("the step panicked (a bug in scar; please report it): boom".into()),
            ),
            (
                b,
                Action::Create,
                Outcome::Skipped("lambda_function.scar-x did not succeed".into()),
            ),
        ];
        let (lines, summary, status) = report("Apply", &results);
        assert_eq!(status, ExitStatus::Failure);
        assert!(!summary.contains("complete"), "{summary}");
        assert!(
            summary.starts_with("Apply failed: 1 failed, 1 skipped"),
            "{summary}"
        );
        assert_eq!(
            lines,
            [
                "error: lambda_function.scar-x: the step panicked (a bug in scar; please report it): boom",
                "skipped: lambda_permission.scar-x/scar-s3-b (lambda_function.scar-x did not succeed)",
            ]
        );
        let (_, summary, status) = report("Apply", &[]);
        assert_eq!(status, ExitStatus::Success);
        assert_eq!(
            summary,
            "Apply complete! Resources: 0 added, 0 changed, 0 destroyed."
        );
    }

    #[test]
    fn finished_lines_are_terraform_worded_and_plain_without_color() {
        let p = Progress {
            bar: None,
            color: false,
            running: Mutex::new(Vec::new()),
        };
        let a = Addr::new(Kind::LogGroup, "/aws/lambda/scar-x");
        assert_eq!(
            p.finished_line(&a, Action::Update, &Outcome::Done, Duration::from_secs(2)),
            "log_group./aws/lambda/scar-x: Modifications complete after 2.0s"
        );
        let failed = p.finished_line(
            &a,
            Action::Create,
            &Outcome::Failed("why".into()),
            Duration::from_secs(75),
        );
        assert_eq!(
            failed,
            "log_group./aws/lambda/scar-x: Creation FAILED after 1m15s: why"
        );
        let colored = Progress { color: true, ..p };
        let line = colored.finished_line(
            &a,
            Action::Create,
            &Outcome::Failed("why".into()),
            Duration::ZERO,
        );
        assert!(
            line.contains("\x1b[1;31mCreation FAILED after 0.0s\x1b[0m"),
            "{line:?}"
        );
    }
}
