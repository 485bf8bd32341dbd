//! One module per resource kind, and the registry that lists them.
//!
//! A kind's module owns what the planner and the executor must know about
//! that kind: the reason a create gives, what to do with one found that
//! this workflow does not own (keep, adopt or block), how a replacement is
//! carried out, what it needs while it exists (so deletes run in reverse),
//! what it is replaced with, and what becomes of one the workflow no longer
//! wants. The planner asks [`rules`] instead of matching on the kind.
//! (Desire, observation and the executor's steps are still shared code;
//! they move here next, see issue 9.)

mod iam_role;
mod lambda_function;
mod lambda_layer;
mod lambda_permission;
mod log_group;
mod s3_bucket;
mod s3_notifications;

use std::collections::BTreeSet;

use crate::model::{Addr, Kind, Observed, ObservedState, Resource};

pub use lambda_permission::s3_permission_sid;

/// What the planner does with a resource it finds that this workflow does
/// not own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// Used as it is, never changed or deleted (the reason is shown).
    Keep(String),
    /// Brought in line and owned from now on; the reason replaces "changed"
    /// when it is updated.
    Adopt(Option<&'static str>),
    /// Nothing of the plan proceeds (the reason is shown).
    Block(String),
}

/// How a replacement (`-/+`) is carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replacement {
    /// The name is the natural key: the old one goes before the new one
    /// can be created.
    DeleteThenCreate,
    /// Written again in place (or as a new version).
    InPlace,
    /// Never replaced (it holds data): a replacement is an error.
    Never,
}

/// What becomes of a resource this workflow owns and no longer wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Deleted, after the changes listed (beyond the reverse dependency
    /// order every delete follows).
    Delete { reason: String, after: Vec<Addr> },
    /// Left as it is (the reason is shown).
    Keep(String),
    /// Not a change of its own (it goes with something else).
    Skip,
}

impl Removal {
    /// The usual end of a resource the manifests dropped: deleted, in the
    /// reverse dependency order only.
    pub fn no_longer_wanted() -> Removal {
        Removal::Delete {
            reason: "owned by this workflow and no longer in the manifests".into(),
            after: Vec::new(),
        }
    }
}

/// What the planner knows when it asks a kind.
pub struct PlanContext<'a> {
    pub observed: &'a ObservedState,
    /// The functions the manifests want, by name.
    pub desired_functions: &'a BTreeSet<&'a str>,
}

/// The planner's rules of one kind. The defaults are those of a named
/// resource that only its own workflow may change.
pub trait KindRules: Sync {
    /// Why a missing one is created.
    fn create_reason(&self) -> &'static str {
        "does not exist"
    }

    /// One of another workflow's.
    fn other_workflow(&self, workflow: &str) -> Found {
        Found::Block(format!("belongs to workflow `{workflow}`; scar never changes another workflow's resources (rename it, or remove it from that workflow first)"))
    }

    /// One that no scar workflow owns.
    fn unmanaged(&self) -> Found {
        Found::Block("exists and scar does not manage it (created by SCAR or by hand); delete it or choose another name".into())
    }

    /// How a replacement is carried out.
    fn replacement(&self) -> Replacement {
        Replacement::DeleteThenCreate
    }

    /// What an observed one needs while it exists: it is deleted before
    /// them.
    fn needs(&self, _have: &Observed, _observed: &ObservedState) -> Vec<Addr> {
        Vec::new()
    }

    /// The resource it lives in, if any, and why it is replaced with it.
    fn lives_in(&self, _want: &Resource) -> Option<(Addr, String)> {
        None
    }

    /// What becomes of one the workflow no longer wants.
    fn removal(&self, _have: &Observed, _ctx: &PlanContext) -> Removal {
        Removal::no_longer_wanted()
    }
}

/// The registry: every kind's rules. The one place, with the kinds' own
/// modules, where the planner's rules are chosen by kind.
pub fn rules(kind: Kind) -> &'static dyn KindRules {
    match kind {
        Kind::LambdaLayer => &lambda_layer::LambdaLayer,
        Kind::IamRole => &iam_role::IamRole,
        Kind::S3Bucket => &s3_bucket::S3Bucket,
        Kind::LambdaFunction => &lambda_function::LambdaFunction,
        Kind::LogGroup => &log_group::LogGroup,
        Kind::LambdaPermission => &lambda_permission::LambdaPermission,
        Kind::S3Notifications => &s3_notifications::S3Notifications,
    }
}
