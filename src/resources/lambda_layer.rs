//! `lambda_layer`: the supervisor, one version per content hash (kept in
//! the version's description), shared by every workflow. A new build is a
//! new version, never a replacement, and its ARN (the functions' `layers`)
//! is known only after apply. A version scar published that no function
//! uses any longer (an observed fact) is deleted, after the workflow's
//! functions have moved off it; its address is `<layer name>:<version>`.
//! Observed with ListLayerVersions per layer name.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::support::{arn_output, from_attrs, wanted};
use super::{
    lambda_function, Desire, Fingerprint, Found, KindRules, Observation, Outputs, PlanContext,
    Removal, Replacement, Step,
};
use crate::cloud::retry::retry;
use crate::cloud::{Cloud, CloudError, ErrorKind, LayerSpec};
use crate::manifest::FunctionDef;
use crate::model::{Addr, DesiredState, Kind, Observed, Owner, FACT_UNUSED_LAYER};

pub struct LambdaLayer;

/// The runtime the supervisor layer (and every zip function) runs on.
pub const RUNTIME: &str = "provided.al2023";

/// A supervisor layer version's attributes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerAttrs {
    /// Hex SHA-256 of the layer zip.
    pub content_sha256: String,
    pub compatible_runtimes: Vec<String>,
    pub license_info: String,
}

impl KindRules for LambdaLayer {
    fn fingerprint(&self) -> Fingerprint {
        // A layer version is immutable: what is there is what was applied.
        Fingerprint::Content
    }

    fn create_reason(&self) -> &'static str {
        "no layer version holds this supervisor build"
    }

    fn unmanaged(&self) -> Found {
        // Content-addressed and shared: the version of this build is used.
        Found::Adopt(None)
    }

    fn replacement(&self) -> Replacement {
        Replacement::InPlace
    }

    fn removal(&self, have: &Observed, ctx: &PlanContext) -> Removal {
        if have.facts.get(FACT_UNUSED_LAYER) != Some(&Value::Bool(true)) {
            return Removal::Skip;
        }
        Removal::Delete {
            reason: "a supervisor layer version scar published that no function uses any longer"
                .into(),
            after: lambda_function::desired(ctx.desired),
        }
    }
}

/// The description of a supervisor layer version: holds the content hash.
pub fn layer_description(sha256_hex: &str) -> String {
    format!("scar-supervisor sha256:{sha256_hex}")
}

/// Whether a layer version's description says scar published it.
fn is_scar_layer(description: &str) -> bool {
    description.starts_with(&layer_description(""))
}

/// The supervisor layer the functions run on (the first function's
/// `supervisor.layer_name`).
pub fn supervisor(functions: &[&FunctionDef]) -> Addr {
    let name = functions
        .first()
        .map(|f| f.spec.lambda.supervisor.layer_name.as_str())
        .unwrap_or_default();
    Addr::new(Kind::LambdaLayer, name)
}

pub fn desire(d: &Desire, out: &mut DesiredState) {
    let Some(first) = d.functions.first() else {
        return;
    };
    let a = supervisor(d.functions);
    let attrs = LayerAttrs {
        content_sha256: d.ctx.layer_sha256.clone(),
        compatible_runtimes: vec![RUNTIME.into()],
        license_info: first.spec.lambda.supervisor.license_info.clone(),
    };
    out.add(wanted(a, &attrs));
}

/// The version with the wanted content, if published, and the versions
/// scar published that no function outside the workflow uses (this
/// workflow's functions move to the wanted version or go away).
pub async fn observe<C: Cloud>(o: &mut Observation<'_, C>) -> Result<(), CloudError> {
    for layer_name in o.desired.layer_names.clone() {
        let addr = Addr::new(Kind::LambdaLayer, &layer_name);
        let want = o.desired.resources.get(&addr);
        let wanted_description = want.map(|want| {
            layer_description(
                &from_attrs::<LayerAttrs>(&addr, &want.attrs)
                    .unwrap_or_default()
                    .content_sha256,
            )
        });
        let want_attrs = want.map(|w| w.attrs.clone());
        let mut versions = o.cloud.list_layer_versions(&layer_name).await?;
        // Oldest first: of two versions with the same content (concurrent
        // applies), the oldest is the one used.
        versions.sort_by_key(|v| v.version);
        let mut found = false;
        for v in &versions {
            if !found && Some(&v.description) == wanted_description.as_ref() {
                found = true;
                if let Some(attrs) = &want_attrs {
                    o.insert(Observed {
                        addr: addr.clone(),
                        attrs: attrs.clone(),
                        owner: Owner::Unmanaged,
                        outputs: arn_output(v.arn.clone()),
                        facts: Default::default(),
                        applied: None,
                    });
                }
                continue;
            }
            if !is_scar_layer(&v.description) || o.layers_in_use.contains(&v.arn) {
                continue;
            }
            let stale = Addr::new(Kind::LambdaLayer, format!("{layer_name}:{}", v.version));
            o.insert(Observed {
                addr: stale,
                attrs: Default::default(),
                owner: Owner::Workflow,
                outputs: arn_output(v.arn.clone()),
                facts: [(FACT_UNUSED_LAYER.to_string(), Value::Bool(true))].into(),
                applied: None,
            });
        }
    }
    Ok(())
}

pub async fn delete<C: Cloud>(cloud: &C, s: &Step<'_>) -> Result<(), CloudError> {
    let name = s.addr.name.as_str();
    // `<layer name>:<version>`: a version no function uses any longer.
    let (layer, version) = name.rsplit_once(':').unwrap_or((name, ""));
    let version: i64 = version.parse().map_err(|_| {
        CloudError::with_kind(
            format!("deleting {}", s.addr),
            ErrorKind::Invalid,
            "not a layer version address",
        )
    })?;
    retry(|| cloud.delete_layer_version(layer, version)).await?;
    Ok(())
}

pub async fn write<C: Cloud>(
    cloud: &C,
    s: &Step<'_>,
    want: LayerAttrs,
) -> Result<Outputs, CloudError> {
    let name = s.addr.name.as_str();
    let spec = LayerSpec {
        layer_name: name.to_string(),
        description: layer_description(&want.content_sha256),
        license_info: want.license_info,
        compatible_runtimes: want.compatible_runtimes,
        compatible_architectures: vec!["x86_64".into()],
    };
    let v = retry(|| cloud.publish_layer_version(&spec, &s.artifacts.layer_zip)).await?;
    // Another apply may have published the same content meanwhile: the
    // oldest version of it is the one used, a later one of ours is removed
    // again.
    let versions = retry(|| cloud.list_layer_versions(name)).await?;
    let oldest = versions
        .iter()
        .filter(|o| o.description == spec.description)
        .min_by_key(|o| o.version)
        .cloned()
        .unwrap_or_else(|| v.clone());
    if oldest.version < v.version {
        retry(|| cloud.delete_layer_version(name, v.version)).await?;
    }
    Ok(arn_output(oldest.arn))
}
