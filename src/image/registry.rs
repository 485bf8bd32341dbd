//! The registry client, on `oci-client`: resolves a base image (its
//! manifest, for the function's platform when the reference names an
//! index, and its config), and pushes the function's image, sending only
//! what the destination lacks: a blob it has is skipped, one another
//! repository of the same registry has is mounted (and uploaded when the
//! mount is refused), and every blob is streamed (never held whole in
//! memory), as one PUT per blob (ECR drops the later chunks of a chunked
//! upload). Endpoints come from `registries.conf` (mirrors, rewritten
//! locations, plain-HTTP registries).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde_json::Value;

use super::assemble::{sha256_digest, Descriptor, Layer};
use super::auth::Credentials;
use super::reference::ImageRef;
use super::registries::{Endpoint, RegistriesConf};

/// The manifest media types scar reads.
const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// A base image, resolved to one platform.
#[derive(Clone, Debug)]
pub struct BaseImage {
    /// What the image's labels name as its base: the reference (normalized)
    /// or `file:<path>` of an image archive.
    pub origin: String,
    /// The reference as the manifest names it (normalized).
    pub named: ImageRef,
    /// Where it was read from (after `registries.conf`), by digest.
    pub source: ImageRef,
    pub insecure: bool,
    pub manifest: Vec<u8>,
    /// The manifest's digest: what the tag pointed at, for this platform.
    pub digest: String,
    pub media_type: String,
    pub config: Vec<u8>,
    pub config_descriptor: Descriptor,
    pub layers: Vec<Descriptor>,
    /// Blobs read from local files (an image archive) rather than from
    /// `source`'s registry, by digest.
    pub local_blobs: std::collections::BTreeMap<String, std::path::PathBuf>,
}

/// What a push sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Blobs the destination had already.
    pub skipped: usize,
    /// Blobs mounted from another repository of the same registry.
    pub mounted: usize,
    /// Blobs uploaded.
    pub uploaded: usize,
    /// Bytes of blob and manifest content sent.
    pub bytes_sent: u64,
    /// The pushed manifest's digest.
    pub digest: String,
}

/// Why an image could not be resolved or pushed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot locate `{image}`")]
    Resolve {
        image: String,
        #[source]
        source: super::registries::ResolveError,
    },
    #[error("`{image}` is not in the registry {endpoint} (no such repository, tag or digest)\nhint: check the name and the tag, and `registries.conf` (CONTAINERS_REGISTRIES_CONF) when the image comes from a mirror")]
    NotFound { image: String, endpoint: String },
    #[error("the registry {endpoint} refused access to `{image}` (the credentials were refused, or none were given and it needs some)\nhint: log in with `docker login {endpoint}` (scar reads the Docker credentials file, DOCKER_CONFIG), or check the image's name")]
    Denied { image: String, endpoint: String },
    #[error("cannot reach the registry {endpoint} for `{image}`\nhint: check the network, and `registries.conf` (CONTAINERS_REGISTRIES_CONF) when the image comes from a mirror")]
    Unreachable {
        image: String,
        endpoint: String,
        #[source]
        source: OciDistributionError,
    },
    #[error("cannot read `{image}` from {endpoint}")]
    Pull {
        image: String,
        endpoint: String,
        #[source]
        source: OciDistributionError,
    },
    #[error("`{image}` has no image for {wanted}; it has: {have}")]
    NoPlatform {
        image: String,
        wanted: String,
        have: String,
    },
    #[error("`{image}`: {why}")]
    Invalid { image: String, why: String },
    #[error("cannot push to `{image}`")]
    Push {
        image: String,
        #[source]
        source: OciDistributionError,
    },
    #[error("cannot read the layer `{path}`")]
    Layer {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The registries scar talks to, with their credentials.
#[derive(Debug)]
pub struct Registries {
    conf: RegistriesConf,
    credentials: Credentials,
}

/// The platform Lambda runs an architecture on (`x86_64` → `linux/amd64`).
pub fn platform_of(architecture: &str) -> (&'static str, &'static str) {
    match architecture {
        "arm64" | "aarch64" => ("linux", "arm64"),
        _ => ("linux", "amd64"),
    }
}

fn oci_ref(r: &ImageRef) -> Reference {
    match (r.digest(), r.tag()) {
        (Some(d), _) => Reference::with_digest(
            r.registry().to_string(),
            r.repository().to_string(),
            d.to_string(),
        ),
        (None, tag) => Reference::with_tag(
            r.registry().to_string(),
            r.repository().to_string(),
            tag.unwrap_or("latest").to_string(),
        ),
    }
}

/// `ref` at `digest`.
fn at_digest(r: &ImageRef, digest: &str) -> ImageRef {
    ImageRef::parse(&format!("{}@{digest}", r.name())).unwrap_or_else(|_| r.clone())
}

/// A client for one endpoint: plain HTTP where the configuration says
/// the registry is insecure; whole-blob PUTs.
fn client_for(host: &str, insecure: bool) -> Client {
    Client::new(ClientConfig {
        protocol: if insecure {
            ClientProtocol::HttpsExcept(vec![host.to_string()])
        } else {
            ClientProtocol::Https
        },
        use_monolithic_push: true,
        ..Default::default()
    })
}

impl Registries {
    /// Registries reached as `conf` says, anonymously.
    pub fn new(conf: RegistriesConf) -> Registries {
        Registries::with_credentials(conf, Credentials::default())
    }

    /// Registries reached as `conf` says, with `credentials` where they
    /// have some.
    pub fn with_credentials(conf: RegistriesConf, credentials: Credentials) -> Registries {
        Registries { conf, credentials }
    }

    /// Where `dest`'s repository really is: its registry's location (never
    /// a mirror: images are pushed to, and checked in, the registry itself).
    fn location(&self, dest: &ImageRef) -> Result<Endpoint, RegistryError> {
        self.endpoints(dest)?
            .into_iter()
            .find(|e| !e.mirror)
            .ok_or_else(|| RegistryError::Invalid {
                image: dest.familiar(),
                why: "`registries.conf` gives it no location, only mirrors".into(),
            })
    }

    /// How to authenticate to the endpoint `at` of the image `named`.
    fn auth(&self, at: &ImageRef, named: &ImageRef) -> RegistryAuth {
        self.credentials.auth(at.registry(), named.registry())
    }

    fn endpoints(&self, image: &ImageRef) -> Result<Vec<Endpoint>, RegistryError> {
        self.conf
            .endpoints(image)
            .map_err(|source| RegistryError::Resolve {
                image: image.familiar(),
                source,
            })
    }

    /// The base image `image` names, for `architecture`: the first
    /// endpoint (mirror or location) that answers. Read-only.
    pub async fn resolve(
        &self,
        image: &ImageRef,
        architecture: &str,
    ) -> Result<BaseImage, RegistryError> {
        let mut last = None;
        for e in self.endpoints(image)? {
            match self.resolve_at(image, &e, architecture).await {
                Ok(base) => return Ok(base),
                Err(err @ (RegistryError::NoPlatform { .. } | RegistryError::Invalid { .. })) => {
                    return Err(err)
                }
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| RegistryError::Invalid {
            image: image.familiar(),
            why: "no registry endpoint to read it from".into(),
        }))
    }

    async fn resolve_at(
        &self,
        image: &ImageRef,
        e: &Endpoint,
        architecture: &str,
    ) -> Result<BaseImage, RegistryError> {
        let client = client_for(e.reference.registry(), e.insecure);
        let auth = self.auth(&e.reference, image);
        let pull_err =
            |source| pull_error(image.familiar(), e.reference.registry().to_string(), source);
        let invalid = |why: String| RegistryError::Invalid {
            image: image.familiar(),
            why,
        };
        let mut reference = oci_ref(&e.reference);
        let (mut bytes, mut digest) = client
            .pull_manifest_raw(&reference, &auth, &MANIFEST_TYPES)
            .await
            .map_err(pull_err)?;
        let mut doc: Value = serde_json::from_slice(&bytes)
            .map_err(|err| invalid(format!("its manifest is not JSON: {err}")))?;
        if let Some(list) = doc.get("manifests").and_then(Value::as_array) {
            let (os, arch) = platform_of(architecture);
            let chosen = list.iter().find(|m| {
                m["platform"]["os"] == os
                    && m["platform"]["architecture"] == arch
                    && m["platform"].get("variant").is_none_or(|v| v != "v7")
            });
            let Some(chosen) = chosen else {
                let have: Vec<String> = list
                    .iter()
                    .filter_map(|m| {
                        let p = &m["platform"];
                        Some(format!(
                            "{}/{}",
                            p["os"].as_str()?,
                            p["architecture"].as_str()?
                        ))
                    })
                    .collect();
                return Err(RegistryError::NoPlatform {
                    image: image.familiar(),
                    wanted: format!("{os}/{arch} (the function's `{architecture}`)"),
                    have: have.join(", "),
                });
            };
            let d = chosen["digest"]
                .as_str()
                .ok_or_else(|| invalid("an index entry has no digest".into()))?;
            reference = oci_ref(&at_digest(&e.reference, d));
            (bytes, digest) = client
                .pull_manifest_raw(&reference, &auth, &MANIFEST_TYPES)
                .await
                .map_err(pull_err)?;
            doc = serde_json::from_slice(&bytes)
                .map_err(|err| invalid(format!("its manifest is not JSON: {err}")))?;
        }
        let descriptor = |v: &Value| -> Option<Descriptor> {
            Some(Descriptor {
                media_type: v["mediaType"].as_str()?.to_string(),
                digest: v["digest"].as_str()?.to_string(),
                size: v["size"].as_u64()?,
            })
        };
        let config_descriptor = descriptor(&doc["config"])
            .ok_or_else(|| invalid("its manifest has no config".into()))?;
        let layers = doc["layers"]
            .as_array()
            .ok_or_else(|| invalid("its manifest has no layers".into()))?
            .iter()
            .map(|l| descriptor(l).ok_or_else(|| invalid("a layer has no digest".into())))
            .collect::<Result<Vec<_>, _>>()?;
        let mut config = Vec::new();
        client
            .pull_blob(&reference, config_descriptor.digest.as_str(), &mut config)
            .await
            .map_err(pull_err)?;
        let media_type = doc["mediaType"]
            .as_str()
            .unwrap_or(MANIFEST_TYPES[0])
            .to_string();
        Ok(BaseImage {
            origin: image.to_string(),
            local_blobs: Default::default(),
            named: image.clone(),
            source: at_digest(&e.reference, &digest),
            insecure: e.insecure,
            manifest: bytes.to_vec(),
            digest,
            media_type,
            config,
            config_descriptor,
            layers,
        })
    }

    /// Pushes the function image to `dest` (its repository; the manifest
    /// by digest): the base's layers (skipped when there, else mounted from
    /// the base's repository when it is the same registry, else streamed
    /// from it), the new layer from `layer_path`, the config and the
    /// manifest, under `tag` when given (else by digest alone).
    #[allow(clippy::too_many_arguments)]
    pub async fn push(
        &self,
        dest: &ImageRef,
        base: &BaseImage,
        layer_path: &Path,
        layer: &Layer,
        config: &[u8],
        manifest: &[u8],
        tag: Option<&str>,
    ) -> Result<PushReport, RegistryError> {
        let endpoint = self.location(dest)?;
        let target = endpoint.reference.clone();
        let to = client_for(target.registry(), endpoint.insecure);
        let from = client_for(base.source.registry(), base.insecure);
        let dest_ref = oci_ref(&target);
        let source_ref = oci_ref(&base.source);
        to.store_auth_if_needed(dest_ref.resolve_registry(), &self.auth(&target, dest))
            .await;
        from.store_auth_if_needed(
            source_ref.resolve_registry(),
            &self.auth(&base.source, &base.named),
        )
        .await;
        let push_err = |source| RegistryError::Push {
            image: dest.familiar(),
            source,
        };
        let same_registry = base.source.registry() == target.registry();
        // Every layer, the base's and the new one: each checked, then
        // skipped, mounted or streamed, [`PARALLEL_BLOBS`] at a time.
        let mut blobs: Vec<(String, u64, Option<PathBuf>)> = base
            .layers
            .iter()
            .map(|l| {
                (
                    l.digest.clone(),
                    l.size,
                    base.local_blobs.get(&l.digest).cloned(),
                )
            })
            .collect();
        blobs.push((
            layer.digest.clone(),
            layer.size,
            Some(layer_path.to_path_buf()),
        ));
        let send = |(digest, size, local): (String, u64, Option<PathBuf>)| {
            let (to, from, dest_ref, source_ref) = (&to, &from, &dest_ref, &source_ref);
            async move {
                let digest = digest.as_str();
                if to.blob_exists(dest_ref, digest).await.map_err(push_err)? {
                    return Ok::<_, RegistryError>(Sent::Skipped);
                }
                if let Some(path) = &local {
                    push_file(to, dest_ref, path, digest, size)
                        .await
                        .map_err(|e| e.into_push(dest))?;
                    return Ok(Sent::Uploaded(size));
                }
                // A mount succeeds only with 201 Created; anything else
                // (refused, or the registry started an upload instead)
                // falls back to streaming the blob across.
                if same_registry && to.mount_blob(dest_ref, source_ref, digest).await.is_ok() {
                    return Ok(Sent::Mounted);
                }
                let sent = Arc::new(AtomicU64::new(0));
                let counter = sent.clone();
                let stream = from
                    .pull_blob_stream(source_ref, digest)
                    .await
                    .map_err(|source| {
                        pull_error(
                            base.source.familiar(),
                            base.source.registry().to_string(),
                            source,
                        )
                    })?
                    .stream
                    .inspect_ok(move |b| {
                        counter.fetch_add(b.len() as u64, Ordering::Relaxed);
                    })
                    .map_err(OciDistributionError::IoError);
                to.push_blob_stream(dest_ref, stream, digest, Some(size))
                    .await
                    .map_err(push_err)?;
                Ok(Sent::Uploaded(sent.load(Ordering::Relaxed)))
            }
        };
        let mut report = PushReport::default();
        let mut results = futures_util::stream::iter(blobs)
            .map(send)
            .buffer_unordered(PARALLEL_BLOBS);
        while let Some(r) = results.next().await {
            match r? {
                Sent::Skipped => report.skipped += 1,
                Sent::Mounted => report.mounted += 1,
                Sent::Uploaded(bytes) => {
                    report.uploaded += 1;
                    report.bytes_sent += bytes;
                }
            }
        }
        drop(results);
        let config_digest = sha256_digest(config);
        if to
            .blob_exists(&dest_ref, &config_digest)
            .await
            .map_err(push_err)?
        {
            report.skipped += 1;
        } else {
            to.push_blob(&dest_ref, config.to_vec(), &config_digest)
                .await
                .map_err(push_err)?;
            report.uploaded += 1;
            report.bytes_sent += config.len() as u64;
        }
        let digest = sha256_digest(manifest);
        let media_type: Value = serde_json::from_slice(manifest).unwrap_or_default();
        let media_type = media_type["mediaType"]
            .as_str()
            .unwrap_or(MANIFEST_TYPES[0])
            .to_string();
        let manifest_ref = match tag {
            Some(t) => Reference::with_tag(
                target.registry().to_string(),
                target.repository().to_string(),
                t.to_string(),
            ),
            None => oci_ref(&at_digest(&target, &digest)),
        };
        to.push_manifest_raw(
            &manifest_ref,
            manifest.to_vec(),
            media_type.parse().map_err(|_| RegistryError::Invalid {
                image: dest.familiar(),
                why: format!("the manifest media type `{media_type}` is not a header value"),
            })?,
        )
        .await
        .map_err(push_err)?;
        report.bytes_sent += manifest.len() as u64;
        report.digest = digest;
        Ok(report)
    }

    /// Whether `dest`'s repository holds the manifest `digest` (a no-change
    /// plan needs no push): `Ok(false)` when the registry says it does not
    /// know it (or the repository), an error when it cannot be asked.
    pub async fn has_manifest(&self, dest: &ImageRef, digest: &str) -> Result<bool, RegistryError> {
        let e = self.location(dest)?;
        let client = client_for(e.reference.registry(), e.insecure);
        let reference = oci_ref(&at_digest(&e.reference, digest));
        match client
            .pull_manifest_raw(&reference, &self.auth(&e.reference, dest), &MANIFEST_TYPES)
            .await
        {
            Ok(_) => Ok(true),
            Err(err) if is_unknown(&err) => Ok(false),
            Err(source) => Err(pull_error(
                dest.familiar(),
                e.reference.registry().to_string(),
                source,
            )),
        }
    }

    /// The manifest and config of `image` (by digest) in `dest`'s
    /// repository, `None` when the registry does not know it: what an
    /// image scar pushed says of itself (its labels).
    pub async fn read_config(
        &self,
        dest: &ImageRef,
        digest: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let e = self.location(dest)?;
        let client = client_for(e.reference.registry(), e.insecure);
        let reference = oci_ref(&at_digest(&e.reference, digest));
        let pull_err =
            |source| pull_error(dest.familiar(), e.reference.registry().to_string(), source);
        let auth = self.auth(&e.reference, dest);
        let bytes = match client
            .pull_manifest_raw(&reference, &auth, &MANIFEST_TYPES)
            .await
        {
            Ok((bytes, _)) => bytes,
            Err(err) if is_unknown(&err) => return Ok(None),
            Err(err) => return Err(pull_err(err)),
        };
        let doc: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let Some(config) = doc["config"]["digest"].as_str() else {
            return Ok(None);
        };
        let mut out = Vec::new();
        client
            .pull_blob(&reference, config, &mut out)
            .await
            .map_err(pull_err)?;
        Ok(Some(out))
    }
}

/// Blobs sent at once (skopeo sends several too; one stream each).
const PARALLEL_BLOBS: usize = 4;

/// What became of one blob of a push.
enum Sent {
    Skipped,
    Mounted,
    Uploaded(u64),
}

/// Why a local blob could not be pushed.
enum FileBlobError {
    Open(std::path::PathBuf, std::io::Error),
    Push(OciDistributionError),
}

impl FileBlobError {
    fn into_push(self, dest: &ImageRef) -> RegistryError {
        match self {
            FileBlobError::Open(path, source) => RegistryError::Layer {
                path: path.display().to_string(),
                source,
            },
            FileBlobError::Push(source) => RegistryError::Push {
                image: dest.familiar(),
                source,
            },
        }
    }
}

/// Streams the blob in the file `path` to `dest` as one PUT.
async fn push_file(
    to: &Client,
    dest: &Reference,
    path: &Path,
    digest: &str,
    size: u64,
) -> Result<(), FileBlobError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| FileBlobError::Open(path.to_path_buf(), e))?;
    let stream =
        tokio_util::io::ReaderStream::new(file).map(|r| r.map_err(OciDistributionError::IoError));
    to.push_blob_stream(dest, stream, digest, Some(size))
        .await
        .map_err(FileBlobError::Push)?;
    Ok(())
}

/// A read error as what it means to the user: not there, refused, not
/// reachable, or another failure.
fn pull_error(image: String, endpoint: String, source: OciDistributionError) -> RegistryError {
    use oci_client::errors::OciErrorCode as C;
    if is_unknown(&source) {
        return RegistryError::NotFound { image, endpoint };
    }
    let denied = match &source {
        OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::UnauthorizedError { .. } => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, C::Unauthorized | C::Denied)),
        OciDistributionError::ServerError { code, .. } => matches!(code, 401 | 403),
        _ => false,
    };
    if denied {
        return RegistryError::Denied { image, endpoint };
    }
    if let OciDistributionError::RequestError(r) = &source {
        if r.is_connect() || r.is_timeout() {
            return RegistryError::Unreachable {
                image,
                endpoint,
                source,
            };
        }
    }
    RegistryError::Pull {
        image,
        endpoint,
        source,
    }
}

/// Whether a registry error says the manifest or repository is unknown.
fn is_unknown(err: &OciDistributionError) -> bool {
    use oci_client::errors::OciErrorCode as C;
    match err {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, C::ManifestUnknown | C::NameUnknown | C::NotFound)),
        OciDistributionError::ServerError { code, .. } => *code == 404,
        _ => false,
    }
}

/// Why a blob could not be pulled to a file.
#[derive(Debug, thiserror::Error)]
pub enum PullBlobError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{image}`: the blob {digest} read back as {got} (a broken registry or proxy)")]
    Digest {
        image: String,
        digest: String,
        got: String,
    },
}

/// Streams the blob `digest` of `base` (from where it was resolved) into
/// the file `dest` (created or truncated), checking its SHA-256 as it
/// goes: never held whole in memory, never kept when it does not match.
/// Returns the bytes written.
pub async fn pull_blob_to_file(
    registries: &Registries,
    base: &BaseImage,
    digest: &str,
    dest: &Path,
) -> Result<u64, PullBlobError> {
    use sha2::Digest as _;
    use tokio::io::AsyncWriteExt;
    let write_err = |source| PullBlobError::Write {
        path: dest.to_path_buf(),
        source,
    };
    // A base from an image archive has its blobs on disk already.
    if let Some(local) = base.local_blobs.get(digest) {
        return tokio::fs::copy(local, dest).await.map_err(write_err);
    }
    let client = client_for(base.source.registry(), base.insecure);
    let reference = oci_ref(&base.source);
    client
        .store_auth_if_needed(
            reference.resolve_registry(),
            &registries.auth(&base.source, &base.named),
        )
        .await;
    let pull_err = |source| {
        pull_error(
            base.source.familiar(),
            base.source.registry().to_string(),
            source,
        )
    };
    let mut stream = client
        .pull_blob_stream(&reference, digest)
        .await
        .map_err(pull_err)?
        .stream;
    let mut file = tokio::fs::File::create(dest).await.map_err(write_err)?;
    let mut hash = sha2::Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| pull_err(OciDistributionError::IoError(e)))?;
        hash.update(&chunk);
        size += chunk.len() as u64;
        file.write_all(&chunk).await.map_err(write_err)?;
    }
    file.flush().await.map_err(write_err)?;
    let got = format!("sha256:{}", crate::hash::hex(&hash.finalize()));
    if got != digest {
        let _ = tokio::fs::remove_file(dest).await;
        return Err(PullBlobError::Digest {
            image: base.source.familiar(),
            digest: digest.to_string(),
            got,
        });
    }
    Ok(size)
}
