//! An image saved to a file (`container.image_file`, SCAR's pre-saved
//! image) as a function's base: a `docker save` tarball (`manifest.json`,
//! the config, one tar per layer) or an OCI image layout archive
//! (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), either of them
//! plain or gzipped. It is unpacked once into the cache, by the archive's
//! own hash; layers that are plain tars are gzipped there (Lambda takes
//! gzip layers), deterministically, so the same archive always gives the
//! same base digest. Entries are only ever written inside that folder.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::assemble::Descriptor;
use super::reference::ImageRef;
use super::registry::{platform_of, BaseImage};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// Why an image archive cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("`{given}` is not an image archive: {why}\nhint: save one with `docker save IMAGE -o FILE` (or `skopeo copy docker://IMAGE oci-archive:FILE`), or name the image with `container.image` instead")]
    NotAnImage { given: String, why: String },
    #[error("`{given}` holds an image for {have}; the function runs on {wanted}\nhint: save the image for the function's platform (`docker save` of an image pulled with `--platform {wanted}`), or change `architectures`")]
    Platform {
        given: String,
        have: String,
        wanted: String,
    },
    #[error("cannot read the image archive `{given}`")]
    Io {
        given: String,
        #[source]
        source: std::io::Error,
    },
}

fn io_error(given: &str, source: std::io::Error) -> ArchiveError {
    ArchiveError::Io {
        given: given.to_string(),
        source,
    }
}

fn not_an_image(given: &str, why: String) -> ArchiveError {
    ArchiveError::NotAnImage {
        given: given.to_string(),
        why,
    }
}

/// What an unpacked archive gives, remembered beside it.
#[derive(Serialize, Deserialize)]
struct Unpacked {
    manifest: String,
    config: String,
    layers: Vec<(String, u64, String)>,
}

/// The base image in the archive `path` (`given`: as the manifest names
/// it), for `architecture`, unpacked under `cache` (once per archive).
pub fn open(
    given: &str,
    path: &Path,
    architecture: &str,
    cache: &Path,
) -> Result<BaseImage, ArchiveError> {
    let io = |source| io_error(given, source);
    let not = |why: String| not_an_image(given, why);
    let mut hash = crate::hash::Sha256Writer::default();
    std::io::copy(&mut File::open(path).map_err(io)?, &mut hash).map_err(io)?;
    let dir = cache.join(hash.hex());
    let done = dir.join("scar-unpacked.json");
    let unpacked: Unpacked = match std::fs::read(&done)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        Some(u) => u,
        None => {
            let tmp = cache.join(format!(".{}.{}.tmp", hash.hex(), std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            std::fs::create_dir_all(&tmp).map_err(io)?;
            let result = unpack(path, &tmp, given).and_then(|()| read_image(&tmp, given));
            let u = match result {
                Ok(u) => u,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&tmp);
                    return Err(e);
                }
            };
            std::fs::write(
                tmp.join("scar-unpacked.json"),
                serde_json::to_vec(&u).unwrap_or_default(),
            )
            .map_err(io)?;
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::rename(&tmp, &dir).map_err(io)?;
            u
        }
    };
    let config = std::fs::read(dir.join(&unpacked.config)).map_err(io)?;
    let doc: Value = serde_json::from_slice(&config)
        .map_err(|e| not(format!("its image config is not JSON ({e})")))?;
    let (os, arch) = platform_of(architecture);
    let have = format!(
        "{}/{}",
        doc["os"].as_str().unwrap_or("linux"),
        doc["architecture"].as_str().unwrap_or("amd64")
    );
    if have != format!("{os}/{arch}") {
        return Err(ArchiveError::Platform {
            given: given.to_string(),
            have,
            wanted: format!("{os}/{arch}"),
        });
    }
    let manifest = unpacked.manifest.into_bytes();
    let digest = super::assemble::sha256_digest(&manifest);
    let mut local_blobs = BTreeMap::new();
    let layers = unpacked
        .layers
        .iter()
        .map(|(d, size, file)| {
            local_blobs.insert(d.clone(), dir.join(file));
            Descriptor {
                media_type: OCI_LAYER_GZIP.into(),
                digest: d.clone(),
                size: *size,
            }
        })
        .collect();
    // The archive has no registry: its name stands for it in messages.
    let named = ImageRef::parse("scar.local/image-file:latest").map_err(|e| not(e.to_string()))?;
    Ok(BaseImage {
        origin: format!("file:{given}"),
        source: named.clone(),
        named,
        insecure: false,
        config_descriptor: Descriptor::of(OCI_CONFIG, &config),
        config,
        manifest,
        digest,
        media_type: OCI_MANIFEST.into(),
        layers,
        local_blobs,
    })
}

/// Whether a file starts as a gzip stream does.
fn is_gzip(path: &Path) -> std::io::Result<bool> {
    let mut magic = [0u8; 2];
    let n = File::open(path)?.read(&mut magic)?;
    Ok(n == 2 && magic == [0x1f, 0x8b])
}

/// A tar entry's path, if it stays inside the folder (no `..`, not absolute).
fn inside(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Writes the archive's regular files into `to` (links to files in it are
/// copied; nothing else is kept).
fn unpack(path: &Path, to: &Path, given: &str) -> Result<(), ArchiveError> {
    let io = |source| io_error(given, source);
    let not = |why: String| not_an_image(given, why);
    let file = BufReader::new(File::open(path).map_err(io)?);
    let reader: Box<dyn Read> = if is_gzip(path).map_err(io)? {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut tar = tar::Archive::new(reader);
    let mut links = Vec::new();
    let entries = tar
        .entries()
        .map_err(|e| not(format!("it is not a tar file ({e})")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| not(format!("it is not a tar file ({e})")))?;
        let Some(rel) = entry.path().ok().and_then(|p| inside(&p)) else {
            continue;
        };
        let kind = entry.header().entry_type();
        if kind.is_file() {
            let dest = to.join(&rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            let mut out = BufWriter::new(File::create(&dest).map_err(io)?);
            std::io::copy(&mut entry, &mut out).map_err(io)?;
            out.flush().map_err(io)?;
        } else if kind.is_symlink() || kind.is_hard_link() {
            // Old `docker save` links a repeated layer to its first copy.
            if let Ok(Some(target)) = entry.link_name() {
                let base = if kind.is_symlink() {
                    rel.parent().map(Path::to_path_buf).unwrap_or_default()
                } else {
                    PathBuf::new()
                };
                if let Some(t) = inside(&normalize(&base.join(target))) {
                    links.push((rel, t));
                }
            }
        }
    }
    for (link, target) in links {
        let dest = to.join(&link);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        if to.join(&target).is_file() {
            std::fs::copy(to.join(&target), &dest).map_err(io)?;
        }
    }
    Ok(())
}

/// `a/b/../c` → `a/c` (a `..` above the start is kept, and refused later).
fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out.iter().collect()
}

/// A blob's file in an OCI layout (`sha256:ab…` → `blobs/sha256/ab…`).
fn blob_path(digest: &str) -> Option<PathBuf> {
    let (alg, hex) = digest.split_once(':')?;
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    (ok(alg) && ok(hex)).then(|| Path::new("blobs").join(alg).join(hex))
}

/// Reads the unpacked archive in `dir`: the config and the layers (each
/// gzipped if it is not), and a manifest for them.
fn read_image(dir: &Path, given: &str) -> Result<Unpacked, ArchiveError> {
    let not = |why: String| not_an_image(given, why);
    let io = |source| io_error(given, source);
    let json = |rel: &Path| -> Result<Value, ArchiveError> {
        let bytes = std::fs::read(dir.join(rel)).map_err(|_| {
            not(format!(
                "it names `{}`, which it does not hold",
                rel.display()
            ))
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| not(format!("`{}` is not JSON ({e})", rel.display())))
    };
    // (config file, layer files), both relative to `dir`.
    let (config, layer_files): (PathBuf, Vec<PathBuf>) = if dir.join("manifest.json").is_file() {
        let m = json(Path::new("manifest.json"))?;
        let first = m
            .as_array()
            .and_then(|a| a.first())
            .ok_or_else(|| not("its `manifest.json` lists no image".into()))?;
        let config = first["Config"]
            .as_str()
            .and_then(|c| inside(Path::new(c)))
            .ok_or_else(|| not("its `manifest.json` names no config".into()))?;
        let layers = first["Layers"]
            .as_array()
            .ok_or_else(|| not("its `manifest.json` names no layers".into()))?
            .iter()
            .map(|l| {
                l.as_str()
                    .and_then(|l| inside(Path::new(l)))
                    .ok_or_else(|| not("a layer in `manifest.json` is not a path in it".into()))
            })
            .collect::<Result<_, _>>()?;
        (config, layers)
    } else if dir.join("index.json").is_file() {
        let index = json(Path::new("index.json"))?;
        let mut manifest = index["manifests"]
            .as_array()
            .and_then(|a| a.first())
            .cloned()
            .ok_or_else(|| not("its `index.json` lists no image".into()))?;
        // An index inside the layout: its first manifest.
        for _ in 0..2 {
            let digest = manifest["digest"].as_str().unwrap_or_default();
            let path =
                blob_path(digest).ok_or_else(|| not(format!("`{digest}` is not a digest")))?;
            let doc = json(&path)?;
            match doc.get("manifests").and_then(Value::as_array) {
                Some(list) => {
                    manifest = list
                        .first()
                        .cloned()
                        .ok_or_else(|| not("an index in it lists no image".into()))?
                }
                None => {
                    manifest = doc;
                    break;
                }
            }
        }
        let config = manifest["config"]["digest"]
            .as_str()
            .and_then(blob_path)
            .ok_or_else(|| not("its manifest names no config".into()))?;
        let layers = manifest["layers"]
            .as_array()
            .ok_or_else(|| not("its manifest names no layers".into()))?
            .iter()
            .map(|l| {
                l["digest"]
                    .as_str()
                    .and_then(blob_path)
                    .ok_or_else(|| not("a layer of its manifest has no digest".into()))
            })
            .collect::<Result<_, _>>()?;
        (config, layers)
    } else {
        return Err(not(
            "it holds neither `manifest.json` (docker save) nor `index.json` (an OCI layout)"
                .into(),
        ));
    };
    let config_bytes = std::fs::read(dir.join(&config)).map_err(|_| {
        not(format!(
            "it names the config `{}`, which it does not hold",
            config.display()
        ))
    })?;
    let mut layers = Vec::new();
    for (i, rel) in layer_files.iter().enumerate() {
        let file = dir.join(rel);
        if !file.is_file() {
            return Err(not(format!(
                "it names the layer `{}`, which it does not hold",
                rel.display()
            )));
        }
        let gz_rel = if is_gzip(&file).map_err(io)? {
            rel.clone()
        } else {
            // Gzip it, deterministically (no name, no time in the header).
            let gz_rel = PathBuf::from(format!("scar-gz/{i}.tar.gz"));
            let gz = dir.join(&gz_rel);
            std::fs::create_dir_all(dir.join("scar-gz")).map_err(io)?;
            let mut enc = flate2::GzBuilder::new().mtime(0).write(
                BufWriter::new(File::create(&gz).map_err(io)?),
                flate2::Compression::default(),
            );
            std::io::copy(&mut File::open(&file).map_err(io)?, &mut enc).map_err(io)?;
            enc.finish().map_err(io)?.flush().map_err(io)?;
            std::fs::remove_file(&file).map_err(io)?;
            gz_rel
        };
        let mut h = crate::hash::Sha256Writer::default();
        let size =
            std::io::copy(&mut File::open(dir.join(&gz_rel)).map_err(io)?, &mut h).map_err(io)?;
        layers.push((
            format!("sha256:{}", h.hex()),
            size,
            gz_rel.display().to_string(),
        ));
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "digest": super::assemble::sha256_digest(&config_bytes),
            "size": config_bytes.len(),
        },
        "layers": layers.iter().map(|(d, size, _)| json!({
            "mediaType": OCI_LAYER_GZIP, "digest": d, "size": size,
        })).collect::<Vec<_>>(),
    });
    Ok(Unpacked {
        manifest: serde_json::to_string(&manifest).unwrap_or_default(),
        config: config.display().to_string(),
        layers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut t = tar::Builder::new(Vec::new());
        for (name, bytes) in entries {
            let mut h = tar::Header::new_ustar();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            t.append_data(&mut h, name, *bytes).unwrap();
        }
        t.into_inner().unwrap()
    }

    fn docker_save(arch: &str) -> Vec<u8> {
        let layer = tar_of(&[("bin/hello", b"hi\n")]);
        let diff = super::super::assemble::sha256_digest(&layer);
        let config = serde_json::to_vec(&json!({
            "architecture": arch, "os": "linux",
            "config": {"Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [diff]},
        }))
        .unwrap();
        let manifest = serde_json::to_vec(&json!([{
            "Config": "cfg.json", "RepoTags": ["minicow:latest"], "Layers": ["abc/layer.tar"],
        }]))
        .unwrap();
        tar_of(&[
            ("manifest.json", &manifest),
            ("cfg.json", &config),
            ("abc/layer.tar", &layer),
        ])
    }

    #[test]
    fn a_docker_save_archive_is_a_base_with_gzip_layers_and_the_same_digest_every_time() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("minicow.tar");
        std::fs::write(&file, docker_save("amd64")).unwrap();
        let a = open("minicow.tar", &file, "x86_64", &dir.path().join("c1")).unwrap();
        assert_eq!(a.layers.len(), 1);
        assert_eq!(a.origin, "file:minicow.tar");
        let blob = &a.local_blobs[&a.layers[0].digest];
        assert!(is_gzip(blob).unwrap());
        assert_eq!(
            super::super::assemble::sha256_digest(&std::fs::read(blob).unwrap()),
            a.layers[0].digest
        );
        // Unpacked elsewhere, or gzipped as a whole: the same base.
        let b = open("minicow.tar", &file, "x86_64", &dir.path().join("c2")).unwrap();
        assert_eq!(a.digest, b.digest);
        let gz = dir.path().join("minicow.tar.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&docker_save("amd64")).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let c = open("minicow.tar.gz", &gz, "x86_64", &dir.path().join("c1")).unwrap();
        assert_eq!(c.digest, a.digest);
        // Read again from the cache.
        let again = open("minicow.tar", &file, "x86_64", &dir.path().join("c1")).unwrap();
        assert_eq!(again.digest, a.digest);
    }

    #[test]
    fn what_is_not_an_image_archive_or_not_for_the_platform_is_refused_with_why() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("c");
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let p = write("notes.txt", b"just text, not a tar at all............");
        let e = open("notes.txt", &p, "x86_64", &cache)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`notes.txt` is not an image archive") && e.contains("hint:"),
            "{e}"
        );
        let p = write("files.tar", &tar_of(&[("README", b"x")]));
        let e = open("files.tar", &p, "x86_64", &cache)
            .unwrap_err()
            .to_string();
        assert!(e.contains("neither `manifest.json`"), "{e}");
        let p = write(
            "escape.tar",
            &tar_of(&[(
                "manifest.json",
                br#"[{"Config": "../../etc/passwd", "Layers": []}]"#,
            )]),
        );
        let e = open("escape.tar", &p, "x86_64", &cache)
            .unwrap_err()
            .to_string();
        assert!(e.contains("names no config"), "{e}");
        let p = write("arm.tar", &docker_save("arm64"));
        let e = open("arm.tar", &p, "x86_64", &cache)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("linux/arm64") && e.contains("linux/amd64"),
            "{e}"
        );
        // Nothing half-unpacked is left to be taken for done.
        assert!(std::fs::read_dir(&cache).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with('.')));
    }
}
