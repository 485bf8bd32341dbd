//! The default workflow name of manifests that do not name one:
//! `<cleaned stem>-<8 hex>`, the hex a SHA-256 of the manifest's identity,
//! so two projects never share a name and one project keeps its name.
//!
//! The identity, from the first file (or folder) given:
//! - inside a git work tree with an `origin` remote: the remote's URL,
//!   normalized (`git@host:org/repo.git`, `ssh://git@host/org/repo` and
//!   `https://user:token@host/org/repo.git` are all `host/org/repo`), and
//!   the path relative to the work tree's root: every clone of a project,
//!   wherever it lives, keeps the name;
//! - in a work tree without `origin`: that relative path and the work
//!   tree's canonical path;
//! - outside git: the canonical absolute path.
//!
//! The URL is read from `.git/config` (a `.git` file's `gitdir:` and a
//! worktree's `commondir` are followed) without running git, and is only
//! ever hashed: never printed, never stored. The manifest's content is not
//! part of the identity, so editing it never renames the workflow.

use std::path::{Path, PathBuf};

/// Longest readable part of a default name: with `-` and 8 hex digits it
/// makes 40 characters, what `workflow:` accepts, so the IAM role
/// `scar-<workflow>` stays well within IAM's 64.
pub const MAX_STEM: usize = 31;

/// What a default workflow name is made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// In a git work tree with an `origin` remote: the normalized URL and
    /// the path from the work tree's root.
    Remote { url: String, rel: String },
    /// In a work tree without `origin`: its root and the path from it.
    WorkTree { root: PathBuf, rel: String },
    /// Outside git: the canonical path.
    Path(PathBuf),
}

impl Identity {
    /// The identity of a manifest file or folder.
    pub fn of(input: &Path) -> Identity {
        let canon = std::fs::canonicalize(input)
            .unwrap_or_else(|_| std::path::absolute(input).unwrap_or_else(|_| input.into()));
        let Some((root, git)) = find_work_tree(&canon) else {
            return Identity::Path(canon);
        };
        let rel = canon
            .strip_prefix(&root)
            .map(|r| {
                r.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default();
        match origin_url(&git).map(|u| normalize_remote(&u)) {
            Some(url) if !url.is_empty() => Identity::Remote { url, rel },
            _ => Identity::WorkTree { root, rel },
        }
    }

    /// Bytes hashed for the name (kinds kept apart by a prefix).
    fn bytes(&self) -> Vec<u8> {
        match self {
            Identity::Remote { url, rel } => format!("git-remote\0{url}\0{rel}").into_bytes(),
            Identity::WorkTree { root, rel } => {
                format!("git-worktree\0{}\0{rel}", root.display()).into_bytes()
            }
            Identity::Path(p) => format!("path\0{}", p.display()).into_bytes(),
        }
    }

    /// Where the name came from, for the note (never the URL).
    pub fn describe(&self) -> String {
        match self {
            Identity::Remote { rel, .. } => {
                format!("made from the git repository's `origin` remote and the path `{rel}` in it")
            }
            Identity::WorkTree { root, rel } => format!(
                "made from the path `{rel}` in the git work tree `{}` (it has no `origin` remote)",
                root.display()
            ),
            Identity::Path(p) => format!("made from the path `{}`", p.display()),
        }
    }
}

/// `<cleaned stem>-<first 8 hex digits of SHA-256(identity)>`. The hash
/// covers the raw stem too, so names that clean alike stay distinct.
pub fn default_workflow(raw_stem: &str, identity: &Identity) -> String {
    let mut bytes = identity.bytes();
    bytes.push(0);
    bytes.extend_from_slice(raw_stem.as_bytes());
    let hex = crate::hash::hex_sha256(&bytes);
    format!("{}-{}", super::sanitize_workflow(raw_stem), &hex[..8])
}

/// The work tree `path` is in: its root and its git directory.
fn find_work_tree(path: &Path) -> Option<(PathBuf, PathBuf)> {
    for dir in path.ancestors() {
        let dot_git = dir.join(".git");
        let Ok(meta) = std::fs::metadata(&dot_git) else {
            continue;
        };
        if meta.is_dir() {
            return Some((dir.to_path_buf(), dot_git));
        }
        if meta.is_file() {
            // `gitdir: <path>`, relative to the folder holding `.git`.
            let text = read_small(&dot_git)?;
            let target = text
                .lines()
                .find_map(|l| l.strip_prefix("gitdir:"))
                .map(str::trim)?;
            return Some((dir.to_path_buf(), dir.join(target)));
        }
    }
    None
}

/// The `url` of `[remote "origin"]` in the repository's config (a linked
/// worktree's config is its `commondir`'s).
fn origin_url(git_dir: &Path) -> Option<String> {
    let common = match read_small(&git_dir.join("commondir")) {
        Some(c) => git_dir.join(c.trim()),
        None => git_dir.to_path_buf(),
    };
    let config = read_small(&common.join("config"))?;
    let mut in_origin = false;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            let header: String = line
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            in_origin = header.eq_ignore_ascii_case("remote \"origin\"");
            continue;
        }
        if !in_origin {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            if k.trim().eq_ignore_ascii_case("url") {
                return Some(v.trim().trim_matches('"').to_string());
            }
        }
    }
    None
}

fn read_small(path: &Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut s = String::new();
    f.take(1024 * 1024).read_to_string(&mut s).ok()?;
    Some(s)
}

/// A remote URL reduced to `host/path`: scheme, user, password and port
/// dropped, the host lower-cased, `.git` and slashes trimmed at the end.
pub fn normalize_remote(url: &str) -> String {
    let url = url.trim();
    let (host_part, path) = if let Some(i) = url.find("://") {
        let rest = &url[i + 3..];
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        (authority.to_string(), path.to_string())
    } else if let Some((auth, path)) = url.split_once(':').filter(|(a, _)| !a.contains('/')) {
        // scp-like `user@host:org/repo`.
        (auth.to_string(), path.to_string())
    } else {
        // A local path: keep it.
        (String::new(), url.to_string())
    };
    let host = host_part.rsplit('@').next().unwrap_or("");
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
    .to_ascii_lowercase();
    let mut path = path.trim_matches('/').to_string();
    while let Some(p) = path.strip_suffix(".git") {
        path = p.trim_end_matches('/').to_string();
    }
    if host.is_empty() {
        path
    } else {
        format!("{host}/{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls_normalize_alike() {
        for u in [
            "git@github.com:org/repo.git",
            "ssh://git@github.com/org/repo",
            "ssh://git@github.com:22/org/repo.git",
            "https://user:token@github.com/org/repo.git",
            "https://GitHub.com/org/repo/",
            "git://github.com/org/repo.git",
        ] {
            assert_eq!(normalize_remote(u), "github.com/org/repo", "{u}");
        }
        assert_eq!(normalize_remote("/srv/git/repo.git"), "srv/git/repo");
        assert_ne!(
            normalize_remote("git@github.com:org/repo.git"),
            normalize_remote("git@github.com:org/other.git")
        );
        // The credential never survives.
        assert!(!normalize_remote("https://u:tok3n@h/o/r").contains("tok3n"));
    }

    #[test]
    fn names_are_distinct_where_cleaning_merges() {
        let id = Identity::Path(PathBuf::from("/p/x"));
        let a = default_workflow("my wf ü", &id);
        let b = default_workflow("my-wf", &id);
        assert!(
            a.starts_with("my-wf-") && b.starts_with("my-wf-"),
            "{a} {b}"
        );
        assert_ne!(a, b);
        let other = Identity::Path(PathBuf::from("/q/x"));
        assert_ne!(
            default_workflow("scar", &id),
            default_workflow("scar", &other)
        );
        assert_eq!(default_workflow("scar", &id), default_workflow("scar", &id));
        let long = default_workflow(&"a".repeat(100), &id);
        assert_eq!(long.len(), 40);
        assert!(format!("scar-{long}").len() <= 64);
    }

    #[test]
    fn git_config_is_read_without_git() {
        let top = tempfile::tempdir().unwrap();
        let a = top.path().join("a");
        let b = top.path().join("elsewhere/b");
        for root in [&a, &b] {
            std::fs::create_dir_all(root.join(".git")).unwrap();
            std::fs::create_dir_all(root.join("deploy")).unwrap();
            std::fs::write(
                root.join(".git/config"),
                "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://h/other\n[remote \"origin\"]\n\turl = git@h.example:org/proj.git\n",
            )
            .unwrap();
            std::fs::write(root.join("deploy/scar.yaml"), "x").unwrap();
        }
        let ia = Identity::of(&a.join("deploy/scar.yaml"));
        let ib = Identity::of(&b.join("deploy/scar.yaml"));
        assert_eq!(
            ia,
            Identity::Remote {
                url: "h.example/org/proj".into(),
                rel: "deploy/scar.yaml".into()
            }
        );
        assert_eq!(ia, ib);
        assert!(!ia.describe().contains("h.example"));
        // A linked worktree: `.git` file, `commondir`.
        let wt = top.path().join("wt");
        std::fs::create_dir_all(wt.join("deploy")).unwrap();
        let gd = a.join(".git/worktrees/wt");
        std::fs::create_dir_all(&gd).unwrap();
        std::fs::write(gd.join("commondir"), "../..\n").unwrap();
        std::fs::write(wt.join(".git"), format!("gitdir: {}\n", gd.display())).unwrap();
        std::fs::write(wt.join("deploy/scar.yaml"), "x").unwrap();
        assert_eq!(Identity::of(&wt.join("deploy/scar.yaml")), ia);
    }
}
