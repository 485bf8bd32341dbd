//! Where an image is fetched from: `containers-registries.conf(5)`,
//! version 2 (TOML), as podman, buildah and skopeo read it. A
//! `[[registry]]` table whose `prefix` matches the image's canonical name
//! (the longest match wins; `*.example.com` matches any subdomain) gives
//! the endpoints to try in order: its `[[registry.mirror]]`s, then its
//! `location`, each with the prefix rewritten to that location and with
//! whether it may be reached over plain HTTP or unverified TLS
//! (`insecure`). A `blocked` registry is an error. Unqualified names are
//! Docker Hub's, as docker reads them: `unqualified-search-registries` is
//! read and ignored.
//!
//! The file is the setting `CONTAINERS_REGISTRIES_CONF` if set, else
//! [`DEFAULT_PATH`] if it exists, else there is none and every image is
//! fetched from its own registry. A file that cannot be read is an error
//! naming it; a file that does not parse or makes no sense, an error
//! naming its line and column and how to fix it.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

use super::reference::{ImageRef, ReferenceError};

/// The system-wide file, read when the setting names none.
pub const DEFAULT_PATH: &str = "/etc/containers/registries.conf";

const MAN_PAGE: &str = "containers-registries.conf(5)";

/// The registries configuration: its `[[registry]]` tables, in file order.
#[derive(Clone, Debug, Default)]
pub struct RegistriesConf {
    path: Option<PathBuf>,
    registries: Vec<Registry>,
    unqualified_search: Vec<String>,
}

/// One `[[registry]]` table, checked and with trailing `/` trimmed.
#[derive(Clone, Debug)]
struct Registry {
    prefix: String,
    /// Empty only for a wildcard prefix: the matched host itself.
    location: String,
    insecure: bool,
    blocked: bool,
    mirror_by_digest_only: bool,
    mirrors: Vec<Mirror>,
    /// The table's line in the file (1-based), for messages.
    line: usize,
}

#[derive(Clone, Debug)]
struct Mirror {
    location: String,
    insecure: bool,
    pull_from: PullFrom,
}

/// `pull-from-mirror`: which references a mirror serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PullFrom {
    All,
    DigestOnly,
    TagOnly,
}

/// One place to try, in order: the reference there and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The image's reference at this endpoint (the prefix rewritten to
    /// the mirror's or the registry's location).
    pub reference: ImageRef,
    /// Plain HTTP and TLS with unverified certificates are allowed.
    pub insecure: bool,
    /// A `[[registry.mirror]]` rather than the registry's `location`.
    pub mirror: bool,
}

/// Why the registries configuration could not be used.
#[derive(Debug, Error)]
pub enum ConfError {
    #[error("cannot read the registries configuration {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}\nhint: {hint}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        hint: String,
    },
}

/// Why an image has no endpoint.
#[derive(Debug, Error)]
pub enum ResolveError {
    #[error("`{image}` is blocked by the `[[registry]]` at {}:{line} (prefix `{prefix}`)\nhint: use an image from another registry, or remove `blocked = true` there", path.display())]
    Blocked {
        image: String,
        prefix: String,
        path: PathBuf,
        line: usize,
    },
    #[error("the `[[registry]]` at {}:{line} rewrites `{image}` to `{rewritten}`, which is not an image name\nhint: fix that table's `location` (or its mirror's): `host[:port][/namespace]`", path.display())]
    Rewrite {
        image: String,
        rewritten: String,
        path: PathBuf,
        line: usize,
        #[source]
        source: Box<ReferenceError>,
    },
}

/// The file to read: `setting` (`CONTAINERS_REGISTRIES_CONF`) if given,
/// else `default` if it is a file, else none.
pub fn locate(setting: Option<&Path>, default: &Path) -> Option<PathBuf> {
    match setting {
        Some(p) => Some(p.to_path_buf()),
        None => default.is_file().then(|| default.to_path_buf()),
    }
}

impl RegistriesConf {
    /// The configuration in force: the file [`locate`] finds (with
    /// [`DEFAULT_PATH`]), or an empty one when there is none.
    pub fn load_configured(setting: Option<&Path>) -> Result<RegistriesConf, ConfError> {
        match locate(setting, Path::new(DEFAULT_PATH)) {
            Some(path) => RegistriesConf::load(&path),
            None => Ok(RegistriesConf::default()),
        }
    }

    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<RegistriesConf, ConfError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        RegistriesConf::parse(path, &text)
    }

    /// Checks `text`, the content of the file at `path` (named in errors).
    pub fn parse(path: &Path, text: &str) -> Result<RegistriesConf, ConfError> {
        let fail = |span: Range<usize>, message: String, hint: String| {
            let (line, column) = line_col(text, span.start);
            ConfError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message,
                hint,
            }
        };
        let doc: FileDoc = toml::from_str(text).map_err(|e| {
            let hint = format!(
                "{MAN_PAGE} (version 2): `[[registry]]` tables with `prefix`, `location`, `insecure`, `blocked`, `mirror-by-digest-only` and `[[registry.mirror]]` tables with `location`, `insecure`, `pull-from-mirror`"
            );
            fail(
                e.span().unwrap_or(0..0),
                e.message().trim().to_string(),
                hint,
            )
        })?;
        if let Some(v1) = &doc.registries {
            return Err(fail(
                v1.span(),
                "`[registries.search]`, `[registries.insecure]` and `[registries.block]` are the version 1 format, which is not read".into(),
                format!("rewrite it in version 2 ({MAN_PAGE}): `unqualified-search-registries = [...]` and one `[[registry]]` table per registry, with `insecure = true` or `blocked = true`"),
            ));
        }
        let mut registries: Vec<Registry> = Vec::new();
        for table in &doc.registry {
            let span = table.span();
            let line = line_col(text, span.start).0;
            let r = table.get_ref();
            let location = match &r.location {
                Some(l) => {
                    Some(clean_location(l.get_ref()).map_err(|(m, h)| fail(l.span(), m, h))?)
                }
                None => None,
            };
            let prefix =
                match &r.prefix {
                    Some(p) => {
                        let prefix =
                            clean_location(p.get_ref()).map_err(|(m, h)| fail(p.span(), m, h))?;
                        check_prefix(&prefix).map_err(|(m, h)| fail(p.span(), m, h))?;
                        prefix
                    }
                    None => match &location {
                        Some(l) if !l.is_empty() => l.clone(),
                        _ => return Err(fail(
                            span,
                            "this `[[registry]]` has neither `prefix` nor `location`".into(),
                            "add `location = \"registry.example.com\"` (the prefix defaults to it)"
                                .into(),
                        )),
                    },
                };
            let location = location.unwrap_or_default();
            if location.is_empty() && !prefix.starts_with("*.") {
                return Err(fail(
                    r.location.as_ref().map_or(span, |l| l.span()),
                    format!("the registry for `{prefix}` has no `location`"),
                    format!("set `location`, e.g. `location = \"{prefix}\"`; only a `*.example.com` prefix may go without one"),
                ));
            }
            let mut mirrors = Vec::new();
            for m in &r.mirror {
                let md = m.get_ref();
                let loc = clean_location(md.location.get_ref())
                    .map_err(|(msg, h)| fail(md.location.span(), msg, h))?;
                if loc.is_empty() {
                    return Err(fail(
                        md.location.span(),
                        "a mirror's `location` is empty".into(),
                        "write the mirror's `host[:port][/namespace]`".into(),
                    ));
                }
                let pull_from = match &md.pull_from_mirror {
                    None => PullFrom::All,
                    Some(v) => {
                        if r.mirror_by_digest_only {
                            return Err(fail(
                                v.span(),
                                "`pull-from-mirror` cannot be set when the registry has `mirror-by-digest-only = true`".into(),
                                "remove one of them: `pull-from-mirror = \"digest-only\"` does what `mirror-by-digest-only` does, per mirror".into(),
                            ));
                        }
                        match v.get_ref().as_str() {
                            "all" => PullFrom::All,
                            "digest-only" => PullFrom::DigestOnly,
                            "tag-only" => PullFrom::TagOnly,
                            other => {
                                return Err(fail(
                                    v.span(),
                                    format!("`pull-from-mirror = \"{other}\"` is not a mode"),
                                    "use `\"all\"`, `\"digest-only\"` or `\"tag-only\"`".into(),
                                ))
                            }
                        }
                    }
                };
                mirrors.push(Mirror {
                    location: loc,
                    insecure: md.insecure,
                    pull_from,
                });
            }
            if let Some(first) = registries.iter().find(|o| o.prefix == prefix) {
                // containers/image keeps the first of two tables for one
                // prefix, and refuses them only when they disagree.
                if first.insecure != r.insecure || first.blocked != r.blocked {
                    return Err(fail(
                        span,
                        format!(
                            "`{prefix}` has a second `[[registry]]` (the first is at line {}) that disagrees on `insecure` or `blocked`",
                            first.line
                        ),
                        "merge the two tables into one".into(),
                    ));
                }
                continue;
            }
            registries.push(Registry {
                prefix,
                location,
                insecure: r.insecure,
                blocked: r.blocked,
                mirror_by_digest_only: r.mirror_by_digest_only,
                mirrors,
                line,
            });
        }
        Ok(RegistriesConf {
            path: Some(path.to_path_buf()),
            registries,
            unqualified_search: doc.unqualified_search_registries,
        })
    }

    /// The file read, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// `unqualified-search-registries` as written. scar does not search
    /// them: an unqualified name is Docker Hub's, as for docker.
    pub fn unqualified_search_registries(&self) -> &[String] {
        &self.unqualified_search
    }

    /// The endpoints to try for `image`, in order: the mirrors of the
    /// `[[registry]]` with the longest matching prefix (those that serve
    /// a reference of this kind, by tag or by digest), then its location.
    /// Without a matching table, the image's own registry, over TLS.
    pub fn endpoints(&self, image: &ImageRef) -> Result<Vec<Endpoint>, ResolveError> {
        let name = image.to_string();
        let Some((registry, matched)) = self.find(&name) else {
            return Ok(vec![Endpoint {
                reference: image.clone(),
                insecure: false,
                mirror: false,
            }]);
        };
        let path = self.path.clone().unwrap_or_default();
        if registry.blocked {
            return Err(ResolveError::Blocked {
                image: image.familiar(),
                prefix: registry.prefix.clone(),
                path,
                line: registry.line,
            });
        }
        let digested = image.digest().is_some();
        let mirrors = registry.mirrors.iter().filter(|m| {
            if registry.mirror_by_digest_only {
                return digested;
            }
            match m.pull_from {
                PullFrom::All => true,
                PullFrom::DigestOnly => digested,
                PullFrom::TagOnly => !digested,
            }
        });
        let rewrite = |location: &str| -> Result<ImageRef, ResolveError> {
            if location.is_empty() {
                return Ok(image.clone());
            }
            let rewritten = format!("{location}{}", &name[matched..]);
            ImageRef::parse(&rewritten).map_err(|source| ResolveError::Rewrite {
                image: image.familiar(),
                rewritten,
                path: path.clone(),
                line: registry.line,
                source: Box::new(source),
            })
        };
        let mut out = Vec::new();
        for m in mirrors {
            out.push(Endpoint {
                reference: rewrite(&m.location)?,
                insecure: m.insecure,
                mirror: true,
            });
        }
        out.push(Endpoint {
            reference: rewrite(&registry.location)?,
            insecure: registry.insecure,
            mirror: false,
        });
        Ok(out)
    }

    /// The table with the longest prefix matching `name` (a canonical
    /// reference), and where the match ends in `name`. Of two that match
    /// as far, a plain prefix beats a wildcard and a longer wildcard a
    /// shorter one (`*.cache.example.com` before `*.example.com`); then
    /// the first in the file wins.
    fn find(&self, name: &str) -> Option<(&Registry, usize)> {
        let rank = |r: &Registry, end: usize| (end, !r.prefix.starts_with("*."), r.prefix.len());
        let mut best: Option<(&Registry, usize)> = None;
        for r in &self.registries {
            let Some(end) = match_prefix(name, &r.prefix) else {
                continue;
            };
            if best.is_none_or(|(b, b_end)| rank(r, end) > rank(b, b_end)) {
                best = Some((r, end));
            }
        }
        best
    }
}

/// Where `prefix` ends in `name` if it matches it: equal, or followed by
/// `/`, `@` or (after a repository) `:`; a `*.example.com` prefix
/// matches any subdomain of example.com as the registry host.
///
/// containers/image also lets a host prefix match the same host with a
/// port (`example.com` matches `example.com:5000/app`) and warns not to
/// rely on it: a port is another registry, so here it does not.
fn match_prefix(name: &str, prefix: &str) -> Option<usize> {
    if let Some(domain) = prefix.strip_prefix('*') {
        // `domain` is `.example.com`: it must end the registry host.
        let host_end = name.find(['/', ':']).unwrap_or(name.len());
        let host = &name[..host_end];
        return (host.ends_with(domain) && host.len() > domain.len()).then_some(host_end);
    }
    let rest = name.strip_prefix(prefix)?;
    match rest.chars().next() {
        None | Some('/') | Some('@') => Some(prefix.len()),
        Some(':') if prefix.contains('/') => Some(prefix.len()),
        _ => None,
    }
}

/// A `prefix` or `location` with trailing `/` trimmed, refused if it is
/// a URL.
fn clean_location(value: &str) -> Result<String, (String, String)> {
    let trimmed = value.trim_end_matches('/');
    for scheme in ["http://", "https://"] {
        if let Some(rest) = trimmed.strip_prefix(scheme) {
            return Err((
                format!("`{value}` is a URL; a registry is named without `{scheme}`"),
                format!("write `{rest}`, and `insecure = true` if it speaks plain HTTP"),
            ));
        }
    }
    Ok(trimmed.to_string())
}

/// A wildcard is only `*.` at the start of a host, without port or path.
fn check_prefix(prefix: &str) -> Result<(), (String, String)> {
    let bad = match prefix.strip_prefix("*.") {
        Some(domain) => domain.is_empty() || domain.contains(['/', ':', '@', '*']),
        None => prefix.contains('*'),
    };
    if bad {
        return Err((
            format!("`{prefix}` is not a prefix: a wildcard is `*.` before a domain, with no port or path"),
            "write `*.example.com`, or name the registry without `*`".into(),
        ));
    }
    Ok(())
}

/// Line and column (1-based, in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = (0..=offset.min(text.len()))
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileDoc {
    #[serde(default)]
    unqualified_search_registries: Vec<String>,
    #[serde(default)]
    registry: Vec<Spanned<RegistryDoc>>,
    /// Version 1's `[registries.*]` tables, only to say they are not read.
    #[serde(default)]
    registries: Option<Spanned<IgnoredAny>>,
    // Other top-level keys (`short-name-mode`, `credential-helpers`,
    // `[aliases]`, …) belong to other tools and are left alone.
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RegistryDoc {
    #[serde(default)]
    prefix: Option<Spanned<String>>,
    #[serde(default)]
    location: Option<Spanned<String>>,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    blocked: bool,
    #[serde(default)]
    mirror_by_digest_only: bool,
    #[serde(default)]
    mirror: Vec<Spanned<MirrorDoc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct MirrorDoc {
    location: Spanned<String>,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    pull_from_mirror: Option<Spanned<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    fn conf(text: &str) -> RegistriesConf {
        RegistriesConf::parse(Path::new("/etc/containers/registries.conf"), text)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn image(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap()
    }

    /// Each endpoint as `reference` plus ` (insecure)` / ` (mirror)`.
    fn endpoints(c: &RegistriesConf, s: &str) -> Vec<String> {
        c.endpoints(&image(s))
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(|e| {
                let mut s = e.reference.to_string();
                if e.mirror {
                    s.push_str(" (mirror)");
                }
                if e.insecure {
                    s.push_str(" (insecure)");
                }
                s
            })
            .collect()
    }

    #[test]
    fn without_a_matching_table_the_image_comes_from_its_own_registry() {
        for c in [RegistriesConf::default(), conf("unqualified-search-registries = [\"quay.io\"]\n[[registry]]\nlocation = \"quay.io\"\ninsecure = true\n")] {
            assert_eq!(endpoints(&c, "ubuntu"), ["docker.io/library/ubuntu:latest"]);
            assert_eq!(
                endpoints(&c, "quay.io.example.com/app"),
                ["quay.io.example.com/app:latest"]
            );
        }
        // Read, and not used: unqualified names are Docker Hub's.
        let c = conf("unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n");
        assert_eq!(c.unqualified_search_registries(), ["quay.io", "docker.io"]);
        assert_eq!(endpoints(&c, "app"), ["docker.io/library/app:latest"]);
    }

    #[test]
    fn the_prefix_is_rewritten_to_the_location_as_the_man_page_says() {
        let c = conf(
            "[[registry]]\nprefix = \"example.com/foo\"\nlocation = \"internal-registry-for-example.com/bar\"\n",
        );
        assert_eq!(
            endpoints(&c, "example.com/foo/myimage:latest"),
            ["internal-registry-for-example.com/bar/myimage:latest"]
        );
        assert_eq!(
            endpoints(&c, "example.com/foo:1"),
            ["internal-registry-for-example.com/bar:1"]
        );
        assert_eq!(
            endpoints(&c, &format!("example.com/foo@{D}")),
            [format!("internal-registry-for-example.com/bar@{D}")]
        );
        // A prefix matches whole parts only.
        assert_eq!(
            endpoints(&c, "example.com/foobar/x"),
            ["example.com/foobar/x:latest"]
        );
        // Docker Hub names match in their canonical form.
        let c =
            conf("[[registry]]\nprefix = \"docker.io\"\nlocation = \"hub-cache.internal:5000\"\n");
        assert_eq!(
            endpoints(&c, "ubuntu:20.04"),
            ["hub-cache.internal:5000/library/ubuntu:20.04"]
        );
        // A port is another registry.
        let c = conf("[[registry]]\nprefix = \"example.com\"\nlocation = \"other.example.net\"\n");
        assert_eq!(
            endpoints(&c, "example.com:5000/app"),
            ["example.com:5000/app:latest"]
        );
    }

    #[test]
    fn the_longest_matching_prefix_wins() {
        let c = conf(
            "[[registry]]\nprefix = \"example.com\"\nlocation = \"a.example.net\"\n\n\
             [[registry]]\nprefix = \"example.com/team/app\"\nlocation = \"c.example.net/app\"\n\n\
             [[registry]]\nprefix = \"example.com/team\"\nlocation = \"b.example.net\"\n",
        );
        assert_eq!(
            endpoints(&c, "example.com/team/app:1"),
            ["c.example.net/app:1"]
        );
        assert_eq!(
            endpoints(&c, "example.com/team/web"),
            ["b.example.net/web:latest"]
        );
        assert_eq!(endpoints(&c, "example.com/x"), ["a.example.net/x:latest"]);
    }

    #[test]
    fn wildcard_prefixes_match_subdomains_only() {
        let c = conf(
            "[[registry]]\nprefix = \"*.example.com\"\ninsecure = true\n\n\
             [[registry]]\nprefix = \"*.cache.example.com\"\nlocation = \"mirror.local\"\n",
        );
        assert_eq!(
            endpoints(&c, "a.example.com/app"),
            ["a.example.com/app:latest (insecure)"]
        );
        assert_eq!(
            endpoints(&c, "x.y.example.com:5000/app"),
            ["x.y.example.com:5000/app:latest (insecure)"]
        );
        // The longer wildcard wins, and its location replaces the host.
        assert_eq!(
            endpoints(&c, "eu.cache.example.com/team/app:2"),
            ["mirror.local/team/app:2"]
        );
        // Not the domain itself, nor a host that merely ends alike.
        assert_eq!(endpoints(&c, "example.com/app"), ["example.com/app:latest"]);
        assert_eq!(
            endpoints(&c, "badexample.com/app"),
            ["badexample.com/app:latest"]
        );
        assert_eq!(
            endpoints(&c, "registry.local/a.example.com/app"),
            ["registry.local/a.example.com/app:latest"]
        );
    }

    #[test]
    fn mirrors_come_first_in_file_order_each_with_its_own_insecure() {
        let c = conf(
            "[[registry]]\nprefix = \"docker.io\"\nlocation = \"docker.io\"\n\n\
             [[registry.mirror]]\nlocation = \"127.0.0.1:5000/hub\"\ninsecure = true\n\n\
             [[registry.mirror]]\nlocation = \"mirror.example.com\"\n\n\
             [[registry.mirror]]\nlocation = \"digests.example.com\"\npull-from-mirror = \"digest-only\"\n",
        );
        assert_eq!(
            endpoints(&c, "grycap/cowsay"),
            [
                "127.0.0.1:5000/hub/grycap/cowsay:latest (mirror) (insecure)",
                "mirror.example.com/grycap/cowsay:latest (mirror)",
                "docker.io/grycap/cowsay:latest",
            ]
        );
        assert_eq!(
            endpoints(&c, &format!("grycap/cowsay@{D}")),
            [
                format!("127.0.0.1:5000/hub/grycap/cowsay@{D} (mirror) (insecure)"),
                format!("mirror.example.com/grycap/cowsay@{D} (mirror)"),
                format!("digests.example.com/grycap/cowsay@{D} (mirror)"),
                format!("docker.io/grycap/cowsay@{D}"),
            ]
        );
        let c = conf(
            "[[registry]]\nlocation = \"quay.io\"\nmirror-by-digest-only = true\n\
             [[registry.mirror]]\nlocation = \"m.example.com\"\n",
        );
        assert_eq!(endpoints(&c, "quay.io/a/b"), ["quay.io/a/b:latest"]);
        assert_eq!(
            endpoints(&c, &format!("quay.io/a/b@{D}")),
            [
                format!("m.example.com/a/b@{D} (mirror)"),
                format!("quay.io/a/b@{D}")
            ]
        );
    }

    #[test]
    fn a_blocked_registry_is_an_error_naming_the_table() {
        let c = conf("# pulls from here are forbidden\n[[registry]]\nlocation = \"registry.example.com\"\nblocked = true\n[[registry.mirror]]\nlocation = \"m.example.com\"\n");
        let e = c
            .endpoints(&image("registry.example.com/app:1"))
            .unwrap_err();
        assert!(matches!(e, ResolveError::Blocked { line: 2, .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "`registry.example.com/app:1` is blocked by the `[[registry]]` at /etc/containers/registries.conf:2 (prefix `registry.example.com`)\nhint: use an image from another registry, or remove `blocked = true` there"
        );
        assert!(c.endpoints(&image("other.example.com/app")).is_ok());
    }

    #[test]
    fn a_rewrite_to_an_invalid_name_is_an_error() {
        let c = conf("[[registry]]\nprefix = \"example.com\"\nlocation = \"Bad_Host\"\n");
        let e = c.endpoints(&image("example.com/app")).unwrap_err();
        assert!(
            e.to_string().starts_with("the `[[registry]]` at /etc/containers/registries.conf:1 rewrites `example.com/app:latest` to `Bad_Host/app:latest`"),
            "{e}"
        );
    }

    /// Line, column and message start of the error for `text`, and its hint.
    fn invalid(text: &str) -> (usize, usize, String, String) {
        match RegistriesConf::parse(Path::new("/etc/containers/registries.conf"), text) {
            Err(ConfError::Invalid {
                line,
                column,
                message,
                hint,
                ..
            }) => (line, column, message, hint),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_bad_file_is_an_error_with_its_line_column_and_a_fix() {
        let (l, c, m, _) = invalid("[[registry]]\nlocation = \"quay.io\"\ninsecure = yes\n");
        assert_eq!((l, c), (3, 12), "{m}");
        let (l, c, m, h) = invalid("[[registry]]\nlocation = \"quay.io\"\ninsecur = true\n");
        assert_eq!((l, c), (3, 1), "{m}");
        assert!(m.contains("unknown field `insecur`"), "{m}");
        assert!(h.contains("`insecure`"), "{h}");
        let (l, _, m, _) = invalid("[[registry]\nlocation = \"quay.io\"\n");
        assert_eq!(l, 1, "{m}");
        let (l, c, m, h) = invalid("\n[[registry]]\nlocation = \"https://quay.io/\"\n");
        assert_eq!((l, c), (3, 12));
        assert!(m.contains("is a URL"), "{m}");
        assert_eq!(
            h,
            "write `quay.io`, and `insecure = true` if it speaks plain HTTP"
        );
        let (l, _, m, _) = invalid("[[registry]]\ninsecure = true\n");
        assert_eq!(l, 1);
        assert!(m.contains("neither `prefix` nor `location`"), "{m}");
        let (l, _, m, _) = invalid("[[registry]]\nprefix = \"example.com\"\n");
        assert_eq!(l, 1);
        assert!(m.contains("has no `location`"), "{m}");
        let (l, c, m, _) =
            invalid("[[registry]]\nprefix = \"example.*.com\"\nlocation = \"x.com\"\n");
        assert_eq!((l, c), (2, 10));
        assert!(m.contains("is not a prefix"), "{m}");
        let (l, _, m, _) = invalid("[[registry]]\nprefix = \"*.example.com:5000\"\n");
        assert_eq!(l, 2, "{m}");
        let (l, c, m, h) = invalid("[registries.search]\nregistries = [\"docker.io\"]\n");
        assert_eq!((l, c), (1, 2));
        assert!(m.contains("version 1"), "{m}");
        assert!(h.contains("[[registry]]"), "{h}");
        let (l, _, m, _) = invalid("[[registry]]\nlocation = \"q.io\"\n[[registry.mirror]]\nlocation = \"m.io\"\npull-from-mirror = \"sometimes\"\n");
        assert_eq!(l, 5);
        assert!(m.contains("is not a mode"), "{m}");
        let (l, _, m, _) = invalid("[[registry]]\nlocation = \"q.io\"\n\n[[registry]]\nlocation = \"q.io\"\nblocked = true\n");
        assert_eq!(l, 4);
        assert!(m.contains("the first is at line 1"), "{m}");
        // The whole text names the file, the place and the fix.
        let e = RegistriesConf::parse(Path::new("/tmp/r.conf"), "[[registry]]\nlocation = 5\n")
            .unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("/tmp/r.conf:2:12: "), "{text}");
        assert!(text.contains("\nhint: "), "{text}");
    }

    #[test]
    fn other_tools_keys_are_left_alone_and_a_missing_prefix_defaults_to_the_location() {
        let c = conf(
            "short-name-mode = \"enforcing\"\ncredential-helpers = [\"containers-auth.json\"]\n\
             [aliases]\n\"cowsay\" = \"docker.io/grycap/cowsay\"\n\
             [[registry]]\nlocation = \"localhost:5000\"\ninsecure = true\n",
        );
        assert_eq!(
            endpoints(&c, "localhost:5000/app"),
            ["localhost:5000/app:latest (insecure)"]
        );
    }

    #[test]
    fn the_file_is_the_setting_else_the_default_if_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        let default = dir.path().join("registries.conf");
        let set = dir.path().join("mine.conf");
        assert_eq!(locate(None, &default), None);
        assert_eq!(locate(Some(&set), &default), Some(set.clone()));
        std::fs::write(&default, "").unwrap();
        assert_eq!(locate(None, &default), Some(default.clone()));
        assert_eq!(locate(Some(&set), &default), Some(set.clone()));
        // A named file that is missing is an error naming it.
        let e = RegistriesConf::load_configured(Some(&set)).unwrap_err();
        assert!(matches!(e, ConfError::Read { .. }));
        assert!(e.to_string().contains("mine.conf"), "{e}");
        std::fs::write(
            &set,
            "[[registry]]\nlocation = \"localhost:5000\"\ninsecure = true\n",
        )
        .unwrap();
        let c = RegistriesConf::load_configured(Some(&set)).unwrap();
        assert_eq!(c.path(), Some(set.as_path()));
        assert!(c.endpoints(&image("localhost:5000/a")).unwrap()[0].insecure);
    }
}
