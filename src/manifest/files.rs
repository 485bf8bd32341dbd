//! Local files a manifest names (`init_script`, `run_script`,
//! `extra_payload`, `container.image_file`): the one place that decides
//! whether such a file may be read, and the one reader.
//!
//! Rule: a file is read only from inside the manifest's own folder, or a
//! folder the user named on the command line (`--allow-files-in DIR`, never
//! the manifest itself). Paths are resolved with every symlink followed
//! (a symlink inside pointing outside is outside), only regular files are
//! read (no folders, FIFOs, devices, sockets, nothing under `/proc` or
//! `/sys`), and each kind of file has a size cap. `validate` reports a
//! refusal as a located error; `package::build` goes through the same
//! [`read`] and refuses on its own, so plan and apply never read a file
//! that validate would refuse.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::yaml::PathSeg;
use crate::p;

/// Largest script (`init_script`, `run_script`) read: 4 MiB. Lambda's
/// whole environment is 4 KiB and a script is text; anything bigger is
/// almost certainly the wrong file.
pub const MAX_SCRIPT_BYTES: u64 = 4 * 1024 * 1024;
/// Largest payload or image file accepted: 250 MiB, Lambda's limit on an
/// unzipped package, which no larger file could fit in.
pub const MAX_PAYLOAD_BYTES: u64 = 250 * 1024 * 1024;

/// The largest `container.image_file` read: Lambda's limit on an image
/// (10 GiB, uncompressed; an archive is no larger than what it holds).
pub const MAX_IMAGE_FILE_BYTES: u64 = 10 * 1024 * 1024 * 1024;

/// Kernel pseudo-file systems: never read, whatever is allowed.
const PSEUDO_ROOTS: &[&str] = &["/proc", "/sys"];

/// A manifest key that names a local file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKey {
    InitScript,
    RunScript,
    ExtraPayload,
    ImageFile,
}

impl FileKey {
    /// Every key that names a local file.
    pub const ALL: [FileKey; 4] = [
        FileKey::InitScript,
        FileKey::RunScript,
        FileKey::ExtraPayload,
        FileKey::ImageFile,
    ];

    /// The key as users write it, under `lambda`.
    pub fn name(self) -> &'static str {
        match self {
            FileKey::InitScript => "init_script",
            FileKey::RunScript => "run_script",
            FileKey::ExtraPayload => "extra_payload",
            FileKey::ImageFile => "container.image_file",
        }
    }

    /// The key's path under a function's `lambda` block.
    pub fn path(self) -> Vec<PathSeg> {
        match self {
            FileKey::InitScript => p!["init_script"],
            FileKey::RunScript => p!["run_script"],
            FileKey::ExtraPayload => p!["extra_payload"],
            FileKey::ImageFile => p!["container", "image_file"],
        }
    }

    /// The size cap of this kind of file.
    pub fn max_bytes(self) -> u64 {
        match self {
            FileKey::InitScript | FileKey::RunScript => MAX_SCRIPT_BYTES,
            FileKey::ExtraPayload => MAX_PAYLOAD_BYTES,
            FileKey::ImageFile => MAX_IMAGE_FILE_BYTES,
        }
    }

    /// Whether a folder is acceptable (SCAR copies an `extra_payload`
    /// folder into the package).
    fn folder_ok(self) -> bool {
        self == FileKey::ExtraPayload
    }
}

/// Where a function's files may come from: the manifest's folder and the
/// folders given with `--allow-files-in`.
#[derive(Clone, Copy, Debug)]
pub struct FileRoots<'a> {
    /// The manifest's folder; relative paths are resolved against it.
    pub base_dir: &'a Path,
    /// Further folders the command line allows (canonical).
    pub allowed: &'a [PathBuf],
}

/// A file that may be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The real path (every symlink resolved).
    pub path: PathBuf,
    /// Its size in bytes (0 for a folder).
    pub len: u64,
    pub is_dir: bool,
}

/// Why a named file is refused.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("`{given}` is outside the manifest's folder{}", via_symlink(.given, .real))]
    Outside {
        given: String,
        real: PathBuf,
        base: PathBuf,
        key: FileKey,
    },
    #[error("`{given}` is not a regular file: it is {kind}")]
    NotRegular {
        given: String,
        kind: &'static str,
        key: FileKey,
    },
    #[error("`{given}` is {len} bytes; {} files larger than {max} bytes are refused", .key.name())]
    TooLarge {
        given: String,
        len: u64,
        max: u64,
        key: FileKey,
    },
    #[error("`{given}` not found (looked for `{}`)", .looked.display())]
    NotFound {
        given: String,
        looked: PathBuf,
        key: FileKey,
    },
    #[error("`{given}` cannot be read")]
    Unreadable {
        given: String,
        key: FileKey,
        #[source]
        source: std::io::Error,
    },
}

fn via_symlink(given: &str, real: &Path) -> String {
    if Path::new(given).is_absolute() && Path::new(given) == real {
        String::new()
    } else {
        format!(" (it resolves to `{}`)", real.display())
    }
}

impl FileError {
    /// A stable diagnostic code.
    pub fn code(&self) -> &'static str {
        match self {
            FileError::Outside { .. } => "file-outside-folder",
            FileError::NotRegular { .. } => "file-not-regular",
            FileError::TooLarge { .. } => "file-too-large",
            FileError::NotFound { .. } => "file-not-found",
            FileError::Unreadable { .. } => "file-unreadable",
        }
    }

    /// Only a missing file is a warning (it may be generated before
    /// `plan`, which then needs it); every other refusal is an error.
    pub fn is_error(&self) -> bool {
        !matches!(self, FileError::NotFound { .. })
    }

    /// How to fix it.
    pub fn hint(&self) -> String {
        match self {
            FileError::Outside {
                real, base, key, ..
            } => {
                let dir = real.parent().unwrap_or(Path::new("/"));
                format!(
                    "`{}` files are read only from the manifest's folder (`{}`): move the file there and name it relatively, or allow its folder explicitly with `--allow-files-in {}`",
                    key.name(),
                    base.display(),
                    dir.display()
                )
            }
            FileError::NotRegular { key, .. } => format!(
                "name a regular file{} inside the manifest's folder",
                if key.folder_ok() { " or folder" } else { "" }
            ),
            FileError::TooLarge { key, max, .. } => format!(
                "a `{}` file holds at most {max} bytes: check that this is the right file",
                key.name()
            ),
            FileError::NotFound { .. } => {
                "paths are relative to the manifest's folder; plan and apply need the file".into()
            }
            FileError::Unreadable { .. } => "check the file's permissions".into(),
        }
    }
}

/// Decides whether `given` (as written in the manifest) may be read, and
/// where it really is.
pub fn resolve(roots: FileRoots<'_>, given: &str, key: FileKey) -> Result<Resolved, FileError> {
    let base = if roots.base_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        roots.base_dir
    };
    let joined = base.join(given);
    let real = real_path(&joined).map_err(|source| FileError::Unreadable {
        given: given.to_string(),
        key,
        source,
    })?;
    // Never readable, whatever is allowed (so no hint suggests allowing it).
    if PSEUDO_ROOTS.iter().any(|r| real.starts_with(r)) {
        return Err(FileError::NotRegular {
            given: given.to_string(),
            kind: "a kernel pseudo-file (`/proc`, `/sys`)",
            key,
        });
    }
    let canon_base = real_path(base).unwrap_or_else(|_| normalize(&absolute(base)));
    let inside = real.starts_with(&canon_base) || roots.allowed.iter().any(|a| real.starts_with(a));
    if !inside {
        return Err(FileError::Outside {
            given: given.to_string(),
            real,
            base: canon_base,
            key,
        });
    }
    let meta = match std::fs::metadata(&real) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(FileError::NotFound {
                given: given.to_string(),
                looked: real,
                key,
            })
        }
        Err(source) => {
            return Err(FileError::Unreadable {
                given: given.to_string(),
                key,
                source,
            })
        }
    };
    check_kind(&meta, given, key)?;
    Ok(Resolved {
        path: real,
        len: if meta.is_dir() { 0 } else { meta.len() },
        is_dir: meta.is_dir(),
    })
}

fn check_kind(meta: &std::fs::Metadata, given: &str, key: FileKey) -> Result<(), FileError> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    let kind = if t.is_file() {
        None
    } else if t.is_dir() {
        (!key.folder_ok()).then_some("a folder")
    } else if t.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_block_device() || t.is_char_device() {
        Some("a device")
    } else {
        Some("not a file")
    };
    if let Some(kind) = kind {
        return Err(FileError::NotRegular {
            given: given.to_string(),
            kind,
            key,
        });
    }
    if t.is_file() && meta.len() > key.max_bytes() {
        return Err(FileError::TooLarge {
            given: given.to_string(),
            len: meta.len(),
            max: key.max_bytes(),
            key,
        });
    }
    Ok(())
}

/// Reads a file [`resolve`] accepts: opened without blocking (a FIFO
/// swapped in after the check cannot hang the read) and without following
/// a last-moment symlink, checked again on the open handle, and read up to
/// the cap only.
pub fn read(roots: FileRoots<'_>, given: &str, key: FileKey) -> Result<Vec<u8>, FileError> {
    let resolved = resolve(roots, given, key)?;
    if resolved.is_dir {
        return Err(FileError::NotRegular {
            given: given.to_string(),
            kind: "a folder",
            key,
        });
    }
    let unreadable = |source| FileError::Unreadable {
        given: given.to_string(),
        key,
        source,
    };
    let file = open_no_follow(&resolved.path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    check_kind(&meta, given, key)?;
    let max = key.max_bytes();
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > max {
        return Err(FileError::TooLarge {
            given: given.to_string(),
            len: bytes.len() as u64,
            max,
            key,
        });
    }
    Ok(bytes)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
const OPEN_FLAGS: i32 = 0o4000 | 0o400000; // O_NONBLOCK | O_NOFOLLOW
#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
const OPEN_FLAGS: i32 = 0x0004 | 0x0100; // O_NONBLOCK | O_NOFOLLOW
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd"
)))]
const OPEN_FLAGS: i32 = 0;

fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(OPEN_FLAGS)
        .open(path)
}

/// The real path of `path`: every symlink of its longest existing prefix
/// resolved, the rest (which does not exist) appended with `.` and `..`
/// applied.
fn real_path(path: &Path) -> std::io::Result<PathBuf> {
    let abs = absolute(path);
    let mut rest = Vec::new();
    let mut cur = abs.as_path();
    loop {
        match std::fs::canonicalize(cur) {
            Ok(c) => {
                let mut out = c;
                for part in rest.iter().rev() {
                    out.push(part);
                }
                return Ok(normalize(&out));
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                let Some(parent) = cur.parent() else {
                    return Ok(normalize(&abs));
                };
                if let Some(name) = cur.file_name() {
                    rest.push(PathBuf::from(name));
                } else {
                    // `..` or `.` as the last component of a missing path.
                    rest.push(PathBuf::from(
                        cur.components()
                            .next_back()
                            .map_or(std::ffi::OsStr::new(""), |c| c.as_os_str()),
                    ));
                }
                cur = parent;
            }
            Err(e) => return Err(e),
        }
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `.` and `..` applied lexically (`..` at the root stays at the root).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The allowed folders of `--allow-files-in`, canonical; a folder that
/// cannot be used is reported with why.
pub fn canonical_allowed(dirs: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for d in dirs {
        match std::fs::canonicalize(d) {
            Ok(c) if c.is_dir() => ok.push(c),
            Ok(_) => bad.push((d.clone(), "it is not a folder".to_string())),
            Err(e) => bad.push((d.clone(), e.to_string())),
        }
    }
    (ok, bad)
}

/// What a plan may show of a script: its text, or, when it is not UTF-8
/// text (NUL bytes, invalid UTF-8), a placeholder that names only its size
/// and hash, so that no renderer can print a binary file's bytes.
pub fn script_view(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.contains('\0') => s.to_string(),
        _ => format!(
            "(binary file, {} bytes, sha256 {})",
            bytes.len(),
            crate::hash::hex_sha256(bytes)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(dir: &Path) -> FileRoots<'_> {
        FileRoots {
            base_dir: dir,
            allowed: &[],
        }
    }

    #[test]
    fn inside_is_read_and_outside_is_refused() {
        let top = tempfile::tempdir().unwrap();
        let dir = top.path().join("proj");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("run.sh"), "echo hi\n").unwrap();
        std::fs::write(top.path().join("secret.txt"), "s3cr3t").unwrap();
        let r = roots(&dir);
        assert_eq!(
            read(r, "run.sh", FileKey::InitScript).unwrap(),
            b"echo hi\n"
        );
        assert_eq!(
            read(r, "./sub/../run.sh", FileKey::InitScript).unwrap(),
            b"echo hi\n"
        );
        for bad in ["../secret.txt", "/etc/passwd", "sub/../../secret.txt"] {
            let e = read(r, bad, FileKey::InitScript).unwrap_err();
            assert_eq!(e.code(), "file-outside-folder", "{bad}: {e}");
        }
        // A missing file outside is still outside, not merely missing.
        let e = resolve(r, "../nope.sh", FileKey::InitScript).unwrap_err();
        assert_eq!(e.code(), "file-outside-folder");
        let e = resolve(r, "nope.sh", FileKey::InitScript).unwrap_err();
        assert_eq!(e.code(), "file-not-found");
        assert!(!e.is_error());
        std::os::unix::fs::symlink(top.path().join("secret.txt"), dir.join("link.sh")).unwrap();
        let e = read(r, "link.sh", FileKey::InitScript).unwrap_err();
        assert_eq!(e.code(), "file-outside-folder");
        assert!(e.to_string().contains("resolves to"), "{e}");
        let allowed = [std::fs::canonicalize(top.path()).unwrap()];
        let r2 = FileRoots {
            base_dir: &dir,
            allowed: &allowed,
        };
        assert_eq!(read(r2, "link.sh", FileKey::InitScript).unwrap(), b"s3cr3t");
    }

    #[test]
    fn only_regular_files_under_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("folder")).unwrap();
        let r = roots(dir.path());
        let e = read(r, "folder", FileKey::InitScript).unwrap_err();
        assert_eq!(e.code(), "file-not-regular");
        assert!(resolve(r, "folder", FileKey::ExtraPayload).unwrap().is_dir);
        let big = std::fs::File::create(dir.path().join("big.sh")).unwrap();
        big.set_len(MAX_SCRIPT_BYTES + 1).unwrap();
        let e = read(r, "big.sh", FileKey::InitScript).unwrap_err();
        assert_eq!(e.code(), "file-too-large");
        let all = [PathBuf::from("/")];
        let r = FileRoots {
            base_dir: dir.path(),
            allowed: &all,
        };
        let e = read(r, "/proc/self/environ", FileKey::InitScript).unwrap_err();
        assert_eq!(e.code(), "file-not-regular", "{e}");
        let e = read(r, "/dev/null", FileKey::InitScript).unwrap_err();
        assert_eq!(e.code(), "file-not-regular", "{e}");
        assert!(e.to_string().contains("a device"), "{e}");
    }

    #[test]
    fn binary_scripts_are_never_shown() {
        assert_eq!(script_view(b"echo hi\n"), "echo hi\n");
        let v = script_view(b"\x7fELF\0\0secret");
        assert!(v.starts_with("(binary file, 12 bytes, sha256 "), "{v}");
        assert!(!v.contains("secret"));
        assert!(script_view(&[0xff, 0xfe, b'a']).starts_with("(binary file"));
    }
}
