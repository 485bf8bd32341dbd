//! Root filesystems for local runs: a base image's layers unpacked in
//! order into one folder, as a container runtime's snapshotter would,
//! cached by the base manifest's digest (`<cache>/images/rootfs/<hex>/`).
//!
//! Invariants: nothing is ever written outside the folder (entry paths with
//! `..`, paths through a symbolic link, and hard links leaving the folder
//! are refused, and no write follows a link); OCI whiteouts are honoured
//! (`.wh.<name>` removes what lower layers put there, `.wh..wh..opq`
//! empties a folder of them); device nodes, fifos and sockets are skipped
//! (a rootless runtime gives the root its own `/dev`); set-id bits are
//! dropped (they cannot work without privileges, and must not become
//! set-id files of the host's cache). A root is unpacked under a temporary
//! name and renamed when complete, so a crash never leaves a half root
//! that looks done.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use crate::image::registry::{self, BaseImage, Registries};

/// The folders a runtime mounts over in the root (`/proc`, `/dev`, the
/// `/tmp` tmpfs, the function's `/var/task`), and the files it binds the
/// host's over when the image brings none: made in every root so that the
/// runtime never has to create them in a read-only root.
const MOUNT_DIRS: [&str; 5] = ["dev", "proc", "tmp", "var/task", "etc"];
/// Name-service files; an image without them gets an empty placeholder,
/// which [`super::run`] replaces with the host's (as docker does).
pub const HOST_FILES: [&str; 2] = ["etc/hosts", "etc/resolv.conf"];

/// Why a layer or a root could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("layer entry `{entry}` would be written outside the root: {why}")]
    Escape { entry: String, why: &'static str },
    #[error("cannot unpack layer entry `{entry}` into {}: {source}", root.display())]
    Io {
        entry: String,
        root: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the layer: {0}")]
    Read(#[source] io::Error),
    #[error("the layer is compressed with zstd, which scar cannot unpack yet; use a gzip or plain tar layer")]
    Zstd,
}

/// Why the root of a base image could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error("cannot pull layer {digest} of `{image}`")]
    Pull {
        image: String,
        digest: String,
        #[source]
        source: registry::PullBlobError,
    },
    #[error("cannot unpack layer {digest} of `{image}`")]
    Unpack {
        image: String,
        digest: String,
        #[source]
        source: UnpackError,
    },
    #[error("cannot prepare the root folder {}: {source}", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// A path inside the root, checked: relative, normal components only.
fn clean(path: &Path, entry: &str) -> Result<PathBuf, UnpackError> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => {
                return Err(UnpackError::Escape {
                    entry: entry.to_string(),
                    why: "it has a `..` component",
                })
            }
            Component::Prefix(_) => {
                return Err(UnpackError::Escape {
                    entry: entry.to_string(),
                    why: "it has a path prefix",
                })
            }
        }
    }
    Ok(out)
}

/// Refuses `rel` when a folder on its way (inside `root`) is a symbolic
/// link: writing there would follow it, possibly out of the root.
fn no_link_on_the_way(root: &Path, rel: &Path, entry: &str) -> Result<(), UnpackError> {
    let mut at = root.to_path_buf();
    let parents: Vec<_> = rel.components().collect();
    for c in parents.iter().take(parents.len().saturating_sub(1)) {
        at.push(c);
        if let Ok(meta) = fs::symlink_metadata(&at) {
            if meta.file_type().is_symlink() {
                return Err(UnpackError::Escape {
                    entry: entry.to_string(),
                    why: "a folder on its path is a symbolic link",
                });
            }
        }
    }
    Ok(())
}

/// Removes whatever is at `path` (file, link or folder), if anything.
fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// The mode a file keeps: its permission bits without set-id bits.
fn kept_mode(mode: u32) -> u32 {
    mode & 0o1777
}

/// Unpacks one layer (a tar, gzip-compressed or not: told by its first
/// bytes) over what `root` holds. See the module's invariants.
pub fn unpack_layer<R: Read>(layer: R, root: &Path) -> Result<(), UnpackError> {
    let mut reader = BufReader::new(layer);
    let magic = {
        use io::BufRead;
        reader.fill_buf().map_err(UnpackError::Read)?.to_vec()
    };
    if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(UnpackError::Zstd);
    }
    if magic.starts_with(&[0x1f, 0x8b]) {
        unpack_tar(flate2::read::GzDecoder::new(reader), root)
    } else {
        unpack_tar(reader, root)
    }
}

fn unpack_tar<R: Read>(tar: R, root: &Path) -> Result<(), UnpackError> {
    use std::os::unix::fs::PermissionsExt;
    let mut archive = tar::Archive::new(tar);
    // What this layer put there: an opaque marker empties a folder of the
    // lower layers' entries only, whatever the order of the tar.
    let mut written: HashSet<PathBuf> = HashSet::new();
    for entry in archive.entries().map_err(UnpackError::Read)? {
        let mut entry = entry.map_err(UnpackError::Read)?;
        let raw = entry.path().map_err(UnpackError::Read)?.into_owned();
        let name = raw.display().to_string();
        let rel = clean(&raw, &name)?;
        if rel.as_os_str().is_empty() {
            continue; // the root folder itself
        }
        no_link_on_the_way(root, &rel, &name)?;
        let io_err = |source| UnpackError::Io {
            entry: name.clone(),
            root: root.to_path_buf(),
            source,
        };
        let file_name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = rel.parent().unwrap_or(Path::new("")).to_path_buf();
        if file_name == ".wh..wh..opq" {
            let dir = root.join(&parent);
            if let Ok(children) = fs::read_dir(&dir) {
                for child in children.flatten() {
                    let child_rel = parent.join(child.file_name());
                    if !written.contains(&child_rel) {
                        remove_any(&child.path()).map_err(io_err)?;
                    }
                }
            }
            continue;
        }
        if let Some(hidden) = file_name.strip_prefix(".wh.") {
            remove_any(&root.join(&parent).join(hidden)).map_err(io_err)?;
            continue;
        }
        let target = root.join(&rel);
        if !parent.as_os_str().is_empty() {
            fs::create_dir_all(root.join(&parent)).map_err(io_err)?;
        }
        let mode = entry.header().mode().unwrap_or(0o644);
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Directory => {
                match fs::symlink_metadata(&target) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        fs::remove_file(&target).map_err(io_err)?;
                        fs::create_dir(&target).map_err(io_err)?;
                    }
                    Err(_) => fs::create_dir(&target).map_err(io_err)?,
                }
                // Always writable by its owner, so later layers can fill it.
                fs::set_permissions(&target, fs::Permissions::from_mode(kept_mode(mode) | 0o700))
                    .map_err(io_err)?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                remove_any(&target).map_err(io_err)?;
                // A new file (never through a link left at that name).
                let mut out = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&target)
                    .map_err(io_err)?;
                io::copy(&mut entry, &mut out).map_err(io_err)?;
                fs::set_permissions(&target, fs::Permissions::from_mode(kept_mode(mode)))
                    .map_err(io_err)?;
            }
            tar::EntryType::Symlink => {
                let link = entry
                    .link_name()
                    .map_err(UnpackError::Read)?
                    .ok_or_else(|| {
                        UnpackError::Read(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("symbolic link `{name}` has no target"),
                        ))
                    })?
                    .into_owned();
                remove_any(&target).map_err(io_err)?;
                // Stored as given: it is resolved inside the root by the
                // runtime, never followed here.
                std::os::unix::fs::symlink(&link, &target).map_err(io_err)?;
            }
            tar::EntryType::Link => {
                let link = entry
                    .link_name()
                    .map_err(UnpackError::Read)?
                    .map(|l| l.into_owned())
                    .unwrap_or_default();
                let link_rel = clean(&link, &name)?;
                no_link_on_the_way(root, &link_rel, &name)?;
                let source = root.join(&link_rel);
                let meta = fs::symlink_metadata(&source).map_err(io_err)?;
                if meta.file_type().is_symlink() {
                    return Err(UnpackError::Escape {
                        entry: name,
                        why: "it is a hard link to a symbolic link",
                    });
                }
                remove_any(&target).map_err(io_err)?;
                fs::hard_link(&source, &target).map_err(io_err)?;
            }
            // Device nodes, fifos, sockets: the runtime gives its own /dev.
            other => {
                tracing::debug!(entry = %name, kind = ?other, "skipped in the root");
                continue;
            }
        }
        written.insert(rel);
    }
    Ok(())
}

/// Makes the mount points [`MOUNT_DIRS`] and the placeholders of
/// [`HOST_FILES`] an image lacks.
/// Only where no symbolic link is on the way (an image's `/etc` may be
/// one, pointing anywhere on the host); the runtime then finds no mount
/// point there and says so.
fn add_mount_points(root: &Path) -> io::Result<()> {
    let safe = |rel: &str| {
        let p = Path::new(rel);
        no_link_on_the_way(root, p, rel).is_ok() && fs::symlink_metadata(root.join(p)).is_err()
    };
    for d in MOUNT_DIRS {
        if safe(d) {
            fs::create_dir_all(root.join(d))?;
        }
    }
    for f in HOST_FILES {
        if safe(f) {
            File::create(root.join(f))?;
        }
    }
    Ok(())
}

/// The root filesystem of `base`: `<roots>/<hex of its digest>/`, pulled
/// and unpacked now unless it is there already.
pub async fn base_root(
    registries: &Registries,
    base: &BaseImage,
    roots: &Path,
) -> Result<PathBuf, RootError> {
    let hex = base
        .digest
        .strip_prefix("sha256:")
        .unwrap_or(&base.digest)
        .to_string();
    let done = roots.join(&hex);
    if done.is_dir() {
        return Ok(done);
    }
    let folder_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RootError::Folder { path, source }
    };
    fs::create_dir_all(roots).map_err(folder_err(roots))?;
    let tmp = roots.join(format!(".{hex}.{}.tmp", std::process::id()));
    let _ = remove_any(&tmp);
    fs::create_dir(&tmp).map_err(folder_err(&tmp))?;
    let blob = roots.join(format!(".{hex}.{}.blob", std::process::id()));
    let result = unpack_all(registries, base, &tmp, &blob).await;
    let _ = fs::remove_file(&blob);
    if let Err(e) = result {
        let _ = remove_any(&tmp);
        return Err(e);
    }
    add_mount_points(&tmp).map_err(folder_err(&tmp))?;
    if let Err(e) = fs::rename(&tmp, &done) {
        let _ = remove_any(&tmp);
        // Another run finished the same root first: use it.
        if !done.is_dir() {
            return Err(RootError::Folder {
                path: done,
                source: e,
            });
        }
    }
    Ok(done)
}

async fn unpack_all(
    registries: &Registries,
    base: &BaseImage,
    into: &Path,
    blob: &Path,
) -> Result<(), RootError> {
    for layer in &base.layers {
        let image = base.origin.clone();
        registry::pull_blob_to_file(registries, base, &layer.digest, blob)
            .await
            .map_err(|source| RootError::Pull {
                image: image.clone(),
                digest: layer.digest.clone(),
                source,
            })?;
        let (file, root) = (blob.to_path_buf(), into.to_path_buf());
        let unpacked = tokio::task::spawn_blocking(move || {
            let f = File::open(&file).map_err(UnpackError::Read)?;
            unpack_layer(f, &root)
        })
        .await
        .unwrap_or_else(|e| Err(UnpackError::Read(io::Error::other(e))));
        unpacked.map_err(|source| RootError::Unpack {
            image,
            digest: layer.digest.clone(),
            source,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    enum E<'a> {
        Dir(&'a str),
        File(&'a str, &'a str),
        Link(&'a str, &'a str),
        Hard(&'a str, &'a str),
        Fifo(&'a str),
    }

    /// A tar of `entries`, written with raw header names (so `..` and
    /// absolute names can be given, as a hostile image would).
    fn tar(entries: &[E<'_>]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for e in entries {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o755);
            let (name, kind, body, link): (&str, _, &[u8], Option<&str>) = match e {
                E::Dir(n) => (n, tar::EntryType::Directory, b"", None),
                E::File(n, body) => (n, tar::EntryType::Regular, body.as_bytes(), None),
                E::Link(n, to) => (n, tar::EntryType::Symlink, b"", Some(to)),
                E::Hard(n, to) => (n, tar::EntryType::Link, b"", Some(to)),
                E::Fifo(n) => (n, tar::EntryType::Fifo, b"", None),
            };
            h.set_entry_type(kind);
            h.set_size(body.len() as u64);
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(l) = link {
                h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
            }
            h.set_cksum();
            b.append(&h, body).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut g = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        g.write_all(bytes).unwrap();
        g.finish().unwrap()
    }

    /// Every path under `root`, sorted, folders ending in `/`, links as
    /// `name -> target`.
    fn listing(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                let m = fs::symlink_metadata(&p).unwrap();
                if m.file_type().is_symlink() {
                    out.push(format!("{rel} -> {}", fs::read_link(&p).unwrap().display()));
                } else if m.is_dir() {
                    out.push(format!("{rel}/"));
                    stack.push(p);
                } else {
                    out.push(rel);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn layers_stack_with_whiteouts_and_opaque_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let lower = tar(&[
            E::Dir("etc/"),
            E::File("etc/keep", "k"),
            E::File("etc/gone", "g"),
            E::Dir("opt/"),
            E::File("opt/old-a", "a"),
            E::Dir("opt/sub/"),
            E::File("opt/sub/old-b", "b"),
            E::Link("bin", "usr/bin"),
            E::Fifo("etc/pipe"),
        ]);
        unpack_layer(&gz(&lower)[..], root).unwrap();
        // The upper layer writes into opt/ before marking it opaque (tar
        // order is free): its own entries stay, the lower ones go.
        let upper = tar(&[
            E::File("etc/.wh.gone", ""),
            E::File("opt/new", "n"),
            E::File("opt/.wh..wh..opq", ""),
            E::File("etc/keep", "k2"),
            E::Hard("etc/keep-again", "etc/keep"),
        ]);
        // Uncompressed layers unpack too.
        unpack_layer(&upper[..], root).unwrap();
        assert_eq!(
            listing(root),
            [
                "bin -> usr/bin",
                "etc/",
                "etc/keep",
                "etc/keep-again",
                "opt/",
                "opt/new"
            ]
        );
        assert_eq!(fs::read_to_string(root.join("etc/keep")).unwrap(), "k2");
        assert_eq!(
            fs::read_to_string(root.join("etc/keep-again")).unwrap(),
            "k2"
        );
    }

    #[test]
    fn entries_leaving_the_root_are_refused_and_nothing_lands_outside() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir(&root).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (tar(&[E::File("../escaped", "x")]), "`..`"),
            (tar(&[E::File("a/../../escaped", "x")]), "`..`"),
            (
                tar(&[
                    E::Link("out", outside.path().to_str().unwrap()),
                    E::File("out/escaped", "x"),
                ]),
                "symbolic link",
            ),
            (
                tar(&[E::Link("rel", "../.."), E::File("rel/escaped", "x")]),
                "symbolic link",
            ),
            (tar(&[E::Hard("h", "../../etc/passwd")]), "`..`"),
        ];
        for (layer, why) in cases {
            let e = unpack_layer(&layer[..], &root).unwrap_err();
            assert!(
                matches!(e, UnpackError::Escape { .. }) && e.to_string().contains(why),
                "{e}"
            );
        }
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
        assert!(!dir.path().join("escaped").exists());
        // An absolute entry name is read inside the root, as `tar` does.
        unpack_layer(&tar(&[E::File("/abs", "y")])[..], &root).unwrap();
        assert_eq!(fs::read_to_string(root.join("abs")).unwrap(), "y");
        // A link can point anywhere: it is stored, not followed.
        assert!(fs::symlink_metadata(root.join("out"))
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[test]
    fn set_id_bits_are_dropped_and_zstd_is_named() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o4755);
        h.set_size(1);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, "suid", &b"x"[..]).unwrap();
        unpack_layer(&b.into_inner().unwrap()[..], dir.path()).unwrap();
        let mode = fs::metadata(dir.path().join("suid"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o755);
        let e = unpack_layer(&[0x28, 0xb5, 0x2f, 0xfd, 0, 0][..], dir.path()).unwrap_err();
        assert!(matches!(e, UnpackError::Zstd), "{e}");
    }
}
