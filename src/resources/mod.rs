//! One module per resource kind, and the registry that lists them.
//!
//! A kind's module owns everything about the kind: its typed attributes
//! (a struct, turned into the plan's attribute map by [`to_attrs`] and
//! back by [`from_attrs`], nowhere else), how it is desired from the
//! manifests (`desire`), how it is observed (`observe`: which list and
//! describe calls), its planner rules ([`KindRules`]: ownership, what
//! forces a replacement and how a replacement is carried out, ordering
//! edges, what becomes of one no longer wanted), and its create, update,
//! delete and wait steps (`step`). The registry ([`registry!`] below) is
//! the one place that lists the kinds: the desire, observe, plan and apply
//! phases are generic over it, and a kind is matched nowhere else
//! (`tests/kinds_stay_in_their_modules.rs` checks).

mod api_gateway_rest_api;
mod api_gateway_stage;
mod batch;
mod batch_compute_environment;
mod batch_job_definition;
mod batch_job_queue;
mod ecr_repository;
mod function_image;
mod iam_instance_profile;
mod iam_role;
mod lambda_function;
mod lambda_layer;
mod lambda_permission;
mod log_group;
mod s3_bucket;
mod s3_notifications;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Semaphore;

use crate::cloud::{Cloud, CloudError, Code, CodeArtifact, NotificationConfig, Tags};
use crate::image::registry::Registries;
use crate::manifest::{FunctionDef, Manifest};
use crate::model::{
    Action, Addr, Attrs, DesiredState, Kind, Observed, ObservedState, Owner, Resource,
};

pub use lambda_function::previous_packages;
#[cfg(test)]
pub use lambda_function::set_code;
pub use support::{from_attrs, to_attrs};

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

/// Where a kind keeps what scar last applied to one of its resources
/// (ARCHITECTURE.md §3.1), for `drift`: it tells the account's changes
/// from the manifests'.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fingerprint {
    /// In its `scar:applied` tags ([`crate::model::applied`]): the
    /// executor adds them to what every create and update writes, in the
    /// same call where the API takes tags; observe reads them back
    /// ([`support::observed_tagged`]).
    Tags,
    /// In its deterministic id: what it holds follows from the id, so what
    /// was applied is what the manifests want under that id now
    /// ([`KindRules::applied_by_id`]); a difference is drift.
    InId,
    /// It is its own content (an immutable version, an image by digest):
    /// what was applied is what is there.
    Content,
}

/// What the planner does with `have`, found where the manifests want a
/// resource, as its owner and its kind's rules say.
pub fn found(have: &Observed) -> Found {
    let kind = rules(have.addr.kind);
    match &have.owner {
        Owner::Workflow => Found::Adopt(None),
        Owner::OtherWorkflow(w) => kind.other_workflow(w),
        Owner::Stack(s) => kind.in_stack(s),
        Owner::Unmanaged => kind.unmanaged(),
    }
}

/// What looks like SCAR's in the account and belongs to no workflow
/// (`drift --all`): functions (SCAR 4.x's tag, or a `scar-` name) and
/// log groups (SCAR 4.x's tag), with why each looks so.
pub async fn strays<C: Cloud>(cloud: &C) -> Result<Vec<(Addr, String)>, CloudError> {
    let mut found = lambda_function::strays(cloud).await?;
    found.extend(log_group::strays(cloud).await?);
    found.sort();
    Ok(found)
}

/// Everything the manifests protect from deletion, of every kind.
pub fn protected(m: &Manifest) -> std::collections::BTreeSet<Addr> {
    Kind::ALL
        .iter()
        .flat_map(|k| rules(*k).protected(m))
        .collect()
}

/// What the planner knows when it asks a kind.
pub struct PlanContext<'a> {
    pub desired: &'a DesiredState,
    pub observed: &'a ObservedState,
}

/// The planner's rules of one kind. The defaults are those of a named
/// resource that only its own workflow may change.
pub trait KindRules: Sync {
    /// Why a missing one is created.
    fn create_reason(&self) -> &'static str {
        "does not exist"
    }

    /// Why a wanted one cannot be planned at all, if it cannot (something
    /// it names that the account lacks).
    fn blocked_by(&self, _want: &Resource, _observed: &ObservedState) -> Option<String> {
        None
    }

    /// One of another workflow's.
    fn other_workflow(&self, workflow: &str) -> Found {
        Found::Block(format!("belongs to workflow `{workflow}`; scar never changes another workflow's resources (rename it, or remove it from that workflow first)"))
    }

    /// One that a CloudFormation stack manages.
    fn in_stack(&self, stack: &str) -> Found {
        Found::Block(format!("is managed by the CloudFormation stack `{stack}`; scar never changes a stack's resources (remove it from the stack, or give it another name in the manifest)"))
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

    /// Changes the attributes cannot show, given the names of those that
    /// differ: (attribute, shown before, shown after), added to the plan.
    fn unseen_changes(&self, _changed: &[&str], _have: &Observed) -> Vec<(String, Value, Value)> {
        Vec::new()
    }

    /// The ones the manifests protect from deletion (`prevent_destroy`).
    fn protected(&self, _m: &Manifest) -> Vec<Addr> {
        Vec::new()
    }

    /// What to write to `have` so that it belongs to workflow `new` instead
    /// of `old` (`scar rename-workflow`), if anything: by default its
    /// `scar:workflow` tag.
    fn renamed(&self, have: &Observed, _old: &str, new: &str) -> Option<Attrs> {
        let mut attrs = have.attrs.clone();
        let tags = attrs.get_mut("tags")?.as_object_mut()?;
        tags.get(crate::model::TAG_WORKFLOW)?;
        tags.insert(crate::model::TAG_WORKFLOW.into(), Value::String(new.into()));
        Some(attrs)
    }

    /// Where it keeps what scar applied to it.
    fn fingerprint(&self) -> Fingerprint {
        Fingerprint::Tags
    }

    /// For [`Fingerprint::InId`] kinds: the attributes scar applied to
    /// `have`, given what the manifests want of it now (`want`, references
    /// resolved). By default what they want: the id says it all.
    fn applied_by_id(&self, _have: &Observed, want: &Attrs) -> Attrs {
        want.clone()
    }

    /// The outputs a plan shows of a wanted one (name, value; `None`:
    /// known after apply), given its attributes with references resolved
    /// (the invoke URL of a stage).
    fn plan_outputs(&self, _resolved: &Attrs) -> Vec<(String, Option<String>)> {
        Vec::new()
    }

    /// The service whose tagging API lists the ones this workflow owns
    /// (`lambda`, `s3`, `logs`), if it has one.
    fn tagged_in(&self) -> Option<&'static str> {
        None
    }
}

/// What desire needs besides the manifest.
#[derive(Clone, Debug)]
pub struct Context {
    pub account_id: String,
    pub region: String,
    /// Hex SHA-256 of the supervisor layer zip.
    pub layer_sha256: String,
    /// Each function's code (a zip's hash, or an image by digest), by
    /// function name.
    pub code: BTreeMap<String, Code>,
    /// The init script text of each function, by function name.
    pub scripts: BTreeMap<String, String>,
    /// The supervisor config in each function's package (secrets masked).
    pub configs: BTreeMap<String, String>,
    /// The image of each function that builds one, by function name.
    pub images: BTreeMap<String, WantedImage>,
}

#[cfg(test)]
impl Context {
    /// A context for tests: account `123456789012` in `us-east-1`, no code.
    pub fn for_tests() -> Context {
        Context {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            layer_sha256: "ab".repeat(32),
            code: BTreeMap::new(),
            configs: BTreeMap::new(),
            scripts: BTreeMap::new(),
            images: BTreeMap::new(),
        }
    }
}

/// What every kind's `desire` reads: the workflow, the functions scar can
/// deploy (at least one), and the context.
pub struct Desire<'a> {
    pub workflow: &'a str,
    pub functions: &'a [&'a FunctionDef],
    pub ctx: &'a Context,
}

impl Desire<'_> {
    /// The tags of ownership, as an attribute.
    fn ownership_tags(&self) -> Tags {
        crate::model::ownership_tags(self.workflow)
    }
}

/// Calls in flight at once while observing.
pub const CONCURRENCY: usize = 8;

/// What observation shares between the kinds, in the registry's order:
/// what the workflow owns by tag (read once for every kind), the bounded
/// concurrency, and what one kind learns that a later one needs.
pub struct Observation<'a, C> {
    pub cloud: Arc<C>,
    pub desired: &'a DesiredState,
    pub workflow: &'a str,
    /// Tags of the resources tagged with this workflow, by ARN.
    pub tagged: BTreeMap<String, Tags>,
    pub limit: Arc<Semaphore>,
    /// Layer version ARNs that functions outside the workflow use (written
    /// by `lambda_function`, read by `lambda_layer`).
    pub layers_in_use: BTreeSet<String>,
    /// Buckets where the workflow's functions hold an S3 permission
    /// (written by `lambda_permission`, read by the bucket kinds).
    pub trigger_buckets: BTreeSet<String>,
    /// The notification configurations of the buckets that hold the
    /// workflow's triggers or may be deleted (written by `s3_bucket`, read
    /// by `s3_notifications`).
    pub notifications: BTreeMap<String, NotificationConfig>,
    /// The registries the function images are read from (`None`: no image
    /// is wanted, or the caller reads none).
    pub registries: Option<Arc<Registries>>,
    /// The kinds to read (`None`: every kind).
    pub scope: Option<BTreeSet<Kind>>,
    pub out: ObservedState,
}

impl<C> Observation<'_, C> {
    /// The names the desired state wants of `kind`.
    pub fn wanted(&self, kind: Kind) -> BTreeSet<String> {
        self.desired
            .resources
            .keys()
            .filter(|a| a.kind == kind)
            .map(|a| a.name.clone())
            .collect()
    }

    fn insert(&mut self, o: Observed) {
        self.out.resources.insert(o.addr.clone(), o);
    }
}

/// What the executor needs besides the plan: the code to send.
#[derive(Clone, Debug, Default)]
pub struct Artifacts {
    /// Each function's code, by function name: a zip's bytes or an image
    /// reference (the plan carries only its hash or digest).
    pub code: BTreeMap<String, CodeArtifact>,
    /// The supervisor layer zip.
    pub layer_zip: Vec<u8>,
    /// The image of each function that builds one, ready to push.
    pub images: BTreeMap<String, crate::image::build::FunctionImage>,
    /// The registries to push the images to.
    pub registries: Option<Arc<Registries>>,
    /// Holds the image layers while they are pushed when there is no
    /// cache folder (removed when the artifacts go).
    pub scratch: Option<Arc<tempfile::TempDir>>,
}

/// One create, update or delete, as a kind's `step` carries it out.
pub struct Step<'a> {
    pub addr: &'a Addr,
    /// Create, Update or Delete (a replacement is carried out as the
    /// kind's [`Replacement`] says, by the executor): a kind's `write`
    /// sees Create or Update.
    pub action: Action,
    /// The wanted attributes, every reference resolved (empty for a
    /// delete).
    pub attrs: &'a Attrs,
    /// What the plan says differs: attribute → its observed value.
    pub changed: BTreeMap<&'a str, Option<&'a Value>>,
    /// The outputs of the resource as the plan observed it (its ARN).
    pub observed: &'a BTreeMap<String, String>,
    pub workflow: &'a str,
    pub artifacts: &'a Artifacts,
}

impl Step<'_> {
    /// Whether the plan lists `attr` among what differs.
    pub fn differs(&self, attr: &str) -> bool {
        self.changed.contains_key(attr)
    }
}

/// The outputs a step produced (`arn`), for the changes that reference
/// them.
pub type Outputs = BTreeMap<String, String>;

/// The registry: each line a kind and its module. Kinds are created in the
/// order of [`Kind`] and observed in the order listed here (a kind may
/// read what one listed before it learned, see [`Observation`]).
macro_rules! registry {
    ($($kind:ident => $module:ident::$rules:ident),* $(,)?) => {
        /// Every kind's planner rules.
        pub fn rules(kind: Kind) -> &'static dyn KindRules {
            match kind {
                $(Kind::$kind => &$module::$rules,)*
            }
        }

        /// Every kind's wanted resources for the functions of `d`.
        pub fn desire(d: &Desire, out: &mut DesiredState) {
            $($module::desire(d, out);)*
        }

        /// Every kind observed, in the registry's order.
        pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
            $(if o.scope.as_ref().is_none_or(|s| s.contains(&Kind::$kind)) {
                $module::observe(o).await?;
            })*
            Ok(())
        }

        /// Carries out one create, update or delete of any kind: its
        /// `delete`, or its `write` with the attributes typed as the kind
        /// declares them.
        pub async fn step<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<Outputs, CloudError> {
            match s.addr.kind {
                $(Kind::$kind => if s.action == Action::Delete {
                    $module::delete(cloud, s).await.map(|()| Outputs::new())
                } else {
                    $module::write(cloud, s, from_attrs(s.addr, s.attrs)?).await
                },)*
            }
        }

        /// The services whose tagging API lists what a workflow owns.
        pub fn tagged_services() -> Vec<&'static str> {
            let mut services: Vec<&'static str> = Vec::new();
            $(if let Some(s) = $module::$rules.tagged_in() {
                if !services.contains(&s) {
                    services.push(s);
                }
            })*
            services
        }
    };
}

registry! {
    LambdaFunction => lambda_function::LambdaFunction,
    BatchComputeEnvironment => batch_compute_environment::BatchComputeEnvironment,
    BatchJobQueue => batch_job_queue::BatchJobQueue,
    BatchJobDefinition => batch_job_definition::BatchJobDefinition,
    FunctionImage => function_image::FunctionImage,
    EcrRepository => ecr_repository::EcrRepository,
    LambdaPermission => lambda_permission::LambdaPermission,
    LogGroup => log_group::LogGroup,
    S3Bucket => s3_bucket::S3Bucket,
    S3Notifications => s3_notifications::S3Notifications,
    IamRole => iam_role::IamRole,
    IamInstanceProfile => iam_instance_profile::IamInstanceProfile,
    LambdaLayer => lambda_layer::LambdaLayer,
    ApiGatewayRestApi => api_gateway_rest_api::ApiGatewayRestApi,
    ApiGatewayStage => api_gateway_stage::ApiGatewayStage,
}

pub use batch::ENV_JOB_QUEUE;
pub use ecr_repository::{builds_image, repository_name, scar_image_tag};
pub use function_image::WantedImage;
pub use iam_role::role_name;
pub use lambda_permission::s3_permission_sid;
pub use s3_notifications::{is_own_notification, notification_id, notification_workflow};
