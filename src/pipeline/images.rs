//! The plan's half of the function images: for each function that builds
//! one, resolve its base (read-only), assemble the image with the
//! supervisor, the config and the script ([`crate::image::build`]), and
//! give desire the digest and apply what to push. Every error here comes
//! before any change, naming the function and the image.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use super::ImageSources;
use crate::cloud::Cloud;
use crate::image::archive;
use crate::image::auth::Credentials;
use crate::image::build::{self, FunctionImage, Supervisor, TaskFile};
use crate::image::reference::ImageRef;
use crate::image::registries::RegistriesConf;
use crate::image::registry::Registries;
use crate::image::supervisor;
use crate::manifest::files::{self, FileKey};
use crate::manifest::{FunctionDef, Manifest};
use crate::package::{self, Package};
use crate::resources::{builds_image, repository_name, WantedImage};

/// The ECR registry of an account in a region.
pub fn ecr_registry(account: &str, region: &str) -> String {
    format!("{account}.dkr.ecr.{region}.amazonaws.com")
}

/// One function's image, as desire and apply take it.
pub struct Built {
    /// `<registry>/<repository>`.
    pub repository: String,
    pub digest: String,
    pub wanted: WantedImage,
    pub image: FunctionImage,
}

/// What the images of one plan share: the registries (with credentials),
/// the supervisor, and the folder the layers are written to.
pub struct Builder {
    registries: Option<Arc<Registries>>,
    supervisor: Option<Supervisor>,
    layers: PathBuf,
    /// Where image archives (`container.image_file`) are unpacked.
    archives: PathBuf,
    scratch: Option<Arc<tempfile::TempDir>>,
    ecr: String,
}

/// The function's architecture (Lambda's default, `x86_64`, when none).
fn architecture(f: &FunctionDef) -> String {
    f.spec
        .lambda
        .architectures
        .first()
        .and_then(|a| serde_json::to_value(a).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "x86_64".into())
}

/// The supervisor's `bootstrap` in the layer zip, written to `dir` (for
/// a scar that has the layer zip and no `scar-supervisor` beside it).
fn supervisor_from_layer(zip: &[u8], dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    use std::io::Read;
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(zip)) else {
        return Ok(None);
    };
    let Ok(mut entry) = archive.by_name("bootstrap") else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    entry
        .read_to_end(&mut bytes)
        .context("cannot read `bootstrap` from the supervisor layer")?;
    let path = dir.join(format!("supervisor-{}", crate::hash::hex_sha256(&bytes)));
    if !path.is_file() {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let tmp = dir.join(format!(".supervisor.{}.tmp", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o755)
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::io::Write::write_all(&mut f, &bytes)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(Some(path))
}

impl Builder {
    /// Gets ready for the images of `m`: nothing is read or looked for
    /// when no function builds one.
    pub async fn new<C: Cloud>(
        cloud: &C,
        m: &Manifest,
        sources: &ImageSources,
        cache: Option<&package::Cache>,
        layer_zip: &[u8],
    ) -> anyhow::Result<Builder> {
        let ecr = ecr_registry(cloud.account_id(), cloud.region());
        // Functions that read an image (and need the registries), and those
        // scar builds one for (and need the supervisor).
        let reads: Vec<&FunctionDef> = m
            .functions
            .iter()
            .filter(|f| crate::desired::deployable(f))
            .filter(|f| {
                let c = &f.spec.lambda.container;
                c.image.is_some() || c.image_file.is_some()
            })
            .collect();
        let wanted: Vec<&FunctionDef> = reads.iter().copied().filter(|f| builds_image(f)).collect();
        let (layers, scratch) = match cache {
            Some(c) => (c.layers_dir(), None),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("scar-images-")
                    .tempdir()
                    .context("cannot create a folder for the image layers")?;
                (t.path().to_path_buf(), Some(Arc::new(t)))
            }
        };
        let archives = layers.with_file_name("archives");
        if reads.is_empty() {
            return Ok(Builder {
                registries: None,
                supervisor: None,
                layers,
                archives,
                scratch,
                ecr,
            });
        }
        // The supervisor, checked for every architecture the images run on.
        let sup = if wanted.is_empty() {
            None
        } else {
            let exe = std::env::current_exe().ok();
            let found = match supervisor::find(
                sources.supervisor.as_deref(),
                exe.as_deref(),
                sources.search_path.as_deref(),
            ) {
                Some(p) => p,
                None => supervisor_from_layer(layer_zip, &layers)?
                    .ok_or(supervisor::SupervisorError::NotFound)?,
            };
            for f in &wanted {
                supervisor::check_file(&found, &architecture(f))?;
            }
            Some(
                Supervisor::at(&found)
                    .with_context(|| format!("cannot read the supervisor {}", found.display()))?,
            )
        };
        // The registries, with the Docker logins and the account's ECR.
        let conf = RegistriesConf::load_configured(sources.registries_conf.as_deref())?;
        let mut credentials = match &sources.docker_config {
            Some(p) => Credentials::from_docker_config(p)?,
            None => Credentials::default(),
        };
        let (user, password) = cloud
            .authorization_token()
            .await
            .map_err(|e| anyhow::anyhow!(e.chain_text()))
            .context("cannot get the credentials of the account's ECR registry")?;
        credentials.insert(&ecr, user, password);
        Ok(Builder {
            registries: Some(Arc::new(Registries::with_credentials(conf, credentials))),
            supervisor: sup,
            layers,
            archives,
            scratch,
            ecr,
        })
    }

    /// The image `f` runs as it is (an ECR image without `create_image:
    /// true`, as SCAR runs it), resolved to a digest for the function's
    /// platform: its URI by digest and the digest. `None` for any other
    /// function.
    pub async fn as_is(&self, f: &FunctionDef) -> anyhow::Result<Option<(String, String)>> {
        let Some(registries) = &self.registries else {
            return Ok(None);
        };
        let c = &f.spec.lambda.container;
        let Some(given) = c.image.as_deref() else {
            return Ok(None);
        };
        if builds_image(f) || !crate::desired::deployable(f) {
            return Ok(None);
        }
        let within = || format!("function `{}`: container.image `{given}`", f.name());
        let image = ImageRef::parse(given).with_context(within)?;
        let base = registries
            .resolve(&image, &architecture(f))
            .await
            .with_context(within)?;
        Ok(Some((
            format!("{}@{}", image.name(), base.digest),
            base.digest,
        )))
    }

    /// The image of `f`, if it builds one (`p`: its package's files): on
    /// its `container.image_file` if it names one (as SCAR, which then
    /// ignores `container.image`), else on its `container.image`.
    pub async fn build(
        &mut self,
        m: &Manifest,
        f: &FunctionDef,
        p: &Package,
    ) -> anyhow::Result<Option<Built>> {
        let (Some(registries), Some(sup)) = (&self.registries, &self.supervisor) else {
            return Ok(None);
        };
        if !crate::desired::deployable(f) || !builds_image(f) {
            return Ok(None);
        }
        let name = f.name();
        let c = &f.spec.lambda.container;
        let base = if let Some(given) = c.image_file.as_deref() {
            let within = || format!("function `{name}`: container.image_file `{given}`");
            let file = files::resolve(m.file_roots(f), given, FileKey::ImageFile)
                .map_err(|e| anyhow::anyhow!("{e}\nhint: {}", e.hint()))
                .with_context(within)?;
            archive::open(given, &file.path, &architecture(f), &self.archives)
                .with_context(within)?
        } else if let Some(given) = c.image.as_deref() {
            let within = || format!("function `{name}`: container.image `{given}`");
            let image = ImageRef::parse(given).with_context(within)?;
            registries
                .resolve(&image, &architecture(f))
                .await
                .with_context(within)?
        } else {
            return Ok(None);
        };
        let files: Vec<TaskFile> = p
            .files
            .iter()
            .map(|(n, bytes, mode)| TaskFile {
                name: n.clone(),
                bytes: bytes.clone(),
                mode: *mode,
                label: if n == package::CONFIG_FILE {
                    build::LABEL_CONFIG
                } else {
                    build::LABEL_SCRIPT
                },
            })
            .collect();
        let img = build::assemble_on(base, &self.layers, sup, &files)
            .with_context(|| format!("function `{name}`: its image"))?;
        let repository = format!("{}/{}", self.ecr, repository_name(name));
        Ok(Some(Built {
            wanted: WantedImage {
                repository: repository.clone(),
                digest: img.digest.clone(),
                labels: img.labels.clone(),
            },
            repository,
            digest: img.digest.clone(),
            image: img,
        }))
    }

    /// The registries to push to, and the scratch folder to keep while
    /// the layers are pushed.
    pub fn finish(self) -> (Option<Arc<Registries>>, Option<Arc<tempfile::TempDir>>) {
        (self.registries, self.scratch)
    }
}
