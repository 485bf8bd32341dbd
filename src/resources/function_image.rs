//! `function_image`: the image a function runs, in its ECR repository,
//! identified by digest (one per function that builds an image; named
//! after the function). Its attributes say what it is made of: the base
//! (as the manifest names it, and the digest that name resolved to), and
//! the hashes of the supervisor, the config and the script, as the
//! image's own labels record them ([`crate::image::build::LABELS`]). So a
//! plan shows why an image changes: `base_digest` changed is the base tag
//! now pointing at another image; `script`, `function_config` or
//! `supervisor` changed is the appended layer.
//!
//! Observed through the registry, read-only: the image the function runs
//! now (its labels, when that is not the wanted digest), or whether the
//! repository already holds the wanted digest (an earlier apply pushed it
//! and stopped before the function). Written by a push of only what the
//! repository lacks, tagged [`scar_image_tag`]. Never deleted on its own:
//! scar's images go with their repository (`ecr_repository`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ecr_repository::{self, builds_image, repository_name, scar_image_tag};
use super::support::{observed, wanted};
use super::{
    Desire, Fingerprint, KindRules, Observation, Outputs, PlanContext, Removal, Replacement, Step,
};
use crate::cloud::{Cloud, CloudError, ErrorKind};
use crate::image::build::{
    LABEL_BASE, LABEL_BASE_DIGEST, LABEL_CONFIG, LABEL_SCRIPT, LABEL_SUPERVISOR,
};
use crate::image::reference::ImageRef;
use crate::model::{Addr, DesiredState, Kind, Observed, Owner};

pub struct FunctionImage;

/// An image's attributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageAttrs {
    /// The repository it is pushed to (`<registry>/<name>`).
    pub repository: String,
    /// The base image as the manifest names it (normalized).
    pub base: String,
    /// The base's digest for the function's platform.
    pub base_digest: String,
    /// `sha256:` of the supervisor executable.
    pub supervisor: String,
    /// `sha256:` of `function_config.yaml`.
    pub function_config: String,
    /// `sha256:` of the script, if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// The image's manifest digest: what the function runs.
    pub digest: String,
}

/// What the plan wants of a function's image (computed by the pipeline,
/// [`crate::image::build`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WantedImage {
    /// `<registry>/<name>` of the function's repository.
    pub repository: String,
    pub digest: String,
    /// The image's labels ([`crate::image::build::LABELS`]).
    pub labels: BTreeMap<String, String>,
}

impl WantedImage {
    /// The URI the function runs: the repository at the digest.
    pub fn uri(&self) -> String {
        format!("{}@{}", self.repository, self.digest)
    }
}

/// An image's attributes from its labels.
fn attrs_of(repository: &str, digest: &str, labels: &BTreeMap<String, String>) -> ImageAttrs {
    let label = |k: &str| labels.get(k).cloned().unwrap_or_default();
    ImageAttrs {
        repository: repository.to_string(),
        base: label(LABEL_BASE),
        base_digest: label(LABEL_BASE_DIGEST),
        supervisor: label(LABEL_SUPERVISOR),
        function_config: label(LABEL_CONFIG),
        script: labels.get(LABEL_SCRIPT).cloned(),
        digest: digest.to_string(),
    }
}

impl KindRules for FunctionImage {
    fn fingerprint(&self) -> Fingerprint {
        // An image by digest is its content.
        Fingerprint::Content
    }

    fn create_reason(&self) -> &'static str {
        "is not in the function's repository yet"
    }

    fn replacement(&self) -> Replacement {
        // A new image is a new push; the old one stays until its
        // repository goes.
        Replacement::InPlace
    }

    fn removal(&self, _have: &Observed, _ctx: &PlanContext) -> Removal {
        Removal::Skip
    }
}

/// A function's image address.
pub fn addr(function: &str) -> Addr {
    Addr::new(Kind::FunctionImage, function)
}

/// One image for each function scar builds one for, as the pipeline
/// computed it.
pub fn desire(d: &Desire, out: &mut DesiredState) {
    for f in d.functions.iter().filter(|f| builds_image(f)) {
        let Some(img) = d.ctx.images.get(f.name()) else {
            continue;
        };
        let attrs = attrs_of(&img.repository, &img.digest, &img.labels);
        out.add(
            wanted(addr(f.name()), &attrs).dep(ecr_repository::addr(&repository_name(f.name()))),
        );
    }
}

fn registry_error(op: String, e: impl std::error::Error + Send + Sync + 'static) -> CloudError {
    CloudError::with_kind(op, ErrorKind::Other, e)
}

/// The wanted images, read from their registries (after `lambda_function`,
/// whose observed image URI says what each function runs now).
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    let wanted = o.wanted(Kind::FunctionImage);
    if wanted.is_empty() {
        return Ok(());
    }
    let Some(registries) = o.registries.clone() else {
        return Err(CloudError::with_kind(
            "reading the function images",
            ErrorKind::Invalid,
            "no registry client was given",
        ));
    };
    for name in wanted {
        let want_addr = addr(&name);
        let Ok(want) =
            super::from_attrs::<ImageAttrs>(&want_addr, &o.desired.resources[&want_addr].attrs)
        else {
            continue;
        };
        let repo = ImageRef::parse(&want.repository)
            .map_err(|e| registry_error(format!("reading the image of {name}"), e))?;
        let running = o
            .out
            .resources
            .get(&super::lambda_function::addr(&name))
            .and_then(|f| f.attrs.get(super::lambda_function::ATTR_IMAGE_URI))
            .and_then(|v| v.as_str())
            .and_then(|uri| uri.strip_prefix(&format!("{}@", want.repository)))
            .map(str::to_string);
        let op = || format!("reading the image of {name} from {}", want.repository);
        match running {
            Some(digest) if digest != want.digest => {
                let config = registries
                    .read_config(&repo, &digest)
                    .await
                    .map_err(|e| registry_error(op(), e))?;
                let labels = config
                    .map(|c| crate::image::build::read_labels(&c))
                    .unwrap_or_default();
                let have = attrs_of(&want.repository, &digest, &labels);
                o.insert(observed(want_addr, &have, Owner::Workflow));
            }
            _ => {
                if registries
                    .has_manifest(&repo, &want.digest)
                    .await
                    .map_err(|e| registry_error(op(), e))?
                {
                    o.insert(observed(want_addr, &want, Owner::Workflow));
                }
            }
        }
    }
    Ok(())
}

/// Images are never deleted on their own (see the module's notes).
pub async fn delete<C: Cloud>(_cloud: &C, _s: &Step<'_>) -> Result<(), CloudError> {
    Ok(())
}

/// Pushes the image: only the blobs the repository lacks, then the
/// manifest, tagged with its own digest.
pub async fn write<C: Cloud>(
    _cloud: &C,
    s: &Step<'_>,
    want: ImageAttrs,
) -> Result<Outputs, CloudError> {
    let name = s.addr.name.as_str();
    let op = || format!("pushing the image of {name} to {}", want.repository);
    let (Some(img), Some(registries)) = (s.artifacts.images.get(name), &s.artifacts.registries)
    else {
        return Err(CloudError::with_kind(
            op(),
            ErrorKind::Invalid,
            "no image was built for it",
        ));
    };
    if img.digest != want.digest {
        return Err(CloudError::with_kind(
            op(),
            ErrorKind::Invalid,
            format!(
                "the image built is {}, the plan says {}; make the plan again with `scar plan`",
                img.digest, want.digest
            ),
        ));
    }
    let dest = ImageRef::parse(&want.repository).map_err(|e| registry_error(op(), e))?;
    let report = registries
        .push(
            &dest,
            &img.base,
            &img.layer_path,
            &img.layer,
            &img.config,
            &img.manifest,
            Some(&scar_image_tag(&img.digest)),
        )
        .await
        .map_err(|e| registry_error(op(), e))?;
    tracing::info!(
        function = name,
        digest = %report.digest,
        uploaded = report.uploaded,
        mounted = report.mounted,
        skipped = report.skipped,
        bytes_sent = report.bytes_sent,
        "pushed the function image"
    );
    Ok(BTreeMap::from([(
        "uri".to_string(),
        format!("{}@{}", want.repository, report.digest),
    )]))
}
