//! The planner: `plan(&DesiredState, &ObservedState) -> Plan`. Pure,
//! synchronous and deterministic (sorted by address); no clock, no
//! environment, no SDK types. Each change has an address, an action,
//! attribute-level before/after and a reason that is only ever displayed.

pub mod doc;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod staleness;

pub use staleness::staleness;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::model::Action;
use crate::model::{
    parse_reference, Addr, Attrs, DesiredState, Kind, Observed, ObservedState, Owner,
    FACT_PACKAGE_UNREADABLE, PACKAGE_ATTRS,
};
use crate::resources::{rules, Found, PlanContext, Removal};

/// One attribute's before and after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttrDiff {
    pub name: String,
    pub before: Option<Value>,
    /// `None` with `after_unknown` when it is known only after apply.
    pub after: Option<Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_unknown: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forces_replacement: bool,
    /// Keys (or the whole value, with an empty entry) never shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
}

/// One change of the plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: Addr,
    pub action: Action,
    /// Why, for people.
    pub reason: String,
    /// Attributes that differ (create: all; delete: none listed).
    pub diffs: Vec<AttrDiff>,
    /// The full desired attributes (references unresolved), for apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Attrs>,
    /// Outputs of the observed resource (ARNs), for apply.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, String>,
    /// Changes that must succeed before this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Addr>,
    /// Fingerprint of what was observed (absent: nothing was there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl Change {
    /// A change with no attribute diffs, outputs, dependencies or
    /// fingerprint yet.
    fn new(address: Addr, action: Action, reason: impl Into<String>) -> Change {
        Change {
            address,
            action,
            reason: reason.into(),
            diffs: Vec::new(),
            after: None,
            outputs: BTreeMap::new(),
            depends_on: Vec::new(),
            fingerprint: None,
        }
    }
}

/// The plan of one workflow.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub workflow: String,
    pub changes: Vec<Change>,
    /// The id of the saved plan this is (`apply --plan`): apply writes it
    /// into the applied records, so that the same saved plan is refused
    /// the second time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What the plan was made from, for saved plans.
    #[serde(skip)]
    pub inputs: Option<Inputs>,
    /// The manifests' warnings and notes, shown with the plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// What the wanted resources give their users (a stage's invoke URL),
    /// sorted by address and name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<PlanOutput>,
}

/// A value a wanted resource gives its users, as terraform's outputs: the
/// invoke URL of an API's stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(
    rename = "OutputDoc",
    description = "A value a wanted resource gives its users (a stage's `invoke_url`)."
)]
pub struct PlanOutput {
    /// The resource's address (`api_gateway_stage.my-api`).
    pub address: String,
    /// The output's name (`invoke_url`).
    pub name: String,
    /// Absent when it is known only after apply (`after_unknown`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default)]
    pub after_unknown: bool,
}

impl PlanOutput {
    /// The output's value, or [`UNKNOWN`].
    pub fn shown(&self) -> &str {
        self.value.as_deref().unwrap_or(UNKNOWN)
    }
}

/// What a plan was made from: the command line's manifest paths and
/// options, and each manifest file read with the SHA-256 of its text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    /// The `-f` paths as given (files or folders).
    pub paths: Vec<String>,
    /// (path, SHA-256 hex) of each manifest file read.
    pub files: Vec<(String, String)>,
    pub allow_files_in: Vec<String>,
    pub strict: bool,
    /// The `--target` addresses, if any.
    pub targets: Vec<String>,
}

/// A warning or note about the manifests, as plans carry it (secrets
/// already masked) and as the JSON plan lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(
    rename = "WarningDoc",
    description = "A warning or note about the manifests."
)]
pub struct Warning {
    /// `warning` or `note`.
    pub severity: String,
    pub code: String,
    pub message: String,
    /// `file:line:column`, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Counts of a plan, terraform-style.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub blocked: usize,
}

impl Summary {
    /// Counts one change (a replacement adds one and destroys one).
    pub fn count(&mut self, action: Action) {
        match action {
            Action::Create => self.add += 1,
            Action::Update => self.change += 1,
            Action::Replace => {
                self.add += 1;
                self.destroy += 1;
            }
            Action::Delete => self.destroy += 1,
            Action::Blocked => self.blocked += 1,
            Action::NoOp | Action::Keep => {}
        }
    }

    /// `Plan: N to add, N to change, N to destroy.`
    pub fn line(&self) -> String {
        format!(
            "Plan: {} to add, {} to change, {} to destroy.",
            self.add, self.change, self.destroy
        )
    }
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            s.count(c.action);
        }
        s
    }

    /// True when applying would change something.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action.is_change())
    }

    pub fn is_blocked(&self) -> bool {
        self.changes.iter().any(|c| c.action == Action::Blocked)
    }
}

/// Diffs the desired state against the observed one.
pub fn plan(desired: &DesiredState, observed: &ObservedState) -> Plan {
    let mut changes = Vec::new();
    for (name, why) in &desired.unsupported {
        changes.push(Change::new(
            Addr::new(Kind::LambdaFunction, name),
            Action::Blocked,
            why.clone(),
        ));
    }
    // Resources this plan replaces: their outputs (an ARN) are known only
    // after apply, so whatever references them is planned as an update.
    // Desired resources come in kind order (creation order), so a
    // reference always points at one already planned.
    let mut replaced: BTreeSet<String> = BTreeSet::new();
    let mut outputs: Vec<PlanOutput> = Vec::new();
    for (addr, want) in &desired.resources {
        let have = observed.resources.get(addr);
        if let Some(why) = rules(addr.kind).blocked_by(want, observed) {
            changes.push(Change {
                fingerprint: have.map(Observed::fingerprint),
                ..Change::new(addr.clone(), Action::Blocked, why)
            });
            continue;
        }
        let resolved = resolve(&want.attrs, observed, &replaced);
        for (name, value) in rules(addr.kind).plan_outputs(&resolved) {
            outputs.push(PlanOutput {
                address: addr.to_string(),
                name,
                after_unknown: value.is_none(),
                value,
            });
        }
        let depends_on: Vec<Addr> = want.deps.iter().cloned().collect();
        let mut change = Change {
            after: Some(want.attrs.clone()),
            outputs: have.map(|h| h.outputs.clone()).unwrap_or_default(),
            depends_on,
            fingerprint: have.map(Observed::fingerprint),
            ..Change::new(addr.clone(), Action::NoOp, "")
        };
        match have {
            None => {
                change.action = Action::Create;
                change.reason = rules(addr.kind).create_reason().into();
                change.diffs = resolved
                    .iter()
                    .map(|(k, v)| attr_diff(k, None, v, &want.sensitive, false))
                    .collect();
            }
            Some(h) => {
                match crate::resources::found(h) {
                    Found::Keep(why) => {
                        change.action = Action::Keep;
                        change.reason = why;
                    }
                    Found::Block(why) => {
                        change.action = Action::Blocked;
                        change.reason = why;
                    }
                    Found::Adopt(why) => {
                        diff_into(&mut change, &resolved, h, want);
                        // What another system manages is written back as
                        // the account has it.
                        if let Some(after) = change.after.as_mut() {
                            for k in &want.ignore_changes {
                                match h.attrs.get(k) {
                                    Some(v) => after.insert(k.clone(), v.clone()),
                                    None => after.remove(k),
                                };
                            }
                        }
                        if let (Action::Update, Some(why)) = (change.action, why) {
                            change.reason = why.into();
                        }
                    }
                }
            }
        }
        // What lives in a resource that is replaced is replaced with it.
        if matches!(change.action, Action::NoOp | Action::Update) {
            if let Some((parent, why)) = rules(addr.kind).lives_in(want) {
                if replaced.contains(&parent.to_string()) {
                    change.action = Action::Replace;
                    change.reason = why;
                }
            }
        }
        if change.action == Action::Replace {
            replaced.insert(addr.to_string());
        }
        changes.push(change);
    }
    // What this workflow owns and no longer wants.
    for (addr, have) in &observed.resources {
        if desired.resources.contains_key(addr) || have.owner != Owner::Workflow {
            continue;
        }
        let ctx = PlanContext { desired, observed };
        let (action, reason, after) = match rules(addr.kind).removal(have, &ctx) {
            Removal::Skip => continue,
            Removal::Keep(why) => (Action::Keep, why, Vec::new()),
            Removal::Delete { reason, after } => (Action::Delete, reason, after),
        };
        changes.push(Change {
            outputs: have.outputs.clone(),
            fingerprint: Some(have.fingerprint()),
            depends_on: after,
            ..Change::new(addr.clone(), action, reason)
        });
    }
    protect(&mut changes, desired);
    order_deletes(&mut changes, observed);
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    outputs.sort_by(|a, b| (&a.address, &a.name).cmp(&(&b.address, &b.name)));
    Plan {
        workflow: desired.workflow.clone(),
        changes,
        id: None,
        inputs: None,
        warnings: Vec::new(),
        outputs,
    }
}

/// What `scar import` does, and what `plan` shows once it is done.
pub struct Import {
    /// The takeover: each resource the manifests declare that exists with
    /// no scar workflow's tag (and no stack's) gets the workflow's
    /// ownership tags, nothing else.
    pub plan: Plan,
    /// The plan as it would be once they are the workflow's.
    pub after: Plan,
}

/// Plans `scar import`: the resources of kinds that carry tags, that the
/// manifests declare and that no workflow owns, are taken over in place.
pub fn import(desired: &DesiredState, observed: &ObservedState) -> Import {
    let mut changes = Vec::new();
    let mut taken = observed.clone();
    for addr in desired.resources.keys() {
        let Some(have) = observed.resources.get(addr) else {
            continue;
        };
        if have.owner != Owner::Unmanaged
            || rules(addr.kind).fingerprint() != crate::resources::Fingerprint::Tags
        {
            continue;
        }
        let mut after = have.attrs.clone();
        let mut tags = match after.get("tags") {
            Some(Value::Object(t)) => t.clone(),
            _ => serde_json::Map::new(),
        };
        for (k, v) in crate::model::ownership_tags(&desired.workflow) {
            tags.insert(k, Value::String(v));
        }
        after.insert("tags".into(), Value::Object(tags));
        let by = have
            .facts
            .get(crate::model::FACT_DEPLOYED_BY)
            .and_then(Value::as_str)
            .map(|b| format!("deployed by {b}"))
            .unwrap_or_else(|| "made outside scar".into());
        changes.push(Change {
            diffs: vec![attr_diff(
                "tags",
                have.attrs.get("tags").cloned(),
                &after["tags"],
                &BTreeSet::new(),
                false,
            )],
            after: Some(after.clone()),
            outputs: have.outputs.clone(),
            fingerprint: Some(have.fingerprint()),
            ..Change::new(addr.clone(), Action::Update, format!("imported: {by}"))
        });
        if let Some(t) = taken.resources.get_mut(addr) {
            t.owner = Owner::Workflow;
            t.attrs = after;
        }
    }
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    Import {
        plan: Plan {
            workflow: desired.workflow.clone(),
            changes,
            ..Plan::default()
        },
        after: plan(desired, &taken),
    }
}

/// The plan of `scar rename-workflow OLD NEW`: whatever `old` owns that
/// names its workflow (tags, notification entry ids; each kind says,
/// [`crate::resources::KindRules::renamed`]) is written again for `new`,
/// in place. Nothing is created or deleted.
pub fn rename(observed: &ObservedState, old: &str, new: &str) -> Plan {
    let mut changes = Vec::new();
    for have in observed.resources.values() {
        if have.owner != Owner::Workflow {
            continue;
        }
        let Some(after) = rules(have.addr.kind).renamed(have, old, new) else {
            continue;
        };
        let diffs: Vec<AttrDiff> = after
            .iter()
            .filter(|(k, v)| have.attrs.get(*k) != Some(*v))
            .map(|(k, v)| attr_diff(k, have.attrs.get(k).cloned(), v, &BTreeSet::new(), false))
            .collect();
        if diffs.is_empty() {
            continue;
        }
        changes.push(Change {
            diffs,
            after: Some(after),
            outputs: have.outputs.clone(),
            fingerprint: Some(have.fingerprint()),
            ..Change::new(
                have.addr.clone(),
                Action::Update,
                format!("retagged from workflow `{old}` to `{new}`"),
            )
        });
    }
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    Plan {
        workflow: old.to_string(),
        changes,
        ..Plan::default()
    }
}

/// Whether the manifests' workflow looks renamed: it owns nothing in the
/// account, while resources its manifests declare belong to one other
/// workflow. Says so, with what to run.
pub fn rename_hint(desired: &DesiredState, observed: &ObservedState) -> Option<String> {
    if observed
        .resources
        .values()
        .any(|o| o.owner == Owner::Workflow)
    {
        return None;
    }
    let mut others: BTreeMap<&str, usize> = BTreeMap::new();
    let mut existing = 0;
    for addr in desired.resources.keys() {
        match observed.resources.get(addr) {
            Some(Observed {
                owner: Owner::OtherWorkflow(w),
                ..
            }) => *others.entry(w.as_str()).or_default() += 1,
            Some(_) => {}
            None => continue,
        }
        existing += 1;
    }
    let (old, n) = others.into_iter().max_by_key(|(_, n)| *n)?;
    // Most of what exists is that workflow's: a rename, not a clash of a
    // name or two.
    if n < 2 || n * 2 <= existing {
        return None;
    }
    Some(format!(
        "no resource of workflow `{new}` exists, but {n} of the resources its manifests declare belong to workflow `{old}`: if the workflow was renamed (its `workflow:` key, or the manifest's file name or place, which make the default name), run `scar rename-workflow {old} {new}` to retag them in place instead of recreating them",
        new = desired.workflow
    ))
}

/// Keeps only the changes to `targets` and what they need (`--target`):
/// the changes each depends on, transitively. Fails naming a target that
/// is no resource of the plan.
pub fn target(plan: &mut Plan, targets: &[Addr]) -> Result<(), String> {
    for t in targets {
        if !plan.changes.iter().any(|c| &c.address == t) {
            let known: Vec<String> = plan.changes.iter().map(|c| c.address.to_string()).collect();
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            let hint = crate::manifest::suggest::did_you_mean(&t.to_string(), &known)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(format!(
                "`--target {t}` names no resource of this workflow's plan{hint}"
            ));
        }
    }
    let mut keep: BTreeSet<Addr> = targets.iter().cloned().collect();
    loop {
        let before = keep.len();
        let needed: Vec<Addr> = plan
            .changes
            .iter()
            .filter(|c| keep.contains(&c.address))
            .flat_map(|c| c.depends_on.iter().cloned())
            .collect();
        keep.extend(needed);
        if keep.len() == before {
            break;
        }
    }
    plan.changes.retain(|c| keep.contains(&c.address));
    Ok(())
}

/// A change that would delete or replace what the manifests protect
/// (`prevent_destroy`) is blocked, and with it the whole plan.
fn protect(changes: &mut [Change], desired: &DesiredState) {
    for c in changes.iter_mut() {
        if matches!(c.action, Action::Delete | Action::Replace)
            && desired.protected.contains(&c.address)
        {
            let what = if c.action == Action::Delete {
                "delete"
            } else {
                "replace"
            };
            c.reason = format!(
                "`prevent_destroy` is set on it in the manifests, and this plan would {what} it ({}); remove `prevent_destroy` first if that is what you want",
                c.reason
            );
            c.action = Action::Blocked;
        }
    }
}

/// Deletes follow the dependency graph in reverse: a resource is deleted
/// only after every deleted resource that depends on it (a bucket after
/// its notification entries, a function after its permissions, the role
/// after the functions that use it, a layer version after the functions
/// on it). Each delete's `depends_on` lists those deletes, so that a
/// failed delete skips what must outlive it, and nothing else.
fn order_deletes(changes: &mut [Change], observed: &ObservedState) {
    let deleted: BTreeSet<Addr> = changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.address.clone())
        .collect();
    let mut after: BTreeMap<Addr, BTreeSet<Addr>> = BTreeMap::new();
    for d in &deleted {
        let Some(have) = observed.resources.get(d) else {
            continue;
        };
        for needed in rules(d.kind).needs(have, observed) {
            if deleted.contains(&needed) {
                after.entry(needed).or_default().insert(d.clone());
            }
        }
    }
    for c in changes.iter_mut().filter(|c| c.action == Action::Delete) {
        if let Some(first) = after.remove(&c.address) {
            c.depends_on.extend(first);
            c.depends_on.sort();
            c.depends_on.dedup();
        }
    }
}

fn diff_into(
    change: &mut Change,
    resolved: &Attrs,
    have: &Observed,
    want: &crate::model::Resource,
) {
    let mut diffs = Vec::new();
    for (k, v) in resolved {
        if PACKAGE_ATTRS.contains(&k.as_str()) && !have.attrs.contains_key(k) {
            continue;
        }
        if want.ignore_changes.contains(k) {
            continue;
        }
        let before = have.attrs.get(k);
        let unknown = is_unknown(v);
        if unknown || before != Some(v) {
            diffs.push(attr_diff(
                k,
                before.cloned(),
                v,
                &want.sensitive,
                want.force_new.contains(k),
            ));
        }
    }
    // A change the attributes cannot show (a kind says which).
    let changed: Vec<&str> = diffs.iter().map(|d| d.name.as_str()).collect();
    for (name, before, after) in rules(have.addr.kind).unseen_changes(&changed, have) {
        let unknown = is_unknown(&after);
        diffs.push(AttrDiff {
            name,
            before: Some(before),
            after: (!unknown).then_some(after),
            after_unknown: unknown,
            forces_replacement: false,
            sensitive: Vec::new(),
        });
    }
    if diffs.is_empty() {
        change.action = Action::NoOp;
        change.reason = "up to date".into();
        return;
    }
    let replace = diffs.iter().any(|d| d.forces_replacement);
    change.action = if replace {
        Action::Replace
    } else {
        Action::Update
    };
    let names: Vec<&str> = diffs.iter().map(|d| d.name.as_str()).collect();
    change.reason = format!("{} changed", names.join(", "));
    if let Some(why) = have
        .facts
        .get(FACT_PACKAGE_UNREADABLE)
        .and_then(Value::as_str)
    {
        change.reason = format!(
            "{}; the previous script and config cannot be shown: {why}",
            change.reason
        );
    }
    change.diffs = diffs;
}

fn attr_diff(
    name: &str,
    before: Option<Value>,
    after: &Value,
    sensitive: &BTreeSet<String>,
    force: bool,
) -> AttrDiff {
    let unknown = is_unknown(after);
    let masked = masked_keys(sensitive, name);
    AttrDiff {
        name: name.to_string(),
        before,
        // A map with some values unknown is shown with the others (an
        // environment where one variable names a new revision).
        after: if unknown && !after.is_object() {
            None
        } else {
            Some(after.clone())
        },
        after_unknown: unknown,
        forces_replacement: force,
        sensitive: masked,
    }
}

/// The keys of attribute `name` that are never shown (an empty entry: the
/// whole value), from a resource's sensitive set (`environment.TOKEN`).
pub fn masked_keys(sensitive: &BTreeSet<String>, name: &str) -> Vec<String> {
    let prefix = format!("{name}.");
    sensitive
        .iter()
        .filter_map(|s| {
            if s == name {
                Some(String::new())
            } else {
                s.strip_prefix(&prefix).map(str::to_string)
            }
        })
        .collect()
}

/// The marker of a value known only after apply.
pub const UNKNOWN: &str = "(known after apply)";

fn is_unknown(v: &Value) -> bool {
    match v {
        Value::String(s) => s == UNKNOWN,
        Value::Array(a) => a.iter().any(is_unknown),
        Value::Object(o) => o.values().any(is_unknown),
        _ => false,
    }
}

/// Replaces references by the observed outputs they point at, or by
/// [`UNKNOWN`] when the referenced resource does not exist yet or is
/// replaced by this plan (`replaced`: addresses).
pub fn resolve(attrs: &Attrs, observed: &ObservedState, replaced: &BTreeSet<String>) -> Attrs {
    let get = |addr: &str, out: &str| {
        if replaced.contains(addr) {
            None
        } else {
            lookup(observed, addr, out)
        }
    };
    attrs
        .iter()
        .map(|(k, v)| (k.clone(), resolve_value(v, &get)))
        .collect()
}

fn lookup(observed: &ObservedState, addr: &str, out: &str) -> Option<String> {
    observed
        .resources
        .iter()
        .find(|(a, _)| a.to_string() == addr)
        .and_then(|(_, o)| o.outputs.get(out).cloned())
}

/// Resolves references in a value with `get(address, output)`.
pub fn resolve_value(v: &Value, get: &dyn Fn(&str, &str) -> Option<String>) -> Value {
    match v {
        Value::String(s) => match parse_reference(s) {
            Some((addr, out)) => {
                Value::String(get(addr, out).unwrap_or_else(|| UNKNOWN.to_string()))
            }
            None => v.clone(),
        },
        Value::Array(a) => {
            let mut items: Vec<Value> = a.iter().map(|x| resolve_value(x, get)).collect();
            // Lists of ARNs are kept sorted (layers): sort after resolving.
            if items.iter().all(Value::is_string) {
                items.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
            }
            Value::Array(items)
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), resolve_value(x, get)))
                .collect(),
        ),
        other => other.clone(),
    }
}
