//! Resource addresses, kinds and attributes, shared by desire, observe, plan
//! and apply. Attributes are normalized JSON values, so that what scar wants
//! and what the account holds compare directly.

pub mod applied;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Declares [`Kind`] from one list of (variant, name) lines.
macro_rules! kinds {
    ($($variant:ident = $name:literal,)*) => {
        /// The kinds of resource scar manages, in creation order. Each has
        /// its module under `src/resources/`, listed in the registry there.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Kind {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl Kind {
            /// Every kind, in creation order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The kind's name in addresses (`lambda_function`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name,)*
                }
            }
        }
    };
}

kinds! {
    LambdaLayer = "lambda_layer",
    IamRole = "iam_role",
    IamInstanceProfile = "iam_instance_profile",
    S3Bucket = "s3_bucket",
    EcrRepository = "ecr_repository",
    FunctionImage = "function_image",
    BatchComputeEnvironment = "batch_compute_environment",
    BatchJobQueue = "batch_job_queue",
    BatchJobDefinition = "batch_job_definition",
    LambdaFunction = "lambda_function",
    LogGroup = "log_group",
    LambdaPermission = "lambda_permission",
    S3Notifications = "s3_notifications",
    ApiGatewayRestApi = "api_gateway_rest_api",
    ApiGatewayStage = "api_gateway_stage",
}

/// A stable resource address: `lambda_function.scar-uppercase`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Addr {
    pub kind: Kind,
    pub name: String,
}

impl Addr {
    pub fn new(kind: Kind, name: impl Into<String>) -> Self {
        Addr {
            kind,
            name: name.into(),
        }
    }
}

impl Addr {
    /// An address as plans show it (`lambda_function.scar-x`), if it names
    /// a kind.
    pub fn parse(s: &str) -> Option<Addr> {
        let (kind, name) = s.split_once('.')?;
        let kind = Kind::ALL.iter().find(|k| k.as_str() == kind)?;
        (!name.is_empty()).then(|| Addr::new(*kind, name))
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind.as_str(), self.name)
    }
}

/// What a change does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    /// Delete, then create (the resource cannot change in place).
    Replace,
    Delete,
    /// Nothing to do.
    NoOp,
    /// Left as it is on purpose (a bucket that holds objects, a foreign
    /// bucket used as is).
    Keep,
    /// Cannot proceed: the resource belongs to someone else, or the
    /// manifest asks for something scar cannot deploy yet.
    Blocked,
}

impl Action {
    pub fn is_change(self) -> bool {
        matches!(
            self,
            Action::Create | Action::Update | Action::Replace | Action::Delete
        )
    }
}

/// Attribute name → normalized value.
pub type Attrs = BTreeMap<String, Value>;

/// A value the plan cannot know until an earlier change is applied: a
/// reference to another resource's output (`${lambda_layer.x.arn}`).
pub fn reference(addr: &Addr, output: &str) -> Value {
    Value::String(format!("${{{addr}.{output}}}"))
}

/// Parses a reference string, if it is one: (address text, output).
pub fn parse_reference(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix("${")?.strip_suffix('}')?;
    inner.rsplit_once('.')
}

/// A resource scar wants.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub addr: Addr,
    pub attrs: Attrs,
    /// Resources that must exist before this one.
    pub deps: BTreeSet<Addr>,
    /// Attributes whose values are never shown.
    pub sensitive: BTreeSet<String>,
    /// Attributes that cannot change in place (a change replaces).
    pub force_new: BTreeSet<String>,
    /// Attributes another system manages (`ignore_changes`): never a
    /// difference of an existing resource, never written to one.
    pub ignore_changes: BTreeSet<String>,
}

impl Resource {
    pub fn new(addr: Addr) -> Self {
        Resource {
            addr,
            attrs: Attrs::new(),
            deps: BTreeSet::new(),
            sensitive: BTreeSet::new(),
            force_new: BTreeSet::new(),
            ignore_changes: BTreeSet::new(),
        }
    }

    pub fn attr(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.attrs.insert(name.to_string(), value.into());
        self
    }

    pub fn dep(mut self, addr: Addr) -> Self {
        self.deps.insert(addr);
        self
    }
}

/// Who owns a resource found in the account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "owner", content = "workflow")]
pub enum Owner {
    /// Tagged with this workflow.
    Workflow,
    /// Tagged by scar for another workflow.
    OtherWorkflow(String),
    /// Not tagged by scar.
    Unmanaged,
    /// Managed by a CloudFormation stack (tag `aws:cloudformation:stack-name`,
    /// and no scar tag): foreign, whatever its name.
    Stack(String),
}

/// A resource as found in the account, normalized like the desired ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    pub addr: Addr,
    pub attrs: Attrs,
    pub owner: Owner,
    /// Outputs other resources may reference (`arn`, ...).
    pub outputs: BTreeMap<String, String>,
    /// Facts the plan needs beyond attributes (e.g. `has_objects` for a
    /// bucket).
    pub facts: BTreeMap<String, Value>,
    /// What scar last applied to it, as its record says (kinds that keep
    /// one in tags; `None`: no record, or none could be read).
    pub applied: Option<applied::Applied>,
}

impl Observed {
    /// A hash of what was observed: a saved plan applies only if the
    /// account still matches it.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        // What was read back from the package is covered by `code_sha256`.
        let attrs: BTreeMap<&String, &Value> = self
            .attrs
            .iter()
            .filter(|(k, _)| !PACKAGE_ATTRS.contains(&k.as_str()))
            .collect();
        h.update(serde_json::to_vec(&attrs).unwrap_or_default());
        h.update(serde_json::to_vec(&self.owner).unwrap_or_default());
        let out = h.finalize();
        out.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

/// A function's attributes that live inside its package: the account
/// reports only the package's hash (`code_sha256`); their previous values
/// come from the local package cache or from reading the package back, and
/// are compared only when they could be read.
pub const PACKAGE_ATTRS: &[&str] = &["init_script", "function_config"];

/// Why a function's previous package could not be read (an observed fact).
pub const FACT_PACKAGE_UNREADABLE: &str = "previous_package_unreadable";

/// Who else still uses a bucket this workflow would delete (an observed
/// fact: a list of descriptions); such a bucket is kept.
pub const FACT_USED_BY: &str = "used_by";

/// A supervisor layer version scar published that no function outside the
/// workflow uses (an observed fact): it is deleted.
pub const FACT_UNUSED_LAYER: &str = "unused_layer_version";

/// The saved plan whose apply last wrote a resource's applied record (an
/// observed fact: its id, shortened): the same saved plan is refused a
/// second time.
pub const FACT_APPLIED_PLAN: &str = "applied_by_plan";

/// Who deployed a resource that no scar workflow owns, where its tags say
/// (an observed fact: `SCAR 4.x` for SCAR's `createdby: scar`).
pub const FACT_DEPLOYED_BY: &str = "deployed_by";

/// The tag keys of ownership.
pub const TAG_WORKFLOW: &str = "scar:workflow";
pub const TAG_MANAGED: &str = "scar:managed";

/// The tags scar sets on everything a workflow creates.
pub fn ownership_tags(workflow: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (TAG_MANAGED.to_string(), "true".to_string()),
        (TAG_WORKFLOW.to_string(), workflow.to_string()),
    ])
}

/// The tag CloudFormation puts on what a stack manages.
pub const TAG_CLOUDFORMATION_STACK: &str = "aws:cloudformation:stack-name";

/// The owner a tag set says.
pub fn owner_of(tags: Option<&BTreeMap<String, String>>, workflow: &str) -> Owner {
    match tags.and_then(|t| t.get(TAG_WORKFLOW)) {
        Some(w) if w == workflow => Owner::Workflow,
        Some(w) => Owner::OtherWorkflow(w.clone()),
        None => match tags.and_then(|t| t.get(TAG_CLOUDFORMATION_STACK)) {
            Some(stack) => Owner::Stack(stack.clone()),
            None => Owner::Unmanaged,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_references() {
        let a = Addr::new(Kind::LambdaFunction, "scar-x");
        assert_eq!(a.to_string(), "lambda_function.scar-x");
        let r = reference(&a, "arn");
        assert_eq!(
            parse_reference(r.as_str().unwrap()),
            Some(("lambda_function.scar-x", "arn"))
        );
        assert_eq!(parse_reference("plain"), None);
    }

    #[test]
    fn ownership_from_tags() {
        let t = ownership_tags("wf");
        assert_eq!(owner_of(Some(&t), "wf"), Owner::Workflow);
        assert_eq!(
            owner_of(Some(&t), "other"),
            Owner::OtherWorkflow("wf".into())
        );
        assert_eq!(owner_of(None, "wf"), Owner::Unmanaged);
        let stack = BTreeMap::from([(TAG_CLOUDFORMATION_STACK.to_string(), "photos".to_string())]);
        assert_eq!(owner_of(Some(&stack), "wf"), Owner::Stack("photos".into()));
    }
}

/// The resources a workflow needs, and what it asks for that scar cannot
/// deploy yet.
#[derive(Clone, Debug, Default)]
pub struct DesiredState {
    pub workflow: String,
    pub resources: BTreeMap<Addr, Resource>,
    /// The supervisor layer names the manifests use, also when nothing is
    /// desired (destroy): stale versions of them are looked for.
    pub layer_names: BTreeSet<String>,
    /// (function name, why it is not deployable yet).
    pub unsupported: Vec<(String, String)>,
    /// What the manifests say no plan may delete or replace
    /// (`prevent_destroy`), also when nothing is desired (destroy).
    pub protected: BTreeSet<Addr>,
}

impl DesiredState {
    /// Adds a wanted resource (replacing one at its address).
    pub fn add(&mut self, r: Resource) {
        self.resources.insert(r.addr.clone(), r);
    }
}

/// What observation found: every resource of the account that the plan
/// needs to look at, by address.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedState {
    pub resources: BTreeMap<Addr, Observed>,
    /// Things the manifests name that the account lacks (the ARNs of
    /// `iam.role`s that do not exist).
    pub missing: BTreeSet<String>,
    /// AWS requests observation made (for reports and benchmarks).
    pub requests: u64,
    /// What observation found worth a warning, as (code, message, hint):
    /// the plan shows them.
    pub warnings: Vec<(String, String, String)>,
}
