//! The executor: carries out a plan, deciding nothing itself. Creates and
//! updates walk the dependency graph with bounded concurrency (a `JoinSet`
//! under a `Semaphore`); deletes then walk it reversed, as the plan's
//! `depends_on` of each delete says. Dependents
//! of a failed change are skipped, independent branches go on. Every step
//! is idempotent; throttling, service failures and conflicts are retried
//! with backoff, and Lambda is waited on until it is ready. Errors are told
//! apart by their [`ErrorKind`] alone, never by their text.

mod ops;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::cloud::{Cloud, CloudError};
use crate::model::Addr;
use crate::plan::{Action, Change, Plan};

pub use crate::cloud::retry::{retry, retry_throttled};
pub use crate::resources::Artifacts;

/// How one change ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed(String),
    /// Not attempted because a change it depends on failed.
    Skipped(String),
}

/// A progress event, for the terminal. Every change that is attempted
/// gets a `Started` and then a `Finished`; a skipped change gets only a
/// `Finished` (with no time spent).
#[derive(Clone, Debug)]
pub enum Event {
    Started(Addr, Action),
    /// How it ended, and how long it ran (from its start, not its queueing).
    Finished(Addr, Action, Outcome, Duration),
}

/// What every step shares.
struct Steps<C> {
    cloud: Arc<C>,
    artifacts: Arc<Artifacts>,
    outputs: Arc<Outputs>,
    limit: Arc<Semaphore>,
    on_event: Arc<dyn Fn(Event) + Send + Sync>,
    workflow: String,
    /// The saved plan's id, recorded on what it changes.
    plan_id: Option<String>,
    /// What each running task carries out, so that a task that panics or
    /// is cancelled is reported against its change.
    running: Mutex<BTreeMap<tokio::task::Id, (Addr, Action, Instant)>>,
}

type Outputs = Mutex<BTreeMap<String, BTreeMap<String, String>>>;

/// How a step ended: its change, the cloud's answer, how long it ran.
type StepEnd = (Addr, Action, Result<(), CloudError>, Duration);

impl<C: Cloud + Send + Sync + 'static> Steps<C> {
    /// Starts one change once a permit is free; `Started` when it runs.
    fn spawn(&self, set: &mut JoinSet<StepEnd>, change: Change) {
        let cloud = self.cloud.clone();
        let artifacts = self.artifacts.clone();
        let outputs = self.outputs.clone();
        let limit = self.limit.clone();
        let on_event = self.on_event.clone();
        let workflow = self.workflow.clone();
        let plan_id = self.plan_id.clone();
        let (addr, action) = (change.address.clone(), change.action);
        let handle = set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            on_event(Event::Started(change.address.clone(), change.action));
            let started = Instant::now();
            let ctx = ops::Ctx {
                artifacts: &artifacts,
                outputs: &outputs,
                workflow: &workflow,
                plan_id: plan_id.as_deref(),
            };
            let r = ops::run(&*cloud, &change, &ctx).await;
            (change.address, change.action, r, started.elapsed())
        });
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(handle.id(), (addr, action, Instant::now()));
    }

    /// Carries out `todo` in dependency order: a change starts once every
    /// change it depends on (in `todo`, or already in `results`) is done,
    /// and is skipped when one of them failed or was skipped.
    async fn walk(&self, todo: &BTreeMap<Addr, &Change>, results: &mut BTreeMap<Addr, Outcome>) {
        let on_event = self.on_event.clone();
        let mut pending: BTreeSet<Addr> = todo.keys().cloned().collect();
        let mut running = JoinSet::new();
        loop {
            // Skip what depends on a failure; start what is ready.
            let mut progressed = true;
            while progressed {
                progressed = false;
                for addr in pending.clone() {
                    let c = todo[&addr];
                    let deps: Vec<&Addr> = c
                        .depends_on
                        .iter()
                        .filter(|d| todo.contains_key(*d) || results.contains_key(*d))
                        .collect();
                    if let Some(bad) = deps.iter().find(|d| {
                        matches!(
                            results.get(**d),
                            Some(Outcome::Failed(_) | Outcome::Skipped(_))
                        )
                    }) {
                        let o = Outcome::Skipped(format!("{bad} did not succeed"));
                        on_event(Event::Finished(
                            addr.clone(),
                            c.action,
                            o.clone(),
                            Duration::ZERO,
                        ));
                        results.insert(addr.clone(), o);
                        pending.remove(&addr);
                        progressed = true;
                    } else if deps.iter().all(|d| results.get(*d) == Some(&Outcome::Done)) {
                        pending.remove(&addr);
                        self.spawn(&mut running, c.clone());
                        progressed = true;
                    }
                }
            }
            let Some(joined) = running.join_next_with_id().await else {
                break;
            };
            let Some((addr, action, outcome, took)) = self.ended(joined) else {
                continue;
            };
            on_event(Event::Finished(addr.clone(), action, outcome.clone(), took));
            results.insert(addr, outcome);
        }
        for addr in pending {
            let o = Outcome::Skipped("a dependency did not finish".into());
            on_event(Event::Finished(
                addr.clone(),
                todo[&addr].action,
                o.clone(),
                Duration::ZERO,
            ));
            results.insert(addr, o);
        }
    }

    /// A finished step as an outcome. A step that panicked or was
    /// cancelled failed: it is reported against its change, with why.
    fn ended(
        &self,
        joined: Result<(tokio::task::Id, StepEnd), tokio::task::JoinError>,
    ) -> Option<(Addr, Action, Outcome, Duration)> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        match joined {
            Ok((id, (addr, action, r, took))) => {
                running.remove(&id);
                let outcome = match r {
                    Ok(()) => Outcome::Done,
                    Err(e) => Outcome::Failed(e.chain_text()),
                };
                Some((addr, action, outcome, took))
            }
            Err(e) => {
                let (addr, action, queued) = running.remove(&e.id())?;
                let why = if e.is_panic() {
                    let payload = e.into_panic();
                    let text = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "no message".into());
                    format!("the step panicked (a bug in scar; please report it): {text}")
                } else {
                    "the step was cancelled".to_string()
                };
                tracing::error!("{addr}: {why}");
                Some((addr, action, Outcome::Failed(why), queued.elapsed()))
            }
        }
    }
}

/// Runs a plan; returns every change's outcome, in plan order.
pub async fn apply<C: Cloud>(
    cloud: Arc<C>,
    plan: &Plan,
    artifacts: Arc<Artifacts>,
    parallelism: usize,
    on_event: Arc<dyn Fn(Event) + Send + Sync>,
) -> Vec<(Addr, Action, Outcome)> {
    let steps = Steps {
        cloud,
        artifacts,
        outputs: Arc::new(Mutex::new(
            plan.changes
                .iter()
                .map(|c| (c.address.to_string(), c.outputs.clone()))
                .collect(),
        )),
        limit: Arc::new(Semaphore::new(parallelism.max(1))),
        on_event: on_event.clone(),
        workflow: plan.workflow.clone(),
        plan_id: plan.id.clone(),
        running: Mutex::new(BTreeMap::new()),
    };
    let mut results: BTreeMap<Addr, Outcome> = BTreeMap::new();

    // Phase 1: creates, updates and replacements, in dependency order.
    let todo: BTreeMap<Addr, &Change> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Create | Action::Update | Action::Replace))
        .map(|c| (c.address.clone(), c))
        .collect();
    steps.walk(&todo, &mut results).await;

    // Phase 2: deletes, in the order their `depends_on` gives (the
    // dependency graph reversed): what must outlive a failed delete is
    // skipped, independent branches go on.
    let deletes: BTreeMap<Addr, &Change> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| (c.address.clone(), c))
        .collect();
    steps.walk(&deletes, &mut results).await;

    plan.changes
        .iter()
        .filter_map(|c| {
            results
                .get(&c.address)
                .map(|o| (c.address.clone(), c.action, o.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::memory::MemoryCloud;
    use crate::cloud::{CloudResult, IamApi, LambdaApi, S3Api, Tags};
    use crate::cloud::{CodeArtifact, ErrorKind};
    use crate::manifest::load_texts;
    use crate::pipeline::{plan_workflow_in, Planned};

    const MANIFEST: &str = "workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: fn-a\n      input:\n      - storage_provider: s3\n        path: in-bucket/a\n      output:\n      - storage_provider: s3\n        path: out-bucket/a\n";
    const LAYER: &[u8] = b"stand-in layer zip";

    async fn plan(cloud: &Arc<MemoryCloud>) -> Planned {
        let loaded = load_texts(&[("m.yaml", MANIFEST)]);
        let m = loaded.manifest.expect("a valid manifest");
        plan_workflow_in(cloud.clone(), &m, Some(LAYER.to_vec()), false, None)
            .await
            .expect("a plan")
    }

    async fn run(cloud: &Arc<MemoryCloud>, p: &Planned) -> BTreeMap<String, Outcome> {
        let quiet: Arc<dyn Fn(Event) + Send + Sync> = Arc::new(|_| {});
        apply(cloud.clone(), &p.plan, p.artifacts.clone(), 4, quiet)
            .await
            .into_iter()
            .map(|(a, _, o)| (a.to_string(), o))
            .collect()
    }

    #[tokio::test]
    async fn two_applies_planned_at_once_share_one_layer_version() {
        // Both plans were made before either published the supervisor
        // layer, so both publish it: the oldest version is kept and used.
        let cloud = Arc::new(MemoryCloud::new());
        let other = MANIFEST
            .replace("workflow: wf", "workflow: wf2")
            .replace("fn-a", "fn-b");
        let m2 = load_texts(&[("m2.yaml", other.as_str())]).manifest.unwrap();
        let p1 = plan(&cloud).await;
        let p2 = plan_workflow_in(cloud.clone(), &m2, Some(LAYER.to_vec()), false, None)
            .await
            .unwrap();
        for p in [&p1, &p2] {
            let results = run(&cloud, p).await;
            assert!(results.values().all(|o| *o == Outcome::Done), "{results:?}");
        }
        let versions = cloud.list_layer_versions("scar-supervisor").await.unwrap();
        assert_eq!(versions.len(), 1, "{versions:?}");
        for f in ["fn-a", "fn-b"] {
            let f = cloud.get_function(f).await.unwrap().unwrap();
            assert_eq!(f.layers, [versions[0].arn.clone()]);
        }
        assert!(!plan(&cloud).await.plan.has_changes());
    }

    #[tokio::test]
    async fn a_step_that_panics_fails_and_its_dependents_are_skipped() {
        let cloud = Arc::new(MemoryCloud::new());
        let p = plan(&cloud).await;
        cloud.panic_next("CreateFunction", "fn-a");
        let results = run(&cloud, &p).await;
        match &results["lambda_function.fn-a"] {
            Outcome::Failed(why) => assert!(
                why.contains("panicked") && why.contains("injected panic in CreateFunction fn-a"),
                "{why}"
            ),
            other => panic!("a panicked step must fail: {other:?}"),
        }
        for dependent in [
            "lambda_permission.fn-a/scar-s3-in-bucket",
            "s3_notifications.in-bucket",
        ] {
            assert!(
                matches!(results[dependent], Outcome::Skipped(_)),
                "{dependent}: {results:?}"
            );
        }
        // Independent branches went on.
        assert_eq!(results["log_group./aws/lambda/fn-a"], Outcome::Done);
        assert_eq!(
            results.len(),
            p.plan.changes.len(),
            "every change is reported"
        );
        // And a re-run converges.
        let again = plan(&cloud).await;
        run(&cloud, &again).await;
        assert!(!plan(&cloud).await.plan.has_changes());
    }

    #[tokio::test]
    async fn a_failed_delete_skips_what_must_outlive_it_and_not_its_neighbours() {
        // Two functions share the role and the input bucket; destroying the
        // workflow while DeleteFunction fails for one of them.
        let cloud = Arc::new(MemoryCloud::new());
        let two = MANIFEST.replace(
            "      output:\n",
            "      output:\n      - storage_provider: s3\n        path: out-bucket/b\n",
        ) + "  - lambda:\n      name: fn-b\n      input:\n      - storage_provider: s3\n        path: in-bucket/b\n";
        let m = load_texts(&[("m.yaml", two.as_str())]).manifest.unwrap();
        let p = plan_workflow_in(cloud.clone(), &m, Some(LAYER.to_vec()), false, None)
            .await
            .unwrap();
        let created = run(&cloud, &p).await;
        assert!(created.values().all(|o| *o == Outcome::Done), "{created:?}");
        cloud.fail_next_for("DeleteFunction", "fn-a", ErrorKind::Invalid, 1);
        let d = plan_workflow_in(cloud.clone(), &m, None, true, None)
            .await
            .unwrap();
        let results = run(&cloud, &d).await;
        let outcome = |a: &str| results.get(a).unwrap_or_else(|| panic!("{a}: {results:?}"));
        assert!(
            matches!(outcome("lambda_function.fn-a"), Outcome::Failed(_)),
            "{results:?}"
        );
        // The role fn-a still uses, and the layer version it runs on, stay.
        for kept in ["iam_role.scar-wf", "lambda_layer.scar-supervisor:1"] {
            assert!(
                matches!(outcome(kept), Outcome::Skipped(_)),
                "{kept}: {results:?}"
            );
        }
        // Its neighbours went: the other function, the log groups, the
        // triggers (deleted before the buckets), the buckets. (Permissions
        // go with their functions.)
        for gone in [
            "lambda_function.fn-b",
            "log_group./aws/lambda/fn-a",
            "log_group./aws/lambda/fn-b",
            "s3_notifications.in-bucket",
            "s3_bucket.in-bucket",
            "s3_bucket.out-bucket",
        ] {
            assert_eq!(outcome(gone), &Outcome::Done, "{gone}: {results:?}");
        }
        assert!(cloud.get_function("fn-a").await.unwrap().is_some());
        assert!(cloud.get_role("scar-wf").await.unwrap().is_some());
        // A second destroy finishes the job.
        let again = plan_workflow_in(cloud.clone(), &m, None, true, None)
            .await
            .unwrap();
        let results = run(&cloud, &again).await;
        assert!(results.values().all(|o| *o == Outcome::Done), "{results:?}");
        assert!(cloud.get_role("scar-wf").await.unwrap().is_none());
        assert!(cloud
            .list_layer_versions("scar-supervisor")
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn creates_write_without_reading_first() {
        let cloud = Arc::new(MemoryCloud::new());
        let p = plan(&cloud).await;
        cloud.requests().reset();
        let results = run(&cloud, &p).await;
        assert!(results.values().all(|o| *o == Outcome::Done), "{results:?}");
        let counts = cloud.requests().snapshot();
        for read in ["GetFunction", "GetRole", "GetPolicy", "GetBucketTagging"] {
            assert_eq!(counts.get(read), None, "{read} before a create: {counts:?}");
        }
        assert_eq!(counts.get("CreateFunction"), Some(&1), "{counts:?}");
        assert_eq!(counts.get("AddPermission"), Some(&1), "{counts:?}");
    }

    #[tokio::test]
    async fn a_create_that_finds_its_own_resource_there_converges() {
        // An earlier run created everything and died before it could say so:
        // the same plan (every change a create) applied again.
        let cloud = Arc::new(MemoryCloud::new());
        let p = plan(&cloud).await;
        assert!(p.plan.changes.iter().all(|c| c.action == Action::Create));
        let first = run(&cloud, &p).await;
        assert!(first.values().all(|o| *o == Outcome::Done), "{first:?}");
        let again = run(&cloud, &p).await;
        assert!(again.values().all(|o| *o == Outcome::Done), "{again:?}");
        let after = plan(&cloud).await;
        assert!(!after.plan.has_changes(), "{:#?}", after.plan.changes);
        assert_eq!(cloud.get_policy("fn-a").await.unwrap().len(), 1);
    }

    /// Plans from nothing, makes the first call of each of `ops` fail with
    /// `kind`, applies: every change must still succeed and converge.
    async fn creates_survive_one_failure_of_each(
        kind: ErrorKind,
        ops: &[&'static str],
    ) -> Arc<MemoryCloud> {
        let cloud = Arc::new(MemoryCloud::new());
        let p = plan(&cloud).await;
        for op in ops {
            cloud.fail_next(op, kind, 1);
        }
        let results = run(&cloud, &p).await;
        assert!(results.values().all(|o| *o == Outcome::Done), "{results:?}");
        let after = plan(&cloud).await;
        assert!(!after.plan.has_changes(), "{:#?}", after.plan.changes);
        cloud
    }

    #[tokio::test]
    async fn a_passing_conflict_on_a_create_is_retried() {
        // A conflict, yet nothing of that name is there: it was a
        // concurrent change, not "already exists".
        let ops = [
            "CreateFunction",
            "CreateRole",
            "CreateBucket",
            "AddPermission",
        ];
        creates_survive_one_failure_of_each(ErrorKind::Conflict, &ops).await;
    }

    #[tokio::test]
    async fn an_already_exists_with_nothing_there_is_retried() {
        // "Already exists", yet a read finds nothing (it was being deleted
        // at that moment): the create is made again.
        let ops = [
            "CreateFunction",
            "CreateRole",
            "CreateBucket",
            "CreateLogGroup",
            "AddPermission",
        ];
        let cloud = creates_survive_one_failure_of_each(ErrorKind::AlreadyExists, &ops).await;
        assert_eq!(cloud.get_policy("fn-a").await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn throttling_and_service_failures_on_creates_are_retried() {
        let cloud = Arc::new(MemoryCloud::new());
        let p = plan(&cloud).await;
        cloud.fail_next("CreateFunction", ErrorKind::Transient, 2);
        cloud.fail_next("CreateRole", ErrorKind::Throttled, 2);
        cloud.fail_next("CreateLogGroup", ErrorKind::Throttled, 1);
        let results = run(&cloud, &p).await;
        assert!(results.values().all(|o| *o == Outcome::Done), "{results:?}");
        assert_eq!(cloud.requests().count("CreateFunction"), 3);
        assert!(!plan(&cloud).await.plan.has_changes());
    }

    #[tokio::test]
    async fn a_bucket_name_taken_by_another_account_fails_at_once() {
        let cloud = Arc::new(MemoryCloud::new());
        let p = plan(&cloud).await;
        cloud.take_bucket_name_elsewhere("in-bucket");
        cloud.requests().reset();
        let results = run(&cloud, &p).await;
        match &results["s3_bucket.in-bucket"] {
            Outcome::Failed(why) => assert!(
                why.contains("`in-bucket`")
                    && why.contains("another AWS account")
                    && why.contains("choose another bucket name"),
                "{why}"
            ),
            other => panic!("a taken name must fail: {other:?}"),
        }
        // Neither retried nor read: nothing of it is ours to wait for.
        assert_eq!(cloud.requests().count("CreateBucket"), 2, "in and out");
        assert_eq!(cloud.requests().count("GetBucketTagging"), 0);
        assert_eq!(results["s3_bucket.out-bucket"], Outcome::Done);
        assert!(matches!(
            results["s3_notifications.in-bucket"],
            Outcome::Skipped(_)
        ));
    }

    #[tokio::test]
    async fn a_role_not_yet_assumable_is_waited_on() {
        // IAM is eventually consistent: a role created moments ago may not
        // be assumable by Lambda yet.
        let cloud = Arc::new(MemoryCloud::new());
        let p = plan(&cloud).await;
        cloud.fail_next("CreateFunction", ErrorKind::NotReady, 2);
        let results = run(&cloud, &p).await;
        assert_eq!(
            results["lambda_function.fn-a"],
            Outcome::Done,
            "{results:?}"
        );
        assert_eq!(cloud.requests().count("CreateFunction"), 3);
    }

    #[tokio::test]
    async fn a_bucket_that_is_not_empty_is_not_retried_on_delete() {
        let cloud = MemoryCloud::new();
        cloud
            .create_bucket("scar-full", &Tags::new())
            .await
            .unwrap();
        cloud.put_object("scar-full", "k", b"x").await.unwrap();
        cloud.requests().reset();
        let e = retry(|| cloud.delete_bucket("scar-full"))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InUse);
        assert_eq!(cloud.requests().count("DeleteBucket"), 1);
    }

    #[tokio::test]
    async fn a_create_that_finds_someone_elses_resource_leaves_it_alone() {
        let cloud = Arc::new(MemoryCloud::new());
        let p = plan(&cloud).await;
        // Between the plan and the apply, someone creates a function of
        // that name, without scar's tags.
        cloud.create_function_by_hand("fn-a").await;
        let results = run(&cloud, &p).await;
        match &results["lambda_function.fn-a"] {
            Outcome::Failed(why) => assert!(why.contains("not created by scar"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(
                results["lambda_permission.fn-a/scar-s3-in-bucket"],
                Outcome::Skipped(_)
            ),
            "{results:?}"
        );
        let f = cloud.get_function("fn-a").await.unwrap().unwrap();
        assert_eq!((f.memory, f.timeout), (128, 3));
        assert_eq!(f.tags, Some(Tags::new()));
    }

    #[tokio::test]
    async fn a_timeout_is_never_retried_by_the_executor() {
        // The SDK already retried within the bound; scar's own retries
        // (throttling, conflicts) must not multiply it.
        let calls = std::sync::atomic::AtomicU32::new(0);
        let timeout = || {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            async {
                Err::<(), _>(CloudError::with_kind(
                    "GetFunction f",
                    ErrorKind::Timeout,
                    "x",
                ))
            }
        };
        let r: CloudResult<()> = retry(timeout).await;
        assert_eq!(r.unwrap_err().kind, ErrorKind::Timeout);
        let r: CloudResult<()> = retry_throttled(timeout).await;
        assert_eq!(r.unwrap_err().kind, ErrorKind::Timeout);
        assert_eq!(calls.into_inner(), 2, "one call each, no retry");
        assert!(!CloudError::with_kind("op", ErrorKind::Timeout, "x").is_retryable());
    }

    /// `fn-a` of a plan's desired state made an image function (as the
    /// next issue's desire will write it), with that image as its code.
    fn as_image(p: &mut Planned, uri: &str) -> Arc<Artifacts> {
        use crate::cloud::Code;
        use crate::model::{Addr, Kind};
        let addr = Addr::new(Kind::LambdaFunction, "fn-a");
        let mut r = p.desired.resources.remove(&addr).unwrap();
        let code = Code::Image {
            uri: uri.to_string(),
            digest: uri.rsplit_once('@').unwrap().1.to_string(),
        };
        let supervisor = Addr::new(Kind::LambdaLayer, "scar-supervisor");
        crate::resources::set_code(&mut r, &code, &[], &supervisor);
        p.desired.resources.insert(addr, r);
        let mut artifacts = (*p.artifacts).clone();
        artifacts.code.insert(
            "fn-a".into(),
            CodeArtifact::Image {
                uri: uri.to_string(),
            },
        );
        Arc::new(artifacts)
    }

    /// Observes and plans `p.desired` again.
    async fn replan(cloud: &Arc<MemoryCloud>, p: &mut Planned) {
        p.observed = crate::observe::observe(cloud.clone(), &p.desired)
            .await
            .unwrap();
        p.plan = crate::plan::plan(&p.desired, &p.observed);
    }

    #[tokio::test]
    async fn an_image_function_is_created_converges_and_moves_to_another_image() {
        let cloud = Arc::new(MemoryCloud::new());
        let v1 = format!(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/wf@sha256:{}",
            "a".repeat(64)
        );
        let v2 = v1.replace('a', "b");
        let mut p = plan(&cloud).await;
        p.artifacts = as_image(&mut p, &v1);
        replan(&cloud, &mut p).await;
        let results = run(&cloud, &p).await;
        assert!(results.values().all(|o| *o == Outcome::Done), "{results:?}");
        let f = cloud.get_function("fn-a").await.unwrap().unwrap();
        assert_eq!(f.package_type, crate::cloud::PackageType::Image);
        assert_eq!(f.image_uri.as_deref(), Some(v1.as_str()));
        assert_eq!((f.runtime, f.handler), (None, None));
        assert!(f.layers.is_empty(), "{:?}", f.layers);

        // Observed as desire writes it: nothing to do.
        replan(&cloud, &mut p).await;
        assert!(!p.plan.has_changes(), "{:#?}", p.plan.changes);

        // Another image: a code update, nothing else.
        p.artifacts = as_image(&mut p, &v2);
        replan(&cloud, &mut p).await;
        let c = p
            .plan
            .changes
            .iter()
            .find(|c| c.address.to_string() == "lambda_function.fn-a")
            .expect("a change of fn-a");
        let names: Vec<&str> = c.diffs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["image_uri"], "{c:#?}");
        let before = cloud.requests().count("UpdateFunctionConfiguration");
        let results = run(&cloud, &p).await;
        assert!(results.values().all(|o| *o == Outcome::Done), "{results:?}");
        let f = cloud.get_function("fn-a").await.unwrap().unwrap();
        assert_eq!(f.image_uri.as_deref(), Some(v2.as_str()));
        assert_eq!(
            cloud.requests().count("UpdateFunctionConfiguration"),
            before,
            "only the code changed"
        );
        replan(&cloud, &mut p).await;
        assert!(!p.plan.has_changes(), "{:#?}", p.plan.changes);
    }

    /// The change of one address in a plan.
    fn change_of<'a>(p: &'a Planned, address: &str) -> &'a Change {
        p.plan
            .changes
            .iter()
            .find(|c| c.address.to_string() == address)
            .unwrap_or_else(|| panic!("no change of {address}: {:#?}", p.plan.changes))
    }

    #[tokio::test]
    async fn a_replaced_role_is_replaced_first_and_its_functions_move_to_it() {
        let cloud = Arc::new(MemoryCloud::new());
        let p = plan(&cloud).await;
        run(&cloud, &p).await;
        // The role's trust changes behind scar's back, and (as a kind may
        // declare) the trust policy cannot change in place.
        cloud
            .update_assume_role_policy("scar-wf", r#"{"Version":"2012-10-17","Statement":[]}"#)
            .await
            .unwrap();
        let mut p = plan(&cloud).await;
        let role = Addr::new(crate::model::Kind::IamRole, "scar-wf");
        p.desired
            .resources
            .get_mut(&role)
            .unwrap()
            .force_new
            .insert("assume_role_policy".into());
        replan(&cloud, &mut p).await;
        let r = change_of(&p, "iam_role.scar-wf");
        assert_eq!(r.action, Action::Replace, "{r:#?}");
        assert!(r
            .diffs
            .iter()
            .any(|d| d.name == "assume_role_policy" && d.forces_replacement));
        // Its ARN is known only after apply: the function that references
        // it is planned as an update.
        let f = change_of(&p, "lambda_function.fn-a");
        assert_eq!(f.action, Action::Update, "{f:#?}");
        let d = f
            .diffs
            .iter()
            .find(|d| d.name == "role")
            .expect("a role diff");
        assert!(d.after_unknown && d.after.is_none(), "{d:#?}");

        cloud.requests().reset();
        let results = run(&cloud, &p).await;
        assert!(results.values().all(|o| *o == Outcome::Done), "{results:?}");
        let counts = cloud.requests().snapshot();
        // Deleted, then created: a create first would have found the old
        // one there (and the delete would then have removed the new role).
        assert_eq!(counts.get("DeleteRole"), Some(&1), "{counts:?}");
        assert_eq!(counts.get("CreateRole"), Some(&1), "{counts:?}");
        assert_eq!(
            counts.get("UpdateFunctionConfiguration"),
            Some(&1),
            "{counts:?}"
        );
        let now = cloud
            .get_role("scar-wf")
            .await
            .unwrap()
            .expect("the new role");
        let f = cloud.get_function("fn-a").await.unwrap().unwrap();
        assert_eq!(f.role, now.arn);
        replan(&cloud, &mut p).await;
        assert!(!p.plan.has_changes(), "{:#?}", p.plan.changes);
    }

    #[tokio::test]
    async fn a_new_layer_version_moves_every_function_to_it() {
        let cloud = Arc::new(MemoryCloud::new());
        let p = plan(&cloud).await;
        run(&cloud, &p).await;
        let loaded = load_texts(&[("m.yaml", MANIFEST)]);
        let m = loaded.manifest.unwrap();
        let p = plan_workflow_in(
            cloud.clone(),
            &m,
            Some(b"a newer layer".to_vec()),
            false,
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            change_of(&p, "lambda_layer.scar-supervisor").action,
            Action::Create
        );
        let f = change_of(&p, "lambda_function.fn-a");
        assert_eq!(f.action, Action::Update);
        assert!(
            f.diffs
                .iter()
                .any(|d| d.name == "layers" && d.after_unknown),
            "{f:#?}"
        );
        let results = run(&cloud, &p).await;
        assert!(results.values().all(|o| *o == Outcome::Done), "{results:?}");
        let versions = cloud.list_layer_versions("scar-supervisor").await.unwrap();
        assert_eq!(versions.len(), 1, "the old version went: {versions:?}");
        let f = cloud.get_function("fn-a").await.unwrap().unwrap();
        assert_eq!(f.layers, [versions[0].arn.clone()]);
    }

    #[tokio::test]
    async fn a_replaced_function_takes_its_permission_along_and_gets_it_back() {
        let cloud = Arc::new(MemoryCloud::new());
        let mut p = plan(&cloud).await;
        run(&cloud, &p).await;
        // A zip function cannot become an image in place.
        let uri = format!(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/wf@sha256:{}",
            "c".repeat(64)
        );
        p.artifacts = as_image(&mut p, &uri);
        replan(&cloud, &mut p).await;
        assert_eq!(
            change_of(&p, "lambda_function.fn-a").action,
            Action::Replace
        );
        let perm = change_of(&p, "lambda_permission.fn-a/scar-s3-in-bucket");
        assert_eq!(perm.action, Action::Replace, "{perm:#?}");
        assert!(perm.reason.contains("is replaced"), "{}", perm.reason);
        let results = run(&cloud, &p).await;
        assert!(results.values().all(|o| *o == Outcome::Done), "{results:?}");
        let f = cloud.get_function("fn-a").await.unwrap().unwrap();
        assert_eq!(f.package_type, crate::cloud::PackageType::Image);
        assert_eq!(cloud.get_policy("fn-a").await.unwrap().len(), 1);
        replan(&cloud, &mut p).await;
        assert!(!p.plan.has_changes(), "{:#?}", p.plan.changes);
    }
}
