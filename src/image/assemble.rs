//! The function's image, derived from the user's image by appending one
//! layer, as `ko` and `crane append` do: the layer holds the supervisor (the
//! image's entrypoint), `function_config.yaml` and the script, in SCAR's
//! `/var/task` layout, so scripts that expect it run unchanged. The layer is
//! reproducible (fixed times, owners and modes, entries in a fixed order,
//! gzip without a timestamp): the same inputs give the same digest, so a
//! plan with no change needs no push. The config keeps the base's
//! environment and adds the container's; the manifest keeps the base's
//! layers and media types. Pure: bytes in, bytes out; the registry client
//! moves them.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Where SCAR's image puts the supervisor, the config and the script.
pub const FUNCTION_DIR: &str = "/var/task";
/// The supervisor's path in the image: the entrypoint.
pub const SUPERVISOR_PATH: &str = "/var/task/supervisor";
/// The PATH of an image whose config sets none (docker's default).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A file of the appended layer.
pub struct LayerFile<'a> {
    /// Its name inside [`FUNCTION_DIR`] (no slashes).
    pub name: &'a str,
    pub mode: u32,
    pub size: u64,
    pub content: Box<dyn Read + 'a>,
}

impl<'a> LayerFile<'a> {
    /// A file from bytes.
    pub fn bytes(name: &'a str, mode: u32, bytes: &'a [u8]) -> Self {
        LayerFile {
            name,
            mode,
            size: bytes.len() as u64,
            content: Box::new(bytes),
        }
    }
}

/// A layer as a manifest names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    /// `sha256:…` of the uncompressed tar (the config's `rootfs.diff_ids`).
    pub diff_id: String,
    /// `sha256:…` of the gzip blob.
    pub digest: String,
    /// Bytes of the gzip blob.
    pub size: u64,
}

/// A blob as a manifest names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

impl Descriptor {
    /// The descriptor of `bytes` with `media_type`.
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: sha256_digest(bytes),
            size: bytes.len() as u64,
        }
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", crate::hash::hex_sha256(bytes))
}

/// Why a base image's manifest or config cannot be extended.
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error("the base image's {what} is not valid JSON")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("the base image's {what} is not what an image manifest holds: {why}")]
    Shape { what: &'static str, why: String },
    #[error("cannot write the layer")]
    Io(#[from] io::Error),
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing {
            inner,
            hash: Sha256::new(),
            size: 0,
        }
    }

    fn digest(&self) -> String {
        format!("sha256:{}", crate::hash::hex(&self.hash.clone().finalize()))
    }
}

/// Writes the layer (a gzip tar of `files` under [`FUNCTION_DIR`]) to
/// `out`, streaming: nothing is held whole in memory. Entries come in the
/// order given, after the folders; every time is the epoch, every owner
/// root.
pub fn write_layer<W: Write>(files: Vec<LayerFile<'_>>, out: W) -> Result<Layer, AssembleError> {
    // The fast level: the layer is mostly the supervisor, an executable
    // that the default level makes only a few percent smaller, at about
    // four times the time (measured by `bench/image/push.sh`).
    let gz = GzEncoder::new(Hashing::new(out), Compression::fast());
    let mut tar = tar::Builder::new(Hashing::new(gz));
    tar.mode(tar::HeaderMode::Deterministic);
    for dir in ["var/", "var/task/"] {
        let mut h = header(tar::EntryType::Directory, 0o755, 0);
        tar.append_data(&mut h, dir, io::empty())?;
    }
    for f in files {
        let mut h = header(tar::EntryType::Regular, f.mode, f.size);
        let path = format!("{}/{}", FUNCTION_DIR.trim_start_matches('/'), f.name);
        tar.append_data(&mut h, path, f.content.take(f.size))?;
    }
    let plain = tar.into_inner()?;
    let diff_id = plain.digest();
    let gz = plain.inner.finish()?;
    let mut compressed = gz;
    compressed.flush()?;
    Ok(Layer {
        diff_id,
        digest: compressed.digest(),
        size: compressed.size,
    })
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// The media type of a layer beside a manifest of `manifest_type`.
pub fn layer_media_type(manifest_type: &str) -> &'static str {
    if manifest_type.contains("vnd.docker") {
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    } else {
        "application/vnd.oci.image.layer.v1.tar+gzip"
    }
}

/// The function image's config: the base's, with the layer's diff id
/// appended, the supervisor as the only entrypoint (a base's own
/// ENTRYPOINT and CMD would otherwise run instead, or take the supervisor
/// as an argument), `/var/task` as working folder and first on `PATH`,
/// `env` (the container's variables) over the base's environment, and
/// `labels` over the base's labels.
pub fn derive_config(
    base: &[u8],
    layer: &Layer,
    env: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> Result<Vec<u8>, AssembleError> {
    let mut config: Value = serde_json::from_slice(base).map_err(|source| AssembleError::Json {
        what: "config",
        source,
    })?;
    let shape = |why: &str| AssembleError::Shape {
        what: "config",
        why: why.to_string(),
    };
    let root = config
        .as_object_mut()
        .ok_or_else(|| shape("not an object"))?;
    let rootfs = root
        .entry("rootfs")
        .or_insert_with(|| json!({"type": "layers", "diff_ids": []}));
    rootfs
        .get_mut("diff_ids")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| shape("`rootfs.diff_ids` is not a list"))?
        .push(Value::String(layer.diff_id.clone()));
    let history = root.entry("history").or_insert_with(|| json!([]));
    if let Some(h) = history.as_array_mut() {
        h.push(json!({
            "created_by": "scar: the supervisor, function_config.yaml and the script in /var/task",
            "comment": "scar",
        }));
    }
    let run = root
        .entry("config")
        .or_insert_with(|| Value::Object(Map::new()));
    if run.is_null() {
        *run = Value::Object(Map::new());
    }
    let run = run
        .as_object_mut()
        .ok_or_else(|| shape("`config` is not an object"))?;
    let mut vars: Vec<(String, String)> = run
        .get("Env")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (kv.to_string(), String::new()),
                })
                .collect()
        })
        .unwrap_or_default();
    let path = vars
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| DEFAULT_PATH.to_string());
    let mut set = |k: &str, v: String| match vars.iter_mut().find(|(name, _)| name == k) {
        Some(slot) => slot.1 = v,
        None => vars.push((k.to_string(), v)),
    };
    if !path.split(':').any(|p| p == FUNCTION_DIR) {
        set("PATH", format!("{FUNCTION_DIR}:{path}"));
    }
    set("PYTHONIOENCODING", "utf8".into());
    for (k, v) in env {
        set(k, v.clone());
    }
    run.insert(
        "Env".into(),
        Value::Array(
            vars.into_iter()
                .map(|(k, v)| Value::String(format!("{k}={v}")))
                .collect(),
        ),
    );
    if !labels.is_empty() {
        let slot = run
            .entry("Labels")
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        if let Some(l) = slot.as_object_mut() {
            for (k, v) in labels {
                l.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
    run.insert("Entrypoint".into(), json!([SUPERVISOR_PATH]));
    run.insert("Cmd".into(), Value::Null);
    run.insert("WorkingDir".into(), json!(FUNCTION_DIR));
    serde_json::to_vec(&config).map_err(|source| AssembleError::Json {
        what: "config",
        source,
    })
}

/// The function image's manifest: the base's layers and the new one, and
/// the new config, in the base manifest's media types.
pub fn derive_manifest(
    base: &[u8],
    config: &Descriptor,
    layer: &Layer,
) -> Result<Vec<u8>, AssembleError> {
    let mut manifest: Value =
        serde_json::from_slice(base).map_err(|source| AssembleError::Json {
            what: "manifest",
            source,
        })?;
    let shape = |why: &str| AssembleError::Shape {
        what: "manifest",
        why: why.to_string(),
    };
    let root = manifest
        .as_object_mut()
        .ok_or_else(|| shape("not an object"))?;
    if root.contains_key("manifests") {
        return Err(shape(
            "it is an index of several platforms; resolve the platform first",
        ));
    }
    let media_type = root
        .get("mediaType")
        .and_then(Value::as_str)
        .unwrap_or("application/vnd.oci.image.manifest.v1+json")
        .to_string();
    let layers = root
        .get_mut("layers")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| shape("it has no `layers` list"))?;
    layers.push(json!({
        "mediaType": layer_media_type(&media_type),
        "digest": layer.digest,
        "size": layer.size,
    }));
    let old_config_type = root
        .get("config")
        .and_then(|c| c.get("mediaType"))
        .and_then(Value::as_str)
        .unwrap_or(&config.media_type)
        .to_string();
    root.insert(
        "config".into(),
        json!({
            "mediaType": old_config_type,
            "digest": config.digest,
            "size": config.size,
        }),
    );
    serde_json::to_vec(&manifest).map_err(|source| AssembleError::Json {
        what: "manifest",
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn layer_of(script: &[u8]) -> (Layer, Vec<u8>) {
        let mut out = Vec::new();
        let layer = write_layer(
            vec![
                LayerFile::bytes("supervisor", 0o755, b"\x7fELF fake supervisor"),
                LayerFile::bytes("function_config.yaml", 0o644, b"name: f\n"),
                LayerFile::bytes("script.sh", 0o755, script),
            ],
            &mut out,
        )
        .unwrap();
        (layer, out)
    }

    #[test]
    fn the_layer_is_reproducible_and_changes_with_its_content() {
        let (a, bytes_a) = layer_of(b"echo hi\n");
        let (b, bytes_b) = layer_of(b"echo hi\n");
        assert_eq!(a, b, "same inputs, same digest");
        assert_eq!(bytes_a, bytes_b);
        let (c, _) = layer_of(b"echo bye\n");
        assert_ne!(a.digest, c.digest);
        assert_ne!(a.diff_id, c.diff_id);
        assert_eq!(a.size, bytes_a.len() as u64);
        assert_eq!(a.digest, sha256_digest(&bytes_a));
    }

    #[test]
    fn the_layer_holds_the_files_in_var_task_owned_by_root_at_the_epoch() {
        let (layer, bytes) = layer_of(b"echo hi\n");
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(layer.diff_id, sha256_digest(&plain), "diff id is the tar's");
        let mut archive = tar::Archive::new(&plain[..]);
        let mut seen = Vec::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let h = e.header().clone();
            let path = e.path().unwrap().to_string_lossy().to_string();
            let mut content = String::new();
            if h.entry_type().is_file() {
                e.read_to_string(&mut content).unwrap();
            }
            assert_eq!(
                (h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap()),
                (0, 0, 0)
            );
            seen.push((path, h.mode().unwrap(), content));
        }
        let names: Vec<&str> = seen.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "var/",
                "var/task/",
                "var/task/supervisor",
                "var/task/function_config.yaml",
                "var/task/script.sh"
            ]
        );
        assert_eq!(seen[2].1, 0o755);
        assert_eq!(seen[3].1, 0o644);
        assert_eq!(seen[4].2, "echo hi\n");
    }

    fn base_config() -> Vec<u8> {
        serde_json::to_vec(&json!({
            "architecture": "amd64",
            "os": "linux",
            "created": "2020-01-01T00:00:00Z",
            "config": {
                "Env": ["PATH=/usr/bin:/bin", "LANG=C.UTF-8", "MODE=base"],
                "Entrypoint": ["ffmpeg"],
                "Cmd": ["--help"],
            },
            "rootfs": {"type": "layers", "diff_ids": ["sha256:aa"]},
            "history": [{"created_by": "base"}],
        }))
        .unwrap()
    }

    #[test]
    fn the_config_runs_the_supervisor_in_var_task_with_both_environments() {
        let (layer, _) = layer_of(b"x");
        let env = BTreeMap::from([
            ("MODE".to_string(), "container".to_string()),
            ("EXTRA".to_string(), "1".to_string()),
        ]);
        let out = derive_config(&base_config(), &layer, &env, &BTreeMap::new()).unwrap();
        let c: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(c["config"]["Entrypoint"], json!([SUPERVISOR_PATH]));
        assert_eq!(
            c["config"]["Cmd"],
            Value::Null,
            "the base's CMD is not an argument"
        );
        assert_eq!(c["config"]["WorkingDir"], FUNCTION_DIR);
        assert_eq!(
            c["config"]["Env"],
            json!([
                "PATH=/var/task:/usr/bin:/bin",
                "LANG=C.UTF-8",
                "MODE=container",
                "PYTHONIOENCODING=utf8",
                "EXTRA=1"
            ])
        );
        assert_eq!(c["rootfs"]["diff_ids"], json!(["sha256:aa", layer.diff_id]));
        assert_eq!(
            c["created"], "2020-01-01T00:00:00Z",
            "no new time: reproducible"
        );
        assert_eq!(c["history"].as_array().unwrap().len(), 2);
        assert_eq!(
            out,
            derive_config(&base_config(), &layer, &env, &BTreeMap::new()).unwrap()
        );
    }

    #[test]
    fn a_config_without_env_gets_dockers_default_path() {
        let (layer, _) = layer_of(b"x");
        let base = serde_json::to_vec(
            &json!({"rootfs": {"type": "layers", "diff_ids": []}, "config": null}),
        )
        .unwrap();
        let c: Value = serde_json::from_slice(
            &derive_config(&base, &layer, &BTreeMap::new(), &BTreeMap::new()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            c["config"]["Env"][0],
            format!("PATH=/var/task:{DEFAULT_PATH}")
        );
    }

    #[test]
    fn the_manifest_appends_one_layer_in_the_bases_media_types() {
        let (layer, _) = layer_of(b"x");
        for (manifest_type, config_type, layer_type) in [
            (
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
            ),
            (
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar+gzip",
            ),
        ] {
            let base = serde_json::to_vec(&json!({
                "schemaVersion": 2,
                "mediaType": manifest_type,
                "config": {"mediaType": config_type, "digest": "sha256:old", "size": 1},
                "layers": [{"mediaType": layer_type, "digest": "sha256:b1", "size": 10}],
            }))
            .unwrap();
            let config = Descriptor::of(config_type, b"{}");
            let m: Value =
                serde_json::from_slice(&derive_manifest(&base, &config, &layer).unwrap()).unwrap();
            let layers = m["layers"].as_array().unwrap();
            assert_eq!(layers.len(), 2, "exactly one layer added");
            assert_eq!(layers[0]["digest"], "sha256:b1");
            assert_eq!(layers[1]["mediaType"], layer_type);
            assert_eq!(layers[1]["digest"], layer.digest);
            assert_eq!(m["config"]["digest"], config.digest);
            assert_eq!(m["config"]["mediaType"], config_type);
            assert_eq!(m["mediaType"], manifest_type);
        }
    }

    #[test]
    fn an_index_or_garbage_is_refused_with_why() {
        let (layer, _) = layer_of(b"x");
        let config = Descriptor::of("application/vnd.oci.image.config.v1+json", b"{}");
        let index = br#"{"schemaVersion":2,"manifests":[]}"#;
        let e = derive_manifest(index, &config, &layer).unwrap_err();
        assert!(e.to_string().contains("index"), "{e}");
        let e = derive_config(b"not json", &layer, &BTreeMap::new(), &BTreeMap::new()).unwrap_err();
        assert!(e.to_string().contains("not valid JSON"), "{e}");
    }
}
