//! A function's image, computed at plan time without pushing anything:
//! the base resolved for the function's architecture (read-only), the one
//! appended layer (the supervisor, `function_config.yaml` and the script
//! in `/var/task`) written into the local cache, content-addressed so
//! that a re-plan reuses it, and the config and manifest derived. The
//! manifest's digest is what the function runs; the push happens at
//! apply ([`super::registry::Registries::push`]).
//!
//! The image says what it was made of in its config's labels ([`LABELS`]):
//! the base (as named, and the digest it resolved to), and the hashes of
//! the supervisor, the config and the script. A plan reads them back from
//! the image a function runs to say why its image changes.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::assemble::{self, derive_config, derive_manifest, write_layer, Layer, LayerFile};
use super::registry::{BaseImage, RegistryError};

/// The label naming the base image as the manifest gives it.
pub const LABEL_BASE: &str = "scar.base";
/// The label giving the digest the base resolved to.
pub const LABEL_BASE_DIGEST: &str = "scar.base.digest";
/// The label giving the supervisor binary's hash.
pub const LABEL_SUPERVISOR: &str = "scar.supervisor";
/// The label giving `function_config.yaml`'s hash.
pub const LABEL_CONFIG: &str = "scar.function_config";
/// The label giving the script's hash (absent without a script).
pub const LABEL_SCRIPT: &str = "scar.script";
/// Every label scar sets.
pub const LABELS: &[&str] = &[
    LABEL_BASE,
    LABEL_BASE_DIGEST,
    LABEL_SUPERVISOR,
    LABEL_CONFIG,
    LABEL_SCRIPT,
];

/// The supervisor executable that goes into the image.
#[derive(Clone, Debug)]
pub struct Supervisor {
    pub path: PathBuf,
    /// `sha256:…` of the file.
    pub digest: String,
    pub size: u64,
}

impl Supervisor {
    /// The supervisor at `path`, hashed (streaming).
    pub fn at(path: &Path) -> std::io::Result<Supervisor> {
        let mut f = File::open(path)?;
        let mut h = crate::hash::Sha256Writer::default();
        let size = std::io::copy(&mut f, &mut h)?;
        Ok(Supervisor {
            path: path.to_path_buf(),
            digest: format!("sha256:{}", h.hex()),
            size,
        })
    }
}

/// A file of the layer besides the supervisor: its name in `/var/task`,
/// its bytes, its mode, and the label that records its hash
/// ([`LABEL_CONFIG`] or [`LABEL_SCRIPT`]).
#[derive(Clone, Debug)]
pub struct TaskFile {
    pub name: String,
    pub bytes: Vec<u8>,
    pub mode: u32,
    pub label: &'static str,
}

/// A function's image, ready to push.
#[derive(Clone, Debug)]
pub struct FunctionImage {
    pub base: BaseImage,
    pub layer: Layer,
    /// The layer's gzip blob, in the cache.
    pub layer_path: PathBuf,
    pub config: Vec<u8>,
    pub manifest: Vec<u8>,
    /// `sha256:…` of the manifest: what the function runs.
    pub digest: String,
    /// What it was made of ([`LABELS`]).
    pub labels: BTreeMap<String, String>,
}

/// Why a function's image could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("cannot extend the base image `{image}`")]
    Assemble {
        image: String,
        #[source]
        source: assemble::AssembleError,
    },
    #[error("cannot write the image layer in {}", dir.display())]
    Cache {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the supervisor {}", path.display())]
    Supervisor {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The layer as the cache remembers it beside its blob.
#[derive(Serialize, Deserialize)]
struct CachedLayer {
    diff_id: String,
    digest: String,
    size: u64,
}

/// The key of a layer in the cache: a hash of everything that goes into
/// it (the layer itself is deterministic in these).
fn layer_key(supervisor: &Supervisor, files: &[TaskFile]) -> String {
    let mut text = format!("scar layer v1\nsupervisor {}\n", supervisor.digest);
    for f in files {
        text.push_str(&format!(
            "{} {:o} {}\n",
            f.name,
            f.mode,
            crate::hash::hex_sha256(&f.bytes)
        ));
    }
    crate::hash::hex_sha256(text.as_bytes())
}

/// The layer of `supervisor` and `files`, from `dir` when it was written
/// before, else written there now (to a temporary name, then renamed, so
/// a concurrent plan never reads half a layer). Files are private to the
/// user: the config may hold a storage provider's credentials.
pub fn layer_in(
    dir: &Path,
    supervisor: &Supervisor,
    files: &[TaskFile],
) -> Result<(Layer, PathBuf), BuildError> {
    let key = layer_key(supervisor, files);
    let blob = dir.join(format!("{key}.tar.gz"));
    let meta = dir.join(format!("{key}.json"));
    if let (Ok(text), Ok(stat)) = (std::fs::read(&meta), std::fs::metadata(&blob)) {
        if let Ok(c) = serde_json::from_slice::<CachedLayer>(&text) {
            if c.size == stat.len() {
                let layer = Layer {
                    diff_id: c.diff_id,
                    digest: c.digest,
                    size: c.size,
                };
                return Ok((layer, blob));
            }
        }
    }
    let cache_err = |source| BuildError::Cache {
        dir: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(cache_err)?;
    let tmp = dir.join(format!(".{key}.{}.tmp", std::process::id()));
    let out = private_file(&tmp).map_err(cache_err)?;
    let sup = File::open(&supervisor.path).map_err(|source| BuildError::Supervisor {
        path: supervisor.path.clone(),
        source,
    })?;
    let mut entries = vec![LayerFile {
        name: "supervisor",
        mode: 0o755,
        size: supervisor.size,
        content: Box::new(sup) as Box<dyn Read>,
    }];
    entries.extend(
        files
            .iter()
            .map(|f| LayerFile::bytes(&f.name, f.mode, &f.bytes)),
    );
    let mut w = BufWriter::new(out);
    let layer = write_layer(entries, &mut w).map_err(|source| match source {
        assemble::AssembleError::Io(e) => cache_err(e),
        other => BuildError::Assemble {
            image: "(layer)".into(),
            source: other,
        },
    })?;
    w.flush().map_err(cache_err)?;
    drop(w);
    std::fs::rename(&tmp, &blob).map_err(cache_err)?;
    let c = CachedLayer {
        diff_id: layer.diff_id.clone(),
        digest: layer.digest.clone(),
        size: layer.size,
    };
    let meta_tmp = dir.join(format!(".{key}.{}.json.tmp", std::process::id()));
    std::fs::write(&meta_tmp, serde_json::to_vec(&c).unwrap_or_default()).map_err(cache_err)?;
    std::fs::rename(&meta_tmp, &meta).map_err(cache_err)?;
    Ok((layer, blob))
}

/// A new file only its owner can read.
fn private_file(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// The labels of an image made from `base` with `supervisor` and `files`.
fn labels(
    base: &BaseImage,
    supervisor: &Supervisor,
    files: &[TaskFile],
) -> BTreeMap<String, String> {
    let mut l = BTreeMap::from([
        (LABEL_BASE.to_string(), base.origin.clone()),
        (LABEL_BASE_DIGEST.to_string(), base.digest.clone()),
        (LABEL_SUPERVISOR.to_string(), supervisor.digest.clone()),
    ]);
    for f in files {
        l.insert(f.label.to_string(), assemble::sha256_digest(&f.bytes));
    }
    l
}

/// The function image on `base`: the layer from the cache folder
/// `layers` (written there if new), the config with the labels, the
/// manifest and its digest. The container's environment is not put in
/// the image's config (where it could hold secrets): the supervisor gives
/// it to the script from `function_config.yaml`.
pub fn assemble_on(
    base: BaseImage,
    layers: &Path,
    supervisor: &Supervisor,
    files: &[TaskFile],
) -> Result<FunctionImage, BuildError> {
    let (layer, layer_path) = layer_in(layers, supervisor, files)?;
    let labels = labels(&base, supervisor, files);
    let assemble_err = |source| BuildError::Assemble {
        image: base.named.familiar(),
        source,
    };
    let config =
        derive_config(&base.config, &layer, &BTreeMap::new(), &labels).map_err(assemble_err)?;
    let config_descriptor = assemble::Descriptor::of(&base.config_descriptor.media_type, &config);
    let manifest =
        derive_manifest(&base.manifest, &config_descriptor, &layer).map_err(assemble_err)?;
    let digest = assemble::sha256_digest(&manifest);
    Ok(FunctionImage {
        base,
        layer,
        layer_path,
        config,
        manifest,
        digest,
        labels,
    })
}

/// The labels of an image config (only scar's, [`LABELS`]).
pub fn read_labels(config: &[u8]) -> BTreeMap<String, String> {
    let v: Value = serde_json::from_slice(config).unwrap_or_default();
    v["config"]["Labels"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| LABELS.contains(&k.as_str()))
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supervisor(dir: &Path, bytes: &[u8]) -> Supervisor {
        let p = dir.join("supervisor");
        std::fs::write(&p, bytes).unwrap();
        Supervisor::at(&p).unwrap()
    }

    fn files(script: &str) -> Vec<TaskFile> {
        vec![
            TaskFile {
                name: "function_config.yaml".into(),
                bytes: b"{}\n".to_vec(),
                mode: 0o644,
                label: LABEL_CONFIG,
            },
            TaskFile {
                name: "run.sh".into(),
                bytes: script.as_bytes().to_vec(),
                mode: 0o755,
                label: LABEL_SCRIPT,
            },
        ]
    }

    #[test]
    fn the_layer_is_written_once_and_found_again_by_its_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let sup = supervisor(dir.path(), b"\x7fELF supervisor");
        let cache = dir.path().join("layers");
        let (a, path) = layer_in(&cache, &sup, &files("echo 1\n")).unwrap();
        let written = std::fs::metadata(&path).unwrap().modified().unwrap();
        let (b, again) = layer_in(&cache, &sup, &files("echo 1\n")).unwrap();
        assert_eq!((a.clone(), path.clone()), (b, again));
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            written
        );
        assert_eq!(
            assemble::sha256_digest(&std::fs::read(&path).unwrap()),
            a.digest
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // Another script, another layer; the same one written elsewhere,
        // the same digest (reproducible).
        let (c, _) = layer_in(&cache, &sup, &files("echo 2\n")).unwrap();
        assert_ne!(c.digest, a.digest);
        let (d, _) = layer_in(&dir.path().join("other"), &sup, &files("echo 1\n")).unwrap();
        assert_eq!(d, a);
        // A blob cut short is written again, not trusted.
        std::fs::write(&path, b"short").unwrap();
        let (e, _) = layer_in(&cache, &sup, &files("echo 1\n")).unwrap();
        assert_eq!(e, a);
        assert_eq!(
            assemble::sha256_digest(&std::fs::read(&path).unwrap()),
            a.digest
        );
    }

    #[test]
    fn labels_read_back_only_scars_own() {
        let config = br#"{"config": {"Labels": {"scar.base": "docker.io/library/alpine:3", "scar.script": "sha256:ab", "maintainer": "x", "scar.other": "y"}}}"#;
        let l = read_labels(config);
        assert_eq!(
            l.keys().map(String::as_str).collect::<Vec<_>>(),
            [LABEL_BASE, LABEL_SCRIPT]
        );
        assert!(read_labels(b"not json").is_empty());
    }
}
