//! Image references (`grycap/imagemagick`, `ubuntu:20.04`,
//! `registry.example.com:5000/team/app@sha256:…`) read exactly as docker
//! reads them, after distribution/reference's normalization: a name
//! without a registry is on Docker Hub (`docker.io`), a one-part Docker Hub
//! name is an official image (`library/…`), and a name with neither tag nor
//! digest means `:latest`. What docker accepts is accepted here and what it
//! rejects is rejected, each rejection saying in words what is wrong and
//! how to fix it. A value that is a placeholder (`<your-image>`,
//! `{{image}}`, `${IMAGE}`) is its own error.
//!
//! Hand-written rather than wrapped from a crate: `oci-spec`'s (and
//! `oci-client`'s) `Reference` answers most mistakes with one "invalid
//! reference format", limits the repository's length instead of the whole
//! name's, and takes upper-case hexadecimal digests that docker refuses.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Docker Hub's name in canonical references.
pub const DOCKER_HUB: &str = "docker.io";
/// Docker Hub's legacy name, read as [`DOCKER_HUB`].
const DOCKER_HUB_LEGACY: &str = "index.docker.io";
/// The Docker Hub namespace of official images (`ubuntu` is `library/ubuntu`).
const OFFICIAL_NAMESPACE: &str = "library/";
/// The tag of a reference that names neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
/// Longest name (registry, `/` and repository) docker accepts.
pub const NAME_MAX: usize = 255;
/// Longest tag docker accepts.
pub const TAG_MAX: usize = 128;

/// An image reference, normalized: registry, repository, and a tag, a
/// digest or both (a tag alone when the input named neither: `latest`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageRef {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// Reads `input` as docker does (see the module's documentation).
    pub fn parse(input: &str) -> Result<ImageRef, ReferenceError> {
        parse(input)
    }

    /// The registry: a host with an optional port (`docker.io`,
    /// `localhost:5000`, `[::1]:5000`), as written except that Docker
    /// Hub's legacy name is [`DOCKER_HUB`].
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository in its registry (`library/ubuntu`, `grycap/cowsay`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag: as given, `latest` when neither tag nor digest was, none
    /// when only a digest was.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`sha256:` and 64 lower-case hexadecimal digits), if given.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// Registry and repository: `docker.io/library/ubuntu`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The short form docker prints (`ubuntu:latest`,
    /// `grycap/cowsay:latest`, `localhost:5000/app:1`): Docker Hub and its
    /// `library/` namespace left out. For messages; [`fmt::Display`]
    /// gives the full form.
    pub fn familiar(&self) -> String {
        let mut s = if self.registry == DOCKER_HUB {
            match self.repository.strip_prefix(OFFICIAL_NAMESPACE) {
                Some(official) if !official.contains('/') => official.to_string(),
                _ => self.repository.clone(),
            }
        } else {
            self.name()
        };
        push_tag_and_digest(&mut s, self.tag(), self.digest());
        s
    }
}

fn push_tag_and_digest(s: &mut String, tag: Option<&str>, digest: Option<&str>) {
    if let Some(t) = tag {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = digest {
        s.push('@');
        s.push_str(d);
    }
}

/// The canonical full form: `docker.io/library/ubuntu:latest`,
/// `registry.example.com/app:1@sha256:…`. It parses back to the same value.
impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        push_tag_and_digest(&mut s, self.tag(), self.digest());
        f.write_str(&s)
    }
}

impl FromStr for ImageRef {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// Why a value is not an image reference. [`ReferenceError::hint`] says
/// how to fix it.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ReferenceError {
    #[error("the image name is empty")]
    Empty,
    #[error("`{0}` is a placeholder, not an image name")]
    Placeholder(String),
    #[error("`{input}` is a URL; an image name has no `{scheme}://`")]
    Scheme { input: String, scheme: String },
    #[error("`{input}` holds {what}, which no image name may hold")]
    Character {
        input: String,
        what: String,
        suggestion: Option<String>,
    },
    #[error("`{0}` is an image ID (64 hexadecimal digits), not an image name")]
    ImageId(String),
    #[error("`{0}` names no repository")]
    NoRepository(String),
    #[error(
        "the registry `{registry}` in `{input}` is not a host name with an optional port: {why}"
    )]
    Registry {
        input: String,
        registry: String,
        why: String,
    },
    #[error(
        "the repository `{repository}` has upper-case letters; repository names are lower-case"
    )]
    Uppercase {
        repository: String,
        suggestion: Option<String>,
    },
    #[error("the repository `{repository}` is not valid: {why}")]
    Component {
        repository: String,
        why: String,
        suggestion: Option<String>,
    },
    #[error("the tag `{tag}` is not valid: {why}")]
    Tag { tag: String, why: String },
    #[error("the digest `{digest}` is not valid: {why}")]
    Digest { digest: String, why: String },
    #[error("`{input}` is {len} characters long without its tag and digest; docker accepts at most {NAME_MAX}")]
    TooLong { input: String, len: usize },
}

impl ReferenceError {
    /// The diagnostic code: `image-reference-placeholder` for a
    /// placeholder, `image-reference-invalid` for anything else.
    pub fn code(&self) -> &'static str {
        match self {
            ReferenceError::Placeholder(_) => "image-reference-placeholder",
            _ => "image-reference-invalid",
        }
    }

    /// How to fix it.
    pub fn hint(&self) -> String {
        const EXAMPLES: &str = "`grycap/cowsay`, `ubuntu:20.04` or `123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0`";
        match self {
            ReferenceError::Empty => format!("write an image name, such as {EXAMPLES}"),
            ReferenceError::Placeholder(_) => {
                format!("replace the placeholder with an image name, such as {EXAMPLES}")
            }
            ReferenceError::Scheme { input, scheme } => {
                let rest = input
                    .get(scheme.len() + 3..)
                    .unwrap_or_default()
                    .trim_end_matches('/');
                format!("leave out the scheme: `{rest}`")
            }
            ReferenceError::Character {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            ReferenceError::Character { .. } => "an image name is `[registry/]repository[:tag][@digest]`, of letters, digits, `.`, `_`, `-`, `/`, `:` and `@` only".into(),
            ReferenceError::ImageId(id) => format!(
                "name the image by its repository; to pin this exact image write `<repository>@sha256:{id}`"
            ),
            ReferenceError::NoRepository(_) => {
                "write the repository first, as in `ubuntu:20.04` or `registry.example.com/team/app`".into()
            }
            ReferenceError::Registry { .. } => "a registry is a host name or IP address with an optional port, such as `registry.example.com:5000`, `localhost:5000` or `[::1]:5000`, followed by `/` and the repository".into(),
            ReferenceError::Uppercase { suggestion, .. }
            | ReferenceError::Component { suggestion, .. } => match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => "each part between `/` is lower-case letters and digits, joined by one `.`, one or two `_`, or dashes".into(),
            },
            ReferenceError::Tag { .. } => format!(
                "a tag is 1 to {TAG_MAX} letters, digits, `_`, `.` and `-`, and does not start with `.` or `-`"
            ),
            ReferenceError::Digest { .. } => "a digest is `sha256:` and 64 lower-case hexadecimal digits, as `docker images --digests` prints it".into(),
            ReferenceError::TooLong { .. } => "use a shorter repository name".into(),
        }
    }
}

/// A value that stands for an image name rather than being one: template
/// markers (`<…>`, `{{…}}`, `${…}`, `$VAR`), an ellipsis, a bracketed word
/// without a path (`[image]`), or an upper-case `SNAKE_CASE` word. None of
/// them is a valid reference, so telling them apart rejects nothing docker
/// accepts.
fn is_placeholder(s: &str) -> bool {
    let marker = s.contains(['<', '>', '{', '}', '$', '…']) || s.contains("...");
    let bracketed = s.starts_with('[') && s.ends_with(']') && !s.contains('/');
    // The name only: `IMAGE_NAME:latest` is one too.
    let word = s.split([':', '@']).next().unwrap_or_default();
    let snake = word.contains('_')
        && word.chars().any(|c| c.is_ascii_uppercase())
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    marker || bracketed || snake
}

/// The characters that may appear anywhere in a reference (the parts
/// narrow it down): name, port, tag, IPv6 brackets and digest algorithm
/// separators.
fn allowed_anywhere(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._-/:@[]+".contains(c)
}

fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '\t' => "a tab".into(),
        '\n' | '\r' => "a line break".into(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("`{c}`"),
    }
}

fn parse(input: &str) -> Result<ImageRef, ReferenceError> {
    if input.trim().is_empty() {
        return Err(ReferenceError::Empty);
    }
    if is_placeholder(input) {
        return Err(ReferenceError::Placeholder(input.to_string()));
    }
    if let Some((scheme, _)) = input.split_once("://") {
        if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ReferenceError::Scheme {
                input: input.to_string(),
                scheme: scheme.to_string(),
            });
        }
    }
    if let Some(c) = input.chars().find(|c| !allowed_anywhere(*c)) {
        // `ubuntu 20.04` most likely meant a tag.
        let words: Vec<&str> = input.split_whitespace().collect();
        let suggestion = (c.is_whitespace() && words.len() == 2)
            .then(|| words.join(":"))
            .filter(|s| parse(s).is_ok());
        return Err(ReferenceError::Character {
            input: input.to_string(),
            what: describe_char(c),
            suggestion,
        });
    }
    // docker refuses a bare image ID as a name: it would be ambiguous.
    if input.len() == 64 && is_lower_hex(input) {
        return Err(ReferenceError::ImageId(input.to_string()));
    }

    // Neither the name nor the tag may hold `@`: the first one starts the
    // digest. A `:` after the last `/` starts the tag; one before it is a
    // registry's port.
    let (rest, digest) = match input.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (input, None),
    };
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if name.is_empty() {
        return Err(ReferenceError::NoRepository(input.to_string()));
    }

    let (registry, repository) = split_registry(name);
    if registry != DOCKER_HUB {
        check_registry(input, &registry)?;
    }
    if repository.is_empty() {
        return Err(ReferenceError::NoRepository(input.to_string()));
    }
    check_repository(input, name, &repository)?;
    let len = registry.len() + 1 + repository.len();
    if len > NAME_MAX {
        return Err(ReferenceError::TooLong {
            input: input.to_string(),
            len,
        });
    }
    if let Some(t) = tag {
        check_tag(t)?;
    }
    if let Some(d) = digest {
        check_digest(d)?;
    }
    Ok(ImageRef {
        registry,
        repository,
        tag: tag
            .map(str::to_string)
            .or_else(|| digest.is_none().then(|| DEFAULT_TAG.to_string())),
        digest: digest.map(str::to_string),
    })
}

/// Registry and repository of a name (without tag and digest). The first
/// part is a registry when it holds a `.` or a `:` or is `localhost`;
/// otherwise the name is on Docker Hub, in `library/` if it is one part.
///
/// (distribution/reference since 2023 also takes a first part with
/// upper-case letters for a host; such a host never resolves, so here it
/// stays a repository and is reported as not lower-case, which says what
/// the user most likely meant.)
fn split_registry(name: &str) -> (String, String) {
    let (registry, repository) = match name.split_once('/') {
        Some((first, rest)) if first == "localhost" || first.contains(['.', ':']) => {
            let registry = if first == DOCKER_HUB_LEGACY {
                DOCKER_HUB
            } else {
                first
            };
            (registry.to_string(), rest.to_string())
        }
        _ => (DOCKER_HUB.to_string(), name.to_string()),
    };
    if registry == DOCKER_HUB && !repository.contains('/') && !repository.is_empty() {
        return (registry, format!("{OFFICIAL_NAMESPACE}{repository}"));
    }
    (registry, repository)
}

/// A host (DNS name, IPv4, or IPv6 in brackets) with an optional port.
fn check_registry(input: &str, registry: &str) -> Result<(), ReferenceError> {
    let fail = |why: String| ReferenceError::Registry {
        input: input.to_string(),
        registry: registry.to_string(),
        why,
    };
    let (host, port) = if let Some(v6) = registry.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return Err(fail("the `[` of an IPv6 address is not closed".into()));
        };
        if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return Err(fail(format!("`{addr}` is not an IPv6 address")));
        }
        match after {
            "" => (None, None),
            p => match p.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return Err(fail("only `:port` may follow `]`".into())),
            },
        }
    } else {
        match registry.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(registry), None),
        }
    };
    if let Some(port) = port {
        if port.is_empty() {
            return Err(fail("nothing follows the `:` before the port".into()));
        }
        if !port.chars().all(|c| c.is_ascii_digit()) {
            return Err(fail(format!("the port `{port}` is not a number")));
        }
    }
    let Some(host) = host else {
        return Ok(());
    };
    for label in host.split('.') {
        if label.is_empty() {
            return Err(fail("it has an empty part between dots".into()));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(fail(format!(
                "{} is not allowed in a host name",
                describe_char(c)
            )));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(fail(format!("`{label}` starts or ends with `-`")));
        }
    }
    Ok(())
}

/// Path parts of lower-case letters and digits, joined by one `.`, one or
/// two `_`, or any number of `-`.
fn check_repository(input: &str, name: &str, repository: &str) -> Result<(), ReferenceError> {
    // The fix a message proposes: the input with its repository fixed, if
    // that parses.
    let suggest = |fixed: String| -> Option<String> {
        let prefix_len = name.len() - name_path_len(name);
        let candidate = format!("{}{}{}", &input[..prefix_len], fixed, &input[name.len()..]);
        (candidate != input && parse(&candidate).is_ok()).then_some(candidate)
    };
    let written = &name[name.len() - name_path_len(name)..];
    if repository.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(ReferenceError::Uppercase {
            repository: written.to_string(),
            suggestion: suggest(written.to_ascii_lowercase()),
        });
    }
    for part in repository.split('/') {
        if let Some(why) = component_problem(part) {
            return Err(ReferenceError::Component {
                repository: written.to_string(),
                why,
                suggestion: suggest(fix_path(written)),
            });
        }
    }
    Ok(())
}

/// The length of the part of `name` that is the repository as written
/// (without a registry, and without the implied `library/`).
fn name_path_len(name: &str) -> usize {
    match name.split_once('/') {
        Some((first, rest)) if first == "localhost" || first.contains(['.', ':']) => rest.len(),
        _ => name.len(),
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, '.' | '_' | '-')
}

/// Why one part between `/` is not valid, if it is not.
fn component_problem(part: &str) -> Option<String> {
    if part.is_empty() {
        return Some("it has an empty part (two `/` in a row, or a `/` at an end)".into());
    }
    if let Some(c) = part
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || is_separator(*c)))
    {
        return Some(format!(
            "{} is not allowed in a repository name",
            describe_char(c)
        ));
    }
    if part.starts_with(is_separator) || part.ends_with(is_separator) {
        return Some(format!(
            "`{part}` must start and end with a lower-case letter or digit"
        ));
    }
    let mut run = String::new();
    for c in part.chars().chain(std::iter::once('a')) {
        if is_separator(c) {
            run.push(c);
            continue;
        }
        let ok = run.is_empty()
            || run == "."
            || run == "_"
            || run == "__"
            || run.chars().all(|c| c == '-');
        if !ok {
            return Some(format!(
                "`{run}` in `{part}` cannot join two words: use one `.`, one or two `_`, or dashes"
            ));
        }
        run.clear();
    }
    None
}

/// `path` made valid where that is plain: lower-case, other characters and
/// unjoinable separator runs turned into one `-`, ends trimmed, empty
/// parts dropped.
fn fix_path(path: &str) -> String {
    path.split('/')
        .map(|part| {
            let mut out = String::new();
            let mut run = String::new();
            for c in part.to_ascii_lowercase().chars() {
                if c.is_ascii_lowercase() || c.is_ascii_digit() {
                    if !run.is_empty() && !out.is_empty() {
                        let joinable = run == "."
                            || run == "_"
                            || run == "__"
                            || run.chars().all(|c| c == '-');
                        out.push_str(if joinable { &run } else { "-" });
                    }
                    run.clear();
                    out.push(c);
                } else {
                    run.push(if is_separator(c) { c } else { '-' });
                }
            }
            out
        })
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

fn check_tag(tag: &str) -> Result<(), ReferenceError> {
    let fail = |why: String| ReferenceError::Tag {
        tag: tag.to_string(),
        why,
    };
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if tag.is_empty() {
        return Err(fail("nothing follows the `:`".into()));
    }
    if tag.len() > TAG_MAX {
        return Err(fail(format!(
            "it is {} characters long; at most {TAG_MAX} are allowed",
            tag.len()
        )));
    }
    if let Some(c) = tag.chars().find(|c| !(word(*c) || *c == '.' || *c == '-')) {
        return Err(fail(format!(
            "{} is not allowed in a tag",
            describe_char(c)
        )));
    }
    if !tag.starts_with(word) {
        return Err(fail("it must start with a letter, digit or `_`".into()));
    }
    Ok(())
}

fn is_lower_hex(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// `algorithm:hex` where docker knows the algorithm (sha256, sha384,
/// sha512) and the hex is its length, in lower case.
fn check_digest(digest: &str) -> Result<(), ReferenceError> {
    let fail = |why: String| ReferenceError::Digest {
        digest: digest.to_string(),
        why,
    };
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(fail(
            "it must be an algorithm, `:` and hexadecimal digits".into(),
        ));
    };
    let digits = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        "" => return Err(fail("no algorithm precedes the `:`".into())),
        other => {
            return Err(fail(format!(
                "`{other}` is not an algorithm docker knows (sha256, sha384, sha512)"
            )))
        }
    };
    if let Some(c) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(fail(format!(
            "{} is not a hexadecimal digit",
            describe_char(c)
        )));
    }
    if hex.len() != digits {
        return Err(fail(format!(
            "{algorithm} digests have {digits} hexadecimal digits; this one has {}",
            hex.len()
        )));
    }
    if !is_lower_hex(hex) {
        return Err(fail("its hexadecimal digits must be lower-case".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    /// Input, then the canonical form, registry, repository, tag, digest.
    #[test]
    fn valid_references_normalize_as_docker_does() {
        let d = D;
        let o = |s: &str| Some(s.to_string());
        type Row<'a> = (
            String,
            String,
            &'a str,
            &'a str,
            Option<String>,
            Option<String>,
        );
        let cases: Vec<Row> = vec![
            (
                "ubuntu".into(),
                "docker.io/library/ubuntu:latest".into(),
                "docker.io",
                "library/ubuntu",
                o("latest"),
                None,
            ),
            (
                "grycap/imagemagick".into(),
                "docker.io/grycap/imagemagick:latest".into(),
                "docker.io",
                "grycap/imagemagick",
                o("latest"),
                None,
            ),
            (
                "ubuntu:20.04".into(),
                "docker.io/library/ubuntu:20.04".into(),
                "docker.io",
                "library/ubuntu",
                o("20.04"),
                None,
            ),
            (
                "ruby:2.2.10-slim-jessie".into(),
                "docker.io/library/ruby:2.2.10-slim-jessie".into(),
                "docker.io",
                "library/ruby",
                o("2.2.10-slim-jessie"),
                None,
            ),
            (
                "docker.io/ubuntu".into(),
                "docker.io/library/ubuntu:latest".into(),
                "docker.io",
                "library/ubuntu",
                o("latest"),
                None,
            ),
            (
                "index.docker.io/grycap/cowsay".into(),
                "docker.io/grycap/cowsay:latest".into(),
                "docker.io",
                "grycap/cowsay",
                o("latest"),
                None,
            ),
            (
                "docker.io/library/ubuntu:20.04".into(),
                "docker.io/library/ubuntu:20.04".into(),
                "docker.io",
                "library/ubuntu",
                o("20.04"),
                None,
            ),
            // A one-part name with a dot or a port-like tag is still a Docker Hub name.
            (
                "test.com:tag".into(),
                "docker.io/library/test.com:tag".into(),
                "docker.io",
                "library/test.com",
                o("tag"),
                None,
            ),
            (
                "localhost:5000".into(),
                "docker.io/library/localhost:5000".into(),
                "docker.io",
                "library/localhost",
                o("5000"),
                None,
            ),
            (
                "localhost/app".into(),
                "localhost/app:latest".into(),
                "localhost",
                "app",
                o("latest"),
                None,
            ),
            (
                "localhost:5000/app:1".into(),
                "localhost:5000/app:1".into(),
                "localhost:5000",
                "app",
                o("1"),
                None,
            ),
            (
                "127.0.0.1:5000/team/app".into(),
                "127.0.0.1:5000/team/app:latest".into(),
                "127.0.0.1:5000",
                "team/app",
                o("latest"),
                None,
            ),
            (
                "[::1]:5000/app".into(),
                "[::1]:5000/app:latest".into(),
                "[::1]:5000",
                "app",
                o("latest"),
                None,
            ),
            (
                "registry:5000/app".into(),
                "registry:5000/app:latest".into(),
                "registry:5000",
                "app",
                o("latest"),
                None,
            ),
            (
                "974349055189.dkr.ecr.us-east-1.amazonaws.com/micafer:latest".into(),
                "974349055189.dkr.ecr.us-east-1.amazonaws.com/micafer:latest".into(),
                "974349055189.dkr.ecr.us-east-1.amazonaws.com",
                "micafer",
                o("latest"),
                None,
            ),
            (
                "Registry.Example.com/app".into(),
                "Registry.Example.com/app:latest".into(),
                "Registry.Example.com",
                "app",
                o("latest"),
                None,
            ),
            (
                "b.gcr.io/test.example.com/my-app:test.example.com".into(),
                "b.gcr.io/test.example.com/my-app:test.example.com".into(),
                "b.gcr.io",
                "test.example.com/my-app",
                o("test.example.com"),
                None,
            ),
            (
                "xn--n3h.com/myimage:xn--n3h.com".into(),
                "xn--n3h.com/myimage:xn--n3h.com".into(),
                "xn--n3h.com",
                "myimage",
                o("xn--n3h.com"),
                None,
            ),
            (
                "a/b__c/d---e/f.g/h_i".into(),
                "docker.io/a/b__c/d---e/f.g/h_i:latest".into(),
                "docker.io",
                "a/b__c/d---e/f.g/h_i",
                o("latest"),
                None,
            ),
            (
                "lowercase:Uppercase_TAG".into(),
                "docker.io/library/lowercase:Uppercase_TAG".into(),
                "docker.io",
                "library/lowercase",
                o("Uppercase_TAG"),
                None,
            ),
            (
                "foo/foo_bar.com:8080".into(),
                "docker.io/foo/foo_bar.com:8080".into(),
                "docker.io",
                "foo/foo_bar.com",
                o("8080"),
                None,
            ),
            (
                format!("ubuntu@{d}"),
                format!("docker.io/library/ubuntu@{d}"),
                "docker.io",
                "library/ubuntu",
                None,
                o(d),
            ),
            (
                format!("ubuntu:20.04@{d}"),
                format!("docker.io/library/ubuntu:20.04@{d}"),
                "docker.io",
                "library/ubuntu",
                o("20.04"),
                o(d),
            ),
            (
                format!("localhost:5000/app@{d}"),
                format!("localhost:5000/app@{d}"),
                "localhost:5000",
                "app",
                None,
                o(d),
            ),
            (
                format!("app@sha512:{}", "0".repeat(128)),
                format!("docker.io/library/app@sha512:{}", "0".repeat(128)),
                "docker.io",
                "library/app",
                None,
                Some(format!("sha512:{}", "0".repeat(128))),
            ),
            (
                format!("app:{}", "t".repeat(128)),
                format!("docker.io/library/app:{}", "t".repeat(128)),
                "docker.io",
                "library/app",
                Some("t".repeat(128)),
                None,
            ),
        ];
        for (input, canonical, registry, repository, tag, digest) in &cases {
            let r = ImageRef::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.to_string(), *canonical, "{input}");
            assert_eq!(r.registry(), *registry, "{input}");
            assert_eq!(r.repository(), *repository, "{input}");
            assert_eq!(r.tag(), tag.as_deref(), "{input}");
            assert_eq!(r.digest(), digest.as_deref(), "{input}");
            // The canonical form reads back to the same reference.
            assert_eq!(ImageRef::parse(canonical).as_ref(), Ok(&r), "{canonical}");
        }
    }

    #[test]
    fn the_familiar_form_leaves_out_docker_hub_and_library() {
        let f = |s: &str| ImageRef::parse(s).unwrap().familiar();
        assert_eq!(f("ubuntu"), "ubuntu:latest");
        assert_eq!(f("docker.io/library/ubuntu:20.04"), "ubuntu:20.04");
        assert_eq!(f("grycap/cowsay"), "grycap/cowsay:latest");
        assert_eq!(f("library/a/b"), "library/a/b:latest");
        assert_eq!(f("localhost:5000/app:1"), "localhost:5000/app:1");
        assert_eq!(f(&format!("ubuntu@{D}")), format!("ubuntu@{D}"));
    }

    fn err(input: &str) -> ReferenceError {
        match ImageRef::parse(input) {
            Ok(r) => panic!("`{input}` parsed as {r}"),
            Err(e) => e,
        }
    }

    #[test]
    fn placeholders_are_their_own_error() {
        for p in [
            "<your-image>",
            "<image>",
            "{{image}}",
            "{{ .Values.image }}",
            "${IMAGE}",
            "$IMAGE",
            "grycap/<name>",
            "registry.example.com/...",
            "…",
            "[image]",
            "YOUR_IMAGE",
            "IMAGE_NAME:latest",
        ] {
            let e = err(p);
            assert_eq!(e, ReferenceError::Placeholder(p.into()), "{p}");
            assert_eq!(e.code(), "image-reference-placeholder");
            assert!(e.hint().starts_with("replace the placeholder"), "{p}");
        }
        // An upper-case word alone is more likely a typo than a placeholder.
        assert!(matches!(err("UBUNTU"), ReferenceError::Uppercase { .. }));
    }

    #[test]
    fn invalid_references_say_what_is_wrong() {
        let long_name = format!("registry.example.com/{}", "a".repeat(240));
        let cases: Vec<(&str, &str)> = vec![
            ("", "the image name is empty"),
            ("   ", "the image name is empty"),
            ("https://registry.example.com/app", "is a URL"),
            ("ubuntu 20.04", "holds a space"),
            ("grycap/cow\tsay", "holds a tab"),
            ("grycap/cowsay!", "holds `!`"),
            ("grycap/cowsäy", "holds `ä`"),
            (
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "is an image ID",
            ),
            (":latest", "names no repository"),
            (
                "@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                "names no repository",
            ),
            ("registry.example.com/", "names no repository"),
            ("registry.example.com:/app", "nothing follows the `:`"),
            (
                "registry.example.com:http/app",
                "the port `http` is not a number",
            ),
            ("-bad.example.com/app", "starts or ends with `-`"),
            ("foo_bar.com/app", "`_` is not allowed in a host name"),
            ("a..b.com/app", "empty part between dots"),
            ("[::1/app", "is not closed"),
            ("[zz::1]/app", "is not an IPv6 address"),
            ("[zz]/app", "`[` is not allowed in a repository name"),
            ("Grycap/Cowsay", "has upper-case letters"),
            ("registry.example.com/Team/app", "has upper-case letters"),
            ("grycap//cowsay", "empty part"),
            ("grycap/cowsay/", "empty part"),
            ("-grycap/cowsay", "must start and end"),
            ("grycap/cowsay.", "must start and end"),
            ("grycap/cow..say", "`..` in `cow..say` cannot join"),
            ("grycap/cow___say", "`___`"),
            ("grycap/cow.-say", "`.-`"),
            ("ubuntu:", "nothing follows the `:`"),
            ("ubuntu:.hidden", "must start with a letter"),
            ("ubuntu:-x", "must start with a letter"),
            ("a:b:c", "`:` is not allowed in a repository name"),
            ("ubuntu@sha256", "must be an algorithm"),
            (
                "ubuntu@md5:ffffffffffffffffffffffffffffffff",
                "`md5` is not an algorithm",
            ),
            (
                "ubuntu@sha256:ffff",
                "64 hexadecimal digits; this one has 4",
            ),
            (
                "ubuntu@sha256:FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
                "must be lower-case",
            ),
            (
                "ubuntu@sha256:gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg",
                "`g` is not a hexadecimal digit",
            ),
            (
                "ubuntu@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff@x",
                "`@` is not a hexadecimal digit",
            ),
            (&long_name, "261 characters long"),
        ];
        let long_tag = format!("ubuntu:{}", "t".repeat(129));
        let mut cases = cases;
        cases.push((&long_tag, "129 characters long; at most 128"));
        for (input, expected) in cases {
            let e = err(input);
            assert!(
                e.to_string().contains(expected),
                "`{input}`: `{e}` does not say `{expected}`"
            );
            assert_eq!(e.code(), "image-reference-invalid", "{input}");
            assert!(!e.hint().is_empty());
        }
    }

    #[test]
    fn a_255_character_name_is_the_longest_accepted() {
        let name = |n: usize| format!("registry.example.com/{}", "a".repeat(n - 21));
        assert_eq!(name(255).len(), 255);
        assert!(ImageRef::parse(&name(255)).is_ok());
        assert!(matches!(
            err(&name(256)),
            ReferenceError::TooLong { len: 256, .. }
        ));
        // Docker Hub names count with `docker.io/library/`.
        let official = "a".repeat(255 - "docker.io/library/".len());
        assert!(ImageRef::parse(&official).is_ok());
        assert!(ImageRef::parse(&format!("{official}b")).is_err());
    }

    #[test]
    fn hints_propose_the_fixed_name_when_there_is_one() {
        assert_eq!(
            err("Grycap/Cowsay:1.0").hint(),
            "did you mean `grycap/cowsay:1.0`?"
        );
        assert_eq!(
            err("registry.example.com:5000/My_App").hint(),
            "did you mean `registry.example.com:5000/my_app`?"
        );
        assert_eq!(
            err("grycap/cow..say").hint(),
            "did you mean `grycap/cow-say`?"
        );
        assert_eq!(
            err("grycap/cowsay/").hint(),
            "did you mean `grycap/cowsay`?"
        );
        assert_eq!(
            err("https://registry.example.com/app/").hint(),
            "leave out the scheme: `registry.example.com/app`"
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text either parses or is refused with a hint, never a
        /// panic; what parses prints a canonical form that reads back to
        /// the same reference, and stays within docker's limits.
        #[test]
        fn parsing_never_panics_and_the_canonical_form_reads_back(
            s in "[a-zA-Z0-9._/:@\\[\\]+ <{$-]{0,80}"
        ) {
            match ImageRef::parse(&s) {
                Ok(r) => {
                    prop_assert_eq!(ImageRef::parse(&r.to_string()), Ok(r.clone()));
                    prop_assert!(r.name().len() <= NAME_MAX);
                    prop_assert!(r.tag().is_some() || r.digest().is_some());
                }
                Err(e) => prop_assert!(!e.hint().is_empty()),
            }
        }
    }
}
