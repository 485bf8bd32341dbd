//! The library's pipeline, what plan, apply and destroy share: load and
//! check the manifests, build the packages, desire, read the account,
//! plan. The commands add only their own output and questions.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use crate::apply::Artifacts;
use crate::cloud::{Cloud, Code, CodeArtifact};
use crate::desired::{self, Context, DesiredState};
use crate::manifest::{self, Manifest};
use crate::model::{Kind, ObservedState};
use crate::observe;
use crate::package;
use crate::plan::{self, Plan, Warning};
use crate::settings::Settings;

pub mod images;

/// The load options the command line gives (`--allow-files-in`).
pub fn load_options(args: &crate::cli::ManifestArgs) -> manifest::LoadOptions {
    manifest::LoadOptions {
        allow_files_in: args.allow_files_in.clone(),
    }
}

/// Loads the manifests with the command line's options and prints their
/// diagnostics on stderr, warnings and notes included (before any plan,
/// so that a pipeline's log shows them); fails on errors, and with
/// `strict` on warnings too. Returns the warnings and notes for the plan
/// documents.
pub fn load_manifest(
    paths: &[PathBuf],
    args: &crate::cli::ManifestArgs,
    strict: bool,
) -> anyhow::Result<(Manifest, Vec<Warning>)> {
    let mut loaded = manifest::load_with(paths, &load_options(args));
    if strict {
        loaded.make_strict();
    }
    if !loaded.diagnostics.is_empty() {
        eprint!(
            "{}",
            manifest::diag::render_text(&loaded.sources, &loaded.diagnostics)
        );
    }
    let errors = loaded.error_count();
    if errors > 0 {
        anyhow::bail!(
            "the manifests have {errors} error{}{}\nhint: run `scar validate` for every diagnostic",
            if errors == 1 { "" } else { "s" },
            if strict {
                " (warnings count as errors with --strict)"
            } else {
                ""
            },
        );
    }
    let warnings = loaded
        .diagnostics
        .iter()
        .map(|d| {
            let j = manifest::diag::to_json(&loaded.sources, d);
            Warning {
                severity: match d.severity {
                    manifest::Severity::Note => "note",
                    _ => "warning",
                }
                .to_string(),
                code: j.code.to_string(),
                message: j.message,
                location: j.file.map(|f| match (j.line, j.column) {
                    (Some(l), Some(c)) => format!("{f}:{l}:{c}"),
                    _ => f,
                }),
                hint: j.hint,
            }
        })
        .collect();
    let m = loaded.manifest.context("no manifest could be read")?;
    Ok((m, warnings))
}

/// What a plan is made from, for saved plans: the manifest paths as
/// given, each file read with its hash, and the load options.
pub fn inputs(
    paths: &[PathBuf],
    args: &crate::cli::ManifestArgs,
    strict: bool,
    targets: &[String],
    m: &Manifest,
) -> crate::plan::Inputs {
    let text = |p: &PathBuf| p.display().to_string();
    crate::plan::Inputs {
        paths: paths.iter().map(text).collect(),
        files: m.files.clone(),
        allow_files_in: args.allow_files_in.iter().map(text).collect(),
        strict,
        targets: targets.to_vec(),
    }
}

/// Narrows a plan to `--target` addresses and what they need, with a
/// warning on stderr and in the plan that the rest was not planned.
pub fn apply_targets(plan: &mut Plan, targets: &[String]) -> anyhow::Result<()> {
    if targets.is_empty() {
        return Ok(());
    }
    let mut addrs = Vec::new();
    for t in targets {
        let a = crate::model::Addr::parse(t).with_context(|| {
            format!("`--target {t}` is not a resource address\nhint: give one as plan shows it, e.g. `lambda_function.NAME` or `s3_bucket.NAME`")
        })?;
        addrs.push(a);
    }
    plan::target(plan, &addrs).map_err(|e| anyhow::anyhow!(e))?;
    let message = format!(
        "resource targeting is in effect: only {} and what they need were planned; the rest of the workflow was not, so this plan may be incomplete. Use --target for exceptional cases only",
        targets.join(", ")
    );
    eprintln!("warning: {message}");
    plan.warnings.push(Warning {
        severity: "warning".into(),
        code: "targeted".into(),
        message,
        location: None,
        hint: None,
    });
    Ok(())
}

/// Finds the supervisor layer zip: `--supervisor-layer` (`given`), else
/// `SCAR_SUPERVISOR_LAYER` (as the settings read it), else
/// `supervisor-layer.zip` beside the `scar` binary or one folder up
/// (`target/`), else `target/supervisor-layer.zip`.
pub fn find_layer(given: Option<&Path>, settings: &Settings) -> anyhow::Result<PathBuf> {
    if let Some(p) = given.or(settings.supervisor_layer.as_deref()) {
        return Ok(p.to_path_buf());
    }
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join("supervisor-layer.zip"));
            if let Some(up) = dir.parent() {
                candidates.push(up.join("supervisor-layer.zip"));
            }
        }
    }
    candidates.push(PathBuf::from("target/supervisor-layer.zip"));
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .context("neither the supervisor layer zip nor the supervisor was found\nhint: install both binaries with `scripts/install.sh`, or pass `--supervisor PATH` (a static `scar-supervisor`) or `--supervisor-layer ZIP`")
}

/// The supervisor layer zip's bytes: the zip `--supervisor-layer` or
/// SCAR_SUPERVISOR_LAYER names; else one made here from the supervisor
/// `--supervisor` or SCAR_SUPERVISOR names; else the zip [`find_layer`]
/// finds; else one made from `scar-supervisor` beside scar or on PATH (as
/// an installed scar has it). A supervisor is checked to start on Lambda
/// first.
pub fn read_layer(given: Option<&Path>, settings: &Settings) -> anyhow::Result<Vec<u8>> {
    // A zip named, then a supervisor named, then a zip found, then a
    // supervisor found.
    let named_zip = given.or(settings.supervisor_layer.as_deref()).is_some();
    let found = if named_zip || settings.supervisor.is_none() {
        find_layer(given, settings)
    } else {
        Err(anyhow::anyhow!("a supervisor was named"))
    };
    let not_found = match found {
        Ok(layer) => {
            return std::fs::read(&layer)
                .with_context(|| format!("cannot read the supervisor layer `{}`", layer.display()))
        }
        Err(e) => e,
    };
    let exe = std::env::current_exe().ok();
    let Some(bin) = crate::image::supervisor::find(
        settings.supervisor.as_deref(),
        exe.as_deref(),
        settings.search_path.as_deref(),
    ) else {
        return Err(not_found);
    };
    crate::image::supervisor::check_file(&bin, "x86_64")?;
    let bytes = std::fs::read(&bin)
        .with_context(|| format!("cannot read the supervisor {}", bin.display()))?;
    package::layer_zip(&bytes).context("cannot build the supervisor layer")
}

/// Everything a plan was made from.
pub struct Planned {
    pub desired: DesiredState,
    pub observed: ObservedState,
    pub plan: Plan,
    pub artifacts: Arc<Artifacts>,
}

/// Where function images come from: the registries configuration, the
/// Docker credentials file and the supervisor that goes into them.
#[derive(Clone, Debug, Default)]
pub struct ImageSources {
    /// `containers-registries.conf(5)` (`None`: the system's, if any).
    pub registries_conf: Option<PathBuf>,
    /// The Docker credentials file (`None`: none).
    pub docker_config: Option<PathBuf>,
    /// The supervisor executable (`--supervisor`, SCAR_SUPERVISOR); else
    /// it is looked for ([`crate::image::supervisor::find`]).
    pub supervisor: Option<PathBuf>,
    /// `PATH`, to look for it on.
    pub search_path: Option<String>,
}

impl ImageSources {
    /// The sources the settings name.
    pub fn from_settings(settings: &Settings) -> ImageSources {
        ImageSources {
            registries_conf: settings.registries_conf.clone(),
            docker_config: settings.docker_config.clone(),
            supervisor: settings.supervisor.clone(),
            search_path: settings.search_path.clone(),
        }
    }
}

/// Builds the packages, reads the account and plans, with the package
/// cache the settings name ([`Settings::cache`]), as the commands do. With
/// `destroy`, the desired state is empty: the plan deletes what the
/// workflow owns.
pub async fn plan_workflow<C: Cloud>(
    cloud: Arc<C>,
    m: &Manifest,
    layer_zip: Option<Vec<u8>>,
    destroy: bool,
    settings: &Settings,
) -> anyhow::Result<Planned> {
    plan_workflow_with(
        cloud,
        m,
        layer_zip,
        destroy,
        settings.cache.as_ref(),
        &ImageSources::from_settings(settings),
    )
    .await
}

/// [`plan_workflow`] with a given package cache (`None`: no cache; the
/// previous packages of code updates are read back from the cloud only)
/// and no registries configuration.
pub async fn plan_workflow_in<C: Cloud>(
    cloud: Arc<C>,
    m: &Manifest,
    layer_zip: Option<Vec<u8>>,
    destroy: bool,
    cache: Option<&package::Cache>,
) -> anyhow::Result<Planned> {
    plan_workflow_with(
        cloud,
        m,
        layer_zip,
        destroy,
        cache,
        &ImageSources::default(),
    )
    .await
}

/// [`plan_workflow`] with a given package cache and image sources.
pub async fn plan_workflow_with<C: Cloud>(
    cloud: Arc<C>,
    m: &Manifest,
    layer_zip: Option<Vec<u8>>,
    destroy: bool,
    cache: Option<&package::Cache>,
    sources: &ImageSources,
) -> anyhow::Result<Planned> {
    plan_in_scope(cloud, m, layer_zip, destroy, cache, sources, None).await
}

/// [`plan_workflow`] of only the resources of the kinds in `scope`: the
/// others are neither wanted nor read (`scar ls` leaves out what
/// functions share, buckets and their notifications, which cost requests
/// per bucket).
pub async fn plan_workflow_of<C: Cloud>(
    cloud: Arc<C>,
    m: &Manifest,
    layer_zip: Option<Vec<u8>>,
    settings: &Settings,
    scope: &BTreeSet<Kind>,
) -> anyhow::Result<Planned> {
    plan_in_scope(
        cloud,
        m,
        layer_zip,
        false,
        settings.cache.as_ref(),
        &ImageSources::from_settings(settings),
        Some(scope),
    )
    .await
}

async fn plan_in_scope<C: Cloud>(
    cloud: Arc<C>,
    m: &Manifest,
    layer_zip: Option<Vec<u8>>,
    destroy: bool,
    cache: Option<&package::Cache>,
    sources: &ImageSources,
    scope: Option<&BTreeSet<Kind>>,
) -> anyhow::Result<Planned> {
    let mut artifacts = Artifacts::default();
    let mut ctx = Context {
        account_id: cloud.account_id().to_string(),
        region: cloud.region().to_string(),
        layer_sha256: String::new(),
        code: Default::default(),
        scripts: Default::default(),
        configs: Default::default(),
        images: Default::default(),
    };
    let desired = if destroy {
        DesiredState {
            workflow: m.workflow.clone(),
            layer_names: desired::layer_names(m),
            protected: crate::resources::protected(m),
            ..Default::default()
        }
    } else {
        let zip = layer_zip.unwrap_or_default();
        ctx.layer_sha256 = package::hex_sha256(&zip);
        let mut images = images::Builder::new(&*cloud, m, sources, cache, &zip).await?;
        for f in &m.functions {
            let p = package::build(m, f)?;
            ctx.configs.insert(f.name().to_string(), p.config.clone());
            if let Some(s) = &p.script {
                ctx.scripts.insert(f.name().to_string(), s.clone());
            }
            if let Some((uri, digest)) = images.as_is(f).await? {
                ctx.code.insert(
                    f.name().to_string(),
                    Code::Image {
                        uri: uri.clone(),
                        digest,
                    },
                );
                artifacts
                    .code
                    .insert(f.name().to_string(), CodeArtifact::Image { uri });
                continue;
            }
            if let Some(built) = images.build(m, f, &p).await? {
                if let Some(c) = cache {
                    c.remember(&built.digest, &p.view());
                }
                let uri = format!("{}@{}", built.repository, built.digest);
                ctx.code.insert(
                    f.name().to_string(),
                    Code::Image {
                        uri: uri.clone(),
                        digest: built.digest.clone(),
                    },
                );
                artifacts
                    .code
                    .insert(f.name().to_string(), CodeArtifact::Image { uri });
                ctx.images.insert(f.name().to_string(), built.wanted);
                artifacts.images.insert(f.name().to_string(), built.image);
                continue;
            }
            if let Some(c) = cache {
                c.remember(&p.sha256, &p.view());
            }
            ctx.code.insert(
                f.name().to_string(),
                Code::Zip {
                    sha256: p.sha256.clone(),
                },
            );
            artifacts
                .code
                .insert(f.name().to_string(), CodeArtifact::Zip(p.zip));
        }
        (artifacts.registries, artifacts.scratch) = images.finish();
        artifacts.layer_zip = zip;
        desired::desire(m, &ctx)
    };
    let mut desired = desired;
    if let Some(scope) = scope {
        desired.resources.retain(|a, _| scope.contains(&a.kind));
    }
    let mut observed = observe::observe_scoped(
        cloud.clone(),
        &desired,
        artifacts.registries.clone(),
        scope.cloned(),
    )
    .await
    .context("reading the account")?;
    observe::previous_packages(cloud, &desired, &mut observed, cache).await;
    let mut plan = plan::plan(&desired, &observed);
    for (code, message, hint) in &observed.warnings {
        eprintln!("warning: {message}\nhint: {hint}");
        plan.warnings.push(Warning {
            severity: "warning".into(),
            code: code.clone(),
            message: message.clone(),
            location: None,
            hint: Some(hint.clone()),
        });
    }
    if let Some(hint) = plan::rename_hint(&desired, &observed) {
        eprintln!("warning: {hint}");
        plan.warnings.push(Warning {
            severity: "warning".into(),
            code: "workflow-renamed".into(),
            message: hint,
            location: None,
            hint: None,
        });
    }
    Ok(Planned {
        desired,
        observed,
        plan,
        artifacts: Arc::new(artifacts),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(layer: Option<&str>) -> Settings {
        let global = crate::cli::GlobalArgs {
            profile: None,
            region: None,
            timeout: 60,
            connect_timeout: 5,
            verbose: 0,
        };
        let mut env = crate::settings::Environment::new();
        if let Some(l) = layer {
            env.insert("SCAR_SUPERVISOR_LAYER".into(), l.into());
        }
        Settings::new(&global, &env, false)
    }

    #[test]
    fn the_layer_flag_wins_over_the_layer_the_settings_name() {
        let s = settings(Some("/from/env/layer.zip"));
        assert_eq!(
            find_layer(None, &s).unwrap(),
            PathBuf::from("/from/env/layer.zip")
        );
        assert_eq!(
            find_layer(Some(Path::new("/flag/layer.zip")), &s).unwrap(),
            PathBuf::from("/flag/layer.zip")
        );
    }
}
