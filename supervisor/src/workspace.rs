//! The per-invocation directory: `<tmp>/scar-XXXXXX/{input,output}`. File
//! names derived from object keys are reduced to one safe path component, so
//! no key (`../`, absolute, very long, odd bytes) can write outside it, and
//! the whole tree is removed when the invocation ends (Lambda reuses `/tmp`).

use std::io;
use std::path::{Path, PathBuf};

/// Longest file name most Linux file systems accept, in bytes.
const MAX_NAME: usize = 255;

/// A fresh directory tree for one invocation.
#[derive(Debug)]
pub struct Workspace {
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    input: PathBuf,
    output: PathBuf,
}

impl Workspace {
    /// Creates `<parent>/scar-XXXXXX/` with `input/` and `output/` inside.
    pub fn create(parent: &Path) -> io::Result<Workspace> {
        let dir = tempfile::Builder::new()
            .prefix("scar-")
            .tempdir_in(parent)?;
        let root = dir.path().to_path_buf();
        let input = root.join("input");
        let output = root.join("output");
        std::fs::create_dir(&input)?;
        std::fs::create_dir(&output)?;
        Ok(Workspace {
            dir: Some(dir),
            root,
            input,
            output,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn input_dir(&self) -> &Path {
        &self.input
    }

    pub fn output_dir(&self) -> &Path {
        &self.output
    }

    /// Where an object with this key is saved: `input/<safe basename>`.
    pub fn input_path_for(&self, key: &str) -> PathBuf {
        self.input.join(safe_file_name(key))
    }

    /// Removes the tree, even where the script took away write permissions.
    pub fn remove(mut self) -> io::Result<()> {
        let Some(dir) = self.dir.take() else {
            return Ok(());
        };
        let path = dir.keep();
        if std::fs::remove_dir_all(&path).is_ok() {
            return Ok(());
        }
        restore_permissions(&path);
        std::fs::remove_dir_all(&path)
    }
}

fn restore_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_dir() {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700));
        if let Ok(entries) = std::fs::read_dir(path) {
            for entry in entries.flatten() {
                restore_permissions(&entry.path());
            }
        }
    }
}

/// One path component for an object key: its last `/`-separated segment,
/// with NUL and control characters replaced, `.`/`..`/empty replaced by
/// `input`, and cut to 255 bytes on a character boundary (keeping the
/// extension where possible).
pub fn safe_file_name(key: &str) -> String {
    let last = key.rsplit('/').next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .map(|c| if c.is_control() { '_' } else { c })
        .collect();
    let name = match cleaned.as_str() {
        "" | "." | ".." => "input".to_string(),
        _ => cleaned,
    };
    if name.len() <= MAX_NAME {
        return name;
    }
    let ext = match name.rfind('.') {
        Some(i) if name.len() - i <= 16 => &name[i..],
        _ => "",
    };
    let mut cut = MAX_NAME - ext.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{}", &name[..cut], ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_one_component() {
        for (key, want) in [
            ("in/photo.jpg", "photo.jpg"),
            ("../../etc/passwd", "passwd"),
            ("/abs/olute", "olute"),
            ("a/..", "input"),
            ("a/.", "input"),
            ("dir/", "input"),
            ("..", "input"),
            ("x/a\nb\u{7}c", "a_b_c"),
            ("x\\..\\..\\y", "x\\..\\..\\y"),
        ] {
            assert_eq!(safe_file_name(key), want, "{key:?}");
        }
        let long = format!("{}.tar.gz", "é".repeat(400));
        let name = safe_file_name(&long);
        assert!(name.len() <= MAX_NAME && name.ends_with(".gz"), "{name}");
    }

    #[test]
    fn every_name_lands_inside_input() {
        let parent = tempfile::tempdir().unwrap();
        let ws = Workspace::create(parent.path()).unwrap();
        for key in [
            "../x",
            "/etc/passwd",
            "a/../../b",
            "....//....//",
            "\u{0}",
            "",
        ] {
            let p = ws.input_path_for(key);
            assert_eq!(p.parent().unwrap(), ws.input_dir(), "{key:?}");
            assert!(!p.file_name().unwrap().to_string_lossy().contains('/'));
        }
        let root = ws.root().to_path_buf();
        std::fs::create_dir(ws.output_dir().join("locked")).unwrap();
        std::fs::write(ws.output_dir().join("locked/f"), b"x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            ws.output_dir().join("locked"),
            std::fs::Permissions::from_mode(0o500),
        )
        .unwrap();
        ws.remove().unwrap();
        assert!(!root.exists());
    }
}
