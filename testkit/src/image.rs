//! Base images for tests, pushed to a real registry ([`crate::registry`])
//! with `oci-client` alone (not through scar's code): a root filesystem
//! folder as one gzip layer ([`tar_gz_dir`]), or synthetic layers, under a
//! config; and multi-platform indexes.

use std::io::Write;
use std::path::Path;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    let h = Sha256::digest(bytes);
    format!(
        "sha256:{}",
        h.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// A gzip tar of the folder `dir` as an image layer (paths relative to
/// it, sorted; owners root; times the epoch). Regular files, folders and
/// symbolic links; anything else (fifos, sockets) is left out.
pub fn tar_gz_dir(dir: &Path) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    let mut stack = vec![dir.to_path_buf()];
    let mut entries = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p.clone());
            }
            entries.push(p);
        }
    }
    entries.sort();
    for p in entries {
        let rel = p.strip_prefix(dir).unwrap();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        let ft = meta.file_type();
        let mut h = tar::Header::new_ustar();
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        use std::os::unix::fs::PermissionsExt;
        h.set_mode(meta.permissions().mode() & 0o7777);
        if ft.is_dir() {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            tar.append_data(&mut h, rel, std::io::empty()).unwrap();
        } else if ft.is_symlink() {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            let target = std::fs::read_link(&p).unwrap();
            tar.append_link(&mut h, rel, target).unwrap();
        } else if ft.is_file() {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(meta.len());
            tar.append_data(&mut h, rel, std::fs::File::open(&p).unwrap())
                .unwrap();
        }
    }
    gzip(&tar.into_inner().unwrap())
}

/// `bytes` gzipped (fast).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A gzip tar holding one file `name` of `size` pseudo-random bytes (seeded).
pub fn random_layer(seed: u64, name: &str, size: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let data: Vec<u8> = (0..size)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect();
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, name, &data[..]).unwrap();
    gzip(&tar.into_inner().unwrap())
}

fn client(host: &str) -> Client {
    Client::new(ClientConfig {
        protocol: ClientProtocol::HttpsExcept(vec![host.to_string()]),
        use_monolithic_push: true,
        ..Default::default()
    })
}

/// Runs `f` to the end on a runtime of its own, on a thread of its own
/// (so that async tests can call these blocking helpers too).
fn block_on<F>(f: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(f)
        })
        .join()
        .unwrap()
    })
}

/// An image to push: its layers (gzip blobs) and its config's `config`
/// block (`Env`, `Cmd`, ...), for `linux/<arch>`.
pub struct Image {
    pub layers: Vec<Vec<u8>>,
    pub run: Value,
    /// `amd64` or `arm64`.
    pub arch: String,
}

impl Image {
    /// One layer of `dir`, with `PATH` set, for amd64.
    pub fn of_dir(dir: &Path) -> Image {
        Image {
            layers: vec![tar_gz_dir(dir)],
            run: json!({"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Cmd": ["/bin/sh"]}),
            arch: "amd64".into(),
        }
    }
}

/// Pushes `image` to `host/repo:tag` (blobs, config, manifest); returns
/// the manifest's digest and its size.
pub fn push(host: &str, repo: &str, tag: &str, image: &Image) -> (String, usize) {
    push_as(host, repo, tag, image, None)
}

/// [`push`], logged in as (user, password) when given.
pub fn push_as(
    host: &str,
    repo: &str,
    tag: &str,
    image: &Image,
    login: Option<(&str, &str)>,
) -> (String, usize) {
    let auth = match login {
        Some((u, p)) => RegistryAuth::Basic(u.into(), p.into()),
        None => RegistryAuth::Anonymous,
    };
    block_on(async {
        let c = client(host);
        let r = Reference::with_tag(host.into(), repo.into(), tag.into());
        c.store_auth_if_needed(r.resolve_registry(), &auth).await;
        let mut descriptors = Vec::new();
        let mut diff_ids = Vec::new();
        for blob in &image.layers {
            let d = digest(blob);
            c.push_blob(&r, blob.clone(), &d).await.unwrap();
            let mut plain = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&blob[..]), &mut plain)
                .unwrap();
            diff_ids.push(digest(&plain));
            descriptors.push(json!({"mediaType": LAYER, "digest": d, "size": blob.len()}));
        }
        let config = serde_json::to_vec(&json!({
            "architecture": image.arch, "os": "linux",
            "config": image.run,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }))
        .unwrap();
        let cd = digest(&config);
        c.push_blob(&r, config.clone(), &cd).await.unwrap();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": CONFIG, "digest": cd, "size": config.len()},
            "layers": descriptors,
        }))
        .unwrap();
        c.push_manifest_raw(&r, manifest.clone(), MANIFEST.parse().unwrap())
            .await
            .unwrap();
        (digest(&manifest), manifest.len())
    })
}

/// Pushes an index at `host/repo:tag` naming already pushed manifests:
/// (digest, size, `os/arch`) each; returns its digest.
pub fn push_index(
    host: &str,
    repo: &str,
    tag: &str,
    manifests: &[(String, usize, &str)],
) -> String {
    block_on(async {
        let c = client(host);
        let r = Reference::with_tag(host.into(), repo.into(), tag.into());
        c.store_auth_if_needed(r.resolve_registry(), &RegistryAuth::Anonymous)
            .await;
        let list: Vec<Value> = manifests
            .iter()
            .map(|(d, size, platform)| {
                let (os, arch) = platform.split_once('/').unwrap();
                json!({"mediaType": MANIFEST, "digest": d, "size": size,
                       "platform": {"os": os, "architecture": arch}})
            })
            .collect();
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": INDEX, "manifests": list,
        }))
        .unwrap();
        c.push_manifest_raw(&r, index.clone(), INDEX.parse().unwrap())
            .await
            .unwrap();
        digest(&index)
    })
}

/// The manifest at `host/repo@digest_or_tag`, as JSON (read back with
/// oci-client), and its digest.
pub fn manifest(host: &str, repo: &str, reference: &str) -> Option<(Value, String)> {
    block_on(async {
        let c = client(host);
        let r = if reference.starts_with("sha256:") {
            Reference::with_digest(host.into(), repo.into(), reference.into())
        } else {
            Reference::with_tag(host.into(), repo.into(), reference.into())
        };
        let (bytes, d) = c
            .pull_manifest_raw(&r, &RegistryAuth::Anonymous, &[MANIFEST, INDEX])
            .await
            .ok()?;
        Some((serde_json::from_slice(&bytes).unwrap(), d))
    })
}

/// The tags of `host/repo`, sorted (empty when it does not exist).
pub fn tags(host: &str, repo: &str) -> Vec<String> {
    block_on(async {
        let c = client(host);
        let r = Reference::with_tag(host.into(), repo.into(), "latest".into());
        match c.list_tags(&r, &RegistryAuth::Anonymous, None, None).await {
            Ok(t) => {
                let mut tags = t.tags;
                tags.sort();
                tags
            }
            Err(_) => Vec::new(),
        }
    })
}
