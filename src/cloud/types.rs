//! The project's own types for what the cloud holds and what scar asks it to
//! do. No AWS SDK type appears here; `cloud::aws` converts.

use std::collections::BTreeMap;

pub type Tags = BTreeMap<String, String>;

/// A Lambda function as the account reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionState {
    pub name: String,
    pub arn: String,
    pub role: String,
    /// `None` for image functions.
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub memory: u32,
    pub timeout: u32,
    pub description: String,
    /// Empty when the function has no environment.
    pub environment: BTreeMap<String, String>,
    /// Layer version ARNs, in the function's order.
    pub layers: Vec<String>,
    pub architectures: Vec<String>,
    /// Zip or image (`PackageType`); every listing reports it.
    pub package_type: PackageType,
    /// Lambda's `CodeSha256`: for a zip, the base64 SHA-256 of the
    /// package; for an image, the hex of the image's manifest digest.
    pub code_sha256: String,
    /// An image function's `Code.ImageUri`, as it was given; only
    /// GetFunction reports it (`None` from ListFunctions, and for zips).
    pub image_uri: Option<String>,
    /// An image function's `Code.ResolvedImageUri` (`repository@sha256:…`,
    /// the digest Lambda runs); GetFunction only.
    pub resolved_image_uri: Option<String>,
    pub vpc_subnet_ids: Vec<String>,
    pub vpc_security_group_ids: Vec<String>,
    /// (access point ARN, local mount path).
    pub file_systems: Vec<(String, String)>,
    /// Filled by calls that return tags (GetFunction, the tagging API).
    pub tags: Option<Tags>,
    /// `Pending`, `Active`, `Inactive`, `Failed` (absent: unknown).
    pub state: Option<String>,
    /// `InProgress`, `Successful`, `Failed` (absent: unknown).
    pub last_update_status: Option<String>,
}

impl FunctionState {
    /// The code the function runs, as desire writes it: `None` for an image
    /// function read from a listing (which gives no image URI).
    pub fn code(&self) -> Option<Code> {
        match self.package_type {
            PackageType::Zip => Some(Code::Zip {
                sha256: self.code_sha256.clone(),
            }),
            PackageType::Image => {
                let uri = self.image_uri.clone()?;
                let digest = self
                    .resolved_image_uri
                    .as_deref()
                    .and_then(image_digest)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("sha256:{}", self.code_sha256));
                Some(Code::Image { uri, digest })
            }
        }
    }
}

/// How a function's code is packaged (Lambda's `PackageType`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum PackageType {
    /// A deployment package run on a runtime (with a handler and layers).
    #[default]
    Zip,
    /// A container image (no runtime, handler or layers).
    Image,
}

impl PackageType {
    /// The name Lambda and the plan use (`Zip`, `Image`).
    pub fn as_str(self) -> &'static str {
        match self {
            PackageType::Zip => "Zip",
            PackageType::Image => "Image",
        }
    }

    /// The package type Lambda names so (`Zip` for anything unknown, as
    /// Lambda defaults to it).
    pub fn from_name(name: &str) -> Self {
        if name == "Image" {
            PackageType::Image
        } else {
            PackageType::Zip
        }
    }
}

/// What a function's code is, without its bytes: what desire plans and
/// observe compares. A zip's bytes travel beside the plan, as a
/// [`CodeArtifact`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    /// A zip package, by its base64 SHA-256 (Lambda's `CodeSha256`).
    Zip { sha256: String },
    /// A container image: its URI (by digest: `repository@sha256:…`) and
    /// its manifest digest (`sha256:…`).
    Image { uri: String, digest: String },
}

impl Code {
    pub fn package_type(&self) -> PackageType {
        match self {
            Code::Zip { .. } => PackageType::Zip,
            Code::Image { .. } => PackageType::Image,
        }
    }
}

/// The code scar sends to Lambda for a function: a zip's bytes, or the
/// reference of an image already in a registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeArtifact {
    /// The deployment package (`ZipFile`).
    Zip(Vec<u8>),
    /// The image URI (`ImageUri`), by digest.
    Image { uri: String },
}

impl CodeArtifact {
    pub fn package_type(&self) -> PackageType {
        match self {
            CodeArtifact::Zip(_) => PackageType::Zip,
            CodeArtifact::Image { .. } => PackageType::Image,
        }
    }

    /// Why this code cannot go to a function of `package`, if it cannot
    /// (a zip for an image function, or the reverse): Lambda refuses it.
    pub fn mismatch(&self, package: PackageType) -> Option<String> {
        let mine = self.package_type();
        (mine != package).then(|| {
            format!(
                "{} code given for a function of package type {}",
                mine.as_str(),
                package.as_str()
            )
        })
    }
}

/// The digest of an image reference by digest (`…@sha256:<hex>` gives
/// `sha256:<hex>`); `None` for a reference by tag.
pub fn image_digest(uri: &str) -> Option<&str> {
    uri.rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| d.contains(':'))
}

/// A function's deployed package read back, or why it could not be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PackageFetch {
    Zip(Vec<u8>),
    /// An image function: its code is the image, not a package; its URI
    /// and the digest-pinned URI Lambda resolved it to.
    Image {
        uri: String,
        resolved_uri: Option<String>,
    },
    Unavailable(String),
}

/// What a function runs on, by package type: a zip's runtime, handler and
/// layers; an image carries them inside itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PackageSpec {
    Zip {
        runtime: String,
        handler: String,
        /// Layer version ARNs, in order.
        layers: Vec<String>,
    },
    /// Image functions take no runtime, handler or layers (the image
    /// config, when scar sets one, goes here).
    Image,
}

impl Default for PackageSpec {
    fn default() -> Self {
        PackageSpec::Zip {
            runtime: String::new(),
            handler: String::new(),
            layers: Vec::new(),
        }
    }
}

impl PackageSpec {
    /// A zip on `runtime` with `handler`, without layers.
    pub fn zip(runtime: impl Into<String>, handler: impl Into<String>) -> Self {
        PackageSpec::Zip {
            runtime: runtime.into(),
            handler: handler.into(),
            layers: Vec::new(),
        }
    }

    pub fn package_type(&self) -> PackageType {
        match self {
            PackageSpec::Zip { .. } => PackageType::Zip,
            PackageSpec::Image => PackageType::Image,
        }
    }

    /// The layers (none for an image).
    pub fn layers(&self) -> &[String] {
        match self {
            PackageSpec::Zip { layers, .. } => layers,
            PackageSpec::Image => &[],
        }
    }
}

/// What scar asks Lambda to create or update (the code itself goes beside
/// it, as a [`CodeArtifact`] of the same package type).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionSpec {
    pub name: String,
    pub role: String,
    /// Zip (runtime, handler, layers) or image.
    pub package: PackageSpec,
    pub memory: u32,
    pub timeout: u32,
    pub description: String,
    pub environment: BTreeMap<String, String>,
    pub architectures: Vec<String>,
    pub vpc_subnet_ids: Vec<String>,
    pub vpc_security_group_ids: Vec<String>,
    pub file_systems: Vec<(String, String)>,
    /// Set in the CreateFunction call itself.
    pub tags: Tags,
}

/// One statement of a function's resource policy.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PermissionStatement {
    pub sid: String,
    /// `s3.amazonaws.com`, `apigateway.amazonaws.com`, ...
    pub principal: String,
    pub action: String,
    /// The `AWS:SourceArn` condition, if any.
    pub source_arn: Option<String>,
    /// The `AWS:SourceAccount` condition, if any.
    pub source_account: Option<String>,
}

/// A published layer version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerVersion {
    pub layer_name: String,
    /// The version ARN (`...:layer:<name>:<version>`).
    pub arn: String,
    pub version: i64,
    pub description: String,
}

/// A request to publish a layer version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSpec {
    pub layer_name: String,
    pub description: String,
    pub license_info: String,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<String>,
}

/// A CloudWatch Logs log group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogGroupState {
    pub name: String,
    pub retention_days: Option<u32>,
    /// Filled when asked for.
    pub tags: Option<Tags>,
}

/// One Lambda entry of a bucket's notification configuration.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LambdaNotification {
    pub id: String,
    pub function_arn: String,
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

/// A bucket's whole notification configuration. The entries scar does not
/// manage (other Lambda entries, queues, topics, EventBridge) are kept as
/// they were read, to be written back untouched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotificationConfig {
    pub lambda: Vec<LambdaNotification>,
    /// Queue, topic and EventBridge configuration, opaque to scar: JSON as
    /// read, re-sent as is.
    pub others: serde_json::Value,
}

/// A bucket as seen from the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketState {
    pub name: String,
    /// `None` when the bucket has no tag set.
    pub tags: Option<Tags>,
}

/// An IAM role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleState {
    pub name: String,
    pub arn: String,
    /// The trust policy, URL-decoded JSON.
    pub assume_role_policy: String,
    pub tags: Tags,
    /// Inline policies: name → JSON document (URL-decoded).
    pub inline_policies: BTreeMap<String, String>,
}

/// An IAM instance profile (the role EC2 instances run as).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstanceProfileState {
    pub name: String,
    pub arn: String,
    /// The names of its roles (at most one).
    pub roles: Vec<String>,
    pub tags: Tags,
}

/// An ECR repository as the account reports it (DescribeRepositories).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepositoryState {
    pub name: String,
    pub arn: String,
    /// `<account>.dkr.ecr.<region>.amazonaws.com/<name>`.
    pub uri: String,
    /// `MUTABLE` or `IMMUTABLE` (or their `_WITH_EXCLUSION` forms).
    pub image_tag_mutability: String,
    pub scan_on_push: bool,
    /// Filled when asked for (ListTagsForResource, the tagging API).
    pub tags: Option<Tags>,
}

/// What scar asks ECR to create: the tags go in the CreateRepository call
/// itself, so that a crash never leaves an untagged repository.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepositorySpec {
    pub name: String,
    pub image_tag_mutability: String,
    pub scan_on_push: bool,
    pub tags: Tags,
}

/// One image of a repository (ListImages): its manifest digest and the
/// tags on it (sorted; empty for an untagged image).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageState {
    pub digest: String,
    pub tags: Vec<String>,
}

/// Whether a name is a valid ECR repository name: 2 to 256 characters,
/// lowercase letters and digits in components separated by one `.`, `_`
/// or `-`, components joined by `/`.
pub fn valid_repository_name(name: &str) -> bool {
    (2..=256).contains(&name.len())
        && name.split('/').all(|part| {
            !part.is_empty()
                && part.split(['.', '_', '-']).all(|w| {
                    !w.is_empty()
                        && w.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                })
        })
}

/// A resource found through the tagging API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaggedResource {
    pub arn: String,
    pub tags: Tags,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_functions_code_is_its_uri_and_resolved_digest() {
        let f = FunctionState {
            package_type: PackageType::Image,
            code_sha256: "ff".into(),
            image_uri: Some("r.example/wf:latest".into()),
            resolved_image_uri: Some("r.example/wf@sha256:0a".into()),
            ..Default::default()
        };
        assert_eq!(
            f.code(),
            Some(Code::Image {
                uri: "r.example/wf:latest".into(),
                digest: "sha256:0a".into(),
            })
        );
        // Without a resolved URI, the digest is Lambda's CodeSha256.
        let f = FunctionState {
            resolved_image_uri: None,
            ..f
        };
        assert_eq!(
            f.code().map(|c| match c {
                Code::Image { digest, .. } => digest,
                Code::Zip { .. } => String::new(),
            }),
            Some("sha256:ff".into())
        );
        // From a listing (no URI): unknown.
        let listed = FunctionState {
            image_uri: None,
            ..f
        };
        assert_eq!(listed.code(), None);
    }

    #[test]
    fn a_zip_functions_code_is_its_hash() {
        let f = FunctionState {
            code_sha256: "abc=".into(),
            ..Default::default()
        };
        assert_eq!(
            f.code(),
            Some(Code::Zip {
                sha256: "abc=".into()
            })
        );
        assert_eq!(f.code().unwrap().package_type(), PackageType::Zip);
    }

    #[test]
    fn image_digest_reads_only_references_by_digest() {
        assert_eq!(image_digest("r:5000/a/b@sha256:12"), Some("sha256:12"));
        assert_eq!(image_digest("r:5000/a/b:tag"), None);
        assert_eq!(PackageType::from_name("Image"), PackageType::Image);
        assert_eq!(PackageType::from_name(""), PackageType::Zip);
    }
}
