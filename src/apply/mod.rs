//! The executor: carries out a plan, deciding nothing itself. Creates and
//! updates walk the dependency graph with bounded concurrency (a `JoinSet`
//! under a `Semaphore`); deletes follow in reverse kind order. Dependents
//! of a failed change are skipped, independent branches go on. Every step
//! is idempotent, throttling and conflicts are retried with backoff, and
//! Lambda is waited on until it is ready.

mod ops;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::cloud::{Cloud, CloudError};
use crate::model::{Addr, Kind};
use crate::plan::{Action, Change, Plan};

/// What the executor needs besides the plan: the code to upload.
#[derive(Clone, Debug, Default)]
pub struct Artifacts {
    /// Function packages by function name.
    pub packages: BTreeMap<String, Vec<u8>>,
    /// The supervisor layer zip.
    pub layer_zip: Vec<u8>,
}

/// How one change ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed(String),
    /// Not attempted because a change it depends on failed.
    Skipped(String),
}

/// A progress event, for the terminal.
#[derive(Clone, Debug)]
pub enum Event {
    Started(Addr, Action),
    Finished(Addr, Action, Outcome),
}

/// Runs a plan; returns every change's outcome, in plan order.
pub async fn apply<C: Cloud>(
    cloud: Arc<C>,
    plan: &Plan,
    artifacts: Arc<Artifacts>,
    parallelism: usize,
    on_event: Arc<dyn Fn(Event) + Send + Sync>,
) -> Vec<(Addr, Action, Outcome)> {
    let outputs: Arc<Mutex<BTreeMap<String, BTreeMap<String, String>>>> = Arc::new(Mutex::new(
        plan.changes
            .iter()
            .map(|c| (c.address.to_string(), c.outputs.clone()))
            .collect(),
    ));
    let mut results: BTreeMap<Addr, Outcome> = BTreeMap::new();
    let limit = Arc::new(Semaphore::new(parallelism.max(1)));

    // Phase 1: creates, updates and replacements, in dependency order.
    let todo: BTreeMap<Addr, &Change> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Create | Action::Update | Action::Replace))
        .map(|c| (c.address.clone(), c))
        .collect();
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
                    .filter(|d| todo.contains_key(*d))
                    .collect();
                if let Some(bad) = deps.iter().find(|d| {
                    matches!(
                        results.get(**d),
                        Some(Outcome::Failed(_) | Outcome::Skipped(_))
                    )
                }) {
                    let o = Outcome::Skipped(format!("{bad} did not succeed"));
                    on_event(Event::Finished(addr.clone(), c.action, o.clone()));
                    results.insert(addr.clone(), o);
                    pending.remove(&addr);
                    progressed = true;
                } else if deps.iter().all(|d| results.get(*d) == Some(&Outcome::Done)) {
                    pending.remove(&addr);
                    let change = c.clone();
                    let cloud = cloud.clone();
                    let artifacts = artifacts.clone();
                    let outputs = outputs.clone();
                    let limit = limit.clone();
                    let on_event = on_event.clone();
                    let workflow = plan.workflow.clone();
                    running.spawn(async move {
                        let _permit = limit.acquire_owned().await;
                        on_event(Event::Started(change.address.clone(), change.action));
                        let r = ops::run(&*cloud, &change, &artifacts, &outputs, &workflow).await;
                        (change.address, change.action, r)
                    });
                    progressed = true;
                }
            }
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (addr, action, outcome) = match joined {
            Ok((addr, action, Ok(()))) => (addr, action, Outcome::Done),
            Ok((addr, action, Err(e))) => (addr, action, Outcome::Failed(error_text(&e))),
            Err(e) => {
                // A panicking step: report it against nothing specific.
                tracing::error!("a step panicked: {e}");
                continue;
            }
        };
        on_event(Event::Finished(addr.clone(), action, outcome.clone()));
        results.insert(addr, outcome);
    }
    for addr in pending {
        results.insert(addr, Outcome::Skipped("a dependency did not finish".into()));
    }

    // Phase 2: deletes, dependents first (reverse kind order).
    let mut deletes: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .collect();
    deletes.sort_by(|a, b| {
        b.address
            .kind
            .cmp(&a.address.kind)
            .then(a.address.cmp(&b.address))
    });
    let kinds: Vec<Kind> = {
        let mut k: Vec<Kind> = deletes.iter().map(|c| c.address.kind).collect();
        k.dedup();
        k
    };
    for kind in kinds {
        let mut set = JoinSet::new();
        for c in deletes.iter().filter(|c| c.address.kind == kind) {
            let change = (*c).clone();
            let cloud = cloud.clone();
            let artifacts = artifacts.clone();
            let outputs = outputs.clone();
            let limit = limit.clone();
            let on_event = on_event.clone();
            let workflow = plan.workflow.clone();
            set.spawn(async move {
                let _permit = limit.acquire_owned().await;
                on_event(Event::Started(change.address.clone(), change.action));
                let r = ops::run(&*cloud, &change, &artifacts, &outputs, &workflow).await;
                (change.address, r)
            });
        }
        while let Some(joined) = set.join_next().await {
            let Ok((addr, r)) = joined else { continue };
            let outcome = match r {
                Ok(()) => Outcome::Done,
                Err(e) => Outcome::Failed(error_text(&e)),
            };
            on_event(Event::Finished(
                addr.clone(),
                Action::Delete,
                outcome.clone(),
            ));
            results.insert(addr, outcome);
        }
    }

    plan.changes
        .iter()
        .filter_map(|c| {
            results
                .get(&c.address)
                .map(|o| (c.address.clone(), c.action, o.clone()))
        })
        .collect()
}

/// The error and its causes on one line.
pub fn error_text(e: &CloudError) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let t = s.to_string();
        if parts.last() != Some(&t) {
            parts.push(t);
        }
        src = s.source();
    }
    parts.join(": ")
}

/// Retries `f` on throttling and conflicts, with exponential backoff
/// (0.2 s doubling, at most 8 tries).
pub async fn retry<T, F, Fut>(mut f: F) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CloudError>>,
{
    let mut delay = Duration::from_millis(200);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match f().await {
            Err(e) if e.is_retryable() && attempt < 8 => {
                tracing::debug!("{e}: retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            other => return other,
        }
    }
}
