//! Drift: `drift(&DesiredState, &ObservedState) -> Report`. Pure, like the
//! planner. Per resource and attribute it tells apart what terraform users
//! cannot (ARCHITECTURE.md §3.1), from each resource's applied record
//! ([`crate::model::applied`]):
//!
//! - **drift**: the account changed since scar applied it (before =
//!   applied, after = observed), a resource deleted behind scar's back
//!   included;
//! - **pending**: the manifests changed and are not applied (before =
//!   applied, after = desired);
//! - **unmanaged**: resources carrying the workflow's tags that no manifest
//!   declares;
//! - **origin unknown**: a difference on a resource whose record is gone
//!   (its tag removed by hand): it is reported, never guessed.
//!
//! Where a kind keeps its record is the kind's own declaration
//! ([`crate::resources::Fingerprint`]); nothing here names a kind.

pub mod doc;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::applied::{self, Applied, Recorded};
use crate::model::{Addr, Attrs, DesiredState, Observed, ObservedState, Owner, PACKAGE_ATTRS};
use crate::plan::{masked_keys, resolve, UNKNOWN};
use crate::resources::{rules, Fingerprint, Found, PlanContext, Removal};

/// What a finding says of its resource.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The account changed since scar applied it.
    Drift,
    /// The manifests changed and are not applied.
    Pending,
    /// It carries the workflow's tags and no manifest declares it.
    Unmanaged,
    /// It differs from the manifests and its record is gone: drift or
    /// pending, nobody can tell.
    OriginUnknown,
    /// It looks like SCAR's and belongs to no workflow (`drift --all`).
    Unowned,
}

impl Status {
    /// The status as people read it.
    pub fn label(self) -> &'static str {
        match self {
            Status::Drift => "drift",
            Status::Pending => "pending",
            Status::Unmanaged => "unmanaged",
            Status::OriginUnknown => "changed, origin unknown",
            Status::Unowned => "unowned",
        }
    }
}

/// What happened to the resource, or what apply would do with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Its attributes differ (drift, pending, origin unknown).
    Changed,
    /// It was applied and is gone (drift).
    Deleted,
    /// Apply would create it (pending).
    Create,
    /// Apply would delete it (pending, unmanaged).
    Delete,
    /// Apply would leave it as it is (unmanaged, kept).
    Kept,
    /// Apply cannot deploy it (pending).
    Blocked,
}

/// One attribute of a finding. Values are the account's and the
/// manifests' own, secrets unmasked: [`doc`] masks them.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrChange {
    pub name: String,
    /// Absent: the value is not known (only a hash of it was recorded).
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// Keys of `before`/`after` (or the whole value, with an empty entry)
    /// never shown.
    pub sensitive: Vec<String>,
}

/// One resource's drift, pending change, or unmanaged presence.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub address: Addr,
    pub status: Status,
    pub change: Change,
    /// Why, for people.
    pub reason: String,
    pub attributes: Vec<AttrChange>,
}

/// The drift report of one workflow.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub workflow: String,
    /// Sorted by address, then status.
    pub findings: Vec<Finding>,
    /// Resources compared and found in sync.
    pub in_sync: usize,
}

impl Report {
    /// True when the account, the record and the manifests all agree.
    pub fn is_in_sync(&self) -> bool {
        self.findings.is_empty()
    }

    /// How many findings have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }

    /// The findings `plan` shows as "changed outside of scar".
    pub fn outside(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| matches!(f.status, Status::Drift | Status::OriginUnknown))
    }
}

/// Compares what the manifests want, what the account holds and what
/// scar last applied.
pub fn drift(desired: &DesiredState, observed: &ObservedState) -> Report {
    let mut findings = Vec::new();
    let mut in_sync = 0;
    for (name, why) in &desired.unsupported {
        findings.push(Finding {
            address: Addr::new(crate::model::Kind::LambdaFunction, name),
            status: Status::Pending,
            change: Change::Blocked,
            reason: why.clone(),
            attributes: Vec::new(),
        });
    }
    for (addr, want) in &desired.resources {
        let sensitive = |name: &str| masked_keys(&want.sensitive, name);
        let Some(have) = observed.resources.get(addr) else {
            findings.push(match applied_evidence(addr, desired, observed) {
                Some(by) => Finding {
                    address: addr.clone(),
                    status: Status::Drift,
                    change: Change::Deleted,
                    reason: format!("deleted outside scar ({by} was applied with it)"),
                    attributes: Vec::new(),
                },
                None => Finding {
                    address: addr.clone(),
                    status: Status::Pending,
                    change: Change::Create,
                    reason: "not in the account: apply creates it (or it was deleted outside scar; nothing applied with it says so)".into(),
                    attributes: Vec::new(),
                },
            });
            continue;
        };
        match crate::resources::found(have) {
            // Used as it is (a foreign bucket): nothing of it is scar's.
            Found::Keep(_) => {
                in_sync += 1;
                continue;
            }
            Found::Block(why) => {
                findings.push(Finding {
                    address: addr.clone(),
                    status: Status::Pending,
                    change: Change::Blocked,
                    reason: why,
                    attributes: Vec::new(),
                });
                continue;
            }
            Found::Adopt(_) => {}
        }
        let mut resolved = resolve(&want.attrs, observed, &BTreeSet::new());
        // What another system manages is neither drift nor pending.
        resolved.retain(|k, _| !want.ignore_changes.contains(k));
        let before = findings.len();
        compare(
            addr,
            have,
            &resolved,
            &want.ignore_changes,
            &sensitive,
            &mut findings,
        );
        if findings.len() == before {
            in_sync += 1;
        }
    }
    let ctx = PlanContext { desired, observed };
    for (addr, have) in &observed.resources {
        if desired.resources.contains_key(addr) || have.owner != Owner::Workflow {
            continue;
        }
        let kind = rules(addr.kind);
        let (change, reason) = match kind.removal(have, &ctx) {
            Removal::Skip => continue,
            Removal::Keep(why) => (Change::Kept, why),
            Removal::Delete { reason, .. } => (Change::Delete, reason),
        };
        // Only what carries the workflow's tags is "unmanaged"; what
        // else the workflow left (a permission, a layer version) is a
        // pending removal.
        let status = if kind.fingerprint() == Fingerprint::Tags {
            Status::Unmanaged
        } else {
            Status::Pending
        };
        findings.push(Finding {
            address: addr.clone(),
            status,
            change,
            reason,
            attributes: Vec::new(),
        });
    }
    findings.sort_by(|a, b| (&a.address, a.status).cmp(&(&b.address, b.status)));
    Report {
        workflow: desired.workflow.clone(),
        findings,
        in_sync,
    }
}

impl Report {
    /// Adds what looks like SCAR's and belongs to no workflow (`drift
    /// --all`), but what the manifests declare (reported already).
    pub fn add_strays(&mut self, strays: Vec<(Addr, String)>, desired: &DesiredState) {
        for (address, reason) in strays {
            if desired.resources.contains_key(&address) {
                continue;
            }
            self.findings.push(Finding {
                address,
                status: Status::Unowned,
                change: Change::Kept,
                reason,
                attributes: Vec::new(),
            });
        }
        self.findings
            .sort_by(|a, b| (&a.address, a.status).cmp(&(&b.address, b.status)));
    }
}

/// What was applied to `have`, where its kind keeps it.
fn applied_record(have: &Observed, resolved: &Attrs) -> Option<Applied> {
    let kind = rules(have.addr.kind);
    match kind.fingerprint() {
        Fingerprint::Tags => have.applied.clone(),
        Fingerprint::InId => Some(applied::record(&kind.applied_by_id(have, resolved))),
        Fingerprint::Content => Some(applied::record(&have.attrs)),
    }
}

/// The findings of one resource that both the manifests and the account
/// have.
fn compare(
    addr: &Addr,
    have: &Observed,
    resolved: &Attrs,
    ignored: &BTreeSet<String>,
    sensitive: &dyn Fn(&str) -> Vec<String>,
    out: &mut Vec<Finding>,
) {
    let record = applied_record(have, resolved);
    let mut names: BTreeSet<&str> = resolved.keys().map(String::as_str).collect();
    if let Some(r) = &record {
        names.extend(r.keys().map(String::as_str));
    }
    names.retain(|n| !ignored.contains(*n));
    let (mut drifted, mut pending, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
    for name in names {
        if PACKAGE_ATTRS.contains(&name) {
            continue;
        }
        let o = have.attrs.get(name);
        let d = resolved.get(name);
        let change = |before: Option<Value>, after: Option<&Value>| AttrChange {
            name: name.to_string(),
            before,
            after: Some(after.cloned().unwrap_or(Value::Null)),
            sensitive: sensitive(name),
        };
        let d_unknown = d.is_some_and(|v| v.to_string().contains(UNKNOWN));
        match record.as_ref().and_then(|r| r.get(name)) {
            // No record of it: compare the account with the manifests.
            None => {
                if d_unknown || o != d {
                    unknown.push(change(o.cloned(), d));
                }
            }
            Some(rec) => {
                let is_drift = !rec.matches(o);
                let is_pending = d_unknown || !rec.matches(d);
                let applied = applied_value(rec, o, d, is_drift, is_pending);
                if is_drift {
                    drifted.push(change(applied.clone(), o));
                }
                if is_pending {
                    pending.push(change(applied, d));
                }
            }
        }
    }
    for (status, attributes, reason) in [
        (Status::Drift, drifted, "changed outside scar since it was applied"),
        (Status::Pending, pending, "the manifests changed since it was applied"),
        (
            Status::OriginUnknown,
            unknown,
            "differs from the manifests, and its applied record is gone (removed by hand?): changed outside scar or in the manifests, scar cannot tell",
        ),
    ] {
        if !attributes.is_empty() {
            out.push(Finding {
                address: addr.clone(),
                status,
                change: Change::Changed,
                reason: reason.into(),
                attributes,
            });
        }
    }
}

/// The applied value, where it is known: recorded as such, or equal to
/// the account's or the manifests' (whichever matches the record).
fn applied_value(
    rec: &Recorded,
    o: Option<&Value>,
    d: Option<&Value>,
    is_drift: bool,
    is_pending: bool,
) -> Option<Value> {
    let absent = || Value::Null;
    rec.value().cloned().or_else(|| {
        if !is_pending {
            Some(d.cloned().unwrap_or_else(absent))
        } else if !is_drift {
            Some(o.cloned().unwrap_or_else(absent))
        } else {
            None
        }
    })
}

/// Whether `have` was applied as the manifests want `want` now, so that
/// what `want` depends on was there when it was: its id or content says
/// so, or its record matches what the manifests want (a record of other
/// values, say another role, proves nothing of this one).
fn applied_as_wanted(
    want: &crate::model::Resource,
    have: &Observed,
    observed: &ObservedState,
) -> bool {
    let kind = rules(have.addr.kind);
    let resolved = resolve(&want.attrs, observed, &BTreeSet::new());
    match kind.fingerprint() {
        Fingerprint::Content => return true,
        // What is there under the wanted ids is all the manifests want
        // (an entry of another id, say SCAR's, proves nothing).
        Fingerprint::InId => return kind.applied_by_id(have, &resolved) == resolved,
        Fingerprint::Tags => {}
    }
    if have.applied.is_none() {
        return false;
    }
    let mut found = Vec::new();
    compare(
        &want.addr,
        have,
        &resolved,
        &want.ignore_changes,
        &|_| Vec::new(),
        &mut found,
    );
    !found.iter().any(|f| f.status == Status::Pending)
}

/// A wanted resource missing from the account was applied (and so was
/// deleted behind scar's back) if something the manifests make depend on
/// it is there with its record, or is missing for the same reason: scar
/// creates what a resource depends on first.
fn applied_evidence(addr: &Addr, desired: &DesiredState, observed: &ObservedState) -> Option<Addr> {
    let mut seen = BTreeSet::new();
    evidence(addr, desired, observed, &mut seen)
}

fn evidence(
    addr: &Addr,
    desired: &DesiredState,
    observed: &ObservedState,
    seen: &mut BTreeSet<Addr>,
) -> Option<Addr> {
    if !seen.insert(addr.clone()) {
        return None;
    }
    for dependent in desired.resources.values().filter(|r| r.deps.contains(addr)) {
        match observed.resources.get(&dependent.addr) {
            Some(h) if h.owner == Owner::Workflow => {
                if applied_as_wanted(dependent, h, observed) {
                    return Some(dependent.addr.clone());
                }
            }
            Some(_) => {}
            None => {
                if let Some(by) = evidence(&dependent.addr, desired, observed, seen) {
                    return Some(by);
                }
            }
        }
    }
    None
}
